#!/usr/bin/env python3
"""Benchmark: a torch_py_binary's container image layers (issue "Ship it"), on examples/container
(torch 2.13.0 CPU) or, with --cuda, on examples/cuda's cu130 binary (torch 2.14.1 + NVIDIA wheels).

    python3 benchmarks/image_layers.py [--cuda] [--runs 3] [--keep]

Prints:
(a) building the layers once the binary (its cell) is built;
(b) rebuilding them after an edit of the application: goal <= 2 s, one layer (app) rebuilt;
(c) each layer's size against the installed tree and against one naive tar of the binary's
    runfiles (`tar -h` of bazel-bin/<binary>.runfiles): no byte stored twice.

Not a test: run it by hand on an otherwise idle machine (benchmarks/report.py runs it). The
workspace is tests/integration/.workspaces/bench_image_layers[_cuda]; its output base is
expunged at the end unless --keep.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# What pytest.ini puts on the path for the tests whose helpers these benchmarks reuse.
sys.path[:0] = [str(REPO / d) for d in ("python", "tests/support", "tests/integration")]

import harness  # noqa: E402

CPU = {"example": "container", "binary": "main", "flags": [], "files": ["main.py", "model.py", "version.py", "BUILD.bazel"]}
CUDA = {"example": "cuda", "binary": "train", "flags": ["--config=cuda130"], "files": ["train.py", "model.py", "BUILD.bazel"]}


def workspace(setup: dict, name: str) -> harness.Workspace:
    ws = harness.Workspace(name)
    example = REPO / "examples" / setup["example"]
    for path in [*setup["files"], ".bazelrc", *[p.relative_to(example).as_posix() for p in (example / "third_party").iterdir()]]:
        (ws.root / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(example / path, ws.root / path)
    ws.write("MODULE.bazel", (example / "MODULE.bazel").read_text().replace('path = "../.."', f"path = {str(REPO)!r}"))
    if setup["example"] == "cuda":
        build = (ws.root / "BUILD.bazel").read_text().replace('"torch_py_binary",', '"torch_py_binary", "torch_py_image_layers",')
        ws.write("BUILD.bazel", build + '\ntorch_py_image_layers(\n    name = "train_layers",\n    binary = ":train",\n)\n')
    return ws


def build(ws: harness.Workspace, *args: str) -> float:
    begin = time.monotonic()
    result = ws.bazel("build", *args, timeout=3600)
    seconds = time.monotonic() - begin
    if result.returncode != 0:
        sys.exit(f"bazel build {' '.join(args)} failed:\n{result.stdout[-4000:]}")
    return seconds


def tree_bytes(path: Path) -> int:
    """The bytes of the regular files under path, each inode once (what a tar must hold)."""
    seen, total = set(), 0
    for p in path.rglob("*"):
        st = p.lstat()
        if p.is_file() and not p.is_symlink() and (st.st_dev, st.st_ino) not in seen:
            seen.add((st.st_dev, st.st_ino))
            total += st.st_size
    return total


def mb(n: float) -> str:
    return f"{n / 1e6:,.0f} MB" if n >= 1e6 else f"{n / 1e3:,.0f} kB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cuda", action="store_true", help="examples/cuda's cu130 binary instead of examples/container's")
    parser.add_argument("--runs", type=int, default=3, help="app edits to time (median)")
    parser.add_argument("--keep", action="store_true", help="keep the workspace's output base")
    args = parser.parse_args()
    setup = CUDA if args.cuda else CPU
    ws = workspace(setup, "bench_image_layers" + ("_cuda" if args.cuda else ""))
    binary, layers_target = setup["binary"], f"{setup['binary']}_layers"
    flags = [*setup["flags"], "--output_groups=+listing"]
    try:
        cell_s = build(ws, *setup["flags"], f"//:{binary}")
        layers_s = build(ws, *flags, f"//:{layers_target}")
        bin_dir = ws.root / "bazel-bin"
        names = (bin_dir / f"{layers_target}.layers.txt").read_text().split()
        tars = [bin_dir / name for name in names]
        edits = []
        rebuilt = set()
        source = ws.root / setup["files"][0]
        original = source.read_text()
        try:
            for run in range(args.runs):
                before = {t: t.stat().st_mtime_ns for t in tars}
                source.write_text(original + f"\n# benchmark edit {run}\n")
                edits.append(build(ws, *flags, f"//:{layers_target}"))
                rebuilt |= {t.name for t in tars if t.stat().st_mtime_ns != before[t]}
        finally:
            source.write_text(original)
        build(ws, *flags, f"//:{layers_target}")

        trees = ws.tree_dirs("cu130_linux_x86_64_cp311" if args.cuda else "cpu_linux_x86_64_cp311")
        installed = tree_bytes(trees[0]) if trees else 0
        naive = subprocess.run(
            f"tar -h -cf - -C {bin_dir} {binary}.runfiles | wc -c", shell=True, capture_output=True, text=True, check=True,
        ).stdout.strip()
        sizes = {t.name: t.stat().st_size for t in tars}
        total = sum(sizes.values())

        label = "examples/cuda //:train (torch 2.14.1 cu130)" if args.cuda else "examples/container //:main (torch 2.13.0 cpu)"
        print(f"{label}, {ws.root.relative_to(REPO)}")
        print(f"(a) the binary and its cell: {cell_s:.1f} s; then the layers: {layers_s:.1f} s ({len(tars)} layers)")
        print(
            f"(b) after an app edit: {statistics.median(edits):.1f} s median of {len(edits)} ({', '.join(f'{s:.1f}' for s in edits)}); "
            f"rebuilt: {', '.join(sorted(rebuilt)) or 'none'} (goal <= 2 s, the app layer only: "
            f"{'met' if statistics.median(edits) <= 2 and rebuilt <= {f'{layers_target}.app.tar'} else 'NOT met'})"
        )
        print("(c) sizes:")
        for name, size in sizes.items():
            print(f"    {name:32} {mb(size):>10}")
        print(f"    {'all layers':32} {mb(total):>10}")
        print(f"    {'installed tree (each inode once)':32} {mb(installed):>10}")
        print(f"    {'tar -h of the runfiles':32} {mb(int(naive)):>10}")
        print(f"    layers / installed tree: {total / installed:.3f}; layers / naive tar: {total / int(naive):.3f}")
    finally:
        ws.release(expunge=not args.keep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
