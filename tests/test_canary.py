"""make_canary: the acme sample, minimal designs, resolve rules, the x-subset VirtualService, CLI."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lmos_studio.canary import CANARY_OF, bump_version, canary_findings, make_canary
from lmos_studio.errors import ExportError
from lmos_studio.export.istio import VIRTUAL_SERVICE, virtual_service
from lmos_studio.formats.design_file import design_from_text, design_to_yaml, read_design
from lmos_studio.lifecycle import diff_designs
from lmos_studio.model import (
    Agent,
    Capability,
    Channel,
    Design,
    Endpoint,
    Group,
    RequiredCapability,
    TrustEdge,
)
from lmos_studio.resolve import resolve_design
from lmos_studio.synthetic import synthetic_design
from tests.conftest import ACME, REFERENCE, run_cli


@pytest.fixture(scope="module")
def acme() -> Design:
    return read_design(ACME)


def agent(name: str, *caps: tuple[str, str], **extra: Any) -> Agent:
    return Agent(
        name=name,
        supported_tenants=("acme",),
        supported_channels=("web",),
        capabilities=tuple(Capability(name=n, version=v) for n, v in caps),
        **extra,
    )


BILLING = agent(
    "billing",
    ("view-bill", "1.0.0"),
    ("download-bill", "1.1.0"),
    endpoints=(Endpoint(protocol="http", uri="http://billing.default.svc.cluster.local:8080"),),
)
CONTRACT = agent("contract", ("view-contract", "1.1.0"))
WEB = Channel(
    name="web-stable",
    labels={"tenant": "acme", "channel": "web", "version": "1.2.0", "subset": "stable"},
    required_capabilities=(
        RequiredCapability(name="view-bill", version=">=1.0.0"),
        RequiredCapability(name="view-contract", version=">=1.0.0"),
    ),
)
BASE = Design(
    name="base",
    agents=(BILLING, CONTRACT),
    channels=(WEB,),
    groups=(Group(name="billing-domain", members=("billing",)),),
    trust_edges=(TrustEdge(caller="contract", callee="billing", capabilities=("view-bill",)),),
)


def vs_of(design: Design, namespace: str = "default") -> dict[str, Any]:
    return next(
        d
        for d in design.other_resources
        if d["kind"] == "VirtualService" and d["metadata"] == {**d["metadata"], "namespace": namespace}
    )


def test_acme_canary_of_billing_agent_resolves(acme: Design) -> None:
    result = make_canary(acme, agents=["billing-agent-stable"])
    twin = result.agent("billing-agent-stable-canary")
    assert twin is not None and twin.subset == "canary" and twin.annotations[CANARY_OF] == "billing-agent-stable"
    assert twin.endpoints[0].uri.startswith("http://billing-agent-stable-canary.default.svc")
    web = result.channel("acme-web-stable-canary", "default")
    assert web is not None and web.subset == "canary" and web.tenant == "acme" and web.channel == "web"
    assert web.version == "1.0.1"  # unchanged copy → patch
    ivr = result.channel("acme-ivr-canary", "default")  # the existing canary of acme/ivr is replaced in place
    assert ivr is not None and ivr.version == "1.1.1"  # never lower than the canary it replaces
    assert [c.name for c in result.channels].count("acme-ivr-canary") == 1
    resolutions = {r.channel.key: r for r in resolve_design(result)}
    for key in ("default/acme-web-stable-canary", "default/acme-ivr-canary"):
        assert resolutions[key].resolved
        assert {a.subset for a in resolutions[key].agents} == {"canary"}  # a canary channel wires canary agents
    assert resolutions["default/acme-web-stable-canary"].provider("view-bill").agent.name == (  # type: ignore[union-attr]
        "billing-agent-stable-canary"
    )
    assert not [f for f in canary_findings(result) if f.severity == "error"]
    rollouts = {r.stable_channel: r for r in result.rollouts}
    assert (rollouts["acme-web-stable"].canary_channel, rollouts["acme-web-stable"].canary_weight) == (
        "acme-web-stable-canary",
        10,
    )
    assert rollouts["acme-ivr-stable"].name == "acme-ivr-rollout"  # the existing rollout is updated
    assert (rollouts["acme-ivr-stable"].stable_weight, rollouts["acme-ivr-stable"].canary_weight) == (90, 10)


def test_acme_virtual_service_splits_by_x_subset(acme: Design) -> None:
    result = make_canary(acme, agents=["billing-agent-stable"], canary_weight=25)
    service = vs_of(result)
    assert service["apiVersion"].startswith("networking.istio.io/") and service["metadata"]["name"] == VIRTUAL_SERVICE
    http = {h["name"]: h for h in service["spec"]["http"]}
    assert list(http) == [
        "pass-x-subset-default",
        "pass-x-subset-lmos-demo",
        "split-default-acme-ivr-rollout",
        "split-default-acme-web-stable-rollout",
        "namespace-default",
        "namespace-lmos-demo",
        "default",
    ]
    ivr, web = "^/apis/v1/tenants/acme/channels/ivr(/.*)?$", "^/apis/v1/tenants/acme/channels/web(/.*)?$"
    subset = {"x-subset": {"regex": ".+"}}
    assert http["pass-x-subset-default"]["match"] == [  # an existing x-subset passes through
        {"uri": {"regex": ivr}, "headers": subset},
        {"uri": {"regex": web}, "sourceNamespace": "default", "headers": subset},  # acme/web is in lmos-demo too
    ]
    assert http["pass-x-subset-default"]["route"][0]["headers"] == {"request": {"set": {"x-namespace": "default"}}}
    split = http["split-default-acme-web-stable-rollout"]
    assert split["match"] == [{"uri": {"regex": web}, "sourceNamespace": "default"}]
    assert [
        (r["weight"], r["headers"]["request"]["set"]["x-subset"])
        for r in http["split-default-acme-web-stable-rollout"]["route"]
    ] == [(75, "stable"), (25, "canary")]
    assert http["default"] == {"name": "default", "route": [{"destination": ANY}]}  # everything else: unchanged
    assert re.fullmatch(ivr, "/apis/v1/tenants/acme/channels/ivr/routing")
    assert not re.fullmatch(ivr, "/apis/v1/tenants/acme/channels/ivr2")


def test_canary_round_trips_through_the_design_file(acme: Design) -> None:
    result = make_canary(acme, agents=["billing-agent-stable"])
    loaded = design_from_text(design_to_yaml(result), path="canary.yaml").design
    assert loaded.replace(name=result.name) == result
    assert diff_designs(result, loaded.replace(name=result.name)).changes == []


def test_changed_capabilities_go_to_the_twin_and_raise_the_channel_version() -> None:
    changed = BILLING.model_copy(
        update={
            "capabilities": (
                Capability(name="view-bill", version="1.3.0"),
                Capability(name="pay-bill", version="1.0.0"),
            )
        }
    )
    result = make_canary(BASE, agents=["billing"], changes={"billing": changed}, canary_weight=5)
    twin = result.agent("billing-canary")
    assert twin is not None and [(c.name, c.version) for c in twin.capabilities] == [
        ("view-bill", "1.3.0"),
        ("pay-bill", "1.0.0"),
    ]
    canary = result.channel("web-stable-canary")
    assert canary is not None and canary.version == "2.0.0"  # download-bill dropped → major
    copy = result.agent("contract-canary")  # unchanged but wired: copied, else the canary cannot resolve
    assert copy is not None and copy.capabilities == CONTRACT.capabilities and copy.subset == "canary"
    assert result.agent("billing") == BILLING  # the stable agent is untouched
    assert canary_findings(result) == []
    edges = {e.key for e in result.trust_edges}
    assert "contract-canary->billing-canary[view-bill]" in edges and "contract->billing[view-bill]" in edges
    assert result.group("billing-domain").members == ("billing", "billing-canary")  # type: ignore[union-attr]
    rollout = result.rollouts[0]
    assert (rollout.name, rollout.stable_weight, rollout.canary_weight) == ("web-stable-rollout", 95, 5)


@pytest.mark.parametrize(
    ("caps", "version"),
    [
        ((("view-bill", "1.0.1"), ("download-bill", "1.1.0")), "1.2.1"),
        ((("view-bill", "1.1.0"), ("download-bill", "1.1.0")), "1.3.0"),
        ((("view-bill", "1.0.0"), ("download-bill", "1.1.0"), ("pay", "1.0.0")), "1.3.0"),
        ((("view-bill", "2.0.0"), ("download-bill", "1.1.0")), "2.0.0"),
        ((("view-bill", "0.9.0"), ("download-bill", "1.1.0")), "2.0.0"),
    ],
)
def test_version_bump_rule(caps: tuple[tuple[str, str], ...], version: str) -> None:
    changed = BILLING.model_copy(update={"capabilities": tuple(Capability(name=n, version=v) for n, v in caps)})
    result = make_canary(BASE, agents=["billing"], changes={"billing": changed})
    assert result.channel("web-stable-canary").version == version  # type: ignore[union-attr]


def test_bump_version_of_odd_labels() -> None:
    assert bump_version(None, 1) == "0.0.0-canary"
    assert bump_version("v2", 2) == "v2-canary"
    assert bump_version("1.0.0", 2, floor="1.4.0") == "1.4.1"


def test_a_canary_that_loses_a_required_capability_is_reported() -> None:
    changed = BILLING.model_copy(update={"capabilities": (Capability(name="download-bill", version="1.1.0"),)})
    result = make_canary(BASE, agents=["billing"], changes={"billing": changed})
    findings = canary_findings(result)
    assert [(f.severity, f.code, f.object) for f in findings] == [
        ("error", "canary-without-agents", "channel default/web-stable-canary")
    ]
    assert "view-bill" in findings[0].message and "UNRESOLVED" in str(findings[0])


def test_an_older_canary_agent_that_wins_a_requirement_is_a_warning(acme: Design) -> None:
    findings = canary_findings(make_canary(acme, agents=["billing-agent-stable"]))
    assert {(f.code, f.severity) for f in findings} == {("canary-other-provider", "warning")}
    assert "billing-agent-canary 1.2.0" in findings[0].message


def test_channel_name_collision_and_repeated_canaries() -> None:
    taken = Channel(name="web-stable-canary", labels={"tenant": "other", "channel": "web", "subset": "stable"})
    result = make_canary(BASE.replace(channels=(WEB, taken)), agents=["billing"])
    assert result.channel("web-stable-canary-2") is not None
    again = make_canary(make_canary(BASE, agents=["billing"], canary_weight=10), agents=["billing"], canary_weight=30)
    assert [c.name for c in again.channels] == ["web-stable", "web-stable-canary"]
    assert [(r.stable_weight, r.canary_weight) for r in again.rollouts] == [(70, 30)]
    assert len([d for d in again.other_resources if d["kind"] == "VirtualService"]) == 1
    assert len(again.trust_edges) == 2


@pytest.mark.parametrize(
    ("agents", "weight", "message"),
    [
        (["nobody"], 10, "not in the design"),
        (["billing"], 150, "outside 0–100"),
        ([], 10, "at least one agent"),
    ],
)
def test_bad_requests_are_export_errors(agents: list[str], weight: int, message: str) -> None:
    with pytest.raises(ExportError, match=message):
        make_canary(BASE, agents=agents, canary_weight=weight)


def test_a_canary_agent_name_too_long_for_its_service_is_refused(tmp_path: Path) -> None:
    # 'b' * 60 is a valid agent name; its twin 'b…b-canary' (67 characters) cannot be a Service name
    long = agent("b" * 60, ("view-bill", "1.0.0"))
    design = BASE.replace(agents=(long, CONTRACT), trust_edges=(), groups=())
    with pytest.raises(ExportError, match=r"'b{60}-canary', which is 67 characters long \(at most 63") as caught:
        make_canary(design, agents=["b" * 60])
    assert caught.value.resource == f"Agent default/{'b' * 60}"
    source = tmp_path / "design.yaml"
    source.write_text(design_to_yaml(design))
    result = run_cli("canary", str(source), "--out", str(tmp_path / "out.yaml"), "--agent", "b" * 60)
    assert result.returncode == 2 and "67 characters long" in result.stderr, result.stderr
    assert not (tmp_path / "out.yaml").exists()


def test_a_canary_agent_or_an_unwired_agent_cannot_be_canaried() -> None:
    with pytest.raises(ExportError, match="subset canary"):
        make_canary(BASE.with_agent(agent("x", labels={"subset": "canary"})), agents=["x"])
    with pytest.raises(ExportError, match="no stable Channel wires"):
        make_canary(BASE.with_agent(agent("lonely", ("other", "1.0.0"))), agents=["lonely"])


def test_a_twin_name_taken_by_a_stable_agent_is_refused_not_replaced(tmp_path: Path) -> None:
    """A stable agent named billing-canary (another agent, with its own capabilities) was replaced by billing's twin:
    it was gone from the written design, without a word. Now canary refuses, naming it, before writing anything."""
    taken = agent("billing-canary", ("other-cap", "1.0.0"))
    for picked in (["billing"], ["contract"]):  # the changed agent's twin, or the copy of a co-wired agent's
        message = r"agent default/billing-canary \(subset stable\) is already in"
        with pytest.raises(ExportError, match=message) as caught:
            make_canary(BASE.with_agent(taken), agents=picked)
        assert caught.value.resource == "Agent default/billing-canary"
    source = tmp_path / "design.yaml"
    source.write_text(design_to_yaml(BASE.with_agent(taken)))
    result = run_cli("canary", str(source), "--out", str(tmp_path / "out.yaml"), "--agent", "billing")
    assert result.returncode == 2 and "rename that agent first" in result.stderr, result.stderr
    assert not (tmp_path / "out.yaml").exists()


def test_a_rollout_whose_channels_are_no_stable_canary_pair_is_an_error() -> None:
    """A ChannelRollout with its channels swapped, or naming a canary of another tenant/channel, was reported as fine
    (canary exited 0, lint said nothing), though the split matches the stable channel's path and sends the canary's
    share with x-subset: canary, which the operator answers with that tenant/channel's canary, not the one named."""
    from lmos_studio.model import ChannelRollout

    design = make_canary(BASE, agents=["billing"])
    ivr = WEB.model_copy(update={"name": "ivr-stable", "labels": {**WEB.labels, "channel": "ivr"}})
    ivr_canary = ivr.model_copy(update={"name": "ivr-canary", "labels": {**ivr.labels, "subset": "canary"}})
    design = design.replace(channels=(*design.channels, ivr, ivr_canary))
    cases = {
        ("web-stable-canary", "web-stable"): [
            "stable channel web-stable-canary has subset canary, not stable",
            "canary channel web-stable has subset stable, not canary",
        ],
        ("web-stable", "ivr-canary"): [
            "its channels are of different tenants/channels (stable web-stable: acme/web, canary ivr-canary: "
            "acme/ivr): the canary's share of acme/web is answered by that tenant/channel's subset=canary Channel, "
            "not by ivr-canary"
        ],
    }
    for (stable, canary), said in cases.items():
        rollout = ChannelRollout(
            name="r", stable_channel=stable, canary_channel=canary, stable_weight=90, canary_weight=10
        )
        found = [f for f in canary_findings(design.replace(rollouts=(rollout,))) if f.code.startswith("rollout-")]
        assert [(f.severity, f.code, f.message) for f in found] == [
            ("error", "rollout-channel-mismatch", message) for message in said
        ]
    assert not [f for f in canary_findings(design) if f.code.startswith("rollout-")]  # canary's own pair is fine


