"""The runtime: shared-library directories collected from deps, and the launcher rules."""

load("@rules_python//python:defs.bzl", "PyInfo")
load(":cell_tree.bzl", "TorchCellInfo")

TorchRuntimeInfo = provider(
    doc = "What a torch program needs at run time from its dependencies: where their shared libraries are.",
    fields = {
        "lib_dirs": "depset of struct(dir, probe): a runfiles directory (runfiles-root-relative path) that holds shared libraries, and the runfiles path of one of them (it locates `dir` through a runfiles manifest). From the libraries' own files, e.g. pip.parse's per-wheel repositories.",
        "trees": "depset of TorchCellInfo: the installed cell trees, struct-like with `cell` (the lock cell key), `site_packages` (the tree, a directory File) and `lib_dirs` (a File naming the tree's library directories, one per line).",
    },
)

_PYTHON_TOOLCHAIN = "@bazel_tools//tools/python:toolchain_type"

def _runfiles_path(ctx, file):
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
            path = _runfiles_path(ctx, file)
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

def _shell_quote(text):
    return "'" + text.replace("'", "'\\''") + "'"

def _import_dirs(ctx, binary):
    """Runfiles directories to put on PYTHONPATH, and the repositories with generated files.

    The directories, as (dir, probe file, probe depth), are what py_binary puts there: the
    binary's `imports`, then the main repository and every other repository root in the
    runfiles (Bazel's legacy "import all repositories", which code in other repositories
    relies on to import its modules without `imports`). A repository without generated files
    has everything the runfiles tree has where it lies.
    """
    imports = binary[PyInfo].imports.to_list() + _venv_site_packages(ctx, binary[PyInfo])
    found = {}
    roots = {}
    generated = {}
    for file in binary[DefaultInfo].default_runfiles.files.to_list():
        path = _runfiles_path(ctx, file)
        root = path.partition("/")[0]
        if not file.is_source:
            generated[root] = True
        if root not in roots:
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

def _venv_site_packages(ctx, info):
    """The runfiles directories that hold packages rules_python lays out as venv symlinks.

    With rules_python 2.x's `--venvs_site_packages=yes`, pip.parse's libraries leave `imports`
    and list their top-level packages in `PyInfo.venv_symlinks` instead (kind LIB: a path under
    the venv's site-packages, and the runfiles path it links to). The launcher runs Python
    without that venv, so it imports each package from the directory that holds its target.
    """
    entries = getattr(info, "venv_symlinks", None)
    if entries == None:
        return []
    dirs = []
    for entry in (entries.to_list() if type(entries) == "depset" else entries):
        if entry.kind != "LIB":
            continue
        target = _runfiles_path(ctx, entry.link_to_file) if entry.link_to_file else entry.link_to_path
        if target and target.endswith("/" + entry.venv_path):
            directory = target[:-len(entry.venv_path) - 1]
            if directory not in dirs:
                dirs.append(directory)
    return dirs

def _locate(ctx, directory, probe, depth, generated, roots, lines):
    """Shell lines that find a runfiles directory; returns the shell word for its path.

    Another repository's directory of source files is used where it lies (see rloc in the
    launcher); its repository's real root is found once, with one probe, for all its dirs.
    A cell's tree is found once, where it lies (see rtree in the launcher).
    """
    if directory in roots:
        return '"${}"'.format(roots[directory])
    repo = directory.partition("/")[0]
    if repo == ctx.workspace_name or repo in generated:
        lines.append("d=$(rloc {} {} {})".format(_shell_quote(directory), _shell_quote(probe), depth))
        return '"$d"'
    if repo not in roots:
        roots[repo] = "root{}".format(len(roots))
        lines.append("{}=$(rloc {} {} {} real)".format(roots[repo], _shell_quote(repo), _shell_quote(probe), probe.count("/")))
    return '"${}"{}'.format(roots[repo], _shell_quote(directory[len(repo):]) if len(directory) > len(repo) else "")

