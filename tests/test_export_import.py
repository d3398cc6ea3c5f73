"""Import back: folder, multi-document YAML and zip load as a design; export → import → export is
byte-identical; hand-written manifests survive; hostile zips are refused."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from lmos_studio.errors import DesignFileError
from lmos_studio.export import importer, kustomize
from lmos_studio.export.bundle import export_design
from lmos_studio.formats.design_file import read_design
from lmos_studio.model import Agent, Capability, Channel, Design, RequiredCapability
from tests.conftest import ACME, run_cli
from tests.export_helpers import FULL, render

HAND_WRITTEN = """\
apiVersion: lmos.eclipse/v1
kind: Agent
metadata:
  name: faq-agent
  namespace: support
  labels: {team: care, subset: stable}
  annotations: {owner: "care@example.com"}
  finalizers: [example.com/keep]
  uid: 3f1c-0000
  resourceVersion: "812"
spec:
  description: Answers FAQs
  supportedChannels: [web]
  providedCapabilities:
    - {name: answer-faq, version: "1.10.0", x-rating: 5}
  futureField: {enabled: true}
---
apiVersion: lmos.eclipse/v1
kind: Channel
metadata:
  name: care-web
  namespace: support
  labels: {tenant: care, channel: web, version: "1.0", subset: stable, extra: "yes"}
spec:
  requiredCapabilities:
    - {name: answer-faq, version: ">=1.0.0"}
