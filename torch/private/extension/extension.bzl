"""Implementation of the `torch` module extension (public entry point: //torch:extensions.bzl)."""

load("//torch/private/lock:details.bzl", "lock_details")
load("//torch/private/lock:labels.bzl", "GPU_TAG", "LIBTORCH_REPO_SUFFIX", "selection_key", "selection_parts", "spoke_source")
load("//torch/private/lock:lock.bzl", "is_runtime_wheel", "parse_lock", "pylock_error", "relock_command", "stale_lock_error", "uv_lock_error", _PACKAGES = "HUB_PACKAGES")
load("//torch/private/lock:variants.bzl", "config_name", "pick_auto_variant")
load("//torch/private/repositories:hub.bzl", "hub", "hub_build_file", "requirements_bzl")
load("//torch/private/repositories:libtorch_repo.bzl", "libtorch_repo")
load("//torch/private/repositories:metadata.bzl", "reproducible_extension")
load("//torch/private/repositories:pip_hub.bzl", "pip_hub", "pip_package_dir")
load("//torch/private/repositories:spoke.bzl", "spoke")

def _label_path(label):
    return (label.package + "/" + label.name) if label.package else label.name

def _read_file(mctx, label):
    """The text of a file of the module, or None when it does not exist."""
    path = mctx.path(label)
    if not path.exists:
        return None
    return mctx.read(path)

def _file_sha256(mctx, label, output):
    """The sha256 of a file of the module, or None when it does not exist."""

    # Starlark has no sha256: Bazel's downloader reports the digest of what it fetched. Without a
    # sha256 argument it never answers from the repository cache, so this is the file as it is now.
    path = mctx.path(label)
    if not path.exists:
        return None

    # Reading the file makes the extension re-run when it changes.
    mctx.read(path)
    return mctx.download(url = "file://" + str(path), output = output).sha256

def plan_io(mctx):
    """What parse_modules reads from outside the module files, through `mctx`.

    Args:
      mctx: the module_ctx.

    Returns:
      struct(read_file(label) -> text or None when missing, file_sha256(label, output) -> the
      file's sha256 or None when missing, driver_version() -> the NVIDIA driver's version or "").
    """
    return struct(
        read_file = lambda label: _read_file(mctx, label),
        file_sha256 = lambda label, output: _file_sha256(mctx, label, output),
        driver_version = lambda: _driver_version(mctx),
    )

def _read_lock(io, label):
    """struct(lock, error): the parsed lock, or why it cannot be used."""
    source = str(label)
    text = io.read_file(label)
    if text == None:
        return struct(lock = None, error = "rules_torch: lock file {} does not exist. Create it with the lock tool:\n  {}".format(
            source,
            relock_command({}, output = _label_path(label)),
        ))
    parsed = parse_lock(text, source, _label_path(label))
    return struct(lock = parsed.lock, error = parsed.error)

def _driver_version(mctx):
    # An explicit value (tests, CI machines without nvidia-smi in PATH) wins over detection.
    forced = mctx.os.environ.get("RULES_TORCH_NVIDIA_DRIVER")
    if forced != None:
        return forced.strip()
    smi = mctx.which("nvidia-smi")
    if not smi:
        return ""
    result = mctx.execute([smi, "--query-gpu=driver_version", "--format=csv,noheader"], timeout = 20)
    if result.return_code != 0:
        return ""
    return result.stdout.strip().split("\n")[0].strip()

def _pip_label(hub_label, name):
    return "@@{}//{}".format(hub_label.workspace_name, pip_package_dir(name))

