"""Unit tests of the torch extension's pure part (parse_modules): its plan, and its errors, with
the I/O (the lock files, uv.lock's digest, the driver probe) given as functions."""

load("@bazel_skylib//lib:unittest.bzl", "asserts", "unittest")

# buildifier: disable=bzl-visibility
load("//torch/private/extension:extension.bzl", "parse_modules")

_LOCK_LABEL = Label("//tests/locks:torch_cpu.lock.json")

def _wheel(name, version = "1.0"):
    filename = "{}-{}-py3-none-any.whl".format(name, version)
    return {"extras": [], "filename": filename, "name": name, "sha256": "0" * 64, "url": "https://example.com/" + filename, "version": version}

def _cell(variant):
    return {"platform": "linux_x86_64", "python": "3.11", "variant": variant, "wheels": [_wheel("filelock"), _wheel("torch", "2.5.1+" + variant)]}

_LOCK = {
    "cells": {"cpu_linux_x86_64_cp311": _cell("cpu"), "cu121_linux_x86_64_cp311": _cell("cu121")},
    "request": {"extra_index_urls": [], "find_links": [], "index_url": "", "platforms": ["linux_x86_64"], "pythons": ["3.11"], "torch": "2.5.1", "torchaudio": None, "torchvision": None, "variants": ["cpu", "cu121"]},
    "schema_version": 1,
}

def _tag(hub = "torch", dev = False, **kwargs):
    attrs = dict(
        compile_pyc = True,
        default_variant = "cpu",
        extra_locks = [],
        hub = hub,
        lock = _LOCK_LABEL,
        pip_deps = None,
        platforms = [],
        python_interpreter_target = None,
        python_version = "",
        torch_version = "",
        uv_lock = None,
        pylock = [],
        variants = [],
        dev = dev,
    )
    attrs.update(kwargs)
    return struct(**attrs)

def _module(name, is_root, wheels = [], from_pip = [], remote_execution = []):
    return struct(name = name, is_root = is_root, tags = struct(wheels = wheels, from_pip = from_pip, remote_execution = remote_execution))

def _plan(modules, driver = "", lock = _LOCK, locks = {}, uv_lock_sha256 = None, missing = []):
    """parse_modules on `modules`, with its I/O from the arguments.

    Locks are read from `locks` (label -> lock) else `lock`, labels in `missing` do not exist,
    uv.lock's digest is `uv_lock_sha256`, the NVIDIA driver is `driver`.
    """
    io = struct(
        read_file = lambda label: None if label in missing else json.encode(locks.get(label, lock)),
        file_sha256 = lambda label, _output: None if label in missing else uv_lock_sha256,
        driver_version = lambda: driver,
    )
    return parse_modules(struct(modules = modules, is_dev_dependency = lambda tag: tag.dev), io)

def _repos(plan, rule):
    return {kwargs["name"]: kwargs for rule_name, kwargs in plan.repos if rule_name == rule}

def _spokes_and_hub_test(ctx):
    env = unittest.begin(ctx)
    plan = _plan([_module("app", True, wheels = [_tag()])])
    spokes = _repos(plan, "spoke")
    asserts.equals(env, ["torch__cpu_linux_x86_64_cp311", "torch__cu121_linux_x86_64_cp311"], sorted(spokes))
    cpu = spokes["torch__cpu_linux_x86_64_cp311"]
    asserts.equals(env, "cpu_linux_x86_64_cp311", cpu["cell"])
    asserts.equals(env, "3.11", cpu["python"])
    asserts.equals(env, str(_LOCK_LABEL), cpu["lock_source"])
    asserts.equals(env, [], cpu["deps"])
    filenames = ["filelock-1.0-py3-none-any.whl", "torch-2.5.1+cpu-py3-none-any.whl"]
    asserts.equals(env, {f: "https://example.com/" + f for f in filenames}, cpu["urls"])
    asserts.equals(env, {f: "0" * 64 for f in filenames}, cpu["sha256s"])
    asserts.equals(env, "@torch__cpu_linux_x86_64_cp311//:_wheels/torch-2.5.1+cpu-py3-none-any.whl", _repos(plan, "libtorch")["torch__cpu_linux_x86_64_cp311__libtorch"]["wheel"])
    asserts.equals(env, ["torch"], sorted(_repos(plan, "hub")))
    asserts.equals(env, ["torch"], plan.root_deps)
    asserts.equals(env, [], plan.root_dev_deps)
    asserts.true(env, plan.reproducible)
    return unittest.end(env)

