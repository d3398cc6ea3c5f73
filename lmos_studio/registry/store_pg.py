"""The registry on a PostgreSQL server: the same interface as the SQLite `Store`, for several replicas.

psycopg 3 with a connection pool. The schema is created and migrated at start (versioned migrations in
`MIGRATIONS`, applied under an advisory lock so replicas starting together do not race). Every write runs
in one transaction that first takes a per-schema advisory lock: writes are serialised, so event sequence
numbers commit in order (a replica replaying `events` after `seq` misses none), and expired entries are
purged by exactly one writer (one `thing_deleted` per expiry, whichever replica gets there first).
Each write ends with `NOTIFY`; `event_hint()` listens, so `/events` on every replica wakes at once.

Full text uses PostgreSQL's `tsvector` + GIN over the very words SQLite's unicode61 tokenizer makes of the text
(split, lower-cased and Latin diacritics folded by SQLite itself, `store.Unicode61`; PostgreSQL's parser, which
keeps e-mail addresses, URLs and `node.js` whole, never sees them), searched by prefix: both stores find the same;
facets are one text array per registration (GIN) counted in one query.
Names and ids use the "C" collation, so listings come in SQLite's (byte) order.
Where this differs from the SQLite store is listed in the README (Registry › Which store).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Self
from urllib.parse import urlsplit

import psycopg
import psycopg_pool
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row

from lmos_studio.errors import RegistryError, RegistryUnavailable
from lmos_studio.model import Agent
from lmos_studio.registry.store import (
    ANY_TENANT,
    DEFAULT_LIMIT,
    EVERY_TENANT,
    FACETS,
    MAX_EVENTS,
    PRUNE_EVENTS_EVERY,
    Clock,
    Entry,
    Event,
    PushedSeq,
    Query,
    Registration,
    SearchResult,
    StoreWrites,
    Unicode61,
    _dumps,
    _facet_values,
    _loads,
    _search_text,
    add_facet_count,
    event_bounds,
    not_found,
    page_bounds,
    query_words,
    refuse_text_arguments,
    refuse_text_query,
)
from lmos_studio.registry.things import agent_to_thing

CONNECT_TIMEOUT_S = 5  # a server that does not answer within this is reported unreachable
POOL_TIMEOUT_S = 3.0  # a request waits this long for a connection, then gets 503
POOL_MAX = 10
COUNT_CACHE = 256  # searches whose total and facets are kept while the store's version stays the same
MAX_LEXEME_BYTES = 2047  # PostgreSQL's longest tsvector lexeme (MAXSTRLEN)
MAX_TSVECTOR_BYTES = 2**20 - 1  # the lexemes of one tsvector together (MAXSTRPOS)
SEP = "="  # facets are stored as 'kind=value' (kinds never contain '=')
# what PostgreSQL says when it answered and refused a login: no retry changes it until someone fixes the URL,
# the role or the database (not "the database system is starting up", nor "too many connections")
LOGIN_REFUSED = (
    "authentication failed",  # password, SCRAM, ident, peer
    "no pg_hba.conf entry",
    "is not permitted to log in",  # ALTER ROLE … NOLOGIN
    "does not exist",  # the role or the database
    "permission denied for database",  # REVOKE CONNECT
    "no password supplied",  # libpq: the server now asks for a password the URL lacks
)

MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
        CREATE TABLE registrations (
            id bigserial PRIMARY KEY, thing_id text COLLATE "C" NOT NULL UNIQUE, name text COLLATE "C" NOT NULL,
            subset text NOT NULL,
            expires double precision, ttl double precision, created double precision NOT NULL,
            modified double precision NOT NULL, original_format text NOT NULL DEFAULT 'td',
            source text NOT NULL DEFAULT '', facets text[] NOT NULL DEFAULT '{}');
        CREATE INDEX registrations_expires ON registrations (expires) WHERE expires IS NOT NULL;
        CREATE INDEX registrations_name ON registrations (name, thing_id);
        CREATE INDEX registrations_facets ON registrations USING gin (facets);
        CREATE TABLE documents (
            id bigint PRIMARY KEY REFERENCES registrations (id) ON DELETE CASCADE,
            td text NOT NULL, agent text NOT NULL, original text, body tsvector NOT NULL);
        CREATE INDEX documents_body ON documents USING gin (body);
        CREATE TABLE events (seq bigserial PRIMARY KEY, type text NOT NULL, thing_id text NOT NULL,
            at double precision NOT NULL, td text);
        CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);
        INSERT INTO meta (key, value) VALUES ('generation', '0');
        """,
    ),
    (2, "SELECT 1"),  # search text folds Latin diacritics (as unicode61 does): `_reindex` rebuilds documents.body
    (3, "SELECT 1"),  # search text holds SQLite's unicode61 words (`node.js` is node + js): `_reindex` again
    (  # an agent without supportedTenants was marked as listing tenant "*": it gets its own facet (store.EVERY_TENANT)
        4,
        f"""
        UPDATE registrations r SET facets = array_replace(r.facets, 'tenant={ANY_TENANT}', '{SEP.join(EVERY_TENANT)}')
        FROM documents d WHERE d.id = r.id AND r.facets @> ARRAY['tenant={ANY_TENANT}']
        AND d.agent::jsonb -> 'supported_tenants' = '[]'::jsonb;
        UPDATE meta SET value = (value::bigint + 1)::text WHERE key = 'generation';
        """,
    ),
    (  # how many events are kept, counted by every write (`_prune_events`)
        5,
        "INSERT INTO meta (key, value) SELECT 'events', count(*)::text FROM events "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    ),
]
REINDEX_FROM = 3  # the first schema version whose documents.body holds the words of the current `_body_lexemes`


