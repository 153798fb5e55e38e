"""Validates a rules_torch lock (schema version 1, docs/lock_schema.md).

Usage: ``python3 -m rules_torch.lock_schema LOCK [LOCK...]`` prints one line per lock and
exits 1 when any is invalid. Every message names the file and the cell or wheel at fault
and says what to do; a lock is generated, so the fix is almost always to re-run the tool.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.parse
from pathlib import Path
from typing import Any

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from rules_torch.cells import PLATFORMS, VARIANT_FORMS, VARIANT_RE, cp_tag
from rules_torch.errors import LockError

SCHEMA_VERSION = 1
_PYTHON_RE = re.compile(r"^3\.\d+$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")

# The wheel platform tags a cell's platform accepts, as [prefix, suffix] pairs, besides "any":
# the same table as WHEEL_PLATFORM_PATTERNS in torch/private/lock/lock.bzl (a test checks they agree),
# so that the lock tool and the module extension accept the same locks.
WHEEL_PLATFORM_PATTERNS = {
    "linux_aarch64": [["manylinux", "_aarch64"], ["linux", "_aarch64"]],
    "linux_x86_64": [["manylinux", "_x86_64"], ["linux", "_x86_64"]],
    "macos_arm64": [["macosx_", "_arm64"], ["macosx_", "_universal2"]],
    "macos_x86_64": [["macosx_", "_x86_64"], ["macosx_", "_universal2"]],
    "windows_amd64": [["win_amd64", ""]],
}
_REQUEST_FIELDS = {
    "torch": "string",
    "torchvision": "string or null",
    "torchaudio": "string or null",
    "variants": "list of strings",
    "platforms": "list of strings",
    "pythons": "list of strings",
    "index_url": "string",
    "extra_index_urls": "list of strings",
    "find_links": "list of strings",
    "with": "list of strings",
    "from_uv": "object",
}
_WHEEL_FIELDS = ("name", "version", "filename", "url", "sha256", "extras")
_REGENERATE = (
    "re-create the lock with the lock tool (python3 -m rules_torch.lock ... --output FILE) instead of editing it"
)


# Added after schema 1 was published; absent means empty.
_OPTIONAL_REQUEST_FIELDS = {"with", "from_uv"}
# A lock imported from a uv.lock (request.from_uv) records how to re-import it.
_FROM_UV_FIELDS = {"args": "list of strings", "extras": "object", "uv_lock": "string", "uv_lock_sha256": "sha256"}


class LockSchemaError(LockError):
    """A lock that does not follow the schema; the message lists every problem found."""


def load_lock(path: Path) -> dict[str, Any]:
    """Reads and validates a lock; raises ``LockSchemaError`` naming the file and the problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LockSchemaError(
            f"{path}: no such lock file. Create it with: python3 -m rules_torch.lock --torch VERSION "
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
            return ["'schema_version' is missing (expected 1)"]
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
    problems = [f"request: unknown field '{key}'" for key in sorted(set(request) - set(_REQUEST_FIELDS))]
    for field, expected in _REQUEST_FIELDS.items():
        if field not in request:
            if field in _OPTIONAL_REQUEST_FIELDS:
                continue
            problems.append(f"request.{field} is missing ({expected})")
            continue
        value = request[field]
        if field == "from_uv":
            problems += _from_uv_problems(value)
        elif field == "torch" and value is None and "from_uv" in request:
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
    for field in ("torch", "torchvision", "torchaudio"):
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
    if not isinstance(url, str) or not url.startswith(("https://", "http://", "file://")):
        problems.append(f"{where}: url {json.dumps(url)} must start with https://, http:// or file://")
    elif isinstance(filename, str) and filename.endswith(".whl"):
        problems += _fit_problems(where, filename, url, cell)
    if not isinstance(sha256, str) or not _SHA256_RE.match(sha256):
        problems.append(f"{where}: sha256 {json.dumps(sha256)} must be 64 lowercase hex digits")
    if not (isinstance(extras, list) and all(isinstance(e, str) for e in extras)):
        problems.append(f"{where}: extras must be a list of strings, found {_kind(extras)}")
    elif extras != sorted(extras):
        problems.append(f"{where}: extras must be sorted")
    return problems


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


def summary(data: dict[str, Any]) -> str:
    cells = data["cells"]
    wheels = sum(len(cell["wheels"]) for cell in cells.values())
    return f"{len(cells)} cell{'s' * (len(cells) != 1)}, {wheels} wheels"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 -m rules_torch.lock_schema",
        description="Check that rules_torch lock files follow the lock schema (version 1).",
    )
    parser.add_argument("locks", nargs="+", type=Path, metavar="LOCK", help="lock file to check")
    args = parser.parse_args(argv)
    status = 0
    for path in args.locks:
        try:
            data = load_lock(path)
        except LockSchemaError as error:
            print(f"error: {error}", file=sys.stderr)
            status = 1
        else:
            print(f"ok: {path} ({summary(data)})")
    return status


if __name__ == "__main__":
    sys.exit(main())