def test_rollout_weights_outside_0_to_100_are_reported_even_when_they_add_up() -> None:
    from lmos_studio.model import ChannelRollout

    # 150 / -50 adds up to 100: before, no finding (the VirtualService would get a negative weight)
    rollout = ChannelRollout(
        name="r", canary_channel="web-stable", canary_weight=150, stable_channel="web-stable", stable_weight=-50
    )
    found = [f for f in canary_findings(BASE.replace(rollouts=(rollout,))) if f.code == "rollout-weights"]
    assert len(found) == 1 and "0–100" in found[0].message, found


def test_virtual_service_without_rollouts_passes_everything_through() -> None:
    service = virtual_service(BASE, operator_host="lmos-operator.lmos.svc.cluster.local")
    assert [r["name"] for r in service["spec"]["http"]] == ["pass-x-subset-default", "namespace-default", "default"]
    assert service["spec"]["hosts"] == ["lmos-operator.lmos.svc.cluster.local"]
    assert service["metadata"]["namespace"] == "lmos"  # beside the operator, as its chart writes its own


def test_twins_join_trust_edges_and_groups_that_name_agents_by_key() -> None:
    # before, only bare names were mirrored: `shop/contract -> shop/billing` got no canary copy and
    # billing-canary did not join a group listing `shop/billing`, so the canary contract could not call it
    shop = BASE.replace(
        agents=(
            *(a.model_copy(update={"namespace": "shop"}) for a in BASE.agents),
            agent("billing-canary", namespace="other"),  # another agent of the twin's name: bare is ambiguous
        ),
        channels=(WEB.model_copy(update={"namespace": "shop"}),),
        groups=(Group(name="billing-team", members=("shop/billing",)), Group(name="all", members=("billing",))),
        trust_edges=(
            TrustEdge(caller="shop/contract", callee="shop/billing", capabilities=("view-bill",)),
            TrustEdge(caller="contract", callee="billing"),
        ),
    )
    result = make_canary(shop, agents=["shop/billing"])
    assert {e.key for e in result.trust_edges} == {
        "shop/contract->shop/billing[view-bill]",
        "shop/contract-canary->shop/billing-canary[view-bill]",
        "contract->billing",
        "contract-canary->shop/billing-canary",  # the bare twin name would also name other/billing-canary
    }
    assert result.group("billing-team").members == ("shop/billing", "shop/billing-canary")  # type: ignore[union-attr]
    assert result.group("all").members == ("billing", "shop/billing-canary")  # type: ignore[union-attr]