def _read_locks(io, tag):
    """The tag's `lock` and `extra_locks` as one lock: the union of their cells.

    Returns:
      struct(lock: {"cells", "request"} with the main lock's request, origin: {cell key: the
      Label of the lock it comes from}, parsed: {Label: that lock}, requests: {Label: that
      lock's request}, sources: the locks' labels as strings, error: None or why not).
    """
    labels = [tag.lock] + tag.extra_locks
    cells = {}
    origin = {}
    parsed = {}
    requests = {}
    for label in labels:
        if label in requests:
            return struct(error = "rules_torch: hub '{}' names lock {} twice (lock and extra_locks).".format(tag.hub, label))
        read = _read_lock(io, label)
        if read.error:
            return struct(error = read.error)
        lock = read.lock
        parsed[label] = lock
        requests[label] = lock.get("request", {})
        for key in sorted(lock["cells"]):
            if key in cells:
                return struct(error = (
                    "rules_torch: hub '{}': cell {} is locked in both {} and {}; each cell (variant, platform, " +
                    "Python) must come from one lock. Re-lock one of them without it:\n  {}"
                ).format(
                    tag.hub,
                    key,
                    origin[key],
                    label,
                    relock_command(dict(requests[label], variants = [v for v in requests[label].get("variants", []) if v != lock["cells"][key]["variant"]]), output = _label_path(label)),
                ))
            cells[key] = lock["cells"][key]
            origin[key] = label
    return struct(
        lock = {"cells": cells, "request": requests[tag.lock]},
        origin = origin,
        parsed = parsed,
        requests = requests,
        sources = [str(label) for label in labels],
        error = None,
    )

def _wheels_hub(io, module, tag, repos):
    """Plans a torch.wheels hub into `repos`; struct(auto: whether it asked the host, error)."""
    locks = _read_locks(io, tag)
    if locks.error:
        return struct(auto = False, error = locks.error)
    lock = locks.lock
    source = str(tag.lock)
    cells = lock["cells"]
    request = lock.get("request", {})
    output = _label_path(tag.lock)
    pythons = sorted({c["python"]: True for c in cells.values()}.keys())
    python = tag.python_version or (pythons[0] if len(pythons) == 1 else "")
    if not python:
        return struct(auto = False, error = (
            "rules_torch: lock {} has cells for Python {}; set python_version on the torch.wheels tag of hub '{}' " +
            "to the default one (the others are selected by --@rules_python//python/config_settings:python_version)."
        ).format(source, ", ".join(pythons), tag.hub))
    errors = [stale_lock_error(
        lock,
        source,
        torch_version = tag.torch_version,
        variants = tag.variants,
        platforms = tag.platforms,
        pythons = [python],
    )] + [
        stale_lock_error(locks.parsed[label], str(label), torch_version = tag.torch_version)
        for label in tag.extra_locks
    ]
    if tag.uv_lock:
        digest = io.file_sha256(tag.uv_lock, "uv_lock/{}__{}.uv.lock".format(module.name, tag.hub))
        if digest == None:
            errors.append("rules_torch: uv_lock {} does not exist; create it with `uv lock` in the project's directory.".format(tag.uv_lock))
        else:
            errors.append(uv_lock_error(lock, source, str(tag.uv_lock), _label_path(tag.uv_lock), digest, output))
    if tag.pylock:
        files = []
        for index, label in enumerate(tag.pylock):
            digest = io.file_sha256(label, "pylock/{}__{}__{}.toml".format(module.name, tag.hub, index))
            if digest == None:
                errors.append("rules_torch: pylock {} does not exist; create it with `uv pip compile ... --format pylock.toml -o FILE` or `pip lock -o FILE`.".format(label))
                break
            files.append(struct(label = label, path = _label_path(label), sha256 = digest))
        if len(files) == len(tag.pylock):
            errors.append(pylock_error(lock, source, files, output))
    errors = [e for e in errors if e]
    if errors:
        return struct(auto = False, error = errors[0])
    locked_variants = sorted({c["variant"]: True for c in cells.values() if c["python"] == python}.keys())

    default_variant = tag.default_variant
    if default_variant == "auto":
        driver = io.driver_version()
        default_variant = pick_auto_variant(driver, locked_variants)

        # buildifier: disable=print
        print("rules_torch: hub '{}': default_variant = \"auto\" picked '{}' ({}).".format(
            tag.hub,
            default_variant,
            "NVIDIA driver " + driver if driver else "no NVIDIA driver found",
        ))
    elif default_variant and default_variant not in locked_variants:
        return struct(auto = False, error = "rules_torch: hub '{}': default_variant '{}' is not in lock {} (locked variants: {}). Lock it with:\n  {}".format(
            tag.hub,
            default_variant,
            source,
            ", ".join(locked_variants),
            relock_command(request, variants = [default_variant], output = output),
        ))

    # The command that re-creates each lock, for the spokes' download errors.
    relocks = {label: relock_command(locks.requests[label], output = _label_path(label)) for label in locks.requests}
    prefix = tag.hub if module.is_root else "{}__{}".format(module.name, tag.hub)
    spokes = {}
    other_pythons = {}
    present = {}
    for key in sorted(cells):
        cell = cells[key]
        wheels = []
        deps = []
        for wheel in cell["wheels"]:
            present[wheel["name"]] = True
            if tag.pip_deps and not is_runtime_wheel(wheel["name"]):
                deps.append(_pip_label(tag.pip_deps, wheel["name"]))
            else:
                wheels.append(wheel)
        spoke_name = "{}__{}".format(prefix, key.replace(".", "_"))
        repos.append(("spoke", dict(
            name = spoke_name,
            cell = key,
            compile_pyc = tag.compile_pyc,
            deps = deps,
            lock_source = str(locks.origin[key]),
            python = cell["python"],
            relock = relocks[locks.origin[key]],
            python_interpreter_target = tag.python_interpreter_target,
            wheels = json.encode(wheels),
        )))
        torch_wheels = [w["filename"] for w in wheels if w["name"] == "torch"]
        repos.append(("libtorch", dict(
            name = spoke_name + LIBTORCH_REPO_SUFFIX,
            cell = key,
            lock_source = str(locks.origin[key]),
            relock = relocks[locks.origin[key]],
            wheel = "@{}//:_wheels/{}".format(spoke_name, torch_wheels[0]) if torch_wheels else None,
        )))
        by_python = spokes if cell["python"] == python else other_pythons.setdefault(cell["python"], {})
        by_python[selection_key(cell["variant"], cell["platform"])] = spoke_source(spoke_name)

    example_variant = default_variant or locked_variants[0]
    details = lock_details(
        hub = tag.hub,
        lock = ", ".join(locks.sources),
        cells = ["{} on {}".format(selection_parts(k).variant, selection_parts(k).platform) for k in sorted(spokes)] + [
            "{} on {} (Python {})".format(selection_parts(k).variant, selection_parts(k).platform, p)
            for p in sorted(other_pythons)
            for k in sorted(other_pythons[p])
        ],
        default_variant = default_variant,
        example_config = config_name(example_variant),
        example_variant = example_variant,
        # unavailable.bzl renders the lock command for the variant and platform asked for: from
        # the lock that has the variant (extra_locks), else the main lock.
        relock = {"output": output, "request": request},
        relock_by_variant = {
            cells[key]["variant"]: {"output": _label_path(label), "request": locks.requests[label]}
            for key, label in locks.origin.items()
            if label != tag.lock
        },
    )
    repos.append(("hub", dict(
        name = prefix,
        build_file_content = hub_build_file(
            hub = tag.hub,
            spokes = spokes,
            default_variant = default_variant,
            packages = [p for p in _PACKAGES if p in present],
            unavailable_message = details,
            other_pythons = other_pythons,
            cc_targets = ["libtorch", "libtorch_python"] if "torch" in present else [],
        ),
        requirements_bzl = requirements_bzl(tag.hub, {p: p for p in _PACKAGES if p in present}),
    )))
    return struct(auto = tag.default_variant == "auto", error = None)

