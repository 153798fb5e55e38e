#!/usr/bin/env python3
"""Benchmark: the venv of a torch target (`bazel run //:lib.venv`, torch_py_venv) against a uv venv
of the same wheels, on examples/basic's torch 2.13.0+cpu lock (issue "Edit it").

    python3 benchmarks/venv.py [--rules-torch DIR] [--runs 7]

Prints, once the cell's tree is built (a fresh output base, the repository cache warm):
(a) time to make the venv: `bazel run //:lib.venv -- PATH` (Bazel client and server included) and
    the venv maker alone (bazel-bin/lib.venv run directly), median of --runs; against
    `uv venv && uv pip install` of the same wheels with a warm uv cache: goal <= 1 s;
(b) bytes of packages in the venv (`du -sb`, links not followed): goal 0, against uv's;
(c) `import torch` with each venv's python, the two alternated, median (and fastest) of 2 x --runs:
    goal <= 1.05x uv.

Not a test: run it by hand on an otherwise idle machine (benchmarks/report.py runs it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from test_cost import run  # noqa: E402 - one way to run a timed command in every benchmark

BAZEL = REPO / "tools" / "bazel"
LOCK = REPO / "examples" / "basic" / "third_party" / "torch.lock.json"
CELL = "cpu_linux_x86_64_cp311"

MODULE = """\
module(name = "bench_venv")

bazel_dep(name = "rules_python", version = "0.22.1")
bazel_dep(name = "rules_torch", version = "0.1.0")
local_path_override(module_name = "rules_torch", path = {repo!r})

torch = use_extension("@rules_torch//torch:extensions.bzl", "torch")
torch.wheels(hub = "torch", lock = "//:torch.lock.json", default_variant = "cpu")
use_repo(torch, "torch")
"""

BUILD = """\
load("@rules_torch//torch:defs.bzl", "torch_py_library")

torch_py_library(name = "lib", srcs = ["lib.py"], deps = ["@torch//:torch"])
"""


def du(path: Path) -> int:
    """Bytes under `path`, symbolic links counted as links (du -sb)."""
    return int(subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=True).stdout.split()[0])


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("LD_LIBRARY_PATH", "PYTHONPATH", "VIRTUAL_ENV")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules-torch", default=str(REPO), help="the rules_torch checkout to measure (default: this one)")
    parser.add_argument("--runs", type=int, default=7, help="runs of each timing")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="rules_torch_venv_bench_"))
    ws, base = tmp / "ws", tmp / "ob"
    ws.mkdir()
    (ws / "MODULE.bazel").write_text(MODULE.format(repo=str(Path(args.rules_torch).resolve())))
    (ws / "BUILD.bazel").write_text(BUILD)
    (ws / "lib.py").write_text("import torch\n")
    (ws / "torch.lock.json").write_text(LOCK.read_text())
    bazel = [str(BAZEL), f"--output_base={base}"]
    rows: list[tuple[str, str, str]] = []

    def row(what: str, value: str, note: str = "") -> None:
        rows.append((what, value, note))
        print(f"  {what}: {value}  {note}", flush=True)

    try:
        print("building the cell's tree (fresh output base) ...", flush=True)
        run([*bazel, "build", "//:lib.venv"], ws, timeout=1800)
        repository_cache = Path(run([*bazel, "info", "repository_cache"], ws)[1].stdout.strip())

        # (a) making the venv, the tree built
        venv = tmp / "venv"
        run([*bazel, "run", "//:lib.venv", "--", str(venv)], ws)  # the runfiles, once
        walls = [run([*bazel, "run", "//:lib.venv", "--", str(venv)], ws)[0] for _ in range(args.runs)]
        env = dict(clean_env(), BUILD_WORKSPACE_DIRECTORY=str(ws), BUILD_WORKING_DIRECTORY=str(ws))
        launcher = ws / "bazel-bin" / "lib.venv"
        makers = [run([str(launcher), str(venv)], ws, env=env)[0] for _ in range(args.runs)]

        wheels = tmp / "wheels"
        wheels.mkdir()
        for wheel in json.loads(LOCK.read_text())["cells"][CELL]["wheels"]:
            os.link(repository_cache / "content_addressable" / "sha256" / wheel["sha256"] / "file", wheels / wheel["filename"])
        uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
        uv_env = dict(os.environ, UV_CACHE_DIR=str(tmp / "uv_cache"), UV_NO_PROGRESS="1")
        uv_venv = tmp / "uv_venv"
        uv_times = []
        for _ in range(3):  # the first run fills uv's cache
            shutil.rmtree(uv_venv, ignore_errors=True)
            start = time.perf_counter()
            run([uv, "venv", "-q", "--python", sys.executable, str(uv_venv)], tmp, env=uv_env)
            run([uv, "pip", "install", "-q", "--compile-bytecode", "--offline", "--no-index", "--python", str(uv_venv / "bin" / "python"), *(str(w) for w in sorted(wheels.iterdir()))], tmp, env=uv_env)
            uv_times.append(time.perf_counter() - start)
        uv_time = statistics.median(uv_times[1:])
        wall, maker = statistics.median(walls), statistics.median(makers)
        row("bazel run //:lib.venv, tree built (client + server + maker)", f"{wall:.2f} s", f"runs {', '.join(f'{v:.2f}' for v in walls)} (goal <= 1 s)")
        row("the venv maker alone (bazel-bin/lib.venv)", f"{maker:.3f} s", f"runs {', '.join(f'{v:.3f}' for v in makers)}")
        row("uv venv + uv pip install --compile-bytecode, same wheels, warm uv cache", f"{uv_time:.2f} s", f"bazel run {wall / uv_time:.2f}x uv, the maker {maker / uv_time:.3f}x uv")

        # (b) bytes
        ours, theirs = du(venv), du(uv_venv)
        row("bytes in the venv (du -sb, links not followed)", f"{ours:,} B", f"uv's venv: {theirs / 1e6:,.0f} MB; packages copied: 0 (goal 0); the .pth: {(next(venv.glob('lib/python*/site-packages')) / '_rules_torch.pth').read_text().count(chr(10))} lines")

        # (c) import torch
        code = "import torch"
        for python in (venv, uv_venv):  # warm the page cache
            run([str(python / "bin" / "python"), "-c", code], tmp, env=clean_env())
        times: dict[Path, list[float]] = {venv: [], uv_venv: []}
        for _ in range(2 * args.runs):  # noisier than the rest: twice the runs
            for python in (venv, uv_venv):
                times[python].append(run([str(python / "bin" / "python"), "-c", code], tmp, env=clean_env())[0])
        mine, uvs = statistics.median(times[venv]), statistics.median(times[uv_venv])
        row("import torch, rules_torch venv", f"{mine:.3f} s", f"runs {', '.join(f'{v:.2f}' for v in times[venv])}")
        row("import torch, uv venv", f"{uvs:.3f} s", f"runs {', '.join(f'{v:.2f}' for v in times[uv_venv])}")
        best = min(times[venv]) / min(times[uv_venv])
        row("import torch, rules_torch venv / uv venv", f"{mine / uvs:.3f}x", f"median over median; fastest over fastest {best:.3f}x (goal <= 1.05x)")
    finally:
        subprocess.run([*bazel, "shutdown"], cwd=ws, capture_output=True, check=False)
        shutil.rmtree(tmp, ignore_errors=True)

    print()
    print(f"cell {CELL} (examples/basic's lock), {os.cpu_count()} cores, rules_torch at {args.rules_torch}, {time.strftime('%Y-%m-%d %H:%M')}")
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
