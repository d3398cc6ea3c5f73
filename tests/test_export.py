"""Export: goldens of every sample, schema validation of every output, determinism, failures that name the
resource and field and write nothing, secrets never in the output, the CLI."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest

from lmos_studio.bundled import sample_designs
from lmos_studio.canary import make_canary
from lmos_studio.config import get_settings
from lmos_studio.errors import ExportError, ExportOptionError
from lmos_studio.export import crds, kustomize
from lmos_studio.export.bundle import ExportOptions, FieldNames, export_design, retarget
from lmos_studio.export.validate import Validator
from lmos_studio.formats.design_file import read_design
from lmos_studio.model import Agent, Capability, Channel, Design, EnvVar, Workload
from tests.conftest import ACME, SAMPLES, run_cli
from tests.export_helpers import FULL, documents, render

GOLDEN = Path(__file__).parent / "golden" / "export"
SAMPLE_DESIGNS = [path for name, path in sample_designs().items() if name != "faulty"]  # the bundled designs
MARKER = "sk-test-MARKER-0123456789abcdef"


@pytest.fixture(scope="module")
def acme_files() -> dict[str, bytes]:
    return render(read_design(ACME))


def test_the_faulty_sample_is_refused_naming_resource_and_field() -> None:
    with pytest.raises(ExportError, match=r"spec\.providedCapabilities\[\d\]\.version: '1\.0' is not strict SemVer"):
        render(read_design(SAMPLES / "faulty.yaml"))


@pytest.mark.parametrize("sample", SAMPLE_DESIGNS, ids=lambda p: p.stem)
def test_golden_export_of_every_sample(sample: Path) -> None:
    files = render(read_design(sample))
    golden = GOLDEN / sample.stem
    if os.environ.get("REGENERATE_GOLDEN"):
        shutil.rmtree(golden, ignore_errors=True)
        for path, data in files.items():
            (golden / path).parent.mkdir(parents=True, exist_ok=True)
            (golden / path).write_bytes(data)
    assert golden.is_dir(), f"no golden for {sample.name}: see tests/golden/README.md to generate it"
    stored = {str(p.relative_to(golden)): p.read_bytes() for p in sorted(golden.rglob("*")) if p.is_file()}
    assert sorted(stored) == sorted(files)
    for path, data in files.items():
        assert data == stored[path], f"{path} differs from the golden (see tests/golden/README.md)"


def test_every_output_document_validates(acme_files: dict[str, bytes]) -> None:
    validator = Validator()
    lmos = {k: jsonschema.Draft202012Validator(crds.lmos_schema(k)) for k in crds.LMOS_CRD_KINDS}
    kinds = set()
    for path, doc in documents(acme_files):
        kinds.add(doc["kind"])
        if doc["kind"] in ("Kustomization", "StudioDesign"):
            continue
        row = validator.validate(doc, path=path)
        assert row["status"] == "valid", row
        if doc["apiVersion"] == "lmos.eclipse/v1":
            lmos[doc["kind"]].validate(doc)
    assert {
        "Agent",
        "Channel",
        "ChannelRouting",
        "ChannelRollout",
        "CustomResourceDefinition",
        "Deployment",
        "Service",
        "ServiceAccount",
        "NetworkPolicy",
        "AuthorizationPolicy",
        "Namespace",
    } <= kinds


def test_crds_carry_names_status_and_printer_column() -> None:
    by_kind = {c["spec"]["names"]["kind"]: c for c in crds.crds(labels={})}
    assert sorted(c["metadata"]["name"] for c in by_kind.values()) == [
        "agents.lmos.eclipse",
        "channelrollouts.lmos.eclipse",
        "channelroutings.lmos.eclipse",
        "channels.lmos.eclipse",
    ]
    assert [by_kind[k]["spec"]["names"]["shortNames"] for k in crds.LMOS_CRD_KINDS] == [
        ["ag"],
        ["ch"],
        ["cr"],
        ["crl"],
    ]
    channel = by_kind["Channel"]["spec"]["versions"][0]
    assert channel["subresources"] == {"status": {}}
    assert channel["additionalPrinterColumns"][0]["jsonPath"] == ".status.resolveStatus"
    assert "subresources" not in by_kind["Agent"]["spec"]["versions"][0]
    assert by_kind["Channel"]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["required"] == [
        "requiredCapabilities"
    ]


def test_lmos_resources_follow_the_export_rules(acme_files: dict[str, bytes]) -> None:
    docs = dict(documents(acme_files))
    for path, doc in docs.items():
        if doc["kind"] == "Channel":
            assert all(
                isinstance(doc["metadata"]["labels"][k], str) for k in ("tenant", "channel", "version", "subset")
            )
        if doc["kind"] in ("Agent", "Channel", "ChannelRollout"):
            assert doc["metadata"]["namespace"], path
            assert "status" not in doc
            text = acme_files[path].decode()
            for studio_only in ("endpoints", "source:", "original", "workload", "securit"):
                assert studio_only not in text, (path, studio_only)
    assert docs["agents/default/contract-agent.yaml"]["metadata"]["labels"]["subset"] == "stable"
    preview = docs["preview/default/acme-ivr-stable.yaml"]
    assert preview["metadata"]["annotations"] == {"studio.lmos.eclipse/preview": "true"}
    kustomization = docs["kustomization.yaml"]["resources"]
    assert not any(p.startswith(("preview/", "studio/")) for p in kustomization)
    assert set(kustomization) == {p for p in acme_files if not p.startswith(("preview/", "studio/", "kustomization"))}


def test_workloads_follow_the_operator_discovery_rules() -> None:
    agent = Agent(
        name="billing",
        namespace="shop",
        labels={"subset": "canary"},
        capabilities=(Capability(name="view-bill", version="1.0.0"),),
        workload=Workload(
            image="img:1",
            replicas=3,
            port=9000,
            serves_capabilities_document=True,
            env=(EnvVar(name="MODE", value="fast"), EnvVar(name="API_KEY", secret_name="s", secret_key="k")),
        ),
    )
    plain = agent.model_copy(update={"name": "other", "workload": Workload(image="img:2")})
    bundle = export_design(
        read_design(ACME).replace(agents=(agent, plain), channels=(), rollouts=(), trust_edges=(), groups=()),
        ExportOptions(with_workloads=True),
    )
    docs = {m.ref: m.document for m in bundle.manifests}
    service = docs["Service shop/billing"]
    assert service["spec"]["ports"] == [
        {"name": "http", "appProtocol": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}
    ]
    deployment = docs["Deployment shop/billing"]
    assert deployment["metadata"]["labels"]["lmos-agent"] == "true"
    assert "lmos-agent" not in docs["Deployment shop/other"]["metadata"]["labels"]
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["template"]["metadata"]["labels"]["subset"] == "canary"
    assert set(service["spec"]["selector"].items()) <= set(deployment["spec"]["template"]["metadata"]["labels"].items())
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["ports"][0]["containerPort"] == 9000
    assert container["env"] == [
        {"name": "MODE", "value": "fast"},
        {"name": "API_KEY", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
    ]
    assert docs["ServiceAccount shop/billing"]["automountServiceAccountToken"] is False


def test_the_preview_names_a_document_serving_agent_by_its_workload() -> None:
    """An agent whose workload serves its capabilities document is replaced by the Agent the operator builds from
    it, with spec.id = the workload name (LMOS.md §1.8); the ChannelRouting preview kept the design's id."""
    design = read_design(ACME)
    billing = design.agent("billing-agent-stable")
    assert billing is not None
    served = billing.model_copy(
        update={"id": "billing-id", "workload": Workload(image="img:1", serves_capabilities_document=True)}
    )
    bundle = export_design(design.with_agent(served), ExportOptions(with_workloads=True))
    docs = {m.ref: m.document for m in bundle.manifests}
    groups = docs["ChannelRouting default/acme-ivr-stable"]["spec"]["capabilityGroups"]
    assert {g["name"]: g["id"] for g in groups}["billing-agent-stable"] == "billing-agent-stable"
    assert docs["Agent default/billing-agent-stable"]["spec"]["id"] == "billing-id"  # the design keeps its own


