"""Trust → policy: from the exported NetworkPolicies alone, compute which pod may reach which, and compare
with the trust edges (groups expanded independently here); Istio principals and paths; the report."""

from __future__ import annotations

import re
from typing import Any

import pytest

from lmos_studio.errors import ExportError
from lmos_studio.export import policy
from lmos_studio.export.bundle import ExportOptions, export_design
from lmos_studio.formats.design_file import read_design
from lmos_studio.model import Agent, Capability, Design, Group, TrustEdge, Workload
from lmos_studio.synthetic import synthetic_design
from tests.conftest import ACME
from tests.export_helpers import Pod, reachable

RUNTIME = Pod("platform/lmos-runtime", "platform", {"app.kubernetes.io/name": "lmos-runtime"})
OPERATOR = Pod("platform/lmos-operator", "platform", {"app.kubernetes.io/name": "lmos-operator"})


def _expected_pairs(design: Design) -> set[tuple[str, str]]:
    """Trust edges expanded by hand: agent names and group members (no channel refs in these designs)."""

    def agents(ref: str) -> list[str]:
        if ref.startswith("group:"):
            group = design.group(ref[len("group:") :])
            assert group is not None
            return [k for m in group.members for k in agents(m)]
        return [a.key for a in design.agents if a.name == ref]

    return {(c, d) for e in design.trust_edges for c in agents(e.caller) for d in agents(e.callee) if c != d}


def _pods(docs: list[dict[str, Any]], namespaces: list[str]) -> list[Pod]:
    pods = [
        Pod(
            f"{d['metadata']['namespace']}/{d['metadata']['name']}",
            d["metadata"]["namespace"],
            d["spec"]["template"]["metadata"]["labels"],
        )
        for d in docs
        if d["kind"] == "Deployment"
    ]
    strangers = [Pod(f"{ns}/stranger", ns, {"app": "stranger"}) for ns in namespaces]
    return pods + strangers + [RUNTIME, OPERATOR]


def _check(design: Design) -> None:
    bundle = export_design(design, ExportOptions(with_workloads=True, lmos_namespace="platform"))
    docs = [m.document for m in bundle.manifests]
    agent_keys = {a.key for a in design.agents}
    pods = _pods(docs, sorted({a.namespace for a in design.agents}))
    allowed = reachable(docs, pods)
    between_agents = {(s, d) for s, d in allowed if s in agent_keys and d in agent_keys}
    assert between_agents == _expected_pairs(design)
    assert {d for s, d in allowed if s == RUNTIME.key} >= agent_keys
    serving = {a.key for a in design.agents if a.workload and a.workload.serves_capabilities_document}
    assert {d for s, d in allowed if s == OPERATOR.key} & agent_keys == serving
    assert not {d for s, d in allowed if s.endswith("/stranger")} & agent_keys
    # the default deny covers the design's agents only: a pod that is not part of the design keeps its ingress
    strangers = {p.key for p in pods if p.key.endswith("/stranger")}
    assert all({s for s, d in allowed if d == stranger} == {p.key for p in pods} - {stranger} for stranger in strangers)


def test_acme_policies_admit_exactly_the_trust_edges() -> None:
    _check(read_design(ACME).replace(agents=tuple(a for a in read_design(ACME).agents if a.workload)))


def test_synthetic_policies_admit_exactly_the_trust_edges() -> None:
    design = synthetic_design(n_agents=60, n_channels=5, n_groups=6, n_edges=150, seed=3)
    agents = tuple(
        a.model_copy(update={"workload": Workload(image="i", serves_capabilities_document=i % 3 == 0)})
        for i, a in enumerate(design.agents)
    )
    design = design.replace(agents=agents)
    assert any(e.caller.startswith("group:") for e in design.trust_edges)
    _check(design)


def test_cross_namespace_edges_use_the_namespace_label() -> None:
    a = Agent(name="a", namespace="one", workload=Workload(image="i"))
    b = Agent(name="b", namespace="two", workload=Workload(image="i"))
    design = Design(agents=(a, b), trust_edges=(TrustEdge(caller="a", callee="b"),))
    _check(design)
    allow = policy.network_policy(b, [a], policy.PolicyOptions())
    assert allow["spec"]["ingress"][0]["from"] == [
        {
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "a"}},
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "one"}},
        }
    ]


def test_channel_refs_expand_to_the_channel_candidates() -> None:
    design = read_design(ACME)
    design = design.replace(trust_edges=(TrustEdge(caller="channel:acme-ivr-canary", callee="contract-agent"),))
    pairs = {(p.caller.name, p.callee.name) for p in policy.expand_trust(design)}
    assert pairs == {("billing-agent-canary", "contract-agent"), ("contract-agent-canary", "contract-agent")}


