"""A tiny deterministic router (word overlap) and a small two-channel design for routing tests."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from lmos_studio.model import Agent, Capability, Channel, Design, RequiredCapability
from lmos_studio.routing.base import Match, RouteResult, RoutingTable


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


@dataclass
class FittedOverlap:
    name: str
    texts: list[tuple[str, str, set[str], str]] = field(default_factory=list)  # agent, capability, words, text

    def route(self, query: str, *, top_k: int = 5) -> RouteResult:
        q = words(query)
        best: dict[tuple[str, str], tuple[float, str]] = {}
        for agent, cap, ws, text in self.texts:
            score = len(q & ws) / max(len(q | ws), 1)
            if score > best.get((agent, cap), (-1.0, ""))[0]:
                best[(agent, cap)] = (score, text)
        ranked = sorted(((s, a, c, t) for (a, c), (s, t) in best.items() if s > 0), key=lambda r: (-r[0], r[1], r[2]))
        return RouteResult(
            router=self.name,
            matches=tuple(Match(a, c, s, (f"near: {t}",)) for s, a, c, t in ranked[:top_k]),
            latency_ms=1.0,
        )


@dataclass
class OverlapRouter:
    """Scores each (agent, capability) by the best Jaccard word overlap with its description or examples."""

    name: str = "overlap"
    fits: int = 0

    def fit(self, table: RoutingTable, *, seed: Sequence[tuple[str, str, str]] = ()) -> FittedOverlap:
        self.fits += 1
        fitted = FittedOverlap(self.name)
        for c in table.candidates:
            for text in (c.capability.replace("-", " "), c.description, *c.examples):
                if text:
                    fitted.texts.append((c.agent, c.capability, words(text), text))
        caps = {c.agent: c.capability for c in table.candidates}
        for text, agent, cap in seed:
            fitted.texts.append((agent, cap or caps.get(agent, ""), words(text), text))
        return fitted


def cap(name: str, *examples: str, version: str = "1.0.0") -> Capability:
    return Capability(name=name, version=version, description=name.replace("-", " "), examples=examples)


AGENTS = (
    Agent(name="billing", supported_channels=("web",), capabilities=(cap("view-bill", "show my bill", "my invoice"),)),
    Agent(
        name="contract",
        supported_channels=("web",),
        capabilities=(cap("view-contract", "show my contract", "contract end date"),),
    ),
    Agent(name="weather", supported_channels=("app",), capabilities=(cap("forecast", "rain tomorrow", "weather"),)),
)
WEB = Channel(
    name="web-stable",
    labels={"channel": "web", "tenant": "t"},
    required_capabilities=(
        RequiredCapability(name="view-bill", version=">=1.0.0"),
        RequiredCapability(name="view-contract", version="1.0.0"),
    ),
)
APP = Channel(
    name="app-stable",
    labels={"channel": "app", "tenant": "t"},
    required_capabilities=(RequiredCapability(name="forecast", version="1.0.0"),),
)
DESIGN = Design(name="small", agents=AGENTS, channels=(WEB, APP))


@dataclass(frozen=True)
class FakeCalibration:
    threshold: float
    n: int


@dataclass
class FittedThreshold(FittedOverlap):
    """Like a hybrid router: reports usage per query and can calibrate a threshold on labelled pairs."""

    threshold: float = 1.01  # above every overlap score: the "LLM" track until calibrated

    def route(self, query: str, *, top_k: int = 5) -> RouteResult:
        result = super().route(query, top_k=top_k)
        track = "fast" if result.best and result.best.score >= self.threshold else "llm"
        return RouteResult(
            result.router,
            result.matches,
            1.0,
            {"track": track, "total_tokens": 10, "cost_usd": 0.5, "threshold": self.threshold},
        )

    def calibrated(self, labelled: Sequence[tuple[str, str]]) -> tuple[FittedThreshold, FakeCalibration]:
        return FittedThreshold(self.name, self.texts, threshold=0.5), FakeCalibration(0.5, len(labelled))


@dataclass
class ThresholdRouter(OverlapRouter):
    name: str = "threshold"

    def fit(self, table: RoutingTable, *, seed: Sequence[tuple[str, str, str]] = ()) -> FittedThreshold:
        fitted = super().fit(table, seed=seed)
        return FittedThreshold(self.name, fitted.texts)


def no_match_signals(result: RouteResult) -> tuple[object, ...]:
    """What decides "no agent fits" for a routed query (its fit, threshold, "nearer elsewhere" and verdict): tests
    of a change to scores alone compare these before and after."""
    return (result.fit, result.threshold, result.elsewhere, result.elsewhere_limit, result.no_match)
