"""Unit tests of a torch.wheels hub's plan (torch/private/extension/hub_builder.bzl), step by step,
on locks given as JSON objects and I/O given as functions."""

load("@bazel_skylib//lib:unittest.bzl", "asserts", "unittest")

# buildifier: disable=bzl-visibility
load("//torch/private/contracts:labels.bzl", "spoke_source")

# buildifier: disable=bzl-visibility
load("//torch/private/contracts:no_match.bzl", "fix_line")

# buildifier: disable=bzl-visibility
load(
    "//torch/private/extension:hub_builder.bzl",
    "cell_repos",
    "default_python",
    "default_variant",
    "hub_no_match",
    "hub_packages",
    "lock_error",
    "lock_file",
    "merge_cells",
    "no_match_fixes",
    "plan_wheels_hub",
    "read_locks",
    "repo_prefix",
    "selection",
    "spoke_name",
)

# buildifier: disable=bzl-visibility
load("//torch/private/lock:lock.bzl", "parse_lock", "relock_command")

_MAIN = Label("//third_party:torch.lock.json")
_EXTRA = Label("//third_party:cu130.lock.json")
_SHA = "0" * 64

def _wheel(name, version = "1.0"):
    filename = "{}-{}-py3-none-any.whl".format(name, version)
    return {"extras": [], "filename": filename, "name": name, "sha256": _SHA, "url": "https://example.com/" + filename, "version": version}

def _cell(variant, platform = "linux_x86_64", python = "3.11", names = ["filelock", "torch"]):
    return {"platform": platform, "python": python, "variant": variant, "wheels": [_wheel(n, "2.5.1+" + variant if n == "torch" else "1.0") for n in names]}

def _request(**fields):
    request = {
        "extra_index_urls": ["https://pypi.org/simple"],
        "find_links": [],
        "index_url": "https://download.pytorch.org/whl/{variant}",
        "platforms": ["linux_x86_64"],
        "pythons": ["3.11"],
        "torch": "2.5.1",
        "torchaudio": None,
        "torchvision": None,
        "variants": ["cpu", "cu121"],
    }
    request.update(fields)
    return request

def _lock(cells, **request):
    """A lock's JSON object: `cells` a list of _cell."""
    return {
        "cells": {"{}_{}_cp{}".format(c["variant"], c["platform"], c["python"].replace(".", "")): c for c in cells},
        "request": _request(**request),
        "schema_version": 1,
    }

_MAIN_LOCK = _lock([_cell("cpu"), _cell("cu121")])

def _io(locks = {}, digests = {}, driver = ""):
    """plan_io's struct: lock files from `locks` (label -> JSON object), sha256s from `digests`."""
    return struct(
        read_file = lambda label: json.encode(locks[label]) if label in locks else None,
        file_sha256 = lambda label, _output: digests.get(label),
        driver_version = lambda: driver,
    )

def _tag(**kwargs):
    attrs = dict(
        compile_pyc = True,
        default_variant = "cpu",
        extra_locks = [],
        hub = "torch",
        lock = _MAIN,
        pip_deps = None,
        platforms = [],
        python_interpreter_target = None,
        python_version = "",
        pylock = [],
        torch_version = "",
        uv_lock = None,
        variants = [],
    )
    attrs.update(kwargs)
    return struct(**attrs)

_ROOT = struct(name = "app", is_root = True)

def _file(data, label = _MAIN):
    parsed = parse_lock(json.encode(data), str(label))
    if parsed.error:
        fail(parsed.error)
    return lock_file(label, parsed.lock)

def _merged(*files):
    merged = merge_cells("torch", list(files))
    if merged.error:
        fail(merged.error)
    return merged

def _read_locks_test(ctx):
    env = unittest.begin(ctx)
    read = read_locks(_io({_MAIN: _MAIN_LOCK, _EXTRA: _lock([_cell("cu130")])}), _tag(extra_locks = [_EXTRA]))
    asserts.equals(env, None, read.error)
    asserts.equals(env, [_MAIN, _EXTRA], [f.label for f in read.files])
    main = read.files[0]
    asserts.equals(env, (str(_MAIN), "third_party/torch.lock.json"), (main.source, main.output))
    asserts.equals(env, relock_command(_MAIN_LOCK["request"], output = "third_party/torch.lock.json"), main.relock)
    asserts.equals(env, ["cpu_linux_x86_64_cp311", "cu121_linux_x86_64_cp311"], sorted(main.lock.cells))

    asserts.equals(
        env,
        "rules_torch: hub 'torch' names lock {} twice (lock and extra_locks).".format(_MAIN),
        read_locks(_io({_MAIN: _MAIN_LOCK}), _tag(extra_locks = [_MAIN])).error,
    )
    missing = read_locks(_io({_MAIN: _MAIN_LOCK}), _tag(extra_locks = [_EXTRA])).error
    asserts.equals(env, "rules_torch: lock file {} does not exist. Create it with the lock tool:\n  {}".format(_EXTRA, relock_command({}, output = "third_party/cu130.lock.json")), missing)
    bad = read_locks(_io({_MAIN: {"cells": {}}}), _tag()).error
    asserts.true(env, "{} has schema_version None".format(_MAIN) in bad, bad)
    return unittest.end(env)

