"""`bazel run //:<name>.venv` (torch_py_venv) makes a standard venv that editors, type checkers and
notebooks use as they would any other, with the selected variant's torch in it and nothing copied.

Real clients on the real torch 2.13.0+cpu cell of examples/basic (its sources and lock, plus a
generated module): the venv's python imports torch, numpy, the example's modules and the generated
one from any directory; `ldd` finds every library torch's own libraries need without
LD_LIBRARY_PATH; pyright, pointed at the venv by pyrightconfig.json, resolves those imports and
does report a deliberate `torch.no_such_function()` (it reads torch's real annotations); a notebook
with a torch cell executes with nbclient on a kernel of the venv, registered the way the README
says (`python -m ipykernel install`). ipykernel is not a dependency of the example: this test puts
its own test environment's site-packages on the kernel's path with a second .pth file, after
rules_torch's, so the cell tree's packages win over any copy there.

Fake torch cells for the rest: a venv per --config side by side, a torch.from_pip hub's
`@<hub>//:venv`, a refresh after a lock change, and the errors (a file in the way, a directory
rules_torch did not make, an interpreter of another Python), each leaving nothing written.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from harness import REPO, fake_torch, product_tool, run_notebook, venv_python

EXAMPLE = REPO / "examples" / "basic"
PYRIGHT_VERSION = "1.1.414"
PYRIGHT = REPO / ".tools" / "pyright" / "node_modules" / ".bin" / "pyright"

GENERATED = """
genrule(
    name = "gen",
    outs = ["generated_mod.py"],
    cmd = "echo 'VALUE = 42' > $@",
)

torch_py_library(
    name = "gen_lib",
    srcs = [":gen"],
    deps = [":model"],
)
"""

# Imports what an editor must resolve, and calls what torch does not have.
STUBS_PROBE = """\
import numpy
import torch

import model

print(numpy.zeros(1), model.fit)
torch.no_such_function()
"""

NOTEBOOK_CELL = """\
import sys
import torch
import model
print("python", sys.executable)
print("torch", torch.__version__, torch.__file__)
print("fitted", round(model.fit(steps=300).weight.item(), 2))
"""


def _python(venv: Path, code: str, cwd: Path) -> subprocess.CompletedProcess:
    return venv_python(venv, ["-c", code], cwd)


# --- The real CPU cell of examples/basic ---------------------------------------------------------


@pytest.fixture(scope="module")
def basic(workspace_factory):
    """examples/basic's sources and lock in a workspace, and its venv made by `bazel run`."""
    ws = workspace_factory("venv_basic")
    for name in ["main.py", "model.py", "model_test.py", "third_party/BUILD.bazel", "third_party/torch.lock.json"]:
        ws.write(name, (EXAMPLE / name).read_text())
    ws.write("BUILD.bazel", (EXAMPLE / "BUILD.bazel").read_text() + GENERATED)
    ws.write_module('torch.wheels(hub = "torch", lock = "//third_party:torch.lock.json", default_variant = "cpu")\nuse_repo(torch, "torch")\n')
    shutil.rmtree(ws.root / ".venv", ignore_errors=True)
    result = ws.bazel("run", "//:gen_lib.venv", timeout=900)
    assert result.returncode == 0, result.stdout[-6000:]
    return ws, result.stdout


@pytest.mark.real_torch
def test_the_venv_is_standard_and_copies_nothing(basic):
    ws, out = basic
    venv = ws.root / ".venv"
    assert f"made the venv {venv} of //:gen_lib.venv" in out, out[-3000:]
    config = dict(line.split(" = ", 1) for line in (venv / "pyvenv.cfg").read_text().splitlines())
    assert config["include-system-site-packages"] == "false" and config["rules_torch"] == "//:gen_lib.venv", config
    python = venv / "bin" / "python"
    assert python.is_symlink() and os.path.realpath(python) == config["executable"], config
    assert "/bazel_tools/" not in config["executable"] and "py3wrapper" not in config["executable"], config
    files = [p for p in venv.rglob("*") if p.is_file() and not p.is_symlink()]
    size = sum(p.stat().st_size for p in files)
    assert size < 64_000, f"the venv holds {size} bytes in {len(files)} files: {files}"
    assert not list(ws.root.glob(".venv.*")), "a temporary directory was left beside the venv"


