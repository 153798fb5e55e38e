"""The macros a hub's generated BUILD file calls: settings, no-match targets, one per package.

The hub repository's BUILD file is one `load` of this file and one call per target (see
hub.bzl's hub_build_file); the selection logic lives here, in real Starlark, and
tests/starlark/hub_tests.bzl checks what each macro declares, whole.
"""

load("@rules_python//python:versions.bzl", "TOOL_VERSIONS")
load("//torch/private/contracts:labels.bzl", "cc_label", "package_label", "selection_parts")
load("//torch/private/lock:tables.bzl", "PLATFORM_CONSTRAINTS")
load("//torch/private/rules:unavailable.bzl", "torch_unavailable")
load("//torch/private/rules:venv.bzl", "torch_py_venv")
load(":py.bzl", "torch_py_binary")

VARIANT_FLAG = "@rules_torch//torch:variant"

# rules_python's Python version flag, set by its version transitions or on the command line
# (--@rules_python//python/config_settings:python_version=3.10.9). The hub matches it with
# config_settings of its own, one per value meaning a locked Python: the minor version ("3.10",
# what newer rules_python accepts) and each full version rules_python knows (its TOOL_VERSIONS;
# the only values rules_python 0.2x accepts). rules_python's own is_python_* settings exist only
# for the versions a module registers, so the hub cannot name them.
PYTHON_FLAG = "@rules_python//python/config_settings:python_version"

def _native_rules():
    return struct(
        alias = native.alias,
        config_setting = native.config_setting,
        select = select,
        torch_py_binary = torch_py_binary,
        torch_py_venv = torch_py_venv,
        torch_unavailable = torch_unavailable,
    )

def python_values(python, tool_versions = TOOL_VERSIONS):
    """The values of rules_python's version flag that mean Python `python` (major.minor).

    Args:
      python: "3.10".
      tool_versions: the full versions rules_python knows.

    Returns:
      ["3.10", "3.10.9", ...].
    """
    return [python] + [v for v in tool_versions if v.startswith(python + ".")]

def setting_name(variant, platform):
    """The hub's config_setting for a variant on a platform ("": any platform)."""
    return "_is_{}{}".format(variant.replace(".", "_"), "_" + platform if platform else "")

def _default_name(platform):
    return "_is_default" + ("_" + platform if platform else "")

def _keys(spokes, other_pythons):
    keys = {k: True for k in spokes}
    for cells in other_pythons.values():
        keys.update({k: True for k in cells})
    return sorted(keys)

def _no_match_name(python):
    """The hub's no-match target for a Python ("": the default one)."""
    return "_unavailable_python_" + python if python else "_unavailable"

def torch_hub_settings(spokes, default_variant, other_pythons = {}, tool_versions = TOOL_VERSIONS, rules = None):
    """Declares the hub's config_settings.

    Args:
      spokes: dict selection_key(variant, platform) -> where that cell's packages come from
        (labels.bzl's spoke_source or pip_hub_source; platform "": any target platform), for the
        default Python.
      default_variant: the variant used when the flag is unset ("" for none).
      other_pythons: dict Python (major.minor) -> a dict like `spokes` for that Python's cells.
      tool_versions: the full Python versions rules_python knows.
      rules: for tests, the rules to declare with (default: the real ones).
    """
    rules = rules or _native_rules()
    for key in _keys(spokes, other_pythons):
        parts = selection_parts(key)
        constraints = {"constraint_values": PLATFORM_CONSTRAINTS[parts.platform]} if parts.platform else {}
        rules.config_setting(name = setting_name(parts.variant, parts.platform), flag_values = {VARIANT_FLAG: parts.variant}, **constraints)
        if parts.variant == default_variant:
            rules.config_setting(name = _default_name(parts.platform), flag_values = {VARIANT_FLAG: ""}, **constraints)
    for python in sorted(other_pythons):
        for value in python_values(python, tool_versions):
            rules.config_setting(name = "_python_" + value, flag_values = {PYTHON_FLAG: value})

