"""Saving a design back into the folder it was read from (`design_folder.save_design_folder`).

Before, a design opened from a folder could not be saved there: the Designer's Save was off, Save as wrote one
file outside the folder, and `canary --out FOLDER` said "is a folder". Now each changed resource goes back into
its file with the file's comments and key order, new ones into `studio-added.yaml`, removed ones leave their
file, untouched files keep their bytes, and a save over files changed on disk since they were read is refused.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from lmos_studio.errors import DesignFileError
from lmos_studio.export import kustomize
from lmos_studio.export.bundle import ExportOptions, export_design
from lmos_studio.formats.design_file import read_design
from lmos_studio.formats.design_folder import ADDED_FILE, folder_digests, save_design_at, save_design_folder
from lmos_studio.model import Agent, Capability, Design, Group
from tests.conftest import ACME
from tests.test_import_original import cli

AGENTS = """\
# Billing team's agents: hand-written, kept in Git.

# The billing agent answers bills.
apiVersion: lmos.eclipse/v1
kind: Agent
metadata:
  name: billing-agent  # stable name, do not rename
  labels: {subset: stable}
spec:
  description: "Bills and invoices"
  supportedChannels: [web]
  providedCapabilities:
    # what a customer sees first
    - name: view-bill
      version: "1.0.0"   # pinned by the channel
      description: Show the current bill
---
# The contract agent: to be retired.
apiVersion: lmos.eclipse/v1
kind: Agent
metadata:
  name: contract-agent
spec:
  description: Contracts
  supportedChannels: [web]
  providedCapabilities:
    - {name: view-contract, version: 1.0.0}
"""
CHANNELS = """\
# Channels of the acme tenant.
apiVersion: lmos.eclipse/v1
kind: Channel
metadata:
  name: acme-web-stable
  labels: {tenant: acme, channel: web, version: 1.0.0, subset: stable}
spec:
  requiredCapabilities:
    - {name: view-bill, version: ">=1.0.0"}
"""
OLD_CHANNEL = """\
# Kept for the IVR migration; remove after it.
apiVersion: lmos.eclipse/v1
kind: Channel
metadata:
  name: acme-ivr-old
  labels: {tenant: acme, channel: ivr, version: 0.9.0, subset: stable}
spec:
  requiredCapabilities:
    - {name: view-contract, version: 1.0.0}
"""
STUDIO = """\
# Studio-only data: trust between the teams.
apiVersion: studio.lmos.eclipse/v1alpha1
kind: StudioDesign
metadata: {name: acme-folder}
spec:
  description: The acme agents, one file per team
  trustEdges:
    # the contract agent shows the last bill
    - {caller: contract-agent, callee: billing-agent, capabilities: [view-bill], protocol: http}
"""
DEPLOYMENT = """\
# Deployed by the platform team, not by Studio.
apiVersion: apps/v1
kind: Deployment
metadata: {name: billing-agent, namespace: default}
spec:
  replicas: 2
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "acme-folder"
    (root / "teams").mkdir(parents=True)
    (root / "teams" / "billing.yaml").write_text(AGENTS, encoding="utf-8")
    (root / "channels.yaml").write_text(CHANNELS, encoding="utf-8")
    (root / "old-channel.yml").write_text(OLD_CHANNEL, encoding="utf-8")
    (root / "studio.yaml").write_text(STUDIO, encoding="utf-8")
    (root / "platform.yaml").write_text(DEPLOYMENT, encoding="utf-8")
    return root


def _bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_an_unchanged_design_saved_into_its_folder_writes_nothing(folder: Path) -> None:
    before = _bytes(folder)
    saved = save_design_folder(read_design(folder), folder, expected=folder_digests(folder))
    assert saved.files == [] and saved.notes == [] and saved.warnings == []
    assert _bytes(folder) == before
    assert saved.digests == folder_digests(folder)


