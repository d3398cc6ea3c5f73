"""Session state: the keys the pages share and the one open design (with its undo history).

Session state holds plain values and the `History`; settings are never kept here.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import streamlit as st

from lmos_studio.config import DEFAULT_SAMPLE, SAMPLES_DIR, get_settings
from lmos_studio.errors import DesignChangedError, DesignFileError, LmosStudioError
from lmos_studio.formats.design_file import LoadResult, Saved, check_new_design_file, folder_holding, save_design
from lmos_studio.formats.design_folder import check_file_unchanged, file_digest, folder_digests, save_design_folder
from lmos_studio.history import History
from lmos_studio.model import Design
from lmos_studio.ui import resources
from lmos_studio.ui.widgets import SEARCH_SUFFIX

HISTORY = "history"
LOAD_WARNINGS = "load_warnings"
QUERY = "playground_query"
SELECTED_AGENT = "selected_agent"  # the agent highlighted on the graph (Designer, Playground)
SELECTED_CHANNEL = "selected_channel"  # a channel key selected on the Designer's canvas (the Playground's default)
HIGHLIGHT = "highlight"  # objects to highlight on the graph: list of agent names / edge keys
START_ERROR = "start_error"  # the error that kept the start design from opening (an error page instead)
PENDING_OPEN = "pending_open"  # an open request waiting for the unsaved-changes question (save/discard/cancel)
SAVE_WARNINGS = "save_warnings"  # what the last save masked or could not keep (shown once, after the next rerun)
SAVE_NOTES = "save_notes"  # where the last save into a folder put new resources (shown once, likewise)
EVAL_SOURCE = "eval_source"  # Evaluate: a sample set or an upload (a sample set when one is written for the design)
EVAL_SAMPLE = "eval_sample"  # Evaluate: the sample set (those written for the design first)
PLAYGROUND_CHANNELS = "pg_channels"  # Playground: the channels routed in (labels of the design's channels)
# Widgets whose choice belongs to the open design: another design starts on its own defaults, as a fresh session
# does (a kept choice named the old design's set or channels, so the page opened on an error or on nothing).
WHATIF_REMOVE, WHATIF_DISABLE, WHATIF_CAPS, WHATIF_MOVE = "wi_remove", "wi_disable", "wi_caps", "wi_move"
WHATIF_PICKS = (WHATIF_REMOVE, WHATIF_DISABLE, WHATIF_CAPS, WHATIF_MOVE)  # the What-if tab's agents and capabilities
EVAL_CHANNEL = "eval_channel"  # Evaluate: the channel for rows without one
DESIGNER_FILTERS = tuple(f"designer_filter_{name}" for name in ("tenant", "channel", "subset", "group"))
NEW_GROUP_NAME, NEW_GROUP_MEMBERS = "designer_group_name", "designer_group_members"  # the Designer's new group
SAVE_AS = "designer_save_as"  # the Designer's Save as path: typed for one design, not another's target
NEW_TEST_NAME, NEW_TEST_CAPABILITY = "new_test_name", "new_test_capability"  # Playground: add as a routing test
WHATIF_MOVE_CHANNEL, WHATIF_MOVE_SUBSET = "wi_move_channel", "wi_move_subset"  # What-if: where a moved agent goes
DESIGN_CHOICES = (
    EVAL_SOURCE,
    EVAL_SAMPLE,
    EVAL_CHANNEL,
    PLAYGROUND_CHANNELS,
    *WHATIF_PICKS,
    *DESIGNER_FILTERS,
    NEW_GROUP_NAME,
    NEW_GROUP_MEMBERS,
    SAVE_AS,
    NEW_TEST_NAME,
    NEW_TEST_CAPABILITY,
    WHATIF_MOVE_CHANNEL,
    WHATIF_MOVE_SUBSET,
)
NEW_EDGE_TAG = "new"  # the Designer's new-trust-edge form: its keys hold this, not the design's digest
# the form's widgets (caps and protocol keys end in the callee, search fields in widgets.SEARCH_SUFFIX): prefixes
NEW_EDGE_FIELDS = tuple(f"designer_te_{f}_{NEW_EDGE_TAG}" for f in ("caller", "callee", "caps", "protocol", "desc"))
LAST_EXPORT = "export_last_design"  # Export: the design as its zip was last downloaded, since it was opened


def _initial_path() -> Path:
    """The start design: DESIGN of `streamlit run app.py -- DESIGN`, else LMOS_STUDIO_DESIGN, else acme."""
    given = _design_argument()
    if given is not None:
        return given
    configured = get_settings().design
    return configured if configured is not None else DEFAULT_SAMPLE


def _design_argument() -> Path | None:
    """The argument after `--` of `streamlit run app.py -- DESIGN` (Streamlit makes sys.argv the script and its
    arguments; `lmos-studio app` passes none). It was ignored: the app opened the bundled sample instead."""
    script, *arguments = sys.argv or [""]
    if Path(script).name != "app.py" or not arguments:  # under pytest or another runner: not ours to read
        return None
    return Path(arguments[0])


def _load_path(path: Path) -> LoadResult:
    try:  # exists() too raises for a path the system refuses (a name too long, a folder that cannot be searched)
        if not path.exists():
            raise DesignFileError("no such file or folder; open another design from the sidebar", path=str(path))
        if not (path.is_file() or path.is_dir()):  # /dev/zero would fill the memory, a pipe block for good
            raise DesignFileError(
                "is not a file or folder (a device or a pipe); give a design file or folder", path=str(path)
            )
        files = [path, *path.rglob("*")] if path.is_dir() else [path]
        mtime = max((_mtime(p) for p in files), default=0.0)
        return resources.read_design_files(str(path), mtime)
    except OSError as exc:  # unreadable file or folder: a message, not a traceback
        raise DesignFileError(f"cannot be read ({exc.strerror or exc}); check its permissions", path=str(path)) from exc


def _mtime(path: Path) -> float:
    """When the file last changed; 0 for a link that leads nowhere (dangling, or a loop), which reading skips:
    one in a design folder made the whole folder 'cannot be read' here, though the CLI reads it."""
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def history() -> History:
    """The open design's history, opening the configured design (or the acme sample) on first use."""
    if HISTORY not in st.session_state:
        path = _initial_path()
        result = _load_path(path)
        open_design(result, origin=str(path), saved_path=_save_target(path))
    value: History = st.session_state[HISTORY]
    return value


