"""The rules_torch lock (schema version 1, docs/lock_schema.md): the one owner of the document.

Its shapes (``Request``, ``FromUv``, ``WheelEntry``), building it (``lock_document``: the lock
tool, the uv.lock import and the integration tests' workspaces all build it here), writing it
(``dumps``, ``write_atomic``), reading and validating it (``load_lock``, ``validate``) and the
command that re-creates it (``lock_command``). The module extension reads locks with its own
validator, torch/private/lock/lock.bzl, which checks what the extension needs (the shape, each
wheel's file name, URL scheme and sha256) with the tables of lock_tables.py; tests/locks/corpus.bzl
runs both on the same locks, those only this one refuses (unknown fields, unsorted wheels, invalid
versions) included.

Every validation message names the file and the cell or wheel at fault and says what to do; a
lock is generated, so the fix is almost always to re-run the tool.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shlex
import tempfile
import urllib.parse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from rules_torch.cells import PLATFORMS, VARIANT_FORMS, VARIANT_RE, Cell, cp_tag, natural_key, python_tuple
from rules_torch.errors import LockError
from rules_torch.lock_tables import (
    LOCK_TOOL,
    OPTIONAL_REQUEST_FIELDS,
    REQUEST_FIELDS,
    SCHEMA_VERSION,
    TOP_LEVEL_PROJECTS,
    URL_SCHEMES,
    WHEEL_PLATFORM_PATTERNS,
)


@dataclasses.dataclass(frozen=True)
class FromUv:
    """How a lock imported from a uv.lock is re-imported (``request.from_uv``)."""

    args: list[str]  # the import's arguments, without --output and the cache options
    extras: dict[str, str]  # variant -> the project's extra it came from
    uv_lock: str  # the uv.lock's path as given to --from-uv
    uv_lock_sha256: str


@dataclasses.dataclass(frozen=True)
class FromPylock:
    """How a lock imported from pylock.toml files is re-imported (``request.from_pylock``)."""

    args: list[str]  # the import's arguments, without --output and the cache options
    files: dict[str, str]  # each file's path as given to --from-pylock -> its sha256


@dataclasses.dataclass(frozen=True)
class Request:
    """What the lock was made from; recorded verbatim in the lock as ``request``."""

    # None only in a lock imported (uv.lock, pylock.toml) whose variants pin different torch releases.
    torch: str | None
    torchvision: str | None
    torchaudio: str | None
    variants: list[str]
    platforms: list[str]
    pythons: list[str]
    index_url: str
    extra_index_urls: list[str]
    find_links: list[str]
    # --with: more top-level requirements locked into every cell (e.g. numpy, which torch
    # uses when present); recorded as the lock's "with" field.
    with_requirements: list[str] = dataclasses.field(default_factory=list)
    from_uv: FromUv | None = None
    from_pylock: FromPylock | None = None

    def pins(self) -> dict[str, str]:
        """Top-level project -> requested version, for the projects requested."""
        versions = {name: getattr(self, name) for name in TOP_LEVEL_PROJECTS}
        return {name: version for name, version in versions.items() if version}

    def roots(self) -> list[str]:
        """The canonical names of every top-level requirement: the pins and --with's."""
        return [*self.pins(), *(canonicalize_name(Requirement(r).name) for r in self.with_requirements)]

    def as_json(self) -> dict[str, object]:
        data = dataclasses.asdict(self)
        # Absent rather than empty: locks written without --with, or not from a uv.lock, stay byte-identical.
        data.pop("with_requirements")
        if self.with_requirements:
            data["with"] = list(self.with_requirements)
        if self.from_uv is None:
            data.pop("from_uv")
        if self.from_pylock is None:
            data.pop("from_pylock")
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Request:
        fields = {key: value for key, value in data.items() if key not in ("with", "from_uv", "from_pylock")}
        from_uv = FromUv(**data["from_uv"]) if data.get("from_uv") else None
        from_pylock = FromPylock(**data["from_pylock"]) if data.get("from_pylock") else None
        return cls(**fields, with_requirements=list(data.get("with", [])), from_uv=from_uv, from_pylock=from_pylock)


