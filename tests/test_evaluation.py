"""Evaluation design and roll-out appraisal (rcc_sim/evaluation.py, rcc_sim/rollout.py).

The DiD estimator on synthetic panels with a known effect; discounting on a known series; one
small study end to end (Greater Manchester plus six North West comparison LAs, two years, two
seeds) checked against sums taken straight from the runs; and the clear errors for studies that
cannot be evaluated.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import CONFIG_DIR, rcc_sim_command
from hydra import compose, initialize_config_dir

from rcc_sim.cli import evaluate as evaluate_main
from rcc_sim.cli import rollout as rollout_main
from rcc_sim.config import register_configs, to_object
from rcc_sim.run import simulate, write_run
from rcc_sim.studies.compare import NET_COST_TERMS, _net_cost
from rcc_sim.studies.evaluation import (
    MDE_FACTOR,
    POOLED_SELECTED,
    Cohort,
    EvaluationError,
    analytic_power,
    did,
    evaluate,
    live_share,
    post_indicator,
    rcc_cohorts,
)
from rcc_sim.studies.evaluation import designs as make_designs
from rcc_sim.studies.evaluation_designs import ESTIMATORS
from rcc_sim.studies.rollout import GREEN_BOOK_RATE, appraise, discount_factors, interval, present_value
from rcc_sim.studies.study import open_study

GM = [f"E080000{i:02d}" for i in range(1, 11)]  # the ten Greater Manchester LAs (pathfinder members)
NW_OTHERS = ["E06000007", "E06000008", "E06000009", "E06000049", "E06000050", "E10000017"]  # comparison LAs
CUMBRIA = ["E06000063", "E06000064"]  # in no RCC of the pathfinders policy


# --------------------------------------------------------------------------------------------
# The estimator on synthetic panels
# --------------------------------------------------------------------------------------------
def panel(rng, effect=0.0, units=100, periods=5, treated=30, start=2, rho=0.0):
    """LA and year effects, a constant effect on treated LAs from period ``start``, and noise
    with autocorrelation ``rho`` within an LA (what clustering is for)."""
    e = rng.normal(0.0, 0.5, (units, periods))
    for t in range(1, periods):
        e[:, t] = rho * e[:, t - 1] + np.sqrt(1 - rho**2) * e[:, t]
    d = np.zeros((units, periods))
    d[:treated, start:] = 1.0
    y = rng.normal(0, 1, (units, 1)) + rng.normal(0, 1, (1, periods)) + effect * d + e
    return y, d


def dummy_ols(y, d, cohort):
    """Brute-force check: OLS on LA and year dummies, cluster-robust (CR1) by LA."""
    ok = np.isfinite(y)
    uu, tt = np.nonzero(ok)
    n_u, n_t = y.shape
    labels = [g for g in np.unique(cohort) if g >= 0]
    x = np.zeros((len(uu), n_u + n_t - 1 + len(labels)))
    x[np.arange(len(uu)), uu] = 1
    later = tt > 0
    x[np.flatnonzero(later), n_u + tt[later] - 1] = 1
    for j, g in enumerate(labels):
        x[:, n_u + n_t - 1 + j] = d[uu, tt] * (cohort[uu] == g)
    b, *_ = np.linalg.lstsq(x, y[ok], rcond=None)
    e = y[ok] - x @ b
    bread = np.linalg.pinv(x.T @ x)
    s = np.zeros((n_u, x.shape[1]))
    np.add.at(s, uu, x * e[:, None])
    k = n_t + len(labels)
    v = n_u / (n_u - 1) * (len(uu) - 1) / (len(uu) - k) * bread @ s.T @ s @ bread
    return b[-len(labels) :], np.sqrt(np.diag(v)[-len(labels) :])


def test_did_recovers_a_known_effect_within_its_interval():
    rng = np.random.default_rng(1)
    y, d = panel(rng, effect=0.4)
    r = did(y, d)
    lo, hi = r.ci()
    assert lo < 0.4 < hi
    assert abs(r.estimate - 0.4) < 3 * r.se
    assert r.p < 0.05 and r.n_clusters == 100 and r.df == 99 and r.n_treated_obs == 30 * 3


def test_did_with_no_effect_rejects_about_five_percent_and_se_matches_the_spread():
    rng = np.random.default_rng(2)
    results = [did(*panel(rng, effect=0.0, rho=0.6)) for _ in range(400)]
    rejections = np.mean([r.p < 0.05 for r in results])
    assert 0.02 <= rejections <= 0.10, rejections
    spread = np.std([r.estimate for r in results], ddof=1)
    se = np.sqrt(np.mean([r.se**2 for r in results]))
    assert 0.85 < spread / se < 1.2, (spread, se)  # clustered SE ~ the true sampling SD
    assert abs(np.mean([r.estimate for r in results])) < 3 * spread / np.sqrt(400)


def test_clustering_matters_when_errors_persist_within_an_la():
    """With persistent LA-level shocks, the estimate's spread is well above the iid-OLS SE but the
    clustered SE tracks it."""
    rng = np.random.default_rng(3)
    est, se, iid = [], [], []
    for _ in range(200):
        y, d = panel(rng, periods=8, start=4)
        y = y + np.cumsum(rng.normal(0, 0.8, y.shape), axis=1)  # a random walk within each LA
        r = did(y, d)
        est.append(r.estimate)
        se.append(r.se)
        # iid OLS SE from the same regression (sigma^2 / sum of residualised D^2)
        yd = y - y.mean(0) - y.mean(1, keepdims=True) + y.mean()
        dd = d - d.mean(0) - d.mean(1, keepdims=True) + d.mean()
        resid = yd - r.estimate * dd
        iid.append(np.sqrt((resid**2).sum() / (y.size - 100 - 8) / (dd**2).sum()))
    spread = np.std(est, ddof=1)
    assert spread > 1.5 * np.mean(iid)
    assert 0.8 < spread / np.sqrt(np.mean(np.square(se))) < 1.25


def test_staggered_cohorts_match_brute_force_ols_with_clustered_se():
    rng = np.random.default_rng(4)
    units, periods = 60, 6
    cohort = np.full(units, -1)
    cohort[:10], cohort[10:25] = 0, 1
    d = np.zeros((units, periods))
    d[:10, 2:], d[10:25, 4:] = 1, 1
    y = (
        rng.normal(0, 1, (units, 1))
        + rng.normal(0, 1, (1, periods))
        + np.where(cohort[:, None] == 0, 0.6, 0.2) * d
        + rng.normal(0, 0.3, (units, periods))
    )
    y[7, 3] = np.nan  # unbalanced: the dummy-regression path
    r = did(y, d, cohort)
    b, se = dummy_ols(y, d, cohort)
    assert np.allclose([r.by_cohort[0][0], r.by_cohort[1][0]], b)
    assert np.allclose([r.by_cohort[0][1], r.by_cohort[1][1]], se)
    w = np.array([10 * 4 - 1, 15 * 2]) / (10 * 4 - 1 + 15 * 2)  # treated LA-years of each cohort
    assert r.estimate == pytest.approx(w @ b)
    assert abs(r.by_cohort[0][0] - 0.6) < 3 * r.by_cohort[0][1] and abs(r.by_cohort[1][0] - 0.2) < 3 * r.by_cohort[1][1]
    # balanced panels take the two-way demeaning path: same answer as the dummies
    y[7, 3] = 0.0
    assert did(y, d, cohort).by_cohort[0][0] == pytest.approx(dummy_ols(y, d, cohort)[0][0])


def test_did_without_a_pre_period_is_not_identified():
    y, d = panel(np.random.default_rng(5), effect=1.0, start=0)
    r = did(y, d)
    assert np.isnan(r.estimate) and np.isnan(r.p)


def test_go_live_and_post_years():
    years = [2025, 2026, 2027, 2028]
    # GM: live 1.1 years after 31 March 2024 (May 2025): 0.9 of 2025-26 -> post from 2026
    assert post_indicator(years, 2024, 1.1).tolist() == [0, 1, 1, 1]
    share = live_share(years, 2024, 1.1)
    assert share[0] == 0 and 0.85 < share[1] < 0.95 and share[2] == 1
    # live exactly at a 31 March: the next year is the first post year
    assert post_indicator(years, 2024, 2.0).tolist() == [0, 0, 1, 1]
    # live in late August 2026: 0.6 of 2026-27 -> post (>= half a year live); 30 September
    # 2026 (2.5 years) is 182 of 365 days, just under half: not yet; December: not yet
    assert post_indicator(years, 2024, 2.4).tolist() == [0, 0, 1, 1]
    assert post_indicator(years, 2024, 2.5).tolist() == [0, 0, 0, 1]
    assert post_indicator(years, 2024, 2.7).tolist() == [0, 0, 0, 1]


def test_power_and_mde():
    assert analytic_power(MDE_FACTOR * 0.1, 0.1) == pytest.approx(0.80, abs=0.005)
    assert analytic_power(0.0, 0.1) == pytest.approx(0.05, abs=0.001)
    assert analytic_power(-MDE_FACTOR, 1.0) == pytest.approx(0.80, abs=0.005)
    assert np.isnan(analytic_power(1.0, 0.0))


# --------------------------------------------------------------------------------------------
# Discounting
# --------------------------------------------------------------------------------------------
def test_green_book_discounting_of_a_constant_series():
    t = np.arange(1, 11)
    expected = sum(1 / 1.035**k for k in range(1, 11))
    assert GREEN_BOOK_RATE == 0.035
    assert present_value([1.0e6] * 10, t) == pytest.approx(1.0e6 * expected, rel=1e-12)
    assert expected == pytest.approx(8.316605, abs=1e-6)
    assert present_value([1.0e6] * 10, t, timing="mid") == pytest.approx(1.0e6 * expected * 1.035**0.5, rel=1e-12)
    assert discount_factors([0.0])[0] == 1.0
    with pytest.raises(ValueError, match="timing"):
        discount_factors(t, timing="start")


def test_interval_over_replicates():
    x = [1.0, 2.0, 3.0, 4.0]
    i = interval(x)
    half = 3.182446305 * np.std(x, ddof=1) / 2  # t(3) 97.5% quantile
    assert i["mean"] == 2.5 and i["ci_low"] == pytest.approx(2.5 - half) and i["ci_high"] == pytest.approx(2.5 + half)
    assert i["p5"] == pytest.approx(1.15) and i["p95"] == pytest.approx(3.85) and i["n"] == 4


def test_a_wave_is_evaluated_without_the_rccs_before_it():
    """``rccs`` picks the 2026-28 wave: pooled and each RCC of it against LAs in no RCC; the
    pathfinder's members are neither treated nor comparison; a pattern matching nothing is refused."""
    cohorts = [
        Cohort("greater_manchester", ("g1", "g2"), 0.0, 1.1),
        Cohort("rollout_london", ("l1", "l2"), 2.25, 3.75),
        Cohort("rollout_south_west", ("s1",), 2.25, 3.75),
    ]
    la = ["g1", "g2", "l1", "l2", "s1", "x1", "x2", "x3"]
    years = list(range(2025, 2032))
    out = make_designs(cohorts, la, years, 2024, rccs=["rollout_*"])
    assert [d.name for d in out] == [POOLED_SELECTED, "rollout_london", "rollout_south_west"]
    pooled = out[0]
    assert pooled.la == ["l1", "l2", "s1", "x1", "x2", "x3"] and list(pooled.cohort) == [0, 0, 1, -1, -1, -1]
    assert pooled.post[:3].sum() > 0 and pooled.post[3:].sum() == 0
    assert [d.name for d in make_designs(cohorts, la, years, 2024)][0] == "pathfinders"  # every RCC pooled
    with pytest.raises(EvaluationError, match="north_east.*matches no RCC.*rollout_london"):
        make_designs(cohorts, la, years, 2024, rccs=["rollout_north_east"])


