"""Cells: one accelerator variant x target platform x Python version, and what each implies.

A cell fixes everything a resolver needs to resolve for a machine other than this one: the
wheel tags it accepts and the values of PEP 508 environment markers (``platform_system ==
"Linux"`` and friends). uv takes both from ``--python-platform`` and ``--python-version``
(``uv_target_args``); ``supported_tags`` and ``marker_environment`` are the same facts for
the tool's own checks, and ``pip_target_args`` for pip (``pip install --dry-run`` checks of
the files the tool writes).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable

from packaging import tags
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from rules_torch.errors import UsageError
from rules_torch.lock_tables import TOP_LEVEL_PROJECTS

# The newest glibc and macOS a lock may require. Wheels tagged for anything newer are not
# considered; older ones are. Raising these trades compatibility for newer wheels.
MANYLINUX_MAX_GLIBC_MINOR = 39
MACOS_MAX = (15, 0)

# \Z, not $: "$" also matches before a final newline ("cpu\n" is no variant).
VARIANT_RE = re.compile(r"^(cpu|cu\d{2,3}|rocm\d+(\.\d+)*|xpu)\Z")
VARIANT_FORMS = "cpu, cu<NNN> (cu118, cu121, cu124, cu126, cu128, cu130, ...), rocm<X.Y> (rocm6.2, ...), xpu"
_PYTHON_RE = re.compile(r"^3\.(\d+)\Z")


@dataclasses.dataclass(frozen=True)
class Platform:
    """A target platform: how pip names its wheels, how markers see it, and the @platforms
    constraints that select it in Bazel (@platforms//os:<bazel_os>, @platforms//cpu:<bazel_cpu>)."""

    name: str
    sys_platform: str
    platform_system: str
    platform_machine: str
    os_name: str
    bazel_os: str
    bazel_cpu: str

    def uv_platform(self) -> str:
        """uv's ``--python-platform`` for this target, accepting the same wheels as ``wheel_platforms``."""
        arch = {"AMD64": "x86_64", "arm64": "aarch64"}.get(self.platform_machine, self.platform_machine)
        if self.sys_platform == "linux":
            return f"{arch}-manylinux_2_{MANYLINUX_MAX_GLIBC_MINOR}"
        if self.sys_platform == "darwin":
            return f"{arch}-apple-darwin"
        return f"{arch}-pc-windows-msvc"

    def wheel_platforms(self) -> list[str]:
        """Platform tags this target accepts, most preferred first (pip matches them exactly)."""
        if self.sys_platform == "linux":
            return _manylinux_tags(self.platform_machine)
        if self.sys_platform == "darwin":
            arch = "arm64" if self.platform_machine == "arm64" else "x86_64"
            return list(tags.mac_platforms(MACOS_MAX, arch))
        return ["win_amd64"]


PLATFORMS: dict[str, Platform] = {
    p.name: p
    for p in (
        Platform("linux_x86_64", "linux", "Linux", "x86_64", "posix", "linux", "x86_64"),
        Platform("linux_aarch64", "linux", "Linux", "aarch64", "posix", "linux", "aarch64"),
        Platform("macos_arm64", "darwin", "Darwin", "arm64", "posix", "macos", "aarch64"),
        Platform("macos_x86_64", "darwin", "Darwin", "x86_64", "posix", "macos", "x86_64"),
        Platform("windows_amd64", "win32", "Windows", "AMD64", "nt", "windows", "x86_64"),
    )
}


def _manylinux_tags(arch: str) -> list[str]:
    # Mirrors pip's own ordering on a glibc machine: each manylinux_2_N tag, its legacy
    # alias right after it, and the bare linux_<arch> tag last (PyTorch published
    # linux_x86_64-tagged wheels until 2.5).
    legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    lowest = 17 if arch == "aarch64" else 5
    result = []
    for minor in range(MANYLINUX_MAX_GLIBC_MINOR, lowest - 1, -1):
        result.append(f"manylinux_2_{minor}_{arch}")
        if minor in legacy and (arch == "x86_64" or minor == 17):
            result.append(f"{legacy[minor]}_{arch}")
    result.append(f"linux_{arch}")
    return result


@dataclasses.dataclass(frozen=True, order=True)
class Cell:
    """One variant x platform x Python version of a lock."""

    variant: str
    platform: str
    python: str

    @property
    def key(self) -> str:
        return f"{self.variant}_{self.platform}_{cp_tag(self.python)}"

    @property
    def target(self) -> Platform:
        return PLATFORMS[self.platform]

    def marker_environment(self) -> dict[str, str]:
        """PEP 508 marker values of the target machine.

        The patch version is not knowable from ``--python``; ``.0`` is the conservative
        choice (markers on patch versions are rare and mostly ``<`` bounds for backports).
        """
        p = self.target
        full = f"{self.python}.0"
        return {
            "implementation_name": "cpython",
            "implementation_version": full,
            "os_name": p.os_name,
            "platform_machine": p.platform_machine,
            "platform_python_implementation": "CPython",
            "platform_release": "",
            "platform_system": p.platform_system,
            "platform_version": "",
            "python_full_version": full,
            "python_version": self.python,
            "sys_platform": p.sys_platform,
        }

    def abis(self) -> list[str]:
        return [cp_tag(self.python), "abi3", "none"]

    def pip_target_args(self) -> list[str]:
        """pip options that make it resolve for this cell instead of for this machine."""
        args = ["--only-binary=:all:", "--implementation", "cp", "--python-version", self.python]
        for platform in self.target.wheel_platforms():
            args += ["--platform", platform]
        for abi in self.abis():
            args += ["--abi", abi]
        return args

    def uv_target_args(self) -> list[str]:
        """uv options that make it resolve for this cell instead of for this machine (see ``uv_environment``)."""
        return [
            "--only-binary",
            ":all:",
            "--python-version",
            self.python,
            "--python-platform",
            self.target.uv_platform(),
        ]

    def uv_environment(self) -> dict[str, str]:
        """Variables uv reads for this cell's target: the newest macOS a lock may require."""
        if self.target.sys_platform == "darwin":
            return {"MACOSX_DEPLOYMENT_TARGET": ".".join(map(str, MACOS_MAX))}
        return {}

    def ordered_tags(self) -> list[tags.Tag]:
        """The tags of ``supported_tags``, most preferred first (an installer's choice among wheels)."""
        return list(_tag_ranks(self.platform, self.python))

    def tag_ranks(self) -> dict[tags.Tag, int]:
        """Each tag of ``ordered_tags`` -> its rank (0: most preferred)."""
        return _tag_ranks(self.platform, self.python)

    def supported_tags(self) -> set[tags.Tag]:
        """Every wheel tag this cell accepts; the same set pip derives from the options above."""
        version = python_tuple(self.python)
        platforms = self.target.wheel_platforms()
        supported = set(tags.cpython_tags(version, self.abis(), platforms))
        supported.update(tags.compatible_tags(version, cp_tag(self.python), platforms))
        return supported

    def describe(self) -> str:
        return f"variant {self.variant}, {self.platform}, Python {self.python}"


@functools.lru_cache(maxsize=64)
def _tag_ranks(platform: str, python: str) -> dict[tags.Tag, int]:
    version = python_tuple(python)
    platforms = PLATFORMS[platform].wheel_platforms()
    abis = [cp_tag(python), "abi3", "none"]
    ordered = [*tags.cpython_tags(version, abis, platforms), *tags.compatible_tags(version, cp_tag(python), platforms)]
    return {tag: rank for rank, tag in enumerate(dict.fromkeys(ordered))}


def cp_tag(python: str) -> str:
    return "cp" + python.replace(".", "")


def python_tuple(python: str) -> tuple[int, int]:
    major, minor = python.split(".")
    return int(major), int(minor)


def parse_variants(text: str) -> list[str]:
    variants = _split(text, "--variants")
    bad = [v for v in variants if not VARIANT_RE.match(v)]
    if bad:
        raise UsageError(f"unknown variant {', '.join(map(repr, bad))} in --variants; valid forms: {VARIANT_FORMS}")
    return sorted(set(variants), key=natural_key)


def parse_platforms(text: str) -> list[str]:
    platforms = _split(text, "--platforms")
    bad = [p for p in platforms if p not in PLATFORMS]
    if bad:
        raise UsageError(
            f"unknown platform {', '.join(map(repr, bad))} in --platforms; valid platforms: {', '.join(PLATFORMS)}"
        )
    return sorted(set(platforms))


def parse_pythons(text: str) -> list[str]:
    pythons = _split(text, "--python")
    bad = [p for p in pythons if not (_PYTHON_RE.match(p) and int(p.split(".")[1]) >= 8)]
    if bad:
        raise UsageError(
            f"invalid Python version {', '.join(map(repr, bad))} in --python; "
            "expected major.minor, e.g. 3.11 or 3.11,3.12"
        )
    return sorted(set(pythons), key=python_tuple)


def parse_release(option: str, text: str) -> str:
    """A --torch/--torchvision/--torchaudio version: exact, and without a local label."""
    try:
        version = Version(text)
    except InvalidVersion:
        raise UsageError(f"{option} {text!r} is not a version; expected e.g. 2.5.1") from None
    if version.local:
        raise UsageError(
            f"{option} {text!r} has a local label; pass {version.public} "
            f"and select the build with --variants {version.local}"
        )
    return text


def parse_with(texts: list[str]) -> list[str]:
    """--with requirements: valid PEP 508, no URL, not torch itself, each project once."""
    seen: dict[str, str] = {}
    for text in texts:
        try:
            requirement = Requirement(text)
        except InvalidRequirement as error:
            raise UsageError(
                f"--with {text!r} is not a requirement ({error}); expected e.g. numpy or 'numpy<3'"
            ) from None
        name = canonicalize_name(requirement.name)
        if requirement.url:
            raise UsageError(
                f"--with {text!r} names a URL; the lock pins wheels from the indexes, give a name and version"
            )
        if name in TOP_LEVEL_PROJECTS:
            raise UsageError(f"--with {text!r}: lock {name} with --{name} VERSION instead")
        if name in seen:
            raise UsageError(f"--with {text!r}: {name} is already requested ({seen[name]!r})")
        seen[name] = text
    return list(texts)


def variant_of(version: str) -> str | None:
    """The variant a local version label names (``2.5.1+cu118`` -> ``cu118``), if any."""
    local = Version(version).local
    if not local:
        return None
    head = local.split(".")[0]
    # "rocm6.2" is split by packaging into "rocm6" and "2"; rejoin the numeric tail.
    if head.startswith("rocm"):
        head = re.sub(r"^(rocm\d+(\.\d+)*).*$", r"\1", local)
    return head if VARIANT_RE.match(head) else None


def natural_key(text: str) -> tuple[tuple[int, str], ...]:
    return tuple((int(part), "") if part.isdigit() else (0, part) for part in re.split(r"(\d+)", text) if part)


def make_cells(variants: Iterable[str], platforms: Iterable[str], pythons: Iterable[str]) -> list[Cell]:
    return [Cell(v, p, py) for v in variants for p in platforms for py in pythons]


def _split(text: str, option: str) -> list[str]:
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise UsageError(f"{option} is empty; give a comma-separated list")
    return items
