"""The Designer page logic with Streamlit's AppTest: groups, trust edges, undo/redo, save as, reload."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from lmos_studio.formats.design_file import read_design, write_design
from lmos_studio.history import History
from lmos_studio.trust import trust_edge
from lmos_studio.ui import state
from tests.conftest import ROOT, SAMPLES

PAGE = str(ROOT / "app_pages" / "designer.py")


def open_page(design_path: Path, *, page: str = PAGE, timeout: float = 60) -> AppTest:
    """`page` (the Designer by default) on `design_path`, opened as saved, after its first run."""
    app = AppTest.from_file(page, default_timeout=timeout)
    hist = History(present=read_design(design_path), origin=str(design_path), saved_path=str(design_path))
    hist.mark_saved()
    app.session_state[state.HISTORY] = hist
    app.run()
    assert not app.exception, app.exception
    return app


def open_app(design_path: Path) -> AppTest:
    """The whole app (sidebar and its unsaved-changes question too) on the Designer, `design_path` opened as saved."""
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    hist = History(present=read_design(design_path), origin=str(design_path), saved_path=str(design_path))
    hist.mark_saved()
    app.session_state[state.HISTORY] = hist
    app.switch_page("app_pages/designer.py")
    app.run()
    assert not app.exception, app.exception
    return app


def reload_discarding(app: AppTest) -> None:
    """Reload, answering Discard when the unsaved-changes question is asked."""
    by_label(app.button, "Reload").click().run()
    if any(b.key == "unsaved_discard" for b in app.button):
        app.button(key="unsaved_discard").click().run()
    assert not app.exception, app.exception


def open_acme(app: AppTest) -> None:
    """Open the acme sample from the sidebar (another design than the one the test started on)."""
    app.selectbox(key="sample_choice").set_value("acme").run()
    app.button(key="open_sample").click().run()
    assert not app.exception, app.exception
    assert app.title[0].value == "Designer · acme"


def history(app: AppTest) -> History:
    value: History = app.session_state[state.HISTORY]
    return value


def by_label(widgets: Any, label: str) -> Any:
    return next(w for w in widgets if w.label == label)


@pytest.fixture
def faulty(tmp_path: Path) -> Path:
    path = tmp_path / "faulty.yaml"
    write_design(read_design(SAMPLES / "faulty.yaml"), path)
    return path


def test_page_shows_title_findings_and_selection(faulty: Path) -> None:
    app = open_page(faulty)
    assert app.title[0].value == "Designer · faulty"
    assert any("errors" in m.value for m in app.markdown)
    assert by_label(app.selectbox, "Agent").options[0] == "(none)"
    by_label(app.selectbox, "Agent").select("default/billing-agent").run()
    assert not app.exception
    assert any("Highlighted: agent billing-agent" in c.value for c in app.caption)
    by_label(app.selectbox, "Tenant").select("globex").run()
    assert not app.exception


def test_group_create_undo_redo_and_save_as(faulty: Path, tmp_path: Path) -> None:
    app = open_page(faulty)
    by_label(app.text_input, "Name").input("billing-zone").run()
    by_label(app.multiselect, "Members").select("billing-agent").select("contract-agent")
    by_label(app.button, "Create group").click().run()
    assert not app.exception
    group = history(app).present.group("billing-zone")
    assert group is not None and group.members == ("billing-agent", "contract-agent")
    assert any("unsaved changes" in c.value for c in app.caption)
    by_label(app.button, "Undo").click().run()
    assert history(app).present.group("billing-zone") is None
    by_label(app.button, "Redo").click().run()
    assert history(app).present.group("billing-zone") is not None
    target = tmp_path / "saved.yaml"
    by_label(app.text_input, "Save as").input(str(target)).run()
    by_label(app.button, "Save as").click().run()
    assert not app.exception
    assert read_design(target).group("billing-zone") is not None
    assert not history(app).dirty and history(app).saved_path == str(target)


def test_invalid_group_name_is_an_error_box_not_a_traceback(faulty: Path) -> None:
    app = open_page(faulty)
    by_label(app.text_input, "Name").input("Not Valid").run()
    by_label(app.button, "Create group").click().run()
    assert not app.exception
    assert any("lowercase" in e.value for e in app.error)


def test_rename_and_dissolve_group(faulty: Path) -> None:
    app = open_page(faulty)
    by_label(app.selectbox, "Group").select("contracts").run()
    by_label(app.text_input, "Name").input("contract-zone")
    by_label(app.button, "Apply").click().run()
    assert not app.exception
    design = history(app).present
    assert design.group("contract-zone") is not None
    assert any(e.caller == "group:contract-zone" for e in design.trust_edges)
    assert by_label(app.selectbox, "Group").value == "contract-zone"
    by_label(app.button, "Dissolve").click().run()
    assert history(app).present.group("contract-zone") is None
    assert not any("contract-zone" in e.caller for e in history(app).present.trust_edges)


def test_trust_edge_add_edit_remove_and_reload(faulty: Path) -> None:
    app = open_page(faulty)
    by_label(app.selectbox, "Caller").select("globex-agent").run()
    by_label(app.selectbox, "Callee").select("billing-agent").run()
    by_label(app.multiselect, "Capabilities (none = all)").select("view-bill").run()
    by_label(app.button, "Add edge").click().run()
    assert not app.exception
    key = "globex-agent->billing-agent[view-bill]"
    assert any(e.key == key for e in history(app).present.trust_edges)
    assert by_label(app.selectbox, "Trust edge").value == key  # the new edge is selected and highlighted
    by_label(app.multiselect, "Capabilities (none = all)").unselect("view-bill").select("show-bill").run()
    by_label(app.button, "Update edge").click().run()
    assert any(e.key == "globex-agent->billing-agent[show-bill]" for e in history(app).present.trust_edges)
    by_label(app.button, "Remove edge").click().run()
    assert not any(e.caller == "globex-agent" for e in history(app).present.trust_edges)
    by_label(app.button, "Reload").click().run()  # back to what is on disk
    assert not app.exception
    assert history(app).present == read_design(faulty)


def test_highlight_from_another_page(faulty: Path) -> None:
    app = AppTest.from_file(PAGE, default_timeout=60)
    hist = History(present=read_design(faulty), origin=str(faulty), saved_path=str(faulty))
    hist.mark_saved()
    app.session_state[state.HISTORY] = hist
    app.session_state[state.HIGHLIGHT] = ["billing-agent", "contract-agent->billing-agent[view-bill]"]
    app.session_state[state.SELECTED_AGENT] = "lonely-agent"  # a bare name, as the Playground may set it
    app.run()
    assert not app.exception
    assert by_label(app.selectbox, "Agent").value == "default/lonely-agent"
    by_label(app.selectbox, "Agent").select("(none)").run()  # a choice of the user's own: it ends the highlight
    assert not any("from another page" in c.value for c in app.caption)


def test_a_large_design_checks_routing_ambiguity_when_asked(
    faulty: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Above `AMBIGUITY_AUTO_AGENTS` the first render lints without the confusion check (seconds at 10 000
    agents) and says so; the button runs it."""
    import streamlit as st

    from lmos_studio.config import get_settings
    from lmos_studio.routing import confusion
    from lmos_studio.ui import resources

    monkeypatch.setenv("LMOS_STUDIO_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    st.cache_resource.clear()
    monkeypatch.setattr(resources, "AMBIGUITY_AUTO_AGENTS", 0)
    monkeypatch.setattr(resources, "_AMBIGUITY_DONE", {})
    calls: list[int] = []
    real = confusion.ambiguity_findings

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(confusion, "ambiguity_findings", counted)
    app = open_page(faulty)
    assert calls == []
    assert any("Routing ambiguity not checked yet" in c.value for c in app.caption)
    assert any("errors" in m.value for m in app.markdown)  # the other findings are shown
    by_label(app.button, "Check routing ambiguity").click().run()
    assert not app.exception, app.exception
    assert calls == [1]
    assert not any("Routing ambiguity not checked yet" in c.value for c in app.caption)
    app.run()  # kept: no second check
    assert calls == [1]


def test_a_large_design_counts_trust_pair_findings_and_draws_without_the_full_graph(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above `PAIRS_LATER_AGENTS` the first render counts cross-tenant and protocol-mismatch findings (listing
    them looks at every agent pair) and lists them when asked; the collapsed canvas is drawn from aggregates,
    and the full graph is built only when a selection needs it."""
    import streamlit as st

    from lmos_studio import graph
    from lmos_studio.config import get_settings
    from lmos_studio.synthetic import synthetic_design
    from lmos_studio.ui import resources

    path = write_design(synthetic_design(300, 15, 12, 800, seed=5), tmp_path / "many.yaml")
    monkeypatch.setenv("LMOS_STUDIO_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    st.cache_resource.clear()
    monkeypatch.setattr(resources, "AMBIGUITY_AUTO_AGENTS", 0)
    monkeypatch.setattr(resources, "_AMBIGUITY_DONE", {})
    monkeypatch.setattr(resources, "PAIRS_LATER_AGENTS", 0)
    builds: list[int] = []
    real = graph.build_graph

    def counted(*args: Any, **kwargs: Any) -> Any:
        builds.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(graph, "build_graph", counted)
    app = open_page(path)
    assert builds == []  # the canvas opened collapsed, from the design's aggregates
    counted_note = [c.value for c in app.caption if "counted but not listed yet" in c.value]
    assert len(counted_note) == 1 and "cross-tenant-trust" in counted_note[0]
    header = next(m.value for m in app.markdown if m.value.startswith("**Lint**"))
    assert "cross-tenant-trust" not in set(app.dataframe[0].value["code"])

    by_label(app.button, "List trust-pair findings").click().run()
    assert not app.exception, app.exception
    assert not any("counted but not listed yet" in c.value for c in app.caption)
    assert next(m.value for m in app.markdown if m.value.startswith("**Lint**")) == header  # the same totals
    listed = resources.designer_findings(history(app).present, level=resources.BASE)
    assert sum(f.code == "cross-tenant-trust" for f in listed) == int(counted_note[0].split()[0])
    assert builds == []

    by_label(app.selectbox, "Agent").select(by_label(app.selectbox, "Agent").options[1]).run()
    assert not app.exception, app.exception
    assert builds == [1]  # a highlight needs the full graph
    assert any(c.value.startswith("Highlighted: agent") for c in app.caption)


def test_an_empty_design_opens_without_a_trust_editor(tmp_path: Path) -> None:
    # before: the trust editor asked for the capabilities of callee None: AttributeError, the page broke
    path = tmp_path / "empty.yaml"
    path.write_text("apiVersion: studio.lmos.eclipse/v1alpha1\nkind: StudioDesign\nmetadata: {name: empty}\nspec: {}\n")
    app = open_page(path)
    assert any("no agents" in i.value for i in app.info), [i.value for i in app.info]


def test_renaming_a_group_keeps_members_named_by_key_or_missing(faulty: Path) -> None:
    """The members box listed agent names only, so Apply (e.g. for a rename) silently dropped members named
    `ns/name` and members whose agent is not in the design."""
    design = read_design(faulty)
    group = design.group("contracts")
    assert group is not None
    members = (*group.members, "default/billing-agent", "gone-agent")
    groups = tuple(g.model_copy(update={"members": members}) if g.name == "contracts" else g for g in design.groups)
    write_design(design.replace(groups=groups), faulty)
    app = open_page(faulty)
    by_label(app.selectbox, "Group").select("contracts").run()
    assert by_label(app.multiselect, "Members").value == list(members)
    by_label(app.text_input, "Name").input("contract-zone")
    by_label(app.button, "Apply").click().run()
    assert not app.exception
    renamed = history(app).present.group("contract-zone")
    assert renamed is not None and renamed.members == members
    by_label(app.multiselect, "Members").unselect("gone-agent").run()
    by_label(app.button, "Apply").click().run()
    renamed = history(app).present.group("contract-zone")
    assert renamed is not None and renamed.members == members[:-1]


def test_the_group_editor_never_names_an_agent_twice(faulty: Path) -> None:
    """With `default/billing-agent` in a group, the Members box also offers `billing-agent`; picking it made a
    group that names the agent twice (its trust pairs twice; the design file refuses it now). Apply is an
    error box and the group stays as it was."""
    design = read_design(faulty)
    members = ("contract-agent", "default/billing-agent")
    groups = tuple(g.model_copy(update={"members": members}) if g.name == "contracts" else g for g in design.groups)
    write_design(design.replace(groups=groups), faulty)
    app = open_page(faulty)
    by_label(app.selectbox, "Group").select("contracts").run()
    by_label(app.multiselect, "Members").select("billing-agent").run()
    by_label(app.button, "Apply").click().run()
    assert not app.exception, app.exception
    assert any("names agent 'billing-agent' twice" in e.value for e in app.error), [e.value for e in app.error]
    assert history(app).present.group("contracts").members == members  # type: ignore[union-attr]


def test_save_refuses_to_overwrite_a_file_changed_on_disk(faulty: Path) -> None:
    """Save wrote over the design file even when another editor (or a git checkout) had changed it since it
    was opened: those changes were lost without a word. Now Save refuses with a message and the file keeps
    its bytes; Save as still writes elsewhere, and after Reload, Save works again."""
    app = open_app(faulty)
    reload_discarding(app)  # opened from disk as the sidebar opens it
    assert not app.exception
    changed = faulty.read_text(encoding="utf-8").replace("Agents that see card data", "Edited in another editor")
    faulty.write_text(changed, encoding="utf-8")
    by_label(app.text_input, "Name").input("billing-zone").run()
    by_label(app.button, "Create group").click().run()
    assert history(app).dirty
    by_label(app.button, "Save").click().run()
    assert not app.exception
    assert any("changed on disk" in e.value for e in app.error)
    assert faulty.read_text(encoding="utf-8") == changed
    assert history(app).dirty
    reload_discarding(app)
    by_label(app.text_input, "Name").input("billing-zone").run()
    by_label(app.button, "Create group").click().run()
    by_label(app.button, "Save").click().run()
    assert not app.error
    saved = read_design(faulty)
    assert saved.group("billing-zone") is not None
    assert any(g.description == "Edited in another editor" for g in saved.groups)
    by_label(app.button, "Undo").click().run()
    by_label(app.button, "Save").click().run()  # a second save of the same session: its own bytes are known
    assert not app.error
    assert read_design(faulty).group("billing-zone") is None


def test_updating_an_edge_keeps_refs_the_select_boxes_do_not_list(faulty: Path) -> None:
    """The Caller and Callee boxes listed the design's names only; for an edge naming something else (an agent
    no longer in the design, or one by ns/name) they fell back to another agent, so Update (say, of the
    description) silently pointed the edge, and its trust, at that agent."""
    app = open_page(faulty)
    by_label(app.selectbox, "Trust edge").select("billing-agent->ghost-agent").run()
    assert by_label(app.selectbox, "Callee").value == "ghost-agent"
    by_label(app.text_input, "Description").input("kept as it is").run()
    by_label(app.button, "Update edge").click().run()
    assert not app.exception
    assert any("ghost-agent" in e.value and "names no agent" in e.value for e in app.error)  # said, not retargeted
    assert history(app).present == read_design(faulty)
    by_label(app.selectbox, "Callee").select("contract-agent").run()  # chosen, not fallen back to
    by_label(app.button, "Update edge").click().run()
    keys = [e.key for e in history(app).present.trust_edges]
    assert "billing-agent->contract-agent" in keys and "billing-agent->ghost-agent" not in keys


def test_the_selected_agent_s_registry_text_is_never_markup(faulty: Path) -> None:
    """The selection panel showed an agent's description (registry text) as Markdown: bold, links, images,
    colours; the unknown-edge warning and the highlight note showed refs likewise."""
    evil = "**bold** [link](http://evil.test) ![pixel](http://evil.test/p.png) :red[alarm]"
    design = read_design(faulty)
    billing = design.agent("billing-agent")
    assert billing is not None
    design = design.with_agent(billing.model_copy(update={"description": evil}))
    ghost = design.trust_edges[0].model_copy(update={"callee": "**ghost**"})
    write_design(design.replace(trust_edges=(*design.trust_edges, ghost)), faulty)
    app = open_page(faulty)
    by_label(app.selectbox, "Agent").select("default/billing-agent").run()
    assert not app.exception
    texts = [c.value for c in app.caption] + [w.value for w in app.warning] + [m.value for m in app.markdown]
    assert any("\\*\\*bold\\*\\*" in t for t in texts)
    assert not any(bad in t for t in texts for bad in ("**bold**", "[link](", "![pixel]", ":red[", "**ghost**"))


def test_save_as_does_not_overwrite_another_file_unasked(faulty: Path, tmp_path: Path) -> None:
    """Save as wrote over any file at the path typed (a name that happened to exist lost its content without a
    question). It refuses now, the file unchanged, until Overwrite is ticked."""
    other = tmp_path / "other.yaml"
    other.write_text("# someone else's design\n", encoding="utf-8")
    app = open_page(faulty)
    by_label(app.text_input, "Save as").input(str(other)).run()
    by_label(app.button, "Save as").click().run()
    assert not app.exception
    assert any("exists already" in e.value for e in app.error)
    assert other.read_text(encoding="utf-8") == "# someone else's design\n"
    assert history(app).saved_path == str(faulty)
    by_label(app.checkbox, "Overwrite").check().run()
    by_label(app.button, "Save as").click().run()
    assert not app.error
    assert read_design(other).name == "faulty" and history(app).saved_path == str(other)


def test_the_saved_path_is_shown_as_written(tmp_path: Path) -> None:
    """Bug (session 14 QA): the "● saved · PATH" caption put the design's path into Markdown as it was, so a
    folder named "**bold** [link](http%3A)" showed bold text and a link; now the path is escaped."""
    folder = tmp_path / "**bold** [link](http%3A)"
    folder.mkdir()
    path = folder / "faulty.yaml"
    write_design(read_design(SAMPLES / "faulty.yaml"), path)
    app = open_page(path)
    assert not app.exception
    saved = [c.value for c in app.caption if "saved" in c.value]
    assert saved and all("**bold**" not in c and "[link](" not in c for c in saved), saved


def test_the_lint_panel_lists_routing_tests_that_can_never_pass(faulty: Path) -> None:
    """The Designer's lint left out the design's routing tests (`lmos-studio lint` reports them): a test naming
    an agent its channel does not have was shown nowhere until `lmos-studio test` failed it. Every level of the
    panel lists it now, and the page's table shows it."""
    from lmos_studio.ui import resources

    design = read_design(faulty)
    for level in (resources.LEAN, resources.BASE, resources.FULL):
        codes = {f.code for f in resources.designer_findings(design, level=level)}
        assert {"routing-test-unreachable", "routing-test-duplicate"} <= codes, level
    app = open_page(faulty)
    shown = app.dataframe[0].value
    row = shown[shown["code"] == "routing-test-unreachable"].iloc[0]
    assert "Routing test 'bill from a ghost': expectAgent 'ghost-agent'" in row["message"]


def test_the_selected_agent_s_channels_and_tenants_can_be_set(faulty: Path) -> None:
    """An agent imported from an A2A card or an AgentRoutingSpec has no channels or tenants, and the import
    warning said "set it in the Designer": the Designer had no place to do so. The selected agent's panel
    now sets them (comma-separated, one undo step)."""
    app = open_page(faulty)
    by_label(app.selectbox, "Agent").select("default/globex-agent").run()
    by_label(app.text_input, "Supported channels (comma-separated)").input(" web, ivr ,web,").run()
    by_label(app.text_input, "Supported tenants (comma-separated; empty = every tenant)").input("acme").run()
    app.button(key="designer_agent_reach_apply").click().run()
    assert not app.exception, app.exception
    agent = history(app).present.agent("globex-agent")
    assert agent is not None
    assert (agent.supported_channels, agent.supported_tenants) == (("web", "ivr"), ("acme",))
    assert history(app).dirty and history(app).can_undo
    history(app).undo()
    before = history(app).present.agent("globex-agent")
    assert before is not None and before.supported_tenants == ("globex",)


def test_save_as_into_the_folder_the_design_was_read_from_is_refused(tmp_path: Path) -> None:
    """Bug (session 16 QA, as `canary --out`): a design opened from a folder and saved as a file inside that
    folder left the folder holding every resource twice (its files, and the new one). Save as refuses it now,
    naming the folder; nothing is written."""
    import shutil

    from tests.conftest import ACME

    folder = tmp_path / "acme"
    shutil.copytree(ACME, folder)
    app = open_page(folder)
    by_label(app.text_input, "Save as").input(str(folder / "mine.yaml")).run()
    by_label(app.button, "Save as").click().run()
    assert not app.exception
    assert any("inside the folder the design was read from" in e.value for e in app.error), [e.value for e in app.error]
    assert not (folder / "mine.yaml").exists()


def test_save_writes_a_folder_design_back_into_its_files(tmp_path: Path) -> None:
    """A design opened from a folder could not be saved there: Save was off ("a folder is never overwritten") and
    Save as wrote one file outside it. Save now writes each change into the file it came from (the others keep
    their bytes), says where new resources went, and refuses when a file of the folder changed on disk since."""
    import shutil

    from lmos_studio.formats.design_folder import ADDED_FILE
    from tests.conftest import ACME

    folder = tmp_path / "acme"
    shutil.copytree(ACME, folder)
    before = {p: p.read_bytes() for p in folder.rglob("*.y*ml")}
    app = open_app(folder)
    reload_discarding(app)  # opened from disk as the sidebar opens it
    assert not app.exception
    assert history(app).saved_path == str(folder) and not by_label(app.button, "Save").disabled
    by_label(app.text_input, "Name").input("news-zone").run()
    by_label(app.multiselect, "Members").select("news-agent").select("weather-agent")
    by_label(app.button, "Create group").click().run()
    by_label(app.button, "Save").click().run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    assert not history(app).dirty
    changed = {p for p in before if p.read_bytes() != before[p]}
    assert changed == {folder / "studio.yaml"} and not (folder / ADDED_FILE).exists()
    assert read_design(folder).group("news-zone") is not None
    assert "# Studio-only data of the acme sample" in (folder / "studio.yaml").read_text(encoding="utf-8")

    channel = folder / "lmos-demo" / "acme-web-stable-channel.yml"
    channel.write_text(channel.read_text(encoding="utf-8") + "# edited in another editor\n", encoding="utf-8")
    edited = channel.read_bytes()
    by_label(app.button, "Undo").click().run()  # the group goes again: a change to save
    by_label(app.button, "Save").click().run()
    assert not app.exception
    assert any("changed on disk" in e.value and "acme-web-stable-channel.yml changed" in e.value for e in app.error)
    assert history(app).dirty and channel.read_bytes() == edited
    assert read_design(folder).group("news-zone") is not None  # nothing written

    reload_discarding(app)  # the folder's files as they are now: Save works again
    from lmos_studio.model import Agent, Capability

    history(app).apply(
        history(app).present.with_agent(
            Agent(name="faq-agent", capabilities=(Capability(name="faq", version="1.0.0"),))
        )
    )
    app.run()
    by_label(app.button, "Save").click().run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    notes = [i.value for i in app.info]  # escaped as Markdown: the path is shown as written
    assert any("studio\\-added\\.yaml" in n and "new in the folder" in n and "faq\\-agent" in n for n in notes), notes
    assert channel.read_bytes() == edited  # the other editor's change kept
    saved = read_design(folder)
    assert saved.agent("faq-agent") is not None and saved.group("news-zone") is not None  # the undo was dropped


def test_reload_with_unsaved_changes_asks_first(tmp_path: Path) -> None:
    """Bug: Reload threw away unsaved edits and the undo history without a word (delete an agent, Reload: the
    agent was back, Undo grey). Now it asks Save / Discard / Cancel first, as opening another design does."""
    import shutil

    from tests.conftest import ACME

    folder = tmp_path / "acme"
    shutil.copytree(ACME, folder)
    app = open_app(folder)
    by_label(app.selectbox, "Agent").select("lmos-demo/news-agent").run()
    by_label(app.button, "Delete agent").click().run()
    assert history(app).present.agent("news-agent") is None and history(app).dirty
    by_label(app.button, "Reload").click().run()
    assert not app.exception, app.exception
    assert any(b.key == "unsaved_cancel" for b in app.button), "the unsaved-changes question is asked"
    assert history(app).present.agent("news-agent") is None and history(app).can_undo  # nothing dropped yet
    app.button(key="unsaved_cancel").click().run()
    assert history(app).present.agent("news-agent") is None and history(app).can_undo and history(app).dirty
    reload_discarding(app)
    assert history(app).present.agent("news-agent") is not None and not history(app).dirty


@pytest.mark.parametrize("edited", [False, True])
def test_reload_of_a_broken_file_says_why_and_keeps_the_designer(tmp_path: Path, edited: bool) -> None:
    """Bug: Reload of a design whose file broke on disk showed the DesignFileError, but everything below the
    buttons went, though the design in memory was still open. Now the error is shown by Reload and the Designer
    stays usable (Save as can keep the work)."""
    import shutil

    from tests.conftest import ACME

    folder = tmp_path / "acme"
    shutil.copytree(ACME, folder)
    app = open_app(folder)
    if edited:
        by_label(app.selectbox, "Agent").select("lmos-demo/news-agent").run()
        by_label(app.button, "Delete agent").click().run()
    studio = folder / "studio.yaml"
    studio.write_text(studio.read_text(encoding="utf-8") + "bad: [unclosed\n", encoding="utf-8")
    reload_discarding(app)
    assert any("DesignFileError" in e.value and "studio.yaml" in e.value for e in app.error), [
        e.value for e in app.error
    ]
    assert (history(app).present.agent("news-agent") is None) == edited  # the design in memory is kept
    assert any(b.label == "Save as" for b in app.button) and any(s.label == "Agent" for s in app.selectbox)
    assert any(m.value.startswith("**Lint**") for m in app.markdown), "the Designer below the buttons is drawn"


def test_a_canvas_message_shows_names_as_written(faulty: Path) -> None:
    """What a canvas action did was shown as Markdown: a trust edge drawn from agent `a_b_c*d*` was announced as
    'Added trust edge a_b_cd->…' with 'd' in italics (and a refusal's reason likewise). It is text now."""
    from lmos_studio.ui import canvas

    app = open_page(faulty)
    app.session_state[canvas.MESSAGE] = ("info", "Added trust edge a_b_c*d*->[x](http://evil.test): choose …")
    app.run()
    app.session_state[canvas.MESSAGE] = ("error", "EditError: trust edge callee '**ghost**' names no agent")
    shown = [c.value for c in app.caption]
    app.run()
    shown += [e.value for e in app.error]
    assert any("a\\_b\\_c\\*d\\*" in t and "\\[x\\]" in t for t in shown), shown
    assert any("\\*\\*ghost\\*\\*" in t for t in shown), shown


def test_a_path_the_system_refuses_is_a_message(faulty: Path) -> None:
    """A path with a name longer than the file system takes (a design's text pasted into the path field, say)
    stopped the sidebar's Open path with a traceback (OSError: File name too long, from `Path.exists`), and
    Save as showed 'Something went wrong on this page'. Both say what is wrong with the path now."""
    long = str(faulty.parent / ("a" * 300 + ".yaml"))
    app = open_app(faulty)
    app.text_input(key="open_path").set_value(long).run()
    app.button(key="open_path_button").click().run()
    assert not app.exception, app.exception
    assert any("DesignFileError" in e.value and "File name too long" in e.value for e in app.error)
    app.text_input(key="designer_save_as").set_value(long).run()
    app.button(key="designer_save_as_button").click().run()
    assert not app.exception, app.exception
    said = [e.value for e in app.error]
    assert any("DesignFileError" in e and "cannot be saved there" in e for e in said), said
    assert not any("Something went wrong" in e for e in said)


def test_another_design_opens_on_the_designer_unfiltered(faulty: Path) -> None:
    """The Designer's filters were kept when another design opened: with tenant 'globex' chosen on faulty, acme
    (which has a globex tenant too) opened on the agents serving globex only, 5 of 9 on the canvas, the filter box
    the only hint. Another design starts unfiltered, as a fresh session does (as the Evaluate and What-if picks)."""
    app = open_app(faulty)
    app.selectbox(key="designer_filter_tenant").set_value("globex").run()
    app.selectbox(key="designer_filter_subset").set_value("stable").run()
    open_acme(app)
    assert app.selectbox(key="designer_filter_tenant").value == ""
    assert app.selectbox(key="designer_filter_subset").value == ""


def test_a_half_made_group_survives_another_edit(faulty: Path) -> None:
    """The new-group form was keyed by the design's digest: a name typed and members picked were wiped by any
    other edit before Create (a trust edge added, a node dragged on the canvas). They are kept now (a member that
    went with a deleted agent drops out) and the form empties once the group is created."""

    def form(app: AppTest) -> tuple[str, list[str]]:
        name = by_label(app.text_input, "Name").value
        return name, list(by_label(app.multiselect, "Members").value)

    app = open_page(faulty)
    by_label(app.text_input, "Name").input("billing-team").run()
    by_label(app.multiselect, "Members").set_value(["billing-agent", "lonely-agent"]).run()
    app.button(key="designer_te_add").click().run()  # another edit first
    assert len(history(app).past) == 1
    assert form(app) == ("billing-team", ["billing-agent", "lonely-agent"])
    app.selectbox(key=state.SELECTED_AGENT).set_value("default/lonely-agent").run()
    app.button(key="designer_delete_agent").click().run()
    assert not app.exception, app.exception
    assert form(app) == ("billing-team", ["billing-agent"])
    app.button(key="designer_group_create").click().run()
    group = history(app).present.group("billing-team")
    assert group is not None and group.members == ("billing-agent",)
    assert form(app) == ("", [])


def test_a_half_made_trust_edge_survives_another_edit(faulty: Path) -> None:
    """The new-trust-edge form was keyed by the design's digest too: a caller and callee chosen and a description
    typed were wiped by any other edit before Add edge (a group created, a node dragged). They are kept now; the
    form starts afresh once the edge is added."""
    app = open_page(faulty)
    by_label(app.selectbox, "Caller").set_value("globex-agent").run()
    by_label(app.selectbox, "Callee").set_value("lonely-agent").run()
    by_label(app.text_input, "Description").input("nightly report").run()
    by_label(app.text_input, "Name").input("ops").run()
    app.button(key="designer_group_create").click().run()  # another edit first
    assert history(app).present.group("ops") is not None
    assert by_label(app.selectbox, "Caller").value == "globex-agent"
    assert by_label(app.selectbox, "Callee").value == "lonely-agent"
    assert by_label(app.text_input, "Description").value == "nightly report"
    app.button(key="designer_te_add").click().run()
    added = trust_edge(history(app).present, "globex-agent->lonely-agent")
    assert added is not None and added.description == "nightly report"
    app.selectbox(key="designer_edge").set_value("").run()  # back to a new edge: the form starts afresh
    assert by_label(app.text_input, "Description").value == ""


def test_the_selected_agent_s_capabilities_show_a_bidi_override_as_its_escape(faulty: Path) -> None:
    """The selection panel's capability table showed registry text as it was: a description 'Download <U+202E>
    fdp.exe' read 'Download exe.pdf' there, turned around, though the Overview and the Registry page write such
    characters as escapes. The table is built like theirs now."""
    design = read_design(faulty)
    billing = design.agent("billing-agent")
    assert billing is not None
    first = billing.capabilities[0].model_copy(update={"description": "Download \u202efdp.exe"})
    write_design(
        design.with_agent(billing.model_copy(update={"capabilities": (first, *billing.capabilities[1:])})), faulty
    )
    app = open_page(faulty)
    by_label(app.selectbox, "Agent").select("default/billing-agent").run()
    assert not app.exception, app.exception
    table = next(d.value for d in app.dataframe if "capability" in d.value.columns)
    assert table["description"].iloc[0] == "Download \\u202efdp.exe"


def test_a_path_that_is_no_file_or_folder_is_a_message(faulty: Path) -> None:
    """The sidebar's Open path read whatever the path named: /dev/zero filled the memory (a MemoryError traceback,
    or the server killed), a named pipe blocked the session until something wrote to it (here a writer does, and
    its text was read as a design). A path that is no regular file or folder is refused with a message now."""
    import os
    import threading

    pipe = faulty.parent / "pipe.yaml"
    os.mkfifo(pipe)

    def write() -> None:
        for _ in range(20):  # each open of the pipe waits for a writer: one per read (none once refused)
            with contextlib.suppress(OSError), pipe.open("w") as end:
                end.write("kind: Agent\n")

    threading.Thread(target=write, daemon=True).start()
    app = open_app(faulty)
    for path in (pipe, Path("/dev/zero")):
        app.text_input(key="open_path").set_value(str(path)).run()
        app.button(key="open_path_button").click().run()
        assert not app.exception, app.exception
        assert any("is not a file or folder" in e.value for e in app.error), [e.value for e in app.error]
        assert app.title[0].value == "Designer · faulty"
    reader = os.open(pipe, os.O_RDONLY | os.O_NONBLOCK)  # lets the writer's waiting open through …
    pipe.unlink()  # … and its next ones make a plain file: it ends
    os.close(reader)


def test_a_folder_with_a_link_leading_nowhere_opens(faulty: Path, tmp_path: Path) -> None:
    """The sidebar's Open path of a design folder holding a dangling link (notes.md -> a file since deleted) or a
    loop of links said 'cannot be read (No such file or directory)' for the whole folder, though the CLI reads it
    (reading skips such a link)."""
    import shutil

    folder = tmp_path / "design"
    shutil.copytree(SAMPLES / "acme", folder)
    (folder / "notes.md").symlink_to(tmp_path / "deleted.md")
    (folder / "loop-a.yaml").symlink_to(folder / "loop-b.yaml")
    (folder / "loop-b.yaml").symlink_to(folder / "loop-a.yaml")
    app = open_app(faulty)
    app.text_input(key="open_path").set_value(str(folder)).run()
    app.button(key="open_path_button").click().run()
    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]
    assert app.title[0].value == "Designer · acme"


