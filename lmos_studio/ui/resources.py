"""Every cached resource of the app: nothing heavy runs on every rerun.

Cache keys are design digests (content hashes), so an edited design never sees a stale result. Results a page
only reads are `cache_resource` (shared, never copied: a 10 000-agent resolution is too big to unpickle per
rerun), and tables come as Arrow tables built once, so a rerun that changes nothing only re-emits elements.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from lmos_studio import bundled
from lmos_studio.config import get_settings
from lmos_studio.errors import VersionError
from lmos_studio.formats.design_file import LoadResult, load_design
from lmos_studio.index import AgentIndex
from lmos_studio.model import Design
from lmos_studio.resolve import Resolution, resolve_design

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


@st.cache_data(show_spinner="Reading design…", max_entries=16)
def read_design_files(path: str, mtime: float) -> LoadResult:
    """A design read from disk; `mtime` is part of the key so that edits on disk are seen."""
    return load_design([Path(path)])


@st.cache_resource(show_spinner=False, max_entries=8, hash_funcs={Design: lambda d: d.digest()})
def agent_index(design: Design) -> AgentIndex:
    """Candidates per channel scope and providers per capability, built once per design."""
    return AgentIndex(design.agents)


@st.cache_resource(show_spinner=False, max_entries=8, hash_funcs={Design: lambda d: d.digest()})
def resolutions(design: Design) -> list[Resolution]:
    """The operator's resolution of every channel (raises VersionError like the operator). Read only."""
    return resolve_design(design, index=agent_index(design))


