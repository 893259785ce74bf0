"""Roll-out decision support: the net present cost of RCCs against the status quo, and what they
change per child in care.

    rcc-sim -m +experiment=national_rollout hydra/launcher=local_parallel
    rcc-sim-rollout outputs/studies/national_rollout                  # -> <study>/rollout/

**Net cost** in a statistical year (1 April - 31 March) is, as in ``compare._net_cost``:
placement spend - health co-funding + RCC set-up + running + void block places + capital -
programme funding (:data:`COST_COMPONENTS`), in 2024 prices. The *net cost difference* is the
reform's net cost minus the status quo's on the same seed (common random numbers: the same
children arrive), summed over the simulated LAs (England) or a region's LAs.

**Discounting.** HM Treasury Green Book (2022), social time preference rate 3.5% a year in real
terms for years 0-30 (:data:`GREEN_BOOK_RATE`); the model's money is already in constant 2024
prices. Discount factor 1/1.035^t, t in years from the base date (31 March of ``sim.start_year``)
to the end of the statistical year (end-year convention: the year to 31 March 2025 has t = 1;
``--timing mid`` uses its middle, t = 0.5). Net present cost (NPC) = the sum over years of the
discounted differences; positive = the reform costs more.

**Uncertainty.** One NPC per replicate (seed); reported: the mean, a 95% t-interval of the mean
over replicates, and the 5-95% range of the replicates (what one ten-year future might look like).

**Per child.** Alongside the money, the change in outcomes per child in care - placement moves,
days spent waiting, miles from home, share in family-based care, placements over 20 miles, cost
- over the whole run and its last year, each computed from counts summed over LAs and weeks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from rcc_sim.studies.evaluation import (
    BASELINE,
    WEEKLY_COUNTS,
    open_paired,
    signed,
    weekly_dataset,
    weekly_sum,
    write_tables,
)
from rcc_sim.vocab import DAYS_PER_YEAR

GREEN_BOOK_RATE = 0.035  # HM Treasury, The Green Book (2022), Table 8: STPR 3.5% (years 0-30), real terms
WEEK_DAYS = 7.0

# component -> (variable, sign in the net cost, summed-away dimension, label)
COST_COMPONENTS: dict[str, tuple[str, float, str | None, str]] = {
    "placement_spend": ("spend", 1.0, "placement_type", "Placement spend"),
    "health_cofunding": ("spend_cofunded", -1.0, None, "Health co-funding"),
    "rcc_setup": ("rcc_setup_cost", 1.0, None, "RCC set-up"),
    "rcc_running": ("rcc_running_cost", 1.0, None, "RCC running costs"),
    "rcc_void": ("rcc_void_cost", 1.0, None, "Void block-contract places"),
    "rcc_capital": ("rcc_capital", 1.0, None, "RCC capital"),
    "rcc_therapeutic": ("rcc_therapeutic_cost", 1.0, None, "Therapeutic support (health and justice)"),
    "programme_funding": ("rcc_programme_funding", -1.0, None, "Programme funding"),
}

# money moved between public bodies (NHS -> LA, DfE -> LA): a saving to LAs, not to the public sector
TRANSFERS = ("health_cofunding", "programme_funding")


# --------------------------------------------------------------------------------------------
# Discounting
# --------------------------------------------------------------------------------------------
def discount_factors(t_end: Sequence[float], rate: float = GREEN_BOOK_RATE, timing: str = "end") -> np.ndarray:
    """1/(1+rate)^t for periods ending ``t_end`` years after the base date; ``timing='mid'``
    discounts from the middle of each year (t_end - 0.5) instead of its end."""
    t = np.asarray(t_end, dtype=np.float64)
    if timing == "mid":
        t = t - 0.5
    elif timing != "end":
        raise ValueError(f"timing must be 'end' or 'mid', got {timing!r}")
    return 1.0 / (1.0 + rate) ** t


def present_value(
    values: Sequence[float], t_end: Sequence[float], rate: float = GREEN_BOOK_RATE, timing: str = "end"
) -> float:
    """Sum of ``values`` (one per year) discounted to the base date."""
    return float(np.sum(np.asarray(values, dtype=np.float64) * discount_factors(t_end, rate, timing)))


def interval(x: Sequence[float], level: float = 0.95) -> dict[str, float]:
    """Mean over replicates, its t-interval, and the 5-95% range of the replicates."""
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = len(x)
    mean = float(x.mean()) if n else np.nan
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
    p5, p95 = np.percentile(x, [5, 95]) if n else (np.nan, np.nan)
    return {"mean": mean, "ci_low": mean - half, "ci_high": mean + half, "p5": float(p5), "p95": float(p95), "n": n}


# --------------------------------------------------------------------------------------------
# Annual costs and counts by area
# --------------------------------------------------------------------------------------------
# the evaluation's weekly counts; spend is summed with the other cost components
PER_CHILD_COUNTS: dict[str, str | None] = {v: extra for v, extra in WEEKLY_COUNTS.items() if v != "spend"}


def total_area(n_la: int) -> str:
    return "England" if n_la == 153 else f"All {n_la} simulated LAs"


def _by_area(x: xr.Dataset) -> xr.Dataset:
    """Sum over LAs to England (all simulated LAs) and to each region, along an 'area' dimension."""
    england = x.drop_vars("region").sum("la").expand_dims(area=[total_area(x.sizes["la"])])
    region = x.groupby("region").sum("la").rename(region="area")
    return xr.concat([england, region], dim="area")


def annual_by_area(ds: xr.Dataset) -> tuple[xr.Dataset, np.ndarray, list[bool]]:
    """Cost components and outcome counts summed over each statistical year and area (loaded, GBP
    and counts), the years' ``t_end`` (years from the base date to the end of each year) and
    whether each year is complete."""
    weekly = weekly_dataset(
        {c: weekly_sum(ds, v, extra) for c, (v, _, extra, _) in COST_COMPONENTS.items()}
        | {v: weekly_sum(ds, v, extra) for v, extra in PER_CHILD_COUNTS.items()}
    )
    weekly = weekly.assign_coords(region=("la", ds["region"].values))
    annual = _by_area(weekly.groupby("stat_year").sum("time")).compute()
    # stocks at the end of each statistical year (its last week)
    sy = ds["stat_year"].values
    years = [int(y) for y in annual["stat_year"].values]
    last = [int(np.flatnonzero(sy == y)[-1]) for y in years]
    end = xr.Dataset(
        {
            "over_20_miles_end": ds["over_20_miles"].astype("float64"),
            "children_in_care_end": ds["children_in_care"].astype("float64"),
        }
    ).isel(time=last)
    end = end.drop_vars([c for c in end.coords if c not in ("time", "la", "scenario", "replicate")])
    end = end.rename(time="stat_year").assign_coords(stat_year=years, region=("la", ds["region"].values))
    annual = xr.merge([annual, _by_area(end).compute()])
    ends = pd.to_datetime(ds["time"].values[last])
    base = pd.Timestamp(str(ds.attrs.get("base_date", f"{int(annual['stat_year'][0]) - 1}-03-31")))
    complete, t_end = [], []
    for y, e in zip(years, ends):
        full = (e.month, e.day) == (3, 31) and e.year == y
        complete.append(full)
        t_end.append(float(y - base.year) if full else (e - base).days / DAYS_PER_YEAR)
    return annual, np.array(t_end), complete


def net_cost(annual: xr.Dataset) -> xr.DataArray:
    """Net cost (GBP) per statistical year: the signed sum of :data:`COST_COMPONENTS` (raw values)."""
    return sum(sign * annual[c] for c, (_, sign, _, _) in COST_COMPONENTS.items())


@dataclass(frozen=True)
class PerChild:
    units: str
    long_name: str
    fn: Callable[[xr.Dataset], xr.DataArray]  # counts summed over a period (and area) -> outcome


def _child_years(a: xr.Dataset) -> xr.DataArray:
    return a["children_in_care"] * WEEK_DAYS / DAYS_PER_YEAR


PER_CHILD: dict[str, PerChild] = {
    "moves_per_child_year": PerChild(
        "moves", "Placement moves per child in care per year", lambda a: a["moves"] / _child_years(a)
    ),
    "days_waiting_per_child_year": PerChild(
        "days",
        "Days spent waiting (emergency/unregistered) per child in care per year",
        lambda a: a["waiting"] * WEEK_DAYS / _child_years(a),
    ),
    "mean_days_to_placement": PerChild(
        "days", "Mean days waited per placement made", lambda a: a["days_to_placement"] / a["placements_made"]
    ),
    "mean_miles_from_home": PerChild(
        "miles", "Mean distance from home (located child-weeks)", lambda a: a["distance_sum"] / a["located"]
    ),
    "share_family_based": PerChild(
        "share", "Share of child-weeks in family-based care", lambda a: a["family_based"] / a["children_in_care"]
    ),
    "share_over_20_miles": PerChild(
        "share",
        "Share of located child-weeks placed over 20 miles from home",
        lambda a: a["over_20_miles"] / a["located"],
    ),
    "over_20_miles_per_1000_end": PerChild(
        "per 1,000 children in care",
        "Placed over 20 miles from home at the period's last 31 March, per 1,000 in care",
        lambda a: 1e3 * a["over_20_miles_end"] / a["children_in_care_end"],
    ),
    "children_in_care_end": PerChild(
        "children", "Children in care at the period's last 31 March", lambda a: a["children_in_care_end"]
    ),
    "spend_per_child_year": PerChild(
        "GBP", "Placement spend per child in care per year", lambda a: a["placement_spend"] / _child_years(a)
    ),
    "net_cost_per_child_year": PerChild(
        "GBP",
        "Net cost (spend - co-funding + RCC costs - programme funding) per child in care per year",
        lambda a: net_cost(a) / _child_years(a),
    ),
}


def _period(annual: xr.Dataset, years: list[int]) -> xr.Dataset:
    """Counts summed over ``years``; end-of-period stocks from the last of them."""
    flows = annual.drop_vars(["over_20_miles_end", "children_in_care_end"]).sel(stat_year=years).sum("stat_year")
    ends = annual[["over_20_miles_end", "children_in_care_end"]].sel(stat_year=years[-1], drop=True)
    return xr.merge([flows, ends])


# --------------------------------------------------------------------------------------------
# The appraisal
# --------------------------------------------------------------------------------------------
@dataclass
class Appraisal:
    npc: pd.DataFrame  # one row per area: NPC and intervals
    by_year: pd.DataFrame  # one row per area and year
    by_replicate: pd.DataFrame  # one row per area and replicate
    per_child: pd.DataFrame  # one row per area, period and outcome
    attrs: dict


def appraise(
    path: str | Path,
    scenario: str | None = None,
    baseline: str = BASELINE,
    rate: float = GREEN_BOOK_RATE,
    timing: str = "end",
) -> Appraisal:
    """Net present cost of ``scenario`` against the status quo, and per-child outcome changes."""
    path = Path(path)
    ds, scenario, baseline, reps = open_paired(path, scenario, baseline)
    annual, t_end, complete = annual_by_area(ds)
    years = [int(y) for y in annual["stat_year"].values]
    df = discount_factors(t_end, rate, timing)
    cost = xr.Dataset({c: sign * annual[c] for c, (_, sign, _, _) in COST_COMPONENTS.items()})  # signed
    cost["net_cost"] = net_cost(annual)
    diff = (cost.sel(scenario=scenario) - cost.sel(scenario=baseline)).drop_vars("scenario", errors="ignore")
    dfa = xr.DataArray(df, dims="stat_year", coords={"stat_year": years})
    pv = (cost * dfa).sum("stat_year")
    pv_diff = (diff * dfa).sum("stat_year")
    areas = [str(a) for a in annual["area"].values]

    npc_rows, rep_rows, year_rows = [], [], []
    for area in areas:
        npc = pv_diff["net_cost"].sel(area=area).values / 1e6
        und = diff["net_cost"].sel(area=area).sum("stat_year").values / 1e6
        row = {
            "area": area,
            **{f"npc_gbp_m_{k}": v for k, v in interval(npc).items() if k != "n"},
            "n_replicates": len(npc),
            **{f"undiscounted_gbp_m_{k}": v for k, v in interval(und).items() if k in ("mean", "ci_low", "ci_high")},
            "pv_status_quo_gbp_m": float(pv["net_cost"].sel(area=area, scenario=baseline).mean()) / 1e6,
            "pv_scenario_gbp_m": float(pv["net_cost"].sel(area=area, scenario=scenario).mean()) / 1e6,
        }
        row["npc_pct_of_status_quo"] = 100 * row["npc_gbp_m_mean"] / row["pv_status_quo_gbp_m"]
        for c in COST_COMPONENTS:
            row[f"npc_{c}_gbp_m"] = float(pv_diff[c].sel(area=area).mean()) / 1e6
        public = npc - sum(pv_diff[c].sel(area=area).values for c in TRANSFERS) / 1e6
        row.update({f"npc_public_sector_gbp_m_{k}": v for k, v in interval(public).items() if k != "n"})
        npc_rows.append(row)
        for j, r in enumerate(reps):
            rep_rows.append(
                {
                    "area": area,
                    "replicate": r,
                    "npc_gbp_m": npc[j],
                    "undiscounted_gbp_m": und[j],
                    **{f"npc_{c}_gbp_m": float(pv_diff[c].sel(area=area).values[j]) / 1e6 for c in COST_COMPONENTS},
                }
            )
        for i, y in enumerate(years):
            d = diff["net_cost"].sel(area=area, stat_year=y).values / 1e6
            year_rows.append(
                {
                    "area": area,
                    "stat_year": y,
                    "complete_year": complete[i],
                    "t_end": t_end[i],
                    "discount_factor": df[i],
                    **{f"net_cost_diff_gbp_m_{k}": v for k, v in interval(d).items() if k != "n"},
                    "discounted_diff_gbp_m_mean": float(d.mean() * df[i]),
                    "status_quo_net_cost_gbp_m": float(
                        cost["net_cost"].sel(area=area, stat_year=y, scenario=baseline).mean()
                    )
                    / 1e6,
                    **{
                        f"{c}_diff_gbp_m": float(diff[c].sel(area=area, stat_year=y).mean()) / 1e6
                        for c in COST_COMPONENTS
                    },
                }
            )

    per_child_rows = []
    periods = {
        f"{years[0] - 1}-{str(years[-1])[2:]} (whole run)": years,
        f"{years[-1] - 1}-{str(years[-1])[2:]} (last year)": [years[-1]],
    }
    for label, ys in periods.items():
        totals = _period(annual, ys)
        for name, o in PER_CHILD.items():
            v = o.fn(totals)
            for area in areas:
                s, b = v.sel(scenario=scenario, area=area).values, v.sel(scenario=baseline, area=area).values
                per_child_rows.append(
                    {
                        "area": area,
                        "period": label,
                        "outcome": name,
                        "units": o.units,
                        "long_name": o.long_name,
                        "status_quo": float(np.nanmean(b)),
                        "scenario": float(np.nanmean(s)),
                        **{f"difference_{k}": val for k, val in interval(s - b).items()},
                    }
                )
    attrs = {
        "study": str(path),
        "scenario": scenario,
        "baseline": baseline,
        "replicates": reps,
        "rate": rate,
        "timing": timing,
        "stat_years": years,
        "complete": complete,
        "base_date": str(ds.attrs.get("base_date", "")),
    }
    return Appraisal(
        pd.DataFrame(npc_rows), pd.DataFrame(year_rows), pd.DataFrame(rep_rows), pd.DataFrame(per_child_rows), attrs
    )


# --------------------------------------------------------------------------------------------
# Text and command
# --------------------------------------------------------------------------------------------
def _m(v: float) -> str:
    return f"{v:+,.1f}" if np.isfinite(v) else "n/a"


def _val(v: float, units: str) -> str:
    if not np.isfinite(v):
        return "n/a"
    if units == "share":
        return f"{100 * v:.2f}%"
    return f"{v:,.4g}" if abs(v) < 1000 else f"{v:,.0f}"


def _diff(v: float, units: str) -> str:
    return signed(v, units, whole_from=1000)


def text_report(a: Appraisal) -> str:
    at = a.attrs
    years = at["stat_years"]
    n_years = sum(at["complete"])
    lines = [
        f"Net present cost of {at['scenario']} against {at['baseline']} ({at['study']})",
        f"replicates (seeds, paired) {at['replicates']}; statistical years {years[0] - 1}-{str(years[-1])[2:]}"
        f" ({n_years} complete); money in 2024 prices",
        f"discounting: HM Treasury Green Book (2022) {100 * at['rate']:.1f}% a year, 1/(1+r)^t, t from "
        f"{at['base_date']} to the {'end' if at['timing'] == 'end' else 'middle'} of each statistical year",
        "net cost = placement spend - health co-funding + RCC set-up + running + void + capital - programme "
        "funding; NPC = sum of discounted (reform - status quo); positive = the reform costs more",
        "",
    ]
    total = a.npc["area"].iloc[0]
    e = a.npc.set_index("area").loc[total]
    lines += [
        f"{total}: NPC {_m(e['npc_gbp_m_mean'])} GBP m (95% CI {_m(e['npc_gbp_m_ci_low'])} to "
        f"{_m(e['npc_gbp_m_ci_high'])}; 5-95% of replicates {_m(e['npc_gbp_m_p5'])} to {_m(e['npc_gbp_m_p95'])})"
        f" = {e['npc_pct_of_status_quo']:+.2f}% of the status quo's present value "
        f"({e['pv_status_quo_gbp_m']:,.0f} GBP m); undiscounted {_m(e['undiscounted_gbp_m_mean'])} GBP m",
        "  contributions (present value, GBP m; income negative): "
        + ", ".join(f"{COST_COMPONENTS[c][3]} {_m(e[f'npc_{c}_gbp_m'])}" for c in COST_COMPONENTS),
        f"  public-sector view (health co-funding and programme funding are transfers, left out): NPC "
        f"{_m(e['npc_public_sector_gbp_m_mean'])} GBP m (95% CI {_m(e['npc_public_sector_gbp_m_ci_low'])} to "
        f"{_m(e['npc_public_sector_gbp_m_ci_high'])})",
        "",
    ]
    lines.append(f"{'year':>9s} {'t':>5s} {'factor':>7s} {'diff GBP m':>11s} {'95% CI':>19s} {'discounted':>11s}")
    for _, r in a.by_year[a.by_year["area"] == total].iterrows():
        y = int(r["stat_year"])
        lines.append(
            f"{y - 1}-{str(y)[2:]:>2s}{'' if r['complete_year'] else '*'} {r['t_end']:5.2f} "
            f"{r['discount_factor']:7.4f} {_m(r['net_cost_diff_gbp_m_mean']):>11s} "
            f"{'[' + _m(r['net_cost_diff_gbp_m_ci_low']) + ', ' + _m(r['net_cost_diff_gbp_m_ci_high']) + ']':>19s}"
            f" {_m(r['discounted_diff_gbp_m_mean']):>11s}"
        )
    lines += ["", "NPC by region (GBP m, mean [95% CI]):"]
    for _, r in a.npc[a.npc["area"] != total].iterrows():
        lines.append(
            f"  {r['area']:26s} {_m(r['npc_gbp_m_mean']):>9s} [{_m(r['npc_gbp_m_ci_low'])}, "
            f"{_m(r['npc_gbp_m_ci_high'])}]"
        )
    lines += ["", f"Per child in care, {total} (status quo -> reform, difference [95% CI] (5-95% of replicates)):"]
    pc = a.per_child[a.per_child["area"] == total]
    for period, g in pc.groupby("period", sort=False):
        lines.append(f"  {period}")
        for _, r in g.iterrows():
            u = r["units"]
            lines.append(
                f"    {r['outcome']:28s} {_val(r['status_quo'], u):>10s} -> {_val(r['scenario'], u):>10s}  "
                f"{_diff(r['difference_mean'], u):>10s} [{_diff(r['difference_ci_low'], u)}, "
                f"{_diff(r['difference_ci_high'], u)}] ({_diff(r['difference_p5'], u)} to "
                f"{_diff(r['difference_p95'], u)})"
            )
    if not all(at["complete"]):
        lines += ["", "* incomplete statistical year (the run ends before 31 March): discounted from its last week"]
    return "\n".join(lines) + "\n"


def write_outputs(a: Appraisal, out: Path) -> list[Path]:
    return write_tables(
        out,
        {
            "npc_summary": a.npc,
            "npc_by_year": a.by_year,
            "npc_by_replicate": a.by_replicate,
            "outcomes_per_child": a.per_child,
        },
        "rollout.txt",
        text_report(a),
    )
