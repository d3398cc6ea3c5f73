"""The Istio VirtualService that splits the operator API's traffic between a channel's stable and canary subsets.

Built from a design's Channels and ChannelRollouts (one VirtualService for the operator's host, in its namespace);
`canary.py` decides the rollouts. On
export, a kept one's split weights follow the rollouts (`synced_virtual_service`): the operator does not act on a
ChannelRollout (LMOS.md §1.5), so the VirtualService is what splits.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any

from lmos_studio.model import DEFAULT_NAMESPACE, ChannelRollout, Design

CANARY = "canary"  # the subset names the operator serves (the x-subset header's values)
STABLE = "stable"
VIRTUAL_SERVICE = "lmos-operator-subset-split"  # one per design, rebuilt from its channels and rollouts
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


def operator_namespace(operator_host: str) -> str:
    """The namespace of the operator's Service `<name>.<namespace>[.svc…]`, where the VirtualService is written (as
    the operator's chart does); a bare name is one of the namespace `default` (Istio reads a short host name as one
    of the VirtualService's namespace)."""
    parts = operator_host.split(".")
    return parts[1] if len(parts) > 1 and parts[1] else DEFAULT_NAMESPACE


def _channel_matches(design: Design) -> dict[str, list[dict[str, Any]]]:
    """Per namespace, the request matches of its channels: the operator API path of each tenant/channel it holds,
    and, where another namespace holds that tenant/channel too, the caller's namespace (`sourceNamespace`, as the
    operator's chart matches): lmos-runtime sends no x-namespace (LMOS.md §2.2), so only a runtime in that namespace
    can be told apart."""
    spaces: dict[tuple[str, str], set[str]] = {}
    for channel in design.channels:
        if channel.tenant and channel.channel:
            spaces.setdefault((channel.tenant, channel.channel), set()).add(channel.namespace)
    matches: dict[str, list[dict[str, Any]]] = {}
    for (tenant, name), namespaces in sorted(spaces.items()):
        for namespace in sorted(namespaces):
            match: dict[str, Any] = {"uri": {"regex": _path_regex(tenant, name)}}
            if len(namespaces) > 1:
                match["sourceNamespace"] = namespace
            matches.setdefault(namespace, []).append(match)
    return dict(sorted(matches.items()))


def split_route_name(namespace: str, rollout: str) -> str:
    return f"split-{namespace}-{rollout}"


def virtual_service(design: Design, *, operator_host: str = DEFAULT_OPERATOR_HOST) -> dict[str, Any]:
    """The one Istio VirtualService on the operator's API for the whole design, splitting by `x-subset` as LMOS's
    chart does: Istio merges several VirtualServices of one host unpredictably, and one per namespace, each sending
    every request to its own namespace, gave a namespace's channels another's `x-namespace`.

    Routes are matched per namespace by the operator API paths of its channels (`_channel_matches`), and each sets
    `x-namespace` to it: lmos-runtime never sends one, and without it the operator answers from namespace `default`
    (LMOS.md §2.2). In order: a request that carries `x-subset` keeps it (`pass-x-subset-<ns>`); for each
    ChannelRollout, a request for its tenant/channel without the header gets `x-subset: stable` or `canary` by the
    rollout's weights (`split-<ns>-<rollout>`); other requests for the namespace's channels get its namespace
    (`namespace-<ns>`); anything else reaches the operator unchanged (`default`).
    """
    destination = {"host": operator_host, "port": {"number": OPERATOR_PORT}}

    def to(headers: dict[str, str], weight: int | None = None) -> dict[str, Any]:
        route: dict[str, Any] = {"destination": copy.deepcopy(destination)}  # no shared dict: YAML would alias it
        if weight is not None:
            route["weight"] = weight
        return {**route, "headers": _set_headers(headers)} if headers else route

    matches = _channel_matches(design)
    http: list[dict[str, Any]] = [
        {
            "name": f"pass-x-subset-{namespace}",
            "match": [{**m, "headers": {SUBSET_HEADER: {"regex": ".+"}}} for m in found],
            "route": [to({NAMESPACE_HEADER: namespace})],
        }
        for namespace, found in matches.items()
    ]
    for rollout in sorted(design.rollouts, key=lambda r: (r.namespace, r.name)):
        stable = design.channel(rollout.stable_channel, rollout.namespace)
        if stable is None or not stable.tenant or not stable.channel:
            continue
        path = _path_regex(stable.tenant, stable.channel)
        http.append(
            {
                "name": split_route_name(rollout.namespace, rollout.name),
                "match": [copy.deepcopy(m) for m in matches[rollout.namespace] if m["uri"]["regex"] == path],
                "route": [
                    to({SUBSET_HEADER: subset, NAMESPACE_HEADER: rollout.namespace}, weight)
                    for subset, weight in ((STABLE, rollout.stable_weight), (CANARY, rollout.canary_weight))
                ],
            }
        )
    http += [
        {"name": f"namespace-{namespace}", "match": copy.deepcopy(found), "route": [to({NAMESPACE_HEADER: namespace})]}
        for namespace, found in matches.items()
    ]
    http.append({"name": "default", "route": [to({})]})
    return {
        "apiVersion": VIRTUAL_SERVICE_API,
        "kind": "VirtualService",
        "metadata": {
            "name": VIRTUAL_SERVICE,
            "namespace": operator_namespace(operator_host),
            "labels": dict(MANAGED_BY),
        },
        "spec": {"hosts": [operator_host], "http": http},
    }


