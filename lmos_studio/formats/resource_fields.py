"""Fields of LMOS resources that export leaves out, and how reading a design puts them back.

An exported `Agent`/`Channel`/`ChannelRollout` carries only what its CRD declares (the API server's strict
field validation refuses anything else) and no server-written state. What the design had beyond that (an
A2A skill's `title` and `tags`, unknown keys, a Channel's `status`, a `uid`) travels in the Studio document
as `spec.resourceFields`: resource ("Agent default/billing") → JSON Pointer (RFC 6901) → value. Reading the
design applies them to the resource again, so export → read → export is exact.
"""

from __future__ import annotations

import copy
from typing import Any

RESOURCE_FIELDS_KEY = "resourceFields"


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def fields_left_out(full: Any, kept: Any, pointer: str = "") -> dict[str, Any]:
    """Pointer → value of every field of `full` that `kept` lacks (lists walked item by item)."""
    out: dict[str, Any] = {}
    if isinstance(full, dict) and isinstance(kept, dict):
        for key, value in full.items():
            at = f"{pointer}/{_escape(str(key))}"
            if key not in kept:
                out[at] = copy.deepcopy(value)
            else:
                out.update(fields_left_out(value, kept[key], at))
    elif isinstance(full, list) and isinstance(kept, list) and len(full) == len(kept):
        for index, (item, kept_item) in enumerate(zip(full, kept, strict=True)):
            out.update(fields_left_out(item, kept_item, f"{pointer}/{index}"))
    return out


def put_back(doc: dict[str, Any], fields: dict[str, Any]) -> list[str]:
    """Set every pointer of `fields` in `doc` (in place); the pointers whose parent is missing are returned."""
    lost = []
    for pointer, value in fields.items():
        tokens = [_unescape(t) for t in str(pointer).split("/")[1:]]
        node: Any = doc
        for token in tokens[:-1]:
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                node = None
                break
        if isinstance(node, dict) and tokens:
            node[tokens[-1]] = copy.deepcopy(value)
        else:
            lost.append(str(pointer))
    return lost
