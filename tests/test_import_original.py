"""The lone Agent resource `import` / `convert --to agent` prints keeps the description it came from (QA, session
12): a card's display name, interfaces, capability flags and security schemes, a TD's links, actions and
`lmos:metadata` were lost on that path, so X → agent → Y differed from X → Y. Now the description rides in the
annotation `studio.lmos.eclipse/original` and comes back when Studio reads the resource; credentials in it are
masked; a malformed annotation is bad input naming it; export never grows it."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pytest

from lmos_studio.formats import detect, lmos
from lmos_studio.formats.original import ORIGINAL_ANNOTATION
from lmos_studio.formats.yamlio import load_documents

REFERENCE = Path(__file__).parent / "fixtures" / "reference"
DESCRIPTIONS = [
    *sorted((REFERENCE / "descriptions").glob("*.json")),
    REFERENCE / "lmos-router-examples" / "agentRoutingSpecs-core-test.json",  # AgentRoutingSpec list
    REFERENCE / "lmos-router-examples" / "sample-agent-capabilities.json",  # classifier capability document
]
CARD = {
    "name": "Device Orders",
    "description": "Orders phones",
    "version": "1.0.0",
    "supportedInterfaces": [{"url": "https://orders.example/a2a", "protocolBinding": "JSONRPC"}],
    "capabilities": {"streaming": True},
    "skills": [{"id": "order", "name": "Order", "description": "Orders a phone", "tags": ["t"]}],
}


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    from lmos_studio.cli import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, name: str, doc: object) -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def as_agents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each reference description converted to Agent resources once (the file `convert --to agent` prints)."""
    from lmos_studio.cli import main

    folder = tmp_path_factory.mktemp("as-agents")
    out: dict[str, Path] = {}
    for path in DESCRIPTIONS:
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(io.StringIO()):
            assert main(["convert", str(path), "--to", "agent"]) == 0
        out[path.name] = folder / f"{path.stem}.json"
        out[path.name].write_text(buffer.getvalue(), encoding="utf-8")
    return out


