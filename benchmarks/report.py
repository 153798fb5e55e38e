#!/usr/bin/env python3
"""Runs rules_torch's benchmarks and writes BENCHMARKS.md: every figure beside pip / uv / a venv /
unzip on the same wheels, with the machine and the date.

    python3 benchmarks/report.py                 # every benchmark (about an hour; root, ~25 GB free)
    python3 benchmarks/report.py --only lock,uv_import
    python3 benchmarks/report.py --list

Each benchmark is one of the scripts under benchmarks/ (and tools/bench_lock.py); they print
their own figures and ratios. This runs them one after the other (run it on an otherwise idle
machine: they time things), and writes one section per benchmark: what it measures, the command,
when and how long it ran, and what it printed. With --only, the other sections of an existing
BENCHMARKS.md are kept as they were (each says when it ran), so one benchmark can be re-run
alone. A benchmark that fails gets its exit status and the end of its output in its section,
and this script exits 1 after writing the report.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUTPUT = REPO / "BENCHMARKS.md"


@dataclass(frozen=True)
class Benchmark:
    name: str
    argv: tuple[str, ...]
    what: str  # one line: what it compares


BENCHMARKS = (
    Benchmark("lock", ("tools/bench_lock.py", "--runs", "7"), "the lock tool (4 variants x 3 platforms) against `uv pip compile` of the same cells"),
    Benchmark("lock_uv", ("benchmarks/lock_uv.py", "--runs", "5"), "the lock tool on real wheels (issue 32's cu130 cell, 68 wheels) against `uv pip compile`, cold and warm; bytes read; `--from-pylock` of 2 variants x 2 platforms"),
    Benchmark("uv_import", ("benchmarks/uv_import.py",), "importing a 2-variant, 2-platform uv.lock against `uv lock` of the same project"),
    Benchmark("runtime", ("benchmarks/runtime.py",), "the CUDA 13 closure: `import torch` against a venv, cold/warm fetch + install against pip, uv and unzip"),
    Benchmark("test_cost", ("benchmarks/test_cost.py",), "what Bazel adds to one torch test: the first passing test in a fresh output base and the steady-state overhead against uv, a cached re-test after a test that imported a suite inside the cell, what a test stages"),
    Benchmark("ci_runner", ("benchmarks/ci_runner.py",), "N = 1, 3 and 16 torch tests on a fresh CI runner with its caches restored (`bazel test --build_tests_only`, a new output base; the tree's ticket, the tree cache, and the commit before both) against uv with its cache restored, and how many tests installed the cell"),
    Benchmark("ci_runner_cuda", ("benchmarks/ci_runner.py", "--cuda", "--tests", "1,3"), "the same on the CUDA 13 closure (torch 2.14.1, 5.3 GB installed)"),
    Benchmark("scale", ("benchmarks/scale.py",), "what a torch target costs once its cell exists: runfiles entries, build time against plain py_test, bazel test against pytest in a venv"),
    Benchmark("modes", ("benchmarks/modes.py",), "torch.wheels (one tree per cell) against pip.parse + torch.from_pip on the same CUDA 13 closure"),
    Benchmark("venv", ("benchmarks/venv.py",), "`bazel run //:lib.venv` (torch_py_venv) against `uv venv && uv pip install` of the same wheels: time to make it once the tree is built, bytes copied, `import torch`"),
    Benchmark("libtorch", ("benchmarks/libtorch.py",), "a torch_cc_extension's build time and what @torch//:libtorch adds to a cc_test's runfiles"),
    Benchmark("image_layers", ("benchmarks/image_layers.py", "--cuda"), "a binary's container image layers (torch_py_image_layers) on the CUDA 13 cell: building them once the cell is built, rebuilding after an app edit, their sizes against the installed tree and a `tar -h` of the runfiles"),
    Benchmark("image_layers_cpu", ("benchmarks/image_layers.py",), "the same on examples/container's CPU cell (torch 2.13.0)"),
    Benchmark("remote", ("benchmarks/remote.py", "--cuda"), "remote execution and caching against tools/rbe.sh's loopback REAPI service (CPU and CUDA 13 cells)"),
)
_SECTION = re.compile(r"^<!-- benchmark: (?P<name>[a-z_]+) -->\n(?P<body>.*?)(?=^<!-- benchmark: |\Z)", re.S | re.M)


def machine() -> list[str]:
    """Lines describing this machine."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")).split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    bazel = subprocess.run([str(REPO / "tools" / "bazel"), "--version"], capture_output=True, text=True, check=False).stdout.strip()
    return [
        f"- {os.cpu_count()} cores ({cpu}){memory}, {platform.system()} {platform.release()}",
        f"- {bazel or 'bazel: not available'} (tools/bazel), Python {platform.python_version()} for the scripts",
    ]


