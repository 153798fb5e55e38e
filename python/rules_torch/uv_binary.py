"""Finding and running uv, the resolver the lock tool runs for each cell.

Where uv comes from, first match wins:

1. ``--uv PATH``;
2. the uv wheel rules_torch pins (python/tool_wheels.json): under ``bazel run
   @rules_torch//python:lock`` it is on ``sys.path`` as ``uv/site-packages``, its binary in
   ``uv-<version>.data/scripts/``;
3. ``uv`` on ``PATH``;
4. the ``uv`` Python package of this interpreter (``pip install uv``), through its own
   ``find_uv_bin()``.

uv reads its own configuration files and ``UV_*`` variables; none of them may change a lock
that others re-create elsewhere, so the tool passes ``--no-config`` and drops every ``UV_*``
variable but those that only say how to reach the network or where uv's cache is.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

from packaging.version import InvalidVersion, Version

from rules_torch.errors import LockError

# `uv pip compile --format pylock.toml`, `--index`/`--default-index` and `--index-strategy`
# together; the tool is tested with the uv that python/tool_wheels.json pins.
UV_MINIMUM = Version("0.8.0")
INSTALL_HINT = (
    f"install uv {UV_MINIMUM} or newer (`pip install uv`, or https://docs.astral.sh/uv/), pass its path "
    "with --uv, or run the tool as `bazel run @rules_torch//python:lock`, which brings its own"
)

# UV_* variables that do not change what a resolution finds.
_KEPT_UV_VARIABLES = {
    "UV_CACHE_DIR",
    "UV_CONCURRENT_DOWNLOADS",
    "UV_HTTP_RETRIES",
    "UV_HTTP_TIMEOUT",
    "UV_NATIVE_TLS",
    "UV_NO_PROGRESS",
    "UV_SYSTEM_CERTS",
}


@dataclasses.dataclass(frozen=True)
class Uv:
    """A uv binary the lock tool may run."""

    path: str
    version: Version

    def environment(self, timeout: float) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("UV_") or k in _KEPT_UV_VARIABLES}
        env.setdefault("UV_HTTP_TIMEOUT", str(max(1, round(timeout))))
        env["UV_NO_PROGRESS"] = "1"
        # The platform's certificate store, as pip (truststore) uses by default: a corporate
        # proxy's CA is there, not in uv's bundled roots. UV_NATIVE_TLS for uv before 0.9.
        env.setdefault("UV_SYSTEM_CERTS", "1")
        env.setdefault("UV_NATIVE_TLS", env["UV_SYSTEM_CERTS"])
        # uv must reach local index servers directly even where an HTTP proxy is configured.
        for key in ("NO_PROXY", "no_proxy"):
            env[key] = ",".join(filter(None, [env.get(key, ""), "127.0.0.1", "localhost"]))
        return env


def _bundled() -> str | None:
    """The binary of the pinned uv wheel, where Bazel put it on sys.path (see the module doc)."""
    for entry in sys.path:
        for scripts in sorted(Path(entry or ".").glob("uv-*.data/scripts")):
            binary = scripts / ("uv.exe" if sys.platform == "win32" else "uv")
            if binary.is_file():
                return _executable(binary)
    return None


def _executable(binary: Path) -> str:
    """``binary``, or an executable copy of it: an extracted wheel may have lost the mode bits."""
    if os.access(binary, os.X_OK):
        return str(binary)
    copy = Path(tempfile.gettempdir()) / f"rules_torch-uv-{os.getuid() if hasattr(os, 'getuid') else 0}" / binary.name
    if not copy.is_file() or copy.stat().st_size != binary.stat().st_size:
        copy.parent.mkdir(parents=True, exist_ok=True)
        partial = copy.with_suffix(f".{os.getpid()}.tmp")
        shutil.copyfile(binary, partial)
        partial.chmod(partial.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        os.replace(partial, copy)
    return str(copy)


def _from_package() -> str | None:
    try:
        from uv import find_uv_bin  # the `uv` distribution from PyPI
    except ImportError:
        return None
    try:
        return find_uv_bin()
    except FileNotFoundError:
        return None


@functools.cache
def find_uv(given: str | None) -> Uv:
    """The uv to run: ``given`` (--uv) or the first one found; raises naming the fix when none fits."""
    if given:
        path = shutil.which(given) or (given if Path(given).is_file() else None)
        if path is None:
            raise LockError(f"--uv {given}: no such uv binary; {INSTALL_HINT}.")
    else:
        path = _bundled() or shutil.which("uv") or _from_package()
        if path is None:
            raise LockError(f"the lock tool resolves with uv, but no uv was found (--uv, PATH); {INSTALL_HINT}.")
    try:
        result = subprocess.run([path, "--version"], capture_output=True, text=True, check=False, timeout=60)
    except OSError as error:
        raise LockError(f"cannot run uv at {path}: {error}; {INSTALL_HINT}.") from None
    match = re.match(r"uv (\S+)", result.stdout.strip())
    try:
        version = Version(match.group(1)) if match and result.returncode == 0 else None
    except InvalidVersion:
        version = None
    if version is None:
        raise LockError(
            f"{path} is not a working uv (`{path} --version` said {result.stdout.strip()!r}); {INSTALL_HINT}."
        )
    if version < UV_MINIMUM:
        raise LockError(
            f"uv {version} at {path} is too old: the lock tool needs uv {UV_MINIMUM} or newer; {INSTALL_HINT}."
        )
    return Uv(path, version)
