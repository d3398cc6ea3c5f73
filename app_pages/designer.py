"""Designer: the design as a canvas you work on (click, drag, draw trust edges), the selection's panel,
lint findings, groups, undo/redo and save."""

import streamlit as st

from lmos_studio import LmosStudioError
from lmos_studio.markdown import escape as md
from lmos_studio.ui import canvas, designer, state, widgets

try:
    design = state.current_design()
except LmosStudioError as exc:
    widgets.show_error(exc)
    st.stop()

st.title(f"Designer · {md(design.name)}")
designer.file_bar()
flt = designer.filters(design)

work = st.container()  # canvas + panel on top; the findings below choose what the canvas highlights
finding = designer.findings(design)
with work:
    left, right = st.columns([3, 2])
    with right:
        highlight = designer.selection(design, finding)
        designer.selection_details(design)
        designer.trust_editor(design)
    with left:
        canvas.show(design, flt, highlight)
        designer.graph_notes(design, highlight)

groups, agents = st.tabs(["Groups", "Add agents"])
with groups:
    designer.group_editor(design)
with agents:
    designer.add_agents_from_file(design)
