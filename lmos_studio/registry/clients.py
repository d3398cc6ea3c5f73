"""Remote registries over httpx: another TDD server, the LMOS operator REST API, the Kubernetes API.

Reading a kubeconfig (or a pod's service account) is `kubeconfig.py`; this module only talks HTTP.

Every transport or HTTP failure becomes a `RegistryError` (or `RegistryUnavailable` / `AgentNotFound`) that
names the URL. Reads that gather many items degrade: a `SourceResult` holds the agents that did arrive and
one message per failure, so a slow or broken source never hides the rest.
"""

from __future__ import annotations

import contextlib
import json
import re
import ssl
import tempfile
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

import httpcore
import httpx

from lmos_studio.errors import (
    AgentNotFound,
    ConfigError,
    DesignFileError,
    LmosStudioError,
    RegistryError,
    RegistryUnavailable,
)
from lmos_studio.formats import jsonio
from lmos_studio.formats.lmos import agent_from_resource, channel_from_resource
from lmos_studio.formats.yamltypes import kind_of
from lmos_studio.model import Agent, Capability, Channel, Endpoint
from lmos_studio.redact import MASK, redact_url, secret_param
from lmos_studio.registry.kubeconfig import IN_CLUSTER_CONTEXT, KubeConfig
from lmos_studio.registry.store import Query
from lmos_studio.registry.things import is_thing_description, thing_to_agent
from lmos_studio.registry.unread import Unread, design_reason, reason_of, said_once
from lmos_studio.sizes import size_text
from lmos_studio.visible import cut

SHOWN_URL_CHARS = 200  # of a request's URL a message names (the path may hold an id of any size)
MAX_RESPONSE_BYTES = 20 * 2**20  # a registry answer larger than this is refused, not buffered
LISTING_TIMEOUTS = 6  # a read of many requests (pages, channels) stops after this many timeouts in all
MAX_PAGES = 100  # at most this many `Link: rel=next` pages (or Kubernetes `continue` pages) are followed
KUBE_PAGE_LIMIT = 500  # items per Kubernetes list page (the API server's `limit`; kubectl asks for 500)
KUBE_MAX_ITEMS = 20_000  # a Kubernetes listing stops past this many items: no namespace of agents is that big
LMOS_GROUP = "lmos.eclipse/v1"
INFLATE_STEP_BYTES = 2**20  # a compressed answer is inflated at most this much at a time (a gzip bomb stays small)
_WBITS = {"gzip": 31, "x-gzip": 31, "deflate": 15}  # zlib's window bits per Content-Encoding (31: gzip framing)


@dataclass
class SourceResult:
    """What one source returned: the agents that arrived and a message per failure."""

    agents: list[Agent] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    total: int | None = None
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    # a directory's answer: each agent's TD id and registration expiry (epoch s, None = never), in the order
    # of `agents` (an agent converted from another format keeps no TD id of its own)
    listed: list[tuple[str, float | None]] = field(default_factory=list)
    unread: list[Unread] = field(default_factory=list)  # every item that could not be read (one message per
    # kind in `errors` says how many and why: `report`)
    answered: bool = True  # False: the source gave no usable answer at all (why: in `errors`), which is not the
    # same as an answer with no agents in it

    def report(self, unread: list[Unread], *, where: str, counted: str) -> None:
        """Keep `unread` and say them in one message (`said_once`: `where`, `counted`); nothing when empty."""
        if unread:
            self.unread += unread
            self.errors.append(said_once(unread, where=where, counted=counted))

    def listings(self) -> list[tuple[str, float | None]]:
        """`listed`, one per agent in `agents`' order; ("", None) for each when the source gave none (or not one
        per agent)."""
        return self.listed if len(self.listed) == len(self.agents) else [("", None)] * len(self.agents)


def _timeout(timeout_s: float | None) -> float:
    if timeout_s is not None:
        return timeout_s
    from lmos_studio.config import get_settings

    return get_settings().registry_timeout_s


def map_error(exc: Exception, url: str, *, timeout_s: float | None = None) -> RegistryError:
    """Our error for an httpx exception (every class of httpx's tree), naming the URL."""
    if isinstance(exc, httpx.TimeoutException):
        return RegistryUnavailable(
            f"{url}: no answer within {timeout_s or ''}s ({type(exc).__name__}); "
            "check that the registry runs, or raise LMOS_STUDIO_REGISTRY_TIMEOUT_S",
            url=url,
        )
    if isinstance(exc, httpx.ConnectError | httpx.ProxyError):
        return RegistryUnavailable(
            f"{url}: cannot connect ({exc or type(exc).__name__}); check the URL and that the registry is running",
            url=url,
        )
    if isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError):
        return RegistryUnavailable(f"{url}: the connection failed ({type(exc).__name__}: {exc}); try again", url=url)
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return RegistryError(f"{url}: not a usable URL ({exc}); use http://host:port or https://…", url=url)
    if isinstance(exc, httpx.TooManyRedirects):
        return RegistryError(f"{url}: too many redirects; point at the registry itself", url=url)
    if isinstance(exc, httpx.HTTPStatusError):
        return status_error(exc.response, url)
    if isinstance(exc, httpx.HTTPError | httpx.StreamError | httpx.CookieConflict):
        return RegistryError(f"{url}: {type(exc).__name__}: {exc}", url=url)
    return RegistryError(f"{url}: {type(exc).__name__}: {exc}", url=url)


