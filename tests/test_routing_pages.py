"""AppTest: the Playground and Evaluate pages on the acme sample."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from lmos_studio.config import get_settings
from lmos_studio.markdown import code, escape
from tests.conftest import ROOT


@pytest.fixture(autouse=True)
def _settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LMOS_STUDIO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("LMOS_STUDIO_DESIGN", raising=False)
    get_settings.cache_clear()


def open_page(name: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / f"{name}.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def open_edited_acme(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file: str, old: str, new: str
) -> AppTest:
    """Page `name` on a copy of the acme sample whose `file` has `old` replaced by `new`."""
    design = tmp_path / "acme"
    shutil.copytree(ROOT / "sample_networks" / "acme", design)
    edited = design / file
    edited.write_text(edited.read_text().replace(old, new))
    monkeypatch.setenv("LMOS_STUDIO_DESIGN", str(design))
    get_settings.cache_clear()
    return open_page(name)


def test_playground_routes_per_channel_and_highlights_the_chosen_agent() -> None:
    at = open_page("playground")
    assert at.info[0].value == "Enter a message to route it."
    at.multiselect(key="pg_channels").set_value(
        [o for o in at.multiselect(key="pg_channels").options if "default/acme-web-stable" in o]
    ).run()
    at.text_input(key="playground_query").input("I want a PDF of my last bill").run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == [s.value for s in at.success if "billing-agent-stable" in s.value]
    assert "selected_agent" not in at.session_state  # the Designer highlights every routed channel, not one agent
    assert "agent:default/billing-agent-stable" in at.session_state["highlight"]
    assert "channel:default/acme-web-stable" in at.session_state["highlight"]
    assert at.expander[0].label == "Route on the design graph"
    ranked = at.dataframe[0].value
    assert list(ranked.columns) == ["rank", "agent", "capability", "score", "evidence"]
    assert ranked.iloc[0]["capability"] == "download-bill"
    assert any(c.value.replace("\\", "").startswith("lexicon: ") for c in at.caption), "the lexicon choice is shown"


def add_routing_test(query: str, **fields: str) -> tuple[AppTest, int]:
    """The Playground routes `query`, its add-test form is filled with `fields` (by widget key) and submitted:
    the page and how many routing tests the design had before."""
    at = open_page("playground")
    at.text_input(key="playground_query").input(query).run()
    before = len(at.session_state["history"].present.routing_tests)
    for key, value in fields.items():
        at.text_input(key=key).input(value)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at, before


def test_playground_adds_a_routing_test_to_the_design() -> None:
    at, before = add_routing_test("read my contract to me", new_test_name="contract on ivr")
    tests = at.session_state["history"].present.routing_tests
    assert len(tests) == before + 1 and tests[-1].query == "read my contract to me"
    assert tests[-1].name == "contract on ivr" and tests[-1].channel  # a channel key of the design
    assert at.session_state["history"].dirty


def test_the_playground_redraws_after_adding_a_routing_test() -> None:
    """Bug: after "Add as routing test" the toast said "5 in the design" while the line under the forms still
    said "4 routing tests in the design" (and the sidebar no unsaved changes) until another click. The page is
    drawn again under the edited design now, the toast shown after that rerun."""
    at, before = add_routing_test("read my contract to me")
    assert len(at.session_state["history"].present.routing_tests) == before + 1
    assert any(c.value.startswith(f"{before + 1} routing tests in the design") for c in at.caption), [
        c.value for c in at.caption
    ]
    assert [t.value for t in at.toast] == [f"Routing test added ({before + 1} in the design)"]


def test_the_playground_refuses_to_add_the_same_routing_test_twice() -> None:
    """Bug: a second click on "Add as routing test" added the same test again (lint then warned of the copy).
    Now the form refuses it and says so, as "List as out of scope" does for a message listed already."""
    at, before = add_routing_test("read my contract to me")
    at.text_input(key="new_test_name").input("the same test, named")  # the name does not make another test
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert len(at.session_state["history"].present.routing_tests) == before + 1
    assert any(i.value == f"The design already has this test (routing test {before + 1})." for i in at.info), [
        i.value for i in at.info
    ]
    at.text_input(key="new_test_capability").input("view-contract")  # other expectations: another test
    at.button[0].click().run()
    assert len(at.session_state["history"].present.routing_tests) == before + 2


def test_evaluate_runs_the_acme_set_with_metrics_confusion_and_misroutes() -> None:
    at = open_page("evaluate")
    assert at.selectbox(key="eval_sample").value == "acme-queries.csv"
    at.button(key="eval_run").click().run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Accuracy"].endswith("%") and "Latency p95" in metrics
    comparison = at.dataframe[0].value
    assert comparison.iloc[0]["n"] == 40
    assert any(label.startswith("Out-of-scope recall (5 rows)") for label in metrics)  # the sample shows "none"
    assert comparison.iloc[0]["out_of_scope_recall"] is not None
    assert at.get("vega_lite_chart"), "the confusion heat map is shown"
    misroutes = at.table[0].value
    assert {"query", "expected", "routed to", "evidence"} <= set(misroutes.columns)
    assert any("lexicon: " in c.value.replace("\\", "") for c in at.caption), "the lexicon choice is shown"


def test_evaluate_waits_for_an_upload() -> None:
    at = open_page("evaluate")
    at.radio(key="eval_source").set_value("Upload CSV").run()
    assert not at.exception
    assert at.button(key="eval_run").disabled


def test_evaluate_runs_routing_tests_and_whatif() -> None:
    at = open_page("evaluate")
    at.button(key="run_tests").click().run()
    assert not at.exception, at.exception
    assert "4/4 routing tests passed" in at.success[0].value
    at.multiselect(key="wi_remove").set_value(["billing-agent-stable"]).run()
    at.button(key="wi_run").click().run()
    assert not at.exception, at.exception
    frames = [d.value for d in at.dataframe]
    channels = next(f for f in frames if "lost" in f.columns)
    assert set(channels["after"]) == {"UNRESOLVED"}
    routes = next(f for f in frames if "effect" in f.columns)
    assert "show me my bill please" in set(routes["query"])
    shown = [c.value.replace("\\", "") for c in at.caption]
    assert any(c.startswith("before · ") and "lexicon: " in c for c in shown), "the lexicon choices are shown"


def test_playground_greys_the_candidates_when_no_agent_fits() -> None:
    at = open_page("playground")
    at.text_input(key="playground_query").input("tell me a joke about cats").run()
    assert not at.exception, at.exception
    assert not at.success and at.warning
    assert all(w.value.startswith("No agent of this channel would answer") for w in at.warning)
    assert "selected_agent" not in at.session_state  # nothing highlighted as the answer
    # the greyed table's shown text (a Styler's display values): 4 decimals, as the plain table
    shown = pa.ipc.open_stream(at.dataframe[0].proto.arrow_data.styler.display_values).read_all().to_pandas()
    assert all(len(score.split(".")[1]) == 4 for score in shown["score"]), shown["score"].tolist()  # was 0.530000


def test_playground_adds_a_no_agent_test_in_the_channel_that_answered_none() -> None:
    """Bug (session 12 QA): a message no agent of the picked channel would answer offered only "(all agents)"
    as the test's channel, so the stored "expect no agent" test routed over every agent (and failed there)."""
    at = open_page("playground")
    web = [o for o in at.multiselect(key="pg_channels").options if "default/acme-web-stable" in o]
    at.multiselect(key="pg_channels").set_value(web).run()
    at.text_input(key="playground_query").input("tell me a joke about cats").run()
    assert not at.success and at.warning  # no agent of the channel would answer
    assert at.selectbox(key="new_test_channel").options == ["default/acme-web-stable"]
    at.button[0].click().run()
    assert not at.exception, at.exception
    test = at.session_state["history"].present.routing_tests[-1]
    assert (test.query, test.channel, test.expect_agent) == ("tell me a joke about cats", "default/acme-web-stable", "")


