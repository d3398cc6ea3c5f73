"""Registry page widgets: source picker, facet filters, an agent's detail view.

Registry text is untrusted: it is shown in data frames or escaped markdown, never as HTML.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from lmos_studio.errors import LmosStudioError
from lmos_studio.registry.kubeconfig import kubeconfig_contexts
from lmos_studio.registry.sources import (
    IN_CLUSTER,
    Found,
    SearchOutcome,
    SourceSpec,
    capabilities_table,
    detail_fields,
    facet_options,
)
from lmos_studio.registry.store import Query
from lmos_studio.ui import widgets

FACET_LABELS = {
    "capability": "Capability",
    "tenant": "Tenant",
    "channel": "Channel",
    "protocol": "Protocol",
    "subset": "Subset",
}
MARKDOWN_SPECIALS = set("\\`*_{}[]()#+-.!|<>~$:=\"'")


def plain(text: str) -> str:
    """Text for a markdown element with every markdown character escaped (no links, images, colours)."""
    return "".join("\\" + c if c in MARKDOWN_SPECIALS else c for c in text.replace("\n", " "))


def source_picker() -> list[SourceSpec]:
    """Which registries to search."""
    specs: list[SourceSpec] = []
    with st.expander("Sources", expanded=False, icon=":material/dns:"):
        if st.checkbox("Embedded registry", value=True, key="registry_src_embedded"):
            specs.append(SourceSpec("embedded"))
        urls = st.text_area(
            "Registry servers (W3C TDD base URLs, one per line)",
            key="registry_src_tdd",
            placeholder="http://127.0.0.1:8090",
        )
        specs += [SourceSpec("tdd", url.strip()) for url in urls.splitlines() if url.strip()]
        operator = st.text_input(
            "LMOS operator API URL", key="registry_src_operator", placeholder="http://lmos-operator:8080"
        )
        tenants = st.text_input("Operator tenants (comma-separated)", value="acme", key="registry_src_tenants")
        if operator.strip():
            specs.append(
                SourceSpec(
                    "operator", operator.strip(), tenants=tuple(t.strip() for t in tenants.split(",") if t.strip())
                )
            )
        if st.checkbox("Kubernetes cluster", key="registry_src_kube"):
            specs += _kubernetes_source()
        if st.checkbox("Local network (mDNS)", key="registry_src_mdns"):
            specs.append(SourceSpec("mdns"))
    return specs


def _kubernetes_source() -> list[SourceSpec]:
    if st.toggle("In-cluster service account", key="registry_src_incluster"):
        namespace = st.text_input("Namespace (empty = the pod's)", key="registry_src_namespace")
        return [SourceSpec("kubernetes", IN_CLUSTER, namespace=namespace.strip())]
    path = st.text_input("kubeconfig (empty = $KUBECONFIG or ~/.kube/config)", key="registry_src_kubeconfig")
    try:
        contexts = kubeconfig_contexts(Path(path) if path else None)
    except LmosStudioError as exc:
        widgets.show_error(exc)
        return []
    context = st.selectbox("Context", contexts, key="registry_src_context")
    namespace = st.text_input("Namespace (empty = the context's)", key="registry_src_namespace")
    return [SourceSpec("kubernetes", path, context=context or "", namespace=namespace.strip())]


def facet_filters(outcome: SearchOutcome, text: str) -> Query:
    """One select box per facet (values with counts from the text search); the query they make."""
    chosen: dict[str, str] = {}
    for column, kind in zip(st.columns(len(FACET_LABELS)), FACET_LABELS, strict=True):
        options = facet_options(outcome, kind)
        with column:
            value = st.selectbox(
                FACET_LABELS[kind], list(options), format_func=options.__getitem__, key=f"registry_facet_{kind}"
            )
        chosen[kind] = value or ""
    return Query(
        text=text,
        capability=chosen["capability"],
        tenant=chosen["tenant"],
        channel=chosen["channel"],
        protocol=chosen["protocol"],
        subset=chosen["subset"],
    )


def agent_detail(found: Found) -> None:
    """Everything a registry says about one agent, as text."""
    st.subheader(plain(found.agent.name))
    st.dataframe(detail_fields(found), hide_index=True, width="stretch")
    st.markdown("**Capabilities**")
    st.dataframe(capabilities_table(found), hide_index=True, width="stretch")
