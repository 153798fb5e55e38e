"""A PEP 503 index on 127.0.0.1 that gives pip exactly one source per project.

pip merges every index it is given and takes the best candidate from any of them, so a
package published on PyPI under the name of a package from PyTorch's index can win
(dependency confusion; the ``torchtriton`` incident of December 2022). pip cannot be told
otherwise, so the lock tool gives pip this proxy as its only index. For each project the
proxy serves the page of the *first* source that has it (the variant's index, then each
``--extra-index-url`` in order), like uv's default ``first-index`` strategy, plus the
``--find-links`` wheels of that project (pip's semantics: find-links add candidates).

Two more rules live here because only the proxy sees every link:

- A wheel whose local version label names another variant (``+cu118`` while locking
  ``cu121``) is never offered, so an index that lists every variant together (PyTorch's
  root index, a find-links directory, a mirror) serves the right build.
- Remote files go through the proxy too, so pip itself only talks to 127.0.0.1 and reads
  local files: the lock tool's own HTTP settings apply, and any wheel pip downloads is
  hashed on the way (no second download when the index gives no hash).
"""

from __future__ import annotations

import hashlib
import html
import http.server
import threading
import urllib.error
import urllib.parse

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion

from rules_torch.cells import variant_of
from rules_torch.errors import IndexUnreachableError, LockError
from rules_torch.hashing import HashCache
from rules_torch.index import Fetcher, IndexFile, open_url

_CHUNK = 1 << 20


def fits_variant(file: IndexFile, variant: str) -> bool:
    """False when the wheel's local label names a different variant than ``variant``."""
    try:
        labelled = variant_of(file.version)
    except InvalidVersion:
        return True
    return labelled is None or labelled == variant


