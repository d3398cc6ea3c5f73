"""mDNS / DNS-SD on loopback: two processes (`lmos-studio announce`, `registry serve --announce`) found by a
third (`lmos-studio discover`), with the TDs fetched."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lmos_studio.registry.mdns import discover
from tests.conftest import ROOT, run_cli
from tests.registry_helpers import make_td, registry_server

ENV = {"LMOS_STUDIO_MDNS_INTERFACES": "127.0.0.1"}


def test_announce_and_discover_across_processes(tmp_path: Path, reference: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LMOS_STUDIO_DATA_DIR": str(tmp_path), **ENV}
    agent = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lmos_studio",
            "announce",
            str(reference / "descriptions" / "lmos-td-billing-agent.json"),
            "--duration",
            "60",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with registry_server(tmp_path, env={**ENV}, announce=True) as url:
            assert agent.stdout is not None
            td_url = agent.stdout.readline().strip()  # printed once the announcement is up
            assert td_url.startswith("http://127.0.0.1:")
            rows: list[dict[str, object]] = []
            for _ in range(3):  # multicast can lose a first query; a bounded retry
                done = run_cli("discover", "--timeout", "3", "-o", "json", env=ENV)
                assert done.returncode == 0, done.stderr
                rows = json.loads(done.stdout)
                if {r["kind"] for r in rows} >= {"Thing", "Directory"}:
                    break
            things = [r for r in rows if r["kind"] == "Thing" and r["url"] == td_url]
            assert things and things[0]["title"] == "billing-agent" and not things[0]["error"]
            directories = [r for r in rows if r["kind"] == "Directory"]
            assert any(str(r["url"]).startswith(url) for r in directories)
            assert any(r["title"] == "LMOS Studio Thing Description Directory" for r in directories)
    finally:
        agent.terminate()
        agent.communicate(timeout=10)
    assert agent.returncode in (0, -15)


@contextlib.contextmanager
def announced_in_subprocess(td: dict[str, object], tmp_path: Path) -> Iterator[str]:
    """`lmos-studio announce` in its own process (a long test worker's GIL contention can starve zeroconf's
    registration); yields the TD URL it announces."""
    path = tmp_path / "td.json"
    path.write_text(json.dumps(td))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LMOS_STUDIO_DATA_DIR": str(tmp_path), **ENV}
    proc = subprocess.Popen(
        [sys.executable, "-m", "lmos_studio", "announce", str(path), "--duration", "60"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_discover_with_nothing_around_is_empty_or_clean() -> None:
    for item in discover(0.5, interfaces=["127.0.0.1"]):
        assert item.url or item.error


@pytest.mark.parametrize("bad", ["300.1.1.1", "not-an-ip"])
def test_bad_interface_setting_is_a_config_error(bad: str) -> None:
    from lmos_studio.errors import ConfigError

    with pytest.raises(ConfigError, match="LMOS_STUDIO_MDNS_INTERFACES"):
        discover(0.1, interfaces=[bad])


def test_registry_server_registers_announced_agents_with_a_ttl(tmp_path: Path) -> None:
    import httpx

    td = make_td("announced-agent", caps=("mdns-cap",), thing_id="urn:test:announced")
    with (
        registry_server(tmp_path, env=ENV, args=("--discover", "1")) as url,
        announced_in_subprocess(td, tmp_path) as announced,
    ):
        found: dict[str, object] = {}
        for _ in range(60):  # bounded polling: the server browses every second
            body = httpx.get(f"{url}/search", params={"capability": "mdns-cap"}).json()
            if body["items"]:
                found = body["items"][0]
                break
            time.sleep(0.5)
        assert found, "the announced agent was not registered"
        assert found["id"] == "urn:test:announced"
        registration = found["registration"]
        assert isinstance(registration, dict) and registration["ttl"] == 3
        assert announced.startswith("http://127.0.0.1:")


def test_an_announcement_does_not_replace_an_agent_registered_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Thing announced over mDNS with the id of an agent a client registered replaced that registration with
    a 3-interval TTL: when the announcement stopped, the client's agent was gone. Announced registrations still
    renew, and an announcement may take over one that came from another announcement."""
    import threading

    from lmos_studio.registry import mdns
    from lmos_studio.registry.store import Store

    store = Store(tmp_path / "r.sqlite3", seed=False)
    store.put("urn:kept", make_td("kept-agent"), source="PUT /things/urn:kept")
    store.put("urn:moved", make_td("old-place"), ttl=60, source="http://127.0.0.1:1/.well-known/wot")
    url = "http://127.0.0.1:9/.well-known/wot"
    hostile = make_td("impostor", thing_id="urn:kept")
    moved = make_td("new-place", thing_id="urn:moved")
    fresh = make_td("fresh", thing_id="urn:fresh")
    stop = threading.Event()

    def found(*args: object, **kwargs: object) -> list[mdns.Discovered]:
        stop.set()  # one browse
        return [mdns.Discovered(f"{td['title']}._wot._tcp.local.", "Thing", url, td) for td in (hostile, moved, fresh)]

    monkeypatch.setattr(mdns, "discover", found)
    mdns.register_discovered(store, interval_s=1, stop=stop)
    assert store.get("urn:kept").agent.name == "kept-agent"
    assert store.get("urn:kept").registration.ttl is None
    assert store.get("urn:moved").agent.name == "new-place"
    assert store.get("urn:fresh").source == url and store.get("urn:fresh").registration.ttl == 3
    stop.clear()
    mdns.register_discovered(store, interval_s=1, stop=stop)  # the next browse renews its own
    assert store.get("urn:fresh").agent.name == "fresh"
    store.close()


