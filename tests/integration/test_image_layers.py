"""torch_py_image_layers on examples/container (real torch 2.13.0, CPU): deterministic layers,
shared by two binaries on one cell, only the app layer rebuilt after an edit, and an OCI image
(umoci, on a cached debootstrap base) that runc runs. Skipped loudly where runc cannot run."""

from __future__ import annotations

import hashlib
import shutil
import tarfile
from pathlib import Path

import oci
import pytest
from harness import REPO

pytestmark = pytest.mark.real_torch

EXAMPLE = REPO / "examples" / "container"
MAIN_LAYERS = ["torch", "deps", "app"]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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


def test_layer_outputs_in_order(ws):
    result = ws.bazel("build", "//:main_layers", "--output_groups=listing")
    assert result.returncode == 0, result.stdout[-3000:]
    listed = (ws.root / "bazel-bin" / "main_layers.layers.txt").read_text().split()
    assert listed == [f"main_layers.{layer}.tar" for layer in MAIN_LAYERS], listed
    assert not (ws.root / "bazel-bin" / "main_layers.cuda.tar").exists(), "a CPU cell has no cuda layer"
    assert not (ws.root / "bazel-bin" / "main_layers.interpreter.tar").exists(), "the autodetecting Python is not hermetic"


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


def test_two_binaries_share_the_torch_layer(ws):
    main, version = layers(ws, "main_layers"), layers(ws, "version_layers")
    assert sha256(main["torch"]) == sha256(version["torch"])
    assert sha256(main["app"]) != sha256(version["app"])


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


def test_image_runs_with_runc(ws, tmp_path):
    oci.require_oci_tools()
    main = layers(ws, "main_layers")
    layout = tmp_path / "layout"
    oci.build_image(layout, [main[layer] for layer in MAIN_LAYERS], "/app/bin/main")
    ids = oci.diff_ids(layout)
    assert ids[1:] == [f"sha256:{sha256(main[layer])}" for layer in MAIN_LAYERS]
    assert ids[1] == f"sha256:{sha256(layers(ws, 'version_layers')['torch'])}", "version's image would not share main's torch layer"
    result = oci.run_image(layout, tmp_path / "bundle", f"rules-torch-{tmp_path.name}")
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    assert "torch 2.13.0+cpu on cpu" in out and "fitted y = 2.000 * x + 1.000" in out, out[-4000:]
