"""Custom groups and trust edges: edits return new designs, refs follow renames, and expansion."""

from __future__ import annotations

import pytest

from lmos_studio.errors import EditError, LmosStudioError
from lmos_studio.model import Agent, Capability, Channel, Design, Endpoint, Group, RequiredCapability, TrustEdge
from lmos_studio.trust import (
    add_agents,
    add_members,
    add_trust_edge,
    capability_options,
    channel_members,
    create_group,
    dissolve_group,
    expand_trust,
    protocol_options,
    remove_members,
    remove_trust_edge,
    rename_group,
    replace_trust_edge,
    safe_resolutions,
    set_agent_reach,
)


def agent(
    name: str,
    *caps: str,
    tenants: tuple[str, ...] = ("acme",),
    protocols: tuple[str, ...] = ("http",),
    version: str = "1.0.0",
) -> Agent:
    return Agent(
        name=name,
        supported_tenants=tenants,
        supported_channels=("web",),
        capabilities=tuple(Capability(name=c, version=version, examples=(f"please {c}",)) for c in caps),
        endpoints=tuple(Endpoint(protocol=p) for p in protocols),
    )


@pytest.fixture
def design() -> Design:
    return Design(
        agents=(
            agent("billing", "view-bill", "pay-bill"),
            agent("contract", "view-contract"),
            agent("support", "open-ticket", protocols=("http", "ws")),
        ),
        channels=(
            Channel(
                name="acme-web",
                labels={"tenant": "acme", "channel": "web"},
                required_capabilities=(
                    RequiredCapability(name="view-bill", version=">=1.0.0"),
                    RequiredCapability(name="view-contract", version="*"),
                ),
            ),
        ),
        groups=(Group(name="billing-domain", members=("billing",)),),
        trust_edges=(
            TrustEdge(
                caller="group:billing-domain", callee="contract", capabilities=("view-contract",), protocol="http"
            ),
        ),
    )


def test_create_group_returns_a_new_design(design: Design) -> None:
    changed = create_group(design, "pci-zone", members=["billing", "support", "billing"], description="cards")
    assert changed.group("pci-zone") == Group(name="pci-zone", members=("billing", "support"), description="cards")
    assert design.group("pci-zone") is None  # the original is untouched


@pytest.mark.parametrize(
    ("name", "members", "message"),
    [
        ("billing-domain", [], "already exists"),
        ("PCI Zone", [], "lowercase"),
        ("pci", ["ghost"], "unknown agent"),
    ],
)
def test_create_group_refuses_bad_input(design: Design, name: str, members: list[str], message: str) -> None:
    with pytest.raises(EditError, match=message):
        create_group(design, name, members=members)


def test_edit_error_is_one_of_ours() -> None:
    assert issubclass(EditError, LmosStudioError)


def test_rename_rewrites_trust_refs(design: Design) -> None:
    renamed = rename_group(design, "billing-domain", "billing-zone")
    assert renamed.group("billing-domain") is None
    assert renamed.group("billing-zone") is not None
    assert renamed.trust_edges[0].caller == "group:billing-zone"
    assert rename_group(design, "billing-domain", "billing-domain") == design
    with pytest.raises(EditError, match="no group"):
        rename_group(design, "nope", "x")


def test_rename_keeps_where_the_group_was_dragged(design: Design) -> None:
    """Positions are kept by graph node id (`group:NAME`): a rename left the dragged position under the old
    id, so the group jumped back to a computed place (and the old entry stayed in the file)."""
    from lmos_studio.graph import saved_positions, with_positions

    dragged = design.replace(layout=with_positions(design.layout, {"group:billing-domain": (500.0, 400.0)}))
    renamed = rename_group(dragged, "billing-domain", "billing-zone")
    assert saved_positions(renamed.layout) == {"group:billing-zone": (500.0, 400.0)}


def test_members_add_and_remove(design: Design) -> None:
    grown = add_members(design, "billing-domain", ["support", "billing"])
    assert grown.group("billing-domain").members == ("billing", "support")  # type: ignore[union-attr]
    shrunk = remove_members(grown, "billing-domain", ["billing", "not-a-member"])
    assert shrunk.group("billing-domain").members == ("support",)  # type: ignore[union-attr]
    with pytest.raises(EditError):
        add_members(design, "billing-domain", ["ghost"])


def test_group_edits_never_name_one_agent_twice(design: Design) -> None:
    """Creating a group of `billing` and `default/billing`, or adding one to a group holding the other, made a
    group the design file refuses (the agent named twice). Both are refused now; replacing one by the other
    (remove, then add: what the Designer's Apply does) still works."""
    with pytest.raises(EditError, match=r"'pci' names agent 'billing' twice, as 'billing' and 'default/billing'"):
        create_group(design, "pci", members=["billing", "default/billing"])
    with pytest.raises(EditError, match=r"as 'billing' and 'default/billing'"):
        add_members(add_members(design, "billing-domain", ["support"]), "billing-domain", ["default/billing"])
    with pytest.raises(EditError, match=r"as 'default/billing' and 'billing'.*keep one"):
        add_members(design.replace(groups=(Group(name="g", members=("default/billing",)),)), "g", ["billing"])
    keyed = add_members(remove_members(design, "billing-domain", ["billing"]), "billing-domain", ["default/billing"])
    assert keyed.group("billing-domain").members == ("default/billing",)  # type: ignore[union-attr]


def test_dissolve_removes_the_group_and_its_edges(design: Design) -> None:
    gone = dissolve_group(design, "billing-domain")
    assert gone.groups == () and gone.trust_edges == ()
    assert gone.agents == design.agents


