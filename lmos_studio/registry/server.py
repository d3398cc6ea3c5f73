"""The registry server: the W3C WoT Thing Description Directory HTTP API over the embedded store.

Implements `/things` (create, retrieve, update, merge-patch, delete, paged listing with `Link`), `/events`
(server-sent events), `/search` (our documented search by text, capability, tenant, channel, protocol,
subset: bounded pages of summaries, the fields chosen by the client, full TDs on request) and
`/.well-known/wot`; `/healthz` for probes. Listings and searches carry an `ETag` (304 when unchanged).
Errors are RFC 9457 problem details; a database that does not answer is 503 with `Retry-After`, one that
refuses our login is 500 without it (retrying does not help).
A2A cards, capabilities.json and routing specs are accepted too and stored as TDs with the original kept.
Writes may require a bearer token.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import math
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Header, Request, Response
from fastapi import Query as Param
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from lmos_studio.errors import AgentNotFound, DesignFileError, LmosStudioError, RegistryError, RegistryUnavailable
from lmos_studio.formats import jsonio
from lmos_studio.formats.td import ORIGINAL_KEY
from lmos_studio.model import Agent
from lmos_studio.redact import json_may_hold_credentials, redact_data
from lmos_studio.registry.store import MAX_TTL_S, Entry, Query, Registration, RegistryStore, merge_patch
from lmos_studio.registry.things import (
    DISCOVERY_CONTEXT,
    TD_CONTEXT,
    agent_to_thing,
    checked_thing,
    descriptions_of,
    document_response,
    is_thing_description,
    problem_responses,
    request_body,
)
from lmos_studio.visible import cut

TD_JSON = "application/td+json"
Found = tuple[dict[str, Any], Agent | None, dict[str, Any] | None, str]  # (td, agent, original, format)
PROBLEM_JSON = "application/problem+json"
MERGE_PATCH = "application/merge-patch+json"
JSON_TYPES = ("application/td+json", "application/json", "application/ld+json")
MAX_BODY_BYTES = 1 * 2**20  # a TD is a few KiB; a megabyte is generous and keeps the server safe
MAX_JSON_DEPTH = 32  # TDs nest a handful of levels (actions → forms → …); deeper bodies are refused
DEFAULT_PAGE = 100
MAX_PAGE = 1000
MAX_OFFSET = 2**31  # far past any directory's size; larger offsets are a 400, not an SQLite overflow
_EVENT_ID = re.compile(r"[0-9]{1,18}")  # Last-Event-ID: an ASCII sequence number that fits in 64 bits
PURGE_INTERVAL_S = 5.0  # how often the server deletes expired registrations (reads hide them at once anyway)
SSE_POLL_S = 0.25  # how often the event stream looks for new events in a store that cannot push (SQLite)
SSE_SAFETY_POLL_S = 2.0  # with a push, still read the store this often (a notification lost in a reconnect)
SEARCH_PAGE = 20  # /search default page: summaries, about 10 KB with facets
FACET_VALUES = 20  # /search facets: the most frequent values per kind (how many there are is said)
SUMMARY_FIELDS = (
    "id",
    "title",
    "name",
    "namespace",
    "description",
    "capabilities",
    "tenants",
    "channels",
    "protocols",
    "subset",
    "registration",
)
DEFAULT_FIELDS = SUMMARY_FIELDS
DESCRIPTION_CHARS = 200  # summaries cut descriptions here (the full TD has it whole)
RETRY_AFTER_S = 2
SSE_HEARTBEAT_S = 15.0  # a comment line keeps proxies from closing an idle stream
EVENT_TYPES = ("thing_created", "thing_updated", "thing_deleted")
PROBLEM_BASE = "https://lmos-studio.dev/problems/"
Offset = Annotated[int, Param(ge=0, le=MAX_OFFSET, description="entries to skip")]
Limit = Annotated[int, Param(ge=1, le=MAX_OFFSET, description=f"entries per page (at most {MAX_PAGE} are sent)")]
After = Annotated[str, Param(max_length=2048, description="only entries whose id sorts after this one (next links)")]


class Problem(Exception):
    """An HTTP error answered as problem details (`type, title, status, detail`, and the field)."""

    def __init__(
        self, status: int, title: str, detail: str, *, field: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.field, self.headers = status, title, detail, field, headers


def dumps_safe(content: Any) -> bytes:
    """JSON bytes that can always be sent: a document stored before the reader was strict (NaN, a lone
    surrogate) goes out with non-finite numbers as null and escaped text, never as a 500; credentials a
    registered description holds (`redact.redact_data`) go out as `***`: the directory keeps what was sent, but
    anyone may read it."""
    try:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        if not json_may_hold_credentials(text):  # nothing to mask (the usual answer): sent as dumped, once
            return text.encode("utf-8")
    except ValueError:  # also UnicodeEncodeError: masked, then sent as below
        pass
    content = redact_data(content)[0]
    try:
        return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")
    except ValueError:  # also UnicodeEncodeError
        return json.dumps(_finite(content), ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode()


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


class SafeJSONResponse(JSONResponse):
    """A JSON response rendered with `dumps_safe`."""

    def render(self, content: Any) -> bytes:
        return dumps_safe(content)


def problem_response(problem: Problem) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + problem.title.lower().replace(" ", "-"),
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
    }
    if problem.field:
        body["field"] = problem.field
        body["validationErrors"] = [{"field": problem.field, "description": problem.detail}]
    return SafeJSONResponse(body, status_code=problem.status, media_type=PROBLEM_JSON, headers=problem.headers)


def iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def registration_info(reg: Registration) -> dict[str, Any]:
    info = {
        "created": iso(reg.created),
        "modified": iso(reg.modified),
        "expires": iso(reg.expires),
        "ttl": reg.ttl,
        "retrieved": iso(reg.retrieved),
    }
    return {k: v for k, v in info.items() if v is not None}


def enriched(entry: Entry) -> dict[str, Any]:
    """The stored TD with the discovery context and its registration info (W3C WoT Discovery §7.3); a description
    of another format registered before the stored TD carried it (`lmos:original`) gets it from the store."""
    td = dict(entry.td)
    if ORIGINAL_KEY not in td and entry.original_format not in ("", "td") and entry.original:
        td[ORIGINAL_KEY] = {"format": entry.original_format, "document": entry.original}
    context = td.get("@context")
    contexts = list(context) if isinstance(context, list) else [context] if context else [TD_CONTEXT]
    if DISCOVERY_CONTEXT not in contexts:
        contexts.append(DISCOVERY_CONTEXT)
    td["@context"] = contexts
    td["registration"] = registration_info(entry.registration)
    return td


def summary(entry: Entry, fields: tuple[str, ...]) -> dict[str, Any]:
    """The fields of an entry a client asked for (`td` = the whole enriched TD)."""
    if "td" in fields:
        return enriched(entry)
    agent = entry.agent
    description = agent.description or str(entry.td.get("description") or "")
    values: dict[str, Any] = {
        "id": entry.id,
        "title": str(entry.td.get("title") or agent.name),
        "name": agent.name,
        "namespace": agent.namespace,
        "description": description[:DESCRIPTION_CHARS] + ("…" if len(description) > DESCRIPTION_CHARS else ""),
        "capabilities": [f"{c.name}@{c.version}" for c in agent.capabilities],
        "tenants": list(agent.supported_tenants),
        "channels": list(agent.supported_channels),
        "protocols": list(agent.protocols),
        "subset": agent.subset,
        "registration": registration_info(entry.registration),
    }
    return {name: values[name] for name in fields}


def parse_fields(raw: str) -> tuple[str, ...]:
    """`fields=id,title,…` (or `td` for whole TDs) → the field names; 400 naming an unknown one."""
    if not raw.strip():
        return DEFAULT_FIELDS
    names = tuple(dict.fromkeys(n.strip() for n in raw.split(",") if n.strip()))
    for name in names:
        if name != "td" and name not in SUMMARY_FIELDS:
            raise Problem(
                400,
                "Bad Request",
                f"unknown field {name[:40]!r}; choose from {', '.join(SUMMARY_FIELDS)}, or td for whole TDs",
                field="fields",
            )
    return ("td",) if "td" in names else names


def bounded_facets(facets: dict[str, dict[str, int]], limit: int) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """The `limit` most frequent values per facet kind (counts are already sorted), and, for each kind that
    had more, how many distinct values it had."""
    kept = {kind: dict(list(values.items())[:limit]) for kind, values in facets.items()}
    cut = {kind: len(values) for kind, values in facets.items() if len(values) > limit}
    return kept, cut


PATH_FIELDS = {"thing_id": "id"}  # a path parameter as problem details name it (a missing thing's 404 says `id`)


async def refuse_nul_parameters(request: Request) -> None:
    """400 for a NUL character (%00) in the id or any query parameter, naming it, before a store sees it: the
    stores would answer apart (PostgreSQL cannot hold NUL in text, SQLite can), and a database's words and
    address are none of a client's business."""
    given = [(PATH_FIELDS.get(k, k), str(v)) for k, v in request.path_params.items()]
    for name, value in given + request.query_params.multi_items():
        if "\x00" in name or "\x00" in value:
            field = name.replace("\x00", "\\u0000")[:40]
            raise Problem(
                400,
                "Bad Request",
                f"{field} holds a NUL character (%00), which no registry id or search can hold; remove it",
                field=field,
            )


