"""What is wrong with a ChannelRollout by itself: a channel it names that is not in the design, weights that are
not a split. `lmos-studio canary` (canary.py) and `lmos-studio lint` (lint.py) both report these, under the same
codes and texts. Pure functions over the model.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from lmos_studio.model import ChannelRollout, Design


class RolloutProblem(NamedTuple):
    severity: Literal["error", "warning"]
    code: str  # rollout-missing-channel | rollout-weights
    message: str


def rollout_problems(design: Design, rollout: ChannelRollout) -> list[RolloutProblem]:
    """`rollout-missing-channel` (error) for each of its channels not in the design (in its namespace),
    `rollout-weights` (warning) when its weights are not two percentages adding up to 100."""
    problems = [
        RolloutProblem("error", "rollout-missing-channel", f"{role} channel {name} is not in the design")
        for role, name in (("stable", rollout.stable_channel), ("canary", rollout.canary_channel))
        if design.channel(name, rollout.namespace) is None
    ]
    weights = (rollout.stable_weight, rollout.canary_weight)
    if sum(weights) != 100 or not all(0 <= w <= 100 for w in weights):  # 150/-50 adds up, yet is no split
        problems.append(
            RolloutProblem(
                "warning",
                "rollout-weights",
                f"weights {rollout.stable_weight}/{rollout.canary_weight} are not two percentages (each 0–100) "
                "that add up to 100",
            )
        )
    return problems
