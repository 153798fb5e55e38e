"""Helpers for the lock tool's tests: run it in-process or as a command, read what it wrote.

A module of its own (not conftest.py) so that tests can import it by a name no other test
directory uses.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import fake_wheels
from uv import find_uv_bin

from rules_torch import lock

PYTHON_DIR = Path(__file__).resolve().parents[1]
REPO = PYTHON_DIR.parent
# The real uv from PyPI (tools/requirements_test.txt pins it), the resolver the lock tool runs.
UV = find_uv_bin()


@dataclasses.dataclass
class LockRun:
    code: int
    stderr: str
    output: Path

    def lock(self) -> dict:
        return json.loads(self.output.read_text())

    def cell(self, key: str) -> dict[str, dict]:
        """The wheels of one cell, by name."""
        return {w["name"]: w for w in self.lock()["cells"][key]["wheels"]}


def invoke(argv: list[str]) -> tuple[int, str]:
    """Runs the lock tool's main() in this process; returns (exit status, stderr)."""
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        code = lock.main(argv)
    return code, stderr.getvalue()


def lock_argv(urls: fake_wheels.IndexUrls, output: Path, cache: Path, *args: str) -> list[str]:
    """Command-line arguments for a lock against the fake indexes (options in ``args`` win)."""
    argv = [*args, "--output", str(output), "--cache-dir", str(cache)]
    if "--uv" not in args:
        argv += ["--uv", UV]
    if "--index-url" not in args:
        argv += ["--index-url", urls.pytorch]
    if "--extra-index-url" not in args:
        argv += ["--extra-index-url", urls.pypi]
    return argv


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Runs ``python3 -m rules_torch.lock`` as a user would (a separate process)."""
    environment = {**os.environ, "PYTHONPATH": str(PYTHON_DIR), **(env or {})}
    # The user's uv: the one next to this interpreter, found on PATH.
    environment["PATH"] = os.pathsep.join([str(Path(UV).parent), environment.get("PATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "rules_torch.lock", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        check=False,
    )
