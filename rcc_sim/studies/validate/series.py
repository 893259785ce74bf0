"""Published series of each measure, on the model's axis (the statistical year)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rcc_sim.data import load_la_series, load_las, load_national_series, load_targets
from rcc_sim.studies.validate.measures import MEASURE, Measure, ValidationError


# ---------------------------------------------------------------------------------------------
# Published series
# ---------------------------------------------------------------------------------------------
@dataclass
class Published:
    """A measure's published series on the statistical-year axis."""

    years: np.ndarray  # int
    values: np.ndarray  # in the measure's unit
    keys: list[str]  # the series (or target) each point comes from
    sources: dict[str, str]  # key -> source
    units: dict[str, str]  # key -> unit as published
    scope: str  # "England", or the LAs summed
    comparable: bool  # False when the series does not cover the simulated LAs

    def value(self, year: int) -> float:
        hit = np.flatnonzero(self.years == year)
        return float(self.values[hit[0]]) if len(hit) else float("nan")


def _target(measure: Measure) -> tuple[int, float, str, str, str] | None:
    """(year, value, key, source, unit) of the measure's calibration target, or None."""
    if measure.target is None:
        return None
    t = load_targets()
    num, den = measure.target
    value = float(t[num]["value"]) * (measure.scale if den is None else 1.0)  # a share target in the unit shown
    if den is not None:
        value = 100.0 * value / float(t[den]["value"])
    years = re.findall(r"(\d{4})", str(t[num]["period"]))
    if not years:
        return None
    return int(years[-1]), value, f"target:{num}", str(t[num]["source"]), str(t[num]["unit"])


def _la_series(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-LA published (years, array (153 LAs, years)): the 2016-2023 series, and 2024 from the
    LA table for stock, starts and ceased."""
    s = load_la_series()
    years, arr = np.asarray(s["years"]), np.asarray(s[name], dtype=float)
    if name in ("stock", "starts", "ceased"):
        las = load_las()
        extra = [y for y in (2024,) if f"{name}_{y}" in las and y not in years]
        if extra:
            years = np.r_[years, extra]
            arr = np.column_stack([arr] + [np.asarray(las[f"{name}_{y}"], dtype=float) for y in extra])
    return years, arr


LA_SOURCE = (
    "DfE Children looked after in England including adoptions, per-LA tables 2016-2023 (via LAIT), and 2024 "
    "(rcc_sim/data/la_timeseries_2016_2023.csv, la_children_looked_after_2021_2024.csv; SOURCES.md)"
)


def la_published(measure: Measure, la_codes: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(years, array (len(la_codes), years)) of the measure's per-LA published series."""
    if measure.la is None:
        raise ValidationError(f"{measure.key}: no per-LA published series")
    years, arr = _la_series(measure.la)
    index = {str(c): i for i, c in enumerate(load_las()["code"])}
    return years, arr[[index[c] for c in la_codes]]


def published(measure: Measure, la_codes: Sequence[str] | None = None) -> Published:
    """The published series of ``measure`` for the simulated LAs: national (plus the year-to-
    March-2024 calibration target) when they are all of England (``la_codes`` None or all 153);
    for fewer LAs, the per-LA series summed over them (counts) or weighted by their stock (shares)
    where there is one, else the national series marked not comparable."""
    n_all = len(load_las()["code"])
    england = la_codes is None or len(la_codes) == n_all
    if not england and measure.la is not None:
        years, arr = la_published(measure, list(la_codes or ()))
        if measure.kind == "share":
            _, stock = la_published(MEASURE["stock"], list(la_codes or ()))
            stock = stock[:, : arr.shape[1]]
            ok = np.isfinite(arr) & np.isfinite(stock)
            with np.errstate(invalid="ignore", divide="ignore"):
                vals = np.where(ok, arr * stock, 0).sum(0) / np.where(ok, stock, 0).sum(0)
        else:
            vals = np.where(np.all(np.isfinite(arr), axis=0), np.nansum(arr, axis=0), np.nan)
        keep = np.isfinite(vals)
        n = len(la_codes or ())
        return Published(
            years[keep].astype(int),
            vals[keep],
            ["la_series"] * int(keep.sum()),
            {"la_series": LA_SOURCE},
            {"la_series": measure.unit},
            f"the {n} simulated LAs (sum of the per-LA figures)",
            True,
        )
    series = load_national_series()
    points: dict[int, tuple[float, str]] = {}
    sources, units = {}, {}
    for key in measure.published:
        if key not in series:
            continue
        s = series[key]
        for y, v in zip(s["years"], s["values"]):
            if int(y) not in points and np.isfinite(v):
                points[int(y)] = (float(v) * measure.scale, key)
                sources[key], units[key] = str(s["source"]), str(s["unit"])
    tgt = _target(measure)
    if tgt is not None and tgt[0] not in points:
        points[tgt[0]] = (tgt[1], tgt[2])
        sources[tgt[2]], units[tgt[2]] = tgt[3], tgt[4]
    years = np.array(sorted(points), dtype=int)
    return Published(
        years,
        np.array([points[y][0] for y in years], dtype=float),
        [points[y][1] for y in years],
        sources,
        units,
        "England" if england else f"England (the model covers {len(la_codes or ())} LAs: not comparable)",
        england,
    )
