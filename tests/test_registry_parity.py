"""The SQLite and the PostgreSQL registry store side by side: the same scenario runs on both, with one clock, and
what a user would see (ids found, totals, facets, errors and their messages) must be the same.

`test_registry_store.py` runs each behaviour on either store against expected values; these tests compare the
two stores directly, for inputs whose expected answer is whatever SQLite (the reference) says.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lmos_studio.errors import AgentNotFound
from lmos_studio.model import Agent
from lmos_studio.registry.store import Query, RegistryStore
from lmos_studio.registry.stores import open_store
from tests.registry_helpers import make_td, registry_server, store_target
from tests.test_registry_store import Clock, td


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def stores(tmp_path: Path, clock: Clock) -> Iterator[tuple[RegistryStore, RegistryStore]]:
    """(SQLite, PostgreSQL), both empty, both on `clock`."""
    with store_target("sqlite", tmp_path) as lite_at, store_target("postgresql", tmp_path) as pg_at:
        lite, pg = open_store(lite_at, now=clock, seed=False), open_store(pg_at, now=clock, seed=False)
        yield lite, pg
        lite.close()
        pg.close()


def outcome(call: Callable[[RegistryStore], Any], store: RegistryStore) -> Any:
    """What a user sees of one call: its value, or the error's type and message."""
    try:
        return call(store)
    except Exception as exc:  # compared between the stores, whatever it is
        return f"{type(exc).__name__}: {exc}"


def found(store: RegistryStore, text: str) -> list[str]:
    return [e.id for e in store.search(Query(text=text)).entries]


MERGE = "application/merge-patch+json"

TEXTS = {
    "urn:p:node": "Runs node.js and deno scripts; see README.md",
    "urn:p:mail": "Escalates to support-desk@acme.example.com or ops@globex.io",
    "urn:p:url": "Docs at https://docs.acme.example/billing/v2?lang=en#top and ftp://files.example.org/a/b.txt",
    "urn:p:version": "Speaks protocol v1.2.3 (also 2.0-beta), path /var/lib/agent, C++ and C#, 3.14159",
    "urn:p:mixed": "foo_bar foo-bar x/y a.b.c 10:30 user:pass 42kg -7 +49(0)30 ¡Hola! ÉCOLE naïve İstanbul",
    "urn:p:scripts": "東京 の 天気 予報, Привет мир, مرحبا, שלום, Ελληνικά, ﬁnance, x\u0301y",
}

QUERIES = [
    "node.js",
    "node",
    "js",
    "README.md",
    "md",
    "support-desk@acme.example.com",
    "acme.example.com",
    "acme",
    "example",
    "globex",
    "io",
    "ops@globex",
    "https://docs.acme.example/billing/v2",
    "docs.acme",
    "billing",
    "v2",
    "lang=en",
    "top",
    "files.example.org",
    "txt",
    "v1.2.3",
    "1.2.3",
    "2",
    "beta",
    "2.0-beta",
    "/var/lib/agent",
    "lib",
    "C++",
    "C#",
    "3.14159",
    "14159",
    "foo_bar",
    "bar",
    "x/y",
    "y",
    "a.b.c",
    "b",
    "10:30",
    "pass",
    "42kg",
    "kg",
    "49",
    "30",
    "hola",
    "ecole",
    "naive",
    "istanbul",
    "東京",
    "天気",
    "привет",
    "мир",
    "مرحبا",
    "שלום",
    "ελληνικα",
    "finance",
    "ﬁnance",
    "xy",
    "x",
]


def test_full_text_search_finds_the_same_on_both_stores(stores: tuple[RegistryStore, RegistryStore]) -> None:
    """PostgreSQL's parser made `node.js` a host, e-mail addresses and URLs single tokens of other types, `v1.2.3`
    a file name: `example`, `docs`, `txt` or an address typed whole found them on SQLite and not on PostgreSQL.
    Both stores now index the same words (SQLite's unicode61), so every query finds the same registrations."""
    for store in stores:
        for thing_id, text in TEXTS.items():
            store.put(thing_id, td(thing_id.rsplit(":", 1)[1], description=text))
    lite, pg = stores
    differ = {q: (found(lite, q), found(pg, q)) for q in QUERIES if found(lite, q) != found(pg, q)}
    assert differ == {}
    assert found(lite, "support-desk@acme.example.com") == ["urn:p:mail"]  # the reference finds them
    assert found(lite, "docs") == ["urn:p:url"] and found(lite, "example") == ["urn:p:mail", "urn:p:url"]