def etag_of(version: str, *parts: Any) -> str:
    digest = hashlib.sha1(json.dumps([version, *parts], default=str).encode()).hexdigest()[:20]
    return f'W/"{digest}"'


def not_modified(request: Request, etag: str) -> bool:
    given = request.headers.get("if-none-match", "")
    return any(tag.strip() in (etag, "*") for tag in given.split(",")) if given else False


async def read_json(request: Request, *, types: tuple[str, ...], limit: int) -> Any:
    """The request body as JSON: content type checked (415), size capped before and while reading (413), then
    parsed by the one strict JSON reader (400 for NaN/Infinity, integers beyond 64 bits, lone surrogates,
    nesting deeper than MAX_JSON_DEPTH), each naming the field."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in types:
        raise Problem(
            415,
            "Unsupported Media Type",
            f"Content-Type {media or '(none)'!r} is not accepted here; send {' or '.join(types)}",
            field="Content-Type",
        )
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or len(declared) > 18 or int(declared) > limit):
        raise Problem(
            413, "Content Too Large", f"the body is {declared[:20]} bytes; at most {limit} are accepted", field="body"
        )
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Problem(413, "Content Too Large", f"the body exceeds {limit} bytes", field="body")
        chunks.append(chunk)
    try:
        return jsonio.loads(b"".join(chunks), source="body", max_depth=MAX_JSON_DEPTH)
    except DesignFileError as exc:
        raise Problem(
            400, "Bad Request", f"the body is not acceptable JSON: {exc.reason}", field=exc.field or "body"
        ) from exc


def create_app(store: RegistryStore, *, token: str | None = None, max_body_bytes: int = MAX_BODY_BYTES) -> FastAPI:
    """The directory as an ASGI app over a store; `token` (if set) is required as a bearer for writes."""
    app = FastAPI(
        default_response_class=SafeJSONResponse,
        title="LMOS Studio Thing Description Directory",
        version="1.0.0",
        description="W3C WoT TDD API (things, events, search) over the LMOS Studio registry.",
        dependencies=[Depends(refuse_nul_parameters)],  # every route: the same 400 from either store
    )

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers["X-Content-Type-Options"] = "nosniff"  # JSON is never sniffed as HTML
        return response

    @app.exception_handler(Problem)
    async def on_problem(_: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc)

    @app.exception_handler(RegistryUnavailable)
    async def on_unavailable(_: Request, exc: RegistryUnavailable) -> JSONResponse:
        return problem_response(
            Problem(503, "Service Unavailable", str(exc), headers={"Retry-After": str(RETRY_AFTER_S)})
        )

    @app.exception_handler(AgentNotFound)
    async def on_not_found(_: Request, exc: AgentNotFound) -> JSONResponse:
        return problem_response(Problem(404, "Not Found", str(exc), field="id"))

    @app.exception_handler(RegistryError)
    async def on_registry_error(request: Request, exc: RegistryError) -> JSONResponse:
        if exc.status_code is not None and exc.status_code >= 500:  # the server's fault (its database login)
            return problem_response(Problem(exc.status_code, _title(exc.status_code), str(exc)))
        return await on_error(request, exc)

    @app.exception_handler(LmosStudioError)
    async def on_error(_: Request, exc: LmosStudioError) -> JSONResponse:
        field = getattr(exc, "field", None) or "body"
        return problem_response(Problem(400, "Bad Request", str(exc), field=field))

    @app.exception_handler(StarletteHTTPException)
    async def on_http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(Problem(exc.status_code, _title(exc.status_code), str(exc.detail)))

    @app.exception_handler(RequestValidationError)
    async def on_validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ()))
        return problem_response(Problem(400, "Bad Request", f"{where}: {err.get('msg')}", field=where))

    def authorize(request: Request) -> None:
        if not token:
            return
        given = request.headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token.encode()):
            raise Problem(
                401,
                "Unauthorized",
                "writes need `Authorization: Bearer <token>` (the server's LMOS_STUDIO_REGISTRY_TOKEN)",
                field="Authorization",
                headers={"WWW-Authenticate": 'Bearer realm="lmos-studio-registry"'},
            )

    def registrations(data: Any, *, thing_id: str | None, source: str) -> list[Found]:
        """(td, agent, original, format) for each description in a body; TDs are stored as given."""
        if not isinstance(data, dict | list):
            raise Problem(
                400,
                "Bad Request",
                "the body must be a JSON object (a TD, an A2A card or a capabilities document)",
                field="body",
            )
        if is_thing_description(data):
            assert isinstance(data, dict)
            if not isinstance(data.get("title"), str) or not data["title"].strip():
                raise Problem(400, "Bad Request", "a Thing Description needs a non-empty string `title`", field="title")
            if thing_id and "id" in data and data["id"] != thing_id:
                ids = f"{cut(str(data['id']), 80)!r} differs from the URL's {cut(thing_id, 80)!r}"
                raise Problem(400, "Bad Request", f"the TD's id {ids}", field="id")
            return [(data, checked_thing(data, source=source), None, "td")]
        agents = descriptions_of(data, source=source)
        out: list[Found] = []
        for agent in agents:
            td = agent_to_thing(agent)
            original = agent.original or (data if isinstance(data, dict) else None)
            out.append((td, agent, original, agent.original_format or "td"))
        return out

    def ttl_of(data: Any, request: Request) -> float | None:
        raw: Any = request.query_params.get("ttl")
        if raw is None and isinstance(data, dict) and "registration" in data:
            if not isinstance(data["registration"], dict | None):
                raise Problem(400, "Bad Request", "`registration` must be an object", field="registration")
            raw = (data["registration"] or {}).get("ttl")
        if raw is None:
            return None
        try:
            ttl = -1.0 if isinstance(raw, bool) else float(raw)
        except (TypeError, ValueError):
            ttl = -1.0
        if not 0 < ttl <= MAX_TTL_S:
            raise Problem(
                400,
                "Bad Request",
                f"ttl {str(raw)[:40]!r} must be a number of seconds above 0 and at most {MAX_TTL_S} (ten years)",
                field="registration.ttl",
            )
        return ttl

    writes = problem_responses(400, 401, 413, 415)

    @app.put(
        "/things/{thing_id:path}",
        status_code=201,
        summary="Create or replace a TD",
        openapi_extra={"requestBody": request_body("td")},
        responses={204: {"description": "replaced"}, **writes},
    )
    async def put_thing(thing_id: str, request: Request) -> Response:
        authorize(request)
        data = await read_json(request, types=JSON_TYPES, limit=max_body_bytes)
        found = registrations(data, thing_id=thing_id, source=f"PUT /things/{thing_id}")
        if len(found) != 1:
            raise Problem(
                400,
                "Bad Request",
                f"the body describes {len(found)} agents; PUT takes one (POST /things registers several)",
                field="body",
            )
        td, agent, original, fmt = found[0]
        ttl = ttl_of(data, request)
        created = await run_in_threadpool(
            lambda: store.put(thing_id, td, ttl=ttl, original=original, original_format=fmt, agent=agent)
        )
        return Response(status_code=201 if created else 204)

    @app.post(
        "/things",
        status_code=201,
        summary="Register anonymous TDs or other descriptions",
        openapi_extra={"requestBody": request_body("td")},
        responses=writes,
    )
    async def post_thing(request: Request) -> Response:
        authorize(request)
        data = await read_json(request, types=JSON_TYPES, limit=max_body_bytes)
        found = registrations(data, thing_id=None, source="POST /things")
        if is_thing_description(data) and "id" in data:
            raise Problem(
                400, "Bad Request", "an anonymous TD must not carry an `id`; use PUT /things/{id}", field="id"
            )
        ttl = ttl_of(data, request)
        ids = [await run_in_threadpool(_register, store, item, ttl) for item in found]
        if not ids:
            raise Problem(400, "Bad Request", "the body describes no agent", field="body")
        return SafeJSONResponse({"ids": ids}, status_code=201, headers={"Location": f"/things/{ids[0]}"})

    @app.get(
        "/things/{thing_id:path}",
        summary="Retrieve a TD (enriched with registration info)",
        responses={200: document_response(TD_JSON, "object"), **problem_responses(400, 404)},
    )
    def get_thing(thing_id: str) -> Response:
        return SafeJSONResponse(enriched(store.get(thing_id)), media_type=TD_JSON)

    @app.patch(
        "/things/{thing_id:path}",
        status_code=204,
        summary="Merge-patch a TD; {} renews its TTL",
        openapi_extra={"requestBody": request_body("patch")},
        responses={**writes, **problem_responses(404)},
    )
    async def patch_thing(thing_id: str, request: Request) -> Response:
        authorize(request)
        patch = await read_json(request, types=(MERGE_PATCH,), limit=max_body_bytes)
        if not isinstance(patch, dict):
            raise Problem(400, "Bad Request", "a merge patch must be a JSON object", field="body")
        if "id" in patch and patch["id"] != thing_id:
            raise Problem(400, "Bad Request", "a patch cannot change the id", field="id")
        ttl = ttl_of(patch, request)  # `?ttl=` or `registration.ttl` (a number or its text), as PUT takes it
        current = await run_in_threadpool(store.get, thing_id)
        merged = merge_patch(current.td, patch)
        if isinstance(merged, dict):
            merged.pop("registration", None)
        if not is_thing_description(merged):
            raise Problem(400, "Bad Request", "after the patch the document is no longer a Thing Description")
        registrations(merged, thing_id=thing_id, source=f"PATCH /things/{thing_id}")  # validated exactly like PUT
        await run_in_threadpool(lambda: store.patch(thing_id, patch, ttl=ttl))
        return Response(status_code=204)

    @app.delete(
        "/things/{thing_id:path}",
        status_code=204,
        summary="Delete a TD",
        responses=problem_responses(400, 401, 404),
    )
    def delete_thing(thing_id: str, request: Request) -> Response:
        authorize(request)
        store.delete(thing_id)
        return Response(status_code=204)

    @app.get(
        "/things",
        summary="List TDs, paged (Link rel=next); ETag, 304 when unchanged",
        responses={200: document_response("application/ld+json", "array"), **problem_responses(400)},
    )
    def list_things(request: Request, offset: Offset = 0, limit: Limit = DEFAULT_PAGE, after: After = "") -> Response:
        limit = min(limit, MAX_PAGE)
        etag = etag_of(store.version(), "things", offset, limit, after)
        if not_modified(request, etag):
            return Response(status_code=304, headers={"ETag": etag})
        entries, total = store.list_page(offset=offset, limit=limit, after=after)
        headers = {"ETag": etag}
        if entries and offset + len(entries) < total:  # the next page starts after this one's last id, so
            # registrations that expire or go meanwhile do not shift it (an offset would skip live ones)
            headers["Link"] = f'</things?after={quote(entries[-1].id, safe="")}&limit={limit}>; rel="next"'
        return SafeJSONResponse([enriched(e) for e in entries], media_type="application/ld+json", headers=headers)

    @app.get(
        "/search",
        summary="Search by text, capability, tenant, channel, protocol, subset; with facets",
        responses={200: document_response("application/json", "object"), **problem_responses(400)},
    )
    def search(
        request: Request,
        q: str = "",
        capability: str = "",
        tenant: str = "",
        channel: str = "",
        protocol: str = "",
        subset: str = "",
        offset: Offset = 0,
        limit: Annotated[
            int, Param(ge=1, le=MAX_OFFSET, description=f"entries per page (at most {MAX_PAGE})")
        ] = SEARCH_PAGE,
        fields: str = "",
        facet_values: int = FACET_VALUES,
    ) -> Response:
        """Every non-empty parameter must match; `tenant` also matches agents that serve every tenant.
        Items are summaries with the `fields` asked for (default: all summary fields; `td`: whole TDs);
        facets keep the `facet_values` most frequent values per kind (`facetsTruncated` says how many
        each kind had when it had more)."""
        chosen = parse_fields(fields)
        facet_values = min(max(0, facet_values), MAX_PAGE)
        query = Query(
            text=q[:500],
            capability=capability,
            tenant=tenant,
            channel=channel,
            protocol=protocol,
            subset=subset,
            offset=offset,
            limit=min(limit, MAX_PAGE),
        )
        etag = etag_of(store.version(), "search", query, chosen, facet_values)
        if not_modified(request, etag):
            return Response(status_code=304, headers={"ETag": etag})
        result = store.search(query)
        facets, truncated = bounded_facets(result.facets, facet_values)
        body: dict[str, Any] = {
            "total": result.total,
            "offset": query.offset,
            "limit": query.limit,
            "fields": list(chosen),
            "facets": facets,
            "items": [summary(e, chosen) for e in result.entries],
        }
        if truncated:
            body["facetsTruncated"] = truncated
        if query.offset + query.limit < result.total:
            body["next"] = query.offset + query.limit
        return SafeJSONResponse(body, headers={"ETag": etag})

    @app.get("/healthz", summary="Readiness: 200 when the database answers, else 503 (500: it refuses the login)")
    def healthz() -> Response:
        started = time.perf_counter()
        store.check()
        return SafeJSONResponse(
            {"status": "ok", "database": store.location, "ms": round((time.perf_counter() - started) * 1000, 2)},
            headers={"Cache-Control": "no-store"},
        )

    @app.get("/healthz/live", summary="Liveness: 200 while the process serves (the database is not asked)")
    def live() -> Response:
        return SafeJSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})

    @app.get(
        "/events",
        summary="Server-sent events: thing_created, thing_updated, thing_deleted",
        responses={200: document_response("text/event-stream", "string"), **problem_responses(400, 404)},
    )
    @app.get("/events/{event_type}", include_in_schema=False)
    async def events(
        request: Request,
        event_type: str = "",
        diff: bool = False,
        last_event_id: Annotated[str | None, Header(description="replay events after this sequence number")] = None,
    ) -> StreamingResponse:
        if event_type and event_type not in EVENT_TYPES:
            raise Problem(
                404,
                "Not Found",
                f"no event type {event_type!r}; use one of {', '.join(EVENT_TYPES)}",
                field="event_type",
            )
        if last_event_id is not None and not _EVENT_ID.fullmatch(last_event_id.strip()):
            raise Problem(
                400,
                "Bad Request",
                f"Last-Event-ID {last_event_id[:40]!r} must be an event number (1 to 18 ASCII digits)",
                field="Last-Event-ID",
            )
        start = int(last_event_id) if last_event_id is not None else await run_in_threadpool(store.last_event)
        return StreamingResponse(
            _stream(request, store, start, event_type, diff=diff),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache"},
        )

    @app.get(
        "/.well-known/wot",
        summary="The directory's own Thing Description",
        responses={200: document_response(TD_JSON, "object")},
    )
    def well_known(request: Request) -> Response:
        return SafeJSONResponse(directory_td(str(request.base_url), secured=bool(token)), media_type=TD_JSON)

    return app


def _register(store: RegistryStore, found: Found, ttl: float | None) -> str:
    td, agent, original, fmt = found
    if "id" not in td:
        return store.add(td, ttl=ttl, agent=agent)
    store.put(str(td["id"]), td, ttl=ttl, original=original, original_format=fmt, agent=agent)
    return str(td["id"])


async def _stream(request: Request, store: RegistryStore, seq: int, only: str, *, diff: bool) -> AsyncIterator[str]:
    """Events after `seq`, read from the store's events table (so every replica carries every change and
    Last-Event-ID replays); woken by the store's push (LISTEN/NOTIFY) where it has one, else polling."""
    idle, since_read = 0.0, 0.0
    yield ": lmos-studio registry events\n\n"
    while not await request.is_disconnected():
        hint = store.event_hint()
        if hint is not None and hint <= seq and since_read < SSE_SAFETY_POLL_S:
            started = time.monotonic()  # sleep until a NOTIFY passes seq, the safety read or the heartbeat
            await store.wait_event(seq, min(SSE_SAFETY_POLL_S - since_read, SSE_HEARTBEAT_S - idle))
            waited = time.monotonic() - started
            idle += waited
            since_read += waited
        else:
            since_read = 0.0
            try:
                batch = await run_in_threadpool(store.events_since, seq)
            except RegistryError as exc:
                if exc.status_code is None or exc.status_code < 500:
                    raise
                batch = []  # the database is away or refuses us: keep the stream and its place
            for event in batch:
                seq = event.seq
                if only and event.type != only:
                    continue
                data: dict[str, Any] = {"id": event.thing_id}
                if diff and event.td is not None:
                    data = event.td
                yield f"event: {event.type}\nid: {event.seq}\ndata: {dumps_safe(data).decode()}\n\n"
            if batch:
                idle = 0.0
                continue
            if hint is None:
                await asyncio.sleep(SSE_POLL_S)
                idle += SSE_POLL_S
        if idle >= SSE_HEARTBEAT_S:
            idle = 0.0
            yield ": keep-alive\n\n"


