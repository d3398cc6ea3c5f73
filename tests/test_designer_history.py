"""Undo/redo over Designer edits (a Hypothesis state machine) and atomic saves under a simulated crash."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, precondition, rule

from lmos_studio.errors import DesignFileError, EditError
from lmos_studio.formats.design_file import read_design, write_design
from lmos_studio.history import UNDO_LIMIT, History
from lmos_studio.model import Design, TrustEdge
from lmos_studio.synthetic import synthetic_design
from lmos_studio.trust import (
    add_members,
    add_trust_edge,
    create_group,
    dissolve_group,
    remove_members,
    remove_trust_edge,
    rename_group,
)
from tests.conftest import ACME

START = synthetic_design(12, 2, 2, 10, seed=7)
AGENTS = [a.name for a in START.agents]
group_names = st.sampled_from(["alpha", "beta", "gamma", "group-000", "group-001"])


class DesignerEdits(RuleBasedStateMachine):
    """Random edits, undos and redos: History must behave like a list of designs with a cursor."""

    def __init__(self) -> None:
        super().__init__()
        self.history = History(present=START)
        self.model: list[Design] = [START]  # every design reachable by undo/redo, in order
        self.cursor = 0

    edits = Bundle("edits")

    def _edit(self, design: Design) -> None:
        self.history.apply(design)
        if design != self.model[self.cursor]:
            self.model = [*self.model[: self.cursor + 1], design]
            self.cursor += 1
            if len(self.model) > UNDO_LIMIT + 1:
                self.model.pop(0)
                self.cursor -= 1

    def _try(self, fn: object, *args: object) -> None:
        try:
            design = fn(self.history.present, *args)  # type: ignore[operator]
        except EditError:
            return
        self._edit(design)

    @rule(name=group_names, members=st.lists(st.sampled_from(AGENTS), max_size=3))
    def create(self, name: str, members: list[str]) -> None:
        try:
            design = create_group(self.history.present, name, members=members)
        except EditError:
            return
        self._edit(design)

    @rule(old=group_names, new=group_names)
    def rename(self, old: str, new: str) -> None:
        self._try(rename_group, old, new)

    @rule(name=group_names, members=st.lists(st.sampled_from(AGENTS), max_size=3))
    def add(self, name: str, members: list[str]) -> None:
        self._try(add_members, name, members)

    @rule(name=group_names, members=st.lists(st.sampled_from(AGENTS), max_size=3))
    def remove(self, name: str, members: list[str]) -> None:
        self._try(remove_members, name, members)

    @rule(name=group_names)
    def dissolve(self, name: str) -> None:
        self._try(dissolve_group, name)

    @rule(caller=st.sampled_from(AGENTS), callee=st.sampled_from(AGENTS))
    def trust(self, caller: str, callee: str) -> None:
        self._try(add_trust_edge, TrustEdge(caller=caller, callee=callee))

    @precondition(lambda self: bool(self.history.present.trust_edges))
    @rule(index=st.integers(0, 100))
    def untrust(self, index: int) -> None:
        edges = self.history.present.trust_edges
        self._try(remove_trust_edge, edges[index % len(edges)].key)

    @rule()
    def undo(self) -> None:
        moved = self.history.undo()
        assert moved == (self.cursor > 0)
        self.cursor = max(0, self.cursor - 1)

    @rule()
    def redo(self) -> None:
        moved = self.history.redo()
        assert moved == (self.cursor < len(self.model) - 1)
        self.cursor = min(len(self.model) - 1, self.cursor + 1)

    @invariant()
    def matches_model(self) -> None:
        assert self.history.present == self.model[self.cursor]
        assert self.history.can_undo == (self.cursor > 0)
        assert self.history.can_redo == (self.cursor < len(self.model) - 1)

    @invariant()
    def groups_are_consistent(self) -> None:
        design = self.history.present
        names = [g.name for g in design.groups]
        assert len(names) == len(set(names))
        refs = {e.caller for e in design.trust_edges} | {e.callee for e in design.trust_edges}
        assert {r for r in refs if r.startswith("group:")} <= {f"group:{n}" for n in names}


DesignerEdits.TestCase.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)
TestDesignerEdits = DesignerEdits.TestCase


def test_fifty_undos() -> None:
    history = History(present=START)
    design = START
    for i in range(60):
        design = create_group(design, f"g-{i:02d}")
        history.apply(design)
    for _ in range(50):
        assert history.undo()
    assert len(history.present.groups) == len(START.groups) + 10
    while history.redo():
        pass
    assert history.present == design


def test_dirty_flag_follows_saves(tmp_path: Path) -> None:
    history = History(present=START)
    history.mark_saved()
    assert not history.dirty
    history.apply(create_group(START, "alpha"))
    assert history.dirty
    history.undo()
    assert not history.dirty  # back to what is on disk
    history.redo()
    write_design(history.present, tmp_path / "d.yaml")
    history.mark_saved(str(tmp_path / "d.yaml"))
    assert not history.dirty and history.saved_path == str(tmp_path / "d.yaml")


def test_save_is_atomic_under_a_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "design.yaml"
    original = read_design(ACME)
    write_design(original, target)
    before = target.read_bytes()

    def crash(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(DesignFileError, match=r"design\.yaml"):
        write_design(create_group(original, "pci-zone"), target)
    monkeypatch.undo()
    assert target.read_bytes() == before  # the old file is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["design.yaml"]  # no temp file left behind
    assert read_design(target) == read_design(target)


def test_save_and_reload_keeps_groups_and_trust(tmp_path: Path) -> None:
    design = create_group(read_design(ACME), "pci-zone", members=["billing-agent-stable"])
    design = add_trust_edge(design, TrustEdge(caller="group:pci-zone", callee="contract-agent", protocol="http"))
    target = write_design(design, tmp_path / "saved.yaml")
    again = read_design(target)
    assert again.groups == design.groups and again.trust_edges == design.trust_edges
    assert write_design(again, tmp_path / "again.yaml").read_bytes() == target.read_bytes()  # deterministic
