"""Version/range pairs for the semver4j 6.0.0 conformance table (tests/data/semver4j-6.0.0-pairs.tsv).

Prints "version<TAB>range" lines: every caret range of up to three parts drawn from 0, 1, 2, x, *, plus
tilde, X-range, hyphen and Ivy ranges around 0 and 1, against versions on both sides of each bound
(pre-releases, build metadata and a leading v included). `semver4j.sh` feeds them to the real library.
"""

from __future__ import annotations

import itertools

VERSIONS = (
    "0.0.0",
    "0.0.1",
    "0.0.3",
    "0.0.3-rc.1",
    "0.1.0",
    "0.1.0-alpha",
    "0.1.5",
    "0.2.5",
    "1.0.0",
    "1.0.1",
    "1.2.3",
    "1.2.3-beta",
    "1.5.0",
    "2.0.0",
    "2.0.0-rc.1",
    "v1.2.3",
    "1.2.3+build.7",
    "10.0.0",
)
PARTS = ("0", "1", "2", "x", "*")


def ranges() -> list[str]:
    found: set[str] = {"^0 || ^2.0.0", "^0.0 || 1.0.0", "^0.0.3-rc.1", "^ 0", "^0.X.X", "*", "", ">=1.0.0 <2.0.0"}
    for size in (1, 2, 3):
        for combo in itertools.product(PARTS, repeat=size):
            core = ".".join(combo)
            found.add("^" + core)
            if size < 3 or "x" not in combo:
                found.update(prefix + core for prefix in ("~", "", ">=", "<"))
    for low, high in itertools.product(("0", "0.0.3", "1.0"), ("1", "2.0.0")):
        found.update((f"{low} - {high}", f"[{low},{high}]", f"]{low},{high}["))
    return sorted(found)


if __name__ == "__main__":
    for text in ranges():
        for version in VERSIONS:
            print(f"{version}\t{text}")
