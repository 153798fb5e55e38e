"""torch.from_pip: one @torch hub over the user's per-variant rules_python pip.parse hubs."""

import oci
import pytest
from harness import fake_torch

PIP = """\
pip = use_extension("@rules_python//python/extensions:pip.bzl", "pip")
pip.parse(
    name = "pypi_cpu",
    extra_pip_args = ["--find-links={wheels}", "--no-index"],
    incompatible_generate_aliases = True,
    requirements_lock = "//:requirements_cpu.txt",
)
pip.parse(
    name = "pypi_cu121",
    extra_pip_args = ["--find-links={wheels}", "--no-index"],
    incompatible_generate_aliases = True,
    requirements_lock = "//:requirements_cu121.txt",
)
use_repo(pip, "pypi_cpu", "pypi_cu121")
"""

TAG = """\
torch.from_pip(hub = "torch", packages = {packages}, variants = {variants})
use_repo(torch, "torch")
"""

TEST = """\
import os
import sys

import torch

want = os.environ["WANT_VARIANT"]
print("got", torch.__version__, torch.__variant__, torch.__file__)
if torch.__variant__ != want:
    sys.exit(f"expected the {want} torch, got {torch.__variant__}")
if want.startswith("cu") and "nvidia/cuda_runtime/lib" not in os.environ.get("RULES_TORCH_LIB_DIRS", ""):
    sys.exit("the launcher did not find the CUDA library directory of pip.parse's nvidia wheel")
"""


def _requirements(ws, variant):
    lines = []
    for wheel in fake_torch(variant, "linux_x86_64"):
        entry = ws.add_wheel(wheel)
        lines.append(f"{wheel.name}=={wheel.version} --hash=sha256:{entry['sha256']}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def ws(workspace_factory):
    ws = workspace_factory("from_pip")
    ws.write("requirements_cpu.txt", _requirements(ws, "cpu"))
    ws.write("requirements_cu121.txt", _requirements(ws, "cu121"))
    ws.write("BUILD.bazel", 'load("@rules_torch//torch:defs.bzl", "torch_py_test")\n\ntorch_py_test(name = "t", srcs = ["t.py"], deps = ["@torch//:torch"])\n')
    ws.write("t.py", TEST)
    # The same test through the hub's requirement(), as pip.parse users spell it.
    ws.write(
        "req/BUILD.bazel",
        'load("@rules_torch//torch:defs.bzl", "torch_py_test")\nload("@torch//:requirements.bzl", "requirement")\n\n'
        'torch_py_test(name = "t", srcs = ["//:t.py"], main = "//:t.py", deps = [requirement("torch")])\n',
    )
    ws.write("BUILD.bazel", ws.root.joinpath("BUILD.bazel").read_text() + 'exports_files(["t.py"])\n')
    return ws


def _module(ws, packages='["torch"]', variants='{"cpu": "@pypi_cpu", "cu121": "@pypi_cu121"}'):
    ws.write_module(PIP.format(wheels=ws.root / "wheels") + TAG.format(packages=packages, variants=variants))


@pytest.mark.parametrize(("config", "variant"), [("cpu", "cpu"), ("cuda121", "cu121")])
def test_config_selects_pip_hub(ws, config, variant):
    _module(ws)
    result = ws.bazel("test", "//:t", "//req:t", f"--config={config}", f"--test_env=WANT_VARIANT={variant}", "--test_output=all", "--nocache_test_results")
    assert result.returncode == 0, result.stdout[-4000:]
    assert result.stdout.count(f"got 2.5.1+{variant} {variant}") == 2, result.stdout[-4000:]
    assert f"pypi_{variant}_torch" in result.stdout, "torch did not come from the pip.parse wheel repository"


def test_variant_not_mapped(ws):
    _module(ws)
    result = ws.bazel("build", "//:t", "--config=cuda118")
    assert result.returncode != 0
    for fragment in ["has no torch for variant 'cu118'", "available in torch.from_pip(hub = \"torch\"): cpu, cu121", '"{variant}"'.replace("{variant}", "cu118")]:
        assert fragment in result.stdout, result.stdout[-3000:]


def test_not_a_pip_hub(ws):
    _module(ws, variants='{"cpu": "@pypi_cpu", "cu121": "@platforms"}')
    result = ws.bazel("build", "//:t")
    assert result.returncode != 0
    assert "maps variant 'cu121' to @@platforms," in result.stdout and "not a rules_python pip hub" in result.stdout, result.stdout[-3000:]


def test_package_missing_from_hub(ws):
    _module(ws, packages='["torch", "torchvision"]')
    result = ws.bazel("build", "//:t")
    assert result.returncode != 0
    assert "has no package 'torchvision'" in result.stdout and "--requirements-dir" in result.stdout, result.stdout[-3000:]


def test_default_variant_not_mapped(ws):
    _module(ws, variants='{"cu121": "@pypi_cu121"}')
    result = ws.bazel("build", "//:t")
    assert result.returncode != 0
    assert "default_variant 'cpu' is not mapped (variants: cu121)" in result.stdout, result.stdout[-3000:]


def test_image_layers_put_pip_parse_torch_in_the_deps_layer(ws):
    """A torch.from_pip binary has no cell tree: its torch is a pip.parse wheel repository in the
    runfiles, so the image holds it in the deps layer, and no torch or cuda layer is made."""
    _module(ws)
    ws.write(
        "img/BUILD.bazel",
        'load("@rules_torch//torch:defs.bzl", "torch_py_binary", "torch_py_image_layers")\n\n'
        'torch_py_binary(name = "main", srcs = ["//:t.py"], main = "//:t.py", deps = ["@torch//:torch"])\n\n'
        'torch_py_image_layers(name = "layers", binary = ":main")\n',
    )
    result = ws.bazel("build", "//img:layers", "--config=cpu", "--output_groups=+listing")
    assert result.returncode == 0, result.stdout[-4000:]
    listed = (ws.root / "bazel-bin" / "img" / "layers.layers.txt").read_text().split()
    assert listed == ["img/layers.deps.tar", "img/layers.app.tar"], listed
    deps = oci.tar_members(ws.root / "bazel-bin" / "img" / "layers.deps.tar")
    app = oci.tar_members(ws.root / "bazel-bin" / "img" / "layers.app.tar")
    torch_files = [name for name in deps if name.endswith("/torch/__init__.py")]
    assert len(torch_files) == 1 and "pypi_cpu_torch" in torch_files[0], sorted(deps)[:40]
    assert not any(name.endswith("/torch/__init__.py") for name in app), "torch is in the app layer too"
