"""Shared fixtures: the package and the fake-wheel generator on sys.path, fake indexes, a lock runner."""

from __future__ import annotations

import contextlib
import dataclasses
import http.server
import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

PYTHON_DIR = Path(__file__).resolve().parents[1]
REPO = PYTHON_DIR.parent
for path in (PYTHON_DIR, REPO / "tests" / "support"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import fake_wheels  # noqa: E402

from rules_torch import lock  # noqa: E402


@pytest.fixture(scope="session")
def indexes(tmp_path_factory: pytest.TempPathFactory) -> fake_wheels.FakeIndexes:
    return fake_wheels.build_indexes(tmp_path_factory.mktemp("indexes"))


@pytest.fixture(scope="session")
def urls(indexes: fake_wheels.FakeIndexes) -> fake_wheels.IndexUrls:
    return indexes.urls()


@pytest.fixture()
def server(indexes: fake_wheels.FakeIndexes) -> Iterator[fake_wheels.IndexServer]:
    with fake_wheels.IndexServer(indexes.root) as running:
        yield running


@dataclasses.dataclass
class LockRun:
    code: int
    stderr: str
    output: Path

    def lock(self) -> dict:
        return json.loads(self.output.read_text())

    def cell(self, key: str) -> dict[str, dict]:
        """The wheels of one cell, by name."""
        return {w["name"]: w for w in self.lock()["cells"][key]["wheels"]}


def invoke(argv: list[str]) -> tuple[int, str]:
    """Runs the lock tool's main() in this process; returns (exit status, stderr)."""
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        code = lock.main(argv)
    return code, stderr.getvalue()


def lock_argv(urls: fake_wheels.IndexUrls, output: Path, cache: Path, *args: str) -> list[str]:
    """Command-line arguments for a lock against the fake indexes (options in ``args`` win)."""
    argv = [*args, "--output", str(output), "--cache-dir", str(cache)]
    if "--index-url" not in args:
        argv += ["--index-url", urls.pytorch]
    if "--extra-index-url" not in args:
        argv += ["--extra-index-url", urls.pypi]
    return argv


@pytest.fixture()
def run_lock(tmp_path: Path, urls: fake_wheels.IndexUrls):
    """Runs the lock tool in-process against the fake indexes; returns a LockRun."""

    def run(*args: str, output: Path | None = None) -> LockRun:
        output = output or tmp_path / "torch.lock.json"
        code, stderr = invoke(lock_argv(urls, output, tmp_path / "cache", *args))
        return LockRun(code, stderr, output)

    return run


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Runs ``python3 -m rules_torch.lock`` as a user would (a separate process)."""
    environment = {**os.environ, "PYTHONPATH": str(PYTHON_DIR), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "rules_torch.lock", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        check=False,
    )


class _RoutesHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status, body = self.server.routes.get(self.path, (404, b""))  # type: ignore[attr-defined]
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (signature of the base class)
        pass


@pytest.fixture()
def routes() -> Iterator[tuple[str, dict[str, tuple[int, bytes]]]]:
    """An HTTP server on 127.0.0.1 answering ``routes[path] = (status, body)``; yields (base URL, routes)."""
    table: dict[str, tuple[int, bytes]] = {}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RoutesHandler)
    server.routes = table  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", table
    finally:
        server.shutdown()
        server.server_close()
