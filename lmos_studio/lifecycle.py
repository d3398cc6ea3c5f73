"""Compare two designs: every change classified as compatible, breaking or info, with its routing impact.

Breaking means a caller of the network can notice (a capability, agent, channel or trust it relied on is
gone, a range rejects what it accepted, a channel no longer resolves); compatible means only more works;
info means text that routing may read (descriptions, examples) or Studio bookkeeping changed. Wiring is
compared on the operator's resolution (`resolve.resolve_design`) of both designs; which queries route
differently is `compare.compare_routes`. Canaries live in `canary.py`. Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from lmos_studio.compare import RESOLUTION, Answer, RouteChange, compare
from lmos_studio.errors import VersionError
from lmos_studio.index import AgentIndex
from lmos_studio.model import DEFAULT_SUBSET, Agent, Capability, Channel, Design, Group, RoutingTest, TrustEdge
from lmos_studio.redact import redact_data, redact_text
from lmos_studio.resolve import Resolution, is_candidate, mismatch_reasons, resolve_channel
from lmos_studio.routing.base import Router
from lmos_studio.routing.evaluate import check_labelled
from lmos_studio.routing.labelled import LabelledQuery
from lmos_studio.versions import parse_version, range_subsumes, satisfies

ROUTING_TEST = "routing-test"  # the source label of a routing test in the routing impact

Severity = Literal["compatible", "breaking", "info"]
SEVERITY_ORDER: dict[str, int] = {"breaking": 0, "compatible": 1, "info": 2}  # rows list breaking first


@dataclass(frozen=True)
class Change:
    """One difference between two designs; `object` names what changed (e.g. `agent default/x`)."""

    kind: str
    severity: Severity
    object: str
    detail: str
    before: str = ""
    after: str = ""


@dataclass(frozen=True)
class DesignDiff:
    """The classified changes from `old` to `new` and the routing answers that change."""

    changes: list[Change]
    routing_impact: list[RouteChange] = field(default_factory=list)
    routing_method: str = RESOLUTION  # "resolution" or the router's name
    notes: list[str] = field(default_factory=list)
    lexicon: dict[str, dict[str, str]] | None = None  # routed: {"before"|"after": {channel key: lexicon line}}

    @property
    def breaking(self) -> list[Change]:
        return [c for c in self.changes if c.severity == "breaking"]

    @property
    def compatible(self) -> list[Change]:
        return [c for c in self.changes if c.severity == "compatible"]

    @property
    def info(self) -> list[Change]:
        return [c for c in self.changes if c.severity == "info"]

    @property
    def summary(self) -> dict[str, int]:
        return {
            "breaking": len(self.breaking),
            "compatible": len(self.compatible),
            "info": len(self.info),
            "routing_changes": len(self.routing_impact),
        }

    def rows(self) -> list[dict[str, str]]:
        """One dict per change (severity, kind, object, detail, before, after), breaking first."""
        return [
            {
                "severity": c.severity,
                "kind": c.kind,
                "object": c.object,
                "detail": c.detail,
                "before": c.before,
                "after": c.after,
            }
            for c in self.changes
        ]

    def impact_rows(self) -> list[dict[str, str]]:
        return [
            {
                "source": r.query.source,
                "query": redact_text(r.query.text),
                "channel": r.query.channel,
                "before": _answer(r.before),
                "after": _answer(r.after),
                "expected": r.query.agent,
            }
            for r in self.routing_impact
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "changes": self.rows(),
            "routingImpact": {
                "method": self.routing_method,
                "changes": [_impact_json(r) for r in self.routing_impact],
                **({"lexicon": self.lexicon} if self.lexicon is not None else {}),
            },
            "notes": list(self.notes),
        }


def _answer(answer: Answer) -> str:
    if not answer:
        return "—"
    return f"{answer.agent} ({answer.capability})" if answer.capability else answer.agent


def _impact_json(change: RouteChange) -> dict[str, str]:
    return {
        "source": change.query.source,
        "query": redact_text(change.query.text),
        "channel": change.query.channel,
        "beforeAgent": change.before.agent,
        "beforeCapability": change.before.capability,
        "afterAgent": change.after.agent,
        "afterCapability": change.after.capability,
        "expectedAgent": change.query.agent,
    }


class _Collector:
    """Accumulates changes; one method per severity keeps call sites short."""

    def __init__(self) -> None:
        self.changes: list[Change] = []

    def breaking(self, kind: str, obj: str, detail: str, before: Any = "", after: Any = "") -> None:
        self.add("breaking", kind, obj, detail, before, after)

    def compatible(self, kind: str, obj: str, detail: str, before: Any = "", after: Any = "") -> None:
        self.add("compatible", kind, obj, detail, before, after)

    def info(self, kind: str, obj: str, detail: str, before: Any = "", after: Any = "") -> None:
        self.add("info", kind, obj, detail, before, after)

    def add(self, severity: Severity, kind: str, obj: str, detail: str, before: Any = "", after: Any = "") -> None:
        # an object or detail may name a routing test by its query, or quote a description: no credential in either
        self.changes.append(
            Change(kind, severity, redact_text(obj), redact_text(detail), _shown(before), _shown(after))
        )


def _text(value: Any) -> str:
    if isinstance(value, tuple | list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _shown(value: Any) -> str:
    """`_text` of a value, but with its credentials masked (`redact_data`: URL user-info and token parameters,
    values of keys such as `apiKey`), so that `diff` never prints what a saved design keeps out: an agent's
    endpoints, security schemes, annotations and extras are compared as written."""
    plain = _plain(value)
    masked, found = redact_data(plain)
    return _text(masked if found else value)


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------------- resolution


@dataclass(frozen=True)
class _Resolved:
    """Both designs' resolutions by channel key; a channel whose reconcile would fail maps to the error."""

    by_key: dict[str, Resolution | VersionError]

    def ok(self, key: str) -> Resolution | None:
        value = self.by_key.get(key)
        return value if isinstance(value, Resolution) else None


