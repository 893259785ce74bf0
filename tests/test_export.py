"""Exports for the evaluation partner: tidy annual tables by scenario, replicate, DfE year and
area, with ratios recomputed from summed counts, and a codebook (rcc_sim/export.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import GM3, small_config
from test_worlds import composed

from rcc_sim.engine.recorder import SHARES
from rcc_sim.reporting.export import MODEL_ONLY, PUBLISHED, export_study
from rcc_sim.run import simulate, write_run

BRACKNELL = "E06000036"  # a South East LA: two regions, and a one-member South East RCC group
YEARS = 1.1  # one full DfE year (2024-25) and five weeks of 2025-26


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """Two policies x two seeds written as a study directory, then exported."""
    root = tmp_path_factory.mktemp("export") / "study"
    pathfinders = composed("policy=pathfinders").policy
    # only three GM LAs are simulated: an RCC's members must all be in the world (issue 11)
    pathfinders.rccs["greater_manchester"].members = list(GM3)
    pathfinders.rccs["south_east"].region = ""
    pathfinders.rccs["south_east"].opt_out = []  # opting out is from a region's RCC
    pathfinders.rccs["south_east"].members = [BRACKNELL]
    for name in ("status_quo", "pathfinders"):
        for seed in (0, 1):
            cfg = small_config(years=YEARS, seed=seed, la_codes=GM3 + [BRACKNELL])
            if name == "pathfinders":
                cfg.policy = pathfinders
            write_run(simulate(cfg), cfg, root / name / f"seed{seed}")
    out = root / "export"
    export_study(root, out)
    return root, out


@pytest.fixture(scope="module")
def table(study):
    return pd.read_parquet(study[1] / "outcomes_annual.parquet")


def _results(root: Path, policy: str, seed: int) -> xr.Dataset:
    return xr.load_dataset(root / policy / f"seed{seed}" / "results.nc", engine="h5netcdf")


def test_one_row_per_scenario_replicate_period_area(table):
    areas = set(GM3 + [BRACKNELL, "North West", "South East", "England", "RCC greater_manchester", "RCC south_east"])
    assert set(table["area"]) == areas
    assert set(table["period"]) == {"2024-25", "2025-26"}
    assert len(table) == 2 * 2 * 2 * len(areas)
    assert not table.duplicated(["scenario", "replicate", "period", "area"]).any()
    assert dict(zip(table["period"], table["weeks"])) == {"2024-25": 52, "2025-26": 5}
    kinds = dict(zip(table["area"], table["area_type"]))
    assert (kinds[GM3[0]], kinds["North West"], kinds["England"], kinds["RCC south_east"]) == (
        "la",
        "region",
        "england",
        "rcc",
    )


def test_weekly_flows_summed_and_stocks_at_31_march(study, table):
    root, _ = study
    ds = _results(root, "pathfinders", 1)
    row = table.query("scenario == 'pathfinders' and replicate == 1 and period == '2024-25' and area == @GM3[0]").iloc[
        0
    ]
    year = ds.sel(la=GM3[0]).where(ds["stat_year"] == 2025, drop=True)
    assert row["starts"] == pytest.approx(float(year["starts"].astype("float64").sum()))
    assert row["spend__ifa_foster"] == pytest.approx(
        float(year["spend"].sel(placement_type="ifa_foster").astype("float64").sum())
    )
    at_31_march = ds.sel(la=GM3[0], time=np.datetime64("2025-03-31"))
    assert row["children_in_care"] == float(at_31_march["children_in_care"])
    assert row["ceased__adopted"] == pytest.approx(float(year["ceased"].sel(exit_route="adopted").sum()))


def test_unfinished_year_has_no_annual_measures(table):
    partial = table[table["period"] == "2025-26"]
    assert partial["children_in_care_31mar"].isna().all()  # for England too: not summed to 0
    assert table.loc[table["period"] == "2024-25", "children_in_care_31mar"].notna().all()


def test_areas_sum_counts_and_recompute_ratios(table):
    counts = [c for c in table.columns if c.split("__")[0] not in SHARES and table[c].dtype.kind == "f"]
    for (_, _, _), g in table.groupby(["scenario", "replicate", "period"]):
        by = g.set_index("area")
        las = by.loc[GM3 + [BRACKNELL], counts].sum(min_count=1)
        np.testing.assert_allclose(
            by.loc["England", counts].astype(float), las.astype(float), rtol=1e-9, equal_nan=True
        )
        np.testing.assert_allclose(
            by.loc["RCC greater_manchester", counts].astype(float),
            by.loc[GM3, counts].sum(min_count=1).astype(float),
            rtol=1e-9,
            equal_nan=True,
        )
        england = by.loc["England"]
        assert england["share_family_based"] == pytest.approx(england["family_based"] / england["children_in_care"])
        assert england["share_over_20_miles"] == pytest.approx(england["over_20_miles"] / england["located"])
        assert england["mean_days_to_placement"] == pytest.approx(
            england["days_to_placement"] / england["placements_made"]
        )


def test_csv_and_parquet_hold_the_same_table(study, table):
    csv = pd.read_csv(study[1] / "outcomes_annual.csv")
    pd.testing.assert_frame_equal(csv, table, check_dtype=False, check_exact=False, rtol=1e-12)


def test_summary_over_replicates(study, table):
    s = pd.read_parquet(study[1] / "outcomes_annual_summary.parquet")
    assert set(s["statistic"]) == {"mean", "median", "p5", "p95"}
    key = "scenario == 'status_quo' and period == '2024-25' and area == 'England'"
    rows = table.query(key)
    stats = s.query(key).set_index("statistic")
    assert stats.loc["mean", "starts"] == pytest.approx(rows["starts"].mean())
    assert (
        stats.loc["p5", "spend__private_home"]
        <= stats.loc["median", "spend__private_home"]
        <= stats.loc["p95", "spend__private_home"]
    )


def test_codebook_lists_every_column_with_units_and_source(study, table):
    cb = pd.read_csv(study[1] / "codebook.csv", keep_default_na=False)
    summary_cols = pd.read_csv(study[1] / "outcomes_annual_summary.csv", nrows=1).columns
    assert set(cb["column"]) == set(table.columns) | set(summary_cols)
    by = cb.set_index("column")
    assert by.loc["children_in_care", "units"] == "children"
    assert (
        by.loc["spend__ifa_foster", "units"] == "GBP"
        and by.loc["spend__ifa_foster", "category"] == "placement_type=ifa_foster"
    )
    assert "31 March" in by.loc["children_in_care", "published_statistic"]
    assert by.loc["siblings_split", "published_statistic"] == MODEL_ONLY
    assert "never averaged" in by.loc["share_family_based", "area_aggregation"]
    assert by.loc["starts", "period_aggregation"] == "sum over the period"
    md = (study[1] / "codebook.md").read_text()
    assert all(f"`{c}`" in md for c in cb["column"])


def test_published_mapping_covers_every_output_variable(study):
    """Each variable a run writes has a published-statistic entry, and no entry is stale."""
    ds = _results(study[0], "status_quo", 0)
    assert set(PUBLISHED) == set(ds.data_vars)


def test_export_command(study, tmp_path):
    exe = shutil.which("rcc-sim-export", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    assert exe, "rcc-sim-export is not installed: run `python3 -m pip install -e .`"
    one_run = study[0] / "status_quo" / "seed0"
    out = subprocess.run(
        [exe, str(one_run), "--out", str(tmp_path / "x")], capture_output=True, text=True, timeout=300, check=False
    )
    assert out.returncode == 0, out.stderr
    df = pd.read_csv(tmp_path / "x" / "outcomes_annual.csv")
    assert set(df["replicate"]) == {0} and set(df["scenario"]) == {"status_quo"}
    bad = subprocess.run([exe, str(tmp_path / "nothing")], capture_output=True, text=True, timeout=300, check=False)
    assert bad.returncode == 2 and str(tmp_path / "nothing") in bad.stderr and "Traceback" not in bad.stderr
