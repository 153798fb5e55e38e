"""Unit tests of torch/private/lock/lock.bzl: lock parsing, validation and their messages."""

load("@bazel_skylib//lib:unittest.bzl", "asserts", "unittest")
load("//tests/locks:corpus.bzl", "LOCK_CORPUS", "RELOCK_COMMANDS")

# buildifier: disable=bzl-visibility
load("//torch/private/lock:lock.bzl", "cell_key", "is_runtime_wheel", "parse_lock", "relock_command", "stale_lock_error", "uv_lock_error")

_SHA = "0" * 63 + "1"

def _wheel(name = "torch", sha256 = _SHA, **kwargs):
    wheel = {
        "extras": [],
        "filename": "{}-1.0-py3-none-any.whl".format(name),
        "name": name,
        "sha256": sha256,
        "url": "https://example.com/{}-1.0-py3-none-any.whl".format(name),
        "version": "1.0",
    }
    wheel.update(kwargs)
    return wheel

def _lock(wheels = None, schema_version = 1, **cell_fields):
    cell = {
        "platform": "linux_x86_64",
        "python": "3.11",
        "variant": "cpu",
        "wheels": wheels if wheels != None else [_wheel()],
    }
    cell.update(cell_fields)
    return {
        "cells": {cell_key(cell["variant"], cell["platform"], cell["python"]): cell},
        "request": {
            "extra_index_urls": [],
            "find_links": [],
            "index_url": "https://download.pytorch.org/whl/{variant}",
            "platforms": ["linux_x86_64"],
            "pythons": ["3.11"],
            "torch": "2.5.1",
            "torchaudio": None,
            "torchvision": None,
            "variants": ["cpu"],
        },
        "schema_version": schema_version,
    }

def _parsed(data):
    """A lock as parse_lock returns it (a struct), from its JSON object."""
    parsed = parse_lock(json.encode(data), "//:torch.lock.json")
    if parsed.error:
        fail(parsed.error)
    return parsed.lock

def _error(env, data, *fragments):
    parsed = parse_lock(json.encode(data) if type(data) != "string" else data, "//:torch.lock.json")
    asserts.equals(env, None, parsed.lock)
    for fragment in fragments:
        asserts.true(env, fragment in (parsed.error or ""), "expected {} in error: {}".format(repr(fragment), parsed.error))

def _valid_lock_test(ctx):
    env = unittest.begin(ctx)
    parsed = parse_lock(json.encode(_lock()), "//:torch.lock.json")
    asserts.equals(env, None, parsed.error)
    asserts.equals(env, ["cpu_linux_x86_64_cp311"], parsed.lock.cells.keys())

    # What the readers after parse_lock see: fields; the request as written (relock_command's).
    cell = parsed.lock.cells["cpu_linux_x86_64_cp311"]
    asserts.equals(env, ("cpu_linux_x86_64_cp311", "cpu", "linux_x86_64", "3.11"), (cell.key, cell.variant, cell.platform, cell.python))
    asserts.equals(env, [struct(
        name = "torch",
        version = "1.0",
        filename = "torch-1.0-py3-none-any.whl",
        url = "https://example.com/torch-1.0-py3-none-any.whl",
        sha256 = _SHA,
    )], cell.wheels)
    asserts.equals(env, _lock()["request"], parsed.lock.request)
    return unittest.end(env)

def _malformed_json_test(ctx):
    env = unittest.begin(ctx)
    _error(env, "{not json", "//:torch.lock.json is not valid JSON", "bazel run @rules_torch//python:lock")
    _error(env, "", "is not valid JSON")
    _error(env, "[1, 2]", "is not valid JSON")
    return unittest.end(env)

def _schema_version_test(ctx):
    env = unittest.begin(ctx)
    _error(env, _lock(schema_version = 2), "has schema_version 2", "reads schema_version 1", "Regenerate")
    data = _lock()
    data.pop("schema_version")
    _error(env, data, "has schema_version None")
    return unittest.end(env)

def _missing_sha256_test(ctx):
    env = unittest.begin(ctx)
    _error(env, _lock(wheels = [_wheel(sha256 = "")]), "torch-1.0-py3-none-any.whl", "no sha256", "lock tool")
    wheel = _wheel()
    wheel.pop("sha256")
    _error(env, _lock(wheels = [wheel]), "cell 'cpu_linux_x86_64_cp311'", "no sha256")
    _error(env, _lock(wheels = [_wheel(sha256 = "ABC")]), "64 lowercase hex digits")
    return unittest.end(env)

