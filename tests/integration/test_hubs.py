"""Several hubs in one module, and a dependency module's hub next to the root's of the same name."""

from harness import fake_torch

DEP_MODULE = """\
module(name = "dep")

bazel_dep(name = "rules_python", version = "0.22.1")
bazel_dep(name = "rules_torch", version = "0.1.0")

torch = use_extension("@rules_torch//torch:extensions.bzl", "torch")
torch.wheels(hub = "torch", lock = "//:torch.lock.json", default_variant = "cu121")
use_repo(torch, torch = "dep__torch")
"""

DEP_BUILD = """\
load("@rules_python//python:defs.bzl", "py_library")

exports_files(["torch.lock.json"])

py_library(name = "lib", srcs = ["dep_lib.py"], deps = ["@torch//:torch"], visibility = ["//visibility:public"])
"""

ROOT_BODY = """\
bazel_dep(name = "dep", version = "")
local_path_override(module_name = "dep", path = "dep")

torch.wheels(hub = "torch", lock = "//:torch.lock.json", default_variant = "cpu")
torch.wheels(hub = "torch_b", lock = "//:b.lock.json", default_variant = "cu118")
use_repo(torch, "torch", "torch_b")
"""

TEST = """\
import sys
import torch
print("hub", sys.argv[1], "torch:", torch.__variant__)
"""


def test_hubs_do_not_clash(workspace_factory):
    ws = workspace_factory("hubs")
    ws.lock_fake_cells([("cpu", "linux_x86_64")])
    cu118 = [ws.add_wheel(w) for w in fake_torch("cu118", "linux_x86_64")]
    ws.write_lock({("cu118", "linux_x86_64"): cu118}, path="b.lock.json")
    cu121 = [ws.add_wheel(w) for w in fake_torch("cu121", "linux_x86_64")]
    ws.write_lock({("cu121", "linux_x86_64"): cu121}, path="dep/torch.lock.json")
    ws.write("dep/MODULE.bazel", DEP_MODULE)
    ws.write("dep/BUILD.bazel", DEP_BUILD)
    ws.write("dep/dep_lib.py", "import torch\nVARIANT = torch.__variant__\n")
    ws.write_module(ROOT_BODY)
    ws.write(
        "BUILD.bazel",
        'load("@rules_torch//torch:defs.bzl", "torch_py_test")\n\n'
        'torch_py_test(name = "root", srcs = ["t.py"], main = "t.py", args = ["torch"], deps = ["@torch//:torch"])\n'
        'torch_py_test(name = "b", srcs = ["t.py"], main = "t.py", args = ["torch_b"], deps = ["@torch_b//:torch"])\n'
        'torch_py_test(name = "dep", srcs = ["d.py"], main = "d.py", deps = ["@dep//:lib"])\n',
    )
    ws.write("t.py", TEST)
    # Code of another repository imports its own modules (py_binary's "import all repositories").
    ws.write("d.py", "import dep_lib\nprint('hub dep torch:', dep_lib.VARIANT)\n")
    result = ws.bazel("test", "//:root", "//:b", "//:dep", "--test_output=all", "--nocache_test_results")
    assert result.returncode == 0, result.stdout[-4000:]
    assert "hub torch torch: cpu" in result.stdout, result.stdout[-3000:]
    assert "hub torch_b torch: cu118" in result.stdout, result.stdout[-3000:]
    # The dependency's own hub named "torch" (default cu121) is not the root's "torch".
    assert "hub dep torch: cu121" in result.stdout, result.stdout[-3000:]


REQUIREMENTS_BUILD = """\
load("@rules_torch//torch:defs.bzl", "torch_py_test")
load("@torch//:requirements.bzl", "all_requirements", "requirement")

torch_py_test(name = "req", srcs = ["t.py"], main = "t.py", args = ["req"], deps = [requirement("Torch")])

torch_py_test(name = "all", srcs = ["t.py"], main = "t.py", args = ["all"], deps = all_requirements)
"""


def test_requirement_as_pip_parse_spells_it(workspace_factory):
    """@<hub>//:requirements.bzl: requirement(name) in any spelling, all_requirements, and a
    message naming what the hub has for a package it has not."""
    ws = workspace_factory("requirements")
    ws.lock_fake_cells([("cpu", "linux_x86_64")])
    ws.write_module('torch.wheels(hub = "torch", lock = "//:torch.lock.json", default_variant = "cpu")\nuse_repo(torch, "torch")\n')
    ws.write("BUILD.bazel", REQUIREMENTS_BUILD)
    ws.write("t.py", TEST)
    result = ws.bazel("test", "//:req", "//:all", "--test_output=all")
    assert result.returncode == 0, result.stdout[-4000:]
    assert "hub req torch: cpu" in result.stdout and "hub all torch: cpu" in result.stdout, result.stdout[-3000:]
    query = ws.bazel("query", "--output=build", "//:req")
    assert 'deps = ["@torch//:torch"]' in query.stdout, query.stdout[-2000:]

    ws.write("bad/BUILD.bazel", 'load("@torch//:requirements.bzl", "requirement")\n\nalias(name = "numpy", actual = requirement("numpy"))\n')
    result = ws.bazel("build", "//bad:numpy")
    assert result.returncode != 0, result.stdout[-3000:]
    assert 'requirement("numpy"): this hub has torch. Other packages' in result.stdout, result.stdout[-3000:]
