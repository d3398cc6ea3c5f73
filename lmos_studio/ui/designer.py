"""Widget groups of the Designer page: file bar, filters, selection, findings, group and trust-edge editors.

Every edit goes through a pure function of `lmos_studio.trust` and `state.edit` (one undo step). Editor
widget keys include the design digest, so after an edit, undo or reload they show the design's values.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from lmos_studio.config import get_settings
from lmos_studio.errors import LmosStudioError
from lmos_studio.formats.design_file import design_from_upload
from lmos_studio.graph import GraphFilter, Highlight, highlight_agent, highlight_objects
from lmos_studio.lint import Finding
from lmos_studio.markdown import code
from lmos_studio.markdown import escape as md
from lmos_studio.model import Design, TrustEdge
from lmos_studio.renames import rename_agent, rename_channel
from lmos_studio.trust import (
    add_agents,
    add_members,
    add_trust_edge,
    capability_options,
    create_group,
    dissolve_group,
    protocol_options,
    remove_agent,
    remove_members,
    remove_trust_edge,
    rename_group,
    replace_trust_edge,
    set_agent_reach,
    trust_edge,
)
from lmos_studio.ui import canvas, frame, resources, state, widgets

ALL = ""  # the "no filter" / "nothing selected" option
EDGE = canvas.EDGE  # the selected trust edge key (the canvas sets it on a click)
GROUP = canvas.GROUP_KEY  # the group chosen in the group editor
NEW_GROUP = "+ new group"  # plain text: an emoji shows as a box without an emoji font
PENDING = "pending_"
FINDINGS_SHOWN = 500  # lint rows sent at most; above this a search field finds the others
FINDINGS_SEARCH = "designer_findings_search"
CHECK_AMBIGUITY = "designer_check_ambiguity"  # asked once: the routing ambiguity check runs from then on
OVERWRITE = "designer_save_as_overwrite"  # Save as may replace an existing file
LIST_PAIRS = "designer_list_trust_pairs"  # asked once: trust-pair findings are listed from then on
CREATED = "designer_group_created"  # a group was just created: its form starts empty on the next run
EDGE_ADDED = "designer_te_added"  # a trust edge was just added: the new-edge form starts afresh on the next run
NEW_EDGE_TAG = state.NEW_EDGE_TAG  # the new-edge form's keys: without the design's digest, so another edit keeps
# what is typed (another design drops them: state.NEW_EDGE_FIELDS)


def _apply(change: Design | None) -> None:
    if change is not None:
        state.edit(change)
        st.rerun()


def _try(fn: Callable[..., Design], *args: Any, **kwargs: Any) -> Design | None:
    """Run an edit; our errors become a red box instead of a traceback."""
    try:
        return fn(*args, **kwargs)
    except LmosStudioError as exc:
        widgets.show_error(exc)
        return None


def _select_next(key: str, value: str) -> None:
    """Select `value` in the select box `key` on the next run (a widget's value cannot change after it is drawn)."""
    st.session_state[PENDING + key] = value


def _take_pending(key: str) -> None:
    if PENDING + key in st.session_state:
        st.session_state[key] = st.session_state.pop(PENDING + key)


def file_bar() -> None:
    """Undo, redo, save, save as, reload, and whether there are unsaved changes."""
    hist = state.history()
    cols = st.columns([1, 1, 1, 1, 3, 2])
    if cols[0].button("Undo", key="designer_undo", disabled=not hist.can_undo, icon=":material/undo:"):
        hist.undo()
        st.rerun()
    if cols[1].button("Redo", key="designer_redo", disabled=not hist.can_redo, icon=":material/redo:"):
        hist.redo()
        st.rerun()
    if cols[2].button(
        "Save",
        key="designer_save",
        disabled=hist.saved_path is None,
        icon=":material/save:",
        help=None if hist.saved_path else "A sample is never overwritten: use Save as",
    ):
        _save(hist.saved_path or "")
    if cols[3].button(
        "Reload",
        key="designer_reload",
        icon=":material/refresh:",
        disabled=not (hist.saved_path or Path(hist.origin).exists()),
    ):
        # as the sidebar opens a design: with unsaved changes it asks first (Reload drops them and the undo history)
        where = hist.saved_path or hist.origin
        frame.request_open(frame.OpenRequest(label=where, origin=hist.origin, path=where))
    for warning in st.session_state.pop(state.SAVE_WARNINGS, None) or ():
        st.warning(widgets.plain(warning), icon=":material/key_off:")  # names fields of a description: escaped
    for note in st.session_state.pop(state.SAVE_NOTES, None) or ():  # a folder: where new resources went
        st.info(widgets.plain(note), icon=":material/note_add:")
    target = cols[4].text_input(
        "Save as", key=state.SAVE_AS, placeholder="path/to/design.yaml", label_visibility="collapsed"
    )
    # never disabled: a text input reports its value only on Enter or blur, so a button disabled while it is
    # empty stayed grey as the path was typed and lost the click that blurred it
    if cols[5].button("Save as", key="designer_save_as_button"):
        if target.strip():
            _save(target.strip(), overwrite=bool(st.session_state.get(OVERWRITE)))
        else:
            st.error("Type the path of a .yaml file to save to first.", icon=":material/error:")
    cols[4].checkbox("Overwrite", key=OVERWRITE, help="Let Save as replace a file that exists")
    where = f" · {md(hist.saved_path)}" if hist.saved_path else " · save as a .yaml file to keep it"
    st.caption(":orange[● unsaved changes]" if hist.dirty else ":green[● saved]" + where)


def _save(path: str, *, overwrite: bool = False) -> None:
    try:
        state.save(path, overwrite=overwrite)
    except LmosStudioError as exc:
        widgets.show_error(exc)
        return
    st.rerun()


def filters(design: Design) -> GraphFilter:
    """Tenant, channel label, subset and group/channel select boxes."""
    options = resources.designer_choices(design).filters
    cols = st.columns(4)
    labels = {"tenant": "Tenant", "channel": "Channel label", "subset": "Subset", "group": "Group or channel"}
    values = [
        widgets.search_select(
            label,
            options[name],
            pinned=[ALL],
            key=key,
            format_func=lambda v: v or "(all)",
            container=col,
        )
        for col, (name, label), key in zip(cols, labels.items(), state.DESIGNER_FILTERS, strict=True)
    ]
    return GraphFilter(tenant=values[0] or "", channel=values[1] or "", subset=values[2] or "", group=values[3] or "")


def selection(design: Design, finding: Finding | None) -> Highlight:
    """Select an agent or a trust edge; the selection (or a chosen finding) is highlighted on the graph (the
    design's full graph is built then, not before)."""
    choices = resources.designer_choices(design)
    agents = choices.agent_keys
    _take_pending(state.SELECTED_AGENT)  # an agent just renamed stays selected under its new key
    chosen = st.session_state.get(state.SELECTED_AGENT)
    if chosen and chosen not in resources.ref_index(design).by_key:  # another page may select by name
        named = resources.ref_index(design).agents_named(chosen)
        st.session_state[state.SELECTED_AGENT] = named[0].key if named else ALL
    agent = widgets.search_select(
        "Agent",
        agents,
        pinned=[ALL],
        key=state.SELECTED_AGENT,
        format_func=lambda v: v or "(none)",
        on_change=_end_highlight,
    )
    edges = choices.edge_keys
    _take_pending(EDGE)
    if st.session_state.get(EDGE) not in (ALL, None) and st.session_state.get(EDGE) not in choices.edge_key_set:
        st.session_state[EDGE] = ALL
    edge = widgets.search_select(
        "Trust edge", edges, pinned=[ALL], key=EDGE, format_func=lambda v: v or "(none)", on_change=_end_highlight
    )
    _follow_select_boxes(agent, edge)
    extra = st.session_state.get(state.HIGHLIGHT) or []
    if finding is None and not edge and not agent and not extra:
        return Highlight()
    graph, _ = resources.design_graph(design)
    if finding is not None:
        return highlight_objects(graph, finding.objects, note=f"{finding.code}")
    if edge:
        return highlight_objects(graph, [f"trust:{edge}"], note=f"trust {edge}")
    if agent:
        return highlight_agent(graph, agent)
    return highlight_objects(graph, extra, note="from another page")


def _end_highlight() -> None:
    """A selection the user changed (a select box, a finding) is a selection of its own: it ends the Playground's
    highlight, as a click on the canvas does (`canvas.select`); '(none)' then highlights nothing."""
    st.session_state.pop(state.HIGHLIGHT, None)


def _follow_select_boxes(agent: str, edge: str) -> None:
    """The canvas selects what the select boxes chose (a click on the canvas sets the boxes the other way)."""
    current = st.session_state.get(canvas.SELECTION) or {}
    node = str(current.get("id") or "")
    if agent and node != f"agent:{agent}":
        st.session_state[canvas.SELECTION] = {"id": f"agent:{agent}", "kind": "node"}
    elif edge and not node.endswith(f"|trust:{edge}"):
        st.session_state[canvas.SELECTION] = {"id": "", "kind": ""}  # the edge is highlighted instead
    elif not agent and not edge and node.startswith("agent:"):
        st.session_state[canvas.SELECTION] = {"id": "", "kind": ""}


def _check_ambiguity() -> None:
    st.session_state[CHECK_AMBIGUITY] = True


def _list_pairs() -> None:
    st.session_state[LIST_PAIRS] = True


def _lint_level(design: Design) -> str:
    """How much of lint to show: all of it once it costs little or was asked for; on a large design first
    everything but the routing ambiguity check and the trust-pair findings (counted, listed on request)."""
    if resources.lint_complete_at_hand(design) or st.session_state.get(CHECK_AMBIGUITY):
        return resources.FULL
    if resources.trust_pairs_at_hand(design) or st.session_state.get(LIST_PAIRS):
        return resources.BASE
    return resources.LEAN


def findings(design: Design) -> Finding | None:
    """Lint findings as a table; the selected row's objects are highlighted on the graph."""
    level = _lint_level(design)
    slow = level == resources.FULL and not resources.lint_complete_at_hand(design)
    with st.spinner("Checking routing ambiguity…") if slow else contextlib.nullcontext():
        found = resources.designer_findings(design, level=level)
    pairs = resources.lint_findings_lean(design)[1] if level == resources.LEAN else {}
    counted = sum(pairs.values())  # trust-pair findings counted, not listed
    errors = resources.lint_error_count(design, level)
    st.markdown(f"**Lint** · {errors} errors · {len(found) - errors + counted} warnings/info")
    if counted:
        note, ask = st.columns([3, 1], vertical_alignment="center")
        note.caption(
            " and ".join(f"{n} {code}" for code, n in pairs.items() if n)
            + " warnings are counted but not listed yet: listing them looks at every pair of agents the "
            f"{len(design.trust_edges)} trust edges allow (seconds at {len(design.agents)} agents)."
        )
        ask.button("List trust-pair findings", key=f"{LIST_PAIRS}_button", on_click=_list_pairs)
    if level != resources.FULL:
        note, ask = st.columns([3, 1], vertical_alignment="center")
        note.caption(
            f"Routing ambiguity not checked yet: with {len(design.agents)} agents it embeds every capability "
            "text (seconds). The other findings are "
            + ("complete." if not counted else "complete: listed below, the trust-pair ones counted above.")
        )
        ask.button("Check routing ambiguity", key=f"{CHECK_AMBIGUITY}_button", on_click=_check_ambiguity)
    if not found:
        if counted:
            st.info("No other findings.")
        else:
            st.success("No findings.")
        return None
    query = ""
    if len(found) > FINDINGS_SHOWN:
        query = st.text_input(
            "Search findings",
            key=FINDINGS_SEARCH,
            placeholder="code, agent, channel, capability…",
            help=f"The table lists at most {FINDINGS_SHOWN} findings (errors first); type to find others.",
        )
    shown, matched, rows_table = resources.finding_view(design, query, FINDINGS_SHOWN, level)
    if len(shown) < len(found):
        st.caption(f"{len(shown)} of {matched} matching findings shown ({len(found)} in all); search to narrow.")
    tag = hashlib.sha256(query.strip().lower().encode()).hexdigest()[:8]
    event = st.dataframe(
        rows_table,
        hide_index=True,
        width="stretch",
        height=260,
        on_select=_end_highlight,  # then reruns, as "rerun" does
        selection_mode="single-row",
        key=f"designer_findings_{design.digest()}_{tag}_{level}",
        column_order=("severity", "code", "message", "fix", "objects"),
    )
    rows = event.selection.rows if event is not None else []
    return found[shown[rows[0]]] if rows and rows[0] < len(shown) else None


def graph_notes(design: Design, highlight: Highlight) -> None:
    """What the canvas shows that needs words: the highlight, and trust edges it cannot draw."""
    if highlight.note:
        st.caption(f"Highlighted: {md(highlight.note)}")
    dangling = resources.dangling_edges(design)
    if dangling:
        st.warning(
            f"{len(dangling)} trust edge(s) name an agent, group or channel that is not in the design and are "
            f"not drawn ({', '.join(md(e.key) for e in dangling[:3])}{' …' if len(dangling) > 3 else ''}); see the "
            "unknown-trust-target findings below for the fix.",
            icon=":material/link_off:",
        )


def selection_details(design: Design) -> None:
    """The selected agent, channel, group or collapsed cluster: what it is, and Delete."""
    selected = st.session_state.get(canvas.SELECTION) or {}
    node = str(selected.get("id") or "") if selected.get("kind") == "node" else ""
    agent_key = st.session_state.get(state.SELECTED_AGENT) or ""
    what, _, rest = node.partition(":")
    if agent_key:
        agent = next((a for a in design.agents if a.key == agent_key), None)
        if agent is None:
            return
        st.markdown(f"**Agent** {code(agent.key)} · subset {md(agent.subset)}")  # registry text: never markup
        if agent.description:
            st.caption(md(agent.description))
        st.dataframe(  # through resources.table: a bidi override in registry text shows as its escape
            resources.table(
                [{"capability": c.name, "version": c.version, "description": c.description} for c in agent.capabilities]
            ),
            hide_index=True,
            width="stretch",
        )
        _agent_reach(design, agent.key, agent.supported_channels, agent.supported_tenants)
        _rename(design, "agent", agent.key, agent.name)
        if st.button("Delete agent", key="designer_delete_agent", icon=":material/delete:"):
            _apply(_try(remove_agent, design, agent.key))
    elif what == "channel":
        channel = next((c for c in design.channels if c.key == rest), None)
        if channel is not None:
            st.markdown(
                f"**Channel** {code(channel.key)} · tenant {md(channel.tenant or '-')} · channel "
                f"{md(channel.channel or '-')} · subset {md(channel.subset)}"
            )
            st.caption("The Playground routes in this channel first.")
            _rename(design, "channel", channel.key, channel.name)
    elif what == "group":
        group = design.group(rest)
        if group is not None:
            st.markdown(f"**Group** {code(group.name)} · {len(group.members)} members (edit in the Groups tab)")
    elif what == "aggregate":
        st.markdown(f"**Collapsed** {code(rest)}: double-click it on the canvas to show its agents.")


def _rename(design: Design, what: str, key: str, name: str) -> None:
    """Rename the selected agent or Channel; what names it (trust edges, groups, routing tests, rollouts,
    out-of-scope messages, its canvas position) follows (`renames.rename_agent`, `renames.rename_channel`)."""
    tag = f"{design.digest()[:12]}_{key}"
    cols = st.columns([3, 1], vertical_alignment="bottom")
    new = cols[0].text_input(f"Rename {what}", value=name, key=f"designer_rename_{what}_{tag}").strip()
    if cols[1].button("Rename", key=f"designer_rename_{what}"):
        if new == name:
            st.info(f"Type the {what}'s new name first.")
            return
        changed = _try(rename_agent if what == "agent" else rename_channel, design, key, new)
        if changed is not None and what == "agent":
            _select_next(state.SELECTED_AGENT, f"{key.split('/', 1)[0]}/{new}")
        elif changed is not None:
            st.session_state[canvas.SELECTION] = {"id": f"channel:{key.split('/', 1)[0]}/{new}", "kind": "node"}
        _apply(changed)


def _agent_reach(design: Design, key: str, channels: tuple[str, ...], tenants: tuple[str, ...]) -> None:
    """Set the agent's supported channels and tenants (what an A2A card cannot say; the import warns so)."""
    tag = f"{design.digest()[:12]}_{key}"
    cols = st.columns(2)
    new_channels = cols[0].text_input(
        "Supported channels (comma-separated)", value=", ".join(channels), key=f"designer_agent_channels_{tag}"
    )
    new_tenants = cols[1].text_input(
        "Supported tenants (comma-separated; empty = every tenant)",
        value=", ".join(tenants),
        key=f"designer_agent_tenants_{tag}",
    )
    if st.button("Apply channels and tenants", key="designer_agent_reach_apply"):
        _apply(_try(set_agent_reach, design, key, channels=new_channels.split(","), tenants=new_tenants.split(",")))


def group_editor(design: Design) -> None:
    """Create, rename, change members of, or dissolve a custom group (a Channel's members are computed, not edited)."""
    tag = design.digest()[:12]
    names = [g.name for g in design.groups]
    choices = resources.designer_choices(design)
    agents = choices.agent_names
    _take_pending(GROUP)
    if st.session_state.get(GROUP) not in (None, NEW_GROUP, *names):
        st.session_state[GROUP] = NEW_GROUP
    choice = widgets.search_select("Group", names, pinned=[NEW_GROUP], key=GROUP)
    if choice == NEW_GROUP:
        # keyed without the design's digest: another edit (a node dragged, an edge added) keeps what is typed
        # here; only a created group empties the form
        if st.session_state.pop(CREATED, False):
            st.session_state.pop(state.NEW_GROUP_NAME, None)
            st.session_state.pop(state.NEW_GROUP_MEMBERS, None)
        name = st.text_input("Name", key=state.NEW_GROUP_NAME, placeholder="billing-domain")
        members = widgets.search_multiselect("Members", agents, key=state.NEW_GROUP_MEMBERS)
        # never disabled: a text input only reports its value on Enter or blur, so a disabled button would
        # stay grey while the user types; an empty name is an error message instead
        if st.button("Create group", key="designer_group_create"):
            if not name.strip():
                st.error("Type a name for the group first (lowercase letters, digits and '-').")
            else:
                created = _try(create_group, design, name.strip(), members=members)
                st.session_state[CREATED] = created is not None
                _apply(created)
        return
    group = design.group(choice)
    if group is None:
        return
    new_name = st.text_input("Name", value=group.name, key=f"designer_group_rename_{tag}_{choice}")
    # members the agent list lacks (named ns/name, or agents not in the design) are listed too: left out, Apply
    # would drop them unasked
    others = [m for m in group.members if m not in choices.agent_name_set]
    members = widgets.search_multiselect(
        "Members",
        [*agents, *others],
        default=list(group.members),
        key=f"designer_group_edit_members_{tag}_{choice}",
    )
    cols = st.columns(3)
    if cols[0].button("Apply", key="designer_group_apply"):
        changed = _try(remove_members, design, choice, [m for m in group.members if m not in members])
        changed = changed and _try(add_members, changed, choice, [m for m in members if m not in group.members])
        if changed is not None and new_name != choice:
            changed = _try(rename_group, changed, choice, new_name)
            if changed is not None:
                _select_next(GROUP, new_name)
        _apply(changed)
    if cols[1].button("Dissolve", key="designer_group_dissolve", help="Removes the group and its trust edges"):
        _select_next(GROUP, NEW_GROUP)
        _apply(_try(dissolve_group, design, choice))


def trust_editor(design: Design) -> None:
    """Add, edit or remove the selected trust edge; capability and protocol choices follow the callee."""
    key = st.session_state.get(EDGE) or ""
    current = trust_edge(design, key) if key else None
    # an edge's form shows the design's values after an edit, undo or reload; the new edge's keeps what is typed
    tag = f"{design.digest()[:12]}_{key}" if current is not None else NEW_EDGE_TAG
    if st.session_state.pop(EDGE_ADDED, False):
        state.drop_new_edge_form()
    choices = resources.designer_choices(design)
    refs, ref_set = choices.refs, choices.ref_set
    if current is not None:  # refs the boxes do not list (ns/name, or naming nothing) are offered too: left
        # out, the boxes would fall back to another agent and Update would point the edge's trust at it
        refs = (*refs, *dict.fromkeys(r for r in (current.caller, current.callee) if r not in ref_set))
        ref_set = frozenset(refs)
    if not refs:  # an empty design: no caller or callee to offer (the editor would ask for callee None)
        st.info("Trust edges connect agents, groups and channels: this design has no agents yet; add some first.")
        return
    st.caption(f"Editing {md(key)}" if current else "New trust edge (select an edge above to edit it)")
    cols = st.columns(2)
    caller = widgets.search_select(
        "Caller",
        refs,
        key=f"designer_te_caller_{tag}",
        default=current.caller if current and current.caller in ref_set else (refs[0] if refs else None),
        container=cols[0],
    )
    callee_default = next((r for r in refs if r != caller), refs[0] if refs else None)  # never the caller itself
    callee = widgets.search_select(
        "Callee",
        refs,
        key=f"designer_te_callee_{tag}",
        default=current.callee if current and current.callee in ref_set else callee_default,
        container=cols[1],
    )
    caps = capability_options(design, callee, index=resources.ref_index(design))
    chosen = st.multiselect(
        "Capabilities (none = all)",
        caps,
        key=f"designer_te_caps_{tag}_{callee}",
        default=[c for c in (current.capabilities if current else ()) if c in caps],
    )
    protocols = ["", *protocol_options(design, callee, index=resources.ref_index(design))]
    protocol = st.selectbox(
        "Protocol",
        protocols,
        key=f"designer_te_protocol_{tag}_{callee}",
        index=protocols.index(current.protocol)
        if current and current.protocol in protocols
        else min(1, len(protocols) - 1),
        format_func=lambda v: v or "(unspecified)",
    )
    note = st.text_input("Description", value=current.description if current else "", key=f"designer_te_desc_{tag}")
    edge = TrustEdge(caller=caller, callee=callee, capabilities=tuple(chosen), protocol=protocol, description=note)
    buttons = st.columns(3)
    if current is None and buttons[0].button("Add edge", key="designer_te_add"):
        added = _try(add_trust_edge, design, edge)
        st.session_state[EDGE_ADDED] = added is not None
        _select_edge_then_apply(edge.key, added)
    if current is not None and buttons[0].button("Update edge", key="designer_te_update"):
        _select_edge_then_apply(edge.key, _try(replace_trust_edge, design, key, edge))
    if current is not None and buttons[1].button("Remove edge", key="designer_te_remove"):
        _select_edge_then_apply(ALL, _try(remove_trust_edge, design, key))


def _select_edge_then_apply(key: str, change: Design | None) -> None:
    if change is not None:
        _select_next(EDGE, key)
    _apply(change)


def add_agents_from_file(design: Design) -> None:
    """Add the agents of an LMOS YAML file (Agent resources, optionally with a StudioDesign document)."""
    upload = st.file_uploader(
        "Agents file (LMOS YAML)",
        type=["yaml", "yml"],
        key="designer_agents_upload",
        max_upload_size=widgets.upload_limit_mb(),
    )
    if upload is None or not st.button("Add agents", key="designer_agents_add"):
        return
    try:
        loaded = design_from_upload(upload.name, upload.getvalue(), max_bytes=get_settings().max_upload_bytes).design
    except LmosStudioError as exc:
        widgets.show_error(exc)
        return
    if not loaded.agents:
        st.warning(f"{md(upload.name)} has no Agent resources.")
        return
    _apply(add_agents(design, loaded.agents))