def _bad_cells_test(ctx):
    env = unittest.begin(ctx)
    _error(env, _lock(wheels = []), "'wheels' must be a non-empty list")
    _error(env, _lock(wheels = [_wheel(name = "numpy")]), "has no 'torch' wheel")
    _error(env, _lock(wheels = [_wheel(), _wheel()]), "listed twice")
    _error(env, _lock(wheels = [_wheel(filename = "../torch.whl")]), "plain file name")
    _error(env, _lock(wheels = [_wheel(filename = "torch.tar.gz")]), "must end in .whl")
    data = _lock(platform = "solaris_sparc")
    _error(env, data, "unknown platform 'solaris_sparc'", "linux_x86_64")
    data = _lock()
    data["cells"]["cu118_linux_x86_64_cp311"] = data["cells"].pop("cpu_linux_x86_64_cp311")
    _error(env, data, "key does not match", "expected 'cpu_linux_x86_64_cp311'")
    return unittest.end(env)

def _stale_lock_test(ctx):
    env = unittest.begin(ctx)
    lock = _parsed(_lock())
    asserts.equals(env, None, stale_lock_error(lock, "//:l.json", "2.5.1", ["cpu"], ["linux_x86_64"], ["3.11"]))
    error = stale_lock_error(lock, "//:l.json", "", ["cpu", "cu121"], ["linux_aarch64"], ["3.11"])
    asserts.true(env, "is stale" in error, error)
    asserts.true(env, "variants cu121 (locked: cpu)" in error, error)
    asserts.true(env, "platforms linux_aarch64 (locked: linux_x86_64)" in error, error)
    asserts.true(env, "--variants cpu,cu121 --platforms linux_aarch64,linux_x86_64 --python 3.11" in error, error)
    error = stale_lock_error(lock, "//:l.json", "2.6.0")
    asserts.true(env, "torch 2.6.0 (locked: 2.5.1)" in error and "--torch 2.6.0" in error, error)
    return unittest.end(env)

def _relock_command_test(ctx):
    env = unittest.begin(ctx)
    asserts.equals(
        env,
        "bazel run @rules_torch//python:lock -- --torch 2.5.1 --variants cpu,cu118 --platforms linux_x86_64 --python 3.11 --index-url 'https://i/{variant}' --extra-index-url https://pypi.org/simple --output third_party/torch.lock.json",
        relock_command(
            {"extra_index_urls": ["https://pypi.org/simple"], "index_url": "https://i/{variant}", "platforms": ["linux_x86_64"], "pythons": ["3.11"], "torch": "2.5.1", "variants": ["cpu"]},
            variants = ["cu118", "cpu"],
            output = "third_party/torch.lock.json",
        ),
    )
    asserts.equals(
        env,
        "bazel run @rules_torch//python:lock -- --torch 2.5.1 --with numpy --with 'numpy-quaternion<3' --variants cpu --platforms <linux_x86_64,...> --python <3.11,...> --output <lock file>",
        relock_command({"torch": "2.5.1", "variants": ["cpu"], "with": ["numpy", "numpy-quaternion<3"]}),
    )
    return unittest.end(env)

_FROM_UV = {
    "args": ["--from-uv", "uv.lock", "--variant", "gpu=cu130", "--platforms", "linux_x86_64"],
    "extras": {"cpu": "cpu", "cu130": "gpu"},
    "uv_lock": "uv.lock",
    "uv_lock_sha256": "a" * 64,
}

