"""Every cached resource of the app: nothing heavy runs on every rerun.

Cache keys are design digests (content hashes), so an edited design never sees a stale result. Results a page
only reads are `cache_resource` (shared, never copied: a 10 000-agent resolution is too big to unpickle per
rerun), and tables come as Arrow tables built once, so a rerun that changes nothing only re-emits elements.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from lmos_studio import bundled
from lmos_studio.config import get_settings
from lmos_studio.errors import VersionError
from lmos_studio.formats import design_cache
from lmos_studio.formats.design_cache import load_design_cached
from lmos_studio.formats.design_file import LoadResult
from lmos_studio.formats.yamlio import gc_paused
from lmos_studio.index import AgentIndex
from lmos_studio.model import Design, TrustEdge
from lmos_studio.redact import redact_text
from lmos_studio.resolve import Resolution, resolve_design
from lmos_studio.visible import visible

if TYPE_CHECKING:  # feature modules are imported where they are used: the app frame starts fast
    import networkx as nx
    import pyarrow as pa  # type: ignore[import-untyped]

    from lmos_studio.export.bundle import Bundle, ExportOptions
    from lmos_studio.graph import GraphFilter, Highlight, Position
    from lmos_studio.lint import Finding
    from lmos_studio.registry.sources import SearchOutcome, SourceSpec
    from lmos_studio.registry.store import Query, RegistryStore
    from lmos_studio.routing.base import FittedRouter, Router, RouteResult, RoutingTable
    from lmos_studio.routing.labelled import LabelledQuery, SeedRow
    from lmos_studio.routing.select import RouterCache
    from lmos_studio.trust import RefIndex


@st.cache_data(show_spinner=False)
def sample_designs() -> dict[str, str]:
    """Sample name → path of every bundled design (folders and YAML files)."""
    return {name: str(path) for name, path in bundled.sample_designs().items()}


@st.cache_resource(show_spinner="Reading design…", max_entries=4)
def read_design_files(path: str, mtime: float) -> LoadResult:
    """A design read from disk; `mtime` is part of the key so that edits on disk are seen. Shared, read only
    (a resource: a 10 000-agent design is too big to copy per call); read through the disk cache keyed by
    the files' bytes, so a design any process has read before opens without parsing.

    A large design's objects are then frozen for the cyclic collector (`gc.freeze`, as the CLI does): 10 000
    agents are millions of objects that every full collection would otherwise walk again, seconds of CPU
    across a page's first render. Frozen objects are still freed by reference counting when the design is
    closed (a design holds no reference cycles); small designs are not worth it. The collector stays paused
    until they are frozen: running again first, its next collections would walk all of them once more (~0.25 s
    at 10 000 agents).

    A design read for the first time has its disk cache entry written once the page is rendered
    (`after_this_run`): the first render does not wait for the secret scan, JSON dump and write (~0.3 s of CPU at
    10 000 agents); the process spends that CPU all the same, right after."""
    with gc_paused():
        result = load_design_cached([Path(path)], write=after_this_run)
        with _READ_LOCK:
            _READ_DIGESTS[result.design.digest()] = None
            while len(_READ_DIGESTS) > 16:
                _READ_DIGESTS.pop(next(iter(_READ_DIGESTS)))
        _seed_part_digests(result.design)
        if len(result.design.agents) >= FREEZE_AGENTS:
            gc.freeze()
    return result


FREEZE_AGENTS = 1000
_LATER: list[threading.Thread] = []  # work started by `after_this_run`, not yet joined by `wait_for_later_work`
_LATER_LOCK = threading.Lock()


def after_this_run(work: Callable[[], None]) -> None:
    """Run `work` once the current script run has ended (its page rendered), in a thread of its own; outside a
    script run, now. Streamlit runs a script (and reruns asked for while it runs) in one thread that ends with
    the run, so the thread waits for that one; a server shutting down waits for the work (not a daemon)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    runner = threading.current_thread()
    if get_script_run_ctx(suppress_warning=True) is None or runner is threading.main_thread():
        work()
        return

    def later() -> None:
        runner.join()
        work()

    thread = threading.Thread(target=later, name="lmos-studio-after-run")
    with _LATER_LOCK:
        _LATER[:] = [t for t in _LATER if t.is_alive()]
        _LATER.append(thread)
    thread.start()


def wait_for_later_work() -> None:
    """Block until the work `after_this_run` started has ended (tests and benchmarks: the disk cache written)."""
    with _LATER_LOCK:
        pending, _LATER[:] = list(_LATER), []
    for thread in pending:
        thread.join()


_READ_DIGESTS: dict[str, None] = {}  # digests of designs as read from disk (recent first out last)
_READ_LOCK = threading.Lock()