def _in(design: Design, namespace: str) -> Design:
    return design.replace(
        agents=tuple(a.model_copy(update={"namespace": namespace}) for a in design.agents),
        channels=tuple(c.model_copy(update={"namespace": namespace}) for c in design.channels),
        groups=(),
        trust_edges=(),
    )


def test_every_route_of_the_virtual_service_sets_x_namespace() -> None:
    # before, only the split routes set it: a request with x-subset (pass-x-subset) or for another channel
    # (default) reached the operator without x-namespace, which then looked in namespace `default`
    service = vs_of(make_canary(_in(BASE, "shop"), agents=["billing"]))
    routes = {r["name"]: r["route"] for r in service["spec"]["http"]}
    assert list(routes) == ["pass-x-subset-shop", "split-shop-web-stable-rollout", "namespace-shop", "default"]
    for name, route in routes.items():
        for destination in route:
            if name != "default":  # another design's channel: not ours to say where it is
                assert destination["headers"]["request"]["set"]["x-namespace"] == "shop", name


def _routed(service: dict[str, Any], path: str, *, source: str, subset: str | None = None) -> list[dict[str, str]]:
    """The headers each destination of the first route matching a request sets (as Istio picks: first match)."""
    for http in service["spec"]["http"]:
        for match in http.get("match", [{}]):
            if (
                ("uri" not in match or re.fullmatch(match["uri"]["regex"], path))
                and match.get("sourceNamespace", source) == source
                and ("headers" not in match or subset is not None)
            ):
                return [r.get("headers", {}).get("request", {}).get("set", {}) for r in http["route"]]
    raise AssertionError(f"no route for {path}")


