"""Overview: the design's agents and channels, and per channel what the LMOS operator would resolve."""

import streamlit as st

from lmos_studio import LmosStudioError
from lmos_studio.markdown import escape as md
from lmos_studio.ui import resources, state, widgets

EXPANDED_CHANNELS_MAX = 20  # above this, one table of channels and the details of a chosen one (reruns stay cheap)

design = state.current_design()
st.title(f"Overview · {md(design.name)}")
if design.description:
    st.caption(md(design.description))

with st.expander("Start here: what each page does", expanded=state.is_new_here(), icon=":material/school:"):
    st.markdown(widgets.START_HERE)

try:
    resolutions = resources.resolutions(design)
    channels, agents = resources.overview_tables(design)
except LmosStudioError as exc:
    widgets.show_error(exc)
    st.stop()

left, right, third = st.columns(3)
left.metric("Agents", len(design.agents))
right.metric("Channels", len(design.channels))
third.metric("Resolved", f"{sum(r.resolved for r in resolutions)} / {len(resolutions)}")

st.subheader("Channels")
shown = resolutions
if len(resolutions) > EXPANDED_CHANNELS_MAX:
    st.dataframe(channels, hide_index=True, width="stretch", height=280)
    keys = [r.channel.key for r in resolutions]
    chosen = st.selectbox("Requirements of channel", keys, key="overview_channel")
    shown = [resolutions[keys.index(chosen)]] if chosen in keys else []
for resolution in shown:
    channel = resolution.channel
    with st.expander(md(f"{channel.key} · {channel.tenant}/{channel.channel}/{channel.subset}"), expanded=True):
        st.markdown(widgets.status_badge(resolution) + f" · {len(resolution.agents)} agents wired")
        # a data frame, not st.table: cells are text (a range such as >=1.1.0 is not Markdown)
        st.dataframe(resources.requirement_table(design, channel.key), hide_index=True, width="stretch")
if not resolutions:
    st.info("This design has no Channels: add one, or route over all agents in the Playground.")

st.subheader("Agents")
st.dataframe(agents, hide_index=True, width="stretch")
