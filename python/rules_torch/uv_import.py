"""Imports a uv.lock into a rules_torch lock: uv's resolution, uv's URLs and hashes, nothing re-resolved.

Run it as ``python3 -m rules_torch.lock --from-uv uv.lock --output FILE`` (or ``bazel run
@rules_torch//python:lock -- --from-uv ...``); ``--from-uv uv.lock --help`` documents the options.

A project set up the way PyTorch recommends for uv maps torch to one index per extra
(``[tool.uv.sources] torch = [{ index = "pytorch-cu130", extra = "cu130" }, ...]``) and makes
those extras exclude each other (``[tool.uv] conflicts``). uv resolves every extra, platform and
Python into one uv.lock; each extra becomes one variant here. For each cell (variant x platform x
Python) the importer walks uv's dependency graph from the project with that extra enabled,
evaluates every marker for the cell (uv encodes the active conflict extra as
``extra == 'extra-<len>-<project>-<extra>'``), and picks each package's wheel by the cell's tag
preference, as an installer on that machine would.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import re
import sys
import urllib.parse
from pathlib import Path
from typing import Any

from packaging import tags
from packaging.markers import InvalidMarker, Marker
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import Version

from rules_torch.cells import PLATFORMS, VARIANT_FORMS, VARIANT_RE, Cell, cp_tag, natural_key, python_tuple
from rules_torch.errors import LockError, UsageError
from rules_torch.hashing import HashCache
from rules_torch.lock_tables import TOP_LEVEL_PROJECTS
from rules_torch.lockfile import FromUv, Request, WheelEntry, lock_document
from rules_torch.options import add_shared_options, hash_cache, run_import, without_shared_options

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11: the lock tool itself runs on 3.9 and newer.
    tomllib = None  # type: ignore[assignment]

PROG = "python3 -m rules_torch.lock --from-uv"
# uv.lock versions this importer reads (uv writes `version = 1` since uv 0.3; `revision` only
# records uv's internal changes within it, which keep the fields read here).
UV_LOCK_VERSIONS = (1,)
# Python minors a uv.lock's requires-python is tried against when --python is not given.
_CANDIDATE_PYTHONS = [f"3.{minor}" for minor in range(9, 15)]


class UvImportError(LockError):
    """A uv.lock (or a request about it) that cannot become a rules_torch lock."""


@dataclasses.dataclass(frozen=True)
class Variant:
    """One conflict extra of the project that picks a torch index."""

    name: str  # rules_torch's variant name: cpu, cu130, ...
    extra: str  # the project's extra, as in pyproject.toml
    index: str  # the index uv takes torch from for it

    def marker_value(self, project: str) -> str:
        # How uv spells an active conflict extra in the markers of uv.lock.
        return f"extra-{len(project)}-{project}-{self.extra}"


@dataclasses.dataclass
class UvLock:
    path: Path
    data: dict[str, Any]
    sha256: str
    project: str
    packages: list[dict[str, Any]]

    def root(self) -> dict[str, Any]:
        return next(p for p in self.packages if canonicalize_name(p["name"]) == self.project)

    def by_name(self, name: str) -> list[dict[str, Any]]:
        return [p for p in self.packages if canonicalize_name(p["name"]) == name]


def read_uv_lock(path: Path, pyproject: Path | None) -> UvLock:
    """Reads and checks a uv.lock; the project is pyproject's name, else the conflicts' package."""
    if tomllib is None:
        raise UvImportError(
            f"importing a uv.lock needs Python 3.11 or newer (tomllib); this is {sys.version.split()[0]}. "
            "Run the lock tool with a newer python3, or through `bazel run @rules_torch//python:lock`."
        )
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UvImportError(f"{path}: no such file. Create it with `uv lock` in the project's directory.") from None
    except OSError as error:
        raise UvImportError(f"{path}: cannot read it: {error}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise UvImportError(f"{path}: not a uv.lock (not valid TOML: {error}). Re-create it with `uv lock`.") from None
    version = data.get("version")
    if version not in UV_LOCK_VERSIONS:
        raise UvImportError(
            f"{path}: uv.lock version {version!r} is not one this importer knows (it reads version "
            f"{', '.join(map(str, UV_LOCK_VERSIONS))}). Upgrade rules_torch, or write the lock with a uv that "
            "writes version 1 (uv 0.3 to 0.13 do)."
        )
    packages = data.get("package")
    if not isinstance(packages, list) or not packages:
        raise UvImportError(f"{path}: has no [[package]] entries; run `uv lock` in the project's directory.")
    project = _project_name(path, data, pyproject)
    lock = UvLock(path, data, hashlib.sha256(raw).hexdigest(), project, packages)
    if not lock.by_name(project):
        raise UvImportError(f"{path}: the project '{project}' is not one of its packages; is it the project's uv.lock?")
    if not lock.by_name("torch"):
        raise UvImportError(
            f"{path}: has no torch package: nothing for rules_torch to import. Add torch to the project "
            "(e.g. as the extras cpu/cu130 of PyTorch's uv setup) and run `uv lock`."
        )
    return lock


def _project_name(path: Path, data: dict[str, Any], pyproject: Path | None) -> str:
    if pyproject is not None:
        try:
            project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {}).get("name")
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise UvImportError(f"{pyproject}: cannot read the project's name: {error}") from None
        if not isinstance(project, str):
            raise UvImportError(f"{pyproject}: has no [project] name")
        return canonicalize_name(project)
    names = {
        canonicalize_name(item["package"]) for group in data.get("conflicts", []) for item in group if "package" in item
    }
    if len(names) == 1:
        return names.pop()
    roots = [p["name"] for p in data.get("package", []) if {"virtual", "editable"} & set(p.get("source", {}))]
    if len(roots) == 1:
        return canonicalize_name(roots[0])
    raise UvImportError(f"{path}: cannot tell which package is the project; pass --pyproject pyproject.toml")


def find_variants(lock: UvLock, names: dict[str, str]) -> list[Variant]:
    """Each conflict extra of the project that takes torch from an index, as a variant."""
    metadata = lock.root().get("metadata", {})
    torch_index: dict[str, str] = {}
    for requirement in metadata.get("requires-dist", []):
        conflict = requirement.get("conflict") or {}
        if (
            canonicalize_name(requirement.get("name", "")) == "torch"
            and requirement.get("index")
            and "extra" in conflict
        ):
            torch_index[conflict["extra"]] = requirement["index"]
    conflict_extras = [
        item["extra"]
        for group in lock.data.get("conflicts", [])
        for item in group
        if "extra" in item and canonicalize_name(item.get("package", lock.project)) == lock.project
    ]
    if not torch_index:
        raise UvImportError(
            f"{lock.path}: no extra of '{lock.project}' takes torch from an index: rules_torch imports projects "
            'set up as PyTorch recommends for uv ([tool.uv.sources] torch = [{ index = "pytorch-cpu", extra = '
            '"cpu" }, ...] and [tool.uv] conflicts between the extras). Add that and run `uv lock`.'
        )
    groups = [[item.get("extra") for item in group if "extra" in item] for group in lock.data.get("conflicts", [])]
    for group in groups:
        if any(extra in torch_index for extra in group):
            unmapped = [extra for extra in group if extra not in torch_index]
            if unmapped:
                raise UvImportError(
                    f"{lock.path}: the conflict extra{'s' * (len(unmapped) > 1)} {', '.join(map(repr, unmapped))} "
                    f"map{'s' * (len(unmapped) == 1)} to no torch index, unlike {', '.join(sorted(torch_index))}. Add "
                    f'{unmapped[0]} to [tool.uv.sources] torch = [{{ index = "...", extra = "{unmapped[0]}" }}] '
                    "in pyproject.toml and run `uv lock`, or remove it from [tool.uv] conflicts."
                )
    unknown = sorted(set(names) - set(torch_index))
    if unknown:
        raise UsageError(
            f"--variant {unknown[0]}=...: '{unknown[0]}' is not an extra that selects a torch index "
            f"(those are: {', '.join(sorted(torch_index))})"
        )
    variants = []
    for extra in sorted(set(torch_index) & set(conflict_extras) or torch_index):
        name = names.get(extra, extra)
        if not VARIANT_RE.match(name):
            raise UsageError(
                f"the extra '{extra}' is not a variant name (valid forms: {VARIANT_FORMS}); name its variant with "
                f"--variant {extra}=<variant>, e.g. --variant {extra}=cu130"
            )
        variants.append(Variant(name, extra, torch_index[extra]))
    seen: dict[str, str] = {}
    for variant in variants:
        if variant.name in seen:
            raise UsageError(
                f"the extras '{seen[variant.name]}' and '{variant.extra}' are both variant '{variant.name}'"
            )
        seen[variant.name] = variant.extra
    return sorted(variants, key=lambda v: natural_key(v.name))


def _environment(cell: Cell, extra: str) -> dict[str, str]:
    env = cell.marker_environment()
    env["extra"] = extra
    return env


def _marker_true(text: str | None, env: dict[str, str], where: str) -> bool:
    if not text:
        return True
    try:
        return Marker(text).evaluate(env)
    except InvalidMarker as error:
        raise UvImportError(f"{where}: uv wrote a marker this importer cannot read ({text!r}): {error}") from None


def resolved_pythons(lock: UvLock) -> list[str]:
    """The Python minors uv.lock's requires-python allows, among those torch builds for."""
    text = lock.data.get("requires-python", "")
    try:
        spec = SpecifierSet(text)
    except InvalidSpecifier:
        raise UvImportError(f"{lock.path}: requires-python {text!r} is not a version specifier") from None
    return [p for p in _CANDIDATE_PYTHONS if spec.contains(Version(f"{p}.0")) or spec.contains(Version(f"{p}.99"))]


