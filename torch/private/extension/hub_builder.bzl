"""The plan of one torch.wheels hub, step by step: read its locks, check them against its tag, plan a
spoke per cell, render the hub.

Each step is a small pure function, unit-tested in tests/starlark/hub_builder_tests.bzl; errors
are values (`error`), which parse_modules (extension.bzl) fails with. A lock is parse_lock's
struct; `plan_wheels_hub` chains the steps.
"""

load("//torch/private/contracts:labels.bzl", "LIBTORCH_REPO_SUFFIX", "selection_key", "selection_parts", "spoke_source")
load("//torch/private/contracts:no_match.bzl", "fix_table", "no_match")
load("//torch/private/lock:lock.bzl", "TORCH_PACKAGES", "is_runtime_wheel", "parse_lock", "pylock_error", "relock_command", "stale_lock_error", "uv_lock_error")
load("//torch/private/lock:tables.bzl", "CPU_CONSTRAINTS", "OS_CONSTRAINTS", "PLATFORM_BY_OS_CPU")
load("//torch/private/lock:variants.bzl", "config_name", "pick_auto_variant")
load("//torch/private/repositories:hub.bzl", "hub_build_file", "requirements_bzl")
load("//torch/private/repositories:pip_hub.bzl", "pip_package_dir")

def label_path(label):
    """A file's workspace-relative path, as lock commands write it.

    Args:
      label: the file's Label.

    Returns:
      "third_party/torch.lock.json".
    """
    return (label.package + "/" + label.name) if label.package else label.name

def lock_file(label, lock):
    """A lock as the plan uses it.

    Args:
      label: the lock file's Label.
      lock: its parse_lock struct.

    Returns:
      struct(label, source: the label as messages show it, output: its workspace-relative path,
      lock, relock: the command that re-creates it).
    """
    output = label_path(label)
    return struct(label = label, source = str(label), output = output, lock = lock, relock = relock_command(lock.request, output = output))

def read_locks(io, tag):
    """Reads the tag's `lock`, then its `extra_locks`.

    Args:
      io: plan_io's struct (read_file).
      tag: the torch.wheels tag.

    Returns:
      struct(files: [lock_file], the tag's `lock` first; error).
    """
    files = []
    for label in [tag.lock] + tag.extra_locks:
        if label in [f.label for f in files]:
            return struct(files = [], error = "rules_torch: hub '{}' names lock {} twice (lock and extra_locks).".format(tag.hub, label))
        text = io.read_file(label)
        if text == None:
            return struct(files = [], error = "rules_torch: lock file {} does not exist. Create it with the lock tool:\n  {}".format(
                label,
                relock_command({}, output = label_path(label)),
            ))
        parsed = parse_lock(text, str(label), label_path(label))
        if parsed.error:
            return struct(files = [], error = parsed.error)
        files.append(lock_file(label, parsed.lock))
    return struct(files = files, error = None)

def merge_cells(hub, files):
    """The hub's cells: the union of its locks' cells, each from one lock.

    Args:
      hub: the hub's name, for messages.
      files: read_locks' files.

    Returns:
      struct(lock: struct(request: the main lock's, cells: {key: cell}), as parse_lock's; origin:
      {cell key: the lock_file it comes from}; error).
    """
    cells = {}
    origin = {}
    for file in files:
        for key in sorted(file.lock.cells):
            cell = file.lock.cells[key]
            if key in cells:
                request = file.lock.request
                return struct(lock = None, origin = {}, error = (
                    "rules_torch: hub '{}': cell {} is locked in both {} and {}; each cell (variant, platform, " +
                    "Python) must come from one lock. Re-lock one of them without it:\n  {}"
                ).format(
                    hub,
                    key,
                    origin[key].label,
                    file.label,
                    relock_command(dict(request, variants = [v for v in request.get("variants", []) if v != cell.variant]), output = file.output),
                ))
            cells[key] = cell
            origin[key] = file
    return struct(lock = struct(request = files[0].lock.request, cells = cells), origin = origin, error = None)