def _non_root_and_dev_test(ctx):
    env = unittest.begin(ctx)
    plan = _plan([
        _module("app", True, wheels = [_tag(hub = "torch_dev", dev = True)]),
        _module("lib", False, wheels = [_tag()]),
    ])
    asserts.equals(env, ["lib__torch", "torch_dev"], sorted(_repos(plan, "hub")))
    asserts.true(env, "lib__torch__cpu_linux_x86_64_cp311" in _repos(plan, "spoke"))
    asserts.equals(env, [], plan.root_deps)
    asserts.equals(env, ["torch_dev"], plan.root_dev_deps)
    return unittest.end(env)

def _pip_deps_test(ctx):
    env = unittest.begin(ctx)
    plan = _plan([_module("app", True, wheels = [_tag(pip_deps = Label("@@pypi//:BUILD.bazel"))])])
    cpu = _repos(plan, "spoke")["torch__cpu_linux_x86_64_cp311"]
    asserts.equals(env, ["@@pypi//filelock"], cpu["deps"])
    asserts.equals(env, ["torch-2.5.1+cpu-py3-none-any.whl"], cpu["urls"].keys())
    return unittest.end(env)

def _auto_reads_the_host_test(ctx):
    env = unittest.begin(ctx)
    plan = _plan([_module("app", True, wheels = [_tag(default_variant = "auto")])], driver = "580.65.06")
    asserts.false(env, plan.reproducible)
    return unittest.end(env)

def _from_pip_test(ctx):
    env = unittest.begin(ctx)
    tag = struct(hub = "torch", default_variant = "cpu", packages = ["torch"], variants = {"cpu": Label("@@pypi_cpu//:BUILD.bazel")}, dev = False)
    plan = _plan([_module("app", True, from_pip = [tag])])
    asserts.equals(env, {"torch": {
        "default_variant": "cpu",
        "hub": "torch",
        "name": "torch",
        "packages": ["torch"],
        "shown": {"cpu": "@@pypi_cpu"},
        "variants": {"cpu": "pypi_cpu"},
    }}, _repos(plan, "pip_hub"))
    asserts.equals(env, ["torch"], plan.root_deps)
    return unittest.end(env)

def _remote_execution_test(ctx):
    env = unittest.begin(ctx)

    # The extension makes no settings repository: the plan holds the hubs and spokes only.
    plan = _plan([_module("app", True, wheels = [_tag()])])
    asserts.equals(env, ["hub", "libtorch", "spoke"], sorted({kind: 1 for kind, _ in plan.repos}.keys()))

    # The removed tag fails on the root module with its replacement, the tag's properties filled
    # in; a library's tag is ignored (execution settings are the workspace's).
    remote = struct(gpu_exec_properties = {"Pool": "gpu", "container-image": "docker://gpu"}, gpu_tag = "gpu")
    plan = _plan([_module("app", True, remote_execution = [remote])])
    _error(env, plan, "rules_torch: torch.remote_execution is gone: GPU tests now reach GPU workers through an execution platform")
    _error(env, plan, '    exec_properties = {"Pool": "gpu", "container-image": "docker://gpu"},')
    _error(env, plan, '    constraint_values = ["@rules_torch//torch/platforms:gpu"],')
    _error(env, plan, "build:remote --extra_execution_platforms=@platforms//host,//:gpu_workers\nbuild:remote --@rules_torch//torch:route_gpu_tests")
    _error(env, plan, 'Tests tagged "gpu" are not routed by that tag any more')
    default = _plan([_module("app", True, remote_execution = [struct(gpu_exec_properties = {}, gpu_tag = "requires-gpu")])])
    _error(env, default, '    exec_properties = {"Pool": "gpu"},')
    asserts.false(env, "not routed by that tag" in default.error)
    plan = _plan([
        _module("app", True, wheels = [_tag()]),
        _module("lib", False, remote_execution = [remote]),
    ])
    asserts.equals(env, None, plan.error)
    return unittest.end(env)