def is_read_from_disk(design: Design) -> bool:
    """Whether the design is one read from disk unchanged: only those have derived results kept on disk (an
    edit makes a new design; writing its lint or export each time would cost every edit)."""
    with _READ_LOCK:
        return design.digest() in _READ_DIGESTS


_SECRET_SCAN: dict[str, bool] = {}  # digest → whether the design may hold a secret (a scan of 10 000 agents
# costs ~0.4 s: lint, the export plan and the export's files ask it once per design, not once each)


def _may_hold_secret(design: Design) -> bool:
    """`design_cache.design_may_hold_secret`, once per design digest (derived results of a design that may hold
    a secret are not written to disk)."""
    digest = design.digest()
    with _READ_LOCK:
        known = _SECRET_SCAN.get(digest)
    if known is None:
        known = design_cache.design_may_hold_secret(design)
        with _READ_LOCK:
            _SECRET_SCAN[digest] = known
            while len(_SECRET_SCAN) > 16:
                _SECRET_SCAN.pop(next(iter(_SECRET_SCAN)))
    return known


# --- keys on the parts of a design a result depends on --------------------------------------------------
# An edit replaces one part of the design (a trust edge, a position, a group) and keeps the other parts' tuples:
# results that depend only on agents and channels (resolution, routing ambiguity) stay cached across such edits.

_PART_DIGESTS: dict[int, tuple[object, str]] = {}  # id(part) → (part, digest); the part is held so its id stays its own
_PART_LOCK = threading.Lock()
_PART_MAX = 64


def part_digest(part: object) -> str:
    """The content hash of one part of a design (a tuple of models), computed once per part object (for a
    design read from disk, its agents' and channels' keys come from its digest: `_seed_part_digests`)."""
    with _PART_LOCK:
        hit = _PART_DIGESTS.get(id(part))
    if hit is not None and hit[0] is part:
        return hit[1]
    import pydantic_core

    digest = hashlib.sha256(pydantic_core.to_json(part)).hexdigest()
    with _PART_LOCK:
        while len(_PART_DIGESTS) >= _PART_MAX:
            _PART_DIGESTS.pop(next(iter(_PART_DIGESTS)))
        _PART_DIGESTS[id(part)] = (part, digest)
    return digest


def _seed_part_digests(design: Design) -> None:
    """Keys for the agents and channels of a design read from disk, derived from the digest reading computed
    already: no second dump of 10 000 agents (~0.1 s of the first render) to key its resolution. Equal keys
    still mean equal content (one digest, one design); parts an edit makes are keyed by their own content, so
    an edit that restores the same content in a new tuple costs at worst a miss, never a wrong hit."""
    digest = design.digest()
    with _PART_LOCK:
        for name in ("agents", "channels"):
            part = getattr(design, name)
            if not part or id(part) in _PART_DIGESTS:  # () is one object shared by every design: not keyed here
                continue
            while len(_PART_DIGESTS) >= _PART_MAX:
                _PART_DIGESTS.pop(next(iter(_PART_DIGESTS)))
            _PART_DIGESTS[id(part)] = (part, hashlib.sha256(f"{name} of design {digest}".encode()).hexdigest())


def resolution_key(design: Design) -> str:
    """What resolution depends on: the agents and the channels (not groups, trust edges, layout or tests)."""
    return part_digest(design.agents) + part_digest(design.channels)


def routing_key(design: Design) -> str:
    """What routing tables and their confusions depend on: resolution's parts and the routing settings."""
    return resolution_key(design) + part_digest(design.routing)


_BY_RESOLUTION: dict[str | type[Any], Callable[[Any], Any]] = {Design: resolution_key}


@st.cache_resource(show_spinner=False, max_entries=8, hash_funcs=_BY_RESOLUTION)
def agent_index(design: Design) -> AgentIndex:
    """Candidates per channel scope and providers per capability, built once per design (the collector paused,
    as resolution pauses it: 10 000 agents' lists and keys are no garbage, ~4 ms of young collections)."""
    with gc_paused():
        return AgentIndex(design.agents)


@st.cache_resource(show_spinner=False, max_entries=8, hash_funcs=_BY_RESOLUTION)
def resolutions(design: Design) -> list[Resolution]:
    """The operator's resolution of every channel (raises VersionError like the operator). Read only."""
    return resolve_design(design, index=agent_index(design))


