"""Benchmark: a ten-year England run on one core. Prints wall time, peak memory and throughput.

    python experiments/benchmark.py [--years 10] [--seed 0] [--world england]

Targets (issue 2): under 60 s and under 2 GB here; later under 15 s. Timing lives here, not in
the tests. Child-days simulated = sum over weeks of children in care x days in the week.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from rcc_sim.config import Config
from rcc_sim.engine.model import CareSystemModel
from rcc_sim.run import to_dataset


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    cfg = Config(seed=args.seed)
    cfg.sim.years = args.years
    t0 = time.perf_counter()
    model = CareSystemModel(cfg)
    t_init = time.perf_counter()
    model.run()
    t_run = time.perf_counter()
    ds = to_dataset(model)
    t_end = time.perf_counter()
    days = np.diff(np.r_[0.0, model.week_ends])
    child_days = float((ds["children_in_care"].sum("la").values * days).sum())
    events = model.env._eid if hasattr(model.env, "_eid") else float("nan")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    wall = t_end - t0
    print(f"world england, {args.years:g} years, seed {args.seed}")
    print(
        f"wall time          {wall:8.1f} s  (set-up {t_init - t0:.1f} s, run {t_run - t_init:.1f} s, "
        f"dataset {t_end - t_run:.1f} s)"
    )
    print(f"peak memory        {peak_mb:8.0f} MB")
    print(f"child-days         {child_days / 1e6:8.1f} million")
    print(f"child-days / s     {child_days / wall / 1e6:8.2f} million")
    print(f"events scheduled   {next(events) if not isinstance(events, float) else events}")
    print(
        f"children in care at end {float(ds['children_in_care'].isel(time=-1).sum()):,.0f}; "
        f"starts {float(ds['starts'].sum()):,.0f}; ceased {float(ds['ceased'].sum()):,.0f}"
    )


if __name__ == "__main__":
    main()
