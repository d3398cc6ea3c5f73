"""Design diff: each change class on minimal designs, the operator's v1→v2 fixtures, routing impact, CLI."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmos_studio.errors import DesignFileError
from lmos_studio.formats.design_file import read_design, write_design
from lmos_studio.lifecycle import Change, DesignDiff, diff_designs
from lmos_studio.model import (
    Agent,
    Capability,
    Channel,
    ChannelRollout,
    Design,
    Group,
    OutOfScopeExample,
    RequiredCapability,
    RoutingSettings,
    RoutingTest,
    TrustEdge,
)
from lmos_studio.routing.base import Match, RouteResult, RoutingTable
from lmos_studio.routing.labelled import LabelledQuery, read_labelled_csv
from lmos_studio.routing.select import get_router
from lmos_studio.synthetic import synthetic_design
from tests.conftest import ACME, REFERENCE, run_cli

OPERATOR = REFERENCE / "lmos-operator"


def agent(name: str, *caps: tuple[str, str], channels: Sequence[str] = ("web",), **extra: Any) -> Agent:
    return Agent(
        name=name,
        supported_tenants=("acme",),
        supported_channels=tuple(channels),
        capabilities=tuple(Capability(name=n, version=v, description=f"{n} things") for n, v in caps),
        **extra,
    )


def channel(name: str = "web-stable", *reqs: tuple[str, str], label: str = "web", tenant: str = "acme") -> Channel:
    return Channel(
        name=name,
        labels={"tenant": tenant, "channel": label, "version": "1.0.0", "subset": "stable"},
        required_capabilities=tuple(RequiredCapability(name=n, version=v) for n, v in reqs),
    )


BILLING = agent("billing", ("view-bill", "1.0.0"), ("download-bill", "1.1.0"))
CONTRACT = agent("contract", ("view-contract", "1.1.0"))
WEB = channel("web-stable", ("view-bill", ">=1.0.0 <2.0.0"), ("view-contract", ">=1.0.0"))
BASE = Design(
    name="base",
    agents=(BILLING, CONTRACT),
    channels=(WEB,),
    groups=(Group(name="billing-domain", members=("billing",)),),
    trust_edges=(
        TrustEdge(caller="contract", callee="billing", capabilities=("view-bill",)),
        TrustEdge(caller="group:billing-domain", callee="contract"),
    ),
)


def kinds(diff: DesignDiff, severity: str | None = None) -> set[str]:
    return {c.kind for c in diff.changes if severity is None or c.severity == severity}


def only(diff: DesignDiff, kind: str) -> Change:
    found = [c for c in diff.changes if c.kind == kind]
    assert len(found) == 1, diff.rows()
    return found[0]


def with_caps(base: Agent, *caps: tuple[str, str]) -> Agent:
    return base.model_copy(
        update={"capabilities": tuple(Capability(name=n, version=v, description=f"{n} things") for n, v in caps)}
    )


def with_ranges(*reqs: tuple[str, str]) -> Design:
    return BASE.replace(
        channels=(
            WEB.model_copy(
                update={"required_capabilities": tuple(RequiredCapability(name=n, version=v) for n, v in reqs)}
            ),
        )
    )


def test_identical_designs_have_no_changes() -> None:
    diff = diff_designs(BASE, BASE)
    assert diff.changes == [] and diff.routing_impact == [] and diff.breaking == []


def test_capability_added_is_compatible() -> None:
    diff = diff_designs(
        BASE,
        BASE.with_agent(with_caps(BILLING, ("view-bill", "1.0.0"), ("download-bill", "1.1.0"), ("pay-bill", "1.0.0"))),
    )
    change = only(diff, "capability-added")
    assert (change.severity, change.object, change.after) == (
        "compatible",
        "capability default/billing:pay-bill",
        "1.0.0",
    )
    assert not diff.breaking


def test_capability_removed_is_breaking_and_the_channel_becomes_unresolved() -> None:
    diff = diff_designs(BASE, BASE.with_agent(with_caps(CONTRACT)))
    removed = only(diff, "capability-removed")
    assert removed.severity == "breaking" and "default/web-stable" in removed.detail
    unresolved = only(diff, "channel-unresolved")
    assert (unresolved.severity, unresolved.before, unresolved.after) == (
        "breaking",
        "RESOLVED",
        "UNRESOLVED",
    )
    assert "view-contract" in unresolved.detail
    assert {"agent-left-channel", "requirement-unresolved"} <= kinds(diff, "breaking")


@pytest.mark.parametrize(
    ("old", "new", "kind", "severity"),
    [
        (">=1.0.0 <2.0.0", ">=1.0.0", "range-widened", "compatible"),
        ("1.0.0", "^1.0.0", "range-widened", "compatible"),
        (">=1.0.0", "^1.2.0", "range-narrowed", "breaking"),
        ("[1.0,2.0)", "1.0.0", "range-narrowed", "breaking"),
        (">=1.0.0 <2.0.0", "1.x", "range-rewritten", "info"),
        ("1.0.0", "1.1.0", "range-changed", "breaking"),
    ],
)
def test_range_changes(old: str, new: str, kind: str, severity: str) -> None:
    diff = diff_designs(with_ranges(("view-bill", old)), with_ranges(("view-bill", new)))
    change = only(diff, kind)
    assert (change.severity, change.before, change.after) == (severity, old, new)
    assert change.object == "requirement default/web-stable:view-bill"


def test_version_raised_within_range_is_compatible() -> None:
    diff = diff_designs(BASE, BASE.with_agent(with_caps(BILLING, ("view-bill", "1.4.0"), ("download-bill", "1.1.0"))))
    assert only(diff, "version-raised").severity == "compatible"
    provider = only(diff, "provider-changed")
    assert (provider.before, provider.after, provider.detail) == (
        "billing 1.0.0",
        "billing 1.4.0",
        "wired version changed",
    )
    assert not diff.breaking


def test_version_out_of_the_channels_range_is_breaking() -> None:
    diff = diff_designs(BASE, BASE.with_agent(with_caps(BILLING, ("view-bill", "2.0.0"), ("download-bill", "1.1.0"))))
    change = only(diff, "version-out-of-range")
    assert change.severity == "breaking" and "default/web-stable (>=1.0.0 <2.0.0)" in change.detail
    assert {"channel-unresolved", "agent-left-channel"} <= kinds(diff, "breaking")


def test_invalid_version_is_breaking_not_a_crash() -> None:
    diff = diff_designs(BASE, BASE.with_agent(with_caps(BILLING, ("view-bill", "1.0"), ("download-bill", "1.1.0"))))
    assert {"version-invalid", "channel-reconcile-fails"} <= kinds(diff, "breaking")


def test_agent_added_and_removed() -> None:
    extra = agent("faq", ("answer-faq", "1.0.0"))
    added = diff_designs(BASE, BASE.with_agent(extra))
    assert only(added, "agent-added").severity == "compatible" and not added.breaking
    removed = diff_designs(BASE.with_agent(extra), BASE)
    assert only(removed, "agent-removed").severity == "breaking"
    gone = diff_designs(BASE, BASE.replace(agents=(CONTRACT,)))
    assert "it served default/web-stable" in only(gone, "agent-removed").detail
    left = only(gone, "agent-left-channel")
    assert left.before == "default/billing" and "view-bill" in left.detail


def test_agent_leaving_a_channel_is_breaking_even_when_another_agent_takes_over() -> None:
    backup = agent("billing-backup", ("view-bill", "1.0.0"))
    old = BASE.with_agent(backup)
    new = old.with_agent(BILLING.model_copy(update={"supported_channels": ("ivr",)}))
    diff = diff_designs(old, new)
    channels = only(diff, "channels-changed")
    assert channels.severity == "breaking" and "no longer a candidate of channel default/web-stable" in channels.detail
    assert only(diff, "agent-left-channel").before == "default/billing"
    assert only(diff, "agent-joined-channel").after == "default/billing-backup"
    assert only(diff, "provider-changed").after == "billing-backup 1.0.0"
    assert "channel-unresolved" not in kinds(diff)


def test_subset_label_change_takes_an_agent_out_of_stable_channels() -> None:
    diff = diff_designs(BASE, BASE.with_agent(CONTRACT.model_copy(update={"labels": {"subset": "canary"}})))
    labels = only(diff, "labels-changed")
    assert labels.severity == "breaking" and "subset stable ≠ canary" not in labels.detail
    assert "subset canary ≠ stable" in labels.detail
    assert "channel-unresolved" in kinds(diff, "breaking")


def test_supported_channel_added_is_compatible() -> None:
    diff = diff_designs(BASE, BASE.with_agent(BILLING.model_copy(update={"supported_channels": ("web", "ivr")})))
    assert only(diff, "channels-changed").severity == "compatible" and not diff.breaking


def test_channel_becomes_unresolved_when_a_requirement_has_no_provider() -> None:
    diff = diff_designs(
        BASE,
        with_ranges(("view-bill", ">=1.0.0 <2.0.0"), ("view-contract", ">=1.0.0"), ("refund", ">=1.0.0")),
    )
    assert only(diff, "requirement-added").severity == "compatible"
    unresolved = only(diff, "channel-unresolved")
    assert unresolved.severity == "breaking" and "refund" in unresolved.detail
    fixed = diff_designs(with_ranges(("view-bill", "3.0.0")), with_ranges(("view-bill", ">=1.0.0")))
    assert {"channel-resolved", "range-widened", "requirement-resolved", "agent-joined-channel"} <= kinds(
        fixed, "compatible"
    )


def test_channel_added_removed_and_relabelled() -> None:
    ivr = channel("ivr-stable", ("view-bill", ">=1.0.0"), label="ivr")
    assert (
        only(diff_designs(BASE, BASE.replace(channels=(WEB, ivr))), "channel-added").detail
        == "channel added (UNRESOLVED)"
    )
    assert only(diff_designs(BASE.replace(channels=(WEB, ivr)), BASE), "channel-removed").severity == "breaking"
    moved = WEB.model_copy(update={"labels": {**WEB.labels, "tenant": "globex", "version": "1.1.0"}})
    diff = diff_designs(BASE, BASE.replace(channels=(moved,)))
    assert only(diff, "channel-label-changed").severity == "breaking"
    assert only(diff, "channel-labels-changed").severity == "info"


def test_requirement_removed_is_breaking() -> None:
    diff = diff_designs(BASE, with_ranges(("view-bill", ">=1.0.0 <2.0.0")))
    assert only(diff, "requirement-removed").severity == "breaking"
    assert only(diff, "agent-left-channel").before == "default/contract"


def test_trust_edges() -> None:
    added = TrustEdge(caller="billing", callee="contract", capabilities=("view-contract",))
    assert (
        only(diff_designs(BASE, BASE.replace(trust_edges=(*BASE.trust_edges, added))), "trust-added").severity
        == "compatible"
    )
    removed = diff_designs(BASE, BASE.replace(trust_edges=BASE.trust_edges[1:]))
    change = only(removed, "trust-removed")
    assert (change.severity, change.object, change.before) == (
        "breaking",
        "trust contract -> billing",
        "view-bill",
    )
    wider = BASE.replace(trust_edges=(TrustEdge(caller="contract", callee="billing"), BASE.trust_edges[1]))
    assert only(diff_designs(BASE, wider), "trust-widened").after == "all capabilities"
    assert only(diff_designs(wider, BASE), "trust-narrowed").severity == "breaking"
    described = BASE.replace(
        trust_edges=(BASE.trust_edges[0].model_copy(update={"description": "why"}), BASE.trust_edges[1])
    )
    assert kinds(diff_designs(BASE, described)) == {"trust-changed"}


def test_group_membership_matters_when_trust_names_the_group() -> None:
    smaller = BASE.replace(groups=(Group(name="billing-domain", members=()),))
    assert only(diff_designs(BASE, smaller), "group-members-removed").severity == "breaking"
    untrusted = BASE.replace(trust_edges=BASE.trust_edges[:1])
    assert (
        only(
            diff_designs(untrusted, smaller.replace(trust_edges=untrusted.trust_edges)),
            "group-members-removed",
        ).severity
        == "info"
    )
    bigger = BASE.replace(groups=(Group(name="billing-domain", members=("billing", "contract")), Group(name="new")))
    diff = diff_designs(BASE, bigger)
    assert only(diff, "group-members-added").after == "contract" and only(diff, "group-added").severity == "info"
    assert only(diff_designs(BASE, BASE.replace(groups=())), "group-removed").severity == "breaking"


def test_descriptions_and_examples_are_info() -> None:
    cap = BILLING.capabilities[0].model_copy(update={"description": "new text", "examples": ("show my bill",)})
    new = BASE.with_agent(
        BILLING.model_copy(update={"description": "Billing", "capabilities": (cap, BILLING.capabilities[1])})
    ).replace(description="changed")
    diff = diff_designs(BASE, new)
    assert kinds(diff) == {
        "agent-description-changed",
        "capability-description-changed",
        "capability-examples-changed",
        "design-changed",
    }
    assert {c.severity for c in diff.changes} == {"info"}


def test_diff_never_prints_credentials_of_endpoints_descriptions_or_schemes(tmp_path: Path) -> None:
    """`diff` showed an agent's changed endpoints, description, security schemes and annotations as written:
    a URL's user-info and token parameter and an `apiKey` value were printed (table, JSON, CI logs), though a
    saved design keeps them out. They are masked as `***` now, before a long value is cut."""
    from lmos_studio.model import Endpoint, SecurityScheme

    secrets = ("hunter2pass", "TOKEN77", "SCHEMEKEY55", "DESCPASS9")
    changed = BILLING.model_copy(
        update={
            "endpoints": (Endpoint(protocol="http", uri="http://bob:hunter2pass@billing.example/a?token=TOKEN77"),),
            "security": (SecurityScheme(name="k", scheme="apikey", extras={"apiKey": "SCHEMEKEY55"}),),
            "description": "Billing " + "x" * 100 + " see https://eve:DESCPASS9@docs.example/billing",
            "annotations": {"note": "https://bob:hunter2pass@billing.example/"},
        }
    )
    diff = diff_designs(BASE, BASE.with_agent(changed))
    assert {"agent-endpoints-changed", "agent-security-changed", "agent-description-changed"} <= kinds(diff)
    shown = json.dumps(diff.to_json())
    assert "billing.example/a?token=***" in shown and "***" in only(diff, "agent-security-changed").after
    assert not [s for s in secrets if s in shown]
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    write_design(BASE, old)
    (tmp_path / "new.yaml").write_text(
        old.read_text(encoding="utf-8").replace(
            "description: view-bill things", "description: 'see http://bob:hunter2pass@billing.example/?token=TOKEN77'"
        ),
        encoding="utf-8",
    )
    for output in ("table", "json"):
        result = run_cli("diff", str(old), str(new), "-o", output)
        assert "billing.example/?token=***" in result.stdout, result.stdout + result.stderr
        assert "hunter2pass" not in result.stdout + result.stderr and "TOKEN77" not in result.stdout


def test_rollouts_routing_tests_and_other_resources_are_tracked() -> None:
    rollout = ChannelRollout(
        name="r", canary_channel="web-canary", stable_channel="web-stable", canary_weight=10, stable_weight=90
    )
    service = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": "split", "namespace": "default"},
        "spec": {},
    }
    test = RoutingTest(query="show my bill", expect_agent="billing", channel="web-stable")
    new = BASE.replace(rollouts=(rollout,), other_resources=(service,), routing_tests=(test,))
    diff = diff_designs(BASE, new)
    assert {c.kind: c.severity for c in diff.changes} == {
        "rollout-added": "compatible",
        "routing-test-added": "info",
        "resource-added": "info",
    }
    assert only(diff, "resource-added").object == "resource VirtualService default/split"
    changed = new.replace(rollouts=(rollout.model_copy(update={"canary_weight": 50, "stable_weight": 50}),))
    assert only(diff_designs(new, changed), "rollout-changed").after == "web-stable 50 / web-canary 50"
    held = new.replace(routing_tests=(test.model_copy(update={"min_score": 0.6}),))  # only its own threshold
    change = only(diff_designs(new, held), "routing-test-changed")
    assert (change.before, change.after) == ("billing", "billing (minScore 0.6)")


def test_routing_settings_are_tracked() -> None:
    """`diff` said "No changes" when only spec.routing changed (threshold, lexicon policy, vocabulary, the
    out-of-scope list), though routing reads all of them."""
    routing = RoutingSettings(
        min_score=0.3,
        lexicon="none",
        vocabulary=(("laptop", "notebook"),),
        out_of_scope=(OutOfScopeExample(text="book a flight"), OutOfScopeExample(text="weather", channel="web")),
    )
    diff = diff_designs(BASE, BASE.replace(routing=routing))
    assert {c.kind: c.severity for c in diff.changes} == {
        "routing-threshold-changed": "info",
        "routing-lexicon-changed": "info",
        "vocabulary-added": "info",
        "out-of-scope-added": "info",
    }
    assert [c.object for c in diff.changes if c.kind == "out-of-scope-added"] == [
        "out-of-scope book a flight [every channel]",
        "out-of-scope weather [web]",
    ]
    assert (only(diff, "routing-threshold-changed").before, only(diff, "routing-threshold-changed").after) == (
        "",
        "0.3",
    )
    back = diff_designs(BASE.replace(routing=routing), BASE)
    assert {c.kind for c in back.changes} >= {"vocabulary-removed", "out-of-scope-removed"}
    assert diff_designs(BASE.replace(routing=routing), BASE.replace(routing=routing)).changes == []


def test_changes_are_listed_breaking_first_and_serialise_to_json() -> None:
    diff = diff_designs(BASE, BASE.replace(agents=(CONTRACT, agent("faq", ("answer", "1.0.0")))))
    severities = [c.severity for c in diff.changes]
    assert severities == sorted(severities, key=["breaking", "compatible", "info"].index)
    data = json.loads(json.dumps(diff.to_json()))
    assert data["summary"]["breaking"] == len(diff.breaking) > 0
    assert set(data["changes"][0]) == {"severity", "kind", "object", "detail", "before", "after"}
    assert data["routingImpact"]["method"] == "resolution"


def test_operator_fixture_updates() -> None:
    """The operator's own update cases: billing v2 raises download-bill, contract v2 drops view-contract."""

    def design(*files: str) -> Design:
        return read_design(*(OPERATOR / f for f in files))

    channel_file = "acme-web-channel-v1.yaml"
    v1 = design(channel_file, "acme-billing-agent-v1.yaml", "acme-contract-agent-v1.yaml")
    billing_v2 = diff_designs(v1, design(channel_file, "acme-billing-agent-v2.yaml", "acme-contract-agent-v1.yaml"))
    assert not billing_v2.breaking
    assert only(billing_v2, "version-raised").object == "capability default/billing-agent-stable:download-bill"
    assert only(billing_v2, "provider-changed").after == "billing-agent-stable 1.2.0"
    contract_v2 = diff_designs(v1, design(channel_file, "acme-billing-agent-v1.yaml", "acme-contract-agent-v2.yaml"))
    assert {"capability-removed", "channel-unresolved", "agent-left-channel"} <= kinds(contract_v2, "breaking")


