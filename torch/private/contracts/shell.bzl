"""How Starlark writes a word that a POSIX shell reads: the commands messages print (a lock
command, extension time) and the launchers' scripts (analysis)."""

_SAFE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-"

def shell_word(text):
    """`text` as one word of a POSIX shell, as a person would type it.

    Args:
      text: a string.

    Returns:
      `text` itself when every character is one a shell takes as it is, else `text` in single
      quotes.
    """
    if text and all([c in _SAFE for c in text.elems()]):
        return text
    return "'" + text.replace("'", "'\\''") + "'"
