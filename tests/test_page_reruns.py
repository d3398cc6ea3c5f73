"""Pages on large designs stay cheap to rerun: choosers send a bounded list (type to filter), the canvas gets
cached bytes, and edits that do not touch agents or channels keep resolution and routing ambiguity cached."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from lmos_studio import resolve as resolve_module
from lmos_studio.formats.design_file import write_design
from lmos_studio.history import History
from lmos_studio.model import TrustEdge
from lmos_studio.routing import confusion
from lmos_studio.synthetic import synthetic_design
from lmos_studio.trust import add_trust_edge
from lmos_studio.ui import canvas, resources, state, widgets
from tests.conftest import ROOT
from tests.test_designer_page import open_page as open_design_page

DESIGNER = str(ROOT / "app_pages" / "designer.py")
EVALUATE = str(ROOT / "app_pages" / "evaluate.py")
MANY = widgets.SEARCH_LIMIT + 80  # more agents than a chooser lists


def by_label(items: Any, label: str) -> Any:
    return next(w for w in items if w.label == label)


@pytest.fixture
def many(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    seed = int.from_bytes(tmp_path.name.encode()[-4:], "big")  # a design no other test has cached
    path = write_design(synthetic_design(MANY, 12, 6, 40, seed=seed), tmp_path / "many.yaml")
    monkeypatch.setenv("LMOS_STUDIO_DATA_DIR", str(tmp_path / "data"))
    return path


def open_page(page: str, design_path: Path) -> AppTest:
    return open_design_page(design_path, page=page, timeout=120)


def test_matching_is_bounded_case_insensitive_and_ordered() -> None:
    options = [f"agent-{i:04d}" for i in range(1000)]
    assert widgets.matching(options, "") == options[: widgets.SEARCH_LIMIT]
    assert widgets.matching(options, "AGENT-09") == [f"agent-{i:04d}" for i in range(900, 1000)][: widgets.SEARCH_LIMIT]
    assert widgets.matching(options, "0042") == ["agent-0042"]
    assert widgets.matching(options, "nothing") == []


def test_designer_agent_chooser_lists_a_bounded_set_and_finds_by_typing(many: Path) -> None:
    app = open_page(DESIGNER, many)
    agent = app.selectbox(key=state.SELECTED_AGENT)
    assert len(agent.options) == widgets.SEARCH_LIMIT + 1  # "(none)" and the first matches, not every agent
    design = app.session_state[state.HISTORY].present
    wanted = design.agents[-1].key  # beyond the first SEARCH_LIMIT
    assert wanted not in agent.options
    app.text_input(key=state.SELECTED_AGENT + widgets.SEARCH_SUFFIX).input(wanted).run()
    agent = app.selectbox(key=state.SELECTED_AGENT)
    assert wanted in agent.options and len(agent.options) < 10
    agent.select(wanted).run()
    assert not app.exception, app.exception
    assert any(wanted in m.value for m in app.markdown)  # the selection's panel
    app.text_input(key=state.SELECTED_AGENT + widgets.SEARCH_SUFFIX).input("").run()  # the chosen value stays
    assert app.selectbox(key=state.SELECTED_AGENT).value == wanted
    caller = by_label(app.selectbox, "Caller")
    assert len(caller.options) <= widgets.SEARCH_LIMIT + 1


def test_trust_edge_edit_keeps_resolution_and_ambiguity_cached(many: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"resolve": 0, "ambiguity": 0}
    real_resolve, real_ambiguity = resolve_module.resolve_design, confusion.ambiguity_findings

    def resolve(*args: Any, **kwargs: Any) -> Any:
        calls["resolve"] += 1
        return real_resolve(*args, **kwargs)

    def ambiguity(*args: Any, **kwargs: Any) -> Any:
        calls["ambiguity"] += 1
        return real_ambiguity(*args, **kwargs)

    monkeypatch.setattr(resources, "resolve_design", resolve)
    monkeypatch.setattr(confusion, "ambiguity_findings", ambiguity)
    from lmos_studio import trust

    safe_calls: list[int] = []
    real_safe = trust.safe_resolutions

    def safe(design: Any) -> Any:
        safe_calls.append(1)
        return real_safe(design)

    monkeypatch.setattr(trust, "safe_resolutions", safe)
    app = open_page(DESIGNER, many)
    before = (dict(calls), len(safe_calls))
    design = app.session_state[state.HISTORY].present
    edge = TrustEdge(caller=design.agents[0].name, callee=design.agents[1].name)
    state_design = add_trust_edge(design, edge)
    hist: History = app.session_state[state.HISTORY]
    hist.apply(state_design)  # what the canvas's connect event does
    app.run()
    assert not app.exception, app.exception
    assert app.session_state[state.HISTORY].present.digest() != design.digest()
    assert (dict(calls), len(safe_calls)) == before  # nothing that depends only on agents and channels ran again
    # one resolution in all (the graph's safe resolution is the operator's when every version is SemVer)
    assert before[0]["resolve"] + before[1] == 1 and before[0]["ambiguity"] == 1


def test_resolution_key_follows_agents_and_channels_only(many: Path) -> None:
    from lmos_studio.formats.design_file import read_design

    design = read_design(many)
    edited = add_trust_edge(design, TrustEdge(caller=design.agents[0].name, callee=design.agents[1].name))
    moved = design.replace(layout={"positions": {"agent:x": [1, 2]}})
    assert resources.resolution_key(edited) == resources.resolution_key(design) == resources.resolution_key(moved)
    fewer = design.replace(agents=design.agents[1:])
    assert resources.resolution_key(fewer) != resources.resolution_key(design)
    same_content = design.replace(agents=tuple(a.model_copy() for a in design.agents))
    assert resources.resolution_key(same_content) == resources.resolution_key(design)  # content, not identity


def test_a_design_read_from_disk_is_keyed_from_its_digest(many: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keying the resolution of a design just read dumps none of its agents again: the keys come from the
    digest reading computed; edits that keep agents and channels keep the key, other agents change it."""
    import pydantic_core

    from lmos_studio.config import get_settings

    get_settings.cache_clear()
    design = resources.read_design_files(str(many), many.stat().st_mtime).design
    dumps: list[object] = []
    real = pydantic_core.to_json
    monkeypatch.setattr(pydantic_core, "to_json", lambda value, **kw: dumps.append(value) or real(value, **kw))
    key = resources.resolution_key(design)
    assert dumps == []
    edited = add_trust_edge(design, TrustEdge(caller=design.agents[0].name, callee=design.agents[1].name))
    assert resources.resolution_key(edited) == key
    assert resources.resolution_key(design.replace(agents=design.agents[1:])) != key
    assert dumps  # a part an edit made is keyed by its content