def _merge_cells_test(ctx):
    env = unittest.begin(ctx)
    main, extra = _file(_MAIN_LOCK), _file(_lock([_cell("cu130")], torch = "2.14.1", variants = ["cu130"]), _EXTRA)
    merged = _merged(main, extra)
    asserts.equals(env, ["cpu_linux_x86_64_cp311", "cu121_linux_x86_64_cp311", "cu130_linux_x86_64_cp311"], sorted(merged.lock.cells))
    asserts.equals(env, main.lock.request, merged.lock.request)
    asserts.equals(env, {"cpu_linux_x86_64_cp311": _MAIN, "cu121_linux_x86_64_cp311": _MAIN, "cu130_linux_x86_64_cp311": _EXTRA}, {k: f.label for k, f in merged.origin.items()})

    # A cell in two locks: re-lock the second one without its variant.
    twice = merge_cells("torch", [main, _file(_lock([_cell("cu121")], variants = ["cu121", "cu130"]), _EXTRA)])
    asserts.equals(env, (
        "rules_torch: hub 'torch': cell cu121_linux_x86_64_cp311 is locked in both {} and {}; each cell (variant, platform, Python) " +
        "must come from one lock. Re-lock one of them without it:\n  bazel run @rules_torch//python:lock -- --torch 2.5.1 --variants cu130 " +
        "--platforms linux_x86_64 --python 3.11 --index-url 'https://download.pytorch.org/whl/{{variant}}' --extra-index-url https://pypi.org/simple " +
        "--output third_party/cu130.lock.json"
    ).format(_MAIN, _EXTRA), twice.error)
    return unittest.end(env)

def _default_python_test(ctx):
    env = unittest.begin(ctx)
    one = _merged(_file(_MAIN_LOCK)).lock.cells
    asserts.equals(env, struct(python = "3.11", error = None), default_python(_tag(), one))
    two = _merged(_file(_lock([_cell("cpu"), _cell("cpu", python = "3.10")], pythons = ["3.10", "3.11"]))).lock.cells
    asserts.equals(env, struct(python = "3.10", error = None), default_python(_tag(python_version = "3.10"), two))
    asserts.equals(env, (
        "rules_torch: lock {} has cells for Python 3.10, 3.11; set python_version on the torch.wheels tag of hub 'torch' " +
        "to the default one (the others are selected by --@rules_python//python/config_settings:python_version)."
    ).format(_MAIN), default_python(_tag(), two).error)
    return unittest.end(env)

def _lock_error_test(ctx):
    env = unittest.begin(ctx)
    main = _file(_MAIN_LOCK)
    lock = _merged(main).lock
    asserts.equals(env, None, lock_error(_io(), _ROOT, _tag(variants = ["cpu"], torch_version = "2.5.1"), [main], lock, "3.11"))

    # The tag asks for more than the locks have, or for another torch than an extra lock's.
    stale = lock_error(_io(), _ROOT, _tag(variants = ["cu130"]), [main], lock, "3.11")
    asserts.true(env, stale.startswith("rules_torch: lock file {} is stale: the torch.wheels tag asks for variants cu130 (locked: cpu, cu121)".format(_MAIN)), stale)
    extra = _file(_lock([_cell("cu130")], torch = "2.14.1", variants = ["cu130"]), _EXTRA)
    stale = lock_error(_io(), _ROOT, _tag(torch_version = "2.5.1"), [main, extra], _merged(main, extra).lock, "3.11")
    asserts.true(env, stale.startswith("rules_torch: lock file {} is stale: the torch.wheels tag asks for torch 2.5.1 (locked: 2.14.1)".format(_EXTRA)), stale)

    # The uv.lock and pylock.toml files the tag names: missing, or not what the lock was made from.
    uv_lock = Label("//:uv.lock")
    asserts.equals(
        env,
        "rules_torch: uv_lock {} does not exist; create it with `uv lock` in the project's directory.".format(uv_lock),
        lock_error(_io(), _ROOT, _tag(uv_lock = uv_lock), [main], lock, "3.11"),
    )
    not_imported = lock_error(_io(digests = {uv_lock: "a" * 64}), _ROOT, _tag(uv_lock = uv_lock), [main], lock, "3.11")
    asserts.true(env, "was not imported from a uv.lock, but its torch.wheels tag sets uv_lock" in not_imported, not_imported)
    pylock = Label("//:pylock.cpu.toml")
    asserts.equals(
        env,
        "rules_torch: pylock {} does not exist; create it with `uv pip compile ... --format pylock.toml -o FILE` or `pip lock -o FILE`.".format(pylock),
        lock_error(_io(), _ROOT, _tag(pylock = [pylock]), [main], lock, "3.11"),
    )
    return unittest.end(env)

