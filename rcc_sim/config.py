"""Typed configuration: every parameter of rcc-sim, its unit, its source and its allowed range.

The schema is a tree of dataclasses registered in Hydra's ConfigStore. Each leaf is declared
with :func:`param`, which keeps the default, the unit, the source and the bounds in one place,
so that

* Hydra/OmegaConf reject unknown keys and wrong types while composing the config;
* :func:`validate` rejects impossible values (a negative rate, a share above 1, an LA code that
  does not exist) before any work is done, with one message naming the key;
* the codebook and reports can list every parameter with its unit and source.

A policy is a diff against these defaults (a file under ``configs/policy/``), never a code fork.
Money is in 2024 pounds (real terms); rates are per year unless the unit says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore

ASSUMPTION = "ASSUMPTION"  # marks a default with no published source; sweep it in sensitivity studies

from rcc_sim.vocab import AGE_BAND_EDGES, AGE_BANDS, DURATION_BAND_EDGES, HAZARD_ROUTES, NEEDS_TIERS  # noqa: E402


class ConfigError(ValueError):
    """A config value is missing, of the wrong kind or impossible. The message names the key."""


def param(default: Any, unit: str, source: str, lo: float | None = None, hi: float | None = None, doc: str = "") -> Any:
    """Declare a parameter with its unit, source and bounds (checked by :func:`validate`).

    ``lo``/``hi`` apply to a number or to every element of a list of numbers.
    """
    meta = {"unit": unit, "source": source, "lo": lo, "hi": hi, "doc": doc}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda d=default: type(d)(d), metadata=meta)
    return field(default=default, metadata=meta)


FITTED = (
    "prior from a first steady-state fit to DfE CLA 2024 (stock/starts, age mix of stock and ceased, "
    "ceased by reason); refitted by the calibration study (rcc_sim/data/calibrated.yaml)"
)
SHARE = dict(lo=0.0, hi=1.0)
RATE = dict(lo=0.0)


# --------------------------------------------------------------------------------------------
# Run set-up
# --------------------------------------------------------------------------------------------
@dataclass
class WorldConfig:
    """Which local authorities are simulated in full; the rest of England is the outside market."""

    name: str = "england"
    # ONS codes of the LAs simulated in full; empty means all 153 English LAs
    la_codes: list[str] = field(default_factory=list)
    outside_occupancy: float = param(
        0.8,
        "share of usable places",
        ASSUMPTION + ": outside the world, places taken by children not simulated "
        "(about the national occupancy of usable places)",
        **SHARE,
    )


@dataclass
class SimConfig:
    years: float = param(5.0, "years", "run length from the base date", lo=0.02, hi=50.0)
    start_year: int = param(2024, "year", "base date is 31 March of this year (2021-2024 published)", lo=2021, hi=2024)
    # recount every counter from the agents at each weekly record (slow; for tests)
    check_invariants: bool = False


@dataclass
class OutputConfig:
    write_netcdf: bool = True
    # dtype used for counts in the Dataset: float32 keeps a ten-year England run small
    float_dtype: str = "float32"
    # write report.html into the run directory after each run (see rcc-sim-report); unit: n/a, source: n/a
    report: bool = True
    progress: bool | str = param(
        "auto",
        "switch: auto, true or false",
        "rcc-sim: a progress bar on stderr (simulated date, weeks a second, time left); "
        "auto = only when stderr is a terminal and the CI environment variable is unset",
    )


# --------------------------------------------------------------------------------------------
# 1. Demand: entries and exits
# --------------------------------------------------------------------------------------------
@dataclass
class DemandParams:
    entry_rate_scale: float = param(
        1.0, "multiplier", "1.0 = published starts per LA in the year to 31 March (DfE CLA)", **RATE
    )
    published_starts_until: int = param(
        2024,
        "year",
        "last DfE year of published starts per LA used as input; later years repeat it "
        "(set 2023 for a back-cast that does not see 2024)",
        lo=2022,
        hi=2100,
    )
    entry_trend_per_year: float = param(
        0.0, "fraction per year", ASSUMPTION + ": starts held at the latest published year", lo=-0.5, hi=0.5
    )
    start_age_shares: list[float] = param(
        [0.16, 0.15, 0.15, 0.26, 0.28],
        "share of starts by age band (<1, 1-4, 5-9, 10-15, 16-17)",
        "DfE CLA 2024 starting during the year by age",
        **SHARE,
    )
    male_share: float = param(0.53, "share of non-UASC children", "DfE CLA 2024 (53% of non-UASC)", **SHARE)
    uasc_male_share: float = param(0.95, "share of UASC", "DfE CLA 2024: most UASC are boys aged 16-17", **SHARE)
    uasc_share_of_starts: list[float] = param(
        [0.0, 0.0, 0.01, 0.08, 0.50],
        "share of starts by age band",
        ASSUMPTION + ": set so that the UASC stock is about 7,440 (DfE CLA 2024, 9% of stock)",
        **SHARE,
    )
    needs_shares_under10: list[float] = param(
        [0.90, 0.09, 0.01, 0.0],
        "share by needs tier (standard, complex, very complex, secure welfare)",
        ASSUMPTION + ": tiers set so that about 11% of children live in children's homes (FOI 2024)",
        **SHARE,
    )
    needs_shares_10_15: list[float] = param([0.46, 0.30, 0.22, 0.02], "share by needs tier", ASSUMPTION, **SHARE)
    needs_shares_16_17: list[float] = param([0.58, 0.24, 0.17, 0.01], "share by needs tier", ASSUMPTION, **SHARE)
    initial_secure_tier_children: float = param(
        190.0,
        "children in England at the base date",
        "DfE SA1 2023: about 125 secure welfare places in use, plus "
        "60-70 children a day without one (Re X [2023] EWHC 129 (Fam))",
        lo=0.0,
    )
    sibling_group_size_shares: list[float] = param(
        [0.74, 0.16, 0.07, 0.03],
        "share of entering groups of size 1, 2, 3, 4 (non-UASC under 16)",
        ASSUMPTION + ": about four in ten children enter care with a sibling",
        **SHARE,
    )
    needs_escalation_on_breakdown: float = param(
        0.05,
        "probability",
        ASSUMPTION + ": needs rise one tier after an unplanned ending (0.15 drove the share in "
        "residential care up 30% in three years)",
        **SHARE,
    )


@dataclass
class ExitParams:
    """Exit hazards per year by route, current age band (<1, 1-4, 5-9, 10-15, 16-17) and time in care.

    hazard(route, age, t) = age_hazard[route][age band] * duration_multiplier[route][duration band],
    duration bands (years in care): [0, .5), [.5, 1), [1, 2), [2, 4), [4, ...).
    Defaults set so that starts, ceased, exit routes and the age mix of ceased and stock agree with
    DfE CLA 2024 at once (DESIGN.md s.6); they are refitted by the calibration study.
    """

    returned_home: list[float] = param([0.1414, 0.1234, 0.1028, 0.0894, 0.0568], "per year", FITTED, **RATE)
    adopted: list[float] = param([0.0915, 0.2614, 0.025, 0.0, 0.0], "per year", FITTED, **RATE)
    special_guardianship: list[float] = param([0.0992, 0.1476, 0.0677, 0.0245, 0.0083], "per year", FITTED, **RATE)
    child_arrangements_order: list[float] = param([0.0279, 0.0333, 0.0127, 0.0044, 0.0019], "per year", FITTED, **RATE)
    lives_with_relatives: list[float] = param([0.0242, 0.032, 0.0293, 0.0159, 0.0216], "per year", FITTED, **RATE)
    independent_living: list[float] = param([0.0, 0.0, 0.0, 0.0, 0.0462], "per year", FITTED, **RATE)
    other: list[float] = param([0.0314, 0.0299, 0.0342, 0.0397, 0.1051], "per year", FITTED, **RATE)

    returned_home_duration: list[float] = param(
        [2.2, 1.0, 0.8, 0.6, 0.5], "multiplier by duration band", "ASSUMPTION: returns home are front-loaded", **RATE
    )
    adopted_duration: list[float] = param(
        [0.15, 0.9, 1.5, 1.0, 0.5], "multiplier by duration band", "ASSUMPTION: adoption orders take 1-2 years", **RATE
    )
    special_guardianship_duration: list[float] = param(
        [0.4, 1.0, 1.4, 1.0, 0.7], "multiplier by duration band", ASSUMPTION, **RATE
    )
    child_arrangements_order_duration: list[float] = param(
        [0.6, 1.0, 1.2, 1.0, 0.8], "multiplier by duration band", ASSUMPTION, **RATE
    )
    lives_with_relatives_duration: list[float] = param(
        [1.5, 1.0, 0.9, 0.8, 0.7], "multiplier by duration band", ASSUMPTION, **RATE
    )
    independent_living_duration: list[float] = param(
        [0.5, 1.0, 1.0, 1.0, 1.0], "multiplier by duration band", ASSUMPTION, **RATE
    )
    other_duration: list[float] = param([1.4, 1.0, 0.8, 0.7, 0.6], "multiplier by duration band", ASSUMPTION, **RATE)

    by_la: bool = param(
        True,
        "switch",
        "scale each LA's exit hazards by England's stock/starts over the LA's (DfE CLA, published "
        "years used as input): LAs differ in how long children stay",
    )
    by_la_method: str = param(
        "ceased_rate",
        "method",
        "ceased_rate: LA's ceased per child in care over England's (DfE CLA 2022-); "
        "stock_per_start: England's stock/starts over the LA's",
    )
    by_la_range: list[float] = param([0.4, 2.5], "multiplier (min, max)", ASSUMPTION + ": guards small LAs", lo=0.0)
    staying_put_if_fostered: float = param(
        0.9, "probability", "set so that staying put is 16% of ceased (DfE CLA 2024)", **SHARE
    )
    independent_living_at_18: float = param(
        0.45, "probability (not staying put)", "DfE CLA 2024: independent living 13% of ceased, mostly at 18", **SHARE
    )


# --------------------------------------------------------------------------------------------
# 2-3. Placement search and placement life
# --------------------------------------------------------------------------------------------
@dataclass
class PlacementParams:
    kinship_at_entry: list[float] = param(
        [0.26, 0.27, 0.27, 0.16, 0.06],
        "probability by age band",
        "fitted so that kinship foster care is about 15.6% of stock (Sufficiency.org.uk FOI 2024)",
        **SHARE,
    )
    with_parents_before_return_home: float = param(
        0.9, "probability", "set so that 6% of stock is placed with parents (DfE CLA 2024)", **SHARE
    )
    with_parents_lead_years: float = param(
        2.0, "years (mean)", "ASSUMPTION: set with the share above (6% of stock with parents)", lo=0.0
    )
    adoption_placement_lead_years: float = param(
        0.85, "years (mean)", "ASSUMPTION: placement for adoption to order; 2.5% of stock (DfE CLA 2024)", lo=0.0
    )
    other_setting_at_entry: list[float] = param(
        [0.0, 0.0, 0.02, 0.07, 0.08],
        "probability by age band",
        "fitted to DfE CLA 2024: 5% of stock in other settings (residential schools, NHS, custody)",
        **SHARE,
    )
    miles_penalty_gbp: float = param(
        12.0,
        "GBP per week per mile",
        ASSUMPTION + ": how much a commissioner pays to place a child one mile closer",
        **RATE,
    )
    need_mismatch_penalty_gbp: float = param(
        900.0, "GBP per week", ASSUMPTION + ": a placement below the child's needs tier", **RATE
    )
    sibling_split_penalty_gbp: float = param(400.0, "GBP per week per sibling apart", ASSUMPTION, **RATE)
    supported_first_16_17: float = param(
        0.7,
        "share of 16-17 year olds (not UASC) with standard needs",
        ASSUMPTION + ": care plan is supported accommodation; 7-10% of children are in it (DfE 2024, FOI 2024)",
        **SHARE,
    )
    stretch_penalty_gbp: float = param(
        1500.0,
        "GBP per week",
        ASSUMPTION + ": cost of persuading a carer or home beyond its usual availability",
        **RATE,
    )
    in_house_first: bool = param(
        True, "switch", "CMA 2022: LAs look to their own carers before agencies; False compares them in one stage"
    )
    candidates_per_search: int = param(
        8, "placements compared", ASSUMPTION + ": a placement team compares a handful", lo=1, hi=200
    )
    max_foster_search_miles: float = param(
        30.0,
        "miles",
        ASSUMPTION + " (range 20-80): IFA carers further away are not considered; at 80 the share "
        "placed over 20 miles away rose from 11% to 30% in three years",
        lo=1.0,
    )


@dataclass
class BreakdownParams:
    """Unplanned endings and planned moves, as hazards per year on each placement."""

    unplanned_foster: float = param(
        0.22, "per year", "fitted to DfE CLA 2024: 66,070 placement changes, 55% foster", **RATE
    )
    unplanned_kinship: float = param(0.05, "per year", ASSUMPTION + ": kinship placements are the most stable", **RATE)
    unplanned_home: float = param(0.5, "per year", "fitted to DfE CLA 2024 placement changes", **RATE)
    unplanned_supported: float = param(0.25, "per year", ASSUMPTION, **RATE)
    unplanned_other: float = param(0.05, "per year", ASSUMPTION, **RATE)
    planned_foster: float = param(0.18, "per year", "fitted: care plan is 34% of changes (DfE 2025)", **RATE)
    planned_home: float = param(0.25, "per year", "fitted: step-down from residential care", **RATE)
    planned_supported: float = param(0.05, "per year", ASSUMPTION, **RATE)
    secure_order_months: float = param(
        4.0, "months (mean)", "ASSUMPTION: secure welfare orders last about 3 months and are renewed", lo=0.1
    )
    stretch_multiplier: float = param(1.3, "multiplier for a stretched placement", ASSUMPTION, **RATE)
    teen_multiplier: float = param(1.5, "multiplier at 10-17", ASSUMPTION, **RATE)
    mismatch_multiplier: float = param(2.0, "multiplier when below needs tier", ASSUMPTION, **RATE)
    distance_multiplier: float = param(1.3, "multiplier when > 20 miles from home", ASSUMPTION, **RATE)
    history_multiplier: float = param(1.15, "multiplier per earlier move (up to 5)", ASSUMPTION, **RATE)
    reason_shares_unplanned: list[float] = param(
        [0.16, 0.14, 0.06, 0.02, 0.62],
        "share of unplanned endings: carer request (behaviour), carer request (other), child request, "
        "standards concern, other",
        "DfE CLA 2025 reasons for placement change (8%, 7%, 3%, 1%, 25% of all changes, rescaled)",
        **SHARE,
    )


# --------------------------------------------------------------------------------------------
# 4. Foster carer supply
# --------------------------------------------------------------------------------------------
@dataclass
class FosteringParams:
    mainstream_households: int = param(33745, "households", "Ofsted Fostering in England 2023-24 (31 Mar 2024)", lo=0)
    in_house_household_share: float = param(
        0.53, "share of mainstream households", "derived: in-house 27.9% vs IFA 24.8% of children (FOI 2024)", **SHARE
    )
    places_per_household_shares: list[float] = param(
        [0.28, 0.42, 0.24, 0.06],
        "share of households approved for 1, 2, 3, 4 places",
        "set to give 70,465 places for 33,745 households (Ofsted 2023-24): 2.09 each",
        **SHARE,
    )
    usable_place_share: float = param(
        0.72,
        "share of approved places open to a new child",
        ASSUMPTION + ": 60% of approved places are filled (Ofsted 2023-24); many vacancies are not usable",
        **SHARE,
    )
    in_house_outside_la_share: float = param(
        0.25, "share of in-house households", ASSUMPTION + ": in-house carers living in a neighbouring LA", **SHARE
    )
    complex_skill_share: float = param(0.25, "share of households", ASSUMPTION + ": trained for complex needs", **SHARE)
    enquiries_per_year: float = param(
        125195.0, "enquiries per year", "Ofsted/DfE fostering recruitment (2022-23)", **RATE
    )
    application_rate: float = param(0.068, "applications per enquiry", "Ofsted 2023-24: 8,485 applications", **SHARE)
    approval_rate: float = param(
        0.48, "approvals per application", "Ofsted 2023-24: 4,055 joined / 8,485 applied", **SHARE
    )
    assessment_days: float = param(182.0, "days (mean)", "about six months (Ofsted; Fostering Network)", lo=1.0)
    in_house_applicant_share: float = param(
        0.50, "share of applicants choosing their LA", ASSUMPTION + ": LAs and IFAs compete for applicants", **SHARE
    )
    deregistration_rate: float = param(
        0.15,
        "per household per year",
        "set so that about 4,820 of 33,745 mainstream households leave a year (Ofsted 2023-24), deferrals included",
        **RATE,
    )
    quit_after_breakdown: float = param(0.08, "probability", ASSUMPTION + ": strain after an unplanned ending", **SHARE)
    leave_defer_if_occupied: float = param(
        0.5, "probability", ASSUMPTION + ": a leaving carer often lets placed children move on first", **SHARE
    )
    in_house_cost_week: float = param(
        760.0,
        "GBP per child per week (standard needs)",
        "set so that the average is PSSRU 2017's GBP 646 (allowance and social work) uprated by CPI (x1.3) to 2024",
        lo=0.0,
    )
    ifa_price_week: float = param(
        880.0,
        "GBP per child per week (standard needs)",
        "set so that the average is CMA 2021's GBP 820 (2020-21) uprated by CPI (x1.195) to 2024",
        lo=0.0,
    )
    kinship_cost_week: float = param(
        300.0, "GBP per child per week", ASSUMPTION + ": fostering allowance and support for kinship carers", lo=0.0
    )


# --------------------------------------------------------------------------------------------
# 5. Children's homes, supported accommodation, secure homes
# --------------------------------------------------------------------------------------------
@dataclass
class ProvisionParams:
    childrens_homes: int = param(3491, "homes", "Ofsted children's social care data 2024 (31 Mar 2024)", lo=0)
    childrens_home_places: int = param(14486, "places", "Ofsted 2024 (about 4.1 places per home)", lo=0)
    la_run_homes: int = param(404, "homes", "Ofsted 2024", lo=0)
    voluntary_share_of_non_la_homes: float = param(
        0.06, "share", ASSUMPTION + ": about 4 in 5 homes are private", **SHARE
    )
    large_group_share_of_private: float = param(
        0.35, "share of private homes", "Ofsted 2024: 22 largest own 968 homes", **SHARE
    )
    region_home_shares: dict[str, float] = param(
        {"North West": 0.25, "London": 0.06, "South East": 0.07, "South West": 0.06, "West Midlands": 0.15},
        "share of homes",
        "Ofsted 2023-24 via CYP Now / Community Care; other regions share the rest by child population",
        **SHARE,
    )
    usable_place_share: float = param(
        0.80,
        "share of registered places open to a new child",
        ASSUMPTION + ": registered places exceed what matching allows (9,272 children in 14,486 places, FOI 2024)",
        **SHARE,
    )
    opening_rate: float = param(
        0.12, "new homes per existing home per year", "Ofsted: homes up 44% in four years to 2024", **RATE
    )
    lead_time_days: float = param(300.0, "days (mean)", ASSUMPTION + ": planning and Ofsted registration", lo=0.0)
    closure_rate: float = param(0.05, "per home per year", ASSUMPTION, **RATE)
    empty_closure_rate: float = param(0.5, "per empty home per year", ASSUMPTION, **RATE)
    provider_failure_rate: float = param(0.01, "per private provider per year", ASSUMPTION, **RATE)
    supported_places: int = param(
        9000, "places", ASSUMPTION + ": 258 providers (Ofsted 2024); 7-10% of children in supported accommodation", lo=0
    )
    supported_places_per_setting: float = param(6.0, "places", ASSUMPTION, lo=1.0)
    secure_homes: int = param(13, "homes", "Ofsted 2023 (NYAS)", lo=0)
    secure_welfare_places: int = param(125, "places", "DfE SA1 2023: 230 places, 105 contracted to youth justice", lo=0)
    property_cost_index: dict[str, float] = param(
        {
            "London": 1.8,
            "South East": 1.33,
            "East of England": 1.17,
            "South West": 1.07,
            "West Midlands": 0.83,
            "East Midlands": 0.81,
            "Yorkshire and The Humber": 0.69,
            "North West": 0.69,
            "North East": 0.52,
        },
        "ratio to England median house price",
        "ONS median house prices by region, year to March 2023 (rounded)",
        lo=0.0,
    )
    entry_return_elasticity: float = param(
        1.5,
        "log-openings per unit of relative return",
        ASSUMPTION + ": providers open where returns are highest",
        lo=0.0,
    )


# --------------------------------------------------------------------------------------------
# 6. Market: prices
# --------------------------------------------------------------------------------------------
@dataclass
class MarketParams:
    home_price_week: float = param(
        5500.0,
        "GBP per child per week (very complex needs, the typical resident)",
        "County Councils Network 2024 average (range 5,500-6,100)",
        lo=0.0,
    )
    la_home_cost_week: float = param(
        5200.0, "GBP per child per week", ASSUMPTION + ": LA homes cost about as much as private ones", lo=0.0
    )
    supported_price_week: float = param(
        1600.0, "GBP per child per week", ASSUMPTION + ": LGA/CCN range 1,000-3,000", lo=0.0
    )
    secure_price_week: float = param(
        7500.0, "GBP per child per week", ASSUMPTION + ": about GBP 1,000+ a night", lo=0.0
    )
    unregistered_price_week: float = param(
        9000.0, "GBP per child per week", ASSUMPTION + ": emergency and unregistered placements, often GBP 10k+", lo=0.0
    )
    other_setting_price_week: float = param(
        3500.0, "GBP per child per week", ASSUMPTION + ": residential schools and other settings", lo=0.0
    )
    tier_price_multipliers: list[float] = param(
        [1.0, 1.25, 1.8, 2.4],
        "multiplier by needs tier, relative to the tier a kind of placement typically takes",
        ASSUMPTION + ": CMA averages hide a long upper tail",
        lo=0.0,
    )
    price_dispersion: float = param(0.25, "sd of log price", ASSUMPTION, lo=0.0, hi=2.0)
    scarcity_elasticity: float = param(
        1.0,
        "log-price per unit occupancy above reference",
        ASSUMPTION + ": spot prices rise when places are scarce",
        lo=0.0,
    )
    home_margin: float = param(0.226, "operating margin", "CMA 2022: largest 15 providers", lo=-1.0, hi=1.0)
    ifa_margin: float = param(0.19, "operating margin", "CMA 2021", lo=-1.0, hi=1.0)
    high_cost_threshold_week: float = param(
        10000.0, "GBP per week", "DfE/LGA definition of high-cost placements", lo=0.0
    )


# --------------------------------------------------------------------------------------------
# Policy: who commissions, and the levers (issue 3 extends this)
# --------------------------------------------------------------------------------------------
@dataclass
class RCCConfig:
    """One Regional Care Co-operative: its members, its set-up, and its functions (levers).

    Every function can be switched off (``False``/0); an RCC with every lever off and no costs
    behaves exactly as the status quo. Effect sizes with no published source are marked
    ASSUMPTION with a plausible range in the doc, for sensitivity studies to sweep.
    """

    members: list[str] = field(default_factory=list)  # ONS codes of member LAs
    region: str = ""  # or: every LA of this region (DfE region name, e.g. "South East")
    start_years: float = param(
        1.0, "years after the base date", "GM launched May 2025; SE pathfinder 2025-26", lo=0.0, hi=50.0
    )
    ramp_up_years: float = param(
        1.0,
        "years from start to go-live",
        ASSUMPTION + " (range 0.5-2): set-up before functions take effect",
        lo=0.0,
        hi=10.0,
    )
    # --- set-up and running costs (GBP, 2024 prices) -------------------------------------------
    setup_cost_gbp: float = param(
        2.5e6,
        "GBP over the ramp-up",
        ASSUMPTION + " (range 1-5m): legal, HR, commercial, IT, data, programme team",
        lo=0.0,
    )
    running_cost_gbp_per_year: float = param(
        1.5e6,
        "GBP per year from go-live",
        ASSUMPTION + " (range 0.5-3m): the RCC's commissioning team and systems",
        lo=0.0,
    )
    programme_funding_gbp: float = param(
        1.73e6, "GBP over two years from start", "DfE pathfinder page (Nov 2024): GBP 3.46m for both regions", lo=0.0
    )
    capital_funding_gbp: float = param(
        0.0, "GBP", "DfE pathfinder page (Nov 2024): up to GBP 5m capital per region", lo=0.0
    )
    # --- (a) one placement search; in-house capacity of any member for any member's child -----
    pooled_search: bool = False
    pooled_search_miles: float = param(
        30.0,
        "miles between LA points",
        ASSUMPTION + " (range 15-80): members' in-house carers and homes further "
        "than this from the child's LA are not offered (the child's own LA always is)",
        lo=0.0,
    )
    # --- (b) regional forecasting feeding the yearly sufficiency plan --------------------------
    forecasting: bool = False
    forecast_error_sd: float = param(0.10, "sd of log forecast error", ASSUMPTION + " (range 0-0.3)", lo=0.0, hi=2.0)
    # --- (c) market shaping and negotiation as one customer ------------------------------------
    buyer_power_discount: float = param(
        0.0,
        "share off spot prices",
        ASSUMPTION + " (range 0-0.10): CMA found LAs have little buyer power alone",
        lo=0.0,
        hi=0.5,
    )
    block_places: int = param(0, "children's home places on block contract", ASSUMPTION + " (range 0-100)", lo=0)
    block_discount: float = param(0.10, "share off the spot price", ASSUMPTION + " (range 0.05-0.2)", lo=0.0, hi=0.9)
    # --- (d) health and justice co-commissioning ----------------------------------------------
    health_cofunding_share: float = param(
        0.0, "share of complex-needs placement cost paid by health", ASSUMPTION + " (range 0-0.25)", lo=0.0, hi=1.0
    )
    shared_secure_places: int = param(0, "secure welfare places added for the region", ASSUMPTION, lo=0)
    # --- (e) regional foster carer recruitment and retention hub -------------------------------
    enquiry_uplift: float = param(
        0.0, "fractional rise in fostering enquiries", ASSUMPTION + " (range 0-0.3)", lo=0.0, hi=5.0
    )
    in_house_applicant_share: float = param(
        -1.0, "share of applicants choosing in-house (-1: unchanged)", ASSUMPTION + " (range 0.5-0.7)", lo=-1.0, hi=1.0
    )
    retention_improvement: float = param(
        0.0, "fractional fall in in-house deregistration", ASSUMPTION + " (range 0-0.3)", lo=0.0, hi=1.0
    )
    # --- (f) new provision: RCC-run homes and specialist foster care ---------------------------
    homes_to_build: int = param(0, "children's homes", ASSUMPTION + ": built from capital within the budget", lo=0)
    home_build_cost_gbp: float = param(
        1.2e6, "GBP per home", ASSUMPTION + " (range 0.8-2m): purchase and adaptation of a 4-bed home", lo=0.0
    )
    home_build_lead_days: float = param(
        540.0, "days", ASSUMPTION + " (range 365-900): purchase, planning, registration", lo=0.0
    )
    home_places: int = param(4, "places per RCC home", "Ofsted 2024: about 4.1 places per home", lo=1, hi=20)
    specialist_carers: int = param(
        0,
        "specialist (therapeutic) foster households recruited",
        ASSUMPTION + ": new forms of care for complex needs",
        lo=0,
    )
    specialist_cost_week: float = param(
        1800.0,
        "GBP per child per week",
        ASSUMPTION + " (range 1,200-2,500): enhanced allowance and clinical support",
        lo=0.0,
    )


@dataclass
class PlanningConfig:
    """The wider reform package around RCCs (DfE, *Stable Homes, Built on Love*; CWSA 2026)."""

    national_procurement_discount: float = param(
        0.0,
        "share off spot prices for every LA",
        "national forecasting, procurement and market-shaping support; ASSUMPTION on effect (range 0-0.05)",
        lo=0.0,
        hi=0.5,
    )
    national_forecasting_support: float = param(
        0.0,
        "fractional cut in RCCs' forecast error",
        "national forecasting support; ASSUMPTION (range 0-0.5)",
        lo=0.0,
        hi=1.0,
    )
    national_recruitment_uplift: float = param(
        0.0,
        "fractional rise in fostering enquiries",
        "GBP 27m foster carer recruitment and retention programme; ASSUMPTION on effect (range 0-0.1)",
        lo=0.0,
        hi=5.0,
    )
    capital_homes: int = param(
        0,
        "LA-run homes opened by the capital programme",
        "GBP 259m secure and open homes programme; ASSUMPTION (GBP 259m / ~1.2m per home ~ 200 homes, range 0-200)",
        lo=0,
    )
    capital_secure_places: int = param(0, "secure welfare places added", "GBP 259m programme (part); ASSUMPTION", lo=0)
    capital_start_years: float = param(1.0, "years after the base date", ASSUMPTION, lo=0.0)
    financial_oversight: bool = False  # a failing large provider's homes transfer instead of closing
    end_unregistered: bool = (
        False  # standards reform: no unregistered placements (a child stays in a stretched registered one)
    )
    planning_lead_time_multiplier: float = param(
        1.0, "multiplier on new homes' lead time", "planning reform; ASSUMPTION (range 0.5-1)", lo=0.0, hi=5.0
    )
    profit_cap_margin: float = param(
        -1.0, "maximum operating margin (-1: no cap)", "Children's Wellbeing and Schools Act 2026 s.17", lo=-1.0, hi=1.0
    )
    profit_cap_entry_elasticity: float = param(
        2.0,
        "fall in openings per unit of margin removed",
        ASSUMPTION + " (range 0-5): effect of a cap on entry",
        lo=0.0,
    )


@dataclass
class RolloutConfig:
    """National roll-out: one RCC per region, each a copy of ``template``, starting in turn."""

    regions: list[str] = field(default_factory=list)  # DfE regions, in order of start
    first_start_years: float = param(1.0, "years after the base date", ASSUMPTION, lo=0.0, hi=50.0)
    stagger_years: float = param(0.5, "years between one region's start and the next", ASSUMPTION, lo=0.0, hi=10.0)
    template: RCCConfig = field(default_factory=RCCConfig)


@dataclass
class PolicyConfig:
    name: str = "status_quo"
    description: str = "Each local authority commissions alone (England today)."
    rccs: dict[str, RCCConfig] = field(default_factory=dict)
    rollout: RolloutConfig = field(default_factory=RolloutConfig)
    package: PlanningConfig = field(default_factory=PlanningConfig)


@dataclass
class CompareConfig:
    """Paired comparison with the status quo (``rcc-sim-compare``)."""

    seeds: list[int] = field(default_factory=lambda: [0, 1, 2, 3, 4])
    jobs: int = param(2, "parallel processes", "this machine has 2 cores", lo=1, hi=256)


@dataclass
class FreeParameter:
    """A parameter the calibration fits (or the sensitivity analysis varies) within [lo, hi].

    ``key`` is a dotted config path (``breakdown.unplanned_foster``). A list parameter is varied
    by one multiplier on all its elements (``scale: true``; shares are clipped to [0, 1]).
    """

    key: str = ""
    lo: float = 0.0
    hi: float = 1.0
    log: bool = False
    scale: bool = False
    note: str = ""


@dataclass
class CalibrationConfig:
    """The calibration study (``rcc-sim-calibrate +experiment=calibration``)."""

    study_name: str = "calibration"
    n_trials: int = param(100, "completed trials in all (resumed runs count earlier ones)", "study design", lo=1)
    workers: int = param(2, "parallel processes", "this machine has 2 cores", lo=1, hi=256)
    seeds: list[int] = field(default_factory=lambda: [0])
    sampler_seed: int = 0
    fit_exit_hazards: bool = True  # stage 1: exit hazards by route and age to steady-state moments (scipy)
    rescale_prices: bool = True  # stage 3: base prices rescaled so average prices match the published ones
    count_tolerance: float = param(0.05, "relative error counted as one unit of loss", "issue 4: within 5%", lo=1e-6)
    share_tolerance: float = param(0.02, "share error counted as one unit of loss", "issue 4: within 2 points", lo=1e-6)
    excluded_targets: list[str] = field(default_factory=list)  # reported, not in the loss
    confidence: float = param(
        0.95,
        "level of the profile-loss region giving plausible ranges",
        "chi-square with one degree of freedom per free parameter",
        lo=0.5,
        hi=0.999,
    )
    install: bool = False  # write the fitted values to rcc_sim/data/calibrated.yaml (the defaults)
    parameters: list[FreeParameter] = field(default_factory=list)


@dataclass
class SensitivityConfig:
    """A probabilistic sensitivity analysis (``rcc-sim-sensitivity +experiment=sensitivity``)."""

    study_name: str = "sensitivity"
    n_samples: int = param(64, "parameter sets (Latin hypercube)", "study design", lo=4)
    workers: int = param(2, "parallel processes", "this machine has 2 cores", lo=1, hi=256)
    sampler_seed: int = 0
    use_calibrated_ranges: bool = True  # vary every calibrated parameter within its plausible range
    parameters: list[FreeParameter] = field(default_factory=list)  # further (assumed) parameters


# --------------------------------------------------------------------------------------------
# Calibrated defaults: the model-section defaults above are priors; the calibration study
# (``rcc-sim-calibrate +experiment=calibration``) writes the fitted values, with provenance, to
# rcc_sim/data/calibrated.yaml, and every Config built from the schema starts from them.
# --------------------------------------------------------------------------------------------
CALIBRATED_FILE = Path(__file__).resolve().parent / "data" / "calibrated.yaml"
MODEL_SECTIONS = ("demand", "exits", "placement", "breakdown", "fostering", "provision", "market")


def load_calibrated(path: Path | None = None) -> dict[str, Any]:
    """The calibrated file as a dict with 'values' ({section: {name: value}}), 'ranges' and
    'provenance'; {} if there is none. A malformed file raises ConfigError naming it."""
    import yaml

    path = Path(path or CALIBRATED_FILE)
    if not path.exists():
        return {}
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("values", {}), dict):
        raise ConfigError(f"{path}: expected a mapping with a 'values' section")
    known = {
        "demand": DemandParams,
        "exits": ExitParams,
        "placement": PlacementParams,
        "breakdown": BreakdownParams,
        "fostering": FosteringParams,
        "provision": ProvisionParams,
        "market": MarketParams,
    }
    for section, values in doc.get("values", {}).items():
        if section not in known:
            raise ConfigError(f"{path}: 'values.{section}' is not a model section ({', '.join(MODEL_SECTIONS)})")
        names = {f.name for f in fields(known[section])}
        for name in values or {}:
            if name not in names:
                raise ConfigError(f"{path}: 'values.{section}.{name}' is not a parameter of '{section}'")
    return doc


CALIBRATED: dict[str, Any] = load_calibrated()


def _calibrated(cls: type, section: str):
    """Default factory: the section's priors with the calibrated values put over them."""

    def make():
        obj = cls()
        for name, value in (CALIBRATED.get("values", {}).get(section) or {}).items():
            setattr(obj, name, list(value) if isinstance(value, list) else value)
        return obj

    return make


