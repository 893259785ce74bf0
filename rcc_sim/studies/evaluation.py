"""Could an evaluation of the pathfinders detect their effect? A difference-in-differences design
tried out on simulated data, where the true effect is known.

    rcc-sim -m +experiment=pathfinder_evaluation hydra/launcher=local_parallel
    rcc-sim-evaluate outputs/studies/pathfinder_evaluation          # -> <study>/evaluation/

**Observed world.** The runs of the reform scenario (``pathfinders``) stand for what an evaluator
would see: annual LA-level outcomes by DfE statistical year (1 April - 31 March), each computed
from counts summed over the year's weeks, never from averaged ratios (:data:`ANNUAL_OUTCOMES`).

**Design.** Treated LAs are the simulated members of the policy's RCCs; comparison LAs are every
other simulated LA. Each RCC goes live at ``start_years + ramp_up_years`` after the base date; a
statistical year counts as *post* for an RCC's members if the RCC was live for at least half of it
(:func:`post_indicator`). The estimator (:func:`did`) is two-way fixed effects (LA and year) with
one treatment term per RCC (so an RCC that goes live later never serves as a comparison for one
already live: no "forbidden comparisons" under staggered go-live), pooled with weights equal to
each RCC's share of treated LA-years. Standard errors are clustered by LA (CR1: factor
G/(G-1) (N-1)/(N-K), K the regressors not absorbed by the LA effects) and tests use a t
distribution with G-1 degrees of freedom. Each LA-year has equal weight.

**Truth.** The status-quo runs on the same seeds (common random numbers: the same children
arrive) give the counterfactual: the true effect in replicate r is the mean over treated post
LA-years of (pathfinders - status quo), the same LA-years and weights the DiD estimates.

**Reported** (:func:`evaluate`), per analysis (all pathfinders pooled, then each RCC on its own
against the LAs in no RCC), outcome and horizon (the first h statistical years): the DiD estimate
against the true effect per replicate and averaged; the bias, split exactly (the estimator is
linear) into *noise* (the DiD of the status-quo runs: a placebo) and *contamination* (the DiD of
the paired difference minus the true effect: spill-overs onto comparison LAs through the shared
market); the clustered SE and the spread of the estimates over replicates; the power (share of
replicates rejecting zero at 5%, and analytic from the SE and the true effect); the minimum
detectable effect MDE = (1.96 + 0.84) x SE (80% power, 5% two-sided); the placebo rejection rate
(the design's false-positive rate); and the coverage of the 95% intervals.

**Other designs.** :mod:`rcc_sim.studies.evaluation_designs` compares this design with a wild
cluster bootstrap, randomisation inference, Callaway-Sant'Anna, synthetic DiD and an event study,
each against all other LAs, matched statistical neighbours and a region's non-member LAs, on the
panels read here (:func:`load_panels`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from rcc_sim.studies.study import StudyError, open_study
from rcc_sim.vocab import DAYS_PER_YEAR

Z_ALPHA = 1.96  # 5% two-sided
Z_POWER = 0.84  # 80% power
MDE_FACTOR = Z_ALPHA + Z_POWER
BASELINE = "status_quo"


class EvaluationError(ValueError):
    """A study that cannot be evaluated (no status quo, no pathfinder LAs...). The message names
    the path and what is missing."""


# --------------------------------------------------------------------------------------------
# The estimator
# --------------------------------------------------------------------------------------------
@dataclass
class DiDResult:
    estimate: float
    se: float
    df: int  # G - 1
    n_obs: int
    n_clusters: int
    n_treated_obs: int
    by_cohort: dict[int, tuple[float, float]] = field(default_factory=dict)  # cohort -> (estimate, se)

    @property
    def t(self) -> float:
        return self.estimate / self.se if self.se > 0 else np.nan

    @property
    def p(self) -> float:
        return float(2 * stats.t.sf(abs(self.t), self.df)) if np.isfinite(self.t) else np.nan

    def ci(self, level: float = 0.95) -> tuple[float, float]:
        h = stats.t.ppf(0.5 + level / 2, self.df) * self.se if self.df > 0 else np.nan
        return self.estimate - h, self.estimate + h


def _two_way_residuals(x: np.ndarray) -> np.ndarray:
    """x (units, periods[, k]) less unit and period means: the FE residual of a balanced panel."""
    return x - x.mean(0, keepdims=True) - x.mean(1, keepdims=True) + x.mean((0, 1), keepdims=True)


def _fe_residuals(cols: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Residuals of each column of ``cols`` (n_obs, k) on LA and year dummies (unbalanced panels)."""
    units, periods = np.nonzero(ok)
    n = len(units)
    _, u_idx = np.unique(units, return_inverse=True)
    _, t_idx = np.unique(periods, return_inverse=True)
    fe = np.zeros((n, u_idx.max() + 1 + t_idx.max()))
    fe[np.arange(n), u_idx] = 1.0
    later = t_idx > 0
    fe[np.flatnonzero(later), u_idx.max() + t_idx[later]] = 1.0
    coef, *_ = np.linalg.lstsq(fe, cols, rcond=None)
    return cols - fe @ coef