def _from_uv_test(ctx):
    """An imported lock: its relock command is the re-import, its uv.lock is checked by sha256."""
    env = unittest.begin(ctx)
    request = {"extra_index_urls": [], "find_links": [], "from_uv": _FROM_UV, "index_url": "", "platforms": ["linux_x86_64"], "pythons": ["3.11"], "torch": None, "torchaudio": None, "torchvision": None, "variants": ["cpu", "cu130"]}
    reimport = "bazel run @rules_torch//python:lock -- --from-uv uv.lock --variant gpu=cu130 --platforms linux_x86_64 --output third_party/torch.lock.json"
    asserts.equals(env, reimport, relock_command(request, output = "third_party/torch.lock.json"))
    asserts.equals(
        env,
        "uv lock && bazel run @rules_torch//python:lock -- --from-uv uv.lock --variant gpu=cu130 --platforms linux_x86_64,linux_aarch64 --output 'my locks/t.json'",
        relock_command(request, platforms = ["linux_aarch64"], output = "my locks/t.json"),
    )
    data = _lock()
    data["request"] = request
    lock = _parsed(data)
    asserts.equals(env, None, uv_lock_error(lock, "//:t.json", "@@//:uv.lock", "uv.lock", "a" * 64, "third_party/torch.lock.json"))
    error = uv_lock_error(lock, "//:t.json", "@@//:uv.lock", "uv.lock", "b" * 64, "third_party/torch.lock.json")
    asserts.true(env, "lock file //:t.json is stale: @@//:uv.lock changed since it was imported" in error, error)
    asserts.true(env, error.endswith("Re-import it with:\n  " + reimport), error)
    error = uv_lock_error(_parsed(_lock()), "//:t.json", "@@//:uv.lock", "uv.lock", "b" * 64, "t.json")
    asserts.true(env, "was not imported from a uv.lock" in error, error)
    asserts.true(env, error.endswith("bazel run @rules_torch//python:lock -- --from-uv uv.lock --output t.json"), error)

    # The torch version each cell pins stands for the null request.torch of an imported lock.
    data["cells"]["cpu_linux_x86_64_cp311"]["wheels"] = [_wheel(version = "2.5.1+cpu")]
    lock = _parsed(data)
    asserts.equals(env, None, stale_lock_error(lock, "//:t.json", "2.5.1"))
    error = stale_lock_error(lock, "//:t.json", "2.6.0")
    asserts.true(env, "torch 2.6.0 (locked: 2.5.1)" in error and error.endswith(reimport.replace("third_party/torch.lock.json", "//:t.json")), error)
    return unittest.end(env)

def _hand_edited_wheels_test(ctx):
    """A wheel whose file is not what its entry says, or does not belong in its cell."""
    env = unittest.begin(ctx)
    where = "//:torch.lock.json cell 'cpu_linux_x86_64_cp311' wheel "

    # The URL names another file than `filename`.
    _error(env, _lock(wheels = [_wheel(url = "https://example.com/torch-2.0-py3-none-any.whl")]), where + "'torch-1.0-py3-none-any.whl': the url's file name 'torch-2.0-py3-none-any.whl' is not the filename")

    # `name` is not the filename's distribution (@torch//:torch would be filelock).
    _error(env, _lock(wheels = [_wheel(name = "torch", filename = "filelock-1.0-py3-none-any.whl", url = "https://e/filelock-1.0-py3-none-any.whl")]), "the file is a wheel of 'filelock', not of 'torch'")

    # A macOS wheel in the linux_x86_64 cell; a cp310 wheel in the 3.11 cell.
    mac = "torch-1.0-cp311-none-macosx_11_0_arm64.whl"
    _error(env, _lock(wheels = [_wheel(filename = mac, url = "https://e/" + mac)]), where + "'{}': its platform tag macosx_11_0_arm64 does not fit the cell's platform linux_x86_64".format(mac))
    old = "torch-1.0-cp310-cp310-manylinux_2_28_x86_64.whl"
    _error(env, _lock(wheels = [_wheel(filename = old, url = "https://e/" + old)]), "its tags cp310-cp310 do not fit the cell's Python 3.11")

    # These fit: a percent-encoded local version, abi3 from an older Python, a compressed tag set.
    for filename, url in [
        ("torch-1.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl", "https://e/whl/cpu/torch-1.0%2Bcpu-cp311-cp311-manylinux_2_28_x86_64.whl"),
        ("torch-1.0-cp39-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl", "https://e/torch-1.0-cp39-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl#sha256=00"),
        ("torch-1.0-py2.py3-none-any.whl", "file:///w/torch-1.0-py2.py3-none-any.whl"),
    ]:
        parsed = parse_lock(json.encode(_lock(wheels = [_wheel(filename = filename, url = url)])), "//:torch.lock.json")
        asserts.equals(env, None, parsed.error)
    return unittest.end(env)

