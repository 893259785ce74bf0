"""Trend bands: does the status quo's ten-year drift stay within the published trends?

Issue 12 point 3: in a ten-year England status-quo run from 31 March 2024 (mean of at least five
seeds), each yearly trend must stay inside a band around its 2019-2024 published trend. This
module holds the bands as data (:data:`MEASURES`), computes each measure at every 31 March of a
run (:func:`yearly_values`), fits its yearly trend per seed and across seeds (:func:`trends`) and
checks it against the band; :func:`published_trend` fits the same trend to the shipped published
series (``rcc_sim.data.load_national_series``).

**Trend.** The ordinary least-squares slope of the measure on the year, over the run's 31 March
values (the base date itself, 31 March 2024, is not a point of the fit: the first 31 March is
the end of year one). Shares are in per cent and their trend in percentage points a year
(``pp a year``); counts are fitted log-linearly, ``ln(value) = a + b * year``, and their trend
is the compound growth rate ``100 * (exp(b) - 1)`` per cent a year (``% a year``). Each seed's
slope is fitted separately; the reported trend is the mean over seeds, with the seed-to-seed
standard deviation. A measure is *inside* its band when the mean slope lies in [lo, hi].

**Published trend.** The same fit on the published series over 2019-2024. No 2024 figure is
shipped (``national_timeseries_2015_2023.csv`` ends at 31 March 2023), so every published trend
uses the years of 2019-2023 that the series has; each measure says which (e.g. DfE's distance
series starts again in 2020 and its new placement categories in 2020). The bands are issue 12's,
fixed around the published trends; the published slopes are shown beside them for reference.

    from rcc_sim.studies.trends import trends, markdown
    result = trends([ds_seed0, ds_seed1, ...])     # status-quo Datasets, one per seed
    print(markdown(result))
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from rcc_sim.data import load_national_series, load_own_region_2023

PUBLISHED_WINDOW = (2019, 2024)  # issue 12: trends over the published years 2019-2024
PP = "pp a year"
PCT = "% a year"


# ----------------------------------------------------------------------------------------------
# How each measure is computed from a run (England or world totals)
# ----------------------------------------------------------------------------------------------
def _total(ds: xr.Dataset, name: str, labels: Sequence[str] = ()) -> xr.DataArray:
    """``name`` summed over LAs (and over ``labels`` of its extra dimension), in float64."""
    da = ds[name].astype("float64")
    if labels:
        dim = str(da.dims[2])
        da = da.sel({dim: list(labels)}).sum(dim)
    return da.sum("la")


def _by_year(ds: xr.Dataset, da: xr.DataArray, kind: str) -> np.ndarray:
    """A weekly stock at each 31 March of the run (the last week of each statistical year), or a
    weekly flow summed over each complete statistical year."""
    if kind == "stock":
        return np.asarray(da.sel(time=ds["year"].values).values, dtype=float)
    years = ds["year"].dt.year.values
    return np.asarray(da.groupby(ds["stat_year"]).sum().sel(stat_year=years).values, dtype=float)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """100 x num / den, NaN where den is 0."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    return np.where(den > 0, 100.0 * num / np.where(den > 0, den, 1.0), np.nan)


# ----------------------------------------------------------------------------------------------
# The published series (rcc_sim/data/national_timeseries_2015_2023.csv)
# ----------------------------------------------------------------------------------------------
def _series(key: str) -> tuple[np.ndarray, np.ndarray]:
    s = load_national_series()[key]
    return np.asarray(s["years"], dtype=int), np.asarray(s["values"], dtype=float)


def _published(key: str) -> Callable[[], tuple[np.ndarray, np.ndarray]]:
    return lambda: _series(key)


