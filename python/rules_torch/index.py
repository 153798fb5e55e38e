"""Reading PEP 503 indexes and find-links locations.

Only wheels matter (the lock is ``--only-binary=:all:``), so every other link is dropped.
Pages are read once per run and shared by all cells.
"""

from __future__ import annotations

import dataclasses
import html.parser
import os
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Generic, TypeVar

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from rules_torch import __version__
from rules_torch.errors import IndexUnreachableError

USER_AGENT = f"rules_torch-lock/{__version__}"

# 404/410 mean "no such project here". download.pytorch.org answers 403 (S3 AccessDenied)
# for projects it does not host (pytorch/pytorch#81900), so 403 must mean the same, or
# every PyPI-only dependency would look like an outage.
_ABSENT_STATUSES = {403, 404, 410}

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class IndexFile:
    """One wheel link of an index page, with what the page says about it."""

    filename: str
    url: str  # absolute, without fragment
    sha256: str | None = None
    requires_python: str | None = None
    yanked: str | None = None  # the reason ("" when none is given); None when not yanked
    metadata: str | None = None  # PEP 658/714 attribute value: "true" or "sha256=<hex>"

    @property
    def project(self) -> str:
        return canonicalize_name(parse_wheel_filename(self.filename)[0])

    @property
    def version(self) -> str:
        return str(parse_wheel_filename(self.filename)[1])


def is_wheel(filename: str) -> bool:
    try:
        parse_wheel_filename(filename)
    except InvalidWheelFilename:
        return False
    return True


def open_url(url: str, timeout: float, accept: str | None = None) -> IO[bytes]:
    """Opens an http(s) or file URL for reading; raises urllib's errors."""
    if url.startswith("file:"):
        return open(file_url_to_path(url), "rb")
    headers = {"User-Agent": USER_AGENT}
    if accept:
        headers["Accept"] = accept
    return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)  # noqa: S310 (URL schemes are checked by the caller)


def file_url_to_path(url: str) -> Path:
    return Path(urllib.request.url2pathname(urllib.parse.urlsplit(url).path))


def to_url(location: str, base_dir: Path) -> str:
    """A URL for an index or find-links location given as a URL or a local path."""
    if "://" in location:
        return location
    return (base_dir / location).resolve().as_uri()


class _LinkParser(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.anchors: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "base" and self.base is None:
            self.base = dict(attrs).get("href")
        elif tag == "a":
            self.anchors.append(dict(attrs))


def parse_links(text: str, page_url: str) -> list[IndexFile]:
    """The wheel links of a PEP 503 HTML page (or a find-links HTML page)."""
    parser = _LinkParser()
    parser.feed(text)
    base = urllib.parse.urljoin(page_url, parser.base) if parser.base else page_url
    files = []
    for attrs in parser.anchors:
        href = attrs.get("href")
        if not href:
            continue
        url, _, fragment = urllib.parse.urljoin(base, href).partition("#")
        filename = urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])
        if not is_wheel(filename):
            continue
        hashes = dict(part.partition("=")[::2] for part in fragment.split("&") if "=" in part)
        metadata = attrs.get("data-core-metadata") or attrs.get("data-dist-info-metadata")
        files.append(
            IndexFile(
                filename=filename,
                url=url,
                sha256=(hashes.get("sha256") or "").lower() or None,
                requires_python=attrs.get("data-requires-python") or None,
                yanked=(attrs["data-yanked"] or "") if "data-yanked" in attrs else None,
                metadata=metadata if metadata and metadata != "false" else None,
            )
        )
    return files


class Memo(Generic[T]):
    """Computes each key once, even when threads ask for it at the same time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key_locks: dict[object, threading.Lock] = {}
        self._values: dict[object, T] = {}

    def get(self, key: object, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._values:
                return self._values[key]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._values:
                    return self._values[key]
            value = compute()
            with self._lock:
                self._values[key] = value
            return value


class Fetcher:
    """Reads index pages and find-links locations, each once per run.

    A page that cannot be read raises ``IndexUnreachableError``: treating it as "project
    not here" would let a later index serve the project, which is exactly the dependency
    confusion the first-index strategy prevents.
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._pages: Memo[list[IndexFile] | None] = Memo()
        self._find_links: Memo[dict[str, list[IndexFile]]] = Memo()
        self._dirs: Memo[bool] = Memo()

    def project_page(self, index_url: str, project: str) -> list[IndexFile] | None:
        """The wheels of ``project`` on ``index_url``; None when the index lacks the project."""
        page_url = index_url.rstrip("/") + "/" + canonicalize_name(project) + "/"
        return self._pages.get(page_url, lambda: self._read_page(page_url))

    def index_exists(self, index_url: str) -> bool:
        """Whether a file:// index directory exists (http indexes are assumed to)."""
        if not index_url.startswith("file:"):
            return True
        return self._dirs.get(index_url, lambda: file_url_to_path(index_url).is_dir())

    def _read_page(self, page_url: str) -> list[IndexFile] | None:
        if page_url.startswith("file:"):
            path = file_url_to_path(page_url)
            if path.is_dir():
                path = path / "index.html"
            if not path.is_file():
                return None
            try:
                return parse_links(path.read_text(encoding="utf-8", errors="replace"), path.as_uri())
            except OSError as error:
                raise IndexUnreachableError(page_url, error.strerror or str(error)) from None
        try:
            with open_url(page_url, self.timeout, accept="text/html") as response:
                text = response.read().decode("utf-8", errors="replace")
                final_url = response.geturl()  # type: ignore[attr-defined]
        except urllib.error.HTTPError as error:
            if error.code in _ABSENT_STATUSES:
                return None
            raise IndexUnreachableError(page_url, f"HTTP {error.code} {error.reason}") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", None) or error
            raise IndexUnreachableError(page_url, str(reason)) from None
        return parse_links(text, final_url)

    def find_links(self, locations: tuple[str, ...]) -> dict[str, list[IndexFile]]:
        """Wheels of every find-links location, by project; read once."""
        return self._find_links.get(locations, lambda: self._read_find_links(locations))

    def _read_find_links(self, locations: tuple[str, ...]) -> dict[str, list[IndexFile]]:
        by_project: dict[str, list[IndexFile]] = {}
        for location in locations:
            for wheel in self._read_location(location):
                by_project.setdefault(wheel.project, []).append(wheel)
        return by_project

    def _read_location(self, url: str) -> Iterator[IndexFile]:
        if url.startswith("file:"):
            path = file_url_to_path(url)
            if path.is_dir():
                for entry in sorted(os.listdir(path)):
                    if is_wheel(entry) and (path / entry).is_file():
                        yield IndexFile(filename=entry, url=(path / entry).as_uri())
                return
            if path.is_file() and is_wheel(path.name):
                yield IndexFile(filename=path.name, url=path.as_uri())
                return
            if not path.is_file():
                raise IndexUnreachableError(url, "no such file or directory")
        page = self._read_page(url)
        if page is None:
            raise IndexUnreachableError(url, "not found")
        yield from page
