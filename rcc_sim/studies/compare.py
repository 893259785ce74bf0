"""Paired comparison of a scenario with the status quo on common random numbers.

For each seed the scenario and the status quo are run with the same seed, so both see the same
children arrive (same day, LA, age, needs, siblings) and leave on the same plans; the difference
in an outcome is then the policy's effect plus much less noise than two independent runs. Across
seeds, the mean difference and a t-interval are reported for every outcome, by LA, region and
England (outcomes of regions and England are recomputed from summed counts, never averaged).

    rcc-sim-compare policy=pathfinders sim.years=5 compare.seeds=[0,1,2,3,4]
"""

from __future__ import annotations

import dataclasses
import functools
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import xarray as xr

from rcc_sim.config import Config, PolicyConfig, rcc_members, to_object
from rcc_sim.engine.recorder import SHARES


@dataclass(frozen=True)
class Outcome:
    units: str
    long_name: str
    fn: Callable[[xr.Dataset], xr.DataArray]  # Dataset with an 'area' dim -> DataArray over area


def _last_year(ds: xr.Dataset) -> xr.Dataset:
    return ds.isel(time=slice(-52, None))


def _ratio(num: str, den: str, last: bool = True):
    def f(ds):
        d = _last_year(ds) if last else ds
        return d[num].sum("time") / d[den].sum("time").where(d[den].sum("time") > 0)

    return f


def _at_last_31_march(ds: xr.Dataset, name: str) -> xr.DataArray:
    """An annual measure at the run's last 31 March; NaN if the run ends before its first one."""
    if ds.sizes.get("year", 0) == 0:
        return xr.full_like(ds["children_in_care"].isel(time=-1), np.nan, dtype="float64")
    return ds[name].isel(year=-1)


# the terms of the net cost (GBP): (variable, sign, dimension summed away); the one definition,
# used by the net-cost outcome, the report's weekly net cost and (with labels) the roll-out appraisal
NET_COST_TERMS: tuple[tuple[str, int, str | None], ...] = (
    ("spend", 1, "placement_type"),
    ("spend_cofunded", -1, None),
    ("rcc_setup_cost", 1, None),
    ("rcc_running_cost", 1, None),
    ("rcc_void_cost", 1, None),
    ("rcc_capital", 1, None),
    ("rcc_therapeutic_cost", 1, None),
    ("rcc_programme_funding", -1, None),
)


def net_cost_per_week(ds: xr.Dataset, dtype: str | None = None) -> xr.DataArray:
    """Net cost in each week (GBP): placement spend net of health co-funding, plus RCC costs
    (set-up, running, void block places, capital, therapeutic support), less programme funding."""
    total = None
    for name, sign, dim in NET_COST_TERMS:
        x = ds[name] if dtype is None else ds[name].astype(dtype)
        x = sign * (x.sum(dim) if dim else x)
        total = x if total is None else total + x
    assert total is not None
    return total


def _net_cost(ds: xr.Dataset) -> xr.DataArray:
    """Net cost over the run (GBP m). Summed in float64: the outputs are float32, and a difference
    of two sums of GBP billions in float32 keeps only about four digits."""
    return net_cost_per_week(ds, "float64").sum("time") / 1e6


OUTCOMES: dict[str, Outcome] = {
    "share_over_20_miles": Outcome(
        "share", "Placed more than 20 miles from home (last year)", _ratio("over_20_miles", "located")
    ),
    "share_outside_la": Outcome("share", "Placed outside the home LA (last year)", _ratio("outside_la", "located")),
    "mean_miles_from_home": Outcome("miles", "Mean distance from home (last year)", _ratio("distance_sum", "located")),
    "share_family_based": Outcome(
        "share", "In family-based care (last year)", _ratio("family_based", "children_in_care")
    ),
    "waiting": Outcome(
        "children", "Children waiting, mean over the last year", lambda ds: _last_year(ds)["waiting"].mean("time")
    ),
    "unregistered_share": Outcome(
        "share", "Waiting in an unregistered placement (last year)", _ratio("waiting", "children_in_care")
    ),
    "three_plus_placements_rate": Outcome(
        "share",
        "Children with 3+ placements in the last year, per child in care at 31 March",
        lambda ds: _at_last_31_march(ds, "three_plus_placements") / _at_last_31_march(ds, "children_in_care_31mar"),
    ),
    "moves_per_child": Outcome(
        "moves per child-year",
        "Placement moves per child in care (last year)",
        lambda ds: (
            _last_year(ds)["moves"].sum(("time", "move_reason")) / _last_year(ds)["children_in_care"].mean("time")
        ),
    ),
    "mean_days_to_placement": Outcome(
        "days", "Mean days waited per placement made (last year)", _ratio("days_to_placement", "placements_made")
    ),
    "spend_gbp_m": Outcome(
        "GBP m", "Placement spend over the run", lambda ds: ds["spend"].sum(("time", "placement_type")) / 1e6
    ),
    "net_cost_gbp_m": Outcome(
        "GBP m", "Net cost over the run: spend - health co-funding + RCC costs - programme funding", _net_cost
    ),
    "spend_per_child_week": Outcome(
        "GBP",
        "Spend per child-week (last year)",
        lambda ds: (
            _last_year(ds)["spend"].sum(("time", "placement_type")) / (_last_year(ds)["children_in_care"].sum("time"))
        ),
    ),
    "carers_end": Outcome(
        "households",
        "Approved fostering households at the end",
        lambda ds: ds["carers"].isel(time=-1).sum("carer_kind"),
    ),
    "homes_end": Outcome(
        "homes",
        "Open children's homes at the end",
        lambda ds: ds["homes"].isel(time=-1).sel(home_kind=["la_home", "private_home"]).sum("home_kind"),
    ),
}


