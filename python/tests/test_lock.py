"""The lock tool end to end, against the fake indexes (uv runs for real, the network does not)."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import fake_wheels
import pytest
from locktest import UV, LockRun, invoke, lock_argv, run_cli

from rules_torch import uv_binary
from rules_torch.cells import Cell
from rules_torch.errors import LockError
from rules_torch.hashing import HashCache
from rules_torch.index import file_url_to_path
from rules_torch.lockfile import load_lock
from rules_torch.metadata import MetadataReader

MATRIX = (
    "--torch",
    "2.5.1",
    "--torchvision",
    "0.20.1",
    "--variants",
    "cpu,cu121,cu130,rocm6.2",
    "--platforms",
    "linux_x86_64,linux_aarch64,macos_arm64",
    "--python",
    "3.11,3.12",
    "--skip-missing",
)


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory, urls: fake_wheels.IndexUrls) -> tuple[LockRun, Path]:
    """One lock of many cells, shared by the closure tests (it is the slow part)."""
    tmp = tmp_path_factory.mktemp("matrix")
    requirements = tmp / "requirements"
    argv = lock_argv(urls, tmp / "torch.lock.json", tmp / "cache", *MATRIX, "--requirements-dir", str(requirements))
    code, stderr = invoke(argv)
    return LockRun(code, stderr, tmp / "torch.lock.json"), requirements


def _names(run: LockRun, key: str) -> set[str]:
    return set(run.cell(key))


def test_matrix_locks_every_published_cell(matrix) -> None:
    run, _ = matrix
    assert run.code == 0, run.stderr
    cells = run.lock()["cells"]
    assert sorted(cells) == sorted(
        Cell(v, p, py).key
        for v, p in [
            ("cpu", "linux_x86_64"),
            ("cpu", "linux_aarch64"),
            ("cpu", "macos_arm64"),
            ("cu121", "linux_x86_64"),
            ("cu121", "linux_aarch64"),
            ("cu130", "linux_x86_64"),
            ("cu130", "linux_aarch64"),
            ("rocm6.2", "linux_x86_64"),
        ]
        for py in ("3.11", "3.12")
    )
    # CUDA/ROCm on macOS, ROCm on aarch64: never published, left out with a warning.
    assert "warning: skipped cu121_macos_arm64_cp311: torch 2.5.1 for cu121 has no wheel for macos_arm64" in run.stderr
    assert "rocm6.2_linux_aarch64_cp312" in run.stderr
    load_lock(run.output)


def test_cuda_closure_follows_target_markers(matrix) -> None:
    run, _ = matrix
    nvidia = {"nvidia-cublas-cu12", "nvidia-cuda-runtime-cu12", "nvidia-cudnn-cu12", "nvidia-nccl-cu12"}
    common = {"torch", "torchvision", "filelock", "typing-extensions", "jinja2", "markupsafe", "sympy", "mpmath"}
    common |= {"numpy", "pillow"}
    assert _names(run, "cu121_linux_x86_64_cp311") == common | nvidia | {"triton"}
    # torch's NVIDIA and triton requirements say platform_machine == "x86_64": pip on this
    # x86_64 machine would add them to the aarch64 cell unless the markers are the target's.
    assert _names(run, "cu121_linux_aarch64_cp311") == common
    assert _names(run, "cpu_macos_arm64_cp311") == common
    # setuptools is required only for python_version >= "3.12".
    assert _names(run, "cpu_macos_arm64_cp312") == common | {"setuptools"}
    assert _names(run, "rocm6.2_linux_x86_64_cp311") == common | {"pytorch-triton-rocm"}


def test_versions_and_urls_name_the_variants_builds(matrix, urls) -> None:
    run, _ = matrix
    cpu = run.cell("cpu_linux_x86_64_cp311")
    assert cpu["torch"]["version"] == "2.5.1+cpu"  # --torch 2.5.1 accepts the +cpu build
    assert cpu["torch"]["filename"] == "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl"
    assert cpu["torch"]["url"] == urls.pytorch.format(variant="cpu") + "/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl"
    assert run.cell("cpu_macos_arm64_cp312")["torch"]["filename"] == "torch-2.5.1-cp312-none-macosx_11_0_arm64.whl"
    assert run.cell("cu121_linux_aarch64_cp312")["torchvision"]["version"] == "0.20.1+cu121"
    assert run.cell("rocm6.2_linux_x86_64_cp312")["torch"]["version"] == "2.5.1+rocm6.2"
    for cell in run.lock()["cells"].values():
        for wheel in cell["wheels"]:
            assert wheel["filename"].endswith(".whl")


def test_hashes_from_the_index_match_the_files(matrix, indexes) -> None:
    run, _ = matrix
    for cell in run.lock()["cells"].values():
        for wheel in cell["wheels"]:
            data = file_url_to_path(wheel["url"]).read_bytes()
            assert wheel["sha256"] == hashlib.sha256(data).hexdigest(), wheel["filename"]


def test_first_index_strategy_keeps_the_variant_indexes_copy(matrix, urls) -> None:
    run, _ = matrix
    filelock = run.cell("cu121_linux_x86_64_cp311")["filelock"]
    # "PyPI" has filelock 3.16.1 too; pip alone would take it.
    assert filelock["version"] == "3.13.1"
    assert filelock["url"].startswith(urls.pytorch_root + "/")
    assert run.cell("cu121_linux_x86_64_cp311")["mpmath"]["url"].startswith(urls.pypi.rsplit("/", 1)[0])
    # The NVIDIA wheels are on both; the variant index's copy wins.
    assert run.cell("cu121_linux_x86_64_cp311")["nvidia-cublas-cu12"]["url"].startswith(urls.pytorch_root + "/")


def test_merging_indexes_would_take_pypis_copy(urls) -> None:
    """The control for the test above: uv told to merge the indexes takes "PyPI"'s newer filelock."""
    args = [UV, "pip", "compile", "--no-config", "--quiet", "--format", "pylock.toml", "--no-header"]
    args += Cell("cu121", "linux_x86_64", "3.11").uv_target_args()
    args += ["--index", urls.pytorch.format(variant="cu121"), "--default-index", urls.pypi, "-"]
    merged = subprocess.run([*args, "--index-strategy", "unsafe-best-match"], input="torch==2.5.1\n",
                            capture_output=True, text=True, check=True)  # fmt: skip
    assert 'name = "filelock"\nversion = "3.16.1"' in merged.stdout
    first = subprocess.run(args, input="torch==2.5.1\n", capture_output=True, text=True, check=True)
    assert 'name = "filelock"\nversion = "3.13.1"' in first.stdout


