"""Extract wheels into one site-packages tree, the way pip lays them out.

Run by the cell_tree rule's action (torch/private/rules/cell_tree.bzl), with the Python toolchain's
interpreter, on the wheels that the spoke repository fetched with Bazel's downloader (sha256
checked there). One tree matters: torch's ELF RUNPATHs ($ORIGIN/../../nvidia/<pkg>/lib) expect
the NVIDIA packages next to torch. The work is spread over one process per core by size,
because Bazel's own zip extraction is single-threaded and dominates a cold CUDA fetch.

Exit status 0 on success. On a user-facing error (corrupt wheel, a path escaping the tree)
prints one line starting with "error:" and exits 1; Bazel discards a failed action's outputs.

The stamp (--stamp) names the tree by what determines its bytes: every wheel's members (names,
sizes, CRC-32s, read from the zip directories, not the data), this program and the Python the
pycs are for. It is written to FILE and, as STAMP_NAME, inside the tree, so that a launcher that
reads a tree where it lies can tell it is the tree it was built with.

With --stamp-only, only the stamp (and --lib-dirs) is written (what a test of a machine's tree cache stages, made
without installing). With --verify, nothing is written: DIR must be the tree these arguments would install (its stamp
recomputed from the wheels, and every file of every wheel present with its size). The launcher
checks a tree it did not get from Bazel this way (a machine's tree cache) before a test uses it.

Usage:
  extract_wheels.py --dest DIR [--data-dir DIR] [--lib-dirs FILE] [--stamp FILE] [--jobs N]
                    [--compile PY_MAJOR_MINOR] [--what TEXT] [--verify] WHEEL...
"""

import argparse
import contextlib
import hashlib
import importlib.util
import marshal
import os
import posixpath
import signal
import stat
import struct
import sys
import zipfile
import zlib

_BUFFER = 1 << 20
_LOCAL_HEADER_SIZE = 30  # a zip local file header's fixed part
# Compiling a byte of Python source costs about as much as inflating this many bytes.
_COMPILE_WEIGHT = 8
# The stamp's name inside the tree (the launcher compares it with the stamp file it was given).
STAMP_NAME = ".rules_torch_stamp"


class ExtractError(Exception):
    """A wheel that cannot be installed; the message names the wheel and the problem."""


def _target_path(wheel_name, member, dist_data_dir):
    """Maps a zip member to its path relative to site-packages, or None to skip it."""
    name = member.filename
    if "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise ExtractError(f"{wheel_name}: member '{name}' is an absolute path; refusing to extract it")
    parts = name.split("/")
    if ".." in parts:
        raise ExtractError(f"{wheel_name}: member '{name}' escapes the install directory ('..'); refusing to extract it")
    if parts[0] == dist_data_dir and len(parts) > 2:
        # <dist>.data/purelib and platlib go to site-packages; scripts, headers and data are
        # not importable and pip would put them outside site-packages: keep them aside.
        if parts[1] in ("purelib", "platlib"):
            parts = parts[2:]
        else:
            parts = ["..", "data", *parts[1:]]
    path = posixpath.normpath("/".join(parts))
    return path


def _plan(wheels, stamp):
    """Lists (wheel index, member name, target path, weight, mode, size) for every file to write.

    Feeds every wheel's name and members (name, size, CRC-32) to `stamp`, a hashlib object.
    """
    files = {}
    dirs = set()
    for index, wheel in enumerate(wheels):
        wheel_name = os.path.basename(wheel)
        try:
            archive = zipfile.ZipFile(wheel)
        except (zipfile.BadZipFile, OSError) as e:
            raise ExtractError(f"{wheel_name} is not a valid wheel (zip archive): {e}") from e
        with archive:
            dist = wheel_name.split("-")
            dist_data_dir = f"{dist[0]}-{dist[1]}.data" if len(dist) > 1 else ""
            stamp.update(f"wheel {wheel_name}\n".encode())
            for member in archive.infolist():
                stamp.update(f"{member.filename}\0{member.file_size}\0{member.CRC}\n".encode())
                target = _target_path(wheel_name, member, dist_data_dir)
                if member.is_dir():
                    dirs.add(target)
                    continue
                mode = (member.external_attr >> 16) & 0o777
                # Later wheels win on a shared path, as with pip installing them in order.
                # The weight balances the workers: bytes to inflate, plus compiling for sources.
                weight = member.compress_size + (member.file_size * _COMPILE_WEIGHT if _compiled(target) else 0)
                files[target] = (index, member.filename, target, weight, mode, member.file_size)
    for item in files.values():
        dirs.add(posixpath.dirname(item[2]))
    return sorted(files.values()), sorted(d for d in dirs if d and d != ".")


