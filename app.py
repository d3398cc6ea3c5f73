"""LMOS Studio: the frame only — page config, the sidebar (which design is open), navigation."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from lmos_studio.ui import frame, state

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


# st.navigation first, then the sidebar's widgets, then the page: widgets made before st.navigation lose
# their click (Streamlit 1.67).
missing = [f for f, _, _ in PAGES if not (ROOT / f).is_file()]
if missing:
    raise FileNotFoundError(f"LMOS Studio is incomplete: page file(s) {', '.join(missing)} missing; reinstall it")
navigation = st.navigation([st.Page(str(ROOT / f), title=t, icon=i, default=(f == PAGES[0][0])) for f, t, i in PAGES])
problem = state.start_problem()  # a missing or invalid start design: an error page, never a traceback
frame.sidebar(problem)
if problem is not None:
    frame.error_page(problem)
else:
    frame.run_page(navigation)
