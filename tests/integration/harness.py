"""Bazel workspaces that use rules_torch as a user would, driven from pytest.

Each workspace lives under tests/integration/.workspaces/<name> (.workspaces-next/<name> in the
next-bazel step), inside the repository, so the offline Bazel's chroot sees it and
`local_path_override` reaches the repository root.
Its Bazel server is shut down when the test module that made it ends. A workspace made with
`heavy=True` (one that fetches the multi-GB CUDA closure) is expunged then as well, so one
test run never holds more than one such output base on disk; set
RULES_TORCH_KEEP_WORKSPACES=1 to keep them warm between local runs.

tools/test.sh runs two pytest processes at once (the README commands, remote execution and then
the next-bazel step in the background). Whatever puts the CUDA closure on disk (a `cuda=True` workspace, a heavy
example's README commands, the remote CAS of the CUDA test) holds `cuda_closure_slot()`, a lock
both processes share, so the machine never holds two CUDA closures at once (each is 9-15 GB;
the CI machine's disk does not hold two beside the rest).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from types import ModuleType

import pytest
from fake_wheels import Wheel
from pip_config import PYPI, configured_indexes
from rules_torch.cells import Cell
from rules_torch.lockfile import Request, WheelEntry, dumps, lock_document

REPO = Path(__file__).resolve().parents[2]
BAZEL = REPO / "tools" / "bazel"
TOOLS = REPO / "torch" / "private" / "tools"
# cuda_runtime/check_libs.py runs the doctor's check of each library's dependencies: whatever runs
# it (a workspace's test, a venv's python) has this file beside it.
DOCTOR = TOOLS / "doctor.py"


def product_tool(name: str) -> ModuleType:
    """torch/private/tools/<name>.py as a module, for a test that calls its functions."""
    spec = importlib.util.spec_from_file_location(name, TOOLS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

PLATFORM_TAGS = {
    "linux_x86_64": "linux_x86_64",
    "linux_aarch64": "manylinux2014_aarch64",
    "macos_arm64": "macosx_11_0_arm64",
}

MODULE_HEADER = """\
module(name = "it_{name}")

bazel_dep(name = "rules_python", version = "0.22.1")
bazel_dep(name = "platforms", version = "0.0.10")
bazel_dep(name = "rules_torch", version = "0.1.0")
local_path_override(module_name = "rules_torch", path = {repo!r})

torch = use_extension("@rules_torch//torch:extensions.bzl", "torch")
"""

PLATFORMS_BUILD = """\
platform(name = "linux_aarch64", constraint_values = ["@platforms//os:linux", "@platforms//cpu:aarch64"])
platform(name = "macos_arm64", constraint_values = ["@platforms//os:macos", "@platforms//cpu:aarch64"])
"""

# Every workspace shares Bazel's default repository cache; hard links instead of copies of its
# wheels (the CUDA closure: 2.9 GB per workspace) spare the test run's disk as the README's ci
# config does a CI runner's. No test writes into a wheel.
BAZELRC = """\
build:cpu --@rules_torch//torch:variant=cpu
build:cuda118 --@rules_torch//torch:variant=cu118
build:cuda121 --@rules_torch//torch:variant=cu121
common --experimental_repository_cache_hardlinks
test --test_output=errors
"""

# tools/test.sh's "next-bazel flags" step sets RULES_TORCH_NEXT_BAZEL=1: every workspace (and the
# root module, through next_bazel_flags()) then builds with Bazel 8/9's flags,
# tools/next_bazel.bazelrc. Under --incompatible_strict_action_env (9.0) Bazel's autodetecting
# Python toolchain runs the system's python3, so each workspace registers a Python 3.11
# toolchain, as a Bazel 9 user has one (rules_python 1.x and later register a hermetic 3.11 by
# default; the offline rules_python 0.22.1 here registers none and cannot download one).
NEXT_BAZEL = os.environ.get("RULES_TORCH_NEXT_BAZEL") == "1"
# The next-bazel step runs in tools/test.sh's background lane while the other tests run: its
# workspaces (the same names, other flags) live apart.
WORKSPACES = REPO / "tests" / "integration" / (".workspaces-next" if NEXT_BAZEL else ".workspaces")
NEXT_BAZEL_RC = f"import {REPO}/tools/next_bazel.bazelrc\ncommon --config=next_bazel\n"
NEXT_BAZEL_TOOLCHAIN_BUILD = """\
load("@rules_python//python:defs.bzl", "py_runtime", "py_runtime_pair")

