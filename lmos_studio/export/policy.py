"""Trust edges as network policy: per namespace a default-deny ingress NetworkPolicy for the design's agents there,
per callee agent one NetworkPolicy admitting exactly its trusted callers and the LMOS platform, optionally an
Istio AuthorizationPolicy per callee; plus a report of which rule enforces which edge and which cannot be enforced.

Conventions (docs/export.md):
* pods are selected by `app.kubernetes.io/name: <agent>` (the export puts it on every Deployment's pods);
* other namespaces by the `kubernetes.io/metadata.name` label Kubernetes (≥ 1.22) sets on every namespace;
* the LMOS runtime and operator run in `lmos_namespace` with pod label `app.kubernetes.io/name: lmos-runtime`
  / `lmos-operator` and service accounts of the same names; the operator is admitted only to agents that serve
  `/.well-known/capabilities.json`;
* a capability-scoped edge over `http`/`https` is limited, in Istio, to the paths
  `/capabilities/<name>` and `/capabilities/<name>/*` (when every name is a URL path segment: `*` would be
  Istio's wildcard); over other protocols (LMOS WebSocket, A2A JSON-RPC,
  gRPC, unspecified) the capability scope cannot be enforced, only caller → callee.
Only ingress is restricted (no egress rules), so DNS needs no rule.
Trust refs are expanded as the Designer expands them (`trust.RefIndex`): an agent name (all namespaces),
`ns/name`, `group:<g>` (its members) or `channel:<c>` (the agents resolution wires into the channel).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lmos_studio.errors import ExportError
from lmos_studio.export.manifests import (
    MANAGED_BY,
    NAME_LABEL,
    PORT_NAME,
    mark_generated,
    service_account_name,
)
from lmos_studio.model import Agent, Design, TrustEdge
from lmos_studio.trust import RefIndex

NS_LABEL = "kubernetes.io/metadata.name"  # set by Kubernetes on every namespace (GA since 1.22)
RUNTIME = "lmos-runtime"
OPERATOR = "lmos-operator"
DEFAULT_DENY = "lmos-default-deny-ingress"
PATH_PROTOCOLS = ("http", "https")  # protocols whose requests carry a path Istio can match
CAPABILITY_PATH = "/capabilities/{name}"  # the path convention for capability-scoped HTTP edges
CAPABILITIES_DOCUMENT = "/.well-known/capabilities.json"
PATH_SEGMENT = re.compile(r"^[A-Za-z0-9._~-]+$")  # RFC 3986 unreserved: a segment sent as is, no Istio wildcard


@dataclass(frozen=True)
class Pair:
    """One expanded trust edge: caller agent may call callee agent (capabilities empty = all)."""

    caller: Agent
    callee: Agent
    edge: TrustEdge


@dataclass(frozen=True)
class EdgeRow:
    """How one trust edge (one expanded pair) is enforced."""

    edge: str
    caller: str
    callee: str
    status: str  # enforced | partial | not-enforced
    rules: str  # the policy file(s) and rule(s)
    note: str = ""


@dataclass
class PolicyReport:
    """Every trust edge → the rule that enforces it, and the edges that cannot be enforced (with why)."""

    rows: list[EdgeRow] = field(default_factory=list)

    def to_rows(self) -> list[dict[str, str]]:
        return [
            {
                "edge": r.edge,
                "caller": r.caller,
                "callee": r.callee,
                "status": r.status,
                "enforced by": r.rules,
                "note": r.note,
            }
            for r in self.rows
        ]

    @property
    def not_enforced(self) -> list[EdgeRow]:
        return [r for r in self.rows if r.status != "enforced"]


def expand_trust(design: Design) -> list[Pair]:
    """Every (caller agent, callee agent) pair the trust edges allow, in edge order, without self-pairs.

    The expansion is the Designer's (`trust.RefIndex`: group members, channel members as resolution wires
    them); a ref to nothing cannot become policy, so it is an `ExportError` here.
    """
    index = RefIndex(design)
    pairs: list[Pair] = []
    for edge in design.trust_edges:
        for ref in (edge.caller, edge.callee):
            if index.kind(ref) is None:
                raise ExportError(
                    f"trust edge {edge.key}: '{ref}' names no agent, group or channel; add it or fix the edge",
                    resource=f"TrustEdge {edge.key}",
                    field="caller/callee",
                )
        callers, callees = _unique(index.agents_of(edge.caller)), _unique(index.agents_of(edge.callee))
        pairs.extend(Pair(caller, callee, edge) for caller in callers for callee in callees if caller.key != callee.key)
    return pairs


def _unique(agents: Sequence[Agent]) -> list[Agent]:
    return list({a.key: a for a in agents}.values())


@dataclass(frozen=True)
class PolicyOptions:
    """Where the LMOS platform runs (admitted to every agent) and whether to write Istio policies."""

    lmos_namespace: str = "default"
    istio: bool = False


def default_deny(namespace: str, *, agents: Sequence[Agent]) -> dict[str, Any]:
    """Deny all ingress to the pods of the design's `agents` in the namespace (by the label the allow policies
    select them by) unless another policy admits it. Only those: other workloads share the namespace (in
    `lmos_namespace` the LMOS platform — lmos-runtime, lmos-operator and what they use, a cache, a vector database;
    elsewhere a team's own services), whose clients are not ours to know, and denying their pods all ingress would
    cut them off."""
    names = sorted({a.name for a in agents if a.namespace == namespace})
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": DEFAULT_DENY, "namespace": namespace, "labels": dict(MANAGED_BY)},
        "spec": {
            "podSelector": {"matchExpressions": [{"key": NAME_LABEL, "operator": "In", "values": names}]},
            "policyTypes": ["Ingress"],
        },
    }


def _peer(agent_name: str, namespace: str, target_namespace: str) -> dict[str, Any]:
    peer: dict[str, Any] = {"podSelector": {"matchLabels": {NAME_LABEL: agent_name}}}
    if namespace != target_namespace:
        peer["namespaceSelector"] = {"matchLabels": {NS_LABEL: namespace}}
    return peer


def allow_name(callee: Agent) -> str:
    return f"allow-ingress-{callee.name}"


def network_policy(callee: Agent, callers: Sequence[Agent], options: PolicyOptions) -> dict[str, Any]:
    """One callee's allow policy: rule 0 admits the trusted callers, rule 1 the LMOS platform."""
    platform = [_peer(RUNTIME, options.lmos_namespace, callee.namespace)]
    if callee.workload is not None and callee.workload.serves_capabilities_document:
        platform.append(_peer(OPERATOR, options.lmos_namespace, callee.namespace))
    ports = [{"protocol": "TCP", "port": PORT_NAME}]
    rules = []
    if callers:
        rules.append({"from": [_peer(c.name, c.namespace, callee.namespace) for c in callers], "ports": ports})
    rules.append({"from": platform, "ports": ports})
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": allow_name(callee), "namespace": callee.namespace, "labels": dict(MANAGED_BY)},
        "spec": {
            "podSelector": {"matchLabels": {NAME_LABEL: callee.name}},
            "policyTypes": ["Ingress"],
            "ingress": rules,
        },
    }


