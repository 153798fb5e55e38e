"""torch_py_image_layers on examples/cuda's cu130 binary (real torch 2.14.1 and its NVIDIA wheels,
~3 GB): a cuda layer of the NVIDIA libraries, shared by two binaries, and an OCI image that runc
runs: torch imports and the CUDA libraries open by soname with no LD_LIBRARY_PATH from outside.
Slow (the closure, ~9 GB of output base, expunged after); skipped loudly where runc cannot run."""

from __future__ import annotations

import json
import shutil

import oci
import pytest
from harness import REPO, real_cuda_workspace
from oci import sha256

pytestmark = [pytest.mark.slow, pytest.mark.real_torch]

EXAMPLE = REPO / "examples" / "cuda"
LAYERS = ["cuda", "torch", "deps", "app"]
SONAMES = ["libcudart.so.13", "libcublas.so.13", "libcudnn.so.9", "libnccl.so.2"]

# A second program on the cell: opens the CUDA libraries by soname, as torch does.
SONAMES_PY = f"""\
import ctypes

import torch

print("torch", torch.__version__, "CUDA", torch.version.cuda)
for soname in {SONAMES!r}:
    ctypes.CDLL(soname)
    print("opened", soname)
"""

BUILD = """
torch_py_binary(
    name = "sonames",
    srcs = ["sonames.py"],
    deps = ["@torch"],
)

torch_py_image_layers(
    name = "train_layers",
    binary = ":train",
)

torch_py_image_layers(
    name = "sonames_layers",
    binary = ":sonames",
)
"""


def prepare(ws, _index):
    for name in ["train.py", "model.py", ".bazelrc", "third_party/BUILD.bazel", "third_party/torch.lock.json", "third_party/torch_cu130.lock.json"]:
        (ws.root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(EXAMPLE / name, ws.root / name)
    ws.write("MODULE.bazel", (EXAMPLE / "MODULE.bazel").read_text().replace('path = "../.."', f"path = {str(REPO)!r}"))
    build = (EXAMPLE / "BUILD.bazel").read_text().replace('"torch_py_binary",', '"torch_py_binary", "torch_py_image_layers",')
    ws.write("BUILD.bazel", build + BUILD)
    ws.write("sonames.py", SONAMES_PY)


@pytest.fixture(scope="module")
def ws(workspace_factory):
    return real_cuda_workspace(
        workspace_factory, "image_layers_cuda", 20, prepare,
        ["--config=cuda130", "//:train_layers", "//:sonames_layers", "--output_groups=+listing"], timeout=1500,
    )


def layer_paths(ws, name):
    return {layer: ws.root / "bazel-bin" / f"{name}.{layer}.tar" for layer in LAYERS}


def test_cuda_image(ws, tmp_path):
    train, sonames = layer_paths(ws, "train_layers"), layer_paths(ws, "sonames_layers")
    listed = (ws.root / "bazel-bin" / "train_layers.layers.txt").read_text().split()
    assert listed == [f"train_layers.{layer}.tar" for layer in LAYERS], listed
    for layer in ["cuda", "torch"]:
        assert sha256(train[layer]) == sha256(sonames[layer]), f"the {layer} layers of two binaries on one cell differ"
    cuda = oci.tar_members(train["cuda"])
    assert all(name.split("/site-packages/", 1)[1].startswith("nvidia") for name in cuda if "/site-packages/" in name)
    assert any(name.endswith("/libcudart.so.13") for name in cuda)
    assert not any("/site-packages/nvidia/" in name for name in oci.tar_members(train["torch"]))

    oci.require_oci_tools()
    layout = tmp_path / "layout"
    # One image, two programs: the shared layers once, then each program's app layer.
    try:
        oci.build_image(layout, [train[layer] for layer in LAYERS] + [sonames["app"]], "/app/bin/train")
        bundle = tmp_path / "bundle"
        oci.unpack(layout, bundle)
        result = oci.run_bundle(bundle, f"rules-torch-cuda-{tmp_path.name}", command="/app/bin/sonames")
        out = result.stdout + result.stderr
        assert result.returncode == 0, out[-4000:]
        assert "torch 2.14.1" in out and "CUDA 13" in out, out[-4000:]
        env = json.loads((bundle / "config.json").read_text())["process"]["env"]
        assert not any(e.startswith("LD_LIBRARY_PATH=") for e in env), f"the image sets LD_LIBRARY_PATH: {env}"
        for soname in SONAMES:
            assert f"opened {soname}" in out, out[-4000:]
        result = oci.run_bundle(bundle, f"rules-torch-cuda-{tmp_path.name}", timeout=600)
        out = result.stdout + result.stderr
        assert result.returncode == 0, out[-4000:]
        assert "torch 2.14.1" in out and "training accuracy" in out, out[-4000:]
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)
