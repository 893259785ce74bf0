"""The standard validation (``rcc-sim-validate``): the model against every published series.

The runs: the status quo, several seeds (:func:`run_standard`, each run cached in
``<out>/runs/<world>_seed<n>/`` and re-run only when its config or the code commit changes),
or runs already made (:func:`load_runs`). Everything else is plain data - functions that take a
run's Dataset, or tables made from them, and return tables:

* :func:`summarise` turns one run into its yearly measures (:func:`model_yearly`, national, and
  :func:`model_yearly_la`, per LA) and its base-year fit (:func:`base_year_rows`);
  :func:`combine` stacks the runs' summaries over seeds (dim ``replicate``).
* :func:`published` gives a measure's published series (national, or summed over the simulated
  LAs where the data are per LA) on the same axis: the statistical year, named by the 31 March
  it ends on.
* :func:`levels` compares the model with each published series (:class:`Level`), :func:`la_fits`
  each LA's value (:class:`LaFit`), and :func:`not_reproduced` says in plain words what the
  model does not reproduce, from those numbers and from any trend-band or forecast tables given.

A model year is compared with the published year of the same date where both exist, else the
model's first year with the latest published year (and the tables say which).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr

from rcc_sim.data import load_la_series, load_las, load_national_series, load_targets

RUNS_DIR = "runs"
PAGE_FILE = "index.html"
DEFAULT_YEARS = 10.0
DEFAULT_SEEDS = 3
# the calibration's acceptance bands for the base-year fit (experiments/face_validity.py)
BASE_BAND_COUNT_PCT = 5.0
BASE_BAND_SHARE_PP = 2.0
# per-LA fit: below this correlation the model does not reproduce which LAs are high and which low
LA_MIN_CORRELATION = 0.5
# a coarse trend check (the trend-band table, when given, is the formal one): the model's change a
# year against the published change a year over the last five published years, judged when both
# have at least three years
TREND_TOLERANCE_SHARE_PP = 1.0  # percentage points a year
TREND_TOLERANCE_COUNT_PCT = 3.0  # per cent a year
TREND_MIN_YEARS = 3

FOSTER = ["kinship_foster", "in_house_foster", "ifa_foster"]
RESIDENTIAL = ["la_home", "private_home", "secure"]
HOMES = ["la_home", "private_home"]


class ValidationError(Exception):
    """The runs cannot be validated; the message names the path or what is missing."""


# ---------------------------------------------------------------------------------------------
# The model's yearly measures
# ---------------------------------------------------------------------------------------------
class Years:
    """A run's complete statistical years (April to 31 March, named by the year they end) and
    sums over them: a stock at 31 March (:meth:`end`), a yearly variable (:meth:`annual`), a
    flow over the year (:meth:`flow`), child-weeks in placements (:meth:`weeks`). Each returns an
    array (year,) summed over LAs, or (year, la) with ``by_la``."""

    def __init__(self, ds: xr.Dataset, by_la: bool = False):
        self.ds, self.by_la = ds, by_la
        ends = ds["year"].values if "year" in ds.dims else np.array([], dtype="datetime64[s]")
        self.years = np.array([int(str(e)[:4]) for e in ends], dtype=int)
        stat = ds["stat_year"].values
        self.masks = [stat == y for y in self.years]
        self.end_index = np.array([np.flatnonzero(m)[-1] for m in self.masks], dtype=int)
        self.keep = ("la",) if by_la else ()

    def _reduce(self, da: xr.DataArray, first: str, sel: dict) -> np.ndarray:
        if sel:
            da = da.sel(sel)
        drop = [d for d in da.dims if d != first and d not in self.keep]
        return da.sum(drop).transpose(first, *self.keep).values.astype(float)

    def end(self, var: str, **sel) -> np.ndarray:
        if not len(self.years):
            return self._empty()
        return self._reduce(self.ds[var].isel(time=self.end_index), "time", sel)

    def annual(self, var: str, **sel) -> np.ndarray:
        if not len(self.years):
            return self._empty()
        return self._reduce(self.ds[var], "year", sel)

    def flow(self, var: str, **sel) -> np.ndarray:
        if not len(self.years):
            return self._empty()
        per_week = self._reduce(self.ds[var], "time", sel)
        return np.stack([per_week[m].sum(0) for m in self.masks])

    def weeks(self, **sel) -> np.ndarray:
        """Child-weeks in the placements ``sel`` selects, in each year."""
        if not len(self.years):
            return self._empty()
        t = self.ds["time"].values
        base = np.datetime64(self.ds.attrs.get("base_date", str(t[0] - np.timedelta64(7, "D"))[:10]))
        days = np.diff(np.r_[base, t].astype("datetime64[s]")) / np.timedelta64(1, "D")
        per_week = self._reduce(self.ds["placements"], "time", sel)
        w = (days / 7.0).reshape((-1,) + (1,) * (per_week.ndim - 1))
        return np.stack([(per_week * w)[m].sum(0) for m in self.masks])

    def _empty(self) -> np.ndarray:
        return np.zeros((0, self.ds.sizes["la"])) if self.by_la else np.zeros(0)


def _ratio(num: np.ndarray, den: np.ndarray, scale: float = 100.0) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, scale * num / np.where(den > 0, den, 1.0), np.nan)


def _outside_over20(y: Years) -> np.ndarray:
    """Placed outside the LA *and* over 20 miles from home: the run's own variable if it has one,
    else over 20 miles (an upper bound: the model records the two separately)."""
    var = "outside_la_over_20_miles" if "outside_la_over_20_miles" in y.ds else "over_20_miles"
    return _ratio(y.end(var), y.end("located"))


@dataclass(frozen=True)
class Measure:
    """A measure with a published series: how the model computes it and how it is compared.

    ``kind`` "count": compared by % difference; "share" (in %): by percentage points.
    ``published``: national series keys (:func:`rcc_sim.data.load_national_series`), the first
    preferred where two give the same year; ``target``: (numerator, denominator or None) keys of
    the national calibration targets, the published figure for the year to 31 March 2024;
    ``la``: the per-LA series (:func:`rcc_sim.data.load_la_series`) where there is one."""

    key: str
    label: str
    unit: str
    kind: str
    group: str
    published: tuple[str, ...]
    model: Callable[[Years], np.ndarray]
    tolerance: float  # % (counts) or percentage points (shares)
    target: tuple[str, str | None] | None = None
    la: str | None = None
    scale: float = 1.0  # published value x scale = the unit shown
    comparable: bool = True  # False: shown for context, the definitions differ too much to judge
    note: str = ""
    judge_trend: bool = True  # False: the trends differ by construction (model in 2024 prices, published in cash)


GROUPS = {
    "children": "Children in care: stock and flows",
    "distance": "Distance from home and placement outside the LA",
    "stability": "Placement stability",
    "placements": "Where children live",
    "fostering": "Fostering households (Ofsted)",
    "homes": "Children's homes (Ofsted)",
    "money": "Unit costs and spend",
    "market": "Market health (CMA children's social care market study)",
}

DIST_NOTE = (
    "Model: share of children in a placement with a known location (all placed children except those "
    "placed for adoption and in other settings); DfE: share of all children in care, including those whose "
    "location is not known (9% in 2023)."
)
PRICE_NOTE = (
    "Model in 2024 prices; published in cash terms of each year (no uprating): a model year after 2024 "
    "compared with 2023 also carries price growth, and the trends are not compared."
)

MEASURES: tuple[Measure, ...] = (
    Measure(
        "stock",
        "Children in care at 31 March",
        "children",
        "count",
        "children",
        ("cla_stock_31mar_n", "lait_cla_stock_31mar_n"),
        lambda y: y.annual("children_in_care_31mar"),
        5.0,
        ("cla_stock", None),
        la="stock",
    ),
    Measure(
        "starts",
        "Children starting to be looked after in the year",
        "children a year",
        "count",
        "children",
        ("cla_starts_n", "lait_cla_starts_n"),
        lambda y: y.flow("starts"),
        5.0,
        ("cla_starts", None),
        la="starts",
    ),
    Measure(
        "ceased",
        "Children ceasing to be looked after in the year",
        "children a year",
        "count",
        "children",
        ("cla_ceased_n", "lait_cla_ceased_n"),
        lambda y: y.flow("ceased"),
        5.0,
        ("cla_ceased", None),
        la="ceased",
    ),
    Measure(
        "uasc",
        "Unaccompanied asylum-seeking children in care at 31 March",
        "children",
        "count",
        "children",
        ("cla_uasc_31mar_n", "lait_cla_uasc_31mar_n"),
        lambda y: y.end("uasc"),
        10.0,
        ("uasc_stock", None),
        la="uasc",
    ),
    Measure(
        "over_20_miles",
        "Placed more than 20 miles from home",
        "% of children in care",
        "share",
        "distance",
        ("cla_dist_over20mi_pct",),
        lambda y: _ratio(y.end("over_20_miles"), y.end("located")),
        2.0,
        note=DIST_NOTE,
    ),
    Measure(
        "outside_la",
        "Placed outside the LA boundary",
        "% of children in care",
        "share",
        "distance",
        ("cla_outside_la_boundary_pct",),
        lambda y: _ratio(y.end("outside_la"), y.end("located")),
        2.0,
        note=DIST_NOTE,
    ),
    Measure(
        "outside_la_over_20_miles",
        "Placed outside the LA and more than 20 miles from home",
        "% of children in care",
        "share",
        "distance",
        ("lait_cla_outside_la_and_over20mi_pct", "cla_outside_la_and_over20mi_pct"),
        _outside_over20,
        2.0,
        la="pct_outside_la_over_20mi",
        note=DIST_NOTE + " Unless the run records the two together, the model's value is the share over 20 miles, "
        "an upper bound (in 2023, 4% of children were inside their LA and over 20 miles).",
    ),
    Measure(
        "three_plus_placements",
        "Three or more placements in the year",
        "% of children in care at 31 March",
        "share",
        "stability",
        ("lait_cla_3plus_placements_in_year_pct", "cla_3plus_placements_in_year_pct"),
        lambda y: _ratio(y.annual("three_plus_placements"), y.annual("children_in_care_31mar")),
        2.0,
        la="pct_3plus_placements",
    ),
    Measure(
        "long_term_stability",
        "Long-term stability: under 16, in care 2.5 years or more, same placement 2 years or more",
        "% of those in care 2.5 years+",
        "share",
        "stability",
        ("cla_longterm_stability_u16_2p5y_same_placement_2y_pct",),
        lambda y: _ratio(y.annual("long_term_stable"), y.annual("long_term_eligible")),
        3.0,
        note="At the base date a placement is taken to have begun halfway through the time in care (no "
        "child-level histories are published), so early model years rest on that assumption.",
    ),
    Measure(
        "foster_share",
        "In foster care (kinship, in-house, agency)",
        "% of children in care",
        "share",
        "placements",
        ("cla_place_foster_pct", "lait_cla_in_foster_placements_pct"),
        lambda y: _ratio(y.end("placements", placement_type=FOSTER), y.end("children_in_care")),
        2.0,
        ("placement_foster_all", "cla_stock"),
    ),
    Measure(
        "homes_and_secure",
        "In children's homes and secure homes",
        "children",
        "count",
        "placements",
        ("cla_place_secure_and_childrens_homes_n",),
        lambda y: y.end("placements", placement_type=RESIDENTIAL),
        10.0,
        ("placement_childrens_homes_and_secure", None),
    ),
    Measure(
        "supported",
        "In independent and semi-independent / supported accommodation",
        "children",
        "count",
        "placements",
        ("cla_place_independent_semiindependent_supported_accom_n",),
        lambda y: y.end("placements", placement_type=["supported_accommodation"]),
        15.0,
        ("placement_independent_supported_accommodation", None),
    ),
    Measure(
        "with_parents",
        "Placed with parents",
        "children",
        "count",
        "placements",
        ("cla_place_with_parents_n", "cla_provider_parents_n"),
        lambda y: y.end("placements", placement_type=["with_parents"]),
        15.0,
        ("placement_with_parents", None),
    ),
    Measure(
        "placed_for_adoption",
        "Placed for adoption",
        "children",
        "count",
        "placements",
        ("cla_place_placed_for_adoption_n", "cla_place_placed_for_adoption_oldclass_n"),
        lambda y: y.end("placements", placement_type=["placed_for_adoption"]),
        15.0,
        ("placement_for_adoption", None),
    ),
    Measure(
        "unregistered",
        "In unregistered settings",
        "children",
        "count",
        "placements",
        ("ofsted_children_in_unregistered_homes_n",),
        lambda y: y.end("placements", placement_type=["unregistered"]),
        50.0,
        note="Model: children waiting in an emergency or unregistered placement; Ofsted: children in settings "
        "confirmed as unregistered children's homes (a lower bound), so a wide tolerance (50%).",
    ),
    Measure(
        "mainstream_households",
        "Mainstream fostering households (in-house and agency)",
        "households",
        "count",
        "fostering",
        ("ofsted_fostering_households_mainstream",),
        lambda y: y.end("carers", carer_kind=["in_house", "ifa"]),
        5.0,
        ("fostering_households_mainstream", None),
    ),
    Measure(
        "kinship_households",
        "Family and friends fostering households",
        "households",
        "count",
        "fostering",
        ("ofsted_fostering_households_family_friends",),
        lambda y: y.end("carers", carer_kind=["kinship"]),
        15.0,
        ("fostering_households_kinship", None),
        note="Ofsted's definition changed in 2016-17 (connected persons included from then).",
    ),
    Measure(
        "all_households",
        "All approved fostering households",
        "households",
        "count",
        "fostering",
        ("ofsted_fostering_households_total",),
        lambda y: y.end("carers"),
        5.0,
        ("fostering_households", None),
    ),
    Measure(
        "childrens_homes",
        "Children's homes (LA and independent)",
        "homes",
        "count",
        "homes",
        ("ofsted_childrens_homes_providers",),
        lambda y: y.end("homes", home_kind=HOMES),
        10.0,
        ("childrens_homes", None),
        note="The 2024 figure (Ofsted 2024) includes short-break homes; the 2012-2023 series excludes secure "
        "homes and residential special schools.",
    ),
    Measure(
        "childrens_home_places",
        "Registered places in children's homes",
        "places",
        "count",
        "homes",
        ("ofsted_childrens_homes_places",),
        lambda y: y.end("home_places", home_kind=HOMES),
        10.0,
        ("childrens_homes_places", None),
    ),
    *(
        Measure(
            f"provider_{key}",
            f"Children placed with {label} (placement provider)",
            "children at 31 March",
            "count",
            "placements",
            (f"cla_provider_{series}_n",),
            (lambda y, k=key: y.annual("placements_by_provider_31mar", provider=k)),
            10.0,
            note="Model: rcc_sim.engine.processes.placement.provider_index (placed for adoption counted as own "
            "provision, unregistered settings as private, IFAs as private). " + extra,
        )
        for key, label, series, extra in (
            ("own_la", "their own LA", "own_la", "Published: DfE CLA, placement provider 'own provision'."),
            (
                "private",
                "private providers",
                "private",
                "Published: DfE CLA, placement provider 'private'; it includes private IFAs, which are most IFAs.",
            ),
            (
                "voluntary",
                "voluntary providers",
                "voluntary_third_sector",
                "Published: DfE CLA, 'voluntary/third sector'. The model's only voluntary providers are "
                "voluntary children's homes (provision.voluntary_share_of_non_la_homes): it has no voluntary "
                "fostering agencies, so it under-counts this.",
            ),
        )
    ),
    Measure(
        "residential_unit_cost",
        "Residential care: spend per child-week (s251)",
        "GBP per child-week",
        "count",
        "money",
        ("s251_residential_care_weekly_unit_cost_gbp",),
        lambda y: _ratio(y.flow("spend", placement_type=RESIDENTIAL), y.weeks(placement_type=RESIDENTIAL), 1.0),
        15.0,
        note="Model: spend on children's homes and secure placements over child-weeks in them. " + PRICE_NOTE,
        judge_trend=False,
    ),
    Measure(
        "fostering_unit_cost",
        "Fostering: spend per child-week (s251)",
        "GBP per child-week",
        "count",
        "money",
        ("s251_fostering_weekly_unit_cost_gbp",),
        lambda y: _ratio(y.flow("spend", placement_type=FOSTER), y.weeks(placement_type=FOSTER), 1.0),
        15.0,
        note="Model: spend on kinship, in-house and agency foster placements over child-weeks in them. " + PRICE_NOTE,
        judge_trend=False,
    ),
    Measure(
        "placement_spend",
        "Spend on placements in the year",
        "GBP bn a year",
        "count",
        "money",
        ("lga_placement_spend_outturn_gbp_bn",),
        lambda y: y.flow("spend") / 1e9,
        15.0,
        note="Published: LGA estimate of LAs' spend on children's social care placements. " + PRICE_NOTE,
        judge_trend=False,
    ),
    Measure(
        "cla_spend",
        "All spend on children looked after (s251, wider than placements)",
        "GBP bn a year",
        "count",
        "money",
        ("s251_cla_gross_expenditure_gbp",),
        lambda y: y.flow("spend") / 1e9,
        15.0,
        scale=1e-9,
        comparable=False,
        note="Not like for like: s251 also counts leaving care, adoption and special guardianship support, "
        "education of children in care and more; the model counts placements only. Shown for context. " + PRICE_NOTE,
        judge_trend=False,
    ),
)


def _margin(sector: str) -> Callable[[Years], np.ndarray]:
    """Operating profit over revenue of a provider sector, in % (recorder.PROVIDER_SECTORS)."""

    def margin(y: Years) -> np.ndarray:
        return _ratio(
            y.annual("provider_profit", provider_sector=sector), y.annual("provider_revenue", provider_sector=sector)
        )

    return margin


MEASURES += tuple(
    Measure(
        f"margin_{sector}",
        f"Operating margin: {label}",
        "% of revenue",
        "share",
        "market",
        (),
        _margin(sector),
        7.5,
        (target, None),
        scale=100.0,
        note="Model: operating profit over revenue of the sector's units in the year (provider_margin; revenue "
        "includes void block places; cost from market.*_cost_ratio and *_fixed_cost_share, set so that at the "
        "reference occupancy and published price the margin is the CMA's: the model's margin moves with "
        "occupancy, needs mix and prices). Published: CMA, Children's social care market study, final report "
        "(March 2022), average operating profit margin of the largest providers over 2016-2020: " + published_text,
        judge_trend=False,
    )
    for sector, label, target, published_text in (
        (
            "private_home_large",
            "the largest private children's home groups",
            "margin_childrens_homes_largest",
            "the largest 15 children's home providers 22.6%.",
        ),
        (
            "ifa_large",
            "the largest IFA groups",
            "margin_ifa_largest",
            "the largest 15 IFAs 19.4% (the shipped target is the interim report's 19%).",
        ),
    )
)
MEASURES += (
    Measure(
        "largest_22_share",
        "Share of private children's home places held by the 22 largest groups",
        "% of private home places",
        "share",
        "market",
        (),
        lambda y: _ratio(y.annual("home_places_largest_22"), y.end("home_places", home_kind="private_home")),
        10.0,
        ("childrens_homes_largest_22_owners_share_private", None),
        scale=100.0,
        note="Model: registered places at 31 March of the 22 groups with most children's home places (the "
        "large groups the model starts with, Provider.large, unless others overtake them) over the places in "
        "private and voluntary homes. Published: Ofsted (2024), the 22 largest providers own 968 homes, 35% of "
        "private homes (a share of homes, not places). In the model new homes go to a random existing "
        "provider or a new one, and a failing large group's homes close (without financial oversight), so "
        "the large groups' share falls from the start.",
        judge_trend=False,
    ),
)
MEASURE = {m.key: m for m in MEASURES}
LA_MEASURES = tuple(
    m for m in MEASURES if m.la in ("stock", "starts", "ceased", "pct_outside_la_over_20mi", "pct_3plus_placements")
)


def model_yearly(ds: xr.Dataset) -> xr.Dataset:
    """The run's value of every measure in each complete statistical year, summed over its LAs:
    a Dataset with one variable per measure key (units in ``attrs``) and dim ``year`` (int, the
    31 March each year ends on). No complete year (a run shorter than a year): length 0."""
    y = Years(ds)
    out = {
        m.key: xr.DataArray(m.model(y), dims="year", attrs={"units": m.unit, "long_name": m.label}) for m in MEASURES
    }
    if "outside_la_over_20_miles" not in ds:
        out["outside_la_over_20_miles"].attrs["approximation"] = "the model's value is over 20 miles, an upper bound"
    return xr.Dataset(out, coords={"year": y.years})


def model_yearly_la(ds: xr.Dataset) -> xr.Dataset:
    """The per-LA measures (:data:`LA_MEASURES`) in each complete statistical year: dims (year, la)."""
    y = Years(ds, by_la=True)
    out = {m.key: xr.DataArray(m.model(y), dims=("year", "la"), attrs={"units": m.unit}) for m in LA_MEASURES}
    return xr.Dataset(out, coords={"year": y.years, "la": ds["la"].values})


# ---------------------------------------------------------------------------------------------
# The base-year fit
# ---------------------------------------------------------------------------------------------
BASE_STAT_YEAR = 2024  # the calibration targets are for the year to 31 March 2024


def base_year_view(ds: xr.Dataset) -> tuple[xr.Dataset, str]:
    """The year of ``ds`` to set against the calibration targets, and a sentence saying which:
    the year to 31 March 2024 when the run covers it (a run that starts earlier), else the run's
    first year against the latest published year, as :func:`rcc_sim.studies.validation.compare` does."""
    y = Years(ds)
    hit = np.flatnonzero(y.years == BASE_STAT_YEAR)
    if len(hit):
        k = int(hit[0])
        t = np.flatnonzero(y.masks[k])
        view = ds.isel(time=slice(int(t[0]), int(t[-1]) + 1), year=[k])
        view.attrs = {**ds.attrs, "base_date": f"{BASE_STAT_YEAR - 1}-03-31"}
        return view, f"the model's year to 31 March {BASE_STAT_YEAR}, the year of the published figures"
    first = int(y.years[0]) if len(y.years) else None
    when = f"to 31 March {first}" if first else "(the run is shorter than a year: its weeks so far)"
    return ds, (
        f"the model's first year {when} against the latest published figures (year to 31 March "
        f"{BASE_STAT_YEAR}): the run starts at its base date, so the years differ"
    )


@dataclass
class BaseRow:
    """One calibration target against the model, over seeds."""

    key: str
    label: str
    published: float
    model: float  # mean over seeds
    low: float  # min over seeds
    high: float  # max over seeds
    unit: str
    kind: str
    note: str

    @property
    def diff(self) -> float:
        if self.kind == "share":
            return 100.0 * (self.model - self.published)
        return 100.0 * (self.model / self.published - 1.0) if self.published else float("nan")

    @property
    def outside(self) -> bool:
        band = BASE_BAND_SHARE_PP if self.kind == "share" else BASE_BAND_COUNT_PCT
        return bool(np.isfinite(self.diff) and abs(self.diff) > band)


def base_year_rows(ds: xr.Dataset) -> tuple[list, str]:
    """:func:`rcc_sim.studies.validation.compare` on :func:`base_year_view` of one run."""
    from rcc_sim.studies.validation import compare

    view, when = base_year_view(ds)
    if not len(Years(view).years):
        return [], when
    return compare(view), when


def combine_base_rows(per_run: Sequence[list]) -> list[BaseRow]:
    """The rows of several runs (same targets, same order) as mean and range over runs."""
    per_run = [r for r in per_run if r]
    if not per_run:
        return []
    out = []
    for i, r in enumerate(per_run[0]):
        vals = np.array([rows[i].model for rows in per_run], dtype=float)
        low, high = float(vals.min()), float(vals.max())
        out.append(BaseRow(r.key, r.label, r.published, float(vals.mean()), low, high, r.unit, r.kind, r.note))
    return out


# ---------------------------------------------------------------------------------------------
# Runs: make them (cached) or read them, and summarise each
# ---------------------------------------------------------------------------------------------
@dataclass
class RunSummary:
    """What the page needs from one run (the Dataset itself is not kept)."""

    path: Path | None
    seed: int
    world: str
    n_la: int
    la_codes: list[str]
    base_date: str
    yearly: xr.Dataset
    yearly_la: xr.Dataset
    base_rows: list
    base_when: str
    manifest: dict = field(default_factory=dict)
    trend_values: dict = field(default_factory=dict)  # rcc_sim.studies.trends.run_values, from the base date
    config: str = ""  # the run's resolved config (YAML), for the back-cast of the same model


def summarise(ds: xr.Dataset, path: Path | None = None, manifest: dict | None = None) -> RunSummary:
    """One run's yearly measures (national and per LA) and base-year fit."""
    from rcc_sim.studies.trends import run_values

    rows, when = base_year_rows(ds)
    return RunSummary(
        path=path,
        seed=int(ds.attrs.get("seed", 0)),
        world=str(ds.attrs.get("world", "?")),
        n_la=int(ds.sizes["la"]),
        la_codes=[str(c) for c in ds["la"].values],
        base_date=str(ds.attrs.get("base_date", "")),
        yearly=model_yearly(ds),
        yearly_la=model_yearly_la(ds),
        base_rows=rows,
        base_when=when,
        manifest=manifest or {},
        trend_values=run_values(ds),
        config=str(ds.attrs.get("config", "")),
    )


