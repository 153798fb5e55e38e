"""Parsing and validation of rules_torch lock files (schema version 1, docs/lock_schema.md).

Every function here is pure: it returns values or error strings and never calls fail(), so that
unit tests can check the messages. The module extension turns errors into fail().

The validator checks what the extension needs of a lock: its shape, and of each wheel the file
name, URL scheme, sha256 and that the file belongs in its cell. The lock tool's validator
(python/rules_torch/lockfile.py) checks more (unknown fields, sorted wheels, valid versions); both
read the tables of tables.bzl, generated from the lock tool's, and tests/locks/corpus.bzl holds
them to the same locks, saying what the extension does with those only the lock tool refuses.
"""

load("//torch/private/contracts:shell.bzl", "shell_word")
load(
    ":tables.bzl",
    "LOCK_TOOL",
    "OPTIONAL_REQUEST_FIELDS",
    "PLATFORM_CONSTRAINTS",
    "REQUEST_FIELDS",
    "SCHEMA_VERSION",
    "TOP_LEVEL_PROJECTS",
    "URL_SCHEMES",
    "VARIANT_FORMS",
    "WHEEL_PLATFORM_PATTERNS",
)

# The projects that are torch itself, the lock tool's top-level projects and the triton that comes
# with them: a hub has a target of each it locks (@<hub>//:torchvision).
TORCH_PACKAGES = TOP_LEVEL_PROJECTS + ["triton"]

# With TORCH_PACKAGES, the wheels of torch's native runtime. Everything else in a cell is a
# pure-Python (or at least torch-independent) dependency that a user's pip.parse hub may supply.
_RUNTIME_PREFIXES = ["nvidia-", "cuda-", "pytorch-triton"]

_HEX = "0123456789abcdef"

# Printable ASCII from code 32 on, for percent-decoding (Starlark has no chr()).
_ASCII = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"

def cell_key(variant, platform, python):
    """The key of a cell in a lock: `<variant>_<platform>_cp<python without dot>`.

    Args:
      variant: accelerator variant, e.g. "cu118".
      platform: platform name, e.g. "linux_x86_64".
      python: "major.minor", e.g. "3.11".

    Returns:
      The key, e.g. "cu118_linux_x86_64_cp311".
    """
    return "{}_{}_cp{}".format(variant, platform, python.replace(".", ""))

def is_runtime_wheel(name):
    """Whether a (normalized) project name belongs to torch's own runtime, never to pip.parse.

    Args:
      name: PEP 503 normalized project name.

    Returns:
      True for torch, torchvision, torchaudio, triton, nvidia-*, cuda-*.
    """
    if name in TORCH_PACKAGES:
        return True
    for prefix in _RUNTIME_PREFIXES:
        if name.startswith(prefix):
            return True
    return False

def _natural_key(text):
    # The lock tool's natural_key (cells.py): runs of digits compare as numbers (cu90 < cu118).
    runs = []
    for c in text.elems():
        if runs and c.isdigit() == runs[-1][-1].isdigit():
            runs[-1] += c
        else:
            runs.append(c)
    return [(int(run), "") if run.isdigit() else (0, run) for run in runs]

def relock_command(request, variants = None, platforms = None, pythons = None, output = None):
    """The lock tool command that would (re)create a lock for a request, with additions.

    Spelled as the lock tool spells it (lockfile.py's lock_command; tests/locks/corpus.bzl's
    RELOCK_COMMANDS holds both to the same text): lists sorted, each word quoted for the shell.

    Args:
      request: the lock's `request` object (a dict), possibly empty: what it lacks is a
        placeholder (`--torch <version>`).
      variants: variants to lock in addition to the request's.
      platforms: platforms to lock in addition to the request's.
      pythons: Python versions to lock in addition to the request's.
      output: the lock file to write, workspace-relative.

    Returns:
      A shell command line. For a lock imported from a uv.lock (`request.from_uv`), the import
      command, after `uv lock` when something must be added (that is the uv project's to resolve).
    """
    if request.get("from_uv"):
        return _reimport_command(request["from_uv"], variants, platforms, pythons, output)
    if request.get("from_pylock"):
        return _pylock_reimport_command(request["from_pylock"], output)

    words = [LOCK_TOOL]
    for project in TOP_LEVEL_PROJECTS:
        if request.get(project):
            words.append("--{} {}".format(project, shell_word(request[project])))
    if not request.get("torch"):
        words.append("--torch <version>")
    for requirement in request.get("with") or []:
        words.append("--with " + shell_word(requirement))
    for option, field, more, order, placeholder in [
        ("--variants", "variants", variants, _natural_key, "<cpu,cu121,...>"),
        ("--platforms", "platforms", platforms, None, "<linux_x86_64,...>"),
        ("--python", "pythons", pythons, _natural_key, "<3.11,...>"),
    ]:
        items = list(request.get(field) or [])
        items += [item for item in more or [] if item not in items]
        words.append("{} {}".format(option, shell_word(",".join(sorted(items, key = order))) if items else placeholder))
    if "index_url" in request:
        words.append("--index-url " + shell_word(request["index_url"]))
        for url in request.get("extra_index_urls") or [""]:  # none: one empty, else the default (PyPI) is added
            words.append("--extra-index-url " + shell_word(url))
    for link in request.get("find_links") or []:
        words.append("--find-links " + shell_word(link))
    words.append("--output " + (shell_word(output) if output else "<lock file>"))
    return " ".join(words)

