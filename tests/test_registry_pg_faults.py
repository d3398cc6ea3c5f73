"""Bad database URLs and a database that goes away: one line naming host and port (no password), exit 2;
503 problem details while PostgreSQL is down and recovery when it returns. The instance that goes away is
the test's own (initdb + pg_ctl in a temporary data directory), never the machine's shared one."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.conftest import ROOT, free_port
from tests.registry_helpers import make_td, need_postgres, registry_server

TD = "application/td+json"


def _serve(db: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LMOS_STUDIO_DATA_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-m", "lmos_studio", "registry", "serve", "--port", str(free_port()), "--db", db],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


@pytest.mark.parametrize(
    ("db", "names"),
    [
        ("postgresql://lmos:hunter2secret@127.0.0.1:{port}/registry", "127.0.0.1:{port}"),  # nothing listens
        ("postgresql://lmos:hunter2secret@db.invalid:5432/registry", "db.invalid:5432"),  # no such host
        ("postgresql://lmos:hunter2secret@127.0.0.1:notaport/registry", "port 'notaport'"),
        ("postgresql://lmos:hunter2secret@[::1/registry", "malformed"),
    ],
)
def test_bad_database_urls_are_one_line_without_the_password(tmp_path: Path, db: str, names: str) -> None:
    port = free_port()
    done = _serve(db.format(port=port), tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert names.format(port=port) in lines[0]
    assert "hunter2secret" not in done.stderr and "Traceback" not in done.stderr


def test_a_refused_login_is_named_as_such(tmp_path: Path) -> None:
    """A server that answers and refuses the login (no such role or database, a wrong password) was reported as
    'does not answer …; start it': the wrong advice. It says it refused the connection now, once, no password."""
    from tests.registry_helpers import PG_URL, pg_unavailable

    if reason := pg_unavailable():
        need_postgres(reason)
    host = PG_URL.split("@", 1)[1].split("/", 1)[0]
    for db in (f"postgresql://nobody:hunter2secret@{host}/test", f"postgresql://postgres:hunter2secret@{host}/nodb"):
        done = _serve(db, tmp_path)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2 and len(lines) == 1, done.stderr
        assert "refused the connection" in lines[0] and "does not answer" not in lines[0], lines[0]
        assert "hunter2secret" not in done.stderr and "Traceback" not in done.stderr


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


def _as_postgres() -> list[str]:
    """initdb and pg_ctl refuse to run as root: run them as the `postgres` user then."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        need_postgres("running as root without runuser: cannot start a private PostgreSQL as the postgres user")
    try:
        import pwd

        pwd.getpwnam("postgres")
    except KeyError:
        need_postgres("running as root and there is no `postgres` user to run initdb/pg_ctl as")
    return [runuser, "-u", "postgres", "--"]