@dataclass
class Runs:
    """The runs of a validation, stacked over seeds (dim ``replicate``)."""

    summaries: list[RunSummary]
    yearly: xr.Dataset  # (replicate, year)
    yearly_la: xr.Dataset  # (replicate, year, la)
    base_rows: list[BaseRow]
    base_when: str

    @property
    def seeds(self) -> list[int]:
        return [s.seed for s in self.summaries]

    @property
    def world(self) -> str:
        return self.summaries[0].world

    @property
    def la_codes(self) -> list[str]:
        return self.summaries[0].la_codes

    @property
    def is_england(self) -> bool:
        return len(self.la_codes) == len(load_las()["code"])

    @property
    def years(self) -> list[int]:
        return [int(y) for y in self.yearly["year"].values]


def combine(summaries: Sequence[RunSummary]) -> Runs:
    """Stack run summaries over seeds. Raises :class:`ValidationError` when there are none or they
    simulate different LAs."""
    summaries = list(summaries)
    if not summaries:
        raise ValidationError("no runs to validate")
    worlds = {(s.world, tuple(s.la_codes)) for s in summaries}
    if len(worlds) > 1:
        raise ValidationError(
            "the runs simulate different worlds ("
            + ", ".join(sorted({w for w, _ in worlds}))
            + "): give runs of one world"
        )
    rep = xr.DataArray([s.seed for s in summaries], dims="replicate", name="replicate")
    yearly = xr.concat([s.yearly for s in summaries], rep, join="outer")
    yearly_la = xr.concat([s.yearly_la for s in summaries], rep, join="outer")
    base = combine_base_rows([s.base_rows for s in summaries])
    return Runs(summaries, yearly, yearly_la, base, summaries[0].base_when)