def test_istio_principals_and_paths() -> None:
    bundle = export_design(read_design(ACME), ExportOptions(with_istio=True, lmos_namespace="platform"))
    by_ref = {m.ref: m.document for m in bundle.manifests}
    rules = by_ref["AuthorizationPolicy default/allow-ingress-billing-agent-stable"]["spec"]["rules"]
    assert rules[0] == {
        "from": [{"source": {"principals": ["cluster.local/ns/default/sa/contract-agent"]}}],
        "to": [{"operation": {"paths": ["/capabilities/view-bill", "/capabilities/view-bill/*"]}}],
    }
    assert rules[-1] == {"from": [{"source": {"principals": ["cluster.local/ns/platform/sa/lmos-runtime"]}}]}
    assert all(r.status == "enforced" for r in bundle.policy.rows)


def test_report_says_why_an_edge_is_not_fully_enforced() -> None:
    a = Agent(name="a", workload=Workload(image="i"))
    b = Agent(name="b", workload=Workload(image="i"))
    c = Agent(name="c")  # no workload
    edges = (
        TrustEdge(caller="a", callee="b", capabilities=("x",), protocol="ws"),
        TrustEdge(caller="a", callee="c"),
        TrustEdge(caller="group:solo", callee="a"),
    )
    design = Design(agents=(a, b, c), groups=(Group(name="solo", members=("a",)),), trust_edges=edges)
    rows = {r.edge: r for r in export_design(design, ExportOptions(with_istio=True)).policy.rows}
    assert (
        rows["a->b[x]"].status == "partial" and "protocol 'ws' carries no per-capability path" in rows["a->b[x]"].note
    )
    assert rows["a->c"].status == "partial" and "no workload exported for default/c" in rows["a->c"].note
    # (session 16 QA) the policies admit the port named http only: pods deployed by the team must name theirs so
    assert "and name their container port 'http'" in rows["a->c"].note
    assert rows["group:solo->a"].status == "not-enforced"
    without_istio = export_design(
        design.replace(trust_edges=(TrustEdge(caller="a", callee="b", capabilities=("x",), protocol="http"),)),
        ExportOptions(with_workloads=True),
    ).policy.rows[0]
    assert without_istio.status == "partial" and "--with-istio" in without_istio.note
    assert "policies/network/default/allow-ingress-b.yaml ingress[0]" in without_istio.rules


def test_unknown_refs_are_export_errors() -> None:
    design = Design(agents=(Agent(name="a"),), trust_edges=(TrustEdge(caller="group:nope", callee="a"),))
    with pytest.raises(ExportError, match="'group:nope' names no agent, group or channel"):
        export_design(design, ExportOptions(with_workloads=True))


def test_the_lmos_platform_stays_reachable_when_it_shares_a_namespace_with_agents() -> None:
    """With the LMOS platform in an agents' namespace (both `default`, the defaults), the default deny selected
    lmos-runtime and lmos-operator too: nobody could reach the runtime (its clients) or the operator's API."""
    design = read_design(ACME).replace(agents=tuple(a for a in read_design(ACME).agents if a.workload))
    bundle = export_design(design, ExportOptions(with_workloads=True, lmos_namespace="default"))
    docs = [m.document for m in bundle.manifests]
    runtime = Pod("default/lmos-runtime", "default", {"app.kubernetes.io/name": "lmos-runtime"})
    operator = Pod("default/lmos-operator", "default", {"app.kubernetes.io/name": "lmos-operator"})
    client = Pod("web/gateway", "web", {"app": "gateway"})
    stranger = Pod("default/stranger", "default", {"app": "stranger"})
    pods = [p for p in _pods(docs, ["default"]) if p.key not in (RUNTIME.key, OPERATOR.key)]
    pods += [runtime, operator, client]
    allowed = reachable(docs, pods)
    assert (client.key, runtime.key) in allowed and (runtime.key, operator.key) in allowed
    agents = {a.key for a in design.agents}
    assert {d for s, d in allowed if s == runtime.key} >= agents
    assert not {d for s, d in allowed if s in (client.key, stranger.key)} & agents
    assert {s for s, d in allowed if d == stranger.key} == {p.key for p in pods} - {stranger.key}  # not ours
    between_agents = {(s, d) for s, d in allowed if s in agents and d in agents}
    assert between_agents == _expected_pairs(design)