def test_canaries_in_two_namespaces_get_one_virtual_service_routing_each_to_its_namespace() -> None:
    """Canaries of shop/billing and care/billing gave two VirtualServices for the operator's host, each with a catch-all
    setting x-namespace to its own namespace: Istio applies one of them (which, it does not say), so the runtime's
    requests for one namespace's channels got the other's x-namespace. Now one VirtualService, beside the operator,
    routes each namespace's channels (by path; by the caller's namespace where both hold the tenant/channel)."""
    other = WEB.model_copy(update={"labels": {**WEB.labels, "tenant": "globex"}})
    globex = tuple(a.model_copy(update={"supported_tenants": ("globex",)}) for a in BASE.agents)
    shop, care = _in(BASE, "shop"), _in(BASE.replace(agents=globex, channels=(other,)), "care")
    design = shop.replace(agents=(*shop.agents, *care.agents), channels=(*shop.channels, *care.channels))
    result = make_canary(design, agents=["shop/billing", "care/billing"], canary_weight=20)
    (service,) = [d for d in result.other_resources if d["kind"] == "VirtualService"]
    assert service["metadata"]["namespace"] == "default"  # the operator's (lmos-operator.default.svc…)
    for tenant, namespace in (("acme", "shop"), ("globex", "care")):
        path = f"/apis/v1/tenants/{tenant}/channels/web/routing"
        assert _routed(service, path, source="lmos") == [
            {"x-subset": "stable", "x-namespace": namespace},
            {"x-subset": "canary", "x-namespace": namespace},
        ]
        assert _routed(service, path, source="lmos", subset="canary") == [{"x-namespace": namespace}]
    assert _routed(service, "/apis/v1/tenants/other/channels/web", source="lmos") == [{}]
    # the same tenant/channel in both namespaces: only the caller's namespace tells them apart (as LMOS's chart does)
    twin = _in(BASE, "care")
    same = shop.replace(agents=(*shop.agents, *twin.agents), channels=(*shop.channels, *twin.channels))
    (service,) = [
        d
        for d in make_canary(same, agents=["shop/billing", "care/billing"]).other_resources
        if d["kind"] == "VirtualService"
    ]
    for namespace in ("shop", "care"):
        assert _routed(service, "/apis/v1/tenants/acme/channels/web", source=namespace) == [
            {"x-subset": "stable", "x-namespace": namespace},
            {"x-subset": "canary", "x-namespace": namespace},
        ]
    # a design that kept a VirtualService per namespace (as canary wrote them before) gets the one in their place
    again = make_canary(result.replace(other_resources=tuple(_old_per_namespace())), agents=["shop/billing"])
    assert [d["metadata"]["namespace"] for d in again.other_resources if d["kind"] == "VirtualService"] == ["default"]


