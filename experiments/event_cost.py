"""Where a run's time goes, simulated year by simulated year: the cost of an event over a run.

    python experiments/event_cost.py [--years 10] [--spin-up-years 8] [--seed 0] [--world england]

Runs one model a statistical year at a time and prints, for each year: its wall time, the events
put on the clock, the seconds spent in events (between the plan's steps: ``Plan.event_seconds``),
microseconds an event, the children in care and the in-house foster households with a vacancy at
its end (in-house-first searches reach further as these become scarce). The engine issue's
benchmark (``benchmark.py``) gives the totals; this shows how the cost of an event moves with the
state and the age of the run's objects. The run is paused half a day before each year's last week
ends (its steps run at that end: in the next row). About 40 s for England here.
"""

from __future__ import annotations

import argparse
import time

import rcc_sim
from rcc_sim.engine.model import CareSystemModel, gc_paused
from rcc_sim.vocab import IN_HOUSE


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--world", default="england")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--spin-up-years", type=int, default=None, help="sim.spin_up_years (default: the config's)")
    args = ap.parse_args()
    overrides = [f"world={args.world}", f"seed={args.seed}", f"sim.years={args.years}", "output.progress=false"]
    if args.spin_up_years is not None:
        overrides.append(f"sim.spin_up_years={args.spin_up_years}")
    cfg = rcc_sim.load_config(overrides)
    t0 = time.perf_counter()
    model = CareSystemModel(cfg)
    setup = time.perf_counter() - t0
    base = model.base_week // 52 - 1
    print(f"{args.world}, seed {args.seed}: set-up {setup:.2f} s; the base date is the end of year {base}")
    head = ("year", "wall s", "events", "event s", "us/event", "in care", "in-house vacant")
    print(" ".join(f"{h:>{w}s}" for h, w in zip(head, (4, 7, 8, 8, 8, 8, 15))))
    ends = model.week_ends
    with gc_paused():  # as CareSystemModel.run
        for y in range(len(ends) // 52):
            t1, events, event_s = time.perf_counter(), model.clock.events, model.plan.event_seconds
            # to just before the year's last week ends (the week's steps run at its end, on the clock)
            model.env.run(until=ends[52 * y + 51] - 0.5)
            n, secs = model.clock.events - events, model.plan.event_seconds - event_s
            print(
                f"{y:4d} {time.perf_counter() - t1:7.2f} {n:8,d} {secs:8.2f} {1e6 * secs / max(n, 1):8.1f} "
                f"{sum(model.rec.live['children_in_care']):8,.0f} {model.placement.pooled[IN_HOUSE]:15,d}"
            )


if __name__ == "__main__":
    main()
