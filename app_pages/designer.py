"""Designer: the design as a graph, with groups, trust edges, undo/redo, save and lint findings."""

import streamlit as st

from lmos_studio import LmosStudioError
from lmos_studio.markdown import escape as md
from lmos_studio.ui import designer, state, widgets

try:
    design = state.current_design()
except LmosStudioError as exc:
    widgets.show_error(exc)
    st.stop()

st.title(f"Designer · {md(design.name)}")
designer.file_bar()
flt = designer.filters(design)

left, right = st.columns([3, 2])
with right:
    finding = designer.findings(design)
    highlight = designer.selection(design, finding)
with left:
    designer.graph(design, flt, highlight)
    if highlight.note:
        st.caption(f"Highlighted: {md(highlight.note)}")

groups, trust, agents = st.tabs(["Groups", "Trust edges", "Add agents"])
with groups:
    designer.group_editor(design)
with trust:
    designer.trust_editor(design)
with agents:
    designer.add_agents_from_file(design)