def _compiled(target):
    """Whether a source gets a pyc at fetch time: all but test suites (a package's tests/ or
    test/ directories), which programs do not import; a module without a pyc still imports,
    compiled in memory when it is. (torch/testing/_internal is compiled: `import torch` imports
    part of it.)"""
    parts = target.split("/")[:-1]
    return target.endswith(".py") and "tests" not in parts and "test" not in parts


def _compile_source(source, path, made_dirs, name):
    """Writes the pyc of `source` (the bytes just written to `path`).

    Unchecked-hash pycs (PEP 552) stay valid whatever the mtimes of the runfiles symlinks or
    sandbox copies are, so a sandboxed test never recompiles torch on import. The pyc is
    written directly: the tree is not visible until the extraction has succeeded. A source
    that does not compile (a template, a Python 2 leftover) gets no pyc, as with pip. The code's
    file name is `name`, the path inside site-packages, not where this run writes it (a sandbox
    path that differs every run): the pyc's bytes depend on the wheel alone, so a cached tree is
    the same tree, and Python replaces the name with the module's real path when it loads it.
    """
    try:
        code = compile(source, name, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return
    cfile = importlib.util.cache_from_source(path)
    directory = os.path.dirname(cfile)
    if directory not in made_dirs:
        os.makedirs(directory, exist_ok=True)
        made_dirs.add(directory)
    flags = 0b01  # hash-based, unchecked
    with open(cfile, "wb") as out:
        out.write(importlib.util.MAGIC_NUMBER + flags.to_bytes(4, "little") + importlib.util.source_hash(source))
        marshal.dump(code, out)


def _member_chunks(raw, info):
    """Yields the bytes of a stored or deflated member of the zip file open as `raw`.

    Inflates with zlib directly: zipfile's reader caps each call's output and copies the
    unconsumed input again every time, a third more CPU on CUDA wheels. Compressed input goes in
    64 KiB pieces, so one piece inflates to at most ~66 MB (deflate's ratio is at most 1032:1).
    The size and CRC-32 are checked at the end, as zipfile does.
    """
    raw.seek(info.header_offset)
    header = raw.read(_LOCAL_HEADER_SIZE)
    if len(header) != _LOCAL_HEADER_SIZE or header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile("bad local file header")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    raw.seek(info.header_offset + _LOCAL_HEADER_SIZE + name_length + extra_length)
    inflate = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
    left = info.compress_size
    crc = size = 0
    while left:
        chunk = raw.read(min(left, 1 << 16))
        if not chunk:
            raise EOFError("the archive ends inside the member")
        left -= len(chunk)
        if inflate:
            chunk = inflate.decompress(chunk)
        crc = zlib.crc32(chunk, crc)
        size += len(chunk)
        yield chunk
    if inflate:
        chunk = inflate.flush()
        crc = zlib.crc32(chunk, crc)
        size += len(chunk)
        yield chunk
        if not inflate.eof:
            raise zipfile.BadZipFile("the compressed data ends early")
    if size != info.file_size or crc != info.CRC:
        raise zipfile.BadZipFile("bad CRC-32 or size")


def _zipfile_chunks(archive, info):
    """Yields a member's bytes through zipfile's reader (bzip2, lzma, encrypted members)."""
    with archive.open(info) as src:
        while chunk := src.read(_BUFFER):
            yield chunk


def _extract(wheels, dest, items, compile_py):
    """Writes the given files, byte-compiling sources when asked; runs in a worker process."""
    archives = {}
    made_dirs = set()
    try:
        for index, member, target, _, mode, _ in items:
            if index not in archives:
                archives[index] = (zipfile.ZipFile(wheels[index]), open(wheels[index], "rb"))  # noqa: SIM115 - closed below
            archive, raw = archives[index]
            path = os.path.join(dest, target)
            source = None
            try:
                info = archive.getinfo(member)
                with open(path, "wb") as out:
                    if info.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) and not info.flag_bits & 0x1:
                        chunks = _member_chunks(raw, info)
                    else:  # bzip2, lzma, encrypted: zipfile's reader (or its error)
                        chunks = _zipfile_chunks(archive, info)
                    if compile_py and _compiled(target):
                        source = b"".join(chunks)
                        out.write(source)
                    else:
                        for chunk in chunks:
                            out.write(chunk)
            except Exception as e:  # noqa: BLE001 - BadZipFile, zlib.error, EOFError, OSError: all mean a corrupt wheel
                raise ExtractError(f"{os.path.basename(wheels[index])}: cannot extract '{member}': {e}") from e
            if mode & 0o111:
                os.chmod(path, 0o755)
            if source is not None:
                _compile_source(source, path, made_dirs, target)
    finally:
        for archive, raw in archives.values():
            archive.close()
            raw.close()


