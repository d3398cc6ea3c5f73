"""Imports say what they could not map (issue 17): a TD without LMOS capabilities, a card without skills, a
description without channels or tenants is imported with a warning naming what is missing and how to add
it; `--channel`/`--tenant` fill in what a format cannot say; `--strict` turns warnings into exit 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lmos_studio.formats import description as d
from lmos_studio.formats.detect import read_descriptions
from lmos_studio.formats.yamlio import load_documents

PLAIN_TD = {  # a W3C TD with no LMOS vocabulary at all
    "@context": "https://www.w3.org/2022/wot/td/v1.1",
    "id": "urn:dev:ops:32473-lamp",
    "title": "Lamp",
    "securityDefinitions": {"nosec_sc": {"scheme": "nosec"}},
    "security": "nosec_sc",
    "actions": {"toggle": {"forms": [{"href": "https://lamp.example.com/toggle"}]}},
}
EMPTY_CARD = {"name": "Echo", "description": "Says it back", "version": "1.0.0", "skills": []}
CAPABILITIES = {  # the operator's capabilities.json, complete
    "id": "orders",
    "description": "Orders",
    "supportedTenants": ["acme"],
    "supportedChannels": ["web"],
    "capabilities": [{"id": "track", "name": "track-order", "version": "1.0.0", "description": "d", "examples": []}],
}


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    from lmos_studio.cli import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, name: str, doc: object) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


def test_plain_td_warns_it_can_never_be_a_candidate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lamp = write(tmp_path, "lamp.json", PLAIN_TD)
    code, out, err = cli(capsys, "import", lamp)
    assert code == 0
    assert load_documents(out, path="out")[0]["metadata"]["name"] == "lamp"  # imported all the same
    assert f"warning: {lamp}: agent lamp: no capabilities, so it can never serve a Channel requirement" in err
    assert '"lmos:capabilities": [{name, version, description, examples}]' in err
    assert 'add "lmos:supportedChannels" to the description, or pass --channel NAME' in err
    assert 'add "lmos:supportedTenants" to the description, or pass --tenant NAME' in err
    code, out, err = cli(capsys, "import", lamp, "--strict")
    assert code == 1 and out  # the output is still printed
    assert "error: 3 warning(s) and --strict" in err


def test_card_without_skills_says_how_to_add_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "import", write(tmp_path, "echo.json", EMPTY_CARD), "--channel", "web")
    assert code == 0
    assert "agent echo: no capabilities" in err and "add skills: [{id, name, description, examples}]" in err
    assert "no supported channels" not in err  # --channel filled it in
    assert "no supported tenants" in err and "the format cannot say it: pass --tenant NAME" in err


def test_channel_and_tenant_options_fill_in_only_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    card = {**EMPTY_CARD, "skills": [{"id": "echo", "name": "Echo", "description": "Echo"}]}
    code, out, err = cli(capsys, "import", write(tmp_path, "c.json", card), "--channel", "web", "--tenant", "acme")
    agent = load_documents(out, path="out")[0]
    assert code == 0 and agent["spec"]["supportedChannels"] == ["web"] and agent["spec"]["supportedTenants"] == ["acme"]
    assert "no supported" not in err
    doc = write(tmp_path, "orders.json", CAPABILITIES)
    code, out, err = cli(capsys, "import", doc, "--channel", "ivr", "--strict")
    assert code == 0, err  # nothing missing: no warning, --strict passes
    assert load_documents(out, path="out")[0]["spec"]["supportedChannels"] == ["web"]


def test_lmos_agent_without_channels_warns_but_empty_tenants_mean_every_tenant(tmp_path: Path) -> None:
    text = "apiVersion: lmos.eclipse/v1\nkind: Agent\nmetadata: {name: a}\nspec: {providedCapabilities: []}\n"
    warnings = d.warnings_of(read_descriptions(text, source="a.yaml")[0])
    assert [w.split(": ", 2)[2].split(",")[0] for w in warnings] == [
        "no capabilities",
        "no supported channels",
    ]
    assert "add spec.supportedChannels to the description" in warnings[1]


def test_import_manifests_strict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    twice = "apiVersion: lmos.eclipse/v1\nkind: Agent\nmetadata: {name: a}\nspec: {}\n"
    (tmp_path / "twice.yaml").write_text(twice + "---\n" + twice, encoding="utf-8")
    args = ("import-manifests", str(tmp_path / "twice.yaml"), "--out", str(tmp_path / "d.yaml"))
    assert cli(capsys, *args)[0] == 0
    code, _, err = cli(capsys, *args, "--strict")
    assert code == 1 and "appears again" in err


def test_imported_resources_are_strictly_valid_and_read_back_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from lmos_studio.errors import DesignFileError
    from lmos_studio.export.validate import Validator
    from lmos_studio.formats.design_file import read_design

    card = {**EMPTY_CARD, "skills": [{"id": "echo", "name": "Echo it", "description": "Echo", "tags": ["fun"]}]}
    code, out, _ = cli(capsys, "import", write(tmp_path, "c.json", card), "--channel", "web")
    assert code == 0
    resource = load_documents(out, path="out")[0]
    assert "title" not in resource["spec"]["providedCapabilities"][0]
    assert Validator().validate(resource, path="out")["status"] == "valid"  # kubectl apply would accept it
    (tmp_path / "agent.yaml").write_text(out, encoding="utf-8")
    agent = read_design(tmp_path / "agent.yaml").agents[0]
    assert agent.capabilities[0].extras == {"title": "Echo it", "tags": ["fun"]}
    assert "studio.lmos.eclipse/resource-fields" not in agent.annotations
    (tmp_path / "bad.yaml").write_text(
        out.replace('"/spec/providedCapabilities/0/title"', "{"), encoding="utf-8"
    )  # no longer JSON
    with pytest.raises(
        DesignFileError,
        match=r"bad.yaml:9: metadata.annotations.studio.lmos.eclipse/resource-fields: Agent echo: is not JSON",
    ):
        read_design(tmp_path / "bad.yaml")


def test_agent_names_that_break_kubernetes_rules_warn(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An Agent resource named `A_B` in namespace `Team_1` imported silently, though the API server refuses
    both (lint's invalid-name reports them only once the agent is in a design): import now warns, naming a fix."""
    resource = {
        "apiVersion": "lmos.eclipse/v1",
        "kind": "Agent",
        "metadata": {"name": "A_B", "namespace": "Team_1"},
        "spec": {
            "supportedChannels": ["web"],
            "providedCapabilities": [{"name": "track", "version": "1.0.0"}],
        },
    }
    path = write(tmp_path, "a.json", resource)
    code, out, err = cli(capsys, "import", path, "--strict")
    assert code == 1 and load_documents(out, path="out")[0]["metadata"]["name"] == "A_B"  # kept as written
    assert f"warning: {path}: agent A_B: name 'A_B' is not a valid Kubernetes name" in err
    assert "rename it, e.g. 'a-b'" in err
    assert f"warning: {path}: agent A_B: namespace 'Team_1' is not a valid Kubernetes namespace" in err
    assert "error: 2 warning(s) and --strict" in err


