"""The uv.lock importer (``--from-uv``): a real uv's lock, and every malformed input.

The real-uv tests lock a PyTorch-style uv project (uv_project.py) against this machine's local
indexes and PyPI, and are skipped, with the reason, where those or uv are missing.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import urllib.request
from pathlib import Path

import pytest
from locktest import invoke
from machine_indexes import machine_sources, pypi_reachable
from uv_project import make_project, uv_binary

from rules_torch.lockfile import load_lock

# A uv.lock as uv 0.13 writes it for PyTorch's setup, cut down to what the importer reads.
_SHA = {name: hashlib.sha256(name.encode()).hexdigest() for name in ("cpu", "cu", "fl", "fl-src", "arm")}
SYNTHETIC = f"""\
version = 1
revision = 3
requires-python = "==3.11.*"
resolution-markers = ["platform_machine == 'x86_64' and sys_platform == 'linux'"]
supported-markers = ["platform_machine == 'x86_64' and sys_platform == 'linux'"]
conflicts = [[
    {{ package = "demo", extra = "cpu" }},
    {{ package = "demo", extra = "gpu" }},
]]

[[package]]
name = "demo"
version = "0.1.0"
source = {{ virtual = "." }}

[package.optional-dependencies]
cpu = [{{ name = "torch", version = "2.13.0+cpu", source = {{ registry = "https://example.com/cpu" }} }}]
gpu = [{{ name = "torch", version = "2.14.1", source = {{ registry = "https://example.com/cu130" }} }}]

[package.metadata]
requires-dist = [
    {{ name = "torch", marker = "extra == 'cpu'", specifier = "==2.13.0", index = "https://example.com/cpu", conflict = {{ package = "demo", extra = "cpu" }} }},
    {{ name = "torch", marker = "extra == 'gpu'", specifier = "==2.14.1", index = "https://example.com/cu130", conflict = {{ package = "demo", extra = "gpu" }} }},
]

[[package]]
name = "filelock"
version = "4.3.1"
source = {{ registry = "https://pypi.org/simple" }}
sdist = {{ url = "https://example.com/filelock-4.3.1.tar.gz", hash = "sha256:{_SHA["fl-src"]}" }}
wheels = [{{ url = "https://example.com/filelock-4.3.1-py3-none-any.whl", hash = "sha256:{_SHA["fl"]}" }}]

[[package]]
name = "torch"
version = "2.13.0+cpu"
source = {{ registry = "https://example.com/cpu" }}
dependencies = [{{ name = "filelock" }}]
wheels = [
    {{ url = "https://example.com/cpu/torch-2.13.0%2Bcpu-cp311-cp311-manylinux_2_28_aarch64.whl", hash = "sha256:{_SHA["arm"]}" }},
    {{ url = "https://example.com/cpu/torch-2.13.0%2Bcpu-cp311-cp311-manylinux_2_28_x86_64.whl", hash = "sha256:{_SHA["cpu"]}" }},
]

