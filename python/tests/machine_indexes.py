#!/usr/bin/env python3
"""This machine's local wheel sources, for the tests that lock real torch wheels.

The sources come from configuration, never from paths written here:

- ``RULES_TORCH_TEST_INDEXES``: space-separated index URLs (may be empty), and
  ``RULES_TORCH_TEST_FIND_LINKS``: space-separated find-links locations; or else
- pip's own configuration (``pip config list``): ``index-url``, ``extra-index-url`` and
  ``find-links`` of any section, PyPI itself left out.

It also builds the two real locks other tests need, e.g. for the Bazel integration tests
(``PYTHONPATH=python:tests/support python3 python/tests/machine_indexes.py`` then)::

    show
    lock torch-2.13.0-cpu --output /tmp/torch.lock.json
    lock torch-2.14.1-cu130 --output /tmp/torch.lock.json
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import urllib.request
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version
from pip_config import PYPI, configured_find_links, configured_indexes

from rules_torch import lock
from rules_torch.errors import LockError
from rules_torch.index import Fetcher, to_url


@dataclasses.dataclass(frozen=True)
class MachineSources:
    indexes: list[str]
    find_links: list[str]

    def index_with(self, project: str, version: str) -> str | None:
        """The first local index that has ``project==version`` (local labels allowed)."""
        fetcher = Fetcher(timeout=10)
        for index in self.indexes:
            try:
                files = fetcher.project_page(index, project) or []
            except LockError:
                continue
            if any(_is(f.version, version) for f in files):
                return index
        return None

    def find_links_with(self, filename_prefix: str) -> list[str]:
        """The find-links directories holding a file whose name starts with ``filename_prefix``."""
        found = []
        for location in self.find_links:
            path = Path(location[len("file://") :] if location.startswith("file://") else location)
            if path.is_dir() and any(p.name.startswith(filename_prefix) for p in path.iterdir()):
                found.append(location)
        return found


def _is(candidate: str, version: str) -> bool:
    try:
        return SpecifierSet(f"=={version}").contains(Version(candidate), prereleases=True)
    except InvalidVersion:
        return False


def machine_sources() -> MachineSources:
    """The index URLs (PyPI left out) and find-links locations tests may lock real torch from."""
    indexes = [url for url in configured_indexes() if url.rstrip("/") != PYPI]
    return MachineSources(indexes, configured_find_links())


def pypi_reachable() -> bool:
    try:
        with urllib.request.urlopen(PYPI + "/pip/", timeout=15) as response:
            return response.status == 200
    except OSError:
        return False


def torch_2_13_cpu_args(sources: MachineSources) -> list[str] | str:
    """Arguments locking torch 2.13.0+cpu (from a find-links directory) for linux_x86_64 cp311, or why not."""
    links = sources.find_links_with("torch-2.13.0+cpu-cp311")
    if not links:
        return "no find-links directory holds torch-2.13.0+cpu for cp311 (set RULES_TORCH_TEST_FIND_LINKS)"
    args = ["--torch", "2.13.0", "--variants", "cpu", "--platforms", "linux_x86_64", "--python", "3.11"]
    args += ["--index-url", PYPI]
    for index in sources.indexes:
        args += ["--extra-index-url", index]
    for location in links:
        args += ["--find-links", location]
    return args


def torch_2_14_cu130_args(sources: MachineSources) -> list[str] | str:
    """Arguments locking the real torch 2.14.1 CUDA 13 closure (with torchvision 0.29.1), or why not."""
    index = sources.index_with("torch", "2.14.1")
    if index is None:
        return "no local index has torch 2.14.1 (set RULES_TORCH_TEST_INDEXES or pip's extra-index-url)"
    args = ["--torch", "2.14.1", "--variants", "cu130", "--platforms", "linux_x86_64", "--python", "3.11"]
    args += ["--index-url", index]
    if sources.index_with("torchvision", "0.29.1"):
        args[2:2] = ["--torchvision", "0.29.1"]
    for other in [*[i for i in sources.indexes if i != index], PYPI]:
        args += ["--extra-index-url", other]
    return args


LOCKS = {"torch-2.13.0-cpu": torch_2_13_cpu_args, "torch-2.14.1-cu130": torch_2_14_cu130_args}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="This machine's local wheel sources, and the real locks built from them."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("show", help="print the local indexes and find-links locations")
    make = commands.add_parser("lock", help="write one of the real locks (needs PyPI for what is not local)")
    make.add_argument("which", choices=sorted(LOCKS))
    make.add_argument("rest", nargs=argparse.REMAINDER, help="more lock tool options, e.g. --output FILE")
    args = parser.parse_args(argv)
    sources = machine_sources()
    if args.command == "show":
        print("indexes:   ", " ".join(sources.indexes) or "(none)")
        print("find-links:", " ".join(to_url(f, Path.cwd()) for f in sources.find_links) or "(none)")
        return 0
    lock_args = LOCKS[args.which](sources)
    if isinstance(lock_args, str):
        print(f"error: {lock_args}", file=sys.stderr)
        return 1
    return lock.main([*lock_args, *args.rest])


if __name__ == "__main__":
    sys.exit(main())