def directory_td(base: str, *, secured: bool) -> dict[str, Any]:
    """The Thing Description of this directory (W3C WoT Discovery, `ThingDirectory`)."""
    security = {"bearer_sc": {"scheme": "bearer"}} if secured else {"nosec_sc": {"scheme": "nosec"}}
    json_form = {"contentType": TD_JSON}
    return {
        "@context": [TD_CONTEXT, DISCOVERY_CONTEXT],
        "@type": "ThingDirectory",
        "id": "urn:lmos-studio:thing-directory",
        "title": "LMOS Studio Thing Description Directory",
        "base": base,
        "securityDefinitions": security,
        "security": list(security),
        "properties": {
            "things": {
                "description": "Paged listing of TDs",
                "readOnly": True,
                "type": "array",
                "uriVariables": {"offset": {"type": "number"}, "limit": {"type": "number"}},
                "forms": [{"href": "things{?offset,limit}", "contentType": "application/ld+json"}],
            }
        },
        "actions": {
            "createThing": {"forms": [{"href": "things/{id}", "htv:methodName": "PUT", **json_form}]},
            "createAnonymousThing": {"forms": [{"href": "things", "htv:methodName": "POST", **json_form}]},
            "retrieveThing": {
                "safe": True,
                "idempotent": True,
                "forms": [{"href": "things/{id}", "htv:methodName": "GET", **json_form}],
            },
            "updateThing": {"forms": [{"href": "things/{id}", "htv:methodName": "PUT", **json_form}]},
            "partiallyUpdateThing": {
                "forms": [{"href": "things/{id}", "htv:methodName": "PATCH", "contentType": MERGE_PATCH}]
            },
            "deleteThing": {"forms": [{"href": "things/{id}", "htv:methodName": "DELETE"}]},
            "searchThings": {
                "safe": True,
                "idempotent": True,
                "forms": [
                    {
                        "href": "search{?q,capability,tenant,channel,protocol,subset,offset,limit,fields}",
                        "htv:methodName": "GET",
                        "contentType": "application/json",
                    }
                ],
            },
        },
        "events": {
            name: {
                "data": {"type": "object"},
                "forms": [{"href": f"events/{name}", "subprotocol": "sse", "contentType": "text/event-stream"}],
            }
            for name in EVENT_TYPES
        },
    }


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or `localhost`) only accepts connections from this machine."""
    import ipaddress

    if host.strip().lower() in ("localhost", "localhost.", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface


def serve(
    *,
    host: str,
    port: int,
    store: RegistryStore,
    token: str | None,
    announce: bool = False,
    max_body_bytes: int = MAX_BODY_BYTES,
    discover_interval_s: float | None = None,
) -> None:
    """Run the directory with uvicorn until interrupted; optionally announce it over mDNS and register the
    Things announced on the local network (each with a TTL, so it expires once it stops announcing)."""
    import contextlib
    import threading

    import uvicorn

    app = create_app(store, token=token, max_body_bytes=max_body_bytes)
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=2
    )  # SSE streams would otherwise hold shutdown open
    server = uvicorn.Server(config)
    stop = threading.Event()
    with contextlib.ExitStack() as stack:
        if announce:
            from lmos_studio.registry.mdns import announce_directory

            stack.enter_context(announce_directory(port=port, host=host))
        purger = threading.Thread(target=_purge_periodically, args=(store, stop), daemon=True, name="purge")
        purger.start()
        stack.callback(stop.set)
        if discover_interval_s:
            from lmos_studio.registry.mdns import register_discovered

            worker = threading.Thread(
                target=register_discovered,
                args=(store,),
                daemon=True,
                name="mdns",
                kwargs={"interval_s": discover_interval_s, "stop": stop},
            )
            worker.start()
        server.run()


def _purge_periodically(store: RegistryStore, stop: Any) -> None:
    """Delete expired registrations even when nobody writes, so `thing_deleted` events go out on time."""
    while not stop.wait(PURGE_INTERVAL_S):
        try:
            store.purge()
        except LmosStudioError:
            continue  # a busy or vanished database: the next round tries again
