"""Model equivalence across an engine change: the same measures, many seeds, before and after.

A faster engine may draw random numbers in another order, so results need not be bit-identical;
they must agree within seed-to-seed noise. For each seed this runs a five-year England status-quo
run and keeps (a) the one-year face-validity table (``rcc_sim.studies.validation.compare`` on year one)
and (b) the five-year trajectory, at each 31 March, of children in care, the family-based share,
the share placed over 20 miles, mainstream fostering households and placement spend.

    python experiments/equivalence.py run --label after [--seeds 0..9] [--jobs 2] [--years 5]
    python experiments/equivalence.py compare outputs/equivalence/before.json outputs/equivalence/after.json

``compare`` prints each measure's mean and seed-to-seed sd before and after and the difference
in units of its standard error (z = diff / sqrt(sd_a^2/n_a + sd_b^2/n_b)); |z| > 3 is flagged.
With ~70 measures, one or two |z| between 2 and 3 are expected by chance.
"""

from __future__ import annotations

import argparse
import json
import math
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "outputs" / "equivalence"


def _simulate(seed: int, years: float):
    try:  # the package API (after the engine regroup)
        from rcc_sim import load_config, simulate

        cfg = load_config([f"seed={seed}", f"sim.years={years}", "output.progress=false"])
    except ImportError:  # the layout before it
        from rcc_sim.config import Config
        from rcc_sim.run import simulate

        cfg = Config(seed=seed)
        cfg.sim.years = years
    return simulate(cfg)


def one_seed(args: tuple[int, float]) -> dict[str, float]:
    seed, years = args
    try:
        from rcc_sim.studies.validation import compare
    except ImportError:
        from rcc_sim.validation import compare
    ds = _simulate(seed, years)
    out = {f"y1:{r.key}": float(r.model) for r in compare(ds)}
    # trajectory at each 31 March (the last week of each statistical year)
    ends = [52 * (k + 1) - 1 for k in range(int(years))]
    e = ds.isel(time=ends).sum("la")
    spend = ds["spend"].sum(("la", "placement_type")).groupby("stat_year").sum().values
    for k in range(int(years)):
        ek = e.isel(time=k)
        cic = float(ek["children_in_care"])
        out[f"yr{k + 1}:children_in_care"] = cic
        out[f"yr{k + 1}:family_based_share"] = float(ek["family_based"]) / cic
        out[f"yr{k + 1}:over_20_miles_share"] = float(ek["over_20_miles"]) / float(ek["located"])
        out[f"yr{k + 1}:mainstream_households"] = float(ek["carers"].sel(carer_kind=["in_house", "ifa"]).sum())
        out[f"yr{k + 1}:spend_gbp_m"] = float(spend[k]) / 1e6
        out[f"yr{k + 1}:waiting"] = float(ek["waiting"])
    return out


def run(args) -> None:
    with ProcessPoolExecutor(args.jobs) as ex:
        per_seed = list(ex.map(one_seed, [(s, args.years) for s in args.seeds]))
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{args.label}.json"
    keys = list(per_seed[0])
    path.write_text(
        json.dumps(
            {"seeds": args.seeds, "years": args.years, "values": {k: [p[k] for p in per_seed] for k in keys}}, indent=1
        )
    )
    print(f"wrote {path}")


def compare(args) -> None:
    a, b = (json.loads(Path(p).read_text()) for p in (args.before, args.after))
    print(f"{'measure':52s} {'before':>12s} {'sd':>9s} {'after':>12s} {'sd':>9s} {'z':>6s}")
    flagged = []
    for k, va in a["values"].items():
        if k not in b["values"]:
            continue
        x, y = np.array(va), np.array(b["values"][k])
        se = math.sqrt(x.var(ddof=1) / len(x) + y.var(ddof=1) / len(y))
        z = (y.mean() - x.mean()) / se if se > 0 else (0.0 if y.mean() == x.mean() else math.inf)
        mark = " <--" if abs(z) > 3 else ""
        if mark:
            flagged.append(k)
        print(f"{k:52s} {x.mean():12.4g} {x.std(ddof=1):9.3g} {y.mean():12.4g} {y.std(ddof=1):9.3g} {z:6.2f}{mark}")
    n = sum(1 for k in a["values"] if k in b["values"])
    print(f"\n{n} measures; {len(flagged)} with |z| > 3: {', '.join(flagged) or 'none'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--label", required=True)
    r.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    r.add_argument("--years", type=int, default=5)
    r.add_argument("--jobs", type=int, default=2)
    c = sub.add_parser("compare")
    c.add_argument("before")
    c.add_argument("after")
    args = ap.parse_args()
    run(args) if args.cmd == "run" else compare(args)


if __name__ == "__main__":
    main()
