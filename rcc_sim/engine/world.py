"""The geography: local authorities, their points, distances, and which LAs a run simulates.

A *world* is the set of LAs simulated in full (children, in-house carers, LA homes). England is
all 153. In a smaller world (e.g. ``greater_manchester``) the rest of England is kept as the
**outside market** in a simplified form: its IFA carers, private and voluntary homes, supported
accommodation and secure homes exist at their real places, with a share of their places taken by
the outside LAs' own children (drawn once, at the national occupancy, and held fixed); the
world's LAs buy the remaining places on the spot market. Outside supply does not recruit, open
or close; the outside LAs' children are not simulated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Final, Protocol

import numpy as np
from mypy_extensions import mypyc_attr

from rcc_sim.config import Config
from rcc_sim.data import (
    YEARS,
    load_la_series,
    load_las,
    load_lsoa_points,
    load_national_series,
    load_starts_table,
    load_targets,
)
from rcc_sim.engine.forecast import forecast_from_table
from rcc_sim.vocab import RADIANS_PER_DEGREE


class SupportsRandom(Protocol):
    """Anything with ``random()`` -> U(0, 1): a numpy Generator or a buffered stream."""

    def random(self) -> float: ...


EARTH_RADIUS_MILES: Final = 3958.8  # mean Earth radius (IUGG)
_asin: Final = math.asin  # a C static when compiled (mypyc has no native asin: see streams._log1p)


def haversine_miles(lat1, lon1, lat2, lon2):
    """Great-circle distance in miles; works on numpy arrays or floats."""
    lat1, lon1, lat2, lon2 = map(np.radians, (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * np.arcsin(np.sqrt(a))


def miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Scalar great-circle distance in miles (math, not numpy: fast for one pair)."""
    # x RADIANS_PER_DEGREE is math.radians (the same bits), which the compiled engine cannot inline
    p1, p2, dlon = lat1 * RADIANS_PER_DEGREE, lat2 * RADIANS_PER_DEGREE, (lon2 - lon1) * RADIANS_PER_DEGREE
    # math.pow(s, 2.0), not s ** 2: the same C pow() (the same bits), which the compiled engine
    # calls natively (** boxes both floats and dispatches through Python's number protocol)
    a = math.pow(math.sin((p2 - p1) / 2), 2.0) + math.cos(p1) * math.cos(p2) * math.pow(math.sin(dlon / 2), 2.0)
    return 2 * EARTH_RADIUS_MILES * _asin(math.sqrt(a))


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # see rcc_sim.engine.compiled
@dataclass
class World:
    """Static geography of a run. LA index i refers to the arrays below (all 153 English LAs)."""

    codes: np.ndarray
    names: np.ndarray
    regions: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    child_population: np.ndarray
    stock: np.ndarray  # children in care at the base date, per LA
    starts_table: dict[int, np.ndarray]  # published starts per LA by year ending 31 March
    start_year: int  # the model starts at 31 March of this year (the base year, or earlier with a spin-up)
    starts_until: int  # last published year the run may read (starts; ceased for the exit rates)
    base_year: int  # the base date is 31 March of this year (outputs begin there)
    exit_rate_ratio: np.ndarray  # per LA: published exit rate over England's (Demand turns it into hazard multipliers)
    simulated: np.ndarray  # bool: LA simulated in full
    points: list[np.ndarray]  # per LA: (n, 2) small-area points (lat, lon)
    la_distance: np.ndarray  # (153, 153) miles between LA points
    neighbours: np.ndarray  # (153, 153) LA indices sorted by distance (self first)
    name: str
    starts_source: str = "published"  # demand.starts_source: 'forecast' or 'published'
    forecast_options: dict = field(default_factory=dict)  # method and settings of forecast_from_table
    # year ending 31 March -> the UASC share of starts relative to the base year's (uasc_factors)
    uasc_factor_table: dict[int, float] = field(default_factory=dict)
    _forecast: np.ndarray = field(init=False, repr=False, default_factory=lambda: np.zeros((0, 0)))

    def __post_init__(self) -> None:
        # per LA: [(other LA, miles)] nearest first, as plain Python for the search's inner loop
        self.point_lists = [[(float(a), float(b)) for a, b in p] for p in self.points]
        self.neighbour_list = [
            [(int(j), float(self.la_distance[i, j])) for j in self.neighbours[i]] for i in range(len(self.codes))
        ]

    @property
    def n_la(self) -> int:
        return len(self.codes)

    @property
    def sim_index(self) -> np.ndarray:
        """Indices of the simulated LAs, in file order: the ``la`` dimension of the outputs."""
        return np.flatnonzero(self.simulated)

    def starts_by_year(self, year_index: int) -> np.ndarray:
        """Starts per LA (children a year) in simulated year ``year_index`` (0 = the year to
        31 March ``start_year + 1``). ``forecast``: forecast ``year_index + 1`` years ahead from the
        published years up to ``starts_until`` (= the base year) only (:mod:`rcc_sim.engine.forecast`).
        ``published``: the realised published figure of that year, the latest published year standing
        in for later years (a diagnostic: it sees the future when the base year is not the last)."""
        year = self.start_year + year_index + 1
        if self.starts_source == "published" or year <= self.base_year:  # the spin-up's years: the past
            return self.starts_table[min(year, max(self.starts_table))]
        ahead = year - self.base_year - 1  # 0 = the first year after the base date
        if ahead >= len(self._forecast):  # made once per run (and again if a longer one is asked)
            horizon = max(ahead + 1, 2 * len(self._forecast))
            self._forecast = forecast_from_table(self.starts_table, self.starts_until, horizon, **self.forecast_options)
        return self._forecast[ahead]

    def uasc_factor(self, year_index: int) -> float:
        """The UASC share of starts in simulated year ``year_index`` relative to the base year's
        (``demand.uasc_share_of_starts`` is set for the base year): from :func:`uasc_factors` in
        the spin-up's years, 1 from the base year on (ASSUMPTION: the base year's share holds)."""
        return self.uasc_factor_table.get(self.start_year + year_index + 1, 1.0)

    def region_index(self) -> dict[str, np.ndarray]:
        return {r: np.flatnonzero(self.regions == r) for r in dict.fromkeys(self.regions)}

    def nearby_la(self, la: int, rng: SupportsRandom) -> int:
        """One of the five LAs nearest to ``la`` (not ``la`` itself), uniformly: where a carer of
        the LA who lives outside it lives (ASSUMPTION: near)."""
        return self.neighbour_list[la][1 + int(rng.random() * 5)][0]

    def random_point(self, la: int, rng: SupportsRandom) -> tuple[float, float]:
        """One small-area point of the LA, uniformly (scalar fast path of :meth:`sample_points`)."""
        pts = self.point_lists[la]
        return pts[int(rng.random() * len(pts))]

    def sample_points(self, la: int, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` points drawn uniformly from the LA's small areas (approximately where people live)."""
        pts = self.points[la]
        return pts[rng.integers(0, len(pts), size=n)]


EXIT_RATE_YEARS: Final = 3  # the per-LA ceased rate is taken over the last three published years to ``until``


def _exit_rate_ratio(las: dict, cfg: Config, until: int) -> np.ndarray:
    """Per-LA exit rate relative to England's, from published figures up to ``until`` (1 where
    nothing is published; all 1 with ``exits.by_la`` off). :class:`~rcc_sim.engine.processes.demand.Demand`
    turns it into the LA's exit-hazard multiplier (``exits.by_la_steady_state``).

    ``ceased_rate`` (default): the LA's children ceasing per child in care (ceased in the year over
    the mean of the stocks at its two ends, over the last ``EXIT_RATE_YEARS`` published years to
    ``until``: 2022-2024 for a base date in 2024; the per-LA series 2016-2023 for earlier ones) over
    the exit rate the national hazards were fitted to (starts/stock of the calibration targets, DfE
    CLA 2024: in steady state the exit rate). This follows LAs, and years, in which the stock grows
    or shrinks. ``stock_per_start``: England's stock/starts over the LA's, both over the table's
    years to ``until`` (a steady-state method of moments).
    """
    n = len(las["code"])
    if not cfg.exits.by_la:
        return np.ones(n)
    if cfg.exits.by_la_method == "ceased_rate":
        stock, ceased = published_stock(las), published_ceased(las)
        pairs = [y for y in sorted(ceased) if y <= until and y - 1 in stock][-EXIT_RATE_YEARS:]
        if not pairs:
            return np.ones(n)  # nothing published by ``until`` to compare: England's hazards
        num = sum(ceased[y] for y in pairs)
        den = sum((stock[y - 1] + stock[y]) / 2 for y in pairs)
        t = load_targets()
        national = float(t["cla_starts"]["value"]) / float(t["cla_stock"]["value"])
    else:
        years = [y for y in YEARS if y <= until]
        if not years:
            return np.ones(n)
        num = sum(np.nan_to_num(las[f"starts_{y}"]) for y in years)
        den = sum(np.nan_to_num(las[f"stock_{y}"]) for y in years)
        national = num.sum() / den.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((num > 0) & (den > 0), (num / den) / national, 1.0)


def published_counts(las: dict[str, np.ndarray], measure: str) -> dict[int, np.ndarray]:
    """A per-LA published count (``stock`` at 31 March, ``ceased`` in the year to it), 2016-2024:
    the 2021-2024 table where it has the year (revised figures), else the per-LA series
    (:func:`rcc_sim.data.load_la_series`); NaN where not published."""
    series = load_la_series()
    out = {int(y): series[measure][:, k].astype(float) for k, y in enumerate(series["years"])}
    out.update({y: las[f"{measure}_{y}"].astype(float) for y in YEARS})
    return out


def published_stock(las: dict[str, np.ndarray]) -> dict[int, np.ndarray]:
    """Children in care at 31 March per LA, 2016-2024 (:func:`published_counts`); not published: 0."""
    return {y: np.nan_to_num(v) for y, v in published_counts(las, "stock").items()}


def published_ceased(las: dict[str, np.ndarray]) -> dict[int, np.ndarray]:
    """Children ceasing care in the year to 31 March per LA, 2016-2024; not published: 0."""
    return {y: np.nan_to_num(v) for y, v in published_counts(las, "ceased").items()}


def uasc_factors(base_year: int) -> dict[int, float]:
    """Year ending 31 March -> the UASC share of starts that year relative to the base year's, for
    the years before the latest published UASC stock up to the base year: the published UASC
    stock at 31 March that year over that latest one (DfE CLA via LAIT, UASC at 31 March
    2016-2023: 4,340-7,410; national_timeseries). ASSUMPTION: the share of starts moves with the
    stock, as in the model, where UASC arrive at 16-17 and leave at 18, a year later on average.
    (The published UASC share of starts, 11% in 2020 and 22% in 2023, moved faster than the stock
    because UASC stayed longer in 2020; the model's durations do not change, so scaling by it gave
    a UASC stock 30% under the published one in 2017-2023.)"""
    stock = load_national_series()["lait_cla_uasc_31mar_n"]
    n = {int(y): float(v) for y, v in zip(stock["years"], stock["values"]) if np.isfinite(v) and y <= base_year}
    if not n:
        return {}
    latest = max(n)
    return {y: v / n[latest] for y, v in n.items() if y < latest}


def build_world(cfg: Config) -> World:
    las = load_las()
    pts_by_code = load_lsoa_points()
    codes = las["code"]
    base = cfg.sim.start_year
    year = base - cfg.sim.spin_up_years  # the model's first day (31 March)
    simulated = np.ones(len(codes), dtype=bool) if not cfg.world.la_codes else np.isin(codes, cfg.world.la_codes)
    points = []
    for i, c in enumerate(codes):
        p = pts_by_code.get(c)
        points.append(p if p is not None and len(p) else np.array([[las["lat"][i], las["lon"][i]]]))
    lat, lon = las["lat"], las["lon"]
    dist = haversine_miles(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    neighbours = np.argsort(dist, axis=1, kind="stable")
    starts_table = load_starts_table()
    d = cfg.demand
    # what the run may know: forecast - the published years up to the base year; published - all of them
    starts_until = base if d.starts_source == "forecast" else max(starts_table)
    options = {"method": d.starts_forecast, "years": d.starts_forecast_years, "damping": d.starts_trend_damping}
    return World(
        codes=codes,
        names=las["name"],
        regions=las["region"],
        lat=lat,
        lon=lon,
        child_population=las["child_population"],
        stock=np.rint(published_stock(las)[year]).astype(int),
        starts_table=starts_table,
        start_year=year,
        base_year=base,
        simulated=simulated,
        starts_until=starts_until,
        exit_rate_ratio=_exit_rate_ratio(las, cfg, starts_until),
        points=points,
        la_distance=dist,
        neighbours=neighbours,
        name=cfg.world.name,
        starts_source=d.starts_source,
        forecast_options=options,
        uasc_factor_table=uasc_factors(base) if d.uasc_by_year else {},
    )
