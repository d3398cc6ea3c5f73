"""Remote registry clients: the httpx error table, a real TDD server, stub operator and Kubernetes APIs."""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import yaml

from lmos_studio.errors import AgentNotFound, ConfigError, RegistryError, RegistryUnavailable
from lmos_studio.registry import clients
from lmos_studio.registry.clients import MAX_RESPONSE_BYTES, KubernetesClient, OperatorClient, TddClient
from lmos_studio.registry.kubeconfig import load_kubeconfig
from lmos_studio.registry.store import Query
from lmos_studio.registry.unread import Unread
from tests.conftest import REFERENCE, ROOT, run_cli
from tests.registry_helpers import STORES, backend, make_td, registry_server, store_target  # noqa: F401

FIXTURES = ROOT / "tests" / "fixtures" / "registry"
STUBS = REFERENCE / "lmos-runtime" / "operator-api-stubs"
URL = "http://registry.test:8090"

# -- the error table: every httpx exception class → our error, naming the URL ---------------------------

REQUEST = httpx.Request("GET", URL)
ERROR_TABLE: list[tuple[Exception, type[RegistryError]]] = [
    (httpx.ConnectTimeout("t"), RegistryUnavailable),
    (httpx.ReadTimeout("t"), RegistryUnavailable),
    (httpx.WriteTimeout("t"), RegistryUnavailable),
    (httpx.PoolTimeout("t"), RegistryUnavailable),
    (httpx.ConnectError("refused"), RegistryUnavailable),
    (httpx.ReadError("r"), RegistryUnavailable),
    (httpx.WriteError("w"), RegistryUnavailable),
    (httpx.CloseError("c"), RegistryUnavailable),
    (httpx.ProxyError("p"), RegistryUnavailable),
    (httpx.RemoteProtocolError("bad"), RegistryUnavailable),
    (httpx.LocalProtocolError("bad"), RegistryError),
    (httpx.UnsupportedProtocol("ftp"), RegistryError),
    (httpx.DecodingError("gzip"), RegistryError),
    (httpx.TooManyRedirects("loop"), RegistryError),
    (httpx.InvalidURL("bad url"), RegistryError),
    (httpx.CookieConflict("two"), RegistryError),
    (httpx.StreamConsumed(), RegistryError),
    (httpx.StreamClosed(), RegistryError),
    (httpx.ResponseNotRead(), RegistryError),
    (httpx.RequestNotRead(), RegistryError),
    (httpx.HTTPStatusError("x", request=REQUEST, response=httpx.Response(503, request=REQUEST)), RegistryUnavailable),
    (httpx.NetworkError("n"), RegistryUnavailable),
    (httpx.TimeoutException("t"), RegistryUnavailable),
    (httpx.TransportError("t"), RegistryError),
    (httpx.RequestError("r"), RegistryError),
    (httpx.ProtocolError("p"), RegistryError),
]


def _all_httpx_errors() -> set[type[Exception]]:
    roots: list[type[Exception]] = [httpx.HTTPError, httpx.InvalidURL, httpx.CookieConflict, httpx.StreamError]
    found: set[type[Exception]] = set()
    while roots:
        cls = roots.pop()
        found.add(cls)
        roots += cls.__subclasses__()
    return found - {httpx.HTTPError, httpx.StreamError}


def test_the_table_covers_every_httpx_exception() -> None:
    assert _all_httpx_errors() <= {type(exc) for exc, _ in ERROR_TABLE}


@pytest.mark.parametrize(("exc", "expected"), ERROR_TABLE, ids=lambda v: type(v).__name__)
def test_httpx_error_maps_to_ours(exc: Exception, expected: type[RegistryError]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    with TddClient(URL, transport=httpx.MockTransport(handler), timeout_s=1) as client, pytest.raises(expected) as info:
        client.get("urn:x")
    assert type(info.value) is expected
    assert "registry.test" in str(info.value) and info.value.url and "registry.test" in info.value.url


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (404, AgentNotFound),
        (401, RegistryError),
        (403, RegistryError),
        (400, RegistryError),
        (500, RegistryUnavailable),
        (502, RegistryUnavailable),
    ],
)
def test_status_codes_map_to_ours(status: int, expected: type[RegistryError]) -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(status, json={"detail": "why it failed"}))
    with TddClient(URL, transport=transport) as client, pytest.raises(expected) as info:
        client.get("urn:x")
    assert type(info.value) is expected and info.value.status_code == status
    assert "why it failed" in str(info.value) and URL in str(info.value)


@pytest.mark.parametrize(
    ("status", "headers", "later"),
    [(500, {}, False), (503, {}, True), (502, {}, True), (500, {"Retry-After": "5"}, True)],
)
def test_try_again_later_only_where_the_server_says_so(status: int, headers: dict[str, str], later: bool) -> None:
    """Every 5xx said "try again later", also the registry's 500 for a database that refuses its login, whose
    detail says retrying does not help; now only a 502/503/504 or an answer with Retry-After says it."""
    detail = {"detail": "PostgreSQL refused the login; retrying does not help"}
    transport = httpx.MockTransport(lambda r: httpx.Response(status, json=detail, headers=headers))
    with TddClient(URL, transport=transport) as client, pytest.raises(RegistryUnavailable) as info:
        client.get("urn:x")
    said = str(info.value)
    assert ("try again later" in said or "before trying again" in said) is later, said


@pytest.mark.parametrize(
    ("headers", "said"),
    [
        ({"Retry-After": "120"}, "too many requests (429); the registry asks to wait 120 s before trying again"),
        ({"Retry-After": "Wed, 21 Oct 2065 07:28:00 GMT"}, "asks to wait until Wed, 21 Oct 2065 07:28:00 GMT"),
        ({}, "too many requests (429); try again later"),
    ],
)
def test_too_many_requests_says_when_to_try_again(headers: dict[str, str], said: str) -> None:
    """Bug (session 16 QA): a rate-limited answer read "rejected (429)", as if the request were wrong, and the
    server's Retry-After was dropped. It is a registry that is busy now (RegistryUnavailable) and says when."""
    transport = httpx.MockTransport(lambda r: httpx.Response(429, text="slow down", headers=headers))
    with TddClient(URL, transport=transport) as client, pytest.raises(RegistryUnavailable) as info:
        client.get("urn:x")
    assert said in str(info.value) and info.value.status_code == 429


def test_an_oversized_answer_says_its_limit_in_mib() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=b" " * (MAX_RESPONSE_BYTES + 1)))
    with TddClient(URL, transport=transport) as client, pytest.raises(RegistryError, match="exceeds 20 MiB; refused"):
        client.get("urn:x")


@pytest.mark.parametrize("body", [b"<html>oops</html>", b"\xff\xfe", b"[" * 100_000])
def test_garbage_bodies_are_registry_errors(body: bytes) -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=body))
    with TddClient(URL, transport=transport) as client:
        with pytest.raises(RegistryError, match="not JSON"):
            client.get("urn:x")
        result = client.search(Query(capability="x"))
    assert result.agents == [] and result.errors


# -- a real TDD server ------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=STORES)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("cli")
    with store_target(request.param, tmp) as db, registry_server(tmp, db=db) as url:
        yield url


def test_tdd_client_round_trip(server: str, reference: Path) -> None:
    with TddClient(server) as client:
        td = json.loads((reference / "descriptions" / "lmos-td-billing-agent.json").read_text())
        assert client.register(td, ttl=600) == [td["id"]]
        assert client.get(td["id"])["registration"]["ttl"] == 600
        client.renew(td["id"])
        card = json.loads((reference / "descriptions" / "a2a-card-v0.3.json").read_text())
        card_ids = client.register(card)
        assert card_ids
        found = client.search(Query(capability="view-bill"))
        assert [a.name for a in found.agents] == ["billing-agent"] and found.total == 1
        assert found.facets["capability"]["view-bill"] == 1
        for i in range(5):
            client.put(f"urn:page:{i}", make_td(f"page-{i}"))
        listed = client.list_agents(limit=2)
        assert not listed.errors and len(listed.agents) == 7
        client.delete(td["id"])
        with pytest.raises(AgentNotFound):
            client.get(td["id"])


def test_a_huge_unknown_id_is_named_cut_by_the_client(server: str) -> None:
    huge = "urn:x:" + "x" * 10_000  # the 404's message held the whole URL (and the server's detail): 10 KB
    with TddClient(server) as client:
        for call in (lambda: client.get(huge), lambda: client.delete(huge)):
            with pytest.raises(AgentNotFound) as caught:
                call()
            assert len(str(caught.value)) < 700 and "not found (404)" in str(caught.value)
            assert str(caught.value).startswith(f"{server}/things/urn:x:xxx")


def test_cli_register_search_remove(server: str, reference: Path, tmp_path: Path) -> None:
    from tests.conftest import run_cli

    env = {"LMOS_STUDIO_DATA_DIR": str(tmp_path)}
    card = reference / "descriptions" / "capabilities-document.json"
    done = run_cli("registry", "register", str(card), "--url", server, "--ttl", "300", env=env)
    assert done.returncode == 0, done.stderr
    thing_id = done.stdout.strip().splitlines()[0]
    found = run_cli("registry", "search", "--url", server, "--capability", "roaming-prices", "-o", "json", env=env)
    assert found.returncode == 0, found.stderr
    rows = json.loads(found.stdout)["agents"]
    assert [r["name"] for r in rows] == ["roaming-agent"]
    assert run_cli("registry", "remove", thing_id, "--url", server, env=env).returncode == 0
    gone = run_cli("registry", "remove", thing_id, "--url", server, env=env)
    assert gone.returncode == 2 and "not found" in gone.stderr
    down = run_cli("registry", "search", "--url", "http://127.0.0.1:9", env=env)
    assert down.returncode == 2 and "127.0.0.1:9" in down.stderr and "Traceback" not in down.stderr


