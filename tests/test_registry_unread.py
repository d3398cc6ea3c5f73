"""Many items a source cannot read are one message, not one each: unreadable Channels of an operator's channel
list, ChannelRoutings of the wrong shape, TDs of a directory's answer, Agent resources of a cluster. Every item
is in `unread` (`registry search -o json`, the list on the Registry page); one failure keeps its own message."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import yaml

from lmos_studio.registry.clients import KubernetesClient, OperatorClient, TddClient
from lmos_studio.registry.kubeconfig import load_kubeconfig
from lmos_studio.registry.store import Query
from tests.conftest import REFERENCE, invoke
from tests.registry_helpers import make_td
from tests.test_registry_clients import FIXTURES, Route, stub_server, write_kubeconfig

ROUTING = json.loads((FIXTURES / "operator-acme-ivr-routing.json").read_text())
CHANNEL = yaml.safe_load((REFERENCE / "lmos-operator" / "acme-web-channel-v1.yaml").read_text())


def channel(name: str, **spec: Any) -> dict[str, Any]:
    meta = CHANNEL["metadata"]
    return {**CHANNEL, "metadata": {**meta, "name": name, "labels": {**meta["labels"], "channel": name}}, **spec}


def operator(channels: list[Any], routing: dict[str, Any] = ROUTING) -> Route:
    """An operator API whose tenant acme lists `channels`; every routing is `routing`."""

    def route(handler: BaseHTTPRequestHandler) -> tuple[int, Any]:
        if handler.path == "/apis/v1/tenants/acme/channels":
            return 200, channels
        return 200, routing

    return route


def test_unreadable_channels_of_a_tenant_s_list_are_one_message() -> None:
    listed = [channel("good-0"), channel("good-1")]
    listed += [channel(f"odd-{n}", spec="not-a-mapping") for n in range(40)] + [7] * 10
    with stub_server(operator(listed)) as url, OperatorClient(url) as client:
        result = client.agents(["acme"])
    assert {a.name for a in result.agents} >= {"billing-agent-stable"}
    assert len(result.errors) == 1, result.errors[:3]
    said = result.errors[0]
    assert said.startswith(f"{url}: 50 of 52 items of the tenants' channel lists") and said.count(url) == 1, said
    assert "40 × spec: must be a mapping, not a string (odd-0, odd-1, odd-2 and 37 more)" in said, said
    assert "10 × not a Channel object (item 42, item 43, item 44 and 7 more)" in said, said
    assert "-o json" in said and "Registry page" in said
    assert len(result.unread) == 50 and {(u.kind, u.tenant) for u in result.unread} == {("Channel", "acme")}
    assert "odd-0" in result.unread[0].message and "(item 2)" in result.unread[0].message


def test_channel_routings_of_the_wrong_shape_are_one_message() -> None:
    broken = json.loads(json.dumps(ROUTING))
    broken["spec"]["capabilityGroups"][0]["capabilities"] = 7
    channels = [channel(f"web-{n}") for n in range(30)]
    with stub_server(operator(channels, broken)) as url, OperatorClient(url) as client:
        result = client.agents(["acme"])
    assert len(result.errors) == 1, result.errors[:3]
    said = result.errors[0]
    assert said.startswith(f"{url}: 30 parts of 30 of the 30 ChannelRoutings read"), said
    assert "30 × spec.capabilityGroups[].capabilities is not a list" in said, said
    assert len(result.unread) == 30 and {u.kind for u in result.unread} == {"ChannelRouting part"}
    assert "capabilityGroups[0].capabilities" in result.unread[0].item


def bad_td(number: int) -> dict[str, Any]:
    return {**make_td(f"bad-{number}"), "id": f"urn:bad:{number}", "actions": 5}


def test_unreadable_tds_of_a_directory_are_one_message() -> None:
    items = [make_td("good"), *(bad_td(n) for n in range(40))]

    def route(handler: BaseHTTPRequestHandler) -> tuple[int, Any]:
        return 200, {"total": 41, "items": items}

    with stub_server(route) as url, TddClient(url) as client:
        result = client.search(Query())
    assert [a.name for a in result.agents] == ["good"]
    assert len(result.errors) == 1, result.errors[:3]
    said = result.errors[0]
    assert said.startswith(f"{url}: 40 of 41 TDs could not be read"), said
    assert "40 × actions: must be a mapping, not a number (urn:bad:0, urn:bad:1, urn:bad:2 and 37 more)" in said
    assert len(result.unread) == 40 and result.unread[0].kind == "TD"


def test_unreadable_tds_of_a_paged_listing_are_one_message() -> None:
    def route(handler: BaseHTTPRequestHandler) -> tuple[int, Any, dict[str, str]]:
        if "offset=0" in handler.path:
            page = [make_td("first"), *(bad_td(n) for n in range(20))]
            return 200, page, {"Link": '</things?offset=21&limit=21>; rel="next"'}
        return 200, [5, *(bad_td(n) for n in range(20, 40))], {}

    with stub_server(route) as url, TddClient(url) as client:
        result = client.list_agents(limit=21)
    assert [a.name for a in result.agents] == ["first"]
    assert len(result.errors) == 1 and "41 of 42 TDs" in result.errors[0], result.errors[:3]
    assert "1 × not a Thing Description (item 21 of the listing)" in result.errors[0], result.errors[0]


def test_unreadable_agent_resources_of_a_cluster_are_one_message(tmp_path: Path) -> None:
    agent = yaml.safe_load((REFERENCE / "lmos-operator" / "acme-billing-agent-v1.yaml").read_text())
    odd = [{**agent, "metadata": {"name": f"odd-{n}"}, "spec": "x"} for n in range(25)]

    def route(handler: BaseHTTPRequestHandler) -> tuple[int, Any]:
        return 200, {"kind": "AgentList", "items": [agent, *odd, *["junk"] * 5]}

    with stub_server(route) as url:
        config = load_kubeconfig(write_kubeconfig(tmp_path / "kubeconfig", url))
        with KubernetesClient(config) as client:
            result = client.agents()
    assert [a.name for a in result.agents] == ["billing-agent-stable"]
    assert len(result.errors) == 1, result.errors[:3]
    said = result.errors[0]
    assert said.startswith(f"{url}: 30 of 31 Agent resources could not be read"), said
    assert "25 × spec: must be a mapping, not a string (odd-0, odd-1, odd-2 and 22 more)" in said, said
    assert "5 × a string, not an Agent resource (item 26, item 27, item 28 and 2 more)" in said, said
    assert len(result.unread) == 30 and {u.kind for u in result.unread} == {"Agent"}


def directory() -> Route:
    items = [make_td("good"), *(bad_td(n) for n in range(40))]

    def route(handler: BaseHTTPRequestHandler) -> tuple[int, Any]:
        return 200, {"total": 41, "items": items}

    return route


def test_cli_says_the_tds_once_and_lists_each_in_json() -> None:
    with stub_server(directory()) as url:
        table = invoke("registry", "search", "--url", url)
        as_json = invoke("registry", "search", "--url", url, "-o", "json")
    assert table.returncode == 0 and as_json.returncode == 0, table.stderr
    assert table.stderr.count("warning:") == 1 and "40 of 41 TDs" in table.stderr, table.stderr
    body = json.loads(as_json.stdout)
    assert len(body["unread"]) == 40 and body["unread"][0] == {
        "source": f"tdd {url}",
        "kind": "TD",
        "tenant": "",
        "item": "urn:bad:0",
        "reason": "actions: must be a mapping, not a number",
        "message": body["unread"][0]["message"],
    }
    assert "urn:bad:0" in body["unread"][0]["message"] and len(body["problems"]) == 1


def test_page_shows_one_warning_and_the_tds_in_an_expander(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from lmos_studio.config import get_settings
    from lmos_studio.ui import resources
    from tests.test_registry_page import app

    monkeypatch.setenv("LMOS_STUDIO_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    resources.registry_store.clear()
    resources.registry_search.clear()
    try:
        with stub_server(directory()) as url:
            at = app().run()
            at.checkbox(key="registry_src_embedded").uncheck()
            at.text_area(key="registry_src_tdd").set_value(url).run()
    finally:
        get_settings.cache_clear()
    assert not at.exception
    assert len(at.warning) == 1 and "40 of 41 TDs" in at.warning[0].value, [w.value for w in at.warning]
    unread = next(frame.value for frame in at.dataframe if "item" in frame.value.columns)
    assert len(unread) == 40 and set(unread["kind"]) == {"TD"}
    assert any(e.label == "40 TDs not read" for e in at.expander), [e.label for e in at.expander]
