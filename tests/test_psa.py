"""The probabilistic roll-out appraisal (rcc_sim/studies/psa/): draws, resume, failures, the
value of information and the summary. Small: Greater Manchester, a few weeks, no spin-up."""

from __future__ import annotations

import json

import numpy as np
import pytest

import rcc_sim
from rcc_sim.config import FreeParameter
from rcc_sim.studies import psa
from rcc_sim.studies.psa import runs as psa_runs  # where base_of is looked up when a draw runs

SMALL = [
    "+experiment=rollout_psa",
    "world=greater_manchester",
    "sim.years=0.15",
    "sim.spin_up_years=0",
    "psa.n_draws=3",
    "psa.workers=1",
]


@pytest.fixture(scope="module")
def cfg():
    return rcc_sim.load_config(SMALL)


def test_draws_reproducible_within_ranges_and_prefix_stable(cfg):
    params = psa.inputs(cfg)
    a = psa.sample(params, 16, "sobol", seed=3)
    assert np.array_equal(a, psa.sample(params, 16, "sobol", seed=3))
    assert not np.array_equal(a, psa.sample(params, 16, "sobol", seed=4))
    assert np.array_equal(psa.sample(params, 8, "sobol", seed=3), a[:8])  # a study can grow
    b = psa.sample(params, 10, "latin", seed=1)
    assert np.array_equal(b, psa.sample(params, 10, "latin", seed=1))
    for x in (a, b):
        for j, p in enumerate(params):
            assert np.all((x[:, j] >= p.lo) & (x[:, j] <= p.hi)), p.key


def test_draw_configs_set_levers_in_every_rcc_and_seed(cfg, tmp_path):
    params, x, tasks = psa.draw_tasks(cfg, tmp_path)
    assert len(tasks) == 3 and [t.cfg.seed for t in tasks] == [0, 1, 2]
    j = [p.key for p in params].index("policy.rollout.template.buyer_power_discount")
    for t, row in zip(tasks, x):
        assert t.cfg.policy.rollout.template.buyer_power_discount == pytest.approx(row[j])
        gm = t.cfg.policy.rccs["greater_manchester"]  # the pathfinder gets the drawn effect size too
        assert gm.buyer_power_discount == pytest.approx(row[j])
        assert t.cfg.psa is None  # the study's own settings are not part of a run's config (hash)
    k = [p.key for p in params].index("breakdown.unplanned_foster")
    assert tasks[0].cfg.breakdown.unplanned_foster == pytest.approx(x[0, k])
    # the status quo run keeps the drawn model parameters and the seed, not the RCCs
    base = psa.base_of(tasks[1].cfg)
    assert base.seed == 1 and not base.policy.rccs and base.breakdown.unplanned_foster == pytest.approx(x[1, k])


def test_lever_ranges_are_the_assumption_ranges_in_config(cfg):
    checked = 0
    for p in cfg.psa.parameters:
        r = psa.assumption_range(p.key)
        assert r is not None, f"{p.key}: no '(range a-b)' in its source"
        assert (p.lo, p.hi) == pytest.approx(r), p.key
        checked += 1
    assert checked >= 10
    assert psa.assumption_range("policy.rollout.template.setup_cost_gbp") == (1e6, 5e6)
    assert psa.assumption_range("market.block_price_pass_through") == (-0.5, 1.0)


def test_groups_resolve_patterns_and_refuse_empty(cfg):
    params = psa.inputs(cfg)
    g = psa.groups(cfg, params)
    assert "breakdown.unplanned_foster" in g["calibrated_stability"]
    assert set(g["recruitment_hub"]) == {
        "policy.rollout.template.enquiry_uplift",
        "policy.rollout.template.in_house_applicant_uplift",
        "policy.rollout.template.retention_improvement",
    }
    bad = rcc_sim.load_config([*SMALL, "+psa.groups.nothing=[no.such_key]"])
    with pytest.raises(rcc_sim.config.ConfigError, match="psa.groups.nothing"):
        psa.groups(bad, params)


