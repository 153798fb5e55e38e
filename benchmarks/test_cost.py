#!/usr/bin/env python3
"""Benchmark: what Bazel adds to running one torch test (issue "A torch test costs what its body
costs"), on the real torch 2.13.0+cpu lock (tests/locks/torch_cpu.lock.json).

    python3 benchmarks/test_cost.py [--rules-torch DIR] [--runs 5] [--cuda]

`--cuda` measures the torch 2.14.1 CUDA 13 closure instead (locked by the lock tool from the
configured indexes, as tests/integration/test_cuda_runtime.py does; ~35 GB of free disk).

`--rules-torch` points the workspace's local_path_override at another checkout (a worktree of an
older commit), to measure before and after in the same run. Prints:
(a) the first passing torch test in a fresh output base (the test must run), with the repository
    cache and a --disk_cache filled by an earlier output base: with the default download mode
    and with --remote_download_outputs=all; and with no disk cache (the tree installed again).
    Against `uv venv && uv pip install --compile-bytecode <the same wheels> pytest && pytest`
    with a warm uv cache: goal <= 1.5x;
(b) the steady-state overhead of one torch test: the test action's wall time minus its test
    process's (Bazel's profile), median of --runs, with and without a disk cache: goal <= 0.5 s;
(c) `bazel test` of a cached torch test right after a test that imported a test suite shipped
    inside the cell (Python writes pycs next to modules it imports): goal <= 1 s, no action;
(d) what the test action stages: runfiles entries, and the files and bytes behind them.

Not a test: run it by hand on an otherwise idle machine (benchmarks/report.py runs it).
"""

from __future__ import annotations

import argparse
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
# What pytest.ini puts on the path for the tests whose helpers these benchmarks reuse.
sys.path[:0] = [str(REPO / d) for d in ("python", "tests/support", "tests/integration")]

import harness  # noqa: E402

BAZEL = REPO / "tools" / "bazel"
CPU_LOCK = REPO / "tests" / "locks" / "torch_cpu.lock.json"

MODULE = """\
module(name = "bench_test_cost")

bazel_dep(name = "rules_python", version = "0.22.1")
bazel_dep(name = "rules_torch", version = "0.1.0")
local_path_override(module_name = "rules_torch", path = {repo!r})

torch = use_extension("@rules_torch//torch:extensions.bzl", "torch")
torch.wheels(hub = "torch", lock = "//:torch.lock.json", default_variant = {variant!r})
use_repo(torch, "torch")
"""

BUILD = """\
load("@rules_torch//torch:defs.bzl", "torch_py_test")

torch_py_test(name = "model_test", srcs = ["model_test.py"], deps = ["@torch//:torch"])

torch_py_test(name = "suite_test", srcs = ["suite_test.py"], deps = ["@torch//:torch"])
"""

MODEL_TEST = """\
import torch


def test_fit():
    torch.manual_seed(0)
    x = torch.randn(256, 8)
    w = torch.randn(8, 1)
    y = x @ w
    model = torch.nn.Linear(8, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(200):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
    assert loss.item() < 1e-3, loss.item()


if __name__ == "__main__":
    test_fit()
"""

# Imports a test suite that ships inside the cell (sympy's), as a test runner collecting it would:
# Python writes the pycs of what it imports next to the sources, unless told not to.
SUITE_TEST = """\
import importlib

import torch

module = importlib.import_module("sympy.core.tests.test_basic")
ran = 0
for name in sorted(dir(module)):
    if name.startswith("test_") and callable(getattr(module, name)):
        getattr(module, name)()
        ran += 1
assert ran > 10, ran
print("ran", ran, "tests of", module.__name__, "with torch", torch.__version__)
"""