def _resolve(design: Design) -> _Resolved:
    result: dict[str, Resolution | VersionError] = {}
    index = AgentIndex(design.agents)
    for channel in design.channels:
        try:
            result[channel.key] = resolve_channel(channel, design.agents, index=index)
        except VersionError as exc:  # the operator would fail the reconcile: a change, not a crash
            result[channel.key] = exc
    return _Resolved(result)


def _wired_ranges(resolved: _Resolved) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(agent key, capability) → [(channel key, required range)] for every wire of the old design."""
    ranges: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for key in resolved.by_key:
        resolution = resolved.ok(key)
        for wire in resolution.wires if resolution else ():
            ranges.setdefault((wire.agent.key, wire.provided.name), []).append((key, wire.required.version))
    return ranges


# -------------------------------------------------------------------------------------------------- agents


def _diff_agents(
    old: Design, new: Design, out: _Collector, wired: Mapping[tuple[str, str], list[tuple[str, str]]]
) -> None:
    before = {a.key: a for a in old.agents}
    after = {a.key: a for a in new.agents}
    for key, agent in before.items():
        if key not in after:
            served = sorted({c for (k, _), chans in wired.items() if k == key for c, _ in chans})
            where = f"; it served {', '.join(served)}" if served else ""
            out.breaking(
                "agent-removed",
                f"agent {key}",
                f"agent removed{where}",
                before=", ".join(c.name for c in agent.capabilities),
            )
    for key, agent in after.items():
        if key not in before:
            out.compatible(
                "agent-added", f"agent {key}", "agent added", after=", ".join(c.name for c in agent.capabilities)
            )
        elif before[key] != agent:
            _diff_agent(before[key], agent, old.channels, out, wired)


def _diff_agent(
    old: Agent,
    new: Agent,
    channels: Sequence[Channel],
    out: _Collector,
    wired: Mapping[tuple[str, str], list[tuple[str, str]]],
) -> None:
    obj = f"agent {old.key}"
    lost = [c for c in channels if is_candidate(old, c) and not is_candidate(new, c)]
    lost_text = "; ".join(
        f"no longer a candidate of channel {c.key} ({'; '.join(m.text for m in mismatch_reasons(new, c))})"
        for c in lost
    )
    for attr, kind in (("supported_tenants", "tenants-changed"), ("supported_channels", "channels-changed")):
        was, now = getattr(old, attr), getattr(new, attr)
        if was != now:
            severity: Severity = "breaking" if lost else "compatible"
            out.add(severity, kind, obj, lost_text or f"{attr} changed without losing a channel", was, now)
    if _effective(old.labels) != _effective(new.labels):
        severity = "breaking" if lost and old.subset != new.subset else "info"
        detail = lost_text if severity == "breaking" else "labels changed"
        out.add(severity, "labels-changed", obj, detail, _labels(old.labels), _labels(new.labels))
    _info_changes(
        out,
        "agent",
        obj,
        old,
        new,
        (
            "description",
            "id",
            "annotations",
            "endpoints",
            "security",
            "workload",
            "spec_extras",
            "metadata_extras",
            "extras",
        ),
    )
    _diff_capabilities(old, new, out, wired)


def _info_changes(out: _Collector, what: str, obj: str, old: Any, new: Any, attrs: Sequence[str]) -> None:
    """One info change `<what>-<attr>-changed` per attribute that differs (descriptions, extras, …)."""
    for attr in attrs:
        if getattr(old, attr) != getattr(new, attr):
            out.info(
                f"{what}-{attr.replace('_', '-')}-changed",
                obj,
                f"{attr} changed",
                _short(getattr(old, attr)),
                _short(getattr(new, attr)),
            )


def _effective(labels: Mapping[str, str]) -> dict[str, str]:
    """Labels as the operator reads them: no `subset` label is `subset: stable` (export writes it out)."""
    return {**labels, "subset": labels.get("subset", DEFAULT_SUBSET)}


def _labels(labels: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _short(value: Any, limit: int = 120) -> str:
    text = _shown(value)  # masked before it is cut: a cut URL could keep part of its password
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _diff_capabilities(
    old: Agent, new: Agent, out: _Collector, wired: Mapping[tuple[str, str], list[tuple[str, str]]]
) -> None:
    before = {c.name: c for c in old.capabilities}
    after = {c.name: c for c in new.capabilities}
    for name, cap in before.items():
        obj = f"capability {old.key}:{name}"
        if name not in after:
            used = wired.get((old.key, name), [])
            where = f"; wired into {', '.join(sorted({c for c, _ in used}))}" if used else ""
            out.breaking("capability-removed", obj, f"capability removed{where}", before=cap.version)
        elif after[name] != cap:
            _diff_capability(cap, after[name], obj, out, wired.get((old.key, name), []))
    for name, cap in after.items():
        if name not in before:
            out.compatible("capability-added", f"capability {new.key}:{name}", "capability added", after=cap.version)


def _diff_capability(
    old: Capability, new: Capability, obj: str, out: _Collector, used: Sequence[tuple[str, str]]
) -> None:
    if old.version.strip() != new.version.strip():
        _diff_version(old.version, new.version, obj, out, used)
    _info_changes(out, "capability", obj, old, new, ("description", "examples", "id", "extras"))


def _diff_version(old: str, new: str, obj: str, out: _Collector, used: Sequence[tuple[str, str]]) -> None:
    try:
        new_version = parse_version(new)
    except VersionError:
        out.breaking(
            "version-invalid",
            obj,
            "not strict SemVer: the operator would fail to reconcile every Channel requiring it",
            old,
            new,
        )
        return
    outside = sorted({f"{chan} ({rng})" for chan, rng in used if not satisfies(new_version, rng)})
    if outside:
        out.breaking(
            "version-out-of-range", obj, f"provided version no longer in the range of {', '.join(outside)}", old, new
        )
        return
    try:
        raised = new_version > parse_version(old)
    except VersionError:
        raised = True  # from an invalid version to a valid one
    direction = "raised" if raised else "lowered"
    where = f" (still in the range of {', '.join(sorted({c for c, _ in used}))})" if used else ""
    out.compatible(f"version-{direction}", obj, f"version {direction}{where}", old, new)


# ------------------------------------------------------------------------------------------------ channels


def _diff_channels(old: Design, new: Design, out: _Collector, old_res: _Resolved, new_res: _Resolved) -> None:
    before = {c.key: c for c in old.channels}
    after = {c.key: c for c in new.channels}
    for key in before:
        if key not in after:
            out.breaking("channel-removed", f"channel {key}", "channel removed", _labels(before[key].labels))
    for key, channel in after.items():
        if key not in before:
            res = new_res.ok(key)
            status = res.status if res else "reconcile fails"
            out.compatible(
                "channel-added", f"channel {key}", f"channel added ({status})", after=_labels(channel.labels)
            )
            continue
        if before[key] != channel:
            _diff_channel(before[key], channel, out)
        _diff_resolution(key, old_res.by_key[key], new_res.by_key[key], out)


def _diff_channel(old: Channel, new: Channel, out: _Collector) -> None:
    obj = f"channel {old.key}"
    old_labels, new_labels = _effective(old.labels), _effective(new.labels)
    for label in ("tenant", "channel", "subset"):
        if old_labels.get(label) != new_labels.get(label):
            out.breaking(
                "channel-label-changed",
                obj,
                f"label {label} changed: clients asking for the old {label} no longer find this channel",
                old_labels.get(label),
                new_labels.get(label),
            )
    other = {k for k in old.labels.keys() | new.labels.keys() if k not in ("tenant", "channel", "subset")}
    if any(old.labels.get(k) != new.labels.get(k) for k in other):
        out.info("channel-labels-changed", obj, "labels changed", _labels(old.labels), _labels(new.labels))
    _info_changes(out, "channel", obj, old, new, ("annotations", "spec_extras", "metadata_extras", "extras"))
    before = {r.name: r for r in old.required_capabilities}
    after = {r.name: r for r in new.required_capabilities}
    for name, req in before.items():
        robj = f"requirement {old.key}:{name}"
        if name not in after:
            out.breaking(
                "requirement-removed", robj, "the channel no longer offers this capability", before=req.version
            )
            continue
        now = after[name]
        if req.version.strip() != now.version.strip():
            _diff_range(req.version, now.version, robj, out)
        if req.strategy != now.strategy:
            out.compatible(
                "strategy-changed", robj, "strategy changed (see wiring changes)", req.strategy, now.strategy
            )
        if req.id != now.id or req.extras != now.extras:
            out.info("requirement-changed", robj, "id or extra fields changed", req.id, now.id)
    for name, req in after.items():
        if name not in before:
            out.compatible("requirement-added", f"requirement {old.key}:{name}", "requirement added", after=req.version)


def _diff_range(old: str, new: str, obj: str, out: _Collector) -> None:
    widened, narrowed = range_subsumes(new, old), range_subsumes(old, new)
    if widened and narrowed:
        out.info("range-rewritten", obj, "same versions, written differently", old, new)
    elif widened:
        out.compatible("range-widened", obj, "the range accepts every version it accepted", old, new)
    elif narrowed:
        out.breaking("range-narrowed", obj, "the range rejects versions it accepted", old, new)
    elif widened is None or narrowed is None:
        out.breaking(
            "range-changed",
            obj,
            "pre-release bounds: cannot prove the new range accepts what the old one did",
            old,
            new,
        )
    else:
        out.breaking("range-changed", obj, "the range rejects some versions it accepted", old, new)


def _diff_resolution(key: str, old: Resolution | VersionError, new: Resolution | VersionError, out: _Collector) -> None:
    obj = f"channel {key}"
    if isinstance(new, VersionError):
        if not isinstance(old, VersionError):
            out.breaking("channel-reconcile-fails", obj, str(new), old.status, "reconcile fails")
        return
    if isinstance(old, VersionError):
        out.compatible("channel-reconcile-fixed", obj, "the channel reconciles again", after=new.status)
        return
    if old.resolved and not new.resolved:
        reasons = "; ".join(f"{u.required.name}: {u.reason}" for u in new.unresolved)
        out.breaking("channel-unresolved", obj, reasons or "no candidate agent", old.status, new.status)
    elif new.resolved and not old.resolved:
        out.compatible("channel-resolved", obj, "every requirement is wired now", old.status, new.status)
    _diff_wiring(key, old, new, out)


def _served(resolution: Resolution) -> dict[str, list[str]]:
    served: dict[str, list[str]] = {}
    for wire in resolution.wires:
        served.setdefault(wire.agent.key, []).append(wire.required.name)
    return served


def _diff_wiring(key: str, old: Resolution, new: Resolution, out: _Collector) -> None:
    obj = f"channel {key}"
    before, after = _served(old), _served(new)
    for agent, caps in before.items():
        if agent not in after:
            out.breaking("agent-left-channel", obj, f"{agent} is no longer wired (served {', '.join(caps)})", agent, "")
    for agent, caps in after.items():
        if agent not in before:
            out.compatible("agent-joined-channel", obj, f"{agent} is wired (serves {', '.join(caps)})", "", agent)
    for req in new.channel.required_capabilities:
        was, now = old.provider(req.name), new.provider(req.name)
        robj = f"requirement {key}:{req.name}"
        if was and not now:
            out.breaking(
                "requirement-unresolved", robj, "no provider any more", f"{was.agent.name} {was.provided.version}", ""
            )
        elif now and not was:
            if any(r.name == req.name for r in old.channel.required_capabilities):
                out.compatible(
                    "requirement-resolved", robj, "wired now", "", f"{now.agent.name} {now.provided.version}"
                )
        elif was and now and (was.agent.key, was.provided.version) != (now.agent.key, now.provided.version):
            what = "provider changed" if was.agent.key != now.agent.key else "wired version changed"
            out.compatible(
                "provider-changed",
                robj,
                what,
                f"{was.agent.name} {was.provided.version}",
                f"{now.agent.name} {now.provided.version}",
            )


# ------------------------------------------------------------------------------------ trust, groups, others


def _trust_map(edges: Iterable[TrustEdge]) -> dict[tuple[str, str], TrustEdge]:
    """(caller, callee) → edge with the union of capabilities (empty = all), as the policy would grant."""
    merged: dict[tuple[str, str], TrustEdge] = {}
    for edge in edges:
        pair = (edge.caller, edge.callee)
        known = merged.get(pair)
        if known is None:
            merged[pair] = edge
        elif known.capabilities and edge.capabilities:
            caps = tuple(sorted(set(known.capabilities) | set(edge.capabilities)))
            merged[pair] = known.model_copy(update={"capabilities": caps})
        elif edge.capabilities:
            continue
        else:
            merged[pair] = known.model_copy(update={"capabilities": ()})
    return merged


def _caps(edge: TrustEdge) -> str:
    return ", ".join(edge.capabilities) or "all capabilities"


def _diff_trust(old: Design, new: Design, out: _Collector) -> None:
    before, after = _trust_map(old.trust_edges), _trust_map(new.trust_edges)
    for pair, edge in before.items():
        obj = f"trust {pair[0]} -> {pair[1]}"
        now = after.get(pair)
        if now is None:
            out.breaking("trust-removed", obj, "trust edge removed: the caller may no longer call", _caps(edge), "")
            continue
        was_caps, now_caps = set(edge.capabilities), set(now.capabilities)
        if was_caps != now_caps:
            wider = not now_caps or (bool(was_caps) and was_caps <= now_caps)
            out.add(
                "compatible" if wider else "breaking",
                "trust-widened" if wider else "trust-narrowed",
                obj,
                "capabilities the caller may use changed",
                _caps(edge),
                _caps(now),
            )
        if (edge.protocol, edge.description) != (now.protocol, now.description):
            out.info("trust-changed", obj, "protocol or description changed", edge.protocol, now.protocol)
    for pair, edge in after.items():
        if pair not in before:
            out.compatible("trust-added", f"trust {pair[0]} -> {pair[1]}", "trust edge added", "", _caps(edge))


def _diff_groups(old: Design, new: Design, out: _Collector) -> None:
    trusted = {
        ref.removeprefix("group:") for e in old.trust_edges for ref in (e.caller, e.callee) if ref.startswith("group:")
    }
    before: dict[str, Group] = {g.name: g for g in old.groups}
    after: dict[str, Group] = {g.name: g for g in new.groups}
    for name, group in before.items():
        obj, in_trust = f"group {name}", name in trusted
        why = " (trust edges name it)" if in_trust else ""
        now = after.get(name)
        if now is None:
            out.add(
                "breaking" if in_trust else "info",
                "group-removed",
                obj,
                f"group removed{why}",
                ", ".join(group.members),
            )
            continue
        gone = sorted(set(group.members) - set(now.members))
        added = sorted(set(now.members) - set(group.members))
        if gone:
            out.add(
                "breaking" if in_trust else "info",
                "group-members-removed",
                obj,
                f"members left the group{why}",
                ", ".join(gone),
            )
        if added:
            out.compatible("group-members-added", obj, "members joined the group", after=", ".join(added))
        if (group.description, group.labels) != (now.description, now.labels):
            out.info("group-changed", obj, "description or labels changed", group.description, now.description)
    for name, group in after.items():
        if name not in before:
            out.info("group-added", f"group {name}", "group added", after=", ".join(group.members))


def _diff_keyed(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    out: _Collector,
    *,
    what: str,
    added: Severity,
    removed: Severity,
    show: Callable[[Any], str],
) -> None:
    for key, item in before.items():
        if key not in after:
            out.add(removed, f"{what}-removed", f"{what} {key}", f"{what} removed", show(item), "")
        elif after[key] != item:
            out.info(f"{what}-changed", f"{what} {key}", f"{what} changed", show(item), show(after[key]))
    for key, item in after.items():
        if key not in before:
            out.add(added, f"{what}-added", f"{what} {key}", f"{what} added", "", show(item))


def _show_test(test: RoutingTest) -> str:
    """A routing test's expectation in a diff: agent (or "no agent"), capability, its own min score."""
    shown = (test.expect_agent or "no agent") + (f" {test.expect_capability}" if test.expect_capability else "")
    return shown + (f" (minScore {test.min_score:g})" if test.min_score is not None else "")