def current_design() -> Design:
    return history().present


def start_problem() -> LmosStudioError | None:
    """Why no design is open (the configured start design is missing or invalid), or None when one is.

    The error is kept until another design opens, so every page shows the same message, not a traceback."""
    if HISTORY in st.session_state:
        return None
    if START_ERROR not in st.session_state:
        try:
            history()
        except LmosStudioError as exc:
            st.session_state[START_ERROR] = exc
    problem: LmosStudioError | None = st.session_state.get(START_ERROR)
    return problem


def start_origin() -> str:
    """The start design's path as configured (for the error page)."""
    return str(_initial_path())


def open_design(result: LoadResult, *, origin: str, saved_path: str | None = None) -> None:
    """Replace the open design (a new history: undo does not cross designs)."""
    hist = History(present=result.design, origin=origin, saved_path=saved_path)
    hist.mark_saved()
    _keep_digests(hist, Path(saved_path) if saved_path else None)
    st.session_state[HISTORY] = hist
    st.session_state.pop(START_ERROR, None)
    st.session_state.pop(PENDING_OPEN, None)
    st.session_state[LOAD_WARNINGS] = list(result.warnings)
    st.session_state.pop(HIGHLIGHT, None)
    st.session_state.pop(LAST_EXPORT, None)  # another design's export: the Diff tab took it for this one's
    for key in DESIGN_CHOICES:
        st.session_state.pop(key, None)
        st.session_state.pop(key + SEARCH_SUFFIX, None)  # a large chooser's search field (widgets.search_select)
    drop_new_edge_form()  # its keys end in what was picked: dropped by prefix


def drop_new_edge_form() -> None:
    """Empty the Designer's new-trust-edge form (every key starting with one of `NEW_EDGE_FIELDS`): after an edge
    was added, or when another design opens."""
    for key in [k for k in st.session_state if str(k).startswith(NEW_EDGE_FIELDS)]:
        del st.session_state[key]


def open_path(path: Path, *, origin: str | None = None) -> None:
    """Open a design file or folder from disk."""
    result = _load_path(path)
    open_design(result, origin=origin or str(path), saved_path=_save_target(path))


def _save_target(path: Path) -> str | None:
    """Where Save writes: the file or folder itself (a folder: each resource into its file), never a bundled
    sample (that gets "Save as")."""
    if not path.exists() or path.resolve().is_relative_to(SAMPLES_DIR.resolve()):
        return None
    return str(path)


def _keep_digests(hist: History, path: Path | None) -> None:
    """What Save compares the disk with: the file's sha256, or each design file's of a folder."""
    hist.file_digest, hist.folder_digests = None, None
    if path is None:
        return
    if path.is_dir():
        try:
            hist.folder_digests = folder_digests(path)
        except (LmosStudioError, OSError):  # unreadable now: nothing known to compare with (as for a file)
            hist.folder_digests = None
    else:
        hist.file_digest = file_digest(path)


