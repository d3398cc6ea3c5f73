"""The registry stores (SQLite and PostgreSQL, one parametrised fixture): CRUD, TTL with a controllable clock,
search and facets, concurrency."""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
import threading
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lmos_studio.errors import AgentNotFound
from lmos_studio.registry.store import Query, RegistryStore, Store, fts_query, merge_patch
from lmos_studio.registry.stores import open_store
from lmos_studio.registry.things import TD_CONTEXT
from tests.registry_helpers import backend, store_target  # noqa: F401  (backend: the parametrised fixture)


class Clock:
    def __init__(self, t: float = 1_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def td(
    name: str,
    *,
    caps: tuple[str, ...] = ("view-bill",),
    tenants: tuple[str, ...] = (),
    channels: tuple[str, ...] = ("web",),
    description: str = "",
    subset: str = "",
) -> dict[str, Any]:
    return {
        "@context": [TD_CONTEXT, {"lmos": "https://eclipse.dev/lmos/protocol/v1"}],
        "@type": "lmos:Agent",
        "title": name,
        "description": description,
        "lmos:supportedTenants": list(tenants),
        "lmos:supportedChannels": list(channels),
        **({"lmos:kubernetes": {"labels": {"subset": subset}}} if subset else {}),
        "lmos:capabilities": [{"name": c, "version": "1.0.0", "examples": [f"please {c}"]} for c in caps],
        "actions": {"chat": {"forms": [{"href": f"https://{name}.example/chat"}]}},
    }


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def target(backend: str, tmp_path: Path) -> Iterator[str]:  # noqa: F811
    with store_target(backend, tmp_path) as where:
        yield where


@pytest.fixture
def store(target: str, clock: Clock) -> Iterator[RegistryStore]:
    opened = open_store(target, now=clock, seed=False)
    yield opened
    opened.close()


def test_seeded_once_from_the_acme_sample(target: str) -> None:
    first = open_store(target)
    names = {e.agent.name for e in first.search(Query()).entries}
    assert {"billing-agent-stable", "contract-agent", "weather-agent"} <= names
    first.delete(first.search(Query(text="weather")).entries[0].id)
    again = open_store(target)  # second start: no re-seed, the deletion stays
    assert again.search(Query(text="weather")).total == 0
    assert again.search(Query()).total == len(names) - 1
    first.close()
    again.close()


def test_put_get_replace_delete(store: RegistryStore) -> None:
    assert store.put("urn:x:1", td("alpha")) is True
    assert store.put("urn:x:1", td("alpha", description="new")) is False
    entry = store.get("urn:x:1")
    assert entry.td["description"] == "new" and entry.agent.name == "alpha"
    assert entry.registration.created <= entry.registration.modified
    store.delete("urn:x:1")
    with pytest.raises(AgentNotFound):
        store.get("urn:x:1")
    with pytest.raises(AgentNotFound):
        store.delete("urn:x:1")


def test_a_huge_unknown_id_is_named_cut_in_the_not_found_message(store: RegistryStore) -> None:
    huge = "urn:x:" + "x" * 200_000  # the message repeated it whole: 200 KB on a terminal, in a log, an answer
    for call in (lambda: store.get(huge), lambda: store.delete(huge), lambda: store.patch(huge, {})):
        with pytest.raises(AgentNotFound) as caught:
            call()
        assert len(str(caught.value)) < 300 and "urn:x:xxx" in str(caught.value)
        assert str(caught.value).endswith("in the registry") and len(caught.value.url or "") < 300


def test_add_assigns_urn_uuid(store: RegistryStore) -> None:
    thing_id = store.add(td("anon"))
    assert thing_id.startswith("urn:uuid:")
    assert store.get(thing_id).td["id"] == thing_id


def test_client_registration_is_ignored(store: RegistryStore) -> None:
    store.put("urn:x:r", {**td("r"), "registration": {"expires": "2999-01-01T00:00:00Z"}})
    assert "registration" not in store.get("urn:x:r").td


def test_ttl_expiry_hides_then_purges(store: RegistryStore, clock: Clock) -> None:
    store.put("urn:x:short", td("short"), ttl=60)
    store.put("urn:x:forever", td("forever"))
    entry = store.get("urn:x:short")
    assert entry.registration.expires == clock.t + 60 and entry.registration.ttl == 60
    clock.t += 59
    assert store.search(Query()).total == 2
    clock.t += 2
    with pytest.raises(AgentNotFound):
        store.get("urn:x:short")
    assert [e.id for e in store.search(Query()).entries] == ["urn:x:forever"]
    assert store.list_page()[1] == 1
    assert store.search(Query(text="short")).total == 0
    assert "short" not in str(store.search(Query()).facets)
    assert store.purge() == 1
    assert store.events_since(0)[-1].type == "thing_deleted"


def test_a_purge_of_nothing_keeps_the_version(store: RegistryStore, clock: Clock) -> None:
    """SQLite's purge bumped the generation even when it deleted nothing, so the server's purge every 5 s
    changed every ETag (If-None-Match almost never gave 304) and emptied the facet and count caches;
    PostgreSQL's kept them. Both now move the version only when a purge deleted something."""
    store.put("urn:x:stays", td("stays"))
    store.put("urn:x:goes", td("goes"), ttl=60)
    before = store.version()
    assert store.purge() == 0 and store.purge() == 0
    assert store.version() == before
    clock.t += 61
    expired = store.version()
    assert expired != before  # an expiry shows without a purge
    assert store.purge() == 1
    purged = store.version()
    assert purged != expired
    assert store.purge() == 0 and store.version() == purged


def test_empty_patch_renews_ttl(store: RegistryStore, clock: Clock) -> None:
    store.put("urn:x:p", td("p"), ttl=10)
    clock.t += 8
    entry = store.patch("urn:x:p", {})
    assert entry.registration.expires == clock.t + 10
    clock.t += 8
    assert store.get("urn:x:p").agent.name == "p"


def test_merge_patch_rfc7396() -> None:
    assert merge_patch({"a": "b", "c": {"d": "e", "f": "g"}}, {"a": "z", "c": {"f": None}}) == {
        "a": "z",
        "c": {"d": "e"},
    }
    assert merge_patch({"a": [1, 2]}, {"a": [3]}) == {"a": [3]}
    assert merge_patch({"a": 1}, {"b": {"c": None}}) == {"a": 1, "b": {}}


def test_patch_updates_the_index(store: RegistryStore) -> None:
    store.put("urn:x:q", td("q", caps=("old-cap",)))
    store.patch("urn:x:q", {"lmos:capabilities": [{"name": "new-cap", "version": "2.0.0"}]})
    assert store.search(Query(capability="new-cap")).total == 1
    assert store.search(Query(capability="old-cap")).total == 0


def test_search_filters_and_facets(store: RegistryStore) -> None:
    store.put(
        "urn:a",
        td(
            "billing",
            caps=("view-bill", "pay-bill"),
            tenants=("acme",),
            channels=("web", "ivr"),
            description="Invoices and balances",
        ),
    )
    store.put("urn:b", td("contracts", caps=("view-contract",), tenants=("globex",), channels=("web",)))
    store.put("urn:c", td("faq", caps=("faq",), channels=("app",), subset="canary"))
    assert {e.id for e in store.search(Query(capability="view-bill")).entries} == {"urn:a"}
    assert {e.id for e in store.search(Query(tenant="acme")).entries} == {"urn:a", "urn:c"}  # c: any tenant
    assert {e.id for e in store.search(Query(channel="web")).entries} == {"urn:a", "urn:b"}
    assert {e.id for e in store.search(Query(subset="canary")).entries} == {"urn:c"}
    assert {e.id for e in store.search(Query(protocol="https")).entries} == {"urn:a", "urn:b", "urn:c"}
    assert {e.id for e in store.search(Query(text="invoic")).entries} == {"urn:a"}  # prefix match
    assert {e.id for e in store.search(Query(text="pay bill")).entries} == {"urn:a"}
    result = store.search(Query(channel="web"))
    assert result.facets["capability"] == {"pay-bill": 1, "view-bill": 1, "view-contract": 1}
    assert result.facets["tenant"] == {"acme": 1, "globex": 1}
    assert result.facets["subset"] == {"stable": 2}
    page = store.search(Query(limit=2))
    assert page.total == 3 and len(page.entries) == 2


def test_an_agent_listing_tenant_star_serves_tenant_star_only_as_the_operator_wires(store: RegistryStore) -> None:
    """An agent whose supportedTenants is literally ["*"] matched every tenant on both stores, since "*" was also
    their mark of an agent listing no tenant; the operator compares tenants as plain strings (LMOS §1.6), so it
    serves a channel of tenant "*" only. An agent listing none still serves every tenant."""
    from lmos_studio.registry.sources import matches

    store.put("urn:x", td("x", tenants=("*",)))
    store.put("urn:any", td("any"))
    store.put("urn:acme", td("acme-only", tenants=("acme",)))
    for tenant, expected in (("acme", {"urn:any", "urn:acme"}), ("globex", {"urn:any"}), ("*", {"urn:x", "urn:any"})):
        result = store.search(Query(tenant=tenant, limit=10))
        assert {e.id for e in result.entries} == expected, tenant
        assert {e.id for e in store.search(Query(limit=10)).entries if matches(e.agent, Query(tenant=tenant))} == (
            expected
        )
    facets = store.search(Query(limit=0)).facets["tenant"]
    assert facets == {"*": 2, "acme": 1}  # "*": what a search for tenant "*" finds (both store paths count alike)
    store.put("urn:y", td("y", tenants=("globex",)))  # a write: the facets are counted again, the other way
    assert store.search(Query(limit=0)).facets["tenant"] == {"*": 2, "acme": 1, "globex": 1}


def test_a_database_written_before_the_every_tenant_mark_reads_alike(target: str, clock: Clock) -> None:
    """A database whose agents without tenants carry the old mark (tenant "*") is converted when a store opens it:
    they still serve every tenant, and an agent listing "*" does not."""
    opened = open_store(target, now=clock, seed=False)
    opened.put("urn:x", td("x", tenants=("*",)))
    opened.put("urn:any", td("any"))
    opened.close()
    if target.startswith("postgresql"):
        import psycopg

        with psycopg.connect(target, autocommit=True) as conn:
            conn.execute("UPDATE registrations SET facets = array_replace(facets, 'every-tenant=', 'tenant=*')")
            conn.execute("DELETE FROM schema_migrations WHERE version >= 4")  # as a database of version 3 was
            conn.execute("DELETE FROM meta WHERE key = 'events'")
    else:
        import sqlite3

        with contextlib.closing(sqlite3.connect(target)) as conn, conn:
            conn.execute("UPDATE facets SET kind = 'tenant', value = '*' WHERE kind = 'every-tenant'")
            conn.execute("DELETE FROM meta WHERE key = 'every_tenant'")
    reopened = open_store(target, now=clock, seed=False)
    try:
        assert {e.id for e in reopened.search(Query(tenant="acme")).entries} == {"urn:any"}
        assert {e.id for e in reopened.search(Query(tenant="*")).entries} == {"urn:any", "urn:x"}
    finally:
        reopened.close()


@pytest.mark.parametrize("text", ['"', "NEAR(", "a OR", "*", 'bill") OR ("x', "-- ;DROP TABLE things", "'"])
def test_hostile_search_text_is_literal(store: RegistryStore, text: str) -> None:
    store.put("urn:a", td("billing"))
    store.search(Query(text=text))  # no FTS syntax error, no SQL
    assert store.search(Query()).total == 1
    assert '"' not in fts_query(text).replace('""', "").strip('"*').replace('"* AND "', "")


@pytest.mark.parametrize(
    ("text", "found"),
    [("cafe", True), ("CAFÉ", True), ("ecole", True), ("muller", True), ("naive", True), ("strasse", False)],
)
def test_search_folds_latin_diacritics_on_both_stores(store: RegistryStore, text: str, found: bool) -> None:
    """SQLite's unicode61 finds `café` for `cafe`; PostgreSQL found nothing: the same query answered differently
    by the two stores."""
    store.put("urn:fr", td("fr-agent", description="Café de l'École, Müller, naïve, Straße"))
    assert [e.agent.name for e in store.search(Query(text=text)).entries] == (["fr-agent"] if found else [])


@pytest.mark.parametrize("kept", [1, 2])
def test_postgresql_reindexes_documents_of_an_older_schema(tmp_path: Path, kept: int) -> None:
    """A database written before diacritics were folded (version 1), or before the search text held SQLite's words
    (version 2: PostgreSQL's parser kept an e-mail address whole), gets its search text rebuilt at start."""
    from tests.registry_helpers import need_postgres, pg_unavailable

    if reason := pg_unavailable():
        need_postgres(reason)
    import psycopg

    from lmos_studio.registry.store_pg import PostgresStore

    with store_target("postgresql", tmp_path) as url:
        first = PostgresStore(url, seed=False)
        first.put("urn:fr", td("fr-agent", description="Café, bob@example.com"))
        first.close()
        with psycopg.connect(url, autocommit=True) as conn:  # as that version left it
            conn.execute("DELETE FROM schema_migrations WHERE version > %s", (kept,))
            conn.execute("UPDATE documents SET body = to_tsvector('simple', 'fr-agent Café, bob@example.com')")
        again = PostgresStore(url, seed=False)
        assert [e.agent.name for e in again.search(Query(text="cafe example")).entries] == ["fr-agent"]
        again.close()


def test_a_nul_character_is_refused_alike_naming_the_field(store: RegistryStore) -> None:
    """JSON may escape a NUL (\\u0000): SQLite stored it, PostgreSQL failed with 'registry database …: PostgreSQL
    text fields cannot contain NUL' (blaming the database, not the field). Both refuse it now, naming the field."""
    from lmos_studio.errors import DesignFileError

    with pytest.raises(DesignFileError, match=r"description: holds a NUL"):
        store.put("urn:nul", td("nul", description="a\x00b"))
    with pytest.raises(DesignFileError, match=r"id: holds a NUL"):
        store.put("urn:n\x00ul", td("nul"))
    store.put("urn:ok", td("ok"))
    with pytest.raises(DesignFileError, match=r"title: holds a NUL"):
        store.patch("urn:ok", {"title": "o\x00k"})
    assert [e.agent.name for e in store.search(Query()).entries] == ["ok"]


def test_an_id_or_indexed_value_too_long_for_an_index_is_refused_alike(store: RegistryStore) -> None:
    """A 6 000-byte id or channel name was stored by SQLite, while PostgreSQL's index refused it and the store
    said 'the registry database does not answer …; retry shortly' (a 503 with Retry-After: a client retries
    forever). Both refuse it now, naming the field."""
    import secrets

    from lmos_studio.errors import DesignFileError

    with pytest.raises(DesignFileError, match=r"^id: an id of 6004 bytes"):
        store.put("urn:" + secrets.token_hex(3000), td("long-id"))
    with pytest.raises(DesignFileError, match=r"lmos:supportedChannels\[0\]: a value of 6000 characters"):
        store.put("urn:long-channel", td("long-channel", channels=(secrets.token_hex(3000),)))
    with pytest.raises(DesignFileError, match=r"lmos:capabilities\[1\]: a value of 6000 characters"):
        store.put("urn:long-cap", td("long-cap", caps=("view-bill", secrets.token_hex(3000))))
    assert store.search(Query()).total == 0


def test_a_postgresql_size_limit_is_not_reported_as_the_database_not_answering(tmp_path: Path) -> None:
    from tests.registry_helpers import need_postgres, pg_unavailable

    if reason := pg_unavailable():
        need_postgres(reason)
    import psycopg

    from lmos_studio.errors import RegistryError, RegistryUnavailable
    from lmos_studio.registry.store_pg import PostgresStore

    with store_target("postgresql", tmp_path) as url:
        opened = PostgresStore(url, seed=False)
        error = opened._failure(psycopg.errors.ProgramLimitExceeded("index row size 6016 exceeds maximum 2704"))
        opened.close()
    assert isinstance(error, RegistryError) and not isinstance(error, RegistryUnavailable)
    assert "cannot store this" in str(error) and "retry" not in str(error)


def _writer(path: str, prefix: str, count: int) -> None:
    store = open_store(path, seed=False)
    for i in range(count):
        store.put(f"urn:{prefix}:{i}", td(f"{prefix}-{i}"))
        store.search(Query(text=prefix))
    store.close()


def test_concurrent_threads_and_processes(target: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # spawned children re-run the parent's __main__ by path; in a worker that ran a page with AppTest that can be
    # a page script: give them a bare __main__ (the writer is found by its module, tests.test_registry_store)
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    open_store(target, seed=False).close()
    threads = [threading.Thread(target=_writer, args=(target, f"t{n}", 40)) for n in range(3)]
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(target, f"p{n}", 40)) for n in range(2)]
    for worker in [*threads, *procs]:
        worker.start()
    for worker in [*threads, *procs]:
        worker.join(timeout=120)
    assert all(p.exitcode == 0 for p in procs)
    final = open_store(target, seed=False)
    assert final.search(Query(limit=1)).total == 5 * 40
    assert [e.seq for e in final.events_since(0, limit=1000)] == sorted(
        {e.seq for e in final.events_since(0, limit=1000)}
    )
    final.close()


