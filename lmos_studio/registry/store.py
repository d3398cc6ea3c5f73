"""The embedded registry: Thing Descriptions in one SQLite file, with TTL, full-text search and facets.

SQLite in WAL mode, one connection per operation (so threads and processes can share a file), writes in
`BEGIN IMMEDIATE` transactions with a busy timeout. Expired entries are invisible to every read and are
purged on the next write. Time comes from an injected clock (`now`), so tests control expiry.
HTTP lives in `server.py`; this module knows nothing of it.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import functools
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from lmos_studio.errors import AgentNotFound, DesignFileError, RegistryError
from lmos_studio.formats.budgets import MAX_NAME_CHARS
from lmos_studio.model import Agent
from lmos_studio.registry.things import agent_to_thing, new_thing_id, thing_to_agent
from lmos_studio.visible import cut, visible

BUSY_TIMEOUT_S = 30.0  # how long a writer waits for another writer's transaction before failing
MAX_EVENTS = 10_000  # events kept for SSE replay (Last-Event-ID); older ones are pruned
PRUNE_EVENTS_EVERY = 1000  # events pruned once this many more are kept (meta 'events' counts them), not every write
DEFAULT_LIMIT = 50
MAX_ROWS = 2**63 - 1  # the largest LIMIT or OFFSET SQLite and PostgreSQL take (64-bit): a larger one means all or none
MAX_TTL_S = 10 * 365 * 86400  # ten years: a longer TTL is a mistake (and 1e308 would overflow `expires`)
ANY_TENANT = "*"  # facet value counting agents with no supportedTenants (they serve every tenant, LMOS §1.6)
# the facet row of an agent with no supportedTenants: a kind of its own, as a tenant may be named anything, "*" too
# (the operator compares tenants as plain strings: an agent listing "*" serves a channel of tenant "*" only)
EVERY_TENANT = ("every-tenant", "")
COUNT_CACHE = 256  # searches whose total and facets are kept while the store's version stays the same
SQL_FACETS_MAX = 1000  # after a write, facets of match sets up to this size are counted in SQL
FACETS = ("capability", "tenant", "channel", "protocol", "subset")
Clock = Callable[[], float]

SCHEMA = """
CREATE TABLE IF NOT EXISTS registrations (
    rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL, subset TEXT NOT NULL,
    expires REAL, ttl REAL, created REAL NOT NULL, modified REAL NOT NULL,
    original_format TEXT NOT NULL DEFAULT 'td', source TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS registrations_expires ON registrations(expires);
CREATE INDEX IF NOT EXISTS registrations_name ON registrations(name, id);
CREATE TABLE IF NOT EXISTS documents (rowid INTEGER PRIMARY KEY, td TEXT NOT NULL, agent TEXT NOT NULL,
    original TEXT);
CREATE TABLE IF NOT EXISTS facets (thing INTEGER NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS facets_value ON facets(kind, value, thing);
CREATE INDEX IF NOT EXISTS facets_thing ON facets(thing);
CREATE VIRTUAL TABLE IF NOT EXISTS things_fts USING fts5(body, tokenize = 'unicode61');
CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL,
    thing_id TEXT NOT NULL, at REAL NOT NULL, td TEXT);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Registration:
    """W3C WoT Discovery registration info (epoch seconds; `ttl` in seconds from the last write)."""

    created: float
    modified: float
    ttl: float | None = None
    expires: float | None = None
    retrieved: float | None = None


class Entry:
    """One registered description: the stored TD, the agent it describes, and how it was registered.

    The TD and the agent are decoded on first use (a search page needs one or the other, rarely both)."""

    def __init__(
        self,
        thing_id: str,
        registration: Registration,
        *,
        td_json: str,
        agent_json: str,
        original_json: str | None = None,
        original_format: str = "td",
        source: str = "",
    ) -> None:
        self.id = thing_id
        self.registration = registration
        self.original_format = original_format
        self.source = source
        self._td_json, self._agent_json, self._original_json = td_json, agent_json, original_json

    @functools.cached_property
    def td(self) -> dict[str, Any]:
        return dict(json.loads(self._td_json))

    @functools.cached_property
    def agent(self) -> Agent:
        return Agent.model_validate_json(self._agent_json)

    @functools.cached_property
    def original(self) -> dict[str, Any] | None:
        return _loads(self._original_json)


@dataclass(frozen=True)
class Query:
    """A search: every non-empty field must match (text is full-text, the rest exact)."""

    text: str = ""
    capability: str = ""
    tenant: str = ""  # also matches agents without supportedTenants (they serve every tenant)
    channel: str = ""
    protocol: str = ""
    subset: str = ""
    offset: int = 0
    limit: int = DEFAULT_LIMIT
    after: str = ""  # only ids that sort after this one (byte order): a listing's cursor, which expiry cannot shift


@dataclass(frozen=True)
class SearchResult:
    """A page of matches, the total count, and facet counts (kind → value → count) over all matches."""

    entries: list[Entry]
    total: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Event:
    seq: int
    type: str  # thing_created | thing_updated | thing_deleted
    thing_id: str
    at: float
    td: dict[str, Any] | None


def fts_query(text: str) -> str:
    """A safe FTS5 query: every word as a quoted prefix term, all required (no FTS syntax from users)."""
    return " AND ".join('"' + w.replace('"', '""') + '"*' for w in query_words(text))


def text_matches(texts: list[str], text: str) -> list[bool]:
    """Which of `texts` the SQLite store finds for the search text `text`: its very FTS5 query over an in-memory
    index of them (for sources that cannot search themselves; thousands of texts take milliseconds)."""
    match = fts_query(text)
    if not match:
        return [not text.strip()] * len(texts)  # no text finds all; punctuation only finds nothing, as the store
    with contextlib.closing(sqlite3.connect(":memory:")) as conn:
        conn.execute("CREATE VIRTUAL TABLE texts USING fts5(body, tokenize = 'unicode61')")
        conn.executemany("INSERT INTO texts(rowid, body) VALUES (?, ?)", enumerate(texts, start=1))
        found = {rowid for (rowid,) in conn.execute("SELECT rowid FROM texts WHERE texts MATCH ?", (match,))}
    return [index in found for index in range(1, len(texts) + 1)]


def query_words(text: str) -> list[str]:
    """The words of a search, as `fts_query` takes them: runs of letters and digits, the first 16."""
    return [w for w in "".join(c if c.isalnum() else " " for c in text).split() if w][:16]


class Unicode61:
    """SQLite FTS5's `unicode61` tokenizer as a function: the words, in order, that the SQLite store's index makes
    of a text (case and Latin diacritics folded, split as SQLite's Unicode tables say). The PostgreSQL store indexes
    and searches exactly these, so both stores find the same registrations. One in-memory database per thread."""

    def __init__(self) -> None:
        self._local = threading.local()

    def __call__(self, text: str) -> list[str]:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(":memory:", isolation_level=None)
            conn.execute("CREATE VIRTUAL TABLE words USING fts5(body, tokenize = 'unicode61')")
            conn.execute("CREATE VIRTUAL TABLE vocab USING fts5vocab(words, 'instance')")  # one row per token
            self._local.conn = conn
        conn.execute("BEGIN")
        try:
            conn.execute("INSERT INTO words(rowid, body) VALUES (1, ?)", (text,))
            return [word for (word,) in conn.execute('SELECT term FROM vocab ORDER BY "offset"')]
        finally:
            conn.execute("ROLLBACK")


def page_bounds(query: Query) -> tuple[int, int]:
    """A search's LIMIT and OFFSET as both databases take them: 0 to `MAX_ROWS` (SQLite overflowed past 64 bits,
    PostgreSQL said 'bigint out of range')."""
    return min(max(0, query.limit), MAX_ROWS), min(max(0, query.offset), MAX_ROWS)


def refuse_bad_ttl(ttl: float | None) -> None:
    """Refuse a TTL given to a store that is not a number of seconds above 0 and at most `MAX_TTL_S` (the server and
    the CLI refuse it first): SQLite kept NaN as 'never expires', PostgreSQL as NaN; a negative one expired at once."""
    if ttl is not None and not (isinstance(ttl, int | float) and not isinstance(ttl, bool) and 0 < ttl <= MAX_TTL_S):
        raise DesignFileError(
            f"{str(ttl)[:40]!r} must be a number of seconds above 0 and at most {MAX_TTL_S} (ten years)", field="ttl"
        )


def event_bounds(seq: int, limit: int) -> tuple[int, int]:
    """`events_since`'s start and LIMIT as both databases take them: a negative limit refused (SQLite read it as no
    limit, PostgreSQL failed), numbers past 64 bits made the largest (SQLite overflowed, PostgreSQL said 'bigint out
    of range')."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise DesignFileError(f"{str(limit)[:40]!r} must be a whole number of events, 0 or more", field="limit")
    if isinstance(seq, bool) or not isinstance(seq, int):
        raise DesignFileError(f"{str(seq)[:40]!r} must be a whole event number", field="seq")
    return min(max(seq, -MAX_ROWS), MAX_ROWS), min(limit, MAX_ROWS)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON Merge Patch."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


@dataclass(frozen=True)
class FacetIndex:
    """(registration rowid, facet value) pairs as arrays: counting facets of a match set is one bincount."""

    generation: int
    things: np.ndarray  # rowid of each pair
    values: np.ndarray  # index into `labels` of each pair
    labels: list[tuple[str, str]]

    @classmethod
    def build(cls, generation: int, rows: list[Any]) -> FacetIndex:
        ids: dict[tuple[str, str], int] = {}
        values = np.fromiter((ids.setdefault((r[1], r[2]), len(ids)) for r in rows), dtype=np.int64, count=len(rows))
        things = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        return cls(generation, things, values, list(ids))

    def counts(self, matched: np.ndarray) -> dict[str, dict[str, int]]:
        size = int(max(self.things.max(initial=0), matched.max(initial=0))) + 1
        member = np.zeros(size, dtype=bool)
        member[matched] = True
        hits = np.bincount(self.values[member[self.things]], minlength=len(self.labels))
        counts: dict[str, dict[str, int]] = {kind: {} for kind in FACETS}
        for i in np.flatnonzero(hits):
            add_facet_count(counts, *self.labels[i], int(hits[i]))
        return sorted_facets(counts)


def add_facet_count(counts: dict[str, dict[str, int]], kind: str, value: str, count: int) -> None:
    """Add a stored facet row's count: agents serving every tenant count under tenant `ANY_TENANT`, with any
    agent listing a tenant named "*" (the agents a search for tenant "*" finds, as the operator would wire)."""
    if (kind, value) == EVERY_TENANT:
        kind, value = "tenant", ANY_TENANT
    counts.setdefault(kind, {})[value] = counts.get(kind, {}).get(value, 0) + count


def sorted_facets(counts: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Facet values, most frequent first, then by value."""
    return {kind: dict(sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))) for kind, values in counts.items()}


