"""torch_py_image_layers on examples/container (real torch 2.13.0, CPU): deterministic layers,
shared by two binaries on one cell, only the app layer rebuilt after an edit, and an OCI image
(umoci, on a cached debootstrap base) that runc runs (skipped loudly where runc cannot run).
On fake cells: a CUDA variant's cuda layer, and --platforms choosing an aarch64 torch layer."""

from __future__ import annotations

import dataclasses
import shutil
import struct
import tarfile
from pathlib import Path

import oci
import pytest
from harness import REPO, fake_torch
from oci import sha256

EXAMPLE = REPO / "examples" / "container"
MAIN_LAYERS = ["torch", "deps", "app"]


@pytest.fixture(scope="module")
def ws(workspace_factory):
    ws = workspace_factory("image_layers")
    for path in EXAMPLE.rglob("*"):
        if path.is_file() and not path.relative_to(EXAMPLE).parts[0].startswith("bazel-"):
            target = ws.root / path.relative_to(EXAMPLE)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    module = (EXAMPLE / "MODULE.bazel").read_text().replace('path = "../.."', f"path = {str(REPO)!r}")
    ws.write("MODULE.bazel", module)
    result = ws.bazel("build", "//:main_layers", "//:version_layers", timeout=900)
    assert result.returncode == 0, result.stdout[-6000:]
    return ws


def layers(ws, name: str) -> dict[str, Path]:
    return {layer: ws.root / "bazel-bin" / f"{name}.{layer}.tar" for layer in MAIN_LAYERS}


@pytest.mark.real_torch
def test_layer_outputs_in_order(ws):
    result = ws.bazel("build", "//:main_layers", "--output_groups=listing")
    assert result.returncode == 0, result.stdout[-3000:]
    listed = (ws.root / "bazel-bin" / "main_layers.layers.txt").read_text().split()
    assert listed == [f"main_layers.{layer}.tar" for layer in MAIN_LAYERS], listed
    assert not (ws.root / "bazel-bin" / "main_layers.cuda.tar").exists(), "a CPU cell has no cuda layer"
    assert not (ws.root / "bazel-bin" / "main_layers.interpreter.tar").exists(), "the autodetecting Python is not hermetic"


@pytest.mark.real_torch
def test_layers_are_deterministic_tars(ws):
    for layer, path in layers(ws, "main_layers").items():
        with tarfile.open(path) as tar:
            members = tar.getmembers()
        names = [m.name for m in members]
        assert names == sorted(names), f"{layer}: entries not sorted"
        assert len(names) == len(set(names)), f"{layer}: an entry stored twice"
        for m in members:
            assert (m.mtime, m.uid, m.gid, m.uname, m.gname) == (0, 0, 0, "", ""), f"{layer}: {m.name}"
            for text in (m.name, m.linkname):
                assert str(REPO) not in text and "execroot" not in text and "bazel-out" not in text, f"{layer}: host path in {m.name} -> {m.linkname}"


@pytest.mark.real_torch
def test_torch_layer_is_the_tree_once(ws):
    """Every file of the installed tree is in the torch layer once: its regular files' bytes are
    the tree's; the app layer holds links to it, not copies."""
    (tree,) = ws.tree_dirs("cpu_linux_x86_64_cp311")
    tree_files = {p.relative_to(tree).as_posix(): p.lstat().st_size for p in tree.rglob("*") if p.is_file() and not p.is_symlink()}
    members = oci.tar_members(layers(ws, "main_layers")["torch"])
    stored = {}
    for name, m in members.items():
        if m.isfile():
            assert "/site-packages/" in name or name.endswith((".stamp", "lib_dirs.txt")), name
            if "/site-packages/" in name:
                stored[name.split("/site-packages/", 1)[1]] = m.size
    assert stored == tree_files
    app = oci.tar_members(layers(ws, "main_layers")["app"])
    assert sum(m.size for m in app.values() if m.isfile()) < 1_000_000, "the app layer copies the tree"
    launcher = app["app/bin/main.runfiles/_main/main"]
    assert launcher.islnk() and launcher.linkname == "app/bin/main", "the launcher is stored twice"


@pytest.mark.real_torch
def test_two_binaries_share_the_torch_layer(ws):
    main, version = layers(ws, "main_layers"), layers(ws, "version_layers")
    assert sha256(main["torch"]) == sha256(version["torch"])
    assert sha256(main["app"]) != sha256(version["app"])


