"""Shared widgets: errors, status badges. Registry text is shown as text, never as live HTML."""

from __future__ import annotations

import streamlit as st

from lmos_studio.errors import LmosStudioError
from lmos_studio.markdown import escape as md
from lmos_studio.resolve import Resolution


def show_error(exc: LmosStudioError) -> None:
    """Our errors as a red box with the message (file, line, field, what to do); no traceback."""
    st.error(f"{type(exc).__name__}: {md(str(exc))}", icon=":material/error:")


def status_badge(resolution: Resolution) -> str:
    """Markdown for a channel's status (colours only; the status word itself is fixed text)."""
    return ":green-badge[RESOLVED]" if resolution.resolved else ":red-badge[UNRESOLVED]"
