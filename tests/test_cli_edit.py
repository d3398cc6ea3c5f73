"""`lmos-studio edit …`: the Designer's edits from a shell, saved back into the design's file or folder.

Every capability of the app is reachable from the CLI: trust edges, groups, an agent's reach and adding or
removing agents and channels were only on the Designer's canvas (a script or CI job had to edit YAML by hand).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from lmos_studio.formats.design_file import read_design
from lmos_studio.model import TrustEdge
from tests.conftest import ACME, REFERENCE
from tests.test_import_original import cli


@pytest.fixture
def acme(tmp_path: Path) -> Path:
    folder = tmp_path / "acme"
    shutil.copytree(ACME, folder)
    return folder


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_trust_edge_added_and_removed_goes_back_into_the_folder(
    acme: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _files(acme)
    edge = ["--caller", "news-agent", "--callee", "weather-agent", "-c", "get-weather-forecast"]
    code, out, err = cli(capsys, "edit", "add-trust", str(acme), *edge, "--description", "news quotes the weather")
    assert code == 0, err
    assert out.strip() == f"added trust edge news-agent->weather-agent[get-weather-forecast]; wrote {acme}"
    added = TrustEdge(
        caller="news-agent",
        callee="weather-agent",
        capabilities=("get-weather-forecast",),
        description="news quotes the weather",
    )
    assert added in read_design(acme).trust_edges
    changed = {name for name, data in _files(acme).items() if before.get(name) != data}
    assert changed == {"studio.yaml"}  # the Studio document holds trust edges; no other file is touched
    assert "# " in (acme / "studio.yaml").read_text()  # its comments are kept

    code, out, err = cli(capsys, "edit", "add-trust", str(acme), *edge)  # the same edge again
    assert code == 2 and "already exists" in err and not out

    code, out, err = cli(capsys, "edit", "remove-trust", str(acme), *edge[:4], "-c", "get-weather-forecast")
    assert code == 0, err
    assert added not in read_design(acme).trust_edges
    assert _files(acme) == before  # added and removed: the folder is as it was, byte for byte


def test_groups_from_the_shell(acme: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, "edit", "add-group", str(acme), "news-desk", "-m", "news-agent")[0] == 0
    assert cli(capsys, "edit", "add-members", str(acme), "news-desk", "-m", "weather-agent")[0] == 0
    assert read_design(acme).group("news-desk").members == ("news-agent", "weather-agent")  # type: ignore[union-attr]
    assert cli(capsys, "edit", "rename-group", str(acme), "news-desk", "newsroom")[0] == 0
    assert cli(capsys, "edit", "remove-members", str(acme), "newsroom", "-m", "news-agent")[0] == 0
    assert read_design(acme).group("newsroom").members == ("weather-agent",)  # type: ignore[union-attr]
    assert cli(capsys, "edit", "dissolve-group", str(acme), "newsroom")[0] == 0
    assert read_design(acme).group("newsroom") is None
    code, _, err = cli(capsys, "edit", "add-group", str(acme), "Bad_Name", "-m", "news-agent")
    assert code == 2 and "group name 'Bad_Name'" in err
    code, _, err = cli(capsys, "edit", "add-group", str(acme), "desk", "-m", "nobody")
    assert code == 2 and "unknown agent(s) ['nobody']" in err


def test_reach_agents_and_channels(acme: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "edit", "reach", str(acme), "contract-agent", "--channel", "web", "--tenant", "acme")
    assert code == 0, err
    agent = read_design(acme).agent("contract-agent")
    assert agent is not None and agent.supported_channels == ("web",) and agent.supported_tenants == ("acme",)

    card = REFERENCE / "descriptions" / "a2a-card-v1.json"
    code, out, err = cli(capsys, "edit", "add-agents", str(acme), str(card))
    assert code == 0, err
    added = out.split("added ", 1)[1].split(";", 1)[0]
    assert read_design(acme).agent(added.split("/")[-1]) is not None
    code, out, err = cli(capsys, "edit", "add-agents", str(acme), str(card))  # the same again: said so
    assert code == 0 and out.strip() == f"the design is unchanged (kept (as described) {added}); nothing written"

    code, _, err = cli(capsys, "edit", "remove-agent", str(acme), "default/contract-agent")
    assert code == 0, err
    design = read_design(acme)
    assert design.agent("contract-agent") is None
    assert all("contract-agent" not in (e.caller, e.callee) for e in design.trust_edges)

    code, _, err = cli(capsys, "edit", "remove-channel", str(acme), "acme-ivr-canary")
    assert code == 0, err
    assert read_design(acme).channel("acme-ivr-canary") is None

    code, _, err = cli(capsys, "edit", "remove-channel", str(acme), "acme-web-stable")  # in two namespaces
    assert code == 2 and "2 channels are named 'acme-web-stable'" in err


def test_out_writes_elsewhere_and_leaves_the_design(
    acme: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _files(acme)
    target = tmp_path / "edited.yaml"
    code, _, err = cli(capsys, "edit", "add-group", str(acme), "desk", "-m", "news-agent", "--out", str(target))
    assert code == 0, err
    assert _files(acme) == before
    assert read_design(target).group("desk") is not None
    code, _, err = cli(capsys, "edit", "add-group", str(acme), "desk", "--out", str(acme / "inside.yaml"))
    assert code == 2 and "inside the folder the design was read from" in err and not (acme / "inside.yaml").exists()


def test_bad_input_writes_nothing(acme: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = _files(acme)
    code, out, err = cli(capsys, "edit", "remove-agent", str(acme), "nobody")
    assert code == 2 and err.strip() == "error: no agent named 'nobody'" and not out
    code, _, err = cli(capsys, "edit", "add-group", str(tmp_path / "missing"), "desk")
    assert code == 2 and "no such file or folder" in err
    assert _files(acme) == before


def test_a_single_hand_written_file_keeps_its_comments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.test_design_roundtrip import HAND_WRITTEN

    path = tmp_path / "support.yaml"
    path.write_text(HAND_WRITTEN, encoding="utf-8")
    agents = [a.name for a in read_design(path).agents]
    code, _, err = cli(capsys, "edit", "add-group", str(path), "desk", "-m", agents[0])
    assert code == 0, err
    text = path.read_text(encoding="utf-8")
    assert "# Acme support network: hand-written, kept in Git." in text and "# stable name, do not rename" in text
    assert read_design(path).group("desk") is not None


def _another_editor_writes(monkeypatch: pytest.MonkeyPatch, target: Path) -> None:
    """Between a command reading the design and writing it, another editor (a second `edit`) adds a line to
    `target`."""
    from lmos_studio.formats import design_file

    read = design_file.load_design

    def read_then_someone_writes(*args: Any, **kwargs: Any) -> Any:
        result = read(*args, **kwargs)
        target.write_text(target.read_text(encoding="utf-8") + "# their edit\n", encoding="utf-8")
        return result

    monkeypatch.setattr(design_file, "load_design", read_then_someone_writes)


def test_edit_refuses_a_folder_file_changed_between_read_and_write(
    acme: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`edit` on a folder compared nothing: a file another editor wrote while it ran was overwritten (the page's
    Save refuses that). Now it refuses with exit 2 naming the file, writes nothing, and the other edit stays."""
    studio = acme / "studio.yaml"
    theirs = studio.read_text(encoding="utf-8") + "# their edit\n"
    _another_editor_writes(monkeypatch, studio)
    before = _files(acme)
    code, out, err = cli(capsys, "edit", "add-group", str(acme), "desk", "-m", "news-agent")
    assert code == 2 and not out
    assert err == f"error: {studio} changed on disk since it was read; nothing was written; run again\n"
    after = _files(acme)
    assert after != before and after["studio.yaml"] == theirs.encode()  # theirs, not overwritten
    assert read_design(acme).group("desk") is None
    monkeypatch.undo()
    code, _, err = cli(capsys, "edit", "add-group", str(acme), "desk", "-m", "news-agent")  # run again: fine
    assert code == 0, err
    assert "# their edit" in studio.read_text(encoding="utf-8") and read_design(acme).group("desk") is not None