def default_python(tag, cells):
    """The hub's default Python: the tag's python_version, else the locks' only one.

    Args:
      tag: the torch.wheels tag.
      cells: the hub's cells.

    Returns:
      struct(python: "3.11", error).
    """
    pythons = sorted({c.python: True for c in cells.values()}.keys())
    python = tag.python_version or (pythons[0] if len(pythons) == 1 else "")
    if python:
        return struct(python = python, error = None)
    return struct(python = "", error = (
        "rules_torch: lock {} has cells for Python {}; set python_version on the torch.wheels tag of hub '{}' " +
        "to the default one (the others are selected by --@rules_python//python/config_settings:python_version)."
    ).format(tag.lock, ", ".join(pythons), tag.hub))

def _uv_lock_error(io, module, tag, lock, main):
    digest = io.file_sha256(tag.uv_lock, "uv_lock/{}__{}.uv.lock".format(module.name, tag.hub))
    if digest == None:
        return "rules_torch: uv_lock {} does not exist; create it with `uv lock` in the project's directory.".format(tag.uv_lock)
    return uv_lock_error(lock, main.source, str(tag.uv_lock), label_path(tag.uv_lock), digest, main.output)

def _pylock_error(io, module, tag, lock, main):
    files = []
    for index, label in enumerate(tag.pylock):
        digest = io.file_sha256(label, "pylock/{}__{}__{}.toml".format(module.name, tag.hub, index))
        if digest == None:
            return "rules_torch: pylock {} does not exist; create it with `uv pip compile ... --format pylock.toml -o FILE` or `pip lock -o FILE`.".format(label)
        files.append(struct(label = label, path = label_path(label), sha256 = digest))
    return pylock_error(lock, main.source, files, main.output)

def lock_error(io, module, tag, files, lock, python):
    """Whether the locks serve the tag: they cover what it asks, from the uv.lock/pylock.toml it names.

    Args:
      io: plan_io's struct (file_sha256).
      module: the tag's module.
      tag: the torch.wheels tag.
      files: read_locks' files.
      lock: merge_cells' lock.
      python: the hub's default Python.

    Returns:
      None, or the first reason they do not (a stale lock, with the command that re-locks it).
    """
    main = files[0]
    errors = [stale_lock_error(lock, main.source, torch_version = tag.torch_version, variants = tag.variants, platforms = tag.platforms, pythons = [python])]
    errors += [stale_lock_error(f.lock, f.source, torch_version = tag.torch_version) for f in files[1:]]
    if tag.uv_lock:
        errors.append(_uv_lock_error(io, module, tag, lock, main))
    if tag.pylock:
        errors.append(_pylock_error(io, module, tag, lock, main))
    errors = [e for e in errors if e]
    return errors[0] if errors else None

def default_variant(io, tag, locked_variants, main):
    """The hub's default_variant: the tag's, or for "auto" the one the host's driver runs.

    Args:
      io: plan_io's struct (driver_version).
      tag: the torch.wheels tag.
      locked_variants: the variants locked for the default Python.
      main: the tag's lock (a lock_file), for the command that locks a missing default.

    Returns:
      struct(variant: "" for none, error).
    """
    if tag.default_variant == "auto":
        driver = io.driver_version()
        variant = pick_auto_variant(driver, locked_variants)

        # buildifier: disable=print
        print("rules_torch: hub '{}': default_variant = \"auto\" picked '{}' ({}).".format(
            tag.hub,
            variant,
            "NVIDIA driver " + driver if driver else "no NVIDIA driver found",
        ))
        return struct(variant = variant, error = None)
    if tag.default_variant and tag.default_variant not in locked_variants:
        return struct(variant = "", error = "rules_torch: hub '{}': default_variant '{}' is not in lock {} (locked variants: {}). Lock it with:\n  {}".format(
            tag.hub,
            tag.default_variant,
            main.source,
            ", ".join(locked_variants),
            relock_command(main.lock.request, variants = [tag.default_variant], output = main.output),
        ))
    return struct(variant = tag.default_variant, error = None)

def repo_prefix(module, tag):
    """The name of the hub's repository, and the prefix of its spokes'.

    Args:
      module: the tag's module.
      tag: the torch.wheels tag.

    Returns:
      The hub's name in the root module, else `<module>__<hub>` (no clash with the root's).
    """
    return tag.hub if module.is_root else "{}__{}".format(module.name, tag.hub)

