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


def test_remove_agent_takes_refs_by_namespace_and_name() -> None:
    """Refs may name an agent `ns/name`: removing the agent used to leave such members and trust edges behind,
    naming nothing (also when another namespace keeps the bare name)."""
    design = read_design(SAMPLES / "faulty.yaml")
    billing = design.agent("billing-agent")
    assert billing is not None
    twin = billing.model_copy(update={"namespace": "prod"})
    by_key = TrustEdge(caller="default/billing-agent", callee="contract-agent")
    group = design.groups[0]
    design = design.replace(
        agents=(*design.agents, twin),
        groups=(group.model_copy(update={"members": (*group.members, "default/billing-agent")}), *design.groups[1:]),
        trust_edges=(*design.trust_edges, by_key),
    )
    after = remove_agent(design, "default/billing-agent")
    assert not any("default/billing-agent" in g.members for g in after.groups)
    assert by_key not in after.trust_edges
    assert dangling_trust_edges(after) == dangling_trust_edges(design)  # the sample's own ghost edge only
    assert any("billing-agent" in (e.caller, e.callee) for e in after.trust_edges)  # prod/billing-agent keeps these
    alone = remove_agent(design.replace(agents=tuple(a for a in design.agents if a != twin)), billing.key)
    assert not any({"billing-agent", "default/billing-agent"} & set(g.members) for g in alone.groups)
    assert not any("billing-agent" in (e.caller, e.callee) for e in alone.trust_edges)


def test_remove_channel_takes_refs_by_namespace_and_name() -> None:
    design = read_design(SAMPLES / "faulty.yaml")
    channel = design.channels[0]
    edge = TrustEdge(caller=f"channel:{channel.key}", callee="billing-agent")
    after = remove_channel(design.replace(trust_edges=(*design.trust_edges, edge)), channel.key)
    assert edge not in after.trust_edges
    assert dangling_trust_edges(after) == dangling_trust_edges(design)


def test_an_edge_drawn_to_one_of_two_same_named_agents_trusts_that_one_only() -> None:
    """A drag on the canvas made the edge's ref the agent's bare name: with `billing-agent` in two namespaces,
    an edge drawn to prod/billing-agent trusted default/billing-agent too. Such refs are `ns/name` now."""
    from lmos_studio.graph import trust_ref
    from lmos_studio.trust import add_trust_edge, expand_trust

    design = read_design(SAMPLES / "faulty.yaml")
    billing = design.agent("billing-agent")
    assert billing is not None
    design = design.replace(agents=(*design.agents, billing.model_copy(update={"namespace": "prod"})))
    assert trust_ref(design, "agent:default/contract-agent") == "contract-agent"  # a unique name stays a name
    callee = trust_ref(design, "agent:prod/billing-agent")
    assert callee == "prod/billing-agent"
    edge = TrustEdge(caller=trust_ref(design, "agent:default/globex-agent"), callee=callee)
    pairs = expand_trust(add_trust_edge(design, edge))
    assert {(p.caller, p.callee) for p in pairs if p.edge == edge} == {("default/globex-agent", "prod/billing-agent")}
    channel = design.channels[0]
    twin = channel.model_copy(update={"namespace": "prod"})
    assert trust_ref(design, f"channel:{channel.key}") == f"channel:{channel.name}"
    assert trust_ref(design.replace(channels=(*design.channels, twin)), f"channel:{channel.key}") == (
        f"channel:{channel.key}"
    )
    with pytest.raises(EditError, match="expand the cluster"):
        trust_ref(design, "aggregate:group:contracts")
