"""The lock tool's validator judges every lock of tests/locks/corpus.bzl as the corpus says; the
module extension's validator reads the same corpus in tests/starlark/lock_tests.bzl, so the two
cannot drift apart without a failing test."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from rules_torch.lockfile import LockSchemaError, load_lock

CORPUS = Path(__file__).resolve().parents[2] / "tests" / "locks" / "corpus.bzl"


def _corpus() -> list[dict]:
    for node in ast.parse(CORPUS.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "LOCK_CORPUS":
            return ast.literal_eval(node.value)
    raise AssertionError(f"{CORPUS} has no LOCK_CORPUS")


CASES = _corpus()


def test_the_corpus_has_valid_and_invalid_locks() -> None:
    names = [case["name"] for case in CASES]
    assert len(names) == len(set(names))
    assert any(case["error"] is None and "error_python" not in case for case in CASES)
    assert sum(case["error"] is not None or "error_python" in case for case in CASES) >= 10


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
