"""Fixtures of the lock tool's tests: fake indexes (file:// and HTTP), a lock runner, an HTTP stub."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

# locktest puts python/ and tests/support/ on sys.path, so it comes first.
from locktest import LockRun, fake_wheels, invoke, lock_argv


@pytest.fixture(scope="session", autouse=True)
def uv_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """uv's cache for this test session only: what uv reads must not depend on earlier runs."""
    path = tmp_path_factory.mktemp("uv-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("UV_CACHE_DIR", str(path))
        yield path


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


@pytest.fixture()
def run_lock(tmp_path: Path, urls: fake_wheels.IndexUrls):
    """Runs the lock tool in-process against the fake indexes; returns a LockRun."""

    def run(*args: str, output: Path | None = None) -> LockRun:
        output = output or tmp_path / "torch.lock.json"
        code, stderr = invoke(lock_argv(urls, output, tmp_path / "cache", *args))
        return LockRun(code, stderr, output)

    return run


class _RoutesHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status, body = self.server.routes.get(self.path, (404, b""))  # type: ignore[attr-defined]
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (signature of the base class)
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        pass  # a client hanging up early (uv giving up after an error) is no test failure


@pytest.fixture()
def routes() -> Iterator[tuple[str, dict[str, tuple[int, bytes]]]]:
    """An HTTP server on 127.0.0.1 answering ``routes[path] = (status, body)``; yields (base URL, routes)."""
    table: dict[str, tuple[int, bytes]] = {}
    server = _QuietServer(("127.0.0.1", 0), _RoutesHandler)
    server.routes = table  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", table
    finally:
        server.shutdown()
        server.server_close()
