#!/usr/bin/env python3
"""Benchmark: the runtime and the fetch of the real torch 2.14.1 CUDA 13 closure.

    python3 benchmarks/runtime.py [--runs 5] [--skip-fetch | --fetch-only] [--uv PATH] [--keep]

Uses the integration tests' workspace (tests/integration/.workspaces/cuda: the lock made by the
lock tool from the configured indexes, see tests/integration/test_cuda_runtime.py) and prints:

(a) `import torch` through a torch_py_binary run directly (bazel-bin/<target>), median of N,
    against the same wheels installed in a plain venv (`pip install --no-deps`): goal <= 1.05x;
(b) the same inside `bazel test` (sandboxed; the test prints its own timing) against the
    venv: goal <= 1.05x (issue 12);
(c) runfiles entries of a torch test (lines of its runfiles_manifest) and a no-op
    `bazel test` (results cached): goal <= 1 s;
(d) a cold fetch + install of the CUDA cell (`bazel build` of the spoke's cell tree in a fresh
    output base with a fresh repository cache, every wheel a local file through --distdir: the
    download, then the install action with pycs) against `pip install --no-deps` and
    `uv pip install --no-deps` (with and without --compile-bytecode; fresh cache) of the same
    files into a fresh venv and against `unzip -q -o` of all of them into one directory (the
    floor); a warm one (fresh output base, repository cache filled), also with
    --experimental_repository_cache_hardlinks (also cold); and one in a fresh output base whose
    --disk_cache holds the tree (a CI runner, a worktree; also with
    --noremote_verify_downloads): no install action runs. Goals (issue 12): cold <= 1.0x uv
    --compile-bytecode; from the disk cache <= 0.5x of it.

Not a test: run it by hand on an otherwise idle machine. (d) needs ~25 GB of free disk for a
while (each install is 5.3 GB; each is removed once timed unless --keep). uv comes from PATH,
--uv, or PyPI (`pip install uv` into a scratch venv).
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
import test_cuda_runtime as cuda  # noqa: E402

CELL = f"{cuda.VARIANT}_linux_x86_64_cp311"


def run(command, **kwargs) -> tuple[float, subprocess.CompletedProcess]:
    """Wall time of one command and its result (stdout and stderr captured)."""
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    start = time.perf_counter()
    result = subprocess.run(command, check=False, **kwargs)
    return time.perf_counter() - start, result


def must(result: subprocess.CompletedProcess, what: str) -> subprocess.CompletedProcess:
    if result.returncode != 0:
        out = (result.stdout or "") + (result.stderr or "")
        sys.exit(f"benchmark: {what} failed ({result.returncode}):\n{out[-4000:]}")
    return result


def number(pattern: str, text: str) -> float:
    match = re.search(pattern + r" ([0-9.]+) s", text)
    if not match:
        sys.exit(f"benchmark: no '{pattern}' in:\n{text[-3000:]}")
    return float(match.group(1))


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in cuda._LAUNCHER_ENV}


def remove(path: Path) -> None:
    if path.exists():
        subprocess.run(["rm", "-rf", str(path)], check=True)


class Bench:
    def __init__(self, args):
        self.args = args
        self.rows: list[tuple[str, str, str, str]] = []
        index = harness.real_cuda_torch_index()
        if index is None:
            sys.exit(
                f"benchmark: no configured index has torch {cuda.TORCH} (see tests/integration/test_cuda_runtime.py)"
            )
        self.ws = harness.Workspace("cuda")
        cuda.prepare_workspace(self.ws, index)
        print("building the workspace's targets (the first time this fetches the CUDA spoke) ...", flush=True)
        must(self.ws.bazel("build", "//:import_test", "//:passthrough", timeout=3600), "bazel build")
        lock = json.loads((self.ws.root / "torch.lock.json").read_text())
        self.wheels = lock["cells"][CELL]["wheels"]
        self.scratch = Path(tempfile.mkdtemp(prefix="rules_torch_bench_", dir=args.scratch))
        self.files = self.scratch / "wheels"
        self._collect_wheels()

    def row(self, what: str, value: str, reference: str = "", ratio: str = "") -> None:
        self.rows.append((what, value, reference, ratio))
        print(f"  {what}: {value}  {reference}  {ratio}", flush=True)

    def _collect_wheels(self) -> None:
        """The lock's wheel files, hard-linked from Bazel's repository cache under their names."""
        cache = Path(self.ws.bazel("info", "repository_cache").stdout.strip().splitlines()[-1])
        self.files.mkdir()
        for wheel in self.wheels:
            source = cache / "content_addressable" / "sha256" / wheel["sha256"] / "file"
            if not source.is_file():
                sys.exit(f"benchmark: {wheel['filename']} is not in the repository cache {cache}; run the tests first")
            os.link(source, self.files / wheel["filename"])
        self.size = sum(p.stat().st_size for p in self.files.iterdir())
        print(f"{len(self.wheels)} wheels, {self.size / 1e9:.2f} GB, in {self.files}", flush=True)

    def venv(self, name: str) -> Path:
        path = self.scratch / name
        must(run([sys.executable, "-m", "venv", str(path)])[1], "python3 -m venv")
        return path

    def uv(self) -> str:
        if self.args.uv:
            return self.args.uv
        if shutil.which("uv"):
            return shutil.which("uv")
        tools = self.venv("uv-tool")
        must(run([str(tools / "bin" / "pip"), "install", "-q", "uv"])[1], "pip install uv")
        return str(tools / "bin" / "uv")

    # (d) --------------------------------------------------------------------------------------

    def spoke_fetch(
        self, name: str, repository_cache: Path, distdir: Path | None, extra: tuple[str, ...] = ()
    ) -> float:
        """Time of `bazel build` of the CUDA cell's tree in a fresh output base (server start,
        module resolution and the extension excluded): download + install action."""
        output_base = self.scratch / name
        bazel = [str(harness.BAZEL), f"--output_base={output_base}"]
        flags = [f"--repository_cache={repository_cache}", *extra]
        if distdir:
            flags += [f"--distdir={distdir}", "--experimental_repository_disable_download"]
        try:
            # Starts the server, resolves the module graph and evaluates the extension.
            must(run([*bazel, "fetch", "--repo=@torch", *flags], cwd=self.ws.root)[1], "bazel fetch @torch")
            subprocess.run(["sync"], check=True)
            tree = f"@@rules_torch~~torch~torch__{CELL}//:tree"
            # --symlink_prefix=/: no convenience symlinks, the workspace's bazel-bin stays its own.
            seconds, result = run([*bazel, "build", "--symlink_prefix=/", tree, *flags], cwd=self.ws.root)
            must(result, f"bazel build {tree}")
            subprocess.run(["sync"], check=True)
            trees = list((output_base / "execroot" / "_main" / "bazel-out").glob(f"*/bin/external/*__{CELL}/site-packages"))
            self.spoke_files = sum(len(files) for _, _, files in os.walk(trees[0]))
            self.disk = sum(
                int(subprocess.run(["du", "-sb", str(p)], capture_output=True, text=True, check=True).stdout.split()[0])
                for p in (output_base / "external", output_base / "execroot")
            )
            self.cache_hit = "disk cache hit" in result.stdout + result.stderr
            return seconds
        finally:
            run([*bazel, "shutdown"], cwd=self.ws.root)
            if not self.args.keep:
                remove(output_base)

    def timed_install(self, what: str, command: list[str], env: dict | None = None) -> float:
        """Wall time of a command that writes files, the writeback (sync) included."""
        subprocess.run(["sync"], check=True)
        seconds, result = run(command, env=env)
        must(result, what)
        subprocess.run(["sync"], check=True)
        return seconds

    def fetch(self) -> None:
        print("(d) cold and warm fetch of the CUDA spoke vs pip, uv, unzip", flush=True)
        files = sorted(str(p) for p in self.files.iterdir())
        repository_cache = self.scratch / "repository_cache"
        cold = self.spoke_fetch("ob_cold", repository_cache, self.files)
        self.row("cold fetch + install (fresh output base + repository cache, --distdir)", f"{cold:.1f} s")
        self.row("  output base after it: external/ + execroot/ (the cell tree)", f"{self.disk / 1e9:.2f} GB")
        warm = self.spoke_fetch("ob_warm", repository_cache, None)
        self.row("warm fetch + install (fresh output base, repository cache filled)", f"{warm:.1f} s")
        hardlinks = ("--experimental_repository_cache_hardlinks",)
        warm_links = self.spoke_fetch("ob_warm_links", repository_cache, None, hardlinks)
        cold_links = self.spoke_fetch("ob_cold_links", self.scratch / "repository_cache_links", self.files, hardlinks)
        remove(self.scratch / "repository_cache_links")
        disk_cache = self.scratch / "disk_cache"
        self.spoke_fetch("ob_fill_disk_cache", repository_cache, None, (f"--disk_cache={disk_cache}",))
        from_disk_cache = self.spoke_fetch(
            "ob_disk_cache", repository_cache, None, (f"--disk_cache={disk_cache}", *hardlinks)
        )
        from_disk_cache_hit = self.cache_hit
        # The disk cache is this machine's own: not verifying what it hands back saves a digest
        # of the 5.3 GB tree (Bazel digests it again once it is in place).
        from_disk_cache_nv = self.spoke_fetch(
            "ob_disk_cache_nv",
            repository_cache,
            None,
            (f"--disk_cache={disk_cache}", *hardlinks, "--noremote_verify_downloads"),
        )
        from_disk_cache_hit = from_disk_cache_hit and self.cache_hit
        remove(disk_cache)
        remove(repository_cache)

        pip_venv = self.venv("venv-pip")
        pip = self.timed_install(
            "pip install",
            [
                str(pip_venv / "bin" / "pip"),
                "install",
                "-q",
                "--no-deps",
                "--no-index",
                "--disable-pip-version-check",
                *files,
            ],
        )
        self.pip_venv = pip_venv  # kept for (a) and (b)

        uv = self.uv()
        results = {}
        for label, extra in (("uv pip install", []), ("uv pip install --compile-bytecode", ["--compile-bytecode"])):
            target = self.venv("venv-uv")
            cache = self.scratch / "uv-cache"
            env = dict(os.environ, UV_CACHE_DIR=str(cache))
            results[label] = self.timed_install(
                label,
                [
                    uv,
                    "pip",
                    "install",
                    "-q",
                    "--offline",
                    "--no-deps",
                    "--python",
                    str(target / "bin" / "python"),
                    *extra,
                    *files,
                ],
                env,
            )
            remove(target)
            remove(cache)

        extractor = [sys.executable, str(REPO / "torch" / "private" / "tools" / "extract_wheels.py")]
        out = self.scratch / "extract"
        extract = self.timed_install("extract_wheels.py", [*extractor, "--dest", str(out), *files])
        remove(out)
        extract_compile = self.timed_install(
            "extract_wheels.py --compile", [*extractor, "--dest", str(out), "--compile", "3.11", *files]
        )
        remove(out)

        out = self.scratch / "unzip"
        out.mkdir()
        subprocess.run(["sync"], check=True)
        start = time.perf_counter()
        for f in files:
            must(
                subprocess.run(["unzip", "-q", "-o", f, "-d", str(out)], capture_output=True, text=True, check=False),
                "unzip",
            )
        subprocess.run(["sync"], check=True)
        unzip = time.perf_counter() - start
        remove(out)
        out.mkdir()
        jobs = str(os.cpu_count() or 1)
        unzip_parallel = self.timed_install(
            "unzip (parallel)",
            # One directory per wheel: parallel unzips into one directory race on its mkdirs.
            ["sh", "-c", f'printf "%s\\n" "$@" | xargs -P {jobs} -I{{}} sh -c \'unzip -q -o "$1" -d "{out}/$(basename "$1")"\' sh {{}}', "sh", *files],
        )
        remove(out)

        self.row(
            "spoke: wheels / files written",
            f"{len(self.wheels)} / {self.spoke_files}",
            f"{self.size / 1e9:.2f} GB of wheels",
        )
        self.row("  the same with --experimental_repository_cache_hardlinks", f"{warm_links:.1f} s")
        uv_cold = results["uv pip install --compile-bytecode"]
        self.row(
            "cold fetch + install with --experimental_repository_cache_hardlinks",
            f"{cold_links:.1f} s",
            "",
            f"cold/uv --compile-bytecode {cold_links / uv_cold:.2f}x",
        )
        hit = "tree from the disk cache" if from_disk_cache_hit else "NO disk cache hit: the install action ran"
        for label, seconds in (
            ("fresh output base, repository cache + --disk_cache filled (+ hardlinks)", from_disk_cache),
            ("  the same + --noremote_verify_downloads", from_disk_cache_nv),
        ):
            self.row(label, f"{seconds:.1f} s", hit, f"vs uv --compile-bytecode cold {seconds / uv_cold:.2f}x (goal <= 0.5x)")
        self.row("  the spoke's extractor alone, no Bazel (parallel inflate)", f"{extract:.1f} s")
        self.row("  the same + .pyc compile (as the install action does; test suites not compiled)", f"{extract_compile:.1f} s")
        self.row("pip install --no-deps (fresh venv, compiles .pyc)", f"{pip:.1f} s", "", f"cold/pip {cold / pip:.2f}x")
        for label, seconds in results.items():
            self.row(
                f"{label} --no-deps (fresh venv, fresh cache)", f"{seconds:.1f} s", "", f"cold/uv {cold / seconds:.2f}x"
            )
        self.row(
            "unzip -q -o of every wheel into one dir (sequential)",
            f"{unzip:.1f} s",
            "",
            f"cold/unzip {cold / unzip:.2f}x",
        )
        self.row(
            f"unzip, {jobs} in parallel (the floor)",
            f"{unzip_parallel:.1f} s",
            "",
            f"cold/floor {cold / unzip_parallel:.2f}x",
        )

    # (a), (b), (c) ----------------------------------------------------------------------------

    def venv_for_import(self) -> Path:
        if getattr(self, "pip_venv", None):
            return self.pip_venv
        target = self.venv("venv-pip")
        must(
            run(
                [
                    str(target / "bin" / "pip"),
                    "install",
                    "-q",
                    "--no-deps",
                    "--no-index",
                    *sorted(map(str, self.files.iterdir())),
                ]
            )[1],
            "pip install",
        )
        self.pip_venv = target
        return target

    def interleaved(self, commands: dict[str, tuple[list[str], dict[str, str]]]) -> dict[str, dict[str, float]]:
        """Medians over --runs (after one warm-up round) of wall, `import torch` and start to import.

        The commands take turns (A B C A B C ...), so that load from elsewhere on the machine
        weighs on all of them alike.
        """
        samples = {name: {"wall": [], "import": [], "start": []} for name in commands}
        for i in range(self.args.runs + 1):
            for name, (command, env) in commands.items():
                seconds, result = run(command, cwd=self.scratch, env={**clean_env(), **env})
                must(result, " ".join(command))
                if i:
                    samples[name]["wall"].append(seconds)
                    samples[name]["import"].append(number("import torch:", result.stdout))
                    samples[name]["start"].append(number("start to import:", result.stdout))
        return {name: {k: statistics.median(v) for k, v in s.items()} for name, s in samples.items()}

    def imports(self) -> None:
        runs = self.args.runs
        venv = self.venv_for_import()
        python = str(venv / "bin" / "python")
        program = str(self.ws.root / "import_torch.py")
        spoke = self.ws.tree_dirs(CELL)[0]
        print(f"(a) import torch, median of {runs}, interleaved", flush=True)
        m = self.interleaved(
            {
                "bazel": ([str(self.ws.root / "bazel-bin" / "import_test")], {}),
                "venv": ([python, program], {}),
                # Diagnostic: the spoke's own directory (no runfiles symlinks), without the launcher.
                "spoke": ([sys.executable, "-S", "-s", program], {"PYTHONPATH": str(spoke)}),
            }
        )
        b, v, d = m["bazel"], m["venv"], m["spoke"]
        self.row(
            "import torch, torch_py_binary run directly (in-process)",
            f"{b['import']:.3f} s",
            f"venv {v['import']:.3f} s",
            f"{b['import'] / v['import']:.2f}x (goal <= 1.05x)",
        )
        self.row(
            "process start to import done (launcher included)",
            f"{b['start']:.2f} s",
            f"venv {v['start']:.2f} s",
            f"{b['start'] / v['start']:.2f}x",
        )
        self.row(
            "whole program, wall (import + a matmul + exit)",
            f"{b['wall']:.2f} s",
            f"venv {v['wall']:.2f} s",
            f"{b['wall'] / v['wall']:.2f}x",
        )
        self.row(
            "  diagnostic: spoke dir itself on PYTHONPATH, no runfiles tree",
            f"{d['import']:.3f} s",
            f"venv {v['import']:.3f} s",
            f"{d['import'] / v['import']:.2f}x",
        )
        echo_b, _ = self._median_wall([str(self.ws.root / "bazel-bin" / "passthrough"), "echo", "0"])
        echo_v, _ = self._median_wall([python, str(self.ws.root / "passthrough.py"), "echo", "0"])
        self.row(
            "launcher overhead (a program that imports nothing)",
            f"{echo_b * 1000:.0f} ms",
            f"venv {echo_v * 1000:.0f} ms",
            f"+{(echo_b - echo_v) * 1000:.0f} ms",
        )

        print(f"(b) import torch inside bazel test, median of {runs}, interleaved with the venv", flush=True)
        tests = {"import": [], "start": [], "wall": []}
        venvs = {"import": [], "start": []}
        log = self.ws.root / "bazel-testlogs" / "import_test" / "test.log"
        for i in range(runs + 1):
            seconds, result = run(
                [str(harness.BAZEL), "test", "//:import_test", "--nocache_test_results"], cwd=self.ws.root
            )
            must(result, "bazel test //:import_test")
            _, plain = run([python, program], cwd=self.scratch, env=clean_env())
            must(plain, "the venv's import")
            if i:
                text = log.read_text()
                tests["import"].append(number("import torch:", text))
                tests["start"].append(number("start to import:", text))
                tests["wall"].append(seconds)
                venvs["import"].append(number("import torch:", plain.stdout))
                venvs["start"].append(number("start to import:", plain.stdout))
        t = {k: statistics.median(x) for k, x in tests.items()}
        v = {k: statistics.median(x) for k, x in venvs.items()}
        self.row(
            "import torch inside bazel test (in-process)",
            f"{t['import']:.3f} s",
            f"venv {v['import']:.3f} s",
            f"{t['import'] / v['import']:.2f}x (goal <= 1.05x)",
        )
        self.row(
            "bazel test: process start to import done",
            f"{t['start']:.2f} s",
            f"venv {v['start']:.2f} s",
            f"{t['start'] / v['start']:.2f}x",
        )
        self.row("`bazel test --nocache_test_results //:import_test`, wall", f"{t['wall']:.2f} s")

        print("(c) runfiles and a no-op bazel test", flush=True)
        manifest = self.ws.root / "bazel-bin" / "import_test.runfiles_manifest"
        with manifest.open() as f:
            entries = sum(1 for _ in f)
        self.row("runfiles entries of a torch test (runfiles_manifest lines)", f"{entries}")
        noop, _ = self._median_wall([str(harness.BAZEL), "test", "//:import_test"], cwd=self.ws.root)
        self.row("no-op `bazel test //:import_test` (cached result)", f"{noop:.2f} s", "goal <= 1 s")

    def _median_wall(self, command: list[str], cwd: Path | None = None) -> tuple[float, list[float]]:
        times = []
        for i in range(self.args.runs + 1):
            seconds, result = run(command, cwd=cwd or self.scratch, env=clean_env())
            must(result, " ".join(command))
            if i:
                times.append(seconds)
        return statistics.median(times), times

    def table(self) -> None:
        print()
        print(f"torch {cuda.TORCH} {cuda.VARIANT} closure, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M')}")
        widths = [max(len(r[i]) for r in self.rows) for i in range(4)]
        for r in self.rows:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())

    def close(self) -> None:
        self.ws.shutdown()
        if not self.args.keep:
            remove(self.scratch)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per median (default: 5)")
    parser.add_argument("--skip-fetch", action="store_true", help="skip (d), the fetch comparison")
    parser.add_argument("--fetch-only", action="store_true", help="only (d), the fetch comparison")
    parser.add_argument("--uv", help="the uv binary (default: uv on PATH, else pip install uv into a scratch venv)")
    parser.add_argument(
        "--scratch", default=None, help="where to put venvs and output bases (default: the system's temp dir)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args()
    bench = Bench(args)
    try:
        if not args.skip_fetch:
            bench.fetch()
        if not args.fetch_only:
            bench.imports()
        bench.table()
    finally:
        bench.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
