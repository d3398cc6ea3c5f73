"""The app frame's widgets: the sidebar (which design is open, open another), the unsaved-changes question,
the error page of a start design that did not open, and the guard that turns any exception of a page into
a message.

No page logic here: app.py wires these around `st.navigation`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from lmos_studio.config import get_settings
from lmos_studio.errors import DesignFileError, LmosStudioError
from lmos_studio.export.importer import import_upload
from lmos_studio.formats.design_file import LoadResult, design_from_upload
from lmos_studio.markdown import escape as md
from lmos_studio.ui import resources, state, widgets

SAMPLE_CHOICE = "sample_choice"
UPLOAD = "upload"
OPEN_PATH = "open_path"


@dataclass(frozen=True)
class OpenRequest:
    """A design the user asked to open: a sample (path) or an upload (bytes)."""

    label: str
    origin: str
    path: str = ""
    data: bytes = b""


def sidebar(problem: LmosStudioError | None) -> None:
    """Which design is open (or why none is), load warnings, and "Open another design" — always."""
    with st.sidebar:
        st.markdown("### LMOS Studio")
        if problem is None:
            _design_summary()
        else:
            st.error("No design is open: open a sample or upload a design below.", icon=":material/error:")
        with st.expander("Open another design", expanded=problem is not None):
            samples = resources.sample_designs()
            choice = st.selectbox("Sample", list(samples), key=SAMPLE_CHOICE)
            if st.button("Open sample", key="open_sample") and choice:
                request_open(OpenRequest(label=f"the sample {choice}", origin=f"sample:{choice}", path=samples[choice]))
            upload = st.file_uploader(
                "Upload a design (YAML or JSON) or an export zip",
                type=["yaml", "yml", "json", "zip"],
                key=UPLOAD,
                max_upload_size=widgets.upload_limit_mb(),
            )
            if upload is not None and st.button("Open upload", key="open_upload"):
                request_open(OpenRequest(label=upload.name, origin=f"upload:{upload.name}", data=upload.getvalue()))
            # a folder (one file per resource, as acme) cannot be uploaded: it opens by its path, as at start
            where = st.text_input(
                "Or a design file or folder on this machine", key=OPEN_PATH, placeholder="path/to/design"
            ).strip()
            if st.button("Open path", key=f"{OPEN_PATH}_button"):  # never disabled: see the Designer's Save as
                if where:
                    path = str(Path(where).expanduser())
                    request_open(OpenRequest(label=path, origin=path, path=path))
                else:
                    st.error("Type the path of a design file or folder first.", icon=":material/error:")
        unload_guard()
    if st.session_state.get(state.PENDING_OPEN) is not None:
        unsaved_question()


# Runs in the app's own document (st.html with JavaScript is not sandboxed), on every change of the flag: one
# listener per browser tab, reading the flag the last run set. Browsers show their own words ("Leave site? Changes
# you made may not be saved"), not ours, and only once the person has interacted with the page.
_UNLOAD_GUARD = """<script>
(() => {
  window.lmosStudioUnsaved = %s;
  if (!window.lmosStudioUnloadGuard) {
    window.lmosStudioUnloadGuard = (event) => {
      if (window.lmosStudioUnsaved) { event.preventDefault(); event.returnValue = ""; }
    };
    window.addEventListener("beforeunload", window.lmosStudioUnloadGuard);
  }
})();
</script>"""


def unload_guard_html(unsaved: bool) -> str:
    """The script that has the browser ask before it leaves the page while `unsaved` (see `unload_guard`)."""
    return _UNLOAD_GUARD % ("true" if unsaved else "false")


def unload_guard() -> None:
    """Have the browser ask before a reload (F5), closing the tab or another address while the open design has
    unsaved changes: the next session would open the design from disk (a session's state is its tab's). The
    sidebar's own "Open another design" asks in the app (`unsaved_question`)."""
    st.html(unload_guard_html(state.is_dirty()), unsafe_allow_javascript=True)


def _design_summary() -> None:
    design = state.current_design()
    st.caption("Open design")
    st.markdown(f"**{md(design.name)}** · {md(state.origin_label())}")
    st.caption(
        f"{len(design.agents)} agents · {len(design.channels)} channels · "
        f"{len(design.groups)} groups · {len(design.trust_edges)} trust edges"
    )
    for warning in st.session_state.get(state.LOAD_WARNINGS, []):
        st.warning(md(warning), icon=":material/warning:")  # names from the file read: never markup


