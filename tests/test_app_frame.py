"""AppTest: no dead ends — a broken start design opens an error page on every page, never a traceback;
unsaved changes are not dropped without a question; an unknown LMOS kind names the nearest one."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lmos_studio.config import get_settings
from lmos_studio.errors import DesignFileError
from lmos_studio.formats.design_file import load_design
from lmos_studio.model import Group
from tests.conftest import ROOT, SAMPLES, run_cli

PAGES = ["overview", "registry", "designer", "playground", "evaluate", "export"]
AGNET = """apiVersion: lmos.eclipse/v1
kind: Agnet
metadata:
  name: billing-agent
spec:
  providedCapabilities: []
"""


@pytest.fixture(autouse=True)
def _settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LMOS_STUDIO_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()


def _text(at: AppTest) -> str:
    """Every text the run produced (elements of the main area and the sidebar, exceptions included)."""
    parts = [str(getattr(node, "value", "")) for node in at.main] + [str(getattr(n, "value", "")) for n in at.sidebar]
    parts += [str(getattr(e, "value", "")) for e in at.error] + [str(e.value) for e in at.exception]
    return "\n".join(parts)


def _broken(kind: str, tmp_path: Path) -> Path:
    if kind == "missing":
        return tmp_path / "nothere.yaml"
    path = tmp_path / f"{kind}.yaml"
    texts = {
        "agnet": AGNET,
        "malformed": "apiVersion: lmos.eclipse/v1\nkind: Agent\nmetadata: [unclosed\n",
        "not-a-mapping": "- just\n- a list\n",
    }
    path.write_text(texts[kind])
    return path


@pytest.mark.parametrize("kind", ["missing", "agnet", "malformed", "not-a-mapping"])
def test_every_page_with_a_broken_start_design_shows_a_message(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LMOS_STUDIO_DESIGN", str(_broken(kind, tmp_path)))
    get_settings.cache_clear()
    for name in PAGES:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        at.switch_page(f"app_pages/{name}.py")
        at.run()
        assert not at.exception, (name, at.exception)
        assert at.title[0].value == "The design did not open", name
        assert "DesignFileError" in at.error[0].value, name
        assert "Traceback" not in _text(at), name
        assert [e.label for e in at.sidebar.expander] == ["Open another design"], name


def test_the_error_page_leads_to_a_sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMOS_STUDIO_DESIGN", str(_broken("agnet", tmp_path)))
    get_settings.cache_clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert "did you mean 'Agent'?" in at.error[0].value
    at.sidebar.selectbox(key="sample_choice").select("acme").run()
    at.sidebar.button(key="open_sample").click().run()
    assert not at.exception
    assert at.title[0].value == "Overview · acme"


def test_unknown_lmos_kind_names_the_nearest(tmp_path: Path) -> None:
    path = _broken("agnet", tmp_path)
    with pytest.raises(
        DesignFileError, match=r"unknown kind 'Agnet' in the lmos.eclipse group; did you mean 'Agent'\?"
    ):
        load_design([path])
    result = run_cli("validate", str(path))
    assert result.returncode == 2
    assert "agnet.yaml:1: kind: unknown kind 'Agnet'" in result.stderr
    assert "did you mean 'Agent'?" in result.stderr
    assert "Traceback" not in result.stderr


def test_app_command_refuses_a_missing_design_at_once(tmp_path: Path) -> None:
    result = run_cli("app", str(tmp_path / "nothere.yaml"), timeout=30)
    assert result.returncode == 2
    assert "nothere.yaml: no such file or folder" in result.stderr


@pytest.mark.parametrize("taken", [True, False])
def test_app_command_refuses_a_port_it_cannot_use_with_exit_2(taken: bool) -> None:
    """Bug (session 14 QA): a port in use ended in Streamlit's "Port 8501 is not available", exit 1 (which CI
    reads as "found problems"), and --port 99999 in an OverflowError traceback; both are bad input now."""
    with socket.socket() as busy:
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        port = busy.getsockname()[1] if taken else 99999
        result = run_cli("app", "acme", "--port", str(port), timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    expected = f"port {port} is in use" if taken else "--port is 99999; give a port from 1 to 65535"
    assert f"error: {expected}" in result.stderr, result.stderr


def _edited_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[AppTest, Path]:
    path = tmp_path / "mine.yaml"
    path.write_text((SAMPLES / "faulty.yaml").read_text())
    monkeypatch.setenv("LMOS_STUDIO_DESIGN", str(path))
    get_settings.cache_clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    hist = at.session_state["history"]
    hist.apply(hist.present.replace(groups=(*hist.present.groups, Group(name="kept-group"))))
    at.run()
    assert "unsaved changes" in at.sidebar.markdown[1].value
    at.sidebar.selectbox(key="sample_choice").select("acme").run()
    at.sidebar.button(key="open_sample").click().run()
    assert not at.exception
    return at, path


def test_opening_another_design_with_unsaved_changes_asks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at, path = _edited_app(tmp_path, monkeypatch)
    assert at.session_state["history"].present.group("kept-group") is not None  # not replaced yet
    at.button(key="unsaved_cancel").click().run()
    assert at.session_state["history"].present.group("kept-group") is not None
    at.sidebar.button(key="open_sample").click().run()
    at.button(key="unsaved_discard").click().run()
    assert at.title[0].value == "Overview · acme"
    assert "kept-group" not in path.read_text()


def test_save_then_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at, path = _edited_app(tmp_path, monkeypatch)
    at.button(key="unsaved_save").click().run()
    assert not at.exception
    assert at.title[0].value == "Overview · acme"
    assert "kept-group" in path.read_text()


def test_streamlit_run_opens_the_design_given_after_the_double_dash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bug (session 14 QA): `streamlit run app.py -- mine.yaml` opened the bundled acme sample without a word
    (only LMOS_STUDIO_DESIGN was read), so one looked at another design than the one asked for. Now the
    argument opens (before LMOS_STUDIO_DESIGN); one that does not exist is the error page."""
    mine = tmp_path / "mine.yaml"
    mine.write_text((SAMPLES / "faulty.yaml").read_text())
    monkeypatch.setenv("LMOS_STUDIO_DESIGN", str(SAMPLES / "acme"))
    get_settings.cache_clear()
    monkeypatch.setattr(sys, "argv", [str(ROOT / "app.py"), str(mine)])  # as Streamlit sets it for the script
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Overview · faulty"
    monkeypatch.setattr(sys, "argv", [str(ROOT / "app.py"), str(tmp_path / "nothere.yaml")])
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert at.title[0].value == "The design did not open"
    assert "nothere.yaml" in at.error[0].value