def _resource_key(doc: Mapping[str, Any]) -> str:
    meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    assert isinstance(meta, dict)
    return f"{doc.get('kind', '?')} {meta.get('namespace', '')}/{meta.get('name', '')}".replace(" /", " ")


def _diff_rest(old: Design, new: Design, out: _Collector) -> None:
    if (old.name, old.description) != (new.name, new.description):
        out.info("design-changed", "design", "name or description changed", old.name, new.name)
    _diff_keyed(
        {r.key: r for r in old.rollouts},
        {r.key: r for r in new.rollouts},
        out,
        what="rollout",
        added="compatible",
        removed="info",
        show=lambda r: f"{r.stable_channel} {r.stable_weight} / {r.canary_channel} {r.canary_weight}",
    )
    _diff_keyed(
        {f"{t.name or t.query} [{t.channel}]": t for t in old.routing_tests},
        {f"{t.name or t.query} [{t.channel}]": t for t in new.routing_tests},
        out,
        what="routing-test",
        added="info",
        removed="info",
        show=_show_test,
    )
    _diff_routing_settings(old, new, out)
    _diff_keyed(
        {_resource_key(d): d for d in old.other_resources},
        {_resource_key(d): d for d in new.other_resources},
        out,
        what="resource",
        added="info",
        removed="info",
        show=lambda d: str(d.get("apiVersion", "")),
    )


