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

import math
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore

ASSUMPTION = "ASSUMPTION"  # marks a default with no published source; sweep it in sensitivity studies

from rcc_sim.vocab import (  # noqa: E402
    AGE_BAND_EDGES,
    AGE_BANDS,
    DURATION_BAND_EDGES,
    FORECAST_METHODS,
    HAZARD_ROUTES,
    NEEDS_TIERS,
)


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
# Every number has finite bounds, and every value within them runs (tests/test_property.py draws
# configs within the bounds); a bound is where a value stops meaning anything, not a plausible range.
# Counts of carers, homes and places go up to about three times England's published stock: beyond
# that the market described is not England's (and a run builds every unit of it, in every LA).
HAZARD = dict(lo=0.0, hi=12.0)  # per year: at most once a month on average
MULTIPLIER = dict(lo=0.0, hi=10.0)
STARTS_SOURCES = ("forecast", "published")  # demand.starts_source
STARTS_FORECASTS = ("level", "trend", "smoothing")  # demand.starts_forecast (rcc_sim/engine/forecast.py)


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
    start_year: int = param(
        2024, "year", "base date is 31 March of this year (2016-2024 published per LA)", lo=2016, hi=2024
    )
    spin_up_years: int = param(
        8,
        "years (0 = none)",
        "years of the model's own dynamics before the base date: the model starts at 31 March "
        "(start_year - spin_up_years), not before 2016, from the published stock and supply of that date and runs, "
        "driven by each LA's published starts, to the base date; outputs begin at the base date "
        "(rcc_sim/engine/spinup.py). 8 by default: from 31 March 2016, the first year of the per-LA series, "
        "so the builder's guesses about the start have washed out by the base date (with 5, from 2019, "
        "the share over 20 miles still moved 2.6 points in year one; with 8, under 0.3: experiments/spin_up.py)",
        lo=0,
        hi=8,
    )
    # recount every counter from the agents at each weekly record (slow; for tests)
    check_invariants: bool = False


