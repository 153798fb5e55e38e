"""Errors the lock tool reports to its user.

Every problem a user can act on is a ``LockError`` whose message says what went wrong, for
which cell, and what to do. The CLI prints the message once and exits non-zero; it never
shows a traceback for these.
"""

from __future__ import annotations


class LockError(Exception):
    """A problem the user can fix; ``str(error)`` is the whole message."""

    exit_code = 1


class UsageError(LockError):
    """The command line asks for something that cannot exist (unknown platform, ...)."""

    exit_code = 2


class IndexUnreachableError(LockError):
    """An index or find-links location could not be read."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(
            f"cannot read {url}: {reason}. Check the URL (--index-url, --extra-index-url, "
            "--find-links) and the network or proxy settings."
        )
        self.url = url
        self.reason = reason


class MissingCellError(LockError):
    """A cell PyTorch never published (a variant for a version, a platform for a variant).

    ``--skip-missing`` turns these into warnings and leaves the cell out of the lock.
    """

    def __init__(self, cell_key: str, message: str) -> None:
        super().__init__(f"{cell_key}: {message}")
        self.cell_key = cell_key