def with_virtual_service(design: Design, operator_host: str) -> Design:
    """The design with its VirtualService (in `other_resources`) built anew from its rollouts, in place of every
    subset-split VirtualService it kept (one per namespace, as Studio wrote them before, or one for another host)."""
    docs = list(design.other_resources)
    index = next((i for i, d in enumerate(docs) if is_subset_split(d)), len(docs))
    kept = [d for i, d in enumerate(docs) if i >= index and not is_subset_split(d)]
    return design.replace(other_resources=(*docs[:index], virtual_service(design, operator_host=operator_host), *kept))


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


def _set_of(holder: object) -> dict[str, Any] | None:
    """The `headers.request.set` map of a route or destination, if it has one."""
    headers = holder.get("headers") if isinstance(holder, dict) else None
    request = headers.get("request") if isinstance(headers, dict) else None
    set_ = request.get("set") if isinstance(request, dict) else None
    return set_ if isinstance(set_, dict) else None


def _http_routes(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = doc.get("spec")
    http = spec.get("http") if isinstance(spec, dict) else None
    return [h for h in http if isinstance(h, dict)] if isinstance(http, list) else []


def moved_virtual_service(doc: dict[str, Any], old: str, namespace: str) -> dict[str, Any]:
    """The subset-split VirtualService `doc` with the design moved from namespace `old` into `namespace`: the
    `x-namespace` its routes set, the `sourceNamespace` they match and the names of its per-namespace routes where
    they named `old`, and its own namespace when it was `old` (weights and other edits are kept)."""
    moved = copy.deepcopy(doc)
    if moved["metadata"].get("namespace") == old:
        moved["metadata"]["namespace"] = namespace
    for http in _http_routes(moved):
        if "name" in http:
            http["name"] = _moved_route_name(str(http["name"]), old, namespace)
        matches = http.get("match")
        for match in matches if isinstance(matches, list) else []:
            if isinstance(match, dict) and match.get("sourceNamespace") == old:
                match["sourceNamespace"] = namespace
        routes = http.get("route")
        for holder in [http, *(routes if isinstance(routes, list) else [])]:
            set_ = _set_of(holder)
            if set_ is not None and set_.get(NAMESPACE_HEADER) == old:
                set_[NAMESPACE_HEADER] = namespace
    return moved


def _moved_route_name(name: str, old: str, new: str) -> str:
    """A per-namespace route's name for namespace `new` where it was for `old` (others as they are)."""
    if name in (f"pass-x-subset-{old}", f"namespace-{old}"):
        return name.removesuffix(old) + new
    if name.startswith(f"split-{old}-"):
        return f"split-{new}-{name.removeprefix(f'split-{old}-')}"
    return name


def _split_routes(doc: dict[str, Any]) -> Iterable[tuple[str, str, dict[str, Any], str]]:
    """(route name, namespace, weighted destination, its x-subset) of each `split-…` route of a VirtualService
    document; the namespace is the `x-namespace` the destination sets (else the document's)."""
    meta = doc.get("metadata")
    own = str(meta.get("namespace")) if isinstance(meta, dict) else ""
    for http in _http_routes(doc):
        name, routes = http.get("name"), http.get("route")
        if not isinstance(name, str) or not name.startswith("split-") or not isinstance(routes, list):
            continue
        for destination in routes:
            set_ = _set_of(destination) or {}
            subset, namespace = set_.get(SUBSET_HEADER), set_.get(NAMESPACE_HEADER)
            if isinstance(subset, str):
                yield name, namespace if isinstance(namespace, str) else own, destination, subset


def _rollout_of(design: Design, route: str, namespace: str) -> ChannelRollout | None:
    """The design's rollout a `split-` route splits: `split-<namespace>-<rollout>` (or, as Studio named them when it
    wrote one VirtualService per namespace, `split-<rollout>`), in the namespace the route sets."""
    return next(
        (
            r
            for r in design.rollouts
            if r.namespace == namespace and route in (split_route_name(namespace, r.name), f"split-{r.name}")
        ),
        None,
    )


def synced_virtual_service(doc: dict[str, Any], design: Design) -> tuple[dict[str, Any], list[str]]:
    """The subset-split VirtualService `doc` with each `split-` route's stable and canary weights set as the design's
    ChannelRollout it splits says (a rollout edited after `canary` wrote the VirtualService left it splitting by the
    old weights), and a note per route changed; so are its per-namespace routes' matches (`_synced_matches`); other
    edits are kept. A rollout whose weights are no split (lint:
    rollout-weights) leaves its route as it is."""
    meta = doc.get("metadata")
    where = f"{meta.get('namespace')}/{VIRTUAL_SERVICE}" if isinstance(meta, dict) else VIRTUAL_SERVICE
    synced = copy.deepcopy(doc)
    changed: dict[str, tuple[ChannelRollout, list[str]]] = {}
    for name, namespace, destination, subset in _split_routes(synced):
        rollout = _rollout_of(design, name, namespace)
        if rollout is None or not _is_split(rollout):
            continue
        wanted = {STABLE: rollout.stable_weight, CANARY: rollout.canary_weight}.get(subset)
        if wanted is not None and destination.get("weight") != wanted:
            changed.setdefault(name, (rollout, []))[1].append(f"{subset} {destination.get('weight')} → {wanted}")
            destination["weight"] = wanted
    notes = [
        f"VirtualService {where}: route {name} now splits {', '.join(moves)}, as ChannelRollout {rollout.key} says "
        "(it was edited after the VirtualService was written)"
        for name, (rollout, moves) in changed.items()
    ]
    return synced, notes + _synced_matches(synced, design, where)


def _synced_matches(doc: dict[str, Any], design: Design, where: str) -> list[str]:
    """Set the matches of the routes `virtual_service` names (`pass-x-subset-<ns>`, `split-<ns>-<rollout>`,
    `namespace-<ns>`) in `doc` to what the design's channels make them now, with a note per route changed: a
    channel's tenant or channel label edited after `canary` wrote the VirtualService left it matching the old path,
    so the canary got none of the traffic and the namespace's requests no x-namespace."""
    fresh = {h["name"]: h["match"] for h in _http_routes(virtual_service(design)) if "match" in h}
    notes = []
    for http in _http_routes(doc):
        wanted = fresh.get(str(http.get("name")))
        if wanted is not None and http.get("match") != wanted:
            http["match"] = wanted
            notes.append(
                f"VirtualService {where}: route {http['name']} now matches "
                f"{', '.join(m['uri']['regex'] for m in wanted)}, the paths of the design's channels (a channel's "
                "tenant or channel label was edited after the VirtualService was written)"
            )
    return notes


def _is_split(rollout: ChannelRollout) -> bool:
    """Whether the rollout's weights are two percentages adding up to 100 (else lint's rollout-weights: the
    VirtualService keeps its split rather than take weights such as 0/0, which split nothing)."""
    weights = (rollout.stable_weight, rollout.canary_weight)
    return sum(weights) == 100 and all(0 <= w <= 100 for w in weights)


def unsplit_rollout_notes(design: Design, kept: Iterable[dict[str, Any]]) -> list[str]:
    """A note per ChannelRollout that no kept subset-split VirtualService has a route for: nothing splits its
    traffic (the operator does not act on a ChannelRollout), so every request goes to the stable channel."""
    routed = {
        rollout.key
        for doc in kept
        if is_subset_split(doc)
        for name, namespace, _, _ in _split_routes(doc)
        if (rollout := _rollout_of(design, name, namespace)) is not None
    }
    return [
        f"ChannelRollout {r.key}: no VirtualService {VIRTUAL_SERVICE} splits its traffic (the operator does not act "
        f"on a ChannelRollout), so the canary gets none of the requests without an x-subset header; run "
        "'lmos-studio canary' (it writes one for the design's rollouts), or split by x-subset yourself"
        for r in design.rollouts
        if r.key not in routed
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
