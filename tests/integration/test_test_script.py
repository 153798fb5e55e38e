"""tools/test.sh names tests by path (the background files, the next-bazel step's list): each
name must still exist, or pytest stops that step with "not found" only in CI."""

from __future__ import annotations

import re

from harness import REPO

SCRIPT = REPO / "tools" / "test.sh"


def _named(array: str) -> list[str]:
    body = re.search(rf"^{array}=\((.*?)\)", SCRIPT.read_text(), re.S | re.M)
    assert body, f"tools/test.sh has no {array}=(...)"
    return body.group(1).split()


def _missing(names: list[str]) -> list[str]:
    missing = []
    for name in names:
        path, _, function = name.partition("::")
        file = REPO / path
        if not file.is_file() or (function and not re.search(rf"^def {re.escape(function)}\(", file.read_text(), re.M)):
            missing.append(name)
    return missing


def test_every_test_the_script_names_exists():
    names = _named("NEXT_BAZEL_TESTS") + _named("BACKGROUND_TESTS")
    assert len(names) >= 5, names
    assert _missing(names) == []
    # The check can fail: a renamed test function, a moved file.
    assert _missing(["tests/integration/test_remote.py::test_gpu_tests_get_the_modules_exec_properties", "tests/integration/test_gone.py"]) == [
        "tests/integration/test_remote.py::test_gpu_tests_get_the_modules_exec_properties",
        "tests/integration/test_gone.py",
    ]
