"""Shared widgets: errors, status badges. Registry text is shown as text, never as live HTML."""

from __future__ import annotations

import re

import streamlit as st

from lmos_studio.errors import LmosStudioError
from lmos_studio.markdown import escape as md
from lmos_studio.resolve import Resolution


def show_error(exc: LmosStudioError) -> None:
    """Our errors as a red box with the message (file, line, field, what to do); no traceback."""
    st.error(f"{type(exc).__name__}: {md(str(exc))}", icon=":material/error:")


_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~:$<])")


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
