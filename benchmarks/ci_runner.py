#!/usr/bin/env python3
"""Benchmark: N torch tests on a fresh CI runner that restored its caches (issue "A torch test reads
a tree it never declared"), against uv with its cache restored, in one run.

    python3 benchmarks/ci_runner.py [--tests 1,3,16] [--before DIR] [--cuda]

Each Bazel case is `bazel test --build_tests_only --nocache_test_results //...` of N torch_py_tests
on one cell in a NEW output base (what a fresh runner has), with the repository cache and a
--disk_cache filled by an earlier output base (what a CI job restores):
- `ready` (the default): a test stages the tree's ticket; Bazel copies the tree out of the disk
  cache once, before the tests;
- `tree cache`: `--@rules_torch//torch:tree_cache=DIR` with DIR restored too (filled by an earlier
  run); the tests read the tree there in place, each verifying it first;
- `tree cache + wheels hard-linked`: the same, the spoke's wheels hard links of the repository
  cache (`--experimental_repository_cache_hardlinks`) instead of copies (measured, not in the
  README's ci config: no gain beyond the noise);
- `before` (with --before, a checkout of an older rules_torch): the same command on it.
For each: the wall time, the sum of the test actions' times, and how many tests installed the cell
(their logs). Against: `uv venv && uv pip install --compile-bytecode <the same wheels> pytest &&
pytest <the N test files>` with uv's cache warm. Also: what verifying a tree-cache tree costs.

Each case runs --runs times (default 3), interleaved with uv's runs, after a `sync`; the table
gives each median and the spread of the runs.

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
sys.path[:0] = [str(REPO / d) for d in ("python", "tests/support", "tests/integration")]

import test_cost  # noqa: E402

BAZEL = REPO / "tools" / "bazel"
INSTALLING = "is not on this disk; installing its wheels"

# test_cost.py's workspace, lock choice and command runner (same machine, same cells).
MODULE = test_cost.MODULE.replace("bench_test_cost", "bench_ci_runner")
run = test_cost.run

TEST = """\
import torch


def test_fit():
    torch.manual_seed(0)
    x = torch.randn(256, 8)
    w = torch.randn(8, 1)
    model = torch.nn.Linear(8, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(200):
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), x @ w).backward()
        opt.step()
    assert torch.nn.functional.mse_loss(model(x), x @ w).item() < 1e-3


if __name__ == "__main__":
    test_fit()
    print("ok")
