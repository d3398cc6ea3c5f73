"""Pydantic's validation errors said the way every other message of LMOS Studio says them.

Pydantic writes "Input should be a valid tuple" at `agents.0.workload.env`: it names a Python type and an index
path no YAML author writes. `problem` turns one error into the field path in the house form
(`agents[0].workload.env`) and what is wrong in YAML's words, with what to write ("must be a list, not a
mapping"); errors raised by our own validators (`value_error`) keep their text.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic_core import ErrorDetails

from lmos_studio.formats.yamltypes import kind_of, text_of


def field_path(loc: Sequence[int | str]) -> str:
    """`("agents", 0, "env")` → `agents[0].env`: list positions in brackets, as the other messages write them."""
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")


_SHAPES = {
    "string_type": "must be text",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "tuple_type": "must be a list",
    "list_type": "must be a list",
    "set_type": "must be a list",
    "frozen_set_type": "must be a list",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "dataclass_type": "must be a mapping",
}
_BOUNDS = {
    "greater_than_equal": "at least",
    "less_than_equal": "at most",
    "greater_than": "more than",
    "less_than": "less than",
}


def _number(bound: object) -> str:
    """A bound as a person writes it: 1, not 1.0."""
    return str(int(bound)) if isinstance(bound, float) and bound.is_integer() else str(bound)


def problem(err: ErrorDetails) -> tuple[str, str]:
    """(field path, message) for one pydantic error: what is wrong and, where it can be said, what to write."""
    loc = err.get("loc", ())
    path = field_path(loc)
    kind, value, ctx = err.get("type", ""), err.get("input"), err.get("ctx") or {}
    if kind == "missing":
        last = next((p for p in reversed(loc) if isinstance(p, str)), "")
        return path, f"missing; add `{last}:`" if last else "missing"
    if kind in _SHAPES:
        message = f"{_SHAPES[kind]}, not {kind_of(value)}"
        if kind == "string_type" and isinstance(value, int | float):  # a bool too: `on`, `yes`
            message += f"; quote it if it is text ('{text_of(value)}')"
        return path, message
    if kind in ("literal_error", "enum"):
        return path, f"must be {ctx.get('expected', 'one of the allowed values')}, not {value!r:.60}"
    if kind == "extra_forbidden":
        return path, "is not a field here; check its spelling or remove it"
    if kind in _BOUNDS:
        return path, f"must be {_BOUNDS[kind]} {_number(next(iter(ctx.values()), ''))}, not {value!r:.40}"
    if kind in ("too_long", "string_too_long"):
        most = ctx.get("max_length", "")
        unit = "characters" if kind == "string_too_long" else "entries"
        return path, f"too long: at most {most} {unit}"
    if kind in ("too_short", "string_too_short"):
        least = ctx.get("min_length", "")
        unit = "characters" if kind == "string_too_short" else "entries"
        return path, f"too short: at least {least} {unit}"
    if kind == "finite_number":
        return path, "must be a finite number"
    return path, str(err.get("msg", "")).removeprefix("Value error, ").removeprefix("Assertion failed, ")
