"""Routing tests kept in the design, JUnit XML, and the route / eval / test / whatif CLI contract."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from lmos_studio.cli import main
from lmos_studio.commands import routing as routing_commands
from lmos_studio.formats.design_file import write_design
from lmos_studio.model import RoutingTest
from lmos_studio.routing.regression import junit_xml, repeated_test, run_routing_tests
from lmos_studio.routing.select import DEFAULT_ROUTER
from tests.conftest import ACME, REFERENCE, ROUTER_BENCHMARK, run_cli
from tests.routing_fake import DESIGN, OverlapRouter

QUERIES = ACME.parent / "acme-queries.csv"
TESTS = (
    RoutingTest(query="show my bill", expect_agent="billing", channel="web-stable", name="bill"),
    RoutingTest(
        query="show my contract",
        expect_agent="billing",
        channel="web-stable",
        expect_capability="view-bill",
        name='wrong <on purpose> & "quoted"',
    ),
    RoutingTest(query="rain tomorrow", expect_agent="weather", channel="nowhere"),
    RoutingTest(query="rain tomorrow", expect_agent="weather"),
)


def test_outcomes_pass_fail_and_error_without_stopping() -> None:
    router = OverlapRouter()
    outcomes = run_routing_tests(DESIGN.replace(routing_tests=TESTS), router=router)
    assert [o.passed for o in outcomes] == [True, False, False, True]
    assert outcomes[1].message == "expected billing/view-bill, routed to contract/view-contract"
    assert "not a Channel" in outcomes[2].error and outcomes[3].channel == ""
    assert router.fits == 2  # web-stable and all agents, each fitted once
    assert outcomes[0].to_dict()["passed"] is True


def test_junit_xml_counts_and_escapes() -> None:
    outcomes = run_routing_tests(DESIGN.replace(routing_tests=TESTS), router=OverlapRouter())
    text = junit_xml(outcomes, suite="small", router="overlap")
    root = ET.fromstring(text.split("?>", 1)[1])
    suite = root.find("testsuite")
    assert suite is not None and suite.get("tests") == "4"
    assert (suite.get("failures"), suite.get("errors")) == ("1", "1")
    cases = suite.findall("testcase")
    assert cases[1].get("name") == 'wrong <on purpose> & "quoted"'
    assert "&lt;on purpose&gt;" in text and cases[1].find("failure") is not None
    assert cases[2].find("error") is not None and cases[0].find("failure") is None


@pytest.fixture(scope="module")
def failing_design(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("design") / "small.yaml"
    write_design(DESIGN.replace(routing_tests=TESTS[:2]), path)
    return path


def test_cli_test_exit_codes_and_junit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        cli(capsys, "test", str(ACME), "--junit", str(tmp_path / "acme.xml")) == 0
    )  # in-process: the model loads once
    assert "4/4 routing tests passed" in capsys.readouterr().out
    assert ET.parse(tmp_path / "acme.xml").getroot().find("testsuite").get("failures") == "0"  # type: ignore[union-attr]


def test_cli_test_junit_to_a_folder_is_exit_2(tmp_path: Path) -> None:
    """Bug (session 12 QA): `test --junit DIR` ended in an IsADirectoryError traceback with exit 1 (which CI
    reads as "a routing test failed")."""
    result = run_cli("test", str(ACME), "--router", "statistical", "--junit", str(tmp_path))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{tmp_path}: is a folder; give the JUnit report a file name" in result.stderr


def test_cli_eval_warns_of_capabilities_the_agent_does_not_have(tmp_path: Path) -> None:
    """Bug (session 12 QA): a capability cell naming no capability of the row's agent (a typo) was silently
    scored as the router's mistake (capability accuracy 0). Still scored so (the lmos-router data has such
    rows), but stderr says how many and where the first is."""
    queries = tmp_path / "q.csv"
    queries.write_text("query,agent,capability\nshow my bill,billing-agent-stable,view-bil\n")
    result = run_cli("eval", str(ACME), str(queries), "--router", "statistical")
    assert result.returncode == 0, result.stderr
    assert (
        f"warning: {queries}: 1 row(s) name a capability their agent does not have in its channel (first: line 2, "
        "billing-agent-stable/view-bil in all agents)"
    ) in result.stderr
    assert json.loads(result.stdout)["capability_accuracy"] == 0.0


def test_cli_route_contract(capsys: pytest.CaptureFixture[str]) -> None:
    args = (
        "route",
        str(ACME),
        "--channel",
        "default/acme-web-stable",
        "--output",
        "json",
        "I want my invoice as a PDF",
    )
    assert cli(capsys, *args) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {
        "channel",
        "router",
        "match",
        "fit",
        "threshold",
        "elsewhere",
        "elsewhere_limit",
        "rejected_by",
        "reason",
        "matches",
        "lexicon",
    }
    assert data["rejected_by"] is None and data["reason"] == ""
    assert data["lexicon"]["setting"] == "auto" and data["lexicon"]["summary"].startswith("lexicon: ")
    assert data["channel"] == "default/acme-web-stable"
    assert data["matches"][0]["agent"] == "billing-agent-stable" and data["match"] == data["matches"][0]
    assert set(data["matches"][0]) == {"agent", "capability", "score", "evidence"}
    assert 0 <= data["threshold"] <= 1 and data["fit"] >= data["threshold"]


def test_cli_route_says_no_agent_fits_out_of_scope_with_ranked_candidates() -> None:
    result = run_cli("route", str(ACME), "-c", "default/acme-web-stable", "-o", "json", "tell me a joke about cats")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["match"] is None and len(data["matches"]) >= 2 and data["fit"] < data["threshold"]
    table = run_cli("route", str(ACME), "-c", "default/acme-web-stable", "-o", "table", "tell me a joke about cats")
    assert "no agent of this channel would answer" in table.stdout
    forced = run_cli("route", str(ACME), "-c", "default/acme-web-stable", "--min-score", "0", "tell me a joke")
    assert json.loads(forced.stdout)["match"] is not None


@pytest.mark.parametrize("value", ["1.5", "-0.1"])
def test_cli_min_score_out_of_range_is_exit_2(value: str) -> None:
    result = run_cli("route", str(ACME), "--min-score", value, "show my bill")
    assert result.returncode == 2 and "--min-score is" in result.stderr and "from 0 to 1" in result.stderr


def test_cli_eval_contract_and_bad_csv(tmp_path: Path) -> None:
    result = run_cli("eval", str(ACME), str(QUERIES), "--router", "statistical")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
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
        "lexicon",
    }
    assert data["n"] == 40 and data["accuracy"] >= 0.85
    bad = tmp_path / "bad.csv"
    bad.write_text("query,agent\nshow my bill,billing-agent-stable\nno agent here\n")
    failed = run_cli("eval", str(ACME), str(bad))
    assert failed.returncode == 2 and f"{bad}:3: 1 fields" in failed.stderr and "Traceback" not in failed.stderr


def test_cli_eval_with_seed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    queries = tmp_path / "q.csv"
    queries.write_text("text,agent\nI fancy a new smartphone,offer-agent\n")
    seed = REFERENCE / "lmos-router-examples" / "seed.json"
    design = tmp_path / "d.yaml"
    from lmos_studio.model import Agent, Capability, Design

    write_design(
        Design(
            agents=(
                Agent(name="offer-agent", capabilities=(Capability(name="offers", version="1.0.0"),)),
                Agent(name="order-agent", capabilities=(Capability(name="orders", version="1.0.0"),)),
            )
        ),
        design,
    )
    assert cli(capsys, "eval", str(design), str(queries), "--seed", str(seed), "--router", "statistical") == 0
    assert json.loads(capsys.readouterr().out)["accuracy"] == 1.0


def test_cli_whatif_contract(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, "whatif", str(ACME), "--remove-agent", "billing-agent-stable", "--queries", str(QUERIES)) == 0
    data = json.loads(capsys.readouterr().out)
    assert {c["channel"]: c["after"] for c in data["channels"]} == {
        "default/acme-web-stable": "UNRESOLVED",
        "default/acme-ivr-stable": "UNRESOLVED",
    }
    tests = [r for r in data["routes"] if r["source"] == "test"]
    assert {r["query"] for r in tests} == {"show me my bill please", "send me the invoice as a PDF"}
    assert all(r["broken"] for r in tests)
    assert any(r["source"] == "query" for r in data["routes"])


def test_cli_route_and_eval_on_an_agent_routing_spec_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    specs = ROUTER_BENCHMARK / "agentRoutingSpecs.json"
    assert cli(capsys, "route", str(specs), "--router", "statistical", "where is my parcel, it is late") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["channel"] == "" and data["matches"][0]["agent"].endswith("-agent")
    queries = tmp_path / "q.csv"
    queries.write_text("instruction,agent,intent,channel\nI want my money back,refund-agent,get_refund,any\n")
    assert cli(capsys, "eval", str(specs), str(queries), "--router", "statistical") == 0  # no Channels: all agents
    assert json.loads(capsys.readouterr().out)["n"] == 1


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> int:
    """The CLI in this process (fast; the subprocess tests above check the real entry point)."""
    capsys.readouterr()
    return main(list(args))


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("test", "{failing}", "--router", "statistical"), 1, ""),
        (("test", str(ACME), "--router", "nope"), 2, "unknown router 'nope'"),
        (("route", str(ACME), "--channel", "web", "hello"), 2, "is ambiguous"),
        (("route", str(ACME), "--channel", "acme-ivr-stable", " "), 2, "the query is empty"),
        (("route", "{missing}", "hello"), 2, "no such file or folder"),
        # Bug (session 12 QA): a file with no Agent (empty, or another kind of JSON) routed to "no agent", exit 0
        (("route", "{empty}", "hello"), 2, "empty.yaml: no Agent to route to"),
        (("eval", "{empty}", str(QUERIES)), 2, "empty.yaml: no Agent to route to"),
        # Bug (session 12 QA): --top-k 0 answered "no agent: the channel has no candidates"; -1 dropped the last
        (("route", str(ACME), "--top-k", "0", "my bill"), 2, "--top-k is 0; give 1 or more"),
        (("route", str(ACME), "--top-k", "-1", "my bill"), 2, "--top-k is -1; give 1 or more"),
        (("eval", str(ACME), "{unknown}"), 2, "unknown.csv:2: channel: channel 'mars' is not a Channel"),
        (("eval", str(ACME), "{missing}"), 2, "cannot read the file"),
        # Bug (session 14 QA): an unknown --channel was blamed on the CSV ("q.csv:2: channel: channel 'mars' …")
        (("eval", str(ACME), str(QUERIES), "-c", "mars"), 2, "error: --channel: channel 'mars' is not a Channel"),
        (("eval", str(ACME), str(QUERIES), "--output", "xml"), 2, "--output 'xml' is not supported"),
        (("whatif", str(ACME)), 2, "give at least one change"),
        (("whatif", str(ACME), "--remove-capability", "contract-agent"), 2, "write AGENT:CAPABILITY"),
        (("whatif", str(ACME), "--remove-agent", "ghost"), 2, "agent 'ghost' is not in the design"),
        (("whatif", str(ACME), "--move-agent", "weather-agent"), 2, "AGENT:CHANNEL_LABEL"),
    ],
)
def test_cli_exit_codes_and_messages(
    args: tuple[str, ...],
    code: int,
    message: str,
    failing_design: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("query,agent,channel\nshow my bill,billing-agent-stable,mars\n")
    (tmp_path / "empty.yaml").write_text("")
    paths = {
        "failing": str(failing_design),
        "unknown": str(unknown),
        "missing": str(tmp_path / "missing.csv"),
        "empty": str(tmp_path / "empty.yaml"),
    }
    assert cli(capsys, *(a.format(**paths) for a in args)) == code
    assert message in capsys.readouterr().err


def test_cli_table_outputs(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, "eval", str(ACME), str(QUERIES), "--router", "statistical", "-o", "table") == 0
    assert "macro F1" in capsys.readouterr().out
    assert cli(capsys, "route", str(ACME), "--channel", "acme-ivr-stable", "-o", "table", "my bill") == 0
    assert "billing-agent-stable" in capsys.readouterr().out
    assert cli(capsys, "whatif", str(ACME), "--disable-agent", "weather-agent", "-o", "table") == 0
    assert "lmos-demo/acme-web-stable" in capsys.readouterr().out
    assert routing_commands.DEFAULT_ROUTER == DEFAULT_ROUTER


def test_cli_eval_scores_out_of_scope_rows_and_refuses_unknown_agents(tmp_path: Path) -> None:
    queries = tmp_path / "q.csv"
    queries.write_text("query,agent\nshow my bill,billing-agent-stable\ntell me a joke about cats,\n")
    result = run_cli("eval", str(ACME), str(queries), "-c", "default/acme-web-stable", "-r", "statistical")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["n_out_of_scope"] == 1 and data["out_of_scope_recall"] == 1.0 and data["false_rejects"] == 0
    assert data["in_scope_accuracy"] == 1.0 and "(none)" in data["confusion"]["labels"]
    queries.write_text("query,agent\nshow my bill,billing-agent-stable\nwhat's on,weather-agent\n")
    bad = run_cli("eval", str(ACME), str(queries), "-c", "default/acme-web-stable", "-r", "statistical")
    assert bad.returncode == 2 and f"{queries}:3: agent: agent 'weather-agent' is not an agent" in bad.stderr
    out_of_range = run_cli("eval", str(ACME), str(queries), "--min-score", "2")
    assert out_of_range.returncode == 2 and "--min-score is 2.0" in out_of_range.stderr


def test_a_routing_test_can_expect_no_agent() -> None:
    from lmos_studio.formats.design_file import read_design
    from lmos_studio.routing.statistical import StatisticalRouter

    design = read_design(ACME).replace(
        routing_tests=(
            RoutingTest(query="tell me a joke about cats", channel="acme-web-stable", name="out of scope"),
            RoutingTest(query="show my bill", channel="acme-web-stable", name="in scope"),
        )
    )
    outcomes = run_routing_tests(design, router=StatisticalRouter())
    assert [o.passed for o in outcomes] == [True, False]
    assert outcomes[1].message.startswith("expected no agent, routed to billing-agent-stable")


def test_cli_eval_help_names_every_column() -> None:
    """Bug (session 12 QA): the help's "[capability|intent], [channel]" was read as rich markup and vanished
    ("Labelled CSV: instruction|query|text, agent, , .")."""
    result = run_cli("eval", "--help", env={"COLUMNS": "200"})
    assert result.returncode == 0
    assert "capability (or intent) and channel" in result.stdout and ", , ." not in result.stdout


def test_cli_eval_warns_of_seed_examples_for_no_agent_of_the_design(tmp_path: Path) -> None:
    """Seed examples of agents the design lacks are ignored (a network's whole seed file may serve a design of
    some of its agents; test_seed_examples_change_the_answer), but silently so a typo ran unseeded (session 12
    QA): stderr now names how many and which agents, the JSON on stdout is unchanged."""
    seed = tmp_path / "seed.json"
    seed.write_text(
        '[{"text": "show my bill", "agentName": "billing-agent-stable"}, {"text": "x", "agentName": "ghost"}]'
    )
    result = run_cli("eval", str(ACME), str(QUERIES), "--seed", str(seed), "--router", "statistical")
    assert result.returncode == 0, result.stderr
    assert f"warning: {seed}: 1 seed example names no agent of the design (ghost); ignored" in result.stderr
    assert json.loads(result.stdout)["n"] == 40


def test_an_unknown_agent_of_a_large_channel_lists_a_few_agents_nearest_first() -> None:
    """Bug: the reason listed every agent of the table, so a test over all agents of a 50 000-agent design made a
    message (a lint finding, a JUnit error) of hundreds of kilobytes. Now it lists at most `MAX_AGENTS_LISTED`,
    the names nearest the one expected first, and says how many more there are."""
    from lmos_studio.routing.base import Candidate, RoutingTable
    from lmos_studio.routing.regression import MAX_AGENTS_LISTED, unreachable_reason

    table = RoutingTable(channel="", candidates=tuple(Candidate(f"agent-{i:05d}", "help") for i in range(50_000)))
    reason = unreachable_reason(RoutingTest(query="help me", expect_agent="agnet-04200"), table)  # a typo
    listed = reason.split("(its agents: ", 1)[1].split(")", 1)[0]
    assert listed.endswith(f" and {50_000 - MAX_AGENTS_LISTED} more"), reason
    names = listed.rsplit(" and ", 1)[0].split(", ")
    assert len(names) == MAX_AGENTS_LISTED and names[0] == "agent-04200"
    assert len(reason) < 400


def test_a_test_naming_an_agent_or_capability_the_channel_lacks_says_so() -> None:
    """Bug (session 14 QA): a routing test whose expected agent is not in its channel (a typo, or an agent of
    another channel) failed as "expected biling, routed to billing" or "…, routed to no agent", as if routing
    were wrong; it can never pass. Now it is an error naming the channel's agents (or the agent's
    capabilities there), and the channel's other tests still run."""
    tests = (
        RoutingTest(query="show my bill", expect_agent="biling", channel="web-stable"),
        RoutingTest(query="rain tomorrow", expect_agent="weather", channel="web-stable"),
        RoutingTest(query="show my bill", expect_agent="billing", expect_capability="view-bil", channel="web-stable"),
        RoutingTest(query="show my bill", expect_agent="billing", channel="web-stable"),
    )
    outcomes = run_routing_tests(DESIGN.replace(routing_tests=tests), router=OverlapRouter())
    assert [o.passed for o in outcomes] == [False, False, False, True]
    assert outcomes[0].error == (
        "expectAgent 'biling' is not an agent of channel default/web-stable (its agents: billing, contract): "
        "the test can never pass; fix the agent's name or the test's channel"
    )
    assert "expectAgent 'weather' is not an agent of channel default/web-stable" in outcomes[1].error
    assert outcomes[2].error == (
        "expectCapability 'view-bil' is not a capability of billing in channel default/web-stable (it has: "
        "view-bill): the test can never pass; fix the capability's name"
    )
    assert outcomes[3].agent == "billing" and not outcomes[3].error


