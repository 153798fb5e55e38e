"""The interpreter must be the Python a cell is locked for, or the launcher says so before Python
starts: which Python it found, which the cell needs, where the interpreter came from and the fix.
Before, a cp311 cell under another Python died inside torch ("Failed to load PyTorch C
extensions ... loaded the torch/_C folder of the PyTorch repository").

A fake torch cell locked for Python 3.11 (this machine's python3, which Bazel's autodetecting
toolchain runs), and two ways to get another interpreter: Bazel 9's strict action environment
(PATH=/bin:/usr/bin:/usr/local/bin, where python3 is the system's), and a registered toolchain
whose interpreter_path is the system's python3.
"""

from __future__ import annotations

import re

import pytest
from harness import HOST_PYTHON, fake_torch

BUILD = """\
load("@rules_torch//torch:defs.bzl", "torch_py_test")

torch_py_test(name = "t", srcs = ["t.py"], deps = ["@torch//:torch"])
"""

TOOLCHAIN_BUILD = """\
load("@rules_python//python:defs.bzl", "py_runtime", "py_runtime_pair")

py_runtime(name = "system_python", interpreter_path = "/usr/bin/python3", python_version = "PY3")

py_runtime_pair(name = "system_pair", py3_runtime = ":system_python")

toolchain(name = "system_toolchain", toolchain = ":system_pair", toolchain_type = "@bazel_tools//tools/python:toolchain_type")

py_runtime(name = "free_threaded_python", interpreter_path = "{free_threaded}", python_version = "PY3")

py_runtime_pair(name = "free_threaded_pair", py3_runtime = ":free_threaded_python")

toolchain(name = "free_threaded_toolchain", toolchain = ":free_threaded_pair", toolchain_type = "@bazel_tools//tools/python:toolchain_type")
"""

# No free-threaded CPython is installable here (Debian's sid and PyPI ship none), so a stand-in:
# the machine's Python 3.11, except that it answers the launcher's probe as a free-threaded build
# would (sys.abiflags with "t": "3.11t"). What is tested is the launcher's decision, not CPython.
FREE_THREADED = """\
#!/bin/sh
if [ "$1" = -S ] && [ "$2" = -c ]; then
  echo "3.11t $0"
  exit 0
fi
exec {python} "$@"
"""

MODULE = 'torch.wheels(hub = "torch", lock = "//:torch.lock.json", default_variant = "cpu")\nuse_repo(torch, "torch")\n'


@pytest.fixture(scope="module")
def ws(workspace_factory):
    ws = workspace_factory("wrong_interpreter")
    ws.write_lock({("cpu", "linux_x86_64"): [ws.add_wheel(w) for w in fake_torch("cpu", "linux_x86_64")]})
    ws.write_module(MODULE)
    ws.write("t.py", "import sys\nimport torch\nprint('torch', torch.__version__, 'on python %d.%d' % sys.version_info[:2])\n")
    ws.write("BUILD.bazel", BUILD)
    stand_in = ws.write("toolchain/python3.11t", FREE_THREADED.format(python=HOST_PYTHON))
    stand_in.chmod(0o755)
    ws.write("toolchain/BUILD.bazel", TOOLCHAIN_BUILD.format(free_threaded=stand_in))
    return ws


def _log(ws, *flags: str) -> tuple[int, str]:
    result = ws.bazel("test", "--test_output=all", "--nocache_test_results", *flags, "//:t")
    if result.returncode == 0:
        # The program ran: under Python 3.11, or the launcher let another Python through.
        assert "on python 3.11" in result.stdout, result.stdout[-3000:]
    return result.returncode, result.stdout


def test_the_right_interpreter_runs(ws):
    code, out = _log(ws)
    assert code == 0 and "torch 2.5.1+cpu on python 3.11" in out, out[-3000:]


def _wrong(out: str) -> str:
    match = re.search(r"would run Python (3\.\d+t?)(?: \(free-threaded\))? \(([^)]*)\), but cell cpu_linux_x86_64_cp311 is locked for Python 3\.11", out)
    assert match, out[-3000:]
    assert "Failed to load PyTorch C extensions" not in out
    assert 'Fix: register a Python 3.11 toolchain (rules_python: python.toolchain(python_version = "3.11"))' in out, out[-3000:]
    assert f"or lock a cell for this Python (the lock tool's --python {match.group(1)})" in out, out[-3000:]
    return match.group(1)


def test_strict_action_env_finds_another_python(ws):
    code, out = _log(ws, "--incompatible_strict_action_env")
    if code == 0:
        pytest.skip("python3 on /bin:/usr/bin:/usr/local/bin is Python 3.11 here: no other interpreter to catch")
    _wrong(out)
    assert "The interpreter is Bazel's autodetecting Python toolchain, which runs the first python3 on the test's PATH" in out, out[-3000:]


def test_a_toolchain_of_another_python(ws):
    code, out = _log(ws, "--extra_toolchains=//toolchain:system_toolchain")
    if code == 0:
        pytest.skip("/usr/bin/python3 is Python 3.11 here: no other interpreter to catch")
    _wrong(out)
    assert "The interpreter is the Python toolchain's interpreter_path /usr/bin/python3." in out, out[-3000:]


def test_a_free_threaded_build_of_the_cells_python(ws):
    code, out = _log(ws, "--extra_toolchains=//toolchain:free_threaded_toolchain")
    assert code != 0, out[-3000:]
    assert _wrong(out) == "3.11t"
    assert "would run Python 3.11t (free-threaded) (" in out, out[-3000:]
