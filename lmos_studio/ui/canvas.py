"""The Designer's canvas: a bidirectional Streamlit component (Custom Components v2, no build step) drawing
the design with vis-network — the copy pyvis ships, served by the local Streamlit server as a static asset of the
component (fetched once per page load, cached by the browser): it works offline.

Clicks select (the side panel follows), a drag from node to node in "Draw trust edge" mode adds a trust
edge, Delete removes the selection, dragged positions go into the design's `layout` (one undo step each),
double-click expands a collapsed cluster. Events arrive as trigger values and are handled in callbacks,
before the script reruns, so the page draws the edited design at once.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

import streamlit as st
from streamlit.errors import StreamlitAPIException

from lmos_studio.errors import EditError, LmosStudioError
from lmos_studio.graph import (
    AGENT,
    AGGREGATE_PREFIX,
    CHANNEL,
    GROUP,
    TRUST,
    GraphFilter,
    Highlight,
    Position,
    trust_ref,
    with_positions,
)
from lmos_studio.markdown import escape as md
from lmos_studio.model import Design, TrustEdge
from lmos_studio.trust import (
    add_trust_edge,
    dissolve_group,
    protocol_options,
    remove_agent,
    remove_channel,
    remove_trust_edge,
)
from lmos_studio.ui import resources, state

HERE = Path(__file__).parent
KEY = "designer_canvas"
SELECTION = "designer_selection"  # {"id": node or edge id, "kind": "node" | "edge"} chosen on the canvas
EXPANDED = "designer_expanded"  # cluster ids the user opened on a collapsed (large) graph
MESSAGE = "designer_canvas_message"  # what the last canvas action did or why it was refused
EDGE = "designer_edge"  # the trust-edge select box of the side panel (designer.EDGE)
GROUP_KEY = "designer_group"  # the group editor's select box (designer.GROUP)
EVENTS = ("select", "connect", "delete", "moved", "expand", "collapse", "undo", "redo")
HEIGHT_PX = 640
COMPONENT = "lmos_studio.canvas"  # package.component: its JS is a file under the component's asset folder
INLINE_COMPONENT = "lmos_studio_canvas"  # the fallback with the JS inline
ASSET_DIR = "canvas"


@cache
def _module() -> str:
    """The component's JS module: vis-network (pyvis's copy) followed by canvas.js."""
    from lmos_studio.view import VIS_DIR

    vis = (VIS_DIR / "vis-network.min.js").read_text(encoding="utf-8")
    return vis + "\n" + (HERE / "canvas.js").read_text(encoding="utf-8")


@cache
def _asset_name() -> str:
    return f"canvas-{hashlib.sha256(_module().encode('utf-8')).hexdigest()[:16]}.js"


def _asset() -> tuple[Path, str] | None:
    """The module as a static asset, `<data dir>/assets/canvas/canvas-<sha>.js` (the name changes with the
    content, so a browser may keep it), written when missing: (package root, file name), or None when it cannot
    be written."""
    from lmos_studio.config import get_settings
    from lmos_studio.formats.yamlio import write_atomic

    root, name = get_settings().data_dir / "assets", _asset_name()
    path = root / ASSET_DIR / name
    try:
        if not path.is_file():
            write_atomic(path, _module())
    except OSError:
        return None
    return root, name


def _served_asset() -> str | None:
    """Declare the asset folder on the running server's component manager (once per runtime) and return the JS
    file name to mount the component with; None: send the module inline (no runtime, or an older Streamlit)."""
    asset = _asset()
    if asset is None:
        return None
    root, name = asset
    try:
        from streamlit.components.v2.get_bidi_component_manager import get_bidi_component_manager
        from streamlit.components.v2.manifest_scanner import ComponentConfig, ComponentManifest

        manager = get_bidi_component_manager()
        if manager.get_component_asset_root(COMPONENT) is None:
            package, _, short = COMPONENT.partition(".")
            manifest = ComponentManifest(
                name=package, version="1", components=[ComponentConfig(name=short, asset_dir=ASSET_DIR)]
            )
            manager.register_from_manifest(manifest, root)
    except (ImportError, AttributeError, TypeError, ValueError, StreamlitAPIException):
        return None
    return name


_RENDERERS: dict[str, Any] = {}


def _renderer() -> Any:
    """The component, its JS served as a static file (fetched once per page load and cached by the browser,
    offline: the local server serves it) instead of 470 KB inline on every rerun."""
    served = _served_asset()
    html = (HERE / "canvas.html").read_text(encoding="utf-8")
    css = (HERE / "canvas.css").read_text(encoding="utf-8")
    if served is not None and served not in _RENDERERS:
        try:
            _RENDERERS[served] = st.components.v2.component(COMPONENT, html=html, css=css, js=served)
        except StreamlitAPIException:  # no runtime serves the folder (bare mode, a spawned child): send it inline
            served = None
    if served is None:
        if "inline" not in _RENDERERS:
            _RENDERERS["inline"] = st.components.v2.component(INLINE_COMPONENT, html=html, css=css, js=_module())
        return _RENDERERS["inline"]
    return _RENDERERS[served]


def show(design: Design, flt: GraphFilter, highlight: Highlight) -> None:
    """Draw the canvas (collapsed above 150 nodes unless the user opened clusters) and wire its events."""
    expanded = frozenset(st.session_state.get(EXPANDED, ()))
    version, payload = resources.canvas_payload(design, flt, highlight, expanded, HEIGHT_PX)
    selected = st.session_state.get(SELECTION) or {"id": "", "kind": ""}
    data = payload_bytes(version, payload, selected)
    callbacks = {f"on_{name}_change": _handler(name) for name in EVENTS}
    _renderer()(key=KEY, data=data, height="content", **callbacks)
    message = st.session_state.pop(MESSAGE, None)
    if message:  # it names agents, edges and a refusal's reason: text, never Markdown
        (st.error if message[0] == "error" else st.caption)(md(message[1]))


def payload_bytes(version: str, payload: bytes, selected: dict[str, Any]) -> bytes:
    """What the component gets: the cached payload (a JSON object) with the selection and a version put in front
    as bytes (Streamlit forwards bytes as they are: no JSON encoding or canonical hashing of the graph per rerun).
    The version comes first, so the browser reads it without parsing the rest when nothing changed."""
    chosen = json.dumps(selected, sort_keys=True, ensure_ascii=False)
    combined = hashlib.sha256(f"{version}|{chosen}".encode()).hexdigest()[:16]
    head = f'{{"version":{json.dumps(combined)},"selected":{chosen}'
    return head.encode("utf-8") + (b"," + payload[1:] if len(payload) > 2 else b"}")


def _handler(name: str) -> Any:
    def handle() -> None:
        value = (st.session_state.get(KEY) or {}).get(name)
        if value is None:
            return
        try:
            HANDLERS[name](value)
        except LmosStudioError as exc:
            st.session_state[MESSAGE] = ("error", f"{type(exc).__name__}: {exc}")

    return handle


# --- events ---------------------------------------------------------------------------------------------


def _design() -> Design:
    return state.current_design()


def _edge_parts(edge_id: str) -> tuple[str, str, str]:
    u, v, key = [*edge_id.split("|", 2), "", ""][:3]
    return u, v, key


def select(value: dict[str, Any]) -> None:
    """Make the canvas selection the side panel's: an agent, a trust edge, a group or a channel."""
    node_or_edge, kind = str(value.get("id") or ""), str(value.get("kind") or "")
    st.session_state[SELECTION] = {"id": node_or_edge, "kind": kind}
    st.session_state.pop(state.HIGHLIGHT, None)  # the Playground's routes: a click here is a selection of its own
    st.session_state[state.SELECTED_AGENT] = ""
    st.session_state[EDGE] = ""
    if kind == "edge":
        _, _, key = _edge_parts(node_or_edge)
        if key.startswith(f"{TRUST}:") and not key.startswith(f"{TRUST}:{AGGREGATE_PREFIX}"):
            st.session_state[EDGE] = key[len(TRUST) + 1 :]
        return
    what, _, rest = node_or_edge.partition(":")
    if what == AGENT:
        st.session_state[state.SELECTED_AGENT] = rest
    elif what == GROUP:
        st.session_state[GROUP_KEY] = rest
    elif what == CHANNEL:
        st.session_state[state.SELECTED_CHANNEL] = rest