def areas(ds: xr.Dataset, groups: dict[str, list[str]] | None = None) -> xr.Dataset:
    """The Dataset summed to every LA, region, named group of LAs (e.g. an RCC's members) and
    England, along one 'area' dimension."""
    # not by LA (e.g. the market concentration, dims year x market_area): never summed over LAs
    counts = ds.drop_vars(
        [v for v in ds.data_vars if ("time" not in ds[v].dims and "year" not in ds[v].dims) or "la" not in ds[v].dims]
    )
    keep = [v for v in counts.data_vars if v not in SHARES]  # ratios are recomputed, never summed
    counts = counts[keep].drop_vars(
        [c for c in ("la_name", "la_lat", "la_lon", "child_population") if c in counts.coords]
    )
    la = counts.drop_vars("region").rename(la="area")
    region = counts.groupby("region").sum().rename(region="area")
    england = counts.drop_vars("region").sum("la").expand_dims(area=["England"])
    parts = [la, region, england]
    for name, codes in (groups or {}).items():
        members = [c for c in codes if c in counts.la.values]
        if members:
            parts.append(counts.sel(la=members).drop_vars("region").sum("la").expand_dims(area=[name]))
    return xr.concat(parts, dim="area", coords="minimal", compat="override")


def rcc_groups(cfg: Config) -> dict[str, list[str]]:
    """Member LA codes of every RCC in the policy - named ones and one per roll-out region, members
    as the model resolves them (``config.rcc_members``: a region less its ``opt_out`` LAs) - as
    'RCC <name>' areas."""
    return {f"RCC {name}": codes for name, codes in rcc_members(cfg).items()}


def outcomes(ds: xr.Dataset, groups: dict[str, list[str]] | None = None) -> xr.Dataset:
    a = areas(ds, groups)
    return xr.Dataset({name: o.fn(a).astype("float64") for name, o in OUTCOMES.items()})


# where a worker process reports its weeks: the queue to the parent's progress bar (_init_worker)
_PROGRESS_QUEUE = None

Progress = Callable[[int, int, int, float], None]  # (run, weeks_done, n_weeks, model_day)


def _init_worker(queue) -> None:
    global _PROGRESS_QUEUE
    _PROGRESS_QUEUE = queue


def _to_queue(run: int, weeks_done: int, n_weeks: int, model_day: float) -> None:
    _PROGRESS_QUEUE.put((run, weeks_done, n_weeks, model_day))


def _run_pair(job: tuple[int, Config, Config], progress: Progress | None = None) -> tuple[xr.Dataset, xr.Dataset]:
    """Outcomes of pair ``i`` (runs 2i: the scenario, 2i+1: the status quo), reporting each week
    to ``progress`` (in a worker: to the parent's queue, if it gave one)."""
    from rcc_sim.run import simulate_arms

    i, scenario, base = job
    if progress is None and _PROGRESS_QUEUE is not None:
        progress = _to_queue
    groups = rcc_groups(scenario)
    calls = [None if progress is None else functools.partial(progress, 2 * i + k) for k in range(2)]
    runs = simulate_arms([scenario, base], calls)  # one spin-up for both arms
    return tuple(outcomes(ds, groups).load() for ds in runs)