def _extra_locks_test(ctx):
    env = unittest.begin(ctx)
    cu130 = Label("//tests/locks:cu130.lock.json")
    cell = dict(_cell("cu130"), wheels = [_wheel("torch", "2.14.1")])
    locks = {cu130: {
        "cells": {"cu130_linux_x86_64_cp311": cell},
        "request": {"extra_index_urls": [], "find_links": [], "index_url": "https://pypi.org/simple", "platforms": ["linux_x86_64"], "pythons": ["3.11"], "torch": "2.14.1", "torchaudio": None, "torchvision": None, "variants": ["cu130"]},
        "schema_version": 1,
    }}
    plan = _plan([_module("app", True, wheels = [_tag(extra_locks = [cu130])])], locks = locks)
    spokes = _repos(plan, "spoke")
    asserts.equals(env, ["torch__cpu_linux_x86_64_cp311", "torch__cu121_linux_x86_64_cp311", "torch__cu130_linux_x86_64_cp311"], sorted(spokes))

    # Each spoke knows the lock it comes from and that lock's command.
    asserts.equals(env, str(_LOCK_LABEL), spokes["torch__cpu_linux_x86_64_cp311"]["lock_source"])
    asserts.true(env, "--torch 2.5.1 " in spokes["torch__cpu_linux_x86_64_cp311"]["relock"])
    extra = spokes["torch__cu130_linux_x86_64_cp311"]
    asserts.equals(env, str(cu130), extra["lock_source"])
    asserts.true(env, "--torch 2.14.1 " in extra["relock"], extra["relock"])
    asserts.true(env, extra["relock"].endswith("--index-url https://pypi.org/simple --extra-index-url '' --output tests/locks/cu130.lock.json"), extra["relock"])

    # The no-match message lists both locks; a missing platform of cu130 re-locks the extra lock.
    hub = _repos(plan, "hub")["torch"]["build_file_content"]
    asserts.true(env, str(cu130) in hub)
    asserts.true(env, "--torch 2.14.1 --variants cu130 --platforms linux_x86_64,{platform}" in hub, hub)
    return unittest.end(env)

extra_locks_test = unittest.make(_extra_locks_test)

def _uv_lock_test(ctx):
    env = unittest.begin(ctx)
    lock = dict(_LOCK)
    lock["request"] = dict(_LOCK["request"], from_uv = {"args": ["--from-uv", "uv.lock"], "extras": {}, "uv_lock": "uv.lock", "uv_lock_sha256": "a" * 64})
    tag = _tag(uv_lock = Label("//:uv.lock"))
    plan = _plan([_module("app", True, wheels = [tag])], lock = lock, uv_lock_sha256 = "a" * 64)
    asserts.equals(env, ["torch"], sorted(_repos(plan, "hub")))
    return unittest.end(env)

def _error(env, plan, *fragments):
    asserts.equals(env, [], plan.repos, "a plan that fails declares nothing")
    for fragment in fragments:
        asserts.true(env, fragment in (plan.error or ""), "expected {} in the error: {}".format(repr(fragment), plan.error))

