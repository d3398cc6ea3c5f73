"""Routing tests kept in the design, JUnit XML, and the route / eval / test / whatif CLI contract."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from lmos_studio.formats.design_file import write_design
from lmos_studio.model import RoutingTest
from lmos_studio.routing.tests import junit_xml, run_routing_tests
from tests.conftest import ACME, run_cli
from tests.routing_fake import DESIGN, OverlapRouter

QUERIES = ACME.parent / "acme-queries.csv"
TESTS = (RoutingTest(query="show my bill", expect_agent="billing", channel="web-stable", name="bill"),
         RoutingTest(query="show my contract", expect_agent="billing", channel="web-stable",
                     expect_capability="view-bill", name="wrong <on purpose> & \"quoted\""),
         RoutingTest(query="rain tomorrow", expect_agent="weather", channel="nowhere"),
         RoutingTest(query="rain tomorrow", expect_agent="weather"))


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


def test_cli_test_exit_codes_and_junit(tmp_path: Path, failing_design: Path) -> None:
    ok = run_cli("test", str(ACME), "--junit", str(tmp_path / "acme.xml"))
    assert ok.returncode == 0, ok.stderr
    assert "4/4 routing tests passed" in ok.stdout
    assert ET.parse(tmp_path / "acme.xml").getroot().find("testsuite").get("failures") == "0"  # type: ignore[union-attr]
    bad = run_cli("test", str(failing_design), "--router", "statistical", "--output", "json")
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["passed"] == 1
    assert run_cli("test", str(ACME), "--router", "nope").returncode == 2


def test_cli_route_contract() -> None:
    result = run_cli("route", str(ACME), "--channel", "default/acme-web-stable", "--output", "json",
                     "I want my invoice as a PDF")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"channel", "router", "matches"} and data["channel"] == "default/acme-web-stable"
    assert data["matches"][0]["agent"] == "billing-agent-stable"
    assert set(data["matches"][0]) == {"agent", "capability", "score", "evidence"}
    ambiguous = run_cli("route", str(ACME), "--channel", "web", "hello")
    assert ambiguous.returncode == 2 and "ambiguous" in ambiguous.stderr and "Traceback" not in ambiguous.stderr
    assert run_cli("route", str(ACME), "--channel", "ivr-stable", " ").returncode == 2


def test_cli_eval_contract_and_bad_csv(tmp_path: Path) -> None:
    result = run_cli("eval", str(ACME), str(QUERIES), "--router", "statistical")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"n", "accuracy", "capability_accuracy", "macro_f1", "per_agent", "confusion",
                         "misroutes", "latency_ms"}
    assert data["n"] == 35 and data["accuracy"] >= 0.85
    bad = tmp_path / "bad.csv"
    bad.write_text("query,agent\nshow my bill,billing-agent-stable\nno agent here\n")
    failed = run_cli("eval", str(ACME), str(bad))
    assert failed.returncode == 2 and f"{bad}:3: 1 fields" in failed.stderr
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("query,agent,channel\nshow my bill,billing-agent-stable,mars\n")
    failed = run_cli("eval", str(ACME), str(unknown))
    assert failed.returncode == 2 and f"{unknown}:2: channel:" in failed.stderr
    assert run_cli("eval", str(ACME), str(tmp_path / "missing.csv")).returncode == 2


def test_cli_eval_with_seed_and_default_channel(tmp_path: Path) -> None:
    queries = tmp_path / "q.csv"
    queries.write_text("text,agent\nI fancy a new smartphone,offer-agent\n")
    seed = ACME.parent.parent.parent / "shared" / "reference" / "lmos-router-examples" / "seed.json"
    design = tmp_path / "d.yaml"
    from lmos_studio.model import Agent, Capability, Design

    write_design(Design(agents=(
        Agent(name="offer-agent", capabilities=(Capability(name="offers", version="1.0.0"),)),
        Agent(name="order-agent", capabilities=(Capability(name="orders", version="1.0.0"),)))), design)
    result = run_cli("eval", str(design), str(queries), "--seed", str(seed), "--router", "statistical")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["accuracy"] == 1.0


def test_cli_whatif_contract() -> None:
    result = run_cli("whatif", str(ACME), "--remove-agent", "billing-agent-stable", "--queries", str(QUERIES))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {c["channel"]: c["after"] for c in data["channels"]} == {
        "default/acme-web-stable": "UNRESOLVED", "default/acme-ivr-stable": "UNRESOLVED"}
    tests = [r for r in data["routes"] if r["source"] == "test"]
    assert {r["query"] for r in tests} == {"show me my bill please", "send me the invoice as a PDF"}
    assert all(r["broken"] for r in tests)
    assert any(r["source"] == "query" for r in data["routes"])
    assert run_cli("whatif", str(ACME)).returncode == 2
    assert run_cli("whatif", str(ACME), "--remove-capability", "contract-agent").returncode == 2
    bad = run_cli("whatif", str(ACME), "--remove-agent", "ghost")
    assert bad.returncode == 2 and "ghost" in bad.stderr