def test_agents_without_workload_get_none_and_are_reported() -> None:
    bundle = export_design(read_design(ACME), ExportOptions(with_workloads=True))
    assert not any(m.ref == "Deployment lmos-demo/weather-agent" for m in bundle.manifests)
    assert any("lmos-demo/weather-agent has no workload" in n for n in bundle.notes)


def test_output_is_byte_identical_for_the_same_design(acme_files: dict[str, bytes]) -> None:
    design = read_design(ACME)
    shuffled = design.replace(agents=tuple(reversed(design.agents)), channels=tuple(reversed(design.channels)))
    again = render(shuffled)
    assert again == acme_files
    bundle = export_design(design, FULL)
    assert kustomize.zip_bytes(bundle) == kustomize.zip_bytes(export_design(shuffled, FULL))


def test_zip_has_fixed_timestamps_and_modes(tmp_path: Path) -> None:
    bundle = export_design(read_design(ACME), FULL)
    target = kustomize.write_zip(bundle, tmp_path / "acme.zip")
    with zipfile.ZipFile(target) as archive:
        infos = archive.infolist()
        assert [i.filename for i in infos] == sorted(i.filename for i in infos)
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
        assert {(i.external_attr >> 16) & 0o777 for i in infos} == {0o644}
        assert all(i.filename.startswith("acme/") for i in infos)


def _broken(**changes: object) -> ExportError:
    design = read_design(ACME)
    with pytest.raises(ExportError) as info:
        export_design(design.replace(**changes), FULL)
    return info.value


def test_channel_without_a_label_names_resource_and_field() -> None:
    channel = Channel(name="web", labels={"tenant": "acme", "channel": "web"})
    error = _broken(channels=(channel,), rollouts=())
    assert error.resource == "Channel default/web" and error.field == "metadata.labels.version"


