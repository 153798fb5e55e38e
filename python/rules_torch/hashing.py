"""sha256 of wheels whose index gives none (PyTorch's index, find-links directories).

Each URL is read once per run, streamed (torch wheels are gigabytes), and, for http(s)
URLs, remembered on disk so that re-locking does not download again. Local files are
hashed each run: reading them is cheap and their content may change under the same path.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import urllib.error
from pathlib import Path

from rules_torch.errors import LockError
from rules_torch.index import Memo, open_url

_CHUNK = 1 << 20


def default_cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "rules_torch"


class HashCache:
    """sha256 by URL: in memory for the run, on disk under ``cache_dir`` for http(s)."""

    def __init__(self, cache_dir: Path | None, timeout: float) -> None:
        self._dir = cache_dir / "sha256" if cache_dir else None
        self._timeout = timeout
        self._lock = threading.Lock()
        self._known: dict[str, str] = {}
        self._downloads: Memo[str] = Memo()

    def _path(self, url: str) -> Path | None:
        if self._dir is None or url.startswith("file:"):
            return None
        return self._dir / (hashlib.sha256(url.encode()).hexdigest() + ".json")

    def lookup(self, url: str) -> str | None:
        with self._lock:
            if url in self._known:
                return self._known[url]
        path = self._path(url)
        if path is None or not path.is_file():
            return None
        try:
            entry = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        if entry.get("url") != url or not _is_sha256(entry.get("sha256")):
            return None
        with self._lock:
            self._known[url] = entry["sha256"]
        return entry["sha256"]

    def remember(self, url: str, sha256: str) -> None:
        with self._lock:
            self._known[url] = sha256
        path = self._path(url)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Written atomically: a concurrent run must never read half an entry.
            with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as tmp:
                json.dump({"sha256": sha256, "url": url}, tmp)
            os.replace(tmp.name, path)
        except OSError:
            pass  # The cache only saves time; a read-only cache directory is not an error.

    def sha256(self, url: str) -> str:
        """The sha256 of the file at ``url``, downloading it (once) if it is not known yet."""
        return self.lookup(url) or self._downloads.get(url, lambda: self._download(url))

    def _download(self, url: str) -> str:
        digest = hashlib.sha256()
        try:
            with open_url(url, self._timeout) as stream:
                while chunk := stream.read(_CHUNK):
                    digest.update(chunk)
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", None) or error
            raise LockError(
                f"cannot download {url} to compute its sha256 (the index gives none): {reason}. "
                "Check the network, or use an index that publishes hashes."
            ) from None
        self.remember(url, digest.hexdigest())
        return digest.hexdigest()


def _is_sha256(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)