def _old_per_namespace() -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "networking.istio.io/v1",
            "kind": "VirtualService",
            "metadata": {
                "name": VIRTUAL_SERVICE,
                "namespace": namespace,
                "labels": {"app.kubernetes.io/managed-by": "lmos-studio"},
            },
            "spec": {"hosts": ["lmos-operator.default.svc.cluster.local"], "http": []},
        }
        for namespace in ("care", "shop")
    ]


def test_cli_canary_writes_a_design_that_resolves(tmp_path: Path) -> None:
    out = tmp_path / "canary.yaml"
    result = run_cli("canary", str(ACME), "--agent", "billing-agent-stable", "--weight", "20", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "canary-other-provider" in result.stderr and "wrote" in result.stdout
    design = read_design(out)
    assert {r.stable_channel: r.canary_weight for r in design.rollouts}["acme-web-stable"] == 20
    diff = run_cli("diff", str(ACME), str(out), "--output", "json")
    assert diff.returncode == 1  # replacing the old acme-ivr-canary changes its ranges: breaking for it
    bad = run_cli("canary", str(ACME), "--agent", "nobody", "--out", str(tmp_path / "x.yaml"))
    assert bad.returncode == 2 and "not in the design" in bad.stderr and not (tmp_path / "x.yaml").exists()


def test_cli_canary_says_what_it_derived_when_run_again(tmp_path: Path) -> None:
    """canary run again with another weight said 'wrote …: 0 canary agent(s), 0 new canary channel(s), 1 rollout(s)',
    though it changed the canary channel (its version) and the rollout (30 %): it counted only growth."""
    source, out = tmp_path / "design.yaml", tmp_path / "out.yaml"
    source.write_text(design_to_yaml(BASE))
    first = run_cli("canary", str(source), "--out", str(out), "--agent", "billing")
    assert first.returncode == 0, first.stderr
    said = "2 canary agent(s) (2 new), 1 canary channel(s) (1 new), 1 rollout(s) (1 new)"
    assert f"wrote {out}: {said}" in first.stdout + first.stderr
    again = run_cli("canary", str(out), "--out", str(out), "--agent", "billing", "--weight", "30")
    assert again.returncode == 0, again.stderr
    said = "0 canary agent(s) (0 new), 1 canary channel(s) (0 new), 1 rollout(s) (0 new)"  # twins as they were
    assert f"wrote {out}: {said}" in again.stdout + again.stderr


def test_cli_canary_refuses_changes_with_a_bad_version_before_writing(tmp_path: Path) -> None:
    # before: the design was written ('wrote …'), then the version error surfaced: exit 2 with a file left behind
    changes = tmp_path / "next.yaml"
    changes.write_text(
        "apiVersion: lmos.eclipse/v1\nkind: Agent\nmetadata: {name: contract-agent}\nspec:\n"
        "  supportedTenants: [acme]\n  supportedChannels: [ivr, web]\n"
        "  providedCapabilities: [{name: view-contract, version: '2.0'}]\n"
    )
    out = tmp_path / "canary.yaml"
    result = run_cli("canary", str(ACME), "--changes", str(changes), "--out", str(out))
    assert result.returncode == 2 and "'2.0' is not strict SemVer" in result.stderr, result.stderr
    assert f"{changes}:" in result.stderr  # the file to fix, not the derived canary agent
    assert "wrote" not in result.stdout and not out.exists()


def test_ranges_give_the_canary_its_own_requirements() -> None:
    changed = BILLING.model_copy(update={"capabilities": (Capability(name="view-bill", version="2.0.0"),)})
    stuck = make_canary(
        BASE.replace(
            channels=(
                WEB.model_copy(
                    update={"required_capabilities": (RequiredCapability(name="view-bill", version="^1.0.0"),)}
                ),
            )
        ),
        agents=["billing"],
        changes={"billing": changed},
    )
    assert "--range" in canary_findings(stuck)[0].message
    fixed = make_canary(BASE, agents=["billing"], changes={"billing": changed}, ranges={"view-bill": ">=2.0.0"})
    canary = fixed.channel("web-stable-canary")
    assert canary is not None and canary.required_capabilities[0].version == ">=2.0.0"
    assert fixed.channel("web-stable") == WEB and canary_findings(fixed) == []
    with pytest.raises(ExportError, match="no affected stable Channel requires refund"):
        make_canary(BASE, agents=["billing"], ranges={"refund": "*"})


def test_cli_canary_from_the_operators_v2_fixtures(tmp_path: Path) -> None:
    billing_v2 = REFERENCE / "lmos-operator" / "acme-billing-agent-v2.yaml"
    out = tmp_path / "billing.yaml"
    ok = run_cli("canary", str(ACME), "--changes", str(billing_v2), "--range", "view-bill=1.0.0", "--out", str(out))
    assert ok.returncode == 0, ok.stderr
    twin = read_design(out).agent("billing-agent-stable-canary")
    assert twin is not None and twin.capability("download-bill").version == "1.2.0"  # type: ignore[union-attr]
    contract_v2 = REFERENCE / "lmos-operator" / "acme-contract-agent-v2.yaml"
    broken = run_cli("canary", str(ACME), "--changes", str(contract_v2), "--out", str(tmp_path / "contract.yaml"))
    assert broken.returncode == 1 and "canary-without-agents" in broken.stderr
    assert (tmp_path / "contract.yaml").exists()  # written anyway, so it can be inspected
    bad = run_cli("canary", str(ACME), "--agent", "contract-agent", "--range", "oops", "--out", str(out))
    assert bad.returncode == 2 and "NAME=RANGE" in bad.stderr


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), pick=st.integers(0, 1_000))
def test_a_canary_never_disturbs_the_stable_channels(seed: int, pick: int) -> None:
    design = synthetic_design(n_agents=30, n_channels=6, n_groups=3, n_edges=20, seed=seed)
    wired = sorted({a.name for r in resolve_design(design) if r.channel.subset == "stable" for a in r.agents})
    assume(wired)
    result = make_canary(design, agents=[wired[pick % len(wired)]])
    before = {r.channel.key: r for r in resolve_design(design)}
    after = {r.channel.key: r for r in resolve_design(result)}
    for key, resolution in before.items():
        if resolution.channel.subset == "stable":
            assert after[key] == resolution  # canary agents are never candidates of stable channels
    for resolution in after.values():
        if resolution.channel.subset == "canary":
            assert all(a.subset == "canary" for a in resolution.agents)
    canaries = {c.key for c in result.channels if c.subset == "canary"}
    for change in diff_designs(design, result).breaking:
        assert change.object.split(" ")[1].rsplit(":", 1)[0] in canaries, change
    assert design_from_text(design_to_yaml(result)).design.replace(name=result.name) == result


