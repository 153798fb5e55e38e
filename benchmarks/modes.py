#!/usr/bin/env python3
"""Benchmark: the real torch 2.14.1 CUDA 13 closure in rules_torch's two modes, side by side.

    python3 benchmarks/modes.py [--runs 3] [--scratch DIR] [--keep]

- spoke: `torch.wheels` with the lock made by the lock tool (tests/integration/.workspaces/cuda,
  as tests/integration/test_cuda_runtime.py), one spoke repository per cell;
- pip.parse: rules_python 0.22.1's `pip.parse` over the lock tool's requirements file, one
  repository per wheel, wrapped by `torch.from_pip` (tests/integration/.workspaces/pip_parse_cuda,
  as tests/integration/test_pip_parse_cuda.py).

For each mode, in a fresh output base with a fresh --repository_cache (both under a scratch
directory), it measures:
  cold fetch     `bazel fetch //:import_test` then `bazel build //:import_test` (the server is
                 started first, not timed): the wheels downloaded from the configured indexes
                 (local files and PyPI) and installed (the spoke mode installs its cell's tree in
                 the build);
  disk           `du -sb` of output_base/external and execroot (the cell tree) plus the repository cache;
  runfiles       lines of the import test's runfiles_manifest;
  import torch   inside `bazel test //:import_test --nocache_test_results` (the test prints
                 time.perf_counter around `import torch`), median of --runs.
Prints one table. Not a test: run it by hand on an otherwise idle machine; it needs ~20 GB
of free disk for a while. The scratch output bases are shut down and removed at the end.
"""

from __future__ import annotations

import argparse
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
import test_cuda_runtime as cuda  # noqa: E402
import test_pip_parse_cuda as pip_parse  # noqa: E402


def must(result: subprocess.CompletedProcess, what: str) -> subprocess.CompletedProcess:
    if result.returncode != 0:
        sys.exit(f"benchmark: {what} failed ({result.returncode}):\n{(result.stdout or '')[-4000:]}{(result.stderr or '')[-2000:]}")
    return result


class Mode:
    """One workspace measured in a scratch output base with a scratch repository cache."""

    def __init__(self, name: str, ws: harness.Workspace, scratch: Path):
        self.name = name
        self.ws = ws
        self.output_base = scratch / f"ob_{name}"
        self.repository_cache = scratch / f"repository_cache_{name}"
        self.startup = [f"--output_base={self.output_base}"]
        # No convenience symlinks: the workspace's own bazel-* links keep pointing at its usual output base.
        self.flags = [f"--repository_cache={self.repository_cache}"]

    def bazel(self, command: str, *args: str, timeout: int = 3600) -> subprocess.CompletedProcess:
        return subprocess.run(
            [
                str(harness.BAZEL),
                *self.startup,
                command,
                *self.flags,
                *(["--symlink_prefix=/"] if command in ("build", "test") else []),
                *args,
            ],
            cwd=self.ws.root,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def info(self, key: str) -> Path:
        return Path(must(self.bazel("info", key), f"bazel info {key}").stdout.strip().splitlines()[-1])

    def measure(self, runs: int) -> dict:
        must(self.bazel("info", "release"), "bazel info (server start)")
        subprocess.run(["sync"], check=True)
        # Fetch + build: in the spoke mode the fetch only downloads, and the build installs the
        # cell's tree (an action); in the pip.parse mode the fetch installs every wheel.
        start = time.perf_counter()
        must(self.bazel("fetch", "//:import_test"), f"{self.name}: bazel fetch //:import_test")
        must(self.bazel("build", "//:import_test"), f"{self.name}: bazel build //:import_test")
        fetch = time.perf_counter() - start
        subprocess.run(["sync"], check=True)
        disk = sum(
            int(subprocess.run(["du", "-sb", str(p)], capture_output=True, text=True, check=True).stdout.split()[0])
            for p in (self.output_base / "external", self.output_base / "execroot", self.repository_cache)
        )
        manifest = self.info("bazel-bin") / "import_test.runfiles_manifest"
        entries = len(manifest.read_text().splitlines())
        log = self.info("bazel-testlogs") / "import_test" / "test.log"
        imports = []
        for _ in range(runs):
            must(self.bazel("test", "//:import_test", "--nocache_test_results"), f"{self.name}: bazel test //:import_test")
            match = re.search(r"import torch: ([0-9.]+) s", log.read_text())
            if not match:
                sys.exit(f"benchmark: no 'import torch:' line in {log}")
            imports.append(float(match.group(1)))
        return {"fetch": fetch, "disk": disk, "runfiles": entries, "import": statistics.median(imports), "imports": imports}

    def close(self, keep: bool) -> None:
        subprocess.run([str(harness.BAZEL), *self.startup, "shutdown"], cwd=self.ws.root, capture_output=True, check=False)
        if not keep:
            for path in (self.output_base, self.repository_cache):
                if path.exists():
                    subprocess.run(["rm", "-rf", str(path)], check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="bazel test runs for the import time (median)")
    parser.add_argument("--scratch", default=None, help="where the scratch output bases go (default: $TMPDIR)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch output bases and repository caches")
    args = parser.parse_args()

    index = harness.real_cuda_torch_index()
    if index is None:
        sys.exit(f"benchmark: no configured index has torch {cuda.TORCH} (see tests/integration/test_cuda_runtime.py)")
    print(subprocess.run(["df", "-h", args.scratch or tempfile.gettempdir()], capture_output=True, text=True).stdout, flush=True)
    spoke_ws = harness.Workspace("cuda")
    cuda.prepare_workspace(spoke_ws, index)
    pip_ws = harness.Workspace("pip_parse_cuda")
    pip_parse.prepare_workspace(pip_ws, index)

    scratch = Path(tempfile.mkdtemp(prefix="rules_torch_modes_", dir=args.scratch))
    results = {}
    try:
        for name, ws in (("spoke (torch.wheels)", spoke_ws), ("pip.parse + torch.from_pip", pip_ws)):
            mode = Mode(name.split()[0].rstrip("."), ws, scratch)
            print(f"{name}: cold fetch, disk, runfiles, import torch x{args.runs} ...", flush=True)
            try:
                results[name] = mode.measure(args.runs)
            finally:
                mode.close(args.keep)
            print(f"  {results[name]}", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)

    rows = [
        ("cold fetch (s)", lambda r: f"{r['fetch']:.1f}"),
        ("disk: external + execroot + repository cache (GB)", lambda r: f"{r['disk'] / 1e9:.2f}"),
        ("runfiles entries of //:import_test", lambda r: str(r["runfiles"])),
        (f"import torch in bazel test (s, median of {args.runs})", lambda r: f"{r['import']:.3f}"),
    ]
    names = list(results)
    width = max(len(label) for label, _ in rows)
    print()
    print(f"{'':{width}}  " + "  ".join(f"{n:>28}" for n in names))
    for label, cell in rows:
        print(f"{label:{width}}  " + "  ".join(f"{cell(results[n]):>28}" for n in names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
