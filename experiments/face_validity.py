"""Fit report: a one-year England run from 31 March 2024 against the published statistics.

    python experiments/face_validity.py [--seeds 0 1 2 3 4 5 6 7 8 9] [--jobs 2]

Prints the table of rcc_sim.studies.validation.compare (mean over seeds, with the spread across seeds),
counts the targets outside 5% (counts) or 2 percentage points (shares) - the calibration's
acceptance bands - and then the measures the model was not fitted to. About 15 s per seed on
one core here.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from rcc_sim.config import Config
from rcc_sim.run import simulate
from rcc_sim.studies.validation import compare, format_table, format_untuned, untuned


def one_seed(seed: int):
    cfg = Config(seed=seed)
    cfg.sim.years = 1.0
    ds = simulate(cfg)
    return compare(ds), untuned(ds)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    with ProcessPoolExecutor(args.jobs) as ex:
        results = list(ex.map(one_seed, args.seeds))
    tables, others = [r[0] for r in results], [r[1] for r in results]
    rows = tables[0]
    spread = []
    for i, r in enumerate(rows):
        vals = np.array([t[i].model for t in tables])
        r.model = float(vals.mean())
        spread.append(float(vals.std(ddof=1)) if len(vals) > 1 else float("nan"))
    print(f"England, one year from 31 March 2024, mean of {len(args.seeds)} seeds {args.seeds}")
    print(format_table(rows))
    out = [r for r in rows if (abs(r.diff) > 5 if r.kind == "count" else abs(r.diff) > 2)]
    print(
        f"\n{len(out)} of {len(rows)} targets outside 5% (counts) / 2 points (shares): " + ", ".join(r.key for r in out)
    )
    sd = max(s / abs(r.model) for s, r in zip(spread, rows) if r.kind == "count" and r.model)
    print(f"largest seed-to-seed sd of a count: {100 * sd:.2f}% of its mean\n")
    mean_other = [(r[0], float(np.mean([o[i][1] for o in others])), r[2], r[3]) for i, r in enumerate(others[0])]
    print(format_untuned(mean_other))


if __name__ == "__main__":
    main()
