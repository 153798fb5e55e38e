"""The hub's fallback target: fails analysis with what was asked, what is locked, and the fix."""

load("@bazel_skylib//rules:common_settings.bzl", "BuildSettingInfo")
load("//torch/private/lock:details.bzl", "details_fix")
load("//torch/private/lock:lock.bzl", "relock_command")
load("//torch/private/lock:tables.bzl", "PLATFORM_BY_OS_CPU", _CPU = "CPU_CONSTRAINTS", _OS = "OS_CONSTRAINTS")

_UNKNOWN_PLATFORM = "an unknown platform"

def _target_platform(ctx):
    os = [name for name in _OS if ctx.target_platform_has_constraint(getattr(ctx.attr, "_os_" + name)[platform_common.ConstraintValueInfo])]
    cpu = [name for name in _CPU if ctx.target_platform_has_constraint(getattr(ctx.attr, "_cpu_" + name)[platform_common.ConstraintValueInfo])]
    if not os or not cpu:
        return _UNKNOWN_PLATFORM
    name = "{}_{}".format(os[0], cpu[0])
    return PLATFORM_BY_OS_CPU.get(name, name)

def fix_line(details, variant, platform, python):
    """The message's fix line.

    The hub's own (`fix`, `{variant}` substituted), or the lock command that adds the cell asked
    for (`relock`: the lock's request and its path).

    Args:
      details: the hub's details (lock/details.bzl).
      variant: the variant asked for ("" when none was).
      platform: the target platform's lock name ("" when unknown).
      python: the Python version asked for ("" for the hub's default).

    Returns:
      One line of text.
    """
    how = details_fix(details)
    if how.fix != None:
        return how.fix.replace("{variant}", variant or "<variant>")
    relock = how.relock_by_variant.get(variant) or how.relock
    return "to build this combination, lock it:\n    " + relock_command(
        relock["request"],
        variants = [variant] if variant else None,
        platforms = [platform] if platform else None,
        pythons = [python] if python else None,
        output = relock["output"],
    )

def _unavailable_impl(ctx):
    details = json.decode(ctx.attr.details)
    variant = ctx.attr._variant[BuildSettingInfo].value
    platform = _target_platform(ctx)
    if not variant:
        variant = details["default_variant"]
        how = "the hub's default_variant"
    else:
        how = "--@rules_torch//torch:variant"
    fix = fix_line(details, variant, "" if platform == _UNKNOWN_PLATFORM else platform, ctx.attr.python)
    fail((
        "rules_torch: @{hub} has no torch for variant '{variant}' (from {how}) on {platform}{python}.\n" +
        "  available in {lock}: {cells}\n" +
        "  {fix}\n" +
        "  or pick a locked variant, e.g. --config={example} (--@rules_torch//torch:variant={example_variant})"
    ).format(
        hub = details["hub"],
        variant = variant or "(none: the flag is unset and the hub has no default_variant)",
        how = how,
        platform = platform,
        python = " for Python {} (from @rules_python//python/config_settings:python_version)".format(ctx.attr.python) if ctx.attr.python else "",
        lock = details["lock"],
        cells = ", ".join(details["cells"]),
        fix = fix,
        example = details["example_config"],
        example_variant = details["example_variant"],
    ))

torch_unavailable = rule(
    implementation = _unavailable_impl,
    doc = "Fails analysis with an actionable message; the hub selects it when no spoke matches.",
    attrs = {
        "details": attr.string(mandatory = True, doc = "JSON of lock/details.bzl's lock_details or pip_hub_details."),
        "python": attr.string(doc = "The Python version asked for, when it is not the hub's default one."),
        "_cpu_aarch64": attr.label(default = _CPU["aarch64"]),
        "_cpu_x86_64": attr.label(default = _CPU["x86_64"]),
        "_os_linux": attr.label(default = _OS["linux"]),
        "_os_macos": attr.label(default = _OS["macos"]),
        "_os_windows": attr.label(default = _OS["windows"]),
        "_variant": attr.label(default = "//torch:variant"),
    },
)
