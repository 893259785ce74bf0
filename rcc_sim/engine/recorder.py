"""Outcome metrics, declared up front, recorded into preallocated arrays, returned as xarray.

Every variable is declared once in :data:`VARIABLES` with its dimensions, units, long name and
definition. Processes update live counters (``Recorder.stock`` for quantities at a point in
time, ``Recorder.flow`` for counts and sums over the week); the weekly tick copies them into
the output arrays. Nothing here scans the children, so recording costs the same whatever the
size of England.

Counts, not shares, are what add up: to get a region or England, sum the counts with one
``groupby`` (``ds.groupby("region").sum()``) and recompute shares with :func:`add_shares`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import xarray as xr
from librt.vecs import vec
from mypy_extensions import i64, mypyc_attr

from rcc_sim.vocab import (
    AGE_GROUPS,
    CARER_KINDS,
    EXIT_ROUTES,
    FORECAST_METHODS,
    HOME_KINDS,
    MOVE_REASONS,
    NEEDS_TIERS,
    PLACEMENT_TYPES,
    PROVIDERS,
)

# Market health (issue 13 pt 4; rcc_sim/engine/processes/market_health.py): who provides places, for
# what price and at what cost. Sectors partition the providers paid per placement: private homes of
# the largest groups (Provider.large) and the rest, voluntary and LA-run homes, IFAs (the large
# groups and the rest), supported accommodation.
PROVIDER_SECTORS: Final = (
    "private_home_large",
    "private_home_other",
    "voluntary_home",
    "la_home",
    "ifa_large",
    "ifa_other",
    "supported",
)
PRICE_KINDS: Final = ("ifa_foster", "private_home", "supported_accommodation", "secure")  # placement types bought
PRICE_CELLS: Final = tuple(f"{k}|{t}" for k in PRICE_KINDS for t in NEEDS_TIERS)  # price index cells: kind|needs tier
MARKET_SECTORS: Final = ("childrens_homes", "ifa")  # markets whose concentration is measured

EXTRA_DIMS: Final = {
    "age_group": AGE_GROUPS,
    "placement_type": PLACEMENT_TYPES,
    "exit_route": EXIT_ROUTES,
    "move_reason": MOVE_REASONS,
    "carer_kind": CARER_KINDS,
    "home_kind": HOME_KINDS,
    "provider": PROVIDERS,
    "provider_sector": PROVIDER_SECTORS,
    "price_cell": PRICE_CELLS,
    "forecast_method": FORECAST_METHODS,
}


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # see rcc_sim.engine.compiled
@dataclass(frozen=True)
class Var:
    kind: str  # "stock" (value at the end of the week) or "flow" (total over the week)
    extra: str | None  # extra dimension after (time, la), or None
    units: str
    long_name: str
    definition: str
    dfe: str = ""  # the published statistic it corresponds to, if any


VARIABLES: Final[dict[str, Var]] = {
    "children_in_care": Var(
        "stock",
        None,
        "children",
        "Children in care",
        "Children looked after by the LA at the end of the week (placed + waiting).",
        "DfE CLA: children looked after at 31 March",
    ),
    "uasc": Var(
        "stock",
        None,
        "children",
        "Unaccompanied asylum-seeking children in care",
        "UASC looked after at the end of the week (included in children_in_care).",
        "DfE CLA: UASC at 31 March",
    ),
    "placed": Var(
        "stock",
        None,
        "children",
        "Children in a regulated or family placement",
        "Children in care whose placement is not an emergency/unregistered holding placement.",
    ),
    "waiting": Var(
        "stock",
        None,
        "children",
        "Children waiting for a suitable placement",
        "Children in an emergency or unregistered placement while the search goes on.",
    ),
    "placements": Var(
        "stock",
        "placement_type",
        "children",
        "Children by placement type",
        "Children in care at the end of the week by type of placement.",
        "DfE CLA: placement type at 31 March",
    ),
    "family_based": Var(
        "stock",
        None,
        "children",
        "Children in family-based care",
        "Kinship, in-house and IFA foster care, placed for adoption, placed with parents.",
    ),
    "located": Var(
        "stock",
        None,
        "children",
        "Children in a placement with a known location",
        "Denominator of the distance measures: all placed children except placed for adoption and other settings.",
    ),
    "over_20_miles": Var(
        "stock",
        None,
        "children",
        "Children placed more than 20 miles from home",
        "Great-circle distance from the child's home point to the placement over 20 miles.",
        "DfE CLA: placed more than 20 miles from home",
    ),
    "outside_la": Var(
        "stock",
        None,
        "children",
        "Children placed outside the home LA",
        "Placement located outside the boundary of the LA that looks after the child.",
        "DfE CLA: placed outside LA boundary",
    ),
    "in_home_region": Var(
        "stock",
        None,
        "children",
        "Children placed inside their home region",
        "Children in a located placement (see 'located') in an LA of the same region as the LA that "
        "looks after them, or placed with parents (at home), at the end of the week. Children in an "
        "emergency/unregistered holding placement, placed for adoption or in another setting have no "
        "location in the model and are counted as not placed in the region.",
        "SESLIP Briefing 002 (DfE data via FOI): children in care at 31 March 2023 placed inside "
        "their own region, by region of the responsible LA",
    ),
    "distance_sum": Var(
        "stock",
        None,
        "miles",
        "Sum of placement distances",
        "Sum over located children of miles from home; divide by 'located' for the mean.",
    ),
    "no_lawful_placement": Var(
        "stock",
        None,
        "children",
        "Children needing secure care with no secure place",
        "Children of the secure-welfare needs tier held in an unregistered placement (in "
        "practice under a deprivation-of-liberty order).",
        "President of the Family Division: 60-70 such children a day (2023)",
    ),
    "high_cost": Var(
        "stock", None, "children", "High-cost placements", "Children whose placement costs GBP 10,000 a week or more."
    ),
    "complex_needs": Var(
        "stock",
        None,
        "children",
        "Children in care with complex needs",
        "Children in care whose needs tier is complex or higher (tiers 1-3: complex, very complex, secure welfare).",
    ),
    "youth_justice_secure": Var(
        "stock",
        None,
        "children",
        "Youth-justice children in secure children's homes",
        "Children placed by the Youth Custody Service in the secure children's homes located in the LA (not children "
        "in care; drawn each quarter): beyond a home's contracted places they take its welfare beds.",
        "DfE SA1: secure children's homes, places and children by legal basis",
    ),
    "starts": Var(
        "flow",
        None,
        "children",
        "Children starting to be looked after",
        "Entries into care during the week.",
        "DfE CLA: started during the year",
    ),
    "starts_by_age": Var(
        "flow",
        "age_group",
        "children",
        "Starts by age",
        "Entries into care during the week by age on entry.",
        "DfE CLA: started during the year by age",
    ),
    "ceased_by_age": Var(
        "flow",
        "age_group",
        "children",
        "Ceased by age",
        "Exits from care during the week by age on leaving (18plus: left at 18).",
        "DfE CLA: ceased during the year by age",
    ),
    "ceased": Var(
        "flow",
        "exit_route",
        "children",
        "Children ceasing to be looked after",
        "Exits from care during the week by route.",
        "DfE CLA: ceased during the year by reason",
    ),
    "moves": Var(
        "flow",
        "move_reason",
        "moves",
        "Placement moves",
        "Moves from one placement to another during the week, by reason.",
        "DfE CLA: reasons for placement change",
    ),
    "placements_made": Var(
        "flow",
        None,
        "placements",
        "Placements made",
        "Children placed in a regulated or family placement during the week (entries and moves).",
    ),
    "new_placements": Var(
        "flow",
        None,
        "placements",
        "Placements started",
        "Every placement that started during the week, a child's first or a move: entries into "
        "care and moves, including emergency/unregistered holding placements and placements not "
        "bought (with parents, placed for adoption, other settings). Sum over a statistical year "
        "for the denominator of DfE's new-placements measure.",
        "DfE CLA: placements starting during the year (denominator of the new-placements measure)",
    ),
    "new_placements_outside_la": Var(
        "flow",
        None,
        "placements",
        "Placements started outside the home LA",
        "Placements started during the week (see 'new_placements') in a unit located outside the "
        "LA that looks after the child. Holding placements have no location and are not counted "
        "(as DfE's 'not known').",
        "DfE CLA: placements starting during the year placed outside the LA boundary",
    ),
    "new_placements_outside_la_over_20_miles": Var(
        "flow",
        None,
        "placements",
        "Placements started outside the home LA and over 20 miles from home",
        "Placements started during the week (see 'new_placements') in a unit outside the child's "
        "LA and more than 20 miles (great-circle) from the child's home point.",
        "DfE CLA: placements starting during the year placed outside the LA boundary and more "
        "than 20 miles from home (the new-placements measure)",
    ),
    "placed_after_wait": Var(
        "flow",
        None,
        "children",
        "Placements made after waiting",
        "Children moved from an emergency/unregistered placement to a suitable one.",
    ),
    "days_to_placement": Var(
        "flow",
        None,
        "days",
        "Days waited, summed",
        "Sum of days waited by children placed during the week; divide by 'placements_made' for the mean.",
    ),
    "secure_referrals": Var(
        "flow",
        None,
        "children",
        "Children coming to need secure welfare care",
        "Children entering care needing a secure welfare place, and children in care whose needs escalate "
        "to it after a placement breakdown (demand.secure_escalation_on_breakdown), during the week.",
        "Nuffield FJO: referrals for a secure children's home welfare place (420 in 2020)",
    ),
    "siblings_split": Var(
        "flow",
        None,
        "children",
        "Children in sibling groups placed apart",
        "Children of a sibling group entering care together whose group was not placed in one unit.",
    ),
    "spend": Var(
        "flow",
        "placement_type",
        "GBP",
        "Spend on placements",
        "Money paid for placements during the week by type (2024 prices): spot and contract prices, "
        "in-house and LA home unit costs.",
    ),
    "spend_cofunded": Var(
        "flow",
        None,
        "GBP",
        "Placement spend paid by health (co-commissioning)",
        "Part of 'spend' on complex-needs placements paid by health partners under an RCC's co-funding.",
    ),
    "rcc_setup_cost": Var(
        "flow",
        None,
        "GBP",
        "RCC set-up cost",
        "Legal, HR, commercial, IT, data and programme costs over the ramp-up, shared by child population.",
    ),
    "rcc_running_cost": Var("flow", None, "GBP", "RCC running cost", "The RCC's running costs from go-live."),
    "rcc_void_cost": Var(
        "flow",
        None,
        "GBP",
        "Void block-contract places",
        "Price of block-contracted places left empty (paid though not used).",
    ),
    "rcc_capital": Var("flow", None, "GBP", "RCC capital spend", "Capital committed to RCC-built homes."),
    "rcc_therapeutic_cost": Var(
        "flow",
        None,
        "GBP",
        "Therapeutic support (health and justice co-commissioning)",
        "Cost of the jointly funded therapeutic and mental-health support for the LA's children with complex needs.",
    ),
    "rcc_programme_funding": Var(
        "flow",
        None,
        "GBP",
        "Pathfinder programme funding",
        "DfE programme money received over the first two years (an offset to the costs).",
    ),
    "homes_transferred": Var(
        "flow",
        None,
        "homes",
        "Homes transferred under financial oversight",
        "Homes of a failed large provider kept open under a new operator.",
    ),
    "carers": Var(
        "stock",
        "carer_kind",
        "households",
        "Approved fostering households",
        "Approved households by kind, located in the LA (in-house: owned by it).",
    ),
    "foster_places": Var(
        "stock",
        "carer_kind",
        "places",
        "Approved foster places",
        "Places approved by Ofsted/the fostering service.",
        "Ofsted Fostering in England: approved places",
    ),
    "foster_places_filled": Var(
        "stock", "carer_kind", "places", "Filled foster places", "Approved places with a child in them."
    ),
    "foster_enquiries": Var("flow", None, "enquiries", "Fostering enquiries", "Enquiries from people in the LA."),
    "foster_applications": Var(
        "flow", None, "applications", "Fostering applications", "Applications starting assessment."
    ),
    "foster_approvals": Var(
        "flow", "carer_kind", "households", "Households approved", "Mainstream households joining."
    ),
    "foster_deregistrations": Var(
        "flow", "carer_kind", "households", "Households deregistered", "Mainstream households leaving."
    ),
    "foster_transfers": Var(
        "flow",
        None,
        "households",
        "Households transferred to an IFA",
        "In-house (LA) mainstream households leaving the LA's service to foster for an independent agency "
        "(counted in foster_deregistrations of in-house carers and as a new IFA household, not in approvals).",
    ),
    "homes": Var(
        "stock",
        "home_kind",
        "homes",
        "Open homes and settings",
        "Children's homes, supported accommodation settings and secure homes open in the LA.",
    ),
    "home_places": Var("stock", "home_kind", "places", "Registered places", "Registered places in open homes."),
    "home_places_filled": Var(
        "stock", "home_kind", "places", "Filled places", "Registered places with a child in them."
    ),
    "homes_opened": Var("flow", "home_kind", "homes", "Homes opened", "Homes registered during the week."),
    "homes_closed": Var("flow", "home_kind", "homes", "Homes closed", "Homes closed during the week."),
}

ANNUAL_VARIABLES: Final[dict[str, Var]] = {
    "children_in_care_by_age_31mar": Var(
        "stock",
        "age_group",
        "children",
        "Children in care at 31 March by age",
        "Children looked after at the end of the statistical year by age.",
        "DfE CLA: children looked after at 31 March by age",
    ),
    "placements_by_provider_31mar": Var(
        "stock",
        "provider",
        "children",
        "Children in care at 31 March by placement provider",
        "Who provides the placement: the LA itself (its in-house and kinship carers, its homes; placed for "
        "adoption), another LA (its carers or homes, e.g. through an RCC, and secure homes run by another "
        "LA), private (IFAs, private homes and supported accommodation, unregistered settings), voluntary "
        "(voluntary homes), parents (placed with parents), other (other settings).",
        "DfE CLA: children looked after at 31 March by placement provider",
    ),
    "children_in_care_31mar": Var(
        "stock",
        None,
        "children",
        "Children in care at 31 March",
        "Children looked after at the end of the statistical year.",
        "DfE CLA: children looked after at 31 March",
    ),
    "forecast_shortfall": Var(
        "flow",
        None,
        "children",
        "Forecast-driven shortfall",
        "Children in foster or residential care at 31 March above what the commissioner's yearly plan "
        "forecast a year before, by the method it plans with (RCCs with forecasting only; "
        "engine/sufficiency.py).",
    ),
    "forecast_error": Var(
        "flow",
        "forecast_method",
        "children",
        "Forecast error: children in care",
        "Forecast of the children in care at 31 March made a year before, minus the children in care "
        "then, by forecasting method (naive: last year carried forward; markov: transition model over "
        "age band and placement class fitted to the commissioner's own simulated history; perfect: "
        "perfect foresight of who is in care). 0 in the first year (no forecast).",
    ),
    "forecast_error_residential": Var(
        "flow",
        "forecast_method",
        "children",
        "Forecast error: children in residential care",
        "As forecast_error, for the children in children's homes and secure homes.",
    ),
    "long_term_stable": Var(
        "stock",
        None,
        "children",
        "Children in long-term stable placements",
        "Children under 16 at 31 March, looked after for 2.5 years or more, in the same placement "
        "for 2 years or more (for the base-date stock a placement is taken to have begun halfway "
        "through the time in care).",
        "DfE CLA: long-term placement stability",
    ),
    "long_term_eligible": Var(
        "stock",
        None,
        "children",
        "Children eligible for the long-term stability measure",
        "Children under 16 at 31 March looked after for 2.5 years or more.",
    ),
    "three_plus_placements": Var(
        "stock",
        None,
        "children",
        "Children with 3 or more placements in the year",
        "Children looked after at 31 March who had three or more placements during the year "
        "(the placement held at 1 April counts as one).",
        "DfE CLA: placement stability indicator",
    ),
    # market health (issue 13 pt 4): rcc_sim/engine/processes/market_health.py
    "provider_revenue": Var(
        "flow",
        "provider_sector",
        "GBP",
        "Providers' revenue",
        "Paid to providers for the placements in their units located in the LA, over the year (each week's "
        "children at the prices fixed when they were placed, times the week's length): private and voluntary "
        "homes, IFAs and supported accommodation, plus the void places of RCC block contracts (paid though "
        "empty). LA-run homes: 0 (the LA bears their cost itself: provider_cost).",
    ),
    "provider_cost": Var(
        "flow",
        "provider_sector",
        "GBP",
        "Providers' operating cost",
        "Operating cost of the units located in the LA, over the year: a fixed cost per usable place, filled "
        "or not, plus a variable cost per child by needs tier (market.*_cost_ratio, *_fixed_cost_share: cost "
        "is the cost ratio times the published price at the base date's occupancy). LA-run homes: the unit "
        "cost the model charges for their children (market.la_home_cost_week).",
    ),
    "provider_profit": Var(
        "flow",
        "provider_sector",
        "GBP",
        "Providers' operating profit",
        "provider_revenue - provider_cost (LA-run homes: minus their cost).",
    ),
    "provider_place_weeks": Var(
        "flow",
        "provider_sector",
        "place-weeks",
        "Usable place-weeks",
        "Places open to a child (usable) in the sector's units located in the LA, summed over the year's weeks "
        "(times each week's length / 7).",
    ),
    "provider_child_weeks": Var(
        "flow",
        "provider_sector",
        "child-weeks",
        "Child-weeks in providers' units",
        "Children in the sector's units located in the LA, summed over the year's weeks (times each week's "
        "length / 7).",
    ),
    "provider_failures": Var(
        "flow",
        "provider_sector",
        "providers",
        "Provider failures",
        "Private and voluntary children's home providers failing in the year (provision.provider_failure_rate), "
        "each split across the LAs of its homes by its share of homes there, so LA counts add up to providers. "
        "IFAs and supported accommodation providers do not fail in the model.",
    ),
    "units_closed_failure": Var(
        "flow",
        "provider_sector",
        "units",
        "Homes closed by a provider's failure",
        "Children's homes (or foster households) in the LA closed in the year because their provider failed "
        "(not those passed to another operator under financial oversight: homes_transferred). IFA carers are "
        "never lost this way in the model (IFAs do not fail).",
    ),
    "price_paid": Var(
        "flow",
        "price_cell",
        "GBP",
        "Prices paid, by placement type and needs tier",
        "Sum over the year's weeks of the weekly prices of the LA's children in IFA, private and voluntary "
        "homes, supported accommodation and secure homes, by placement type and needs tier (times each week's "
        "length / 7).",
    ),
    "price_child_weeks": Var(
        "flow",
        "price_cell",
        "child-weeks",
        "Child-weeks bought, by placement type and needs tier",
        "Denominator of mean_price_paid: the LA's children in each placement type and needs tier, summed over "
        "the year's weeks (times each week's length / 7).",
    ),
    "home_places_largest_22": Var(
        "stock",
        None,
        "places",
        "Children's home places of the 22 largest groups",
        "Registered places at 31 March in the LA's open children's homes (private, voluntary and LA-run) "
        "whose provider is one of the 22 with most children's home places in the simulated world then.",
        "Ofsted (2024): the 22 largest providers own 968 homes, about 35% of private homes",
    ),
    "home_places_31mar": Var(
        "stock",
        None,
        "places",
        "Children's home places at 31 March",
        "Registered places at 31 March in the LA's open children's homes (private, voluntary and LA-run; not "
        "secure homes or supported accommodation): the denominator of share_home_places_largest_22.",
    ),
}


# Market concentration (dims year, market_area, market_sector): not counts by LA, so they are kept
# apart from the LA arrays (never summed over LAs: rcc_sim.studies.compare.areas drops them)
MARKET_VARIABLES: Final[dict[str, Var]] = {
    "hhi_places": Var(
        "stock",
        "market_sector",
        "1",
        "Herfindahl-Hirschman index of places",
        "Sum over provider groups of the square of their share of the market's places at 31 March (registered "
        "children's home places, private, voluntary and LA-run, each LA one group; or IFA approved places), in "
        "each region and England (all LAs' units, including those outside the simulated world): 1 = one "
        "provider, 1/n = n equal ones. x 10,000 for the CMA's scale.",
    ),
    "market_places": Var(
        "stock", "market_sector", "places", "Places in the market", "The places the HHI is computed over."
    ),
    "market_providers": Var(
        "stock", "market_sector", "providers", "Providers in the market", "Provider groups with places in it."
    ),
}


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # see rcc_sim.engine.compiled
class Arrays:
    """The stock (or flow) variables of a :class:`Recorder` by name, each read as an array when
    looked up (:meth:`Recorder.array`)."""

    def __init__(self, rec: Recorder, names: list[str]):
        self.rec = rec
        self.names = names

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self.names:
            raise KeyError(name)
        return self.rec.array(name)

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


def counter(n: int) -> vec[float]:
    """A live counter of ``n`` cells, all zero: a ``librt.vecs.vec[float]``, a vector of C doubles
    that the compiled engine reads and writes natively (about 2 ns an update, and no float object
    made or freed), and that numpy reads without a copy (:func:`view`)."""
    return vec[float]([0.0] * n)


def view(c: vec[float]) -> np.ndarray:
    """The live counter ``c`` as a flat read-only float64 array sharing its memory (it follows
    every later update)."""
    return np.frombuffer(memoryview(c), dtype=np.float64)


def ints(v: vec[i64]) -> np.ndarray:
    """The vector of C ints ``v`` as a flat int64 array sharing its memory (a column gathered
    natively, as :func:`view` reads a counter)."""
    return np.frombuffer(memoryview(v), dtype=np.int64)


def bisect_right(a: vec[float], x: float) -> int:
    """``bisect.bisect_right(a, x)`` for a short sorted vector (band edges), natively: the same
    answer for every ``x``, NaN included (the module's function, called from the compiled engine,
    is a Python call with the edges boxed into a new tuple each time)."""
    i, n = 0, len(a)
    while i < n and not x < a[i]:
        i += 1
    return i


def zero(c: vec[float]) -> None:
    """Every cell of the live counter ``c`` to 0 (in place: the processes hold it by reference)."""
    for i in range(len(c)):
        c[i] = 0.0


def _flat_cell(index: Any, shape: tuple[int, ...]) -> int:
    """The position in a live counter (C order) of the one cell ``index`` names (an int, or a
    tuple of ints, each within its dimension), or -1 for any other index (slices, arrays, ...)."""
    idx = index if isinstance(index, tuple) else (index,)
    if len(idx) != len(shape):
        return -1
    cell = 0
    for i, n in zip(idx, shape):
        if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < n:
            return -1
        cell = cell * n + i
    return cell


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # see rcc_sim.engine.compiled
class Recorder:
    """Live counters and the preallocated output arrays.

    Each variable has one live counter, a flat vector of C doubles (:func:`counter`) that the
    processes update one cell at a time through ``live[name]`` (index ``la * k + j`` for a
    variable with an extra dimension of length ``k``). The compiled engine reads and writes its
    cells natively: about 2 ns an update, where a list of Python floats cost 16 ns and a new float
    object each time (the live counters were a list until 2026-12-07: the boxing and freeing of
    those floats, and the reads of the scattered float objects, were a tenth of an England run
    after the base date); numpy reads the whole counter without a copy (:func:`view`). The
    processes write an update as ``c[i] = c[i] + v``.
    ``stock[name]`` / ``flow[name]`` read a variable as an array of shape ``(n_la,)`` or
    ``(n_la, k)``, made when read and read-only (a write to it would be lost, so it raises);
    whole-array updates go through :meth:`add`. ``record_week`` copies the counters into the
    output arrays and zeroes the flows.

    Weeks before ``first_week`` (a spin-up whose weeks are not kept: ``output.include_spin_up``
    off) are not stored: the output arrays begin at ``first_week`` (``out[name][w - first_week]``).
    Over the weeks not stored a flow's total is kept in ``unkept[name]`` (the model's spend check
    reads it), and a stock's sum over LAs times the week's days in ``unkept_days[name]`` (so
    ``unkept_days["children_in_care"]`` is the child-days). An England ten-year run with the
    8-year spin-up stores 520 of 936 weeks: ``record_week`` 1.3 -> 0.9 s, peak memory 574 -> 485 MB.
    """

    def __init__(self, n_la: int, n_weeks: int, n_years: int, first_week: int = 0):
        if not 0 <= first_week <= n_weeks:
            raise ValueError(f"first_week {first_week} outside 0..{n_weeks}")
        self.n_la = n_la
        self.first_week = first_week
        # the first statistical year whose annual outputs are kept (those before are dropped by
        # to_dataset): the yearly steps skip what only feeds the outputs of earlier years
        self.first_year = first_week // 52
        self.live: dict[str, vec[float]] = {}
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.out: dict[str, np.ndarray] = {}
        stocks: list[str] = []
        flows: list[str] = []
        for name, var in VARIABLES.items():
            shape = (n_la,) if var.extra is None else (n_la, len(EXTRA_DIMS[var.extra]))
            self.live[name] = counter(int(np.prod(shape)))
            self.shapes[name] = shape
            (stocks if var.kind == "stock" else flows).append(name)
            self.out[name] = np.zeros((n_weeks - first_week,) + shape, dtype=np.float64)
        self.stock = Arrays(self, stocks)
        self.flow = Arrays(self, flows)
        self.unkept: dict[str, float] = {name: 0.0 for name in flows}  # flows of the weeks not stored
        self.unkept_days: dict[str, float] = {name: 0.0 for name in stocks}  # stock x days of those weeks
        self.annual = {
            name: np.zeros((n_years, n_la) if var.extra is None else (n_years, n_la, len(EXTRA_DIMS[var.extra])))
            for name, var in ANNUAL_VARIABLES.items()
        }
        self.market_areas: list[str] = []  # regions and England (allocate_market)
        self.market: dict[str, np.ndarray] = {}

    def allocate_market(self, areas: list[str]) -> None:
        """Arrays (year, area, market sector) of :data:`MARKET_VARIABLES` for ``areas``."""
        self.market_areas = list(areas)
        n_years = next(iter(self.annual.values())).shape[0]
        self.market = {name: np.zeros((n_years, len(areas), len(MARKET_SECTORS))) for name in MARKET_VARIABLES}

    def array(self, name: str) -> np.ndarray:
        """Variable ``name`` now, as a read-only array of its shape (a copy of the live counter)."""
        a = view(self.live[name]).copy().reshape(self.shapes[name])
        a.flags.writeable = False
        return a

    def add(self, name: str, index: Any, value: Any) -> None:
        """``variable[index] += value``, with numpy's indexing (fancy indices as numpy treats them).
        One cell (an int, or a tuple of ints, one per dimension, and a Python number) is added in
        place, as the array would add it (in float64)."""
        live, shape = self.live[name], self.shapes[name]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            cell = _flat_cell(index, shape)
            if cell >= 0:
                live[cell] = live[cell] + float(value)
                return
        a = view(live).copy().reshape(shape)
        a[index] += value
        for cell, x in enumerate(a.ravel().tolist()):
            live[cell] = x

    def flow_reset(self) -> None:
        """Zero every flow (after the base-date set-up, which is not a flow of week 1)."""
        for name in self.flow.names:
            zero(self.live[name])

    def record_week(self, w: int, days: float) -> None:
        """Week ``w`` (of the whole run, ``days`` long) ends: its stocks and flows into the output
        arrays (or, before ``first_week``, into ``unkept_days`` and ``unkept``); the flows start
        again from zero."""
        i = w - self.first_week
        if i < 0:
            for name in self.stock.names:
                self.unkept_days[name] += sum(self.live[name]) * days
            for name in self.flow.names:
                c = self.live[name]
                self.unkept[name] += sum(c)
                zero(c)
            return
        for name in self.stock.names:
            self.out[name][i] = view(self.live[name]).reshape(self.shapes[name])
        for name in self.flow.names:
            c = self.live[name]
            self.out[name][i] = view(c).reshape(self.shapes[name])
            zero(c)

    def to_dataset(
        self, times: np.ndarray, stat_year: np.ndarray, year_ends: np.ndarray, la_coords: dict, dtype: str, attrs: dict
    ) -> xr.Dataset:
        la = la_coords["code"]
        coords = {
            "time": times,
            "la": la,
            "la_name": ("la", la_coords["name"]),
            "region": ("la", la_coords["region"]),
            "la_lat": ("la", la_coords["lat"]),
            "la_lon": ("la", la_coords["lon"]),
            "child_population": ("la", la_coords["child_population"]),
            "stat_year": ("time", stat_year),
            "year": year_ends,
            **{k: list(v) for k, v in EXTRA_DIMS.items()},
        }
        data = {}
        for name, var in VARIABLES.items():
            dims = ("time", "la") if var.extra is None else ("time", "la", var.extra)
            data[name] = (dims, self.out[name].astype(dtype), _attrs(var))
        for name, var in ANNUAL_VARIABLES.items():
            dims = ("year", "la") if var.extra is None else ("year", "la", var.extra)
            data[name] = (dims, self.annual[name].astype(dtype), _attrs(var))
        if self.market:
            coords.update(market_area=self.market_areas, market_sector=list(MARKET_SECTORS))
            for name, var in MARKET_VARIABLES.items():
                data[name] = (("year", "market_area", "market_sector"), self.market[name].astype(dtype), _attrs(var))
        ds = xr.Dataset(data, coords=coords, attrs=attrs)
        ds["la_lat"].attrs.update(units="degrees_north", long_name="LA point (mean of small-area centroids)")
        ds["la_lon"].attrs.update(units="degrees_east", long_name="LA point (mean of small-area centroids)")
        ds["child_population"].attrs.update(
            units="children", long_name="Children aged 0-17", definition="DfE CLA count / rate per 10,000 x 10,000"
        )
        ds["foster_places_vacant"] = ds["foster_places"] - ds["foster_places_filled"]
        ds["foster_places_vacant"].attrs = {
            "units": "places",
            "long_name": "Vacant approved foster places",
            "definition": "foster_places - foster_places_filled (Ofsted's vacancies; many are not open to a new child)",
            "cell_method": "value at end of week",
        }
        own = ds["placements"].sel(placement_type=list(OWN_PROVISION)).sum("placement_type")
        ds["own_provision"] = own.astype(dtype)
        ds["own_provision"].attrs = {
            "units": "children",
            "long_name": "Children in their own LA's provision",
            "definition": "placements with the LA's own foster carers (in-house and kinship) and in its own "
            "children's homes (DfE's placement provider 'own provision'; other LAs', private and voluntary "
            "providers, parents and other settings are the rest)",
            "cell_method": "value at end of week",
            "published_statistic": "DfE CLA at 31 March, placement provider: own provision (cla_provider_own_la_n)",
        }
        ds = add_shares(ds)
        ds["time"].attrs.update(long_name="End of the week (the last week of a year ends on 31 March)")
        ds["stat_year"].attrs.update(long_name="DfE statistical year, named by the 31 March it ends on")
        ds["year"].attrs.update(long_name="31 March ending each statistical year")
        return ds


def _attrs(var: Var) -> dict:
    a = {
        "units": var.units,
        "long_name": var.long_name,
        "definition": var.definition,
        "cell_method": "value at end of week" if var.kind == "stock" else "sum over week",
    }
    if var.dfe:
        a["published_statistic"] = var.dfe
    return a


# DfE's placement provider 'own provision': the LA's own carers (kinship carers are approved by it) and homes
OWN_PROVISION: Final = ("kinship_foster", "in_house_foster", "la_home")

SHARES: Final = {  # share name -> (numerator, denominator); recomputed after any aggregation
    "share_family_based": ("family_based", "children_in_care"),
    "share_over_20_miles": ("over_20_miles", "located"),
    "share_outside_la": ("outside_la", "located"),
    "share_in_home_region": ("in_home_region", "children_in_care"),
    "share_own_provision": ("own_provision", "children_in_care"),
    "share_new_placements_outside_la": ("new_placements_outside_la", "new_placements"),
    "share_new_placements_outside_la_over_20_miles": ("new_placements_outside_la_over_20_miles", "new_placements"),
    "home_occupancy": ("home_places_filled", "home_places"),
    "mean_days_to_placement": ("days_to_placement", "placements_made"),
    "mean_miles_from_home": ("distance_sum", "located"),
    "provider_margin": ("provider_profit", "provider_revenue"),
    "provider_occupancy": ("provider_child_weeks", "provider_place_weeks"),
    "mean_price_paid": ("price_paid", "price_child_weeks"),
    "share_home_places_largest_22": ("home_places_largest_22", "home_places_31mar"),
}


# may be negative: a provider's operating loss and its margin (every other count, sum and share is >= 0)
SIGNED: Final = ("provider_profit", "provider_margin")


# What a share measures, where it is more than its numerator's definition says: the published
# statistic it corresponds to (added to the share's definition attribute)
SHARE_NOTES: Final = {
    "share_in_home_region": "Share of children in care placed inside the region of their responsible LA, "
    "as in SESLIP Briefing 002 (DfE data via FOI, 31 March 2023: England 86%; "
    "rcc_sim.data.load_own_region_2023); compare at 31 March, by region.",
    "share_new_placements_outside_la": "Share of the placements started (in the week; sum the counts over "
    "a statistical year for DfE's yearly measure) made outside the child's LA.",
    "share_new_placements_outside_la_over_20_miles": "DfE's new-placements measure: the share of placements "
    "starting during the year (every new placement, first or a move) made outside the LA boundary and "
    "more than 20 miles from home. In the Dataset it is the week's ratio; for the DfE statistic sum both "
    "counts over the statistical year (1 April - 31 March) and divide.",
}


def add_shares(ds: xr.Dataset) -> xr.Dataset:
    """Add the share variables, computed from counts (works on any aggregation of ``ds``)."""
    out = ds.copy()
    for name, (num, den) in SHARES.items():
        if num not in ds or den not in ds:  # a Dataset written before the count existed
            continue
        share = ds[num] / ds[den].where(ds[den] > 0)
        units = {
            "mean_days_to_placement": "days",
            "mean_miles_from_home": "miles",
            "mean_price_paid": "GBP per child-week",
        }.get(name, "1")
        note = SHARE_NOTES.get(name, "")
        share.attrs = {
            "units": units,
            "long_name": name.replace("_", " ").capitalize(),
            "definition": (f"{note} " if note else "")
            + f"{num} / {den}; NaN where {den} is 0 (nothing to take a share of); a ratio: "
            "sum the counts, then recompute (rcc_sim.engine.recorder.aggregate)",
        }
        out[name] = share
    return out


def aggregate(ds: xr.Dataset, by: str = "region") -> xr.Dataset:
    """Sum counts over LAs by ``region`` (or ``'england'``) and recompute shares."""
    ds = ds.drop_vars([v for v in (*SHARES, *MARKET_VARIABLES) if v in ds])  # ratios; not by LA
    ds = ds.drop_vars([c for c in ("la_name", "la_lat", "la_lon") if c in ds.coords])
    if by == "england":
        summed = ds.drop_vars(["region"]).sum("la", keep_attrs=True)
    else:
        summed = ds.groupby(by).sum(keep_attrs=True)
    return add_shares(summed)


def summarize(ds: xr.Dataset) -> dict[str, float]:
    """A flat dict of headline numbers of a run (England or world totals): for baselines and tables."""
    last = ds.isel(time=-1).sum("la")
    flows = ds.sum(("time", "la"))
    out = {
        "children_in_care_end": float(last["children_in_care"]),
        "waiting_end": float(last["waiting"]),
        "starts": float(flows["starts"]),
        "ceased": float(flows["ceased"].sum()),
        "moves": float(flows["moves"].sum()),
        "spend_gbp_m": float(flows["spend"].sum()) / 1e6,
        "share_family_based_end": float(last["family_based"] / last["children_in_care"]),
        "share_over_20_miles_end": float(last["over_20_miles"] / last["located"]),
        "share_outside_la_end": float(last["outside_la"] / last["located"]),
        "three_plus_placements": float(ds["three_plus_placements"].sum()),
        "carers_end": float(last["carers"].sum()),
        "homes_end": float(last["homes"].sum()),
    }
    for p in PLACEMENT_TYPES:
        out[f"placements_end.{p}"] = float(last["placements"].sel(placement_type=p))
    return {k: round(v, 6) for k, v in out.items()}
