"""Probabilistic roll-out appraisal and the value of information (issue 14 pts 1-2).

    rcc-sim-psa +experiment=rollout_psa                                   # outputs/psa/<study>/
    rcc-sim-psa -m +experiment=rollout_psa 'psa.draw=range(0,100)' hydra/launcher=slurm
    rcc-sim-psa +experiment=rollout_psa psa.run_missing=false             # gather after a sweep
    rcc-sim-psa +experiment=rollout_psa psa.tornado=true world=greater_manchester sim.years=3

**Draws.** An *input* is a config key with a range (:class:`rcc_sim.config.FreeParameter`): every
calibrated parameter within its plausible range (``ranges`` in rcc_sim/data/calibrated.yaml) and
the inputs listed in ``psa.parameters`` - the RCC lever sizes of ``policy.rollout.template`` within
the ASSUMPTION range written in their source (:func:`assumption_range`) and the market's responses
to RCC buying. With ``psa.every_rcc`` a template lever is set in every RCC of ``policy.rccs`` too
(the pathfinders): an effect size belongs to the function, not to a region. Draw ``i`` is row ``i``
of a scrambled Sobol sequence (``psa.sampler=sobol``, scipy.stats.qmc; the first n rows stay the
same when ``n_draws`` grows, so a study can be extended) or of SALib's Latin hypercube
(``latin``, as the sensitivity study), from ``psa.sampler_seed``, plus the seed
``psa.first_seed + i``: the spread over draws holds parameter and stochastic uncertainty together.

**One draw** runs the policy and the status quo on its seed (common random numbers: the same
children arrive in both), computes the net present cost as ``rcc-sim-rollout`` does
(:mod:`rcc_sim.studies.rollout`: Green Book 3.5%, end-year discounting, the public-sector view
without the transfers) and the per-child outcome differences over the run, and writes
``draws/draw<i>/draw.json`` (atomically). A draw is skipped when that file says done with the same
config (SHA-256 of the policy run's resolved config) and code commit; a draw that raises is
recorded (failed, with the traceback) and the others go on. Each draw directory is locked while it
runs (:class:`rcc_sim.studies.jobs.RunDirLock`), so workers (``psa.workers``: a fresh forked process
per draw; one that dies without a result is recorded as failed), a second copy of the command and
the jobs of a Hydra sweep (``psa.draw=<i>``, one job per draw, on any launcher) share the work.

**Summary** (:func:`summarise`): over the draws done, the NPC's mean, median and 2.5-97.5%
percentiles, the probability that the roll-out saves money (NPC < 0; with its Monte Carlo
binomial interval), the same for the public-sector view, and each outcome difference per child
with its 2.5-97.5% percentiles; written as ``psa.nc`` (dims draw, input), ``psa.csv`` (one row per
draw) and ``psa.md``, and the decision page ``decision.html`` (:mod:`rcc_sim.reporting.decision`;
``rcc-sim-decision <study> --designs <evaluation study>`` rebuilds it with the evaluation designs).

**Value of information** (:func:`value_of_information`). Decision: roll-out or status quo.
Incremental net benefit of the roll-out INB = -NPC (GBP m) + sum of ``psa.outcome_weights`` x the
per-child outcome differences (none by default: cost only - any weight is an ASSUMPTION); the NPC
of the public-sector view by default (``psa.perspective``: health co-funding and programme funding
move money between public bodies, so a lever that only moves them is not worth measuring for the
decision), or as LAs see it (``local_authorities``). EVPI =
E[max(INB, 0)] - max(E[INB], 0). EVPPI of an input or group (Strong, Oakley and Brennan 2014,
Med Decis Making 34:311) = E[max(g, 0)] - max(E[g], 0), with g the regression of INB on the input(s)
over the draws: a penalised cubic B-spline with the smoothing chosen by generalised
cross-validation for one input (a GAM smoother), a Gaussian process with one length-scale per
input (fitted by maximum marginal likelihood) for a group. EVPPI is capped at EVPI (its bound),
and is 0 where the fit predicts nothing out of sample. Beside it the share of INB's variance the
metamodel predicts (leave-one-out R^2): when the roll-out saves money in nearly every draw EVPI is
~0 and every EVPPI with it - no measurement would change the decision - and R^2 still says which
inputs set the size of the saving. :func:`measure_first` puts the ranking in words.

**Tornado** (``psa.tornado=true``, :func:`run_tornado`): one paired run per input at each end of
its range with every other input at the base case (the policy as configured), on
``psa.tornado_seeds`` (common random numbers across the swings), in ``<study>/tornado/``; can be run
on a smaller world and fewer years than the PSA itself. The status quo has no RCC, so the base case
and the swings of RCC levers (``policy.*``) on a seed share one spin-up and one status-quo run
(:func:`run_group`, split over the workers): on England, ten years, 28 RCC-lever swings cost about
30 ten-year runs instead of 56 plus 28 spin-ups. A model parameter's swing changes the status quo
too and stays a pair of its own.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import re
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from rcc_sim.config import CALIBRATED, Config, ConfigError, FreeParameter, PolicyConfig, check_seeds
from rcc_sim.files import atomic_write, atomic_write_text

TEMPLATE = "policy.rollout.template."
DRAW_FILE = "draw.json"
# the per-child outcomes reported (rollout.PER_CHILD names): distance, family-based care, waiting, stability
OUTCOMES = (
    "mean_miles_from_home",
    "share_over_20_miles",
    "share_family_based",
    "days_waiting_per_child_year",
    "mean_days_to_placement",
    "moves_per_child_year",
    "children_in_care_end",
    "net_cost_per_child_year",
)
SAMPLERS = ("sobol", "latin")
VOI_MIN_DRAWS = (
    100  # fewer draws than this: the metamodel (regression) estimates of EVPPI are unreliable, said in words
)

Log = Callable[[str], None]


# --------------------------------------------------------------------------------------------
# Inputs and draws
# --------------------------------------------------------------------------------------------
_RANGE = re.compile(r"\(range\s+(-?[\d.,]+)\s*(m?)\s*(?:-|to)\s*(-?[\d.,]+)\s*(m?)")


def assumption_range(key: str) -> tuple[float, float] | None:
    """The plausible range written in an ASSUMPTION parameter's source, e.g. "(range 0-0.10)",
    "(range 1-5m)", "(range -0.5 to 1)"; None if its source gives none."""
    from rcc_sim.config import _param_meta

    m = _RANGE.search(str(_param_meta(key).get("source", "")))
    if m is None:
        return None
    a, ma, b, mb = m.groups()
    mult = 1e6 if (ma or mb) else 1.0
    return float(a.replace(",", "")) * mult, float(b.replace(",", "")) * mult


def inputs(cfg: Config) -> list[FreeParameter]:
    """The calibrated parameters with their plausible ranges (if ``use_calibrated_ranges``), then
    ``psa.parameters``."""
    study = cfg.psa
    if study is None:
        raise ConfigError("no 'psa' section: run with +experiment=rollout_psa")
    params: list[FreeParameter] = []
    if study.use_calibrated_ranges:
        for key, r in CALIBRATED.get("ranges", {}).items():
            note = "calibrated: plausible range from the fit"
            params.append(
                FreeParameter(key=key, lo=float(r["lo"]), hi=float(r["hi"]), scale=bool(r.get("scale")), note=note)
            )
    seen = {p.key for p in params}
    for p in study.parameters:
        if p.key in seen:
            raise ConfigError(f"config key 'psa.parameters': '{p.key}' is listed twice (or is also calibrated)")
        seen.add(p.key)
        params.append(p)
    if not params:
        raise ConfigError("config key 'psa.parameters': nothing to draw (no calibrated ranges either)")
    return params


def is_calibrated(p: FreeParameter) -> bool:
    return p.key in CALIBRATED.get("ranges", {})


def groups(cfg: Config, params: list[FreeParameter]) -> dict[str, list[str]]:
    """``psa.groups`` resolved to input keys (patterns matched with fnmatch); a group matching no
    input is refused."""
    keys = [p.key for p in params]
    out: dict[str, list[str]] = {}
    for name, patterns in (cfg.psa.groups if cfg.psa else {}).items():
        members = [k for k in keys if any(fnmatch.fnmatchcase(k, pat) for pat in patterns)]
        if not members:
            raise ConfigError(f"config key 'psa.groups.{name}': {list(patterns)} matches no input")
        out[str(name)] = members
    return out


def sample(params: list[FreeParameter], n: int, sampler: str = "sobol", seed: int = 0) -> np.ndarray:
    """The draws, shape (n, len(params)), each input uniform within [lo, hi] (log-uniform where
    ``log``). Sobol: scrambled (scipy.stats.qmc), the first rows stay the same when n grows."""
    if sampler == "latin":
        from rcc_sim.studies.sensitivity import draw

        return draw(params, n, seed)
    if sampler != "sobol":
        raise ConfigError(f"config key 'psa.sampler' = {sampler!r}: one of {', '.join(SAMPLERS)}")
    from scipy.stats import qmc

    with warnings.catch_warnings():  # n need not be a power of 2 here: the sequence's prefix is used
        warnings.simplefilter("ignore", UserWarning)
        u = qmc.Sobol(len(params), scramble=True, seed=seed).random(n)
    x = np.empty_like(u)
    for j, p in enumerate(params):
        if p.log:
            x[:, j] = np.exp(np.log(p.lo) + u[:, j] * (np.log(p.hi) - np.log(p.lo)))
        else:
            x[:, j] = p.lo + u[:, j] * (p.hi - p.lo)
    return x


def with_inputs(cfg: Config, params: list[FreeParameter], values: dict[str, float]) -> Config:
    """``cfg`` with each input set (calibrated ``scale`` ones as multipliers; integers rounded); a
    ``policy.rollout.template`` lever also in every RCC of the policy when ``psa.every_rcc``."""
    from rcc_sim.studies.calibration import apply

    out = apply(cfg, [p for p in params if p.key in values], values)
    if cfg.psa is not None and cfg.psa.every_rcc:
        for p in params:
            if p.key.startswith(TEMPLATE) and p.key in values:
                name = p.key[len(TEMPLATE) :]
                for rcc in out.policy.rccs.values():
                    cur = getattr(rcc, name)
                    setattr(rcc, name, int(round(values[p.key])) if isinstance(cur, int) else float(values[p.key]))
        if out.policy.rccs:
            from rcc_sim.config import validate

            validate(out)
    return out


def base_of(cfg: Config) -> Config:
    """The same config under the status quo (drawn model parameters and seed kept)."""
    return dataclasses.replace(cfg, policy=PolicyConfig())


# --------------------------------------------------------------------------------------------
# One paired run: net present cost and per-child outcomes
# --------------------------------------------------------------------------------------------
def pair_metrics(policy_ds: xr.Dataset, base_ds: xr.Dataset, rate: float = 0.035, timing: str = "end") -> dict:
    """NPC (GBP m) of the policy against the status quo on the same seed, summed over the
    simulated LAs - with each cost component, the public-sector view (transfers left out) and
    undiscounted - and each per-child outcome over the whole run (:data:`OUTCOMES`)."""
    from rcc_sim.studies.rollout import COST_COMPONENTS, PER_CHILD, TRANSFERS, _period, annual_by_area, discount_factors

    a_pol, t_end, complete = annual_by_area(policy_ds)
    a_base, _, _ = annual_by_area(base_ds)
    area = str(a_pol["area"].values[0])  # England / all simulated LAs
    a_pol, a_base = a_pol.sel(area=area), a_base.sel(area=area)
    df = discount_factors(list(t_end), rate, timing)
    pv = {}
    for c, (_, sign, _, _) in COST_COMPONENTS.items():
        d = sign * (a_pol[c].values - a_base[c].values)
        pv[c] = float(np.sum(d * df)) / 1e6
    npc = sum(pv.values())
    und = sum(
        float(np.sum(sign * (a_pol[c].values - a_base[c].values))) for c, (_, sign, _, _) in COST_COMPONENTS.items()
    )
    pv_base = sum(float(np.sum(sign * a_base[c].values * df)) for c, (_, sign, _, _) in COST_COMPONENTS.items())
    years = [int(y) for y in a_pol["stat_year"].values]
    tot_pol, tot_base = _period(a_pol, years), _period(a_base, years)
    outcomes = {}
    for name in OUTCOMES:
        o = PER_CHILD[name]
        s, b = float(o.fn(tot_pol)), float(o.fn(tot_base))
        outcomes[name] = {"status_quo": b, "policy": s, "difference": s - b}
    return {
        "area": area,
        "npc_gbp_m": npc,
        "npc_public_sector_gbp_m": npc - sum(pv[c] for c in TRANSFERS),
        "undiscounted_gbp_m": und / 1e6,
        "pv_status_quo_gbp_m": pv_base / 1e6,
        "components_gbp_m": pv,
        "stat_years": years,
        "complete_years": int(sum(complete)),
        "outcomes": outcomes,
    }


@dataclass
class Task:
    """One paired run to do: its label, directory, input values and the policy run's config."""

    label: str
    path: Path  # its directory; the result in <path>/draw.json
    values: dict[str, float]
    cfg: Config
    extra: dict[str, Any] = field(default_factory=dict)