@pytest.mark.parametrize("command", [("import",), ("convert", "--to", "td")])
def test_a_bad_namespace_option_is_bad_input(
    command: tuple[str, ...], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`import card.json -n Bad_NS` printed resources in namespace Bad_NS with exit 0; now exit 2 naming it."""
    path = write(tmp_path, "card.json", EMPTY_CARD)
    code, out, err = cli(capsys, *command, path, "-n", "Bad_NS")
    assert code == 2 and not out
    assert "--namespace 'Bad_NS'" in err and "Traceback" not in err


def test_convert_to_agent_is_as_strictly_valid_as_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`convert card.json --to agent` wrote a skill's title and tags straight into providedCapabilities, which
    the API server's strict field validation refuses (kubectl apply: unknown field); `import` of the same card
    gave a valid resource carrying them in the resource-fields annotation. Now both give the same resource."""
    from lmos_studio.export.validate import Validator

    card = {**EMPTY_CARD, "skills": [{"id": "echo", "name": "Echo it", "description": "Echo", "tags": ["fun"]}]}
    path = write(tmp_path, "c.json", card)
    code, converted, _ = cli(capsys, "convert", path, "--to", "agent")
    assert code == 0
    resource = json.loads(converted)
    assert Validator().validate(resource, path="out")["status"] == "valid"
    code, imported, _ = cli(capsys, "import", path, "-o", "json")
    assert [resource] == json.loads(imported)
    (tmp_path / "again.json").write_text(converted, encoding="utf-8")
    assert cli(capsys, "convert", str(tmp_path / "again.json"), "--to", "agent")[1] == converted  # a fixed point
    assert json.loads(cli(capsys, "convert", str(tmp_path / "again.json"), "--to", "a2a")[1])["skills"][0]["tags"] == [
        "fun"
    ]  # the title and tags still come back


TWO_OF_A_NAME = """\
apiVersion: lmos.eclipse/v1
kind: Agent
metadata: {name: same}
spec: {supportedChannels: [web], providedCapabilities: [{name: a, version: 1.0.0}]}
---
apiVersion: lmos.eclipse/v1
kind: Agent
metadata: {name: same}
spec: {supportedChannels: [web], providedCapabilities: [{name: b, version: 1.0.0}]}
"""


def test_an_agent_described_twice_warns_as_reading_a_design_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two agents of one name in one file: `import` printed both without a word and `registry register`
    registered the same id twice, the second silently replacing the first; reading it as a design says so
    ("appears again; the later one replaces the earlier"). Now import and register say it too."""
    path = tmp_path / "two.yaml"
    path.write_text(TWO_OF_A_NAME, encoding="utf-8")
    code, _, err = cli(capsys, "import", str(path), "--strict")
    assert code == 1
    assert f"warning: {path}: agent default/same appears again; the later one replaces the earlier" in err
    monkeypatch.setenv("LMOS_STUDIO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LMOS_STUDIO_REGISTRY_DB", str(tmp_path / "registry.db"))
    code, out, err = cli(capsys, "registry", "register", str(path))
    assert code == 0 and out.split() == ["urn:lmos:agent:default:same"]  # registered once: the later one
    assert "agent default/same appears again; the later one replaces the earlier" in err


@pytest.mark.parametrize("option", ["--channel", "--tenant"])
def test_an_empty_channel_or_tenant_option_is_bad_input(
    option: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`import card.json --channel ""` printed `supportedChannels: ['']` (a channel no Channel can be) with
    exit 0, and the warning about missing channels too; now exit 2 naming the option."""
    path = write(tmp_path, "card.json", EMPTY_CARD)
    for command in (("import",), ("convert", "--to", "agent")):
        code, out, err = cli(capsys, *command, path, option, "web", option, " ")
        assert code == 2 and not out
        assert f"{option} ' ' is empty" in err


def test_a_json_key_given_twice_is_bad_input_as_in_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`{"name": "x", "name": "y", …}` imported as agent y (the first value silently dropped), while the same
    card in YAML is refused ("duplicate key 'name'"); now JSON descriptions are refused the same way."""
    path = tmp_path / "card.json"
    path.write_text('{"name": "x", "skills": [{"id": "a", "name": "A", "id": "b"}], "name": "y"}', encoding="utf-8")
    for command in (("import",), ("convert", "--to", "td"), ("registry", "register")):
        code, out, err = cli(capsys, *command, str(path))
        assert code == 2 and not out, (command, err)
        assert f"error: {path}: duplicate key 'id' in one object; keep one of them" in err


def test_an_agent_name_starting_with_a_digit_warns_as_lint_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`1billing` is an RFC 1123 label, so import said nothing, yet lint reports invalid-name: an Agent's name is
    its Service's host name, an RFC 1035 label that must start with a letter. Import now warns with lint's fix."""
    from lmos_studio.lint import lint_design
    from lmos_studio.model import Design

    resource = {
        "apiVersion": "lmos.eclipse/v1",
        "kind": "Agent",
        "metadata": {"name": "1billing", "namespace": "default"},
        "spec": {"supportedChannels": ["web"], "providedCapabilities": [{"name": "pay", "version": "1.0.0"}]},
    }
    path = write(tmp_path, "a.json", resource)
    code, _, err = cli(capsys, "import", path, "--strict")
    assert code == 1
    assert f"warning: {path}: agent 1billing: name '1billing' is not a valid Kubernetes name" in err
    assert "must start with a letter" in err and "rename it, e.g. 'agent-1billing'" in err
    (agent,) = read_descriptions(Path(path).read_text(), source=path)
    (finding,) = [f for f in lint_design(Design(name="d", agents=(agent,))) if f.code == "invalid-name"]
    assert finding.fix == "rename it, e.g. 'agent-1billing'"
