"""The design file: reading (files, multi-doc, folders), errors with file:line:field, round trips, atomic writes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lmos_studio.bundled import sample_designs
from lmos_studio.errors import DesignFileError
from lmos_studio.formats.design_file import (
    design_from_text,
    design_to_yaml,
    load_design,
    read_design,
    write_design,
)
from lmos_studio.model import (
    Agent,
    Capability,
    Channel,
    Design,
    Endpoint,
    Group,
    RequiredCapability,
    RoutingTest,
    TrustEdge,
    Workload,
)
from tests.conftest import ACME, REFERENCE

AGENT = """\
apiVersion: lmos.eclipse/v1
kind: Agent
metadata:
  name: a
spec:
  providedCapabilities:
    - name: cap
      version: {version}
"""


def test_acme_sample_reads_as_a_folder() -> None:
    result = load_design([ACME])
    design = result.design
    assert design.name == "acme" and not result.warnings
    assert {a.name for a in design.agents} >= {"billing-agent-stable", "contract-agent", "weather-agent"}
    assert design.channel("acme-ivr-canary") is not None and design.rollouts[0].canary_weight == 10
    billing = design.agent("billing-agent-stable")
    assert billing is not None and billing.protocols == ("http", "ws")
    assert billing.workload is not None and billing.workload.env[0].secret_name == "billing-agent-llm"
    assert len(design.trust_edges) == 3 and len(design.routing_tests) == 4


@pytest.mark.parametrize("sample", list(sample_designs().values()), ids=list(sample_designs()))
def test_every_sample_round_trips(sample: Path) -> None:
    design = read_design(sample)
    again = design_from_text(design_to_yaml(design), name=design.name).design
    assert again == design
    assert design_to_yaml(again) == design_to_yaml(design)


def test_unquoted_versions_keep_their_text() -> None:
    design = design_from_text(AGENT.format(version="1.10")).design
    assert design.agents[0].capabilities[0].version == "1.10"
    text = AGENT.format(version="1.0.0").replace("name: a\n", "name: a\n  labels: {version: 1.0}\n")
    label = design_from_text(text).design
    assert label.agents[0].labels == {"version": "1.0"}


def test_label_keys_that_yaml_reads_as_booleans_or_numbers_keep_yaml_text() -> None:
    # `on:` is a boolean key in YAML 1.1: the label key was Python's 'True' (written back as 'True'); it is "true",
    # as kubectl reads it. A boolean value is refused: the text meant (`no`, `yes`) is lost, kubectl loses it too.
    text = (
        "apiVersion: lmos.eclipse/v1\nkind: Channel\nmetadata:\n  name: web\n"
        "  labels: {tenant: acme, on: 'yes', 1.10: x, 010: y}\n  annotations: {off: 'no'}\n"
        "spec: {requiredCapabilities: []}\n"
    )
    channel = design_from_text(text).design.channels[0]
    assert channel.labels == {"tenant": "acme", "true": "yes", "1.10": "x", "010": "y"}
    assert channel.annotations == {"false": "no"}
    assert "True" not in design_to_yaml(design_from_text(text).design)


@pytest.mark.parametrize(
    ("where", "field"),
    [
        ("labels: {tenant: no, channel: web}", "metadata.labels.tenant"),
        ("labels: {tenant: acme, channel: on}", "metadata.labels.channel"),
        ("annotations: {reviewed: yes}", "metadata.annotations.reviewed"),
    ],
)
def test_a_yaml_boolean_where_text_belongs_is_refused_with_the_line(where: str, field: str) -> None:
    """`tenant: no` (Norway) silently became the tenant 'false', a tenant no Agent has; kubectl would send a
    boolean and be refused. Now the file, line and field are named, with what to write."""
    text = f"apiVersion: lmos.eclipse/v1\nkind: Channel\nmetadata:\n  name: web\n  {where}\nspec: {{}}\n"
    with pytest.raises(DesignFileError) as caught:
        design_from_text(text, path="norway.yaml")
    assert (caught.value.line, caught.value.field) == (5, field)
    assert "put the value in quotes, e.g. 'no'" in str(caught.value)


def test_a_yaml_boolean_in_a_list_of_tenants_is_refused() -> None:
    text = (
        "apiVersion: lmos.eclipse/v1\nkind: Agent\nmetadata: {name: billing}\nspec:\n"
        "  supportedTenants: [de, no, se]\n  providedCapabilities: []\n"
    )
    with pytest.raises(DesignFileError) as caught:
        design_from_text(text, path="norway.yaml")
    assert (caught.value.line, caught.value.field) == (5, "spec.supportedTenants[1]")


def test_unknown_fields_survive_everywhere() -> None:
    text = """\
