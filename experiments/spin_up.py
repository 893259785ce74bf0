"""Does the base date hold still? The spin-up trajectory and year-one movement of every share.

Runs the England status quo (default config, so with its spin-up) for one year after the base
date, for several seeds, keeping the spin-up years (``rcc_sim.run.to_dataset(include_spin_up=True)``),
and prints:

1. the trajectory at each 31 March of the spin-up and the base year, against the published
   national figures of the same date (DfE CLA, Ofsted; rcc_sim/data), with the yearly
   stability measures (long-term stability, 3+ placements, moves), the share of children in
   their own LA's provision and the places per children's home;
2. each share at week 1 and at the end of year one, and the movement in percentage points
   (issue 12, point 1: at most 1.5 pp when nothing changes in the world).

    python experiments/spin_up.py [--seeds 0 1 2] [--spin-up-years 8] [--jobs 2] [overrides ...]

Results are cached in outputs/spin_up/ (one NetCDF per seed and configuration).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import xarray as xr

import rcc_sim
from rcc_sim import load_config
from rcc_sim.config import to_object
from rcc_sim.data import national_value
from rcc_sim.engine.model import CareSystemModel
from rcc_sim.run import to_dataset

OUT = Path("outputs/spin_up")
NON_KINSHIP = ["in_house", "ifa"]

# (label, how to compute from England totals at a week, published key or None, unit)
SHARES = [
    ("placed over 20 miles", lambda t: t["over_20_miles"] / t["located"], "cla_dist_over20mi_pct", "pp"),
    ("placed outside the LA", lambda t: t["outside_la"] / t["located"], "cla_outside_la_boundary_pct", "pp"),
    ("family-based care", lambda t: t["family_based"] / t["children_in_care"], None, "pp"),
    ("in foster placements", lambda t: t["foster"] / t["children_in_care"], "cla_place_foster_pct", "pp"),
    ("waiting (unregistered)", lambda t: t["waiting"] / t["children_in_care"], None, "pp"),
    ("children's homes occupancy", lambda t: t["home_places_filled"] / t["home_places"], None, "pp"),
    ("foster places filled", lambda t: t["foster_places_filled"] / t["foster_places"], None, "pp"),
]
LEVELS = [
    ("children in care", lambda t: t["children_in_care"], "cla_stock_31mar_n"),
    ("mainstream households", lambda t: t["mainstream"], "ofsted_fostering_households_mainstream"),
    ("children in homes and secure", lambda t: t["in_homes"], "cla_place_secure_and_childrens_homes_n"),
    ("waiting (unregistered)", lambda t: t["waiting"], None),
]


def _run(args: tuple[int, list[str]]) -> str:
    seed, overrides = args
    code = b"".join(p.read_bytes() for p in sorted(Path(rcc_sim.__file__).parent.rglob("*.py")))
    key = hashlib.sha256(json.dumps([seed, overrides]).encode() + code).hexdigest()[:12]  # config and code
    path = OUT / f"seed{seed}_{key}.nc"
    if not path.exists():
        keep = "output.include_spin_up=true"
        cfg = to_object(load_config(overrides=[*overrides, "sim.years=1", f"seed={seed}", keep]))
        t0 = time.perf_counter()
        model = CareSystemModel(cfg)
        model.run()
        ds = to_dataset(model, include_spin_up=True)
        ds.attrs["wall_seconds"] = time.perf_counter() - t0
        OUT.mkdir(parents=True, exist_ok=True)
        ds.to_netcdf(path)
    return str(path)


COUNTED = (
    "over_20_miles",
    "located",
    "outside_la",
    "family_based",
    "children_in_care",
    "waiting",
    "home_places_filled",
    "home_places",
    "foster_places_filled",
    "foster_places",
)


def totals(ds: xr.Dataset) -> dict[str, np.ndarray]:
    """England (world) totals by week of the counts the tables use."""
    t = {v: ds[v].sum([d for d in ds[v].dims if d != "time"]).values.astype(float) for v in COUNTED}
    t["mainstream"] = ds["carers"].sel(carer_kind=NON_KINSHIP).sum(["la", "carer_kind"]).values.astype(float)
    p = ds["placements"].sum("la")
    t["foster"] = (
        p.sel(placement_type=["kinship_foster", "in_house_foster", "ifa_foster"]).sum("placement_type").values
    ).astype(float)
    t["in_homes"] = (
        p.sel(placement_type=["la_home", "private_home", "secure"]).sum("placement_type").values.astype(float)
    )
    return t


# yearly measures (statistical years ending 31 March): label, fn(ds) -> per-year array, published key or None
HOME_KINDS = ["la_home", "private_home"]


YEARLY = [
    (
        "long-term stability (%)",
        lambda ds: 100 * ds["long_term_stable"].sum("la").values / ds["long_term_eligible"].sum("la").values,
        "cla_longterm_stability_u16_2p5y_same_placement_2y_pct",
    ),
    (
        "3+ placements in the year (%)",
        lambda ds: 100 * ds["three_plus_placements"].sum("la").values / ds["children_in_care_31mar"].sum("la").values,
        "cla_3plus_placements_in_year_pct",
    ),
    (
        "placement moves in the year",
        lambda ds: ds["moves"].sum([d for d in ds["moves"].dims if d != "time"]).values.reshape(-1, 52).sum(1),
        None,
    ),
    (
        "own-LA provision (%)",
        lambda ds: 100 * (ds["own_provision"].sum("la") / ds["children_in_care"].sum("la")).values[51::52],
        "cla_provider_own_la_pct",
    ),
    (
        "places per children's home",
        lambda ds: (
            ds["home_places"].sel(home_kind=HOME_KINDS).sum(["la", "home_kind"])
            / ds["homes"].sel(home_kind=HOME_KINDS).sum(["la", "home_kind"])
        ).values[51::52],
        None,
    ),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--spin-up-years", type=int, default=None, help="default: the config's sim.spin_up_years")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("overrides", nargs="*", help="config overrides, e.g. fostering.quit_after_breakdown=0.08")
    a = ap.parse_args()
    overrides = list(a.overrides) + ([f"sim.spin_up_years={a.spin_up_years}"] if a.spin_up_years is not None else [])
    with ProcessPoolExecutor(a.jobs) as ex:
        paths = list(ex.map(_run, [(s, overrides) for s in a.seeds]))
    runs = [xr.open_dataset(p) for p in paths]
    k = int(runs[0].attrs["spin_up_years"])
    base = runs[0].attrs["base_date"]
    print(
        f"England status quo, {len(runs)} seeds, spin-up {k} years to the base date {base}; "
        f"wall {np.mean([r.attrs['wall_seconds'] for r in runs]):.0f} s a run (spin-up and one year)"
    )
    tot = [totals(r) for r in runs]
    years = [int(str(t)[:4]) for t in runs[0]["time"].values[51::52]]
    print("\n1. At each 31 March (mean over seeds; published in brackets where shipped)\n")
    head = "| measure | " + " | ".join(str(y) for y in years) + " |"
    print(head + "\n|" + "---|" * (len(years) + 1))
    for label, fn, key, _ in SHARES:
        cells = []
        for j, y in enumerate(years):
            v = 100 * np.mean([fn(t)[51 + 52 * j] for t in tot])
            pub = national_value(key, y) if key else float("nan")
            cells.append(f"{v:.1f}%" + (f" ({pub:.0f}%)" if np.isfinite(pub) else ""))
        print(f"| {label} | " + " | ".join(cells) + " |")
    for label, fn, key in LEVELS:
        cells = []
        for j, y in enumerate(years):
            v = np.mean([fn(t)[51 + 52 * j] for t in tot])
            pub = national_value(key, y) if key else float("nan")
            cells.append(f"{v:,.0f}" + (f" ({pub:,.0f})" if np.isfinite(pub) else ""))
        print(f"| {label} | " + " | ".join(cells) + " |")
    for label, fn, key in YEARLY:
        vals = np.mean([np.asarray(fn(r), float)[: len(years)] for r in runs], axis=0)
        cells = []
        for y, v in zip(years, vals):
            pub = national_value(key, y) if key else float("nan")
            fmt = f"{v:,.0f}" if v >= 100 else f"{v:.1f}"
            cells.append(fmt + (f" ({pub:.0f})" if np.isfinite(pub) else ""))
        print(f"| {label} | " + " | ".join(cells) + " |")
    b = 52 * k  # first week after the base date
    print("\n2. Year one after the base date: week 1 and week 52 (mean over seeds; limit 1.5 pp)\n")
    print("| share | week 1 | week 52 | moved (pp) | seed SD (pp) | within 1.5 pp |\n|---|---|---|---|---|---|")
    rows = []
    for label, fn, _, _ in SHARES:
        w1 = np.array([fn(t)[b] for t in tot]) * 100
        w52 = np.array([fn(t)[b + 51] for t in tot]) * 100
        moved = w52 - w1
        ok = abs(moved.mean()) <= 1.5
        rows.append(
            {
                "share": label,
                "week1": float(w1.mean()),
                "week52": float(w52.mean()),
                "moved_pp": float(moved.mean()),
                "ok": bool(ok),
            }
        )
        sd = moved.std(ddof=1) if len(moved) > 1 else 0.0
        flag = "yes" if ok else "NO"
        print(f"| {label} | {w1.mean():.2f}% | {w52.mean():.2f}% | {moved.mean():+.2f} | {sd:.2f} | {flag} |")
    (OUT / "year_one.json").write_text(json.dumps({"spin_up_years": k, "overrides": overrides, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
