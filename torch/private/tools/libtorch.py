"""Lays out libtorch from a cell's installed tree for C++ builds: the headers as one directory,
each shared library as a file of its own (a LibraryToLink needs files, not paths in a tree).

Hard links where the file system allows (no copy of libtorch_cpu.so's ~400 MB), else copies.
Run by the torch_libtorch rule's action with the Python toolchain's interpreter.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys


def _place(source: str, dest: str) -> None:
    os.makedirs(os.path.dirname(dest) or ".", exist_ok=True)
    real = os.path.realpath(source)
    try:
        os.link(real, dest)
    except OSError:
        shutil.copy2(real, dest)


def _include_tree(site_packages: str, include: str, dest: str) -> int:
    root = os.path.join(site_packages, include)
    count = 0
    for directory, _dirs, files in os.walk(root, followlinks=True):
        for name in files:
            source = os.path.join(directory, name)
            _place(source, os.path.join(dest, os.path.relpath(source, root)))
            count += 1
    return count


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--site-packages", required=True, help="the cell's installed tree")
    parser.add_argument("--include", help="the headers' directory, relative to the tree (none: no headers)")
    parser.add_argument("--include-out", help="where the headers go (a directory output)")
    parser.add_argument("--what", required=True, help="the cell and lock, for messages")
    parser.add_argument("libraries", nargs="*", help="SOURCE=DEST: a library relative to the tree, and its output path")
    args = parser.parse_args(argv)

    missing = [pair.split("=", 1)[0] for pair in args.libraries if not os.path.isfile(os.path.join(args.site_packages, pair.split("=", 1)[0]))]
    if args.include and not os.path.isdir(os.path.join(args.site_packages, args.include)):
        missing.insert(0, args.include + "/")
    if missing:
        print(
            f"rules_torch: libtorch of {args.what}: the installed tree has no {', '.join(missing)} "
            "although the torch wheel's RECORD lists them. The tree is damaged or the wheel changed: "
            "`bazel clean` and build again, or re-lock.",
            file=sys.stderr,
        )
        return 1
    if args.include and _include_tree(args.site_packages, args.include, args.include_out) == 0:
        print(f"rules_torch: libtorch of {args.what}: {args.include}/ is empty", file=sys.stderr)
        return 1
    for pair in args.libraries:
        source, dest = pair.split("=", 1)
        _place(os.path.join(args.site_packages, source), dest)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
