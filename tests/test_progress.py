"""Progress on a terminal (output.progress): what the bar says, and silence where nobody watches
(logs, CI, pipes, and output.progress=false)."""

from __future__ import annotations

import io

import pytest
from conftest import CONFIG_DIR, GM3, run_cli, small_config
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from rcc_sim.config import register_configs
from rcc_sim.progress import SWEEP_MARKER, WeekProgress, count_jobs, enabled, format_progress, simulated_date
from rcc_sim.studies.compare import paired

ARGS = ("world=greater_manchester", "sim.years=0.1", "output.report=false", "sim.spin_up_years=0")  # 5 weeks


# ---------------------------------------------------------------------------------------------
# The formatter and the switch
# ---------------------------------------------------------------------------------------------
def test_simulated_date_counts_from_31_march_of_the_start_year():
    assert simulated_date(2024, 0) == "2024-03-31"
    assert simulated_date(2024, 91) == "2024-06-30"
    assert simulated_date(2021, 365.9) == "2022-03-31"


def test_format_shows_weeks_simulated_date_rate_and_time_left():
    line = format_progress(13, 52, 91, 2024, elapsed=3.1, desc="rcc-sim", ncols=80)  # fits 80 columns
    assert line.startswith("rcc-sim  25%|")
    assert "13/52 weeks, simulated 2024-06-30 | " in line
    assert "4.19 weeks/s" in line  # 13 weeks in 3.1 s
    assert line.endswith("| 00:09 left")  # 39 weeks at 4.19 a second


def test_format_of_several_runs_counts_the_runs_done():
    line = format_progress(130, 520, 70, 2024, elapsed=10.0, desc="rcc-sim-compare", runs_done=2, runs=10)
    assert "130/520 weeks, 2/10 runs, simulated 2024-06-09 | " in line
    assert "13.00 weeks/s" in line and line.endswith("| 00:30 left")


def test_format_before_the_first_week_has_no_rate_yet():
    line = format_progress(0, 52, 0, 2024, elapsed=0.0)
    assert "0/52 weeks, simulated 2024-03-31 | ? weeks/s | ? left" in line


class _Stream(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_auto_is_on_only_on_a_terminal_outside_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    assert enabled("auto", _Stream(tty=True))
    assert not enabled("auto", _Stream(tty=False))
    monkeypatch.setenv("CI", "true")
    assert not enabled("auto", _Stream(tty=True))
    assert enabled(True, _Stream(tty=False)) and enabled("true", _Stream(tty=False))
    assert not enabled(False, _Stream(tty=True)) and not enabled("False", _Stream(tty=True))


def test_week_progress_draws_one_bar_to_the_end():
    out = io.StringIO()
    with WeekProgress(2024, "rcc-sim", file=out) as bar:
        for w in range(1, 53):
            bar(w, 52, 7 * w)
    text = out.getvalue()
    assert "52/52 weeks, simulated 2025-03-30" in text and "100%" in text


# ---------------------------------------------------------------------------------------------
# Silence where nobody watches; a bar when asked for
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("setting", ["output.progress=false", "output.progress=auto"])
def test_a_run_writes_nothing_to_stderr_unless_on_a_terminal(tmp_path, setting):
    """stderr is a pipe here (not a terminal): with auto, as with false, a run stays silent."""
    out = run_cli(*ARGS, setting, f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    assert "results written to" in out.stdout and "weeks/s" not in out.stdout


def test_progress_true_draws_the_bar_even_into_a_pipe(tmp_path):
    out = run_cli(*ARGS, "output.progress=true", f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "5/5 weeks, simulated 2024-05-05" in out.stderr and "weeks/s" in out.stderr


def test_in_process_run_is_silent(capfd):
    from rcc_sim.run import simulate

    simulate(small_config(years=0.05))
    assert capfd.readouterr().err == ""


def test_comparison_reports_every_week_of_every_run_in_order_of_runs():
    seen: dict[int, list[int]] = {}
    cfg = small_config(years=0.05, la_codes=GM3)
    for jobs in (1, 2):  # in this process, and from worker processes through a queue
        seen.clear()
        paired(cfg, [0, 1], jobs=jobs, progress=lambda run, w, n, day: seen.setdefault(run, []).append(w))
        assert sorted(seen) == [0, 1, 2, 3], jobs  # seeds x (scenario, status quo)
        assert all(weeks == list(range(1, weeks[-1] + 1)) and weeks[-1] == 3 for weeks in seen.values()), seen


# ---------------------------------------------------------------------------------------------
# Sweeps: one bar over the jobs, in the process that launched them
# ---------------------------------------------------------------------------------------------
def _hydra_config(*overrides: str):
    register_configs()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides), return_hydra_config=True)


def _sweep(params: dict | None, task: list[str]):
    return OmegaConf.create({"hydra": {"sweeper": {"params": params}, "overrides": {"task": task}}})


def test_count_jobs_of_a_sweep():
    assert count_jobs(_sweep(None, ["seed=0,1,2", "world=greater_manchester"])) == 3
    assert count_jobs(_sweep({"policy": "status_quo,pathfinders"}, ["seed=range(0,3)"])) == 6
    assert count_jobs(_hydra_config("+experiment=smoke")) == 4  # the study's params: 2 policies x 2 seeds
    assert count_jobs(OmegaConf.create({})) is None  # not a sweep config: a bar without a total


def test_sweep_draws_one_bar_over_its_jobs_when_asked(tmp_path):
    sweep = tmp_path / "sweep"
    args = ["world=greater_manchester", "sim.years=0.02", "output.report=false", "output.progress=true"]
    out = run_cli("-m", *args, "seed=0,1", f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "rcc-sim sweep 100%" in out.stderr and "2/2 runs" in out.stderr
    assert "weeks/s" not in out.stderr  # the jobs draw no bars of their own
    assert not (sweep / SWEEP_MARKER).exists()


def test_the_bar_counts_the_spin_up_weeks_and_shows_their_dates(tmp_path):
    """With a spin-up the bar runs over its weeks too, dated before the base date."""
    args = ("world=greater_manchester", "sim.years=0.1", "output.report=false", "sim.spin_up_years=1")
    out = run_cli(*args, "output.progress=true", f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "57/57 weeks, simulated 2024-05-05" in out.stderr, out.stderr


def test_the_spin_up_weeks_are_reported_with_dates_before_the_base_date():
    """The bar refreshes at most twice a second, so what it shows mid-run depends on the machine's
    speed: the calls it gets are checked here instead."""
    from rcc_sim.run import simulate

    calls: list[tuple[int, int, float]] = []
    cfg = small_config(years=0.1, la_codes=GM3)
    cfg.sim.spin_up_years = 1
    simulate(cfg, progress=lambda w, n, day: calls.append((w, n, day)))
    assert [w for w, _, _ in calls] == list(range(1, 58)) and {n for _, n, _ in calls} == {57}
    dates = [simulated_date(cfg.sim.start_year, day) for _, _, day in calls]
    assert dates[0] == "2023-04-07" and dates[51].startswith("2024-03") and dates[-1] == "2024-05-05", dates
