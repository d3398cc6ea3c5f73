"""`lmos-studio edit …`: the Designer's edits from a shell (trust edges, groups, an agent's reach, adding and
removing agents and channels) and the Playground's out-of-scope list, each through the library function the
page calls (`lmos_studio.trust`, `lmos_studio.out_of_scope`).

The design is read from one file or folder and saved back into it (`design_folder.save_design_at`: a file keeps
its comments and key order, a folder gets each resource back into its file), or written to `--out`. An edit the
design refuses (an unknown agent, a duplicate edge, a group name Kubernetes cannot take) is exit 2 with the
reason, and nothing is written; so is a file (of the folder) changed on disk between reading and writing (another
editor, a second `edit` running at once), as the Designer's Save refuses it: the other edit is never lost.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lmos_studio.commands._shell import (
    check_design_out,
    check_out_of_folders,
    digests_before_reading,
    fail,
    load,
    save_read_design,
    say,
    tell,
)
from lmos_studio.visible import SHOWN_CHARS, cut

if TYPE_CHECKING:
    from lmos_studio.model import Agent, Design

DesignPath = Annotated[
    Path, typer.Argument(help="The design: one file or folder, saved back into it unless --out is given.")
]
OutOpt = Annotated[
    Path | None, typer.Option("--out", help="Write the edited design here (a .yaml file or a design folder).")
]
CapabilityOpt = Annotated[
    list[str] | None,
    typer.Option("--capability", "-c", help="A capability of the callee (repeatable; none: every capability)."),
]


def _edit(
    path: Path, out: Path | None, change: str | Callable[[Design], str], edit: Callable[[Design], Design]
) -> None:
    """Read the design at `path`, apply `edit`, save it (to `out` or back into `path`), say what changed
    (`change`, or what it says of the design before the edit)."""
    if not path.exists():
        fail(f"{path}: no such file or folder")
    if out is not None:
        check_out_of_folders(out, [path])
        check_design_out(out, [path])
    target = out or path
    expected = digests_before_reading(target, [path])
    design = load([path]).design
    change = change if isinstance(change, str) else change(design)
    edited = edit(design)  # EditError → exit 2 (cli.main), nothing written
    if edited == design:
        tell(f"the design is unchanged ({change}); nothing written")
        return
    saved = save_read_design(edited, target, expected)
    for warning in saved.masked + saved.warnings:
        say("warning", warning)
    for note in saved.notes:
        say("note", note)
    tell(f"{change}; wrote {saved.path}")


def _agent_key(design: Design, ref: str) -> str:
    """An agent named `ns/name`, or by its name alone when one agent of the design has it."""
    from lmos_studio.errors import EditError

    if "/" in ref:
        if not any(a.key == ref for a in design.agents):
            raise EditError(f"no agent {ref}")
        return ref
    keys = [a.key for a in design.agents if a.name == ref]
    if len(keys) != 1:
        raise EditError(
            f"no agent named {cut(ref, SHOWN_CHARS)!r}"
            if not keys
            else f"{len(keys)} agents are named {ref!r}: name one of {keys}"
        )
    return keys[0]


def _channel_key(design: Design, ref: str) -> str:
    from lmos_studio.errors import EditError

    keys = [c.key for c in design.channels if ref in (c.key, c.name)]
    if len(keys) != 1:
        raise EditError(
            f"no channel {cut(ref, SHOWN_CHARS)!r}"
            if not keys
            else f"{len(keys)} channels are named {ref!r}: name one of {keys}"
        )
    return keys[0]


def add_trust(
    path: DesignPath,
    caller: Annotated[str, typer.Option(help="Who calls: an agent, group:NAME or channel:NAME.")],
    callee: Annotated[str, typer.Option(help="Who is called: an agent, group:NAME or channel:NAME.")],
    capability: CapabilityOpt = None,
    protocol: Annotated[str, typer.Option(help="The protocol the call uses (e.g. http); empty: the callee's.")] = "",
    description: Annotated[str, typer.Option(help="Why this edge exists.")] = "",
    out: OutOpt = None,
) -> None:
    """Add a trust edge: CALLER may call CALLEE (for the given capabilities), as the Designer's Draw trust edge."""
    from lmos_studio.model import TrustEdge
    from lmos_studio.trust import add_trust_edge

    edge = TrustEdge(
        caller=caller, callee=callee, capabilities=tuple(capability or ()), protocol=protocol, description=description
    )
    _edit(path, out, f"added trust edge {edge.key}", lambda d: add_trust_edge(d, edge))


