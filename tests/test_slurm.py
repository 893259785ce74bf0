"""A tested path to a real cluster (issue 11): the smoke study through ``hydra/launcher=slurm``
on a real SLURM cluster, then resume, gather and reproduce on its output.

Needs ``sbatch`` and a running cluster: ``.ci/start_slurm.sh`` (run by ``.ci/run``) starts a
one-node cluster on this machine. Skipped, with the reason, when there is no ``sbatch``; under CI
(CI=1) a missing ``sbatch`` is a failure. The partition is ``$RCC_SLURM_PARTITION``, else the
cluster's default.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import rcc_sim_command

from rcc_sim.studies.study import runs

ARGS = ["sim.years=0.05", "output.report=false"]  # three weeks: a few seconds a run


def _partition() -> str:
    if os.environ.get("RCC_SLURM_PARTITION"):
        return os.environ["RCC_SLURM_PARTITION"]
    out = subprocess.run(["sinfo", "-h", "-o", "%P"], capture_output=True, text=True, timeout=60, check=False)
    names = [p.strip() for p in out.stdout.split()]
    default = [p.rstrip("*") for p in names if p.endswith("*")]
    if out.returncode != 0 or not names:
        pytest.fail(f"sbatch is installed but sinfo lists no partition (run .ci/start_slurm.sh?): {out.stderr}")
    return default[0] if default else names[0]


@pytest.fixture(scope="module")
def slurm_study(tmp_path_factory):
    if shutil.which("sbatch") is None:
        if os.environ.get("CI"):
            pytest.fail("CI: sbatch not found; .ci/run starts a one-node SLURM cluster with .ci/start_slurm.sh")
        pytest.skip("no sbatch on this machine: start a one-node cluster with .ci/start_slurm.sh (as root)")
    tmp = tmp_path_factory.mktemp("slurm")
    sweep = tmp / "smoke"
    command = rcc_sim_command() + [
        "-m",
        "+experiment=smoke",
        "hydra/launcher=slurm",
        f"hydra.launcher.partition={_partition()}",
        "hydra.launcher.timeout_min=20",
        "hydra.launcher.mem_gb=2",
        'hydra.launcher.setup=["export MPLBACKEND=Agg"]',
        f"hydra.sweep.dir={sweep}",
        *ARGS,
    ]

    def submit() -> subprocess.CompletedProcess:
        return subprocess.run(command, cwd=tmp, capture_output=True, text=True, timeout=1200, check=False)

    return submit(), sweep, submit


def test_smoke_study_runs_as_a_slurm_job_array(slurm_study):
    out, sweep, _ = slurm_study
    assert out.returncode == 0, f"{out.stdout}\n{out.stderr}"
    infos = runs(sweep)
    assert [(i.policy, i.seed, i.state) for i in infos] == [
        ("pathfinders", 0, "done"),
        ("pathfinders", 1, "done"),
        ("status_quo", 0, "done"),
        ("status_quo", 1, "done"),
    ], [(i.path, i.state, i.error) for i in infos]
    logs = sorted((sweep / ".submitit").rglob("*_log.out"))
    assert len(logs) >= 4, "each run is a task of a SLURM job (submitit writes one log per task)"
    hosts = {i.host for i in infos}
    assert all(hosts), hosts


def test_resubmitting_skips_the_done_runs(slurm_study):
    out, sweep, submit = slurm_study
    assert out.returncode == 0, out.stderr
    before = {p: p.stat().st_mtime_ns for p in sweep.rglob("results.nc")}
    logs_before = set((sweep / ".submitit").rglob("*_log.out"))
    again = submit()
    assert again.returncode == 0, f"{again.stdout}\n{again.stderr}"
    assert {p: p.stat().st_mtime_ns for p in sweep.rglob("results.nc")} == before, "a done run was re-run"
    new_logs = set((sweep / ".submitit").rglob("*_log.out")) - logs_before
    text = "".join(p.read_text() for p in new_logs)
    assert text.count("skipped") == 4, text


def test_gather_and_reproduce_on_the_cluster_output(slurm_study):
    out, sweep, _ = slurm_study
    assert out.returncode == 0, out.stderr
    exe = Path(rcc_sim_command("rcc-sim-gather")[0])
    g = subprocess.run([str(exe), str(sweep)], capture_output=True, text=True, timeout=600, check=False)
    assert g.returncode == 0, f"{g.stdout}\n{g.stderr}"
    assert (sweep / "study.nc").is_file() and "4 done" in g.stdout
    r = subprocess.run(
        [*rcc_sim_command("rcc-sim-reproduce"), str(sweep), "--jobs", "2"],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert r.returncode == 0, f"{r.stdout}\n{r.stderr}"
    assert "4 of 4 runs reproduced bit for bit" in r.stdout, r.stdout
