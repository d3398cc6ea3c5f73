"""What a router learns from: a routing table's examples and descriptions plus labelled seed rows.

Classes are (agent, capability) pairs. A seed row whose capability the table does not know (or that names
none) still teaches its agent: it becomes a class of that agent that routers never report as capability.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from lmos_studio.routing.base import Match, RoutingTable
from lmos_studio.routing.text import name_words


@dataclass(frozen=True)
class TrainingSet:
    """Labelled texts of one table. `labels[i]` indexes `classes`; `descriptions[c]` is class c's text."""

    table: RoutingTable
    classes: tuple[tuple[str, str], ...]
    in_table: tuple[bool, ...]  # False for seed-only classes (capability unknown to the table)
    descriptions: tuple[str, ...]
    texts: tuple[str, ...]
    labels: npt.NDArray[np.int64]

    @property
    def agents(self) -> tuple[str, ...]:
        return self.table.agents

    def agent_index(self) -> npt.NDArray[np.int64]:
        """For each class, the index of its agent in `agents`."""
        position = {a: i for i, a in enumerate(self.agents)}
        return np.array([position[a] for a, _ in self.classes], dtype=np.int64)

    def examples_per_class(self) -> float:
        return len(self.texts) / max(len(self.classes), 1)


def description_text(capability: str, description: str, agent: str, agent_description: str) -> str:
    """The zero-shot text of a class: capability name and description, agent name and description."""
    return " . ".join(t for t in (name_words(capability), description, name_words(agent), agent_description) if t)


def training_set(table: RoutingTable, seed: Sequence[tuple[str, str, str]] = ()) -> TrainingSet:
    """Examples of the table's candidates, then seed rows of the table's agents (other agents ignored)."""
    classes: dict[tuple[str, str], int] = {}
    in_table: list[bool] = []
    descriptions: list[str] = []
    agent_text = {c.agent: c.agent_description for c in table.candidates}
    texts: list[str] = []
    labels: list[int] = []
    for cand in table.candidates:
        key = (cand.agent, cand.capability)
        if key not in classes:
            classes[key] = len(classes)
            in_table.append(True)
            descriptions.append(description_text(cand.capability, cand.description, cand.agent, cand.agent_description))
        for example in cand.examples:
            if example.strip():
                texts.append(example)
                labels.append(classes[key])
    for text, agent, capability in seed:
        if agent not in agent_text or not text.strip():
            continue
        key = (agent, capability)
        if key not in classes:
            classes[key] = len(classes)
            in_table.append(False)
            descriptions.append(description_text(capability, "", agent, agent_text[agent]))
        texts.append(text)
        labels.append(classes[key])
    return TrainingSet(
        table=table,
        classes=tuple(classes),
        in_table=tuple(in_table),
        descriptions=tuple(descriptions),
        texts=tuple(texts),
        labels=np.array(labels, dtype=np.int64),
    )


def rank_agents(
    data: TrainingSet,
    class_scores: npt.NDArray[np.float64],
    *,
    top_k: int,
    evidence: dict[str, tuple[str, ...]] | None = None,
    pick: npt.NDArray[np.float64] | None = None,
) -> tuple[Match, ...]:
    """Agent matches from class probabilities: agent score = sum over its classes, capability = its best
    class that the table knows (seed-only classes add to the agent's score but are never reported), best
    by `pick` when given (a router's within-agent opinion, routing/capability.py), else by `class_scores`."""
    agent_of = data.agent_index()
    agent_scores = np.zeros(len(data.agents))
    np.add.at(agent_scores, agent_of, class_scores)
    order = np.argsort(-agent_scores, kind="stable")[:top_k]
    shown = np.where(np.array(data.in_table), class_scores if pick is None else pick, -1.0)
    matches = []
    for a in order:
        agent = data.agents[a]
        mine = np.flatnonzero(agent_of == a)
        best = mine[np.argmax(shown[mine])]
        capability = data.classes[best][1] if data.in_table[best] else ""
        score = float(min(max(agent_scores[a], 0.0), 1.0))
        matches.append(
            Match(agent=agent, capability=capability, score=round(score, 4), evidence=(evidence or {}).get(agent, ()))
        )
    return tuple(matches)


def rank_agents_batch(
    data: TrainingSet,
    class_scores: npt.NDArray[np.float64],
    *,
    top_k: int,
    pick: npt.NDArray[np.float64] | None = None,
) -> list[tuple[tuple[str, str, float], ...]]:
    """`rank_agents` of many rows of class probabilities at once, vectorised: per row, (agent, capability,
    score) best first, the same agents, capabilities and scores as `rank_agents` row by row (tested; keep
    the two in step). Agent scores are summed class by class in the same order, so to the same bits."""
    q = class_scores.shape[0]
    agents = data.agents
    agent_of = data.agent_index()
    agent_scores = np.zeros((q, len(agents)))
    np.add.at(agent_scores, (np.arange(q)[:, None], agent_of[None, :]), class_scores)
    order = np.argsort(-agent_scores, axis=1, kind="stable")[:, :top_k]
    in_table = np.array(data.in_table, dtype=bool)
    chooser = class_scores if pick is None else pick
    shown = np.concatenate([np.where(in_table, chooser, -1.0), np.full((q, 1), -np.inf)], axis=1)
    per_agent = np.bincount(agent_of, minlength=len(agents))
    members = np.full((len(agents), int(per_agent.max(initial=1))), len(data.classes))  # padded: -inf column
    by_agent = np.argsort(agent_of, kind="stable")  # classes grouped by agent, in class order within one
    owner = agent_of[by_agent]
    members[owner, np.arange(len(by_agent)) - (np.cumsum(per_agent) - per_agent)[owner]] = by_agent
    candidates = members[order]  # (rows, top_k, classes of an agent), each agent's classes in class order
    first_best = np.take_along_axis(shown[:, None, :], candidates, axis=2).argmax(axis=2)
    best = np.take_along_axis(candidates, first_best[..., None], axis=2)[..., 0].tolist()
    scores = np.clip(np.take_along_axis(agent_scores, order, axis=1), 0.0, 1.0).tolist()
    shown_as = [name if known else "" for (_, name), known in zip(data.classes, data.in_table, strict=True)]
    return [
        tuple([(agents[a], shown_as[c], round(s, 4)) for a, c, s in zip(row_order, row_best, row_scores, strict=True)])
        for row_order, row_best, row_scores in zip(order.tolist(), best, scores, strict=True)
    ]
