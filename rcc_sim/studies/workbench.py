"""The co-design workbench: several RCC designs against the status quo on common random numbers,
ranked side by side on the outcomes a steering group picks.

    rcc-sim-workbench +experiment=workbench_south_east
    rcc-sim-workbench +experiment=workbench_south_east 'workbench.seeds=[0,1]' sim.years=2 \\
        'workbench.rank_by=[share_over_20_miles,net_cost_gbp_m]'

A *design* is a name, a sentence and a set of lever settings (dotted policy keys, e.g.
``policy.rccs.south_east.block_places: 40``) put over the experiment's policy; a *grid* adds one
design for every combination of some levers' values. What happens, in order:

1. :func:`expand` turns ``workbench.designs`` and ``workbench.grid`` into one validated config
   per design - an unknown lever, a value outside its declared bounds, a duplicate or missing name
   or no designs at all is refused here, naming the design and the key, before anything runs;
2. :func:`run_workbench` runs the status quo once per seed and every design on the same seeds
   (the same children arrive in every run), ``jobs`` at a time. Each run is written to
   ``<out>/runs/<design or status_quo>/seed<seed>/`` with its ``status.json``; a run already done
   with the same config and code commit is skipped, and a run that raises is recorded as failed
   without stopping the others;
3. each design's outcomes minus the status quo's, per seed, for every RCC's members, the LAs in
   no RCC and the whole world ("England", as in :mod:`rcc_sim.studies.compare`), with the mean and
   a 95% t-interval over the seeds both runs finished; the RCC's costs; the unsourced
   (ASSUMPTION) parameters each design's levers rest on; and the ranking on ``rank_by``.

The result is one Dataset (``workbench.nc``: variant x outcome x area, ``mean``/``lo``/``hi``),
a tidy table (``workbench.csv``) and a page (``workbench.html``,
:mod:`rcc_sim.reporting.workbench`).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import json
import multiprocessing
import re
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from rcc_sim.config import (
    ASSUMPTION,
    SENTINEL_OFF,
    Config,
    ConfigError,
    PolicyConfig,
    RCCConfig,
    check_seeds,
    parameter_table,
    rcc_members,
    to_object,
)
from rcc_sim.files import atomic_write, atomic_write_text
from rcc_sim.studies import compare
from rcc_sim.studies.compare import OUTCOMES, Outcome

STATUS_QUO = "status_quo"
RUNS_DIR = "runs"
NC_FILE, CSV_FILE, HTML_FILE = "workbench.nc", "workbench.csv", "workbench.html"
OUTSIDE = "outside RCCs"  # the simulated LAs in none of a design's RCCs
WORLD = "England"  # every simulated LA (the name rcc_sim.studies.compare gives it)
NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.,=+-]*$")
# workers are forked, as in calibration and sensitivity: quick to start (importing mesa makes
# "spawn" the default), and they inherit the parent's modules as they are
FORK = multiprocessing.get_context("fork")


# ---------------------------------------------------------------------------------------------
# Outcomes: those of rcc-sim-compare, and the RCC's costs
# ---------------------------------------------------------------------------------------------
def _total(var: str) -> Callable[[xr.Dataset], xr.DataArray]:
    """GBP m over the run (0 where the results have no such flow: made before it was recorded)."""

    def f(a: xr.Dataset) -> xr.DataArray:
        if var not in a:
            return xr.zeros_like(a["children_in_care"].isel(time=0), dtype="float64")
        return a[var].astype("float64").sum("time") / 1e6

    return f


COSTS: dict[str, Outcome] = {  # each over the run, GBP m; the status quo has none
    "rcc_setup_gbp_m": Outcome("GBP m", "RCC set-up cost over the run", _total("rcc_setup_cost")),
    "rcc_running_gbp_m": Outcome("GBP m", "RCC running cost over the run", _total("rcc_running_cost")),
    "rcc_capital_gbp_m": Outcome("GBP m", "RCC capital (homes, foster bedrooms) over the run", _total("rcc_capital")),
    "rcc_therapeutic_gbp_m": Outcome(
        "GBP m", "Therapeutic support for complex needs, over the run", _total("rcc_therapeutic_cost")
    ),
    "rcc_void_block_gbp_m": Outcome(
        "GBP m", "Block-contract places paid while empty, over the run", _total("rcc_void_cost")
    ),
    "health_cofunding_gbp_m": Outcome(
        "GBP m", "Placement cost paid by health (an offset), over the run", _total("spend_cofunded")
    ),
    "programme_funding_gbp_m": Outcome(
        "GBP m", "DfE programme funding received (an offset), over the run", _total("rcc_programme_funding")
    ),
}
ALL_OUTCOMES: dict[str, Outcome] = {**OUTCOMES, **COSTS}
# which way is better, for ranking; None: no usual direction (rank_by must say, e.g. homes_end:higher)
BETTER: dict[str, str | None] = {
    "share_over_20_miles": "lower",
    "share_outside_la": "lower",
    "mean_miles_from_home": "lower",
    "share_family_based": "higher",
    "waiting": "lower",
    "unregistered_share": "lower",
    "three_plus_placements_rate": "lower",
    "moves_per_child": "lower",
    "mean_days_to_placement": "lower",
    "spend_gbp_m": "lower",
    "net_cost_gbp_m": "lower",
    "spend_per_child_week": "lower",
    "carers_end": "higher",
    "homes_end": None,
    **{name: "lower" for name in COSTS},
}
BETTER.update({k: "higher" for k in ("health_cofunding_gbp_m", "programme_funding_gbp_m")})


def outcome_names() -> list[str]:
    return list(ALL_OUTCOMES)


# ---------------------------------------------------------------------------------------------
# 1. Designs: expanded and validated before anything runs
# ---------------------------------------------------------------------------------------------
@dataclass
class Design:
    name: str
    description: str
    levers: dict[str, Any]  # dotted policy key -> value, as given
    cfg: Config  # the design's config (seed to be set), validated
    groups: dict[str, list[str]]  # area name -> member LA codes in the simulated world


@dataclass
class Plan:
    """What a workbench runs and reports: the designs, the seeds, the ranking."""

    base: Config
    designs: list[Design]
    seeds: list[int]
    outcomes: list[str]  # computed: those shown, then the RCC's costs
    shown: list[str]  # the outcomes the user picked (ranked ones first)
    rank_by: list[tuple[str, str]]  # (outcome, "lower" | "higher")
    rank_area: str
    areas: list[str]


def _run_config(cfg: Config, policy: PolicyConfig) -> Config:
    """A run's config: the workbench section dropped and output settings that do not change the
    results fixed, so its hash (and so resuming) depends only on what is simulated."""
    out = dataclasses.replace(cfg.output, write_netcdf=True, report=False, progress="auto")
    return dataclasses.replace(cfg, policy=policy, workbench=None, output=out)


def _with_levers(base: Config, name: str, description: str, levers: dict[str, Any]) -> Config:
    """``base`` with the design's levers set; validated (a ConfigError names the design and key)."""
    from omegaconf import OmegaConf

    where = f"workbench design '{name}'"
    data = OmegaConf.to_container(OmegaConf.structured(_run_config(base, base.policy)), resolve=True)
    assert isinstance(data, dict)
    data["policy"]["name"], data["policy"]["description"] = name, description
    for key, value in levers.items():
        if not isinstance(key, str) or not key.startswith("policy.") or key.count(".") < 1:
            raise ConfigError(
                f"{where}: lever '{key}' is not a policy key: a design sets RCC and policy levers "
                "(e.g. policy.rccs.south_east.block_places); the rest of the config is shared with the status quo"
            )
        if key in ("policy.name", "policy.description"):
            raise ConfigError(f"{where}: lever '{key}': the design's name and description are set by the workbench")
        node = data
        *head, last = key.split(".")
        for i, part in enumerate(head):
            node = node.setdefault(part, {}) if isinstance(node, dict) else None
            if not isinstance(node, dict):
                raise ConfigError(f"{where}: lever '{key}': '{'.'.join(head[: i + 1])}' is a value, not a section")
        node[last] = value
    try:
        return to_object(data)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _grid_designs(grid: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(name, description, levers) for every combination of the grid's values."""
    keys = list(grid)
    if not keys:
        return []
    for key in keys:
        if not isinstance(grid[key], (list, tuple)) or not grid[key]:
            raise ConfigError(f"config key 'workbench.grid' entry '{key}': give a list of values, e.g. [0, 20, 40]")
    short = [k.rsplit(".", 1)[-1] for k in keys]
    label = short if len(set(short)) == len(short) else keys
    out = []
    for values in itertools.product(*(grid[k] for k in keys)):
        parts = [f"{lab}={v}" for lab, v in zip(label, values)]
        name = re.sub(r"[^A-Za-z0-9_.,=+-]", "_", ",".join(parts))
        out.append((name, "Grid: " + ", ".join(parts), dict(zip(keys, values))))
    return out


def _groups(cfg: Config) -> dict[str, list[str]]:
    """'RCC <name>' -> its members in the simulated world, and the simulated LAs in no RCC."""
    from rcc_sim.data import load_las

    world = [str(c) for c in (cfg.world.la_codes or load_las()["code"])]
    members = rcc_members(cfg)
    out = {f"RCC {n}": [c for c in m if c in world] for n, m in members.items()}
    out = {k: v for k, v in out.items() if v}
    taken = {c for m in members.values() for c in m}
    out[OUTSIDE] = [c for c in world if c not in taken]
    return out


def _rank_by(entries: list[str], key: str = "workbench.rank_by") -> list[tuple[str, str]]:
    if not entries:
        raise ConfigError(f"config key '{key}' is empty: name at least one outcome ({', '.join(ALL_OUTCOMES)})")
    out = []
    for i, entry in enumerate(entries):
        name, _, direction = str(entry).partition(":")
        if name not in ALL_OUTCOMES:
            raise ConfigError(f"config key '{key}[{i}]' = {entry!r}: no such outcome ({', '.join(ALL_OUTCOMES)})")
        direction = direction or BETTER[name] or ""
        if direction not in ("lower", "higher"):
            raise ConfigError(
                f"config key '{key}[{i}]' = {entry!r}: say which is better, '{name}:lower' or '{name}:higher'"
            )
        out.append((name, direction))
    if len({n for n, _ in out}) < len(out):
        raise ConfigError(f"config key '{key}' names an outcome twice")
    return out


def expand(cfg: Config) -> Plan:
    """Every design of ``cfg.workbench`` as a validated config, and what is ranked; a
    :class:`ConfigError` naming the design and key for anything that would fail later."""
    wb = cfg.workbench
    if wb is None:
        raise ConfigError("config has no 'workbench' section: run with +experiment=workbench_south_east or add one")
    check_seeds("workbench.seeds", wb.seeds)
    listed = [(d.name, d.description, dict(d.levers)) for d in wb.designs]
    specs = listed + _grid_designs(dict(wb.grid))
    if not specs:
        raise ConfigError("config key 'workbench.designs' is empty (and no workbench.grid): give at least one design")
    seen: dict[str, int] = {}
    for i, (name, _, _) in enumerate(specs):
        where = f"config key 'workbench.designs[{i}].name'" if i < len(listed) else "config key 'workbench.grid'"
        if not isinstance(name, str) or not NAME.match(name):
            raise ConfigError(
                f"{where} = {name!r}: a design's name is also its directory: letters, digits and _ - . = , +"
            )
        if name == STATUS_QUO:
            raise ConfigError(f"{where} = {name!r}: the status quo is run anyway; give the design another name")
        if name in seen:
            raise ConfigError(f"{where}: design name '{name}' is used twice (also design {seen[name]})")
        seen[name] = i
    designs = []
    for name, description, levers in specs:
        dcfg = _with_levers(cfg, name, description, levers)
        designs.append(Design(name, description, levers, dcfg, _groups(dcfg)))
    rcc_areas = list(dict.fromkeys(a for d in designs for a in d.groups if a != OUTSIDE))
    areas = [*rcc_areas, OUTSIDE, WORLD]
    rank_by = _rank_by(list(wb.rank_by))
    chosen = list(wb.outcomes) or list(OUTCOMES)
    for i, name in enumerate(chosen):
        if name not in ALL_OUTCOMES:
            raise ConfigError(
                f"config key 'workbench.outcomes[{i}]' = {name!r}: no such outcome ({', '.join(ALL_OUTCOMES)})"
            )
    shown = list(dict.fromkeys([*(n for n, _ in rank_by), *chosen]))
    outcomes = list(dict.fromkeys([*shown, *COSTS, "net_cost_gbp_m"]))  # costs and net cost: always
    rank_area = wb.rank_area or (rcc_areas[0] if rcc_areas else WORLD)
    if rank_area not in areas:
        raise ConfigError(f"config key 'workbench.rank_area' = {rank_area!r}: use one of {areas}")
    return Plan(cfg, designs, list(wb.seeds), outcomes, shown, rank_by, rank_area, areas)


# ---------------------------------------------------------------------------------------------
# 2. Runs: the status quo once per seed, each design on the same seeds; resumable
# ---------------------------------------------------------------------------------------------
@dataclass
class RunTask:
    design: str  # a design's name, or STATUS_QUO
    seed: int
    cfg: Config
    run_dir: Path
    groups: list[dict[str, list[str]]]  # the areas its outcomes are wanted for (one set per design it serves)
    outcomes: list[str]
    areas: list[str]


@dataclass
class RunState:
    design: str
    seed: int
    state: str  # done (now), skipped (done before), failed
    message: str = ""
    seconds: float = 0.0
    # (outcome, area) values per set of areas (:func:`_groups_key`), computed where the run ran
    values: dict[tuple, np.ndarray] = field(default_factory=dict)


def tasks(plan: Plan, out_dir: Path) -> list[RunTask]:
    """The status quo once per seed (shared by every design), then each design on each seed."""
    runs = Path(out_dir) / RUNS_DIR
    sq = _run_config(plan.base, PolicyConfig())
    every = list({_groups_key(d.groups): d.groups for d in plan.designs}.values())
    want = (plan.outcomes, plan.areas)
    out = [
        RunTask(STATUS_QUO, s, dataclasses.replace(sq, seed=s), runs / STATUS_QUO / f"seed{s}", every, *want)
        for s in plan.seeds
    ]
    for d in plan.designs:
        out += [
            RunTask(d.name, s, dataclasses.replace(d.cfg, seed=s), runs / d.name / f"seed{s}", [d.groups], *want)
            for s in plan.seeds
        ]
    return out


def _groups_key(groups: dict[str, list[str]]) -> tuple:
    return tuple(sorted((k, tuple(v)) for k, v in groups.items()))


def _simulate_run(cfg: Config, run_dir: Path, progress: Callable[[int, int, float], None] | None) -> xr.Dataset:
    """One run written to ``run_dir`` (results.nc, config.yaml, manifest.json): the seam tests replace."""
    from rcc_sim.run import SPIN_UP_DIR, run_and_write

    cache = Path(run_dir).parents[1] / SPIN_UP_DIR if cfg.output.share_spin_up else None  # <out>/runs/.spin_up
    return run_and_write(cfg, run_dir, progress, cache)[0]


def _execute(task: RunTask, index: int, progress: compare.Progress | None = None) -> RunState:
    """Run ``task`` recording its state in status.json; an exception becomes a failed state."""
    import time

    from rcc_sim.studies.study import recording

    if progress is None and compare._PROGRESS_QUEUE is not None:  # in a worker: to the parent's bar
        progress = compare._to_queue
    week = None if progress is None else functools.partial(progress, index)
    task.run_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    try:
        with recording(task.run_dir, task.cfg):
            ds = _simulate_run(task.cfg, task.run_dir, week)
    except Exception as exc:  # recorded in status.json with its traceback; the others go on
        return RunState(task.design, task.seed, "failed", f"{type(exc).__name__}: {exc}", time.perf_counter() - t0)
    values = {_groups_key(g): _outcomes_of(ds, g, task.outcomes, task.areas).values for g in task.groups}
    return RunState(task.design, task.seed, "done", "", time.perf_counter() - t0, values)


def _execute_job(job: tuple[RunTask, int]) -> RunState:
    return _execute(*job)


def _collect(ex: ProcessPoolExecutor, todo: list[RunTask], note: Callable[[RunState], None]) -> None:
    """Submit every task to ``ex`` and note each state as it finishes."""
    futures: dict[Future, RunTask] = {ex.submit(_execute_job, (t, i)): t for i, t in enumerate(todo)}
    for fut in as_completed(futures):
        t = futures[fut]
        try:
            note(fut.result())
        except Exception as exc:  # the worker process itself died
            note(RunState(t.design, t.seed, "failed", f"{type(exc).__name__}: {exc}"))


def run_all(
    todo: list[RunTask], jobs: int = 1, progress: compare.Progress | None = None, log: Callable[[str], None] = print
) -> list[RunState]:
    """Run every task, ``jobs`` at a time (in this process when 1); never stops at a failure."""
    states: list[RunState] = []

    def note(s: RunState) -> None:
        states.append(s)
        extra = f": {s.message}" if s.state == "failed" else f" ({s.seconds:.0f} s)"
        log(f"  {s.design} seed {s.seed}: {s.state}{extra}")

    if jobs <= 1 or len(todo) <= 1:
        for i, t in enumerate(todo):
            note(_execute(t, i, progress))
        return states
    if progress is None:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=FORK) as ex:
            _collect(ex, todo, note)
        return states
    report = progress
    queue = FORK.Queue()

    def forward() -> None:  # the workers' weeks, to the bar in this process
        for item in iter(queue.get, None):
            report(*item)

    relay = threading.Thread(target=forward, name="rcc-sim-workbench-progress", daemon=True)
    relay.start()
    try:
        with ProcessPoolExecutor(jobs, mp_context=FORK, initializer=compare._init_worker, initargs=(queue,)) as ex:
            _collect(ex, todo, note)
    finally:
        queue.put(None)
        relay.join()
    return states


