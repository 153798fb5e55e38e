"""What the lock tool's front ends share: ``rules_torch.lock`` (resolving) and its imports
(``--from-uv``: ``rules_torch.uv_import``; ``--from-pylock``: ``rules_torch.pylock_import``) all
write a lock and may hash wheels, so the options that say where to write and how to fetch are
declared here, once, and so is an import's command (``run_import``)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rules_torch.errors import report
from rules_torch.hashing import HashCache, default_cache_dir

# (role, option strings, add_argument keywords); a front end places each role's options in a
# group of its help (the lock tool) or straight in its parser (the uv.lock import).
_SHARED_OPTIONS: tuple[tuple[str, tuple[str, ...], dict[str, Any]], ...] = (
    (
        "output",
        ("--output",),
        {"required": True, "metavar": "FILE", "help": "lock file to write (replaced atomically)"},
    ),
    (
        "behaviour",
        ("--cache-dir",),
        {
            "type": Path,
            "default": default_cache_dir(),
            "metavar": "DIR",
            "help": "where computed sha256 digests are remembered by URL (default: %(default)s)",
        },
    ),
    ("behaviour", ("--no-cache",), {"action": "store_true", "help": "neither read nor write the cache"}),
    (
        "behaviour",
        ("--timeout",),
        {"type": float, "default": 60.0, "metavar": "SECONDS", "help": "network timeout (default: %(default)s)"},
    ),
    ("verbosity", ("-q", "--quiet"), {"action": "store_true", "help": "print errors and warnings only"}),
)


def add_shared_options(container: Any, *roles: str) -> None:
    """Adds the shared options of ``roles`` ("output": --output; "behaviour": --cache-dir,
    --no-cache, --timeout; "verbosity": -q/--quiet), or of every role, to a parser or group."""
    for role, names, keywords in _SHARED_OPTIONS:
        if role in roles or not roles:
            container.add_argument(*names, **keywords)


def without_shared_options(argv: list[str]) -> list[str]:
    """A command line minus the shared options (and their values): what to record to re-run it
    elsewhere, into another file, with another cache."""
    takes_value = {name: "action" not in keywords for _, names, keywords in _SHARED_OPTIONS for name in names}
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        name, equals, _ = arg.partition("=")
        if name in takes_value:
            skip = takes_value[name] and not equals
            continue
        kept.append(arg)
    return kept


def working_directory() -> Path:
    """Where the user's relative paths start: under `bazel run` the process starts in the
    runfiles tree, and the paths are relative to where they typed the command."""
    return Path(os.environ.get("BUILD_WORKING_DIRECTORY") or os.getcwd())


def hash_cache(args: argparse.Namespace, base: Path) -> HashCache:
    """The digest cache the shared options ask for (--cache-dir relative to ``base``)."""
    return HashCache(None if args.no_cache else base / args.cache_dir, args.timeout)


def run_import(
    parser: argparse.ArgumentParser,
    argv: list[str],
    import_lock: Callable[[argparse.Namespace, Path, list[str]], dict[str, Any]],
    source: Callable[[argparse.Namespace], str],
) -> int:
    """An import's command: parses ``argv``, builds the lock with ``import_lock(args, base,
    argv)``, validates it and replaces ``--output`` atomically (nothing is written when a step
    fails), says what it imported from ``source(args)`` unless -q; errors are printed once."""
    from rules_torch.lockfile import dumps, validate, write_atomic

    args = parser.parse_args(argv)
    base = working_directory()
    output = base / args.output

    def body() -> int:
        document = import_lock(args, base, argv)
        validate(document, str(output))
        write_atomic(output, dumps(document))
        if not args.quiet:
            cells = document["cells"]
            print(
                f"imported {source(args)} into {output}: {len(cells)} cell{'s' * (len(cells) != 1)} "
                f"({', '.join(sorted(cells))})",
                file=sys.stderr,
            )
        return 0

    return report(parser, body)
