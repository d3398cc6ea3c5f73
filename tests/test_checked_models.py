"""Models the LMOS reader builds without a second validation (`model.checked_model`, `model.updated_model`)
are exactly the models validation builds: same fields in the same order, same types all the way down, same
fields set; on every design file of the repo, a generated large design and odd shapes."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from lmos_studio.errors import DesignFileError
from lmos_studio.formats import lmos, modeldocs
from lmos_studio.formats.design_file import design_from_text
from lmos_studio.model import Agent, Capability, Channel, RequiredCapability, updated_model
from lmos_studio.synthetic import synthetic_design
from tests.conftest import ROOT, large_design_generator


def same(a: Any, b: Any, where: str = "$") -> None:
    """a and b are equal with the same types and key order, models compared field by field."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, BaseModel):
        assert list(a.__dict__) == list(b.__dict__), where
        assert a.__pydantic_fields_set__ == b.__pydantic_fields_set__, f"{where}: fields set"
        assert a.__pydantic_extra__ == b.__pydantic_extra__ and a.__pydantic_private__ == b.__pydantic_private__
        for name in a.__dict__:
            same(a.__dict__[name], b.__dict__[name], f"{where}.{name}")
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            same(key, list(b)[list(a).index(key)], f"{where} key")
            same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


def by_validation(cls: type[BaseModel], values: dict[str, Any], unset: frozenset[str] = frozenset()) -> Any:
    """What `checked_model` stands for: the model validation makes of the values given."""
    return cls(**{name: value for name, value in values.items() if name not in unset})


def check_design(text: str, path: str, monkeypatch: pytest.MonkeyPatch) -> int:
    try:
        design = design_from_text(text, path=path).design
    except DesignFileError:
        return 0
    with monkeypatch.context() as patch:
        patch.setattr(lmos, "checked_model", by_validation)
        reference = design_from_text(text, path=path).design
    same(design.agents, reference.agents, path)
    same(design.channels, reference.channels, path)
    return len(design.agents)


def _generator() -> Any:
    return large_design_generator()


def test_agents_of_every_design_file_of_the_repo_are_the_validated_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    agents = 0
    for folder in ("sample_networks", "tests", "benchmarks/data"):
        for path in sorted((ROOT / folder).rglob("*.yaml")):
            text = path.read_text(encoding="utf-8")
            if "kind: Agent" in text:
                agents += check_design(text, path.name, monkeypatch)
    assert agents > 50


def test_agents_of_a_generated_large_design_are_the_validated_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    text = _generator().design_yaml(synthetic_design(200, 10, 10, 600, seed=11))
    assert check_design(text, "large.yaml", monkeypatch) == 200


ODD = """\
apiVersion: lmos.eclipse/v1
kind: Agent
metadata:
  name: 42
  namespace: shop
  labels: {subset: beta, 7: 1.10}
  annotations: {note: 'yes'}
  uid: abc
spec:
  id: 3
  description:
  supportedTenants: [acme, 12]
  supportedChannels: []
  providedCapabilities:
    - {name: view-bill, version: " 1.0.0 ", examples: [a, "b"]}
    - {name: pay, version: 1.10, examples: [1, two], extra: {x: 1}}
    - name: plain
      version: "2.0.0"
  other: 1
status: {ready: true}
---
apiVersion: lmos.eclipse/v1
kind: Channel
metadata: {name: web, labels: {tenant: acme, channel: 9}, x: 1}
spec:
  requiredCapabilities:
    - {name: view-bill, version: ">=1.0.0", strategy: MOST_SIMILAR}
    - {name: pay, version: 1.10, id: 7, other: [1]}
  extra: true
"""


def test_odd_shapes_are_the_validated_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    assert check_design(ODD, "odd.yaml", monkeypatch) == 1


@pytest.mark.parametrize("update", [{"source": "s", "endpoints": ()}, {"original": {"a": 1}, "workload": None}])
def test_updated_model_is_model_copy(update: dict[str, Any]) -> None:
    agent = Agent(name="x", capabilities=(Capability(name="c", version="1"),))
    same(updated_model(agent, update), agent.model_copy(update=update))


