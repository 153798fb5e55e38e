"""Reading and writing pylock.toml files (PEP 751) through ``packaging.pylock``.

TOML is read with the standard library's ``tomllib`` (Python 3.11+) or its backport ``tomli``
(``bazel run @rules_torch//python:lock`` brings it); it is written here, for the one shape the
tool writes (``dumps``).
"""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

from packaging.pylock import Pylock, PylockValidationError

from rules_torch.errors import LockError


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


def read_pylock(path: Path, source: str | None = None) -> Pylock:
    """A validated pylock.toml; raises naming the file and the problem."""
    source = source or str(path)
    data = load_toml(path, source)
    try:
        return Pylock.from_dict(data)
    except PylockValidationError as error:
        raise LockError(f"{source}: not a valid pylock.toml (PEP 751): {error}") from None
