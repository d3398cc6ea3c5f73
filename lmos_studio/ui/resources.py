"""Every cached resource of the app: nothing heavy runs on every rerun.

Cache keys are design digests (content hashes), so an edited design never sees a stale result.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from lmos_studio.config import SAMPLES_DIR
from lmos_studio.export import kustomize
from lmos_studio.export.bundle import Bundle, ExportOptions, export_design
from lmos_studio.formats.design_file import LoadResult, load_design
from lmos_studio.model import Design
from lmos_studio.resolve import Resolution, resolve_design


@st.cache_data(show_spinner=False)
def sample_designs() -> dict[str, str]:
    """Sample name → path of every design in sample_networks/ (folders and YAML files)."""
    found = {}
    for path in sorted(SAMPLES_DIR.iterdir()):
        if path.is_dir() and not path.name.startswith((".", "_")) and any(path.rglob("*.y*ml")):
            found[path.name] = str(path)
        elif path.suffix in (".yaml", ".yml"):
            found[path.stem] = str(path)
    return found


@st.cache_data(show_spinner="Reading design…", max_entries=16)
def read_design_files(path: str, mtime: float) -> LoadResult:
    """A design read from disk; `mtime` is part of the key so that edits on disk are seen."""
    return load_design([Path(path)])


@st.cache_data(show_spinner=False, max_entries=32, hash_funcs={Design: lambda d: d.digest()})
def resolutions(design: Design) -> list[Resolution]:
    """The operator's resolution of every channel (raises VersionError like the operator)."""
    return resolve_design(design)


@st.cache_resource(show_spinner="Building and validating manifests…", max_entries=8,
                   hash_funcs={Design: lambda d: d.digest()})
def export_bundle(design: Design, options: ExportOptions) -> tuple[Bundle, dict[str, bytes], bytes]:
    """The validated export of a design (bundle, files, zip); raises ExportError like `export_design`.
    A resource, not data: the page only reads it, and a 1 000-agent export is too big to copy per rerun."""
    bundle = export_design(design, options)
    files = kustomize.render(bundle)
    return bundle, files, kustomize.zip_bytes(bundle, files)