def test_very_long_words_and_texts_are_kept_and_found_alike(stores: tuple[RegistryStore, RegistryStore]) -> None:
    """A word over 2 047 bytes (a pasted key or blob) was dropped from PostgreSQL's index (SQLite found it by any
    prefix), and a registration whose search text held over 1 MiB of words was refused by PostgreSQL alone
    ('cannot store this: string is too long for tsvector'). Both keep them now and find the long word alike."""
    long_word = "q" + "x" * 2999
    big = td("big")
    words = [[" ".join(f"w{i}e{k}zzzz" for k in range(j, j + 100)) for j in (0, 100)] for i in range(500)]
    big["lmos:capabilities"] = [  # 1.2 MB of distinct words, within the per-agent budgets
        {"name": f"c{i}", "version": "1.0.0", "examples": examples} for i, examples in enumerate(words)
    ]
    for store in stores:
        store.put("urn:long", td("long", description=f"starts {long_word} ends"))
        store.put("urn:big", big)
    lite, pg = stores
    for text in ("qxxxx", long_word, "starts ends", "w0e0zzzz", "big"):
        assert found(lite, text) == found(pg, text), text[:20]
    assert found(pg, long_word) == ["urn:long"] and found(pg, "w0e0zzzz") == ["urn:big"]


NUL_CALLS: dict[str, Callable[[RegistryStore], Any]] = {
    "id": lambda s: s.get("urn:p:\x00"),
    "id (delete)": lambda s: s.delete("urn:p:\x00"),
    "id (patch)": lambda s: s.patch("urn:p:\x00", {}),
    "source": lambda s: s.put("urn:p:b", td("b"), source="mdns:\x00"),
    "originalFormat": lambda s: s.put("urn:p:b", td("b"), original_format="a2a\x00"),
    "source (put_agents)": lambda s: s.put_agents([s.get("urn:p:a").agent], source="file\x00"),
    "capability": lambda s: s.search(Query(capability="view\x00")).total,
    "tenant": lambda s: s.search(Query(tenant="\x00")).total,
    "channel": lambda s: s.search(Query(channel="web\x00")).total,
    "protocol": lambda s: s.search(Query(protocol="\x00")).total,
    "subset": lambda s: s.search(Query(subset="stable\x00")).total,
    "after": lambda s: s.list_page(after="urn:\x00")[1],
}


@pytest.mark.parametrize("field", NUL_CALLS)
def test_a_nul_character_in_an_argument_is_one_clear_message_on_both_stores(
    stores: tuple[RegistryStore, RegistryStore], field: str
) -> None:
    """A NUL character in an id, a search value or a registration's source, given to a store directly (the CLI, the
    app, mDNS discovery) was answered apart: SQLite 'no thing …', 0 matches, or stored it; PostgreSQL 'registry
    database 127.0.0.1:5432/test: PostgreSQL text fields cannot contain NUL (0x00) bytes', blaming the database and
    showing its address. Both refuse it now with one message naming the argument, and nothing is written."""
    for store in stores:
        store.put("urn:p:a", td("a"))
    lite, pg = (outcome(NUL_CALLS[field], store) for store in stores)
    name = field.split(" ")[0]
    said = "holds a NUL character (\\u0000), which a registry cannot keep or search for; remove it"
    assert lite == pg == f"DesignFileError: {name}: {said}"
    assert [[e.id for e in store.search(Query()).entries] for store in stores] == [["urn:p:a"]] * 2


@pytest.mark.parametrize(
    ("limit", "offset", "expected"),
    [(10**20, 0, 3), (2**63, 1, 2), (2, 2**63, 0), (2**64, 10**30, 0), (-(10**20), 0, 0), (2, -(10**20), 2)],
)
def test_a_limit_or_offset_past_64_bits_is_all_or_nothing_on_both_stores(
    stores: tuple[RegistryStore, RegistryStore], limit: int, offset: int, expected: int
) -> None:
    """`registry search --limit 100000000000000000000` ended in a traceback on SQLite ('OverflowError: Python int
    too large to convert to SQLite INTEGER') and in 'registry database 127.0.0.1:5432/…: bigint out of range' on
    PostgreSQL. Both now read a limit or offset past the largest database integer as that integer: every entry,
    or none."""
    for store in stores:
        for name in ("a", "b", "c"):
            store.put(f"urn:p:{name}", td(name))
    lite, pg = (
        outcome(lambda s: [e.id for e in s.search(Query(limit=limit, offset=offset)).entries], s) for s in stores
    )
    assert lite == pg and len(lite) == expected