def edit(design: Design) -> None:
    """Make an edited design the open one (one undo step)."""
    history().apply(design)


def save(path: str, *, overwrite: bool = False) -> str:
    """Write the open design to `path` (atomically) and mark it saved there; returns the path written.

    Save to the file the design was read from or last saved to refuses when that file changed on disk since
    (another editor, a git checkout): writing would silently throw those changes away. A folder design is saved
    into its files (`design_folder`), refusing likewise when any of them changed, appeared or went. Save as to
    another file (or folder) that exists refuses too, unless `overwrite` (the user said so); so does Save as to a
    file whose name does not end in .yaml or .yml (the file read is saved under its own name, whatever it is).
    Where credentials were written as ***, and what of a hand-written file's layout could not be kept, is kept
    under SAVE_WARNINGS for the page to show; where a folder save put new resources, under SAVE_NOTES."""
    try:
        return _save_to(path, overwrite=overwrite)
    except OSError as exc:  # a path the system refuses (a name too long, a folder that cannot be searched)
        raise DesignFileError(f"cannot be saved there ({exc.strerror or exc}); choose another path", path=path) from exc


def _save_to(path: str, *, overwrite: bool) -> str:
    hist = history()
    read_from = folder_holding(path, [hist.origin] if os.sep in hist.origin else [])
    if read_from is not None:
        raise DesignFileError(  # the folder would hold every resource twice: its files', and this one's
            f"is inside the folder the design was read from ({read_from}): the folder would hold every resource "
            "twice; save it outside that folder",
            path=path,
        )
    check_new_design_file(path, saved_in_place=[hist.saved_path] if hist.saved_path else [])  # Save keeps the name
    if path != hist.saved_path and not overwrite and Path(path).exists():
        raise DesignFileError(
            "exists already, and Save as does not overwrite another file unasked; choose a new name, or tick "
            "Overwrite beside Save as",
            path=path,
        )
    try:
        if Path(path).is_dir():  # the folder read (or another design folder, Overwrite ticked): into its files
            expected = hist.folder_digests if path == hist.saved_path else None
            return _saved(hist, save_design_folder(hist.present, path, expected=expected))
        if path == hist.saved_path:
            check_file_unchanged(path, hist.file_digest)
    except DesignChangedError as exc:
        raise _changed_on_disk(exc) from exc
    # over a hand-written design its comments and key order are kept; a new file takes those of the one read
    return _saved(hist, save_design(hist.present, path, layout_from=hist.saved_path))


def _changed_on_disk(exc: DesignChangedError) -> DesignFileError:
    """The library's refusal (`DesignChangedError`) with what to do in the Designer."""
    if exc.changed:
        return DesignFileError(
            f"changed on disk since it was opened or saved here ({'; '.join(exc.changes())}), so Save would overwrite "
            "those changes; use Save as to keep yours in a file, or Reload to take the folder's (yours are lost)",
            path=exc.path,
        )
    return DesignFileError(
        "changed on disk since it was opened or saved here, so Save would overwrite those changes; "
        "use Save as to keep yours in another file, or Reload to take the file's (yours are lost)",
        path=exc.path,
    )


def _saved(hist: History, saved: Saved) -> str:
    """Mark the design saved where `saved` says, keep what Save compares the disk with next, and what to tell."""
    st.session_state[SAVE_WARNINGS] = saved.masked + saved.warnings  # masked_credentials, made by the save
    st.session_state[SAVE_NOTES] = list(saved.notes)
    hist.mark_saved(str(saved.path))
    if saved.path.is_dir():
        hist.file_digest, hist.folder_digests = None, saved.digests  # of the bytes written: no second read
    else:
        _keep_digests(hist, saved.path)
    return str(saved.path)


def is_new_here() -> bool:
    """Whether the open design is a bundled sample or empty (the Overview then opens its "Start here")."""
    hist = history()
    if not hist.present.agents or hist.origin.startswith("sample:"):
        return True
    return os.sep in hist.origin and Path(hist.origin).resolve().is_relative_to(SAMPLES_DIR.resolve())


def is_dirty() -> bool:
    """Whether the open design has edits that are not saved (False when none is open)."""
    hist = st.session_state.get(HISTORY)
    return bool(hist is not None and hist.dirty)


def origin_label() -> str:
    hist = history()
    origin = hist.origin
    if os.sep in origin:
        origin = Path(origin).name
    return origin + (" (unsaved changes)" if hist.dirty else "")