def _default_variant_test(ctx):
    env = unittest.begin(ctx)
    main = _file(_MAIN_LOCK)
    asserts.equals(env, struct(variant = "cpu", error = None), default_variant(_io(), _tag(), ["cpu", "cu121"], main))
    asserts.equals(env, struct(variant = "", error = None), default_variant(_io(), _tag(default_variant = ""), ["cpu", "cu121"], main))
    asserts.equals(env, struct(variant = "cu121", error = None), default_variant(_io(driver = "580.65.06"), _tag(default_variant = "auto"), ["cpu", "cu121"], main))
    asserts.equals(env, struct(variant = "cpu", error = None), default_variant(_io(), _tag(default_variant = "auto"), ["cpu", "cu121"], main))
    asserts.equals(env, (
        "rules_torch: hub 'torch': default_variant 'cu130' is not in lock {} (locked variants: cpu, cu121). Lock it with:\n  " +
        "bazel run @rules_torch//python:lock -- --torch 2.5.1 --variants cpu,cu121,cu130 --platforms linux_x86_64 --python 3.11 " +
        "--index-url 'https://download.pytorch.org/whl/{{variant}}' --extra-index-url https://pypi.org/simple --output third_party/torch.lock.json"
    ).format(_MAIN), default_variant(_io(), _tag(default_variant = "cu130"), ["cpu", "cu121"], main).error)
    return unittest.end(env)

def _names_test(ctx):
    env = unittest.begin(ctx)
    asserts.equals(env, "torch", repo_prefix(_ROOT, _tag()))
    asserts.equals(env, "lib__torch", repo_prefix(struct(name = "lib", is_root = False), _tag()))
    asserts.equals(env, "torch__cpu_linux_x86_64_cp311", spoke_name("torch", "cpu_linux_x86_64_cp311"))
    asserts.equals(env, "torch__rocm6_2_linux_x86_64_cp311", spoke_name("torch", "rocm6.2_linux_x86_64_cp311"))
    return unittest.end(env)

def _cell_repos_test(ctx):
    env = unittest.begin(ctx)
    main = _file(_MAIN_LOCK)
    cell = main.lock.cells["cpu_linux_x86_64_cp311"]
    filenames = ["filelock-1.0-py3-none-any.whl", "torch-2.5.1+cpu-py3-none-any.whl"]
    asserts.equals(env, [
        ("spoke", {
            "cell": "cpu_linux_x86_64_cp311",
            "compile_pyc": True,
            "deps": [],
            "lock_source": str(_MAIN),
            "name": "torch__cpu",
            "python": "3.11",
            "python_interpreter_target": None,
            "relock": main.relock,
            # Typed attributes, in the lock's order (the order the tree installs them in).
            "sha256s": {f: _SHA for f in filenames},
            "urls": {f: "https://example.com/" + f for f in filenames},
        }),
        ("libtorch", {
            "cell": "cpu_linux_x86_64_cp311",
            "lock_source": str(_MAIN),
            "name": "torch__cpu__libtorch",
            "relock": main.relock,
            "wheel": "@torch__cpu//:_wheels/torch-2.5.1+cpu-py3-none-any.whl",
        }),
    ], cell_repos(_tag(), "torch__cpu", cell, main))

    # With pip_deps, the pure-Python wheels are the user's pip hub's packages; torch's are wheels.
    spoke = cell_repos(_tag(pip_deps = Label("@@pypi//:BUILD.bazel")), "torch__cpu", cell, main)[0][1]
    asserts.equals(env, ["@@pypi//filelock"], spoke["deps"])
    asserts.equals(env, ["torch-2.5.1+cpu-py3-none-any.whl"], spoke["urls"].keys())
    asserts.equals(env, ["torch-2.5.1+cpu-py3-none-any.whl"], spoke["sha256s"].keys())
    return unittest.end(env)