@pytest.mark.parametrize(
    ("agent", "resource", "field"),
    [
        (Agent(name="Bad_Name"), "Agent default/Bad_Name", "metadata.name"),
        (Agent(name="ok", labels={"version": ">=1.0"}), "Agent default/ok", "metadata.labels.version"),
        (
            Agent(name="ok", capabilities=(Capability(name="c", version="1.0"),)),
            "Agent default/ok",
            "spec.providedCapabilities[0].version",
        ),
        (
            Agent(name="ok", workload=Workload(image="")),
            "Deployment default/ok",
            "spec.template.spec.containers[0].image",
        ),
        (
            Agent(name="ok", workload=Workload(image="i", env=(EnvVar(name="DB_PASSWORD", value="hunter2"),))),
            "Deployment default/ok",
            "spec.template.spec.containers[0].env[0]",
        ),
        (
            Agent(name="ok", workload=Workload(image="i", replicas=-1)),
            "Deployment default/ok",
            "spec.replicas",
        ),
        (
            Agent(name="ok", workload=Workload(image="i", service_account="a" * 70)),
            "Agent default/ok",
            "workload.serviceAccount",
        ),
        (  # an agent's name is its Service's (RFC 1035, ≤ 63): refused at the Agent, as lint reports it
            Agent(name="a" * 70, workload=Workload(image="i")),
            f"Agent default/{'a' * 70}",
            "metadata.name",
        ),
        # what the API server (1.30) refuses in a container and passed offline before
        (
            Agent(name="ok", workload=Workload(image="img:1 ")),
            "Deployment default/ok",
            "spec.template.spec.containers[0].image",
        ),
        (
            Agent(name="ok", workload=Workload(image="i", env=(EnvVar(name="MY VAR", value="x"),))),
            "Deployment default/ok",
            "spec.template.spec.containers[0].env[0].name",
        ),
        (
            Agent(
                name="ok", workload=Workload(image="i", env=(EnvVar(name="K", secret_name="Bad_S", secret_key="k"),))
            ),
            "Deployment default/ok",
            "spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef.name",
        ),
        (
            Agent(
                name="ok", workload=Workload(image="i", env=(EnvVar(name="K", secret_name="s", secret_key="a key"),))
            ),
            "Deployment default/ok",
            "spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef.key",
        ),
        (  # a Service name is an RFC 1035 label: the API server refuses one that starts with a digit, and an
            # agent's name is its Service's, so the Agent is refused first (lint: invalid-name)
            Agent(name="1billing", workload=Workload(image="i")),
            "Agent default/1billing",
            "metadata.name",
        ),
    ],
)
def test_invalid_designs_fail_with_resource_and_field(agent: Agent, resource: str, field: str) -> None:
    error = _broken(agents=(agent,), channels=(), rollouts=(), trust_edges=(), groups=())
    assert (error.resource, error.field) == (resource, field), str(error)


@pytest.mark.parametrize(
    ("name", "suggested", "problem"),
    [
        ("a.b", "a-b", "must be lowercase letters, digits and '-'"),  # an RFC 1123 subdomain, not a label
        ("1billing", "agent-1billing", "must start with a letter"),  # an RFC 1123 label, not an RFC 1035 one
    ],
)
@pytest.mark.parametrize("options", [ExportOptions(), FULL], ids=["lmos-only", "with-workloads"])
def test_an_agent_name_no_service_can_have_is_refused_as_lint_reports_it(
    name: str, suggested: str, problem: str, options: ExportOptions
) -> None:
    """An agent without a workload named `a.b` exported 'valid' (its Agent name is an RFC 1123 subdomain), and
    with workloads so did its NetworkPolicy and AuthorizationPolicy selecting pods `a.b`; yet the runtime calls
    the agent at `<agent>.<namespace>.svc.cluster.local`, a Service the API server refuses to create under that
    name, and lint reports `invalid-name` (an error). Export now refuses it too, naming the agent and lint's fix."""
    design = read_design(ACME)
    design = design.replace(agents=(*design.agents, Agent(name=name)))
    with pytest.raises(ExportError) as info:
        export_design(design, options)
    error = info.value
    assert (error.resource, error.field) == (f"Agent default/{name}", "metadata.name"), str(error)
    assert problem in str(error) and "RFC 1035" in str(error) and f"rename the agent, e.g. {suggested!r}" in str(error)


def test_the_cli_refuses_to_export_an_agent_name_no_service_can_have(tmp_path: Path) -> None:
    design = tmp_path / "design.yaml"
    design.write_text("apiVersion: lmos.eclipse/v1\nkind: Agent\nmetadata: {name: a.b}\nspec: {}\n")
    result = run_cli("export", str(design), "--out", str(tmp_path / "out"))
    assert result.returncode == 2, result.stderr
    assert "Agent default/a.b: metadata.name: 'a.b'" in result.stderr and "'a-b'" in result.stderr
    assert not (tmp_path / "out").exists()
    lint = run_cli("lint", str(design))
    assert lint.returncode != 0 and "invalid-name" in lint.stdout + lint.stderr  # the same verdict as lint


def test_a_failed_export_writes_nothing(tmp_path: Path) -> None:
    design = tmp_path / "design.yaml"
    design.write_text(
        "apiVersion: lmos.eclipse/v1\nkind: Channel\nmetadata: {name: web}\nspec: {requiredCapabilities: []}\n"
    )
    result = run_cli("export", str(design), "--out", str(tmp_path / "out"), "--zip", str(tmp_path / "out.zip"))
    assert result.returncode == 2
    assert "Channel default/web: metadata.labels.tenant" in result.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.zip").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["design.yaml"]


