"""torch_py_venv: `bazel run` it to make a standard venv of a target's dependencies, for editors,
type checkers and notebooks.

The rule writes, at analysis, what the venv holds (a JSON manifest: the cell trees, one probe file
per import root) and a tiny launcher; at `bazel run`, torch/private/tools/make_venv.py makes the venv
with the Python that the launcher runs, its `.pth` files pointing at real directories: the cell
trees where their install action left them, pip.parse's repositories, the workspace itself for
first-party sources and bazel-bin for generated ones. Nothing is copied.
"""

load("@rules_python//python:defs.bzl", "PyInfo")
load("//torch/private/lock:shell.bzl", "shell_quote")
load(":runtime.bzl", "collect_runtime", "interpreter_origin", "runfiles_path", "torch_runtime_aspect", "venv_site_packages")

_PYTHON_TOOLCHAIN = "@bazel_tools//tools/python:toolchain_type"

# What Python imports from a directory on sys.path (sources, stubs, extension modules).
_IMPORTABLE = (".py", ".pyi", ".so", ".pyd")

def _import_roots(ctx, deps, trees):
    """The venv's import roots, in sys.path order: dicts for the manifest.

    A root is {"tree": runfiles path, "cell": key} for a cell tree, or {"probe": runfiles path of
    a file, "depth": n} for any other directory (the file's real path, n directories up, is the
    root). A directory of a repository's runfiles can hold source files and generated ones,
    which lie apart on the disk (the workspace, bazel-bin): it gets a probe of each kind it has.
    First the deps' `imports` (PyInfo), then each repository root that holds a Python file
    outside them, the main repository's first (Bazel's legacy "import all repositories", as the
    launcher does), and the workspace wherever it holds a source file of the deps.
    """
    tree_paths = {runfiles_path(ctx, t.site_packages): t.cell for t in trees}
    imports = []
    for dep in deps:
        if PyInfo not in dep:
            continue
        for directory in dep[PyInfo].imports.to_list() + venv_site_packages(ctx, dep[PyInfo]):
            if directory not in imports:
                imports.append(directory)
    probes = {}
    roots = []
    runfiles = depset(transitive = [dep[DefaultInfo].default_runfiles.files for dep in deps])
    for file in runfiles.to_list():
        if file.is_directory:
            continue
        path = runfiles_path(ctx, file)
        kind = "source" if file.is_source else "generated"
        under = [d for d in imports if path.startswith(d + "/") and d not in tree_paths]
        if under:
            key = (under[0], kind)
            if key not in probes:
                probes[key] = (path, path[len(under[0]) + 1:].count("/") + 1)
            continue
        root = path.partition("/")[0]
        if path.endswith(_IMPORTABLE) or (root == ctx.workspace_name and file.is_source):
            if root not in roots:
                roots.append(root)
            if (root, kind) not in probes:
                probes[(root, kind)] = (path, path.count("/"))
    ordered = []
    main = [ctx.workspace_name] if ctx.workspace_name in roots else []
    for directory in imports + main + sorted([r for r in roots if r != ctx.workspace_name]):
        if directory in tree_paths:
            ordered.append({"cell": tree_paths[directory], "tree": directory})
            continue
        for kind in ["source", "generated"]:
            if (directory, kind) in probes:
                path, depth = probes[(directory, kind)]
                ordered.append({"depth": depth, "probe": path})
    placed = [r["tree"] for r in ordered if "tree" in r]
    ordered.extend([{"cell": cell, "tree": path} for path, cell in tree_paths.items() if path not in placed])
    return ordered

def _shown(label):
    """The label as a user types it: `//pkg:name` in the main repository."""
    if not label.workspace_name:
        return "//{}:{}".format(label.package, label.name)
    return str(label)

def _interpreter(ctx, trees):
    """(the launcher's shell word for the interpreter, its runfiles, where it comes from)."""
    chosen = [t.interpreter for t in trees if t.interpreter]
    if chosen:
        return '"$runfiles"/' + shell_quote(runfiles_path(ctx, chosen[0])), ctx.runfiles(files = [chosen[0]]), "the python_interpreter_target " + str(chosen[0].owner)
    runtime = ctx.toolchains[_PYTHON_TOOLCHAIN].py3_runtime
    if runtime.interpreter_path:
        return shell_quote(runtime.interpreter_path), ctx.runfiles(), interpreter_origin(runtime)
    files = ctx.runfiles(files = [runtime.interpreter], transitive_files = runtime.files)
    return '"$runfiles"/' + shell_quote(runfiles_path(ctx, runtime.interpreter)), files, interpreter_origin(runtime)

