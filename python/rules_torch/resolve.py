"""Resolving one cell: ``uv pip compile`` for the cell's target, then the closure from its pylock.toml.

uv resolves (``--python-platform``/``--python-version`` give it the cell's wheel tags and
marker environment) with its ``first-index`` strategy: the variant's index, then each
``--extra-index-url`` in order, a project coming only from the first index that has it
(dependency-confusion protection; uv ranks its own ``--extra-index-url`` above
``--index-url``, so the tool passes ``--index`` ... ``--default-index`` in the lock's order).
Its pylock.toml output names one wheel per project with URL and sha256; the tool adds what
the lock records beyond that (each wheel's extras, what requires it) from the wheels' core
metadata (``rules_torch.metadata``: a local wheel's central directory, a remote one's PEP 658
file), and keeps the variant rule: a wheel whose local label names another variant (``+cu118``
in a ``cu121`` cell) is excluded and the cell resolved again.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
import tempfile
import urllib.parse
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from rules_torch.cells import PLATFORMS, Cell, natural_key, variant_of
from rules_torch.errors import IndexUnreachableError, LockError, MissingCellError
from rules_torch.hashing import HashCache
from rules_torch.index import Fetcher, IndexFile, file_url_to_path
from rules_torch.lockfile import Request, WheelEntry
from rules_torch.metadata import MetadataReader
from rules_torch.pylock_io import load_toml
from rules_torch.uv_binary import Uv

# How often a cell is resolved again after excluding wheels of another variant.
_VARIANT_ROUNDS = 4


@dataclasses.dataclass(frozen=True)
class LockedWheel(WheelEntry):
    """One wheel of a resolved cell: its lock entry, and what in the cell requires it."""

    required_by: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class UvSettings:
    uv: Uv
    timeout: float
    verbose: bool = False
    no_cache: bool = False


def fits_variant(file: IndexFile, variant: str) -> bool:
    """False when the wheel's local label names a different variant than ``variant``."""
    return _fits_variant(file.version, variant)


def _fits_variant(version: str, variant: str) -> bool:
    try:
        labelled = variant_of(version)
    except InvalidVersion:
        return True
    return labelled is None or labelled == variant


class IndexSources:
    """The indexes and find-links of a lock, in the order that decides which one serves a project.

    uv reads them itself; the tool reads their pages only to explain a failed resolution and to
    find the builds of other variants a resolution must exclude.
    """

    def __init__(self, fetcher: Fetcher, index_url: str, extra_index_urls: list[str], find_links: list[str]) -> None:
        self.fetcher = fetcher
        self.index_url_template = index_url
        self.extra_index_urls = list(extra_index_urls)
        self.find_links = tuple(find_links)

    def sources(self, variant: str) -> list[str]:
        return [self.index_url_template.replace("{variant}", variant), *self.extra_index_urls]

    def _present(self, variant: str) -> list[str]:
        """The variant's indexes that exist. A local per-variant tree without that variant's
        directory is like PyTorch's index answering 403: the variant has nothing there. Any other
        missing directory is a wrong option."""
        present = []
        for position, source in enumerate(self.sources(variant)):
            if not self.fetcher.index_exists(source):
                if position == 0 and "{variant}" in self.index_url_template:
                    continue
                raise IndexUnreachableError(source, "no such directory")
            present.append(source)
        return present

    def uv_args(self, variant: str) -> list[str]:
        """uv's index options: searched in the lock's order, first index first."""
        present = self._present(variant)
        args = ["--index-strategy", "first-index"]
        if present:
            for source in present[:-1]:
                args += ["--index", source]
            args += ["--default-index", present[-1]]
        else:
            args.append("--no-index")
        for location in self.find_links:
            args += ["--find-links", location]
        return args

    def project_files(self, variant: str, project: str) -> tuple[str | None, list[IndexFile]] | None:
        """(the index that serves ``project``, its wheels for ``variant``); None if no source has it.

        The index is None when only find-links have the project.
        """
        chosen: tuple[str | None, list[IndexFile]] | None = None
        for source in self._present(variant):
            files = self.fetcher.project_page(source, project)
            if files is not None:
                chosen = (source, files)
                break
        linked = self.fetcher.find_links(self.find_links).get(canonicalize_name(project), [])
        if chosen is None and not linked:
            return None
        source, files = chosen or (None, [])
        return source, [f for f in [*files, *linked] if fits_variant(f, variant)]

    def other_variants_builds(self, variant: str, project: str) -> set[str]:
        """Every version of ``project`` on the variant's sources labelled for another variant."""
        found: set[str] = set()
        for source in self._present(variant):
            files = self.fetcher.project_page(source, project) or []
            found.update(f.version for f in files if not fits_variant(f, variant))
        linked = self.fetcher.find_links(self.find_links).get(canonicalize_name(project), [])
        found.update(f.version for f in linked if not fits_variant(f, variant))
        return found