def standard_overrides(world: str, years: float, seed: int, extra: Sequence[str] = ()) -> list[str]:
    """The config overrides of one run of the standard validation (status quo)."""
    # the spin-up's years too: the model's 2019-2023 beside the published ones
    return [
        f"world={world}",
        f"sim.years={years:g}",
        f"seed={seed}",
        "policy=status_quo",
        "output.include_spin_up=true",
        *extra,
    ]


def run_standard(
    out_dir: str | Path,
    world: str = "england",
    years: float = DEFAULT_YEARS,
    seeds: int | Sequence[int] = DEFAULT_SEEDS,
    overrides: Sequence[str] = (),
    rerun: bool = False,
    progress: bool | None = None,
    log: Callable[[str], None] = print,
) -> list[Path]:
    """Run the standard validation's runs one after another into ``<out_dir>/runs/<world>_seed<n>/``
    (results.nc, config.yaml, manifest.json, status.json) and return their directories. A run
    already there, done with the same config and code commit, is not run again (unless
    ``rerun``). ``seeds``: a number (seeds 0..n-1) or the seeds. ``progress``: a bar on stderr
    (None: as ``output.progress`` says)."""
    import rcc_sim
    from rcc_sim.progress import WeekProgress, enabled
    from rcc_sim.run import run_and_write
    from rcc_sim.studies.study import previous_run, recording

    seed_list = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    cfgs = [rcc_sim.load_config(standard_overrides(world, years, s, overrides)) for s in seed_list]
    dirs, todo = [], []
    for cfg in cfgs:
        run_dir = Path(out_dir) / RUNS_DIR / f"{cfg.world.name}_seed{cfg.seed}"
        dirs.append(run_dir)
        skip, msg = (False, None) if rerun else previous_run(run_dir, cfg)
        if msg:
            log(msg)
        if not skip:
            todo.append((cfg, run_dir))
    show = progress if progress is not None else bool(cfgs) and enabled(cfgs[0].output.progress)
    bar = WeekProgress(cfgs[0].sim.start_year, "rcc-sim-validate", runs=len(todo)) if show and todo else None
    try:
        for i, (cfg, run_dir) in enumerate(todo):
            run_dir.mkdir(parents=True, exist_ok=True)
            with recording(run_dir, cfg, standard_overrides(world, years, cfg.seed, overrides)):
                cb = None if bar is None else (lambda w, n, d, i=i: bar.week(i, w, n, d))
                run_and_write(cfg, run_dir, cb)
            log(f"ran {run_dir}")
    finally:
        if bar is not None:
            bar.close()
    return dirs


