"""The WoT TDD server: a real `lmos-studio registry serve` subprocess on 127.0.0.1, over SQLite and over
PostgreSQL (the `backend` fixture); TTL checks in-process."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from lmos_studio.formats import a2a
from lmos_studio.formats import td as td_format
from lmos_studio.formats.detect import write_description
from lmos_studio.registry.server import MAX_BODY_BYTES, create_app
from lmos_studio.registry.store import RegistryStore
from lmos_studio.registry.stores import open_store
from lmos_studio.registry.things import thing_to_agent
from tests.registry_helpers import STORES, make_td, registry_server, store_target

TD = "application/td+json"


@pytest.fixture(scope="module", params=STORES)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One server per store kind for the whole module (the tests use distinct ids)."""
    tmp = tmp_path_factory.mktemp("srv")
    with store_target(request.param, tmp) as db, registry_server(tmp, db=db) as url:
        yield url


@pytest.fixture(params=STORES)
def opened(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A factory of stores of one kind for in-process tests: `opened(now=clock)`."""
    made: list[RegistryStore] = []
    with store_target(request.param, tmp_path) as db:

        def make(**kwargs: Any) -> RegistryStore:
            made.append(open_store(db, seed=False, **kwargs))
            return made[-1]

        yield make
        for store in made:
            store.close()


def put(url: str, thing_id: str, body: Any, *, token: str | None = None) -> httpx.Response:
    headers = {"Content-Type": TD, **({"Authorization": f"Bearer {token}"} if token else {})}
    return httpx.put(f"{url}/things/{thing_id}", content=json.dumps(body), headers=headers)


def assert_problem(response: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert {"type", "title", "status", "detail"} <= set(body) and body["status"] == status
    if field:
        assert body["field"] == field
    return dict(body)


def test_put_get_replace_delete(server: str) -> None:
    thing = "urn:test:crud"
    assert put(server, thing, make_td("crud")).status_code == 201
    assert put(server, thing, make_td("crud", description="changed")).status_code == 204
    got = httpx.get(f"{server}/things/{thing}")
    assert got.status_code == 200 and got.headers["content-type"].startswith(TD)
    assert got.headers["x-content-type-options"] == "nosniff"
    body = got.json()
    assert body["description"] == "changed" and body["id"] == thing
    assert "https://www.w3.org/2022/wot/discovery" in body["@context"]
    assert {"created", "modified", "retrieved"} <= set(body["registration"])
    assert httpx.delete(f"{server}/things/{thing}").status_code == 204
    assert_problem(httpx.get(f"{server}/things/{thing}"), 404, "id")
    assert_problem(httpx.delete(f"{server}/things/{thing}"), 404)


def test_post_anonymous_gets_urn_uuid(server: str) -> None:
    response = httpx.post(f"{server}/things", content=json.dumps(make_td("anon")), headers={"Content-Type": TD})
    assert response.status_code == 201
    location = response.headers["location"]
    assert location.startswith("/things/urn:uuid:")
    assert httpx.get(server + location).json()["title"] == "anon"
    with_id = httpx.post(f"{server}/things", json=make_td("x", thing_id="urn:x"))
    assert_problem(with_id, 400, "id")


def test_ttl_registration_and_empty_patch(server: str) -> None:
    assert put(server, "urn:test:ttl", make_td("ttl", ttl=3600)).status_code == 201
    reg = httpx.get(f"{server}/things/urn:test:ttl").json()["registration"]
    assert reg["ttl"] == 3600 and reg["expires"] > reg["created"]
    renewed = httpx.patch(
        f"{server}/things/urn:test:ttl", content=b"{}", headers={"Content-Type": "application/merge-patch+json"}
    )
    assert renewed.status_code == 204
    assert httpx.get(f"{server}/things/urn:test:ttl").json()["registration"]["expires"] >= reg["expires"]
    assert_problem(put(server, "urn:test:ttl2", make_td("t", ttl=-5)), 400, "registration.ttl")


@pytest.mark.parametrize(
    ("thing", "query", "patch", "ttl"),
    [
        ("urn:test:patch-ttl:query", "?ttl=600", {}, 600),
        ("urn:test:patch-ttl:text", "", {"registration": {"ttl": "700"}}, 700),
        ("urn:test:patch-ttl:number", "", {"registration": {"ttl": 800}}, 800),
    ],
)
def test_patch_applies_a_ttl_as_put_does(server: str, thing: str, query: str, patch: dict[str, Any], ttl: int) -> None:
    """`PATCH /things/x?ttl=2` with `{}`, and `PATCH {"registration": {"ttl": "2"}}`, answered 204 and kept the
    registration without a TTL: the server checked the TTL and dropped it, the store read only a number in the
    patch. PATCH now applies `?ttl=` and a TTL written as text, as PUT does; one out of range is still a 400."""
    assert put(server, thing, make_td("patch-ttl")).status_code == 201
    assert "expires" not in httpx.get(f"{server}/things/{thing}").json()["registration"]
    merge = {"Content-Type": "application/merge-patch+json"}
    patched = httpx.patch(f"{server}/things/{thing}{query}", content=json.dumps(patch), headers=merge)
    assert patched.status_code == 204, patched.text
    reg = httpx.get(f"{server}/things/{thing}").json()["registration"]
    assert reg["ttl"] == ttl and "expires" in reg, reg
    refused = httpx.patch(f"{server}/things/{thing}?ttl=-1", content=b"{}", headers=merge)
    assert_problem(refused, 400, "registration.ttl")


def test_merge_patch(server: str) -> None:
    put(server, "urn:test:patch", make_td("patch", description="old"))
    patch = {"description": "new", "actions": None}
    response = httpx.patch(
        f"{server}/things/urn:test:patch",
        content=json.dumps(patch),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert response.status_code == 204
    body = httpx.get(f"{server}/things/urn:test:patch").json()
    assert body["description"] == "new" and "actions" not in body
    wrong = httpx.patch(f"{server}/things/urn:test:patch", json=patch)
    assert_problem(wrong, 415, "Content-Type")
    missing = httpx.patch(
        f"{server}/things/urn:nope", content=b"{}", headers={"Content-Type": "application/merge-patch+json"}
    )
    assert_problem(missing, 404)


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("GET", "/things/urn:x%00y", "id"),
        ("DELETE", "/things/urn:x%00y", "id"),
        ("PUT", "/things/urn:x%00y", "id"),
        ("PATCH", "/things/urn:x%00y", "id"),
        ("GET", "/search?capability=a%00", "capability"),
        ("GET", "/search?q=bill%00", "q"),
        ("GET", "/search?tenant=%00", "tenant"),
        ("GET", "/things?after=a%00", "after"),
    ],
)
def test_a_nul_in_the_id_or_a_parameter_is_the_same_400_on_both_stores(
    server: str, method: str, path: str, field: str
) -> None:
    """A NUL character (%00) in an id or a query parameter: SQLite answered 404 or 200, PostgreSQL a 400 about
    "PostgreSQL text fields" naming the database's host, port and name, with `field: "body"`. The server now
    refuses it before the store, alike on both, naming the parameter and nothing of the database."""
    assert put(server, "urn:test:nul", make_td("nul")).status_code in (201, 204)  # one server per store kind
    kind = "application/merge-patch+json" if method == "PATCH" else TD
    body = json.dumps({} if method == "PATCH" else make_td("nul")) if method in ("PUT", "PATCH") else None
    response = httpx.request(method, server + path, content=body, headers={"Content-Type": kind})
    problem = assert_problem(response, 400, field)
    assert "NUL" in problem["detail"] and field in problem["detail"], problem
    assert not any(word in problem["detail"] for word in ("PostgreSQL", "5432", "database", "127.0.0.1")), problem


def test_listing_paginates_with_link(server: str) -> None:
    for i in range(7):
        put(server, f"urn:test:page:{i}", make_td(f"page-{i}"))
    seen: list[str] = []
    url: str | None = f"{server}/things?offset=0&limit=3"
    pages = 0
    while url:
        response = httpx.get(url)
        assert response.status_code == 200
        seen += [t["id"] for t in response.json()]
        link = response.headers.get("link", "")
        url = server + link.split(">")[0].lstrip("<") if 'rel="next"' in link else None
        pages += 1
    assert len(seen) == len(set(seen)) and {f"urn:test:page:{i}" for i in range(7)} <= set(seen)
    assert pages >= 3


def test_search_endpoint_with_facets(server: str) -> None:
    put(
        server,
        "urn:test:s1",
        make_td(
            "searchable-billing", caps=("pay-invoice",), tenants=("globex",), description="Settles outstanding invoices"
        ),
    )
    body = httpx.get(f"{server}/search", params={"capability": "pay-invoice"}).json()
    assert [t["id"] for t in body["items"]] == ["urn:test:s1"] and body["total"] == 1
    assert body["facets"]["tenant"] == {"globex": 1}
    assert httpx.get(f"{server}/search", params={"q": "outstanding invoic"}).json()["total"] == 1
    assert httpx.get(f"{server}/search", params={"tenant": "globex", "channel": "web"}).json()["total"] >= 1
    assert httpx.get(f"{server}/search", params={"q": '") OR 1=1 --'}).status_code == 200


def test_well_known_wot_describes_the_directory(server: str) -> None:
    response = httpx.get(f"{server}/.well-known/wot")
    td = response.json()
    assert response.headers["content-type"].startswith(TD)
    assert td["@type"] == "ThingDirectory" and "createThing" in td["actions"]


def test_events_stream_and_last_event_id(server: str) -> None:
    received: list[tuple[str, str]] = []
    ready = threading.Event()

    def listen() -> None:
        with httpx.stream("GET", f"{server}/events", timeout=20) as stream:
            ready.set()
            event = ""
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event:
                    received.append((event, json.loads(line[5:])["id"]))
                    if len(received) == 3:
                        return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    ready.wait(10)
    put(server, "urn:test:ev", make_td("ev"))
    put(server, "urn:test:ev", make_td("ev", description="2"))
    httpx.delete(f"{server}/things/urn:test:ev")
    thread.join(20)
    assert received == [
        ("thing_created", "urn:test:ev"),
        ("thing_updated", "urn:test:ev"),
        ("thing_deleted", "urn:test:ev"),
    ]


def _raw(server: str, head: bytes, body_chunks: Iterator[bytes]) -> tuple[int, int]:
    """Send a raw request; returns (status, bytes of body sent before the server answered or closed)."""
    host, port = server.removeprefix("http://").split(":")
    sent = 0
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head)
        sock.settimeout(0.05)
        for chunk in body_chunks:
            try:
                sock.sendall(chunk)
                sent += len(chunk)
            except OSError:
                break
            try:
                if sock.recv(1, socket.MSG_PEEK):
                    break
            except (TimeoutError, BlockingIOError):
                continue
            except OSError:
                break
        sock.settimeout(10)
        answer = sock.recv(4096).decode("latin-1")
    return int(answer.split(" ", 2)[1]), sent


def test_declared_50mb_body_is_refused_before_reading(server: str) -> None:
    size = 50 * 2**20
    head = (f"PUT /things/urn:big HTTP/1.1\r\nHost: x\r\nContent-Type: {TD}\r\nContent-Length: {size}\r\n\r\n").encode()
    status, sent = _raw(server, head, iter([b"{" + b" " * 65535] * 800))
    assert status == 413 and sent < size


def test_streamed_body_over_the_limit_is_refused(server: str) -> None:
    head = (f"POST /things HTTP/1.1\r\nHost: x\r\nContent-Type: {TD}\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    chunk = b"x" * 65536
    framed = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
    status, sent = _raw(server, head, iter([framed] * 800))  # 50 MiB if the server kept reading
    assert status == 413 and sent < 800 * len(framed)
    assert sent >= MAX_BODY_BYTES // 2  # it did read up to about the limit


def test_deeply_nested_json_is_rejected(server: str) -> None:
    for depth in (40, 100_000):
        body = "[" * depth + "]" * depth
        response = httpx.put(f"{server}/things/urn:deep", content=body, headers={"Content-Type": TD})
        assert_problem(response, 400, "body")
    nested: dict[str, Any] = make_td("deep")
    cursor = nested
    for _ in range(50):
        cursor["x"] = {}
        cursor = cursor["x"]
    assert_problem(put(server, "urn:deep", nested), 400, "body")


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "", "multipart/form-data"])
def test_wrong_content_type_is_415(server: str, content_type: str) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = httpx.put(f"{server}/things/urn:ct", content=json.dumps(make_td("ct")), headers=headers)
    assert_problem(response, 415, "Content-Type")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("not json", "body"),
        ("[1, 2]", "body"),
        ('"text"', "body"),
        ('{"@context": "https://www.w3.org/2022/wot/td/v1.1"}', "title"),
    ],
)
def test_bad_bodies_name_the_field(server: str, body: str, field: str) -> None:
    response = httpx.put(f"{server}/things/urn:bad", content=body, headers={"Content-Type": TD})
    assert_problem(response, 400, field)


def test_id_mismatch_names_id(server: str) -> None:
    assert_problem(put(server, "urn:a", make_td("a", thing_id="urn:b")), 400, "id")


def test_xss_text_comes_back_as_inert_json(server: str) -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    put(server, "urn:test:xss", make_td(evil, description=evil))
    response = httpx.get(f"{server}/things/urn:test:xss")
    assert response.headers["content-type"].startswith(TD)  # never text/html
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.json()["title"] == evil  # data kept verbatim, rendered as text by clients
    listing = httpx.get(f"{server}/search", params={"q": "script alert"})
    assert listing.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("kind", STORES)
def test_bearer_token_guards_writes(tmp_path: Path, kind: str) -> None:
    with (
        store_target(kind, tmp_path) as db,
        registry_server(tmp_path, db=db, env={"LMOS_STUDIO_REGISTRY_TOKEN": "s3cret"}) as url,
    ):
        response = put(url, "urn:auth", make_td("auth"))
        assert_problem(response, 401, "Authorization")
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert "s3cret" not in response.text
        assert_problem(put(url, "urn:auth", make_td("auth"), token="nope"), 401)
        ok = put(url, "urn:auth", make_td("auth"), token="s3cret")
        assert ok.status_code == 201
        assert httpx.get(f"{url}/things/urn:auth").status_code == 200  # reads stay open
        assert_problem(httpx.delete(f"{url}/things/urn:auth"), 401)


class Clock:
    t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


def test_expiry_through_the_api_with_a_controlled_clock(opened: Any) -> None:
    clock = Clock()
    client = TestClient(create_app(opened(now=clock)))
    client.put("/things/urn:t", content=json.dumps(make_td("t")), headers={"Content-Type": TD}, params={"ttl": 30})
    reg = client.get("/things/urn:t").json()["registration"]
    assert reg["ttl"] == 30 and reg["expires"].endswith("Z")
    clock.t += 31
    assert client.get("/things/urn:t").status_code == 404
    assert client.get("/things").json() == []
    assert client.get("/search", params={"q": "t"}).json()["total"] == 0


def test_listing_skips_no_live_agent_when_others_expire_between_pages(opened: Any) -> None:
    """The next link said `offset=N`: when registrations on an earlier page expired meanwhile, the pages
    shifted and live agents were never listed. The link is a cursor after the page's last id now."""
    clock = Clock()
    client = TestClient(create_app(opened(now=clock)))
    for i in range(6):
        ttl = {"ttl": 30} if i < 2 else None
        client.put(f"/things/urn:t:{i}", content=json.dumps(make_td(f"t{i}")), headers={"Content-Type": TD}, params=ttl)
    first = client.get("/things", params={"limit": 3})
    seen = [t["id"] for t in first.json()]
    assert seen == ["urn:t:0", "urn:t:1", "urn:t:2"]
    clock.t += 31  # urn:t:0 and urn:t:1 expire while the client reads page one
    link: str | None = first.headers["link"]
    while link:
        page = client.get(link.split(">")[0].lstrip("<"))
        seen += [t["id"] for t in page.json()]
        link = page.headers.get("link")
    assert seen == [f"urn:t:{i}" for i in range(6)]


def test_a2a_card_is_stored_as_td_with_original(server: str, reference: Path) -> None:
    card = json.loads((reference / "descriptions" / "a2a-card-v1.json").read_text())
    response = httpx.post(f"{server}/things", json=card)
    assert response.status_code == 201, response.text
    td = httpx.get(server + response.headers["location"]).json()
    assert "https://www.w3.org/2022/wot/td/v1.1" in td["@context"]


@pytest.mark.parametrize("name", ["a2a-card-v0.3.json", "a2a-card-v1.json"])
def test_a2a_card_is_served_back_whole(server: str, reference: Path, name: str) -> None:
    """A card POSTed is the card a reader of the served TD gets back: protocolVersion, capabilities
    (streaming, pushNotifications), provider … were lost, as the TD was built without the card."""
    card = json.loads((reference / "descriptions" / name).read_text())
    response = httpx.post(f"{server}/things", json=card)
    assert response.status_code == 201, response.text
    td = httpx.get(server + response.headers["location"]).json()
    assert td["lmos:original"] == {"format": "a2a", "document": card}
    assert write_description(thing_to_agent(td, source="GET"), "a2a") == card


def test_a_card_stored_before_the_original_was_embedded_is_served_with_it(opened: Any, reference: Path) -> None:
    """A card registered before the served TD carried it (`lmos:original`) was served without it until
    registered again, though the store kept the card (its `original`): a reader got a new v1.0 card."""
    store = opened()
    card = json.loads((reference / "descriptions" / "a2a-card-v0.3.json").read_text())
    agent = a2a.card_to_agent(card, source="old")
    store.put("urn:test:old-card", td_format.agent_to_td(agent), original=card, original_format="a2a", agent=agent)
    client = TestClient(create_app(store))
    for td in (client.get("/things/urn:test:old-card").json(), client.get("/things").json()[0]):
        assert td["lmos:original"] == {"format": "a2a", "document": card}
        assert write_description(thing_to_agent(td, source="GET"), "a2a") == card


def test_last_event_id_replays_missed_events(server: str) -> None:
    put(server, "urn:test:replay", make_td("replay"))
    httpx.delete(f"{server}/things/urn:test:replay")
    seen: list[tuple[str, str]] = []
    with httpx.stream("GET", f"{server}/events/thing_deleted", headers={"Last-Event-ID": "0"}, timeout=20) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                seen.append(("thing_deleted", json.loads(line[5:])["id"]))
                if seen[-1][1] == "urn:test:replay":
                    break
    assert ("thing_deleted", "urn:test:replay") in seen
    assert_problem(httpx.get(f"{server}/events/thing_exploded"), 404, "event_type")


def test_other_formats_are_stored_as_tds_with_the_original_kept(opened: Any, reference: Path) -> None:
    store = opened()
    client = TestClient(create_app(store))
    card = json.loads((reference / "descriptions" / "a2a-card-v1.json").read_text())
    created = client.post("/things", json=card, params={"ttl": 120})
    assert created.status_code == 201
    thing_id = created.headers["location"].removeprefix("/things/")
    entry = store.get(thing_id)
    assert entry.original == card and entry.original_format == "a2a"
    assert entry.registration.ttl == 120
    assert client.get(created.headers["location"]).json()["title"]
    caps = json.loads((reference / "descriptions" / "capabilities-document.json").read_text())
    put_caps = client.put("/things/urn:caps", json=caps)
    assert put_caps.status_code == 201 and store.get("urn:caps").original_format == "capabilities"


def test_query_validation_and_methods_are_problems(server: str) -> None:
    assert_problem(httpx.get(f"{server}/things", params={"offset": "abc"}), 400, "query.offset")
    assert_problem(httpx.post(f"{server}/things/urn:x", json={}), 405)
    assert_problem(httpx.get(f"{server}/search/sparql"), 404)


def test_expired_registration_is_purged_with_a_deleted_event(server: str) -> None:
    put(server, "urn:test:short-lived", make_td("short-lived", ttl=1))
    seen = False
    with httpx.stream(
        "GET", f"{server}/events/thing_deleted", timeout=30, headers={"Last-Event-ID": "0"}
    ) as stream:  # replay: no race with the purge
        for line in stream.iter_lines():
            if line.startswith("data:") and json.loads(line[5:])["id"] == "urn:test:short-lived":
                seen = True
                break
    assert seen
    assert_problem(httpx.get(f"{server}/things/urn:test:short-lived"), 404)


def test_search_answers_bounded_summaries_with_chosen_fields(opened: Any) -> None:
    store = opened()
    for i in range(60):
        store.put(f"urn:b:{i}", make_td(f"bounded-{i:02d}", caps=(f"cap-{i}", "everyone"), description="d" * 500))
    client = TestClient(create_app(store))
    body = client.get("/search").json()
    assert body["total"] == 60 and len(body["items"]) == 20 and body["next"] == 20
    item = body["items"][0]
    assert item["id"] == "urn:b:0" and item["name"] == "bounded-00" and "lmos:capabilities" not in item
    assert len(item["description"]) <= 201 and item["capabilities"][0].endswith("@1.0.0")
    assert len(body["facets"]["capability"]) == 20 and body["facetsTruncated"]["capability"] == 61
    assert body["facets"]["capability"]["everyone"] == 60
    assert len(client.get("/search").content) <= 20 * 1024
    chosen = client.get("/search", params={"fields": "id,capabilities", "limit": 2}).json()["items"]
    assert [set(i) for i in chosen] == [{"id", "capabilities"}] * 2
    whole = client.get("/search", params={"fields": "td", "limit": 1}).json()["items"][0]
    assert whole["lmos:capabilities"] and "registration" in whole
    bad = client.get("/search", params={"fields": "id,password"})
    assert bad.status_code == 400 and bad.json()["field"] == "fields"


def test_listings_and_searches_carry_etags(opened: Any) -> None:
    clock = Clock()
    store = opened(now=clock)
    store.put("urn:e:1", make_td("etag-1"), ttl=30)
    client = TestClient(create_app(store))
    for path in ("/things", "/search?q=etag"):
        first = client.get(path)
        tag = first.headers["etag"]
        again = client.get(path, headers={"If-None-Match": tag})
        assert again.status_code == 304 and again.headers["etag"] == tag and not again.content
    tags = {p: client.get(p).headers["etag"] for p in ("/things", "/search?q=etag")}
    assert client.get("/search?q=other").headers["etag"] != tags["/search?q=etag"]
    store.put("urn:e:2", make_td("etag-2"))
    assert client.get("/things", headers={"If-None-Match": tags["/things"]}).status_code == 200
    tags = {p: client.get(p).headers["etag"] for p in tags}
    clock.t += 31  # an expiry changes the answers without a write
    for path, tag in tags.items():
        assert client.get(path, headers={"If-None-Match": tag}).status_code == 200


def test_healthz_for_probes(server: str) -> None:
    ready = httpx.get(f"{server}/healthz")
    assert ready.status_code == 200 and ready.json()["status"] == "ok"
    assert "@" not in ready.json()["database"]  # never a URL with credentials
    assert httpx.get(f"{server}/healthz/live").json() == {"status": "ok"}
