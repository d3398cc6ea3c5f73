"""The default "no agent fits" threshold of the offline routers, chosen from a design's own examples.

Rule (leave-one-out over examples): every example of the channel is routed as if it were a query, against
the channel's other examples and descriptions; its `fit` (cosine to the nearest other text) says how close
an in-scope message typically comes to what the channel knows. The threshold is a share of a low quantile
of those fits, kept within a range where the router's similarity means something. A channel without
examples (zero-shot) gets the router's fixed, lenient default. Tuned on benchmarks/data/informal-dev.csv
and out-of-scope-dev.csv only (never on the held-out or other-domain sets). No I/O.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

LOO_MAX = 2000  # examples routed leave-one-out (spread evenly over a large table)
QUANTILE = 0.10  # the low end of the examples' leave-one-out fits …
SHARE = 0.5  # … of which this share is the threshold (informal messages sit below templated examples)
# Per router: (lowest, highest, default without examples). Cosines: TF-IDF words for statistical, MiniLM
# sentence embeddings for embedding (unrelated English sentences score about 0.0–0.3 with MiniLM).
# Without examples the default is lenient: descriptions are short and formal, so in-scope messages come
# less close to them (on informal-dev.csv the median MiniLM cosine to the nearest description is 0.28).
RANGES: dict[str, tuple[float, float, float]] = {
    "statistical": (0.05, 0.25, 0.05),
    "embedding": (0.25, 0.45, 0.10),
}


def no_match_threshold(router: str, loo_fits: npt.NDArray[np.float64]) -> float:
    """The threshold for `router` ("statistical" or "embedding") from the leave-one-out fits of the examples."""
    low, high, default = RANGES[router]
    if not len(loo_fits):
        return default
    value = SHARE * float(np.quantile(loo_fits, QUANTILE))
    return round(min(max(value, low), high), 4)
