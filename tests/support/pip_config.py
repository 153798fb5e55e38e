"""Where this machine's wheels are, for the tests that use real ones: the one reader of it.

``RULES_TORCH_TEST_INDEXES`` (index URLs) and ``RULES_TORCH_TEST_FIND_LINKS`` (find-links
locations), each separated by spaces or commas, win; else pip's own configuration
(``pip config list``: ``index-url``/``extra-index-url`` and ``find-links`` of any section), in the
order configured. No machine path is written here.
"""

from __future__ import annotations

import os
import subprocess
import sys

PYPI = "https://pypi.org/simple"
INDEX_KEYS = ("index-url", "extra-index-url")
FIND_LINKS_KEYS = ("find-links",)


def pip_config_values(keys: tuple[str, ...], listing: str | None = None) -> list[str]:
    """The values of pip's configuration keys `keys` (any section), in order, without repeats.

    `listing`: the output of `pip config list` (default: run it with this interpreter).
    """
    if listing is None:
        command = [sys.executable, "-m", "pip", "config", "list"]
        listing = subprocess.run(command, capture_output=True, text=True, check=False).stdout
    values: list[str] = []
    for line in listing.splitlines():
        key, _, value = line.strip().partition("=")
        if key.split(".")[-1] in keys:
            values.extend(v for v in value.strip().strip("'\"").split() if v not in values)
    return values


def configured(variable: str, keys: tuple[str, ...]) -> list[str]:
    """The values of environment variable `variable`, else of pip's configuration keys `keys`."""
    value = os.environ.get(variable)
    if value is not None:
        return [v for v in value.replace(",", " ").split() if v]
    return pip_config_values(keys)


def configured_indexes() -> list[str]:
    """The index URLs tests may lock real torch from (RULES_TORCH_TEST_INDEXES, else pip's)."""
    return configured("RULES_TORCH_TEST_INDEXES", INDEX_KEYS)


def configured_find_links() -> list[str]:
    """The find-links locations of local wheels (RULES_TORCH_TEST_FIND_LINKS, else pip's)."""
    return configured("RULES_TORCH_TEST_FIND_LINKS", FIND_LINKS_KEYS)