[[package]]
name = "torch"
version = "2.14.1"
source = {{ registry = "https://example.com/cu130" }}
dependencies = [
    {{ name = "filelock" }},
    {{ name = "filelock", marker = "extra == 'extra-4-demo-cpu'" }},
]
wheels = [{{ url = "https://example.com/cu130/torch-2.14.1-cp311-cp311-manylinux_2_28_x86_64.whl", hash = "sha256:{_SHA["cu"]}" }}]
"""  # noqa: E501


def _import(tmp_path: Path, uv_lock: str, *args: str) -> tuple[int, str, Path]:
    (tmp_path / "uv.lock").write_text(uv_lock)
    output = tmp_path / "torch.lock.json"
    code, stderr = invoke(["--from-uv", str(tmp_path / "uv.lock"), "--output", str(output), "--no-cache", *args])
    return code, stderr, output


def test_synthetic_import_maps_extras_and_picks_wheels_by_tag(tmp_path: Path) -> None:
    code, stderr, output = _import(tmp_path, SYNTHETIC, "--variant", "gpu=cu130")
    assert code == 0, stderr
    lock = load_lock(output)
    assert sorted(lock["cells"]) == ["cpu_linux_x86_64_cp311", "cu130_linux_x86_64_cp311"]
    cpu = {w["name"]: w for w in lock["cells"]["cpu_linux_x86_64_cp311"]["wheels"]}
    assert cpu["torch"]["sha256"] == _SHA["cpu"]  # the x86_64 wheel, not the aarch64 one
    assert cpu["torch"]["filename"] == "torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl"
    assert cpu["filelock"]["sha256"] == _SHA["fl"]  # the wheel, never the sdist
    cu = lock["cells"]["cu130_linux_x86_64_cp311"]["wheels"]
    assert [(w["name"], w["sha256"]) for w in cu] == [("filelock", _SHA["fl"]), ("torch", _SHA["cu"])]
    request = lock["request"]
    assert request["variants"] == ["cpu", "cu130"]
    assert request["torch"] is None  # the variants pin different torch releases
    assert request["from_uv"]["extras"] == {"cpu": "cpu", "cu130": "gpu"}
    assert request["from_uv"]["uv_lock_sha256"] == hashlib.sha256(SYNTHETIC.encode()).hexdigest()
    assert request["from_uv"]["args"] == ["--from-uv", str(tmp_path / "uv.lock"), "--variant", "gpu=cu130"]


def test_an_extra_that_is_not_a_variant_name_asks_for_a_mapping(tmp_path: Path) -> None:
    code, stderr, output = _import(tmp_path, SYNTHETIC)
    assert code == 2
    assert "the extra 'gpu' is not a variant name" in stderr
    assert "--variant gpu=<variant>" in stderr
    assert not output.exists()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        pytest.param(
            lambda t: re.sub(r'\[\[package\]\]\nname = "torch".*', "", t, flags=re.S),
            "has no torch package: nothing for rules_torch to import",
            id="no-torch",
        ),
        pytest.param(
            lambda t: t.replace(
                '{ package = "demo", extra = "gpu" },',
                '{ package = "demo", extra = "gpu" },\n    { package = "demo", extra = "rocm" },',
            ),
            "the conflict extra 'rocm' maps to no torch index",
            id="extra-without-index",
        ),
        pytest.param(
            lambda t: t.replace("version = 1\n", "version = 2\n", 1),
            "uv.lock version 2 is not one this importer knows",
            id="unknown-version",
        ),
        pytest.param(lambda t: t.replace("[[package]]", "[[package]", 1), "not valid TOML", id="not-toml"),
    ],
)
def test_bad_uv_locks_are_refused_and_nothing_is_written(tmp_path: Path, edit, message: str) -> None:
    output = tmp_path / "torch.lock.json"
    output.write_text("previous lock\n")
    code, stderr, _ = _import(tmp_path, edit(SYNTHETIC), "--variant", "gpu=cu130")
    assert code == 1, stderr
    assert message in stderr
    assert "The lock was not changed." in stderr
    assert output.read_text() == "previous lock\n"


def test_a_platform_uv_did_not_resolve_is_named(tmp_path: Path) -> None:
    code, stderr, output = _import(tmp_path, SYNTHETIC, "--variant", "gpu=cu130", "--platforms", "linux_aarch64")
    assert code == 1
    assert "uv did not resolve for linux_aarch64, Python 3.11" in stderr
    assert "[tool.uv] environments" in stderr
    assert not output.exists()


def test_a_python_outside_requires_python_is_named(tmp_path: Path) -> None:
    code, stderr, output = _import(tmp_path, SYNTHETIC, "--variant", "gpu=cu130", "--python", "3.12")
    assert code == 1
    assert "uv did not resolve for Python 3.12 (requires-python '==3.11.*')" in stderr
    assert not output.exists()


def _through_a_library(text: str) -> str:
    """The cpu extra takes torch through the project's own library, not directly."""
    torch = '{ name = "torch", version = "2.13.0+cpu", source = { registry = "https://example.com/cpu" } }'
    on_windows = torch[:-2] + ", marker = \"sys_platform == 'win32'\" }"
    text = text.replace(f"cpu = [{torch}]", f'cpu = [{{ name = "mylib" }}, {on_windows}]')
    return (
        text
        + f"""
[[package]]
name = "mylib"
version = "1.0"
source = {{ registry = "https://pypi.org/simple" }}
dependencies = [{torch}]
wheels = [{{ url = "https://example.com/mylib-1.0-py3-none-any.whl", hash = "sha256:{"e" * 64}" }}]
"""
    )


def test_torch_through_another_dependency_needs_all_packages(tmp_path: Path) -> None:
    code, stderr, output = _import(tmp_path, _through_a_library(SYNTHETIC), "--variant", "gpu=cu130")
    assert code == 1
    assert "the extra 'cpu' brings no torch" in stderr
    assert "torch comes through another of the project's dependencies (pass --all-packages)" in stderr
    assert not output.exists()
    code, stderr, output = _import(tmp_path, _through_a_library(SYNTHETIC), "--variant", "gpu=cu130", "--all-packages")
    assert code == 0, stderr
    cpu = [w["name"] for w in load_lock(output)["cells"]["cpu_linux_x86_64_cp311"]["wheels"]]
    assert cpu == ["filelock", "mylib", "torch"]