def _selection_test(ctx):
    env = unittest.begin(ctx)
    cells = _merged(_file(_lock([_cell("cpu"), _cell("cu121"), _cell("cpu", python = "3.10"), _cell("cpu", platform = "linux_aarch64")]))).lock.cells
    asserts.equals(env, struct(
        spokes = {
            "cpu|linux_aarch64": spoke_source("torch__cpu_linux_aarch64_cp311"),
            "cpu|linux_x86_64": spoke_source("torch__cpu_linux_x86_64_cp311"),
            "cu121|linux_x86_64": spoke_source("torch__cu121_linux_x86_64_cp311"),
        },
        other_pythons = {"3.10": {"cpu|linux_x86_64": spoke_source("torch__cpu_linux_x86_64_cp310")}},
    ), selection("torch", cells, "3.11"))
    return unittest.end(env)

def _hub_packages_test(ctx):
    env = unittest.begin(ctx)
    cells = _merged(_file(_lock([_cell("cpu", names = ["filelock", "torch", "triton", "torchvision"])]))).lock.cells
    asserts.equals(env, ["torch", "torchvision", "triton"], hub_packages(cells))
    return unittest.end(env)

def _hub_no_match_test(ctx):
    env = unittest.begin(ctx)
    main = _file(_lock([_cell("cpu"), _cell("cu121"), _cell("cpu", python = "3.10")]))
    chosen = selection("torch", _merged(main).lock.cells, "3.11")
    asserts.equals(env, {
        "cells": ["cpu on linux_x86_64", "cu121 on linux_x86_64", "cpu on linux_x86_64 (Python 3.10)"],
        "example_config": "cuda121",
        "example_variant": "cu121",
        "hub": "torch",
        "lock": str(_MAIN),
    }, hub_no_match(_tag(), [main], chosen, "cu121"))
    return unittest.end(env)

# What fix lines are asked for: variants and platforms a lock knows, and others (the flag takes
# any string: "my{variant}" is checked on its own, as no variant is a word a shell must quote).
_ASKED_VARIANTS = ["", "cpu", "cu121", "cu130", "rocm6.2"]
_ASKED_PLATFORMS = ["", "linux_x86_64", "linux_aarch64", "macos_arm64", "macos_x86_64", "windows_amd64", "windows_aarch64"]

def _expect_relock(env, files, default, python, lines):
    """Every fix line of the hub is the lock command for the cell asked for, as lock.bzl writes it.

    `lines` (variant, platform, python) -> the expected line checks some whole.
    """
    merged = _merged(*files)
    fixes = no_match_fixes(files, merged.lock.cells, merged.origin, python, default)
    by_variant = {merged.lock.cells[k].variant: f for k, f in merged.origin.items() if f.label != files[0].label}
    for shown in fixes:
        cells = {(c.variant, c.platform): True for c in merged.lock.cells.values() if c.python == (shown or python)}
        for variant in _ASKED_VARIANTS if not default else _ASKED_VARIANTS[1:]:
            for platform in _ASKED_PLATFORMS:
                if (variant, platform) in cells:
                    continue  # the hub has it: its no-match target never sees it
                file = by_variant.get(variant, files[0])
                want = "to build this combination, lock it:\n    " + relock_command(
                    file.lock.request,
                    variants = [variant] if variant else None,
                    platforms = [platform] if platform else None,
                    pythons = [shown] if shown else None,
                    output = file.output,
                )
                asserts.equals(env, want, fix_line(fixes[shown], variant, platform), "{} on {} for Python {}".format(repr(variant), repr(platform), repr(shown)))
    for (variant, platform, shown), line in lines.items():
        asserts.equals(env, line, fix_line(fixes[shown], variant, platform))
    return fixes