@dataclass
class OutputConfig:
    write_netcdf: bool = True
    # dtype used for counts in the Dataset: float32 keeps a ten-year England run small
    float_dtype: str = "float32"
    # write report.html into the run directory after each run (see rcc-sim-report); unit: n/a, source: n/a
    report: bool = True
    # keep the spin-up's weeks and years (before the base date) in the Dataset, e.g. for the
    # validation page; off: the outputs begin at the base date (attrs: base_date, spin_up_years)
    # and the spin-up's weeks are not stored at all (less memory, a little less time); unit: n/a
    include_spin_up: bool = False
    # in a sweep (rcc-sim -m) or the workbench: keep each spin-up's state at the base date in
    # <sweep dir>/.spin_up and let the runs of other policies with the same config and seed go on
    # from it instead of simulating it again (same bits: rcc_sim.run.simulate); unit: n/a
    share_spin_up: bool = False
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
        1.0, "multiplier", "1.0 = starts per LA a year as demand.starts_source gives them (DfE CLA)", lo=0.0, hi=5.0
    )
    starts_source: str = param(
        "forecast",
        "choice: forecast or published",
        "forecast: each LA's starts in every simulated year forecast (demand.starts_forecast) from its "
        "published starts (DfE CLA) of the years up to and including the base year only, and per-LA exit "
        "rates from the figures up to the base year; published: the realised published starts of each "
        "simulated year (the latest published year for later years) and exit rates from every published "
        "year - a DIAGNOSTIC that sees the future when sim.start_year is before the last published year",
    )
    starts_forecast: str = param(
        "smoothing",
        "choice: level, trend or smoothing",
        "rcc_sim/engine/forecast.py; smoothing (alpha fitted on the history) had the lowest MAPE of next "
        "year's starts across LAs and beat persistence from every origin 2017-2022 "
        "(experiments/one_year_ahead.py --forecaster-only)",
    )
    starts_forecast_years: int = param(
        3,
        "years of published starts",
        ASSUMPTION + ": window of the level and trend forecasts (plausible 2-5; the series has 2016-2024)",
        lo=1,
        hi=9,
    )
    starts_trend_damping: float = param(
        0.8,
        "factor per year ahead",
        ASSUMPTION + ": damping of the trend forecast's slope (plausible 0.7-0.98, Gardner and McKenzie "
        "1985; 1 = straight line, 0 = trend held at its base-year value)",
        lo=0.0,
        hi=1.0,
    )
    entry_trend_per_year: float = param(
        0.0,
        "fraction per year",
        ASSUMPTION + ": extra growth of starts on top of demand.starts_source (0 = none)",
        lo=-0.5,
        hi=0.5,
    )
    start_age_shares: list[float] = param(
        [0.16, 0.15, 0.15, 0.26, 0.28],
        "share of starts by age band (<1, 1-4, 5-9, 10-15, 16-17)",
        "DfE CLA 2024 starting during the year by age",
        **SHARE,
    )
    uasc_by_year: bool = param(
        True,
        "switch",
        "DfE CLA via LAIT, UASC at 31 March 2016-2023 (national_timeseries): in the spin-up's years the UASC share "
        "of starts moves with the published UASC stock (rcc_sim/engine/world.py, uasc_factors); False: the base "
        "year's share throughout",
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
        hi=2000.0,
    )
    sibling_group_size_shares: list[float] = param(
        [0.74, 0.16, 0.07, 0.03],
        "share of entering groups of size 1, 2, 3, 4 (non-UASC under 16)",
        ASSUMPTION + ": about four in ten children enter care with a sibling",
        **SHARE,
    )
    secure_escalation_on_breakdown: float = param(
        0.018,
        "probability",
        ASSUMPTION + " (range 0.005-0.05, swept): a child with very complex needs (tier 2) comes to need secure "
        "welfare care (tier 3) after an unplanned ending. Set so that referrals for a secure welfare place "
        "(children entering care needing one, plus these) are about 420 a year (Nuffield FJO 2020: 420 "
        "referrals, 209 placements made): England, year from 31 Mar 2024, seed 0: 0 gives 251, 0.015 396, "
        "0.02 448 referrals",
        **SHARE,
    )
    needs_escalation_on_breakdown: float = param(
        0.11,
        "probability",
        ASSUMPTION + " (range 0-0.15): needs rise one tier after an unplanned ending. Set by the spin-up "
        "(seed 0) against DfE's children in children's homes and secure homes, 2020-2023 (7,100, 7,440, 7,610, "
        "8,020; cla_place_secure_and_childrens_homes_n): 0.11 gives 7,000, 6,800, 7,160, 7,950; 0.05, set "
        "before placements settled (breakdown.settled_multiplier), gave 6,360, 6,080, 6,420, 7,240",
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

    returned_home: list[float] = param([0.1414, 0.1234, 0.1028, 0.0894, 0.0568], "per year", FITTED, **HAZARD)
    adopted: list[float] = param([0.0915, 0.2614, 0.025, 0.0, 0.0], "per year", FITTED, **HAZARD)
    special_guardianship: list[float] = param([0.0992, 0.1476, 0.0677, 0.0245, 0.0083], "per year", FITTED, **HAZARD)
    child_arrangements_order: list[float] = param(
        [0.0279, 0.0333, 0.0127, 0.0044, 0.0019], "per year", FITTED, **HAZARD
    )
    lives_with_relatives: list[float] = param([0.0242, 0.032, 0.0293, 0.0159, 0.0216], "per year", FITTED, **HAZARD)
    independent_living: list[float] = param([0.0, 0.0, 0.0, 0.0, 0.0462], "per year", FITTED, **HAZARD)
    other: list[float] = param([0.0314, 0.0299, 0.0342, 0.0397, 0.1051], "per year", FITTED, **HAZARD)

    returned_home_duration: list[float] = param(
        [2.2, 1.0, 0.8, 0.6, 0.5],
        "multiplier by duration band",
        "ASSUMPTION: returns home are front-loaded",
        **MULTIPLIER,
    )
    adopted_duration: list[float] = param(
        [0.15, 0.9, 1.5, 1.0, 0.5],
        "multiplier by duration band",
        "ASSUMPTION: adoption orders take 1-2 years",
        **MULTIPLIER,
    )
    special_guardianship_duration: list[float] = param(
        [0.4, 1.0, 1.4, 1.0, 0.7], "multiplier by duration band", ASSUMPTION, **MULTIPLIER
    )
    child_arrangements_order_duration: list[float] = param(
        [0.6, 1.0, 1.2, 1.0, 0.8], "multiplier by duration band", ASSUMPTION, **MULTIPLIER
    )
    lives_with_relatives_duration: list[float] = param(
        [1.5, 1.0, 0.9, 0.8, 0.7], "multiplier by duration band", ASSUMPTION, **MULTIPLIER
    )
    independent_living_duration: list[float] = param(
        [0.5, 1.0, 1.0, 1.0, 1.0], "multiplier by duration band", ASSUMPTION, **MULTIPLIER
    )
    other_duration: list[float] = param(
        [1.4, 1.0, 0.8, 0.7, 0.6], "multiplier by duration band", ASSUMPTION, **MULTIPLIER
    )

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
    by_la_steady_state: bool = param(
        True,
        "switch",
        "turn each LA's published exit rate over England's into the hazard multiplier that gives that rate "
        "in steady state, and draw the LA's base-date stock (ages, times in care) from its own steady state. "
        "Hazards stop at 18 (children leave at 18 whatever the multiplier), so the exit rate is not "
        "proportional to the multiplier: a multiplier of 1.5 gives 1.36 times England's rate, 0.6 gives "
        "0.71 times (rcc_sim/engine/processes/demand.py ExitSampler). Off: the ratio itself is the "
        "multiplier and every LA's stock is drawn from England's steady state (before 2026-12)",
    )
    by_la_range: list[float] = param(
        [0.25, 4.0],
        "multiplier (min, max; min <= max)",
        ASSUMPTION + ": guards small LAs; with the steady-state mapping the published ratios of every LA "
        "but the City of London (0.55-2.63, DfE CLA 2022-2024) map to multipliers 0.31-3.4 (was 0.4-2.5 on the ratio)",
        **MULTIPLIER,
    )
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
    kinship_at_spin_up_start: float = param(
        0.73,
        "multiplier on kinship_at_entry for the stock at a spin-up's first day",
        "derived: children fostered by relatives or friends were 11.4% of children in care at 31 March 2015 "
        "(7,920 of 69,540, DfE CLA 2015 'A focus on placement'; data/national_timeseries_2015_2023.csv) "
        "against the 15.6% of 2024 that kinship_at_entry is fitted to: 11.4 / 15.6 = 0.73. Kinship care grew "
        "in between (Ofsted family-and-friends households 5,985 in 2016 -> 8,865 in 2024); the base-date "
        "share applied to a 2016 stock put 16% of it with kin (11,400 children). ASSUMPTION: 2016 as 2015 "
        "(not shipped); range 0.6-0.9 (0.82 if kinship children grew 2015-16 as Ofsted's households did, "
        "+12.5%). 1 = the base date's share; it applies only to a spin-up's first day",
        lo=0.0,
        hi=5.0,
    )
    with_parents_before_return_home: float = param(
        0.9, "probability", "set so that 6% of stock is placed with parents (DfE CLA 2024)", **SHARE
    )
    with_parents_lead_years: float = param(
        2.0, "years (mean)", "ASSUMPTION: set with the share above (6% of stock with parents)", lo=0.0, hi=10.0
    )
    adoption_placement_lead_years: float = param(
        0.85,
        "years (mean)",
        "ASSUMPTION: placement for adoption to order; 2.5% of stock (DfE CLA 2024)",
        lo=0.0,
        hi=10.0,
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
        lo=0.0,
        hi=1000.0,
    )
    need_mismatch_penalty_gbp: float = param(
        900.0, "GBP per week", ASSUMPTION + ": a placement below the child's needs tier", lo=0.0, hi=100000.0
    )
    sibling_split_penalty_gbp: float = param(400.0, "GBP per week per sibling apart", ASSUMPTION, lo=0.0, hi=100000.0)
    supported_first_16_17: float = param(
        0.7,
        "share of 16-17 year olds (not UASC) with standard needs",
        ASSUMPTION + ": care plan is supported accommodation; 7-10% of children are in it (DfE 2024, FOI 2024)",
        **SHARE,
    )
    step_to_supported_foster: float = param(
        0.0,
        "per year, from the 16th birthday",
        ASSUMPTION + " (range 0-1): a planned move of a 16-17 year old with standard or complex needs "
        "from a foster carer to supported accommodation (the step to semi-independence before leaving "
        "care); 0 leaves the route closed (as before 2026-12) until the trajectory calibration fits it "
        "on the 2020-2023 supported-accommodation counts (national_timeseries_2015_2023.csv)",
        lo=0.0,
        hi=HAZARD["hi"],
    )
    step_to_supported_home: float = param(
        0.0,
        "per year, from the 16th birthday",
        ASSUMPTION + " (range 0-2): the same step from a children's home (not a secure home)",
        lo=0.0,
        hi=HAZARD["hi"],
    )
    stretch_penalty_gbp: float = param(
        1500.0,
        "GBP per week",
        ASSUMPTION + ": cost of persuading a carer or home beyond its usual availability",
        lo=0.0,
        hi=100000.0,
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
        hi=500.0,
    )


@dataclass
class BreakdownParams:
    """Unplanned endings and planned moves, as hazards per year on each placement."""

    unplanned_foster: float = param(
        0.22, "per year", "fitted to DfE CLA 2024: 66,070 placement changes, 55% foster", lo=0.0, hi=12.0
    )
    unplanned_kinship: float = param(
        0.05, "per year", ASSUMPTION + ": kinship placements are the most stable", lo=0.0, hi=12.0
    )
    unplanned_home: float = param(0.5, "per year", "fitted to DfE CLA 2024 placement changes", lo=0.0, hi=12.0)
    unplanned_supported: float = param(0.25, "per year", ASSUMPTION, lo=0.0, hi=12.0)
    unplanned_other: float = param(0.05, "per year", ASSUMPTION, lo=0.0, hi=12.0)
    planned_foster: float = param(0.18, "per year", "fitted: care plan is 34% of changes (DfE 2025)", lo=0.0, hi=12.0)
    planned_home: float = param(0.25, "per year", "fitted: step-down from residential care", lo=0.0, hi=12.0)
    planned_supported: float = param(0.05, "per year", ASSUMPTION, lo=0.0, hi=12.0)
    first_year_multiplier: float = param(
        1.0,
        "multiplier on a placement's hazards in its first year",
        ASSUMPTION + " (range 1-2): placements are most likely to end early - most disruptions come in the "
        "first months (Sinclair, Wilson and Gibbs 2005; Oosterman et al. 2007 review); above 1 the share with "
        "3+ placements in a year rises off the published 9-11% (1.5: 19%; 2: 25%; spin-up to 2023, seed 0)",
        lo=0.0,
        hi=10.0,
    )
    settled_multiplier: float = param(
        0.25,
        "multiplier on a placement's hazards once it has lasted a year",
        ASSUMPTION + " (range 0.15-1; 1 = no duration dependence): a placement that has lasted is likely to "
        "last. With constant hazards only 38% of children under 16 in care 2.5 years were in the same "
        "placement for 2 years, published 68-71% (2019-2023, cla_longterm_stability_u16_2p5y_same_placement_"
        "2y_pct in data/national_timeseries_2015_2023.csv), and 16-17% had 3+ placements in a year, published "
        "9-11%; at 0.25 the spin-up gives 65% and 10.5% (0.15: 71% and 9.5%), but placement moves fall to "
        "~44,000 a year against 66,070 published (DfE CLA 2024): experiments/spin_up.py",
        lo=0.0,
        hi=10.0,
    )
    short_term_first_share: float = param(
        0.4,
        "share of single children entering foster care",
        ASSUMPTION + " (range 0-0.7): a child entering care alone and placed with a foster carer often goes "
        "first to a short-term or emergency carer and moves to the planned carer within months (a 'care plan' "
        "change, 34% of changes, DfE CLA 2025); such a move adds to placement changes (66,070 in 2023-24, "
        "data/national_calibration_targets.csv) but rarely to 3+ placements or long-term instability",
        **SHARE,
    )
    short_term_first_days: float = param(
        90.0,
        "days (mean)",
        ASSUMPTION + " (range 30-180): how long a short-term first placement lasts",
        lo=1.0,
        hi=3650.0,
    )
    secure_order_months: float = param(
        4.0,
        "months (mean)",
        "ASSUMPTION: secure welfare orders last about 3 months and are renewed; the need for secure care "
        "lasts this long whether or not a secure place is found (then needs are very complex, tier 2)",
        lo=0.1,
        hi=60.0,
    )
    stretch_multiplier: float = param(1.3, "multiplier for a stretched placement", ASSUMPTION, lo=0.0, hi=10.0)
    teen_multiplier: float = param(1.5, "multiplier at 10-17", ASSUMPTION, lo=0.0, hi=10.0)
    mismatch_multiplier: float = param(2.0, "multiplier when below needs tier", ASSUMPTION, lo=0.0, hi=10.0)
    distance_multiplier: float = param(1.3, "multiplier when > 20 miles from home", ASSUMPTION, lo=0.0, hi=10.0)
    history_multiplier: float = param(1.15, "multiplier per earlier move (up to 5)", ASSUMPTION, lo=0.0, hi=10.0)
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
    mainstream_households: int = param(
        33745, "households", "Ofsted Fostering in England 2023-24 (31 Mar 2024)", lo=0, hi=100000
    )
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
    kinship_outside_la_share: float = param(
        0.29,
        "share of kinship households",
        "DfE CLA 2015 'A focus on placement': 2,310 of 7,920 children fostered with a relative or friend were "
        "placed outside the LA boundary (cla_place_foster_relative_friend_outside_la_n); the latest year shipped",
        **SHARE,
    )
    complex_skill_share: float = param(0.25, "share of households", ASSUMPTION + ": trained for complex needs", **SHARE)
    kinship_join_existing_share: float = param(
        0.45,
        "share of children (or sibling groups) entering kinship care",
        ASSUMPTION + ": join a kinship household of their LA that already cares for a child (a sibling or "
        "cousin taken in by the same relatives), instead of a newly approved one; range 0.25-0.6 swept. Set "
        "so that kinship households hold about 1.5 children, as Ofsted's 8,865 family-and-friends "
        "households (31 Mar 2024, Fostering in England 2023-24) do for the ~13,000 children fostered by "
        "relatives or friends (15.6% of children in care, Sufficiency.org.uk FOI 2024): at 31 Mar 2024 "
        "(seed 0, after the spin-up) 0 gives 12,123 households, 0.3 10,112, 0.45 8,844 for ~13,700 children",
        **SHARE,
    )
    enquiries_per_year: float = param(
        125195.0, "enquiries per year", "Ofsted/DfE fostering recruitment (2022-23)", lo=0.0, hi=500000.0
    )
    application_rate: float = param(0.068, "applications per enquiry", "Ofsted 2023-24: 8,485 applications", **SHARE)
    approval_rate: float = param(
        0.48, "approvals per application", "Ofsted 2023-24: 4,055 joined / 8,485 applied", **SHARE
    )
    assessment_days: float = param(
        182.0, "days (mean)", "about six months (Ofsted; Fostering Network)", lo=1.0, hi=3650.0
    )
    in_house_applicant_share: float = param(
        0.50,
        "share of applicants choosing their LA",
        "fitted with the in-house household share to DfE CLA own provision 2015-2023 (48% -> 44% in 2020-2023) "
        "by refit_own_provision (rcc_sim/data/calibrated.yaml: 0.41); 0.5 here is the prior",
        **SHARE,
    )
    deregistration_rate: float = param(
        0.15,
        "per household per year",
        "set so that about 4,820 of 33,745 mainstream households leave a year (Ofsted 2023-24), deferrals included",
        lo=0.0,
        hi=12.0,
    )
    in_house_transfer_share: float = param(
        0.12,
        "share of in-house households' leavings",
        "prior 0.12 (range 0-0.25): LA carers who leave their LA's service to foster for an IFA (Ofsted counts "
        "them among deregistrations), from the sectors' diverging trends: LA households -230 and IFA "
        "+330 in 2019-20 (Ofsted, ofsted_fostering_net_household_change_LA/_IFA), LA approved places -4.1% in "
        "2022-23 against -2.9% for all mainstream households (LAIT), i.e. about 250-400 households a year of "
        "~2,200 in-house leavers. Fitted with the applicant share and the household mix to DfE CLA own "
        "provision 2015-2023 (cla_provider_own_la) by refit_own_provision: 0.04 (rcc_sim/data/calibrated.yaml); "
        "the fall of own provision comes mostly from new carers choosing IFAs",
        **SHARE,
    )
    quit_after_breakdown: float = param(
        0.0,
        "probability",
        ASSUMPTION + " (sensitivity 0-0.1): a carer leaving at once after an unplanned ending, ON TOP of "
        "deregistration_rate. 0 by default: the published leavers that deregistration_rate reproduces (Ofsted) "
        "already include carers who leave after a breakdown, and a separate hazard counted them twice - at 0.08 "
        "mainstream households fell 5 per cent a year over a 2019-2024 spin-up against 2.1 per cent published, "
        "and the loss fed back through longer distances and more breakdowns",
        **SHARE,
    )
    leave_defer_if_occupied: float = param(
        0.5, "probability", ASSUMPTION + ": a leaving carer often lets placed children move on first", **SHARE
    )
    in_house_cost_week: float = param(
        760.0,
        "GBP per child per week (standard needs; at least GBP 1: specialist carers are priced relative to it)",
        "set so that the average is PSSRU 2017's GBP 646 (allowance and social work) uprated by CPI (x1.3) to 2024",
        lo=1.0,
        hi=100000.0,
    )
    ifa_price_week: float = param(
        880.0,
        "GBP per child per week (standard needs)",
        "set so that the average is CMA 2021's GBP 820 (2020-21) uprated by CPI (x1.195) to 2024",
        lo=0.0,
        hi=100000.0,
    )
    kinship_cost_week: float = param(
        300.0,
        "GBP per child per week",
        ASSUMPTION + ": fostering allowance and support for kinship carers",
        lo=0.0,
        hi=100000.0,
    )


# --------------------------------------------------------------------------------------------
# 5. Children's homes, supported accommodation, secure homes
# --------------------------------------------------------------------------------------------
@dataclass
class ProvisionParams:
    childrens_homes: int = param(3491, "homes", "Ofsted children's social care data 2024 (31 Mar 2024)", lo=0, hi=10000)
    childrens_home_places: int = param(14486, "places", "Ofsted 2024 (about 4.1 places per home)", lo=0, hi=50000)
    la_run_homes: int = param(404, "homes", "Ofsted 2024", lo=0, hi=10000)
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
    secure_usable_share: float = param(
        0.66,
        "share of secure welfare places staffed and open",
        "DfE SA1 (secure children's homes, England and Wales): occupancy of approved places 66% at 31 March "
        "2022, 60% in 2023, while about half of welfare referrals find no place (Nuffield FJO 2020)",
        **SHARE,
    )
    usable_place_share: float = param(
        0.80,
        "share of registered places open to a new child",
        ASSUMPTION + ": registered places exceed what matching allows (9,272 children in 14,486 places, FOI 2024)",
        **SHARE,
    )
    opening_rate: float = param(
        0.12, "new homes per existing home per year", "Ofsted: homes up 44% in four years to 2024", lo=0.0, hi=1.0
    )
    new_home_places: float = param(
        3.2,
        "registered places per home opened (mean)",
        ASSUMPTION + " (range 2.5-4.2): homes opened in the run are smaller than the stock's average. "
        "Ofsted children's homes (excl. secure and residential special schools) went 2,221 -> 3,050 homes "
        "and 9,791 -> 11,857 places over 31 March 2019-2023 (4.41 -> 3.89 places a home; net +2.5 places "
        "per added home, ofsted_childrens_homes_providers/_places in data/national_timeseries_2015_2023.csv); "
        "with closure_rate 0.05 a home a year closing homes of the average size, the homes opened averaged "
        "about 3.1 places (3.4 over 2016-2023); 2.5 if no home closed, 4.2 if a tenth closed each year",
        lo=1.0,
        hi=20.0,
    )
    lead_time_days: float = param(
        300.0, "days (mean)", ASSUMPTION + ": planning and Ofsted registration", lo=0.0, hi=3650.0
    )
    closure_rate: float = param(0.05, "per home per year", ASSUMPTION, lo=0.0, hi=12.0)
    empty_closure_rate: float = param(0.5, "per empty home per year", ASSUMPTION, lo=0.0, hi=52.0)
    provider_failure_rate: float = param(0.01, "per private provider per year", ASSUMPTION, lo=0.0, hi=12.0)
    supported_places: int = param(
        9000,
        "places",
        ASSUMPTION + ": 258 providers (Ofsted 2024); 7-10% of children in supported accommodation",
        lo=0,
        hi=30000,
    )
    supported_places_per_setting: float = param(6.0, "places", ASSUMPTION, lo=1.0, hi=50.0)
    supported_opening_rate: float = param(
        0.10,
        "new settings per existing setting per year, at the target occupancy",
        ASSUMPTION + " (range 0-0.3): supported accommodation is quick to open (a rented property, "
        "registered with Ofsted only from 2023); children in it rose 6,510 -> 8,620 over 2020-2023 "
        "(DfE CLA, cla_place_independent_semiindependent_supported_accom_n)",
        lo=0.0,
        hi=1.0,
    )
    supported_lead_time_days: float = param(
        90.0, "days (mean)", ASSUMPTION + " (range 30-365): finding and fitting out a property", lo=0.0, hi=3650.0
    )
    target_occupancy: float = param(
        0.90,
        "share of usable places filled",
        ASSUMPTION + " (range 0.8-0.97): the national occupancy at which providers open homes and supported "
        "settings at their opening rates; fuller, they open more, emptier fewer",
        **SHARE,
    )
    entry_occupancy_elasticity: float = param(
        10.0,
        "log-openings per unit of national occupancy above the target",
        ASSUMPTION + " (range 0-30): providers open more where places are scarce (CMA 2022: supply responds "
        "to demand, slowly); 10 doubles openings at 7 points above the target; 0 switches the response off; "
        "the multiplier is capped at 10 (provision.MAX_ENTRY_MULTIPLIER)",
        lo=0.0,
        hi=50.0,
    )
    secure_homes: int = param(13, "homes", "Ofsted 2023 (NYAS)", lo=0, hi=100)
    secure_welfare_places: int = param(
        125, "places", "DfE SA1 2023: 230 places, 105 contracted to youth justice", lo=0, hi=1000
    )
    secure_justice_places: int = param(
        105,
        "places in the secure children's homes contracted to the Youth Custody Service",
        "DfE SA1 2023: 230 places, 105 contracted to youth justice",
        lo=0,
        hi=1000,
    )
    youth_justice_occupancy: float = param(
        0.9,
        "mean youth-justice children in the secure children's homes per contracted place (drawn each quarter, "
        "Poisson, home by home; above a home's contracted places they take its welfare beds)",
        ASSUMPTION + " (range 0.7-1.1): the youth custody population fell after 2010 and varies month to month",
        lo=0.0,
        hi=3.0,
    )
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
        "ratio to England median house price, for each of the nine regions (0.1-10: house prices are never free; "
        "providers' return is divided by it)",
        "ONS median house prices by region, year to March 2023 (rounded)",
        lo=0.1,
        hi=10.0,
    )
    entry_return_elasticity: float = param(
        1.5,
        "log-openings per unit of relative return",
        ASSUMPTION + ": providers open where returns are highest",
        lo=0.0,
        hi=10.0,
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
        hi=100000.0,
    )
    la_home_cost_week: float = param(
        5200.0,
        "GBP per child per week",
        ASSUMPTION + ": LA homes cost about as much as private ones",
        lo=0.0,
        hi=100000.0,
    )
    supported_price_week: float = param(
        1600.0, "GBP per child per week", ASSUMPTION + ": LGA/CCN range 1,000-3,000", lo=0.0, hi=100000.0
    )
    secure_price_week: float = param(
        7500.0, "GBP per child per week", ASSUMPTION + ": about GBP 1,000+ a night", lo=0.0, hi=100000.0
    )
    unregistered_price_week: float = param(
        9000.0,
        "GBP per child per week",
        ASSUMPTION + ": emergency and unregistered placements, often GBP 10k+",
        lo=0.0,
        hi=100000.0,
    )
    other_setting_price_week: float = param(
        3500.0, "GBP per child per week", ASSUMPTION + ": residential schools and other settings", lo=0.0, hi=100000.0
    )
    tier_price_multipliers: list[float] = param(
        [1.0, 1.25, 1.8, 2.4],
        "multiplier by needs tier, relative to the tier a kind of placement typically takes (0.05-20: a tier "
        "priced at 0 is not a price, and prices are divided by the typical tier's multiplier)",
        ASSUMPTION + ": CMA averages hide a long upper tail",
        lo=0.05,
        hi=20.0,
    )
    price_dispersion: float = param(0.25, "sd of log price", ASSUMPTION, lo=0.0, hi=2.0)
    scarcity_elasticity: float = param(
        1.0,
        "log-price per unit occupancy above reference",
        ASSUMPTION + ": spot prices rise when places are scarce",
        lo=0.0,
        hi=10.0,
    )
    # margins are mark-ups on cost (price = cost x (1 + margin)): at -1 the price would be 0 (and a
    # profit cap divides by 1 + margin), so a loss of more than half of the price is not modelled
    home_margin: float = param(0.226, "operating margin (-0.5 to 1)", "CMA 2022: largest 15 providers", lo=-0.5, hi=1.0)
    ifa_margin: float = param(0.19, "operating margin (-0.5 to 1)", "CMA 2021", lo=-0.5, hi=1.0)
    bespoke_share: float = param(
        0.16,
        "share of children with complex needs (tier 2-3)",
        ASSUMPTION + " (range 0.03-0.25, swept): need a bespoke package when in a children's home (solo "
        "placement, 2:1 or 3:1 staffing, emergency premium), the tail that puts the s251 residential unit cost "
        "(GBP 5,980 per child-week in 2022-23 cash, DfE s251 outturn) above the average home price. Set so "
        "that the model's spend on homes and secure per child-week in the year from 31 Mar 2024 (2024 prices) "
        "is at least that: 5,899 at 0.16 (seed 0), the mean price in homes about 5,000 with no packages",
        **SHARE,
    )
    bespoke_multiplier: float = param(
        2.5,
        "multiplier on the home's price",
        ASSUMPTION + " (range 1.5-4, swept): solo and bespoke placements are reported at GBP 10-20k+ a week, "
        "2-4 times the average home price (CCN 2024 average GBP 5,500-6,100)",
        lo=1.0,
        hi=20.0,
    )
    high_cost_threshold_week: float = param(
        10000.0, "GBP per week", "DfE/LGA definition of high-cost placements", lo=0.0, hi=1000000.0
    )
    # Provider economics (issue 13 pt 4; rcc_sim/engine/processes/market_health.py): a provider's
    # operating cost is a fixed cost per usable place, filled or not, plus a variable cost per child,
    # set so that at the reference occupancy (provision.target_occupancy) and the mean price of the
    # children placed at the base date cost / revenue is the cost ratio. Outputs only.
    home_cost_ratio: float = param(
        0.774,
        "operating cost / revenue at the reference occupancy",
        "CMA, Children's social care market study, final report (10 March 2022): the largest 15 children's "
        "home providers' average operating profit margin 22.6% (2016-2020), so cost = 77.4% of revenue "
        "(national_calibration_targets.csv margin_childrens_homes_largest). ASSUMPTION (range 0.70-0.95): "
        "every private and voluntary home has the largest providers' cost ratio",
        lo=0.05,
        hi=2.0,
    )
    ifa_cost_ratio: float = param(
        0.806,
        "operating cost / revenue at the reference occupancy",
        "CMA final report (2022): the largest IFAs' average operating profit margin 19.4% (2016-2020; "
        "margin_ifa_largest 0.19, CMA interim report 2021). ASSUMPTION (range 0.75-0.95): every IFA alike",
        lo=0.05,
        hi=2.0,
    )
    supported_cost_ratio: float = param(
        0.85,
        "operating cost / revenue at the reference occupancy",
        ASSUMPTION + " (range 0.75-0.95): no published margin for supported accommodation",
        lo=0.05,
        hi=2.0,
    )
    home_fixed_cost_share: float = param(
        0.7,
        "share of a home's operating cost at the reference occupancy that is fixed per usable place",
        ASSUMPTION + " (range 0.5-0.9): staff rotas and property are paid whether a place is filled or not",
        **SHARE,
    )
    ifa_fixed_cost_share: float = param(
        0.25,
        "share of an IFA's operating cost at the reference occupancy that is fixed per usable place",
        ASSUMPTION + " (range 0.1-0.5): supervising social workers, recruitment and training per approved "
        "household; carers' fees and allowances are paid per child placed",
        **SHARE,
    )
    supported_fixed_cost_share: float = param(
        0.6,
        "share of a supported setting's operating cost at the reference occupancy fixed per usable place",
        ASSUMPTION + " (range 0.4-0.8): rent and core staffing",
        **SHARE,
    )
    # How providers respond to one-customer buying and block prices (RCC levers on only)
    block_entry_elasticity: float = param(
        4.4,
        "fall in log-openings of private homes in a region per unit of revenue at risk (the share of the "
        "region's usable private home places block-contracted to an RCC x the contract's discount below spot)",
        ASSUMPTION + " (range 0-10): 1 / 0.226, openings in proportion to the expected operating profit "
        "(CMA 2022 margin); 0 switches it off. Acts only where an RCC holds block contracts",
        lo=0.0,
        hi=50.0,
    )
    monopsony_entry_elasticity: float = param(
        0.5,
        "fall in log-openings of private homes in a region per unit of an RCC's share of the region's usable "
        "private home places (its members' children in them and its block places)",
        ASSUMPTION + " (range 0-2): providers are wary of depending on one buyer (CMA 2022: few large buyers "
        "could push prices below cost); 0 switches it off. Acts only where an RCC buying as one customer "
        "(pooled search, buyer power or block contracts) is live, and in England worlds only",
        lo=0.0,
        hi=20.0,
    )
    block_price_pass_through: float = param(
        0.5,
        "fall in the spot prices of a region's other private homes per unit of revenue at risk (as for "
        "block_entry_elasticity)",
        ASSUMPTION + " (range -0.5 to 1): the block price becomes the region's reference price; negative: "
        "providers raise spot prices to recover the block discount. Acts only where an RCC holds block contracts",
        lo=-1.0,
        hi=1.0,
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
    opt_out: list[str] = field(default_factory=list)  # with region: its LAs (ONS codes) that stay out
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
    development_years: float = param(
        -1.0,
        "years from start to the development stage (-1: none, every function at go-live)",
        "DfE RCC programme 2026-28: each RCC passes through foundation, development and delivery stages. "
        "From this date (if before go-live) the RCC's planning functions work - forecasting and its "
        "sufficiency plan, the recruitment hub (enquiry uplift, in-house applicant share, retention); "
        "the commissioning and delivery functions (pooled search, buyer power, block contracts, health "
        "co-funding, secure places, homes, bedrooms, specialist carers) start at go-live (delivery). "
        "ASSUMPTION: which function belongs to which stage",
        lo=-1.0,
        hi=10.0,
    )
    # --- set-up and running costs (GBP, 2024 prices) -------------------------------------------
    setup_cost_gbp: float = param(
        2.5e6,
        "GBP over the ramp-up",
        ASSUMPTION + " (range 1-5m): legal, HR, commercial, IT, data, programme team",
        lo=0.0,
        hi=1000000000.0,
    )
    running_cost_gbp_per_year: float = param(
        1.5e6,
        "GBP per year from go-live",
        ASSUMPTION + " (range 0.5-3m): the RCC's commissioning team and systems",
        lo=0.0,
        hi=1000000000.0,
    )
    programme_funding_gbp: float = param(
        1.73e6,
        "GBP over two years from start",
        "DfE pathfinder page (Nov 2024): GBP 3.46m for both regions",
        lo=0.0,
        hi=1000000000.0,
    )
    capital_funding_gbp: float = param(
        0.0, "GBP", "DfE pathfinder page (Nov 2024): up to GBP 5m capital per region", lo=0.0, hi=10000000000.0
    )
    # --- (a) one placement search; in-house capacity of any member for any member's child -----
    pooled_search: bool = False
    pooled_search_miles: float = param(
        30.0,
        "miles between LA points",
        ASSUMPTION + " (range 15-80): members' in-house carers and homes further "
        "than this from the child's LA are not offered (the child's own LA always is)",
        lo=0.0,
        hi=500.0,
    )
    # --- (b) regional forecasting feeding the yearly sufficiency plan --------------------------
    forecasting: bool = False
    forecast_error_sd: float = param(
        0.10,
        "sd of log error added to the method's forecast (judgement; not to perfect foresight)",
        ASSUMPTION + " (range 0-0.3)",
        lo=0.0,
        hi=2.0,
    )
    forecast_method: str = "markov"  # naive | markov | perfect (rcc_sim/engine/sufficiency.py)
    markov_years: int = param(
        3,
        "years of the RCC's own simulated history the Markov transition model is fitted to",
        ASSUMPTION + " (range 1-5): demand tools fit transition rates to the last few years",
        lo=1,
        hi=10,
    )
    plan_controlled_share: float = param(
        0.0,
        "share of the forecast residential need the yearly plan covers with places the RCC controls "
        "(members' LA homes, RCC homes, block places, specialist carers); 0: no provision plan, the "
        "block places, homes and specialist carers are set once at go-live",
        ASSUMPTION + " (range 0.2-0.6 when planning): sufficiency strategies aim at a local core of places",
        lo=0.0,
        hi=2.0,
    )
    block_term_years: float = param(
        2.0,
        "years a block contract runs before the yearly plan renews or ends it (with a provision plan)",
        ASSUMPTION + " (range 1-5): LA block contracts typically run 2-5 years",
        lo=0.25,
        hi=20.0,
    )
    # --- (c) market shaping and negotiation as one customer ------------------------------------
    buyer_power_discount: float = param(
        0.0,
        "share off spot prices",
        ASSUMPTION + " (range 0-0.10): CMA found LAs have little buyer power alone",
        lo=0.0,
        hi=0.5,
    )
    block_places: int = param(
        0, "children's home places on block contract", ASSUMPTION + " (range 0-100)", lo=0, hi=1000
    )
    block_discount: float = param(0.10, "share off the spot price", ASSUMPTION + " (range 0.05-0.2)", lo=0.0, hi=0.9)
    # --- (d) health and justice co-commissioning ----------------------------------------------
    health_cofunding_share: float = param(
        0.0, "share of complex-needs placement cost paid by health", ASSUMPTION + " (range 0-0.25)", lo=0.0, hi=1.0
    )
    shared_secure_places: int = param(0, "secure welfare places added for the region", ASSUMPTION, lo=0, hi=200)
    # secure places commissioned with youth justice: the places contracted to it and left empty by
    # its demand, in the secure homes of the members' regions, take welfare children too
    shared_secure_commissioning: bool = False
    therapeutic_breakdown_reduction: float = param(
        0.0,
        "fractional fall in the unplanned-ending hazard of members' children with complex needs (tier 1+) "
        "from jointly funded therapeutic and mental-health support (0: none funded)",
        ASSUMPTION + " (range 0.05-0.3 when funded): therapeutic and multidimensional treatment foster care "
        "trials report fewer placement breakdowns; the size for English services is not established",
        lo=0.0,
        hi=0.9,
    )
    therapeutic_escalation_reduction: float = param(
        0.0,
        "fractional fall in the chance that a breakdown escalates a complex-needs child's needs (to very complex, "
        "or to secure welfare care) with the same support",
        ASSUMPTION + " (range 0.1-0.5 when funded)",
        lo=0.0,
        hi=1.0,
    )
    therapeutic_cost_week: float = param(
        250.0,
        "GBP per complex-needs child in care per week while the support is funded (health and LA together)",
        ASSUMPTION + " (range 150-600): a weekly clinical session for the child and consultation for carers",
        lo=0.0,
        hi=10000.0,
    )
    # --- (e) regional foster carer recruitment and retention hub -------------------------------
    enquiry_uplift: float = param(
        0.0, "fractional rise in fostering enquiries", ASSUMPTION + " (range 0-0.3)", lo=0.0, hi=5.0
    )
    in_house_applicant_uplift: float = param(
        0.0,
        "points added to the share of applicants choosing their LA (fostering.in_house_applicant_share; "
        "the sum capped at 1; 0: unchanged)",
        ASSUMPTION + " (range 0-0.2): a lift on the status quo's share, so that a refit of that share "
        "does not change what the hub adds",
        lo=0.0,
        hi=1.0,
    )
    retention_improvement: float = param(
        0.0, "fractional fall in in-house deregistration", ASSUMPTION + " (range 0-0.3)", lo=0.0, hi=1.0
    )
    # --- (f) new provision: RCC-run homes and specialist foster care ---------------------------
    homes_to_build: int = param(
        0, "children's homes", ASSUMPTION + ": built from capital within the budget", lo=0, hi=200
    )
    home_build_cost_gbp: float = param(
        1.2e6,
        "GBP per home (at least GBP 1,000: a home is never free, and the capital funding buys capital / cost homes)",
        ASSUMPTION + " (range 0.8-2m): purchase and adaptation of a 4-bed home",
        lo=1000.0,
        hi=100000000.0,
    )
    home_build_lead_days: float = param(
        540.0, "days", ASSUMPTION + " (range 365-900): purchase, planning, registration", lo=0.0, hi=3650.0
    )
    home_places: int = param(4, "places per RCC home", "Ofsted 2024: about 4.1 places per home", lo=1, hi=20)
    foster_rooms: int = param(
        0,
        "extra foster bedrooms funded",
        "capital for the RCC's in-house carers to add a bedroom, each letting one household take one more "
        "child (GM 'Room Makers': 40+ bedrooms, 2025); the households are drawn at random at go-live",
        lo=0,
        hi=10000,
    )
    foster_room_cost_gbp: float = param(
        25000.0,
        "GBP per bedroom (capital)",
        ASSUMPTION + " (range 10,000-60,000): a loft or extension conversion grant",
        lo=0.0,
        hi=1000000.0,
    )
    specialist_carers: int = param(
        0,
        "specialist (therapeutic) foster households recruited",
        ASSUMPTION + ": new forms of care for complex needs",
        lo=0,
        hi=1000,
    )
    specialist_cost_week: float = param(
        1800.0,
        "GBP per child per week",
        ASSUMPTION + " (range 1,200-2,500): enhanced allowance and clinical support",
        lo=0.0,
        hi=100000.0,
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
        "fractional cut in RCCs' (and planning LAs') forecast error",
        "national forecasting support; ASSUMPTION (range 0-0.5)",
        lo=0.0,
        hi=1.0,
    )
    # Each LA commissioning alone makes a yearly sufficiency plan that sets its recruitment effort
    # from its own forecast, as a forecasting RCC does (engine/commissioning.py). Off in the status
    # quo: the LAs' recruitment is in the calibrated enquiry rates.
    la_sufficiency_plans: bool = False
    la_forecast_method: str = "naive"  # naive | markov | perfect: an LA's own forecast (the last year, today)
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
        hi=1000,
    )
    capital_secure_places: int = param(
        0, "secure welfare places added", "GBP 259m programme (part); ASSUMPTION", lo=0, hi=500
    )
    capital_start_years: float = param(1.0, "years after the base date", ASSUMPTION, lo=0.0, hi=50.0)
    financial_oversight: bool = False  # a failing large provider's homes transfer instead of closing
    end_unregistered: bool = (
        False  # standards reform: no unregistered placements (a child stays in a stretched registered one)
    )
    planning_lead_time_multiplier: float = param(
        1.0, "multiplier on new homes' lead time", "planning reform; ASSUMPTION (range 0.5-1)", lo=0.0, hi=5.0
    )
    profit_cap_margin: float = param(
        -1.0,
        "maximum operating margin (-1: no cap; otherwise 0-1)",
        "Children's Wellbeing and Schools Act 2026 s.17",
        lo=-1.0,
        hi=1.0,
    )
    profit_cap_entry_elasticity: float = param(
        2.0,
        "fall in openings per unit of margin removed",
        ASSUMPTION + " (range 0-5): effect of a cap on entry",
        lo=0.0,
        hi=20.0,
    )


