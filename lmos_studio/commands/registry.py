"""`lmos-studio registry serve|register|search|remove`, `lmos-studio announce` and `lmos-studio discover`.

Without `--url` the commands work on the embedded registry (LMOS_STUDIO_REGISTRY_DB); with `--url` on a
registry server. `search` also reads the sources the Registry page does: an LMOS operator API (`--operator`),
a cluster's LMOS `Agent` resources (`--kubernetes`) and the local network (`--local-network`), through
`registry/sources.py` as the page. Exit codes: 0 ok, 2 bad input or an unreachable registry.

`register` sends a description as the user wrote it (their own document, to the registry they chose: not an
export; a masked endpoint would be useless to the registry's readers); what it prints (the ids) shows a URL's
credentials as ***, as every error message does.
"""

from __future__ import annotations

import contextlib
import json
import math
import signal
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lmos_studio.commands._shell import render_table, say
from lmos_studio.config import get_settings
from lmos_studio.errors import LmosStudioError
from lmos_studio.model import Agent
from lmos_studio.registry.store import MAX_TTL_S, Entry, Query, RegistryStore
from lmos_studio.registry.stores import open_store
from lmos_studio.visible import visible

if TYPE_CHECKING:
    from lmos_studio.registry.sources import Found, SourceSpec

UrlOpt = Annotated[str | None, typer.Option("--url", help="A registry server (default: the embedded one).")]
TokenOpt = Annotated[
    str | None, typer.Option("--token", help="Bearer token for writes to --url (default: LMOS_STUDIO_REGISTRY_TOKEN).")
]
ReadTokenOpt = Annotated[
    str | None,
    typer.Option("--token", help="Bearer token to read --url with (default: LMOS_STUDIO_REGISTRY_TOKEN)."),
]
OutputOpt = Annotated[str, typer.Option("--output", "-o", help="json or table.")]


def descriptions(path: Path) -> list[Agent]:
    """Every agent a description file holds (any format; size-limited; errors name file and field)."""
    from lmos_studio.formats.description import duplicate_warnings
    from lmos_studio.formats.detect import read_description_file

    agents = read_description_file(path)
    for warning in duplicate_warnings(agents):  # registering both would replace the first without a word
        say("warning", warning)
    return list({agent.key: agent for agent in agents}.values())  # the later one, in the earlier's place


def wire_document(agent: Agent) -> dict[str, Any]:
    """What to send a registry server for an agent: its original A2A card / capabilities document / spec
    (the server keeps it), else its TD."""
    from lmos_studio.registry.things import agent_to_thing

    if agent.original_format not in ("", "td") and isinstance(agent.original, dict) and agent.original:
        return dict(agent.original)
    return agent_to_thing(agent)


def _token(token: str | None) -> str | None:
    if token:
        return token
    secret = get_settings().registry_token
    return secret.get_secret_value() if secret else None


def _store(db: str | None = None) -> RegistryStore:
    """The store `--db` (or LMOS_STUDIO_REGISTRY_DB) names; an unreachable or malformed database URL is a
    `RegistryError` of one line naming host and port (never the password): exit 2."""
    return open_store(db or get_settings().registry_target)


def _echo_ids(ids: list[str]) -> None:
    """Print registered Thing ids, each with a URL's credentials masked (an id may be a URL the description
    gave: `https://user:pass@…` or `…?token=…`), and say so when one was: the registry keeps the id as sent."""
    from lmos_studio.redact import redact_text

    shown = [visible(redact_text(thing_id)) for thing_id in ids]  # a server's answer: one line each
    typer.echo("\n".join(shown))  # one line per id (an empty line when a server returned none, as before)
    for thing_id, masked in zip(ids, shown, strict=True):
        if masked != visible(thing_id):
            typer.echo(
                f"warning: the id {masked} holds a credential, printed as ***; the registry keeps it as your "
                "description wrote it (`registry remove` needs it so); keep credentials out of ids",
                err=True,
            )