def test_failed_draw_recorded_others_run_then_resume_skips(cfg, tmp_path, monkeypatch):
    real = psa.base_of

    def failing(c):
        if c.seed == 1:
            raise RuntimeError("draw 1 breaks")
        return real(c)

    monkeypatch.setattr(psa_runs, "base_of", failing)  # forked workers see it too
    logged: list[str] = []
    two_workers = rcc_sim.load_config([*SMALL, "psa.workers=2"])
    result = psa.run_psa(two_workers, tmp_path, log=logged.append)
    rec = json.loads((tmp_path / "draws" / "draw1" / psa.DRAW_FILE).read_text())
    assert rec["status"] == "failed" and "draw 1 breaks" in rec["error"] and "Traceback" in rec["traceback"]
    assert [f["draw"] for f in result.failed] == [1]
    assert result.summary["n_done"] == 2

    s = result.summary
    assert s["npc_gbp_m"]["p2_5"] <= s["npc_gbp_m"]["mean"] <= s["npc_gbp_m"]["p97_5"]
    assert 0.0 <= s["p_saves"]["p"] <= 1.0 and 0.0 <= s["p_saves_public_sector"]["p"] <= 1.0
    assert s["p_saves"]["lo"] <= s["p_saves"]["p"] <= s["p_saves"]["hi"]
    for o in s["outcomes"].values():
        assert o["p2_5"] <= o["mean"] <= o["p97_5"]
    for name in ("psa.nc", "psa.csv", "psa.md", "evppi.csv", "psa.json"):
        assert (tmp_path / name).is_file()
    assert len(result.table) == 2 and set(result.table["draw"]) == {0, 2}

    monkeypatch.setattr(psa_runs, "base_of", real)
    mtimes = {i: (tmp_path / "draws" / f"draw{i}" / psa.DRAW_FILE).stat().st_mtime_ns for i in (0, 2)}
    logged.clear()
    result = psa.run_psa(cfg, tmp_path, log=logged.append)
    assert any("3 paired runs, 2 done, 1 to run" in line for line in logged)
    assert {i: (tmp_path / "draws" / f"draw{i}" / psa.DRAW_FILE).stat().st_mtime_ns for i in (0, 2)} == mtimes
    assert result.summary["n_done"] == 3 and not result.failed


def test_evppi_finds_the_one_input_that_matters():
    rng = np.random.default_rng(0)
    n = 200
    X = rng.uniform(size=(n, 3))
    inb = 10 * (X[:, 0] - 0.5) + rng.normal(0, 0.5, n)  # only input a matters
    params = [FreeParameter(key=k, lo=0.0, hi=1.0) for k in ("a", "b", "c")]
    voi = psa.value_of_information(X, inb, params, {"ab": ["a", "b"], "bc": ["b", "c"]})
    singles = voi[voi["kind"] == "input"].set_index("name")
    total = psa.evpi(inb)
    assert total == pytest.approx(1.25, abs=0.25)  # E[max(10(U - 1/2), 0)] = 1.25
    assert singles["evppi_gbp_m"].idxmax() == "a"
    assert singles.loc["a", "evppi_gbp_m"] == pytest.approx(1.25, abs=0.25)
    assert singles.loc["c", "evppi_gbp_m"] < 0.1 * total and singles.loc["b", "evppi_gbp_m"] < 0.1 * total
    assert (voi["evppi_gbp_m"] <= total + 1e-12).all()
    groups = voi[voi["kind"] == "group"].set_index("name")
    assert groups.loc["ab", "evppi_gbp_m"] == pytest.approx(singles.loc["a", "evppi_gbp_m"], abs=0.2)
    assert groups.loc["bc", "evppi_gbp_m"] < 0.1 * total
    text = psa.measure_first(voi, total, float(np.std(inb)))
    assert text.startswith("Measure first: ab") or text.startswith("Measure first: a")


def test_evpi_zero_when_the_sign_never_changes():
    inb = np.linspace(1, 5, 50)
    assert psa.evpi(inb) == 0.0
    assert psa.evppi_from_fit(inb) == 0.0
    p = psa.probability(np.array([True] * 9 + [False]))
    assert p["p"] == 0.9 and 0 <= p["lo"] < 0.9 < p["hi"] <= 1


