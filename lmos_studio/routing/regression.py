"""Run the routing tests a design keeps (query → expected agent in a channel) and write JUnit XML for CI.

Each channel is fitted once per run and its tests routed as one batch; a test whose channel cannot be found
fails with that reason (it does not stop the other tests), and so does a test naming an agent or capability its
channel's table does not hold (it could never pass). A test with no `expect_agent` expects "no agent fits".
XML is built with xml.etree, so test text is escaped.
"""

from __future__ import annotations

import difflib
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from lmos_studio.errors import RouterUnavailable, RoutingError, VersionError
from lmos_studio.graph import CHANNEL
from lmos_studio.lint import ERROR, WARNING, Finding
from lmos_studio.model import Design, RoutingTest
from lmos_studio.redact import redact_text
from lmos_studio.resolve import Resolution
from lmos_studio.routing.base import FittedRouter, Router, RouteResult, RoutingTable, route_fitted
from lmos_studio.routing.lexicon import lexicon_choice_of
from lmos_studio.routing.table import channel_key, routing_table, table_for_resolution

FitTable = Callable[[RoutingTable], FittedRouter]
MAX_AGENTS_LISTED = 10  # agents named in a test's error before "and N more"


@dataclass(frozen=True)
class TestOutcome:
    """What one routing test got; `error` is set when it could not route at all."""

    __test__ = False  # not a pytest class

    test: RoutingTest
    channel: str  # the channel key routed in ("" = all agents)
    agent: str
    capability: str
    score: float
    evidence: tuple[str, ...]
    latency_ms: float
    error: str = ""
    lexicon: str = ""  # the channel router's lexicon choice (`LexiconChoice.describe`; "" for the LLM router)

    @property
    def passed(self) -> bool:
        if self.error or self.agent != self.test.expect_agent:
            return False
        return not self.test.expect_capability or self.capability == self.test.expect_capability

    @property
    def name(self) -> str:
        return routing_test_name(self.test)

    @property
    def message(self) -> str:
        """Why it failed ("" when it passed)."""
        if self.error:
            return self.error
        if self.passed:
            return ""
        cap = self.test.expect_capability
        want = (self.test.expect_agent + (f"/{cap}" if cap else "")) or "no agent"
        got = (self.agent + (f"/{self.capability}" if self.capability else "")) if self.agent else "no agent"
        return f"expected {want}, routed to {got}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "query": redact_text(self.test.query),  # a query shown in CI logs holds no credential
            "channel": self.channel,
            "expect_agent": self.test.expect_agent,
            "expect_capability": self.test.expect_capability,
            "min_score": self.test.min_score,
            "agent": self.agent,
            "capability": self.capability,
            "score": self.score,
            "evidence": list(self.evidence),
            "passed": self.passed,
            "message": self.message,
            "lexicon": self.lexicon or None,
        }


def routing_test_name(test: RoutingTest) -> str:
    return redact_text(test.name or f"{test.channel or 'all agents'}: {test.query}")


def run_routing_tests(
    design: Design, *, router: Router, tests: Sequence[RoutingTest] | None = None, fit: FitTable | None = None
) -> list[TestOutcome]:
    """Route every test's query in its channel, one batch per channel; `fit` may reuse fitted routers
    (default `router.fit`). A channel's problem fails its tests; `RouterUnavailable` (the router cannot run at
    all, e.g. no LLM endpoint) is raised: a CI run must not report it as routing regressions."""
    chosen = list(design.routing_tests if tests is None else tests)
    outcomes: dict[int, TestOutcome] = {}
    by_channel: dict[str, list[int]] = {}
    for index, test in enumerate(chosen):
        try:
            by_channel.setdefault(channel_key(design, test.channel), []).append(index)
        except RoutingError as exc:
            outcomes[index] = TestOutcome(test, test.channel, "", "", 0.0, (), 0.0, error=str(exc))
    for key, indices in by_channel.items():
        try:
            table = routing_table(design, key)
        except (RoutingError, VersionError) as exc:  # a bad version fails this channel's tests, not the run
            for i in indices:
                outcomes[i] = TestOutcome(chosen[i], chosen[i].channel, "", "", 0.0, (), 0.0, error=str(exc))
            continue
        for i in indices:  # a test the channel can never pass (a typo, another channel's agent) says so
            problem = unreachable_reason(chosen[i], table)
            if problem:
                outcomes[i] = TestOutcome(chosen[i], key, "", "", 0.0, (), 0.0, error=problem)
        indices = [i for i in indices if i not in outcomes]
        if not indices:
            continue
        try:
            fitted = fit(table) if fit else router.fit(table)
            results = route_fitted(fitted, [chosen[i].query for i in indices])
            choice = lexicon_choice_of(fitted)
        except RouterUnavailable:  # the router cannot run anywhere (no LLM endpoint): not this channel's failure
            raise
        except RoutingError as exc:
            for i in indices:
                outcomes[i] = TestOutcome(chosen[i], chosen[i].channel, "", "", 0.0, (), 0.0, error=str(exc))
            continue
        for i, result in zip(indices, results, strict=True):
            result = result.with_threshold(chosen[i].min_score)
            best = result.best
            outcomes[i] = TestOutcome(
                chosen[i],
                key,
                best.agent if best else "",
                best.capability if best else "",
                best.score if best else 0.0,
                best.evidence if best else _rejected(result),
                result.latency_ms,
                lexicon=choice.describe() if choice else "",
            )
    return [outcomes[i] for i in range(len(chosen))]


