"""`lmos-studio registry serve|register|search|remove`, `lmos-studio announce` and `lmos-studio discover`.

Without `--url` the commands work on the embedded registry (LMOS_STUDIO_REGISTRY_DB); with `--url` on a
registry server. Exit codes: 0 ok, 2 bad input or an unreachable registry.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from lmos_studio.commands._shell import render_table
from lmos_studio.config import get_settings
from lmos_studio.errors import LmosStudioError
from lmos_studio.model import Agent
from lmos_studio.registry.store import Entry, Query, RegistryStore
from lmos_studio.registry.stores import open_store

UrlOpt = Annotated[str | None, typer.Option("--url", help="A registry server (default: the embedded one).")]
TokenOpt = Annotated[
    str | None, typer.Option("--token", help="Bearer token for writes to --url (default: LMOS_STUDIO_REGISTRY_TOKEN).")
]
OutputOpt = Annotated[str, typer.Option("--output", "-o", help="json or table.")]


def descriptions(path: Path) -> list[Agent]:
    """Every agent a description file holds (any format; size-limited; errors name file and field)."""
    from lmos_studio.formats.detect import read_description_file

    return read_description_file(path)


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


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
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
    return render_table(
        ["NAME", "CAPABILITIES", "TENANTS", "CHANNELS", "ID"],
        [
            [
                r["name"],
                ", ".join(r["capabilities"]),
                ", ".join(r["tenants"]) or "(any)",
                ", ".join(r["channels"]),
                r["id"],
            ]
            for r in rows
        ],
    )


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
    ) -> None:
        """Run the W3C WoT Thing Description Directory API over the registry until Ctrl-C."""
        from lmos_studio.registry.server import serve as run

        settings = get_settings()
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
        if ttl is not None and ttl <= 0:
            _fail("--ttl must be a positive number of seconds")
        agents = descriptions(file)
        if url:
            from lmos_studio.registry.clients import TddClient

            with TddClient(url, token=_token(token)) as client:
                for agent in agents:
                    typer.echo("\n".join(client.register(wire_document(agent), ttl=ttl)))
            return
        store = _store()
        for agent in agents:
            typer.echo(store.put_agent(agent, ttl=ttl, source=str(file)))

    @registry.command("search")
    def search(
        url: UrlOpt = None,
        capability: Annotated[str, typer.Option(help="Exact capability name.")] = "",
        tenant: Annotated[str, typer.Option(help="Tenant (agents without tenants serve all).")] = "",
        channel: Annotated[str, typer.Option(help="Channel name.")] = "",
        protocol: Annotated[str, typer.Option(help="Protocol (http, https, ws, wss, …).")] = "",
        subset: Annotated[str, typer.Option(help="Subset label (stable, canary, …).")] = "",
        text: Annotated[str, typer.Option(help="Free text (names, descriptions, examples).")] = "",
        limit: Annotated[int, typer.Option(help="At most this many results.")] = 50,
        output: OutputOpt = "table",
    ) -> None:
        """Search a registry; exit 2 when it cannot be reached."""
        query = Query(
            text=text,
            capability=capability,
            tenant=tenant,
            channel=channel,
            protocol=protocol,
            subset=subset,
            limit=limit,
        )
        if url:
            from lmos_studio.registry.clients import TddClient

            with TddClient(url) as client:
                result = client.search(query)
            if result.errors and not result.agents:
                _fail("; ".join(result.errors))
            for error in result.errors:
                typer.echo(f"warning: {error}", err=True)
            rows = [entry_row(a, thing_id=a.id) for a in result.agents]
        else:
            rows = _rows(_store().search(query, facets=False).entries)
        if output == "json":
            typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        elif output == "table":
            typer.echo(_table(rows))
        else:
            _fail(f"--output {output!r} is not supported here; use json or table")

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
        typer.echo(f"removed {thing_id}")

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

        agents = descriptions(file)
        if len(agents) != 1:
            _fail(f"{file} describes {len(agents)} agents; announce one at a time")
        _stop_on_sigterm()
        with run(agent_to_thing(agents[0]), port=port, host=host) as announcement:
            typer.echo(f"announced {announcement.service} → {announcement.url}", err=True)
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
