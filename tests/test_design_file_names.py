"""A new design file's name ends in .yaml or .yml: the Designer's Save as and every command writing a design.

Before, `edit … --out design.txt`, `canary --out design`, `import-manifests --out design.txt` and the Designer's
Save as wrote a design under any name: a folder holding it skipped it (folders read *.yaml and *.yml only), and
nothing said so. Now each refuses with one message naming the path and the name to use (exit 2 on the CLI),
and writes nothing; a design read from a file of another name is still saved over it under its own name.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lmos_studio.errors import DesignFileError
from lmos_studio.export import kustomize
from lmos_studio.export.bundle import ExportOptions, export_design
from lmos_studio.formats.design_file import read_design, write_design
from tests.conftest import ACME, SAMPLES
from tests.test_designer_page import by_label, history, open_page
from tests.test_import_original import cli


@pytest.fixture
def faulty(tmp_path: Path) -> Path:
    path = tmp_path / "faulty.yaml"
    write_design(read_design(SAMPLES / "faulty.yaml"), path)
    return path


def _refused(err: str, path: Path, use: str) -> bool:
    return f"{path}: a new design file's name must end in .yaml or .yml; use {use}" in err


@pytest.mark.parametrize("name", ["design.txt", "design"])
def test_edit_out_refuses_a_name_without_yaml(
    name: str, faulty: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / name
    code, out, err = cli(capsys, "edit", "add-group", str(faulty), "desk", "--out", str(target))
    assert code == 2 and not out
    assert _refused(err, target, "design.yaml"), err
    assert err.count("\n") == 1  # one message
    assert not target.exists()


def test_canary_and_import_manifests_refuse_a_name_without_yaml(
    faulty: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "canary.txt"
    code, _, err = cli(capsys, "canary", str(faulty), "--out", str(target), "--agent", "billing-agent")
    assert code == 2 and _refused(err, target, "canary.yaml"), err
    assert not target.exists()

    exported = tmp_path / "exported"
    kustomize.write_folder(export_design(read_design(ACME), ExportOptions()), exported)
    target = tmp_path / "imported"
    code, _, err = cli(capsys, "import-manifests", str(exported), "--out", str(target))
    assert code == 2 and _refused(err, target, "imported.yaml"), err
    assert not target.exists()
    code, _, err = cli(capsys, "import-manifests", str(exported), "--out", str(tmp_path / "imported.yml"))
    assert code == 0, err


def test_a_design_file_of_another_name_is_still_saved_over_in_place(
    faulty: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    legacy = tmp_path / "design.txt"
    shutil.copyfile(faulty, legacy)
    code, _, err = cli(capsys, "edit", "add-group", str(legacy), "desk")
    assert code == 0, err
    assert read_design(legacy).group("desk") is not None
    code, _, err = cli(capsys, "edit", "add-group", str(legacy), "desk2", "--out", str(legacy))
    assert code == 0, err
    code, _, err = cli(capsys, "canary", str(legacy), "--out", str(legacy), "--agent", "billing-agent")
    assert code in (0, 1), err  # written (1: a canary that does not resolve)
    from lmos_studio.formats.design_file import check_new_design_file

    folder = tmp_path / "acme"
    shutil.copytree(ACME, folder)
    check_new_design_file(folder)  # a design folder is written into, whatever its name
    with pytest.raises(DesignFileError, match=r"use x\.yaml"):
        check_new_design_file(tmp_path / "x.json")


def test_save_as_refuses_a_name_without_yaml(faulty: Path, tmp_path: Path) -> None:
    app = open_page(faulty)
    for name in ("design.txt", "design"):
        target = tmp_path / name
        by_label(app.text_input, "Save as").input(str(target)).run()
        by_label(app.button, "Save as").click().run()
        assert not app.exception
        (shown,) = [e.value for e in app.error]  # one message, naming the path (escaped for Markdown)
        assert shown.endswith(f"{name}\\: a new design file's name must end in .yaml or .yml; use design.yaml")
        assert not target.exists() and history(app).saved_path == str(faulty)
    by_label(app.text_input, "Save as").input(str(tmp_path / "design.YML")).run()
    by_label(app.button, "Save as").click().run()
    assert not app.error and history(app).saved_path == str(tmp_path / "design.YML")


def test_save_keeps_the_name_of_the_file_read(faulty: Path, tmp_path: Path) -> None:
    legacy = tmp_path / "design.txt"
    shutil.copyfile(faulty, legacy)
    app = open_page(legacy)
    by_label(app.text_input, "Name").input("billing-zone").run()
    by_label(app.button, "Create group").click().run()
    by_label(app.button, "Save").click().run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    assert read_design(legacy).group("billing-zone") is not None