@pytest.mark.real_torch
def test_imports_from_any_directory(basic, tmp_path):
    ws, _ = basic
    venv = ws.root / ".venv"
    result = _python(venv, "import sys, torch, numpy, model, generated_mod\n"
                     "print(sys.prefix, torch.__version__, torch.__file__, numpy.__version__, model.__file__, generated_mod.__file__, generated_mod.VALUE)", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    prefix, version, torch_file, _, model_file, generated_file, value = result.stdout.split()
    assert prefix == str(venv) and version == "2.13.0+cpu", result.stdout
    assert "__cpu_linux_x86_64_cp311/site-packages/torch/" in torch_file, torch_file
    assert model_file == str(ws.root / "model.py"), "first-party modules must come from the workspace, where the editor edits them"
    assert "/bazel-out/" in generated_file and value == "42", result.stdout


@pytest.mark.real_torch
def test_ldd_finds_every_library(basic, tmp_path, monkeypatch):
    ws, _ = basic
    result = _python(ws.root / ".venv", "import os, torch; print(os.path.dirname(torch.__file__))", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    torch_dir = Path(result.stdout.strip())
    libraries = sorted(torch_dir.glob("lib/*.so*")) + sorted(torch_dir.glob("_C*.so"))
    assert any(p.name == "libtorch_cpu.so" for p in libraries), libraries
    monkeypatch.delenv("LD_LIBRARY_PATH", raising=False)
    unresolved = product_tool("doctor").unresolved  # the doctor's check: missing and host-optional alike fail here
    missing = {library.name: lost for library in libraries if (lost := sum(unresolved(str(library)), []))}
    assert not missing, f"unresolved without LD_LIBRARY_PATH: {missing}"


def _pyright() -> Path:
    """pyright, pinned, installed from npm into .tools/pyright the first time (as tools/test.sh
    installs buildifier)."""
    if not PYRIGHT.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail(f"npm is needed to install pyright {PYRIGHT_VERSION} into {PYRIGHT.parents[2]} (apt-get install npm)")
        subprocess.run([npm, "install", "--silent", "--no-save", "--prefix", str(PYRIGHT.parents[2]), f"pyright@{PYRIGHT_VERSION}"], check=True, timeout=600)
    return PYRIGHT


@pytest.mark.real_torch
def test_pyright_reads_the_locked_torch(basic):
    ws, _ = basic
    ws.write("stubs_probe.py", STUBS_PROBE)
    ws.write("pyrightconfig.json", json.dumps({"venvPath": ".", "venv": ".venv", "include": ["main.py", "model.py", "model_test.py", "stubs_probe.py"]}))
    result = subprocess.run([str(_pyright()), "--outputjson"], cwd=ws.root, capture_output=True, text=True, timeout=600, check=False)
    report = json.loads(result.stdout)
    diagnostics = [(Path(d["file"]).name, d.get("rule", ""), d["message"]) for d in report["generalDiagnostics"]]
    unresolved = [d for d in diagnostics if d[1] in ("reportMissingImports", "reportMissingModuleSource", "reportMissingTypeStubs")]
    assert not unresolved, f"pyright could not resolve: {unresolved}"
    assert report["summary"]["filesAnalyzed"] >= 4, report["summary"]
    assert [d for d in diagnostics if d[0] == "stubs_probe.py" and "no_such_function" in d[2]], (
        f"pyright did not report torch.no_such_function(): it does not read torch's real module. Diagnostics: {diagnostics}"
    )
    others = [d for d in diagnostics if "no_such_function" not in d[2]]
    assert not others, f"pyright reported errors in the example's sources: {others}"


@pytest.mark.real_torch
def test_notebook_runs_on_a_kernel_of_the_venv(basic, tmp_path, monkeypatch):
    ws, _ = basic
    venv = ws.root / ".venv"
    text = run_notebook(venv, NOTEBOOK_CELL, ws.root, tmp_path, monkeypatch)
    assert f"python {venv / 'bin' / 'python'}" in text, text
    assert "torch 2.13.0+cpu " in text and "__cpu_linux_x86_64_cp311/site-packages/torch/" in text, text
    assert "fitted 2.0" in text, text


# --- Fake cells: configs, from_pip, refresh, errors ------------------------------------------------

MODULE = """\
torch.wheels(hub = "torch", lock = "//:torch.lock.json", default_variant = "cpu")
torch.wheels(hub = "torch310", lock = "//:torch310.lock.json", default_variant = "cpu")
use_repo(torch, "torch", "torch310")

pip = use_extension("@rules_python//python/extensions:pip.bzl", "pip")
pip.parse(
    name = "pypi_cpu",
    extra_pip_args = ["--find-links={wheels}", "--no-index"],
    incompatible_generate_aliases = True,
    requirements_lock = "//:requirements_cpu.txt",
)
use_repo(pip, "pypi_cpu")

torch.from_pip(hub = "torch_pip", packages = ["torch"], variants = {{"cpu": "@pypi_cpu"}})
use_repo(torch, "torch_pip")
"""

FAKE_BUILD = """\
load("@rules_torch//torch:defs.bzl", "torch_py_library")

torch_py_library(name = "lib", srcs = ["lib.py"], deps = ["@torch//:torch"])

torch_py_library(name = "lib310", srcs = ["lib.py"], deps = ["@torch310//:torch"])
"""


def _fake_cells(ws, version: str = "2.5.1") -> None:
    cells = [("cpu", "linux_x86_64"), ("cu121", "linux_x86_64")]
    ws.write_lock({cell: [ws.add_wheel(w) for w in fake_torch(*cell, version=version)] for cell in cells})


@pytest.fixture(scope="module")
def fake(workspace_factory):
    ws = workspace_factory("venv_fake")
    shutil.rmtree(ws.root / "venvs", ignore_errors=True)  # the venvs of an earlier run
    _fake_cells(ws)
    ws.write_lock({("cpu", "linux_x86_64"): [ws.add_wheel(w) for w in fake_torch("cpu", "linux_x86_64", python="3.10")]}, path="torch310.lock.json", python="3.10")
    lines = []
    for wheel in fake_torch("cpu", "linux_x86_64", version="2.6.0"):
        entry = ws.add_wheel(wheel)
        lines.append(f"{wheel.name}=={wheel.version} --hash=sha256:{entry['sha256']}")
    ws.write("requirements_cpu.txt", "\n".join(lines) + "\n")
    ws.write_module(MODULE.format(wheels=ws.root / "wheels"))
    ws.write("BUILD.bazel", FAKE_BUILD)
    ws.write("lib.py", "import torch\n")
    return ws


def _torch_of(venv: Path, cwd: Path) -> str:
    result = _python(venv, "import torch, lib; print(torch.__version__, torch.__variant__)", cwd)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip()


def _leftovers(directory: Path) -> list[Path]:
    return [p for p in directory.iterdir() if ".new-" in p.name or ".old-" in p.name]


def test_configs_side_by_side(fake, tmp_path):
    for config, variant in [("cpu", "cpu"), ("cuda121", "cu121")]:
        result = fake.bazel("run", f"--config={config}", "//:lib.venv", "--", f"venvs/{variant}")
        assert result.returncode == 0, result.stdout[-3000:]
        assert f"made the venv {fake.root / 'venvs' / variant}" in result.stdout, result.stdout[-3000:]
    assert _torch_of(fake.root / "venvs" / "cpu", tmp_path) == "2.5.1+cpu cpu"
    assert _torch_of(fake.root / "venvs" / "cu121", tmp_path) == "2.5.1+cu121 cu121"


def test_from_pip_hub_venv(fake, tmp_path):
    venv = tmp_path / "pip_venv"
    result = fake.bazel("run", "@torch_pip//:venv", "--", str(venv))
    assert result.returncode == 0, result.stdout[-3000:]
    check = _python(venv, "import torch; print(torch.__version__, torch.__file__)", tmp_path)
    assert check.returncode == 0, check.stderr[-3000:]
    assert check.stdout.startswith("2.6.0+cpu ") and "pypi_cpu_torch" in check.stdout, check.stdout


def test_refresh_after_lock_change(fake, tmp_path):
    venv = fake.root / "venvs" / "refresh"
    assert fake.bazel("run", "@torch//:venv", "--", str(venv)).returncode == 0
    assert _python(venv, "import torch; print(torch.__version__)", tmp_path).stdout.strip() == "2.5.1+cpu"
    try:
        _fake_cells(fake, version="2.6.0")
        result = fake.bazel("run", "@torch//:venv", "--", str(venv))
    finally:
        _fake_cells(fake)
    assert result.returncode == 0, result.stdout[-3000:]
    assert f"updated the venv {venv}" in result.stdout, result.stdout[-3000:]
    assert _python(venv, "import torch; print(torch.__version__)", tmp_path).stdout.strip() == "2.6.0+cpu"
    assert not _leftovers(venv.parent), _leftovers(venv.parent)


def test_refuses_a_file(fake):
    path = fake.write("venvs/a_file", "mine\n")
    result = fake.bazel("run", "//:lib.venv", "--", str(path))
    assert result.returncode != 0
    assert f"rules_torch: {path} is a file, not a venv: remove it, or give another path (bazel run //:lib.venv -- <path>). Nothing was written." in result.stdout, result.stdout[-3000:]
    assert path.read_text() == "mine\n" and not _leftovers(path.parent)


def test_refuses_a_directory_it_did_not_make(fake):
    path = fake.root / "venvs" / "theirs"
    (path / "bin").mkdir(parents=True, exist_ok=True)
    (path / "pyvenv.cfg").write_text("home = /usr/bin\nuv = 0.13.9\n")
    result = fake.bazel("run", "//:lib.venv", "--", str(path))
    assert result.returncode != 0
    assert f"{path} exists and is not a venv rules_torch made (its pyvenv.cfg has no 'rules_torch' key)" in result.stdout, result.stdout[-3000:]
    assert (path / "pyvenv.cfg").read_text() == "home = /usr/bin\nuv = 0.13.9\n" and not _leftovers(path.parent)


def test_refuses_another_python(fake):
    path = fake.root / "venvs" / "py310"
    result = fake.bazel("run", "//:lib310.venv", "--", str(path))
    assert result.returncode != 0
    have = "{}.{}".format(*sys.version_info[:2])
    for fragment in [
        f"rules_torch: //:lib310.venv: the venv would run Python {have} (",
        "but cell cpu_linux_x86_64_cp310 is locked for Python 3.10",
        "Fix: register a Python 3.10 toolchain",
        f"the lock tool's --python {have}",
        "Nothing was written.",
    ]:
        assert fragment in result.stdout, result.stdout[-3000:]
    assert not path.exists() and not _leftovers(path.parent)


# --- The maker alone: an update that fails half-way leaves the old venv whole -----------------------


def test_failed_update_keeps_the_old_venv(tmp_path, monkeypatch):
    maker = product_tool("make_venv")
    root = tmp_path / "lib"
    root.mkdir()
    (root / "m.py").write_text("")
    runfiles = tmp_path / "runfiles"
    (runfiles / "ws").mkdir(parents=True)
    (runfiles / "ws" / "m.py").symlink_to(root / "m.py")
    manifest = {"cells": [], "interpreter": "a test", "roots": [{"probe": "ws/m.py", "depth": 1}], "target": "//:t.venv"}
    venv = tmp_path / "venv"
    maker.make(str(runfiles), manifest, str(venv))
    assert (next(venv.glob("lib/python*/site-packages")) / maker.PTH).read_text() == f"{root}\n"
    before = sorted(str(p.relative_to(venv)) for p in venv.rglob("*"))

    def half_way(path, *args):
        Path(path, "pyvenv.cfg").write_text("half\n")
        raise OSError("disk full")

    monkeypatch.setattr(maker, "build", half_way)
    with pytest.raises(OSError, match="disk full"):
        maker.make(str(runfiles), manifest, str(venv))
    assert sorted(str(p.relative_to(venv)) for p in venv.rglob("*")) == before
    assert maker.owner(str(venv)) == "//:t.venv" and not _leftovers(tmp_path)
