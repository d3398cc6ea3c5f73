"""Secrets never leave: one hostile design (tests/secret_design.py) with a secret planted in every place a
description can carry one, driven through every output path (saved design, export folder and zip, convert,
import, diff, route, lint, resolve, validate, graph, canary, whatif, routing tests, the embedded registry, the
registry server's answers, DEBUG log records, the Overview/Designer/Evaluate/Export/Playground pages and the
Registry page's import). No planted secret may appear in any of them; the design's plain URL, capability names,
versions and Secret names must."""

from __future__ import annotations

import base64
import json
import logging
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lmos_studio.formats.design_file import design_to_yaml, read_design, write_design
from tests.conftest import ACME
from tests.secret_design import CARD, KEPT, ORIGINAL, SECRETS, TD, api_key, leaked, write_secret_design
from tests.test_import_original import cli, write

PEM_KEY = b"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAtest0123456789abcdefghi\n-----END RSA PRIVATE KEY-----\n"


def _wrapped(text: str) -> str:
    """Base64 as `base64` wraps it (76 characters a line), indented as in a YAML block."""
    return "\n  ".join(text[i : i + 76] for i in range(0, len(text), 76))


@pytest.fixture(autouse=True)
def debug_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)


@pytest.fixture(autouse=True)
def no_secret_logged(caplog: pytest.LogCaptureFixture) -> object:
    """Every test here also checks the log records it made at DEBUG."""
    yield
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert leaked(logged) == []


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    return write_secret_design(tmp_path)


def assert_clean(text: str | bytes, where: str = "") -> None:
    found = leaked(text)
    assert not found, f"{where}: {', '.join(found)}"


def test_the_fixture_plants_every_secret(hostile: Path) -> None:
    """The design as read holds every planted secret (else the other tests prove nothing)."""
    held = read_design(hostile).model_dump_json()
    assert [s for s in SECRETS if s not in held] == []


def test_a_saved_design_holds_no_secret(hostile: Path, tmp_path: Path) -> None:
    design = read_design(hostile)
    text = design_to_yaml(design)
    assert_clean(text)
    for kept in KEPT:
        assert kept in text, kept
    saved = write_design(design, tmp_path / "saved.yaml")
    assert_clean(saved.read_text(encoding="utf-8"))
    again = read_design(saved)  # reloads
    assert [a.name for a in again.agents] == [a.name for a in design.agents]


