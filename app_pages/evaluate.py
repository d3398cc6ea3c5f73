"""Evaluate: a router on a labelled query set, the design's routing tests, and what-if changes."""

import streamlit as st

from lmos_studio import LmosStudioError
from lmos_studio.markdown import escape as md
from lmos_studio.ui import resources, routing, state, widgets

design = state.current_design()
st.title("Evaluate")
labelled, tests, whatif = st.tabs(["Labelled queries", "Routing tests", "What-if"])

with labelled:
    picked = routing.labelled_set_picker(design)
    options = {"(each row's channel; all agents if none)": "", **routing.channel_options(design)}
    labels = list(options)
    default = options[
        widgets.search_select("Channel for rows without one", labels[1:], pinned=labels[:1], key=state.EVAL_CHANNEL)
    ]
    seed = routing.seed_picker(design)
    routers = routing.router_picker("eval_routers")
    calibrate = st.checkbox("Calibrate thresholds (hybrid) on this set first", key="eval_calibrate")
    queries = []
    if picked is not None:
        try:
            queries = resources.labelled_queries(picked[1], picked[0])
            st.caption(f"{len(queries)} labelled queries from {md(picked[0])}")
        except LmosStudioError as exc:
            widgets.show_error(exc)
    signature = routing.evaluation_signature(design, picked[0] if picked else "", routers, default, (seed, calibrate))
    checked = bool(queries) and routing.check_queries(design, queries, default, picked[0] if picked else "")
    ready = checked and bool(routers) and seed is not None  # never unseeded as if a broken seed file had been read
    if st.button("Evaluate", type="primary", disabled=not ready, key="eval_run"):
        try:
            results = routing.run_evaluations(
                design,
                queries,
                routers,
                seed=seed or (),
                channel=default,
                source=picked[0] if picked else "",
                calibrate=calibrate,
            )
            st.session_state[routing.RESULTS] = (signature, results)
        except LmosStudioError as exc:
            widgets.show_error(exc)
    last_signature, results = st.session_state.get(routing.RESULTS, ("", []))
    if results and last_signature == signature:
        routing.show_evaluations(results)
    elif results:
        st.info("The inputs changed: press Evaluate to run again.")

with tests:
    routing.routing_tests_panel(design, routing.router_picker("tests_router", multi=False)[0])

with whatif:
    st.caption(
        "Remove, disable or move agents, or remove capabilities: which channels resolve differently "
        "and which routing tests and labelled queries (from the first tab) change route?"
    )
    routing.whatif_panel(design, queries, routing.router_picker("whatif_router", multi=False)[0])