# ---------------------------------------------------------------------------------------------
# 3. Differences, intervals, ranking, costs and assumptions
# ---------------------------------------------------------------------------------------------
def _outcomes_of(ds: xr.Dataset, groups: dict[str, list[str]], names: list[str], areas: list[str]) -> xr.DataArray:
    """(outcome, area) values of one run's results for the given areas (NaN where an area is empty)."""
    a = compare.areas(ds, groups)
    a = a.sel(area=[x for x in areas if x in a.area.values])
    values = xr.concat(
        [ALL_OUTCOMES[n].fn(a).astype("float64").reset_coords(drop=True) for n in names],
        dim=pd.Index(names, name="outcome"),
    )
    return values.reindex(area=areas)


def _interval(diff: xr.DataArray) -> tuple[xr.DataArray, xr.DataArray, xr.DataArray]:
    mean, half = compare.t_interval(diff.to_dataset(name="d"), dim="seed")
    return mean["d"], mean["d"] - half["d"], mean["d"] + half["d"]


def _in_use(rcc: RCCConfig, name: str) -> bool:
    """Whether an RCC lever acts: a switch or size that is on, or a setting of a function that is on."""
    value = getattr(rcc, name, None)  # None: a lever this version does not have
    if value is None:
        return False
    switches = SWITCHED_BY.get(name, ())
    if switches and not any(_in_use(rcc, s) for s in switches):
        return False
    if name in ALWAYS_USED:
        return True
    if name in SENTINEL_OFF:
        return value != -1
    return bool(value)


