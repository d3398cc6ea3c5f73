"""Shared widgets: errors, status badges. Registry text is shown as text, never as live HTML."""

from __future__ import annotations

import re

import streamlit as st

from lmos_studio.errors import LmosStudioError
from lmos_studio.resolve import Resolution


def show_error(exc: LmosStudioError) -> None:
    """Our errors as a red box with the message (file, line, field, what to do); no traceback."""
    st.error(f"{type(exc).__name__}: {exc}", icon=":material/error:")


_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~:$<])")


def plain(text: str) -> str:
    """Text shown literally inside Markdown (every Markdown special character escaped)."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


def status_badge(resolution: Resolution) -> str:
    """Markdown for a channel's status (colours only; the status word itself is fixed text)."""
    return ":green-badge[RESOLVED]" if resolution.resolved else ":red-badge[UNRESOLVED]"