def did(y: np.ndarray, treated: np.ndarray, cohort: np.ndarray | None = None) -> DiDResult:
    """Two-way fixed-effects difference-in-differences with LA-clustered standard errors.

    ``y`` (units, periods) is the outcome (NaN = not observed); ``treated`` (units, periods) is 1
    where a unit is under the policy; ``cohort`` (units,) labels units that go live together (one
    treatment coefficient each; default: one for all). Model: y_it = a_i + l_t + sum_g b_g D_it
    [i in g] + e_it; the estimate is the b_g weighted by each cohort's treated unit-periods, its
    variance w'Vw with V the CR1 cluster-robust covariance (clusters = units).
    """
    y = np.asarray(y, dtype=np.float64)
    d = np.asarray(treated, dtype=np.float64)
    if y.shape != d.shape or y.ndim != 2:
        raise ValueError(f"did: y {y.shape} and treated {d.shape} must be the same (units, periods) shape")
    cohort = np.zeros(y.shape[0], dtype=int) if cohort is None else np.asarray(cohort)
    ok = np.isfinite(y)
    keep_units = ok.any(1)
    y, d, ok, cohort = y[keep_units], d[keep_units], ok[keep_units], cohort[keep_units]
    labels = [g for g in np.unique(cohort) if (d[cohort == g][ok[cohort == g]] > 0).any()]
    dcols = np.stack([d * (cohort == g)[:, None] for g in labels], axis=-1) if labels else np.zeros(y.shape + (0,))
    units = np.nonzero(ok)[0]
    n_obs, n_clusters = int(ok.sum()), int(keep_units.sum())
    nan = DiDResult(np.nan, np.nan, n_clusters - 1, n_obs, n_clusters, 0)
    if not labels or n_clusters < 2:
        return nan
    if ok.all():
        z = _two_way_residuals(np.concatenate([y[..., None], dcols], axis=-1))[ok]
    else:
        z = _fe_residuals(np.concatenate([y[ok][:, None], dcols[ok]], axis=1), ok)
    ry, rd = z[:, 0], z[:, 1:]
    ident = (rd**2).sum(0) > 1e-9 * max(1.0, (dcols[ok] ** 2).sum())  # a cohort with no pre (or no post) years
    if not ident.any():
        return nan
    labels = [g for g, k in zip(labels, ident) if k]
    rd = rd[:, ident]
    dcols = dcols[..., ident]
    xtx_inv = np.linalg.inv(rd.T @ rd)
    beta = xtx_inv @ rd.T @ ry
    resid = ry - rd @ beta
    scores = np.zeros((n_clusters, rd.shape[1]))
    np.add.at(scores, units, rd * resid[:, None])
    k = ok.any(0).sum() + rd.shape[1]  # year effects (with the constant) + treatment terms
    factor = n_clusters / (n_clusters - 1) * (n_obs - 1) / max(n_obs - k, 1)
    v = factor * xtx_inv @ (scores.T @ scores) @ xtx_inv
    counts = np.array([(dcols[..., j][ok] > 0).sum() for j in range(len(labels))], dtype=np.float64)
    w = counts / counts.sum()
    est, se = float(w @ beta), float(np.sqrt(max(w @ v @ w, 0.0)))
    by = {int(g): (float(beta[j]), float(np.sqrt(max(v[j, j], 0.0)))) for j, g in enumerate(labels)}
    return DiDResult(est, se, n_clusters - 1, n_obs, n_clusters, int(counts.sum()), by)


def analytic_power(effect: float, se: float) -> float:
    """Power of a 5% two-sided z-test to reject zero when the estimate is N(effect, se^2)."""
    if not (np.isfinite(effect) and np.isfinite(se)) or se <= 0:
        return np.nan
    r = abs(effect) / se
    return float(stats.norm.cdf(r - Z_ALPHA) + stats.norm.cdf(-r - Z_ALPHA))


# --------------------------------------------------------------------------------------------
# Annual LA-level outcomes
# --------------------------------------------------------------------------------------------
# weekly variable -> dimension summed away (None: none); summed over each statistical year's weeks
WEEKLY_COUNTS: dict[str, str | None] = {
    "children_in_care": None,
    "family_based": None,
    "located": None,
    "over_20_miles": None,
    "distance_sum": None,
    "moves": "move_reason",
    "waiting": None,
    "days_to_placement": None,
    "placements_made": None,
    "spend": "placement_type",
}


@dataclass(frozen=True)
class AnnualOutcome:
    units: str
    long_name: str
    fn: Callable[[xr.Dataset], xr.DataArray]  # annual counts (.., stat_year, la) -> outcome
    published: str = ""


def _over(num: str, den: str, scale: float = 1.0):
    return lambda a: scale * a[num] / a[den].where(a[den] > 0)