def test_cli_embedded_register_with_ttl_and_bad_input(reference: Path, tmp_path: Path, backend: str) -> None:  # noqa: F811

    with store_target(backend, tmp_path) as db:
        _embedded_register(reference, tmp_path, {"LMOS_STUDIO_DATA_DIR": str(tmp_path), "LMOS_STUDIO_REGISTRY_DB": db})


def _embedded_register(reference: Path, tmp_path: Path, env: dict[str, str]) -> None:
    from tests.conftest import run_cli

    done = run_cli("registry", "register", str(reference / "descriptions" / "a2a-card-v1.json"), "--ttl", "60", env=env)
    assert done.returncode == 0, done.stderr
    table = run_cli("registry", "search", "--text", "contract", env=env)
    assert "contract-assistant" in table.stdout and "contract-agent" in table.stdout  # + the seeded sample
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    failed = run_cli("registry", "register", str(bad), env=env)
    assert failed.returncode == 2 and "bad.json" in failed.stderr
    invalid = run_cli(
        "registry",
        "register",
        str(reference / "lmos-router-examples" / "invalid-agentRoutingSpecs-core-test.json"),
        env=env,
    )
    assert invalid.returncode == 2 and "Traceback" not in invalid.stderr


# -- stub servers (operator API, Kubernetes API, a misbehaving TDD) ------------------------------------------

Route = Callable[[BaseHTTPRequestHandler], Any]  # → (status, body) or (status, body, headers)