def principal(namespace: str, service_account: str) -> str:
    return f"cluster.local/ns/{namespace}/sa/{service_account}"


def lmos_namespace_of(doc: dict[str, Any]) -> str | None:
    """The `lmos_namespace` an agent's generated allow policy (NetworkPolicy or Istio AuthorizationPolicy) was
    made with: where it admits lmos-runtime from (the inverse of `network_policy` / `authorization_policy`; None
    for another document or shape, e.g. one edited by hand). Import reads it to export the design again as it was."""
    spec, namespace = _mapping(doc.get("spec")), _mapping(doc.get("metadata")).get("namespace")
    if doc.get("kind") == "NetworkPolicy":
        for rule in _items(spec.get("ingress")):
            for peer in map(_mapping, _items(_mapping(rule).get("from"))):
                if _mapping(_mapping(peer.get("podSelector")).get("matchLabels")).get(NAME_LABEL) == RUNTIME:
                    selector = _mapping(_mapping(peer.get("namespaceSelector")).get("matchLabels"))
                    found = selector.get(NS_LABEL, namespace)
                    return found if isinstance(found, str) else None
    if doc.get("kind") == "AuthorizationPolicy":
        head, tail = "cluster.local/ns/", f"/sa/{RUNTIME}"  # as `principal` writes them
        for rule in _items(spec.get("rules")):
            for source in map(_mapping, _items(_mapping(rule).get("from"))):
                for name in _items(_mapping(source.get("source")).get("principals")):
                    if isinstance(name, str) and name.startswith(head) and name.endswith(tail):
                        return name[len(head) : -len(tail)]
    return None


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _scope_problem(edge: TrustEdge) -> str | None:
    """Why a capability-scoped edge cannot be limited to Istio paths (None when it can)."""
    if edge.protocol.lower() not in PATH_PROTOCOLS:
        return f"protocol '{edge.protocol or 'unspecified'}' carries no per-capability path"
    for name in edge.capabilities:
        if not PATH_SEGMENT.match(name) or name in (".", ".."):  # '*' would be Istio's prefix wildcard
            return (
                f"capability name {name!r} is not a URL path segment (letters, digits, '-', '.', '_', '~'), "
                "so no Istio path can stand for it"
            )
    return None