def request_open(request: OpenRequest) -> None:
    """Open a design now, or first ask what to do with unsaved changes."""
    if state.is_dirty():
        st.session_state[state.PENDING_OPEN] = request
        st.rerun()
    if _open(request):
        st.rerun()


def _open(request: OpenRequest) -> bool:
    try:
        if request.path and not request.path.lower().endswith(".zip"):
            state.open_path(Path(request.path), origin=request.origin)
        elif request.label.lower().endswith(".zip"):  # an export (uploaded or by path): as import-manifests reads it
            data = request.data or _read_zip(Path(request.path))
            result: LoadResult = import_upload(request.label, data, max_bytes=get_settings().max_upload_bytes)
            state.open_design(result, origin=request.origin)
        else:
            result = design_from_upload(request.label, request.data, max_bytes=get_settings().max_upload_bytes)
            state.open_design(result, origin=request.origin)
    except LmosStudioError as exc:
        st.session_state.pop(state.PENDING_OPEN, None)
        widgets.show_error(exc)
        return False
    return True


def _read_zip(path: Path) -> bytes:
    """An export zip named by its path, read as an upload of it is: past the upload limit only one byte more is
    read (import_upload then refuses it, naming the limit), not a whole large file."""
    try:
        with path.open("rb") as file:
            return file.read(get_settings().max_upload_bytes + 1)
    except OSError as exc:
        raise DesignFileError(f"cannot be read ({exc.strerror or exc}); check the path", path=str(path)) from exc


@st.dialog("Unsaved changes", dismissible=False)
def unsaved_question() -> None:
    """Save, discard or cancel before another design replaces the open one (its undo history goes too)."""
    request: OpenRequest = st.session_state[state.PENDING_OPEN]
    hist = state.history()
    st.markdown(
        widgets.plain(
            f"{hist.present.name} has unsaved changes. Opening {request.label} replaces it and its undo history."
        )
    )
    target = hist.saved_path or ""
    overwrite = False
    if not target:
        target = st.text_input("Save as", key="unsaved_save_as", placeholder="path/to/design.yaml")
        overwrite = st.checkbox("Overwrite", key="unsaved_overwrite", help="Let Save as replace a file that exists")
    cols = st.columns(3)
    # never disabled: a typed path is reported only on Enter or blur (see the Designer's Save as)
    if cols[0].button("Save", key="unsaved_save", type="primary", icon=":material/save:"):
        if not target.strip():
            st.error("Type the path of a .yaml file to save to first.", icon=":material/error:")
            return
        try:
            written = state.save(target.strip(), overwrite=overwrite)
        except LmosStudioError as exc:
            widgets.show_error(exc)
            return
        st.toast(f"Saved {md(str(written))}")
        for warning in st.session_state.pop(state.SAVE_WARNINGS, None) or ():
            st.toast(widgets.plain(warning), icon=":material/key_off:")
        for note in st.session_state.pop(state.SAVE_NOTES, None) or ():
            st.toast(widgets.plain(note), icon=":material/note_add:")
        if _open(request):
            st.rerun()
    if cols[1].button("Discard", key="unsaved_discard", icon=":material/delete:") and _open(request):
        st.rerun()
    if cols[2].button("Cancel", key="unsaved_cancel"):
        st.session_state.pop(state.PENDING_OPEN, None)
        st.rerun()


def error_page(problem: LmosStudioError) -> None:
    """What the user sees instead of a page when the start design did not open: the message and the way out."""
    st.title("The design did not open")
    widgets.show_error(problem)
    st.markdown(
        widgets.plain(f"LMOS Studio was started on {state.start_origin()}.")
        + "\n\nOpen a sample or upload a design with **Open another design** in the sidebar, or fix the file "
        "and reload this page."
    )


def run_page(page: StreamlitPage) -> None:
    """Run the chosen page; any exception that reaches it is shown as a message with what to do, no traceback."""
    try:
        page.run()
    except LmosStudioError as exc:
        widgets.show_error(exc)
    except Exception as exc:  # a bug: still a message, never a traceback (st.stop/st.rerun are BaseExceptions)
        st.error(
            f"Something went wrong on this page ({type(exc).__name__}: {widgets.plain(str(exc))[:500]}). "
            "Undo the last change in the Designer or open another design from the sidebar; if it happens again, "
            "report it with the design that caused it.",
            icon=":material/error:",
        )