@contextmanager
def stub_server(route: Route) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body, *more = route(self)
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            for key, value in (more[0] if more else {}).items():
                self.send_header(key, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            with contextlib.suppress(OSError):  # the client gave up (the slow-server test)
                self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            return

    with serving(Handler) as url:
        yield url


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 answering with `handler`, for as long as the block runs; yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def operator_route(handler: BaseHTTPRequestHandler) -> tuple[int, Any]:
    """WireMock stubs recorded from lmos-runtime, plus our routing for acme/ivr; checks the headers."""
    assert handler.headers["x-namespace"] == "default" and handler.headers["x-subset"] == "stable"
    stubs = {
        json.loads(p.read_text())["request"]["url"]: json.loads(p.read_text())["response"] for p in STUBS.glob("*.json")
    }
    if handler.path in stubs:
        response = stubs[handler.path]
        return int(response["status"]), response.get("jsonBody", b"")
    if handler.path == "/apis/v1/tenants/acme/channels/ivr/routing":
        return 200, json.loads((FIXTURES / "operator-acme-ivr-routing.json").read_text())
    if handler.path.endswith("/channels"):
        return 200, []  # the operator answers an unknown tenant with an empty list
    return 404, b""


def test_operator_client_reads_channels_and_routings() -> None:
    with stub_server(operator_route) as url, OperatorClient(url) as client:
        channels = client.channels("acme")
        assert [c.name for c in channels] == ["acme-ivr-stable"]
        assert client.channel("acme", "ivr").tenant == "acme"
        with pytest.raises(AgentNotFound, match="notfound"):
            client.channel("acme", "notfound")
        routing = client.routing("en", "web")
        assert routing["kind"] == "ChannelRouting"
        result = client.agents(["acme", "globex"])
    names = {a.name for a in result.agents}
    assert {"billing-agent-stable", "contract-agent"} <= names
    billing = next(a for a in result.agents if a.name == "billing-agent-stable")
    assert billing.supported_tenants == ("acme",) and billing.supported_channels == ("ivr",)
    assert not result.errors  # globex has no channels: an empty list, not an error


def test_operator_items_of_the_wrong_shape_are_named_and_the_good_ones_arrive() -> None:
    """One unreadable Channel in a tenant's list hid all of its channels' agents, and a ChannelRouting whose
    capabilityGroups (or a group's capabilities) was not a list raised TypeError: a traceback, not a message."""
    routing = json.loads((FIXTURES / "operator-acme-ivr-routing.json").read_text())
    broken = json.loads(json.dumps(routing))
    broken["metadata"]["name"] = "globex-web-stable"
    broken["spec"]["capabilityGroups"][0]["capabilities"] = 7
    broken["spec"]["capabilityGroups"].append("junk")
    channel = {
        "apiVersion": "lmos.eclipse/v1",
        "kind": "Channel",
        "metadata": {"name": "acme-ivr-stable", "labels": {"tenant": "acme", "channel": "ivr", "subset": "stable"}},
        "spec": {"requiredCapabilities": []},
    }
    odd = {"apiVersion": "lmos.eclipse/v1", "kind": "Channel", "metadata": {"name": "odd"}, "spec": "not-a-mapping"}

    def route(handler: BaseHTTPRequestHandler) -> tuple[int, Any]:
        if handler.path == "/apis/v1/tenants/acme/channels":
            return 200, [channel, odd]
        if handler.path == "/apis/v1/tenants/globex/channels":
            return 200, [{**channel, "metadata": {"name": "globex-web-stable", "labels": {"channel": "web"}}}]
        if handler.path == "/apis/v1/tenants/acme/channels/ivr/routing":
            return 200, routing
        if handler.path == "/apis/v1/tenants/globex/channels/web/routing":
            return 200, broken
        return 404, b""

    with stub_server(route) as url, OperatorClient(url) as client:
        result = client.agents(["acme", "globex"])
        with pytest.raises(RegistryError, match="odd"):
            client.channels("acme")
    assert {"billing-agent-stable", "contract-agent"} <= {a.name for a in result.agents}
    assert len(result.errors) == 2, result.errors  # one unreadable Channel; two parts of one routing, said once
    assert "odd" in result.errors[0] and "(item 1)" in result.errors[0]
    assert "2 parts of 1 of the 2 ChannelRoutings read" in result.errors[1], result.errors
    parts = [u.message for u in result.unread if u.kind == "ChannelRouting part"]
    assert len(parts) == 2 and all("globex-web-stable" in e and "left out" in e for e in parts)
    assert any("capabilities is not a list" in e for e in parts)


def test_routing_groups_and_capabilities_without_a_text_name_are_named() -> None:
    """A capability group or capability whose name was not text (a mapping, a number) became an agent or a
    capability named "{'x': 1}" or "5"; and a capability without a name was dropped without a word."""
    from lmos_studio.registry.clients import routing_agents

    routing = json.loads((FIXTURES / "operator-acme-ivr-routing.json").read_text())
    groups = routing["spec"]["capabilityGroups"]
    groups[0]["capabilities"][0]["name"] = 5
    groups[0]["capabilities"].append({"description": "no name"})
    groups.append({**groups[-1], "name": {"x": 1}})
    problems: list[Unread] = []
    agents = routing_agents(routing, source="op", problems=problems)
    errors = [u.message for u in problems]
    assert all(isinstance(a.name, str) and "{" not in a.name for a in agents)
    assert all(c.name != "5" for a in agents for c in a.capabilities)
    assert len(agents) == len(groups) - 1
    assert len(errors) == 3, errors
    assert "capabilities[0] is not a capability with a name" in errors[0]
    assert f"capabilityGroups[{len(groups) - 1}] is not a capability group" in errors[2]


def test_degrades_to_partial_results_with_messages() -> None:
    def route(handler: BaseHTTPRequestHandler) -> tuple[int, Any, dict[str, str]]:
        if handler.path.startswith("/things?offset=0"):
            return 200, [make_td("first", thing_id="urn:first")], {"Link": '</things?offset=1&limit=1>; rel="next"'}
        return 500, {"detail": "database on fire"}, {}

    with stub_server(route) as url, TddClient(url) as client:
        result = client.list_agents(limit=1)
    assert [a.name for a in result.agents] == ["first"]
    assert len(result.errors) == 1 and "500" in result.errors[0] and "database on fire" in result.errors[0]


def test_slow_server_times_out_with_a_message() -> None:
    def slow(handler: BaseHTTPRequestHandler) -> tuple[int, Any]:
        time.sleep(2)
        return 200, []

    with stub_server(slow) as url, TddClient(url, timeout_s=0.2) as client:
        result = client.search(Query(text="x"))
    assert result.agents == [] and "no answer within 0.2s" in result.errors[0]


def test_a_looping_next_link_is_read_once_and_named() -> None:
    """A `Link: rel=next` back to a page read already was followed 100 times: every agent arrived 100 times
    and nothing said why."""
    pages: list[str] = []

    def route(handler: BaseHTTPRequestHandler) -> tuple[int, Any, dict[str, str]]:
        pages.append(handler.path)
        page = "0" if "offset=0" in handler.path else "1"
        after = "/things?offset=1&limit=1" if page == "0" else "/things?offset=0&limit=1"  # 0 → 1 → 0 …
        return 200, [make_td(f"agent-{page}", thing_id=f"urn:{page}")], {"Link": f'<{after}>; rel="next"'}

    with stub_server(route) as url, TddClient(url) as client:
        result = client.list_agents(limit=1)
    assert [a.name for a in result.agents] == ["agent-0", "agent-1"]
    assert len(pages) == 2
    assert len(result.errors) == 1 and "read already" in result.errors[0]


def test_a_next_link_to_another_host_is_not_followed_with_the_token() -> None:
    """A next link naming another host got the registry's bearer token: it is refused and named now."""
    tokens: list[str | None] = []

    def elsewhere(handler: BaseHTTPRequestHandler) -> tuple[int, Any]:
        tokens.append(handler.headers.get("Authorization"))
        return 200, []

    with stub_server(elsewhere) as other:
        other = other.replace("127.0.0.1", "localhost")

        def route(handler: BaseHTTPRequestHandler) -> tuple[int, Any, dict[str, str]]:
            return 200, [make_td("first", thing_id="urn:first")], {"Link": f'<{other}/things>; rel="next"'}

        with stub_server(route) as url, TddClient(url, token="registry-secret") as client:
            result = client.list_agents(limit=1)
    assert tokens == []
    assert [a.name for a in result.agents] == ["first"]
    assert len(result.errors) == 1 and "another host" in result.errors[0] and "localhost" in result.errors[0]
    assert "registry-secret" not in result.errors[0]


def test_a_body_that_drips_times_out_with_a_message() -> None:
    """httpx times each read, so a server sending a byte every 0.1 s kept a 0.5 s timeout waiting for the
    whole body (seconds, or hours for a large one): the timeout now holds for the whole answer."""

    class Drip(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b'{"items": [], "total": 0}' + b" " * 100
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(OSError):
                for byte in body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.1)

        def log_message(self, *args: Any) -> None:
            return

    with serving(Drip) as url:
        started = time.monotonic()
        with TddClient(url, timeout_s=0.5) as client:
            result = client.search(Query(text="x"))
        took = time.monotonic() - started
    assert took < 3
    assert result.agents == [] and len(result.errors) == 1 and "within 0.5s" in result.errors[0]


def test_a_50_mb_answer_is_refused_without_buffering_it() -> None:
    class Huge(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            size = 50 * 2**20
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            chunk = b" " * 2**20
            with contextlib.suppress(OSError):  # the client hangs up at its cap
                for _ in range(50):
                    self.wfile.write(chunk)

        def log_message(self, *args: Any) -> None:
            return

    with serving(Huge) as url, TddClient(url, timeout_s=30) as client:
        result = client.list_agents()
    assert result.agents == [] and len(result.errors) == 1 and "exceeds" in result.errors[0]


def test_a_redirect_to_another_host_does_not_carry_the_token() -> None:
    """httpx drops Authorization when a redirect leaves the origin; kept so (a registry's 30x is untrusted)."""
    seen: list[str | None] = []

    def other(handler: BaseHTTPRequestHandler) -> tuple[int, Any]:
        seen.append(handler.headers.get("Authorization"))
        return 200, {"items": [make_td("elsewhere", thing_id="urn:else")], "total": 1}

    with stub_server(other) as target:
        target = target.replace("127.0.0.1", "localhost")

        def route(handler: BaseHTTPRequestHandler) -> tuple[int, Any, dict[str, str]]:
            return 302, b"", {"Location": f"{target}{handler.path}"}

        with stub_server(route) as url, TddClient(url, token="registry-secret") as client:
            result = client.search(Query(text="x"))
    assert seen == [None]
    assert [a.name for a in result.agents] == ["elsewhere"]


def test_a_kubernetes_redirect_to_another_origin_is_refused_naming_both(tmp_path: Path) -> None:
    """httpx drops the bearer token on a redirect to another origin, but a TLS client certificate stays in the
    connection's SSL context and was offered to whichever host the API server redirected to. The Kubernetes
    source follows no redirect off the cluster's server (another port is another origin): the message names
    both, and the other host is never asked. A redirect on the server itself is still followed."""
    asked: list[str] = []

    def other(handler: BaseHTTPRequestHandler) -> tuple[int, Any]:
        asked.append(handler.path)
        return 200, {"kind": "AgentList", "items": []}

    with stub_server(other) as target:

        def route(handler: BaseHTTPRequestHandler) -> tuple[int, Any, dict[str, str]]:
            if handler.path.startswith("/moved/"):
                return kube_route_with_path(handler, handler.path.removeprefix("/moved"))
            if "/namespaces/acme/" in handler.path:  # on the server itself: followed
                return 307, b"", {"Location": f"/moved{handler.path}"}
            return 302, b"", {"Location": f"{target}{handler.path}"}

        with stub_server(route) as url:
            config = load_kubeconfig(write_kubeconfig(tmp_path / "kubeconfig", url))
            with KubernetesClient(config) as client:
                same = client.agents("acme")
                moved = client.agents("elsewhere")
    assert {a.name for a in same.agents} == {"billing-agent-stable", "contract-agent"}
    assert asked == [] and not moved.agents and len(moved.errors) == 1, (asked, moved.errors)
    said = moved.errors[0]
    assert url.removeprefix("http://") in said and target.removeprefix("http://") in said, said
    assert "302" in said and "not followed" in said and "bearer token" in said, said


def kube_route_with_path(handler: BaseHTTPRequestHandler, path: str) -> tuple[int, Any, dict[str, str]]:
    """`kube_route`'s answer for another path (a redirect's target on the same server)."""
    handler.path = path
    status, body = kube_route(handler)
    return status, body, {}


# -- Kubernetes API ----------------------------------------------------------------------------------------


def kube_route(handler: BaseHTTPRequestHandler) -> tuple[int, Any]:
    if handler.headers.get("Authorization") != "Bearer kube-token":
        return 401, {"kind": "Status", "message": "Unauthorized"}
    path = handler.path.partition("?")[0]  # the client pages with ?limit=…&continue=…
    if path == "/apis/lmos.eclipse/v1/namespaces/acme/agents":
        items = [
            yaml.safe_load((REFERENCE / "lmos-operator" / f).read_text())
            for f in ("acme-billing-agent-v1.yaml", "acme-contract-agent-v1.yaml")
        ]
        items.append(
            {
                "apiVersion": "lmos.eclipse/v1",
                "kind": "Agent",
                "metadata": {"name": "broken"},
                "spec": {"providedCapabilities": "not-a-list"},
            }
        )
        return 200, {"apiVersion": "lmos.eclipse/v1", "kind": "AgentList", "items": items}
    if path == "/apis/lmos.eclipse/v1/namespaces/acme/channels":
        items = [yaml.safe_load((REFERENCE / "lmos-operator" / "acme-web-channel-v1.yaml").read_text())]
        return 200, {"kind": "ChannelList", "items": items}
    return 404, {"kind": "Status", "message": "not found"}


def write_kubeconfig(path: Path, server: str, *, token: str = "kube-token", user: dict[str, Any] | None = None) -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "stub",
        "clusters": [{"name": "c", "cluster": {"server": server}}],
        "users": [{"name": "u", "user": user or {"token": token}}],
        "contexts": [
            {"name": "stub", "context": {"cluster": "c", "user": "u", "namespace": "acme"}},
            {"name": "other", "context": {"cluster": "c", "user": "u"}},
        ],
    }
    path.write_text(yaml.safe_dump(config))
    return path


def test_kubernetes_client_lists_agents_and_channels(tmp_path: Path) -> None:
    with stub_server(kube_route) as url:
        config = load_kubeconfig(write_kubeconfig(tmp_path / "kubeconfig", url))
        assert config.namespace == "acme" and "kube-token" not in repr(config)
        with KubernetesClient(config) as client:
            result = client.agents()
            channels = client.channels()
        assert {a.name for a in result.agents} == {"billing-agent-stable", "contract-agent"}
        assert len(result.errors) == 1 and "broken" in result.errors[0]
        assert [c.name for c in channels] == ["acme-web-stable"]
        wrong = load_kubeconfig(write_kubeconfig(tmp_path / "k2", url, token="nope"))
        with KubernetesClient(wrong) as client:
            refused = client.agents()
        assert not refused.agents and "401" in refused.errors[0]


def test_kubernetes_items_that_are_not_resources_are_named(tmp_path: Path) -> None:
    """Items of a list that were not mappings were dropped without a word; a Channel that could not be read
    raised DesignFileError (not a registry error) from `channels()`."""
    agent = yaml.safe_load((REFERENCE / "lmos-operator" / "acme-billing-agent-v1.yaml").read_text())

    def route(handler: BaseHTTPRequestHandler) -> tuple[int, Any]:
        if handler.path.partition("?")[0].endswith("/agents"):
            return 200, {"kind": "AgentList", "items": ["junk", agent, None]}
        odd = {"apiVersion": "lmos.eclipse/v1", "kind": "Channel", "metadata": {"name": "odd"}, "spec": "x"}
        return 200, {"kind": "ChannelList", "items": [odd]}

    with stub_server(route) as url:
        config = load_kubeconfig(write_kubeconfig(tmp_path / "kubeconfig", url))
        with KubernetesClient(config) as client:
            result = client.agents()
            with pytest.raises(RegistryError, match="odd"):
                client.channels()
    assert [a.name for a in result.agents] == ["billing-agent-stable"]
    assert len(result.errors) == 1 and "2 of 3 Agent resources" in result.errors[0], result.errors  # said once
    messages = [u.message for u in result.unread]
    assert "item 0 is a string" in messages[0] and "item 2 is empty" in messages[1]


def test_kubernetes_readable_channels_keep_the_good_ones_and_name_the_rest(tmp_path: Path) -> None:
    """`channels()` stopped at the first Channel it could not read, losing every readable one; `readable_channels`
    returns those and names each unreadable item with its reason, as `agents()` does."""
    good = yaml.safe_load((REFERENCE / "lmos-operator" / "acme-web-channel-v1.yaml").read_text())
    odd = {"apiVersion": "lmos.eclipse/v1", "kind": "Channel", "metadata": {"name": "odd"}, "spec": "x"}
    nameless = {"apiVersion": "lmos.eclipse/v1", "kind": "Channel", "metadata": {}, "spec": good["spec"]}

    def route(handler: BaseHTTPRequestHandler) -> tuple[int, Any]:
        return 200, {"kind": "ChannelList", "items": [odd, good, "junk", nameless]}

    with stub_server(route) as url:
        config = load_kubeconfig(write_kubeconfig(tmp_path / "kubeconfig", url))
        with KubernetesClient(config) as client:
            channels, unread = client.readable_channels()
            with pytest.raises(RegistryError, match="odd"):
                client.channels()  # whole or nothing, as before
    assert [c.name for c in channels] == ["acme-web-stable"]
    assert [(u.kind, u.item) for u in unread] == [("Channel", "odd"), ("Channel", "item 2"), ("Channel", "item 3")]
    assert unread[0].reason.startswith("spec") and "not a Channel resource" in unread[1].reason


def agent_resource(name: str) -> dict[str, Any]:
    agent = yaml.safe_load((REFERENCE / "lmos-operator" / "acme-billing-agent-v1.yaml").read_text())
    agent["metadata"]["name"] = name
    return agent


def paged_route(
    pages: dict[str, tuple[list[str], str]], *, seen: list[dict[str, list[str]]], gone: set[str] | None = None
) -> Route:
    """A Kubernetes API listing agents page by page: `pages` maps a continue token ("" = the first page) to
    (agent names, next token); a token in `gone` answers 410 Gone once, as an API server whose etcd compacted."""
    expired = set(gone or ())

    def route(handler: BaseHTTPRequestHandler) -> tuple[int, Any]:
        query = parse_qs(urlsplit(handler.path).query)
        seen.append(query)
        token = query.get("continue", [""])[0]
        if token in expired:
            expired.discard(token)
            return 410, {"kind": "Status", "reason": "Expired", "message": "The provided continue parameter is too old"}
        names, next_token = pages[token]
        meta = {"continue": next_token} if next_token else {}
        return 200, {"kind": "AgentList", "metadata": meta, "items": [agent_resource(n) for n in names]}

    return route


def test_kubernetes_agents_arrive_page_by_page(tmp_path: Path) -> None:
    """The list was read in one request: a namespace whose list passed the 20 MiB answer cap was refused
    whole. Now it is read `limit` items at a time, following `metadata.continue`."""
    seen: list[dict[str, list[str]]] = []
    pages = {"": (["a1", "a2"], "t1"), "t1": (["a3", "a4"], "t2"), "t2": (["a5"], "")}
    with stub_server(paged_route(pages, seen=seen)) as url:
        config = load_kubeconfig(write_kubeconfig(tmp_path / "kubeconfig", url))
        with KubernetesClient(config) as client:
            result = client.agents()
    assert [a.name for a in result.agents] == ["a1", "a2", "a3", "a4", "a5"] and result.errors == []
    assert [q.get("continue") for q in seen] == [None, ["t1"], ["t2"]]
    assert all(q["limit"] == [str(clients.KUBE_PAGE_LIMIT)] for q in seen)


def test_kubernetes_expired_continue_token_restarts_the_list_once(tmp_path: Path) -> None:
    seen: list[dict[str, list[str]]] = []
    pages = {"": (["a1", "a2"], "t1"), "t1": (["a3"], "")}
    with stub_server(paged_route(pages, seen=seen, gone={"t1"})) as url:
        config = load_kubeconfig(write_kubeconfig(tmp_path / "kubeconfig", url))
        with KubernetesClient(config) as client:
            result = client.agents()
    assert [a.name for a in result.agents] == ["a1", "a2", "a3"] and result.errors == []  # no agent twice
    assert [q.get("continue") for q in seen] == [None, ["t1"], None, ["t1"]]


def test_kubernetes_token_expiring_again_is_reported(tmp_path: Path) -> None:
    """A continue token that expires again after the restart: the agents of the restarted walk, once, and a
    message; `channels()` (which must be whole) raises."""
    pages = {"": (["a1"], "t1"), "t1": (["a2"], "t2"), "t2": (["a3"], "")}
    asked: list[dict[str, list[str]]] = []

    def always_gone(handler: BaseHTTPRequestHandler) -> tuple[int, Any]:
        query = parse_qs(urlsplit(handler.path).query)
        asked.append(query)
        if query.get("continue") == ["t2"]:
            return 410, {"kind": "Status", "reason": "Expired", "message": "too old"}
        return paged_route(pages, seen=[])(handler)

    with stub_server(always_gone) as url:
        config = load_kubeconfig(write_kubeconfig(tmp_path / "kubeconfig", url))
        with KubernetesClient(config) as client:
            result = client.agents()
            with pytest.raises(RegistryError, match="410 Gone"):
                client.channels()
    assert [a.name for a in result.agents] == ["a1", "a2"]  # what the restarted walk read, once
    assert len(result.errors) == 1 and "expired twice" in result.errors[0] and "incomplete" in result.errors[0]
    assert [q.get("continue") for q in asked[:6]] == [None, ["t1"], ["t2"], None, ["t1"], ["t2"]]


def test_kubernetes_continue_loop_and_bounds_stop_the_listing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, list[str]]] = []
    loop = {"": (["a1"], "t1"), "t1": (["a2"], "t2"), "t2": (["a3"], "t1")}  # t2's page points back at t1
    with stub_server(paged_route(loop, seen=seen)) as url:
        config = load_kubeconfig(write_kubeconfig(tmp_path / "kubeconfig", url))
        with KubernetesClient(config) as client:
            result = client.agents()
        assert [a.name for a in result.agents] == ["a1", "a2", "a3"] and len(seen) == 3
        assert len(result.errors) == 1 and "repeats a continue token" in result.errors[0]

        endless = {"": (["a0"], "t1"), **{f"t{i}": ([f"a{i}"], f"t{i + 1}") for i in range(1, 20)}}
        monkeypatch.setattr(clients, "MAX_PAGES", 5)
        with (
            stub_server(paged_route(endless, seen=[])) as many,
            KubernetesClient(load_kubeconfig(write_kubeconfig(tmp_path / "k2", many))) as client,
        ):
            result = client.agents()
        assert len(result.agents) == 5 and "stopped after 5 pages" in result.errors[0]

        monkeypatch.setattr(clients, "KUBE_MAX_ITEMS", 3)
        big = {"": (["b1", "b2"], "t1"), "t1": (["b3", "b4"], "t2"), "t2": (["b5"], "")}
        with (
            stub_server(paged_route(big, seen=[])) as bigger,
            KubernetesClient(load_kubeconfig(write_kubeconfig(tmp_path / "k3", bigger))) as client,
        ):
            result = client.agents()
        assert [a.name for a in result.agents] == ["b1", "b2", "b3"] and "stopped after 3 items" in result.errors[0]


