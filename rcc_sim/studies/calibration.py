"""Calibration: fit the free parameters to the published national statistics and their trajectory.

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

**Trajectory loss** (``calibration.loss: trajectory``, the experiment's default). The run includes
its spin-up from 31 March 2016, driven by each LA's published starts, and the loss is the mean of
z^2 over three kinds of term (``TRAJECTORY_LOSS_DEFINITION``, :func:`trajectory_terms`):

* the base-year targets above, for the model's year to 31 March 2024 (from its spin-up);
* each national measure of the validation page (:mod:`rcc_sim.studies.validate`) with a published
  value in a year of ``trajectory_years`` (2017-2023): stock, flows, UASC, distance and locality,
  stability, placement types, Ofsted carers and homes, providers; z = gap / the measure's own
  tolerance there. Prices and spend are left out (published in cash, the model in 2024 prices:
  stage 3 rescales them), as are the market measures (one published year);
* each per-LA series (stock, starts, ceased, placed outside the LA and over 20 miles, 3+
  placements) in each year: z = mean absolute error across LAs / (``la_count_tolerance`` x the
  mean published value) for counts, / ``la_share_tolerance`` for shares.

The fit report adds the trajectory's z table and the per-LA fit (MAE and correlation across LAs,
each year); ``calibrated.yaml`` records both in its provenance.

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
A region of fewer than k + 1 trials (too few to span k dimensions) is replaced by the k + 1 best
trials (:func:`ranges_from_trials`).

**Refit** (``calibration.refit``). A mechanism added after a fit brings parameters of its own;
re-running the whole search for them costs as much as the first fit. A refit searches only the
listed parameters, every other one held at its installed value, and writes a file that keeps the
installed values and ranges of the others, with the refit's provenance and, under ``refines``, the
fit it refines. The refitted ranges are conditional on the others: narrower than a joint fit's.

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

from rcc_sim.config import (
    CALIBRATED_FILE,
    CalibrationConfig,
    Config,
    ConfigError,
    FreeParameter,
    get_path,
    load_calibrated,
    with_values,
)
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
TRAJECTORY_LOSS_DEFINITION = (
    "mean of z^2 over all terms: the base-year targets (z as above, the model's year to 31 March 2024 "
    "from its spin-up), each published national measure in each year of trajectory_years (z = gap / the "
    "measure's validation tolerance, % for counts, points for shares), and each per-LA series in each year "
    "(z = mean absolute error across LAs / (la_count_tolerance x mean published) for counts, "
    "/ la_share_tolerance for shares)"
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
    return evaluate_all(cfg, seeds)[0]


def evaluate_all(cfg: Config, seeds: list[int]) -> tuple[list, dict[str, float], dict[str, list[float]]]:
    """Run ``cfg`` on each seed: (the base-year rows, averaged over seeds; the trajectory terms'
    z, averaged over seeds (empty unless ``calibration.loss`` is trajectory); the per-LA fit
    rows, ``la:<measure>@<year>`` -> [MAE, correlation], averaged over seeds)."""
    from rcc_sim.run import simulate
    from rcc_sim.studies.validation import compare

    cal = cfg.calibration
    trajectory = cal is not None and cal.loss == "trajectory"
    if trajectory:
        cfg = dataclasses.replace(cfg, output=dataclasses.replace(cfg.output, include_spin_up=True))
    tables, terms, fits = [], [], []
    for s in seeds:
        ds = simulate(dataclasses.replace(cfg, seed=s))
        if trajectory:
            from rcc_sim.studies.validate import base_year_rows

            rows, _ = base_year_rows(ds)
            z, fit = trajectory_terms(ds, cal)
            terms.append(z)
            fits.append(fit)
        else:
            rows = compare(ds)
        tables.append(rows)
    rows = copy.deepcopy(tables[0])
    for i, r in enumerate(rows):
        r.model = float(np.mean([t[i].model for t in tables]))
    mean_z = {k: float(np.mean([t[k] for t in terms])) for k in (terms[0] if terms else {})}
    mean_fit = {k: [float(np.mean([f[k][j] for f in fits])) for j in range(2)] for k in (fits[0] if fits else {})}
    return rows, mean_z, mean_fit


# Measures left out of the trajectory terms: the money group is in 2024 prices in the model and in
# cash when published (stage 3 rescales the prices to the base year), and the market group has one
# published year (a base-year comparison, not a trajectory)
TRAJECTORY_SKIP_GROUPS = ("money", "market")


def trajectory_terms(ds, cal: CalibrationConfig) -> tuple[dict[str, float], dict[str, list[float]]]:
    """The trajectory terms of one run that includes its spin-up, as z (see ``LOSS_DEFINITION``):

    * ``<measure>@<year>``: each comparable national measure of :mod:`rcc_sim.studies.validate`
      with a published value in year ``year`` of ``calibration.trajectory_years``: the gap (% for
      counts, points for shares) over the measure's tolerance (the validation page's);
    * ``la:<measure>@<year>``: each per-LA series (stock, starts, ceased, placed outside the LA
      and over 20 miles, 3+ placements): the mean absolute error across LAs over
      ``la_count_tolerance`` x the mean published value (counts) or over ``la_share_tolerance``
      (shares, in points).

    Also returns the per-LA fit: ``la:<measure>@<year>`` -> [MAE, correlation across LAs]."""
    from rcc_sim.studies import validate as V

    first, last = cal.trajectory_years
    yearly = V.model_yearly(ds)
    years = [int(y) for y in yearly["year"].values if first <= int(y) <= last]
    codes = [str(c) for c in ds["la"].values]
    z: dict[str, float] = {}
    for m in V.MEASURES:
        if not m.comparable or m.group in TRAJECTORY_SKIP_GROUPS:
            continue
        pub = V.published(m, codes)  # England's series, or the simulated LAs' sum where published per LA
        if not pub.comparable:
            continue
        for y in years:
            gap = V.gap(float(yearly[m.key].sel(year=y)), pub.value(y), m.kind)
            if math.isfinite(gap):
                z[f"{m.key}@{y}"] = gap / m.tolerance
    by_la = V.model_yearly_la(ds)
    fit: dict[str, list[float]] = {}
    for m in V.LA_MEASURES:
        pyears, parr = V.la_published(m, codes)
        for y in years:
            hit = np.flatnonzero(pyears == y)
            if not len(hit):
                continue
            x, v = parr[:, hit[0]], by_la[m.key].sel(year=y).values.astype(float)
            ok = np.isfinite(x) & np.isfinite(v)
            if ok.sum() < 3:
                continue
            mae = float(np.mean(np.abs(v[ok] - x[ok])))
            varies = np.std(x[ok]) > 0 and np.std(v[ok]) > 0
            corr = float(np.corrcoef(x[ok], v[ok])[0, 1]) if varies else float("nan")
            key = f"la:{m.key}@{y}"
            fit[key] = [mae, corr]
            if m.kind == "share":
                z[key] = mae / (100.0 * cal.la_share_tolerance)
            else:
                z[key] = mae / (cal.la_count_tolerance * float(np.mean(x[ok])))
    return z, fit


def z_scores(rows, cal: CalibrationConfig, terms: dict[str, float] | None = None) -> dict[str, float]:
    """z of every term: the base-year targets (by key) and, in a trajectory fit, the trajectory terms."""
    z = {r.key: (r.diff / 100.0) / (cal.share_tolerance if r.kind == "share" else cal.count_tolerance) for r in rows}
    return {**z, **(terms or {})}


def not_in_loss(cal: CalibrationConfig) -> set[str]:
    """Targets left out of the loss (reported all the same)."""
    out = set(cal.excluded_targets)
    if cal.rescale_prices:
        out |= set(PRICE_TARGETS)
    return out


def in_loss(key: str, cal: CalibrationConfig) -> bool:
    """Whether term ``key`` counts: neither it nor its measure (``<measure>@<year>``) is excluded."""
    skip = not_in_loss(cal)
    return key not in skip and key.split("@")[0] not in skip


def loss(rows, cal: CalibrationConfig, terms: dict[str, float] | None = None) -> float:
    z = z_scores(rows, cal, terms)
    vals = [v**2 for k, v in z.items() if in_loss(k, cal) and math.isfinite(v)]
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
        rows, terms, _ = evaluate_all(apply(cfg, cal.parameters, x), list(cal.seeds))
        value = loss(rows, cal, terms)
        trial.set_user_attr("z", {k: round(v, 4) for k, v in z_scores(rows, cal, terms).items()})
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
    """Range of each parameter over the trials within the chi-square profile-loss region
    (:func:`ranges_from_trials` on the study's completed trials)."""
    from optuna.trial import TrialState

    done = [
        t for t in study.trials if t.state == TrialState.COMPLETE and all(p.key in t.params for p in cal.parameters)
    ]
    return ranges_from_trials([t.value for t in done], [t.params for t in done], cal, n_targets)


def ranges_from_trials(
    losses: list[float], params: list[dict[str, float]], cal: CalibrationConfig, n_targets: int
) -> dict[str, dict[str, Any]]:
    """Plausible range of each free parameter from completed trials (mean loss, parameter values).

    The region is the trials whose sum of z^2 (``loss * n_targets``) lies within
    ``chi2.ppf(confidence, k)`` of the best (k free parameters). A region of fewer than k + 1 trials
    cannot span k dimensions: its span would say more about how sparsely the optimiser sampled
    than about the loss surface (a 60-trial fit of 20 parameters had 2 trials in it, and ranges a
    fraction of a percent wide). The ranges are then spanned by the k + 1 best trials instead
    (``rule: k+1 best``), a wider and honest statement that the fit has not pinned them down;
    more trials narrow them.
    """
    from scipy import stats

    if not losses:
        return {}
    k = len(cal.parameters)
    sse = np.asarray(losses, dtype=float) * n_targets
    cut = sse.min() + stats.chi2.ppf(cal.confidence, k)
    inside = np.flatnonzero(sse <= cut)
    rule = "chi-square region"
    if len(inside) < min(k + 1, len(sse)):
        inside = np.argsort(sse, kind="stable")[: k + 1]
        rule = "k+1 best"
    best = params[int(np.argmin(sse))]
    out = {}
    for p in cal.parameters:
        vals = np.array([params[i][p.key] for i in inside])
        lo, hi = float(vals.min()), float(vals.max())
        if hi - lo < 1e-9:  # a single trial: fall back to +-10% of the best
            lo, hi = best[p.key] * 0.9, best[p.key] * 1.1
        out[p.key] = {
            "best": round(float(best[p.key]), 6),
            "lo": round(max(lo, p.lo), 6),
            "hi": round(min(hi, p.hi), 6),
            "scale": p.scale,
            "trials_in_region": len(inside),
            "rule": rule,
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
    if cal.loss == "trajectory" and cfg.sim.start_year - cfg.sim.spin_up_years > cal.trajectory_years[0] - 1:
        raise ConfigError(
            f"config key 'calibration.trajectory_years' = {list(cal.trajectory_years)}: the run starts at 31 March "
            f"{cfg.sim.start_year - cfg.sim.spin_up_years} (sim.start_year - sim.spin_up_years), after the start of "
            f"the first year to fit; fit from {cfg.sim.start_year - cfg.sim.spin_up_years + 1} or spin up longer"
        )
    if cal.refit and not load_calibrated():
        raise ConfigError(
            f"config key 'calibration.refit' = true: there is no installed calibration ({CALIBRATED_FILE}) to refine"
        )
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
        rows = evaluate_all(fitted, list(cal.seeds))[0]
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

    rows, terms, la_fit = evaluate_all(fitted, list(cal.seeds))
    final = loss(rows, cal, terms)
    z = z_scores(rows, cal, terms)
    n_targets = sum(in_loss(k, cal) for k in z)
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
            "loss_kind": cal.loss,
            "loss_definition": TRAJECTORY_LOSS_DEFINITION if cal.loss == "trajectory" else LOSS_DEFINITION,
            "terms_in_loss": n_targets,
            "count_tolerance": cal.count_tolerance,
            "share_tolerance": cal.share_tolerance,
            **(
                {
                    "trajectory_years": list(cal.trajectory_years),
                    "la_count_tolerance": cal.la_count_tolerance,
                    "la_share_tolerance": cal.la_share_tolerance,
                    "trajectory_z": {k: round(v, 3) for k, v in terms.items()},
                    "per_la_fit": {
                        k: {"mae": round(v[0], 3), "correlation": round(v[1], 3)} for k, v in la_fit.items()
                    },
                }
                if cal.loss == "trajectory"
                else {}
            ),
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
    if cal.refit:
        doc = merge_refit(load_calibrated(), doc)
    text = (
        "# Fitted by rcc-sim-calibrate (rcc_sim/calibration.py); loaded by rcc_sim/config.py over the\n"
        "# priors declared there. Do not edit by hand: re-run the calibration study.\n"
        + yaml.safe_dump(doc, sort_keys=False, width=110)
    )
    atomic_write_text(out_dir / "calibrated.yaml", text)
    _write_trials(study, cal, out_dir / "trials.csv")
    definition = TRAJECTORY_LOSS_DEFINITION if cal.loss == "trajectory" else LOSS_DEFINITION
    report = (
        f"Calibration '{cal.study_name}': loss {final:.4f} ({definition}); "
        f"{len(z)} terms, {n_targets} in the loss\n\n" + format_table(rows)
    )
    if cal.loss == "trajectory":
        report += "\n\n" + trajectory_table(terms, cal) + "\n\n" + la_fit_table(la_fit)
    atomic_write_text(out_dir / "fit_report.txt", report + "\n")
    if cal.install:
        shutil.copyfile(out_dir / "calibrated.yaml", CALIBRATED_FILE)
        log(f"installed as the default parameters: {CALIBRATED_FILE}")
    log(report)
    return doc


def merge_refit(installed: dict[str, Any], refit: dict[str, Any]) -> dict[str, Any]:
    """The calibrated file after a refit (``calibration.refit``): the installed values and ranges,
    with the refitted parameters' (and stage 1's and 3's, if run) replaced; the refit's provenance,
    with the installed fit it refines under ``refines`` (its own ``refines`` kept, so a chain of
    refits stays traceable). A refitted parameter's range is conditional on the others held at
    their installed values: narrower than a joint fit would give."""
    if not installed:
        raise ConfigError(
            f"config key 'calibration.refit' = true: there is no installed calibration ({CALIBRATED_FILE}) to refine"
        )
    values = copy.deepcopy(installed.get("values") or {})
    for section, names in (refit.get("values") or {}).items():
        values.setdefault(section, {}).update(names)
    ranges = dict(installed.get("ranges") or {})
    ranges.update(refit.get("ranges") or {})
    old = installed.get("provenance") or {}
    refines = {
        k: old[k]
        for k in ("study", "date", "git_commit", "loss", "loss_kind", "terms_in_loss", "trials_completed", "refines")
        if k in old
    }
    provenance = {**refit["provenance"], "refit_parameters": sorted(refit.get("ranges") or {}), "refines": refines}
    return {"provenance": provenance, "values": values, "ranges": ranges}


def _split(key: str) -> tuple[str, int]:
    name, year = key.rsplit("@", 1)
    return name, int(year)


def _measure_year_table(title: str, cells: dict[str, str], cell_width: int) -> str:
    """A text table of ``<measure>@<year>`` -> cell text: a row per measure, a column per year."""
    rows: dict[str, dict[int, str]] = {}
    for k, text in cells.items():
        name, year = _split(k)
        rows.setdefault(name, {})[year] = text
    years = sorted({y for row in rows.values() for y in row})
    width = max([len(n) for n in rows] + [7])
    lines = [title, f"{'measure':{width}s} " + " ".join(f"{y:>{cell_width}d}" for y in years)]
    for name, row in rows.items():
        lines.append(f"{name:{width}s} " + " ".join(f"{row.get(y, '.'):>{cell_width}s}" for y in years))
    return "\n".join(lines)


def trajectory_table(terms: dict[str, float], cal: CalibrationConfig) -> str:
    """The trajectory terms as a table: a row per measure, a column per year, z in each cell
    (``*`` after a term left out of the loss)."""
    cells = {k: f"{v:+.2f}" + ("" if in_loss(k, cal) else "*") for k, v in terms.items()}
    return _measure_year_table("Trajectory terms, z (gap / tolerance; * = not in the loss)", cells, 7)


def la_fit_table(fit: dict[str, list[float]]) -> str:
    """Per-LA fit: mean absolute error across LAs (children, or points for shares) and the
    correlation across LAs of model and published, by measure and year."""
    cells = {k.removeprefix("la:"): f"{mae:.1f}/{corr:.2f}" for k, (mae, corr) in fit.items()}
    title = "Per-LA fit: mean absolute error across LAs / correlation (model vs published, each year)"
    return _measure_year_table(title, cells, 12)


def _write_trials(study, cal: CalibrationConfig, path: Path) -> None:
    keys = [p.key for p in cal.parameters]
    lines = ["number,state,loss,seconds," + ",".join(keys)]
    for t in study.trials:
        vals = ",".join("" if k not in t.params else f"{t.params[k]:.6g}" for k in keys)
        loss_s = "" if t.value is None else f"{t.value:.6f}"
        lines.append(f"{t.number},{t.state.name},{loss_s},{t.user_attrs.get('seconds', '')},{vals}")
    atomic_write_text(path, "\n".join(lines) + "\n")