apiVersion: lmos.eclipse/v1
kind: Agent
metadata:
  name: a
  uid: 1234
  labels: {team: billing}
spec:
  futureField: {x: 1.10}
  providedCapabilities:
    - name: cap
      version: 1.0.0
      owner: someone
status: {seen: true}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: a}
spec: {replicas: 3}
"""
    design = design_from_text(text).design
    agent = design.agents[0]
    assert agent.metadata_extras == {"uid": 1234} and agent.spec_extras["futureField"] == {"x": 1.1}
    assert agent.capabilities[0].extras == {"owner": "someone"} and agent.extras == {"status": {"seen": True}}
    out = design_to_yaml(design)
    assert "x: 1.10" in out and "owner: someone" in out and "replicas: 3" in out and "uid: 1234" in out


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        (AGENT.replace("  name: a\n", "  labels: {}\n"), 4, "metadata.name"),
        (AGENT.replace("      version: {version}\n", ""), 7, "version"),
        (
            "apiVersion: lmos.eclipse/v1\nkind: Channel\nmetadata: {name: c}\nspec:\n  requiredCapabilities:\n"
            "    - {name: x, version: '1.0.0', strategy: LOWEST}\n",
            6,
            "strategy",
        ),
        (
            "apiVersion: lmos.eclipse/v1\nkind: Agent\nmetadata: {name: a}\nspec:\n  supportedTenants: acme\n",
            5,
            "supportedTenants",
        ),
        ("a: [1, 2\nb: 3\n", 2, "malformed YAML"),
        ("- just\n- a list\n", 1, "mapping"),
    ],
)
def test_errors_name_file_line_and_field(text: str, line: int, needle: str) -> None:
    with pytest.raises(DesignFileError) as err:
        design_from_text(text.replace("{version}", "1.0.0"), path="bad.yaml")
    assert str(err.value).startswith(f"bad.yaml:{line}: "), str(err.value)
    assert needle in str(err.value)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("- just\n- a list\n", "a document must be a mapping (a Kubernetes resource), not a list"),
        ("apiVersion: lmos.eclipse/v1\nkind: Agent\nmetadata: {name: a}\nspec: 5\n", "must be a mapping, not a number"),
        (
            "apiVersion: lmos.eclipse/v1\nkind: Agent\nmetadata: {name: a}\nspec: {providedCapabilities: 5}\n",
            "must be a list, not a number",
        ),
        (
            "apiVersion: lmos.eclipse/v1\nkind: Agent\nmetadata: {name: a}\nspec: {supportedChannels: {a: 1}}\n",
            "must be a list, not a mapping",
        ),
    ],
)
def test_wrong_types_are_named_in_yaml_words(text: str, said: str) -> None:
    # not the reader's Python classes (LineList, YamlInt, LineDict)
    with pytest.raises(DesignFileError) as err:
        design_from_text(text, path="bad.yaml")
    assert said in str(err.value), str(err.value)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("a: &x [1]\n" + "".join(f"k{i}: *x\n" for i in range(150)), "alias"),
        ("a: " + "[" * 300 + "]" * 300 + "\n", "nesting"),
        ("a: " + "[" * 200_000 + "]" * 200_000 + "\n", "nesting"),  # would overflow libyaml's C stack
        ("\n".join(" " * i + f"k{i}:" for i in range(3000)), "nesting"),
        ("a: 1\na: 2\n", "duplicate key"),
    ],
)
def test_hostile_yaml_is_refused_cleanly(text: str, needle: str) -> None:
    with pytest.raises(DesignFileError, match=needle):
        design_from_text(text, path="evil.yaml")


def test_huge_and_binary_files_are_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as handle:
        handle.truncate(21 * 2**20)
    with pytest.raises(DesignFileError, match="MiB"):
        read_design(big)
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(DesignFileError, match="UTF-8"):
        read_design(binary)


def test_two_groups_of_one_name_are_refused() -> None:
    # before: both kept; `group:g` in a trust edge meant the first (empty) one, lint and validate said nothing
    text = (
        "apiVersion: studio.lmos.eclipse/v1alpha1\nkind: StudioDesign\nmetadata: {name: t}\nspec:\n"
        "  groups:\n    - {name: g, members: []}\n    - {name: g, members: [billing]}\n"
    )
    with pytest.raises(DesignFileError, match=r"group 'g' appears twice") as err:
        design_from_text(text, path="t.yaml")
    assert err.value.field == "spec.groups" and str(err.value).startswith("t.yaml:5: "), str(err.value)
    assert "Value error" not in str(err.value)  # pydantic's prefix


def test_a_trust_edge_written_twice_is_refused() -> None:
    """Two trust edges with the same caller, callee, capabilities and protocol loaded; edits find an edge by its
    key, so removing one removed both and editing changed only the first. Now the second is refused, naming its
    line and field. Two edges of one key over different protocols still load (lint reads both)."""
    head = "apiVersion: studio.lmos.eclipse/v1alpha1\nkind: StudioDesign\nmetadata: {name: t}\nspec:\n  trustEdges:\n"
    edge = "    - {caller: a, callee: b, capabilities: [x], protocol: http}\n"
    with pytest.raises(DesignFileError, match=r"trust edge a->b\[x\] over http appears twice") as err:
        design_from_text(head + edge + "    - {caller: b, callee: a}\n" + edge, path="t.yaml")
    assert err.value.field == "spec.trustEdges[2]" and str(err.value).startswith("t.yaml:8: "), str(err.value)
    assert "spec.trustEdges[0]" in str(err.value) and "remove one" in str(err.value)
    other = edge.replace("http", "a2a")
    assert len(design_from_text(head + edge + other, path="t.yaml").design.trust_edges) == 2


def test_studio_document_errors_point_at_the_field() -> None:
    text = AGENT.format(version="1.0.0") + (
        "---\napiVersion: studio.lmos.eclipse/v1alpha1\nkind: StudioDesign\n"
        "metadata: {name: d}\nspec:\n  trustEdges:\n    - caller: a\n"
        "      calee: b\n"
    )
    with pytest.raises(DesignFileError) as err:
        design_from_text(text, path="d.yaml")
    assert "spec.trustEdges[0]" in str(err.value) and "d.yaml:" in str(err.value)


def test_folder_and_multi_document_and_missing(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.yml").write_text(AGENT.format(version="1.0.0"))
    (tmp_path / "notes.txt").write_text("ignored")
    assert [a.name for a in read_design(tmp_path).agents] == ["a"]
    with pytest.raises(DesignFileError, match="no such file"):
        read_design(tmp_path / "nope.yaml")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DesignFileError, match=r"no \*\.yaml"):
        read_design(empty)


def test_write_is_atomic_and_deterministic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    design = read_design(ACME)
    target = tmp_path / "design.yaml"
    write_design(design, target)
    first = target.read_bytes()
    write_design(read_design(target), target)
    assert target.read_bytes() == first

    def crash(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(DesignFileError, match="No space left"):
        write_design(design.replace(name="changed"), target)
    assert target.read_bytes() == first
    assert [p.name for p in tmp_path.iterdir()] == ["design.yaml"]  # no temp file left behind


def test_operator_fixtures_read_one_by_one(reference: Path) -> None:
    for path in sorted((reference / "lmos-operator").rglob("*.y*ml")):
        design = read_design(path)
        assert len(design.agents) + len(design.channels) + len(design.other_resources) == 1, path
    assert REFERENCE.exists()


# Design → YAML → design is the identity, for any design.
names = st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True)
text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=30)
versions = st.from_regex(r"(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]?)\.(0|[1-9][0-9]?)", fullmatch=True)
capabilities = st.builds(
    Capability,
    name=names,
    version=versions,
    id=st.just("") | names,
    description=text,
    examples=st.lists(text, max_size=3).map(tuple),
)
agents = st.builds(
    Agent,
    name=names,
    namespace=st.sampled_from(["default", "acme"]),
    labels=st.dictionaries(st.sampled_from(["subset", "team", "version"]), names, max_size=2),
    description=text,
    supported_tenants=st.lists(names, max_size=2).map(tuple),
    supported_channels=st.lists(names, max_size=2).map(tuple),
    capabilities=st.lists(capabilities, max_size=3).map(tuple),
    endpoints=st.lists(st.builds(Endpoint, protocol=st.sampled_from(["http", "ws", "mqtt"]), uri=text), max_size=2).map(
        tuple
    ),
    workload=st.none() | st.builds(Workload, image=names, replicas=st.integers(1, 5)),
    source=st.just("") | st.just("http://registry.local/things/x"),
)
channels = st.builds(
    Channel,
    name=names,
    labels=st.fixed_dictionaries({"tenant": names, "channel": names}),
    required_capabilities=st.lists(
        st.builds(
            RequiredCapability,
            name=names,
            version=st.sampled_from([">=1.0.0", "1.0", "^1.2.3", "*"]),
            strategy=st.sampled_from(["HIGHEST", "MOST_SIMILAR"]),
            strategy_given=st.just(True),
        ),
        max_size=3,
    ).map(tuple),
)


@st.composite
def designs(draw: st.DrawFn) -> Design:
    agent_list = draw(st.lists(agents, max_size=4, unique_by=lambda a: (a.namespace, a.name)))
    channel_list = draw(st.lists(channels, max_size=3, unique_by=lambda c: c.name))
    refs = [a.name for a in agent_list] or ["x"]
    return Design(
        name=draw(names),
        description=draw(text),
        agents=tuple(agent_list),
        channels=tuple(channel_list),
        groups=tuple(
            draw(
                st.lists(
                    st.builds(Group, name=names, members=st.lists(st.sampled_from(refs), unique=True).map(tuple)),
                    max_size=2,
                    unique_by=lambda g: g.name,  # as each group's members: a design file refuses either twice
                )
            )
        ),
        trust_edges=tuple(
            draw(
                st.lists(
                    st.builds(
                        TrustEdge, caller=st.sampled_from(refs), callee=st.sampled_from(refs), protocol=st.just("http")
                    ),
                    max_size=3,
                    unique_by=lambda e: e.key,  # an edge written twice is refused, as a group name twice
                )
            )
        ),
        routing_tests=tuple(
            draw(
                st.lists(
                    st.builds(lambda q, a: RoutingTest(query=q, expect_agent=a), text, st.sampled_from(refs)),
                    max_size=2,
                )
            )
        ),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(designs())
def test_design_yaml_design_is_the_identity(design: Design) -> None:
    assert design_from_text(design_to_yaml(design), name=design.name).design == design


def test_digest_is_cached_per_object_and_never_stale() -> None:
    design = read_design(ACME)
    first = design.digest()
    assert design.digest() is first
    changed = design.replace(name="other")
    assert changed.digest() != first and design.model_copy().digest() == first
    assert changed.replace(name=design.name).digest() == first


_TEXTISH = st.one_of(st.text(max_size=6), st.text(" 1.0", max_size=6), st.none(), st.integers(-3, 3))
_EXAMPLES = st.one_of(
    st.none(),
    st.lists(st.text(max_size=4), max_size=3),
    st.lists(st.one_of(st.text(max_size=4), st.integers(0, 2)), max_size=3),
    st.text(max_size=3),
)
_CAPABILITY_NODE = st.fixed_dictionaries(
    {"name": _TEXTISH, "version": _TEXTISH},
    optional={"id": _TEXTISH, "description": _TEXTISH, "examples": _EXAMPLES, "extra": _TEXTISH},
)


@given(_CAPABILITY_NODE)
def test_plain_capabilities_read_as_the_checked_path_reads_them(node: dict[str, object]) -> None:
    """The fast path for capabilities of the common shape makes what the field-by-field path makes (or leaves
    the node to it: other shapes, conversions and errors are that path's)."""
    from lmos_studio.formats import lmos

    plain = lmos._plain_capability(node)
    if plain is None:
        return
    doc = lmos.Doc({"metadata": {"name": "a"}}, path="<test>", kind="Agent")
    checked = lmos.Capability(
        id=doc.text(node, "id", "id"),
        name=doc.text(node, "name", "name", required=True),
        version=doc.text(node, "version", "version", required=True),
        description=doc.text(node, "description", "description"),
        examples=doc.texts(node, "examples", "examples"),
        extras=lmos._rest(node, lmos._CAP_KEYS),
    )
    assert plain == checked and type(plain.examples) is tuple
    assert plain.model_dump_json() == checked.model_dump_json()


def test_write_through_a_symlink_updates_its_target(tmp_path: Path) -> None:
    """Saving a design opened through a symlink (e.g. into a checkout) replaced the link by a plain file:
    the linked file never got the edit. Now the link stays and its target is written."""
    kept = tmp_path / "repo" / "design.yaml"
    kept.parent.mkdir()
    write_design(read_design(ACME), kept)
    link = tmp_path / "design.yaml"
    link.symlink_to(kept)
    write_design(read_design(link).replace(name="changed"), link)
    assert link.is_symlink()
    assert read_design(kept).name == "changed"
    assert sorted(p.name for p in kept.parent.iterdir()) == ["design.yaml"]


@pytest.mark.parametrize(
    ("members", "at", "first"),
    [
        ("[billing, default/billing]", 1, 0),
        ("[support, default/billing, billing]", 2, 1),
        ("[billing, support, billing]", 2, 0),
    ],
)
def test_a_group_naming_one_agent_twice_is_refused(members: str, at: int, first: int) -> None:
    """A group holding `billing` and `default/billing` loaded: the agent's trust pairs came twice and removing
    one member from the group left the agent in it. Now refused, naming file, line and field."""
    text = (
        "apiVersion: studio.lmos.eclipse/v1alpha1\nkind: StudioDesign\nmetadata: {name: t}\nspec:\n"
        "  groups:\n    - {name: ok, members: [default/billing, other/billing]}\n"
        f"    - name: g\n      members: {members}\n"
    )
    with pytest.raises(DesignFileError, match=r"group 'g' names agent 'billing' twice") as err:
        design_from_text(text, path="t.yaml")
    assert err.value.field == f"spec.groups[1].members[{at}]", err.value.field
    assert str(err.value).startswith("t.yaml:8: "), str(err.value)
    assert f"keep one of them (the first is spec.groups[1].members[{first}])" in str(err.value), str(err.value)
    assert "Value error" not in str(err.value)


@pytest.mark.parametrize("kind", ["Agent", "Channel", "ChannelRollout"])
def test_an_lmos_kind_without_api_version_warns_that_it_is_not_read(kind: str) -> None:
    """Bug (session 16 QA): `kind: Agent` written without `apiVersion` was kept silently among other resources:
    `validate` said "ok: 0 agents", and the agent the user wrote was nowhere. It is still kept as written (no
    data is lost; another group's `Agent`, e.g. `kagent.dev/v1alpha1`, is untouched), with a warning that names
    the line and what to add."""
    text = f"kind: {kind}\nmetadata: {{name: billing}}\nspec: {{}}\n---\napiVersion: kagent.dev/v1alpha1\nkind: Agent\n"
    result = design_from_text(text, path="d.yaml")
    assert len(result.design.other_resources) == 2 and not result.design.agents
    assert result.warnings == [
        f"d.yaml:1: kind {kind} without apiVersion is not read as an LMOS {kind} (kept as written among the other "
        "resources); add apiVersion: lmos.eclipse/v1"
    ]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            "apiVersion: {requiredCapabilities: []}\nkind: Channel\nmetadata: {name: web}\n",
            "d.yaml:1: apiVersion: must be text such as lmos.eclipse/v1, not a mapping",
        ),
        ("apiVersion: v1\nkind: [ConfigMap]\nmetadata: {name: a}\n", "d.yaml:2: kind: must be text such as Agent"),
        ("apiVersion: 1\nkind: ConfigMap\nmetadata: {name: a}\n", "d.yaml:1: apiVersion: must be text such as"),
    ],
)
def test_an_api_version_or_kind_that_is_not_text_is_refused(document: str, message: str) -> None:
    """Bug (session 17 fuzzing): a document whose apiVersion was a mapping was kept among the other resources,
    and the Export page and `export` then ended in a traceback ("unhashable type: 'LineDict'")."""
    with pytest.raises(DesignFileError) as err:
        design_from_text(document, path="d.yaml")
    assert message in str(err.value), str(err.value)