# settings that act only when one of their function's levers is on; the others act when not off
SWITCHED_BY = {
    "pooled_search_miles": ("pooled_search",),
    "forecast_error_sd": ("forecasting",),
    "markov_years": ("forecasting",),
    "plan_controlled_share": ("forecasting",),
    "block_term_years": ("plan_controlled_share",),
    "block_discount": ("block_places", "plan_controlled_share"),
    "therapeutic_cost_week": ("therapeutic_breakdown_reduction", "therapeutic_escalation_reduction"),
    "home_build_cost_gbp": ("homes_to_build", "plan_controlled_share"),
    "home_build_lead_days": ("homes_to_build", "plan_controlled_share"),
    "home_places": ("homes_to_build", "plan_controlled_share"),
    "foster_room_cost_gbp": ("foster_rooms",),
    "specialist_cost_week": ("specialist_carers", "plan_controlled_share"),
}
ALWAYS_USED = {"start_years", "ramp_up_years"}


def _range_of(source: str) -> str:
    m = re.search(r"\(range ([^)]*)\)", source)
    return m.group(1) if m else ""


def _field(cfg: Config, key: str) -> tuple[Any, dict[str, Any]]:
    """The value and param() metadata at a dotted key (through dicts such as policy.rccs)."""
    node: Any = cfg
    meta: dict[str, Any] = {}
    for part in key.split("."):
        if dataclasses.is_dataclass(node):
            f = {x.name: x for x in dataclasses.fields(node)}[part]
            meta, node = dict(f.metadata), getattr(node, part)
        else:
            meta, node = {}, node[part]
    return node, meta


