"""One-year-ahead forecasts, honestly made: each LA's stock of children in care one year on.

The runs and their table are :mod:`rcc_sim.studies.backcast` (also run by ``rcc-sim-validate``):
from each 31 March origin Y (default 2017-2022), England one year on, status quo; (a) the model
with forecast starts (the genuine forecast, mean over seeds), (b) the model with the realised
starts (a DIAGNOSTIC that sees Y + 1), (c) persistence, (d) a linear trend, (e) flow accounting
without the model. ``--decompose`` adds two runs per origin and seed that split what (b) knows:
the realised starts with per-LA exit rates from the years to Y only, and the forecast starts with
exit rates from every published year.

Before the runs (instantly; alone with ``--forecaster-only``) it prints the evidence for the
starts forecaster: MAPE across LAs of each method's forecast of the starts in Y + 1, from the
published starts up to Y, origins 2017-2022 (realised years to 2023), against persistence; and,
held out (not used to choose the default), origin 2023 against the 2024 figures.

    python experiments/one_year_ahead.py [--origins 2017 ... 2022] [--seeds 0 1 2] [--jobs 2] [--decompose]
    python experiments/one_year_ahead.py --spin-up-years 0   # start at Y from the published per-LA stock
    python experiments/one_year_ahead.py --forecaster-only

By default each run starts with the config's spin-up (from 31 March 2016 at the earliest), so
the state at Y is the model's own, not the published one: the forecast then carries the
spin-up's per-LA drift (a test of the dynamics over several years, not of one year ahead).
``--spin-up-years 0`` starts at Y from each LA's published stock (the forecast a user at Y would
make); results go to ``one_year_ahead_spinup0.json``.

Then (also instant, no model) why persistence is hard to beat at LA level: per origin, the spread
across LAs of the year's surprise in starts (starts Y+1 - starts Y) and in ceased (ceased Y+1 -
the ceased rate of Y applied to the stock at Y), each as a share of the stock at Y, their
correlation, and the spread of the stock's own change; the MAPE of a damped net-flow forecast
(stock Y + phi x (starts Y - ceased Y)); and the MAPE of an oracle that knows England's realised
change over the year and applies it to every LA. When even that oracle barely beats persistence,
the LA-level error is the LAs' own year-to-year movement, which no national mechanism carries.
Last, the bound on any flow-accounting forecast made at Y (starts forecaster x exit-rate window x
shrinkage towards persistence; :func:`flow_accounting_bound`): the best per origin in hindsight,
and the fixed variants that beat persistence in the most origins.

Each run's per-LA stock is cached under ``outputs/one_year_ahead/runs/`` (keyed by its config and
the package's code and data); results go to ``outputs/one_year_ahead/one_year_ahead.json``. About
12-17 s per England one-year run without a spin-up here.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from rcc_sim.config import Config
from rcc_sim.data import load_starts_table
from rcc_sim.engine.forecast import fit_alpha, forecast_from_table, history
from rcc_sim.studies.backcast import (
    MAIN_VARIANTS,
    ORIGINS,
    VARIANTS,
    mape,
    markdown,
    published_ceased,
    published_stock,
    run_backcast,
)

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "outputs" / "one_year_ahead"
SELECTION_LAST_YEAR = 2023  # the default method is chosen on realised years up to this one only


# --------------------------------------------------------------------------------------------
# 1. The starts forecaster alone
# --------------------------------------------------------------------------------------------
def forecaster_methods(cfg: Config) -> dict[str, dict]:
    """Label -> options of forecast_from_table: the configured settings and a few others."""
    d = cfg.demand
    k, phi = d.starts_forecast_years, d.starts_trend_damping
    out: dict[str, dict] = {"persistence": {"method": "level", "years": 1}}
    for kk in sorted({2, k, 5}):
        out[f"level k={kk}"] = {"method": "level", "years": kk}
    for kk, pp in sorted({(k, phi), (k, 1.0), (5, phi)}):
        out[f"trend k={kk} phi={pp:g}"] = {"method": "trend", "years": kk, "damping": pp}
    out["smoothing (fitted alpha)"] = {"method": "smoothing"}
    return out


def forecaster_table(origins: list[int], cfg: Config) -> dict:
    """MAPE of next year's starts per method and origin; the held-out origins listed apart."""
    table = load_starts_table()
    methods = forecaster_methods(cfg)
    rows = {}
    for y in origins:
        if y + 1 not in table or y - 1 not in table:
            continue
        actual = table[y + 1]
        row = {name: mape(forecast_from_table(table, y, 1, **o)[0], actual) for name, o in methods.items()}
        row["alpha"] = fit_alpha(history(table, y)[1])
        row["held_out"] = y + 1 > SELECTION_LAST_YEAR
        rows[y] = row
    return {"methods": methods, "rows": rows}