def _resolved(lock: UvLock, cell: Cell) -> bool:
    """Whether uv resolved for the cell's environment (its `environments`, as supported-markers)."""
    markers = lock.data.get("supported-markers") or lock.data.get("resolution-markers") or []
    env = _environment(cell, "")
    return not markers or any(_marker_true(m, env, str(lock.path)) for m in markers)


def _tag_ranks(cell: Cell) -> dict[tags.Tag, int]:
    version = python_tuple(cell.python)
    platforms = cell.target.wheel_platforms()
    ordered = [
        *tags.cpython_tags(version, cell.abis(), platforms),
        *tags.compatible_tags(version, cp_tag(cell.python), platforms),
    ]
    ranks: dict[tags.Tag, int] = {}
    for rank, tag in enumerate(ordered):
        ranks.setdefault(tag, rank)
    return ranks


@dataclasses.dataclass
class _Node:
    package: dict[str, Any]
    extras: set[str]


class _CellWalk:
    """The closure of one cell: uv's graph from the roots, markers evaluated for the cell."""

    def __init__(self, lock: UvLock, cell: Cell, variant: Variant) -> None:
        self.lock = lock
        self.cell = cell
        self.env = _environment(cell, variant.marker_value(lock.project))
        self.nodes: dict[str, _Node] = {}

    def where(self) -> str:
        return f"{self.lock.path}: cell {self.cell.key}"

    def pick(self, dependency: dict[str, Any], parent: str) -> dict[str, Any]:
        name = canonicalize_name(dependency["name"])
        candidates = self.lock.by_name(name)
        if "version" in dependency:
            candidates = [p for p in candidates if p.get("version") == dependency["version"]]
        if "source" in dependency:
            candidates = [p for p in candidates if p.get("source") == dependency["source"]]
        if len(candidates) > 1:
            candidates = [
                p
                for p in candidates
                if any(_marker_true(m, self.env, self.where()) for m in p.get("resolution-markers", [""]))
            ]
        if len(candidates) != 1:
            raise UvImportError(
                f"{self.where()}: {parent} depends on {name}, which uv.lock holds {len(candidates)} times for this "
                "cell; re-create uv.lock with `uv lock` (is it out of date or edited?)"
            )
        return candidates[0]

    def add(self, package: dict[str, Any], extras: list[str]) -> None:
        name = canonicalize_name(package["name"])
        node = self.nodes.get(name)
        if node is not None and node.package is not package:
            raise UvImportError(
                f"{self.where()}: two versions of {name} ({node.package.get('version')} and {package.get('version')}) "
                "in one cell; re-create uv.lock with `uv lock`"
            )
        edges = []
        if node is None:
            node = self.nodes[name] = _Node(package, set())
            edges += package.get("dependencies", [])
        new = set(extras) - node.extras
        node.extras |= new
        optional = package.get("optional-dependencies", {})
        for extra in sorted(new):
            edges += optional.get(extra, [])
        for dependency in edges:
            if _marker_true(dependency.get("marker"), self.env, self.where()):
                self.add(self.pick(dependency, name), dependency.get("extra", []))