def remove_trust(
    path: DesignPath,
    caller: Annotated[str, typer.Option(help="The edge's caller, as written in the design.")],
    callee: Annotated[str, typer.Option(help="The edge's callee, as written in the design.")],
    capability: CapabilityOpt = None,
    out: OutOpt = None,
) -> None:
    """Remove the trust edge CALLER → CALLEE with exactly these capabilities (none: the unscoped edge)."""
    from lmos_studio.model import TrustEdge
    from lmos_studio.trust import remove_trust_edge

    key = TrustEdge(caller=caller, callee=callee, capabilities=tuple(capability or ())).key
    _edit(path, out, f"removed trust edge {key}", lambda d: remove_trust_edge(d, key))


def add_group(
    path: DesignPath,
    name: Annotated[str, typer.Argument(help="The new group's name (an RFC 1123 label).")],
    member: Annotated[list[str] | None, typer.Option("--member", "-m", help="An agent (repeatable).")] = None,
    description: Annotated[str, typer.Option(help="What the group is for.")] = "",
    out: OutOpt = None,
) -> None:
    """Create a custom group of agents."""
    from lmos_studio.trust import create_group

    _edit(
        path,
        out,
        f"created group {name}",
        lambda d: create_group(d, name, members=member or (), description=description),
    )


def add_members(
    path: DesignPath,
    group: Annotated[str, typer.Argument(help="The group.")],
    member: Annotated[list[str], typer.Option("--member", "-m", help="An agent (repeatable).")],
    out: OutOpt = None,
) -> None:
    """Add agents to a group."""
    from lmos_studio.trust import add_members as add

    _edit(path, out, f"added {', '.join(member)} to group {group}", lambda d: add(d, group, member))


def remove_members(
    path: DesignPath,
    group: Annotated[str, typer.Argument(help="The group.")],
    member: Annotated[list[str], typer.Option("--member", "-m", help="An agent (repeatable).")],
    out: OutOpt = None,
) -> None:
    """Take agents out of a group."""
    from lmos_studio.trust import remove_members as remove

    _edit(path, out, f"removed {', '.join(member)} from group {group}", lambda d: remove(d, group, member))


def rename_group(
    path: DesignPath,
    old: Annotated[str, typer.Argument(help="The group's name.")],
    new: Annotated[str, typer.Argument(help="Its new name; trust edges naming group:OLD follow.")],
    out: OutOpt = None,
) -> None:
    """Rename a group; every trust edge that names it follows."""
    from lmos_studio.trust import rename_group as rename

    _edit(path, out, f"renamed group {old} to {new}", lambda d: rename(d, old, new))


def rename_agent(
    path: DesignPath,
    agent: Annotated[str, typer.Argument(help="The agent: its name, or namespace/name.")],
    new: Annotated[str, typer.Argument(help="Its new name; trust edges, groups and routing tests naming it follow.")],
    out: OutOpt = None,
) -> None:
    """Rename an agent; the trust edges, group memberships and routing tests that name it follow."""
    from lmos_studio.renames import rename_agent as rename

    _edit(path, out, f"renamed agent {agent} to {new}", lambda d: rename(d, _agent_key(d, agent), new))


