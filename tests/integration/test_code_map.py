"""docs/code_map.md names only files and folders that exist: a newcomer follows it, so a file that
moves or goes away must take its entry with it. No Bazel runs."""

from __future__ import annotations

import os
import re
from pathlib import Path

from harness import REPO

MAP = REPO / "docs" / "code_map.md"
# A word in backticks names a file when it has a folder in it, or a file name's extension.
_EXTENSIONS = (".bzl", ".py", ".md", ".bazel", ".bazelrc", ".tpl", ".sh", ".json", ".toml")
# Not a path: a label, an option, a placeholder or pattern, a call, a shell variable.
_NOT_A_PATH = re.compile(r"^(//|@|-|\$)|[<>*=(){}:\s]")
# Names of files rules_torch generates outside the source tree, which the map mentions.
GENERATED = {
    "requirements.bzl": "a hub's (repositories/hub.bzl writes it)",
}
_SKIPPED = {".git", "node_modules", "__pycache__"}


def named_paths(text: str) -> list[str]:
    """The backticked words of `text` that name a file or folder of the repository."""
    found = []
    for word in re.findall(r"`([^`]+)`", text):
        if _NOT_A_PATH.search(word) or word in GENERATED or word in _EXTENSIONS:
            continue
        if "/" in word or word.endswith(_EXTENSIONS):
            found.append(word.rstrip("/"))
    return sorted(set(found))


def _repository_paths(root: Path) -> set[str]:
    """Every file and folder under `root`, relative to it (Bazel's convenience links left out)."""
    paths = set()
    for directory, folders, files in os.walk(root):
        folders[:] = [f for f in folders if f not in _SKIPPED and not f.startswith(("bazel-", ".workspaces"))]
        base = Path(directory).relative_to(root)
        paths.update((base / name).as_posix() for name in [*folders, *files])
    return paths


def missing(words: list[str], paths: set[str]) -> list[str]:
    """The words no path is, or ends with: `lock.bzl`, `rules/runtime.bzl` and
    `torch/private/lock/lock.bzl` all name torch/private/lock/lock.bzl."""
    return [w for w in words if w not in paths and not any(p.endswith("/" + w) for p in paths)]


def test_every_file_the_code_map_names_exists():
    words = named_paths(MAP.read_text())
    assert len(words) > 40, words  # the map names files: the filter must not drop them all
    absent = missing(words, _repository_paths(REPO))
    assert not absent, f"docs/code_map.md names what does not exist (moved? update the map): {absent}"


def test_a_moved_file_is_caught(tmp_path):
    """The check on a tree of its own: a path, a file name and a folder-relative path, then the
    same map after the file moved."""
    (tmp_path / "torch" / "private" / "lock").mkdir(parents=True)
    (tmp_path / "torch" / "private" / "lock" / "labels.bzl").write_text("")
    text = "`torch/private/lock/` holds `labels.bzl` (`lock/labels.bzl`), not `rules/labels.bzl`; `//torch:variant`, `<hub>`, `.bzl`"
    assert named_paths(text) == ["labels.bzl", "lock/labels.bzl", "rules/labels.bzl", "torch/private/lock"]
    assert missing(named_paths(text), _repository_paths(tmp_path)) == ["rules/labels.bzl"]
    (tmp_path / "torch" / "private" / "lock" / "labels.bzl").rename(tmp_path / "torch" / "private" / "labels.bzl")
    assert missing(named_paths(text), _repository_paths(tmp_path)) == ["lock/labels.bzl", "rules/labels.bzl"]