class PrivatePostgres:
    """A PostgreSQL server of the test's own in a temporary data directory (trust auth, 127.0.0.1)."""

    def __init__(self, bin_dir: Path, root: Path, port: int) -> None:
        self.bin, self.root, self.port = bin_dir, root, port
        self.data = root / "data"
        self.prefix = _as_postgres()

    def run(self, *args: str) -> None:
        done = subprocess.run([*self.prefix, *args], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr

    def init(self, *, host_auth: str = "trust") -> None:
        """A new cluster; `host_auth` for TCP logins (the socket in `root` always trusts: the test's own door)."""
        auth = ["--auth-local=trust", f"--auth-host={host_auth}"]
        self.run(str(self.bin / "initdb"), "-D", str(self.data), *auth, "-U", "postgres", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = self.root / "pg.log"
        self.run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(log), "-w", "start")

    def stop(self) -> None:
        self.run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def socket_url(self) -> str:
        return f"postgresql://postgres@/postgres?host={self.root}&port={self.port}"


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    with _private_pg("trust") as pg:
        yield pg


@pytest.fixture
def private_pg_with_passwords() -> Iterator[PrivatePostgres]:
    """A private server that checks passwords (SCRAM) on 127.0.0.1, as a production one does."""
    with _private_pg("scram-sha-256") as pg:
        yield pg


@contextmanager
def _private_pg(host_auth: str) -> Iterator[PrivatePostgres]:
    bin_dir = _pg_bin()
    if bin_dir is None:
        need_postgres("no PostgreSQL binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql)")
    prefix = _as_postgres()
    root = Path(tempfile.mkdtemp(prefix="lmos-pg-"))
    if prefix:
        shutil.chown(root, "postgres", "postgres")
    pg = PrivatePostgres(bin_dir, root, free_port())
    try:
        pg.init(host_auth=host_auth)
        pg.start()
        yield pg
    finally:
        subprocess.run(
            [*prefix, str(bin_dir / "pg_ctl"), "-D", str(pg.data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


def test_database_going_away_is_503_and_the_server_recovers(tmp_path: Path, private_pg: PrivatePostgres) -> None:
    with registry_server(tmp_path, db=private_pg.url) as url:
        put = httpx.put(f"{url}/things/urn:f:1", json=make_td("before"), headers={"Content-Type": TD})
        assert put.status_code == 201
        private_pg.stop()
        for response in (
            httpx.get(f"{url}/things/urn:f:1", timeout=30),
            httpx.get(f"{url}/search", timeout=30),
            httpx.put(f"{url}/things/urn:f:2", json=make_td("during"), timeout=30),
            httpx.get(f"{url}/healthz", timeout=30),
        ):
            assert response.status_code == 503, response.text
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.headers["retry-after"]
            body = response.json()
            assert body["status"] == 503 and f"127.0.0.1:{private_pg.port}" in body["detail"]
        assert httpx.get(f"{url}/healthz/live").status_code == 200  # alive: no restart loop while the DB is down
        private_pg.start()
        deadline = time.monotonic() + 30
        while httpx.get(f"{url}/healthz", timeout=30).status_code != 200:
            assert time.monotonic() < deadline, "the server did not recover after PostgreSQL came back"
            time.sleep(0.2)
        assert httpx.get(f"{url}/things/urn:f:1").json()["title"] == "before"
        again = httpx.put(f"{url}/things/urn:f:2", json=make_td("after"), headers={"Content-Type": TD})
        assert again.status_code == 201


@contextmanager
def login_role() -> Iterator[tuple[str, str]]:
    """A role with a password that owns a new schema of the test database: (its name, its registry URL)."""
    from tests.registry_helpers import PG_URL, pg_unavailable, schema_url

    if reason := pg_unavailable():
        need_postgres(reason)
    role = f"lmos_login_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'hunter2secret'")
        conn.execute(f"CREATE SCHEMA {role} AUTHORIZATION {role}")
    scheme, rest = PG_URL.split("://", 1)
    try:
        yield role, schema_url(role, f"{scheme}://{role}:hunter2secret@{rest.split('@', 1)[-1]}")
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {role} CASCADE")
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (role,))
            conn.execute(f"DROP ROLE IF EXISTS {role}")


def _refuse_logins(role: str, *, refuse: bool) -> None:
    """NOLOGIN (as a rotated password would, on a server that checks passwords) and drop its connections."""
    from tests.registry_helpers import PG_URL

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"ALTER ROLE {role} {'NOLOGIN' if refuse else 'LOGIN'}")
        if refuse:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (role,))


def test_a_login_refused_after_start_is_a_clear_500_not_retry_shortly(tmp_path: Path) -> None:
    """A login the database refused after the server started (password rotated, role disabled) was answered
    503 'does not answer …; retry shortly' with Retry-After, so clients retried for ever. It is now a 500 that
    names the refusal (never the password) and says retrying does not help; the server recovers when the
    login is allowed again."""
    with login_role() as (role, db), registry_server(tmp_path, db=db) as url:
        assert (
            httpx.put(f"{url}/things/urn:f:1", json=make_td("before"), headers={"Content-Type": TD}).status_code == 201
        )
        _refuse_logins(role, refuse=True)
        for response in (
            httpx.get(f"{url}/things/urn:f:1", timeout=30),
            httpx.put(f"{url}/things/urn:f:2", json=make_td("during"), headers={"Content-Type": TD}, timeout=30),
            httpx.get(f"{url}/healthz", timeout=30),
        ):
            assert response.status_code == 500, response.text
            assert response.headers["content-type"].startswith("application/problem+json")
            assert "retry-after" not in response.headers
            detail = response.json()["detail"]
            assert "refused the connection" in detail and "not permitted to log in" in detail, detail
            assert "retrying does not help" in detail and "retry shortly" not in detail
            assert "hunter2secret" not in response.text
        _refuse_logins(role, refuse=False)
        deadline = time.monotonic() + 30
        while httpx.get(f"{url}/healthz", timeout=30).status_code != 200:
            assert time.monotonic() < deadline, "the server did not recover after the login was allowed again"
            time.sleep(0.2)
        assert httpx.get(f"{url}/things/urn:f:1").json()["title"] == "before"


