"""Renaming an agent or a Channel (`renames.rename_agent`, `renames.rename_channel`, `edit rename-agent|rename-channel`,
the Designer's Rename): everything that names it follows, and the renamed resource stays in its file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lmos_studio.errors import EditError
from lmos_studio.formats.design_file import read_design
from lmos_studio.model import (
    LAYOUT_POSITIONS,
    Agent,
    Channel,
    ChannelRollout,
    Design,
    Group,
    OutOfScopeExample,
    RoutingSettings,
    RoutingTest,
    TrustEdge,
)
from lmos_studio.renames import rename_agent, rename_channel
from tests.conftest import ACME, invoke


def cli(*args: str) -> tuple[int, str, str]:
    done = invoke(*args)
    return done.returncode, done.stdout, done.stderr


def agent(name: str, namespace: str = "default") -> Agent:
    return Agent(name=name, namespace=namespace, supported_channels=("web",))


def channel(name: str, namespace: str = "default") -> Channel:
    return Channel(name=name, namespace=namespace, labels={"tenant": "t", "channel": "web", "subset": "stable"})


DESIGN = Design(
    agents=(agent("billing"), agent("contract"), agent("billing", "other")),
    channels=(channel("web-stable"), channel("web-canary"), channel("web-stable", "other")),
    rollouts=(
        ChannelRollout(
            name="r", stable_channel="web-stable", canary_channel="web-canary", stable_weight=90, canary_weight=10
        ),
    ),
    groups=(Group(name="money", members=("default/billing", "contract")),),
    trust_edges=(
        TrustEdge(caller="contract", callee="default/billing"),
        TrustEdge(caller="billing", callee="contract"),  # "billing" names both billing agents
        TrustEdge(caller="channel:default/web-canary", callee="contract"),
        TrustEdge(caller="channel:web-stable", callee="contract"),  # both web-stable Channels
    ),
    routing_tests=(
        RoutingTest(query="show my bill", expect_agent="contract", channel="web-canary"),
        RoutingTest(query="my contract", expect_agent="contract", channel="default/web-stable"),
    ),
    routing=RoutingSettings(
        out_of_scope=(OutOfScopeExample(text="book a flight", channel="web-canary"), OutOfScopeExample(text="hi"))
    ),
    layout={LAYOUT_POSITIONS: {"agent:default/contract": [1, 2], "channel:default/web-canary": [3, 4]}},
)


def test_renaming_an_agent_moves_every_ref_in_the_form_it_was_written() -> None:
    renamed = rename_agent(DESIGN, "default/contract", "contracts")
    assert [a.key for a in renamed.agents] == ["default/billing", "default/contracts", "other/billing"]
    assert renamed.groups[0].members == ("default/billing", "contracts")
    assert [(e.caller, e.callee) for e in renamed.trust_edges] == [
        ("contracts", "default/billing"),
        ("billing", "contracts"),
        ("channel:default/web-canary", "contracts"),
        ("channel:web-stable", "contracts"),
    ]
    assert [t.expect_agent for t in renamed.routing_tests] == ["contracts", "contracts"]
    assert renamed.layout[LAYOUT_POSITIONS] == {"agent:default/contracts": [1, 2], "channel:default/web-canary": [3, 4]}
    assert rename_agent(DESIGN, "default/contract", "contract") is DESIGN


def test_an_agent_whose_name_another_namespace_shares_keeps_its_trust_under_its_key() -> None:
    """The bare name `billing` names both billing agents: it keeps naming the other one, and the renamed one
    gets the same edge under its own key, so neither loses trust."""
    renamed = rename_agent(DESIGN, "default/billing", "invoices")
    edges = [(e.caller, e.callee) for e in renamed.trust_edges]
    assert ("contract", "default/invoices") in edges and ("contract", "default/billing") not in edges
    assert ("billing", "contract") in edges and ("invoices", "contract") in edges
    assert renamed.groups[0].members == ("default/invoices", "contract")  # it was named by key


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("Bad_Name", "must be lowercase"),
        ("9lives", "start"),
        ("billing", "an agent in namespace default is named 'billing' already"),
    ],
)
def test_a_bad_or_taken_agent_name_is_refused(new: str, message: str) -> None:
    with pytest.raises(EditError, match=message):
        rename_agent(DESIGN, "default/contract", new)
    with pytest.raises(EditError, match="no agent default/ghost"):
        rename_agent(DESIGN, "default/ghost", "x")


def test_renaming_a_channel_moves_edges_tests_rollouts_and_out_of_scope_messages() -> None:
    renamed = rename_channel(DESIGN, "default/web-canary", "web-next")
    assert [c.key for c in renamed.channels] == ["default/web-stable", "default/web-next", "other/web-stable"]
    assert renamed.trust_edges[2].caller == "channel:default/web-next"
    assert renamed.routing_tests[0].channel == "web-next"
    assert renamed.rollouts[0].canary_channel == "web-next" and renamed.rollouts[0].stable_channel == "web-stable"
    assert renamed.routing.out_of_scope == (
        OutOfScopeExample(text="book a flight", channel="web-next"),
        OutOfScopeExample(text="hi"),
    )
    assert "channel:default/web-next" in renamed.layout[LAYOUT_POSITIONS]


def test_a_channel_whose_name_another_namespace_shares_gets_its_own_refs() -> None:
    renamed = rename_channel(DESIGN, "default/web-stable", "web-main")
    edges = [(e.caller, e.callee) for e in renamed.trust_edges]
    assert ("channel:web-stable", "contract") in edges and ("channel:web-main", "contract") in edges
    assert renamed.routing_tests[1].channel == "default/web-main"
    assert renamed.rollouts[0].stable_channel == "web-main"  # the rollout is in the default namespace
    with pytest.raises(EditError, match="a channel in namespace default is named 'web-canary' already"):
        rename_channel(DESIGN, "default/web-stable", "web-canary")
    with pytest.raises(EditError, match="channel name 'Web Main'"):
        rename_channel(DESIGN, "default/web-stable", "Web Main")


def test_edit_rename_agent_keeps_the_agent_in_its_own_file_and_changes_only_names(tmp_path: Path) -> None:
    """A renamed resource used to leave its file (`studio-added.yaml`), its comments left behind."""
    folder = tmp_path / "acme"
    shutil.copytree(ACME, folder)
    before = {p.relative_to(folder): p.read_text() for p in folder.rglob("*.yaml")}
    code, out, err = cli("edit", "rename-agent", str(folder), "billing-agent-stable", "billing-agent")
    assert code == 0, err
    assert "renamed agent billing-agent-stable to billing-agent" in out
    after = {p.relative_to(folder): p.read_text() for p in folder.rglob("*.yaml")}
    assert set(after) == set(before)  # no studio-added.yaml
    for name, text in after.items():  # the name (and the endpoints at its own Service host) only: its id stays
        kept_id = before[name].replace("billing-agent-stable-id", "\0")
        assert text == kept_id.replace("billing-agent-stable", "billing-agent").replace("\0", "billing-agent-stable-id")
    studio = after[Path("studio.yaml")]
    assert '"http://billing-agent.default.svc.cluster.local:8080"' in studio  # written as it was: flow style
    assert read_design(folder).agent("billing-agent") is not None
    code, _, err = cli("edit", "rename-agent", str(folder), "billing-agent", "billing-agent-canary")
    assert code == 2 and "is named 'billing-agent-canary' already" in err
    assert {p.relative_to(folder): p.read_text() for p in folder.rglob("*.yaml")} == after  # nothing written


def test_edit_rename_channel_in_a_folder_and_in_one_file(tmp_path: Path) -> None:
    folder = tmp_path / "acme"
    shutil.copytree(ACME, folder)
    code, out, err = cli("edit", "rename-channel", str(folder), "default/acme-ivr-stable", "acme-phone")
    assert code == 0 and "renamed channel default/acme-ivr-stable to acme-phone" in out, err
    assert not (folder / "studio-added.yaml").exists()
    design = read_design(folder)
    assert design.channel("acme-phone", "default") is not None
    assert design.rollouts[0].stable_channel == "acme-phone"
    code, _, err = cli("edit", "rename-channel", str(folder), "acme-web-stable", "x")
    assert code == 2 and "2 channels are named 'acme-web-stable'" in err
    single = tmp_path / "one.yaml"
    single.write_text(
        "# the web channel\napiVersion: lmos.eclipse/v1\nkind: Channel\nmetadata:\n  name: web  # was web-old\n"
        "  labels: {tenant: t, channel: web, subset: stable}\nspec:\n  requiredCapabilities: []\n"
    )
    code, _, err = cli("edit", "rename-channel", str(single), "web", "web-main")
    assert code == 0, err
    text = single.read_text()  # the comments and the flow mapping kept
    assert text.startswith("# the web channel\n") and "  name: web-main # was web-old\n" in text, text
    assert "  labels: {tenant: t, channel: web, subset: stable}\n" in text


def test_the_designer_renames_the_selected_agent_and_keeps_it_selected(tmp_path: Path) -> None:
    from tests.test_designer_page import by_label, history, open_page

    folder = tmp_path / "acme"
    shutil.copytree(ACME, folder)
    app = open_page(folder)
    by_label(app.selectbox, "Agent").select("default/contract-agent").run()
    by_label(app.text_input, "Rename agent").input("contracts").run()
    app.button(key="designer_rename_agent").click().run()
    assert not app.exception, app.exception
    design = history(app).present
    assert design.agent("contracts", "default") is not None and design.agent("contract-agent", "default") is None
    assert by_label(app.selectbox, "Agent").value == "default/contracts"
    assert history(app).dirty and history(app).can_undo
    by_label(app.text_input, "Rename agent").input("Not Valid").run()
    app.button(key="designer_rename_agent").click().run()
    assert not app.exception and any("agent name 'Not Valid'" in e.value for e in app.error)


def test_endpoints_at_the_agent_s_own_service_follow_and_others_stay() -> None:
    from lmos_studio.model import Endpoint

    endpoints = (
        Endpoint(protocol="http", uri="http://contract.default.svc.cluster.local:8080/a"),
        Endpoint(protocol="ws", uri="ws://contract.default:9000"),
        Endpoint(protocol="http", uri="http://contract/x"),
        Endpoint(protocol="https", uri="https://contract.example.com/x"),  # another host: kept
        Endpoint(protocol="http", uri="http://contract-old.default.svc.cluster.local"),  # another Service: kept
    )
    design = DESIGN.replace(agents=(DESIGN.agents[0], DESIGN.agents[1].model_copy(update={"endpoints": endpoints})))
    renamed = rename_agent(design, "default/contract", "deals")
    assert [e.uri for e in renamed.agents[1].endpoints] == [
        "http://deals.default.svc.cluster.local:8080/a",
        "ws://deals.default:9000",
        "http://deals/x",
        "https://contract.example.com/x",
        "http://contract-old.default.svc.cluster.local",
    ]


def test_the_designer_renames_the_selected_channel(tmp_path: Path) -> None:
    from lmos_studio.ui import canvas
    from tests.test_designer_page import by_label, history, open_page

    folder = tmp_path / "acme"
    shutil.copytree(ACME, folder)
    app = open_page(folder)
    app.session_state[canvas.SELECTION] = {"id": "channel:default/acme-ivr-stable", "kind": "node"}  # a canvas click
    app.run()
    by_label(app.text_input, "Rename channel").input("acme-phone").run()
    app.button(key="designer_rename_channel").click().run()
    assert not app.exception, app.exception
    design = history(app).present
    assert design.channel("acme-phone", "default") is not None and design.channel("acme-ivr-stable", "default") is None
    assert design.rollouts[0].stable_channel == "acme-phone"
    assert app.session_state[canvas.SELECTION]["id"] == "channel:default/acme-phone"  # still selected


def allowed(design: Design) -> set[tuple[str, str, tuple[str, ...]]]:
    from lmos_studio.trust import expand_trust

    return {(p.caller, p.callee, p.capabilities) for p in expand_trust(design)}


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("default/a", "b"),
        ("default/a", "c"),
        ("default/d", "e"),
        ("other/b", "a"),
        ("default/d", "b"),
        ("other/d", "x"),
    ],
)
def test_a_rename_never_widens_or_narrows_trust(old: str, new: str) -> None:
    """A bare name names every agent of that name. Renaming default/a to "b", where other/b exists, must not let
    the edge "b -> x" (other/b's) reach the renamed agent, nor lose its own edges."""
    design = Design(
        agents=(agent("a"), agent("x"), agent("d"), agent("b", "other"), agent("c", "other"), agent("d", "other")),
        groups=(Group(name="g", members=("a", "b", "d")),),
        trust_edges=(
            TrustEdge(caller="a", callee="x"),
            TrustEdge(caller="b", callee="x", capabilities=("pay",)),
            TrustEdge(caller="x", callee="other/b"),
            TrustEdge(caller="d", callee="x", capabilities=("dd",)),
            TrustEdge(caller="group:g", callee="c"),
            TrustEdge(caller="x", callee="group:g", capabilities=("read",)),
        ),
    )
    renamed = rename_agent(design, old, new)
    moved = {old: f"{old.split('/')[0]}/{new}"}
    assert allowed(renamed) == {(moved.get(c, c), moved.get(e, e), caps) for c, e, caps in allowed(design)}


@pytest.mark.parametrize(("old", "new"), [("default/web-canary", "web-stable-x"), ("other/web-stable", "web-canary")])
def test_a_channel_rename_keeps_what_each_ref_and_test_names(old: str, new: str) -> None:
    from lmos_studio.routing.table import channel_key

    renamed = rename_channel(DESIGN, old, new)
    moved = {old: f"{old.split('/')[0]}/{new}"}

    def pairs(design: Design) -> set[tuple[str, str]]:
        return {
            (c.key, e.callee)
            for e in design.trust_edges
            if e.caller.startswith("channel:")
            for c in design.channels
            if e.caller.removeprefix("channel:") in (c.key, c.name)
        }

    assert pairs(renamed) == {(moved.get(k, k), callee) for k, callee in pairs(DESIGN)}
    for before, after in zip(DESIGN.routing_tests, renamed.routing_tests, strict=True):
        was = channel_key(DESIGN, before.channel)
        assert channel_key(renamed, after.channel) == moved.get(was, was)


def test_renaming_in_one_hand_written_file_keeps_the_resource_and_its_comments_in_place(tmp_path: Path) -> None:
    """The hand-written Agent leaves out what Studio writes (`providedCapabilities: []`), and its edge to itself
    changes both ends: both were rewritten in Studio's layout, their comments lost."""
    path = tmp_path / "self.yaml"
    path.write_text(
        "apiVersion: lmos.eclipse/v1\nkind: Agent\nmetadata:\n  name: billing  # the billing agent\nspec:\n"
        "  supportedChannels: [web]\n---\napiVersion: studio.lmos.eclipse/v1alpha1\nkind: StudioDesign\n"
        "metadata: {name: self}\nspec:\n  trustEdges:\n"
        "    - {caller: billing, callee: billing, protocol: http}  # retries itself\n"
    )
    code, _, err = cli("edit", "rename-agent", str(path), "billing", "invoices")
    assert code == 0, err
    text = path.read_text()
    assert text.startswith(
        "apiVersion: lmos.eclipse/v1\nkind: Agent\nmetadata:\n  name: invoices # the billing agent\n"
    )
    assert "  supportedChannels: [web]\n" in text
    assert "    - {caller: invoices, callee: invoices, protocol: http} # retries itself\n" in text


def test_a_routing_test_routed_by_a_channel_label_is_not_captured_by_the_new_name() -> None:
    from lmos_studio.routing.table import channel_key

    design = Design(
        agents=(agent("a"),),
        channels=(channel("web-stable"), Channel(name="ivr-stable", labels={"tenant": "t", "channel": "ivr"})),
        routing_tests=(RoutingTest(query="hi", channel="ivr"),),  # routed in ivr-stable, by its channel label
    )
    assert channel_key(design, "ivr") == "default/ivr-stable"
    renamed = rename_channel(design, "default/web-stable", "ivr")  # the name "ivr" would now take it
    assert channel_key(renamed, renamed.routing_tests[0].channel) == "default/ivr-stable"
