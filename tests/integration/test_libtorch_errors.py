"""@torch//:libtorch on fake wheels (seconds, no real torch): its laziness, and the errors of a
torch wheel without C++ headers and of a CUDA cell without nvcc for a .cu source."""

from __future__ import annotations

import subprocess

import pytest
from harness import Wheel, fake_torch

BUILD = """\
load("@rules_torch//torch:defs.bzl", "torch_cc_extension")

torch_cc_extension(name = "kernel", srcs = ["kernel.cu"])
"""


def _fake_cuda_torch(ws) -> list[dict]:
    """A cu130 torch wheel with headers and a real (empty) libc10_cuda.so, and no nvcc wheel."""
    (ws.root / "empty.c").write_text("")
    library = ws.root / "libc10_cuda.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(library), str(ws.root / "empty.c")], check=True)
    torch = Wheel(
        "torch",
        "2.5.1+cu130",
        "cp311-cp311-linux_x86_64",
        files=(
            ("torch/__init__.py", b"", False),
            ("torch/include/torch/fake.h", b"#pragma once\n", False),
            ("torch/lib/libc10_cuda.so", library.read_bytes(), False),
        ),
    )
    return [ws.add_wheel(torch)]


@pytest.fixture(scope="module")
def ws(workspace_factory):
    ws = workspace_factory("libtorch_errors")
    cpu = [ws.add_wheel(w) for w in fake_torch("cpu", "linux_x86_64")]
    ws.write_lock({("cpu", "linux_x86_64"): cpu, ("cu130", "linux_x86_64"): _fake_cuda_torch(ws)})
    ws.write_module('torch.wheels(hub = "torch", lock = "//:torch.lock.json", default_variant = "cpu")\nuse_repo(torch, "torch")\n')
    ws.write("kernel.cu", "__global__ void k() {}\n")
    ws.write("BUILD.bazel", BUILD)
    return ws


def _external(ws) -> list[str]:
    return sorted(p.name for p in (ws.output_base() / "external").iterdir() if p.is_dir())


def test_lazy(ws):
    """@torch//:torch fetches no C++ repository; @torch//:libtorch fetches only the selected cell's."""
    ws.bazel("clean", "--expunge")
    assert ws.bazel("build", "@torch//:torch").returncode == 0
    fetched = _external(ws)
    assert any(name.endswith("__cpu_linux_x86_64_cp311") for name in fetched), fetched
    assert not [name for name in fetched if name.endswith("__libtorch")], fetched
    ws.bazel("build", "@torch//:libtorch")  # fails (no headers in the fake wheel), after the fetch
    fetched = _external(ws)
    assert [name for name in fetched if name.endswith("__cpu_linux_x86_64_cp311__libtorch")], fetched
    assert not [name for name in fetched if "cu130" in name], fetched


def test_torch_wheel_without_headers(ws):
    result = ws.bazel("build", "@torch//:libtorch")
    assert result.returncode != 0, result.stdout[-3000:]
    expected = (
        "rules_torch: cell cpu_linux_x86_64_cp311 (lock @@//:torch.lock.json) has no libtorch for C++: "
        "its torch wheel torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl ships no C++ headers (torch/include)"
    )
    assert expected in result.stdout, result.stdout[-3000:]
    assert "bazel run @rules_torch//python:lock --" in result.stdout, result.stdout[-3000:]


def test_cuda_source_without_nvcc_in_the_cell(ws):
    result = ws.bazel("build", "--@rules_torch//torch:variant=cu130", "//:kernel")
    assert result.returncode != 0, result.stdout[-3000:]
    expected = (
        "rules_torch: cell cu130_linux_x86_64_cp311 has no nvcc: a torch_cc_extension with .cu sources "
        "compiles them with the nvcc of the cell's NVIDIA wheels. Lock them into the cell with the lock tool's --with"
    )
    assert expected in result.stdout, result.stdout[-3000:]