def test_tornado_swings_each_input_at_its_range_ends(tmp_path):
    cfg = rcc_sim.load_config(
        [
            *SMALL,
            "psa.use_calibrated_ranges=false",
            "psa.groups={}",
            "psa.tornado=true",
            "psa.parameters=[{key: policy.rollout.template.setup_cost_gbp, lo: 1.0e6, hi: 5.0e6}]",
        ]
    )
    out = psa.run_psa(cfg, tmp_path, log=lambda line: None)
    t = out["table"]
    assert list(t["input"]) == ["policy.rollout.template.setup_cost_gbp"] and not out["failed"]
    r = t.iloc[0]
    # set-up costs are spent in the first months: a higher cost raises the NPC
    assert r["npc_at_hi_gbp_m"] > r["npc_base_gbp_m"] > r["npc_at_lo_gbp_m"]
    assert r["npc_public_sector_at_hi_gbp_m"] > r["npc_public_sector_at_lo_gbp_m"]
    assert (tmp_path / "tornado" / "tornado.csv").is_file()
    assert "setup_cost_gbp" in psa.tornado_section(tmp_path / "tornado" / "tornado.csv")  # shown in psa.md


def test_a_worker_that_dies_is_recorded_and_the_others_finish(tmp_path, monkeypatch):
    import os

    real = psa.base_of

    def dying(c):
        if c.seed == 0:
            os._exit(9)  # as if killed (out of memory): no record written by the draw itself
        return real(c)

    monkeypatch.setattr(psa_runs, "base_of", dying)
    cfg = rcc_sim.load_config([*SMALL, "psa.n_draws=2"])
    _, _, tasks = psa.draw_tasks(cfg, tmp_path)
    records = psa.run_tasks(tasks, workers=2, rate=0.035, log=lambda line: None)
    assert sorted(r["status"] for r in records) == ["done", "failed"]
    rec = json.loads((tmp_path / "draws" / "draw0" / psa.DRAW_FILE).read_text())
    assert rec["status"] == "failed" and "exit code 9" in rec["error"]
    assert json.loads((tmp_path / "draws" / "draw1" / psa.DRAW_FILE).read_text())["status"] == "done"


def test_rcc_lever_swings_share_one_status_quo_and_equal_separate_pairs(tmp_path):
    """The tornado's base case and its RCC-lever swings on one seed run from one spin-up and one
    status-quo run (psa.run_group); each result equals its pair run alone, bit for bit. A swing of
    a model parameter changes the status quo too, so it stays a pair of its own."""
    import dataclasses

    cfg = rcc_sim.load_config(
        [
            *SMALL,
            "sim.spin_up_years=1",
            "psa.use_calibrated_ranges=false",
            "psa.groups={}",
            "psa.tornado=true",
            "psa.parameters=[{key: policy.rollout.template.setup_cost_gbp, lo: 1.0e6, hi: 5.0e6},"
            " {key: policy.rollout.template.buyer_power_discount, lo: 0.0, hi: 0.1},"
            " {key: market.block_entry_elasticity, lo: 0.0, hi: 10.0}]",
        ]
    )
    _, tasks = psa.tornado_tasks(cfg, tmp_path / "grouped")
    jobs = psa.jobs_of(tasks, workers=2, share=True)
    grouped = [t for job in jobs if len(job) > 1 for t in job]
    assert sorted(len(j) for j in jobs) == [1, 1, 2, 3]  # base + 4 RCC swings in two groups; 2 alone
    assert all(psa.shares_status_quo(t) for t in grouped) and len(grouped) == 5
    records = psa.run_group(grouped)
    assert [r["status"] for r in records] == ["done"] * 5
    assert all(r["shared_seconds"] > 0 for r in records)
    for k, (t, r) in enumerate(zip(grouped[:3], records[:3])):
        alone = psa.run_task(dataclasses.replace(t, path=tmp_path / "alone" / str(k)))
        assert alone["npc_gbp_m"] == r["npc_gbp_m"] and alone["outcomes"] == r["outcomes"]
    again = psa.run_group(grouped)  # resumed: nothing run twice
    assert all(r.get("skipped") for r in again)
    with pytest.raises(ValueError, match="status-quo"):
        psa.run_group([grouped[0], next(t for t in tasks if not psa.shares_status_quo(t))])