@dataclass
class RolloutConfig:
    """National roll-out: one RCC per region, each a copy of ``template``, starting in turn."""

    regions: list[str] = field(default_factory=list)  # DfE regions, in order of start
    opt_out: list[str] = field(default_factory=list)  # LAs (ONS codes) that join no roll-out RCC
    first_start_years: float = param(1.0, "years after the base date", ASSUMPTION, lo=0.0, hi=50.0)
    stagger_years: float = param(0.5, "years between one region's start and the next", ASSUMPTION, lo=0.0, hi=10.0)
    # or each region's own start (years after the base date, 0-50), in the order of ``regions``:
    # for waves of RCCs starting together (configs/policy/rcc_wave_2026.yaml)
    region_start_years: list[float] = field(default_factory=list)
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
    n_trials: int = param(
        100, "completed trials in all (resumed runs count earlier ones)", "study design", lo=1, hi=1000000
    )
    workers: int = param(2, "parallel processes", "this machine has 2 cores", lo=1, hi=256)
    seeds: list[int] = field(default_factory=lambda: [0])
    sampler_seed: int = 0
    fit_exit_hazards: bool = True  # stage 1: exit hazards by route and age to steady-state moments (scipy)
    rescale_prices: bool = True  # stage 3: base prices rescaled so average prices match the published ones
    # refit: fit only the listed parameters, every other one at its installed value
    # (rcc_sim/data/calibrated.yaml); the written file keeps the installed values and ranges of the
    # others and records the fit it refines (rcc_sim/studies/calibration.py, "Refit")
    refit: bool = False
    count_tolerance: float = param(
        0.05, "relative error counted as one unit of loss", "issue 4: within 5%", lo=1e-06, hi=10.0
    )
    share_tolerance: float = param(
        0.02, "share error counted as one unit of loss", "issue 4: within 2 points", lo=1e-06, hi=1.0
    )
    excluded_targets: list[str] = field(default_factory=list)  # reported, not in the loss
    # base_year: the year-to-31-March-2024 targets only; trajectory: those plus every published
    # national measure in each year of ``trajectory_years`` and the per-LA fit of the per-LA series
    # (rcc_sim/studies/calibration.py, "Loss")
    loss: str = "base_year"
    trajectory_years: list[int] = field(default_factory=lambda: [2017, 2023])  # first and last statistical year
    la_count_tolerance: float = param(
        0.10,
        "per-LA mean absolute error, as a share of the mean published per-LA value, counted as one unit of loss",
        "ASSUMPTION (0.05-0.2): per-LA counts are published rounded and vary by 5-10% a year",
        lo=1e-06,
        hi=10.0,
    )
    la_share_tolerance: float = param(
        0.05,
        "per-LA mean absolute error of a share counted as one unit of loss",
        "ASSUMPTION (0.02-0.1): per-LA shares of small LAs move several points a year",
        lo=1e-06,
        hi=1.0,
    )
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
    n_samples: int = param(64, "parameter sets (Latin hypercube)", "study design", lo=4, hi=1000000)
    workers: int = param(2, "parallel processes", "this machine has 2 cores", lo=1, hi=256)
    sampler_seed: int = 0
    use_calibrated_ranges: bool = True  # vary every calibrated parameter within its plausible range
    parameters: list[FreeParameter] = field(default_factory=list)  # further (assumed) parameters