def assumptions(design: Design) -> list[dict[str, Any]]:
    """The parameters with no published source (ASSUMPTION) that the design's levers rest on: each
    acting lever of its RCCs in the simulated world, and any other policy key it sets."""
    rows: dict[str, dict[str, Any]] = {}
    in_world = {a.removeprefix("RCC ") for a in design.groups if a != OUTSIDE}

    def add(key: str, value: Any, meta: dict[str, Any]) -> None:
        source = str(meta.get("source", ""))
        if ASSUMPTION in source:
            rows[key] = {
                "key": key,
                "value": value,
                "unit": meta.get("unit", ""),
                "range": _range_of(source),
                "bounds": [meta.get("lo"), meta.get("hi")],
                "source": source,
                "set_by_design": key in design.levers,
            }

    for name, rcc in design.cfg.policy.rccs.items():
        if name not in in_world:
            continue
        for f in dataclasses.fields(rcc):
            if "unit" in f.metadata and _in_use(rcc, f.name):
                add(f"policy.rccs.{name}.{f.name}", getattr(rcc, f.name), dict(f.metadata))
    for key in design.levers:
        if key not in rows:
            value, meta = _field(design.cfg, key)
            add(key, value, meta)
    return sorted(rows.values(), key=lambda r: r["key"])