def run(benchmark: Benchmark, extra: list[str]) -> str:
    """Runs one benchmark; returns its Markdown section."""
    argv = [sys.executable, *benchmark.argv, *extra]
    shown = " ".join(["python3", *benchmark.argv, *extra])
    started = datetime.datetime.now(datetime.UTC)
    print(f"=== {benchmark.name}: {shown}", flush=True)
    begin = time.monotonic()
    if not (REPO / benchmark.argv[0]).is_file():
        output, status = f"{benchmark.argv[0]} does not exist", 127
    else:
        result = subprocess.run(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
        output, status = result.stdout, result.returncode
    seconds = time.monotonic() - begin
    print(output, flush=True)
    verdict = "" if status == 0 else f" **FAILED (exit {status})**: the end of its output:"
    if status != 0:
        output = "\n".join(output.splitlines()[-60:])
    return "\n".join([
        f"<!-- benchmark: {benchmark.name} -->",
        f"## {benchmark.name}",
        "",
        f"{benchmark.what}.",
        "",
        f"`{shown}`: run {started:%Y-%m-%d %H:%M} UTC, {seconds:.0f} s.{verdict}",
        "",
        "```text",
        output.rstrip(),
        "```",
        "",
        "",
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="comma-separated benchmark names (see --list); the other sections of BENCHMARKS.md are kept")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="the report to write (default: BENCHMARKS.md)")
    parser.add_argument("extra", nargs="*", help="after --: more arguments for the benchmark (with a single --only)")
    args = parser.parse_args()
    by_name = {b.name: b for b in BENCHMARKS}
    if args.list:
        for b in BENCHMARKS:
            print(f"{b.name:10} python3 {' '.join(b.argv)}: {b.what}")
        return 0
    names = args.only.split(",") if args.only else list(by_name)
    unknown = [n for n in names if n not in by_name]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(by_name)}")
    if args.extra and len(names) != 1:
        parser.error("extra arguments go to one benchmark: use them with a single --only NAME")

    kept = {}
    if args.output.is_file():
        kept = {m.group("name"): m.group(0) for m in _SECTION.finditer(args.output.read_text())}
    sections = dict(kept)
    failed = []
    for name in names:
        sections[name] = run(by_name[name], args.extra)
        if "**FAILED" in sections[name]:
            failed.append(name)
    now = datetime.datetime.now(datetime.UTC)
    header = [
        "# rules_torch benchmarks",
        "",
        f"Written by `python3 benchmarks/report.py` (last run {now:%Y-%m-%d %H:%M} UTC; each section says when it ran). "
        "Each benchmark prints its figures next to the same work done by pip, uv, a plain venv or unzip on the "
        "same wheels, and the ratio. Re-run one with `python3 benchmarks/report.py --only NAME`.",
        "",
        "Machine:",
        "",
        *machine(),
        "",
        "Benchmarks: " + ", ".join(f"[{b.name}](#{b.name})" for b in BENCHMARKS if b.name in sections) + ".",
        "",
        "",
    ]
    body = [sections[b.name] for b in BENCHMARKS if b.name in sections]
    tmp = args.output.with_suffix(".md.tmp")
    tmp.write_text("\n".join(header) + "".join(body).rstrip() + "\n")
    tmp.replace(args.output)
    print(f"wrote {args.output}" + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