@dataclass
class WorkbenchDesign:
    """One RCC design for the co-design workbench: a name (also its directory: letters, digits and
    ``_ - . = , +``), a sentence for the report, and its lever settings as dotted policy keys set over
    the experiment's policy, e.g. ``policy.rccs.south_east.block_places: 40``."""

    name: str = ""
    description: str = ""
    levers: dict[str, Any] = field(default_factory=dict)


@dataclass
class WorkbenchConfig:
    """The co-design workbench (``rcc-sim-workbench +experiment=workbench_south_east``): each design
    and the status quo on the same seeds (common random numbers), ranked on the outcomes chosen
    (rcc_sim/studies/workbench.py)."""

    study_name: str = "workbench"
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2, 3, 4])
    jobs: int = param(2, "parallel processes", "this machine has 2 cores", lo=1, hi=256)
    designs: list[WorkbenchDesign] = field(default_factory=list)
    # more designs: every combination of these levers' values (dotted policy key -> list of values),
    # each named after its values, set over the experiment's policy
    grid: dict[str, Any] = field(default_factory=dict)
    # outcomes shown: names in rcc_sim.studies.workbench.outcome_names() (empty: those of rcc-sim-compare)
    outcomes: list[str] = field(default_factory=list)
    # outcomes ranked on, in order of weight in ties: "<outcome>" (its usual direction) or
    # "<outcome>:lower" / "<outcome>:higher" (which is better)
    rank_by: list[str] = field(default_factory=lambda: ["net_cost_gbp_m"])
    rank_area: str = ""  # "RCC <name>", "outside RCCs" or "England" ("": the first RCC)


