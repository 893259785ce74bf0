"""One-year-ahead forecasts, honestly made: each LA's stock of children in care one year on.

From each 31 March origin Y (default 2017-2022), run the model one year (England, status quo)
and compare each LA's stock at 31 March Y + 1 with the published one. A forecast made at 31 March
Y may use only what was published by then: the published figures of the years up to and
including Y (the convention of ``rcc_sim/engine/forecast.py``: Y's own figures come out the
autumn after, but the run starts from Y's published stock anyway). Four forecasts per origin:

(a) **model, forecast starts** - the genuine forecast: ``demand.starts_source=forecast`` (the
    default), each LA's starts forecast from its published starts up to Y, per-LA exit rates
    from the published figures up to Y;
(b) **model, realised starts** - a DIAGNOSTIC that sees the future: ``demand.starts_source=
    published``, the realised published starts of year Y + 1 (and per-LA exit rates from the
    ceased of every published year, 2022-2024), as the earlier back-cast did;
(c) **persistence**: the stock at Y;
(d) **linear trend**: the stock at Y plus its change over the year to Y (stock Y - stock Y-1);
(e) **flow accounting** (no model, for reference): stock at Y + the forecast starts - ceased at
    the LA's published ceased rate of the last three years to Y: what the published flows to Y
    say about the change, without the model's mechanisms.

``--decompose`` adds two runs per origin and seed that split what the diagnostic (b) knows: the
realised starts with per-LA exit rates from the years to Y only, and the forecast starts with
exit rates from every published year.

Error: mean absolute percentage error (MAPE) across the LAs with children in care at Y + 1 (the
model's per-LA stock is the mean over seeds). Not everything the model uses is from before Y:
the national exit hazards, placement and market parameters are calibrated to 2024 figures (DfE
CLA 2024; ``rcc_sim/data/calibrated.yaml``), so (a) is honest about starts and per-LA exit
rates, not about every parameter.

Before the runs (instantly; alone with ``--forecaster-only``) it prints the evidence for the
starts forecaster: MAPE across LAs of each method's forecast of the starts in Y + 1, from the
published starts up to Y, origins 2017-2022 (realised years to 2023), against persistence; and,
held out (not used to choose the default), origin 2023 against the 2024 figures.

    python experiments/one_year_ahead.py [--origins 2017 ... 2022] [--seeds 0 1 2] [--jobs 2] [--decompose]
    python experiments/one_year_ahead.py --spin-up-years 0   # start at Y from the published per-LA stock

By default each run starts with the config's spin-up (from 31 March 2016 at the earliest), so
the state at Y is the model's own, not the published one: the forecast then carries the
spin-up's per-LA drift (a test of the dynamics over several years, not of one year ahead).
``--spin-up-years 0`` starts at Y from each LA's published stock (the forecast a user at Y would
make); results go to ``one_year_ahead_spinup0.json``.
    python experiments/one_year_ahead.py --forecaster-only

Then (also instant, no model) why persistence is hard to beat at LA level: per origin, the spread
across LAs of the year's surprise in starts (starts Y+1 - starts Y) and in ceased (ceased Y+1 -
the ceased rate of Y applied to the stock at Y), each as a share of the stock at Y, their
correlation, and the spread of the stock's own change; and the MAPE of a damped net-flow forecast
(stock Y + phi x (starts Y - ceased Y)) against persistence. When the starts surprise alone is
wider than the stock's change and the two surprises move together, any forecast that takes a
year's starts and ceased apart carries more error than assuming no change.

Each run's per-LA stock is cached under ``outputs/one_year_ahead/runs/`` keyed by the SHA-256 of
its resolved config and of the package's source and data files, so a re-run computes only what
changed; results go to ``outputs/one_year_ahead/one_year_ahead.json``. An origin the model cannot
start from (``sim.start_year`` outside its bounds) is skipped with the reason printed. About
35-55 s per England one-year run here, 2 at a time: origins 2021-2023 with 3 seeds took 5 min 36 s
(18 runs), 16 min with ``--decompose`` (36 runs).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from rcc_sim.config import Config, ConfigError, to_object
from rcc_sim.data import checksums, load_las, load_starts_table
from rcc_sim.engine.forecast import fit_alpha, forecast_from_table, history
from rcc_sim.engine.world import published_counts

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "outputs" / "one_year_ahead"
ORIGINS = list(range(2017, 2023))
SELECTION_LAST_YEAR = 2023  # the default method is chosen on realised years up to this one only
FLOW_YEARS = 3  # (e): years of published ceased behind each LA's ceased rate


def mape(forecast: np.ndarray, actual: np.ndarray) -> float:
    """Mean absolute percentage error across the LAs with a published value above 0 (%)."""
    ok = np.isfinite(actual) & (actual > 0)
    return float(np.mean(np.abs(forecast[ok] - actual[ok]) / actual[ok]) * 100)


def published_stock() -> dict[int, np.ndarray]:
    """Children in care at 31 March per LA, 2016-2024 (NaN where not published)."""
    return published_counts(load_las(), "stock")


def published_ceased() -> dict[int, np.ndarray]:
    """Children ceasing to be looked after in the year to 31 March per LA (NaN where not published)."""
    return published_counts(load_las(), "ceased")


def forecast_options(cfg: Config) -> dict:
    """The configured starts forecaster, as keyword arguments of forecast_from_table."""
    d = cfg.demand
    return {"method": d.starts_forecast, "years": d.starts_forecast_years, "damping": d.starts_trend_damping}


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
    and the MAPE of persistence and of stock Y + phi x (starts Y - ceased Y). LAs with every figure
    published in Y-1..Y+1 only."""
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
    head += "persistence MAPE | "
    print(head + " | ".join(f"{n} MAPE" for n in names) + " |")
    print("|---|" + "---:|" * (6 + len(names)))
    for y, r in rows.items():
        print(
            f"| {y} | {r['las']} | {r['sd_starts_surprise_pct']:.1f} | {r['sd_ceased_surprise_pct']:.1f} | "
            f"{r['corr_surprises']:+.2f} | {r['sd_stock_change_pct']:.1f} | {r['persistence']:.2f} | "
            + " | ".join(f"{r[n]:.2f}" for n in names)
            + " |"
        )
    print()