def _paths(pair: Pair) -> list[str] | None:
    """Istio paths for a capability-scoped edge, or None (unscoped or not expressible)."""
    if not pair.edge.capabilities or _scope_problem(pair.edge) is not None:
        return None
    paths = []
    for cap in pair.edge.capabilities:
        base = CAPABILITY_PATH.format(name=cap)
        paths += [base, base + "/*"]
    return paths


def authorization_policy(callee: Agent, pairs: Sequence[Pair], options: PolicyOptions) -> dict[str, Any]:
    """Istio ALLOW policy for one callee: callers' principals (paths when scoped), runtime, operator."""
    unscoped = sorted(
        {principal(p.caller.namespace, service_account_name(p.caller)) for p in pairs if _paths(p) is None}
    )
    rules: list[dict[str, Any]] = []
    if unscoped:
        rules.append({"from": [{"source": {"principals": unscoped}}]})
    for pair in pairs:
        paths = _paths(pair)
        if paths is not None:
            rules.append(
                {
                    "from": [
                        {
                            "source": {
                                "principals": [principal(pair.caller.namespace, service_account_name(pair.caller))]
                            }
                        }
                    ],
                    "to": [{"operation": {"paths": paths}}],
                }
            )
    rules.append({"from": [{"source": {"principals": [principal(options.lmos_namespace, RUNTIME)]}}]})
    if callee.workload is not None and callee.workload.serves_capabilities_document:
        rules.append(
            {
                "from": [{"source": {"principals": [principal(options.lmos_namespace, OPERATOR)]}}],
                "to": [{"operation": {"methods": ["GET"], "paths": [CAPABILITIES_DOCUMENT]}}],
            }
        )
    return {
        "apiVersion": "security.istio.io/v1",
        "kind": "AuthorizationPolicy",
        "metadata": {"name": allow_name(callee), "namespace": callee.namespace, "labels": dict(MANAGED_BY)},
        "spec": {"selector": {"matchLabels": {NAME_LABEL: callee.name}}, "action": "ALLOW", "rules": rules},
    }


@dataclass
class Policies:
    """The policy documents of a design and the report of what they enforce."""

    network: list[dict[str, Any]]
    istio: list[dict[str, Any]]
    report: PolicyReport