def test_a_name_that_is_a_list_is_not_printed_as_the_name() -> None:
    """Bug (session 17 fuzzing): `metadata: {name: [a, 1, null]}` said "Agent ['a', 1, None]: ..."."""
    with pytest.raises(DesignFileError) as err:
        design_from_text(
            "apiVersion: lmos.eclipse/v1\nkind: Agent\nmetadata: {name: [a, 1]}\nspec: {}\n", path="d.yaml"
        )
    assert str(err.value).startswith("d.yaml:3: metadata.name: Agent: must be a single value"), str(err.value)


KUBECTL_LIST = """\
apiVersion: v1
kind: {kind}
items:
- apiVersion: lmos.eclipse/v1
  kind: Agent
  metadata:
    name: billing
    namespace: prod
  spec:
    supportedChannels: [web]
    providedCapabilities:
    - {{name: view-bill, version: "1.0.0"}}
- apiVersion: lmos.eclipse/v1
  kind: Channel
  metadata:
    name: web
    namespace: prod
    labels: {{tenant: acme, channel: web, subset: stable, version: "1.0.0"}}
  spec:
    requiredCapabilities:
    - {{name: view-bill, version: "1.0.0"}}
- apiVersion: lmos.eclipse/v1
  kind: Agent
  metadata:
    name: contract
    namespace: prod
  spec:
    supportedChannels: {channels}
    providedCapabilities:
    - {{name: view-contract, version: "1.0.0"}}
metadata:
  resourceVersion: ""
"""


@pytest.mark.parametrize("kind", ["List", "AgentList"])
def test_a_kubectl_list_is_read_item_by_item(kind: str) -> None:
    """Bug (session 21 QA): `kubectl get agents -o yaml` (`kind: List`, the resources in `items`) was read as an
    empty design: validate, resolve and lint said "0 agents" (exit 0), and export then failed on "other resource #1
    (List)" naming no file. Each item is now read as a document of its own, at its own line."""
    result = design_from_text(KUBECTL_LIST.format(kind=kind, channels="[web]"), path="agents.yaml")
    design = result.design
    assert [a.key for a in design.agents] == ["prod/billing", "prod/contract"]
    assert [c.key for c in design.channels] == ["prod/web"] and not design.other_resources
    assert result.locations["Agent prod/contract"] == "agents.yaml:22"
    with pytest.raises(DesignFileError) as err:
        design_from_text(KUBECTL_LIST.format(kind=kind, channels="{a: 1}"), path="agents.yaml")
    assert str(err.value).startswith("agents.yaml:28: spec.supportedChannels"), str(err.value)
    assert "must be a list, not a mapping" in str(err.value)
