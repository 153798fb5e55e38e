"""The lock tool judges every lock of tests/locks/corpus.bzl as the corpus says, and spells the
command that re-creates a lock as its RELOCK_COMMANDS say; the module extension reads the same
corpus in tests/starlark/lock_tests.bzl, so the two cannot drift apart without a failing test."""

from __future__ import annotations

import ast
import json
import shlex
from pathlib import Path

import pytest

from rules_torch.lock import build_parser
from rules_torch.lock_tables import LOCK_TOOL, TOP_LEVEL_PROJECTS
from rules_torch.lockfile import LockSchemaError, Request, load_lock, lock_command

CORPUS = Path(__file__).resolve().parents[2] / "tests" / "locks" / "corpus.bzl"


def _corpus(name: str) -> list[dict]:
    for node in ast.parse(CORPUS.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == name:
            return ast.literal_eval(node.value)
    raise AssertionError(f"{CORPUS} has no {name}")


CASES = _corpus("LOCK_CORPUS")
RELOCKS = _corpus("RELOCK_COMMANDS")


def _only_python_refuses(case: dict) -> bool:
    return case["error"] is None and "error_python" in case and "error_starlark" not in case


def test_the_corpus_has_valid_and_invalid_locks() -> None:
    names = [case["name"] for case in CASES]
    assert len(names) == len(set(names))
    assert any(case["error"] is None and "error_python" not in case for case in CASES)
    assert sum(case["error"] is not None or "error_python" in case for case in CASES) >= 10
    # What only the lock tool refuses, each with what the module extension does with it.
    only_python = [case["name"] for case in CASES if _only_python_refuses(case)]
    for kind in ("unknown_", "not_sorted", "version"):
        assert any(kind in name for name in only_python), (kind, only_python)
    for case in CASES:
        assert ("extension" in case) == _only_python_refuses(case), case["name"]


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_the_lock_tool_judges_each_lock_as_the_corpus_says(case: dict, tmp_path: Path) -> None:
    path = tmp_path / "torch.lock.json"
    path.write_text(case["text"] if "text" in case else json.dumps(case["lock"], indent=2), encoding="utf-8")
    expected = case.get("error_python", case["error"])
    if expected is None:
        assert load_lock(path) == case.get("lock")
        return
    with pytest.raises(LockSchemaError) as error:
        load_lock(path)
    assert expected in str(error.value)


@pytest.mark.parametrize("case", RELOCKS, ids=[case["name"] for case in RELOCKS])
def test_the_lock_tool_spells_the_relock_command_as_the_extension(case: dict) -> None:
    command = lock_command(Request.from_json(case["request"]), case["output"], [])
    assert command == case["command"]
    # As spelled, the shell gives the lock tool the request back.
    words = shlex.split(command)
    assert words[: len(LOCK_TOOL.split())] == LOCK_TOOL.split()
    args = build_parser().parse_args(words[len(LOCK_TOOL.split()) :])
    request = case["request"]
    assert [args.torch, args.torchvision, args.torchaudio] == [request[p] for p in TOP_LEVEL_PROJECTS]
    assert args.with_requirements == request.get("with", [])
    assert sorted(args.variants.split(",")) == sorted(request["variants"])
    assert sorted(args.platforms.split(",")) == sorted(request["platforms"])
    assert sorted(args.python.split(",")) == sorted(request["pythons"])
    assert args.index_url == request["index_url"] and args.find_links == request["find_links"]
    assert [url for url in args.extra_index_url if url] == request["extra_index_urls"]
    assert args.output == case["output"]
