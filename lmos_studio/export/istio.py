"""The Istio VirtualService that splits the operator API's traffic between a channel's stable and canary subsets.

Built from a design's ChannelRollouts (one VirtualService per namespace); `canary.py` decides the rollouts. On
export, a kept one's split weights follow the rollouts (`synced_virtual_service`): the operator does not act on a
ChannelRollout (LMOS.md §1.5), so the VirtualService is what splits.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any

from lmos_studio.model import ChannelRollout, Design

CANARY = "canary"  # the subset names the operator serves (the x-subset header's values)
STABLE = "stable"
VIRTUAL_SERVICE = "lmos-operator-subset-split"  # one per namespace, rebuilt from that namespace's rollouts
VIRTUAL_SERVICE_API = "networking.istio.io/v1"
DEFAULT_OPERATOR_HOST = "lmos-operator.default.svc.cluster.local"  # the runtime's default `http://lmos-operator:8080`
OPERATOR_PORT = 8080  # the operator API's port (LMOS.md §2.1)
SUBSET_HEADER = "x-subset"
NAMESPACE_HEADER = "x-namespace"
MANAGED_BY = {"app.kubernetes.io/managed-by": "lmos-studio"}  # as on every document Studio derives


def _path_regex(tenant: str, channel: str) -> str:
    """The operator API paths of one tenant's channel (`…/channels/<channel>` and `…/routing`), as RE2."""

    def quote(text: str) -> str:
        return re.sub(r"([^A-Za-z0-9_-])", r"\\\1", text)  # label values are [A-Za-z0-9._-]

    return f"^/apis/v1/tenants/{quote(tenant)}/channels/{quote(channel)}(/.*)?$"


def _set_headers(headers: dict[str, str]) -> dict[str, Any]:
    """A route's request headers to set (a new dict each time: YAML would write a shared one as an alias)."""
    return {"request": {"set": headers}}


def virtual_service(design: Design, namespace: str, *, operator_host: str = DEFAULT_OPERATOR_HOST) -> dict[str, Any]:
    """The Istio VirtualService on the operator's API that splits by `x-subset`, as LMOS's chart does.

    A request that carries `x-subset` keeps it; for each ChannelRollout of the namespace, a request for
    its tenant/channel without the header gets `x-subset: stable` or `canary` by the rollout's weights;
    everything else keeps its headers (the operator then answers `stable`). Every route sets `x-namespace`
    to the namespace: lmos-runtime never sends it, and without it the operator answers from namespace
    `default` (LMOS.md §2.2).
    """
    destination = {"host": operator_host, "port": {"number": OPERATOR_PORT}}
    http: list[dict[str, Any]] = [
        {
            "name": "pass-x-subset",
            "match": [{"headers": {SUBSET_HEADER: {"regex": ".+"}}}],
            "route": [{"destination": destination, "headers": _set_headers({NAMESPACE_HEADER: namespace})}],
        }
    ]
    for rollout in sorted((r for r in design.rollouts if r.namespace == namespace), key=lambda r: r.name):
        stable = design.channel(rollout.stable_channel, namespace)
        if stable is None or not stable.tenant or not stable.channel:
            continue
        path = _path_regex(stable.tenant, stable.channel)
        http.append(
            {
                "name": f"split-{rollout.name}",
                "match": [{"uri": {"regex": path}}],
                "route": [
                    {
                        "destination": destination,
                        "weight": weight,
                        "headers": _set_headers({SUBSET_HEADER: subset, NAMESPACE_HEADER: namespace}),
                    }
                    for subset, weight in ((STABLE, rollout.stable_weight), (CANARY, rollout.canary_weight))
                ],
            }
        )
    everything = {"destination": destination, "headers": _set_headers({NAMESPACE_HEADER: namespace})}
    http.append({"name": "default", "route": [everything]})
    return {
        "apiVersion": VIRTUAL_SERVICE_API,
        "kind": "VirtualService",
        "metadata": {
            "name": VIRTUAL_SERVICE,
            "namespace": namespace,
            "labels": dict(MANAGED_BY),
        },
        "spec": {"hosts": [operator_host], "http": http},
    }


