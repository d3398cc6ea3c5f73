"""Fields of LMOS resources that export leaves out, and how reading a design puts them back.

An exported `Agent`/`Channel`/`ChannelRollout` carries only what its CRD declares (the API server's strict
field validation refuses anything else) and no server-written state. What the design had beyond that (an
A2A skill's `title` and `tags`, unknown keys, a Channel's `status`, a `uid`) travels in the Studio document
as `spec.resourceFields`: resource ("Agent default/billing") → JSON Pointer (RFC 6901) → value. Reading the
design applies them to the resource again, so export → read → export is exact. A lone resource (what
`lmos-studio import` prints) carries them in the annotation `studio.lmos.eclipse/resource-fields` (JSON of the
same pointer → value map) instead; `lmos.py` puts them back when it reads the resource.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from lmos_studio.formats.yamltypes import MAX_DEPTH

RESOURCE_FIELDS_KEY = "resourceFields"
RESOURCE_FIELDS_ANNOTATION = "studio.lmos.eclipse/resource-fields"
_CONTAINERS = (dict, list)  # a tuple: `dict | list` would build a union at every check


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def fields_left_out(full: Any, kept: Any, pointer: str = "") -> dict[str, Any]:
    """Pointer → value of every field of `full` that `kept` lacks (lists walked item by item)."""
    out: dict[str, Any] = {}
    if full != kept:  # equal data lacks nothing: most resources export whole
        _left_out(full, kept, pointer, out)
    return out


def _left_out(full: Any, kept: Any, pointer: str, out: dict[str, Any]) -> None:
    """`fields_left_out` of two unequal values, into `out`; equal parts are skipped without a walk."""
    if isinstance(full, dict) and isinstance(kept, dict):
        for key, value in full.items():
            if key not in kept:
                out[f"{pointer}/{_escape(str(key))}"] = copy.deepcopy(value)
            elif isinstance(value, _CONTAINERS) and value != kept[key]:
                _left_out(value, kept[key], f"{pointer}/{_escape(str(key))}", out)
    elif isinstance(full, list) and isinstance(kept, list) and len(full) == len(kept):
        for index, (item, kept_item) in enumerate(zip(full, kept, strict=True)):
            if isinstance(item, _CONTAINERS) and item != kept_item:
                _left_out(item, kept_item, f"{pointer}/{index}", out)


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


def with_annotation(doc: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """`doc` (a strictly valid resource) carrying `fields` in its resource-fields annotation."""
    if not fields:
        return doc
    meta = doc.setdefault("metadata", {})
    text = json.dumps(fields, ensure_ascii=False, sort_keys=False, separators=(",", ":"))
    meta["annotations"] = {**(meta.get("annotations") or {}), RESOURCE_FIELDS_ANNOTATION: text}
    return doc


def from_annotation(raw: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """`raw` with the fields of its resource-fields annotation put back and the annotation removed (a copy),
    and a problem ("" when none); `raw` itself when it has no such annotation."""
    meta = raw.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    if not isinstance(annotations, dict) or RESOURCE_FIELDS_ANNOTATION not in annotations:
        return raw, ""
    try:
        fields = json.loads(str(annotations[RESOURCE_FIELDS_ANNOTATION]))
    except (ValueError, RecursionError) as exc:  # RecursionError: nested too deeply for the decoder
        return raw, f"is not JSON ({exc if isinstance(exc, ValueError) else 'nested too deeply'}); " + _REMEDY
    if not isinstance(fields, dict):
        return raw, "must be a JSON object of JSON Pointer → value"
    if json_depth(fields) > MAX_DEPTH:
        return raw, f"nests deeper than {MAX_DEPTH} levels; remove the annotation"
    out = copy.deepcopy(raw)
    rest = {k: v for k, v in annotations.items() if k != RESOURCE_FIELDS_ANNOTATION}
    if rest:
        out["metadata"]["annotations"] = rest
    else:
        del out["metadata"]["annotations"]
    lost = put_back(out, fields)
    return out, (f"{', '.join(lost)} no longer fit the resource" if lost else "")


_REMEDY = "remove the annotation or restore it"


def json_depth(value: Any) -> int:
    """How deeply JSON data nests (iteratively: no recursion on hostile input)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, depth + 1) for child in children)
    return deepest
