"""Studies: sweeps through the experiment configs and launchers, run states, skipping finished
runs, failures that do not stop a sweep, and the combined lazy Dataset (rcc_sim/study.py)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from conftest import CONFIG_DIR, run_cli
from hydra import compose, initialize_config_dir

from rcc_sim.config import register_configs, to_object
from rcc_sim.studies.study import STATUS_FILE, StudyError, open_study, runs, summary, write_sweep_summary

YEARS = "sim.years=0.05"  # three weeks: the smallest runs that still have a few weeks of data
SUB = "sim.years=0.05"  # the directory level the command-line override adds


def gather(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    exe = shutil.which(
        "rcc-sim-gather", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    )
    assert exe, "rcc-sim-gather is not installed: run `python3 -m pip install -e .`"
    return subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """The smoke study (2 policies x 2 seeds, Greater Manchester) run in parallel with joblib."""
    tmp = tmp_path_factory.mktemp("study")
    sweep = tmp / "smoke"
    out = run_cli(
        "-m", "+experiment=smoke", "hydra/launcher=local_parallel", YEARS, f"hydra.sweep.dir={sweep}", cwd=tmp
    )
    return out, sweep


def _run_dir(sweep: Path, policy: str, seed: int) -> Path:
    return sweep / policy / SUB / f"seed{seed}"


def test_smoke_study_runs_every_job_in_parallel(smoke):
    out, sweep = smoke
    assert out.returncode == 0, f"{out.stdout}\n{out.stderr}"
    assert "Joblib.Parallel" in out.stdout + out.stderr  # the joblib launcher ran the jobs
    for policy in ("status_quo", "pathfinders"):
        for seed in (0, 1):
            d = _run_dir(sweep, policy, seed)
            status = json.loads((d / STATUS_FILE).read_text())
            assert status["state"] == "done" and status["wall_seconds"] > 0, d
            assert (status["policy"], status["seed"]) == (policy, seed)
            assert len(status["config_sha256"]) == 64
            assert (d / "results.nc").is_file() and not list(d.glob("*.tmp"))


def test_runs_lists_every_run_done(smoke):
    out, sweep = smoke
    assert out.returncode == 0, out.stderr
    infos = runs(sweep)
    assert [(i.scenario, i.seed, i.state) for i in infos] == [
        ("pathfinders", 0, "done"),
        ("pathfinders", 1, "done"),
        ("status_quo", 0, "done"),
        ("status_quo", 1, "done"),
    ]


def test_open_study_is_lazy_and_labelled(smoke):
    out, sweep = smoke
    assert out.returncode == 0, out.stderr
    ds = open_study(sweep)
    assert list(ds["scenario"].values) == ["status_quo", "pathfinders"]  # status quo first
    assert list(ds["policy"].values) == ["status_quo", "pathfinders"]
    assert list(ds["replicate"].values) == [0, 1]
    assert ds["children_in_care"].dims[:2] == ("scenario", "replicate")
    assert ds.sizes["la"] == 10 and ds.sizes["time"] == 3
    assert hasattr(ds["children_in_care"].data, "dask"), "open_study must not load the data"
    assert "config" not in ds.attrs and "seed" not in ds.attrs and ds.attrs["runs_done"] == 4
    assert ds["run_dir"].sel(scenario="pathfinders", replicate=1).item() == f"pathfinders/{SUB}/seed1"
    with xr.open_dataset(_run_dir(sweep, "pathfinders", 1) / "results.nc", engine="h5netcdf") as one:
        for name in ("children_in_care", "placements", "three_plus_placements"):
            np.testing.assert_array_equal(ds[name].sel(scenario="pathfinders", replicate=1).values, one[name].values)


def test_open_study_on_one_run_dir(smoke):
    out, sweep = smoke
    assert out.returncode == 0, out.stderr
    ds = open_study(_run_dir(sweep, "status_quo", 1))
    assert ds.sizes["scenario"] == 1 and list(ds["replicate"].values) == [1]
    assert ds["policy"].item() == "status_quo"


def test_summary_mean_median_and_bands(smoke):
    out, sweep = smoke
    assert out.returncode == 0, out.stderr
    ds = open_study(sweep)
    total = ds[["children_in_care", "spend"]].sum("la")
    s = summary(total).compute()
    assert list(s["statistic"].values) == ["mean", "median", "p5", "p95"]
    assert "replicate" not in s.dims
    values = total["children_in_care"].values  # (scenario, replicate, time)
    np.testing.assert_allclose(s["children_in_care"].sel(statistic="mean").values, values.mean(axis=1), rtol=1e-6)
    np.testing.assert_allclose(
        s["children_in_care"].sel(statistic="p5").values, np.quantile(values, 0.05, axis=1), rtol=1e-6
    )
    assert (s.sel(statistic="p5") <= s.sel(statistic="median")).all().to_array().all()
    assert (s.sel(statistic="median") <= s.sel(statistic="p95")).all().to_array().all()
    assert list(summary(total, quantiles=(0.25,))["statistic"].values) == ["mean", "median", "p25"]
    with pytest.raises(StudyError, match="'seed'"):
        summary(total, dim="seed")


def test_gather_writes_summary_and_combined_file(smoke):
    out, sweep = smoke
    assert out.returncode == 0, out.stderr
    g = gather(str(sweep), cwd=sweep.parent)
    assert g.returncode == 0, g.stderr
    doc = json.loads((sweep / "sweep_summary.json").read_text())
    assert doc["counts"]["done"] == 4 and len(doc["runs"]) == 4
    assert "4 done" in (sweep / "sweep_summary.txt").read_text()
    with xr.open_dataset(sweep / "study.nc", engine="h5netcdf") as combined:
        lazy = open_study(sweep)
        assert dict(combined.sizes) == dict(lazy.sizes)
        np.testing.assert_array_equal(combined["spend"].values, lazy["spend"].values)


def test_rerun_skips_done_runs_and_reruns_changed_ones(smoke):
    out, sweep = smoke
    assert out.returncode == 0, out.stderr
    changed = _run_dir(sweep, "status_quo", 0)
    status = json.loads((changed / STATUS_FILE).read_text())
    status["config_sha256"] = "0" * 64  # as if the run had been made with another config
    (changed / STATUS_FILE).write_text(json.dumps(status))
    before = {d: (d / "results.nc").stat().st_mtime_ns for d in (p.parent for p in sweep.rglob("results.nc"))}
    again = run_cli("-m", "+experiment=smoke", YEARS, f"hydra.sweep.dir={sweep}", cwd=sweep.parent)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("skipped") == 3, again.stdout
    assert "config changed" in again.stdout
    for d, mtime in before.items():
        assert ((d / "results.nc").stat().st_mtime_ns == mtime) == (d != changed), d


@pytest.mark.parametrize("launcher", ["basic", "local_parallel"])
def test_failed_run_does_not_stop_the_sweep(tmp_path, launcher):
    """A run that raises is recorded as failed with its traceback; the others finish; the sweep
    exits non-zero; re-running it after the cause is fixed runs only the failed one."""
    sweep = tmp_path / "s"
    args = [
        "-m",
        "+experiment=smoke",
        "policy=status_quo",
        "sim.years=0.02",
        f"hydra.sweep.dir={sweep}",
        f"hydra/launcher={launcher}",
    ]
    broken = sweep / "status_quo" / "sim.years=0.02" / "seed0"
    (broken / "results.nc").mkdir(parents=True)  # writing the results fails at the end of the run
    out = run_cli(*args, cwd=tmp_path)
    assert out.returncode != 0
    ok = broken.parent / "seed1"
    assert json.loads((ok / STATUS_FILE).read_text())["state"] == "done" and (ok / "results.nc").is_file()
    status = json.loads((broken / STATUS_FILE).read_text())
    assert status["state"] == "failed" and status["error"]["type"] == "IsADirectoryError"
    assert "write_run" in status["error"]["traceback"]
    assert not list(broken.glob("*.tmp")), "the half-written results file was left behind"
    info = {i.seed: i for i in runs(sweep)}
    assert info[0].state == "failed" and "IsADirectoryError" in info[0].error and info[1].state == "done"
    assert list(open_study(sweep)["replicate"].values) == [1]
    g = gather(str(sweep), "--no-netcdf", "--strict", cwd=tmp_path)
    assert g.returncode == 1
    assert "IsADirectoryError" in (sweep / "sweep_summary.txt").read_text()
    if launcher == "basic":
        (broken / "results.nc").rmdir()
        again = run_cli(*args, cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        assert again.stdout.count("skipped") == 1 and "earlier attempt is failed" in again.stdout
        assert [i.state for i in runs(sweep)] == ["done", "done"]


def test_submitit_local_launcher(tmp_path):
    sweep = tmp_path / "s"
    out = run_cli(
        "-m",
        "+experiment=smoke",
        "policy=status_quo",
        "seed=0",
        "sim.years=0.02",
        "hydra/launcher=submitit_local",
        f"hydra.sweep.dir={sweep}",
        cwd=tmp_path,
    )
    assert out.returncode == 0, f"{out.stdout}\n{out.stderr}"
    assert (sweep / ".submitit").is_dir()  # submitit ran the job
    [info] = runs(sweep)  # its .submitit folder is not mistaken for a run
    assert (info.state, info.seed, info.policy) == ("done", 0, "status_quo")


def test_swept_parameters_label_scenarios(smoke, tmp_path):
    """Overrides that differ between runs label the scenario; those common to all do not."""
    out, sweep = smoke
    assert out.returncode == 0, out.stderr
    study = tmp_path / "study"
    shutil.copytree(sweep / "status_quo", study / "status_quo")
    for seed, scale in ((0, "1.0"), (1, "2.0")):  # as if run with demand.entry_rate_scale=1.0,2.0
        d = _run_dir(study, "status_quo", seed)
        status = json.loads((d / STATUS_FILE).read_text())
        status["overrides"] += [f"demand.entry_rate_scale={scale}"]
        (d / STATUS_FILE).write_text(json.dumps(status))
    ds = open_study(study)
    assert list(ds["scenario"].values) == [
        "status_quo,demand.entry_rate_scale=1.0",
        "status_quo,demand.entry_rate_scale=2.0",
    ]
    assert list(ds["policy"].values) == ["status_quo", "status_quo"]
    assert list(ds["replicate"].values) == [0, 1]
    assert np.isnan(ds["children_in_care"].sel(scenario="status_quo,demand.entry_rate_scale=1.0", replicate=1)).all()


def test_killed_and_running_runs(smoke, tmp_path):
    """A run whose status says running but whose process is gone is incomplete; its half-written
    file is never read; a run whose process is alive here is running."""
    out, sweep = smoke
    assert out.returncode == 0, out.stderr
    study = tmp_path / "study"
    shutil.copytree(sweep / "status_quo", study / "status_quo")
    killed, alive = _run_dir(study, "status_quo", 0), _run_dir(study, "status_quo", 1)
    dead_pid = subprocess.Popen([sys.executable, "-c", "pass"])
    dead_pid.wait()
    for d, pid in ((killed, dead_pid.pid), (alive, os.getpid())):
        status = json.loads((d / STATUS_FILE).read_text())
        status.update(state="running", pid=pid, host=socket.gethostname())
        (d / STATUS_FILE).write_text(json.dumps(status))
    (killed / "results.nc").rename(killed / ".results.abc.nc.tmp")
    info = {i.seed: i for i in runs(study)}
    assert info[0].state == "incomplete" and "killed" in info[0].error
    assert info[0].leftover_tmp == [".results.abc.nc.tmp"]
    assert info[1].state == "running"
    with pytest.raises(StudyError, match="no finished runs"):
        open_study(study)
    _, txt = write_sweep_summary(study)
    assert "incomplete" in txt.read_text() and ".results.abc.nc.tmp" in txt.read_text()


def test_no_runs_is_one_clear_error(tmp_path):
    with pytest.raises(StudyError, match=str(tmp_path)):
        runs(tmp_path)
    g = gather(str(tmp_path / "missing"), cwd=tmp_path)
    assert g.returncode == 2 and str(tmp_path / "missing") in g.stderr and "Traceback" not in g.stderr


@pytest.mark.parametrize(
    "name,policies,seeds,years",
    [
        ("pathfinder_evaluation", ["status_quo", "pathfinders"], "range(0,10)", 5.0),
        ("national_rollout", ["status_quo", "national_rollout"], "range(0,10)", 10.0),
        ("wave_evaluation", ["status_quo", "rcc_wave_2026"], "range(0,10)", 7.0),
        ("smoke", ["status_quo", "pathfinders"], "0,1", 1.0),
    ],
)
def test_experiment_configs_compose(name, policies, seeds, years):
    """Each study composes, sweeps what its header says into outputs/studies/<name>, and every
    job of it is a valid config."""
    register_configs()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[f"+experiment={name}"], return_hydra_config=True)
        assert cfg.hydra.sweep.dir == f"outputs/studies/{name}"
        params = cfg.hydra.sweeper.params
        assert params.policy.split(",") == policies
        assert params.seed == seeds
        for policy in policies:
            job = compose(config_name="config", overrides=[f"+experiment={name}", f"policy={policy}"])
            obj = to_object(job)
            assert obj.sim.years == years and obj.policy.name == policy


@pytest.mark.parametrize(
    "launcher,target",
    [
        ("local_parallel", "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher"),
        ("slurm", "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher"),
    ],
)
def test_launcher_configs_compose(launcher, target):
    register_configs()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose(
            config_name="config",
            overrides=["+experiment=smoke", f"hydra/launcher={launcher}"],
            return_hydra_config=True,
        )
    assert cfg.hydra.launcher._target_ == target
    if launcher == "slurm":
        assert {"partition", "timeout_min", "cpus_per_task", "mem_gb", "setup"} <= set(cfg.hydra.launcher)
