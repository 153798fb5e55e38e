"""Analysis tests of the rules: the runtime aspect, the launchers of torch_py_test and
torch_py_binary, torch_unavailable's message, and torch_cc_extension's refusal of CUDA sources on
a CPU cell.

The subjects are declared by rules_test_suite below on a fake cell (a cell_tree of a file named
like a wheel: analysis never runs the install action) and tagged manual, so `bazel test //...`
analyses them only through these tests.
"""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("@rules_cc//cc/common:cc_info.bzl", "CcInfo")
load("@rules_python//python:defs.bzl", "py_library")
load("//torch:defs.bzl", "torch_py_binary", "torch_py_library", "torch_py_test")
load("//torch:providers.bzl", "TorchCcInfo", "TorchRuntimeInfo")

# buildifier: disable=bzl-visibility
load("//torch/private/contracts:no_match.bzl", "fix_table")

# buildifier: disable=bzl-visibility
load("//torch/private/lock:lock.bzl", "relock_command")

# buildifier: disable=bzl-visibility
load("//torch/private/rules:cc.bzl", "torch_cc_extension_rule")

# buildifier: disable=bzl-visibility
load("//torch/private/rules:cell_tree.bzl", "TorchCellInfo", "cell_tree")

# buildifier: disable=bzl-visibility
load("//torch/private/rules:runtime.bzl", "torch_runtime_aspect")

# buildifier: disable=bzl-visibility
load("//torch/private/rules:unavailable.bzl", "torch_unavailable")

_CELL = "cpu_linux_x86_64_cp311"

def _basenames(files):
    return sorted([f.basename for f in files])

# --- torch_runtime_aspect ---------------------------------------------------------------------

def _aspect_test_impl(ctx):
    env = analysistest.begin(ctx)
    info = analysistest.target_under_test(env)[TorchRuntimeInfo]
    trees = info.trees.to_list()
    asserts.equals(env, [_CELL], [t.cell for t in trees])
    asserts.equals(env, ["site-packages"], [t.site_packages.basename for t in trees])
    dirs = info.lib_dirs.to_list()
    asserts.equals(env, 1, len(dirs), "one directory of shared libraries: {}".format(dirs))
    asserts.true(env, dirs[0].dir.endswith("tests/starlark/testdata"), dirs[0].dir)
    asserts.true(env, dirs[0].probe.endswith("testdata/libfake_native.so"), dirs[0].probe)
    return analysistest.end(env)

_aspect_test = analysistest.make(_aspect_test_impl, extra_target_under_test_aspects = [torch_runtime_aspect])

# --- the launchers -----------------------------------------------------------------------------

def _plan(env):
    """The launcher's plan (runtime.bzl's _plan): its records, as lists of fields."""
    (write,) = [a for a in analysistest.target_actions(env) if a.mnemonic == "FileWrite" and a.outputs.to_list()[0].basename.endswith(".launch")]
    return [line.split("\t") for line in write.content.splitlines()]

def _records(plan, kind):
    return [record[1:] for record in plan if record[0] == kind]

def _check_bases(env, plan):
    """Checks that each lib or import record's base is `-`, or `root:N` / `tree:N` of an earlier record.

    `root:N` and `tree:N` name the N-th root or tree record (from 0) before it: the plan names no
    shell variable.
    """
    seen = {"root": 0, "tree": 0}
    for record in plan:
        if record[0] in seen:
            seen[record[0]] += 1
        elif record[0] in ("lib", "import") and record[1] != "-":
            kind, _, index = record[1].partition(":")
            asserts.true(
                env,
                kind in seen and index.isdigit() and str(int(index)) == index and int(index) < seen[kind],
                "{} record's base {} is not -, root:N or tree:N of an earlier record: {}".format(record[0], record[1], plan),
            )

