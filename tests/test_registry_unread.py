"""Many items a source cannot read are one message, not one each: unreadable Channels of an operator's channel
list, ChannelRoutings of the wrong shape, TDs of a directory's answer, Agent resources of a cluster. Every item
is in `unread` (`registry search -o json`, the list on the Registry page); one failure keeps its own message."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any

import yaml

from lmos_studio.registry.clients import OperatorClient
from tests.conftest import REFERENCE
from tests.test_registry_clients import FIXTURES, Route, stub_server

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