def _root_dependencies(lock: UvLock, walk: _CellWalk, variant: Variant, all_packages: bool) -> list[dict[str, Any]]:
    root = lock.root()
    edges = list(root.get("dependencies", [])) + list(root.get("optional-dependencies", {}).get(variant.extra, []))
    chosen = [d for d in edges if _marker_true(d.get("marker"), walk.env, walk.where())]
    if not all_packages:
        # The closure of torch's projects; the rest of a project's dependencies are the user's
        # (their pip.parse hub), unless --all-packages.
        chosen = [d for d in chosen if canonicalize_name(d["name"]) in TOP_LEVEL_PROJECTS]
    return chosen


def _wheel_name(wheel: dict[str, Any]) -> str:
    location = wheel.get("url") or wheel.get("path") or wheel.get("filename") or ""
    return urllib.parse.unquote(location.split("#")[0].split("?")[0].rpartition("/")[2])


def _select_wheel(walk: _CellWalk, package: dict[str, Any], ranks: dict[tags.Tag, int]) -> dict[str, Any]:
    best: tuple[int, dict[str, Any]] | None = None
    for wheel in package.get("wheels", []):
        try:
            _, _, _, wheel_tags = parse_wheel_filename(_wheel_name(wheel))
        except InvalidWheelFilename:
            continue
        rank = min((ranks[t] for t in wheel_tags if t in ranks), default=None)
        if rank is not None and (best is None or rank < best[0]):
            best = (rank, wheel)
    if best is None:
        name, version = package["name"], package.get("version")
        what = "only a source distribution" if "sdist" in package and not package.get("wheels") else "no wheel"
        raise UvImportError(
            f"{walk.where()} ({walk.cell.describe()}): uv.lock has {what} of {name} {version} for this cell; "
            "rules_torch installs wheels only. Leave the cell out (--platforms/--python), or pin a version of "
            f"{name} that publishes a wheel for it and run `uv lock`."
        )
    return best[1]


