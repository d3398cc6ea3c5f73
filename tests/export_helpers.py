"""Helpers of the export tests: export a design to files, and an independent NetworkPolicy evaluator."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lmos_studio.export import kustomize
from lmos_studio.export.bundle import ExportOptions, export_design
from lmos_studio.formats.yamlio import load_documents
from lmos_studio.model import Design

FULL = ExportOptions(with_workloads=True, with_istio=True)


def render(design: Design, options: ExportOptions = FULL) -> dict[str, bytes]:
    return kustomize.render(export_design(design, options))


def documents(files: Mapping[str, bytes]) -> list[tuple[str, dict[str, Any]]]:
    """(path, document) for every YAML document of the export (kustomization.yaml included)."""
    return [(path, doc) for path, data in files.items() for doc in load_documents(data.decode(), path=path)]


@dataclass(frozen=True)
class Pod:
    key: str
    namespace: str
    labels: Mapping[str, str]


def _selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    assert set(selector) <= {"matchLabels", "matchExpressions"}, f"evaluator knows label selectors only: {selector}"
    if not all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    return all(_matches(expression, labels) for expression in selector.get("matchExpressions") or [])


def _matches(expression: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """One label selector requirement, as Kubernetes reads it (NotIn also matches pods without the key)."""
    key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    assert operator == "DoesNotExist", expression
    return key not in labels


def _peer_admits(peer: Mapping[str, Any], src: Pod, policy_ns: str) -> bool:
    assert set(peer) <= {"podSelector", "namespaceSelector"}, peer
    if "namespaceSelector" in peer:
        ns_ok = _selects(peer["namespaceSelector"], {"kubernetes.io/metadata.name": src.namespace})
    else:
        ns_ok = src.namespace == policy_ns
    return ns_ok and _selects(peer.get("podSelector") or {}, src.labels)


def reachable(policies: Iterable[Mapping[str, Any]], pods: list[Pod]) -> set[tuple[str, str]]:
    """Which pod may open a connection to which (ports ignored), computed from NetworkPolicies alone."""
    policies = [p for p in policies if p["kind"] == "NetworkPolicy"]
    allowed = set()
    for dst in pods:
        selecting = [
            p
            for p in policies
            if p["metadata"]["namespace"] == dst.namespace
            and "Ingress" in p["spec"].get("policyTypes", ["Ingress"])
            and _selects(p["spec"].get("podSelector") or {}, dst.labels)
        ]
        for src in pods:
            if src.key == dst.key:
                continue
            if not selecting or any(
                "from" not in rule or any(_peer_admits(peer, src, p["metadata"]["namespace"]) for peer in rule["from"])
                for p in selecting
                for rule in p["spec"].get("ingress") or []
            ):
                allowed.add((src.key, dst.key))
    return allowed