@pytest.mark.real_torch
def test_app_edit_rebuilds_only_the_app_layer(ws):
    before = {layer: (sha256(p), p.stat().st_mtime_ns) for layer, p in layers(ws, "main_layers").items()}
    source = ws.root / "model.py"
    original = source.read_text()
    try:
        source.write_text(original + "\n# edited by test_app_edit_rebuilds_only_the_app_layer\n")
        result = ws.bazel("build", "//:main_layers")
        assert result.returncode == 0, result.stdout[-3000:]
        after = {layer: (sha256(p), p.stat().st_mtime_ns) for layer, p in layers(ws, "main_layers").items()}
    finally:
        source.write_text(original)
    changed = sorted(layer for layer in before if before[layer][0] != after[layer][0])
    rewritten = sorted(layer for layer in before if before[layer][1] != after[layer][1])
    assert changed == ["app"], changed
    assert rewritten == ["app"], f"layers rebuilt after an app edit: {rewritten}"


@pytest.mark.real_torch
def test_image_runs_with_runc(ws, tmp_path):
    oci.require_oci_tools()
    main = layers(ws, "main_layers")
    layout = tmp_path / "layout"
    try:
        oci.build_image(layout, [main[layer] for layer in MAIN_LAYERS], "/app/bin/main")
        ids = oci.diff_ids(layout)
        assert ids[1:] == [f"sha256:{sha256(main[layer])}" for layer in MAIN_LAYERS]
        assert ids[1] == f"sha256:{sha256(layers(ws, 'version_layers')['torch'])}", "version's image would not share main's torch layer"
        # The README's `skopeo copy ... docker-archive:` (for `docker load`): same layers, same order.
        archived = oci.docker_archive(layout, tmp_path / "main.tar", "main:1")
        assert archived["rootfs"]["diff_ids"] == ids and archived["config"]["Entrypoint"] == ["/app/bin/main"], archived
        (tmp_path / "main.tar").unlink()
        oci.unpack(layout, tmp_path / "bundle")
        result = oci.run_bundle(tmp_path / "bundle", f"rules-torch-{tmp_path.name}")
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)  # ~2 GB: the layout and the unpacked bundle
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    assert "torch 2.13.0+cpu on cpu" in out and "fitted y = 2.000 * x + 1.000" in out, out[-4000:]


# ELF e_machine of each platform's shared libraries.
EM = {"linux_x86_64": 62, "linux_aarch64": 183}
FAKE_CELLS = [("cpu", "linux_x86_64"), ("cu121", "linux_x86_64"), ("cpu", "linux_aarch64")]


# py_binary needs a C++ toolchain for its target platform at analysis (a user cross-building has
# one); this one compiles nothing and is never run: no C++ is built.
CC_AARCH64_BZL = """\
def _config_impl(ctx):
    return cc_common.create_cc_toolchain_config_info(
        ctx = ctx,
        toolchain_identifier = "unused-aarch64",
        host_system_name = "x86_64-linux",
        target_system_name = "aarch64-linux",
        target_cpu = "aarch64",
        target_libc = "glibc",
        compiler = "gcc",
        abi_version = "unknown",
        abi_libc_version = "unknown",
    )

unused_config = rule(implementation = _config_impl, provides = [CcToolchainConfigInfo])
"""
CC_AARCH64_BUILD = """\
load("@rules_cc//cc:defs.bzl", "cc_toolchain")
load(":config.bzl", "unused_config")

filegroup(name = "empty")

unused_config(name = "config")

cc_toolchain(
    name = "cc",
    all_files = ":empty",
    compiler_files = ":empty",
    dwp_files = ":empty",
    linker_files = ":empty",
    objcopy_files = ":empty",
    strip_files = ":empty",
    toolchain_config = ":config",
)

toolchain(
    name = "toolchain",
    target_compatible_with = ["@platforms//os:linux", "@platforms//cpu:aarch64"],
    toolchain = ":cc",
    toolchain_type = "@bazel_tools//tools/cpp:toolchain_type",
)
"""


# A Python toolchain whose interpreter is a build input, as a hermetic one's is (rules_python 1.x
# registers one by default; 0.22.1 here cannot download it).
HERMETIC_BUILD = """\
load("@rules_python//python:defs.bzl", "py_runtime", "py_runtime_pair")

py_runtime(name = "python", files = ["lib/python3.11/os.py"], interpreter = "python3", python_version = "PY3")

py_runtime_pair(name = "pair", py3_runtime = ":python")

toolchain(name = "toolchain", toolchain = ":pair", toolchain_type = "@bazel_tools//tools/python:toolchain_type")
"""


def elf_header(machine: int) -> bytes:
    """The 64-byte header of a little-endian ELF64 shared object for `machine`."""
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    return ident + struct.pack("<HHI", 3, machine, 1) + bytes(64 - 24)


