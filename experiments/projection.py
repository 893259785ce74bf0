"""Ten-year status-quo projection ("do nothing") for England from 31 March 2024, with intervals.

Runs the status quo on several seeds (in parallel) and prints, for each statistical year to
31 March, children in care, placement spend and the placement mix, with the mean and the 2.5-97.5%
range across seeds. Only stochastic uncertainty for now: parameter uncertainty needs the
sensitivity study (issue 4).

    python experiments/projection.py [--seeds 0 1 2 3 4] [--years 10] [--jobs 2]

About 55 s per seed on one core here.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from rcc_sim.config import Config
from rcc_sim.metrics import PLACEMENT_TYPES

GROUPS = {
    "foster (all)": ["kinship_foster", "in_house_foster", "ifa_foster"],
    "children's homes + secure": ["la_home", "private_home", "secure"],
    "supported accommodation": ["supported_accommodation"],
    "other (parents, adoption, other, unregistered)": ["with_parents", "placed_for_adoption", "other_setting",
                                                        "unregistered"],
}


def one_run(args: tuple[int, float]) -> dict[str, np.ndarray]:
    from rcc_sim.run import simulate

    seed, years = args
    cfg = Config(seed=seed)
    cfg.sim.years = years
    ds = simulate(cfg)
    by_year = ds.groupby("stat_year").sum()
    end = ds["placements"].sum("la").groupby("stat_year").last()
    out = {"year": by_year["stat_year"].values,
           "children_in_care": ds["children_in_care_31mar"].sum("la").values,
           "spend_gbp_m": by_year["spend"].sum(("la", "placement_type")).values / 1e6,
           "over_20_miles": (ds["over_20_miles"].sum("la") / ds["located"].sum("la")).groupby("stat_year").last().values}
    total = end.sum("placement_type")
    for name, types in GROUPS.items():
        out[name] = (end.sel(placement_type=types).sum("placement_type") / total).values
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--years", type=float, default=10.0)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    with ProcessPoolExecutor(max_workers=args.jobs) as ex:
        runs = list(ex.map(one_run, [(s, args.years) for s in args.seeds]))
    years = runs[0]["year"]
    print(f"Status quo projection, England, seeds {args.seeds}: mean [2.5%, 97.5%] across seeds, year to 31 March")
    for key in ["children_in_care", "spend_gbp_m", "over_20_miles", *GROUPS]:
        vals = np.array([r[key] for r in runs])
        print(f"\n{key}")
        for k, y in enumerate(years):
            lo, hi = np.percentile(vals[:, k], [2.5, 97.5])
            fmt = "{:,.3f}" if vals.max() < 2 else "{:,.0f}"
            print(f"  {y}: {fmt.format(vals[:, k].mean())} [{fmt.format(lo)}, {fmt.format(hi)}]")
    assert len(PLACEMENT_TYPES) == sum(len(v) for v in GROUPS.values())


if __name__ == "__main__":
    main()