@pytest.mark.parametrize(
    ("field", "call"),
    [
        ("capability", lambda s: s.search(Query(capability="bill\udcff")).total),  # `--capability $'bill\xff'`
        ("id", lambda s: s.delete("urn:p:\udcff")),  # `registry remove $'urn:p:\xff'`
        ("id", lambda s: s.get("urn:p:\udcff")),
        ("source", lambda s: s.put("urn:p:b", td("b"), source="/tmp/ag\udcff.json")),  # a file name in Latin-1
    ],
)
def test_text_that_is_not_utf8_is_one_clear_message_on_both_stores(
    stores: tuple[RegistryStore, RegistryStore], field: str, call: Callable[[RegistryStore], Any]
) -> None:
    """An argument or file name that is not UTF-8 (Python reads its bytes as lone surrogates) ended in a traceback
    on both stores: 'UnicodeEncodeError: … surrogates not allowed' from sqlite3 and psycopg, or a
    PydanticSerializationError (`registry register` of such a file, `registry search --capability $'\\xff'`). Both
    refuse it now, naming the argument and showing the byte."""
    for store in stores:
        store.put("urn:p:a", td("a"))
    lite, pg = (outcome(call, store) for store in stores)
    assert (
        lite == pg
        and lite.startswith(f"DesignFileError: {field}: '")
        and "\\udcff" in lite
        and "' is not UTF-8" in lite
    )
    assert [[e.id for e in store.search(Query()).entries] for store in stores] == [["urn:p:a"]] * 2


def transcript(store: RegistryStore, clock: Clock) -> list[Any]:
    """One registry's life, as a user sees it step by step: registrations with TTLs, an upsert that changes the
    description, filters and pages, an expiry, a purge, a delete, renewals, versions (ETags) and events."""
    seen: list[Any] = []

    def look(label: str, call: Callable[[RegistryStore], Any]) -> None:
        seen.append((label, outcome(call, store)))

    def page(query: Query) -> Callable[[RegistryStore], Any]:
        return lambda s: (lambda r: ([e.id for e in r.entries], r.total, r.facets))(s.search(query))

    names = ["beta", "Alpha", "alpha", "émile", "日本", "a-b", "a_b", "A" * 253, "ä", "Z"]
    for i, name in enumerate(names):
        tenants, channels = (("acme",) if i % 2 else ()), (("web", "ivr") if i % 3 else ("app",))
        doc = td(name, tenants=tenants, channels=channels)
        look(f"put {i}", lambda s, i=i, doc=doc: s.put(f"urn:l:{i}", doc, ttl=10 * (i + 1)))
    versions = [store.version()]
    look("all", page(Query(limit=100)))
    for query in (
        Query(tenant="acme"),
        Query(channel="ivr", limit=2, offset=1),
        Query(text="a"),
        Query(after="urn:l:5"),
    ):
        look(repr(query), page(query))
    look("id pages", lambda s: [[e.id for e in s.list_page(limit=3, after=a)[0]] for a in ("", "urn:l:2", "urn:l:8")])
    clock.t += 5
    look("upsert", lambda s: s.put("urn:l:0", td("beta", description="now explains refunds"), ttl=100))
    look("old words", page(Query(text="beta agent")))
    look("new words", page(Query(text="refunds")))
    look("entry", lambda s: (lambda e: (e.registration, e.td["description"]))(s.get("urn:l:0")))
    versions.append(store.version())
    clock.t += 20  # urn:l:1 (ttl 20) expires now: `expires <= now` is gone
    versions.append(store.version())
    look("expired get", lambda s: s.get("urn:l:1"))
    look("expired patch", lambda s: s.patch("urn:l:1", {}))
    look("expired delete", lambda s: s.delete("urn:l:1"))
    look("after expiry", page(Query(limit=100)))
    versions.append(store.version())
    look("purge", lambda s: s.purge())
    versions.append(store.version())
    look("purge again", lambda s: s.purge())
    versions.append(store.version())
    look("renew", lambda s: s.patch("urn:l:2", {}).registration)
    look("renew with ttl", lambda s: s.patch("urn:l:3", {"registration": {"ttl": 7}}).registration)
    look("delete", lambda s: s.delete("urn:l:4"))
    look("delete again", lambda s: s.delete("urn:l:4"))
    clock.t += 1000
    look("all gone but forever ones", page(Query(limit=100)))
    look("purge the rest", lambda s: s.purge())
    versions.append(store.version())
    seen.append(("versions moved", [a != b for a, b in itertools.pairwise(versions)]))
    look("events", lambda s: [(e.type, e.thing_id, e.at, e.td is None) for e in s.events_since(0, limit=1000)])
    return seen