def _reimport_command(from_uv, variants, platforms, pythons, output):
    args = []
    more = {"--platforms": platforms or [], "--python": pythons or []}
    recorded = from_uv.get("args") or ["--from-uv", from_uv.get("uv_lock") or "uv.lock"]
    skip = False
    for index, arg in enumerate(recorded):
        if skip:
            skip = False
            continue
        if arg in more and index + 1 < len(recorded):
            # An explicit list must grow to take what is asked for; without one, all uv resolved is imported.
            items = recorded[index + 1].split(",")
            items += [item for item in more[arg] if item not in items]
            args += [arg, ",".join(items)]
            skip = True
            continue
        args.append(arg)
    command = LOCK_TOOL + " " + " ".join([shell_word(a) for a in args])
    command += " --output " + shell_word(output or "<lock file>")
    new_variants = [v for v in variants or [] if v not in (from_uv.get("extras") or {})]
    if new_variants or platforms or pythons:
        # What uv did not resolve must first be added to the uv project (an extra per variant,
        # [tool.uv] environments, requires-python).
        return "uv lock && " + command
    return command

def _pylock_reimport_command(from_pylock, output):
    recorded = from_pylock.get("args") or [a for f in sorted(from_pylock.get("files") or {}) for a in ["--from-pylock", f]]
    command = LOCK_TOOL + " " + " ".join([shell_word(a) for a in recorded])
    return command + " --output " + shell_word(output or "<lock file>")

def pylock_error(lock, source, files, output):
    """Checks that a lock imported from pylock.toml files was imported from those files as they are now.

    Args:
      lock: a parsed lock (parse_lock's struct).
      source: the lock's label, for messages.
      files: struct(label, path, sha256) of each pylock.toml the tag names (path: workspace-relative).
      output: the lock's workspace-relative path, for the re-import command.

    Returns:
      None when the lock records each file's digest, else an error message with the re-import command.
    """
    from_pylock = lock.request.get("from_pylock")
    if not from_pylock:
        return (
            "rules_torch: lock file {} was not imported from pylock.toml files, but its torch.wheels tag sets " +
            "pylock = [{}]. Import it with:\n  {} {} --output {}"
        ).format(source, ", ".join([str(f.label) for f in files]), LOCK_TOOL, " ".join(["--from-pylock " + shell_word(f.path) for f in files]), output)
    recorded = from_pylock.get("files") or {}
    for f in files:
        # Recorded as given to --from-pylock (relative to where the import ran, or absolute): matched by
        # file name, which is unique among a lock's files (pylock.<variant>.toml).
        matches = [p for p in recorded if p.rpartition("/")[2] == f.path.rpartition("/")[2]]
        if not matches:
            return (
                "rules_torch: lock file {} was not imported from {} (it was imported from {}). Re-import it with:\n  {}"
            ).format(source, f.label, ", ".join(sorted(recorded)) or "no file", _pylock_reimport_command(from_pylock, output))
        if recorded[matches[0]] != f.sha256:
            return (
                "rules_torch: lock file {} is stale: {} changed since it was imported (sha256 {}, now {}). Re-import it with:\n  {}"
            ).format(source, f.label, recorded[matches[0]], f.sha256, _pylock_reimport_command(from_pylock, output))
    return None

