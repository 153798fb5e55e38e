import pytest
from harness import Workspace


@pytest.fixture(scope="session")
def workspace_factory():
    made = []

    def make(name):
        ws = Workspace(name)
        made.append(ws)
        return ws

    yield make
    for ws in made:
        ws.shutdown()
