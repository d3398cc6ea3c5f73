"""`export --with-registry`: the registry deploys with the design (2 replicas, probes, Service, NetworkPolicy),
its secrets by reference only, validated like every other exported document."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from lmos_studio.errors import ExportError
from lmos_studio.export import kustomize
from lmos_studio.export.bundle import ExportOptions, export_design
from lmos_studio.formats.design_file import read_design
from lmos_studio.model import Agent, Design, Workload
from tests.conftest import ACME, ROOT, run_cli

OPTIONS = ExportOptions(with_registry=True, lmos_namespace="lmos")


def _docs(files: dict[str, bytes]) -> dict[str, dict[str, Any]]:
    return {path: yaml.safe_load(data) for path, data in files.items() if path.endswith(".yaml")}


def test_the_registry_is_exported_with_probes_and_secret_references() -> None:
    bundle = export_design(read_design(ACME), OPTIONS)
    docs = _docs(kustomize.render(bundle))
    deployment = docs["deployments/lmos/lmos-studio-registry.yaml"]
    assert deployment["spec"]["replicas"] == 2
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz/live"
    env = {e["name"]: e for e in container["env"]}
    for var, key in (("LMOS_STUDIO_REGISTRY_DB", "database-url"), ("LMOS_STUDIO_REGISTRY_TOKEN", "token")):
        assert "value" not in env[var]
        assert env[var]["valueFrom"]["secretKeyRef"] == {"name": "lmos-studio-registry", "key": key}
    assert not any(d["kind"] == "Secret" for d in docs.values())  # referenced, never written
    service = docs["services/lmos/lmos-studio-registry.yaml"]
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    policy = docs["policies/network/lmos/lmos-studio-registry-allow.yaml"]
    allowed = policy["spec"]["ingress"][0]["from"][0]["namespaceSelector"]["matchExpressions"][0]["values"]
    assert set(allowed) == {*read_design(ACME).namespaces, "lmos"}
    assert policy["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 8090}]
    rows = {r["file"]: r["status"] for r in bundle.validation.rows}
    for path in ("deployments/lmos/lmos-studio-registry.yaml", "services/lmos/lmos-studio-registry.yaml"):
        assert rows[path] == "valid"
    assert rows["policies/network/lmos/lmos-studio-registry-allow.yaml"] == "valid"
    assert any("create secret generic lmos-studio-registry" in n for n in bundle.notes)
    listed = kustomize.kustomization(bundle)
    assert "deployments/lmos/lmos-studio-registry.yaml" in listed


def test_without_the_flag_there_is_no_registry() -> None:
    files = kustomize.render(export_design(read_design(ACME), ExportOptions()))
    assert not any("lmos-studio-registry" in path for path in files)


def test_cli_with_registry(tmp_path: Path) -> None:
    result = run_cli(
        "export", str(ACME), "--out", str(tmp_path / "out"), "--with-registry", "--registry-image", "reg.example/ls:1"
    )
    assert result.returncode == 0, result.stderr
    written = yaml.safe_load((tmp_path / "out" / "deployments/default/lmos-studio-registry.yaml").read_text())
    assert written["spec"]["template"]["spec"]["containers"][0]["image"] == "reg.example/ls:1"
    assert "lmos-studio-registry" in result.stderr  # the note on the Secret to create


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (kustomize) not installed")
def test_kubectl_kustomize_builds_it(tmp_path: Path) -> None:
    kustomize.write_folder(export_design(read_design(ACME), OPTIONS), tmp_path / "out")
    built = subprocess.run(["kubectl", "kustomize", str(tmp_path / "out")], capture_output=True, text=True, timeout=60)
    assert built.returncode == 0, built.stderr
    assert "name: lmos-studio-registry" in built.stdout


def test_export_page_toggle_adds_the_registry() -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("app_pages/export.py")
    at.run()
    at.toggle(key="export_with_registry").set_value(True).run()
    assert not at.exception, at.exception
    assert "deployments/default/lmos-studio-registry.yaml" in at.selectbox[0].options


def test_an_agent_named_like_the_registry_is_refused_naming_the_agent() -> None:
    """An agent lmos-studio-registry with a workload in --lmos-namespace, exported --with-registry, said "Deployment
    default/lmos-studio-registry appears twice in the design …; remove one": the design has it once; the registry
    is the other. Now the agent is named, and what to do."""
    agent = Agent(name="lmos-studio-registry", workload=Workload(image="i"))
    with pytest.raises(ExportError) as caught:
        export_design(Design(agents=(agent,)), ExportOptions(with_workloads=True, with_registry=True))
    assert str(caught.value).startswith(
        "Agent default/lmos-studio-registry: metadata.name: 'lmos-studio-registry' is the name of the registry's "
        "Deployment and Service in --lmos-namespace default (--with-registry); rename the agent"
    )
    assert (caught.value.resource, caught.value.field) == ("Agent default/lmos-studio-registry", "metadata.name")
    elsewhere = ExportOptions(with_workloads=True, with_registry=True, lmos_namespace="platform")
    export_design(Design(agents=(agent,)), elsewhere)  # in another namespace than the registry's: no clash
