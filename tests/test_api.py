"""The Python API for notebooks (rcc_sim.load_config, simulate, compare): the same configs and
results as the commands, and bad input named as the commands name it."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from conftest import CONFIG_DIR, rcc_sim_command, run_cli

import rcc_sim
from rcc_sim.config import ConfigError
from rcc_sim.run import config_yaml

ARGS = ["world=greater_manchester", "sim.years=0.2"]
REFORM = ["policy=pathfinders", "policy.rccs.greater_manchester.ramp_up_years=0.05"]  # live within the run


def test_load_config_is_what_the_command_runs(tmp_path):
    overrides = [*ARGS, "seed=3", "demand.entry_rate_scale=1.1", "output.report=false"]
    run_dir = tmp_path / "run"
    out = run_cli(*overrides, f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    cfg = rcc_sim.load_config(overrides)
    assert config_yaml(cfg) == (run_dir / "config.yaml").read_text()
    assert cfg.world.name == "greater_manchester" and cfg.seed == 3 and cfg.demand.entry_rate_scale == 1.1


def test_load_config_inside_a_hydra_app_leaves_it_as_it_was():
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3", job_name="outer"):
        cfg = rcc_sim.load_config(ARGS)
        assert GlobalHydra.instance().is_initialized()
        assert compose(config_name="config", overrides=["seed=5"]).seed == 5  # the outer app still composes
    assert not GlobalHydra.instance().is_initialized()
    assert cfg == rcc_sim.load_config(ARGS)


@pytest.mark.parametrize(
    "override,key",
    [
        ("sim.yearz=1", "sim.yearz"),
        ("foo=1", "foo"),
        ("sim.years=abc", "sim.years"),
        ("seed=x", "seed"),
        ("demand.entry_rate_scale=-1", "demand.entry_rate_scale"),
        ("output.progress=sometimes", "output.progress"),
    ],
)
def test_bad_key_or_value_raises_config_error_naming_it(override, key):
    with pytest.raises(ConfigError, match=f"'{key}'"):
        rcc_sim.load_config([*ARGS, override])


def test_simulate_returns_the_run_dataset():
    ds = rcc_sim.simulate(rcc_sim.load_config(ARGS))
    assert isinstance(ds, xr.Dataset)
    assert ds["children_in_care"].dims == ("time", "la") and ds.sizes["la"] == 10
    assert float(ds["children_in_care"].isel(time=-1).sum()) > 0


def test_compare_is_what_rcc_sim_compare_writes(tmp_path):
    cfg = rcc_sim.load_config([*ARGS, *REFORM])
    cmp = rcc_sim.compare(cfg, seeds=[0, 1])
    assert cmp.attrs["policy"] == "pathfinders" and list(cmp.replicate.values) == [0, 1]
    assert "England" in cmp.area.values and "RCC greater_manchester" in cmp.area.values
    d = cmp["share_over_20_miles__difference"].sel(area="England")
    by_seed = cmp["share_over_20_miles__by_seed"].sel(area="England")
    assert float(d) == pytest.approx(float(by_seed.mean()))
    out = run_cli_compare(tmp_path, [*ARGS, *REFORM, "compare.seeds=[0,1]", "compare.jobs=1"])
    with xr.open_dataset(out / "comparison.nc", engine="h5netcdf") as written:
        assert set(written.data_vars) == set(cmp.data_vars)
        for name in cmp.data_vars:
            np.testing.assert_array_equal(written[name].values, cmp[name].values, err_msg=name)


def run_cli_compare(tmp_path, overrides: list[str]):
    import subprocess

    out_dir = tmp_path / "compare"
    out = subprocess.run(
        rcc_sim_command("rcc-sim-compare") + [*overrides, f"hydra.run.dir={out_dir}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    return out_dir