def test_a_routing_test_keeps_its_own_min_score(tmp_path: Path) -> None:
    """A test added in the Playground under a per-query min score is held to it when run (and by whatif/diff),
    and reads back from the design file as `minScore`."""
    from lmos_studio.formats.design_file import read_design
    from lmos_studio.routing.statistical import StatisticalRouter

    held = RoutingTest(query="my bill, please", channel="acme-web-stable", name="held", min_score=1.0)
    design = read_design(ACME).replace(
        routing_tests=(held, RoutingTest(query="my bill, please", channel="acme-web-stable", name="default"))
    )
    outcomes = run_routing_tests(design, router=StatisticalRouter())
    assert [o.agent for o in outcomes] == ["", "billing-agent-stable"]
    assert outcomes[0].passed and not outcomes[1].passed
    path = tmp_path / "d.yaml"
    write_design(design, path)
    assert "minScore: 1.0" in path.read_text(encoding="utf-8")
    assert read_design(path).routing_tests[0].min_score == 1.0
    with pytest.raises(ValueError, match="min"):
        RoutingTest(query="q", min_score=1.5)
    with pytest.raises(ValueError, match="true/false"):
        RoutingTest(query="q", min_score=True)  # type: ignore[arg-type]


def test_whatif_holds_a_test_to_its_own_min_score() -> None:
    """Comparing designs routes a test at its own threshold: no change reported when both sides reject it."""
    from lmos_studio.compare import compare
    from lmos_studio.formats.design_file import read_design
    from lmos_studio.routing.labelled import LabelledQuery
    from lmos_studio.routing.statistical import StatisticalRouter

    before = read_design(ACME)
    after = before.replace(agents=tuple(a for a in before.agents if a.name != "billing-agent-stable"))
    held = LabelledQuery("my bill, please", "", channel="acme-web-stable", min_score=1.0)
    free = LabelledQuery("my bill, please", "billing-agent-stable", channel="acme-web-stable")
    changes = compare(before, after, [held, free], router=StatisticalRouter()).changes
    assert [c.query for c in changes] == [free]  # the held test answers no agent on both sides


