"""Imports pylock.toml files (PEP 751, written by uv, pip or PDM) into a rules_torch lock.

Run it as ``python3 -m rules_torch.lock --from-pylock pylock.cpu.toml --from-pylock
pylock.cu130.toml --output FILE``; ``--from-pylock FILE --help`` documents the options.

One file per variant: ``pylock.<variant>.toml`` (a lone ``pylock.toml`` is one variant, named
with ``--variant``). Each cell (the file's variant x ``--platforms`` x ``--python``, chosen as for
a fresh lock) is what the file selects for that environment: ``packaging.pylock``'s selection,
the cell's marker environment and wheel tags, as an installer on that machine would. Nothing
is resolved and nothing is downloaded: the files' URLs and hashes are the lock's.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import urllib.parse
from pathlib import Path
from typing import Any

from packaging.pylock import (
    PackageWheel,
    Pylock,
    PylockSelectError,
    PylockUnsupportedVersionError,
    PylockValidationError,
)
from packaging.utils import canonicalize_name
from packaging.version import Version

from rules_torch.cells import (
    PLATFORMS,
    VARIANT_FORMS,
    VARIANT_RE,
    Cell,
    make_cells,
    natural_key,
    parse_platforms,
    parse_pythons,
    variant_of,
)
from rules_torch.errors import LockError, UsageError
from rules_torch.lockfile import FromPylock, Request, WheelEntry, lock_document
from rules_torch.options import add_shared_options, run_import, without_shared_options
from rules_torch.pylock_io import load_toml, variant_of_filename

PROG = "python3 -m rules_torch.lock --from-pylock"
_NAME_RE = re.compile(r"^pylock\.(?P<name>[^.]+)\.toml\Z")
_RECREATE = (
    "re-create it (uv pip compile --generate-hashes --format pylock.toml -o FILE, pip lock -o FILE, or pdm export "
    "--format pylock)"
)


class PylockImportError(LockError):
    """A pylock.toml (or a request about it) that cannot become a rules_torch lock."""


def file_variants(files: list[str], variant: str | None) -> dict[str, str]:
    """variant -> file: ``pylock.<variant>.toml``, or a lone ``pylock.toml`` named with --variant."""
    chosen: dict[str, str] = {}
    for file in files:
        name = Path(file).name
        match = _NAME_RE.match(name)
        if match:
            found = variant_of_filename(match.group("name"))
            if variant and len(files) == 1:
                found = variant
        elif name == "pylock.toml":
            if len(files) > 1 or not variant:
                raise UsageError(
                    f"--from-pylock {file}: a pylock.toml names no variant; pass --variant NAME (one file), "
                    "or name one file per variant pylock.<variant>.toml (e.g. pylock.cu130.toml)"
                )
            found = variant
        else:
            raise UsageError(
                f"--from-pylock {file}: not a pylock file name (PEP 751: pylock.toml or pylock.<name>.toml); "
                "name it pylock.<variant>.toml, e.g. pylock.cu130.toml"
            )
        if not VARIANT_RE.match(found):
            raise UsageError(
                f"--from-pylock {file}: '{found}' is not a variant (valid forms: {VARIANT_FORMS}); rename the file "
                "pylock.<variant>.toml, or pass --variant NAME with a lone file"
            )
        if found in chosen:
            raise UsageError(f"--from-pylock: {chosen[found]} and {file} are both variant {found}")
        chosen[found] = file
    if variant and len(files) > 1:
        raise UsageError("--variant names the variant of a lone --from-pylock file; the files' names name theirs")
    return dict(sorted(chosen.items(), key=lambda item: natural_key(item[0])))


def read_file(path: Path, source: str) -> tuple[Pylock, str]:
    """The validated pylock of ``path`` and its sha256; raises naming the file and the fix."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PylockImportError(f"{source}: no such file; {_RECREATE}") from None
    except OSError as error:
        raise PylockImportError(f"{source}: cannot read it: {error}") from None
    data = load_toml(path, source)
    _check_hashes(data, source)
    try:
        return Pylock.from_dict(data), hashlib.sha256(raw).hexdigest()
    except PylockUnsupportedVersionError:
        raise PylockImportError(
            f"{source}: lock-version {data.get('lock-version')!r} is not supported (this rules_torch reads "
            f"pylock.toml lock-version 1.x, PEP 751); {_RECREATE} with a tool that writes lock-version 1.0"
        ) from None
    except PylockValidationError as error:
        raise PylockImportError(f"{source}: not a valid pylock.toml (PEP 751): {error}; {_RECREATE}") from None


