"""Property: any generated design exports to valid manifests (export validates everything before returning)
and round-trips byte for byte through the kustomize folder and the zip."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lmos_studio.export import importer, kustomize
from lmos_studio.export.bundle import ExportOptions, export_design
from lmos_studio.model import (
    Agent,
    Capability,
    Channel,
    ChannelRollout,
    Design,
    EnvVar,
    Group,
    RequiredCapability,
    TrustEdge,
    Workload,
)

NAMES = st.from_regex(r"[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,5})?", fullmatch=True)
NAMESPACES = st.sampled_from(["default", "shop", "care"])
VERSIONS = st.builds("{}.{}.{}".format, *(st.integers(0, 12) for _ in range(3)))
RANGES = st.one_of(VERSIONS, VERSIONS.map(">={}".format), VERSIONS.map("^{}".format), st.just("*"))
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20)
LABEL_VALUES = st.from_regex(r"[a-z0-9]([a-z0-9.]{0,5}[a-z0-9])?", fullmatch=True)


@st.composite
def designs(draw: st.DrawFn) -> Design:
    caps = draw(st.lists(NAMES, min_size=1, max_size=4, unique=True))
    agents = []
    for name in draw(st.lists(NAMES, min_size=1, max_size=6, unique=True)):
        env = draw(
            st.lists(
                st.one_of(
                    st.builds(EnvVar, name=st.sampled_from(["MODE", "LEVEL"]), value=TEXT),
                    st.builds(EnvVar, name=st.just("API_KEY"), secret_name=NAMES, secret_key=NAMES),
                ),
                max_size=2,
            )
        )
        workload = draw(
            st.one_of(
                st.none(),
                st.builds(
                    Workload,
                    image=NAMES.map("registry.example.com/{}:1".format),
                    replicas=st.integers(0, 3),
                    env=st.just(tuple(env)),
                    serves_capabilities_document=st.booleans(),
                ),
            )
        )
        agents.append(
            Agent(
                name=name,
                namespace=draw(NAMESPACES),
                description=draw(TEXT),
                labels=draw(
                    st.dictionaries(st.sampled_from(["subset", "team"]), st.sampled_from(["stable", "canary"]))
                ),
                supported_tenants=tuple(draw(st.lists(st.sampled_from(["acme", "globex"]), unique=True, max_size=2))),
                supported_channels=tuple(draw(st.lists(st.sampled_from(["web", "ivr"]), unique=True, max_size=2))),
                capabilities=tuple(
                    Capability(name=c, version=draw(VERSIONS), description=draw(TEXT))
                    for c in draw(st.lists(st.sampled_from(caps), unique=True, max_size=3))
                ),
                workload=workload,
            )
        )
    channels = [
        Channel(
            name=name,
            namespace=draw(NAMESPACES),
            labels={
                "tenant": draw(st.sampled_from(["acme", "globex"])),
                "channel": draw(st.sampled_from(["web", "ivr"])),
                "version": draw(LABEL_VALUES),
                "subset": draw(st.sampled_from(["stable", "canary"])),
            },
            required_capabilities=tuple(
                RequiredCapability(
                    name=c, version=draw(RANGES), strategy=draw(st.sampled_from(["HIGHEST", "MOST_SIMILAR"]))
                )
                for c in draw(st.lists(st.sampled_from(caps), unique=True, max_size=3))
            ),
        )
        for name in draw(st.lists(NAMES.map("ch-{}".format), max_size=3, unique=True))
    ]
    rollouts = [
        ChannelRollout(
            name=f"{c.name}-rollout",
            namespace=c.namespace,
            canary_channel=c.name,
            stable_channel=c.name,
            canary_weight=draw(st.integers(0, 100)),
        )
        for c in channels[:1]
    ]
    unique_agents = list({a.name: a for a in agents}.values())
    names = [a.name for a in unique_agents]
    groups = [Group(name="g", members=tuple(draw(st.lists(st.sampled_from(names), unique=True, max_size=3))))]
    refs = st.sampled_from([*names, "group:g"])
    edges = {
        e.key: e
        for e in draw(
            st.lists(
                st.builds(
                    TrustEdge,
                    caller=refs,
                    callee=refs,
                    protocol=st.sampled_from(["", "http", "ws"]),
                    capabilities=st.lists(st.sampled_from(caps), unique=True, max_size=1).map(tuple),
                ),
                max_size=5,
            )
        )
    }
    return Design(
        name=draw(NAMES),
        agents=tuple(unique_agents),
        channels=tuple(channels),
        rollouts=tuple(rollouts),
        groups=tuple(groups),
        trust_edges=tuple(edges.values()),
    )


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(design=designs(), istio=st.booleans())
def test_any_design_exports_valid_manifests_that_round_trip(design: Design, istio: bool) -> None:
    options = ExportOptions(with_workloads=True, with_istio=istio)
    bundle = export_design(design, options)  # raises ExportError if any document is invalid
    assert all(
        row["status"] == "valid"
        for row in bundle.validation.rows
        if not row["resource"].startswith("AuthorizationPolicy")
    )
    files = kustomize.render(bundle)
    with tempfile.TemporaryDirectory() as tmp:
        folder = kustomize.write_folder(bundle, Path(tmp) / "out", files)
        imported = importer.import_manifests(folder)
        assert imported.warnings == []  # no generated document differs from what the design generates
        again = kustomize.render(export_design(imported.design, options))
        assert again == files
        archive = kustomize.write_zip(bundle, Path(tmp) / "out.zip", files)
        assert kustomize.render(export_design(importer.import_manifests(archive).design, options)) == files