@pytest.mark.parametrize("cls", [Agent, Capability, Channel, RequiredCapability])
def test_models_built_without_validation_have_no_validators(cls: type) -> None:
    """`checked_model` skips validation: a validator added to one of these classes would be skipped silently
    on every design read from disk. Add it to the reader's checks (and to this test's thinking) instead."""
    decorators = cls.__pydantic_decorators__
    found = {
        kind: names
        for kind in ("validators", "field_validators", "root_validators", "model_validators")
        if (names := list(getattr(decorators, kind)))
    }
    assert found == {}, f"{cls.__name__} has validators that checked_model would skip: {found}"


NEAR_COMMON = [  # shapes next to the common one: the plain reader takes some, leaves the others to the checked one
    "metadata: {name: a}\n",
    "metadata: {name: a, namespace: ''}\nspec:\n",
    "metadata: {name: a, namespace: shop, labels: {subset: beta}, annotations: {}}\nspec: {id: x}\n",
    "metadata: {name: a, labels:, annotations:}\nspec: {description:, supportedTenants:}\n",
    "metadata: {name: a, labels: {n: 1}}\n",
    "metadata: {name: a, namespace: 7}\n",
    "metadata: {name: ''}\n",
    "metadata: {name: a, uid: u}\n",
    "metadata: {name: a}\nspec: {supportedChannels: [web, 1]}\n",
    "metadata: {name: a}\nspec: {supportedChannels: web}\n",
    "metadata: {name: a}\nspec: {providedCapabilities: {name: c}}\n",
    "metadata: {name: a}\nspec: {providedCapabilities: [x]}\n",
    "metadata: {name: a}\nspec: {providedCapabilities: [{name: c, version: 1}]}\n",
    "metadata: {name: a}\nspec: {providedCapabilities: [{name: c, version: '1', examples: [q]}], more: 1}\n",
    "metadata: {name: a}\nspec: []\n",
    "metadata: []\n",
    "spec: {}\n",
    "metadata: {name: a}\nstatus: {}\n",
    "metadata:\n  name: a\n  annotations:\n    studio.lmos.eclipse/resource-fields: '{\"/spec/x\": 1}'\n",
    'metadata:\n  name: a\n  annotations:\n    studio.lmos.eclipse/original: \'{"format":"td","document":{}}\'\n',
    'metadata:\n  name: a\n  annotations:\n    studio.lmos.eclipse/original: \'{"format": "td"}\'\n',
]


@pytest.mark.parametrize("body", NEAR_COMMON)
def test_the_plain_agent_reader_makes_what_the_checked_reader_makes(body: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """`lmos._plain_agent` (the common shape, without a call per field) gives the very model, or the very
    error, of the field-by-field reader."""
    text = "apiVersion: lmos.eclipse/v1\nkind: Agent\n" + body

    def read() -> Any:
        try:
            return design_from_text(text, path="a.yaml").design.agents
        except DesignFileError as exc:
            return ("error", str(exc), exc.line, exc.field)

    found = read()
    with monkeypatch.context() as patch:
        patch.setattr(lmos, "_plain_agent", lambda raw, source: None)
        reference = read()
    if isinstance(reference, tuple) and reference and reference[0] == "error":
        assert found == reference
    else:
        same(found, reference)


def test_the_plain_agent_reader_reads_the_generated_and_repo_designs_as_the_checked_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(modeldocs, "read_documents", lambda text: None)  # every Agent through the mappings
    texts = [_generator().design_yaml(synthetic_design(200, 10, 10, 600, seed=5))]
    for folder in ("sample_networks", "tests"):
        texts += [p.read_text(encoding="utf-8") for p in sorted((ROOT / folder).rglob("*.yaml"))]
    plain = 0
    original = lmos._plain_agent

    def counted(raw: Any, source: str) -> Any:
        nonlocal plain
        found = original(raw, source)
        plain += found is not None
        return found

    for text in texts:
        if "kind: Agent" not in text:
            continue
        try:
            with monkeypatch.context() as patch:
                patch.setattr(lmos, "_plain_agent", counted)
                found = design_from_text(text, path="d.yaml").design.agents
        except DesignFileError:
            continue
        with monkeypatch.context() as patch:
            patch.setattr(lmos, "_plain_agent", lambda raw, source: None)
            same(found, design_from_text(text, path="d.yaml").design.agents)
    assert plain >= 200
