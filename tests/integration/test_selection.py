"""Variant and platform selection through the @torch hub, and lazy fetching of spokes."""

import pytest

TEST = """\
import os
import sys

import torch

want = os.environ["WANT_VARIANT"]
print("got", torch.__version__, torch.__variant__)
if torch.__variant__ != want:
    sys.exit(f"expected the {want} torch, got {torch.__variant__}")
libs = os.environ.get("RULES_TORCH_LIB_DIRS", "")
if want.startswith("cu") and "nvidia/cuda_runtime/lib" not in libs:
    sys.exit(f"the CUDA wheel's library directory is not on the launcher's path: {libs!r}")
"""

CELLS = [("cpu", "linux_x86_64"), ("cu118", "linux_x86_64"), ("cu121", "linux_x86_64"), ("cpu", "linux_aarch64"), ("cpu", "macos_arm64")]


@pytest.fixture(scope="module")
def ws(workspace_factory):
    ws = workspace_factory("selection")
    ws.write("BUILD.bazel", 'load("@rules_torch//torch:defs.bzl", "torch_py_test")\n\ntorch_py_test(name = "t", srcs = ["t.py"], deps = ["@torch//:torch"])\n')
    ws.write("t.py", TEST)
    ws.lock_fake_cells(CELLS)
    ws.write_module('torch.wheels(hub = "torch", lock = "//:torch.lock.json", default_variant = "cpu")\nuse_repo(torch, "torch")\n')
    # Start from an empty external/ so that laziness is observable.
    ws.bazel("clean", "--expunge")
    return ws


def _test(ws, variant, *args):
    result = ws.bazel("test", "//:t", f"--test_env=WANT_VARIANT={variant}", "--test_output=all", "--nocache_test_results", *args)
    assert result.returncode == 0, result.stdout[-4000:]
    assert f"got 2.5.1+{variant} {variant}" in result.stdout, result.stdout[-4000:]


def test_default_is_cpu_and_lazy(ws):
    _test(ws, "cpu")
    assert ws.spoke_dirs("cpu_linux_x86_64_cp311"), "the cpu spoke was not fetched"
    for cell in ["cu118_linux_x86_64_cp311", "cu121_linux_x86_64_cp311", "cpu_linux_aarch64_cp311"]:
        assert not ws.spoke_dirs(cell), f"{cell} was fetched although no build selected it"


def test_config_cpu(ws):
    _test(ws, "cpu", "--config=cpu")
    assert not ws.spoke_dirs("cu118_linux_x86_64_cp311")


@pytest.mark.parametrize(("config", "variant"), [("cuda118", "cu118"), ("cuda121", "cu121")])
def test_config_cuda(ws, config, variant):
    _test(ws, variant, f"--config={config}")


@pytest.mark.parametrize(("platform", "cell"), [("linux_aarch64", "cpu_linux_aarch64_cp311"), ("macos_arm64", "cpu_macos_arm64_cp311")])
def test_target_platform_selects_spoke(ws, platform, cell):
    result = ws.bazel("cquery", f"--platforms=//platforms:{platform}", "deps(@torch//:torch, 1)", "--output=label")
    assert result.returncode == 0, result.stdout[-4000:]
    assert f"torch__{cell}//:pkg" in result.stdout, result.stdout[-4000:]
    assert "torch__cpu_linux_x86_64_cp311//:pkg" not in result.stdout


@pytest.mark.parametrize(("driver", "variant"), [("550.54.14", "cu121"), ("", "cpu")])
def test_auto_default_variant(ws, driver, variant):
    ws.write_module('torch.wheels(hub = "torch", lock = "//:torch.lock.json", default_variant = "auto")\nuse_repo(torch, "torch")\n')
    try:
        result = ws.bazel("test", "//:t", f"--test_env=WANT_VARIANT={variant}", "--test_output=all", env={"RULES_TORCH_NVIDIA_DRIVER": driver})
    finally:
        ws.write_module('torch.wheels(hub = "torch", lock = "//:torch.lock.json", default_variant = "cpu")\nuse_repo(torch, "torch")\n')
    assert result.returncode == 0, result.stdout[-4000:]
    assert f"default_variant = \"auto\" picked '{variant}'" in result.stdout, result.stdout[-4000:]
    assert f"got 2.5.1+{variant} {variant}" in result.stdout
