"""`lmos-studio import` and `lmos-studio convert`: agent descriptions of any supported format in, LMOS
`Agent` resources (or another description format) out.

Warnings go to stderr: what a description did not give that an LMOS Agent needs (capabilities, channels,
tenants; `--channel`/`--tenant` fill in the last two), defaulted and non-SemVer versions. `--strict` makes
any warning exit 1 (the output is still printed); bad input exits 2 with the file, line and field (the CLI's
`main` prints our errors).

The `Agent` resources printed are strictly valid; what else the agent had rides in two annotations that Studio
reads back: fields the CRD does not declare (resource-fields) and the description it came from (original).
Credentials in either, and in what `convert` writes in any format, are printed as `***`, with a warning
(export/printed.py, which the Registry page's preview uses too).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from lmos_studio.commands._shell import EXIT_PROBLEMS, fail, say
from lmos_studio.export.printed import Printed, agent_resources, described
from lmos_studio.formats import detect, yamlio
from lmos_studio.formats.description import duplicate_warnings, warnings_of
from lmos_studio.model import Agent
from lmos_studio.names import dns1123_label_problem, label_value_problem, suggest_name

_TO_FORMATS = detect.FORMATS
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="Input format: " + ", ".join(detect.READ_FORMATS) + ".")]
NamespaceOpt = Annotated[str | None, typer.Option("--namespace", "-n", help="Put the agents in this namespace.")]
ChannelOpt = Annotated[
    list[str] | None,
    typer.Option("--channel", help="Supported channel for agents whose description names none (repeatable)."),
]
TenantOpt = Annotated[
    list[str] | None,
    typer.Option("--tenant", help="Supported tenant for agents whose description names none (repeatable)."),
]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Exit 1 when there is any warning.")]


def _read(
    files: list[Path], fmt: str, namespace: str | None, *, channels: tuple[str, ...] = (), tenants: tuple[str, ...] = ()
) -> tuple[list[Agent], int]:
    """The agents and the number of warnings printed about them; a `namespace` the API server would refuse is
    bad input (exit 2), not a warning: it is the caller's own option, not the description's."""
    if namespace is not None and (problem := dns1123_label_problem(namespace)):
        fail(f"--namespace {namespace!r} {problem} (an RFC 1123 label); e.g. {suggest_name(namespace)!r}")
    for option, values in (("--channel", channels), ("--tenant", tenants)):
        for value in values:  # `--channel ""` wrote supportedChannels: [''], which no Channel can match
            if not value.strip():
                fail(f"{option} {value!r} is empty; give a name")
            if problem := label_value_problem(value):  # matched against a Channel's label: none could hold it
                fail(f"{option} {value!r} {problem}; e.g. {suggest_name(value)!r}")
    agents: list[Agent] = []
    warned = 0
    for file in files:
        for agent in detect.read_description_file(file, fmt=fmt):
            update: dict[str, object] = {"namespace": namespace} if namespace else {}
            if channels and not agent.supported_channels:
                update["supported_channels"] = channels
            if tenants and not agent.supported_tenants:
                update["supported_tenants"] = tenants
            agent = agent.model_copy(update=update)
            for warning in warnings_of(agent):
                say("warning", warning)
                warned += 1
            agents.append(agent)
    for warning in duplicate_warnings(agents):
        say("warning", warning)
        warned += 1
    return agents, warned


def _warn(printed: Printed) -> int:
    """Echo the warnings about printed documents (credentials masked); returns how many."""
    for warning in printed.warnings:
        say("warning", warning)
    return len(printed.warnings)


def _strict_exit(strict: bool, warned: int) -> None:
    if strict and warned:
        typer.echo(f"error: {warned} warning(s) and --strict", err=True)
        raise typer.Exit(EXIT_PROBLEMS)


def _print(docs: list[Any], output: str, *, single: bool) -> None:
    if output == "json":
        typer.echo(json.dumps(docs[0] if single and len(docs) == 1 else docs, indent=2, ensure_ascii=False))
    elif output == "yaml":
        typer.echo(yamlio.dump_documents(docs), nl=False)
    else:
        say("error", f"--output {output!r} is not supported here; use yaml or json")
        raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    """Add `import` and `convert` to the CLI."""

    @app.command("import")
    def import_descriptions(
        files: Annotated[list[Path], typer.Argument(help="Description files (JSON or YAML).")],
        output: Annotated[str, typer.Option("--output", "-o", help="yaml (multi-document) or json (a list).")] = "yaml",
        fmt: FormatOpt = "auto",
        namespace: NamespaceOpt = None,
        channel: ChannelOpt = None,
        tenant: TenantOpt = None,
        strict: StrictOpt = False,
    ) -> None:
        """Print the LMOS Agent resources that descriptions of any supported format become.

        Formats: LMOS Agent resources, LMOS WoT Thing Descriptions, A2A Agent Cards (v0.3, v1.0), the
        operator's capabilities.json, lmos-router AgentRoutingSpec lists, classifier capability documents.
        The resources are strictly valid (only fields the CRD declares); anything else the description had (an
        A2A skill's title and tags, …) rides in the annotation studio.lmos.eclipse/resource-fields, the
        description itself in studio.lmos.eclipse/original; both come back when Studio reads the resource.
        Credentials in a description are printed as *** (with a warning). Warns (stderr) about what a
        description lacks: capabilities, channels, tenants. Exit 1 with --strict and any warning; 2 naming
        file, line and field on bad input.
        """
        agents, warned = _read(files, fmt, namespace, channels=tuple(channel or ()), tenants=tuple(tenant or ()))
        printed = agent_resources(agents)
        masked = _warn(printed)
        _print(printed.documents, output, single=False)
        _strict_exit(strict, warned + masked)

    @app.command("convert")
    def convert(
        file: Annotated[Path, typer.Argument(help="A description file (JSON or YAML).")],
        to: Annotated[str, typer.Option("--to", "-t", help="Target: " + ", ".join(_TO_FORMATS) + ".")],
        output: Annotated[str, typer.Option("--output", "-o", help="json or yaml.")] = "json",
        fmt: FormatOpt = "auto",
        namespace: NamespaceOpt = None,
        channel: ChannelOpt = None,
        tenant: TenantOpt = None,
        strict: StrictOpt = False,
    ) -> None:
        """Write a description in another format (e.g. an A2A card as an LMOS Thing Description).

        routing-spec gives one list and classifier one document for all agents; other formats give one
        document per agent (a JSON list, or YAML documents, when the file describes several); agent gives the
        strictly valid resource `import` prints.
        """
        if to not in _TO_FORMATS:
            say("error", f"--to {to!r} is not a format; use one of {', '.join(_TO_FORMATS)}")
            raise typer.Exit(2)
        agents, warned = _read([file], fmt, namespace, channels=tuple(channel or ()), tenants=tuple(tenant or ()))
        printed = described(agents, to)  # `agent`: the resource `import` prints, the rest in its annotations
        warned += _warn(printed)
        _print(printed.documents, output, single=True)
        _strict_exit(strict, warned)