def remote_execution_moved(tag):
    """The error for a root module that still has the removed torch.remote_execution tag.

    Args:
      tag: the tag (gpu_exec_properties, gpu_tag).

    Returns:
      The message: the execution platform and .bazelrc lines that replace the tag (see
      torch/platforms/BUILD.bazel), the tag's own exec properties filled in.
    """
    properties = tag.gpu_exec_properties or {"Pool": "gpu"}
    lines = [
        "rules_torch: torch.remote_execution is gone: GPU tests now reach GPU workers through an execution platform, which needs no generated file at loading time. In place of the tag, declare the GPU workers in your root BUILD.bazel:",
        "",
        "platform(",
        "    name = \"gpu_workers\",",
        "    parents = [\"@platforms//host\"],  # or your remote execution platform",
        "    constraint_values = [\"@rules_torch//torch/platforms:gpu\"],",
        "    exec_properties = {},".format(repr(properties)),
        ")",
        "",
        "and route the tests tagged {} to them in .bazelrc:".format(GPU_TAG),
        "",
        "build:remote --extra_execution_platforms=@platforms//host,//:gpu_workers",
        "build:remote --@rules_torch//torch:route_gpu_tests",
    ]
    if tag.gpu_tag and tag.gpu_tag != GPU_TAG:
        lines.append("")
        lines.append("Tests tagged \"{}\" are not routed by that tag any more: tag them {}, or give them exec_compatible_with = [\"@rules_torch//torch/platforms:gpu_test\"].".format(tag.gpu_tag, GPU_TAG))
    return "\n".join(lines)

