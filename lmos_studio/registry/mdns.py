"""mDNS / DNS-SD per W3C WoT Discovery: announce agents (`_wot._tcp`) and directories
(`_directory._sub._wot._tcp`), and browse for both, fetching the TDs they point to.

TXT keys: `td` (path of the TD), `type` (`Thing` or `Directory`), `scheme` (`http`). Sockets are bound to the
interfaces given (default: the `LMOS_STUDIO_MDNS_INTERFACES` setting, loopback unless changed).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from zeroconf import EventLoopBlocked, IPVersion, ServiceBrowser, ServiceInfo, ServiceListener, Zeroconf

from lmos_studio.errors import AgentNotFound, ConfigError, LmosStudioError, RegistryError
from lmos_studio.model import Agent
from lmos_studio.registry.store import RegistryStore
from lmos_studio.registry.things import thing_to_agent
from lmos_studio.visible import visible

log = logging.getLogger(__name__)

WOT_SERVICE = "_wot._tcp.local."
DIRECTORY_SERVICE = "_directory._sub._wot._tcp.local."
TD_PATH = "/.well-known/wot"
LOOPBACK = "127.0.0.1"
DISCOVER_BROWSE_S = 2.5  # each periodic browse listens this long (a browse under ~1.5 s can miss answers)
RESOLVE_TIMEOUT_MS = 2000  # how long to wait for a service's SRV/TXT/A answers after its PTR


def interfaces_setting() -> list[str]:
    """The interfaces mDNS uses: LMOS_STUDIO_MDNS_INTERFACES (comma-separated IPv4 addresses, or `all`)."""
    from lmos_studio.config import get_settings

    raw = get_settings().mdns_interfaces.strip()
    return ["all"] if raw == "all" else [part.strip() for part in raw.split(",") if part.strip()]


def _zeroconf(interfaces: list[str] | None) -> Zeroconf:
    chosen = interfaces or interfaces_setting()
    for address in chosen if chosen != ["all"] else []:
        try:
            ipaddress.IPv4Address(address)
        except ValueError as exc:
            raise ConfigError(
                f"mDNS interface {address!r} is not an IPv4 address; set "
                "LMOS_STUDIO_MDNS_INTERFACES to addresses such as 127.0.0.1, or `all`"
            ) from exc
    try:
        if chosen == ["all"]:
            return Zeroconf(ip_version=IPVersion.V4Only)
        return Zeroconf(interfaces=chosen, ip_version=IPVersion.V4Only)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"mDNS cannot start on {chosen}: {exc}; check LMOS_STUDIO_MDNS_INTERFACES") from exc


def _address(host: str) -> str:
    return LOOPBACK if host in ("", "0.0.0.0", "localhost") else host


def service_info(*, service: str, name: str, host: str, port: int, kind: str, td_path: str) -> ServiceInfo:
    """A DNS-SD record set for a WoT Thing or Directory served over HTTP."""
    label = "".join(c if c.isalnum() or c == "-" else "-" for c in name)[:50] or "thing"
    return ServiceInfo(
        service,
        f"{label}.{WOT_SERVICE}",
        addresses=[socket.inet_aton(_address(host))],
        port=port,
        properties={"td": td_path, "type": kind, "scheme": "http"},
        server=f"{label}-{uuid.uuid4().hex[:8]}.local.",
    )


REGISTER_ATTEMPTS = 3  # a loaded machine can stall zeroconf's probing past its own time-out


def _register(zc: Zeroconf, info: ServiceInfo) -> None:
    for attempt in range(REGISTER_ATTEMPTS):
        try:
            zc.register_service(info, allow_name_change=True)
            return
        except (EventLoopBlocked, TimeoutError):
            if attempt == REGISTER_ATTEMPTS - 1:
                raise RegistryError(
                    "mDNS registration timed out: the machine is too busy to answer the "
                    "multicast probes in time; try again"
                ) from None
            with contextlib.suppress(Exception):
                zc.unregister_service(info)


@contextlib.contextmanager
def _registered(info: ServiceInfo, interfaces: list[str] | None) -> Iterator[ServiceInfo]:
    zc = _zeroconf(interfaces)
    try:
        _register(zc, info)
        yield info
    finally:
        with contextlib.suppress(Exception):
            zc.unregister_service(info)
        zc.close()


@contextlib.contextmanager
def announce_directory(
    *, port: int, host: str = LOOPBACK, name: str = "lmos-studio-registry", interfaces: list[str] | None = None
) -> Iterator[ServiceInfo]:
    """Announce a running registry server as `_directory._sub._wot._tcp` while the block runs."""
    info = service_info(service=DIRECTORY_SERVICE, name=name, host=host, port=port, kind="Directory", td_path=TD_PATH)
    with _registered(info, interfaces) as registered:
        yield registered


class _TdHandler(BaseHTTPRequestHandler):
    body = b"{}"

    def do_GET(self) -> None:
        if self.path.split("?")[0] not in (TD_PATH, "/td"):
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/td+json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:  # quiet: no request log on stderr
        return


@dataclass(frozen=True)
class Announcement:
    url: str  # where the TD is served
    service: str  # the DNS-SD instance name


@contextlib.contextmanager
def announce(
    td: dict[str, Any], *, port: int = 0, host: str = LOOPBACK, interfaces: list[str] | None = None
) -> Iterator[Announcement]:
    """Serve one TD over HTTP (a tiny server on host:port) and announce it as `_wot._tcp`."""
    handler = type("Handler", (_TdHandler,), {"body": json.dumps(td, ensure_ascii=False).encode("utf-8")})
    try:
        http = ThreadingHTTPServer((_address(host), port), handler)
    except OSError as exc:
        raise ConfigError(f"cannot serve the TD on {host}:{port}: {exc}; pick another --port") from exc
    thread = threading.Thread(target=http.serve_forever, name="td-server", daemon=True)
    thread.start()
    bound = int(http.server_address[1])
    info = service_info(
        service=WOT_SERVICE, name=str(td.get("title") or "thing"), host=host, port=bound, kind="Thing", td_path=TD_PATH
    )
    try:
        with _registered(info, interfaces) as registered:
            yield Announcement(f"http://{_address(host)}:{bound}{TD_PATH}", registered.name)
    finally:
        http.shutdown()
        http.server_close()


@dataclass(frozen=True)
class Discovered:
    """A service found on the local network and what its TD says."""

    service: str
    kind: str  # Thing | Directory
    url: str
    td: dict[str, Any] | None = None
    agent: Agent | None = None
    error: str = ""


class _Collector(ServiceListener):
    def __init__(self) -> None:
        self.found: dict[str, tuple[str, str]] = {}
        self.lock = threading.Lock()

    def add_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        with self.lock:
            if name not in self.found or type_ == DIRECTORY_SERVICE:
                self.found[name] = (type_, name)

    def update_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        self.add_service(zc, type_, name)

    def remove_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        return


def _text(properties: dict[bytes, bytes | None], key: str, default: str) -> str:
    value = properties.get(key.encode())
    return value.decode("utf-8", "replace") if value else default


def td_url(properties: dict[bytes, bytes | None], address: str, port: int) -> str:
    """Where an announced TD is: the announced address and port, the TXT `td` path and `scheme` (http or https
    only: TXT text is anyone's on the network, and a scheme such as `http://elsewhere/#` would send the fetch to
    another host)."""
    scheme = _text(properties, "scheme", "http")
    if scheme not in ("http", "https"):
        raise RegistryError(f"TXT scheme {scheme[:40]!r} is not http or https; not fetched")
    path = _text(properties, "td", TD_PATH)
    return f"{scheme}://{address}:{port}{path if path.startswith('/') else '/' + path}"


def discover(
    timeout_s: float = 3.0, *, interfaces: list[str] | None = None, fetch: bool = True, fetch_timeout_s: float = 3.0
) -> list[Discovered]:
    """Browse `_wot._tcp` and `_directory._sub._wot._tcp` for `timeout_s`, then fetch each TD."""
    zc = _zeroconf(interfaces)
    collector = _Collector()
    try:
        browser = ServiceBrowser(zc, [WOT_SERVICE, DIRECTORY_SERVICE], collector)
        time.sleep(max(0.0, timeout_s))
        browser.cancel()
        with collector.lock:
            names = list(collector.found.values())
        results = []
        for type_, name in names:
            info = zc.get_service_info(WOT_SERVICE, name, timeout=RESOLVE_TIMEOUT_MS)
            if info is None or not info.parsed_addresses():
                results.append(
                    Discovered(
                        name,
                        "Directory" if type_ == DIRECTORY_SERVICE else "Thing",
                        "",
                        error="the service did not answer with an address",
                    )
                )
                continue
            props = info.properties
            kind = _text(props, "type", "Directory" if type_ == DIRECTORY_SERVICE else "Thing")
            try:
                url = td_url(props, info.parsed_addresses()[0], int(info.port or 0))
            except RegistryError as exc:
                results.append(Discovered(name, kind, "", error=str(exc)))
                continue
            results.append(_fetch(name, kind, url, fetch_timeout_s) if fetch else Discovered(name, kind, url))
    finally:
        zc.close()
    return sorted(results, key=lambda d: (d.kind, d.service))


def _fetch(name: str, kind: str, url: str, timeout_s: float) -> Discovered:
    from lmos_studio.registry.clients import HttpSource

    try:  # no redirects: an announcement names its address and port, a redirect could point the fetch anywhere
        with HttpSource(url, timeout_s=timeout_s, follow_redirects=False) as source:
            td = source.json("GET", url)
        if not isinstance(td, dict):
            raise RegistryError(f"{url}: the TD is not a JSON object", url=url)
        agent = thing_to_agent(td, source=url) if kind == "Thing" else None
        return Discovered(name, kind, url, td, agent)
    except LmosStudioError as exc:
        return Discovered(name, kind, url, error=str(exc))


def _announced(source: str) -> bool:
    """Whether a registration's source is an announced TD's URL (what `register_discovered` writes)."""
    return source.startswith(("http://", "https://")) and source.endswith(TD_PATH)


def register_discovered(
    store: RegistryStore, *, interval_s: float, stop: threading.Event, interfaces: list[str] | None = None
) -> None:
    """Until `stop` is set: browse the local network every `interval_s` and register each announced Thing's
    TD in the store with a TTL of three intervals, so it disappears soon after its announcement stops. An id
    registered otherwise (a client, the CLI, the seed) is left alone: an announcement naming it would replace
    it, and then expire it."""
    said: set[str] = set()  # each announcement not registered is named once, not at every browse

    def once(message: str, *args: object) -> None:  # the network's words, shown as `visible` text (no ESC)
        text = visible(message % args)
        if text not in said:
            said.add(text)
            log.warning("%s", text)

    while not stop.is_set():
        try:
            found = discover(DISCOVER_BROWSE_S, interfaces=interfaces)
        except LmosStudioError as exc:
            log.warning("mDNS discovery failed: %s", exc)
            found = []
        for item in found:
            if item.kind == "Thing" and item.error:
                once("announced agent %s not registered: %s", item.service, item.error)
            if item.kind != "Thing" or item.td is None:
                continue
            thing_id = str(item.td.get("id") or f"urn:mdns:{item.service.removesuffix('.' + WOT_SERVICE)}")
            try:
                held = store.get(thing_id).source
            except AgentNotFound:
                held = item.url
            except LmosStudioError as exc:
                once("cannot register %s from %s: %s", thing_id, item.url, exc)
                continue
            if held != item.url and not _announced(held):
                once("%s announces %s, which %s registered; not replaced", item.url, thing_id, held or "a client")
                continue
            try:
                store.put(thing_id, item.td, ttl=3 * interval_s, source=item.url, agent=item.agent)
            except LmosStudioError as exc:
                once("cannot register %s from %s: %s", thing_id, item.url, exc)
        stop.wait(interval_s)
