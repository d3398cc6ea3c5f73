"""The objects YAML is read into, shared by the readers (`yamlio`'s event and composing readers, `yamllines`):
mappings and sequences that remember their lines, numbers that remember their text, and the rules that turn
one plain or tagged scalar into its object.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import yaml

MAX_DEPTH = 200  # nesting deeper than any manifest needs
MAX_INT_CHARS = 40  # an int64 is at most 20 digits; longer spellings (underscores, 0b…) are refused

_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LineDict(dict[Any, Any]):
    """A mapping that remembers the line of each key (1-based) and of itself."""

    line: int = 0
    lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        return self.lines.get(key, self.line) if hasattr(self, "lines") else self.line


class LineList(list[Any]):
    """A sequence that remembers its line (1-based)."""

    line: int = 0


class YamlInt(int):
    """An int that remembers how it was written (`010`, `0x1F`)."""

    text: str


class YamlFloat(float):
    """A float that remembers how it was written (`1.10` stays `1.10`)."""

    text: str


def kind_of(value: Any) -> str:
    """What a YAML value is, in the words of a message: 'a mapping', 'a list', 'a number', … (never the reader's
    classes: a user wrote YAML, not a LineList)."""
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"


def text_of(value: Any) -> str:
    """The value as the user wrote it: `1.10` → "1.10" (not "1.1"), True → "true"."""
    if isinstance(value, YamlInt | YamlFloat):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_BOOLS = {"yes": True, "true": True, "on": True, "no": False, "false": False, "off": False}
_SCALARS: dict[str, Callable[[str], Any]] = {
    "tag:yaml.org,2002:null": lambda value: None,
    "tag:yaml.org,2002:bool": lambda value: _BOOLS[value.lower()],
    "tag:yaml.org,2002:timestamp": str,  # keep timestamps as text
}


_FLOAT = yaml.constructor.SafeConstructor()  # its int/float rules (0x1F, 1_000, .inf) applied to one scalar


class _Irregular(Exception):
    """The event reader met something it leaves to the composing reader (anchors, merges, errors)."""


def _convert(tag: str, text: str) -> Any:
    """A plain or explicitly tagged scalar as `_Builder.scalar` makes it; anything it would refuse is irregular."""
    if tag == "tag:yaml.org,2002:int":
        if len(text) > MAX_INT_CHARS:
            raise _Irregular
        integer = YamlInt(_FLOAT.construct_yaml_int(yaml.ScalarNode(tag, text)))
        if not -(2**63) <= integer < 2**63:
            raise _Irregular
        integer.text = text
        return integer
    if tag == "tag:yaml.org,2002:float":
        number = YamlFloat(_FLOAT.construct_yaml_float(yaml.ScalarNode(tag, text)))
        if not math.isfinite(number):
            raise _Irregular
        number.text = text
        return number
    convert = _SCALARS.get(tag)
    if convert is None:
        raise _Irregular
    return convert(text)