def _executable_impl(ctx):
    binary = ctx.attr.binary
    runtime = ctx.toolchains[_PYTHON_TOOLCHAIN].py3_runtime
    runfiles = ctx.runfiles(files = [ctx.file.main])
    if runtime.interpreter_path:
        python = _shell_quote(runtime.interpreter_path)
    else:
        interpreter = _runfiles_path(ctx, runtime.interpreter)
        python = "$(rloc {0} {0} 0)".format(_shell_quote(interpreter))
        runfiles = runfiles.merge(ctx.runfiles(files = [runtime.interpreter], transitive_files = runtime.files))

    imports, generated = _import_dirs(ctx, binary)
    roots = {}
    lib_lines = []
    runtime_info = collect_runtime(ctx.attr.deps)
    for entry in sorted(runtime_info.lib_dirs.to_list(), key = lambda e: e.dir):
        path = _locate(ctx, entry.dir, entry.probe, 1, generated, roots, lib_lines)
        lib_lines.append("join libs " + path)
    for index, tree in enumerate(runtime_info.trees.to_list()):
        site_packages = _runfiles_path(ctx, tree.site_packages)
        lib_dirs = _shell_quote(_runfiles_path(ctx, tree.lib_dirs))
        roots[site_packages] = "tree{}".format(index)
        lib_lines.append("l=$(rloc {0} {0} 0)".format(lib_dirs))
        lib_lines.append("tree{}=$(rtree {} \"$l\")".format(index, _shell_quote(site_packages)))
        lib_lines.append("while IFS= read -r d; do join libs \"$tree{}/$d\"; done <\"$l\"".format(index))
    import_lines = []
    for directory, probe, depth in imports:
        path = _locate(ctx, directory, probe, depth, generated, roots, import_lines)
        import_lines.append("join pypath " + path)

    launcher = ctx.actions.declare_file(ctx.label.name)
    ctx.actions.expand_template(
        template = ctx.file._template,
        output = launcher,
        is_executable = True,
        substitutions = {
            "%IMPORTS%": "\n".join(import_lines),
            "%LIB_DIRS%": "\n".join(lib_lines),
            "%MAIN%": _shell_quote(_runfiles_path(ctx, ctx.file.main)),
            "%PYTHON%": python,
            "%TARGET%": str(ctx.label),
        },
    )
    runfiles = runfiles.merge(binary[DefaultInfo].default_runfiles)
    providers = [
        DefaultInfo(executable = launcher, runfiles = runfiles, files = depset([launcher])),
        RunEnvironmentInfo(environment = ctx.attr.env),
    ]
    if InstrumentedFilesInfo in binary:
        providers.append(binary[InstrumentedFilesInfo])
    return providers

_EXECUTABLE_ATTRS = {
    "binary": attr.label(mandatory = True, providers = [PyInfo], doc = "The py_binary or py_test whose program to launch."),
    "deps": attr.label_list(aspects = [torch_runtime_aspect], doc = "Where to look for shared libraries (the binary's deps)."),
    "env": attr.string_dict(doc = "Environment variables for `bazel run` and `bazel test`."),
    "main": attr.label(mandatory = True, allow_single_file = [".py"], doc = "The program's main file."),
    "_template": attr.label(default = "//torch/private:launcher.sh.tpl", allow_single_file = True),
}

torch_executable = rule(
    implementation = _executable_impl,
    doc = "The launcher of torch_py_binary.",
    attrs = _EXECUTABLE_ATTRS,
    executable = True,
    toolchains = [_PYTHON_TOOLCHAIN],
)

torch_test = rule(
    implementation = _executable_impl,
    doc = "The launcher of torch_py_test.",
    attrs = _EXECUTABLE_ATTRS,
    test = True,
    toolchains = [_PYTHON_TOOLCHAIN],
)
