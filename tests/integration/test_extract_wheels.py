"""The cell tree's extractor (torch/private/tools/extract_wheels.py) without Bazel: pip's layout, the
pycs, the library directories and what it refuses."""

import importlib.util
import os
import signal
import subprocess
import sys
import time
import zipfile

import pytest
from harness import REPO, Wheel

EXTRACTOR = REPO / "torch" / "private" / "tools" / "extract_wheels.py"
PYTHON = "{}.{}".format(*sys.version_info[:2])

MODULE = b"# -*- coding: utf-8 -*-\nVALUE = '\xc3\xa9t\xc3\xa9'\n"


def _wheel(tmp_path, *files):
    wheel = Wheel("pkg", "1.0", "py3-none-any", files=tuple(files))
    path = tmp_path / wheel.filename
    path.write_bytes(wheel.build())
    return path


def _extract(tmp_path, *wheels, compile_py=True):
    dest = tmp_path / "site-packages"
    args = [sys.executable, str(EXTRACTOR), "--dest", str(dest), "--lib-dirs", str(tmp_path / "lib_dirs.txt")]
    if compile_py:
        args += ["--compile", PYTHON]
    result = subprocess.run([*args, *map(str, wheels)], capture_output=True, text=True, check=False)
    return dest, result


def test_layout_and_pycs(tmp_path):
    wheel = _wheel(
        tmp_path,
        ("pkg/__init__.py", MODULE, False),
        ("pkg/tests/test_pkg.py", b"def test(): pass\n", False),
        ("pkg/template.py", b"def broken(:\n", False),
        ("pkg/lib/libfoo.so.1", b"\x7fELF", False),
        ("pkg-1.0.data/scripts/tool", b"#!/bin/sh\n", True),
        ("pkg-1.0.data/purelib/extra.py", b"X = 1\n", False),
    )
    dest, result = _extract(tmp_path, wheel)
    assert result.returncode == 0, result.stderr
    assert (dest / "pkg-1.0.dist-info" / "INSTALLER").read_text() == "rules_torch\n"
    assert (dest / "extra.py").is_file(), "purelib goes to site-packages"
    assert (tmp_path / "data" / "scripts" / "tool").stat().st_mode & 0o111, "scripts kept aside, executable"
    # Library directories inside site-packages only (not the .data scripts kept aside).
    assert (tmp_path / "lib_dirs.txt").read_text() == "pkg/lib\n"

    # A pyc for the module: unchecked-hash (PEP 552), for this interpreter, of these bytes.
    pyc = importlib.util.cache_from_source(str(dest / "pkg" / "__init__.py"))
    data = open(pyc, "rb").read()
    assert data[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(data[4:8], "little") == 0b01
    assert data[8:16] == importlib.util.source_hash(MODULE)
    # None for test suites (seldom imported) nor for a source that does not compile.
    assert not os.path.exists(importlib.util.cache_from_source(str(dest / "pkg" / "tests" / "test_pkg.py")))
    assert not os.path.exists(importlib.util.cache_from_source(str(dest / "pkg" / "template.py")))

    # Python uses the pyc as is: importing writes nothing, and the module's value is right.
    before = os.stat(pyc).st_mtime_ns
    code = "import pkg, sys; print(pkg.VALUE, pkg.__cached__)"
    env = dict(os.environ, PYTHONPATH=str(dest))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.split() == ["été", pyc], out
    assert os.stat(pyc).st_mtime_ns == before


def test_no_pycs_for_another_python(tmp_path):
    wheel = _wheel(tmp_path, ("pkg/__init__.py", MODULE, False))
    dest = tmp_path / "site-packages"
    args = [sys.executable, str(EXTRACTOR), "--dest", str(dest), "--compile", "2.7", str(wheel)]
    subprocess.run(args, check=True)
    assert (dest / "pkg" / "__init__.py").is_file()
    assert not (dest / "pkg" / "__pycache__").exists()


@pytest.mark.parametrize(
    ("member", "message"),
    [("../evil.py", "escapes the install directory"), ("/etc/evil.py", "is an absolute path")],
)
def test_refuses_paths_outside_the_tree(tmp_path, member, message):
    wheel = _wheel(tmp_path, (member, b"X = 1\n", False))
    _, result = _extract(tmp_path, wheel)
    assert result.returncode == 1
    assert message in result.stderr, result.stderr
    assert not (tmp_path / "evil.py").exists()


def test_corrupt_wheel(tmp_path):
    path = tmp_path / "pkg-1.0-py3-none-any.whl"
    path.write_bytes(b"not a zip")
    _, result = _extract(tmp_path, path)
    assert result.returncode == 1
    assert "pkg-1.0-py3-none-any.whl is not a valid wheel" in result.stderr, result.stderr


def _zip(path, compression, members):
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members:
            archive.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), content, compress_type=compression)
    return path


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2])
def test_members_stored_deflated_or_other(tmp_path, compression):
    blob = os.urandom(300_000) + b"\0" * 3_000_000  # several 64 KiB pieces, and a highly compressible run
    wheel = _zip(tmp_path / "pkg-1.0-py3-none-any.whl", compression, [("pkg/__init__.py", MODULE), ("pkg/blob.bin", blob)])
    dest, result = _extract(tmp_path, wheel)
    assert result.returncode == 0, result.stderr
    assert (dest / "pkg" / "blob.bin").read_bytes() == blob
    assert (dest / "pkg" / "__init__.py").read_bytes() == MODULE


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_member_with_a_bad_crc(tmp_path, compression):
    wheel = _zip(tmp_path / "pkg-1.0-py3-none-any.whl", compression, [("pkg/data.bin", b"rules_torch " * 10_000)])
    data = bytearray(wheel.read_bytes())
    central = data.index(b"PK\x01\x02")  # the member's central directory entry: its CRC-32 at +16
    data[central + 16] ^= 0xFF
    wheel.write_bytes(bytes(data))
    _, result = _extract(tmp_path, wheel)
    assert result.returncode == 1
    assert "pkg-1.0-py3-none-any.whl: cannot extract 'pkg/data.bin': bad CRC-32 or size" in result.stderr, result.stderr


