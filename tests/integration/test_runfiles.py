"""A torch target's runfiles do not grow with the number of files in torch: a binary's hold the
cell's tree as one directory artifact, one runfiles entry (before cell trees: 37,826 entries for
torch 2.13.0), and a test's hold the tree's stamp instead of the tree.

Builds the root module's //tests/torch_cpu:import_torch_test and @torch_cpu//:doctor (real torch
2.13.0+cpu) and reads their runfiles manifests.
"""

import glob
import subprocess

import pytest
from harness import bazel_at_root, root_hub_repo

TARGET = "//tests/torch_cpu:import_torch_test"
MAX_ENTRIES = 100



def _manifest(target: str, path: str) -> list[tuple[str, str]]:
    bazel_at_root("build", target)
    bin_dir = bazel_at_root("info", "bazel-bin").strip().splitlines()[-1]
    (manifest,) = glob.glob(f"{bin_dir}/{path}.runfiles_manifest")
    with open(manifest) as f:
        lines = [tuple(line.split(" ", 1)) for line in f.read().splitlines()]
    assert len(lines) <= MAX_ENTRIES, f"{target} has {len(lines)} runfiles entries"
    return lines


def _files(tree: str) -> int:
    return int(subprocess.run(["sh", "-c", f"find '{tree}/' -type f | wc -l"], capture_output=True, text=True, check=True).stdout)


@pytest.mark.real_torch
def test_torch_test_stages_the_trees_ticket_not_the_tree():
    # A sandbox (and a remote worker) stages a directory artifact one file at a time: a test's
    # runfiles hold the tree's ticket (made by an action that reads the tree, so Bazel writes the
    # tree first), and the launcher reads the tree beside the ticket's target.
    lines = _manifest(TARGET, "tests/torch_cpu/import_torch_test")
    assert not [key for key, _ in lines if key.endswith("/site-packages")], lines
    assert not [key for key, _ in lines if key.endswith("/site-packages.stamp")], lines
    tickets = {target for key, target in lines if key.endswith("/site-packages.ready")}
    assert len(tickets) == 1, lines
    tree = tickets.pop().removesuffix(".ready")
    assert _files(tree) > 10000, f"{tree}: not the real torch tree"


@pytest.mark.real_torch
def test_torch_binary_runfiles_are_one_entry_per_tree():
    # `bazel run` and direct execution read no sandbox: a binary keeps the tree in its runfiles.
    lines = _manifest("@torch_cpu//:doctor", f"external/{root_hub_repo()}/doctor")
    trees = {target for key, target in lines if key.endswith("/site-packages")}
    assert len(trees) == 1, trees
    assert _files(trees.pop()) > 10000


@pytest.mark.real_torch
def test_one_tree_per_cell_whatever_the_compilation_mode():
    """cell_tree's transition builds the tree in one configuration: `-c opt` reuses it."""
    for flags in ((), ("-c", "opt"), ("-c", "dbg")):
        bazel_at_root("build", *flags, TARGET)
    out = bazel_at_root("info", "output_path").strip().splitlines()[-1]
    trees = subprocess.run(
        ["sh", "-c", f"ls -d {out}/*/bin/external/{root_hub_repo()}__cpu_linux_x86_64_cp311/site-packages"],
        capture_output=True, text=True, check=False,
    ).stdout.split()
    assert len(trees) == 1, trees
