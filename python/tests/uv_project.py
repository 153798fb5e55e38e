#!/usr/bin/env python3
"""A uv project set up as PyTorch recommends (one extra per torch index, the extras in conflict),
locked by a real uv against this machine's local indexes (machine_indexes.py):

- extra ``cpu``: torch 2.13.0+cpu from a find-links directory (a uv ``flat`` index);
- extra ``cu130``: torch 2.14.1 (PyPI's CUDA 13 build) and torchvision 0.29.1 from a local index;
- everything else from PyPI.

The tests of the uv.lock importer, the Bazel integration test and benchmarks/uv_import.py share it::

    python3 python/tests/uv_project.py DIR    # writes DIR/pyproject.toml and DIR/uv.lock
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from machine_indexes import MachineSources, machine_sources

PROJECT = "demo"


def uv_binary() -> str | None:
    """``RULES_TORCH_TEST_UV``, else the uv installed next to this Python (tools/requirements_test.txt), else PATH's."""
    if os.environ.get("RULES_TORCH_TEST_UV"):
        return os.environ["RULES_TORCH_TEST_UV"]
    beside = Path(sys.executable).parent / "uv"
    return str(beside) if beside.is_file() else shutil.which("uv")


def pyproject_text(sources: MachineSources) -> str | None:
    """The project's pyproject.toml, or None when the local indexes lack the two torch builds."""
    links = sources.find_links_with("torch-2.13.0+cpu-cp311")
    index = sources.index_with("torch", "2.14.1")
    if not links or index is None:
        return None
    flat = links[0][len("file://") :] if links[0].startswith("file://") else links[0]
    vision = ', "torchvision==0.29.1"' if sources.index_with("torchvision", "0.29.1") == index else ""
    sources_vision = '\ntorchvision = [{ index = "pytorch-cu130", extra = "cu130" }]' if vision else ""
    return f"""\
[project]
name = "{PROJECT}"
version = "0.1.0"
requires-python = "==3.11.*"
dependencies = ["numpy"]

[project.optional-dependencies]
cpu = ["torch==2.13.0"]
cu130 = ["torch==2.14.1"{vision}]

[tool.uv]
conflicts = [[{{ extra = "cpu" }}, {{ extra = "cu130" }}]]
environments = ["sys_platform == 'linux' and platform_machine == 'x86_64'"]

[tool.uv.sources]
torch = [
  {{ index = "pytorch-cpu", extra = "cpu" }},
  {{ index = "pytorch-cu130", extra = "cu130" }},
]{sources_vision}

[[tool.uv.index]]
name = "pytorch-cpu"
url = "{Path(flat).resolve()}"
format = "flat"
explicit = true

[[tool.uv.index]]
name = "pytorch-cu130"
url = "{index}"
explicit = true
"""


def make_project(directory: Path, sources: MachineSources | None = None) -> str | None:
    """Writes pyproject.toml and runs ``uv lock`` in ``directory``; returns why not, or None when done."""
    uv = uv_binary()
    if uv is None:
        return "no uv (pip install -r tools/requirements_test.txt, or set RULES_TORCH_TEST_UV)"
    text = pyproject_text(sources or machine_sources())
    if text is None:
        return "the local indexes lack torch-2.13.0+cpu (find-links) or torch 2.14.1 (set RULES_TORCH_TEST_INDEXES)"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pyproject.toml").write_text(text)
    uv_lock(directory)
    return None


def uv_lock(directory: Path) -> float:
    """Runs ``uv lock`` in ``directory``; returns its wall time in seconds."""
    started = time.perf_counter()
    result = subprocess.run(
        [uv_binary() or "uv", "lock", "--no-progress"],
        cwd=directory,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"uv lock failed in {directory}:\n{result.stderr}")
    return elapsed


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    reason = make_project(Path(argv[0]))
    if reason:
        print(f"error: {reason}", file=sys.stderr)
        return 1
    print(Path(argv[0]) / "uv.lock")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
