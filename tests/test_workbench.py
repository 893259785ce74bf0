"""The co-design workbench (rcc_sim/studies/workbench.py): designs against the status quo on common
random numbers - the status quo run once per seed, bad designs refused before any run, a failed
run not stopping the others, finished runs skipped, and a ranking and page that follow the numbers.

Runs are tiny (three Greater Manchester LAs, a quarter of a year, no spin-up); one module-scoped
workbench (two designs x two seeds, two processes) is shared by most tests."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import GM3, REPO, small_config

from rcc_sim.config import ConfigError, PolicyConfig, RCCConfig, WorkbenchConfig, WorkbenchDesign
from rcc_sim.studies import study
from rcc_sim.studies import workbench as wb
from rcc_sim.studies.study import read_status

SEEDS = [0, 1]
RCC = "policy.rccs.gm"
DESIGNS = [
    WorkbenchDesign("search", "pooled search only", {f"{RCC}.pooled_search": True}),
    WorkbenchDesign(
        "blocks", "pooled search and block places", {f"{RCC}.pooled_search": True, f"{RCC}.block_places": 6}
    ),
]


def make_config(designs=DESIGNS, jobs: int = 2, **workbench):
    cfg = small_config(years=0.25, la_codes=GM3)
    rcc = RCCConfig(members=GM3[:2], start_years=0.0, ramp_up_years=0.02, setup_cost_gbp=1e5)
    cfg.policy = PolicyConfig(name="gm_base", description="a two-LA RCC", rccs={"gm": rcc})
    settings = dict(
        seeds=SEEDS, jobs=jobs, rank_by=["share_over_20_miles", "net_cost_gbp_m"], outcomes=["carers_end", "waiting"]
    )
    settings.update(workbench)
    cfg.workbench = WorkbenchConfig(designs=list(designs), **settings)
    return cfg


def counting(monkeypatch, log: Path, fail: str | None = None):
    """Replace the run with one that notes (design, seed) in ``log`` - a file, so runs in worker
    processes are counted too - and raises for the design ``fail``."""
    real = wb._simulate_run

    def run(cfg, run_dir, progress):
        with open(log, "a") as fh:
            fh.write(f"{cfg.policy.name} {cfg.seed}\n")
        if cfg.policy.name == fail:
            raise RuntimeError(f"simulated failure in {fail}")
        return real(cfg, run_dir, progress)

    monkeypatch.setattr(wb, "_simulate_run", run)
    # resuming compares each run's code commit: keep it fixed, as if no one committed meanwhile
    monkeypatch.setattr(study, "_code_commit", lambda: "0" * 40)


def calls(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    out = tmp_path_factory.mktemp("workbench")
    log = out / "calls.txt"
    counting(mp, log)
    try:
        result = wb.run_workbench(make_config(), out / "study", log=lambda s: None)
    finally:
        mp.undo()
    return result, out / "study", calls(log)


def test_status_quo_runs_once_per_seed_and_every_design_on_the_same_seeds(bench):
    result, _, made = bench
    assert sorted(made) == sorted(f"{n} {s}" for n in ("status_quo", "search", "blocks") for s in SEEDS)
    assert not result.failed
    ds = result.ds
    assert list(ds["n_seeds"].values) == [2, 2]
    # every design is set against the same status-quo runs
    sq = ds["status_quo"].sel(area="England")
    np.testing.assert_array_equal(sq.sel(variant="search").values, sq.sel(variant="blocks").values)
    # blocks are paid for: the block design has a void cost the search-only design has not
    void = ds["design"].sel(outcome="rcc_void_block_gbp_m", area="England")
    assert float(void.sel(variant="blocks")) > 0 and float(void.sel(variant="search")) == 0


def test_outputs_are_labelled_and_consistent(bench):
    result, out, _ = bench
    with xr.open_dataset(out / wb.NC_FILE, engine="h5netcdf") as ds:
        assert {"variant", "outcome", "area"} <= set(ds["mean"].dims)
        assert list(ds.area.values) == ["RCC gm", wb.OUTSIDE, wb.WORLD]
        assert list(ds.outcome.values) == ["share_over_20_miles", "net_cost_gbp_m", "carers_end", "waiting", *wb.COSTS]
        assert not bool(ds["shown"].sel(outcome="rcc_setup_gbp_m"))  # costs are computed, not charted
        for v in ("mean", "lo", "hi", "by_seed", "rank"):
            assert v in ds
        m = ds["mean"].sel(outcome="net_cost_gbp_m")
        assert bool(
            ((ds["lo"].sel(outcome="net_cost_gbp_m") <= m) & (m <= ds["hi"].sel(outcome="net_cost_gbp_m"))).all()
        )
        # the mean difference is the mean of the per-seed differences
        np.testing.assert_allclose(ds["by_seed"].mean("seed").values, ds["mean"].values, equal_nan=True)
    table = pd.read_csv(out / wb.CSV_FILE)
    assert len(table) == 2 * result.ds.sizes["outcome"] * 3
    assert set(table["variant"]) == {"search", "blocks"}


def test_ranking_follows_the_numbers(bench):
    ds = bench[0].ds
    area = ds.attrs["rank_area"]
    assert area == "RCC gm"
    ranks = {}
    for name in ("share_over_20_miles", "net_cost_gbp_m"):  # both: lower is better
        v = ds["mean"].sel(outcome=name, area=area).to_series()
        ranks[name] = v.rank(method="average")
    score = (ranks["share_over_20_miles"] + ranks["net_cost_gbp_m"]) / 2
    np.testing.assert_allclose(ds["rank_score"].values, score.loc[list(ds.variant.values)].values)
    assert list(ds["rank"].values) == [1, 2] and list(ds["rank_score"].values) == sorted(ds["rank_score"].values)


def test_rank_orders_by_direction_and_puts_missing_last():
    variants = ["a", "b", "c", "d"]
    mean = xr.DataArray(
        [[[1.0], [10.0]], [[2.0], [5.0]], [[3.0], [1.0]], [[0.0], [0.0]]],
        {"variant": variants, "outcome": ["x", "y"], "area": ["A"]},
        ("variant", "outcome", "area"),
    )
    n = xr.DataArray([2, 2, 2, 0], {"variant": variants}, ("variant",))
    assert list(wb.rank(mean, [("x", "lower")], "A", n).index) == ["a", "b", "c", "d"]
    assert list(wb.rank(mean, [("x", "higher")], "A", n).index) == ["c", "b", "a", "d"]
    # two outcomes: mean rank (a: 1,3; b: 2,2; c: 3,1 -> all 2), ties broken by the first outcome
    both = wb.rank(mean, [("x", "lower"), ("y", "lower")], "A", n)
    assert list(both.index) == ["a", "b", "c", "d"] and list(both["score"])[:3] == [2.0, 2.0, 2.0]
    assert list(wb.rank(mean, [("y", "lower"), ("x", "lower")], "A", n).index) == ["c", "b", "a", "d"]


def test_against_the_top_design_reads_the_direction():
    from rcc_sim.reporting.workbench import APART, against_top

    assert against_top(-1.0, -2.0, -0.5, 5, "lower") == "better than the top design"
    assert against_top(-1.0, -2.0, -0.5, 5, "higher") == "worse than the top design"
    assert against_top(1.0, -2.0, 3.0, 5, "lower") == APART  # the interval includes zero
    assert against_top(1.0, 0.5, 3.0, 1, "lower") == APART  # one seed: no interval


def test_page_has_one_ranking_row_per_design(bench):
    _, out, _ = bench
    page = (out / wb.HTML_FILE).read_text()
    table = re.search(r'<table class="ranking">.*?</table>', page, re.S)
    assert table is not None
    rows = re.findall(r"<tr>", table.group(0).split("<tbody>")[1])
    assert len(rows) == 2
    assert "Search" in table.group(0) and "Blocks" in table.group(0)
    assert page.count("<figure") == 4  # one chart per outcome shown: the two ranked on, and the two chosen
    assert "block_discount" in page  # the assumption the block design rests on


def test_assumptions_follow_the_levers_in_use(bench):
    ds = bench[0].ds
    keys = {
        v: {a["key"].rsplit(".", 1)[-1] for a in json.loads(str(ds["assumptions"].sel(variant=v).item()))}
        for v in ("search", "blocks")
    }
    assert {"block_places", "block_discount", "pooled_search_miles", "setup_cost_gbp"} <= keys["blocks"]
    assert "pooled_search_miles" in keys["search"] and "block_discount" not in keys["search"]


def test_finished_runs_are_skipped_and_a_failed_design_does_not_stop_the_others(bench, tmp_path, monkeypatch):
    _, out, _ = bench
    study = tmp_path / "study"
    shutil.copytree(out / wb.RUNS_DIR, study / wb.RUNS_DIR)
    shutil.rmtree(study / wb.RUNS_DIR / "blocks")  # the block design to run again, and fail
    log = tmp_path / "calls.txt"
    counting(monkeypatch, log, fail="blocks")
    result = wb.run_workbench(make_config(jobs=1), study, log=lambda s: None)
    assert sorted(calls(log)) == ["blocks 0", "blocks 1"]  # the status quo and 'search' were done
    assert len(result.failed) == 2 and "simulated failure" in result.failed[0].message
    status = read_status(study / wb.RUNS_DIR / "blocks" / "seed0")
    assert status["state"] == "failed" and "simulated failure in blocks" in status["error"]["message"]
    ds = result.ds
    assert int(ds["n_seeds"].sel(variant="search")) == 2 and int(ds["n_seeds"].sel(variant="blocks")) == 0
    assert list(ds.variant.values) == ["search", "blocks"]  # no result: ranked last
    assert np.isfinite(float(ds["mean"].sel(variant="search", outcome="net_cost_gbp_m", area="RCC gm")))
    assert "simulated failure in blocks" in (study / wb.HTML_FILE).read_text()


@pytest.mark.parametrize(
    "designs, expected",
    [
        ([WorkbenchDesign("typo", "", {f"{RCC}.blok_places": 3})], ["'typo'", "blok_places", "did you mean"]),
        ([WorkbenchDesign("huge", "", {f"{RCC}.block_places": 5000})], ["'huge'", "block_places", "<= 1000"]),
        ([WorkbenchDesign("share", "", {f"{RCC}.retention_improvement": 1.5})], ["'share'", "retention_improvement"]),
        ([WorkbenchDesign("demand", "", {"demand.entry_rate_scale": 2.0})], ["'demand'", "not a policy key"]),
        ([WorkbenchDesign("x", "", {}), WorkbenchDesign("x", "", {})], ["'x'", "used twice"]),
        ([WorkbenchDesign("status_quo", "", {})], ["status_quo"]),
        ([], ["workbench.designs", "empty"]),
    ],
)
def test_bad_designs_are_refused_before_any_run(designs, expected, tmp_path, monkeypatch):
    log = tmp_path / "calls.txt"
    counting(monkeypatch, log)
    with pytest.raises(ConfigError) as err:
        wb.run_workbench(make_config(designs), tmp_path / "study", log=lambda s: None)
    for text in expected:
        assert text in str(err.value), str(err.value)
    assert calls(log) == [] and not (tmp_path / "study").exists()


def test_bad_ranking_is_refused():
    with pytest.raises(ConfigError, match="no such outcome"):
        wb.expand(make_config(rank_by=["happiness"]))
    with pytest.raises(ConfigError, match="homes_end:higher"):
        wb.expand(make_config(rank_by=["homes_end"]))  # no usual direction: say which is better
    with pytest.raises(ConfigError, match="rank_area"):
        wb.expand(make_config(rank_area="RCC nowhere"))


def test_grid_makes_one_design_per_combination():
    plan = wb.expand(make_config([], grid={f"{RCC}.block_places": [0, 4], f"{RCC}.enquiry_uplift": [0.0, 0.2, 0.3]}))
    names = [d.name for d in plan.designs]
    assert len(names) == 6 and "block_places=4,enquiry_uplift=0.2" in names
    d = plan.designs[names.index("block_places=4,enquiry_uplift=0.2")]
    assert d.cfg.policy.rccs["gm"].block_places == 4 and d.cfg.policy.rccs["gm"].enquiry_uplift == 0.2


def test_command_refuses_a_bad_lever_naming_it(tmp_path):
    """rcc-sim-workbench exits 2 with one message naming the design and key, leaving no directory."""
    run_dir = tmp_path / "wb"
    code = "import sys; from rcc_sim.cli import workbench; sys.argv[0] = 'rcc-sim-workbench'; workbench()"
    args = [
        "+experiment=workbench_south_east",
        "+workbench.designs.0.levers={policy.rccs.south_east.block_places: 5000}",
        f"hydra.run.dir={run_dir}",
    ]
    out = subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr
    assert "search_only" in out.stderr and "block_places" in out.stderr and "1000" in out.stderr, out.stderr
    assert not run_dir.exists()
