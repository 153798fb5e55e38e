"""A torch_py_binary as ordered container image layers: deterministic tars, one per tier.

Each layer is its own action, so each depends only on what it holds: the cuda and torch layers
read only the cell (its tree and stamp), never the application, so two binaries on one cell get
byte-identical layers, and an edit of the application rebuilds the app layer alone.

The image's layout (paths inside the image):
- /opt/rules_torch/<cell>-<stamp>/site-packages: the cell's installed tree (cuda layer: its
  nvidia/ directory; torch layer: the rest), with site-packages.stamp and lib_dirs.txt beside it.
- /app/bin/<name>: the launcher; /app/bin/<name>.runfiles: its runfiles, where the cell's tree,
  stamp and lib_dirs are symlinks into /opt/rules_torch (app layer); other repositories' files
  (pip.parse hubs, `pip_deps`) lie at their runfiles paths (deps layer); a hermetic Python
  toolchain's interpreter too (interpreter layer).
"""

load(":runtime.bzl", "collect_runtime", "torch_runtime_aspect")

_PYTHON_TOOLCHAIN = "@bazel_tools//tools/python:toolchain_type"

def _runfiles_path(ctx, file):
    path = file.short_path
    if path.startswith("../"):
        return path[3:]
    return ctx.workspace_name + "/" + path

def _is_cuda_cell(cell):
    return cell.partition("_")[0].startswith("cu")

def _hermetic_interpreter(runtime):
    """The toolchain's interpreter files when they are build inputs (a hermetic Python), else []."""
    if runtime.interpreter_path or runtime.interpreter.basename == "py3wrapper.sh":
        return []
    return [runtime.interpreter] + runtime.files.to_list()

def _interpreter(ctx):
    runtime = ctx.toolchains[_PYTHON_TOOLCHAIN].py3_runtime
    if runtime.interpreter:
        return runtime.interpreter, runtime.files
    return runtime.interpreter_path, depset()

def _layer(ctx, name, lines, inputs, tools):
    """Declares `<target>.<name>.tar` and the action that writes it from spec `lines`."""
    out = ctx.actions.declare_file("{}.{}.tar".format(ctx.label.name, name))
    spec = ctx.actions.declare_file("{}.{}.spec".format(ctx.label.name, name))
    ctx.actions.write(spec, "".join([line + "\n" for line in lines]))
    interpreter, interpreter_files = tools
    args = ctx.actions.args()
    args.add(ctx.file._tool)
    args.add("--spec", spec)
    args.add("--output", out)
    args.add("--what", "the {} layer of {}".format(name, ctx.label))
    args.add("--warn-mb", ctx.attr.warn_mb)
    ctx.actions.run(
        executable = interpreter,
        arguments = [args],
        inputs = depset([spec, ctx.file._tool], transitive = [inputs]),
        tools = interpreter_files,
        outputs = [out],
        mnemonic = "TorchImageLayer",
        progress_message = "Writing the {} layer of %{{label}}".format(name),
        # The tree is read where the install action left it (its symlinks and hardlinks are the
        # tree's own); a sandbox would stage it one symlink per file (20,000 for CUDA torch).
        execution_requirements = {"no-sandbox": "1"},
        toolchain = _PYTHON_TOOLCHAIN,
    )
    return out

def _tree_home(tree):
    """Spec words that name where a cell's tree goes: the tool appends the stamp's first digits."""
    return "{}\t{}".format(tree.cell, tree.stamp.path)