def test_a_hostile_txt_scheme_cannot_send_the_fetch_elsewhere() -> None:
    """The TD URL was `{TXT scheme}://{address}:{port}{TXT td}`: a scheme of `http://elsewhere/#` made discovery
    (and `registry serve --discover`) fetch from any host, e.g. one inside the cluster. Only http and https
    are taken now; the address is always the announced one."""
    from lmos_studio.errors import RegistryError
    from lmos_studio.registry.mdns import td_url

    assert td_url({}, "10.0.0.7", 8080) == "http://10.0.0.7:8080/.well-known/wot"
    assert td_url({b"scheme": b"https", b"td": b"td.json"}, "10.0.0.7", 443) == "https://10.0.0.7:443/td.json"
    assert td_url({b"td": b"//elsewhere.test/x"}, "10.0.0.7", 80).startswith("http://10.0.0.7:80/")
    for scheme in (b"http://169.254.169.254/latest/#", b"file", b"javascript"):
        with pytest.raises(RegistryError, match="not http or https"):
            td_url({b"scheme": scheme}, "10.0.0.7", 80)


def test_an_announced_agent_cannot_redirect_the_td_fetch_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The TD fetch of an announced agent followed HTTP redirects: an announced server could send the fetch of
    `registry serve --discover` (and `registry discover`) to any host, e.g. one inside the cluster, and register
    what that host answered. A redirect is now not followed; the agent is skipped with a message naming it."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from lmos_studio.registry import mdns
    from lmos_studio.registry.store import Store

    hits: list[str] = []

    class Inside(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            body = json.dumps(make_td("inside", thing_id="urn:inside")).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    inside = ThreadingHTTPServer(("127.0.0.1", 0), Inside)
    target = f"http://user:pw@127.0.0.1:{inside.server_address[1]}/secret"

    class Announced(Inside):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()

    announced = ThreadingHTTPServer(("127.0.0.1", 0), Announced)
    for server in (inside, announced):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{announced.server_address[1]}/.well-known/wot"
        item = mdns._fetch("hostile._wot._tcp.local.", "Thing", url, 3.0)
        assert item.td is None and item.agent is None
        assert "redirects (302)" in item.error and "not followed" in item.error
        assert "pw" not in item.error
        assert hits == []

        stop = threading.Event()

        def found(*args: object, **kwargs: object) -> list[mdns.Discovered]:
            stop.set()
            return [item]

        monkeypatch.setattr(mdns, "discover", found)
        store = Store(tmp_path / "r.sqlite3", seed=False)
        with caplog.at_level("WARNING", logger=mdns.__name__):
            mdns.register_discovered(store, interval_s=1, stop=stop)
        assert store.list_page()[1] == 0
        assert "hostile._wot._tcp.local. not registered" in caplog.text and "pw" not in caplog.text
        store.close()
    finally:
        for server in (inside, announced):
            server.shutdown()
            server.server_close()


def test_many_unreadable_announcements_are_one_message(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every announced service whose TD could not be fetched was its own warning on the Registry page and on
    stderr (50 bad announcements, 50 lines); now they are said once, grouped by reason, as the other sources'
    unread items are, and each is kept in `unread` (kind `service`)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from lmos_studio.registry import mdns
    from lmos_studio.registry.sources import SourceSpec, search_sources
    from lmos_studio.registry.store import Query

    class Gone(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Gone)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/.well-known/wot"
        items = [mdns._fetch(f"agent-{i}._wot._tcp.local.", "Thing", url, 3.0) for i in range(6)]
        items.append(mdns.Discovered("odd._wot._tcp.local.", "Thing", "", error="TXT scheme 'file' is not http"))
        monkeypatch.setattr(mdns, "discover", lambda *args, **kwargs: items)
        outcome = search_sources([SourceSpec("mdns")], Query())
    finally:
        server.shutdown()
        server.server_close()
    assert len(outcome.errors) == 1, outcome.errors
    [said] = outcome.errors
    assert said.startswith("local network: ") and "7 of 7 announced services could not be read" in said
    assert "6 × " in said and "agent-0._wot._tcp.local., agent-1._wot._tcp.local., agent-2" in said
    assert [(label, u.kind) for label, u in outcome.unread] == [("local network", "service")] * 7


def test_a_refused_announcement_is_logged_once_not_at_every_browse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """`registry serve --discover` browses every interval: an announcement naming an agent a client registered
    was refused, and said so, at every browse (a line per interval for as long as it ran); now once, its
    network-given words shown escaped."""
    import threading

    from lmos_studio.registry import mdns
    from lmos_studio.registry.store import Store

    store = Store(tmp_path / "r.sqlite3", seed=False)
    store.put("urn:kept", make_td("kept-agent"), source="PUT /things/urn:kept")
    hostile = make_td("impostor", thing_id="urn:kept")
    browses = []
    stop = threading.Event()

    def found(*args: object, **kwargs: object) -> list[mdns.Discovered]:
        browses.append(1)
        if len(browses) == 3:
            stop.set()
        return [
            mdns.Discovered("impostor._wot._tcp.local.", "Thing", "http://127.0.0.1:9/.well-known/wot", hostile),
            mdns.Discovered("bad\x1b]0;x\x07._wot._tcp.local.", "Thing", "", error="no address"),
        ]

    monkeypatch.setattr(mdns, "discover", found)
    monkeypatch.setattr(threading.Event, "wait", lambda self, timeout=None: self.is_set())
    with caplog.at_level("WARNING", logger=mdns.__name__):
        mdns.register_discovered(store, interval_s=1, stop=stop)
    assert len(browses) == 3
    assert caplog.text.count("not replaced") == 1, caplog.text
    assert caplog.text.count("not registered: no address") == 1, caplog.text
    assert "\x1b" not in caplog.text and "bad\\x1b]0;x\\x07" in caplog.text
    store.close()