def test_canvas_payload_bytes_put_version_and_selection_first() -> None:
    payload = json.dumps({"nodes": [{"id": "agent:a"}], "edges": []}).encode()
    data = canvas.payload_bytes("v1", payload, {"id": "agent:a", "kind": "node"})
    parsed = json.loads(data)
    assert data.startswith(b'{"version":"') and parsed["selected"] == {"id": "agent:a", "kind": "node"}
    assert parsed["nodes"] == [{"id": "agent:a"}]
    other = json.loads(canvas.payload_bytes("v1", payload, {"id": "", "kind": ""}))
    assert other["version"] != parsed["version"]  # a new selection is a new version for the browser
    assert json.loads(canvas.payload_bytes("v1", b"{}", {"id": "", "kind": ""}))["selected"] == {"id": "", "kind": ""}


def test_evaluate_whatif_choosers_are_bounded(many: Path) -> None:
    app = open_page(EVALUATE, many)
    removed = app.multiselect(key="wi_remove")
    assert len(removed.options) == widgets.SEARCH_LIMIT
    design = app.session_state[state.HISTORY].present
    wanted = design.agents[-1].name
    app.text_input(key="wi_remove" + widgets.SEARCH_SUFFIX).input(wanted).run()
    app.multiselect(key="wi_remove").select(wanted).run()
    assert not app.exception, app.exception
    app.text_input(key="wi_remove" + widgets.SEARCH_SUFFIX).input("").run()
    assert app.multiselect(key="wi_remove").value == [wanted]  # kept while the search changes
    assert len(app.multiselect(key="wi_caps").options) == widgets.SEARCH_LIMIT
    assert len(app.selectbox(key="wi_move").options) == widgets.SEARCH_LIMIT + 1


def test_cached_canvas_payload_leaves_the_version_to_the_page(many: Path) -> None:
    from lmos_studio.formats.design_file import read_design
    from lmos_studio.graph import GraphFilter, Highlight

    version, raw = resources.canvas_payload(read_design(many), GraphFilter(), Highlight(), frozenset(), 640)
    payload = json.loads(raw)
    assert version and "version" not in payload and payload["nodes"]  # one version key in what the browser gets
    assert list(json.loads(canvas.payload_bytes(version, raw, {"id": "", "kind": ""}))).count("version") == 1


def test_lint_kept_per_trust_edge_equals_a_full_lint(tmp_path: Path) -> None:
    from lmos_studio.formats.design_file import read_design
    from lmos_studio.routing.confusion import lint_with_routing
    from lmos_studio.trust import remove_trust_edge
    from tests.conftest import SAMPLES

    seed = int.from_bytes(tmp_path.name.encode()[-4:], "big")
    for design in (synthetic_design(150, 8, 6, 120, seed=seed), read_design(SAMPLES / "faulty.yaml")):
        assert resources.lint_findings(design) == lint_with_routing(design)
        names = [a.name for a in design.agents]
        odd = (  # as a hand-edited file may have them: a protocol no endpoint offers, an unknown callee
            TrustEdge(caller=names[0], callee=names[-1], protocol="carrier-pigeon"),
            TrustEdge(caller=names[1], callee="no-such-agent"),
        )
        wider = design.replace(trust_edges=(*design.trust_edges, *odd))
        assert resources.lint_findings(wider) == lint_with_routing(wider)
        assert {"unknown-trust-target", "protocol-mismatch"} <= {f.code for f in lint_with_routing(wider)}
        narrower = remove_trust_edge(wider, wider.trust_edges[0].key)
        assert resources.lint_findings(narrower) == lint_with_routing(narrower)


def test_canvas_js_is_a_served_asset_and_its_data_cached_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import SAMPLES

    monkeypatch.setenv("LMOS_STUDIO_DATA_DIR", str(tmp_path / "data"))
    from lmos_studio.config import get_settings

    get_settings.cache_clear()
    app = open_page(DESIGNER, SAMPLES / "faulty.yaml")
    (element,) = app.get("bidi_component")
    assert element.proto.js_content == ""  # not 470 KB inline on every rerun
    served = tmp_path / "data" / "assets" / canvas.ASSET_DIR / element.proto.js_source_path
    assert served.is_file() and "vis-network" in served.read_text(encoding="utf-8")[:2000]
    assert element.proto.WhichOneof("data") == "bytes"
    data = json.loads(element.proto.bytes)
    assert data["nodes"] and data["selected"] == {"id": "", "kind": ""}
    get_settings.cache_clear()
