"""Shell quoting, for every phase (command lines in messages, launcher scripts)."""

_SAFE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-"

def shell_quote(text):
    """`text` as one word of a POSIX shell, quoted only where it must be (as Python's shlex.quote).

    The lock tool's commands (python/rules_torch/lockfile.py) quote with shlex, and a command the
    extension prints must read the same (tests/locks/corpus.bzl's RELOCK_COMMANDS).

    Args:
      text: a string.

    Returns:
      It as it is when every character is safe, else in single quotes.
    """
    if text and not [c for c in text.elems() if c not in _SAFE]:
        return text
    return "'" + text.replace("'", "'\"'\"'") + "'"