def rename_channel(
    path: DesignPath,
    channel: Annotated[str, typer.Argument(help="The Channel: its name, or namespace/name.")],
    new: Annotated[
        str, typer.Argument(help="Its new name; trust edges, routing tests, rollouts and out-of-scope messages follow.")
    ],
    out: OutOpt = None,
) -> None:
    """Rename a Channel; the trust edges, routing tests, ChannelRollouts and out-of-scope messages naming it
    follow."""
    from lmos_studio.renames import rename_channel as rename

    _edit(path, out, f"renamed channel {channel} to {new}", lambda d: rename(d, _channel_key(d, channel), new))


def dissolve_group(
    path: DesignPath,
    group: Annotated[str, typer.Argument(help="The group.")],
    out: OutOpt = None,
) -> None:
    """Dissolve a group (its agents stay; trust edges that name the group go)."""
    from lmos_studio.trust import dissolve_group as dissolve

    _edit(path, out, f"dissolved group {group}", lambda d: dissolve(d, group))


def reach(
    path: DesignPath,
    agent: Annotated[str, typer.Argument(help="The agent: its name, or namespace/name.")],
    channel: Annotated[list[str] | None, typer.Option("--channel", help="A supported channel (repeatable).")] = None,
    tenant: Annotated[
        list[str] | None, typer.Option("--tenant", help="A supported tenant (repeatable; none: every tenant).")
    ] = None,
    out: OutOpt = None,
) -> None:
    """Set the channels and tenants an agent supports (what an A2A card or an AgentRoutingSpec cannot say)."""
    from lmos_studio.trust import set_agent_reach

    def edit(design: Design) -> Design:
        return set_agent_reach(design, _agent_key(design, agent), channels=channel or (), tenants=tenant or ())

    _edit(path, out, f"set the reach of {agent}", edit)


def add_agents(
    path: DesignPath,
    descriptions: Annotated[
        list[Path], typer.Argument(help="Agent descriptions of any supported format (as `import` reads them).")
    ],
    out: OutOpt = None,
) -> None:
    """Add the agents of descriptions to the design (one with the same namespace/name is replaced)."""
    from lmos_studio.formats.detect import read_description_file
    from lmos_studio.trust import add_agents as add

    agents = [agent for description in descriptions for agent in read_description_file(description)]
    if not agents:
        fail(f"{', '.join(map(str, descriptions))}: describes no agent; nothing to add")

    def said(design: Design) -> str:  # one of the same namespace/name is replaced: say so
        known = {a.key: a for a in design.agents}

        def verb(agent: Agent) -> str:
            if agent.key not in known:
                return "added"
            return "kept (as described)" if known[agent.key] == agent else "replaced"

        return ", ".join(f"{verb(a)} {a.key}" for a in agents)

    _edit(path, out, said, lambda d: add(d, agents))


def remove_agent(
    path: DesignPath,
    agent: Annotated[str, typer.Argument(help="The agent: its name, or namespace/name.")],
    out: OutOpt = None,
) -> None:
    """Remove an agent with its group memberships and the trust edges that name it."""
    from lmos_studio.trust import remove_agent as remove

    _edit(path, out, f"removed agent {agent}", lambda d: remove(d, _agent_key(d, agent)))


def remove_channel(
    path: DesignPath,
    channel: Annotated[str, typer.Argument(help="The channel: its name, or namespace/name.")],
    out: OutOpt = None,
) -> None:
    """Remove a Channel and the trust edges that name it."""
    from lmos_studio.trust import remove_channel as remove

    _edit(path, out, f"removed channel {channel}", lambda d: remove(d, _channel_key(d, channel)))


OutOfScopeChannelOpt = Annotated[
    str, typer.Option("--channel", help="The Channel (name or namespace/name); empty: every channel.")
]


