"""Saving over a hand-written design file keeps its comments, key order and quoting (session 14, lane A).

Before, every Save (Designer, `canary --out`, `import-manifests --out`) wrote `design_to_yaml` over the file: a
team's comments in a design kept in Git were gone after the first Save. Now the file's YAML tree is updated in
place; what reads back is always exactly the design (else the plain rendering is written, with a warning).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lmos_studio.formats import roundtrip
from lmos_studio.formats.design_file import (
    design_from_text,
    design_to_yaml,
    read_design,
    save_design,
    write_design,
)
from lmos_studio.graph import agent_node, with_positions
from lmos_studio.model import Agent, Capability, Design, Group, TrustEdge
from lmos_studio.trust import add_trust_edge, remove_agent
from tests.conftest import SAMPLES
from tests.test_designer_page import by_label, history, open_page
from tests.test_import_original import cli

HAND_WRITTEN = """\
# Acme support network: hand-written, kept in Git.
# Owners: team-support

# The billing agent answers bills.
apiVersion: lmos.eclipse/v1
kind: Agent
metadata:
  name: billing-agent  # stable name, do not rename
  labels: {subset: stable}
spec:
  description: "Bills and invoices"
  supportedChannels: [web]
  providedCapabilities:
    # what a customer sees first
    - name: view-bill
      version: "1.0.0"   # pinned by the channel
      description: Show the current bill
    # PDF download
    - name: download-bill
      version: 1.0.0
      description: Download a bill as PDF
---
# The contract agent: to be retired.
apiVersion: lmos.eclipse/v1
kind: Agent
metadata:
  name: contract-agent
spec:
  description: Contracts
  supportedChannels: [web]
  providedCapabilities:
    - name: view-contract  # contract-only
      version: 1.2.0
---
apiVersion: lmos.eclipse/v1
kind: Channel
metadata:
  name: web
  labels: {channel: web}
spec:
  requiredCapabilities:
    - name: view-bill
      version: ">=1.0.0"
---
# Studio's own data
apiVersion: studio.lmos.eclipse/v1alpha1
kind: StudioDesign
metadata:
  name: acme
spec:
  trustEdges:
    # web may call billing
    - caller: channel:web
      callee: billing-agent   # the only edge for now
    # contract edge, going away
    - caller: channel:web
      callee: contract-agent
  layout:
    positions:
      agent:default/billing-agent: [10, 20]  # hand-placed
      agent:default/contract-agent: [30, 40]
# end of file
"""

KEPT = (
    "# Acme support network: hand-written, kept in Git.\n# Owners: team-support\n\n",
    "# The billing agent answers bills.\napiVersion: lmos.eclipse/v1\n",
    "  name: billing-agent  # stable name, do not rename\n  labels: {subset: stable}\n",
    '  description: "Bills and invoices"\n  supportedChannels: [web]\n',
    "    # what a customer sees first\n    - name: view-bill\n",
    "    # PDF download\n    - name: download-bill\n      version: 1.0.0\n",
    '      version: ">=1.0.0"\n',
    "# Studio's own data\napiVersion: studio.lmos.eclipse/v1alpha1\n",
    "    # web may call billing\n    - caller: channel:web\n      callee: billing-agent   # the only edge for now\n",
    "# end of file\n",
)
GONE = ("# The contract agent: to be retired.", "# contract-only", "# contract edge, going away", "view-contract")


@pytest.fixture
def hand_written(tmp_path: Path) -> Path:
    path = tmp_path / "acme.yaml"
    path.write_text(HAND_WRITTEN, encoding="utf-8")
    return path


def edited(design: Design) -> Design:
    """The edits the Designer makes: add an agent, remove one, change a capability version, add a trust edge,
    move a node."""
    design = design.with_agent(
        Agent(
            name="refund-agent",
            description="Refunds",
            supported_channels=("web",),
            capabilities=(Capability(name="refund", version="1.0.0"),),
        )
    )
    design = remove_agent(design, "default/contract-agent")
    billing = design.agent("billing-agent")
    assert billing is not None
    caps = tuple(
        c.model_copy(update={"version": "1.1.0"}) if c.name == "view-bill" else c for c in billing.capabilities
    )
    design = design.with_agent(billing.model_copy(update={"capabilities": caps}))
    design = add_trust_edge(design, TrustEdge(caller="billing-agent", callee="refund-agent"))
    return design.replace(layout=with_positions(design.layout, {agent_node(billing): (50.0, 60.0)}))


def test_an_unchanged_hand_written_design_is_saved_byte_for_byte(hand_written: Path) -> None:
    """Fails without the change: Save rewrote the file in Studio's layout (comments gone, quotes dropped)."""
    design = read_design(hand_written)
    saved = save_design(design, hand_written)
    assert saved.warnings == []
    assert hand_written.read_text(encoding="utf-8") == HAND_WRITTEN


