"""Export page helpers: options → cached bundle, the last export kept in the session, the diff.

The page shows what these return as is; nothing here loops in the page.
"""

from __future__ import annotations

import streamlit as st

from lmos_studio.config import get_settings
from lmos_studio.export.bundle import ExportOptions
from lmos_studio.export.importer import import_upload
from lmos_studio.lifecycle import DesignDiff, diff_designs
from lmos_studio.model import Design
from lmos_studio.ui import resources

WORKLOADS = "export_with_workloads"
ISTIO = "export_with_istio"
REGISTRY = "export_with_registry"
NAMESPACE = "export_namespace"
LMOS_NAMESPACE = "export_lmos_namespace"
PREVIEW_FILE = "export_preview_file"
COMPARE = "export_compare_with"
COMPARE_UPLOAD = "export_compare_upload"
LAST_EXPORT = "export_last_design"  # the design as it was when the zip was last downloaded (this session)
LAST_EXPORT_LABEL = "its last export (this session)"
UPLOAD_LABEL = "an uploaded design or export zip"


def _options() -> ExportOptions:
    return ExportOptions(
        with_workloads=bool(st.session_state.get(WORKLOADS)),
        with_istio=bool(st.session_state.get(ISTIO)),
        with_registry=bool(st.session_state.get(REGISTRY)),
        namespace=(st.session_state.get(NAMESPACE) or "").strip() or None,
        lmos_namespace=(st.session_state.get(LMOS_NAMESPACE) or "").strip() or "default",
    )


def export(design: Design) -> resources.ExportOutput:
    """Notes, files, zip and views of the export for the options chosen on the page (raises ExportError)."""
    return resources.export_output(design, _options())


def remember_export(design: Design) -> None:
    """Download callback: keep the exported design (as plain data) to diff against later."""
    st.session_state[LAST_EXPORT] = design.model_dump(mode="json")


def compare_target() -> Design | None:
    """The design to compare the open one with: the last export or an upload (None if not chosen yet)."""
    if st.session_state.get(COMPARE) == LAST_EXPORT_LABEL:
        value = st.session_state.get(LAST_EXPORT)
        return Design.model_validate(value) if isinstance(value, dict) else None
    upload = st.session_state.get(COMPARE_UPLOAD)
    if upload is None:
        return None
    return import_upload(upload.name, upload.getvalue(), max_bytes=get_settings().max_upload_bytes).design


def diff(old: Design, new: Design) -> DesignDiff:
    return diff_designs(old, new)
