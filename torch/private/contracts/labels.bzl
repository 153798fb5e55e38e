"""The names that tie the phases together, in one place: the targets a spoke and a cell's C++
repository declare, the keys a hub selects on, and the labels a hub's macros build from them.

The extension (extension.bzl, pip_hub.bzl) describes where a cell's packages come from as a
*source* (`spoke_source`, `pip_hub_source`); the generated hub BUILD file passes those to the hub
macros (macros/hub_macros.bzl), which turn them into labels here (`package_label`, `cc_label`).
Renaming a spoke's target changes this file, and what generates or reads it follows.
"""

# The targets of a spoke repository (repositories/spoke.bzl).
SPOKE_TREE = "tree"  # cell_tree: the cell's wheels installed into one site-packages tree
SPOKE_PACKAGE = "pkg"  # py_library: the tree as data, site-packages importable

# A cell's C++ repository is its spoke's name with this suffix (repositories/libtorch_repo.bzl).
LIBTORCH_REPO_SUFFIX = "__libtorch"

# The tag of a torch_py_test that needs a GPU (macros/py.bzl routes it to the execution platform
# that //torch/platforms:gpu_test names; the extension's error for the removed
# torch.remote_execution tag says so).
GPU_TAG = "requires-gpu"

def selection_key(variant, platform):
    """The key of a hub's `spokes` dict: a variant on a platform.

    Args:
      variant: "cpu", "cu130", ...
      platform: a lock platform ("linux_x86_64"), or "" for any target platform.

    Returns:
      "variant|platform" (a string: BUILD files pass it as a dict key).
    """
    if "|" in variant or "|" in platform:
        fail("rules_torch: a variant or platform name with '|': {} {}".format(repr(variant), repr(platform)))
    return variant + "|" + platform

def selection_parts(key):
    """The variant and platform of a `selection_key`.

    Args:
      key: what selection_key returned.

    Returns:
      struct(variant, platform).
    """
    variant, separator, platform = key.partition("|")
    if not separator:
        fail("rules_torch: not a hub selection key (variant|platform): " + repr(key))
    return struct(variant = variant, platform = platform)

def spoke_source(repo):
    """A cell's packages from a rules_torch spoke repository (and its C++ repository beside it).

    Args:
      repo: the spoke's apparent repository name (in the hub's repository mapping).

    Returns:
      A dict (it travels through a generated BUILD file).
    """
    return {"kind": "spoke", "repo": repo}

def pip_hub_source(repo):
    """A variant's packages from a user's pip.parse hub (torch.from_pip): one directory per package.

    Args:
      repo: the pip hub's canonical repository name.

    Returns:
      A dict (it travels through a generated BUILD file).
    """
    return {"kind": "pip_hub", "repo": repo}

def package_label(source, package):
    """The label of Python package `package` (torch, torchvision, ...) in `source`.

    Args:
      source: a spoke_source or pip_hub_source.
      package: the package's target name in the hub.

    Returns:
      A label string.
    """
    if source["kind"] == "spoke":
        # A spoke's one py_library holds every package of the cell.
        return "@{}//:{}".format(source["repo"], SPOKE_PACKAGE)
    if source["kind"] == "pip_hub":
        return "@@{}//{}".format(source["repo"], package)
    fail("rules_torch: unknown package source " + repr(source))

def cc_label(source, name):
    """The label of C++ target `name` (libtorch, libtorch_python) of a spoke's cell.

    Args:
      source: a spoke_source.
      name: the target in the cell's C++ repository.

    Returns:
      A label string.
    """
    if source["kind"] != "spoke":
        fail("rules_torch: {} has no C++ targets (only rules_torch spokes do)".format(repr(source)))
    return "@{}{}//:{}".format(source["repo"], LIBTORCH_REPO_SUFFIX, name)
