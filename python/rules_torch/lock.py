"""The rules_torch lock tool: pins the whole torch closure of every cell into one lock file.

Run it as ``python3 -m rules_torch.lock`` (with ``python/`` on ``sys.path``) or as
``bazel run @rules_torch//python:lock --``; ``--help`` documents the options.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import sys
import textwrap
import time
from pathlib import Path

from rules_torch import __version__
from rules_torch.cells import (
    PLATFORMS,
    VARIANT_FORMS,
    Cell,
    make_cells,
    parse_platforms,
    parse_pythons,
    parse_release,
    parse_variants,
    parse_with,
)
from rules_torch.errors import LockError, MissingCellError, UsageError, report
from rules_torch.hashing import HashCache
from rules_torch.index import Fetcher, to_url
from rules_torch.lockfile import Request, dumps, lock_command, lock_document, validate, write_atomic
from rules_torch.metadata import MetadataReader
from rules_torch.options import add_shared_options, hash_cache, working_directory
from rules_torch.pylock_io import write_pylock_dir
from rules_torch.requirements import requirements_filename, requirements_text
from rules_torch.resolve import IndexSources, LockedWheel, UvSettings, resolve_cell
from rules_torch.uv_binary import find_uv

PYTORCH_INDEX = "https://download.pytorch.org/whl/{variant}"
PYPI = "https://pypi.org/simple"
PROG = "python3 -m rules_torch.lock"

_DESCRIPTION = """\
Pin the full torch closure -- torch, optionally torchvision and torchaudio, triton, the
NVIDIA CUDA wheels and every pure-Python dependency -- for every accelerator variant x
target platform x Python version ("cell"), with each wheel's URL and sha256, into one
lock file for rules_torch's `torch` module extension. Runs on any machine, for any target.

