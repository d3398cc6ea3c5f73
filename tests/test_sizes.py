"""Sizes in refusals say what they are under any limit (session 15 QA: an upload limit of a few KiB refused a zip
as "0.0 MiB")."""

from __future__ import annotations

import io
import zipfile

import pytest

from lmos_studio.errors import DesignFileError
from lmos_studio.export.importer import import_upload
from lmos_studio.sizes import size_and_limit, size_text


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 bytes"), (1, "1 byte"), (1023, "1023 bytes"), (1024, "1 KiB"), (1536, "1.5 KiB"), (20 * 2**20, "20 MiB")],
)
def test_size_text(size: int, text: str) -> None:
    assert size_text(size) == text


def test_a_size_just_over_its_limit_is_told_apart() -> None:
    assert size_and_limit(3 * 2**20, 2**20) == ("3 MiB", "1 MiB")
    assert size_and_limit(2**20 + 10, 2**20) == ("1,048,586 bytes", "1 MiB")


def test_an_uploaded_zip_over_a_small_limit_names_both_sizes() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.yaml", "x" * 5000)
    with pytest.raises(DesignFileError, match=r"export.zip: is [0-9.]+ KiB; zips over 100 bytes are refused"):
        import_upload("export.zip", buffer.getvalue(), max_bytes=100)