class FirstIndexProxy:
    """Serves ``/<variant>/simple/<project>/`` and ``/files/<variant>/<key>/<filename>``."""

    def __init__(
        self,
        fetcher: Fetcher,
        hashes: HashCache,
        index_url: str,
        extra_index_urls: list[str],
        find_links: list[str],
    ) -> None:
        self.fetcher = fetcher
        self.hashes = hashes
        self.index_url_template = index_url
        self.extra_index_urls = list(extra_index_urls)
        self.find_links = tuple(find_links)
        self._lock = threading.Lock()
        self._files: dict[str, IndexFile] = {}
        self._errors: dict[str, dict[str, LockError]] = {}
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, name="rules_torch-proxy", daemon=True)

    def __enter__(self) -> FirstIndexProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def index_url(self, variant: str) -> str:
        return f"{self.base_url}/{urllib.parse.quote(variant)}/simple/"

    def sources(self, variant: str) -> list[str]:
        """The indexes of a variant, in the order that decides which one serves a project."""
        return [self.index_url_template.replace("{variant}", variant), *self.extra_index_urls]

    def project_files(self, variant: str, project: str) -> tuple[str | None, list[IndexFile]] | None:
        """(the index that serves ``project``, its wheels for ``variant``); None if no source has it.

        The index is None when only find-links have the project.
        """
        chosen: tuple[str | None, list[IndexFile]] | None = None
        for position, source in enumerate(self.sources(variant)):
            if not self.fetcher.index_exists(source):
                # A local per-variant tree without that variant's directory is like
                # PyTorch's index answering 403: the variant has nothing there. Any other
                # missing directory is a wrong option.
                if position == 0 and "{variant}" in self.index_url_template:
                    continue
                raise IndexUnreachableError(source, "no such directory")
            files = self.fetcher.project_page(source, project)
            if files is not None:
                chosen = (source, files)
                break
        linked = self.fetcher.find_links(self.find_links).get(canonicalize_name(project), [])
        if chosen is None and not linked:
            return None
        source, files = chosen or (None, [])
        return source, [f for f in [*files, *linked] if fits_variant(f, variant)]

    def origin(self, url: str) -> str:
        """The real URL behind a URL this proxy handed to pip (other URLs pass through)."""
        key = self._file_key(url)
        with self._lock:
            file = self._files.get(key) if key else None
        return file.url if file else url

    def errors(self, variant: str) -> list[LockError]:
        with self._lock:
            return list(self._errors.get(variant, {}).values())

    def _record(self, variant: str, error: LockError) -> None:
        with self._lock:
            self._errors.setdefault(variant, {}).setdefault(str(error), error)

    def _file_key(self, url: str) -> str | None:
        prefix = self.base_url + "/files/"
        if not url.startswith(prefix):
            return None
        parts = url[len(prefix) :].split("/")
        return parts[1] if len(parts) == 3 else None

    def _link(self, variant: str, file: IndexFile) -> str:
        if file.url.startswith("file:"):
            return file.url  # pip reads local files in place, which beats copying gigabytes
        key = hashlib.sha256(file.url.encode()).hexdigest()[:32]
        with self._lock:
            self._files[key] = file
        return f"{self.base_url}/files/{urllib.parse.quote(variant)}/{key}/{urllib.parse.quote(file.filename)}"

    def render(self, variant: str, project: str) -> bytes | None:
        found = self.project_files(variant, project)
        if found is None:
            return None
        anchors = []
        for file in sorted(found[1], key=lambda f: (f.filename, f.url)):
            href = self._link(variant, file)
            if file.sha256:
                href += "#sha256=" + file.sha256
            attrs = f' href="{html.escape(href)}"'
            if file.requires_python:
                attrs += f' data-requires-python="{html.escape(file.requires_python)}"'
            if file.yanked is not None:
                attrs += f' data-yanked="{html.escape(file.yanked)}"'
            if file.metadata:
                value = html.escape(file.metadata)
                attrs += f' data-dist-info-metadata="{value}" data-core-metadata="{value}"'
            anchors.append(f"<a{attrs}>{html.escape(file.filename)}</a><br/>")
        body = "\n".join(anchors)
        return f"<!DOCTYPE html>\n<html><body>\n{body}\n</body></html>\n".encode()

    def serve(self, handler: _Handler) -> None:
        parts = [urllib.parse.unquote(p) for p in urllib.parse.urlsplit(handler.path).path.strip("/").split("/")]
        if len(parts) == 3 and parts[1] == "simple":
            variant, _, project = parts
            try:
                page = self.render(variant, project)
            except LockError as error:
                self._record(variant, error)
                handler.send_body(502, b"")
                return
            handler.send_body(404 if page is None else 200, page or b"")
            return
        if len(parts) == 4 and parts[0] == "files":
            _, variant, key, filename = parts
            with self._lock:
                file = self._files.get(key)
            if file is None:
                handler.send_body(404, b"")
            elif filename.endswith(".metadata"):
                self._relay(file.url + ".metadata", None, variant, handler)
            else:
                self._relay(file.url, file, variant, handler)
            return
        handler.send_body(404, b"")

    def _relay(self, url: str, wheel: IndexFile | None, variant: str, handler: _Handler) -> None:
        """Streams ``url`` to pip; for a wheel, hashes it on the way."""
        try:
            upstream = open_url(url, self.fetcher.timeout)
        except urllib.error.HTTPError as error:
            handler.send_body(error.code, b"")
            return
        except (urllib.error.URLError, OSError) as error:
            self._record(variant, IndexUnreachableError(url, str(getattr(error, "reason", None) or error)))
            handler.send_body(502, b"")
            return
        digest = hashlib.sha256()
        with upstream:
            handler.send_response(200)
            length = upstream.headers.get("Content-Length")
            if length:
                handler.send_header("Content-Length", length)
            else:
                handler.send_header("Connection", "close")
                handler.close_connection = True
            handler.send_header("Content-Type", "application/octet-stream")
            handler.end_headers()
            try:
                chunk = upstream.read(_CHUNK)
                while chunk:
                    digest.update(chunk)
                    following = upstream.read(_CHUNK)
                    if not following and wheel is not None:
                        # Recorded before pip gets the last byte: once pip is done, the
                        # lock tool must find the hash, not download the wheel again.
                        self._check(wheel, digest.hexdigest(), variant)
                    handler.wfile.write(chunk)
                    chunk = following
            except OSError:
                handler.close_connection = True  # pip hung up or the upstream broke; pip reports its own error

    def _check(self, wheel: IndexFile, sha256: str, variant: str) -> None:
        if wheel.sha256 and wheel.sha256 != sha256:
            self._record(
                variant,
                LockError(
                    f"{wheel.url}: the index says sha256 {wheel.sha256} but the file has {sha256}. "
                    "The index or a mirror serves a changed file; do not lock it until that is resolved."
                ),
            )
        else:
            self.hashes.remember(wheel.url, sha256)


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.server.proxy.serve(self)

    def send_body(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        # Pages change between runs (new releases); pip must never cache them.
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (signature of the base class)
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, proxy: FirstIndexProxy) -> None:
        self.proxy = proxy
        super().__init__(("127.0.0.1", 0), _Handler)
