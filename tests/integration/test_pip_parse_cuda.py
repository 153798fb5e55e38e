"""torch.from_pip over a real rules_python pip.parse hub of torch 2.14.1 for CUDA 13.

The requirements file is written by the project's lock tool (the extras of cuda-toolkit kept)
and fed to rules_python 0.22.1's own pip.parse, which fetches the real wheels from the indexes
in pip's configuration; torch.from_pip wraps that hub as @torch. The tests prove the point of
the README's "Already using pip.parse?": a plain py_test on @pypi_cu130//torch cannot open
the CUDA libraries that are opened by soname (each wheel is its own repository, where torch's
$ORIGIN RUNPATHs never resolve), while the same program as a torch_py_test can. One workspace
(.workspaces/pip_parse_cuda); skipped when no configured index has torch 2.14.1. No GPU here.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from harness import DOCTOR, REAL_TORCH, REPO, build_fake_cudart, real_cuda_workspace
from pip_config import PYPI, configured_indexes

pytestmark = [pytest.mark.slow, pytest.mark.real_torch]

TORCH = REAL_TORCH
VARIANT = "cu130"
CELL = f"{VARIANT}_linux_x86_64_cp311"
REQUIREMENTS = f"requirements_{CELL}.txt"
HERE = Path(__file__).resolve().parent
PROGRAMS = [
    HERE / "cuda_runtime" / "check_libs.py",
    DOCTOR,
    HERE / "cuda_runtime" / "import_torch.py",
    HERE / "cuda_runtime" / "check_cudart.py",
]

MODULE = f"""\
pip = use_extension("@rules_python//python/extensions:pip.bzl", "pip")
pip.parse(
    name = "pypi_cu130",
    incompatible_generate_aliases = True,
    requirements_lock = "//:{REQUIREMENTS}",
)
use_repo(pip, "pypi_cu130")

torch.from_pip(hub = "torch", default_variant = "cu130", variants = {{"cu130": "@pypi_cu130"}}, packages = ["torch"])
use_repo(torch, "torch")
"""

BUILD = """\
load("@rules_python//python:defs.bzl", "py_test")
load("@rules_torch//torch:defs.bzl", "torch_py_test")

LIBS = ["check_libs.py", "doctor.py"]

# The same program twice: plain rules_python on pip.parse's torch, and rules_torch's launcher.
py_test(name = "plain_libs_test", size = "medium", srcs = LIBS, main = "check_libs.py", deps = ["@pypi_cu130//torch"])

torch_py_test(name = "libs_test", size = "medium", srcs = LIBS, main = "check_libs.py", deps = ["@torch//:torch"])

torch_py_test(name = "import_test", size = "medium", srcs = ["import_torch.py"], deps = ["@torch//:torch"])