def run(command: list[str], cwd: Path, **kwargs) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False, **kwargs)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"benchmark: {' '.join(command)} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return elapsed, result


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="rules_torch_test_cost_"))
        self.ws = self.tmp / "ws"
        self.ws.mkdir()
        self.lock, self.cell = self.locked(args.cuda)
        variant = self.cell.split("_")[0]
        (self.ws / "MODULE.bazel").write_text(MODULE.format(repo=str(Path(args.rules_torch).resolve()), variant=variant))
        (self.ws / "BUILD.bazel").write_text(BUILD)
        (self.ws / "torch.lock.json").write_text(self.lock.read_text())
        (self.ws / "model_test.py").write_text(MODEL_TEST)
        (self.ws / "suite_test.py").write_text(SUITE_TEST)
        self.disk_cache = self.tmp / "disk_cache"
        self.output_bases: list[Path] = []
        self.rows: list[tuple[str, str, str]] = []

    @staticmethod
    def locked(cuda: bool) -> tuple[Path, str]:
        """The lock and cell to measure: the CPU lock, or the CUDA 13 closure's (locked once)."""
        if not cuda:
            return CPU_LOCK, "cpu_linux_x86_64_cp311"
        index = harness.require_real_cuda_torch()
        ws = harness.Workspace("test_cost_cuda")
        return harness.lock_real_torch(ws, "2.14.1", "cu130", index), "cu130_linux_x86_64_cp311"

    def row(self, what: str, value: str, note: str = "") -> None:
        self.rows.append((what, value, note))
        print(f"  {what}: {value}  {note}", flush=True)

    def bazel(self, output_base: Path, *args: str) -> tuple[float, subprocess.CompletedProcess]:
        if output_base not in self.output_bases:
            self.output_bases.append(output_base)
        return run([str(BAZEL), f"--output_base={output_base}", *args], self.ws, timeout=1800)

    def drop(self, output_base: Path) -> None:
        subprocess.run([str(BAZEL), f"--output_base={output_base}", "shutdown"], cwd=self.ws, capture_output=True, check=False)
        shutil.rmtree(output_base, ignore_errors=True)
        self.output_bases.remove(output_base)

    def close(self) -> None:
        for base in list(self.output_bases):
            self.drop(base)
        shutil.rmtree(self.tmp, ignore_errors=True)

    # (a) ----------------------------------------------------------------------------------------

    def first_test(self) -> None:
        warm = self.tmp / "ob_warm"
        print("filling the repository cache and the disk cache ...", flush=True)
        self.bazel(warm, "test", f"--disk_cache={self.disk_cache}", "//:model_test")
        self.repository_cache = Path(self.bazel(warm, "info", "repository_cache")[1].stdout.strip())
        self.drop(warm)
        uv = self.uv()
        self.row("uv venv + uv pip install --compile-bytecode + pytest (warm uv cache)", f"{uv:.1f} s")
        cases = [
            ("repository cache + disk cache, default download mode", [f"--disk_cache={self.disk_cache}"]),
            ("repository cache + disk cache, --remote_download_outputs=all", [f"--disk_cache={self.disk_cache}", "--remote_download_outputs=all"]),
            ("repository cache only (the tree installed again)", []),
        ]
        for label, flags in cases:
            base = self.tmp / "ob_fresh"
            wall, _ = self.bazel(base, "test", "--nocache_test_results", *flags, "//:model_test")
            self.row(f"first passing test, fresh output base, {label}", f"{wall:.1f} s", f"{wall / uv:.2f}x uv (goal <= 1.5x)")
            self.drop(base)

    def uv(self) -> float:
        """uv on the same wheels (hard links of Bazel's repository cache) and pytest, cache warmed once."""
        wheels = self.tmp / "wheels"
        wheels.mkdir()
        for wheel in json.loads(self.lock.read_text())["cells"][self.cell]["wheels"]:
            os.link(self.repository_cache / "content_addressable" / "sha256" / wheel["sha256"] / "file", wheels / wheel["filename"])
        run([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "-d", str(wheels), "pytest"], self.tmp)
        uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
        env = dict(os.environ, UV_CACHE_DIR=str(self.tmp / "uv_cache"), UV_NO_PROGRESS="1")
        times = []
        for _ in range(2):  # the first run fills uv's cache
            venv = self.tmp / "venv"
            shutil.rmtree(venv, ignore_errors=True)
            start = time.perf_counter()
            run([uv, "venv", "-q", "--python", "3.11", str(venv)], self.tmp, env=env)
            run([uv, "pip", "install", "-q", "--compile-bytecode", "--offline", "--no-index", "--find-links", str(wheels), "--python", str(venv / "bin" / "python"), *(str(w) for w in sorted(wheels.iterdir()))], self.tmp, env=env)
            run([str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "model_test.py"], self.ws, env=env)
            times.append(time.perf_counter() - start)
        return times[-1]

    # (b) ----------------------------------------------------------------------------------------

    def overhead(self, base: Path, flags: list[str]) -> list[float]:
        values = []
        profile = self.tmp / "profile.json"
        for _ in range(self.args.runs):
            self.bazel(base, "test", "--nocache_test_results", f"--profile={profile}", *flags, "//:model_test")
            events = json.loads(profile.read_text())["traceEvents"]
            action = max(e["dur"] for e in events if e.get("name") == "Testing //:model_test" and e.get("cat") == "action processing")
            process = max(e["dur"] for e in events if e.get("name") == "subprocess.run")
            values.append((action - process) / 1e6)
        return values

    def steady(self) -> None:
        for label, flags in [("no disk cache", []), ("with a disk cache", [f"--disk_cache={self.disk_cache}"])]:
            base = self.tmp / "ob_steady"
            self.bazel(base, "test", *flags, "//:model_test")
            values = self.overhead(base, flags)
            self.row(
                f"steady state: test action minus test process, {label}",
                f"{statistics.median(values):.3f} s",
                f"runs {', '.join(f'{v:.2f}' for v in values)} (goal <= 0.5 s)",
            )
            if not flags:
                self.staged(base)
                self.retest(base)
            self.drop(base)

    # (c) ----------------------------------------------------------------------------------------

    def retest(self, base: Path) -> None:
        self.bazel(base, "test", "--nocache_test_results", "//:suite_test")
        wall, result = self.bazel(base, "test", "//:suite_test")
        processes = re.search(r"INFO: (\d+) process(?:es)?: ([^\n]*)", result.stderr)
        executed = processes.group(0).removeprefix("INFO: ") if processes else "0 processes"
        self.row("cached `bazel test` right after a test that imported a suite inside the cell", f"{wall:.2f} s", f"{executed} (goal <= 1 s, no action)")

    # (d) ----------------------------------------------------------------------------------------

    def staged(self, base: Path) -> None:
        bin_dir = Path(self.bazel(base, "info", "bazel-bin")[1].stdout.strip())
        manifest = bin_dir / "model_test.runfiles_manifest"
        entries, files, size = 0, 0, 0
        for line in manifest.read_text().splitlines():
            entries += 1
            target = line.partition(" ")[2]
            if os.path.isdir(target):
                for directory, _, names in os.walk(target):
                    files += len(names)
                    size += sum(os.lstat(os.path.join(directory, n)).st_size for n in names)
            elif target:
                files += 1
                size += os.path.getsize(target)
        self.row("what a torch test stages (runfiles entries / files / bytes)", f"{entries} / {files} / {size / 1e6:.0f} MB")

    def table(self) -> None:
        print()
        print(f"cell {self.cell}, {os.cpu_count()} cores, rules_torch at {self.args.rules_torch}, {time.strftime('%Y-%m-%d %H:%M')}")
        widths = [max(len(r[i]) for r in self.rows) for i in range(3)]
        for r in self.rows:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules-torch", default=str(REPO), help="the rules_torch checkout to measure (default: this one)")
    parser.add_argument("--runs", type=int, default=5, help="runs of the steady-state measurement")
    parser.add_argument("--cuda", action="store_true", help="the torch 2.14.1 CUDA 13 closure instead of the CPU cell")
    args = parser.parse_args()
    bench = Bench(args)
    try:
        bench.first_test()
        bench.steady()
    finally:
        bench.close()
    bench.table()
    return 0


if __name__ == "__main__":
    sys.exit(main())