def test_one_index_listing_every_variant_serves_each_its_own_build(run_lock, urls) -> None:
    """PyTorch's root index (or a mirror, a find-links directory) lists cpu, cu118, cu121, rocm6.2 builds
    together; uv alone would take the highest label for every cell."""
    run = run_lock(
        "--torch", "2.5.1", "--torchvision", "0.20.1", "--variants", "cpu,cu118,cu121,rocm6.2",
        "--python", "3.11", "--index-url", urls.pytorch_root,
    )  # fmt: skip
    assert run.code == 0, run.stderr
    for variant in ("cpu", "cu118", "cu121", "rocm6.2"):
        wheels = run.cell(f"{variant}_linux_x86_64_cp311")
        assert wheels["torch"]["version"] == f"2.5.1+{variant}"
        assert wheels["torchvision"]["version"] == f"0.20.1+{variant}"
        for wheel in wheels.values():
            label = wheel["version"].partition("+")[2]
            assert label in ("", variant), (variant, wheel["filename"])


def test_an_index_failing_mid_resolution_fails_the_cell(routes, urls, tmp_path: Path, monkeypatch) -> None:
    """The first index answers 500 for filelock: the cell fails naming it; it never falls through
    to the next index, which has filelock (that would be dependency confusion)."""
    base, table = routes
    table["/cpu/filelock/"] = (500, b"")  # every other project: 404, so torch comes from the next index
    monkeypatch.setenv("UV_HTTP_RETRIES", "0")
    output = tmp_path / "torch.lock.json"
    code, stderr = invoke(lock_argv(
        urls, output, tmp_path / "cache", "--torch", "2.5.1", "--variants", "cpu", "--python", "3.11",
        "--index-url", base + "/{variant}", "--extra-index-url", urls.pytorch.format(variant="cpu"),
        "--extra-index-url", urls.pypi,
    ))  # fmt: skip
    assert code == 1, stderr
    assert f"error: cpu_linux_x86_64_cp311: cannot read {base}/cpu/filelock/: " in stderr
    assert "500" in stderr
    assert "Traceback" not in stderr
    assert not output.exists()


