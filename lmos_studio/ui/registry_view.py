"""Registry page widgets: source picker, facet filters, an agent's detail view.

Registry text is untrusted: it is shown in data frames or escaped markdown, never as HTML, with bidi overrides
and other characters that are not printable as escapes (`visible`).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from lmos_studio import markdown
from lmos_studio.errors import LmosStudioError
from lmos_studio.names import dns1123_label_problem, suggest_name
from lmos_studio.registry.kubeconfig import kubeconfig_contexts
from lmos_studio.registry.sources import (
    IN_CLUSTER,
    Found,
    SearchOutcome,
    SourceSpec,
    agent_for_design,
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
    return markdown.escape(text)


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
        token = st.text_input(
            "Bearer token for these servers (optional)",
            type="password",
            key="registry_src_tdd_token",
            help="Sent to the registry servers above when they need one to read; kept in this browser session "
            "only, never in a design or an export.",
        )
        specs += [SourceSpec("tdd", url.strip(), token=token.strip()) for url in urls.splitlines() if url.strip()]
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
    """Everything a registry says about one agent, as text, and what it lacks as a design's agent (the
    warnings `lmos-studio import` gives: no capabilities / channels / tenants, versions, each with its fix)."""
    from lmos_studio.formats.description import warnings_of

    st.subheader(plain(found.agent.name))
    for warning in warnings_of(agent_for_design(found)):
        st.warning(plain(warning), icon=":material/warning:")
    st.dataframe(detail_fields(found), hide_index=True, width="stretch")
    st.markdown("**Capabilities**")
    st.dataframe(capabilities_table(found), hide_index=True, width="stretch")


IMPORTED = "registry_imported"  # what the last import did (shown once, after the rerun)


def import_panel() -> None:
    """Upload or paste a description in any supported format, see what it becomes (and the warnings), then
    add it to the embedded registry or to the open design."""
    from lmos_studio.export.printed import agent_resources
    from lmos_studio.formats import detect, yamlio
    from lmos_studio.formats.description import duplicate_warnings, warnings_of
    from lmos_studio.trust import add_agents
    from lmos_studio.ui import resources, state

    done = st.session_state.pop(IMPORTED, None)
    with st.expander("Import a description", expanded=done is not None, icon=":material/upload_file:"):
        if done:
            st.success(done, icon=":material/check:")
        st.caption(
            "LMOS Agent resources, WoT Thing Descriptions, A2A Agent Cards (0.3, 1.0), capabilities.json, "
            "AgentRoutingSpec lists and classifier documents; the format is detected unless you choose one."
        )
        cols = st.columns([1, 1, 1])
        how = cols[0].radio("From", ["Upload", "Paste"], horizontal=True, key="registry_import_how")
        fmt = cols[1].selectbox("Format", list(detect.READ_FORMATS), key="registry_import_format")
        namespace = cols[2].text_input("Namespace (optional)", key="registry_import_namespace")
        data: bytes = b""
        source = "pasted"
        if how == "Upload":
            upload = st.file_uploader(
                "Description file (JSON or YAML)",
                type=["json", "yaml", "yml"],
                key="registry_import_upload",
                max_upload_size=widgets.upload_limit_mb(),
            )
            if upload is not None:
                data, source = upload.getvalue(), upload.name
        else:
            data = st.text_area(
                "Description (JSON or YAML)", key="registry_import_text", height=180, placeholder='{"name": …}'
            ).encode("utf-8")
        if not data.strip():
            return
        namespace = namespace.strip()
        if namespace and (problem := dns1123_label_problem(namespace)):  # the user's own value, as `--namespace`
            st.error(
                plain(f"Namespace {namespace!r} {problem} (an RFC 1123 label); e.g. {suggest_name(namespace)!r}"),
                icon=":material/error:",
            )
            return
        try:
            agents = detect.read_descriptions(data, source=source, fmt=fmt)
        except LmosStudioError as exc:
            widgets.show_error(exc)
            return
        if namespace:
            agents = [a.model_copy(update={"namespace": namespace}) for a in agents]
        if not agents:
            st.warning(f"{plain(source)} describes no agent.")  # an uploaded file's name
            return
        for warning in [w for agent in agents for w in warnings_of(agent)] + duplicate_warnings(agents):
            st.warning(plain(warning), icon=":material/warning:")
        st.dataframe(
            resources.table(
                [
                    {
                        "agent": a.key,
                        "from": a.original_format or "agent",  # an LMOS Agent resource keeps none
                        "capabilities": ", ".join(f"{c.name} {c.version}" for c in a.capabilities),
                    }
                    for a in agents
                ]
            ),
            hide_index=True,
            width="stretch",
        )
        try:
            printed = agent_resources(agents)  # exactly what `lmos-studio import` prints, credentials masked
        except LmosStudioError as exc:  # a configured secret's value, annotations too large for the API server
            widgets.show_error(exc)
            printed = None
        for warning in printed.warnings if printed else ():
            st.warning(plain(warning), icon=":material/key_off:")
        if printed is not None:
            with st.expander("As LMOS Agent resources (YAML)"):
                st.code(yamlio.dump_documents(printed.documents), language="yaml")
        left, right = st.columns(2)
        names = plain(", ".join(a.key for a in agents))  # the description's text, shown in st.success below
        if left.button("Add to registry", key="registry_import_to_registry", icon=":material/database:"):
            try:
                resources.registry_store().put_agents(agents, source=f"import:{source}")
            except LmosStudioError as exc:
                widgets.show_error(exc)
                return
            resources.registry_search.clear()
            st.session_state[IMPORTED] = f"{names} added to the embedded registry."
            st.rerun()
        if right.button("Add to design", key="registry_import_to_design", icon=":material/add_circle:"):
            state.edit(add_agents(state.current_design(), agents))
            st.session_state[IMPORTED] = f"{names} added to the design (Undo on the Designer page takes it out)."
            st.rerun()
