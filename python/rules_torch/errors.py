"""Errors the lock tool reports to its user.

Every problem a user can act on is a ``LockError`` whose message says what went wrong, for
which cell, and what to do. The CLI prints the message once and exits non-zero; it never
shows a traceback for these.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable


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


def report(parser: argparse.ArgumentParser, body: Callable[[], int]) -> int:
    """Runs a command's ``body`` and turns the errors a user can act on into a message and an
    exit status, with no traceback: usage errors (2, with the usage line), ``LockError`` (its
    status; the lock is never half-written), ``OSError`` from writing the output (1) and ^C (130).
    """
    try:
        return body()
    except UsageError as error:
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return error.exit_code
    except LockError as error:
        print(f"error: {error}", file=sys.stderr)
        print("The lock was not changed.", file=sys.stderr)
        return error.exit_code
    except OSError as error:
        # Writing the output (disk full, permissions): no traceback, the message is enough.
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; the lock was not changed.", file=sys.stderr)
        return 130