def with_virtual_services(design: Design, namespaces: Iterable[str], operator_host: str) -> Design:
    """The design with each namespace's VirtualService (in `other_resources`) built anew from its rollouts."""
    docs = list(design.other_resources)
    for namespace in sorted(set(namespaces)):
        service = virtual_service(design, namespace, operator_host=operator_host)
        index = next(
            (
                i
                for i, d in enumerate(docs)
                if d.get("kind") == "VirtualService"
                and (d.get("metadata") or {}).get("name") == VIRTUAL_SERVICE
                and (d.get("metadata") or {}).get("namespace") == namespace
            ),
            None,
        )
        if index is None:
            docs.append(service)
        else:
            docs[index] = service
    return design.replace(other_resources=tuple(docs))


def is_subset_split(doc: dict[str, Any]) -> bool:
    """Whether a kept document is the VirtualService `virtual_service` builds (by kind, name and Studio's label)."""
    meta = doc.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    labels = meta.get("labels")
    return (
        doc.get("kind") == "VirtualService"
        and str(doc.get("apiVersion", "")).startswith("networking.istio.io/")
        and meta.get("name") == VIRTUAL_SERVICE
        and isinstance(labels, dict)
        and MANAGED_BY.items() <= labels.items()
    )


def moved_virtual_service(doc: dict[str, Any], namespace: str) -> dict[str, Any]:
    """The subset-split VirtualService `doc` moved into `namespace`: its own namespace and the `x-namespace` its
    routes set where it named the old one (weights and other edits are kept)."""
    moved = copy.deepcopy(doc)
    old = moved["metadata"].get("namespace")
    moved["metadata"]["namespace"] = namespace
    spec = moved.get("spec")
    for http in (spec.get("http") if isinstance(spec, dict) else None) or []:
        routes = http.get("route") if isinstance(http, dict) else None
        for holder in [http, *(routes if isinstance(routes, list) else [])]:
            headers = holder.get("headers") if isinstance(holder, dict) else None
            request = headers.get("request") if isinstance(headers, dict) else None
            set_ = request.get("set") if isinstance(request, dict) else None
            if isinstance(set_, dict) and set_.get(NAMESPACE_HEADER) == old:
                set_[NAMESPACE_HEADER] = namespace
    return moved


def _split_routes(doc: dict[str, Any]) -> Iterable[tuple[str, dict[str, Any], str]]:
    """(route name, weighted destination, its x-subset) of each `split-…` route of a VirtualService document."""
    spec = doc.get("spec")
    for http in (spec.get("http") if isinstance(spec, dict) else None) or []:
        name = http.get("name") if isinstance(http, dict) else None
        routes = http.get("route") if isinstance(http, dict) else None
        if not isinstance(name, str) or not name.startswith("split-") or not isinstance(routes, list):
            continue
        for destination in routes:
            headers = destination.get("headers") if isinstance(destination, dict) else None
            request = headers.get("request") if isinstance(headers, dict) else None
            set_ = request.get("set") if isinstance(request, dict) else None
            subset = set_.get(SUBSET_HEADER) if isinstance(set_, dict) else None
            if isinstance(subset, str):
                yield name, destination, subset


