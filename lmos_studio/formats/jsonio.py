"""The one JSON reader of LMOS Studio: strict, bounded, and every failure a `DesignFileError`.

Refuses what `json.loads` lets through and what later breaks a writer or a response: `NaN`/`Infinity`
(and `1e999`, which overflows to infinity), integers outside 64 bits (and the 4 300-digit `ValueError`),
lone surrogates (`"\\ud800"`, which no UTF-8 writer can encode) and nesting deeper than `MAX_DEPTH`.
Messages name the source, line or field path. Writing JSON stays with the standard library.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from lmos_studio.errors import DesignFileError
from lmos_studio.formats.yamlio import MAX_DEPTH, MAX_INT_CHARS, YamlFloat

INT_MIN, INT_MAX = -(2**63), 2**63 - 1  # what Kubernetes and JSON Schema int64 accept
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # only texts with such an escape can decode to one


class _Refused(ValueError):
    """Raised from a parse hook; turned into a `DesignFileError` with the source."""


def _refuse_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a number JSON allows; write a finite number")


def _int(text: str) -> int:
    if len(text) > MAX_INT_CHARS:
        raise _Refused(f"an integer of {len(text)} digits; integers must fit in 64 bits")
    value = int(text)
    if not INT_MIN <= value <= INT_MAX:
        raise _Refused(f"integer {text} does not fit in 64 bits")
    return value


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"{text[:40]} overflows to infinity; write a finite number")
    return value


def _float_keeping_text(text: str) -> YamlFloat:
    value = YamlFloat(_float(text))
    value.text = text
    return value


def loads(
    data: str | bytes,
    *,
    source: str = "<json>",
    max_depth: int = MAX_DEPTH,
    keep_float_text: bool = False,
    unique_keys: bool = False,
) -> Any:
    """Parse one JSON document strictly (see the module docstring); `DesignFileError` naming `source`.

    With `keep_float_text`, floats remember how they were written (`1.10` stays "1.10"), as YAML numbers do.
    With `unique_keys`, a key given twice in one object is refused, as the YAML reader refuses it (json keeps
    the last value silently); off by default: the pairs hook makes parsing slower, and a server body or a
    model's reply is not a file a person wrote.
    """
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise DesignFileError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path=source) from exc
    parse_float: Callable[[str], Any] = _float_keeping_text if keep_float_text else _float
    try:
        value = json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_int=_int,
            parse_float=parse_float,
            object_pairs_hook=_unique_object if unique_keys else None,
        )
    except json.JSONDecodeError as exc:
        raise DesignFileError(
            f"malformed JSON: {exc.msg} (column {exc.colno}); fix the syntax there", path=source, line=exc.lineno
        ) from exc
    except _Refused as exc:
        raise DesignFileError(str(exc), path=source) from exc
    except RecursionError as exc:
        raise DesignFileError(f"nesting deeper than {max_depth} levels; refused", path=source) from exc
    except ValueError as exc:  # anything else the parser's hooks raise
        raise DesignFileError(f"unreadable JSON: {exc}", path=source) from exc
    check(value, source=source, max_depth=max_depth, surrogates=_may_hold_surrogates(text))
    return value


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object as a dict, refusing a key given twice (`object_pairs_hook`)."""
    out = dict(pairs)
    if len(out) != len(pairs):  # only then look for which key it was
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Refused(f"duplicate key {key!r} in one object; keep one of them")
            seen.add(key)
    return out


def _may_hold_surrogates(text: str) -> bool:
    if text.isascii():
        return _SURROGATE_ESCAPE.search(text) is not None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return _SURROGATE_ESCAPE.search(text) is not None


Link = tuple[Any, Any] | None  # (parent link, key or index): a field path built only when an error needs it


def check(value: Any, *, source: str, max_depth: int = MAX_DEPTH, surrogates: bool = True) -> None:
    """Refuse nesting deeper than `max_depth` and (with `surrogates`) strings no UTF-8 writer can encode,
    naming the field path. Iterative: a hostile document cannot exhaust the stack here."""
    stack: list[tuple[Any, int, Link]] = [(value, 1, None)]
    while stack:
        node, depth, link = stack.pop()
        if depth > max_depth:
            raise DesignFileError(f"nesting deeper than {max_depth} levels; refused", path=source)
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in items:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1, (link, key)))
            elif surrogates:
                if isinstance(child, str):
                    _check_text(child, source, (link, key))
                if isinstance(key, str):
                    _check_text(key, source, link)


def _path(link: Link) -> str | None:
    parts: list[str] = []
    while link is not None:
        link, key = link
        parts.append(f"[{key}]" if isinstance(key, int) else f".{key}")
    text = "".join(reversed(parts)).lstrip(".")
    return text.encode("utf-8", "backslashreplace").decode("utf-8") or None  # printable even with a surrogate


def _check_text(text: str, source: str, link: Link) -> None:
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise DesignFileError(
            f"holds a lone surrogate (\\u{ord(text[exc.start]):04x}), which is not Unicode text; fix the escape",
            path=source,
            field=_path(link) or "(key)",
        ) from exc
