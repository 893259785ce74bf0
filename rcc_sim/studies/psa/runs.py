"""One draw: the policy and the status quo paired on its seed; tasks run in worker processes."""

from __future__ import annotations

import json
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from rcc_sim.config import Config
from rcc_sim.files import atomic_write_text
from rcc_sim.studies.psa.draws import Log, base_of

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