# --------------------------------------------------------------------------------------------
# A small study end to end
# --------------------------------------------------------------------------------------------
def make_study(
    root: Path, la_codes: list[str], years: float, seeds: list[int], policies=("status_quo", "pathfinders")
) -> Path:
    """Runs laid out as a study is (``<root>/<policy>/seed<n>/``), through the Python API."""
    register_configs()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR)):
        for policy in policies:
            for seed in seeds:
                cfg = to_object(
                    compose(
                        "config",
                        overrides=[
                            f"policy={policy}",
                            f"seed={seed}",
                            f"sim.years={years}",
                            "world.name=test",
                            f"world.la_codes=[{','.join(la_codes)}]",
                            "output.report=false",
                            "sim.spin_up_years=0",  # the designs, not the spin-up, are under test
                        ],
                    )
                )
                write_run(simulate(cfg), cfg, root / policy / f"seed{seed}")
    return root


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    return make_study(tmp_path_factory.mktemp("evaluation") / "study", GM + NW_OTHERS, 2.0, [0, 1])


def test_evaluate_end_to_end_against_the_runs(study, capsys):
    assert evaluate_main([str(study)]) == 0
    out = study / "evaluation"
    text = capsys.readouterr().out
    assert "greater_manchester: 10 treated LAs vs 6 comparison LAs, 1 pre / 1 post years" in text
    summary = pd.read_csv(out / "did_summary.csv")
    by_rep = pd.read_csv(out / "did_by_replicate.csv")
    panel_df = pd.read_csv(out / "panel.csv")
    assert (out / "did_summary.txt").read_text() in text
    assert set(summary["outcome"]) >= {
        "share_family_based",
        "share_over_20_miles",
        "moves_per_child",
        "spend_per_child_week",
        "cic_per_10k",
    }
    assert set(summary["analysis"]) == {"greater_manchester"}  # the South East RCC has no simulated LA
    assert (summary["n_replicates"] == 2).all() and (summary["horizon_years"] == 2).all()
    assert np.allclose(summary["mde"], MDE_FACTOR * summary["se"], equal_nan=True)
    assert np.allclose(summary["bias"], summary["did_mean"] - summary["true_effect"], equal_nan=True)
    # the DiD decomposes exactly: estimate - truth = placebo (status quo) + contamination
    assert np.allclose(
        by_rep["did"] - by_rep["true_effect"],
        by_rep["placebo_did"] + by_rep["contamination"],
        atol=1e-9,
        equal_nan=True,
    )

    # every design at the 2-year horizon, in one table; today's design there is today's DiD
    designs = pd.read_csv(out / "design_summary.csv", keep_default_na=False, na_values=[""])
    assert (out / "design_summary.txt").read_text() in text and (out / "evaluation.txt").is_file()
    assert set(designs["estimator"]) == set(ESTIMATORS) and set(designs["comparison"]) == {"all", "neighbours"}
    assert (designs["horizon_years"] == 2).all() and set(designs["analysis"]) == {"greater_manchester"}
    today = designs.query("design == 'twfe_cr1/all'").set_index("outcome")
    assert np.allclose(today.loc[summary["outcome"], "bias"], summary["bias"], equal_nan=True)
    assert np.allclose(today.loc[summary["outcome"], "true_effect"], summary["true_effect"], equal_nan=True)
    # 6 comparison LAs cannot take placebo assignments of 10 treated: recorded, the others ran
    ri = designs[designs["estimator"] == "twfe_ri"]
    assert ri["failure"].str.contains("too few for placebo assignments").all() and ri["bias"].isna().all()
    assert designs.query("estimator == 'callaway_santanna'")["bias"].notna().any()

    # the panel is the study: family-based share of Bolton in 2025-26 from the weekly counts
    ds = open_study(study)
    wk = ds.sel(scenario="pathfinders", replicate=1, la="E08000001")
    wk = wk.isel(time=np.flatnonzero(ds["stat_year"].values == 2026))
    share = float(wk["family_based"].astype("float64").sum() / wk["children_in_care"].astype("float64").sum())
    row = panel_df.query("scenario == 'pathfinders' and replicate == 1 and la == 'E08000001' and stat_year == 2026")
    assert row["share_family_based"].item() == pytest.approx(share, rel=1e-6)
    assert row["rcc"].item() == "greater_manchester" and row["post"].item() == 1

    # the DiD and the truth follow from the panel
    name = "spend_per_child_week"
    p = panel_df.pivot_table(index=["scenario", "replicate", "la"], columns="stat_year", values=name)
    post = panel_df.query("scenario == 'pathfinders' and replicate == 0").pivot_table(
        index="la", columns="stat_year", values="post"
    )
    y = p.loc[("pathfinders", 0)].loc[post.index].values
    cohort = np.where(post.index.isin(GM), 0, -1)
    r = did(y, post.values, cohort)
    row = by_rep.query("outcome == @name and replicate == 0").iloc[0]
    assert row["did"] == pytest.approx(r.estimate, rel=1e-6) and row["se"] == pytest.approx(r.se, rel=1e-6)
    diff = p.loc[("pathfinders", 0)].loc[post.index].values - p.loc[("status_quo", 0)].loc[post.index].values
    assert row["true_effect"] == pytest.approx(diff[post.values > 0].mean(), rel=1e-6)


