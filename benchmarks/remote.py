#!/usr/bin/env python3
"""Benchmark: torch tests under remote execution (tools/rbe.sh's loopback REAPI service).

    python3 benchmarks/remote.py [--cuda] [--keep]

Starts the service with empty stores (tools/rbe.sh down, wipe, up) and, in a fresh workspace on
the root module's real CPU lock (torch 2.13.0+cpu; with --cuda also the CUDA 13 torch 2.14.1
lock of the integration tests), prints for each cell:

(a) the first remote run of a torch test: wall time and bytes Bazel uploaded (bytes its server
    sent to the service: the kernel's per-socket counters, `ss -ti`, sampled while it runs);
(b) a second test target on the same cell: wall time and bytes uploaded (goal: its own
    sources only; the wheels are already in the CAS). A test stages the cell's wheels, not its
    tree, and the launcher installs the tree on the worker;
(e) the same, on a worker that keeps the trees it installed (RULES_TORCH_TREE_CACHE);
(c) `bazel clean`, then both tests again: wall time (remote cache hits);
(d) `bazel clean`, then one test with --remote_download_minimal --nocache_test_results (it
    executes remotely again): wall time and bytes written under the output base (external/,
    the downloaded wheels, apart);
and how long starting the service takes, and what its stores hold at the end.

Not a test: run it by hand on an otherwise idle machine, as root. --cuda needs ~20 GB free.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# What pytest.ini puts on the path for the tests whose helpers these benchmarks reuse.
sys.path[:0] = [str(REPO / d) for d in ("python", "tests/support", "tests/integration")]

import harness  # noqa: E402
import test_remote as remote  # noqa: E402

RBE = REPO / "tools" / "rbe.sh"


def must(result: subprocess.CompletedProcess, what: str) -> str:
    if result.returncode != 0:
        sys.exit(f"benchmark: {what} failed ({result.returncode}):\n{(result.stdout or '')[-4000:]}{(result.stderr or '')[-2000:]}")
    return result.stdout


def rbe(*args: str) -> tuple[float, str]:
    start = time.perf_counter()
    out = must(subprocess.run([str(RBE), *args], capture_output=True, text=True, check=False), "tools/rbe.sh " + " ".join(args))
    return time.perf_counter() - start, out


class Uploads:
    """Bytes the Bazel server (java) sends to the service during one command: its connections'
    bytes_acked, sampled every 0.1 s while the command runs (Bazel closes them at its end)."""

    def __init__(self, port: str):
        self.port, self.seen, self.done = port, {}, threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self.done.wait(0.1):
            out = subprocess.run(["ss", "-tinpH", f"( dport = :{self.port} )"], capture_output=True, text=True, check=False).stdout
            for conn in re.split(r"\n(?=\S)", out):
                acked = re.search(r"bytes_acked:(\d+)", conn)
                if '"java"' in conn and acked:
                    local = conn.split()[3]
                    self.seen[local] = max(self.seen.get(local, 0), int(acked.group(1)))

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()

    @property
    def total(self) -> int:
        return sum(self.seen.values())


def timed(ws, *args: str, timeout: int = 3600) -> tuple[float, str]:
    start = time.perf_counter()
    out = must(ws.bazel(*args, timeout=timeout), "bazel " + " ".join(args))
    return time.perf_counter() - start, out


def bench_cell(ws, flags: list[str], port: str, first: str, second: str, label: str, profile: Path | None = None) -> None:
    print(f"== {label}")
    with Uploads(port) as sent:
        wall, out = timed(ws, "test", *flags, first)
    print(f"(a) first remote run of {first}: {wall:.1f} s, {sent.total / 1e6:.1f} MB uploaded; processes: {remote._processes(out)}")
    with Uploads(port) as sent:
        wall, out = timed(ws, "test", *flags, second)
    print(f"(b) second test on the same cell ({second}): {wall:.1f} s, {sent.total / 1e3:.1f} kB uploaded; processes: {remote._processes(out)}")
    # A worker that keeps the trees it installs (RULES_TORCH_TREE_CACHE): the first test on it
    # installs the cell from its wheels, the next ones find it.
    cache = ["--test_env=RULES_TORCH_TREE_CACHE=/var/cache/rules_torch_trees", "--nocache_test_results"]
    timed(ws, "test", *flags, *cache, first)
    # --profile DIR: where (e)'s time goes (bazel analyze-profile DIR/<workspace>_e.gz).
    profiling = [f"--profile={profile / (ws.name + '_e.gz')}"] if profile else []
    wall, out = timed(ws, "test", *flags, *cache, *profiling, second)
    action = sum(float(t) for t in re.findall(r"PASSED in ([0-9.]+)s", out))
    log = (ws.root / "bazel-testlogs" / second.removeprefix("//:") / "test.log").read_text()
    print(
        f"(e) second test, worker tree cache warm (--test_env=RULES_TORCH_TREE_CACHE=...): {wall:.1f} s, of which the test "
        f"action on the worker {action:.1f} s (its tree verified, not installed: {'installing' not in log}); "
        f"processes: {remote._processes(out)}"
    )
    must(ws.bazel("clean"), "bazel clean")
    with Uploads(port) as sent:
        wall, out = timed(ws, "test", *flags, first, second)
    print(f"(c) after bazel clean, both tests: {wall:.1f} s, {sent.total / 1e3:.1f} kB uploaded; processes: {remote._processes(out)}")
    must(ws.bazel("clean"), "bazel clean")
    wall, out = timed(ws, "test", *flags, "--remote_download_minimal", "--nocache_test_results", first)
    base = ws.output_base()
    written, wheels = remote.local_bytes(base, skip="external"), remote.local_bytes(base / "external")
    print(
        f"(d) --remote_download_minimal, test re-run remotely: {wall:.1f} s; under the output base: "
        f"{written / 1e6:.2f} MB (+ {wheels / 1e9:.2f} GB of fetched wheels in external/)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cuda", action="store_true", help="also the CUDA 13 cell (real torch 2.14.1 from the configured indexes)")
    parser.add_argument("--keep", action="store_true", help="keep the workspaces' output bases and the service's stores")
    parser.add_argument("--profile", type=Path, help="write (e)'s Bazel profile of each cell into this directory")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("benchmark: needs root (tools/rbe.sh)")

    rbe("down")
    rbe("wipe")
    wall, out = rbe("up", "--worker", "cpu-1")
    flags = out.strip().splitlines()[-1].split()
    port = re.search(r":(\d+)", flags[0]).group(1)
    # The README's line for builds whose tests all run remotely: the tree's ticket may be a cache hit.
    flags += remote.EVERY_TEST_REMOTE
    print(f"service: up in {wall:.1f} s ({' '.join(flags)})")
    made = []
    try:
        ws = remote.cpu_workspace(harness.Workspace("bench_remote_cpu"))
        made.append(ws)
        must(ws.bazel("clean", "--expunge"), "bazel clean --expunge")
        bench_cell(ws, flags, port, "//:matmul_test", "//:second_test", "CPU cell (torch 2.13.0+cpu)", args.profile)
        if args.cuda:
            index = harness.real_cuda_torch_index()
            if index is None:
                sys.exit("benchmark: --cuda: no configured index has the CUDA 13 torch 2.14.1")
            ws = harness.Workspace("bench_remote_cuda")
            made.append(ws)
            ws.write_module(remote.MODULE.format(variant="cu130"))
            harness.lock_real_torch(ws, "2.14.1", "cu130", index)
            shutil.copy(remote.PROGRAMS / "check_libs.py", ws.root / "check_libs.py")
            shutil.copy(harness.DOCTOR, ws.root / "doctor.py")  # check_libs.py runs the doctor's check
            ws.write("where.py", remote.WHERE)
            ws.write("BUILD.bazel", remote.CUDA_BUILD + remote.SECOND_CUDA_TEST)
            must(ws.bazel("clean", "--expunge"), "bazel clean --expunge")
            bench_cell(ws, flags, port, "//:libs_test", "//:where_test", "CUDA 13 cell (torch 2.14.1)", args.profile)
        state = Path(os.environ.get("RBE_ROOT", "/opt/rules_torch-rbe"))
        cas, cache = remote.local_bytes(state / "state" / "cas"), remote.local_bytes(state / "chroot" / "var" / "cache" / "casd")
        print(f"service stores: {cas / 1e9:.2f} GB (server CAS), {cache / 1e9:.2f} GB (worker cache)")
    finally:
        for ws in made:
            ws.bazel("clean", "--expunge") if not args.keep else ws.shutdown()
        rbe("down")
        if not args.keep:
            rbe("wipe")


if __name__ == "__main__":
    main()