def table(rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Rows as an Arrow table (st.table/st.dataframe take it without a pandas conversion)."""
    import pyarrow as pa

    try:
        return pa.Table.from_pylist(list(rows))
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # a column mixing types: show every cell as text
        return pa.Table.from_pylist([{k: None if v is None else str(v) for k, v in row.items()} for row in rows])


@st.cache_resource(show_spinner=False, max_entries=8, hash_funcs={Design: lambda d: d.digest()})
def overview_tables(design: Design) -> tuple[pa.Table, pa.Table, dict[str, pa.Table]]:
    """The Overview's tables: channels with status, agents, and each channel's requirement rows by key."""
    from lmos_studio import summary

    found = resolutions(design)
    requirements = {r.channel.key: table(summary.requirement_rows(r)) for r in found}
    return table(summary.channel_rows(found)), table(summary.agent_rows(design)), requirements


# --- routing (Playground, Evaluate) ---------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def router_cache() -> RouterCache:
    """Fitted routers of this server, keyed by router name and table content (shared by all sessions)."""
    from lmos_studio.routing.select import RouterCache

    return RouterCache()


class _CachedRouter:
    """A Router whose `fit` goes through the shared RouterCache (same content → same fitted router)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def fit(self, table: RoutingTable, *, seed: Sequence[tuple[str, str, str]] = ()) -> FittedRouter:
        return router_cache().fitted(self.name, table, seed=seed)


def cached_router(name: str) -> Router:
    """The router `name`, fitted through the shared cache; an unknown name is a RoutingError now."""
    from lmos_studio.routing.evaluate import get_router

    get_router(name)  # fail early with the list of known routers
    return _CachedRouter(name)


@st.cache_data(show_spinner=False)
def router_names() -> list[str]:
    from lmos_studio.routing import select

    return list(select.router_names())


@st.cache_resource(show_spinner=False, max_entries=8, hash_funcs={Design: lambda d: d.digest()})
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


@st.cache_data(show_spinner=False, max_entries=256, hash_funcs={Design: lambda d: d.digest()})
def route_query(router: str, design: Design, key: str, query: str, top_k: int = 5) -> RouteResult:
    """One query routed in one channel (cached: reruns never call an LLM again for the same question)."""
    from lmos_studio.routing.evaluate import route_timed

    fitted = router_cache().fitted(router, routing_table_of(design, key))
    result, elapsed = route_timed(fitted, query, top_k=top_k)
    return result if result.latency_ms else replace(result, latency_ms=elapsed)


def lexicon_summary(router: str, design: Design, key: str) -> str | None:
    """Whether the router fitted on one channel uses the built-in lexicon, and why (one line; None: LLM)."""
    from lmos_studio.routing.lexicon import lexicon_choice_of

    choice = lexicon_choice_of(router_cache().fitted(router, routing_table_of(design, key)))
    return choice.describe() if choice is not None else None


@st.cache_data(show_spinner="Reading labelled queries…", max_entries=16)
def labelled_queries(data: bytes, source: str) -> list[LabelledQuery]:
    from lmos_studio.routing.labelled import parse_labelled_csv

    return parse_labelled_csv(data, source=source)


@st.cache_data(show_spinner=False, max_entries=8)
def seed_examples(data: bytes, source: str) -> tuple[SeedRow, ...]:
    from lmos_studio.routing.labelled import parse_seed, seed_rows

    return seed_rows(parse_seed(data, source=source))


# --- Designer -------------------------------------------------------------------------------------------
_BY_DIGEST: dict[str | type[Any], Callable[[Any], Any]] = {Design: lambda d: d.digest()}


@st.cache_resource(show_spinner=False, max_entries=8, hash_funcs=_BY_DIGEST)
def safe_resolutions(design: Design) -> list[Resolution]:
    """Resolution ignoring non-SemVer provided versions (what the graph and lint show). Read only."""
    from lmos_studio.trust import safe_resolutions

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


@st.cache_resource(show_spinner=False, max_entries=8, hash_funcs=_BY_DIGEST)
def designer_choices(design: Design) -> DesignerChoices:
    """Agents, trust edges, refs and filter values of a design (the Designer's select boxes)."""
    from lmos_studio.graph import filter_options
    from lmos_studio.trust import ref_options

    graph, _ = design_graph(design)
    return DesignerChoices(
        agent_keys=tuple(a.key for a in design.agents),
        agent_names=tuple(dict.fromkeys(a.name for a in design.agents)),
        edge_keys=tuple(e.key for e in design.trust_edges),
        refs=tuple(ref_options(design)),
        filters={k: tuple(v) for k, v in filter_options(graph).items()},
    )


@st.cache_resource(show_spinner=False, max_entries=8, hash_funcs=_BY_DIGEST)
def lint_findings(design: Design) -> list[Finding]:
    """Lint of the design (non-SemVer versions are findings, not errors). Read only."""
    from lmos_studio.routing.confusion import lint_with_routing

    return lint_with_routing(design)


@st.cache_resource(show_spinner=False, max_entries=8, hash_funcs=_BY_DIGEST)
def finding_table(design: Design) -> pa.Table:
    """The lint findings as the Designer's table."""
    from lmos_studio.lint import finding_rows

    return table(finding_rows(lint_findings(design)))


@st.cache_data(show_spinner="Drawing the graph…", max_entries=16, hash_funcs=_BY_DIGEST)
def graph_html(design: Design, flt: GraphFilter, highlight: Highlight) -> str:
    """The offline HTML of the (filtered, highlighted) graph."""
    from lmos_studio.graph import filter_graph
    from lmos_studio.view import render_html

    graph, positions = design_graph(design)
    return render_html(filter_graph(graph, flt), positions=positions, highlight=highlight, title=design.name)


@st.cache_data(show_spinner="Drawing the graph…", max_entries=16, hash_funcs=_BY_DIGEST)
def canvas_payload(
    design: Design, flt: GraphFilter, highlight: Highlight, expanded: frozenset[str], height_px: int
) -> dict[str, Any]:
    """The Designer canvas's nodes and edges (collapsed above 150 nodes but for `expanded`)."""
    from lmos_studio.view import canvas_view

    graph, _ = design_graph(design)
    return canvas_view(design, graph, flt, highlight, expanded, height_px)


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


@st.cache_resource(
    show_spinner="Building and validating manifests…", max_entries=8, hash_funcs={Design: lambda d: d.digest()}
)
def export_bundle(design: Design, options: ExportOptions) -> tuple[Bundle, dict[str, bytes], bytes]:
    """The validated export of a design (bundle, files, zip); raises ExportError like `export_design`.
    A resource, not data: the page only reads it, and a 1 000-agent export is too big to copy per rerun."""
    from lmos_studio.export import kustomize
    from lmos_studio.export.bundle import export_design

    bundle = export_design(design, options)
    files = kustomize.render(bundle)
    return bundle, files, kustomize.zip_bytes(bundle, files)


@dataclass(frozen=True)
class ExportViews:
    """The Export page's derived views of one bundle."""

    summary: str
    file_tree: str
    files: tuple[str, ...]
    validation: pa.Table
    policy_counts: dict[str, int]
    policy: pa.Table


@st.cache_resource(show_spinner=False, max_entries=8, hash_funcs={Design: lambda d: d.digest()})
def export_views(design: Design, options: ExportOptions) -> ExportViews:
    """Summary, file tree and report tables of `export_bundle(design, options)`."""
    from lmos_studio.export.bundle import file_tree

    bundle, files, _ = export_bundle(design, options)
    return ExportViews(
        summary=bundle.validation_summary(),
        file_tree=file_tree(list(files)),
        files=tuple(files),
        validation=table(bundle.validation.rows),
        policy_counts=bundle.policy_counts(),
        policy=table(bundle.policy.to_rows()),
    )
