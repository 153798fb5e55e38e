"""The CUDA variant's C++ extension: torch 2.14.1 cu130 (PyPI's CUDA 13 build) locked with the
NVIDIA wheels' nvcc (--with nvidia-cuda-nvcc, -crt, nvvm); a .cu kernel and a TORCH_LIBRARY op
compile and link against @torch//:libtorch with that nvcc, no system CUDA. Running the kernel is
the requires-gpu test add_one_test (built here, run on a GPU machine).

Slow: fetches and installs the real CUDA closure (~3 GB of wheels) in its own output base.
"""

from __future__ import annotations

import subprocess

import pytest
from harness import REPO, lock_real_torch, real_cuda_workspace

pytestmark = [pytest.mark.slow, pytest.mark.real_torch]

SOURCES = REPO / "tests" / "integration" / "libtorch_cuda"
# nvcc 13.0 (the toolkit torch 2.14.1 pins) rejects GCC 16 and glibc 2.43's math headers; 13.5's
# nvcc compiles for the same CUDA 13 runtime.
NVCC = ("nvidia-cuda-nvcc==13.5.*", "nvidia-cuda-crt==13.5.*", "nvidia-nvvm==13.5.*")


def _prepare(ws, index):
    lock_real_torch(ws, "2.14.1", "cu130", index, with_requirements=NVCC)
    ws.write_module('torch.wheels(hub = "torch", lock = "//:torch.lock.json", default_variant = "cu130")\nuse_repo(torch, "torch")\n')
    for source in SOURCES.iterdir():
        ws.write(source.name.removesuffix(".in"), source.read_text())


@pytest.fixture(scope="module")
def ws(workspace_factory):
    return real_cuda_workspace(workspace_factory, "libtorch_cuda", 12, _prepare, ["//:add_one", "//:add_one_test"], timeout=2400)


def test_cuda_extension_compiles_with_the_wheels_nvcc_and_links(ws):
    bin_dir = ws.bazel("info", "bazel-bin").stdout.strip().splitlines()[-1]
    library = f"{bin_dir}/libadd_one.so"
    sections = subprocess.run(["readelf", "-SW", library], capture_output=True, text=True, check=True).stdout
    assert ".nv_fatbin" in sections, "no CUDA device code (.nv_fatbin) in " + library
    dynamic = subprocess.run(["readelf", "-dW", library], capture_output=True, text=True, check=True).stdout
    for needed in ("libtorch_cuda.so", "libc10_cuda.so", "libtorch_cpu.so"):
        assert f"[{needed}]" in dynamic, f"{library} does not link {needed}:\n{dynamic}"
    log = ws.bazel("aquery", "mnemonic(TorchNvcc, //:add_one)", "--output=text").stdout
    assert "/nvidia/*/bin/nvcc" in log and "-ccbin" in log, log[-3000:]
