"""A design file cut into its documents' texts, for `roundtrip.py`: each document with the comments above it, the
file's own comments on top and below. `cut_documents` cuts where Studio's reader (libyaml) says documents start;
`by_lines` cuts by the file's lines alone and finds the documents that are the rendering's documents with comments
added, which then need no reading (lane E, session 14).

Texts and what the reader makes of them, no YAML tree: updating a changed document in place (ruamel.yaml) is
`roundtrip.py`'s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, NamedTuple

import yaml

from lmos_studio.formats.yamlio import load_documents
from lmos_studio.formats.yamllines import _non_printable, read_lines
from lmos_studio.formats.yamltypes import _BaseLoader


class NotMergeable(Exception):
    """The old file cannot take the new content in place: the caller writes the plain rendering."""


@dataclass
class Chunk:
    """One document's lines (the comments above it included) and what Studio's reader makes of them."""

    text: str
    data: Any
    commented: bool = False  # known to hold a comment or blank line (outside scalars): no rendering of Studio's


class Documents(NamedTuple):
    """A file cut into its documents."""

    header: str  # the file's own comments on top
    chunks: list[Chunk]  # each document from its start (`---` or first key) to the next one's
    trailer: str  # the comments below the last document


def cut_documents(text: str, docs: list[Any]) -> Documents:
    """The file cut where Studio's reader says its documents (`docs`, as it read them) start (`_partition`)."""
    starts = []
    for event in yaml.parse(text, Loader=_BaseLoader):
        if isinstance(event, yaml.DocumentStartEvent) and event.start_mark is not None:
            if event.version or event.tags:
                raise NotMergeable("it has YAML directives")
            starts.append(event.start_mark.line)
    lines = text.splitlines(keepends=True)
    parted = _partition(lines, starts, set(comment_lines(text)))
    if parted is None:
        return Documents(text, [], "")
    header, parts, trailer = parted
    if len(parts) != len(docs):
        raise NotMergeable("its documents could not be told apart")
    return Documents(header, [Chunk(part.text, doc) for part, doc in zip(parts, docs, strict=True)], trailer)


@dataclass
class _Part:
    text: str
    begin: int  # its first line (0-based) and the line after its last
    end: int


def _partition(lines: list[str], starts: list[int], loose: set[int]) -> tuple[str, list[_Part], str] | None:
    """The file's comments on top, its documents' texts, the comments below the last document; None when it has
    no document or nothing but comments. `starts`: the line of each document's start (`---` or its first key),
    `loose`: the lines that are blank or only a comment (not inside a multi-line scalar). Comments and blank lines
    ending a document go with the next one (a comment belongs to what is below it); those on top are the file's
    up to their last blank line (all of them when none is blank)."""
    content = [n for n in range(len(lines)) if n not in loose]
    if not starts or not content:
        return None
    starts = list(starts)
    blanks = [n for n in range(content[0]) if not lines[n].strip()]
    starts[0] = blanks[-1] + 1 if blanks else content[0]
    header, trailer = "".join(lines[: starts[0]]), "".join(lines[content[-1] + 1 :])
    for k in range(1, len(starts)):  # a document's trailing comments and blank lines: the next one's
        while starts[k] - 1 > starts[k - 1] and starts[k] - 1 in loose:
            starts[k] -= 1
    parts: list[_Part] = []
    carried = ""
    carried_from = -1
    for begin, end in zip(starts, [*starts[1:], content[-1] + 1], strict=True):
        part = carried + "".join(lines[begin:end])
        if all(n in loose or _is_separator(lines[n]) for n in range(begin, end)):
            carried = part  # an empty document: its comments go with the next one
            carried_from = begin if carried_from < 0 else carried_from
            continue
        parts.append(
            _Part(part if part.endswith("\n") else part + "\n", carried_from if carried_from >= 0 else begin, end)
        )
        carried = ""
        carried_from = -1
    if carried and parts:
        parts[-1].text += carried
        parts[-1].end = content[-1] + 1
    return header, parts, trailer


