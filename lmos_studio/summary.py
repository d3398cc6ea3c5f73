"""Tables of a design for people: agents, channels and per-channel resolution, as plain rows.

Pages show these as they are (st.dataframe); the CLI prints them. No streamlit here.
"""

from __future__ import annotations

from typing import Any

from lmos_studio.model import Design
from lmos_studio.resolve import Resolution


def agent_rows(design: Design) -> list[dict[str, Any]]:
    """One row per agent: identity, where it serves and what it provides."""
    return [
        {
            "agent": a.name,
            "namespace": a.namespace,
            "subset": a.subset,
            "tenants": ", ".join(a.supported_tenants) or "(any)",
            "channels": ", ".join(a.supported_channels) or "(none)",
            "capabilities": ", ".join(f"{c.name} {c.version}" for c in a.capabilities),
            "protocols": ", ".join(a.protocols),
            "description": a.description,
        }
        for a in design.agents
    ]


def channel_rows(resolutions: list[Resolution]) -> list[dict[str, Any]]:
    """One row per channel with its labels and resolution status."""
    return [
        {
            "channel": r.channel.name,
            "namespace": r.channel.namespace,
            "tenant": r.channel.tenant or "",
            "channel label": r.channel.channel or "",
            "subset": r.channel.subset,
            "version": r.channel.version or "",
            "status": r.status,
            "requirements": len(r.channel.required_capabilities),
            "unresolved": len(r.unresolved),
            "agents": ", ".join(a.name for a in r.agents),
        }
        for r in resolutions
    ]


def requirement_rows(resolution: Resolution) -> list[dict[str, Any]]:
    """One row per required capability: who serves it, or why nobody does."""
    rows = []
    for req in resolution.channel.required_capabilities:
        wire = resolution.provider(req.name)
        miss = next((u for u in resolution.unresolved if u.required.name == req.name), None)
        rows.append(
            {
                "capability": req.name,
                "range": req.version,
                "strategy": req.strategy,
                "served by": wire.agent.name if wire else "",
                "provided": wire.provided.version if wire else "",
                "host": wire.agent.host if wire else "",
                "problem": miss.reason if miss else "",
            }
        )
    return rows
