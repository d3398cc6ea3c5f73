"""Search several registries at once (embedded, TDD servers, operator API, Kubernetes, local network) and
shape the results for display: one table of matches, summed facets, a detail view per agent.

Every source degrades on its own: a failing source adds a message, the others still answer. A registration
past its expiry (a directory that has not purged it yet) is left out of the matches and kept apart (`expired`),
as the embedded registry and `registry serve` hide theirs.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import pandas as pd

from lmos_studio.errors import LmosStudioError
from lmos_studio.model import Agent
from lmos_studio.redact import redact_text, redact_url
from lmos_studio.registry.clients import SourceResult
from lmos_studio.registry.store import ANY_TENANT, FACETS, Query, RegistryStore, _search_text, query_words, text_matches
from lmos_studio.registry.unread import Unread, noun
from lmos_studio.visible import visible

SourceKind = Literal["embedded", "tdd", "operator", "kubernetes", "mdns"]
IN_CLUSTER = "in-cluster"  # a kubernetes source's target: the pod's service account instead of a kubeconfig
MDNS_TIMEOUT_S = 2.0  # how long the page browses the local network
EXPIRED_NAMES = 3  # the note on expired registrations names this many of each source


@dataclass(frozen=True)
class SourceSpec:
    """One place to search: `target` is a URL (tdd, operator) or a kubeconfig path ("" = default)."""

    kind: SourceKind
    target: str = ""
    tenants: tuple[str, ...] = ()  # operator API: which tenants to read
    context: str = ""  # kubernetes: kubeconfig context ("" = current)
    namespace: str = ""  # kubernetes: namespace ("" = the context's)
    token: str = field(default="", repr=False)  # tdd: a bearer token for reads (never in labels or messages)

    @property
    def label(self) -> str:
        """How rows and messages name the source; a URL without its user-info and secret query values (the
        label printed them before the message's own, redacted, URL)."""
        return {"embedded": "embedded registry", "mdns": "local network"}.get(
            self.kind, ""
        ) or f"{self.kind} {redact_url(self.target) if self.target else self.context or '(default)'}"


@dataclass(frozen=True)
class Found:
    """One match: the agent, which source it came from, its registry id and expiry (epoch s or None)."""

    agent: Agent
    source: str
    thing_id: str = ""
    expires: float | None = None

    @property
    def key(self) -> str:
        return f"{self.source} · {self.agent.key}"


@dataclass
class SearchOutcome:
    found: list[Found] = field(default_factory=list)
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    unread: list[tuple[str, Unread]] = field(default_factory=list)  # (source label, an item it could not read)
    expired: list[Found] = field(default_factory=list)  # registrations past their expiry, not in `found`
    answered: list[str] = field(default_factory=list)  # labels of the sources that answered, matches or none

    def by_key(self, key: str) -> Found | None:
        return next((f for f in self.found if f.key == key), None)


def matches(agent: Agent, query: Query) -> bool:
    """The store's search rules applied to an agent fetched from a source that cannot search itself."""
    return matching([agent], query)[0]


def matching(agents: list[Agent], query: Query) -> list[bool]:
    """`matches` for many agents at once: the filters exactly, the text as the store finds it (its FTS5 query over
    the same search text: word prefixes, case and Latin diacritics folded; punctuation only finds nothing)."""
    texts = [_search_text(agent, {}) for agent in agents] if query_words(query.text) else [""] * len(agents)
    found = text_matches(texts, query.text)
    return [hit and _passes_filters(agent, query) for agent, hit in zip(agents, found, strict=True)]


def _passes_filters(agent: Agent, query: Query) -> bool:
    return (
        (not query.capability or agent.capability(query.capability) is not None)
        and (not query.tenant or not agent.supported_tenants or query.tenant in agent.supported_tenants)
        and (not query.channel or query.channel in agent.supported_channels)
        and (not query.protocol or query.protocol in agent.protocols)
        and (not query.subset or agent.subset == query.subset)
    )


def facet_counts(agents: list[Agent]) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter[str]] = {kind: Counter() for kind in FACETS}
    for agent in agents:
        counts["capability"].update({c.name for c in agent.capabilities})
        counts["tenant"].update(set(agent.supported_tenants) or {ANY_TENANT})
        counts["channel"].update(set(agent.supported_channels))
        counts["protocol"].update(set(agent.protocols))
        counts["subset"][agent.subset] += 1
    return {kind: dict(c) for kind, c in counts.items()}