@pytest.mark.parametrize("target", ["studio.yaml", "canary.yaml"])
def test_cli_canary_refuses_to_write_into_the_folder_it_read(tmp_path: Path, target: str) -> None:
    """Bug (session 16 QA): `canary acme --out acme/studio.yaml` wrote the whole design over the folder's Studio
    file (or, with a new name, beside the other files): the folder then held every agent, channel and rollout
    twice, and the next read warned of each as "appears again". Writing over a design read from one file stays
    allowed (its comments are kept)."""
    import shutil

    folder = tmp_path / "acme"
    shutil.copytree(ACME, folder)
    before = {p: p.read_bytes() for p in folder.rglob("*.yaml")}
    result = run_cli("canary", str(folder), "--agent", "contract-agent", "--out", str(folder / target))
    assert result.returncode == 2, result.stdout
    assert "inside the folder the design was read from" in result.stderr and "write it outside" in result.stderr
    assert {p: p.read_bytes() for p in folder.rglob("*.yaml")} == before  # nothing written
    single = tmp_path / "one.yaml"
    run_cli("canary", str(ACME), "--agent", "contract-agent", "--out", str(single))
    again = run_cli("canary", str(single), "--agent", "weather-agent", "--out", str(single))
    assert again.returncode in (0, 1), again.stderr  # over the one file read: allowed