def table(rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Rows as an Arrow table (st.table/st.dataframe take it without a pandas conversion); columns of plain
    values are built without importing pandas (`arrow.plain_table`). Text that is not printable (a bidi override
    such as U+202E, a line break) shows as its escape (`visible`), as on the Registry page: design and registry
    text would otherwise turn a cell around."""
    import pyarrow as pa

    from lmos_studio.ui.arrow import plain_table

    rows = _printable(list(rows))
    found = plain_table(rows)
    if found is not None:
        return found
    try:
        return pa.Table.from_pylist(rows)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # a column mixing types: show every cell as text
        return pa.Table.from_pylist([{k: None if v is None else str(v) for k, v in row.items()} for row in rows])


def _printable(rows: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """`rows` with every text cell's secrets masked (`redact_text`, as Markdown text on the pages is by
    `markdown.escape`) and text that is not printable written with `visible`; the rows themselves when no cell
    changes (the common case: no copy)."""
    if all(_shown(v) is v for row in rows for v in row.values() if v.__class__ is str):
        return rows
    return [{k: _shown(v) if v.__class__ is str else v for k, v in row.items()} for row in rows]


def _shown(text: str) -> str:
    """One cell's text as a table shows it: secrets masked, what is not printable escaped (the same object when
    neither applies)."""
    masked = redact_text(text)
    if masked == text:
        masked = text
    return masked if masked.isprintable() else visible(masked)


@st.cache_resource(show_spinner=False, max_entries=8, hash_funcs={Design: lambda d: d.digest()})
def overview_tables(design: Design) -> tuple[pa.Table, pa.Table]:
    """The Overview's tables: channels with status, and agents."""
    from lmos_studio import summary

    found = resolutions(design)
    return table(summary.channel_rows(found)), table(summary.agent_rows(design))


@st.cache_resource(show_spinner=False, max_entries=64, hash_funcs={Design: lambda d: d.digest()})
def requirement_table(design: Design, key: str) -> pa.Table:
    """One channel's requirement rows (built when the channel is shown: 500 channels show one at a time)."""
    from lmos_studio import summary

    found = next((r for r in resolutions(design) if r.channel.key == key), None)
    return table(summary.requirement_rows(found) if found is not None else [])


# --- routing (Playground, Evaluate) ---------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def router_cache() -> RouterCache:
    """Fitted routers of this server, keyed by router name and table content (shared by all sessions)."""
    from lmos_studio.routing.select import RouterCache

    return RouterCache()


@st.cache_resource(show_spinner=False)
def _kept_router_cache() -> RouterCache:
    """Fitted routers of designs whose derived results may be kept on disk: the statistical router's fits are
    also kept in `<data dir>/design-cache/statistical-fit/` (routing/stored.py), as the CLI's routing commands
    keep them, so a new server process on an unchanged channel loads its fit instead of fitting again."""
    from lmos_studio.routing.select import RouterCache

    return RouterCache(disk=design_cache.derived_cache("statistical-fit"))


def router_cache_for(design: Design) -> RouterCache:
    """The cache that fits `design`'s routers: the one that keeps statistical fits on disk for a design read
    from disk unchanged with no secret in it and the disk cache on (`LMOS_STUDIO_DESIGN_CACHE_MB` > 0), as for
    lint and export; the in-memory one otherwise (an edited design's tables are fitted again in memory only)."""
    if design_cache.cache_bytes() > 0 and is_read_from_disk(design) and not _may_hold_secret(design):
        return _kept_router_cache()
    return router_cache()


class _CachedRouter:
    """A Router whose `fit` goes through the shared RouterCache (same content → same fitted router)."""

    def __init__(self, name: str, design: Design | None) -> None:
        self.name = name
        self._cache = router_cache() if design is None else router_cache_for(design)

    def fit(self, table: RoutingTable, *, seed: Sequence[tuple[str, str, str]] = ()) -> FittedRouter:
        return self._cache.fitted(self.name, table, seed=seed)


def cached_router(name: str, design: Design | None = None) -> Router:
    """The router `name`, fitted through the shared cache (`router_cache_for(design)` when the design it
    routes is given); an unknown name is a RoutingError now."""
    from lmos_studio.routing.evaluate import get_router

    get_router(name)  # fail early with the list of known routers
    return _CachedRouter(name, design)


@st.cache_data(show_spinner=False)
def router_names() -> list[str]:
    from lmos_studio.routing import select

    return list(select.router_names())


@st.cache_resource(show_spinner=False, max_entries=8, hash_funcs=_BY_RESOLUTION)
def _resolution_by_key(design: Design) -> dict[str, Resolution]:
    """Channel key → its resolution, for keys that name exactly one channel."""
    found = resolutions(design)
    counts: dict[str, int] = {}
    for resolution in found:
        counts[resolution.channel.key] = counts.get(resolution.channel.key, 0) + 1
    return {r.channel.key: r for r in found if counts[r.channel.key] == 1}


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs={Design: lambda d: d.digest()})
def routing_table_of(design: Design, key: str) -> RoutingTable:
    """The routing table of one channel key ("" = all agents), from the design's cached resolution."""
    from lmos_studio.routing.table import routing_table, table_for_resolution

    try:
        resolution = _resolution_by_key(design).get(key) if key and design.channels else None
    except VersionError:  # another channel meets a non-SemVer version: resolve this one alone
        resolution = None
    return table_for_resolution(resolution, design.routing) if resolution is not None else routing_table(design, key)