def _done(task: Task) -> bool:
    """Whether the task's draw.json says done with this config and code commit."""
    from rcc_sim.run import config_sha256
    from rcc_sim.studies.study import _code_commit

    try:
        got = json.loads((task.path / DRAW_FILE).read_text())
    except (OSError, ValueError):
        return False
    return (
        got.get("status") == "done"
        and got.get("config_sha256") == config_sha256(task.cfg)
        and got.get("git_commit") == _code_commit()
    )


def run_task(task: Task, rate: float = 0.035) -> dict[str, Any]:
    """Run one pair (skipped if done; locked while running) and record it in ``draw.json``; a
    failure is recorded, never raised. Returns the record (status done, failed or locked)."""
    from rcc_sim.run import simulate_arms
    from rcc_sim.studies.jobs import RunDirLock, RunDirLocked

    task.path.mkdir(parents=True, exist_ok=True)
    lock = RunDirLock(task.path)
    try:
        lock.acquire()
    except RunDirLocked as exc:
        return {"label": task.label, "status": "locked", "error": str(exc)}
    try:
        if _done(task):
            done: dict[str, Any] = json.loads((task.path / DRAW_FILE).read_text())
            done["skipped"] = True
            return done
        out = _record_head(task)
        t0 = time.time()
        try:
            pol, base = simulate_arms([task.cfg, base_of(task.cfg)])  # one spin-up for both arms
            out.update(pair_metrics(pol, base, rate))
            out["status"] = "done"
        except Exception as exc:  # recorded; never stops the other draws
            out.update(status="failed", error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
        out["wall_seconds"] = round(time.time() - t0, 2)
        atomic_write_text(task.path / DRAW_FILE, json.dumps(out, indent=1, default=float) + "\n")
        return out
    finally:
        lock.release()


def _record_head(task: Task) -> dict[str, Any]:
    """The fields every record of ``task`` starts with: what was run, on which config and code."""
    from rcc_sim.run import config_sha256
    from rcc_sim.studies.study import _code_commit

    return {
        "label": task.label,
        "seed": task.cfg.seed,
        "inputs": task.values,
        **task.extra,
        "config_sha256": config_sha256(task.cfg),
        "git_commit": _code_commit(),
    }


def shares_status_quo(task: Task) -> bool:
    """Whether the task sets RCC levers only (``policy.*``; none for a tornado's base case): its
    status-quo arm is then the same as every such task's on its seed, and so is its spin-up."""
    return all(k.startswith("policy.") for k in task.values)


def run_group(tasks: list[Task], rate: float = 0.035) -> list[dict[str, Any]]:
    """Paired runs on one seed that differ only in their RCC levers (the tornado's base case and its
    RCC-lever swings), from one spin-up and one status-quo run: the status quo has no RCC, so it is
    the same for all of them (:func:`shares_status_quo`). Each task's record is written as its arm
    ends, as :func:`run_task` writes it (``wall_seconds``: its own arm plus its share of the shared
    spin-up and status quo, ``shared_seconds``); those done are skipped, those another process holds
    are left to it. A failure is recorded, never raised: after one, the tasks still to run go on as
    separate pairs."""
    from rcc_sim.run import iter_arms
    from rcc_sim.studies.jobs import RunDirLock, RunDirLocked

    if len(tasks) == 1:
        return [run_task(tasks[0], rate)]
    base = base_of(tasks[0].cfg)
    if any(base_of(t.cfg) != base for t in tasks):
        raise ValueError("run_group: the tasks' status-quo runs differ; run them with run_task")
    records: list[dict[str, Any]] = []
    mine: list[tuple[Task, RunDirLock]] = []
    for t in tasks:
        t.path.mkdir(parents=True, exist_ok=True)
        lock = RunDirLock(t.path)
        try:
            lock.acquire()
        except RunDirLocked as exc:
            records.append({"label": t.label, "status": "locked", "error": str(exc)})
            continue
        if _done(t):
            lock.release()
            done: dict[str, Any] = json.loads((t.path / DRAW_FILE).read_text())
            records.append({**done, "skipped": True})
            continue
        mine.append((t, lock))
    try:
        if not mine:
            return records
        t0 = time.time()
        arms = iter_arms([base] + [t.cfg for t, _ in mine])
        try:
            base_ds = next(arms)
        except Exception:  # the status quo itself failed: each task on its own records why
            for _, lock in mine:
                lock.release()
            return records + [run_task(t, rate) for t, _ in mine]
        shared = time.time() - t0
        for k, (t, lock) in enumerate(mine):
            out = _record_head(t)
            t1 = time.time()
            try:
                out.update(pair_metrics(next(arms), base_ds, rate))
                out["status"] = "done"
            except Exception as exc:
                out.update(status="failed", error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
            out["wall_seconds"] = round(time.time() - t1 + shared / len(mine), 2)
            out["shared_seconds"] = round(shared, 2)
            atomic_write_text(t.path / DRAW_FILE, json.dumps(out, indent=1, default=float) + "\n")
            lock.release()
            records.append(out)
            if out["status"] == "failed":  # the arms' generator has stopped: the rest one by one
                rest = mine[k + 1 :]
                for _, other in rest:
                    other.release()
                mine = []
                return records + [run_task(r, rate) for r, _ in rest]
        mine = []
        return records
    finally:
        for _, lock in mine:
            lock.release()


def jobs_of(tasks: list[Task], workers: int, share: bool) -> list[list[Task]]:
    """The tasks as jobs of one process each. With ``share``, the tasks of a seed that share the
    status quo (:func:`shares_status_quo`) are split into up to ``workers`` groups (each one spin-up
    and one status-quo run) and put first; every other task is a job of its own."""
    if not share:
        return [[t] for t in tasks]
    by_seed: dict[int, list[Task]] = {}
    alone: list[list[Task]] = []
    for t in tasks:
        if shares_status_quo(t):
            by_seed.setdefault(int(t.cfg.seed), []).append(t)
        else:
            alone.append([t])
    groups: list[list[Task]] = []
    for ts in by_seed.values():
        n = max(1, min(workers, len(ts)))
        groups += [ts[i::n] for i in range(n)]
    return groups + alone


def _in_processes(jobs: list[list[Task]], workers: int, rate: float):
    """Run each job in a fresh forked process, ``workers`` at a time, yielding each task's record
    as its job ends. A fresh process per job keeps memory flat (a long-lived worker reached 3 GB
    after a dozen three-year Greater Manchester pairs); a process that dies without writing a
    task's record (killed, out of memory) has that task recorded as failed, and the others go on."""
    import multiprocessing as mp
    from multiprocessing.connection import wait

    ctx = mp.get_context("fork")
    pending = list(jobs)
    running: dict[Any, tuple[Any, list[Task]]] = {}  # process sentinel -> (process, its tasks)
    while pending or running:
        while pending and len(running) < workers:
            job = pending.pop(0)
            proc = ctx.Process(target=run_group, args=(job, rate), name=f"rcc-sim-psa {job[0].label}")
            proc.start()
            running[proc.sentinel] = (proc, job)
        for sentinel in wait(list(running)):
            proc, job = running.pop(sentinel)
            proc.join()
            for task in job:
                yield _record_after(task, proc.exitcode)


def _record_after(task: Task, exitcode: int | None) -> dict[str, Any]:
    """The record a task's process wrote; a failed one written here if it died without one."""
    from rcc_sim.run import config_sha256

    try:
        r = json.loads((task.path / DRAW_FILE).read_text())
        if r.get("config_sha256") == config_sha256(task.cfg) and r.get("status") in ("done", "failed"):
            return r  # (its commit is the one it started on, even if the code has moved on since)
    except (OSError, ValueError):
        pass
    if exitcode == 0:  # it found the draw locked: another process runs it
        return {"label": task.label, "status": "locked", "error": "run by another process"}
    r = {
        "label": task.label,
        "seed": task.cfg.seed,
        "inputs": task.values,
        **task.extra,
        "status": "failed",
        "error": f"its process ended with exit code {exitcode} without a result (killed, or out of memory?)",
    }
    atomic_write_text(task.path / DRAW_FILE, json.dumps(r, indent=1, default=float) + "\n")
    return r


def run_tasks(
    tasks: list[Task], workers: int, rate: float, log: Log = print, share: bool = False
) -> list[dict[str, Any]]:
    """Every task, in ``workers`` processes if more than one; those done are skipped. ``share``:
    the tasks that differ only in RCC levers share a spin-up and a status-quo run (:func:`jobs_of`)."""
    todo = [t for t in tasks if not _done(t)]
    jobs = jobs_of(todo, workers, share)
    log(
        f"psa: {len(tasks)} paired runs, {len(tasks) - len(todo)} done, {len(todo)} to run in {len(jobs)} jobs, "
        f"{workers} workers"
    )
    results: list[dict[str, Any]] = []
    note = lambda r: log(
        f"  {r['label']}: {r['status']}"
        + (f" ({r.get('wall_seconds', 0):.0f} s)" if r["status"] == "done" else f": {r.get('error', '')}")
    )
    if workers > 1 and len(jobs) > 1:
        for r in _in_processes(jobs, workers, rate):
            note(r)
            results.append(r)
    else:
        for job in jobs:
            for r in run_group(job, rate):
                note(r)
                results.append(r)
    return results


# --------------------------------------------------------------------------------------------
# The study
# --------------------------------------------------------------------------------------------
def draw_tasks(cfg: Config, study_dir: Path) -> tuple[list[FreeParameter], np.ndarray, list[Task]]:
    """The inputs, the draws' values and one task per draw."""
    study = cfg.psa
    assert study is not None
    params = inputs(cfg)
    groups(cfg, params)  # refuse a group matching nothing before any run
    x = sample(params, study.n_draws, study.sampler, study.sampler_seed)
    tasks = []
    for i, row in enumerate(x):
        values = {p.key: float(v) for p, v in zip(params, row)}
        # the run's config without the study section: its hash (resume) must not see n_draws, workers, draw ...
        run_cfg = dataclasses.replace(with_inputs(cfg, params, values), seed=int(study.first_seed) + i, psa=None)
        tasks.append(Task(f"draw {i}", Path(study_dir) / "draws" / f"draw{i}", values, run_cfg, {"draw": i}))
    return params, x, tasks


def read_draws(tasks: list[Task], other_commit: bool = False) -> list[dict[str, Any]]:
    """The record of every task: status 'missing' where it has none, 'stale' where it was done with
    another config - or, unless ``other_commit``, another code commit (then kept, and marked)."""
    from rcc_sim.run import config_sha256

    out = []
    for t in tasks:
        try:
            r = json.loads((t.path / DRAW_FILE).read_text())
        except (OSError, ValueError):
            r = {"status": "missing"}
        if r.get("status") == "done" and not _done(t):
            if other_commit and r.get("config_sha256") == config_sha256(t.cfg):
                r["other_commit"] = True
            else:
                r = {"status": "stale", "error": "done with another config or code commit"}
        out.append({**r, "label": t.label, **t.extra})
    return out


@dataclass
class PsaResult:
    ds: xr.Dataset  # dims draw, input
    table: pd.DataFrame  # one row per draw
    summary: dict[str, Any]
    voi: pd.DataFrame  # the value-of-information ranking
    text: str
    files: list[Path]
    failed: list[dict[str, Any]]


def run_psa(cfg: Config, study_dir: Path, log: Log = print) -> PsaResult | dict[str, Any]:
    """The PSA: run the draws not done (or only ``psa.draw``), then summarise the draws done.
    With ``psa.draw >= 0`` returns that draw's record; a failed draw raises there (a sweep job)."""
    study = cfg.psa
    if study is None:
        raise ConfigError("no 'psa' section: run with +experiment=rollout_psa")
    check_seeds("psa.tornado_seeds", study.tornado_seeds)
    designs_study(study)  # a bad path is refused before any draw runs
    if study.tornado:
        return run_tornado(cfg, Path(study_dir), log)
    params, x, tasks = draw_tasks(cfg, Path(study_dir))
    if study.draw >= 0:
        if study.draw >= len(tasks):
            raise ConfigError(f"config key 'psa.draw' = {study.draw}: the study has draws 0-{len(tasks) - 1}")
        r = run_task(tasks[study.draw], study.rate)
        log(f"psa: draw {study.draw}: {r['status']}" + (" (already done)" if r.get("skipped") else ""))
        if r["status"] == "failed":
            raise RuntimeError(f"psa: draw {study.draw} failed: {r['error']} (recorded in {tasks[study.draw].path})")
        return r
    if study.run_missing:
        run_tasks(tasks, study.workers, study.rate, log)
    # draws done with this config on another commit are kept (and listed): after a sweep, or when the
    # code moved on while this command ran (with run_missing, older ones were just re-run)
    return summarise(cfg, Path(study_dir), params, x, read_draws(tasks, other_commit=True), log)


def designs_study(study) -> Path | None:
    """``psa.designs``: the evaluation study whose design table the decision page shows, checked."""
    if not study.designs:
        return None
    from rcc_sim.reporting.decision import DESIGN_FILE, find_design_summary

    path = Path(study.designs)
    if find_design_summary(path) is None:
        raise ConfigError(
            f"config key 'psa.designs' = {study.designs!r}: holds no {DESIGN_FILE} (nor evaluation/{DESIGN_FILE}); "
            "give a study that rcc-sim-evaluate has written, or leave it empty"
        )
    return path


def spread(y: np.ndarray) -> dict[str, float]:
    """Mean, median, 2.5% and 97.5% percentiles, standard deviation and Monte Carlo standard error
    of the mean over the draws."""
    y = np.asarray(y, dtype=np.float64)
    lo, med, hi = np.percentile(y, [2.5, 50, 97.5])
    sd = float(y.std(ddof=1)) if len(y) > 1 else np.nan
    return {
        "mean": float(y.mean()),
        "median": float(med),
        "p2_5": float(lo),
        "p97_5": float(hi),
        "sd": sd,
        "mc_se": sd / np.sqrt(len(y)),
    }


def probability(event: np.ndarray) -> dict[str, float]:
    """Share of draws where ``event`` holds, with its 95% Wilson interval (Monte Carlo error)."""
    n = len(event)
    k = float(np.sum(event))
    p = k / n
    z = 1.959963984540054
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return {"p": p, "lo": max(0.0, centre - half), "hi": min(1.0, centre + half), "n": n}


PERSPECTIVES = {"public_sector": "npc_public_sector_gbp_m", "local_authorities": "npc_gbp_m"}


def net_benefit(table: pd.DataFrame, weights: dict[str, float], perspective: str = "public_sector") -> np.ndarray:
    """INB of the roll-out (GBP m): -NPC (public-sector view: without the transfers, as the Green
    Book counts; or as LAs see it) + sum of weight x outcome difference."""
    if perspective not in PERSPECTIVES:
        raise ConfigError(f"config key 'psa.perspective' = {perspective!r}: one of {', '.join(PERSPECTIVES)}")
    inb = -table[PERSPECTIVES[perspective]].to_numpy(dtype=np.float64)
    for name, w in weights.items():
        col = f"diff_{name}"
        if col not in table:
            raise ConfigError(f"config key 'psa.outcome_weights.{name}': not an outcome ({', '.join(OUTCOMES)})")
        inb = inb + float(w) * table[col].to_numpy(dtype=np.float64)
    return inb


def summarise(
    cfg: Config, study_dir: Path, params: list[FreeParameter], x: np.ndarray, records: list[dict], log: Log = print
) -> PsaResult:
    study = cfg.psa
    assert study is not None
    ok = [r for r in records if r.get("status") == "done"]
    failed = [r for r in records if r.get("status") != "done"]
    if len(ok) < 2:
        raise RuntimeError(f"psa: only {len(ok)} draws done of {len(records)}; see {study_dir / 'draws'}")
    rows = []
    for r in ok:
        row = {"draw": r["draw"], "seed": r["seed"], **{p.key: r["inputs"][p.key] for p in params}}
        row.update(
            npc_gbp_m=r["npc_gbp_m"],
            npc_public_sector_gbp_m=r["npc_public_sector_gbp_m"],
            undiscounted_gbp_m=r["undiscounted_gbp_m"],
            pv_status_quo_gbp_m=r["pv_status_quo_gbp_m"],
        )
        row.update({f"npc_{c}_gbp_m": v for c, v in r["components_gbp_m"].items()})
        for name, o in r["outcomes"].items():
            row[f"status_quo_{name}"] = o["status_quo"]
            row[f"diff_{name}"] = o["difference"]
        row["wall_seconds"] = r.get("wall_seconds", np.nan)
        rows.append(row)
    table = pd.DataFrame(rows).sort_values("draw").reset_index(drop=True)
    npc = table["npc_gbp_m"].to_numpy()
    public = table["npc_public_sector_gbp_m"].to_numpy()
    first = ok[0]
    summary: dict[str, Any] = {
        "n_draws": len(records),
        "n_done": len(ok),
        "failed": [{"draw": r["draw"], "status": r.get("status"), "error": r.get("error")} for r in failed],
        "done_on_other_commit": [r["draw"] for r in ok if r.get("other_commit")],
        "git_commits": sorted({str(r.get("git_commit")) for r in ok}),
        "world": cfg.world.name,
        "policy": cfg.policy.name,
        "years": cfg.sim.years,
        "start_year": cfg.sim.start_year,
        "area": first["area"],
        "stat_years": first["stat_years"],
        "rate": study.rate,
        "sampler": study.sampler,
        "npc_gbp_m": spread(npc),
        "p_saves": probability(npc < 0),
        "npc_public_sector_gbp_m": spread(public),
        "p_saves_public_sector": probability(public < 0),
        "pv_status_quo_gbp_m": float(table["pv_status_quo_gbp_m"].mean()),
        "components_gbp_m": {c: float(table[f"npc_{c}_gbp_m"].mean()) for c in first["components_gbp_m"]},
        "outcomes": {
            name: {"status_quo": float(table[f"status_quo_{name}"].mean()), **spread(table[f"diff_{name}"])}
            for name in first["outcomes"]
        },
        "mean_wall_seconds_per_draw": float(table["wall_seconds"].mean()),
        "outcome_weights": dict(study.outcome_weights),
    }
    inb = net_benefit(table, dict(study.outcome_weights), study.perspective)
    summary["perspective"] = study.perspective
    summary["inb_sd_gbp_m"] = float(np.std(inb, ddof=1))
    X = table[[p.key for p in params]].to_numpy(dtype=np.float64)
    voi = value_of_information(X, inb, params, groups(cfg, params))
    summary["evpi_gbp_m"] = evpi(inb)
    ds = to_dataset(table, params, summary)
    text = summary_text(summary, voi, params) + tornado_section(study_dir / "tornado" / "tornado.csv")
    study_dir.mkdir(parents=True, exist_ok=True)
    files = [
        atomic_write(study_dir / "psa.nc", lambda tmp: ds.to_netcdf(tmp, engine="h5netcdf")),
        atomic_write(study_dir / "psa.csv", lambda tmp: table.to_csv(tmp, index=False)),
        atomic_write(study_dir / "evppi.csv", lambda tmp: voi.to_csv(tmp, index=False)),
        atomic_write_text(study_dir / "psa.json", json.dumps(summary, indent=1, default=float) + "\n"),
        atomic_write_text(study_dir / "psa.md", text),
    ]
    from rcc_sim.reporting.decision import write_for_psa

    files.append(write_for_psa(study_dir, designs_study(cfg.psa)))  # decision.html: what a minister reads first
    log(text)
    return PsaResult(ds, table, summary, voi, text, files, failed)


def to_dataset(table: pd.DataFrame, params: list[FreeParameter], summary: dict[str, Any]) -> xr.Dataset:
    keys = [p.key for p in params]
    ds = xr.Dataset(coords={"draw": table["draw"].to_numpy(), "input": keys})
    ds["input_value"] = (("draw", "input"), table[keys].to_numpy(dtype=np.float64))
    ds["input_lo"] = ("input", np.array([p.lo for p in params]))
    ds["input_hi"] = ("input", np.array([p.hi for p in params]))
    ds["input_scale"] = ("input", np.array([p.scale for p in params]))
    ds["seed"] = ("draw", table["seed"].to_numpy())
    for c in table.columns:
        if c not in keys and c not in ("draw", "seed"):
            ds[c] = ("draw", table[c].to_numpy(dtype=np.float64))
    ds["npc_gbp_m"].attrs.update(
        units="GBP m (2024 prices)",
        long_name="Net present cost of the policy against the status quo",
        definition=f"sum of discounted yearly net cost differences, {100 * summary['rate']:.1f}%",
    )
    ds["npc_public_sector_gbp_m"].attrs.update(
        units="GBP m", long_name="NPC without transfers (health co-funding, programme funding)"
    )
    ds.attrs.update(
        {
            k: json.dumps(v, default=float) if isinstance(v, (dict, list)) else v
            for k, v in summary.items()
            if k not in ("outcomes",)
        }
    )
    return ds


# --------------------------------------------------------------------------------------------
# Value of information
# --------------------------------------------------------------------------------------------
def evpi(inb: np.ndarray) -> float:
    """Expected value of perfect information for a choice between INB and 0."""
    inb = np.asarray(inb, dtype=np.float64)
    return float(np.mean(np.maximum(inb, 0.0)) - max(float(np.mean(inb)), 0.0))


def evppi_from_fit(g: np.ndarray) -> float:
    """EVPPI from the fitted conditional expectation ``g`` of INB given the input(s)."""
    return float(max(np.mean(np.maximum(g, 0.0)) - max(float(np.mean(g)), 0.0), 0.0))


def _bspline_basis(x: np.ndarray, n_knots: int = 8, degree: int = 3) -> np.ndarray:
    from scipy.interpolate import BSpline

    lo, hi = float(x.min()), float(x.max())
    inner = np.linspace(lo, hi, n_knots)
    t = np.r_[[lo] * degree, inner, [hi] * degree]
    n = len(t) - degree - 1
    return np.column_stack([BSpline(t, np.eye(n)[j], degree, extrapolate=False)(x) for j in range(n)])


def spline_fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Penalised cubic B-spline regression (P-spline, second-difference penalty) of y on one
    input, smoothing chosen by generalised cross-validation: fitted values and the leave-one-out
    (predictive) R^2."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return np.full_like(y, y.mean()), 0.0
    n_knots = int(min(10, max(4, len(x) // 8)))
    B = np.nan_to_num(_bspline_basis(x, n_knots))
    D = np.diff(np.eye(B.shape[1]), 2, axis=0)
    P = D.T @ D
    BtB, Bty = B.T @ B, B.T @ y
    best = (np.inf, np.full_like(y, y.mean()), np.zeros_like(y))
    n = len(y)
    for lam in 10.0 ** np.arange(-4, 7, 0.5):
        A = np.linalg.inv(BtB + lam * P + 1e-10 * np.eye(len(P)))
        fit = B @ (A @ Bty)
        hat = np.sum((B @ A) * B, axis=1)  # diagonal of the hat matrix B A B'
        gcv = n * float(np.sum((y - fit) ** 2)) / max(n - float(hat.sum()), 1e-9) ** 2
        if gcv < best[0]:
            best = (gcv, fit, hat)
    _, fit, hat = best
    loo = (y - fit) / np.maximum(1 - hat, 1e-9)  # leave-one-out residuals of a linear smoother
    return fit, _r2_loo(y, loo)


def _r2_loo(y: np.ndarray, loo_residual: np.ndarray) -> float:
    """Predictive R^2 from leave-one-out residuals, at least 0: with few draws an in-sample R^2
    flatters every input (a flexible fit goes through the points)."""
    ss = float(np.sum((y - y.mean()) ** 2))
    return max(0.0, float(1 - np.sum(loo_residual**2) / ss)) if ss > 0 else 0.0


def gp_fit(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Gaussian-process regression of y on several inputs (squared-exponential covariance, one
    length-scale per input, noise), hyperparameters by maximum marginal likelihood (scipy): the
    posterior mean at the draws (Strong, Oakley and Brennan 2014) and the leave-one-out R^2."""
    from scipy.linalg import cho_factor, cho_solve
    from scipy.optimize import minimize

    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    span = np.ptp(X, axis=0)
    keep = span > 0
    if not keep.any() or np.ptp(y) == 0:
        return np.full_like(y, y.mean()), 0.0
    Z = (X[:, keep] - X[:, keep].min(axis=0)) / span[keep]
    mu, sd = y.mean(), y.std()
    t = (y - mu) / sd
    n, d = Z.shape
    sq = (Z[:, None, :] - Z[None, :, :]) ** 2  # (n, n, d)

    sq = np.moveaxis(sq, 2, 0)  # (d, n, n)
    eye = np.eye(n)

    def nll(theta: np.ndarray) -> tuple[float, np.ndarray]:
        """Negative log marginal likelihood and its gradient in the log hyperparameters."""
        ell2, s2, n2 = np.exp(2 * theta[:d]), np.exp(theta[d]), np.exp(theta[d + 1])
        r = np.tensordot(1.0 / ell2, sq, axes=1)  # scaled squared distances, (n, n)
        Kf = s2 * np.exp(-0.5 * r)
        K = Kf + (n2 + 1e-8) * eye
        try:
            c = cho_factor(K, lower=True)
        except np.linalg.LinAlgError:
            return 1e10, np.zeros_like(theta)
        a = cho_solve(c, t)
        W = cho_solve(c, eye) - np.outer(a, a)
        grad = np.empty_like(theta)
        for k in range(d):  # dK/dlog ell_k = Kf * sq_k / ell_k^2
            grad[k] = 0.5 * np.sum(W * Kf * sq[k]) / ell2[k]
        grad[d] = 0.5 * np.sum(W * Kf)
        grad[d + 1] = 0.5 * n2 * np.trace(W)
        return float(0.5 * t @ a + np.sum(np.log(np.diag(c[0])))), grad

    starts = [np.r_[np.zeros(d), 0.0, np.log(0.5)], np.r_[np.full(d, np.log(3.0)), 0.0, np.log(0.9)]]
    bounds = [(-4, 5)] * d + [(-6, 4), (-8, 2)]
    best = min((minimize(nll, s, jac=True, method="L-BFGS-B", bounds=bounds) for s in starts), key=lambda r: r.fun)
    theta = best.x
    ell2, s2, n2 = np.exp(2 * theta[:d]), np.exp(theta[d]), np.exp(theta[d + 1])
    Kf = s2 * np.exp(-0.5 * np.tensordot(1.0 / ell2, sq, axes=1))
    Kinv = np.linalg.inv(Kf + (n2 + 1e-8) * eye)
    alpha = Kinv @ t
    fit = mu + sd * (Kf @ alpha)
    loo = sd * alpha / np.diag(Kinv)  # leave-one-out residuals of a GP (Rasmussen and Williams 5.12)
    return fit, _r2_loo(y, loo)


def _evppi(fit: np.ndarray, r2_loo: float, total: float) -> float:
    """EVPPI from a metamodel's fit, capped at EVPI; 0 when the fit predicts nothing out of sample
    (leave-one-out R^2 of 0: the smoother followed the noise of a few draws, and E[INB | input] is
    then best taken as constant)."""
    return 0.0 if r2_loo <= 0 else min(evppi_from_fit(fit), total)


def value_of_information(
    X: np.ndarray, inb: np.ndarray, params: list[FreeParameter], grouped: dict[str, list[str]]
) -> pd.DataFrame:
    """EVPPI (GBP m) and metamodel R^2 of every input (spline) and group (Gaussian process), with
    EVPI, ranked by EVPPI then R^2."""
    total = evpi(inb)
    keys = [p.key for p in params]
    rows = []
    for j, p in enumerate(params):
        fit, r2 = spline_fit(X[:, j], inb)
        rows.append(
            {
                "kind": "input",
                "name": p.key,
                "inputs": p.key,
                "calibrated": is_calibrated(p),
                "method": "P-spline, GCV",
                "evppi_gbp_m": _evppi(fit, r2, total),
                "r2": r2,
            }
        )
    for name, members in grouped.items():
        cols = [keys.index(k) for k in members]
        fit, r2 = spline_fit(X[:, cols[0]], inb) if len(cols) == 1 else gp_fit(X[:, cols], inb)
        rows.append(
            {
                "kind": "group",
                "name": name,
                "inputs": " ".join(members),
                "calibrated": all(is_calibrated(params[c]) for c in cols),
                "method": "P-spline, GCV" if len(cols) == 1 else "Gaussian process (ARD)",
                "evppi_gbp_m": _evppi(fit, r2, total),
                "r2": r2,
            }
        )
    df = pd.DataFrame(rows)
    df["evpi_gbp_m"] = total
    df["share_of_evpi"] = df["evppi_gbp_m"] / total if total > 0 else 0.0
    return df.sort_values(["kind", "evppi_gbp_m", "r2"], ascending=[True, False, False]).reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Tornado: one-at-a-time swings
# --------------------------------------------------------------------------------------------
def tornado_tasks(cfg: Config, study_dir: Path) -> tuple[list[FreeParameter], list[Task]]:
    study = cfg.psa
    assert study is not None
    params = inputs(cfg)
    root = Path(study_dir) / "tornado"
    tasks = []
    for s in study.tornado_seeds:
        run = dataclasses.replace(cfg, seed=int(s), psa=None)
        tasks.append(
            Task(f"base seed {s}", root / "base" / f"seed{s}", {}, run, {"input": "", "end": "base", "seed": s})
        )
        for p in params:
            for end, v in (("lo", p.lo), ("hi", p.hi)):
                c = dataclasses.replace(with_inputs(cfg, params, {p.key: v}), seed=int(s), psa=None)
                tasks.append(
                    Task(
                        f"{p.key}={end} seed {s}",
                        root / f"{p.key}={end}" / f"seed{s}",
                        {p.key: v},
                        c,
                        {"input": p.key, "end": end, "seed": s},
                    )
                )
    return params, tasks


def run_tornado(cfg: Config, study_dir: Path, log: Log = print) -> dict[str, Any]:
    """Run the swings not done and write ``tornado.csv`` and ``tornado.md``; returns the table."""
    study = cfg.psa
    assert study is not None
    params, tasks = tornado_tasks(cfg, study_dir)
    if study.run_missing:  # the RCC levers' swings share each seed's spin-up and status quo
        run_tasks(tasks, study.workers, study.rate, log, share=True)
    records = read_draws(tasks, other_commit=True)
    table = tornado_table(params, records)
    root = Path(study_dir) / "tornado"
    root.mkdir(parents=True, exist_ok=True)
    text = tornado_text(table, cfg)
    files = [
        atomic_write(root / "tornado.csv", lambda tmp: table.to_csv(tmp, index=False)),
        atomic_write_text(root / "tornado.md", text),
    ]
    if (Path(study_dir) / "psa.nc").is_file():  # the decision page again, now with the tornado
        from rcc_sim.reporting.decision import write_for_psa

        files.append(write_for_psa(Path(study_dir), designs_study(cfg.psa)))
    log(text)
    failed = [r for r in records if r.get("status") != "done"]
    return {"table": table, "files": files, "failed": failed, "text": text}


def tornado_table(params: list[FreeParameter], records: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per input: the NPC (mean over seeds) at each end and at the base case, and the swing,
    as LAs see it and in the public-sector view (without transfers); sorted by the latter's swing."""
    done = pd.DataFrame(
        [
            {"input": r["input"], "end": r["end"], "npc": r["npc_gbp_m"], "public": r["npc_public_sector_gbp_m"]}
            for r in records
            if r.get("status") == "done"
        ]
    )
    if done.empty:
        raise RuntimeError("psa tornado: no swing finished")
    mean = done.groupby(["input", "end"])[["npc", "public"]].mean()
    at = lambda key, end, col: float(mean[col].get((key, end), np.nan))
    rows = []
    for p in params:
        row: dict[str, Any] = {"input": p.key, "lo": p.lo, "hi": p.hi, "scale": p.scale, "calibrated": is_calibrated(p)}
        for col, name in (("npc", "npc"), ("public", "npc_public_sector")):
            lo, hi = at(p.key, "lo", col), at(p.key, "hi", col)
            row |= {f"{name}_at_lo_gbp_m": lo, f"{name}_at_hi_gbp_m": hi, f"{name}_base_gbp_m": at("", "base", col)}
            row[f"{name}_swing_gbp_m"] = abs(hi - lo)
        rows.append(row)
    table = pd.DataFrame(rows)
    return table.sort_values("npc_public_sector_swing_gbp_m", ascending=False, na_position="last").reset_index(
        drop=True
    )


def tornado_text(table: pd.DataFrame, cfg: Config) -> str:
    seeds = list(cfg.psa.tornado_seeds) if cfg.psa else []
    lines = [
        f"# Tornado: net present cost of {cfg.policy.name} against the status quo, one input at a time",
        "",
        f"{cfg.world.name}, {cfg.sim.years:g} years from 31 March {cfg.sim.start_year}, seeds {seeds}; each input "
        "at the ends of its range, every other input at the base case (NPC "
        f"{table['npc_base_gbp_m'].iloc[0]:+,.1f} GBP m as LAs see it, "
        f"{table['npc_public_sector_base_gbp_m'].iloc[0]:+,.1f} GBP m in the public-sector view). GBP m, 2024 "
        "prices, Green Book 3.5%; sorted by the public-sector swing. Calibrated list parameters (scale) are "
        "multipliers. A calibrated parameter changes both runs of a pair, so its swing carries seed noise too: "
        "read it with several tornado seeds.",
        "",
        "| input | range | NPC at low | NPC at high | swing | public-sector NPC at low | at high | swing |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for _, r in table.iterrows():
        lines.append(
            f"| {r['input']} | {r['lo']:.4g} - {r['hi']:.4g} | {r['npc_at_lo_gbp_m']:+,.2f} | "
            f"{r['npc_at_hi_gbp_m']:+,.2f} | {r['npc_swing_gbp_m']:,.2f} | "
            f"{r['npc_public_sector_at_lo_gbp_m']:+,.2f} | {r['npc_public_sector_at_hi_gbp_m']:+,.2f} | "
            f"{r['npc_public_sector_swing_gbp_m']:,.2f} |"
        )
    return "\n".join(lines) + "\n"


def tornado_section(path: Path, top: int = 10) -> str:
    """The tornado's largest public-sector swings for psa.md, if a tornado was run ('' if not)."""
    if not path.is_file():
        return ""
    t = pd.read_csv(path).head(top)
    lines = [
        "",
        f"## Tornado (one input at a time; {path.parent.name}/tornado.md has the world, years and seeds)",
        "",
        "| input | range | public-sector NPC at low (GBP m) | at high | swing |",
        "|---|---|---:|---:|---:|",
    ]
    for _, r in t.iterrows():
        lines.append(
            f"| {_short(str(r['input']))} | {r['lo']:.4g} - {r['hi']:.4g} | {r['npc_public_sector_at_lo_gbp_m']:+,.2f} "
            f"| {r['npc_public_sector_at_hi_gbp_m']:+,.2f} | {r['npc_public_sector_swing_gbp_m']:,.2f} |"
        )
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Words
# --------------------------------------------------------------------------------------------
def _m(v: float) -> str:
    return f"{v:+,.1f}" if np.isfinite(v) else "n/a"


def _short(key: str) -> str:
    return key[len(TEMPLATE) :] if key.startswith(TEMPLATE) else key


def measure_first(voi: pd.DataFrame, evpi_gbp_m: float, npc_sd: float) -> str:
    """A paragraph saying which RCC effect sizes the pathfinder evaluation should measure first."""
    effects = voi[~voi["calibrated"]]
    groups_ = effects[effects["kind"] == "group"].sort_values(["evppi_gbp_m", "r2"], ascending=False)
    singles = effects[effects["kind"] == "input"].sort_values(["evppi_gbp_m", "r2"], ascending=False)
    calibrated = voi[voi["calibrated"] & (voi["kind"] == "group")].sort_values("r2", ascending=False)
    if groups_.empty and singles.empty:
        return "No RCC effect size is among the uncertain inputs."
    top_group = groups_.iloc[0] if not groups_.empty else None
    top_single = singles.iloc[0]
    decisive = evpi_gbp_m > 0.01 * max(npc_sd, 1e-9) and top_single["evppi_gbp_m"] > 0
    if decisive:
        what = (
            top_group if top_group is not None and top_group["evppi_gbp_m"] >= top_single["evppi_gbp_m"] else top_single
        )
        text = (
            f"Measure first: {_short(str(what['name'])).replace('_', ' ')}"
            + (f" ({', '.join(_short(k) for k in str(what['inputs']).split())})" if what["kind"] == "group" else "")
            + f". Knowing it exactly would be worth GBP {what['evppi_gbp_m']:,.1f}m to the roll-out decision "
            f"(its expected value of partial perfect information, {100 * what['share_of_evpi']:.0f}% of the "
            f"GBP {evpi_gbp_m:,.1f}m that removing all uncertainty would be worth): it is the effect most likely to "
            "turn a saving into a cost or the reverse."
        )
        nxt = singles[singles["name"] != what["name"]] if what["kind"] == "input" else singles
        if not nxt.empty and nxt.iloc[0]["evppi_gbp_m"] > 0:
            word = "Next" if what["kind"] == "input" else "Of single effect sizes"
            text += f" {word}: {_short(str(nxt.iloc[0]['name']))} (GBP {nxt.iloc[0]['evppi_gbp_m']:,.1f}m)."
    else:
        by_r2 = effects.sort_values("r2", ascending=False).iloc[0]
        text = (
            f"No measurement is likely to change the decision: the roll-out's cost or saving has the same sign in "
            f"nearly every draw (EVPI GBP {evpi_gbp_m:,.2f}m). What sets the size of the saving is "
            f"{_short(str(by_r2['name'])).replace('_', ' ')} (it explains {100 * by_r2['r2']:.0f}% of the spread of "
            "the net benefit): measure it first to narrow the estimate the business case quotes."
        )
    if not calibrated.empty and calibrated.iloc[0]["r2"] > effects["r2"].max():
        c = calibrated.iloc[0]
        text += (
            f" The status quo's own parameters ({str(c['name']).replace('_', ' ')}) explain more "
            f"({100 * c['r2']:.0f}%) than any RCC effect: they call for better data on today's system, which the "
            "pathfinder evaluation does not give."
        )
    return text


def summary_text(s: dict[str, Any], voi: pd.DataFrame, params: list[FreeParameter]) -> str:
    n, e, pub = s["n_done"], s["npc_gbp_m"], s["npc_public_sector_gbp_m"]
    ps, pps = s["p_saves"], s["p_saves_public_sector"]
    years = s["stat_years"]
    lines = [
        f"# Probabilistic appraisal: {s['policy']} against the status quo",
        "",
        f"{n} of {s['n_draws']} draws ({s['sampler']} over {len(params)} inputs; each a paired run on its own seed), "
        f"{s['area']} ({s['world']}), {s['years']:g} years from 31 March {s['start_year']} (statistical years "
        f"{years[0] - 1}-{str(years[-1])[2:]}); Green Book {100 * s['rate']:.1f}%, 2024 prices. Intervals are "
        "2.5-97.5% of the draws: parameter and stochastic uncertainty together.",
        "",
        f"- **Net present cost** {_m(e['mean'])} GBP m (median {_m(e['median'])}; 95% interval {_m(e['p2_5'])} to "
        f"{_m(e['p97_5'])}; Monte Carlo standard error of the mean {e['mc_se']:,.1f}); status quo present value "
        f"{s['pv_status_quo_gbp_m']:,.0f} GBP m. Positive = the roll-out costs more.",
        f"- **Probability the roll-out saves money** {ps['p']:.2f} "
        f"(95% Monte Carlo interval {ps['lo']:.2f}-{ps['hi']:.2f}).",
        f"- **Public-sector view** (health co-funding and programme funding are transfers, left out): NPC "
        f"{_m(pub['mean'])} GBP m (95% interval {_m(pub['p2_5'])} to {_m(pub['p97_5'])}); probability of saving "
        f"{pps['p']:.2f}.",
        "- Contributions (present value, GBP m, mean over draws): "
        + ", ".join(f"{c} {_m(v)}" for c, v in s["components_gbp_m"].items()),
        "",
        "Per child in care over the whole run (status quo, roll-out minus status quo: mean [95% interval over draws]):",
        "",
        "| outcome | status quo | difference | 95% interval |",
        "|---|---:|---:|---:|",
    ]
    for name, o in s["outcomes"].items():
        lines.append(f"| {name} | {o['status_quo']:.4g} | {o['mean']:+.4g} | [{o['p2_5']:+.4g}, {o['p97_5']:+.4g}] |")
    weights = s.get("outcome_weights") or {}
    lines += [
        "",
        "## What to measure first: value of information",
        "",
        "Decision: roll-out or status quo; net benefit of the roll-out = -NPC"
        + (
            " of the public-sector view (without transfers)"
            if s.get("perspective") == "public_sector"
            else " as LAs see it"
        )
        + (
            " + " + " + ".join(f"{w:g} x {k}" for k, w in weights.items()) + " (ASSUMPTION weights)"
            if weights
            else ", cost only (no outcome is given a money value)"
        )
        + f". EVPI {s['evpi_gbp_m']:,.2f} GBP m. EVPPI by regression over the draws (Strong, Oakley and Brennan "
        "2014): P-spline for one input, Gaussian process for a group; R^2 = share of the net benefit's spread "
        "the input(s) predict (leave-one-out).",
        "",
        "| | input or group | EVPPI (GBP m) | share of EVPI | R^2 |",
        "|---|---|---:|---:|---:|",
    ]
    for _, r in voi.iterrows():
        lines.append(
            f"| {r['kind']}{' (calibrated)' if r['calibrated'] else ''} | {_short(str(r['name']))} | "
            f"{r['evppi_gbp_m']:,.2f} | {100 * r['share_of_evpi']:.0f}% | {r['r2']:.2f} |"
        )
    if s["n_done"] < VOI_MIN_DRAWS:
        lines += [
            "",
            f"Only {s['n_done']} draws: the value-of-information estimates are unreliable below about {VOI_MIN_DRAWS}.",
        ]
    lines += ["", measure_first(voi, s["evpi_gbp_m"], s["inb_sd_gbp_m"])]
    if s["failed"]:
        lines += ["", f"Draws not done (failed, missing or stale): {[f['draw'] for f in s['failed']]}"]
    if s["done_on_other_commit"]:
        lines += [
            "",
            f"Draws done with the same config on other code commits ({', '.join(s['git_commits'])}): "
            f"{s['done_on_other_commit']}",
        ]
    return "\n".join(lines) + "\n"