def find_run_dirs(path: str | Path) -> list[Path]:
    """``path`` if it holds results.nc, else every directory below it that does."""
    from rcc_sim.run import RESULTS_FILE

    path = Path(path)
    if (path / RESULTS_FILE).exists():
        return [path]
    return sorted(p.parent for p in path.rglob(RESULTS_FILE) if not any(s.startswith(".") for s in p.parts))


def load_runs(dirs: Sequence[str | Path], policy: str = "status_quo") -> list[RunSummary]:
    """Read each run directory (results.nc, manifest.json) and summarise it; only runs of
    ``policy`` are kept. Raises :class:`ValidationError` naming the path when none is usable."""
    import json

    from rcc_sim.run import MANIFEST_FILE, RESULTS_FILE

    out = []
    for d in dirs:
        d = Path(d)
        try:
            with xr.open_dataset(d / RESULTS_FILE, engine="h5netcdf") as ds:
                if str(ds.attrs.get("policy", policy)) != policy:
                    continue
                ds = ds.load()
        except (OSError, ValueError) as exc:
            raise ValidationError(f"{d / RESULTS_FILE}: not readable ({exc})") from None
        manifest = {}
        if (d / MANIFEST_FILE).exists():
            try:
                manifest = json.loads((d / MANIFEST_FILE).read_text())
            except json.JSONDecodeError:
                manifest = {}
        try:
            out.append(summarise(ds, d, manifest))
        except KeyError as exc:
            raise ValidationError(
                f"{d / RESULTS_FILE}: {exc} is missing: were these results made by an older rcc-sim? Re-run them"
            ) from None
    if not out:
        raise ValidationError(f"no {policy} runs among {len(dirs)} run directories")
    return out


