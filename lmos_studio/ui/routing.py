"""Widget groups of the Playground and Evaluate pages: route panels, labelled-set runs, routing tests, what-if.

Each function turns widget values into library calls and shows the results; text that came from agent
descriptions or CSVs is shown through dataframes, tables and plain text, never as HTML. Every table is built by
`resources.table`, which writes a bidi override or another character that is not printable as its escape.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import altair as alt
import streamlit as st
from pydantic import ValidationError

from lmos_studio.errors import LmosStudioError
from lmos_studio.graph import GraphFilter, Highlight, highlight_route
from lmos_studio.markdown import code
from lmos_studio.markdown import escape as md
from lmos_studio.model import DEFAULT_SUBSET, Design, RoutingTest
from lmos_studio.out_of_scope import add_out_of_scope, add_rows, listed, remove_out_of_scope
from lmos_studio.routing.base import Match, RouteResult
from lmos_studio.routing.evaluate import (
    checked_groups,
    evaluate,
    evaluation_report,
    match_rows,
    paired_reports,
    reports_json,
    unknown_capabilities_warning,
    unknown_seed_agents_warning,
)
from lmos_studio.routing.labelled import LabelledQuery, SeedRow, sample_labelled_sets, written_for
from lmos_studio.routing.metrics import describe_intervals
from lmos_studio.routing.regression import (
    junit_xml,
    outcome_rows,
    repeated_test,
    run_routing_tests,
    unreachable_reason,
)
from lmos_studio.routing.table import ALL_AGENTS, agent_key
from lmos_studio.ui import resources, state, widgets
from lmos_studio.whatif import Edit, channel_rows, route_rows, what_if

ALL_AGENTS_LABEL = "(all agents)"
NO_AGENT_CHOICE = "(no agent should answer)"
RESULTS = "evaluate_results"  # session key: (signature, [evaluation_report]) of the last labelled-set run
TEST_RESULTS = "routing_test_results"
WHATIF_RESULT = "whatif_result"
MAX_MISROUTE_ROWS = 100  # misroutes shown as a table; the download has all of them
PROGRESS_STEPS = 100  # progress bar updates per run (not one per query)


def channel_options(design: Design) -> dict[str, str]:
    """Label → channel key; a design without Channels routes over all agents."""
    options = {f"{c.key}  ({c.tenant or '-'}/{c.channel or '-'}/{c.subset})": c.key for c in design.channels}
    return options or {ALL_AGENTS_LABEL: ALL_AGENTS}


def default_channels(options: dict[str, str], design: Design) -> list[str]:
    """The Playground starts with one channel: the one selected in the Designer, else the stable subset's first
    by key (what customers reach; the design's first was often a canary), else the design's first."""
    wanted = st.session_state.get(state.SELECTED_CHANNEL, "")
    stable = min((c.key for c in design.channels if c.subset == DEFAULT_SUBSET), default="")
    for choice in (wanted, stable):
        picked = [label for label, key in options.items() if choice and key == choice]
        if picked:
            return picked[:1]
    return list(options)[:1]


def router_picker(key: str, *, multi: bool = True) -> list[str]:
    names = resources.router_names()
    if not multi:
        return [st.selectbox("Router", names, key=key)]
    picked: list[str] = st.multiselect(
        "Routers", names, default=names[:1], key=key, help="auto = the best router available offline on this install"
    )
    return picked


def route_panel(
    design: Design, query: str, channel_keys: Sequence[str], routers: Sequence[str], *, min_score: float | None = None
) -> dict[str, Match]:
    """Ranked answers per channel, routers side by side; returns channel key → chosen match (first router).
    `min_score` holds every answer to that threshold by the fit rule only (`route --min-score`)."""
    chosen: dict[str, Match] = {}
    for key in channel_keys:
        st.subheader(md(key) if key else ALL_AGENTS_LABEL, divider="gray")
        for column, router in zip(st.columns(len(routers)), routers, strict=True):
            with column:
                try:
                    result = resources.route_query(router, design, key, query).with_threshold(min_score)
                except LmosStudioError as exc:
                    widgets.show_error(exc)
                    continue
                best = result.best
                st.markdown(f"**{md(router)}** · answered by {md(result.router)} · {result.latency_ms:.1f} ms")
                lexicon = resources.lexicon_summary(router, design, key)
                if lexicon:
                    st.caption(md(lexicon))
                if best is None:
                    st.warning(no_agent_text(result), icon=":material/block:")
                    if result.matches:
                        st.caption("Nearest candidates (none would answer):")
                        st.dataframe(
                            resources.table(match_rows(result))
                            .to_pandas()
                            .style.format({"score": "{:.4f}"})
                            .set_properties(color="#9e9e9e"),
                            hide_index=True,
                            width="stretch",
                        )
                    continue
                chosen.setdefault(key, best)
                st.success(
                    f"{md(best.agent)} · {md(best.capability)} · score {best.score:.3f}", icon=":material/check:"
                )
                if result.fit is not None and result.threshold is not None:
                    st.caption(fit_text(result))
                st.dataframe(resources.table(match_rows(result)), hide_index=True, width="stretch")
                if result.usage:
                    st.caption(" · ".join(f"{k}: {v}" for k, v in result.usage.items()))
    return chosen


def no_agent_text(result: RouteResult) -> str:
    """What the Playground says when no agent of a channel would answer, and why (which signal)."""
    if result.rejected_by == "fit":
        return (
            f"No agent of this channel would answer: the message fits nothing the channel handles "
            f"(fit {result.fit:.2f}, below the channel's threshold {result.threshold:.2f})."
        )
    if result.rejected_by == "listed":
        return "No agent of this channel would answer: the design lists this message as out of scope for it."
    if result.rejected_by == "declined":
        return "No agent of this channel would answer: the LLM found none that fits this message."
    if result.rejected_by == "elsewhere":
        return (
            f'No agent of this channel would answer: the message is nearer to {result.elsewhere_kind} ("'
            f'{md(result.elsewhere_text)}") than to anything the channel handles (by {result.elsewhere:.2f}, '
            f"more than the {result.elsewhere_limit:.2f} it allows)."
        )
    return "No agent of this channel would answer."


def fit_text(result: RouteResult) -> str:
    """The caption of an answer, in words: its fit against the channel's threshold, and where the "nearer
    elsewhere" check is on, how the message compares with requests for other services (`elsewhere` is the
    cosine to the nearest such request minus the cosine to the channel's nearest text; routing/threshold.py)."""
    text = f"Answers: fit {result.fit:.2f}, at or above the channel's threshold {result.threshold:.2f}"
    gap, limit = result.elsewhere, result.elsewhere_limit
    if gap is None or limit is None:
        return text + "."
    if gap <= 0:
        text += f" · nearer to this channel than to any other service's request (by {-gap:.2f})"
    else:
        text += f" · a request for another service is a little nearer (by {gap:.2f})"
    return text + f"; no agent would answer were another service nearer by more than {limit:.2f}."


def highlight(design: Design, chosen: dict[str, Match]) -> None:
    """Mark the chosen agents and their channels for the Designer graph (it reads these session keys)."""
    graph, _ = resources.design_graph(design)
    parts = [
        highlight_route(graph, agent=agent_key(design, key, m.agent), capability=m.capability, channel=key)
        for key, m in chosen.items()
    ]
    st.session_state[state.HIGHLIGHT] = sorted({n for p in parts for n in p.nodes})  # every routed channel
    st.session_state.pop(state.SELECTED_AGENT, None)  # a selected agent would hide all routes but its own


def route_graph(design: Design, chosen: dict[str, Match]) -> None:
    """The design graph with each channel's chosen agent highlighted."""
    graph, _ = resources.design_graph(design)
    parts = [
        highlight_route(graph, agent=agent_key(design, key, m.agent), capability=m.capability, channel=key)
        for key, m in chosen.items()
    ]
    if not parts:
        return
    union = Highlight(
        nodes=frozenset().union(*(p.nodes for p in parts)),
        edges=frozenset().union(*(p.edges for p in parts)),
        focus=parts[0].focus,
        note="; ".join(p.note for p in parts if p.note),
    )
    st.iframe(resources.graph_html(design, GraphFilter(), union), height=460)


ADD_TEST_NOTICE = "pg_add_test_notice"


def add_test_form(
    design: Design,
    query: str,
    chosen: dict[str, Match],
    routed: Sequence[str] = (),
    *,
    min_score: float | None = None,
) -> None:
    """Store (query, channel, expected agent[, capability]) as a routing test in the design. `routed` are the
    channels the query was routed in: a channel where no agent would answer is offered too (its test then
    expects no agent there; offering only the channels that chose an agent filed such tests under all agents).
    A query routed under a per-query `min_score` is kept with it (the test's `minScore`), so it passes as shown."""
    widgets.pending_toast(ADD_TEST_NOTICE)
    with st.form("add_routing_test", clear_on_submit=False):
        st.markdown("**Add as routing test**")
        if min_score is not None:
            st.caption(f"Kept with this query's min score {min_score:g} (the test's minScore).")
        keys = list(dict.fromkeys([*routed, *chosen])) or [ALL_AGENTS]
        key = st.selectbox("Channel", keys, format_func=lambda k: k or ALL_AGENTS_LABEL, key="new_test_channel")
        agents = [NO_AGENT_CHOICE, *sorted({a.name for a in design.agents})]
        first = chosen[key].agent if key in chosen else NO_AGENT_CHOICE
        agent = st.selectbox(
            "Expected agent", agents, index=agents.index(first) if first in agents else 0, key="new_test_agent"
        )
        capability = st.text_input("Expected capability (optional)", key=state.NEW_TEST_CAPABILITY)
        name = st.text_input("Test name (optional)", key=state.NEW_TEST_NAME)
        if st.form_submit_button("Add as routing test", icon=":material/playlist_add:") and agent:
            expected = "" if agent == NO_AGENT_CHOICE else agent
            try:  # the model's own rules (a test expecting no agent names no capability: it could never pass)
                test = RoutingTest(
                    query=query,
                    expect_agent=expected,
                    channel=key,
                    expect_capability=capability.strip(),
                    name=name.strip(),
                    min_score=min_score,
                )
            except ValidationError as exc:
                st.error(exc.errors()[0]["msg"].removeprefix("Value error, "))
                return
            repeated = repeated_test(design, test)
            if repeated is not None:  # a copy would only run the same check twice (lint warns of it)
                st.info(f"The design already has this test (routing test {repeated}).")
                return
            problem = unreachable_reason(test, resources.routing_table_of(design, key))
            if problem:  # a typo or another channel's agent: it would fail on every run
                st.error(md(problem))
                return
            state.edit(design.replace(routing_tests=(*design.routing_tests, test)))
            # the page above and below (its count, the sidebar's unsaved changes) shows the edited design
            added = f"Routing test added ({len(design.routing_tests) + 1} in the design)"
            widgets.rerun_with_toast(ADD_TEST_NOTICE, added)


OUT_OF_SCOPE_NOTICE = "pg_out_of_scope_notice"


def out_of_scope_form(design: Design, query: str, routed: Sequence[str]) -> None:
    """List the query in the design as a message a channel must not answer (`spec.routing.outOfScope`): it is
    then answered "no agent" there, and so are messages nearer to it than to anything the channel handles."""
    widgets.pending_toast(OUT_OF_SCOPE_NOTICE)
    with st.form("add_out_of_scope", clear_on_submit=False):
        st.markdown("**Not for this channel**")
        st.caption(
            "List this message as out of scope (spec.routing.outOfScope): the channel answers it with no agent, "
            "and messages nearer to it than to anything the channel handles too. It never lets through a "
            "message that was rejected before."
        )
        keys = [*dict.fromkeys(k for k in routed if k), ""]
        key = st.selectbox(
            "Channel",
            keys,
            format_func=lambda k: k or "every channel",
            key="new_oos_channel",
        )
        if st.form_submit_button("List as out of scope", icon=":material/block:"):
            if listed(design, query, key):
                st.info("The design already lists this message there.")
                return
            try:
                changed = add_out_of_scope(design, [query], channel=key)
            except LmosStudioError as exc:
                widgets.show_error(exc)
                return
            state.edit(changed)
            # the answers above were routed under the design before the edit: route them again
            widgets.rerun_with_toast(
                OUT_OF_SCOPE_NOTICE, f"Listed as out of scope ({len(changed.routing.out_of_scope)} in the design)"
            )


def listed_out_of_scope_panel(design: Design) -> None:
    """The design's out-of-scope list (`spec.routing.outOfScope`), with a way to take messages back."""
    examples = design.routing.out_of_scope
    with st.expander(f"Listed as out of scope ({len(examples)})", expanded=False):
        if not examples:
            st.caption("None yet: list a message with 'Not for this channel', or from the Evaluate page.")
            return
        st.dataframe(
            resources.table([{"message": e.text, "channel": e.channel or "every channel"} for e in examples]),
            hide_index=True,
            width="stretch",
        )
        labels = {f"{e.text}  ·  {e.channel or 'every channel'}": e for e in examples}
        picked = st.multiselect("Take back", list(labels), key="oos_remove_pick")
        if st.button("Remove from the list", key="oos_remove", disabled=not picked):
            changed = design
            try:
                for label in picked:
                    example = labels[label]
                    changed = remove_out_of_scope(changed, [example.text], channel=example.channel)
            except LmosStudioError as exc:
                widgets.show_error(exc)
                return
            state.edit(changed)
            st.session_state[OUT_OF_SCOPE_NOTICE] = f"Removed {len(picked)} from the out-of-scope list"
            st.rerun()


def list_missed_out_of_scope(missed: Sequence[Sequence[str]], router: str) -> None:
    """Offer to list an evaluation's out-of-scope rows that an agent answered in the design, each for the
    channel it was routed in."""
    st.markdown(f"**Out-of-scope rows an agent answered** ({len(missed)})")
    st.caption(
        "List them in the design as out of scope (spec.routing.outOfScope): each is then answered with no agent "
        "when it comes again. This set will then contain them: measure on other rows to see what it buys."
    )
    label = "List it as out of scope" if len(missed) == 1 else f"List these {len(missed)} as out of scope"
    if not st.button(label, key=f"list_oos_{router}"):
        return
    design = state.current_design()
    try:
        changed = add_rows(design, [(text, channel) for text, channel in missed])
    except LmosStudioError as exc:
        widgets.show_error(exc)
        return
    added = len(changed.routing.out_of_scope) - len(design.routing.out_of_scope)
    state.edit(changed)
    st.toast(f"Listed {added} messages as out of scope ({len(changed.routing.out_of_scope)} in the design)")


def labelled_set_picker(design: Design) -> tuple[str, bytes] | None:
    """A labelled CSV: one of the samples (and lmos-router's train.csv when present), those written for the
    design's agents first, or an upload (first when no sample set is written for the design)."""
    samples = sample_labelled_sets()
    fitting = [name for name, path in samples.items() if _written_for(design, path)]
    names = fitting + [name for name in samples if name not in fitting]
    source = st.radio(
        "Labelled queries",
        ["Sample set", "Upload CSV"],
        index=0 if fitting else 1,
        horizontal=True,
        key=state.EVAL_SOURCE,
    )
    if not fitting:
        st.caption("No sample set is written for this design's agents: upload a labelled CSV of your own.")
    if source == "Sample set":
        name = st.selectbox("Set", names, key=state.EVAL_SAMPLE)
        return (str(samples[name]), samples[name].read_bytes()) if name else None
    upload = st.file_uploader(
        "CSV with instruction|query|text, agent, [capability|intent], [channel]",
        type=["csv"],
        key="eval_upload",
        max_upload_size=widgets.upload_limit_mb(),
    )
    return (upload.name, upload.getvalue()) if upload is not None else None


def _written_for(design: Design, path: Path) -> bool:
    """Whether a sample set's labelled agents are all agents of the design (its rows could all be routed)."""
    try:
        queries = resources.labelled_file(str(path), path.stat().st_mtime)
    except (LmosStudioError, OSError):
        return False
    return written_for((a.name for a in design.agents), queries)


def seed_picker(design: Design) -> tuple[SeedRow, ...] | None:
    """Seed examples from an optional upload; None (said under the uploader) when the file cannot be read.
    Examples of agents the design lacks are ignored, with a warning (as `eval --seed` prints)."""
    upload = st.file_uploader(
        "Seed examples (optional: CSV, or lmos-router seed.json)",
        type=["csv", "json"],
        key="eval_seed",
        max_upload_size=widgets.upload_limit_mb(),
    )
    if upload is None:
        return ()
    try:
        seed = resources.seed_examples(upload.getvalue(), upload.name)
    except LmosStudioError as exc:  # the rest of the page (routers, the other tabs) still works
        widgets.show_error(exc)
        return None
    warning = unknown_seed_agents_warning(design, seed, source=upload.name)
    if warning:
        st.warning(md(warning), icon=":material/warning:")
    return seed


def check_queries(design: Design, queries: Sequence[LabelledQuery], channel: str, source: str) -> bool:
    """Whether the labelled rows can be evaluated in the design: an unknown channel or agent is said at once
    (not after pressing Evaluate), and rows naming a capability their agent lacks get `eval`'s warning."""
    try:
        checked_groups(design, queries, channel=channel, source=source)
    except LmosStudioError as exc:
        widgets.show_error(exc)
        return False
    warning = unknown_capabilities_warning(design, queries, channel=channel, source=source)
    if warning:
        st.warning(md(warning), icon=":material/warning:")
    return True


def run_evaluations(
    design: Design,
    queries: Sequence[LabelledQuery],
    routers: Sequence[str],
    *,
    seed: tuple[SeedRow, ...],
    channel: str,
    source: str,
    calibrate: bool = False,
) -> list[dict[str, Any]]:
    """Run each router with a progress bar (left at 100 % with the count when done); plain reports back."""
    total = len(queries) * len(routers)
    bar = st.progress(0.0, text=f"Routing {total} queries…")
    step = max(1, total // PROGRESS_STEPS)
    results = []
    for index, router in enumerate(routers):
        offset = index * len(queries)

        def progress(done: int, _n: int, offset: int = offset, router: str = router) -> None:
            if done % step == 0 or done == len(queries):
                bar.progress((offset + done) / total, text=f"{router}: {offset + done}/{total} queries")

        try:
            evaluation = evaluate(
                design,
                queries,
                router=resources.cached_router(router, design),
                seed=seed,
                channel=channel,
                source=source,
                progress=progress,
                calibrate=calibrate,
            )
        except LmosStudioError:
            bar.empty()  # the caller shows the error: not under a bar that reads as a run still going
            raise
        results.append(evaluation_report(evaluation))
    bar.progress(1.0, text=f"Done: {total}/{total} queries routed")
    return results


def confusion_chart(cells: Sequence[dict[str, Any]]) -> alt.LayerChart:
    """The confusion matrix as a heat map (expected rows, predicted columns), counts written in the cells."""
    base = alt.Chart(resources.table(cells).to_pandas()).encode(
        x=alt.X("predicted:N", title="routed to"), y=alt.Y("expected:N", title="expected")
    )
    rect = base.mark_rect().encode(
        color=alt.Color("count:Q", scale=alt.Scale(scheme="blues")), tooltip=["expected", "predicted", "count"]
    )
    text = base.mark_text().encode(text=alt.condition("datum.count > 0", "count:Q", alt.value("")))
    chart: alt.LayerChart = rect + text
    return chart


def show_evaluation(report: dict[str, Any]) -> None:
    """One router's run (an `evaluation_report`): figures, per agent, confusion, misroutes, downloads."""
    m, router = report["summary"], report["router"]
    cols = st.columns(5)
    cols[0].metric("Accuracy", f"{m['accuracy']:.1%}", help="over all rows; 'no agent' is right for out-of-scope rows")
    capability = m["capability_accuracy"]
    cols[1].metric("Capability accuracy", "—" if capability is None else f"{capability:.1%}")
    cols[2].metric("Macro F1", "—" if m["macro_f1"] is None else f"{m['macro_f1']:.3f}")
    cols[3].metric("Latency p50", f"{m['p50_ms']:.2f} ms")
    cols[4].metric("Latency p95", f"{m['p95_ms']:.2f} ms")
    scope = st.columns(3)
    scope[0].metric("In-scope accuracy", _share(m["in_scope_accuracy"]), help="rows that name an agent")
    scope[1].metric(
        f"Out-of-scope recall ({report['contract']['n_out_of_scope']} rows)",
        _share(m["out_of_scope_recall"]),
        help="rows with an empty agent cell answered 'no agent'",
    )
    scope[2].metric("False rejects", m["false_rejects"], help="in-scope rows answered 'no agent'")
    intervals = describe_intervals(report["contract"].get("intervals", {}))
    if intervals:
        st.caption(f"{md(intervals)} — where the true figures likely lie; few rows make them wide.")
    if report["usage"]:
        st.caption(
            "Usage over the set: "
            + " · ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in report["usage"].items())
        )
    for key, lexicon in report["contract"].get("lexicon", {}).items():
        st.caption(f"{code(key or ALL_AGENTS_LABEL)}: {md(lexicon)}")
    for key, calibration in report["calibrations"].items():
        st.caption(
            f"Threshold calibrated on this set for {code(key or ALL_AGENTS_LABEL)}: "
            + " · ".join(f"{k} {v}" for k, v in calibration.items())
            + " (optimistic: the same queries are scored)"
        )
    left, right = st.columns(2)
    left.markdown("**Per agent**")
    left.dataframe(resources.table(report["per_agent"]), hide_index=True, width="stretch")
    right.markdown("**Confusion matrix** (`(none)`: no agent)")
    right.altair_chart(confusion_chart(report["confusion"]), width="stretch")
    rows = report["misroutes"]
    st.markdown(f"**Misroutes** ({len(rows)})")
    if rows:
        # st.table renders each cell as Markdown: queries and the example texts quoted in the evidence are escaped
        shown = [{k: md(v) if isinstance(v, str) else v for k, v in row.items()} for row in rows[:MAX_MISROUTE_ROWS]]
        st.table(resources.table(shown).to_pandas().set_index("line"))
        if len(rows) > MAX_MISROUTE_ROWS:
            st.caption(f"First {MAX_MISROUTE_ROWS} of {len(rows)}; the CSV download has all of them.")
    else:
        st.success("No misroutes.")
    if report.get("missed_out_of_scope"):
        list_missed_out_of_scope(report["missed_out_of_scope"], router)
    dl1, dl2 = st.columns(2)
    dl1.download_button(
        "Download predictions (CSV)",
        report["csv"],
        file_name=f"eval-{router}.csv",
        mime="text/csv",
        key=f"dl_csv_{router}",
        on_click="ignore",
    )
    dl2.download_button(
        "Download figures (JSON)",
        report["json"],
        file_name=f"eval-{router}.json",
        mime="application/json",
        key=f"dl_json_{router}",
        on_click="ignore",
    )


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def show_evaluations(reports: Sequence[dict[str, Any]]) -> None:
    """Routers side by side (one table), then the details of each in its own tab."""
    st.dataframe(resources.table([r["summary"] for r in reports]), hide_index=True, width="stretch")
    for pair in paired_reports(reports):
        (st.success if pair.significant else st.info)(md(pair.verdict()), icon=":material/compare_arrows:")
    for tab, report in zip(st.tabs([r["router"] for r in reports]), reports, strict=True):
        with tab:
            show_evaluation(report)
    st.download_button(
        "Download all routers (JSON)",
        reports_json(reports),
        file_name="evaluation.json",
        mime="application/json",
        key="dl_all",
        on_click="ignore",
    )


def routing_tests_panel(design: Design, router: str) -> None:
    """Run the design's routing tests; pass/fail per test and a JUnit download."""
    if not design.routing_tests:
        st.info("This design has no routing tests yet: add some from the Playground.")
        return
    if st.button(f"Run {len(design.routing_tests)} routing tests", key="run_tests"):
        try:
            outcomes = run_routing_tests(design, router=resources.cached_router(router, design))
            xml = junit_xml(outcomes, suite=design.name, router=router)
            st.session_state[TEST_RESULTS] = (design.digest(), router, outcome_rows(outcomes), xml)
        except LmosStudioError as exc:
            widgets.show_error(exc)
    digest, used, rows, xml = st.session_state.get(TEST_RESULTS, ("", "", [], ""))
    if digest != design.digest() or not rows:
        return
    passed = sum(r["result"] == "PASS" for r in rows)
    (st.success if passed == len(rows) else st.error)(f"{passed}/{len(rows)} routing tests passed ({used})")
    st.dataframe(resources.table(rows), hide_index=True, width="stretch")
    st.download_button(
        "Download JUnit XML",
        xml,
        file_name="routing-tests.xml",
        mime="application/xml",
        key="dl_junit",
        on_click="ignore",
    )


def whatif_changes(design: Design) -> list[Edit]:
    """The what-if edits picked in widgets."""
    agents, caps = resources.whatif_options(design)
    a, b, c = st.columns(3)
    removed = widgets.search_multiselect("Remove agents", agents, key=state.WHATIF_REMOVE, container=a)
    disabled = widgets.search_multiselect("Disable agents", agents, key=state.WHATIF_DISABLE, container=b)
    no_caps = widgets.search_multiselect("Remove capabilities", caps, key=state.WHATIF_CAPS, container=c)
    d, e, f = st.columns(3)
    mover = widgets.search_select("Move agent", agents, pinned=["—"], key=state.WHATIF_MOVE, container=d)
    label = e.text_input("to channel label", key=state.WHATIF_MOVE_CHANNEL, placeholder="web")
    subset = f.text_input("subset (optional)", key=state.WHATIF_MOVE_SUBSET, placeholder="canary")
    changes = [Edit("remove-agent", n) for n in removed] + [Edit("disable-agent", n) for n in disabled]
    changes += [Edit("remove-capability", v.split(":")[0], capability=v.split(":", 1)[1]) for v in no_caps]
    if mover != "—" and label.strip():
        changes.append(Edit("move-agent", mover, channel=label.strip(), subset=subset.strip()))
    return changes


def whatif_panel(design: Design, queries: Sequence[LabelledQuery], router: str) -> None:
    """Pick changes, run, and see channel resolution and routes before → after."""
    changes = whatif_changes(design)
    described = [c.describe() for c in changes]
    # never disabled: a label typed in "to channel label" is reported only on Enter or blur, so a button disabled
    # until then stayed grey while it was typed and lost the click that blurred it (see the Designer's Save as)
    run = st.button("Run what-if", key="wi_run")
    if run and not changes:
        st.error(
            "Pick a change first: agents or capabilities to remove or disable, or an agent to move and the "
            "channel label to move it to.",
            icon=":material/error:",
        )
    elif run:
        try:
            result = what_if(design, changes, router=resources.cached_router(router), queries=queries)
            st.session_state[WHATIF_RESULT] = (design.digest(), described, result.to_dict())
        except LmosStudioError as exc:
            widgets.show_error(exc)
    digest, used, result = st.session_state.get(WHATIF_RESULT, ("", [], None))
    if result is None or digest != design.digest() or used != described:
        st.caption("Pick changes and run the what-if to see which channels and routes they affect.")
        return
    st.markdown("**Channels**")
    if result["channels"]:
        st.dataframe(resources.table(channel_rows(result)), hide_index=True, width="stretch")
    else:
        st.caption("No channel resolves differently.")
    checked = result["checked"]
    st.markdown(f"**Routes** (checked {checked['tests']} routing tests, {checked['queries']} labelled queries)")
    if result["routes"]:
        st.dataframe(resources.table(route_rows(result)), hide_index=True, width="stretch")
    else:
        st.success("No routing test or labelled query changes route.")
    for skipped in result.get("skipped", []):  # the design's own broken test does not stop the what-if
        st.warning(md(f"Routing test '{skipped['test']}' not compared: {skipped['reason']}"))
    for side, found in result.get("lexicon", {}).items():  # a route can change because the lexicon choice did
        for key, line in found.items():
            st.caption(f"{side} · {code(key or ALL_AGENTS_LABEL)}: {md(line)}")


def evaluation_signature(design: Design, source: str, routers: Sequence[str], channel: str, extra: Any) -> str:
    """What a stored evaluation was run on: results of other inputs are not shown as current."""
    extra_digest = hashlib.sha256(repr(extra).encode()).hexdigest()
    return json.dumps([design.digest(), source, list(routers), channel, extra_digest])