def test_kubeconfig_parsing(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("from-file\n")
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    path = write_kubeconfig(tmp_path / "kc", "https://k8s.test:6443", user={"tokenFile": str(token_file)})
    raw = yaml.safe_load(path.read_text())
    raw["clusters"][0]["cluster"]["certificate-authority-data"] = base64.b64encode(pem.encode()).decode()
    path.write_text(yaml.safe_dump(raw))
    config = load_kubeconfig(path)
    assert config.token == "from-file" and config.ca_pem == pem and config.server.endswith(":6443")
    assert load_kubeconfig(path, context="other").namespace == "default"
    with pytest.raises(ConfigError, match="no context named 'missing'"):
        load_kubeconfig(path, context="missing")
    exec_user = write_kubeconfig(tmp_path / "exec", "https://k", user={"exec": {"command": "aws"}})
    with pytest.raises(ConfigError, match="exec"):
        load_kubeconfig(exec_user)
    (tmp_path / "garbage").write_text("::: not yaml {")
    with pytest.raises(ConfigError, match="garbage"):
        load_kubeconfig(tmp_path / "garbage")


def test_search_sources_merges_and_degrades(tmp_path: Path) -> None:
    from lmos_studio.registry.sources import SourceSpec, results_table, search_sources
    from lmos_studio.registry.store import Store

    store = Store(tmp_path / "s.sqlite3")
    with stub_server(operator_route) as operator, stub_server(kube_route) as kube:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", kube)
        sources = [
            SourceSpec("embedded"),
            SourceSpec("operator", operator, tenants=("acme",)),
            SourceSpec("kubernetes", str(kubeconfig)),
            SourceSpec("tdd", "http://127.0.0.1:9"),
        ]
        outcome = search_sources(sources, Query(capability="view-bill"), store=store)
    origins = {f.source for f in outcome.found}
    assert origins == {"embedded registry", f"operator {operator}", f"kubernetes {kubeconfig}"}
    assert all(f.agent.capability("view-bill") for f in outcome.found)
    assert outcome.facets["capability"]["view-bill"] == len(outcome.found)
    assert any("127.0.0.1:9" in e for e in outcome.errors)  # the dead server is a message
    assert any("broken" in e for e in outcome.errors)  # the malformed Agent from Kubernetes too
    assert list(results_table(outcome)["agent"]).count("billing-agent-stable") == 3


def test_a_registry_url_with_query_parameters_keeps_them_on_every_request() -> None:
    """A directory behind a gateway that wants `?key=…` on each request: the client appended its paths to the
    whole URL, so `http://host?key=k` asked for `/` with the query `key=k/search` (a 404 saying nothing of
    why). Now each request goes to the URL's path + its own path, with the URL's parameters and its own."""
    from lmos_studio.registry.sources import SourceSpec, search_sources

    seen: list[str] = []

    def route(handler: BaseHTTPRequestHandler) -> tuple[int, Any]:
        seen.append(handler.path)
        parts = urlsplit(handler.path)
        if parts.path != "/dir/search" or parse_qs(parts.query).get("key") != ["k 1"]:
            return 404, {"detail": "no"}
        return 200, {"total": 1, "items": [make_td("x-agent")], "facets": {}}

    with stub_server(route) as url:
        outcome = search_sources([SourceSpec("tdd", f"{url}/dir/?key=k%201")], Query(text="bill"))
    assert not outcome.errors, (outcome.errors, seen)
    assert [f.agent.name for f in outcome.found] == ["x-agent"]
    assert parse_qs(urlsplit(seen[0]).query)["q"] == ["bill"]  # the request's own parameters too


def test_a_directory_s_results_keep_their_registry_id_and_expiry() -> None:
    """Found on a directory server, an agent lost its TD id and its registration's expiry: the Registry page
    showed an empty id and "expires never" for a registration with a TTL, and `registry search --url … -o
    json` gave `"id": ""` and `"expires": null` (the embedded registry gives both), so `registry remove`
    could not be given the id. Both now come from the TD the server answered with."""
    from datetime import UTC, datetime

    from lmos_studio.formats.detect import read_descriptions
    from lmos_studio.registry.sources import SourceSpec, detail_fields, search_sources
    from lmos_studio.registry.things import agent_to_thing

    card = {"name": "Temp Agent", "url": "https://temp.example/a2a", "version": "1.0.0", "protocolVersion": "0.3.0"}
    card |= {"skills": [{"id": "spy", "name": "Spy", "description": "spies", "tags": []}]}
    as_stored = agent_to_thing(read_descriptions(json.dumps(card), source="card.json")[0])  # as the server keeps it
    expiring = {**as_stored, "id": "urn:test:temp", "registration": {"expires": "2030-01-02T03:04:05Z"}}
    lasting = {**make_td("kept-agent"), "id": "urn:test:kept"}
    broken = {**make_td("odd-agent"), "id": "urn:test:odd", "registration": {"expires": "soon"}}

    def route(handler: BaseHTTPRequestHandler) -> tuple[int, Any]:
        return 200, {"total": 3, "items": [expiring, lasting, broken], "facets": {}}

    with stub_server(route) as url:
        outcome = search_sources([SourceSpec("tdd", url)], Query())
    assert not outcome.errors, outcome.errors
    got = {f.agent.name: (f.thing_id, f.expires) for f in outcome.found}
    assert got == {
        "temp-agent": ("urn:test:temp", datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp()),
        "kept-agent": ("urn:test:kept", None),
        "odd-agent": ("urn:test:odd", None),  # an expiry that is no time: shown as none, not a failure
    }
    fields = dict(detail_fields(outcome.found[0]).itertuples(index=False))
    assert fields["id"] == "urn:test:temp" and fields["expires"] == "2030-01-02 03:04:05 UTC"


def test_a_td_without_an_id_is_named_by_its_title_or_its_place() -> None:
    """A directory's TD that could not be read was named by its id alone: one without an id was `TD ''`. It is
    named by its title (or, without one, by its place in the answer), saying it has no id; the source's URL is
    said once."""
    untitled = {k: v for k, v in make_td("x").items() if k != "title"}
    broken = {**make_td("Roaming Helper"), "lmos:capabilities": "not-a-list"}
    with_id = {**broken, "id": "urn:test:broken"}

    def route(handler: BaseHTTPRequestHandler) -> tuple[int, Any]:
        return 200, {"total": 4, "items": [make_td("fine-agent"), broken, untitled, with_id], "facets": {}}

    with stub_server(route) as url, TddClient(url) as client:
        result = client.search(Query())
    assert [a.name for a in result.agents] == ["fine-agent"]
    assert len(result.errors) == 1 and "3 of 4 TDs" in result.errors[0], result.errors  # each one in `unread`
    titled, placed, named = messages = [u.message for u in result.unread]
    assert "TD ''" not in " ".join(messages), messages
    assert "'Roaming Helper'" in titled and "item 1" in titled and "no id" in titled, titled
    assert "item 2" in placed and "no id" in placed and "title" in placed, placed
    assert "TD 'urn:test:broken'" in named and "no id" not in named, named
    assert all(e.count(url) == 1 for e in [*messages, *result.errors]), messages


def test_a_source_given_twice_is_searched_once(tmp_path: Path) -> None:
    """The Registry page's server list (one URL per line) or `registry search --url X --url X` naming one
    registry twice listed each of its agents twice ("18 agent(s) from 2 source(s)" for a 9-agent registry)
    and a dead one's message twice; a source is searched once, also when written with a trailing slash."""
    from lmos_studio.registry.sources import SourceSpec, search_sources
    from lmos_studio.registry.store import Store

    store = Store(tmp_path / "s.sqlite3")
    with stub_server(operator_route) as operator:
        sources = [
            SourceSpec("embedded"),
            SourceSpec("operator", operator, tenants=("acme",)),
            SourceSpec("embedded"),
            SourceSpec("operator", operator + "/", tenants=("acme",)),
            SourceSpec("tdd", "http://127.0.0.1:9"),
            SourceSpec("tdd", "http://127.0.0.1:9"),
        ]
        once = search_sources(sources[:2], Query(), store=store)
        outcome = search_sources(sources, Query(), store=store)
    assert len(once.found) > 0
    assert [f.key for f in outcome.found] == [f.key for f in once.found]
    assert sum("127.0.0.1:9" in e for e in outcome.errors) == 1


def test_serve_on_a_busy_port_exits_2(tmp_path: Path) -> None:
    import socket

    from tests.conftest import run_cli

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = run_cli(
            "registry",
            "serve",
            "--port",
            str(port),
            "--db",
            str(tmp_path / "r.sqlite3"),
            env={"LMOS_STUDIO_DATA_DIR": str(tmp_path)},
        )
    assert done.returncode == 2 and f"127.0.0.1:{port}" in done.stderr


def test_in_cluster_config_and_kubeconfig_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lmos_studio.config import get_settings
    from lmos_studio.registry.kubeconfig import default_kubeconfig, in_cluster_config

    account = tmp_path / "sa"
    account.mkdir()
    (account / "token").write_text("pod-token\n")
    (account / "namespace").write_text("lmos\n")
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    get_settings.cache_clear()
    with pytest.raises(ConfigError, match="not running in a Kubernetes pod"):
        in_cluster_config(account)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'a'}:{tmp_path / 'b'}")
    get_settings.cache_clear()
    try:
        config = in_cluster_config(account)
        assert config.server == "https://10.0.0.1:443" and config.namespace == "lmos"
        assert config.token == "pod-token" and "pod-token" not in repr(config)
        assert default_kubeconfig() == tmp_path / "a"
    finally:
        get_settings.cache_clear()


