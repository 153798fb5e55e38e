"""Which interpreter installs a cell's tree: the Python toolchain's, in a build action, or the
one torch.wheels(python_interpreter_target = ...) names. Fetching runs none: hermetic-Python
users may have no python3 on the host's PATH.

The stand-in for a rules_python toolchain's interpreter is a repository of the test module
holding `bin/python3`, a script that records each call and runs this machine's Python.
Repository rules see a PATH without any python3 (--repo_env=PATH=/nonexistent; builds of
@torch//:torch, which need no C++ toolchain), and actions one whose first python3 fails.
"""

from pathlib import Path

import pytest
from harness import HOST_PYTHON, fake_torch

NO_PATH = "--repo_env=PATH=/nonexistent"
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

STAND_IN = """\
def _stand_in_repo_impl(rctx):
    rctx.file("bin/python3", "#!/bin/sh\\necho \\"$*\\" >> {log}\\nexec {python} \\"$@\\"\\n", executable = True)
    rctx.file("BUILD.bazel", 'exports_files(["bin/python3"])\\n')

_stand_in_repo = repository_rule(implementation = _stand_in_repo_impl)

def _stand_in_impl(_mctx):
    _stand_in_repo(name = "stand_in")

stand_in = module_extension(implementation = _stand_in_impl)
"""

MODULE = """\
stand_in = use_extension("//:stand_in.bzl", "stand_in")
use_repo(stand_in, "stand_in")

torch.wheels(hub = "torch", lock = "//:torch.lock.json"{interpreter})
use_repo(torch, "torch")
"""

TEST = """\
import torch

assert torch.__variant__ == "cpu", torch.__variant__
print("imported", torch.__file__)
"""


def _workspace(make, name, interpreter, python="3.11"):
    ws = make(name)
    ws.write_lock({("cpu", "linux_x86_64", python): [ws.add_wheel(w) for w in fake_torch("cpu", "linux_x86_64", python=python)]})
    log = ws.root / "interpreter.log"
    log.unlink(missing_ok=True)
    ws.write("stand_in.bzl", STAND_IN.format(log=log, python=HOST_PYTHON))
    ws.write("BUILD.bazel", 'load("@rules_torch//torch:defs.bzl", "torch_py_test")\n\ntorch_py_test(name = "t", srcs = ["t.py"], deps = ["@torch//:torch"])\n')
    ws.write("t.py", TEST)
    ws.write_module(MODULE.format(interpreter=f", python_interpreter_target = {interpreter!r}" if interpreter else ""))
    ws.bazel("clean")  # the install action must run in this test, not come from an earlier run's outputs
    return ws, log


def _tree(ws, python="3.11") -> Path:
    return ws.tree_dirs(f"cpu_linux_x86_64_cp{python.replace('.', '')}")[0]


def test_interpreter_target_installs_the_tree(workspace_factory):
    ws, log = _workspace(workspace_factory, "interpreter_target", "@stand_in//:bin/python3")
    poison = ws.write("poison/python3", "#!/bin/sh\necho 'python3 from PATH was used' >&2\nexit 97\n")
    poison.chmod(0o755)
    result = ws.bazel("build", "@torch//:torch", NO_PATH, f"--action_env=PATH={poison.parent}:{SYSTEM_PATH}")
    assert result.returncode == 0, result.stdout[-4000:]
    calls = log.read_text()
    assert "extract_wheels.py" in calls and "--compile 3.11" in calls, calls
    assert list((_tree(ws) / "torch" / "__pycache__").glob("__init__.cpython-311.pyc"))
    result = ws.bazel("test", "//:t")
    assert result.returncode == 0, result.stdout[-4000:]


def test_fetch_runs_no_interpreter(workspace_factory):
    """Without python_interpreter_target, the Python toolchain's interpreter installs the tree
    in a build action: fetching needs nothing from the host's PATH."""
    ws, log = _workspace(workspace_factory, "interpreter_none", None)
    result = ws.bazel("build", "@torch//:torch", NO_PATH)
    assert result.returncode == 0, result.stdout[-4000:]
    assert not log.exists(), "the stand-in interpreter ran although no tag names it"
    assert list((_tree(ws) / "torch" / "__pycache__").glob("__init__.cpython-311.pyc"))


@pytest.mark.parametrize(("label", "why"), [("@stand_in//:bin", "a directory"), ("@stand_in//:bin/python9", "no such file")])
def test_interpreter_that_is_not_a_file(workspace_factory, label, why):
    ws, _ = _workspace(workspace_factory, "interpreter_bad", label)
    result = ws.bazel("build", "@torch//:torch", NO_PATH)
    assert result.returncode != 0
    out = result.stdout
    assert "is not an interpreter file" in out and f"({why})" in out, out[-4000:]
    assert "python_3_11_host//:python" in out


def test_interpreter_of_another_python_makes_no_pycs_and_warns(workspace_factory):
    ws, log = _workspace(workspace_factory, "interpreter_other", "@stand_in//:bin/python3", python="3.12")
    result = ws.bazel("build", "@torch//:torch", NO_PATH)
    assert result.returncode == 0, result.stdout[-4000:]
    assert "cell cpu_linux_x86_64_cp312 (lock" in result.stdout and "is for Python 3.12" in result.stdout, result.stdout[-4000:]
    assert "is Python 3.11: no pycs" in result.stdout
    assert "extract_wheels.py" in log.read_text()
    tree = _tree(ws, "3.12")
    assert (tree / "torch" / "__init__.py").is_file()
    assert not list(tree.rglob("*.pyc"))
