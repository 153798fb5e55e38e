"""Bazel workspaces that use rules_torch as a user would, driven from pytest.

Each workspace lives under tests/integration/.workspaces/<name> (inside the repository, so
the offline Bazel's chroot sees it and `local_path_override` reaches the repository root),
keeps its output base between runs, and is shut down at the end of the session.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BAZEL = REPO / "tools" / "bazel"
WORKSPACES = REPO / "tests" / "integration" / ".workspaces"

sys.path.insert(0, str(REPO / "tests" / "support"))
from fake_wheels import Wheel  # noqa: E402

PLATFORM_TAGS = {
    "linux_x86_64": "linux_x86_64",
    "linux_aarch64": "manylinux2014_aarch64",
    "macos_arm64": "macosx_11_0_arm64",
}

MODULE_HEADER = """\
module(name = "it_{name}")

bazel_dep(name = "rules_python", version = "0.22.1")
bazel_dep(name = "platforms", version = "0.0.10")
bazel_dep(name = "rules_torch", version = "0.1.0")
local_path_override(module_name = "rules_torch", path = {repo!r})

torch = use_extension("@rules_torch//torch:extensions.bzl", "torch")
"""

PLATFORMS_BUILD = """\
platform(name = "linux_aarch64", constraint_values = ["@platforms//os:linux", "@platforms//cpu:aarch64"])
platform(name = "macos_arm64", constraint_values = ["@platforms//os:macos", "@platforms//cpu:aarch64"])
"""

BAZELRC = """\
build:cpu --@rules_torch//torch:variant=cpu
build:cuda118 --@rules_torch//torch:variant=cu118
build:cuda121 --@rules_torch//torch:variant=cu121
test --test_output=errors
"""


def fake_torch(variant: str, platform: str, python: str = "3.11", version: str = "2.5.1") -> list[Wheel]:
    """The closure of a fake torch cell: torch (recording its variant), a pure dep, and for
    CUDA variants an NVIDIA wheel with a shared library in nvidia/<pkg>/lib."""
    cp = "cp" + python.replace(".", "")
    local = "" if variant == "cpu" and platform != "linux_x86_64" else "+" + variant
    init = f"__version__ = {version + local!r}\n__variant__ = {variant!r}\n__platform__ = {platform!r}\n"
    wheels = [
        Wheel("torch", version + local, f"{cp}-{cp}-{PLATFORM_TAGS[platform]}", files=(("torch/__init__.py", init.encode(), False),)),
        Wheel("filelock", "3.16.1", "py3-none-any", files=(("filelock/__init__.py", b"VERSION = '3.16.1'\n", False),)),
    ]
    if variant.startswith("cu"):
        lib = (f"nvidia/cuda_runtime/lib/libcudart.so.{variant[2:4]}", b"\x7fELF fake", False)
        wheels.append(Wheel(f"nvidia-cuda-runtime-cu{variant[2:4]}", "12.1.105", "py3-none-manylinux1_x86_64", files=(("nvidia/__init__.py", b"", False), lib)))
    return wheels


class Workspace:
    """A Bazel workspace under tests/integration/.workspaces/<name>."""

    def __init__(self, name: str):
        self.name = name
        self.root = WORKSPACES / name
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "wheels").mkdir(exist_ok=True)
        self.write(".bazelrc", BAZELRC)
        self.write("platforms/BUILD.bazel", PLATFORMS_BUILD)

    def write(self, path: str, text: str) -> Path:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        return target

    def add_wheel(self, wheel: Wheel, content: bytes | None = None) -> dict:
        """Writes a wheel file and returns its lock entry (file:// URL, sha256 of the content)."""
        data = wheel.build() if content is None else content
        path = self.root / "wheels" / wheel.filename
        path.write_bytes(data)
        return {
            "extras": [],
            "filename": wheel.filename,
            "name": wheel.name,
            "sha256": hashlib.sha256(data).hexdigest(),
            "url": path.as_uri(),
            "version": wheel.version,
        }

    def write_lock(self, cells: dict[tuple[str, str], list[dict]], path: str = "torch.lock.json", python: str = "3.11") -> None:
        """Writes a schema-1 lock for {(variant, platform): [wheel entries]}."""
        lock_cells = {}
        for (variant, platform), wheels in cells.items():
            key = f"{variant}_{platform}_cp{python.replace('.', '')}"
            lock_cells[key] = {"platform": platform, "python": python, "variant": variant, "wheels": sorted(wheels, key=lambda w: w["name"])}
        lock = {
            "cells": lock_cells,
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "index_url": "https://download.pytorch.org/whl/{variant}",
                "platforms": sorted({p for _, p in cells}),
                "pythons": [python],
                "torch": "2.5.1",
                "torchaudio": None,
                "torchvision": None,
                "variants": sorted({v for v, _ in cells}),
            },
            "schema_version": 1,
        }
        self.write(path, json.dumps(lock, indent=2, sort_keys=True) + "\n")

    def lock_fake_cells(self, cells: list[tuple[str, str]]) -> None:
        self.write_lock({cell: [self.add_wheel(w) for w in fake_torch(*cell)] for cell in cells})

    def write_module(self, body: str) -> None:
        self.write("MODULE.bazel", MODULE_HEADER.format(name=self.name, repo=str(REPO)) + body)

    def bazel(self, *args: str, timeout: int = 600, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        environ = dict(os.environ)
        environ.pop("RULES_TORCH_NVIDIA_DRIVER", None)
        environ.update(env or {})
        return subprocess.run(
            [str(BAZEL), *args],
            cwd=self.root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            env=environ,
            check=False,
        )

    def output_base(self) -> Path:
        return Path(self.bazel("info", "output_base").stdout.strip().splitlines()[-1])

    def spoke_dirs(self, cell: str) -> list[Path]:
        return sorted((self.output_base() / "external").glob(f"*__{cell}"))

    def shutdown(self) -> None:
        self.bazel("shutdown")
