#!/usr/bin/env python3
"""Benchmark: importing a multi-variant uv.lock (`--from-uv`) beside `uv lock` of the same project.

    python3 benchmarks/uv_import.py [--runs 5] [--keep DIR]

The project is PyTorch's uv setup with 2 variants (extras cpu and cu130, in conflict, each
taking torch from its own index), 2 platforms (linux_x86_64, linux_aarch64: `[tool.uv]
environments`) and 1 Python (3.11). The torch wheels are stand-ins on two local flat indexes,
one per extra, for both platforms, whose metadata declares real torch's dependencies (2.13.0+cpu's
and 2.14.1's CUDA 13 closure); every other package is resolved by uv from PyPI, so uv.lock holds
the real closures (the CUDA 13 wheels for both platforms).

It prints, each the median of --runs:
  uv lock          `uv lock` from scratch (uv.lock removed first), uv's cache warm (a first,
                   untimed run fills it), and once more with `--refresh` (revalidates every
                   index page against PyPI);
  import (in-process)  rules_torch.uv_import on the uv.lock (read, walk 4 cells, write the lock);
  import (command)     `python3 -m rules_torch.lock --from-uv ...`: the same plus interpreter start-up.
and the ratio. Needs uv (tools/requirements_test.txt) and PyPI. Not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "python"))
sys.path.insert(0, str(REPO / "python" / "tests"))
sys.path.insert(0, str(REPO / "tests" / "support"))

from fake_wheels import Wheel  # noqa: E402
from rules_torch import lock  # noqa: E402
from uv_project import uv_binary  # noqa: E402

_COMMON = (
    "filelock",
    "typing-extensions>=4.10.0",
    "setuptools>=77.0.3",
    "sympy>=1.13.3",
    "networkx>=2.5.1",
    "jinja2",
    "fsspec>=0.8.5",
)
# torch 2.14.1's own Requires-Dist (PyPI's CUDA 13 build), read from its wheel.
_CUDA = (
    'cuda-toolkit[cublas,cudart,cufft,cufile,cupti,curand,cusolver,cusparse,nvjitlink,nvrtc,nvtx]==13.0.3; platform_system == "Linux"',
    'cuda-bindings<14,>=13.0.3; platform_system == "Linux" and python_version < "3.15"',
    'nvidia-cudnn-cu13==9.24.0.43; platform_system == "Linux"',
    'nvidia-cusparselt-cu13==0.8.1; platform_system == "Linux"',
    'nvidia-nccl-cu13==2.30.7; platform_system == "Linux"',
    'nvidia-nvshmem-cu13==3.4.5; platform_system == "Linux"',
    'triton~=3.8.0; platform_system == "Linux" and python_version < "3.15"',
)
VARIANTS = {"cpu": ("2.13.0+cpu", _COMMON), "cu130": ("2.14.1", _COMMON + _CUDA)}
ARCHES = ("x86_64", "aarch64")


def make_project(root: Path) -> None:
    for variant, (version, requires) in VARIANTS.items():
        index = root / "indexes" / variant
        index.mkdir(parents=True, exist_ok=True)
        for arch in ARCHES:
            wheel = Wheel("torch", version, f"cp311-cp311-manylinux_2_28_{arch}", requires=requires)
            (index / wheel.filename).write_bytes(wheel.build())
    indexes = "".join(
        f'\n[[tool.uv.index]]\nname = "pytorch-{v}"\nurl = "{root / "indexes" / v}"\nformat = "flat"\nexplicit = true\n' for v in VARIANTS
    )
    (root / "pyproject.toml").write_text(
        f"""\
[project]
name = "bench"
version = "0.1.0"
requires-python = "==3.11.*"

[project.optional-dependencies]
cpu = ["torch==2.13.0"]
cu130 = ["torch==2.14.1"]

[tool.uv]
conflicts = [[{{ extra = "cpu" }}, {{ extra = "cu130" }}]]
environments = [
  "sys_platform == 'linux' and platform_machine == 'x86_64'",
  "sys_platform == 'linux' and platform_machine == 'aarch64'",
]

[tool.uv.sources]
torch = [
  {{ index = "pytorch-cpu", extra = "cpu" }},
  {{ index = "pytorch-cu130", extra = "cu130" }},
]
{indexes}"""
    )


def time_uv_lock(root: Path, *extra: str) -> float:
    (root / "uv.lock").unlink(missing_ok=True)
    started = time.perf_counter()
    subprocess.run([uv_binary() or "uv", "lock", "--no-progress", *extra], cwd=root, check=True, capture_output=True)
    return time.perf_counter() - started


def time_import_in_process(root: Path) -> float:
    argv = ["--from-uv", str(root / "uv.lock"), "--output", str(root / "torch.lock.json"), "--no-cache", "-q"]
    started = time.perf_counter()
    with contextlib.redirect_stderr(io.StringIO()) as stderr:
        code = lock.main(argv)
    elapsed = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"import failed:\n{stderr.getvalue()}")
    return elapsed


def time_import_command(root: Path) -> float:
    env = dict(os.environ, PYTHONPATH=str(REPO / "python"))
    argv = ["--from-uv", "uv.lock", "--output", "torch.lock.json", "--no-cache", "-q"]
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rules_torch.lock", *argv], cwd=root, env=env, check=True)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (default: %(default)s)")
    parser.add_argument("--keep", type=Path, help="build the project in this directory and keep it")
    args = parser.parse_args()
    if uv_binary() is None:
        print("error: no uv; pip install -r tools/requirements_test.txt", file=sys.stderr)
        return 1
    root = args.keep or Path(tempfile.mkdtemp(prefix="uv_import_bench."))
    root.mkdir(parents=True, exist_ok=True)
    try:
        make_project(root)
        time_uv_lock(root)  # fills uv's cache
        uv_warm = statistics.median(time_uv_lock(root) for _ in range(args.runs))
        uv_refresh = time_uv_lock(root, "--refresh")
        in_process = statistics.median(time_import_in_process(root) for _ in range(args.runs))
        command = statistics.median(time_import_command(root) for _ in range(args.runs))
        cells = lock_cells(root / "torch.lock.json")
        print(f"uv.lock: {(root / 'uv.lock').stat().st_size} bytes; imported cells: {', '.join(cells)}")
        print(f"{'uv lock (warm cache)':32} {uv_warm:7.3f} s")
        print(f"{'uv lock --refresh':32} {uv_refresh:7.3f} s")
        print(f"{'import, in-process':32} {in_process:7.3f} s   ({uv_warm / in_process:.1f}x faster than uv lock)")
        print(f"{'import, python3 -m ... --from-uv':32} {command:7.3f} s   ({uv_warm / command:.1f}x faster than uv lock)")
        print(f"goal: import <= 1 s: {'met' if command <= 1 else 'NOT met'}")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0


def lock_cells(path: Path) -> list[str]:
    return sorted(json.loads(path.read_text())["cells"])


if __name__ == "__main__":
    sys.exit(main())