@dataclass
class Config:
    world: WorldConfig = field(default_factory=WorldConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    sim: SimConfig = field(default_factory=SimConfig)
    demand: DemandParams = field(default_factory=_calibrated(DemandParams, "demand"))
    exits: ExitParams = field(default_factory=_calibrated(ExitParams, "exits"))
    placement: PlacementParams = field(default_factory=_calibrated(PlacementParams, "placement"))
    breakdown: BreakdownParams = field(default_factory=_calibrated(BreakdownParams, "breakdown"))
    fostering: FosteringParams = field(default_factory=_calibrated(FosteringParams, "fostering"))
    provision: ProvisionParams = field(default_factory=_calibrated(ProvisionParams, "provision"))
    market: MarketParams = field(default_factory=_calibrated(MarketParams, "market"))
    output: OutputConfig = field(default_factory=OutputConfig)
    compare: CompareConfig = field(default_factory=CompareConfig)
    # set only by the calibration and sensitivity studies (configs/experiment/)
    calibration: CalibrationConfig | None = None
    sensitivity: SensitivityConfig | None = None
    seed: int = 0


def register_configs() -> None:
    """Put the schema in Hydra's ConfigStore (idempotent)."""
    cs = ConfigStore.instance()
    cs.store(name="rcc_sim_schema", node=Config)
    cs.store(group="world", name="world_schema", node=WorldConfig)
    cs.store(group="policy", name="policy_schema", node=PolicyConfig)


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------
SHARE_VECTORS = {  # lists whose elements must sum to 1
    "demand.start_age_shares",
    "demand.needs_shares_under10",
    "demand.needs_shares_10_15",
    "demand.needs_shares_16_17",
    "demand.sibling_group_size_shares",
    "fostering.places_per_household_shares",
    "breakdown.reason_shares_unplanned",
}
VECTOR_LENGTHS = {
    "demand.start_age_shares": len(AGE_BANDS),
    "demand.uasc_share_of_starts": len(AGE_BANDS),
    "demand.needs_shares_under10": len(NEEDS_TIERS),
    "demand.needs_shares_10_15": len(NEEDS_TIERS),
    "demand.needs_shares_16_17": len(NEEDS_TIERS),
    "demand.sibling_group_size_shares": 4,
    "placement.kinship_at_entry": len(AGE_BANDS),
    "placement.other_setting_at_entry": len(AGE_BANDS),
    "fostering.places_per_household_shares": 4,
    "market.tier_price_multipliers": len(NEEDS_TIERS),
    "breakdown.reason_shares_unplanned": 5,
    **{f"exits.{r}": len(AGE_BANDS) for r in HAZARD_ROUTES},
    **{f"exits.{r}_duration": len(DURATION_BAND_EDGES) for r in HAZARD_ROUTES},
}


def _check_number(key: str, value: Any, lo: float | None, hi: float | None, unit: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"config key '{key}' = {value!r}: expected a number ({unit})")
    if value != value:  # NaN
        raise ConfigError(f"config key '{key}' is NaN: expected a number ({unit})")
    if lo is not None and value < lo:
        raise ConfigError(f"config key '{key}' = {value}: must be >= {lo} ({unit})")
    if hi is not None and value > hi:
        raise ConfigError(f"config key '{key}' = {value}: must be <= {hi} ({unit})")


def _validate_node(node: Any, prefix: str) -> None:
    for f in fields(node):
        key = f"{prefix}{f.name}"
        value = getattr(node, f.name)
        if is_dataclass(value):
            _validate_node(value, key + ".")
            continue
        lo, hi, unit = f.metadata.get("lo"), f.metadata.get("hi"), f.metadata.get("unit", "")
        if lo is None and hi is None:
            continue
        if isinstance(value, dict):
            for k, v in value.items():
                _check_number(f"{key}.{k}", v, lo, hi, unit)
        elif isinstance(value, (list, tuple)):
            want = VECTOR_LENGTHS.get(key)
            if want is not None and len(value) != want:
                raise ConfigError(f"config key '{key}' has {len(value)} values: expected {want} ({unit})")
            for i, v in enumerate(value):
                _check_number(f"{key}[{i}]", v, lo, hi, unit)
            if key in SHARE_VECTORS and abs(sum(value) - 1.0) > 1e-6:
                raise ConfigError(f"config key '{key}' sums to {sum(value):.6g}: shares must sum to 1")
        else:
            _check_number(key, value, lo, hi, unit)


def to_object(cfg: Any) -> Config:
    """Turn a DictConfig (from Hydra) or a Config into a validated :class:`Config` object."""
    from omegaconf import DictConfig, OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    if isinstance(cfg, Config):
        obj = cfg
    else:
        try:
            if isinstance(cfg, dict) or isinstance(cfg, DictConfig) and OmegaConf.get_type(cfg) is not Config:
                cfg = OmegaConf.merge(OmegaConf.structured(Config), cfg)
            obj = OmegaConf.to_object(cfg)
        except OmegaConfBaseException as exc:
            raise ConfigError(_omegaconf_message(exc)) from None
    validate(obj)
    return obj


def _omegaconf_message(exc: Exception) -> str:
    key = getattr(exc, "full_key", None)
    first = str(exc).splitlines()[0]
    return f"config key '{key}': {first}" if key else f"config error: {first}"


def validate(cfg: Config) -> None:
    """Raise :class:`ConfigError` naming the first impossible value; check cross-field rules."""
    _validate_node(cfg, "")
    from rcc_sim.data import load_las

    known = set(load_las()["code"])
    for i, code in enumerate(cfg.world.la_codes):
        if code not in known:
            raise ConfigError(f"config key 'world.la_codes[{i}]' = {code!r}: no English LA has this ONS code")
    if len(set(cfg.world.la_codes)) != len(cfg.world.la_codes):
        raise ConfigError("config key 'world.la_codes' lists an LA twice")
    if cfg.provision.la_run_homes > cfg.provision.childrens_homes:
        raise ConfigError("config key 'provision.la_run_homes' exceeds 'provision.childrens_homes'")
    if cfg.provision.childrens_home_places < cfg.provision.childrens_homes:
        raise ConfigError("config key 'provision.childrens_home_places' is below one place per home")
    if cfg.exits.by_la_method not in ("ceased_rate", "stock_per_start"):
        raise ConfigError(
            f"config key 'exits.by_la_method' = {cfg.exits.by_la_method!r}: use ceased_rate or stock_per_start"
        )
    if cfg.output.float_dtype not in ("float32", "float64"):
        raise ConfigError(f"config key 'output.float_dtype' = {cfg.output.float_dtype!r}: use float32 or float64")
    if not isinstance(cfg.output.progress, bool) and str(cfg.output.progress).lower() not in ("auto", "true", "false"):
        raise ConfigError(f"config key 'output.progress' = {cfg.output.progress!r}: use auto, true or false")
    unknown_regions = set(cfg.provision.region_home_shares) - set(cfg.provision.property_cost_index)
    if unknown_regions:
        raise ConfigError(f"config key 'provision.region_home_shares' names unknown regions {sorted(unknown_regions)}")
    if sum(cfg.provision.region_home_shares.values()) > 1.0:
        raise ConfigError("config key 'provision.region_home_shares' sums to more than 1")
    _validate_study_parameters(cfg)


def _validate_study_parameters(cfg: Config) -> None:
    """The free parameters of a calibration or sensitivity study name numeric config keys."""
    for section in ("calibration", "sensitivity"):
        study = getattr(cfg, section)
        for i, fp in enumerate(study.parameters if study is not None else []):
            where = f"config key '{section}.parameters[{i}]'"
            try:
                current = get_path(cfg, fp.key)
            except ConfigError:
                raise ConfigError(f"{where}: '{fp.key}' is not a config parameter") from None
            if isinstance(current, list) and not fp.scale:
                raise ConfigError(f"{where}: '{fp.key}' is a list; vary it with scale: true")
            if isinstance(current, bool) or not isinstance(current, (int, float, list)):
                raise ConfigError(f"{where}: '{fp.key}' is not numeric")
            if not fp.lo < fp.hi or (fp.log and fp.lo <= 0):
                raise ConfigError(f"{where}: range [{fp.lo}, {fp.hi}] is empty (or not positive with log: true)")


def get_path(cfg: Any, key: str) -> Any:
    """The value at a dotted config path; ConfigError if there is none."""
    node = cfg
    for part in key.split("."):
        if not is_dataclass(node) or part not in {f.name for f in fields(node)}:
            raise ConfigError(f"config key '{key}' does not exist")
        node = getattr(node, part)
    return node


def with_values(cfg: Config, values: dict[str, Any]) -> Config:
    """A deep copy of ``cfg`` with dotted-path values set (lists copied); validated."""
    import copy

    out = copy.deepcopy(cfg)
    for key, value in values.items():
        *head, last = key.split(".")
        node = get_path(out, ".".join(head)) if head else out
        get_path(out, key)  # raises if missing
        setattr(node, last, list(value) if isinstance(value, (list, tuple)) else value)
    validate(out)
    return out


def parameter_table(cfg: Config | None = None) -> list[dict[str, Any]]:
    """Every parameter with its value, unit and source: for codebooks and reports."""
    cfg = cfg or Config()
    rows: list[dict[str, Any]] = []
    fitted = {f"{sec}.{name}" for sec, vals in CALIBRATED.get("values", {}).items() for name in (vals or {})}
    prov = CALIBRATED.get("provenance", {})
    fitted_note = (
        f"FITTED by the calibration study '{prov.get('study', '?')}' ({prov.get('date', '?')}, "
        f"commit {str(prov.get('git_commit'))[:10]}) to DfE/Ofsted national targets; "
        "see rcc_sim/data/calibrated.yaml"
    )

    def walk(node: Any, prefix: str) -> None:
        for f in fields(node):
            value = getattr(node, f.name)
            if is_dataclass(value):
                walk(value, f"{prefix}{f.name}.")
            elif "unit" in f.metadata:
                key = prefix + f.name
                source, assumption = f.metadata["source"], f.metadata["source"].startswith(ASSUMPTION)
                if key in fitted:
                    source = f"{fitted_note}; prior: {source}"
                    assumption = False
                rows.append(
                    {
                        "key": key,
                        "value": value,
                        "unit": f.metadata["unit"],
                        "source": source,
                        "assumption": assumption,
                        "calibrated": key in fitted,
                        "plausible_range": CALIBRATED.get("ranges", {}).get(key),
                    }
                )

    walk(cfg, "")
    return rows


__all__ = [
    "AGE_BANDS",
    "AGE_BAND_EDGES",
    "ASSUMPTION",
    "Config",
    "ConfigError",
    "DURATION_BAND_EDGES",
    "HAZARD_ROUTES",
    "NEEDS_TIERS",
    "get_path",
    "parameter_table",
    "register_configs",
    "to_object",
    "validate",
    "with_values",
]