@st.cache_resource(show_spinner=False, max_entries=8, hash_funcs={Design: lambda d: part_digest(d.agents)})
def whatif_options(design: Design) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """What the what-if widgets offer: agent names and `agent:capability` pairs."""
    agents = tuple(a.name for a in design.agents)
    return agents, tuple(f"{a.name}:{c.name}" for a in design.agents for c in a.capabilities)


@st.cache_data(show_spinner=False, max_entries=256, hash_funcs={Design: lambda d: d.digest()})
def route_query(router: str, design: Design, key: str, query: str, top_k: int = 5) -> RouteResult:
    """One query routed in one channel (cached: reruns never call an LLM again for the same question)."""
    from lmos_studio.routing.evaluate import route_timed

    fitted = router_cache_for(design).fitted(router, routing_table_of(design, key))
    result, elapsed = route_timed(fitted, query, top_k=top_k)
    return result if result.latency_ms else replace(result, latency_ms=elapsed)


def lexicon_summary(router: str, design: Design, key: str) -> str | None:
    """Whether the router fitted on one channel uses the built-in lexicon, and why (one line; None: LLM)."""
    from lmos_studio.routing.lexicon import lexicon_choice_of

    choice = lexicon_choice_of(router_cache_for(design).fitted(router, routing_table_of(design, key)))
    return choice.describe() if choice is not None else None


@st.cache_data(show_spinner="Reading labelled queries…", max_entries=16)
def labelled_queries(data: bytes, source: str) -> list[LabelledQuery]:
    from lmos_studio.routing.labelled import parse_labelled_csv

    return parse_labelled_csv(data, source=source)


@st.cache_data(show_spinner=False, max_entries=16)
def labelled_file(path: str, mtime: float) -> list[LabelledQuery]:
    """A labelled CSV on disk (a sample set), read once per version of the file (`mtime`), not on every rerun."""
    from lmos_studio.routing.labelled import read_labelled_csv

    return read_labelled_csv(path)


@st.cache_data(show_spinner=False, max_entries=8)
def seed_examples(data: bytes, source: str) -> tuple[SeedRow, ...]:
    from lmos_studio.routing.labelled import parse_seed, seed_rows

    return seed_rows(parse_seed(data, source=source))


# --- Designer -------------------------------------------------------------------------------------------
_BY_DIGEST: dict[str | type[Any], Callable[[Any], Any]] = {Design: lambda d: d.digest()}


@st.cache_resource(show_spinner=False, max_entries=8, hash_funcs=_BY_RESOLUTION)
def safe_resolutions(design: Design) -> list[Resolution]:
    """Resolution ignoring non-SemVer provided versions (what the graph and lint show). Read only.

    When every provided version is SemVer that is the operator's resolution itself: the Overview's cached one
    is shared (one resolution of 10 000 agents per design, not two)."""
    from lmos_studio.trust import safe_resolutions, without_invalid_versions

    cleaned = without_invalid_versions(design)
    if all(a is b for a, b in zip(cleaned.agents, design.agents, strict=True)):
        with contextlib.suppress(VersionError):  # a channel's range is not SemVer: resolve as the graph does
            return resolutions(design)
    return safe_resolutions(design)


@st.cache_resource(show_spinner=False, max_entries=8, hash_funcs=_BY_DIGEST)
def design_graph(design: Design) -> tuple[nx.MultiDiGraph, dict[str, Position]]:
    """The design's graph and its layout (shared, never mutated: filters copy)."""
    from lmos_studio.graph import build_graph, layout

    graph = build_graph(design, resolutions=safe_resolutions(design))
    return graph, layout(graph)


@st.cache_resource(show_spinner=False, max_entries=8, hash_funcs=_BY_DIGEST)
def ref_index(design: Design) -> RefIndex:
    """Agents, groups and channels by ref, with channel members from the cached resolution."""
    from lmos_studio.trust import RefIndex

    return RefIndex(design, safe_resolutions(design))


@dataclass(frozen=True)
class DesignerChoices:
    """What the Designer's select boxes offer, computed once per design."""

    agent_keys: tuple[str, ...]
    agent_names: tuple[str, ...]
    edge_keys: tuple[str, ...]
    refs: tuple[str, ...]
    filters: dict[str, tuple[str, ...]]
    edge_key_set: frozenset[str] = frozenset()
    agent_name_set: frozenset[str] = frozenset()
    ref_set: frozenset[str] = frozenset()


