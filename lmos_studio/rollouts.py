"""What is wrong with a ChannelRollout by itself: a channel it names that is not in the design, two channels that are
not a stable/canary pair of one tenant and channel, weights that are not a split. `lmos-studio canary` (canary.py) and
`lmos-studio lint` (lint.py) both report these, under the same codes and texts. Pure functions over the model.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from lmos_studio.model import ChannelRollout, Design


class RolloutProblem(NamedTuple):
    severity: Literal["error", "warning"]
    code: str  # rollout-missing-channel | rollout-channel-mismatch | rollout-weights
    message: str


def rollout_problems(design: Design, rollout: ChannelRollout) -> list[RolloutProblem]:
    """`rollout-missing-channel` (error) for each of its channels not in the design (in its namespace),
    `rollout-channel-mismatch` (error) when they are not a stable and a canary Channel of one tenant and channel,
    `rollout-weights` (warning) when its weights are not two percentages adding up to 100."""
    problems = [
        RolloutProblem("error", "rollout-missing-channel", f"{role} channel {name} is not in the design")
        for role, name in (("stable", rollout.stable_channel), ("canary", rollout.canary_channel))
        if design.channel(name, rollout.namespace) is None
    ]
    problems += [RolloutProblem("error", "rollout-channel-mismatch", m) for m in _pair_problems(design, rollout)]
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


def _pair_problems(design: Design, rollout: ChannelRollout) -> list[str]:
    """Why the rollout's channels are no stable/canary pair: the split (export/istio.py) matches the stable channel's
    tenant/channel path and sets `x-subset: canary` on the canary's share, which the operator answers with the Channel
    labelled `subset: canary` of that tenant and channel (LMOS.md §2.1), whatever the rollout names."""
    stable = design.channel(rollout.stable_channel, rollout.namespace)
    canary = design.channel(rollout.canary_channel, rollout.namespace)
    if stable is None or canary is None:
        return []  # rollout-missing-channel says so
    problems = [
        f"{role} channel {channel.name} has subset {channel.subset}, not {wanted}"
        for role, channel, wanted in (("stable", stable, "stable"), ("canary", canary, "canary"))
        if channel.subset != wanted
    ]
    if (stable.tenant, stable.channel) != (canary.tenant, canary.channel):
        problems.append(
            f"its channels are of different tenants/channels (stable {stable.name}: {stable.tenant}/{stable.channel}, "
            f"canary {canary.name}: {canary.tenant}/{canary.channel}): the canary's share of "
            f"{stable.tenant}/{stable.channel} is answered by that tenant/channel's subset=canary Channel, "
            f"not by {canary.name}"
        )
    return problems
