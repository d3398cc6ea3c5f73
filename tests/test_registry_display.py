"""How registry results are shown: a remote registry's text (untrusted) in CLI tables, messages and the Registry
page's tables and Markdown."""

from __future__ import annotations

import json
import unicodedata
from http.server import BaseHTTPRequestHandler
from typing import Any

import yaml

from lmos_studio.markdown import code, escape
from lmos_studio.registry.clients import OperatorClient
from lmos_studio.registry.store import Query
from tests.conftest import REFERENCE, run_cli
from tests.registry_helpers import make_td
from tests.test_registry_clients import FIXTURES, Route, stub_server

RLO, LRI = "\u202e", "\u2066"  # right-to-left override, left-to-right isolate
ESC = "\x1b"


def hostile_td() -> dict[str, Any]:
    """A TD whose capability, tenant, channel and id hold line breaks, a terminal escape and bidi controls."""
    return make_td(
        "spoof-agent",
        caps=(f"view-bill{RLO}txt.exe",),
        tenants=(f"acme\n{ESC}[31mFAKE ROW",),
        channels=("web\tivr",),
        thing_id="urn:test:spoof\r\nurn:test:other",
        description=f"line one\nline two{LRI}",
    )


def is_hidden(char: str) -> bool:
    """A character a terminal or a browser does not print as itself (a control, a bidi or a format character)."""
    return unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") and char != "\n"


def test_cli_table_shows_control_and_bidi_characters_escaped_json_keeps_them() -> None:
    """A newline in a tenant broke the table's row in two (a second, fake row), ESC coloured the terminal and
    U+202E turned a capability's name around. The table shows each as an escape on its one row; JSON output
    keeps the registry's text exactly."""

    def route(handler: BaseHTTPRequestHandler) -> tuple[int, Any]:
        return 200, {"total": 1, "items": [hostile_td()], "facets": {}}

    with stub_server(route) as url:
        table = run_cli("registry", "search", "--url", url)
        as_json = run_cli("registry", "search", "--url", url, "-o", "json")
    assert table.returncode == 0 and as_json.returncode == 0, (table.stderr, as_json.stderr)
    lines = table.stdout.splitlines()
    assert len(lines) == 3, lines  # header, rule, one row
    assert not [c for c in table.stdout if is_hidden(c) or c in "\r\t"], repr(table.stdout)
    row = lines[2]
    assert "view-bill\\u202etxt.exe" in row and "acme\\n\\x1b[31mFAKE ROW" in row and "web\\tivr" in row, row
    assert "urn:test:spoof\\r\\nurn:test:other" in row, row
    (found,) = json.loads(as_json.stdout)["agents"]
    assert found["capabilities"] == [f"view-bill{RLO}txt.exe@1.0.0"] and found["tenants"] == [
        f"acme\n{ESC}[31mFAKE ROW"
    ]
    assert found["id"] == "urn:test:spoof\r\nurn:test:other"


def test_cli_messages_show_a_registry_s_words_escaped() -> None:
    """A registry's problem detail is quoted in the CLI's message: its line breaks and bidi controls made a
    second, made-up `error:` line and reversed text."""

    def route(handler: BaseHTTPRequestHandler) -> tuple[int, Any]:
        return 500, {"detail": f"broken\nerror: all good{RLO}kcab"}

    with stub_server(route) as url:
        failed = run_cli("registry", "search", "--url", url)
    assert failed.returncode == 2
    assert failed.stderr.count("\n") == 1 and RLO not in failed.stderr, repr(failed.stderr)
    assert "broken\\nerror: all good\\u202ekcab" in failed.stderr, failed.stderr


def test_markdown_text_shows_bidi_and_control_characters_as_escapes() -> None:
    """Markdown (page titles, warnings, captions) showed a bidi override as itself: the text after it ran
    right-to-left. It is written as its escape, like every other character that is not printable; a line
    break still folds to a space."""
    shown = escape(f"agent{RLO}gnp.exe{LRI} a{ESC}b\nnext")
    assert RLO not in shown and LRI not in shown and ESC not in shown
    assert "\\\\u202e" in shown and "\\\\u2066" in shown and "\\\\x1b" in shown and " next" in shown, shown
    spanned = code(f"name{RLO}x")
    assert RLO not in spanned and "\\u202e" in spanned, spanned