@dataclass
class PsaConfig:
    """The probabilistic roll-out appraisal (``rcc-sim-psa +experiment=rollout_psa``;
    rcc_sim/studies/psa/): each draw sets the uncertain inputs (RCC lever sizes within their
    ASSUMPTION ranges, calibrated parameters within their plausible ranges) and a seed, and runs the
    policy and the status quo on that seed."""

    study_name: str = "rollout_psa"
    n_draws: int = param(100, "draws (policy and status quo runs each)", "issue 14: at least 100", lo=2, hi=1000000)
    workers: int = param(2, "parallel processes", "this machine has 2 cores", lo=1, hi=256)
    sampler: str = "sobol"  # sobol (scrambled; the first n draws stay the same when n grows) | latin
    sampler_seed: int = 0
    first_seed: int = 0  # draw i runs on seed first_seed + i (stochastic uncertainty in the spread)
    draw: int = -1  # >= 0: run only this draw (one job of a sweep: rcc-sim-psa -m psa.draw='range(0,100)')
    run_missing: bool = True  # false: only summarise the draws already done (after a sweep)
    use_calibrated_ranges: bool = True  # draw every calibrated parameter within its plausible range
    every_rcc: bool = True  # a policy.rollout.template lever is also set in every RCC of policy.rccs
    parameters: list[FreeParameter] = field(default_factory=list)  # the uncertain inputs besides calibrated
    groups: dict[str, list[str]] = field(default_factory=dict)  # group -> input keys or fnmatch patterns
    # net benefit of the roll-out = -NPC (GBP m) + sum of weight x per-child outcome difference
    # (GBP m per unit); empty: cost only
    outcome_weights: dict[str, float] = field(default_factory=dict)
    perspective: str = "public_sector"  # net benefit without transfers (Green Book) | local_authorities
    rate: float = param(0.035, "per year, real", "HM Treasury Green Book (2022): STPR 3.5%", lo=0.0, hi=0.5)
    tornado: bool = False  # run the one-at-a-time swings (range ends, others at the base case) instead
    tornado_seeds: list[int] = field(default_factory=lambda: [0])
    # an evaluation study (rcc-sim-evaluate's output) whose design table the decision page shows
    # ("which design detects what, by when"); empty: the page says none was given
    designs: str = ""


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
    workbench: WorkbenchConfig | None = None  # set only by a workbench study
    psa: PsaConfig | None = None  # set only by a probabilistic roll-out appraisal
    seed: int = 0


