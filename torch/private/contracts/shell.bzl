"""How Starlark writes a word that a POSIX shell reads: the commands messages print (a lock
command, extension time) and the launchers' scripts (analysis)."""

_SAFE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-"

def shell_word(text):
    """`text` as one word of a POSIX shell, as Python's shlex.quote writes it.

    The lock tool's commands (python/rules_torch/lockfile.py) quote with shlex, and a command the
    extension prints must read the same (tests/locks/corpus.bzl's RELOCK_COMMANDS).

    Args:
      text: a string.

    Returns:
      `text` itself when every character is one a shell takes as it is, else `text` in single
      quotes (a quote in it as '"'"').
    """
    if text and all([c in _SAFE for c in text.elems()]):
        return text
    return "'" + text.replace("'", "'\"'\"'") + "'"