def _failed(message):
    return struct(repos = [], root_deps = [], root_dev_deps = [], reproducible = True, error = message)

def parse_modules(mctx, io = None):
    """Decides every repository the extension creates; creates none, fails nothing (unit-tested).

    Args:
      mctx: the module_ctx, or a struct with `modules` and `is_dev_dependency`.
      io: what it reads from outside the module files (plan_io's struct); default plan_io(mctx).

    Returns:
      struct(repos = [(rule name: "spoke" | "libtorch" | "hub" | "pip_hub", kwargs)], root_deps,
      root_dev_deps: the root module's hub names, reproducible: False when "auto" read the host,
      error: None, or the message the extension fails with).
    """
    io = io or plan_io(mctx)
    repos = []
    root_deps = []
    root_dev_deps = []
    read_host = False
    for module in mctx.modules:
        if module.is_root and module.tags.remote_execution:
            return _failed(remote_execution_moved(module.tags.remote_execution[0]))
        hubs = {}
        for tag in module.tags.wheels:
            if tag.hub in hubs:
                return _failed("rules_torch: module '{}' has two torch.wheels tags with hub = \"{}\"; give each hub its own name.".format(module.name, tag.hub))
            hubs[tag.hub] = mctx.is_dev_dependency(tag)

            # default_variant = "auto" asks the host's driver: the result is then not a function
            # of the module files alone.
            planned = _wheels_hub(io, module, tag, repos)
            if planned.error:
                return _failed(planned.error)
            read_host = read_host or planned.auto
        for tag in module.tags.from_pip:
            if tag.hub in hubs:
                return _failed("rules_torch: module '{}' has two torch tags with hub = \"{}\"; give each hub its own name.".format(module.name, tag.hub))
            hubs[tag.hub] = mctx.is_dev_dependency(tag)
            error = _from_pip_hub(module, tag, repos)
            if error:
                return _failed(error)
        if module.is_root:
            root_deps = sorted(root_deps + [h for h, dev in hubs.items() if not dev])
            root_dev_deps = sorted([h for h, dev in hubs.items() if dev])
    return struct(repos = repos, root_deps = root_deps, root_dev_deps = root_dev_deps, reproducible = not read_host, error = None)

_RULES = {"hub": hub, "libtorch": libtorch_repo, "pip_hub": pip_hub, "spoke": spoke}

def _torch_impl(mctx):
    plan = parse_modules(mctx)
    if plan.error:
        fail(plan.error)
    for rule_name, kwargs in plan.repos:
        _RULES[rule_name](**kwargs)
    return reproducible_extension(mctx, plan.root_deps, plan.root_dev_deps, reproducible = plan.reproducible)

def _from_pip_hub(module, tag, repos):
    """Plans a torch.from_pip hub into `repos`; returns None, or why it cannot."""
    if not tag.variants:
        return ("rules_torch: torch.from_pip(hub = \"{}\") maps no variant; e.g. variants = {{\"cpu\": \"@pypi_cpu\", \"cu130\": \"@pypi_cu130\"}}.".format(tag.hub))
    if tag.default_variant and tag.default_variant not in tag.variants:
        return ("rules_torch: torch.from_pip(hub = \"{}\"): default_variant '{}' is not mapped (variants: {}); add \"{}\": \"@<its pip hub>\" to variants.".format(
            tag.hub,
            tag.default_variant,
            ", ".join(sorted(tag.variants)),
            tag.default_variant,
        ))
    repos.append(("pip_hub", dict(
        name = tag.hub if module.is_root else "{}__{}".format(module.name, tag.hub),
        default_variant = tag.default_variant,
        hub = tag.hub,
        packages = tag.packages,
        shown = {variant: "@@" + label.workspace_name for variant, label in tag.variants.items()},
        variants = {variant: label.workspace_name for variant, label in tag.variants.items()},
    )))
    return None

