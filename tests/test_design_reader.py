"""The line reader (`yamllines.read_lines`) and the event reader (`yamlio._read_events`) give exactly what the
composing reader gives, or hand over to it.

Equality is checked object by object: types (numbers that keep their text), values, key order and every line
number, on every YAML/JSON file of the repo, a generated large design and random texts; errors are the
composing reader's, word for word.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lmos_studio.errors import DesignFileError
from lmos_studio.formats import yamlio, yamllines
from lmos_studio.formats.design_file import design_from_text
from lmos_studio.synthetic import synthetic_design
from tests.conftest import ROOT, large_design_generator


def same(a: Any, b: Any, where: str = "$") -> None:
    """a and b are equal with the same types, key order, line numbers and number texts."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, dict):
        assert list(a) == list(b), where
        assert getattr(a, "line", None) == getattr(b, "line", None), f"{where}: line"
        assert getattr(a, "lines", None) == getattr(b, "lines", None), f"{where}: lines"
        for key in a:
            same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b) and getattr(a, "line", None) == getattr(b, "line", None), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} vs {b!r}"
        assert getattr(a, "text", None) == getattr(b, "text", None), f"{where}: text"


def outcome(read: Any, text: str) -> Any:
    try:
        return read(text)
    except DesignFileError as exc:
        return ("error", str(exc))


def check(text: str) -> bool:
    """The public reader equals the composing reader; True when the event reader took the text itself."""
    composed = outcome(lambda t: yamlio._read_nodes(t, "x.yaml"), text)
    public = outcome(lambda t: yamlio.load_documents(t, path="x.yaml"), text)
    if isinstance(composed, tuple):
        assert public == composed
    else:
        same(composed, public)
    events = yamlio._read_events(text)
    if events is not None:
        assert not isinstance(composed, tuple), (
            f"the event reader accepted what the composing reader refuses: {composed}"
        )
        same(composed, events)
    lines = yamllines.read_lines(text)
    if lines is not None:
        assert not isinstance(composed, tuple), f"the line reader took what the composing reader refuses: {composed}"
        same(composed, lines)
    return events is not None


def by_lines(text: str) -> bool:
    """`check`, and whether the line reader took the text itself."""
    check(text)
    return yamllines.read_lines(text) is not None


def repo_files() -> list[Path]:
    found = []
    for folder in ("sample_networks", "tests"):
        for pattern in ("*.yaml", "*.yml", "*.json"):
            found += sorted((ROOT / folder).rglob(pattern))
    return found


def test_every_yaml_and_json_file_of_the_repo_reads_the_same() -> None:
    files = repo_files()
    assert len(files) > 50
    taken = 0
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        taken += check(text)
    assert taken > 50  # the event reader reads the ordinary files itself


def test_a_generated_large_design_reads_the_same() -> None:
    module = large_design_generator()
    text = module.design_yaml(synthetic_design(300, 15, 15, 900, seed=7))
    assert check(text)
    assert len(design_from_text(text, path="large.yaml").design.agents) == 300


IRREGULAR = [
    "a: &x {b: 1}\nc: *x\n",  # anchors and aliases
    "base: &b {x: 1}\nd:\n  <<: *b\n  y: 2\n",  # merge keys
    "a: 1\na: 2\n",  # duplicate key
    "1: a\ntrue: b\n",  # equal keys (True == 1)
    "a: .inf\n",  # non-finite
    "a: 123456789012345678901234567890\n",  # beyond 64 bits
    "a: !!binary aGVsbG8=\n",  # unsupported tag
    "a: !custom x\n",
    "? [a, b]\n: c\n",  # a collection as a key
    "a: [1, 2\n",  # malformed
    "a: b: c\n",
    "- a\nb: c\n",
    "[" * 300 + "]" * 300,  # too deep
    "a: =\n",  # the YAML 1.1 value tag
    "a: *nowhere\n",
]


@pytest.mark.parametrize("text", IRREGULAR)
def test_irregular_texts_go_to_the_composing_reader(text: str) -> None:
    assert yamlio._read_events(text) is None
    check(text)


REGULAR = [
    "version: 1.10\nport: 010\nhex: 0x1F\nbig: 1_000\nsexa: 1:30\nneg: -0.5e3\n",
    "yes: on\nno: off\nt: True\nn: ~\ne:\nnull: null\n",
    "when: 2024-01-01\nts: 2001-12-14t21:59:43.10-05:00\n",
    "q: 'single'\nd: \"double\\n\"\nblock: |\n  two\n  lines\nfold: >\n  a\n  b\n",
    "tagged: !!str 12\nint: !!int '7'\nfloat: !!float '1.5'\nmap: !!map {a: 1}\nseq: !!seq [1]\nbang: ! 12\n",
    "---\na: 1\n---\n---\n- x\n- {y: [1, 2, {z: null}]}\n...\n---\nplain scalar\n",
    "~: nullkey\n2: int key\ntrue: bool key\n1.5: float\n",
    '{"json": [1, 2.50, true, null, "s"], "nested": {"k": "v"}}',
    "url: https://h/x?a=1&b=2\nstar: a*b\namp: Tom & Jerry\n",
    "",
    "# only a comment\n",
]


