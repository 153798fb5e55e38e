"""torch/private/tools/gpu_check.py without Bazel: what it reads of a driver, and what a routed
requires-gpu test says when it finds no usable device (this machine has no GPU: the real probe
finds no driver)."""

import subprocess
import sys

from harness import TOOLS, product_tool

CHECK = TOOLS / "gpu_check.py"
gpu_check = product_tool("gpu_check")

CELL = "cu130_linux_x86_64_cp311"


def test_reads_the_kernel_modules_version(tmp_path):
    proc = tmp_path / "version"
    proc.write_text("NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  535.104.05  Release Build  (dvs-builder@U16)\nGCC version:  gcc 12\n")
    driver = gpu_check.probe(str(proc), libcuda="libcuda-not-here.so.1")
    assert driver.version == "535.104.05"
    assert driver.devices is None and "libcuda-not-here.so.1 does not load" in driver.problem
    proc.write_text("NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.65.06  Sun Jul 27 06:54:38 UTC 2025\n")
    assert gpu_check.probe(str(proc), libcuda="libcuda-not-here.so.1").version == "580.65.06"


def test_an_old_driver_names_both_versions_and_the_fix():
    old = gpu_check.Driver("535.104.05", "12.2", 1, None)
    usable, text = gpu_check.report(CELL, "13.0", "580.65.06", old)
    assert not usable
    assert "the driver is too old" in text and "NVIDIA driver 535.104.05, supporting CUDA up to 12.2" in text, text
    assert f"cell {CELL} is built for CUDA 13.0, which needs NVIDIA driver 580.65.06 or newer" in text, text
    assert "--config=cuda1xx" in text and "580.65.06+ driver" in text, text
    usable, text = gpu_check.report(CELL, "13.0", "580.65.06", gpu_check.Driver("580.82.07", "13.0", 2, None))
    assert usable and text.startswith("2 usable CUDA device(s)"), text


def test_a_container_without_the_device_and_a_cpu_cell():
    usable, text = gpu_check.report(CELL, "13.0", "580.65.06", gpu_check.Driver("580.82.07", "13.0", None, "cuInit failed with 100 CUDA_ERROR_NO_DEVICE"))
    assert not usable and "no usable CUDA device: cuInit failed with 100 CUDA_ERROR_NO_DEVICE" in text, text
    usable, text = gpu_check.report("cpu_linux_x86_64_cp311", None, "", gpu_check.Driver(None, None, None, "no driver"))
    assert not usable and "is not a CUDA build of torch" in text and "--config=cuda130" in text, text


def test_the_program_fails_here_naming_the_missing_driver():
    # This machine, like the loopback service's workers, has no NVIDIA driver.
    result = subprocess.run([sys.executable, "-S", "-s", str(CHECK), "//:gpu_test", CELL, "13.0", "580.65.06"], capture_output=True, text=True, check=False)
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("rules_torch launcher: //:gpu_test is tagged requires-gpu and GPU tests are routed"), result.stderr
    assert "no NVIDIA driver (no /proc/driver/nvidia/version)" in result.stderr, result.stderr
    assert "needs NVIDIA driver 580.65.06 or newer" in result.stderr, result.stderr


# --- through the launcher: a routed requires-gpu test on a machine with no GPU ------------------

BUILD = """\
load("@rules_torch//torch:defs.bzl", "torch_py_test")

torch_py_test(name = "gpu_test", srcs = ["t.py"], main = "t.py", tags = ["requires-gpu"], deps = ["@torch//:torch"])

torch_py_test(name = "plain_test", srcs = ["t.py"], main = "t.py", deps = ["@torch//:torch"])

# This machine as a "GPU worker": what a remote platform with the gpu constraint looks like.
platform(name = "gpu_here", parents = ["@platforms//host"], constraint_values = ["@rules_torch//torch/platforms:gpu"])
"""

ROUTE = ["--extra_execution_platforms=//:gpu_here", "--@rules_torch//torch:route_gpu_tests"]


def test_a_routed_gpu_test_without_a_device_fails_and_an_unrouted_one_runs(workspace_factory):
    ws = workspace_factory("gpu_check")
    ws.lock_fake_cells([("cu130", "linux_x86_64")])
    ws.write_module('torch.wheels(hub = "torch", lock = "//:torch.lock.json", default_variant = "cu130")\nuse_repo(torch, "torch")\n')
    ws.write("BUILD.bazel", BUILD)
    ws.write("t.py", 'print("the test body ran")\n')

    unrouted = ws.bazel("test", "--test_output=all", "--nocache_test_results", "//...")
    assert unrouted.returncode == 0, unrouted.stdout[-4000:]
    assert unrouted.stdout.count("the test body ran") == 2, unrouted.stdout[-4000:]

    routed = ws.bazel("test", "--test_output=errors", "--nocache_test_results", *ROUTE, "//...")
    assert routed.returncode == 3, routed.stdout[-4000:]  # 3: a test failed
    log = (ws.root / "bazel-testlogs" / "gpu_test" / "test.log").read_text()
    assert "//:gpu_test is tagged requires-gpu and GPU tests are routed" in log, log
    assert "no NVIDIA driver" in log and f"cell {CELL} is built for CUDA 13.0, which needs NVIDIA driver 580.65.06 or newer" in log, log
    assert "the test body ran" not in log, log
    assert "the test body ran" in (ws.root / "bazel-testlogs" / "plain_test" / "test.log").read_text()