def test_a_bad_version_fails_its_channels_tests_and_the_others_still_run() -> None:
    """A capability version that is not strict SemVer in one Channel stopped the whole run with exit 2 and no
    outcome; now that Channel's test fails with the reason and the other Channel's test still runs."""
    path = Path(__file__).parent / "fixtures" / "designs" / "bad-version-channel.yaml"
    result = run_cli("test", str(path), "--router", "statistical", "-o", "json")
    assert result.returncode == 1, result.stderr
    outcomes = json.loads(result.stdout)["tests"]
    assert [o["passed"] for o in outcomes] == [True, False]
    assert "'1.0' is not strict SemVer" in outcomes[1]["message"]


@pytest.mark.parametrize("router", ["llm", "hybrid"])
def test_a_router_that_cannot_run_exits_2_not_as_failed_tests(router: str, tmp_path: Path) -> None:
    """Without an LLM endpoint, `test -r llm` printed every test as FAIL and exited 1, so a missing CI secret
    looked like a routing regression; `route` and `eval` exit 2 on the same. Now `test` exits 2 too."""
    env = {"LMOS_STUDIO_LLM_BASE_URL": "", "OPENAI_BASE_URL": "", "LMOS_STUDIO_LLM_API_KEY": "", "OPENAI_API_KEY": ""}
    junit = tmp_path / "report.xml"
    result = run_cli("test", str(ACME), "--router", router, "--junit", str(junit), env=env)
    assert result.returncode == 2, result.stdout
    assert "LMOS_STUDIO_LLM_BASE_URL" in result.stderr and "FAIL" not in result.stdout
    assert not junit.exists()  # no report of failures that are not


def test_a_test_repeats_one_with_the_same_query_channel_and_expectations() -> None:
    """What the Playground refuses to add twice: lint's routing-test-duplicate rule (the name aside; a channel
    written by name or by key is the same channel)."""
    from lmos_studio.formats.design_file import read_design

    design = read_design(ACME)
    kept = design.routing_tests[0]
    assert repeated_test(design, kept.model_copy(update={"name": "another name"})) == 1
    by_name = kept.model_copy(update={"channel": kept.channel.split("/", 1)[-1]})
    assert repeated_test(design, by_name) == 1
    assert repeated_test(design, kept.model_copy(update={"expect_capability": "other"})) is None
    assert repeated_test(design, kept.model_copy(update={"min_score": 0.5})) is None