def test_a_registrations_life_reads_the_same_on_both_stores(
    stores: tuple[RegistryStore, RegistryStore], clock: Clock
) -> None:
    """The same life on both stores reads the same at every step. It found one difference: the `thing_deleted`
    events of one purge came by expiry on SQLite and as the table lay on disk on PostgreSQL, so `/events` and a
    Last-Event-ID replay told them in another order; both now tell them by expiry, then id."""
    start = clock.t
    lite = transcript(stores[0], clock)
    clock.t = start
    pg = transcript(stores[1], clock)
    assert [step for step in pg if step not in lite] == []
    assert lite == pg


def answer(response: httpx.Response) -> tuple[int, dict[str, str], str]:
    """A server's answer as a client sees it, with the clock's and random ids' parts made alike."""
    text = re.sub(r'"(created|modified|retrieved|expires)": ?("[^"]*"|[0-9.e+]+)', r'"\1": T', response.text)
    text = re.sub(r"urn(:|%3A)uuid(:|%3A)[0-9a-f-]{36}", "urn:uuid:X", text)
    kept = ("etag", "link", "content-type", "location")
    headers = {k: re.sub(r"urn%3Auuid%3A[0-9a-f-]{36}", "X", v) for k, v in response.headers.items() if k in kept}
    return response.status_code, headers, text


def test_the_http_api_answers_the_same_over_both_stores(tmp_path: Path) -> None:
    """`registry serve` over SQLite and over PostgreSQL, asked the same: the same statuses, bodies, `Link` pages
    and even the same ETags (the stores' versions move alike), 304 to each other's If-None-Match."""
    requests: list[tuple[str, str, dict[str, Any]]] = [
        ("PUT", f"/things/urn:h:{i}", {"json": make_td(name, description=f"{name} via bob@example.com v{i}.0")})
        for i, name in enumerate(["beta", "Alpha", "alpha", "émile", "日本語", "node.js-agent"])
    ]
    requests += [
        ("POST", "/things", {"json": [make_td("p1"), make_td("p2", tenants=("globex",))]}),
        ("GET", "/things?limit=3", {}),
        ("GET", "/things?limit=3&after=urn:h:2", {}),
        *[("GET", f"/search?{q}", {}) for q in ("", "q=example", "q=node.js", "q=emile&fields=id", "tenant=globex")],
        ("GET", "/search?capability=view-bill&limit=2&offset=1&facet_values=1", {}),
        ("PATCH", "/things/urn:h:1", {"json": {"description": "patched"}, "headers": {"content-type": MERGE}}),
        ("GET", "/search?q=patched", {}),
        ("DELETE", "/things/urn:h:2", {}),
        ("DELETE", "/things/urn:h:2", {}),
        ("GET", "/things/urn:h:2", {}),
        ("PUT", "/things/urn:" + "y" * 1100, {"json": make_td("long-id")}),
        ("GET", "/things?limit=100", {}),
    ]
    with (
        store_target("sqlite", tmp_path) as lite_at,
        store_target("postgresql", tmp_path) as pg_at,
        registry_server(tmp_path, db=lite_at) as lite_url,
        registry_server(tmp_path, db=pg_at) as pg_url,
        httpx.Client(base_url=lite_url, timeout=30) as lite,
        httpx.Client(base_url=pg_url, timeout=30) as pg,
    ):
        for method, path, options in requests:
            said = [answer(client.request(method, path, **options)) for client in (lite, pg)]
            assert said[0] == said[1], f"{method} {path}"
        etag = lite.get("/search?q=example").headers["etag"]
        again = [c.get("/search?q=example", headers={"If-None-Match": etag}) for c in (lite, pg)]
        assert [r.status_code for r in again] == [304, 304]


@pytest.mark.parametrize(
    "text", ["cafe", "CAFÉ", "efund", "refunds", "https", "example", "node.js", "view bill", "default", "-", "ab", ""]
)
def test_a_source_that_cannot_search_matches_as_the_stores_find(tmp_path: Path, text: str) -> None:
    """Agents read from an LMOS operator, a cluster or mDNS are searched by `sources.matches`, which promised the
    store's rules but matched substrings of lower-cased text: `registry search --operator … --text cafe` missed
    'Café', `efund` found 'refunds' (the stores find word prefixes), `https` and the namespace were not searched, and
    a text of punctuation only (`-`) matched every agent (the stores none). It now matches as the stores find."""
    from lmos_studio.registry.sources import matches

    with store_target("sqlite", tmp_path) as where:
        store = open_store(where, seed=False)
        docs = {
            "urn:m:cafe": td("billing", description="Café refunds via bob@example.com, node.js"),
            "urn:m:plain": td("ab-agent", caps=("view-contract",), description="contracts"),
        }
        for thing_id, doc in docs.items():
            store.put(thing_id, doc)
        entries = store.search(Query(limit=100)).entries
        by_store = [e.id for e in store.search(Query(text=text)).entries]
        store.close()
    assert [e.id for e in entries if matches(e.agent, Query(text=text))] == by_store


