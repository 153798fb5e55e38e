"""A torch test reads only a cell tree that Bazel has finished writing, on a fresh runner whose
disk cache is warm (what a CI job restores), in every download mode.

A test stages the tree's ticket (`site-packages.ready`, cell_tree.bzl), the output of an action
whose input is the tree: Bazel writes the whole tree to the disk before that action, once per
output base, and starts no test of the cell before it. Without it (a test staging the install
action's own stamp), each test of a `--build_tests_only` run installed the cell again into its
TEST_TMPDIR (the install action was a cache hit, its tree never downloaded), and a test that
started while Bazel downloaded the tree for a binary in the same build failed in 0.2 s with "No
module named 'torch'" or "libtorch_cpu.so: cannot open shared object file".

One workspace on the real CPU torch 2.13.0 (the root module's lock): a binary and three tests.
"""

from __future__ import annotations

import shutil

import pytest
from harness import REPO

pytestmark = pytest.mark.real_torch

LOCK = REPO / "tests" / "locks" / "torch_cpu.lock.json"
TESTS = ("model_test", "t2", "t3")

MODEL = """\
import torch


def fit():
    torch.manual_seed(0)
    x = torch.linspace(-1, 1, 64).unsqueeze(1)
    layer = torch.nn.Linear(1, 1)
    opt = torch.optim.SGD(layer.parameters(), lr=0.5)
    for _ in range(200):
        opt.zero_grad()
        torch.nn.functional.mse_loss(layer(x), 2 * x + 1).backward()
        opt.step()
    return layer
"""

TEST = """\
from model import fit

layer = fit()
assert abs(layer.weight.item() - 2.0) < 1e-2, layer.weight
print("fitted", layer.weight.item())
"""

BUILD = """\
load("@rules_torch//torch:defs.bzl", "torch_py_binary", "torch_py_library", "torch_py_test")

torch_py_library(name = "model", srcs = ["model.py"], deps = ["@torch//:torch"])

torch_py_binary(name = "main", srcs = ["main.py"], deps = [":model"])
""" + "".join(
    f'\ntorch_py_test(name = "{name}", srcs = ["{name}.py"], main = "{name}.py", deps = [":model"])\n' for name in TESTS
)

INSTALLING = "is not on this disk; installing its wheels"


@pytest.fixture(scope="module")
def ws(workspace_factory):
    ws = workspace_factory("tree_ordering", heavy=True)
    ws.write_module('torch.wheels(hub = "torch", lock = "//:torch.lock.json", default_variant = "cpu")\nuse_repo(torch, "torch")\n')
    ws.write("torch.lock.json", LOCK.read_text())
    ws.write("model.py", MODEL)
    ws.write("main.py", TEST)
    for name in TESTS:
        ws.write(f"{name}.py", TEST)
    ws.write("BUILD.bazel", BUILD)
    ws.write(".bazelignore", "output_bases\ndisk_cache\n")
    # The caches a CI job restores: the disk cache, filled by one earlier output base.
    (ws.root / "disk_cache").mkdir(exist_ok=True)
    base = ws.root / "output_bases" / "fill"
    result = ws.bazel(f"--output_base={base}", "test", f"--disk_cache={ws.root / 'disk_cache'}", "//...")
    assert result.returncode == 0, result.stdout[-5000:]
    _drop(ws, base)
    yield ws
    shutil.rmtree(ws.root / "disk_cache", ignore_errors=True)


def _drop(ws, base) -> None:
    ws.bazel(f"--output_base={base}", "shutdown")
    shutil.rmtree(base, ignore_errors=True)


def _fresh_runner(ws, name: str, *commands: list[str]) -> dict[str, str]:
    """Runs `bazel test` commands, one after another, in a new output base with the warm disk
    cache; returns each test's log of the last command."""
    base = ws.root / "output_bases" / name
    shutil.rmtree(base, ignore_errors=True)
    try:
        for args in commands:
            result = ws.bazel(f"--output_base={base}", "test", f"--disk_cache={ws.root / 'disk_cache'}", "--nocache_test_results", *args)
            assert result.returncode == 0, result.stdout[-6000:]
        logs = base / "execroot" / "_main" / "bazel-out" / "k8-fastbuild" / "testlogs"
        return {name: (logs / name / "test.log").read_text() for name in TESTS if (logs / name / "test.log").is_file()}
    finally:
        _drop(ws, base)


