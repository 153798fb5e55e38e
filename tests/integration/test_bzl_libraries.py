"""The bzl_library graph of rules_torch matches its .bzl files, so a doc generator (stardoc) or a
dependency check could run on it: every .bzl under torch/ is in exactly one bzl_library of its
own package, and every `load` of a .bzl is covered by a dep of that bzl_library (a bzl_library
of ours whose srcs hold the loaded file, or, for another repository's file, a target of the same
repository and package). No Bazel runs: BUILD and .bzl files are read as text.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

from harness import REPO

TORCH = REPO / "torch"
# Loads no bzl_library can cover: Bazel's own tools (whose .bzl files are not visible to other
# packages as targets).
UNCOVERED = ("@bazel_tools//",)
# The only repositories our .bzl files may load from: the modules MODULE.bazel depends on. A load
# from a repository a module extension generates (as defs.bzl once loaded @rules_torch_settings)
# would make loading a BUILD file that uses the rules evaluate that extension.
DEPENDENCIES = ("@bazel_skylib//", "@platforms//", "@rules_cc//", "@rules_python//")


def _loads(path: Path) -> list[str]:
    """The files a .bzl loads: its top-level load() statements (Starlark parses as Python)."""
    loads = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and getattr(node.value.func, "id", "") == "load":
            loads.append(ast.literal_eval(node.value.args[0]))
    return loads


def _libraries() -> dict[str, dict]:
    """label -> {"srcs": [file labels], "deps": [labels]} for every bzl_library under torch/."""
    found = {}
    for build in TORCH.rglob("BUILD.bazel"):
        package = "//" + build.parent.relative_to(REPO).as_posix()
        for call in ast.walk(ast.parse(build.read_text())):
            if not (isinstance(call, ast.Call) and getattr(call.func, "id", "") == "bzl_library"):
                continue
            kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
            found[f"{package}:{kwargs['name']}"] = {
                "srcs": [_absolute(package, s) for s in kwargs.get("srcs", [])],
                "deps": [_absolute(package, d) for d in kwargs.get("deps", [])],
            }
    return found


def _absolute(package: str, label: str) -> str:
    """`label` as //package:name (ours) or @repo//package:name, relative to `package`."""
    if label.startswith("@rules_torch//"):
        label = label.removeprefix("@rules_torch")
    if label.startswith(":"):
        return package + label
    if not label.startswith(("//", "@")):
        return f"{package}:{label}"
    if ":" not in label.partition("//")[2]:
        return f"{label}:{label.rpartition('/')[2]}"  # //a/b means //a/b:b
    return label


def _file_label(path: Path) -> str:
    return f"//{path.parent.relative_to(REPO).as_posix()}:{path.name}"


def _problems() -> list[str]:
    libraries = _libraries()
    owners: dict[str, list[str]] = {}
    for label, library in libraries.items():
        for src in library["srcs"]:
            owners.setdefault(src, []).append(label)
    problems = []
    for path in sorted(TORCH.rglob("*.bzl")):
        file = _file_label(path)
        mine = owners.get(file, [])
        if len(mine) != 1:
            problems.append(f"{file} is in {len(mine)} bzl_library targets ({mine}), not 1")
            continue
        if mine[0].partition(":")[0] != file.partition(":")[0]:
            problems.append(f"{file} is in {mine[0]}, a bzl_library of another package")
        deps = libraries[mine[0]]["deps"]
        for loaded in _loads(path):
            target = _absolute(file.partition(":")[0], loaded)
            if target.startswith(UNCOVERED):
                continue
            if target.startswith("@"):
                package = target.partition(":")[0]
                covered = any(d.partition(":")[0] == package for d in deps)
            else:
                covered = any(target in libraries.get(d, {}).get("srcs", []) for d in deps)
            if not covered:
                problems.append(f"{file} loads {loaded}, which no dep of {mine[0]} covers")
    return problems


def test_every_bzl_file_has_its_bzl_library_with_its_loads_as_deps():
    assert _problems() == []


def _generated_loads(files) -> list[str]:
    return [
        f"{path} loads {loaded}"
        for path in files
        for loaded in _loads(path)
        if loaded.startswith("@") and not loaded.startswith(("@rules_torch//", *UNCOVERED, *DEPENDENCIES))
    ]


def test_no_bzl_file_loads_a_generated_repository(tmp_path):
    dependencies = re.findall(r'^bazel_dep\(name = "([^"]+)"', (REPO / "MODULE.bazel").read_text(), re.M)
    assert sorted(f"@{d}//" for d in dependencies) == sorted(DEPENDENCIES), dependencies
    assert _generated_loads(sorted(TORCH.rglob("*.bzl"))) == []
    # The check can fail: defs.bzl as it was, loading the settings the extension generated.
    old = tmp_path / "defs.bzl"
    old.write_text('load("@rules_torch_settings//:settings.bzl", "GPU_TAG")\n' + (TORCH / "defs.bzl").read_text())
    assert len(_generated_loads([old])) == 1


def test_the_check_finds_a_missing_dep(monkeypatch):
    # The check can fail: a bzl_library without the dep its file's load needs is reported.
    libraries = _libraries()
    victim = next(label for label, library in libraries.items() if any(not d.startswith("@") for d in library["deps"]))
    dropped = next(d for d in libraries[victim]["deps"] if not d.startswith("@"))
    libraries[victim]["deps"].remove(dropped)
    monkeypatch.setattr(sys.modules[__name__], "_libraries", lambda: libraries)
    assert any(victim in problem and "no dep" in problem for problem in _problems())