def test_both_stores_keep_the_same_window_of_events_for_replay(
    stores: tuple[RegistryStore, RegistryStore], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL pruned old events only when an event's number was a multiple of 1000, and numbers taken by a purge's
    deletions or a rolled-back write skipped it: it kept more events than SQLite, and a replay from an old event id
    went further back. Both keep the newest `MAX_EVENTS` events now, pruned once `PRUNE_EVENTS_EVERY` more are kept."""
    from lmos_studio.registry import store as store_module
    from lmos_studio.registry import store_pg

    for module in (store_module, store_pg):
        monkeypatch.setattr(module, "MAX_EVENTS", 10)
        monkeypatch.setattr(module, "PRUNE_EVENTS_EVERY", 4, raising=False)

    def history(store: RegistryStore) -> list[tuple[str, str]]:
        for round_ in range(4):  # 601 events a round, past 1000 twice; PostgreSQL takes 901 numbers a round
            store.put_agents([Agent(name=f"e{round_}-{i}") for i in range(300)], ttl=5)
            clock.t += 10
            with pytest.raises(AgentNotFound):
                store.delete("urn:e:missing")  # its purge of the expired is rolled back with it
            store.purge()
            store.put(f"urn:k:{round_}", td("kept"))
        return [(e.type, e.thing_id) for e in store.events_since(0, limit=100_000)]

    start = clock.t
    lite = history(stores[0])
    clock.t = start
    pg = history(stores[1])
    assert pg == lite
    assert 10 <= len(lite) < 14


TTL_OR_LIMIT_CALLS: dict[str, Callable[[RegistryStore], Any]] = {
    "ttl nan": lambda s: s.put("urn:p:b", td("b"), ttl=float("nan")),
    "ttl inf": lambda s: s.put("urn:p:b", td("b"), ttl=float("inf")),
    "ttl -5": lambda s: s.put("urn:p:b", td("b"), ttl=-5),
    "ttl 0": lambda s: s.add(td("b"), ttl=0),
    "ttl 1000000000000.0": lambda s: s.put_agents([s.get("urn:p:a").agent], ttl=1e12),
    "ttl nan (patch)": lambda s: s.patch("urn:p:a", {}, ttl=float("nan")),
    "ttl nan (patch body)": lambda s: s.patch("urn:p:a", {"registration": {"ttl": float("nan")}}),
    "limit -1": lambda s: s.events_since(0, limit=-1),
}


@pytest.mark.parametrize("call", TTL_OR_LIMIT_CALLS)
def test_a_bad_ttl_or_event_limit_is_one_clear_message_on_both_stores(
    stores: tuple[RegistryStore, RegistryStore], call: str
) -> None:
    """Given to a store directly (the server and the CLI check first), a TTL of NaN was kept as 'never expires' on
    SQLite and as NaN on PostgreSQL (inf and negative ones alike: expired at once, or an overflow), and
    `events_since(limit=-1)` was no limit on SQLite and 'LIMIT must not be negative' on PostgreSQL. Both refuse
    them now with one message naming the argument, and nothing is written."""
    for store in stores:
        store.put("urn:p:a", td("a"))
    lite, pg = (outcome(TTL_OR_LIMIT_CALLS[call], store) for store in stores)
    name, value = call.split(" ")[:2]
    assert lite == pg
    assert lite.startswith(f"DesignFileError: {name}: '{value}' must be a ")
    assert [[(e.id, e.registration.ttl) for e in store.search(Query()).entries] for store in stores] == [
        [("urn:p:a", None)]
    ] * 2
    assert [[e.type for e in store.events_since(0)] for store in stores] == [["thing_created"]] * 2


def test_an_event_number_past_64_bits_reads_alike_on_both_stores(stores: tuple[RegistryStore, RegistryStore]) -> None:
    """`events_since` after a number past 64 bits overflowed on SQLite and was 'bigint out of range' on PostgreSQL;
    before one below -2**63 likewise. Both read such a number as the largest (smallest) there is."""
    for store in stores:
        store.put("urn:p:a", td("a"))
    for seq, expected in ((2**64, []), (-(2**70), ["thing_created"])):
        lite, pg = (outcome(lambda s, seq=seq: [e.type for e in s.events_since(seq, limit=10**30)], s) for s in stores)
        assert lite == pg == expected