@pytest.mark.parametrize("text", REGULAR)
def test_regular_texts_are_read_by_the_event_reader_exactly(text: str) -> None:
    assert check(text)


SCALARS = st.sampled_from(
    [
        "a", "1", "1.10", "010", "0x1F", "0o7", "1_000", "-1", "+2", ".5", "1e3", "yes", "No", "ON", "~", "null",
        "''", '""', "'q'", '"d\\t"', "2024-01-01", "1:20", "-", "a b", "é", "!!str 5", "!!int 5", "true", "[]", "{}",
        "[1, a]", "{k: v}", ".nan", "&a 1", "*a", "<<", "=", "!x y", "'a''b'", "\"x\\u00e9\"",
    ]
)  # fmt: skip
KEYS = st.sampled_from(["a", "b", "1", "true", "~", "k k", "'q'", "0x1", "a", "<<"])


@st.composite
def documents(draw: st.DrawFn, depth: int = 0) -> str:
    """A random block-style YAML document (some of them irregular or invalid on purpose)."""
    indent = "  " * depth
    lines = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.integers(0, 4 if depth < 3 else 1))
        key = draw(KEYS)
        if kind <= 1:
            lines.append(f"{indent}{key}: {draw(SCALARS)}")
        elif kind == 2:
            lines.append(f"{indent}{key}:")
            lines.append(draw(documents(depth + 1)))
        else:
            lines.append(f"{indent}{key}:")
            for _ in range(draw(st.integers(0, 3))):
                lines.append(f"{indent}  - {draw(SCALARS)}")
    return "\n".join(lines)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(documents(), min_size=1, max_size=3))
def test_random_texts_read_the_same(docs: list[str]) -> None:
    check("\n---\n".join(docs) + "\n")


BY_LINES = [
    "a:\n- x\n- y\nb: 1\n",  # an indentless sequence as a value
    "- key:\n  - x\n  o: 1\n- k: v\n  l:\n    m: n\n-\n-\n  - z\n",  # mappings and sequences started on `-` lines
    'a: [{"p": "h", "u": "x"}, {"p": "w"}]\nb: ["x", "y"]\nc: []\nd: {}\n',  # JSON flows, empty ones
    'a: ["x"]\nb: ["", "a b", "c: d", "e, f", "#1", "[x]"]\n',  # lists of strings (split)
    'a: [["a"], {"k": ["b", {"c": "d"}]}, "e"]\nb: {"k": "v", "l": ["x"], "m": {}}\n',  # nested JSON flows
    "a: [x, 1, yes, -1, 0x1F]\nb: {k: v, n: 2.50}\nc: [[a], {b: [c]}]\n",  # plain flows resolve as YAML 1.1
    "'q k': 1\n\"d k\": 2\nit's: 3\n'a''b': 4\n",  # quoted keys
    "# c\na: 1   \n\n  # indented comment\nb:    x y  \nc:\n",  # comments, blank lines, trailing spaces, null
    "---\na: 1\n---\n- b\n---\n---   \n",  # documents, empty ones dropped
    "  a: 1\n  b:\n    - c\n",  # an indented document
    "a:\n  b:\n    c:\nd: 1\n",  # nulls closed by dedents
    "k: 'it''s'\nq: \"#1: x\"\nurl: http://h/a?b=c&d\n",  # quotes, `#` and `: ` inside quotes, a URL
]


@pytest.mark.parametrize("text", BY_LINES)
def test_the_common_shapes_are_read_by_the_line_reader_exactly(text: str) -> None:
    assert by_lines(text)


NOT_BY_LINES = [
    "a: b\n  c\n",  # a multi-line plain scalar
    "a: |\n  x\n",  # a block scalar
    "a: b # comment\n",  # a comment after a value
    "url: http://h/a#b\n",  # `#` in a plain scalar (only ` #` starts a comment; the other readers decide)
    "a: [a, ]\n",  # a trailing comma
    'a: {"k":"v"}\n',  # JSON without spaces: left to libyaml's rules
    'a: "x\\ty"\n',  # escapes
    "a: [1, 2\n",  # an unclosed flow (an error)
    "a: [x: y]\n",  # a pair in a flow sequence
    "a: {x: 1, x: 2}\n",  # a duplicate key in a flow
    'a: {"x": "1", "x": "2"}\n',  # a duplicate key in a JSON flow
    'a: [{"k": "v"}, {"k": "v", "k": "w"}]\n',  # a duplicate key in a JSON flow's mapping
    'a: ["]\n',  # an unclosed string (an error)
    'a: ["x", "y]\n',  # an unclosed string (an error)
    "a:\tb\n",  # a tab
    "- a\nb: c\n",  # a key after the document's sequence (an error)
    "a: 1\n- b\n",  # an item among keys (an error)
    "a:\n    b: 1\n  c: 2\n",  # a key between two indentations (an error)
    "a: b: c\n",  # a mapping value where a scalar is (an error)
    "- - a\n",  # a sequence in a sequence on one line
    "? a\n: b\n",  # a complex key
    "a: &x 1\nb: *x\n",  # anchors, aliases
    "%YAML 1.1\n---\na: 1\n",  # a directive
    "a: 1\n...\n",  # a document end marker
    "<<: {a: 1}\n",  # a merge key
]


