"""The edits behind the canvas's Delete and the Designer's notes: removing agents and channels with what
refers to them, and trust edges that name nothing."""

from __future__ import annotations

import pytest

from lmos_studio.errors import EditError
from lmos_studio.formats.design_file import read_design
from lmos_studio.model import TrustEdge
from lmos_studio.trust import dangling_trust_edges, remove_agent, remove_channel
from tests.conftest import SAMPLES


def test_remove_agent_takes_its_memberships_and_edges() -> None:
    design = read_design(SAMPLES / "faulty.yaml")
    assert any("billing-agent" in (e.caller, e.callee) for e in design.trust_edges)
    after = remove_agent(design, "default/billing-agent")
    assert after.agent("billing-agent") is None
    assert not any("billing-agent" in g.members for g in after.groups)
    assert not any("billing-agent" in (e.caller, e.callee) for e in after.trust_edges)
    with pytest.raises(EditError, match="no agent"):
        remove_agent(after, "default/billing-agent")


def test_remove_channel() -> None:
    design = read_design(SAMPLES / "faulty.yaml")
    channel = design.channels[0]
    edge = TrustEdge(caller=f"channel:{channel.name}", callee="billing-agent")
    after = remove_channel(design.replace(trust_edges=(*design.trust_edges, edge)), channel.key)
    assert all(c.key != channel.key for c in after.channels)
    assert edge not in after.trust_edges
    with pytest.raises(EditError, match="no channel"):
        remove_channel(after, channel.key)


def test_dangling_trust_edges_are_named() -> None:
    design = read_design(SAMPLES / "faulty.yaml")
    edge = TrustEdge(caller="ghost-agent", callee="billing-agent")
    assert edge in dangling_trust_edges(design.replace(trust_edges=(*design.trust_edges, edge)))