def test_each_change_goes_back_into_its_file_with_its_comments(folder: Path) -> None:
    design = read_design(folder)
    billing = design.agent("billing-agent")
    assert billing is not None
    changed = design.with_agent(billing.model_copy(update={"description": "Bills, invoices and refunds"}))
    new_agent = Agent(name="refund-agent", capabilities=(Capability(name="refund", version="1.0.0"),))
    changed = changed.with_agent(new_agent)
    changed = changed.replace(
        channels=tuple(c for c in changed.channels if c.name != "acme-ivr-old"),
        groups=(Group(name="billing-zone", members=("billing-agent", "refund-agent")),),
    )
    before = _bytes(folder)

    saved = save_design_folder(changed, folder, expected=folder_digests(folder))

    assert _by_key(read_design(folder)) == _by_key(changed)
    after = _bytes(folder)
    assert {name for name in after if after[name] != before.get(name)} == {
        "teams/billing.yaml",
        "old-channel.yml",
        "studio.yaml",
        ADDED_FILE,
    }
    assert after["channels.yaml"] == before["channels.yaml"] and after["platform.yaml"] == before["platform.yaml"]
    billing_text = after["teams/billing.yaml"].decode()
    assert billing_text == AGENTS.replace('"Bills and invoices"', '"Bills, invoices and refunds"')  # all else kept
    studio_text = after["studio.yaml"].decode()
    assert "# Studio-only data: trust between the teams." in studio_text
    assert "# the contract agent shows the last bill" in studio_text and "billing-zone" in studio_text
    assert after["old-channel.yml"].decode() == "# Kept for the IVR migration; remove after it.\n"
    assert "refund-agent" in after[ADDED_FILE].decode()
    assert saved.notes[0] == f"{folder / ADDED_FILE}: new in the folder: Agent refund-agent"
    assert any("old-channel.yml: holds no resource any more" in note for note in saved.notes)
    assert sorted(saved.files) == sorted(
        folder / name for name in ("teams/billing.yaml", "old-channel.yml", "studio.yaml", ADDED_FILE)
    )
    assert saved.digests == folder_digests(folder)

    again = read_design(folder).with_agent(new_agent.model_copy(update={"description": "Refunds"}))
    save_design_folder(again, folder, expected=saved.digests)  # the added file is a file of the folder now
    assert _by_key(read_design(folder)) == _by_key(again)
    assert "refund-agent" in (folder / ADDED_FILE).read_text() and "Refunds" in (folder / ADDED_FILE).read_text()
    assert not (folder / "studio-added-2.yaml").exists()


def _edit_channels(root: Path) -> None:
    (root / "channels.yaml").write_text(CHANNELS + "# edited elsewhere\n", encoding="utf-8")


def _add_a_file(root: Path) -> None:
    (root / "more.yaml").write_text(OLD_CHANNEL.replace("acme-ivr-old", "x"), encoding="utf-8")


def _remove_a_file(root: Path) -> None:
    (root / "platform.yaml").unlink()


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (_edit_channels, "channels.yaml changed"),
        (_add_a_file, "more.yaml is new"),
        (_remove_a_file, "platform.yaml is gone"),
    ],
    ids=["changed", "added", "removed"],
)
def test_a_save_over_files_changed_on_disk_since_they_were_read_is_refused(
    folder: Path, change: Callable[[Path], None], said: str
) -> None:
    design = read_design(folder)
    digests = folder_digests(folder)
    change(folder)  # another editor, a git checkout
    before = _bytes(folder)
    billing = design.agent("billing-agent")
    assert billing is not None
    edited = design.with_agent(billing.model_copy(update={"description": "mine"}))
    with pytest.raises(DesignFileError, match="changed on disk since it was read") as caught:
        save_design_folder(edited, folder, expected=digests)
    assert str(caught.value).startswith(f"{folder}: ") and said in str(caught.value)
    assert _bytes(folder) == before  # nothing written


def test_an_export_folder_takes_changes_and_keeps_its_generated_documents(tmp_path: Path) -> None:
    out = tmp_path / "export"
    kustomize.write_folder(export_design(read_design(ACME), ExportOptions(with_workloads=True)), out)
    before = _bytes(out)
    design = read_design(out)
    news = design.agent("news-agent")
    assert news is not None
    changed = design.with_agent(news.model_copy(update={"description": "Headlines"}))
    saved = save_design_at(changed, out)  # a folder, as a command's --out gives it: saved into its files
    assert read_design(out) == changed
    after = _bytes(out)
    assert {name for name in after if after[name] != before[name]} == {"agents/lmos-demo/news-agent.yaml"}
    assert saved.files == [out / "agents" / "lmos-demo" / "news-agent.yaml"]


