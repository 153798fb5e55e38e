"""Resolving one cell: pip's resolver in cross-platform mode, then the closure from its report."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse
from collections.abc import Iterable
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from rules_torch.cells import PLATFORMS, Cell, natural_key, variant_of
from rules_torch.errors import LockError, MissingCellError
from rules_torch.hashing import HashCache
from rules_torch.index import IndexFile
from rules_torch.lockfile import Request, WheelEntry
from rules_torch.proxy import FirstIndexProxy

_SHIM = Path(__file__).with_name("_pip_shim.py")


@dataclasses.dataclass(frozen=True)
class LockedWheel(WheelEntry):
    """One wheel of a resolved cell: its lock entry, and what in the cell requires it."""

    required_by: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class PipSettings:
    timeout: float
    verbose: bool = False


# pip 25.3 stopped downloading every wheel in a --dry-run when PEP 658 metadata is
# available (pypa/pip#12603); older pips work, but fetch gigabytes per CUDA cell.
PIP_METADATA_ONLY = Version("25.3")
_PIP_MINIMUM = Version("23.0")  # --report's format is stable from 23.0


def _pip_environment() -> dict[str, str]:
    env = dict(os.environ)
    # --isolated still reads the global /etc/pip.conf; an index configured there would be
    # merged with the proxy's answers, defeating the first-index strategy and making locks
    # depend on the machine. pip loads no configuration file at all when this is devnull.
    env["PIP_CONFIG_FILE"] = os.devnull
    # pip must reach the proxy directly even where an HTTP proxy is configured.
    for key in ("NO_PROXY", "no_proxy"):
        env[key] = ",".join(filter(None, [env.get(key, ""), "127.0.0.1", "localhost"]))
    return env


def pip_version() -> Version:
    """The version of the pip the lock tool will run; raises when it is missing or too old."""
    result = subprocess.run(
        [sys.executable, "-c", "import pip; print(pip.__version__)"],
        capture_output=True,
        text=True,
        env=_pip_environment(),
        check=False,
    )
    upgrade = f"{sys.executable} -m pip install 'pip>={PIP_METADATA_ONLY}'"
    if result.returncode != 0:
        raise LockError(f"the lock tool runs pip, but {sys.executable} has no pip; install it: {upgrade}")
    version = Version(result.stdout.strip())
    if version < _PIP_MINIMUM:
        raise LockError(f"pip {version} is too old for the lock tool (it needs {_PIP_MINIMUM} or newer): {upgrade}")
    return version


def resolve_cell(
    cell: Cell, request: Request, proxy: FirstIndexProxy, hashes: HashCache, pip: PipSettings
) -> list[LockedWheel]:
    """The full closure of ``cell``, every wheel with its sha256."""
    with tempfile.TemporaryDirectory(prefix="rules_torch-") as tmp:
        report_path = Path(tmp) / "report.json"
        command = [
            sys.executable,
            str(_SHIM),
            json.dumps(cell.marker_environment(), sort_keys=True),
            "install",
            # The machine's pip configuration (indexes, find-links, constraints) must not
            # leak into a lock that others re-create elsewhere (see _pip_environment too).
            "--isolated",
            "--disable-pip-version-check",
            "--no-input",
            "--no-cache-dir",
            "--progress-bar=off",
            "--dry-run",
            "--ignore-installed",
            "--target",
            str(Path(tmp) / "target"),
            "--report",
            str(report_path),
            *cell.pip_target_args(),
            "--index-url",
            proxy.index_url(cell.variant),
            "--timeout",
            str(pip.timeout),
            *(f"{name}=={version}" for name, version in request.pins().items()),
            *request.with_requirements,
        ]
        if pip.verbose:
            print(f"{cell.key}: {' '.join(command)}", file=sys.stderr)
        result = subprocess.run(command, capture_output=True, text=True, env=_pip_environment(), check=False)
        output = result.stdout + result.stderr
        if pip.verbose:
            print(f"{cell.key}: pip output:\n{output}", file=sys.stderr)
        errors = proxy.errors(cell.variant)
        if errors:
            # Even when pip succeeded: an unreadable index may have hidden the right source.
            raise LockError(f"{cell.key}: {errors[0]}")
        if result.returncode != 0:
            raise diagnose(cell, request, proxy, output)
        report = json.loads(report_path.read_text())
    wheels = closure_from_report(cell, request, report, proxy)
    return [dataclasses.replace(w, sha256=w.sha256 or hashes.sha256(w.url)) for w in wheels]


def closure_from_report(cell: Cell, request: Request, report: dict, proxy: FirstIndexProxy) -> list[LockedWheel]:
    """The locked wheels of pip's report, with the extras each one needs in this cell.

    pip records ``requested_extras`` for top-level requirements only; the extras a
    transitive dependency needs (torch's ``cuda-toolkit[cublas,...]``) come from its
    parents' ``Requires-Dist`` with markers evaluated for the cell.
    """
    items = {canonicalize_name(item["metadata"]["name"]): item for item in report["install"]}
    environment = cell.marker_environment()
    extras: dict[str, set[str]] = {name: set() for name in items}
    parents: dict[str, set[str]] = {name: set() for name in items}
    for name, item in items.items():
        extras[name].update(canonicalize_name(e) for e in item.get("requested_extras") or ())
    reachable = [name for name in request.roots() if name in items]
    seen = set(reachable)
    changed = True
    while changed:  # extras can enable requirements that add extras elsewhere: iterate to a fixed point
        changed = False
        for name in list(seen):
            for requirement in _requirements(items[name]):
                if not _applies(requirement.marker, environment, extras[name]):
                    continue
                dependency = canonicalize_name(requirement.name)
                if dependency not in items:
                    raise LockError(
                        f"{cell.key}: {name} needs {requirement} but pip's resolution has no {dependency}; "
                        "this is a bug in the lock tool, please report it with the command line."
                    )
                new_extras = {canonicalize_name(e) for e in requirement.extras} - extras[dependency]
                if dependency not in seen or new_extras or name not in parents[dependency]:
                    seen.add(dependency)
                    extras[dependency] |= new_extras
                    parents[dependency].add(name)
                    changed = True
    stray = sorted(set(items) - seen)
    if stray:
        raise LockError(
            f"{cell.key}: pip resolved {', '.join(stray)}, which nothing in the cell requires under its markers; "
            "this is a bug in the lock tool, please report it with the command line."
        )
    wheels = []
    for name, item in sorted(items.items()):
        info = item["download_info"]
        url = proxy.origin(info["url"]).partition("#")[0]
        filename = urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])
        wheels.append(
            LockedWheel(
                name=name,
                version=item["metadata"]["version"],
                filename=filename,
                url=url,
                sha256=_report_sha256(info),
                extras=tuple(sorted(extras[name])),
                required_by=tuple(sorted(parents[name])),
            )
        )
    return wheels


def _requirements(item: dict) -> Iterable[Requirement]:
    for text in item["metadata"].get("requires_dist") or ():
        try:
            yield Requirement(text)
        except InvalidRequirement:
            continue  # pip skipped it too (it warns); it cannot be part of the closure


def _applies(marker: Marker | None, environment: dict[str, str], extras: set[str]) -> bool:
    if marker is None:
        return True
    return any(marker.evaluate({**environment, "extra": extra}) for extra in ["", *sorted(extras)])


def _report_sha256(download_info: dict) -> str | None:
    archive = download_info.get("archive_info") or {}
    sha256 = (archive.get("hashes") or {}).get("sha256")
    if not sha256 and str(archive.get("hash", "")).startswith("sha256="):
        sha256 = archive["hash"].split("=", 1)[1]
    return sha256.lower() if sha256 else None


def diagnose(cell: Cell, request: Request, proxy: FirstIndexProxy, output: str) -> LockError:
    """Turns a failed pip run into an error that says what is missing and what to do."""
    errors = proxy.errors(cell.variant)
    if errors:
        return LockError(f"{cell.key}: {errors[0]}")
    missing = re.search(r"No matching distribution found for (\S+)", output)
    if missing:
        try:
            requirement = Requirement(missing.group(1))
        except InvalidRequirement:
            requirement = None
        if requirement is not None:
            name = canonicalize_name(requirement.name)
            if name in request.pins():
                return _missing_top_level(cell, request, proxy, name, request.pins()[name])
            wanted_by = re.search(rf"satisfies the requirement {re.escape(missing.group(1))} \(from ([^)]+)\)", output)
            parent = f" (required by {wanted_by.group(1)})" if wanted_by else ""
            return LockError(
                f"{cell.key}: no wheel of {requirement}{parent} for {cell.describe()} on {_sources(proxy, cell)}. "
                "Add an index that has it with --extra-index-url or --find-links."
            )
    conflict = re.search(r"The conflict is caused by:\n((?:[ \t]+\S.*\n?)+)", output)
    if conflict or "ResolutionImpossible" in output:
        causes = (
            "; ".join(line.strip() for line in conflict.group(1).splitlines())
            if conflict
            else "see pip's output with --verbose"
        )
        return LockError(
            f"{cell.key}: the requested versions conflict ({causes}). "
            "Choose versions released together (torchvision/torchaudio pin the torch they were built with)."
        )
    details = [line.strip() for line in output.splitlines() if line.startswith(("ERROR:", "rules_torch:"))]
    summary = " ".join(details[-3:]) or output.strip()[-500:]
    return LockError(f"{cell.key}: pip failed: {summary} (re-run with --verbose for pip's full output)")


def _sources(proxy: FirstIndexProxy, cell: Cell) -> str:
    return ", ".join([*proxy.sources(cell.variant), *proxy.find_links])


def _matches(file: IndexFile, version: str) -> bool:
    try:
        return SpecifierSet(f"=={version}").contains(Version(file.version), prereleases=True)
    except InvalidVersion:
        return False


def _missing_top_level(cell: Cell, request: Request, proxy: FirstIndexProxy, project: str, version: str) -> LockError:
    try:
        found = proxy.project_files(cell.variant, project)
    except LockError as error:
        return LockError(f"{cell.key}: {error}")
    index = proxy.sources(cell.variant)[0]
    files = found[1] if found else []
    matching = [f for f in files if _matches(f, version)]
    if matching:
        if any(_fits(f, cell) for f in matching):
            return LockError(
                f"{cell.key}: pip rejected every {project} {version} wheel for {cell.describe()} "
                "(yanked, or a Requires-Python that excludes it); re-run with --verbose to see why."
            )
        return MissingCellError(
            cell.key,
            f"{project} {version} for {cell.variant} has no wheel for {cell.platform} / Python {cell.python}; "
            f"its wheels are for: {_coverage(matching)}.",
        )
    elsewhere = _variants_with(proxy, request, cell.variant, project, version)
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


def _variants_with(proxy: FirstIndexProxy, request: Request, variant: str, project: str, version: str) -> list[str]:
    variants: set[str] = set()
    root = root_index(proxy.index_url_template)
    if root:
        try:
            listing = proxy.fetcher.project_page(root, project) or []
        except LockError:
            listing = []  # the listing only improves the message; its absence is no error
        variants.update(v for f in listing if _matches(f, version) and (v := variant_of(f.version)))
    for other in request.variants:
        if other == variant or other in variants:
            continue
        try:
            found = proxy.project_files(other, project)
        except LockError:
            continue
        if found and any(_matches(f, version) for f in found[1]):
            variants.add(other)
    variants.discard(variant)
    return sorted(variants, key=natural_key)
