#!/usr/bin/env python3
"""Benchmark: C++ against the locked torch 2.13.0+cpu (@torch//:libtorch, torch_cc_extension).

    python3 benchmarks/libtorch.py [--runs 3]

Uses the workspace of tests/integration/test_libtorch.py (tests/integration/.workspaces/libtorch,
the root module's CPU lock) and measures:
  first build      `bazel build //:tensor_op_test` in that workspace as it is (cold when the
                   output base is new: fetch, tree install, libtorch layout, compile, link);
  extension build  `bazel build //:my_ops` after its source changed (compile + link of one
                   TORCH_LIBRARY source against libtorch; the tree and the layout are cached),
                   median of --runs;
  runfiles         what @torch//:libtorch adds to the cc_test's runfiles: manifest entries
                   (the `_solib_` ones), their bytes, and the bytes that are new on disk (the
                   libraries are hard links of the installed tree's files where possible).
Not a test: run it by hand on an otherwise idle machine. The workspace's Bazel server is shut
down at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# What pytest.ini puts on the path for the tests whose helpers these benchmarks reuse.
sys.path[:0] = [str(REPO / d) for d in ("python", "tests/support", "tests/integration")]

import harness  # noqa: E402
import test_libtorch  # noqa: E402


def must(result: subprocess.CompletedProcess, what: str) -> subprocess.CompletedProcess:
    if result.returncode != 0:
        sys.exit(f"benchmark: {what} failed ({result.returncode}):\n{(result.stdout or '')[-4000:]}")
    return result


def timed(ws: harness.Workspace, *args: str) -> float:
    start = time.perf_counter()
    must(ws.bazel(*args, timeout=1800), " ".join(args))
    return time.perf_counter() - start


def runfiles(ws: harness.Workspace, target: str) -> tuple[int, int, int, int]:
    """(entries, entries from libtorch, their bytes, their bytes not shared with the cell tree)."""
    bin_dir = Path(must(ws.bazel("info", "bazel-bin"), "bazel info").stdout.strip().splitlines()[-1])
    lines = (bin_dir / f"{target}.runfiles_manifest").read_text().splitlines()
    ours = [line.split(" ", 1)[1] for line in lines if "/_solib_" in line.split(" ", 1)[0]]
    size = new = 0
    for path in ours:
        stat = os.stat(os.path.realpath(path))
        size += stat.st_size
        new += stat.st_size if stat.st_nlink == 1 else 0
    return len(lines), len(ours), size, new


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    ws = harness.Workspace("libtorch")
    ws.write_module('torch.wheels(hub = "torch", lock = "//:torch.lock.json", default_variant = "cpu")\nuse_repo(torch, "torch")\n')
    ws.write("torch.lock.json", test_libtorch.LOCK.read_text())
    for source in test_libtorch.SOURCES.iterdir():
        ws.write(source.name.removesuffix(".in"), source.read_text())
    try:
        must(ws.bazel("info", "release"), "bazel info")  # the server starts, untimed
        first = timed(ws, "build", "//:tensor_op_test")
        timed(ws, "build", "//:my_ops")
        source = ws.root / "my_ops.cc"
        text = source.read_text()
        times = []
        for run in range(args.runs):
            source.write_text(text + f"// benchmark run {run} {time.time()}\n")
            times.append(timed(ws, "build", "//:my_ops"))
        source.write_text(text)
        entries, ours, size, new = runfiles(ws, "tensor_op_test")
    finally:
        ws.shutdown()

    print(f"first build of //:tensor_op_test      {first:7.1f} s")
    print(f"torch_cc_extension build (1 source)   {statistics.median(times):7.1f} s  (median of {args.runs}: {', '.join(f'{t:.1f}' for t in times)})")
    print(f"cc_test runfiles entries              {entries:7d}  ({ours} from @torch//:libtorch)")
    print(f"@torch//:libtorch in runfiles         {size / 1e6:7.1f} MB  ({new / 1e6:.1f} MB new on disk: the rest are hard links of the cell tree)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