@pytest.mark.parametrize("text", NOT_BY_LINES)
def test_other_shapes_go_to_the_other_readers(text: str) -> None:
    assert not by_lines(text)


def test_the_line_reader_reads_most_files_of_the_repo_and_generated_designs() -> None:
    taken = sum(by_lines(path.read_text(encoding="utf-8")) for path in repo_files() if path.suffix != ".json")
    assert taken > 100
    module = large_design_generator()
    assert by_lines(module.design_yaml(synthetic_design(200, 10, 10, 600, seed=3)))


_TEXT = st.text(alphabet="ab :#'\"-[]{},?&*!|>%@`yn01.~é", max_size=8)
DATA = st.recursive(
    st.one_of(_TEXT, st.integers(-5, 5), st.floats(-2, 2, allow_nan=False), st.booleans(), st.none()),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_TEXT, children, max_size=3),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DATA)
def test_data_as_studio_and_the_generator_write_it_reads_the_same(data: Any) -> None:
    """Written by Studio's dumper (indentless sequences, quoting as PyYAML does) and by the generator's emitter
    (JSON strings, `- key:` items): whatever reader takes the text, the objects are the composing reader's."""
    check(yamlio.dump({"root": data}))
    out: list[str] = []
    _generator()._block({"root": data}, "", out)
    check("\n".join(out) + "\n")


def _generator() -> Any:
    return large_design_generator()


INTERNED = """\
kind: Agent
metadata: {name: billing}
spec:
  supportedTenants: [acme, "globex"]
  providedCapabilities:
    - name: view-bill
      version: "1.0.0"
---
kind: Agent
metadata:
  name: news
spec:
  supportedTenants:
    - acme
    - "globex"
  providedCapabilities:
    - {name: "view-bill", version: "1.0.0"}
  description: "{long}"
  note: "{long}"
"""


@pytest.mark.parametrize("reader", ["lines", "events"])
def test_equal_short_strings_are_one_object(reader: str) -> None:
    """Names, refs, labels and versions that repeat are one (interned) object whichever reader read them, and
    whether they were quoted or not; long prose is left as read."""
    text = INTERNED.replace("{long}", "x" * (yamllines.INTERN_MAX_CHARS + 1))
    if reader == "events":
        text = text.replace("kind: Agent\n", "kind: Agent  # a comment: not for the line reader\n")
        assert yamllines.read_lines(text) is None
    docs = yamllines.read_lines(text) if reader == "lines" else yamlio._read_events(text)
    assert docs is not None
    first, second = docs[0]["spec"], docs[1]["spec"]
    for a, b in [
        *zip(first["supportedTenants"], second["supportedTenants"], strict=True),
        (first["providedCapabilities"][0]["name"], second["providedCapabilities"][0]["name"]),
        (first["providedCapabilities"][0]["version"], second["providedCapabilities"][0]["version"]),
        (docs[0]["kind"], docs[1]["kind"]),
    ]:
        assert a == b and a is b
    assert first["supportedTenants"][0] is sys.intern("acme")  # Python's own table: code's literals are these too
    assert second["description"] == second["note"] == "x" * (yamllines.INTERN_MAX_CHARS + 1)
    assert docs == yamlio.load_documents(text)


@pytest.mark.parametrize("tail", [chr(i) for i in range(0x80)] + ["é", "é\x07", "\x85", "\ufffe", "\U0001f600", ""])
def test_the_printable_check_is_pyyamls(tail: str) -> None:
    """`_non_printable` (ASCII texts checked by bytes) says what PyYAML's reader's pattern says."""
    text = "key: value\n" + tail
    assert yamllines._non_printable(text) is (yamllines._NON_PRINTABLE.search(text) is not None)


def test_the_line_reader_keeps_nothing_alive() -> None:
    """Documents read (a JSON flow line makes the reader's decoder) are freed when dropped, without the cyclic
    collector: a reference cycle kept a 10 000-agent design's raw documents (~170 MB) alive, and for good once
    the app had frozen the heap (`gc.freeze`)."""
    import gc
    import weakref

    text = 'a:\n  b: [{"k": "v"}]\n  c:\n    - d\n'
    enabled = gc.isenabled()
    gc.disable()
    try:
        docs = yamllines.read_lines(text)
        assert docs is not None and docs[0]["a"]["b"][0] == {"k": "v"}
        alive = weakref.ref(docs[0])
        del docs
        assert alive() is None
    finally:
        if enabled:
            gc.enable()
