"""Cells: option parsing, wheel tags and marker environments (no pip, no index)."""

from __future__ import annotations

import pytest
from packaging.markers import Marker
from packaging.tags import Tag

from rules_torch.cells import (
    PLATFORMS,
    Cell,
    parse_platforms,
    parse_pythons,
    parse_release,
    parse_variants,
    variant_of,
)
from rules_torch.errors import UsageError


def test_linux_tags_follow_pips_order_with_legacy_aliases() -> None:
    tags = PLATFORMS["linux_x86_64"].wheel_platforms()
    assert tags[0] == "manylinux_2_39_x86_64"
    assert tags.index("manylinux2014_x86_64") == tags.index("manylinux_2_17_x86_64") + 1
    assert tags.index("manylinux2010_x86_64") == tags.index("manylinux_2_12_x86_64") + 1
    assert tags[-3:] == ["manylinux_2_5_x86_64", "manylinux1_x86_64", "linux_x86_64"]
    aarch64 = PLATFORMS["linux_aarch64"].wheel_platforms()
    assert aarch64[-3:] == ["manylinux_2_17_aarch64", "manylinux2014_aarch64", "linux_aarch64"]
    assert not any("x86_64" in tag for tag in aarch64)


def test_macos_and_windows_tags() -> None:
    mac = PLATFORMS["macos_arm64"].wheel_platforms()
    assert {"macosx_11_0_arm64", "macosx_14_0_arm64", "macosx_11_0_universal2", "macosx_10_9_universal2"} <= set(mac)
    assert not any(tag.endswith("_x86_64") for tag in mac)
    assert "macosx_10_9_x86_64" in PLATFORMS["macos_x86_64"].wheel_platforms()
    assert PLATFORMS["windows_amd64"].wheel_platforms() == ["win_amd64"]


def test_cell_accepts_the_wheels_pytorch_publishes() -> None:
    cell = Cell("cpu", "macos_arm64", "3.11")
    supported = cell.supported_tags()
    assert Tag("cp311", "none", "macosx_11_0_arm64") in supported  # torch's macOS wheels
    assert Tag("cp39", "abi3", "macosx_11_0_arm64") in supported
    assert Tag("py3", "none", "any") in supported
    assert Tag("cp312", "cp312", "macosx_11_0_arm64") not in supported
    args = Cell("cu121", "linux_x86_64", "3.12").pip_target_args()
    assert args[args.index("--python-version") + 1] == "3.12"
    assert [args[i + 1] for i, a in enumerate(args) if a == "--abi"] == ["cp312", "abi3", "none"]


@pytest.mark.parametrize(
    ("platform", "marker", "expected"),
    [
        ("linux_aarch64", 'platform_system == "Linux" and platform_machine == "x86_64"', False),
        ("linux_x86_64", 'platform_system == "Linux" and platform_machine == "x86_64"', True),
        ("macos_arm64", 'sys_platform == "darwin" and platform_machine == "arm64"', True),
        ("windows_amd64", 'sys_platform == "win32" and os_name == "nt"', True),
        ("windows_amd64", 'platform_system == "Linux"', False),
    ],
)
def test_marker_environment_describes_the_target(platform: str, marker: str, expected: bool) -> None:
    environment = Cell("cpu", platform, "3.12").marker_environment()
    assert Marker(marker).evaluate(environment) is expected
    assert Marker('python_version >= "3.12"').evaluate(environment)


def test_cell_key() -> None:
    assert Cell("rocm6.2", "linux_x86_64", "3.12").key == "rocm6.2_linux_x86_64_cp312"


def test_variants_are_validated_and_sorted() -> None:
    assert parse_variants("cu121, cpu,rocm6.2,cu118,cpu,xpu") == ["cpu", "cu118", "cu121", "rocm6.2", "xpu"]
    with pytest.raises(UsageError, match=r"unknown variant 'cuda12'.*valid forms: cpu, cu<NNN>"):
        parse_variants("cpu,cuda12")


def test_unknown_platform_lists_the_valid_ones() -> None:
    with pytest.raises(UsageError) as error:
        parse_platforms("linux_x86_64,macos")
    assert "unknown platform 'macos'" in str(error.value)
    for name in PLATFORMS:
        assert name in str(error.value)


def test_pythons_and_releases() -> None:
    assert parse_pythons("3.12,3.9,3.11") == ["3.9", "3.11", "3.12"]
    with pytest.raises(UsageError, match=r"major\.minor"):
        parse_pythons("311")
    assert parse_release("--torch", "2.5.1") == "2.5.1"
    with pytest.raises(UsageError, match=r"pass 2\.5\.1 and select the build with --variants cu118"):
        parse_release("--torch", "2.5.1+cu118")
    with pytest.raises(UsageError, match="not a version"):
        parse_release("--torch", "latest")


@pytest.mark.parametrize(
    ("version", "variant"),
    [
        ("2.5.1+cu118", "cu118"),
        ("2.5.1+rocm6.2", "rocm6.2"),
        ("2.5.1", None),
        ("2.3.0+cpu.cxx11.abi", "cpu"),
        ("1.0+local", None),
    ],
)
def test_variant_of_local_label(version: str, variant: str | None) -> None:
    assert variant_of(version) == variant