def rank(mean: xr.DataArray, rank_by: list[tuple[str, str]], area: str, n_seeds: xr.DataArray) -> pd.DataFrame:
    """Each design's rank on each ranked outcome (1 = best; ties share the mean rank; no result =
    last) and overall: the mean of those ranks, ties broken by the first outcome, then the second."""
    table = pd.DataFrame(index=pd.Index([str(v) for v in mean.variant.values], name="variant"))
    keys = []
    for name, direction in rank_by:
        v = mean.sel(outcome=name, area=area).to_series()
        v.index = table.index
        signed = v if direction == "lower" else -v
        signed[n_seeds.to_series().values == 0] = np.nan
        table[f"rank_{name}"] = signed.rank(method="average", na_option="bottom")
        table[f"key_{name}"] = signed.fillna(np.inf)
        keys.append(f"key_{name}")
    table["score"] = table[[f"rank_{n}" for n, _ in rank_by]].mean(axis=1)
    table = table.sort_values(["score", *keys], kind="stable")
    table["rank"] = np.arange(1, len(table) + 1)
    return table.drop(columns=keys)


def summarise(plan: Plan, out_dir: Path, states: list[RunState]) -> xr.Dataset:
    """The workbench Dataset from the runs on disk (see the module docstring)."""
    from rcc_sim.run import RESULTS_FILE
    from rcc_sim.studies.study import read_status

    runs = Path(out_dir) / RUNS_DIR
    names, areas, seeds = plan.outcomes, plan.areas, plan.seeds

    def done(design: str, seed: int) -> bool:
        d = runs / design / f"seed{seed}"
        return (read_status(d) or {}).get("state") == "done" and (d / RESULTS_FILE).is_file()

    shape = (len(plan.designs), len(seeds), len(names), len(areas))
    design_v, sq_v = np.full(shape, np.nan), np.full(shape, np.nan)
    paired = np.zeros(shape[:2], dtype=bool)
    # values computed where the runs ran; a run done before is read from its results.nc
    cache = {(st.design, st.seed, key): v for st in states for key, v in st.values.items()}

    def values(design: str, seed: int, groups: dict[str, list[str]]) -> np.ndarray:
        key = (design, seed, _groups_key(groups))
        if key not in cache:
            with xr.open_dataset(runs / design / f"seed{seed}" / RESULTS_FILE, engine="h5netcdf") as ds:
                cache[key] = _outcomes_of(ds.load(), groups, names, areas).values
        return cache[key]

    for i, d in enumerate(plan.designs):
        for j, s in enumerate(seeds):
            if done(STATUS_QUO, s) and done(d.name, s):
                sq_v[i, j], design_v[i, j] = values(STATUS_QUO, s, d.groups), values(d.name, s, d.groups)
                paired[i, j] = True
    variants = [d.name for d in plan.designs]
    coords = {"variant": variants, "seed": seeds, "outcome": names, "area": areas}
    dims = ("variant", "seed", "outcome", "area")
    by_seed = xr.DataArray(design_v - sq_v, coords, dims)
    mean, lo, hi = (xr.full_like(by_seed.isel(seed=0, drop=True), np.nan) for _ in range(3))
    for i in range(len(plan.designs)):
        keep = np.flatnonzero(paired[i])
        if len(keep):
            m, l_, h = _interval(by_seed.isel(variant=i, seed=keep))
            mean[i], lo[i], hi[i] = m.values, l_.values, h.values
    n_seeds = xr.DataArray(paired.sum(axis=1), {"variant": variants}, ("variant",))
    ranking = rank(mean, plan.rank_by, plan.rank_area, n_seeds)
    order = list(ranking.index)
    first, _ = plan.rank_by[0]
    top = order[0]
    vs_best = []  # each design minus the top design on the first ranked outcome, paired by seed
    for v in order:
        both = np.flatnonzero(paired[variants.index(v)] & paired[variants.index(top)])
        diff = (by_seed.sel(variant=v) - by_seed.sel(variant=top)).sel(outcome=first, area=plan.rank_area)
        vs_best.append(_interval(diff.isel(seed=both)) if len(both) else (np.nan,) * 3)
    with warnings.catch_warnings():  # a design with no finished pair: NaN levels, no warning
        warnings.simplefilter("ignore", RuntimeWarning)
        level = mean.copy(data=np.nanmean(design_v, axis=1))
        sq_level = mean.copy(data=np.nanmean(sq_v, axis=1))
    by_name = {d.name: d for d in plan.designs}
    out = xr.Dataset(
        {
            "mean": mean.assign_attrs(definition="design minus status quo, mean over the seeds both finished"),
            "lo": lo.assign_attrs(definition="95% t-interval of the mean difference, lower"),
            "hi": hi.assign_attrs(definition="95% t-interval of the mean difference, upper"),
            "design": level.assign_attrs(definition="the design's level, mean over its paired seeds"),
            "status_quo": sq_level.assign_attrs(definition="the status quo's level on the same seeds"),
            "by_seed": by_seed.assign_attrs(definition="design minus status quo, per seed (NaN: a run not done)"),
            "n_seeds": n_seeds.assign_attrs(definition="seeds on which both the design and the status quo finished"),
        }
    ).sel(variant=order)
    out["rank"] = ("variant", ranking["rank"].to_numpy())
    out["rank_score"] = ("variant", ranking["score"].to_numpy())
    for name, _ in plan.rank_by:
        out[f"rank_{name}"] = ("variant", ranking[f"rank_{name}"].to_numpy())
    for k, label in enumerate(("vs_top_mean", "vs_top_lo", "vs_top_hi")):
        out[label] = ("variant", np.array([float(np.asarray(x[k])) for x in vs_best]))
        out[label].attrs["definition"] = f"{first} in {plan.rank_area}: design minus the top design, paired by seed"
    out = out.assign_coords(
        description=("variant", [by_name[v].description for v in order]),
        levers=("variant", [json.dumps(by_name[v].levers, default=str) for v in order]),
        assumptions=("variant", [json.dumps(assumptions(by_name[v]), default=str) for v in order]),
        units=("outcome", [ALL_OUTCOMES[n].units for n in names]),
        long_name=("outcome", [ALL_OUTCOMES[n].long_name for n in names]),
        better=("outcome", [BETTER[n] or "" for n in names]),
        shown=("outcome", [n in plan.shown for n in names]),
    )
    failed = [dataclasses.asdict(s) for s in states if s.state == "failed"]
    base = plan.base
    out.attrs.update(
        title="rcc-sim co-design workbench",
        world=base.world.name,
        base_policy=base.policy.name,
        years=base.sim.years,
        spin_up_years=base.sim.spin_up_years,
        start_year=base.sim.start_year,
        seeds=json.dumps(seeds),
        rank_by=json.dumps([f"{n}:{d}" for n, d in plan.rank_by]),
        rank_area=plan.rank_area,
        groups=json.dumps({d.name: d.groups for d in plan.designs}),
        failed_runs=json.dumps(failed, default=str),
        shared_assumptions=sum(r["assumption"] for r in parameter_table(base)),
        method="each design and the status quo on the same seeds (common random numbers); the status quo runs "
        "once per seed; 95% t-interval over the seeds on which both finished",
    )
    return out