def describe_url(url: str) -> str:
    """`host:port/database` of a PostgreSQL URL, never its password (for messages and logs)."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "(a malformed PostgreSQL URL)"
    host = str(parts.get("host") or "localhost")
    return f"{host}:{parts.get('port') or 5432}/{parts.get('dbname') or parts.get('user') or ''}"


def check_url(url: str) -> dict[str, Any]:
    """The URL's connection parameters; `RegistryError` (one line, no password) when it is malformed."""
    try:
        parts = dict(conninfo_to_dict(url))
    except psycopg.ProgrammingError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else "cannot be parsed"
        if parts_password := _password_of(url):
            reason = reason.replace(parts_password, "***")
        raise RegistryError(
            f"the registry database URL is malformed ({reason}); expected "
            "postgresql://user[:password]@host[:port]/database",
            url=describe_url(url),
        ) from None
    port = str(parts.get("port") or "5432")
    if not port.isdigit() or not 0 < int(port) < 65536:
        if _password_cut_short(url):  # 'app:Zq9/rest@db': 'app' was taken for the host, 'Zq9' for the port
            raise RegistryError(
                "the registry database URL names a port that is not a number, or its password holds '/', '?' or "
                "'#', which end the host there: write them %2F, %3F, %23 in the password",
                url=describe_url(url),
            )
        raise RegistryError(
            f"the registry database URL names port {port!r}; expected a number 1–65535 "
            f"(postgresql://user@{parts.get('host') or 'localhost'}:5432/database)",
            url=describe_url(url),
        )
    return parts


def _password_cut_short(url: str) -> bool:
    """Whether the URL holds an '@' after its host ends: a password with '/', '?' or '#' unescaped."""
    try:
        return "@" in url and "@" not in urlsplit(url).netloc
    except ValueError:
        return "@" in url


def _password_of(url: str) -> str:
    head = url.split("://", 1)[-1].split("@", 1)
    return head[0].split(":", 1)[1] if len(head) == 2 and ":" in head[0] else ""


def is_login_refused(message: str) -> bool:
    """True when a connection error says the server answered and refused the login."""
    said_by = "FATAL:" in message or "fe_sendauth:" in message  # the server, or libpq asked for a password
    return said_by and any(marker in message for marker in LOGIN_REFUSED)


def _login_watch(store: PostgresStore) -> type[psycopg.Connection[Any]]:
    """A connection class for the store's pool that tells the store whether each new connection was refused a
    login: the pool retries in the background, and a waiting request only learns that it timed out."""

    class Watched(psycopg.Connection[Any]):
        @classmethod
        def connect(cls, conninfo: str = "", **kwargs: Any) -> Self:
            try:
                conn = super().connect(conninfo, **kwargs)
            except psycopg.Error as exc:
                store._note_connect(exc)
                raise
            store._note_connect(None)
            return conn

    return Watched


def _lexeme(word: str) -> str:
    """A word as a tsvector lexeme: a longer one than PostgreSQL keeps is cut (a prefix search still finds it)."""
    data = word.encode()
    return word if len(data) <= MAX_LEXEME_BYTES else data[:MAX_LEXEME_BYTES].decode(errors="ignore")


