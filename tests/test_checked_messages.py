"""Pydantic's errors in the house form: field path with list positions in brackets, YAML words, what to write.

Bug (session 17 fuzzing): a StudioDesign with `env: {A: b}` said "spec.agents.0.workload.env: StudioDesign: Input
should be a valid tuple", and `protocol: 5` "Input should be a valid string": a Python type and an index path no
YAML author writes, and nothing about what to write instead.
"""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lmos_studio.errors import DesignFileError
from lmos_studio.formats.checked import field_path, problem
from lmos_studio.formats.design_file import design_from_text

DESIGN = """apiVersion: studio.lmos.eclipse/v1alpha1
kind: StudioDesign
metadata: {{name: d}}
spec:
  agents:
    - name: a
{agent}
"""


@pytest.mark.parametrize(
    ("agent", "message"),
    [
        (
            "      workload: {image: img, env: {A: b}}",
            "d.yaml:7: spec.agents[0].workload.env: StudioDesign: must be a list, not a mapping",
        ),
        (
            "      endpoints: [{protocol: 5, url: http://a}]",
            "spec.agents[0].endpoints[0].protocol: StudioDesign: must be text, not a number; quote it if it is text "
            "('5')",
        ),
        (
            "      endpoints: [{protocol: on, url: http://a}]",
            "spec.agents[0].endpoints[0].protocol: StudioDesign: must be text, not true/false; quote it if it is text",
        ),
        (
            "      endpoints: [{url: http://a}]",
            "spec.agents[0].endpoints[0].protocol: StudioDesign: missing; add `protocol:`",
        ),
    ],
)
def test_a_design_field_of_the_wrong_shape_is_said_in_yaml_words(agent: str, message: str) -> None:
    with pytest.raises(DesignFileError) as err:
        design_from_text(DESIGN.format(agent=agent), path="d.yaml")
    assert message in str(err.value)
    assert "Input should" not in str(err.value) and "tuple" not in str(err.value)


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: str = Field(default="a", pattern="^[ab]$")
    count: int = Field(default=1, ge=1, le=9)
    share: float = Field(default=0.5, gt=0, lt=1)
    flag: bool = False
    parts: list[int] = []


def _first(data: dict[str, object]) -> tuple[str, str]:
    with pytest.raises(ValidationError) as err:
        _Shape.model_validate(data)
    return problem(err.value.errors()[0])


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"count": "x"}, ("count", "must be a whole number, not a string")),
        ({"count": 0}, ("count", "must be at least 1, not 0")),
        ({"count": 10}, ("count", "must be at most 9, not 10")),
        ({"share": 1}, ("share", "must be less than 1, not 1")),
        ({"share": 0}, ("share", "must be more than 0, not 0")),
        ({"flag": "maybe"}, ("flag", "must be true or false, not a string")),
        ({"parts": {"a": 1}}, ("parts", "must be a list, not a mapping")),
        ({"parts": [1, None]}, ("parts[1]", "must be a whole number, not empty (null)")),
        ({"colour": 1}, ("colour", "is not a field here; check its spelling or remove it")),
    ],
)
def test_each_kind_of_error_says_what_to_write(data: dict[str, object], expected: tuple[str, str]) -> None:
    assert _first(data) == expected


def test_field_paths_put_list_positions_in_brackets() -> None:
    assert field_path(("agents", 0, "endpoints", 12, "url")) == "agents[0].endpoints[12].url"
    assert field_path((3, "text")) == "[3].text"
    assert field_path(()) == ""
