"""Evaluation designs compared on simulated truth: which estimator, inference and comparison group
would detect the pathfinders' effect, by when, and how far off would it be?

    rcc-sim-evaluate outputs/studies/pathfinder_evaluation                    # every design
    rcc-sim-evaluate <study> --designs twfe_cr1,callaway_santanna --comparisons all,neighbours

The panels are :mod:`rcc_sim.studies.evaluation`'s (annual LA-level outcomes of the reform runs,
the status-quo runs on the same seeds as the counterfactual). A *design* is an estimator (with its
inference) applied with a comparison group; each is run per analysis (the RCCs pooled, then each
RCC), outcome, horizon (the first 2, 3 and 5 statistical years) and replicate.

**Estimators** (:data:`ESTIMATORS`; all but today's TWFE from the maintained ``diff-diff`` library):

- ``twfe_cr1`` - today's: TWFE, one term per RCC pooled by treated LA-years, CR1 errors, t(G-1)
  (:func:`rcc_sim.studies.evaluation.did`, checked against a brute-force dummy regression).
- ``twfe_wild`` - the same estimate; wild cluster *restricted* bootstrap (Webb six-point weights,
  999 draws, CI by test inversion: ``diff_diff.wild_bootstrap_se``), for few treated clusters. The
  pooled estimate is made one coefficient by re-parameterising the RCC terms.
- ``twfe_ri`` - the same estimate; randomisation inference over placebo assignments: each RCC's
  go-live given to as many randomly drawn comparison LAs (the treated LAs left out), 199 draws.
  p = share of placebo estimates at least as large in absolute value; 95% interval = estimate
  less the 97.5% and 2.5% placebo quantiles (Conley-Taber); SE = the placebo spread.
- ``callaway_santanna`` - ``diff_diff.CallawaySantAnna`` (never-treated comparisons, outcome
  regression, analytic influence-function SE), simple aggregation of ATT(g, t).
- ``synthetic_did`` - ``diff_diff.SyntheticDiD`` per RCC (its members against the comparison LAs;
  placebo variance, 100 draws; jackknife when there are no more comparison LAs than treated), pooled by
  treated LA-post-years with the RCCs' variances added (shared comparison LAs ignored).
- ``event_study`` - ``diff_diff.SunAbraham`` (interaction-weighted leads and lags, reference year
  -1, LA-clustered); reported: the post-period average and a joint Wald test of the leads
  (``pretrend_p``; NaN with a single pre-year).

**Comparison groups** (:data:`COMPARISONS`): ``all`` - every simulated LA in no RCC;
``neighbours`` - matched statistical neighbours (:func:`match_neighbours`: the k = 5 comparison
LAs nearest each treated LA on the standardised pre-period mean of the outcome and log child
population, in the observed (reform) runs, matched per replicate, outcome and horizon; their
union); ``se_non_members`` - the region's LAs that opted out of a region's RCC (Hampshire, Kent
and Slough for the South East), for that RCC's own analysis only.

**Truth and metrics** (:func:`summarise`): the true effect of a replicate is the mean over treated
post LA-years of (reform - status quo) on the same seed. Per design, outcome and horizon: bias
(mean estimate - truth), *spill-over bias* (the estimate on the observed panel less the estimate
with the comparison LAs given their status-quo values: what the shared market's response in the
comparison LAs does to the estimate), coverage of the 95% interval, power (share rejecting zero at
5%; and analytic from the SE), MDE = 2.8 x SE, the placebo rejection rate (the design on the
status-quo runs) and, for the event study, the pre-trend rejection rate. A design that fails on a
panel (a library refusing it, too few comparison LAs) is recorded with NaN and its reason in
``failure``; it never stops the others.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from rcc_sim.studies.evaluation import (
    ANNUAL_OUTCOMES,
    MDE_FACTOR,
    Cohort,
    Design,
    EvaluationError,
    _fe_residuals,
    _two_way_residuals,
    analytic_power,
    did,
    signed,
)

HORIZONS = (2, 3, 5)  # years of data from the base date (issue 14)
NEIGHBOURS_K = 5  # matched comparison LAs per treated LA
WILD_DRAWS = 999  # wild bootstrap draws (rcc-sim-evaluate --draws sets all three)
PLACEBO_DRAWS = 199  # randomisation inference: placebo assignments
SDID_DRAWS = 100  # synthetic DiD: placebo draws of its variance


def set_draws(n: int) -> None:
    """Bootstrap and placebo draws of every design (fewer: faster, coarser p-values and intervals)."""
    global WILD_DRAWS, PLACEBO_DRAWS, SDID_DRAWS
    if n < 19:
        raise DesignError(f"draws = {n}: at least 19 for a 5% test")
    WILD_DRAWS, PLACEBO_DRAWS, SDID_DRAWS = n, n, n


class DesignError(EvaluationError):
    """A design that cannot be applied to a panel; recorded as NaN with this message."""


# --------------------------------------------------------------------------------------------
# A panel and a fit
# --------------------------------------------------------------------------------------------
@dataclass
class Panel:
    """One analysis's LA-by-year panel: outcome, post indicator, RCC index (-1 = comparison)."""

    y: np.ndarray  # (la, year)
    post: np.ndarray  # (la, year) 0/1
    cohort: np.ndarray  # (la,)
    years: list[int]

    @property
    def treated(self) -> np.ndarray:
        return self.cohort >= 0

    def first_treat(self) -> np.ndarray:
        """The first post statistical year of each LA (0 for a comparison LA)."""
        on = self.post > 0
        first = np.array(self.years)[on.argmax(1)]
        return np.where(on.any(1), first, 0)

    def long(self) -> pd.DataFrame:
        """The panel as the long table diff-diff reads (one row per observed LA-year)."""
        n, t = self.y.shape
        df = pd.DataFrame(
            {
                "la": np.repeat(np.arange(n), t),
                "year": np.tile(self.years, n),
                "y": self.y.ravel(),
                "d": self.post.ravel().astype(int),
                "member": np.repeat(self.treated.astype(int), t),
                "first_treat": np.repeat(self.first_treat(), t),
            }
        )
        return df[np.isfinite(df["y"])].reset_index(drop=True)

    def with_y(self, y: np.ndarray) -> Panel:
        return Panel(y, self.post, self.cohort, self.years)

    def subset(self, keep: np.ndarray) -> Panel:
        return Panel(self.y[keep], self.post[keep], self.cohort[keep], self.years)

    def weights(self) -> dict[int, float]:
        """Each RCC's share of the treated post LA-years (how the pooled estimates are weighted)."""
        counts = {int(g): float((self.post[self.cohort == g] > 0).sum()) for g in np.unique(self.cohort[self.treated])}
        total = sum(counts.values())
        return {g: c / total for g, c in counts.items() if c > 0}


