"""Reproduction: a run re-made from its manifest and config gives the same outputs bit for bit,
and any difference - in values, NaN positions, attributes or the environment - is reported
(rcc_sim/reproduce.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from conftest import run_cli
from omegaconf import OmegaConf

from rcc_sim.cli import reproduce as main
from rcc_sim.config import to_object
from rcc_sim.run import config_sha256
from rcc_sim.studies.reproduce import compare_datasets


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reproduce")
    out = run_cli("world=greater_manchester", "sim.years=0.05", "seed=2", f"hydra.run.dir={tmp / 'run'}", cwd=tmp)
    assert out.returncode == 0, out.stderr
    return tmp / "run"


def _copy(run_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(run_dir, tmp_path / "run"))


def test_manifest_holds_what_reproduction_needs(run_dir):
    man = json.loads((run_dir / "manifest.json").read_text())
    cfg = to_object(OmegaConf.load(run_dir / "config.yaml"))
    assert man["config_sha256"] == config_sha256(cfg) and man["seed"] == cfg.seed == 2
    assert man["config"]["sim"]["years"] == 0.05
    assert set(man["git"]) == {"commit", "dirty"} and man["data_checksums"] and man["packages"]["numpy"]


def test_command_reproduces_a_run_bit_for_bit(run_dir):
    exe = shutil.which(
        "rcc-sim-reproduce", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    )
    assert exe, "rcc-sim-reproduce is not installed: run `python3 -m pip install -e .`"
    out = subprocess.run([exe, str(run_dir)], capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"MATCH    {run_dir}" in out.stdout and "1 of 1 runs reproduced bit for bit" in out.stdout


def test_a_changed_value_is_reported(run_dir, tmp_path, capsys):
    copy = _copy(run_dir, tmp_path)
    ds = xr.load_dataset(copy / "results.nc", engine="h5netcdf")
    ds["children_in_care"][1, 3] += 1
    ds.to_netcdf(copy / "results.nc", engine="h5netcdf")
    assert main([str(copy)]) == 1
    out = capsys.readouterr().out
    assert "DIFFER" in out and "children_in_care: 1 of" in out
    assert "placements:" not in out  # only what changed is named


def test_environment_differences_are_warnings(run_dir, tmp_path, capsys):
    copy = _copy(run_dir, tmp_path)
    man = json.loads((copy / "manifest.json").read_text())
    man["packages"]["numpy"] = "0.0.1"
    first = min(man["data_checksums"])
    man["data_checksums"][first] = "0" * 64
    man["git"] = {"commit": "f" * 40, "dirty": True}
    (copy / "manifest.json").write_text(json.dumps(man))
    assert main([str(copy)]) == 0  # the outputs still match: warnings explain, they do not fail
    out = capsys.readouterr().out
    assert "warning: package numpy: 0.0.1 in the manifest" in out
    assert f"warning: data file {first}: changed" in out
    assert "warning: git commit: " + "f" * 40 in out and "uncommitted changes: its code is not exactly known" in out


def test_study_with_a_failed_run_does_not_pass(run_dir, tmp_path, capsys):
    study = tmp_path / "study"
    shutil.copytree(run_dir, study / "status_quo" / "seed2")
    failed = study / "status_quo" / "seed3"
    failed.mkdir(parents=True)
    (failed / "status.json").write_text(
        json.dumps(
            {"state": "failed", "policy": "status_quo", "seed": 3, "error": {"type": "RuntimeError", "message": "boom"}}
        )
    )
    assert main([str(study)]) == 1
    out = capsys.readouterr().out
    assert "SKIPPED" in out and "RuntimeError: boom" in out and "1 of 2 runs reproduced" in out


def test_compare_datasets_exact_including_nan_positions():
    a = xr.Dataset(
        {"x": ("t", np.array([1.0, np.nan, 3.0], "float32"))},
        coords={"t": [0, 1, 2], "name": ("t", ["a", "b", "c"])},
        attrs={"history": "written today"},
    )
    assert compare_datasets(a, a.copy(deep=True)) == []
    b = a.copy(deep=True)
    b.attrs["history"] = "written tomorrow"  # ignored: records when a file was written
    assert compare_datasets(a, b) == []
    c = a.copy(deep=True)
    c["x"].values[:] = [1.0, 2.0, np.nan]
    [msg] = compare_datasets(a, c)
    assert msg.startswith("x: 2 of 3 values differ") and "2 NaN in different places" in msg
    d = a.assign_coords(name=("t", ["a", "b", "z"]))
    assert compare_datasets(a, d) == ["name: 1 of 3 values differ"]
    e = a.copy(deep=True)
    e["x"].attrs["units"] = "children"
    assert compare_datasets(a, e) == ["x: attributes differ: ['units']"]
    f = a.copy(deep=True)
    f["x"].values[0] = np.nextafter(np.float32(1.0), np.float32(2.0))  # one ulp: bit for bit means bit for bit
    assert len(compare_datasets(a, f)) == 1