def test_pyproject_names_the_project(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "Demo"\nversion = "0.1.0"\n')
    pyproject = str(tmp_path / "pyproject.toml")
    code, stderr, output = _import(tmp_path, SYNTHETIC, "--variant", "gpu=cu130", "--pyproject", pyproject)
    assert code == 0, stderr
    assert load_lock(output)["request"]["from_uv"]["args"][-2:] == ["--pyproject", pyproject]
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "other"\n')
    code, stderr, _ = _import(tmp_path, SYNTHETIC, "--variant", "gpu=cu130", "--pyproject", pyproject)
    assert code == 1
    assert "the project 'other' is not one of its packages; is it the project's uv.lock?" in stderr


def test_a_missing_uv_lock_says_how_to_make_one(tmp_path: Path) -> None:
    code, stderr = invoke(["--from-uv", str(tmp_path / "nope.lock"), "--output", str(tmp_path / "out.json")])
    assert code == 1
    assert "no such file. Create it with `uv lock`" in stderr


# --- a real uv ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def uv_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if uv_binary() is None:
        pytest.skip("no uv: pip install -r tools/requirements_test.txt (or set RULES_TORCH_TEST_UV)")
    if not pypi_reachable():
        pytest.skip("PyPI (https://pypi.org/simple) is unreachable; uv lock needs it for what is not local")
    directory = tmp_path_factory.mktemp("uvproject")
    reason = make_project(directory, machine_sources())
    if reason:
        pytest.skip(reason)
    return directory


def _uv_export(project: Path, extra: str) -> dict[str, tuple[str, set[str]]]:
    """What uv itself installs for an extra: name -> (version, allowed sha256s), from `uv export`."""
    result = subprocess.run(
        [uv_binary(), "export", "--frozen", "--extra", extra, "--no-emit-project", "--format", "requirements-txt"],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    pins: dict[str, tuple[str, set[str]]] = {}
    for block in re.split(r"\n(?=[a-z0-9])", result.stdout):
        match = re.match(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==([^ ;\\\n]+)", block)
        if match:
            pins[match.group(1).lower()] = (match.group(2), set(re.findall(r"--hash=sha256:([0-9a-f]{64})", block)))
    return pins


def _file_sha256(url: str) -> str:
    with urllib.request.urlopen(url) as stream:
        return hashlib.sha256(stream.read()).hexdigest()


@pytest.mark.real_torch
@pytest.mark.parametrize("extra", ["cpu", "cu130"])
def test_real_uv_lock_imports_the_wheels_uv_installs(uv_project: Path, tmp_path: Path, extra: str) -> None:
    output = tmp_path / "torch.lock.json"
    code, stderr = invoke(
        ["--from-uv", str(uv_project / "uv.lock"), "--all-packages", "--output", str(output), "--no-cache"]
    )
    assert code == 0, stderr
    lock = load_lock(output)
    assert lock["request"]["variants"] == ["cpu", "cu130"]
    wheels = {w["name"]: w for w in lock["cells"][f"{extra}_linux_x86_64_cp311"]["wheels"]}
    expected = _uv_export(uv_project, extra)
    assert sorted(wheels) == sorted(expected)
    for name, wheel in wheels.items():
        version, hashes = expected[name]
        assert wheel["version"] == version, name
        if hashes:
            assert wheel["sha256"] in hashes, name
        else:  # uv records no hash for a flat index's local wheel: the importer hashes the file itself
            assert wheel["url"].startswith("file:"), name
            assert wheel["sha256"] == _file_sha256(wheel["url"]), name
    assert wheels["torch"]["version"] == {"cpu": "2.13.0+cpu", "cu130": "2.14.1"}[extra]
    if extra == "cu130":
        assert "nvidia-cudnn-cu13" in wheels
        assert wheels["cuda-toolkit"]["extras"][:2] == ["cublas", "cudart"]


@pytest.mark.real_torch
def test_real_uv_lock_leaves_the_projects_own_dependencies_to_pip_parse(uv_project: Path, tmp_path: Path) -> None:
    output = tmp_path / "torch.lock.json"
    code, stderr = invoke(["--from-uv", str(uv_project / "uv.lock"), "--output", str(output), "--no-cache"])
    assert code == 0, stderr
    cpu = {w["name"] for w in load_lock(output)["cells"]["cpu_linux_x86_64_cp311"]["wheels"]}
    assert "torch" in cpu
    assert "numpy" not in cpu  # the project's own dependency, not torch 2.13's
    cu130 = {w["name"] for w in load_lock(output)["cells"]["cu130_linux_x86_64_cp311"]["wheels"]}
    if "torchvision" in cu130:
        assert "numpy" in cu130  # torchvision's
    text = output.read_text()
    assert (
        json.loads(text)["request"]["from_uv"]["uv_lock_sha256"]
        == hashlib.sha256((uv_project / "uv.lock").read_bytes()).hexdigest()
    )