def index_lexemes(words: list[str]) -> list[str]:
    """The distinct words of a registration's search text as lexemes for `array_to_tsvector` (PostgreSQL's parser
    never sees them), within a tsvector's size; words past it are not indexed (said in the README)."""
    lexemes, size = [], 0
    for lexeme in dict.fromkeys(_lexeme(w) for w in words):
        size += len(lexeme.encode())
        if size > MAX_TSVECTOR_BYTES:
            break
        lexemes.append(lexeme)
    return lexemes


def ts_query(text: str, tokens: Callable[[str], list[str]]) -> str:
    """A tsquery (as text, each lexeme quoted: PostgreSQL's parser never sees it) finding what the SQLite store's
    `fts_query` finds: every word of the search a required prefix, split and folded by `tokens` (SQLite's unicode61)
    as SQLite splits and folds it. "" when nothing can match: no word, or a word SQLite makes no token of (such a
    phrase matches nothing there). A word SQLite splits in two (a phrase there) needs both, in any order."""
    terms: list[str] = []
    for word in query_words(text):
        parts = [_lexeme(t).replace("\\", "\\\\").replace("'", "''") for t in tokens(word)]
        if not parts:
            return ""
        terms += [f"'{p}'" for p in parts[:-1]] + [f"'{parts[-1]}':*"]
    return " & ".join(terms)


def _body_lexemes(tokens: Callable[[str], list[str]], agent: Agent, td: dict[str, Any]) -> list[str]:
    return index_lexemes(tokens(_search_text(agent, td)))


