"""Ten-year status-quo projection ("do nothing") for England from 31 March 2024, with intervals.

Each run draws one parameter set (Latin hypercube, ``rcc_sim.studies.sensitivity.draw``) and its own
seed, so the intervals hold both parameter and stochastic uncertainty:

* every calibrated parameter within its plausible range (rcc_sim/data/calibrated.yaml), and
* with ``--assumptions`` (the default), the unsourced parameters within the ranges of
  configs/experiment/sensitivity.yaml (entry trend, search radius, escalation, market ...).

With ``--no-parameters`` only the seed varies (stochastic uncertainty alone). Prints, for each
statistical year to 31 March, children in care, placement spend, the share placed over 20 miles
and the placement mix: the median and the 5-95% range across runs.

    python experiments/projection.py [--draws 20] [--years 10] [--jobs 2] [--no-assumptions]

20 ten-year runs with the 8-year spin-up took 34 min 15 s with 2 jobs, the first 7 min beside the
test suite (code 0d77b9b: per-LA exit rates through the steady state, residential care refitted;
54 parameters varied); the output is kept in ``experiments/projection/status_quo_20draws_0d77b9b.txt``,
beside those of b5c16aa (the kinship-corrected start, about 28 min), c2b0d0c (the in-house/IFA refit,
28 min 43 s), ab34c63 (the UASC fix) and 0bc5cb5 (the trajectory calibration). 2034 medians [5%, 95%],
0d77b9b against b5c16aa: children in care 91,412 [67,975-122,119] (89,601), spend GBP 7,522m
[5,192-12,476] (7,258m), over 20 miles 26.5% (27.4%), foster care 64.2% (63.8%), children's homes and
secure 13.9% (13.9%).
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf

from rcc_sim.config import Config, FreeParameter
from rcc_sim.vocab import PLACEMENT_TYPES

ROOT = Path(__file__).resolve().parent.parent
GROUPS = {
    "foster (all)": ["kinship_foster", "in_house_foster", "ifa_foster"],
    "children's homes + secure": ["la_home", "private_home", "secure"],
    "supported accommodation": ["supported_accommodation"],
    "other (parents, adoption, other, unregistered)": [
        "with_parents",
        "placed_for_adoption",
        "other_setting",
        "unregistered",
    ],
}


def one_run(args: tuple[int, float, list, dict]) -> dict[str, np.ndarray]:
    from rcc_sim.run import simulate
    from rcc_sim.studies.calibration import apply

    seed, years, params, x = args
    cfg = apply(Config(seed=seed), params, x)
    cfg.sim.years = years
    ds = simulate(cfg)
    by_year = ds.groupby("stat_year").sum()
    end = ds["placements"].sum("la").groupby("stat_year").last()
    out = {
        "year": by_year["stat_year"].values,
        "children_in_care": ds["children_in_care_31mar"].sum("la").values,
        "spend_gbp_m": by_year["spend"].sum(("la", "placement_type")).values / 1e6,
        "over_20_miles": (ds["over_20_miles"].sum("la") / ds["located"].sum("la")).groupby("stat_year").last().values,
    }
    total = end.sum("placement_type")
    for name, types in GROUPS.items():
        out[name] = (end.sel(placement_type=types).sum("placement_type") / total).values
    return out


def parameters(assumptions: bool) -> list[FreeParameter]:
    from rcc_sim.config import CALIBRATED

    params = [
        FreeParameter(key=k, lo=r["lo"], hi=r["hi"], scale=bool(r.get("scale")))
        for k, r in CALIBRATED.get("ranges", {}).items()
    ]
    if assumptions:
        doc = OmegaConf.load(ROOT / "configs" / "experiment" / "sensitivity.yaml")
        params += [FreeParameter(**OmegaConf.to_container(p)) for p in doc.sensitivity.parameters]
    return params


def main() -> None:
    from rcc_sim.studies.sensitivity import draw

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=20)
    ap.add_argument("--years", type=float, default=10.0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0, help="first seed; run k uses seed + k")
    ap.add_argument("--no-assumptions", dest="assumptions", action="store_false")
    ap.add_argument("--no-parameters", dest="vary", action="store_false", help="vary the seed only")
    args = ap.parse_args()
    params = parameters(args.assumptions) if args.vary else []
    x = draw(params, args.draws, args.seed) if params else np.zeros((args.draws, 0))
    jobs = [
        (args.seed + k, args.years, params, {p.key: float(v) for p, v in zip(params, row)}) for k, row in enumerate(x)
    ]
    with ProcessPoolExecutor(max_workers=args.jobs) as ex:
        runs = list(ex.map(one_run, jobs))
    years = runs[0]["year"]
    what = (
        f"{len(params)} parameters varied ({'calibrated + assumed' if args.assumptions else 'calibrated'})"
        if params
        else "seed only"
    )
    print(f"Status quo projection, England, {args.draws} runs, {what}: median [5%, 95%] across runs, year to 31 March")
    for key in ["children_in_care", "spend_gbp_m", "over_20_miles", *GROUPS]:
        vals = np.array([r[key] for r in runs])
        print(f"\n{key}")
        for k, y in enumerate(years):
            lo, med, hi = np.percentile(vals[:, k], [5, 50, 95])
            fmt = "{:,.3f}" if vals.max() < 2 else "{:,.0f}"
            print(f"  {y}: {fmt.format(med)} [{fmt.format(lo)}, {fmt.format(hi)}]")
    assert len(PLACEMENT_TYPES) == sum(len(v) for v in GROUPS.values())


if __name__ == "__main__":
    main()
