"""Registry: find agents in registries (embedded, TDD servers, operator API, Kubernetes, local network)
and add them to the open design."""

import streamlit as st

from lmos_studio.errors import LmosStudioError
from lmos_studio.markdown import escape as md
from lmos_studio.registry.sources import (
    agent_for_design,
    expired_note,
    expired_table,
    results_table,
    unread_label,
    unread_table,
)
from lmos_studio.registry.store import Query
from lmos_studio.ui import registry_view, resources, state, widgets
from lmos_studio.visible import visible

st.title("Registry")
st.caption(
    "Search agent registries by capability, tenant, channel, protocol or free text; open an agent "
    "and add it to the open design."
)
registry_view.import_panel()
sources = tuple(registry_view.source_picker())
text = st.text_input(
    "Search registries", key="registry_text", placeholder="capability, description, example utterance…"
)
try:
    everything = resources.registry_search(sources, Query(text=text))
    query = registry_view.facet_filters(everything, text)
    outcome = everything if query == Query(text=text) else resources.registry_search(sources, query)
except LmosStudioError as exc:
    widgets.show_error(exc)
    st.stop()
for message in outcome.errors:
    st.warning(md(message), icon=":material/cloud_off:")  # a remote registry's words: never markup
if outcome.unread:  # a warning above names a few of each kind; here is every item and why
    with st.expander(unread_label(outcome), icon=":material/cloud_off:"):
        st.dataframe(unread_table(outcome), hide_index=True, width="stretch")
if outcome.expired:  # left out of the results, as the embedded registry leaves out its own
    st.info(md(expired_note(outcome)), icon=":material/timer_off:")
    with st.expander(f"{len(outcome.expired)} expired registrations", icon=":material/timer_off:"):
        st.dataframe(expired_table(outcome), hide_index=True, width="stretch")
st.caption(f"{len(outcome.found)} agent(s) from {len(sources)} source(s)")
st.dataframe(results_table(outcome), hide_index=True, width="stretch")
choice = st.selectbox(
    "Open an agent",
    [f.key for f in outcome.found],
    format_func=visible,  # a registry's names: a bidi override would turn the option around
    index=None,
    key="registry_open",
    placeholder="Choose a result…",
)
found = outcome.by_key(choice) if choice else None
if found is not None:
    registry_view.agent_detail(found)
    design = state.current_design()
    already = design.agent(found.agent.name, found.agent.namespace) is not None
    label = "Replace in design" if already else "Add to design"
    if st.button(label, key="registry_add", icon=":material/add_circle:", type="primary"):
        state.edit(design.with_agent(agent_for_design(found)))
        st.session_state["registry_added"] = found.agent.key
        st.rerun()  # redraw the sidebar with the new agent count
    if st.session_state.pop("registry_added", None) == found.agent.key:
        st.success(
            f"{md(found.agent.key)} is in the design now (Undo on the Designer page takes it out).",
            icon=":material/check:",
        )