def _split_weights(bundle: Any) -> dict[str, dict[str, int]]:
    service = next(m.document for m in bundle.manifests if m.document["kind"] == "VirtualService")
    return {
        http["name"]: {r["headers"]["request"]["set"]["x-subset"]: r["weight"] for r in http["route"]}
        for http in service["spec"]["http"]
        if http["name"].startswith("split-")
    }


def test_the_exported_split_follows_rollout_weights_edited_after_canary() -> None:
    """canary wrote the VirtualService at 90/10; the ChannelRollout was then edited to 50/50 (by hand, in its YAML),
    and export wrote the rollout at 50/50 beside a VirtualService still splitting 90/10, silently: the operator
    does not act on the rollout, so the canary kept 10 %. The export's split now follows the rollout, with a note."""
    from lmos_studio.export.bundle import ExportOptions, export_design

    design = make_canary(BASE, agents=["billing"], canary_weight=10)
    rollout = design.rollouts[0]
    assert _split_weights(export_design(design, ExportOptions())) == {
        "split-default-web-stable-rollout": {"stable": 90, "canary": 10}
    }
    edited = design.replace(rollouts=(rollout.model_copy(update={"stable_weight": 50, "canary_weight": 50}),))
    bundle = export_design(edited, ExportOptions())
    assert _split_weights(bundle) == {"split-default-web-stable-rollout": {"stable": 50, "canary": 50}}
    assert (
        "VirtualService default/lmos-operator-subset-split: route split-default-web-stable-rollout now splits "
        "stable 90 → 50, canary 10 → 50, as ChannelRollout default/web-stable-rollout says" in "\n".join(bundle.notes)
    )
    assert not any("ChannelRollout" in n and "no VirtualService" in n for n in bundle.notes)
    unsplit = design.replace(rollouts=(rollout.model_copy(update={"stable_weight": 0, "canary_weight": 0}),))
    kept = _split_weights(export_design(unsplit, ExportOptions()))["split-default-web-stable-rollout"]
    assert kept == {  # no split: kept
        "stable": 90,
        "canary": 10,
    }


def test_the_exported_split_follows_channel_labels_edited_after_canary() -> None:
    """canary wrote the VirtualService for acme/web; the channels' channel label was then edited to chat, and export
    kept routes matching /channels/web, silently: the canary got none of acme/chat's traffic, and its requests no
    x-namespace. The routes now match the design's channels, with a note."""
    from lmos_studio.export.bundle import ExportOptions, export_design

    design = make_canary(BASE, agents=["billing"])
    edited = design.replace(
        channels=tuple(c.model_copy(update={"labels": {**c.labels, "channel": "chat"}}) for c in design.channels)
    )
    bundle = export_design(edited, ExportOptions())
    service = next(m.document for m in bundle.manifests if m.document["kind"] == "VirtualService")
    chat = "^/apis/v1/tenants/acme/channels/chat(/.*)?$"
    assert [[m["uri"]["regex"] for m in h.get("match", [])] for h in service["spec"]["http"]] == [[chat]] * 3 + [[]]
    assert _routed(service, "/apis/v1/tenants/acme/channels/chat/routing", source="lmos") == [
        {"x-subset": "stable", "x-namespace": "default"},
        {"x-subset": "canary", "x-namespace": "default"},
    ]
    notes = [n for n in bundle.notes if "now matches" in n]
    assert notes[1] == (
        "VirtualService default/lmos-operator-subset-split: route split-default-web-stable-rollout now matches "
        f"{chat}, the paths of the design's channels (a channel's tenant or channel label was edited after the "
        "VirtualService was written)"
    )
    assert len(notes) == 3
    assert not [n for n in export_design(design, ExportOptions()).notes if "now matches" in n]