def add_out_of_scope(
    path: DesignPath,
    text: Annotated[list[str] | None, typer.Argument(help="Messages the channel must not answer.")] = None,
    channel: OutOfScopeChannelOpt = "",
    from_csv: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="A labelled CSV: list its out-of-scope rows (empty agent cell), each for its row's channel "
            "(else --channel).",
        ),
    ] = None,
    missed_by: Annotated[
        str | None,
        typer.Option(
            "--missed-by",
            help="With --from: list only the out-of-scope rows this router (auto, statistical, embedding, …) "
            "answers with an agent, as the Evaluate page offers them.",
        ),
    ] = None,
    out: OutOpt = None,
) -> None:
    """List messages a channel must not answer (spec.routing.outOfScope), as the Playground's 'Not for this
    channel'. Each is then answered with no agent, and so are messages nearer to it than to anything the
    channel handles; listing never lets through a message rejected before."""
    from lmos_studio.out_of_scope import add_rows

    if missed_by is not None and from_csv is None:
        fail("--missed-by needs --from CSV: the rows to route")
    rows = [(t, channel) for t in text or ()]
    if from_csv is not None:
        from lmos_studio.routing.labelled import read_labelled_csv

        outside = [q for q in read_labelled_csv(from_csv) if not q.agent]
        if missed_by is None:
            rows += [(q.text, q.channel or channel) for q in outside]
        elif outside:
            rows += _missed(path, outside, missed_by, channel, str(from_csv))
            if not rows:
                tell(f"{missed_by} answers none of the {len(outside)} out-of-scope rows with an agent; nothing to list")
                return
    if not rows:
        fail("give the messages to list, or --from a labelled CSV with out-of-scope rows (empty agent cell)")

    def edit(design: Design) -> Design:
        return add_rows(design, rows)

    def said(design: Design) -> str:  # how many are new (one already listed there stays once)
        added = len(edit(design).routing.out_of_scope) - len(design.routing.out_of_scope)
        where = f" for {channel}" if channel and not from_csv else ""
        known = f", {len(rows) - added} already listed" if added < len(rows) else ""
        return f"listed {added} out-of-scope message{'' if added == 1 else 's'}{where}{known}"

    _edit(path, out, said, edit)


def _missed(path: Path, rows: list[Any], router: str, channel: str, source: str) -> list[tuple[str, str]]:
    """The out-of-scope `rows` that `router` answers with an agent in the design at `path`, each with the
    channel key it was routed in (the Evaluate page's 'List these as out of scope')."""
    from lmos_studio.routing.evaluate import evaluate, missed_out_of_scope
    from lmos_studio.routing.select import kept_fits

    design = load([path]).design
    return missed_out_of_scope(evaluate(design, rows, router=kept_fits(router, design), channel=channel, source=source))


def remove_out_of_scope(
    path: DesignPath,
    text: Annotated[list[str], typer.Argument(help="Listed messages to remove.")],
    channel: Annotated[
        str | None,
        typer.Option("--channel", help="Only where listed for this Channel ('' = for every channel); default: all."),
    ] = None,
    out: OutOpt = None,
) -> None:
    """Remove messages from the design's out-of-scope list."""
    from lmos_studio.out_of_scope import remove_out_of_scope as remove

    said = f"removed {len(text)} out-of-scope message{'' if len(text) == 1 else 's'}"
    _edit(path, out, said, lambda d: remove(d, text, channel=channel))


def register(app: typer.Typer) -> None:
    """Add `edit` and its commands to the CLI."""
    edit = typer.Typer(
        no_args_is_help=True,
        help="Edit a design as the Designer does (trust edges, groups, reach, agents, channels, out-of-scope "
        "messages) and save it back.",
    )
    app.add_typer(edit, name="edit")
    for name, command in (
        ("add-trust", add_trust),
        ("remove-trust", remove_trust),
        ("add-group", add_group),
        ("add-members", add_members),
        ("remove-members", remove_members),
        ("rename-group", rename_group),
        ("dissolve-group", dissolve_group),
        ("reach", reach),
        ("add-agents", add_agents),
        ("remove-agent", remove_agent),
        ("rename-agent", rename_agent),
        ("rename-channel", rename_channel),
        ("remove-channel", remove_channel),
        ("add-out-of-scope", add_out_of_scope),
        ("remove-out-of-scope", remove_out_of_scope),
    ):
        edit.command(name)(command)
