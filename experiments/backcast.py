"""Back-cast validation: how well does the model predict each LA's stock of children in care?

Two comparisons, each against naive forecasts made from the same published information:

A. Three years ahead. Start from the published stock at 31 March 2021 and run to 31 March 2024;
   compare each LA's stock at 31 March 2022, 2023 and 2024 with the published one. Naive
   forecasts made at the same origin: *persistence* (the 2021 stock) and *linear trend* (the 2021
   stock plus k times the LA's net flow, starts - ceased, in the year to 31 March 2021).
B. One year ahead. Start from each published stock (2021, 2022, 2023) and run one year; naive
   forecasts: *last year's value* and *linear trend through the last two years* (from 2023).

Parameters are fitted only on flows to 2023: the run uses the published per-LA starts up to
2023 (``demand.published_starts_until=2023``; 2024 repeats 2023) and per-LA exit rates from the
published ceased and stocks of 2022-2023 (``exits.by_la``). The national shapes of the exit
hazards by age and route come from the calibration to 2024 characteristics tables (DfE CLA
2024), since no earlier characteristics tables are shipped. Error: mean absolute percentage error
(MAPE) across the 152 LAs with children in care (Isles of Scilly has none).

    python experiments/backcast.py [--seeds 0 1 2 3 4] [--jobs 2]

About 2 minutes per seed on one core here (one three-year and three one-year England runs).
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from rcc_sim.config import Config
from rcc_sim.data import load_las


def mape(forecast: np.ndarray, actual: np.ndarray) -> float:
    ok = actual > 0
    return float(np.mean(np.abs(forecast[ok] - actual[ok]) / actual[ok]) * 100)


def run(args: tuple[int, int, float]) -> np.ndarray:
    """Per-LA stock at each 31 March after the base date: (year, la)."""
    from rcc_sim.run import simulate

    seed, start_year, years = args
    cfg = Config(seed=seed)
    cfg.sim.start_year = start_year
    cfg.sim.years = years
    cfg.demand.published_starts_until = 2023
    return simulate(cfg)["children_in_care_31mar"].values.astype(float)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    las = load_las()
    pub = {y: np.nan_to_num(las[f"stock_{y}"]).astype(float) for y in (2021, 2022, 2023, 2024)}
    net_2021 = np.nan_to_num(las["starts_2021"]) - np.nan_to_num(las["ceased_2021"])
    jobs = [(s, 2021, 3.0) for s in args.seeds] + [(s, y, 1.0) for s in args.seeds for y in (2021, 2022, 2023)]
    with ProcessPoolExecutor(args.jobs) as ex:
        out = list(ex.map(run, jobs))
    n = len(args.seeds)
    three = np.mean(out[:n], axis=0)
    one = {y: np.mean([out[n + 3 * i + k][0] for i in range(n)], axis=0) for k, y in enumerate((2022, 2023, 2024))}

    print(f"Back-cast, mean of seeds {args.seeds}: MAPE of per-LA stock across LAs (%)\n")
    print("A. Three years ahead, all forecasts made at 31 March 2021")
    print(f"{'31 March':>10s} {'model':>8s} {'persistence':>12s} {'linear trend':>13s}   England: model / published")
    for k, year in enumerate((2022, 2023, 2024)):
        actual = pub[year]
        trend = pub[2021] + (k + 1) * net_2021
        print(
            f"{year:>10d} {mape(three[k], actual):8.1f} {mape(pub[2021], actual):12.1f} {mape(trend, actual):13.1f}"
            f"   {three[k].sum():,.0f} / {actual.sum():,.0f}"
        )
    print("\nB. One year ahead, each forecast made at the previous 31 March")
    print(f"{'31 March':>10s} {'model':>8s} {'last year':>12s} {'linear trend':>13s}   England: model / published")
    for year in (2022, 2023, 2024):
        actual = pub[year]
        trend = 2 * pub[year - 1] - pub[year - 2] if year - 2 >= 2021 else None
        t = f"{mape(trend, actual):13.1f}" if trend is not None else f"{'n/a':>13s}"
        print(
            f"{year:>10d} {mape(one[year], actual):8.1f} {mape(pub[year - 1], actual):12.1f} {t}"
            f"   {one[year].sum():,.0f} / {actual.sum():,.0f}"
        )


if __name__ == "__main__":
    main()
