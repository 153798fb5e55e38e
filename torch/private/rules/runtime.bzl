"""The runtime: shared-library directories collected from deps, and the launcher rules."""

load("@bazel_skylib//rules:common_settings.bzl", "BuildSettingInfo")
load("@rules_python//python:defs.bzl", "PyInfo")
load("//torch/private/lock:labels.bzl", "GPU_TAG")
load("//torch/private/lock:shell.bzl", "shell_quote")
load("//torch/private/lock:variants.bzl", "cuda_needs")
load(":cell_tree.bzl", "TorchCellInfo")

TorchRuntimeInfo = provider(
    doc = "What a torch program needs at run time from its dependencies: where their shared libraries are.",
    fields = {
        "lib_dirs": "depset of struct(dir, probe): a runfiles directory (runfiles-root-relative path) that holds shared libraries, and the runfiles path of one of them (it locates `dir` through a runfiles manifest). From the libraries' own files, e.g. pip.parse's per-wheel repositories.",
        "trees": "depset of TorchCellInfo: the installed cell trees (`cell`, `site_packages`, `lib_dirs`, `stamp`, and how to install the tree again: `wheels`, `extractor`).",
    },
)

_PYTHON_TOOLCHAIN = "@bazel_tools//tools/python:toolchain_type"

def runfiles_path(ctx, file):
    """The runfiles-root-relative path of a file.

    Args:
      ctx: the rule's context.
      file: a File.

    Returns:
      `<repository>/<path>`.
    """
    path = file.short_path
    if path.startswith("../"):
        return path[3:]
    return ctx.workspace_name + "/" + path

def _is_shared_library(basename):
    return basename.endswith(".so") or ".so." in basename or basename.endswith(".dylib")

def _own_lib_dirs(ctx, files):
    dirs = {}
    for file in files:
        if _is_shared_library(file.basename):
            path = runfiles_path(ctx, file)
            directory = path.rpartition("/")[0]
            if directory not in dirs:
                dirs[directory] = struct(dir = directory, probe = path)
    return dirs.values()

def _runtime_aspect_impl(_target, ctx):
    # Works for any repository layout: a rules_torch spoke (its cell tree, in `data`), or
    # pip.parse's one repository per wheel, whose py_library carries the wheel's files as data.
    files = []
    for attr in ["data", "srcs"]:
        files.extend(getattr(ctx.rule.files, attr, []))
    deps = [dep[TorchRuntimeInfo] for dep in getattr(ctx.rule.attr, "deps", []) if TorchRuntimeInfo in dep]
    trees = [d[TorchCellInfo] for d in getattr(ctx.rule.attr, "data", []) if TorchCellInfo in d]
    return [TorchRuntimeInfo(
        lib_dirs = depset(_own_lib_dirs(ctx, files), transitive = [d.lib_dirs for d in deps]),
        trees = depset(trees, transitive = [d.trees for d in deps]),
    )]

torch_runtime_aspect = aspect(
    implementation = _runtime_aspect_impl,
    attr_aspects = ["deps"],
    provides = [TorchRuntimeInfo],
    doc = """Collects TorchRuntimeInfo (the shared-library directories and cell trees) of a target and its transitive `deps`.

torch_py_binary and torch_py_test apply it to their deps. A rule of your own that needs the same
information applies it to an attribute and reads `dep[TorchRuntimeInfo]`:

```starlark
load("@rules_torch//torch:defs.bzl", "TorchRuntimeInfo", "torch_runtime_aspect")

my_rule = rule(..., attrs = {"deps": attr.label_list(aspects = [torch_runtime_aspect])})
```
""",
)

def collect_runtime(deps):
    """Merges the TorchRuntimeInfo that torch_runtime_aspect attached to deps.

    Args:
      deps: targets the aspect ran on.

    Returns:
      A TorchRuntimeInfo.
    """
    found = [d[TorchRuntimeInfo] for d in deps if TorchRuntimeInfo in d]
    return TorchRuntimeInfo(
        lib_dirs = depset(transitive = [f.lib_dirs for f in found]),
        trees = depset(transitive = [f.trees for f in found]),
    )