@dataclass
class _PolicySchema(PolicyConfig):
    """The policy schema Hydra composes against. OmegaConf cannot create a typed RCCConfig entry
    from a command-line override, so here the entries of ``rccs`` are untyped: that lets
    ``+policy.rccs.<new name>.members=[...]`` add an RCC. :func:`to_object` then types every entry
    as an RCCConfig, refusing unknown keys and wrong types with the key's name."""

    rccs: dict[str, Any] = field(default_factory=dict)


@dataclass
class _ConfigSchema(Config):
    policy: _PolicySchema = field(default_factory=_PolicySchema)


def register_configs() -> None:
    """Put the schema in Hydra's ConfigStore (idempotent)."""
    cs = ConfigStore.instance()
    cs.store(name="rcc_sim_schema", node=_ConfigSchema)
    cs.store(group="world", name="world_schema", node=WorldConfig)
    cs.store(group="policy", name="policy_schema", node=_PolicySchema)


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
    "exits.by_la_range": 2,
}
RANGE_PAIRS = {"exits.by_la_range"}  # (min, max) lists: min <= max


def _check_number(key: str, value: Any, lo: float | None, hi: float | None, unit: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"config key '{key}' = {value!r}: expected a number ({unit})")
    if not math.isfinite(value):
        raise ConfigError(f"config key '{key}' = {value}: expected a finite number ({unit})")
    if lo is not None and value < lo:
        raise ConfigError(f"config key '{key}' = {value}: must be >= {lo} ({unit})")
    if hi is not None and value > hi:
        raise ConfigError(f"config key '{key}' = {value}: must be <= {hi} ({unit})")