def print_forecaster(fc: dict) -> None:
    names = list(fc["methods"])
    rows = fc["rows"]
    chosen = [y for y, r in rows.items() if not r["held_out"]]
    print("Starts forecaster alone: MAPE (%) across LAs of the forecast of each LA's starts in the year")
    print("to 31 March Y+1, from the published starts of the years up to Y only\n")
    print("| origin Y | " + " | ".join(names) + " | fitted alpha |")
    print("|---|" + "---:|" * (len(names) + 1))
    for y, r in rows.items():
        label = f"{y} (held out)" if r["held_out"] else str(y)
        print(f"| {label} | " + " | ".join(f"{r[n]:.2f}" for n in names) + f" | {r['alpha']:.2f} |")
    if chosen:
        mean = {n: float(np.mean([rows[y][n] for y in chosen])) for n in names}
        wins = {n: sum(rows[y][n] < rows[y]["persistence"] for y in chosen) for n in names}
        print(f"| mean {chosen[0]}-{chosen[-1]} | " + " | ".join(f"{mean[n]:.2f}" for n in names) + " | |")
        print("| beats persistence | - | " + " | ".join(f"{wins[n]}/{len(chosen)}" for n in names[1:]) + " | |")
    print()


def flow_surprises(origins: list[int], phis: tuple[float, ...] = (0.25, 0.5, 1.0)) -> dict:
    """Per origin Y (needs Y-1 and Y+1 published): the spread (sd across LAs, % of the stock at Y)
    of the starts surprise, the ceased surprise and the stock's change, the surprises' correlation,
    and the MAPE of persistence, of stock Y + phi x (starts Y - ceased Y), and of an oracle that
    knows England's realised change over the year and applies it to every LA (stock Y x England's
    stock Y+1 / stock Y): a forecast that gets the national movement exactly right and knows
    nothing of any LA's own. LAs with every figure published in Y-1..Y+1 only."""
    stock, ceased, starts = published_stock(), published_ceased(), load_starts_table()
    rows = {}
    for y in origins:
        if not all(x in stock for x in (y - 1, y, y + 1)) or y + 1 not in starts or y + 1 not in ceased:
            continue
        s0, s1, sp = stock[y], stock[y + 1], stock[y - 1]
        a0, a1, c0, c1 = starts[y], starts[y + 1], ceased[y], ceased[y + 1]
        ok = np.all([np.isfinite(v) for v in (s0, s1, sp, a0, a1, c0, c1)], axis=0) & (s0 > 0) & (sp > 0)
        s0, s1, sp, a0, a1, c0, c1 = (v[ok] for v in (s0, s1, sp, a0, a1, c0, c1))
        e_starts = (a1 - a0) / s0
        e_ceased = (c1 - c0 / sp * s0) / s0
        row = {
            "las": int(ok.sum()),
            "sd_starts_surprise_pct": float(100 * e_starts.std()),
            "sd_ceased_surprise_pct": float(100 * e_ceased.std()),
            "corr_surprises": float(np.corrcoef(e_starts, e_ceased)[0, 1]),
            "sd_stock_change_pct": float(100 * ((s1 - s0) / s0).std()),
            "persistence": mape(s0, s1),
            "oracle_england": mape(s0 * (s1.sum() / s0.sum()), s1),
        }
        for phi in phis:
            row[f"net flow x{phi:g}"] = mape(s0 + phi * (a0 - c0), s1)
        rows[y] = row
    return rows


