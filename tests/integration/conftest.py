"""Fixtures of the Bazel integration tests (pytest.ini puts tests/integration, tests/support and
python/ on the import path; --import-mode=importlib lets this conftest and python/tests' coexist)."""

from __future__ import annotations

import pytest
from harness import Workspace


@pytest.fixture(scope="module")
def workspace_factory():
    """Makes Workspace objects (`make(name, heavy=False)`) and releases them when the test
    module ends: Bazel servers stopped, heavy output bases expunged (see Workspace.release)."""
    made = []

    def make(name, heavy=False):
        ws = Workspace(name)
        made.append((ws, heavy))
        return ws

    yield make
    for ws, heavy in made:
        ws.release(expunge=heavy)