def test_extras_of_transitive_dependencies(matrix) -> None:
    run, requirements = matrix
    for key in ("cu130_linux_x86_64_cp311", "cu130_linux_aarch64_cp312"):
        wheels = run.cell(key)
        assert wheels["cuda-toolkit"]["extras"] == sorted(fake_wheels.CU130_TOOLKIT_EXTRAS)
        assert {"nvidia-cublas", "nvidia-cuda-runtime", "nvidia-cuda-nvrtc"} <= set(wheels)
        assert "nvidia-cufft" not in wheels  # an extra torch does not ask for
        assert all(w["extras"] == [] for name, w in wheels.items() if name != "cuda-toolkit")
    text = (requirements / "requirements_cu130_linux_x86_64_cp311.txt").read_text()
    assert "\ncuda-toolkit[cublas,cudart,nvrtc]==13.0.3 \\\n    --hash=sha256:" in text


def test_closure_follows_extras_that_enable_extras() -> None:
    # torch -> b and a[x]; a's extra x -> b[y] (b, seen first without extras, gains one); b's
    # extra y -> c; d only under an extra nobody asks for, e only on Windows.
    from rules_torch.lockfile import Request
    from rules_torch.resolve import closure

    request = Request("2.5.1", None, None, ["cpu"], ["linux_x86_64"], ["3.11"], "https://example.com/simple", [], [])
    requires = {
        "torch": ["b", "a[x]>=1", "e; sys_platform == 'win32'"],
        "a": ["b[y]; extra == 'x'", "d; extra == 'unused'"],
        "b": ["c; extra == 'y'", "a"],
        "c": [],
        "d": [],
        "e": [],
    }
    versions = dict.fromkeys(["torch", "a", "b", "c"], "1.0")
    extras, parents = closure(Cell("cpu", "linux_x86_64", "3.11"), request, versions, requires)
    assert extras == {"torch": set(), "a": {"x"}, "b": {"y"}, "c": set()}
    assert parents == {"torch": set(), "a": {"torch", "b"}, "b": {"torch", "a"}, "c": {"b"}}
    with pytest.raises(LockError, match=r'b needs c; extra == "y" but uv.s resolution has no c'):
        closure(Cell("cpu", "linux_x86_64", "3.11"), request, {"torch": "1", "a": "1", "b": "1"}, requires)


def test_requirements_files_one_per_cell(matrix) -> None:
    run, requirements = matrix
    expected = {f"requirements_{key}.txt" for key in run.lock()["cells"]}
    assert {p.name for p in requirements.iterdir()} == expected
    text = (requirements / "requirements_rocm6.2_linux_x86_64_cp311.txt").read_text()
    assert "--index-url " + run.lock()["request"]["index_url"].format(variant="rocm6.2") in text
    assert "\ntorch==2.5.1+rocm6.2 \\\n" in text
    for wheel in run.lock()["cells"]["rocm6.2_linux_x86_64_cp311"]["wheels"]:
        assert f"--hash=sha256:{wheel['sha256']}" in text


