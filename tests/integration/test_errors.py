"""Bad inputs to the torch extension: each fails with a message that names the file or wheel
and what to do, and leaves no half-downloaded spoke or half-installed tree behind."""

import hashlib
import re
import shlex
import time

import pytest
from harness import Wheel, fake_torch
from rules_torch.lock import build_parser

BUILD = """\
load("@rules_torch//torch:defs.bzl", "torch_py_test")

torch_py_test(name = "t", srcs = ["t.py"], deps = ["@torch//:torch"])
"""

TEST = """\
import torch
print("variant:", torch.__variant__)
"""

TAG = """\
torch.wheels(hub = "torch", lock = "//:torch.lock.json", default_variant = "cpu"{extra})
use_repo(torch, "torch")
"""


@pytest.fixture(scope="module")
def ws(workspace_factory):
    ws = workspace_factory("errors")
    ws.write("BUILD.bazel", BUILD + 'exports_files(["torch.lock.json"])\n')
    ws.write("t.py", TEST)
    ws.write_module(TAG.format(extra=""))
    return ws


def _fails(ws, *fragments, args=("build", "//:t")):
    result = ws.bazel(*args)
    assert result.returncode != 0, result.stdout
    for fragment in fragments:
        assert fragment in result.stdout, f"{fragment!r} not in output:\n{result.stdout[-4000:]}"
    _lock_commands_parse(result.stdout)
    return result.stdout


def _lock_commands_parse(out):
    """Every lock tool command a message prints is one the lock tool accepts (placeholders such
    as <version> aside, which the user fills in), with the index template kept."""
    for line in re.findall(r"bazel run @rules_torch//python:lock -- (.*)", out):
        if "<" in line:
            continue
        args = build_parser().parse_args(shlex.split(line))
        assert args.output, line
        if "download.pytorch.org" in line:
            assert "download.pytorch.org/whl/{variant}" in line, f"the index template lost its {{variant}}: {line}"


def _no_partial_spoke(ws, cell="cpu_linux_x86_64_cp311"):
    for spoke in ws.spoke_dirs(cell):
        for name in ("_wheels", "_check"):
            assert not (spoke / name).exists(), f"half-written {spoke / name} left behind"
    _no_installed_tree(ws, cell)


def _no_installed_tree(ws, cell="cpu_linux_x86_64_cp311"):
    # Bazel creates a directory output's (empty) directory before its action runs; a failed
    # action's files are never moved there.
    for tree in ws.tree_dirs(cell):
        assert not any(tree.iterdir()), f"the failed install action left files in {tree}"


def test_missing_lock(ws):
    (ws.root / "torch.lock.json").unlink(missing_ok=True)
    ws.write_module(TAG.format(extra=""))
    _fails(ws, "torch.lock.json does not exist", "bazel run @rules_torch//python:lock --", "--output torch.lock.json")


def test_malformed_lock(ws):
    ws.write("torch.lock.json", "{ this is not json")
    _fails(ws, "torch.lock.json is not valid JSON", "Regenerate it with the lock tool")


def test_unknown_schema_version(ws):
    ws.write("torch.lock.json", '{"schema_version": 7, "cells": {}}')
    _fails(ws, "torch.lock.json has schema_version 7", "reads schema_version 1")


def test_missing_sha256(ws):
    entries = [ws.add_wheel(w) for w in fake_torch("cpu", "linux_x86_64")]
    entries[1]["sha256"] = ""
    ws.write_lock({("cpu", "linux_x86_64"): entries})
    _fails(ws, "wheel 'filelock-3.16.1-py3-none-any.whl': no sha256", "--output torch.lock.json")


def test_sha256_mismatch(ws):
    entries = [ws.add_wheel(w) for w in fake_torch("cpu", "linux_x86_64")]
    torch_entry = next(e for e in entries if e["name"] == "torch")
    torch_entry["sha256"] = hashlib.sha256(b"something else").hexdigest()
    ws.write_lock({("cpu", "linux_x86_64"): entries})
    _fails(ws, f"sha256 mismatch for {torch_entry['filename']}", torch_entry["sha256"], "re-lock")
    _no_partial_spoke(ws)


def test_not_found(ws):
    entries = [ws.add_wheel(w) for w in fake_torch("cpu", "linux_x86_64")]
    # Content no earlier run put in the repository cache (a cache hit by sha256 needs no URL).
    gone = Wheel("gone", "1.0", "py3-none-any", files=(("gone/__init__.py", str(time.time()).encode(), False),))
    entries.append(ws.add_wheel(gone))
    (ws.root / "wheels" / gone.filename).unlink()
    ws.write_lock({("cpu", "linux_x86_64"): entries})
    _fails(ws, "cannot download gone-1.0-py3-none-any.whl", "not found, or the host is unreachable")
    _no_partial_spoke(ws)