def uv_lock_error(lock, source, uv_lock, uv_lock_path, digest, output):
    """Checks that a lock imported from a uv.lock was imported from that uv.lock as it is now.

    Args:
      lock: a parsed lock (parse_lock's struct).
      source: the lock's label, for messages.
      uv_lock: the uv.lock's label, for messages.
      uv_lock_path: the uv.lock's workspace-relative path, for the import command.
      digest: the uv.lock's sha256 now.
      output: the lock's workspace-relative path, for the re-import command.

    Returns:
      None when the lock records `digest`, else an error message with the re-import command.
    """
    from_uv = lock.request.get("from_uv")
    if not from_uv:
        return (
            "rules_torch: lock file {} was not imported from a uv.lock, but its torch.wheels tag sets uv_lock = {}. " +
            "Import it with:\n  {} --from-uv {} --output {}"
        ).format(source, uv_lock, LOCK_TOOL, shell_word(uv_lock_path), output)
    if from_uv.get("uv_lock_sha256") == digest:
        return None
    return (
        "rules_torch: lock file {} is stale: {} changed since it was imported (sha256 {}, now {}). Re-import it with:\n  {}"
    ).format(source, uv_lock, from_uv.get("uv_lock_sha256"), digest, _reimport_command(from_uv, None, None, None, output))

def _is_sha256(value):
    if type(value) != "string" or len(value) != 64:
        return False
    for c in value.elems():
        if c not in _HEX:
            return False
    return True

def _check_string(obj, key, where):
    value = obj.get(key)
    if type(value) != "string" or not value:
        return "{}: '{}' must be a non-empty string, got {}".format(where, key, repr(value))
    return None

def _is_digits(text):
    return text != "" and text.isdigit()

def valid_variant(variant):
    """Whether `variant` is one of cpu, xpu, cu<NN[N]>, rocm<N>[.<N>...] (the lock tool's grammar).

    Args:
      variant: the value of a cell's `variant`.

    Returns:
      True or False.
    """
    if variant in ("cpu", "xpu"):
        return True
    if variant.startswith("cu"):
        return _is_digits(variant[2:]) and len(variant) in (4, 5)
    if variant.startswith("rocm"):
        return all([_is_digits(part) for part in variant[4:].split(".")])
    return False

def valid_python(python):
    """Whether `python` is a major.minor version of Python 3, e.g. "3.11".

    Args:
      python: the value of a cell's `python`.

    Returns:
      True or False.
    """
    return python.startswith("3.") and _is_digits(python[2:])

def _normalize(name):
    # PEP 503: lowercase, runs of "-", "_", "." become one "-".
    out = []
    for c in name.lower().elems():
        c = "-" if c in "_." else c
        if c == "-" and out and out[-1] == "-":
            continue
        out.append(c)
    return "".join(out)

def _unquote(text):
    # Percent-decoding of a URL path (e.g. %2B -> +).
    if "%" not in text:
        return text
    pieces = text.split("%")
    out = [pieces[0]]
    for piece in pieces[1:]:
        code = piece[:2]
        value = int(code, 16) if len(code) == 2 and all([c in _HEX for c in code.lower().elems()]) else 0
        if value >= 32 and value < 32 + len(_ASCII):
            out.append(_ASCII[value - 32] + piece[2:])
        else:
            out.append("%" + piece)
    return "".join(out)

def _python_tag_fits(python_tags, abi_tags, python):
    nodot = python.replace(".", "")
    minor = int(python.split(".")[1])
    for tag in python_tags:
        if tag in ("py3", "py" + nodot, "cp" + nodot):
            return True
        if tag.startswith("py3") and _is_digits(tag[3:]) and int(tag[3:]) <= minor:
            return True
        if tag.startswith("cp3") and _is_digits(tag[3:]) and "abi3" in abi_tags and int(tag[3:]) <= minor:
            return True
    return False

def _platform_tag_fits(platform_tags, platform):
    for tag in platform_tags:
        if tag == "any":
            return True
        for prefix, suffix in WHEEL_PLATFORM_PATTERNS.get(platform, []):
            if tag.startswith(prefix) and tag.endswith(suffix):
                return True
    return False

def _wheel_fits_cell(wheel, cell):
    """An error (without the location) when a wheel's file does not belong in its cell, else None."""
    filename = wheel["filename"]
    basename = _unquote(wheel["url"].split("#")[0].split("?")[0].rpartition("/")[2])
    if basename != filename:
        return "the url's file name '{}' is not the filename".format(basename)
    parts = filename[:-len(".whl")].split("-")
    if len(parts) not in (5, 6):
        return "'{}' is not a wheel file name (name-version[-build]-python-abi-platform.whl)".format(filename)
    if _normalize(parts[0]) != _normalize(wheel["name"]):
        return "the file is a wheel of '{}', not of '{}'".format(_normalize(parts[0]), wheel["name"])
    python_tags, abi_tags, platform_tags = parts[-3].split("."), parts[-2].split("."), parts[-1].split(".")
    if not _python_tag_fits(python_tags, abi_tags, cell["python"]):
        return "its tags {}-{} do not fit the cell's Python {}".format(parts[-3], parts[-2], cell["python"])
    if not _platform_tag_fits(platform_tags, cell["platform"]):
        return "its platform tag {} does not fit the cell's platform {}".format(parts[-1], cell["platform"])
    return None