@pytest.mark.parametrize("box", ["Agent", "Trust edge"])
def test_choosing_none_in_a_select_box_ends_the_playground_s_highlight(faulty: Path, box: str) -> None:
    """The Playground's routes are highlighted on the Designer ('Highlighted: from another page'). Choosing an
    agent (or a trust edge) and then '(none)' in its select box brought that highlight back: only a click on the
    canvas ended it. Any change of the selection in a select box ends it now."""
    app = AppTest.from_file(PAGE, default_timeout=60)
    hist = History(present=read_design(faulty), origin=str(faulty), saved_path=str(faulty))
    hist.mark_saved()
    app.session_state[state.HISTORY] = hist
    app.session_state[state.HIGHLIGHT] = ["agent:default/billing-agent"]  # as the Playground leaves it
    app.run()
    assert any("from another page" in c.value for c in app.caption)
    select = by_label(app.selectbox, box)
    select.set_value(select.options[1] if box == "Trust edge" else "default/billing-agent").run()
    by_label(app.selectbox, box).set_value("").run()
    assert not app.exception, app.exception
    assert not any("from another page" in c.value for c in app.caption), [c.value for c in app.caption]


def test_another_design_opens_on_an_empty_new_trust_edge_form(faulty: Path) -> None:
    """The new-trust-edge form's keys (state.NEW_EDGE_FIELDS) were not among the choices another design drops: a
    description typed on faulty (and the capabilities and protocol picked) were still in the form when acme opened,
    ready to be added to acme's edge. Another design starts on an empty form, as a fresh session does."""
    app = open_app(faulty)
    by_label(app.selectbox, "Caller").set_value("globex-agent").run()
    by_label(app.selectbox, "Callee").set_value("billing-agent").run()
    by_label(app.text_input, "Description").input("nightly report").run()
    faulty_callee = [k for k in app.session_state if str(k).startswith("designer_te_") and k.endswith("billing-agent")]
    assert any(k.startswith("designer_te_caps_new_") for k in faulty_callee), faulty_callee
    open_acme(app)
    assert by_label(app.text_input, "Description").value == ""
    assert not [k for k in faulty_callee if k in app.session_state]  # the capabilities and protocol picked


def test_another_design_opens_with_an_empty_save_as_path(faulty: Path) -> None:
    """A 'Save as' path typed for faulty stayed in the field when acme opened ('designer_save_as' was not among
    the choices another design drops): one click on Save as wrote acme over the file meant for faulty."""
    app = open_app(faulty)
    app.text_input(key="designer_save_as").input("out/faulty-copy.yaml").run()
    open_acme(app)
    assert app.text_input(key="designer_save_as").value == ""