def _masked(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with each secret replaced by `***`."""
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


TOKEN_HINT = (
    "give the registry's bearer token (--token or LMOS_STUDIO_REGISTRY_TOKEN; on the Registry page, the token "
    "field under Sources)"
)


def _retry_after(response: httpx.Response) -> str:
    """How long the server's Retry-After asks to wait (seconds or an HTTP date), as a sentence; '' without one."""
    when = response.headers.get("retry-after", "").strip()[:60]
    if when.isdigit():
        return f"the registry asks to wait {when} s before trying again"
    return f"the registry asks to wait until {when}" if when else ""


def status_error(
    response: httpx.Response, url: str, *, secrets: tuple[str, ...] = (), refused: str = TOKEN_HINT
) -> RegistryError:
    """Our error for a non-2xx answer, quoting a problem-details `detail` when there is one, with `secrets` (the
    client's token and password, which a registry may echo: "token abc123 is not valid") masked; `refused`: what
    to do about a 401 or 403, for the kind of registry."""
    code = response.status_code
    detail = ""
    with contextlib.suppress(Exception):
        body = jsonio.loads(response.content[:4096] or b"null", source=url)
        if isinstance(body, dict):
            detail = _masked(str(body.get("detail") or body.get("message") or body.get("error") or ""), secrets)[:300]
    detail = f": {detail}" if detail else ""
    if code == 404:
        return AgentNotFound(f"{url}: not found (404){detail}", url=url, status_code=code)
    if code in (401, 403):
        return RegistryError(f"{url}: refused ({code}){detail}; {refused}", url=url, status_code=code)
    if code == 429:  # busy now, not a wrong request: when to try again is the server's Retry-After
        later = _retry_after(response) or "try again later"
        return RegistryUnavailable(f"{url}: too many requests (429){detail}; {later}", url=url, status_code=code)
    if code >= 500:  # "try again later" only where the server says so (a refused database login is a 500)
        later = _retry_after(response) or ("try again later" if code in (502, 503, 504) else "")
        later = f"; {later}" if later else ""
        return RegistryUnavailable(f"{url}: the server failed ({code}){detail}{later}", url=url, status_code=code)
    return RegistryError(f"{url}: rejected ({code}){detail}", url=url, status_code=code)


class _Deadline:
    """When the request under way must be over (`time.monotonic()`; None: no request), for every connection of
    one client: httpx times each read and write only, so a server dripping its headers was waited on for hours."""

    def __init__(self) -> None:
        self.at: float | None = None

    def bound(self, timeout: float | None, late: type[httpcore.TimeoutException]) -> float | None:
        """`timeout`, shortened to what is left of the request's time; `late` raised when none is left."""
        if self.at is None:
            return timeout
        left = self.at - time.monotonic()
        if left <= 0:
            raise late("the whole answer took longer than the registry timeout")
        return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read, write and TLS handshake ends by the request's deadline."""

    def __init__(self, stream: httpcore.NetworkStream, deadline: _Deadline) -> None:
        self._stream, self._deadline = stream, deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._deadline.bound(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._deadline.bound(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        bounded = self._deadline.bound(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, bounded), self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's network backend, handing out connections bounded by `deadline`."""

    def __init__(self, backend: httpcore.NetworkBackend, deadline: _Deadline) -> None:
        self._backend, self._deadline = backend, deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        bounded = self._deadline.bound(timeout, httpcore.ConnectTimeout)
        stream = self._backend.connect_tcp(host, port, bounded, local_address, socket_options)
        return _DeadlineStream(stream, self._deadline)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        bounded = self._deadline.bound(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._backend.connect_unix_socket(path, bounded, socket_options), self._deadline)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def _bound_by(client: httpx.Client, deadline: _Deadline) -> None:
    """Give the connection pools of `client` (its transport, and a proxy's from the environment) connections that
    end by `deadline`. httpx has no setting for it: the pool's backend is swapped (httpx builds one pool per
    transport, `_pool`, over httpcore's `_network_backend`); should a new httpx rename either, the header-drip
    test fails."""
    transports = [getattr(client, "_transport", None), *getattr(client, "_mounts", {}).values()]
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if isinstance(backend, httpcore.NetworkBackend) and not isinstance(backend, _DeadlineBackend):
            pool._network_backend = _DeadlineBackend(backend, deadline)  # type: ignore[union-attr]


class HttpSource:
    """An httpx client that answers with our errors only, with a response size cap and a time limit for each
    whole answer."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout_s: float | None = None,
        transport: httpx.BaseTransport | None = None,
        verify: ssl.SSLContext | bool = True,
        headers: dict[str, str] | None = None,
        follow_redirects: bool = True,
        credentials: str = "",
    ) -> None:
        base, userinfo = _split_userinfo(base_url)  # credentials go to auth, never into messages
        auth = httpx.BasicAuth(*userinfo) if userinfo else None
        # a query (`?key=…` for a gateway) goes with every request; paths are appended to the URL's path
        self.base_url, params = _split_query(base)
        # what a registry's words must not repeat (one of 3 characters or less would mask common words): the
        # token, the user-info password and the values of the query's secret parameters (`?key=…`, `?sig=…`)
        queried = [value for name, value in params.multi_items() if secret_param(name)]
        self._secrets = tuple(s for s in (token, userinfo[1] if userinfo else "", *queried) if s and len(s) > 3)
        self.timeout_s = _timeout(timeout_s)
        # only what `_decoded` inflates (httpx would also offer br and zstd once those packages are installed)
        all_headers = {"Accept": "application/json", "Accept-Encoding": "gzip, deflate", **(headers or {})}
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        self.client = httpx.Client(
            timeout=self.timeout_s,
            auth=auth,
            transport=transport,
            verify=verify,
            headers=all_headers,
            params=params,
            follow_redirects=follow_redirects,
            max_redirects=5,
            event_hooks={"response": [self._refuse_leaving]} if credentials else None,
        )
        self._credentials = credentials
        self._deadline = _Deadline()
        _bound_by(self.client, self._deadline)

    def close(self) -> None:
        self.client.close()

    def _refuse_leaving(self, response: httpx.Response) -> None:
        """Raise on a redirect to another origin (scheme, host, port): httpx drops the Authorization header there,
        but a TLS client certificate stays in the SSL context and would be offered to the other host. Set up for
        a source holding such `credentials` (a phrase naming them)."""
        if not response.has_redirect_location:
            return
        here = _origin(str(response.request.url))
        there = _origin(str(response.request.url.join(response.headers["location"])))
        if there != here:
            url = redact_url(str(response.request.url))
            raise RegistryError(
                f"{url}: redirects ({response.status_code}) to another host, {there} (from {here}); "
                f"not followed, so {self._credentials} go nowhere but {here}; {self.leaving_hint()}",
                url=url,
                status_code=response.status_code,
            )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request; a non-2xx answer or a transport failure raises our error naming the URL."""
        target = path if "://" in path else self.base_url + path
        url = cut(target, SHOWN_URL_CHARS)  # as messages name it: a path may hold a huge id a user gave
        deadline = time.monotonic() + self.timeout_s  # httpx times each read: a drip of bytes would never end
        self._deadline.at = deadline  # the connections' reads and writes end by then too (headers, redirects)
        try:
            request = self.client.build_request(method, target, **kwargs)
            response = self.client.send(request, stream=True)
            try:
                chunks, size = [], 0
                for chunk in _decoded(response, url):
                    size += len(chunk)
                    if size > MAX_RESPONSE_BYTES:
                        raise RegistryError(
                            f"{url}: the answer exceeds {size_text(MAX_RESPONSE_BYTES)}; refused", url=url
                        )
                    if time.monotonic() > deadline:
                        raise RegistryUnavailable(
                            f"{url}: the answer did not arrive within {self.timeout_s}s (it came too slowly); "
                            "check the registry, or raise LMOS_STUDIO_REGISTRY_TIMEOUT_S",
                            url=url,
                        )
                    chunks.append(chunk)
            finally:
                response.close()
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, httpx.CookieConflict) as exc:
            raise map_error(exc, url, timeout_s=self.timeout_s) from exc
        except UnicodeError as exc:  # the resolver cannot encode the host (a part empty or over 63 characters)
            raise RegistryError(
                f"{url}: not a usable URL (its host name: {exc}); use http://host:port or https://…", url=url
            ) from exc
        finally:
            self._deadline.at = None
        headers = httpx.Headers(response.headers)  # the body is inflated already: httpx must not inflate it again
        for name in ("content-encoding", "content-length"):
            headers.pop(name, None)
        response = httpx.Response(response.status_code, headers=headers, content=b"".join(chunks), request=request)
        if response.is_redirect:  # only when built with follow_redirects=False
            location = _masked(response.headers.get("location", ""), self._secrets)[:200]
            raise RegistryError(
                f"{url}: redirects ({response.status_code}) to {location or 'nowhere'}; not followed",
                url=url,
                status_code=response.status_code,
            )
        if not response.is_success:
            refused = self.refused_hint(response.status_code, url)
            raise status_error(response, url, secrets=self._secrets, refused=refused)
        return response

    def refused_hint(self, status: int, url: str) -> str:
        """What to do when the registry refuses a request (401, 403)."""
        return TOKEN_HINT

    def leaving_hint(self) -> str:
        """What to do when the server redirects to another origin and the source refuses to follow."""
        return "point Studio at the server the redirect names, if you trust it with them"

    def too_slow(self, pages: int) -> str:
        """Why a listing of many pages stopped early: it had taken `LISTING_TIMEOUTS` timeouts."""
        return (
            f"stopped after {LISTING_TIMEOUTS * self.timeout_s:g}s ({pages} pages read, more to come); the listing "
            "is incomplete: the registry answers slowly, try again, or raise LMOS_STUDIO_REGISTRY_TIMEOUT_S"
        )

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        return _parsed(self.request(method, path, **kwargs))

    def write(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A write (PUT, PATCH, DELETE) whose answer is empty or JSON: a body of anything else (a web site or a
        login page answering 200) says the URL is no directory, and the write is not taken for done."""
        response = self.request(method, path, **kwargs)
        if response.content.strip():
            _parsed(response, writing=True)
        return response


def _parsed(response: httpx.Response, *, writing: bool = False) -> Any:
    """The JSON of an answer; a `RegistryError` naming the URL when it is not JSON."""
    url = str(response.request.url)
    try:
        return jsonio.loads(response.content, source=url)
    except DesignFileError as exc:
        kind = response.headers.get("content-type", "").partition(";")[0].strip()[:60]
        why = f"a {kind} answer" if kind and "json" not in kind else exc.reason[:80]
        done = "; the write may not have happened" if writing else ""
        raise RegistryError(f"{url}: the answer is not JSON ({why}){done}; is this the right URL?", url=url) from exc


def _decoded(response: httpx.Response, url: str) -> Iterator[bytes]:
    """The body, inflated when it is gzip- or deflate-encoded. httpx's own decoding broke every such answer (it
    was inflated twice), inflated a whole read at once and each coding of `gzip, gzip` in turn (3 KB became
    2 GiB); here one coding is inflated, `INFLATE_STEP_BYTES` at a time, so the caller's size cap holds."""
    if response.is_stream_consumed:  # a response built with its body (httpx.MockTransport): decoded already
        yield response.content
        return
    codings = [c.strip().lower() for c in response.headers.get("content-encoding", "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        yield from response.iter_raw()
        return
    if len(codings) > 1 or codings[0] not in _WBITS:
        raise RegistryError(
            f"{url}: the answer is encoded as {', '.join(codings)[:80]}; Studio reads plain, gzip or deflate "
            "answers (one coding); check the registry's (or its proxy's) compression settings",
            url=url,
        )
    try:
        yield from _inflate(response.iter_raw(), codings[0])
    except zlib.error as exc:
        raise RegistryError(
            f"{url}: the answer is not valid {codings[0]} data ({exc}); check the registry's (or its proxy's) "
            "compression settings",
            url=url,
        ) from exc


def _inflate(chunks: Iterable[bytes], coding: str) -> Iterator[bytes]:
    """Inflate `chunks` a bounded step at a time; `deflate` also as raw deflate (no zlib header), as some servers
    send it."""
    inflater, started = zlib.decompressobj(_WBITS[coding]), False
    for data in chunks:
        while True:
            try:
                out = inflater.decompress(data, INFLATE_STEP_BYTES)
            except zlib.error:
                if started or coding != "deflate":
                    raise
                inflater, started = zlib.decompressobj(-zlib.MAX_WBITS), True
                continue
            started = True
            if out:
                yield out
            data = inflater.unconsumed_tail
            if not data and len(out) < INFLATE_STEP_BYTES:  # a full step may leave output behind: ask again
                break


def _split_query(url: str) -> tuple[str, httpx.QueryParams]:
    """`http://host/dir/?key=k` → (`http://host/dir`, [("key", "k")]): a base URL's paths are appended to its
    path, never to its query."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.rstrip("/"), httpx.QueryParams()
    base = urlunsplit(parts._replace(query="", fragment="")) if parts.query or parts.fragment else url
    return base.rstrip("/"), httpx.QueryParams(parts.query)


def _split_userinfo(url: str) -> tuple[str, tuple[str, str] | None]:
    """`http://user:pass@host/x` → (`http://host/x`, (user, password)): the URL kept for messages and sources
    has no credentials, and requests still send them (as basic auth)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url, None
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, host = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    return urlunsplit(parts._replace(netloc=host)), (unquote(user), unquote(password))


def _expires(registration: Any) -> float | None:
    """A TD's `registration.expires` (ISO 8601) as epoch seconds; None when absent or not a time."""
    value = registration.get("expires") if isinstance(registration, dict) else None
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def _agent_of(td: Any, source: str, *, place: str) -> Agent:
    """The agent of a directory's TD; a `RegistryError` naming it by its id, else by its title or `place` (where
    it stands in the answer: "item 3 of the answer"), saying it has no id."""
    if not is_thing_description(td):
        raise RegistryError(f"{source}: {place} is not a Thing Description", url=source)
    try:
        return thing_to_agent(td, source=source)
    except (LmosStudioError, ValueError) as exc:
        reason = str(exc).removeprefix(f"{source}: ")  # the format's message names the source too
        raise RegistryError(f"{source}: {_td_named(td, place)} cannot be read: {reason}", url=source) from exc


def _td_label(td: Any, place: str) -> str:
    """A TD as a list names it: its id, else its title, else its `place`."""
    named = (td.get("id") or td.get("title")) if isinstance(td, dict) else None
    return str(named)[:80] if named else place


def _td_named(td: dict[str, Any], place: str) -> str:
    """How a message names a TD: by its id; without one, by its title and place, or its place alone."""
    if td.get("id"):
        return f"TD {str(td['id'])[:80]!r} ({place})"
    if td.get("title"):
        return f"the TD titled {str(td['title'])[:80]!r} ({place}; it has no id)"
    return f"the TD at {place} (it has no id or title)"


class TddClient(HttpSource):
    """Another W3C WoT Thing Description Directory (such as `lmos-studio registry serve`)."""

    def list_agents(self, *, limit: int = 100) -> SourceResult:
        """Every TD, following `Link: rel=next` on the registry's own origin (credentials go nowhere else);
        a failing page, a next link to another host or to a page read already, stops the walk and is
        reported."""
        result, unread = SourceResult(), list[Unread]()
        url: str | None = f"{self.base_url}/things?offset=0&limit={limit}"
        read: set[str] = set()
        listed = 0  # items of the pages read so far: where the next page's first item stands in the listing
        stop_at = time.monotonic() + LISTING_TIMEOUTS * self.timeout_s
        while url is not None:
            if len(read) == MAX_PAGES:
                result.errors.append(f"{self.base_url}: stopped after {MAX_PAGES} pages; narrow the listing")
                break
            if read and time.monotonic() > stop_at:
                result.errors.append(f"{self.base_url}: {self.too_slow(len(read))}")
                break
            read.add(url)
            try:
                response = self.request("GET", url)
                items = jsonio.loads(response.content, source=url)
            except (RegistryError, DesignFileError) as exc:
                result.errors.append(str(exc) if isinstance(exc, RegistryError) else f"{url}: the answer is not JSON")
                result.answered = len(read) > 1  # the first page failing: no answer at all
                break
            self._collect(items, result, unread, first=listed, of="the listing")
            listed += len(items) if isinstance(items, list) else 0
            url = self._next_page(response, url, read, result)
        self._report(result, unread, listed)
        return result

    def _next_page(self, response: httpx.Response, url: str, read: set[str], result: SourceResult) -> str | None:
        """The next page's URL from the `Link` header, or None (with a message when it is not followed)."""
        target = _next_link(response)
        if target is None:
            return None
        # a root-relative link continues below the base URL (our own server behind a path prefix sends these)
        following = self.base_url + target if target.startswith("/") else urljoin(url, target)
        if _origin(following) != _origin(self.base_url):
            result.errors.append(
                f"{url}: the next page is on another host ({_origin(following)}); not followed, so the "
                "registry's credentials go nowhere else"
            )
            return None
        if following in read:
            result.errors.append(f"{url}: the next page ({following}) was read already; the listing stops there")
            return None
        return following

    def search(self, query: Query) -> SourceResult:
        """The server's /search (text, capability, tenant, channel, protocol, subset) with facets."""
        given = {
            "q": query.text,
            "capability": query.capability,
            "tenant": query.tenant,
            "channel": query.channel,
            "protocol": query.protocol,
            "subset": query.subset,
            "offset": query.offset,
            "limit": query.limit,
            "fields": "td",  # whole TDs: the app shows and imports agents, not summaries
        }
        params = {k: v for k, v in given.items() if v not in ("", None)}
        result = SourceResult()
        try:
            body = self.json("GET", "/search", params=params)
        except RegistryError as exc:
            result.errors.append(str(exc))
            result.answered = False
            return result
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            result.errors.append(f"{self.base_url}/search: the answer has no `items` list")
            result.answered = False
            return result
        unread: list[Unread] = []
        self._collect(body["items"], result, unread)
        self._report(result, unread, len(body["items"]))
        result.total = int(body["total"]) if isinstance(body.get("total"), int) else None
        facets = body.get("facets")
        if isinstance(facets, dict):
            result.facets = {
                str(k): {str(v): int(n) for v, n in vals.items() if isinstance(n, int)}
                for k, vals in facets.items()
                if isinstance(vals, dict)
            }
        return result

    def _collect(
        self, items: Any, result: SourceResult, unread: list[Unread], *, first: int = 0, of: str = "the answer"
    ) -> None:
        """The agents of a JSON array of TDs into `result`, each TD that cannot be read into `unread`; `first`: the
        first item's place in the listing `of`."""
        if not isinstance(items, list):
            result.errors.append(f"{self.base_url}: expected a JSON array of TDs")
            return
        for index, item in enumerate(items, start=first):
            place = f"item {index} of {of}"
            try:
                result.agents.append(_agent_of(item, self.base_url, place=place))
            except RegistryError as exc:
                reason = "not a Thing Description"  # no cause: `_agent_of` found no TD at all
                if exc.__cause__ is not None:  # what the format refused
                    reason = _why(exc, kind="Thing Description", after=" cannot be read: ")
                unread.append(Unread("TD", _td_label(item, place), reason, str(exc)))
                continue
            result.listed.append((str(item.get("id") or ""), _expires(item.get("registration"))))

    def _report(self, result: SourceResult, unread: list[Unread], items: int) -> None:
        """Say the TDs of `items` that could not be read in one message."""
        result.report(
            unread,
            where=self.base_url,
            counted=f"{len(unread)} of {items} TDs could not be read, so their agents are missing",
        )

    def get(self, thing_id: str) -> dict[str, Any]:
        body = self.json("GET", f"/things/{quote(thing_id, safe=':')}")
        if not isinstance(body, dict):
            raise RegistryError(f"{self.base_url}/things/{thing_id}: not a JSON object", url=self.base_url)
        return body

    def put(self, thing_id: str, document: dict[str, Any], *, ttl: float | None = None) -> bool:
        """Create or replace; True when the thing was new."""
        response = self.write(
            "PUT",
            f"/things/{quote(thing_id, safe=':')}",
            content=json.dumps(document),
            headers={"Content-Type": "application/td+json"},
            params={"ttl": ttl} if ttl else None,
        )
        return response.status_code == 201

    def register(self, document: Any, *, ttl: float | None = None) -> list[str]:
        """Register any description (a TD with an id is PUT, everything else POSTed); returns the ids."""
        if isinstance(document, dict) and is_thing_description(document) and document.get("id"):
            self.put(str(document["id"]), document, ttl=ttl)
            return [str(document["id"])]
        body = self.json(
            "POST",
            "/things",
            content=json.dumps(document),
            headers={"Content-Type": "application/json"},
            params={"ttl": ttl} if ttl else None,
        )
        ids = body.get("ids") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise RegistryError(f"{self.base_url}/things: the answer has no `ids` list of strings", url=self.base_url)
        return ids

    def renew(self, thing_id: str) -> None:
        """Renew a TTL registration with an empty merge patch."""
        self.write(
            "PATCH",
            f"/things/{quote(thing_id, safe=':')}",
            content=b"{}",
            headers={"Content-Type": "application/merge-patch+json"},
        )

    def delete(self, thing_id: str) -> None:
        self.write("DELETE", f"/things/{quote(thing_id, safe=':')}")


def _origin(url: str) -> str:
    """scheme://host:port of a URL (default ports spelled out), to compare where requests go."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return url
    port = parsed.port or {"http": 80, "https": 443}.get(parsed.scheme, 0)
    return f"{parsed.scheme}://{parsed.host}:{port}"


def _next_link(response: httpx.Response) -> str | None:
    for link in response.headers.get("link", "").split(","):
        target, _, params = link.partition(";")
        if 'rel="next"' in params.replace(" ", "") or "rel=next" in params.replace(" ", ""):
            return target.strip().strip("<>") or None
    return None


# -- LMOS operator REST API (LMOS.md §2.1) -------------------------------------------------------------


class OperatorClient(HttpSource):
    """The LMOS operator's read-only API: Channels and ChannelRoutings of a tenant."""

    def __init__(self, base_url: str, *, namespace: str = "default", subset: str = "stable", **kwargs: Any) -> None:
        super().__init__(base_url, headers={"x-namespace": namespace, "x-subset": subset}, **kwargs)
        self.namespace, self.subset = namespace, subset

    def refused_hint(self, status: int, url: str) -> str:
        return (
            "Studio sends the operator API no credentials: reach it without authentication (e.g. `kubectl "
            "port-forward` to lmos-operator), or read the cluster's Agent resources instead (--kubernetes; on the "
            "Registry page, Kubernetes cluster)"
        )

    def channels(self, tenant: str) -> list[Channel]:
        """The tenant's Channels; one that cannot be read raises (see `readable_channels` to go on)."""
        channels, unreadable = self.readable_channels(tenant)
        if unreadable:
            raise RegistryError(unreadable[0].message, url=self.base_url)
        return channels

    def readable_channels(self, tenant: str) -> tuple[list[Channel], list[Unread]]:
        """The tenant's Channels that can be read, and each item of its list that cannot."""
        path = f"/apis/v1/tenants/{quote(tenant, safe='')}/channels"
        body = self.json("GET", path)
        if not isinstance(body, list):
            raise RegistryError(f"{self.base_url}{path}: expected a JSON array of Channels", url=self.base_url)
        channels, unreadable = [], []
        for index, item in enumerate(body):
            try:
                channels.append(self._channel(item, path))
            except RegistryError as exc:
                name = _resource_name(item) or f"item {index}"
                reason = _why(exc, kind="Channel", after=f"{self.base_url}{path}: ")
                unreadable.append(Unread("Channel", name, reason, f"{exc} (item {index})", tenant=tenant))
        return channels, unreadable

    def channel(self, tenant: str, channel: str) -> Channel:
        path = f"/apis/v1/tenants/{quote(tenant, safe='')}/channels/{quote(channel, safe='')}"
        return self._channel(self.json("GET", path), path)

    def routing(self, tenant: str, channel: str) -> dict[str, Any]:
        path = f"/apis/v1/tenants/{quote(tenant, safe='')}/channels/{quote(channel, safe='')}/routing"
        body = self.json("GET", path)
        if not isinstance(body, dict) or not isinstance(body.get("spec"), dict):
            raise RegistryError(f"{self.base_url}{path}: not a ChannelRouting", url=self.base_url)
        return body

    def agents(self, tenants: list[str]) -> SourceResult:
        """The agents wired into every channel of these tenants (from their ChannelRoutings, each read once). The
        whole read stops after `LISTING_TIMEOUTS` timeouts, saying what was not read: every request keeps to the
        timeout, but 200 slow channels took 200 of them. What could not be read is said once per kind
        (`SourceResult.report`): Channels of the lists, channels' routings, parts of the routings read."""
        result, tally = SourceResult(), _Tally()
        found: dict[str, Agent] = {}
        stop_at = time.monotonic() + LISTING_TIMEOUTS * self.timeout_s
        for number, tenant in enumerate(tenants):
            if time.monotonic() > stop_at:
                result.errors.append(self._stopped(f"tenants {', '.join(tenants[number:])[:200]} not read"))
                break
            if not self._tenant_agents(tenant, found, result, tally, stop_at=stop_at):
                if tenants[number + 1 :]:
                    result.errors.append(self._stopped(f"tenants {', '.join(tenants[number + 1 :])[:200]} not read"))
                break
        result.agents = list(found.values())
        result.answered = tally.tenants > 0 or not tenants  # no tenant's channel list read: no answer at all
        self._report(result, tally)
        return result

    def _report(self, result: SourceResult, tally: _Tally) -> None:
        """Say what `tally` holds that could not be read, one message per kind."""
        result.report(
            tally.channels,
            where=self.base_url,
            counted=f"{len(tally.channels)} of {tally.listed} items of the tenants' channel lists are no readable "
            "Channel, so their routings were not asked for",
        )
        result.report(
            tally.routings,
            where=self.base_url,
            counted=f"{len(tally.routings)} of {tally.asked} channels could not be read, so their agents are missing",
        )
        result.report(
            tally.parts,
            where=self.base_url,
            counted=f"{len(tally.parts)} parts of {tally.odd} of the {tally.read} ChannelRoutings read are of the "
            "wrong shape, so they were left out (a text field: left empty)",
        )

    def _tenant_agents(
        self, tenant: str, found: dict[str, Agent], result: SourceResult, tally: _Tally, *, stop_at: float
    ) -> bool:
        """Add the agents of a tenant's channels to `found` (messages to `result`, what could not be read and how
        many were tried to `tally`); False when time ran out."""
        try:
            channels, unreadable = self.readable_channels(tenant)
        except RegistryError as exc:
            result.errors.append(str(exc))
            return True
        tally.tenants += 1
        tally.listed += len(channels) + len(unreadable)
        tally.channels += unreadable
        names = list(dict.fromkeys(channel.channel or channel.name for channel in channels))
        for index, name in enumerate(names):
            if time.monotonic() > stop_at:
                result.errors.append(
                    self._stopped(f"{len(names) - index} of {len(names)} channels not read (tenant {tenant})")
                )
                return False
            tally.asked += 1
            try:
                routing = self.routing(tenant, name)
            except RegistryError as exc:
                reason = reason_of(str(exc), after=f"{exc.url}: " if exc.url else "")
                tally.routings.append(Unread("channel", name, reason, str(exc), tenant=tenant))
                continue
            tally.read += 1
            before = len(tally.parts)
            for agent in routing_agents(routing, source=self.base_url, problems=tally.parts, tenant=tenant):
                found[agent.key] = _merge(found.get(agent.key), agent)
            tally.odd += len(tally.parts) > before
        return True

    def _stopped(self, what: str) -> str:
        return (
            f"{self.base_url}: the read stopped after {LISTING_TIMEOUTS * self.timeout_s:g}s, {what}; the "
            "operator answers slowly: try again, or raise LMOS_STUDIO_REGISTRY_TIMEOUT_S"
        )

    def _channel(self, item: Any, path: str) -> Channel:
        if not isinstance(item, dict):
            raise RegistryError(f"{self.base_url}{path}: not a Channel object", url=self.base_url)
        try:
            return channel_from_resource(item, path=self.base_url + path)
        except DesignFileError as exc:  # its message names the path already
            raise RegistryError(str(exc), url=self.base_url) from exc


@dataclass
class _Tally:
    """An operator read so far: how many Channels its tenants listed, routings it asked for, read, and read with
    parts of the wrong shape (`odd`), and what could not be read (Channels of the lists, channels' routings, parts
    of the routings read)."""

    tenants: int = 0  # tenants whose channel list was read
    listed: int = 0
    asked: int = 0
    read: int = 0
    odd: int = 0
    channels: list[Unread] = field(default_factory=list)
    routings: list[Unread] = field(default_factory=list)
    parts: list[Unread] = field(default_factory=list)


def _why(exc: LmosStudioError, *, kind: str, after: str) -> str:
    """The short reason (`Unread.reason`) of an item that could not be read: the format's field and words when the
    format refused the item (`design_reason`), else the message past `after`."""
    refused = exc if isinstance(exc, DesignFileError) else exc.__cause__
    if isinstance(refused, DesignFileError):
        return design_reason(refused, kind=kind)
    return reason_of(str(exc), after=after)


def _resource_name(item: Any) -> str:
    """A resource's `metadata.name` when it is text (cut at 80 characters), else ''."""
    meta = item.get("metadata") if isinstance(item, dict) else None
    name = meta.get("name") if isinstance(meta, dict) else None
    return name[:80] if isinstance(name, str) else ""


def routing_agents(
    routing: dict[str, Any], *, source: str, problems: list[Unread] | None = None, tenant: str = ""
) -> list[Agent]:
    """Agents as a ChannelRouting shows them (one per capability group), like lmos-runtime reads them; a
    capability group or list of the wrong shape is left out, and a text field holding something else (a list, a
    number) is left empty, each an `Unread` part in `problems` (of `tenant`, the one asked for)."""
    meta: dict[str, Any] = routing["metadata"] if isinstance(routing.get("metadata"), dict) else {}
    labels: dict[str, Any] = meta["labels"] if isinstance(meta.get("labels"), dict) else {}
    name = str(meta.get("name") or "")[:80]
    where = f"{source}: ChannelRouting {name!r}"
    found = problems if problems is not None else []

    def problem(field: str, what: str) -> None:
        message = f"{where}: {field} {what}"
        reason = reason_of(f"{field} {what}")
        found.append(Unread("ChannelRouting part", f"{name or '(no name)'} {field}", reason, message, tenant=tenant))

    def text(mapping: dict[str, Any], key: str, field: str) -> str:
        value = mapping.get(key)
        if value is None or isinstance(value, str):
            return value or ""
        problem(field, f"is {kind_of(value)}, not text; left out")
        return ""

    namespace = text(meta, "namespace", "metadata.namespace") or "default"
    subset, tenant_label, channel = (text(labels, k, f"metadata.labels.{k}") for k in ("subset", "tenant", "channel"))
    agents = []
    groups = routing["spec"].get("capabilityGroups") or []
    if not isinstance(groups, list):
        problem("spec.capabilityGroups", "is not a list; left out")
        return []
    for index, group in enumerate(groups):
        at = f"spec.capabilityGroups[{index}]"
        if not isinstance(group, dict) or not isinstance(group.get("name"), str) or not group["name"]:
            problem(at, "is not a capability group with a name; left out")
            continue
        listed = group.get("capabilities") or []
        if not isinstance(listed, list):
            problem(f"{at}.capabilities", "is not a list; left out")
            continue
        caps, hosts = [], []
        for number, cap in enumerate(listed):
            here = f"{at}.capabilities[{number}]"
            if not isinstance(cap, dict) or not isinstance(cap.get("name"), str) or not cap["name"]:
                problem(here, "is not a capability with a name; left out")
                continue
            caps.append(
                Capability(
                    name=cap["name"],
                    version=text(cap, "providedVersion", f"{here}.providedVersion"),
                    id=text(cap, "id", f"{here}.id"),
                    description=text(cap, "description", f"{here}.description"),
                )
            )
            hosts.append(text(cap, "host", f"{here}.host"))
        host = next((h for h in hosts if h), "")
        agents.append(
            Agent(
                name=group["name"],
                namespace=namespace,
                id=text(group, "id", f"{at}.id"),
                description=text(group, "description", f"{at}.description"),
                labels={"subset": subset} if subset else {},
                supported_tenants=(tenant_label,) if tenant_label else (),
                supported_channels=(channel,) if channel else (),
                capabilities=tuple(caps),
                source=source,
                endpoints=(Endpoint(protocol="ws", uri=f"ws://{host}/subscriptions"),) if host else (),
            )
        )
    return agents


def _merge(old: Agent | None, new: Agent) -> Agent:
    """One agent seen in several channels: the union of its tenants, channels and capabilities."""
    if old is None:
        return new
    caps = {c.name: c for c in (*old.capabilities, *new.capabilities)}
    return old.model_copy(
        update={
            "supported_tenants": tuple(dict.fromkeys((*old.supported_tenants, *new.supported_tenants))),
            "supported_channels": tuple(dict.fromkeys((*old.supported_channels, *new.supported_channels))),
            "capabilities": tuple(caps.values()),
        }
    )


# -- Kubernetes API --------------------------------------------------------------------------------------


@contextlib.contextmanager
def _ssl_context(config: KubeConfig) -> Iterator[ssl.SSLContext | bool]:
    if not config.server.startswith("https"):
        yield True
        return
    ctx = ssl.create_default_context(cadata=config.ca_pem) if config.ca_pem else ssl.create_default_context()
    if config.insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if config.client_cert_pem and config.client_key_pem:
        with tempfile.TemporaryDirectory() as tmp:  # ssl loads a key pair from files only; 0700 dir, removed
            cert, key = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
            cert.write_text(config.client_cert_pem)
            key.write_text(config.client_key_pem)
            key.chmod(0o600)
            ctx.load_cert_chain(str(cert), str(key))
    yield ctx


def _who(config: KubeConfig) -> str:
    """Whose credentials a Kubernetes client sends: a kubeconfig context's or the pod's service account."""
    if config.context == IN_CLUSTER_CONTEXT:
        return "the pod's service account"
    return f"kubeconfig context {config.context!r}"


class KubernetesClient(HttpSource):
    """LMOS `Agent` and `Channel` resources of a namespace, straight from the Kubernetes API (no kubectl)."""

    def __init__(self, config: KubeConfig, **kwargs: Any) -> None:
        if not config.server:
            raise ConfigError(f"kubeconfig context {config.context!r} has no cluster server URL")
        with _ssl_context(config) as verify:
            # neither its token nor its client certificate may reach another host (a cert would, on a redirect)
            held = [
                name
                for name, value in (("bearer token", config.token), ("TLS client certificate", config.client_cert_pem))
                if value
            ]
            credentials = f"the credentials of {_who(config)}" + (f" ({', '.join(held)})" if held else "")
            super().__init__(config.server, token=config.token, verify=verify, credentials=credentials, **kwargs)
        self.config = config

    def refused_hint(self, status: int, url: str) -> str:
        who = (
            "the pod's service account"
            if self.config.context == IN_CLUSTER_CONTEXT
            else f"the credentials of kubeconfig context {self.config.context!r}"
        )
        if status == 401:
            return (
                f"the cluster does not accept {who} (an expired token or certificate?); log in again, or pick "
                "another context (--context; on the Registry page, Context)"
            )
        found = re.search(r"/namespaces/([^/]+)/([^/?]+)", url)
        namespace, plural = (unquote(found[1]), found[2]) if found else (self.config.namespace, "agents")
        return (
            f"{who} may not list {plural}.lmos.eclipse in namespace {namespace}; check with `kubectl auth can-i "
            f"list {plural}.lmos.eclipse -n {namespace}`, ask for a Role that grants it, or pick another namespace "
            "or context"
        )

    def leaving_hint(self) -> str:
        if self.config.context == IN_CLUSTER_CONTEXT:
            return "check KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT of the pod"
        return (
            f"check the server of kubeconfig context {self.config.context!r} (`kubectl config view --minify`); if "
            "the other host is the cluster's API server, put its URL there"
        )

    def _list(self, plural: str, namespace: str | None) -> tuple[list[Any], str | None]:
        """Every item of a namespaced list, page by page (`limit` + `continue`), and a message when the walk
        stopped early (the items read so far still come back). An expired continue token (410 Gone) restarts
        the list once; a token given twice, or more than `MAX_PAGES` pages or `KUBE_MAX_ITEMS` items, stops it.
        A failing first page raises `RegistryError`."""
        ns = quote(namespace or self.config.namespace, safe="")
        path = f"/apis/{LMOS_GROUP}/namespaces/{ns}/{plural}"
        where = f"{self.base_url}{path}"
        items: list[Any] = []
        token, seen, pages, restarted = "", set[str](), 0, False
        stop_at = time.monotonic() + LISTING_TIMEOUTS * self.timeout_s
        while True:
            if pages == MAX_PAGES:
                return items, f"{where}: stopped after {MAX_PAGES} pages of {KUBE_PAGE_LIMIT}; narrow the namespace"
            if pages and time.monotonic() > stop_at:
                return items, f"{where}: {self.too_slow(pages)}"
            params: dict[str, str | int] = {"limit": KUBE_PAGE_LIMIT, **({"continue": token} if token else {})}
            try:
                body = self.json("GET", path, params=params)
            except RegistryError as exc:
                if not token:
                    raise
                if exc.status_code == 410 and not restarted:  # the token expired (etcd compacted): start over once
                    items, token, seen, pages, restarted = [], "", set(), 0, True
                    continue
                if exc.status_code == 410:
                    return items, (
                        f"{where}: the list changed faster than it could be read (its continue token expired "
                        "twice, 410 Gone); the listing is incomplete, try again"
                    )
                return items, f"{exc} (page {pages + 1}); the listing is incomplete"
            if not isinstance(body, dict) or not isinstance(body.get("items"), list):
                error = RegistryError(f"{where}: not a Kubernetes list", url=where)
                if not token:
                    raise error
                return items, f"{error} (page {pages + 1}); the listing is incomplete"
            items += body["items"]
            pages += 1
            if len(items) > KUBE_MAX_ITEMS:
                return items[:KUBE_MAX_ITEMS], f"{where}: stopped after {KUBE_MAX_ITEMS} items; narrow the namespace"
            meta = body.get("metadata")
            token = str(meta.get("continue") or "") if isinstance(meta, dict) else ""
            if not token:
                return items, None
            if token in seen:  # a server that hands out the same token again would be read forever
                return items, f"{where}: page {pages + 1} repeats a continue token already followed; the listing stops"
            seen.add(token)

    def agents(self, namespace: str | None = None) -> SourceResult:
        """Agents of the namespace; an unreadable resource is reported, the others still arrive."""
        result = SourceResult()
        try:
            items, stopped = self._list("agents", namespace)
        except RegistryError as exc:
            result.errors.append(str(exc))
            result.answered = False
            return result
        if stopped:
            result.errors.append(stopped)
        unread = []
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                message = f"{self.base_url}: agents item {index} is {kind_of(item)}, not an Agent resource"
                unread.append(Unread("Agent", f"item {index}", f"{kind_of(item)}, not an Agent resource", message))
                continue
            try:
                result.agents.append(agent_from_resource(item, path=self.base_url, source=self.base_url))
            except DesignFileError as exc:
                name = _resource_name(item) or f"item {index}"
                unread.append(Unread("Agent", name, design_reason(exc, kind="Agent"), str(exc)))
        counted = f"{len(unread)} of {len(items)} Agent resources could not be read, so their agents are missing"
        result.report(unread, where=self.base_url, counted=counted)
        return result

    def channels(self, namespace: str | None = None) -> list[Channel]:
        """Channels of the namespace, whole: one that cannot be read, or a listing that stopped early, raises
        `RegistryError` naming it (see `readable_channels` to go on)."""
        channels, unreadable = self.readable_channels(namespace)
        if unreadable:
            raise RegistryError(unreadable[0].message, url=self.base_url)
        return channels

    def readable_channels(self, namespace: str | None = None) -> tuple[list[Channel], list[Unread]]:
        """Channels of the namespace that can be read, and each one that cannot (as `agents` reports Agent
        resources): a listing that stopped early comes first, as item "the rest of the list". A request that
        fails outright raises `RegistryError`."""
        items, stopped = self._list("channels", namespace)
        unread = []
        if stopped:
            unread.append(Unread("Channel", "the rest of the list", "listing stopped early", stopped))
        channels = []
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                message = f"{self.base_url}: channels item {index} is {kind_of(item)}, not a Channel resource"
                unread.append(Unread("Channel", f"item {index}", f"{kind_of(item)}, not a Channel resource", message))
                continue
            try:
                channels.append(channel_from_resource(item, path=self.base_url))
            except DesignFileError as exc:
                name = _resource_name(item) or f"item {index}"
                unread.append(Unread("Channel", name, design_reason(exc, kind="Channel"), str(exc)))
        return channels, unread