def unreachable_reason(test: RoutingTest, table: RoutingTable) -> str:
    """Why `test` can never pass in `table` (its expected agent or capability is not there), or "" (the
    Playground's add-test form refuses such a test with this reason)."""
    found = _unreachable(test, table)
    return f"{found[0]}: the test can never pass; {found[1]}" if found else ""


def repeated_test(design: Design, test: RoutingTest) -> int | None:
    """The number (from 1) of the design's routing test that `test` repeats, or None: the same query in the same
    channel with the same expectations and min score, whatever its name (lint's `routing-test-duplicate`)."""
    wanted = _repeat_key(design, test)
    repeats = (n for n, kept in enumerate(design.routing_tests, start=1) if _repeat_key(design, kept) == wanted)
    return next(repeats, None)


def _repeat_key(design: Design, test: RoutingTest) -> tuple[str, str, str, str, float | None]:
    try:
        key = channel_key(design, test.channel)  # a channel named by name or by key is the same channel
    except RoutingError:
        key = test.channel
    return (test.query, key, test.expect_agent, test.expect_capability, test.min_score)


def _unreachable(test: RoutingTest, table: RoutingTable) -> tuple[str, str] | None:
    """What in `test` is not in `table` and what to fix, or None when the test can pass."""
    where = f"channel {table.channel}" if table.channel else "all agents"
    agent, capability = test.expect_agent, test.expect_capability
    if agent and agent not in table.agents:
        known = _some_agents(table.agents, agent) or "none"
        return (
            f"expectAgent '{agent}' is not an agent of {where} (its agents: {known})",
            "fix the agent's name or the test's channel",
        )
    offered = [c.capability for c in table.candidates if c.agent == agent]
    if agent and capability and capability not in offered:
        return (
            f"expectCapability '{capability}' is not a capability of {agent} in {where} (it has: "
            f"{', '.join(dict.fromkeys(offered))})",
            "fix the capability's name",
        )
    return None


def _some_agents(agents: Sequence[str], wanted: str) -> str:
    """The agents as a message lists them: all of them up to `MAX_AGENTS_LISTED`, else that many, the names
    nearest `wanted` first (a typo's fix), and how many more there are."""
    if len(agents) <= MAX_AGENTS_LISTED:
        return ", ".join(agents)
    near = difflib.get_close_matches(wanted, agents, n=3)
    shown = [*near, *(a for a in agents[: MAX_AGENTS_LISTED + len(near)] if a not in near)][:MAX_AGENTS_LISTED]
    return f"{', '.join(shown)} and {len(agents) - len(shown)} more"


_CHANNEL_FIX = (
    "name one of the design's Channels in the test's channel (namespace/name when a name is ambiguous), or leave it "
    "empty to route over all agents"
)