def _installed_by_no_test(logs: dict[str, str]) -> None:
    assert sorted(logs) == sorted(TESTS), sorted(logs)
    for name, log in logs.items():
        assert "fitted" in log and INSTALLING not in log, f"{name}:\n{log[-3000:]}"


@pytest.mark.parametrize("mode", ["toplevel", "minimal", "all"])
def test_build_tests_only_on_a_fresh_runner_installs_nothing(ws, mode):
    # What CI runs. The install action is a disk cache hit: only its ticket's execution makes
    # Bazel write the tree to this disk, once, before the three tests.
    _installed_by_no_test(_fresh_runner(ws, f"tests_only_{mode}", ["--build_tests_only", f"--remote_download_outputs={mode}", "//..."]))


def test_tests_never_start_while_the_tree_is_being_written(ws):
    # The sequence: one test, then the whole workspace, whose binary makes the tree a
    # top-level output (Bazel downloads it for the binary's runfiles while new tests start).
    _installed_by_no_test(_fresh_runner(ws, "race", ["//:model_test"], ["//..."]))


# --- a machine's tree cache (--@rules_torch//torch:tree_cache) ---------------------------------

DAMAGED = "in the tree cache {} is damaged; installing it again"
PUBLISHED_MEANWHILE = "meanwhile; using that tree"


def _with_tree_cache(ws, name: str, cache) -> dict[str, str]:
    return _fresh_runner(ws, name, ["--build_tests_only", f"--@rules_torch//torch:tree_cache={cache}", "//..."])


def _cached_tree(cache):
    (tree,) = [p for p in cache.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return tree / "site-packages"


def test_a_tree_cache_is_filled_once_then_read_in_place_and_repaired_when_damaged(ws, tmp_path):
    cache = tmp_path / "trees"
    # An empty cache (a runner's first job): the tests that start together install the cell once.
    logs = _with_tree_cache(ws, "tree_cache_cold", cache)
    assert all("fitted" in log for log in logs.values()), logs
    assert sum(INSTALLING in log and PUBLISHED_MEANWHILE not in log for log in logs.values()) == 1, logs
    tree = _cached_tree(cache)
    assert (tree / "torch" / "__pycache__").is_dir(), "installed with pycs: a shared tree gets none at run time"
    before = {p: p.stat().st_mtime_ns for p in tree.rglob("*")}

    # The cache restored on a fresh runner: nothing installed, nothing written into the tree.
    _installed_by_no_test(_with_tree_cache(ws, "tree_cache_warm", cache))
    assert {p: p.stat().st_mtime_ns for p in tree.rglob("*")} == before, "a test wrote into the shared tree"

    # A test (or a bad restore) that damaged the tree: the next test sees it and installs it again.
    with open(tree / "torch" / "version.py", "a") as f:
        f.write("\n__version__ = '6.6.6'\n")
    logs = _with_tree_cache(ws, "tree_cache_damaged", cache)
    assert all("fitted" in log for log in logs.values()), logs
    assert any(DAMAGED.format(cache) in log for log in logs.values()), logs
    assert "6.6.6" not in (_cached_tree(cache) / "torch" / "version.py").read_text()


def test_a_tree_cache_that_cannot_be_written_is_named_and_the_tests_still_pass(ws, tmp_path):
    cache = tmp_path / "file_not_dir"
    cache.write_text("")  # not a directory: mkdir fails as it does in a read-only sandbox
    logs = _with_tree_cache(ws, "tree_cache_unwritable", cache / "trees")
    for name, log in logs.items():
        assert "fitted" in log, f"{name}:\n{log[-3000:]}"
        assert f"cannot write the tree cache {cache / 'trees'}" in log, f"{name}:\n{log[-3000:]}"
