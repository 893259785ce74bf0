"""Forecasts of each LA's starts (children entering care a year) from its published past.

Pure numpy; no simulation. The entry process uses it when ``demand.starts_source = forecast``
(the default): a run from 31 March of base year Y draws its arrivals in the year to 31 March
Y + h from the forecast h years ahead, made from the published starts of the years up to and
including Y only.

**Convention: what was "published by 31 March Y".** DfE publishes the figures for the year to
31 March Y in the autumn after (about November Y), so strictly, on 31 March Y only the years up
to Y - 1 are out. Here the base year's own figures count as known at the base date, as the
stock at 31 March Y that every run starts from does: a forecast from base year Y uses the years
up to and including Y and never reads a later year. (A run "from 31 March Y" is in practice set
up once Y's figures are out.)

Methods (``demand.starts_forecast``); each is applied to every LA separately and clipped at 0:

* ``level``: the mean of the LA's last ``years`` published years; the same for every year ahead.
* ``trend``: a least-squares line through the LA's last ``years`` years, continued from its
  value at the base year with a damped slope: h years ahead, end + slope * (phi + ... + phi^h)
  (Gardner and McKenzie's damped trend; phi = ``damping``; phi = 1 is the straight line, phi = 0
  its end point held). With one year in the window it is the level.
* ``smoothing`` (fitted): simple exponential smoothing of each LA's series, level_t = alpha *
  starts_t + (1 - alpha) * level_{t-1}, started at the first year; the forecast is the last
  level, the same for every year ahead. One alpha for all LAs, fitted on the history only: the
  alpha on a grid (0.05, 0.10, ..., 1.00) with the smallest mean absolute percentage error of
  the one-year-ahead forecasts it would have made inside the history, pooled across LAs (the
  second year's forecast is the first year whatever alpha, so errors count from the third year).
  With fewer than three years there is nothing to fit and alpha is :data:`ALPHA_UNFITTED`.
  Why this one: per-LA starts are noisy around a level that drifts and does not revert (a year's
  surprise persists), so the last value beats long means and trends amplify noise; smoothing
  weighs the last value against the recent past by as much as the data say. A level shrunk
  toward the national trend was tried and did not beat persistence on average
  (``experiments/one_year_ahead.py --forecaster-only`` prints the evidence).

Years with no figure (NaN) are skipped; an LA with none forecasts 0.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from rcc_sim.config import STARTS_FORECASTS as METHODS

ALPHA_GRID = np.round(np.arange(1, 21) * 0.05, 2)
ALPHA_UNFITTED = 0.5  # ASSUMPTION: mid-way between the long mean and the last value, when nothing can be fitted


def history(table: Mapping[int, np.ndarray], base_year: int) -> tuple[np.ndarray, np.ndarray]:
    """The published years up to and including ``base_year`` (oldest first) and their values, an
    array (LAs, years). Only those entries of ``table`` (year -> values per LA) are read."""
    years = sorted(y for y in table if y <= base_year)
    if not years:
        raise ValueError(f"no published starts up to {base_year} (the table has years {sorted(table)})")
    return np.array(years), np.column_stack([np.asarray(table[y], dtype=float) for y in years])


def level(hist: np.ndarray, years: int) -> np.ndarray:
    """Mean of each row's last ``years`` finite values (0 where there are none)."""
    window = hist[:, -years:]
    n = np.isfinite(window).sum(axis=1)
    return np.where(n > 0, np.nansum(window, axis=1) / np.maximum(n, 1), 0.0)


def trend(hist: np.ndarray, years: int, damping: float, horizon: int) -> np.ndarray:
    """Damped linear trend over each row's last ``years`` years: (horizon, rows)."""
    window = hist[:, -years:]
    t = np.arange(window.shape[1], dtype=float)
    ok = np.isfinite(window)
    n = ok.sum(axis=1)
    tw = np.where(ok, t, 0.0)
    tm = tw.sum(axis=1) / np.maximum(n, 1)
    ym = level(window, window.shape[1])
    dt = np.where(ok, t - tm[:, None], 0.0)
    sxx = (dt**2).sum(axis=1)
    slope = np.where(sxx > 0, (dt * np.nan_to_num(window - ym[:, None])).sum(axis=1) / np.where(sxx > 0, sxx, 1), 0.0)
    end = ym + slope * (t[-1] - tm)  # the line's value at the base year
    steps = np.cumsum(damping ** np.arange(1, horizon + 1))  # phi + ... + phi^h
    return np.maximum(end[None, :] + steps[:, None] * slope[None, :], 0.0)


def smooth(hist: np.ndarray, alpha: float) -> np.ndarray:
    """Exponential smoothing of each row: the levels after each year, (rows, years)."""
    out = np.empty_like(hist, dtype=float)
    lev = np.full(hist.shape[0], np.nan)
    for j in range(hist.shape[1]):
        x = hist[:, j]
        lev = np.where(np.isnan(lev), x, np.where(np.isfinite(x), alpha * x + (1 - alpha) * lev, lev))
        out[:, j] = lev
    return out


def fit_alpha(hist: np.ndarray) -> float:
    """The smoothing constant with the smallest pooled one-year-ahead MAPE inside ``hist``."""
    if hist.shape[1] < 3:
        return ALPHA_UNFITTED
    actual = hist[:, 2:]
    ok = np.isfinite(actual) & (actual > 0)
    if not ok.any():
        return ALPHA_UNFITTED
    best, best_err = ALPHA_UNFITTED, np.inf
    for alpha in ALPHA_GRID:
        pred = smooth(hist[:, :-1], float(alpha))[:, 1:]  # forecast of year j made after year j - 1
        good = ok & np.isfinite(pred)
        err = float(np.mean(np.abs(pred[good] - actual[good]) / actual[good]))
        if err < best_err - 1e-12:
            best, best_err = float(alpha), err
    return best


def forecast(
    hist: np.ndarray, horizon: int, method: str = "smoothing", years: int = 3, damping: float = 0.8
) -> np.ndarray:
    """Forecast starts per LA for 1..``horizon`` years after the last column of ``hist`` (LAs,
    years up to and including the base year, oldest first): an array (horizon, LAs), >= 0."""
    if method not in METHODS:
        raise ValueError(f"unknown starts forecast method {method!r}: use one of {', '.join(METHODS)}")
    if horizon < 1 or years < 1 or not 0.0 <= damping <= 1.0:
        raise ValueError(f"bad forecast settings: horizon={horizon}, years={years}, damping={damping}")
    hist = np.asarray(hist, dtype=float)
    if method == "level":
        one = level(hist, years)
    elif method == "trend":
        return trend(hist, years, damping, horizon)
    else:
        one = np.nan_to_num(smooth(hist, fit_alpha(hist))[:, -1])
    return np.repeat(np.maximum(one, 0.0)[None, :], horizon, axis=0)


def forecast_from_table(
    table: Mapping[int, np.ndarray], base_year: int, horizon: int, method: str = "smoothing", **options
) -> np.ndarray:
    """:func:`forecast` from a table year -> starts per LA, reading only the years <= ``base_year``."""
    _, hist = history(table, base_year)
    return forecast(hist, horizon, method, **options)