def _validate_wheel(wheel, where):
    if type(wheel) != "dict":
        return "{}: each wheel must be an object, got {}".format(where, repr(wheel))
    for key in ["name", "version", "filename", "url"]:
        error = _check_string(wheel, key, where)
        if error:
            return error
    where = "{} wheel '{}'".format(where, wheel["filename"])
    if not wheel["filename"].endswith(".whl"):
        return "{}: filename must end in .whl".format(where)
    if "/" in wheel["filename"] or "\\" in wheel["filename"] or wheel["filename"].startswith("."):
        return "{}: filename must be a plain file name".format(where)
    if "sha256" not in wheel or not wheel["sha256"]:
        return "{}: no sha256. Every wheel must be pinned by hash; regenerate the lock with the lock tool, which computes missing hashes".format(where)
    if not _is_sha256(wheel["sha256"]):
        return "{}: sha256 must be 64 lowercase hex digits, got {}".format(where, repr(wheel["sha256"]))
    if _normalize(wheel["name"]) != wheel["name"]:
        return "{}: name must be a normalized project name (PEP 503), e.g. '{}'".format(where, _normalize(wheel["name"]))
    if not [scheme for scheme in URL_SCHEMES if wheel["url"].startswith(scheme)]:
        return "{}: url '{}' must start with {} or {}".format(where, wheel["url"], ", ".join(URL_SCHEMES[:-1]), URL_SCHEMES[-1])
    if "extras" not in wheel:
        return "{}: 'extras' is missing (a list of strings, [] when none)".format(where)
    if not _is_strings(wheel["extras"]):
        return "{}: 'extras' must be a list of strings".format(where)
    return None

def _is_strings(value):
    return type(value) == "list" and not [item for item in value if type(item) != "string"]

def _request_error(request):
    """What is wrong with a lock's `request` (as the lock tool's validator sees it), or None."""
    if type(request) != "dict":
        return "'request' must be an object"
    for field, expected in REQUEST_FIELDS.items():
        if field not in request:
            if field in OPTIONAL_REQUEST_FIELDS:
                continue
            return "request.{} is missing ({})".format(field, expected)
        value = request[field]
        if field in ("from_uv", "from_pylock"):
            if type(value) != "dict":
                return "request.{} must be an object".format(field)
        elif field == "torch" and value == None and ("from_uv" in request or "from_pylock" in request):
            continue  # an imported lock's variants may pin different torch releases
        elif expected.startswith("list"):
            if not _is_strings(value):
                return "request.{} must be a list of strings, got {}".format(field, repr(value))
        elif not (type(value) == "string" or (value == None and "null" in expected)):
            return "request.{} must be a {}, got {}".format(field, expected, repr(value))
    return None

def _validate_cell(key, cell, where):
    where = "{} cell '{}'".format(where, key)
    if type(cell) != "dict":
        return "{}: must be an object".format(where)
    for field in ["variant", "platform", "python"]:
        error = _check_string(cell, field, where)
        if error:
            return error
    if not valid_variant(cell["variant"]):
        return "{}: variant '{}' is not a variant (valid forms: {})".format(where, cell["variant"], VARIANT_FORMS)
    if cell["platform"] not in PLATFORM_CONSTRAINTS:
        return "{}: unknown platform '{}'; known platforms: {}".format(
            where,
            cell["platform"],
            ", ".join(sorted(PLATFORM_CONSTRAINTS)),
        )
    if not valid_python(cell["python"]):
        return "{}: python '{}' is not a major.minor version like 3.11".format(where, cell["python"])
    expected = cell_key(cell["variant"], cell["platform"], cell["python"])
    if key != expected:
        return "{}: key does not match its variant/platform/python (expected '{}')".format(where, expected)
    wheels = cell.get("wheels")
    if type(wheels) != "list" or not wheels:
        return "{}: 'wheels' must be a non-empty list".format(where)
    seen = {}
    for wheel in wheels:
        error = _validate_wheel(wheel, where)
        if error:
            return error
        error = _wheel_fits_cell(wheel, cell)
        if error:
            return "{} wheel '{}': {}".format(where, wheel["filename"], error)
        if wheel["name"] in seen:
            return "{}: wheel '{}' is listed twice".format(where, wheel["name"])
        seen[wheel["name"]] = True
    if "torch" not in seen:
        return "{}: has no 'torch' wheel".format(where)
    return None