def test_evaluate_chosen_designs_only(study, tmp_path, capsys):
    out = tmp_path / "chosen"
    assert (
        evaluate_main([str(study), "--designs", "twfe_cr1,event_study", "--comparisons", "all", "--out", str(out)]) == 0
    )
    designs = pd.read_csv(out / "design_summary.csv")
    assert set(designs["design"]) == {"twfe_cr1/all", "event_study/all"}
    assert evaluate_main([str(study), "--designs", "none", "--out", str(tmp_path / "none")]) == 0
    assert not (tmp_path / "none" / "design_summary.csv").exists() and (tmp_path / "none" / "did_summary.csv").exists()
    with pytest.raises(SystemExit):
        evaluate_main([str(study), "--designs", "twfe,magic"])
    assert "unknown ['twfe', 'magic']" in capsys.readouterr().err


def test_region_rcc_members_leave_out_the_las_that_opted_out():
    register_configs()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR)):
        cfg = to_object(compose("config", overrides=["policy=pathfinders"]))
    se = {c.name: c for c in rcc_cohorts(cfg)}["south_east"]
    assert set(se.opt_out) == {"E10000014", "E10000016", "E06000039"}  # Hampshire, Kent, Slough
    assert len(se.members) == 16 and not set(se.members) & set(se.opt_out)