def _import_dirs(ctx, binary):
    """Runfiles directories to put on PYTHONPATH, and the repositories with generated files.

    The directories, as (dir, probe file, probe depth), are what py_binary puts there: the
    binary's `imports`, then the main repository and every other repository root in the
    runfiles (Bazel's legacy "import all repositories", which code in other repositories
    relies on to import its modules without `imports`). A repository without generated files
    has everything the runfiles tree has where it lies.
    """
    imports = binary[PyInfo].imports.to_list() + venv_site_packages(ctx, binary[PyInfo])
    found = {}
    roots = {}
    generated = {}
    for file in binary[DefaultInfo].default_runfiles.files.to_list():
        path = runfiles_path(ctx, file)
        root = path.partition("/")[0]
        if not file.is_source:
            generated[root] = True
        if root not in roots and not file.is_directory:
            # A probe that every launcher's runfiles hold: a test's have no cell tree.
            roots[root] = (path, path.count("/"))
        for directory in imports:
            if directory in found:
                continue
            if path.startswith(directory + "/"):
                found[directory] = (path, path[len(directory) + 1:].count("/") + 1)
            elif path == directory and file.is_directory:
                found[directory] = (path, 0)  # a cell's tree: one directory artifact
    ordered = [d for d in imports if d in found]
    for root in [ctx.workspace_name] + sorted(roots):
        if root in roots and root not in found:
            found[root] = roots[root]
            ordered.append(root)
    return [(d, found[d][0], found[d][1]) for d in ordered], generated

def venv_site_packages(ctx, info):
    """The runfiles directories that hold packages rules_python lays out as venv symlinks.

    With rules_python 2.x's `--venvs_site_packages=yes`, pip.parse's libraries leave `imports`
    and list their top-level packages in `PyInfo.venv_symlinks` instead (kind LIB: a path under
    the venv's site-packages, and the runfiles path it links to). The launcher runs Python
    without that venv, so it imports each package from the directory that holds its target.

    Args:
      ctx: the rule's context.
      info: a PyInfo.

    Returns:
      A list of runfiles-root-relative directories.
    """
    entries = getattr(info, "venv_symlinks", None)
    if entries == None:
        return []
    dirs = []
    for entry in (entries.to_list() if type(entries) == "depset" else entries):
        if entry.kind != "LIB":
            continue
        target = runfiles_path(ctx, entry.link_to_file) if entry.link_to_file else entry.link_to_path
        if target and target.endswith("/" + entry.venv_path):
            directory = target[:-len(entry.venv_path) - 1]
            if directory not in dirs:
                dirs.append(directory)
    return dirs

def _locate(ctx, directory, probe, depth, generated, roots, records):
    """Where the launcher finds runfiles directory `directory`: a lib or import record's fields.

    Returns [base, rel, probe, depth] (see _plan). Another repository's directory of source files is used where it lies (rloc ... real in the
    launcher); its repository's real root is found once, with one probe, for all its dirs (a
    `root` record, appended to `records` the first time). A cell's tree is found once, where it
    lies (its `tree` record).
    """
    if directory in roots:
        return [roots[directory], "-", "-", "0"]
    repo = directory.partition("/")[0]
    if repo == ctx.workspace_name or repo in generated:
        return ["-", directory, probe, str(depth)]
    if repo not in roots:
        roots[repo] = "root{}".format(len(roots))
        records.append(["root", roots[repo], repo, probe, str(probe.count("/"))])
    return [roots[repo], directory[len(repo) + 1:] if len(directory) > len(repo) else "-", "-", "0"]

def _without_trees(ctx, runfiles, trees):
    """`runfiles` less `trees` (the install actions' outputs: the cell trees, their stamps and lib_dirs), everything else kept.

    py_binary's runfiles create empty `__init__.py` files (legacy_create_init) that a runfiles
    object rebuilt from its files would lose: they come back as symlinks to one empty file.
    """
    excluded = {tree: True for tree in trees}
    files = [f for f in runfiles.files.to_list() if f not in excluded]
    symlinks = {}
    empty = runfiles.empty_filenames.to_list()
    if empty:
        init = ctx.actions.declare_file(ctx.label.name + ".empty_init.py")
        ctx.actions.write(init, "")
        symlinks = {name: init for name in empty}
    return ctx.runfiles(files = files, symlinks = symlinks).merge(
        ctx.runfiles(symlinks = runfiles.symlinks, root_symlinks = runfiles.root_symlinks),
    )

def _staged(ctx, tree):
    """What a launcher stages to find `tree`: (stamp, lib_dirs).

    A binary's are the install action's (its runfiles hold the tree); a test's, the tree's ticket
    (ordered after Bazel has written the tree) and lib_dirs.txt, or with a tree cache, both
    computed from the wheels without the install action.
    """
    if ctx.attr._stage_trees:
        return tree.stamp, tree.lib_dirs
    if _tree_cache(ctx):
        return tree.identity.stamp, tree.identity.lib_dirs
    return tree.ready, tree.lib_dirs

def _tree_cache(ctx):
    return ctx.attr._tree_cache[BuildSettingInfo].value if ctx.attr._tree_cache else ""

def _gpu_enforced(ctx):
    """Whether this is a requires-gpu test routed to GPU workers: it must find a usable device."""
    return bool(ctx.attr._route_gpu_tests) and ctx.attr._route_gpu_tests[BuildSettingInfo].value and GPU_TAG in ctx.attr.tags

