"""Write a large synthetic design (default 1 000 agents, 50 channels) to a YAML file for benchmarks.

Usage: python sample_networks/generate_large.py [--agents N] [--channels N] [--seed S] OUT.yaml
"""

from __future__ import annotations

import argparse

from lmos_studio.formats.design_file import write_design
from lmos_studio.synthetic import synthetic_design


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out")
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--edges", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    design = synthetic_design(args.agents, args.channels, args.groups, args.edges, seed=args.seed)
    write_design(design, args.out)
    print(
        f"wrote {args.out}: {len(design.agents)} agents, {len(design.channels)} channels, "
        f"{len(design.groups)} groups, {len(design.trust_edges)} trust edges"
    )


if __name__ == "__main__":
    main()