class PostgresStore(StoreWrites):
    """The registry in one PostgreSQL database (or schema, via `options=-csearch_path=…` in the URL)."""

    def __init__(self, url: str, *, now: Clock = time.time, seed: bool = True, pool_max: int = POOL_MAX) -> None:
        self.url = url
        self.now = now
        self._tokens = Unicode61()  # the words SQLite's index makes of a text: both stores find the same
        params = check_url(url)
        self._where_msg = describe_url(url)
        self._refused = ""  # why the pool's last new connection was refused a login ("" = it was not)
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
                self._migrate(conn)
                schema = str(conn.execute("SELECT current_schema()").fetchone()[0])  # type: ignore[index]
        except psycopg.Error as exc:
            raise self._failure(exc, starting=True) from None
        digest = hashlib.sha1(schema.encode()).hexdigest()
        self.channel = f"lmos_registry_{digest[:20]}"
        self._lock_key = int(digest[:15], 16)  # fits a bigint; one lock per schema
        self._params = params
        self._pool = psycopg_pool.ConnectionPool(
            url,
            min_size=1,
            max_size=pool_max,
            timeout=POOL_TIMEOUT_S,
            open=False,
            check=psycopg_pool.ConnectionPool.check_connection,
            connection_class=_login_watch(self),
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S},
            name="lmos-registry",
        )
        self._pool.open(wait=False)
        self._pushed = PushedSeq()  # the newest seq NOTIFY announced; None while not listening
        self._counts: dict[tuple[str, str, bool], tuple[str, list[Any]]] = {}  # search → (version, counts)
        self._counts_lock = threading.Lock()
        self._listener: threading.Thread | None = None
        self._stop = threading.Event()
        if seed:
            self._seed_once()

    @property
    def location(self) -> str:
        return f"postgresql://{self._where_msg}"

    # -- connections ---------------------------------------------------------------------------------
    def _failure(self, exc: BaseException, *, starting: bool = False) -> RegistryError:
        first = self._first_line(exc)
        if isinstance(exc, psycopg.errors.ProgramLimitExceeded):  # an OperationalError, but no retry helps
            return RegistryError(f"registry database {self._where_msg} cannot store this: {first}", url=self._where_msg)
        if starting and is_login_refused(first):  # it answered, and refused the login (user, password, database)
            return RegistryError(
                f"the registry database at {self._where_msg} refused the connection ({first}); fix the user, "
                "password or database name in --db / LMOS_STUDIO_REGISTRY_DB",
                url=self._where_msg,
            )
        # after start the pool connects in the background and only times out: the refusal it met says why
        refused = first if is_login_refused(first) else self._refused
        if not starting and refused and isinstance(exc, psycopg.OperationalError | psycopg_pool.PoolTimeout):
            return RegistryError(  # a 500, not a 503 "retry shortly": clients would retry for ever
                f"the registry database at {self._where_msg} refused the connection ({refused}); fix the user, "
                "password or database name in --db / LMOS_STUDIO_REGISTRY_DB (or the role's password, if it "
                "was changed) and restart the registry; retrying does not help",
                url=self._where_msg,
                status_code=500,
            )
        if starting and "FATAL:" in first:  # it answered with the login right but takes no connection now
            return RegistryUnavailable(  # starting up, shutting down, out of connection slots
                f"the registry database at {self._where_msg} answered but takes no connection now ({first}); "
                "try again when it has started or has free connections (max_connections, the role's "
                "CONNECTION LIMIT)",
                url=self._where_msg,
                status_code=503,
            )
        if isinstance(exc, psycopg.OperationalError | psycopg_pool.PoolTimeout):
            action = "start it or fix --db / LMOS_STUDIO_REGISTRY_DB" if starting else "retry shortly"
            return RegistryUnavailable(
                f"the registry database at {self._where_msg} does not answer ({first}); {action}",
                url=self._where_msg,
                status_code=503,
            )
        return RegistryError(f"registry database {self._where_msg}: {first}", url=self._where_msg)

    def _first_line(self, exc: BaseException) -> str:
        """The first line of a driver error, the URL's password masked."""
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        password = _password_of(self.url)
        return first.replace(password, "***") if password else first

    def _note_connect(self, exc: BaseException | None) -> None:
        """The pool made a new connection (None) or failed to: keep the refusal, if it was one."""
        first = self._first_line(exc) if exc is not None else ""
        self._refused = first if is_login_refused(first) else ""

    @contextlib.contextmanager
    def _connect(self) -> Iterator[psycopg.Connection[Any]]:
        try:
            with self._pool.connection() as conn:
                conn.row_factory = dict_row
                yield conn
        except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
            raise self._failure(exc) from exc

    @contextlib.contextmanager
    def _write(self) -> Iterator[psycopg.Connection[Any]]:
        with self._connect() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
            self._purge(conn, self.now(), bump=True)
            yield conn
            self._prune_events(conn)

    def _migrate(self, conn: psycopg.Connection[Any]) -> None:
        """Apply every migration newer than the database's, in one transaction per start."""
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('lmos-studio-registry-migrate'))")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
                "applied_at timestamptz NOT NULL DEFAULT now())"
            )
            row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
            current = int(row[0]) if row else 0
            newest = MIGRATIONS[-1][0]
            if current > newest:
                raise RegistryError(
                    f"the registry database at {self._where_msg} has schema version {current}, newer than "
                    f"this lmos-studio knows ({newest}); upgrade lmos-studio",
                    url=self._where_msg,
                )
            for version, statements in MIGRATIONS:
                if version > current:
                    conn.execute(statements)
                    conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
            if 0 < current < REINDEX_FROM:
                self._reindex(conn)

    def _reindex(self, conn: psycopg.Connection[Any]) -> None:
        """Rebuild every document's search text (a migration that changes how it is made)."""
        rows = conn.execute("SELECT id, td, agent FROM documents").fetchall()
        with conn.cursor() as cursor:
            cursor.executemany(
                "UPDATE documents SET body = array_to_tsvector(%s::text[]) WHERE id = %s",
                [
                    (_body_lexemes(self._tokens, Agent.model_validate_json(agent), json.loads(td)), rowid)
                    for rowid, td, agent in rows
                ],
            )

    def schema_version(self) -> int:
        with self._connect() as conn:
            row = conn.execute("SELECT max(version) AS v FROM schema_migrations").fetchone()
        return int(row["v"]) if row else 0

    def close(self) -> None:
        self._stop.set()
        self._pool.close()

    def check(self) -> None:
        with self._connect() as conn:
            conn.execute("SELECT 1").fetchone()

    def mark_seeded(self) -> None:
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('seeded', 'never') ON CONFLICT (key) DO UPDATE "
                "SET value = excluded.value"
            )

    def _seed_once(self) -> None:
        from lmos_studio.config import DEFAULT_SAMPLE
        from lmos_studio.formats.design_file import load_design

        with self._connect() as conn:
            if conn.execute("SELECT 1 FROM meta WHERE key = 'seeded'").fetchone():
                return
        agents = load_design([DEFAULT_SAMPLE]).design.agents
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM meta WHERE key = 'seeded'").fetchone():
                return  # another replica seeded meanwhile (it held the write lock)
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
            conn.execute("INSERT INTO meta (key, value) VALUES ('seeded', %s)", (str(self.now()),))

    # -- writes --------------------------------------------------------------------------------------
    def delete(self, thing_id: str) -> None:
        refuse_text_arguments(id=thing_id)
        with self._write() as conn:
            row = self._row(conn, thing_id)
            if row is None:
                raise not_found(thing_id)
            self._remove(conn, row["id"], thing_id)

    def purge(self) -> int:
        """Delete every expired entry now (whichever replica calls first does it); returns how many."""
        with self._connect() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
            count = self._purge(conn, self.now(), bump=False)
            if count:
                self._prune_events(conn)
            return count

    def _purge(self, conn: psycopg.Connection[Any], now: float, *, bump: bool) -> int:
        """Delete what expired by `now` with one `thing_deleted` each, in expiry order, then id (as SQLite's does), and
        bump the generation (always for a write; for a purge only when it deleted something) — one statement."""
        row = conn.execute(
            "WITH gone AS (DELETE FROM registrations WHERE expires IS NOT NULL AND expires <= %(now)s "
            "RETURNING thing_id, expires), ev AS (INSERT INTO events (type, thing_id, at) SELECT 'thing_deleted', "
            "thing_id, %(now)s FROM gone ORDER BY expires, thing_id RETURNING seq), "
            "g AS (UPDATE meta SET value = (value::bigint + 1)::text "
            "WHERE key = 'generation' AND (%(bump)s OR EXISTS (SELECT 1 FROM gone))) "
            "SELECT count(*) AS n, coalesce(max(seq), 0) AS last FROM ev",
            {"now": now, "bump": bump},
        ).fetchone()
        count, last = (int(row["n"]), int(row["last"])) if row else (0, 0)
        if count:
            self._notify(conn, last, added=count)
        return count

    def _remove(self, conn: psycopg.Connection[Any], rowid: int, thing_id: str) -> None:
        row = conn.execute(
            "WITH gone AS (DELETE FROM registrations WHERE id = %s RETURNING thing_id) INSERT INTO events "
            "(type, thing_id, at) SELECT 'thing_deleted', thing_id, %s FROM gone RETURNING seq",
            (rowid, self.now()),
        ).fetchone()
        if row:
            self._notify(conn, int(row["seq"]))

    def _upsert(
        self,
        conn: psycopg.Connection[Any],
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
        facets = [f"{kind}{SEP}{value}" for kind, value in _facet_values(agent)]
        td_json = json.dumps(td, ensure_ascii=False)
        row = conn.execute(  # registration, document and event in one statement (one round trip)
            "WITH r AS (INSERT INTO registrations AS r (thing_id, name, subset, expires, ttl, created, modified, "
            "original_format, source, facets) VALUES (%(id)s, %(name)s, %(subset)s, %(expires)s, %(ttl)s, "
            "%(now)s, %(now)s, %(format)s, %(source)s, %(facets)s) "
            "ON CONFLICT (thing_id) DO UPDATE SET name = excluded.name, subset = excluded.subset, "
            "expires = excluded.expires, ttl = excluded.ttl, modified = excluded.modified, "
            "original_format = excluded.original_format, source = excluded.source, facets = excluded.facets "
            "RETURNING id, (xmax = 0) AS inserted), "
            "d AS (INSERT INTO documents (id, td, agent, original, body) "
            "SELECT r.id, %(td)s, %(agent)s, %(original)s, array_to_tsvector(%(words)s::text[]) FROM r "
            "ON CONFLICT (id) DO UPDATE SET td = excluded.td, agent = excluded.agent, original = excluded.original, "
            "body = excluded.body), "
            "e AS (INSERT INTO events (type, thing_id, at, td) SELECT CASE WHEN r.inserted THEN 'thing_created' "
            "ELSE 'thing_updated' END, %(id)s, %(now)s, %(td)s FROM r RETURNING seq) "
            "SELECT r.inserted, e.seq FROM r, e",
            {
                "id": thing_id,
                "name": agent.name,
                "subset": agent.subset,
                "expires": expires,
                "ttl": ttl,
                "now": now,
                "format": original_format,
                "source": source,
                "facets": facets,
                "td": td_json,
                "agent": agent.model_dump_json(),
                "original": _dumps(original),
                "words": _body_lexemes(self._tokens, agent, td),
            },
        ).fetchone()
        assert row is not None  # an upsert always returns its row
        self._notify(conn, int(row["seq"]))
        return bool(row["inserted"])

    def _notify(self, conn: psycopg.Connection[Any], seq: int, *, added: int = 1) -> None:
        """Wake every replica's event streams (delivered at commit) for `added` new events up to `seq`; count them."""
        conn.execute(
            "WITH c AS (UPDATE meta SET value = (value::bigint + %s)::text WHERE key = 'events') "
            "SELECT pg_notify(%s, %s)",
            (added, self.channel, str(seq)),
        )

    def _prune_events(self, conn: psycopg.Connection[Any]) -> None:
        """At the end of a write: once `PRUNE_EVENTS_EVERY` more than `MAX_EVENTS` events are kept, keep the newest
        `MAX_EVENTS`, counted as SQLite's (numbers taken by a rolled-back write are gaps here), not numbered."""
        row = conn.execute("SELECT value::bigint AS kept FROM meta WHERE key = 'events'").fetchone()
        if row is None or int(row["kept"]) < MAX_EVENTS + PRUNE_EVENTS_EVERY:
            return
        conn.execute(
            "DELETE FROM events WHERE seq <= (SELECT seq FROM events ORDER BY seq DESC LIMIT 1 OFFSET %s)",
            (MAX_EVENTS,),
        )
        conn.execute("UPDATE meta SET value = (SELECT count(*) FROM events)::text WHERE key = 'events'")

    # -- reads ---------------------------------------------------------------------------------------
    def get(self, thing_id: str) -> Entry:
        refuse_text_arguments(id=thing_id)
        with self._connect() as conn:
            row = self._row(conn, thing_id)
        if row is None:
            raise not_found(thing_id)
        return self._entry(row)

    def list_page(self, *, offset: int = 0, limit: int = DEFAULT_LIMIT, after: str = "") -> tuple[list[Entry], int]:
        result = self.search(Query(offset=offset, limit=limit, after=after), facets=False, order="id")
        return result.entries, result.total

    def search(self, query: Query, *, facets: bool = True, order: str = "name") -> SearchResult:
        """A page of matches, and the total with facet counts from one grouped query, in one snapshot."""
        refuse_text_query(query)
        where, params = self._where(query)
        order_by = sql.SQL("t.thing_id" if order == "id" else "t.name, t.thing_id")
        page = sql.SQL(
            "SELECT t.thing_id, t.created, t.modified, t.ttl, t.expires, t.original_format, t.source, d.td, "
            "d.agent, d.original FROM (SELECT t.id FROM registrations t WHERE {where} ORDER BY {order} "
            "LIMIT %s OFFSET %s) AS p JOIN registrations t ON t.id = p.id JOIN documents d ON d.id = p.id "
            "ORDER BY {order}"
        ).format(where=where, order=order_by)
        key = (repr(params[1:]), str(where.as_string(None)), facets)  # params[0] is now: the version covers it
        with self._connect() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            version = self._version(conn)
            rows = conn.execute(page, (*params, *page_bounds(query))).fetchall()
            cached = self._counts.get(key)
            if cached is not None and cached[0] == version:
                counted = cached[1]
            elif facets:
                counted = conn.execute(
                    sql.SQL(
                        "WITH m AS (SELECT t.subset, t.facets FROM registrations t WHERE {where}) "
                        "SELECT f AS label, count(*) AS n FROM m, unnest(m.facets) AS f GROUP BY f "
                        "UNION ALL SELECT 'subset' || %s || subset, count(*) FROM m GROUP BY subset "
                        "UNION ALL SELECT '', count(*) FROM m"
                    ).format(where=where),
                    (*params, SEP),
                ).fetchall()
            else:
                counted = conn.execute(
                    sql.SQL("SELECT '' AS label, count(*) AS n FROM registrations t WHERE {where}").format(where=where),
                    params,
                ).fetchall()
            if cached is None or cached[0] != version:
                with self._counts_lock:
                    self._counts[key] = (version, counted)
                    while len(self._counts) > COUNT_CACHE:
                        self._counts.pop(next(iter(self._counts)))
        total = 0
        counts: dict[str, dict[str, int]] = {kind: {} for kind in FACETS} if facets else {}
        for row in counted:
            if row["label"] == "":
                total = int(row["n"])
                continue
            kind, _, value = str(row["label"]).partition(SEP)
            add_facet_count(counts, kind, value, int(row["n"]))
        ordered = {kind: dict(sorted(v.items(), key=lambda kv: (-kv[1], kv[0]))) for kind, v in counts.items()}
        return SearchResult([self._entry(r) for r in rows], total, ordered)

    def events_since(self, seq: int, *, limit: int = 100) -> list[Event]:
        seq, limit = event_bounds(seq, limit)
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT seq, type, thing_id, at, td FROM events WHERE seq > %s ORDER BY seq LIMIT %s", (seq, limit)
            ).fetchall()
        return [Event(int(r["seq"]), r["type"], r["thing_id"], r["at"], _loads(r["td"])) for r in rows]

    def last_event(self) -> int:
        with self._connect() as conn:
            row = conn.execute("SELECT coalesce(max(seq), 0) AS seq FROM events").fetchone()
        return int(row["seq"]) if row else 0

    def version(self) -> str:
        with self._connect() as conn:
            return self._version(conn)

    def _version(self, conn: psycopg.Connection[Any]) -> str:
        row = conn.execute(
            "SELECT (SELECT value FROM meta WHERE key = 'generation') AS g, (SELECT count(*) FROM "
            "registrations WHERE expires IS NOT NULL AND expires <= %s) AS e",
            (self.now(),),
        ).fetchone()
        return f"{row['g']}.{row['e']}" if row else "0.0"

    def event_hint(self) -> int | None:
        """The newest event seq announced by NOTIFY to this process (a listener starts on first call);
        None while the listener is not connected (callers poll then)."""
        if self._listener is None:
            self._listener = threading.Thread(target=self._listen, daemon=True, name="registry-listen")
            self._listener.start()
        return self._pushed.value

    async def wait_event(self, after: int, timeout_s: float) -> None:
        """Sleep until NOTIFY announces an event after `after` (or the listener drops), at most `timeout_s`."""
        self.event_hint()
        await self._pushed.wait(after, timeout_s)

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                    row = conn.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()
                    self._pushed.set(max(self._pushed.value or 0, int(row[0]) if row else 0))
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=1.0):
                            if note.payload.isdigit():
                                self._pushed.set(max(self._pushed.value or 0, int(note.payload)))
            except psycopg.Error:
                self._pushed.set(None)
                self._stop.wait(1.0)

    def _where(self, query: Query) -> tuple[sql.Composable, list[Any]]:
        clauses = ["(t.expires IS NULL OR t.expires > %s)"]
        params: list[Any] = [self.now()]
        if query.subset:
            clauses.append("t.subset = %s")
            params.append(query.subset)
        if query.after:
            clauses.append("t.thing_id > %s")
            params.append(query.after)
        wanted = [
            f"{kind}{SEP}{value}"
            for kind, value in (
                ("capability", query.capability),
                ("channel", query.channel),
                ("protocol", query.protocol),
            )
            if value
        ]
        if wanted:
            clauses.append("t.facets @> %s::text[]")
            params.append(wanted)
        if query.tenant:
            clauses.append("t.facets && %s::text[]")
            params.append([f"tenant{SEP}{query.tenant}", SEP.join(EVERY_TENANT)])  # listing it, or none
        match = ts_query(query.text, self._tokens)
        if match:
            clauses.append("t.id IN (SELECT d.id FROM documents d WHERE d.body @@ %s::tsquery)")
            params.append(match)
        elif query.text.strip():
            clauses.append("false")
        return sql.SQL(" AND ".join(clauses)), params

    def _row(self, conn: psycopg.Connection[Any], thing_id: str) -> Any:
        return conn.execute(
            "SELECT t.*, d.td, d.agent, d.original FROM registrations t JOIN documents d ON d.id = t.id "
            "WHERE t.thing_id = %s AND (t.expires IS NULL OR t.expires > %s)",
            (thing_id, self.now()),
        ).fetchone()

    def _entry(self, row: Any) -> Entry:
        reg = Registration(row["created"], row["modified"], row["ttl"], row["expires"], self.now())
        return Entry(
            row["thing_id"],
            reg,
            td_json=row["td"],
            agent_json=row["agent"],
            original_json=row["original"],
            original_format=row["original_format"],
            source=row["source"],
        )
