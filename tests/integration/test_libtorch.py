"""C++ against the locked torch: @torch//:libtorch and torch_cc_extension, on the real torch
2.13.0+cpu wheel (the root module's lock).

One workspace: a cc_test that links libtorch and runs a tensor op; a TORCH_LIBRARY custom op
built by torch_cc_extension and loaded by a torch_py_test with torch.ops.load_library.
"""

from __future__ import annotations

import sysconfig

import pytest
from harness import REPO

pytestmark = pytest.mark.real_torch

LOCK = REPO / "tests" / "locks" / "torch_cpu.lock.json"
SOURCES = REPO / "tests" / "integration" / "libtorch"

# rules_python 0.22.1 has no @rules_python//python/cc:current_py_cc_headers: the pybind11 module
# takes Python's headers from the interpreter running the tests (the one Bazel's autodetected
# Python toolchain runs here, same version as the lock's cp311 cell).
PYTHON_HEADERS = """
new_local_repository = use_repo_rule("@bazel_tools//tools/build_defs/repo:local.bzl", "new_local_repository")

new_local_repository(
    name = "python_headers",
    build_file_content = 'load("@rules_cc//cc:defs.bzl", "cc_library")\\ncc_library(name = "headers", hdrs = glob(["**/*.h"]), includes = ["."], visibility = ["//visibility:public"])',
    path = {path!r},
)
"""


@pytest.fixture(scope="module")
def ws(workspace_factory):
    ws = workspace_factory("libtorch", heavy=True)
    ws.write_module(
        'bazel_dep(name = "rules_cc", version = "0.0.11")\n'
        'torch.wheels(hub = "torch", lock = "//:torch.lock.json", default_variant = "cpu")\nuse_repo(torch, "torch")\n'
        + PYTHON_HEADERS.format(path=sysconfig.get_paths()["include"])
    )
    ws.write("torch.lock.json", LOCK.read_text())
    for source in SOURCES.iterdir():
        ws.write(source.name.removesuffix(".in"), source.read_text())
    return ws


def _test(ws, *args: str) -> str:
    result = ws.bazel("test", "--test_output=all", *args, timeout=1200)
    assert result.returncode == 0, result.stdout[-6000:]
    return result.stdout


def test_cc_test_links_libtorch_and_runs_a_tensor_op(ws):
    out = _test(ws, "//:tensor_op_test")
    assert "libtorch 2.13.0: matmul ok" in out, out[-3000:]


def test_custom_op_loads_in_torch_py_test(ws):
    out = _test(ws, "//:my_ops_test")
    assert "custom op ok: [1006.0, 1012.0, 1018.0]" in out, out[-3000:]


def test_pybind_module_imports_from_a_torch_py_library(ws):
    out = _test(ws, "//:pyext_test")
    assert "pybind module ok:" in out and "[2.5, 4.5]" in out, out[-3000:]


def test_libtorch_of_an_unlocked_variant_is_the_hubs_no_match_error(ws):
    result = ws.bazel("build", "--@rules_torch//torch:variant=cu130", "//:tensor_op_test")
    assert result.returncode != 0, result.stdout[-3000:]
    for fragment in (
        "rules_torch: @torch has no torch for variant 'cu130' (from --@rules_torch//torch:variant) on linux_x86_64",
        "available in @@//:torch.lock.json: cpu on linux_x86_64",
        "--variants cpu,cu130 --platforms linux_x86_64",
    ):
        assert fragment in result.stdout, f"{fragment!r} not in:\n{result.stdout[-3000:]}"


def test_cuda_source_in_a_cpu_variant_is_refused(ws):
    result = ws.bazel("build", "//:cuda_ops")
    assert result.returncode != 0, result.stdout[-3000:]
    expected = (
        "rules_torch: torch_cc_extension @@//:cuda_ops: kernel.cu is a CUDA source but @torch//:libtorch "
        "is cell cpu_linux_x86_64_cp311, a CPU build. Build it with a CUDA variant"
    )
    assert expected in result.stdout, result.stdout[-3000:]