def test_a_folder_without_a_design_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DesignFileError, match="is a folder without a design"):
        save_design_at(read_design(ACME), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_canary_out_the_folder_it_read_writes_into_its_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "acme"
    shutil.copytree(ACME, folder)
    before = _bytes(folder)
    code, out, err = cli(capsys, "canary", str(folder), "--out", str(folder), "--agent", "weather-agent")
    assert code == 0, err
    assert f"wrote {folder}" in out
    assert f"note: {folder / ADDED_FILE}: new in the folder: Agent lmos-demo/weather-agent-canary" in err
    after = _bytes(folder)
    assert {name for name in after if after[name] != before.get(name)} == {ADDED_FILE}  # the new channel too
    design = read_design(folder)
    assert design.agent("weather-agent-canary") is not None and design.agent("weather-agent") is not None


def _by_key(design: Design) -> Design:
    """The design with its resources in key order: a folder reads them in its files' order, so a resource saved
    into the added file comes back before those of files sorting after it (`teams/…` here)."""
    return design.replace(
        agents=tuple(sorted(design.agents, key=lambda a: a.key)),
        channels=tuple(sorted(design.channels, key=lambda c: c.key)),
        rollouts=tuple(sorted(design.rollouts, key=lambda r: r.key)),
    )


def test_a_resource_a_later_file_replaces_keeps_its_earlier_copy_until_it_is_removed(folder: Path) -> None:
    """Reading keeps the later of two documents of one resource (as a second kubectl apply would): a save writes
    the change into the later file and leaves the earlier copy as written; removing the resource removes both."""
    (folder / "zz-override.yaml").write_text(AGENTS.split("---\n")[1].replace("Contracts", "Contracts v2"))
    design = read_design(folder)
    contract = design.agent("contract-agent")
    assert contract is not None and contract.description == "Contracts v2"
    before = _bytes(folder)
    changed = design.with_agent(contract.model_copy(update={"description": "Contracts v3"}))
    save_design_folder(changed, folder, expected=folder_digests(folder))
    assert read_design(folder) == changed
    after = _bytes(folder)
    assert {name for name in after if after[name] != before[name]} == {"zz-override.yaml"}
    removed = changed.replace(agents=tuple(a for a in changed.agents if a.name != "contract-agent"))
    save_design_folder(removed, folder)
    assert read_design(folder) == removed
    assert "contract-agent" not in (folder / "teams" / "billing.yaml").read_text()


def test_the_note_on_new_resources_asks_for_them_in_the_folder_s_kustomization(folder: Path) -> None:
    kustomization = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [channels.yaml]\n"
    (folder / "kustomization.yaml").write_text(kustomization, encoding="utf-8")
    (folder / "teams" / "kustomization.yaml").write_text(kustomization.replace("channels", "billing"), encoding="utf-8")
    design = read_design(folder)  # the one of teams/ lists that folder's files: the added file is not one of them
    saved = save_design_folder(design.with_agent(Agent(name="faq-agent")), folder)
    assert saved.notes == [
        f"{folder / ADDED_FILE}: new in the folder: Agent faq-agent; add {ADDED_FILE} to the resources of "
        f"{folder / 'kustomization.yaml'} for kubectl apply -k to apply them"
    ]
    assert (folder / "kustomization.yaml").read_text(encoding="utf-8") == kustomization  # not edited


def test_a_save_that_cannot_write_one_file_writes_none(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each file was written atomically but the folder was not: a failure on the second file (a full disk) left
    the first one written and the design half saved. Now every file is staged before any is renamed."""
    from lmos_studio.formats import yamlio

    design = read_design(folder)
    billing = design.agent("billing-agent")
    assert billing is not None
    changed = design.with_agent(billing.model_copy(update={"description": "Bills, invoices and refunds"}))
    changed = changed.replace(channels=tuple(c for c in changed.channels if c.name != "acme-ivr-old"))
    before = _bytes(folder)
    staged = yamlio._staged
    calls: list[Path] = []

    def full_disk_on_the_second(path: Path, data: str | bytes) -> str:
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, "No space left on device", str(path))
        return staged(path, data)

    monkeypatch.setattr(yamlio, "_staged", full_disk_on_the_second)
    with pytest.raises(DesignFileError, match="No space left on device; nothing was written"):
        save_design_folder(changed, folder, expected=folder_digests(folder))
    assert len(calls) == 2 and _bytes(folder) == before  # no file changed, no temporary file left behind


def test_a_design_folder_with_a_link_out_of_it_is_refused(tmp_path: Path) -> None:
    """`ln -s ~/.kube/config DESIGN/x.yaml; lmos-studio export DESIGN --out o` read the kubeconfig into the design
    and wrote it, client key and all, into the export; every reader of a design folder refuses such a link now, as
    `import-manifests FOLDER` does (exit 2, naming the link and its target)."""
    from tests.conftest import run_cli

    outside = tmp_path / "home" / "config"
    outside.parent.mkdir()
    outside.write_text(
        "apiVersion: v1\nkind: Config\nmetadata: {name: kc}\nusers: [{name: u, user: {client-key-data: S0VZ}}]\n"
    )
    folder = tmp_path / "design"
    shutil.copytree(ACME, folder)
    (folder / "lmos-demo" / "again.yaml").symlink_to(folder / "canary" / "agents.yaml")  # a link within: read
    (folder / "loop-a.yaml").symlink_to(folder / "loop-b.yaml")  # a loop leads nowhere: skipped, as before
    (folder / "loop-b.yaml").symlink_to(folder / "loop-a.yaml")
    design = read_design(folder)
    assert design.agent("billing-agent-canary") is not None
    (folder / "x.yaml").symlink_to(outside)
    message = f"x.yaml: is a symbolic link to {outside}, outside the folder {folder}"
    with pytest.raises(DesignFileError, match=message):
        read_design(folder)
    with pytest.raises(DesignFileError, match=message):
        save_design_folder(design, folder)
    done = run_cli("export", str(folder), "--out", str(tmp_path / "o"))
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "o").exists()
