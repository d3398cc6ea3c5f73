"""The Export page: AppTest for the logic (options, validation status, report, diff), Playwright for what a
person does (export, download the zip, open it)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from streamlit.testing.v1 import AppTest

from lmos_studio.config import get_settings
from lmos_studio.export import importer
from lmos_studio.export.bundle import file_tree
from tests.conftest import ROOT, SAMPLES, StartApp, settle


@pytest.fixture(autouse=True)
def _settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LMOS_STUDIO_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()


def _export_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("app_pages/export.py")
    at.run()
    assert not at.exception, at.exception
    return at


def test_page_shows_validation_files_and_policy_report() -> None:
    at = _export_page()
    assert at.title[0].value == "Export · acme"
    assert at.success[0].value.startswith("All ") and "valid" in at.success[0].value
    assert "agents/default/billing-agent-stable.yaml" in at.selectbox[0].options
    at.toggle[0].set_value(True).run()
    assert not at.exception
    assert "deployments/default/billing-agent-stable.yaml" in at.selectbox[0].options
    assert [m.label for m in at.metric] == ["enforced", "partial", "not-enforced"]
    assert at.metric[1].value == "4"  # capability-scoped edges need Istio paths
    at.toggle[1].set_value(True).run()
    assert at.metric[0].value == "4"


def test_page_reports_an_invalid_design_instead_of_exporting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMOS_STUDIO_DESIGN", str(SAMPLES / "faulty.yaml"))  # a version that is not SemVer
    get_settings.cache_clear()
    at = _export_page()
    assert "this design cannot be exported yet" in at.error[0].value
    assert "is not strict SemVer" in at.error[1].value


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        (0, "prod", "The field 'Move into namespace' ('prod'): the design spans namespaces default, lmos-demo"),
        (0, "Bad NS", "The field 'Move into namespace': 'Bad NS' must"),
        (1, "LMOS Runtime", "The field 'LMOS runtime namespace': 'LMOS Runtime' must be lowercase"),
    ],
)
def test_a_bad_value_in_a_namespace_field_names_the_field(field: int, value: str, said: str) -> None:
    # before: the page named the command line's flags (--namespace, --lmos-namespace), which the page has not, and
    # said "this design cannot be exported yet" when only the value typed in the page's field was wrong
    # (before that: 'LMOS Runtime' exported policies admitting namespace 'LMOS Runtime', where no pod is ever)
    at = _export_page()
    at.toggle[0].set_value(True)
    at.text_input[field].set_value(value).run()
    assert not at.exception
    headline, message = at.error[0].value, at.error[1].value.replace("\\", "")  # as read: Markdown unescaped
    assert "cannot be exported yet" not in headline and "field" in headline, headline
    assert said in message, message
    assert "fix the value typed there" in message or "clear the value typed there" in message, message
    assert "--" not in message, message
    assert at.text_input[field].label in said


def test_file_tree_lists_folders_once() -> None:
    assert file_tree(["a/b/x.yaml", "a/b/y.yaml", "a/z.yaml", "k.yaml"]).splitlines() == [
        "a/",
        "  b/",
        "    x.yaml",
        "    y.yaml",
        "  z.yaml",
        "k.yaml",
    ]


@pytest.mark.browser
def test_export_download_the_zip_and_open_it(start_app: StartApp, page: Any, tmp_path: Path) -> None:
    page.goto(start_app() + "/export")
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading", name="Export · acme")).to_be_visible(timeout=60_000)  # cold: builds the export
    settle(page)  # the heading shows while the first run still draws: a click then can be lost
    main.get_by_text("Workloads & policies").click()
    expect(main.get_by_text("6 notes")).to_be_visible(timeout=30_000)  # no workload (5), unsplit rollout: rerun done
    settle(page)  # the notes show before the rerun has drawn the rest
    with page.expect_download(timeout=30_000) as info:
        main.get_by_role("button", name="Download zip").click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    assert target.name == "acme-manifests.zip"
    with zipfile.ZipFile(io.BytesIO(target.read_bytes())) as archive:
        names = archive.namelist()
        assert "acme/kustomization.yaml" in names and "acme/deployments/default/contract-agent.yaml" in names
    design = importer.import_manifests(target).design
    assert len(design.agents) == 9 and len(design.trust_edges) == 3
    main.get_by_role("tab", name="Diff").click()
    expect(main.get_by_text("0 breaking", exact=False).first).to_be_visible(timeout=15_000)
    main.get_by_role("tab", name="Trust → policy").click()
    expect(main.get_by_test_id("stMetricValue")).to_have_text(["0", "4", "0"])  # scoped edges: partial at L4


@pytest.mark.browser
def test_an_uploaded_export_with_a_hand_edit_is_warned_about(start_app: StartApp, page: Any, tmp_path: Path) -> None:
    from lmos_studio.export import kustomize
    from lmos_studio.export.bundle import export_design
    from lmos_studio.formats.design_file import read_design
    from tests.conftest import ACME
    from tests.export_helpers import FULL

    bundle = export_design(read_design(ACME), FULL)
    files = kustomize.render(bundle)
    path = "deployments/default/billing-agent-stable.yaml"
    files[path] = files[path].replace(b"replicas: 1", b"replicas: 4")
    upload = tmp_path / "edited.zip"
    upload.write_bytes(kustomize.zip_bytes(bundle, files))
    page.goto(start_app() + "/export")
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading", name="Export · acme")).to_be_visible(timeout=60_000)  # cold: builds the export
    settle(page)  # the heading shows while the first run still draws: a click then can be lost
    main.get_by_role("tab", name="Diff").click()
    main.get_by_text("an uploaded design or export zip").click()
    uploader = main.locator("input[type=file]").first  # drawn by the pick's rerun
    uploader.wait_for(state="attached", timeout=30_000)
    settle(page)
    uploader.set_input_files(str(upload))
    warning = main.get_by_test_id("stAlertContentWarning")
    expect(warning).to_contain_text("Deployment default/billing-agent-stable", timeout=30_000)
    expect(warning).to_contain_text("spec.replicas: 4 in the file, 1 from the design")


def test_bundle_summaries_are_plain_library_results() -> None:
    from lmos_studio.export.bundle import ExportOptions, export_design
    from lmos_studio.formats.design_file import read_design
    from tests.conftest import ACME

    bundle = export_design(read_design(ACME), ExportOptions(with_workloads=True))
    assert bundle.validation_summary().startswith(f"All {len(bundle.validation.rows)} documents are valid")
    assert "RFC 1035 for Services" in bundle.validation_summary()
    counts = bundle.policy_counts()
    assert list(counts) == ["enforced", "partial", "not-enforced"] and counts["partial"] == 4
    assert sum(counts.values()) == len(bundle.policy.rows)


def test_a_large_export_opens_without_rendering_its_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above `AUTO_BUILD_FILES` the first render shows what the export holds (kinds, validation, policy
    counts, the file list) without rendering YAML; a preview renders one file; the button builds the zip."""
    import streamlit as st

    from lmos_studio.export import kustomize
    from lmos_studio.ui import export as ui

    st.cache_resource.clear()
    monkeypatch.setattr(ui, "AUTO_BUILD_FILES", 3)
    real_render = kustomize.render
    monkeypatch.setattr(kustomize, "render", lambda *a, **k: pytest.fail("rendered the bundle on first render"))
    at = _export_page()
    assert at.success[0].value.startswith("All ")
    assert any("**9** Agent" in c.value for c in at.caption)
    assert at.selectbox[0].value is None and "agents/default/billing-agent-stable.yaml" in at.selectbox[0].options
    assert [m.label for m in at.metric] == ["enforced", "partial", "not-enforced"]
    build = next(b for b in at.button if b.label.startswith("Build the "))
    at.selectbox[0].select("agents/default/billing-agent-stable.yaml").run()
    assert not at.exception, at.exception
    assert "name: billing-agent-stable" in at.code[-1].value
    monkeypatch.setattr(kustomize, "render", real_render)
    build = next(b for b in at.button if b.label.startswith("Build the "))
    build.click().run()
    assert not at.exception, at.exception
    assert not [b for b in at.button if b.label.startswith("Build the ")]
    assert at.selectbox[0].value == "agents/default/billing-agent-stable.yaml"