def _errors_test(ctx):
    env = unittest.begin(ctx)
    asserts.equals(env, None, _plan([_module("app", True, wheels = [_tag()])]).error)
    _error(
        env,
        _plan([_module("app", True, wheels = [_tag()])], missing = [_LOCK_LABEL]),
        "rules_torch: lock file {} does not exist. Create it with the lock tool:".format(_LOCK_LABEL),
        "bazel run @rules_torch//python:lock -- ",
    )
    _error(env, _plan([_module("app", True, wheels = [_tag()])], lock = {"cells": {}}), "has schema_version None, but this rules_torch reads schema_version 1", "Regenerate it with the lock tool: bazel run")
    _error(
        env,
        _plan([_module("app", True, wheels = [_tag(), _tag()])]),
        "rules_torch: module 'app' has two torch.wheels tags with hub = \"torch\"; give each hub its own name.",
    )
    _error(
        env,
        _plan([_module("app", True, wheels = [_tag()], from_pip = [struct(hub = "torch", dev = False, variants = {"cpu": Label("@@pypi_cpu//:BUILD.bazel")}, default_variant = "", packages = ["torch"])])]),
        "rules_torch: module 'app' has two torch tags with hub = \"torch\"",
    )
    _error(
        env,
        _plan([_module("app", True, wheels = [_tag(default_variant = "cu130")])]),
        "rules_torch: hub 'torch': default_variant 'cu130' is not in lock",
        "(locked variants: cpu, cu121). Lock it with:",
        "--variants cpu,cu121,cu130",
    )
    _error(
        env,
        _plan([_module("app", True, wheels = [_tag(extra_locks = [_LOCK_LABEL])])]),
        "names lock {} twice (lock and extra_locks)".format(_LOCK_LABEL),
    )
    _error(
        env,
        _plan([_module("app", True, from_pip = [struct(hub = "torch", dev = False, variants = {}, default_variant = "", packages = ["torch"])])]),
        "torch.from_pip(hub = \"torch\") maps no variant",
    )
    uv_lock = Label("//:uv.lock")
    _error(
        env,
        _plan([_module("app", True, wheels = [_tag(uv_lock = uv_lock)])], missing = [uv_lock]),
        "rules_torch: uv_lock {} does not exist; create it with `uv lock`".format(uv_lock),
    )
    return unittest.end(env)

errors_test = unittest.make(_errors_test)
spokes_and_hub_test = unittest.make(_spokes_and_hub_test)
uv_lock_test = unittest.make(_uv_lock_test)

def _pylock_test(ctx):
    env = unittest.begin(ctx)
    lock = dict(_LOCK)
    lock["request"] = dict(_LOCK["request"], from_pylock = {
        "args": ["--from-pylock", "pylock.cpu.toml", "--from-pylock", "pylock.cu121.toml"],
        "files": {"pylock.cpu.toml": "a" * 64, "pylock.cu121.toml": "a" * 64},
    })
    files = [Label("//:pylock.cpu.toml"), Label("//:pylock.cu121.toml")]
    fresh = _plan([_module("app", True, wheels = [_tag(pylock = files)])], lock = lock, uv_lock_sha256 = "a" * 64)
    asserts.equals(env, None, fresh.error)
    asserts.equals(env, ["torch"], sorted(_repos(fresh, "hub")))
    _error(
        env,
        _plan([_module("app", True, wheels = [_tag(pylock = files)])], lock = lock, uv_lock_sha256 = "b" * 64),
        "is stale: {} changed since it was imported (sha256 {}, now {}). Re-import it with:".format(files[0], "a" * 64, "b" * 64),
        "bazel run @rules_torch//python:lock -- --from-pylock pylock.cpu.toml --from-pylock pylock.cu121.toml --output tests/locks/torch_cpu.lock.json",
    )
    _error(
        env,
        _plan([_module("app", True, wheels = [_tag(pylock = files)])], uv_lock_sha256 = "a" * 64),
        "was not imported from pylock.toml files, but its torch.wheels tag sets pylock",
        "--from-pylock pylock.cpu.toml --from-pylock pylock.cu121.toml --output tests/locks/torch_cpu.lock.json",
    )
    _error(
        env,
        _plan([_module("app", True, wheels = [_tag(pylock = files)])], lock = lock, uv_lock_sha256 = "a" * 64, missing = [files[1]]),
        "rules_torch: pylock {} does not exist".format(files[1]),
    )
    return unittest.end(env)

pylock_test = unittest.make(_pylock_test)
remote_execution_test = unittest.make(_remote_execution_test)
non_root_and_dev_test = unittest.make(_non_root_and_dev_test)
pip_deps_test = unittest.make(_pip_deps_test)
auto_reads_the_host_test = unittest.make(_auto_reads_the_host_test)
from_pip_test = unittest.make(_from_pip_test)

def extension_test_suite(name):
    unittest.suite(name, errors_test, spokes_and_hub_test, extra_locks_test, remote_execution_test, non_root_and_dev_test, pip_deps_test, auto_reads_the_host_test, from_pip_test, uv_lock_test, pylock_test)
