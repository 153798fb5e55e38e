"""The runtime against the real CUDA 13 build of torch 2.14.1: libraries load, the launcher
passes everything through, imports are hermetic, the doctor reports.

One workspace (.workspaces/cuda) and one output base for all these tests. The lock is made at
setup with the project's lock tool from the indexes configured for tests (pip's configuration
or RULES_TORCH_TEST_INDEXES) and cached in the workspace; the tests are skipped when no
configured index has torch 2.14.1. On a machine without a GPU the tests prove that every
library loads; //:gpu_ops_test (tagged requires-gpu) runs GPU ops where a GPU is usable and
prints a SKIPPED line elsewhere.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from harness import DOCTOR, REAL_TORCH, build_fake_cudart, lock_real_torch, real_cuda_workspace, run_notebook, venv_python

pytestmark = [pytest.mark.slow, pytest.mark.real_torch]

TORCH = REAL_TORCH
VARIANT = "cu130"
PROGRAMS = Path(__file__).resolve().parent / "cuda_runtime"
# Installed in the interpreter's own site-packages (pytest runs this file; the lock tool needs
# packaging), absent from torch's closure.
HOST_ONLY_MODULES = ("pytest", "packaging")

BUILD = """\
load("@rules_python//python:defs.bzl", "py_library")
load("@rules_torch//torch:defs.bzl", "torch_py_binary", "torch_py_test")

TORCH = ["@torch//:torch"]

torch_py_test(name = "import_test", size = "medium", srcs = ["import_torch.py"], deps = TORCH)

torch_py_test(name = "libs_test", size = "medium", srcs = ["check_libs.py", "doctor.py"], main = "check_libs.py", deps = TORCH)

torch_py_test(name = "cudart_test", size = "medium", srcs = ["check_cudart.py"], deps = TORCH)

torch_py_test(name = "hermetic_test", srcs = ["check_hermetic.py"], args = {modules}, deps = TORCH)

torch_py_binary(name = "passthrough", srcs = ["passthrough.py"], deps = TORCH)

# GPU ops; passes with a SKIPPED line where no GPU is usable.
torch_py_test(name = "gpu_ops_test", size = "medium", srcs = ["gpu_ops.py"], tags = ["requires-gpu"], deps = TORCH)

# Only ever built with --nobuild_runfile_links: the launcher must find everything through
# bazel-bin/passthrough_manifest.runfiles_manifest.
torch_py_binary(name = "passthrough_manifest", srcs = ["passthrough.py"], deps = TORCH)

# The hub's doctor program with one more library whose dependency resolves nowhere.
py_library(name = "broken_lib", data = ["broken/libbroken.so"])