def test_an_export_error_names_the_file_and_line_the_resource_was_read_from(tmp_path: Path) -> None:
    """Bug (session 21 QA): export refused a Channel without labels with "Channel default/c: metadata.labels.tenant:
    missing", naming no file or line, unlike validate; now it names where the Channel was read, moved by
    --namespace too."""
    design = tmp_path / "design.yaml"
    design.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: keep}\n---\n"
        "apiVersion: lmos.eclipse/v1\nkind: Channel\nmetadata: {name: c}\nspec: {requiredCapabilities: []}\n"
    )
    result = run_cli("export", str(design), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert f"error: {design}:5: Channel default/c: metadata.labels.tenant: missing" in result.stderr, result.stderr
    moved = run_cli("export", str(design), "--out", str(tmp_path / "out"), "--namespace", "prod")
    assert moved.returncode == 2
    assert f"error: {design}:5: Channel prod/c: metadata.labels.tenant: missing" in moved.stderr, moved.stderr
    with pytest.raises(ExportError) as err:  # the library without locations: as before
        export_design(read_design(design))
    assert str(err.value).startswith("Channel default/c: metadata.labels.tenant: missing"), str(err.value)


def test_export_refuses_to_replace_a_folder_that_is_not_an_export(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(ExportError, match="not an earlier LMOS Studio export"):
        kustomize.write_folder(export_design(read_design(ACME)), tmp_path)
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_export_under_a_file_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "plain.txt").write_text("mine")
    result = run_cli("export", str(ACME), "--out", str(tmp_path / "plain.txt" / "out"))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "cannot write the export" in result.stderr
    assert (tmp_path / "plain.txt").read_text() == "mine"


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        (ExportOptions(with_registry=True, registry_image=""), "--registry-image: ''"),
        (ExportOptions(with_registry=True, registry_image=" lmos-studio:1 "), "--registry-image: ' lmos-studio:1 '"),
        # a NetworkPolicy would admit pods of namespace 'Bad_NS', which cannot exist: nothing would be admitted
        (ExportOptions(with_workloads=True, lmos_namespace="Bad_NS"), "--lmos-namespace: 'Bad_NS'"),
        (ExportOptions(namespace="Bad NS"), "--namespace: 'Bad NS'"),
    ],
)
def test_bad_export_options_are_refused_naming_the_option(options: ExportOptions, needle: str) -> None:
    with pytest.raises(ExportError) as caught:
        export_design(read_design(SAMPLES / "router-benchmark.yaml"), options)
    assert str(caught.value).startswith(needle), str(caught.value)
    assert "agent" not in str(caught.value)


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (
            ExportOptions(with_workloads=True, lmos_namespace="Bad_NS"),
            "The field 'LMOS runtime namespace': 'Bad_NS' must",
        ),
        (ExportOptions(namespace="Bad NS"), "The field 'Move into namespace': 'Bad NS' must"),
    ],
)
def test_a_form_names_its_fields_in_the_option_messages(options: ExportOptions, said: str) -> None:
    # the messages named the CLI's flags on the Export page too, which has fields, not flags
    fields = FieldNames(namespace="Move into namespace", lmos_namespace="LMOS runtime namespace")
    with pytest.raises(ExportOptionError) as caught:
        export_design(read_design(SAMPLES / "router-benchmark.yaml"), replace(options, fields=fields))
    message = str(caught.value)
    assert message.startswith(said) and message.endswith("; fix the value typed there"), message
    assert "--" not in message
    with pytest.raises(ExportOptionError, match=r"^--"):  # the CLI's own wording is kept
        export_design(read_design(SAMPLES / "router-benchmark.yaml"), options)


def test_moving_a_design_of_two_namespaces_names_the_field_on_a_form() -> None:
    fields = FieldNames(namespace="Move into namespace")
    with pytest.raises(ExportOptionError) as caught:
        export_design(read_design(ACME), ExportOptions(namespace="prod", fields=fields))
    assert str(caught.value) == (
        "The field 'Move into namespace' ('prod'): the design spans namespaces default, lmos-demo; moving them into "
        "one would change what each Channel resolves; clear the value typed there"
    )
    with pytest.raises(ExportOptionError, match=r"^--namespace prod: .* Export without --namespace$"):
        export_design(read_design(ACME), ExportOptions(namespace="prod"))


def test_a_bad_namespace_of_the_design_says_rename_the_namespace() -> None:
    design = read_design(SAMPLES / "router-benchmark.yaml")
    design = design.replace(agents=tuple(a.model_copy(update={"namespace": "Shop_NS"}) for a in design.agents))
    with pytest.raises(ExportError, match=r"rename the namespace$"):
        export_design(design)


@pytest.mark.parametrize("flag", ["--zip", "--yaml"])
def test_a_file_target_that_is_a_folder_writes_nothing(tmp_path: Path, flag: str) -> None:
    (tmp_path / "here").mkdir()
    result = run_cli("export", str(ACME), "--out", str(tmp_path / "out"), flag, str(tmp_path / "here"))
    assert result.returncode == 2 and "is a folder" in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()  # before: the folder was written, then the zip failed


def test_an_unknown_output_format_writes_nothing(tmp_path: Path) -> None:
    result = run_cli("export", str(ACME), "--out", str(tmp_path / "out"), "-o", "xml")
    assert result.returncode == 2 and "--output 'xml'" in result.stderr
    assert not (tmp_path / "out").exists()