def _test_launcher_test_impl(ctx):
    env = analysistest.begin(ctx)
    target = analysistest.target_under_test(env)
    runfiles = target[DefaultInfo].default_runfiles.files.to_list()
    names = _basenames(runfiles)

    # A test stages the tree's ticket, its lib_dirs.txt, the wheels and the extractor: not the tree,
    # and not the install action's own stamp (it reaches the disk before the tree does).
    asserts.false(env, "site-packages.stamp" in names, "the test stages the install action's stamp: {}".format(names))
    for name in ["site-packages.ready", "lib_dirs.txt", "fake_torch-2.5.1-cp311-cp311-linux_x86_64.whl", "extract_wheels.py"]:
        asserts.true(env, name in names, "{} not in the test's runfiles: {}".format(name, names))
    asserts.false(env, "site-packages" in names, "the test's runfiles hold the tree: {}".format(names))
    hidden = _basenames(target[OutputGroupInfo]._hidden_top_level_INTERNAL_.to_list())
    asserts.false(env, "site-packages" in hidden, "the tree is a top-level output of the test (downloaded for nothing): {}".format(hidden))
    plan = _plan(env)
    asserts.equals(env, [["3.11", _CELL]], _records(plan, "python"))
    (tree,) = _records(plan, "tree")

    # No tree in the runfiles ("-"): the launcher reads it beside the ticket, or installs it.
    asserts.equals(env, ["-", _CELL], [tree[1], tree[2]])
    asserts.true(env, tree[0].endswith("/site-packages.ready") and tree[3].endswith("/lib_dirs.txt"), tree)
    asserts.true(env, tree[4].endswith("extract_wheels.py") and tree[5].endswith(".whl"), tree)

    # The tree's directory on PYTHONPATH is the tree record's: found once, where it lies.
    asserts.true(env, ["tree:0", "-", "-", "0"] in _records(plan, "import"), _records(plan, "import"))
    _check_bases(env, plan)
    (lib,) = _records(plan, "lib")
    asserts.true(env, lib[1].endswith("tests/starlark/testdata") and lib[2].endswith("testdata/libfake_native.so"), lib)
    asserts.equals(env, ["tests/starlark/testdata/subject.py"], [p[0].partition("/")[2] for p in _records(plan, "program")])
    return analysistest.end(env)

_test_launcher_test = analysistest.make(_test_launcher_test_impl)

def _binary_launcher_test_impl(ctx):
    env = analysistest.begin(ctx)
    target = analysistest.target_under_test(env)
    names = _basenames(target[DefaultInfo].default_runfiles.files.to_list())

    # `bazel run` stages nothing: a binary keeps the tree in its runfiles, as one entry.
    asserts.true(env, "site-packages" in names, names)
    hidden = _basenames(target[OutputGroupInfo]._hidden_top_level_INTERNAL_.to_list())
    asserts.true(env, "site-packages" in hidden, "the tree is not built with the binary: {}".format(hidden))
    (tree,) = _records(_plan(env), "tree")
    asserts.true(env, tree[1].endswith("/site-packages"), "a binary's tree is in its runfiles: {}".format(tree))
    return analysistest.end(env)

_binary_launcher_test = analysistest.make(_binary_launcher_test_impl)

def _cell_ready_test_impl(ctx):
    env = analysistest.begin(ctx)
    (ready,) = [a for a in analysistest.target_actions(env) if a.mnemonic == "TorchCellReady"]

    # The ticket's action reads the whole tree, so Bazel writes it to the disk first (that it is
    # never a cache hit, which would skip the download, test_tree_ordering.py shows).
    inputs = _basenames(ready.inputs.to_list())
    asserts.true(env, "site-packages" in inputs and "site-packages.stamp" in inputs, inputs)
    asserts.equals(env, ["site-packages.ready"], _basenames(ready.outputs.to_list()))
    info = analysistest.target_under_test(env)[TorchCellInfo]
    asserts.equals(env, ready.outputs.to_list(), [info.ready])
    return analysistest.end(env)

_cell_ready_test = analysistest.make(_cell_ready_test_impl)

# --- torch_unavailable -------------------------------------------------------------------------

def _unavailable_test_impl(ctx):
    env = analysistest.begin(ctx)
    asserts.expect_failure(env, "rules_torch: @torch has no torch for variant 'cu121' (from --@rules_torch//torch:variant)")
    asserts.expect_failure(env, "available in //:torch.lock.json: cpu_linux_x86_64_cp311")
    asserts.expect_failure(env, "lock it:\n    bazel run @rules_torch//python:lock -- --torch 2.5.1 --variants cpu,cu121 --platforms linux_x86_64")
    asserts.expect_failure(env, "--config=cpu (--@rules_torch//torch:variant=cpu)")
    return analysistest.end(env)

_unavailable_test = analysistest.make(
    _unavailable_test_impl,
    expect_failure = True,
    config_settings = {str(Label("//torch:variant")): "cu121"},
)

def _unavailable_default_test_impl(ctx):
    # The flag unset: the hub's default_variant (an attribute of the target) is what was asked.
    env = analysistest.begin(ctx)
    asserts.expect_failure(env, "rules_torch: @torch has no torch for variant 'cu118' (from the hub's default_variant)")
    asserts.expect_failure(env, "lock it:\n    bazel run @rules_torch//python:lock -- --torch 2.5.1 --variants cpu,cu118 --platforms linux_x86_64")
    return analysistest.end(env)

