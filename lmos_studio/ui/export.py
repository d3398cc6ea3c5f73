"""Export page helpers: options → cached bundle, the last export kept in the session, the diff.

The page shows what these return as is; nothing here loops in the page.
"""

from __future__ import annotations

import streamlit as st

from lmos_studio.config import get_settings
from lmos_studio.errors import ExportOptionError, LmosStudioError
from lmos_studio.export.bundle import ExportOptions, FieldNames, file_tree
from lmos_studio.export.importer import import_upload
from lmos_studio.export.kustomize import file_stem
from lmos_studio.lifecycle import DesignDiff, diff_designs
from lmos_studio.model import Design
from lmos_studio.ui import resources, state, widgets

WORKLOADS = "export_with_workloads"
ISTIO = "export_with_istio"
REGISTRY = "export_with_registry"
NAMESPACE = "export_namespace"
LMOS_NAMESPACE = "export_lmos_namespace"
NAMESPACE_LABEL = "Move into namespace"  # the fields' labels: the messages about a value typed there name them
LMOS_NAMESPACE_LABEL = "LMOS runtime namespace"
PREVIEW_FILE = "export_preview_file"
FILE_SEARCH = "export_file_search"
BUILT = "export_built"  # (digest, options) whose files the user asked to build
AUTO_BUILD_FILES = 500  # an export of at most this many files is built with the page (well under a second)
FILES_LISTED = 200  # the file tree and the preview's choices list at most this many (search finds others)
COMPARE = "export_compare_with"
COMPARE_READ = "export_compare_read"  # the last upload read: (file id, name), design, warnings
COMPARE_UPLOAD = "export_compare_upload"
LAST_EXPORT = state.LAST_EXPORT  # the design as it was when the zip was last downloaded (since it was opened)
LAST_EXPORT_LABEL = "its last export (this session)"
UPLOAD_LABEL = "an uploaded design or export zip"


def _options() -> ExportOptions:
    return ExportOptions(
        with_workloads=bool(st.session_state.get(WORKLOADS)),
        with_istio=bool(st.session_state.get(ISTIO)),
        with_registry=bool(st.session_state.get(REGISTRY)),
        namespace=(st.session_state.get(NAMESPACE) or "").strip() or None,
        lmos_namespace=(st.session_state.get(LMOS_NAMESPACE) or "").strip() or "default",
        fields=FieldNames(namespace=NAMESPACE_LABEL, lmos_namespace=LMOS_NAMESPACE_LABEL),
    )


def show_failure(exc: LmosStudioError) -> None:
    """Why nothing was exported: a value typed in one of the page's fields (the message names the field), or
    the design itself."""
    if isinstance(exc, ExportOptionError):
        st.error("A value typed in an export field above cannot be used (nothing was written).")
    else:
        st.error("Validation failed: this design cannot be exported yet (nothing was written).")
    widgets.show_error(exc)


def export(design: Design) -> resources.ExportOutput:
    """Notes, files, zip and views of the export for the options chosen on the page (raises ExportError)."""
    return resources.export_output(design, _options())


def plan(design: Design) -> resources.ExportPlan:
    """What the export will hold for the options chosen on the page, no file rendered (raises ExportError)."""
    return resources.export_plan(design, _options())


def _build_key(design: Design) -> str:
    return design.digest() + repr(_options())


def built(design: Design, plan: resources.ExportPlan) -> bool:
    """Whether the page builds the files now: a small export always, a large one once the user asked."""
    return len(plan.paths) <= AUTO_BUILD_FILES or st.session_state.get(BUILT) == _build_key(design)


def ask_build(design: Design) -> None:
    """Button callback: build the files of the export as it stands."""
    st.session_state[BUILT] = _build_key(design)


def listed_files(plan: resources.ExportPlan, query: str) -> tuple[list[str], int, str]:
    """The files whose path contains `query` (case-insensitive): the first `FILES_LISTED`, how many matched,
    and the listed ones as a tree."""
    needle = query.strip().lower()
    matched = [p for p in plan.paths if needle in p.lower()] if needle else list(plan.paths)
    listed = matched[:FILES_LISTED]
    return listed, len(matched), file_tree(listed)


def preview(design: Design, path: str, out: resources.ExportOutput | None) -> str:
    """One file's text: from the built files, else that one document rendered."""
    if out is not None:
        return out.files[path].decode("utf-8")
    return resources.export_file(design, _options(), path).decode("utf-8")


def remember_export(design: Design) -> None:
    """Download callback: keep the exported design (as plain data) to diff against later."""
    st.session_state[LAST_EXPORT] = design.model_dump(mode="json")


def compare_target() -> tuple[Design, list[str]] | None:
    """The design to compare the open one with: the last export or an upload (None if not chosen yet), and what
    reading it warns about (an uploaded export's generated files edited by hand: the diff cannot show them)."""
    if st.session_state.get(COMPARE) == LAST_EXPORT_LABEL:
        value = st.session_state.get(LAST_EXPORT)
        return (Design.model_validate(value), []) if isinstance(value, dict) else None
    upload = st.session_state.get(COMPARE_UPLOAD)
    if upload is None:
        return None
    key = (upload.file_id, upload.name)  # read (and re-exported for the hand-edit check) once per upload, not per rerun
    read = st.session_state.get(COMPARE_READ)
    if read is None or read[0] != key:
        result = import_upload(upload.name, upload.getvalue(), max_bytes=get_settings().max_upload_bytes)
        read = (key, result.design, result.warnings)
        st.session_state[COMPARE_READ] = read
    return read[1], read[2]


def diff(old: Design, new: Design) -> DesignDiff:
    return diff_designs(old, new)


def bundle_actions(design: Design, plan: resources.ExportPlan) -> resources.ExportOutput | None:
    """The zip's download button once the files are built, else the button that builds them (a large export);
    the built export, or None."""
    if not built(design, plan):
        st.button(
            f"Build the {len(plan.paths)} files",
            type="primary",
            on_click=ask_build,
            args=(design,),
            icon=":material/build:",
            help="Renders every file as YAML and zips them (seconds for a large design); then download the zip.",
        )
        return None
    try:
        out = export(design)
    except LmosStudioError as exc:
        show_failure(exc)
        st.stop()
    st.download_button(
        "Download zip",
        data=out.archive,
        file_name=f"{file_stem(design.name)}-manifests.zip",  # a name any file system takes
        mime="application/zip",
        type="primary",
        on_click=remember_export,
        args=(design,),
        icon=":material/download:",
    )
    return out


def files(design: Design, plan: resources.ExportPlan, out: resources.ExportOutput | None) -> None:
    """The Files tab: a search, the tree of the listed files and a preview of the chosen one."""
    query = st.text_input("Search files", key=FILE_SEARCH, placeholder="agents/, a namespace, a name…")
    listed, matched, listed_tree = listed_files(plan, query)
    if len(listed) < matched:
        st.caption(f"{len(listed)} of {matched} matching files listed ({len(plan.paths)} in all); search to narrow.")
    tree, shown = st.columns([1, 2])
    tree.code(listed_tree, language=None)
    chosen = shown.selectbox(
        "File",
        listed,
        index=0 if out is not None else None,
        key=PREVIEW_FILE,
        placeholder="Choose a file to preview",
    )
    if chosen:
        try:
            shown.code(preview(design, chosen, out), language="yaml", line_numbers=True)
        except LmosStudioError as exc:  # the file holds a configured secret's value
            with shown:
                widgets.show_error(exc)