def _published_ratio(nums: Sequence[str], den: str) -> Callable[[], tuple[np.ndarray, np.ndarray]]:
    """100 x sum of the ``nums`` series / the ``den`` series, in the years all of them have."""

    def f() -> tuple[np.ndarray, np.ndarray]:
        parts = [dict(zip(*_series(k))) for k in nums]
        d = dict(zip(*_series(den)))
        years = sorted(set(d).intersection(*parts))
        vals = [100.0 * sum(p[y] for p in parts) / d[y] for y in years]
        return np.array(years, dtype=int), np.array(vals, dtype=float)

    return f


@dataclass(frozen=True)
class Measure:
    """One trend band: what is measured, how, its band, and the published series it is set against.

    The model value is ``num`` (summed over LAs and over ``labels`` of its extra dimension), or
    with ``den`` the per cent 100 x num / den; ``kind`` says whether it is read at 31 March
    (``stock``) or summed over the statistical year (``flow``)."""

    key: str
    label: str
    unit: str  # PP (shares, in per cent: slope in percentage points a year) or PCT (counts: log-linear)
    lo: float | None  # the band (None: reported without a band)
    hi: float | None
    num: str
    den: str | None = None
    labels: tuple[str, ...] = ()
    kind: str = "stock"
    how: str = ""  # how the model value is computed, in words
    published: Callable[[], tuple[np.ndarray, np.ndarray]] | None = None  # -> (years, values)
    published_how: str = ""
    note: str = ""

    @property
    def level_unit(self) -> str:
        return "%" if self.den else "count"

    def values(self, ds: xr.Dataset) -> tuple[float, np.ndarray]:
        """(value at the end of week 1 - NaN for a flow -, value in each statistical year of ``ds``)."""
        num = _total(ds, self.num, self.labels)
        den = _total(ds, self.den) if self.den else None
        yearly = _by_year(ds, num, self.kind)
        if den is not None:
            yearly = _ratio(yearly, _by_year(ds, den, self.kind))
        if self.kind != "stock":
            return float("nan"), yearly
        first = float(num.isel(time=0))
        if den is not None:
            first = float(_ratio(np.array([first]), np.array([float(den.isel(time=0))]))[0])
        return first, yearly