def test_playground_refuses_a_no_agent_test_with_a_capability() -> None:
    """A routing test expecting no agent cannot name a capability (the design refuses it): the form says so."""
    at, before = add_routing_test("tell me a joke about cats", new_test_capability="view-bill")
    assert any("expects no agent" in e.value for e in at.error)
    assert len(at.session_state["history"].present.routing_tests) == before


def test_playground_shows_the_chosen_agent_s_name_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bug (session 14 QA): the "Chosen agents" list put the agent's name (design text) into Markdown as it was,
    so an agent named `w*e*ather_[x](http://evil.example)` showed as "weather_x" with a link to the URL."""
    evil = "w*e*ather_[x](http://evil.example)"
    at = open_edited_acme(
        "playground", tmp_path, monkeypatch, "lmos-demo/agents.yaml", "  name: weather-agent\n", f'  name: "{evil}"\n'
    )
    web = [o for o in at.multiselect(key="pg_channels").options if "lmos-demo/acme-web-stable" in o]
    at.multiselect(key="pg_channels").set_value(web)
    at.multiselect(key="pg_routers").set_value(["statistical"]).run()
    at.text_input(key="playground_query").input("will it rain this weekend").run()
    assert not at.exception, at.exception
    chosen = [m.value for m in at.markdown if "→" in m.value]
    assert len(chosen) == 1 and escape(evil) in chosen[0], chosen
    assert "[x](http" not in chosen[0]


def test_a_broken_seed_file_is_said_under_its_uploader_and_the_page_goes_on() -> None:
    """Bug (session 14 QA): a seed file the reader refuses (an empty agent cell) raised out of the page: the
    error showed, but the routers, the Evaluate button and the Routing tests and What-if tabs were gone. Now
    the error shows under the uploader, Evaluate waits for a good seed file and the other tabs work."""
    at = open_page("evaluate")
    at.file_uploader(key="eval_seed").upload("seed.csv", b"query,agent\nshow my bill,\n", "text/csv").run()
    assert not at.exception, at.exception
    assert any("seed.csv:2: agent: empty agent cell" in e.value.replace("\\", "") for e in at.error)
    assert at.button(key="eval_run").disabled  # not run unseeded as if the seed file had been read
    at.button(key="run_tests").click().run()
    assert not at.exception, at.exception
    assert "4/4 routing tests passed" in at.success[0].value


def test_evaluate_says_at_once_what_eval_warns_or_refuses_in_an_upload() -> None:
    """Bug (session 14 QA): the page showed none of `eval`'s warnings (seed examples of agents the design lacks,
    ignored; rows naming a capability their agent does not have, scored as wrong: "Capability accuracy 0.0%"
    unexplained), and an unknown agent in the CSV was said only after Evaluate, under a progress bar left at
    "Routing 1 queries…". Now the warnings show with the uploads and an unknown agent disables Evaluate."""
    at = open_page("evaluate")
    at.radio(key="eval_source").set_value("Upload CSV").run()
    at.file_uploader(key="eval_upload").upload(
        "q.csv", b"query,agent,capability\nshow my bill,billing-agent-stable,bil\n"
    )
    at.file_uploader(key="eval_seed").upload("seed.csv", b"query,agent\nrain soon,ghost\n").run()
    assert not at.exception, at.exception
    shown = [w.value.replace("\\", "") for w in at.warning]
    assert "seed.csv: 1 seed example names no agent of the design (ghost); ignored" in shown
    assert any(w.startswith("q.csv: 1 row(s) name a capability their agent does not have") for w in shown), shown
    assert not at.button(key="eval_run").disabled
    at.file_uploader(key="eval_upload").set_value(("u.csv", b"query,agent\nshow my bill,ghost\n", "text/csv")).run()
    assert not at.exception, at.exception
    assert any("u.csv:2: agent: agent 'ghost' is not an agent" in e.value.replace("\\", "") for e in at.error)
    assert at.button(key="eval_run").disabled


def test_playground_holds_a_query_to_a_min_score_of_its_own() -> None:
    """Missing (session 14 QA): the Playground had no per-call min score (`route --min-score`): trying what a
    stricter or looser threshold does meant editing the design. The field holds this query to that number by
    the fit rule only (0 answers everything), as `--min-score` does; empty keeps each channel's threshold."""
    at = open_page("playground")
    at.multiselect(key="pg_routers").set_value(["statistical"])
    at.text_input(key="playground_query").input("tell me a joke about cats").run()
    assert not at.success and at.warning  # the channel's own threshold: no agent
    at.number_input(key="pg_min_score").set_value(0.0).run()
    assert not at.exception, at.exception
    assert at.success and not at.warning  # --min-score 0 answers everything
    at.text_input(key="playground_query").input("I want a PDF of my last bill")
    at.number_input(key="pg_min_score").set_value(1.0).run()
    assert not at.success
    assert any("threshold 1.00" in w.value for w in at.warning), [w.value for w in at.warning]