def test_load_warnings_in_the_sidebar_are_never_markup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sidebar showed the design's load warnings as Markdown; they quote the file's path and names."""
    folder = tmp_path / "**bold** [link](http%3A)"
    folder.mkdir()
    design = folder / "design.yaml"
    agent = AGNET.replace("Agnet", "Agent")
    design.write_text(agent + "---\n" + agent)  # the same Agent twice: a warning naming the file
    monkeypatch.setenv("LMOS_STUDIO_DESIGN", str(design))
    get_settings.cache_clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    shown = [w.value for w in at.sidebar.warning]
    assert any("appears again" in w for w in shown), shown
    assert all("**bold**" not in w and "[link](" not in w for w in shown), shown


def test_the_sidebar_opens_an_export_zip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Missing (session 14 QA): the Export page's zip could be compared with but not opened again: the sidebar
    took YAML or JSON only, so "import it back" needed `lmos-studio import-manifests` and a file. Now a zip
    opens as import-manifests reads it (generated documents dropped, hand edits warned about)."""
    from lmos_studio.export import kustomize
    from lmos_studio.export.bundle import ExportOptions, export_design
    from lmos_studio.formats.design_file import read_design

    acme = read_design(SAMPLES / "acme")
    bundle = export_design(acme, ExportOptions())
    data = kustomize.zip_bytes(bundle, kustomize.render(bundle))
    monkeypatch.setenv("LMOS_STUDIO_DESIGN", str(SAMPLES / "faulty.yaml"))
    get_settings.cache_clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert at.title[0].value == "Overview · faulty"
    at.sidebar.file_uploader(key="upload").upload("acme-manifests.zip", data, "application/zip").run()
    at.sidebar.button(key="open_upload").click().run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    assert at.title[0].value == "Overview · acme"
    opened = at.session_state["history"].present
    assert len(opened.agents) == len(acme.agents) and opened.routing_tests == acme.routing_tests


