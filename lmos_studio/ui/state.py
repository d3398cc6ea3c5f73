"""Session state: the keys the pages share and the one open design (with its undo history).

Session state holds plain values and the `History`; settings are never kept here.
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from lmos_studio.config import DEFAULT_SAMPLE, get_settings
from lmos_studio.formats.design_file import LoadResult
from lmos_studio.history import History
from lmos_studio.model import Design
from lmos_studio.ui import resources

HISTORY = "history"
LOAD_WARNINGS = "load_warnings"
QUERY = "playground_query"
SELECTED_AGENT = "selected_agent"  # the agent highlighted on the graph (Designer, Playground)
HIGHLIGHT = "highlight"  # objects to highlight on the graph: list of agent names / edge keys


def _initial_path() -> Path:
    configured = get_settings().design
    return configured if configured is not None else DEFAULT_SAMPLE


def _load_path(path: Path) -> LoadResult:
    files = [path, *path.rglob("*")] if path.is_dir() else [path]
    mtime = max((p.stat().st_mtime for p in files), default=0.0)
    return resources.read_design_files(str(path), mtime)


def history() -> History:
    """The open design's history, opening the configured design (or the acme sample) on first use."""
    if HISTORY not in st.session_state:
        path = _initial_path()
        result = _load_path(path)
        open_design(result, origin=str(path), saved_path=str(path) if path.is_file() else None)
    value: History = st.session_state[HISTORY]
    return value


def current_design() -> Design:
    return history().present


def open_design(result: LoadResult, *, origin: str, saved_path: str | None = None) -> None:
    """Replace the open design (a new history: undo does not cross designs)."""
    hist = History(present=result.design, origin=origin, saved_path=saved_path)
    hist.mark_saved()
    st.session_state[HISTORY] = hist
    st.session_state[LOAD_WARNINGS] = list(result.warnings)
    st.session_state.pop(HIGHLIGHT, None)


def open_path(path: Path, *, origin: str | None = None) -> None:
    """Open a design file or folder from disk."""
    result = _load_path(path)
    open_design(result, origin=origin or str(path), saved_path=str(path) if path.is_file() else None)


def edit(design: Design) -> None:
    """Make an edited design the open one (one undo step)."""
    history().apply(design)


def origin_label() -> str:
    hist = history()
    origin = hist.origin
    if os.sep in origin:
        origin = Path(origin).name
    return origin + (" (unsaved changes)" if hist.dirty else "")