def _diff_routing_settings(old: Design, new: Design, out: _Collector) -> None:
    """`spec.routing`: the no-agent threshold, the lexicon policy, vocabulary groups and out-of-scope messages.
    Info: routing reads them, and `--router` shows which answers they change."""
    before, after = old.routing, new.routing
    if before.min_score != after.min_score:
        detail = "the no-agent threshold changed (none: each router's default)"
        out.info("routing-threshold-changed", "spec.routing.minScore", detail, before.min_score, after.min_score)
    if before.lexicon != after.lexicon:
        out.info(
            "routing-lexicon-changed", "spec.routing.lexicon", "lexicon policy changed", before.lexicon, after.lexicon
        )
    _diff_keyed(
        {", ".join(g): g for g in before.vocabulary},
        {", ".join(g): g for g in after.vocabulary},
        out,
        what="vocabulary",
        added="info",
        removed="info",
        show=lambda g: ", ".join(g),
    )
    _diff_keyed(
        {f"{e.text} [{e.channel or 'every channel'}]": e for e in before.out_of_scope},
        {f"{e.text} [{e.channel or 'every channel'}]": e for e in after.out_of_scope},
        out,
        what="out-of-scope",
        added="info",
        removed="info",
        show=lambda e: e.channel or "every channel",
    )