def _check_finite(key: str, value: Any) -> None:
    """Any number anywhere in the config (bounded or not) must be finite."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"config key '{key}' = {value}: expected a finite number")
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_finite(f"{key}[{i}]", v)
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_finite(f"{key}.{k}", v)


# levers whose -1 means "unchanged"/"no cap": any other value must be a share or margin in [0, 1]
SENTINEL_OFF = ("profit_cap_margin", "development_years")
# seeds feed numpy's SeedSequence (which refuses negative seeds) and are written as a signed 64-bit
# NetCDF attribute (which cannot hold 2**63 or more): 0 <= seed < 2**63
SEED_MAX = 2**63 - 1


def _validate_node(node: Any, prefix: str) -> None:
    for f in fields(node):
        key = f"{prefix}{f.name}"
        value = getattr(node, f.name)
        if is_dataclass(value):
            _validate_node(value, key + ".")
        elif isinstance(value, list) and value and all(is_dataclass(v) for v in value):
            for i, v in enumerate(value):
                _validate_node(v, f"{key}[{i}].")
        elif isinstance(value, dict) and value and all(is_dataclass(v) for v in value.values()):
            for name, v in value.items():  # policy.rccs.<name>: each RCC's levers
                _validate_node(v, f"{key}.{name}.")
        else:
            _check_finite(key, value)
            _validate_leaf(f, key, value)


def _validate_leaf(f: Any, key: str, value: Any) -> None:
    """A parameter's value within its declared bounds (every element of a list or dict)."""
    lo, hi, unit = f.metadata.get("lo"), f.metadata.get("hi"), f.metadata.get("unit", "")
    if lo is None and hi is None:
        return
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
        if key in RANGE_PAIRS and value[0] > value[1]:
            raise ConfigError(f"config key '{key}' = {list(value)}: the first value (min) exceeds the second (max)")
    else:
        _check_number(key, value, lo, hi, unit)
        if f.name in SENTINEL_OFF and -1.0 < value < 0.0:
            raise ConfigError(f"config key '{key}' = {value}: use -1 (off) or a value from 0 to {hi:g} ({unit})")


def check_seed(key: str, value: Any) -> None:
    """A random seed: an integer with 0 <= seed < 2**63 (see :data:`SEED_MAX`)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"config key '{key}' = {value!r}: a seed is a whole number")
    if not 0 <= value <= SEED_MAX:
        raise ConfigError(
            f"config key '{key}' = {value}: a seed must be from 0 to 2**63-1 (numpy refuses negative seeds; "
            "NetCDF stores the seed as a signed 64-bit integer)"
        )


def check_seeds(key: str, seeds: Any) -> None:
    """A list of replicate seeds: at least one, each a valid seed, none twice (a seed counted twice
    is one replicate, and would narrow an interval that only it supports)."""
    if not isinstance(seeds, (list, tuple)) or not seeds:
        raise ConfigError(f"config key '{key}' = {seeds!r}: give at least one seed, e.g. [0,1,2,3,4]")
    for i, s in enumerate(seeds):
        check_seed(f"{key}[{i}]", s)
    twice = sorted({s for s in seeds if list(seeds).count(s) > 1})
    if twice:
        raise ConfigError(f"config key '{key}' lists seeds {twice} more than once: each seed is one replicate")


def to_object(cfg: Any) -> Config:
    """Turn a DictConfig (from Hydra), a dict or a Config into a validated :class:`Config` object.

    A DictConfig or dict is merged into a fresh structured :class:`Config`, so a key that is not in
    the schema (e.g. one added on the command line with ``+``) is refused, with its name."""
    from omegaconf import DictConfig, OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    if isinstance(cfg, Config):
        obj = cfg
    else:
        if not isinstance(cfg, (dict, DictConfig)):
            raise ConfigError(f"config: expected a mapping, got {type(cfg).__name__}")
        try:
            data = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else cfg
            obj = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(Config), data))
        except OmegaConfBaseException as exc:
            raise ConfigError(_omegaconf_message(exc)) from None
    validate(obj)
    return obj


def _field_names(key: str) -> list[str]:
    """The fields of the schema node that holds dotted ``key`` (for 'did you mean')."""
    import re
    import typing

    node: Any = Config
    parts = [re.sub(r"\[\d+\]$", "", p) for p in key.split(".")[:-1]]
    i = 0
    while i < len(parts):
        if not is_dataclass(node) or parts[i] not in {f.name for f in fields(node)}:
            return []
        hint = typing.get_type_hints(node)[parts[i]]
        if typing.get_origin(hint) is dict:
            i += 1  # policy.rccs.<name>: the entry's name is free
        node = _dataclass_in(hint)
        i += 1
    return [f.name for f in fields(node)] if is_dataclass(node) else []


def _dataclass_in(hint: Any) -> Any:
    """The dataclass a type hint holds (itself, or inside Optional/list/dict), or None."""
    import typing

    if is_dataclass(hint):
        return hint
    return next((d for d in map(_dataclass_in, typing.get_args(hint)) if d is not None), None)


# RCC levers renamed when their meaning changed: an old config (a manifest of an earlier commit)
# gets the new name and how to convert, instead of a bare "not a parameter"
RENAMED_LEVERS = {
    "in_house_applicant_share": "renamed 'in_house_applicant_uplift' (2026-12-05): the points added to the "
    "status quo's fostering.in_house_applicant_share, so an absolute 0.55 is now 0.05; to reproduce a run "
    "of an earlier commit, check that commit out",
}


def renamed_message(key: Any) -> str | None:
    """The error for a renamed RCC lever (:data:`RENAMED_LEVERS`), or None."""
    key = str(key) if key else ""
    last = key.split(".")[-1]
    if key.startswith("policy.") and last in RENAMED_LEVERS:
        return f"config key '{key}' was {RENAMED_LEVERS[last]}"
    return None


def _omegaconf_message(exc: Exception) -> str:
    import difflib

    from omegaconf.errors import ConfigAttributeError, ConfigKeyError

    key = getattr(exc, "full_key", None)
    first = str(exc).splitlines()[0]
    renamed = renamed_message(key)
    if renamed:
        return renamed
    if key and isinstance(exc, (ConfigKeyError, ConfigAttributeError)):
        *head, last = str(key).split(".")
        close = difflib.get_close_matches(last, _field_names(str(key)), n=1)
        hint = f" (did you mean '{'.'.join([*head, close[0]])}'?)" if close else ""
        return f"config key '{key}' is not a parameter{hint}"
    return f"config key '{key}': {first}" if key else f"config error: {first}"


def validate(cfg: Config) -> None:
    """Raise :class:`ConfigError` naming the first impossible value; check cross-field rules.

    Also checks the published data the run will read (a :class:`rcc_sim.data.DataError` names the
    file at fault) and resolves every RCC's members (:func:`rcc_members`), so that nothing is
    refused once a run has started."""
    _validate_node(cfg, "")
    check_seed("seed", cfg.seed)
    check_seeds("compare.seeds", cfg.compare.seeds)
    for section in ("calibration", "sensitivity", "psa"):
        study = getattr(cfg, section)
        if study is not None:
            check_seed(f"{section}.sampler_seed", study.sampler_seed)
            if section == "calibration":
                check_seeds("calibration.seeds", study.seeds)
                _validate_calibration_loss(study)
    from rcc_sim.data import load_las

    las = load_las()
    known = set(las["code"])
    for i, code in enumerate(cfg.world.la_codes):
        if code not in known:
            raise ConfigError(f"config key 'world.la_codes[{i}]' = {code!r}: no English LA has this ONS code")
    if len(set(cfg.world.la_codes)) != len(cfg.world.la_codes):
        raise ConfigError("config key 'world.la_codes' lists an LA twice")
    if cfg.sim.start_year - cfg.sim.spin_up_years < 2016:
        raise ConfigError(
            f"config key 'sim.spin_up_years' = {cfg.sim.spin_up_years}: the spin-up would start before 31 March 2016, "
            f"the first published per-LA stock (start_year is {cfg.sim.start_year}: at most "
            f"{cfg.sim.start_year - 2016})"
        )
    if cfg.provision.la_run_homes > cfg.provision.childrens_homes:
        raise ConfigError("config key 'provision.la_run_homes' exceeds 'provision.childrens_homes'")
    if cfg.provision.childrens_home_places < cfg.provision.childrens_homes:
        raise ConfigError("config key 'provision.childrens_home_places' is below one place per home")
    if cfg.exits.by_la_method not in ("ceased_rate", "stock_per_start"):
        raise ConfigError(
            f"config key 'exits.by_la_method' = {cfg.exits.by_la_method!r}: use ceased_rate or stock_per_start"
        )
    for key, allowed in (("starts_source", STARTS_SOURCES), ("starts_forecast", STARTS_FORECASTS)):
        if getattr(cfg.demand, key) not in allowed:
            raise ConfigError(f"config key 'demand.{key}' = {getattr(cfg.demand, key)!r}: use {' or '.join(allowed)}")
    if cfg.output.float_dtype not in ("float32", "float64"):
        raise ConfigError(f"config key 'output.float_dtype' = {cfg.output.float_dtype!r}: use float32 or float64")
    if not isinstance(cfg.output.progress, bool) and str(cfg.output.progress).lower() not in ("auto", "true", "false"):
        raise ConfigError(f"config key 'output.progress' = {cfg.output.progress!r}: use auto, true or false")
    _validate_regions(cfg, sorted(set(las["region"])))
    _validate_forecast_methods(cfg)
    rcc_members(cfg)
    _validate_study_parameters(cfg)


CALIBRATION_LOSSES = ("base_year", "trajectory")


def _validate_calibration_loss(cal: CalibrationConfig) -> None:
    if cal.loss not in CALIBRATION_LOSSES:
        raise ConfigError(f"config key 'calibration.loss' = {cal.loss!r}: use {' or '.join(CALIBRATION_LOSSES)}")
    years = cal.trajectory_years
    if (
        len(years) != 2
        or not all(isinstance(y, int) and not isinstance(y, bool) for y in years)
        or not 2016 <= years[0] <= years[1] <= 2024
    ):
        raise ConfigError(
            f"config key 'calibration.trajectory_years' = {years!r}: give [first, last] statistical years "
            "(the year to 31 March), 2016 <= first <= last <= 2024"
        )


def _validate_forecast_methods(cfg: Config) -> None:
    rccs = [(f"policy.rccs.{name}", c) for name, c in cfg.policy.rccs.items()]
    for key, c in [*rccs, ("policy.rollout.template", cfg.policy.rollout.template)]:
        if isinstance(c, RCCConfig) and c.forecast_method not in FORECAST_METHODS:
            raise ConfigError(
                f"config key '{key}.forecast_method' = {c.forecast_method!r}: use {' or '.join(FORECAST_METHODS)}"
            )
    if cfg.policy.package.la_forecast_method not in FORECAST_METHODS:
        raise ConfigError(
            f"config key 'policy.package.la_forecast_method' = {cfg.policy.package.la_forecast_method!r}: "
            f"use {' or '.join(FORECAST_METHODS)}"
        )


def _validate_regions(cfg: Config, regions: list[str]) -> None:
    """The region-keyed parameters name real regions (all of them where each needs a value)."""
    missing = sorted(set(regions) - set(cfg.provision.property_cost_index))
    extra = sorted(set(cfg.provision.property_cost_index) - set(regions))
    if missing or extra:
        raise ConfigError(
            f"config key 'provision.property_cost_index' must give each of the regions {regions} once"
            + (f"; missing {missing}" if missing else "")
            + (f"; unknown {extra}" if extra else "")
        )
    unknown_regions = sorted(set(cfg.provision.region_home_shares) - set(regions))
    if unknown_regions:
        raise ConfigError(f"config key 'provision.region_home_shares' names unknown regions {unknown_regions}")
    if sum(cfg.provision.region_home_shares.values()) > 1.0 + 1e-9:
        raise ConfigError("config key 'provision.region_home_shares' sums to more than 1")
    if (
        set(regions) <= set(cfg.provision.region_home_shares)
        and abs(sum(cfg.provision.region_home_shares.values()) - 1) > 1e-6
    ):
        raise ConfigError(
            "config key 'provision.region_home_shares' names every region, so its shares must sum to 1 "
            "(no region is left to take the rest)"
        )


def rcc_members(cfg: Config) -> dict[str, list[str]]:
    """Each RCC's member LA codes, resolved as the model resolves them, with every check on them.

    Named RCCs (``policy.rccs``, by name) have ``members`` or a ``region`` (every LA of it), not
    both; then each ``policy.rollout.regions`` entry adds an RCC of that region's LAs that are in no
    RCC before it. An LA code must exist, appear once, and belong to one RCC only. An RCC lies
    wholly inside the simulated world (``world.la_codes``; empty means England) or wholly outside
    it (part of the outside market, e.g. the South East pathfinder in the Greater Manchester
    world): one that straddles it would apportion its costs to LAs whose results are not kept.
    """
    las_codes, las_regions = _la_table()
    region_las = {r: [c for c, rr in zip(las_codes, las_regions) if rr == r] for r in dict.fromkeys(las_regions)}
    world = set(cfg.world.la_codes or las_codes)
    pol = cfg.policy
    out: dict[str, list[str]] = {}
    where: dict[str, str] = {}  # RCC name -> its config key
    for name in sorted(pol.rccs):
        key = f"policy.rccs.{name}"
        members, what = _named_members(key, pol.rccs[name], region_las, set(las_codes))
        _check_inside(what, members, world)
        out[name], where[name] = members, key
    taken = {code for m in out.values() for code in m}
    staying_out = set(_opt_out("policy.rollout", pol.rollout.opt_out, set(las_codes)))
    starts = pol.rollout.region_start_years
    if starts and len(starts) != len(pol.rollout.regions):
        raise ConfigError(
            f"config key 'policy.rollout.region_start_years' has {len(starts)} entries for "
            f"{len(pol.rollout.regions)} regions (policy.rollout.regions): give one per region, or none"
        )
    for k, start in enumerate(starts):
        if not 0.0 <= start <= 50.0:
            raise ConfigError(f"config key 'policy.rollout.region_start_years[{k}]' = {start}: must be within [0, 50]")
    for k, region in enumerate(pol.rollout.regions):
        key = f"policy.rollout.regions[{k}]"
        if region not in region_las:
            raise ConfigError(f"config key '{key}' = {region!r}: no such region ({sorted(region_las)})")
        members = [code for code in region_las[region] if code not in taken and code not in staying_out]
        if not members:
            raise ConfigError(f"config key '{key}' = {region!r}: every LA of the region is already in an RCC")
        _check_inside(key, members, world)
        name = f"rollout_{region.lower().replace(' ', '_')}"
        out[name], where[name] = members, key
        taken |= set(members)
    names = list(out)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            shared = sorted(set(out[a]) & set(out[b]))
            if shared:
                raise ConfigError(f"config key '{where[a]}' shares member LAs {shared} with '{where[b]}'")
    return out


def _named_members(key: str, c: Any, region_las: dict[str, list[str]], codes: set[str]) -> tuple[list[str], str]:
    """A named RCC's member codes and the key they come from (``members`` or ``region``)."""
    if not isinstance(c, RCCConfig):
        raise ConfigError(f"config key '{key}': expected an RCC's settings (RCCConfig), got {type(c).__name__}")
    if c.region and c.members:
        raise ConfigError(f"config key '{key}': give members or region, not both")
    if c.opt_out and not c.region:
        raise ConfigError(f"config key '{key}.opt_out': opting out is from a region's RCC; list the members instead")
    if c.region:
        if c.region not in region_las:
            raise ConfigError(f"config key '{key}.region' = {c.region!r}: no such region ({sorted(region_las)})")
        out = _opt_out(key, c.opt_out, codes)
        stray = [x for x in out if x not in region_las[c.region]]
        if stray:
            raise ConfigError(f"config key '{key}.opt_out': {stray} are not LAs of the {c.region} region")
        members = [x for x in region_las[c.region] if x not in out]
        if not members:
            raise ConfigError(f"config key '{key}.opt_out': every LA of the {c.region} region opts out")
        return members, f"{key}.region"
    if not c.members:
        raise ConfigError(f"config key '{key}': an RCC needs members (ONS codes) or a region")
    for i, code in enumerate(c.members):
        if code not in codes:
            raise ConfigError(f"config key '{key}.members[{i}]' = {code!r}: no English LA has this ONS code")
    twice = sorted({code for code in c.members if c.members.count(code) > 1})
    if twice:
        raise ConfigError(f"config key '{key}.members' lists {twice} more than once")
    return list(c.members), f"{key}.members"


