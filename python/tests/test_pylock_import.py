"""pylock.toml in (--from-pylock): files written by the real uv, by pip 26 and by the lock tool itself
become a rules_torch lock; bad files are one clear error naming the file, the package and the fix."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import fake_wheels
import pytest
from locktest import UV, LockRun, invoke, lock_argv

from rules_torch.cells import Cell
from rules_torch.lockfile import load_lock

HERE = f"{sys.version_info.major}.{sys.version_info.minor}"


def _import(tmp_path: Path, *args: str) -> LockRun:
    output = tmp_path / "torch.lock.json"
    code, stderr = invoke([*args, "--output", str(output), "--cache-dir", str(tmp_path / "cache")])
    return LockRun(code, stderr, output)


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory, urls: fake_wheels.IndexUrls) -> tuple[LockRun, Path]:
    """A lock of 2 variants x 2 platforms x 2 Pythons and its --pylock-dir files."""
    tmp = tmp_path_factory.mktemp("ours")
    argv = lock_argv(
        urls, tmp / "torch.lock.json", tmp / "cache",
        "--torch", "2.5.1", "--torchvision", "0.20.1", "--variants", "cpu,cu121",
        "--platforms", "linux_x86_64,linux_aarch64", "--python", "3.11,3.12", "--pylock-dir", str(tmp),
    )  # fmt: skip
    code, stderr = invoke(argv)
    assert code == 0, stderr
    return LockRun(code, stderr, tmp / "torch.lock.json"), tmp


def _pairs(run: LockRun) -> dict[str, set[tuple[str, str, str, str]]]:
    return {
        key: {(w["name"], w["version"], w["url"], w["sha256"]) for w in cell["wheels"]}
        for key, cell in run.lock()["cells"].items()
    }


def test_our_pylock_files_import_to_the_same_cells(ours, tmp_path: Path) -> None:
    run, directory = ours
    imported = _import(
        tmp_path,
        "--from-pylock", str(directory / "pylock.cpu.toml"), "--from-pylock", str(directory / "pylock.cu121.toml"),
        "--platforms", "linux_x86_64,linux_aarch64", "--python", "3.11,3.12",
    )  # fmt: skip
    assert imported.code == 0, imported.stderr
    assert _pairs(imported) == _pairs(run)
    load_lock(imported.output)
    request = imported.lock()["request"]
    assert request["torch"] == "2.5.1"
    assert request["variants"] == ["cpu", "cu121"]
    files = request["from_pylock"]["files"]
    assert sorted(files) == [str(directory / "pylock.cpu.toml"), str(directory / "pylock.cu121.toml")]
    assert all(len(digest) == 64 for digest in files.values())


def _uv_pylock(urls: fake_wheels.IndexUrls, variant: str, out: Path) -> Path:
    """What a uv user writes: one universal pylock.<variant>.toml per PyTorch index."""
    path = out / f"pylock.{variant}.toml"
    subprocess.run(
        [UV, "pip", "compile", "--no-config", "--quiet", "--universal", "--python-version", "3.11",
         "--generate-hashes", "--only-binary", ":all:", "--format", "pylock.toml",
         "--index", urls.pytorch.format(variant=variant), "--default-index", urls.pypi, "-o", str(path), "-"],
        input="torch==2.5.1\n", text=True, check=True, capture_output=True,
    )  # fmt: skip
    return path


def test_uv_written_pylock_files(urls, tmp_path: Path) -> None:
    cpu, cu121 = _uv_pylock(urls, "cpu", tmp_path), _uv_pylock(urls, "cu121", tmp_path)
    run = _import(
        tmp_path, "--from-pylock", str(cpu), "--from-pylock", str(cu121),
        "--platforms", "linux_x86_64,linux_aarch64", "--python", "3.11,3.12",
    )  # fmt: skip
    assert run.code == 0, run.stderr
    assert run.cell("cpu_linux_x86_64_cp311")["torch"]["version"] == "2.5.1+cpu"
    cuda = run.cell("cu121_linux_x86_64_cp312")
    assert cuda["torch"]["filename"] == "torch-2.5.1+cu121-cp312-cp312-linux_x86_64.whl"
    assert "nvidia-cublas-cu12" in cuda and "triton" in cuda
    # torch's NVIDIA requirements say platform_machine == "x86_64": uv's markers keep them off aarch64.
    assert not [n for n in run.cell("cu121_linux_aarch64_cp311") if n.startswith("nvidia")]
    assert "setuptools" in run.cell("cpu_linux_x86_64_cp312") and "setuptools" not in run.cell("cpu_linux_x86_64_cp311")


def test_pip_written_pylock_file(urls, tmp_path: Path) -> None:
    """pip 26's `pip lock` locks for the machine it runs on: a lone pylock.toml, named with --variant."""
    path = tmp_path / "pylock.toml"
    subprocess.run(
        [sys.executable, "-m", "pip", "lock", "--isolated", "--disable-pip-version-check", "--only-binary", ":all:",
         "--index-url", urls.pytorch.format(variant="cpu"), "--extra-index-url", urls.pypi, "-o", str(path),
         "torch==2.5.1"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    run = _import(tmp_path, "--from-pylock", str(path), "--variant", "cpu", "--python", HERE)
    assert run.code == 0, run.stderr
    wheels = run.cell(Cell("cpu", "linux_x86_64", HERE).key)
    assert wheels["torch"]["version"] == "2.5.1+cpu"
    assert {"filelock", "jinja2", "sympy"} <= set(wheels)


@pytest.fixture()
def cpu_file(ours, tmp_path: Path) -> Path:
    _, directory = ours
    copy = tmp_path / "pylock.cpu.toml"
    copy.write_text((directory / "pylock.cpu.toml").read_text())
    return copy


def _bad(tmp_path: Path, file: Path, *args: str) -> str:
    run = _import(tmp_path, "--from-pylock", str(file), "--python", "3.11", *args)
    assert run.code == 1, run.stderr
    assert "Traceback" not in run.stderr
    assert not run.output.exists()  # nothing written
    assert run.stderr.count("error:") == 1  # printed once
    return run.stderr


def test_unknown_lock_version(cpu_file: Path, tmp_path: Path) -> None:
    cpu_file.write_text(cpu_file.read_text().replace('lock-version = "1.0"', 'lock-version = "2.0"'))
    stderr = _bad(tmp_path, cpu_file)
    assert f"{cpu_file}: lock-version '2.0' is not supported" in stderr
    assert "re-create it (uv pip compile --generate-hashes --format pylock.toml" in stderr


def test_malformed_toml(cpu_file: Path, tmp_path: Path) -> None:
    cpu_file.write_text(cpu_file.read_text().replace("[[packages]]", "[[packages]", 1))
    stderr = _bad(tmp_path, cpu_file)
    assert f"{cpu_file}: not valid TOML (" in stderr
    assert "re-create it with the tool that wrote it" in stderr


def test_a_package_with_only_an_sdist(cpu_file: Path, tmp_path: Path) -> None:
    text = cpu_file.read_text()
    start = text.index('name = "jinja2"')
    wheels = text.index("wheels = ", start)
    end = text.index("\n", wheels)
    sdist = 'sdist = { name = "jinja2-3.1.4.tar.gz", url = "https://files.example/jinja2-3.1.4.tar.gz", '
    sdist += f'hashes = {{ sha256 = "{"1" * 64}" }} }}'
    cpu_file.write_text(text[:wheels] + sdist + text[end:])
    stderr = _bad(tmp_path, cpu_file)
    cell = "cell cpu_linux_x86_64_cp311 (variant cpu, linux_x86_64, Python 3.11)"
    assert f"{cpu_file}: {cell}: jinja2 3.1.4 has only a source distribution" in stderr
    assert "rules_torch installs wheels only. Pin a version of jinja2 that publishes a wheel" in stderr


def test_markers_that_select_nothing_for_a_cell(cpu_file: Path, tmp_path: Path) -> None:
    stderr = _bad(tmp_path, cpu_file, "--platforms", "linux_x86_64,macos_arm64")
    cell = "cell cpu_macos_arm64_cp311 (variant cpu, macos_arm64, Python 3.11)"
    assert f"{cpu_file}: {cell}: the file's markers select nothing" in stderr
    assert "Leave the cell out with --platforms/--python" in stderr


def test_a_torch_of_another_variant_in_a_variants_file(cpu_file: Path, tmp_path: Path) -> None:
    wrong = tmp_path / "pylock.cu130.toml"
    wrong.write_text(cpu_file.read_text())
    stderr = _bad(tmp_path, wrong)
    cell = "cell cu130_linux_x86_64_cp311 (variant cu130, linux_x86_64, Python 3.11)"
    assert f"{wrong}: {cell}: torch 2.5.1+cpu is the cpu build, in the file of variant cu130" in stderr
    assert "https://download.pytorch.org/whl/cu130" in stderr


def test_a_wheel_url_that_is_neither_https_nor_file(cpu_file: Path, tmp_path: Path) -> None:
    text = cpu_file.read_text()
    line = next(line for line in text.splitlines() if "filelock-3.13.1" in line)
    url = line.split('url = "')[1].split('"')[0]
    cpu_file.write_text(text.replace(url, "http://mirror.example/filelock-3.13.1-py3-none-any.whl"))
    stderr = _bad(tmp_path, cpu_file)
    assert (
        "filelock 3.13.1: wheel URL http://mirror.example/filelock-3.13.1-py3-none-any.whl is neither https nor file"
        in stderr
    )
    assert "serve the index over https" in stderr


def test_a_missing_hash(cpu_file: Path, tmp_path: Path) -> None:
    text = cpu_file.read_text()
    line = next(line for line in text.splitlines() if "sympy-1.13.1" in line)
    cpu_file.write_text(text.replace(line, line.split(", hashes = ")[0] + ", hashes = {} }]"))
    stderr = _bad(tmp_path, cpu_file)
    assert f"{cpu_file}: sympy 1.13.1: wheel sympy-1.13.1-py3-none-any.whl has no sha256 hash" in stderr
    assert "(uv and pip record hashes)" in stderr


def test_a_lone_pylock_toml_needs_a_variant(cpu_file: Path, tmp_path: Path) -> None:
    lone = tmp_path / "pylock.toml"
    lone.write_text(cpu_file.read_text())
    run = _import(tmp_path, "--from-pylock", str(lone))
    assert run.code == 2
    assert "a pylock.toml names no variant; pass --variant NAME" in run.stderr


def test_the_lock_records_each_files_digest(cpu_file: Path, tmp_path: Path) -> None:
    """What the module extension compares to tell a stale import (tests/starlark/extension_tests.bzl)."""
    import hashlib

    run = _import(tmp_path, "--from-pylock", str(cpu_file), "--python", "3.11")
    assert run.code == 0, run.stderr
    from_pylock = run.lock()["request"]["from_pylock"]
    assert from_pylock["files"] == {str(cpu_file): hashlib.sha256(cpu_file.read_bytes()).hexdigest()}
    assert from_pylock["args"] == ["--from-pylock", str(cpu_file), "--python", "3.11"]
    assert json.loads(run.output.read_text())["request"]["index_url"] == ""