torch_py_binary(
    name = "doctor_broken",
    srcs = ["@rules_torch//torch/private/tools:doctor.py"],
    main = "@rules_torch//torch/private/tools:doctor.py",
    deps = [":broken_lib", "@torch//:torch"],
)
"""

MODULE = f"""\
torch.wheels(hub = "torch", lock = "//:torch.lock.json", default_variant = "{VARIANT}")
use_repo(torch, "torch")
"""

MISSING_SONAME = "librules_torch_test_missing.so.1"


def _build_broken_library(root: Path) -> None:
    """libbroken.so: a DT_NEEDED entry on a library that exists nowhere at runtime."""
    out = root / "broken"
    if (out / "libbroken.so").is_file():
        return
    out.mkdir(exist_ok=True)
    scratch = root / ".scratch"
    scratch.mkdir(exist_ok=True)
    (scratch / "missing.c").write_text("int rules_torch_missing(void) { return 1; }\n")
    (scratch / "broken.c").write_text(
        "int rules_torch_missing(void);\nint broken(void) { return rules_torch_missing(); }\n"
    )
    subprocess.run(
        [
            "gcc",
            "-shared",
            "-fPIC",
            f"-Wl,-soname,{MISSING_SONAME}",
            "-o",
            str(scratch / MISSING_SONAME),
            str(scratch / "missing.c"),
        ],
        check=True,
    )
    subprocess.run(
        [
            "gcc",
            "-shared",
            "-fPIC",
            "-Wl,--no-as-needed",
            "-o",
            str(out / "libbroken.so"),
            str(scratch / "broken.c"),
            str(scratch / MISSING_SONAME),
        ],
        check=True,
    )
    shutil.rmtree(scratch)


def prepare_workspace(ws, index: str) -> None:
    """Writes the lock (cached), MODULE, BUILD, programs and stand-in libraries into `ws`.

    Also used by benchmarks/runtime.py, which measures this same workspace.
    """
    lock_real_torch(ws, TORCH, VARIANT, index)
    ws.write_module(MODULE)
    ws.write("BUILD.bazel", BUILD.format(modules=repr(list(HOST_ONLY_MODULES))))
    for program in [*PROGRAMS.glob("*.py"), DOCTOR]:
        ws.write(program.name, program.read_text())
    _build_broken_library(ws.root)
    build_fake_cudart(ws.root)



@pytest.fixture(scope="module")
def ws(workspace_factory):
    # Everything run directly below, built once (the first time this fetches the CUDA spoke).
    return real_cuda_workspace(workspace_factory, "cuda", 10, prepare_workspace, DIRECT_TARGETS, timeout=1800)


DIRECT_TARGETS = [
    "//:import_test",
    "//:libs_test",
    "//:libs_test.py_binary",
    "//:cudart_test",
    "//:cudart_test.py_binary",
    "//:hermetic_test",
    "//:hermetic_test.py_binary",
    "//:passthrough",
]

# The variables a launcher sets or reads: a direct run starts without them, as from a shell.
_LAUNCHER_ENV = (
    "RUNFILES_DIR",
    "RUNFILES_MANIFEST_FILE",
    "LD_LIBRARY_PATH",
    "PYTHONPATH",
    "PYTHONSAFEPATH",
    "RULES_TORCH_LIB_DIRS",
    "TEST_SRCDIR",
)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _LAUNCHER_ENV}
    env.update(extra)
    return env


def _direct(
    ws,
    target: str,
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    stdin: str = "",
    program: str | None = None,
) -> subprocess.CompletedProcess:
    """Runs bazel-bin/<target> directly, not through bazel."""
    return subprocess.run(
        [program or str(ws.root / "bazel-bin" / target), *args],
        cwd=cwd or ws.root,
        input=stdin,
        capture_output=True,
        text=True,
        env=env or _env(),
        timeout=300,
        check=False,
    )


def _result(output: str) -> dict:
    """The `RESULT <json>` line a check program prints last."""
    lines = [line for line in output.splitlines() if line.startswith("RESULT ")]
    assert lines, f"no RESULT line in:\n{output[-4000:]}"
    return json.loads(lines[-1][len("RESULT ") :])


def _bazel_test(ws, target: str, *flags: str) -> str:
    """`bazel test` of one target, rerun even if cached; returns its test.log."""
    result = ws.bazel("test", target, "--nocache_test_results", *flags)
    log = ws.root / "bazel-testlogs" / target.removeprefix("//:") / "test.log"
    text = log.read_text(errors="replace") if log.is_file() else ""
    assert result.returncode == 0, result.stdout[-4000:] + "\n--- test.log ---\n" + text[-6000:]
    return text


# 1. import torch ------------------------------------------------------------------------------


def _check_import(output: str) -> None:
    assert "import torch:" in output, output[-4000:]
    assert f"torch {TORCH}" in output and "cuda 13." in output, output[-4000:]
    assert "cuda available: False" in output, output[-4000:]


def test_import_torch_under_bazel_test(ws):
    _check_import(_bazel_test(ws, "//:import_test"))


def test_import_torch_direct(ws):
    result = _direct(ws, "import_test")
    assert result.returncode == 0, result.stdout + result.stderr
    _check_import(result.stdout)


# 2. every library resolves under the launcher, and only under it -------------------------------


def _check_all_resolve(report: dict) -> None:
    assert not report["patterns_unmatched"], report["patterns_unmatched"]
    assert not report["lazy_failed"], report["lazy_failed"]
    assert not report["ldd_failed"], report["ldd_failed"]
    assert report["ldd_checked"] > 50, report["ldd_checked"]
    lazy = set(report["lazy"])
    for soname in (
        "libcudnn_ops.so.9",
        "libcudnn_graph.so.9",
        "libnvJitLink.so.13",
        "libcusparseLt.so.0",
        "libnccl.so.2",
    ):
        assert soname in lazy, sorted(lazy)
    assert any(s.startswith("libnvrtc-builtins.so.13") for s in lazy), sorted(lazy)
    # The only exceptions are optional plugins that need a host network stack (RDMA, MPI, UCX).
    for path in report["host_optional"]:
        assert path.startswith(("nvidia/nvshmem/lib/nvshmem_", "nvidia/cu13/lib/libcufile_rdma")), report[
            "host_optional"
        ]


def test_libraries_resolve_under_bazel_test(ws):
    _check_all_resolve(_result(_bazel_test(ws, "//:libs_test")))


def test_libraries_resolve_direct_and_not_without_launcher(ws):
    result = _direct(ws, "libs_test")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    report = _result(result.stdout)
    _check_all_resolve(report)
    assert report["LD_LIBRARY_PATH"], "the launcher set no LD_LIBRARY_PATH"

    # The plain py_binary that torch_py_test wraps: same program, same runfiles, no launcher.
    plain = _direct(ws, "libs_test.py_binary")
    assert plain.returncode == 1, plain.stdout[-6000:] + plain.stderr[-2000:]
    bare = _result(plain.stdout)
    assert bare["LD_LIBRARY_PATH"] == ""
    assert set(bare["lazy_failed"]) == set(report["lazy"]), (
        f"without the launcher these still open by soname: {set(report['lazy']) - set(bare['lazy_failed'])}"
    )


# 3. a foreign libcudart.so.13 first on LD_LIBRARY_PATH does not shadow the wheel's --------------


def _check_wheel_cudart(report: dict, fake: Path) -> None:
    assert report["LD_LIBRARY_PATH"].split(":")[-1] == str(fake), report["LD_LIBRARY_PATH"]
    assert report["wheel_copies"] >= 1, report
    assert report["after_cdll"], report
    assert not report["foreign"], report
    assert "import_error" not in report, report["import_error"]


def test_foreign_cudart_does_not_shadow_under_bazel_test(ws):
    fake = ws.root / "fake_cuda"
    _check_wheel_cudart(_result(_bazel_test(ws, "//:cudart_test", f"--test_env=LD_LIBRARY_PATH={fake}")), fake)


def test_foreign_cudart_does_not_shadow_direct(ws):
    fake = ws.root / "fake_cuda"
    result = _direct(ws, "cudart_test", env=_env(LD_LIBRARY_PATH=str(fake)))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    _check_wheel_cudart(_result(result.stdout), fake)

    # Without the launcher the foreign copy wins, and import torch breaks on it.
    plain = _direct(ws, "cudart_test.py_binary", env=_env(LD_LIBRARY_PATH=str(fake)))
    assert plain.returncode == 1, plain.stdout[-4000:] + plain.stderr[-4000:]
    bare = _result(plain.stdout)
    assert bare["after_cdll"] == [str(fake / "libcudart.so.13")], bare
    assert bare["foreign"], bare


# 4. GPU ops -------------------------------------------------------------------------------------


def _host_has_gpu() -> bool:
    smi = shutil.which("nvidia-smi")
    return smi is not None and subprocess.run([smi, "-L"], capture_output=True, check=False).returncode == 0


def test_gpu_ops(ws):
    """cuBLAS matmul, cuDNN conv2d, torch.compile (triton) and jiterator (nvrtc) on the GPU,
    checked against the CPU; on a machine without a GPU the test target must skip cleanly."""
    log = _bazel_test(ws, "//:gpu_ops_test")
    if not _host_has_gpu():
        assert "SKIPPED: no usable CUDA device" in log, log[-4000:]
        return
    result = _result(log)
    for op in ("matmul", "cudnn_conv2d", "torch_compile_triton", "jiterator_nvrtc"):
        assert result.get(op) == "ok", result


# 5. the doctor ---------------------------------------------------------------------------------


def test_doctor_reports_cuda_and_exits_0(ws):
    result = ws.bazel("run", "@torch//:doctor", "--", "--verbose")
    out = result.stdout
    assert result.returncode == 0, out[-8000:]
    assert f"torch:           {TORCH}" in out, out[-8000:]
    assert "variant:         cu130" in out, out[-8000:]
    assert "CUDA (build):    13." in out, out[-8000:]
    assert "cuDNN:           9" in out, out[-8000:]
    assert "GPU usable:      no" in out, out[-8000:]
    # What a routed requires-gpu test would say here (gpu_check.py): no driver on this machine.
    assert "GPU check:       FAILS on a GPU worker: no usable CUDA device" in out, out[-8000:]
    assert "cell cu130_linux_x86_64_cp311 is built for CUDA 13.0, which needs NVIDIA driver 580.65.06 or newer" in out, out[-8000:]
    assert "doctor: every library resolves" in out, out[-8000:]
    assert "MISSING" not in out, out[-8000:]
    for library in ("libcudart.so.13", "libcudnn.so.9", "libtorch_cuda.so", "libnccl.so.2"):
        assert any(line.split()[:1] == ["ok"] and line.endswith("/" + library) for line in out.splitlines()), (
            f"no 'ok' line for {library}:\n{out[-8000:]}"
        )


def test_doctor_fits_on_a_screen(ws):
    result = ws.bazel("run", "@torch//:doctor")
    out = result.stdout[result.stdout.index("torch:           "):]
    assert result.returncode == 0, result.stdout[-8000:]
    assert len(out.splitlines()) <= 15, out
    assert re.search(r"libraries:       (\d{2,}) in \d+ directories first on LD_LIBRARY_PATH: \1 resolve, 0 unresolved", out), out


def test_doctor_exits_1_on_unresolvable_library(ws):
    result = ws.bazel("run", "//:doctor_broken")
    out = result.stdout
    assert result.returncode == 1, out[-8000:]
    assert f"MISSING {MISSING_SONAME}" in out and "libbroken.so" in out, out[-8000:]
    assert "doctor: 1 library with unresolved dependencies" in out, out[-8000:]
    # doctor.py alone in srcs (not the hub's doctor): the GPU check says why it did not run.
    assert "GPU check:       not run: gpu_check.py is not beside doctor.py" in out, out[-8000:]


# Hermetic imports ------------------------------------------------------------------------------


def test_interpreter_site_packages_not_importable(ws):
    for name in HOST_ONLY_MODULES:
        assert subprocess.run([sys.executable, "-c", f"import {name}"], check=False).returncode == 0, (
            f"{name} is not installed for {sys.executable}: the check would prove nothing"
        )
    _bazel_test(ws, "//:hermetic_test")
    result = _direct(ws, "hermetic_test", *HOST_ONLY_MODULES)  # `args` apply to bazel test/run only
    assert result.returncode == 0, result.stdout[-4000:]
    # The plain py_binary does see them: the check can fail.
    plain = _direct(ws, "hermetic_test.py_binary", *HOST_ONLY_MODULES)
    assert plain.returncode == 1, plain.stdout[-4000:]
    for name in HOST_ONLY_MODULES:
        assert f"'{name}'" in plain.stdout, plain.stdout[-4000:]


# The launcher passes everything through --------------------------------------------------------

ARGS = ["", "a b", "it's", '"quoted"', "$HOME", "*", "--flag=x", "line\nbreak", "ü"]


def test_args_stdin_and_exit_status_pass_through(ws):
    stdin = "first line\nsecond 'line' $HOME\n"
    result = _direct(ws, "passthrough", "echo", "7", *ARGS, stdin=stdin)
    assert result.returncode == 7, result.stdout + result.stderr
    out = json.loads(result.stdout)
    assert out["args"] == ARGS
    assert out["stdin"] == stdin
    assert "nvidia/cu13/lib" in out["LD_LIBRARY_PATH"], out["LD_LIBRARY_PATH"]


def test_bazel_run_passes_exit_status(ws):
    result = ws.bazel("run", "//:passthrough", "--", "echo", "5", "x y")
    assert result.returncode == 5, result.stdout[-4000:]
    assert '"args": ["x y"]' in result.stdout, result.stdout[-4000:]


def test_sigterm_reaches_the_program(ws):
    process = subprocess.Popen(
        [str(ws.root / "bazel-bin" / "passthrough"), "wait"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=_env(),
    )
    try:
        ready = process.stdout.readline().split()
        assert ready[:1] == ["ready"], ready
        # The launcher execs Python: the pid that got the signal is the program's.
        assert int(ready[1]) == process.pid
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 143, out + err
    assert "got SIGTERM" in out, out + err


def test_direct_run_from_another_cwd(ws, tmp_path):
    result = _direct(ws, "passthrough", "echo", "0", "x", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["cwd"] == str(tmp_path)
    # A relative path to the launcher, from a directory below the workspace.
    sub = ws.root / "subdir"
    sub.mkdir(exist_ok=True)
    result = _direct(ws, "passthrough", "echo", "0", "y", cwd=sub, program="../bazel-bin/passthrough")
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["args"] == ["y"]


def test_manifest_only(ws, tmp_path):
    result = ws.bazel("build", "--nobuild_runfile_links", "//:passthrough_manifest")
    assert result.returncode == 0, result.stdout[-4000:]
    launcher = ws.root / "bazel-bin" / "passthrough_manifest"
    manifest = ws.root / "bazel-bin" / "passthrough_manifest.runfiles_manifest"
    assert manifest.is_file()
    assert not (ws.root / "bazel-bin" / "passthrough_manifest.runfiles").exists(), (
        "a runfiles tree exists: this would not test the manifest"
    )
    for env in (_env(RUNFILES_MANIFEST_FILE=str(manifest)), _env()):
        result = _direct(ws, "passthrough_manifest", "torch", env=env, cwd=tmp_path, program=str(launcher))
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
        assert f"torch {TORCH}" in result.stdout and " 13." in result.stdout, result.stdout
        assert "nvidia/cu13/lib" in result.stdout, result.stdout


# 8. the hub's venv (torch_py_venv): editors and notebooks get the CUDA 13 tree, nothing copied -----

NOTEBOOK_CELL = """\
import ctypes
import torch
print("torch", torch.__version__, "cuda", torch.version.cuda)
ctypes.CDLL("libcudart.so.13")  # by soname, as CUDA code opens it: torch's tree already loaded it
print("opened libcudart.so.13")
"""


def test_venv_of_the_cuda_cell(ws, tmp_path, monkeypatch):
    venv = tmp_path / ".venv-cu130"
    result = ws.bazel("run", "@torch//:venv", "--", str(venv))
    assert result.returncode == 0, result.stdout[-4000:]
    assert f"made the venv {venv}" in result.stdout and "cells: cu130_linux_x86_64_cp311" in result.stdout, result.stdout[-3000:]
    files = [p for p in venv.rglob("*") if p.is_file() and not p.is_symlink()]
    assert sum(p.stat().st_size for p in files) < 64_000, files

    # ldd: torch's libraries find every DT_NEEDED entry (the NVIDIA libraries among them) inside
    # the tree with no LD_LIBRARY_PATH: the tree is pip's layout, torch's RUNPATHs point into
    # nvidia/*/lib. As in a pip venv, libraries that others load after their dependencies (an
    # NVIDIA library's siblings without RUNPATH, triton's plugins) do not resolve alone, and
    # check_libs.py's opens by soname in a fresh process without torch fail: those need torch
    # loaded first (the notebook below opens one after import torch).
    for program in (PROGRAMS / "check_libs.py", DOCTOR):
        shutil.copy(program, tmp_path / program.name)
    libs = venv_python(venv, [str(tmp_path / "check_libs.py")], tmp_path)
    report = _result(libs.stdout)
    torch_failed = {lib: missing for lib, missing in report["ldd_failed"].items() if lib.startswith("torch/")}
    assert not report["LD_LIBRARY_PATH"] and not torch_failed, torch_failed
    assert [r for r in report["roots"] if r.endswith("__cu130_linux_x86_64_cp311/site-packages")], report["roots"]
    assert report["ldd_checked"] > 50 and not report["patterns_unmatched"], report

    text = run_notebook(venv, NOTEBOOK_CELL, ws.root, tmp_path, monkeypatch)
    assert f"torch {TORCH}" in text and "cuda 13." in text and "opened libcudart.so.13" in text, text