def test_a_test_added_under_a_per_query_min_score_keeps_it() -> None:
    """Bug (session 15 QA): a query routed under the Playground's min score and added as a routing test was
    stored without it, so the test ran at the channel's threshold and failed where the Playground showed it
    passing. The test now keeps the min score (`minScore`) and passes as shown."""
    at = open_page("playground")
    at.multiselect(key="pg_routers").set_value(["statistical"])
    at.text_input(key="playground_query").input("I want a PDF of my last bill")
    at.number_input(key="pg_min_score").set_value(1.0).run()
    assert not at.success  # no agent at 1.0: the form offers "no agent"
    before = len(at.session_state["history"].present.routing_tests)
    at.button[0].click().run()
    assert not at.exception, at.exception
    tests = at.session_state["history"].present.routing_tests
    assert len(tests) == before + 1 and tests[-1].min_score == 1.0 and tests[-1].expect_agent == ""
    from lmos_studio.routing.regression import run_routing_tests
    from lmos_studio.routing.statistical import StatisticalRouter

    design = at.session_state["history"].present
    assert run_routing_tests(design, router=StatisticalRouter(), tests=[tests[-1]])[0].passed


def test_evaluate_shows_a_channel_key_with_backticks_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bug (session 14 QA): the lexicon, calibration and what-if captions put the channel's key (design text)
    between single backticks, so a Channel named "acme`**web**`[l](http://e.example)" closed the code span and
    showed bold text and a link; now the key is a code span that holds any backticks (markdown.code)."""
    evil = "acme`**web**`[l](http://e.example)"
    channel = "operator-fixtures/acme-web-channel-v1.yaml"
    at = open_edited_acme(
        "evaluate", tmp_path, monkeypatch, channel, "  name: acme-web-stable\n", f'  name: "{evil}"\n'
    )
    at.multiselect(key="eval_routers").set_value(["statistical"])
    at.radio(key="eval_source").set_value("Upload CSV").run()
    rows = f'query,agent,channel\nshow my bill,billing-agent-stable,"default/{evil}"\n'
    at.file_uploader(key="eval_upload").upload("q.csv", rows.encode()).run()
    at.button(key="eval_run").click().run()
    assert not at.exception, at.exception
    lexicon = [c.value for c in at.caption if "lexicon" in c.value]
    assert lexicon and lexicon[0].startswith(code(f"default/{evil}") + ": "), lexicon


def test_whatif_tab_names_a_routing_test_it_cannot_compare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bug (session 14 QA): a routing test naming a channel the design lacks made the What-if tab an error."""
    lost = '    - {query: "rain tomorrow", channel: nosuch/chan, expectAgent: weather-agent}\n'
    at = open_edited_acme(
        "evaluate", tmp_path, monkeypatch, "studio.yaml", "  routingTests:\n", "  routingTests:\n" + lost
    )
    at.selectbox(key="whatif_router").set_value("statistical")
    at.multiselect(key="wi_remove").set_value(["news-agent"]).run()
    at.button(key="wi_run").click().run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    assert any("not compared" in w.value and "nosuch/chan" in w.value for w in at.warning)


