"""Labelled query sets and seed examples: read from CSV (or lmos-router's seed JSON) with clear errors.

A labelled CSV has a text column (`instruction`, `query` or `text`), `agent`, optionally `capability` (or `intent`)
and `channel`. An empty `agent` cell means "no agent of this channel should answer" (an out-of-scope query). An
unclosed quote is an error at the line it opens on. Seed files add examples to agents before fitting, as
lmos-router seeds its vector store; they are CSVs of the same shape or JSON lists of `{text, agentName}` / `{text,
agent, capability}`. No routing happens here.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lmos_studio.config import SAMPLES_DIR
from lmos_studio.errors import DesignFileError
from lmos_studio.formats import jsonio, yamlio
from lmos_studio.sizes import size_and_limit

TEXT_COLUMNS = ("instruction", "query", "text")  # first present wins (the lmos-router benchmark: instruction)
CAPABILITY_COLUMNS = ("capability", "intent")
MAX_LABELLED_BYTES = 50 * 2**20  # a labelled set larger than this is refused (hostile or wrong file)
MAX_TEXT_CHARS = 10_000  # one query longer than this is not a chat message
BENCHMARK_TRAIN = SAMPLES_DIR / "lmos-router-benchmark" / "train.csv"  # README.md there: source and licence


@dataclass(frozen=True)
class LabelledQuery:
    """One labelled row: the query, the agent (and capability) that should answer, the channel to route in."""

    text: str
    agent: str
    capability: str = ""
    channel: str = ""  # a Channel's key, name or channel label; "" = the default channel of the run
    line: int = 0  # 1-based line in the source file (the header is line 1)
    source: str = "query"  # where it comes from: "query" (a labelled file) or a routing test's label
    name: str = ""  # a routing test's name ("" for a row of a file)
    min_score: float | None = None  # a routing test's own threshold (fit rule only); None: the channel's


SeedRow = tuple[str, str, str]  # (text, agent, capability-or-empty), as Router.fit takes it


def _too_large(size: int) -> str:
    shown, limit = size_and_limit(size, MAX_LABELLED_BYTES)
    return f"file is {shown}; labelled sets over {limit} are refused"


def _decode(data: bytes | str, source: str) -> str:
    if isinstance(data, str):
        return data
    if len(data) > MAX_LABELLED_BYTES:
        raise DesignFileError(_too_large(len(data)), path=source)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DesignFileError(f"not UTF-8 text (byte {exc.start}); save the file as UTF-8 CSV", path=source) from exc


def _read_bytes(path: str | Path) -> bytes:
    p = Path(path)
    try:
        size = yamlio.file_size(p)  # a pipe or a device is refused: it blocked, or filled the memory
        if size > MAX_LABELLED_BYTES:
            raise DesignFileError(_too_large(size), path=str(p))
        return p.read_bytes()
    except OSError as exc:
        raise DesignFileError(f"cannot read the file: {exc.strerror or exc}; check the path", path=str(p)) from exc


def _pick_column(header: list[str], names: Sequence[str]) -> int | None:
    lowered = [h.strip().lower() for h in header]
    return next((lowered.index(n) for n in names if n in lowered), None)


_OTHER_SEPARATORS = ((";", "';'"), ("\t", "tabs"))  # what spreadsheets write instead of commas


def parse_labelled_csv(data: bytes | str, *, source: str = "<upload>") -> list[LabelledQuery]:
    """Rows of a labelled CSV; a missing column, an empty cell or a ragged row names file, line and column."""
    text = _decode(data, source)
    rows = _csv_rows(text, source)
    if not rows or not any(c.strip() for c in rows[0]):
        raise DesignFileError(
            "empty file; the first line must be a header such as 'instruction,agent,intent'", path=source, line=1
        )
    header = rows[0]
    text_col = _pick_column(header, TEXT_COLUMNS)
    agent_col = _pick_column(header, ("agent",))
    if text_col is None or agent_col is None:
        separator = next((name for char, name in _OTHER_SEPARATORS if len(header) == 1 and char in header[0]), "")
        if separator:  # a spreadsheet's export in another locale: say so, not just "no text column"
            raise DesignFileError(
                f"the header is one column {header[0]!r}, separated by {separator} not commas; save the file as "
                "comma-separated CSV",
                path=source,
                line=1,
            )
        missing = "text column (instruction, query or text)" if text_col is None else "'agent' column"
        raise DesignFileError(f"the header has no {missing}; found: {', '.join(header)}", path=source, line=1)
    cap_col = _pick_column(header, CAPABILITY_COLUMNS)
    channel_col = _pick_column(header, ("channel",))
    queries = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank lines are allowed
        cols = (text_col, agent_col, cap_col, channel_col)
        queries.append(_labelled_row(row, header, number, source, cols))
    if not queries:
        raise DesignFileError("no labelled rows below the header", path=source, line=2)
    return queries


def _csv_rows(text: str, source: str) -> list[list[str]]:
    """The rows of CSV text, read leniently as before (`"ok" ,x` stays `ok `), except that an unclosed quote is
    an error at the line it opens on: read leniently it swallowed the rest of the file into one cell, then was
    reported as a row with too few fields. The strict reading only finds where that quote opens."""
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise DesignFileError(f"not a valid CSV: {exc}", path=source) from exc
    if text.count('"') % 2 == 0:  # balanced quotes: no field is left open
        return rows
    complete: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), strict=True):
            complete.append(row)
    except csv.Error as exc:
        if str(exc) == "unexpected end of data":  # the quote opened on the line after the last complete row
            line = 1 + sum(1 + sum(cell.count("\n") for cell in row) for row in complete)
            raise DesignFileError("a quoted field is not closed; close the quote", path=source, line=line) from exc
    return rows


def _labelled_row(
    row: list[str], header: list[str], line: int, source: str, cols: tuple[int, int, int | None, int | None]
) -> LabelledQuery:
    if len(row) != len(header):
        raise DesignFileError(
            f"{len(row)} fields, but the header has {len(header)}; quote fields that contain commas",
            path=source,
            line=line,
        )
    text_col, agent_col, cap_col, channel_col = cols
    if not row[text_col].strip():
        raise DesignFileError(
            "empty cell; every row needs a query (an empty agent cell means: no agent should answer)",
            path=source,
            line=line,
            field=header[text_col].strip(),
        )
    if not row[agent_col].strip() and cap_col is not None and row[cap_col].strip():
        raise DesignFileError(
            "a capability without an agent; name the agent, or leave both empty for a query no agent should answer",
            path=source,
            line=line,
            field=header[agent_col].strip(),
        )
    if len(row[text_col]) > MAX_TEXT_CHARS:
        raise DesignFileError(
            f"query of {len(row[text_col])} characters; at most {MAX_TEXT_CHARS}",
            path=source,
            line=line,
            field=header[text_col].strip(),
        )
    return LabelledQuery(
        text=row[text_col].strip(),
        agent=row[agent_col].strip(),
        capability=row[cap_col].strip() if cap_col is not None else "",
        channel=row[channel_col].strip() if channel_col is not None else "",
        line=line,
    )


def read_labelled_csv(path: str | Path) -> list[LabelledQuery]:
    """A labelled CSV file from disk (see `parse_labelled_csv`)."""
    return parse_labelled_csv(_read_bytes(path), source=str(path))


def _seed_json(text: str, source: str) -> list[LabelledQuery]:
    raw: Any = jsonio.loads(text, source=source)
    if not isinstance(raw, list):
        raise DesignFileError("a seed JSON file is a list of {text, agentName} objects", path=source)
    rows = []
    for index, item in enumerate(raw):
        agent = item.get("agentName") or item.get("agent") if isinstance(item, dict) else None
        text_value = item.get("text") if isinstance(item, dict) else None
        if not isinstance(agent, str) or not isinstance(text_value, str) or not agent or not text_value:
            raise DesignFileError(
                "each entry needs non-empty 'text' and 'agentName' strings", path=source, field=f"[{index}]"
            )
        capability = item.get("capability") or item.get("intent") or ""
        rows.append(
            LabelledQuery(
                text=text_value.strip(),
                agent=agent.strip(),
                capability=str(capability).strip(),
                channel=str(item.get("channel") or ""),
                line=0,
            )
        )
    return rows


def parse_seed(data: bytes | str, *, source: str = "<upload>") -> list[LabelledQuery]:
    """Seed examples from CSV text or JSON text (chosen by content: JSON starts with '[' or '{', which no CSV
    header of ours does; an object or a broken JSON file was read as CSV and said to have no text column)."""
    text = _decode(data, source)
    if text.lstrip().startswith(("[", "{")):
        return _seed_json(text, source)
    rows = parse_labelled_csv(text, source=source)
    for row in rows:
        if not row.agent:
            raise DesignFileError(
                "empty agent cell; every seed example teaches an agent", path=source, line=row.line, field="agent"
            )
    return rows


def read_seed(path: str | Path) -> list[LabelledQuery]:
    """A seed file from disk: CSV like a labelled set, or lmos-router's seed.json `[{text, agentName}]`."""
    return parse_seed(_read_bytes(path), source=str(path))


def seed_rows(seed: Sequence[LabelledQuery]) -> tuple[SeedRow, ...]:
    """The (text, agent, capability) triples Router.fit takes."""
    return tuple((s.text, s.agent, s.capability) for s in seed)


def written_for(agents: Iterable[str], queries: Iterable[LabelledQuery]) -> bool:
    """Whether a labelled set's expected agents are all among `agents` (every row could be answered right)."""
    expected = {q.agent for q in queries if q.agent}
    return bool(expected) and expected <= set(agents)


def sample_labelled_sets() -> dict[str, Path]:
    """Labelled sets shipped in sample_networks/ (*.csv), plus the lmos-router benchmark's train.csv."""
    sets = {path.name: path for path in sorted(SAMPLES_DIR.glob("*.csv"))}
    if BENCHMARK_TRAIN.is_file():
        sets["lmos-router benchmark train.csv (3 000 rows)"] = BENCHMARK_TRAIN
    return sets
