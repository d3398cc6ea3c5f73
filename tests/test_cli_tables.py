"""The CLI's text tables: one line per row on a pipe (scripts and grep see whole rows); on a terminal narrower
than the table, the wide columns wrapped to fit, names and ids kept whole (a lint message of 300 characters was
one line 800 columns wide, the terminal folding it through every column)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from lmos_studio.commands._shell import TABLE_MIN_COLUMN, render_table
from lmos_studio.visible import visible
from tests.conftest import ROOT, SAMPLES, run_cli

HEADERS = ["SEVERITY", "CODE", "OBJECTS", "MESSAGE"]
ROWS = [
    ["error", "unresolved-capability", "channel:default/acme-web-stable", "word " * 60 + "end"],
    ["warning", "missing-examples", "agent:default/billing-agent-with-a-long-name", "short"],
]


def test_a_table_that_fits_or_goes_to_a_pipe_keeps_one_line_per_row() -> None:
    for width in (None, 10_000):
        lines = render_table(HEADERS, ROWS, width=width).splitlines()
        assert len(lines) == 2 + len(ROWS)
        assert lines[2].startswith("error") and lines[2].endswith("word end")


def test_a_wide_table_is_wrapped_to_the_terminal_with_words_whole() -> None:
    text = render_table(HEADERS, ROWS, width=100)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 100, text
    assert lines[0].split() == HEADERS
    shown = text.split()
    for name in ("channel:default/acme-web-stable", "agent:default/billing-agent-with-a-long-name"):
        assert name in shown, text  # whole, never broken across lines
    assert shown.count("word") == 60 and "end" in shown  # nothing lost
    assert "" in lines  # a blank line between wrapped rows


def test_a_terminal_too_narrow_for_the_names_gets_the_narrowest_table() -> None:
    """Names stand whole while they fit side by side; on a terminal narrower than that, the widest columns give
    way (their words break), each down to TABLE_MIN_COLUMN: the table is as narrow as it goes."""
    text = render_table(HEADERS, ROWS, width=40)
    narrowest = len("SEVERITY") + 3 * TABLE_MIN_COLUMN + 2 * 3
    assert max(len(line) for line in text.splitlines()) <= narrowest, text
    assert text.splitlines()[0].split() == HEADERS


def _on_a_terminal(*args: str, columns: int) -> str:
    """`python -m lmos_studio ARGS` with stdout on a pseudo-terminal `columns` wide; what it printed."""
    main, child = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": str(columns), "TERM": "dumb"}
    process = subprocess.Popen(
        [sys.executable, "-m", "lmos_studio", *args], stdout=child, stderr=subprocess.DEVNULL, env=env, cwd=ROOT
    )
    os.close(child)
    out = b""
    while True:
        ready, _, _ = select.select([main], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    process.wait(timeout=60)
    os.close(main)
    return out.decode("utf-8").replace("\r\n", "\n")


def test_lint_on_a_terminal_fits_it_and_on_a_pipe_keeps_rows_whole() -> None:
    faulty = str(SAMPLES / "faulty.yaml")
    piped = run_cli("lint", faulty)
    assert piped.returncode == 1
    findings = [line for line in piped.stdout.splitlines() if line.startswith(("error", "warning", "info"))]
    assert len(findings) == len(piped.stdout.splitlines()) - 2 and max(map(len, findings)) > 200
    shown = _on_a_terminal("lint", faulty, columns=140)
    lines = shown.splitlines()
    assert max(len(line) for line in lines) <= 140, shown
    assert sum(line.startswith(("error", "warning", "info")) for line in lines) == len(findings)
    assert "trust:billing-agent->ghost-agent" in shown.split()


@given(
    st.lists(
        st.lists(
            st.text(st.characters(codec="utf-8", categories=("L", "N", "P", "Zs", "Cc")), max_size=80),
            min_size=3,
            max_size=3,
        ),
        min_size=1,
        max_size=6,
    ),
    st.integers(min_value=20, max_value=200),
)
@settings(database=None, max_examples=200, deadline=None)
def test_wrapping_loses_and_adds_no_character(rows: list[list[str]], width: int) -> None:
    """Whatever the cells and the width, the wrapped table holds every character of every cell, once."""
    headers = ["A", "B", "C"]
    text = render_table(headers, rows, width=width)
    body = text.splitlines()
    del body[1]  # the dashes under the headers
    shown = Counter(c for line in body for c in line if not c.isspace())
    given_ = Counter(
        c for cell in [*headers, *(c for row in rows for c in row)] for c in visible(cell) if not c.isspace()
    )
    assert shown == given_
