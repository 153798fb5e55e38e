"""A resolved wheel's ``Requires-Dist``, read from its core metadata only.

uv's pylock.toml names each wheel of a cell but not why it is there; the lock records the
extras each wheel is installed with (torch's ``cuda-toolkit[cublas,...]``) and the
requirements files say what requires it, so the tool reads each wheel's metadata once per
run: a local wheel's ``.dist-info/METADATA`` through the zip's central directory (a few
kilobytes of a gigabyte wheel), a remote wheel's PEP 658 ``<url>.metadata`` file. Only a
remote wheel without one is downloaded whole (and hashed on the way).
"""

from __future__ import annotations

import email.parser
import hashlib
import io
import tempfile
import urllib.error
import zipfile

from packaging.utils import canonicalize_name, parse_wheel_filename

from rules_torch.errors import LockError
from rules_torch.hashing import HashCache
from rules_torch.index import Memo, file_url_to_path, open_url

_CHUNK = 1 << 20


class MetadataReader:
    """``Requires-Dist`` by wheel URL, each read once per run (threads may share it)."""

    def __init__(self, hashes: HashCache, timeout: float) -> None:
        self._hashes = hashes
        self._timeout = timeout
        self._memo: Memo[list[str]] = Memo()

    def requires_dist(self, url: str, filename: str) -> list[str]:
        return self._memo.get(url, lambda: self._read(url, filename))

    def _read(self, url: str, filename: str) -> list[str]:
        if url.startswith("file:"):
            try:
                with zipfile.ZipFile(file_url_to_path(url)) as wheel:
                    return _from_wheel(wheel, filename, url)
            except (OSError, zipfile.BadZipFile) as error:
                raise LockError(f"cannot read the metadata of {url}: {error}") from None
        try:
            with open_url(url + ".metadata", self._timeout) as response:
                return _parse(response.read())
        except urllib.error.HTTPError as error:
            if error.code not in (403, 404, 410):
                raise LockError(f"cannot read {url}.metadata: HTTP {error.code} {error.reason}") from None
        except (urllib.error.URLError, OSError) as error:
            raise LockError(f"cannot read {url}.metadata: {getattr(error, 'reason', None) or error}") from None
        return self._download(url, filename)

    def _download(self, url: str, filename: str) -> list[str]:
        """The index publishes no PEP 658 metadata: the whole wheel, hashed on the way."""
        digest = hashlib.sha256()
        try:
            with tempfile.TemporaryFile() as copy:
                with open_url(url, self._timeout) as stream:
                    while chunk := stream.read(_CHUNK):
                        digest.update(chunk)
                        copy.write(chunk)
                copy.seek(0)
                with zipfile.ZipFile(copy) as wheel:
                    requires = _from_wheel(wheel, filename, url)
        except (urllib.error.URLError, OSError, zipfile.BadZipFile) as error:
            raise LockError(
                f"cannot download {url} to read its metadata: {getattr(error, 'reason', None) or error}"
            ) from None
        self._hashes.remember(url, digest.hexdigest())
        return requires


def _from_wheel(wheel: zipfile.ZipFile, filename: str, url: str) -> list[str]:
    name, version, _, _ = parse_wheel_filename(filename)
    for entry in wheel.namelist():
        top, _, rest = entry.partition("/")
        if rest == "METADATA" and top.endswith(".dist-info"):
            stem = top[: -len(".dist-info")]
            if canonicalize_name(stem.rpartition("-")[0]) == name:
                return _parse(wheel.read(entry))
    raise LockError(f"{url}: the wheel has no {name}-{version}.dist-info/METADATA; it is not a valid wheel.")


def _parse(data: bytes) -> list[str]:
    message = email.parser.BytesParser().parse(io.BytesIO(data), headersonly=True)
    return list(message.get_all("Requires-Dist") or [])