def requirement_lines(request: Request) -> list[str]:
    return [*(f"{name}=={version}" for name, version in request.pins().items()), *request.with_requirements]


def run_uv_compile(
    cell: Cell,
    requirements: list[str],
    constraints: list[str],
    index_args: list[str],
    settings: UvSettings,
    workdir: Path,
) -> tuple[int, str, Path]:
    """Runs ``uv pip compile --format pylock.toml`` for ``cell``; returns (exit status, uv's output, the file)."""
    (workdir / "requirements.in").write_text("\n".join(requirements) + "\n")
    output = workdir / "pylock.toml"
    command = [
        settings.uv.path,
        "pip",
        "compile",
        "--no-config",
        "--no-python-downloads",
        "--quiet",
        "--no-header",
        "--format",
        "pylock.toml",
        "--generate-hashes",
        *cell.uv_target_args(),
        *index_args,
        "--output-file",
        str(output),
        str(workdir / "requirements.in"),
    ]
    if constraints:
        (workdir / "constraints.txt").write_text("\n".join(sorted(constraints)) + "\n")
        command += ["--constraint", str(workdir / "constraints.txt")]
    if settings.no_cache:
        command.append("--no-cache")
    if settings.verbose:
        print(f"{cell.key}: {' '.join(command)}", flush=True, file=sys.stderr)
    env = {**settings.uv.environment(settings.timeout), **cell.uv_environment()}
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False, cwd=workdir)
    text = result.stdout + result.stderr
    if settings.verbose:
        print(f"{cell.key}: uv output:\n{text}", flush=True, file=sys.stderr)
    return result.returncode, text, output


def best_wheel(wheels: list[dict[str, Any]], cell: Cell) -> tuple[str, str, str | None] | None:
    """(filename, URL, sha256) of the wheel an installer on the cell's target would pick, if any fits.

    ``wheels`` are a pylock.toml package's ``wheels`` tables (uv's output: URLs, hashes)."""
    ranks = cell.tag_ranks()
    best: tuple[int, str, str, str | None] | None = None
    for wheel in wheels:
        url = wheel.get("url") or (Path(wheel["path"]).resolve().as_uri() if wheel.get("path") else None)
        if url is None:
            continue
        if url.startswith("file:"):
            url = file_url_to_path(url).as_uri()  # one spelling of a local file, whoever wrote the URL
        filename = wheel.get("name") or urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])
        try:
            wheel_tags = parse_wheel_filename(filename)[3]
        except ValueError:
            continue
        rank = min((ranks[t] for t in wheel_tags if t in ranks), default=None)
        if rank is not None and (best is None or rank < best[0]):
            best = (rank, filename, url, (wheel.get("hashes") or {}).get("sha256"))
    return best[1:] if best else None


def _uv_packages(path: Path, cell: Cell) -> list[dict[str, Any]]:
    """The packages of uv's pylock.toml (trusted: uv wrote it a moment ago; packaging.pylock reads others')."""
    packages = load_toml(path, f"uv's pylock.toml for {cell.key}").get("packages", [])
    return [p for p in packages if isinstance(p, dict) and "name" in p and "version" in p]