def test_re_export_replaces_an_earlier_export(tmp_path: Path) -> None:
    out = tmp_path / "out"
    kustomize.write_folder(export_design(read_design(ACME), FULL), out)
    kustomize.write_folder(export_design(read_design(ACME)), out)
    assert not (out / "deployments").exists() and (out / "agents").is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_no_secret_value_in_any_output_file(tmp_path: Path) -> None:
    env = {"OPENAI_API_KEY": MARKER, "LMOS_STUDIO_LLM_API_KEY": MARKER, "LMOS_STUDIO_REGISTRY_TOKEN": MARKER}
    result = run_cli(
        "export",
        str(ACME),
        "--out",
        str(tmp_path / "out"),
        "--zip",
        str(tmp_path / "acme.zip"),
        "--with-istio",
        "-o",
        "json",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    files = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert len(files) > 50
    for file in [*files, tmp_path / "acme.zip"]:
        assert MARKER.encode() not in file.read_bytes(), file
    with zipfile.ZipFile(tmp_path / "acme.zip") as archive:
        assert all(MARKER.encode() not in archive.read(name) for name in archive.namelist())
    assert MARKER not in result.stdout + result.stderr


def test_a_configured_secret_typed_into_the_design_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    opaque = "opaque-MARKER-0123456789abcdef"  # no secret's shape (MARKER's sk- is refused before this check)
    monkeypatch.setenv("LMOS_STUDIO_LLM_API_KEY", opaque)
    get_settings.cache_clear()
    try:
        agent = Agent(name="a", workload=Workload(image="i", env=(EnvVar(name="MODEL_CONFIG", value=opaque),)))
        design = read_design(ACME).replace(agents=(agent,), channels=(), rollouts=(), trust_edges=(), groups=())
        with pytest.raises(ExportError, match="configured secret"):
            kustomize.render(export_design(design, FULL))
    finally:
        monkeypatch.delenv("LMOS_STUDIO_LLM_API_KEY")
        get_settings.cache_clear()


def test_namespace_moves_a_single_namespace_design() -> None:
    design = read_design(ACME)
    single = design.replace(
        agents=tuple(a for a in design.agents if a.namespace == "default"),
        channels=tuple(c for c in design.channels if c.namespace == "default"),
    )
    bundle = export_design(single, ExportOptions(namespace="prod", with_workloads=True))
    namespaces = {m.document["metadata"].get("namespace") for m in bundle.manifests} - {None}
    assert namespaces == {"prod"}
    preview = next(m.document for m in bundle.manifests if m.path == "preview/prod/acme-ivr-stable.yaml")
    assert preview["spec"]["capabilityGroups"][0]["capabilities"][0]["host"].endswith(".prod.svc.cluster.local")
    with pytest.raises(ExportError, match="spans namespaces default, lmos-demo"):
        export_design(design, ExportOptions(namespace="prod"))


def test_namespace_moves_what_names_the_design_s_objects_by_key(tmp_path: Path) -> None:
    """Bug (session 21 QA): `export --namespace prod` moved agents, Channels and rollouts but left what names them
    in `default`: re-imported, every routing test failed ("channel 'default/acme-web-stable' is not a Channel of
    this design"), endpoints stayed at `….default.svc.cluster.local`, and a trust edge to `default/contract-agent`
    dangled, so `--with-workloads` exited 2. Now routing tests, trust edges, group members, out-of-scope messages,
    canvas positions and each agent's endpoints at its own Service move along."""
    from lmos_studio.export.importer import import_manifests
    from lmos_studio.model import OutOfScopeExample, TrustEdge
    from lmos_studio.routing.regression import run_routing_tests
    from lmos_studio.routing.statistical import StatisticalRouter

    acme = read_design(ACME)
    edge = TrustEdge(caller="default/billing-agent-stable", callee="default/contract-agent", protocol="http")
    design = acme.replace(
        agents=tuple(a for a in acme.agents if a.namespace == "default"),
        channels=tuple(c for c in acme.channels if c.namespace == "default"),
        routing_tests=tuple(t for t in acme.routing_tests if not t.channel.startswith("lmos-demo/")),
        trust_edges=(*acme.trust_edges, edge),
        groups=(
            acme.groups[0].model_copy(update={"members": ("default/billing-agent-stable", "billing-agent-canary")}),
            *acme.groups[1:],
        ),
        routing=acme.routing.model_copy(
            update={"out_of_scope": (OutOfScopeExample(text="book a flight", channel="default/acme-web-stable"),)}
        ),
        layout={"positions": {"agent:default/contract-agent": [1, 2], "channel:default/acme-ivr-stable": [3, 4]}},
    )
    before = run_routing_tests(design, router=StatisticalRouter())
    assert len(before) == 3 and all(o.passed for o in before), [o.message for o in before]
    kustomize.write_folder(export_design(design, ExportOptions(namespace="prod")), tmp_path / "prod")
    moved = import_manifests(tmp_path / "prod").design
    after = run_routing_tests(moved, router=StatisticalRouter())
    assert [(o.test.channel, o.passed) for o in after] == [
        ("prod/acme-web-stable", True),
        ("prod/acme-web-stable", True),
        ("prod/acme-ivr-stable", True),
    ], [o.message for o in after]
    assert TrustEdge(caller="prod/billing-agent-stable", callee="prod/contract-agent", protocol="http") in (
        moved.trust_edges
    )
    assert moved.groups[0].members == ("prod/billing-agent-stable", "billing-agent-canary")
    assert moved.routing.out_of_scope[0].channel == "prod/acme-web-stable"
    assert moved.layout["positions"] == {"agent:prod/contract-agent": [1, 2], "channel:prod/acme-ivr-stable": [3, 4]}
    billing = moved.agent("billing-agent-stable", "prod")
    assert billing is not None
    assert [e.uri for e in billing.endpoints] == [
        "http://billing-agent-stable.prod.svc.cluster.local:8080",
        "ws://billing-agent-stable.prod.svc.cluster.local:8080/subscriptions",
    ]
    export_design(moved, ExportOptions(with_workloads=True))  # no edge dangles
    export_design(design, ExportOptions(namespace="prod", with_workloads=True))


def _shop_canary() -> Design:
    """The acme agents and Channels of namespace default moved to `shop`, with a canary of billing-agent-stable."""
    acme = read_design(ACME)
    single = acme.replace(
        agents=tuple(a for a in acme.agents if a.namespace == "default"),
        channels=tuple(c for c in acme.channels if c.namespace == "default"),
        rollouts=(),
        routing_tests=(),
    )
    return make_canary(retarget(single, "shop"), agents=["billing-agent-stable"])


def test_namespace_moves_the_canary_virtual_service() -> None:
    """Bug (session 21 QA): `export --namespace prod` of a canary design moved everything but the subset-split
    VirtualService, still written to namespace shop and injecting `x-namespace: shop`: the operator answered the
    channels of prod from shop. Now it moves, with the x-namespace its routes set."""
    design = _shop_canary()
    files = render(design, replace(FULL, namespace="prod"))
    path = "other/default/virtualservice-lmos-operator-subset-split.yaml"  # beside the operator: it stays
    ((_, service),) = documents({path: files[path]})
    assert service["metadata"]["namespace"] == "default"
    routes = [r for http in service["spec"]["http"] if http["name"] != "default" for r in http["route"]]
    assert len(routes) == 6  # pass-x-subset, two channels' splits (stable, canary), namespace
    assert {r["headers"]["request"]["set"]["x-namespace"] for r in routes} == {"prod"}
    assert [h["name"] for h in service["spec"]["http"]] == [
        "pass-x-subset-prod",
        "split-prod-acme-ivr-stable-rollout",
        "split-prod-acme-web-stable-rollout",
        "namespace-prod",
        "default",
    ]
    applied = [path for path, data in files.items() if b"shop" in data and not path.startswith("studio/")]
    assert applied == []


def test_namespace_refuses_other_resources_it_cannot_move() -> None:
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cache", "namespace": "shop"}}
    elsewhere = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "monitoring"}}
    design = _shop_canary()
    with pytest.raises(ExportOptionError, match=r"^--namespace prod: the design keeps ConfigMap shop/cache in names"):
        export_design(
            design.replace(other_resources=(*design.other_resources, config)), replace(FULL, namespace="prod")
        )
    moved = export_design(
        design.replace(other_resources=(*design.other_resources, elsewhere)), ExportOptions(namespace="prod")
    )
    assert any(m.path == "other/monitoring/configmap-x.yaml" for m in moved.manifests)  # not the design's namespace


