"""import-manifests names generated documents edited by hand (import drops them and the next export writes them
anew, so the edit would be lost) and says what to do; an unedited export, with any options, gets no warning."""

from __future__ import annotations

from pathlib import Path

import pytest

from lmos_studio.export import kustomize
from lmos_studio.export.bundle import ExportOptions, export_design
from lmos_studio.export.hand_edits import export_options_of, first_difference
from lmos_studio.export.importer import import_manifests, import_upload
from lmos_studio.formats.design_file import read_design
from tests.conftest import ACME
from tests.export_helpers import FULL

DEPLOYMENT = "deployments/default/billing-agent-stable.yaml"
POLICY = "policies/network/default/allow-ingress-billing-agent-stable.yaml"
OPTIONS = [
    ExportOptions(),
    ExportOptions(with_workloads=True),
    FULL,
    ExportOptions(with_workloads=True, lmos_namespace="platform"),
    ExportOptions(with_istio=True, with_registry=True, lmos_namespace="lmos", registry_image="registry.example/s:2"),
]


@pytest.fixture(scope="module")
def acme_files() -> dict[str, bytes]:
    return kustomize.render(export_design(read_design(ACME), FULL))


def _folder(tmp_path: Path, files: dict[str, bytes]) -> Path:
    for path, data in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    return tmp_path


def _edited(files: dict[str, bytes], path: str, old: str, new: str) -> dict[str, bytes]:
    text = files[path].decode()
    assert text.count(old) == 1, text
    return {**files, path: text.replace(old, new).encode()}


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: repr(o)[14:60])
def test_an_unedited_export_imports_without_a_warning(tmp_path: Path, options: ExportOptions) -> None:
    bundle = export_design(read_design(ACME), options)
    files = kustomize.render(bundle)
    assert import_manifests(kustomize.write_folder(bundle, tmp_path / "out", files)).warnings == []
    assert import_manifests(kustomize.write_zip(bundle, tmp_path / "out.zip", files)).warnings == []
    assert import_manifests(kustomize.write_yaml(bundle, tmp_path / "out.yaml", files)).warnings == []


def test_an_edited_deployment_is_named_with_the_field_and_what_to_do(
    tmp_path: Path, acme_files: dict[str, bytes]
) -> None:
    # import used to drop the edited Deployment without a word; the next export wrote replicas: 1 again
    folder = _folder(tmp_path, _edited(acme_files, DEPLOYMENT, "replicas: 1", "replicas: 3"))
    result = import_manifests(folder)
    (warning,) = result.warnings
    assert warning.startswith(f"{folder / DEPLOYMENT}:2: Deployment default/billing-agent-stable ")
    assert "(spec.replicas: 3 in the file, 1 from the design)" in warning
    assert "move the change into the design" in warning and "annotation studio.lmos.eclipse/generated" in warning
    assert result.design == import_manifests(_folder(tmp_path / "clean", acme_files)).design  # still dropped


def test_an_edited_policy_in_a_zip_names_the_member(tmp_path: Path, acme_files: dict[str, bytes]) -> None:
    files = _edited(acme_files, POLICY, "name: contract-agent\n", "name: crm-agent\n")  # admits another caller
    archive = tmp_path / "acme.zip"
    archive.write_bytes(kustomize.zip_bytes(export_design(read_design(ACME), FULL), files))
    (warning,) = import_manifests(archive).warnings
    assert warning.startswith(f"{archive}!acme/{POLICY}:2: NetworkPolicy default/allow-ingress-billing-agent-stable")
    field = 'spec.ingress[0].from[0].podSelector.matchLabels["app.kubernetes.io/name"]'
    assert f'({field}: "crm-agent" in the file, "contract-agent" from the design)' in warning
    (uploaded,) = import_upload("mine.zip", archive.read_bytes(), max_bytes=2**24).warnings  # the Export page
    assert uploaded.startswith(f"mine.zip!acme/{POLICY}:2: NetworkPolicy")


def test_a_hand_written_copy_without_the_annotation_is_kept_and_not_warned_about(
    tmp_path: Path, acme_files: dict[str, bytes]
) -> None:
    files = _edited(acme_files, DEPLOYMENT, "replicas: 1", "replicas: 3")
    files = _edited(files, DEPLOYMENT, "    studio.lmos.eclipse/generated: 'true'\n", "    team: care\n")
    result = import_manifests(_folder(tmp_path, files))
    assert result.warnings == []
    (kept,) = result.design.other_resources
    assert kept["spec"]["replicas"] == 3