# ---------------------------------------------------------------------------------------------- entry point


def _test_queries(old: Design, new: Design) -> list[LabelledQuery]:
    """Both designs' routing tests (the new one's first), each (query, channel, agent) once."""
    seen: dict[tuple[str, str, str, float | None], LabelledQuery] = {}
    tests: tuple[RoutingTest, ...] = (*new.routing_tests, *old.routing_tests)
    for test in tests:
        query = LabelledQuery(
            test.query,
            test.expect_agent,
            test.expect_capability,
            test.channel,
            source=ROUTING_TEST,
            min_score=test.min_score,
        )
        seen.setdefault((query.text, query.channel, query.agent, query.min_score), query)
    return list(seen.values())


def diff_designs(
    old: Design,
    new: Design,
    *,
    queries: Sequence[LabelledQuery] | None = None,
    router: Router | None = None,
    source: str | None = None,
) -> DesignDiff:
    """Every change from `old` to `new`, breaking first, and the routing answers that change.

    Routing impact covers `new.routing_tests` (and the old ones) plus `queries`; with `router` it routes
    each query through that router fitted on each side's channel table, otherwise it compares resolutions
    only (who is wired for the expected agent or capability). Raises `RoutingError` if the router fails, and
    `DesignFileError` (naming `source`, line and field) for a query whose channel or agent is in neither design.
    """
    if queries:
        check_labelled([old, new], queries, source=source)
    out = _Collector()
    old_res, new_res = _resolve(old), _resolve(new)
    _diff_agents(old, new, out, _wired_ranges(old_res))
    _diff_channels(old, new, out, old_res, new_res)
    _diff_trust(old, new, out)
    _diff_groups(old, new, out)
    _diff_rest(old, new, out)
    changes = sorted(out.changes, key=lambda c: SEVERITY_ORDER[c.severity])
    impact = compare(old, new, [*_test_queries(old, new), *(queries or ())], router=router)
    method = router.name if router is not None else RESOLUTION
    lexicon = impact.lexicon_json() if router is not None else None
    return DesignDiff(changes=changes, routing_impact=impact.changes, routing_method=method, lexicon=lexicon)