def _venv_impl(ctx):
    runtime_info = collect_runtime(ctx.attr.deps)
    trees = runtime_info.trees.to_list()
    roots = _import_roots(ctx, ctx.attr.deps, trees)
    python, interpreter_files, origin = _interpreter(ctx, trees)
    manifest = ctx.actions.declare_file(ctx.label.name + ".venv.json")
    ctx.actions.write(manifest, json.encode({
        "cells": [{"cell": t.cell, "python": t.python} for t in trees],
        "interpreter": origin,
        "roots": roots,
        "target": _shown(ctx.label),
    }))
    launcher = ctx.actions.declare_file(ctx.label.name)
    maker = runfiles_path(ctx, ctx.file._maker)
    ctx.actions.write(launcher, "\n".join([
        "#!/bin/sh",
        "# Made by rules_torch for {}: `bazel run` it to make a venv (torch_py_venv).".format(_shown(ctx.label)),
        "set -eu",
        "case $0 in /*) self=$0 ;; *) self=$(pwd)/$0 ;; esac",
        "runfiles=$self.runfiles",
        '[ -e "$runfiles"/{0} ] || runfiles=${{RUNFILES_DIR:-}}'.format(shell_quote(maker)),
        'if [ -z "$runfiles" ] || [ ! -e "$runfiles"/{} ]; then'.format(shell_quote(maker)),
        '  echo "rules_torch: $0 has no runfiles beside it: make the venv with bazel run {}" >&2'.format(_shown(ctx.label)),
        "  exit 2",
        "fi",
        'exec {} -S -s "$runfiles"/{} "$runfiles" {} "$@"'.format(python, shell_quote(maker), shell_quote(runfiles_path(ctx, manifest))),
        "",
    ]), is_executable = True)

    # Only the files the venv maker reads: one probe per import root, the trees (one entry each).
    probes = {r["probe"]: True for r in roots if "probe" in r}
    deps_runfiles = depset(transitive = [d[DefaultInfo].default_runfiles.files for d in ctx.attr.deps])
    probe_files = [f for f in deps_runfiles.to_list() if not f.is_directory and runfiles_path(ctx, f) in probes]
    runfiles = ctx.runfiles(files = [ctx.file._maker, manifest] + probe_files + [t.site_packages for t in trees]).merge(interpreter_files)
    return [
        DefaultInfo(executable = launcher, runfiles = runfiles, files = depset([launcher, manifest])),
        # Built (and downloaded under --remote_download_toplevel) with the launcher: every
        # generated source the venv's roots hold, not only their probes.
        OutputGroupInfo(_hidden_top_level_INTERNAL_ = depset([f for f in deps_runfiles.to_list() if not f.is_source])),
    ]

torch_py_venv = rule(
    implementation = _venv_impl,
    executable = True,
    toolchains = [_PYTHON_TOOLCHAIN],
    doc = """A standard venv of `deps`, made by `bazel run`, for editors, type checkers and notebooks.

`bazel run //pkg:name` creates (or refreshes) a venv at `.venv` in the workspace, or at the path
given after `--` (relative to the directory `bazel run` was typed in): `pyvenv.cfg`, `bin/python`
linked to the real interpreter (the Python toolchain's, or the cell's
`python_interpreter_target`; an autodetected toolchain's is the `python3` on `PATH`), and one
`.pth` file in its site-packages that puts the selected cell's installed tree (where Bazel built
it), pip.parse repositories, the workspace (first-party sources) and bazel-bin (generated ones) on
`sys.path`. Nothing is copied: the venv takes no space and follows `--config`, e.g. a CPU venv
and a CUDA one side by side:

```sh
bazel run //:train.venv                                 # .venv, the default variant
bazel run --config=cuda130 //:train.venv -- .venv-cu130  # another variant at another path
```

torch_py_binary, torch_py_test and torch_py_library declare one as `<name>.venv` (tagged
`manual`), and each hub as `@<hub>//:venv` (all of its packages). Declare one of your own to add
more, e.g. a notebook kernel from your pip.parse hub:

```starlark
load("@rules_torch//torch:defs.bzl", "torch_py_venv")

torch_py_venv(name = "notebook", deps = [":model", "@pypi//ipykernel"])
```

Re-running it after a lock change (or with another `--config`) updates the venv: the new one is
made beside it and moved in with a rename, so it is never half-updated. It refuses a path that is
a file or a directory that is not a venv rules_torch made, and an interpreter whose Python
version is not the cell's. The venv lives as long as Bazel's output base: after
`bazel clean --expunge`, run it again.
""",
    attrs = {
        "deps": attr.label_list(
            aspects = [torch_runtime_aspect],
            doc = "What the venv makes importable: torch_py_library/py_library targets, `@torch//:torch`, pip.parse packages.",
        ),
        "_maker": attr.label(default = "//torch/private/tools:make_venv.py", allow_single_file = True),
    },
)
