"""Snapshots of the files the torch extension generates for the root module's torch_cpu hub: the
hub's BUILD.bazel and requirements.bzl, the spoke's BUILD.bazel, the cell's C++ repository's
BUILD.bazel and the settings repository's settings.bzl, compared whole with
tests/snapshots/torch_cpu/*.golden (unit tests check the generators piece by piece; this shows a
change to what users' builds read as one diff).

After an intended change, rewrite the snapshots and review the diff:

    RULES_TORCH_UPDATE_SNAPSHOTS=1 python3 -m pytest tests/integration/test_snapshots.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from harness import REPO, bazel_at_root, root_hub_repo

SNAPSHOTS = REPO / "tests" / "snapshots" / "torch_cpu"
CELL = "cpu_linux_x86_64_cp311"
UPDATE = os.environ.get("RULES_TORCH_UPDATE_SNAPSHOTS") == "1"


@pytest.fixture(scope="module")
def generated() -> tuple[str, dict[str, Path]]:
    """The hub's canonical name, and snapshot name -> the generated file in the output base."""
    bazel_at_root("build", "--nobuild", "@torch_cpu//:torch", "@torch_cpu//:libtorch", "@torch_cpu//:doctor")
    hub = root_hub_repo()
    external = Path(bazel_at_root("info", "output_base").strip().splitlines()[-1]) / "external"
    spoke = f"{hub}__{CELL}"
    return hub, {
        "hub_BUILD.bazel": external / hub / "BUILD.bazel",
        "hub_requirements.bzl": external / hub / "requirements.bzl",
        "spoke_BUILD.bazel": external / spoke / "BUILD.bazel",
        "libtorch_BUILD.bazel": external / f"{spoke}__libtorch" / "BUILD.bazel",
    }


@pytest.mark.real_torch
@pytest.mark.parametrize("name", ["hub_BUILD.bazel", "hub_requirements.bzl", "spoke_BUILD.bazel", "libtorch_BUILD.bazel"])
def test_generated_file_matches_its_snapshot(generated, name):
    hub, files = generated
    # Canonical repository names are Bazel's to choose (`~` or `+`): the snapshot says <hub>.
    text = files[name].read_text().replace(hub, "<hub>")
    golden = SNAPSHOTS / f"{name}.golden"
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text)
    assert golden.is_file(), f"no snapshot {golden}: write it with RULES_TORCH_UPDATE_SNAPSHOTS=1 (see this module's docstring)"
    assert text == golden.read_text(), (
        f"{files[name]} differs from {golden.relative_to(REPO)}; if intended: RULES_TORCH_UPDATE_SNAPSHOTS=1 "
        "python3 -m pytest tests/integration/test_snapshots.py, then review `git diff tests/snapshots`"
    )