def _add_facets(total: dict[str, dict[str, int]], more: dict[str, dict[str, int]]) -> None:
    for kind, values in more.items():
        bucket = total.setdefault(kind, {})
        for value, count in values.items():
            bucket[value] = bucket.get(value, 0) + count


def _remote(spec: SourceSpec, query: Query) -> SourceResult:
    from lmos_studio.registry import clients, kubeconfig

    if spec.kind == "tdd":
        with clients.TddClient(spec.target, token=spec.token or None) as tdd:
            return tdd.search(query)
    if spec.kind == "operator":
        with clients.OperatorClient(spec.target) as operator:
            return operator.agents(list(spec.tenants))
    if spec.kind == "kubernetes":
        config = (
            kubeconfig.in_cluster_config()
            if spec.target == IN_CLUSTER
            else kubeconfig.load_kubeconfig(Path(spec.target) if spec.target else None, context=spec.context or None)
        )
        with clients.KubernetesClient(config) as kube:
            return kube.agents(spec.namespace or None)
    return _local_network(query)


def _local_network(query: Query) -> SourceResult:
    from lmos_studio.registry.clients import TddClient
    from lmos_studio.registry.mdns import TD_PATH, discover
    from lmos_studio.registry.unread import Unread, reason_of

    result, unread = SourceResult(), []
    found = discover(MDNS_TIMEOUT_S)
    for item in found:
        if item.error:  # said once with the others (`report`): 50 bad announcements were 50 warnings
            reason = reason_of(item.error, after=f"{item.url}: " if item.url else "")
            unread.append(Unread("service", item.service, reason, f"{item.service}: {item.error}"))
        elif item.kind == "Directory":
            with TddClient(item.url.removesuffix(TD_PATH)) as tdd:
                sub = tdd.search(query)
            result.agents += sub.agents
            result.listed += sub.listings()
            result.errors += sub.errors
            result.unread += sub.unread
        elif item.agent is not None:
            result.agents.append(item.agent)
            result.listed.append(("", None))
    counted = f"{len(unread)} of {len(found)} announced services could not be read, so their agents are missing"
    result.report(unread, where="mDNS (_wot._tcp)", counted=counted)
    return result


def _distinct(sources: list[SourceSpec]) -> list[SourceSpec]:
    """The sources in order, each once: a registry named twice listed every agent (and its failure) twice."""
    seen: dict[SourceSpec, SourceSpec] = {}
    for spec in sources:
        same = replace(spec, target=spec.target.rstrip("/")) if spec.kind in ("tdd", "operator") else spec
        seen.setdefault(same, spec)
    return list(seen.values())


def is_expired(found: Found, now: float) -> bool:
    """Whether a match's registration expired by `now` (epoch s)."""
    return found.expires is not None and found.expires <= now