# ------------------------------------------------------------------------------------------ routing impact


def test_routing_test_whose_agent_leaves_the_channel_is_an_impact() -> None:
    tests = (
        RoutingTest(query="show my bill", expect_agent="billing", channel="web-stable", expect_capability="view-bill"),
        RoutingTest(query="my contract", expect_agent="contract", channel="web-stable"),
        RoutingTest(query="anything", expect_agent="contract"),
    )
    old = BASE.replace(routing_tests=tests)
    new = old.replace(agents=(BILLING, agent("contract", ("view-contract", "1.1.0"), channels=("ivr",))))
    diff = diff_designs(old, new)
    assert diff.routing_method == "resolution" and len(diff.routing_impact) == 1
    change = diff.routing_impact[0]
    assert (change.query.text, change.before.agent, change.after.agent, change.query.source) == (
        "my contract",
        "contract",
        "",
        "routing-test",
    )
    assert change.broken and diff.impact_rows()[0]["after"] == "—"


def test_labelled_queries_by_capability(tmp_path: Path) -> None:
    csv = tmp_path / "queries.csv"
    csv.write_text(
        "text,agent,channel,capability\nshow my bill,billing,web,view-bill\n"
        "download it,billing,web-stable,download-bill\n",
        encoding="utf-8",
    )
    queries = read_labelled_csv(csv)
    assert queries[0] == LabelledQuery("show my bill", "billing", capability="view-bill", channel="web", line=2)
    backup = agent("billing-backup", ("view-bill", "1.5.0"))
    diff = diff_designs(BASE, BASE.with_agent(backup), queries=queries)
    assert [(r.query.text, r.before.agent, r.after.agent, r.after.capability) for r in diff.routing_impact] == [
        ("show my bill", "billing", "billing-backup", "view-bill")
    ]


