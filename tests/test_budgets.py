"""`budgets.check_agent`: an agent within every budget passes (its fast path), each field one over its budget is
refused naming that field, whatever capability it is in."""

from __future__ import annotations

from typing import Any

import pytest

from lmos_studio.errors import DesignFileError
from lmos_studio.formats import budgets
from lmos_studio.model import Agent, Capability


def agent(caps: tuple[Capability, ...] = (), **fields: Any) -> Agent:
    plain = (Capability(name="a", version="1"), Capability(name="b", version="2", examples=("x",)))
    return Agent(**{"name": "n", **fields}, capabilities=plain + caps)


def cap(**fields: Any) -> Capability:
    return Capability(**{"name": "c", "version": "1", **fields})


AT_LIMIT = [
    agent(name="n" * budgets.MAX_NAME_CHARS),
    agent(description="d" * budgets.MAX_DESCRIPTION_CHARS),
    agent(caps=tuple(cap() for _ in range(budgets.MAX_CAPABILITIES - 2))),
    agent(caps=(cap(name="c" * budgets.MAX_NAME_CHARS, version="v" * budgets.MAX_NAME_CHARS),)),
    agent(caps=(cap(description="d" * budgets.MAX_DESCRIPTION_CHARS),)),
    agent(caps=(cap(examples=("e",) * budgets.MAX_EXAMPLES),)),
    agent(caps=(cap(examples=("e", "e" * budgets.MAX_EXAMPLE_CHARS)),)),
    agent(caps=(cap(examples=()),)),
]


@pytest.mark.parametrize("item", AT_LIMIT)
def test_an_agent_at_its_budgets_passes(item: Agent) -> None:
    budgets.check_agent(item, source="x.yaml")


OVER = [
    (agent(name="n" * (budgets.MAX_NAME_CHARS + 1)), "name"),
    (agent(description="d" * (budgets.MAX_DESCRIPTION_CHARS + 1)), "description"),
    (agent(caps=tuple(cap() for _ in range(budgets.MAX_CAPABILITIES - 1))), "capabilities"),
    (agent(caps=(cap(name="c" * (budgets.MAX_NAME_CHARS + 1)),)), "capabilities[2].name"),
    (agent(caps=(cap(version="v" * (budgets.MAX_NAME_CHARS + 1)),)), "capabilities[2].name"),
    (agent(caps=(cap(description="d" * (budgets.MAX_DESCRIPTION_CHARS + 1)),)), "capabilities[2].description"),
    (agent(caps=(cap(examples=("e",) * (budgets.MAX_EXAMPLES + 1)),)), "capabilities[2].examples"),
    (agent(caps=(cap(examples=("e", "e" * (budgets.MAX_EXAMPLE_CHARS + 1))),)), "capabilities[2].examples[1]"),
]


@pytest.mark.parametrize(("item", "field"), OVER)
def test_a_field_over_its_budget_is_named(item: Agent, field: str) -> None:
    with pytest.raises(DesignFileError) as raised:
        budgets.check_agent(item, source="x.yaml", line=3)
    assert raised.value.field == field
    assert "shorten it" in str(raised.value)