# -- the CLI reads every source the Registry page does ------------------------------------------------------


def test_cli_search_reads_the_operator_and_a_cluster(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    env = {"LMOS_STUDIO_DATA_DIR": str(tmp_path)}
    with stub_server(operator_route) as operator, stub_server(kube_route) as kube:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", kube)
        sources = ["--operator", operator, "--operator-tenants", "acme"]
        sources += ["--kubernetes", "--kubeconfig", str(kubeconfig)]
        found = run_cli("registry", "search", *sources, "-o", "json", env=env)
        assert found.returncode == 0, found.stderr
        rows = json.loads(found.stdout)["agents"]
        by_registry = {(r["registry"].split()[0], r["name"]) for r in rows}
        assert {("operator", "billing-agent-stable"), ("kubernetes", "billing-agent-stable")} <= by_registry
        assert ("kubernetes", "contract-agent") in by_registry
        assert "broken" in found.stderr and "warning" in found.stderr  # the malformed Agent resource, named
        filtered = run_cli(
            "registry", "search", "--kubernetes", "--kubeconfig", str(kubeconfig), "--capability", "view-bill", env=env
        )
        assert filtered.returncode == 0 and "REGISTRY" in filtered.stdout, filtered.stderr
        assert "billing-agent-stable" in filtered.stdout and "contract-agent" not in filtered.stdout
        wrong = write_kubeconfig(tmp_path / "wrong", kube, token="nope")
        refused = run_cli("registry", "search", "--kubernetes", "--kubeconfig", str(wrong), env=env)
    assert refused.returncode == 2 and "401" in refused.stderr and "Traceback" not in refused.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--kubeconfig", "kc"], "add it"),
        (["--namespace", "acme"], "--kubernetes"),
        (["--operator", "http://127.0.0.1:9"], "--operator-tenants"),
        (["--operator-tenants", "acme"], "--operator URL"),
        (["--kubernetes", "--in-cluster", "--kubeconfig", "kc"], "--in-cluster"),
        (["--operator", "http://127.0.0.1:9", "--operator-tenants", "acme"], "127.0.0.1:9"),
    ],
)
def test_cli_search_source_options_misused_or_unreachable(args: list[str], says: str, tmp_path: Path) -> None:
    from tests.conftest import run_cli

    done = run_cli("registry", "search", *args, env={"LMOS_STUDIO_DATA_DIR": str(tmp_path)})
    assert done.returncode == 2 and says in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_cli_search_with_one_source_answering_no_matches_and_one_down_exits_0(tmp_path: Path) -> None:
    """A directory that answered with no matches and an operator that was down made `registry search` exit 2
    with nothing on stdout, as if neither had answered: "no matches" was taken for "no answer". It now prints
    the document (the failure under `problems`), warns, and exits 0; exit 2 is for when no source answers."""

    def route(handler: BaseHTTPRequestHandler) -> tuple[int, Any]:
        return 200, {"total": 0, "items": [], "facets": {}}

    env = {"LMOS_STUDIO_DATA_DIR": str(tmp_path)}
    with stub_server(route) as directory:
        both = ["--url", directory, "--operator", "http://127.0.0.1:9", "--operator-tenants", "acme"]
        done = run_cli("registry", "search", *both, "--capability", "no-such-cap", "-o", "json", env=env)
        table = run_cli("registry", "search", *both, "--capability", "no-such-cap", env=env)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["agents"] == [] and len(document["problems"]) == 1, document
    assert "127.0.0.1:9" in document["problems"][0] and "warning" in done.stderr and "127.0.0.1:9" in done.stderr
    assert table.returncode == 0 and "NAME" in table.stdout, table.stderr
    nobody = run_cli(
        "registry",
        "search",
        "--url",
        "http://127.0.0.1:9",
        "--operator",
        "http://127.0.0.1:9",
        "--operator-tenants",
        "acme",
        "-o",
        "json",
        env=env,
    )
    assert nobody.returncode == 2 and not nobody.stdout, nobody.stdout  # none answered: still exit 2
    with stub_server(operator_route) as operator:  # an operator whose tenant has no channels answered too
        empty = ["--operator", operator, "--operator-tenants", "nobody", "--url", "http://127.0.0.1:9"]
        answered = run_cli("registry", "search", *empty, "-o", "json", env=env)
    assert answered.returncode == 0 and json.loads(answered.stdout)["agents"] == [], answered.stderr