ANNUAL_OUTCOMES: dict[str, AnnualOutcome] = {
    "share_family_based": AnnualOutcome(
        "share",
        "In family-based care (share of child-weeks in the year)",
        _over("family_based", "children_in_care"),
        "DfE CLA: foster + placed for adoption + with parents, at 31 March",
    ),
    "share_over_20_miles": AnnualOutcome(
        "share",
        "Placed more than 20 miles from home (share of located child-weeks)",
        _over("over_20_miles", "located"),
        "DfE CLA: placed more than 20 miles from home, at 31 March",
    ),
    "mean_miles_from_home": AnnualOutcome(
        "miles", "Mean distance from home (located child-weeks)", _over("distance_sum", "located")
    ),
    "moves_per_child": AnnualOutcome(
        "moves per child-year",
        "Placement moves per child in care (moves / child-years)",
        lambda a: a["moves"] / (a["children_in_care"] / a["weeks"]).where(a["children_in_care"] > 0),
        "DfE CLA: placement changes in the year",
    ),
    "mean_days_to_placement": AnnualOutcome(
        "days", "Mean days waited per placement made", _over("days_to_placement", "placements_made")
    ),
    "share_waiting": AnnualOutcome(
        "share",
        "Waiting in an emergency/unregistered placement (share of child-weeks)",
        _over("waiting", "children_in_care"),
    ),
    "spend_per_child_week": AnnualOutcome(
        "GBP",
        "Placement spend per child-week in care",
        _over("spend", "children_in_care"),
        "DfE s251 outturn: looked-after children spend / CLA",
    ),
    "cic_per_10k": AnnualOutcome(
        "per 10,000 children",
        "Children in care at 31 March per 10,000 children aged 0-17",
        lambda a: 1e4 * a["children_in_care_31mar"] / a["child_population"],
        "DfE CLA: rate per 10,000 children at 31 March",
    ),
}


def weekly_sum(ds: xr.Dataset, name: str, extra: str | None = None) -> xr.DataArray:
    """The weekly variable ``name`` in float64, summed over its category dimension ``extra`` (if any)."""
    v = ds[name].astype("float64")
    return v.sum(extra) if extra else v


def weekly_dataset(data: dict[str, xr.DataArray]) -> xr.Dataset:
    """Weekly sums as one Dataset with only the coordinates a statistical-year sum keeps."""
    out = xr.Dataset(data)
    return out.drop_vars([c for c in out.coords if c not in ("time", "stat_year", "la", "scenario", "replicate")])


def annual_counts(ds: xr.Dataset) -> xr.Dataset:
    """Counts summed over each complete DfE statistical year, by LA (float64, loaded): the weekly
    variables of :data:`WEEKLY_COUNTS`, ``weeks``, ``children_in_care_31mar`` and
    ``child_population``; dimension ``stat_year`` (named by the 31 March it ends on)."""
    weekly = weekly_dataset(
        {v: weekly_sum(ds, v, extra) for v, extra in WEEKLY_COUNTS.items()}
        | {"weeks": xr.ones_like(ds["time"], dtype=np.float64)}
    )
    out = weekly.groupby("stat_year").sum("time").compute()
    ends = pd.to_datetime(ds["time"].values).to_series().groupby(ds["stat_year"].values).max()
    complete = [int(y) for y, end in ends.items() if (end.month, end.day) == (3, 31) and end.year == y]
    out = out.sel(stat_year=complete)
    cic = ds["children_in_care_31mar"].astype("float64").compute()
    cic = cic.assign_coords(year=pd.to_datetime(cic["year"].values).year).rename(year="stat_year")
    out["children_in_care_31mar"] = cic.reindex(stat_year=out["stat_year"].values)
    out = out.assign_coords(
        child_population=("la", ds["child_population"].values.astype(np.float64)),
        region=("la", ds["region"].values),
        la_name=("la", ds["la_name"].values),
    )
    return out


def annual_outcomes(counts: xr.Dataset) -> xr.Dataset:
    """Each of :data:`ANNUAL_OUTCOMES` from :func:`annual_counts` (or any sum of them over LAs)."""
    out = xr.Dataset({name: o.fn(counts).astype("float64") for name, o in ANNUAL_OUTCOMES.items()})
    for name, o in ANNUAL_OUTCOMES.items():
        out[name].attrs.update(units=o.units, long_name=o.long_name)
    return out


# --------------------------------------------------------------------------------------------
# Which LAs are treated, and when
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cohort:
    """One RCC: its member LA codes and when it starts set-up and goes live (years after the base date)."""

    name: str
    members: tuple[str, ...]
    start_years: float
    live_years: float
    opt_out: tuple[str, ...] = ()  # a region's LAs that stay out of its RCC (natural comparisons)