def test_cli_warns_and_strict_exits_1(
    tmp_path: Path, acme_files: dict[str, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    from lmos_studio.cli import main

    clean = _folder(tmp_path / "clean", acme_files)
    assert main(["import-manifests", str(clean), "--out", str(tmp_path / "a.yaml"), "--strict"]) == 0
    assert "warning" not in capsys.readouterr().err
    edited = _folder(tmp_path / "edited", _edited(acme_files, DEPLOYMENT, "replicas: 1", "replicas: 3"))
    assert main(["import-manifests", str(edited), "--out", str(tmp_path / "b.yaml")]) == 0
    assert "warning: " in capsys.readouterr().err
    assert main(["import-manifests", str(edited), "--out", str(tmp_path / "c.yaml"), "--strict"]) == 1
    err = capsys.readouterr().err
    assert "Deployment default/billing-agent-stable" in err and "1 warning(s) and --strict" in err


def test_an_edited_env_value_is_named_without_its_value(tmp_path: Path, acme_files: dict[str, bytes]) -> None:
    path = "deployments/default/contract-agent.yaml"
    text = acme_files[path].decode()
    assert "        env:\n" not in text, text
    edited = text.replace(
        "        ports:\n", "        env:\n        - {name: LOG_LEVEL, value: sk-live-1234567890}\n        ports:\n"
    )
    (warning,) = import_manifests(_folder(tmp_path, {**acme_files, path: edited.encode()})).warnings
    assert "Deployment default/contract-agent" in warning and "values not shown, they may hold a secret" in warning
    assert "sk-live" not in warning


def test_a_design_that_no_longer_exports_is_one_warning(tmp_path: Path, acme_files: dict[str, bytes]) -> None:
    files = _edited(acme_files, "agents/default/billing-agent-stable.yaml", "version: 1.1.0", "version: '1.1'")
    (warning,) = import_manifests(_folder(tmp_path, files)).warnings
    assert warning.startswith("generated documents not checked for hand edits") and "not strict SemVer" in warning


def test_export_options_are_read_off_the_generated_documents() -> None:
    options = ExportOptions(with_istio=True, with_registry=True, lmos_namespace="lmos", registry_image="r.example/s:2")
    bundle = export_design(read_design(ACME), options)
    found = export_options_of(m.document for m in bundle.manifests if m.generated)
    assert (found.with_workloads, found.with_istio, found.with_registry) == (True, True, True)
    assert (found.lmos_namespace, found.registry_image) == ("lmos", "r.example/s:2")
    plain = export_options_of(m.document for m in export_design(read_design(ACME)).manifests if m.generated)
    assert plain == ExportOptions()


def test_odd_shapes_in_generated_documents_are_differences_not_tracebacks(
    tmp_path: Path, acme_files: dict[str, bytes]
) -> None:
    runtime = "    - podSelector:\n        matchLabels:\n          app.kubernetes.io/name: lmos-runtime\n"
    files = _edited(acme_files, POLICY, runtime, "    - podSelector: everyone\n")
    labels = (
        "  labels:\n    app.kubernetes.io/managed-by: lmos-studio\n    app.kubernetes.io/name: billing-agent-stable\n"
    )
    files = _edited(
        files, DEPLOYMENT, labels + "    subset: stable\n  annotations:", "  labels: [a, b]\n  annotations:"
    )
    warnings = import_manifests(_folder(tmp_path, files)).warnings
    assert len(warnings) == 2 and all("is a generated document that differs" in w for w in warnings)


def test_first_difference_names_the_first_field() -> None:
    assert first_difference({"a": 1}, {"a": 1}) is None
    assert first_difference({"m": {"x.io/n": 1}}, {"m": {"x.io/n": 2}}) == ('m["x.io/n"]', 1, 2)
    assert first_difference({"a": {"b": [1, 2]}}, {"a": {"b": [1, 3]}}) == ("a.b[1]", 2, 3)
    field, found, made = first_difference({"a": 1, "z": 2}, {"a": 1})  # type: ignore[misc]
    assert (field, found, repr(made)) == ("z", 2, "(absent)")
    field, found, made = first_difference({"a": [1]}, {"a": [1, 2]})  # type: ignore[misc]
    assert (field, repr(found), made) == ("a[1]", "(absent)", 2)


def test_export_from_an_edited_export_folder_warns(
    tmp_path: Path, acme_files: dict[str, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    # `export EXPORT_FOLDER` read the folder like import does and dropped the edited Deployment without a word
    from lmos_studio.cli import main

    clean = _folder(tmp_path / "clean", acme_files)
    assert main(["export", str(clean), "--out", str(tmp_path / "a"), "--with-istio", "--with-registry"]) == 0
    assert "warning" not in capsys.readouterr().err
    edited = _folder(tmp_path / "edited", _edited(acme_files, DEPLOYMENT, "replicas: 1", "replicas: 3"))
    assert main(["export", str(edited), "--out", str(tmp_path / "b")]) == 0
    (warning,) = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning: ")]
    assert warning.startswith(f"warning: {edited / DEPLOYMENT}:2: Deployment default/billing-agent-stable ")
    assert "(spec.replicas: 3 in the file, 1 from the design)" in warning


def test_a_generated_document_the_design_no_longer_generates_is_named(
    tmp_path: Path, acme_files: dict[str, bytes]
) -> None:
    # a generated-annotated copy (or one whose agent was deleted) used to be dropped without a word
    copy = "deployments/default/billing-agent-old.yaml"
    text = acme_files[DEPLOYMENT].decode().replace("name: billing-agent-stable\n", "name: billing-agent-old\n", 1)
    folder = _folder(tmp_path, {**acme_files, copy: text.encode()})
    (warning,) = import_manifests(folder).warnings
    assert warning.startswith(f"{folder / copy}:2: Deployment default/billing-agent-old is a generated document ")
    assert "not generated from this design any more; dropped" in warning
    assert "annotation studio.lmos.eclipse/generated" in warning and "delete the file" in warning


def test_the_policies_of_an_agent_removed_from_the_design_are_named(
    tmp_path: Path, acme_files: dict[str, bytes]
) -> None:
    design = read_design(ACME)
    without = design.replace(agents=tuple(a for a in design.agents if a.name != "weather-agent"))
    left = {k: v for k, v in acme_files.items() if k.startswith("policies/") and "weather-agent" in k}
    assert len(left) == 2, left
    folder = _folder(tmp_path, {**kustomize.render(export_design(without, FULL)), **left})
    warnings = import_manifests(folder).warnings
    istio, network = sorted(left)
    assert sorted(w.split(" is a generated document ")[0] for w in warnings) == [
        f"{folder / istio}:2: AuthorizationPolicy lmos-demo/allow-ingress-weather-agent",
        f"{folder / network}:2: NetworkPolicy lmos-demo/allow-ingress-weather-agent",
    ]
    assert all("not generated from this design any more; dropped" in w for w in warnings)


KUSTOMIZATION = "kustomization.yaml"
CONFIG_MAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: default\ndata:\n  a: b\n"


def _kustomized(files: dict[str, bytes], *, add: str = "", listed: tuple[str, ...] = (), unlisted: str = "") -> bytes:
    text = files[KUSTOMIZATION].decode()
    lines = [line for line in text.splitlines() if line != f"- {unlisted}"]
    assert len(lines) == len(text.splitlines()) - (1 if unlisted else 0)
    at = lines.index("resources:") + 1
    return ("\n".join([*lines[:at], *(f"- {entry}" for entry in listed), *lines[at:]]) + "\n" + add).encode()


def test_an_edited_kustomization_is_named_with_the_field_and_what_to_do(
    tmp_path: Path, acme_files: dict[str, bytes]
) -> None:
    # import skipped kustomization.yaml: an added `images:` was lost without a word on the next export
    kustomization = _kustomized(acme_files, add="images:\n- name: billing\n  newTag: '2.0'\n")
    folder = _folder(tmp_path, {**acme_files, KUSTOMIZATION: kustomization})
    (warning,) = import_manifests(folder).warnings
    line = kustomization.decode().splitlines().index("images:") + 1
    assert warning.startswith(f"{folder / KUSTOMIZATION}:{line}: the Kustomization differs from what export writes")
    assert '(images: [{"name": "billing", "newTag": "2.0"}] in the file, (absent) from the design)' in warning
    assert "overlay" in warning and "resources: [" in warning


def test_an_edited_kustomization_in_a_zip_names_the_member(tmp_path: Path, acme_files: dict[str, bytes]) -> None:
    patches = "patches:\n- path: my-patch.yaml\n"
    files = {**acme_files, KUSTOMIZATION: _kustomized(acme_files, add=patches)}
    archive = tmp_path / "acme.zip"
    archive.write_bytes(kustomize.zip_bytes(export_design(read_design(ACME), FULL), files))
    (warning,) = import_manifests(archive).warnings
    assert warning.startswith(f"{archive}!acme/{KUSTOMIZATION}:")
    assert "(patches: " in warning
    (uploaded,) = import_upload("mine.zip", archive.read_bytes(), max_bytes=2**24).warnings  # the Export page
    assert uploaded.startswith(f"mine.zip!acme/{KUSTOMIZATION}:")


def test_resources_of_a_kustomization_count_only_when_the_next_export_changes_what_is_applied(
    tmp_path: Path, acme_files: dict[str, bytes]
) -> None:
    # a hand-written file of the folder listed: import keeps its document and export lists it again: no warning
    kept = {**acme_files, "extra/cm.yaml": CONFIG_MAP.encode()}
    kept[KUSTOMIZATION] = _kustomized(kept, listed=("extra/cm.yaml",))
    assert import_manifests(_folder(tmp_path / "kept", kept)).warnings == []
    # something outside the folder: the next export does not list it
    remote = {**acme_files, KUSTOMIZATION: _kustomized(acme_files, listed=("../base",))}
    (warning,) = import_manifests(_folder(tmp_path / "remote", remote)).warnings
    assert '(resources: "../base" in the file, (absent) from the design)' in warning
    # a file the export writes, left out: the next export lists (and kustomize applies) it again
    unlisted = {**acme_files, KUSTOMIZATION: _kustomized(acme_files, unlisted=DEPLOYMENT)}
    (warning,) = import_manifests(_folder(tmp_path / "unlisted", unlisted)).warnings
    assert f'(resources: (absent) in the file, "{DEPLOYMENT}" from the design)' in warning


def test_an_unreadable_kustomization_is_a_warning_not_an_error(tmp_path: Path, acme_files: dict[str, bytes]) -> None:
    folder = _folder(tmp_path, {**acme_files, KUSTOMIZATION: b"resources: [a\n"})
    result = import_manifests(folder)
    (warning,) = result.warnings
    assert warning.startswith(f"{folder / KUSTOMIZATION}") and "not checked for hand edits" in warning
    assert result.design == import_manifests(_folder(tmp_path / "clean", acme_files)).design


def test_export_from_an_export_folder_with_an_edited_kustomization_warns(
    tmp_path: Path, acme_files: dict[str, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    from lmos_studio.cli import main

    folder = _folder(tmp_path / "in", {**acme_files, KUSTOMIZATION: _kustomized(acme_files, add="namePrefix: x-\n")})
    assert main(["export", str(folder), "--out", str(tmp_path / "out")]) == 0
    (warning,) = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning: ")]
    assert warning.startswith(f"warning: {folder / KUSTOMIZATION}:") and '(namePrefix: "x-" in the file' in warning


def test_a_generated_document_replaced_by_a_hand_written_one_is_not_called_orphaned(
    tmp_path: Path, acme_files: dict[str, bytes]
) -> None:
    # the hand-written copy (annotation removed) wins, as export notes; the generated original is not "orphaned"
    unmarked = _edited(acme_files, DEPLOYMENT, "    studio.lmos.eclipse/generated: 'true'\n", "    team: care\n")
    mine = unmarked[DEPLOYMENT]
    result = import_manifests(_folder(tmp_path, {**acme_files, "mine/deployment.yaml": mine}))
    assert result.warnings == []
    (kept,) = result.design.other_resources
    assert kept["metadata"]["annotations"] == {"team": "care"}


def test_a_preview_listed_as_a_resource_is_named_in_a_folder_and_in_a_zip(
    tmp_path: Path, acme_files: dict[str, bytes]
) -> None:
    preview = "preview/default/acme-web-stable.yaml"  # import drops previews; export never lists them
    files = {**acme_files, KUSTOMIZATION: _kustomized(acme_files, listed=(preview,))}
    archive = tmp_path / "acme.zip"
    archive.write_bytes(kustomize.zip_bytes(export_design(read_design(ACME), FULL), files))
    for source in (_folder(tmp_path / "folder", files), archive):
        (warning,) = import_manifests(source).warnings
        assert f'(resources: "{preview}" in the file, (absent) from the design)' in warning


def test_an_edited_preview_is_named_in_a_folder_as_in_a_zip(tmp_path: Path, acme_files: dict[str, bytes]) -> None:
    """Bug (session 14 QA): an edited ChannelRouting preview was named when the export was read from its zip but
    not from its folder (the folder's preview/ was never read), so the same export warned or not by its form."""
    preview = "preview/default/acme-web-stable.yaml"
    files = _edited(acme_files, preview, "  name: acme-web-stable\n  namespace", "  name: acme-web-edited\n  namespace")
    archive = tmp_path / "acme.zip"
    archive.write_bytes(kustomize.zip_bytes(export_design(read_design(ACME), FULL), files))
    (from_zip,) = import_manifests(archive).warnings
    folder = _folder(tmp_path / "out", files)
    (from_folder,) = import_manifests(folder).warnings
    assert from_zip.startswith(f"{archive}!acme/{preview}:2: ChannelRouting default/acme-web-edited")
    assert from_folder == from_zip.replace(f"{archive}!acme/", f"{folder}/")
    assert import_manifests(folder).design == import_manifests(_folder(tmp_path / "clean", acme_files)).design
