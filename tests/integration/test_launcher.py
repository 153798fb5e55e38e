"""The launcher finds the program's own runfiles: through a symlink to the program, never from a
RUNFILES_DIR / RUNFILES_MANIFEST_FILE in the environment that belongs to another program, and
with a message that says what to do when there are none. Where the cell's tree is not on the
disk (remote execution, --remote_download_minimal), it installs the tree from the wheels once.

Runs the root module's //tests/torch_cpu:import_torch_test (real torch 2.13.0+cpu) directly.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from harness import bazel_at_root

TARGET = "//tests/torch_cpu:import_torch_test"
pytestmark = pytest.mark.real_torch



@pytest.fixture(scope="module")
def program() -> Path:
    bazel_at_root("build", TARGET)
    return Path(bazel_at_root("info", "bazel-bin").strip().splitlines()[-1]) / "tests" / "torch_cpu" / "import_torch_test"


def _run(path: Path, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    # The launcher decides PYTHONDONTWRITEBYTECODE (this machine's environment sets it).
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("RUNFILES_", "TEST_")) and k not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")}
    environ.update(env)
    return subprocess.run([str(path)], cwd=cwd, env=environ, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300, check=False)


def _passes(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0 and "OK" in result.stderr, result.stdout[-2000:] + result.stderr[-3000:]


def test_run_through_a_symlink(program, tmp_path):
    link = tmp_path / "mainlink"
    link.symlink_to(program)
    _passes(_run(link, tmp_path))


def test_run_through_a_chain_of_symlinks(program, tmp_path):
    (tmp_path / "a").symlink_to(program)
    (tmp_path / "b").symlink_to(tmp_path / "a")
    _passes(_run(tmp_path / "b", tmp_path))


def test_a_stale_runfiles_dir_or_manifest_is_ignored(program, tmp_path):
    # Another program's runfiles (a parent process's, a stale shell variable): not ours.
    stale = tmp_path / "other.runfiles"
    (stale / "_main").mkdir(parents=True)
    manifest = tmp_path / "other.runfiles_manifest"
    manifest.write_text("_main/other.py /nowhere/other.py\n")
    _passes(_run(program, tmp_path, RUNFILES_DIR=str(stale), RUNFILES_MANIFEST_FILE=str(manifest)))


def test_a_runfiles_dir_that_holds_the_program_is_used(program, tmp_path):
    # Run from elsewhere by path, with the environment naming its runfiles (as a parent program
    # that carries it in its own runfiles does).
    copy = tmp_path / "copy"
    shutil.copy(program, copy)
    _passes(_run(copy, tmp_path, RUNFILES_DIR=str(program) + ".runfiles"))


def test_no_runfiles_is_a_clear_error(program, tmp_path):
    copy = tmp_path / "copy"
    shutil.copy(program, copy)
    result = _run(copy, tmp_path)
    assert result.returncode == 127, result.stderr[-2000:]
    assert f"cannot find the runfiles of {copy}" in result.stderr, result.stderr[-2000:]
    assert "run it with bazel run" in result.stderr, result.stderr[-2000:]


def test_a_tree_not_on_this_disk_is_installed_from_the_wheels_once(program, tmp_path):
    # As on a remote worker: the test's ticket is a plain file with no tree beside it.
    manifest = Path(str(program) + ".runfiles_manifest")
    lines = []
    for line in manifest.read_text().splitlines():
        key, _, target = line.partition(" ")
        if key.endswith("/site-packages.ready"):
            shutil.copy(target, tmp_path / "site-packages.ready")
            target = str(tmp_path / "site-packages.ready")
        lines.append(f"{key} {target}")
    (tmp_path / "copy.runfiles_manifest").write_text("\n".join(lines) + "\n")
    copy = tmp_path / "copy"
    shutil.copy(program, copy)
    cache = tmp_path / "cache"
    first = _run(copy, tmp_path, RULES_TORCH_TREE_CACHE=str(cache))
    _passes(first)
    assert "is not on this disk; installing its wheels into" in first.stderr, first.stderr[-2000:]
    stamp = (tmp_path / "site-packages.ready").read_text()
    assert (cache / stamp.strip() / "site-packages" / ".rules_torch_stamp").is_file()  # named by the cell's stamp
    tree = cache / stamp.strip() / "site-packages"
    # A tree cache is shared by every test on the machine: pycs are made once, at install time,
    # and the tests write none.
    assert list((tree / "torch" / "__pycache__").glob("*.pyc"))
    before = {p: p.stat().st_mtime_ns for p in tree.rglob("*")}
    second = _run(copy, tmp_path, RULES_TORCH_TREE_CACHE=str(cache))
    _passes(second)
    assert "installing" not in second.stderr, second.stderr[-2000:]
    assert sorted(p.name for p in cache.iterdir()) == [stamp.strip(), stamp.strip() + ".lock"], "no half-installed tree left behind"
    assert {p: p.stat().st_mtime_ns for p in tree.rglob("*")} == before, "the test wrote into the shared tree"


@pytest.mark.parametrize(
    ("base", "why"),
    [
        ("tree:1", "'tree:1' names tree record 1, but the plan gives 1 before this one"),
        ("root:0", "'root:0' names root record 0, but the plan gives 0 before this one"),
        ("tree0", "'tree0' is none of -, root:N, tree:N"),  # the shell variable of plans before
        ("tree:00", "'tree:00' is none of -, root:N, tree:N"),
        ("tree:0;x=1", "'tree:0;x=1' is none of -, root:N, tree:N"),
    ],
)
def test_a_plan_that_refers_to_no_earlier_record_is_refused(program, tmp_path, base, why):
    # The plan names no shell variable: an import's base is the index of a tree (or root) record
    # before it, which the launcher checks before it reads one.
    manifest = Path(str(program) + ".runfiles_manifest")
    lines = []
    for line in manifest.read_text().splitlines():
        key, _, target = line.partition(" ")
        if key.endswith("/import_torch_test.launch"):
            plan = Path(target).read_text()
            assert "\nimport\ttree:0\t" in plan, plan
            (tmp_path / "plan").write_text(plan.replace("\nimport\ttree:0\t", f"\nimport\t{base}\t", 1))
            target = str(tmp_path / "plan")
        lines.append(f"{key} {target}")
    (tmp_path / "copy.runfiles_manifest").write_text("\n".join(lines) + "\n")
    copy = tmp_path / "copy"
    shutil.copy(program, copy)
    result = _run(copy, tmp_path)
    assert result.returncode == 1, result.stderr[-2000:]
    assert f"import record: {why}" in result.stderr and "rebuild the program" in result.stderr, result.stderr[-2000:]
    assert "OK" not in result.stderr, "the program ran"