def _wheel_entry(lock: UvLock, node: _Node, wheel: dict[str, Any], hashes: HashCache) -> WheelEntry:
    if "url" in wheel:
        url = wheel["url"]
    else:
        path = Path(wheel["path"])
        url = (path if path.is_absolute() else (lock.path.parent / path).resolve()).as_uri()
    filename = _wheel_name(wheel)
    digest = wheel.get("hash", "")
    # uv records no hash for wheels of a local directory (a flat index): compute it once.
    sha256 = digest[len("sha256:") :] if digest.startswith("sha256:") else hashes.sha256(url)
    return WheelEntry(
        name=canonicalize_name(node.package["name"]),
        version=str(node.package["version"]),
        filename=filename,
        url=url,
        sha256=sha256,
        extras=tuple(sorted(node.extras)),
    )


def import_cell(lock: UvLock, cell: Cell, variant: Variant, hashes: HashCache, all_packages: bool) -> list[WheelEntry]:
    walk = _CellWalk(lock, cell, variant)
    for dependency in _root_dependencies(lock, walk, variant, all_packages):
        walk.add(walk.pick(dependency, lock.project), dependency.get("extra", []))
    if "torch" not in walk.nodes:
        raise UvImportError(
            f"{walk.where()}: the extra '{variant.extra}' brings no torch for {cell.describe()}: its markers "
            "exclude this platform or Python (leave the cell out with --platforms/--python), or torch comes "
            "through another of the project's dependencies (pass --all-packages)"
        )
    ranks = _tag_ranks(cell)
    wheels = []
    for name in sorted(walk.nodes):
        node = walk.nodes[name]
        source = node.package.get("source", {})
        if not {"registry", "url", "path"} & set(source):
            raise UvImportError(
                f"{walk.where()}: {name} comes from {source} in uv.lock, not from an index or a wheel; rules_torch "
                "locks wheels only"
            )
        wheels.append(_wheel_entry(lock, node, _select_wheel(walk, node.package, ranks), hashes))
    return wheels