def test_cli_export_writes_folder_and_zip(tmp_path: Path) -> None:
    result = run_cli(
        "export",
        str(ACME),
        "--out",
        str(tmp_path / "out"),
        "--zip",
        str(tmp_path / "acme.zip"),
        "--with-workloads",
    )
    assert result.returncode == 0, result.stderr
    assert "ok:" in result.stdout and "partial" in result.stdout  # L4 only: capability scopes need Istio
    assert (tmp_path / "out" / "kustomization.yaml").read_text().startswith(kustomize.HEADER)
    with zipfile.ZipFile(tmp_path / "acme.zip") as archive:
        assert "acme/kustomization.yaml" in archive.namelist()
    assert run_cli("export", str(ACME)).returncode == 2


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (kustomize) not installed")
def test_kubectl_kustomize_builds_the_folder(tmp_path: Path) -> None:
    kustomize.write_folder(export_design(read_design(ACME), FULL), tmp_path / "out")
    built = subprocess.run(
        ["kubectl", "kustomize", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    assert built.stdout.count("\nkind: ") + built.stdout.startswith("kind: ") >= 40


def test_cached_shapes_never_hide_an_invalid_enum_type_or_field() -> None:
    validator = Validator()
    bundle = export_design(read_design(ACME), ExportOptions(with_workloads=True))
    channel = next(m.document for m in bundle.manifests if m.document["kind"] == "Channel")
    validator.validate(channel, path="c.yaml")
    required = [{**r, "strategy": "LOWEST"} for r in channel["spec"]["requiredCapabilities"]]
    with pytest.raises(ExportError, match="LOWEST") as info:
        validator.validate({**channel, "spec": {"requiredCapabilities": required}}, path="c.yaml")
    assert re.fullmatch(r"spec\.requiredCapabilities\[\d\]\.strategy", info.value.field or "")
    service = next(m.document for m in bundle.manifests if m.document["kind"] == "Service")
    validator.validate(service, path="s.yaml")
    bad_port = {
        **service,
        "spec": {**service["spec"], "ports": [{**service["spec"]["ports"][0], "port": "abc"}]},
    }
    with pytest.raises(ExportError, match="abc"):
        validator.validate(bad_port, path="s.yaml")
    extra = {**service, "spec": {**service["spec"], "bogus": "x"}}
    with pytest.raises(ExportError, match="bogus"):
        validator.validate(extra, path="s.yaml")
    assert validator.validate(extra, path="s.yaml", strict=False)["status"] == "valid"


def test_an_agent_name_too_long_for_a_pod_label_is_refused_where_pods_are_selected() -> None:
    """Bug (session 16 QA): an agent of 70 characters (a valid Agent name: up to 253) was exported with
    NetworkPolicies and AuthorizationPolicies selecting `app.kubernetes.io/name: <70 characters>`, which the API
    server refuses (label values are at most 63), and the export said every document was valid: selectors'
    labels were not checked, only metadata.labels."""
    long_name = "billing-" + "a" * 62
    design = read_design(ACME)
    design = design.replace(
        agents=tuple(
            a.model_copy(update={"name": long_name}) if a.name == "contract-agent" else a for a in design.agents
        ),
        trust_edges=tuple(
            e.model_copy(
                update={
                    "callee": long_name if e.callee == "contract-agent" else e.callee,
                    "caller": long_name if e.caller == "contract-agent" else e.caller,
                }
            )
            for e in design.trust_edges
        ),
    )
    with pytest.raises(ExportError, match=r"rename the agent"):
        export_design(design, FULL)  # its ServiceAccount's and Service's names say so first
    unmanaged = design.replace(  # its pods deployed by the team: the export writes policies selecting them only
        agents=tuple(a.model_copy(update={"workload": None}) if a.name == long_name else a for a in design.agents)
    )
    with pytest.raises(ExportError, match=r"metadata.name: .* rename the agent") as caught:
        export_design(unmanaged, FULL)  # the Agent's own name says so first (lint: invalid-name, a Service name)
    assert caught.value.resource == f"Agent default/{long_name}"
    assert long_name in str(caught.value) and "at most 63" in str(caught.value)
    policies = [
        m.document
        for m in export_design(unmanaged, FULL, validate=False).manifests
        if m.document["kind"] in ("NetworkPolicy", "AuthorizationPolicy") and long_name in m.path
    ]
    assert policies
    for doc in policies:  # and each policy selecting its pods, were the Agent not checked first
        with pytest.raises(ExportError, match=r"matchLabels.app.kubernetes.io/name: .* rename the agent") as caught:
            Validator().validate(doc, path="policy.yaml")
        assert long_name in str(caught.value) and "at most 63" in str(caught.value)


def test_a_secret_of_the_design_is_never_exported() -> None:
    """A `Secret` kept among the design's other resources was written as it was: its values (base64 or
    stringData, under innocent keys) in plain text in the folder, the zip and kustomization.yaml."""
    value = "Zebra42Horse-" + "opaque"
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "default"},
        "type": "Opaque",
        "data": {"config": base64.b64encode(value.encode()).decode()},
        "stringData": {"conn": f"host=db user=app pw={value}"},
    }
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "default"}}
    design = read_design(ACME).replace(other_resources=(secret, config))
    bundle = export_design(design, FULL)
    files = kustomize.render(bundle)
    leaks = [p for p, data in files.items() if value.encode() in data or secret["data"]["config"].encode() in data]
    assert leaks == []
    assert "other/default/configmap-c.yaml" in files and "other/default/secret-db.yaml" not in files
    assert any("Secret default/db is not exported" in note and "kubectl create secret" in note for note in bundle.notes)