@pytest.mark.parametrize("ttl", ["nan", "inf", "-inf", "1e300", str(10 * 365 * 86400 + 1)])
def test_cli_register_refuses_a_ttl_the_server_would_refuse(
    ttl: str, reference: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`registry register card.json --ttl nan` exited 0 with a registration that never expires (SQLite stores
    NaN as NULL); `--ttl inf` stored `expires: Infinity`, which `search -o json` printed as invalid JSON. The
    server refuses both (above 0, at most ten years); the embedded path now does too, with exit 2."""
    from lmos_studio.cli import main

    monkeypatch.setenv("LMOS_STUDIO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LMOS_STUDIO_REGISTRY_DB", str(tmp_path / "registry.db"))
    card = str(reference / "descriptions" / "a2a-card-v1.json")
    assert main(["registry", "register", card, "--ttl", ttl]) == 2
    out, err = capsys.readouterr()
    assert not out and "--ttl" in err and "ten years" in err
    assert main(["registry", "search", "--text", "contract-assistant", "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["agents"] == []  # nothing was registered


@pytest.mark.parametrize("limit", ["0", "-1"])
def test_cli_search_refuses_a_limit_below_one(
    limit: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`registry search --limit -1` printed an empty table with exit 0, as if the registry were empty."""
    from lmos_studio.cli import main

    monkeypatch.setenv("LMOS_STUDIO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LMOS_STUDIO_REGISTRY_DB", str(tmp_path / "registry.db"))
    assert main(["registry", "search", "--limit", limit]) == 2
    out, err = capsys.readouterr()
    assert not out and "--limit" in err


def test_a_source_label_never_shows_secrets_of_its_url(capsys: pytest.CaptureFixture[str]) -> None:
    """`registry search --url http://user:secret@127.0.0.1:9/?token=abc` printed "error: tdd
    http://user:secret@…?token=abc: …": the message's own URL was redacted, the source label before it was
    not (the label is also the results' `registry` column and the page's warnings)."""
    from lmos_studio.cli import main
    from lmos_studio.registry.sources import SourceSpec

    url = "http://user:secret@127.0.0.1:9/?token=abc"
    assert SourceSpec("tdd", url).label == "tdd http://127.0.0.1:9/?token=***"
    assert SourceSpec("operator", url).label == "operator http://127.0.0.1:9/?token=***"
    assert main(["registry", "search", "--url", url]) == 2
    err = capsys.readouterr().err
    assert "127.0.0.1:9" in err and "secret" not in err and "abc" not in err


@pytest.mark.parametrize("answer", [{"ids": 5}, {"ids": "urn:x"}, {"ids": [1, 2]}, ["urn:x"], {}])
def test_a_post_answer_of_the_wrong_shape_is_a_registry_error(answer: Any) -> None:
    """POST /things answered `{"ids": 5}` raised TypeError (a traceback from `registry register --url`), and
    `{"ids": "urn:x"}` printed one id per character."""

    class Post(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            data = json.dumps(answer).encode()
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            return

    with serving(Post) as url, TddClient(url) as client, pytest.raises(RegistryError, match="no `ids` list"):
        client.register({"name": "a2a-card", "skills": []})


def test_an_unreachable_source_names_its_url_once() -> None:
    """'tdd http://127.0.0.1:9: http://127.0.0.1:9/search: cannot connect …' named the URL twice (found by lane H,
    session 14): the source's label, then the request's own URL. A message that names the URL itself now gets the
    source's kind alone in front."""
    from lmos_studio.registry.sources import SourceSpec, search_sources
    from tests.conftest import free_port

    url = f"http://127.0.0.1:{free_port()}"
    outcome = search_sources([SourceSpec("tdd", url)], Query())
    assert len(outcome.errors) == 1 and outcome.errors[0].startswith(f"tdd {url}/search: cannot connect"), outcome
    assert outcome.errors[0].count(url) == 1


def behind_token(token: str) -> Route:
    """A directory that answers /search with one agent, vault-agent, only to `Authorization: Bearer <token>`."""

    def route(handler: BaseHTTPRequestHandler) -> tuple[int, Any]:
        if handler.headers.get("Authorization") != f"Bearer {token}":
            return 401, {"detail": "a bearer token is required"}
        return 200, {"items": [make_td("vault-agent")], "total": 1}

    return route


def test_a_directory_that_needs_a_token_to_read_is_searched_with_one(tmp_path: Path) -> None:
    """Bug (session 16 QA): a directory behind a bearer token answered `registry search --url` with 401 and
    Studio said "give the registry's bearer token (--token …)", but search had no --token and sent none (the
    token went with writes only), and the Registry page had no field for it. Search now sends --token (default:
    LMOS_STUDIO_REGISTRY_TOKEN) to --url, and the page's directory servers take one; it never reaches a row, a
    message or the source's label."""
    from lmos_studio.registry.sources import SourceSpec, search_sources

    token = "read-" + "t0k3n" * 4
    with stub_server(behind_token(token)) as url:
        refused = search_sources([SourceSpec("tdd", url)], Query())
        outcome = search_sources([SourceSpec("tdd", url, token=token)], Query())
        cli = run_cli("registry", "search", "--url", url, "-o", "json", env={"LMOS_STUDIO_REGISTRY_TOKEN": token})
        flag = run_cli("registry", "search", "--url", url, "--token", token, "-o", "json")
    assert refused.errors and "(401)" in refused.errors[0]
    assert [f.agent.name for f in outcome.found] == ["vault-agent"] and not outcome.errors
    assert token not in repr(SourceSpec("tdd", url, token=token)) and token not in outcome.found[0].source
    for result in (cli, flag):
        assert result.returncode == 0, result.stderr
        assert "vault-agent" in result.stdout and token not in result.stdout + result.stderr


# -- compressed answers ------------------------------------------------------------------------------------


def _compressed(data: bytes, coding: str) -> bytes:
    if coding == "gzip":
        return gzip.compress(data)
    if coding == "deflate":
        return zlib.compress(data)
    squeezer = zlib.compressobj(wbits=-zlib.MAX_WBITS)  # raw deflate, without zlib's header (some servers send it)
    return squeezer.compress(data) + squeezer.flush()


@pytest.mark.parametrize("coding", ["gzip", "deflate", "raw-deflate"])
def test_a_compressed_answer_is_read(coding: str, tmp_path: Path) -> None:
    """Every gzip- or deflate-encoded answer (the Kubernetes API server compresses lists over 128 KB, proxies
    compress JSON) ended in a DecodingError traceback: httpx inflated the body, then again when the client
    rebuilt the response."""
    body = {"items": [make_td("zipped", thing_id="urn:zipped")], "total": 1}
    encoding = "deflate" if coding == "raw-deflate" else coding

    def route(handler: BaseHTTPRequestHandler) -> tuple[int, Any, dict[str, str]]:
        if handler.path.partition("?")[0].endswith("/agents"):
            return 200, _compressed(json.dumps(kube_route_items()).encode(), coding), {"Content-Encoding": encoding}
        return 200, _compressed(json.dumps(body).encode(), coding), {"Content-Encoding": encoding}

    with stub_server(route) as url:
        with TddClient(url) as client:
            result = client.search(Query())
        config = load_kubeconfig(write_kubeconfig(tmp_path / "kubeconfig", url))
        with KubernetesClient(config) as kube:
            listed = kube.agents()
        cli = run_cli("registry", "search", "--url", url, "-o", "json")
    assert [a.name for a in result.agents] == ["zipped"] and not result.errors
    assert [a.name for a in listed.agents] == ["billing-agent-stable"] and not listed.errors
    assert cli.returncode == 0, cli.stderr
    assert [row["name"] for row in json.loads(cli.stdout)["agents"]] == ["zipped"]


def kube_route_items() -> dict[str, Any]:
    agent = yaml.safe_load((REFERENCE / "lmos-operator" / "acme-billing-agent-v1.yaml").read_text())
    return {"apiVersion": "lmos.eclipse/v1", "kind": "AgentList", "items": [agent]}


@pytest.mark.parametrize(
    ("encoding", "layers", "says"),
    [("gzip", 1, "exceeds 20 MiB"), ("gzip, gzip", 2, "encoded as gzip, gzip"), ("br", 1, "encoded as br")],
)
def test_a_compression_bomb_is_refused_in_bounded_memory(encoding: str, layers: int, says: str) -> None:
    """A 100 KB gzip answer of 100 MiB was inflated a whole read (64 KB → 64 MiB) at a time, and a body encoded
    `gzip, gzip` one coding after the other: 3 KB held 2 GiB (MemoryError, or the machine's memory). Inflating is
    bounded now, and one coding is read."""
    data = b" " * (100 * 2**20)
    for _ in range(layers):
        data = gzip.compress(data, 9)

    def route(handler: BaseHTTPRequestHandler) -> tuple[int, Any, dict[str, str]]:
        return 200, data, {"Content-Encoding": encoding}

    with stub_server(route) as url, TddClient(url, timeout_s=30) as client:
        tracemalloc.start()
        try:
            result = client.search(Query())
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert result.agents == [] and len(result.errors) == 1 and says in result.errors[0], result.errors
    assert peak < 48 * 2**20, f"{peak / 2**20:.0f} MiB held"


# -- a server that never finishes its headers ----------------------------------------------------------------


def test_headers_that_drip_time_out_with_a_message() -> None:
    """httpx times each read only: a server sending its status line and then a header byte every 0.1 s kept a
    0.5 s timeout waiting until it stopped (h11 takes 16 KB of headers: half an hour at this pace, the Registry
    page hanging all along). The timeout holds for the whole answer, headers included, now."""

    class Drip(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with contextlib.suppress(OSError):  # the client hangs up
                self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                for _ in range(60):  # 6 s, then the connection closes without an answer
                    self.wfile.write(b"z")
                    self.wfile.flush()
                    time.sleep(0.1)

        def log_message(self, *args: Any) -> None:
            return

    with serving(Drip) as url, TddClient(url, timeout_s=0.5) as client:
        result = client.search(Query())
    assert result.agents == [] and len(result.errors) == 1
    assert "no answer within 0.5s" in result.errors[0] and url in result.errors[0], result.errors


def test_an_expiry_outside_the_calendar_is_shown_not_a_crash() -> None:
    """A directory's registration expiring at 0001-01-01T00:00:00+01:00 (year 0 in UTC) or 9999-12-31T23:59:59-12:00
    (year 10000) made the results table raise ValueError: the Registry page showed a traceback instead of every
    source's results. Such a time is shown as before or after the calendar's ends (the early one has expired:
    it is listed apart, and said so)."""
    from lmos_studio.registry.sources import SourceSpec, detail_fields, expired_table, results_table, search_sources

    early = {**make_td("early-agent"), "id": "urn:early", "registration": {"expires": "0001-01-01T00:00:00+01:00"}}
    late = {**make_td("late-agent"), "id": "urn:late", "registration": {"expires": "9999-12-31T23:59:59-12:00"}}

    def route(handler: BaseHTTPRequestHandler) -> tuple[int, Any]:
        return 200, {"total": 2, "items": [early, late], "facets": {}}

    with stub_server(route) as url:
        outcome = search_sources([SourceSpec("tdd", url)], Query())
    assert not outcome.errors, outcome.errors
    assert results_table(outcome)["expires"].tolist() == ["after 9999-12-31 23:59:59 UTC"]
    assert expired_table(outcome)["expires"].tolist() == ["expired before 0001-01-01 00:00:00 UTC"]
    assert dict(detail_fields(outcome.found[0]).itertuples(index=False))["expires"] == "after 9999-12-31 23:59:59 UTC"


@pytest.mark.parametrize("status", [401, 403, 400, 500])
def test_a_token_the_registry_echoes_is_masked(status: int) -> None:
    """A registry answering 401 with `{"detail": "<the token it was sent> is not valid"}` had the bearer token (or
    the URL's password) printed in the message (CLI stderr, the Registry page, CI logs): a bare token has no shape
    `redact` knows. The client's own token and password are masked in what a registry says."""
    token = "regtoken" + "4c6f6e67536563726574"  # no key-shaped literal in the file
    password = "pass" + "w0rd-of-the-day"

    def route(handler: BaseHTTPRequestHandler) -> tuple[int, Any]:
        scheme, _, given = handler.headers.get("Authorization", "").partition(" ")
        given = base64.b64decode(given).decode().partition(":")[2] if scheme == "Basic" else given
        return status, {"detail": f"{given} is not valid"}

    with stub_server(route) as url:
        with TddClient(url, token=token) as client:
            result = client.search(Query())
        with TddClient(url.replace("//", f"//reader:{password}@")) as client:
            basic = client.search(Query())
        cli = run_cli("registry", "search", "--url", url, "--token", token)
    said = result.errors + basic.errors + [cli.stderr]
    assert all(f"({status})" in message for message in said), said
    assert not any(token in message or password in message for message in said), said


# -- reads of many requests stop in bounded time --------------------------------------------------------------


def test_an_operator_with_many_slow_channels_stops_in_bounded_time() -> None:
    """The operator's agents are read one channel routing at a time, each request within the timeout: an operator
    listing 200 channels whose routings each took just under the timeout held the Registry page (and registry
    search) for 200 timeouts (17 minutes at the default 5 s). The whole read stops after LISTING_TIMEOUTS
    timeouts, keeps the agents read so far and says how many channels were not read."""
    channel = yaml.safe_load((REFERENCE / "lmos-operator" / "acme-web-channel-v1.yaml").read_text())
    routing = json.loads((FIXTURES / "operator-acme-ivr-routing.json").read_text())
    meta, labels = channel["metadata"], channel["metadata"]["labels"]
    channels = [
        {**channel, "metadata": {**meta, "name": f"web-{n}", "labels": {**labels, "channel": f"web-{n}"}}}
        for n in range(200)
    ]
    asked: list[str] = []

    def route(handler: BaseHTTPRequestHandler) -> tuple[int, Any]:
        if handler.path.endswith("/channels"):
            return 200, channels
        asked.append(handler.path)
        time.sleep(0.1)
        return 200, routing

    with stub_server(route) as url, OperatorClient(url, timeout_s=0.5) as client:
        result = client.agents(["acme"])
    assert {a.name for a in result.agents} >= {"billing-agent-stable"}
    assert len(asked) < 200 and len(result.errors) == 1, result.errors
    assert f"{200 - len(asked)} of 200 channels not read" in result.errors[0] and url in result.errors[0]


def test_pages_that_come_slowly_stop_in_bounded_time(tmp_path: Path) -> None:
    """A Kubernetes list (or a directory's `Link: rel=next` pages) whose every page came just under the timeout was
    read for 100 pages: 100 timeouts (over 8 minutes at the default 5 s). The listing stops after LISTING_TIMEOUTS
    timeouts in all, with the items read so far."""
    endless = {"": (["a0"], "t1"), **{f"t{i}": ([f"a{i}"], f"t{i + 1}") for i in range(1, 101)}}
    kube_pages = paged_route(endless, seen=[])

    def slow_kube(handler: BaseHTTPRequestHandler) -> tuple[int, Any]:
        time.sleep(0.1)
        return kube_pages(handler)

    def slow_tdd(handler: BaseHTTPRequestHandler) -> tuple[int, Any, dict[str, str]]:
        time.sleep(0.1)
        page = int(parse_qs(urlsplit(handler.path).query)["offset"][0])
        following = {"Link": f'</things?offset={page + 1}&limit=1>; rel="next"'}
        return 200, [make_td(f"agent-{page}", thing_id=f"urn:{page}")], following

    with stub_server(slow_kube) as url, stub_server(slow_tdd) as directory:
        config = load_kubeconfig(write_kubeconfig(tmp_path / "kubeconfig", url))
        with KubernetesClient(config, timeout_s=0.5) as kube:
            listed = kube.agents()
        with TddClient(directory, timeout_s=0.5) as tdd:
            paged = tdd.list_agents(limit=1)
    for result in (listed, paged):
        assert 0 < len(result.agents) < 100 and len(result.errors) == 1, result.errors
        assert "stopped after 3s" in result.errors[0] and "LMOS_STUDIO_REGISTRY_TIMEOUT_S" in result.errors[0]


# -- writes to something that is no directory ----------------------------------------------------------------


def test_a_write_answered_by_a_web_page_is_not_taken_for_done(tmp_path: Path) -> None:
    """`registry register --url`/`remove --url` at a URL that is no directory (a web site, an SSO login page a
    proxy redirects to) answering 200 with HTML printed the id or 'removed …' and exited 0: nothing was
    registered or removed. A write answered by a body that is not JSON is a registry error now (exit 2)."""
    td = tmp_path / "td.json"
    td.write_text(json.dumps(make_td("probe-agent", thing_id="urn:probe")))

    class WebPage(BaseHTTPRequestHandler):
        def answer(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            page = b"<!doctype html><html><body>Welcome! Please sign in.</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = answer

        def log_message(self, *args: Any) -> None:
            return

    with serving(WebPage) as url:
        with TddClient(url) as client, pytest.raises(RegistryError, match="not JSON"):
            client.renew("urn:probe")
        register = run_cli("registry", "register", str(td), "--url", url, env={"LMOS_STUDIO_DATA_DIR": str(tmp_path)})
        remove = run_cli("registry", "remove", "urn:probe", "--url", url, env={"LMOS_STUDIO_DATA_DIR": str(tmp_path)})
    for result in (register, remove):
        assert result.returncode == 2 and result.stdout == "", (result.stdout, result.stderr)
        assert f"{url}/things/urn:probe" in result.stderr and "right URL" in result.stderr
        assert "Traceback" not in result.stderr


def test_routing_texts_of_the_wrong_shape_are_named_not_printed_as_python() -> None:
    """An operator answering a ChannelRouting whose namespace was a list, whose labels or a capability's version,
    id, description or host were mappings or numbers gave an agent in namespace "['x']", subset "{'a': 1}",
    tenant "5" and a capability version "1.5", added to a design on a click. Such a value is left out (the
    namespace: default) and named."""
    from lmos_studio.registry.clients import routing_agents

    routing = json.loads((FIXTURES / "operator-acme-ivr-routing.json").read_text())
    routing["metadata"]["namespace"] = ["x"]
    routing["metadata"]["labels"] |= {"subset": {"a": 1}, "tenant": 5}
    cap = routing["spec"]["capabilityGroups"][0]["capabilities"][0]
    cap |= {"providedVersion": 1.5, "id": ["i"], "description": {"d": 1}, "host": 7}
    routing["spec"]["capabilityGroups"][0]["description"] = ["about"]
    problems: list[Unread] = []
    agents = routing_agents(routing, source="op", problems=problems)
    errors = [u.message for u in problems]
    assert {a.namespace for a in agents} == {"default"} and {a.subset for a in agents} == {"stable"}
    assert all(a.supported_tenants == () for a in agents) and agents[0].description == ""
    first = agents[0].capabilities[0]
    assert (first.version, first.id, first.description) == ("", "", "")
    texts = "\n".join(errors)
    for field in (
        "metadata.namespace is a list",
        "metadata.labels.subset is a mapping",
        "metadata.labels.tenant is a number",
        "spec.capabilityGroups[0].description is a list",
        "spec.capabilityGroups[0].capabilities[0].providedVersion is a number",
        "spec.capabilityGroups[0].capabilities[0].host is a number",
    ):
        assert field in texts, errors


# -- what a refusal says to do ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_a_refusal_says_what_to_do_for_its_kind_of_source(status: int, tmp_path: Path) -> None:
    """A Kubernetes API refusing the kubeconfig's token (401) or its RBAC refusing the list (403), and an operator
    API refusing Studio, all said to give the registry's bearer token with --token or LMOS_STUDIO_REGISTRY_TOKEN:
    neither source takes that token (a cluster is read with the kubeconfig's credentials, the operator with
    none). Each refusal now says what helps for its kind of source."""
    from lmos_studio.registry.sources import SourceSpec, search_sources

    def route(handler: BaseHTTPRequestHandler) -> tuple[int, Any]:
        return status, {"kind": "Status", "message": "refused"}

    with stub_server(route) as url:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", url)
        outcome = search_sources(
            [SourceSpec("kubernetes", str(kubeconfig)), SourceSpec("operator", url, tenants=("acme",))], Query()
        )
        cli = run_cli("registry", "search", "--kubernetes", "--kubeconfig", str(kubeconfig))
    kube, operator = outcome.errors
    assert cli.returncode == 2 and cli.stderr.strip() == f"error: {kube}"
    for message in (kube, operator):
        assert f"({status})" in message and "--token" not in message and "REGISTRY_TOKEN" not in message, message
    assert "kubeconfig" in kube and "context 'stub'" in kube
    if status == 403:
        assert "kubectl auth can-i list agents.lmos.eclipse -n acme" in kube
    assert "sends the operator API no credentials" in operator


@pytest.mark.parametrize(
    ("status", "retry_after", "said"),
    [
        (503, "30", "the server failed (503): restarting; the registry asks to wait 30 s before trying again"),
        (500, "Wed, 21 Oct 2065 07:28:00 GMT", "the registry asks to wait until Wed, 21 Oct 2065 07:28:00 GMT"),
    ],
)
def test_a_failing_server_says_how_long_it_asks_to_wait(status: int, retry_after: str, said: str) -> None:
    """A 503 (or any 5xx) with Retry-After said "try again later" and dropped how long the registry asked to wait,
    which a 429 says."""

    def route(handler: BaseHTTPRequestHandler) -> tuple[int, Any, dict[str, str]]:
        return status, {"detail": "restarting"}, {"Retry-After": retry_after}

    with stub_server(route) as url, TddClient(url) as client:
        result = client.search(Query())
    assert len(result.errors) == 1 and said in result.errors[0], result.errors


@pytest.mark.parametrize("query", ["key=SUPERSECRET42", "sig=SUPERSECRET42", "access_token=SUPERSECRET42"])
def test_a_registry_that_repeats_the_url_s_secret_query_has_it_masked(query: str) -> None:
    """`registry search --url "http://…/?key=SUPERSECRET42"` printed "refused (401): invalid api key in request
    /search?key=SUPERSECRET42…" when the registry echoed the request: only the token and the user-info password
    were masked in what a registry says, not the secret query values the client sends with every request."""

    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"detail": f"invalid api key in request {request.url.raw_path.decode()}"})

    with TddClient(f"http://127.0.0.1:9/?{query}", transport=httpx.MockTransport(echo)) as client:
        try:
            said = " ".join(client.search(Query(text="")).errors)
        except RegistryError as exc:
            said = str(exc)
    assert "SUPERSECRET42" not in said and "invalid api key" in said


def test_ordinary_query_parameters_and_counts_are_not_masked() -> None:
    """A TD's form href `…?country_code=DE&author=ops&design=v2&keyword=weather&monkey=1` was served by the
    directory (and imported) as `?country_code=***&author=***&…`: a name only had to contain `code`, `auth`,
    `sig` or `key`; `{"max_token": 4096}` became "***". Now a name's last word (or the whole name) decides."""
    from lmos_studio.redact import redact_data, redact_url

    plain = "https://geo.example/lookup?country_code=DE&author=ops&design=v2&keyword=weather&monkey=1"
    assert redact_url(plain) == plain
    secret = "https://x.example/?access_token=a&X-Amz-Signature=b&apiKey=c&subscription-key=d&code=e&sig=f"
    assert redact_url(secret) == (
        "https://x.example/?access_token=***&X-Amz-Signature=***&apiKey=***&subscription-key=***&code=***&sig=***"
    )
    assert redact_data({"max_token": 4096, "password": 1234}) == ({"max_token": 4096, "password": "***"}, ["/password"])


def test_a_host_name_the_resolver_cannot_encode_is_a_message() -> None:
    """A registry URL whose host has a part longer than 63 characters (or an empty one) ended the Registry page
    and `registry search --url` in a traceback: Python's resolver refuses to encode such a name (UnicodeError:
    'encoding with idna codec failed … label empty or too long'), which neither httpx nor the client mapped. It is
    a RegistryError saying the URL is not usable now, as an unsupported scheme is."""
    from lmos_studio.registry.sources import SourceSpec, search_sources

    for url in (f"http://{'a' * 70}.test:8090", "http://a..test:8090"):
        outcome = search_sources([SourceSpec("tdd", url)], Query())
        assert len(outcome.errors) == 1 and "not a usable URL" in outcome.errors[0], outcome
        assert "label empty or too long" in outcome.errors[0]
    with TddClient(url, timeout_s=1) as client, pytest.raises(RegistryError, match="not a usable URL"):
        client.get("urn:x")


def test_the_registry_tables_mask_secrets_as_the_other_tables_do() -> None:
    """A key pasted into a registry capability's description or example (sk-…) showed in full in the Registry
    page's Capabilities table, while every table built by resources.table masks it: the Registry's tables
    escaped what is not printable but did not redact. They now mask secrets too (one escaping path)."""
    from lmos_studio.model import Agent, Capability
    from lmos_studio.registry.sources import Found, capabilities_table, detail_fields

    key = "sk-" + "A1b2C3d4E5f6G7h8J9k0L1m2N3p4Q5r6"
    cap = Capability(name="lookup", version="1.0.0", description=f"use {key}", examples=[f"try {key}\u202e"])
    found = Found(agent=Agent(name="leaky", capabilities=[cap]), source="tdd")
    cells = " ".join(map(str, capabilities_table(found).to_numpy().ravel()))
    assert key not in cells and "***" in cells and "\\u202e" in cells
    assert key not in " ".join(map(str, detail_fields(found).to_numpy().ravel()))
