"""Unit tests of torch/private/hub.bzl: the generated BUILD file."""

load("@bazel_skylib//lib:unittest.bzl", "asserts", "unittest")

# buildifier: disable=bzl-visibility
load("//torch/private:hub.bzl", "hub_build_file")

def _hub_build_file_test(ctx):
    env = unittest.begin(ctx)
    text = hub_build_file(
        hub = "torch",
        spokes = {
            "cpu|linux_x86_64": "@torch__cpu_linux_x86_64_cp311//:pkg",
            "cu118|linux_x86_64": "@torch__cu118_linux_x86_64_cp311//:pkg",
            "cpu|macos_arm64": "@torch__cpu_macos_arm64_cp311//:pkg",
        },
        default_variant = "cpu",
        packages = ["torch", "triton"],
        unavailable_message = {"hub": "torch"},
    )
    for fragment in [
        'name = "_is_cu118_linux_x86_64"',
        "flag_values = {\"@rules_torch//torch:variant\": \"cu118\"}",
        "constraint_values = [\"@platforms//os:macos\", \"@platforms//cpu:aarch64\"]",
        'name = "_is_default_linux_x86_64"',
        "\":_is_default_macos_arm64\": \"@torch__cpu_macos_arm64_cp311//:pkg\"",
        "\"//conditions:default\": \":_unavailable\"",
        'name = "torch"',
        'name = "triton"',
        'name = "doctor"',
    ]:
        asserts.true(env, fragment in text, "missing {} in:\n{}".format(fragment, text))

    # No default cell for cu118: only the default variant gets a flag-unset branch.
    asserts.false(env, "_is_default_linux_x86_64\": \"@torch__cu118" in text)
    asserts.false(env, 'name = "torchvision"' in text)
    return unittest.end(env)

hub_build_file_test = unittest.make(_hub_build_file_test)

def _hub_other_pythons_test(ctx):
    env = unittest.begin(ctx)
    text = hub_build_file(
        hub = "torch",
        spokes = {
            "cpu|linux_x86_64": "@torch__cpu_linux_x86_64_cp311//:pkg",
            "cpu|macos_arm64": "@torch__cpu_macos_arm64_cp311//:pkg",
        },
        default_variant = "cpu",
        packages = ["torch"],
        unavailable_message = {"hub": "torch"},
        other_pythons = {"3.10": {
            "cpu|linux_x86_64": "@torch__cpu_linux_x86_64_cp310//:pkg",
            "cu118|linux_x86_64": "@torch__cu118_linux_x86_64_cp310//:pkg",
        }},
    )
    for fragment in [
        'load("@rules_python//python:versions.bzl", "TOOL_VERSIONS")',
        # Settings of the hub's own on rules_python's version flag; per variant|platform, an
        # alias selects on them ...
        'name = "_torch_is_cpu_linux_x86_64"',
        "flag_values = {\"@rules_python//python/config_settings:python_version\": v},",
        "for v in [\"3.10\"] + [v for v in TOOL_VERSIONS if v.startswith(\"3.10.\")]",
        "[(\":_python_\" + v, \"@torch__cpu_linux_x86_64_cp310//:pkg\") for v in [\"3.10\"] + [v for v in TOOL_VERSIONS if v.startswith(\"3.10.\")]]",
        "[(\"//conditions:default\", \"@torch__cpu_linux_x86_64_cp311//:pkg\")]",
        # ... with the default Python's cell (or the no-match target) otherwise,
        "[(\"//conditions:default\", \":_unavailable\")]",
        # A Python locked for other cells but not this one is an error, not the default's wheels.
        "[(\":_python_\" + v, \":_unavailable_python_3.10\")",
        'name = "_unavailable_python_3.10"',
        'python = "3.10"',
        # and the hub's aliases point at those.
        "\":_is_cpu_linux_x86_64\": \":_torch_is_cpu_linux_x86_64\"",
        "\":_is_cu118_linux_x86_64\": \":_torch_is_cu118_linux_x86_64\"",
        "\":_is_default_linux_x86_64\": \":_torch_is_cpu_linux_x86_64\"",
    ]:
        asserts.true(env, fragment in text, "missing {} in:\n{}".format(fragment, text))
    return unittest.end(env)

hub_other_pythons_test = unittest.make(_hub_other_pythons_test)

def hub_test_suite(name):
    unittest.suite(name, hub_build_file_test, hub_other_pythons_test)