def test_page_tables_and_warnings_show_bidi_controls_as_escapes(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The Registry page's results and detail tables showed U+202E as itself (a capability's name reversed in
    the browser), and a failing registry's detail in a warning too."""
    from tests.test_registry_page import app

    monkeypatch.setenv("LMOS_STUDIO_DATA_DIR", str(tmp_path))
    from lmos_studio.config import get_settings
    from lmos_studio.ui import resources

    get_settings.cache_clear()
    resources.registry_store.clear()
    resources.registry_search.clear()

    def good(handler: BaseHTTPRequestHandler) -> tuple[int, Any]:
        return 200, {"total": 1, "items": [hostile_td()], "facets": {}}

    def bad(handler: BaseHTTPRequestHandler) -> tuple[int, Any]:
        return 500, {"detail": f"down{RLO}nwod"}

    try:
        with stub_server(good) as url, stub_server(bad) as failing:
            at = app().run()
            at.checkbox(key="registry_src_embedded").uncheck()
            at.text_area(key="registry_src_tdd").set_value(f"{url}\n{failing}").run()
            box = at.selectbox(key="registry_open")
            box.set_value(box.options[0]).run()
    finally:
        get_settings.cache_clear()
    assert not at.exception
    cells = [str(v) for frame in at.dataframe for column in frame.value.columns for v in frame.value[column]]
    assert cells and not [c for cell in cells for c in cell if is_hidden(c)], cells
    assert any("view-bill\\u202etxt.exe" in cell for cell in cells), cells
    warnings = [w.value for w in at.warning]
    assert any("u202enwod" in w for w in warnings) and not any(RLO in w for w in warnings), warnings


# -- many failing channels of an operator: one message, the whole list alongside --------------------------------


def failing_operator(good: int = 2, missing: int = 150, broken: int = 50) -> Route:
    """An operator API whose tenant acme has `good` channels that answer, `missing` whose routing is 404 and
    `broken` whose routing is 500."""
    channel = yaml.safe_load((REFERENCE / "lmos-operator" / "acme-web-channel-v1.yaml").read_text())
    routing = json.loads((FIXTURES / "operator-acme-ivr-routing.json").read_text())
    meta, labels = channel["metadata"], channel["metadata"]["labels"]
    names = [f"good-{n}" for n in range(good)] + [f"web-{n}" for n in range(missing + broken)]
    channels = [{**channel, "metadata": {**meta, "name": n, "labels": {**labels, "channel": n}}} for n in names]

    def route(handler: BaseHTTPRequestHandler) -> tuple[int, Any]:
        if handler.path == "/apis/v1/tenants/acme/channels":
            return 200, channels
        name = handler.path.removesuffix("/routing").rpartition("/")[2]
        if name.startswith("good-"):
            return 200, routing
        return (404, {"detail": f"no routing {name}"}) if int(name[4:]) < missing else (500, {"detail": "boom"})

    return route


def test_many_failing_channels_are_one_message_grouped_by_reason() -> None:
    """An operator whose 200 channels' routings failed gave 200 messages: 200 warnings on the Registry page and
    200 lines on stderr. It is one message: how many of how many, grouped by reason, the first few names;
    every channel and why is in `unread`."""
    with stub_server(failing_operator()) as url, OperatorClient(url) as client:
        result = client.agents(["acme"])
    assert {a.name for a in result.agents} >= {"billing-agent-stable"}
    assert len(result.errors) == 1, result.errors[:3]
    said = result.errors[0]
    assert said.startswith(f"{url}: 200 of 202 channels") and said.count(url) == 1, said
    assert "150 × not found (404) (web-0, web-1, web-2 and 147 more)" in said, said
    assert "50 × the server failed (500) (web-150, web-151, web-152 and 47 more)" in said, said
    assert "-o json" in said and "Registry page" in said, said
    assert len(result.unread) == 200 and {u.tenant for u in result.unread} == {"acme"}
    first = result.unread[0]
    assert (first.kind, first.item, first.reason) == ("channel", "web-0", "not found (404)")
    assert "no routing web-0" in first.message


def test_one_failing_channel_keeps_its_own_message() -> None:
    with stub_server(failing_operator(missing=1, broken=0)) as url, OperatorClient(url) as client:
        result = client.agents(["acme"])
    assert len(result.errors) == 1 and "no routing web-0" in result.errors[0] and "404" in result.errors[0]
    assert [u.item for u in result.unread] == ["web-0"]


def test_cli_search_says_it_once_and_lists_every_channel_in_json() -> None:
    with stub_server(failing_operator()) as url:
        table = run_cli("registry", "search", "--operator", url, "--operator-tenants", "acme")
        as_json = run_cli("registry", "search", "--operator", url, "--operator-tenants", "acme", "-o", "json")
    assert table.returncode == 0 and as_json.returncode == 0, table.stderr
    assert table.stderr.count("warning:") == 1 and "200 of 202 channels" in table.stderr, table.stderr
    body = json.loads(as_json.stdout)
    assert {a["name"] for a in body["agents"]} >= {"billing-agent-stable"}
    assert len(body["unread"]) == 200 and body["unread"][0] == {
        "source": f"operator {url}",
        "kind": "channel",
        "tenant": "acme",
        "item": "web-0",
        "reason": "not found (404)",
        "message": body["unread"][0]["message"],
    }
    assert "no routing web-0" in body["unread"][0]["message"]
    assert len(body["problems"]) == 1 and "200 of 202 channels" in body["problems"][0]