@pytest.mark.parametrize(
    ("b", "said"),
    [
        (Agent(name="b", workload=Workload(image="i", service_account="common-sa")), "'common-sa'"),
        (Agent(name="b"), "'b'"),  # no workload: its pods are taken to run as service account 'b'
    ],
)
def test_two_agents_running_as_one_service_account_are_named(b: Agent, said: str) -> None:
    """Two agents of one service account said 'ServiceAccount default/common-sa appears twice in the design; remove
    one' (the design has no ServiceAccount), or, when the other agent had no workload, exported silently while
    Istio took the one's pods for the other (one principal): trust in one was trust in both."""
    a = Agent(name="a", workload=Workload(image="i", service_account="common-sa" if said == "'common-sa'" else "b"))
    design = read_design(ACME).replace(agents=(a, b), channels=(), rollouts=(), trust_edges=(), groups=())
    with pytest.raises(ExportError, match="Agents default/a and default/b both run as service account " + said) as e:
        export_design(design, FULL)
    assert e.value.field == "workload.serviceAccount" and "give each agent its own" in str(e.value)


@pytest.mark.parametrize(
    ("account", "problem"),
    [
        ("Billing_SA", "must be lowercase letters, digits and '-'"),
        ("s" * 64, "is 64 characters long (at most 63)"),
    ],
)
def test_a_service_account_name_no_service_account_can_have_names_the_field(account: str, problem: str) -> None:
    """A workload.serviceAccount 'Billing_SA' said "ServiceAccount default/Billing_SA: metadata.name: … rename the
    agent": renaming the agent changes nothing; the field to fix is workload.serviceAccount."""
    agent = Agent(name="billing", workload=Workload(image="i", service_account=account))
    with pytest.raises(ExportError) as caught:
        export_design(Design(agents=(agent,)), ExportOptions(with_workloads=True))
    assert str(caught.value).startswith(f"Agent default/billing: workload.serviceAccount: {account!r} {problem}")
    assert "rename the agent" not in str(caught.value) and "clear it to run as 'billing'" in str(caught.value)
    assert (caught.value.resource, caught.value.field) == ("Agent default/billing", "workload.serviceAccount")