def _opt_out(key: str, codes: list[str], known: set[str]) -> list[str]:
    """``<key>.opt_out``: known LA codes, each once."""
    for i, code in enumerate(codes):
        if code not in known:
            raise ConfigError(f"config key '{key}.opt_out[{i}]' = {code!r}: no English LA has this ONS code")
    twice = sorted({code for code in codes if codes.count(code) > 1})
    if twice:
        raise ConfigError(f"config key '{key}.opt_out' lists {twice} more than once")
    return list(codes)


def _check_inside(key: str, members: list[str], world: set[str]) -> None:
    outside = [c for c in members if c not in world]
    if outside and len(outside) < len(members):
        raise ConfigError(
            f"config key '{key}': LAs {outside} are not in the simulated world (world.la_codes) while other "
            "members are: simulate them too, or leave them out of the RCC"
        )


def _la_table() -> tuple[list[str], list[str]]:
    from rcc_sim.data import load_las

    las = load_las()
    return [str(c) for c in las["code"]], [str(r) for r in las["region"]]


def _param_meta(key: str) -> dict[str, Any]:
    """The param() metadata (unit, lo, hi) of a dotted config key; {} if it has none."""
    import typing

    node: Any = Config
    *head, last = key.split(".")
    for part in head:
        names = {f.name for f in fields(node)} if is_dataclass(node) else set()
        node = _dataclass_in(typing.get_type_hints(node)[part]) if part in names else None
        if node is None:
            return {}
    return next((dict(f.metadata) for f in fields(node) if f.name == last), {}) if is_dataclass(node) else {}


def _validate_study_parameters(cfg: Config) -> None:
    """The free parameters of a calibration or sensitivity study name numeric config keys, and their
    ranges lie within the parameters' declared bounds (else trials would be refused)."""
    for section in ("calibration", "sensitivity", "psa"):
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
            meta = _param_meta(fp.key)
            lo, hi = meta.get("lo"), meta.get("hi")
            if not fp.scale and ((lo is not None and fp.lo < lo) or (hi is not None and fp.hi > hi)):
                raise ConfigError(f"{where}: range [{fp.lo}, {fp.hi}] goes outside '{fp.key}' bounds [{lo}, {hi}]")


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
    "check_seed",
    "check_seeds",
    "get_path",
    "parameter_table",
    "rcc_members",
    "register_configs",
    "to_object",
    "validate",
    "with_values",
]