def test_the_default_deny_in_the_lmos_namespace_selects_only_the_designs_agents() -> None:
    """The default deny in --lmos-namespace selected every pod but lmos-runtime's and lmos-operator's: what else
    runs there (the runtime's Redis cache, a vector database) lost all ingress. Now it selects the design's agents
    there, as it does in every namespace."""
    design = read_design(ACME).replace(agents=tuple(a for a in read_design(ACME).agents if a.workload))
    design = design.with_agent(Agent(name="other", namespace="elsewhere", workload=Workload(image="i")))
    bundle = export_design(design, ExportOptions(with_workloads=True, lmos_namespace="default"))
    docs = [m.document for m in bundle.manifests]
    deny = next(m.document for m in bundle.manifests if m.ref == f"NetworkPolicy default/{policy.DEFAULT_DENY}")
    in_default = sorted(a.name for a in design.agents if a.namespace == "default")
    assert deny["spec"]["podSelector"] == {
        "matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "In", "values": in_default}]
    }
    runtime = Pod("default/lmos-runtime", "default", {"app.kubernetes.io/name": "lmos-runtime"})
    redis = Pod("default/redis", "default", {"app.kubernetes.io/name": "redis"})
    unlabelled = Pod("default/vector-db", "default", {})
    pods = [p for p in _pods(docs, ["elsewhere"]) if p.key not in (RUNTIME.key, OPERATOR.key)]
    pods += [runtime, redis, unlabelled]
    allowed = reachable(docs, pods)
    assert (runtime.key, redis.key) in allowed and (unlabelled.key, redis.key) in allowed
    assert (runtime.key, unlabelled.key) in allowed
    agents = {a.key for a in design.agents}
    assert not {d for s, d in allowed if s in (redis.key, unlabelled.key)} & agents  # agents are still denied
    assert (redis.key, "elsewhere/stranger") in allowed  # elsewhere too, a pod that is not the design's is not
    assert {(s, d) for s, d in allowed if s in agents and d in agents} == _expected_pairs(design)


def test_the_default_deny_in_any_namespace_selects_only_the_designs_agents() -> None:
    """In a namespace other than --lmos-namespace the default deny had an empty podSelector: applying the export
    cut every workload of that namespace that is not part of the design (a team's database, its web front end)
    off from all ingress. It now selects the design's agents there (by the label the allow policies select them
    by), agents without an exported workload included; the trust edges still hold exactly."""
    design = read_design(ACME)
    bundle = export_design(design, ExportOptions(with_workloads=True, lmos_namespace="platform"))
    docs = [m.document for m in bundle.manifests]
    for namespace in design.namespaces:
        deny = next(m.document for m in bundle.manifests if m.ref == f"NetworkPolicy {namespace}/{policy.DEFAULT_DENY}")
        names = sorted(a.name for a in design.agents if a.namespace == namespace)
        assert deny["spec"]["podSelector"] == {
            "matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "In", "values": names}]
        }
    database = Pod("lmos-demo/postgres", "lmos-demo", {"app.kubernetes.io/name": "postgres"})
    front = Pod("lmos-demo/web", "lmos-demo", {"app": "web"})
    weather = Pod("lmos-demo/weather-agent", "lmos-demo", {"app.kubernetes.io/name": "weather-agent"})  # no workload
    pods = [*_pods(docs, []), database, front, weather]
    allowed = reachable(docs, pods)
    assert (front.key, database.key) in allowed and (RUNTIME.key, front.key) in allowed
    assert (front.key, weather.key) not in allowed and (RUNTIME.key, weather.key) in allowed
    agents = {a.key for a in design.agents if a.workload}
    assert not {d for s, d in allowed if s in (database.key, front.key)} & agents
    assert {(s, d) for s, d in allowed if s in agents and d in agents} == _expected_pairs(design) & {
        (s, d) for s in agents for d in agents
    }


@pytest.mark.parametrize("name", ["*", "view*", "view bill", "a/b", "..", "view?x", ""])
def test_a_capability_name_that_is_no_path_segment_is_not_turned_into_an_istio_path(name: str) -> None:
    """A trust edge scoped to capability '*' became the Istio paths /capabilities/* (a prefix: every capability
    of the callee) and was reported as enforced; other names made paths no request has."""
    a = Agent(name="a", workload=Workload(image="i"))
    b = Agent(name="b", workload=Workload(image="i"), capabilities=(Capability(name="view", version="1.0.0"),))
    edge = TrustEdge(caller="a", callee="b", capabilities=(name,), protocol="http")
    bundle = export_design(Design(agents=(a, b), trust_edges=(edge,)), ExportOptions(with_istio=True))
    allow = next(m.document for m in bundle.manifests if m.ref == "AuthorizationPolicy default/allow-ingress-b")
    paths = [p for rule in allow["spec"]["rules"] for to in rule.get("to", []) for p in to["operation"]["paths"]]
    assert not [p for p in paths if p.startswith("/capabilities")]
    (row,) = bundle.policy.rows
    assert row.status == "partial"
    assert f"capability name {name!r} is not a URL path segment" in row.note


