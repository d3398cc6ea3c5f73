"""The pages' tables: `arrow.plain_table` makes exactly `pyarrow.Table.from_pylist`'s table, without pandas."""

from __future__ import annotations

import math
import subprocess
import sys
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lmos_studio.ui import resources
from lmos_studio.ui.arrow import plain_table
from lmos_studio.visible import visible
from tests.conftest import ROOT

PLAIN = st.one_of(
    st.none(),
    st.text(max_size=8),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.booleans(),
)


def same(found: pa.Table, expected: pa.Table) -> None:
    assert found.schema == expected.schema
    assert found.num_rows == expected.num_rows
    assert found.to_pylist() == expected.to_pylist()
    assert found.equals(expected)


@pytest.mark.parametrize(
    "rows",
    [
        [{"agent": "a", "tenants": "t1, t2", "count": 3}, {"agent": "b", "tenants": "(any)", "count": 0}],
        [{"a": None, "b": 1}, {"a": None, "b": None}],  # a column of nulls only; ints with a null
        [{"x": 1.5, "y": True}, {"x": None, "y": None}, {"x": float("inf"), "y": False}],
        [{"name": "ünïcödé ✓", "e": ""}, {"name": None, "e": "x" * 1000}],
        [{"a": "x"}, {"b": "y"}, {}],  # keys missing from later rows are nulls; keys only in later rows are not columns
        [{"big": -(2**63)}, {"big": 2**63 - 1}],
        [{"v": False}] * 9,  # more than one byte of bits
    ],
)
def test_plain_columns_are_from_pylist_tables(rows: list[dict[str, Any]]) -> None:
    found = plain_table(rows)
    assert found is not None
    same(found, pa.Table.from_pylist(rows))


def test_nan_stays_a_value_not_a_null() -> None:
    found = plain_table([{"x": float("nan")}, {"x": 1.0}])
    assert found is not None and found.column("x").null_count == 0 and math.isnan(found.column("x")[0].as_py())


@pytest.mark.parametrize(
    "rows",
    [
        [],
        [{"a": 1}, {"a": 1.5}],  # ints with floats: from_pylist's rules (doubles)
        [{"a": 1}, {"a": "x"}],  # mixed: from_pylist refuses, resources.table shows text
        [{"a": True}, {"a": 1}],
        [{"a": 2**63}],  # beyond int64
        [{"a": ["x"]}],  # nested values
        [{"a": "\ud800"}],  # a lone surrogate
        [{1: "x"}],  # a column name that is not text
    ],
)
def test_other_columns_are_left_to_from_pylist(rows: list[dict[Any, Any]]) -> None:
    assert plain_table(rows) is None


@given(st.lists(st.dictionaries(st.sampled_from(["a", "b", "c"]), PLAIN, max_size=3), min_size=1, max_size=12))
def test_resources_table_is_unchanged(rows: list[dict[str, Any]]) -> None:
    """The pages' `table` gives what it gave before this fast path (from_pylist, or every cell as text), text
    that is not printable written as its escape (`visible`)."""
    rows = [{k: visible(v) if isinstance(v, str) else v for k, v in r.items()} for r in rows]
    try:
        expected = pa.Table.from_pylist(rows)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        expected = pa.Table.from_pylist([{k: None if v is None else str(v) for k, v in r.items()} for r in rows])
    same(resources.table(rows), expected)


def test_building_a_page_table_does_not_import_pandas() -> None:
    code = (
        "import sys; from lmos_studio.ui.arrow import plain_table\n"
        "t = plain_table([{'a': 'x', 'n': 1, 'f': 0.5, 'b': True}, {'a': None, 'n': None, 'f': None, 'b': None}])\n"
        "assert t is not None and t.num_rows == 2\n"
        "assert 'pandas' not in sys.modules, 'pandas was imported'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