_unavailable_default_test = analysistest.make(_unavailable_default_test_impl, expect_failure = True)

# What relock_command reads of a lock's request.
_REQUEST = {"platforms": ["linux_x86_64"], "pythons": ["3.11"], "torch": "2.5.1", "variants": ["cpu"]}

# As the extension makes them (hub_builder.bzl): the lock command that adds what was asked.
_FIXES = fix_table(
    lambda variant, platform: "to build this combination, lock it:\n    " + relock_command(
        _REQUEST,
        variants = [variant] if variant else None,
        platforms = [platform] if platform else None,
        output = "torch.lock.json",
    ),
    variants = ["cpu"],
    platforms = ["", "linux_x86_64"],
)

# --- torch_cc_extension ------------------------------------------------------------------------

def _fake_libtorch_impl(_ctx):
    return [CcInfo(), TorchCcInfo(cell = _CELL, cuda = False, cxx_standard = "c++17", site_packages = None)]

_fake_libtorch = rule(implementation = _fake_libtorch_impl)

def _cuda_on_cpu_test_impl(ctx):
    env = analysistest.begin(ctx)
    asserts.expect_failure(env, "tests/starlark/testdata/kernel.cu is a CUDA source but @torch//:libtorch is cell {}, a CPU build".format(_CELL))
    asserts.expect_failure(env, "Build it with a CUDA variant (e.g. --config=cuda130)")
    return analysistest.end(env)

_cuda_on_cpu_test = analysistest.make(_cuda_on_cpu_test_impl, expect_failure = True)

def rules_test_suite(name):
    """Declares the subjects (manual) and the analysis tests, and a test_suite `name` of them.

    Args:
      name: the test_suite's name.
    """
    cell_tree(
        name = "fake_cell",
        cell = _CELL,
        lock = "//:torch.lock.json",
        python = "3.11",
        wheels = ["testdata/fake_torch-2.5.1-cp311-cp311-linux_x86_64.whl"],
        tags = ["manual"],
    )
    py_library(name = "fake_torch", data = [":fake_cell"], imports = ["site-packages"], tags = ["manual"])
    py_library(name = "fake_native", data = ["testdata/libfake_native.so"], tags = ["manual"])
    torch_py_library(name = "uses_torch", deps = [":fake_torch", ":fake_native"], tags = ["manual"])
    torch_py_test(name = "subject_test", srcs = ["testdata/subject.py"], main = "testdata/subject.py", deps = [":uses_torch"], tags = ["manual"])
    torch_py_binary(name = "subject_binary", srcs = ["testdata/subject.py"], main = "testdata/subject.py", deps = [":uses_torch"], tags = ["manual"])
    torch_unavailable(
        name = "subject_unavailable",
        hub = "torch",
        lock = "//:torch.lock.json",
        cells = [_CELL],
        default_variant = "cpu",
        example_config = "cpu",
        example_variant = "cpu",
        fixes = _FIXES,
        tags = ["manual"],
    )
    torch_unavailable(
        name = "subject_unavailable_default",
        hub = "torch",
        lock = "//:torch.lock.json",
        cells = [_CELL],
        default_variant = "cu118",
        example_config = "cpu",
        example_variant = "cpu",
        fixes = _FIXES,
        tags = ["manual"],
    )
    _fake_libtorch(name = "fake_libtorch", tags = ["manual"])
    torch_cc_extension_rule(name = "subject_cuda_on_cpu", srcs = ["testdata/kernel.cu"], libtorch = ":fake_libtorch", tags = ["manual"])

    _aspect_test(name = name + "_aspect", target_under_test = ":uses_torch")
    _cell_ready_test(name = name + "_cell_ready", target_under_test = ":fake_cell")
    _test_launcher_test(name = name + "_test_launcher", target_under_test = ":subject_test")
    _binary_launcher_test(name = name + "_binary_launcher", target_under_test = ":subject_binary")
    _unavailable_test(name = name + "_unavailable", target_under_test = ":subject_unavailable")
    _unavailable_default_test(name = name + "_unavailable_default", target_under_test = ":subject_unavailable_default")
    _cuda_on_cpu_test(name = name + "_cuda_on_cpu", target_under_test = ":subject_cuda_on_cpu")
    native.test_suite(name = name, tests = [
        name + "_aspect",
        name + "_cell_ready",
        name + "_test_launcher",
        name + "_binary_launcher",
        name + "_unavailable",
        name + "_unavailable_default",
        name + "_cuda_on_cpu",
    ])