def _image_layers_impl(ctx):
    binary = ctx.attr.binary
    name = binary.label.name
    runtime = ctx.toolchains[_PYTHON_TOOLCHAIN].py3_runtime
    tools = _interpreter(ctx)
    trees = collect_runtime([binary]).trees.to_list()
    run_dir = "app/bin/{}.runfiles".format(name)

    cuda_lines, torch_lines, app_lines, deps_lines, interpreter_lines = [], [], [], [], []
    cuda_inputs, torch_inputs = [], []
    tree_files = {}
    for tree in trees:
        home = _tree_home(tree)
        cuda_lines.append("tree\t{}\t{}\tcuda".format(home, tree.site_packages.path))
        cuda_inputs += [tree.site_packages, tree.stamp]
        torch_lines.append("tree\t{}\t{}\ttorch".format(home, tree.site_packages.path))
        torch_lines.append("beside\t{}\t{}".format(home, tree.stamp.path))
        torch_lines.append("beside\t{}\t{}".format(home, tree.lib_dirs.path))
        torch_inputs += [tree.site_packages, tree.stamp, tree.lib_dirs]
        for file in [tree.site_packages, tree.stamp, tree.lib_dirs]:
            tree_files[file] = True
            app_lines.append("link\t{}/{}\t{}\t{}".format(run_dir, _runfiles_path(ctx, file), home, file.basename))

    interpreter_files = {f: True for f in _hermetic_interpreter(runtime)}
    deps_inputs, app_inputs, interpreter_inputs = [], [binary.files_to_run.executable], []
    app_lines.append("file\tapp/bin/{}\t{}".format(name, binary.files_to_run.executable.path))
    runfiles = binary[DefaultInfo].default_runfiles
    for file in runfiles.files.to_list():
        if file in tree_files:
            continue
        line = "file\t{}/{}\t{}".format(run_dir, _runfiles_path(ctx, file), file.path)
        if file in interpreter_files:
            interpreter_lines.append(line)
            interpreter_inputs.append(file)
        elif file.short_path.startswith("../") and not file.owner.workspace_name.startswith("bazel_tools"):
            deps_lines.append(line)
            deps_inputs.append(file)
        else:
            app_lines.append(line)
            app_inputs.append(file)
    for entry in runfiles.symlinks.to_list():
        app_lines.append("file\t{}/{}/{}\t{}".format(run_dir, ctx.workspace_name, entry.path, entry.target_file.path))
        app_inputs.append(entry.target_file)
    for entry in runfiles.root_symlinks.to_list():
        app_lines.append("file\t{}/{}\t{}".format(run_dir, entry.path, entry.target_file.path))
        app_inputs.append(entry.target_file)
    for path in runfiles.empty_filenames.to_list():
        app_lines.append("empty\t{}/{}/{}".format(run_dir, ctx.workspace_name, path))
    repo_mapping = getattr(binary.files_to_run, "repo_mapping_manifest", None)
    if repo_mapping:
        app_lines.append("file\t{}/_repo_mapping\t{}".format(run_dir, repo_mapping.path))
        app_inputs.append(repo_mapping)

    layers = []
    if any([_is_cuda_cell(tree.cell) for tree in trees]):
        layers.append(_layer(ctx, "cuda", cuda_lines, depset(cuda_inputs), tools))
    layers.append(_layer(ctx, "torch", torch_lines, depset(torch_inputs), tools))
    layers.append(_layer(ctx, "deps", deps_lines, depset(deps_inputs), tools))
    if interpreter_files:
        layers.append(_layer(ctx, "interpreter", interpreter_lines, depset(interpreter_inputs), tools))
    layers.append(_layer(ctx, "app", app_lines, depset(app_inputs + [t.stamp for t in trees]), tools))

    listing = ctx.actions.declare_file(ctx.label.name + ".layers.txt")
    ctx.actions.write(listing, "".join([layer.short_path + "\n" for layer in layers]))
    return [
        # The tars alone, in order: what rules_oci's oci_image(tars = [...]) takes.
        DefaultInfo(files = depset(layers)),
        OutputGroupInfo(
            listing = depset([listing]),
            **{layer.basename[len(ctx.label.name) + 1:-len(".tar")]: depset([layer]) for layer in layers}
        ),
    ]

torch_py_image_layers_rule = rule(
    implementation = _image_layers_impl,
    doc = "The layers of a torch_py_binary's container image; see torch_py_image_layers in defs.bzl.",
    attrs = {
        "binary": attr.label(
            mandatory = True,
            executable = True,
            cfg = "target",
            aspects = [torch_runtime_aspect],
            doc = "The torch_py_binary to put in the image.",
        ),
        "warn_mb": attr.int(default = 200, doc = "Warn when a layer is larger than this (MB)."),
        "_tool": attr.label(default = "//torch/private/tools:image_layers.py", allow_single_file = True),
    },
    toolchains = [_PYTHON_TOOLCHAIN],
)