def design_policies(design: Design, options: PolicyOptions, *, path_for: Callable[[dict[str, Any]], str]) -> Policies:
    """NetworkPolicies (+ Istio) for every agent of the design; `path_for` gives a document's file."""
    for agent in design.agents:
        _refuse_platform_lookalike(agent, options)
    pairs = expand_trust(design)
    by_callee: dict[str, list[Pair]] = {}
    for pair in pairs:
        by_callee.setdefault(pair.callee.key, []).append(pair)
    namespaces = sorted({a.namespace for a in design.agents})
    network = [default_deny(ns, agents=design.agents) for ns in namespaces]
    istio = []
    for callee in sorted(design.agents, key=lambda a: a.key):
        callee_pairs = by_callee.get(callee.key, [])
        callers = _unique([p.caller for p in callee_pairs])
        network.append(network_policy(callee, callers, options))
        if options.istio:
            istio.append(authorization_policy(callee, callee_pairs, options))
    network, istio = [mark_generated(d) for d in network], [mark_generated(d) for d in istio]
    paths = {f"{d['kind']} {d['metadata']['namespace']}/{d['metadata']['name']}": path_for(d) for d in network + istio}
    report = PolicyReport([_row(p, options, paths) for p in pairs])
    expanded = {id(p.edge) for p in pairs}
    report.rows += [_unexpanded(e) for e in design.trust_edges if id(e) not in expanded]
    return Policies(network=network, istio=istio, report=report)


def _refuse_platform_lookalike(agent: Agent, options: PolicyOptions) -> None:
    """Refuse an agent the policies would take for the LMOS platform: in `lmos_namespace`, named (its pods'
    label) or running as (its Istio principal, and its ServiceAccount document) lmos-runtime or lmos-operator."""
    if agent.namespace != options.lmos_namespace:
        return
    account = agent.workload.service_account if agent.workload else ""
    for field_path, value in (("metadata.name", agent.name), ("workload.serviceAccount", account)):
        if value in (RUNTIME, OPERATOR):
            raise ExportError(
                f"Agent {agent.key}: {field_path}: '{value}' is how the policies know the LMOS platform in its "
                f"namespace '{options.lmos_namespace}' (--lmos-namespace; pod label {NAME_LABEL}, service account): "
                "every agent would admit this agent as the platform; rename it, or give the namespace the platform "
                "really runs in",
                resource=f"Agent {agent.key}",
                field=field_path,
            )


def _unexpanded(edge: TrustEdge) -> EdgeRow:
    return EdgeRow(
        edge.key,
        edge.caller,
        edge.callee,
        "not-enforced",
        "—",
        "expands to no (caller, callee) pair of different agents: nothing to admit",
    )


def _row(pair: Pair, options: PolicyOptions, paths: dict[str, str]) -> EdgeRow:
    callee = pair.callee
    net_file = paths.get(f"NetworkPolicy {callee.namespace}/{allow_name(callee)}", "")
    rules = [f"{net_file} ingress[0] from {pair.caller.key}"]
    notes = []
    status = "enforced"
    if pair.edge.capabilities:
        if options.istio and _paths(pair) is not None:
            istio_file = paths.get(f"AuthorizationPolicy {callee.namespace}/{allow_name(callee)}", "")
            scoped = ", ".join(CAPABILITY_PATH.format(name=c) for c in pair.edge.capabilities)
            rules.append(f"{istio_file} paths {scoped}")
        else:
            status = "partial"
            why = (
                _scope_problem(pair.edge)
                or "a NetworkPolicy works at L4 and cannot see capabilities; export --with-istio for paths"
            )
            notes.append(f"capability scope {','.join(pair.edge.capabilities)} not enforced: {why}")
    elif options.istio:
        istio_file = paths.get(f"AuthorizationPolicy {callee.namespace}/{allow_name(callee)}", "")
        rules.append(f"{istio_file} principal {principal(pair.caller.namespace, service_account_name(pair.caller))}")
    missing = [a.key for a in (pair.caller, pair.callee) if a.workload is None]
    if missing:
        status = "partial"
        notes.append(
            f"no workload exported for {', '.join(missing)}: holds only if its pods carry {NAME_LABEL}=<agent name> "
            f"and name their container port '{PORT_NAME}' (the only port the policies admit)"
        )
    return EdgeRow(pair.edge.key, pair.caller.key, callee.key, status, "; ".join(rules), "; ".join(notes))