@pytest.mark.parametrize(
    ("agent", "said"),
    [
        (Agent(name="lmos-runtime", workload=Workload(image="i")), "Agent platform/lmos-runtime: metadata.name"),
        (Agent(name="lmos-operator"), "Agent platform/lmos-operator: metadata.name"),
        (
            Agent(name="x", workload=Workload(image="i", service_account="lmos-runtime")),
            "Agent platform/x: workload.serviceAccount",
        ),
    ],
)
def test_an_agent_that_would_pass_for_the_lmos_platform_is_refused(agent: Agent, said: str) -> None:
    """An agent named lmos-runtime in --lmos-namespace got pods every allow policy admits as the platform (and an
    agent running as service account lmos-runtime had the runtime's Istio principal): trusted by all agents."""
    other = Agent(name="b", namespace="platform", workload=Workload(image="i"))
    design = Design(agents=(agent.model_copy(update={"namespace": "platform"}), other))
    with pytest.raises(ExportError, match=re.escape(said)) as caught:
        export_design(design, ExportOptions(with_istio=True, lmos_namespace="platform"))
    assert "--lmos-namespace" in str(caught.value) and "rename" in str(caught.value)
    export_design(design, ExportOptions(lmos_namespace="platform"))  # no policies: nothing to pass for
    export_design(design, ExportOptions(with_istio=True, lmos_namespace="lmos"))  # the platform is elsewhere


def test_an_edge_whose_allow_policy_the_design_keeps_its_own_of_is_not_reported_enforced() -> None:
    """A design keeping its own NetworkPolicy default/allow-ingress-b (here one admitting nobody) replaced the
    generated one without a note, and the report still said a->b was 'enforced' by
    policies/network/default/allow-ingress-b.yaml ingress[0], a file the export does not write."""
    a, b = Agent(name="a", workload=Workload(image="i")), Agent(name="b", workload=Workload(image="i"))
    kept = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "allow-ingress-b", "namespace": "default"},
        "spec": {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "b"}}, "policyTypes": ["Ingress"]},
    }
    design = Design(agents=(a, b), trust_edges=(TrustEdge(caller="a", callee="b"),), other_resources=(kept,))
    bundle = export_design(design, ExportOptions(with_workloads=True))
    assert "policies/network/default/allow-ingress-b.yaml" not in {m.path for m in bundle.manifests}
    said = "NetworkPolicy default/allow-ingress-b is kept from the design; the generated one is left out"
    assert said in bundle.notes
    (row,) = bundle.policy.rows
    assert row.status == "partial"
    assert row.rules == "other/default/networkpolicy-allow-ingress-b.yaml (kept from the design)"
    assert "keeps its own NetworkPolicy default/allow-ingress-b" in row.note
    other = export_design(design.replace(other_resources=()), ExportOptions(with_workloads=True)).policy.rows[0]
    assert other.status == "enforced"  # without the kept policy, as before


def test_with_istio_the_agents_pods_ask_for_the_sidecar_in_any_namespace() -> None:
    """--with-istio labelled the Namespaces it writes istio-injection=enabled, but writes none for `default` (nor
    the LMOS namespace): the acme agents there ran without a sidecar, so no AuthorizationPolicy held (Istio enforces
    them in the sidecar) while the report said 'enforced'. Their pods now carry sidecar.istio.io/inject=true, which
    Istio honours in any namespace not labelled disabled; without --with-istio they do not."""
    design = read_design(ACME)
    for istio in (True, False):
        bundle = export_design(design, ExportOptions(with_workloads=True, with_istio=istio))
        deployments = [m.document for m in bundle.manifests if m.document["kind"] == "Deployment"]
        assert {d["metadata"]["namespace"] for d in deployments} == {"default"}
        for deployment in deployments:
            labels = deployment["spec"]["template"]["metadata"]["labels"]
            assert (labels.get("sidecar.istio.io/inject") == "true") is istio
            assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
        assert "Namespace default" not in {m.ref for m in bundle.manifests}