class RegistryStore(Protocol):
    """What the server, the CLI and the app need of a registry store: `Store` (SQLite, embedded) and
    `store_pg.PostgresStore` (PostgreSQL, several replicas) both provide it."""

    now: Clock

    @property
    def location(self) -> str: ...  # for messages: a path or a URL without its password

    def put(
        self,
        thing_id: str,
        td: dict[str, Any],
        *,
        ttl: float | None = None,
        original: dict[str, Any] | None = None,
        original_format: str = "td",
        source: str = "",
        agent: Agent | None = None,
    ) -> bool: ...
    def add(
        self,
        td: dict[str, Any],
        *,
        ttl: float | None = None,
        original: dict[str, Any] | None = None,
        original_format: str = "td",
        source: str = "",
        agent: Agent | None = None,
    ) -> str: ...
    def put_agent(self, agent: Agent, *, ttl: float | None = None, source: str = "") -> str: ...
    def put_agents(self, agents: list[Agent], *, ttl: float | None = None, source: str = "") -> list[str]: ...
    def patch(self, thing_id: str, patch: dict[str, Any], *, ttl: float | None = None) -> Entry: ...
    def delete(self, thing_id: str) -> None: ...
    def purge(self) -> int: ...
    def get(self, thing_id: str) -> Entry: ...
    def list_page(self, *, offset: int = 0, limit: int = DEFAULT_LIMIT, after: str = "") -> tuple[list[Entry], int]: ...
    def search(self, query: Query, *, facets: bool = True, order: str = "name") -> SearchResult: ...
    def events_since(self, seq: int, *, limit: int = 100) -> list[Event]: ...
    def last_event(self) -> int: ...
    def version(self) -> str: ...  # changes whenever any answer could (a write or an expiry): ETags
    def event_hint(self) -> int | None: ...  # newest event seq pushed to this process; None = poll
    async def wait_event(self, after: int, timeout_s: float) -> None: ...  # until a push passes `after`
    def check(self) -> None: ...  # raises RegistryUnavailable when the database does not answer
    def mark_seeded(self) -> None: ...  # never seed this database with the samples
    def close(self) -> None: ...