py_runtime(name = "python", interpreter_path = "{python}", python_version = "PY3")

py_runtime_pair(name = "pair", py3_runtime = ":python")

toolchain(name = "toolchain", toolchain = ":pair", toolchain_type = "@bazel_tools//tools/python:toolchain_type")
"""
NEXT_BAZEL_REGISTER = '\nregister_toolchains("//next_bazel_python:toolchain")\n'


def next_bazel_flags() -> list[str]:
    """The flags a Bazel command in the root module takes in the next-bazel step (its .bazelrc
    imports tools/next_bazel.bazelrc)."""
    return ["--config=next_bazel"] if NEXT_BAZEL else []


# The root module's output base in the next-bazel step: its own, so that the other lane's root
# builds (default flags) never rewrite bazel-bin under a test of this one.
ROOT_STARTUP = [f"--output_base={WORKSPACES / '_root_output_base'}"] if NEXT_BAZEL else []


def root_bazel(*args: str, timeout: int = 1200) -> subprocess.CompletedProcess:
    """Runs Bazel in the root module (in the next-bazel step: its own output base, and
    next_bazel_flags() after a build-like command); returns the finished process."""
    command, *rest = args
    flags = next_bazel_flags() if command in ("build", "test", "run", "info", "cquery") else []
    return subprocess.run(
        [str(BAZEL), *ROOT_STARTUP, command, *flags, *rest], cwd=REPO, stdin=subprocess.DEVNULL, capture_output=True,
        text=True, timeout=timeout, check=False,
    )


def bazel_at_root(*args: str, timeout: int = 1200) -> str:
    """Runs Bazel in the root module (root_bazel); returns stdout and fails the test on a non-zero exit."""
    result = root_bazel(*args, timeout=timeout)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def root_hub_repo(hub: str = "torch_cpu") -> str:
    """The canonical repository name of a root-module hub in this build (`_main~torch~torch_cpu`,
    or `+torch+torch_cpu` under --incompatible_use_plus_in_repo_names), from where its doctor's
    launcher lands: an output base may hold the outputs of both spellings."""
    files = bazel_at_root("cquery", "--output=files", f"@{hub}//:doctor").strip().splitlines()
    return Path(files[-1]).parent.name


def fake_torch(variant: str, platform: str, python: str = "3.11", version: str = "2.5.1") -> list[Wheel]:
    """The closure of a fake torch cell: torch (recording its variant), a pure dep, and for
    CUDA variants an NVIDIA wheel with a shared library in nvidia/<pkg>/lib."""
    cp = "cp" + python.replace(".", "")
    local = "" if variant == "cpu" and platform != "linux_x86_64" else "+" + variant
    init = f"__version__ = {version + local!r}\n__variant__ = {variant!r}\n__platform__ = {platform!r}\n"
    nvidia = f"nvidia-cuda-runtime-cu{variant[2:4]}"
    requires = ("filelock", f"{nvidia}==12.1.105") if variant.startswith("cu") else ("filelock",)
    wheels = [
        Wheel("torch", version + local, f"{cp}-{cp}-{PLATFORM_TAGS[platform]}", requires=requires, files=(("torch/__init__.py", init.encode(), False),)),
        Wheel("filelock", "3.16.1", "py3-none-any", files=(("filelock/__init__.py", b"VERSION = '3.16.1'\n", False),)),
    ]
    if variant.startswith("cu"):
        lib = (f"nvidia/cuda_runtime/lib/libcudart.so.{variant[2:4]}", b"\x7fELF fake", False)
        wheels.append(Wheel(nvidia, "12.1.105", "py3-none-manylinux1_x86_64", files=(("nvidia/__init__.py", b"", False), lib)))
    return wheels


class Workspace:
    """A Bazel workspace under tests/integration/.workspaces/<name> (WORKSPACES)."""

    def __init__(self, name: str):
        self.name = name
        self.root = WORKSPACES / name
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "wheels").mkdir(exist_ok=True)
        self.write(".bazelrc", BAZELRC + (NEXT_BAZEL_RC if NEXT_BAZEL else ""))
        self.write("platforms/BUILD.bazel", PLATFORMS_BUILD)
        if NEXT_BAZEL:
            self.write("next_bazel_python/BUILD.bazel", NEXT_BAZEL_TOOLCHAIN_BUILD.format(python=HOST_PYTHON))

    def write(self, path: str, text: str) -> Path:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        return target

    def add_wheel(self, wheel: Wheel, content: bytes | None = None) -> dict:
        """Writes a wheel file and returns its lock entry (file:// URL, sha256 of the content), as
        JSON that a test may edit before write_lock."""
        data = wheel.build() if content is None else content
        path = self.root / "wheels" / wheel.filename
        path.write_bytes(data)
        entry = WheelEntry(wheel.name, wheel.version, wheel.filename, path.as_uri(), hashlib.sha256(data).hexdigest(), ())
        return entry.as_json()

    def write_lock(self, cells: dict[tuple[str, ...], list[dict]], path: str = "torch.lock.json", python: str = "3.11") -> None:
        """Writes a schema-1 lock for {(variant, platform[, python]): [wheel entries]}."""
        lock_cells = {Cell(*(*cell, python)[:3]): [WheelEntry.from_json(wheel) for wheel in wheels] for cell, wheels in cells.items()}
        request = Request(
            torch="2.5.1",
            torchvision=None,
            torchaudio=None,
            variants=sorted({cell.variant for cell in lock_cells}),
            platforms=sorted({cell.platform for cell in lock_cells}),
            pythons=sorted({cell.python for cell in lock_cells}),
            index_url="https://download.pytorch.org/whl/{variant}",
            extra_index_urls=["https://pypi.org/simple"],
            find_links=[],
        )
        self.write(path, dumps(lock_document(request, lock_cells)))

    def lock_fake_cells(self, cells: list[tuple[str, str]]) -> None:
        self.write_lock({cell: [self.add_wheel(w) for w in fake_torch(*cell)] for cell in cells})

    def write_module(self, body: str, module_name: str | None = None) -> None:
        """Writes MODULE.bazel: the common header (module `it_<workspace name>`, or `module_name`:
        two checkouts of one repository share it) and `body`."""
        register = NEXT_BAZEL_REGISTER if NEXT_BAZEL else ""
        self.write("MODULE.bazel", MODULE_HEADER.format(name=module_name or self.name, repo=str(REPO)) + body + register)

    def bazel(self, *args: str, timeout: int = 600, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        environ = dict(os.environ)
        environ.pop("RULES_TORCH_NVIDIA_DRIVER", None)
        environ.update(env or {})
        return subprocess.run(
            [str(BAZEL), *args],
            cwd=self.root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            env=environ,
            check=False,
        )

    def output_base(self) -> Path:
        return Path(self.bazel("info", "output_base").stdout.strip().splitlines()[-1])

    def spoke_dirs(self, cell: str) -> list[Path]:
        return sorted((self.output_base() / "external").glob(f"*__{cell}"))

    def tree_dirs(self, cell: str) -> list[Path]:
        """The installed site-packages trees (cell_tree outputs) of a cell, in every configuration."""
        return sorted((self.output_base() / "execroot" / "_main" / "bazel-out").glob(f"*/bin/external/*__{cell}/site-packages"))

    def shutdown(self) -> None:
        self.bazel("shutdown")

    def release(self, expunge: bool, wait: bool = True) -> None:
        """Stops the workspace's Bazel server; with `expunge`, deletes its output base too: at
        once with `wait` (the disk is free on return), else in the background
        (`--expunge_async`: Bazel moves the output base aside and a detached process deletes it,
        tens of seconds of a slow disk that no test needs to wait for)."""
        if expunge and os.environ.get("RULES_TORCH_KEEP_WORKSPACES") != "1":
            self.bazel("clean", "--expunge" if wait else "--expunge_async")
        else:
            self.shutdown()

    def require_free_disk(self, gigabytes: float) -> None:
        """Fails the test with a clear message, before any fetch, when the disk that holds
        this workspace's output base has less than `gigabytes` free (instead of a fetch
        dying half-way with ENOSPC)."""
        base = self.output_base()
        free = shutil.disk_usage(base if base.exists() else base.parent).free / 1e9
        if free < gigabytes:
            pytest.fail(
                f"workspace {self.name} needs about {gigabytes:.0f} GB free for its output base "
                f"({base}), and that disk has {free:.1f} GB free. Free some space (e.g. "
                "`bazel clean --expunge` in unused workspaces) and run the tests again."
            )


# --- One CUDA closure on disk at a time, across the test processes ------------------------

CUDA_SLOT_LOCK = Path(os.environ.get("RULES_TORCH_CUDA_SLOT_LOCK", Path(tempfile.gettempdir()) / "rules_torch-cuda-closure.lock"))
_slot = {"depth": 0}  # this process's nesting of cuda_closure_slot blocks


@contextlib.contextmanager
def cuda_closure_slot(who: str, timeout: float = 3600.0):
    """Holds the machine's one CUDA-closure slot (an exclusive lock on CUDA_SLOT_LOCK) for the
    block: waits while another test process holds it, and fails with the holder's name after
    `timeout` seconds. Re-entrant within a process (a module that holds it can nest blocks)."""
    if _slot["depth"]:
        _slot["depth"] += 1
        try:
            yield
        finally:
            _slot["depth"] -= 1
        return
    fd = os.open(CUDA_SLOT_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                holder = os.pread(fd, 4096, 0).decode(errors="replace").strip()
                os.close(fd)
                pytest.fail(
                    f"{who} waited {timeout:.0f} s for the CUDA-closure slot ({CUDA_SLOT_LOCK}), "
                    f"held by: {holder or 'unknown'}. Only one test process may hold the CUDA "
                    "closure on disk at a time; end the other run, or delete the lock file if "
                    "no test runs."
                )
            time.sleep(2)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{who} (pid {os.getpid()})\n".encode(), 0)
    _slot["depth"] = 1
    try:
        yield
    finally:
        _slot["depth"] = 0
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


# --- Real torch from the machine's indexes -------------------------------------------------
#
# Tests that need real wheels find their indexes through configuration, never through a path
# written here: RULES_TORCH_TEST_INDEXES (index URLs separated by spaces or commas), else pip's
# own configuration (`pip config list`: index-url and extra-index-url).



# The interpreter tests' stand-in toolchains run: the base interpreter of the one running pytest.
HOST_PYTHON = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"


def _index_page(index: str, project: str, timeout: float = 10.0) -> str:
    import urllib.request

    url = index.rstrip("/") + "/" + project + "/"
    try:
        if url.startswith("file://"):
            from urllib.parse import unquote, urlparse

            path = Path(unquote(urlparse(url).path))
            page = path / "index.html"
            return page.read_text(errors="replace") if page.is_file() else ""
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read().decode(errors="replace")
    except (OSError, ValueError):
        return ""


def index_with_wheel(project: str, filename_prefix: str, indexes: list[str] | None = None) -> str | None:
    """The first configured index whose page for `project` lists a file starting with `filename_prefix`."""
    for index in configured_indexes() if indexes is None else indexes:
        if index.rstrip("/") == PYPI:
            continue  # only local/mirror indexes count: the tests must not download torch from PyPI
        if filename_prefix in _index_page(index, project):
            return index
    return None


REAL_TORCH = "2.14.1"


def real_cuda_torch_index() -> str | None:
    """The configured index with the CUDA 13 build of torch 2.14.1 for cp311, if any."""
    return index_with_wheel("torch", f"torch-{REAL_TORCH}-cp311-cp311-manylinux")


def require_real_cuda_torch() -> str:
    """real_cuda_torch_index(); skips the test when there is none, or when gcc (for the tests'
    stand-in libraries) is missing."""
    index = real_cuda_torch_index()
    if index is None:
        pytest.skip(
            f"no configured index (RULES_TORCH_TEST_INDEXES or `pip config list`) has torch {REAL_TORCH} "
            "for cp311 manylinux x86_64 (the CUDA 13 build)"
        )
    if shutil.which("gcc") is None:
        pytest.skip("gcc is needed to build the tests' stand-in libraries")
    return index


def build_fake_cudart(root: Path) -> Path:
    """<root>/fake_cuda: another libcudart.so.13 (a tiny library that exports nothing), for the
    tests that put it first on LD_LIBRARY_PATH and check it does not shadow the wheel's."""
    out = root / "fake_cuda"
    if not (out / "libcudart.so.13").is_file():
        out.mkdir(exist_ok=True)
        (out / "empty.c").write_text("")
        subprocess.run(
            ["gcc", "-shared", "-fPIC", "-Wl,-soname,libcudart.so.13", "-o", str(out / "libcudart.so.13"), str(out / "empty.c")],
            check=True,
        )
    return out


