"""Undo/redo over immutable designs: every edit pushes the previous design; nothing is copied twice.

Plain Python, no streamlit: the UI keeps one `History` in session state; tests drive it directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lmos_studio.model import Design

UNDO_LIMIT = 100  # steps kept; the issue asks for at least 50


@dataclass
class History:
    """The open design, what came before (undo) and after (redo), and what is on disk."""

    present: Design
    origin: str = ""  # where the design came from: a path, "sample:acme", "upload:x.yaml"
    saved_path: str | None = None  # the file Save writes to (None: only Save as)
    saved_digest: str | None = None  # digest of the design as last read or written
    file_digest: str | None = None  # sha256 of saved_path's bytes as last read or written (None: not known)
    folder_digests: dict[str, str] | None = None  # saved_path a folder: sha256 of each of its design files, likewise
    past: list[Design] = field(default_factory=list)
    future: list[Design] = field(default_factory=list)
    limit: int = UNDO_LIMIT

    def apply(self, design: Design) -> None:
        """Make `design` the present; an edit that changes nothing is not a step."""
        if design == self.present:
            return
        self.past.append(self.present)
        del self.past[: max(0, len(self.past) - self.limit)]
        self.present = design
        self.future.clear()

    def undo(self) -> bool:
        if not self.past:
            return False
        self.future.append(self.present)
        self.present = self.past.pop()
        return True

    def redo(self) -> bool:
        if not self.future:
            return False
        self.past.append(self.present)
        self.present = self.future.pop()
        return True

    @property
    def can_undo(self) -> bool:
        return bool(self.past)

    @property
    def can_redo(self) -> bool:
        return bool(self.future)

    @property
    def dirty(self) -> bool:
        """Whether the present design differs from what was last read or saved."""
        return self.saved_digest != self.present.digest()

    def mark_saved(self, path: str | None = None) -> None:
        if path is not None:
            self.saved_path = path
        self.saved_digest = self.present.digest()