# --------------------------------------------------------------------------------------------
# 2. The model, one year ahead
# --------------------------------------------------------------------------------------------
def code_hash() -> str:
    """SHA-256 over the package's source files and the data checksums: a cached run is reused only
    if neither changed."""
    h = hashlib.sha256()
    for p in sorted((ROOT / "rcc_sim").rglob("*.py")):
        h.update(str(p.relative_to(ROOT)).encode())
        h.update(p.read_bytes())
    h.update(json.dumps(checksums(), sort_keys=True).encode())
    return h.hexdigest()


# variant -> (demand.starts_source of the config, what is swapped in the built world, label)
VARIANTS = {
    "forecast": ("forecast", None, "(a) model, forecast starts"),
    "published": ("published", None, "(b) model, realised starts (diagnostic: sees Y+1)"),
    "realised_starts_exits_to_y": ("forecast", "realised starts", "model, realised starts, exit rates to Y"),
    "forecast_starts_all_exits": ("published", "forecast starts", "model, forecast starts, exit rates to 2024"),
}


def run_config(origin: int, source: str, seed: int, spin_up_cap: int | None = None) -> Config:
    """The run from ``origin``: with the default spin-up lowered to start no earlier than 2016
    (and to ``spin_up_cap`` years if given; 0 starts at Y from the published per-LA stock)."""
    cfg = Config(seed=seed)
    cfg.sim.start_year = origin
    cfg.sim.spin_up_years = min(cfg.sim.spin_up_years, origin - 2016)  # from 2016 at the earliest
    if spin_up_cap is not None:
        cfg.sim.spin_up_years = min(cfg.sim.spin_up_years, spin_up_cap)
    cfg.sim.years = 1.0
    cfg.demand.starts_source = source
    cfg.output.progress = False
    return cfg