def _release(versions: set[str]) -> str | None:
    publics = {Version(v).public for v in versions}
    return publics.pop() if len(publics) == 1 else None


def import_lock(args: argparse.Namespace, base: Path, argv: list[str]) -> dict[str, Any]:
    lock = read_uv_lock(base / args.from_uv, base / args.pyproject if args.pyproject else None)
    variants = find_variants(lock, _variant_names(args.variant))
    pythons = _parse_list(args.python, "--python") if args.python else resolved_pythons(lock)
    platforms = _parse_list(args.platforms, "--platforms") if args.platforms else []
    for platform in platforms:
        if platform not in PLATFORMS:
            raise UsageError(f"unknown platform '{platform}' in --platforms; valid platforms: {', '.join(PLATFORMS)}")
    for python in pythons:
        if not re.match(r"^3\.\d+$", python):
            raise UsageError(f"invalid Python version '{python}' in --python; expected major.minor, e.g. 3.11")
    explicit = bool(args.platforms or args.python)
    if explicit:
        allowed = set(resolved_pythons(lock))
        for python in pythons:
            if python not in allowed:
                raise UvImportError(
                    f"{lock.path}: uv did not resolve for Python {python} (requires-python "
                    f"{lock.data.get('requires-python')!r}). Widen requires-python in pyproject.toml and run "
                    "`uv lock`, or leave it out of --python."
                )
    candidates = [
        Cell(variants[0].name, platform, python) for platform in (platforms or sorted(PLATFORMS)) for python in pythons
    ]
    unresolved = [c for c in candidates if not _resolved(lock, c)]
    if platforms and unresolved:
        markers = lock.data.get("supported-markers") or lock.data.get("resolution-markers") or []
        cell = unresolved[0]
        raise UvImportError(
            f"{lock.path}: uv did not resolve for {cell.platform}, Python {cell.python} (uv.lock's environments: "
            f"{'; '.join(markers)}). Add it to [tool.uv] environments in pyproject.toml and run `uv lock`, "
            "or leave it out of --platforms."
        )
    coordinates = [(c.platform, c.python) for c in candidates if c not in unresolved]
    if not platforms:
        # Without --platforms: the platforms uv resolved on which every variant has a torch wheel.
        coordinates = [pp for pp in coordinates if _torch_wheels_everywhere(lock, variants, *pp)]
    if not coordinates:
        raise UvImportError(
            f"{lock.path}: no platform and Python ({', '.join(pythons)}) has a torch wheel for every variant "
            f"({', '.join(v.name for v in variants)}); name them with --platforms and --python to see what is missing"
        )
    hashes = hash_cache(args, base)
    cells: dict[Cell, list[WheelEntry]] = {}
    versions: dict[str, set[str]] = {name: set() for name in TOP_LEVEL_PROJECTS}
    for variant in variants:
        for platform, python in coordinates:
            cell = Cell(variant.name, platform, python)
            cells[cell] = import_cell(lock, cell, variant, hashes, args.all_packages)
            for wheel in cells[cell]:
                if wheel.name in versions:
                    versions[wheel.name].add(wheel.version)
    request = Request(
        torch=_release(versions["torch"]),
        torchvision=_release(versions["torchvision"]),
        torchaudio=_release(versions["torchaudio"]),
        variants=[v.name for v in variants],
        platforms=sorted({p for p, _ in coordinates}),
        pythons=sorted({py for _, py in coordinates}, key=python_tuple),
        # The sources are uv's, recorded per wheel.
        index_url="",
        extra_index_urls=[],
        find_links=[],
        from_uv=FromUv(
            args=without_shared_options(argv),
            extras={v.name: v.extra for v in variants},
            uv_lock=args.from_uv,
            uv_lock_sha256=lock.sha256,
        ),
    )
    return lock_document(request, cells)


