"""The model's yearly measures (national and per LA) and how the page writes their values."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import xarray as xr


class ValidationError(Exception):
    """The runs cannot be validated; the message names the path or what is missing."""


FOSTER = ["kinship_foster", "in_house_foster", "ifa_foster"]
RESIDENTIAL = ["la_home", "private_home", "secure"]
HOMES = ["la_home", "private_home"]


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
