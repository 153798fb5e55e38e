"""The runtime: shared-library directories collected from deps, and the launcher rules."""

load("@rules_python//python:defs.bzl", "PyInfo")
load(":cell_tree.bzl", "TorchCellInfo")

TorchRuntimeInfo = provider(
    doc = "The shared-library directories a torch program needs on LD_LIBRARY_PATH.",
    fields = {
        "libs": "depset of strings 'DIR|PROBE': a runfiles directory holding shared libraries, and one library in it (resolves DIR through a runfiles manifest).",
        "trees": "depset of TorchCellInfo: installed cell trees, whose lib_dirs file names their library directories.",
    },
)

_LibsInfo = provider(
    doc = "What _libs_aspect found in a target and its deps (private: the aspect cannot return TorchRuntimeInfo where a torch_py_library already does).",
    fields = {"libs": "as TorchRuntimeInfo.libs", "trees": "as TorchRuntimeInfo.trees"},
)

_PYTHON_TOOLCHAIN = "@bazel_tools//tools/python:toolchain_type"

def _runfiles_path(ctx, file):
    path = file.short_path
    if path.startswith("../"):
        return path[3:]
    return ctx.workspace_name + "/" + path

def _is_shared_library(basename):
    return basename.endswith(".so") or ".so." in basename or basename.endswith(".dylib")

def _own_libs(ctx, files):
    dirs = {}
    for file in files:
        if _is_shared_library(file.basename):
            path = _runfiles_path(ctx, file)
            directory = path.rpartition("/")[0]
            if directory not in dirs:
                dirs[directory] = directory + "|" + path
    return dirs.values()

def _libs_aspect_impl(target, ctx):
    # Works for any repository layout: a rules_torch spoke, or pip.parse's one repository per
    # wheel, whose py_library carries the wheel's files as data.
    files = []
    for attr in ["data", "srcs"]:
        files.extend(getattr(ctx.rule.files, attr, []))
    deps = [dep[_LibsInfo] for dep in getattr(ctx.rule.attr, "deps", []) if _LibsInfo in dep]
    if TorchRuntimeInfo in target:
        deps.append(target[TorchRuntimeInfo])
    trees = [d[TorchCellInfo] for d in getattr(ctx.rule.attr, "data", []) if TorchCellInfo in d]
    return [_LibsInfo(
        libs = depset(_own_libs(ctx, files), transitive = [d.libs for d in deps]),
        trees = depset(trees, transitive = [d.trees for d in deps]),
    )]

libs_aspect = aspect(
    implementation = _libs_aspect_impl,
    attr_aspects = ["deps"],
    doc = "Collects the directories of shared libraries in a target's transitive deps.",
)

def collect_libs(deps):
    """Merges what libs_aspect found in deps.

    Args:
      deps: targets the aspect ran on.

    Returns:
      A TorchRuntimeInfo.
    """
    found = [d[_LibsInfo] for d in deps if _LibsInfo in d]
    return TorchRuntimeInfo(
        libs = depset(transitive = [f.libs for f in found]),
        trees = depset(transitive = [f.trees for f in found]),
    )

def _library_impl(ctx):
    library = ctx.attr.library
    providers = [
        library[DefaultInfo],
        collect_libs([library]),
    ]
    for provider in [PyInfo, OutputGroupInfo, InstrumentedFilesInfo]:
        if provider in library:
            providers.append(library[provider])
    return providers

torch_library = rule(
    implementation = _library_impl,
    doc = "Forwards a py_library and adds TorchRuntimeInfo (see torch_py_library).",
    attrs = {
        "library": attr.label(mandatory = True, aspects = [libs_aspect], providers = [PyInfo]),
    },
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
    """
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
    runtime_info = collect_libs(ctx.attr.deps)
    for entry in sorted(runtime_info.libs.to_list()):
        directory, probe = entry.split("|")
        path = _locate(ctx, directory, probe, 1, generated, roots, lib_lines)
        lib_lines.append("join libs " + path)
    for tree in runtime_info.trees.to_list():
        site_packages = _shell_quote(_runfiles_path(ctx, tree.site_packages))
        lib_dirs = _shell_quote(_runfiles_path(ctx, tree.lib_dirs))
        lib_lines.append("t=$(rloc {0} {0} 0)".format(site_packages))
        lib_lines.append("while IFS= read -r d; do join libs \"$t/$d\"; done <\"$(rloc {0} {0} 0)\"".format(lib_dirs))
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
    "deps": attr.label_list(aspects = [libs_aspect], doc = "Where to look for shared libraries (the binary's deps)."),
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