MEASURES: tuple[Measure, ...] = (
    Measure(
        "over_20_miles",
        "Share placed over 20 miles from home",
        PP,
        -0.5,
        1.0,
        num="over_20_miles",
        den="located",
        how="100 x over_20_miles / located at 31 March",
        published=_published("cla_dist_over20mi_pct"),
        published_how="DfE CLA, % of children looked after at 31 March placed more than 20 miles from home "
        "(cla_dist_over20mi_pct)",
        note="DfE's denominator is all children in care (9% 'not known' in 2023), the model's the located "
        "children. The shipped series has no 2017-2019 figures.",
    ),
    Measure(
        "outside_la",
        "Share placed outside the home LA",
        PP,
        0.0,
        2.0,
        num="outside_la",
        den="located",
        how="100 x outside_la / located at 31 March",
        published=_published("cla_outside_la_boundary_pct"),
        published_how="DfE CLA, % of children looked after at 31 March placed outside the LA boundary "
        "(cla_outside_la_boundary_pct)",
        note="Denominators differ as for distance. The shipped series has no 2017-2019 figures.",
    ),
    Measure(
        "family_based",
        "Family-based care share",
        PP,
        -2.0,
        0.0,
        num="family_based",
        den="children_in_care",
        how="100 x family_based / children_in_care at 31 March (kinship, in-house and IFA foster, with "
        "parents, placed for adoption)",
        published=_published_ratio(
            ("cla_place_foster_n", "cla_place_placed_for_adoption_n", "cla_place_with_parents_n"),
            "cla_stock_31mar_n",
        ),
        published_how="DfE CLA, (foster + placed for adoption + placed with parents) / children looked after "
        "at 31 March (cla_place_foster_n, cla_place_placed_for_adoption_n, cla_place_with_parents_n, "
        "cla_stock_31mar_n)",
        note="DfE's current placement categories start in 2020; foster care alone (cla_place_foster_pct) "
        "went 71% -> 68% over 2020-2023 (-1.0 pp a year).",
    ),
    Measure(
        "mainstream_households",
        "Mainstream fostering households",
        PCT,
        -4.0,
        -0.5,
        num="carers",
        labels=("in_house", "ifa"),
        how="carers of kinds in_house + ifa (approved households) at 31 March; log-linear",
        published=_published("ofsted_fostering_households_mainstream"),
        published_how="Ofsted Fostering in England, mainstream fostering households at 31 March "
        "(ofsted_fostering_households_mainstream, as quoted by Community Care; no 2020 figure)",
    ),
    Measure(
        "childrens_homes",
        "Children's homes",
        PCT,
        3.0,
        12.0,
        num="homes",
        labels=("la_home", "private_home"),
        how="homes of kinds la_home + private_home open at 31 March; log-linear",
        published=_published("ofsted_childrens_homes_providers"),
        published_how="Ofsted, children's homes at 31 March (ofsted_childrens_homes_providers: children's "
        "homes only, without secure homes and residential special schools)",
    ),
    Measure(
        "children_in_homes_and_secure",
        "Children in children's homes and secure homes",
        PCT,
        2.0,
        9.0,
        num="placements",
        labels=("la_home", "private_home", "secure"),
        how="placements of types la_home + private_home + secure at 31 March; log-linear",
        published=_published("cla_place_secure_and_childrens_homes_n"),
        published_how="DfE CLA, children looked after at 31 March in secure homes and children's homes "
        "(cla_place_secure_and_childrens_homes_n)",
        note="Not published for 2019 in the current categories.",
    ),
    Measure(
        "waiting_or_unregistered",
        "Children waiting or unregistered, share of children in care",
        PP,
        -0.3,
        0.3,
        num="waiting",
        den="children_in_care",
        how="100 x waiting / children_in_care at 31 March (waiting: children in an emergency/unregistered "
        "holding placement)",
        published=_published_ratio(("ofsted_children_in_unregistered_homes_n",), "cla_stock_31mar_n"),
        published_how="Ofsted, children placed in confirmed unregistered children's homes / DfE children "
        "looked after at 31 March (ofsted_children_in_unregistered_homes_n, cla_stock_31mar_n)",
        note="Band: within 0.3 pp a year of its starting share, taken as a slope in [-0.3, +0.3] pp a year. "
        "The published count is secondary (confirmed unregistered homes only) and starts in 2021.",
    ),
    Measure(
        "new_placements_outside_la_over_20_miles",
        "New placements outside the LA and over 20 miles",
        PP,
        None,
        None,
        num="new_placements_outside_la_over_20_miles",
        den="new_placements",
        kind="flow",
        how="100 x new_placements_outside_la_over_20_miles / new_placements, each summed over the "
        "statistical year (DfE's new-placements measure)",
        note="No band, and no published series shipped.",
    ),
    Measure(
        "in_home_region",
        "Share placed inside the home region",
        PP,
        None,
        None,
        num="in_home_region",
        den="children_in_care",
        how="100 x in_home_region / children_in_care at 31 March",
        note="No band; SESLIP Briefing 002 (DfE via FOI): England 86.4% at 31 March 2023 "
        "(rcc_sim.data.load_own_region_2023).",
    ),
)