_wheels = tag_class(
    doc = """Creates a hub repository of torch wheels from a rules_torch lock file.

Example:

```starlark
torch = use_extension("@rules_torch//torch:extensions.bzl", "torch")
torch.wheels(
    hub = "torch",
    lock = "//third_party:torch.lock.json",
    default_variant = "cpu",
)
use_repo(torch, "torch")
```

`@torch//:torch` (and `:torchvision`, `:torchaudio`, `:triton` when locked) then select the
wheels of the cell that matches `--@rules_torch//torch:variant` (or `default_variant`) and the
target platform. Each cell is a separate repository, fetched only when a build selects it;
a fetch only downloads the cell's wheels (Bazel's downloader, sha256 checked), and a build
action installs them into the cell's tree, one directory output: one runfiles entry per test,
kept by the action cache, `--disk_cache` and a remote cache.
""",
    attrs = {
        "compile_pyc": attr.bool(
            default = True,
            doc = "Byte-compile the installed tree (when the installing interpreter, the Python toolchain's or `python_interpreter_target`, has the cell's Python version; unchecked-hash pycs; packages' tests/ directories are left to compile on import), so imports inside sandboxed tests don't recompile torch. Default: True.",
        ),
        "default_variant": attr.string(
            default = "cpu",
            doc = "The variant used when `--@rules_torch//torch:variant` is unset. `auto` picks the newest locked CUDA variant the host's NVIDIA driver supports (cpu without a driver) at fetch time. `\"\"`: no default, the flag must be set. Default: `cpu`.",
        ),
        "extra_locks": attr.label_list(
            allow_files = [".json"],
            doc = "More lock files whose cells join this hub, for variants that need another torch version or index than `lock`'s (PyPI's Linux torch is a CUDA build; PyTorch stops publishing old CUDA variants): e.g. `lock` for cpu from PyTorch's index and an extra lock for cu130 from PyPI. Each cell (variant, platform, Python) must come from one lock; download errors and missing-cell messages print the command of the lock a variant comes from. `torch_version`, when set, is checked against every lock. Default: none.",
        ),
        "hub": attr.string(
            default = "torch",
            doc = "The name of the hub repository (what `use_repo` names). Default: `torch`. In a non-root module the repository is named `<module>__<hub>` so it never clashes with the root module's: `use_repo(torch, torch = \"my_module__torch\")`.",
        ),
        "lock": attr.label(
            mandatory = True,
            allow_single_file = [".json"],
            doc = "The lock file written by the lock tool (`bazel run @rules_torch//python:lock`).",
        ),
        "pip_deps": attr.label(
            doc = "A rules_python `pip.parse` hub (e.g. `@pypi`) that supplies torch's pure-Python dependencies (numpy, sympy, jinja2, ...), so a binary never carries two copies of them. The hub must have every such package of the lock. Default: the lock's own wheels.",
        ),
        "platforms": attr.string_list(
            doc = "Platforms this module builds for. When set, the lock must cover them (else: a stale-lock error with the re-lock command).",
        ),
        "pylock": attr.label_list(
            allow_files = [".toml"],
            doc = "The pylock.toml files the lock was imported from (`bazel run @rules_torch//python:lock -- --from-pylock pylock.cpu.toml --from-pylock pylock.cu130.toml --output ...`), e.g. `[\"//:pylock.cpu.toml\", \"//:pylock.cu130.toml\"]`. When set, a file changed since the import (its sha256 differs from the one the lock records) is a stale-lock error that names the file and prints the re-import command. Default: not checked.",
        ),
        "python_interpreter_target": attr.label(
            allow_single_file = True,
            doc = "The Python interpreter that installs each cell's tree (the build action that extracts and byte-compiles the wheels), instead of the registered Python toolchain's, e.g. `\"@python_3_11_host//:python\"` (the same spelling as `pip.parse`'s attribute). Fetching runs no interpreter either way: a spoke only downloads. A cell whose Python differs from the interpreter's gets no pycs (the install action says so). Default: the Python toolchain's interpreter.",
        ),
        "python_version": attr.string(
            doc = "The default Python version (major.minor) among the lock's cells; required when the lock has several. The cells of the lock's other Python versions are selected when rules_python's `@rules_python//python/config_settings:python_version` flag names their version (its version transitions set it, or `--@rules_python//python/config_settings:python_version=3.10.9`; a minor version such as `3.10` where rules_python accepts one). A locked Python without a cell for the selected variant and platform is an error, not a fallback to the default Python. Default: the lock's only Python version.",
        ),
        "torch_version": attr.string(
            doc = "The torch version this module expects (e.g. `2.5.1`). When set, the lock must have been made for it.",
        ),
        "uv_lock": attr.label(
            allow_single_file = True,
            doc = "The uv.lock the lock was imported from (`bazel run @rules_torch//python:lock -- --from-uv uv.lock --output ...`), e.g. `\"//:uv.lock\"`. When set, a uv.lock changed since the import (its sha256 differs from the one the lock records) is a stale-lock error that prints the re-import command. Default: not checked.",
        ),
        "variants": attr.string_list(
            doc = "Variants this module builds for. When set, the lock must cover them.",
        ),
    },
)