def spoke_name(prefix, key):
    """The spoke repository of a cell.

    Args:
      prefix: repo_prefix.
      key: the cell's key.

    Returns:
      "torch__cpu_linux_x86_64_cp311".
    """
    return "{}__{}".format(prefix, key.replace(".", "_"))

def cell_repos(tag, name, cell, file):
    """The repositories of one cell: its spoke (the wheels) and its C++ repository.

    Args:
      tag: the torch.wheels tag.
      name: the spoke's name (spoke_name).
      cell: the cell (parse_lock's struct).
      file: the lock_file it comes from.

    Returns:
      [("spoke", its kwargs), ("libtorch", its kwargs)].
    """

    # With pip_deps, a pure-Python dependency comes from the user's pip hub: a dep, not a wheel.
    wheels = [w for w in cell.wheels if not tag.pip_deps or is_runtime_wheel(w.name)]
    from_pip = [w for w in cell.wheels if tag.pip_deps and not is_runtime_wheel(w.name)]
    torch = [w.filename for w in wheels if w.name == "torch"]
    return [
        ("spoke", dict(
            name = name,
            cell = cell.key,
            compile_pyc = tag.compile_pyc,
            deps = ["@@{}//{}".format(tag.pip_deps.workspace_name, pip_package_dir(w.name)) for w in from_pip],
            lock_source = file.source,
            python = cell.python,
            relock = file.relock,
            python_interpreter_target = tag.python_interpreter_target,
            urls = {w.filename: w.url for w in wheels},
            sha256s = {w.filename: w.sha256 for w in wheels},
        )),
        ("libtorch", dict(
            name = name + LIBTORCH_REPO_SUFFIX,
            cell = cell.key,
            lock_source = file.source,
            relock = file.relock,
            wheel = "@{}//:_wheels/{}".format(name, torch[0]) if torch else None,
        )),
    ]

def selection(prefix, cells, python):
    """What the hub's aliases select: the spoke of each variant and platform, per Python.

    Args:
      prefix: repo_prefix.
      cells: the hub's cells.
      python: the hub's default Python.

    Returns:
      struct(spokes: {selection_key: spoke_source} of the default Python's cells, other_pythons:
      {Python: the same} of the others').
    """
    spokes = {}
    other_pythons = {}
    for key in sorted(cells):
        cell = cells[key]
        by_python = spokes if cell.python == python else other_pythons.setdefault(cell.python, {})
        by_python[selection_key(cell.variant, cell.platform)] = spoke_source(spoke_name(prefix, key))
    return struct(spokes = spokes, other_pythons = other_pythons)

def hub_packages(cells):
    """The packages the hub has a target of: the torch packages any cell has a wheel of.

    Args:
      cells: the hub's cells.

    Returns:
      A sublist of lock.bzl's TORCH_PACKAGES.
    """
    present = {w.name: True for cell in cells.values() for w in cell.wheels}
    return [p for p in TORCH_PACKAGES if p in present]

def _relock_line(files, cells, origin, python):
    """function(variant, platform) -> the lock command that adds that cell for `python`."""
    main = files[0]

    # A variant of an extra lock is added to that lock; any other to the tag's `lock`.
    by_variant = {cells[key].variant: file for key, file in origin.items() if file.label != main.label}

    def render(variant, platform):
        file = by_variant.get(variant, main)
        return "to build this combination, lock it:\n    " + relock_command(
            file.lock.request,
            variants = [variant] if variant else None,
            platforms = [platform] if platform else None,
            pythons = [python] if python else None,
            output = file.output,
        )

    return render

# Every platform a no-match target can be asked for (rules/unavailable.bzl names a target
# platform by its OS and CPU, as the lock does where a lock platform has them): each gets its own
# line, so that every fix line is the lock command's, lists sorted.
_ASKED_PLATFORMS = sorted({
    PLATFORM_BY_OS_CPU.get(os + "_" + cpu, os + "_" + cpu): True
    for os in OS_CONSTRAINTS
    for cpu in CPU_CONSTRAINTS
}.keys())