def rcc_cohorts(cfg) -> list[Cohort]:
    """Every RCC of ``cfg.policy`` - the named ones, then the roll-out regions in turn - with its
    members among all 153 LAs (whatever the world), in the order the model sets them up."""
    from rcc_sim.data import load_las
    from rcc_sim.engine.commissioning import Commissioning

    las = load_las()
    out, taken = [], set()
    for name, c, rollout in Commissioning._all_rccs(cfg.policy):  # the model's own list of RCCs
        staying_out = {str(x) for x in (cfg.policy.rollout.opt_out if rollout else c.opt_out)}
        if c.members:
            codes = [str(x) for x in c.members]
        else:
            codes = [
                str(code)
                for code, r in zip(las["code"], las["region"])
                if r == c.region and code not in staying_out and (not rollout or code not in taken)
            ]
        taken |= set(codes)
        opt_out = tuple(str(x) for x in c.opt_out)
        out.append(Cohort(name, tuple(codes), c.start_years, c.start_years + c.ramp_up_years, opt_out))
    return out


def live_share(stat_years: Sequence[int], base_year: int, live_years: float) -> np.ndarray:
    """Share of each statistical year (1 April to 31 March) during which an RCC live from
    ``live_years`` after 31 March ``base_year`` was live."""
    base = np.datetime64(f"{base_year}-03-31")
    live = base + np.timedelta64(int(round(live_years * DAYS_PER_YEAR)), "D")
    out = []
    for y in stat_years:
        start, end = np.datetime64(f"{int(y) - 1}-03-31"), np.datetime64(f"{int(y)}-03-31")
        out.append(float(np.clip((end - live) / (end - start), 0.0, 1.0)))
    return np.array(out)


def post_indicator(stat_years: Sequence[int], base_year: int, live_years: float) -> np.ndarray:
    """1 for a statistical year in which the RCC was live for at least half the year."""
    return (live_share(stat_years, base_year, live_years) >= 0.5).astype(np.float64)


# --------------------------------------------------------------------------------------------
# Reading a study
# --------------------------------------------------------------------------------------------
def choose_scenarios(ds: xr.Dataset, path: Path, scenario: str | None, baseline: str = BASELINE) -> tuple[str, str]:
    """The reform scenario and the status-quo scenario of a study (exactly one of each, or named)."""
    labels = [str(s) for s in ds["scenario"].values]
    if baseline not in labels:
        raise EvaluationError(
            f"{path}: no {baseline!r} scenario (scenarios: {labels}); the evaluation needs the "
            f"status quo run on the same seeds as the reform"
        )
    if scenario is None:
        others = [s for s in labels if s != baseline]
        if len(others) != 1:
            raise EvaluationError(f"{path}: {len(others)} reform scenarios {others}: choose one with --scenario")
        scenario = others[0]
    if scenario not in labels:
        raise EvaluationError(f"{path}: no scenario {scenario!r} (scenarios: {labels})")
    return scenario, baseline


def paired_replicates(ds: xr.Dataset, path: Path, scenario: str, baseline: str) -> list[int]:
    """Seeds finished in both scenarios (the common random numbers pair on these)."""
    rd = ds["run_dir"]
    reps = [
        int(r)
        for r in ds["replicate"].values
        if rd.sel(scenario=scenario, replicate=r).item() and rd.sel(scenario=baseline, replicate=r).item()
    ]
    if not reps:
        raise EvaluationError(f"{path}: no seed is finished in both {scenario!r} and {baseline!r}; nothing to pair")
    return reps


def open_paired(path: Path, scenario: str | None, baseline: str) -> tuple[xr.Dataset, str, str, list[int]]:
    """A study opened lazily with just the reform and the status quo, on the seeds both finished:
    (Dataset, scenario, baseline, replicates)."""
    try:
        ds = open_study(path)
    except StudyError as exc:
        raise EvaluationError(str(exc)) from None
    scenario, baseline = choose_scenarios(ds, path, scenario, baseline)
    reps = paired_replicates(ds, path, scenario, baseline)
    return ds.sel(scenario=[scenario, baseline], replicate=reps), scenario, baseline, reps


def scenario_config(ds: xr.Dataset, path: Path, scenario: str):
    """The resolved config of a finished run of ``scenario`` (its config.yaml)."""
    from omegaconf import OmegaConf

    from rcc_sim.config import to_object
    from rcc_sim.run import CONFIG_FILE

    for rel in ds["run_dir"].sel(scenario=scenario).values:
        if rel:
            f = path / str(rel) / CONFIG_FILE
            if f.is_file():
                return to_object(OmegaConf.load(f))
    raise EvaluationError(f"{path}: no {CONFIG_FILE} in any finished run of scenario {scenario!r}")