def test_version_changes_with_writes_and_expiry(store: RegistryStore, clock: Clock) -> None:
    first = store.version()
    store.put("urn:v", td("v"), ttl=10)
    second = store.version()
    assert second != first and store.version() == second  # reads do not change it
    clock.t += 11
    assert store.version() != second  # the listing changed without a write: an expiry


def test_facets_agree_between_sql_and_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite only: its facet counts come from SQL or an in-memory index; both must agree."""
    from lmos_studio.registry import store as store_module

    store = Store(tmp_path / "f.sqlite3", seed=False)

    for i in range(30):
        store.put(
            f"urn:f:{i}",
            td(
                f"f{i}",
                caps=(f"cap-{i % 4}", "common"),
                tenants=(f"t{i % 3}",) if i % 5 else (),
                channels=("web", "ivr")[: 1 + i % 2],
                subset="canary" if i % 7 == 0 else "",
            ),
        )
    queries = [Query(), Query(channel="ivr"), Query(tenant="t1"), Query(text="f1"), Query(capability="cap-2")]
    by_sql = [store.search(q).facets for q in queries]  # cache stale after the writes: SQL for small sets
    monkeypatch.setattr(store_module, "SQL_FACETS_MAX", -1)
    store._counts.clear()  # counted afresh, not the cached answers
    by_index = [store.search(q).facets for q in queries]
    assert by_sql == by_index
    assert by_index[0]["tenant"]["*"] == 6 and by_index[0]["subset"] == {"stable": 25, "canary": 5}


def test_listing_order_is_byte_order_on_both_stores(store: RegistryStore) -> None:
    names = ["beta", "a-1", "a1", "a-10", "a-2", "10-agent", "2-agent", "a.b", "a-b"]
    for i, name in enumerate(names):
        store.put(f"urn:o:{i}", td(name))
    listed = [e.agent.name for e in store.search(Query()).entries]
    assert len(listed) == len(names) and listed == sorted(listed, key=lambda n: n.encode())


def test_postgresql_migrations_are_versioned_and_idempotent(tmp_path: Path) -> None:
    from tests.registry_helpers import need_postgres, pg_unavailable

    if reason := pg_unavailable():
        need_postgres(reason)
    import psycopg

    from lmos_studio.errors import RegistryError
    from lmos_studio.registry.store_pg import MIGRATIONS, PostgresStore

    with store_target("postgresql", tmp_path) as url:
        first = PostgresStore(url, seed=False)
        first.put("urn:m:1", td("kept"))
        again = PostgresStore(url, seed=False)  # a second start (another replica): nothing re-applied
        assert again.schema_version() == MIGRATIONS[-1][0] and again.get("urn:m:1").agent.name == "kept"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("INSERT INTO schema_migrations (version) VALUES (999)")
        with pytest.raises(RegistryError, match="schema version 999"):
            PostgresStore(url, seed=False)
        first.close()
        again.close()


def test_pushed_seq_wakes_waiters_without_polling() -> None:
    """/events on PostgreSQL sleeps on PushedSeq: woken by a set from the listener thread, never by a tick."""
    import asyncio
    import concurrent.futures

    from lmos_studio.registry.store import PushedSeq

    pushed = PushedSeq()

    async def scenario() -> list[str]:
        seen: list[str] = []
        await pushed.wait(5, 60.0)  # nothing listens (None): the caller polls instead, so no wait
        seen.append("none: at once")
        pushed.set(5)
        waiter = asyncio.ensure_future(pushed.wait(5, 60.0))
        await asyncio.sleep(0)
        assert not waiter.done()  # 5 is not past 5: it sleeps
        threading.Timer(0.05, pushed.set, args=(6,)).start()  # NOTIFY arrives on another thread
        await asyncio.wait_for(waiter, 30.0)
        seen.append(f"woken at {pushed.value}")
        await pushed.wait(5, 60.0)  # already past: at once
        await pushed.wait(6, 0.01)  # nothing new: the timeout ends it
        seen.append("timed out")
        return seen

    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # its own thread: another test may leave a loop running
        seen = pool.submit(lambda: asyncio.run(scenario())).result(timeout=120)
    assert seen == ["none: at once", "woken at 6", "timed out"]
    assert pushed._waiters == []  # nobody left behind


def test_a_database_folder_that_cannot_be_made_is_one_message(tmp_path: Path) -> None:
    """Bug (session 16 QA): `registry serve --db /proc/nope/r.sqlite3` (or a data folder that cannot be created)
    ended in a FileNotFoundError traceback from mkdir; it is a RegistryError naming the path and what to do,
    and the CLI exits 2."""
    from lmos_studio.errors import RegistryError
    from tests.conftest import run_cli

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    target = blocker / "sub" / "registry.sqlite3"  # its folder cannot be made: a file is in the way
    with pytest.raises(RegistryError, match=r"cannot create the registry database's folder .*a-file/sub"):
        Store(target)
    result = run_cli("registry", "search", env={"LMOS_STUDIO_REGISTRY_DB": str(target)})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "LMOS_STUDIO_REGISTRY_DB" in result.stderr
