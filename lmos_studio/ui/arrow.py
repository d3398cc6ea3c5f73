"""Rows of plain values as an Arrow table without pandas: the tables every page shows.

`pyarrow.Table.from_pylist` asks pyarrow's lazy pandas shim whether each column is "array-like", which imports
pandas (~0.4 s of CPU) on the first table a process builds, though nothing here uses it. A column whose values
are all of one plain type (str, int, float or bool, with or without None) is built here from its buffers, into
the very table `from_pylist` would make; any other column (mixed types, nested values, huge ints or strings)
returns None and the caller uses `from_pylist` as before. tests/test_arrow_table.py checks both agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa  # type: ignore[import-untyped]

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_OFFSET_MAX = 2**31 - 1  # Arrow `string` offsets are int32: more bytes in a column makes a large or chunked array


def plain_table(rows: Sequence[Mapping[str, Any]]) -> pa.Table | None:
    """The table `pa.Table.from_pylist(rows)` makes (columns named by the first row's keys, a missing key a
    null), or None when some column is not all of one plain type."""
    if not rows:
        return None
    names = list(rows[0])
    if not all(name.__class__ is str for name in names):
        return None
    arrays = []
    for name in names:
        array = _plain_array([row.get(name) for row in rows])
        if array is None:
            return None
        arrays.append(array)
    import pyarrow as pa

    return pa.Table.from_arrays(arrays, names=names)


def _plain_array(values: list[Any]) -> pa.Array | None:
    import numpy as np
    import pyarrow as pa

    kinds = set(map(type, values))
    has_null = type(None) in kinds
    kinds.discard(type(None))
    if not kinds:
        return pa.nulls(len(values))
    if len(kinds) != 1:
        return None  # ints with floats, text with numbers, …: from_pylist's own rules decide
    kind = kinds.pop()
    validity = None
    if has_null:
        validity = pa.py_buffer(np.packbits(np.fromiter((v is not None for v in values), bool), bitorder="little"))
    if kind is str:
        return _string_array([v or "" for v in values] if has_null else values, validity)
    if kind is bool:
        bits = np.packbits(np.fromiter((v is True for v in values), bool, len(values)), bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), len(values), [validity, pa.py_buffer(bits)])
    if kind is int:
        present = [v for v in values if v is not None] if has_null else values
        if min(present) < _INT64_MIN or max(present) > _INT64_MAX:
            return None
        ints = np.fromiter((0 if v is None else v for v in values), np.int64, len(values))
        return pa.Array.from_buffers(pa.int64(), len(values), [validity, pa.py_buffer(ints)])
    if kind is float:
        floats = np.fromiter((0.0 if v is None else v for v in values), np.float64, len(values))
        return pa.Array.from_buffers(pa.float64(), len(values), [validity, pa.py_buffer(floats)])
    return None


def _string_array(texts: list[str], validity: pa.Buffer | None) -> pa.Array | None:
    import numpy as np
    import pyarrow as pa

    joined = "".join(texts)
    parts: list[str] | list[bytes]
    if joined.isascii():  # the common case: one encoding, characters are bytes
        data, parts = joined.encode("ascii"), texts
    else:
        try:
            encoded = [text.encode("utf-8") for text in texts]
        except UnicodeEncodeError:  # a lone surrogate: from_pylist refuses it, in its own words
            return None
        data, parts = b"".join(encoded), encoded
    if len(data) > _OFFSET_MAX:
        return None
    offsets = np.zeros(len(parts) + 1, dtype=np.int32)
    np.cumsum(np.fromiter(map(len, parts), np.int32, len(parts)), out=offsets[1:])
    return pa.Array.from_buffers(pa.string(), len(texts), [validity, pa.py_buffer(offsets), pa.py_buffer(data)])
