"""Evaluation designs (rcc_sim/studies/evaluation_designs.py): hand checks of the estimators on
tiny panels, each design recovering a known effect without noise, the inference under the null
(randomisation p-values about uniform, the wild bootstrap interval covering), the matched
neighbours as documented, failures recorded rather than raised, and the opt-out LAs of a region's
RCC as its comparison group. The end-to-end run on a small study is in tests/test_evaluation.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rcc_sim.studies import evaluation_designs as ed
from rcc_sim.studies.evaluation import Cohort, Design, did
from rcc_sim.studies.evaluation_designs import (
    ESTIMATORS,
    Panel,
    design_rows,
    match_neighbours,
    placebo_estimates,
    run_estimator,
    summarise,
)

YEARS = [2025, 2026, 2027, 2028, 2029]


def staggered(rng, effect=0.5, noise=0.0, units=40, sizes=(5, 7), starts=(2, 3)):
    """LA and year effects, RCC k of ``sizes[k]`` LAs live from period ``starts[k]``, a constant
    effect, and iid noise."""
    t = len(YEARS)
    cohort, post = np.full(units, -1), np.zeros((units, t))
    k0 = 0
    for k, (m, s) in enumerate(zip(sizes, starts)):
        cohort[k0 : k0 + m], post[k0 : k0 + m, s:] = k, 1.0
        k0 += m
    y = rng.normal(0, 1, (units, 1)) + rng.normal(0, 1, (1, t)) + effect * post + rng.normal(0, noise, (units, t))
    return Panel(y, post, cohort, YEARS)


# --------------------------------------------------------------------------------------------
# Hand checks
# --------------------------------------------------------------------------------------------
def test_twfe_with_two_periods_is_the_two_by_two_difference_of_means():
    rng = np.random.default_rng(0)
    y = rng.normal(0, 1, (9, 2))
    post = np.zeros((9, 2))
    post[:3, 1] = 1
    cohort = np.where(np.arange(9) < 3, 0, -1)
    hand = (y[:3, 1].mean() - y[:3, 0].mean()) - (y[3:, 1].mean() - y[3:, 0].mean())
    panel = Panel(y, post, cohort, [2025, 2026])
    for name in ("twfe_cr1", "twfe_wild", "twfe_ri", "callaway_santanna", "event_study"):
        fit = run_estimator(name, panel, 0)
        assert fit.estimate == pytest.approx(hand, abs=1e-10), (name, fit)


def test_callaway_santanna_is_the_hand_computed_average_of_group_time_effects():
    """ATT(g, t) = change of cohort g from g-1 to t less the never-treated's change; the simple
    aggregation weights each post (g, t) cell by the cohort's size."""
    rng = np.random.default_rng(1)
    panel = staggered(rng, effect=0.3, noise=0.4, units=14, sizes=(3, 4), starts=(2, 3))
    y, never = panel.y, panel.cohort < 0
    cells, weights = [], []
    for g, start in ((0, 2), (1, 3)):
        members = panel.cohort == g
        for t in range(start, len(YEARS)):
            att = (y[members, t] - y[members, start - 1]).mean() - (y[never, t] - y[never, start - 1]).mean()
            cells.append(att)
            weights.append(members.sum())
    hand = np.average(cells, weights=weights)
    fit = run_estimator("callaway_santanna", panel, 0)
    assert fit.failure == ""
    assert fit.estimate == pytest.approx(hand, rel=1e-9)


def test_wild_bootstrap_keeps_todays_pooled_estimate_and_its_cr1_se():
    panel = staggered(np.random.default_rng(2), noise=0.3)
    today = did(panel.y, panel.post, panel.cohort)
    wild = run_estimator("twfe_wild", panel, 0)
    assert wild.estimate == pytest.approx(today.estimate, rel=1e-12)
    assert wild.se == pytest.approx(today.se, rel=0.05)  # CR1 of the re-parameterised term (K counted apart)
    assert wild.ci_low < today.estimate < wild.ci_high


# --------------------------------------------------------------------------------------------
# Known effects and inference
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_each_design_recovers_a_known_effect_without_noise(name):
    panel = staggered(np.random.default_rng(3), effect=0.5, noise=0.0)
    fit = run_estimator(name, panel, 0)
    assert fit.failure == "" and fit.estimate == pytest.approx(0.5, abs=1e-8), fit
    assert fit.ci_low <= 0.5 + 1e-8 and fit.ci_high >= 0.5 - 1e-8 and fit.p < 0.05


def test_randomisation_p_values_are_about_uniform_under_no_effect(monkeypatch):
    monkeypatch.setattr(ed, "PLACEBO_DRAWS", 99)
    rng = np.random.default_rng(4)
    ps = []
    for _ in range(40):
        panel = staggered(rng, effect=0.0, noise=0.5, units=24, sizes=(3, 3))
        ps.append(run_estimator("twfe_ri", panel, int(rng.integers(1 << 30))).p)
    ps = np.array(ps)
    assert 0.35 < ps.mean() < 0.65, ps.mean()
    assert (ps < 0.05).mean() <= 0.15 and (ps < 0.5).mean() == pytest.approx(0.5, abs=0.2)
    assert ps.min() >= 1 / (ed.PLACEBO_DRAWS + 1)


def test_wild_bootstrap_interval_covers_the_effect():
    rng = np.random.default_rng(5)
    covered = []
    for _ in range(30):
        panel = staggered(rng, effect=0.4, noise=0.5, units=24, sizes=(3, 3))
        fit = run_estimator("twfe_wild", panel, int(rng.integers(1 << 30)))
        covered.append(fit.ci_low <= 0.4 <= fit.ci_high)
    assert np.mean(covered) >= 0.85