def _torch_wheels_everywhere(lock: UvLock, variants: list[Variant], platform: str, python: str) -> bool:
    for variant in variants:
        cell = Cell(variant.name, platform, python)
        walk = _CellWalk(lock, cell, variant)
        for dependency in _root_dependencies(lock, walk, variant, True):
            walk.add(walk.pick(dependency, lock.project), dependency.get("extra", []))
        if "torch" not in walk.nodes:
            return False
        ranks = _tag_ranks(cell)
        names = [_wheel_name(wheel) for wheel in walk.nodes["torch"].package.get("wheels", [])]
        if not any(t in ranks for name in names if name.endswith(".whl") for t in _tags(name)):
            return False
    return True


def _tags(filename: str) -> frozenset[tags.Tag]:
    try:
        return parse_wheel_filename(filename)[3]
    except InvalidWheelFilename:
        return frozenset()


def _variant_names(items: list[str]) -> dict[str, str]:
    names = {}
    for item in items:
        extra, sep, variant = item.partition("=")
        if not sep or not extra or not variant:
            raise UsageError(f"--variant {item!r}: expected EXTRA=VARIANT, e.g. --variant gpu=cu130")
        names[extra] = variant
    return names


def _parse_list(text: str, option: str) -> list[str]:
    items = sorted({item.strip() for item in text.split(",") if item.strip()})
    if not items:
        raise UsageError(f"{option} is empty; give a comma-separated list")
    return items


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG.removesuffix(" --from-uv"),
        description="Import a uv.lock (PyTorch's uv setup: one extra per torch index, the extras in conflict) "
        "into a rules_torch lock. Each such extra becomes a variant; uv's URLs and hashes are kept; nothing is "
        "re-resolved, and nothing is downloaded except wheels uv recorded no hash for (local directories).",
        epilog="example:\n  bazel run @rules_torch//python:lock -- --from-uv uv.lock \\\n"
        "      --output third_party/torch.lock.json\n\n"
        "exit status: 0 lock written; 1 the uv.lock cannot be imported (nothing is written); 2 bad options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--from-uv", required=True, metavar="UV_LOCK", help="the project's uv.lock")
    parser.add_argument(
        "--pyproject",
        metavar="FILE",
        help="the project's pyproject.toml, to name the project (default: the package uv.lock's conflicts name)",
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="EXTRA=VARIANT",
        help="the rules_torch variant of an extra whose name is not one (e.g. gpu=cu130); repeatable. "
        "Default: the extra's own name (cpu, cu130, ...)",
    )
    parser.add_argument(
        "--platforms",
        metavar="LIST",
        help=f"comma-separated platforms ({', '.join(PLATFORMS)}); each must be one uv resolved for. "
        "Default: those uv resolved for on which every variant has a torch wheel",
    )
    parser.add_argument(
        "--python",
        metavar="LIST",
        help="comma-separated Python versions (major.minor) within uv.lock's requires-python. "
        "Default: every one it allows, 3.9 to 3.14",
    )
    parser.add_argument(
        "--all-packages",
        action="store_true",
        help="lock every dependency of the project, not only the closure of torch, torchvision and torchaudio "
        "(by default the project's other dependencies are left to its pip.parse hub)",
    )
    add_shared_options(parser)
    return parser


def main(argv: list[str]) -> int:
    return run_import(build_parser(), argv, import_lock, lambda args: args.from_uv)
