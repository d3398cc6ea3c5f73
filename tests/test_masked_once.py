"""Saving and exporting mask each document once (`design_file.masked_design`) and take the warnings on what was
masked from that pass: they must be exactly what `masked_credentials` says, and the documents what
`design_documents` and `studio_document` give."""

from __future__ import annotations

from pathlib import Path

from lmos_studio.export.bundle import STUDIO_PATH, ExportOptions, export_design
from lmos_studio.formats.design_file import (
    design_documents,
    design_to_yaml,
    masked_credentials,
    masked_design,
    read_design,
    save_design,
    studio_document,
)
from lmos_studio.model import Agent, Design
from tests.secret_design import api_key, write_secret_design


def test_saving_the_hostile_design_warns_as_masked_credentials_does(tmp_path: Path) -> None:
    design = read_design(write_secret_design(tmp_path))
    warnings = masked_credentials(design)
    assert len(warnings) > 3  # agents, a channel, kept resources and the Studio document's rest
    saved = save_design(design, tmp_path / "saved.yaml")
    assert saved.masked == warnings
    assert saved.path.read_text(encoding="utf-8") == design_to_yaml(design)
    assert masked_design(design).documents == design_documents(design)
    assert masked_design(design).studio == studio_document(design)


def test_an_export_notes_what_masked_credentials_says(tmp_path: Path) -> None:
    design = read_design(write_secret_design(tmp_path, exportable=True))
    bundle = export_design(design, ExportOptions())
    noted = [note.removeprefix(f"{STUDIO_PATH}: ") for note in bundle.notes if "written as ***" in note]
    assert noted == masked_credentials(bundle.design) and noted
    assert masked_design(design, explicit_namespace=True).warnings == masked_credentials(design)


def test_a_namespace_among_unknown_metadata_keeps_the_order_of_what_was_masked() -> None:
    """An explicit `default` namespace (an export's resources) moves a namespace written among unknown metadata
    fields: the warnings still name the fields in the design file's order."""
    agent = Agent(
        name="a",
        labels={"k": api_key("LabelKey0123456789abcdefgh")},
        metadata_extras={"namespace": api_key("NsKey0123456789abcdefghij")},
    )
    design = Design(name="d", agents=(agent,))
    assert masked_design(design, explicit_namespace=True).warnings == masked_credentials(design)
    assert "resource /metadata/labels/k, resource /metadata/namespace" in masked_credentials(design)[0]