def _less(facets: dict[str, dict[str, int]], minus: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Facet counts less others; a value counted no more is left out."""
    left = {kind: {v: n - minus.get(kind, {}).get(v, 0) for v, n in values.items()} for kind, values in facets.items()}
    return {kind: {v: n for v, n in values.items() if n > 0} for kind, values in left.items()}


def expired_note(outcome: SearchOutcome) -> str:
    """What the results leave out because it expired: how many, per source the first few with when they expired,
    and where they are listed; '' when nothing did."""
    if not outcome.expired:
        return ""
    by_source: dict[str, list[Found]] = {}
    for f in outcome.expired:
        by_source.setdefault(f.source, []).append(f)
    parts = []
    for source, items in by_source.items():
        named = ", ".join(f"{f.agent.name} (expired {when(f.expires)})" for f in items[:EXPIRED_NAMES])
        more = f" and {len(items) - EXPIRED_NAMES} more" if len(items) > EXPIRED_NAMES else ""
        parts.append(f"{source}: {named}{more}")
    count = len(outcome.expired)
    return (
        f"{count} expired registration{'s' if count != 1 else ''} not shown ({'; '.join(parts)}); the registry still "
        "lists them past their TTL (not purged yet, or its clock differs from this machine's): renew them, or "
        "remove them. `registry search -o json` lists them under `expired`, the Registry page under this note"
    )


def _said_by(spec: SourceSpec, message: str) -> str:
    """`message` under the source's name; a message that names the source's URL itself (a request's URL) gets the
    source's kind alone in front, so the URL is not said twice."""
    target = redact_url(spec.target) if spec.target else ""
    return f"{spec.kind} {message}" if target and message.startswith(target) else f"{spec.label}: {message}"


def search_sources(
    sources: list[SourceSpec], query: Query, *, store: RegistryStore | None = None, now: float | None = None
) -> SearchOutcome:
    """Search every source (one given twice, e.g. a URL with and without its trailing slash, once); each
    failure becomes a message, never an exception. A match whose registration expired by `now` (default: the
    clock) goes to `expired`, out of `found` and the facet counts."""
    outcome = SearchOutcome()
    at = time.time() if now is None else now
    for spec in _distinct(sources):
        try:
            if spec.kind == "embedded":
                if store is None:
                    continue
                result = store.search(query)
                outcome.answered.append(spec.label)
                outcome.found += [Found(e.agent, spec.label, e.id, e.registration.expires) for e in result.entries]
                _add_facets(outcome.facets, result.facets)
                continue
            remote = _remote(spec, query)
        except LmosStudioError as exc:
            outcome.errors.append(_said_by(spec, str(exc)))
            continue
        if remote.answered:
            outcome.answered.append(spec.label)
        # a directory answers with TD ids and expiries (the agent of a converted A2A card has no id of its own)
        hits = [True] * len(remote.agents) if spec.kind == "tdd" else matching(remote.agents, query)
        kept = [(a, r) for a, r, hit in zip(remote.agents, remote.listings(), hits, strict=True) if hit]
        matched = [Found(a, spec.label, thing_id or a.id, expires) for a, (thing_id, expires) in kept]
        live = [f for f in matched if not is_expired(f, at)]
        gone = [f for f in matched if is_expired(f, at)]
        outcome.found += live
        outcome.expired += gone
        if spec.kind == "tdd":  # the directory counted its expired registrations too
            _add_facets(outcome.facets, _less(remote.facets, facet_counts([f.agent for f in gone])))
        else:
            _add_facets(outcome.facets, facet_counts([f.agent for f in live]))
        outcome.errors += [_said_by(spec, e) for e in remote.errors]
        outcome.unread += [(spec.label, u) for u in remote.unread]
    outcome.facets = {k: dict(sorted(v.items(), key=lambda kv: (-kv[1], kv[0]))) for k, v in outcome.facets.items()}
    return outcome


def when(epoch: float | None) -> str:
    """An expiry as UTC text; one outside years 1–9999 in UTC (a directory may answer 0001-01-01T00:00:00+01:00)
    as before or after those."""
    if epoch is None:
        return "never"
    try:
        return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return "before 0001-01-01 00:00:00 UTC" if epoch < 0 else "after 9999-12-31 23:59:59 UTC"


def _shown(frame: pd.DataFrame) -> pd.DataFrame:
    """A display table's every cell as `visible` text, secrets masked (`redact_text`, as `resources.table` does for
    the app's other tables): a registry's line breaks, control characters and bidi overrides (U+202E turned a
    capability's name around in the browser) shown as escapes, a key in a description as ***."""
    return frame.map(lambda cell: visible(redact_text(str(cell)))) if len(frame) else frame


def results_table(outcome: SearchOutcome) -> pd.DataFrame:
    """One row per match (plain text cells, `visible`)."""
    return _table_of(outcome.found)


def expired_table(outcome: SearchOutcome) -> pd.DataFrame:
    """One row per registration left out because it expired, `expires` saying "expired <when>"."""
    table = _table_of(outcome.expired)
    table["expires"] = [f"expired {text}" for text in table["expires"]]
    return table


def _table_of(found: list[Found]) -> pd.DataFrame:
    rows = [
        {
            "agent": f.agent.name,
            "namespace": f.agent.namespace,
            "capabilities": ", ".join(f"{c.name} {c.version}" for c in f.agent.capabilities),
            "tenants": ", ".join(f.agent.supported_tenants) or "(any)",
            "channels": ", ".join(f.agent.supported_channels),
            "protocols": ", ".join(f.agent.protocols),
            "subset": f.agent.subset,
            "source": f.source,
            "expires": when(f.expires),
        }
        for f in found
    ]
    columns = ["agent", "namespace", "capabilities", "tenants", "channels", "protocols", "subset", "source", "expires"]
    return _shown(pd.DataFrame(rows, columns=columns))


UNREAD_COLUMNS = ["source", "kind", "tenant", "item", "reason", "message"]


def unread_rows(outcome: SearchOutcome) -> list[dict[str, str]]:
    """Every item a source could not read (a channel's routing, a Channel, a part of a ChannelRouting, a TD, an
    Agent resource) and why, as the registry said it (for JSON output)."""
    return [
        {
            "source": source,
            "kind": u.kind,
            "tenant": u.tenant,
            "item": u.item,
            "reason": u.reason,
            "message": u.message,
        }
        for source, u in outcome.unread
    ]


def unread_table(outcome: SearchOutcome) -> pd.DataFrame:
    """`unread_rows` as a display table (`visible` text)."""
    return _shown(pd.DataFrame(unread_rows(outcome), columns=UNREAD_COLUMNS))


def unread_label(outcome: SearchOutcome) -> str:
    """How many items of each kind were not read, for the list's heading: "200 channels, 3 TDs not read"."""
    kinds = Counter(u.kind for _, u in outcome.unread)
    return f"{', '.join(noun(kind, count) for kind, count in kinds.items())} not read"


def facet_options(outcome: SearchOutcome, kind: str) -> dict[str, str]:
    """Facet value → label with its count, for a select box ("" = any)."""
    options = {"": "any"}
    for value, count in outcome.facets.get(kind, {}).items():
        options[value] = f"{'(any tenant)' if value == ANY_TENANT else value} ({count})"
    return options


def detail_fields(found: Found) -> pd.DataFrame:
    """Everything about one agent except its capabilities, as field/value text rows (`visible`); URLs (an id, endpoints,
    where it came from, links in the description) without user-info or token-like query values."""
    agent = found.agent
    rows = [
        ("name", agent.name),
        ("namespace", agent.namespace),
        ("id", redact_text(found.thing_id or agent.id)),
        ("description", redact_text(agent.description)),
        ("tenants", ", ".join(agent.supported_tenants) or "(any)"),
        ("channels", ", ".join(agent.supported_channels) or "(none)"),
        ("subset", agent.subset),
        ("protocols", ", ".join(agent.protocols) or "(none)"),
        ("endpoints", "; ".join(f"{redact_url(e.uri)} {e.subprotocol}".strip() for e in agent.endpoints) or "(none)"),
        ("security", ", ".join(f"{s.name}: {s.scheme}" for s in agent.security) or "(none)"),
        ("format", agent.original_format or "LMOS Agent"),
        ("source", found.source),
        ("came from", redact_text(agent.source)),
        ("expires", when(found.expires)),
    ]
    return _shown(pd.DataFrame(rows, columns=["field", "value"]))


def capabilities_table(found: Found) -> pd.DataFrame:
    rows = [
        {"capability": c.name, "version": c.version, "description": c.description, "examples": " · ".join(c.examples)}
        for c in found.agent.capabilities
    ]
    return _shown(pd.DataFrame(rows, columns=["capability", "version", "description", "examples"]))


def agent_for_design(found: Found) -> Agent:
    """The agent as it joins a design: `source` says which registry it came from."""
    return found.agent.model_copy(update={"source": found.agent.source or found.source})