def resolve_cell(
    cell: Cell,
    request: Request,
    sources: IndexSources,
    hashes: HashCache,
    metadata: MetadataReader,
    settings: UvSettings,
) -> list[LockedWheel]:
    """The full closure of ``cell``, every wheel with its sha256."""
    requirements = requirement_lines(request)
    constraints: set[str] = set()
    index_args = sources.uv_args(cell.variant)
    with tempfile.TemporaryDirectory(prefix="rules_torch-") as tmp:
        for _ in range(_VARIANT_ROUNDS):
            code, output, path = run_uv_compile(
                cell, requirements, sorted(constraints), index_args, settings, Path(tmp)
            )
            if code != 0:
                raise diagnose(cell, request, sources, output)
            packages = _uv_packages(path, cell)
            wrong = [p for p in packages if not _fits_variant(str(p["version"]), cell.variant)]
            if not wrong:
                break
            before = len(constraints)
            for package in wrong:
                name = canonicalize_name(package["name"])
                constraints.update(f"{name}!={v}" for v in sources.other_variants_builds(cell.variant, name))
                constraints.add(f"{name}!={package['version']}")
            if len(constraints) == before:
                break
        else:
            wrong = []
        if wrong:
            builds = ", ".join(f"{p['name']} {p['version']}" for p in wrong)
            raise LockError(
                f"{cell.key}: uv resolved {builds}, built for another variant than {cell.variant}, and no build for "
                f"{cell.variant} fits; check --index-url (it must serve {cell.variant}'s builds first)."
            )
    items: dict[str, tuple[str, str, str, str | None]] = {}
    for package in packages:
        name = canonicalize_name(package["name"])
        chosen = best_wheel(package.get("wheels") or [], cell)
        if chosen is None:
            raise LockError(
                f"{cell.key}: uv's resolution has no wheel of {name} {package['version']} for {cell.describe()}; "
                "this is a bug in the lock tool, please report it with the command line."
            )
        filename, url, sha256 = chosen
        items[name] = (str(package["version"]), filename, url, sha256)
    requires = metadata.requires_dist_of(
        {name: (url, filename, sha) for name, (_, filename, url, sha) in items.items()}
    )
    extras, parents = closure(cell, request, {n: i[0] for n, i in items.items()}, requires)
    wheels = [
        LockedWheel(
            name=name,
            version=version,
            filename=filename,
            url=url,
            sha256=(sha256 or hashes.sha256(url)).lower(),
            extras=tuple(sorted(extras[name])),
            required_by=tuple(sorted(parents[name])),
        )
        for name, (version, filename, url, sha256) in items.items()
    ]
    return sorted(wheels, key=lambda w: w.name)