@pytest.mark.parametrize("name", ["x" * 400, "名" * 120])
def test_the_zip_of_a_design_with_a_long_name_can_be_unpacked(tmp_path: Path, name: str) -> None:
    """The zip's root folder was the whole design name: past 255 bytes no file system could create it
    ('File name too long' on unpacking)."""
    bundle = export_design(read_design(ACME).replace(name=name))
    with zipfile.ZipFile(kustomize.write_zip(bundle, tmp_path / "d.zip")) as archive:
        archive.extractall(tmp_path / "unpacked")
    (root,) = (tmp_path / "unpacked").iterdir()
    assert name.startswith(root.name) and (root / "kustomization.yaml").is_file()


@pytest.mark.parametrize(
    ("api_version", "kind", "message"),
    [
        ("v1", "x" * 300, "kind: '" + "x" * 60 + "…' is not a Kubernetes kind"),
        ("v1", "Config Map", "kind: 'Config Map' is not a Kubernetes kind"),
        ("x" * 3000, "ChannelRollout", "apiVersion: '" + "x" * 60 + "…' is not a Kubernetes apiVersion"),
        ("apps/v1/extra", "Deployment", "apiVersion: 'apps/v1/extra' is not a Kubernetes apiVersion"),
    ],
)
def test_a_resource_whose_kind_or_api_version_kubernetes_cannot_take_is_refused(
    tmp_path: Path, api_version: str, kind: str, message: str
) -> None:
    """Bug (session 17 fuzzing): a kept resource with a 300-character kind (or apiVersion) ended the Export page
    and `export` in a traceback: the offline schema lookup made a file name of it (OSError: File name too long)."""
    (tmp_path / "d.yaml").write_text(f"apiVersion: {api_version}\nkind: {kind}\nmetadata: {{name: a}}\n")
    with pytest.raises(ExportError) as err:
        export_design(read_design(tmp_path / "d.yaml"))
    assert message in str(err.value) and "fix it or remove the document" in str(err.value)
    assert len(str(err.value)) < 400  # named, not printed whole


@pytest.mark.parametrize(
    ("api_version", "kind"),
    [("v1", "ConfigMap"), ("example.com/v1beta1", "My-Thing"), ("cert-manager.io/v1", "ClusterIssuer")],
)
def test_ordinary_kinds_and_api_versions_pass_the_check(tmp_path: Path, api_version: str, kind: str) -> None:
    (tmp_path / "d.yaml").write_text(f"apiVersion: {api_version}\nkind: {kind}\nmetadata: {{name: a}}\n")
    assert any(m.document.get("kind") == kind for m in export_design(read_design(tmp_path / "d.yaml")).manifests)


def _random_key(length: int, seed: int) -> str:
    """A random key built at run time (no key-shaped literal in the repository)."""
    import random
    import string

    rng = random.Random(seed)
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(length))


def test_a_random_key_under_an_innocent_env_name_is_exported_with_a_note() -> None:
    """A known gap (sessions 15-16): a credential with no recognisable shape under a name that says nothing of a
    secret (`CONFIG_VALUE`) was exported without a word. No rule tells it from configuration for certain, so it is
    still exported as written (refusing would block designs over a false alarm), with a note naming where."""
    from lmos_studio.model import Design

    key = _random_key(32, seed=7)
    env = (EnvVar(name="CONFIG_VALUE", value=key), EnvVar(name="MODE", value="MyService2024Production"))
    design = Design(name="d", agents=(Agent(name="billing", workload=Workload(image="i", env=env)),))
    bundle = export_design(design, ExportOptions(with_workloads=True))
    noted = [n for n in bundle.notes if "looks like a random key" in n]
    assert noted == [
        "Deployment default/billing: spec.template.spec.containers[0].env[0] (CONFIG_VALUE): its value looks like a "
        "random key (32 characters); it is exported as written: if it is a credential, refer to a Secret instead "
        "(secretName + secretKey)"
    ]
    assert key not in noted[0]  # the note names where, never the value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (_random_key(20, 1), True),
        (_random_key(40, 2), True),
        ("MyService2024Production", False),  # words and a year
        ("Production_Cluster_EU_West_1", False),
        ("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", False),  # a UUID: an id
        ("a3f" * 20, False),  # a hex digest
        ("https://billing.default.svc:8080/v1", False),
        ("v1.2.3-beta.4+build.20240101", False),
        (_random_key(12, 3), False),  # too short to tell
    ],
)
def test_what_looks_like_a_random_key(value: str, expected: bool) -> None:
    from lmos_studio.redact import looks_like_key

    assert looks_like_key(value) is expected


def test_the_lmos_namespace_is_never_written_as_a_namespace_of_the_export() -> None:
    """With agents in --lmos-namespace (platform), the export wrote namespaces/platform.yaml (istio-injection=enabled
    with --with-istio), though it takes that namespace to exist: 'kubectl delete -k' of the export deleted the
    namespace, and lmos-runtime and lmos-operator with it. Other namespaces of the design are still written."""
    agents = (
        Agent(name="a", namespace="platform", workload=Workload(image="i")),
        Agent(name="b", namespace="shop", workload=Workload(image="i")),
    )
    for istio in (False, True):
        options = ExportOptions(with_istio=istio, lmos_namespace="platform")
        paths = {m.path for m in export_design(Design(agents=agents), options).manifests}
        assert {p for p in paths if p.startswith("namespaces/")} == {"namespaces/shop.yaml"}
        assert "agents/platform/a.yaml" in paths
    moved = export_design(Design(agents=agents[:1]), ExportOptions(lmos_namespace="shop"))
    assert "namespaces/platform.yaml" in {m.path for m in moved.manifests}  # not the LMOS namespace: written
