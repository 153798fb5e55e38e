#!/usr/bin/env python3
"""Benchmark: what a torch target costs once its cell exists (cell trees, issue "Scale").

    python3 benchmarks/scale.py [--targets 16] [--tests 32] [--runs 3]

In a workspace on the real torch 2.13.0+cpu lock (tests/locks/torch_cpu.lock.json,
tests/integration/.workspaces/scale), prints:
(a) runfiles entries of a torch_py_test (lines of its runfiles manifest), against the number of
    files in the cell's tree;
(b) building N new torch_py_test targets (the cell's tree already built) against N new py_test
    targets without dependencies, in the same Bazel server, median of --runs rounds (each round
    adds new targets, so nothing is cached): goal <= 1.5x;
(c) `bazel test --jobs=2` of M torch tests (each imports torch and runs a matmul) against
    running the same M files with pytest in a venv of the same wheels.

Not a test: run it by hand on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
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

LOCK = REPO / "tests" / "locks" / "torch_cpu.lock.json"
CELL = "cpu_linux_x86_64_cp311"
TEST = """\
import torch


def test_matmul():
    a = torch.ones(64, 64)
    assert float((a @ a).sum()) == 64.0 ** 3


if __name__ == "__main__":
    test_matmul()
"""


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"benchmark: {' '.join(command)} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return time.perf_counter() - start


class Scale:
    def __init__(self, args):
        self.args = args
        self.ws = harness.Workspace("scale")
        self.ws.write("torch.lock.json", LOCK.read_text())
        self.ws.write_module('torch.wheels(hub = "torch", lock = "//:torch.lock.json")\nuse_repo(torch, "torch")\n')
        self.ws.write("t.py", TEST)
        self.rows: list[tuple[str, str, str]] = []
        self.bazel = [str(harness.BAZEL)]

    def row(self, what: str, value: str, ratio: str = "") -> None:
        self.rows.append((what, value, ratio))
        print(f"  {what}: {value}  {ratio}", flush=True)

    def write_build(self, rounds: int, tests: int) -> None:
        lines = ['load("@rules_python//python:defs.bzl", "py_test")', 'load("@rules_torch//torch:defs.bzl", "torch_py_test")', ""]
        lines.append('torch_py_test(name = "first", srcs = ["t.py"], main = "t.py", deps = ["@torch//:torch"])')
        for r in range(rounds):
            for i in range(self.args.targets):
                lines.append(f'torch_py_test(name = "torch_{r}_{i}", srcs = ["t.py"], main = "t.py", deps = ["@torch//:torch"])')
                lines.append(f'py_test(name = "plain_{r}_{i}", srcs = ["plain.py"], main = "plain.py")')
        for i in range(tests):
            lines.append(f'torch_py_test(name = "suite_{i}", srcs = ["suite/test_{i}.py"], deps = ["@torch//:torch"])')
            self.ws.write(f"suite/test_{i}.py", TEST)
        self.ws.write("plain.py", "print('ok')\n")
        self.ws.write("BUILD.bazel", "\n".join(lines) + "\n")

    def run(self) -> None:
        rounds, tests = self.args.runs, self.args.tests
        self.write_build(rounds, tests)
        print("building the cell's tree (first torch test) ...", flush=True)
        first = timed([*self.bazel, "build", "//:first"], self.ws.root)
        self.row("first torch test: fetch + install + build", f"{first:.1f} s")

        manifest = self.ws.root / "bazel-bin" / "first.runfiles_manifest"
        entries = sum(1 for _ in manifest.open())
        tree = self.ws.tree_dirs(CELL)[0]
        files = sum(len(names) for _, names in ((d, f) for d, _, f in os.walk(tree)))
        self.row("runfiles entries of a torch_py_test (CPU cell)", f"{entries}", f"tree of {files} files; goal <= 100")

        torch_times, plain_times = [], []
        for r in range(rounds):
            torch_targets = [f"//:torch_{r}_{i}" for i in range(self.args.targets)]
            plain_targets = [f"//:plain_{r}_{i}" for i in range(self.args.targets)]
            torch_times.append(timed([*self.bazel, "build", *torch_targets], self.ws.root))
            plain_times.append(timed([*self.bazel, "build", *plain_targets], self.ws.root))
        t, p = statistics.median(torch_times), statistics.median(plain_times)
        self.row(
            f"build {self.args.targets} new torch_py_tests (cell built) vs {self.args.targets} py_tests without deps",
            f"{t:.2f} s vs {p:.2f} s (runs: {', '.join(f'{x:.1f}' for x in torch_times)} / {', '.join(f'{x:.1f}' for x in plain_times)})",
            f"{t / p:.2f}x (goal <= 1.5x)",
        )

        suite = [f"//:suite_{i}" for i in range(tests)]
        timed([*self.bazel, "build", *suite], self.ws.root)
        bazel_test = timed([*self.bazel, "test", "--jobs=2", "--nocache_test_results", *suite], self.ws.root)
        venv = self.venv()
        pytest = timed([str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "suite"], self.ws.root)
        self.row(
            f"bazel test --jobs=2 of {tests} torch tests (built) vs pytest of the same files in a venv",
            f"{bazel_test:.1f} s vs {pytest:.1f} s",
            f"{bazel_test / pytest:.2f}x",
        )

    def venv(self) -> Path:
        """A venv with the lock's wheels (from Bazel's repository cache) and pytest."""
        path = Path(tempfile.mkdtemp(prefix="rules_torch_scale_")) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
        cache = Path(self.ws.bazel("info", "repository_cache").stdout.strip().splitlines()[-1])
        wheels_dir = path.parent / "wheels"
        wheels_dir.mkdir()
        for wheel in json.loads(LOCK.read_text())["cells"][CELL]["wheels"]:
            os.link(cache / "content_addressable" / "sha256" / wheel["sha256"] / "file", wheels_dir / wheel["filename"])
        pip = [str(path / "bin" / "pip"), "install", "-q", "--disable-pip-version-check"]
        subprocess.run([*pip, "--no-deps", "--no-index", *map(str, sorted(wheels_dir.iterdir()))], check=True)
        subprocess.run([*pip, "pytest"], check=True)
        return path

    def table(self) -> None:
        print()
        print(f"torch 2.13.0+cpu, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M')}")
        widths = [max(len(r[i]) for r in self.rows) for i in range(3)]
        for r in self.rows:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=16, help="targets per round in (b) (default: 16)")
    parser.add_argument("--tests", type=int, default=32, help="tests in (c) (default: 32)")
    parser.add_argument("--runs", type=int, default=3, help="rounds of (b) (default: 3)")
    args = parser.parse_args()
    bench = Scale(args)
    try:
        bench.run()
    finally:
        bench.ws.shutdown()
    bench.table()
    return 0


if __name__ == "__main__":
    sys.exit(main())