# --------------------------------------------------------------------------------------------
# The evaluation
# --------------------------------------------------------------------------------------------
@dataclass
class Design:
    """One analysis: the LAs in it, which are treated (cohort index, -1 = comparison) and when."""

    name: str
    la: list[str]
    cohort: np.ndarray  # (la,) index into cohorts, -1 for comparison LAs
    cohorts: list[Cohort]
    post: np.ndarray  # (la, stat_year) 0/1

    @property
    def n_treated(self) -> int:
        return int((self.cohort >= 0).sum())

    @property
    def n_comparison(self) -> int:
        return int((self.cohort < 0).sum())

    def identified_cohorts(self, h: int) -> list[int]:
        """The RCCs (cohort indices) with both a pre and a post year among the first ``h`` years:
        the ones a difference-in-differences over that window can identify."""
        post = self.post[:, :h]
        return [
            k
            for k in range(len(self.cohorts))
            if (post[self.cohort == k] > 0).any() and (post[self.cohort == k] == 0).any()
        ]


POOLED = "pathfinders"  # the pooled analysis of every RCC of the policy (the pathfinders, in the shipped study)
POOLED_SELECTED = "pooled"  # the pooled analysis of the RCCs chosen with ``rccs``


def designs(
    cohorts: list[Cohort],
    la: Sequence[str],
    stat_years: Sequence[int],
    base_year: int,
    path: Path | str = "study",
    rccs: Sequence[str] | None = None,
) -> list[Design]:
    """The pooled analysis (every RCC with simulated members against LAs in no RCC) and one per
    RCC (its members against LAs in no RCC; other RCCs' members left out).

    ``rccs``: names or shell patterns (``rollout_*``) of the RCCs to evaluate - e.g. the 2026-28
    wave without the pathfinders; the pooled analysis is then named :data:`POOLED_SELECTED`. The
    members of the RCCs left out are in no comparison group either."""
    la = [str(x) for x in la]
    evaluated = cohorts
    if rccs:
        import fnmatch

        evaluated = [c for c in cohorts if any(fnmatch.fnmatchcase(c.name, pat) for pat in rccs)]
        unmatched = [pat for pat in rccs if not any(fnmatch.fnmatchcase(c.name, pat) for c in cohorts)]
        if unmatched:
            raise EvaluationError(
                f"{path}: --rccs {', '.join(unmatched)} matches no RCC of the policy "
                f"(its RCCs: {', '.join(c.name for c in cohorts) or 'none'})"
            )
    present = [c for c in evaluated if set(c.members) & set(la)]
    if not present:
        names = ", ".join(f"{c.name} ({len(c.members)} LAs)" for c in cohorts) or "none"
        raise EvaluationError(
            f"{path}: none of the simulated LAs is in an RCC (RCCs of the policy: {names}); "
            f"no pathfinder LAs to evaluate"
        )
    in_any = {m for c in cohorts for m in c.members}
    comparison = [x for x in la if x not in in_any]
    if not comparison:
        raise EvaluationError(
            f"{path}: every simulated LA is in an RCC: no comparison LAs; run the study in a "
            f"world with LAs outside the RCCs (e.g. world=england)"
        )
    posts = {c.name: post_indicator(stat_years, base_year, c.live_years) for c in present}

    def make(name: str, chosen: list[Cohort]) -> Design:
        members = [(x, k) for k, c in enumerate(chosen) for x in la if x in c.members]
        codes = [x for x, _ in members] + comparison
        coh = np.array([k for _, k in members] + [-1] * len(comparison))
        post = np.array([posts[chosen[k].name] if k >= 0 else np.zeros(len(stat_years)) for k in coh])
        return Design(name, codes, coh, chosen, post)

    pooled = POOLED_SELECTED if rccs else POOLED
    out = [make(pooled if len(present) > 1 else present[0].name, present)]
    if len(present) > 1:
        out += [make(c.name, [c]) for c in present]
    return out


def _mean_where(x: np.ndarray, mask: np.ndarray) -> float:
    v = x[mask & np.isfinite(x)]
    return float(v.mean()) if v.size else np.nan


def _horizon_rows(design: Design, y_pf: np.ndarray, y_sq: np.ndarray, h: int) -> list[dict] | None:
    """DiD per replicate for one design, outcome and horizon (first h years). y_*: (rep, la, year)."""
    post = design.post[:, :h]
    treated_cohorts = design.identified_cohorts(h)
    if not treated_cohorts:
        return None
    # members of an RCC live throughout the window have no pre-period: not identified, left out
    keep = ~((design.cohort >= 0) & (post > 0).all(1))
    post, cohort = post[keep], design.cohort[keep]
    y_pf, y_sq = y_pf[:, keep, :h], y_sq[:, keep, :h]
    rows = []
    diff = y_pf - y_sq
    tmask = post > 0
    cmask = (cohort < 0)[:, None] & (post.max(0) > 0)[None, :]
    for r in range(y_pf.shape[0]):
        res = did(y_pf[r], post, cohort)
        placebo = did(y_sq[r], post, cohort)
        on_diff = did(diff[r], post, cohort)
        lo, hi = res.ci()
        truth = _mean_where(diff[r], tmask)
        rows.append(
            {
                "did": res.estimate,
                "se": res.se,
                "ci_low": lo,
                "ci_high": hi,
                "p": res.p,
                "reject": bool(res.p < 0.05) if np.isfinite(res.p) else False,
                "true_effect": truth,
                "covered": bool(lo <= truth <= hi) if np.isfinite(lo) else False,
                "placebo_did": placebo.estimate,
                "placebo_p": placebo.p,
                "placebo_reject": bool(placebo.p < 0.05) if np.isfinite(placebo.p) else False,
                "contamination": on_diff.estimate - truth,
                "comparison_change": _mean_where(diff[r], cmask),
                "status_quo_level": _mean_where(y_sq[r], tmask),
                "n_obs": res.n_obs,
                "n_clusters": res.n_clusters,
                "treated_la_years": res.n_treated_obs,
                **{f"did_{design.cohorts[k].name}": res.by_cohort.get(k, (np.nan,))[0] for k in treated_cohorts},
            }
        )
    return rows


