"""A resolved wheel's ``Requires-Dist``, read from its core metadata only.

uv's pylock.toml names each wheel of a cell but not why it is there; the lock records the
extras each wheel is installed with (torch's ``cuda-toolkit[cublas,...]``) and the
requirements files say what requires it, so the tool reads each wheel's metadata once per
run: a local wheel's ``.dist-info/METADATA`` through the zip's central directory (a few
kilobytes of a gigabyte wheel), a remote wheel's PEP 658 ``<url>.metadata`` file. Only a
remote wheel without one is downloaded whole (and hashed on the way).
"""

from __future__ import annotations

import concurrent.futures
import email.parser
import hashlib
import io
import json
import os
import struct
import tempfile
import urllib.error
import zipfile
import zlib
from pathlib import Path

from packaging.utils import canonicalize_name, parse_wheel_filename

from rules_torch.errors import LockError
from rules_torch.hashing import HashCache
from rules_torch.index import Memo, file_url_to_path, open_url

_CHUNK = 1 << 20


class MetadataReader:
    """``Requires-Dist`` by wheel URL, each read once per run (threads may share it); a remote
    wheel's is also remembered under ``cache_dir`` by URL and sha256 (the file it was read from)."""

    def __init__(self, hashes: HashCache, timeout: float, cache_dir: Path | None = None) -> None:
        self._hashes = hashes
        self._timeout = timeout
        self._dir = cache_dir / "requires-dist" if cache_dir else None
        self._memo: Memo[list[str]] = Memo()

    def requires_dist(self, url: str, filename: str, sha256: str | None = None) -> list[str]:
        return self._memo.get(url, lambda: self._cached(url, filename, sha256))

    def requires_dist_of(self, wheels: dict[str, tuple[str, str, str | None]]) -> dict[str, list[str]]:
        """name -> Requires-Dist for ``wheels`` (name -> (URL, filename, sha256)), remote ones in parallel."""
        remote = {name: wheel for name, wheel in wheels.items() if not wheel[0].startswith("file:")}
        found: dict[str, list[str]] = {}
        if len(remote) > 1:
            with concurrent.futures.ThreadPoolExecutor(max_workers=min(8, len(remote))) as pool:
                futures = {name: pool.submit(self.requires_dist, *wheel) for name, wheel in remote.items()}
                found = {name: future.result() for name, future in futures.items()}
        return {name: found[name] if name in found else self.requires_dist(*wheel) for name, wheel in wheels.items()}

    def _cached(self, url: str, filename: str, sha256: str | None) -> list[str]:
        if self._dir is None or url.startswith("file:") or not sha256:
            return self._read(url, filename)
        path = self._dir / (hashlib.sha256(f"{url}#{sha256}".encode()).hexdigest() + ".json")
        try:
            entry = json.loads(path.read_text())
            if (
                entry.get("url") == url
                and entry.get("sha256") == sha256
                and isinstance(entry.get("requires_dist"), list)
            ):
                return [str(r) for r in entry["requires_dist"]]
        except (OSError, ValueError):
            pass
        requires = self._read(url, filename)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as tmp:
                json.dump({"requires_dist": requires, "sha256": sha256, "url": url}, tmp)
            os.replace(tmp.name, path)
        except OSError:
            pass  # the cache only saves time
        return requires

    def _read(self, url: str, filename: str) -> list[str]:
        if url.startswith("file:"):
            path = file_url_to_path(url)
            try:
                found = _metadata_of_local_wheel(path, filename)
                if found is not None:
                    return _parse(found)
                with zipfile.ZipFile(path) as wheel:  # zip64, or an unusual layout: the standard reader
                    return _from_wheel(wheel, filename, url)
            except (OSError, zipfile.BadZipFile, zlib.error, struct.error) as error:
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


_EOCD = b"PK\x05\x06"
_CENTRAL = b"PK\x01\x02"
_METADATA = b".dist-info/METADATA"


def _metadata_of_local_wheel(path: Path, filename: str) -> bytes | None:
    """``<name>-<version>.dist-info/METADATA`` of a local wheel, read through its central directory
    without listing every entry (torch's has 12,000); None where the zip needs the standard reader."""
    with open(path, "rb") as stream:
        size = stream.seek(0, 2)
        tail_size = min(size, 65536 + 22)
        stream.seek(size - tail_size)
        tail = stream.read(tail_size)
        end = tail.rfind(_EOCD)
        if end < 0 or len(tail) - end < 22:
            return None
        _, _, _, _, _, directory_size, directory_offset, _ = struct.unpack("<4s4H2LH", tail[end : end + 22])
        if directory_offset == 0xFFFFFFFF:
            return None  # zip64
        stream.seek(directory_offset)
        directory = stream.read(directory_size)
        name = parse_wheel_filename(filename)[0]
        position = directory.find(_METADATA)
        while position >= 0:
            start = directory.rfind(_CENTRAL, 0, position)
            if start < 0:
                return None
            fields = struct.unpack("<4s6H3L5H2L", directory[start : start + 46])
            method, compressed, name_length, offset = fields[4], fields[8], fields[10], fields[16]
            entry = directory[start + 46 : start + 46 + name_length].decode("utf-8", "replace")
            top, _, rest = entry.partition("/")
            inside = start + 46 <= position < start + 46 + name_length
            if (
                inside
                and rest == "METADATA"
                and canonicalize_name(top[: -len(".dist-info")].rpartition("-")[0]) == name
            ):
                stream.seek(offset)
                local_name, local_extra = struct.unpack("<2H", stream.read(30)[26:30])
                stream.seek(offset + 30 + local_name + local_extra)
                data = stream.read(compressed)
                if method == 0:
                    return data
                return zlib.decompress(data, -15) if method == 8 else None
            position = directory.find(_METADATA, position + 1)
    return None


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