_from_pip = tag_class(
    doc = """Wraps existing rules_python `pip.parse` hubs, one per variant, into one hub selected by `--@rules_torch//torch:variant`.

Example:

```starlark
pip.parse(hub_name = "pypi_cpu", python_version = "3.11", requirements_lock = "//:requirements_cpu_linux_x86_64_cp311.txt")
pip.parse(hub_name = "pypi_cu130", python_version = "3.11", requirements_lock = "//:requirements_cu130_linux_x86_64_cp311.txt")
use_repo(pip, "pypi_cpu", "pypi_cu130")

torch = use_extension("@rules_torch//torch:extensions.bzl", "torch")
torch.from_pip(hub = "torch", variants = {"cpu": "@pypi_cpu", "cu130": "@pypi_cu130"}, packages = ["torch", "torchvision"])
use_repo(torch, "torch")
```

`@torch//:torch` (one target per entry of `packages`) is then `@pypi_cu130//torch` under
`--config=cuda130`. torch_py_binary / torch_py_test find the CUDA libraries in pip.parse's
per-wheel repositories, so they load at runtime in this mode too.
""",
    attrs = {
        "default_variant": attr.string(
            default = "cpu",
            doc = "The variant used when `--@rules_torch//torch:variant` is unset; must be mapped. `\"\"`: the flag must be set. Default: `cpu`.",
        ),
        "hub": attr.string(default = "torch", doc = "The name of the hub repository. Default: `torch`."),
        "packages": attr.string_list(
            default = ["torch"],
            doc = "The packages to expose as `@<hub>//:<package>`; every mapped pip hub must have them. Default: `[\"torch\"]`.",
        ),
        "variants": attr.string_keyed_label_dict(
            mandatory = True,
            doc = "Variant -> the pip hub repository that has its wheels, e.g. `{\"cpu\": \"@pypi_cpu\"}`. Labels resolve in your module, so the hubs need only be in your `use_repo(pip, ...)`.",
        ),
    },
)

_remote_execution = tag_class(
    doc = """Removed: an error that prints what replaces it.

GPU tests now reach GPU workers through an execution platform with the
`@rules_torch//torch/platforms:gpu` constraint and `--@rules_torch//torch:route_gpu_tests` (README,
"Remote execution"). A root module that still has this tag fails with the platform and the
.bazelrc lines to write, its own exec properties filled in.
""",
    attrs = {
        "gpu_exec_properties": attr.string_dict(doc = "Removed; the error shows them on a platform."),
        "gpu_tag": attr.string(default = "requires-gpu", doc = "Removed; the error says how to route tests with another tag."),
    },
)

torch = module_extension(
    implementation = _torch_impl,
    doc = "Torch wheels as Bazel repositories, selected by accelerator variant and platform.",
    # default_variant = "auto" reads it (tests and machines whose nvidia-smi is not on PATH).
    environ = ["RULES_TORCH_NVIDIA_DRIVER"],
    tag_classes = {"from_pip": _from_pip, "remote_execution": _remote_execution, "wheels": _wheels},
)