def read_runs(path: str | Path) -> list[RunSummary]:
    """The status-quo runs in ``path`` (a run directory, a study, or a validation output directory)."""
    path = Path(path)
    if not path.is_dir():
        raise ValidationError(f"{path}: no such directory (give a run directory or a directory of runs)")
    dirs = find_run_dirs(path)
    if not dirs:
        raise ValidationError(f"{path}: no results.nc in it or below it")
    return load_runs(dirs)


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


def _gap(model: float, pub: float, kind: str) -> float:
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
        gap = _gap(model, p, m.kind)
        comparable = m.comparable and pub.comparable
        # judged at the precision shown (a gap of 2.01 pp shows as 2.0 pp, within a 2 pp tolerance)
        shown = round(abs(gap), 1) if m.kind == "share" else round(abs(gap))
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
            Level(m, pub, my, py, model, float(np.nanmin(per_seed)), float(np.nanmax(per_seed)), p, gap, same,
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


# ---------------------------------------------------------------------------------------------
# Optional tables from other parts of the validation, and what the model does not reproduce
# ---------------------------------------------------------------------------------------------
@dataclass
class Extra:
    """A table made elsewhere (trend bands, one-year-ahead forecasts...), shown as given. Rows
    with a False in any boolean column count as not reproduced, named by their first column."""

    title: str
    table: object  # a pandas DataFrame
    note: str = ""

    def failures(self) -> list[str]:
        df = self.table
        bools = [c for c in df.columns if str(df[c].dtype) == "bool"]  # type: ignore[attr-defined]
        out = []
        for _, row in df.iterrows():  # type: ignore[attr-defined]
            bad = [str(c) for c in bools if not bool(row[c])]
            if bad:
                out.append(f"{row.iloc[0]}: {', '.join(bad)} is false")
        return out


def read_extra(path: str | Path, title: str, note: str = "") -> Extra:
    """A CSV file as an :class:`Extra` (columns of true/false become booleans)."""
    import pandas as pd

    path = Path(path)
    try:
        df = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise ValidationError(f"{path}: not a readable CSV file ({exc})") from None
    return Extra(title, df, note or f"Read from {path}.")


def trend_extra(runs: Runs) -> Extra | None:
    """The trend-band table (issue 12 point 3) of the page's own runs: each banded measure's yearly
    trend from the base date (mean over seeds) against its band. None when the runs have fewer than
    two 31 Marches after their base date (no trend to fit)."""
    from rcc_sim.studies import trends as tr

    values = [s.trend_values for s in runs.summaries if s.trend_values]
    if len(values) != len(runs.summaries) or len(next(iter(values[0].values()))[0]) < 2:
        return None
    result = tr.trends_of(values, runs.seeds)
    years = result.measures[0].years
    standard = runs.is_england and years[0] == 2025 and len(years) >= 10 and runs.summaries[0].base_date[:4] == "2024"
    note = (
        f"Computed from this page's runs ({len(values)} seed(s)), the 31 Marches {years[0]}-{years[-1]} after the "
        "base date: the OLS slope per seed of each measure on the year (shares in percentage points a year, counts "
        "log-linear in per cent a year), the mean over seeds set against the band around its 2019-2024 published "
        "trend (rcc_sim/studies/trends.py). "
        + (
            "These are the runs the bands are defined for (England, status quo, ten years from 31 March 2024)."
            if standard
            else "The bands are defined for ten-year England status-quo runs from 31 March 2024 (at least five seeds): "
            "these runs are not that, so read the verdicts as indicative."
        )
    )
    return Extra("Trend bands", tr.frame(result), note)


def backcast_extra(result: dict) -> Extra | None:
    """The one-year-ahead table (:mod:`rcc_sim.studies.backcast`) for the page; None without rows."""
    from rcc_sim.studies import backcast

    if not result.get("rows"):
        return None
    spin = result.get("spin_up_cap")
    start = "from each LA's published stock at Y" if spin == 0 else "after the config's spin-up (from 2016 or later)"
    note = (
        f"MAPE (%) across the simulated LAs of the stock at 31 March Y+1, runs started {start}, one year on, "
        f"status quo, seeds {result['seeds']} (the model's forecast is the mean over seeds). (a) the genuine "
        "forecast: each LA's starts forecast from its published starts up to Y; (b) a diagnostic that is given "
        "the realised starts of the year it forecasts; (c) persistence, the stock at Y; (d) the stock at Y plus its "
        "change over the year to Y; (e) flow accounting without the model: stock at Y plus the forecast starts "
        "minus ceased at the LA's published rate of the last three years. "
        f"{result['cached']} runs from the cache; {result['wall_seconds']:.0f} s "
        "(rcc_sim/studies/backcast.py; experiments/one_year_ahead.py adds the evidence on why persistence is hard "
        "to beat)."
    )
    return Extra("One-year-ahead forecasts", backcast.frame(result), note)


BACKCAST_DIR = "backcast"  # in a validation's output directory: the back-cast's runs and table
BACKCAST_FILE = "backcast.json"


def run_backcast(
    base,
    out_dir: str | Path,
    origins: Sequence[int],
    seeds: Sequence[int],
    jobs: int = 1,
    spin_up_cap: int | None = 0,
    log=print,
) -> dict:
    """The one-year-ahead back-cast (:func:`rcc_sim.studies.backcast.run_backcast`) of ``base``'s
    model, its runs cached in ``<out_dir>/backcast/runs/`` and its table kept in
    ``<out_dir>/backcast/backcast.json`` (read again by a re-render with ``--from``). By default
    each run starts at its origin from the published per-LA stock (``spin_up_cap=0``): the forecast
    a user at 31 March Y would make; None keeps the config's spin-up (from 2016 at the earliest)."""
    import json

    from rcc_sim.files import atomic_write_text
    from rcc_sim.studies import backcast

    where = Path(out_dir) / BACKCAST_DIR
    result = backcast.run_backcast(
        base, origins, seeds, jobs, spin_up_cap=spin_up_cap, cache_dir=where / "runs", log=log
    )
    log(f"back-cast: {len(result['rows'])} origins x {len(seeds)} seeds, {result['cached']} runs from the cache")
    doc = result | {"rows": {str(k): val for k, val in result["rows"].items()}}
    atomic_write_text(where / BACKCAST_FILE, json.dumps(doc, indent=2))
    return result


def read_backcast(path: str | Path) -> dict:
    """The back-cast table a validation wrote in ``path`` (its output directory), or {} if none."""
    import json

    file = Path(path) / BACKCAST_DIR / BACKCAST_FILE
    if not file.exists():
        return {}
    try:
        return json.loads(file.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValidationError(f"{file}: not a readable back-cast table ({exc})") from None


@dataclass
class Miss:
    """One thing the model does not reproduce: where (section), what, and the numbers."""

    section: str
    what: str
    detail: str


def not_reproduced(
    level_rows: Sequence[Level],
    fits: dict[str, list[LaFit]] | None = None,
    base_rows: Sequence[BaseRow] = (),
    extras: Sequence[Extra | None] = (),
    base_comparable: bool = True,
) -> list[Miss]:
    """Every measure outside its tolerance (level, and trend where judged), every per-LA measure
    whose correlation across LAs is below :data:`LA_MIN_CORRELATION`, every base-year target
    outside the calibration's bands (5% counts, 2 percentage points shares) and every failed row
    of the extra tables."""
    out: list[Miss] = []
    trend_rows: list[Miss] = []
    covered = set()  # base-year targets already listed as a level (compared with the same figure)
    for lv in level_rows:
        m = lv.measure
        fmt = _fmt(m)
        approx = f"; {lv.approximation}" if lv.approximation else ""
        if lv.status == "outside":
            used = {k for y, k in zip(lv.published.years, lv.published.keys) if int(y) in lv.published_years}
            if m.target is not None and f"target:{m.target[0]}" in used:
                covered.add(m.target[0])
            out.append(
                Miss(
                    "Level",
                    m.label,
                    f"model {fmt(lv.model)} against published {fmt(lv.pub)} ({lv.when}): {lv.gap_text}, "
                    f"tolerance {lv.tolerance_text}{approx}",
                )
            )
        if lv.trend_status == "outside":
            y = lv.published.years[-5:]
            my = lv.model_span
            trend_rows.append(
                Miss(
                    "Trend",
                    m.label,
                    f"the model changes {lv.trend_text(lv.model_trend)} a year ({my}), the published series "
                    f"{lv.trend_text(lv.pub_trend)} a year ({y[0]}-{y[-1]}); tolerance "
                    f"{lv.trend_text(lv.trend_tolerance).lstrip('+')} a year{approx}",
                )
            )
    out += trend_rows
    for key, fl in (fits or {}).items():
        f = scatter_fit(fl)
        if f is not None and f.n > 2 and not (np.isfinite(f.correlation) and f.correlation >= LA_MIN_CORRELATION):
            out.append(
                Miss(
                    "Per LA",
                    MEASURE[key].label,
                    f"correlation across {f.n} LAs {f.correlation:.2f} (model {f.model_year} vs published "
                    f"{f.published_year}), below {LA_MIN_CORRELATION}: the model does not reproduce which LAs are "
                    f"high and which low; mean absolute error {f.mae_text}",
                )
            )
    if base_comparable:
        for r in base_rows:
            if r.outside and r.key not in covered:
                d = f"{r.diff:+.1f} pp" if r.kind == "share" else f"{r.diff:+.0f}%"
                band = f"{BASE_BAND_SHARE_PP:g} pp" if r.kind == "share" else f"{BASE_BAND_COUNT_PCT:g}%"
                nums = f"model {_num(r.model, r.kind)} against {_num(r.published, r.kind)}"
                out.append(Miss("Base year", r.label, f"{nums}: {d}, band {band}"))
    for ex in extras:
        if ex is None:
            continue
        for f in ex.failures():
            out.append(Miss(ex.title, f, "as the table says"))
    return out


def _num(v: float, kind: str) -> str:
    if not np.isfinite(v):
        return "-"
    return f"{100 * v:.1f}%" if kind == "share" else f"{v:,.0f}"


def _fmt(m: Measure) -> Callable[[float], str]:
    def f(v: float) -> str:
        if not np.isfinite(v):
            return "-"
        if m.kind == "share":
            return f"{v:.1f}%"
        if m.unit.startswith("GBP bn"):
            return f"GBP {v:.2f}bn"
        if m.unit.startswith("GBP"):
            return f"GBP {v:,.0f}"
        return f"{v:,.0f}"

    return f


def value_text(m: Measure, v: float) -> str:
    """A value of measure ``m`` as the page writes it."""
    return _fmt(m)(v)
