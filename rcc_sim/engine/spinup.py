"""Spin-up: start the model from an earlier published date so that the base date is a state its
own dynamics hold (issue 12, point 1).

With ``sim.spin_up_years = k`` the model starts at 31 March (``sim.start_year`` - k): the
children in care are each LA's published stock of that date (per-LA series, DfE CLA), built as at
any base date (ages, times in care and placement mix of the DfE CLA 2024 characteristics tables:
ASSUMPTION, no earlier ones are shipped), placed in order of time in care, except kinship care,
which is at the start year's published level (``placement.kinship_at_spin_up_start``: 11.4% of
children in care were fostered by relatives or friends in 2015, DfE CLA, against 15.6% in 2024;
kinship care grew in between, and the base-date share put 3,500 too many children with kin at a
2016 start and too few with IFAs); supply is that of the same date (below). The model then
runs its own dynamics - entries at each LA's published starts of each year, exits, placement
endings and moves, carers recruited and leaving, homes opening and closing, prices - to the base
date, and the outputs begin there. Placements,
distances, placement histories (moves, 3+ in the year, time with the same carer), carers' and
homes' states and waiting at the base date are therefore what the dynamics produce, not what the
base-date builder assumed.

Supply at the spin-up date (:func:`supply_config`): every count the base-date builder reads from
config is scaled from its 2024 value by a published series of the same definition,

* mainstream fostering households: Ofsted *Fostering in England* mainstream households at
  31 March (2019, 2021-2023 shipped; 2024 is the config's 33,745); 2020 log-linearly between
  2019 and 2021; before 2019 moved with all approved fostering households (Ofsted, 2014-2023)
  relative to 2019 (ASSUMPTION: mainstream and family-and-friends moved together before 2019);
* children's homes and their places: Ofsted *Children's social care data in England*, children's
  homes and registered places at 31 March (2012-2023), relative to 31 March 2024 estimated as
  2023 grown by the 2022-23 growth (ASSUMPTION: 2024 is not shipped). The growth was private:
  LA-run homes keep their 2024 number (Ofsted: 459 in 2015, 425 in 2023) and private homes take
  the change; places per home follow the published places per home;
* supported accommodation places: scaled by the children in independent, semi-independent and
  supported accommodation at 31 March (DfE CLA, 2020-2023 shipped), relative to 31 March 2024
  estimated as 2023 grown by the 2022-23 growth (2024 itself is not shipped, and its jump is a
  recording change); before 2020 the 2020 value (ASSUMPTION: no series in these categories);
* secure places: held at their 2024 value (roughly flat, 230-249 in England and Wales 2022-23).

Flows stay at their configured (2024-calibrated) rates through the spin-up - recruitment,
deregistration, openings, closures, breakdowns; prices are re-referenced at the base date, so that
the published 2024 averages are the base-date prices (:meth:`rcc_sim.engine.processes.market.Market.rebase`).
"""

from __future__ import annotations

import dataclasses
import math

from rcc_sim.config import Config
from rcc_sim.data import national_value

BASE_SUPPLY_YEAR = 2024  # the year the config's supply counts describe (31 March 2024)
SUPPORTED_FIRST_YEAR = 2020  # first year of DfE's supported accommodation category in the shipped series
MAINSTREAM_2024 = 33745.0  # mainstream fostering households, 31 March 2024 (Ofsted Fostering in England 2023-24)


def _loglinear(key: str, year: int, known: tuple[int, ...]) -> float:
    """A published value at ``year``, interpolated log-linearly between the nearest shipped years."""
    values = {y: national_value(key, y) for y in known}
    values = {y: v for y, v in values.items() if math.isfinite(v) and v > 0}
    if year in values:
        return values[year]
    lo = max((y for y in values if y < year), default=None)
    hi = min((y for y in values if y > year), default=None)
    if lo is None or hi is None:
        raise ValueError(f"{key}: no published values either side of {year}")
    f = (year - lo) / (hi - lo)
    return math.exp((1 - f) * math.log(values[lo]) + f * math.log(values[hi]))


def mainstream_households(year: int, households_2024: float) -> float:
    """Mainstream fostering households at 31 March ``year``: the config's 2024 number times the
    published change from ``year`` to 2024 (see the module docstring)."""
    if year >= BASE_SUPPLY_YEAR:
        return households_2024
    key, known = "ofsted_fostering_households_mainstream", (2019, 2021, 2022, 2023)
    if year >= 2019:
        published = _loglinear(key, year, known)
    else:
        total = "ofsted_fostering_households_total"
        published = national_value(key, 2019) * national_value(total, year) / national_value(total, 2019)
    return households_2024 * published / MAINSTREAM_2024


def homes_ratio(key: str, year: int) -> float:
    """A published series (children's homes, supported accommodation) at 31 March ``year`` over its
    31 March 2024 value estimated as 2023 grown by the 2022-23 growth."""
    if year >= BASE_SUPPLY_YEAR:
        return 1.0
    v22, v23 = national_value(key, 2022), national_value(key, 2023)
    est_2024 = v23 * v23 / v22
    return national_value(key, year) / est_2024


LA_RUN_HOMES = {2015: 459.0, 2023: 425.0}  # homes run by LAs (Ofsted: 23% of homes in 2015; sector table 2023)


def la_run_homes(year: int) -> float:
    """LA-run children's homes at 31 March ``year``: linear through the two published counts."""
    (y0, v0), (y1, v1) = sorted(LA_RUN_HOMES.items())
    return v0 + (v1 - v0) * (year - y0) / (y1 - y0)


def supply_config(cfg: Config, year: int) -> Config:
    """A copy of ``cfg`` whose supply counts are those of 31 March ``year`` (the spin-up start)."""
    if year >= BASE_SUPPLY_YEAR:
        return cfg
    f, p = cfg.fostering, cfg.provision
    # LA-run homes were about flat (Ofsted: 459 in 2015, 425 in 2023); the growth was private, so
    # the LA-run homes keep their 2024 number and the private homes take the published change
    homes = "ofsted_childrens_homes_providers"
    private_then = national_value(homes, year) - la_run_homes(year)
    private_2024 = national_value(homes, 2023) / homes_ratio(homes, 2023) - la_run_homes(BASE_SUPPLY_YEAR)
    n_homes = p.la_run_homes + int(round((p.childrens_homes - p.la_run_homes) * private_then / private_2024))
    per_home = homes_ratio("ofsted_childrens_homes_places", year) / homes_ratio(homes, year)  # places a home, vs 2024
    places = int(round(n_homes * p.childrens_home_places / max(p.childrens_homes, 1) * per_home))
    sa = "cla_place_independent_semiindependent_supported_accom_n"
    supported = int(round(p.supported_places * homes_ratio(sa, max(year, SUPPORTED_FIRST_YEAR))))
    provision = dataclasses.replace(
        p, childrens_homes=n_homes, childrens_home_places=max(n_homes, places), supported_places=supported
    )
    fostering = dataclasses.replace(
        f, mainstream_households=int(round(mainstream_households(year, f.mainstream_households)))
    )
    return dataclasses.replace(cfg, fostering=fostering, provision=provision)


def base_day(cfg: Config) -> float:
    """Model day of the base date (the model starts at day 0, 31 March of the spin-up year)."""
    import datetime as dt

    start = cfg.sim.start_year - cfg.sim.spin_up_years
    return float((dt.date(cfg.sim.start_year, 3, 31) - dt.date(start, 3, 31)).days)


__all__ = ["BASE_SUPPLY_YEAR", "base_day", "homes_ratio", "mainstream_households", "supply_config"]