@pytest.mark.parametrize(("text", "line"), [("query,label\nx,y\n", 1), ("text,agent\n,billing\n", 2), ("", 1)])
def test_bad_query_files_name_file_and_line(tmp_path: Path, text: str, line: int) -> None:
    path = tmp_path / "q.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DesignFileError) as info:
        read_labelled_csv(path)
    assert info.value.line == line and str(path) in str(info.value)


def test_instruction_column_of_the_lmos_router_benchmark_keeps_the_capability(tmp_path: Path) -> None:
    """`diff --queries` reads an `instruction,agent,intent` CSV as `eval` does: the intent is the capability."""
    path = tmp_path / "train.csv"
    path.write_text("instruction,agent,intent\nwhere is my parcel,shipping-agent,track\n", encoding="utf-8")
    assert read_labelled_csv(path) == [LabelledQuery("where is my parcel", "shipping-agent", "track", line=2)]


@dataclass
class _WordFitted:
    """A deterministic word-overlap router: enough to exercise the router path of the impact."""

    table: RoutingTable
    name: str = "words"

    def route(self, query: str, *, top_k: int = 5) -> RouteResult:
        words = set(query.lower().split())
        scored = sorted(
            ((len(words & set(c.capability.split("-"))), c) for c in self.table.candidates),
            key=lambda pair: -pair[0],
        )
        return RouteResult(
            router=self.name,
            matches=tuple(
                Match(agent=c.agent, capability=c.capability, score=float(s)) for s, c in scored[:top_k] if s
            ),
        )