def torch_hub_no_match(hub, lock, cells, example_config, example_variant, default_variant, fixes, python = "", rules = None):
    """Declares the target a hub's aliases select when it has no cell for the request.

    Its attributes are torch_unavailable's: what contracts/no_match.bzl's no_match and fix_table
    made when the hub was generated.

    Args:
      hub: the hub's name.
      lock: where the hub's cells come from, as shown in messages.
      cells: what the hub has, one description per cell.
      example_config: a --config that builds.
      example_variant: a variant the hub has.
      default_variant: the hub's default_variant ("" for none).
      fixes: the fix line of each request (fix_table).
      python: the Python version it serves ("": the hub's default one).
      rules: for tests, the rules to declare with (default: the real ones).
    """
    rules = rules or _native_rules()
    rules.torch_unavailable(
        name = _no_match_name(python),
        hub = hub,
        lock = lock,
        cells = cells,
        example_config = example_config,
        example_variant = example_variant,
        default_variant = default_variant,
        fixes = fixes,
        python = python,
    )

def _select_alias(name, spokes, default_variant, other_pythons, tool_versions, rules, label_of):
    """@<hub>//:<name>: an alias of `label_of(source)` for the selected cell's source."""
    choices = {}
    for key in _keys(spokes, other_pythons):
        parts = selection_parts(key)
        setting = setting_name(parts.variant, parts.platform)
        label = label_of(spokes[key]) if key in spokes else ":" + _no_match_name("")
        if other_pythons:
            # Every cell selects on the Python version: a Python that is locked, but not for
            # this variant and platform, must not fall back to the default Python's wheels.
            by_python = {}
            for python in sorted(other_pythons):
                cells = other_pythons[python]
                other = label_of(cells[key]) if key in cells else ":" + _no_match_name(python)
                by_python.update({":_python_" + v: other for v in python_values(python, tool_versions)})
            by_python["//conditions:default"] = label
            label = ":_{}{}".format(name, setting)
            rules.alias(name = label[1:], actual = rules.select(by_python))
        choices[":" + setting] = label
        if parts.variant == default_variant:
            choices[":" + _default_name(parts.platform)] = label
    choices["//conditions:default"] = ":" + _no_match_name("")
    rules.alias(name = name, actual = rules.select(choices))

def torch_hub_package(name, spokes, default_variant, other_pythons = {}, tool_versions = TOOL_VERSIONS, rules = None):
    """Declares @<hub>//:<name>, an alias of the selected cell's Python package target.

    Args:
      name: the package (torch, torchvision, ...).
      spokes: as for torch_hub_settings.
      default_variant: as for torch_hub_settings.
      other_pythons: as for torch_hub_settings.
      tool_versions: as for torch_hub_settings.
      rules: for tests, the rules to declare with (default: the real ones).
    """
    label_of = lambda source: package_label(source, name)
    _select_alias(name, spokes, default_variant, other_pythons, tool_versions, rules or _native_rules(), label_of)

def torch_hub_cc(name, spokes, default_variant, other_pythons = {}, tool_versions = TOOL_VERSIONS, rules = None):
    """Declares @<hub>//:<name>, an alias of the selected cell's C++ target `name` (libtorch, libtorch_python).

    The target is in the cell's own repository for C++ (labels.bzl's cc_label), so that selecting
    the Python side fetches nothing of the C++ one.

    Args:
      name: the C++ target (libtorch, libtorch_python).
      spokes: as for torch_hub_settings (spoke sources only).
      default_variant: as for torch_hub_settings.
      other_pythons: as for torch_hub_settings.
      tool_versions: as for torch_hub_settings.
      rules: for tests, the rules to declare with (default: the real ones).
    """
    label_of = lambda source: cc_label(source, name)
    _select_alias(name, spokes, default_variant, other_pythons, tool_versions, rules or _native_rules(), label_of)

def torch_hub_doctor(rules = None):
    """Declares :doctor, `bazel run @<hub>//:doctor` (see doctor.py).

    Args:
      rules: for tests, the rules to declare with (default: the real ones).
    """
    rules = rules or _native_rules()
    doctor = Label("//torch/private/tools:doctor.py")

    # gpu_check.py beside doctor.py: the doctor prints the check a routed GPU test runs.
    rules.torch_py_binary(name = "doctor", srcs = [doctor, Label("//torch/private/tools:gpu_check.py")], main = doctor, deps = [":torch"])

def torch_hub_venv(packages, rules = None):
    """Declares :venv, `bazel run @<hub>//:venv`: a venv of every package of the hub (torch_py_venv).

    Args:
      packages: the hub's package targets (torch, torchvision, ...).
      rules: for tests, the rules to declare with (default: the real ones).
    """
    rules = rules or _native_rules()
    rules.torch_py_venv(name = "venv", deps = [":" + package for package in packages])
