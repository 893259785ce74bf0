"""Market health from a run's outputs (issue 13 pt 4): providers' margins, concentration,
failures, the price index and occupancy, by year, for England (the simulated LAs) or a region.

The outputs are recorded by :mod:`rcc_sim.engine.processes.market_health` (and provider failures
by the provision process). Every ratio here is recomputed from summed counts and money, never
averaged:

* ``margin`` by provider sector: (revenue - cost) / revenue; LA-run homes earn no revenue, so for
  them ``cost_per_place_week`` (their cost over usable place-weeks) is the measure;
* ``occupancy`` by sector: child-weeks over usable place-weeks;
* ``price_index`` by placement type and needs tier: the year's mean price paid per child-week
  over the first year's (1 in the first year; NaN where a cell was not bought in the first year);
* ``hhi`` by market area (regions, England) and sector (children's homes, IFAs): from the run,
  as recorded at 31 March; ``share_largest_22``: the 22 largest groups' share of children's home
  places;
* ``failures`` and ``units_closed_failure`` by sector: counts in the year.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from rcc_sim.engine.recorder import PRICE_CELLS, PROVIDER_SECTORS

# the CMA's figures the margins are set against (national_calibration_targets.csv; final report 2022)
CMA_MARGINS = {"private_home_large": 0.226, "ifa_large": 0.194}
CMA_SOURCE = (
    "CMA, Children's social care market study, final report (10 March 2022): average operating profit margin "
    "2016-2020 of the largest 15 children's home providers 22.6%, of the largest IFAs 19.4%"
)


def _ratio(num: xr.DataArray, den: xr.DataArray) -> xr.DataArray:
    return num / den.where(den > 0)


def _area(ds: xr.Dataset, region: str | None) -> xr.Dataset:
    if region is None:
        return ds.sum("la")
    return ds.isel(la=np.flatnonzero(ds["region"].values == region)).sum("la")


def market_health(ds: xr.Dataset, region: str | None = None) -> xr.Dataset:
    """Market-health measures by year for the simulated LAs (``region``: one region's LAs)."""
    names = [
        "provider_revenue",
        "provider_cost",
        "provider_profit",
        "provider_place_weeks",
        "provider_child_weeks",
        "provider_failures",
        "units_closed_failure",
        "price_paid",
        "price_child_weeks",
        "home_places_largest_22",
        "home_places_31mar",
    ]
    a = _area(ds[names], region)
    mean_price = _ratio(a["price_paid"], a["price_child_weeks"])
    out = xr.Dataset(
        {
            "margin": _ratio(a["provider_profit"], a["provider_revenue"]),
            "cost_per_place_week": _ratio(a["provider_cost"], a["provider_place_weeks"]),
            "occupancy": _ratio(a["provider_child_weeks"], a["provider_place_weeks"]),
            "revenue": a["provider_revenue"],
            "cost": a["provider_cost"],
            "failures": a["provider_failures"],
            "units_closed_failure": a["units_closed_failure"],
            "mean_price_paid": mean_price,
            "price_index": mean_price / mean_price.isel(year=0),
            "share_largest_22": _ratio(a["home_places_largest_22"], a["home_places_31mar"]),
        }
    )
    if "hhi_places" in ds:
        out["hhi"] = ds["hhi_places"].sel(market_area=region or "England")
    return out


def table(ds: xr.Dataset, region: str | None = None) -> pd.DataFrame:
    """One row per year: the headline market-health numbers (margins in %, HHI on the CMA's
    0-10,000 scale, price index of the main kinds at their typical tier)."""
    m = market_health(ds, region)
    years = [int(str(y)[:4]) for y in m["year"].values]
    cols: dict[str, np.ndarray] = {}
    for s, label in (
        ("private_home_large", "margin large home groups %"),
        ("private_home_other", "margin other private homes %"),
        ("voluntary_home", "margin voluntary homes %"),
        ("ifa_large", "margin large IFAs %"),
        ("ifa_other", "margin other IFAs %"),
        ("supported", "margin supported %"),
    ):
        cols[label] = 100 * m["margin"].sel(provider_sector=s).values
    cols["LA home cost per place-week GBP"] = m["cost_per_place_week"].sel(provider_sector="la_home").values
    for s, label in (("private_home_large", "occupancy large home groups %"), ("ifa_large", "occupancy IFAs %")):
        cols[label] = 100 * m["occupancy"].sel(provider_sector=s).values
    if "hhi" in m:
        cols["HHI children's homes"] = 1e4 * m["hhi"].sel(market_sector="childrens_homes").values
        cols["HHI IFAs"] = 1e4 * m["hhi"].sel(market_sector="ifa").values
    cols["largest 22 share of home places %"] = 100 * m["share_largest_22"].values
    cols["provider failures"] = m["failures"].sum("provider_sector").values
    cols["homes closed by failure"] = m["units_closed_failure"].sum("provider_sector").values
    for cell, label in (
        ("private_home|very_complex", "price index private homes (very complex)"),
        ("ifa_foster|standard", "price index IFAs (standard)"),
        ("supported_accommodation|standard", "price index supported (standard)"),
    ):
        cols[label] = m["price_index"].sel(price_cell=cell).values
    return pd.DataFrame(cols, index=pd.Index(years, name="year"))


__all__ = ["CMA_MARGINS", "CMA_SOURCE", "PRICE_CELLS", "PROVIDER_SECTORS", "market_health", "table"]
