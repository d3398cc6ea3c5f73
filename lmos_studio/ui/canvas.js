// The Designer's canvas: a Streamlit Custom Component (v2) around vis-network (the copy pyvis ships,
// prepended to this module by canvas.py and served as the component's static asset: nothing is fetched from the network).
//
// Python sends `data` (nodes, edges, selection, a version); the canvas sends events back as trigger values:
// select {id, kind}, connect {from, to}, delete {id, kind}, moved {positions}, expand {id}, collapse {id},
// undo, redo. Every event carries a fresh `n` so two equal events are two events.
// The network survives reruns (kept on the parent element): only changed nodes and edges are updated, so
// the view (zoom, pan) stays where the user left it. The JS (vis-network + this file) is a static asset of the
// component (canvas.py), fetched once; `data` arrives as UTF-8 JSON bytes whose first key is the version.

function tip(html) {
  // Tooltips arrive as HTML in which every piece of registry text is already escaped (view.py).
  const el = document.createElement("div");
  el.className = "lmos-tip";
  el.innerHTML = html;
  return el;
}

function prepare(items) {
  return items.map((item) => (item.title ? { ...item, title: tip(item.title) } : item));
}

// vis-network's defaults of the keys a highlight adds (null is none for opacity: it drew the node black)
const RESET = { opacity: 1, borderWidth: 1 };

function sync(dataset, items, seen) {
  // Patch the DataSet: remove what went, update only items whose data changed (`seen`: id → last JSON), so an
  // edit that adds one trust edge touches one edge, not the whole network (the view stays where it was).
  // DataSet.update merges: a key an item no longer has (the opacity that dimmed it, the border that highlighted
  // it) is sent with vis-network's default (RESET; null elsewhere), else the old value stayed drawn.
  const keep = new Set();
  const changed = [];
  for (const item of items) {
    keep.add(item.id);
    const text = JSON.stringify(item);
    const before = seen.get(item.id);
    if (before === text) { continue; }
    seen.set(item.id, text);
    const gone = before === undefined ? [] : Object.keys(JSON.parse(before)).filter((key) => !(key in item));
    changed.push(gone.length ? { ...item, ...Object.fromEntries(gone.map((key) => [key, RESET[key] ?? null])) } : item);
  }
  const gone = dataset.getIds().filter((id) => !keep.has(id));
  if (gone.length) { dataset.remove(gone); gone.forEach((id) => seen.delete(id)); }
  if (changed.length) { dataset.update(prepare(changed)); }
}

function setup(root, state) {
  const box = root.querySelector(".lmos-canvas");
  const graph = root.querySelector(".lmos-canvas-graph");
  const nodes = new vis.DataSet([]);
  const edges = new vis.DataSet([]);
  const options = {
    physics: { enabled: false },
    interaction: { hover: true, tooltipDelay: 150, multiselect: false, selectConnectedEdges: false },
    nodes: { font: { size: 12 } }, // labels are plain text as written: no "html" mode (view.py)
    edges: { smooth: false, font: { size: 10, align: "middle" } },
    layout: { randomSeed: 0, improvedLayout: false },
    manipulation: {
      enabled: false,
      addEdge: (edge, done) => {
        done(null); // Python adds the edge (or says why not); the next render draws it
        if (edge.from !== edge.to) { state.send("connect", { from: edge.from, to: edge.to }); }
        if (state.drawing) { setTimeout(() => state.network.addEdgeMode(), 0); }
      },
    },
  };
  const network = new vis.Network(graph, { nodes, edges }, options);
  state.network = network;
  state.nodes = nodes;
  state.edges = edges;
  const button = (name) => root.querySelector(`[data-action="${name}"]`);
  const setDrawing = (on) => {
    state.drawing = on;
    button("draw").classList.toggle("on", on);
    button("draw").setAttribute("aria-pressed", on ? "true" : "false");
    if (on) { network.addEdgeMode(); } else { network.disableEditMode(); }
  };
  const removeSelection = () => {
    const sel = state.selection;
    if (sel && sel.id) { state.send("delete", sel); }
  };
  button("fit").onclick = () => network.fit({ animation: false });
  button("draw").onclick = () => setDrawing(!state.drawing);
  button("delete").onclick = removeSelection;
  button("undo").onclick = () => state.send("undo", {});
  button("redo").onclick = () => state.send("redo", {});
  network.on("click", (params) => {
    if (state.drawing) { return; }
    let sel = { id: "", kind: "" };
    if (params.nodes.length) { sel = { id: params.nodes[0], kind: "node" }; }
    else if (params.edges.length) { sel = { id: params.edges[0], kind: "edge" }; }
    state.selection = sel;
    state.send("select", sel);
  });
  network.on("doubleClick", (params) => {
    const id = params.nodes.length ? params.nodes[0] : null;
    const node = id === null ? null : nodes.get(id);
    if (!node) { return; }
    if (node.kind === "aggregate") { state.send("expand", { id }); }
    else if ((node.kind === "group" || node.kind === "channel") && state.lod) { state.send("collapse", { id }); }
  });
  network.on("dragEnd", (params) => {
    if (!params.nodes.length) { return; }
    const moved = network.getPositions(params.nodes);
    const positions = {};
    Object.keys(moved).forEach((id) => { positions[id] = [moved[id].x, moved[id].y]; });
    state.send("moved", { positions });
  });
  box.addEventListener("keydown", (event) => {
    const mod = event.ctrlKey || event.metaKey;
    const key = event.key.toLowerCase();
    if (mod && key === "z") { state.send(event.shiftKey ? "redo" : "undo", {}); }
    else if (mod && key === "y") { state.send("redo", {}); }
    else if (!mod && (event.key === "Delete" || event.key === "Backspace")) { removeSelection(); }
    else if (!mod && key === "f") { network.fit({ animation: false }); }
    else if (!mod && key === "e") { setDrawing(!state.drawing); }
    else if (event.key === "Escape") { setDrawing(false); }
    else { return; }
    event.preventDefault();
  });
  network.on("click", () => box.focus({ preventScroll: true }));
  new ResizeObserver(() => {
    const width = graph.clientWidth;
    if (width > 0 && !state.framed) { state.framed = true; network.fit({ animation: false }); }
  }).observe(graph);
}