def test_channel_membership_is_computed_by_resolution(design: Design) -> None:
    assert channel_members(design) == {"default/acme-web": ("billing", "contract")}
    bad = design.replace(agents=(agent("billing", "view-bill", version="1.0"), *design.agents[1:]))
    assert channel_members(bad) == {"default/acme-web": ("contract",)}  # a non-SemVer version does not wire
    assert [r.channel.name for r in safe_resolutions(bad)] == ["acme-web"]


def test_expand_group_and_channel_trust(design: Design) -> None:
    pairs = expand_trust(design)
    assert [(p.caller, p.callee, p.capabilities) for p in pairs] == [
        ("default/billing", "default/contract", ("view-contract",))
    ]
    wider = add_trust_edge(design, TrustEdge(caller="support", callee="channel:acme-web", protocol="http"))
    assert {(p.caller, p.callee) for p in expand_trust(wider)} == {
        ("default/billing", "default/contract"),
        ("default/support", "default/billing"),
        ("default/support", "default/contract"),
    }
    selfish = design.replace(trust_edges=(TrustEdge(caller="channel:acme-web", callee="channel:acme-web"),))
    assert {(p.caller, p.callee) for p in expand_trust(selfish)} == {
        ("default/billing", "default/contract"),
        ("default/contract", "default/billing"),
    }  # no self pairs


def test_trust_edge_edits_check_refs_capabilities_and_protocol(design: Design) -> None:
    new = TrustEdge(caller="contract", callee="support", capabilities=("open-ticket",), protocol="ws")
    added = add_trust_edge(design, new)
    assert added.trust_edges[-1] == new
    with pytest.raises(EditError, match="already exists"):
        add_trust_edge(added, new)
    for bad, message in [
        (TrustEdge(caller="ghost", callee="support"), "names no agent"),
        (TrustEdge(caller="contract", callee="group:nope"), "names no agent"),
        (TrustEdge(caller="support", callee="support"), "itself"),
        (TrustEdge(caller="contract", callee="support", capabilities=("x",)), "provides no"),
        (TrustEdge(caller="contract", callee="support", protocol="mqtt"), "no 'mqtt' endpoint"),
    ]:
        with pytest.raises(EditError, match=message):
            add_trust_edge(design, bad)
    changed = replace_trust_edge(added, new.key, new.model_copy(update={"protocol": "http"}))
    assert changed.trust_edges[-1].protocol == "http"
    assert remove_trust_edge(changed, new.key).trust_edges == design.trust_edges
    with pytest.raises(EditError):
        remove_trust_edge(design, "nope")


def test_edits_never_write_one_trust_edge_twice(design: Design) -> None:
    """A design file refuses an edge written twice. Editing a key with two edges (other protocols) made both the
    new edge, and renaming a group onto a ref an edge already named made two equal edges: a saved design would
    not load again. Now editing leaves one edge of the key, at the first one's place, and a rename keeps one."""
    first = TrustEdge(caller="contract", callee="support", protocol="http")
    design = design.replace(trust_edges=(first, *design.trust_edges, first.model_copy(update={"protocol": "ws"})))
    changed = replace_trust_edge(design, first.key, first.model_copy(update={"description": "tickets"}))
    assert [e.protocol for e in changed.trust_edges if e.key == first.key] == ["http"]
    assert changed.trust_edges[0].description == "tickets" and changed.trust_edges[1:] == design.trust_edges[1:2]
    dangling = TrustEdge(
        caller="group:billing-zone", callee="contract", capabilities=("view-contract",), protocol="http"
    )
    renamed = rename_group(
        design.replace(trust_edges=(*design.trust_edges, dangling)), "billing-domain", "billing-zone"
    )
    assert renamed.trust_edges.count(dangling) == 1


def test_options_follow_the_callee(design: Design) -> None:
    assert protocol_options(design, "support") == ("http", "ws")
    assert protocol_options(design, "channel:acme-web") == ("http",)
    assert capability_options(design, "group:billing-domain") == ("pay-bill", "view-bill")
    assert protocol_options(design, "ghost") == ()


def test_add_agents_replaces_same_key(design: Design) -> None:
    newer = agent("billing", "view-bill", version="2.0.0")
    changed = add_agents(design, [newer, agent("fresh", "x")])
    assert changed.agent("billing") == newer and changed.agents[0] == newer
    assert [a.name for a in changed.agents] == ["billing", "contract", "support", "fresh"]


def test_ref_options_offer_each_namespace_of_a_shared_name(design: Design) -> None:
    """The panel offered bare names only: an edge to one of two same-named agents could not be added there
    without trusting both."""
    from lmos_studio.trust import ref_options

    agent = design.agents[0]
    shared = design.replace(agents=(*design.agents, agent.model_copy(update={"namespace": "prod"})))
    options = ref_options(shared)
    assert options.count(agent.name) == 1
    assert {agent.key, f"prod/{agent.name}"} <= set(options)
    assert not any("/" in o for o in ref_options(design) if not o.startswith(("group:", "channel:")))


def test_set_agent_reach_sets_channels_and_tenants(design: Design) -> None:
    changed = set_agent_reach(design, "default/contract", channels=[" ivr", "web ", "", "ivr"], tenants=[])
    contract = changed.agent("contract")
    assert contract is not None and (contract.supported_channels, contract.supported_tenants) == (("ivr", "web"), ())
    assert [a.name for a in changed.agents] == [a.name for a in design.agents]  # in place, not appended
    assert design.agent("contract").supported_channels == ("web",)  # type: ignore[union-attr]  # a new design
    with pytest.raises(EditError, match="no agent default/ghost"):
        set_agent_reach(design, "default/ghost", channels=["web"], tenants=[])
