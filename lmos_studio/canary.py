"""Derive a canary from a stable design, as LMOS models one (LMOS.md §1.10), and check that it resolves.

A canary is a second Channel labelled `subset: canary` plus Agents labelled `subset: canary`; because the
operator filters candidates by subset, the canary Channel can only wire canary Agents, so every agent a
stable Channel wires gets a canary twin (the changed ones with their changes). A `ChannelRollout` records
the weights and an Istio `VirtualService` on the operator's API (built in `export/istio.py`) does the split.
Pure functions over the model; the rules for names, versions and reuse are in `make_canary`'s docstring.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from lmos_studio.errors import ExportError
from lmos_studio.export.istio import CANARY, DEFAULT_OPERATOR_HOST, STABLE, with_virtual_service
from lmos_studio.index import AgentIndex
from lmos_studio.model import Agent, Channel, ChannelRollout, Design, Endpoint, Group, TrustEdge, Workload
from lmos_studio.names import DNS1123_LABEL_MAX
from lmos_studio.resolve import Resolution, resolve_channel, resolve_design
from lmos_studio.rollouts import rollout_problems
from lmos_studio.versions import Version, is_strict_semver, parse_version
from lmos_studio.visible import SHOWN_CHARS, cut

SUFFIX = "-canary"
DEFAULT_CANARY_WEIGHT = 10  # percent of traffic without an x-subset header that goes to the canary
CANARY_OF = "studio.lmos.eclipse/canary-of"  # annotation: the stable Agent/Channel a canary was derived from


def _fail(message: str, *, resource: str, field: str | None = None) -> ExportError:
    return ExportError(message, resource=resource, field=field)


def _pick_agents(design: Design, names: Sequence[str]) -> list[Agent]:
    picked = []
    for ref in names:
        found = [a for a in design.agents if ref in (a.key, a.name)]
        if not found:
            known = ", ".join(sorted(a.name for a in design.agents if a.subset == STABLE)[:10])
            raise _fail(
                f"agent '{cut(ref, SHOWN_CHARS)}' is not in the design; stable agents: {known}",
                resource=f"Agent {cut(ref, SHOWN_CHARS)}",
            )
        if len(found) > 1:
            raise _fail(
                f"agent '{ref}' is ambiguous ({', '.join(a.key for a in found)}); give namespace/name",
                resource=f"Agent {ref}",
            )
        if found[0].subset != STABLE:
            raise _fail(
                f"agent '{ref}' has subset {found[0].subset}; a canary is made from a stable agent",
                resource=f"Agent {found[0].key}",
                field="metadata.labels.subset",
            )
        picked.append(found[0])
    if not picked:
        raise _fail("name at least one agent to make a canary of", resource="Agent")
    return picked


def canary_name(name: str) -> str:
    return f"{name}{SUFFIX}"


def _rewrite_host(endpoint: Endpoint, old: str, new: str, namespace: str) -> Endpoint:
    uri = endpoint.uri.replace(f"//{old}.{namespace}.", f"//{new}.{namespace}.").replace(f"//{old}:", f"//{new}:")
    return endpoint.model_copy(update={"uri": uri})


def _canary_agent(stable: Agent, changed: Agent | None) -> Agent:
    """The canary twin: the changed agent (or a copy of the stable one) renamed, labelled subset=canary."""
    base = changed or stable
    name = canary_name(stable.name)
    if len(name) > DNS1123_LABEL_MAX:  # the twin's name is its Service's name: the API server would refuse it
        raise _fail(
            f"the canary of agent {stable.key} would be named '{name}', which is {len(name)} characters long "
            f"(at most {DNS1123_LABEL_MAX}, a Service name); shorten the agent's name to at most "
            f"{DNS1123_LABEL_MAX - len(SUFFIX)} characters",
            resource=f"Agent {stable.key}",
            field="metadata.name",
        )
    return base.model_copy(
        update={
            "name": name,
            "namespace": stable.namespace,
            "workload": _canary_workload(stable, base),
            "labels": {**base.labels, "subset": CANARY},
            "annotations": {**base.annotations, CANARY_OF: stable.name},
            "endpoints": tuple(_rewrite_host(e, stable.name, name, stable.namespace) for e in base.endpoints),
            "source": "",
            "original_format": "",
            "original": {},
            "metadata_extras": {},  # uid, resourceVersion … belong to the stable object
            "extras": {},
        }
    )


def _canary_workload(stable: Agent, base: Agent) -> Workload | None:
    """The twin's workload: the stable agent's service account, when it shares it, becomes `<account>-canary` (or,
    past a ServiceAccount name's 63 characters, none: the twin runs as its own name). Two agents of one namespace
    cannot run as one account: export refused the twin, and Istio could not tell its pods from the stable ones."""
    workload = base.workload
    account = workload.service_account if workload else ""
    if workload is None or not account or account != (stable.workload.service_account if stable.workload else ""):
        return workload
    twin = canary_name(account)
    return workload.model_copy(update={"service_account": twin if len(twin) <= DNS1123_LABEL_MAX else ""})


def _bump_kind(stable: Agent, canary: Agent) -> int:
    """0 = major, 1 = minor, 2 = patch: how far the canary's capabilities move from the stable agent's."""
    before = {c.name: c.version for c in stable.capabilities}
    after = {c.name: c.version for c in canary.capabilities}
    if set(before) - set(after):
        return 0
    kind = 1 if set(after) - set(before) else 2
    for name, old in before.items():
        if old == after[name]:
            continue
        if not (is_strict_semver(old) and is_strict_semver(after[name])):
            return 0
        was, now = parse_version(old), parse_version(after[name])
        if now < was or now.major != was.major:
            return 0
        kind = min(kind, 1 if now.minor != was.minor else 2)
    return kind


def bump_version(version: str | None, kind: int, *, floor: str | None = None) -> str:
    """The canary Channel's `version` label: the stable one raised by `kind` (0 major, 1 minor, 2 patch).

    When a canary Channel is replaced, `floor` is its version: the raise starts from the higher of the
    two, so a new canary never carries a lower version than the one it replaces. A missing or non-SemVer
    version becomes `<version or 0.0.0>-canary` (still a valid label value).
    """
    if not version or not is_strict_semver(version):
        return f"{version or '0.0.0'}{SUFFIX}"
    v: Version = parse_version(version)
    if floor and is_strict_semver(floor) and parse_version(floor) > v:
        v = parse_version(floor)
    parts = [(v.major + 1, 0, 0), (v.major, v.minor + 1, 0), (v.major, v.minor, v.patch + 1)][kind]
    return ".".join(str(p) for p in parts)


def _existing_canary(design: Design, stable: Channel) -> Channel | None:
    """A canary Channel of the same namespace, tenant and channel (the operator API would find it)."""
    return next(
        (
            c
            for c in design.channels
            if c.namespace == stable.namespace
            and c.subset == CANARY
            and c.tenant == stable.tenant
            and c.channel == stable.channel
        ),
        None,
    )


def _canary_channel_name(design: Design, stable: Channel) -> str:
    existing = _existing_canary(design, stable)
    if existing is not None:  # the operator API returns the first Channel whose labels match: replace it
        return existing.name
    taken = {c.key for c in design.channels}
    name, n = canary_name(stable.name), 2
    while f"{stable.namespace}/{name}" in taken:
        name, n = f"{canary_name(stable.name)}-{n}", n + 1
    return name


def _replace(items: Iterable[Any], new: Any) -> tuple[Any, ...]:
    kept = [i for i in items if i.key != new.key]
    index = next((n for n, i in enumerate(items) if i.key == new.key), len(kept))
    kept.insert(index, new)
    return tuple(kept)


def _twin_refs(ref: str, twins: Mapping[str, Agent], agents: Sequence[Agent]) -> list[str]:
    """Refs naming the canary twins of the stable agents `ref` names, in the ref's own form; [] when it names none.

    A ref is an agent's key (`namespace/name`: the twin's key) or a bare name, which names the agents of that
    name in every namespace (as `trust.RefIndex` resolves it): the twin's bare name when that names exactly
    the twins, else each twin by its bare name where that is unique, else by its key.
    """
    if ref in twins:
        return [twins[ref].key]
    named = [twin for key, twin in twins.items() if key.split("/", 1)[1] == ref]
    if not named:
        return []
    wanted = {twin.key for twin in named}
    keys_of: dict[str, set[str]] = {}
    for agent in agents:
        keys_of.setdefault(agent.name, set()).add(agent.key)
    if keys_of.get(canary_name(ref)) == wanted:
        return [canary_name(ref)]
    return sorted(twin.name if keys_of[twin.name] == {twin.key} else twin.key for twin in named)


def _mirror_trust(
    edges: Sequence[TrustEdge], twins: Mapping[str, Agent], agents: Sequence[Agent]
) -> tuple[TrustEdge, ...]:
    """Each trust edge that names a stable agent with a canary twin gets a copy naming the twin."""
    out = list(edges)
    keys = {e.key for e in edges}
    for edge in edges:
        callers, callees = _twin_refs(edge.caller, twins, agents), _twin_refs(edge.callee, twins, agents)
        if not callers and not callees:
            continue
        for caller in callers or [edge.caller]:
            for callee in callees or [edge.callee]:
                copy = edge.model_copy(update={"caller": caller, "callee": callee})
                if copy.key not in keys:
                    out.append(copy)
                    keys.add(copy.key)
    return tuple(out)


def _mirror_groups(groups: Sequence[Group], twins: Mapping[str, Agent], agents: Sequence[Agent]) -> tuple[Group, ...]:
    """Canary twins join the groups of their stable agents (so group trust edges cover them too)."""
    out = []
    for group in groups:
        extra = [r for m in group.members for r in _twin_refs(m, twins, agents) if r not in group.members]
        extra = list(dict.fromkeys(extra))
        out.append(group.model_copy(update={"members": (*group.members, *extra)}) if extra else group)
    return tuple(out)


def _rollout(design: Design, stable: Channel, canary: str, weight: int) -> ChannelRollout:
    existing = next(
        (r for r in design.rollouts if r.namespace == stable.namespace and r.stable_channel == stable.name), None
    )
    name = existing.name if existing else f"{stable.name}-rollout"
    return ChannelRollout(
        name=name,
        namespace=stable.namespace,
        labels=dict(existing.labels) if existing else {},
        annotations=dict(existing.annotations) if existing else {},
        canary_channel=canary,
        canary_weight=weight,
        stable_channel=stable.name,
        stable_weight=100 - weight,
    )


def make_canary(
    design: Design,
    *,
    agents: Sequence[str],
    canary_weight: int = DEFAULT_CANARY_WEIGHT,
    changes: Mapping[str, Agent] | None = None,
    ranges: Mapping[str, str] | None = None,
    operator_host: str = DEFAULT_OPERATOR_HOST,
) -> Design:
    """The design plus a canary for every stable Channel that wires one of `agents`.

    Rules (LMOS.md §1.6, §1.10):
    - canary Agents: each changed agent gets `<agent>-canary` (from `changes[name]` when given, else a copy),
      labelled `subset: canary`, annotated with the stable agent, endpoints pointing at the new name, running as
      `<service account>-canary` where the stable agent names its service account; the
      channel's other wired agents get a copy too (an existing `<agent>-canary` of those is kept), because
      a canary Channel can only wire canary Agents. Twins join their stable agent's groups and trust edges.
    - canary Channel: an existing canary Channel of the same namespace, tenant and channel is replaced
      (keeping its name: two would be ambiguous to the operator API); else `<channel>-canary` (`-2`, … if
      taken). Labels and requirements are the stable Channel's (`ranges` maps a capability name to the
      range its requirement gets in the canary), `subset: canary`, and `version` raised:
      major if a changed agent loses a capability, lowers a version or raises a major; minor if it adds a
      capability or raises a minor; else patch — from the replaced canary's version when that is higher
      (see `bump_version`).
    - a `ChannelRollout` (the existing one of the stable channel, else `<channel>-rollout`) with weights
      stable 100-w / canary w, and the design's one `VirtualService` for `operator_host` rebuilt from its channels and
      rollouts (replacing the subset-split VirtualServices it kept: one per namespace before).
    Raises `ExportError` for an unknown or non-stable agent, a weight outside 0–100, an agent that no
    stable Channel wires, a twin name longer than a Service name may be (an agent name of 57+ characters), or a twin
    name taken by an agent that is not a canary (it would be replaced).
    Check the result with `canary_findings`.
    """
    if not 0 <= canary_weight <= 100:
        raise _fail(
            f"canary weight {canary_weight} is outside 0–100",
            resource="ChannelRollout",
            field="spec.strategy.canary.canaryChannel.weight",
        )
    picked = _pick_agents(design, agents)
    changed = {a.key: (changes or {}).get(a.name) or (changes or {}).get(a.key) for a in picked}
    affected = [
        r for r in resolve_design(design) if r.channel.subset == STABLE and any(w.agent.key in changed for w in r.wires)
    ]
    if not affected:
        names = ", ".join(a.name for a in picked)
        raise _fail(f"no stable Channel wires {names}: nothing to make a canary of", resource=f"Agent {names}")
    required = {r.name for res in affected for r in res.channel.required_capabilities}
    unknown = sorted(set(ranges or {}) - required)
    if unknown:
        raise _fail(
            f"no affected stable Channel requires {', '.join(unknown)}; ranges apply to: {', '.join(sorted(required))}",
            resource="Channel",
            field="spec.requiredCapabilities[].version",
        )
    result, twins = design, {}
    for resolution in affected:
        result, made = _canary_for_channel(result, resolution, changed, weight=canary_weight, ranges=ranges or {})
        twins.update(made)
    result = result.replace(
        trust_edges=_mirror_trust(result.trust_edges, twins, result.agents),
        groups=_mirror_groups(result.groups, twins, result.agents),
    )
    return with_virtual_service(result, operator_host)


def _canary_for_channel(
    design: Design,
    resolution: Resolution,
    changed: Mapping[str, Agent | None],
    *,
    weight: int,
    ranges: Mapping[str, str],
) -> tuple[Design, dict[str, Agent]]:
    """The design with the channel's canary (twins, Channel, rollout), and its twins by stable agent key."""
    stable = resolution.channel
    twins: dict[str, Agent] = {}
    kind = 2
    for agent in resolution.agents:
        name = canary_name(agent.name)
        kept = design.agent(name, agent.namespace)
        if kept is not None and kept.subset != CANARY:  # the twin would take its key: the agent silently gone
            raise _fail(
                f"the canary of agent {agent.key} would be named {name}, but agent {kept.key} (subset {kept.subset}) "
                f"is already in the design and would be replaced by it; rename that agent first "
                f"(lmos-studio edit rename-agent DESIGN {kept.key} NEW-NAME)",
                resource=f"Agent {kept.key}",
                field="metadata.name",
            )
        if agent.key in changed:
            twin = _canary_agent(agent, changed[agent.key])
            kind = min(kind, _bump_kind(agent, twin))
        elif kept is not None and kept.subset == CANARY:
            twin = kept
        else:
            twin = _canary_agent(agent, None)
        design = design.with_agent(twin)
        twins[agent.key] = twin
    replaced = _existing_canary(design, stable)
    version = bump_version(stable.version, kind, floor=replaced.version if replaced else None)
    canary = Channel(
        name=_canary_channel_name(design, stable),
        namespace=stable.namespace,
        labels={**stable.labels, "subset": CANARY, "version": version},
        annotations={**stable.annotations, CANARY_OF: stable.name},
        required_capabilities=tuple(
            r.model_copy(update={"version": ranges[r.name]}) if r.name in ranges else r
            for r in stable.required_capabilities
        ),
        spec_extras=dict(stable.spec_extras),
    )
    design = design.replace(channels=_replace(design.channels, canary))
    design = design.replace(rollouts=_replace(design.rollouts, _rollout(design, stable, canary.name, weight)))
    return design, twins