"""


def _spread(times: list[float]) -> str:
    """The runs behind a median, for the reader to see the noise."""
    return f"({len(times)} runs: {min(times):.1f}-{max(times):.1f} s)" if len(times) > 1 else ""


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="rules_torch_ci_runner_", dir=args.tmp))
        self.lock, self.cell = test_cost.Bench.locked(args.cuda)
        self.counts = [int(n) for n in args.tests.split(",")]
        self.disk_cache = self.tmp / "disk_cache"
        self.tree_cache = self.tmp / "tree_cache"
        self.rows: list[tuple[str, ...]] = []

    def workspace(self, repo: Path, tests: int) -> Path:
        ws = self.tmp / f"ws_{repo.name}_{tests}"
        if ws.exists():
            return ws
        ws.mkdir()
        (ws / "MODULE.bazel").write_text(MODULE.format(repo=str(repo.resolve()), variant=self.cell.split("_")[0]))
        (ws / "torch.lock.json").write_text(self.lock.read_text())
        build = ['load("@rules_torch//torch:defs.bzl", "torch_py_test")\n']
        for i in range(tests):
            (ws / f"t{i}_test.py").write_text(TEST)
            build.append(f'\ntorch_py_test(name = "t{i}_test", srcs = ["t{i}_test.py"], deps = ["@torch//:torch"])\n')
        (ws / "BUILD.bazel").write_text("".join(build))
        return ws

    def bazel(self, ws: Path, base: Path, *args: str) -> tuple[float, subprocess.CompletedProcess]:
        return run([str(BAZEL), f"--output_base={base}", *args], ws, timeout=3600)

    def drop(self, ws: Path, base: Path) -> None:
        subprocess.run([str(BAZEL), f"--output_base={base}", "shutdown"], cwd=ws, capture_output=True, check=False)
        shutil.rmtree(base, ignore_errors=True)

    def fresh_runner(self, repo: Path, tests: int, flags: list[str]) -> tuple[float, float, int]:
        """(wall, sum of the test actions, tests that installed the cell) in a new output base."""
        ws = self.workspace(repo, tests)
        base = self.tmp / "ob"
        os.sync()
        try:
            wall, result = self.bazel(ws, base, "test", "--build_tests_only", "--nocache_test_results", f"--disk_cache={self.disk_cache}", *flags, "//...")
            logs = base / "execroot" / "_main" / "bazel-out" / "k8-fastbuild" / "testlogs"
            texts = [(logs / f"t{i}_test" / "test.log").read_text() for i in range(tests)]
            installs = sum(INSTALLING in t for t in texts)
            body = sum(float(t) for t in re.findall(r"PASSED in ([0-9.]+)s", result.stdout + result.stderr))
            return wall, body, installs
        finally:
            self.drop(ws, base)

    def fill(self, repo: Path) -> None:
        """The caches a CI job restores: repository cache, disk cache, tree cache."""
        ws = self.workspace(repo, 1)
        base = self.tmp / "ob_fill"
        self.bazel(ws, base, "test", f"--disk_cache={self.disk_cache}", "//...")
        self.bazel(ws, base, "test", "--nocache_test_results", f"--disk_cache={self.disk_cache}", f"--@rules_torch//torch:tree_cache={self.tree_cache}", "//...")
        self.repository_cache = Path(self.bazel(ws, base, "info", "repository_cache")[1].stdout.strip())
        self.drop(ws, base)

    def uv(self, tests: int) -> float:
        """uv on the same wheels (hard links of Bazel's repository cache) and pytest, its cache warm."""
        wheels = self.tmp / "wheels"
        if not wheels.exists():
            wheels.mkdir()
            for wheel in json.loads(self.lock.read_text())["cells"][self.cell]["wheels"]:
                os.link(self.repository_cache / "content_addressable" / "sha256" / wheel["sha256"] / "file", wheels / wheel["filename"])
            run([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "-d", str(wheels), "pytest"], self.tmp)
        ws = self.workspace(REPO, tests)
        uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
        env = dict(os.environ, UV_CACHE_DIR=str(self.tmp / "uv_cache"), UV_NO_PROGRESS="1")
        venv = self.tmp / "venv"
        shutil.rmtree(venv, ignore_errors=True)
        os.sync()
        start = time.perf_counter()
        run([uv, "venv", "-q", "--python", "3.11", str(venv)], self.tmp, env=env)
        run([uv, "pip", "install", "-q", "--compile-bytecode", "--offline", "--no-index", "--find-links", str(wheels), "--python", str(venv / "bin" / "python"), *(str(w) for w in sorted(wheels.iterdir()))], self.tmp, env=env)
        run([str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", *(f"t{i}_test.py" for i in range(tests))], ws, env=env)
        return time.perf_counter() - start

    def verify_cost(self) -> float:
        (tree,) = [p for p in self.tree_cache.iterdir() if p.is_dir()]
        wheels = [str(self.tmp / "wheels" / w["filename"]) for w in json.loads(self.lock.read_text())["cells"][self.cell]["wheels"]]
        extractor = REPO / "torch" / "private" / "tools" / "extract_wheels.py"
        python = f"{sys.version_info[0]}.{sys.version_info[1]}"
        best = min(
            run([sys.executable, "-S", "-s", str(extractor), "--verify", "--dest", str(tree / "site-packages"), "--data-dir", str(tree / "data"), "--compile", python, *wheels], self.tmp)[0]
            for _ in range(3)
        )
        files = sum(len(names) for _, _, names in os.walk(tree))
        self.rows.append(("verifying a tree-cache tree (extract_wheels.py --verify, best of 3)", f"{best:.2f} s", f"{files} files", "", ""))
        return best

    def measure(self) -> None:
        repos = [("before", Path(self.args.before))] if self.args.before else []
        self.fill(REPO)
        self.uv(1)  # fills uv's cache: every timed uv run below has it warm, as a CI job restores it
        tree_cache = [f"--@rules_torch//torch:tree_cache={self.tree_cache}"]
        cases = [(name, repo, []) for name, repo in repos]
        cases += [
            ("ready (default)", REPO, []),
            ("tree cache restored", REPO, tree_cache),
            ("tree cache + wheels hard-linked", REPO, [*tree_cache, "--experimental_repository_cache_hardlinks"]),
        ]
        for tests in self.counts:
            # Runs interleaved (uv, then each case, again and again) and the median of each kept:
            # on this machine one run can be 1.5x another (the disk's write-back of the last case).
            uv_times: list[float] = []
            results: dict[str, list[tuple[float, float, int]]] = {name: [] for name, _, _ in cases}
            for _ in range(self.args.runs):
                uv_times.append(self.uv(tests))
                for name, repo, flags in cases:
                    results[name].append(self.fresh_runner(repo, tests, flags))
            uv = statistics.median(uv_times)
            self.rows.append((f"N = {tests}: uv venv + install --compile-bytecode + pytest (warm uv cache)", f"{uv:.1f} s", _spread(uv_times), "", ""))
            for name, _, _ in cases:
                walls = [wall for wall, _, _ in results[name]]
                wall = statistics.median(walls)
                body = statistics.median(b for _, b, _ in results[name])
                installs = max(i for _, _, i in results[name])
                self.rows.append((
                    f"N = {tests}: bazel test --build_tests_only, fresh output base, caches restored: {name}",
                    f"{wall:.1f} s",
                    f"{wall / uv:.2f}x uv {_spread(walls)}",
                    f"tests' bodies {body:.1f} s",
                    f"{installs} of {tests} tests installed the cell",
                ))  # fmt: skip
                print("  ", self.rows[-1], flush=True)
        self.verify_cost()

    def table(self) -> None:
        print()
        print(f"cell {self.cell}, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M')}; goal: first test <= 1.2x uv, no installs")
        widths = [max(len(r[i]) for r in self.rows) for i in range(5)]
        for r in self.rows:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", default="1,3,16", help="numbers of torch tests to run, comma-separated")
    parser.add_argument("--before", help="another rules_torch checkout (an older commit) to measure the same way")
    parser.add_argument("--cuda", action="store_true", help="the torch 2.14.1 CUDA 13 closure instead of the CPU cell")
    parser.add_argument("--tmp", help="where to put the output bases and caches (default: the system's)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each case, interleaved; the median is reported (default: %(default)s)")
    args = parser.parse_args()
    bench = Bench(args)
    try:
        bench.measure()
    finally:
        shutil.rmtree(bench.tmp, ignore_errors=True)
    bench.table()
    return 0


if __name__ == "__main__":
    sys.exit(main())