def _masked_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Search rows with a URL's credentials masked in each id, source and registry (table and JSON alike: JSON
    output lands in CI logs too), warning on stderr for each id masked: `registry remove` needs the id as the
    description wrote it, which the registry keeps."""
    from lmos_studio.redact import redact_text

    shown = []
    for row in rows:
        clean = {**row, **{k: redact_text(row[k]) for k in ("id", "source", "registry") if isinstance(row.get(k), str)}}
        if clean["id"] != row["id"]:
            typer.echo(
                f"warning: the id {visible(clean['id'])} holds a credential, printed as ***; the registry keeps it "
                "as the description wrote it (`registry remove` needs it so); keep credentials out of ids",
                err=True,
            )
        shown.append(clean)
    return shown


def _fail(message: str) -> None:
    """Exit 2 with the message on stderr, on one line (a registry's words in it shown escaped: `visible`)."""
    say("error", message)
    raise typer.Exit(2)


def entry_row(agent: Agent, *, expires: float | None = None, thing_id: str = "") -> dict[str, Any]:
    return {
        "id": thing_id,
        "name": agent.name,
        "namespace": agent.namespace,
        "capabilities": [f"{c.name}@{c.version}" for c in agent.capabilities],
        "tenants": list(agent.supported_tenants),
        "channels": list(agent.supported_channels),
        "protocols": list(agent.protocols),
        "subset": agent.subset,
        "source": agent.source,
        "expires": expires,
    }


def _table(rows: list[dict[str, Any]]) -> str:
    """The rows as a text table; a REGISTRY column when they came from remote sources (`registry` in a row)."""
    remote = any("registry" in r for r in rows)
    return render_table(
        ["NAME", "CAPABILITIES", "TENANTS", "CHANNELS", "ID", *(["REGISTRY"] if remote else [])],
        [
            [
                r["name"],
                ", ".join(r["capabilities"]),
                ", ".join(r["tenants"]) or "(any)",
                ", ".join(r["channels"]),
                r["id"],
                *([r.get("registry", "")] if remote else []),
            ]
            for r in rows
        ],
    )


def _remote_sources(
    url: str | None,
    operator: str | None,
    operator_tenants: str,
    kubernetes: bool,
    kubeconfig: Path | None,
    context: str,
    namespace: str,
    in_cluster: bool,
    local_network: bool,
    token: str | None = None,
) -> list[SourceSpec]:
    """The remote registries `registry search` was given (none: the embedded registry); a Kubernetes or operator
    option without its source, or an operator without tenants, exits 2 saying what to add."""
    from lmos_studio.registry.sources import IN_CLUSTER, SourceSpec

    if not kubernetes and (kubeconfig is not None or context or namespace or in_cluster):
        _fail("--kubeconfig, --context, --namespace and --in-cluster go with --kubernetes; add it")
    if operator_tenants and not operator:
        _fail("--operator-tenants goes with --operator URL; add it")
    tenants = tuple(t.strip() for t in operator_tenants.split(",") if t.strip())
    if operator and not tenants:
        _fail("--operator reads agents per tenant: give --operator-tenants, e.g. --operator-tenants acme")
    if in_cluster and kubeconfig is not None:
        _fail("--in-cluster uses the pod's service account: leave out --kubeconfig, or --in-cluster")
    specs = [SourceSpec("tdd", url, token=_token(token) or "")] if url else []
    if operator:
        specs.append(SourceSpec("operator", operator, tenants=tenants))
    if kubernetes:
        target = IN_CLUSTER if in_cluster else str(kubeconfig or "")
        specs.append(SourceSpec("kubernetes", target, context=context, namespace=namespace))
    if local_network:
        specs.append(SourceSpec("mdns"))
    return specs


def _found_rows(found: list[Found]) -> list[dict[str, Any]]:
    """Search rows of matches from remote sources, each naming its registry."""
    return [{**entry_row(f.agent, expires=f.expires, thing_id=f.thing_id), "registry": f.source} for f in found]


def _rows(entries: list[Entry]) -> list[dict[str, Any]]:
    return [entry_row(e.agent, expires=e.registration.expires, thing_id=e.id) for e in entries]


def _stop_on_sigterm() -> None:
    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def register(app: typer.Typer) -> None:
    """Add the registry commands to the CLI."""
    registry = typer.Typer(no_args_is_help=True, help="The agent registry: serve, register, search, remove.")
    app.add_typer(registry, name="registry")

    @registry.command("serve")
    def serve(
        host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port.")] = 8090,
        db: Annotated[
            str | None,
            typer.Option(
                help="SQLite file, or postgresql://user@host:port/database for several replicas "
                "(default: LMOS_STUDIO_REGISTRY_DB)."
            ),
        ] = None,
        announce: Annotated[bool, typer.Option(help="Announce it over mDNS (_directory._sub._wot._tcp).")] = False,
        discover: Annotated[
            float,
            typer.Option(
                "--discover",
                help="Every S seconds, register the Things announced on the local network (TTL 3×S); 0 = off.",
            ),
        ] = 0.0,
        allow_anonymous_writes: Annotated[
            bool,
            typer.Option(
                "--allow-anonymous-writes",
                help="Serve a non-loopback --host without LMOS_STUDIO_REGISTRY_TOKEN (anyone reachable may write).",
            ),
        ] = False,
    ) -> None:
        """Run the W3C WoT Thing Description Directory API over the registry until Ctrl-C.

        On an address other than loopback, writes need a token (LMOS_STUDIO_REGISTRY_TOKEN) unless
        --allow-anonymous-writes is given: an exposed directory is not writable by anyone by default."""
        from lmos_studio.registry.server import is_loopback
        from lmos_studio.registry.server import serve as run

        settings = get_settings()
        if not is_loopback(host) and _token(None) is None and not allow_anonymous_writes:
            _fail(
                f"--host {host} is reachable from other machines and no write token is set; set "
                "LMOS_STUDIO_REGISTRY_TOKEN (clients send it as a bearer token) or pass --allow-anonymous-writes"
            )
        if not 1 <= port <= 65535:  # bind() raised OverflowError: a traceback, exit 1
            _fail(f"--port is {port}; give a port from 1 to 65535")
        try:  # uvicorn only logs a busy port and exits 1; say it plainly and exit 2 instead
            with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind((host, port))
        except OSError as exc:
            _fail(f"cannot listen on {host}:{port} ({exc.strerror}); pick another --port or --host")
        store = _store(db)
        typer.echo(f"registry on http://{host}:{port} (database {store.location})", err=True)
        _stop_on_sigterm()
        with contextlib.suppress(KeyboardInterrupt):
            run(
                host=host,
                port=port,
                store=store,
                token=_token(None),
                announce=announce,
                max_body_bytes=settings.registry_max_body_kb * 1024,
                discover_interval_s=discover or None,
            )

    @registry.command("register")
    def register_cmd(
        file: Annotated[
            Path, typer.Argument(help="A description: TD, Agent CR, A2A card, capabilities.json or routing spec.")
        ],
        url: UrlOpt = None,
        token: TokenOpt = None,
        ttl: Annotated[float | None, typer.Option(help="Seconds until it expires.")] = None,
    ) -> None:
        """Register every agent a file describes, optionally with a time-to-live."""
        if ttl is not None and not 0 < ttl <= MAX_TTL_S:  # also refuses nan (stored as NULL: never expires)
            _fail(f"--ttl {ttl!r} must be a number of seconds above 0 and at most {MAX_TTL_S} (ten years)")
        agents = descriptions(file)
        if url:
            from lmos_studio.registry.clients import TddClient

            with TddClient(url, token=_token(token)) as client:
                for agent in agents:
                    _echo_ids(client.register(wire_document(agent), ttl=ttl))
            return
        store = _store()
        for agent in agents:
            _echo_ids([store.put_agent(agent, ttl=ttl, source=str(file))])

    @registry.command("search")
    def search(
        url: UrlOpt = None,
        token: ReadTokenOpt = None,
        capability: Annotated[str, typer.Option(help="Exact capability name.")] = "",
        tenant: Annotated[str, typer.Option(help="Tenant (agents without tenants serve all).")] = "",
        channel: Annotated[str, typer.Option(help="Channel name.")] = "",
        protocol: Annotated[str, typer.Option(help="Protocol (http, https, ws, wss, …).")] = "",
        subset: Annotated[str, typer.Option(help="Subset label (stable, canary, …).")] = "",
        text: Annotated[str, typer.Option(help="Free text (names, descriptions, examples).")] = "",
        limit: Annotated[int, typer.Option(help="At most this many results.")] = 50,
        output: OutputOpt = "table",
        operator: Annotated[
            str | None, typer.Option("--operator", help="An LMOS operator API base URL to read agents from.")
        ] = None,
        operator_tenants: Annotated[
            str, typer.Option(help="--operator: the tenants whose channels to read, comma-separated.")
        ] = "",
        kubernetes: Annotated[
            bool, typer.Option("--kubernetes", help="Read the LMOS Agent resources of a Kubernetes cluster.")
        ] = False,
        kubeconfig: Annotated[
            Path | None,
            typer.Option(help="--kubernetes: kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)."),
        ] = None,
        context: Annotated[str, typer.Option(help="--kubernetes: kubeconfig context (default: its current).")] = "",
        namespace: Annotated[str, typer.Option(help="--kubernetes: namespace (default: the context's).")] = "",
        in_cluster: Annotated[
            bool, typer.Option("--in-cluster", help="--kubernetes: the pod's service account, not a kubeconfig.")
        ] = False,
        local_network: Annotated[
            bool, typer.Option("--local-network", help="Agents and directories announced by mDNS/DNS-SD.")
        ] = False,
    ) -> None:
        """Search a registry: the embedded one, or the remote sources given (a directory server --url, an
        LMOS operator --operator, a cluster --kubernetes, the --local-network; several at once are searched
        together, each row naming its registry). Exit 2 when none of them can be read."""
        if limit < 1:
            _fail(f"--limit {limit} must be at least 1")
        query = Query(
            text=text,
            capability=capability,
            tenant=tenant,
            channel=channel,
            protocol=protocol,
            subset=subset,
            limit=limit,
        )
        specs = _remote_sources(
            url,
            operator,
            operator_tenants,
            kubernetes,
            kubeconfig,
            context,
            namespace,
            in_cluster,
            local_network,
            token=token,
        )
        if output not in ("json", "table"):
            _fail(f"--output {output!r} is not supported here; use json or table")
        from lmos_studio.registry.sources import SearchOutcome, expired_note, search_sources, unread_rows

        if specs:
            outcome = search_sources(specs, query)
            if outcome.errors and not outcome.answered:  # a source that answered with no matches answered
                _fail("; ".join(outcome.errors))
            for error in outcome.errors:
                say("warning", error)  # a registry's words: one line, no controls
            if outcome.expired:
                say("note", expired_note(outcome))
            rows = _found_rows(outcome.found)[:limit]
        else:
            outcome = SearchOutcome()
            rows = _rows(_store().search(query, facets=False).entries)
        rows = _masked_rows(rows)
        if (
            output == "json"
        ):  # with the rows: the registrations left out as expired, the warnings, every channel not read
            more = {"expired": _masked_rows(_found_rows(outcome.expired)), "problems": outcome.errors}
            typer.echo(
                json.dumps({"agents": rows, **more, "unread": unread_rows(outcome)}, indent=2, ensure_ascii=False)
            )
        else:
            typer.echo(_table(rows))

    @registry.command("remove")
    def remove(
        thing_id: Annotated[str, typer.Argument(metavar="ID", help="The TD id.")],
        url: UrlOpt = None,
        token: TokenOpt = None,
    ) -> None:
        """Remove a registration."""
        if url:
            from lmos_studio.registry.clients import TddClient

            with TddClient(url, token=_token(token)) as client:
                client.delete(thing_id)
        else:
            _store().delete(thing_id)
        from lmos_studio.redact import redact_text

        typer.echo(f"removed {visible(redact_text(thing_id))}")

    @app.command("announce")
    def announce(
        file: Annotated[Path, typer.Argument(help="The agent's description (any format).")],
        port: Annotated[int, typer.Option(help="Port of the TD server (0 = any free port).")] = 0,
        host: Annotated[str, typer.Option(help="Address to serve and announce.")] = "127.0.0.1",
        duration: Annotated[float, typer.Option(help="Stop after this many seconds (0 = Ctrl-C).")] = 0.0,
    ) -> None:
        """Serve an agent's TD and announce it over mDNS as `_wot._tcp` until stopped."""
        from lmos_studio.registry.mdns import announce as run
        from lmos_studio.registry.things import agent_to_thing

        if not 0 <= port <= 65535:  # bind() raised OverflowError: a traceback, exit 1
            _fail(f"--port is {port}; give a port from 0 to 65535")
        if not (duration >= 0 and math.isfinite(duration)):  # -1 ran until killed
            _fail(f"--duration is {duration}; give seconds above 0, or 0 for Ctrl-C")
        agents = descriptions(file)
        if len(agents) != 1:
            _fail(f"{file} describes {len(agents)} agents; announce one at a time")
        _stop_on_sigterm()
        with run(agent_to_thing(agents[0]), port=port, host=host) as announcement:
            say("announced", f"{announcement.service} → {announcement.url}")  # the service: the agent's name
            typer.echo(announcement.url)
            try:
                deadline = time.monotonic() + duration if duration > 0 else float("inf")
                while time.monotonic() < deadline:
                    time.sleep(0.2)
            except KeyboardInterrupt:
                pass

    @app.command("discover")
    def discover(
        timeout: Annotated[float, typer.Option("--timeout", help="Seconds to browse.")] = 3.0,
        output: OutputOpt = "table",
    ) -> None:
        """Browse the local network (mDNS) for WoT Things and Directories and fetch their TDs."""
        from lmos_studio.registry.mdns import discover as browse

        if output not in ("json", "table"):
            _fail(f"--output {output!r} is not supported here; use json or table")
        if not (timeout > 0 and math.isfinite(timeout)):  # -1 or nan browsed nothing and said so with exit 0
            _fail(f"--timeout is {timeout}; give seconds above 0")
        try:
            found = browse(timeout)
        except LmosStudioError as exc:
            _fail(str(exc))
        rows = [
            {
                "service": d.service,
                "kind": d.kind,
                "url": d.url,
                "title": str((d.td or {}).get("title", "")),
                "error": d.error,
                "agent": entry_row(d.agent) if d.agent else None,
            }
            for d in found
        ]
        if output == "json":
            typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        else:
            cells = [[r["kind"], r["title"], r["url"], r["service"], r["error"]] for r in rows]
            typer.echo(render_table(["KIND", "TITLE", "URL", "SERVICE", "ERROR"], cells))
