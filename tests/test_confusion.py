"""Ambiguity by confusion at scale: one analysis per distinct text, a sharded embedding cache, same answers."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from lmos_studio.config import get_settings
from lmos_studio.model import Agent, Capability, Channel, Design, RequiredCapability
from lmos_studio.routing.confusion import _tfidf, ambiguity_findings, confusions, confusions_of
from lmos_studio.routing.encoder import DIMENSION, cached_embed_many
from lmos_studio.routing.table import table_for_resolution
from lmos_studio.synthetic import synthetic_design
from lmos_studio.trust import safe_resolutions


class HashEmbedder:
    """A stand-in encoder (no model): a text's vector from its hash; counts the texts it encodes per call."""

    name = "hash"
    cache_key = "hash-test"

    def __init__(self) -> None:
        self.calls: list[int] = []

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.calls.append(len(texts))
        seeds = [int.from_bytes(hashlib.sha256(t.encode()).digest()[:4], "big") for t in texts]
        return np.stack([np.random.default_rng(s).standard_normal(DIMENSION).astype(np.float32) for s in seeds])


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("LMOS_STUDIO_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_sharded_cache_encodes_once_and_an_edit_reencodes_one_shard(data_dir: Path) -> None:
    texts = [f"text number {i}" for i in range(300)]
    first = HashEmbedder()
    vectors = cached_embed_many(first, [*texts, texts[0]])  # repeats allowed, answered in order
    assert first.calls == [300]  # every text in one call
    assert np.array_equal(vectors[:300], first.embed(texts)) and np.array_equal(vectors[300], vectors[0])
    shards = list((data_dir / "embeddings" / "hash-test").glob("*.npy"))
    assert len(shards) == 8  # 300 texts / 32 per shard, rounded down to a power of two
    second = HashEmbedder()
    assert np.array_equal(cached_embed_many(second, texts[::-1]), vectors[:300][::-1]) and second.calls == []
    edited = [*texts[:-1], "an edited text"]
    third = HashEmbedder()
    cached_embed_many(third, edited)
    assert len(third.calls) == 1 and third.calls[0] < 80  # only the shards the edit touched


def test_tfidf_is_scikit_learns() -> None:
    docs = [["~cancel", "order"], ["order", "order", "track"], [], ["~bill", "pay", "pay", "pay"]]
    expected = TfidfVectorizer(analyzer=lambda d: d, sublinear_tf=True).fit_transform(docs).toarray()
    got = _tfidf(docs)
    assert np.allclose(got @ got.T, expected @ expected.T)
    assert _tfidf([[], []]).shape == (2, 1)


def parcel_channel_design() -> Design:
    """synthetic_design(400 agents) plus one channel where two agents track parcels/packages in other words."""
    base = synthetic_design(400, 20, 20, 800)
    parcel = Agent(
        name="parcel-agent",
        capabilities=(Capability(name="track-parcel", version="1.0.0", examples=PARCEL),),
        supported_tenants=("parcels",),
        supported_channels=("post",),
    )
    package = Agent(
        name="package-agent",
        capabilities=(Capability(name="track-package", version="1.0.0", examples=PACKAGE),),
        supported_tenants=("parcels",),
        supported_channels=("post",),
    )
    requires = (
        RequiredCapability(name="track-parcel", version="*"),
        RequiredCapability(name="track-package", version="*"),
    )
    return base.replace(
        agents=(*base.agents, parcel, package),
        channels=(*base.channels, Channel(name="post", labels=POST_LABELS, required_capabilities=requires)),
    )


POST_LABELS = {"tenant": "parcels", "channel": "post", "version": "1.0.0", "subset": "stable"}
PARCEL = ("where is my parcel", "track my parcel", "my parcel has not arrived")
PACKAGE = ("where is my package", "track my package", "my package has not arrived")


@pytest.mark.parametrize("method", ["lexicon", "auto"])
def test_different_words_found_among_many_channels(method: str) -> None:
    design = parcel_channel_design()
    findings = [f for f in ambiguity_findings(design, method=method) if "track-parcel" in f.message]
    assert len(findings) == 1, findings
    assert "track-parcel (parcel-agent) and track-package (package-agent)" in findings[0].message
    assert '"where is my parcel" ~ "where is my package"' in findings[0].message


def test_many_tables_at_once_answer_as_each_alone() -> None:
    design = parcel_channel_design()
    tables = [table_for_resolution(r, design.routing) for r in safe_resolutions(design)]
    together = confusions_of(tables, method="lexicon")
    assert together == [confusions(t, method="lexicon") for t in tables]
    assert sum(map(len, together)) == 1  # parcel/package


def test_a_design_without_channels_is_compared_over_all_its_agents() -> None:
    """Bug (session 12 QA): a design without Channels routes every query over all its agents (route, eval,
    test), but lint compared only Channels, so two capabilities saying the same in other words went unreported."""
    design = Design(
        name="draft",
        agents=(
            Agent(
                name="parcel-agent", capabilities=(Capability(name="track-parcel", version="1.0.0", examples=PARCEL),)
            ),
            Agent(
                name="package-agent",
                capabilities=(Capability(name="track-package", version="1.0.0", examples=PACKAGE),),
            ),
        ),
    )
    [finding] = ambiguity_findings(design, method="lexicon")
    assert finding.message.startswith("All agents (the design has no Channels): track-parcel (parcel-agent) and")
    assert finding.objects == (
        "capability:track-parcel",
        "capability:track-package",
        "agent:default/parcel-agent",
        "agent:default/package-agent",
    )
