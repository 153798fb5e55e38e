"""Checks rules_torch locks against the lock schema (docs/lock_schema.md); the schema itself is
rules_torch.lockfile's.

Usage: ``python3 -m rules_torch.lock_schema LOCK [LOCK...]`` prints one line per lock and
exits 1 when any is invalid.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rules_torch.lockfile import SCHEMA_VERSION, LockSchemaError, load_lock


def summary(data: dict[str, Any]) -> str:
    cells = data["cells"]
    wheels = sum(len(cell["wheels"]) for cell in cells.values())
    return f"{len(cells)} cell{'s' * (len(cells) != 1)}, {wheels} wheels"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 -m rules_torch.lock_schema",
        description=f"Check that rules_torch lock files follow the lock schema (version {SCHEMA_VERSION}).",
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
