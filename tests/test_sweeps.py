"""Sweeps that cannot collide or lie (issue 11): a refused job is a failed job and the others
run; two copies of a sweep share its jobs; gather says when runs are not done and how to resume;
stale ``*.tmp`` files are cleared on resume; a killed joblib parent takes its workers with it;
``manifest.json`` records the SHA-256 of ``results.nc`` and ``rcc-sim-reproduce`` checks it."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import rcc_sim_command, run_cli

from rcc_sim.studies.study import STATUS_FILE, read_status, runs

SHORT = ("world=greater_manchester", "sim.years=0.05", "output.report=false")


def command(name: str, *args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    env = dict(os.environ, HYDRA_FULL_ERROR="0")
    return subprocess.run(
        rcc_sim_command(name) + list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def mixed_sweep(tmp_path_factory):
    """A sweep whose middle job has an invalid value (the issue's example)."""
    tmp = tmp_path_factory.mktemp("mixed")
    sweep = tmp / "sweep"
    args = ("-m", *SHORT, "demand.male_share=0.5,1.5,0.4", f"hydra.sweep.dir={sweep}")
    return run_cli(*args, cwd=tmp), sweep, args


def _job_dir(sweep: Path, num: int) -> Path:
    [d] = [p for p in sweep.iterdir() if p.is_dir() and p.name.startswith(f"{num}_")]
    return d


def test_invalid_job_fails_alone_and_the_others_run(mixed_sweep):
    out, sweep, _ = mixed_sweep
    assert out.returncode != 0, "a sweep with a refused job must exit non-zero"
    for num in (0, 2):  # the job after the invalid one ran too
        status = read_status(_job_dir(sweep, num))
        assert status and status["state"] == "done", (num, out.stdout, out.stderr)
        assert (_job_dir(sweep, num) / "results.nc").is_file()
    bad = _job_dir(sweep, 1)
    status = read_status(bad)
    assert status["state"] == "failed", status
    assert status["error"]["type"] == "ConfigError"
    assert "demand.male_share" in status["error"]["message"]
    assert not (bad / "results.nc").exists()
    assert "demand.male_share" in out.stderr


def test_gather_lists_the_refused_job_as_failed_and_exits_non_zero(mixed_sweep):
    out, sweep, args = mixed_sweep
    g = command("rcc-sim-gather", str(sweep), "--no-netcdf", cwd=sweep.parent)
    assert g.returncode != 0, f"gather exited 0 with a failed run\n{g.stdout}\n{g.stderr}"
    states = {i.path.name.split("_")[0]: (i.state, i.error) for i in runs(sweep)}
    assert states["1"][0] == "failed" and "demand.male_share" in states["1"][1], states
    assert "killed before it began" not in g.stdout + g.stderr
    assert "To resume" in g.stderr and "rcc-sim -m" in g.stderr and f"hydra.sweep.dir={sweep}" in g.stderr, g.stderr
    assert "demand.male_share=0.5,1.5,0.4" in g.stderr


def test_gather_exits_non_zero_on_an_incomplete_run(mixed_sweep, tmp_path):
    import shutil

    _, sweep, _ = mixed_sweep
    study = tmp_path / "study"
    shutil.copytree(_job_dir(sweep, 0), study / "a")
    shutil.copytree(_job_dir(sweep, 2), study / "b")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    status = read_status(study / "b")
    status.update(state="running", pid=dead.pid)
    (study / "b" / STATUS_FILE).write_text(json.dumps(status))
    (study / "b" / "results.nc").unlink()
    g = command("rcc-sim-gather", str(study), "--no-netcdf", cwd=tmp_path)
    assert g.returncode != 0, g.stdout
    assert "incomplete" in g.stderr and "resume" in g.stderr, g.stderr
    ok = command("rcc-sim-gather", str(study / "a"), "--no-netcdf", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr  # all done: exit 0


def test_resume_clears_stale_tmp_files_and_skips_done_runs(mixed_sweep):
    _, sweep, args = mixed_sweep
    done = _job_dir(sweep, 0)
    stale = [done / ".results.abc123.nc.tmp", done / ".status.json.xyz.tmp"]
    for p in stale:
        p.write_bytes(b"half a file")
    before = (done / "results.nc").stat().st_mtime_ns
    again = run_cli(*args, cwd=sweep.parent)
    assert not any(p.exists() for p in stale), [p.name for p in stale if p.exists()]
    assert (done / "results.nc").stat().st_mtime_ns == before, "a done run was re-run"
    assert f"skipped {done}" in again.stdout, again.stdout


def test_two_copies_of_a_sweep_share_its_jobs(tmp_path):
    """Started together, two copies run each job once between them (a job another live process
    holds is skipped), and both end with every run done."""
    sweep = tmp_path / "smoke"
    args = ["-m", "+experiment=smoke", "sim.years=0.05", "output.report=false", f"hydra.sweep.dir={sweep}"]
    env = dict(os.environ, HYDRA_FULL_ERROR="0")
    procs = [
        subprocess.Popen(
            rcc_sim_command() + args, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=900) for p in procs]
    for p, (so, se) in zip(procs, outs):
        assert p.returncode == 0, f"{so}\n{se}"
    written = sum(so.count("results written to") for so, _ in outs)
    assert written == 4, f"{written} runs for 4 jobs:\n" + "\n---\n".join(so for so, _ in outs)
    assert [i.state for i in runs(sweep)] == ["done"] * 4


def test_run_dir_lock_names_its_holder(tmp_path):
    from rcc_sim.studies.jobs import RunDirLock, RunDirLocked

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from rcc_sim.studies.jobs import RunDirLock; "
            f"lock = RunDirLock({str(tmp_path)!r}).acquire(); print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunDirLocked, match=f"pid {holder.pid}"):
            RunDirLock(tmp_path).acquire()
    finally:
        holder.kill()
        holder.wait()
    with RunDirLock(tmp_path) as lock:  # the OS released the dead holder's lock
        assert lock.held


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (dead, not yet reaped) is not running
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return True


def test_killing_a_joblib_sweep_stops_its_workers(tmp_path):
    sweep = tmp_path / "sweep"
    args = [
        "-m",
        "world=england",
        "sim.years=3",
        "seed=0,1",
        "output.report=false",
        "hydra/launcher=local_parallel",
        "hydra.launcher.n_jobs=2",
        f"hydra.sweep.dir={sweep}",
    ]
    parent = subprocess.Popen(
        rcc_sim_command() + args,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    workers: list[int] = []
    try:
        deadline = time.time() + 240
        while time.time() < deadline and len(workers) < 2:
            time.sleep(0.5)
            found = [read_status(p.parent) for p in sweep.rglob(STATUS_FILE)] if sweep.exists() else []
            workers = [s["pid"] for s in found if s and s.get("state") == "running"]
            assert parent.poll() is None, "the sweep ended before both runs started"
        assert len(workers) == 2, "both runs did not start within 4 minutes"
        assert all(w != parent.pid for w in workers)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        deadline = time.time() + 30
        while time.time() < deadline and any(_pid_alive(w) for w in workers):
            time.sleep(0.5)
        alive = [w for w in workers if _pid_alive(w)]
        assert not alive, f"workers {alive} still running 30 s after their parent was killed"
    finally:
        for pid in [*workers, parent.pid]:
            if _pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
    assert {i.state for i in runs(sweep)} == {"incomplete"}


def test_manifest_records_results_sha256_and_reproduce_checks_it(tmp_path):
    from rcc_sim.studies.reproduce import reproduce_run

    run_dir = tmp_path / "run"
    out = run_cli(*SHORT, f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    manifest = json.loads((run_dir / "manifest.json").read_text())
    data = (run_dir / "results.nc").read_bytes()
    assert manifest["results_sha256"] == hashlib.sha256(data).hexdigest()
    assert reproduce_run(run_dir).status == "match"
    # the last byte of the file changed (the values read may even be the same): the checksum catches it
    (run_dir / "results.nc").write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    check = reproduce_run(run_dir)
    assert check.status == "differ" and "SHA-256" in check.differences[0], check  # checked first
    r = command("rcc-sim-reproduce", str(run_dir), cwd=tmp_path)
    assert r.returncode == 1 and "SHA-256" in r.stdout, r.stdout
    # a manifest from before the checksum was recorded: a warning, not a failure
    (run_dir / "results.nc").write_bytes(data)
    del manifest["results_sha256"]
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    check = reproduce_run(run_dir)
    assert check.status == "match" and any("no SHA-256" in w for w in check.warnings), check


def test_a_sweep_shares_each_seeds_spin_up_with_the_same_bits(tmp_path):
    """With output.share_spin_up the first run of a seed leaves its base-date state in
    <sweep>/.spin_up and the other policy's run goes on from it; every run's results are those
    of running it alone."""
    import numpy as np
    import xarray as xr

    import rcc_sim
    from rcc_sim.run import simulate, write_run

    sweep = tmp_path / "shared"
    common = ["sim.years=0.05", "sim.spin_up_years=1", "output.report=false", "output.share_spin_up=true"]
    r = run_cli("-m", "+experiment=smoke", *common, f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert len(list((sweep / ".spin_up").glob("*.pkl"))) == 2  # one state per seed, shared by both policies
    assert r.stdout.count("spin-up not simulated again") == 2, r.stdout
    done = runs(sweep)
    assert [i.state for i in done] == ["done"] * 4
    for info in done:
        cfg = rcc_sim.load_config(["+experiment=smoke", f"policy={info.scenario}", f"seed={info.seed}", *common])
        alone = write_run(simulate(cfg), cfg, tmp_path / "alone" / info.scenario / str(info.seed))
        a = xr.open_dataset(alone / "results.nc", engine="h5netcdf")
        b = xr.open_dataset(info.path / "results.nc", engine="h5netcdf")
        for name in a.data_vars:
            same = np.array_equal(a[name].values, b[name].values, equal_nan=True)
            assert same, f"{info.scenario} seed {info.seed}: {name}"
