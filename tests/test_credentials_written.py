"""Credentials inside imported descriptions never reach saved designs, exports or converted output (QA, session
13): `import` masked them in the Agent resource it prints, but a design file's Studio document (Designer Save,
`canary`, `import-manifests`, an export's studio/design.yaml) wrote an agent's original description, endpoints
and security schemes verbatim, `convert --to a2a|td|…` printed them, `registry register` printed an id holding
them, and the Registry page's "As LMOS Agent resources" preview was not what `import` prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from lmos_studio.formats import detect
from lmos_studio.formats.design_file import design_to_yaml, read_design, write_design
from lmos_studio.model import Channel, Design, RequiredCapability
from tests.conftest import ROOT
from tests.secret_design import api_key
from tests.test_import_original import DESCRIPTIONS, cli, write
from tests.test_registry_import import pasted

SECRETS = ("hunter2pass", "CARDKEY123", "SCHEMEKEY55")
SECRET_CARD = {
    "name": "Device Orders",
    "description": "Orders phones",
    "version": "1.0.0",
    "supportedInterfaces": [
        {"url": "https://bob:hunter2pass@orders.example/a2a?api_key=CARDKEY123", "protocolBinding": "JSONRPC"}
    ],
    "capabilities": {"streaming": True},
    "securitySchemes": {
        "header": {"apiKeySecurityScheme": {"location": "header", "name": "X-API-Key"}},
        "vendor": {"type": "http", "apiKey": "SCHEMEKEY55"},
    },
    "skills": [{"id": "order", "name": "Order", "description": "Orders a phone", "tags": ["t"]}],
}


def secret_design(tmp_path: Path) -> Design:
    """A design holding the agent the card describes, as the Registry page's "Add to design" makes it, and a
    channel it serves."""
    agents = detect.read_description_file(write(tmp_path, "card.json", SECRET_CARD))
    web = Channel(
        name="web-stable",
        labels={"tenant": "acme", "channel": "web", "version": "1.0.0", "subset": "stable"},
        required_capabilities=(RequiredCapability(name="order", version=">=1.0.0"),),
    )
    update = {"supported_channels": ("web",), "supported_tenants": ("acme",)}
    return Design(name="d", agents=tuple(a.model_copy(update=update) for a in agents), channels=(web,))


def assert_clean(text: str) -> None:
    assert not [s for s in SECRETS if s in text], text
    assert "***" in text


def test_a_saved_design_masks_the_description_credentials(tmp_path: Path) -> None:
    """Fails without the fix: the Studio document wrote the card (user-info, api_key, the scheme's apiKey) and
    the endpoint read from it verbatim. The warning names the fields, never a value."""
    from lmos_studio.formats.design_file import masked_credentials

    design = secret_design(tmp_path)
    assert_clean(design_to_yaml(design))
    saved = read_design(write_design(design, tmp_path / "saved.yaml"))
    agent = saved.agents[0]
    assert agent.endpoints[0].uri == "https://orders.example/a2a?api_key=***"
    assert agent.original["securitySchemes"]["vendor"]["apiKey"] == "***"
    assert agent.original["securitySchemes"]["header"] == SECRET_CARD["securitySchemes"]["header"]  # names a header
    [warning] = masked_credentials(design)
    assert warning.startswith("Agent default/device-orders: what looks like a credential is written as *** (")
    assert "/endpoints/0/uri" in warning and "/original/supportedInterfaces/0/url" in warning
    assert not [s for s in SECRETS if s in warning]
    assert masked_credentials(saved) == []  # masked once: nothing left to mask


def test_a_sample_design_writes_as_before(tmp_path: Path) -> None:
    """No sample holds a credential: nothing masked, no warning (the export goldens stay byte-identical)."""
    from lmos_studio.formats.design_file import masked_credentials
    from tests.conftest import SAMPLES

    for path in sorted(SAMPLES.glob("*.yaml")):
        design = read_design(path)
        assert masked_credentials(design) == [], path.name
        assert "***" not in design_to_yaml(design)


def test_the_export_studio_design_masks_them_with_a_note(tmp_path: Path) -> None:
    """Fails without the fix: studio/design.yaml of an export held the card's credentials."""
    from lmos_studio.export.bundle import ExportOptions, export_design
    from lmos_studio.export.kustomize import render

    bundle = export_design(secret_design(tmp_path), ExportOptions())
    files = render(bundle)
    assert_clean(files["studio/design.yaml"].decode("utf-8"))
    assert not [s for s in SECRETS for data in files.values() if s.encode() in data]
    assert any(n.startswith("studio/design.yaml: Agent default/device-orders: what looks like") for n in bundle.notes)


def test_commands_that_write_a_design_mask_and_warn(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`import-manifests` of a hand-written Agent whose original annotation holds credentials, and `canary` of a
    design holding them (written before the fix with the credentials in the file)."""
    from lmos_studio.formats.original import ORIGINAL_ANNOTATION

    annotation = json.dumps({"format": "a2a", "document": SECRET_CARD})
    resource = {
        "apiVersion": "lmos.eclipse/v1",
        "kind": "Agent",
        "metadata": {"name": "device-orders", "annotations": {ORIGINAL_ANNOTATION: annotation}},
        "spec": {"providedCapabilities": [{"name": "order", "version": "1.0.0"}], "supportedChannels": ["web"]},
    }
    manifest = write(tmp_path, "agent.json", resource)
    out = tmp_path / "design.yaml"
    code, _, err = cli(capsys, "import-manifests", str(manifest), "--out", str(out))
    assert code == 0
    assert_clean(out.read_text(encoding="utf-8"))
    assert "warning: Agent default/device-orders: what looks like a credential is written as ***" in err
    assert cli(capsys, "import-manifests", str(manifest), "--out", str(out), "--strict")[0] == 1

    design = tmp_path / "secret.yaml"
    design.write_text(design_to_yaml(secret_design(tmp_path)).replace("***", "CARDKEY123"), encoding="utf-8")
    canary = tmp_path / "canary.yaml"
    code, _, err = cli(capsys, "canary", str(design), "--agent", "device-orders", "--out", str(canary))
    assert code in (0, 1), err
    assert_clean(canary.read_text(encoding="utf-8"))
    assert "what looks like a credential is written as ***" in err and "CARDKEY123" not in err


@pytest.mark.parametrize("target", [t for t in detect.FORMATS if t != "capabilities"])
def test_convert_masks_credentials_in_every_target(
    target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Fails without the fix for every target but `agent`: the card's user-info, api_key and the scheme's
    apiKey were printed. (A capabilities.json document has no field a card's URL or scheme reaches.)"""
    path = write(tmp_path, "card.json", SECRET_CARD)
    code, out, err = cli(capsys, "convert", str(path), "--to", target, "--channel", "web", "--tenant", "t")
    assert code == 0
    assert not [s for s in SECRETS if s in out + err]
    assert "***" in out
    assert "what looks like a credential is printed as ***" in err
    assert cli(capsys, "convert", str(path), "--to", target, "--channel", "web", "--tenant", "t", "--strict")[0] == 1


@pytest.mark.parametrize("target", detect.FORMATS)
@pytest.mark.parametrize("source", DESCRIPTIONS, ids=lambda p: p.name)
def test_a_credential_free_description_converts_as_before(source: Path, target: str) -> None:
    """Masking changes nothing where there is no credential: the reference descriptions convert exactly as the
    format writers write them, without a warning."""
    from lmos_studio.export.printed import described

    agents = detect.read_description_file(source)
    printed = described(agents, target)
    assert printed.warnings == []
    if target == "agent":
        return  # the strict resource with its annotations: tests/test_import_original.py
    expected = detect.write_descriptions(agents, target)
    assert printed.documents == ([expected] if target in ("routing-spec", "classifier") else expected)


OAUTH2_TD = {
    "@context": ["https://www.w3.org/2022/wot/td/v1.1", {"lmos": "https://eclipse.dev/lmos/protocol/v1"}],
    "id": "urn:lmos:agent:orders",
    "title": "orders",
    "securityDefinitions": {
        "oauth2_sc": {
            "scheme": "oauth2",
            "flow": "client",
            "token": "https://auth.example/token",
            "scopes": ["orders"],
        }
    },
    "security": "oauth2_sc",
    "lmos:capabilities": [{"name": "order", "version": "1.0.0"}],
}


def test_an_oauth2_token_endpoint_is_not_a_credential(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A WoT OAuth2 scheme's `token` is the token server's URL, not a token: it was printed as *** by `import`
    (and would have been by `convert` and a saved design), so the TD no longer round-tripped."""
    path = write(tmp_path, "td.json", OAUTH2_TD)
    code, out, err = cli(capsys, "convert", str(path), "--to", "td")
    assert code == 0 and "credential" not in err
    assert json.loads(out) == OAUTH2_TD
    code, out, err = cli(capsys, "import", str(path), "--channel", "web")
    assert code == 0 and "credential" not in err
    assert detect.read_descriptions(out, source="out")[0].original == OAUTH2_TD


def test_register_prints_an_id_without_its_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The registry keeps what the user sent (their description, to a registry they chose); the id printed back
    showed a URL's user-info and token parameter."""
    from lmos_studio.config import get_settings

    td = {**OAUTH2_TD, "id": "https://bob:hunter2pass@things.example/orders?token=CARDKEY123"}
    monkeypatch.setenv("LMOS_STUDIO_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        code, out, err = cli(capsys, "registry", "register", str(write(tmp_path, "td.json", td)))
    finally:
        get_settings.cache_clear()
    assert code == 0
    assert out == "https://things.example/orders?token=***\n"
    assert "holds a credential, printed as ***" in err
    assert not [s for s in SECRETS if s in out + err]


def test_search_and_remove_print_ids_without_their_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`registry search` (table and `-o json`) printed a registered id with a URL's user-info and token
    parameter, and `registry remove ID` echoed it back. Both now mask them (JSON too: it lands in CI logs;
    `registry remove` needs the id as the description wrote it, which the warning says)."""
    from lmos_studio.config import get_settings

    thing_id = "https://bob:hunter2pass@things.example/orders?token=CARDKEY123"
    td = {**OAUTH2_TD, "id": thing_id}
    monkeypatch.setenv("LMOS_STUDIO_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        assert cli(capsys, "registry", "register", str(write(tmp_path, "td.json", td)))[0] == 0
        table = cli(capsys, "registry", "search")
        as_json = cli(capsys, "registry", "search", "-o", "json")
        removed = cli(capsys, "registry", "remove", thing_id)
    finally:
        get_settings.cache_clear()
    for code, out, err in (table, as_json, removed):
        assert code == 0, err
        assert "things.example/orders?token=***" in out
        assert not [s for s in SECRETS if s in out + err]
    assert "holds a credential, printed as ***" in table[2] and "registry remove" in as_json[2]
    assert "https://things.example/orders?token=***" in [row["id"] for row in json.loads(as_json[1])["agents"]]


@pytest.mark.parametrize("doc", [SECRET_CARD, OAUTH2_TD], ids=["card-with-credentials", "td"])
def test_the_registry_page_shows_what_import_prints(
    doc: dict[str, object], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Fails without the fix: the preview was a non-strict resource without the annotations (an A2A skill's
    title and tags inline, no original description), and gave no warning about credentials."""
    code, printed, err = cli(capsys, "import", str(write(tmp_path, "d.json", doc)))
    assert code == 0
    at = pasted(json.dumps(doc))
    shown = [c.value for c in at.code if "kind: Agent" in c.value]
    assert shown == [printed.removesuffix("\n")]  # st.code drops the last line break
    masked = [w.value for w in at.warning if "what looks like a credential" in w.value]
    assert len(masked) == ("what looks like a credential" in err)
    if doc is SECRET_CARD:
        assert not [s for s in SECRETS if s in shown[0] + masked[0]]


def test_designer_save_masks_and_warns(tmp_path: Path) -> None:
    """Designer "Save as" of a design holding an imported card: the file is clean and the page says which fields
    were written as ***."""
    from lmos_studio.history import History
    from lmos_studio.ui import state

    design = secret_design(tmp_path)
    app = AppTest.from_file(str(ROOT / "app_pages" / "designer.py"), default_timeout=60)
    app.session_state[state.HISTORY] = History(present=design, origin="memory", saved_path=None)
    app.run()
    assert not app.exception, app.exception
    target = tmp_path / "saved.yaml"
    next(w for w in app.text_input if w.label == "Save as").input(str(target)).run()
    next(w for w in app.button if w.label == "Save as").click().run()
    assert not app.exception, app.exception
    assert_clean(target.read_text(encoding="utf-8"))
    warnings = [w.value for w in app.warning if "credential" in w.value]
    assert len(warnings) == 1 and "written as \\*\\*\\*" in warnings[0], warnings
    assert not [s for s in SECRETS if s in warnings[0]]


_WORDS = st.sampled_from(
    [
        "apiKey",
        "x-token",
        "Password",
        "tokenUrl",
        "secretName",
        "name",
        "value",
        "url",
        "scopes",
        "read:token",
        "PRIVATE_KEY",
    ]
)
_TEXTS = st.sampled_from(
    [
        *(
            "",
            "plain",
            "https://h.example/a",
            "https://u:p@h.example/a",
            "https://h.example/a?sig=1&x=2",
            "wss://h/?q=1",
        ),
        # credential-shaped texts built at run time (no key-shaped literal in the repository)
        *(" ".join(("Bearer", "abc12345xyz")), "Basic authentication", api_key("0123456789abcdefghijk")),
        "-".join(("task", "0123456789abcdefghijk")),
        *('{"apiKey": "k"}', '["https://u:p@h.example/"]', "{not json}", "X-Api-Key", "Authorization"),
    ]
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | _TEXTS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_WORDS | st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)


@given(_JSON)
def test_redact_data_skips_only_what_has_nothing_to_mask(value: object) -> None:
    """`redact_data` skips the walk when a quick test of the JSON text finds nothing that could be masked; it
    must give what the walk gives (the quick test is what keeps saving a 10 000-agent design fast)."""
    from lmos_studio.redact import _redacted, redact_data

    walked: list[str] = []
    assert redact_data(value) == (_redacted(value, "", walked), walked)


def test_the_registry_page_detail_shows_urls_without_credentials(tmp_path: Path) -> None:
    """The Registry page's agent detail showed a registered card's endpoint, a TD's id and a link in the
    description with user-info and token parameters (README: URLs are shown without them on every page)."""
    from lmos_studio.registry.sources import Found, detail_fields

    [agent] = secret_design(tmp_path).agents
    agent = agent.model_copy(update={"description": "docs: https://bob:hunter2pass@docs.example/orders"})
    found = Found(agent=agent, source="embedded", thing_id="https://things.example/orders?token=CARDKEY123")
    shown = dict(detail_fields(found).itertuples(index=False))
    assert not [s for s in SECRETS for value in shown.values() if s in str(value)]
    assert shown["endpoints"] == "https://orders.example/a2a?api_key=***"
    assert shown["id"] == "https://things.example/orders?token=***"
    assert shown["description"] == "docs: https://docs.example/orders"


def test_the_agent_resource_of_an_imported_agent_is_masked_in_designs_and_exports(tmp_path: Path) -> None:
    """A card's description (or a skill's text) with a credentialed link reached the Agent resource of a saved
    design and the exported Agent manifest verbatim (`import` masked it in the resource it prints)."""
    from lmos_studio.export.bundle import ExportOptions, export_design
    from lmos_studio.export.kustomize import render
    from lmos_studio.formats.design_file import masked_credentials

    [agent] = secret_design(tmp_path).agents
    link = "see https://bob:hunter2pass@docs.example/orders"
    design = secret_design(tmp_path).replace(agents=(agent.model_copy(update={"description": link}),))
    assert_clean(design_to_yaml(design))
    assert read_design(write_design(design, tmp_path / "d.yaml")).agents[0].description == (
        "see https://docs.example/orders"
    )
    assert "resource /spec/description" in masked_credentials(design)[0]
    files = render(export_design(design, ExportOptions()))
    assert not [path for path, data in files.items() if b"hunter2pass" in data]
    assert b"see https://docs.example/orders" in files["agents/default/device-orders.yaml"]


def test_a_kept_secret_is_saved_without_its_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A v1 Secret kept in a design (export leaves it out, with a note) was written with its values, under keys
    that name no credential (`conn`, `config`), into every saved design: `canary --out`, Save as, an
    `import-manifests --out`. Its values are written as `***` now, with the usual warning; its keys are kept."""
    from tests.conftest import ACME

    value = "Zebra42Horse-opaque"
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "default"},
        "type": "Opaque",
        "data": {"config": "WmVicmE0MkhvcnNlLW9wYXF1ZQ==", "empty": ""},
        "stringData": {"conn": f"host=db user=app pw={value}"},
    }
    design = read_design(ACME).replace(other_resources=(secret,))
    saved = tmp_path / "saved.yaml"
    write_design(design, saved)
    text = saved.read_text(encoding="utf-8")
    assert value not in text and "WmVicmE0MkhvcnNl" not in text
    assert "config: '***'" in text and "conn: '***'" in text and "empty: ''" in text and "name: db" in text
    design_path = tmp_path / "design.yaml"
    design_path.write_text(design_to_yaml(read_design(ACME)) + "---\n" + json.dumps(secret) + "\n", encoding="utf-8")
    code, _, err = cli(capsys, "canary", str(design_path), "--agent", "billing-agent-stable", "--out", str(saved))
    assert code in (0, 1), err
    assert value not in saved.read_text(encoding="utf-8")
    assert "Secret db: what looks like a credential is written as *** (/data/config, /stringData/conn)" in err
