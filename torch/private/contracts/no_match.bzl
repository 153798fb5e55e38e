"""What a hub's no-match target (rules/unavailable.bzl) says, decided when the hub is generated.

The extension (a lock's hub, extension/hub_builder.bzl) and pip_hub.bzl (a torch.from_pip hub)
describe what the hub has with `no_match` and write the fix line of every request it cannot serve
with `fix_table`; the hub's BUILD file passes both to torch_unavailable as plain attributes. Only
the variant and the target platform asked for are known later, at analysis: `fix_line` looks the
line up with them, and formats it. The maker and the reader of the table are side by side here.
"""

# A key of a fix table: "<variant>|<platform>", or "*" for any value the table has no key for.
_ANY = "*"

# What a line has where the value asked for goes, while the table is made: words no lock holds,
# that a POSIX shell reads as they are (a lock command quotes a word of other characters, and a
# value asked for is never quoted), and that sort after every variant and platform name: a lock
# command sorts its lists (lock.bzl's relock_command), so a value that sorts after a list's items
# (cu130 added to cpu,cu121) stands where the lock command puts it, and any other value last,
# which the lock tool reads the same.
_VARIANT_MARK = "zz@variant@"
_PLATFORM_MARK = "zz@platform@"

def no_match(hub, lock, cells, example_config, example_variant):
    """The message of a hub's no-match targets, but for the fix line.

    Args:
      hub: the hub's name.
      lock: where the hub's cells come from, as shown in messages (the lock files).
      cells: what the hub has, one description per cell ("cpu on linux_x86_64").
      example_config: a --config that builds (config_name of example_variant).
      example_variant: a variant the hub has.

    Returns:
      A dict of torch_unavailable's attributes (it travels through the hub's BUILD file).
    """
    return {
        "cells": cells,
        "example_config": example_config,
        "example_variant": example_variant,
        "hub": hub,
        "lock": lock,
    }

def _key(variant, platform):
    return variant + "|" + platform

def _candidates(variant, platform):
    """The keys that may hold a request's line, the first one a table has holding it."""
    return [_key(variant, platform), _key(variant, _ANY), _key(_ANY, platform), _key(_ANY, _ANY)]

def _lookup(table, variant, platform):
    """The line fix_line gives for the request, with the table's marks in place of `{...}`."""
    for key in _candidates(variant, platform):
        if key in table:
            return table[key].replace(_VARIANT_MARK, variant).replace(_PLATFORM_MARK, platform)
    return None

def _template(line):
    """A line with marks as a str.format template: its own braces doubled, `{variant}`, `{platform}`."""
    escaped = line.replace("{", "{{").replace("}", "}}")
    return escaped.replace(_VARIANT_MARK, "{variant}").replace(_PLATFORM_MARK, "{platform}")

def fix_table(render, variants, platforms, locked = []):
    """The fix line of every request a hub's no-match target can get, for fix_line.

    `render` is called for each variant and platform of the lists and for one value outside them
    (a mark); the line of a value outside them is the mark's with the value in its place, which is
    render's where render puts the value where it puts the mark (a lock command: a value that sorts
    after its list's items). The table keeps a line only where the lines it already has would give
    another: fix_line then gives render's line for every request of the lists.

    Args:
      render: function(variant, platform) -> the fix line for that request ("": none asked:
        no variant set and no default, an unknown target platform).
      variants: the variants whose line is not simply the mark's (locked ones, "" where it can be
        asked).
      platforms: the same for platforms.
      locked: (variant, platform) requests that never reach the target (the hub has the cell).

    Returns:
      dict "variant|platform" ("*" for any other value) -> a str.format template of its line,
      with `{variant}` and `{platform}` where the values asked for go.
    """
    base = render("", "")
    if _VARIANT_MARK in base or _PLATFORM_MARK in base:
        fail("rules_torch: a hub's lock holds {} or {}, which its no-match message uses; rename them in the lock".format(_VARIANT_MARK, _PLATFORM_MARK))

    # The most general keys first: each key is kept only when the ones before it give another line.
    keys = [(_ANY, _ANY)] + [(_ANY, p) for p in platforms] + [(v, _ANY) for v in variants] + [(v, p) for v in variants for p in platforms]
    table = {}
    for variant, platform in keys:
        if (variant, platform) in locked:
            continue
        asked = (_VARIANT_MARK if variant == _ANY else variant, _PLATFORM_MARK if platform == _ANY else platform)
        line = render(asked[0], asked[1])
        if _lookup(table, asked[0], asked[1]) != line:
            table[_key(variant, platform)] = line
    return {key: _template(table[key]) for key in sorted(table)}

def fix_line(fixes, variant, platform):
    """The fix line for a request, from a hub's fix table.

    Args:
      fixes: what fix_table returned.
      variant: the variant asked for ("" when none was).
      platform: the target platform's lock name ("" when unknown).

    Returns:
      One line of text (or more: a command on its own line).
    """
    for key in _candidates(variant, platform):
        if key in fixes:
            return fixes[key].format(variant = variant, platform = platform)
    fail("rules_torch: a hub's no-match target has no fix line for {}; regenerate the hub (bazel clean --expunge)".format(repr(_key(variant, platform))))