def run(job: tuple[int, str, int, str, int | None]) -> dict:
    """One England run, cached: per-LA stock at 31 March origin + 1 and the wall time. The two
    decomposition variants build the world of one source and swap in the other's starts (the
    per-LA exit rates are fixed when the world is built)."""
    from rcc_sim.engine.model import CareSystemModel
    from rcc_sim.engine.world import build_world
    from rcc_sim.run import config_sha256, to_dataset

    origin, variant, seed, code, spin_up_cap = job
    source, swap, _ = VARIANTS[variant]
    cfg = to_object(run_config(origin, source, seed, spin_up_cap))
    key = hashlib.sha256((config_sha256(cfg) + variant + code).encode()).hexdigest()[:16]
    path = OUT / "runs" / f"{origin}_{variant}_seed{seed}_{key}.json"
    if path.exists():
        return json.loads(path.read_text()) | {"cached": True}
    t0 = time.perf_counter()
    world = build_world(cfg)
    if swap == "realised starts":
        world.starts_source, world.starts_until = "published", max(world.starts_table)
    elif swap == "forecast starts":
        world.starts_source, world.starts_until = "forecast", origin
    model = CareSystemModel(cfg, world=world)
    model.run()
    stock = to_dataset(model)["children_in_care_31mar"].values[0].astype(float)
    out = {"origin": origin, "variant": variant, "seed": seed, "seconds": time.perf_counter() - t0}
    out["stock"] = stock.tolist()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(out))
    tmp.replace(path)
    return out | {"cached": False}


def supported(origins: list[int]) -> list[int]:
    """The origins the model can start from and be scored at (others skipped with the reason)."""
    stock = published_stock()
    ok = []
    for y in origins:
        try:
            to_object(run_config(y, "forecast", 0))
        except ConfigError as exc:
            print(f"origin {y}: skipped - the model cannot start there yet ({exc})")
            continue
        if y + 1 not in stock or y - 1 not in stock:
            print(f"origin {y}: skipped - no published stock at 31 March {y + 1} or {y - 1} is shipped")
            continue
        ok.append(y)
    return ok


def flow_accounting(y: int, years: int = FLOW_YEARS) -> np.ndarray:
    """(e) No model: stock at Y + forecast starts (the default forecaster) - ceased at the LA's
    published ceased rate (ceased over the mean stock, the last ``years`` years to Y), the year's
    ceased taken on the mean of the stocks at its two ends."""
    stock, ceased = published_stock(), published_ceased()
    now = np.nan_to_num(stock[y])
    starts = forecast_from_table(load_starts_table(), y, 1, **forecast_options(Config()))[0]
    past = [x for x in range(y - years + 1, y + 1) if x in ceased and x - 1 in stock]
    num = sum(np.nan_to_num(ceased[x]) for x in past)
    den = sum((np.nan_to_num(stock[x - 1]) + np.nan_to_num(stock[x])) / 2 for x in past)
    rate = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    return np.maximum((now + starts - rate * now / 2) / (1 + rate / 2), 0.0)


