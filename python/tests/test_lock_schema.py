"""The lock schema validator: every message names the file and the cell or wheel, and says what to do."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from rules_torch import lock_schema
from rules_torch.lockfile import LockSchemaError, dumps, load_lock, lock_document, parse_document, validate

SHA = "0123456789abcdef" * 4
VALID = {
    "schema_version": 1,
    "request": {
        "torch": "2.13.0",
        "torchvision": None,
        "torchaudio": None,
        "variants": ["cpu"],
        "platforms": ["linux_x86_64"],
        "pythons": ["3.11"],
        "index_url": "https://download.pytorch.org/whl/{variant}",
        "extra_index_urls": ["https://pypi.org/simple"],
        "find_links": [],
    },
    "cells": {
        "cpu_linux_x86_64_cp311": {
            "variant": "cpu",
            "platform": "linux_x86_64",
            "python": "3.11",
            "wheels": [
                {
                    "name": "filelock",
                    "version": "3.13.1",
                    "filename": "filelock-3.13.1-py3-none-any.whl",
                    "url": "https://files.example/filelock-3.13.1-py3-none-any.whl",
                    "sha256": SHA,
                    "extras": [],
                },
                {
                    "name": "torch",
                    "version": "2.13.0+cpu",
                    "filename": "torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl",
                    "url": "https://download.pytorch.org/whl/cpu/torch-2.13.0%2Bcpu-cp311-cp311-manylinux_2_28_x86_64.whl",
                    "sha256": SHA,
                    "extras": [],
                },
            ],
        }
    },
}
CELL = "cells.cpu_linux_x86_64_cp311"


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "torch.lock.json"
    path.write_text(json.dumps(data, indent=2) if not isinstance(data, str) else data)
    return path


def _error(tmp_path: Path, data: object) -> str:
    with pytest.raises(LockSchemaError) as error:
        load_lock(_write(tmp_path, data))
    return str(error.value)


def test_valid_lock_loads(tmp_path: Path) -> None:
    assert load_lock(_write(tmp_path, VALID)) == VALID


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(LockSchemaError) as error:
        load_lock(tmp_path / "third_party" / "torch.lock.json")
    message = str(error.value)
    assert message.startswith(f"{tmp_path}/third_party/torch.lock.json: no such lock file.")
    assert "bazel run @rules_torch//python:lock -- --torch VERSION" in message
    assert f"--output {tmp_path}/third_party/torch.lock.json" in message


def test_malformed_json_points_at_the_line(tmp_path: Path) -> None:
    message = _error(tmp_path, '{\n  "schema_version": 1,\n  "cells": {,}\n}\n')
    assert message.startswith(f"{tmp_path}/torch.lock.json:3:13: not valid JSON")
    assert "re-create the lock with the lock tool" in message


def test_unknown_schema_version(tmp_path: Path) -> None:
    data = {**VALID, "schema_version": 2}
    message = _error(tmp_path, data)
    assert f"{tmp_path}/torch.lock.json" in message
    assert "schema_version 2 is not supported; this rules_torch reads schema_version 1" in message
    assert "upgrade rules_torch" in message
    assert "'schema_version' is missing" in _error(tmp_path, {k: v for k, v in VALID.items() if k != "schema_version"})


def test_wheel_without_sha256(tmp_path: Path) -> None:
    data = copy.deepcopy(VALID)
    del data["cells"]["cpu_linux_x86_64_cp311"]["wheels"][1]["sha256"]
    message = _error(tmp_path, data)
    assert f"{tmp_path}/torch.lock.json: not a valid rules_torch lock" in message
    assert f"{CELL}.wheels[1] (torch): 'sha256' is missing" in message
    assert "the lock tool computes it when the index gives none" in message
    assert "To fix: re-create the lock with the lock tool" in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["cells"][CELL[6:]]["wheels"][1].update(sha256="ABC"),
            '(torch): sha256 "ABC" must be 64 lowercase',
        ),
        (lambda d: d["cells"][CELL[6:]]["wheels"][1].update(url="ftp://x/t.whl"), '(torch): url "ftp://x/t.whl" must'),
        (lambda d: d["cells"][CELL[6:]]["wheels"][1].update(name="Torch"), "name must be a normalized project name"),
        (lambda d: d["cells"][CELL[6:]]["wheels"][1].update(version="2.13.1"), "is for version 2.13.0+cpu, not 2.13.1"),
        (lambda d: d["cells"][CELL[6:]]["wheels"][1].update(filename="torch.zip"), "must be a wheel file name"),
        (lambda d: d["cells"][CELL[6:]]["wheels"][1].update(extras=["b", "a"]), "(torch): extras must be sorted"),
        (lambda d: d["cells"][CELL[6:]]["wheels"].reverse(), f"{CELL}.wheels must be sorted by name"),
        (
            lambda d: d["cells"][CELL[6:]]["wheels"].append(d["cells"][CELL[6:]]["wheels"][1]),
            "torch listed more than once",
        ),
        (lambda d: d["cells"][CELL[6:]].update(wheels=[]), f"{CELL}.wheels must be a non-empty list"),
        (lambda d: d["cells"][CELL[6:]].update(python="3.12"), "the key does not match the cell's coordinates"),
        (lambda d: d["cells"].update(cpu_macos_arm64_cp311={}), "cells.cpu_macos_arm64_cp311.variant must be a string"),
        (
            lambda d: d["request"].update(platforms=["macos"]),
            "request.platforms: unknown platform 'macos' (valid: linux",
        ),
        (lambda d: d["request"].update(variants=["cuda"]), "request.variants: unknown variant 'cuda'"),
        (lambda d: d["request"].update(torch="2.13.0+cpu"), "request.torch: '2.13.0+cpu' must be a version without"),
        (lambda d: d["request"].pop("index_url"), "request.index_url is missing"),
        (lambda d: d.update(cells={}), "'cells' is empty"),
        (lambda d: d.update(extra=1), "unknown top-level field 'extra'"),
        # Hand edits the extension refuses too (torch/private/lock/lock.bzl, the same rules).
        (
            lambda d: d["cells"][CELL[6:]]["wheels"][0].update(url="https://files.example/filelock-3.12.0-py3-none-any.whl"),
            "(filelock): the url's file name 'filelock-3.12.0-py3-none-any.whl' is not the filename",
        ),
        (
            lambda d: d["cells"][CELL[6:]]["wheels"][1].update(
                filename="torch-2.13.0-cp311-none-macosx_11_0_arm64.whl",
                url="https://x/torch-2.13.0-cp311-none-macosx_11_0_arm64.whl",
                version="2.13.0",
            ),
            "(torch): its platform tag macosx_11_0_arm64 does not fit the cell's platform linux_x86_64",
        ),
        (
            lambda d: d["cells"][CELL[6:]]["wheels"][1].update(
                filename="torch-2.13.0+cpu-cp310-cp310-manylinux_2_28_x86_64.whl",
                url="https://x/torch-2.13.0%2Bcpu-cp310-cp310-manylinux_2_28_x86_64.whl",
            ),
            "(torch): its tags cp310-cp310 do not fit the cell's Python 3.11",
        ),
        (lambda d: d["cells"][CELL[6:]].update(variant="cu 118"), f"{CELL}.variant 'cu 118' is not a variant"),
        (lambda d: d["cells"][CELL[6:]].update(python="3.11; rm"), f"{CELL}.python '3.11; rm' is not a major.minor"),
    ],
)
def test_each_violation_is_named(tmp_path: Path, change, expected: str) -> None:
    data = copy.deepcopy(VALID)
    change(data)
    assert expected in _error(tmp_path, data)


def test_validate_reports_every_problem_at_once() -> None:
    data = copy.deepcopy(VALID)
    for wheel in data["cells"]["cpu_linux_x86_64_cp311"]["wheels"]:
        del wheel["sha256"]
    with pytest.raises(LockSchemaError) as error:
        validate(data, "x.json")
    assert str(error.value).count("'sha256' is missing") == 2


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _write(tmp_path, VALID)
    assert lock_schema.main([str(good)]) == 0
    assert capsys.readouterr().out == f"ok: {good} (1 cell, 2 wheels)\n"
    assert lock_schema.main([str(good), str(tmp_path / "missing.json")]) == 1
    captured = capsys.readouterr()
    assert "error: " in captured.err and "missing.json: no such lock file" in captured.err


def test_a_real_lock_round_trips_through_the_model() -> None:
    """lock_document rebuilds a real lock byte for byte from its parsed request and cells, so
    the model's shapes hold every field the lock has."""
    path = Path(__file__).resolve().parents[2] / "tests" / "locks" / "torch_cpu.lock.json"
    text = path.read_text(encoding="utf-8")
    assert dumps(lock_document(*parse_document(load_lock(path)))) == text


def test_an_imported_lock_round_trips_through_the_model() -> None:
    data = copy.deepcopy(VALID)
    from_uv = {"args": ["--from-uv", "uv.lock"], "extras": {"cpu": "cpu"}, "uv_lock": "uv.lock", "uv_lock_sha256": SHA}
    data["request"].update(torch=None, index_url="", extra_index_urls=[], from_uv=from_uv)
    data["request"]["with"] = ["numpy"]
    validate(data)
    assert lock_document(*parse_document(data)) == data