class PushedSeq:
    """The newest event seq a push (PostgreSQL's LISTEN/NOTIFY) announced to this process, None while nothing
    listens; set from the listener thread, awaited on the server's event loop: a waiter sleeps until the value
    moves (or its timeout), it never polls."""

    def __init__(self) -> None:
        self._value: int | None = None
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    @property
    def value(self) -> int | None:
        return self._value

    def set(self, value: int | None) -> None:
        """A new value (from any thread): every waiter wakes and looks again."""
        with self._lock:
            if value == self._value:
                return
            self._value = value
            waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            with contextlib.suppress(RuntimeError):  # that loop has closed: nobody waits there any more
                loop.call_soon_threadsafe(_resolve, future)

    async def wait(self, after: int, timeout_s: float) -> None:
        """Return once the value is past `after` or None (at once if it already is), or after `timeout_s`."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        entry = (loop, future)
        with self._lock:
            if self._value is None or self._value > after:
                return
            self._waiters.append(entry)
        try:
            await asyncio.wait_for(future, timeout_s)
        except TimeoutError:
            pass
        finally:
            with self._lock, contextlib.suppress(ValueError):
                self._waiters.remove(entry)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


MAX_ID_BYTES = 1024  # a thing id (a URI) in UTF-8; PostgreSQL's index cannot hold an entry over ~2.7 kB


def refuse_oversized_keys(thing_id: str, agent: Agent) -> None:
    """Refuse an id, or a tenant, channel, protocol or capability name the store indexes, longer than an index holds
    (PostgreSQL's btree and GIN entries stop at ~2.7 kB; both stores refuse alike), naming the field."""
    if len(thing_id.encode()) > MAX_ID_BYTES:
        raise DesignFileError(
            f"an id of {len(thing_id.encode())} bytes, more than {MAX_ID_BYTES}; shorten it", field="id"
        )
    for where, values in (
        ("lmos:supportedTenants", agent.supported_tenants),
        ("lmos:supportedChannels", agent.supported_channels),
        ("protocols", agent.protocols),
        ("lmos:capabilities", tuple(c.name for c in agent.capabilities)),
    ):
        for index, value in enumerate(values):
            if len(value) > MAX_NAME_CHARS:
                raise DesignFileError(
                    f"a value of {len(value)} characters, more than {MAX_NAME_CHARS}; shorten it",
                    field=f"{where}[{index}]",
                )


SHOWN_ID_CHARS = 80  # of an id a message names: the id a user gave may be any size (200 KB repeated 200 KB)


def not_found(thing_id: str) -> AgentNotFound:
    """The store's error for an id it does not hold, naming the id cut to `SHOWN_ID_CHARS` (both stores alike)."""
    shown = cut(thing_id, SHOWN_ID_CHARS)
    return AgentNotFound(f"no thing {shown!r} in the registry", url=shown)


_NUL_SCAN = json.JSONEncoder(ensure_ascii=False, check_circular=False, default=str)  # NUL comes out as \u0000


def refuse_nul(document: Any) -> None:
    """Refuse a document holding a NUL character in a key or text (PostgreSQL cannot store one in text; both
    stores refuse it alike), naming the field. One C-speed encode finds none in the common case."""
    if "\\u0000" in _NUL_SCAN.encode(document):
        _name_nul(document, "")


def refuse_text_arguments(**values: str) -> None:
    """Refuse a NUL character in an id, a search value or a registration's source or format given to a store (the
    CLI, the app, mDNS discovery; the server refuses them first): PostgreSQL cannot hold one in text, SQLite can;
    both stores answer alike, naming the argument. So is a lone surrogate: Python's stand-in for a byte that is not
    UTF-8, in an argument or a file name (neither database takes it; both raised UnicodeEncodeError)."""
    for name, value in values.items():
        if "\x00" in value:
            raise DesignFileError(
                "holds a NUL character (\\u0000), which a registry cannot keep or search for; remove it", field=name
            )
        if not value.isascii() and any("\ud800" <= c <= "\udfff" for c in value):
            raise DesignFileError(
                f"'{cut(visible(value), 80)}' is not UTF-8 text (a byte of another encoding, as in an argument or a "
                "file name written in one); write it, or rename the file, in UTF-8",
                field=name,
            )


def refuse_text_query(query: Query) -> None:
    """`refuse_text_arguments` for a search's exact values (its text is split into words: a NUL only separates)."""
    refuse_text_arguments(
        capability=query.capability,
        tenant=query.tenant,
        channel=query.channel,
        protocol=query.protocol,
        subset=query.subset,
        after=query.after,
    )


def _name_nul(document: Any, where: str) -> None:
    if isinstance(document, str):
        if "\x00" in document:
            raise DesignFileError(
                "holds a NUL character (\\u0000), which a registry cannot keep; remove it", field=where or "body"
            )
    elif isinstance(document, dict):
        for key, value in document.items():
            path = f"{where}.{key}" if where else str(key)
            _name_nul(str(key), path)
            _name_nul(value, path)
    elif isinstance(document, list):
        for index, value in enumerate(document):
            _name_nul(value, f"{where}[{index}]")


class StoreWrites(abc.ABC):
    """The write operations both stores share (SQLite and PostgreSQL); each store supplies its write transaction,
    its upsert and its row reads."""

    @abc.abstractmethod
    def _write(self) -> contextlib.AbstractContextManager[Any]: ...

    @abc.abstractmethod
    def _upsert(
        self,
        conn: Any,
        td: dict[str, Any],
        *,
        agent: Agent,
        ttl: float | None,
        original: dict[str, Any] | None,
        original_format: str,
        source: str,
    ) -> bool: ...

    @abc.abstractmethod
    def _row(self, conn: Any, thing_id: str) -> Any: ...

    @abc.abstractmethod
    def _entry(self, row: Any) -> Entry: ...

    def put(
        self,
        thing_id: str,
        td: dict[str, Any],
        *,
        ttl: float | None = None,
        original: dict[str, Any] | None = None,
        original_format: str = "td",
        source: str = "",
        agent: Agent | None = None,
    ) -> bool:
        """Create or replace the TD with this id; True when it was new. `ttl` seconds (None = forever)."""
        refuse_text_arguments(id=thing_id, source=source, originalFormat=original_format)
        refuse_bad_ttl(ttl)
        td = {**td, "id": thing_id}
        td.pop("registration", None)  # registration info is the directory's, never the client's
        refuse_nul(td)
        if agent is None:
            agent = thing_to_agent(td, source=source)
        refuse_oversized_keys(thing_id, agent)
        with self._write() as conn:
            return self._upsert(
                conn, td, agent=agent, ttl=ttl, original=original, original_format=original_format, source=source
            )

    def add(
        self,
        td: dict[str, Any],
        *,
        ttl: float | None = None,
        original: dict[str, Any] | None = None,
        original_format: str = "td",
        source: str = "",
        agent: Agent | None = None,
    ) -> str:
        """Register an anonymous TD under a new `urn:uuid:` id; returns the id."""
        thing_id = new_thing_id()
        self.put(thing_id, td, ttl=ttl, original=original, original_format=original_format, source=source, agent=agent)
        return thing_id

    def put_agent(self, agent: Agent, *, ttl: float | None = None, source: str = "") -> str:
        """Register an agent (from any format) as a TD, keeping the document it came from; returns the id."""
        td = agent_to_thing(agent)
        self.put(
            td["id"],
            td,
            ttl=ttl,
            original=agent.original or None,
            original_format=agent.original_format or "td",
            source=source or agent.source,
            agent=agent,
        )
        return str(td["id"])

    def put_agents(self, agents: list[Agent], *, ttl: float | None = None, source: str = "") -> list[str]:
        """Register many agents in one transaction (seeding, imports, benchmarks); returns their ids."""
        refuse_bad_ttl(ttl)
        tds = [agent_to_thing(agent) for agent in agents]
        for agent, td in zip(agents, tds, strict=True):
            refuse_text_arguments(source=source or agent.source, originalFormat=agent.original_format)
            refuse_nul(td)
            refuse_oversized_keys(str(td["id"]), agent)
        with self._write() as conn:
            for agent, td in zip(agents, tds, strict=True):
                self._upsert(
                    conn,
                    td,
                    agent=agent,
                    ttl=ttl,
                    original=agent.original or None,
                    original_format=agent.original_format or "td",
                    source=source or agent.source,
                )
        return [str(td["id"]) for td in tds]

    def patch(self, thing_id: str, patch: dict[str, Any], *, ttl: float | None = None) -> Entry:
        """Apply an RFC 7396 merge patch; an empty patch only renews the TTL. The id cannot change. `ttl` (the
        server's `?ttl=` or `registration.ttl`, checked as PUT checks it) replaces the registration's; without it,
        a number in the patch's `registration.ttl` does, else the TTL stays."""
        refuse_text_arguments(id=thing_id)
        with self._write() as conn:
            row = self._row(conn, thing_id)
            if row is None:
                raise not_found(thing_id)
            td = merge_patch(json.loads(row["td"]), patch)
            if not isinstance(td, dict):
                raise DesignFileError("a merge patch must be a JSON object", field="body")
            reg = patch.get("registration")
            if ttl is None and isinstance(reg, dict) and isinstance(reg.get("ttl"), int | float):
                ttl = float(reg["ttl"])
            refuse_bad_ttl(ttl)
            if ttl is None:
                ttl = row["ttl"]
            td["id"] = thing_id
            td.pop("registration", None)
            refuse_nul(td)
            agent = thing_to_agent(td, source=row["source"])
            refuse_oversized_keys(thing_id, agent)
            self._upsert(
                conn,
                td,
                agent=agent,
                ttl=ttl,
                original=None if patch else _loads(row["original"]),
                original_format="td" if patch else row["original_format"],
                source=row["source"],
            )
            return self._entry(self._row(conn, thing_id))


class Store(StoreWrites):
    """The embedded registry over one SQLite file (safe to share between threads and processes)."""

    def __init__(self, path: Path | str, *, now: Clock = time.time, seed: bool = True) -> None:
        self.path = Path(path)
        self.now = now
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a file in the way, no permission, a read-only file system
            raise RegistryError(
                f"cannot create the registry database's folder {self.path.parent} ({exc.strerror or exc}); set "
                "LMOS_STUDIO_REGISTRY_DB (or LMOS_STUDIO_DATA_DIR) to a writable place",
                url=str(self.path),
            ) from exc
        self._local = threading.local()
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
            conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('generation', '0')")
            conn.execute("INSERT OR IGNORE INTO meta(key, value) SELECT 'events', count(*) FROM events")
        self._mark_every_tenant()
        self._facet_cache: FacetIndex | None = None
        self._counts: dict[tuple[str, str, bool], tuple[str, int, dict[str, dict[str, int]]]] = {}
        self._counts_lock = threading.Lock()  # (where, params, facets) → (version, total, facets)
        if seed:
            self._seed_once()

    # -- connections ---------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection (opened on first use, reopened after a fork); every operation ends its
        own transaction, so the next one starts clean."""
        conn = self._open()
        try:
            yield conn
        except sqlite3.DatabaseError as exc:
            raise RegistryError(f"registry database {self.path}: {exc}", url=str(self.path)) from exc
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")

    def _open(self) -> sqlite3.Connection:
        held: tuple[int, sqlite3.Connection] | None = getattr(self._local, "conn", None)
        if held is not None and held[0] == os.getpid():
            return held[1]
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=True)
            conn.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; a crash loses at most the last commit
        except sqlite3.Error as exc:
            raise RegistryError(
                f"cannot open the registry database {self.path}: {exc}; check the path "
                "(LMOS_STUDIO_REGISTRY_DB) and its permissions",
                url=str(self.path),
            ) from exc
        conn.row_factory = sqlite3.Row
        self._local.conn = (os.getpid(), conn)
        return conn

    @property
    def location(self) -> str:
        return str(self.path)

    def version(self) -> str:
        """Store generation (bumped by every write) and how many entries have expired by now."""
        with self._connect() as conn:
            conn.execute("BEGIN")
            version = self._version(conn)
            conn.execute("COMMIT")
        return version

    def _version(self, conn: sqlite3.Connection) -> str:
        generation = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0]
        expired = conn.execute(
            "SELECT count(*) FROM registrations WHERE expires IS NOT NULL AND expires <= ?", (self.now(),)
        ).fetchone()[0]
        return f"{generation}.{expired}"

    def event_hint(self) -> int | None:
        return None  # no push from SQLite: the event stream polls

    async def wait_event(self, after: int, timeout_s: float) -> None:
        await asyncio.sleep(timeout_s)  # nothing pushes: only the time passes

    def check(self) -> None:
        with self._connect() as conn:
            conn.execute("SELECT 1").fetchone()

    def mark_seeded(self) -> None:
        with self._connect() as conn:
            conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('seeded', 'never')")

    def close(self) -> None:
        """Close this thread's connection (others close when their threads end)."""
        held = getattr(self._local, "conn", None)
        if held is not None:
            held[1].close()
            self._local.conn = None

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                self._purge(conn, self.now())
                conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")
                yield conn
                self._prune_events(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _mark_every_tenant(self) -> None:
        """Once per database: agents without supportedTenants were marked as listing tenant "*", so an agent that
        lists "*" matched every tenant; they get the `EVERY_TENANT` row now (told apart by the agent stored)."""
        with self._connect() as conn:
            if conn.execute("SELECT 1 FROM meta WHERE key = 'every_tenant'").fetchone():
                return
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "UPDATE facets SET kind = ?, value = ? WHERE kind = 'tenant' AND value = ? AND thing IN "
                "(SELECT rowid FROM documents WHERE json_array_length(agent, '$.supported_tenants') = 0)",
                (*EVERY_TENANT, ANY_TENANT),
            )
            conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('every_tenant', '1')")
            conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")
            conn.execute("COMMIT")

    def _seed_once(self) -> None:
        from lmos_studio.config import DEFAULT_SAMPLE
        from lmos_studio.formats.design_file import load_design

        with self._connect() as conn:
            if conn.execute("SELECT 1 FROM meta WHERE key='seeded'").fetchone():
                return
        agents = load_design([DEFAULT_SAMPLE]).design.agents
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM meta WHERE key='seeded'").fetchone():
                return  # another process seeded meanwhile
            for agent in agents:
                self._upsert(
                    conn,
                    agent_to_thing(agent),
                    agent=agent,
                    ttl=None,
                    original=None,
                    original_format="td",
                    source=f"sample:{DEFAULT_SAMPLE.name}",
                )
            conn.execute("INSERT INTO meta(key, value) VALUES ('seeded', ?)", (str(self.now()),))

    # -- writes --------------------------------------------------------------------------------------
    def delete(self, thing_id: str) -> None:
        refuse_text_arguments(id=thing_id)
        with self._write() as conn:
            row = self._row(conn, thing_id)
            if row is None:
                raise not_found(thing_id)
            self._remove(conn, row["rowid"], thing_id)

    def purge(self) -> int:
        """Delete every expired entry now; returns how many. The generation moves only when one was deleted: a
        purge of nothing (the server's every few seconds) keeps ETags and the facet and count caches, as
        PostgreSQL's does."""
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            count = self._purge(conn, self.now())
            if count:
                conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")
                self._prune_events(conn)
            conn.execute("COMMIT")
        return count

    def _purge(self, conn: sqlite3.Connection, now: float) -> int:
        """Delete what expired by `now`, announcing each in expiry order, then id (as PostgreSQL's does)."""
        rows = conn.execute(
            "SELECT rowid, id FROM registrations WHERE expires IS NOT NULL AND expires <= ? ORDER BY expires, id",
            (now,),
        ).fetchall()
        for rowid, thing_id in rows:
            self._remove(conn, rowid, thing_id)
        return len(rows)

    def _remove(self, conn: sqlite3.Connection, rowid: int, thing_id: str) -> None:
        conn.execute("DELETE FROM registrations WHERE rowid = ?", (rowid,))
        conn.execute("DELETE FROM documents WHERE rowid = ?", (rowid,))
        conn.execute("DELETE FROM facets WHERE thing = ?", (rowid,))
        conn.execute("DELETE FROM things_fts WHERE rowid = ?", (rowid,))
        self._event(conn, "thing_deleted", thing_id, None)

    def _upsert(
        self,
        conn: sqlite3.Connection,
        td: dict[str, Any],
        *,
        agent: Agent,
        ttl: float | None,
        original: dict[str, Any] | None,
        original_format: str,
        source: str,
    ) -> bool:
        now = self.now()
        thing_id = str(td["id"])
        expires = now + ttl if ttl is not None else None
        old = conn.execute("SELECT rowid FROM registrations WHERE id = ?", (thing_id,)).fetchone()
        values = (original_format, agent.name, agent.subset, source, now, ttl, expires)
        docs = (json.dumps(td, ensure_ascii=False), agent.model_dump_json(), _dumps(original))
        if old is None:
            cur = conn.execute(
                "INSERT INTO registrations(original_format, name, subset, source, modified, ttl, "
                "expires, created, id) VALUES (?,?,?,?,?,?,?,?,?)",
                (*values, now, thing_id),
            )
            rowid = int(cur.lastrowid or 0)
        else:
            rowid = int(old[0])
            conn.execute(
                "UPDATE registrations SET original_format=?, name=?, subset=?, source=?, modified=?, "
                "ttl=?, expires=? WHERE rowid=?",
                (*values, rowid),
            )
            conn.execute("DELETE FROM facets WHERE thing = ?", (rowid,))
            conn.execute("DELETE FROM things_fts WHERE rowid = ?", (rowid,))
        conn.execute("INSERT OR REPLACE INTO documents(rowid, td, agent, original) VALUES (?,?,?,?)", (rowid, *docs))
        conn.executemany(
            "INSERT INTO facets(thing, kind, value) VALUES (?,?,?)",
            [(rowid, kind, value) for kind, value in _facet_values(agent)],
        )
        conn.execute("INSERT INTO things_fts(rowid, body) VALUES (?, ?)", (rowid, _search_text(agent, td)))
        self._event(conn, "thing_created" if old is None else "thing_updated", thing_id, td)
        return old is None

    def _event(self, conn: sqlite3.Connection, kind: str, thing_id: str, td: dict[str, Any] | None) -> None:
        conn.execute(
            "INSERT INTO events(type, thing_id, at, td) VALUES (?,?,?,?)", (kind, thing_id, self.now(), _dumps(td))
        )
        conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'events'")

    def _prune_events(self, conn: sqlite3.Connection) -> None:
        """At the end of a write: once `PRUNE_EVENTS_EVERY` more than `MAX_EVENTS` events are kept, keep the newest
        `MAX_EVENTS`, counted (as PostgreSQL's, whose numbers have gaps), not numbered."""
        kept = conn.execute("SELECT value FROM meta WHERE key = 'events'").fetchone()
        if kept is None or int(kept[0]) < MAX_EVENTS + PRUNE_EVENTS_EVERY:
            return
        conn.execute(
            "DELETE FROM events WHERE seq <= (SELECT seq FROM events ORDER BY seq DESC LIMIT 1 OFFSET ?)", (MAX_EVENTS,)
        )
        conn.execute("UPDATE meta SET value = (SELECT count(*) FROM events) WHERE key = 'events'")

    # -- reads ---------------------------------------------------------------------------------------
    def get(self, thing_id: str) -> Entry:
        """The entry with this id (raises `AgentNotFound`); `registration.retrieved` is now."""
        refuse_text_arguments(id=thing_id)
        with self._connect() as conn:
            row = self._row(conn, thing_id)
            if row is None:
                raise not_found(thing_id)
            return self._entry(row)

    def list_page(self, *, offset: int = 0, limit: int = DEFAULT_LIMIT, after: str = "") -> tuple[list[Entry], int]:
        """A page of live entries in id order (those after the id `after`), and how many there are."""
        result = self.search(Query(offset=offset, limit=limit, after=after), facets=False, order="id")
        return result.entries, result.total

    def search(self, query: Query, *, facets: bool = True, order: str = "name") -> SearchResult:
        """Live entries matching every given criterion, a page of them, the total and facet counts."""
        refuse_text_query(query)
        where, params = self._where(query)
        order_by = "t.id" if order == "id" else "t.name, t.id"
        with self._connect() as conn:
            conn.execute("BEGIN")  # one snapshot for the count, the page and the facets
            rows = conn.execute(
                f"SELECT t.*, d.td, d.agent, d.original FROM (SELECT t.rowid AS r FROM "
                f"registrations t WHERE {where} ORDER BY {order_by} LIMIT ? OFFSET ?) AS page "
                f"JOIN registrations t ON t.rowid = page.r JOIN documents d ON d.rowid = page.r "
                f"ORDER BY {order_by}",
                (*params, *page_bounds(query)),
            ).fetchall()
            version = self._version(conn)
            key = (where, repr(params[1:]), facets)  # params[0] is now: the version covers expiry
            cached = self._counts.get(key)
            if cached is not None and cached[0] == version:
                total, counts = cached[1], cached[2]
            elif facets:
                matched = np.fromiter(
                    (r[0] for r in conn.execute(f"SELECT t.rowid FROM registrations t WHERE {where}", params)),
                    dtype=np.int64,
                )
                total, counts = len(matched), self._facet_counts(conn, matched, where, params)
            else:
                total = conn.execute(f"SELECT count(*) FROM registrations t WHERE {where}", params).fetchone()[0]
                counts = {}
            conn.execute("COMMIT")
        if cached is None or cached[0] != version:
            with self._counts_lock:
                self._counts[key] = (version, int(total), counts)
                while len(self._counts) > COUNT_CACHE:
                    self._counts.pop(next(iter(self._counts)))
        return SearchResult([self._entry(r) for r in rows], int(total), counts)

    def _facet_counts(
        self, conn: sqlite3.Connection, matched: np.ndarray, where: str, params: list[Any]
    ) -> dict[str, dict[str, int]]:
        """Facets of a match set: from the cached index when it is current; after a write, small match sets
        are counted in SQL (cheaper than rebuilding the index), large ones rebuild it."""
        generation = int(conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])
        cached = self._facet_cache
        if (cached is None or cached.generation != generation) and len(matched) <= SQL_FACETS_MAX:
            rows = conn.execute(
                f"SELECT f.kind, f.value, count(*) FROM facets f WHERE f.thing IN (SELECT t.rowid FROM "
                f"registrations t WHERE {where}) GROUP BY f.kind, f.value UNION ALL SELECT 'subset', t.subset, "
                f"count(*) FROM registrations t WHERE {where} GROUP BY t.subset",
                (*params, *params),
            ).fetchall()
            counts: dict[str, dict[str, int]] = {kind: {} for kind in FACETS}
            for kind, value, count in rows:
                add_facet_count(counts, kind, value, int(count))
            return sorted_facets(counts)
        return self._facet_index(conn).counts(matched)

    def _facet_index(self, conn: sqlite3.Connection) -> FacetIndex:
        """Facet values of every registration, cached per store generation (bumped by every write)."""
        generation = int(conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])
        cached = self._facet_cache
        if cached is not None and cached.generation == generation:
            return cached
        rows = conn.execute(
            "SELECT thing, kind, value FROM facets UNION ALL SELECT rowid, 'subset', subset FROM registrations"
        ).fetchall()
        index = FacetIndex.build(generation, rows)
        self._facet_cache = index
        return index

    def events_since(self, seq: int, *, limit: int = 100) -> list[Event]:
        """Events after sequence number `seq` (for server-sent events and Last-Event-ID)."""
        seq, limit = event_bounds(seq, limit)
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT seq, type, thing_id, at, td FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)
            ).fetchall()
        return [Event(r[0], r[1], r[2], r[3], _loads(r[4])) for r in rows]

    def last_event(self) -> int:
        with self._connect() as conn:
            return int(conn.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0])

    def _where(self, query: Query) -> tuple[str, list[Any]]:
        clauses = ["ifnull(t.expires, 1e308) > ?"]  # no index here: most rows live; the index serves purge
        params: list[Any] = [self.now()]
        if query.subset:
            clauses.append("t.subset = ?")
            params.append(query.subset)
        if query.after:
            clauses.append("t.id > ?")
            params.append(query.after)
        for kind, value in (("capability", query.capability), ("channel", query.channel), ("protocol", query.protocol)):
            if value:
                clauses.append("t.rowid IN (SELECT thing FROM facets WHERE kind = ? AND value = ?)")
                params += [kind, value]
        if query.tenant:  # the agents listing it, and those listing none (LMOS §1.6)
            clauses.append(
                "t.rowid IN (SELECT thing FROM facets WHERE kind = 'tenant' AND value = ? "
                "UNION ALL SELECT thing FROM facets WHERE kind = ? AND value = ?)"
            )
            params += [query.tenant, *EVERY_TENANT]
        match = fts_query(query.text)
        if match:
            clauses.append("t.rowid IN (SELECT rowid FROM things_fts WHERE things_fts MATCH ?)")
            params.append(match)
        elif query.text.strip():
            clauses.append("0")  # only punctuation: nothing can match
        return " AND ".join(clauses), params

    def _row(self, conn: sqlite3.Connection, thing_id: str) -> Any:
        return conn.execute(
            "SELECT t.*, d.td, d.agent, d.original FROM registrations t JOIN documents d "
            "ON d.rowid = t.rowid WHERE t.id = ? AND ifnull(t.expires, 1e308) > ?",
            (thing_id, self.now()),
        ).fetchone()

    def _entry(self, row: Any) -> Entry:
        reg = Registration(row["created"], row["modified"], row["ttl"], row["expires"], self.now())
        return Entry(
            row["id"],
            reg,
            td_json=row["td"],
            agent_json=row["agent"],
            original_json=row["original"],
            original_format=row["original_format"],
            source=row["source"],
        )


def _facet_values(agent: Agent) -> list[tuple[str, str]]:
    values = {("capability", c.name) for c in agent.capabilities}
    values |= {("tenant", t) for t in agent.supported_tenants} or {EVERY_TENANT}
    values |= {("channel", c) for c in agent.supported_channels}
    values |= {("protocol", p) for p in agent.protocols}
    return sorted(values)


def _search_text(agent: Agent, td: dict[str, Any]) -> str:
    parts = [
        agent.name,
        str(td.get("title", "")),
        agent.description,
        agent.namespace,
        *agent.supported_tenants,
        *agent.supported_channels,
        *agent.protocols,
    ]
    for cap in agent.capabilities:
        parts += [cap.name, cap.name.replace("-", " "), cap.description, *cap.examples]
    return "\n".join(p for p in parts if p)


def _dumps(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _loads(value: str | None) -> dict[str, Any] | None:
    return None if value is None else dict(json.loads(value))