def _check_hashes(data: dict[str, Any], source: str) -> None:
    """Every wheel pins a sha256 (checked before packaging's validation, to name the package)."""
    packages = data.get("packages")
    for package in packages if isinstance(packages, list) else []:
        wheels = package.get("wheels") if isinstance(package, dict) else None
        for wheel in wheels if isinstance(wheels, list) else []:
            hashes = wheel.get("hashes") if isinstance(wheel, dict) else None
            if not (isinstance(hashes, dict) and isinstance(hashes.get("sha256"), str) and hashes["sha256"]):
                filename = wheel.get("name") or str(wheel.get("url") or wheel.get("path", "")).rpartition("/")[2]
                raise PylockImportError(
                    f"{source}: {package.get('name')} {package.get('version')}: wheel {filename} has no sha256 "
                    f"hash; Bazel's downloader pins every file by its sha256: {_RECREATE} (uv and pip record hashes)"
                )


def _wheel_url(wheel: PackageWheel, pylock_path: Path, where: str) -> str:
    if wheel.url:
        scheme = urllib.parse.urlsplit(wheel.url).scheme
        if scheme not in ("https", "file"):
            raise PylockImportError(
                f"{where}: wheel URL {wheel.url} is neither https nor file; Bazel downloads only by https (or a "
                "local file): serve the index over https, or record the wheel's path"
            )
        return wheel.url
    if wheel.path:
        path = Path(wheel.path)
        return (path if path.is_absolute() else (pylock_path.parent / path)).resolve().as_uri()
    raise PylockImportError(f"{where}: the wheel has neither url nor path; {_RECREATE}")


def import_cell(pylock: Pylock, path: Path, source: str, cell: Cell) -> list[WheelEntry]:
    """The wheels ``pylock`` selects for ``cell``."""
    where = f"{source}: cell {cell.key} ({cell.describe()})"
    try:
        selected = list(pylock.select(environment=cell.marker_environment(), tags=cell.ordered_tags()))
    except PylockSelectError as error:
        message = str(error)
        if "environments" in message:
            environments = "; ".join(str(m) for m in pylock.environments or [])
            raise PylockImportError(
                f"{where}: the file's markers select nothing for this cell (its environments: {environments}). "
                "Leave the cell out with --platforms/--python, or re-create the file for it (uv pip compile "
                "--universal, or --python-platform/--python-version of the cell)"
            ) from None
        raise PylockImportError(
            f"{where}: {message}. Leave the cell out with --platforms/--python, or pin a version that publishes a "
            f"wheel for it and {_RECREATE}"
        ) from None
    wheels = []
    for package, chosen in selected:
        name = canonicalize_name(package.name)
        what = f"{where}: {name} {package.version}"
        if not isinstance(chosen, PackageWheel):
            kind = "only a source distribution" if package.sdist is chosen else f"a {type(chosen).__name__}"
            raise PylockImportError(
                f"{what} has {kind} for this cell, and rules_torch installs wheels only. Pin a version of {name} "
                f"that publishes a wheel for {cell.platform} / Python {cell.python} and {_RECREATE}, or leave the "
                "cell out with --platforms/--python"
            )
        sha256 = (chosen.hashes or {}).get("sha256")
        if not sha256:
            raise PylockImportError(
                f"{what}: wheel {chosen.filename} has no sha256 hash; Bazel's downloader pins every file by its "
                f"sha256: {_RECREATE} (uv and pip record hashes)"
            )
        if package.version is None:
            raise PylockImportError(f"{what}: the package has no version; {_RECREATE}")
        label = variant_of(str(package.version))
        if label is not None and label != cell.variant:
            raise PylockImportError(
                f"{what} is the {label} build, in the file of variant {cell.variant}. Re-create {source} from "
                f"the {cell.variant} index (e.g. https://download.pytorch.org/whl/{cell.variant}), or name the "
                f"file pylock.{label}.toml"
            )
        wheels.append(
            WheelEntry(
                name=name,
                version=str(package.version),
                filename=chosen.filename,
                url=_wheel_url(chosen, path, what),
                sha256=sha256.lower(),
                extras=(),
            )
        )
    if not any(w.name == "torch" for w in wheels):
        raise PylockImportError(
            f"{where}: the file's markers select no torch for this cell (every cell pins torch). Leave the "
            "cell out with --platforms/--python, or add torch for it and re-create the file"
        )
    return wheels