@dataclass
class StudyPanels:
    """A study read for evaluation: annual outcomes and counts of the reform and the status quo
    (scenario dimension in that order) on the paired seeds, and the analyses (:func:`designs`)."""

    path: Path
    scenario: str
    baseline: str
    replicates: list[int]
    base_year: int
    stat_years: list[int]
    outcomes: list[str]
    counts: xr.Dataset
    annual: xr.Dataset
    analyses: list[Design]

    @property
    def child_population(self) -> dict[str, float]:
        return dict(zip(map(str, self.counts["la"].values), self.counts["child_population"].values.astype(float)))


def load_panels(
    path: str | Path,
    scenario: str | None = None,
    baseline: str = BASELINE,
    outcomes: Sequence[str] | None = None,
    rccs: Sequence[str] | None = None,
) -> StudyPanels:
    """Open a study and build its annual LA-level panels and analyses (checked: a clear
    :class:`EvaluationError` for a study that cannot be evaluated). ``rccs``: the RCCs to evaluate
    (names or patterns; default all, see :func:`designs`)."""
    path = Path(path)
    ds, scenario, baseline, reps = open_paired(path, scenario, baseline)
    cfg = scenario_config(ds, path, scenario)
    names = list(outcomes or ANNUAL_OUTCOMES)
    bad = [n for n in names if n not in ANNUAL_OUTCOMES]
    if bad:
        raise EvaluationError(f"unknown outcome(s) {bad}; choose from {list(ANNUAL_OUTCOMES)}")
    cohorts = rcc_cohorts(cfg)
    designs(cohorts, [str(x) for x in ds["la"].values], [], cfg.sim.start_year, path, rccs)  # treated, comparison?
    counts = annual_counts(ds)
    years = [int(y) for y in counts["stat_year"].values]
    if not years:
        raise EvaluationError(f"{path}: the runs end before their first 31 March: no complete statistical year")
    ann = annual_outcomes(counts)
    all_designs = designs(cohorts, [str(x) for x in counts["la"].values], years, cfg.sim.start_year, path, rccs)
    first = all_designs[0]
    if not any(
        (first.post[first.cohort == k] == 0).any() and (first.post[first.cohort == k] > 0).any()
        for k in range(len(first.cohorts))
    ):
        lives = ", ".join(f"{c.name} live {c.live_years:g} years after the base date" for c in first.cohorts)
        raise EvaluationError(
            f"{path}: statistical years {years[0]}-{years[-1]} hold no RCC with both a year before "
            f"and a year after its go-live ({lives}); run the study for longer"
        )
    return StudyPanels(path, scenario, baseline, reps, cfg.sim.start_year, years, names, counts, ann, all_designs)


