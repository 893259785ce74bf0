"""Face validity: a one-year England run from 31 March 2024 against the published statistics.

    python experiments/face_validity.py [--seeds 0 1 2]

Prints the table of rcc_sim.validation.compare (mean over seeds). Aim: within 10% (counts) or a
few percentage points (shares). Takes about 15 s per seed here.
"""

from __future__ import annotations

import argparse

import numpy as np

from rcc_sim.config import Config
from rcc_sim.run import simulate
from rcc_sim.validation import compare, format_table, format_untuned, untuned


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = ap.parse_args()
    tables, others = [], []
    for seed in args.seeds:
        cfg = Config(seed=seed)
        cfg.sim.years = 1.0
        ds = simulate(cfg)
        tables.append(compare(ds))
        others.append(untuned(ds))
    rows = tables[0]
    for i, r in enumerate(rows):
        r.model = float(np.mean([t[i].model for t in tables]))
    print(f"England, one year from 31 March 2024, mean of seeds {args.seeds}")
    print(format_table(rows))
    n_out = sum(1 for r in rows if (abs(r.diff) > 10 if r.kind == "count" else abs(r.diff) > 2))
    print(f"\n{n_out} of {len(rows)} rows outside 10% (counts) / 2 points (shares)\n")
    mean_other = [(r[0], float(np.mean([o[i][1] for o in others])), r[2], r[3]) for i, r in enumerate(others[0])]
    print(format_untuned(mean_other))


if __name__ == "__main__":
    main()