@pytest.mark.parametrize("workloads", [False, True], ids=["resources", "with-workloads"])
def test_export_folder_and_zip_hold_no_secret(
    tmp_path: Path, workloads: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every file of the folder and of the zip, and what the command prints (its notes name masked fields)."""
    design = write_secret_design(tmp_path, exportable=True)
    out, archive = tmp_path / "out", tmp_path / "out.zip"
    args = ["export", str(design), "--out", str(out), "--zip", str(archive)]
    code, printed, err = cli(capsys, *(args + (["--with-workloads", "--with-istio"] if workloads else [])))
    assert code == 0, err
    assert_clean(printed + err)
    assert "what looks like a credential is written as ***" in printed + err
    files = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert "studio/design.yaml" in files
    for name, data in files.items():
        assert_clean(data, name)
    with zipfile.ZipFile(archive) as zipped:
        assert sorted(name.partition("/")[2] for name in zipped.namelist()) == sorted(files)  # under <design>/
        for name in zipped.namelist():
            assert_clean(zipped.read(name), name)
    everything = b"".join(files.values()).decode("utf-8")
    for kept in KEPT:
        assert kept in everything, kept
    assert ("kind: Deployment" in everything) == workloads
    assert read_design(out).agent("billing-agent") is not None  # the export reads back


def test_export_refuses_a_secret_env_value_or_label_without_printing_it(
    hostile: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An env value under an innocent name that is plainly a secret (Bearer token, URL with user-info, sk- key,
    PEM block, Basic credential) was exported into the Deployment as written; a label holding an API key into
    the Agent. Masking them would export a broken Deployment or label: export refuses, naming the field only."""
    out = tmp_path / "out"
    code, printed, err = cli(capsys, "export", str(hostile), "--out", str(out))
    assert code == 2 and not out.exists()
    assert "metadata.labels.cfg: looks like a credential" in err
    assert_clean(printed + err)
    unlabelled = tmp_path / "unlabelled.yaml"
    text = hostile.read_text(encoding="utf-8")
    unlabelled.write_text("".join(line for line in text.splitlines(True) if not line.startswith("    cfg: ")))
    for env in ("UPSTREAM_AUTH_HEADER", "UPSTREAM_URL", "LLM_FALLBACK", "SIGNING_MATERIAL", "PROXY_LOGIN"):
        code, printed, err = cli(capsys, "export", str(unlabelled), "--out", str(out), "--with-workloads")
        assert code == 2 and not out.exists(), err
        assert f"({env}): its literal value holds what looks like a secret" in err
        assert_clean(printed + err)
        text = unlabelled.read_text(encoding="utf-8")
        unlabelled.write_text("".join(line for line in text.splitlines(True) if f"{{name: {env}," not in line))


def _descriptions(tmp_path: Path) -> list[Path]:
    """The hostile design's described agents as the files `convert`, `import` and `registry register` read: the
    card, the TD, and hand-written Agent resources (one with annotations and unknown fields, one carrying the
    original annotation)."""
    import yaml

    from tests.secret_design import DESIGN_YAML

    docs = list(yaml.safe_load_all(DESIGN_YAML))
    billing = next(d for d in docs if d["metadata"]["name"] == "billing-agent")
    contract = next(d for d in docs if d["metadata"]["name"] == "contract-agent")
    assert json.loads(contract["metadata"]["annotations"]["studio.lmos.eclipse/original"]) == ORIGINAL
    return [
        write(tmp_path, "card.json", CARD),
        write(tmp_path, "td.json", TD),
        write(tmp_path, "billing.json", billing),
        write(tmp_path, "contract.json", contract),
    ]


@pytest.mark.parametrize("target", ["agent", "td", "a2a", "a2a-0.3", "capabilities", "routing-spec", "classifier"])
def test_convert_prints_no_secret(target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for path in _descriptions(tmp_path):
        for output in ("json", "yaml"):
            code, out, err = cli(capsys, "convert", str(path), "--to", target, "-o", output, "--channel", "web")
            assert code == 0, err
            assert_clean(out + err, f"{path.name} → {target} ({output})")


def test_import_prints_no_secret(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for path in _descriptions(tmp_path):
        code, out, err = cli(capsys, "import", str(path), "--channel", "web")
        assert code == 0, err
        assert_clean(out + err, path.name)


def _changed(hostile: Path, tmp_path: Path) -> Path:
    """The hostile design with every secret replaced by another one (so diff shows a before and an after)."""
    text = hostile.read_text(encoding="utf-8")
    for secret in SECRETS:
        text = text.replace(secret, secret[:-3] + "Zz9")
    path = tmp_path / "changed.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("output", ["table", "json", "yaml"])
def test_diff_prints_no_secret(output: str, hostile: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("apiVersion: studio.lmos.eclipse/v1alpha1\nkind: StudioDesign\nmetadata: {name: e}\n")
    changed = _changed(hostile, tmp_path)
    for old, new in ((empty, hostile), (hostile, empty), (hostile, changed)):
        code, out, err = cli(capsys, "diff", str(old), str(new), "-o", output)
        assert code in (0, 1), err
        assert_clean(out + err, f"{old.name} → {new.name}")
        assert "billing-agent" in out and "acme-web-stable" in out


def test_design_commands_print_no_secret(hostile: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = [
        ["route", str(hostile), "show my bill", "-c", "acme-web-stable", "-o", "json", "--router", "statistical"],
        ["route", str(hostile), "show my bill", "-c", "acme-web-stable", "-o", "table", "--router", "statistical"],
        ["lint", str(hostile), "-o", "json"],
        ["lint", str(hostile)],
        ["resolve", str(hostile)],
        ["validate", str(hostile)],
        ["test", str(hostile), "--router", "statistical"],
        ["graph", str(hostile)],
        ["graph", str(hostile), "--html", str(tmp_path / "graph.html")],
        ["canary", str(hostile), "--agent", "billing-agent", "--out", str(tmp_path / "canary.yaml")],
        ["whatif", str(hostile), "--remove-agent", "billing-agent", "--router", "statistical"],
    ]
    for args in runs:
        code, out, err = cli(capsys, *args)
        assert code in (0, 1), f"{args[0]}: {err}"  # 1: a lint error or failed routing test, not bad input
        assert_clean(out + err, args[0])
    for written in ("graph.html", "canary.yaml"):
        if (tmp_path / written).exists():
            assert_clean((tmp_path / written).read_text(encoding="utf-8"), written)


def test_the_embedded_registry_prints_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from lmos_studio.config import get_settings

    monkeypatch.setenv("LMOS_STUDIO_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        for path in _descriptions(tmp_path):
            code, out, err = cli(capsys, "registry", "register", str(path))
            assert code == 0, err
            assert_clean(out + err, path.name)
        for args in (
            ["registry", "search"],
            ["registry", "search", "-o", "json"],
            ["registry", "search", "--text", "bill"],
        ):
            code, out, err = cli(capsys, *args)
            assert code == 0, err
            assert_clean(out + err, " ".join(args))
    finally:
        get_settings.cache_clear()


def test_the_registry_server_answers_no_secret(tmp_path: Path) -> None:
    from lmos_studio.registry.server import create_app
    from lmos_studio.registry.stores import open_store

    store = open_store(str(tmp_path / "r.sqlite3"), seed=False)
    try:
        client = TestClient(create_app(store))
        for path in _descriptions(tmp_path):
            body = path.read_bytes()
            response = client.post("/things", content=body, headers={"Content-Type": "application/td+json"})
            assert_clean(response.text, path.name)
        listing = client.get("/things")
        assert_clean(listing.text, "/things")
        assert "https://docs.example/billing/guide" in listing.text and "view-bill" in listing.text
        ids = [thing.get("id") for thing in listing.json()] if listing.status_code == 200 else []
        for thing_id in ids:
            assert_clean(client.get(f"/things/{thing_id}").text, thing_id)
        for url in ("/search", "/search?fields=td", "/search?q=bill"):
            answer = client.get(url)
            assert_clean(answer.text, url)
    finally:
        store.close()


def _page_text(app: object) -> str:
    """Everything the page's element tree holds (texts, tables, code, tooltips), as protobuf text."""
    parts: list[str] = []

    def walk(node: object) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(app._tree)  # type: ignore[attr-defined]
    return "\n".join(parts)


@pytest.mark.parametrize("page", ["overview", "designer", "evaluate", "export", "playground"])
def test_the_pages_show_no_secret(page: str, hostile: Path) -> None:
    """The pages opened on the hostile design (AppTest): group and trust edge descriptions, routing test
    queries, tables and previews. (Widgets the user would have to operate further are not driven.)"""
    from lmos_studio.ui import state
    from tests.conftest import ROOT
    from tests.test_designer_page import open_page

    app = open_page(hostile, page=str(ROOT / "app_pages" / f"{page}.py"))
    if page == "playground":
        app.text_input(key=state.QUERY).input("show my bill").run()
        assert not app.exception, app.exception
    shown = _page_text(app)
    assert "billing-agent" in shown
    assert_clean(shown, page)


def test_the_registry_page_shows_no_secret(tmp_path: Path) -> None:
    """The card and the TD pasted into the Registry page's import box: the converted resource, the warnings."""
    from tests.test_registry_import import pasted

    for doc in (CARD, TD):
        app = pasted(json.dumps(doc))
        shown = _page_text(app)
        assert "kind: Agent" in shown
        assert_clean(shown, str(doc.get("name") or doc.get("title")))


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", "Bearer ***"),
        ("authorization: basic dXNlcjpwYXNzd29yZA==", "authorization: basic ***"),
        ("baſic dXNlcjpwYXNzd29yZA==", "baſic ***"),  # long s: `(?i)basic` takes it, str.lower does not
        (f"key {api_key('proj-0123456789abcdefghijKLMN')} here", "key *** here"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl", "***"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\n", "***\n"),
        ("ghp_0123456789abcdefghijABCDEFGHIJ0123", "***"),
        ("AKIAABCDEFGHIJKLMNOP", "***"),
        ("https://u:p@h.example/a?region=eu&api_key=1", "https://h.example/a?region=eu&api_key=***"),
        # a password holding '/', '#' or '?' unescaped ended the host there: it was shown whole
        ("postgresql://app:pa/ss@127.0.0.1:5432/db failed", "postgresql://127.0.0.1:5432/db failed"),
        ("postgresql://app:pa#ss@db/x", "postgresql://db/x"),
        ("postgresql://app:p?a@ss@db/x", "postgresql://db/x"),
        (
            '{"auth": {"apiKey": "k1"}, "url": "https://h.example/"}',
            '{"auth":{"apiKey":"***"},"url":"https://h.example/"}',
        ),
        # a credential assigned in configuration text (a ConfigMap's .env, .properties or YAML block) was kept
        ("password=hunter2\napi_key: AKIAIOSFODNN7EXAMPLE\n", "password=***\napi_key: ***\n"),
        ("DB_PASSWORD = 'hunter2'", "DB_PASSWORD = '***'"),
        ("spring.datasource.password=s3cret", "spring.datasource.password=***"),
        ("client_secret=abc&grant_type=client_credentials", "client_secret=***&grant_type=client_credentials"),
        ("server:\n  token: abc123\n", "server:\n  token: ***\n"),
        # a kubeconfig kept in a ConfigMap's text: its client key was kept, certificates are public
        (
            "users:\n- user:\n    client-key-data: S0VZ\n    client-certificate-data: Q0VSVA==\n",
            "users:\n- user:\n    client-key-data: ***\n    client-certificate-data: Q0VSVA==\n",
        ),
        ("-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOYBF\n-----END PGP PRIVATE KEY BLOCK-----", "***"),
        # a PEM private key in base64 (a Secret's tls.key, a kubeconfig's client-key-data), on one line or wrapped
        (f"tls.key: {base64.b64encode(PEM_KEY).decode()}", "tls.key: ***"),
        (f"key: |\n  {_wrapped(base64.b64encode(PEM_KEY).decode())}\nname: x\n", "key: |\n  ***\nname: x\n"),
    ],
)
def test_secrets_are_masked_by_their_shape(text: str, shown: str) -> None:
    from lmos_studio.redact import redact_text

    assert redact_text(text) == shown


@pytest.mark.parametrize(
    "text",
    [
        "Basic authentication is used; Bearer tokens expire",  # prose about credentials
        "task-manager-agent-with-a-very-long-name",  # `sk-` inside a word
        "https://docs.example/billing/guide?page=2",
        "https://medium.example/@team and https://h.example:8080/@bob/x",  # an '@' in a path: no user-info
        "view-bill 1.4.2",
        '{"name": "view-bill", "version": "1.4.2"}',  # JSON without a credential: as written, spacing too
        "[not json",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",  # a certificate is public
        base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").decode(),  # so in base64
        "certificate-authority-data: Q0E=\nclient-key: /home/u/.minikube/client.key",  # public, and a file's path
        "tokenUrl=https://auth.example/token",  # a key that only mentions a credential word
        "password=${DB_PASSWORD}",  # an environment reference, not a secret
        "spec.password: missing; add `password:`",  # a message about a field
        "the token: it expires after an hour",  # prose
    ],
)
def test_what_is_not_a_secret_is_kept(text: str) -> None:
    from lmos_studio.redact import redact_data, redact_text

    assert redact_text(text) == text
    assert redact_data({"value": text}) == ({"value": text}, [])


def test_a_kubeconfig_kept_in_a_design_is_written_without_its_keys(tmp_path: Path) -> None:
    """A kubeconfig kept in a design (read as any other document) went into the saved design and the export with
    its users' client-key-data as written: no key of it was named like a credential, and the value (base64 of a PEM
    key) has no PEM line to find. Key-data keys are masked now, and a PEM private key in base64 wherever it stands;
    the certificates, public, are kept."""
    from lmos_studio.export.bundle import ExportOptions, export_design
    from lmos_studio.export.kustomize import render
    from lmos_studio.formats.design_file import load_design

    key = base64.b64encode(PEM_KEY).decode()
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "metadata": {"name": "kc"},
        "clusters": [{"name": "c", "cluster": {"server": "https://k8s.example", "certificate-authority-data": "Q0E="}}],
        "users": [
            {"name": "u", "user": {"client-key-data": "S0VZ", "client-certificate-data": "Q0VSVA=="}},
            {"name": "v", "user": {"clientKeyData": key}},
        ],
        "data": {"tls.key": key},
    }
    design_path = tmp_path / "design.yaml"
    design_path.write_text(
        design_to_yaml(read_design(ACME)) + "---\n" + json.dumps(kubeconfig) + "\n", encoding="utf-8"
    )
    design = load_design([design_path]).design
    write_design(design, tmp_path / "saved.yaml")
    files = render(export_design(design, ExportOptions()))
    for text in [(tmp_path / "saved.yaml").read_text(encoding="utf-8"), *(f.decode("utf-8") for f in files.values())]:
        assert "S0VZ" not in text and key[:40] not in text
    kept = (tmp_path / "saved.yaml").read_text(encoding="utf-8")
    assert "client-key-data: '***'" in kept and "Q0VSVA==" in kept and "Q0E=" in kept


def test_a_list_under_a_credential_key_is_masked() -> None:
    """`password: [hunter2]` (or `client-key-data: [..]`) was kept, value by value, in designs and exports, and an
    export's validation message quoted it: only a text or number under such a key was masked."""
    from lmos_studio.redact import redact_data

    clean, masked = redact_data({"data": {"client-key-data": ["S0VZ"], "password": ["a1", "b2"], "tokens": ["x"]}})
    assert clean == {"data": {"client-key-data": ["***"], "password": ["***", "***"], "tokens": ["x"]}}
    assert masked == ["/data/client-key-data", "/data/password"]


def test_a_name_value_pair_with_a_credential_name_is_masked() -> None:
    """An env var or header as `{name, value}`: the name says what the value is (`OPENAI_API_KEY`,
    `Authorization`); a Secret reference (`secretName`, `secretKey`) is a name, not a secret."""
    from lmos_studio.redact import redact_data

    env = [
        {"name": "OPENAI_API_KEY", "value": "abc123"},
        {"name": "Authorization", "value": "opaque"},
        {"name": "REGION", "value": "eu"},
        {"name": "OPENAI_API_KEY", "secretName": "billing-llm", "secretKey": "api-key"},
    ]
    clean, masked = redact_data(env)
    assert [e.get("value") for e in clean] == ["***", "***", "eu", None]
    assert clean[3] == env[3]
    assert masked == ["/0/value", "/1/value"]


def test_a_database_password_holding_a_slash_is_never_shown(tmp_path: Path) -> None:
    """LMOS_STUDIO_REGISTRY_DB=postgresql://app:Zq9/rest@host/db (a password typed with '/' unescaped): the message
    named the part before '/' as the port ('Zq9') and showed the URL, password and all, wherever it was quoted."""
    from lmos_studio.errors import RegistryError
    from lmos_studio.redact import redact_text
    from lmos_studio.registry.store_pg import check_url

    url = "postgresql://app:Zq9/rest@127.0.0.1:5432/db"
    with pytest.raises(RegistryError) as caught:
        check_url(url)
    assert "Zq9" not in str(caught.value) and "%2F" in str(caught.value)
    assert "Zq9" not in redact_text(f"cannot connect to {url}")