def test_rollout_npc_end_to_end_against_the_runs(study, capsys):
    assert rollout_main([str(study)]) == 0
    out = study / "rollout"
    npc = pd.read_csv(out / "npc_summary.csv").set_index("area")
    by_year = pd.read_csv(out / "npc_by_year.csv")
    by_rep = pd.read_csv(out / "npc_by_replicate.csv")
    per_child = pd.read_csv(out / "outcomes_per_child.csv")
    total = "All 16 simulated LAs"
    assert total in npc.index and "North West" in npc.index
    assert "Net present cost of pathfinders against status_quo" in capsys.readouterr().out
    # undiscounted difference over the run = compare's net cost (scenario - status quo), per seed
    ds = open_study(study)
    money = [name for name, _, _ in NET_COST_TERMS]  # every term of the net cost

    def england(scenario, seed):  # summed over LAs in float64, as the roll-out appraisal does
        return ds[money].sel(scenario=scenario, replicate=seed).astype("float64").sum("la")

    for seed in (0, 1):
        want = float(_net_cost(england("pathfinders", seed)) - _net_cost(england("status_quo", seed)))
        got = by_rep.query("area == @total and replicate == @seed")["undiscounted_gbp_m"].item()
        assert got == pytest.approx(want, rel=1e-6, abs=1e-6)
    # NPC = the per-year mean differences discounted at 3.5%, end of each statistical year
    y = by_year[by_year["area"] == total]
    assert y["stat_year"].tolist() == [2025, 2026] and y["discount_factor"].tolist() == pytest.approx(
        [1 / 1.035, 1 / 1.035**2]
    )
    assert npc.loc[total, "npc_gbp_m_mean"] == pytest.approx(present_value(y["net_cost_diff_gbp_m_mean"], [1, 2]))
    # the components add up to the NPC; the RCC costs fall on Greater Manchester (North West)
    comps = [c for c in npc.columns if c.startswith("npc_") and c.endswith("_gbp_m") and "public" not in c]
    assert npc.loc[total, comps].sum() == pytest.approx(npc.loc[total, "npc_gbp_m_mean"], rel=1e-6)
    assert npc.loc[total, "npc_rcc_setup_gbp_m"] > 0 and npc.loc[total, "npc_programme_funding_gbp_m"] < 0
    assert set(per_child["outcome"]) >= {
        "moves_per_child_year",
        "days_waiting_per_child_year",
        "mean_miles_from_home",
        "share_family_based",
        "share_over_20_miles",
        "spend_per_child_year",
    }
    cic = per_child.query("area == @total and outcome == 'children_in_care_end'").iloc[0]
    assert cic["status_quo"] == pytest.approx(
        float(ds["children_in_care"].sel(scenario="status_quo").isel(time=-1).sum("la").mean())
    )


