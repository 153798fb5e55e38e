"""A torch target's runfiles do not grow with the number of files in torch: the cell's tree is
one directory artifact, one runfiles entry (before cell trees: 37,826 entries for torch 2.13.0).

Builds the root module's //tests/torch_cpu:import_torch_test (real torch 2.13.0+cpu) and counts
the lines of its runfiles manifests.
"""

import subprocess

import pytest
from harness import BAZEL, REPO

TARGET = "//tests/torch_cpu:import_torch_test"
MAX_ENTRIES = 100


def _bazel(*args):
    result = subprocess.run([str(BAZEL), *args], cwd=REPO, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=1200, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


@pytest.mark.real_torch
def test_torch_test_runfiles_are_one_entry_per_tree():
    _bazel("build", TARGET)
    bin_dir = _bazel("info", "bazel-bin").strip().splitlines()[-1]
    manifests = [f"{bin_dir}/tests/torch_cpu/import_torch_test.runfiles_manifest"]
    trees = set()
    for manifest in manifests:
        with open(manifest) as f:
            lines = f.read().splitlines()
        assert len(lines) <= MAX_ENTRIES, f"{manifest} has {len(lines)} entries"
        trees.update(line.split(" ", 1)[1] for line in lines if line.split(" ", 1)[0].endswith("/site-packages"))
    assert len(trees) == 1, trees
    tree = trees.pop()
    files = int(subprocess.run(["sh", "-c", f"find '{tree}/' -type f | wc -l"], capture_output=True, text=True, check=True).stdout)
    assert files > 10000, f"{tree} has {files} files: not the real torch tree"


@pytest.mark.real_torch
def test_one_tree_per_cell_whatever_the_compilation_mode():
    """cell_tree's transition builds the tree in one configuration: `-c opt` reuses it."""
    for flags in ((), ("-c", "opt"), ("-c", "dbg")):
        _bazel("build", *flags, TARGET)
    out = _bazel("info", "output_path").strip().splitlines()[-1]
    trees = subprocess.run(
        ["sh", "-c", f"ls -d {out}/*/bin/external/*torch_cpu__cpu_linux_x86_64_cp311/site-packages"],
        capture_output=True, text=True, check=False,
    ).stdout.split()
    assert len(trees) == 1, trees
