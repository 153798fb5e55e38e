"""The tables of the lock schema that the lock tool and the module extension both read.

The lock tool reads them here (lockfile.py, cells.py); the module extension reads
torch/private/lock/tables.bzl, which tools/bzl_tables.py generates from this module and from
cells.PLATFORMS (`python3 tools/bzl_tables.py --check` fails when that file is out of date;
tests/integration/test_shared_tables.py runs it). Change a table here, then regenerate.

Every top-level assignment here is a table, written to tables.bzl with the comment above it:
plain data only (str, int, list, dict, None), which Starlark holds as it is.
"""

from __future__ import annotations

# The lock document's version: the only one either validator reads.
SCHEMA_VERSION = 1

# The first words of every lock tool command a message or a generated file prints.
LOCK_TOOL = "bazel run @rules_torch//python:lock --"

# The projects a lock pins by the version asked for (--torch, --torchvision, --torchaudio).
TOP_LEVEL_PROJECTS = ["torch", "torchvision", "torchaudio"]

# The wheel platform tags a cell's platform accepts, as [prefix, suffix] pairs (a tag fits when it
# starts with the prefix and ends with the suffix), besides "any".
WHEEL_PLATFORM_PATTERNS = {
    "linux_aarch64": [["manylinux", "_aarch64"], ["linux", "_aarch64"]],
    "linux_x86_64": [["manylinux", "_x86_64"], ["linux", "_x86_64"]],
    "macos_arm64": [["macosx_", "_arm64"], ["macosx_", "_universal2"]],
    "macos_x86_64": [["macosx_", "_x86_64"], ["macosx_", "_universal2"]],
    "windows_amd64": [["win_amd64", ""]],
}

# The fields of a lock's `request` and their types, in the order the validators check them.
REQUEST_FIELDS = {
    "torch": "string",
    "torchvision": "string or null",
    "torchaudio": "string or null",
    "variants": "list of strings",
    "platforms": "list of strings",
    "pythons": "list of strings",
    "index_url": "string",
    "extra_index_urls": "list of strings",
    "find_links": "list of strings",
    "with": "list of strings",
    "from_uv": "object",
    "from_pylock": "object",
}

# The request fields added after schema 1 was published: absent means empty.
OPTIONAL_REQUEST_FIELDS = ["with", "from_uv", "from_pylock"]

# The URL schemes a wheel may be fetched from (Bazel's downloader reads these).
URL_SCHEMES = ["https://", "http://", "file://"]