def routing_test_findings(design: Design, resolutions: Sequence[Resolution] | None = None) -> list[Finding]:
    """lint's findings about the design's routing tests, without fitting a router: `routing-test-unreachable`
    (error) for a test `run_routing_tests` fails before routing (its channel is unknown or ambiguous, or
    `unreachable_reason`), `routing-test-duplicate` (warning) for a test that repeats an earlier one (same query,
    channel and expectations). `resolutions`: the design's (`safe_resolutions`, as lint resolves), so a channel's
    table is not resolved again."""
    if not design.routing_tests:
        return []
    by_key = {r.channel.key: r for r in resolutions or ()}
    keys: dict[str, str] = {}  # a test's channel (as written) → its key: tests share few channels
    tables: dict[str, RoutingTable] = {}
    reasons: dict[tuple[str, str, str], tuple[str, str] | None] = {}  # (channel key, agent, capability) → problem
    seen: dict[tuple[str, str, str, str, float | None], int] = {}  # (query, channel, agent, capability, min score)
    found: list[Finding] = []
    for number, test in enumerate(design.routing_tests, start=1):
        name = routing_test_name(test)
        objects: tuple[str, ...] = (f"routing-test:{name}",)
        try:
            key = keys.get(test.channel)
            if key is None:
                key = keys[test.channel] = channel_key(design, test.channel)
        except RoutingError as exc:
            message = f"Routing test '{name}': {exc}: the test can never pass"
            found.append(Finding("routing-test-unreachable", ERROR, objects, message, _CHANNEL_FIX))
            key = test.channel
        else:
            if key:
                objects += (f"{CHANNEL}:{key}",)  # the channel's graph node (`graph.channel_node`)
            reason_key = (key, test.expect_agent, test.expect_capability)
            if reason_key not in reasons:
                table = tables.get(key)
                if table is None:
                    resolution = by_key.get(key)
                    table = tables[key] = (
                        table_for_resolution(resolution, design.routing)
                        if resolution is not None
                        else routing_table(design, key)
                    )
                reasons[reason_key] = _unreachable(test, table)
            problem = reasons[reason_key]
            if problem:
                message = f"Routing test '{name}': {problem[0]}: the test can never pass"
                found.append(Finding("routing-test-unreachable", ERROR, objects, message, problem[1]))
        first = seen.setdefault((test.query, key, test.expect_agent, test.expect_capability, test.min_score), number)
        if first != number:
            where = f"channel {key}" if key else "all agents"
            found.append(
                Finding(
                    "routing-test-duplicate",
                    WARNING,
                    objects,
                    f"Routing test {number} ('{name}') repeats routing test {first}: the same query in {where} "
                    "with the same expectations",
                    "remove the copy, or change its query or expectations",
                )
            )
    return found


def _rejected(result: RouteResult) -> tuple[str, ...]:
    """The note of a query no agent answered: the signal that rejected it (its real reason, a fit below the
    threshold or a request nearer another service) and the nearest candidates, greyed."""
    if not result.matches:
        return ()
    nearest = ", ".join(m.agent for m in result.matches[:3])
    return (f"no agent answers ({result.reason}; nearest candidates: {nearest})",)


def junit_xml(outcomes: Sequence[TestOutcome], *, suite: str = "routing", router: str = "") -> str:
    """A JUnit XML report (one testsuite, one testcase per routing test)."""
    failures = sum(not o.passed and not o.error for o in outcomes)
    errors = sum(bool(o.error) for o in outcomes)
    total_s = sum(o.latency_ms for o in outcomes) / 1000.0
    root = ET.Element(
        "testsuites",
        name="lmos-studio",
        tests=str(len(outcomes)),
        failures=str(failures),
        errors=str(errors),
        time=f"{total_s:.3f}",
    )
    node = ET.SubElement(
        root,
        "testsuite",
        name=suite,
        tests=str(len(outcomes)),
        failures=str(failures),
        errors=str(errors),
        time=f"{total_s:.3f}",
    )
    if router:
        props = ET.SubElement(node, "properties")
        ET.SubElement(props, "property", name="router", value=router)
    for outcome in outcomes:
        case = ET.SubElement(
            node,
            "testcase",
            classname=f"routing.{outcome.channel or 'all-agents'}",
            name=outcome.name,
            time=f"{outcome.latency_ms / 1000.0:.3f}",
        )
        if outcome.error:
            error = redact_text(outcome.error)  # a URL with credentials in an error never reaches CI logs
            ET.SubElement(case, "error", message=error, type="RoutingError").text = error
        elif not outcome.passed:
            failure = ET.SubElement(case, "failure", message=outcome.message, type="misroute")
            failure.text = f"query: {redact_text(outcome.test.query)}\nevidence: " + " | ".join(outcome.evidence)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def outcome_rows(outcomes: Sequence[TestOutcome]) -> list[dict[str, str]]:
    """One row per test: PASS/FAIL, name, the failure message (beside the name, so a wide table does not hide
    it), channel, and where it was routed."""
    return [
        {
            "result": "PASS" if o.passed else "FAIL",
            "name": o.name,
            "message": o.message,
            "channel": o.channel,
            "routed to": o.agent or "(none)",
            "capability": o.capability,
            "min score": "" if o.test.min_score is None else f"{o.test.min_score:g}",
        }
        for o in outcomes
    ]