def test_page_shows_one_warning_and_the_channels_in_an_expander(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from lmos_studio.config import get_settings
    from lmos_studio.ui import resources
    from tests.test_registry_page import app

    monkeypatch.setenv("LMOS_STUDIO_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    resources.registry_store.clear()
    resources.registry_search.clear()
    try:
        with stub_server(failing_operator()) as url:
            at = app().run()
            at.checkbox(key="registry_src_embedded").uncheck()
            at.text_input(key="registry_src_operator").set_value(url).run()
    finally:
        get_settings.cache_clear()
    assert not at.exception
    assert len(at.warning) == 1 and "200 of 202 channels" in at.warning[0].value, [w.value for w in at.warning]
    unread = next(frame.value for frame in at.dataframe if "item" in frame.value.columns)
    assert len(unread) == 200 and list(unread.columns) == ["source", "kind", "tenant", "item", "reason", "message"]
    assert any("200 channel" in e.label for e in at.expander), [e.label for e in at.expander]


# -- registrations past their expiry: left out, counted, listed apart -------------------------------------------


def expiring_directory() -> Route:
    """A directory answering with a live, a lasting and an expired registration (it has not purged it yet)."""
    live = {**make_td("live-agent"), "id": "urn:test:live", "registration": {"expires": "2999-01-01T00:00:00Z"}}
    lasting = {**make_td("lasting-agent"), "id": "urn:test:lasting"}
    stale = {**make_td("stale-agent"), "id": "urn:test:stale", "registration": {"expires": "2001-02-03T04:05:06Z"}}

    def route(handler: BaseHTTPRequestHandler) -> tuple[int, Any]:
        return 200, {"total": 3, "items": [live, stale, lasting], "facets": {"capability": {"view-bill": 3}}}

    return route


def test_expired_registrations_are_left_out_counted_and_listed_apart() -> None:
    """A directory that had not purged a registration past its TTL had it listed like any other (the page and
    the CLI table showed it with a past expiry and nothing more), and it could be added to a design. It is left
    out of the results and the facet counts, a note says how many and when they expired, and they are listed
    apart (`expired`)."""
    from lmos_studio.registry.sources import SourceSpec, expired_note, search_sources

    with stub_server(expiring_directory()) as url:
        outcome = search_sources([SourceSpec("tdd", url)], Query())
        table = run_cli("registry", "search", "--url", url)
        as_json = run_cli("registry", "search", "--url", url, "-o", "json")
    assert [f.agent.name for f in outcome.found] == ["live-agent", "lasting-agent"]
    assert [f.agent.name for f in outcome.expired] == ["stale-agent"] and not outcome.errors
    assert outcome.facets["capability"] == {"view-bill": 2}
    note = expired_note(outcome)
    assert note.startswith("1 expired registration not shown"), note
    assert f"tdd {url}" in note and "stale-agent (expired 2001-02-03 04:05:06 UTC)" in note, note
    assert "stale-agent" not in table.stdout and "live-agent" in table.stdout, table.stdout
    assert "1 expired registration not shown" in table.stderr and "stale-agent" in table.stderr, table.stderr
    body = json.loads(as_json.stdout)
    assert [a["name"] for a in body["agents"]] == ["live-agent", "lasting-agent"]
    assert [(a["name"], a["id"], a["registry"]) for a in body["expired"]] == [
        ("stale-agent", "urn:test:stale", f"tdd {url}")
    ]
    assert body["expired"][0]["expires"] == 981173106.0 and body["problems"] == []


def test_page_leaves_expired_registrations_out_with_a_note_and_a_list(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from lmos_studio.config import get_settings
    from lmos_studio.ui import resources
    from tests.test_registry_page import app

    monkeypatch.setenv("LMOS_STUDIO_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    resources.registry_store.clear()
    resources.registry_search.clear()
    try:
        with stub_server(expiring_directory()) as url:
            at = app().run()
            at.checkbox(key="registry_src_embedded").uncheck()
            at.text_area(key="registry_src_tdd").set_value(url).run()
    finally:
        get_settings.cache_clear()
    assert not at.exception
    frames = {tuple(f.value["agent"]): f.value for f in at.dataframe}  # the results, and the expired apart
    assert set(frames) == {("live-agent", "lasting-agent"), ("stale-agent",)}, frames
    assert not any("stale-agent" in option for option in at.selectbox(key="registry_open").options)
    assert any("1 expired registration not shown" in i.value for i in at.info), [i.value for i in at.info]
    assert frames[("stale-agent",)]["expires"].tolist() == ["expired 2001-02-03 04:05:06 UTC"]