def _wheel_struct(wheel):
    return struct(name = wheel["name"], version = wheel["version"], filename = wheel["filename"], url = wheel["url"], sha256 = wheel["sha256"])

def _lock_struct(data):
    """A validated lock as every reader after parse_lock sees it: fields, not keys."""
    return struct(
        request = data["request"],
        cells = {
            key: struct(
                key = key,
                variant = cell["variant"],
                platform = cell["platform"],
                python = cell["python"],
                wheels = [_wheel_struct(wheel) for wheel in cell["wheels"]],
            )
            for key, cell in data["cells"].items()
        },
    )

def parse_lock(content, source, output = None):
    """Parses and validates the text of a lock file.

    Args:
      content: the file's text.
      source: how to name the file in messages (a label or path).
      output: the lock's workspace-relative path, for the lock command in messages.

    Returns:
      struct(lock, error): `lock` None and `error` the message, or `error` None and `lock`
      struct(request: the lock's `request` as written (a dict: what relock_command reads),
      cells: {key: struct(key, variant, platform, python, wheels: [struct(name, version,
      filename, url, sha256)])}).
    """
    hint = "Regenerate it with the lock tool: " + relock_command({}, output = output or source)
    data = json.decode(content, default = None) if content.strip() else None
    if type(data) != "dict":
        return struct(lock = None, error = "rules_torch: lock file {} is not valid JSON (or not a JSON object). {}".format(source, hint))
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        return struct(lock = None, error = (
            "rules_torch: lock file {} has schema_version {}, but this rules_torch reads schema_version {} " +
            "(a newer lock needs a newer rules_torch). {}"
        ).format(source, repr(version), SCHEMA_VERSION, hint))
    error = _request_error(data.get("request"))
    if error:
        return struct(lock = None, error = "rules_torch: lock file {}: {}. {}".format(source, error, hint))
    cells = data.get("cells")
    if type(cells) != "dict" or not cells:
        return struct(lock = None, error = "rules_torch: lock file {}: 'cells' must be a non-empty object. {}".format(source, hint))
    for key in sorted(cells):
        error = _validate_cell(key, cells[key], "rules_torch: lock file " + source)
        if error:
            return struct(lock = None, error = error + ". " + hint)
    return struct(lock = _lock_struct(data), error = None)

def stale_lock_error(lock, source, torch_version = "", variants = [], platforms = [], pythons = []):
    """Checks that a lock covers what a torch.wheels tag asks for.

    Args:
      lock: a parsed lock (parse_lock's struct).
      source: the lock's label, for messages.
      torch_version: the torch version the tag asks for ("" for any).
      variants: variants the tag asks for.
      platforms: platforms the tag asks for.
      pythons: Python versions the tag asks for.

    Returns:
      None when the lock covers the request, else an error message with the re-lock command.
    """
    request = lock.request
    cells = lock.cells.values()
    locked = {
        "platforms": sorted({c.platform: True for c in cells}.keys()),
        "pythons": sorted({c.python: True for c in cells}.keys()),
        "variants": sorted({c.variant: True for c in cells}.keys()),
    }
    missing = {
        "platforms": [p for p in platforms if p not in locked["platforms"]],
        "pythons": [p for p in pythons if p not in locked["pythons"]],
        "variants": [v for v in variants if v not in locked["variants"]],
    }
    problems = []
    for key in ["variants", "platforms", "pythons"]:
        if missing[key]:
            problems.append("{} {} (locked: {})".format(key, ", ".join(missing[key]), ", ".join(locked[key])))
    relock_request = dict(request)

    # An imported lock's variants may pin different torch releases (request.torch null): each must match.
    locked_torch = [request["torch"]] if request.get("torch") else sorted({
        w.version.split("+")[0]: True
        for c in cells
        for w in c.wheels
        if w.name == "torch"
    }.keys())
    if torch_version and locked_torch != [torch_version]:
        problems.append("torch {} (locked: {})".format(torch_version, ", ".join(locked_torch) or "unknown"))
        relock_request["torch"] = torch_version
    if not problems:
        return None
    return "rules_torch: lock file {} is stale: the torch.wheels tag asks for {}. Re-lock with:\n  {}".format(
        source,
        "; ".join(problems),
        relock_command(relock_request, missing["variants"], missing["platforms"], missing["pythons"], output = source),
    )
