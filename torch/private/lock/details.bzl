"""What a hub knows for its no-match error (rules/unavailable.bzl): one shape, two constructors.

The extension (a lock's hub) and pip_hub.bzl (a torch.from_pip hub) describe what is locked with
these; the hub's BUILD file carries the result as JSON to torch_unavailable, which reads it with
`details_fix` and the common fields. `kind` says which fix applies: "lock" (the lock command that
adds the missing cell) or "pip_hub" (a line naming the pip hub to map).
"""

def _common(kind, hub, lock, cells, default_variant, example_config, example_variant):
    return {
        "cells": cells,
        "default_variant": default_variant,
        "example_config": example_config,
        "example_variant": example_variant,
        "hub": hub,
        "kind": kind,
        "lock": lock,
    }

def lock_details(hub, lock, cells, default_variant, example_config, example_variant, relock, relock_by_variant = {}):
    """The details of a hub made from locks.

    Args:
      hub: the hub's name.
      lock: the lock file(s), as shown in messages.
      cells: what is locked, one description per cell ("cpu on linux_x86_64").
      default_variant: the hub's default_variant ("" for none).
      example_config: a --config that builds (config_name of example_variant).
      example_variant: a locked variant.
      relock: {"output": the lock's path, "request": the lock's request}: the command that adds
        a cell.
      relock_by_variant: variant -> a relock like `relock`, for variants another lock holds.

    Returns:
      A dict (json.encode it for torch_unavailable's `details`).
    """
    details = _common("lock", hub, lock, cells, default_variant, example_config, example_variant)
    details.update(relock = relock, relock_by_variant = relock_by_variant)
    return details

def pip_hub_details(hub, lock, cells, default_variant, example_config, example_variant, fix):
    """The details of a torch.from_pip hub.

    Args:
      hub: the hub's name.
      lock: where the variants come from, as shown in messages.
      cells: the variants mapped to a pip hub.
      default_variant: the hub's default_variant ("" for none).
      example_config: a --config that builds.
      example_variant: a mapped variant.
      fix: the fix line; `{variant}` is replaced by the variant asked for.

    Returns:
      A dict (json.encode it for torch_unavailable's `details`).
    """
    details = _common("pip_hub", hub, lock, cells, default_variant, example_config, example_variant)
    details.update(fix = fix)
    return details

def details_fix(details):
    """How the message's fix line is made: struct(relock, relock_by_variant) or struct(fix).

    Args:
      details: what lock_details or pip_hub_details returned (after a JSON round trip).

    Returns:
      struct(kind, fix, relock, relock_by_variant), the fields of the other kind None / {}.
    """
    kind = details.get("kind")
    if kind == "lock":
        return struct(kind = kind, fix = None, relock = details["relock"], relock_by_variant = details.get("relock_by_variant", {}))
    if kind == "pip_hub":
        return struct(kind = kind, fix = details["fix"], relock = None, relock_by_variant = {})
    fail("rules_torch: hub details of unknown kind {} (regenerate the hub: bazel clean --expunge)".format(repr(kind)))
