"""The runtime against the real CUDA 13 build of torch 2.14.1: libraries load, the launcher
passes everything through, imports are hermetic, the doctor reports.

One workspace (.workspaces/cuda) and one output base for all these tests. The lock is made at
setup with the project's lock tool from the indexes configured for tests (pip's configuration
or RULES_TORCH_TEST_INDEXES) and cached in the workspace; the tests are skipped when no
configured index has torch 2.14.1. There is no GPU here: the tests prove that every library
loads, not that kernels run.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from harness import index_with_wheel, lock_real_torch

pytestmark = [pytest.mark.slow, pytest.mark.real_torch]

TORCH = "2.14.1"
VARIANT = "cu130"
PROGRAMS = Path(__file__).resolve().parent / "cuda_runtime"
# Installed in the interpreter's own site-packages (pytest runs this file; the lock tool needs
# packaging), absent from torch's closure.
HOST_ONLY_MODULES = ("pytest", "packaging")

BUILD = """\
load("@rules_python//python:defs.bzl", "py_library")
load("@rules_torch//torch:defs.bzl", "torch_py_binary", "torch_py_test")

torch_py_test(name = "import_test", size = "medium", srcs = ["import_torch.py"], main = "import_torch.py", deps = ["@torch//:torch"])

torch_py_test(name = "libs_test", size = "medium", srcs = ["check_libs.py"], main = "check_libs.py", deps = ["@torch//:torch"])

torch_py_test(name = "cudart_test", size = "medium", srcs = ["check_cudart.py"], main = "check_cudart.py", deps = ["@torch//:torch"])

torch_py_test(name = "hermetic_test", srcs = ["check_hermetic.py"], main = "check_hermetic.py", args = {modules}, deps = ["@torch//:torch"])

torch_py_binary(name = "passthrough", srcs = ["passthrough.py"], deps = ["@torch//:torch"])

# Only ever built with --nobuild_runfile_links: the launcher must find everything through
# bazel-bin/passthrough_manifest.runfiles_manifest.
torch_py_binary(name = "passthrough_manifest", srcs = ["passthrough.py"], main = "passthrough.py", deps = ["@torch//:torch"])

# The hub's doctor program with one more library whose dependency resolves nowhere.
py_library(name = "broken_lib", data = ["broken/libbroken.so"])

torch_py_binary(
    name = "doctor_broken",
    srcs = ["@rules_torch//torch/private:doctor.py"],
    main = "@rules_torch//torch/private:doctor.py",
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
    (scratch / "broken.c").write_text("int rules_torch_missing(void);\nint broken(void) { return rules_torch_missing(); }\n")
    subprocess.run(["gcc", "-shared", "-fPIC", f"-Wl,-soname,{MISSING_SONAME}", "-o", str(scratch / MISSING_SONAME), str(scratch / "missing.c")], check=True)
    subprocess.run(["gcc", "-shared", "-fPIC", "-Wl,--no-as-needed", "-o", str(out / "libbroken.so"), str(scratch / "broken.c"), str(scratch / MISSING_SONAME)], check=True)
    shutil.rmtree(scratch)


def _build_fake_cudart(root: Path) -> Path:
    """A directory holding another libcudart.so.13 (a tiny library that exports nothing)."""
    out = root / "fake_cuda"
    if not (out / "libcudart.so.13").is_file():
        out.mkdir(exist_ok=True)
        (out / "empty.c").write_text("")
        subprocess.run(["gcc", "-shared", "-fPIC", "-Wl,-soname,libcudart.so.13", "-o", str(out / "libcudart.so.13"), str(out / "empty.c")], check=True)
    return out


@pytest.fixture(scope="module")
def ws(workspace_factory):
    index = index_with_wheel("torch", f"torch-{TORCH}-cp311-cp311-manylinux")
    if index is None:
        pytest.skip(f"no configured index (RULES_TORCH_TEST_INDEXES or `pip config list`) has torch {TORCH} for cp311 manylinux x86_64 (the CUDA 13 build)")
    if shutil.which("gcc") is None:
        pytest.skip("gcc is needed to build the test's stand-in libraries")
    ws = workspace_factory("cuda")
    lock_real_torch(ws, TORCH, VARIANT, index)
    ws.write("MODULE.bazel", "")  # replaced below; Workspace writes no MODULE by itself
    ws.write_module(MODULE)
    ws.write("BUILD.bazel", BUILD.format(modules=repr(list(HOST_ONLY_MODULES))))
    for program in PROGRAMS.glob("*.py"):
        ws.write(program.name, program.read_text())
    _build_broken_library(ws.root)
    _build_fake_cudart(ws.root)
    return ws
