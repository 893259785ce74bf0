"""The ``rcc-sim`` command end to end: one short Greater Manchester run in a subprocess."""

from __future__ import annotations

import hashlib
import json
from importlib import metadata

import numpy as np
import pytest
import xarray as xr
import yaml
from conftest import REPO, run_cli
from test_worlds import composed

from rcc_sim.data import DATA_DIR
from rcc_sim.run import simulate

ARGS = ("world=greater_manchester", "sim.years=0.25", "seed=1")


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    run_dir = tmp / "run"
    out = run_cli(*ARGS, f"hydra.run.dir={run_dir}", cwd=tmp)
    return out, run_dir


def test_exits_zero_and_says_where(cli_run):
    out, run_dir = cli_run
    assert out.returncode == 0, f"{out.stdout}\n{out.stderr}"
    assert str(run_dir) in out.stdout, out.stdout


def test_writes_results(cli_run):
    out, run_dir = cli_run
    assert out.returncode == 0, out.stderr
    with xr.open_dataset(run_dir / "results.nc", engine="h5netcdf") as ds:
        assert ds.sizes["la"] == 10
        assert ds.sizes["time"] == 13
        assert ds.attrs["world"] == "greater_manchester" and int(ds.attrs["seed"]) == 1
        assert float(ds["children_in_care"].sum()) > 0


def test_cli_results_equal_library_run(cli_run):
    """The command runs exactly the config it composes: same numbers as simulate() in-process."""
    out, run_dir = cli_run
    assert out.returncode == 0, out.stderr
    expected = simulate(composed(*ARGS))
    with xr.open_dataset(run_dir / "results.nc", engine="h5netcdf") as got:
        assert list(got["la"].values) == list(expected["la"].values)
        for name in expected.data_vars:
            np.testing.assert_array_equal(got[name].values, expected[name].values, err_msg=name)


def test_writes_config_yaml(cli_run):
    out, run_dir = cli_run
    assert out.returncode == 0, out.stderr
    cfg = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert cfg["world"]["name"] == "greater_manchester"
    assert len(cfg["world"]["la_codes"]) == 10
    assert cfg["sim"]["years"] == 0.25 and cfg["seed"] == 1
    assert cfg["demand"]["entry_rate_scale"] == 1.0  # the full resolved config, not just overrides


def test_writes_manifest(cli_run):
    out, run_dir = cli_run
    assert out.returncode == 0, out.stderr
    man = json.loads((run_dir / "manifest.json").read_text())
    for key in ("seed", "packages", "git", "data_checksums"):
        assert key in man, key
    assert man["seed"] == 1
    assert man["packages"]["numpy"] == metadata.version("numpy")
    assert man["packages"]["xarray"] == metadata.version("xarray")
    assert "python" in man["packages"]
    assert set(man["git"]) >= {"commit", "dirty"}
    if (REPO / ".git").exists():
        assert man["git"]["commit"] and len(man["git"]["commit"]) == 40
    shipped = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in DATA_DIR.iterdir()
        if p.suffix in (".csv", ".geojson", ".md")
    }
    assert man["data_checksums"] == shipped
    assert man["config"]["world"]["name"] == "greater_manchester"


def test_nothing_written_outside_run_dir(cli_run):
    out, run_dir = cli_run
    assert out.returncode == 0, out.stderr
    assert {p.name for p in run_dir.parent.iterdir()} == {"run"}


def test_sweep_writes_one_run_per_seed(tmp_path):
    """`rcc-sim -m seed=0,1` (the README's sweep) gives one complete run directory per job."""
    sweep = tmp_path / "sweep"
    out = run_cli(
        "-m", "world=greater_manchester", "sim.years=0.05", "seed=0,1", f"hydra.sweep.dir={sweep}", cwd=tmp_path
    )
    assert out.returncode == 0, f"{out.stdout}\n{out.stderr}"
    manifests = sorted(sweep.rglob("manifest.json"))
    assert len(manifests) == 2, manifests
    assert sorted(json.loads(p.read_text())["seed"] for p in manifests) == [0, 1]
    for p in manifests:
        assert (p.parent / "results.nc").exists() and (p.parent / "config.yaml").exists()