function render(root, state, data) {
  if (state.version === data.version) { return; }
  const first = state.version === undefined;
  state.version = data.version;
  root.querySelector(".lmos-canvas-graph").style.height = `${data.height}px`;
  root.querySelector(".lmos-canvas-note").textContent = data.note || "";
  root.querySelector(".lmos-canvas-summary").textContent = data.summary || "";
  state.lod = !!data.lod;
  sync(state.nodes, data.nodes, state.seenNodes);
  sync(state.edges, data.edges, state.seenEdges);
  const sel = data.selected || { id: "", kind: "" };
  state.selection = sel;
  if (sel.kind === "node" && state.nodes.get(sel.id)) { state.network.selectNodes([sel.id], false); }
  else if (sel.kind === "edge" && state.edges.get(sel.id)) { state.network.setSelection({ nodes: [], edges: [sel.id] }); }
  else { state.network.unselectAll(); }
  if (data.focus && state.nodes.get(data.focus) && data.focusChanged) {
    state.network.focus(data.focus, { scale: state.network.getScale(), animation: false });
  }
  if (first && state.network.body.container.clientWidth > 0) { state.framed = true; state.network.fit({ animation: false }); }
  root.querySelector(".lmos-canvas").setAttribute("data-version", data.version);
  window.lmosCanvas = { network: state.network, nodes: state.nodes, edges: state.edges, version: data.version };
}

const decoder = new TextDecoder();

function decode(data) {
  // canvas.py sends the payload as UTF-8 JSON bytes: {"version": …, "selected": …, nodes, edges, …}
  if (!(data instanceof Uint8Array || data instanceof ArrayBuffer)) { return data; }
  return JSON.parse(decoder.decode(data));
}

function versionOf(data) {
  // The version is the first key: read it from the first bytes, without parsing the graph.
  if (!(data instanceof Uint8Array)) { return data && data.version; }
  const match = /^\{"version":"([^"]*)"/.exec(decoder.decode(data.subarray(0, 64)));
  return match ? match[1] : undefined;
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let state = parentElement.__lmosCanvas;
  if (!state) {
    state = { counter: 0, drawing: false, framed: false, seenNodes: new Map(), seenEdges: new Map() };
    parentElement.__lmosCanvas = state;
    setup(parentElement, state);
  }
  state.send = (name, value) => {
    state.counter += 1;
    setTriggerValue(name, { ...value, n: `${Date.now()}-${state.counter}` });
  };
  if (data && (versionOf(data) === undefined || versionOf(data) !== state.version)) {
    render(parentElement, state, decode(data));
  }
  return () => {
    if (parentElement.__lmosCanvas === state) {
      state.network.destroy();
      delete parentElement.__lmosCanvas;
    }
  };
}