def _no_match_fixes_test(ctx):
    """The hub's fix lines are the lock command for what was asked, whatever was asked.

    The index URL's `{variant}` stays as the lock has it (a fix once substituted it everywhere:
    cpu wheels from the cu121 index), each platform is listed once, and lists are sorted as the
    lock tool sorts them.
    """
    env = unittest.begin(ctx)
    main = _file(_lock([_cell("cpu")], variants = ["cpu"]))
    fixes = _expect_relock(env, [main], "cpu", "3.11", {
        ("cu121", "linux_x86_64", ""): "to build this combination, lock it:\n    bazel run @rules_torch//python:lock -- --torch 2.5.1 --variants cpu,cu121 --platforms linux_x86_64 --python 3.11 --index-url 'https://download.pytorch.org/whl/{variant}' --extra-index-url https://pypi.org/simple --output third_party/torch.lock.json",
        ("cpu", "linux_aarch64", ""): "to build this combination, lock it:\n    bazel run @rules_torch//python:lock -- --torch 2.5.1 --variants cpu --platforms linux_aarch64,linux_x86_64 --python 3.11 --index-url 'https://download.pytorch.org/whl/{variant}' --extra-index-url https://pypi.org/simple --output third_party/torch.lock.json",
        # A value no variant is stands as asked, where a variant sorting after the lock's would.
        ("my{variant}", "linux_x86_64", ""): "to build this combination, lock it:\n    bazel run @rules_torch//python:lock -- --torch 2.5.1 --variants cpu,my{variant} --platforms linux_x86_64 --python 3.11 --index-url 'https://download.pytorch.org/whl/{variant}' --extra-index-url https://pypi.org/simple --output third_party/torch.lock.json",
    })

    # Only the lines the table cannot make from others: a variant or platform the lock has, or one
    # that sorts before the lock's (linux_aarch64).
    asserts.equals(env, {"": ["*|", "*|*", "*|linux_aarch64", "*|linux_x86_64", "cpu|", "cpu|*", "cpu|linux_aarch64"]}, {p: t.keys() for p, t in fixes.items()})
    asserts.equals(env, "to build this combination, lock it:\n    bazel run @rules_torch//python:lock -- --torch 2.5.1 --variants cpu,{variant} --platforms linux_x86_64,{platform} --python 3.11 --index-url 'https://download.pytorch.org/whl/{{variant}}' --extra-index-url https://pypi.org/simple --output third_party/torch.lock.json", fixes[""]["*|*"])

    # No default variant: a build may ask for none.
    _expect_relock(env, [main], "", "3.11", {})

    # Two Pythons: the other one's target adds its Python (a request that lists it already has it).
    _expect_relock(env, [_file(_lock([_cell("cpu"), _cell("cu121", python = "3.10")], pythons = ["3.11"]))], "cpu", "3.11", {
        ("cpu", "linux_x86_64", "3.10"): "to build this combination, lock it:\n    bazel run @rules_torch//python:lock -- --torch 2.5.1 --variants cpu,cu121 --platforms linux_x86_64 --python 3.10,3.11 --index-url 'https://download.pytorch.org/whl/{variant}' --extra-index-url https://pypi.org/simple --output third_party/torch.lock.json",
    })

    # A variant of an extra lock re-locks that lock.
    extra = _file(_lock([_cell("cu130")], torch = "2.14.1", variants = ["cu130"], index_url = "https://pypi.org/simple", extra_index_urls = []), _EXTRA)
    _expect_relock(env, [_file(_MAIN_LOCK), extra], "cpu", "3.11", {
        ("cu130", "linux_aarch64", ""): "to build this combination, lock it:\n    bazel run @rules_torch//python:lock -- --torch 2.14.1 --variants cu130 --platforms linux_aarch64,linux_x86_64 --python 3.11 --index-url https://pypi.org/simple --extra-index-url '' --output third_party/cu130.lock.json",
    })

    # Imported locks: the re-import, after `uv lock` when something must be added.
    from_uv = {"args": ["--from-uv", "uv.lock", "--platforms", "linux_x86_64"], "extras": {"cpu": "cpu", "cu121": "gpu"}, "uv_lock": "uv.lock", "uv_lock_sha256": "a" * 64}
    imported = _file(_lock([_cell("cpu"), _cell("cu121")], torch = None, index_url = "", extra_index_urls = [], from_uv = from_uv))
    _expect_relock(env, [imported], "cpu", "3.11", {
        ("cu121", "", ""): "to build this combination, lock it:\n    bazel run @rules_torch//python:lock -- --from-uv uv.lock --platforms linux_x86_64 --output third_party/torch.lock.json",
        ("cu130", "macos_arm64", ""): "to build this combination, lock it:\n    uv lock && bazel run @rules_torch//python:lock -- --from-uv uv.lock --platforms linux_x86_64,macos_arm64 --output third_party/torch.lock.json",
    })
    from_pylock = {"args": ["--from-pylock", "pylock.cpu.toml"], "files": {"pylock.cpu.toml": "a" * 64}}
    _expect_relock(env, [_file(_lock([_cell("cpu")], torch = None, index_url = "", extra_index_urls = [], variants = ["cpu"], from_pylock = from_pylock))], "", "3.11", {})

    # A target platform no lock names sorts among the lock's (windows_aarch64 before windows_amd64).
    _expect_relock(env, [_file(_lock([_cell("cpu")], variants = ["cpu"], platforms = ["linux_x86_64", "windows_amd64"]))], "cpu", "3.11", {
        ("cpu", "windows_aarch64", ""): "to build this combination, lock it:\n    bazel run @rules_torch//python:lock -- --torch 2.5.1 --variants cpu --platforms linux_x86_64,windows_aarch64,windows_amd64 --python 3.11 --index-url 'https://download.pytorch.org/whl/{variant}' --extra-index-url https://pypi.org/simple --output third_party/torch.lock.json",
    })

    # A lock whose request names no platform and no Python (a hand-written one).
    _expect_relock(env, [_file(_lock([_cell("cpu")], platforms = [], pythons = [], variants = []))], "cpu", "3.11", {
        ("cpu", "", ""): "to build this combination, lock it:\n    bazel run @rules_torch//python:lock -- --torch 2.5.1 --variants cpu --platforms <linux_x86_64,...> --python <3.11,...> --index-url 'https://download.pytorch.org/whl/{variant}' --extra-index-url https://pypi.org/simple --output third_party/torch.lock.json",
    })
    return unittest.end(env)