class _WordRouter:
    name = "words"

    def fit(self, table: RoutingTable, *, seed: Sequence[tuple[str, str, str]] = ()) -> _WordFitted:
        return _WordFitted(table)


def test_router_answers_are_compared() -> None:
    queries = [
        LabelledQuery(text="view my contract", agent="contract", channel="web-stable"),
        LabelledQuery(text="view my bill", agent="billing", channel="web-stable"),
    ]
    diff = diff_designs(BASE, with_ranges(("view-bill", ">=1.0.0 <2.0.0")), queries=queries, router=_WordRouter())
    assert diff.routing_method == "words" and not diff.notes
    assert [(r.query.text, r.before.agent, r.after.agent) for r in diff.routing_impact] == [
        ("view my contract", "contract", "billing")
    ]


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), n_agents=st.integers(2, 40))
def test_a_design_compared_with_itself_has_no_changes(seed: int, n_agents: int) -> None:
    design = synthetic_design(n_agents=n_agents, n_channels=4, n_groups=3, n_edges=20, seed=seed)
    assert diff_designs(design, design).changes == []


# --------------------------------------------------------------------------------------------------- CLI


def test_cli_diff_exit_codes(tmp_path: Path) -> None:
    old, compatible, breaking = (
        tmp_path / "old.yaml",
        tmp_path / "compatible.yaml",
        tmp_path / "breaking.yaml",
    )
    write_design(BASE, old)
    write_design(BASE.with_agent(agent("faq", ("answer-faq", "1.0.0"))), compatible)
    write_design(BASE.replace(agents=(BILLING,)), breaking)
    same = run_cli("diff", str(old), str(compatible))
    assert same.returncode == 0, same.stderr
    assert "agent-added" in same.stdout and "0 breaking, 1 compatible" in same.stdout
    broken = run_cli("diff", str(old), str(breaking), "--output", "json")
    assert broken.returncode == 1, broken.stderr
    data = json.loads(broken.stdout)
    assert data["summary"]["breaking"] >= 2 and any(c["kind"] == "agent-removed" for c in data["changes"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: Agent\nmetadata: [unclosed\n", encoding="utf-8")
    invalid = run_cli("diff", str(old), str(bad))
    assert invalid.returncode == 2 and "bad.yaml" in invalid.stderr and "Traceback" not in invalid.stderr
    missing = run_cli("diff", str(old), str(tmp_path / "nope"))
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_cli_diff_of_a_folder_with_itself_and_queries(tmp_path: Path) -> None:
    queries = tmp_path / "q.csv"
    queries.write_text("text,agent,channel\nshow my bill,billing-agent-stable,acme-web-stable\n", encoding="utf-8")
    result = run_cli("diff", str(ACME), str(ACME), "--queries", str(queries))
    assert result.returncode == 0, result.stderr
    assert "no changes" in result.stdout


def test_impact_through_the_statistical_router_on_acme() -> None:
    design = read_design(ACME)
    billing = design.agent("billing-agent-stable")
    assert billing is not None
    new = design.with_agent(billing.model_copy(update={"supported_channels": ("ivr",)}))
    diff = diff_designs(design, new, router=get_router("statistical"))
    assert diff.routing_method == "statistical" and not diff.notes
    moved = {(r.query.text, r.before.agent) for r in diff.routing_impact}
    assert moved == {
        ("show me my bill please", "billing-agent-stable"),
        ("send me the invoice as a PDF", "billing-agent-stable"),
    }
    assert all(r.after.agent != "billing-agent-stable" and r.broken for r in diff.routing_impact)


@pytest.mark.parametrize(
    ("row", "needle"),
    [
        ("show my bill,nobody-agent,", "agent 'nobody-agent' is not an agent of the design"),
        ("show my bill,weather-agent,default/acme-web-stable", "agent 'weather-agent' is not an agent of channel"),
        ("show my bill,billing-agent-stable,no-such-channel", "channel 'no-such-channel' is not a Channel"),
    ],
)
def test_cli_diff_queries_naming_what_neither_design_has_exit_2(tmp_path: Path, row: str, needle: str) -> None:
    """Bug (session 12 QA): `diff --queries` dropped a row whose agent or channel neither design has ("no
    changes", exit 0); `eval` refuses it. Now: file, line and field, exit 2."""
    queries = tmp_path / "q.csv"
    queries.write_text(f"text,agent,channel\nshow my contract,contract-agent,\n{row}\n", encoding="utf-8")
    result = run_cli("diff", str(ACME), str(ACME), "--queries", str(queries))
    assert result.returncode == 2, result.stdout
    assert f"q.csv:3: {'channel' if 'channel ' in needle else 'agent'}: " in result.stderr
    assert needle in result.stderr and "Traceback" not in result.stderr


def test_diff_queries_may_name_an_agent_only_the_new_design_routes() -> None:
    backup = agent("billing-backup", ("view-bill", "1.5.0"))
    rows = [LabelledQuery("show my bill", "billing-backup", channel="web", line=2)]
    diff = diff_designs(BASE, BASE.with_agent(backup), queries=rows)
    assert [r.query.agent for r in diff.routing_impact] == ["billing-backup"]