# --- documents found line by line ---------------------------------------------------------------------------
# A document of the old file that is one of the rendering's (`pieces`, `yamlio.Rendering`) with comments added
# (lines that are blank or only a comment, ` # …` after a line) reads as that document: each line of it is whole
# (`Rendering`), so what was added is comments only. Those documents need no reading; only the others are read
# (libyaml), with the file's lines that look like comments checked not to be inside one of their multi-line
# scalars.

_SEPARATOR = re.compile(r"---(?: +(?:#.*)?)?")  # a `---` line as `cut_documents` takes one (comment after it or not)
_ADDED_COMMENT = re.compile(r" +#.*")  # a comment after a line's content, from its first ` #`


def by_lines(old: str, pieces: tuple[str, ...]) -> str | tuple[Documents, list[Chunk]] | None:
    """`old` cut into its documents as `cut_documents` cuts it and, found line by line, which are the rendering's
    documents (`pieces`) with comments added. When all of them are, in the rendering's order, the file's text
    (each document after the first with its `---`): it reads as the rendering, unread. Else `old`'s documents
    and the rendering's (only the documents of `old` that are none of the rendering's are read;
    `roundtrip._merged_file`'s input). None when this cannot tell (the caller reads `old`)."""
    cut = _cut_by_lines(old)
    if cut is None:
        return None
    header, parts, trailer = cut.header, cut.parts, cut.trailer
    free: dict[str, list[int]] = {}
    for j, piece in enumerate(pieces):
        free.setdefault(piece[len("---\n") :], []).append(j)
    paired: list[int | None] = []
    for part in parts:
        slots = free.get(_content(cut, part))
        paired.append(slots.pop(0) if slots else None)
    studio = any("\nkind: StudioDesign\n" in piece for piece in pieces)  # a design: `merged_text` keeps its layout
    if studio and paired == list(range(len(pieces))):
        return header + "".join(separated(p.text, first=not k) for k, p in enumerate(parts)) + trailer
    news = _read_pieces(pieces, {j for j in paired if j is not None})
    others = [part for part, j in zip(parts, paired, strict=True) if j is None]
    read = _read_parts(cut, others)
    if news is None or read is None:
        return None
    olds = [
        Chunk(part.text, news[j].data if j is not None else read.pop(0), _commented(cut, part))
        for part, j in zip(parts, paired, strict=True)
    ]
    return Documents(header, olds, trailer), news


def _commented(cut: _Cut, part: _Part) -> bool:
    """Whether a document holds a comment or blank line (`_read_parts` checked those of the documents it read
    are no part of a scalar; a paired one has none)."""
    return any(n in cut.loose for n in range(part.begin, part.end))


_HEAD = re.compile(r"^(?:apiVersion|kind|metadata):.*\n(?:[ -].*\n)*", re.MULTILINE)  # with the lines below


def _read_pieces(pieces: tuple[str, ...], paired: set[int]) -> list[Chunk] | None:
    """`new`'s documents: read whole when found in no document of the old file; else only what finds them
    (`roundtrip._doc_key`, `_doc_class`: apiVersion, kind, metadata), which its pair shares (the same data, as it
    is)."""
    heads = "".join("---\n" + "".join(_HEAD.findall(pieces[j])) for j in sorted(paired))
    whole = "".join(piece for j, piece in enumerate(pieces) if j not in paired)
    read_heads, read_whole = load_documents(heads), load_documents(whole)
    if len(read_heads) != len(paired) or len(read_whole) != len(pieces) - len(paired):
        return None
    return [Chunk(piece, read_heads.pop(0) if j in paired else read_whole.pop(0)) for j, piece in enumerate(pieces)]


@dataclass
class _Cut:
    lines: list[str]
    header: str
    parts: list[_Part]
    trailer: str
    loose: set[int]  # the lines that are blank or only a comment
    separators: list[int]  # the `---` lines