@dataclass
class Fit:
    estimate: float = np.nan
    se: float = np.nan
    ci_low: float = np.nan
    ci_high: float = np.nan
    p: float = np.nan
    pretrend_p: float = np.nan
    failure: str = ""


def _normal_fit(est: float, se: float, **extra) -> Fit:
    if not (np.isfinite(se) and se > 0):
        return Fit(est, se, np.nan, np.nan, np.nan, **extra)
    h = stats.norm.ppf(0.975) * se
    return Fit(est, se, est - h, est + h, float(2 * stats.norm.sf(abs(est / se))), **extra)


# --------------------------------------------------------------------------------------------
# Estimators: (panel, seed, inference) -> Fit; inference=False asks for the point estimate only
# --------------------------------------------------------------------------------------------
def fit_twfe_cr1(panel: Panel, seed: int, inference: bool = True) -> Fit:
    r = did(panel.y, panel.post, panel.cohort)
    if not np.isfinite(r.estimate):
        raise DesignError("TWFE: no RCC with both pre and post years")
    lo, hi = r.ci()
    return Fit(r.estimate, r.se, lo, hi, r.p)


def pooled_regressors(panel: Panel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(y, X, cluster ids) of today's TWFE with the LA and year effects partialled out, the RCC
    terms re-parameterised so that column 0's coefficient is the pooled estimate: with weights w,
    sum_g b_g D_g = theta D_1 / w_1 + sum_{g>1} b_g (D_g - w_g D_1 / w_1), theta = sum_g w_g b_g."""
    ok = np.isfinite(panel.y)
    w = panel.weights()
    labels = list(w)
    dcols = np.stack([panel.post * (panel.cohort == g)[:, None] for g in labels], axis=-1)
    first = dcols[..., 0] / w[labels[0]]
    cols = [first] + [dcols[..., j] - w[g] * first for j, g in enumerate(labels) if j > 0]
    x = np.stack([panel.y] + cols, axis=-1)
    z = _two_way_residuals(x)[ok] if ok.all() else _fe_residuals(x[ok], ok)
    return z[:, 0], z[:, 1:], np.nonzero(ok)[0]


def fit_twfe_wild(panel: Panel, seed: int, inference: bool = True) -> Fit:
    from diff_diff import wild_bootstrap_se

    est = fit_twfe_cr1(panel, seed, False).estimate
    if not inference:
        return Fit(est)
    y, x, clusters = pooled_regressors(panel)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = wild_bootstrap_se(x, y, np.zeros_like(y), clusters, 0, WILD_DRAWS, "webb", seed=seed)
    return Fit(est, r.se, r.ci_lower, r.ci_upper, r.p_value)


def placebo_estimates(panel: Panel, draws: int, seed: int) -> np.ndarray:
    """TWFE estimates with each RCC's go-live given to as many randomly drawn comparison LAs
    (the treated LAs left out): the distribution of the estimate when nothing happened."""
    comp = panel.subset(~panel.treated)
    sizes = {int(g): int((panel.cohort == g).sum()) for g in np.unique(panel.cohort[panel.treated])}
    n_comp = comp.y.shape[0]
    if n_comp < sum(sizes.values()) + 1:
        raise DesignError(
            f"randomisation inference: {n_comp} comparison LAs, too few for placebo assignments of "
            f"{sum(sizes.values())} treated LAs"
        )
    rows = {g: panel.post[np.flatnonzero(panel.cohort == g)[0]] for g in sizes}
    rng = np.random.default_rng(seed)
    out = np.full(draws, np.nan)
    for b in range(draws):
        order = rng.permutation(n_comp)
        cohort, post, k = np.full(n_comp, -1), np.zeros_like(comp.post), 0
        for g, m in sizes.items():
            cohort[order[k : k + m]], post[order[k : k + m]] = g, rows[g]
            k += m
        out[b] = did(comp.y, post, cohort).estimate
    return out[np.isfinite(out)]


def fit_twfe_ri(panel: Panel, seed: int, inference: bool = True) -> Fit:
    est = fit_twfe_cr1(panel, seed, False).estimate
    if not inference:
        return Fit(est)
    pl = placebo_estimates(panel, PLACEBO_DRAWS, seed)
    if pl.size < 19:
        raise DesignError(f"randomisation inference: only {pl.size} placebo estimates")
    p = (1 + (np.abs(pl) >= abs(est) - 1e-12).sum()) / (1 + pl.size)
    lo, hi = np.quantile(pl, [0.025, 0.975])
    return Fit(est, float(pl.std(ddof=1)), est - hi, est - lo, float(p))


def fit_callaway_santanna(panel: Panel, seed: int, inference: bool = True) -> Fit:
    from diff_diff import CallawaySantAnna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = CallawaySantAnna(control_group="never_treated", estimation_method="reg").fit(
            panel.long(), "y", "la", "year", "first_treat"
        )
    lo, hi = r.overall_conf_int
    return Fit(float(r.overall_att), float(r.overall_se), float(lo), float(hi), float(r.overall_p_value))


def fit_synthetic_did(panel: Panel, seed: int, inference: bool = True) -> Fit:
    from diff_diff import SyntheticDiD

    n_comp = int((~panel.treated).sum())
    est, var = 0.0, 0.0
    for g, w in panel.weights().items():
        sub = panel.subset((panel.cohort == g) | ~panel.treated)
        n_tr = int((sub.cohort == g).sum())
        method = "placebo" if n_comp > n_tr else "jackknife"
        post_years = [y for y, on in zip(panel.years, sub.post[sub.cohort == g][0]) if on > 0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = SyntheticDiD(variance_method=method, n_bootstrap=SDID_DRAWS if inference else 2, seed=seed).fit(
                sub.long(), "y", "member", "la", "year", post_periods=post_years
            )
        est += w * float(r.att)
        var += w**2 * float(r.se) ** 2
    return _normal_fit(est, float(np.sqrt(var))) if inference else Fit(est)


def fit_event_study(panel: Panel, seed: int, inference: bool = True) -> Fit:
    from diff_diff import SunAbraham

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = SunAbraham(control_group="never_treated", cluster="la").fit(panel.long(), "y", "la", "year", "first_treat")
    lo, hi = r.overall_conf_int
    fit = Fit(float(r.overall_att), float(r.overall_se), float(lo), float(hi), float(r.overall_p_value))
    fit.pretrend_p = pretrend_p(r)
    return fit


def pretrend_p(r) -> float:
    """Joint Wald test (chi-squared) that every lead (event time < -1) is zero; NaN without leads."""
    index = [int(e) for e in (r.event_study_vcov_index or [])]
    leads = [i for i, e in enumerate(index) if e < -1]
    if not leads or r.event_study_vcov is None:
        return np.nan
    b = np.array([r.event_study_effects[index[i]]["effect"] for i in leads], dtype=np.float64)
    v = np.asarray(r.event_study_vcov, dtype=np.float64)[np.ix_(leads, leads)]
    if not np.isfinite(b).all() or not np.isfinite(v).all():
        return np.nan
    wald = float(b @ np.linalg.pinv(v) @ b)
    return float(stats.chi2.sf(wald, len(leads)))


@dataclass(frozen=True)
class Estimator:
    fn: Callable[[Panel, int, bool], Fit]
    inference: str
    description: str


ESTIMATORS: dict[str, Estimator] = {
    "twfe_cr1": Estimator(fit_twfe_cr1, "CR1, t(G-1)", "TWFE, one term per RCC (today's)"),
    "twfe_wild": Estimator(fit_twfe_wild, "wild cluster bootstrap (Webb)", "TWFE, one term per RCC"),
    "twfe_ri": Estimator(fit_twfe_ri, "randomisation inference", "TWFE, one term per RCC"),
    "callaway_santanna": Estimator(fit_callaway_santanna, "analytic (influence function)", "Callaway-Sant'Anna"),
    "synthetic_did": Estimator(fit_synthetic_did, "placebo / jackknife variance", "synthetic DiD per RCC"),
    "event_study": Estimator(fit_event_study, "LA-clustered; joint pre-trend test", "event study (Sun-Abraham)"),
}


def run_estimator(name: str, panel: Panel, seed: int, inference: bool = True) -> Fit:
    """``ESTIMATORS[name]`` on ``panel``; a failure is returned as a NaN fit with its reason."""
    try:
        return ESTIMATORS[name].fn(panel, seed, inference)
    except Exception as exc:  # noqa: BLE001 - a library refusing one panel must not stop the other designs
        return Fit(failure=f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:200])


# --------------------------------------------------------------------------------------------
# Comparison groups
# --------------------------------------------------------------------------------------------
COMPARISONS = {
    "all": "every simulated LA in no RCC",
    "neighbours": f"{NEIGHBOURS_K} nearest comparison LAs per treated LA (pre-period outcome, log child population)",
    "se_non_members": "the region's LAs that opted out of the RCC (the RCC's own analysis only)",
}


def match_neighbours(
    pre_outcome: np.ndarray, log_population: np.ndarray, treated: np.ndarray, k: int = NEIGHBOURS_K
) -> np.ndarray:
    """Matched statistical neighbours: for each treated LA the ``k`` comparison LAs nearest in
    Euclidean distance on the two features standardised over all LAs of the panel (mean 0, SD 1;
    a constant feature drops out), ties to the earlier LA; returns the mask of comparison LAs in
    the union of the matches."""
    feats = np.stack([pre_outcome, log_population], axis=1).astype(np.float64)
    sd = feats.std(0)
    z = np.where(sd > 0, (feats - feats.mean(0)) / np.where(sd > 0, sd, 1.0), 0.0)
    comp = np.flatnonzero(~treated & np.isfinite(z).all(1))
    chosen = np.zeros(len(treated), dtype=bool)
    for i in np.flatnonzero(treated):
        if not np.isfinite(z[i]).all():
            continue
        dist = np.sqrt(((z[comp] - z[i]) ** 2).sum(1))
        chosen[comp[np.argsort(dist, kind="stable")[:k]]] = True
    return chosen


def comparison_mask(
    comparison: str, panel: Panel, population: np.ndarray, la: Sequence[str], cohorts: Sequence[Cohort]
) -> np.ndarray | None:
    """The LAs of ``panel`` kept for a comparison group (treated LAs always kept); None where the
    group does not apply (``se_non_members`` outside the analysis of one RCC with LAs opting out)."""
    if comparison == "all":
        return np.ones(len(la), dtype=bool)
    if comparison == "neighbours":
        pre = (panel.post[panel.treated] == 0).all(0)  # years before any RCC of the panel is live
        if not pre.any():
            raise DesignError("neighbours: no pre-period year to match on")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            pre_mean = np.nanmean(panel.y[:, pre], axis=1)
        return panel.treated | match_neighbours(pre_mean, np.log(population), panel.treated)
    if comparison == "se_non_members":
        present = {int(g) for g in panel.cohort[panel.treated]}
        opt_out = {x for g in present for x in cohorts[g].opt_out}
        if len(present) != 1 or not opt_out:
            return None
        keep = panel.treated | np.isin(np.asarray(la), list(opt_out))
        if keep.sum() == panel.treated.sum():
            raise DesignError("se_non_members: none of the LAs that opted out is simulated")
        return keep
    raise DesignError(f"unknown comparison group {comparison!r}; choose from {list(COMPARISONS)}")


# --------------------------------------------------------------------------------------------
# One analysis, outcome and horizon over the replicates
# --------------------------------------------------------------------------------------------
def horizon_panel(design: Design, h: int, years: Sequence[int]) -> tuple[np.ndarray, Panel] | None:
    """The LAs and post indicator of ``design`` in the first ``h`` years: RCCs without both a pre
    and a post year in the window are left out (their members too). None if no RCC is left."""
    post = design.post[:, :h]
    ok_cohorts = design.identified_cohorts(h)
    if not ok_cohorts:
        return None
    keep = (design.cohort < 0) | np.isin(design.cohort, ok_cohorts)
    return keep, Panel(np.zeros((int(keep.sum()), h)), post[keep], design.cohort[keep], list(years[:h]))


def design_rows(
    design: Design,
    y_pf: np.ndarray,
    y_sq: np.ndarray,
    population: np.ndarray,
    h: int,
    years: Sequence[int],
    estimators: Sequence[str],
    comparisons: Sequence[str],
    seed: int = 0,
) -> list[dict]:
    """One row per comparison, estimator and replicate: the fits on the observed panel, on the
    status-quo panel (placebo) and with the comparison LAs at their status-quo values (spill-over),
    against the true effect. ``y_*``: (replicate, la, year) of ``design.la``."""
    hp = horizon_panel(design, h, years)
    if hp is None:
        return []
    keep, base = hp
    la = [x for x, k in zip(design.la, keep) if k]
    pop = population[keep]
    rows = []
    for r in range(y_pf.shape[0]):
        pf, sq = y_pf[r][keep, :h], y_sq[r][keep, :h]
        observed = base.with_y(pf)
        tmask = base.post > 0
        diff = pf - sq
        truth = float(np.nanmean(diff[tmask])) if np.isfinite(diff[tmask]).any() else np.nan
        sq_level = float(np.nanmean(sq[tmask])) if np.isfinite(sq[tmask]).any() else np.nan
        for comparison in comparisons:
            try:
                mask, why = comparison_mask(comparison, observed, pop, la, design.cohorts), ""
                if mask is None:
                    continue
            except DesignError as exc:
                mask, why = None, str(exc)
            for name in estimators:
                key = {"comparison": comparison, "estimator": name, "replicate_index": r}
                if mask is None:
                    rows.append({**key, "true_effect": truth, "status_quo_level": sq_level, "failure": why})
                    continue
                obs = observed.subset(mask)
                fit = run_estimator(name, obs, seed + r, True)
                placebo = run_estimator(name, obs.with_y(sq[mask]), seed + r, True)
                cf_y = np.where(obs.treated[:, None], pf[mask], sq[mask])
                no_spill = run_estimator(name, obs.with_y(cf_y), seed + r, False)
                rows.append(
                    {
                        **key,
                        "n_treated_las": int(obs.treated.sum()),
                        "n_comparison_las": int((~obs.treated).sum()),
                        "estimate": fit.estimate,
                        "se": fit.se,
                        "ci_low": fit.ci_low,
                        "ci_high": fit.ci_high,
                        "p": fit.p,
                        "true_effect": truth,
                        "status_quo_level": sq_level,
                        "covered": bool(fit.ci_low <= truth <= fit.ci_high) if np.isfinite(fit.ci_low) else np.nan,
                        "reject": bool(fit.p < 0.05) if np.isfinite(fit.p) else np.nan,
                        "placebo_estimate": placebo.estimate,
                        "placebo_reject": bool(placebo.p < 0.05) if np.isfinite(placebo.p) else np.nan,
                        "spillover": fit.estimate - no_spill.estimate,
                        "pretrend_p": fit.pretrend_p,
                        "pretrend_reject": bool(fit.pretrend_p < 0.05) if np.isfinite(fit.pretrend_p) else np.nan,
                        "failure": fit.failure or placebo.failure or no_spill.failure,
                    }
                )
    return rows


def _mean(s: pd.Series) -> float:
    v = pd.to_numeric(s, errors="coerce").astype("float64")
    return float(v.mean()) if v.notna().any() else np.nan


def summarise(rows: pd.DataFrame) -> dict:
    """Bias, spill-over bias, coverage, power, MDE and placebo rate of one design over replicates."""
    est = pd.to_numeric(rows["estimate"], errors="coerce") if "estimate" in rows else pd.Series(np.nan, rows.index)
    ok = rows[np.isfinite(est.astype("float64"))]
    n = len(ok)
    truth = _mean(rows["true_effect"])
    sq = _mean(rows["status_quo_level"])
    failures = [f for f in rows["failure"].fillna("") if f]
    out = {
        "n_replicates": len(rows),
        "n_fitted": n,
        "n_treated_las": _mean(rows["n_treated_las"]) if "n_treated_las" in rows else np.nan,
        "n_comparison_las": _mean(rows["n_comparison_las"]) if "n_comparison_las" in rows else np.nan,
        "status_quo_level": sq,
        "true_effect": truth,
    }
    if n == 0:
        nan = dict.fromkeys(
            ["estimate_mean", "estimate_sd", "bias", "bias_se", "spillover_bias", "noise_bias", "se", "mde"], np.nan
        )
        nan |= dict.fromkeys(["mde_pct_of_status_quo", "coverage", "power_empirical", "power_analytic"], np.nan)
        nan |= dict.fromkeys(["placebo_rejection_rate", "pretrend_rejection_rate"], np.nan)
        return out | nan | {"detectable": False, "failure": failures[0] if failures else "no replicate"}
    bias = ok["estimate"] - ok["true_effect"]
    se = float(np.sqrt(np.nanmean(ok["se"] ** 2))) if ok["se"].notna().any() else np.nan
    mde = MDE_FACTOR * se
    return out | {
        "estimate_mean": float(ok["estimate"].mean()),
        "estimate_sd": float(ok["estimate"].std(ddof=1)) if n > 1 else np.nan,
        "bias": float(bias.mean()),
        "bias_se": float(bias.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan,
        "spillover_bias": _mean(ok["spillover"]),
        "noise_bias": _mean(ok["placebo_estimate"]),
        "se": se,
        "mde": mde,
        "mde_pct_of_status_quo": 100 * mde / abs(sq) if sq else np.nan,
        "coverage": _mean(ok["covered"]),
        "power_empirical": _mean(ok["reject"]),
        "power_analytic": analytic_power(truth, se),
        "placebo_rejection_rate": _mean(ok["placebo_reject"]),
        "pretrend_rejection_rate": _mean(ok["pretrend_reject"]),
        "detectable": bool(np.isfinite(truth) and np.isfinite(mde) and mde > 0 and abs(truth) >= mde),
        "failure": failures[0] if failures else "",
    }


def _repeats_one_rcc(design: Design, h: int, years: Sequence[int], n_analyses: int) -> bool:
    """A pooled analysis in a window where only one of its RCCs has pre and post years repeats that
    RCC's own analysis: left out."""
    hp = horizon_panel(design, h, years)
    if hp is None or len(design.cohorts) < 2 or n_analyses < 2:
        return False
    return len(set(hp[1].cohort[hp[1].treated].tolist())) < 2


def compare_designs(
    all_designs: Sequence[Design],
    ann,
    population_by_la: dict[str, float],
    years: Sequence[int],
    reps: Sequence[int],
    outcomes: Sequence[str],
    estimators: Sequence[str] | None = None,
    comparisons: Sequence[str] | None = None,
    horizons: Sequence[int] = HORIZONS,
    progress: Callable[[str], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every design on every analysis, outcome and horizon: (summary, by_replicate) tables.
    ``ann``: the annual outcomes (scenario [reform, status quo], replicate, la, stat_year)."""
    estimators = list(estimators or ESTIMATORS)
    comparisons = list(comparisons or COMPARISONS)
    bad = [e for e in estimators if e not in ESTIMATORS] + [c for c in comparisons if c not in COMPARISONS]
    if bad:
        raise DesignError(f"unknown design(s) {bad}; estimators {list(ESTIMATORS)}, comparisons {list(COMPARISONS)}")
    by_rep, summary = [], []
    for design in all_designs:
        pop = np.array([population_by_la[x] for x in design.la], dtype=np.float64)
        sub = ann.sel(la=design.la)
        for name in outcomes:
            y = sub[name].transpose("scenario", "replicate", "la", "stat_year").values
            for h in horizons:
                if h > len(years) or _repeats_one_rcc(design, h, years, len(all_designs)):
                    continue
                if progress:
                    progress(f"{design.name} {name} h={h}")
                rows = pd.DataFrame(design_rows(design, y[0], y[1], pop, h, years, estimators, comparisons))
                if rows.empty:
                    continue
                key = {
                    "analysis": design.name,
                    "outcome": name,
                    "units": ANNUAL_OUTCOMES[name].units,
                    "horizon_years": h,
                    "last_stat_year": years[h - 1],
                }
                rows["replicate"] = [reps[i] for i in rows["replicate_index"]]
                by_rep.append(rows.drop(columns="replicate_index").assign(**key))
                for (comparison, est), g in rows.groupby(["comparison", "estimator"], sort=False):
                    summary.append(
                        {
                            **key,
                            "design": f"{est}/{comparison}",
                            "estimator": est,
                            "inference": ESTIMATORS[est].inference,
                            "comparison": comparison,
                            **summarise(g),
                        }
                    )
    first = ["analysis", "outcome", "units", "horizon_years", "last_stat_year", "comparison", "estimator", "replicate"]
    reps_df = pd.concat(by_rep, ignore_index=True) if by_rep else pd.DataFrame(columns=first)
    reps_df = reps_df[first + [c for c in reps_df.columns if c not in first]]
    return pd.DataFrame(summary), reps_df


# --------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------
def design_text(summary: pd.DataFrame) -> str:
    """The design table: per analysis and outcome, each design's bias, spill-over bias, coverage,
    power and MDE by horizon."""
    lines = [
        "Evaluation designs compared on simulated truth (rcc_sim/studies/evaluation_designs.py)",
        "design = estimator/comparison group. bias: mean estimate - true effect; spill: spill-over bias "
        "(estimate less the estimate with comparison LAs at status quo); cover: 95% CI holds the truth; "
        "power: share rejecting 0 at 5%; MDE = 2.8 x SE; placebo: rejection rate on the status-quo runs; "
        "pretr: pre-trend rejection rate (event study).",
        "",
    ]
    if summary.empty:
        return "\n".join(lines + ["(no design could be applied: no horizon with pre and post years)"]) + "\n"
    head = (
        f"  {'design':36s} {'h':>2s} {'true eff.':>10s} {'bias':>10s} {'spill':>10s} {'MDE':>9s} "
        f"{'cover':>5s} {'power':>5s} {'placebo':>7s} {'pretr':>5s}  note"
    )
    f2 = lambda v: f"{v:5.2f}" if np.isfinite(v) else "  n/a"
    for (analysis, outcome), g in summary.groupby(["analysis", "outcome"], sort=False):
        u = g["units"].iloc[0]
        lines += [f"== {analysis}: {outcome} ({u}) ==", head]
        for _, r in g.iterrows():
            lines.append(
                f"  {r['design']:36s} {r['horizon_years']:>2d} {signed(r['true_effect'], u):>10s} "
                f"{signed(r['bias'], u):>10s} {signed(r['spillover_bias'], u):>10s} "
                f"{signed(r['mde'], u).lstrip('+'):>9s} {f2(r['coverage'])} {f2(r['power_empirical'])} "
                f"{f2(r['placebo_rejection_rate']):>7s} {f2(r['pretrend_rejection_rate'])}  {r['failure'][:60]}"
            )
        lines.append("")
    return "\n".join(lines) + "\n"


def write_design_outputs(summary: pd.DataFrame, by_rep: pd.DataFrame, out: Path) -> list[Path]:
    from rcc_sim.studies.evaluation import write_tables

    return write_tables(
        out,
        {"design_summary": summary, "design_by_replicate": by_rep},
        "design_summary.txt",
        design_text(summary),
    )


def evaluate_designs(
    panels,
    estimators: Sequence[str] | None = None,
    comparisons: Sequence[str] | None = None,
    horizons: Sequence[int] = HORIZONS,
    progress: Callable[[str], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`compare_designs` on a study read by :func:`rcc_sim.studies.evaluation.load_panels`."""
    summary, by_rep = compare_designs(
        panels.analyses,
        panels.annual,
        panels.child_population,
        panels.stat_years,
        panels.replicates,
        panels.outcomes,
        estimators,
        comparisons,
        horizons,
        progress,
    )
    summary.attrs.update(study=str(panels.path), scenario=panels.scenario, baseline=panels.baseline)
    return summary, by_rep