def _split(items, jobs):
    """Greedy bin packing by compressed size, largest first, so workers finish together."""
    bins = [[] for _ in range(jobs)]
    loads = [0] * jobs
    for item in sorted(items, key=lambda i: -i[3]):
        k = loads.index(min(loads))
        bins[k].append(item)
        loads[k] += item[3] + 4096
    return [b for b in bins if b]


def _die_with_parent(parent):
    """In a worker: be killed when the extractor dies (Bazel killed mid-build, a SIGKILL), so no
    worker goes on writing into the tree, orphaned. Linux only (prctl PR_SET_PDEATHSIG)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _run_parallel(wheels, dest, items, jobs, compile_py):
    pids = []
    parent = os.getpid()
    for chunk in _split(items, jobs):
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                _die_with_parent(parent)
                _extract(wheels, dest, chunk, compile_py)
            except ExtractError as e:
                print(f"error: {e}", file=sys.stderr)
                code = 1
            except BaseException as e:  # noqa: BLE001 - a worker must never return into the parent's code
                print(f"error: {e}", file=sys.stderr)
                code = 2
            finally:
                sys.stderr.flush()
                os._exit(code)
        pids.append(pid)
    failed = False

    def stop(signum, _frame):  # SIGTERM/SIGINT (Bazel cancelling the action): the workers first
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        os._exit(128 + signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        for pid in pids:
            _, status = os.waitpid(pid, 0)
            failed = failed or status != 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if failed:
        raise ExtractError("extraction failed (see the error above)")


def _write_lib_dirs(path, items):
    with open(path, "w") as f:
        f.writelines(d + "\n" for d in _lib_dirs(items))


def _lib_dirs(items):
    """Directories (relative to site-packages) that hold shared libraries: the launcher puts them
    on LD_LIBRARY_PATH."""
    found = set()
    for item in items:
        target = item[2]
        if target.startswith("../"):
            continue  # a wheel's .data files, outside site-packages
        name = posixpath.basename(target)
        if name.endswith((".so", ".dylib")) or ".so." in name:
            found.add(posixpath.dirname(target))
    return sorted(found)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", help="the site-packages directory to write (created if missing)")
    parser.add_argument("--data-dir", help="where wheels' .data/{scripts,headers,data} go (default: DEST/../data)")
    parser.add_argument("--lib-dirs", help="write the directories (relative to DEST) that hold shared libraries here")
    parser.add_argument("--stamp", help=f"write the tree's identity here and as DEST/{STAMP_NAME}")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--compile", default="", help="byte-compile when this Python (3.11) runs the extractor")
    parser.add_argument("--what", default="the wheels", help="what is installed, for the error message")
    parser.add_argument(
        "--publish",
        help="install once into this directory (a tree cache's): under a lock beside it, install nothing when it holds a "
        "tree already, else rename the directory that holds DEST to it",
    )
    parser.add_argument("--stamp-only", action="store_true", help="install nothing: write the stamp (--stamp) the install would write")
    parser.add_argument("--verify", action="store_true", help="write nothing; exit 1 unless DEST is the tree these arguments would install")
    parser.add_argument("wheels", nargs="+")
    args = parser.parse_args(argv)
    if not args.dest and not args.stamp_only:
        parser.error("--dest is required (unless --stamp-only)")
    if args.stamp_only and not args.stamp:
        parser.error("--stamp-only needs --stamp")
    stamp = hashlib.sha256()
    with open(__file__, "rb") as f:
        stamp.update(f.read())
    with _publishing(args.publish) as done:
        if done:
            print(f"rules_torch: another test installed {args.what} into {args.publish} meanwhile; using that tree", file=sys.stderr)
            return 0
        code = _install(args, stamp)
        if code == 0 and args.publish:
            os.rename(os.path.dirname(os.path.abspath(args.dest)), args.publish)
        return code


@contextlib.contextmanager
def _publishing(publish):
    """Yields whether `publish` holds a tree already, holding an exclusive lock beside it (so that
    tests that start together install a missing tree once, not once each)."""
    if not publish:
        yield False
        return
    import fcntl

    with open(publish + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield os.path.isfile(os.path.join(publish, "site-packages", STAMP_NAME))


def _install(args, stamp):
    try:
        items, dirs = _plan(args.wheels, stamp)
        # A pyc is only valid for the Python that made it: compile when that is the cell's.
        compile_py = bool(args.compile) and args.compile == "{}.{}".format(*sys.version_info[:2])
        stamp.update(f"pyc {sys.implementation.cache_tag if compile_py else ''}\n".encode())
        if args.stamp_only:
            if args.lib_dirs:
                _write_lib_dirs(args.lib_dirs, items)
            with open(args.stamp, "w") as f:
                f.write(stamp.hexdigest() + "\n")
            return 0
        if args.data_dir:
            data = os.path.relpath(args.data_dir, args.dest)
            items = [(i, m, _rebase(t, data), w, mode, size) for i, m, t, w, mode, size in items]
            dirs = [_rebase(d, data) for d in dirs]
        if args.verify:
            return _verify(args, items, stamp.hexdigest())
        if args.data_dir:
            os.makedirs(args.data_dir, exist_ok=True)
        os.makedirs(args.dest, exist_ok=True)
        for d in dirs:
            os.makedirs(os.path.join(args.dest, d), exist_ok=True)
        if args.compile and not compile_py:
            print(
                f"rules_torch: {args.what} is for Python {args.compile} and this interpreter "
                f"({sys.executable}) is Python {sys.version_info[0]}.{sys.version_info[1]}: no pycs "
                "(imports compile on first use).",
                file=sys.stderr,
            )
        _run_parallel(args.wheels, args.dest, items, max(1, args.jobs), compile_py)
        for wheel in args.wheels:
            # pip's marker of who installed a distribution; importlib.metadata ignores it.
            dist = os.path.basename(wheel).split("-")
            installer = os.path.join(args.dest, f"{dist[0]}-{dist[1]}.dist-info", "INSTALLER")
            if os.path.isdir(os.path.dirname(installer)):
                with open(installer, "w") as f:
                    f.write("rules_torch\n")
        if args.lib_dirs:
            _write_lib_dirs(args.lib_dirs, items)
        if args.stamp:
            for path in (args.stamp, os.path.join(args.dest, STAMP_NAME)):
                with open(path, "w") as f:
                    f.write(stamp.hexdigest() + "\n")
    except ExtractError as e:
        print(
            f"error: rules_torch: cannot install {args.what}: {e}. The downloaded file is corrupt or unsafe; "
            "check its URL, then re-lock.",
            file=sys.stderr,
        )
        return 1
    return 0


def _verify(args, items, stamp):
    """0 when args.dest holds `stamp` and every file of `items` with its size, else 1 (and why)."""
    try:
        with open(os.path.join(args.dest, STAMP_NAME)) as f:
            found = f.read().strip()
    except OSError as e:
        found = f"unreadable ({e.strerror})"
    if found != stamp:
        problem = f"its stamp is {found}, the wheels' {stamp}"
    else:
        problem = None
        for item in items:
            path = os.path.join(args.dest, item[2])
            try:
                size = os.stat(path).st_size
            except OSError:
                problem = f"{item[2]} is missing"
                break
            if size != item[5]:
                problem = f"{item[2]} has {size} bytes, its wheel {item[5]}"
                break
    if problem:
        print(f"rules_torch: {args.dest} is not the tree of {args.what}: {problem}", file=sys.stderr)
        return 1
    return 0


def _rebase(target, data):
    """A target under ../data (wheels' .data directories) moved to the --data-dir."""
    if target == "../data" or target.startswith("../data/"):
        return posixpath.normpath(data + target[len("../data"):])
    return target


if __name__ == "__main__":
    # Only the permission bits this program sets matter; keep the umask from stripping r/x.
    os.umask(stat.S_IWGRP | stat.S_IWOTH)
    sys.exit(main(sys.argv[1:]))
