"""A design's routing settings (StudioDesign `spec.routing`): the no-match threshold and a vocabulary of
synonym groups; their round trip, their bad input, and what they change."""

from __future__ import annotations

from pathlib import Path

import pytest

from lmos_studio.errors import DesignFileError
from lmos_studio.formats.design_file import design_from_text, design_to_yaml
from lmos_studio.model import Agent, Capability, Design, RoutingSettings
from lmos_studio.routing.statistical import StatisticalRouter
from lmos_studio.routing.table import routing_table
from tests.conftest import run_cli

STUDIO = """
apiVersion: studio.lmos.eclipse/v1alpha1
kind: StudioDesign
metadata: {{name: desk}}
spec:
  routing:
{routing}
"""


def studio(routing: str) -> str:
    return STUDIO.format(routing=routing)


def test_routing_settings_round_trip_through_the_design_file() -> None:
    design = design_from_text(
        studio("    minScore: 0.35\n    vocabulary: [[Laptop, notebook], [vpn, remote access]]")
    ).design
    assert design.routing.min_score == 0.35
    assert design.routing.vocabulary == (("laptop", "notebook"), ("vpn", "remote access"))
    again = design_from_text(design_to_yaml(design)).design
    assert again.routing == design.routing
    assert "routing" not in design_to_yaml(Design(name="plain"))  # defaults are not written


@pytest.mark.parametrize(
    ("routing", "message"),
    [
        ("    minScore: 1.5", r"spec\.routing\.minScore: .*must be at most 1, not 1\.5"),
        ("    vocabulary: [[laptop]]", r"spec\.routing\.vocabulary: .*group 0 must list at least two"),
        # Bug (session 16 QA): these said "Input should be a valid tuple"
        (
            "    vocabulary: [laptop, notebook]",
            r"spec\.routing\.vocabulary: .*group 0 must be a list of words or phrases, e\.g\. \[laptop, notebook\], "
            r"not 'laptop'",
        ),
        (
            "    vocabulary: laptop",
            r"spec\.routing\.vocabulary: .*a list of synonym groups, e\.g\. \[\[laptop, notebook\]\]",
        ),
        ("    vocabulary: [[laptop, 7]]", r"group 0: 7 is not a word or phrase; quote it"),
        ("    vocabulary: [[laptop, 0]]", r"group 0: 0 is not a word or phrase; quote it"),
        ("    vocabulary: [[w, v], [x, '  ']]", r"group 1 must list at least two non-empty"),
        # a single stop word was accepted and never matched: the routers drop it before the lexicon sees it
        ("    vocabulary: [[it, tech support]]", r"group 0: 'it' is a word the offline routers ignore .*'it desk'"),
        ("    vocabulary: [[laptop, notebook], [Help, assistance]]", r"group 1: 'help' is a word the offline"),
        # Bug (session 12 QA): these were accepted and taught the routers nothing (or a threshold of 1)
        ("    vocabulary: [[laptop, laptop]]", r"group 0 must list at least two different words"),
        ("    vocabulary: [[Laptop, ' laptop']]", r"group 0 must list at least two different words"),
        ("    vocabulary: [['!!', '??']]", r"group 0: '!!' has no letter a-z or digit"),
        ("    vocabulary: [[laptop, '💻']]", r"group 0: '💻' has no letter a-z or digit"),
        ("    minScore: true", r"spec\.routing\.minScore: .*a number from 0 to 1, not true/false"),
    ],
)
def test_bad_routing_settings_name_the_field(routing: str, message: str) -> None:
    with pytest.raises(DesignFileError, match=message):
        design_from_text(studio(routing), path="desk.yaml")


def test_a_routing_test_with_a_capability_but_no_agent_names_the_field() -> None:
    """Bug (session 12 QA): `expectCapability` without `expectAgent` could never pass ("expected /laptop_repair,
    routed to …"); a labelled CSV row so written is refused, and so is such a routing test now."""
    test = "  routingTests:\n  - {query: my laptop, expectCapability: repair}"
    text = STUDIO.format(routing="").replace("  routing:\n", test)
    with pytest.raises(DesignFileError, match=r"spec\.routingTests\[0\]: .*expectCapability without expectAgent"):
        design_from_text(text, path="desk.yaml")


def test_bad_vocabulary_is_exit_2_on_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "desk.yaml"
    path.write_text(AGENT + "---" + studio("    vocabulary: [[laptop]]"))
    result = run_cli("route", str(path), "my notebook is broken")
    assert result.returncode == 2 and "desk.yaml" in result.stderr and "spec.routing.vocabulary" in result.stderr
    assert "Traceback" not in result.stderr


AGENT = """apiVersion: lmos.eclipse/v1
kind: Agent
metadata: {name: hardware-agent}
spec:
  providedCapabilities:
  - {name: laptop_repair, version: 1.0.0, description: Repairs broken laptops., examples: [my laptop is broken]}
"""


def desk(vocabulary: tuple[tuple[str, ...], ...] = ()) -> Design:
    agents = (
        Agent(
            name="hardware-agent",
            capabilities=(Capability(name="laptop_repair", version="1.0.0", description="Repairs broken laptops."),),
        ),
        Agent(
            name="access-agent",
            capabilities=(Capability(name="reset_password", version="1.0.0", description="Resets a password."),),
        ),
    )
    return Design(name="desk", agents=agents, routing=RoutingSettings(vocabulary=vocabulary))


def test_a_design_vocabulary_teaches_the_offline_router_its_words() -> None:
    query = "my notebook will not start"
    without = StatisticalRouter(lexicon=False).fit(routing_table(desk(), None)).route(query)
    taught = StatisticalRouter(lexicon=False).fit(routing_table(desk((("laptop", "notebook"),)), None)).route(query)
    assert without.no_match  # "notebook" shares no word with anything the channel knows
    assert taught.best is not None and taught.best.agent == "hardware-agent"
    assert any("notebook" in e for e in taught.best.evidence)


def test_the_design_threshold_reaches_the_table_and_the_router() -> None:
    design = desk().replace(routing=RoutingSettings(min_score=0.9))
    table = routing_table(design, None)
    assert table.min_score == 0.9
    result = StatisticalRouter().fit(table).route("repair my laptop")
    assert result.threshold == 0.9 and result.with_threshold(0.0).best is not None
