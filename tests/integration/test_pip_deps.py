"""torch.wheels(pip_deps = "@pypi"): torch's pure-Python dependencies come from the user's own
rules_python pip.parse hub, so a binary never carries two copies of them. Real torch 2.13.0+cpu."""

import json

import pytest
from harness import REPO

LOCK = REPO / "tests" / "locks" / "torch_cpu.lock.json"

MODULE = """\
pip = use_extension("@rules_python//python/extensions:pip.bzl", "pip")
pip.parse(name = "pypi", incompatible_generate_aliases = True, requirements_lock = "//:requirements.txt")
use_repo(pip, "pypi")

torch.wheels(hub = "torch", lock = "//:torch.lock.json", pip_deps = "@pypi")
use_repo(torch, "torch")
"""

TEST = """\
import sys

import jinja2
import sympy
import torch

print("torch", torch.__file__)
print("sympy", sympy.__file__)
assert torch.__version__ == "2.13.0+cpu", torch.__version__
assert "torch__cpu_linux_x86_64_cp311" in torch.__file__, torch.__file__
for module in (sympy, jinja2):
    assert "pip~pypi_" in module.__file__, f"{module.__name__} did not come from the pip.parse hub: {module.__file__}"
copies = [p for p in sys.path if p.endswith("site-packages")]
print("site-packages on sys.path:", copies)
assert float(torch.tensor([1.0, 2.0]).sum()) == 3.0
"""


@pytest.mark.real_torch
def test_pure_deps_from_pip_parse(workspace_factory):
    ws = workspace_factory("pip_deps", heavy=True)
    lock = json.loads(LOCK.read_text())
    wheels = lock["cells"]["cpu_linux_x86_64_cp311"]["wheels"]
    pure = [w for w in wheels if w["name"] != "torch"]
    ws.write("requirements.txt", "".join(f"{w['name']}=={w['version']} --hash=sha256:{w['sha256']}\n" for w in pure))
    ws.write("torch.lock.json", LOCK.read_text())
    ws.write("BUILD.bazel", 'load("@rules_torch//torch:defs.bzl", "torch_py_test")\n\ntorch_py_test(name = "t", srcs = ["t.py"], deps = ["@torch//:torch"])\n')
    ws.write("t.py", TEST)
    ws.write_module(MODULE)
    result = ws.bazel("test", "//:t", "--test_output=all", "--nocache_test_results")
    assert result.returncode == 0, result.stdout[-4000:]
    assert "pip~pypi_sympy" in result.stdout
    # The spoke holds torch only: its pure-Python dependencies were never downloaded into it.
    spoke = ws.tree_dirs("cpu_linux_x86_64_cp311")[0]
    assert (spoke / "torch").is_dir()
    for name in ("sympy", "jinja2", "networkx", "filelock"):
        assert not (spoke / name).exists(), f"{name} is in the spoke although pip_deps supplies it"
