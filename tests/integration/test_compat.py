"""The compatibility matrix: rules_torch in a user's module on each rules_python version.

For each version: a module with a `pip.parse` of its own (written in that version's spelling),
`torch.wheels` on the real torch 2.13.0+cpu with `pip_deps` from that pip hub,
`torch.from_pip` over the same hub, and `bazel run @rules_torch//python:lock -- --help`;
on rules_python 2.x the tests run again under `--bootstrap_impl=script` and
`--venvs_site_packages=yes`.

0.22.1 is Debian's (the offline Bazel pins it). The newer versions come from a local registry
(../shared/tools/rp-registry.sh, see tools/rp_registry.sh): RULES_TORCH_RP_REGISTRY names its
directory. A version the registry lacks is reported by name as NOT TESTED (a skip with that
reason, listed by `pytest -rs`); with RULES_TORCH_REQUIRE_RP_REGISTRY=1 it is a failure.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from harness import HOST_PYTHON, NEXT_BAZEL, NEXT_BAZEL_REGISTER, REPO
from pip_config import configured_find_links

LOCK = REPO / "tests" / "locks" / "torch_cpu.lock.json"
CELL = "cpu_linux_x86_64_cp311"
# RULES_TORCH_COMPAT_VERSIONS (comma-separated) narrows the matrix: the next-bazel step runs two.
VERSIONS = [v for v in os.environ.get("RULES_TORCH_COMPAT_VERSIONS", "0.22.1,1.9.2,2.1.0,2.3.2").split(",") if v]

REGISTRY_RC = """\
common --registry=file://{registry}
common --override_module=rules_python=
common --override_module=rules_cc=
common --override_module=bazel_features=
"""

# rules_python 1.x/2.x register a hermetic (downloaded) Python by default; offline, the module
# registers the host's interpreter for both toolchain types instead, as a user without network
# access would.
TOOLCHAINS_BUILD = """\
load("@rules_python//python:py_exec_tools_toolchain.bzl", "py_exec_tools_toolchain")
load("@rules_python//python:py_runtime.bzl", "py_runtime")
load("@rules_python//python:py_runtime_pair.bzl", "py_runtime_pair")

py_runtime(name = "host_runtime", interpreter_path = "{python}", python_version = "PY3")

py_runtime_pair(name = "host_pair", py3_runtime = ":host_runtime")

toolchain(name = "host", toolchain = ":host_pair", toolchain_type = "@rules_python//python:toolchain_type")

py_exec_tools_toolchain(name = "exec_tools")

toolchain(name = "host_exec_tools", toolchain = ":exec_tools", toolchain_type = "@rules_python//python:exec_tools_toolchain_type")
"""

MODULE = """\
module(name = "it_compat_{slug}")

bazel_dep(name = "rules_python", version = "{version}")
bazel_dep(name = "rules_torch", version = "0.1.0")
local_path_override(module_name = "rules_torch", path = {repo!r})
{toolchains}
pip = use_extension("@rules_python//python/extensions:pip.bzl", "pip")
pip.parse(
    {pip_attrs},
    extra_pip_args = {pip_args!r},
    requirements_lock = "//:requirements.txt",
)
use_repo(pip, "user_pypi")

torch = use_extension("@rules_torch//torch:extensions.bzl", "torch")
torch.wheels(hub = "torch", lock = "//:torch.lock.json", pip_deps = "@user_pypi")
torch.from_pip(hub = "torch_pip", variants = {{"cpu": "@user_pypi"}})
use_repo(torch, "torch", "torch_pip")
"""

BUILD = """\
load("@rules_torch//torch:defs.bzl", "torch_py_test")

torch_py_test(name = "spoke_test", srcs = ["spoke_test.py"], deps = ["@torch//:torch"])

torch_py_test(name = "from_pip_test", srcs = ["from_pip_test.py"], deps = ["@torch_pip//:torch"])
"""

SPOKE_TEST = """\
import sympy
import torch

print("torch", torch.__version__, torch.__file__)
print("sympy", sympy.__file__)
assert torch.__version__ == "2.13.0+cpu", torch.__version__
assert "torch__cpu_linux_x86_64_cp311" in torch.__file__, "torch is not the spoke's: " + torch.__file__
assert "user_pypi" in sympy.__file__, "sympy is not the pip.parse hub's (pip_deps): " + sympy.__file__
assert float(torch.tensor([1.0, 2.0]).sum()) == 3.0
"""

FROM_PIP_TEST = """\
import torch

