"""Back-cast validation: start from the published stock at 31 March 2021, run to 31 March 2024,
and compare each LA's simulated stock at 31 March 2022, 2023 and 2024 with the published one.

Inputs the run may use: the 2021 per-LA stock and the published per-LA starts of 2022 and 2023
(2024 repeats 2023: ``demand.published_starts_until=2023``). Reported: mean absolute percentage
error (MAPE) across LAs, against two naive forecasts of the same stock made from published
figures only - last year's value, and a linear trend through the last two years (from 2023 on;
2020 is not in the data, so the trend has no 2022 forecast).

    python experiments/backcast.py [--seeds 0 1 2]

About 20 s a seed here.
"""

from __future__ import annotations

import argparse

import numpy as np

from rcc_sim.config import Config
from rcc_sim.data import load_las
from rcc_sim.run import simulate


def mape(forecast: np.ndarray, actual: np.ndarray) -> float:
    ok = actual > 0
    return float(np.mean(np.abs(forecast[ok] - actual[ok]) / actual[ok]) * 100)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = ap.parse_args()
    las = load_las()
    published = {y: np.nan_to_num(las[f"stock_{y}"]) for y in (2021, 2022, 2023, 2024)}
    runs = []
    for seed in args.seeds:
        cfg = Config(seed=seed)
        cfg.sim.start_year = 2021
        cfg.sim.years = 3.0
        cfg.demand.published_starts_until = 2023
        ds = simulate(cfg)
        runs.append(ds["children_in_care_31mar"].values.astype(float))  # (year, la)
    model = np.mean(runs, axis=0)
    print(f"Back-cast from 31 March 2021, mean of seeds {args.seeds}: MAPE across {model.shape[1]} LAs (%)")
    print(f"{'31 March':>10s} {'model':>8s} {'last year':>10s} {'linear trend':>13s}   England: model / published")
    for k, year in enumerate((2022, 2023, 2024)):
        actual = published[year]
        last = published[year - 1]
        trend = 2 * published[year - 1] - published[year - 2] if year - 2 >= 2021 else None
        print(f"{year:>10d} {mape(model[k], actual):8.1f} {mape(last, actual):10.1f} "
              f"{mape(trend, actual) if trend is not None else float('nan'):13.1f}   "
              f"{model[k].sum():,.0f} / {actual.sum():,.0f}")


if __name__ == "__main__":
    main()