def test_an_export_says_when_nothing_splits_a_rollout(acme: Design) -> None:
    """The acme sample's ChannelRollout (90/10) was exported without a word, though no VirtualService splits by it:
    the canary got no request without an x-subset header."""
    from lmos_studio.export.bundle import ExportOptions, export_design

    notes = export_design(acme, ExportOptions()).notes
    assert [n for n in notes if n.startswith("ChannelRollout")] == [
        "ChannelRollout default/acme-ivr-rollout: no VirtualService lmos-operator-subset-split splits its traffic (the "
        "operator does not act on a ChannelRollout), so the canary gets none of the requests without an x-subset "
        "header; run 'lmos-studio canary' (it writes one for the design's rollouts), or split by x-subset yourself"
    ]


def test_an_export_says_when_the_split_is_for_an_operator_elsewhere() -> None:
    """canary wrote the VirtualService for lmos-operator.default.svc.cluster.local (its default); exported with
    --lmos-namespace platform, where the policies take the operator to run, it was kept without a word and split
    nothing (no one calls that host). A note now says so and what to do."""
    from lmos_studio.export.bundle import ExportOptions, export_design

    design = make_canary(BASE, agents=["billing"])
    assert not [n for n in export_design(design, ExportOptions()).notes if "--operator-host" in n]
    notes = [n for n in export_design(design, ExportOptions(lmos_namespace="platform")).notes if "--operator-host" in n]
    assert notes == [
        "VirtualService default/lmos-operator-subset-split splits the traffic of "
        "lmos-operator.default.svc.cluster.local, but the export takes the LMOS operator to run in namespace "
        "platform (--lmos-namespace), at "
        "lmos-operator.platform.svc.cluster.local: if it does, nothing is split; run 'lmos-studio canary' again with "
        "--operator-host lmos-operator.platform.svc.cluster.local, or export with --lmos-namespace default"
    ]
    moved = make_canary(BASE, agents=["billing"], operator_host="lmos-operator.platform.svc.cluster.local")
    moved_notes = export_design(moved, ExportOptions(lmos_namespace="platform")).notes
    assert not [n for n in moved_notes if "--operator-host" in n]


def test_the_canary_of_an_agent_with_its_own_service_account_runs_as_another_and_exports() -> None:
    """The twin of an agent running as service account billing-sa ran as billing-sa too: export refused the design
    ('Agents default/billing-canary and default/billing both run as service account …'), and Istio could not have
    told the canary's pods from the stable ones. The twin now runs as billing-sa-canary (past 63 characters, as its
    own name); trust in the stable agent is not trust in the twin."""
    from lmos_studio.export.bundle import ExportOptions, export_design
    from lmos_studio.model import Workload

    for account, twin_account in (("billing-sa", "billing-sa-canary"), ("s" * 60, "")):
        billing = BILLING.model_copy(update={"workload": Workload(image="img:1", service_account=account)})
        design = make_canary(BASE.replace(agents=(billing, CONTRACT)), agents=["billing"])
        twin = design.agent("billing-canary")
        assert twin is not None and twin.workload is not None
        assert twin.workload.service_account == twin_account and twin.workload.image == "img:1"
        by_ref = {m.ref: m.document for m in export_design(design, ExportOptions(with_istio=True)).manifests}
        principals = by_ref["AuthorizationPolicy default/allow-ingress-billing-canary"]["spec"]["rules"][0]["from"]
        assert principals == [{"source": {"principals": ["cluster.local/ns/default/sa/contract-canary"]}}]
        deployment = by_ref["Deployment default/billing-canary"]["spec"]["template"]["spec"]
        assert deployment["serviceAccountName"] == (twin_account or "billing-canary")


def test_the_canary_command_names_the_weight_option_it_refuses(tmp_path: Path) -> None:
    """`canary --weight 150` said 'canary weight 150 is outside 0–100', naming no option; it names --weight now,
    before any file is read, and exits 2."""
    from tests.conftest import invoke

    out = str(tmp_path / "x.yaml")
    result = invoke("canary", str(ACME), "--agent", "billing-agent-stable", "--weight", "150", "--out", out)
    assert result.returncode == 2
    assert "--weight 150 is outside 0–100" in result.stderr and not (tmp_path / "x.yaml").exists()
