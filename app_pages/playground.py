"""Playground: which agent and capability of each channel would answer a query, and why."""

import streamlit as st

from lmos_studio.markdown import code
from lmos_studio.markdown import escape as md
from lmos_studio.ui import routing, state

design = state.current_design()
st.title("Playground")
st.caption(
    "Type a customer message: each channel's routing table (what the operator wired) is scored by the "
    "routers you pick, best answer first, with the evidence behind each score."
)

query = st.text_input("Customer message", key=state.QUERY, placeholder="I want a PDF of my last bill")
options = routing.channel_options(design)
left, right = st.columns([2, 1])
first = routing.default_channels(options, design)
picked = left.multiselect("Channels", list(options), default=first, key=state.PLAYGROUND_CHANNELS)
routers = routing.router_picker("pg_routers")
min_score = left.number_input(
    "Min score for this query (empty: each channel's threshold)",
    min_value=0.0,
    max_value=1.0,
    value=None,
    step=0.05,
    key="pg_min_score",
    help="No agent answers below this fit, by the fit rule only (as `lmos-studio route --min-score`); "
    "0 answers everything. The design's own threshold is spec.routing.minScore.",
)

if not query.strip():
    st.info("Enter a message to route it.")
    st.stop()
if not picked or not routers:
    st.warning("Pick at least one channel and one router.")
    st.stop()

routed = [options[p] for p in picked]
chosen = routing.route_panel(design, query.strip(), routed, routers, min_score=min_score)
routing.highlight(design, chosen)
with right:
    if chosen:
        st.markdown("**Chosen agents** (highlighted on the Designer graph)")
        st.markdown("\n".join(f"- {code(key or 'all agents')} → **{md(m.agent)}**" for key, m in chosen.items()))
with st.expander("Route on the design graph", expanded=False):
    routing.route_graph(design, chosen)
n = len(design.routing.out_of_scope)
listed = f"{n} message" + ("" if n == 1 else "s")
tests_form, scope_form = st.columns(2)
with tests_form:
    routing.add_test_form(design, query.strip(), chosen, routed, min_score=min_score)
with scope_form:
    routing.out_of_scope_form(design, query.strip(), routed)
    routing.listed_out_of_scope_panel(design)
st.caption(
    f"{len(design.routing_tests)} routing tests in the design · run them on the Evaluate page or with "
    f"`lmos-studio test` · {listed} listed as out of scope (spec.routing.outOfScope)."
)
