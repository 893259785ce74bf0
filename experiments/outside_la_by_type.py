"""Where does the share placed outside the LA move? A diagnostic by placement type.

Runs the England status quo (default config, with its spin-up) and at each 31 March counts,
for each placement type, the located children, those placed outside their LA and those over
20 miles from home, and the type's share of located children. A trend in the share placed
outside the LA is the sum of two parts: each type's own outside share moving (where placements
of that type are) and the mix of types moving (which placements children are in); the table
shows both, so the missing mechanism can be read off before changing the model.

    python experiments/outside_la_by_type.py [--years 10] [--seed 0] [overrides ...]

One ten-year England run with its spin-up: about 3.5 minutes here. Prints a markdown table.
"""

from __future__ import annotations

import argparse
from collections import defaultdict

import numpy as np

from rcc_sim import load_config
from rcc_sim.config import to_object
from rcc_sim.engine.model import CareSystemModel
from rcc_sim.engine.processes.placement import LOCATED
from rcc_sim.vocab import PLACEMENT_TYPES


def census(model: CareSystemModel) -> dict[str, tuple[int, int, int]]:
    """(located, outside the LA, over 20 miles) by placement type, counted from the children."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for c in model.children.values():
        if c.ptype in LOCATED:
            row = out[PLACEMENT_TYPES[c.ptype]]
            row[0] += 1
            row[1] += c.unit is not None and c.unit.la != c.la
            row[2] += c.miles > 20.0
    return {k: (v[0], v[1], v[2]) for k, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("overrides", nargs="*")
    a = ap.parse_args()
    cfg = to_object(load_config([*a.overrides, f"sim.years={a.years}", f"seed={a.seed}", "output.progress=false"]))
    model = CareSystemModel(cfg)
    snaps: dict[str, dict] = {}

    base = np.datetime64(f"{cfg.sim.start_year}-03-31")

    def at_week(done: int, n: int, day: float) -> None:
        if done % 52 == 0 or done == 1:  # every 31 March (and the first week)
            snaps[str(base + np.timedelta64(round(day), "D"))] = census(model)

    model.run(progress=at_week)
    dates = list(snaps)
    kinds = sorted({k for s in snaps.values() for k in s}, key=PLACEMENT_TYPES.index)
    print("| type | measure | " + " | ".join(dates) + " |")
    print("|---|---|" + "---:|" * len(dates))
    for k in kinds:
        for label, fn in (
            ("share of located", lambda s, k=k: 100 * s.get(k, (0, 0, 0))[0] / sum(v[0] for v in s.values())),
            ("outside the LA", lambda s, k=k: 100 * s.get(k, (0, 0, 0))[1] / max(s.get(k, (1, 0, 0))[0], 1)),
            ("over 20 miles", lambda s, k=k: 100 * s.get(k, (0, 0, 0))[2] / max(s.get(k, (1, 0, 0))[0], 1)),
        ):
            print(f"| {k} | {label} (%) | " + " | ".join(f"{fn(snaps[d]):.1f}" for d in dates) + " |")
    tot = [100 * sum(v[1] for v in snaps[d].values()) / sum(v[0] for v in snaps[d].values()) for d in dates]
    print("| all located | outside the LA (%) | " + " | ".join(f"{v:.1f}" for v in tot) + " |")


if __name__ == "__main__":
    main()
