#!/usr/bin/env python3
"""Benchmark: the lock tool with uv as its resolver, on real wheels, against `uv pip compile`.

    python3 benchmarks/lock_uv.py [--runs 3] [--old-tool DIR]

1. The cu130 cell of issue 32 (linux_x86_64, Python 3.11: torch 2.14.1 + torchvision 0.29.1 +
   numpy, transformers, pandas, scikit-learn, pytest): the machine's local indexes (pip's
   configuration, python/tests/machine_indexes.py), the one with torch 2.14.1 first, then PyPI.
   Timed, each the median of --runs, cold (an empty uv cache, the tool's hash cache off) and
   warm (uv's cache kept): `python3 -m rules_torch.lock`; `uv pip compile` of the same cell
   (same indexes in the same order, --index ... --default-index, the same --python-platform);
   with --old-tool, the pip-based tool of a checkout (`git archive 854f5b9 python | tar -x -C
   DIR`), run by this interpreter's pip. Versions compared package by package.
2. Bytes read while locking that cell cold: every read() of the lock tool and its children
   (/proc/self/io rchar of a wrapper after they exit: index pages, metadata, uv's cache, Python
   itself), against the size of the wheels the cell locks.
3. `--from-pylock` of a 2-variant, 2-platform (linux_x86_64, linux_aarch64) set: two
   uv-written universal pylock.toml files of real closures from PyPI (torch 2.14.1 +
   torchvision 0.29.1 and torch 2.13.0 + torchvision 0.28.0, each with the packages above),
   named pylock.cu130.toml and pylock.cu128.toml for the import (PyPI's builds carry no local
   label, so the names only stand for two variants), imported in-process and as a command.

Needs uv (tools/requirements_test.txt), the local indexes and PyPI. Not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
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

from machine_indexes import PYPI, machine_sources  # noqa: E402
from rules_torch import lock  # noqa: E402
from rules_torch.cells import Cell  # noqa: E402
from uv import find_uv_bin  # noqa: E402

UV = find_uv_bin()
WITH = ["numpy", "transformers", "pandas", "scikit-learn", "pytest"]
CELL = Cell("cu130", "linux_x86_64", "3.11")


def _indexes() -> list[str]:
    sources = machine_sources()
    first = sources.index_with("torch", "2.14.1")
    if first is None:
        raise SystemExit("no local index has torch 2.14.1 (pip config list; RULES_TORCH_TEST_INDEXES)")
    return [first, *[i for i in sources.indexes if i != first], PYPI]


def _tool_args(indexes: list[str], output: Path, cache: Path | None = None) -> list[str]:
    args = ["--torch", "2.14.1", "--torchvision", "0.29.1", *[a for w in WITH for a in ("--with", w)]]
    args += ["--variants", CELL.variant, "--platforms", CELL.platform, "--python", CELL.python]
    args += ["--index-url", indexes[0], *[a for i in indexes[1:] for a in ("--extra-index-url", i)]]
    caching = ["--cache-dir", str(cache)] if cache else ["--no-cache"]
    return [*args, "--output", str(output), *caching, "--quiet"]


def _timed(command: list[str], env: dict[str, str]) -> float:
    start = time.monotonic()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.monotonic() - start


def _versions_of_lock(path: Path) -> dict[str, str]:
    cells = json.loads(path.read_text())["cells"]
    return {w["name"]: w["version"] for w in cells[CELL.key]["wheels"]}


def _versions_of_pylock(path: Path) -> dict[str, str]:
    from rules_torch.pylock_io import read_pylock

    return {p.name: str(p.version) for p in read_pylock(path).packages}


def bench_cell(runs: int, old_tool: Path | None, work: Path) -> dict[str, object]:
    indexes = _indexes()
    requirements = work / "cell.in"
    requirements.write_text("\n".join(["torch==2.14.1", "torchvision==0.29.1", *WITH]) + "\n")
    uv_command = [UV, "pip", "compile", "--no-config", "--quiet", "--generate-hashes", "--format", "pylock.toml"]
    uv_command += [*CELL.uv_target_args()]
    uv_command += [a for i in indexes[:-1] for a in ("--index", i)] + ["--default-index", indexes[-1]]
    uv_command += ["-o", str(work / "pylock.uvcell.toml"), str(requirements)]
    tools = {
        "lock tool (uv)": (
            [sys.executable, "-m", "rules_torch.lock", *_tool_args(indexes, work / "new.json", Path("CACHE")), "--uv", UV],
            REPO / "python",
        ),
        "uv pip compile": (uv_command, None),
    }
    if old_tool:
        tools["lock tool (pip, 854f5b9)"] = (
            [sys.executable, "-m", "rules_torch.lock", *_tool_args(indexes, work / "old.json", Path("CACHE"))],
            old_tool / "python",
        )
    results: dict[str, object] = {}
    for name, (command, pythonpath) in tools.items():
        env = {k: v for k, v in os.environ.items() if not k.startswith("UV_")}
        if pythonpath:
            env["PYTHONPATH"] = str(pythonpath)
        cold, warm = [], []
        for run in range(runs):
            # Cold: empty caches (uv's, and the tool's --cache-dir); warm: the same caches again.
            caches = work / f"caches-{len(results)}-{run}"
            env["UV_CACHE_DIR"] = str(caches / "uv")
            run_command = [str(caches / "tool") if arg == "CACHE" else arg for arg in command]
            cold.append(_timed(run_command, env))
            warm.append(_timed(run_command, env))
        results[name] = {"cold_s": statistics.median(cold), "warm_s": statistics.median(warm)}
    new, theirs = _versions_of_lock(work / "new.json"), _versions_of_pylock(work / "pylock.uvcell.toml")
    same = sum(1 for name in theirs if new.get(name) == theirs[name])
    results["same versions (lock tool vs uv pip compile)"] = f"{same} of {len(theirs)} (lock tool: {len(new)} wheels)"
    if old_tool:
        old = _versions_of_lock(work / "old.json")
        results["same versions (old vs new lock tool)"] = f"{sum(1 for n in old if new.get(n) == old[n])} of {len(old)}"
    return results


def bench_bytes(work: Path) -> dict[str, object]:
    indexes = _indexes()
    output = work / "bytes.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("UV_")}
    env["UV_CACHE_DIR"] = str(work / "uv-cache-bytes")
    env["PYTHONPATH"] = str(REPO / "python")
    # The wrapper's rchar, after its child exited and was reaped, includes the child's and its children's.
    wrapper = (
        "import subprocess, sys\n"
        "subprocess.run(sys.argv[1:], check=True)\n"
        "print(next(l for l in open('/proc/self/io') if l.startswith('rchar')).split()[1])\n"
    )
    command = [sys.executable, "-c", wrapper, sys.executable, "-m", "rules_torch.lock"]
    command += [*_tool_args(indexes, output), "--uv", UV]
    read = int(subprocess.run(command, check=True, env=env, capture_output=True, text=True).stdout.split()[-1])
    wheels = json.loads(output.read_text())["cells"][CELL.key]["wheels"]
    local = [w for w in wheels if w["url"].startswith("file:")]
    size = sum(Path(w["url"][len("file://") :]).stat().st_size for w in local)
    return {
        "wheels locked": len(wheels),
        "of them local (file://)": len(local),
        "their size": f"{size / 1e9:.2f} GB",
        "bytes read (rchar, tool + uv, cold)": f"{read / 1e6:.1f} MB",
        "read / size": f"{100 * read / size:.2f} %",
    }


def bench_from_pylock(runs: int, work: Path) -> dict[str, object]:
    files = []
    for variant, pins in (("cu128", ["torch==2.13.0", "torchvision==0.28.0"]), ("cu130", ["torch==2.14.1", "torchvision==0.29.1"])):
        path = work / f"pylock.{variant}.toml"
        subprocess.run(
            [UV, "pip", "compile", "--no-config", "--quiet", "--universal", "--python-version", "3.11",
             "--generate-hashes", "--only-binary", ":all:", "--format", "pylock.toml",
             "--default-index", PYPI, "-o", str(path), "-"],
            input="\n".join([*pins, *WITH]) + "\n", text=True, check=True,
        )  # fmt: skip
        files += ["--from-pylock", str(path)]
    args = [*files, "--platforms", "linux_x86_64,linux_aarch64", "--python", "3.11"]
    args += ["--output", str(work / "imported.json"), "--quiet"]
    in_process, command = [], []
    for _ in range(runs):
        start = time.monotonic()
        with contextlib.redirect_stderr(io.StringIO()):
            assert lock.main(args) == 0
        in_process.append(time.monotonic() - start)
        env = {**os.environ, "PYTHONPATH": str(REPO / "python")}
        command.append(_timed([sys.executable, "-m", "rules_torch.lock", *args], env))
    cells = json.loads((work / "imported.json").read_text())["cells"]
    return {
        "cells": ", ".join(f"{k} ({len(c['wheels'])} wheels)" for k, c in sorted(cells.items())),
        "import, in-process": f"{statistics.median(in_process):.3f} s",
        "import, python3 -m rules_torch.lock --from-pylock": f"{statistics.median(command):.3f} s",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--old-tool", type=Path, help="a checkout of the pip-based lock tool (its python/ is used)")
    args = parser.parse_args(argv)
    uv_version = subprocess.run([UV, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    pip_version = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True, text=True, check=False).stdout.split()[:2]
    print(f"{uv_version}; {' '.join(pip_version)}; {os.cpu_count()} cores; median of {args.runs}")
    with tempfile.TemporaryDirectory(prefix="bench_lock_uv-") as tmp:
        work = Path(tmp)
        for title, results in (
            (f"1. the cu130 cell ({CELL.key}), real wheels", bench_cell(args.runs, args.old_tool, work)),
            ("2. bytes read locking the CUDA 13 closure (cold)", bench_bytes(work)),
            ("3. --from-pylock, 2 variants x 2 platforms", bench_from_pylock(args.runs, work)),
        ):
            print(f"\n{title}")
            for key, value in results.items():
                if isinstance(value, dict):
                    print(f"  {key:34} cold {value['cold_s']:.2f} s   warm {value['warm_s']:.2f} s")
                else:
                    print(f"  {key:34} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