def test_member_cut_short(tmp_path):
    wheel = _zip(tmp_path / "pkg-1.0-py3-none-any.whl", zipfile.ZIP_DEFLATED, [("pkg/data.bin", os.urandom(200_000))])
    data = bytearray(wheel.read_bytes())
    local = data.index(b"PK\x03\x04")
    data[local + 18 : local + 22] = (1000).to_bytes(4, "little")  # compressed size, local header and
    central = data.index(b"PK\x01\x02")  # central directory: the stream stops before its end
    data[central + 20 : central + 24] = (1000).to_bytes(4, "little")
    wheel.write_bytes(bytes(data))
    _, result = _extract(tmp_path, wheel)
    assert result.returncode == 1
    assert "cannot extract 'pkg/data.bin': the compressed data ends early" in result.stderr, result.stderr


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_workers_die_with_the_extractor(tmp_path, sig):
    """Bazel killed mid-build (or cancelling the action) leaves no worker writing on, orphaned."""
    source = b"".join(b"x%d = %d\n" % (i, i) for i in range(300_000))  # seconds to byte-compile
    wheels = []
    for n in range(2):
        wheel = Wheel(f"slow{n}", "1.0", "py3-none-any", files=tuple((f"slow{n}/m{k}.py", source, False) for k in range(4)))
        wheels.append(tmp_path / wheel.filename)
        wheels[-1].write_bytes(wheel.build())
    args = [sys.executable, str(EXTRACTOR), "--dest", str(tmp_path / "site-packages"), "--jobs", "2", "--compile", PYTHON]
    extractor = subprocess.Popen([*args, *map(str, wheels)], stderr=subprocess.PIPE)
    workers = []
    deadline = time.monotonic() + 20
    while len(workers) < 2 and time.monotonic() < deadline:
        children = subprocess.run(["pgrep", "-P", str(extractor.pid)], capture_output=True, text=True, check=False).stdout
        workers = [int(p) for p in children.split()]
        time.sleep(0.05)
    assert len(workers) == 2, "the extractor did not start two workers"
    time.sleep(0.5)
    assert extractor.poll() is None, "extraction finished before the test could interrupt it"
    extractor.send_signal(sig)
    extractor.wait(timeout=10)
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in workers if _alive(p)], f"workers {workers} outlived the extractor (signal {sig})"