torch_py_test(name = "cudart_test", size = "medium", srcs = ["check_cudart.py"], deps = ["@torch//:torch"])
"""


def _lock_args(torch_index: str) -> list[str]:
    """The index arguments of harness.lock_real_torch: the torch index, PyPI, the others."""
    extra = [PYPI] + [u for u in configured_indexes() if u.rstrip("/") not in (torch_index.rstrip("/"), PYPI)]
    args = ["--torch", TORCH, "--variants", VARIANT, "--platforms", "linux_x86_64", "--python", "3.11", "--index-url", torch_index]
    for url in extra:
        args += ["--extra-index-url", url]
    return args


def write_requirements(ws, torch_index: str) -> Path:
    """requirements_cu130_linux_x86_64_cp311.txt from the lock tool, without index options
    (pip.parse's pip reads them from pip's configuration), cached by request in the workspace."""
    args = [*_lock_args(torch_index), "--no-emit-index-url", "--no-emit-find-links"]
    key = hashlib.sha256(json.dumps(args).encode()).hexdigest()[:16]
    cache = ws.root / ".lock-cache" / f"requirements-{key}"
    if not (cache / REQUIREMENTS).is_file():
        cache.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, PYTHONPATH=str(REPO / "python"))
        result = subprocess.run(
            [sys.executable, "-m", "rules_torch.lock", *args, "--output", str(cache / "lock.json"), "--requirements-dir", str(cache)],
            capture_output=True,
            text=True,
            env=env,
            timeout=900,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"the lock tool failed ({result.returncode}): {' '.join(args)}\n{result.stdout}\n{result.stderr}")
    text = (cache / REQUIREMENTS).read_text()
    target = ws.root / REQUIREMENTS
    if not target.is_file() or target.read_text() != text:
        target.write_text(text)
    return target


def prepare_workspace(ws, torch_index: str) -> None:
    """Requirements (cached), MODULE, BUILD and programs; also used by benchmarks/modes.py."""
    write_requirements(ws, torch_index)
    ws.write_module(MODULE)
    ws.write("BUILD.bazel", BUILD)
    for program in PROGRAMS:
        ws.write(program.name, program.read_text())



def _prepare_with_fake_cudart(ws, index: str) -> None:
    prepare_workspace(ws, index)
    build_fake_cudart(ws.root)


@pytest.fixture(scope="module")
def ws(workspace_factory):
    # pip.parse fetches the closure here, the first time.
    return real_cuda_workspace(workspace_factory, "pip_parse_cuda", 12, _prepare_with_fake_cudart, ["//..."], timeout=2400)


def _result(output: str) -> dict:
    lines = [line for line in output.splitlines() if line.startswith("RESULT ")]
    assert lines, f"no RESULT line in:\n{output[-4000:]}"
    return json.loads(lines[-1][len("RESULT ") :])


def _bazel_test(ws, target: str, *flags: str, expect: int = 0) -> str:
    """`bazel test` of one target, rerun even if cached; returns its test.log."""
    result = ws.bazel("test", target, "--nocache_test_results", *flags)
    log = ws.root / "bazel-testlogs" / target.removeprefix("//:") / "test.log"
    text = log.read_text(errors="replace") if log.is_file() else ""
    assert result.returncode == expect, result.stdout[-4000:] + "\n--- test.log ---\n" + text[-6000:]
    return text


def test_requirements_keep_cuda_toolkit_extras(ws):
    text = (ws.root / REQUIREMENTS).read_text()
    line = next((line for line in text.splitlines() if line.startswith("cuda-toolkit[")), None)
    assert line is not None, text[:3000]
    for extra in ("cublas", "cudart", "nvjitlink", "nvrtc"):
        assert extra in line.partition("]")[0], line
    assert f"torch=={TORCH}" in text, text[-3000:]
    options = [line for line in text.splitlines() if line.startswith("-")]
    assert not options, options  # no --index-url / --find-links: pip.parse's pip takes them from pip's configuration


# 1. plain py_test on @pypi_cu130//torch fails the CDLL-by-soname check; torch_py_test passes -----

LAZY_SONAMES = ("libcudnn_ops.so.9", "libcudnn_graph.so.9", "libnvJitLink.so.13", "libcusparseLt.so.0", "libnccl.so.2")


def test_plain_py_test_cannot_open_cuda_libraries_by_soname(ws):
    # bazel test exits 3 when a test fails.
    report = _result(_bazel_test(ws, "//:plain_libs_test", expect=3))
    assert not report["patterns_unmatched"], report["patterns_unmatched"]
    assert len(report["roots"]) > 20, report["roots"]  # one site-packages per wheel repository
    assert all("pypi_cu130_" in root for root in report["roots"]), report["roots"]
    failed = set(report["lazy_failed"])
    for soname in LAZY_SONAMES:
        assert soname in failed, sorted(failed)
    assert any(s.startswith("libnvrtc-builtins.so.13") for s in failed), sorted(failed)
    # torch's own libraries do not resolve either: $ORIGIN/../../nvidia/*/lib is not there.
    assert any(name.startswith("torch/lib/") for name in report["ldd_failed"]), sorted(report["ldd_failed"])


def test_torch_py_test_opens_every_library(ws):
    report = _result(_bazel_test(ws, "//:libs_test"))
    assert not report["patterns_unmatched"], report["patterns_unmatched"]
    assert not report["lazy_failed"], report["lazy_failed"]
    lazy = set(report["lazy"])
    for soname in LAZY_SONAMES:
        assert soname in lazy, sorted(lazy)
    assert any(s.startswith("libnvrtc-builtins.so.13") for s in lazy), sorted(lazy)
    assert all("pypi_cu130_" in root for root in report["roots"]), report["roots"]


def test_import_torch(ws):
    out = _bazel_test(ws, "//:import_test", "--test_output=all")
    assert "import torch:" in out, out[-4000:]
    assert f"torch {TORCH}" in out and "cuda 13.0" in out, out[-4000:]
    assert "pypi_cu130_torch" in out, out[-4000:]
    assert "cuda available: False" in out, out[-4000:]


# 2. a foreign libcudart.so.13 first on LD_LIBRARY_PATH does not shadow the wheel's --------------


def test_foreign_cudart_does_not_shadow(ws):
    fake = ws.root / "fake_cuda"
    report = _result(_bazel_test(ws, "//:cudart_test", f"--test_env=LD_LIBRARY_PATH={fake}"))
    assert report["LD_LIBRARY_PATH"].split(":")[-1] == str(fake), report["LD_LIBRARY_PATH"]
    assert report["wheel_copies"] >= 1, report
    assert report["after_cdll"] and all("pypi_cu130_nvidia_cuda_runtime" in p for p in report["after_cdll"]), report
    assert not report["foreign"], report
    assert "import_error" not in report, report["import_error"]


# 3. every shared library of the pip.parse wheel repositories resolves under the launcher -------


def test_every_library_resolves_under_launcher(ws):
    report = _result(_bazel_test(ws, "//:libs_test"))
    assert not report["ldd_failed"], report["ldd_failed"]
    assert report["ldd_checked"] > 50, report["ldd_checked"]
    # The only exceptions are optional plugins that need a host network stack (RDMA, MPI, UCX).
    for path in report["host_optional"]:
        assert path.startswith(("nvidia/nvshmem/lib/nvshmem_", "nvidia/cu13/lib/libcufile_rdma")), report["host_optional"]