def test_a_preview_holding_a_configured_secret_shows_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import streamlit as st

    from lmos_studio.ui import export as ui

    st.cache_resource.clear()
    monkeypatch.setattr(ui, "AUTO_BUILD_FILES", 3)
    monkeypatch.setenv("LMOS_STUDIO_LLM_API_KEY", "billing-agent-stable")  # a value inside that Agent's file
    get_settings.cache_clear()
    at = _export_page()
    at.selectbox[0].select("agents/default/billing-agent-stable.yaml").run()
    assert not at.exception, at.exception
    assert any("configured secret" in e.value for e in at.error)


def test_kinds_of_hand_written_documents_are_never_markup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A design keeps documents of kinds it does not model verbatim; the page listed their kinds as Markdown, so a
    kind `**Big**:red[x]` rendered bold and red (text from files and registries is escaped before it is drawn).
    Such a kind is no Kubernetes kind, so the export refuses it (session 17); the refusal names it escaped."""
    from lmos_studio.formats.design_file import read_design, write_design
    from lmos_studio.markdown import escape
    from tests.conftest import ACME

    kind = "**Big**:red[x]"
    extra = {"apiVersion": "example.com/v1", "kind": kind, "metadata": {"name": "x", "namespace": "default"}}
    design = read_design(ACME).model_copy(update={"other_resources": (extra,)})
    path = tmp_path / "design.yaml"
    write_design(design, path)
    monkeypatch.setenv("LMOS_STUDIO_DESIGN", str(path))
    get_settings.cache_clear()
    at = _export_page()
    shown = " ".join(e.value for e in at.error)
    assert "is not a Kubernetes kind" in shown and kind not in shown, shown
    assert escape(kind) in shown or "\\*\\*Big" in shown, shown


def test_the_last_export_of_another_design_is_not_its_last_export() -> None:
    """The Diff tab compared the open design with "its last export (this session)": the design downloaded last,
    whichever it was. After downloading acme's zip and opening the router-benchmark sample, it was diffed against
    acme's export as if it were its own (every agent changed). A design opened has no last export until its zip
    is downloaded (as it has no undo history)."""

    def breaking_shown(at: AppTest) -> bool:
        return any("breaking" in m.value for m in at.markdown)

    def open_sample(at: AppTest, name: str) -> None:
        at.selectbox(key="sample_choice").set_value(name).run()
        at.button(key="open_sample").click().run()
        at.switch_page("app_pages/export.py")
        at.run()
        assert not at.exception, at.exception

    at = _export_page()
    at.get("download_button")[0].click().run()  # the zip downloaded: acme is its last export
    assert not at.exception, at.exception
    assert breaking_shown(at)
    open_sample(at, "router-benchmark")
    assert at.title[0].value.startswith("Export · ") and "acme" not in at.title[0].value
    assert not breaking_shown(at)
    assert any("Download the zip first" in i.value for i in at.info)


def test_the_diff_table_shows_a_bidi_override_as_its_escape() -> None:
    """The Diff tab's table showed design text as it was: an agent described 'Bills <U+202E>fdp.exe' read 'Bills
    exe.pdf' there, turned around, though the Overview writes such characters as escapes. It is built through
    resources.table now, like the Overview's."""
    at = _export_page()
    at.get("download_button")[0].click().run()  # acme's zip downloaded: the diff compares with it
    history = at.session_state["history"]
    agent = history.present.agents[0]
    history.apply(history.present.with_agent(agent.model_copy(update={"description": "Bills \u202efdp.exe"})))
    at.run()
    assert not at.exception, at.exception
    diff = next(d.value for d in at.dataframe if "before" in d.value.columns)
    cells = [str(v) for v in diff.to_numpy().ravel()]
    assert any("Bills \\u202efdp.exe" in c for c in cells), cells
    assert not [c for c in cells if "\u202e" in c]