def _cell_grammar_test(ctx):
    """Variant and Python values outside their grammar are refused, naming the lock and cell.

    They once failed inside Bazel, as an invalid repository name.
    """
    env = unittest.begin(ctx)
    _error(env, _lock(variant = "cu 118"), "//:torch.lock.json cell 'cu 118_linux_x86_64_cp311': variant 'cu 118' is not a variant (valid forms: cpu, cu<NNN>")
    _error(env, _lock(variant = "$(touch x)"), "variant '$(touch x)' is not a variant")
    _error(env, _lock(python = "3.11; rm"), "python '3.11; rm' is not a major.minor version")
    return unittest.end(env)

def _runtime_wheel_test(ctx):
    env = unittest.begin(ctx)
    for name in ["torch", "torchvision", "triton", "nvidia-cudnn-cu12", "cuda-toolkit", "pytorch-triton-rocm"]:
        asserts.true(env, is_runtime_wheel(name), name)
    for name in ["numpy", "sympy", "jinja2", "torchmetrics", "filelock"]:
        asserts.false(env, is_runtime_wheel(name), name)
    return unittest.end(env)

def _corpus_test(ctx):
    """Every lock of tests/locks/corpus.bzl is judged as the corpus says.

    python/tests/test_lock_corpus.py holds the lock tool's validator to the same corpus. A lock the
    extension accepts is read as written: a field only the lock tool knows is wrong stays, unread.
    """
    env = unittest.begin(ctx)
    for case in LOCK_CORPUS:
        text = case["text"] if "text" in case else json.encode(case["lock"])
        parsed = parse_lock(text, "//:{}.lock.json".format(case["name"]))
        expected = case.get("error_starlark", case["error"])
        if expected == None:
            asserts.equals(env, None, parsed.error, case["name"])

            # Read as written: the request whole, each cell's wheels in their order, versions as they are.
            data = json.decode(text)
            asserts.equals(env, data["request"], parsed.lock.request, case["name"])
            asserts.equals(env, data["cells"].keys(), parsed.lock.cells.keys(), case["name"])
            for key, cell in data["cells"].items():
                written = [(w["name"], w["version"], w["filename"], w["url"], w["sha256"]) for w in cell["wheels"]]
                read = [(w.name, w.version, w.filename, w.url, w.sha256) for w in parsed.lock.cells[key].wheels]
                asserts.equals(env, written, read, "{} {}".format(case["name"], key))
        else:
            asserts.equals(env, None, parsed.lock, case["name"])
            asserts.true(env, expected in (parsed.error or ""), "{}: expected {} in the error: {}".format(case["name"], repr(expected), parsed.error))
    return unittest.end(env)

def _relock_commands_test(ctx):
    """The extension spells each command of the corpus's RELOCK_COMMANDS as the lock tool does.

    python/tests/test_lock_corpus.py checks the lock tool's lock_command against the same text.
    """
    env = unittest.begin(ctx)
    for case in RELOCK_COMMANDS:
        asserts.equals(env, case["command"], relock_command(case["request"], output = case["output"]), case["name"])
    return unittest.end(env)

corpus_test = unittest.make(_corpus_test)
relock_commands_test = unittest.make(_relock_commands_test)
valid_lock_test = unittest.make(_valid_lock_test)
malformed_json_test = unittest.make(_malformed_json_test)
schema_version_test = unittest.make(_schema_version_test)
missing_sha256_test = unittest.make(_missing_sha256_test)
bad_cells_test = unittest.make(_bad_cells_test)
stale_lock_test = unittest.make(_stale_lock_test)
relock_command_test = unittest.make(_relock_command_test)
from_uv_test = unittest.make(_from_uv_test)
runtime_wheel_test = unittest.make(_runtime_wheel_test)
hand_edited_wheels_test = unittest.make(_hand_edited_wheels_test)
cell_grammar_test = unittest.make(_cell_grammar_test)

def lock_test_suite(name):
    unittest.suite(
        name,
        valid_lock_test,
        malformed_json_test,
        schema_version_test,
        missing_sha256_test,
        bad_cells_test,
        stale_lock_test,
        relock_command_test,
        from_uv_test,
        runtime_wheel_test,
        hand_edited_wheels_test,
        cell_grammar_test,
        corpus_test,
        relock_commands_test,
    )
