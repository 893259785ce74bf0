"""Calibration: fit the free parameters to the published national statistics.

    rcc-sim-calibrate +experiment=calibration                 # fit, write outputs/calibration/<study>/
    rcc-sim-calibrate +experiment=calibration calibration.install=true   # ... and make it the default

Targets are the rows of :func:`rcc_sim.studies.validation.compare` (DfE CLA, Ofsted fostering and
children's homes, FOI placement shares, CMA/CCN/PSSRU prices; ``rcc_sim/data/SOURCES.md``): a
one-year England run from the configured base date (31 March 2024) is set against the latest
published year.

**Loss.** Each target's error is measured in units of its tolerance: ``z = (model/published - 1) /
count_tolerance`` for counts and ``z = (model - published) / share_tolerance`` for shares (5% and
2 percentage points by default, the issue's acceptance bands). The loss is the mean of z^2 over
the targets in the loss, so a target exactly at the edge of its band contributes 1.

**Stages.**

1. *Exit hazards by route and age* (``fit_exit_hazards``): one scale per exit route and one
   multiplier per current-age band, fitted with scipy's least_squares to the steady-state moments
   the hazards imply for a large common-random-number cohort of entrants: mean time in care
   (stock/starts), the stock's age mix, the ceased age mix and the ceased routes. Cheap (no
   placement model), so it runs first.
2. *Simulation parameters* (breakdown and planned-move hazards, carer recruitment and
   deregistration, usable capacity, care plans, ...), listed with their ranges in the experiment
   file: Optuna's TPE sampler on full one-year England runs with fixed seeds (common random
   numbers, so the objective is deterministic). Trials are kept in an Optuna journal file in the
   study directory, so the study runs in parallel worker processes and resumes where it stopped
   (re-running counts finished trials towards ``n_trials``; trials left running by a killed run
   are marked failed). The current defaults are the first trial, so a fit is never worse than
   what it started from.
3. *Prices*: base prices are rescaled by published/model average price (prices enter nothing
   else in the loss), then the whole fitted set is evaluated once more.

Entry rates per LA are not fitted: each LA's starts come from its published starts (DfE CLA; in
the simulated years forecast from the published years to the base year, ``demand.starts_source``)
and its exit hazards are scaled by its own published exit rate (``exits.by_la``).

**Plausible ranges.** Treating each tolerance as one standard error, the sum of z^2 behaves like
a chi-square; the parameter sets whose sum lies within ``chi2.ppf(confidence, k)`` of the best
(k = number of free parameters) form a profile-loss region, and each parameter's range over the
trials in it is written as its plausible range, for the sensitivity analysis and the projection.

The fitted values, their ranges and the provenance (date, git commit, loss per target) are
written to ``calibrated.yaml``; with ``calibration.install=true`` that file replaces
``rcc_sim/data/calibrated.yaml``, which :mod:`rcc_sim.config` puts over the priors.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import math
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from rcc_sim.config import CALIBRATED_FILE, CalibrationConfig, Config, ConfigError, FreeParameter, get_path, with_values
from rcc_sim.data import load_targets
from rcc_sim.files import atomic_write_text
from rcc_sim.vocab import AGE_BAND_EDGES, HAZARD_ROUTES

# Stage 1 targets: the split of ceased by route into exits before 18 and at 18 (DfE CLA 2024:
# staying put 16%, independent living 13% of which about 10 points at 18, other 22% of which
# about 13 points at 18, mostly "care taken by another LA" and "moved to adult care").
ROUTE_TARGET = {
    "returned_home": 0.20,
    "adopted": 0.09,
    "special_guardianship": 0.11,
    "child_arrangements_order": 0.03,
    "lives_with_relatives": 0.06,
    "independent_living": 0.03,
    "other": 0.09,
    "at_18": 0.39,
}
COHORT_SIZE = 120_000
COHORT_SEED = 20240331

PRICE_TARGETS = {  # validation row -> base price parameter rescaled in stage 3
    "price_ifa_week": "fostering.ifa_price_week",
    "price_childrens_home_week_2024": "market.home_price_week",
    "cost_in_house_foster_week": "fostering.in_house_cost_week",
}
LOSS_DEFINITION = (
    "mean over targets of z^2, z = (model/published - 1)/count_tolerance for counts and "
    "(model - published)/share_tolerance for shares"
)


# --------------------------------------------------------------------------------------------
# Stage 1: exit hazards
# --------------------------------------------------------------------------------------------
def _cohort(cfg: Config, rng: np.random.Generator):
    from rcc_sim.engine.processes.demand import UASC_HAZARD_MULTIPLIER

    d = cfg.demand
    band = rng.choice(5, size=COHORT_SIZE, p=np.array(d.start_age_shares))
    lo, hi = np.array(AGE_BAND_EDGES[:-1])[band], np.array(AGE_BAND_EDGES[1:])[band]
    age = lo + (hi - lo) * rng.random(COHORT_SIZE)
    uasc = rng.random(COHORT_SIZE) < np.array(d.uasc_share_of_starts)[band]
    return age, np.where(uasc, UASC_HAZARD_MULTIPLIER, 1.0), rng.exponential(size=COHORT_SIZE), rng.random(COHORT_SIZE)


def _exits_with(cfg: Config, x: np.ndarray) -> Config:
    route_scale, age_mult = np.exp(x[:7]), np.r_[1.0, np.exp(x[7:])]
    e = dataclasses.replace(cfg.exits)
    for r, s in zip(HAZARD_ROUTES, route_scale):
        setattr(e, r, [float(v * s * m) for v, m in zip(getattr(cfg.exits, r), age_mult)])
    return dataclasses.replace(cfg, exits=e)


def _exit_moments(cfg: Config, age, mult, e, u):
    from rcc_sim.engine.processes.demand import AT_18, ExitSampler
    from rcc_sim.vocab import EXIT_ROUTES

    years, route = ExitSampler(cfg).sample(age, np.zeros_like(age), mult, e, u)
    end = age + years
    edges = np.array(AGE_BAND_EDGES)
    person_years = np.array(
        [np.clip(np.minimum(end, edges[b + 1]) - np.maximum(age, edges[b]), 0, None).sum() for b in range(5)]
    )
    exit_band = np.where(route == AT_18, 5, np.searchsorted(edges[1:-1], np.minimum(end, 17.999), side="right"))
    ceased_age = np.bincount(exit_band, minlength=6) / len(age)
    shares = {r: float(np.mean(route == EXIT_ROUTES.index(r))) for r in HAZARD_ROUTES}
    shares["at_18"] = float(np.mean(route == AT_18))
    return years.mean(), person_years / person_years.sum(), ceased_age, shares


def fit_exit_hazards(cfg: Config) -> tuple[dict[str, list[float]], float]:
    """Stage 1: exit hazards (``exits.<route>`` by age band) fitted to steady-state moments.
    Returns the fitted lists and the least-squares loss."""
    from scipy.optimize import least_squares

    t = {k: v["value"] for k, v in load_targets().items()}
    mean_years = t["cla_stock"] / t["cla_starts"]
    stock_age = np.array([t[f"age_share_{b}"] for b in ("under1", "1_4", "5_9", "10_15", "16plus")])
    ceased_age = np.array([t[f"ceased_age_share_{b}"] for b in ("under1", "1_4", "5_9", "10_15", "16_17", "18plus")])
    draws = _cohort(cfg, np.random.default_rng(COHORT_SEED))

    def residuals(x):
        mean, s_age, c_age, shares = _exit_moments(_exits_with(cfg, x), *draws)
        return np.r_[
            3 * (mean / mean_years - 1),
            s_age - stock_age,
            c_age - ceased_age,
            [shares[k] - v for k, v in ROUTE_TARGET.items()],
        ]

    fit = least_squares(residuals, np.zeros(11), diff_step=1e-3, max_nfev=400)
    best = _exits_with(cfg, fit.x)
    return {r: [round(v, 5) for v in getattr(best.exits, r)] for r in HAZARD_ROUTES}, float(2 * fit.cost)


# --------------------------------------------------------------------------------------------
# Stage 2: the simulation parameters
# --------------------------------------------------------------------------------------------
def apply(cfg: Config, params: list[FreeParameter], x: dict[str, float]) -> Config:
    """``cfg`` with each free parameter set to ``x[key]`` (a multiplier for ``scale`` ones)."""
    values = {}
    for p in params:
        if p.key not in x:
            continue
        if p.scale:
            hi = _upper_bound(p.key)
            values[p.key] = [v * x[p.key] if hi is None else min(v * x[p.key], hi) for v in get_path(cfg, p.key)]
        else:
            cur = get_path(cfg, p.key)
            values[p.key] = int(round(x[p.key])) if isinstance(cur, int) else float(x[p.key])
    return with_values(cfg, values)


def _upper_bound(key: str) -> float | None:
    """The declared upper bound of a parameter (1 for shares), from its ``param`` metadata."""
    section, name = key.rsplit(".", 1)
    node = get_path(Config(), section)
    return next(f.metadata.get("hi") for f in dataclasses.fields(node) if f.name == name)


def evaluate(cfg: Config, seeds: list[int]):
    """Validation rows (model values averaged over seeds) of one-year runs of ``cfg``."""
    from rcc_sim.run import simulate
    from rcc_sim.studies.validation import compare

    tables = [compare(simulate(dataclasses.replace(cfg, seed=s))) for s in seeds]
    rows = copy.deepcopy(tables[0])
    for i, r in enumerate(rows):
        r.model = float(np.mean([t[i].model for t in tables]))
    return rows


def z_scores(rows, cal: CalibrationConfig) -> dict[str, float]:
    return {r.key: (r.diff / 100.0) / (cal.share_tolerance if r.kind == "share" else cal.count_tolerance) for r in rows}


def not_in_loss(cal: CalibrationConfig) -> set[str]:
    """Targets left out of the loss (reported all the same)."""
    out = set(cal.excluded_targets)
    if cal.rescale_prices:
        out |= set(PRICE_TARGETS)
    return out


def loss(rows, cal: CalibrationConfig) -> float:
    z = z_scores(rows, cal)
    skip = not_in_loss(cal)
    vals = [v**2 for k, v in z.items() if k not in skip and math.isfinite(v)]
    return float(np.mean(vals))


def _current(cfg: Config, p: FreeParameter) -> float:
    return 1.0 if p.scale else float(get_path(cfg, p.key))


def _worker(args) -> int:
    """One Optuna worker process: run trials until the study has ``n_trials`` completed."""
    import optuna

    storage_path, study_name, cfg, worker_id, n_trials = args
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    cal = cfg.calibration
    study = optuna.load_study(
        study_name=study_name,
        storage=_storage(storage_path),
        sampler=optuna.samplers.TPESampler(
            seed=cal.sampler_seed + 1000 * worker_id, n_startup_trials=min(16, n_trials // 4 + 1), multivariate=True
        ),
    )

    def objective(trial):
        x = {p.key: trial.suggest_float(p.key, p.lo, p.hi, log=p.log) for p in cal.parameters}
        t0 = time.perf_counter()
        rows = evaluate(apply(cfg, cal.parameters, x), list(cal.seeds))
        value = loss(rows, cal)
        trial.set_user_attr("z", {k: round(v, 4) for k, v in z_scores(rows, cal).items()})
        trial.set_user_attr("seconds", round(time.perf_counter() - t0, 1))
        print(
            f"  worker {worker_id} trial {trial.number}: loss {value:.3f} ({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
        return value

    from optuna.study import MaxTrialsCallback
    from optuna.trial import TrialState

    study.optimize(objective, n_trials=n_trials, callbacks=[MaxTrialsCallback(n_trials, states=(TrialState.COMPLETE,))])
    return worker_id


def _storage(path: Path):
    import optuna
    from optuna.storages.journal import JournalFileBackend

    return optuna.storages.JournalStorage(JournalFileBackend(str(path)))


def plausible_ranges(study, cal: CalibrationConfig, n_targets: int) -> dict[str, dict[str, Any]]:
    """Range of each parameter over the trials within the chi-square profile-loss region."""
    from optuna.trial import TrialState
    from scipy import stats

    done = [
        t for t in study.trials if t.state == TrialState.COMPLETE and all(p.key in t.params for p in cal.parameters)
    ]
    if not done:
        return {}
    sse = np.array([t.value * n_targets for t in done])
    cut = sse.min() + stats.chi2.ppf(cal.confidence, len(cal.parameters))
    inside = [t for t, s in zip(done, sse) if s <= cut]
    best = min(done, key=lambda t: t.value)
    out = {}
    for p in cal.parameters:
        vals = np.array([t.params[p.key] for t in inside])
        lo, hi = float(vals.min()), float(vals.max())
        if hi - lo < 1e-9:  # a single trial in the region: fall back to +-10% of the best
            lo, hi = best.params[p.key] * 0.9, best.params[p.key] * 1.1
        out[p.key] = {
            "best": round(float(best.params[p.key]), 6),
            "lo": round(max(lo, p.lo), 6),
            "hi": round(min(hi, p.hi), 6),
            "scale": p.scale,
            "trials_in_region": len(inside),
        }
    return out


def _git():
    from rcc_sim.run import git_state

    return git_state()


def _yaml_values(cfg: Config, keys: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for key in keys:
        section, name = key.split(".", 1)
        v = get_path(cfg, key)
        out.setdefault(section, {})[name] = (
            [round(float(a), 6) for a in v]
            if isinstance(v, list)
            else (round(float(v), 6) if isinstance(v, float) else v)
        )
    return out


def run_calibration(cfg: Config, out_dir: Path, log=print) -> dict[str, Any]:
    """All three stages; writes calibrated.yaml, trials.csv and fit_report.txt to ``out_dir``."""
    import optuna
    import yaml
    from optuna.trial import TrialState

    from rcc_sim.studies.validation import format_table

    cal = cfg.calibration
    if cal is None or not cal.parameters:
        raise ConfigError("config key 'calibration': no free parameters; run with +experiment=calibration")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    fitted_keys: list[str] = []

    # Stage 1 (cached: deterministic, but two minutes)
    base = cfg
    if cal.fit_exit_hazards:
        cache = out_dir / "stage1_exit_hazards.yaml"
        if cache.exists():
            exits, l1 = yaml.safe_load(cache.read_text())["exits"], None
            log(f"stage 1: exit hazards read from {cache}")
        else:
            log("stage 1: fitting exit hazards by route and age to steady-state moments (scipy least_squares)")
            exits, l1 = fit_exit_hazards(cfg)
            atomic_write_text(cache, yaml.safe_dump({"exits": exits, "loss": l1}, sort_keys=False))
            log(f"stage 1: least-squares loss {l1:.5f}")
        base = with_values(cfg, {f"exits.{r}": v for r, v in exits.items()})
        fitted_keys += [f"exits.{r}" for r in HAZARD_ROUTES]

    # Stage 2
    storage_path = out_dir / "optuna.journal"
    storage = _storage(storage_path)
    study = optuna.create_study(study_name=cal.study_name, storage=storage, direction="minimize", load_if_exists=True)
    for t in study.trials:  # left running by a killed run
        if t.state == TrialState.RUNNING:
            study.tell(t.number, state=TrialState.FAIL)
    if not study.trials:
        study.enqueue_trial({p.key: min(max(_current(base, p), p.lo), p.hi) for p in cal.parameters})
    n_done = sum(t.state == TrialState.COMPLETE for t in study.trials)
    log(
        f"stage 2: {len(cal.parameters)} parameters, {n_done} of {cal.n_trials} trials done, "
        f"{cal.workers} workers, journal {storage_path}"
    )
    if n_done < cal.n_trials:
        args = [(storage_path, cal.study_name, base, w, cal.n_trials) for w in range(cal.workers)]
        if cal.workers > 1:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor

            with ProcessPoolExecutor(cal.workers, mp_context=mp.get_context("fork")) as ex:
                list(ex.map(_worker, args))
        else:
            _worker(args[0])
    study = optuna.load_study(study_name=cal.study_name, storage=_storage(storage_path))
    best = study.best_trial
    fitted = apply(base, cal.parameters, best.params)
    fitted_keys += [p.key for p in cal.parameters]
    log(f"stage 2: best trial {best.number}, loss {best.value:.4f}")

    # Stage 3
    if cal.rescale_prices:
        rows = evaluate(fitted, list(cal.seeds))
        by_key = {r.key: r for r in rows}
        fitted = with_values(
            fitted,
            {
                key: round(get_path(fitted, key) * by_key[row].published / by_key[row].model, 2)
                for row, key in PRICE_TARGETS.items()
            },
        )
        fitted_keys += list(PRICE_TARGETS.values())
        log("stage 3: base prices rescaled to the published average prices")

    rows = evaluate(fitted, list(cal.seeds))
    final = loss(rows, cal)
    z = z_scores(rows, cal)
    n_targets = len(z) - len(not_in_loss(cal) & set(z))
    ranges = plausible_ranges(study, cal, n_targets)
    git = _git()
    doc = {
        "provenance": {
            "study": cal.study_name,
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "git_commit": git["commit"],
            "git_dirty": git["dirty"],
            "command": " ".join(sys.argv),
            "base_date": f"{cfg.sim.start_year}-03-31",
            "world": cfg.world.name,
            "years": cfg.sim.years,
            "seeds": list(cal.seeds),
            "trials_completed": sum(t.state == TrialState.COMPLETE for t in study.trials),
            "best_trial": best.number,
            "loss": round(final, 4),
            "loss_definition": LOSS_DEFINITION,
            "count_tolerance": cal.count_tolerance,
            "share_tolerance": cal.share_tolerance,
            "not_in_loss": sorted(not_in_loss(cal)),
            "seconds": round(time.perf_counter() - t_start),
            "targets": {
                r.key: {"published": round(r.published, 6), "model": round(r.model, 6), "z": round(z[r.key], 3)}
                for r in rows
            },
        },
        "values": _yaml_values(fitted, fitted_keys),
        "ranges": ranges,
    }
    text = (
        "# Fitted by rcc-sim-calibrate (rcc_sim/calibration.py); loaded by rcc_sim/config.py over the\n"
        "# priors declared there. Do not edit by hand: re-run the calibration study.\n"
        + yaml.safe_dump(doc, sort_keys=False, width=110)
    )
    atomic_write_text(out_dir / "calibrated.yaml", text)
    _write_trials(study, cal, out_dir / "trials.csv")
    report = (
        f"Calibration '{cal.study_name}': loss {final:.4f} ({LOSS_DEFINITION}); "
        f"{len(rows)} targets, {n_targets} in the loss\n\n" + format_table(rows)
    )
    atomic_write_text(out_dir / "fit_report.txt", report + "\n")
    if cal.install:
        shutil.copyfile(out_dir / "calibrated.yaml", CALIBRATED_FILE)
        log(f"installed as the default parameters: {CALIBRATED_FILE}")
    log(report)
    return doc


def _write_trials(study, cal: CalibrationConfig, path: Path) -> None:
    keys = [p.key for p in cal.parameters]
    lines = ["number,state,loss,seconds," + ",".join(keys)]
    for t in study.trials:
        vals = ",".join("" if k not in t.params else f"{t.params[k]:.6g}" for k in keys)
        loss_s = "" if t.value is None else f"{t.value:.6f}"
        lines.append(f"{t.number},{t.state.name},{loss_s},{t.user_attrs.get('seconds', '')},{vals}")
    atomic_write_text(path, "\n".join(lines) + "\n")
