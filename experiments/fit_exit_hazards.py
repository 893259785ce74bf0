"""First fit of the exit hazards to DfE CLA 2024 (steady state, no placement model).

Draws a large synthetic cohort of entrants with the published start age mix, and fits one
scale per exit route and one multiplier per current-age band so that, in steady state,

* mean time in care = stock / starts (83,530 / 33,130 = 2.52 years),
* the stock's age mix, the ceased age mix and the ceased routes match the published shares,

with scipy's least_squares on log-parameters and common random numbers (the same cohort for
every evaluation). Prints the fitted ``exits.*`` lists to paste into ``rcc_sim/config.py``
(or to pass as overrides). The calibration study (issue 4) replaces this with a fit of the
whole model.

    python experiments/fit_exit_hazards.py
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.optimize import least_squares

from rcc_sim.config import Config
from rcc_sim.data import load_targets
from rcc_sim.engine.processes.demand import AT_18, UASC_HAZARD_MULTIPLIER, ExitSampler
from rcc_sim.vocab import AGE_BAND_EDGES, EXIT_ROUTES, HAZARD_ROUTES

N = 120_000
T = {k: v["value"] for k, v in load_targets().items()}
MEAN_YEARS = T["cla_stock"] / T["cla_starts"]
STOCK_AGE = np.array([T[f"age_share_{b}"] for b in ("under1", "1_4", "5_9", "10_15", "16plus")])
CEASED_AGE = np.array([T[f"ceased_age_share_{b}"] for b in ("under1", "1_4", "5_9", "10_15", "16_17", "18plus")])
# ceased routes before 18 and the share leaving at 18 (see the module docstring of the split)
ROUTE_TARGET = {
    "returned_home": 0.20,
    "adopted": 0.09,
    "special_guardianship": 0.11,
    "child_arrangements_order": 0.03,
    "lives_with_relatives": 0.06,
    "independent_living": 0.03,
    "other": 0.09,
    "at_18": 0.39,
}


def cohort(cfg: Config, rng: np.random.Generator):
    d = cfg.demand
    band = rng.choice(5, size=N, p=np.array(d.start_age_shares))
    lo, hi = np.array(AGE_BAND_EDGES[:-1])[band], np.array(AGE_BAND_EDGES[1:])[band]
    age = lo + (hi - lo) * rng.random(N)
    uasc = rng.random(N) < np.array(d.uasc_share_of_starts)[band]
    return age, np.where(uasc, UASC_HAZARD_MULTIPLIER, 1.0), rng.exponential(size=N), rng.random(N)


def with_params(cfg: Config, x: np.ndarray) -> Config:
    route_scale, age_mult = np.exp(x[:7]), np.r_[1.0, np.exp(x[7:])]
    e = dataclasses.replace(cfg.exits)
    for r, s in zip(HAZARD_ROUTES, route_scale):
        setattr(e, r, [float(v * s * m) for v, m in zip(getattr(cfg.exits, r), age_mult)])
    return dataclasses.replace(cfg, exits=e)


def moments(cfg: Config, age, mult, e, u):
    years, route = ExitSampler(cfg).sample(age, np.zeros_like(age), mult, e, u)
    end = age + years
    edges = np.array(AGE_BAND_EDGES)
    person_years = np.array(
        [np.clip(np.minimum(end, edges[b + 1]) - np.maximum(age, edges[b]), 0, None).sum() for b in range(5)]
    )
    exit_band = np.where(route == AT_18, 5, np.searchsorted(edges[1:-1], np.minimum(end, 17.999), side="right"))
    ceased_age = np.bincount(exit_band, minlength=6) / N
    shares = {r: float(np.mean(route == EXIT_ROUTES.index(r))) for r in HAZARD_ROUTES}
    shares["at_18"] = float(np.mean(route == AT_18))
    return years.mean(), person_years / person_years.sum(), ceased_age, shares


def residuals(x, cfg, draws):
    mean, stock_age, ceased_age, shares = moments(with_params(cfg, x), *draws)
    return np.r_[
        3 * (mean / MEAN_YEARS - 1),
        stock_age - STOCK_AGE,
        ceased_age - CEASED_AGE,
        [shares[k] - v for k, v in ROUTE_TARGET.items()],
    ]


def main() -> None:
    cfg = Config()
    draws = cohort(cfg, np.random.default_rng(20240331))
    fit = least_squares(residuals, np.zeros(11), args=(cfg, draws), diff_step=1e-3, max_nfev=400)
    best = with_params(cfg, fit.x)
    mean, stock_age, ceased_age, shares = moments(best, *draws)
    print(f"loss {2 * fit.cost:.5f}; mean years in care {mean:.3f} (target {MEAN_YEARS:.3f})")
    print("stock age  ", stock_age.round(3), "target", STOCK_AGE)
    print("ceased age ", ceased_age.round(3), "target", CEASED_AGE)
    for k, v in ROUTE_TARGET.items():
        print(f"  {k:26s} {shares[k]:.3f}  target {v:.2f}")
    print("\nfitted exits (per year by age band <1, 1-4, 5-9, 10-15, 16-17):")
    for r in HAZARD_ROUTES:
        print(f"{r}: {[round(v, 4) for v in getattr(best.exits, r)]}")


if __name__ == "__main__":
    main()
