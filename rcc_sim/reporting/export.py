"""``rcc-sim-export``: a study's outcomes as tidy tables for the evaluation partner.

    rcc-sim-export outputs/studies/pathfinder_evaluation            # -> <study>/export/
    rcc-sim-export outputs/studies/pathfinder_evaluation --out exports/pf

Writes, each as CSV and Parquet:

* ``outcomes_annual`` - one row per scenario, replicate, period and area;
* ``outcomes_annual_summary`` - one row per scenario, period, area and statistic (mean,
  median, 5th and 95th percentiles over replicates);

and a codebook (``codebook.csv``, ``codebook.md``) giving every column's definition, units, how
it was aggregated and the published DfE/Ofsted statistic it corresponds to (:data:`PUBLISHED`).

Periods are DfE statistical years (1 April to 31 March, e.g. "2024-25"): weekly stocks are
taken at 31 March (the period's last week), weekly flows are summed over the period; the
model's annual measures (``year`` dimension) are kept as they are. A period the run did not
finish has ``weeks`` < 52. Areas are each LA, each region, England and each RCC's member LAs
(``compare.areas`` / ``compare.rcc_groups``); counts are summed and every ratio
(``metrics.SHARES``) is recomputed from the summed counts, never averaged.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from rcc_sim.engine.recorder import SHARES, add_shares
from rcc_sim.studies.study import StudyError, open_study, summary

CLA = "DfE 'Children looked after in England including adoptions' (SSDA903)"
CLA_31MAR = (
    f"{CLA}, national/LA data set 'Children looked after at 31 March by characteristics' (formerly tables A1-A2)"
)
CLA_STARTS = f"{CLA}, data set 'CLA starting during the year by characteristics' (formerly table C1)"
CLA_CEASED = f"{CLA}, data set 'CLA ceasing during the year by characteristics' (formerly table D1)"
FOSTERING = "Ofsted 'Fostering in England' (year to 31 March, by LA and independent fostering agencies)"
HOMES = "Ofsted 'Children's social care in England' (providers and places at 31 March)"
MODEL_ONLY = "none (model-only)"

# Exported variable -> the published statistic it corresponds to (MODEL_ONLY where none).
PUBLISHED: dict[str, str] = {
    "children_in_care": f"{CLA_31MAR}: children looked after at 31 March",
    "children_in_care_31mar": f"{CLA_31MAR}: children looked after at 31 March",
    "children_in_care_by_age_31mar": f"{CLA_31MAR}: children looked after at 31 March by age group",
    "placements_by_provider_31mar": f"{CLA_31MAR}: children looked after at 31 March by placement provider",
    "uasc": f"{CLA_31MAR}: unaccompanied asylum-seeking children looked after at 31 March",
    "placed": MODEL_ONLY,
    "waiting": MODEL_ONLY + "; nearest: Ofsted notifications of children placed in unregistered children's homes",
    "placements": f"{CLA_31MAR}: placement type at 31 March (model types map to DfE placement codes)",
    "family_based": f"derived from {CLA_31MAR}: foster placements + placed for adoption + placed with parents",
    "located": MODEL_ONLY,
    "over_20_miles": f"{CLA_31MAR}: placed more than 20 miles from home at 31 March",
    "outside_la": f"{CLA_31MAR}: placed outside the LA boundary at 31 March",
    "in_home_region": "SESLIP Briefing 002 'cross-regional placements' (DfE CLA data via FOI): children in care "
    "at 31 March 2023 placed inside their own region, by region of the responsible LA",
    "distance_sum": MODEL_ONLY,
    "no_lawful_placement": MODEL_ONLY + "; nearest: Nuffield FJO monitoring of deprivation-of-liberty applications "
    "(60-70 children a day, 2023)",
    "high_cost": MODEL_ONLY,
    "starts": f"{CLA_STARTS}: children who started to be looked after during the year",
    "starts_by_age": f"{CLA_STARTS}: started during the year by age on starting",
    "ceased_by_age": f"{CLA_CEASED}: ceased during the year by age on ceasing",
    "ceased": f"{CLA_CEASED}: ceased during the year by reason episode ceased",
    "moves": f"{CLA}: reasons for placement changes during the year",
    "placements_made": MODEL_ONLY,
    "new_placements": f"{CLA}: placements starting during the year (first placements and moves; the "
    "denominator of the new-placements measure)",
    "new_placements_outside_la": f"{CLA}: placements starting during the year placed outside the LA boundary",
    "new_placements_outside_la_over_20_miles": f"{CLA}: placements starting during the year placed outside the "
    "LA boundary and more than 20 miles from home",
    "placed_after_wait": MODEL_ONLY,
    "days_to_placement": MODEL_ONLY,
    "siblings_split": MODEL_ONLY,
    "secure_referrals": "Nuffield FJO: referrals for a welfare place in a secure children's home (420 in 2020, "
    "209 placements made)",
    "spend": "DfE 'LA and school expenditure' (section 251 outturn): children looked after spend by line "
    "(fostering, residential care, ...); a different split from the model's placement types",
    "spend_cofunded": MODEL_ONLY,
    "rcc_setup_cost": MODEL_ONLY,
    "rcc_running_cost": MODEL_ONLY,
    "rcc_void_cost": MODEL_ONLY,
    "rcc_therapeutic_cost": MODEL_ONLY,
    "complex_needs": MODEL_ONLY,
    "youth_justice_secure": "DfE SA1: children accommodated in secure children's homes by legal basis (youth justice)",
    "rcc_capital": MODEL_ONLY,
    "rcc_programme_funding": MODEL_ONLY + " (an input: DfE RCC pathfinder funding, Nov 2024)",
    "homes_transferred": MODEL_ONLY,
    "foster_transfers": f"{FOSTERING}: households deregistered to transfer to another fostering service (LA to IFA)",
    "carers": f"{FOSTERING}: approved fostering households at 31 March (mainstream and family and friends)",
    "foster_places": f"{FOSTERING}: approved places at 31 March",
    "foster_places_filled": f"{FOSTERING}: filled places at 31 March",
    "foster_places_vacant": f"{FOSTERING}: vacancies at 31 March",
    "foster_enquiries": f"{FOSTERING}: initial enquiries during the year",
    "foster_applications": f"{FOSTERING}: applications received during the year",
    "foster_approvals": f"{FOSTERING}: households approved during the year",
    "foster_deregistrations": f"{FOSTERING}: households deregistered during the year",
    "homes": f"{HOMES}: children's homes, secure children's homes and supported accommodation providers",
    "home_places": f"{HOMES}: registered places",
    "home_places_filled": MODEL_ONLY,
    "homes_opened": f"{HOMES}: homes joining during the year",
    "homes_closed": f"{HOMES}: homes leaving during the year",
    "forecast_shortfall": MODEL_ONLY,
    "forecast_error": MODEL_ONLY,
    "forecast_error_residential": MODEL_ONLY,
    "long_term_stable": f"{CLA}: long-term placement stability (under 16, looked after 2.5 years or more, in the "
    "same placement 2 years or more), numerator",
    "long_term_eligible": f"{CLA}: long-term placement stability, denominator (under 16, looked after 2.5+ years)",
    "three_plus_placements": f"{CLA_31MAR}: looked after at 31 March with 3 or more placements during the year",
    "share_family_based": f"derived from {CLA_31MAR}: share of placements that are family-based",
    "share_over_20_miles": f"{CLA_31MAR}: percentage placed more than 20 miles from home",
    "share_outside_la": f"{CLA_31MAR}: percentage placed outside the LA boundary",
    "own_provision": f"{CLA_31MAR}: placement provider 'own provision' (own LA's carers and homes)",
    "share_own_provision": f"{CLA_31MAR}: percentage of children in care placed with the LA's own provision",
    "share_in_home_region": "SESLIP Briefing 002 (DfE CLA data via FOI): percentage of children in care at "
    "31 March placed inside their own region (England 86% in 2023)",
    "share_new_placements_outside_la": f"{CLA}: percentage of placements starting during the year placed "
    "outside the LA boundary",
    "share_new_placements_outside_la_over_20_miles": f"{CLA}: percentage of placements starting during the year "
    "placed outside the LA boundary and more than 20 miles from home (DfE's new-placements measure)",
    "home_occupancy": MODEL_ONLY,
    "mean_days_to_placement": MODEL_ONLY,
    "mean_miles_from_home": MODEL_ONLY,
    "provider_revenue": MODEL_ONLY,
    "provider_cost": MODEL_ONLY,
    "provider_profit": MODEL_ONLY,
    "provider_place_weeks": MODEL_ONLY,
    "provider_child_weeks": MODEL_ONLY,
    "provider_failures": MODEL_ONLY,
    "units_closed_failure": MODEL_ONLY,
    "price_paid": MODEL_ONLY,
    "price_child_weeks": MODEL_ONLY,
    "home_places_largest_22": MODEL_ONLY + "; nearest: Ofsted's largest providers (2024: the 22 largest own 968 homes)",
    "home_places_31mar": f"{HOMES}: registered places in children's homes (LA and independent)",
    "provider_margin": "CMA children's social care market study, final report (2022): average operating profit "
    "margin of the largest 15 children's home providers 22.6% and of the largest IFAs 19.4% (2016-2020)",
    "provider_occupancy": MODEL_ONLY,
    "mean_price_paid": MODEL_ONLY + "; nearest: CMA (2022) average weekly prices; s251 unit costs",
    "share_home_places_largest_22": MODEL_ONLY + "; nearest: Ofsted's largest providers (2024)",
    # by market area (regions, England), not by LA: in results.nc, not in the area tables
    "hhi_places": MODEL_ONLY + "; nearest: CMA children's social care market study (2022) on concentration",
    "market_places": MODEL_ONLY,
    "market_providers": MODEL_ONLY,
}

KEY_COLUMNS: dict[str, str] = {  # column -> definition
    "scenario": "Scenario: the policy name, plus the parameters swept in the study",
    "policy": "Policy config (configs/policy/<policy>.yaml)",
    "replicate": "Replicate: the run's random seed; the same seed gives every scenario the same children "
    "(outcomes file only)",
    "statistic": "mean, median or percentile (p5, p95) over replicates of the scenario (summary file only)",
    "period": "DfE statistical year, 1 April to 31 March (e.g. 2024-25)",
    "year_ending": "31 March ending the period",
    "weeks": "Weeks of the period simulated: 52 for a complete year; fewer if the run ended within it "
    "(stocks are then at the run's last week, and annual measures are empty)",
    "area": "ONS code of an LA, a region name, 'England', or 'RCC <name>' (an RCC's member LAs)",
    "area_name": "LA name, region name, 'England' or 'RCC <name>'",
    "area_type": "la, region, england or rcc (the LAs simulated in full only: the world's LAs)",
}
STOCK_PERIOD = "value at 31 March (end of period; the last simulated week if weeks < 52)"
FLOW_PERIOD = "sum over the period"


def _is_stock(da: xr.DataArray) -> bool:
    method = da.attrs.get("cell_method")
    if method not in ("value at end of week", "sum over week"):
        raise StudyError(
            f"variable {da.name!r} has cell_method {method!r}: cannot tell whether it is a stock or a "
            "flow (declare it in rcc_sim/metrics.py)"
        )
    return method == "value at end of week"


def annual(ds: xr.Dataset) -> xr.Dataset:
    """Weekly variables to DfE statistical years (dim ``year``: the year ending 31 March, int).

    Stocks are taken at the period's last week (31 March), flows are summed; the model's
    annual variables are kept. Ratios (``metrics.SHARES``) are dropped: recompute them with
    ``metrics.add_shares`` after any further aggregation. Coordinate ``weeks`` counts the
    simulated weeks of each period.
    """
    ds = ds.drop_vars([v for v in SHARES if v in ds])
    weekly = [v for v in ds.data_vars if "time" in ds[v].dims]
    stocks = [v for v in weekly if _is_stock(ds[v])]
    flows = [v for v in weekly if v not in stocks]
    stat_year = np.asarray(ds["stat_year"].values)
    years = np.unique(stat_year)
    last = [int(np.flatnonzero(stat_year == y)[-1]) for y in years]
    weeks = [int((stat_year == y).sum()) for y in years]
    s = (
        ds[stocks]
        .astype("float64")
        .isel(time=last)
        .drop_vars(["time", "stat_year"])
        .rename_dims(time="year")
        .assign_coords(year=years)
    )
    f = ds[flows].astype("float64").groupby("stat_year").sum("time").rename(stat_year="year")
    per_year = [v for v in ds.data_vars if "year" in ds[v].dims]
    a = ds[per_year].astype("float64").assign_coords(year=ds["year"].dt.year.values.astype(int))
    out = xr.merge(
        [s, f.assign_coords(year=years.astype(int)), a], join="outer", compat="override", combine_attrs="override"
    )
    out = out.assign_coords(
        weeks=("year", pd.Series(weeks, index=years).reindex(out["year"].values).fillna(0).astype(int).values)
    )
    for v in stocks:
        out[v].attrs.update(ds[v].attrs, cell_method=STOCK_PERIOD)
    for v in flows:
        out[v].attrs.update(ds[v].attrs, cell_method=FLOW_PERIOD)
    for v in per_year:
        stock = _is_stock(ds[v])
        out[v].attrs.update(ds[v].attrs, cell_method="value at 31 March" if stock else "sum over the statistical year")
    out["year"].attrs.update(long_name="DfE statistical year, named by the 31 March it ends on")
    return out


def area_table(ds: xr.Dataset, groups: dict[str, list[str]]) -> xr.Dataset:
    """Annual outcomes of one run (dims year, la, ...) by area: LAs, regions, England, RCC groups;
    counts summed, ratios recomputed from the sums."""
    from rcc_sim.studies.compare import areas

    yearly = annual(ds)
    out = areas(yearly, groups)
    for v in out.data_vars:  # a period without a value (an annual measure of an unfinished year) stays empty
        recorded = yearly[v].notnull().any([d for d in yearly[v].dims if d != "year"])
        out[v] = out[v].where(recorded).assign_attrs(yearly[v].attrs)
    out = add_shares(out)
    for v in SHARES:
        out[v].attrs.update(cell_method="ratio of the period's summed numerator and denominator")
    return out


def _area_labels(ds: xr.Dataset, study: xr.Dataset) -> tuple[list[str], list[str]]:
    names = dict(zip(study["la"].values, study["la_name"].values))
    regions = set(study["region"].values)
    kinds, labels = [], []
    for a in ds["area"].values:
        a = str(a)
        kind = (
            "la"
            if a in names
            else "region"
            if a in regions
            else "england"
            if a == "England"
            else "rcc"
            if a.startswith("RCC ")
            else "group"
        )
        kinds.append(kind)
        labels.append(str(names[a]) if kind == "la" else a)
    return labels, kinds


def _columns(ds: xr.Dataset, keys: list[str]) -> dict[str, np.ndarray]:
    """Flatten each variable to one column per category of its extra dimension (``var__category``)."""
    cols = {}
    for name, da in ds.data_vars.items():
        extra = [d for d in da.dims if d not in keys]
        if len(extra) > 1:
            raise StudyError(f"variable {name!r} has more than one extra dimension {extra}: cannot flatten")
        if not extra:
            cols[name] = da.transpose(*keys).values.ravel()
        else:
            for label in da[extra[0]].values:
                cols[f"{name}__{label}"] = da.sel({extra[0]: label}).transpose(*keys).values.ravel()
    return cols


def _frame(ds: xr.Dataset, study: xr.Dataset, fixed: dict[str, object]) -> pd.DataFrame:
    """One row per (statistic,) year and area; ``fixed`` columns (scenario, replicate...) first."""
    keys = [d for d in ("statistic", "year", "area") if d in ds.dims]
    index = pd.MultiIndex.from_product([ds[d].values for d in keys], names=keys).to_frame(index=False)
    n = len(index)
    area_name, area_type = _area_labels(ds, study)
    by_area = dict(zip(ds["area"].values, zip(area_name, area_type)))
    weeks = dict(zip(ds["year"].values, ds["weeks"].values))
    head = {k: [v] * n for k, v in fixed.items()}
    if "statistic" in keys:
        head["statistic"] = index["statistic"].astype(str).values
    years = index["year"].astype(int).values
    head.update(
        period=[f"{y - 1}-{y % 100:02d}" for y in years],
        year_ending=[f"{y}-03-31" for y in years],
        weeks=[int(weeks[y]) for y in years],
        area=index["area"].astype(str).values,
        area_name=[by_area[a][0] for a in index["area"].values],
        area_type=[by_area[a][1] for a in index["area"].values],
    )
    return pd.DataFrame({**head, **_columns(ds, keys)})


class _TableWriter:
    """Append DataFrames to ``<stem>.csv`` and ``<stem>.parquet``, renamed into place on close."""

    def __init__(self, out_dir: Path, stem: str):
        self.paths = (out_dir / f"{stem}.csv", out_dir / f"{stem}.parquet")
        self.tmp = tuple(p.with_name(f".{p.name}.tmp") for p in self.paths)
        self.parquet = None
        self.rows = 0

    def write(self, df: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        df.to_csv(self.tmp[0], mode="a" if self.rows else "w", header=not self.rows, index=False)
        table = pa.Table.from_pandas(df, preserve_index=False)
        if self.parquet is None:
            self.parquet = pq.ParquetWriter(self.tmp[1], table.schema)
        self.parquet.write_table(table.cast(self.parquet.schema))
        self.rows += len(df)

    def close(self) -> tuple[Path, Path]:
        if self.parquet is not None:
            self.parquet.close()
        for tmp, path in zip(self.tmp, self.paths):
            os.replace(tmp, path)
        return self.paths


def _groups(study: xr.Dataset, root: Path) -> dict[str, list[str]]:
    """RCC member groups of every scenario's policy (each applied to all scenarios, so the status
    quo is reported on the same groups of LAs)."""
    from omegaconf import OmegaConf

    from rcc_sim.config import to_object
    from rcc_sim.run import CONFIG_FILE
    from rcc_sim.studies.compare import rcc_groups

    groups: dict[str, list[str]] = {}
    for s in study["scenario"].values:
        run_dir = next(d for d in study["run_dir"].sel(scenario=s).values if d)
        groups.update(rcc_groups(to_object(OmegaConf.load(root / run_dir / CONFIG_FILE))))
    return groups


def codebook(table: xr.Dataset) -> pd.DataFrame:
    """Every exported column: definition, units, period and area aggregation, published statistic."""
    rows = [
        {
            "column": k,
            "variable": k,
            "category": "",
            "units": "",
            "long_name": k,
            "definition": d,
            "period_aggregation": "",
            "area_aggregation": "",
            "published_statistic": "",
        }
        for k, d in KEY_COLUMNS.items()
    ]
    for name, da in table.data_vars.items():
        if name not in PUBLISHED:
            raise StudyError(
                f"variable {name!r} has no entry in rcc_sim/export.py PUBLISHED: add the published "
                f"statistic it corresponds to, or {MODEL_ONLY!r}"
            )
        extra = [d for d in da.dims if d not in ("year", "area")]
        cats = [str(c) for c in da[extra[0]].values] if extra else [""]
        for c in cats:
            rows.append(
                {
                    "column": f"{name}__{c}" if c else name,
                    "variable": name,
                    "category": f"{extra[0]}={c}" if c else "",
                    "units": da.attrs.get("units", ""),
                    "long_name": da.attrs.get("long_name", ""),
                    "definition": da.attrs.get("definition", ""),
                    "period_aggregation": da.attrs.get("cell_method", ""),
                    "area_aggregation": (
                        "ratio recomputed from the area's summed counts (never averaged)"
                        if name in SHARES
                        else "sum over the area's LAs"
                    ),
                    "published_statistic": PUBLISHED[name],
                }
            )
    return pd.DataFrame(rows)


def _codebook_md(cb: pd.DataFrame) -> str:
    def cell(x: object) -> str:
        return str(x).replace("|", "/").replace("\n", " ")

    lines = [
        "# Codebook: rcc-sim study exports",
        "",
        (
            "Files: `outcomes_annual` (one row per scenario, replicate, period, area) and "
            "`outcomes_annual_summary` (one row per scenario, statistic, period, area; statistics over "
            "replicates of each replicate's values), each as CSV and Parquet. Periods are DfE statistical "
            "years (1 April - 31 March). A variable with categories is one column per category "
            "(`<variable>__<category>`). Money is in 2024 GBP."
        ),
        "",
        "| column | units | definition | period | area | published statistic |",
        "|---|---|---|---|---|---|",
    ]
    for r in cb.itertuples():
        definition = r.definition if r.column in KEY_COLUMNS else f"{r.long_name}. {r.definition}"
        lines.append(
            f"| `{r.column}` | {cell(r.units)} | {cell(definition)} | {cell(r.period_aggregation)} | "
            f"{cell(r.area_aggregation)} | {cell(r.published_statistic)} |"
        )
    return "\n".join(lines) + "\n"


def export_study(
    path: str | Path, out_dir: str | Path | None = None, quantiles: Sequence[float] = (0.05, 0.95)
) -> list[Path]:
    """Write the tidy tables and the codebook of the study at ``path``; return the files written."""
    path = Path(path)
    study = open_study(path)
    out_dir = Path(out_dir) if out_dir is not None else path / "export"
    out_dir.mkdir(parents=True, exist_ok=True)
    groups = _groups(study, path)
    runs_out, summary_out = _TableWriter(out_dir, "outcomes_annual"), _TableWriter(out_dir, "outcomes_annual_summary")
    first = None
    for s in study["scenario"].values:
        policy = str(study["policy"].sel(scenario=s).values)
        tables = []
        for r in study["replicate"].values:
            if not study["run_dir"].sel(scenario=s, replicate=r).item():
                continue  # that run is not done
            one = study.sel(scenario=s, replicate=r, drop=True).load()
            t = area_table(one, groups)
            first = t if first is None else first
            runs_out.write(_frame(t, study, {"scenario": str(s), "policy": policy, "replicate": int(r)}))
            tables.append(t.expand_dims(replicate=[int(r)]))
        band = summary(xr.concat(tables, dim="replicate", join="outer"), quantiles=quantiles)
        summary_out.write(_frame(band, study, {"scenario": str(s), "policy": policy}))
    written = [*runs_out.close(), *summary_out.close()]
    cb = codebook(first)
    cb_csv, cb_md = out_dir / "codebook.csv", out_dir / "codebook.md"
    cb.to_csv(cb_csv, index=False)
    cb_md.write_text(_codebook_md(cb))
    return written + [cb_csv, cb_md]