def real_cuda_workspace(make, name: str, free_gb: float, prepare, targets: list[str], timeout: int) -> Workspace:
    """The module fixture of a test file on the real CUDA closure: skips without its index,
    makes the (heavy) workspace `name` with `make` (the workspace_factory; it holds the
    CUDA-closure slot until the module ends), checks the disk, runs `prepare(ws, index)` and
    builds `targets` (the first build fetches the closure)."""
    index = require_real_cuda_torch()
    ws = make(name, heavy=True, cuda=True)
    ws.require_free_disk(free_gb)
    try:
        prepare(ws, index)
    except RuntimeError as e:
        pytest.fail(str(e))
    result = ws.bazel("build", *targets, timeout=timeout)
    assert result.returncode == 0, result.stdout[-6000:]
    return ws


def lock_real_torch(
    ws: Workspace,
    torch: str,
    variant: str,
    torch_index: str,
    platform: str = "linux_x86_64",
    python: str = "3.11",
    output: str = "torch.lock.json",
    with_requirements: tuple[str, ...] = (),
) -> Path:
    """Locks real torch with the project's lock tool into the workspace, cached by request.

    `torch_index` is searched first (recorded as the variant's index), then PyPI, then the other
    configured indexes; `with_requirements` are the lock tool's --with. The lock is kept under
    <workspace>/.lock-cache/<sha of the request>.json, so reruns do not re-resolve; the
    workspace's lock is rewritten only when it differs.
    """
    extra = [PYPI] + [u for u in configured_indexes() if u.rstrip("/") not in (torch_index.rstrip("/"), PYPI)]
    args = [
        "--torch", torch, "--variants", variant, "--platforms", platform, "--python", python,
        "--index-url", torch_index,
    ]
    for url in extra:
        args += ["--extra-index-url", url]
    for requirement in with_requirements:
        args += ["--with", requirement]
    key = hashlib.sha256(json.dumps(args).encode()).hexdigest()[:16]
    cached = ws.root / ".lock-cache" / f"{key}.json"
    if not cached.is_file():
        cached.parent.mkdir(exist_ok=True)
        env = dict(os.environ, PYTHONPATH=str(REPO / "python"))
        result = subprocess.run(
            [sys.executable, "-m", "rules_torch.lock", *args, "--output", str(cached)],
            capture_output=True, text=True, env=env, timeout=900, check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"the lock tool failed ({result.returncode}): {' '.join(args)}\n{result.stdout}\n{result.stderr}"
            )
    target = ws.root / output
    text = cached.read_text()
    if not target.is_file() or target.read_text() != text:
        target.write_text(text)
    return target


