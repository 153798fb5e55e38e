"""Writes one container image layer, a deterministic tar, from a spec (image_layers.bzl's action).

Deterministic: entries sorted by path, mtime 0, uid/gid 0, no user or group names, modes
normalized (0755 for directories and executables, 0644 otherwise), PAX format; no host path is
stored. A file reached at two paths (a hardlink in a cell's tree, or one build file at two
runfiles paths) is stored once, the other paths as hardlinks to it; a relative symlink in a tree
stays a symlink.

The spec, one entry per line, tab-separated:
  tree   CELL STAMP DIR cuda|torch  the cell's tree DIR under opt/rules_torch/<home>/site-packages
                                    (cuda: its nvidia/ directory; torch: everything else)
  beside CELL STAMP FILE            FILE as opt/rules_torch/<home>/<its name>
  link   DEST CELL STAMP NAME       DEST: a symlink to /opt/rules_torch/<home>/NAME
  file   DEST SOURCE                SOURCE (a file, or a directory: its files) at DEST
  empty  DEST                       an empty file
where <home> is CELL-<the first 12 digits of the tree's stamp, read from the file STAMP>.

Usage: image_layers.py --spec FILE --output LAYER.tar [--what TEXT] [--warn-mb N]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tarfile

HOME = "opt/rules_torch"
# The NVIDIA wheels' directory in a cell's tree: the cuda layer.
CUDA_DIR = "nvidia"


class SpecError(Exception):
    pass


def _home(cell: str, stamp: str) -> str:
    with open(stamp) as f:
        return f"{HOME}/{cell}-{f.read().strip()[:12]}"


class Layer:
    """The entries of one layer: path -> ("dir",) | ("file", source, executable) | ("link", target) | ("empty",)."""

    def __init__(self) -> None:
        self.entries: dict[str, tuple] = {}

    def add(self, dest: str, entry: tuple) -> None:
        dest = dest.strip("/")
        if dest in self.entries and self.entries[dest] != entry:
            raise SpecError(f"two different entries for /{dest}: {self.entries[dest]} and {entry}")
        self.entries[dest] = entry
        parent = os.path.dirname(dest)
        while parent and parent not in self.entries:
            self.entries[parent] = ("dir",)
            parent = os.path.dirname(parent)

    def add_path(self, dest: str, source: str, follow: bool) -> None:
        """A file, symlink or directory at `source` (symlinks followed with `follow`: a build
        file reached through the execroot's links; kept where relative: a tree's own)."""
        st = os.stat(source) if follow else os.lstat(source)
        if os.path.islink(source) and not follow:
            target = os.readlink(source)
            if not os.path.isabs(target):
                self.add(dest, ("link", target))
                return
            st = os.stat(source)
        if os.path.isdir(source) and (follow or not os.path.islink(source)):
            self.add(dest, ("dir",))
            for name in sorted(os.listdir(source)):
                self.add_path(f"{dest}/{name}", os.path.join(source, name), follow)
            return
        self.add(dest, ("file", (st.st_dev, st.st_ino), os.path.realpath(source), bool(st.st_mode & 0o111), st.st_size))

    def add_tree(self, home: str, source: str, part: str) -> None:
        for name in sorted(os.listdir(source)):
            if (name == CUDA_DIR) == (part == "cuda"):
                self.add_path(f"{home}/site-packages/{name}", os.path.join(source, name), follow=False)
        if part == "cuda" and not any(e.startswith(f"{home}/site-packages/") for e in self.entries):
            return
        self.add(f"{home}/site-packages", ("dir",))


def read_spec(path: str) -> Layer:
    layer = Layer()
    with open(path) as f:
        lines = [line.rstrip("\n") for line in f if line.strip()]
    for line in lines:
        kind, *words = line.split("\t")
        if kind == "tree":
            cell, stamp, source, part = words
            layer.add_tree(_home(cell, stamp), source, part)
        elif kind == "beside":
            cell, stamp, source = words
            layer.add_path(f"{_home(cell, stamp)}/{os.path.basename(source)}", source, follow=True)
        elif kind == "link":
            dest, cell, stamp, name = words
            layer.add(dest, ("link", f"/{_home(cell, stamp)}/{name}"))
        elif kind == "file":
            dest, source = words
            layer.add_path(dest, source, follow=True)
        elif kind == "empty":
            (dest,) = words
            layer.add(dest, ("empty",))
        else:
            raise SpecError(f"{path}: unknown entry {kind!r} in line {line!r}")
    return layer


def _info(name: str, kind: bytes, mode: int, size: int = 0, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.size = size
    info.linkname = linkname
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def write_tar(layer: Layer, output: str) -> None:
    first: dict[object, str] = {}
    with tarfile.open(output, "w", format=tarfile.PAX_FORMAT) as tar:
        tar.copybufsize = 1 << 20
        for name in sorted(layer.entries):
            entry = layer.entries[name]
            if entry[0] == "dir":
                tar.addfile(_info(name, tarfile.DIRTYPE, 0o755))
            elif entry[0] == "link":
                tar.addfile(_info(name, tarfile.SYMTYPE, 0o777, linkname=entry[1]))
            elif entry[0] == "empty":
                tar.addfile(_info(name, tarfile.REGTYPE, 0o644), io.BytesIO(b""))
            else:
                _, inode, real, executable, size = entry
                mode = 0o755 if executable else 0o644
                # One copy per file: an inode, or a build file, seen before is a hardlink to it.
                seen = first.get(inode) or first.get(real)
                if seen:
                    tar.addfile(_info(name, tarfile.LNKTYPE, mode, linkname=seen))
                    continue
                first[inode] = first[real] = name
                with open(real, "rb") as f:
                    tar.addfile(_info(name, tarfile.REGTYPE, mode, size=size), f)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spec", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--what", default="the layer")
    parser.add_argument("--warn-mb", type=int, default=200)
    args = parser.parse_args(argv)
    try:
        layer = read_spec(args.spec)
    except (SpecError, OSError) as e:
        print(f"rules_torch: cannot write {args.what}: {e}", file=sys.stderr)
        return 1
    write_tar(layer, args.output)
    size_mb = os.path.getsize(args.output) / 1e6
    if args.warn_mb and size_mb > args.warn_mb:
        print(
            f"rules_torch: {args.what} is {size_mb:.0f} MB (over {args.warn_mb} MB): some remote caches and "
            "registries refuse or slow down on layers that large; it is one cell's files, shared by every image on that cell",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
