"""Shared widgets: errors, status badges. Registry text is shown as text, never as live HTML."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import streamlit as st

from lmos_studio.config import get_settings
from lmos_studio.errors import LmosStudioError
from lmos_studio.markdown import escape as md
from lmos_studio.resolve import Resolution


def upload_limit_mb() -> int:
    """The one upload limit (LMOS_STUDIO_MAX_UPLOAD_MB), given to every uploader so it states it truly
    (tests/test_layering.py checks that each passes it)."""
    return max(1, math.ceil(get_settings().max_upload_mb))


def show_error(exc: LmosStudioError) -> None:
    """Our errors as a red box with the message (file, line, field, what to do); no traceback."""
    st.error(f"{type(exc).__name__}: {md(str(exc))}", icon=":material/error:")


_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~:$<])")


def rerun_with_toast(key: str, message: str) -> NoReturn:
    """Rerun the page (it draws again under the design just edited) and say `message` once it has: a toast
    shown before `st.rerun` would be lost with the run it belongs to. The page calls `pending_toast(key)`."""
    st.session_state[key] = message
    st.rerun()


def pending_toast(key: str) -> None:
    """Show the toast `rerun_with_toast(key, …)` left for this run, once."""
    message = st.session_state.pop(key, None)
    if message:
        st.toast(message)


def plain(text: str) -> str:
    """Text shown literally inside Markdown (every Markdown special character escaped)."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


def status_badge(resolution: Resolution) -> str:
    """Markdown for a channel's status (colours only; the status word itself is fixed text)."""
    return ":green-badge[RESOLVED]" if resolution.resolved else ":red-badge[UNRESOLVED]"


START_HERE = """\
A design is a set of LMOS **Agents** (what they can do) and **Channels** (what a tenant's channel needs).
Studio shows what the LMOS operator would wire, and lets you change it before anything is deployed.

- **Overview** (this page): per channel, which agent serves each required capability, or why none does.
- **Registry**: find agents in registries or import a description (A2A card, WoT TD, capabilities.json) and
  add them to the design.
- **Designer**: the design as a canvas. Click to select, *Draw trust edge* and drag from agent to agent,
  Delete removes, Ctrl+Z undoes; lint findings below say what to fix.
- **Playground**: type a customer message and see which agent and capability each channel would route it to.
- **Evaluate**: run labelled queries and routing tests; what-if changes.
- **Export**: Kubernetes manifests (kustomize) ready for the operator, and a diff with what runs.

New here? The **acme** sample is open: look at its channels below, then open the Designer. Open another
design (or upload yours) from the sidebar; *Save as* on the Designer keeps your changes in a file.
"""


# --- search-style choosers: a design of 10 000 agents must not send 10 000 options on every rerun ----------

SEARCH_LIMIT = 100  # options a chooser sends at most; above this it shows a search field (type to filter)
SEARCH_SUFFIX = "__search"


def matching(options: Sequence[str], query: str, limit: int = SEARCH_LIMIT) -> list[str]:
    """Up to `limit` options containing `query` (case-insensitive), in their order."""
    needle = query.strip().lower()
    found = (o for o in options if needle in o.lower()) if needle else iter(options)
    return list(itertools.islice(found, limit))


def _search_field(label: str, key: str, total: int, container: Any) -> str:
    query: str = container.text_input(
        f"Search {label.lower()}",
        key=key + SEARCH_SUFFIX,
        placeholder=f"type to filter {total} …",
        help=f"Only the first {SEARCH_LIMIT} matches are listed; type part of a name to find others.",
    )
    return query


def search_select(
    label: str,
    options: Sequence[str],
    *,
    key: str,
    pinned: Sequence[str] = (),
    default: str | None = None,
    format_func: Callable[[str], str] = str,
    container: Any = None,
    on_change: Callable[[], None] | None = None,
) -> str:
    """A select box over `pinned` + `options`; with more than SEARCH_LIMIT options, a search field above it
    filters them and the select box lists at most SEARCH_LIMIT matches (the chosen value always stays listed).
    `on_change` is called when the user chooses another value (as st.selectbox's)."""
    where = container if container is not None else st
    shown = [*pinned, *options]
    if len(options) > SEARCH_LIMIT:
        query = _search_field(label, key, len(options), where)
        current = st.session_state.get(key, default)
        kept = [current] if isinstance(current, str) else []
        shown = list(dict.fromkeys([*pinned, *kept, *matching(options, query)]))
    index = shown.index(default) if default is not None and default in shown else 0
    value: str = where.selectbox(label, shown, key=key, index=index, format_func=format_func, on_change=on_change)
    return value


def search_multiselect(
    label: str,
    options: Sequence[str],
    *,
    key: str,
    default: Sequence[str] = (),
    container: Any = None,
) -> list[str]:
    """A multiselect over `options`; with more than SEARCH_LIMIT options, a search field above it filters them
    (the chosen values always stay listed)."""
    where = container if container is not None else st
    shown: Sequence[str] = options
    if len(options) > SEARCH_LIMIT:
        query = _search_field(label, key, len(options), where)
        chosen = st.session_state.get(key, list(default))
        shown = list(dict.fromkeys([*chosen, *matching(options, query)]))
    picked: list[str] = where.multiselect(label, shown, default=[d for d in default if d in shown], key=key)
    return picked