def no_match_fixes(files, cells, origin, python, default):
    """The fix lines of the hub's no-match targets: the lock command that adds what was asked.

    Args:
      files: read_locks' files.
      cells: the hub's cells.
      origin: merge_cells' origin.
      python: the hub's default Python.
      default: the hub's default_variant ("" for none: then no variant may be asked).

    Returns:
      {the Python a build asks for ("": the default one; each other Python of the cells): its
      no-match target's fix table (no_match.bzl's fix_table)}.
    """

    # The values a lock command treats as already asked for; it adds any other to its lists.
    variants = {v: True for f in files for v in f.lock.request.get("variants") or []}
    variants.update({c.variant: True for c in cells.values()})
    platforms = {p: True for p in [""] + _ASKED_PLATFORMS}
    platforms.update({p: True for f in files for p in f.lock.request.get("platforms") or []})
    fixes = {}
    for asked in [""] + sorted({c.python: True for c in cells.values() if c.python != python}.keys()):
        fixes[asked] = fix_table(
            _relock_line(files, cells, origin, asked),
            variants = ([] if default else [""]) + sorted(variants),
            platforms = sorted(platforms),
            # A request the hub has a cell for never reaches the target.
            locked = [(c.variant, c.platform) for c in cells.values() if c.python == (asked or python)],
        )
    return fixes

def hub_no_match(tag, files, chosen, example_variant):
    """What the hub's no-match targets say, but the fix line (no_match.bzl's no_match).

    Args:
      tag: the torch.wheels tag.
      files: read_locks' files.
      chosen: selection's struct.
      example_variant: a locked variant, for the --config it names.

    Returns:
      no_match's dict.
    """
    return no_match(
        hub = tag.hub,
        lock = ", ".join([f.source for f in files]),
        cells = ["{} on {}".format(selection_parts(k).variant, selection_parts(k).platform) for k in sorted(chosen.spokes)] + [
            "{} on {} (Python {})".format(selection_parts(k).variant, selection_parts(k).platform, p)
            for p in sorted(chosen.other_pythons)
            for k in sorted(chosen.other_pythons[p])
        ],
        example_config = config_name(example_variant),
        example_variant = example_variant,
    )

def _failed(error):
    return struct(repos = [], auto = False, error = error)

def plan_wheels_hub(io, module, tag):
    """Plans a torch.wheels hub: its spokes, their C++ repositories, the hub.

    Args:
      io: plan_io's struct.
      module: the tag's module.
      tag: the torch.wheels tag.

    Returns:
      struct(repos: [(rule name, kwargs)], auto: whether it asked the host (default_variant =
      "auto"), error: None or the message).
    """
    read = read_locks(io, tag)
    if read.error:
        return _failed(read.error)
    files = read.files
    merged = merge_cells(tag.hub, files)
    if merged.error:
        return _failed(merged.error)
    cells = merged.lock.cells
    python = default_python(tag, cells)
    if python.error:
        return _failed(python.error)
    error = lock_error(io, module, tag, files, merged.lock, python.python)
    if error:
        return _failed(error)
    locked_variants = sorted({c.variant: True for c in cells.values() if c.python == python.python}.keys())
    default = default_variant(io, tag, locked_variants, files[0])
    if default.error:
        return _failed(default.error)

    prefix = repo_prefix(module, tag)
    repos = []
    for key in sorted(cells):
        repos.extend(cell_repos(tag, spoke_name(prefix, key), cells[key], merged.origin[key]))
    chosen = selection(prefix, cells, python.python)
    packages = hub_packages(cells)
    repos.append(("hub", dict(
        name = prefix,
        build_file_content = hub_build_file(
            hub = tag.hub,
            spokes = chosen.spokes,
            default_variant = default.variant,
            packages = packages,
            no_match = hub_no_match(tag, files, chosen, default.variant or locked_variants[0]),
            fixes = no_match_fixes(files, cells, merged.origin, python.python, default.variant),
            other_pythons = chosen.other_pythons,
            cc_targets = ["libtorch", "libtorch_python"] if "torch" in packages else [],
        ),
        requirements_bzl = requirements_bzl(tag.hub, {p: p for p in packages}),
    )))
    return struct(repos = repos, auto = tag.default_variant == "auto", error = None)