def test_playground_refuses_a_routing_test_that_could_never_pass() -> None:
    """Bug (session 14 QA): the add-test form took any agent of the design and any typed capability, so a typo
    ("view-bil") or another channel's agent made a test that fails on every run; now the form says why and
    adds nothing, as `test` would report it."""
    at, before = add_routing_test("I want a PDF of my last bill", new_test_capability="download-bil")
    assert any("expectCapability 'download-bil' is not a capability" in e.value.replace("\\", "") for e in at.error)
    assert len(at.session_state["history"].present.routing_tests) == before
    at.selectbox(key="new_test_agent").set_value("weather-agent")
    at.text_input(key="new_test_capability").input("")
    at.button[0].click().run()
    assert any("expectAgent 'weather-agent' is not an agent of" in e.value.replace("\\", "") for e in at.error)
    assert len(at.session_state["history"].present.routing_tests) == before


def test_a_router_that_fails_leaves_no_progress_bar_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bug (session 14 QA): when a router failed (the LLM router without an endpoint), the error showed under a
    progress bar left at "Routing 40 queries…", as if the run were still going; now the bar goes."""
    for name in ("LMOS_STUDIO_LLM_API_KEY", "OPENAI_API_KEY", "LMOS_STUDIO_LLM_BASE_URL", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    at = open_page("evaluate")
    at.multiselect(key="eval_routers").set_value(["llm"]).run()
    at.button(key="eval_run").click().run()
    assert not at.exception, at.exception
    assert any("needs an endpoint" in e.value for e in at.error), [e.value for e in at.error]
    assert not [p for p in at.get("progress") if "Routing" in str(p.proto.text)]


def test_evaluate_offers_first_the_sample_set_written_for_the_open_design(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bug (session 16 QA): the Evaluate page always preselected acme-queries.csv, so on any other design it
    opened with an error ("agent 'billing-agent-stable' is not an agent of the design") and a disabled button.
    It now puts first the sample sets whose agents are the design's; on a design no sample set is written for
    it opens on "Upload CSV" and says so."""
    monkeypatch.setenv("LMOS_STUDIO_DESIGN", str(ROOT / "sample_networks" / "router-benchmark.yaml"))
    get_settings.cache_clear()
    at = open_page("evaluate")
    assert at.selectbox(key="eval_sample").value == "router-benchmark-queries.csv"
    assert not at.error and not at.button(key="eval_run").disabled
    lonely = tmp_path / "lonely.yaml"
    lonely.write_text(
        "apiVersion: lmos.eclipse/v1\nkind: Agent\nmetadata: {name: lonely-agent}\n"
        "spec: {providedCapabilities: [{name: x, version: 1.0.0, description: does x}]}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("LMOS_STUDIO_DESIGN", str(lonely))
    get_settings.cache_clear()
    at = open_page("evaluate")
    assert at.radio(key="eval_source").value == "Upload CSV" and not at.error
    assert any("No sample set is written for this design" in c.value for c in at.caption)


def test_the_playground_starts_on_a_stable_channel() -> None:
    """The first channel in order was acme's canary (what a few percent of customers reach); the Playground now
    starts on the first channel of the stable subset unless a channel is selected on the Designer's canvas."""
    at = open_page("playground")
    assert at.multiselect(key="pg_channels").value == ["default/acme-ivr-stable  (acme/ivr/stable)"]


def test_the_playground_starts_on_the_channel_selected_in_the_designer() -> None:
    from lmos_studio.ui import state

    at = AppTest.from_file(str(ROOT / "app_pages" / "playground.py"), default_timeout=60)
    at.session_state[state.SELECTED_CHANNEL] = "default/acme-ivr-canary"
    at.run()
    assert at.multiselect(key="pg_channels").value == ["default/acme-ivr-canary  (acme/ivr/canary)"]


def open_app_on(page: str) -> AppTest:
    """The whole app (its sidebar too) on `page`, the acme sample open."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def open_sample(at: AppTest, name: str) -> None:
    at.sidebar.selectbox(key="sample_choice").select(name).run()
    at.sidebar.button(key="open_sample").click().run()
    assert not at.exception, at.exception
    assert at.session_state["history"].present.name == name


def test_evaluate_takes_the_new_design_s_set_when_another_design_opens() -> None:
    """Bug: Evaluate kept the previous design's query set: with acme open (Set acme-queries.csv), opening the
    sample router-benchmark left Set at acme-queries.csv, the page said "channel 'default/acme-web-stable' is not
    a Channel of this design" and Evaluate was disabled. The new design's default set is chosen now, as in a
    fresh session."""
    at = open_app_on("evaluate")
    assert at.selectbox(key="eval_sample").value == "acme-queries.csv"
    open_sample(at, "router-benchmark")
    assert at.selectbox(key="eval_sample").value == "router-benchmark-queries.csv"
    assert not at.error and not at.button(key="eval_run").disabled, [e.value for e in at.error]
    open_sample(at, "faulty")  # no sample set is written for it: an upload, as in a fresh session
    assert at.radio(key="eval_source").value == "Upload CSV"
    open_sample(at, "acme")  # and back: acme's own set, not the upload the last design needed
    assert at.radio(key="eval_source").value == "Sample set"
    assert at.selectbox(key="eval_sample").value == "acme-queries.csv"


def test_the_playground_selects_the_new_design_s_channel_when_another_design_opens() -> None:
    """Bug: the Playground lost its channel selection when another design opened: acme → Playground, open the
    sample faulty → Channels empty, "Pick at least one channel and one router.". The new design's default
    channel is selected now, as on a first visit."""
    at = open_app_on("playground")
    at.text_input(key="playground_query").input("show me my bill").run()
    assert at.multiselect(key="pg_channels").value == ["default/acme-ivr-stable  (acme/ivr/stable)"]
    open_sample(at, "faulty")
    fresh = AppTest.from_file(str(ROOT / "app_pages" / "playground.py"), default_timeout=60)
    fresh.session_state["history"] = at.session_state["history"]
    fresh.run()  # a first visit on faulty: its default channel
    assert at.multiselect(key="pg_channels").value == fresh.multiselect(key="pg_channels").value != []
    assert not any("Pick at least one channel" in w.value for w in at.warning), [w.value for w in at.warning]


def test_the_evaluate_channel_and_what_if_picks_are_the_new_design_s_when_another_opens() -> None:
    """The Evaluate page's channel for rows without one and the What-if picks named the old design's channels
    and agents after another design opened; each design starts on its own defaults."""
    from lmos_studio.ui import state

    at = open_app_on("evaluate")
    channel = at.selectbox(key=state.EVAL_CHANNEL)
    channel.select(channel.options[-1]).run()
    removed = at.multiselect(key="wi_remove")
    removed.select(removed.options[0]).run()
    assert state.EVAL_CHANNEL in at.session_state and at.session_state["wi_remove"]
    open_sample(at, "router-benchmark")
    assert at.selectbox(key=state.EVAL_CHANNEL).index == 0  # the default: each row's own channel
    assert at.multiselect(key="wi_remove").value == []


def test_typed_text_of_the_playground_and_what_if_forms_is_dropped_when_another_design_opens() -> None:
    """The Playground's add-a-routing-test fields, What-if's 'to channel label' and 'subset', and the search
    field a large chooser shows (key + widgets.SEARCH_SUFFIX) kept what was typed for the old design when another
    opened; they are among the choices another design resets now."""
    from lmos_studio.ui import state
    from lmos_studio.ui.widgets import SEARCH_SUFFIX

    at = open_app_on("evaluate")
    typed = (
        state.NEW_TEST_NAME,
        state.NEW_TEST_CAPABILITY,
        state.WHATIF_MOVE_CHANNEL,
        state.WHATIF_MOVE_SUBSET,
        state.WHATIF_REMOVE + SEARCH_SUFFIX,
        state.DESIGNER_FILTERS[0] + SEARCH_SUFFIX,
    )
    for key in typed:
        at.session_state[key] = "web"
    open_sample(at, "router-benchmark")
    assert [key for key in typed if key in at.session_state if at.session_state[key]] == []


def test_the_misroutes_table_shows_queries_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """st.table renders each cell as Markdown: a labelled query 'show my bill **bold** [link](http://evil.test)
    :red[alarm]' showed in the Misroutes table with bold text, a live link and red text, and so would an example
    text quoted in the evidence (registry text). The cells are escaped now and show as written."""
    from lmos_studio.ui import routing

    labelled = tmp_path / "evil.csv"
    query = "show my bill **bold** [link](http://evil.test) :red[alarm]"
    labelled.write_text(f"query,agent\n{query},news-agent\nwhat is the weather in Berlin,weather-agent\n")
    monkeypatch.setattr(routing, "sample_labelled_sets", lambda: {"evil.csv": labelled})
    at = open_page("evaluate")
    at.multiselect(key="eval_routers").set_value(["statistical"]).run()
    at.button(key="eval_run").click().run()
    assert not at.exception, at.exception
    misroutes = at.table[0].value
    assert list(misroutes["query"]) == [escape(query)]
    assert misroutes["evidence"].iloc[0].startswith("similar example\\: ")  # quoted examples: escaped too


BIDI_AGENT = "weather\u202etnega"  # shown as it is, a browser draws it "weatheragent"


def _shown_cells(at: AppTest) -> list[str]:
    """Every text cell of every table on the page, as it is sent to the browser (a Styler's display values too)."""
    cells = []
    for frame in at.dataframe:
        arrow = frame.proto.arrow_data
        data = arrow.styler.display_values if arrow.styler.display_values else arrow.data
        table = pa.ipc.open_stream(data).read_all()
        cells += [str(v) for column in table.columns for v in column.to_pylist() if isinstance(v, str)]
    cells += [str(v) for t in at.table for v in t.value.to_numpy().ravel() if isinstance(v, str)]
    return cells


def test_playground_and_evaluate_tables_show_a_bidi_override_as_its_escape(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Playground's ranked and nearest-candidate tables, Evaluate's per-agent table, the routing tests' and
    the What-if tables showed an agent named 'weather<U+202E>tnega' as it was (the rest of the cell turned
    around), though the Overview and the Designer write such characters as escapes. Every table is built
    through resources.table now."""
    from lmos_studio.ui import routing

    labelled = tmp_path / "bidi.csv"
    labelled.write_text(
        (ROOT / "sample_networks" / "acme-queries.csv").read_text().replace("weather-agent", BIDI_AGENT)
    )
    monkeypatch.setattr(routing, "sample_labelled_sets", lambda: {"bidi.csv": labelled})
    design = tmp_path / "acme"
    shutil.copytree(ROOT / "sample_networks" / "acme", design)
    for file in ("lmos-demo/agents.yaml", "studio.yaml"):
        (design / file).write_text((design / file).read_text().replace("weather-agent", BIDI_AGENT))
    monkeypatch.setenv("LMOS_STUDIO_DESIGN", str(design))
    get_settings.cache_clear()

    at = open_page("playground")
    web = [o for o in at.multiselect(key="pg_channels").options if "lmos-demo/acme-web-stable" in o]
    at.multiselect(key="pg_channels").set_value(web)
    at.multiselect(key="pg_routers").set_value(["statistical"]).run()
    at.text_input(key="playground_query").input("will it rain this weekend").run()
    assert not at.exception, at.exception
    ranked = _shown_cells(at)
    at.text_input(key="playground_query").input("tell me a joke about cats").run()
    assert not at.success and at.warning  # the nearest candidates, greyed
    nearest = _shown_cells(at)

    at = open_page("evaluate")
    at.multiselect(key="eval_routers").set_value(["statistical"]).run()
    at.button(key="eval_run").click().run()
    at.button(key="run_tests").click().run()
    at.selectbox(key="whatif_router").set_value("statistical")
    at.multiselect(key="wi_remove").set_value([BIDI_AGENT]).run()
    at.button(key="wi_run").click().run()
    assert not at.exception, at.exception
    assert len(at.dataframe) >= 5  # routers, per agent, routing tests, what-if channels and routes
    evaluated = _shown_cells(at)
    for where, cells in (("ranked", ranked), ("nearest", nearest), ("evaluate", evaluated)):
        assert any("weather\\u202etnega" in c for c in cells), (where, cells)
        assert not [c for c in cells if "\u202e" in c], where