def model_table(
    origins: list[int], seeds: list[int], jobs: int, variants: list[str], spin_up_cap: int | None = None
) -> dict:
    stock = published_stock()
    code = code_hash()
    work = [(y, v, seed, code, spin_up_cap) for y in origins for v in variants for seed in seeds]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(jobs) as ex:
        out = list(ex.map(run, work))
    wall = time.perf_counter() - t0
    rows = {}
    for y in origins:
        actual, now, before = stock[y + 1], np.nan_to_num(stock[y]), np.nan_to_num(stock[y - 1])
        row: dict = {"target": f"{y + 1}-03-31", "england": {"actual": float(np.nansum(actual))}}
        for v in variants:
            runs = [r for r in out if r["origin"] == y and r["variant"] == v]
            per_seed = np.array([r["stock"] for r in runs])
            row[v] = mape(per_seed.mean(axis=0), actual)
            row[f"{v}_per_seed"] = [mape(x, actual) for x in per_seed]
            row["england"][v] = float(per_seed.mean(axis=0).sum())
            row[f"{v}_seconds"] = [round(r["seconds"], 1) for r in runs]
        row["persistence"] = mape(now, actual)
        row["linear_trend"] = mape(np.maximum(now + (now - before), 0.0), actual)
        row["flow_accounting"] = mape(flow_accounting(y), actual)
        rows[y] = row
    return {
        "rows": rows,
        "variants": {v: VARIANTS[v][2] for v in variants},
        "seeds": seeds,
        "jobs": jobs,
        "wall_seconds": wall,
        "cached": sum(r["cached"] for r in out),
    }


def print_model(mt: dict) -> None:
    print(f"One year ahead: MAPE (%) across LAs of the stock at 31 March Y+1 (model: mean of seeds {mt['seeds']})\n")
    print(
        "| origin Y | (a) model, forecast starts | (b) model, realised starts (diagnostic: sees Y+1) "
        "| (c) persistence | (d) linear trend | (e) flow accounting, forecast starts (no model) "
        "| England Y+1: (a) / (b) / published | run s (a) / (b), mean per seed |"
    )
    print("|---|---:|---:|---:|---:|---:|---|---|")
    for y, r in mt["rows"].items():
        best = "**" if r["forecast"] < min(r["persistence"], r["linear_trend"]) else ""
        e = r["england"]
        print(
            f"| {y} | {best}{r['forecast']:.2f}{best} | {r['published']:.2f} | {r['persistence']:.2f} "
            f"| {r['linear_trend']:.2f} | {r['flow_accounting']:.2f} "
            f"| {e['forecast']:,.0f} / {e['published']:,.0f} / {e['actual']:,.0f} "
            f"| {np.mean(r['forecast_seconds']):.0f} / {np.mean(r['published_seconds']):.0f} |"
        )
    extra = [v for v in mt["variants"] if v not in ("forecast", "published")]
    if extra:
        print("\nDecomposition (what the diagnostic knows: the year's starts, and exit rates from later years)\n")
        print("| origin Y | " + " | ".join(mt["variants"].values()) + " |")
        print("|---|" + "---:|" * len(mt["variants"]))
        for y, r in mt["rows"].items():
            print(f"| {y} | " + " | ".join(f"{r[v]:.2f}" for v in mt["variants"]) + " |")
    print(
        f"\n(a) in bold where it beats both naive forecasts. {mt['cached']} runs from the cache; wall time "
        f"{mt['wall_seconds']:.0f} s with {mt['jobs']} jobs.\n"
    )


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
    doc: dict = {
        "forecaster": {"methods": fc["methods"], "rows": {str(k): v for k, v in fc["rows"].items()}},
        "flow_surprises": {str(k): v for k, v in flows.items()},
    }
    if not args.forecaster_only:
        origins = supported(args.origins)
        if origins:
            variants = list(VARIANTS) if args.decompose else ["forecast", "published"]
            mt = model_table(origins, args.seeds, args.jobs, variants, args.spin_up_years)
            mt["spin_up_cap"] = args.spin_up_years
            print_model(mt)
            doc["model"] = mt | {"rows": {str(k): v for k, v in mt["rows"].items()}}
    OUT.mkdir(parents=True, exist_ok=True)
    name = "one_year_ahead.json" if args.spin_up_years is None else f"one_year_ahead_spinup{args.spin_up_years}.json"
    (OUT / name).write_text(json.dumps(doc, indent=2))
    print(f"wrote {OUT / name}")


if __name__ == "__main__":
    main()