def closure(
    cell: Cell, request: Request, versions: dict[str, str], requires: dict[str, list[str]]
) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(extras, parents) of each resolved project, from its parents' ``Requires-Dist`` evaluated for the cell.

    A resolution records the versions, not the extras a transitive dependency is installed
    with (torch's ``cuda-toolkit[cublas,...]``); extras can enable requirements that add
    extras elsewhere, so this iterates to a fixed point.
    """
    environment = cell.marker_environment()
    extras: dict[str, set[str]] = {name: set() for name in versions}
    parents: dict[str, set[str]] = {name: set() for name in versions}
    for text in request.with_requirements:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        if name in extras:
            extras[name].update(canonicalize_name(e) for e in requirement.extras)
    # Each project's Requires-Dist is parsed once and each (marker, extra) evaluated once: a
    # worklist revisits a project only when it gains extras (torch's CUDA closure with
    # transformers: ~1,000 requirements; parsing them again on every pass cost 0.4-0.5 s, as long
    # as uv's whole resolution).
    parsed: dict[str, list[Requirement]] = {}
    evaluated: dict[tuple[int, str], bool] = {}

    def applies(marker: Marker | None, active: set[str]) -> bool:
        if marker is None:
            return True
        for extra in ["", *sorted(active)]:
            key = (id(marker), extra)
            if key not in evaluated:
                evaluated[key] = marker.evaluate({**environment, "extra": extra})
            if evaluated[key]:
                return True
        return False

    seen = {name for name in request.roots() if name in versions}
    pending = sorted(seen)
    while pending:
        name = pending.pop()
        if name not in parsed:
            parsed[name] = list(_requirements(requires[name]))
        for requirement in parsed[name]:
            if not applies(requirement.marker, extras[name]):
                continue
            dependency = canonicalize_name(requirement.name)
            if dependency not in versions:
                raise LockError(
                    f"{cell.key}: {name} needs {requirement} but uv's resolution has no {dependency}; "
                    "this is a bug in the lock tool, please report it with the command line."
                )
            parents[dependency].add(name)
            new_extras = {canonicalize_name(e) for e in requirement.extras} - extras[dependency]
            if dependency not in seen or new_extras:
                seen.add(dependency)
                extras[dependency] |= new_extras
                pending.append(dependency)
    stray = sorted(set(versions) - seen)
    if stray:
        raise LockError(
            f"{cell.key}: uv resolved {', '.join(stray)}, which nothing in the cell requires under its markers; "
            "this is a bug in the lock tool, please report it with the command line."
        )
    return extras, parents


def _requirements(texts: list[str]) -> Iterable[Requirement]:
    for text in texts:
        try:
            yield Requirement(text)
        except InvalidRequirement:
            continue  # resolvers skip it too (they warn); it cannot be part of the closure


_FAILED_FETCH = re.compile(r"Failed to (?:fetch|read|download)[^:`\n]*:?\s*`?([a-z]+://[^`\s]+)`?", re.MULTILINE)
_CAUSE = re.compile(r"^\s*(?:cause:|Caused by:)\s*(.+)$", re.MULTILINE)


def _uv_explanation(output: str) -> str:
    """uv's explanation of a failed resolution, as one line."""
    lines = [line.strip(" \u2570\u2500\u25b6\u00d7\u2502") for line in output.splitlines()]  # uv's box drawing
    text = " ".join(line.strip() for line in lines if line.strip())
    text = re.sub(r"\s+", " ", text)
    text = text.replace("No solution found when resolving dependencies: ", "")
    return text.removeprefix("error: ").strip()


def diagnose(cell: Cell, request: Request, sources: IndexSources, output: str) -> LockError:
    """Turns a failed uv run into an error that says what is missing and what to do."""
    fetch = _FAILED_FETCH.search(output)
    if fetch and "No solution found" not in output:
        causes = _CAUSE.findall(output)
        unreachable = IndexUnreachableError(fetch.group(1), causes[-1].strip() if causes else _uv_explanation(output))
        return LockError(f"{cell.key}: {unreachable}")
    for name, version in request.pins().items():
        try:
            problem = _missing_top_level(cell, request, sources, name, version)
        except LockError as error:
            return LockError(f"{cell.key}: {error}")
        if problem is not None:
            return problem
    missing = re.search(r"Because (\S+) was not found in the (?:package registry|provided package locations)", output)
    unavailable = missing or re.search(r"Because there is no version of (\S+?)(?:[<>=!~]\S*)? and", output)
    if unavailable:
        name = unavailable.group(1)
        wanted_by = re.search(rf"(\S+?) depends on {re.escape(name)}\b", output)
        parent = f" (required by {wanted_by.group(1)})" if wanted_by else ""
        return LockError(
            f"{cell.key}: no wheel of {name}{parent} for {cell.describe()} on {_sources(sources, cell)}. "
            "Add an index that has it with --extra-index-url or --find-links."
        )
    if "No solution found" in output:
        return LockError(
            f"{cell.key}: the requested versions conflict ({_uv_explanation(output)}). "
            "Choose versions released together (torchvision/torchaudio pin the torch they were built with)."
        )
    return LockError(
        f"{cell.key}: uv failed: {_uv_explanation(output)[-500:]} (re-run with --verbose for uv's command line)"
    )


def _sources(sources: IndexSources, cell: Cell) -> str:
    return ", ".join([*sources.sources(cell.variant), *sources.find_links])


def _matches(file: IndexFile, version: str) -> bool:
    try:
        return SpecifierSet(f"=={version}").contains(Version(file.version), prereleases=True)
    except InvalidVersion:
        return False


def _missing_top_level(
    cell: Cell, request: Request, sources: IndexSources, project: str, version: str
) -> LockError | None:
    """Why ``project==version`` cannot be in ``cell``, or None when a wheel of it fits."""
    found = sources.project_files(cell.variant, project)
    index = sources.sources(cell.variant)[0]
    files = found[1] if found else []
    matching = [f for f in files if _matches(f, version)]
    if matching:
        if any(_fits(f, cell) for f in matching):
            return None
        return MissingCellError(
            cell.key,
            f"{project} {version} for {cell.variant} has no wheel for {cell.platform} / Python {cell.python}; "
            f"its wheels are for: {_coverage(matching)}.",
        )
    elsewhere = _variants_with(sources, request, cell.variant, project, version)
    if elsewhere:
        return MissingCellError(
            cell.key,
            f"{project} {version} was never built for variant {cell.variant} (not on {index}); "
            f"variants with {project} {version}: {', '.join(elsewhere)}.",
        )
    versions = sorted({Version(f.version) for f in files if _valid(f.version)}, reverse=True)
    known = ", ".join(str(v) for v in versions[:8]) if versions else f"no {project} at all"
    return LockError(
        f"{cell.key}: {project} {version} not found on {index} ({known}{', ...' if len(versions) > 8 else ''}). "
        f"Check --{project} and --index-url."
    )


def _valid(version: str) -> bool:
    try:
        Version(version)
    except InvalidVersion:
        return False
    return True


def _fits(file: IndexFile, cell: Cell) -> bool:
    return not cell.supported_tags().isdisjoint(parse_wheel_filename(file.filename)[3])


def _coverage(files: list[IndexFile]) -> str:
    """Which of our platforms and Pythons some wheels serve, e.g. 'linux_x86_64 (3.11, 3.12)'."""
    served: dict[str, set[str]] = {}
    for file in files:
        for tag in parse_wheel_filename(file.filename)[3]:
            python = re.fullmatch(r"cp3(\d+)", tag.interpreter)
            for name, platform in PLATFORMS.items():
                if tag.platform == "any" or tag.platform in platform.wheel_platforms():
                    served.setdefault(name, set()).add(f"3.{python.group(1)}" if python else "any")
    if not served:
        return "none of " + ", ".join(PLATFORMS)
    parts = []
    for name in sorted(served):
        pythons = sorted(
            served[name], key=lambda p: (p == "any", tuple(int(x) for x in p.split(".")) if p != "any" else ())
        )
        parts.append(f"{name} ({', '.join(pythons)})")
    return ", ".join(parts)


def root_index(index_url: str) -> str | None:
    """PyTorch-style root listing (every variant together) for a ``.../{variant}`` template."""
    if index_url.rstrip("/").endswith("/{variant}"):
        return index_url.rstrip("/")[: -len("/{variant}")]
    return None


def _variants_with(sources: IndexSources, request: Request, variant: str, project: str, version: str) -> list[str]:
    variants: set[str] = set()
    root = root_index(sources.index_url_template)
    if root:
        try:
            listing = sources.fetcher.project_page(root, project) or []
        except LockError:
            listing = []  # the listing only improves the message; its absence is no error
        variants.update(v for f in listing if _matches(f, version) and (v := variant_of(f.version)))
    for other in request.variants:
        if other == variant or other in variants:
            continue
        try:
            found = sources.project_files(other, project)
        except LockError:
            continue
        if found and any(_matches(f, version) for f in found[1]):
            variants.add(other)
    variants.discard(variant)
    return sorted(variants, key=natural_key)