Each cell is resolved by uv (`uv pip compile`) for the cell's target platform and Python.
Indexes are searched first-index-first (uv's first-index strategy): a project found on the
variant's index comes only from there, never from a later index."""

_EPILOG = f"""\
examples:
  # CPU and two CUDA builds for Linux and macOS, Python 3.11 and 3.12
  {PROG} --torch 2.5.1 --torchvision 0.20.1 --variants cpu,cu118,cu121 \\
      --platforms linux_x86_64,macos_arm64 --python 3.11,3.12 --skip-missing \\
      --output third_party/torch.lock.json

  # the same through Bazel (paths are relative to the directory bazel runs in)
  bazel run @rules_torch//python:lock -- --torch 2.5.1 --variants cpu --output torch.lock.json

  # import a uv project's uv.lock (one extra per torch index, e.g. cpu and cu130);
  # `--from-uv uv.lock --help` lists its options
  {PROG} --from-uv uv.lock --output third_party/torch.lock.json

  # import pylock.toml files (uv, pip, PDM), one per variant; `--from-pylock FILE --help`
  {PROG} --from-pylock pylock.cpu.toml --from-pylock pylock.cu130.toml --output torch.lock.json

  # a mirror that serves a CUDA 13 build without local version labels
  {PROG} --torch 2.14.1 --variants cu130 --index-url https://mirror.example/cu130/simple \\
      --output torch.lock.json

variants: {VARIANT_FORMS}
platforms: {", ".join(PLATFORMS)}

exit status: 0 lock written; 1 a cell could not be locked (nothing is written); 2 bad options.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")

    what = parser.add_argument_group("what to lock")
    what.add_argument(
        "--torch", required=True, metavar="VERSION", help="torch version, without local label (e.g. 2.5.1)"
    )
    what.add_argument("--torchvision", metavar="VERSION", help="also lock this torchvision version")
    what.add_argument("--torchaudio", metavar="VERSION", help="also lock this torchaudio version")
    what.add_argument(
        "--with",
        dest="with_requirements",
        action="append",
        default=[],
        metavar="REQUIREMENT",
        help="also lock this requirement into every cell, e.g. numpy (torch warns at import without it) "
        "or 'numpy<3'; repeatable",
    )
    what.add_argument(
        "--variants",
        default="cpu",
        metavar="LIST",
        help="comma-separated accelerator variants, as PyTorch names them (default: %(default)s)",
    )
    what.add_argument(
        "--platforms",
        default="linux_x86_64",
        metavar="LIST",
        help=f"comma-separated target platforms: {', '.join(PLATFORMS)} (default: %(default)s)",
    )
    what.add_argument(
        "--python",
        default=f"{sys.version_info.major}.{sys.version_info.minor}",
        metavar="LIST",
        help="comma-separated target Python versions, major.minor (default: this interpreter's, %(default)s)",
    )

    where = parser.add_argument_group("where from")
    where.add_argument(
        "--index-url",
        default=PYTORCH_INDEX,
        metavar="URL",
        help="the variant's index, searched first; {variant} is replaced by the variant name "
        "(default: %(default)s). Without {variant} the same index serves every variant, "
        "and the variant is told by the wheels' local version labels where they have one",
    )
    where.add_argument(
        "--extra-index-url",
        action="append",
        metavar="URL",
        help=f"index searched after --index-url, for projects it lacks; repeatable, in order "
        f"(default: {PYPI}; giving any replaces it; an empty value means none)",
    )
    where.add_argument(
        "--find-links",
        action="append",
        default=[],
        metavar="PATH_OR_URL",
        help="directory or HTML page of wheels that add candidates to every project (as pip's "
        "--find-links does); repeatable",
    )

    out = parser.add_argument_group("output")
    add_shared_options(out, "output")
    out.add_argument(
        "--requirements-dir",
        metavar="DIR",
        help="also write one hash-pinned requirements_<variant>_<platform>_cp<py>.txt per cell, for "
        "`pip install --require-hashes -r` and rules_python's pip.parse",
    )
    out.add_argument(
        "--pylock-dir",
        metavar="DIR",
        help="also write one pylock.<variant>.toml (PEP 751) per variant, its platforms and Pythons as markers, "
        "for `uv pip install -r` and `pip install -r` outside Bazel",
    )
    out.add_argument(
        "--no-emit-index-url",
        action="store_true",
        help="leave --index-url/--extra-index-url lines out of the requirements files (as pip-compile's option)",
    )
    out.add_argument(
        "--no-emit-find-links",
        action="store_true",
        help="leave --find-links lines out of the requirements files (as pip-compile's option)",
    )

    behaviour = parser.add_argument_group("behaviour")
    behaviour.add_argument(
        "--skip-missing",
        action="store_true",
        help="leave out, with a warning, cells PyTorch never published (a variant for that "
        "version, a platform for that variant) instead of failing",
    )
    behaviour.add_argument(
        "--jobs",
        type=int,
        # uv waits on the network as much as it computes: two processes per core.
        default=min(4, 2 * (os.cpu_count() or 1)),
        metavar="N",
        help="cells resolved in parallel (default: %(default)s)",
    )
    behaviour.add_argument(
        "--uv",
        metavar="PATH",
        help="the uv binary that resolves (default: the one `bazel run` brings, else uv on PATH)",
    )
    add_shared_options(behaviour, "behaviour")
    verbosity = behaviour.add_mutually_exclusive_group()
    verbosity.add_argument("-v", "--verbose", action="store_true", help="show uv's command lines and output")
    add_shared_options(verbosity, "verbosity")
    return parser


class _Log:
    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def info(self, message: str) -> None:
        if not self.quiet:
            print(message, file=sys.stderr, flush=True)

    def warning(self, message: str) -> None:
        print(f"warning: {message}", file=sys.stderr, flush=True)


def _location(text: str, base: Path) -> str:
    """A URL for an index/find-links option; local paths are taken relative to ``base``."""
    return to_url(text, base).replace("%7Bvariant%7D", "{variant}")


def build_request(args: argparse.Namespace) -> Request:
    extra = args.extra_index_url if args.extra_index_url is not None else [PYPI]
    return Request(
        torch=parse_release("--torch", args.torch),
        torchvision=parse_release("--torchvision", args.torchvision) if args.torchvision else None,
        torchaudio=parse_release("--torchaudio", args.torchaudio) if args.torchaudio else None,
        variants=parse_variants(args.variants),
        platforms=parse_platforms(args.platforms),
        pythons=parse_pythons(args.python),
        index_url=args.index_url,
        extra_index_urls=[url for url in extra if url],
        find_links=list(args.find_links),
        with_requirements=parse_with(args.with_requirements),
    )


def lock_cells(
    request: Request,
    cells: list[Cell],
    sources: IndexSources,
    hashes: HashCache,
    settings: UvSettings,
    jobs: int,
    log: _Log,
    cache_dir: Path | None = None,
) -> tuple[dict[Cell, list[LockedWheel]], list[MissingCellError], list[LockError]]:
    """Resolves every cell; returns (locked, missing, failed). Stops starting cells after a failure."""
    locked: dict[Cell, list[LockedWheel]] = {}
    missing: list[MissingCellError] = []
    failed: list[LockError] = []
    metadata = MetadataReader(hashes, settings.timeout, cache_dir)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        started = time.monotonic()
        futures = {
            pool.submit(resolve_cell, cell, request, sources, hashes, metadata, settings): cell for cell in cells
        }
        for future in concurrent.futures.as_completed(futures):
            cell = futures[future]
            try:
                locked[cell] = future.result()
            except MissingCellError as error:
                missing.append(error)
            except LockError as error:
                failed.append(error)
                for pending in futures:
                    pending.cancel()
            except concurrent.futures.CancelledError:
                continue
            else:
                elapsed = time.monotonic() - started
                log.info(f"[{len(locked)}/{len(cells)}] {cell.key}: {len(locked[cell])} wheels ({elapsed:.1f} s)")
    return locked, missing, failed


def run(args: argparse.Namespace, log: _Log) -> int:
    base = working_directory()
    request = build_request(args)
    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    cells = make_cells(request.variants, request.platforms, request.pythons)
    output = base / args.output
    requirements_dir = base / args.requirements_dir if args.requirements_dir else None
    hashes = hash_cache(args, base)
    settings = UvSettings(uv=find_uv(args.uv), timeout=args.timeout, verbose=args.verbose, no_cache=args.no_cache)
    jobs = min(args.jobs, len(cells))
    log.info(f"locking torch {request.torch}: {_plural(len(cells), 'cell')} with {_plural(jobs, 'job')}")
    sources = IndexSources(
        Fetcher(args.timeout),
        _location(request.index_url, base),
        [_location(url, base) for url in request.extra_index_urls],
        [_location(location, base) for location in request.find_links],
    )
    cache_dir = None if args.no_cache else base / args.cache_dir
    locked, missing, failed = lock_cells(request, cells, sources, hashes, settings, args.jobs, log, cache_dir)

    if failed:
        raise _combined(failed, "cannot be locked", "")
    if missing and not args.skip_missing:
        raise _combined(
            missing,
            "were never published",
            "Remove them from --variants/--platforms/--python, or pass --skip-missing to lock the other cells "
            "and leave these out.",
        )
    for error in sorted(missing, key=lambda e: e.cell_key):
        log.warning(f"skipped {error}")
    if not locked:
        raise LockError("nothing to lock: every requested cell is missing. Check --torch, --variants and --platforms.")

    ordered = dict(sorted(locked.items(), key=lambda item: item[0].key))
    document = lock_document(request, ordered)
    validate(document, str(output))
    if requirements_dir:
        output_args = ["--requirements-dir", args.requirements_dir]
        if args.no_emit_index_url:
            output_args.append("--no-emit-index-url")
        if args.no_emit_find_links:
            output_args.append("--no-emit-find-links")
        command = lock_command(request, args.output, output_args)
        for cell, wheels in ordered.items():
            text = requirements_text(
                request, cell, wheels, command, not args.no_emit_index_url, not args.no_emit_find_links
            )
            write_atomic(requirements_dir / requirements_filename(cell), text)
    if args.pylock_dir:
        command = lock_command(request, args.output, ["--pylock-dir", args.pylock_dir])
        write_pylock_dir(base / args.pylock_dir, ordered, command)
    write_atomic(output, dumps(document))
    unique = len({w.url for wheels in ordered.values() for w in wheels})
    log.info(f"wrote {output}: {_plural(len(ordered), 'cell')}, {_plural(unique, 'distinct wheel')}")
    return 0


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


def _combined(errors: list[LockError], what: str, advice: str) -> LockError:
    messages = sorted({str(e) for e in errors})
    if len(messages) == 1:
        return LockError(f"{messages[0]}{' ' + advice if advice and advice not in messages[0] else ''}")
    body = "\n".join(textwrap.indent(m, "  ") for m in messages)
    return LockError(f"{len(messages)} cells {what}:\n{body}{chr(10) + advice if advice else ''}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # The importers are loaded only when asked for: start-up is part of every lock's time.
    if any(arg == "--from-uv" or arg.startswith("--from-uv=") for arg in argv):
        from rules_torch import uv_import

        return uv_import.main(argv)
    if any(arg == "--from-pylock" or arg.startswith("--from-pylock=") for arg in argv):
        from rules_torch import pylock_import

        return pylock_import.main(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    log = _Log(args.quiet)
    return report(parser, lambda: run(args, log))


if __name__ == "__main__":
    sys.exit(main())
