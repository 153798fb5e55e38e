"""Locks of real torch wheels: this machine's local indexes (see machine_indexes.py) plus PyPI.

Skipped, with the reason, where the wheels or PyPI are not there. Deselect with
``-m "not real_torch"`` (the CUDA closure is also marked ``slow``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from locktest import invoke
from machine_indexes import machine_sources, pypi_reachable, torch_2_13_cpu_args, torch_2_14_cu130_args

from rules_torch.lockfile import load_lock

pytestmark = pytest.mark.real_torch

TORCH_2_14_TOOLKIT_EXTRAS = [
    "cublas", "cudart", "cufft", "cufile", "cupti", "curand", "cusolver", "cusparse", "nvjitlink", "nvrtc", "nvtx",
]  # fmt: skip


@pytest.fixture(scope="module")
def sources():
    if not pypi_reachable():
        pytest.skip("PyPI (https://pypi.org/simple) is unreachable; the real closures need it for what is not local")
    return machine_sources()


def _lock(args: list[str] | str, tmp_path: Path) -> tuple[dict, Path]:
    if isinstance(args, str):
        pytest.skip(args)
    output, requirements = tmp_path / "torch.lock.json", tmp_path / "requirements"
    code, stderr = invoke([*args, "--output", str(output), "--requirements-dir", str(requirements), "--no-cache"])
    assert code == 0, stderr
    return load_lock(output), requirements


@pytest.mark.slow  # reads the 2.9 GB closure (metadata only, but still a resolve over 32 wheels)
def test_torch_2_14_cuda_13_closure(sources, tmp_path: Path) -> None:
    lock, requirements = _lock(torch_2_14_cu130_args(sources), tmp_path)
    wheels = {w["name"]: w for w in lock["cells"]["cu130_linux_x86_64_cp311"]["wheels"]}
    assert wheels["torch"]["version"] == "2.14.1"
    assert wheels["triton"]["version"].startswith("3.8.")
    assert wheels["cuda-toolkit"]["extras"] == TORCH_2_14_TOOLKIT_EXTRAS
    nvidia = {
        "nvidia-cublas", "nvidia-cuda-cupti", "nvidia-cuda-nvrtc", "nvidia-cuda-runtime", "nvidia-cudnn-cu13",
        "nvidia-cufft", "nvidia-cufile", "nvidia-curand", "nvidia-cusolver", "nvidia-cusparse",
        "nvidia-cusparselt-cu13", "nvidia-nccl-cu13", "nvidia-nvjitlink", "nvidia-nvshmem-cu13", "nvidia-nvtx",
    }  # fmt: skip
    assert nvidia <= set(wheels)
    assert {"cuda-bindings", "sympy", "jinja2", "networkx", "filelock", "fsspec", "setuptools"} <= set(wheels)
    if "torchvision" in wheels:
        assert len(wheels) == 32
    text = (requirements / "requirements_cu130_linux_x86_64_cp311.txt").read_text()
    assert f"\ncuda-toolkit[{','.join(TORCH_2_14_TOOLKIT_EXTRAS)}]=={wheels['cuda-toolkit']['version']} \\\n" in text


def test_torch_2_13_cpu_from_find_links(sources, tmp_path: Path) -> None:
    lock, _ = _lock(torch_2_13_cpu_args(sources), tmp_path)
    wheels = {w["name"]: w for w in lock["cells"]["cpu_linux_x86_64_cp311"]["wheels"]}
    # PyPI's torch 2.13.0 (a CUDA build) is also a candidate; the +cpu build must win.
    assert wheels["torch"]["version"] == "2.13.0+cpu"
    assert wheels["torch"]["url"].startswith("file://")
    assert not [name for name in wheels if name.startswith(("nvidia", "triton", "cuda"))]
    assert lock["request"]["index_url"] == "https://pypi.org/simple"