def to_table(ds: xr.Dataset) -> pd.DataFrame:
    """One row per variant, outcome and area: the tidy table written as workbench.csv."""
    df = ds[["mean", "lo", "hi", "design", "status_quo"]].to_dataframe().reset_index()
    df = df.rename(columns={"mean": "difference", "lo": "ci_low", "hi": "ci_high", "design": "design_level"})
    per_variant = ds[["rank", "rank_score", "n_seeds"]].to_dataframe()
    df = df.merge(per_variant[["rank", "rank_score", "n_seeds"]], left_on="variant", right_index=True)
    df = df.drop(columns=[c for c in ("levers", "assumptions") if c in df.columns])
    cols = ["rank", "variant", "description", "outcome", "long_name", "units", "better", "area"]
    rest = ["status_quo", "design_level", "difference", "ci_low", "ci_high", "n_seeds", "rank_score"]
    return df[cols + rest].sort_values(["rank", "outcome", "area"], kind="stable")


def ranking_text(ds: xr.Dataset) -> str:
    """The ranking as plain text (printed by the command)."""
    area = ds.attrs["rank_area"]
    ranked = json.loads(ds.attrs["rank_by"])
    lines = [
        f"Designs ranked in {area} on {', '.join(ranked)} ({ds.attrs['world']}, {ds.attrs['years']:g} years, "
        f"seeds {ds.attrs['seeds']}); design minus status quo, mean [95% interval]"
    ]
    for v in ds.variant.values:
        row = ds.sel(variant=v)
        cells = []
        for entry in ranked:
            name = entry.split(":")[0]
            m, lo, hi = (float(row[k].sel(outcome=name, area=area)) for k in ("mean", "lo", "hi"))
            cells.append(f"{name} {m:+.4g} [{lo:.4g}, {hi:.4g}]")
        lines.append(f"{int(row['rank']):3d}. {str(v):28s} (n={int(row['n_seeds'])})  " + "; ".join(cells))
    failed = json.loads(ds.attrs.get("failed_runs", "[]"))
    if failed:
        lines.append(f"{len(failed)} runs failed: " + "; ".join(f"{f['design']} seed {f['seed']}" for f in failed))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# The whole workbench