def test_corrupt_wheel(ws):
    good = fake_torch("cpu", "linux_x86_64")
    entries = [ws.add_wheel(good[0], content=good[0].build()[:-60])] + [ws.add_wheel(w) for w in good[1:]]
    ws.write_lock({("cpu", "linux_x86_64"): entries})
    _fails(ws, "cannot install the wheels of cell cpu_linux_x86_64_cp311 (lock", f"{good[0].filename} is not a valid wheel", "corrupt or unsafe")
    for spoke in ws.spoke_dirs("cpu_linux_x86_64_cp311"):  # the download itself was complete
        assert not (spoke / "_check").exists()
    _no_installed_tree(ws)


def test_zip_slip(ws):
    evil = Wheel("torch", "2.5.1+cpu", "cp311-cp311-linux_x86_64", files=(("torch/__init__.py", b"", False), ("../../escaped.txt", b"gotcha", False)))
    entries = [ws.add_wheel(evil), ws.add_wheel(fake_torch("cpu", "linux_x86_64")[1])]
    ws.write_lock({("cpu", "linux_x86_64"): entries})
    _fails(ws, "member '../../escaped.txt' escapes the install directory")
    _no_installed_tree(ws)
    bin_dir = ws.output_base() / "execroot" / "_main" / "bazel-out"
    assert not list(bin_dir.glob("*/bin/external/*escaped.txt")) and not list(bin_dir.glob("*/bin/external/*/escaped.txt"))


def test_two_tags_same_hub(ws):
    ws.lock_fake_cells([("cpu", "linux_x86_64")])
    ws.write_module(TAG.format(extra="") + 'torch.wheels(hub = "torch", lock = "//:torch.lock.json")\n')
    _fails(ws, 'has two torch.wheels tags with hub = "torch"')


def test_removed_remote_execution_tag_prints_its_replacement(ws):
    ws.lock_fake_cells([("cpu", "linux_x86_64")])
    ws.write_module(TAG.format(extra="") + 'torch.remote_execution(gpu_exec_properties = {"Pool": "gpu-big"})\n')
    out = _fails(ws, "torch.remote_execution is gone", '    exec_properties = {"Pool": "gpu-big"},')
    # The printed fix works as written: its platform in BUILD.bazel, its flags on the command line.
    platform = re.search(r"^platform\(\n.*?^\)\n", out, re.S | re.M).group(0)
    flags = re.findall(r"^build:remote (\S+)$", out, re.M)
    ws.write_module(TAG.format(extra=""))
    gpu_build = BUILD.replace('name = "t", ', 'name = "t", tags = ["requires-gpu"], ')
    ws.write("BUILD.bazel", gpu_build + 'exports_files(["torch.lock.json"])\n' + platform)
    try:
        result = ws.bazel("aquery", *flags, 'mnemonic("TestRunner", //:t)')
        assert result.returncode == 0, result.stdout[-4000:]
        assert "Execution platform: //:gpu_workers" in result.stdout and "Pool: gpu-big" in result.stdout, result.stdout[-4000:]
    finally:
        ws.write("BUILD.bazel", BUILD + 'exports_files(["torch.lock.json"])\n')


def test_stale_lock(ws):
    ws.lock_fake_cells([("cpu", "linux_x86_64")])
    ws.write_module(TAG.format(extra=', variants = ["cpu", "cu121"]'))
    _fails(ws, "torch.lock.json is stale", "variants cu121 (locked: cpu)", "--variants cpu,cu121")


def test_default_variant_not_locked(ws):
    ws.lock_fake_cells([("cpu", "linux_x86_64")])
    ws.write_module(TAG.format(extra="").replace('default_variant = "cpu"', 'default_variant = "cu118"'))
    _fails(ws, "default_variant 'cu118' is not in lock", "--variants cpu,cu118")


def test_unlocked_variant(ws):
    ws.lock_fake_cells([("cpu", "linux_x86_64")])
    ws.write_module(TAG.format(extra=""))
    out = _fails(ws, "has no torch for variant 'cu118'", "on linux_x86_64", "available in", "cpu on linux_x86_64", args=("build", "--config=cuda118", "//:t"))
    assert "--variants cpu,cu118 --platforms linux_x86_64 --python 3.11 --index-url 'https://download.pytorch.org/whl/{variant}'" in out, out[-3000:]


def test_unlocked_platform(ws):
    ws.lock_fake_cells([("cpu", "linux_x86_64")])
    ws.write_module(TAG.format(extra=""))
    _fails(
        ws,
        "has no torch for variant 'cpu' (from the hub's default_variant) on linux_aarch64",
        "--platforms linux_aarch64,linux_x86_64",
        args=("cquery", "--platforms=//platforms:linux_aarch64", "@torch//:torch"),
    )
