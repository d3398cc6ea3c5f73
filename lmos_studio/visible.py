"""Text from registries and designs as it may be shown on one line: every character that is not printable
(line breaks, ESC and other control characters, bidi overrides such as U+202E, zero-width and format
characters: what Python's `repr` escapes, except spaces such as U+00A0) written as a visible escape, `\\n`,
`\\x1b`, `\\u202e`.

A registry's words are untrusted: a newline in an agent's description broke a CLI table's rows, an ESC began
a terminal escape sequence, and a right-to-left override turned `view-bill<U+202E>exe.txt` around on screen.
For display only (CLI tables and messages, the pages' tables and Markdown); JSON output and the design keep
the text as it was. Pure functions; no I/O.
"""

from __future__ import annotations

import unicodedata

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def visible(text: object) -> str:
    """`text` with each character that is not printable written as its escape (`\\n`, `\\x1b`, `\\u202e`)."""
    shown = str(text)
    if shown.isprintable():  # the common case: nothing to do
        return shown
    return "".join(char if _shows(char) else _escape(char) for char in shown)


SHOWN_CHARS = 80  # of a name or value a user gave, what a message repeats (a 100 000-character --channel is named)


def cut(text: object, most: int = 60) -> str:
    """`text` for a message, cut after `most` characters (a 3 000-character name is named, not printed whole)."""
    shown = str(text)
    return shown if len(shown) <= most else shown[:most] + "…"


def _shows(char: str) -> bool:
    """Whether a character shows as itself: a printable one, or a space (a no-break or ideographic space in a
    description is no spoof, and `\\xa0` would only be noise)."""
    return char.isprintable() or unicodedata.category(char) == "Zs"


def _escape(char: str) -> str:
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
