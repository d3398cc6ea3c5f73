"""Conformance: LMOS.md §1.11 cases A–C against the operator's own fixtures, through the library and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lmos_studio.errors import VersionError
from lmos_studio.formats.design_file import read_design
from lmos_studio.model import Agent, Capability, Channel, Design, RequiredCapability
from lmos_studio.resolve import Resolution, channel_routing, channel_status, resolve_channel
from tests.conftest import REFERENCE, run_cli

OPERATOR = REFERENCE / "lmos-operator"


def fixture(name: str) -> Design:
    return read_design(OPERATOR / name)


def agents(*names: str) -> tuple[Agent, ...]:
    return tuple(a for n in names for a in fixture(n).agents)


def channel(name: str) -> Channel:
    return fixture(name).channels[0]


def groups(resolution: Resolution) -> dict[str, dict[str, str]]:
    """group name → {capability name: providedVersion} of the generated ChannelRouting."""
    routing = channel_routing(resolution)
    return {
        g["name"]: {c["name"]: c["providedVersion"] for c in g["capabilities"]}
        for g in routing["spec"]["capabilityGroups"]
    }


BILLING_V1, BILLING_V2 = "acme-billing-agent-v1.yaml", "acme-billing-agent-v2.yaml"
CONTRACT_V1, CONTRACT_V2 = "acme-contract-agent-v1.yaml", "acme-contract-agent-v2.yaml"
IVR_V1, IVR_V2, WEB_V1, GLOBEX = (
    "acme-ivr-channel-v1.yaml",
    "acme-ivr-channel-v2.yaml",
    "acme-web-channel-v1.yaml",
    "globex-web-channel-v1.yaml",
)


def test_a1_routing_is_exactly_what_the_operator_generates() -> None:
    resolution = resolve_channel(channel(IVR_V1), agents(BILLING_V1, CONTRACT_V1))
    assert channel_status(resolution) == {"resolveStatus": "RESOLVED", "unresolvedRequiredCapabilities": []}
    host = "billing-agent-stable.default.svc.cluster.local"
    assert channel_routing(resolution) == {
        "apiVersion": "lmos.eclipse/v1",
        "kind": "ChannelRouting",
        "metadata": {
            "name": "acme-ivr-stable",
            "namespace": "default",
            "labels": {"channel": "ivr", "tenant": "acme", "version": "1.0.0", "subset": "stable"},
            "ownerReferences": [{"apiVersion": "lmos.eclipse/v1", "kind": "Channel", "name": "acme-ivr-stable"}],
        },
        "spec": {
            "capabilityGroups": [
                {
                    "id": "billing-agent-stable-id",
                    "name": "billing-agent-stable",
                    "description": "This is the billing agent description",
                    "capabilities": [
                        {
                            "id": "view-bill-id",
                            "name": "view-bill",
                            "requiredVersion": "1.0.0",
                            "providedVersion": "1.0.0",
                            "description": "Capability to view a bill",
                            "host": host,
                        },
                        {
                            "id": "download-bill-id",
                            "name": "download-bill",
                            "requiredVersion": ">=1.0.0",
                            "providedVersion": "1.1.0",
                            "description": "Capability to download a bill",
                            "host": host,
                        },
                    ],
                },
                {
                    "id": "",
                    "name": "contract-agent",
                    "description": "This is the contract agent description",
                    "capabilities": [
                        {
                            "id": "view-contract-id",
                            "name": "view-contract",
                            "requiredVersion": ">=1.0.0",
                            "providedVersion": "1.1.0",
                            "description": "Capability to view a contract",
                            "host": "contract-agent.default.svc.cluster.local",
                        }
                    ],
                },
            ]
        },
    }


def test_a2_missing_contract_agent_gives_a_partial_routing() -> None:
    resolution = resolve_channel(channel(WEB_V1), agents(BILLING_V1))
    status = channel_status(resolution)
    assert status["resolveStatus"] == "UNRESOLVED"
    assert status["unresolvedRequiredCapabilities"] == [
        {"id": "", "name": "view-contract", "version": ">=1.0.0", "strategy": "HIGHEST"}
    ]
    assert groups(resolution) == {"billing-agent-stable": {"view-bill": "1.0.0", "download-bill": "1.1.0"}}


def test_a3_tenant_mismatch_is_unresolved_with_an_empty_routing() -> None:
    resolution = resolve_channel(channel(GLOBEX), agents(BILLING_V1))
    assert resolution.status == "UNRESOLVED"
    assert [u.required.name for u in resolution.unresolved] == ["view-bill"]
    assert channel_routing(resolution)["spec"]["capabilityGroups"] == []
    assert "tenant" in resolution.unresolved[0].reason


def test_a4_applying_the_contract_agent_later_resolves() -> None:
    before = resolve_channel(channel(IVR_V1), agents(BILLING_V1))
    assert before.status == "UNRESOLVED" and "contract-agent" not in groups(before)
    after = resolve_channel(channel(IVR_V1), agents(BILLING_V1, CONTRACT_V1))
    assert after.status == "RESOLVED"
    assert groups(after)["contract-agent"] == {"view-contract": "1.1.0"}


@pytest.mark.parametrize("contract", [(), (CONTRACT_V2,)], ids=["a5-deleted", "a6-capability-removed"])
def test_a5_a6_losing_view_contract_unresolves(contract: tuple[str, ...]) -> None:
    resolution = resolve_channel(channel(IVR_V1), agents(BILLING_V1, *contract))
    assert resolution.status == "UNRESOLVED"
    assert set(groups(resolution)) == {"billing-agent-stable"}
    assert groups(resolution)["billing-agent-stable"] == {"view-bill": "1.0.0", "download-bill": "1.1.0"}


def test_a7_billing_update_raises_download_bill() -> None:
    resolution = resolve_channel(channel(IVR_V1), agents(BILLING_V2, CONTRACT_V1))
    assert resolution.status == "RESOLVED"
    assert groups(resolution)["billing-agent-stable"]["download-bill"] == "1.2.0"


def test_b1_web_channel_resolves_like_a1() -> None:
    resolution = resolve_channel(channel(WEB_V1), agents(BILLING_V1, CONTRACT_V1))
    assert resolution.status == "RESOLVED"
    assert groups(resolution) == {
        "billing-agent-stable": {"view-bill": "1.0.0", "download-bill": "1.1.0"},
        "contract-agent": {"view-contract": "1.1.0"},
    }


def test_b2_only_contract_agent() -> None:
    resolution = resolve_channel(channel(IVR_V1), agents(CONTRACT_V1))
    assert [u.required.name for u in resolution.unresolved] == ["view-bill", "download-bill"]
    assert groups(resolution) == {"contract-agent": {"view-contract": "1.1.0"}}


@pytest.mark.parametrize("name", [IVR_V1, IVR_V2, WEB_V1, GLOBEX])
def test_b3_no_agents_leaves_every_requirement_unresolved(name: str) -> None:
    resolution = resolve_channel(channel(name), ())
    assert resolution.status == "UNRESOLVED"
    assert len(resolution.unresolved) == len(channel(name).required_capabilities)
    assert groups(resolution) == {}


def test_b4_canary_channel_sees_no_stable_agents() -> None:
    resolution = resolve_channel(channel(IVR_V2), agents(BILLING_V1, BILLING_V2, CONTRACT_V1))
    assert [u.required.name for u in resolution.unresolved] == ["view-bill", "download-bill", "view-contract"]
    assert groups(resolution) == {}


def renamed(agent: Agent, name: str) -> Agent:
    return agent.model_copy(update={"name": name})


def test_b5_equal_versions_go_to_the_first_agent_by_name_and_highest_wins() -> None:
    b1, b2 = renamed(agents(BILLING_V1)[0], "b1"), renamed(agents(BILLING_V2)[0], "b2")
    resolution = resolve_channel(channel(IVR_V1), (b2, b1, *agents(CONTRACT_V1)))  # order given must not matter
    assert resolution.status == "RESOLVED"
    assert groups(resolution) == {
        "b1": {"view-bill": "1.0.0"},
        "b2": {"download-bill": "1.2.0"},
        "contract-agent": {"view-contract": "1.1.0"},
    }


def test_b6_most_similar_takes_the_lowest_satisfying_version() -> None:
    b1, b2 = renamed(agents(BILLING_V1)[0], "b1"), renamed(agents(BILLING_V2)[0], "b2")
    ivr = channel(IVR_V1)
    reqs = tuple(
        r.model_copy(update={"strategy": "MOST_SIMILAR"}) if r.name == "download-bill" else r
        for r in ivr.required_capabilities
    )
    resolution = resolve_channel(ivr.model_copy(update={"required_capabilities": reqs}), (b1, b2, *agents(CONTRACT_V1)))
    assert resolution.provider("download-bill").agent.name == "b1"  # type: ignore[union-attr]
    assert resolution.provider("download-bill").provided.version == "1.1.0"  # type: ignore[union-attr]


def test_b7_canary_labelled_agent_is_filtered_out_of_a_stable_channel() -> None:
    billing = agents(BILLING_V1)[0]
    canary = billing.model_copy(update={"labels": {**billing.labels, "subset": "canary"}})
    resolution = resolve_channel(channel(IVR_V1), (canary,))
    assert len(resolution.unresolved) == 3 and groups(resolution) == {}
    assert "subset" in resolution.unresolved[0].reason


def test_b8_empty_tenant_list_means_every_tenant() -> None:
    billing = agents(BILLING_V1)[0].model_copy(update={"supported_tenants": ()})
    resolution = resolve_channel(channel(GLOBEX), (billing,))
    assert resolution.status == "RESOLVED"
    assert groups(resolution) == {"billing-agent-stable": {"view-bill": "1.0.0"}}


def test_b9_empty_channel_list_means_no_channel() -> None:
    billing = agents(BILLING_V1)[0].model_copy(update={"supported_channels": ()})
    resolution = resolve_channel(channel(WEB_V1), (billing,))
    assert len(resolution.unresolved) == 3
    assert "supportedChannels is empty" in resolution.unresolved[0].reason


def test_b10_non_semver_provided_version_is_a_reconcile_error_naming_everything() -> None:
    contract = agents(CONTRACT_V1)[0]
    caps = tuple(
        c.model_copy(update={"version": "1.1"}) if c.name == "view-contract" else c for c in contract.capabilities
    )
    with pytest.raises(VersionError) as err:
        resolve_channel(channel(IVR_V1), (*agents(BILLING_V1), contract.model_copy(update={"capabilities": caps})))
    message = str(err.value)
    assert "contract-agent" in message and "view-contract" in message and "'1.1'" in message
    assert err.value.value == "1.1" and err.value.capability == "view-contract"


def test_b10_from_a_file_names_the_file(tmp_path: Path) -> None:
    text = (OPERATOR / CONTRACT_V1).read_text().replace("version: 1.1.0", "version: 1.1", 1)
    (tmp_path / "contract.yaml").write_text(text)
    (tmp_path / "ivr.yaml").write_text((OPERATOR / IVR_V1).read_text())
    result = run_cli("resolve", str(tmp_path), "--output", "json")
    assert result.returncode == 1, result.stderr  # that Channel's reconcile fails, not the command
    assert "contract.yaml" in result.stderr and "view-contract" in result.stderr and "'1.1'" in result.stderr
    assert "Traceback" not in result.stderr


# C: the Kotlin unit cases (no metadata, so no filtering is involved beyond tenants/channels).
def unit_agent(name: str, *caps: tuple[str, str]) -> Agent:
    return Agent(
        name=name,
        id="agentId",
        supported_tenants=("tenant1",),
        supported_channels=("channel1",),
        capabilities=tuple(Capability(name=n, id=f"{n}Id", version=v) for n, v in caps),
    )


def unit_channel(*reqs: tuple[str, str], strategy: str = "HIGHEST") -> Channel:
    return Channel(
        name="c",
        labels={"tenant": "tenant1", "channel": "channel1"},
        required_capabilities=tuple(
            RequiredCapability(name=n, version=v, strategy=strategy)  # type: ignore[arg-type]
            for n, v in reqs
        ),
    )


@pytest.mark.parametrize(
    ("provided", "required", "wired"),
    [
        (["1.0.0"], "1.0.0", ["a0"]),
        (["1.1.0"], ">=1.0.0", ["a0"]),
        (["1.0.0"], "1.1.0", []),
        (["1.0.0", "1.2.0", "1.1.0"], ">=1.1.0", ["a1"]),  # HIGHEST picks one
        (["1.1.0", "1.1.0"], "1.1.0", ["a0"]),  # equal wires: the first
    ],
)
def test_c_single_capability(provided: list[str], required: str, wired: list[str]) -> None:
    pool = [unit_agent(f"a{i}", ("Capability1", v)) for i, v in enumerate(provided)]
    resolution = resolve_channel(unit_channel(("Capability1", required)), pool)
    assert [w.agent.name for w in resolution.wires] == wired
    assert resolution.resolved == bool(wired)


def test_c_wrong_name_and_one_of_two_missing() -> None:
    pool = [unit_agent("a", ("Capability1", "1.1.0"))]
    assert not resolve_channel(unit_channel(("Nonexistent Capability", "1.0.0")), pool).wires
    resolution = resolve_channel(unit_channel(("Capability1", "1.1.0"), ("Capability2", "1.2.0")), pool)
    assert [u.required.name for u in resolution.unresolved] == ["Capability2"]


def test_c_highest_and_most_similar_with_two_capabilities() -> None:
    pool = [
        unit_agent("agent1", ("Capability1", "1.1.0"), ("Capability2", "1.2.0")),
        unit_agent("agent2", ("Capability1", "1.0.0"), ("Capability2", "1.1.0")),
    ]
    resolution = resolve_channel(unit_channel(("Capability1", "1.1.0"), ("Capability2", ">=1.1.0")), pool)
    assert [w.agent.name for w in resolution.wires] == ["agent1", "agent1"]
    pool = [
        unit_agent("agent1", ("Capability1", "1.2.0"), ("Capability2", "1.2.0")),
        unit_agent("agent2", ("Capability1", "1.1.5"), ("Capability2", "1.1.1")),
    ]
    resolution = resolve_channel(
        unit_channel(("Capability1", ">=1.1.0"), ("Capability2", ">=1.1.0"), strategy="MOST_SIMILAR"), pool
    )
    assert [w.agent.name for w in resolution.wires] == ["agent2", "agent2"]


@pytest.mark.parametrize(("strategy", "expected"), [("HIGHEST", "1.3.0"), ("MOST_SIMILAR", "1.0.1")])
def test_c_capability_resolver(strategy: str, expected: str) -> None:
    versions = ["1.2.0", "1.3.0", "1.1.0"] if strategy == "HIGHEST" else ["1.2.0", "1.0.1", "1.1.0"]
    pool = [unit_agent(f"a{i}", ("Capability1", v)) for i, v in enumerate(versions)]
    resolution = resolve_channel(unit_channel(("Capability1", ">=1.0.0"), strategy=strategy), pool)
    assert [w.provided.version for w in resolution.wires] == [expected]


def test_c_empty_requirements_need_a_candidate() -> None:
    empty = Channel(name="c", labels={"tenant": "tenant1", "channel": "channel1"})
    assert resolve_channel(empty, []).status == "UNRESOLVED"
    assert resolve_channel(empty, [unit_agent("a", ("Capability1", "1.0.0"))]).status == "RESOLVED"


def test_c_generator_metadata_copies_labels_and_owner() -> None:
    channel_ = Channel(
        name="testChannel",
        namespace="testNamespace",
        labels={"channel": "c", "tenant": "t", "version": "1.0", "subset": "stable"},
    )
    routing = channel_routing(resolve_channel(channel_, []))
    assert routing["metadata"]["name"] == "testChannel" and routing["metadata"]["namespace"] == "testNamespace"
    assert routing["metadata"]["labels"] == {"channel": "c", "tenant": "t", "version": "1.0", "subset": "stable"}
    assert routing["metadata"]["ownerReferences"][0]["name"] == "testChannel"


def test_missing_labels_are_copied_as_null() -> None:
    routing = channel_routing(resolve_channel(Channel(name="bare"), []))
    assert routing["metadata"]["labels"] == {"channel": None, "tenant": None, "version": None, "subset": None}


def test_agents_in_another_namespace_are_not_candidates() -> None:
    billing = agents(BILLING_V1)[0].model_copy(update={"namespace": "other"})
    resolution = resolve_channel(channel(IVR_V1), (billing,))
    assert resolution.status == "UNRESOLVED"
    assert "namespace" in resolution.unresolved[0].reason


def test_ecosystem_demo_channels_resolve_with_the_sample_agents() -> None:
    design = read_design(Path(__file__).parent.parent / "sample_networks" / "acme")
    for ch in design.channels:
        if ch.namespace == "lmos-demo":
            assert resolve_channel(ch, design.agents).status == "RESOLVED", ch.name


def test_cli_contract_on_a1(tmp_path: Path) -> None:
    for name in (BILLING_V1, CONTRACT_V1, IVR_V1):
        (tmp_path / name).write_text((OPERATOR / name).read_text())
    result = run_cli("resolve", str(tmp_path), "--output", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    [entry] = data["channels"]
    assert set(entry) == {"name", "namespace", "labels", "status", "routing"}
    assert entry["name"] == "acme-ivr-stable" and entry["namespace"] == "default"
    assert entry["status"] == {"resolveStatus": "RESOLVED", "unresolvedRequiredCapabilities": []}
    assert entry["routing"]["kind"] == "ChannelRouting"
    assert [g["name"] for g in entry["routing"]["spec"]["capabilityGroups"]] == [
        "billing-agent-stable",
        "contract-agent",
    ]


def test_cli_exit_1_when_unresolved(tmp_path: Path) -> None:
    for name in (BILLING_V1, WEB_V1):
        (tmp_path / name).write_text((OPERATOR / name).read_text())
    result = run_cli("resolve", str(tmp_path), "-o", "json")
    assert result.returncode == 1
    status = json.loads(result.stdout)["channels"][0]["status"]
    assert status["unresolvedRequiredCapabilities"] == [
        {"id": "", "name": "view-contract", "version": ">=1.0.0", "strategy": "HIGHEST"}
    ]


def test_the_whole_fixture_folder_applies_later_files_over_earlier(reference: Path) -> None:
    """Applying every fixture in name order: v2 agents replace v1 (A6 + A7 at once), warnings say so."""
    result = run_cli("resolve", str(reference / "lmos-operator"), "-o", "json")
    assert result.returncode == 1
    assert "appears again" in result.stderr
    channels = {c["name"]: c for c in json.loads(result.stdout)["channels"]}
    ivr = channels["acme-ivr-stable"]
    assert ivr["status"]["resolveStatus"] == "UNRESOLVED"  # contract-v2 dropped view-contract
    caps = {
        c["name"]: c["providedVersion"] for g in ivr["routing"]["spec"]["capabilityGroups"] for c in g["capabilities"]
    }
    assert caps == {"view-bill": "1.0.0", "download-bill": "1.2.0"}


def test_duplicate_requirements_count_once_as_in_the_operator() -> None:
    """ChannelSpec.requiredCapabilities is a Kotlin Set of data classes: equal entries collapse."""
    base = channel("acme-ivr-channel-v1.yaml")
    missing = RequiredCapability(name="view-contract", version=">=1.0.0")
    twice = base.model_copy(update={"required_capabilities": (*base.required_capabilities, missing, missing)})
    resolution = resolve_channel(twice, agents(BILLING_V1))
    assert [u.required.name for u in resolution.unresolved] == ["view-contract"]
    assert len(channel_status(resolution)["unresolvedRequiredCapabilities"]) == 1
    assert len(resolve_channel(twice, ()).unresolved) == len(base.required_capabilities)  # no candidates
    other = RequiredCapability(name="view-contract", version=">=1.0.0", strategy="MOST_SIMILAR")
    differing = base.model_copy(update={"required_capabilities": (*base.required_capabilities, other)})
    assert len(resolve_channel(differing, agents(BILLING_V1)).unresolved) == 2  # not equal: both count


def test_an_agent_elsewhere_is_named_in_good_english() -> None:
    """The no-provider hint said 'globex-agent provide it but are not candidates' for one agent (found by lane H,
    session 14); one agent now 'provides it but is not a candidate', several 'provide it but are not candidates'."""
    design = read_design(Path(__file__).parent.parent / "sample_networks" / "faulty.yaml")
    problems = [u.reason for c in design.channels for u in resolve_channel(c, design.agents).unresolved]
    assert any("; globex-agent (" in p and p.endswith(") provides it but is not a candidate") for p in problems)
    assert not any(" provide it but are not candidates" in p and "," not in p.split(";")[1] for p in problems)


def test_each_agent_elsewhere_is_named_with_its_own_reason() -> None:
    """Bug (session 21 QA): the no-provider hint gave the first agent's reason for all of them: after `edit reach
    acme billing-agent-stable --channel web`, lint said "billing-agent-canary, billing-agent-stable provide it but
    are not candidates (subset canary ≠ stable)" for channel ivr, yet billing-agent-stable is stable and is left out
    for its channels. Each agent now carries its own reason."""
    bill = (Capability(name="view-bill", version="1.0.0"),)
    canary = Agent(name="billing-canary", labels={"subset": "canary"}, supported_channels=("ivr",), capabilities=bill)
    web_only = Agent(name="billing-stable", supported_channels=("web",), capabilities=bill)
    weather = Agent(name="weather", supported_channels=("ivr",), capabilities=(Capability(name="w", version="1.0.0"),))
    ivr = Channel(
        name="acme-ivr-stable",
        labels={"tenant": "acme", "channel": "ivr", "subset": "stable", "version": "1.0.0"},
        required_capabilities=(RequiredCapability(name="view-bill", version="1.0.0"),),
    )
    (unresolved,) = resolve_channel(ivr, (web_only, canary, weather)).unresolved
    assert unresolved.reason == (
        "no candidate agent provides 'view-bill'; billing-canary (subset canary ≠ stable), "
        "billing-stable (channel ivr not in ['web']) provide it but are not candidates"
    )


def test_a_bad_provided_version_fails_only_the_channels_whose_reconcile_throws(tmp_path: Path) -> None:
    """`resolve` exited 2 and printed no Channel when one Agent's provided version was not strict SemVer; the
    operator fails the reconcile of the Channels it would parse that version for and resolves the others
    (LMOS.md §1.6 step 5). Now that Channel says RECONCILE FAILS with the reason, the others resolve, exit 1."""
    design = tmp_path / "d.yaml"
    design.write_text(
        "apiVersion: lmos.eclipse/v1\nkind: Agent\nmetadata: {name: a}\nspec:\n  supportedChannels: [web, ivr]\n"
        "  providedCapabilities:\n    - {name: good, version: 1.0.0}\n    - {name: bad, version: '1.1'}\n---\n"
        "apiVersion: lmos.eclipse/v1\nkind: Channel\nmetadata:\n  name: web\n"
        "  labels: {tenant: acme, channel: web, version: '1.0.0', subset: stable}\n"
        "spec: {requiredCapabilities: [{name: good, version: '>=1.0.0'}]}\n---\n"
        "apiVersion: lmos.eclipse/v1\nkind: Channel\nmetadata:\n  name: ivr\n"
        "  labels: {tenant: acme, channel: ivr, version: '1.0.0', subset: stable}\n"
        "spec: {requiredCapabilities: [{name: bad, version: '>=1.0.0'}]}\n"
    )
    result = run_cli("resolve", str(design), "-o", "json")
    assert result.returncode == 1, result.stderr
    web, ivr = json.loads(result.stdout)["channels"]
    assert web["status"]["resolveStatus"] == "RESOLVED" and web["routing"] is not None
    assert ivr["status"] is None and ivr["routing"] is None and "'1.1' is not strict SemVer" in ivr["reconcileError"]
    table = run_cli("resolve", str(design))
    assert "RECONCILE FAILS" in table.stdout and "default/web  RESOLVED" in table.stdout
