"""Market health: providers' margins against the CMA's, concentration, failures, prices, occupancy
(:mod:`rcc_sim.studies.market_health`), in the last complete year of each scenario."""

from __future__ import annotations

import math

from rcc_sim.reporting import plots
from rcc_sim.reporting.report.loading import Results, Study
from rcc_sim.reporting.report.page import Page, html_table
from rcc_sim.studies.market_health import CMA_SOURCE, table

ENGLAND_LAS = 153  # the LAs of an England world


def _cell(x: float) -> str:
    if x is None or not math.isfinite(x):
        return "-"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.2f}" if abs(x) < 10 else f"{x:.1f}"


def section_market(page: Page, study: Study, res: Results) -> None:
    """A table of the market-health measures, mean over replicates, one column per scenario."""
    ds = study.ds
    if ds is None or "provider_revenue" not in ds or ds.sizes.get("year", 0) == 0:
        return
    tables = {}
    for s in study.scenarios:
        one = ds.sel(scenario=s)
        if "replicate" in one.dims:
            one = one.mean("replicate")
        tables[s] = table(one)
    year = int(next(iter(tables.values())).index[-1])
    page.h2("market", "Market health")
    page.p(
        f"Providers' operating margins, concentration, failures, prices and occupancy in the year to 31 March "
        f"{year}, mean over replicates, in the simulated LAs (HHI: every LA's units, England; 10,000 = one "
        f"provider). Costs are assumptions set so that, at the reference occupancy and the prices paid at the "
        f"base date, margins are the CMA's: the model's margins move with occupancy, needs and prices. Set "
        f"against: {CMA_SOURCE}. The price index is the mean price paid per child-week over the first year's."
    )
    if ds.sizes.get("la", 0) < ENGLAND_LAS:
        page.p(
            "This world simulates some LAs only: its homes and carers take its own children alone, so their "
            "occupancy and margins are not England's (an England run gives them)."
        )
    names = list(next(iter(tables.values())).columns)
    rows = [[n] + [_cell(float(tables[s].loc[year, n])) for s in study.scenarios] for n in names]
    page.raw(
        html_table(
            [f"Year to 31 March {year}"] + [plots.label(s) for s in study.scenarios],
            rows,
            numeric=set(range(1, len(study.scenarios) + 1)),
        )
    )
    page.end()