def _gpu_records(ctx, trees):
    """The `gpu` records: one per CUDA cell (for the doctor), and one for any cell of an enforced test."""
    enforce = _gpu_enforced(ctx)
    records = []
    for tree in trees:
        needs = cuda_needs(tree.cell.partition("_")[0])
        if needs or enforce:
            records.append([
                "gpu",
                runfiles_path(ctx, ctx.file._gpu_check),
                tree.cell,
                needs.cuda if needs else "-",
                (needs.min_driver or "-") if needs else "-",
                "1" if enforce else "0",
            ])
    return records

def _tree_record(ctx, name, tree, staged):
    """The `tree` record of a cell's installed tree (see rtree in the launcher)."""
    return [
        "tree",
        name,
        runfiles_path(ctx, _staged(ctx, tree)[0]),
        runfiles_path(ctx, tree.site_packages) if staged else "-",
        tree.cell,
        runfiles_path(ctx, _staged(ctx, tree)[1]),
        runfiles_path(ctx, tree.extractor),
    ] + [runfiles_path(ctx, wheel) for wheel in tree.wheels.to_list()]

def _plan(ctx, runtime, imports, generated, lib_dirs, trees):
    """The launcher's plan (`<name>.launch`): what launcher.sh.tpl's run_plan reads at run time.

    One record per line, in this order, fields separated by tabs, "-" for none:

        program      RUNFILES_PATH                 the program's main file
        target       LABEL                         for messages
        origin       TEXT                          where the interpreter comes from, for messages
        interpreter  path|runfiles  PATH           the interpreter: absolute, or in the runfiles
        root         NAME  REPO  PROBE  DEPTH      $NAME: another repository's real root, found
                                                   through PROBE, a file DEPTH levels below it
        lib          BASE  REL  PROBE  DEPTH       a directory for LD_LIBRARY_PATH: REL under
                                                   $BASE (a root or tree NAME), or, with BASE -,
                                                   runfiles directory REL found through PROBE
        python       VERSION  CELL                 the interpreter must be Python VERSION
        cache        DIR                           a test's tree cache (//torch:tree_cache)
        gpu          CHECK  CELL  CUDA  MIN_DRIVER  ENFORCE
                                                   cell CELL is built for CUDA (- for none), which
                                                   needs driver MIN_DRIVER: exported for the
                                                   doctor; with ENFORCE 1 (a routed requires-gpu
                                                   test) the program CHECK (gpu_check.py, in the
                                                   runfiles only then) must find a usable device
                                                   before the program runs
        tree         NAME  STAMP  TREE  CELL  LIB_DIRS  EXTRACTOR  WHEEL...
                                                   $NAME: cell CELL's installed tree (rtree); the
                                                   entries of LIB_DIRS go on LD_LIBRARY_PATH;
                                                   STAMP is a test's ticket (site-packages.ready)
                                                   or, with a tree cache, the stamp computed from
                                                   the wheels (site-packages.id)
        import       BASE  REL  PROBE  DEPTH       a directory for PYTHONPATH, as for lib
    """
    records = [
        ["program", runfiles_path(ctx, ctx.file.main)],
        ["target", str(ctx.label)],
        ["origin", interpreter_origin(runtime)],
        ["interpreter", "path", runtime.interpreter_path] if runtime.interpreter_path else ["interpreter", "runfiles", runfiles_path(ctx, runtime.interpreter)],
    ]
    roots = {}
    for entry in sorted(lib_dirs.to_list(), key = lambda e: e.dir):
        records.append(["lib"] + _locate(ctx, entry.dir, entry.probe, 1, generated, roots, records))
    for version, cell in sorted({t.python: t.cell for t in trees}.items()):
        records.append(["python", version, cell])
    if trees and _tree_cache(ctx):
        records.append(["cache", _tree_cache(ctx)])
    records.extend(_gpu_records(ctx, trees))
    for index, tree in enumerate(trees):
        name = "tree{}".format(index)
        roots[runfiles_path(ctx, tree.site_packages)] = name
        records.append(_tree_record(ctx, name, tree, ctx.attr._stage_trees))
    for directory, probe, depth in imports:
        records.append(["import"] + _locate(ctx, directory, probe, depth, generated, roots, records))
    for record in records:
        for field in record:
            if not field or "\t" in field or "\n" in field:
                fail("rules_torch: {}: the launcher cannot read an empty path or one with a tab or newline: {}".format(ctx.label, repr(field)))
    return "".join(["\t".join(record) + "\n" for record in records])

