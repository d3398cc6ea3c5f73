"""The large-design generator's fast writer reads back to exactly the design `write_design` gives."""

from __future__ import annotations

from types import ModuleType

from lmos_studio.formats.design_file import design_from_text, design_to_yaml
from lmos_studio.model import Agent, Capability
from lmos_studio.synthetic import synthetic_design
from tests.conftest import large_design_generator


def _generator() -> ModuleType:
    return large_design_generator()


def test_fast_writer_reads_back_like_write_design() -> None:
    design = synthetic_design(200, 10, 10, 600, seed=4)
    odd = Agent(
        name="odd",
        description='yes: "quoted" \\ back\nline two ünï',
        labels={"subset": "on", "x": "1.10"},
        capabilities=(
            Capability(name="no", version="1.0.0", examples=("", "- dash", "# hash", "a: b", "null", "~", "0x1F")),
        ),
    )
    design = design.replace(agents=(*design.agents, odd))
    fast = design_from_text(_generator().design_yaml(design), path="large.yaml").design
    studio = design_from_text(design_to_yaml(design), path="large.yaml").design
    assert fast == studio
    assert len(fast.agents) == 201 and len(fast.trust_edges) == len(design.trust_edges)
