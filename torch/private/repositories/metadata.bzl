"""Bazel 8/9 metadata, returned only where the running Bazel knows it (feature-guarded)."""

def reproducible_repo(rctx):
    """What a repository rule returns when its contents depend on its attributes alone.

    Bazel 8.3+ then keeps the fetched repository in its repo contents cache, so a new output
    base (a CI runner, a worktree) reuses it instead of fetching again.

    Args:
      rctx: the repository_ctx.

    Returns:
      repo_metadata(reproducible = True), or None where this Bazel has none.
    """
    if hasattr(rctx, "repo_metadata"):
        return rctx.repo_metadata(reproducible = True)
    return None

def reproducible_extension(mctx, root_deps, root_dev_deps = [], reproducible = True):
    """What a module extension returns: the root module's repositories and reproducibility.

    `bazel mod tidy` then keeps users' use_repo lines right. `reproducible = False` (the
    extension read the host) makes Bazel record its result in MODULE.bazel.lock.

    Args:
      mctx: the module_ctx.
      root_deps: repositories the root module should `use_repo` (non-dev tags).
      root_dev_deps: the same for its dev_dependency tags.
      reproducible: whether the result depends on the module files alone.

    Returns:
      extension_metadata, or None where this Bazel has none.
    """
    if not hasattr(mctx, "extension_metadata"):
        return None
    return mctx.extension_metadata(
        root_module_direct_deps = root_deps,
        root_module_direct_dev_deps = root_dev_deps,
        reproducible = reproducible,
    )