def _run_pairs(jobs: list[tuple[int, Config, Config]], workers: int, progress: Progress | None) -> list:
    """Every pair, in ``workers`` processes if more than one; weeks reported to ``progress``."""
    if workers <= 1:
        return [_run_pair(j, progress) for j in jobs]
    if progress is None:
        with ProcessPoolExecutor(max_workers=workers) as ex:
            return list(ex.map(_run_pair, jobs))
    queue = multiprocessing.get_context().Queue()

    def relay() -> None:  # the workers' weeks, to the bar in this process
        for item in iter(queue.get, None):
            progress(*item)

    thread = threading.Thread(target=relay, name="rcc-sim-compare-progress", daemon=True)
    thread.start()
    try:
        with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(queue,)) as ex:
            return list(ex.map(_run_pair, jobs))
    finally:
        queue.put(None)
        thread.join()


def baseline_of(cfg: Config) -> Config:
    """The same config under the status quo policy (nothing else changes)."""
    return dataclasses.replace(cfg, policy=PolicyConfig())


def t_interval(diff: xr.Dataset, dim: str = "replicate", level: float = 0.95) -> tuple[xr.Dataset, xr.Dataset]:
    """Mean over ``dim`` of paired differences and the half-width of its t-interval (NaN with one
    replicate). Works on any already-stacked outcomes, e.g. ``outcomes(ds)`` of a study."""
    from scipy import stats

    n = diff.sizes[dim]
    mean = diff.mean(dim)
    if n < 2:
        return mean, mean * np.nan
    return mean, stats.t.ppf(0.5 + level / 2, n - 1) * diff.std(dim, ddof=1) / np.sqrt(n)


def paired(cfg: Config, seeds: list[int], jobs: int = 1, progress: Progress | None = None) -> xr.Dataset:
    """Run ``cfg`` and its status quo for each seed; mean difference with a 95% t-interval.
    ``progress(run, weeks_done, n_weeks, model_day)`` is told of every week of the 2 x seeds runs
    (e.g. :meth:`rcc_sim.progress.WeekProgress.week`)."""
    cfg = to_object(cfg)
    pairs = [
        (i, dataclasses.replace(cfg, seed=s), baseline_of(dataclasses.replace(cfg, seed=s)))
        for i, s in enumerate(seeds)
    ]
    results = _run_pairs(pairs, jobs, progress)
    scn = xr.concat([r[0] for r in results], dim="replicate")
    base = xr.concat([r[1] for r in results], dim="replicate")
    diff = scn - base
    mean, half = t_interval(diff)
    out = xr.Dataset()
    for name, o in OUTCOMES.items():
        attrs = {"units": o.units, "long_name": o.long_name}
        out[f"{name}__scenario"] = scn[name].mean("replicate").assign_attrs(attrs)
        out[f"{name}__status_quo"] = base[name].mean("replicate").assign_attrs(attrs)
        out[f"{name}__difference"] = mean[name].assign_attrs(
            attrs, definition="scenario minus status quo, mean over seeds"
        )
        out[f"{name}__ci_low"] = (mean[name] - half[name]).assign_attrs(attrs, definition="95% t-interval, lower")
        out[f"{name}__ci_high"] = (mean[name] + half[name]).assign_attrs(attrs, definition="95% t-interval, upper")
        out[f"{name}__by_seed"] = diff[name].assign_attrs(attrs, definition="scenario minus status quo, per seed")
    out = out.assign_coords(replicate=list(seeds))
    out.attrs.update(
        policy=cfg.policy.name,
        world=cfg.world.name,
        years=cfg.sim.years,
        seeds=str(list(seeds)),
        method="paired runs on common random numbers; 95% t-interval over seeds",
    )
    return out


def table(cmp: xr.Dataset, area: str = "England") -> str:
    lines = [
        f"{cmp.attrs.get('policy')} vs status quo - {area} "
        f"({cmp.attrs.get('years')} years, seeds {cmp.attrs.get('seeds')})",
        f"{'outcome':52s} {'status quo':>12s} {'scenario':>12s} {'difference':>12s}  95% interval",
    ]
    for name, o in OUTCOMES.items():
        v = {
            k: float(cmp[f"{name}__{k}"].sel(area=area))
            for k in ("status_quo", "scenario", "difference", "ci_low", "ci_high")
        }
        fmt = "{:12.4f}" if o.units == "share" else "{:12.2f}"
        lines.append(
            f"{o.long_name[:52]:52s} {fmt.format(v['status_quo'])} {fmt.format(v['scenario'])} "
            f"{fmt.format(v['difference'])}  [{v['ci_low']:.4g}, {v['ci_high']:.4g}]"
        )
    return "\n".join(lines)
