"""Reading and writing pylock.toml files (PEP 751) through ``packaging.pylock``.

``--pylock-dir`` writes one ``pylock.<variant>.toml`` per variant: the variant's cells as
``environments`` markers (platform x Python), each wheel with the marker of the cells it is
in, so that ``uv pip install -r`` and ``pip install -r`` on a cell's platform and Python
install exactly that cell's wheels (same files, same hashes).

TOML is read with the standard library's ``tomllib`` (Python 3.11+) or its backport ``tomli``
(``bazel run @rules_torch//python:lock`` brings it); it is written here, for the one shape the
tool writes (``dumps``).
"""

from __future__ import annotations

import json
import types
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rules_torch.cells import Cell, natural_key, python_tuple
from rules_torch.errors import LockError
from rules_torch.lockfile import WheelEntry, write_atomic


def _toml() -> types.ModuleType:
    try:
        import tomllib
    except ImportError:
        try:
            import tomli as tomllib  # the backport, for Python 3.9 and 3.10
        except ImportError:
            raise LockError(
                "reading pylock.toml needs Python 3.11 or newer, or the tomli package: `pip install tomli`"
            ) from None
    return tomllib


def load_toml(path: Path, source: str | None = None) -> dict[str, Any]:
    """The TOML document at ``path``; raises naming the file (``source``) and what is wrong."""
    source = source or str(path)
    toml = _toml()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LockError(f"{source}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise LockError(f"{source}: cannot read it: {error}") from None
    try:
        return toml.loads(text)
    except toml.TOMLDecodeError as error:
        raise LockError(
            f"{source}: not valid TOML ({error}); re-create it with the tool that wrote it (uv pip compile -o, "
            "pip lock, pdm export)"
        ) from None


def read_pylock(path: Path, source: str | None = None) -> Any:  # a packaging.pylock.Pylock
    """A validated pylock.toml; raises naming the file and the problem."""
    from packaging.pylock import Pylock, PylockValidationError  # loaded when used: lock start-up is timed

    source = source or str(path)
    data = load_toml(path, source)
    try:
        return Pylock.from_dict(data)
    except PylockValidationError as error:
        raise LockError(f"{source}: not a valid pylock.toml (PEP 751): {error}") from None


# --- Writing: one pylock.<variant>.toml per variant (--pylock-dir) ---------------------------


def cell_marker(cell: Cell) -> str:
    """The PEP 508 marker that selects ``cell``'s platform and Python (the variant is the file)."""
    target = cell.target
    return (
        f"sys_platform == '{target.sys_platform}' and platform_machine == '{target.platform_machine}' "
        f"and python_version == '{cell.python}'"
    )


def pylock_filename(variant: str) -> str:
    """``pylock.<variant>.toml``; PEP 751 allows no dot in the name: ``rocm6.2`` is ``pylock.rocm6_2.toml``."""
    return f"pylock.{variant.replace('.', '_')}.toml"


def variant_of_filename(name: str) -> str:
    """The variant a ``pylock.<name>.toml`` stands for (``_`` read back as ``.``: ``rocm6_2`` is ``rocm6.2``)."""
    return name.replace("_", ".")


def pylock_document(variant: str, cells: Mapping[Cell, Sequence[WheelEntry]]) -> dict[str, Any]:
    """The pylock.toml (PEP 751) of one variant's cells: each distinct wheel once, with the marker
    of the cells it is in (none where it is in every cell), so that an installer on a cell's
    platform and Python installs exactly that cell's wheels."""
    ordered = sorted(cells, key=lambda c: (c.platform, python_tuple(c.python)))
    by_wheel: dict[tuple[str, str, str, str], list[Cell]] = {}
    for cell in ordered:
        for wheel in cells[cell]:
            by_wheel.setdefault((wheel.name, wheel.version, wheel.url, wheel.sha256 or ""), []).append(cell)
    packages = []
    for (name, version, url, sha256), where in sorted(by_wheel.items(), key=lambda item: (item[0][0], item[1])):
        filename = next(w.filename for w in cells[where[0]] if w.url == url)
        package: dict[str, Any] = {"name": name, "version": version}
        if len(where) < len(ordered):
            package["marker"] = " or ".join(f"({cell_marker(c)})" if len(where) > 1 else cell_marker(c) for c in where)
        package["wheels"] = [{"name": filename, "url": url, "hashes": {"sha256": sha256}}]
        packages.append(package)
    pythons = sorted({c.python for c in ordered}, key=python_tuple)
    return {
        "lock-version": "1.0",
        "environments": [cell_marker(c) for c in ordered],
        "requires-python": f">={pythons[0]}",
        "created-by": "rules_torch",
        "packages": packages,
    }


def dumps(document: Mapping[str, Any], header: str = "") -> str:
    """TOML for the pylock shape above: top-level scalars and string lists, then [[packages]]
    tables whose values are scalars or inline tables (as uv writes them)."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    for key, value in document.items():
        if key != "packages":
            lines.append(f"{key} = {_value(value)}")
    for package in document.get("packages", []):
        lines += ["", "[[packages]]", *(f"{key} = {_value(value)}" for key, value in package.items())]
    return "\n".join(lines) + "\n"


def _value(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a TOML basic string: the same escapes
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def write_pylock_dir(directory: Path, cells: Mapping[Cell, Sequence[WheelEntry]], command: str) -> list[Path]:
    """Writes one pylock.<variant>.toml per variant of ``cells`` into ``directory``; returns the paths."""
    from packaging.pylock import Pylock

    written = []
    for variant in sorted({c.variant for c in cells}, key=natural_key):
        mine = {c: w for c, w in cells.items() if c.variant == variant}
        document = pylock_document(variant, mine)
        Pylock.from_dict(document)  # what is written is a valid pylock.toml, or nothing is
        header = (
            f"This file is generated by rules_torch's lock tool: the {variant} cells of a rules_torch lock\n"
            f"({', '.join(sorted(c.key for c in mine))}), for `uv pip install -r` and `pip install -r`.\n"
            f"Do not edit it; re-create it with:\n    {command}"
        )
        path = directory / pylock_filename(variant)
        write_atomic(path, dumps(document, header))
        written.append(path)
    return written
