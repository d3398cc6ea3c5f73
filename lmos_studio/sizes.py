"""Sizes in messages: "812 bytes", "3.5 KiB", "20 MiB", so a refusal under a small limit (an upload limit of
0.001 MB, a test's) does not read "0.0 MiB is more than the 0 MiB limit"."""

from __future__ import annotations

_UNITS = (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10))


def size_text(size: int | float) -> str:
    """A byte count in the largest unit it reaches, one decimal at most ("1 byte", "512 bytes", "1.5 KiB")."""
    count = int(size)
    for unit, scale in _UNITS:
        if count >= scale:
            return f"{count / scale:.1f}".removesuffix(".0") + f" {unit}"
    return "1 byte" if count == 1 else f"{count} bytes"


def size_and_limit(size: int | float, limit: int | float) -> tuple[str, str]:
    """A size and the limit it passed, told apart: the size in exact bytes where rounding would show it equal to
    the limit ("4,194,307 bytes" over "4 MiB"); the limit always in its unit."""
    shown = size_text(size), size_text(limit)
    if shown[0] == shown[1] and int(size) != int(limit):
        return f"{int(size):,} bytes", shown[1]
    return shown
