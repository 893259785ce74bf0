"""Comparisons: the model's level and trend against each published series, and per-LA fit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from rcc_sim.data import load_las
from rcc_sim.studies.validate.measures import LA_MEASURES, MEASURES, Measure
from rcc_sim.studies.validate.runs import Runs
from rcc_sim.studies.validate.series import Published, la_published, published

# per-LA fit: below this correlation the model does not reproduce which LAs are high and which low
LA_MIN_CORRELATION = 0.5
# a coarse trend check (the trend-band table, when given, is the formal one): the model's change a
# year against the published change a year over the last five published years, judged when both
# have at least three years
TREND_TOLERANCE_SHARE_PP = 1.0  # percentage points a year
TREND_TOLERANCE_COUNT_PCT = 3.0  # per cent a year
TREND_MIN_YEARS = 3


# ---------------------------------------------------------------------------------------------
# Comparisons
# ---------------------------------------------------------------------------------------------
def _slope(years: np.ndarray, values: np.ndarray, kind: str) -> float:
    """Least-squares change a year: percentage points (shares) or % of the mean (counts)."""
    ok = np.isfinite(values)
    years, values = np.asarray(years, dtype=float)[ok], np.asarray(values, dtype=float)[ok]
    if len(years) < 2:
        return float("nan")
    b = float(np.polyfit(years, values, 1)[0])
    if kind == "share":
        return b
    m = float(np.mean(values))
    return 100.0 * b / m if m else float("nan")


def gap(model: float, pub: float, kind: str) -> float:
    if kind == "share":
        return model - pub
    return 100.0 * (model / pub - 1.0) if pub else float("nan")


@dataclass
class Level:
    """The model against a published series."""

    measure: Measure
    published: Published
    model_years: list[int]  # the model years compared
    published_years: list[int]  # the published years compared
    model: float  # mean over seeds and the years compared
    model_low: float  # min over seeds (of the mean over the years compared)
    model_high: float
    pub: float
    gap: float  # percentage points (shares) or % (counts)
    same_date: bool
    pub_trend: float  # a year, over the last up to 5 published years
    model_trend: float  # a year, over the model's years (mean over seeds)
    status: str  # within | outside | context | no model value | no published value
    trend_status: str = "-"  # within | outside | "-" (not judged: too few years, or not comparable)
    approximation: str = ""  # how the model's value only approximates the measure, if it does
    model_span: str = ""  # the model's years with a value, e.g. "2025-2034"

    @property
    def when(self) -> str:
        if not self.model_years:
            return "-"
        if self.same_date:
            y = self.model_years
            return f"{y[0]}-{y[-1]}, the same years" if len(y) > 1 else f"{y[0]}, the same year"
        return f"model {self.model_years[0]} vs published {self.published_years[0]}, the latest published"

    @property
    def gap_text(self) -> str:
        if not np.isfinite(self.gap):
            return "-"
        return f"{self.gap:+.1f} pp" if self.measure.kind == "share" else f"{self.gap:+.0f}%"

    @property
    def tolerance_text(self) -> str:
        m = self.measure
        return f"{m.tolerance:g} pp" if m.kind == "share" else f"{m.tolerance:g}%"

    @property
    def trend_tolerance(self) -> float:
        return TREND_TOLERANCE_SHARE_PP if self.measure.kind == "share" else TREND_TOLERANCE_COUNT_PCT

    def trend_text(self, t: float) -> str:
        if not np.isfinite(t):
            return "-"
        return f"{t:+.2f} pp" if self.measure.kind == "share" else f"{t:+.1f}%"


def levels(runs: Runs, measures: Sequence[Measure] = MEASURES) -> list[Level]:
    """Each measure: the model against the published series on the years both cover (mean gap),
    else the model's first year against the latest published year."""
    out = []
    for m in measures:
        pub = published(m, runs.la_codes)
        da = runs.yearly[m.key]
        years = np.asarray(runs.yearly["year"].values, dtype=int)
        mean = da.mean("replicate", skipna=True).values if da.size else np.zeros(0)
        have = np.isfinite(mean)
        pub_trend = _slope(pub.years[-5:], pub.values[-5:], m.kind)
        model_trend = _slope(years[have], mean[have], m.kind)
        approx = str(da.attrs.get("approximation", ""))
        if not have.any() or not len(pub.years):
            status = "no model value" if not have.any() else "no published value"
            nan = float("nan")
            row = Level(m, pub, [], [], nan, nan, nan, nan, nan, False, pub_trend, model_trend, status, "-", approx)
            out.append(row)
            continue
        both = [int(y) for y in years[have] if int(y) in set(pub.years.tolist())]
        if both:
            my, py, same = both, both, True
        else:
            my, py, same = [int(years[have][0])], [int(pub.years[-1])], False
        sel = da.sel(year=my)
        per_seed = sel.mean("year", skipna=True).values
        model = float(np.nanmean(per_seed))
        p = float(np.mean([pub.value(y) for y in py]))
        diff = gap(model, p, m.kind)
        comparable = m.comparable and pub.comparable
        # judged at the precision shown (a gap of 2.01 pp shows as 2.0 pp, within a 2 pp tolerance)
        shown = round(abs(diff), 1) if m.kind == "share" else round(abs(diff))
        status = "context" if not comparable else ("outside" if shown > m.tolerance else "within")
        tol = TREND_TOLERANCE_SHARE_PP if m.kind == "share" else TREND_TOLERANCE_COUNT_PCT
        judged = (
            comparable
            and m.judge_trend
            and int(have.sum()) >= TREND_MIN_YEARS
            and int(np.isfinite(pub.values[-5:]).sum()) >= TREND_MIN_YEARS
            and np.isfinite(pub_trend)
            and np.isfinite(model_trend)
        )
        trend_status = ("outside" if abs(model_trend - pub_trend) > tol else "within") if judged else "-"
        out.append(
            Level(m, pub, my, py, model, float(np.nanmin(per_seed)), float(np.nanmax(per_seed)), p, diff, same,
                  pub_trend, model_trend, status, trend_status, approx, f"{years[have][0]}-{years[have][-1]}")
        )  # fmt: skip
    return out


