"""A uv project's uv.lock imported into the torch lock (`--from-uv`), used by torch.wheels(uv_lock = ...).

One workspace: a PyTorch-style uv project (extras cpu and cu130, python/tests/uv_project.py) locked
by a real uv against this machine's local indexes; the lock tool imports its uv.lock. The cpu cell
(real torch 2.13.0+cpu) is built and tested; the cu130 selection is checked without fetching its
3 GB closure (the hub's select sends cu130 to the spoke whose wheels are the imported cell's), and
a slow test builds it and imports torch 2.14.1 with its CUDA libraries.
"""

import hashlib
import json
import os
import re
import subprocess
import sys

import pytest
from harness import REPO, cuda_closure_slot
from machine_indexes import machine_sources, pypi_reachable
from uv_project import make_project, uv_binary

pytestmark = pytest.mark.real_torch

MODULE = """\
torch.wheels(hub = "torch", lock = "//third_party:torch.lock.json", uv_lock = "//:uv.lock", default_variant = "cpu")
use_repo(torch, "torch")
"""

BUILD = """\
load("@rules_torch//torch:defs.bzl", "torch_py_test")

exports_files(["uv.lock"])

torch_py_test(name = "t", srcs = ["t.py"], deps = ["@torch//:torch"])

torch_py_test(name = "t_cuda", srcs = ["t_cuda.py"], deps = ["@torch//:torch"])
"""

TEST = """\
import torch

print("torch", torch.__version__, torch.__file__)
assert torch.__version__ == "2.13.0+cpu", torch.__version__
assert float(torch.tensor([1.0, 2.0]).sum()) == 3.0
"""

TEST_CUDA = """\
import ctypes

import torch

print("torch", torch.__version__, "CUDA", torch.version.cuda, torch.__file__)
assert torch.__version__.split("+")[0] == "2.14.1", torch.__version__
assert torch.version.cuda.startswith("13."), torch.version.cuda
for soname in ("libcudart.so.13", "libcublas.so.13", "libcudnn.so.9"):
    ctypes.CDLL(soname)
assert torch.backends.cudnn.version() >= 90000
assert float(torch.tensor([1.0, 2.0]).sum()) == 3.0
"""

IMPORT = ["--from-uv", "uv.lock", "--output", "third_party/torch.lock.json"]
REIMPORT = "bazel run @rules_torch//python:lock -- --from-uv uv.lock --output third_party/torch.lock.json"


def _import(ws) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO / "python"))
    return subprocess.run([sys.executable, "-m", "rules_torch.lock", *IMPORT], cwd=ws.root, env=env, capture_output=True, text=True)


@pytest.fixture(scope="module")
def ws(workspace_factory):
    if uv_binary() is None:
        pytest.skip("no uv: pip install -r tools/requirements_test.txt (or set RULES_TORCH_TEST_UV)")
    if not pypi_reachable():
        pytest.skip("PyPI (https://pypi.org/simple) is unreachable; uv lock needs it for what is not local")
    ws = workspace_factory("uv_import")
    reason = make_project(ws.root, machine_sources())
    if reason:
        pytest.skip(reason)
    ws.write("third_party/BUILD.bazel", 'exports_files(["torch.lock.json"])\n')
    ws.write("BUILD.bazel", BUILD)
    ws.write("t.py", TEST)
    ws.write("t_cuda.py", TEST_CUDA)
    ws.write_module(MODULE)
    result = _import(ws)
    assert result.returncode == 0, result.stderr
    return ws


def test_cpu_builds_the_imported_torch(ws):
    result = ws.bazel("test", "--config=cpu", "//:t", "--test_output=all", "--nocache_test_results")
    assert result.returncode == 0, result.stdout[-4000:]
    assert "torch 2.13.0+cpu" in result.stdout


def test_cu130_selects_the_imported_cell(ws):
    lock = json.loads((ws.root / "third_party" / "torch.lock.json").read_text())
    wheels = lock["cells"]["cu130_linux_x86_64_cp311"]["wheels"]
    assert any(w["name"] == "nvidia-cudnn-cu13" for w in wheels)
    assert any(w["name"] == "torch" and w["version"] == "2.14.1" for w in wheels)
    # The hub's alias: which spoke --@rules_torch//torch:variant=cu130 on linux_x86_64 selects.
    hub = ws.bazel("query", "--output=build", "@torch//:torch")
    assert hub.returncode == 0, hub.stdout[-3000:]
    selected = re.search(r'"[^"]*cu130[^"]*linux_x86_64[^"]*": "(@@[^"]*torch__cu130_linux_x86_64_cp311)//:pkg"', hub.stdout)
    assert selected, hub.stdout[-3000:]
    # That spoke's wheels, as the extension declared it (no fetch): the imported cell's, file for
    # file and hash for hash (its typed attribute: sha256 by file name).
    spoke = ws.bazel("mod", "show_repo", selected.group(1))
    assert spoke.returncode == 0, spoke.stdout[-3000:]
    declared = re.search(r"sha256s = (\{.*?\}),?\n", spoke.stdout, re.S)
    assert declared, spoke.stdout[-3000:]
    assert json.loads(declared.group(1)) == {w["filename"]: w["sha256"] for w in wheels}


@pytest.mark.slow
def test_cu130_builds_the_imported_torch(ws):
    """--config=cuda130 fetches the imported cu130 cell (torch 2.14.1 and the CUDA 13 wheels, the
    hashes uv pinned) and the test imports it; its CUDA libraries load without a GPU."""
    with cuda_closure_slot("test_from_uv's cu130 build"):
        try:
            result = ws.bazel("test", "--@rules_torch//torch:variant=cu130", "//:t_cuda", "--test_output=all", "--nocache_test_results", timeout=1500)
            assert result.returncode == 0, result.stdout[-4000:]
            assert "torch 2.14.1" in result.stdout and "CUDA 13." in result.stdout, result.stdout[-4000:]
        finally:
            # The CUDA tree is 5 GB: drop the build outputs (the CPU tree is re-made in seconds) so
            # this light workspace does not hold them while the rest of the tests run.
            ws.bazel("clean")


def test_a_changed_uv_lock_is_stale_and_prints_the_reimport(ws):
    uv_lock = ws.root / "uv.lock"
    original = uv_lock.read_bytes()
    try:
        uv_lock.write_bytes(original + b"\n# edited\n")
        result = ws.bazel("build", "--nobuild", "//:t")
        assert result.returncode != 0, result.stdout[-3000:]
        assert "third_party:torch.lock.json is stale: @@//:uv.lock changed since it was imported" in result.stdout
        assert f"now {hashlib.sha256(uv_lock.read_bytes()).hexdigest()}" in result.stdout
        assert REIMPORT in result.stdout, result.stdout[-3000:]
        # The printed command is the fix: after it, the build is fine again.
        fix = ws.bazel(*REIMPORT.split()[1:])
        assert fix.returncode == 0, fix.stdout[-3000:]
        result = ws.bazel("build", "--nobuild", "//:t")
        assert result.returncode == 0, result.stdout[-3000:]
    finally:
        uv_lock.write_bytes(original)
        assert _import(ws).returncode == 0
