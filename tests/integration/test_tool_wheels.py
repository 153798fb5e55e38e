"""The lock tool's wheels for Bazel (python/tool_wheels.json) are the pinned requirements'."""

import json

import pin_tool_wheels


def test_tool_wheels_match_the_pinned_requirements():
    pins = pin_tool_wheels.read_pins(pin_tool_wheels.REQUIREMENTS)
    wheels = json.loads(pin_tool_wheels.OUTPUT.read_text())
    assert {"packaging", "tomli", "uv"} <= set(pins)
    assert pin_tool_wheels.check(pins, wheels) == []
    for wheel in wheels:
        assert wheel["url"].endswith("/" + wheel["filename"]), wheel
        if wheel["name"] == "uv":  # a binary: one wheel per host Bazel runs on
            assert (wheel["os"], wheel["arch"]) in pin_tool_wheels.HOSTS, wheel
        else:
            assert wheel["filename"].endswith("-py3-none-any.whl"), wheel
    assert {(w["os"], w["arch"]) for w in wheels if w["name"] == "uv"} == set(pin_tool_wheels.HOSTS)


def test_check_names_a_wheel_that_is_not_the_pinned_one():
    pins = {"pip": ("26.3", {"a" * 64}), "packaging": ("26.3", {"b" * 64})}
    wheels = [
        {"filename": "pip-26.2-py3-none-any.whl", "name": "pip", "sha256": "c" * 64, "url": "u", "version": "26.2"},
        {"filename": "six-1.0-py3-none-any.whl", "name": "six", "sha256": "d" * 64, "url": "u", "version": "1.0"},
    ]
    problems = pin_tool_wheels.check(pins, wheels)
    assert "packaging==26.3 is pinned but has no wheel" in problems
    assert "pip: wheel pip-26.2-py3-none-any.whl (cccccccccccc...) is not the pinned pip==26.3" in problems
    assert "six has a wheel but is not pinned" in problems