print("torch", torch.__version__, torch.__file__)
assert torch.__version__ == "2.13.0+cpu", torch.__version__
assert "user_pypi" in torch.__file__, "torch is not pip.parse's: " + torch.__file__
assert float(torch.tensor([1.0, 2.0]).sum()) == 3.0
"""


def _registry_problem(version: str) -> str | None:
    """Why `version` cannot be tested here, or None."""
    if version == "0.22.1":
        return None
    registry = os.environ.get("RULES_TORCH_RP_REGISTRY")
    if not registry:
        return "RULES_TORCH_RP_REGISTRY is not set (build the registry with tools/rp_registry.sh)"
    if not (Path(registry) / "modules" / "rules_python" / version / "MODULE.bazel").is_file():
        return f"the registry {registry} has no rules_python {version}"
    return None


def _requirements() -> str:
    lock = json.loads(LOCK.read_text())
    wheels = lock["cells"][CELL]["wheels"]
    return "".join(f"{w['name']}=={w['version']} --hash=sha256:{w['sha256']}\n" for w in wheels)


def _pip_args() -> list[str]:
    """Where pip.parse finds torch 2.13.0+cpu: the machine's find-links directories. The
    pure-Python wheels come from PyPI. (Index URLs are not passed: rules_python 2.1.0 then
    queries each index with Bazel's downloader first, and fails on a file:// index that lacks a
    project.)"""
    return [f"--find-links={link}" for link in configured_find_links()]


@pytest.fixture(scope="module", params=VERSIONS)
def compat(request, workspace_factory):
    version = request.param
    problem = _registry_problem(version)
    if problem:
        message = f"rules_python {version} NOT TESTED: {problem}"
        if os.environ.get("RULES_TORCH_REQUIRE_RP_REGISTRY") == "1":
            pytest.fail(message)
        pytest.skip(message)
    slug = version.replace(".", "_")
    ws = workspace_factory(f"compat_{slug}", heavy=True)
    modern = version != "0.22.1"
    if modern:
        ws.write(".bazelrc", ws.root.joinpath(".bazelrc").read_text() + REGISTRY_RC.format(registry=os.environ["RULES_TORCH_RP_REGISTRY"]))
        ws.write("toolchains/BUILD.bazel", TOOLCHAINS_BUILD.format(python=HOST_PYTHON))
        toolchains = '\nregister_toolchains("//toolchains:all")\n'
        pip_attrs = f'hub_name = "user_pypi",\n    python_interpreter = "{HOST_PYTHON}",\n    python_version = "3.11"'
    else:
        # The next-bazel step's registered Python toolchain (harness.NEXT_BAZEL); 0.22.1 has none.
        toolchains = NEXT_BAZEL_REGISTER if NEXT_BAZEL else ""
        pip_attrs = 'name = "user_pypi",\n    incompatible_generate_aliases = True'
    ws.write("requirements.txt", _requirements())
    ws.write("torch.lock.json", LOCK.read_text())
    ws.write("BUILD.bazel", BUILD)
    ws.write("spoke_test.py", SPOKE_TEST)
    ws.write("from_pip_test.py", FROM_PIP_TEST)
    ws.write(
        "MODULE.bazel",
        MODULE.format(slug=slug, version=version, repo=str(REPO), toolchains=toolchains, pip_attrs=pip_attrs, pip_args=_pip_args()),
    )
    ws.bazel("shutdown")  # registry files are cached by the server
    return version, ws


def _tests_pass(ws, *flags: str) -> str:
    result = ws.bazel("test", "//:spoke_test", "//:from_pip_test", "--test_output=all", "--nocache_test_results", *flags, timeout=1500)
    assert result.returncode == 0, result.stdout[-8000:]
    return result.stdout


@pytest.mark.real_torch
def test_torch_wheels_pip_deps_and_from_pip(compat):
    version, ws = compat
    out = _tests_pass(ws)
    assert "2 tests pass" in out, out[-3000:]
    # The version under test is the one resolved (0.22.1: Debian's override, shown as "@_").
    resolved = ws.bazel("mod", "graph", "--depth=1")
    shown = "rules_python@_" if version == "0.22.1" else f"rules_python@{version}"
    assert shown in resolved.stdout, resolved.stdout[-2000:]


@pytest.mark.real_torch
def test_lock_tool_runs(compat):
    _, ws = compat
    result = ws.bazel("run", "@rules_torch//python:lock", "--", "--help")
    assert result.returncode == 0, result.stdout[-4000:]
    assert "usage: python3 -m rules_torch.lock" in result.stdout


@pytest.mark.real_torch
def test_script_bootstrap_and_venv_site_packages(compat):
    version, ws = compat
    if not version.startswith("2."):
        pytest.skip(f"rules_python {version}: --bootstrap_impl=script and venvs_site_packages are tested on 2.x")
    _tests_pass(
        ws,
        "--@rules_python//python/config_settings:bootstrap_impl=script",
        "--@rules_python//python/config_settings:venvs_site_packages=yes",
    )
