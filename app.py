"""LMOS Studio: the frame only — page config, the sidebar (which design is open), navigation."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from lmos_studio.config import get_settings
from lmos_studio.errors import LmosStudioError
from lmos_studio.formats.design_file import design_from_upload
from lmos_studio.ui import resources, state, widgets

ROOT = Path(__file__).parent
# The folder is app_pages/, not pages/: Streamlit would treat a pages/ folder as a legacy multipage app and
# serve deep links (/registry) without this frame.
PAGES = [  # (file, title, icon); every file must exist: a missing one stops the app at start
    ("app_pages/overview.py", "Overview", ":material/hub:"),
    ("app_pages/registry.py", "Registry", ":material/travel_explore:"),
    ("app_pages/designer.py", "Designer", ":material/account_tree:"),
    ("app_pages/playground.py", "Playground", ":material/chat:"),
    ("app_pages/evaluate.py", "Evaluate", ":material/analytics:"),
    ("app_pages/export.py", "Export", ":material/deployed_code:"),
]

st.set_page_config(page_title="LMOS Studio", page_icon="🕸️", layout="wide")  # an emoji: no icon font fetched


def sidebar() -> None:
    with st.sidebar:
        st.markdown("### LMOS Studio")
        try:
            design = state.current_design()
        except LmosStudioError as exc:
            widgets.show_error(exc)
            return
        st.caption("Open design")
        st.markdown(f"**{design.name}** · `{state.origin_label()}`")
        st.caption(
            f"{len(design.agents)} agents · {len(design.channels)} channels · "
            f"{len(design.groups)} groups · {len(design.trust_edges)} trust edges"
        )
        for warning in st.session_state.get(state.LOAD_WARNINGS, []):
            st.warning(warning, icon=":material/warning:")
        with st.expander("Open another design"):
            samples = resources.sample_designs()
            choice = st.selectbox("Sample", list(samples), key="sample_choice")
            if st.button("Open sample", key="open_sample") and choice:
                try:
                    state.open_path(Path(samples[choice]), origin=f"sample:{choice}")
                    st.rerun()
                except LmosStudioError as exc:
                    widgets.show_error(exc)
            upload = st.file_uploader("Upload a design (YAML)", type=["yaml", "yml", "json"], key="upload")
            if upload is not None and st.button("Open upload", key="open_upload"):
                open_upload(upload.name, upload.getvalue())


def open_upload(name: str, data: bytes) -> None:
    try:
        result = design_from_upload(name, data, max_bytes=get_settings().max_upload_bytes)
    except LmosStudioError as exc:
        widgets.show_error(exc)
        return
    state.open_design(result, origin=f"upload:{name}")
    st.rerun()


# st.navigation first, then the sidebar's widgets, then the page: widgets made before st.navigation lose
# their click (Streamlit 1.67).
missing = [f for f, _, _ in PAGES if not (ROOT / f).is_file()]
if missing:
    raise FileNotFoundError(f"LMOS Studio is incomplete: page file(s) {', '.join(missing)} missing; reinstall it")
navigation = st.navigation([st.Page(str(ROOT / f), title=t, icon=i, default=(f == PAGES[0][0])) for f, t, i in PAGES])
sidebar()
navigation.run()