def test_edits_keep_the_comments_of_what_did_not_change(hand_written: Path) -> None:
    design = edited(read_design(hand_written))
    saved = save_design(design, hand_written)
    text = hand_written.read_text(encoding="utf-8")
    assert saved.warnings == []
    assert [k for k in KEPT if k not in text] == [], text
    assert [g for g in GONE if g in text] == [], text
    assert read_design(hand_written) == design  # the file reads back as the model, exactly
    assert (
        design_from_text(text, path="a.yaml").design == design_from_text(design_to_yaml(design), path="a.yaml").design
    )
    # what changed is changed (the version keeps its quotes and its line's comment), what is new is added
    assert '      version: "1.1.0"   # pinned by the channel\n' in text
    assert "agent:default/billing-agent: [50.0, 60.0] # hand-placed" in text
    assert "    - caller: billing-agent\n      callee: refund-agent\n" in text
    assert text.index("name: billing-agent") < text.index("name: refund-agent") < text.index("kind: Channel")


# texts that YAML reads as something else, or that need quoting, escaping or a block scalar
TRICKY = st.lists(
    st.text(max_size=4)
    | st.sampled_from(
        ["\n", "#", ": ", "yes", "1.10", "'", '"', "- ", "~", "null", "0755", "&", "\t", "\u2028", "\x85"]
    ),
    max_size=6,
).map("".join)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(description=TRICKY, agent_description=TRICKY, label=TRICKY)
@example(description="", agent_description="", label="N")  # a YAML 1.1 boolean PyYAML reads as text (CI found it)
def test_any_edited_text_reads_back_and_keeps_the_comments(
    hand_written: Path, description: str, agent_description: str, label: str
) -> None:
    hand_written.write_text(HAND_WRITTEN, encoding="utf-8")
    design = read_design(hand_written).replace(description=description)
    billing = design.agent("billing-agent")
    assert billing is not None
    design = design.with_agent(
        billing.model_copy(update={"description": agent_description, "labels": {"subset": "stable", "x": label}})
    )
    assert save_design(design, hand_written).warnings == []
    assert read_design(hand_written) == design
    assert "# what a customer sees first" in hand_written.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("description", "label"),
    [("\n1.10\u2028", "yes"), ("\t \x8507551.100755", "\n\u20281.10"), ("a\nb\u2029c", "x\x85y")],
)
def test_unicode_line_breaks_keep_the_comments(hand_written: Path, description: str, label: str) -> None:
    """U+2028, U+2029 and U+0085 break lines in YAML 1.1 (Studio's reader) but not in 1.2 (ruamel, which merges):
    written raw, the two read different texts and Save fell back to Studio's layout; now they are escaped."""
    design = read_design(hand_written).replace(description=description)
    billing = design.agent("billing-agent")
    assert billing is not None
    design = design.with_agent(billing.model_copy(update={"labels": {"subset": "stable", "x": label}}))
    assert save_design(design, hand_written).warnings == []
    assert read_design(hand_written) == design
    assert "# what a customer sees first" in hand_written.read_text(encoding="utf-8")


