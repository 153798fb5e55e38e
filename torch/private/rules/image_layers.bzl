"""A torch_py_binary as ordered container image layers: deterministic tars, one per tier.

Each layer is its own action, so each depends only on what it holds. The cuda and torch layers
are the cell's own (cell_tree.bzl declares them): built once per cell, whatever the number of
images on it, from the cell alone, so every binary on the cell gets the same bytes, and an edit of
the application rebuilds the app layer alone. This rule links them under its own names.

The image's layout (paths inside the image):
- /opt/rules_torch/<cell>-<stamp>/site-packages: the cell's installed tree (cuda layer: its
  nvidia/ directory; torch layer: the rest), with site-packages.stamp and lib_dirs.txt beside it.
- /app/bin/<name>: the launcher; /app/bin/<name>.runfiles: its runfiles, where the cell's tree,
  stamp and lib_dirs are symlinks into /opt/rules_torch (app layer); other repositories' files
  (pip.parse hubs, `pip_deps`) lie at their runfiles paths (deps layer); a hermetic Python
  toolchain's interpreter too (interpreter layer).
"""

load(":layer.bzl", "write_layer")
load(":python_toolchain.bzl", "PYTHON_TOOLCHAIN", "toolchain_interpreter")
load(":runtime.bzl", "collect_runtime", "runfiles_path", "torch_runtime_aspect")

def _hermetic_interpreter(runtime):
    """The toolchain's interpreter files when they are build inputs (a hermetic Python), else []."""
    if runtime.interpreter_path or runtime.interpreter.basename == "py3wrapper.sh":
        return []
    return [runtime.interpreter] + runtime.files.to_list()

def _layer(ctx, name, lines, inputs, tools):
    out = ctx.actions.declare_file("{}.{}.tar".format(ctx.label.name, name))
    what = "the {} layer of {}".format(name, ctx.label)
    write_layer(ctx, out, lines, inputs, what, ctx.file._tool, tools, ctx.attr.warn_mb)
    return out

def _linked(ctx, name, layer):
    """The cell's layer under this target's name (a symlink: no second copy)."""
    out = ctx.actions.declare_file("{}.{}.tar".format(ctx.label.name, name))
    ctx.actions.symlink(output = out, target_file = layer)
    return out

def _image_layers_impl(ctx):
    binary = ctx.attr.binary
    name = binary.label.name
    runtime = ctx.toolchains[PYTHON_TOOLCHAIN].py3_runtime
    tools = toolchain_interpreter(ctx)
    trees = collect_runtime([binary]).trees.to_list()
    run_dir = "app/bin/{}.runfiles".format(name)

    if len(trees) > 1:
        fail("torch_py_image_layers {}: {} depends on {} cell trees ({}); an image holds one torch".format(
            ctx.label,
            binary.label,
            len(trees),
            ", ".join([t.cell for t in trees]),
        ))
    app_lines, deps_lines, interpreter_lines = [], [], []
    tree_files = {}
    for tree in trees:
        for file in [tree.site_packages, tree.stamp, tree.lib_dirs]:
            tree_files[file] = True
            app_lines.append("link\t{}/{}\t{}\t{}\t{}".format(run_dir, runfiles_path(ctx, file), tree.cell, tree.stamp.path, file.basename))

    interpreter_files = {f: True for f in _hermetic_interpreter(runtime)}
    deps_inputs, app_inputs, interpreter_inputs = [], [binary.files_to_run.executable], []
    app_lines.append("file\tapp/bin/{}\t{}".format(name, binary.files_to_run.executable.path))
    runfiles = binary[DefaultInfo].default_runfiles
    for file in runfiles.files.to_list():
        if file in tree_files:
            continue
        line = "file\t{}/{}\t{}".format(run_dir, runfiles_path(ctx, file), file.path)
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
    for tree in trees:
        if tree.layers.cuda:
            layers.append(_linked(ctx, "cuda", tree.layers.cuda))
        layers.append(_linked(ctx, "torch", tree.layers.torch))
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
    toolchains = [PYTHON_TOOLCHAIN],
)