# --- Venvs (torch_py_venv) and their clients ------------------------------------------------------


def venv_python(venv: Path, args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Runs a venv's python as a user's shell would: nothing of the test's environment leaks in
    (no LD_LIBRARY_PATH, PYTHONPATH, PYTHONHOME, VIRTUAL_ENV)."""
    env = {k: v for k, v in os.environ.items() if k not in ("LD_LIBRARY_PATH", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    return subprocess.run([str(venv / "bin" / "python"), *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=300, check=False)


def run_notebook(venv: Path, source: str, cwd: Path, tmp_path: Path, monkeypatch) -> str:
    """Executes a one-cell notebook with nbclient on a Jupyter kernel of `venv`; returns the
    cell's output text.

    The kernel is registered as the README says (`python -m ipykernel install`, into a prefix
    under `tmp_path` instead of the user's). ipykernel is no dependency of the venv: the test's
    own site-packages (where tools/requirements_test.txt installs it) goes on the kernel's path
    through a second .pth file, after rules_torch's, so the venv's packages win; it is removed
    afterwards.
    """
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    site_packages = next(venv.glob("lib/python*/site-packages"))
    extra = site_packages / "zz_test_kernel.pth"
    extra.write_text(sysconfig.get_paths()["purelib"] + "\n")
    try:
        install = venv_python(venv, ["-m", "ipykernel", "install", "--prefix", str(tmp_path), "--name", "rules-torch-venv"], tmp_path)
        assert install.returncode == 0, install.stderr[-3000:]
        monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "share" / "jupyter"))
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
        client = nbclient.NotebookClient(notebook, kernel_name="rules-torch-venv", timeout=300, resources={"metadata": {"path": str(cwd)}})
        client.execute()
    finally:
        extra.unlink()
    return "".join(output.get("text", "") for output in notebook.cells[0].outputs)
