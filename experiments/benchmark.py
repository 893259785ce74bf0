"""Benchmark: England on one core, against raw simpy on the same machine, in the same process.

    python experiments/benchmark.py [--years 10] [--repeat 3] [--seed 0] [--scale 1] [--plan] [--spin-up-years N]

Prints, for ``--repeat`` runs (min and median; each run in a fresh process): set-up, run and
Dataset seconds, the wall time, events, peak memory of the run's process; the time of one
million raw simpy timeouts, measured in each run's process (the best of three before the run
and three after it); and the ratio (wall time of the run / raw-simpy time of the same
process), the figure the engine issue sets a target for (ratio <= 17 for ten years of England,
set-up <= 2 s, five-year run <= 10 s, <= 1 GB, doubling the children <= 2.2 x the time).
``--scale 2`` doubles the children: every LA's base-date stock and published starts, and with
them the supply (foster households, enquiries, homes, supported and secure places), so the
system has the same shape at twice the size. ``--plan`` prints the plan with step timings of the
last run. ``--spin-up-years`` overrides ``sim.spin_up_years`` (default: the config's, 8): with 0
the model starts at the base date, as it did when the engine issue set its targets. The run is
timed in two parts, the spin-up and the years from the base date, and the ratio is printed also
without the spin-up (set-up + the years from the base date + Dataset). Timing lives here, not in
the tests.
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import resource
import statistics
import sys
import time

import numpy as np
import simpy

from rcc_sim.config import Config
from rcc_sim.engine import compiled, memory
from rcc_sim.engine.model import CareSystemModel
from rcc_sim.engine.world import build_world
from rcc_sim.run import to_dataset


def raw_simpy(n: int = 1_000_000) -> float:
    """Seconds for ``n`` trivial timeouts in one simpy process."""
    env = simpy.Environment()

    def proc():
        for _ in range(n):
            yield env.timeout(1.0)

    env.process(proc())
    t0 = time.perf_counter()
    env.run()
    return time.perf_counter() - t0


def best_raw_simpy(k: int = 3) -> float:
    """The least disturbed of ``k`` :func:`raw_simpy` timings, as timeit does."""
    return min(raw_simpy() for _ in range(k))


def scaled(cfg: Config, factor: float) -> Config:
    """``cfg`` with every absolute count of children and supply multiplied by ``factor``."""
    if factor == 1:
        return cfg
    f, p, d = cfg.fostering, cfg.provision, cfg.demand
    cfg.fostering = dataclasses.replace(
        f,
        mainstream_households=int(round(f.mainstream_households * factor)),
        enquiries_per_year=f.enquiries_per_year * factor,
    )
    cfg.provision = dataclasses.replace(
        p,
        childrens_homes=int(round(p.childrens_homes * factor)),
        childrens_home_places=int(round(p.childrens_home_places * factor)),
        la_run_homes=int(round(p.la_run_homes * factor)),
        supported_places=int(round(p.supported_places * factor)),
        secure_welfare_places=int(round(p.secure_welfare_places * factor)),
    )
    cfg.demand = dataclasses.replace(d, initial_secure_tier_children=d.initial_secure_tier_children * factor)
    return cfg


def one_run(args) -> dict:
    cfg = Config(seed=args.seed)
    cfg.sim.years = args.years
    if args.spin_up_years is not None:
        cfg.sim.spin_up_years = args.spin_up_years
    # raw simpy timed here, in the run's own process, three times before the run and three after
    # (the least disturbed of the six, as timeit does): each run's ratio is to the raw-simpy time
    # of the same process, so a machine that slows down or speeds up between runs moves both
    # alike, and a moment's disturbance of the simpy loops alone cannot flatter the ratio
    simpy_before = best_raw_simpy()
    cfg = scaled(cfg, args.scale)
    world = None
    if args.scale != 1:
        world = build_world(cfg)
        world.stock = np.round(world.stock * args.scale).astype(int)
        world.starts_table = {y: v * args.scale for y, v in world.starts_table.items()}
    t0 = time.perf_counter()
    model = CareSystemModel(cfg, world=world)
    t1 = time.perf_counter()
    if model.base_week > 0:  # the spin-up, then the years from the base date (the same bits as run() alone)
        model.run_to_base()
    t_base = time.perf_counter()
    model.run()
    t2 = time.perf_counter()
    ds = to_dataset(model)  # from the base date, as a run writes it
    t3 = time.perf_counter()
    # child-days over every simulated week: the output weeks' and the spin-up's (not stored: Recorder)
    days = np.diff(np.r_[0.0, model.week_ends])[model.base_week :]
    child_days = float((ds["children_in_care"].sum("la").values * days).sum())
    child_days += model.rec.unkept_days["children_in_care"]
    simpy_s = min(simpy_before, best_raw_simpy())
    return {
        "simpy": simpy_s,
        "setup": t1 - t0,
        "run": t2 - t1,
        "spin_up": t_base - t1,
        "from_base": t2 - t_base,
        "dataset": t3 - t2,
        "wall": t3 - t0,
        "base_wall": (t1 - t0) + (t2 - t_base) + (t3 - t2),  # set-up, the years from the base date, Dataset
        "events": model.clock.events,
        "dropped": model.clock.dropped,
        "child_days": child_days,
        "cic_end": float(ds["children_in_care"].isel(time=-1).sum()),
        "plan": str(model.plan),
        "memory": memory.state(),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # this process: one run
    }


def one_run_alone(args) -> dict:
    """:func:`one_run` in a fresh process, so that its peak memory is its own (a process's peak
    only grows: runs in one process would report the largest of them plus what is left over)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(one_run, args).result()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--scale", type=float, default=1.0, help="multiply children and supply (2 = twice England)")
    ap.add_argument("--plan", action="store_true", help="print the plan with step timings of the last run")
    ap.add_argument("--spin-up-years", type=int, default=None, help="sim.spin_up_years (default: the config's)")
    args = ap.parse_args()
    runs = [one_run_alone(args) for _ in range(args.repeat)]
    simpy = [r["simpy"] for r in runs]
    peaks = [r["peak_mb"] for r in runs]
    spin = Config().sim.spin_up_years if args.spin_up_years is None else args.spin_up_years
    head = f"England x{args.scale:g}, {args.years:g} years after a {spin}-year spin-up"
    print(f"{head}, seed {args.seed}, {args.repeat} runs")
    span = f"{min(simpy):.2f}-{max(simpy):.2f}" if len(runs) > 1 else f"{simpy[0]:.2f}"
    print(f"raw simpy: 1,000,000 timeouts in {span} s (best of 6 in each run's process: 3 before it, 3 after)")
    if max(simpy) > 1.1 * min(simpy):  # the same loop 10% slower in one process than another
        print(f"  the machine's speed varied between runs ({max(simpy) / min(simpy) - 1:.0%} in raw simpy):")
        print("  compare medians, or interleave the runs of two commits, rather than single figures")
    # the interpreter's build moves every figure: the same run took 16% less under Debian's
    # Python 3.11.2 (built with PGO and LTO) than under a pyenv 3.11.7 built without them
    print(f"interpreter: {sys.executable}, Python {platform.python_version()} ({platform.python_compiler()})")
    print(f"engine: {compiled.state} (rcc_sim/engine/compiled.py)")
    print(f"huge-page arenas: {runs[-1]['memory']} (rcc_sim/engine/memory.py; RCC_SIM_HUGEPAGES=0 turns them off)")
    print(f"{'':18s} {'min':>8s} {'median':>8s}")
    for key in ("setup", "run", "spin_up", "from_base", "dataset", "wall"):
        vals = [r[key] for r in runs]
        print(f"{key + ' (s)':18s} {min(vals):8.2f} {statistics.median(vals):8.2f}")
    walls = [r["wall"] for r in runs]
    ratios = [r["wall"] / r["simpy"] for r in runs]  # each run against its own process's raw simpy
    print(f"{'ratio to simpy':18s} {min(ratios):8.1f} {statistics.median(ratios):8.1f}")
    # the same ratio without the spin-up (set-up + the years from the base date + Dataset): the span
    # the engine issue measured when it set the target, before the model had a spin-up
    base = [r["base_wall"] / r["simpy"] for r in runs]
    print(f"{'  without spin-up':18s} {min(base):8.1f} {statistics.median(base):8.1f}")
    r = runs[-1]
    print(f"events             {r['events']:,} on simpy's heap; {r['dropped']:,} cancelled before reaching it")
    print(f"per event          {1e6 * statistics.median([x['run'] for x in runs]) / r['events']:.1f} us (run only)")
    print(f"child-days / s     {r['child_days'] / statistics.median(walls) / 1e6:.2f} million")
    mb = f"{min(peaks):,.0f} / {statistics.median(peaks):,.0f} MB"
    print(f"peak memory        {mb} (min / median; each run in its own process)")
    print(f"children in care at the end {r['cic_end']:,.0f}")
    if args.plan:
        print()
        print(r["plan"])


if __name__ == "__main__":
    main()