@st.cache_resource(show_spinner=False, max_entries=8, hash_funcs=_BY_DIGEST)
def designer_choices(design: Design) -> DesignerChoices:
    """Agents, trust edges, refs and filter values of a design (the Designer's select boxes)."""
    from lmos_studio.aggregate import filter_options_of
    from lmos_studio.trust import ref_options

    agent_names = tuple(dict.fromkeys(a.name for a in design.agents))
    edge_keys = tuple(e.key for e in design.trust_edges)
    refs = tuple(ref_options(design))
    return DesignerChoices(
        agent_keys=tuple(a.key for a in design.agents),
        agent_names=agent_names,
        edge_keys=edge_keys,
        refs=refs,
        filters={k: tuple(v) for k, v in filter_options_of(design, safe_resolutions(design)).items()},
        edge_key_set=frozenset(edge_keys),
        agent_name_set=frozenset(agent_names),
        ref_set=frozenset(refs),
    )


@st.cache_resource(show_spinner=False, max_entries=8, hash_funcs={Design: routing_key})
def ambiguity_findings(design: Design) -> list[Finding]:
    """lint's `ambiguous-capabilities` (routing confusions): the costly part of lint, kept across edits of
    trust edges, groups and positions."""
    from lmos_studio.routing.confusion import ambiguity_findings

    found = ambiguity_findings(design, safe_resolutions(design))
    key = routing_key(design)
    with _PART_LOCK:
        _AMBIGUITY_DONE[key] = None
        while len(_AMBIGUITY_DONE) > 16:
            _AMBIGUITY_DONE.pop(next(iter(_AMBIGUITY_DONE)))
    return found


AMBIGUITY_AUTO_AGENTS = 2000  # above this many agents the Designer checks routing ambiguity when asked
_AMBIGUITY_DONE: dict[str, None] = {}  # routing keys whose ambiguity findings this process has computed


def _lint_disk_key(design: Design) -> str | None:
    return design_cache.derived_key(design.digest(), "lint") if is_read_from_disk(design) else None


def lint_complete_at_hand(design: Design) -> bool:
    """Whether the whole lint (routing ambiguity included) costs little now: a small design, ambiguity already
    checked in this process for these agents, channels and routing settings, or the lint kept on disk. Above
    `AMBIGUITY_AUTO_AGENTS` agents the confusion check embeds every capability text (seconds of CPU at
    10 000 agents): the Designer shows the other findings first and checks ambiguity when asked."""
    if len(design.agents) <= AMBIGUITY_AUTO_AGENTS:
        return True
    routing = routing_key(design)
    with _PART_LOCK:
        if routing in _AMBIGUITY_DONE:
            return True
    key = _lint_disk_key(design)
    return key is not None and design_cache.derived_cache("lint").path(key).exists()


_TRUST_LINT: dict[str, dict[TrustEdge, list[Finding]]] = {}  # refs key → trust edge → its findings
_TRUST_LINT_KEYS = 4


def _trust_lint(design: Design) -> list[Finding] | None:
    """lint's trust-edge findings, kept per edge while agents, channels and groups stay the same: drawing one
    edge on a large design lints that edge, not all of them. None when two edges share a key (lint groups by key)."""
    from lmos_studio.lint import trust_findings

    if len({e.key for e in design.trust_edges}) != len(design.trust_edges):
        return None
    refs = resolution_key(design) + part_digest(design.groups)
    with _PART_LOCK:
        known = _TRUST_LINT.pop(refs, {})
        while len(_TRUST_LINT) >= _TRUST_LINT_KEYS:
            _TRUST_LINT.pop(next(iter(_TRUST_LINT)))
        _TRUST_LINT[refs] = known
    missing = tuple(e for e in design.trust_edges if e not in known)
    if missing:
        found = trust_findings(design.replace(trust_edges=missing), ref_index(design))
        by_key: dict[str, list[Finding]] = {e.key: [] for e in missing}
        for finding in found:
            edge_key = finding.objects[0].removeprefix("trust:") if finding.objects else ""
            if edge_key not in by_key:
                return None
            by_key[edge_key].append(finding)
        with _PART_LOCK:
            known.update({e: by_key[e.key] for e in missing})
    return [f for e in design.trust_edges for f in known[e]]


def _routing_test_lint(design: Design, resolved: Sequence[Resolution]) -> list[Finding]:
    """lint's findings about the design's routing tests (no router fitted: cheap at every level of the panel)."""
    from lmos_studio.routing.regression import routing_test_findings

    return routing_test_findings(design, resolved)


