"""Exports are strictly valid and read back exactly (issue 17).

* LMOS resources carry only what their CRD declares; an A2A skill's `title`/`tags` travel in
  studio/design.yaml and come back; the offline validator refuses unknown fields as
  `kubectl apply --validate=strict` does, and every object `kubectl kustomize` builds validates strictly.
* export → read the folder as a design → export is byte-identical; export → import-manifests → diff
  against the source reports no change; on every sample and on generated designs (Hypothesis).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lmos_studio.errors import ExportError
from lmos_studio.export import importer, kustomize
from lmos_studio.export.bundle import ExportOptions, export_design
from lmos_studio.export.validate import Validator
from lmos_studio.formats import a2a
from lmos_studio.formats.design_file import load_design, read_design
from lmos_studio.formats.yamlio import load_documents
from lmos_studio.lifecycle import diff_designs
from lmos_studio.model import Agent, Channel, Design
from lmos_studio.synthetic import synthetic_design
from tests.conftest import ACME, SAMPLES, run_cli
from tests.export_helpers import FULL

KUBECTL = shutil.which("kubectl")
EXPORTABLE_SAMPLES = [ACME, SAMPLES / "router-benchmark.yaml"]  # faulty.yaml is refused by export on purpose

CARD = {  # an A2A v1.0 card as real agents publish it: skill names differ from ids, skills have tags
    "name": "Weather Agent",
    "description": "Forecasts",
    "version": "1.2.0",
    "supportedInterfaces": [{"url": "https://weather.example.com/a2a", "protocolBinding": "JSONRPC"}],
    "capabilities": {"streaming": True},
    "defaultInputModes": ["text/plain"],
    "defaultOutputModes": ["text/plain"],
    "skills": [
        {
            "id": "get-forecast",
            "name": "Weather forecast",
            "description": "Forecast for a city",
            "tags": ["weather", "forecast"],
            "examples": ["will it rain in Bonn tomorrow?"],
            "inputModes": ["text/plain"],
        }
    ],
}


def a2a_design() -> Design:
    agent = a2a.card_to_agent(CARD, source="weather.json").model_copy(update={"supported_channels": ("web",)})
    channel = Channel(
        name="acme-web-stable",
        labels={"tenant": "acme", "channel": "web", "version": "1.0.0", "subset": "stable"},
        required_capabilities=(),
    )
    return Design(name="weather", agents=(agent,), channels=(channel,))


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a2a_agent_exports_strictly_valid_and_its_skill_fields_come_back(tmp_path: Path) -> None:
    design = a2a_design()
    assert design.agents[0].capabilities[0].extras == {
        "title": "Weather forecast",
        "tags": ["weather", "forecast"],
        "inputModes": ["text/plain"],
    }
    bundle = export_design(design)
    files = kustomize.render(bundle)
    agent = files["agents/default/weather-agent.yaml"].decode()
    assert "title" not in agent and "tags" not in agent and "inputModes" not in agent
    studio = files["studio/design.yaml"].decode()
    assert "/spec/providedCapabilities/0/title: Weather forecast" in studio
    assert all(r["status"] == "valid" for r in bundle.validation.rows)
    assert any("(strict)" in r["schema"] for r in bundle.validation.rows if r["resource"].startswith("Agent"))
    back = importer.import_manifests(kustomize.write_folder(bundle, tmp_path / "out")).design
    assert back.agents[0].capabilities == design.agents[0].capabilities  # title, tags, inputModes restored
    assert a2a.agent_to_card(back.agents[0])["skills"] == CARD["skills"]  # the skills come back verbatim


def test_validator_refuses_unknown_fields_like_kubectl_validate_strict() -> None:
    agent = {
        "apiVersion": "lmos.eclipse/v1",
        "kind": "Agent",
        "metadata": {"name": "a", "namespace": "default"},
        "spec": {"providedCapabilities": [{"name": "x", "version": "1.0.0", "title": "X"}]},
    }
    validator = Validator()
    with pytest.raises(ExportError, match=r"spec\.providedCapabilities\[0\].*'title' was unexpected"):
        validator.validate(agent, path="agents/default/a.yaml")
    assert validator.validate(agent, path="a.yaml", strict=False)["status"] == "valid"  # the CRD prunes
    for where, bad in (("metadata", {"name": "a", "owner": "me"}), ("spec", {"futureField": 1})):
        doc = {**agent, "spec": {}, where: {**agent.get(where, {}), **bad}}  # type: ignore[dict-item]
        with pytest.raises(ExportError, match="was unexpected"):
            validator.validate(doc, path="a.yaml")
    channel = {
        "apiVersion": "lmos.eclipse/v1",
        "kind": "Channel",
        "metadata": {"name": "c"},
        "spec": {"requiredCapabilities": [{"name": "x", "version": "*"}]},
        "status": {"resolveStatus": "RESOLVED", "extra": 1},
    }
    with pytest.raises(ExportError, match=r"Channel c: status\.extra: Additional properties"):
        validator.validate(channel, path="c.yaml")


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed: cannot build the kustomization")
@pytest.mark.parametrize("source", [*EXPORTABLE_SAMPLES, "a2a"], ids=lambda s: getattr(s, "name", s))
def test_every_object_kubectl_kustomize_builds_validates_strictly(tmp_path: Path, source: Path | str) -> None:
    design = a2a_design() if source == "a2a" else read_design(source)
    folder = kustomize.write_folder(export_design(design, FULL), tmp_path / "out")
    built = subprocess.run(
        [str(KUBECTL), "kustomize", str(folder)], capture_output=True, text=True, timeout=120, check=False
    )
    assert built.returncode == 0, built.stderr
    docs = load_documents(built.stdout, path="kubectl kustomize")
    assert len(docs) == len(export_design(design, FULL).applied_paths)
    validator = Validator()
    rows = [validator.validate(doc, path=f"built[{i}]", strict=True) for i, doc in enumerate(docs)]
    not_validated = {r["resource"].split(" ")[0] for r in rows if r["status"] != "valid"}
    assert not_validated <= {"AuthorizationPolicy"}  # Istio ships no offline schema; our subset is checked


@pytest.mark.parametrize("source", EXPORTABLE_SAMPLES, ids=lambda s: s.name)
def test_cli_export_of_an_export_is_byte_identical_and_diff_reports_no_change(tmp_path: Path, source: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    assert run_cli("export", str(source), "--out", str(first), "--with-istio").returncode == 0
    again = run_cli("export", str(first), "--out", str(second), "--with-istio")
    assert again.returncode == 0, again.stderr
    assert "kept from the design" not in again.stderr and "Kustomization" not in again.stderr
    assert _files(first) == _files(second)
    imported = tmp_path / "imported.yaml"
    assert run_cli("import-manifests", str(first), "--out", str(imported)).returncode == 0
    diff = run_cli("diff", str(source), str(imported), "--output", "json")
    assert diff.returncode == 0, diff.stderr
    assert json.loads(diff.stdout)["changes"] == []


def test_reading_an_export_ignores_previews_even_outside_preview(tmp_path: Path) -> None:
    folder = kustomize.write_folder(export_design(read_design(ACME)), tmp_path / "out")
    moved = tmp_path / "out" / "other" / "routing.yaml"
    moved.parent.mkdir(parents=True)
    shutil.copy(next((folder / "preview").rglob("*.yaml")), moved)  # the annotation alone is enough
    result = load_design([folder])
    assert result.design.other_resources == ()
    assert result.warnings == []


# --- generated designs ---------------------------------------------------------------------------------

EXTRAS = st.dictionaries(
    st.sampled_from(["title", "tags", "x-rating", "inputModes"]),
    st.one_of(st.text(max_size=8), st.lists(st.text(max_size=5), max_size=2), st.integers(0, 9)),
    max_size=2,
)


@st.composite
def generated_designs(draw: st.DrawFn) -> Design:
    """A synthetic design (lmos_studio.synthetic) with fields no CRD declares, as imports leave them."""
    design = synthetic_design(
        draw(st.integers(1, 12)),
        draw(st.integers(0, 4)),
        draw(st.integers(0, 2)),
        draw(st.integers(0, 8)),
        seed=draw(st.integers(0, 10**6)),
    )
    agents = []
    for agent in design.agents:
        caps = tuple(c.model_copy(update={"extras": draw(EXTRAS)}) for c in agent.capabilities)
        agents.append(agent.model_copy(update={"capabilities": caps, "spec_extras": draw(EXTRAS)}))
    channels = []
    for channel in design.channels:
        status = draw(st.sampled_from([{}, {"status": {"resolveStatus": "UNRESOLVED"}}]))
        reqs = list(channel.required_capabilities)
        if reqs and draw(st.booleans()):
            reqs.append(reqs[0])  # a duplicate entry, as hand-written Channels sometimes have
        channels.append(channel.model_copy(update={"extras": status, "required_capabilities": tuple(reqs)}))
    return design.replace(agents=tuple(agents), channels=tuple(channels))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(design=generated_designs())
def test_generated_designs_round_trip_exactly(design: Design) -> None:
    options = ExportOptions(with_workloads=True)
    bundle = export_design(design, options)  # validates every document strictly or raises
    files = kustomize.render(bundle)
    with tempfile.TemporaryDirectory() as tmp:
        folder = kustomize.write_folder(bundle, Path(tmp) / "out", files)
        read_back = load_design([folder])
        assert read_back.warnings == []
        assert kustomize.render(export_design(read_back.design, options)) == files
        imported = importer.import_manifests(folder).design
    assert diff_designs(design, imported).changes == []
    assert {a.key: a for a in imported.agents} == {
        a.key: a.model_copy(update={"labels": _explicit(a.labels)}) for a in design.agents
    }


def _explicit(labels: dict[str, str]) -> dict[str, str]:
    return {**labels, "subset": labels.get("subset", "stable")}  # export writes the default out


def test_a_kept_document_with_an_unknown_field_is_refused_as_kubectl_would() -> None:
    sloppy = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "faq"}, "data": {}, "dataa": {"x": "1"}}
    with pytest.raises(ExportError, match=r"ConfigMap faq: dataa: .*would refuse it: remove the field"):
        export_design(a2a_design().replace(other_resources=(sloppy,)))


HAND_WRITTEN_ISTIO = (
    {
        "action": "DENY",
        "selector": {"matchLabels": {"app": "x"}},
        "rules": [
            {
                "from": [{"source": {"notNamespaces": ["prod"], "ipBlocks": ["10.0.0.0/8"], "notPrincipals": ["a"]}}],
                "to": [{"operation": {"notPaths": ["/healthz"], "ports": ["8080"]}}],
                "when": [{"key": "request.headers[x-debug]", "values": ["1"]}],
            }
        ],
    },
    {"action": "CUSTOM", "provider": {"name": "ext-authz"}, "rules": [{"to": [{"operation": {"hosts": ["a.b"]}}]}]},
    {"targetRefs": [{"kind": "Service", "group": "", "name": "a"}], "rules": [{}]},
)


def test_a_kept_istio_authorization_policy_is_validated_against_istio_s_fields() -> None:
    """A hand-written AuthorizationPolicy with `when` (or `provider`, `targetRefs`), valid Istio, was refused:
    "spec.rules[0].when: … 'when' was unexpected …; `kubectl apply` … would refuse it: remove the field" (the schema
    held only the fields the export writes), while a typo under `source` or `operation` passed. It is now validated
    against every field of Istio's security/v1 AuthorizationPolicy, closed as strict validation closes them."""
    validator = Validator()
    for spec in HAND_WRITTEN_ISTIO:
        doc = {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy", "metadata": {"name": "p"}}
        assert validator.validate({**doc, "spec": spec}, path="p.yaml")["status"] == "valid", spec
    for typo, field in (({"principal": ["x"]}, "source"), ({"path": ["/"]}, "operation")):
        wrong = {"rules": [{"from" if field == "source" else "to": [{field: typo}]}]}
        with pytest.raises(ExportError, match=rf"{field}\.{next(iter(typo))}: Additional properties are not allowed"):
            validator.validate({**doc, "spec": wrong}, path="p.yaml")
    with pytest.raises(ExportError, match=r"when\[0\]: 'key' is a required property"):
        validator.validate({**doc, "spec": {"rules": [{"when": [{"values": ["1"]}]}]}}, path="p.yaml")


@pytest.mark.parametrize(
    ("extras", "field"),
    [
        ({"finalizers": "example.com/keep"}, "metadata.finalizers"),  # one string, not a list
        ({"finalizers": [5]}, "metadata.finalizers[0]"),
        ({"generateName": 5}, "metadata.generateName"),
    ],
)
def test_metadata_of_an_lmos_resource_is_validated_as_the_api_server_reads_it(
    extras: dict[str, object], field: str
) -> None:
    """An Agent written by hand with `finalizers: example.com/keep` exported as valid; the API server refuses it
    (ObjectMeta.finalizers is a list of strings)."""
    agent = Agent(name="a", metadata_extras=extras)
    with pytest.raises(ExportError, match=rf"Agent default/a: {re.escape(field)}: .*ObjectMeta") as caught:
        export_design(Design(agents=(agent,)))
    assert caught.value.field == field


def test_every_preview_validates_with_the_api_server_s_object_meta() -> None:
    """A preview's ownerReference named its Channel but had no uid, which ObjectMeta requires."""
    bundle = export_design(read_design(ACME), FULL)
    previews = [m for m in bundle.manifests if m.path.startswith("preview/")]
    assert previews and all(row["status"] == "valid" for row in bundle.validation.rows)
    for preview in previews:
        assert all(owner.get("uid") for owner in preview.document["metadata"].get("ownerReferences", []))
