"""The tables the Starlark side and the lock tool both hold agree: the lock schema version and
the platforms (names, and the @platforms constraints the hub selects them with), and the wheel
platform tags each platform accepts."""

import ast

from harness import REPO
from rules_torch import lockfile
from rules_torch.cells import PLATFORMS
from rules_torch.lockfile import SCHEMA_VERSION, WHEEL_PLATFORM_PATTERNS

_OS = {"linux": "@platforms//os:linux", "darwin": "@platforms//os:macos", "win32": "@platforms//os:windows"}
_CPU = {"x86_64": "@platforms//cpu:x86_64", "AMD64": "@platforms//cpu:x86_64", "aarch64": "@platforms//cpu:aarch64", "arm64": "@platforms//cpu:aarch64"}


def _starlark_constants(path):
    """Top-level NAME = <literal> assignments of a .bzl file (Starlark parses as Python here)."""
    tree = ast.parse(path.read_text(), str(path))
    constants = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                constants[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return constants


def test_schema_version_and_platforms_agree():
    lock_bzl = _starlark_constants(REPO / "torch" / "private" / "lock" / "lock.bzl")
    assert lock_bzl["SCHEMA_VERSION"] == SCHEMA_VERSION
    constraints = lock_bzl["PLATFORM_CONSTRAINTS"]
    assert sorted(constraints) == sorted(PLATFORMS)
    for name, platform in PLATFORMS.items():
        assert sorted(constraints[name]) == sorted([_OS[platform.sys_platform], _CPU[platform.platform_machine]]), name


def test_wheel_platform_patterns_agree():
    """The extension and the lock tool accept the same wheels in a cell."""
    lock_bzl = _starlark_constants(REPO / "torch" / "private" / "lock" / "lock.bzl")
    assert lock_bzl["WHEEL_PLATFORM_PATTERNS"] == WHEEL_PLATFORM_PATTERNS
    assert sorted(WHEEL_PLATFORM_PATTERNS) == sorted(PLATFORMS)


def test_request_fields_agree():
    """Both validators know the same request fields, types and optional ones (tests/locks/corpus.bzl
    checks what they do with them)."""
    lock_bzl = _starlark_constants(REPO / "torch" / "private" / "lock" / "lock.bzl")
    assert lock_bzl["_REQUEST_FIELDS"] == lockfile._REQUEST_FIELDS
    assert sorted(lock_bzl["_OPTIONAL_REQUEST_FIELDS"]) == sorted(lockfile._OPTIONAL_REQUEST_FIELDS)