@pytest.fixture(scope="module")
def fake_ws(workspace_factory):
    ws = workspace_factory("image_layers_fake")
    cells = {}
    for variant, platform in FAKE_CELLS:
        wheels = fake_torch(variant, platform)
        lib = ("torch/lib/libtorch_fake.so", elf_header(EM[platform]), False)
        wheels[0] = dataclasses.replace(wheels[0], files=wheels[0].files + (lib,))
        cells[(variant, platform)] = [ws.add_wheel(w) for w in wheels]
    ws.write_lock(cells)
    ws.write_module(
        'torch.wheels(hub = "torch", lock = "//:torch.lock.json", default_variant = "cpu")\nuse_repo(torch, "torch")\n'
        'bazel_dep(name = "rules_cc", version = "0.0.11")\n'
        'register_toolchains("//cc_aarch64:toolchain")\n'
    )
    ws.write("cc_aarch64/config.bzl", CC_AARCH64_BZL)
    ws.write("cc_aarch64/BUILD.bazel", CC_AARCH64_BUILD)
    ws.write(
        "BUILD.bazel",
        'load("@rules_torch//torch:defs.bzl", "torch_py_binary", "torch_py_image_layers")\n\n'
        'torch_py_binary(name = "main", srcs = ["main.py"], deps = ["@torch//:torch"])\n\n'
        'torch_py_image_layers(name = "layers", binary = ":main")\n',
    )
    ws.write("main.py", "import torch\n\nprint(torch.__variant__)\n")
    ws.write("hermetic/BUILD.bazel", HERMETIC_BUILD)
    ws.write("hermetic/python3", "#!/bin/sh\nexec /usr/bin/python3 \"$@\"\n")
    (ws.root / "hermetic" / "python3").chmod(0o755)
    ws.write("hermetic/lib/python3.11/os.py", "# stands for the interpreter's standard library\n")
    return ws


def build_layers(ws, *flags: str) -> dict[str, dict[str, tarfile.TarInfo]]:
    result = ws.bazel("build", "//:layers", "--output_groups=+listing", *flags)
    assert result.returncode == 0, result.stdout[-4000:]
    names = (ws.root / "bazel-bin" / "layers.layers.txt").read_text().split()
    return {name.split(".")[1]: oci.tar_members(ws.root / "bazel-bin" / name) for name in names}


def elf_machine(ws, layer: str, member: str) -> int:
    with tarfile.open(ws.root / "bazel-bin" / f"layers.{layer}.tar") as tar:
        header = tar.extractfile(member).read(20)
    assert header[:4] == b"\x7fELF", member
    return struct.unpack("<H", header[18:20])[0]


def test_cuda_variant_has_a_cuda_layer(fake_ws):
    found = build_layers(fake_ws, "--config=cuda121")
    assert list(found) == ["cuda", "torch", "deps", "app"]
    cuda = [n for n, m in found["cuda"].items() if m.isfile()]
    assert cuda and all("/site-packages/nvidia/" in n for n in cuda), cuda
    assert any(n.endswith("nvidia/cuda_runtime/lib/libcudart.so.12") for n in cuda), cuda
    assert not any("/site-packages/nvidia/" in n for n in found["torch"]), "the torch layer holds NVIDIA files"
    assert any(n.endswith("/site-packages/torch/__init__.py") for n in found["torch"])


@pytest.mark.parametrize(("platform", "flags"), [("linux_x86_64", ()), ("linux_aarch64", ("--platforms=//platforms:linux_aarch64",))])
def test_platforms_choose_the_torch_layer(fake_ws, platform, flags):
    """--platforms builds the layers of that platform's cell on this x86_64 machine (not run)."""
    found = build_layers(fake_ws, *flags)
    assert list(found) == ["torch", "deps", "app"]
    (lib,) = [n for n in found["torch"] if n.endswith("torch/lib/libtorch_fake.so")]
    assert f"/cpu_{platform}_cp311-" in lib, lib
    assert elf_machine(fake_ws, "torch", lib) == EM[platform]


def test_hermetic_interpreter_has_its_layer(fake_ws):
    found = build_layers(fake_ws, "--extra_toolchains=//hermetic:toolchain")
    assert list(found) == ["torch", "deps", "interpreter", "app"]
    interpreter = sorted(n for n, m in found["interpreter"].items() if m.isfile())
    assert interpreter == ["app/bin/main.runfiles/_main/hermetic/lib/python3.11/os.py", "app/bin/main.runfiles/_main/hermetic/python3"], interpreter
    assert not any(n.endswith(("/os.py", "/python3")) for n in found["app"]), "the interpreter is in the app layer too"