def interpreter_origin(runtime):
    """Where an interpreter comes from, for the message of a wrong one.

    Args:
      runtime: the Python toolchain's py3_runtime.

    Returns:
      A phrase, e.g. "the Python toolchain's interpreter_path /usr/bin/python3".
    """
    if runtime.interpreter_path:
        return "the Python toolchain's interpreter_path " + runtime.interpreter_path
    if runtime.interpreter.basename == "py3wrapper.sh":
        return (
            "Bazel's autodetecting Python toolchain, which runs the first python3 on the test's PATH " +
            "(--incompatible_strict_action_env, Bazel 9's default, makes that /bin:/usr/bin:/usr/local/bin)"
        )
    return "the Python toolchain's interpreter " + str(runtime.interpreter.owner)

def _executable_impl(ctx):
    binary = ctx.attr.binary
    runtime = ctx.toolchains[_PYTHON_TOOLCHAIN].py3_runtime
    plan = ctx.actions.declare_file(ctx.label.name + ".launch")

    # gpu_check.py only where the launcher runs it: in a binary's runfiles, py_binary's legacy
    # __init__.py files would follow it into rules_torch's directories (and into images).
    runfiles = ctx.runfiles(files = [ctx.file.main, plan] + ([ctx.file._gpu_check] if _gpu_enforced(ctx) else []))
    if not runtime.interpreter_path:
        runfiles = runfiles.merge(ctx.runfiles(files = [runtime.interpreter], transitive_files = runtime.files))
    imports, generated = _import_dirs(ctx, binary)
    runtime_info = collect_runtime(ctx.attr.deps)
    trees = runtime_info.trees.to_list()
    ctx.actions.write(plan, _plan(ctx, runtime, imports, generated, runtime_info.lib_dirs, trees))
    launcher = ctx.actions.declare_file(ctx.label.name)
    ctx.actions.expand_template(
        template = ctx.file._template,
        output = launcher,
        is_executable = True,
        substitutions = {"%PLAN%": shell_quote(runfiles_path(ctx, plan))},
    )
    binary_runfiles = binary[DefaultInfo].default_runfiles
    if ctx.attr._stage_trees:
        runfiles = runfiles.merge(binary_runfiles)
    else:
        runfiles = runfiles.merge(_without_trees(ctx, binary_runfiles, [f for t in trees for f in [t.site_packages, t.stamp, t.lib_dirs]]))
        runfiles = runfiles.merge(ctx.runfiles(
            files = [f for t in trees for f in list(_staged(ctx, t)) + [t.extractor]],
            transitive_files = depset(transitive = [t.wheels for t in trees]),
        ))
    providers = [
        DefaultInfo(executable = launcher, runfiles = runfiles, files = depset([launcher])),
        RunEnvironmentInfo(environment = ctx.attr.env),
        # A binary's trees: built (and, under --remote_download_toplevel, downloaded) with it,
        # unlisted. A test's come through its tickets' actions, or not at all (a tree cache): a
        # top-level download of them would copy every tree out of the cache for nothing.
        OutputGroupInfo(_hidden_top_level_INTERNAL_ = depset([t.site_packages for t in trees] if ctx.attr._stage_trees else [])),
    ]
    if InstrumentedFilesInfo in binary:
        providers.append(binary[InstrumentedFilesInfo])
    return providers

def _executable_attrs(stage_trees):
    return {
        "binary": attr.label(mandatory = True, providers = [PyInfo], doc = "The py_binary or py_test whose program to launch."),
        "deps": attr.label_list(aspects = [torch_runtime_aspect], doc = "Where to look for shared libraries (the binary's deps)."),
        "env": attr.string_dict(doc = "Environment variables for `bazel run` and `bazel test`."),
        "main": attr.label(mandatory = True, allow_single_file = [".py"], doc = "The program's main file."),
        # A test's runfiles hold each cell tree's ticket (or stamp) and installer instead of the
        # tree: a sandbox and a remote worker stage a directory artifact one file at a time (16-20k).
        "_stage_trees": attr.bool(default = stage_trees),
        "_gpu_check": attr.label(default = "//torch/private/tools:gpu_check.py", allow_single_file = True),
        "_route_gpu_tests": attr.label(default = None if stage_trees else "//torch:route_gpu_tests"),
        "_tree_cache": attr.label(default = None if stage_trees else "//torch:tree_cache"),
        "_template": attr.label(default = "//torch/private/rules:launcher.sh.tpl", allow_single_file = True),
    }

torch_executable = rule(
    implementation = _executable_impl,
    doc = "The launcher of torch_py_binary.",
    attrs = _executable_attrs(stage_trees = True),
    executable = True,
    toolchains = [_PYTHON_TOOLCHAIN],
)

torch_test = rule(
    implementation = _executable_impl,
    doc = "The launcher of torch_py_test.",
    attrs = _executable_attrs(stage_trees = False),
    test = True,
    toolchains = [_PYTHON_TOOLCHAIN],
)