def print_flow_surprises(rows: dict) -> None:
    if not rows:
        return
    print("What the published flows say: surprises in a year's flows per LA, % of the stock at Y (sd across LAs)\n")
    names = [k for k in next(iter(rows.values())) if k.startswith("net flow")]
    head = "| origin Y | LAs | starts surprise | ceased surprise | their correlation | stock change | "
    head += "persistence MAPE | England's realised change (oracle) MAPE | "
    print(head + " | ".join(f"{n} MAPE" for n in names) + " |")
    print("|---|" + "---:|" * (7 + len(names)))
    for y, r in rows.items():
        print(
            f"| {y} | {r['las']} | {r['sd_starts_surprise_pct']:.1f} | {r['sd_ceased_surprise_pct']:.1f} | "
            f"{r['corr_surprises']:+.2f} | {r['sd_stock_change_pct']:.1f} | {r['persistence']:.2f} | "
            f"{r['oracle_england']:.2f} | " + " | ".join(f"{r[n]:.2f}" for n in names) + " |"
        )
    print()


def flow_accounting_bound(
    origins: list[int],
    cfg: Config,
    windows: tuple[int, ...] = (1, 2, 3),
    shrink: tuple[float, ...] = (1.0, 0.5, 0.25),
) -> dict:
    """How well can ANY flow-accounting forecast made at Y do? Per origin, every combination of a
    starts forecaster (:func:`forecaster_methods`, years up to Y only), an exit rate (ceased over
    the mean stock of the last ``windows`` years to Y) and a shrinkage lambda towards persistence
    (stock Y + lambda x the forecast change; lambda = 1 is plain flow accounting), with the year's
    stock from the exit rate in continuous time (stock Y+1 = (stock Y (1 - r/2) + starts) /
    (1 + r/2)). The model is a flow-accounting machine at LA level (its one-year table follows
    column (e) within a few tenths), so the best of these per origin, chosen in hindsight, bounds
    what it can score: if that best misses persistence in some year, so will the model."""
    stock, ceased, table = published_stock(), published_ceased(), load_starts_table()
    methods = forecaster_methods(cfg)
    rows = {}
    for y in origins:
        if y + 1 not in stock or y not in stock:
            continue
        s0, s1 = stock[y], stock[y + 1]
        row: dict = {"persistence": mape(s0, s1), "variants": {}}
        starts_by = {name: forecast_from_table(table, y, 1, **opts)[0] for name, opts in methods.items()}
        for k in windows:
            years = [x for x in range(y - k + 1, y + 1) if x in ceased and x in stock and x - 1 in stock]
            if not years:
                continue
            exits = sum(ceased[x] for x in years)
            mean_stock = sum((stock[x - 1] + stock[x]) / 2 for x in years)
            with np.errstate(divide="ignore", invalid="ignore"):
                rate = np.where(mean_stock > 0, exits / mean_stock, np.nan)
            for name, starts in starts_by.items():
                flow = (s0 * (1 - rate / 2) + starts) / (1 + rate / 2)
                flow = np.where(np.isfinite(flow), flow, s0)
                for lam in shrink:
                    row["variants"][f"{name}, exits k={k}, lambda={lam:g}"] = mape(s0 + lam * (flow - s0), s1)
        best = min(row["variants"], key=row["variants"].get)
        row["best"], row["best_mape"] = best, row["variants"][best]
        rows[y] = row
    return rows