def _release(versions: set[str]) -> str | None:
    publics = {Version(v).public for v in versions}
    return publics.pop() if len(publics) == 1 else None


def import_lock(args: argparse.Namespace, base: Path, argv: list[str]) -> dict[str, Any]:
    variants = file_variants(args.from_pylock, args.variant)
    platforms = parse_platforms(args.platforms)
    pythons = parse_pythons(args.python)
    cells: dict[Cell, list[WheelEntry]] = {}
    digests: dict[str, str] = {}
    for variant, file in variants.items():
        pylock, digests[file] = read_file(base / file, file)
        for cell in make_cells([variant], platforms, pythons):
            cells[cell] = import_cell(pylock, base / file, file, cell)
    versions: dict[str, set[str]] = {"torch": set(), "torchvision": set(), "torchaudio": set()}
    for wheels in cells.values():
        for wheel in wheels:
            if wheel.name in versions:
                versions[wheel.name].add(wheel.version)
    request = Request(
        torch=_release(versions["torch"]),
        torchvision=_release(versions["torchvision"]),
        torchaudio=_release(versions["torchaudio"]),
        variants=list(variants),
        platforms=platforms,
        pythons=pythons,
        # The sources are the files', recorded per wheel.
        index_url="",
        extra_index_urls=[],
        find_links=[],
        from_pylock=FromPylock(args=without_shared_options(argv), files=digests),
    )
    return lock_document(request, cells)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG.removesuffix(" --from-pylock"),
        description="Import pylock.toml files (PEP 751; uv, pip and PDM write them), one per variant, into a "
        "rules_torch lock. Each cell is what the variant's file selects for the cell's platform and Python; the "
        "files' URLs and hashes are kept, nothing is resolved or downloaded.",
        epilog="example:\n  uv pip compile requirements.in --universal --generate-hashes --index "
        "https://download.pytorch.org/whl/cu130 -o pylock.cu130.toml\n"
        "  bazel run @rules_torch//python:lock -- --from-pylock pylock.cpu.toml --from-pylock pylock.cu130.toml \\\n"
        "      --platforms linux_x86_64 --python 3.11 --output third_party/torch.lock.json\n\n"
        "exit status: 0 lock written; 1 a file cannot be imported (nothing is written); 2 bad options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--from-pylock",
        action="append",
        required=True,
        metavar="FILE",
        help="a pylock.<variant>.toml (or a lone pylock.toml with --variant); repeatable, one per variant",
    )
    parser.add_argument("--variant", metavar="NAME", help="the variant of a lone --from-pylock file (e.g. cu130)")
    parser.add_argument(
        "--platforms",
        default="linux_x86_64",
        metavar="LIST",
        help=f"comma-separated target platforms: {', '.join(PLATFORMS)} (default: %(default)s)",
    )
    parser.add_argument(
        "--python",
        default=f"{sys.version_info.major}.{sys.version_info.minor}",
        metavar="LIST",
        help="comma-separated target Python versions, major.minor (default: this interpreter's, %(default)s)",
    )
    add_shared_options(parser)
    return parser


def main(argv: list[str]) -> int:
    return run_import(build_parser(), argv, import_lock, lambda args: ", ".join(args.from_pylock))
