"""Layering: streamlit only in lmos_studio/ui/, app_pages/ and app.py; pages import streamlit, lmos_studio, stdlib."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_no_streamlit_in_the_library_outside_ui() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "lmos_studio").rglob("*.py")
        if "ui" not in p.relative_to(ROOT / "lmos_studio").parts[:1] and "streamlit" in imports(p)
    ]
    assert offenders == []


def test_pages_import_only_streamlit_library_and_stdlib() -> None:
    allowed = {"streamlit", "lmos_studio", "__future__"} | set(sys.stdlib_module_names)
    for page in [*sorted((ROOT / "app_pages").glob("*.py")), ROOT / "app.py"]:
        extra = imports(page) - allowed
        assert not extra, f"{page.name} imports {sorted(extra)}: move that work into lmos_studio/"


def test_pages_stay_small() -> None:
    for page in sorted((ROOT / "app_pages").glob("*.py")):
        lines = [line for line in page.read_text().splitlines() if line.strip() and not line.strip().startswith("#")]
        assert len(lines) <= 80, f"{page.name} has {len(lines)} lines: pages only lay out widgets"


# ------------------------------------------------------------------------------ the library's own layers

LIBRARY = ROOT / "lmos_studio"
# A module may import its own layer's modules and lower layers', never a higher layer (lowest first).
LAYERS: tuple[tuple[str, ...], ...] = (
    (
        "lmos_studio",
        "errors",
        "sizes",
        "redact",
        "visible",
        "markdown",
        "bundled",
        "config",
        "names",
        "versions",
        "stop_words",
        "model",
    ),
    ("formats",),
    (
        "index",
        "resolve",
        "rollouts",
        "renames",
        "trust",
        "out_of_scope",
        "graph",
        "aggregate",
        "view",
        "lint",
        "summary",
        "history",
        "synthetic",
    ),
    ("routing", "registry", "export"),
    ("compare", "lifecycle", "whatif", "canary"),
    ("commands", "ui"),
    ("cli", "__main__"),
)
# Within one layer, these may not import each other (they are siblings, not a stack).
SIBLINGS = ({"routing", "registry", "export"}, {"commands", "ui"})


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def library_graph() -> dict[str, set[str]]:
    """lmos_studio module → the lmos_studio modules it imports (module level or inside functions)."""
    modules = {module_name(p): p for p in LIBRARY.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                found = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            else:
                continue
            edges |= {f for f in found if f in modules and f != name}
        graph[name] = edges
    return graph


def area(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def rank(module: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if area(module) in layer)


def test_every_library_module_has_a_layer() -> None:
    unplaced = sorted(m for m in library_graph() if not any(area(m) in layer for layer in LAYERS))
    assert unplaced == [], f"add {unplaced} to LAYERS in tests/test_layering.py"


def test_no_module_imports_a_higher_layer_or_a_sibling() -> None:
    offenders = []
    for module, imported in library_graph().items():
        for other in imported:
            sibling = any({area(module), area(other)} <= s and area(module) != area(other) for s in SIBLINGS)
            if rank(other) > rank(module) or sibling:
                offenders.append(f"{module} imports {other}")
    assert sorted(offenders) == []


def test_the_library_has_no_import_cycle() -> None:
    graph = library_graph()
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            raise AssertionError("import cycle: " + " → ".join([*path[path.index(module) :], module]))
        if module in done:
            return
        for other in sorted(graph[module]):
            visit(other, [*path, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])


def test_commands_never_import_the_cli_and_every_area_is_registered() -> None:
    from lmos_studio.cli import AREAS

    graph = library_graph()
    assert [m for m in graph if m.startswith("lmos_studio.commands") and "lmos_studio.cli" in graph[m]] == []
    files = {f"lmos_studio.commands.{p.stem}" for p in (LIBRARY / "commands").glob("*.py") if p.stem[0] != "_"}
    assert {f"lmos_studio.commands.{area}" for area in AREAS} == files, "cli.AREAS names exactly the command modules"


def test_every_page_of_the_app_exists() -> None:
    tree = ast.parse((ROOT / "app.py").read_text())
    pages = next(
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "PAGES" for t in node.targets)
    )
    assert [f for f, _, _ in pages if not (ROOT / f).is_file()] == []
    assert sorted(f for f, _, _ in pages) == sorted(f"app_pages/{p.name}" for p in (ROOT / "app_pages").glob("*.py"))


def test_every_uploader_states_the_one_upload_limit() -> None:
    """Bug (session 14 QA): the Evaluate page's labelled-CSV and seed uploaders and the Export page's compare
    uploader set no limit, so they said "50MB per file" (the server's cap) although LMOS_STUDIO_MAX_UPLOAD_MB
    (10) is the limit every uploader states (README, Configuration). Each must pass `upload_limit_mb()`."""
    offenders = []
    for path in [*sorted((ROOT / "app_pages").glob("*.py")), *sorted((LIBRARY / "ui").glob("*.py")), ROOT / "app.py"]:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr != "file_uploader":
                continue
            limit = next((k.value for k in node.keywords if k.arg == "max_upload_size"), None)
            named = limit.func if isinstance(limit, ast.Call) else None
            if not (isinstance(named, ast.Name | ast.Attribute) and ast.unparse(named).endswith("upload_limit_mb")):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_the_app_builds_its_tables_through_resources_table() -> None:
    """Bug: the Playground's, Evaluate's and the What-if tables were pandas frames of rows as they were, so a bidi
    override (U+202E) in an agent's name turned the cell around, though resources.table (the Overview's, the
    Designer's) writes it as its escape. The app builds no frame of its own and passes no rows as they are to a
    table: its tables come from resources.table (or the registry's `visible` tables, registry/sources.py)."""
    offenders = []
    for path in [*sorted((ROOT / "app_pages").glob("*.py")), *sorted((LIBRARY / "ui").glob("*.py")), ROOT / "app.py"]:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name)):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
            builder = path.name in ("resources.py", "arrow.py")  # resources.table and the Arrow tables it builds
            built = name in ("DataFrame", "from_pylist", "from_pydict", "from_records") and not builder
            builds = ast.unparse(node.func) in ("resources.table", "table")  # the one path itself
            shown = name in ("dataframe", "table", "data_editor") and not builds
            rows = node.args[0] if shown and node.args else None
            if built or isinstance(rows, ast.List | ast.ListComp | ast.Dict | ast.DictComp | ast.Tuple):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)[:60]}")
    assert offenders == []