def print_flow_accounting_bound(rows: dict) -> None:
    if not rows:
        return
    n = len(next(iter(rows.values()))["variants"])
    print(f"The best of {n} flow-accounting forecasts made at Y (starts forecaster x exit-rate window x shrinkage")
    print("towards persistence), chosen per origin in hindsight: MAPE (%) of the stock at 31 March Y+1\n")
    print("| origin Y | persistence | best flow accounting | beats persistence | which |")
    print("|---|---:|---:|---|---|")
    for y, r in rows.items():
        win = "yes" if r["best_mape"] < r["persistence"] else "**no**"
        print(f"| {y} | {r['persistence']:.2f} | {r['best_mape']:.2f} | {win} | {r['best']} |")
    print()
    chosen = [y for y in rows if y + 1 <= SELECTION_LAST_YEAR]
    names = list(next(iter(rows.values()))["variants"])
    print(f"One method for every origin {chosen[0]}-{chosen[-1]}: the variants beating persistence most often\n")
    print("| variant | origins beating persistence | worst margin (pp) | MAPE per origin |")
    print("|---|---:|---:|---|")
    score = []
    for n in names:
        per = [rows[y]["variants"][n] for y in chosen]
        margins = [rows[y]["persistence"] - v for y, v in zip(chosen, per, strict=True)]
        score.append((sum(m > 0 for m in margins), min(margins), n, per))
    score.sort(key=lambda x: (-x[0], -x[1]))
    lams = sorted({n.rsplit("lambda=", 1)[1] for n in names}, key=float, reverse=True)
    for lam in lams:  # the best variant at each shrinkage
        wins, worst, n, per = next(x for x in score if x[2].endswith(f"lambda={lam}"))
        print(f"| {n} | {wins}/{len(chosen)} | {worst:+.2f} | " + " / ".join(f"{v:.2f}" for v in per) + " |")
    print()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--origins", type=int, nargs="+", default=ORIGINS, help="31 March origins Y (default 2017-2022)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--forecaster-only", action="store_true", help="only the starts forecaster's table (no runs)")
    ap.add_argument(
        "--spin-up-years",
        type=int,
        default=None,
        help="cap on the spin-up before each origin (default: the config's, from 2016 at the earliest); "
        "0 starts at Y from the published per-LA stock",
    )
    ap.add_argument(
        "--decompose",
        action="store_true",
        help="also run realised starts with exit rates to Y, and forecast starts with exit rates to 2024",
    )
    args = ap.parse_args(argv)

    fc_origins = sorted(set(ORIGINS) | set(args.origins) | {SELECTION_LAST_YEAR})  # + the held-out origin
    fc = forecaster_table(fc_origins, Config())
    print_forecaster(fc)
    flows = flow_surprises(fc_origins)
    print_flow_surprises(flows)
    bound = flow_accounting_bound(fc_origins, Config())
    print_flow_accounting_bound(bound)
    doc: dict = {
        "forecaster": {"methods": fc["methods"], "rows": {str(k): v for k, v in fc["rows"].items()}},
        "flow_surprises": {str(k): v for k, v in flows.items()},
        "flow_accounting_bound": {str(k): v for k, v in bound.items()},
    }
    if not args.forecaster_only:
        variants = list(VARIANTS) if args.decompose else list(MAIN_VARIANTS)
        mt = run_backcast(Config(), args.origins, args.seeds, args.jobs, variants, args.spin_up_years, OUT / "runs")
        if mt["rows"]:
            print(markdown(mt) + "\n")
            doc["model"] = mt | {"rows": {str(k): v for k, v in mt["rows"].items()}}
    OUT.mkdir(parents=True, exist_ok=True)
    name = "one_year_ahead.json" if args.spin_up_years is None else f"one_year_ahead_spinup{args.spin_up_years}.json"
    (OUT / name).write_text(json.dumps(doc, indent=2))
    print(f"wrote {OUT / name}")


if __name__ == "__main__":
    main()