@dataclass(frozen=True)
class CanaryFinding:
    """A problem of a canary: `error` when the canary cannot serve, `warning` when it serves differently."""

    severity: Literal["error", "warning"]
    code: str  # canary-without-agents | canary-other-provider | rollout-missing-channel | rollout-channel-mismatch
    # | rollout-weights
    object: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.object}: {self.message} [{self.code}]"


def canary_findings(design: Design) -> list[CanaryFinding]:
    """Problems of the design's canaries: canary Channels that do not resolve, requirements a canary serves
    from another agent than the twin of the stable provider, and rollouts naming missing channels."""
    findings: list[CanaryFinding] = []
    index = AgentIndex(design.agents)
    for channel in design.channels:
        if channel.subset != CANARY:
            continue
        resolution = resolve_channel(channel, design.agents, index=index)
        if not resolution.resolved:
            reasons = "; ".join(f"{u.required.name}: {u.reason}" for u in resolution.unresolved)
            if any(u.cause == "no-version-in-range" for u in resolution.unresolved):
                reasons += " (give the canary its own range: `ranges` / `--range NAME=RANGE`)"
            findings.append(
                CanaryFinding(
                    "error",
                    "canary-without-agents",
                    f"channel {channel.key}",
                    f"canary channel is UNRESOLVED: {reasons}",
                )
            )
        stable = design.channel(channel.annotations.get(CANARY_OF, ""), channel.namespace)
        if stable is not None:
            findings += _twin_findings(resolution, resolve_channel(stable, design.agents, index=index))
    for rollout in design.rollouts:
        findings += [
            CanaryFinding(p.severity, p.code, f"rollout {rollout.key}", p.message)
            for p in rollout_problems(design, rollout)
        ]
    return findings


def _twin_findings(canary: Resolution, stable: Resolution) -> list[CanaryFinding]:
    findings = []
    for wire in canary.wires:
        before = stable.provider(wire.required.name)
        if before is None:
            continue
        twin = canary_name(before.agent.name)
        if wire.agent.name != twin and wire.agent.annotations.get(CANARY_OF) != before.agent.name:
            findings.append(
                CanaryFinding(
                    "warning",
                    "canary-other-provider",
                    f"channel {canary.channel.key}",
                    f"{wire.required.name} is served by {wire.agent.name} {wire.provided.version}, "
                    f"not by {twin} (the canary of {before.agent.name}): another canary agent matches better",
                )
            )
    return findings