@pytest.mark.parametrize(
    ("message", "refused"),
    [
        ('connection to server at "h", port 5432 failed: FATAL:  password authentication failed for user "x"', True),
        ('connection failed: FATAL:  no pg_hba.conf entry for host "10.0.0.1", user "x", database "r"', True),
        ('connection failed: FATAL:  role "x" is not permitted to log in', True),
        ('connection failed: FATAL:  database "r" does not exist', True),
        ('connection failed: FATAL:  permission denied for database "r"', True),
        ("connection failed: fe_sendauth: no password supplied", True),
        ("connection failed: FATAL:  the database system is starting up", False),
        ("connection failed: FATAL:  sorry, too many clients already", False),
        ('connection to server at "h", port 5432 failed: Connection refused', False),
    ],
)
def test_which_connection_errors_are_refused_logins(message: str, refused: bool) -> None:
    from lmos_studio.registry.store_pg import is_login_refused

    assert is_login_refused(message) is refused


def test_a_password_rotated_after_start_is_named_not_retried(
    tmp_path: Path, private_pg_with_passwords: PrivatePostgres
) -> None:
    """The same on a server that checks passwords: the role's password changes under a running registry."""
    pg = private_pg_with_passwords
    with psycopg.connect(pg.socket_url, autocommit=True) as conn:
        conn.execute("CREATE ROLE lmos LOGIN PASSWORD 'hunter2secret'")
        conn.execute("CREATE SCHEMA lmos AUTHORIZATION lmos")
    db = f"postgresql://lmos:hunter2secret@127.0.0.1:{pg.port}/postgres"
    with registry_server(tmp_path, db=db) as url:
        assert httpx.get(f"{url}/healthz", timeout=30).status_code == 200
        with psycopg.connect(pg.socket_url, autocommit=True) as conn:
            conn.execute("ALTER ROLE lmos PASSWORD 'rotated-elsewhere'")
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'lmos'")
        response = httpx.get(f"{url}/search", timeout=30)
        assert response.status_code == 500 and "retry-after" not in response.headers, response.text
        detail = response.json()["detail"]
        assert "password authentication failed" in detail and "retrying does not help" in detail, detail
        assert "hunter2secret" not in response.text and "rotated-elsewhere" not in response.text


@pytest.mark.parametrize(
    ("message", "kind", "says"),
    [
        ("connection failed: fe_sendauth: no password supplied", "RegistryError", "fix the user, password"),
        ("connection failed: FATAL:  the database system is starting up", "RegistryUnavailable", "try again"),
        ('connection failed: FATAL:  too many connections for role "lmos"', "RegistryUnavailable", "try again"),
    ],
)
def test_a_start_failure_is_named_by_what_the_server_said(
    monkeypatch: pytest.MonkeyPatch, message: str, kind: str, says: str
) -> None:
    """At start any 'FATAL:' was taken for a refused login ("fix the user, password or database name"), also a
    server still starting up or out of connection slots, where the credentials are right; and libpq's
    'no password supplied' (no FATAL) was 'does not answer …; start it'. Now a refused login is named as such,
    and a server that answered but takes no connection now says to try again."""
    from lmos_studio.registry import store_pg

    def refuse(*args: object, **kwargs: object) -> None:
        raise psycopg.OperationalError(message)

    monkeypatch.setattr(store_pg.psycopg, "connect", refuse)
    with pytest.raises(Exception) as raised:
        store_pg.PostgresStore("postgresql://lmos:hunter2secret@127.0.0.1:5432/registry")
    assert type(raised.value).__name__ == kind, raised.value
    assert says in str(raised.value) and "hunter2secret" not in str(raised.value), raised.value