@pytest.mark.parametrize("target", detect.FORMATS)
@pytest.mark.parametrize("source", DESCRIPTIONS, ids=lambda p: p.name)
def test_x_to_agent_to_y_is_x_to_y(
    source: Path, target: str, as_agents: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Fails without the original annotation: e.g. a v0.3 card → agent → a2a-1.0 lost the card's display name,
    interfaces, capability flags and security schemes."""
    code, direct, _ = cli(capsys, "convert", str(source), "--to", target)
    assert code == 0
    code, through_agent, _ = cli(capsys, "convert", str(as_agents[source.name]), "--to", target)
    assert code == 0
    assert through_agent == direct


@pytest.mark.parametrize("source", DESCRIPTIONS, ids=lambda p: p.name)
def test_the_printed_resource_reads_back_as_the_agent_it_was(source: Path, as_agents: dict[str, Path]) -> None:
    """Every field of the model comes back (but `source`, the file it was read from), on the checked path and on
    the fast one (`_plain_agent` declines a resource with the annotation)."""
    before = detect.read_description_file(source)
    after = detect.read_description_file(as_agents[source.name])
    assert [a.model_copy(update={"source": ""}) for a in after] == [b.model_copy(update={"source": ""}) for b in before]
    assert all(ORIGINAL_ANNOTATION not in a.annotations for a in after)
    raw = json.loads(as_agents[source.name].read_text(encoding="utf-8"))
    first = raw[0] if isinstance(raw, list) else raw
    assert lmos._plain_agent(first, "") is None
    assert lmos.agent_from_resource(first, path="x").original == before[0].original


def test_import_manifests_of_the_printed_resource_keeps_the_original(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The printed resource imported into a design keeps the card; the design file keeps it in its Studio
    document, and export puts it there (studio/design.yaml), never into the Agent manifest."""
    from lmos_studio.export.bundle import ExportOptions, export_design
    from lmos_studio.formats.design_file import read_design

    code, out, _ = cli(capsys, "import", str(write(tmp_path, "card.json", CARD)), "--channel", "web")
    assert code == 0
    printed = write(tmp_path, "agent.yaml", out)
    code, _, err = cli(capsys, "import-manifests", str(printed), "--out", str(tmp_path / "design.yaml"))
    assert code == 0, err
    design = read_design(tmp_path / "design.yaml")
    agent = design.agents[0]
    assert (agent.original_format, agent.original) == ("a2a", CARD)
    assert agent.endpoints[0].uri == "https://orders.example/a2a"
    assert ORIGINAL_ANNOTATION not in (tmp_path / "design.yaml").read_text(encoding="utf-8")
    manifests = {m.path: m.document for m in export_design(design, ExportOptions()).manifests}
    assert ORIGINAL_ANNOTATION not in json.dumps(manifests["agents/default/device-orders.yaml"])
    assert manifests["studio/design.yaml"]["spec"]["agents"][0]["original"] == CARD


def test_a_studio_entry_without_an_original_keeps_the_resources(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A design whose Agent carries the annotation and whose Studio document names the agent for something else
    (a workload) kept the entry's empty original, dropping the annotation's."""
    from lmos_studio.formats.design_file import read_design

    out = cli(capsys, "import", str(write(tmp_path, "card.json", CARD)))[1]
    studio = "apiVersion: studio.lmos.eclipse/v1\nkind: StudioDesign\nmetadata: {name: d}\n"
    studio += "spec:\n  agents:\n  - {name: device-orders, workload: {image: orders:1}}\n"
    path = write(tmp_path, "design.yaml", out + "---\n" + studio)
    agent = read_design(path).agents[0]
    assert agent.workload is not None and agent.workload.image == "orders:1"
    assert (agent.original_format, agent.original) == ("a2a", CARD)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{not json", "is not JSON"),
        ("[1, 2]", "must be a JSON object of format, document, endpoints, security"),
        ('{"format": "a2a"}', "needs `format` (a text) and `document` (an object) together"),
        ('{"endpoints": [{"uri": "x"}]}', "`endpoints[0].protocol`: missing; add `protocol:`"),
        ('{"security": {}}', "`security` must be a list"),
        ("[" * 5000 + "]" * 5000, "is not JSON"),
    ],
)
def test_a_malformed_annotation_is_bad_input(
    value: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from lmos_studio.errors import DesignFileError
    from lmos_studio.formats.design_file import read_design

    resource = {
        "apiVersion": "lmos.eclipse/v1",
        "kind": "Agent",
        "metadata": {"name": "a", "annotations": {ORIGINAL_ANNOTATION: value}},
        "spec": {"providedCapabilities": []},
    }
    path = write(tmp_path, "a.json", json.dumps(resource, indent=2))
    code, out, err = cli(capsys, "convert", str(path), "--to", "a2a")
    assert code == 2 and not out and "Traceback" not in err
    assert f"a.json:7: metadata.annotations.{ORIGINAL_ANNOTATION}: Agent a: {message}" in err
    yaml_path = tmp_path / "a.yaml"
    yaml_path.write_text(
        "apiVersion: lmos.eclipse/v1\nkind: Agent\nmetadata:\n  name: a\n  annotations:\n"
        f"    {ORIGINAL_ANNOTATION}: {json.dumps(value)}\n",
        encoding="utf-8",
    )
    with pytest.raises(DesignFileError, match=rf"a.yaml:6: metadata.annotations.{ORIGINAL_ANNOTATION}: "):
        read_design(yaml_path)


SECRET_CARD = {
    **CARD,
    "supportedInterfaces": [
        {"url": "https://bob:hunter2pass@orders.example/a2a?api_key=CARDKEY123", "protocolBinding": "JSONRPC"}
    ],
    "securitySchemes": {"apikey": {"apiKeySecurityScheme": {"location": "header", "name": "X-API-Key"}}},
    "x-vendor": {"clientSecret": "VENDORSECRET9", "tokenUrl": "https://auth.example/token"},
}
SECRET_TD = {
    "@context": ["https://www.w3.org/2022/wot/td/v1.1", {"lmos": "https://eclipse.dev/lmos/protocol/v1"}],
    "id": "urn:lmos:agent:orders",
    "title": "orders",
    "securityDefinitions": {"bearer_sc": {"scheme": "bearer", "token": "TDBEARER777"}},
    "security": "bearer_sc",
    "links": [{"href": "https://docs.example/orders?access_token=TDLINKTOKEN"}],
    "actions": {"chat": {"forms": [{"href": "wss://orders.example/chat"}]}},
}


@pytest.mark.parametrize(
    ("doc", "secrets"),
    [(SECRET_CARD, ("hunter2pass", "CARDKEY123", "VENDORSECRET9")), (SECRET_TD, ("TDBEARER777", "TDLINKTOKEN"))],
    ids=["a2a", "td"],
)
def test_credentials_in_the_description_are_not_printed(
    doc: dict[str, object], secrets: tuple[str, ...], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The annotation would print the description's credentials (a URL's user-info and token parameter, a key
    named like a secret); they are masked as `***` with a warning (exit 1 with --strict); what only names a
    credential (`tokenUrl`, a scheme's header name) is kept."""
    path = write(tmp_path, "d.json", doc)
    for command in (("import",), ("convert", "--to", "agent")):
        code, out, err = cli(capsys, *command, str(path), "--channel", "web", "--tenant", "t")
        assert code == 0
        assert not any(secret in out for secret in secrets)
        assert "what looks like a credential is printed as ***" in err
        assert cli(capsys, *command, str(path), "--channel", "web", "--tenant", "t", "--strict")[0] == 1
    agent = detect.read_descriptions(out, source="out")[0]
    assert "***" in json.dumps(agent.original) and not any(s in json.dumps(agent.original) for s in secrets)
    if doc is SECRET_CARD:
        assert agent.original["x-vendor"]["tokenUrl"] == "https://auth.example/token"
        assert agent.original["securitySchemes"] == SECRET_CARD["securitySchemes"]
        assert agent.endpoints[0].uri == "https://orders.example/a2a?api_key=***"


def test_a_configured_secret_in_the_description_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """As export refuses a file holding a configured secret's value, so does this path (exit 2, nothing printed)."""
    from lmos_studio.config import get_settings

    # a value without a secret's shape (an `sk-…` key is masked as *** before this check: nothing to refuse)
    monkeypatch.setenv("LMOS_STUDIO_LLM_API_KEY", "opaque-configured-0123456789")
    get_settings.cache_clear()
    try:
        path = write(tmp_path, "card.json", {**CARD, "description": "key opaque-configured-0123456789"})
        code, out, err = cli(capsys, "import", str(path))
    finally:
        get_settings.cache_clear()
    assert code == 2 and not out
    assert "card.json: agent device-orders: contains the value of a configured secret" in err


def test_a_description_too_large_for_the_annotations_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The API server refuses an object whose annotations exceed 256 KiB; printing one would fail at apply."""
    big = {**CARD, "x-notes": ["n" * 1000] * 300}
    code, out, err = cli(capsys, "convert", str(write(tmp_path, "big.json", big)), "--to", "agent")
    assert code == 2 and not out and "Traceback" not in err
    assert "big.json: agent device-orders: metadata.annotations: " in err
    assert "the API server refuses more than 262144" in err
    fits = {**CARD, "x-notes": ["n" * 1000] * 200}
    assert cli(capsys, "convert", str(write(tmp_path, "fits.json", fits)), "--to", "agent")[0] == 0


def test_an_lmos_resource_gets_no_annotation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An Agent resource is the model itself: nothing to carry, the output as before."""
    resource = REFERENCE / "lmos-operator" / "acme-billing-agent-v1.yaml"
    code, out, _ = cli(capsys, "import", str(resource))
    assert code == 0 and ORIGINAL_ANNOTATION not in out
    assert load_documents(out, path="out")[0]["kind"] == "Agent"


def test_redact_data_masks_credentials_and_keeps_what_only_names_them() -> None:
    from lmos_studio.redact import redact_data, redact_url

    doc = {
        "apiKey": "k1",
        "client_secret": "s1",
        "x-token": "t1",
        "password": 1234,
        "tokenUrl": "https://auth.example/token",
        "secretName": "orders-secret",
        "scopes": {"read:token": "Read tokens"},
        "token": {"nested": "kept"},
        "apikey": [],
        "streaming": True,
        "links": ["https://u:p@h.example/x", "https://h.example/x?sig=abc&page=2", "http://www.w3.org/2011/http#"],
    }
    clean, masked = redact_data(doc)
    assert clean == {
        **doc,
        "apiKey": "***",
        "client_secret": "***",
        "x-token": "***",
        "password": "***",
        "links": ["https://h.example/x", "https://h.example/x?sig=***&page=2", "http://www.w3.org/2011/http#"],
    }
    assert masked == ["/apiKey", "/client_secret", "/x-token", "/password", "/links/0", "/links/1"]
    assert doc["apiKey"] == "k1"  # the input is not changed
    assert redact_url("http://www.w3.org/2011/http#") == "http://www.w3.org/2011/http#"  # nothing secret: as written


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "is not JSON (nested too deeply)"),
        ('{"/spec/x": ' + "[" * 900 + "]" * 900 + "}", "nests deeper than 200 levels"),
    ],
    ids=["deeper-than-the-decoder", "deep-value"],
)
def test_a_resource_fields_annotation_nested_too_deeply_is_bad_input(value: str, message: str) -> None:
    """Found by the hostile corpus's new annotations class: such an annotation escaped every reader as a
    RecursionError traceback (the JSON decoder's, or deepcopy's when putting the value back)."""
    from lmos_studio.errors import DesignFileError

    raw = {
        "apiVersion": "lmos.eclipse/v1",
        "kind": "Agent",
        "metadata": {"name": "a", "annotations": {"studio.lmos.eclipse/resource-fields": value}},
        "spec": {},
    }
    field = "metadata.annotations.studio.lmos.eclipse/resource-fields"
    with pytest.raises(DesignFileError, match=re.escape(field) + ": .*" + re.escape(message)):
        lmos.agent_from_resource(raw, path="a.yaml")