@dataclass
class LaFit:
    """Per-LA model values against published ones for one model year."""

    measure: Measure
    model_year: int
    published_year: int
    same_date: bool
    n: int  # LAs with both values
    mae: float  # in the measure's unit (children, or percentage points)
    mean_published: float
    correlation: float
    x: np.ndarray = field(repr=False)  # published, per LA
    y: np.ndarray = field(repr=False)  # model (mean over seeds), per LA
    names: list[str] = field(repr=False, default_factory=list)

    @property
    def mae_text(self) -> str:
        return f"{self.mae:.1f} pp" if self.measure.kind == "share" else f"{self.mae:,.0f} {self.measure.unit}"


def la_fits(runs: Runs, measures: Sequence[Measure] = LA_MEASURES) -> dict[str, list[LaFit]]:
    """For each per-LA measure and each model year: MAE and correlation across the simulated LAs
    of the model (mean over seeds) against the published value of the same year, else the latest
    published year."""
    names = dict(zip((str(c) for c in load_las()["code"]), (str(n) for n in load_las()["name"])))
    out: dict[str, list[LaFit]] = {}
    for m in measures:
        pyears, parr = la_published(m, runs.la_codes)
        model = runs.yearly_la[m.key].mean("replicate", skipna=True)
        fits = []
        for y in (int(v) for v in model["year"].values):
            hit = np.flatnonzero(pyears == y)
            same = bool(len(hit))
            col = int(hit[0]) if same else int(np.flatnonzero(np.isfinite(parr).any(0))[-1])
            x = parr[:, col]
            v = model.sel(year=y).values.astype(float)
            ok = np.isfinite(x) & np.isfinite(v)
            n = int(ok.sum())
            varies = n > 2 and np.std(x[ok]) > 0 and np.std(v[ok]) > 0
            corr = float(np.corrcoef(x[ok], v[ok])[0, 1]) if varies else float("nan")
            mae = float(np.mean(np.abs(v[ok] - x[ok]))) if n else float("nan")
            mean_pub = float(np.mean(x[ok])) if n else float("nan")
            la_names = [names.get(c, c) for c in runs.la_codes]
            fits.append(LaFit(m, y, int(pyears[col]), same, n, mae, mean_pub, corr, x, v, la_names))
        out[m.key] = fits
    return out


def scatter_fit(fits: list[LaFit]) -> LaFit | None:
    """The year a scatter plot shows: the latest model year with a published year of the same
    date, else the model's first year (against the latest published year)."""
    same = [f for f in fits if f.same_date]
    if same:
        return same[-1]
    return fits[0] if fits else None