def raise_refused(message: str) -> NoReturn:
    raise EditError(message)


def connect(value: dict[str, Any]) -> None:
    """A drag from one node to another: a trust edge caller → callee (every capability; edit it in the panel)."""
    design = _design()
    caller, callee = trust_ref(design, str(value.get("from", ""))), trust_ref(design, str(value.get("to", "")))
    protocols = protocol_options(design, callee)
    edge = TrustEdge(caller=caller, callee=callee, protocol=protocols[0] if protocols else "")
    state.edit(add_trust_edge(design, edge))
    u, v = str(value.get("from", "")), str(value.get("to", ""))
    st.session_state[SELECTION] = {"id": f"{u}|{v}|{TRUST}:{edge.key}", "kind": "edge"}
    st.session_state[state.SELECTED_AGENT] = ""
    st.session_state[EDGE] = edge.key
    st.session_state[MESSAGE] = ("info", f"Added trust edge {edge.key}: choose its capabilities in the panel.")


def delete(value: dict[str, Any]) -> None:
    """Remove the selected agent, channel, group or trust edge (one undo step)."""
    design = _design()
    target, kind = str(value.get("id") or ""), str(value.get("kind") or "")
    if kind == "edge":
        _, _, key = _edge_parts(target)
        if not key.startswith(f"{TRUST}:") or key.startswith(f"{TRUST}:{AGGREGATE_PREFIX}"):
            raise_refused("only trust edges can be deleted; membership follows from groups and channel labels")
        state.edit(remove_trust_edge(design, key[len(TRUST) + 1 :]))
    else:
        what, _, rest = target.partition(":")
        if what == AGENT:
            state.edit(remove_agent(design, rest))
        elif what == GROUP:
            state.edit(dissolve_group(design, rest))
        elif what == CHANNEL:
            state.edit(remove_channel(design, rest))
        else:
            raise_refused("expand the cluster first: a collapsed cluster is not deleted as a whole")
    st.session_state[SELECTION] = {"id": "", "kind": ""}
    st.session_state[state.SELECTED_AGENT] = ""
    st.session_state[EDGE] = ""
    st.session_state[MESSAGE] = ("info", f"Removed {target.split('|')[-1]} (Undo brings it back).")