def test_the_sidebar_opens_a_design_folder_or_file_by_its_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Missing (session 14 QA): a design folder (acme's layout: one file per resource) could be opened only
    at start (`lmos-studio app DIR`): the sidebar took samples and single uploads. A path on this machine now
    opens a folder or a file (Save then writes to that file; Reload reads the path again); a path that is not
    there is an error in the sidebar and the open design stays."""
    import shutil

    folder = tmp_path / "my-design"
    shutil.copytree(SAMPLES / "acme", folder)
    monkeypatch.setenv("LMOS_STUDIO_DESIGN", str(SAMPLES / "faulty.yaml"))
    get_settings.cache_clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.sidebar.text_input(key="open_path").input(str(tmp_path / "nothere")).run()
    at.sidebar.button(key="open_path_button").click().run()
    assert not at.exception
    assert any("nothere" in e.value and "no such file or folder" in e.value for e in at.error)
    assert at.title[0].value == "Overview · faulty"
    at.sidebar.text_input(key="open_path").input(f"  {folder}  ").run()
    at.sidebar.button(key="open_path_button").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.title[0].value == "Overview · acme"
    hist = at.session_state["history"]
    assert hist.origin == str(folder) and hist.saved_path == str(folder)  # Save writes into the folder's files
    assert hist.folder_digests is not None and "studio.yaml" in hist.folder_digests
    one = tmp_path / "one.yaml"
    one.write_text((SAMPLES / "faulty.yaml").read_text())
    at.sidebar.text_input(key="open_path").input(str(one)).run()
    at.sidebar.button(key="open_path_button").click().run()
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value == "Overview · faulty" and at.session_state["history"].saved_path == str(one)


def test_an_export_zip_opens_by_its_path_as_by_upload(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sidebar's path opened folders and YAML files, but a zip answered "is a zip; read it with
    import-manifests" although the uploader beside it opens the same zip; a zip path now opens as an upload."""
    from lmos_studio.export import kustomize
    from lmos_studio.export.bundle import ExportOptions, export_design
    from lmos_studio.formats.design_file import read_design

    bundle = export_design(read_design(SAMPLES / "acme"), ExportOptions())
    (tmp_path / "acme.zip").write_bytes(kustomize.zip_bytes(bundle, kustomize.render(bundle)))
    monkeypatch.setenv("LMOS_STUDIO_DESIGN", str(SAMPLES / "faulty.yaml"))
    get_settings.cache_clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.sidebar.text_input(key="open_path").input(str(tmp_path / "acme.zip")).run()
    at.sidebar.button(key="open_path_button").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.title[0].value == "Overview · acme"
    assert at.session_state["history"].saved_path is None  # a zip is never written to: Save as
    at.sidebar.text_input(key="open_path").input(str(tmp_path / "gone.zip")).run()
    at.sidebar.button(key="open_path_button").click().run()
    assert any("gone.zip" in e.value for e in at.error) and at.title[0].value == "Overview · acme"


def test_the_unsaved_changes_save_takes_a_typed_path_on_the_first_click(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The question's Save (a design with no file or folder of its own: a bundled sample) was disabled until its
    path field reported a value, which a text field does only on Enter or blur: a typed path + one click lost the
    click, as the Designer's Save as did. It is enabled now; an empty path is a message."""
    monkeypatch.setenv("LMOS_STUDIO_DESIGN", str(SAMPLES / "acme"))  # read only: saved to a typed path
    get_settings.cache_clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    hist = at.session_state["history"]
    hist.apply(hist.present.replace(groups=(*hist.present.groups, Group(name="kept-group"))))
    at.sidebar.selectbox(key="sample_choice").select("acme").run()
    at.sidebar.button(key="open_sample").click().run()
    assert not at.button(key="unsaved_save").disabled
    at.button(key="unsaved_save").click().run()
    assert not at.exception and any("Type the path" in e.value for e in at.error), [e.value for e in at.error]
    target = tmp_path / "kept.yaml"
    at.text_input(key="unsaved_save_as").input(str(target)).run()
    at.button(key="unsaved_save").click().run()
    assert not at.exception and "kept-group" in target.read_text()


def test_the_unsaved_changes_question_can_save_over_an_existing_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The question's Save to a typed path that exists said 'exists already … tick Overwrite beside the Designer's
    Save as', but the question cannot be left for the Designer and took no Overwrite there: the edits could be
    saved only under a new name. The question has its own Overwrite now."""
    monkeypatch.setenv("LMOS_STUDIO_DESIGN", str(SAMPLES / "acme"))  # read only: saved to a typed path
    get_settings.cache_clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    hist = at.session_state["history"]
    hist.apply(hist.present.replace(groups=(*hist.present.groups, Group(name="kept-group"))))
    target = tmp_path / "mine.yaml"
    target.write_text((SAMPLES / "faulty.yaml").read_text())
    at.sidebar.selectbox(key="sample_choice").select("acme").run()
    at.sidebar.button(key="open_sample").click().run()
    at.text_input(key="unsaved_save_as").input(str(target)).run()
    at.button(key="unsaved_save").click().run()
    assert not at.exception and any("exists already" in e.value for e in at.error), [e.value for e in at.error]
    assert not any("Designer" in e.value for e in at.error)  # the way out is in the question itself
    assert "kept-group" not in target.read_text()
    at.checkbox(key="unsaved_overwrite").check().run()
    at.button(key="unsaved_save").click().run()
    assert not at.exception, at.exception
    assert "kept-group" in target.read_text() and at.title[0].value == "Overview · acme"