def test_placebo_assignments_leave_the_treated_out_and_keep_each_rccs_timing():
    panel = staggered(np.random.default_rng(6), effect=5.0, noise=0.1, units=30)
    pl = placebo_estimates(panel, 50, seed=0)
    assert pl.size == 50 and np.abs(pl).max() < 1.0  # the treated LAs' large effect is never drawn


# --------------------------------------------------------------------------------------------
# Comparison groups
# --------------------------------------------------------------------------------------------
def test_matched_neighbours_are_the_k_nearest_on_standardised_features():
    # one treated LA at (0, 0) after standardising; comparisons on a line at growing distances
    pre = np.array([0.0, 1.0, -2.0, 3.0, 0.5, 10.0, -0.2])
    pop = np.zeros(7)  # a constant feature drops out
    treated = np.array([True, False, False, False, False, False, False])
    got = match_neighbours(pre, pop, treated, k=3)
    assert np.flatnonzero(got).tolist() == [1, 4, 6]  # |0.2| < |0.5| < |1.0| < |2| ...
    # two treated LAs: the union of their matches; ties go to the earlier LA
    treated = np.array([True, False, False, False, False, True, False])
    got = match_neighbours(pre, pop, treated, k=1)
    assert np.flatnonzero(got).tolist() == [3, 6]  # 0 -> -0.2 (index 6); 10 -> 3 (index 3)
    # standardised, the population counts as much as the outcome: a comparison LA as far off on
    # the one as another is on the other is a tie (the earlier LA is taken)
    pre2, pop2 = np.array([0.0, 0.0, 1.0]), np.log([1e5, 1e6, 1e5])
    assert np.flatnonzero(match_neighbours(pre2, pop2, np.array([True, False, False]), k=1)).tolist() == [1]
    assert np.flatnonzero(match_neighbours(pre2[::-1], pop2[::-1], np.array([False, False, True]), k=1)).tolist() == [0]


def _design(n_treated=4, n_comp=8, opt_out=()):
    la = [f"T{i}" for i in range(n_treated)] + [f"C{i}" for i in range(n_comp)]
    cohort = np.array([0] * n_treated + [-1] * n_comp)
    post = np.zeros((len(la), len(YEARS)))
    post[:n_treated, 2:] = 1
    c = Cohort("south_east", tuple(la[:n_treated]), 0.5, 2.0, tuple(opt_out))
    return Design("south_east", la, cohort, [c], post)


def two_way(rng, reps, las=12):
    """LA plus year effects, no noise: (replicate, la, year)."""
    return rng.normal(0, 1, (reps, las, 1)) + rng.normal(0, 1, (reps, 1, len(YEARS)))


def test_opt_out_las_are_the_comparison_group_of_their_regions_rcc():
    design = _design(opt_out=("C1", "C4", "C6"))
    rng = np.random.default_rng(7)
    y = two_way(rng, 2) + 0.3 * design.post
    rows = design_rows(design, y, y - 0.3 * design.post, np.full(12, 1e5), 5, YEARS, ["twfe_cr1"], ["se_non_members"])
    assert len(rows) == 2 and {r["n_comparison_las"] for r in rows} == {3}
    assert all(r["estimate"] == pytest.approx(0.3) and r["true_effect"] == pytest.approx(0.3) for r in rows)
    # an RCC with no opt-outs: the group does not apply (no rows), the others do
    rows = design_rows(_design(), y, y, np.full(12, 1e5), 5, YEARS, ["twfe_cr1"], ["se_non_members", "all"])
    assert {r["comparison"] for r in rows} == {"all"}


def test_spillover_bias_is_what_the_comparison_las_response_does_to_the_estimate():
    design = _design()
    sq = two_way(np.random.default_rng(8), 1)
    pf = sq + 0.3 * design.post
    pf[:, 4:, 2:] += 0.1  # the comparison LAs move by +0.1 once the RCC is live (shared market)
    (row,) = design_rows(design, pf, sq, np.full(12, 1e5), 5, YEARS, ["twfe_cr1"], ["all"])
    assert row["true_effect"] == pytest.approx(0.3)
    assert row["estimate"] == pytest.approx(0.2) and row["spillover"] == pytest.approx(-0.1)
    assert row["placebo_estimate"] == pytest.approx(did(sq[0], design.post, design.cohort).estimate)


# --------------------------------------------------------------------------------------------
# Failures recorded, not raised
# --------------------------------------------------------------------------------------------
def test_a_design_failure_is_recorded_not_raised(monkeypatch):
    panel = staggered(np.random.default_rng(9), units=14, sizes=(5, 5))  # 4 comparison LAs for 10 treated
    fit = run_estimator("twfe_ri", panel, 0)
    assert np.isnan(fit.estimate) and "too few for placebo assignments" in fit.failure

    def broken(panel, seed, inference=True):
        raise RuntimeError("the library refuses this panel\nsecond line")

    monkeypatch.setitem(ESTIMATORS, "callaway_santanna", ed.Estimator(broken, "-", "broken"))
    design = _design()
    y = np.random.default_rng(10).normal(0, 1, (2, 12, 5))
    rows = pd.DataFrame(
        design_rows(design, y, y, np.full(12, 1e5), 5, YEARS, ["callaway_santanna", "twfe_cr1"], ["all"])
    )
    bad, good = rows[rows["estimator"] == "callaway_santanna"], rows[rows["estimator"] == "twfe_cr1"]
    assert (bad["failure"] == "RuntimeError: the library refuses this panel").all() and bad["estimate"].isna().all()
    assert good["estimate"].notna().all() and (good["failure"] == "").all()
    s = summarise(bad)
    assert s["n_fitted"] == 0 and np.isnan(s["bias"]) and s["failure"].startswith("RuntimeError")
    assert summarise(good)["n_fitted"] == 2