def moved(value: dict[str, Any]) -> None:
    """Keep dragged positions in the design's layout (an aggregate's position is its cluster's)."""
    raw = value.get("positions") or {}
    positions: dict[str, Position] = {}
    for node, xy in raw.items():
        if isinstance(xy, list) and len(xy) == 2:
            positions[node.removeprefix(AGGREGATE_PREFIX)] = (float(xy[0]), float(xy[1]))
    if positions:
        design = _design()
        state.edit(design.replace(layout=with_positions(design.layout, positions)))


def expand(value: dict[str, Any]) -> None:
    node = str(value.get("id", ""))
    if node.startswith(AGGREGATE_PREFIX):
        st.session_state[EXPANDED] = frozenset(st.session_state.get(EXPANDED, ())) | {node[len(AGGREGATE_PREFIX) :]}


def collapse(value: dict[str, Any]) -> None:
    st.session_state[EXPANDED] = frozenset(st.session_state.get(EXPANDED, ())) - {str(value.get("id", ""))}


def undo(_: dict[str, Any]) -> None:
    state.history().undo()


def redo(_: dict[str, Any]) -> None:
    state.history().redo()


HANDLERS = {
    "select": select,
    "connect": connect,
    "delete": delete,
    "moved": moved,
    "expand": expand,
    "collapse": collapse,
    "undo": undo,
    "redo": redo,
}
