"""A test that writes into torch's installed tree cannot poison later builds: the tree is a
build output (read-only where it lies, and the tests run as root, so permissions alone would
not stop them), and Bazel checks its outputs at the start of every build: a changed or damaged
tree is installed again by the next normal `bazel test`, before any test reads it. What a test
does in normal use (importing modules of the tree: pycs) writes nothing, so reinstalls nothing.

One workspace on the real CPU torch 2.13.0 (the root module's lock).
"""

from __future__ import annotations

import os

import pytest
from harness import REPO

pytestmark = pytest.mark.real_torch

LOCK = REPO / "tests" / "locks" / "torch_cpu.lock.json"
CELL = "cpu_linux_x86_64_cp311"

POISON = """\
import os
import torch

version = os.path.join(os.path.dirname(torch.__file__), "version.py")
with open(version, "a") as f:  # root ignores the read-only mode bits
    f.write("\\n__version__ = '6.6.6'\\n")
print("poisoned", os.path.realpath(version))
"""

PRISTINE = """\
import torch

assert torch.__version__ == "2.13.0+cpu", torch.__version__
print("pristine", torch.__version__)
"""

SUITE = """\
import importlib

import torch

module = importlib.import_module("sympy.core.tests.test_basic")
ran = [name for name in sorted(dir(module)) if name.startswith("test_") and getattr(module, name)() is None]
assert len(ran) > 10, ran
print("suite ran", len(ran), "tests with torch", torch.__version__)
"""

BUILD = """\
load("@rules_torch//torch:defs.bzl", "torch_py_test")

torch_py_test(name = "suite_test", srcs = ["suite.py"], main = "suite.py", deps = ["@torch//:torch"])

torch_py_test(name = "poison_test", srcs = ["poison.py"], main = "poison.py", deps = ["@torch//:torch"])

torch_py_test(name = "pristine_test", srcs = ["pristine.py"], main = "pristine.py", deps = ["@torch//:torch"])
"""


@pytest.fixture(scope="module")
def ws(workspace_factory):
    ws = workspace_factory("tree_integrity", heavy=True)
    ws.write_module('torch.wheels(hub = "torch", lock = "//:torch.lock.json", default_variant = "cpu")\nuse_repo(torch, "torch")\n')
    ws.write("torch.lock.json", LOCK.read_text())
    ws.write("poison.py", POISON)
    ws.write("pristine.py", PRISTINE)
    ws.write("suite.py", SUITE)
    ws.write("BUILD.bazel", BUILD)
    return ws


def _test(ws, target: str) -> str:
    result = ws.bazel("test", "--test_output=all", target)
    assert result.returncode == 0, result.stdout[-5000:]
    return result.stdout


def _tree(ws):
    trees = [t for t in ws.tree_dirs(CELL) if (t / "torch").is_dir()]
    assert len(trees) == 1, trees
    return trees[0]


def test_a_test_that_writes_into_torch_does_not_poison_the_next(ws):
    out = _test(ws, "//:poison_test")
    assert "poisoned" in out, out[-3000:]
    version = _tree(ws) / "torch" / "version.py"
    assert "6.6.6" in version.read_text()  # it did write where the tree lies
    assert not os.access(version, os.W_OK) or os.geteuid() == 0  # read-only for anyone but root

    out = _test(ws, "//:pristine_test")
    assert "pristine 2.13.0+cpu" in out, out[-3000:]
    assert "6.6.6" not in version.read_text()  # installed again before the test ran


def test_deleted_and_truncated_libraries_are_restored_by_the_next_build(ws):
    # Before: a truncated torch/_C*.so was a SIGBUS with an empty test.log, a deleted one
    # torch's misleading "loaded the torch/_C folder of the PyTorch repository".
    _test(ws, "//:pristine_test")
    tree = _tree(ws)
    deleted = sorted((tree / "torch" / "lib").glob("libtorch_cpu.so*"))[0]
    truncated = next((tree / "torch").glob("_C*.so"))
    size = truncated.stat().st_size
    deleted.unlink()
    with open(truncated, "r+b") as f:
        f.truncate(size // 2)
    out = _test(ws, "//:pristine_test")
    assert "pristine 2.13.0+cpu" in out, out[-3000:]
    assert deleted.is_file() and truncated.stat().st_size == size


def test_importing_a_suite_inside_the_tree_writes_nothing_and_reinstalls_nothing(ws):
    # A test runner collecting tests that ship inside the cell (sympy's here; einops' with pytest
    # in the issue) imports them from the shared tree: Python would write their pycs next to
    # them, Bazel would see its output changed and install the tree again at the next build.
    out = ws.bazel("test", "--nocache_test_results", "--test_output=all", "//:suite_test").stdout
    assert "suite ran" in out, out[-3000:]
    tests_dir = _tree(ws) / "sympy" / "core" / "tests"
    assert (tests_dir / "test_basic.py").is_file()
    assert not (tests_dir / "__pycache__").exists(), sorted((tests_dir / "__pycache__").iterdir())
    again = ws.bazel("test", "//:suite_test").stdout
    assert "(cached) PASSED" in again, again[-3000:]
    assert "Installing" not in again and "processwrapper-sandbox" not in again and "linux-sandbox" not in again, again[-3000:]