def evaluate(
    path: str | Path,
    scenario: str | None = None,
    baseline: str = BASELINE,
    outcomes: Sequence[str] | None = None,
    panels: StudyPanels | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Run today's DiD evaluation (TWFE, CR1) on a study: (summary, by_replicate, panel) tables.

    ``summary`` has one row per analysis, outcome and horizon; ``by_replicate`` one per replicate
    as well; ``panel`` is the annual LA-level data of both scenarios (for the evaluation partner's
    own estimators). ``panels``: the study already read by :func:`load_panels`. The other designs
    (wild bootstrap, randomisation inference, Callaway-Sant'Anna, synthetic DiD, event study, and
    comparison groups): :mod:`rcc_sim.studies.evaluation_designs`.
    """
    p = panels or load_panels(path, scenario, baseline, outcomes)
    ann, counts, all_designs, years, reps, names = (
        p.annual,
        p.counts,
        p.analyses,
        p.stat_years,
        p.replicates,
        p.outcomes,
    )
    path, scenario, baseline = p.path, p.scenario, p.baseline

    rep_rows, sum_rows = [], []
    for design in all_designs:
        sub = ann.sel(la=design.la)
        for name in names:
            y = sub[name].transpose("scenario", "replicate", "la", "stat_year").values
            y_pf, y_sq = y[0], y[1]
            for h in range(1, len(years) + 1):
                rows = _horizon_rows(design, y_pf, y_sq, h)
                if rows is None:
                    continue
                key = {
                    "analysis": design.name,
                    "outcome": name,
                    "units": ANNUAL_OUTCOMES[name].units,
                    "horizon_years": h,
                    "last_stat_year": years[h - 1],
                    "pre_years": int((design.post[design.cohort >= 0, :h] == 0).all(0).sum()),
                    "post_years": int((design.post[design.cohort >= 0, :h] > 0).any(0).sum()),
                    "n_treated_las": design.n_treated,
                    "n_comparison_las": design.n_comparison,
                }
                for r, row in zip(reps, rows):
                    rep_rows.append({**key, "replicate": r, **row})
                sum_rows.append({**key, **_summarise(pd.DataFrame(rows))})
    panel = _panel(ann, counts, all_designs[0], years)
    summary = pd.DataFrame(sum_rows)
    summary.attrs.update(
        study=str(path),
        scenario=scenario,
        baseline=baseline,
        replicates=reps,
        cohorts=all_designs[0].cohorts,
        base_year=p.base_year,
        stat_years=years,
    )
    return summary, pd.DataFrame(rep_rows), panel


def _summarise(rows: pd.DataFrame) -> dict:
    n = len(rows)
    se_rms = float(np.sqrt(np.nanmean(rows["se"] ** 2))) if rows["se"].notna().any() else np.nan
    truth = float(rows["true_effect"].mean())
    did_sd = float(rows["did"].std(ddof=1)) if n > 1 else np.nan
    bias = rows["did"] - rows["true_effect"]
    sq = float(rows["status_quo_level"].mean())
    mde = MDE_FACTOR * se_rms
    power = analytic_power(truth, se_rms)
    return {
        "n_replicates": n,
        "status_quo_level": sq,
        "true_effect": truth,
        "true_effect_sd": float(rows["true_effect"].std(ddof=1)) if n > 1 else np.nan,
        "did_mean": float(rows["did"].mean()),
        "did_sd": did_sd,
        "bias": float(bias.mean()),
        "bias_se": float(bias.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan,
        "bias_noise": float(rows["placebo_did"].mean()),
        "bias_contamination": float(rows["contamination"].mean()),
        "comparison_change": float(rows["comparison_change"].mean()),
        "se": se_rms,
        "se_ratio": did_sd / se_rms if se_rms > 0 else np.nan,
        "true_effect_pct_of_status_quo": 100 * truth / abs(sq) if sq else np.nan,
        "mde": mde,
        "mde_pct_of_status_quo": 100 * mde / abs(sq) if sq else np.nan,
        "power_empirical": float(rows["reject"].mean()),
        "power_analytic": power,
        "placebo_rejection_rate": float(rows["placebo_reject"].mean()),
        "coverage": float(rows["covered"].mean()),
        "detectable": bool(np.isfinite(truth) and mde > 0 and abs(truth) >= mde),
    }


def _panel(ann: xr.Dataset, counts: xr.Dataset, design: Design, years: list[int]) -> pd.DataFrame:
    """Annual LA-level outcomes and counts of both scenarios, one row per scenario, replicate, LA and
    statistical year, with the LA's RCC ("" for a comparison LA) and whether the year is post."""
    rcc = {x: design.cohorts[k].name if k >= 0 else "" for x, k in zip(design.la, design.cohort)}
    post = {x: p for x, p in zip(design.la, design.post)}
    data = xr.merge(
        [
            ann,
            counts[["children_in_care", "children_in_care_31mar", "weeks"]].rename(
                children_in_care="child_weeks_in_care"
            ),
        ]
    )
    data = data.drop_vars([c for c in data.coords if c not in ("scenario", "replicate", "la", "stat_year")])
    df = data.to_dataframe().reset_index()
    df = df[df["la"].isin(rcc)]
    names = dict(zip(counts["la"].values, counts["la_name"].values))
    regions = dict(zip(counts["la"].values, counts["region"].values))
    pos = {y: i for i, y in enumerate(years)}
    df = df.assign(
        la_name=df["la"].map(names),
        region=df["la"].map(regions),
        rcc=df["la"].map(rcc),
        post=[int(post[x][pos[y]]) for x, y in zip(df["la"], df["stat_year"])],
    )
    first = ["scenario", "replicate", "la", "la_name", "region", "rcc", "stat_year", "post"]
    df = df[first + [c for c in df.columns if c not in first]]
    return df.sort_values(["scenario", "replicate", "la", "stat_year"]).reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------
def signed(v: float, units: str, whole_from: float = 100) -> str:
    """A difference in the text reports: percentage points for shares, else three significant
    figures below ``whole_from`` and a whole number from it; 'n/a' when not finite."""
    if not np.isfinite(v):
        return "n/a"
    if units == "share":
        return f"{100 * v:+.2f} pp"
    return f"{v:+,.3g}" if abs(v) < whole_from else f"{v:+,.0f}"


def text_report(summary: pd.DataFrame) -> str:
    a = summary.attrs
    cohorts = a.get("cohorts", [])
    lines = [
        f"Difference-in-differences on simulated data: {a.get('scenario')} vs {a.get('baseline')}",
        f"study {a.get('study')}; replicates (seeds) {a.get('replicates')}; statistical years "
        f"{a.get('stat_years', ['?'])[0]}-{a.get('stat_years', ['?'])[-1]} (April-March)",
        "go-live: "
        + "; ".join(f"{c.name} {c.live_years:g} years after 31 March {a.get('base_year')}" for c in cohorts),
        "Estimator: TWFE (LA + year), one term per RCC, LA-clustered SE (CR1), t(G-1). Truth: paired "
        "difference with the status quo (same seeds) over the treated post LA-years.",
        f"MDE = {MDE_FACTOR:.2f} x SE (80% power, 5% two-sided); power: share of replicates rejecting 0 at 5% "
        "(emp.) and analytic from SE and the true effect (an.); placebo: rejection rate of the same design "
        "on the status-quo runs (should be ~5%).",
        "",
    ]
    full = summary.loc[
        summary.groupby(["analysis", "outcome"])["horizon_years"].transform("max") == summary["horizon_years"]
    ]
    head = (
        f"{'outcome':24s} {'SQ level':>10s} {'true eff.':>11s} {'DiD mean':>11s} {'bias':>10s} {'SE':>9s} "
        f"{'MDE':>9s} {'MDE %SQ':>8s} {'power emp/an':>13s} {'placebo':>8s} {'cover':>6s} {'detect':>6s}"
    )
    for analysis, g in full.groupby("analysis", sort=False):
        r0 = g.iloc[0]
        lines += [
            f"== {analysis}: {r0['n_treated_las']} treated LAs vs {r0['n_comparison_las']} comparison LAs, "
            f"{r0['pre_years']} pre / {r0['post_years']} post years (horizon {r0['horizon_years']} years, to "
            f"31 March {r0['last_stat_year']}) ==",
            head,
        ]
        for _, r in g.iterrows():
            u = r["units"]
            lvl = f"{100 * r['status_quo_level']:.1f}%" if u == "share" else f"{r['status_quo_level']:,.3g}"
            lines.append(
                f"{r['outcome']:24s} {lvl:>10s} {signed(r['true_effect'], u):>11s} {signed(r['did_mean'], u):>11s} "
                f"{signed(r['bias'], u):>10s} {signed(r['se'], u).lstrip('+'):>9s} "
                f"{signed(r['mde'], u).lstrip('+'):>9s} {r['mde_pct_of_status_quo']:7.1f}% "
                f"{r['power_empirical']:5.2f}/{r['power_analytic']:5.2f}  {r['placebo_rejection_rate']:7.2f} "
                f"{r['coverage']:6.2f} {'yes' if r['detectable'] else 'no':>6s}"
            )
        lines.append("")
    lines.append("MDE by horizon (years of data from the base date):")
    for analysis, g in summary.groupby("analysis", sort=False):
        hs = sorted(g["horizon_years"].unique())
        lines.append(f"  {analysis}: " + "".join(f"{'h=' + str(h):>12s}" for h in hs))
        for name, gg in g.groupby("outcome", sort=False):
            u = gg["units"].iloc[0]
            by = dict(zip(gg["horizon_years"], gg["mde"]))
            lines.append(
                f"    {name:22s}" + "".join(f"{signed(by[h], u).lstrip('+') if h in by else '':>12s}" for h in hs)
            )
    lines += [
        "",
        "bias = noise (placebo DiD on the status quo) + contamination (DiD of the paired difference minus "
        "the truth: spill-overs onto the comparison LAs); see did_summary.csv for every column.",
        "cover: share of replicates whose 95% interval holds the true effect (should be ~0.95). detect: the "
        "true effect is at least the MDE; read it with the bias, placebo and cover columns - a design whose "
        "placebo rejects often (trends not parallel) or whose cover is low (spill-overs) detects the wrong "
        "effect, however small its MDE.",
    ]
    return "\n".join(lines) + "\n"


def write_tables(out: Path, tables: dict[str, pd.DataFrame], text_name: str, text: str) -> list[Path]:
    """Write each table as ``<name>.csv`` and the text report into ``out``; the files, text last.
    Full precision (no float_format): the tables must reproduce the runs exactly."""
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for name, df in tables.items():
        files.append(out / f"{name}.csv")
        df.to_csv(files[-1], index=False)
    files.append(out / text_name)
    files[-1].write_text(text)
    return files


def write_outputs(summary: pd.DataFrame, by_rep: pd.DataFrame, panel: pd.DataFrame, out: Path) -> list[Path]:
    return write_tables(
        out,
        {"did_summary": summary, "did_by_replicate": by_rep, "panel": panel},
        "did_summary.txt",
        text_report(summary),
    )
