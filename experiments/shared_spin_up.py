"""What sharing one spin-up between the arms of a comparison saves (``rcc_sim.run.simulate_arms``).

    python experiments/shared_spin_up.py [--world england] [--seed 0]

Times, for one config: the set-up and the spin-up to the base date (what every arm repeats
without sharing), the snapshot of the base-date state (pickled, and compressed as a sweep keeps it
in ``.spin_up/``), and restoring a copy under another policy (what each further arm costs
instead). Prints the saving per further arm. A paired run's arms after the base date cost the
same either way, so they are not run here. About two minutes for England here.
"""

from __future__ import annotations

import argparse
import time
import zlib

import rcc_sim
from rcc_sim.engine.model import CareSystemModel


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--world", default="england")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    cfg = rcc_sim.load_config([f"world={args.world}", f"seed={args.seed}", "sim.years=10"])
    other = rcc_sim.load_config([f"world={args.world}", f"seed={args.seed}", "sim.years=10", "policy=national_rollout"])
    t0 = time.perf_counter()
    model = CareSystemModel(cfg)
    t1 = time.perf_counter()
    model.run_to_base()
    t2 = time.perf_counter()
    state = model.snapshot()
    t3 = time.perf_counter()
    packed = zlib.compress(state, 1)
    t4 = time.perf_counter()
    copy = CareSystemModel.from_snapshot(state, other)
    t5 = time.perf_counter()
    assert copy.paused_at_base and copy.cfg.policy.name == "national_rollout"
    years = cfg.sim.spin_up_years
    print(f"{args.world}, seed {args.seed}, spin-up of {years} years")
    print(f"set-up                 {t1 - t0:7.1f} s")
    print(f"spin-up to base date   {t2 - t1:7.1f} s")
    print(f"snapshot (pickle)      {t3 - t2:7.1f} s  {len(state) / 1e6:,.0f} MB")
    print(f"compress (zlib 1)      {t4 - t3:7.1f} s  {len(packed) / 1e6:,.0f} MB (a sweep's .spin_up/ file)")
    print(f"restore under another  {t5 - t4:7.1f} s")
    saved = (t2 - t0) - (t5 - t4)
    print(f"saved per further arm  {saved:7.1f} s (set-up + spin-up - restore; the first arm pays the snapshot)")


if __name__ == "__main__":
    main()
