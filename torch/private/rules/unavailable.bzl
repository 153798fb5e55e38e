"""The hub's fallback target: fails analysis with what was asked, what is locked, and the fix."""

load("@bazel_skylib//rules:common_settings.bzl", "BuildSettingInfo")
load("//torch/private/contracts:no_match.bzl", "fix_line")
load("//torch/private/lock:tables.bzl", "PLATFORM_BY_OS_CPU", _CPU = "CPU_CONSTRAINTS", _OS = "OS_CONSTRAINTS")

_UNKNOWN_PLATFORM = "an unknown platform"

def _target_platform(ctx):
    os = [name for name in _OS if ctx.target_platform_has_constraint(getattr(ctx.attr, "_os_" + name)[platform_common.ConstraintValueInfo])]
    cpu = [name for name in _CPU if ctx.target_platform_has_constraint(getattr(ctx.attr, "_cpu_" + name)[platform_common.ConstraintValueInfo])]
    if not os or not cpu:
        return _UNKNOWN_PLATFORM
    name = "{}_{}".format(os[0], cpu[0])
    return PLATFORM_BY_OS_CPU.get(name, name)

def _unavailable_impl(ctx):
    variant = ctx.attr._variant[BuildSettingInfo].value
    platform = _target_platform(ctx)
    if not variant:
        variant = ctx.attr.default_variant
        how = "the hub's default_variant"
    else:
        how = "--@rules_torch//torch:variant"
    fix = fix_line(ctx.attr.fixes, variant, "" if platform == _UNKNOWN_PLATFORM else platform)
    fail((
        "rules_torch: @{hub} has no torch for variant '{variant}' (from {how}) on {platform}{python}.\n" +
        "  available in {lock}: {cells}\n" +
        "  {fix}\n" +
        "  or pick a locked variant, e.g. --config={example} (--@rules_torch//torch:variant={example_variant})"
    ).format(
        hub = ctx.attr.hub,
        variant = variant or "(none: the flag is unset and the hub has no default_variant)",
        how = how,
        platform = platform,
        python = " for Python {} (from @rules_python//python/config_settings:python_version)".format(ctx.attr.python) if ctx.attr.python else "",
        lock = ctx.attr.lock,
        cells = ", ".join(ctx.attr.cells),
        fix = fix,
        example = ctx.attr.example_config,
        example_variant = ctx.attr.example_variant,
    ))

torch_unavailable = rule(
    implementation = _unavailable_impl,
    doc = "Fails analysis with an actionable message; the hub selects it when no spoke matches. The hub's generator decides the message (contracts/no_match.bzl).",
    attrs = {
        "cells": attr.string_list(doc = "What the hub has, one description per cell (\"cpu on linux_x86_64\")."),
        "default_variant": attr.string(doc = "The hub's default_variant (\"\" for none): the variant asked for when the flag is unset."),
        "example_config": attr.string(mandatory = True, doc = "A --config that builds."),
        "example_variant": attr.string(mandatory = True, doc = "A variant the hub has."),
        "fixes": attr.string_dict(mandatory = True, doc = "The fix line of each request: no_match.bzl's fix_table."),
        "hub": attr.string(mandatory = True, doc = "The hub's name."),
        "lock": attr.string(mandatory = True, doc = "Where the hub's cells come from, as shown in messages."),
        "python": attr.string(doc = "The Python version asked for, when it is not the hub's default one."),
        "_cpu_aarch64": attr.label(default = _CPU["aarch64"]),
        "_cpu_x86_64": attr.label(default = _CPU["x86_64"]),
        "_os_linux": attr.label(default = _OS["linux"]),
        "_os_macos": attr.label(default = _OS["macos"]),
        "_os_windows": attr.label(default = _OS["windows"]),
        "_variant": attr.label(default = "//torch:variant"),
    },
)
