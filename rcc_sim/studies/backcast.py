"""One-year-ahead forecasts of each LA's stock, honestly made: the back-cast of the validation.

From each 31 March origin Y (default 2017-2022), run the model one year (status quo) and compare
each LA's stock at 31 March Y + 1 with the published one. A forecast made at 31 March Y may use
only what was published by then: the published figures of the years up to and including Y (the
convention of :mod:`rcc_sim.engine.forecast`: Y's own figures come out the autumn after, but the
run starts from Y's published stock anyway). Per origin:

(a) **model, forecast starts** - the genuine forecast: ``demand.starts_source=forecast`` (the
    default), each LA's starts forecast from its published starts up to Y, per-LA exit rates
    from the published figures up to Y; the point forecast is the mean over seeds;
(b) **model, realised starts** - a DIAGNOSTIC that sees the future: ``demand.starts_source=
    published``, the realised published starts of year Y + 1 (and per-LA exit rates from the
    ceased of every published year, 2022-2024);
(c) **persistence**: the stock at Y;
(d) **linear trend**: the stock at Y plus its change over the year to Y;
(e) **flow accounting** (no model, for reference): stock at Y + the forecast starts - ceased at
    the LA's published ceased rate of the last three years to Y.

Two more variants split what the diagnostic (b) knows (``experiments/one_year_ahead.py
--decompose``): the realised starts with exit rates from the years to Y only, and the forecast
starts with exit rates from every published year.

Error: mean absolute percentage error (MAPE) across the simulated LAs with children in care at
Y + 1. Not everything the model uses is from before Y: the national exit hazards, placement and
market parameters are calibrated to 2024 figures (``rcc_sim/data/calibrated.yaml``), so (a) is
honest about starts and per-LA exit rates, not about every parameter.

Each run's per-LA stock is cached as JSON under ``cache_dir``, keyed by the SHA-256 of its
resolved config, its variant and the package's code and data (:func:`rcc_sim.run.package_fingerprint`),
so a re-run computes only what changed.

    from rcc_sim.studies import backcast
    result = backcast.run_backcast(base_cfg, origins=[2019, 2020], seeds=[0, 1], cache_dir=path)
    print(backcast.markdown(result))
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from rcc_sim.config import Config, ConfigError, to_object
from rcc_sim.data import load_las, load_starts_table
from rcc_sim.engine.forecast import forecast_from_table
from rcc_sim.engine.world import published_counts

ORIGINS = tuple(range(2017, 2023))
FIRST_SPIN_UP_YEAR = 2016  # the per-LA series starts at 31 March 2016
FLOW_YEARS = 3  # (e): years of published ceased behind each LA's ceased rate

# variant -> (demand.starts_source of the config, what is swapped in the built world, label)
VARIANTS = {
    "forecast": ("forecast", None, "(a) model, forecast starts"),
    "published": ("published", None, "(b) model, realised starts (diagnostic: sees Y+1)"),
    "realised_starts_exits_to_y": ("forecast", "realised starts", "model, realised starts, exit rates to Y"),
    "forecast_starts_all_exits": ("published", "forecast starts", "model, forecast starts, exit rates to 2024"),
}
MAIN_VARIANTS = ("forecast", "published")


def mape(forecast: np.ndarray, actual: np.ndarray) -> float:
    """Mean absolute percentage error across the LAs with a published value above 0 (%)."""
    forecast, actual = np.asarray(forecast, dtype=float), np.asarray(actual, dtype=float)
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


def origin_config(base: Config, origin: int, variant: str, seed: int, spin_up_cap: int | None = None) -> Config:
    """``base`` run one year from 31 March ``origin``: its spin-up lowered to start no earlier than
    2016 (and to ``spin_up_cap`` years if given; 0 starts at Y from the published per-LA stock),
    the starts source of ``variant``, the status quo, quiet. Validated (raises ConfigError)."""
    cfg = copy.deepcopy(base)
    cfg.seed = seed
    cfg.sim.start_year = origin
    cfg.sim.spin_up_years = min(cfg.sim.spin_up_years, max(origin - FIRST_SPIN_UP_YEAR, 0))
    if spin_up_cap is not None:
        cfg.sim.spin_up_years = min(cfg.sim.spin_up_years, spin_up_cap)
    cfg.sim.years = 1.0
    cfg.demand.starts_source = VARIANTS[variant][0]
    cfg.output.progress = False
    return to_object(cfg)


def run_one(job: tuple[Config, int, str, Path | None]) -> dict:
    """One run (cached): each simulated LA's stock at 31 March origin + 1, which LAs those are
    (indices into the published per-LA tables), the wall time. The two decomposition variants
    build the world of one source and swap in the other's starts (the per-LA exit rates are fixed
    when the world is built)."""
    from rcc_sim.engine.model import CareSystemModel
    from rcc_sim.engine.world import build_world
    from rcc_sim.run import config_sha256, package_fingerprint, to_dataset

    cfg, origin, variant, cache_dir = job
    key = hashlib.sha256((config_sha256(cfg) + variant + package_fingerprint()).encode()).hexdigest()[:16]
    path = None if cache_dir is None else Path(cache_dir) / f"{origin}_{variant}_seed{cfg.seed}_{key}.json"
    if path is not None and path.exists():
        return json.loads(path.read_text()) | {"cached": True}
    t0 = time.perf_counter()
    world = build_world(cfg)
    swap = VARIANTS[variant][1]
    if swap == "realised starts":
        world.starts_source, world.starts_until = "published", max(world.starts_table)
    elif swap == "forecast starts":
        world.starts_source, world.starts_until = "forecast", origin
    model = CareSystemModel(cfg, world=world)
    model.run()
    stock = to_dataset(model)["children_in_care_31mar"].values[0].astype(float)
    out = {
        "origin": origin,
        "variant": variant,
        "seed": cfg.seed,
        "seconds": time.perf_counter() - t0,
        "stock": stock.tolist(),
        "simulated": np.flatnonzero(world.simulated).tolist(),
    }
    if path is not None:
        from rcc_sim.files import atomic_write_text

        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(out))
    return out | {"cached": False}


def supported(base: Config, origins: Sequence[int], log: Callable[[str], None] = print) -> list[int]:
    """The origins the model can start from and be scored at (others skipped, the reason logged)."""
    stock = published_stock()
    ok = []
    for y in origins:
        try:
            origin_config(base, y, "forecast", base.seed)
        except ConfigError as exc:
            log(f"origin {y}: skipped - the model cannot start there ({exc})")
            continue
        if y + 1 not in stock or y - 1 not in stock:
            log(f"origin {y}: skipped - no published stock at 31 March {y + 1} or {y - 1} is shipped")
            continue
        ok.append(y)
    return ok


def flow_accounting(y: int, cfg: Config | None = None, years: int = FLOW_YEARS) -> np.ndarray:
    """(e) No model: stock at Y + forecast starts (``cfg``'s forecaster) - ceased at the LA's
    published ceased rate (ceased over the mean stock, the last ``years`` years to Y), the year's
    ceased taken on the mean of the stocks at its two ends."""
    stock, ceased = published_stock(), published_ceased()
    now = np.nan_to_num(stock[y])
    starts = forecast_from_table(load_starts_table(), y, 1, **forecast_options(cfg or Config()))[0]
    past = [x for x in range(y - years + 1, y + 1) if x in ceased and x - 1 in stock]
    num = sum(np.nan_to_num(ceased[x]) for x in past)
    den = sum((np.nan_to_num(stock[x - 1]) + np.nan_to_num(stock[x])) / 2 for x in past)
    rate = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    return np.maximum((now + starts - rate * now / 2) / (1 + rate / 2), 0.0)


def run_backcast(
    base: Config,
    origins: Sequence[int] = ORIGINS,
    seeds: Sequence[int] = (0, 1, 2),
    jobs: int = 1,
    variants: Sequence[str] = MAIN_VARIANTS,
    spin_up_cap: int | None = None,
    cache_dir: str | Path | None = None,
    log: Callable[[str], None] = print,
) -> dict:
    """Every origin x variant x seed run (``jobs`` at a time; cached in ``cache_dir``), and per
    origin the MAPE across the simulated LAs of each variant (the mean over seeds) and of the
    naive forecasts. ``base``: the config whose world, parameters and spin-up are used."""
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise ValueError(f"unknown back-cast variant(s) {unknown}: use {sorted(VARIANTS)}")
    origins = supported(base, origins, log)
    cache = None if cache_dir is None else Path(cache_dir)
    work = [(origin_config(base, y, v, s, spin_up_cap), y, v, cache) for y in origins for v in variants for s in seeds]
    t0 = time.perf_counter()
    if jobs > 1 and len(work) > 1:
        with ProcessPoolExecutor(min(jobs, len(work))) as ex:
            out = list(ex.map(run_one, work))
    else:
        out = [run_one(job) for job in work]
    wall = time.perf_counter() - t0
    stock = published_stock()
    rows = {}
    for y in origins:
        runs = [r for r in out if r["origin"] == y]
        las = np.asarray(runs[0]["simulated"], dtype=int)
        actual, now = stock[y + 1][las], np.nan_to_num(stock[y][las])
        before = np.nan_to_num(stock[y - 1][las])
        row: dict = {"target": f"{y + 1}-03-31", "las": int(len(las)), "england": {"actual": float(np.nansum(actual))}}
        for v in variants:
            per_seed = np.array([r["stock"] for r in runs if r["variant"] == v], dtype=float)
            row[v] = mape(per_seed.mean(axis=0), actual)
            row[f"{v}_per_seed"] = [mape(x, actual) for x in per_seed]
            row["england"][v] = float(per_seed.mean(axis=0).sum())
            row[f"{v}_seconds"] = [round(r["seconds"], 1) for r in runs if r["variant"] == v]
        row["persistence"] = mape(now, actual)
        row["linear_trend"] = mape(np.maximum(now + (now - before), 0.0), actual)
        row["flow_accounting"] = mape(flow_accounting(y, base)[las], actual)
        rows[y] = row
    return {
        "rows": rows,
        "variants": {v: VARIANTS[v][2] for v in variants},
        "seeds": list(seeds),
        "jobs": jobs,
        "spin_up_cap": spin_up_cap,
        "wall_seconds": wall,
        "cached": sum(r["cached"] for r in out),
    }


def beats_naive(row: dict) -> tuple[bool, bool]:
    """Whether the genuine forecast (a) beats (persistence, the linear trend) in this origin."""
    return bool(row["forecast"] < row["persistence"]), bool(row["forecast"] < row["linear_trend"])


def frame(result: dict):
    """The table for the validation page (a pandas DataFrame): one row per origin, MAPE in %,
    and whether (a) beats each naive forecast (true/false columns, listed when false)."""
    import pandas as pd

    recs = []
    for y, r in result["rows"].items():
        persistence, trend = beats_naive(r)
        rec = {"origin (31 March)": int(y), "LAs": r["las"], "(a) model, forecast starts": round(r["forecast"], 2)}
        if "published" in r:
            rec["(b) diagnostic, realised starts"] = round(r["published"], 2)
        rec |= {
            "(c) persistence": round(r["persistence"], 2),
            "(d) linear trend": round(r["linear_trend"], 2),
            "(e) flow accounting": round(r["flow_accounting"], 2),
            "(a) beats persistence": persistence,
            "(a) beats trend": trend,
        }
        recs.append(rec)
    return pd.DataFrame.from_records(recs)


def markdown(result: dict) -> str:
    """The table as Markdown, with England's totals and the run times."""
    seeds = result["seeds"]
    lines = [
        f"One year ahead: MAPE (%) across LAs of the stock at 31 March Y+1 (model: mean of seeds {seeds})",
        "",
        "| origin Y | (a) model, forecast starts | (b) model, realised starts (diagnostic: sees Y+1) "
        "| (c) persistence | (d) linear trend | (e) flow accounting, forecast starts (no model) "
        "| England Y+1: (a) / (b) / published | run s (a) / (b), mean per seed |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for y, r in result["rows"].items():
        best = "**" if all(beats_naive(r)) else ""
        e = r["england"]
        b = r.get("published", float("nan"))
        lines.append(
            f"| {y} | {best}{r['forecast']:.2f}{best} | {b:.2f} | {r['persistence']:.2f} "
            f"| {r['linear_trend']:.2f} | {r['flow_accounting']:.2f} "
            f"| {e['forecast']:,.0f} / {e.get('published', float('nan')):,.0f} / {e['actual']:,.0f} "
            f"| {np.mean(r['forecast_seconds']):.0f} / {np.mean(r.get('published_seconds', [np.nan])):.0f} |"
        )
    extra = [v for v in result["variants"] if v not in MAIN_VARIANTS]
    if extra:
        lines += [
            "",
            "Decomposition (what the diagnostic knows: the year's starts, and exit rates from later years)",
            "",
            "| origin Y | " + " | ".join(result["variants"].values()) + " |",
            "|---|" + "---:|" * len(result["variants"]),
        ]
        for y, r in result["rows"].items():
            lines.append(f"| {y} | " + " | ".join(f"{r[v]:.2f}" for v in result["variants"]) + " |")
    lines += [
        "",
        f"(a) in bold where it beats both naive forecasts. {result['cached']} runs from the cache; wall time "
        f"{result['wall_seconds']:.0f} s with {result['jobs']} jobs.",
    ]
    return "\n".join(lines)


__all__ = ["ORIGINS", "VARIANTS", "frame", "markdown", "mape", "run_backcast"]