@st.cache_resource(show_spinner=False, max_entries=8, hash_funcs=_BY_DIGEST)
def lint_findings(design: Design) -> list[Finding]:
    """Lint of the design (non-SemVer versions are findings, not errors), as `lint_with_routing`. Read only.
    For a design as read from disk, kept on disk by digest: the Designer's first render in a new process does
    not lint again (the confusion check embeds texts); edited designs are linted incrementally in memory."""
    from lmos_studio.lint import Finding, lint_design

    cache = design_cache.derived_cache("lint", frozenset({Finding}))
    key = _lint_disk_key(design)
    found = cache.get(key) if key else None
    if isinstance(found, list) and all(isinstance(f, Finding) for f in found):
        return found
    resolved = safe_resolutions(design)
    extra = [*ambiguity_findings(design), *_routing_test_lint(design, resolved)]
    findings = lint_design(design, resolutions=resolved, extra=extra, trust=_trust_lint(design))
    if key and not _may_hold_secret(design):
        cache.put(key, findings)
    return findings


@st.cache_resource(show_spinner=False, max_entries=8, hash_funcs=_BY_DIGEST)
def lint_findings_without_ambiguity(design: Design) -> list[Finding]:
    """Lint of the design but for `ambiguous-capabilities` (the routing confusion check): what the Designer
    shows of a large design until ambiguity is checked. Read only. Kept on disk like `lint_findings`."""
    from lmos_studio.lint import Finding, lint_design

    cache = design_cache.derived_cache("lint", frozenset({Finding}))
    key = design_cache.derived_key(design.digest(), "lint-base") if is_read_from_disk(design) else None
    found = cache.get(key) if key else None
    if isinstance(found, list) and all(isinstance(f, Finding) for f in found):
        return found
    resolved = safe_resolutions(design)
    extra = _routing_test_lint(design, resolved)
    findings = lint_design(design, resolutions=resolved, extra=extra, trust=_trust_lint(design))
    if key and not _may_hold_secret(design):
        cache.put(key, findings)
    return findings


PAIRS_LATER_AGENTS = 2000  # above this many agents the Designer counts trust-pair findings first, lists them when asked
_LEAN_FIELDS = ("findings", "pairs")


@st.cache_resource(show_spinner=False, max_entries=8, hash_funcs=_BY_DIGEST)
def lint_findings_lean(design: Design) -> tuple[list[Finding], dict[str, int]]:
    """Lint of the design but for the routing ambiguity check and the trust-pair findings (`lint.PAIR_CODES`:
    an edge's agent pairs that share no tenant or protocol), with how many of those there are per code: what
    the Designer shows of a large design first (at 10 000 agents listing ~30 000 cross-tenant edges costs
    more than the rest of lint). Read only. Kept on disk like `lint_findings`."""
    from lmos_studio.lint import Finding, lint_design, self_trust_findings, trust_pair_counts, unknown_target_findings

    cache = design_cache.derived_cache("lint", frozenset({Finding}))
    key = design_cache.derived_key(design.digest(), "lint-lean") if is_read_from_disk(design) else None
    found = cache.get(key) if key else None
    if isinstance(found, dict) and set(found) == set(_LEAN_FIELDS):
        return found["findings"], found["pairs"]
    index = ref_index(design)
    pairs = trust_pair_counts(design, index)
    trust = [*unknown_target_findings(design, index), *self_trust_findings(design, index)]  # no pairs listed
    resolved = safe_resolutions(design)
    findings = lint_design(design, resolutions=resolved, extra=_routing_test_lint(design, resolved), trust=trust)
    if key and not _may_hold_secret(design):
        cache.put(key, {"findings": findings, "pairs": pairs})
    return findings, pairs


LEAN, BASE, FULL = "lean", "base", "full"  # how much of lint the Designer shows (see designer_findings)


def trust_pairs_at_hand(design: Design) -> bool:
    """Whether listing the trust-pair findings costs little now: a design of at most `PAIRS_LATER_AGENTS`
    agents, or its lint (all but ambiguity) kept on disk."""
    if len(design.agents) <= PAIRS_LATER_AGENTS:
        return True
    key = design_cache.derived_key(design.digest(), "lint-base") if is_read_from_disk(design) else None
    return key is not None and design_cache.derived_cache("lint").path(key).exists()


def designer_findings(design: Design, *, level: str) -> list[Finding]:
    """The whole lint (FULL), all of it but the routing ambiguity check (BASE), or all but ambiguity and the
    trust-pair findings (LEAN: `lint_findings_lean` counts those)."""
    if level == FULL:
        return lint_findings(design)
    return lint_findings_without_ambiguity(design) if level == BASE else lint_findings_lean(design)[0]


@st.cache_resource(show_spinner=False, max_entries=8, hash_funcs=_BY_DIGEST)
def lint_error_count(design: Design, level: str = FULL) -> int:
    """How many of `designer_findings(design, level=level)` are errors."""
    return sum(f.severity == "error" for f in designer_findings(design, level=level))


