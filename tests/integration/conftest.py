"""Fixtures of the Bazel integration tests (pytest.ini puts tests/integration, tests/support and
python/ on the import path; --import-mode=importlib lets this conftest and python/tests' coexist)."""

from __future__ import annotations

import contextlib

import pytest
from harness import ROOT_STARTUP, Workspace, cuda_closure_slot, root_bazel


@pytest.fixture(scope="module")
def workspace_factory():
    """Makes Workspace objects (`make(name, heavy=False, cuda=False)`) and releases them when
    the test module ends: Bazel servers stopped, heavy output bases expunged (see
    Workspace.release). A `cuda=True` workspace (one that fetches the CUDA closure) first takes
    the CUDA-closure slot (harness.cuda_closure_slot), given back after the expunge; other heavy
    output bases are deleted in the background."""
    made = []
    slots = contextlib.ExitStack()

    def make(name, heavy=False, cuda=False):
        if cuda:
            slots.enter_context(cuda_closure_slot(f"workspace {name}"))
        ws = Workspace(name)
        made.append((ws, heavy or cuda, cuda))
        return ws

    with slots:
        yield make
        for ws, heavy, cuda in made:
            ws.release(expunge=heavy, wait=cuda)


@pytest.fixture(scope="session", autouse=True)
def _root_server_of_the_next_bazel_step():
    """Stops the root module's Bazel server of the next-bazel step's own output base at the end."""
    yield
    if ROOT_STARTUP:
        root_bazel("shutdown", timeout=300)