def synced_virtual_service(doc: dict[str, Any], design: Design) -> tuple[dict[str, Any], list[str]]:
    """The subset-split VirtualService `doc` with each `split-<rollout>` route's stable and canary weights set as the
    design's ChannelRollout of that name in its namespace says (a rollout edited after `canary` wrote the
    VirtualService left it splitting by the old weights), and a note per route changed (other edits are kept). A
    rollout whose weights are no split (lint: rollout-weights) leaves its route as it is."""
    meta = doc.get("metadata")
    namespace = meta.get("namespace") if isinstance(meta, dict) else None
    rollouts = {f"split-{r.name}": r for r in design.rollouts if r.namespace == namespace and _is_split(r)}
    synced = copy.deepcopy(doc)
    changed: dict[str, list[str]] = {}
    for name, destination, subset in _split_routes(synced):
        rollout = rollouts.get(name)
        wanted = {STABLE: rollout.stable_weight, CANARY: rollout.canary_weight}.get(subset) if rollout else None
        if wanted is not None and destination.get("weight") != wanted:
            changed.setdefault(name, []).append(f"{subset} {destination.get('weight')} → {wanted}")
            destination["weight"] = wanted
    notes = [
        f"VirtualService {namespace}/{VIRTUAL_SERVICE}: route {name} now splits {', '.join(moves)}, as ChannelRollout "
        f"{namespace}/{name.removeprefix('split-')} says (it was edited after the VirtualService was written)"
        for name, moves in changed.items()
    ]
    return synced, notes


def _is_split(rollout: ChannelRollout) -> bool:
    """Whether the rollout's weights are two percentages adding up to 100 (else lint's rollout-weights: the
    VirtualService keeps its split rather than take weights such as 0/0, which split nothing)."""
    weights = (rollout.stable_weight, rollout.canary_weight)
    return sum(weights) == 100 and all(0 <= w <= 100 for w in weights)


def unsplit_rollout_notes(design: Design, kept: Iterable[dict[str, Any]]) -> list[str]:
    """A note per ChannelRollout that no kept subset-split VirtualService has a route for: nothing splits its
    traffic (the operator does not act on a ChannelRollout), so every request goes to the stable channel."""
    routed = {
        (str((doc.get("metadata") or {}).get("namespace")), name)
        for doc in kept
        if is_subset_split(doc)
        for name, _, _ in _split_routes(doc)
    }
    return [
        f"ChannelRollout {r.key}: no VirtualService {VIRTUAL_SERVICE} in namespace {r.namespace} splits its traffic "
        f"(the operator does not act on a ChannelRollout), so the canary gets none of the requests without an "
        f"x-subset header; run 'lmos-studio canary' (it writes one for the namespace's rollouts), or split by "
        "x-subset yourself"
        for r in design.rollouts
        if (r.namespace, f"split-{r.name}") not in routed
    ]


_OPERATOR_HOST = re.compile(r"^lmos-operator\.([a-z0-9-]+)\.svc\.cluster\.local$")  # `canary --operator-host`'s form


def operator_host_notes(kept: Iterable[dict[str, Any]], lmos_namespace: str) -> list[str]:
    """A note per kept subset-split VirtualService whose host is the operator in another namespace than
    `lmos_namespace` (where the export's policies take lmos-runtime and lmos-operator to run): `canary` wrote it
    for `lmos-operator.default…` unless told otherwise, and routing a host nobody calls splits nothing."""
    notes = []
    for doc in kept:
        if not is_subset_split(doc):
            continue
        spec = doc.get("spec")
        hosts = spec.get("hosts") if isinstance(spec, dict) else None
        for host in hosts if isinstance(hosts, list) else []:
            found = _OPERATOR_HOST.match(host) if isinstance(host, str) else None
            if found and found.group(1) != lmos_namespace:
                namespace = (doc.get("metadata") or {}).get("namespace")
                notes.append(
                    f"VirtualService {namespace}/{VIRTUAL_SERVICE} splits the traffic of {host}, but the export takes "
                    f"the LMOS operator to run in namespace {lmos_namespace} (--lmos-namespace), at "
                    f"lmos-operator.{lmos_namespace}.svc.cluster.local: if it does, nothing is split; run 'lmos-studio "
                    f"canary' again with --operator-host lmos-operator.{lmos_namespace}.svc.cluster.local, or export "
                    f"with --lmos-namespace {found.group(1)}"
                )
    return notes