@st.cache_resource(show_spinner=False, max_entries=8, hash_funcs=_BY_DIGEST)
def dangling_edges(design: Design) -> tuple[TrustEdge, ...]:
    """Trust edges naming an agent, group or channel that is not in the design (not drawn)."""
    from lmos_studio.trust import dangling_trust_edges

    return tuple(dangling_trust_edges(design, index=ref_index(design)))


@st.cache_resource(show_spinner=False, max_entries=8, hash_funcs=_BY_DIGEST)
def finding_table(design: Design) -> pa.Table:
    """The lint findings as the Designer's table."""
    from lmos_studio.lint import finding_rows

    return table(finding_rows(lint_findings(design)))


@st.cache_resource(show_spinner=False, max_entries=16, hash_funcs=_BY_DIGEST)
def finding_view(design: Design, query: str, limit: int, level: str = FULL) -> tuple[tuple[int, ...], int, pa.Table]:
    """The findings whose row contains `query` (case-insensitive), at most `limit` of them: their indices in
    `designer_findings(design, level=level)`, how many matched in all, and their table (a rerun re-sends
    only these rows)."""
    from lmos_studio.lint import finding_rows

    rows = finding_rows(designer_findings(design, level=level))
    needle = query.strip().lower()
    matched = [i for i, row in enumerate(rows) if not needle or needle in " ".join(row.values()).lower()]
    shown = tuple(matched[:limit])
    return shown, len(matched), table([rows[i] for i in shown])


@st.cache_data(show_spinner="Drawing the graph…", max_entries=16, hash_funcs=_BY_DIGEST)
def graph_html(design: Design, flt: GraphFilter, highlight: Highlight) -> str:
    """The offline HTML of the (filtered, highlighted) graph."""
    from lmos_studio.graph import filter_graph
    from lmos_studio.view import render_html

    graph, positions = design_graph(design)
    return render_html(filter_graph(graph, flt), positions=positions, highlight=highlight, title=design.name)


@st.cache_resource(show_spinner="Drawing the graph…", max_entries=16, hash_funcs=_BY_DIGEST)
def canvas_payload(
    design: Design, flt: GraphFilter, highlight: Highlight, expanded: frozenset[str], height_px: int
) -> tuple[str, bytes]:
    """The Designer canvas's nodes and edges (collapsed above 150 nodes but for `expanded`): its version and
    the JSON object encoded once, so a rerun sends cached bytes instead of serialising the graph again. A large
    design with no filter and no cluster opened is drawn from its aggregates: the full graph is built when
    something needs it (a filter, an opened cluster, a selection to highlight)."""
    import json

    from lmos_studio.view import canvas_view, collapsed_canvas_view

    payload = None
    if not flt and not expanded:  # a large design opens collapsed: drawn without its full graph
        payload = collapsed_canvas_view(design, safe_resolutions(design), highlight, height_px)
    if payload is None:
        graph, _ = design_graph(design)
        payload = canvas_view(design, graph, flt, highlight, expanded, height_px)
    version = str(payload.pop("version"))  # the page puts its own version (with the selection) first
    return version, json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# -- registry ---------------------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def registry_store() -> RegistryStore:
    """The embedded registry (seeded from the samples on first start), or PostgreSQL when configured."""
    from lmos_studio.registry.stores import open_store

    return open_store(get_settings().registry_target)


@st.cache_data(ttl=3, show_spinner="Searching the registries…", max_entries=64)
def registry_search(sources: tuple[SourceSpec, ...], query: Query) -> SearchOutcome:
    """Matches from every chosen source; kept 3 s so reruns do not refetch while expiry stays visible."""
    from lmos_studio.registry.sources import search_sources

    store = registry_store() if any(s.kind == "embedded" for s in sources) else None
    return search_sources(list(sources), query, store=store)


# -- export -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportViews:
    """The Export page's derived views of one export."""

    summary: str
    file_tree: str
    files: tuple[str, ...]
    validation: pa.Table
    policy_counts: dict[str, int]
    policy: pa.Table


@dataclass(frozen=True)
class ExportOutput:
    """What the Export page shows and offers of one validated export: notes, files, the zip, the views."""

    notes: tuple[str, ...]
    files: dict[str, bytes]
    archive: bytes
    views: ExportViews


@dataclass(frozen=True)
class ExportPlan:
    """What an export will hold, without rendering a file: notes, validation, documents per kind, the file
    paths and the trust → policy report (the Export page's first render shows this; files are built on demand)."""

    notes: tuple[str, ...]
    summary: str
    kinds: dict[str, int]
    paths: tuple[str, ...]
    validation: pa.Table
    policy_counts: dict[str, int]
    policy: pa.Table


_PLAN_FIELDS = ("notes", "summary", "kinds", "paths", "validation", "policy_counts", "policy")


