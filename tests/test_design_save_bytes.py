"""Save over a commented design writes exactly the bytes it wrote before the save was made cheaper (session 14,
lane E): the cases of benchmarks/save.py (unchanged, one capability version changed, one agent added, one
removed) on a small synthetic design, with the changed documents' round trip allowed and, as on a 1 000-agent
design, over its budget. The golden texts were written by the code before the optimisations; see
tests/golden/README.md to regenerate them after an intended change of what Save writes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmarks.save import cases, commented
from lmos_studio.errors import LmosStudioError
from lmos_studio.formats import roundtrip
from lmos_studio.formats.design_file import design_documents, design_from_text, design_to_yaml, read_design, save_design
from lmos_studio.formats.yamlio import dump_blocks
from lmos_studio.model import Agent, Capability, Design
from lmos_studio.synthetic import synthetic_design
from tests.test_design_roundtrip import HAND_WRITTEN, SECTIONED

GOLDEN = Path(__file__).parent / "golden" / "save"
DESIGN = synthetic_design(10, 2, 2, 30, seed=0)  # every kind of document, small enough to keep as text
BUDGETS = {"roundtrip": roundtrip.MAX_ROUNDTRIP_BYTES, "over-budget": 4 * 2**10}  # 4 KiB: the Studio document
# (~7 KiB here) is past it, as a 1 000-agent design's is past the real budget; an Agent document is not


@pytest.mark.parametrize("budget", sorted(BUDGETS))
@pytest.mark.parametrize("case", sorted(cases(DESIGN)))
def test_save_writes_the_golden_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str, budget: str) -> None:
    monkeypatch.setattr(roundtrip, "MAX_ROUNDTRIP_BYTES", BUDGETS[budget])
    path = tmp_path / "design.yaml"
    path.write_text(commented(design_to_yaml(DESIGN)), encoding="utf-8")
    edited = cases(DESIGN)[case]
    saved = save_design(edited, path)
    written = path.read_text(encoding="utf-8")
    golden = GOLDEN / f"{case}-{budget}.yaml"
    if os.environ.get("REGENERATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(written, encoding="utf-8")
    assert golden.is_file(), f"no golden {golden.name}: see tests/golden/README.md to generate it"
    assert written == golden.read_text(encoding="utf-8"), f"{golden.name} differs (see tests/golden/README.md)"
    assert read_design(path) == edited
    assert len(saved.warnings) == (budget == "over-budget" and case in ("d_one_added", "e_one_removed"))


def test_a_document_merged_wrong_is_still_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer reads back only what roundtrip did not check: a changed document that reads back otherwise
    than the design's (here a merge that writes a wrong version) makes the whole text unchecked, and the writer's
    read-back refuses it as before."""
    path = tmp_path / "design.yaml"
    path.write_text(commented(design_to_yaml(DESIGN)), encoding="utf-8")
    merged_document = roundtrip._merged_document
    monkeypatch.setattr(
        roundtrip,
        "_merged_document",
        lambda old, new, indents: merged_document(old, new, indents).replace("9.9.9", "9.9.8"),
    )
    edited = cases(DESIGN)["c_one_version"]
    merged = roundtrip.merged_text(path.read_text(encoding="utf-8"), design_to_yaml(edited))
    assert merged.text is not None and "9.9.8" in merged.text and not merged.checked
    saved = save_design(edited, path)
    assert path.read_text(encoding="utf-8") == design_to_yaml(edited)
    assert "would have changed the design" in saved.warnings[0]


def _agent_doc(text: str) -> str:
    start = text.index("apiVersion: lmos.eclipse/v1\nkind: Agent")
    return "---\n" + text[start : text.index("\n---\n", start) + 1]


def _with_one_more_agent(design: Design) -> Design:
    return design.with_agent(
        Agent(name="one-more", supported_channels=("web",), capabilities=(Capability(name="x", version="1.0.0"),))
    )


def _channel_relabelled(design: Design) -> Design:
    """A change to a document without comments (as Studio wrote it: written as the rendering writes it)."""
    if not design.channels:
        return design
    channel = design.channels[0]
    relabelled = channel.model_copy(update={"labels": {**channel.labels, "team": "support"}})
    return design.replace(channels=(relabelled, *design.channels[1:]))


def _studio_written(design: Design) -> str:
    """The design as Studio writes it, with the comments benchmarks/save.py adds."""
    return commented(design_to_yaml(design))