def _plan_wheels_hub_test(ctx):
    env = unittest.begin(ctx)
    plan = plan_wheels_hub(_io({_MAIN: _MAIN_LOCK}), _ROOT, _tag())
    asserts.equals(env, None, plan.error)
    asserts.false(env, plan.auto)
    asserts.equals(env, [
        ("spoke", "torch__cpu_linux_x86_64_cp311"),
        ("libtorch", "torch__cpu_linux_x86_64_cp311__libtorch"),
        ("spoke", "torch__cu121_linux_x86_64_cp311"),
        ("libtorch", "torch__cu121_linux_x86_64_cp311__libtorch"),
        ("hub", "torch"),
    ], [(kind, kwargs["name"]) for kind, kwargs in plan.repos])
    hub = plan.repos[-1][1]["build_file_content"]
    asserts.true(env, 'torch_hub_no_match(\n    cells = ["cpu on linux_x86_64", "cu121 on linux_x86_64"],\n    default_variant = "cpu",\n' in hub, hub)

    # Each step's error is the plan's; it declares nothing.
    for plan in [
        plan_wheels_hub(_io(), _ROOT, _tag()),
        plan_wheels_hub(_io({_MAIN: _MAIN_LOCK}), _ROOT, _tag(default_variant = "cu130")),
        plan_wheels_hub(_io({_MAIN: _MAIN_LOCK}), _ROOT, _tag(variants = ["rocm6.2"])),
    ]:
        asserts.true(env, plan.error.startswith("rules_torch: "), plan.error)
        asserts.equals(env, [], plan.repos)
    asserts.true(env, plan_wheels_hub(_io({_MAIN: _MAIN_LOCK}), _ROOT, _tag(default_variant = "auto")).auto)
    return unittest.end(env)

read_locks_test = unittest.make(_read_locks_test)
merge_cells_test = unittest.make(_merge_cells_test)
default_python_test = unittest.make(_default_python_test)
lock_error_test = unittest.make(_lock_error_test)
default_variant_test = unittest.make(_default_variant_test)
names_test = unittest.make(_names_test)
cell_repos_test = unittest.make(_cell_repos_test)
selection_test = unittest.make(_selection_test)
hub_packages_test = unittest.make(_hub_packages_test)
hub_no_match_test = unittest.make(_hub_no_match_test)
no_match_fixes_test = unittest.make(_no_match_fixes_test)
plan_wheels_hub_test = unittest.make(_plan_wheels_hub_test)

def hub_builder_test_suite(name):
    unittest.suite(
        name,
        read_locks_test,
        merge_cells_test,
        default_python_test,
        lock_error_test,
        default_variant_test,
        names_test,
        cell_repos_test,
        selection_test,
        hub_packages_test,
        hub_no_match_test,
        no_match_fixes_test,
        plan_wheels_hub_test,
    )