# ----------------------------------------------------------------------------------------------
# Fitting
# ----------------------------------------------------------------------------------------------
def slope(years: ArrayLike, values: ArrayLike, unit: str) -> float:
    """Yearly trend of ``values``: OLS slope in units a year (``PP``) or log-linear compound growth
    in per cent a year (``PCT``). NaN with fewer than two finite points (or a count <= 0)."""
    x = np.asarray(years, dtype=float)
    y = np.asarray(values, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    if unit == PCT:
        ok &= y > 0
        y = np.log(np.where(ok, y, 1.0))
    if ok.sum() < 2:
        return float("nan")
    b = float(np.polyfit(x[ok], y[ok], 1)[0])
    return 100.0 * math.expm1(b) if unit == PCT else b


def inside(value: float, lo: float | None, hi: float | None) -> bool | None:
    """Whether ``value`` lies in the band [lo, hi] (to within 1e-9: a flat series' fitted slope is
    0 up to rounding); None without a band or a value."""
    if lo is None or hi is None or not np.isfinite(value):
        return None
    return bool(lo - 1e-9 <= value <= hi + 1e-9)


@dataclass
class PublishedTrend:
    slope: float
    years: list[int]
    values: list[float]


def published_trend(m: Measure, window: tuple[int, int] = PUBLISHED_WINDOW) -> PublishedTrend | None:
    """The measure's published trend over the years of ``window`` the shipped series has."""
    if m.published is None:
        return None
    years, values = m.published()
    keep = (years >= window[0]) & (years <= window[1]) & np.isfinite(values)
    ys, vs = years[keep], values[keep]
    return PublishedTrend(slope(ys, vs, m.unit), [int(y) for y in ys], [float(v) for v in vs])


@dataclass
class MeasureTrend:
    """One measure over several seeds: values at each 31 March, the fitted trend, the band check."""

    measure: Measure
    years: list[int]  # the 31 Marches of the run
    start: list[float]  # per seed: the value at the end of week 1 (not part of the fit)
    values: np.ndarray  # (seed, year)
    slopes: np.ndarray  # (seed,)
    published: PublishedTrend | None = None

    @property
    def mean(self) -> np.ndarray:
        return np.nanmean(self.values, axis=0) if len(self.values) else np.array([])

    @property
    def slope(self) -> float:
        return float(np.nanmean(self.slopes)) if np.isfinite(self.slopes).any() else float("nan")

    @property
    def sd(self) -> float:
        ok = self.slopes[np.isfinite(self.slopes)]
        return float(np.std(ok, ddof=1)) if len(ok) > 1 else float("nan")

    @property
    def inside(self) -> bool | None:
        return inside(self.slope, self.measure.lo, self.measure.hi)

    def to_dict(self) -> dict:
        m = self.measure
        return {
            "key": m.key,
            "label": m.label,
            "unit": m.unit,
            "band": None if m.lo is None else [m.lo, m.hi],
            "how": m.how,
            "years": self.years,
            "start_week1_per_seed": self.start,
            "values_per_seed": self.values.tolist(),
            "mean_by_year": self.mean.tolist(),
            "slopes_per_seed": self.slopes.tolist(),
            "slope_mean": self.slope,
            "slope_sd": self.sd,
            "inside": self.inside,
            "published": None
            if self.published is None
            else {
                "slope": self.published.slope,
                "years": self.published.years,
                "values": self.published.values,
                "how": m.published_how,
            },
            "note": m.note,
        }


@dataclass
class TrendResult:
    measures: list[MeasureTrend]
    seeds: list[int] = field(default_factory=list)
    fit_from: int | None = None  # the first 31 March of the fit (None: every 31 March of the runs)

    def to_dict(self) -> dict:
        return {
            "seeds": self.seeds,
            "fit_from": self.fit_from,
            "published_window": list(PUBLISHED_WINDOW),
            "method": "OLS slope over the run's 31 March values per seed, mean and sd across seeds; "
            "shares in pp a year, counts log-linear in % a year (100*(exp(b)-1))",
            "measures": [t.to_dict() for t in self.measures],
        }


def from_base(ds: xr.Dataset) -> xr.Dataset:
    """The part of a run from its base date on (a run kept with its spin-up, ``output.include_spin_up``,
    also has the spin-up's weeks and years before it; other runs are returned as they are)."""
    if not int(ds.attrs.get("spin_up_years", 0)) or "base_date" not in ds.attrs:
        return ds
    base = np.datetime64(str(ds.attrs["base_date"]))
    return ds.isel(time=ds["time"].values > base, year=ds["year"].values > base)


def yearly_values(ds: xr.Dataset, m: Measure) -> tuple[list[int], float, np.ndarray]:
    """(31 March years, value at the end of week 1, value in each statistical year) of one run,
    from its base date on."""
    ds = from_base(ds)
    start, values = m.values(ds)
    return [int(y) for y in ds["year"].dt.year.values], start, values


RunValues = dict[str, tuple[list[int], float, np.ndarray]]  # measure key -> yearly_values of one run


def run_values(ds: xr.Dataset, measures: Sequence[Measure] = MEASURES) -> RunValues:
    """Every measure's :func:`yearly_values` of one run (what :func:`trends_of` needs of it)."""
    return {m.key: yearly_values(ds, m) for m in measures}


def trends(
    datasets: Sequence[xr.Dataset], measures: Sequence[Measure] = MEASURES, fit_from: int | None = None
) -> TrendResult:
    """Each measure at every 31 March of each run, the per-seed and mean yearly trends, and the band
    check. ``datasets``: one status-quo run per seed, all over the same years. ``fit_from``: fit only
    the 31 Marches of that year and later (a diagnostic: the trend once a transient has passed)."""
    if not datasets:
        raise ValueError("trends needs at least one run")
    seeds = [int(ds.attrs["seed"]) if "seed" in ds.attrs else k for k, ds in enumerate(datasets)]
    return trends_of([run_values(ds, measures) for ds in datasets], seeds, measures, fit_from)


def trends_of(
    runs: Sequence[RunValues], seeds: Sequence[int], measures: Sequence[Measure] = MEASURES, fit_from: int | None = None
) -> TrendResult:
    """:func:`trends` from each run's :func:`run_values` (so a caller need not keep the Datasets)."""
    if not runs:
        raise ValueError("trends needs at least one run")
    out = []
    for m in measures:
        starts, rows, years = [], [], None
        for values in runs:
            y, s, v = values[m.key]
            if years is None:
                years = y
            elif y != years:
                raise ValueError(f"runs cover different years: {years} vs {y}")
            starts.append(s)
            rows.append(v)
        vals = np.array(rows, dtype=float).reshape(len(runs), len(years or []))
        fit = np.array([fit_from is None or y >= fit_from for y in years or []], dtype=bool)
        slopes = np.array([slope(np.asarray(years or [])[fit], r[fit], m.unit) for r in vals])
        out.append(MeasureTrend(m, years or [], starts, vals, slopes, published_trend(m)))
    return TrendResult(out, list(seeds), fit_from)


# ----------------------------------------------------------------------------------------------
# Tables
# ----------------------------------------------------------------------------------------------
def _fmt_level(v: float, m: Measure) -> str:
    if not np.isfinite(v):
        return "-"
    return f"{v:.1f}" if m.unit == PP else f"{v:,.0f}"


def _signed(v: float) -> str:
    return "0" if v == 0 else f"{v:+g}"


def _fmt_slope(v: float) -> str:
    return f"{v:+.2f}" if np.isfinite(v) else "-"


def yearly_table(result: TrendResult) -> str:
    """Markdown: each measure at the end of week 1 and at each 31 March, mean over seeds."""
    years = result.measures[0].years if result.measures else []
    head = "| measure | unit | week 1 | " + " | ".join(str(y) for y in years) + " |"
    rule = "|---|---|---:|" + "---:|" * len(years)
    lines = [head, rule]
    for t in result.measures:
        start = float(np.nanmean(t.start)) if np.isfinite(t.start).any() else float("nan")
        cells = [_fmt_level(v, t.measure) for v in t.mean]
        lines.append(
            f"| {t.measure.label} | {t.measure.level_unit} | {_fmt_level(start, t.measure)} | "
            + " | ".join(cells)
            + " |"
        )
    return "\n".join(lines)


def trend_table(result: TrendResult) -> str:
    """Markdown: model trend (mean +- sd over seeds), band, published trend (years), inside or not."""
    since = "" if result.fit_from is None else f" from {result.fit_from}"
    lines = [
        f"| measure | unit | model trend{since} (mean +- sd) | band | published trend (years) | inside band |",
        "|---|---|---:|---:|---:|---|",
    ]
    for t in result.measures:
        m = t.measure
        band = "-" if m.lo is None or m.hi is None else f"{_signed(m.lo)} to {_signed(m.hi)}"
        if t.published is None or not t.published.years:
            pub = "-"
        else:
            ys = t.published.years
            contiguous = len(ys) > 2 and ys == list(range(ys[0], ys[-1] + 1))
            span = f"{ys[0]}-{ys[-1]}" if contiguous else ", ".join(str(y) for y in ys)
            pub = f"{_fmt_slope(t.published.slope)} ({span})"
        verdict = {True: "inside", False: "**outside**", None: "-"}[t.inside]
        lines.append(
            f"| {m.label} | {m.unit} | {_fmt_slope(t.slope)} +- {t.sd:.2f} | {band} | {pub} | {verdict} |"
            if np.isfinite(t.sd)
            else f"| {m.label} | {m.unit} | {_fmt_slope(t.slope)} | {band} | {pub} | {verdict} |"
        )
    return "\n".join(lines)


def frame(result: TrendResult):
    """The banded measures as a table for the validation page (a pandas DataFrame): trend (mean and
    sd over seeds), band, published trend, and ``inside band`` (true/false: listed when false)."""
    import pandas as pd

    recs = []
    for t in result.measures:
        m = t.measure
        if m.lo is None or m.hi is None:
            continue
        pub = t.published
        recs.append(
            {
                "measure": m.label,
                "unit": m.unit,
                "model trend (mean)": round(t.slope, 2),
                "sd over seeds": round(t.sd, 2) if np.isfinite(t.sd) else float("nan"),
                "band": f"{_signed(m.lo)} to {_signed(m.hi)}",
                "published trend": round(pub.slope, 2) if pub is not None and pub.years else float("nan"),
                "published years": f"{pub.years[0]}-{pub.years[-1]}" if pub is not None and pub.years else "-",
                "inside band": bool(t.inside),
            }
        )
    return pd.DataFrame.from_records(recs)


def own_region_2023() -> float:
    """England's published share placed inside the home region, 31 March 2023 (per cent)."""
    e = load_own_region_2023()["England"]
    return 100.0 * e["cla_placed_in_own_region"] / e["cla_31mar"]


def markdown(result: TrendResult, title: str = "Status-quo trends against the published trends") -> str:
    """Both tables with the method and the notes on each published series."""
    n = len(result.seeds)
    notes = "\n".join(
        f"- **{t.measure.label}**: model {t.measure.how}."
        + (f" Published: {t.measure.published_how}." if t.measure.published_how else "")
        + (f" {t.measure.note}" if t.measure.note else "")
        for t in result.measures
    )
    return (
        f"# {title}\n\n"
        f"Seeds {result.seeds} ({n} runs). Values at 31 March, mean over seeds; week 1 is the end of the "
        "first simulated week (not part of the fit).\n\n"
        f"{yearly_table(result)}\n\n"
        "Trend: OLS slope over the run's 31 March values, fitted per seed; mean +- seed-to-seed sd. Shares "
        "in percentage points a year, counts log-linear (compound % a year). Published trend: the same fit "
        f"on the shipped published series over {PUBLISHED_WINDOW[0]}-{PUBLISHED_WINDOW[1]}; no 2024 figure "
        "is shipped, so it uses the years of 2019-2023 the series has (listed).\n\n"
        f"{trend_table(result)}\n\n"
        f"Notes\n\n{notes}\n"
    )


__all__ = [
    "MEASURES",
    "PCT",
    "PP",
    "Measure",
    "MeasureTrend",
    "TrendResult",
    "inside",
    "markdown",
    "published_trend",
    "slope",
    "trend_table",
    "trends",
    "yearly_table",
    "yearly_values",
]
