#!/usr/bin/env python3
"""Benchmark: the lock tool on 4 variants x 3 platforms x 1 Python, against `uv pip compile`.

Builds the fake indexes of tests/support/fake_wheels.py (every variant on every platform),
serves them over HTTP on 127.0.0.1, times one cold `python3 -m rules_torch.lock` run for all
cells (uv resolves each; an empty uv cache), then times `uv pip compile` for the same cells
(same parallelism, a cold cache, the same first-index order: --index ... --default-index, the
same --python-platform) and compares both the time and the resolved versions.

    python3 tools/bench_lock.py [--jobs N] [--uv PATH]

uv comes from PyPI (`pip install uv`). The goal: the lock tool within 1.3x of `uv pip compile`,
the same versions in every cell. benchmarks/lock_uv.py does the same on real wheels.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "support"))
sys.path.insert(0, str(REPO / "python"))

import fake_wheels  # noqa: E402
from rules_torch.cells import Cell  # noqa: E402

VARIANTS = ("cpu", "cu118", "cu121", "rocm6.2")
PLATFORMS = ("linux_x86_64", "linux_aarch64", "macos_arm64")
PYTHON = "3.11"
GOAL_RATIO = 1.3


def time_lock_tool(urls: fake_wheels.IndexUrls, out: Path, jobs: int, uv: str) -> tuple[float, dict[str, dict[str, str]]]:
    command = [
        sys.executable, "-m", "rules_torch.lock",
        "--torch", "2.5.1", "--torchvision", "0.20.1",
        "--variants", ",".join(VARIANTS), "--platforms", ",".join(PLATFORMS), "--python", PYTHON,
        "--index-url", urls.pytorch, "--extra-index-url", urls.pypi,
        "--output", str(out / "torch.lock.json"), "--no-cache", "--jobs", str(jobs), "--quiet", "--uv", uv,
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO / "python"), "UV_CACHE_DIR": str(out / "tool-uv-cache")}
    start = time.monotonic()
    subprocess.run(command, check=True, env=env)
    elapsed = time.monotonic() - start
    cells = json.loads((out / "torch.lock.json").read_text())["cells"]
    return elapsed, {key: {w["name"]: w["version"] for w in cell["wheels"]} for key, cell in cells.items()}


def _uv_cell(uv: str, urls: fake_wheels.IndexUrls, work: Path, variant: str, platform: str) -> dict[str, str]:
    key = f"{variant}_{platform}_cp{PYTHON.replace('.', '')}"
    requirements = work / f"{key}.in"
    requirements.write_text("torch==2.5.1\ntorchvision==0.20.1\n")
    output = work / f"{key}.txt"
    # The variant's index first, like the lock tool, under uv's default first-index strategy.
    cell = Cell(variant, platform, PYTHON)
    command = [
        uv, "pip", "compile", str(requirements), "--output-file", str(output), "--quiet", "--no-header",
        *cell.uv_target_args(), "--generate-hashes",
        "--index", urls.pytorch.format(variant=variant), "--default-index", urls.pypi,
        "--cache-dir", str(work / "uv-cache"), "--no-config",
    ]  # fmt: skip
    subprocess.run(command, check=True, env={**os.environ, **cell.uv_environment()})
    pins = re.findall(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==(\S+)", output.read_text(), re.MULTILINE)
    return {name.lower().replace("_", "-"): version for name, version in pins}


def time_uv(uv: str, urls: fake_wheels.IndexUrls, work: Path, jobs: int) -> tuple[float, dict[str, dict[str, str]]]:
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {f"{v}_{p}_cp{PYTHON.replace('.', '')}": pool.submit(_uv_cell, uv, urls, work, v, p) for v in VARIANTS for p in PLATFORMS}
        results = {key: future.result() for key, future in futures.items()}
    return time.monotonic() - start, results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=min(4, 2 * (os.cpu_count() or 1)), help="parallel cells (default: %(default)s)")
    parser.add_argument("--uv", default=shutil.which("uv"), help="uv binary (default: the one on PATH)")
    parser.add_argument("--runs", type=int, default=1, help="runs of each, the median reported (default: %(default)s)")
    args = parser.parse_args(argv)

    if not args.uv:
        print("uv: not found (pip install uv): the lock tool resolves with it")
        return 1
    with tempfile.TemporaryDirectory(prefix="bench_lock-") as tmp:
        work = Path(tmp)
        indexes = fake_wheels.build_indexes(work / "indexes", full_matrix=True)
        with fake_wheels.IndexServer(indexes.root) as server:
            urls = indexes.urls(server.url)
            cells = len(VARIANTS) * len(PLATFORMS)
            ours_runs, theirs_runs = [], []
            for run in range(args.runs):
                (work / str(run)).mkdir()
                ours, locked = time_lock_tool(urls, work / str(run), args.jobs, args.uv)
                theirs, compiled = time_uv(args.uv, urls, work / str(run), args.jobs)
                ours_runs.append(ours)
                theirs_runs.append(theirs)
            ours, theirs = statistics.median(ours_runs), statistics.median(theirs_runs)
            uv_version = subprocess.run([args.uv, "--version"], capture_output=True, text=True, check=True).stdout
            print(f"lock tool: {cells} cells in {ours:.2f} s ({ours / cells:.2f} s/cell, {args.jobs} jobs)")
            print(f"{uv_version.strip()} pip compile: {cells} cells in {theirs:.2f} s ({theirs / cells:.2f} s/cell)")
            ratio = ours / theirs
            print(f"ratio lock tool / uv: {ratio:.2f}x ({'ok' if ratio <= GOAL_RATIO else 'over'} the {GOAL_RATIO}x goal)")
            differing = sorted(key for key in locked if locked[key] != compiled.get(key))
            for key in differing:
                print(f"  {key}: lock tool {locked[key]}\n  {' ' * len(key)}  uv        {compiled.get(key)}")
            print(f"same versions in {cells - len(differing)} of {cells} cells")
    return 0 if ratio <= GOAL_RATIO and not differing else 1


if __name__ == "__main__":
    sys.exit(main())
