"""`dump_documents` writes documents of the common shape itself (no PyYAML representer); its text must be
exactly what PyYAML's dumper writes, for random documents and for every file of the sample exports."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lmos_studio import bundled
from lmos_studio.errors import DesignFileError, ExportError
from lmos_studio.export import kustomize
from lmos_studio.export.bundle import ExportOptions, export_design
from lmos_studio.formats import yamlio
from lmos_studio.formats.design_file import design_documents, design_to_yaml, load_design

# characters the plain pattern takes, and characters that force quoting or another style
TRICKY = [":", "#", "-", " ", "\t", "\n", "é", "'", '"', "?", "*", "&", "!", "%", "@", "`", "{", "[", ",", "\u2028"]
WORDS = ["yes", "No", "TRUE", "off", "y", "null", "~", "<<", "=", "1.4.2", "0x1f", "1e3", "2024-01-01", ".inf", "-"]
WORDS += ["019", "08", "0o17", "1E+3", "-2e-3", "+.INF", ".NaN", "5.", "0xA"]  # numbers to YAML 1.2 or go-yaml
STRINGS = st.one_of(
    st.from_regex(r"[A-Za-z][A-Za-z0-9 _./()!?'+=@,-]{0,12}", fullmatch=True),
    st.text(st.sampled_from([*TRICKY, "a", "b", "1", "."]), max_size=8),
    st.sampled_from(WORDS),
    st.text(max_size=5),
)
SCALARS = st.one_of(STRINGS, st.integers(-(10**20), 10**20), st.booleans(), st.none(), st.floats(width=32))
KEYS = st.one_of(STRINGS, st.integers(-3, 3), st.booleans(), st.none())
DOCS = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(KEYS, inner, max_size=4),
    ),
    max_leaves=25,
)


@given(st.lists(DOCS, min_size=1, max_size=3))
def test_dump_documents_is_pyyaml(docs: list[Any]) -> None:
    assert yamlio.dump_documents(docs) == yamlio._dump_all(docs)


@given(st.dictionaries(st.from_regex(r"[a-z][a-zA-Z]{0,8}", fullmatch=True), DOCS, min_size=1, max_size=5))
def test_common_shape_is_written_directly(doc: dict[str, Any]) -> None:
    fast = yamlio._block_documents([doc])
    if fast is not None:  # None: left to PyYAML (a multi-line or odd scalar)
        assert fast == yamlio._dump_all([doc])


def test_what_goes_to_pyyaml() -> None:
    assert yamlio._block_documents([{"a": "x\ny"}]) is None  # a literal block: its indent depends on the place
    assert yamlio._block_documents([{"a": "x" * 5000}]) is None  # long lines could be folded
    assert yamlio._block_documents([{"k" * 200: 1}]) is None  # a complex key ("? ")
    assert yamlio._block_documents([{"a": yamlio.YamlInt(1)}]) is None  # numbers that keep their text
    assert yamlio._block_documents([{}]) is None and yamlio._block_documents([[1]]) is None
    assert yamlio._block_documents([{"a": [{"b": "yes", "c": 1.5, "d": None}], "e": {}}]) == (
        "---\na:\n- b: 'yes'\n  c: 1.5\n  d: null\ne: {}\n"
    )


@pytest.mark.parametrize("name", sorted(bundled.sample_designs()))
def test_sample_exports_and_designs_are_written_as_pyyaml_writes_them(name: str) -> None:
    design = load_design([bundled.sample_designs()[name]]).design
    assert design_to_yaml(design) == yamlio._dump_all(design_documents(design))
    try:
        bundle = export_design(design, ExportOptions(with_istio=True, with_registry=True))
    except ExportError:
        return  # a sample that shows export's refusals
    files = kustomize.render(bundle)
    for manifest in bundle.manifests:
        assert files[manifest.path] == yamlio._dump_all([manifest.document]).encode("utf-8"), manifest.path


@given(st.lists(DOCS, min_size=1, max_size=3))
def test_what_is_written_reads_the_same_in_yaml_1_1_and_1_2(docs: list[Any]) -> None:
    """YAML 1.1 (PyYAML, go-yaml v2 under kubectl) and 1.2 (ruamel, which Save merges with) must read the same texts:
    U+0085, U+2028 and U+2029 break lines in 1.1 only, and 1.2 or go-yaml read '1e3', '019' or '0o17' as numbers
    where PyYAML reads text. Such strings are escaped or quoted."""
    from ruamel.yaml import YAML

    text = yamlio.dump_documents(docs)
    try:
        ours = yamlio.load_documents(text)
    except DesignFileError:
        return  # a value Studio refuses to read (an infinite float, an integer beyond 64 bits)
    read = list(YAML(typ="safe", pure=True).load_all(text))
    assert list(_strings(read)) == list(_strings(ours))


@pytest.mark.parametrize("text", ["1e3", "1E+3", "-2e-3", "019", "08", "0o17", "+.INF", ".NaN", "5."])
def test_strings_other_yaml_readers_take_for_numbers_are_quoted(text: str) -> None:
    """PyYAML writes '1e3' plain (text to YAML 1.1); go-yaml v2 (kubectl) and YAML 1.2 read it as 1000.0."""
    written = yamlio.dump_documents([{"version": text}])
    assert written == f"---\nversion: '{text}'\n"
    assert yamlio.load_documents(written) == [{"version": text}]


def _strings(value: Any) -> Any:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def test_unicode_line_breaks_are_escaped() -> None:
    assert yamlio.dump_documents([{"d": "a\nb\u2029c"}]) == '---\nd: "a\\nb\\Pc"\n'
    assert yamlio.dump_documents([{"d": "x\x85y"}]) == '---\nd: "x\\Ny"\n'
