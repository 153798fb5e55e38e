"""A lock with cells for two Python versions: the tag's python_version is the default, and
rules_python's python_version flag selects the other Python's cells (analysis only: the
workspace's interpreter is the host's)."""

import pytest
from harness import fake_torch

PYTHON_FLAG = "--@rules_python//python/config_settings:python_version"
# A full version rules_python 0.22.1 knows (its TOOL_VERSIONS), as its transitions would set.
PY310 = "3.10.9"

TAG = 'torch.wheels(hub = "torch", lock = "//:torch.lock.json", default_variant = "cpu"{extra})\nuse_repo(torch, "torch")\n'


@pytest.fixture(scope="module")
def ws(workspace_factory):
    ws = workspace_factory("pythons")
    ws.write("BUILD.bazel", "")
    cells = [("cpu", "linux_x86_64", "3.11"), ("cpu", "linux_x86_64", "3.10"), ("cu118", "linux_x86_64", "3.10"), ("cu121", "linux_x86_64", "3.11")]
    ws.write_lock({cell: [ws.add_wheel(w) for w in fake_torch(cell[0], cell[1], python=cell[2])] for cell in cells})
    ws.write_module(TAG.format(extra=', python_version = "3.11"'))
    return ws


def _spoke(ws, *flags):
    result = ws.bazel("cquery", "deps(@torch//:torch)", "--output=label", *flags)
    assert result.returncode == 0, result.stdout[-4000:]
    spokes = sorted({line.split("//")[0] for line in result.stdout.splitlines() if "torch__" in line})
    assert len(spokes) == 1, result.stdout[-4000:]
    return spokes[0].rsplit("torch__", 1)[1]


def test_default_python_without_the_flag(ws):
    assert _spoke(ws) == "cpu_linux_x86_64_cp311"


def test_python_flag_selects_the_other_python(ws):
    assert _spoke(ws, f"{PYTHON_FLAG}={PY310}") == "cpu_linux_x86_64_cp310"
    assert _spoke(ws, f"{PYTHON_FLAG}={PY310}", "--config=cuda118") == "cu118_linux_x86_64_cp310"


def test_variant_locked_only_for_another_python(ws):
    result = ws.bazel("cquery", "deps(@torch//:torch)", "--config=cuda118")
    assert result.returncode != 0, result.stdout[-4000:]
    assert "has no torch for variant 'cu118'" in result.stdout, result.stdout[-4000:]
    assert "cu118 on linux_x86_64 (Python 3.10)" in result.stdout, result.stdout[-4000:]


def test_python_locked_but_not_for_this_variant(ws):
    # cu121 is locked for 3.11 only: asking for it with 3.10 must not hand out 3.11 wheels.
    assert _spoke(ws, "--config=cuda121") == "cu121_linux_x86_64_cp311"
    result = ws.bazel("cquery", "deps(@torch//:torch)", "--config=cuda121", f"{PYTHON_FLAG}={PY310}")
    assert result.returncode != 0, result.stdout[-4000:]
    assert "has no torch for variant 'cu121' (from --@rules_torch//torch:variant) on linux_x86_64 for Python 3.10" in result.stdout, result.stdout[-4000:]


def test_several_pythons_need_a_default(ws):
    ws.write_module(TAG.format(extra=""))
    try:
        result = ws.bazel("cquery", "@torch//:torch")
    finally:
        ws.write_module(TAG.format(extra=', python_version = "3.11"'))
    assert result.returncode != 0, result.stdout[-4000:]
    assert "has cells for Python 3.10, 3.11; set python_version" in result.stdout, result.stdout[-4000:]