@dataclasses.dataclass(frozen=True)
class WheelEntry:
    """One wheel of a cell, as the lock records it (``cells.<key>.wheels[]``)."""

    name: str
    version: str
    filename: str
    url: str
    sha256: str | None  # None only before it is known: validate() refuses a lock without one
    extras: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        data = {field: getattr(self, field) for field in _WHEEL_FIELDS}
        data["extras"] = list(self.extras)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WheelEntry:
        return cls(**{field: data[field] for field in _WHEEL_FIELDS if field != "extras"}, extras=tuple(data["extras"]))


_WHEEL_FIELDS = tuple(field.name for field in dataclasses.fields(WheelEntry))


def lock_document(request: Request, cells: Mapping[Cell, Sequence[WheelEntry]]) -> dict[str, Any]:
    """The lock of ``request``: each cell's wheels, sorted by name (the one builder of a lock)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "request": request.as_json(),
        "cells": {
            cell.key: {
                "variant": cell.variant,
                "platform": cell.platform,
                "python": cell.python,
                "wheels": [w.as_json() for w in sorted(wheels, key=lambda w: w.name)],
            }
            for cell, wheels in sorted(cells.items(), key=lambda item: item[0].key)
        },
    }


def parse_document(data: Mapping[str, Any]) -> tuple[Request, dict[Cell, list[WheelEntry]]]:
    """The request and cells of a valid lock (see ``load_lock``): what ``lock_document`` was given."""
    cells = {
        Cell(cell["variant"], cell["platform"], cell["python"]): [WheelEntry.from_json(w) for w in cell["wheels"]]
        for cell in data["cells"].values()
    }
    return Request.from_json(data["request"]), cells


def dumps(document: dict[str, object]) -> str:
    """The lock's bytes: sorted keys, indent 2, trailing newline, so re-locking is byte-identical."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_atomic(path: Path, text: str) -> None:
    """Replaces ``path`` in one step: readers see the old or the new file, never a mix.

    The temporary file lives next to the target so that the rename stays on one file
    system. The file mode of an existing lock is kept (it is usually checked in).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def lock_command(request: Request, output: str, output_args: list[str]) -> str:
    """The command that re-creates a lock, for headers and error messages.

    The module extension spells the same command for the same request (lock.bzl's
    relock_command; tests/locks/corpus.bzl's RELOCK_COMMANDS holds both to the same text).
    """
    args = []
    for name, version in request.pins().items():
        args += [f"--{name}", version]
    for requirement in request.with_requirements:
        args += ["--with", requirement]
    args += ["--variants", ",".join(sorted(request.variants, key=natural_key))]
    args += ["--platforms", ",".join(sorted(request.platforms))]
    args += ["--python", ",".join(sorted(request.pythons, key=python_tuple))]
    args += ["--index-url", request.index_url]
    for url in request.extra_index_urls or [""]:
        args += ["--extra-index-url", url]
    for location in request.find_links:
        args += ["--find-links", location]
    args += ["--output", output, *output_args]
    return f"{LOCK_TOOL} {shlex.join(args)}"


# --- Reading and validating ----------------------------------------------------------------

# \Z, not $: "$" also matches before a final newline, which a lock must not hold.
_PYTHON_RE = re.compile(r"^3\.\d+\Z")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}\Z")
_REGENERATE = f"re-create the lock with the lock tool ({LOCK_TOOL} ... --output FILE) instead of editing it"

# A lock imported from a uv.lock (request.from_uv) records how to re-import it.
_FROM_UV_FIELDS = {"args": "list of strings", "extras": "object", "uv_lock": "string", "uv_lock_sha256": "sha256"}
# One imported from pylock.toml files (request.from_pylock): each file's sha256, by its path.
_FROM_PYLOCK_FIELDS = {"args": "list of strings", "files": "object of sha256"}


class LockSchemaError(LockError):
    """A lock that does not follow the schema; the message lists every problem found."""


def load_lock(path: Path) -> dict[str, Any]:
    """Reads and validates a lock; raises ``LockSchemaError`` naming the file and the problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LockSchemaError(
            f"{path}: no such lock file. Create it with: {LOCK_TOOL} --torch VERSION "
            f"--variants cpu --platforms linux_x86_64 --python 3.11 --output {path}"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise LockSchemaError(f"{path}: cannot read the lock: {error}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise LockSchemaError(
            f"{path}:{error.lineno}:{error.colno}: not valid JSON ({error.msg}); {_REGENERATE}"
        ) from None
    validate(data, str(path))
    return data


def validate(data: object, source: str = "<lock>") -> None:
    """Raises ``LockSchemaError`` listing every schema violation of ``data``."""
    problems = _problems(data)
    if problems:
        shown = problems[:20]
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise LockSchemaError(
            f"{source}: not a valid rules_torch lock (schema version {SCHEMA_VERSION}):\n  "
            + "\n  ".join(shown)
            + more
            + f"\nTo fix: {_REGENERATE}."
        )


def _problems(data: object) -> list[str]:
    if not isinstance(data, dict):
        return [f"the lock must be a JSON object, found {_kind(data)}"]
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        if "schema_version" not in data:
            return [f"'schema_version' is missing (expected {SCHEMA_VERSION})"]
        return [
            f"schema_version {json.dumps(version)} is not supported; this rules_torch reads schema_version "
            f"{SCHEMA_VERSION}. Re-create the lock with this rules_torch's lock tool, or upgrade rules_torch"
        ]
    problems = [
        f"unknown top-level field '{key}'" for key in sorted(set(data) - {"schema_version", "request", "cells"})
    ]
    request = data.get("request")
    problems += _request_problems(request)
    cells = data.get("cells")
    if not isinstance(cells, dict):
        problems.append(f"'cells' must be an object keyed by cell, found {_kind(cells)}")
    elif not cells:
        problems.append("'cells' is empty: the lock pins nothing")
    else:
        for key, cell in cells.items():
            problems += _cell_problems(key, cell, request if isinstance(request, dict) else {})
    return problems


def _request_problems(request: object) -> list[str]:
    if not isinstance(request, dict):
        return [f"'request' must be an object, found {_kind(request)}"]
    problems = [f"request: unknown field '{key}'" for key in sorted(set(request) - set(REQUEST_FIELDS))]
    for field, expected in REQUEST_FIELDS.items():
        if field not in request:
            if field in OPTIONAL_REQUEST_FIELDS:
                continue
            problems.append(f"request.{field} is missing ({expected})")
            continue
        value = request[field]
        if field == "from_uv":
            problems += _from_uv_problems(value)
        elif field == "from_pylock":
            problems += _from_pylock_problems(value)
        elif field == "torch" and value is None and ("from_uv" in request or "from_pylock" in request):
            pass  # an imported lock's variants may pin different torch releases
        elif expected.startswith("list"):
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                problems.append(f"request.{field} must be a list of strings, found {_kind(value)}")
        elif not (isinstance(value, str) or (value is None and "null" in expected)):
            problems.append(f"request.{field} must be a {expected}, found {_kind(value)}")
    for variant in _strings(request.get("variants")):
        if not VARIANT_RE.match(variant):
            problems.append(f"request.variants: unknown variant '{variant}' (valid forms: {VARIANT_FORMS})")
    for platform in _strings(request.get("platforms")):
        if platform not in PLATFORMS:
            problems.append(f"request.platforms: unknown platform '{platform}' (valid: {', '.join(PLATFORMS)})")
    for python in _strings(request.get("pythons")):
        if not _PYTHON_RE.match(python):
            problems.append(f"request.pythons: '{python}' is not a major.minor version like 3.11")
    for field in TOP_LEVEL_PROJECTS:
        value = request.get(field)
        if isinstance(value, str) and ("+" in value or not _is_version(value)):
            problems.append(f"request.{field}: '{value}' must be a version without a local label, like 2.5.1")
    return problems


def _from_uv_problems(value: object) -> list[str]:
    if not isinstance(value, dict):
        return [f"request.from_uv must be an object, found {_kind(value)}"]
    problems = [f"request.from_uv: unknown field '{key}'" for key in sorted(set(value) - set(_FROM_UV_FIELDS))]
    for field, expected in _FROM_UV_FIELDS.items():
        item = value.get(field)
        ok = {
            "list of strings": isinstance(item, list) and all(isinstance(v, str) for v in item),
            "object": isinstance(item, dict) and all(isinstance(v, str) for v in item.values()),
            "string": isinstance(item, str) and bool(item),
            "sha256": isinstance(item, str) and bool(_SHA256_RE.match(item)),
        }[expected]
        if not ok:
            problems.append(f"request.from_uv.{field} must be a {expected}, found {_kind(item)}")
    return problems


def _from_pylock_problems(value: object) -> list[str]:
    if not isinstance(value, dict):
        return [f"request.from_pylock must be an object, found {_kind(value)}"]
    problems = [f"request.from_pylock: unknown field '{key}'" for key in sorted(set(value) - set(_FROM_PYLOCK_FIELDS))]
    args, files = value.get("args"), value.get("files")
    if not (isinstance(args, list) and all(isinstance(v, str) for v in args)):
        problems.append(f"request.from_pylock.args must be a list of strings, found {_kind(args)}")
    if not (
        isinstance(files, dict) and files and all(isinstance(v, str) and _SHA256_RE.match(v) for v in files.values())
    ):
        problems.append(f"request.from_pylock.files must be an object of sha256 by path, found {_kind(files)}")
    return problems


def _cell_problems(key: str, cell: object, request: dict[str, Any]) -> list[str]:
    where = f"cells.{key}"
    if not isinstance(cell, dict):
        return [f"{where} must be an object, found {_kind(cell)}"]
    problems = [
        f"{where}: unknown field '{f}'" for f in sorted(set(cell) - {"variant", "platform", "python", "wheels"})
    ]
    coordinates = {f: cell.get(f) for f in ("variant", "platform", "python")}
    for field, value in coordinates.items():
        if not isinstance(value, str):
            problems.append(f"{where}.{field} must be a string, found {_kind(value)}")
    if isinstance(coordinates["variant"], str) and not VARIANT_RE.match(coordinates["variant"]):
        problems.append(f"{where}.variant '{coordinates['variant']}' is not a variant (valid forms: {VARIANT_FORMS})")
    platform = coordinates["platform"]
    if isinstance(platform, str) and platform not in PLATFORMS:
        problems.append(f"{where}.platform: unknown platform '{platform}' (valid: {', '.join(PLATFORMS)})")
    if isinstance(coordinates["python"], str) and not _PYTHON_RE.match(coordinates["python"]):
        problems.append(f"{where}.python '{coordinates['python']}' is not a major.minor version like 3.11")
    if all(isinstance(v, str) for v in coordinates.values()):
        expected = f"{coordinates['variant']}_{coordinates['platform']}_{cp_tag(coordinates['python'])}"
        if key != expected:
            problems.append(f"{where}: the key does not match the cell's coordinates (expected '{expected}')")
        for field, plural in (("variant", "variants"), ("platform", "platforms"), ("python", "pythons")):
            allowed = request.get(plural)
            if isinstance(allowed, list) and coordinates[field] not in allowed:
                problems.append(f"{where}.{field} '{coordinates[field]}' is not in request.{plural}")
    wheels = cell.get("wheels")
    if not isinstance(wheels, list) or not wheels:
        problems.append(f"{where}.wheels must be a non-empty list, found {_kind(wheels)}")
        return problems
    names = []
    for index, wheel in enumerate(wheels):
        problems += _wheel_problems(f"{where}.wheels[{index}]", wheel, coordinates)
        if isinstance(wheel, dict) and isinstance(wheel.get("name"), str):
            names.append(wheel["name"])
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        problems.append(f"{where}.wheels: {', '.join(duplicates)} listed more than once")
    if names != sorted(names):
        problems.append(f"{where}.wheels must be sorted by name")
    if "torch" not in names:
        problems.append(f"{where}: has no 'torch' wheel (every cell pins torch; the module extension refuses it)")
    return problems


def _python_tag_fits(python_tags: list[str], abi_tags: list[str], python: str) -> bool:
    nodot, minor = python.replace(".", ""), int(python.split(".")[1])
    for tag in python_tags:
        if tag in ("py3", "py" + nodot, "cp" + nodot):
            return True
        if tag.startswith("py3") and tag[3:].isdigit() and int(tag[3:]) <= minor:
            return True
        if tag.startswith("cp3") and tag[3:].isdigit() and "abi3" in abi_tags and int(tag[3:]) <= minor:
            return True
    return False


def _platform_tag_fits(platform_tags: list[str], platform: str) -> bool:
    patterns = WHEEL_PLATFORM_PATTERNS.get(platform, [])
    return any(
        tag == "any" or any(tag.startswith(prefix) and tag.endswith(suffix) for prefix, suffix in patterns)
        for tag in platform_tags
    )


def _fit_problems(where: str, filename: str, url: str, cell: dict[str, Any]) -> list[str]:
    """The same rules as _wheel_fits_cell in torch/private/lock/lock.bzl: the URL's file is
    `filename`, and its tags fit the cell's Python and platform."""
    basename = urllib.parse.unquote(url.split("#")[0].split("?")[0].rpartition("/")[2])
    if basename != filename:
        return [f"{where}: the url's file name '{basename}' is not the filename '{filename}'"]
    parts = filename[: -len(".whl")].split("-")
    python, platform = cell.get("python"), cell.get("platform")
    if len(parts) not in (5, 6) or not isinstance(python, str) or not _PYTHON_RE.match(python):
        return []
    if not _python_tag_fits(parts[-3].split("."), parts[-2].split("."), python):
        return [f"{where}: its tags {parts[-3]}-{parts[-2]} do not fit the cell's Python {python}"]
    if isinstance(platform, str) and platform in PLATFORMS and not _platform_tag_fits(parts[-1].split("."), platform):
        return [f"{where}: its platform tag {parts[-1]} does not fit the cell's platform {platform}"]
    return []


def _wheel_problems(where: str, wheel: object, cell: dict[str, Any]) -> list[str]:
    if not isinstance(wheel, dict):
        return [f"{where} must be an object, found {_kind(wheel)}"]
    name = wheel.get("name")
    where = f"{where} ({name})" if isinstance(name, str) else where
    problems = [f"{where}: unknown field '{f}'" for f in sorted(set(wheel) - set(_WHEEL_FIELDS))]
    for field in _WHEEL_FIELDS:
        if field not in wheel:
            hint = (
                " (every wheel needs one; the lock tool computes it when the index gives none)"
                if field == "sha256"
                else ""
            )
            problems.append(f"{where}: '{field}' is missing{hint}")
    if problems:
        return problems
    if not isinstance(name, str) or canonicalize_name(name) != name:
        problems.append(
            f"{where}: name must be a normalized project name (PEP 503), e.g. '{canonicalize_name(str(name))}'"
        )
    version, filename, url, sha256, extras = (wheel[f] for f in ("version", "filename", "url", "sha256", "extras"))
    if not isinstance(version, str) or not _is_version(version):
        problems.append(f"{where}: version {json.dumps(version)} is not a valid version")
    if not isinstance(filename, str) or not filename.endswith(".whl"):
        problems.append(f"{where}: filename {json.dumps(filename)} must be a wheel file name ending in .whl")
    else:
        try:
            file_name, file_version, _, _ = parse_wheel_filename(filename)
        except (InvalidWheelFilename, InvalidVersion):
            problems.append(f"{where}: filename '{filename}' is not a valid wheel file name")
        else:
            if isinstance(name, str) and file_name != name:
                problems.append(f"{where}: filename '{filename}' is for project '{file_name}', not '{name}'")
            if isinstance(version, str) and _is_version(version) and file_version != Version(version):
                problems.append(f"{where}: filename '{filename}' is for version {file_version}, not {version}")
    if not isinstance(url, str) or not url.startswith(tuple(URL_SCHEMES)):
        problems.append(f"{where}: url {json.dumps(url)} must start with {_or(URL_SCHEMES)}")
    elif isinstance(filename, str) and filename.endswith(".whl"):
        problems += _fit_problems(where, filename, url, cell)
    if not isinstance(sha256, str) or not _SHA256_RE.match(sha256):
        problems.append(f"{where}: sha256 {json.dumps(sha256)} must be 64 lowercase hex digits")
    if not (isinstance(extras, list) and all(isinstance(e, str) for e in extras)):
        problems.append(f"{where}: extras must be a list of strings, found {_kind(extras)}")
    elif extras != sorted(extras):
        problems.append(f"{where}: extras must be sorted")
    return problems


def _or(words: list[str]) -> str:
    return ", ".join(words[:-1]) + " or " + words[-1]


def _is_version(text: str) -> bool:
    try:
        Version(text)
    except InvalidVersion:
        return False
    return True


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _kind(value: object) -> str:
    if value is None:
        return "null"
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    text = json.dumps(value) if isinstance(value, (str, int, float, bool)) else ""
    return f"{names.get(type(value), type(value).__name__)}{' ' + text if text and len(text) < 40 else ''}"