def test_edit_and_canary_refuse_a_file_changed_between_read_and_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.test_design_roundtrip import HAND_WRITTEN

    path = tmp_path / "support.yaml"
    path.write_text(HAND_WRITTEN, encoding="utf-8")
    agent = read_design(path).agents[0].name
    _another_editor_writes(monkeypatch, path)
    code, _, err = cli(capsys, "edit", "add-group", str(path), "desk", "-m", agent)
    assert code == 2 and err == f"error: {path} changed on disk since it was read; nothing was written; run again\n"
    assert path.read_text(encoding="utf-8") == HAND_WRITTEN + "# their edit\n"
    code, _, err = cli(capsys, "canary", str(path), "--out", str(path), "--agent", agent)
    assert code == 2 and f"error: {path} changed on disk since it was read" in err
    assert path.read_text(encoding="utf-8") == HAND_WRITTEN + "# their edit\n" * 2
    other = tmp_path / "other.yaml"  # --out elsewhere: nothing read there, nothing to compare
    code, _, err = cli(capsys, "edit", "add-group", str(path), "desk", "-m", agent, "--out", str(other))
    assert code == 0, err


def test_a_channel_or_tenant_no_label_can_hold_is_refused_and_linted(
    acme: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`edit reach --channel "bad channel!"` wrote a supported channel no Channel label can hold (it matches
    nothing), lint said nothing and export wrote it; `import --tenant "Ünï cødé"` alike."""
    before = _files(acme)
    for option, value in (("--channel", "bad channel!"), ("--tenant", "Ünï cødé")):
        code, _, err = cli(capsys, "edit", "reach", str(acme), "contract-agent", option, value)
        assert code == 2 and f"{option[2:]} {value!r} must be letters, digits" in err, err
        card = str(REFERENCE / "descriptions" / "a2a-card-v1.json")
        code, _, err = cli(capsys, "import", card, option, value)
        assert code == 2 and f"{option} {value!r} must be letters, digits" in err, err
    assert _files(acme) == before  # nothing written
    from lmos_studio.lint import lint_design

    design = read_design(acme)  # as a hand-written file would have it: lint names it
    agent = design.agent("contract-agent")
    assert agent is not None
    odd = design.with_agent(agent.model_copy(update={"supported_channels": ("web", "bad channel!")}))
    messages = [f.message for f in lint_design(odd) if f.code == "invalid-name"]
    assert any("supported channel 'bad channel!'" in m and "no Channel label holds it" in m for m in messages)