def test_verify_accepts_its_own_tree_and_names_what_is_wrong(tmp_path):
    # --verify: how the launcher checks a tree of a machine's tree cache (not Bazel's) before use.
    wheel = _wheel(tmp_path, ("pkg/__init__.py", MODULE, False), ("pkg/data.bin", b"x" * 100, False))
    dest = tmp_path / "site-packages"
    install = [sys.executable, str(EXTRACTOR), "--dest", str(dest), "--stamp", str(tmp_path / "stamp"), "--compile", PYTHON]
    assert subprocess.run([*install, str(wheel)], capture_output=True, check=False).returncode == 0

    def verify(*extra):
        verify = [sys.executable, str(EXTRACTOR), "--verify", "--dest", str(dest), "--compile", PYTHON, "--what", "cell x"]
        return subprocess.run([*verify, *extra, str(wheel)], capture_output=True, text=True, check=False)

    before = sorted(p for p in tmp_path.rglob("*"))
    assert verify().returncode == 0, verify().stderr
    assert sorted(p for p in tmp_path.rglob("*")) == before, "verifying wrote something"
    # Another Python's pycs are another tree.
    other = verify("--compile", "2.7")
    assert other.returncode == 1 and f"{dest} is not the tree of cell x: its stamp is" in other.stderr, other.stderr
    with open(dest / "pkg" / "data.bin", "ab") as f:  # a test that wrote into the tree
        f.write(b"poison")
    damaged = verify()
    assert damaged.returncode == 1 and "pkg/data.bin has 106 bytes, its wheel 100" in damaged.stderr, damaged.stderr
    (dest / "pkg" / "data.bin").unlink()
    assert "pkg/data.bin is missing" in verify().stderr


def test_stamp_only_writes_what_the_install_writes(tmp_path):
    # --stamp-only: a tree-cache test's stamp and lib_dirs.txt, made without installing.
    wheel = _wheel(tmp_path, ("pkg/__init__.py", MODULE, False), ("pkg/lib/libfoo.so.1", b"\x7fELF", False))
    base = [sys.executable, str(EXTRACTOR), "--compile", PYTHON]
    installed = subprocess.run([*base, "--dest", str(tmp_path / "site-packages"), "--stamp", str(tmp_path / "stamp"), "--lib-dirs", str(tmp_path / "lib_dirs.txt"), str(wheel)], capture_output=True, text=True, check=False)
    assert installed.returncode == 0, installed.stderr
    only = subprocess.run([*base, "--stamp-only", "--stamp", str(tmp_path / "id"), "--lib-dirs", str(tmp_path / "lib_dirs.id.txt"), str(wheel)], capture_output=True, text=True, check=False)
    assert only.returncode == 0, only.stderr
    assert (tmp_path / "id").read_text() == (tmp_path / "stamp").read_text()
    assert (tmp_path / "lib_dirs.id.txt").read_text() == (tmp_path / "lib_dirs.txt").read_text() == "pkg/lib\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["id", "lib_dirs.id.txt", "lib_dirs.txt", "pkg-1.0-py3-none-any.whl", "site-packages", "stamp"])
    other = subprocess.run([*base, "--stamp-only", str(wheel)], capture_output=True, text=True, check=False)
    assert other.returncode == 2 and "--stamp-only needs --stamp" in other.stderr, other.stderr