@st.cache_resource(show_spinner="Building and validating manifests…", max_entries=2, hash_funcs=_BY_DIGEST)
def export_bundle(design: Design, options: ExportOptions) -> Bundle:
    """The validated bundle (documents, not yet YAML; raises ExportError). Read only; in memory only."""
    from lmos_studio.export.bundle import export_design

    return export_design(design, options)


@st.cache_resource(show_spinner="Validating manifests…", max_entries=8, hash_funcs=_BY_DIGEST)
def export_plan(design: Design, options: ExportOptions) -> ExportPlan:
    """What the export of a design will hold (raises ExportError like `export_design`), from the bundle's
    documents: no YAML is rendered. Kept on disk by digest and options for designs read from disk."""
    cache = design_cache.derived_cache("export")
    options_key = json.dumps(asdict(options), sort_keys=True)
    key = design_cache.derived_key(design.digest(), "plan", options_key) if is_read_from_disk(design) else None
    found = cache.get(key) if key else None
    if not (isinstance(found, dict) and set(found) == set(_PLAN_FIELDS)):
        bundle = export_bundle(design, options)
        kinds: dict[str, int] = {}
        for manifest in bundle.manifests:
            kind = str(manifest.document.get("kind"))
            kinds[kind] = kinds.get(kind, 0) + 1
        found = {
            "notes": list(bundle.notes),
            "summary": bundle.validation_summary(),
            "kinds": dict(sorted(kinds.items())),
            "paths": sorted([*(m.path for m in bundle.manifests), "kustomization.yaml"]),
            "validation": list(bundle.validation.rows),
            "policy_counts": bundle.policy_counts(),
            "policy": bundle.policy.to_rows(),
        }
        if key and not _may_hold_secret(design):
            cache.put(key, found)
    return ExportPlan(
        notes=tuple(found["notes"]),
        summary=found["summary"],
        kinds=found["kinds"],
        paths=tuple(found["paths"]),
        validation=table(found["validation"]),
        policy_counts=found["policy_counts"],
        policy=table(found["policy"]),
    )


def export_file(design: Design, options: ExportOptions, path: str) -> bytes:
    """One file of the export as `render` writes it (the preview: one document dumped, not the bundle)."""
    from lmos_studio.export import kustomize
    from lmos_studio.formats.yamlio import dump_documents

    bundle = export_bundle(design, options)
    if path == "kustomization.yaml":
        data = kustomize.kustomization(bundle).encode("utf-8")
    else:
        data = next(dump_documents([m.document]) for m in bundle.manifests if m.path == path).encode("utf-8")
    kustomize.refuse_secrets({path: data})
    return data


@st.cache_resource(
    show_spinner="Building and validating manifests…", max_entries=8, hash_funcs={Design: lambda d: d.digest()}
)
def export_output(design: Design, options: ExportOptions) -> ExportOutput:
    """The validated export of a design (raises ExportError like `export_design`). A resource, not data: the
    page only reads it, and a 10 000-agent export is too big to copy per rerun. Kept on disk by digest and
    options (plain data only), so a first render in a new process does not build it again."""
    from lmos_studio.export import kustomize

    cache = design_cache.derived_cache("export")
    options_key = json.dumps(asdict(options), sort_keys=True)
    key = design_cache.derived_key(design.digest(), "export", options_key) if is_read_from_disk(design) else None
    found = cache.get(key) if key else None
    if isinstance(found, dict) and set(found) == set(_EXPORT_FIELDS):
        kustomize.refuse_secrets(found["files"])  # the configured secrets may have changed since
        return _export_output(found)
    built = _build_export(design, options)
    if key and not _may_hold_secret(design):
        cache.put(key, built)
    return _export_output(built)


_EXPORT_FIELDS = ("notes", "files", "archive", "summary", "file_tree", "validation", "policy_counts", "policy")


def _build_export(design: Design, options: ExportOptions) -> dict[str, Any]:
    from lmos_studio.export import kustomize
    from lmos_studio.export.bundle import file_tree

    bundle = export_bundle(design, options)  # the Export page has built it for its plan
    files = kustomize.render(bundle)
    return {
        "notes": list(bundle.notes),
        "files": files,
        "archive": kustomize.zip_bytes(bundle, files),
        "summary": bundle.validation_summary(),
        "file_tree": file_tree(list(files)),
        "validation": list(bundle.validation.rows),
        "policy_counts": bundle.policy_counts(),
        "policy": bundle.policy.to_rows(),
    }


def _export_output(data: dict[str, Any]) -> ExportOutput:
    views = ExportViews(
        summary=data["summary"],
        file_tree=data["file_tree"],
        files=tuple(data["files"]),
        validation=table(data["validation"]),
        policy_counts=data["policy_counts"],
        policy=table(data["policy"]),
    )
    return ExportOutput(notes=tuple(data["notes"]), files=data["files"], archive=data["archive"], views=views)