def test_every_command_that_writes_a_design_keeps_comments(
    hand_written: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`canary --out` over the design it reads (the CLI's other design writer, `import-manifests --out`, goes
    through the same `save_design`)."""
    code, _, err = cli(capsys, "canary", str(hand_written), "--agent", "billing-agent", "--out", str(hand_written))
    assert code in (0, 1), err
    text = hand_written.read_text(encoding="utf-8")
    assert "billing-agent-canary" in text and "# The billing agent answers bills." in text
    assert "# web may call billing" in text and "plain" not in err


@pytest.mark.parametrize(
    ("plain", "anchored"),
    [
        ("[web]\n  providedCapabilities:\n    # what", "&web [web]\n  providedCapabilities:\n    # what"),
        ('description: "Bills and invoices"', 'description: &text "Bills and invoices"'),
    ],
    ids=["list", "scalar"],
)
def test_a_changed_document_with_anchors_is_written_plainly_the_others_keep_theirs(
    tmp_path: Path, plain: str, anchored: str
) -> None:
    """Anchors and aliases: changing a shared node would change each use, so that document's layout is not kept
    (one that did not change is kept as written, anchors and all)."""
    path = tmp_path / "anchored.yaml"
    anchored = HAND_WRITTEN.replace(plain, anchored)
    path.write_text(anchored, encoding="utf-8")
    design = edited(read_design(path))
    saved = save_design(design, path)
    text = path.read_text(encoding="utf-8")
    assert read_design(path) == design
    assert "# what a customer sees first" not in text and "&" not in text
    assert "# Acme support network" in text and "# web may call billing" in text and "# end of file" in text
    assert saved.warnings == [
        f"{path}: Agent billing-agent is written in Studio's layout, without its comments: "
        "it uses YAML anchors, aliases or merge keys"
    ]
    unchanged = read_design(path)
    path.write_text(anchored, encoding="utf-8")
    assert save_design(read_design(path), path).warnings == [] and path.read_text(encoding="utf-8") == anchored
    assert unchanged == design


def test_a_file_that_cannot_be_kept_gets_the_plain_rendering_and_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "directive.yaml"
    path.write_text("%YAML 1.1\n---\n" + HAND_WRITTEN, encoding="utf-8")
    design = edited(read_design(path))
    saved = save_design(design, path)
    assert path.read_text(encoding="utf-8") == design_to_yaml(design)
    assert saved.warnings == [
        f"{path}: saved in Studio's own layout; the file's comments and key order were not kept: it has YAML directives"
    ]


def test_header_comments_stay_on_top_when_the_first_document_goes(hand_written: Path) -> None:
    design = remove_agent(read_design(hand_written), "default/billing-agent")
    assert save_design(design, hand_written).warnings == []
    text = hand_written.read_text(encoding="utf-8")
    assert text.startswith("# Acme support network: hand-written, kept in Git.\n# Owners: team-support\n\n")
    assert "# The billing agent answers bills." not in text and "# The contract agent: to be retired." in text
    assert read_design(hand_written) == design


def test_a_merge_that_would_change_the_design_is_never_written(
    hand_written: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer checks the merged text reads back as the design; a merge that got it wrong is not written."""
    design = edited(read_design(hand_written))
    monkeypatch.setattr(
        roundtrip,
        "merged_text",
        lambda old, new, pieces: roundtrip.Merged(new.replace("refund-agent", "refunds-agent")),
    )
    saved = save_design(design, hand_written)
    assert hand_written.read_text(encoding="utf-8") == design_to_yaml(design)
    assert "would have changed the design" in saved.warnings[0]


@pytest.mark.parametrize(
    "garbage",
    ["{{{ not: yaml", "\x00\x01binary", "a: &a [*a]\n", "- just\n- a list\n", "", "apiVersion: [" * 300],
    ids=["malformed", "binary", "recursive-alias", "list", "empty", "deep"],
)
def test_a_file_turned_to_garbage_before_save_gets_the_plain_rendering(hand_written: Path, garbage: str) -> None:
    design = edited(read_design(hand_written))
    hand_written.write_text(garbage, encoding="utf-8")
    saved = save_design(design, hand_written)
    assert hand_written.read_text(encoding="utf-8") == design_to_yaml(design) and saved.warnings == []


def test_save_as_over_a_file_that_is_no_design_replaces_it(tmp_path: Path, hand_written: Path) -> None:
    other = tmp_path / "deployment.yaml"
    other.write_text("# a Deployment\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n", encoding="utf-8")
    design = read_design(hand_written)
    assert save_design(design, other).warnings == []
    assert other.read_text(encoding="utf-8") == design_to_yaml(design)


def test_a_new_file_and_studio_s_own_rendering_stay_deterministic(tmp_path: Path, hand_written: Path) -> None:
    design = edited(read_design(hand_written))
    new = write_design(design, tmp_path / "new.yaml")
    assert new.read_text(encoding="utf-8") == design_to_yaml(design)
    assert write_design(design, new).read_text(encoding="utf-8") == design_to_yaml(design)


SECRET_ENTRY = """\
  agents:
    - name: billing-agent
      originalFormat: a2a
      original: {{url: "https://orders.example/a2a", apiKey: "{value}"}}{comment}
"""


@pytest.mark.parametrize("comment", ["", "  # the key is s3cr3tKeyValue42"], ids=["in-a-value", "also-in-a-comment"])
def test_a_masked_credential_never_survives_the_merge(tmp_path: Path, comment: str) -> None:
    """The model writes the old file's credential as ***: neither the value nor a comment repeating it stays."""
    path = tmp_path / "secret.yaml"
    text = HAND_WRITTEN.replace(
        "spec:\n  trustEdges:",
        "spec:\n" + SECRET_ENTRY.format(value="s3cr3tKeyValue42", comment=comment) + "  trustEdges:",
    )
    path.write_text(text, encoding="utf-8")
    design = read_design(path)
    saved = save_design(design, path)
    written = path.read_text(encoding="utf-8")
    assert "s3cr3tKeyValue42" not in written and "***" in written
    assert read_design(path).agent("billing-agent") == design_from_text(
        design_to_yaml(design), path="x.yaml"
    ).design.agent("billing-agent")
    if comment:
        assert "credential" in saved.warnings[0] and written == design_to_yaml(design)
    else:
        assert saved.warnings == [] and "# The billing agent answers bills." in written


def test_designer_save_keeps_the_comments_and_refuses_a_file_turned_to_garbage(tmp_path: Path) -> None:
    """The Designer's Save over the hand-written sample keeps its comments; a file that became garbage on disk
    since it was opened gets the existing refusal (changed on disk), never a crash."""
    path = tmp_path / "faulty.yaml"
    path.write_text((SAMPLES / "faulty.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    app = open_page(path)
    by_label(app.button, "Reload").click().run()  # opened from disk as the sidebar opens it
    by_label(app.text_input, "Name").input("pci-zone").run()
    by_label(app.button, "Create group").click().run()
    by_label(app.button, "Save").click().run()
    assert not app.exception and not app.error
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# A deliberately faulty design: it triggers every `lmos-studio lint` code")
    assert read_design(path) == history(app).present and read_design(path).group("pci-zone") is not None

    path.write_text("{{{ garbage", encoding="utf-8")
    by_label(app.button, "Undo").click().run()
    by_label(app.button, "Save").click().run()
    assert not app.exception
    assert any("changed on disk" in e.value for e in app.error)
    assert path.read_text(encoding="utf-8") == "{{{ garbage"


def anchored_studio_document(path: Path) -> Path:
    """The hand-written design with an anchor in its Studio document (which edits of groups and edges change)."""
    path.write_text(
        HAND_WRITTEN.replace("metadata:\n  name: acme\n", "metadata: &meta\n  name: acme\n"), encoding="utf-8"
    )
    return path


def test_the_designer_shows_what_of_the_layout_was_not_kept(tmp_path: Path) -> None:
    path = anchored_studio_document(tmp_path / "acme.yaml")
    app = open_page(path)
    by_label(app.button, "Reload").click().run()
    by_label(app.text_input, "Name").input("pci-zone").run()
    by_label(app.button, "Create group").click().run()
    by_label(app.button, "Save").click().run()
    assert not app.exception and not app.error
    assert any("StudioDesign acme is written in Studio's layout" in w.value for w in app.warning), app.warning
    assert "# The billing agent answers bills." in path.read_text(encoding="utf-8")
    assert read_design(path).group("pci-zone") is not None


def test_import_manifests_warns_what_of_the_layout_was_not_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = anchored_studio_document(tmp_path / "acme.yaml")
    manifest = tmp_path / "agent.yaml"
    manifest.write_text(HAND_WRITTEN.split("---\n")[0], encoding="utf-8")
    code, _, err = cli(capsys, "import-manifests", str(manifest), "--out", str(out), "--strict")
    assert code == 0, err  # what of the layout was not kept is no import warning
    assert f"warning: {out}: StudioDesign" in err and "is written in Studio's layout" in err
    text = out.read_text(encoding="utf-8")
    assert "# The billing agent answers bills." in text and "# contract-only" not in text


SECTIONED = """\
apiVersion: lmos.eclipse/v1
kind: Agent
metadata:
  name: a
spec:
  providedCapabilities:
    - name: one
      version: 1.0.0
---
apiVersion: lmos.eclipse/v1
kind: Agent
metadata:
  name: b
spec:
  description: B
  providedCapabilities: []
# ---- channels ----
---
apiVersion: lmos.eclipse/v1
kind: Channel
metadata:
  name: web
spec:
  requiredCapabilities:
    - name: one
      version: ">=1.0.0"   # any 1.x
---
apiVersion: studio.lmos.eclipse/v1alpha1
kind: StudioDesign
metadata:
  name: sectioned
spec:
  agents:
    - name: b   # listed first on purpose
      source: b.json
    - name: a
      source: a.json
"""


def test_section_comments_stay_above_their_separator_and_studio_agents_keep_their_order(tmp_path: Path) -> None:
    """A comment above `---` stays there when the document below changes; the Studio document's agent entries
    (found by name, so their order is no part of the design) keep the file's order."""
    path = tmp_path / "sectioned.yaml"
    path.write_text(SECTIONED, encoding="utf-8")
    design = read_design(path)
    web = design.channel("web")
    assert web is not None
    design = design.replace(channels=(web.model_copy(update={"labels": {"channel": "web"}}),))
    design = design.with_agent(design.agents[0].model_copy(update={"source": "a2.json"}))
    assert save_design(design, path).warnings == []
    text = path.read_text(encoding="utf-8")
    assert "  providedCapabilities: []\n# ---- channels ----\n---\napiVersion: lmos.eclipse/v1\nkind: Channel\n" in text
    assert '      version: ">=1.0.0"   # any 1.x\n' in text and "labels:" in text
    assert text.index("- name: b   # listed first on purpose") < text.index("- name: a\n      source: a2.json")
    assert read_design(path) == design


def test_changed_documents_past_the_budget_are_written_plainly_with_a_note(
    hand_written: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ruamel is pure Python: past MAX_ROUNDTRIP_BYTES of changed documents a save would take long, so those are
    written as Studio writes them (the unchanged ones keep their comments)."""
    monkeypatch.setattr(roundtrip, "MAX_ROUNDTRIP_BYTES", 1024)
    design = edited(read_design(hand_written))
    saved = save_design(design, hand_written)
    text = hand_written.read_text(encoding="utf-8")
    assert read_design(hand_written) == design
    assert any("over 1 KiB" in w for w in saved.warnings) and "# Acme support network" in text


def test_save_as_a_new_file_keeps_the_comments_of_the_file_the_design_came_from(
    tmp_path: Path, hand_written: Path
) -> None:
    """Save as to a new name wrote Studio's own layout: a copy of a commented, hand-written design lost every
    comment, key order and quote. A new file now takes the layout of the file the design was read from (the
    design still reads back exactly); that file is left as it was."""
    design = edited(read_design(hand_written))
    copy = tmp_path / "copy.yaml"
    saved = save_design(design, copy, layout_from=hand_written)
    text = copy.read_text(encoding="utf-8")
    assert saved.warnings == []
    assert [k for k in KEPT if k not in text] == [], text
    assert read_design(copy) == design
    assert hand_written.read_text(encoding="utf-8") == HAND_WRITTEN
    # the Designer's Save as does the same
    app = open_page(hand_written)
    app.text_input(key="designer_save_as").input(str(tmp_path / "page-copy.yaml")).run()
    app.button(key="designer_save_as_button").click().run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    assert (tmp_path / "page-copy.yaml").read_text(encoding="utf-8") == HAND_WRITTEN
    assert history(app).saved_path == str(tmp_path / "page-copy.yaml")


GROUPED = """\
apiVersion: lmos.eclipse/v1
kind: Agent
metadata:
  name: billing-agent
spec:
  providedCapabilities:
    - {name: view-bill, version: 1.0.0}
---
apiVersion: lmos.eclipse/v1
kind: Agent
metadata:
  name: contract-agent
spec:
  providedCapabilities:
    - {name: view-contract, version: 1.0.0}
---
apiVersion: studio.lmos.eclipse/v1alpha1
kind: StudioDesign
metadata:
  name: grouped
spec:
  groups:
    # PCI scope: reviewed by security
    - name: billing-domain  # the team's name
      members: [billing-agent]
  trustEdges:
    # billing may read contracts
    - caller: group:billing-domain
      callee: contract-agent
      capabilities: [view-contract]  # nothing else
"""


def test_a_renamed_group_stays_where_and_as_it_was_written(tmp_path: Path) -> None:
    """A renamed group (and the trust edge naming it) was matched by its name, found new, and written in
    Studio's own style: its comments gone, `members: [billing-agent]` turned into a block list, the edge's
    `capabilities` too. Now an item that differs from an old one in a single key field continues it."""
    from lmos_studio.trust import rename_group

    path = tmp_path / "grouped.yaml"
    path.write_text(GROUPED, encoding="utf-8")
    design = rename_group(read_design(path), "billing-domain", "billing-team")
    save_design(design, path)
    text = path.read_text(encoding="utf-8")
    expected = GROUPED.replace("billing-domain", "billing-team")
    # ruamel keeps an end-of-line comment at its column: two more spaces where the name got two shorter
    assert text == expected.replace("billing-team  # the team's", "billing-team    # the team's"), text
    assert read_design(path) == design


def test_an_unrelated_item_in_place_of_a_removed_one_does_not_take_its_comments(tmp_path: Path) -> None:
    from lmos_studio.trust import dissolve_group

    path = tmp_path / "grouped.yaml"
    plain = GROUPED.replace("    - caller: group:billing-domain", "    - caller: billing-agent")
    path.write_text(plain, encoding="utf-8")
    design = dissolve_group(read_design(path), "billing-domain")
    design = design.replace(groups=(Group(name="other", members=("contract-agent",)),))
    save_design(design, path)
    text = path.read_text(encoding="utf-8")
    assert "# PCI scope" not in text and "# the team's name" not in text and "name: other" in text
    assert read_design(path) == design