# ---------------------------------------------------------------------------------------------
@dataclass
class Result:
    ds: xr.Dataset
    states: list[RunState] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    @property
    def failed(self) -> list[RunState]:
        return [s for s in self.states if s.state == "failed"]


def run_workbench(
    cfg: Config,
    out_dir: str | Path,
    plan: Plan | None = None,
    progress_factory: Callable[[int], Any] | None = None,
    log: Callable[[str], None] = print,
    command: str = "",
) -> Result:
    """Expand and check the designs, run what is not done yet, and write workbench.nc, .csv and
    .html into ``out_dir``. ``progress_factory(runs)`` may return a context whose ``week(run,
    weeks_done, n_weeks, model_day)`` is told of every week (a :class:`rcc_sim.progress.WeekProgress`)."""
    import contextlib

    from rcc_sim.studies.study import previous_run

    out_dir = Path(out_dir)
    plan = plan or expand(cfg)  # refuses a bad design before anything runs
    assert cfg.workbench is not None
    every = tasks(plan, out_dir)
    states, todo = [], []
    for t in every:
        skip, _ = previous_run(t.run_dir, t.cfg)
        if skip:
            states.append(RunState(t.design, t.seed, "skipped"))
        else:
            todo.append(t)
    log(
        f"workbench: {len(plan.designs)} designs + the status quo x {len(plan.seeds)} seeds = {len(every)} runs; "
        f"{len(every) - len(todo)} done before, {len(todo)} to run ({cfg.workbench.jobs} at a time)"
    )
    with progress_factory(len(todo)) if progress_factory and todo else contextlib.nullcontext() as bar:
        states += run_all(todo, cfg.workbench.jobs, None if bar is None else bar.week, log)
    ds = summarise(plan, out_dir, states)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [
        atomic_write(out_dir / NC_FILE, lambda tmp: ds.to_netcdf(tmp, engine="h5netcdf")),
        atomic_write_text(out_dir / CSV_FILE, to_table(ds).to_csv(index=False)),
    ]
    from rcc_sim.reporting.workbench import render

    files.append(atomic_write_text(out_dir / HTML_FILE, render(ds, plan, command=command)))
    return Result(ds, states, files)
