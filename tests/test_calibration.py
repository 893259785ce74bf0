"""Calibration and sensitivity: calibrated defaults, loss, ranges, and the two studies end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rcc_sim.config import (
    CALIBRATED,
    CALIBRATED_FILE,
    CalibrationConfig,
    Config,
    ConfigError,
    FreeParameter,
    load_calibrated,
    parameter_table,
    to_object,
)
from rcc_sim.studies import calibration as cal_mod
from rcc_sim.studies.validation import Row

ROOT = Path(__file__).resolve().parent.parent


def _cli(args: list[str], tmp: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys; from rcc_sim.cli import {args[0]} as f; sys.argv = ['rcc-sim-{args[0]}'] + {args[1:]!r}; f()",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


# ------------------------------------------------------------------ calibrated defaults
def test_installed_calibration_is_the_default():
    if not CALIBRATED:
        pytest.skip("no rcc_sim/data/calibrated.yaml installed")
    cfg = Config()
    for section, values in CALIBRATED["values"].items():
        for name, value in values.items():
            assert getattr(getattr(cfg, section), name) == value, f"{section}.{name} is not the calibrated value"
    rows = {r["key"]: r for r in parameter_table()}
    some = next(iter(CALIBRATED["ranges"]))
    assert rows[some]["calibrated"] and rows[some]["source"].startswith("FITTED")
    assert rows[some]["plausible_range"]["lo"] <= rows[some]["plausible_range"]["hi"]
    prov = CALIBRATED["provenance"]
    for key in ("date", "git_commit", "loss", "targets", "loss_definition"):
        assert key in prov, f"calibrated.yaml provenance lacks {key}"


@pytest.mark.parametrize(
    "text, msg",
    [
        ("values: [1, 2", "not valid YAML"),
        ("values:\n  nonsense: {a: 1}\n", "'values.nonsense' is not a model section"),
        ("values:\n  breakdown: {no_such_rate: 0.2}\n", "'values.breakdown.no_such_rate' is not a parameter"),
        ("- just a list\n", "expected a mapping"),
    ],
)
def test_bad_calibrated_file_names_the_file(tmp_path, text, msg):
    path = tmp_path / "calibrated.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_calibrated(path)
    assert str(path) in str(err.value) and msg in str(err.value)


def test_calibrated_file_ships_with_the_package():
    assert CALIBRATED_FILE.parent.name == "data" and CALIBRATED_FILE.parent.parent.name == "rcc_sim"
    text = (ROOT / "pyproject.toml").read_text()
    assert '"data/*.yaml"' in text


# ------------------------------------------------------------------ free parameters
@pytest.mark.parametrize(
    "param, msg",
    [
        ({"key": "breakdown.no_such", "lo": 0.1, "hi": 0.2}, "is not a config parameter"),
        ({"key": "breakdown.unplanned_foster", "lo": 0.3, "hi": 0.2}, "is empty"),
        ({"key": "placement.kinship_at_entry", "lo": 0.8, "hi": 1.2}, "vary it with scale: true"),
        ({"key": "world.name", "lo": 0.0, "hi": 1.0}, "is not numeric"),
    ],
)
def test_bad_free_parameter_is_rejected(param, msg):
    with pytest.raises(ConfigError) as err:
        to_object({"calibration": {"parameters": [param]}})
    assert "calibration.parameters[0]" in str(err.value) and msg in str(err.value)


def test_apply_scales_lists_and_clips_shares():
    cfg = Config()
    params = [
        FreeParameter(key="placement.kinship_at_entry", lo=0.5, hi=10.0, scale=True),
        FreeParameter(key="breakdown.unplanned_foster", lo=0.1, hi=0.4),
        FreeParameter(key="placement.candidates_per_search", lo=2, hi=20),
    ]
    out = cal_mod.apply(
        cfg,
        params,
        {"placement.kinship_at_entry": 5.0, "breakdown.unplanned_foster": 0.3, "placement.candidates_per_search": 6.6},
    )
    base = cfg.placement.kinship_at_entry
    assert out.placement.kinship_at_entry == [min(v * 5.0, 1.0) for v in base]
    assert max(out.placement.kinship_at_entry) == 1.0
    assert out.breakdown.unplanned_foster == 0.3 and out.placement.candidates_per_search == 7
    assert cfg.breakdown.unplanned_foster != 0.3 or cfg.placement.kinship_at_entry == base  # input untouched


def test_loss_is_in_tolerance_units():
    cal = CalibrationConfig(count_tolerance=0.05, share_tolerance=0.02, rescale_prices=False)
    rows = [Row("a", "a", 100.0, 105.0, "children", "count"), Row("b", "b", 0.30, 0.28, "share", "share")]
    z = cal_mod.z_scores(rows, cal)
    assert z["a"] == pytest.approx(1.0) and z["b"] == pytest.approx(-1.0)
    assert cal_mod.loss(rows, cal) == pytest.approx(1.0)
    exact = [Row("a", "a", 100.0, 100.0, "children", "count")]
    assert cal_mod.loss(exact, cal) == 0.0
    cal.excluded_targets = ["a"]
    assert cal_mod.loss(rows, cal) == pytest.approx(1.0)  # only b left
    assert "a" in cal_mod.not_in_loss(cal)


def test_trajectory_terms_count_unless_their_measure_is_excluded():
    cal = CalibrationConfig(loss="trajectory", excluded_targets=["provider_voluntary"], rescale_prices=False)
    rows = [Row("cla_stock", "stock", 100.0, 105.0, "children", "count")]
    terms = {"provider_voluntary@2019": -9.0, "stock@2019": 2.0, "la:stock@2019": 1.0}
    assert not cal_mod.in_loss("provider_voluntary@2019", cal) and cal_mod.in_loss("la:stock@2019", cal)
    # base-year z = 1 (5% over, 5% tolerance); the excluded measure's term does not count
    assert cal_mod.loss(rows, cal, terms) == pytest.approx((1.0 + 4.0 + 1.0) / 3)
    assert "+2.00" in cal_mod.trajectory_table(terms, cal) and "-9.00*" in cal_mod.trajectory_table(terms, cal)


@pytest.mark.parametrize(
    "values, msg",
    [
        ({"loss": "everything"}, "'calibration.loss' = 'everything': use base_year or trajectory"),
        ({"trajectory_years": [2015, 2023]}, "'calibration.trajectory_years'"),
        ({"trajectory_years": [2020]}, "'calibration.trajectory_years'"),
        ({"trajectory_years": [2022, 2019]}, "'calibration.trajectory_years'"),
    ],
)
def test_bad_trajectory_settings_are_refused(values, msg):
    with pytest.raises(ConfigError, match=msg.replace("(", r"\(").replace("[", r"\[")):
        to_object({"calibration": values})


def test_uasc_share_follows_the_published_uasc_stock_before_the_base_year():
    from rcc_sim.data import load_national_series
    from rcc_sim.engine.world import build_world, uasc_factors

    stock = dict(zip(*(load_national_series()["lait_cla_uasc_31mar_n"][k] for k in ("years", "values"))))
    f = uasc_factors(2024)
    assert f[2017] == pytest.approx(stock[2017] / stock[2023]) and max(f) == 2022  # 2023 is the reference
    world = build_world(Config())  # spin-up from 31 March 2016
    assert world.uasc_factor(-1) == pytest.approx(f[2016])  # the initial stock's year
    assert world.uasc_factor(0) == pytest.approx(f[2017])
    assert world.uasc_factor(8) == 1.0 and world.uasc_factor(20) == 1.0  # the base year's share from 2023 on
    cfg = Config()
    cfg.demand.uasc_by_year = False
    assert build_world(cfg).uasc_factor(0) == 1.0


def test_plausible_ranges_follow_the_loss_surface():
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    params = [FreeParameter(key="x", lo=0.0, hi=10.0), FreeParameter(key="y", lo=0.0, hi=10.0)]
    cal = CalibrationConfig(parameters=params, confidence=0.95)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    # y matters sharply, x weakly: the region must be narrow in y and wide in x
    study.optimize(
        lambda t: ((t.suggest_float("x", 0, 10) - 5) ** 2 * 0.01 + (t.suggest_float("y", 0, 10) - 3) ** 2 * 5) / 10,
        n_trials=300,
    )
    r = cal_mod.plausible_ranges(study, cal, n_targets=10)
    assert r["y"]["lo"] <= 3 <= r["y"]["hi"] and r["y"]["hi"] - r["y"]["lo"] < 3
    assert r["x"]["hi"] - r["x"]["lo"] > 5
    assert r["y"]["lo"] <= r["y"]["best"] <= r["y"]["hi"]


def test_an_undersampled_region_takes_the_k_plus_1_best_trials():
    """Two of 30 trials inside the chi-square region cannot span 3 parameters: the ranges come
    from the 4 best trials, and say so."""
    params = [FreeParameter(key=k, lo=0.0, hi=10.0) for k in "abc"]
    cal = CalibrationConfig(parameters=params, confidence=0.95)
    rng = np.random.default_rng(0)
    values = [{k: float(v) for k, v in zip("abc", rng.uniform(0, 10, 3))} for _ in range(30)]
    losses = [1.0 + 0.5 * i for i in range(30)]  # 100 terms: only trials 0 and 1 lie within chi2(3)
    r = cal_mod.ranges_from_trials(losses, values, cal, n_targets=100)
    assert {x["rule"] for x in r.values()} == {"k+1 best"} and r["a"]["trials_in_region"] == 4
    for k in "abc":
        four = [v[k] for v in values[:4]]
        assert (r[k]["lo"], r[k]["hi"]) == (round(min(four), 6), round(max(four), 6))
    dense = cal_mod.ranges_from_trials([1.0 + 0.001 * i for i in range(30)], values, cal, n_targets=100)
    assert dense["a"]["rule"] == "chi-square region" and dense["a"]["trials_in_region"] == 30


@pytest.mark.parametrize("study", ["sensitivity", "rollout_psa"])
def test_shipped_studies_draw_inside_the_installed_calibration(study):
    """Each shipped study's inputs resolve against the installed ``calibrated.yaml`` (a parameter
    the calibration now fits must leave the study's own list: the sensitivity study crashed on
    that after the trajectory fit), and each calibrated range holds its fitted value."""
    import rcc_sim
    from rcc_sim.studies import psa, sensitivity

    cfg = rcc_sim.load_config([f"+experiment={study}"])
    params = sensitivity.free_parameters(cfg) if study == "sensitivity" else psa.inputs(cfg)
    keys = [p.key for p in params]
    assert len(keys) == len(set(keys))
    ranges = CALIBRATED["ranges"]
    assert set(ranges) <= set(keys)
    for key, r in ranges.items():
        assert r["lo"] <= r["best"] <= r["hi"], key


# ------------------------------------------------------------------ studies end to end
def test_calibration_study_runs_writes_provenance_and_resumes(tmp_path):
    out = tmp_path / "cal"
    args = [
        "calibrate",
        "+experiment=calibration",
        "world=greater_manchester",
        "calibration.workers=1",
        "calibration.fit_exit_hazards=false",
        "calibration.study_name=t",
        f"hydra.run.dir={out}",
    ]
    r = _cli(args + ["calibration.n_trials=2"], tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    import yaml

    doc = yaml.safe_load((out / "calibrated.yaml").read_text())
    prov = doc["provenance"]
    assert prov["trials_completed"] == 2 and prov["loss"] >= 0 and prov["git_commit"]
    assert set(prov["targets"]) >= {"cla_stock", "placement_foster_all"}
    assert "breakdown" in doc["values"] and "ranges" in doc
    # the experiment fits the trajectory 2017-2023 from the spin-up: per-measure-year and per-LA terms
    assert prov["loss_kind"] == "trajectory" and prov["trajectory_years"] == [2017, 2023]
    years = {int(k.rsplit("@", 1)[1]) for k in prov["trajectory_z"]}
    assert years == set(range(2017, 2024))
    assert {"stock@2017", "la:outside_la_over_20_miles@2023"} <= set(prov["trajectory_z"])
    assert not any(k.startswith("over_20_miles@") for k in prov["trajectory_z"])  # no per-LA series for 10 LAs
    fit = prov["per_la_fit"]["la:stock@2020"]
    assert fit["mae"] >= 0 and -1 <= fit["correlation"] <= 1
    report = (out / "fit_report.txt").read_text()
    assert "Trajectory terms" in report and "Per-LA fit" in report
    # the first trial is the starting point (the current defaults)
    first = (out / "trials.csv").read_text().splitlines()[1].split(",")
    assert float(first[4]) == pytest.approx(Config().breakdown.unplanned_foster)
    # resume: one more trial, the first two kept
    r = _cli(args + ["calibration.n_trials=3"], tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    lines = (out / "trials.csv").read_text().splitlines()[1:]
    assert sum(",COMPLETE," in ln for ln in lines) >= 3
    assert lines[0].split(",")[4] == first[4]


def test_calibrate_without_experiment_is_a_clear_error(tmp_path):
    r = _cli(["calibrate", f"hydra.run.dir={tmp_path}"], tmp_path)
    assert r.returncode == 2 and "+experiment=calibration" in r.stderr


def test_sensitivity_study_ranks_parameters_and_resumes(tmp_path):
    out = tmp_path / "sa"
    args = [
        "sensitivity",
        "+experiment=sensitivity",
        "world=greater_manchester",
        "sim.years=0.5",
        "sensitivity.n_samples=10",
        "sensitivity.workers=1",
        "sensitivity.use_calibrated_ranges=false",
        f"hydra.run.dir={out}",
    ]
    r = _cli(args, tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    doc = json.loads((out / "sensitivity.json").read_text())
    assert doc["n_done"] == 10 and not doc["failed"]
    entry = doc["indices"]["children_in_care_end"]
    assert set(entry["parameters"]) == {p["key"] for p in doc["parameters"]}
    assert entry["q05"] <= entry["mean"] <= entry["q95"]
    # the sample really varies the parameters: all ten values of one parameter differ
    samples = [json.loads(p.read_text()) for p in sorted((out / "samples").glob("*.json"))]
    assert len({s["params"]["market.scarcity_elasticity"] for s in samples}) == 10
    assert (out / "ranking.txt").read_text().startswith("Sensitivity:")
    assert (out / "sensitivity.png").stat().st_size > 10_000
    mtimes = {p: p.stat().st_mtime_ns for p in (out / "samples").glob("*.json")}
    r = _cli(args, tmp_path)
    assert r.returncode == 0 and "10 done" in r.stdout
    assert all(p.stat().st_mtime_ns == t for p, t in mtimes.items())


def test_latin_hypercube_covers_each_range_once_per_stratum():
    params = [FreeParameter(key="a", lo=0.0, hi=1.0), FreeParameter(key="b", lo=1.0, hi=100.0, log=True)]
    from rcc_sim.studies.sensitivity import draw

    x = draw(params, 20, seed=3)
    assert x.shape == (20, 2)
    assert sorted(np.floor(x[:, 0] * 20).astype(int)) == list(range(20))
    assert x[:, 1].min() >= 1.0 and x[:, 1].max() <= 100.0
    assert sorted(np.floor(np.log(x[:, 1]) / np.log(100) * 20).astype(int)) == list(range(20))


def test_a_finished_model_is_freed():
    """Workers of the calibration and sensitivity studies run hundreds of models in one process:
    none may stay alive after its run (Mesa's Agent._ids once kept every model)."""
    import gc
    import weakref

    from rcc_sim.engine.model import CareSystemModel

    cfg = Config()
    cfg.world.la_codes = ["E08000001", "E08000002"]
    cfg.sim.years = 0.1
    model = CareSystemModel(cfg)
    model.run()
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None


def test_indices_rank_the_parameter_that_drives_the_outcome():
    """y = 10 x0 + x1 + noise over a Latin hypercube: x0 ranks first on S1, delta and Spearman,
    delta is estimated from 50 samples on (SALib >= 1.5 names it delta_balanced), and the dummy
    x2 explains almost nothing on S1 and Spearman."""
    from rcc_sim.config import FreeParameter
    from rcc_sim.studies.sensitivity import draw, parameter_indices

    params = [FreeParameter(key=k, lo=0.0, hi=1.0) for k in ("a.x0", "a.x1", "a.x2")]
    X = draw(params, 120, 0)
    y = 10 * X[:, 0] + X[:, 1] + np.random.default_rng(1).normal(0, 0.1, len(X))
    problem = {"num_vars": 3, "names": [p.key for p in params], "bounds": [[0.0, 1.0]] * 3}
    ind = parameter_indices(problem, X, y, seed=0)
    assert ind["a.x0"]["S1"] > 0.8 and ind["a.x2"]["S1"] < 0.1
    assert all(np.isfinite(v["delta"]) for v in ind.values())
    # delta of a weak or dummy input is biased up at small n (about 0.05-0.1 here): only the driver is clear
    assert ind["a.x0"]["delta"] > 2 * max(ind["a.x1"]["delta"], ind["a.x2"]["delta"])
    assert ind["a.x0"]["spearman"] > 0.9 and abs(ind["a.x2"]["spearman"]) < 0.3
    np.random.seed(12345)  # SALib's delta also uses numpy's global generator: the result must not depend on it
    assert parameter_indices(problem, X, y, seed=0) == ind
    few = parameter_indices(problem, X[:30], y[:30], seed=0)  # too few samples for delta: NaN, S1 still there
    assert all(np.isnan(v["delta"]) for v in few.values()) and few["a.x0"]["S1"] > 0.5


def test_a_refit_keeps_the_installed_fit_of_the_other_parameters():
    """calibration.refit: the refitted parameters' values and ranges replace the installed ones;
    every other installed value and range is kept, and the provenance names the fit refined."""
    installed = load_calibrated()
    assert installed, "the package ships a calibration"
    refit = {
        "provenance": {"study": "refit", "loss": 1.0},
        "values": {"placement": {"step_to_supported_foster": 0.3}, "market": {"base_price_ifa": 1.0}},
        "ranges": {"placement.step_to_supported_foster": {"lo": 0.2, "hi": 0.4, "best": 0.3}},
    }
    merged = cal_mod.merge_refit(installed, refit)
    assert merged["values"]["placement"]["step_to_supported_foster"] == 0.3
    assert merged["values"]["market"]["base_price_ifa"] == 1.0
    for section, names in installed["values"].items():  # nothing else moved
        for name, value in names.items():
            if (section, name) not in {("placement", "step_to_supported_foster"), ("market", "base_price_ifa")}:
                assert merged["values"][section][name] == value
    assert set(merged["ranges"]) == set(installed["ranges"]) | {"placement.step_to_supported_foster"}
    assert merged["ranges"]["breakdown.unplanned_foster"] == installed["ranges"]["breakdown.unplanned_foster"]
    prov = merged["provenance"]
    assert prov["study"] == "refit" and prov["refit_parameters"] == ["placement.step_to_supported_foster"]
    assert prov["refines"]["git_commit"] == installed["provenance"]["git_commit"]
    assert installed["values"]["placement"].get("step_to_supported_foster") != 0.3  # the input is not changed
    with pytest.raises(ConfigError, match="calibration.refit"):
        cal_mod.merge_refit({}, refit)


def test_the_supported_refit_is_the_calibration_study_but_for_its_refit_lines():
    """configs/experiment/refit_supported.yaml: same loss, data and tolerances as the calibration
    study; refit on, no stage 1, and its parameters a subset of the calibration study's ranges."""
    from hydra import compose, initialize_config_dir

    from rcc_sim.config import register_configs

    register_configs()
    with initialize_config_dir(config_dir=str(ROOT / "configs"), version_base="1.3"):
        full = to_object(compose(config_name="config", overrides=["+experiment=calibration"])).calibration
        refit = to_object(compose(config_name="config", overrides=["+experiment=refit_supported"])).calibration
    assert refit.refit and not full.refit and not refit.fit_exit_hazards
    same = ("loss", "trajectory_years", "la_count_tolerance", "la_share_tolerance", "count_tolerance")
    assert all(getattr(refit, k) == getattr(full, k) for k in same + ("share_tolerance", "excluded_targets", "seeds"))
    ranges = {p.key: (p.lo, p.hi) for p in full.parameters}
    assert all(ranges.get(p.key) == (p.lo, p.hi) for p in refit.parameters)
    refitted = {p.key for p in refit.parameters}
    assert {"placement.step_to_supported_foster", "placement.step_to_supported_home"} <= refitted