status: {resolveStatus: RESOLVED}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: faq-data, namespace: support, labels: {team: care}}
data: {faq.md: "# FAQ"}
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: faq-agent, namespace: support}
spec: {endpoints: [{port: http}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: split, namespace: support, labels: {app.kubernetes.io/managed-by: lmos-studio}}
spec: {hosts: [lmos-operator.support.svc.cluster.local]}
"""


def _roundtrip(source: Path, files: dict[str, bytes]) -> None:
    again = render(importer.import_manifests(source).design)
    assert sorted(again) == sorted(files)
    assert [p for p in files if files[p] != again[p]] == []


@pytest.mark.parametrize("form", ["folder", "zip", "yaml"])
def test_export_import_export_is_byte_identical(tmp_path: Path, form: str) -> None:
    bundle = export_design(read_design(ACME), FULL)
    files = kustomize.render(bundle)
    if form == "folder":
        source = kustomize.write_folder(bundle, tmp_path / "out", files)
    elif form == "zip":
        source = kustomize.write_zip(bundle, tmp_path / "acme.zip", files)
    else:
        source = kustomize.write_yaml(bundle, tmp_path / "all.yaml", files)
    _roundtrip(source, files)


def test_hand_written_manifests_survive(tmp_path: Path) -> None:
    (tmp_path / "hand.yaml").write_text(HAND_WRITTEN)
    design = importer.import_manifests(tmp_path / "hand.yaml").design
    files = render(design)
    agent = files["agents/support/faq-agent.yaml"].decode()
    for kept in ("team: care", "owner: care@example.com", "example.com/keep", "version: 1.10.0"):
        assert kept in agent, kept
    for undeclared in ("x-rating", "futureField"):  # kubectl apply --validate=strict would refuse them
        assert undeclared not in agent, undeclared
    assert "uid:" not in agent and "resourceVersion" not in agent  # written by the API server, not by users
    channel = files["channels/support/care-web.yaml"].decode()
    assert "extra: 'yes'" in channel and "status" not in channel and "version: '1.0'" in channel
    studio = files["studio/design.yaml"].decode()
    for travels in ("/spec/providedCapabilities/0/x-rating: 5", "/spec/futureField:", "/metadata/uid: 3f1c-0000"):
        assert travels in studio, travels
    assert "/status:" in studio  # the Channel's status, written by the operator
    assert "# FAQ" in files["other/support/configmap-faq-data.yaml"].decode()
    assert "other/support/servicemonitor-faq-agent.yaml" in files
    assert "other/support/virtualservice-split.yaml" in files  # ours by label, but part of the design
    bundle = export_design(design, FULL)
    assert [n.split(" left out")[0] for n in bundle.notes if "resourceFields" in n] == [
        "Agent support/faq-agent: /metadata/uid, /metadata/resourceVersion, /spec/providedCapabilities/0/x-rating, "
        "/spec/futureField",
        "Channel support/care-web: /status",
    ]
    again = importer.import_manifests(kustomize.write_folder(bundle, tmp_path / "first")).design
    assert again.agents == design.agents and again.channels == design.channels  # everything came back
    folder = kustomize.write_folder(bundle, tmp_path / "out")
    _roundtrip(folder, files)


def test_import_drops_generated_documents_only(tmp_path: Path) -> None:
    folder = kustomize.write_folder(export_design(read_design(ACME), FULL), tmp_path / "out")
    design = importer.import_manifests(folder).design
    assert design.other_resources == ()
    assert design.name == "acme" and len(design.trust_edges) == 3
    assert design.agent("billing-agent-stable").workload.env[0].secret_key == "api-key"  # type: ignore[union-attr]


def test_cli_import_manifests(tmp_path: Path) -> None:
    kustomize.write_zip(export_design(read_design(ACME), FULL), tmp_path / "acme.zip")
    result = run_cli("import-manifests", str(tmp_path / "acme.zip"), "--out", str(tmp_path / "design.yaml"))
    assert result.returncode == 0, result.stderr
    assert "9 agents, 5 channels, 3 trust edges" in result.stdout
    assert (
        read_design(tmp_path / "design.yaml").digest()
        == importer.import_manifests(tmp_path / "acme.zip").design.digest()
    )
    missing = run_cli("import-manifests", str(tmp_path / "nope.zip"), "--out", str(tmp_path / "x.yaml"))
    assert missing.returncode == 2 and "no such file" in missing.stderr


def _zip(tmp_path: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for info, data in entries:
            archive.writestr(info, data)
    path = tmp_path / "evil.zip"
    path.write_bytes(buffer.getvalue())
    return path


AGENT = b"apiVersion: lmos.eclipse/v1\nkind: Agent\nmetadata: {name: a}\nspec: {}\n"


def _symlink() -> zipfile.ZipInfo:
    info = zipfile.ZipInfo("d/link.yaml")
    info.external_attr = (0o120777) << 16
    return info


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([("../escape.yaml", AGENT)], "unsafe path"),
        ([("/etc/abs.yaml", AGENT)], "unsafe path"),
        ([("a\\..\\b.yaml", AGENT)], "unsafe path"),
        ([("C:/x.yaml", AGENT)], "unsafe path"),
        ([(_symlink(), b"/etc/passwd")], "symbolic link"),
        ([("bomb.yaml", b"a: " + b"0" * (30 * 2**20))], "zip bomb"),
        ([("readme.txt", b"hello")], "no *.yaml"),
        # unpacking these failed with "maximum recursion depth exceeded" and "File name too long … does it hold a
        # file and a folder of the same name?"
        (
            [("x/a.yaml", AGENT), ("x/./a.yaml", AGENT.replace(b"name: a", b"name: b"))],
            "'x/./a.yaml' is in the zip twice",
        ),
        ([("x/" + "d/" * 2000 + "a.yaml", AGENT)], "is nested 2001 folders deep"),
        ([("x/" + "n" * 300 + ".yaml", AGENT)], "its path is too long to unpack .a name of 305 bytes, at most 255"),
        ([("x/" + ("ü" * 125 + "/") * 20 + "a.yaml", AGENT)], "of 250 bytes, at most 255; the whole path at most 1024"),
    ],
)
def test_hostile_zips_are_refused(
    tmp_path: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]], message: str
) -> None:
    with pytest.raises(DesignFileError, match=message.replace("*", r"\*")) as caught:
        importer.import_manifests(_zip(tmp_path, entries))
    assert list(tmp_path.iterdir()) == [tmp_path / "evil.zip"]
    assert str(caught.value).count("evil.zip") == 1, str(caught.value)  # the zip's path is named once


def test_a_zip_holding_one_member_twice_is_refused(tmp_path: Path) -> None:
    """Two copies of x/a.yaml: import silently read the last, a zip viewer may show the first."""
    with pytest.warns(UserWarning, match="Duplicate name"):  # zipfile warns when writing it, and writes it
        path = _zip(tmp_path, [("x/a.yaml", AGENT), ("x/a.yaml", AGENT.replace(b"name: a", b"name: b"))])
    with pytest.raises(DesignFileError, match=r"member 'x/a\.yaml' is in the zip twice"):
        importer.import_manifests(path)


def test_zip_limits_on_entries_and_total_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _zip(tmp_path, [(f"a{i}.yaml", AGENT) for i in range(5)])
    monkeypatch.setattr(importer, "MAX_ZIP_ENTRIES", 4)
    with pytest.raises(DesignFileError, match="5 entries"):
        importer.import_manifests(path)
    monkeypatch.setattr(importer, "MAX_ZIP_ENTRIES", 100)
    monkeypatch.setattr(importer, "MAX_UNPACKED_BYTES", 100)
    with pytest.raises(DesignFileError, match="would unpack"):
        importer.import_manifests(path)


def test_not_a_zip_and_bad_yaml_inside_name_the_member(tmp_path: Path) -> None:
    fake = tmp_path / "fake.zip"
    fake.write_bytes(b"not a zip")
    with pytest.raises(DesignFileError, match="not a valid zip"):
        importer.import_manifests(fake)
    path = _zip(tmp_path, [("x/broken.yaml", b"kind: [unclosed\n")])
    with pytest.raises(DesignFileError, match=r"evil\.zip!x/broken\.yaml:\d+: malformed YAML"):
        importer.import_manifests(path)


@pytest.mark.parametrize("agents", [["billing-agent-stable"], ["billing-agent-stable", "weather-agent"]])
def test_a_canary_design_round_trips(tmp_path: Path, agents: list[str]) -> None:
    """A canary of agents in namespaces default and lmos-demo (both hold acme/web) too: one VirtualService for both."""
    from lmos_studio.canary import make_canary

    design = read_design(ACME)
    stable = design.replace(channels=tuple(c for c in design.channels if c.subset != "canary"), rollouts=())
    canary = make_canary(stable, agents=agents)
    bundle = export_design(canary, FULL)
    files = kustomize.render(bundle)
    assert any(p.startswith("rollouts/") for p in files)
    split = "other/default/virtualservice-lmos-operator-subset-split.yaml"
    assert [p for p in files if "virtualservice" in p] == [split]
    _roundtrip(kustomize.write_zip(bundle, tmp_path / "canary.zip", files), files)
    imported = importer.import_manifests(tmp_path / "canary.zip").design
    assert [d for d in imported.other_resources if d["kind"] == "VirtualService"] == [
        d for d in canary.other_resources if d["kind"] == "VirtualService"
    ]


def test_an_export_zip_given_as_a_design_says_to_import_it(tmp_path: Path) -> None:
    # `lmos-studio export acme.zip` (or lint, route …) said only "not UTF-8 text (invalid start byte at byte 75)"
    kustomize.write_zip(export_design(read_design(ACME), FULL), tmp_path / "acme.zip")
    with pytest.raises(DesignFileError, match=r"acme.zip: is a zip.*import-manifests .*acme.zip --out DESIGN.yaml"):
        read_design(tmp_path / "acme.zip")
    result = run_cli("export", str(tmp_path / "acme.zip"), "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "import-manifests" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


CONFIG_MAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: default\n  annotations:\n"


def test_a_hand_written_document_with_empty_annotations_exports(tmp_path: Path) -> None:
    # `annotations:` left empty (null, as after deleting the last one) was an AttributeError traceback in export
    (tmp_path / "design").mkdir()
    (tmp_path / "design" / "cm.yaml").write_text(CONFIG_MAP + "data: {a: b}\n", encoding="utf-8")
    (tmp_path / "design" / "acme.yaml").write_bytes(kustomize.single_file(render(read_design(ACME))))
    bundle = export_design(read_design(tmp_path / "design"))
    (kept,) = [m.document for m in bundle.manifests if m.document.get("kind") == "ConfigMap"]
    assert kept["metadata"] == {"name": "extra", "namespace": "default"}
    result = run_cli("export", str(tmp_path / "design"), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    (tmp_path / "design" / "cm.yaml").write_text(CONFIG_MAP + "    - a\n", encoding="utf-8")  # a list: bad input
    listed = run_cli("export", str(tmp_path / "design"), "--out", str(tmp_path / "bad"))
    assert listed.returncode == 2 and "Traceback" not in listed.stderr, listed.stderr
    assert (
        "ConfigMap default/extra: metadata.annotations must be a mapping of names to strings, not a list"
        in listed.stderr
    )


def test_cli_import_manifests_refuses_to_write_into_the_export_it_reads(tmp_path: Path) -> None:
    """Bug (session 16 QA): `import-manifests out --out out/design.yaml` wrote the design into the export folder:
    read again, the folder held every resource twice, and the next `export --out out` would replace the file."""
    out = tmp_path / "out"
    assert run_cli("export", str(ACME), "--out", str(out)).returncode == 0
    result = run_cli("import-manifests", str(out), "--out", str(out / "design.yaml"))
    assert result.returncode == 2 and "inside the folder the design was read from" in result.stderr
    assert not (out / "design.yaml").exists()


@pytest.mark.parametrize("flag", ["--out", "--yaml"])
def test_cli_export_refuses_to_write_inside_the_design_s_folder(tmp_path: Path, flag: str) -> None:
    """Bug (session 16 QA): `export acme --out acme/out` wrote the export inside the design's folder, which then
    could not be read at all ("a second StudioDesign document"). Refused; exporting an earlier export over
    itself (the folder given as both) stays allowed."""
    import shutil

    folder = tmp_path / "acme"
    shutil.copytree(ACME, folder)
    target = folder / ("out" if flag == "--out" else "all.yaml")
    result = run_cli("export", str(folder), flag, str(target))
    assert result.returncode == 2 and "inside the folder the design was read from" in result.stderr
    assert not target.exists() and run_cli("validate", str(folder)).returncode == 0
    out = tmp_path / "out"
    assert run_cli("export", str(folder), "--out", str(out)).returncode == 0
    assert run_cli("export", str(out), "--out", str(out)).returncode == 0  # an earlier export, replaced


def test_a_channel_without_a_subset_label_previews_and_round_trips_as_exported(tmp_path: Path) -> None:
    """The Channel is exported with `subset: stable` made explicit, so the operator copies `stable` onto its
    ChannelRouting: the preview must say so too (it said ''), and export → import → export stays identical."""
    agent = Agent(name="a", supported_channels=("web",), capabilities=(Capability(name="c", version="1.0.0"),))
    labels = {"tenant": "t", "channel": "web", "version": "1.0.0"}  # no subset
    channel = Channel(name="ch", labels=labels, required_capabilities=(RequiredCapability(name="c", version="1.0.0"),))
    bundle = export_design(Design(name="d", agents=(agent,), channels=(channel,)), FULL)
    docs = {m.path: m.document for m in bundle.manifests}
    exported = docs["channels/default/ch.yaml"]["metadata"]["labels"]
    preview = docs["preview/default/ch.yaml"]["metadata"]["labels"]
    assert preview == {k: exported[k] for k in ("channel", "tenant", "version", "subset")}
    assert preview["subset"] == "stable"
    files = kustomize.render(bundle)
    _roundtrip(kustomize.write_folder(bundle, tmp_path / "out", files), files)


def test_resources_with_names_too_long_for_a_file_export_and_round_trip(tmp_path: Path) -> None:
    """A Channel named with 253 characters (an RFC 1123 subdomain may be) or a kept ConfigMap of 250
    ('configmap-<name>.yaml') failed the export with 'cannot write the export: File name too long', naming no
    resource. Such a file name is now shortened to 255 bytes with a digest of the whole name (two long names sharing
    their start get two files), and the export imports back as it was."""
    long_channel, other_channel = "c" * 253, "c" * 252 + "d"
    agent = Agent(name="a", supported_channels=("web",), capabilities=(Capability(name="x", version="1.0.0"),))
    channels = tuple(
        Channel(
            name=name,
            labels={"tenant": "acme", "channel": "web", "version": "1", "subset": "stable"},
            required_capabilities=(RequiredCapability(name="x", version="1.0.0"),),
        )
        for name in (long_channel, other_channel)
    )
    maps = tuple(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "m" * 249 + end, "namespace": "default"}}
        for end in "ab"
    )
    design = Design(name="long", agents=(agent,), channels=channels, other_resources=maps)
    bundle = export_design(design, FULL)
    files = kustomize.render(bundle)
    assert max(len(path.rsplit("/", 1)[-1].encode()) for path in files) == 255
    assert len([p for p in files if p.startswith(("channels/", "preview/", "other/"))]) == 6  # none written twice
    folder = kustomize.write_folder(bundle, tmp_path / "out", files)
    archive = kustomize.write_zip(bundle, tmp_path / "out.zip", files)
    _roundtrip(folder, files)
    _roundtrip(archive, files)


def test_an_export_folder_with_a_link_out_of_it_is_refused(tmp_path: Path) -> None:
    """A link in an export folder (a cloned repository can carry one) to a file outside it was read: its contents,
    a kubeconfig's client key included, went into the design and the next export. A zip's link is refused; so is a
    folder's link out of it now."""
    outside = tmp_path / "kubeconfig.yaml"
    outside.write_text(
        "apiVersion: v1\nkind: Config\nmetadata: {name: kc}\nusers: [{name: u, user: {client-key-data: S0VZ}}]\n"
    )
    folder = kustomize.write_folder(export_design(read_design(ACME)), tmp_path / "out")
    (folder / "README.yaml").symlink_to(folder / "kustomization.yaml")  # a link within the folder is read as before
    (folder / "loop-a.yaml").symlink_to(folder / "loop-b.yaml")  # a loop: a RuntimeError traceback, now skipped
    (folder / "loop-b.yaml").symlink_to(folder / "loop-a.yaml")
    assert importer.import_manifests(folder).design.agent("contract-agent") is not None
    (folder / "other.yaml").symlink_to(outside)
    with pytest.raises(DesignFileError, match=f"other.yaml: is a symbolic link to {outside}, outside the export"):
        importer.import_manifests(folder)