def _pip_check(requirements: Path, cell: Cell, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--isolated",
            "--dry-run",
            "--ignore-installed",
            "--no-cache-dir",
            "--require-hashes",
            "--target",
            str(tmp_path / "t"),
            *cell.pip_target_args(),
            "-r",
            str(requirements),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("key", ["cu130_linux_x86_64_cp311", "cpu_macos_arm64_cp312"])
def test_requirements_file_installs_with_require_hashes(matrix, tmp_path: Path, key: str) -> None:
    run, requirements = matrix
    spec = run.lock()["cells"][key]
    cell = Cell(spec["variant"], spec["platform"], spec["python"])
    path = requirements / f"requirements_{key}.txt"
    result = _pip_check(path, cell, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Would install" in result.stdout
    # The control: one wrong hash and pip refuses.
    wrong = tmp_path / "wrong.txt"
    torch_hash = run.cell(key)["torch"]["sha256"]
    wrong.write_text(path.read_text().replace(torch_hash, "0" * 64))
    result = _pip_check(wrong, cell, tmp_path)
    assert result.returncode != 0
    assert "DO NOT MATCH THE HASHES" in result.stderr


def test_windows_cells(run_lock) -> None:
    run = run_lock("--torch", "2.5.1", "--variants", "cpu,cu121", "--platforms", "windows_amd64", "--python", "3.11")
    assert run.code == 0, run.stderr
    cuda = run.cell("cu121_windows_amd64_cp311")
    assert cuda["torch"]["filename"] == "torch-2.5.1+cu121-cp311-cp311-win_amd64.whl"
    assert not [name for name in cuda if name.startswith(("nvidia", "triton"))]
    assert run.cell("cpu_windows_amd64_cp311")["markupsafe"]["filename"].endswith("win_amd64.whl")


def test_index_without_local_labels_serves_its_variant(run_lock, urls) -> None:
    run = run_lock(
        "--torch", "2.5.1", "--variants", "cu130", "--python", "3.12", "--index-url", urls.cu130_nolabel
    )  # fmt: skip
    assert run.code == 0, run.stderr
    assert list(run.lock()["cells"]) == ["cu130_linux_x86_64_cp312"]
    wheels = run.cell("cu130_linux_x86_64_cp312")
    assert wheels["torch"]["version"] == "2.5.1"
    assert wheels["torch"]["url"].startswith(urls.cu130_nolabel.rsplit("/", 1)[0])
    assert wheels["cuda-toolkit"]["extras"] == ["cublas", "cudart", "nvrtc"]


def test_relock_is_byte_identical(run_lock, tmp_path: Path) -> None:
    args = ("--torch", "2.5.1", "--torchaudio", "2.5.1", "--platforms", "linux_x86_64,macos_arm64", "--python", "3.11")
    first = run_lock(*args, "--variants", "cu118,cpu", "--skip-missing", output=tmp_path / "a.json")
    second = run_lock(*args, "--variants", "cpu,cu118", "--skip-missing", output=tmp_path / "b.json")
    assert first.code == second.code == 0, first.stderr + second.stderr
    data = first.output.read_bytes()
    assert data == second.output.read_bytes()
    assert data.endswith(b"}\n")
    assert data.decode() == json.dumps(json.loads(data), indent=2, sort_keys=True) + "\n"
    request = first.lock()["request"]
    assert request["variants"] == ["cpu", "cu118"]
    assert request["torchaudio"] == "2.5.1"
    assert request["torchvision"] is None


def _uv_alone_reads(server, index: str, pypi: str, name: str) -> int:
    """How often uv by itself, cache off, reads ``name`` to lock torch 2.5.1 from ``index``: the control."""
    server.reset()
    subprocess.run(
        [UV, "pip", "compile", "--no-config", "--no-cache", "--quiet", "--format", "pylock.toml", "--generate-hashes",
         *Cell("cpu", "linux_x86_64", "3.11").uv_target_args(), "--index", index, "--default-index", pypi, "-"],
        input="torch==2.5.1\n", capture_output=True, text=True, check=True,
    )  # fmt: skip
    reads = server.count(name)
    server.reset()
    return reads


def test_hashes_are_computed_when_the_index_gives_none(run_lock, server, indexes, tmp_path: Path) -> None:
    served = indexes.urls(server.url)
    name = "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl"
    uv_reads = _uv_alone_reads(server, served.pytorch_metadata_nohash.format(variant="cpu"), served.pypi, name)
    assert uv_reads >= 1  # uv downloads what it must hash
    args = ("--torch", "2.5.1", "--variants", "cpu", "--python", "3.11", "--extra-index-url", served.pypi)
    run = run_lock(*args, "--index-url", served.pytorch_metadata_nohash, "--no-cache")
    assert run.code == 0, run.stderr
    assert run.cell("cpu_linux_x86_64_cp311")["torch"]["sha256"] == indexes.sha256(name)
    # The tool itself reads the PEP 658 metadata, never the wheel: uv's reads are all there are.
    assert server.count(name + ".metadata") == 1
    assert server.count(name) == uv_reads
    again = run_lock(*args, "--index-url", served.pytorch_metadata_nohash, output=tmp_path / "again.json")
    assert again.code == 0, again.stderr
    assert again.output.read_bytes() == run.output.read_bytes()


def test_index_without_hashes_or_metadata_links(run_lock, server, indexes) -> None:
    """Neither hashes nor PEP 658 attributes on the page: uv downloads the wheel to hash it; the
    tool still finds the wheel's ``.metadata`` file next to it and reads no wheel itself."""
    served = indexes.urls(server.url)
    name = "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl"
    uv_reads = _uv_alone_reads(server, served.pytorch_nohash.format(variant="cpu"), served.pypi, name)
    run = run_lock(
        "--torch", "2.5.1", "--variants", "cpu", "--python", "3.11", "--no-cache",
        "--index-url", served.pytorch_nohash, "--extra-index-url", served.pypi,
    )  # fmt: skip
    assert run.code == 0, run.stderr
    assert run.cell("cpu_linux_x86_64_cp311")["torch"]["sha256"] == indexes.sha256(name)
    assert server.count(name) == uv_reads
    assert server.count(name + ".metadata") == 1


def test_hash_cache_is_keyed_by_url(server, indexes, tmp_path: Path) -> None:
    """The tool's own download (a wheel whose sha256 no source gives) and its cache."""
    served = indexes.urls(server.url)
    name = "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl"
    url = f"{served.pytorch_root}/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl"
    cache = HashCache(tmp_path / "cache", timeout=5)
    assert cache.sha256(url) == indexes.sha256(name)
    assert HashCache(tmp_path / "cache", timeout=5).sha256(url) == indexes.sha256(name)
    assert server.count(name) == 1
    with pytest.raises(LockError, match=r"cannot download .*missing\.whl to compute its sha256"):
        cache.sha256(served.pytorch_root + "/missing.whl")


def test_hashes_from_the_index_need_no_download(run_lock, server, indexes) -> None:
    served = indexes.urls(server.url)
    name = "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl"
    run = run_lock(
        "--torch", "2.5.1", "--variants", "cpu", "--python", "3.11", "--no-cache",
        "--index-url", served.pytorch, "--extra-index-url", served.pypi,
    )  # fmt: skip
    assert run.code == 0, run.stderr
    wheel = run.cell("cpu_linux_x86_64_cp311")["torch"]
    assert wheel["sha256"] == indexes.sha256(name)
    assert wheel["url"] == f"{server.url}/whl/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl"
    # Hashes and metadata from the index: neither uv nor the tool reads the wheel (metadata only).
    assert server.count(name) == 0
    assert server.count(name + ".metadata") >= 1


def test_find_links_wheels_are_hashed(run_lock, indexes, urls, tmp_path: Path) -> None:
    links = tmp_path / "links"
    links.mkdir()
    name = "torch-2.6.0+cpu-cp311-cp311-linux_x86_64.whl"
    (links / name).write_bytes(indexes.wheels[name].read_bytes())
    # An index with no torch at all: torch can only come from the find-links directory.
    run = run_lock(
        "--torch", "2.6.0", "--variants", "cpu", "--python", "3.11",
        "--index-url", urls.pypi, "--find-links", str(links),
    )  # fmt: skip
    assert run.code == 0, run.stderr
    torch = run.cell("cpu_linux_x86_64_cp311")["torch"]
    assert torch["url"] == (links / name).as_uri()  # file: URLs as Python writes them, whoever resolved
    assert torch["sha256"] == indexes.sha256(name)


def test_missing_variant_is_named_with_the_existing_ones(run_lock) -> None:
    args = ("--torch", "2.6.0", "--variants", "cpu,cu118,cu121", "--python", "3.11")
    run = run_lock(*args)
    assert run.code == 1
    assert "cu118_linux_x86_64_cp311: torch 2.6.0 was never built for variant cu118" in run.stderr
    assert "variants with torch 2.6.0: cpu, cu130" in run.stderr  # cu130 known from the root listing
    assert "--skip-missing" in run.stderr
    assert "Traceback" not in run.stderr
    assert not run.output.exists()

    skipped = run_lock(*args, "--skip-missing")
    assert skipped.code == 0, skipped.stderr
    assert "warning: skipped cu121_linux_x86_64_cp311: torch 2.6.0 was never built for variant cu121" in skipped.stderr
    assert list(skipped.lock()["cells"]) == ["cpu_linux_x86_64_cp311"]
    assert skipped.lock()["request"]["variants"] == ["cpu", "cu118", "cu121"]


def test_every_cell_missing_is_an_error_even_when_skipping(run_lock) -> None:
    run = run_lock("--torch", "2.5.1", "--variants", "cu118", "--platforms", "macos_arm64", "--skip-missing")
    assert run.code == 1
    assert "nothing to lock" in run.stderr


def test_torch_version_not_found(run_lock) -> None:
    run = run_lock("--torch", "2.9.0", "--variants", "cpu", "--python", "3.11")
    assert run.code == 1
    assert "cpu_linux_x86_64_cp311: torch 2.9.0 not found on" in run.stderr
    assert "2.6.0+cpu" in run.stderr  # what the index has instead
    assert "Check --torch" in run.stderr


def test_conflicting_requirements(run_lock) -> None:
    run = run_lock("--torch", "2.5.1", "--torchvision", "0.21.0", "--variants", "cpu", "--python", "3.11")
    assert run.code == 1
    assert "cpu_linux_x86_64_cp311: the requested versions conflict" in run.stderr
    assert "torchvision>=0.21.0+cpu depends on torch==2.6.0+cpu" in run.stderr  # uv's explanation
    assert "Choose versions released together" in run.stderr


def test_dependency_missing_from_every_index(run_lock) -> None:
    # Without "PyPI" nothing serves jinja2, which torch needs.
    run = run_lock("--torch", "2.5.1", "--variants", "cpu", "--python", "3.11", "--extra-index-url", "")
    assert run.code == 1
    assert "cpu_linux_x86_64_cp311: no wheel of jinja2 (required by torch" in run.stderr
    assert "Add an index that has it with --extra-index-url" in run.stderr


def test_unreachable_index_is_one_clear_line(tmp_path: Path) -> None:
    result = run_cli(
        "--torch", "2.5.1", "--variants", "cpu", "--python", "3.11",
        "--index-url", "http://127.0.0.1:9/whl/{variant}", "--output", str(tmp_path / "lock.json"),
    )  # fmt: skip
    assert result.returncode == 1
    assert "error: cpu_linux_x86_64_cp311: cannot read http://127.0.0.1:9/whl/cpu/torch/" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "lock.json").exists()


def test_failure_leaves_the_old_lock_intact(run_lock, tmp_path: Path) -> None:
    output = tmp_path / "torch.lock.json"
    good = run_lock("--torch", "2.5.1", "--variants", "cpu", "--python", "3.11", output=output)
    assert good.code == 0, good.stderr
    output.chmod(0o640)
    before = output.read_bytes()
    bad = run_lock("--torch", "2.5.1", "--variants", "cpu", "--python", "3.11", "--index-url", "http://127.0.0.1:9/x")
    assert bad.code == 1
    assert "The lock was not changed." in bad.stderr
    assert output.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == []
    # A successful re-lock replaces the file and keeps its mode.
    again = run_lock("--torch", "2.5.1", "--variants", "cpu,cu121", "--python", "3.11", output=output)
    assert again.code == 0, again.stderr
    assert stat.S_IMODE(output.stat().st_mode) == 0o640
    assert "cu121_linux_x86_64_cp311" in again.lock()["cells"]


def test_write_failure_is_reported_without_traceback(run_lock, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    run = run_lock("--torch", "2.5.1", "--variants", "cpu", "--python", "3.11", output=blocker / "torch.lock.json")
    assert run.code == 1
    assert run.stderr.startswith("locking") and "error:" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--platforms", "linux_x86_64,win64"),
            "unknown platform 'win64' in --platforms; valid platforms: linux_x86_64",
        ),
        (("--variants", "cuda118"), "unknown variant 'cuda118' in --variants; valid forms: cpu, cu<NNN>"),
        (("--python", "3"), "invalid Python version '3'"),
    ],
)
def test_bad_options_exit_2_with_the_valid_choices(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    result = run_cli("--torch", "2.5.1", *args, "--output", str(tmp_path / "lock.json"))
    assert result.returncode == 2
    assert message in result.stderr
    assert "usage: python3 -m rules_torch.lock" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_reads_like_a_cli() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for option in ("--torch VERSION", "--variants LIST", "--platforms LIST", "--index-url URL", "--find-links"):
        assert option in result.stdout
    assert "https://download.pytorch.org/whl/{variant}" in result.stdout
    assert "exit status:" in result.stdout
    assert run_cli("--version").stdout.startswith("python3 -m rules_torch.lock ")


def test_paths_are_relative_to_where_bazel_run_was_typed(indexes, urls, tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    result = run_cli(
        "--torch", "2.5.1", "--variants", "cpu", "--python", "3.11", "--index-url", urls.pytorch,
        "--extra-index-url", urls.pypi, "--output", "third_party/torch.lock.json", "--no-cache",
        cwd=indexes.root, env={"BUILD_WORKING_DIRECTORY": str(workspace)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (workspace / "third_party" / "torch.lock.json").is_file()
    assert os.listdir(workspace) == ["third_party"]


def test_machine_pip_configuration_does_not_leak_in(run_lock, urls, tmp_path: Path, monkeypatch) -> None:
    # A configuration that adds an index (as /etc/pip.conf does in some places): honouring
    # it would let "PyPI" serve jinja2 although the lock was given no index that has it.
    config = tmp_path / "pip.conf"
    config.write_text(f"[global]\nextra-index-url = {urls.pypi}\nfind-links = {tmp_path}\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(config))
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", urls.pypi)
    # uv's own settings would do the same: the tool runs uv with --no-config and without UV_*.
    for variable in ("UV_INDEX", "UV_EXTRA_INDEX_URL", "UV_DEFAULT_INDEX", "UV_FIND_LINKS"):
        monkeypatch.setenv(variable, urls.pypi)
    monkeypatch.setenv("UV_INDEX_STRATEGY", "unsafe-best-match")
    (tmp_path / "uv.toml").write_text(f'extra-index-url = ["{urls.pypi}"]\n')
    monkeypatch.chdir(tmp_path)
    run = run_lock("--torch", "2.5.1", "--variants", "cpu", "--python", "3.11", "--extra-index-url", "")
    assert run.code == 1
    assert "no wheel of jinja2" in run.stderr


def test_requirements_files_without_index_options(run_lock, indexes, tmp_path: Path) -> None:
    links = tmp_path / "links"
    links.mkdir()
    requirements = tmp_path / "requirements"
    args = ("--torch", "2.5.1", "--variants", "cpu", "--python", "3.11", "--find-links", str(links))
    run = run_lock(*args, "--requirements-dir", str(requirements), "--no-emit-index-url", "--no-emit-find-links")
    assert run.code == 0, run.stderr
    text = (requirements / "requirements_cpu_linux_x86_64_cp311.txt").read_text()
    options = [line for line in text.splitlines() if line.startswith("--")]
    assert options == []
    assert "--no-emit-index-url --no-emit-find-links" in text  # in the command of the header
    assert "\ntorch==2.5.1+cpu \\\n" in text
    with_options = run_lock(*args, "--requirements-dir", str(requirements))
    assert with_options.code == 0, with_options.stderr
    text = (requirements / "requirements_cpu_linux_x86_64_cp311.txt").read_text()
    assert [line.split()[0] for line in text.splitlines() if line.startswith("--")] == [
        "--index-url",
        "--extra-index-url",
        "--find-links",
    ]


def test_variant_without_a_directory_in_a_local_index(run_lock) -> None:
    run = run_lock("--torch", "2.5.1", "--variants", "cu124", "--python", "3.11")
    assert run.code == 1
    assert "torch 2.5.1 was never built for variant cu124" in run.stderr
    assert "variants with torch 2.5.1: cpu, cu118, cu121, cu130, rocm6.2" in run.stderr


def test_missing_extra_index_directory_is_an_error(run_lock, tmp_path: Path) -> None:
    run = run_lock("--torch", "2.5.1", "--variants", "cpu", "--extra-index-url", (tmp_path / "nowhere").as_uri())
    assert run.code == 1
    assert f"cannot read {(tmp_path / 'nowhere').as_uri()}: no such directory" in run.stderr


def test_with_locks_more_requirements_into_every_cell(run_lock, tmp_path: Path) -> None:
    run = run_lock(
        "--torch", "2.5.1", "--with", "numpy<3", "--variants", "cpu,cu121",
        "--platforms", "linux_x86_64", "--python", "3.11",
        "--requirements-dir", str(tmp_path / "requirements"),
    )  # fmt: skip
    assert run.code == 0, run.stderr
    for key in ("cpu_linux_x86_64_cp311", "cu121_linux_x86_64_cp311"):
        assert run.cell(key)["numpy"]["version"] == "2.1.2"
    assert run.lock()["request"]["with"] == ["numpy<3"]
    load_lock(run.output)
    requirements = (tmp_path / "requirements" / "requirements_cpu_linux_x86_64_cp311.txt").read_text()
    assert "numpy==2.1.2" in requirements
    assert "--with 'numpy<3'" in requirements  # the re-lock command in its header


def test_without_with_the_lock_has_no_with_field(run_lock) -> None:
    run = run_lock("--torch", "2.5.1", "--variants", "cpu", "--python", "3.11")
    assert run.code == 0, run.stderr
    assert "with" not in run.lock()["request"]
    assert "numpy" not in run.cell("cpu_linux_x86_64_cp311")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("numpy>>2", "--with 'numpy>>2' is not a requirement"),
        ("torch", "--with 'torch': lock torch with --torch VERSION instead"),
        ("numpy @ https://example.com/numpy.whl", "names a URL"),
    ],
)
def test_bad_with_exits_2(tmp_path: Path, value: str, message: str) -> None:
    result = run_cli("--torch", "2.5.1", "--with", value, "--output", str(tmp_path / "lock.json"))
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "lock.json").exists()


def test_with_the_same_project_twice_exits_2(tmp_path: Path) -> None:
    result = run_cli("--torch", "2.5.1", "--with", "numpy", "--with", "NumPy<3", "--output", str(tmp_path / "l.json"))
    assert result.returncode == 2
    assert "--with 'NumPy<3': numpy is already requested ('numpy')" in result.stderr


def test_a_missing_uv_names_the_fix(run_lock, tmp_path: Path) -> None:
    run = run_lock("--torch", "2.5.1", "--uv", str(tmp_path / "no-uv"))
    assert run.code == 1
    assert f"--uv {tmp_path / 'no-uv'}: no such uv binary; install uv 0.8.0 or newer (`pip install uv`" in run.stderr
    assert "bazel run @rules_torch//python:lock" in run.stderr
    assert "Traceback" not in run.stderr
    assert not run.output.exists()


def test_no_uv_anywhere_names_the_fix(run_lock, monkeypatch) -> None:
    monkeypatch.setenv("PATH", "")
    monkeypatch.setattr(uv_binary, "_from_package", lambda: None)
    uv_binary.find_uv.cache_clear()
    code, stderr = invoke(["--torch", "2.5.1", "--output", "unused.json"])
    uv_binary.find_uv.cache_clear()
    assert code == 1
    assert "the lock tool resolves with uv, but no uv was found (--uv, PATH); install uv 0.8.0 or newer" in stderr


def test_a_uv_too_old_names_the_fix(run_lock, tmp_path: Path) -> None:
    # Only the version check is under test: a program that answers like uv 0.4.30 did.
    old = tmp_path / "uv"
    old.write_text("#!/bin/sh\necho 'uv 0.4.30'\n")
    old.chmod(0o755)
    run = run_lock("--torch", "2.5.1", "--uv", str(old))
    assert run.code == 1
    assert f"uv 0.4.30 at {old} is too old: the lock tool needs uv 0.8.0 or newer" in run.stderr
    assert not run.output.exists()


def test_remote_requires_dist_is_read_once_and_cached(server, indexes, tmp_path: Path) -> None:
    """A remote wheel's Requires-Dist comes from its PEP 658 file, remembered by URL and sha256."""
    served = indexes.urls(server.url)
    name = "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl"
    url = f"{served.pytorch_root}/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl"
    hashes, sha256 = HashCache(None, timeout=5), indexes.sha256(name)
    first = MetadataReader(hashes, 5, tmp_path / "cache").requires_dist(url, name, sha256)
    assert any(r.startswith("filelock") for r in first)
    assert server.count(name + ".metadata") == 1
    assert server.count(name) == 0  # the metadata only, never the wheel
    assert MetadataReader(hashes, 5, tmp_path / "cache").requires_dist(url, name, sha256) == first
    assert server.count(name + ".metadata") == 1  # from the cache
    assert MetadataReader(hashes, 5, None).requires_dist(url, name, sha256) == first
    assert server.count(name + ".metadata") == 2  # --no-cache


def test_local_requires_dist_reads_the_central_directory(indexes) -> None:
    """A local wheel's METADATA through the zip's central directory: the same as zipfile's reading."""
    import zipfile

    from rules_torch.metadata import _metadata_of_local_wheel

    for filename, path in sorted(indexes.wheels.items())[:40]:
        with zipfile.ZipFile(path) as archive:
            entry = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
            assert _metadata_of_local_wheel(path, filename) == archive.read(entry), filename