# --------------------------------------------------------------------------------------------
# Studies that cannot be evaluated
# --------------------------------------------------------------------------------------------
def test_study_without_a_status_quo_is_one_clear_error(tmp_path):
    # the pathfinder RCC's ten members are simulated (a member outside the world is refused)
    root = make_study(tmp_path / "no_sq", GM + NW_OTHERS[:1], 0.05, [0], policies=("pathfinders",))
    with pytest.raises(EvaluationError, match=r"no_sq: no 'status_quo' scenario \(scenarios: \['pathfinders'\]\)"):
        evaluate(root)
    with pytest.raises(EvaluationError, match="no 'status_quo' scenario"):
        appraise(root)
    # the command: one line on stderr naming the path, exit code 2, no traceback
    out = subprocess.run(rcc_sim_command("rcc-sim-evaluate") + [str(root)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip() == (
        f"rcc-sim-evaluate: {root}: no 'status_quo' scenario (scenarios: ['pathfinders']); "
        "the evaluation needs the status quo run on the same seeds as the reform"
    )


def test_study_without_pathfinder_or_comparison_las_is_one_clear_error(tmp_path):
    root = make_study(tmp_path / "cumbria", CUMBRIA, 0.05, [0])
    with pytest.raises(
        EvaluationError,
        match=r"cumbria: none of the simulated LAs is in an RCC .*greater_manchester "
        r"\(10 LAs\).*no pathfinder LAs",
    ):
        evaluate(root)
    root = make_study(tmp_path / "gm_only", GM, 0.05, [0])
    with pytest.raises(EvaluationError, match="gm_only: every simulated LA is in an RCC: no comparison LAs"):
        evaluate(root)
    assert evaluate_main([str(tmp_path / "missing")]) == 2
