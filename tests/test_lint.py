"""Each lint code: a minimal design that triggers it and one that does not; the `lint`/`graph` CLI contract."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from lmos_studio.lint import CODES, Finding
from lmos_studio.model import (
    Agent,
    Capability,
    Channel,
    ChannelRollout,
    Design,
    Endpoint,
    Group,
    OutOfScopeExample,
    RequiredCapability,
    RoutingSettings,
    RoutingTest,
    TrustEdge,
)
from lmos_studio.routing.confusion import lint_with_routing as lint_design
from lmos_studio.synthetic import synthetic_design
from lmos_studio.trust import expand_trust
from tests.conftest import ACME, SAMPLES, run_cli

EXAMPLES = ("please do it", "do it now")


def cap(
    name: str, version: str = "1.0.0", *, description: str = "", examples: tuple[str, ...] = EXAMPLES
) -> Capability:
    return Capability(
        name=name, version=version, description=description or f"Lets a customer {name}", examples=examples
    )


def agent(
    name: str,
    *caps: Capability,
    tenants: tuple[str, ...] = ("acme",),
    subset: str = "",
    protocols: tuple[str, ...] = ("http",),
    channels: tuple[str, ...] = ("web",),
) -> Agent:
    return Agent(
        name=name,
        supported_tenants=tenants,
        supported_channels=channels,
        capabilities=caps,
        labels={"subset": subset} if subset else {},
        endpoints=tuple(Endpoint(protocol=p) for p in protocols),
    )


def channel(
    name: str = "acme-web", *required: tuple[str, str], subset: str = "stable", tenant: str = "acme", label: str = "web"
) -> Channel:
    return Channel(
        name=name,
        labels={"tenant": tenant, "channel": label, "version": "1.0.0", "subset": subset},
        required_capabilities=tuple(RequiredCapability(name=n, version=v) for n, v in required),
    )


def base(**changes: object) -> Design:
    """A clean design: two agents in one resolved channel, one trust edge, one group."""
    design = Design(
        agents=(
            agent(
                "billing",
                cap(
                    "view-bill",
                    description="Show the current bill and amount due",
                    examples=("show my bill", "how much do I owe"),
                ),
            ),
            agent(
                "contract",
                cap(
                    "view-contract",
                    description="Explain contract terms",
                    examples=("when does my contract end", "notice period"),
                ),
            ),
        ),
        channels=(channel("acme-web", ("view-bill", ">=1.0.0"), ("view-contract", "*")),),
        groups=(Group(name="billing-domain", members=("billing",)),),
        trust_edges=(TrustEdge(caller="contract", callee="billing", capabilities=("view-bill",), protocol="http"),),
    )
    return design.replace(**changes)


def rollout(stable: str, stable_weight: int, canary: str, canary_weight: int) -> ChannelRollout:
    return ChannelRollout(
        name="acme-web-rollout",
        stable_channel=stable,
        stable_weight=stable_weight,
        canary_channel=canary,
        canary_weight=canary_weight,
    )


def codes(design: Design) -> dict[str, list[Finding]]:
    found: dict[str, list[Finding]] = {}
    for finding in lint_design(design):
        found.setdefault(finding.code, []).append(finding)
    return found


def test_clean_design_has_no_findings() -> None:
    assert lint_design(base()) == []


def with_agents(*agents: Agent) -> Callable[[Design], Design]:
    return lambda d: d.replace(agents=(*d.agents, *agents))


TRIGGERS: dict[str, Callable[[Design], Design]] = {
    "unresolved-capability": lambda d: d.replace(channels=(channel("acme-web", ("refund", ">=1.0.0")),)),
    "invalid-version": lambda d: d.replace(agents=(agent("billing", cap("view-bill", "1.0")), d.agents[1])),
    "orphan-agent": with_agents(agent("lonely", cap("joke"))),
    "cross-tenant-trust": lambda d: d.replace(
        agents=(d.agents[0], agent("contract", cap("view-contract"), tenants=("globex",))),
        channels=(channel("acme-web", ("view-bill", "*")),),
    ),
    "unknown-trust-target": lambda d: d.replace(trust_edges=(TrustEdge(caller="contract", callee="ghost"),)),
    "protocol-mismatch": lambda d: d.replace(
        agents=(
            d.agents[0],
            agent("contract", cap("view-contract", description="Explain contract terms"), protocols=("mqtt",)),
        )
    ),
    "self-trust": lambda d: d.replace(trust_edges=(*d.trust_edges, TrustEdge(caller="billing", callee="billing"))),
    "missing-examples": lambda d: d.replace(agents=(agent("billing", cap("view-bill", examples=())), d.agents[1])),
    "ambiguous-capabilities": lambda d: d.replace(
        agents=(
            agent(
                "billing",
                cap(
                    "view-bill",
                    description="Show the current bill and amount due",
                    examples=("show my bill", "how much do I owe"),
                ),
            ),
            agent(
                "contract",
                cap(
                    "view-contract",
                    description="Show the current bill and amount due",
                    examples=("show my bill", "how much do I owe"),
                ),
            ),
        )
    ),
    "canary-without-agents": lambda d: d.replace(
        channels=(*d.channels, channel("acme-web-canary", ("view-bill", "*"), subset="canary"))
    ),
    "rollout-missing-channel": lambda d: d.replace(rollouts=(rollout("acme-web", 90, "acme-web-next", 10),)),
    "rollout-weights": lambda d: d.replace(rollouts=(rollout("acme-web", 80, "acme-web", 30),)),
    "rollout-channel-mismatch": lambda d: d.replace(rollouts=(rollout("acme-web", 90, "acme-web", 10),)),
    "invalid-name": lambda d: d.replace(groups=(Group(name="PCI Zone", members=("billing",)),)),
    "caret-zero-range": lambda d: d.replace(channels=(channel("acme-web", ("view-bill", "^0")),)),
    "routing-test-unreachable": lambda d: d.replace(
        routing_tests=(RoutingTest(query="show my bill", channel="acme-web", expect_agent="ghost"),)
    ),
    "routing-test-duplicate": lambda d: d.replace(
        routing_tests=(
            RoutingTest(query="show my bill", channel="acme-web", expect_agent="billing"),
            RoutingTest(query="show my bill", channel="default/acme-web", expect_agent="billing"),
        )
    ),
    "out-of-scope-unknown-channel": lambda d: d.replace(
        routing=RoutingSettings(out_of_scope=(OutOfScopeExample(text="book a flight", channel="acme-wbe"),))
    ),
    "out-of-scope-conflict": lambda d: d.replace(
        routing=RoutingSettings(out_of_scope=(OutOfScopeExample(text="How much do I  owe", channel="acme-web"),))
    ),
    "missing-channel-label": lambda d: d.replace(
        channels=tuple(c.model_copy(update={"labels": {"tenant": "acme", "channel": "web"}}) for c in d.channels)
    ),
    # the operator API answers the runtime with "the first matching" Channel (LMOS.md §2.1)
    "duplicate-channel": lambda d: d.replace(channels=(*d.channels, d.channels[0].model_copy(update={"name": "twin"}))),
}


def test_a_channel_without_the_labels_export_needs_is_a_lint_error(tmp_path: Path) -> None:
    """Bug (session 21 QA): a Channel with no labels passed lint ("no findings", exit 0) while export refused it
    with "metadata.labels.tenant: missing" (exit 2). Lint now reports each Channel that lacks tenant, channel or
    version, or has one empty (an absent subset is written as stable), as an error, the verdict export gives."""
    design = tmp_path / "design.yaml"
    design.write_text(
        "apiVersion: lmos.eclipse/v1\nkind: Channel\nmetadata: {name: c}\nspec: {requiredCapabilities: []}\n"
    )
    lint = run_cli("lint", str(design), "-o", "json")
    assert lint.returncode == 1, lint.stderr
    (finding,) = [f for f in json.loads(lint.stdout)["findings"] if f["code"] == "missing-channel-label"]
    assert finding["severity"] == "error" and finding["objects"] == ["channel:default/c"]
    assert "Channel default/c lacks the labels tenant, channel, version" in finding["message"], finding

    def labelled(labels: dict[str, str]) -> Design:
        return base().replace(channels=(channel("acme-web", ("view-bill", "*")).model_copy(update={"labels": labels}),))

    three = {"tenant": "acme", "channel": "web", "version": "1.0.0"}
    assert "missing-channel-label" not in codes(labelled(three))  # no subset: export writes stable
    (found,) = codes(labelled({**three, "subset": ""}))["missing-channel-label"]  # empty: export refuses it
    assert "lacks the label subset:" in found.message


def test_an_out_of_scope_message_that_a_routing_test_expects_an_agent_for_is_reported() -> None:
    test = RoutingTest(query="book a flight", channel="acme-web", expect_agent="billing")
    listed = RoutingSettings(out_of_scope=(OutOfScopeExample(text="book a flight"),))
    (finding,) = codes(base(routing_tests=(test,), routing=listed))["out-of-scope-conflict"]
    assert finding.objects == ("routing-test:acme-web: book a flight",)  # listed for every channel: no channel node
    assert "routing test 1, which expects billing" in finding.message and "the test fails" in finding.message
    elsewhere = RoutingSettings(out_of_scope=(OutOfScopeExample(text="book a flight", channel="acme-ivr"),))
    assert "out-of-scope-conflict" not in codes(base(routing_tests=(test,), routing=elsewhere))
    no_agent = RoutingTest(query="book a flight", channel="acme-web")
    assert lint_design(base(routing_tests=(no_agent,), routing=listed)) == []  # a test expecting no agent agrees


def test_every_code_has_a_trigger() -> None:
    assert set(TRIGGERS) == set(CODES)


@pytest.mark.parametrize("code", CODES)
def test_code_triggers(code: str) -> None:
    clean = base()
    assert code not in codes(clean)
    found = codes(TRIGGERS[code](clean))
    assert code in found, found
    finding = found[code][0]
    assert finding.severity in ("error", "warning", "info")
    assert finding.objects and finding.message and finding.fix


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda d: d.replace(channels=(channel("acme-web", ("view-bill", ">=2.0.0")),)), "version"),
        (lambda d: d.replace(channels=(channel("acme-web", ("refund", "*")),)), "name"),
        (lambda d: d.replace(channels=(channel("globex-web", ("view-bill", "*"), tenant="globex"),)), "tenant"),
        (lambda d: d.replace(channels=(channel("acme-ivr", ("view-bill", "*"), label="ivr"),)), "channel"),
        (lambda d: d.replace(channels=(channel("acme-web-canary", ("view-bill", "*"), subset="canary"),)), "subset"),
    ],
)
def test_unresolved_says_why(change: Callable[[Design], Design], why: str) -> None:
    (finding,) = codes(change(base()))["unresolved-capability"]
    assert f"unresolved because of {why}:" in finding.message
    assert finding.severity == "error"


def test_ambiguity_quotes_the_crossing_examples() -> None:
    (finding,) = codes(TRIGGERS["ambiguous-capabilities"](base()))["ambiguous-capabilities"]
    assert "4 of their examples are as near to the other's" in finding.message
    assert '"show my bill" ~ "show my bill" (1.00)' in finding.message
    assert "channel:default/acme-web" in finding.objects


def test_canary_rollout_channel_counts_as_canary() -> None:
    design = base(
        channels=(*base().channels, channel("acme-web-next", ("view-bill", "*"), label="chat")),
        rollouts=(ChannelRollout(name="r", canary_channel="acme-web-next", stable_channel="acme-web"),),
    )
    assert "canary-without-agents" in codes(design)


@pytest.mark.parametrize(
    ("stable", "canary"),
    [(("acme-web", 90), ("acme-web-next", 10)), (("acme-web", 80), ("acme-web-canary", 30)), (("x", 150), ("y", -50))],
)
def test_lint_reports_a_broken_rollout_as_canary_does(stable: tuple[str, int], canary: tuple[str, int]) -> None:
    # lint used to say nothing of a broken ChannelRollout: the design linted clean, then `canary` refused it
    from lmos_studio.canary import canary_findings

    canary_channel = channel("acme-web-canary", ("view-bill", "*"), subset="canary")
    billing_twin = agent("billing-canary", cap("view-bill"), subset="canary")
    design = base(
        agents=(*base().agents, billing_twin),
        channels=(*base().channels, canary_channel),
        rollouts=(rollout(*stable, *canary),),
    )
    found = [f for f in lint_design(design) if f.code.startswith("rollout-")]
    said = canary_findings(design)
    prefix = "ChannelRollout default/acme-web-rollout: "
    assert said and {(f.code, f.severity, f.message) for f in found} == {
        (f.code, f.severity, prefix + f.message) for f in said
    }
    assert all(f.objects[0] == "rollout:default/acme-web-rollout" and f.fix for f in found)
    fine = design.replace(rollouts=(rollout("acme-web", 90, "acme-web-canary", 10),))
    assert canary_findings(fine) == [] and not [f for f in lint_design(fine) if f.code.startswith("rollout-")]


@pytest.mark.parametrize(
    ("test", "said", "fix"),
    [
        (
            RoutingTest(query="show my bill", channel="acme-web", expect_agent="ghost", name="bill"),
            "Routing test 'bill': expectAgent 'ghost' is not an agent of channel default/acme-web (its agents: "
            "billing, contract): the test can never pass",
            "fix the agent's name or the test's channel",
        ),
        (
            RoutingTest(query="show my bill", channel="acme-web", expect_agent="billing", expect_capability="refund"),
            "Routing test 'acme-web: show my bill': expectCapability 'refund' is not a capability of billing in "
            "channel default/acme-web (it has: view-bill): the test can never pass",
            "fix the capability's name",
        ),
        (
            RoutingTest(query="show my bill", channel="acme-mobile", expect_agent="billing"),
            "Routing test 'acme-mobile: show my bill': channel 'acme-mobile' is not a Channel of this design; use one "
            "of: default/acme-web: the test can never pass",
            "name one of the design's Channels in the test's channel (namespace/name when a name is ambiguous), or "
            "leave it empty to route over all agents",
        ),
    ],
)
def test_a_routing_test_that_can_never_pass_is_an_error(test: RoutingTest, said: str, fix: str) -> None:
    # lint said nothing of a routing test naming an agent, capability or channel the design does not have:
    # the design linted clean, then `lmos-studio test` failed it with an error
    (finding,) = lint_design(base(routing_tests=(test,)))
    assert (finding.code, finding.severity, finding.message, finding.fix) == (
        "routing-test-unreachable",
        "error",
        said,
        fix,
    )
    name = said.split("'")[1]
    assert finding.objects[0] == f"routing-test:{name}"


def test_routing_tests_that_can_pass_are_not_findings() -> None:
    tests = (
        RoutingTest(query="show my bill", channel="acme-web", expect_agent="billing", expect_capability="view-bill"),
        RoutingTest(query="tell me a joke", channel="acme-web"),  # no agent expected
        RoutingTest(query="notice period", expect_agent="contract"),  # all agents
    )
    assert lint_design(base(routing_tests=tests)) == []


def test_the_same_routing_test_twice_is_a_warning() -> None:
    (finding,) = codes(TRIGGERS["routing-test-duplicate"](base()))["routing-test-duplicate"]
    assert finding.severity == "warning"
    assert finding.message == (
        "Routing test 2 ('default/acme-web: show my bill') repeats routing test 1: the same query in channel "
        "default/acme-web with the same expectations"
    )
    assert finding.fix == "remove the copy, or change its query or expectations"
    other = RoutingTest(query="show my bill", channel="acme-web", expect_agent="billing", expect_capability="view-bill")
    assert lint_design(base(routing_tests=(TRIGGERS["routing-test-duplicate"](base()).routing_tests[0], other))) == []


def test_trust_capability_not_provided() -> None:
    design = base(trust_edges=(TrustEdge(caller="contract", callee="billing", capabilities=("pay-bill",)),))
    (finding,) = codes(design)["unknown-trust-target"]
    assert "does not provide pay-bill" in finding.message and "capability:pay-bill" in finding.objects


def test_invalid_names_cover_agents_channels_and_labels() -> None:
    design = base(
        agents=(*base().agents, agent("Bad_Name", cap("view-bill"))),
        channels=(channel("acme-web", ("view-bill", "*"), label="chat app"),),
    )
    objects = {f.objects[0] for f in codes(design)["invalid-name"]}
    assert objects == {"agent:default/Bad_Name", "channel:default/acme-web"}


def test_a_tenant_written_as_a_wildcard_is_told_to_leave_the_list_empty() -> None:
    # the operator compares tenants as plain strings ("*" is no wildcard) and serves every tenant when the list is
    # empty (AgentResourcesFilter): the fix says so, not "write it as 'unnamed'"
    star = agent("star", cap("view-bill"), tenants=("*",))
    (finding,) = codes(base(agents=(*base().agents, star)))["invalid-name"]
    assert "tenant '*'" in finding.message
    assert finding.fix == "leave supportedTenants empty to serve every tenant (the operator has no wildcard)"


def test_an_agent_name_starting_with_a_digit_cannot_be_its_service_name() -> None:
    # the runtime calls <agent>.<namespace>.svc.cluster.local, and a Service name is an RFC 1035 label
    design = base(agents=(*base().agents, agent("1billing", cap("view-bill"))))
    (finding,) = codes(design)["invalid-name"]
    assert finding.objects == ("agent:default/1billing",) and "start with a letter" in finding.message
    # the message names the rule applied (RFC 1035), not RFC 1123, which allows a leading digit
    assert finding.message == "Agent name (a Service host name, RFC 1035 label) '1billing' must start with a letter"
    assert finding.fix == "rename it, e.g. 'agent-1billing'"


def test_samples() -> None:
    from lmos_studio.formats.design_file import read_design

    found = lint_design(read_design(ACME))
    # The only findings: the operator fixture lists "download my latest invoice" as a view-bill example, so
    # view-bill and download-bill cross over in every channel that wires both (a real ambiguity).
    assert {f.code for f in found} == {"ambiguous-capabilities"}
    assert all("view-bill" in f.message and "download-bill" in f.message for f in found)
    assert any('"download my latest invoice" ~ "download my latest bill"' in f.message for f in found)
    assert {f.code for f in lint_design(read_design(SAMPLES / "faulty.yaml"))} == set(CODES)


def test_synthetic_design_lints() -> None:
    found = lint_design(synthetic_design(300, 15, 15, 600))
    assert {f.code for f in found} <= set(CODES)


def _pair_findings(design: Design) -> list[tuple[str, tuple[str, ...], str]]:
    """cross-tenant-trust and protocol-mismatch as the rule says, pair by pair over `expand_trust` (the
    definition; lint checks an edge's pairs as it makes them and keeps only what a finding names)."""
    by_key = {a.key: a for a in design.agents}
    bad: dict[str, dict[str, list[str]]] = {"cross-tenant-trust": {}, "protocol-mismatch": {}}
    edges = {}
    for pair in expand_trust(design):
        caller, callee = by_key[pair.caller], by_key[pair.callee]
        edges[pair.edge.key] = pair.edge
        mine, theirs = set(caller.supported_tenants), set(callee.supported_tenants)
        if mine and theirs and not mine & theirs:
            bad["cross-tenant-trust"].setdefault(pair.edge.key, []).append(f"{caller.name}→{callee.name}")
        ours, others = set(caller.protocols), set(callee.protocols)
        wanted = pair.protocol
        ok = not others or (
            (wanted in others and (not ours or wanted in ours)) if wanted else (not ours or bool(ours & others))
        )
        if not ok:
            bad["protocol-mismatch"].setdefault(pair.edge.key, []).append(
                f"{caller.name} [{', '.join(caller.protocols)}]→{callee.name} [{', '.join(callee.protocols)}]"
            )
    found = []
    for code, by_edge in bad.items():
        for key, pairs in by_edge.items():
            shown = ", ".join(pairs[:5]) + (f" and {len(pairs) - 5} more" if len(pairs) > 5 else "")
            over = f" over {edges[key].protocol}" if edges[key].protocol else ""
            message = (
                f"trust edge {key} lets agents that share no tenant call each other: {shown}"
                if code == "cross-tenant-trust"
                else f"trust edge {key}{over}: caller and callee share no protocol: {shown}"
            )
            found.append((code, (f"trust:{key}",), message))
    return found


def test_trust_findings_are_those_of_every_pair() -> None:
    """Groups and channels with many members (more than MAX_LISTED pairs), self pairs, two edges with one key
    (different protocols), unknown refs, members that do not exist: lint's pass over the edges says what
    checking every pair of `expand_trust` says, in the same order."""
    from lmos_studio.lint import lint_design as lint_only
    from lmos_studio.lint import trust_findings
    from lmos_studio.trust import RefIndex, safe_resolutions

    design = synthetic_design(120, 6, 8, 300)
    agents = list(design.agents)
    for i in range(0, len(agents), 7):  # some agents speak only mqtt, some serve every tenant
        agents[i] = agents[i].model_copy(update={"endpoints": (Endpoint(protocol="mqtt"),)})
    for i in range(3, len(agents), 11):
        agents[i] = agents[i].model_copy(update={"supported_tenants": ()})
    for i in range(1, len(agents), 4):
        agents[i] = agents[i].model_copy(update={"supported_tenants": ("globex", "initech")})
    names = [a.name for a in agents]
    channel_name = design.channels[0].name
    extra = (
        TrustEdge(caller=f"group:{design.groups[0].name}", callee=f"group:{design.groups[1].name}"),
        TrustEdge(caller=f"group:{design.groups[0].name}", callee=f"group:{design.groups[1].name}", protocol="a2a"),
        TrustEdge(caller=f"channel:{channel_name}", callee=f"channel:{channel_name}", protocol="http"),
        TrustEdge(caller=names[0], callee=names[0]),
        TrustEdge(caller="ghost", callee=names[1]),
        TrustEdge(caller=names[2], callee="group:nope", capabilities=("x",)),
        TrustEdge(caller=names[3], callee=names[4], capabilities=("not-offered", "x")),
    )
    groups = (*design.groups, Group(name="half-gone", members=(names[5], "missing-agent")))
    design = design.replace(agents=tuple(agents), trust_edges=(*design.trust_edges, *extra), groups=groups)
    found = trust_findings(design, RefIndex(design, safe_resolutions(design)))
    pairs = [f for f in found if f.code not in ("unknown-trust-target", "self-trust")]
    assert [(f.code, f.objects, f.message) for f in pairs] == _pair_findings(design)
    assert [f.objects for f in found if f.code == "self-trust"] == [(f"trust:{names[0]}->{names[0]}",)]
    assert {f.code for f in pairs} == {"cross-tenant-trust", "protocol-mismatch"}
    assert any(" more" in f.message for f in pairs)
    unknown = [f.message for f in found if f.code == "unknown-trust-target"]
    assert unknown == [
        f"trust edge ghost->{names[1]}: caller 'ghost' names no agent, group or channel",
        f"trust edge {names[2]}->group:nope[x]: callee 'group:nope' names no agent, group or channel",
        f"trust edge {names[3]}->{names[4]}[not-offered,x]: {names[4]} does not provide not-offered, x",
    ]
    every = lint_only(design)
    old_order = sorted(every, key=lambda f: (CODES.index(f.code) + 100 * (f.severity != "error"), f.objects, f.message))
    assert every == old_order


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The CLI in-process (same code path as the console script, minus interpreter start-up)."""
    from lmos_studio.cli import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_lint_json_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "lint", str(SAMPLES / "faulty.yaml"), "--output", "json")
    assert code == 1, err
    data = json.loads(out)
    assert {f["code"] for f in data["findings"]} == set(CODES)
    assert all(set(f) == {"code", "severity", "objects", "message", "fix"} for f in data["findings"])
    code, out, _ = cli(capsys, "lint", str(ACME))
    assert code == 0 and "ambiguous-capabilities" in out  # warnings only: exit 0
    code, out, _ = cli(capsys, "lint", str(SAMPLES / "faulty.yaml"))
    assert code == 1 and "unresolved-capability" in out and "SEVERITY" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: [unclosed\n")
    code, _, err = cli(capsys, "lint", str(bad))
    assert code == 2 and "bad.yaml" in err and "Traceback" not in err
    assert cli(capsys, "lint", str(ACME), "--output", "yaml")[0] == 2


def test_cli_lint_fails_on_a_routing_test_that_can_never_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from lmos_studio.formats.design_file import write_design

    path = tmp_path / "design.yaml"
    write_design(
        base(routing_tests=(RoutingTest(query="show my bill", channel="acme-web", expect_agent="ghost"),)), path
    )
    code, out, err = cli(capsys, "lint", str(path), "-o", "json")
    assert code == 1, err
    (finding,) = json.loads(out)["findings"]
    assert finding["code"] == "routing-test-unreachable" and "expectAgent 'ghost'" in finding["message"]
    write_design(
        base(routing_tests=(RoutingTest(query="show my bill", channel="acme-web", expect_agent="billing"),)), path
    )
    assert cli(capsys, "lint", str(path))[0] == 0


def test_cli_graph_writes_html_and_dot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    html, dot = tmp_path / "g.html", tmp_path / "g.dot"
    code, _, err = cli(capsys, "graph", str(SAMPLES / "faulty.yaml"), "--html", str(html), "--dot", str(dot))
    assert code == 0, err
    assert "vis.Network" in html.read_text() and dot.read_text().startswith("digraph")
    code, out, _ = cli(capsys, "graph", str(ACME))
    assert code == 0 and out.startswith('digraph "acme"')


def test_console_entry_point() -> None:
    result = run_cli("lint", str(SAMPLES / "faulty.yaml"), "-o", "json")
    assert result.returncode == 1 and json.loads(result.stdout)["findings"]


PARCEL = (
    agent(
        "parcel-agent",
        cap("track-parcel", description="Tracks parcels", examples=("where is my parcel", "track my parcel")),
    ),
    agent(
        "package-agent",
        cap("track-package", description="Follows a package", examples=("where is my package", "track my package")),
    ),
)


@pytest.mark.parametrize("method", ["lexicon", "auto"])
def test_different_words_for_the_same_thing_are_ambiguous(method: str) -> None:
    design = base().replace(
        agents=PARCEL,
        channels=(channel("acme-web", ("track-parcel", "*"), ("track-package", "*")),),
        groups=(),
        trust_edges=(),
    )
    found = [f for f in lint_design(design, method=method) if f.code == "ambiguous-capabilities"]
    assert len(found) == 1, found
    assert "track-parcel (parcel-agent) and track-package (package-agent)" in found[0].message
    assert '"where is my parcel" ~ "where is my package"' in found[0].message


def test_a_trust_edge_of_an_agent_to_itself_is_named() -> None:
    """An agent's trust edge to itself loaded without any finding, though it pairs no two agents (export leaves
    self pairs out: no policy comes of it). It is a `self-trust` warning now, once per edge key; so is a group
    of that one agent to it. A group of two to itself pairs its members: no finding."""
    design = base(
        groups=(Group(name="just-billing", members=("billing",)), Group(name="both", members=("billing", "contract"))),
        trust_edges=(
            TrustEdge(caller="billing", callee="billing", protocol="http"),
            TrustEdge(caller="billing", callee="billing", protocol="a2a"),  # same key, another protocol
            TrustEdge(caller="group:just-billing", callee="billing"),
            TrustEdge(caller="group:both", callee="group:both"),
            TrustEdge(caller="contract", callee="billing", capabilities=("view-bill",), protocol="http"),
        ),
    )
    found = codes(design).get("self-trust", [])
    assert [(f.objects, f.severity) for f in found] == [
        (("trust:billing->billing",), "warning"),
        (("trust:group:just-billing->billing",), "warning"),
    ]
    assert "only lets billing call itself" in found[0].message and "remove the edge" in found[0].fix