SERVER_WRITTEN = """\
apiVersion: lmos.eclipse/v1
kind: Agent
metadata: {name: billing, namespace: default, uid: 3f1c2a4e-0000-4000-8000-000000000001, resourceVersion: "12345",
  generation: 3, creationTimestamp: "2025-01-01T00:00:00Z", managedFields: [{manager: kubectl, operation: Apply}]}
spec: {supportedChannels: [web], providedCapabilities: [{name: view-bill, version: 1.0.0}]}
"""


@pytest.mark.parametrize("command", [("import", "-o", "json"), ("convert", "--to", "agent")])
def test_server_written_metadata_is_not_printed_as_a_resource(
    command: tuple[str, ...], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bug (session 21): import and convert --to agent printed the uid, resourceVersion, generation,
    creationTimestamp and managedFields of a resource read from a cluster as part of a valid Agent resource;
    export drops them. They ride in the resource-fields annotation now, as export keeps them, and come back."""
    from lmos_studio.export.manifests import SERVER_FIELDS
    from lmos_studio.formats.resource_fields import RESOURCE_FIELDS_ANNOTATION

    source = write(tmp_path, "billing.yaml", SERVER_WRITTEN)
    code, out, _ = cli(capsys, command[0], str(source), *command[1:])
    assert code == 0
    doc = json.loads(out)
    doc = doc[0] if isinstance(doc, list) else doc
    assert not set(SERVER_FIELDS) & set(doc["metadata"]), doc["metadata"]
    kept = json.loads(doc["metadata"]["annotations"][RESOURCE_FIELDS_ANNOTATION])
    assert kept["/metadata/uid"] == "3f1c2a4e-0000-4000-8000-000000000001" and kept["/metadata/generation"] == 3
    printed = write(tmp_path, "printed.json", out)
    [before] = detect.read_description_file(source)
    [after] = detect.read_description_file(printed)
    assert after.model_copy(update={"source": ""}) == before.model_copy(update={"source": ""})