def _cut_by_lines(old: str) -> _Cut | None:
    """`old` cut as `cut_documents` cuts it, from its lines alone: documents start at `---` lines (at the start of a
    line, `---` is one in any YAML), comments are the lines that look like one (`_read_parts` checks those of
    the documents it reads). None for what this does not take: other line breaks than `\n`, characters the
    reader refuses, a BOM, `...` or directives, other blank characters than spaces on a comment line."""
    if not old or "\ufeff" in old or _non_printable(old):
        return None
    lines = old.splitlines(keepends=True)
    if len(lines) != old.count("\n") + (not old.endswith("\n")):
        return None  # \r, U+2028 …: `cut_documents` would count lines as libyaml does
    loose: set[int] = set()
    separators: list[int] = []
    for n, line in enumerate(lines):
        rest = line.lstrip(" ")
        if rest[:1] in ("\n", "#", ""):
            loose.add(n)
        elif not rest.strip() or rest.lstrip()[0] == "#":
            return None  # a tab before a comment or on a blank line
        elif line[0] in "-.%" and line.startswith(("---", "...", "%")):
            if not _SEPARATOR.fullmatch(line.rstrip("\n")):
                return None
            separators.append(n)
    first = next((n for n in range(len(lines)) if n not in loose), None)
    if first is None:
        return None
    starts = separators if first in separators else [first, *separators]
    parted = _partition(lines, starts, loose)
    if parted is None:
        return None
    return _Cut(lines, *parted, loose, separators)


def _content(cut: _Cut, part: _Part) -> str:
    """A document's lines without its `---`, comment lines and the comments after its lines."""
    out = []
    for n in range(part.begin, part.end):
        if n in cut.loose:
            continue
        line = cut.lines[n]
        if line.startswith("---") and _SEPARATOR.fullmatch(line.rstrip("\n")):
            continue
        out.append(_ADDED_COMMENT.sub("", line, count=1) if "#" in line else line)
    return "".join(out)


def _read_parts(cut: _Cut, parts: list[_Part]) -> list[Any] | None:
    """What Studio's reader makes of these documents of the file (read together, as in the file); None when a
    line of them taken for a comment is inside one of their multi-line scalars (`_cut_by_lines` cut wrongly)."""
    line_reads: list[list[Any] | None] = []
    for part in parts:
        end = next((s for s in cut.separators if s >= part.end), len(cut.lines))
        region = "".join(cut.lines[part.begin : end])  # with the comments after it, up to the next `---`
        read = read_lines(region)  # the line reader takes no multi-line scalar: then each comment-like line is one
        if read is None and any(part.begin + n in cut.loose for n in _inside(region)):
            return None
        line_reads.append(read)
    if any("*" in p.text for p in parts):  # aliases: counted over the documents together, as in the file
        docs = load_documents("".join(separated(p.text, first=not k) for k, p in enumerate(parts)))
        return docs if len(docs) == len(parts) else None
    docs = []  # one by one: a comment after a line (the events reader) in one leaves the others to the line reader
    for part, read in zip(parts, line_reads, strict=True):
        read = read if read is not None else load_documents(part.text)
        if len(read) != 1:
            return None
        docs += read
    return docs


def _is_separator(line: str) -> bool:
    rest = line[3:].strip() if line.startswith("---") else "x"
    return not rest or rest.startswith("#")


def leading(lines: list[str]) -> int:
    """How many of the lines are blank or only a comment before the first that is not."""
    count = 0
    for line in lines:
        if line.strip() and not line.lstrip().startswith("#"):
            break
        count += 1
    return count


def separated(text: str, *, first: bool) -> str:
    """A document's text with the `---` it needs before its first key (after the comments above it)."""
    lines = text.splitlines(keepends=True)
    at = leading(lines)
    if first or (at < len(lines) and lines[at].startswith("---")):
        return text
    return "".join(lines[:at]) + "---\n" + "".join(lines[at:])


def _inside(text: str) -> set[int]:
    """The numbers (0-based) of the lines inside a multi-line scalar (after its first line)."""
    inside: set[int] = set()
    for event in yaml.parse(text, Loader=_BaseLoader):
        start, end = event.start_mark, event.end_mark
        if isinstance(event, yaml.ScalarEvent) and start is not None and end is not None and end.line > start.line:
            last = end.line if end.column > 0 else end.line - 1
            inside.update(range(start.line + 1, last + 1))
    return inside


def comment_lines(text: str) -> list[int]:
    """The numbers (0-based) of the lines that are blank or only a comment, not inside a multi-line scalar."""
    inside = _inside(text)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [n for n, line in enumerate(lines) if n not in inside and (not line.strip() or line.lstrip()[0] == "#")]