SMALL = synthetic_design(3, 1, 1, 4, seed=1)
PLAIN = _studio_written(SMALL)
FOLDED = PLAIN.replace(
    "  description: Synthetic agent 0 for",
    "  description: >-\n    Synthetic agent 0\n    # inside the scalar\n    for",
    1,
)
LAST_FOLDED = PLAIN.replace(
    "\n---\napiVersion: studio", "\n  x-note: >-\n    a\n    # inside, at its end\n---\napiVersion: studio"
)
TRICKY_FILES = {
    "commented": PLAIN,
    "hand-written": HAND_WRITTEN,
    "sectioned": SECTIONED,
    "folded-with-a-comment-like-line": FOLDED,
    "comment-like-line-ending-a-document": LAST_FOLDED,
    "crlf": PLAIN.replace("\n", "\r\n"),
    "tab-before-a-comment": PLAIN.replace("# owned by team-1", "\t# owned by team-1"),
    "no-final-newline": PLAIN.rstrip("\n"),
    "document-end-marker": PLAIN.replace("\n---\n", "\n...\n---\n", 1),
    "directive": "%YAML 1.1\n" + PLAIN.replace("# Synthetic", "---\n# Synthetic", 1),
    "bom": "\ufeff" + PLAIN,
    "empty-documents": PLAIN.replace("\n---\n", "\n---\n# nothing here\n---\n---\n", 2),
    "comment-after-separator": PLAIN.replace("\n---\n", "\n--- # next\n"),
    "implicit-first-document": PLAIN.replace("---\n", "", 1),
    "twice-the-same-agent": PLAIN.replace("---\napiVersion: studio", _agent_doc(PLAIN) + "---\napiVersion: studio"),
    "quoted-hash": PLAIN.replace(
        "  description: Synthetic agent 1", '  x-quoted: "a #b"  # c\n  description: Synthetic agent 1', 1
    ),
}


@pytest.mark.parametrize("name", sorted(TRICKY_FILES))
def test_documents_found_line_by_line_give_what_reading_the_file_gives(name: str) -> None:
    """`merged_text` finds the documents of a rendering given with its `pieces` (the Designer's save) line by line;
    on any file, that gives exactly what reading the whole file gives (a rendering without pieces takes that way),
    whether the result is checked included."""
    old = TRICKY_FILES[name]
    try:
        design = design_from_text(old, path="old.yaml").design
    except LmosStudioError:
        design = SMALL
    for edited in (design, _with_one_more_agent(design), _channel_relabelled(design)):
        fast = design_documents(edited)
        text, pieces = dump_blocks(fast)
        assert pieces is not None or name == "hand-written"  # its positions are no plain numbers
        assert roundtrip.merged_text(old, text, pieces) == roundtrip.merged_text(old, text)


AGENT_FILE = """# billing, as the team wrote it
apiVersion: lmos.eclipse/v1
kind: Agent
metadata:
  name: billing
  namespace: default   # explicit, as kubectl users write it
spec:
  description: Bills
  supportedTenants: [acme]
  supportedChannels: [web]
  providedCapabilities:
    - name: view-bill
      version: 1.0.0
      description: Show the bill
"""


def test_saving_an_unchanged_agent_file_leaves_its_bytes(tmp_path: Path) -> None:
    """Bug (session 17): saving a hand-written Agent file that had not changed dropped its `namespace: default`
    line (the design keeps no default namespace) and appended an empty StudioDesign document."""
    path = tmp_path / "billing.yaml"
    path.write_text(AGENT_FILE)
    save_design(read_design(path), path)
    assert path.read_text() == AGENT_FILE


def test_a_changed_agent_file_keeps_its_namespace_line(tmp_path: Path) -> None:
    path = tmp_path / "billing.yaml"
    path.write_text(AGENT_FILE)
    design = read_design(path)
    agent = design.agents[0].model_copy(update={"description": "Bills and invoices"})
    save_design(design.model_copy(update={"agents": (agent,)}), path)
    assert path.read_text() == AGENT_FILE.replace("description: Bills\n", "description: Bills and invoices\n")
    assert read_design(path).agents[0].description == "Bills and invoices"


def test_a_design_named_apart_from_its_file_keeps_its_studio_document(tmp_path: Path) -> None:
    path = tmp_path / "billing.yaml"
    path.write_text(AGENT_FILE)
    design = read_design(path).model_copy(update={"name": "payments"})
    save_design(design, path)
    assert "kind: StudioDesign" in path.read_text() and read_design(path).name == "payments"
