"""Studies: many runs (scenarios x replicates x parameters) treated as one data set.

A study is a Hydra sweep (``rcc-sim -m +experiment=<name>``, configs in ``configs/experiment/``)
writing one run directory per job under ``outputs/studies/<name>/``. This module

* records each run's state in ``status.json`` in its directory (:func:`recording`) and lets a
  re-run sweep skip the runs already done with the same config and code (:func:`previous_run`);
* lists every run of a study with its state: done, failed (with the error), running or
  incomplete (killed) (:func:`runs`);
* opens the finished runs lazily as one Dataset with ``scenario`` and ``replicate`` dimensions
  (:func:`open_study`) and reduces it over replicates to mean, median and quantile bands
  (:func:`summary`);
* backs the ``rcc-sim-gather`` command, which writes ``sweep_summary.json``/``.txt`` and the
  combined ``study.nc``.

    from rcc_sim.studies.study import open_study, summary
    ds = open_study("outputs/studies/pathfinder_evaluation")     # lazy (dask)
    band = summary(ds["children_in_care"].sum("la").to_dataset())
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import json
import os
import socket
import time
import traceback
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from rcc_sim.files import atomic_write, atomic_write_text
from rcc_sim.run import MANIFEST_FILE, RESULTS_FILE, config_sha256, git_state

STATUS_FILE = "status.json"
SUMMARY_JSON = "sweep_summary.json"
SUMMARY_TXT = "sweep_summary.txt"
STUDY_FILE = "study.nc"
# overrides that are not parameters of a scenario: the replicate, the policy (already the label)
# and the experiment file itself
NOT_PARAMETERS = ("seed", "policy", "experiment")
# per-run attributes of results.nc that do not describe the combined study
RUN_ATTRS = ("config", "seed", "policy")
STATES = ("done", "failed", "running", "incomplete")


class StudyError(ValueError):
    """A path holds no runs, or runs that cannot be combined. The message names the path."""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


# --------------------------------------------------------------------------------------------
# Recording a run's state (called by the rcc-sim command)
# --------------------------------------------------------------------------------------------
def read_status(run_dir: Path) -> dict | None:
    """The run's ``status.json``, or None if it has none (or it cannot be read)."""
    try:
        return json.loads((Path(run_dir) / STATUS_FILE).read_text())
    except (OSError, ValueError):
        return None


def _write_status(run_dir: Path, status: dict) -> None:
    atomic_write_text(Path(run_dir) / STATUS_FILE, json.dumps(status, indent=2, default=str) + "\n")


def _code_commit() -> str | None:
    return git_state()["commit"]


def previous_run(run_dir: Path, cfg) -> tuple[bool, str | None]:
    """Whether ``run_dir`` already holds this run, done, with the same config and code commit.

    Returns (skip, message): skip is True only when the status is done, ``results.nc`` exists and
    both the config hash and the git commit match; message says why an earlier attempt is re-run.
    """
    status = read_status(run_dir)
    if status is None:
        return False, None
    state = status.get("state")
    if state != "done":
        return False, f"re-running {run_dir}: the earlier attempt is {state}"
    if not (Path(run_dir) / RESULTS_FILE).is_file():
        return False, f"re-running {run_dir}: status done but {RESULTS_FILE} is missing"
    if status.get("config_sha256") != config_sha256(cfg):
        return False, f"re-running {run_dir}: the config changed since the earlier run"
    commit = _code_commit()
    if status.get("git_commit") != commit:
        return False, f"re-running {run_dir}: code commit {status.get('git_commit')} -> {commit}"
    return True, f"skipped {run_dir}: already done ({status.get('finished')}) with this config and code"


@contextlib.contextmanager
def recording(run_dir: Path, cfg, overrides: Sequence[str] = ()) -> Iterator[None]:
    """Record the run in ``run_dir/status.json``: running, then done or failed (and re-raise).

    ``overrides`` are the command-line overrides of the job (Hydra's ``overrides.task``); they
    label the run's scenario when parameters are swept.
    """
    status = {
        "state": "running",
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": _now(),
        "policy": cfg.policy.name,
        "seed": cfg.seed,
        "overrides": list(overrides),
        "config_sha256": config_sha256(cfg),
        "git_commit": _code_commit(),
    }
    _write_status(run_dir, status)
    t0 = time.perf_counter()
    try:
        yield
    except BaseException as exc:  # KeyboardInterrupt and SystemExit too: the run did not finish
        status.update(
            state="failed",
            finished=_now(),
            wall_seconds=round(time.perf_counter() - t0, 3),
            error={
                "type": type(exc).__name__,
                "message": str(exc),
                "traceback": "".join(traceback.format_exception(exc)),
            },
        )
        _write_status(run_dir, status)
        raise
    status.update(state="done", finished=_now(), wall_seconds=round(time.perf_counter() - t0, 3))
    _write_status(run_dir, status)


# --------------------------------------------------------------------------------------------
# Listing runs
# --------------------------------------------------------------------------------------------
DETAIL = {"detail": True}  # RunInfo fields read for reports, left out of the sweep summary


@dataclass
class RunInfo:
    """One run of a study and its state; for reports also its manifest and config
    (:func:`rcc_sim.reporting.report.loading.read_run`)."""

    path: Path  # the run directory
    state: str  # done | failed | running | incomplete
    policy: str | None
    seed: int | None
    overrides: list[str] = field(default_factory=list)
    scenario: str = ""  # policy name, plus the parameters swept in the study
    error: str | None = None  # failed: "<Type>: <message>"; incomplete: what is missing
    traceback: str | None = None
    wall_seconds: float | None = None
    started: str | None = None
    host: str | None = None
    leftover_tmp: list[str] = field(default_factory=list)  # half-written files of a killed write
    rel: str = field(default=".", metadata=DETAIL)  # the directory relative to the study's
    manifest: dict = field(default_factory=dict, repr=False, metadata=DETAIL)  # manifest.json
    config_text: str = field(default="", repr=False, metadata=DETAIL)  # config.yaml as written
    config: Any = field(default=None, repr=False, metadata=DETAIL)  # the Config, if it still validates
    config_error: str = field(default="", metadata=DETAIL)  # why there is no config

    def to_dict(self, root: Path | None = None) -> dict:
        d = {f.name: copy.deepcopy(getattr(self, f.name)) for f in fields(self) if not f.metadata.get("detail")}
        d["path"] = str(self.path.relative_to(root) if root and self.path != root else self.path)
        return d


def _is_run_dir(d: Path) -> bool:
    return any((d / name).exists() for name in (STATUS_FILE, MANIFEST_FILE, RESULTS_FILE, ".hydra"))


def _run_dirs(path: Path) -> list[Path]:
    """Run directories at or below ``path`` (hidden directories such as .submitit are skipped)."""
    if _is_run_dir(path):
        return [path]
    found = []
    for root, dirs, _files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        here = Path(root)
        if here != path and _is_run_dir(here):
            found.append(here)
            dirs[:] = []  # runs are not nested
    return found


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` is running here (a zombie - dead, not yet reaped - is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError, IndexError):  # Linux: state is the field after "(comm)"
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def _load_yaml(path: Path) -> object:
    import yaml

    try:
        return yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return None


def _run_info(d: Path) -> RunInfo:
    status = read_status(d) or {}
    manifest = {}
    with contextlib.suppress(OSError, ValueError):
        manifest = json.loads((d / MANIFEST_FILE).read_text())
    job_cfg = _load_yaml(d / ".hydra" / "config.yaml") or {}
    policy = status.get("policy") or manifest.get("policy") or (job_cfg.get("policy") or {}).get("name")
    seed = status.get("seed", manifest.get("seed", job_cfg.get("seed")))
    overrides = status.get("overrides")
    if overrides is None:
        overrides = _load_yaml(d / ".hydra" / "overrides.yaml") or []
    info = RunInfo(
        path=d,
        state="incomplete",
        policy=policy,
        seed=None if seed is None else int(seed),
        overrides=[str(o) for o in overrides],
        wall_seconds=status.get("wall_seconds"),
        started=status.get("started"),
        host=status.get("host"),
        leftover_tmp=sorted(p.name for p in d.glob("*.tmp")),
    )
    has_results = (d / RESULTS_FILE).is_file()
    state = status.get("state")
    if state == "failed":
        err = status.get("error") or {}
        info.state, info.error = "failed", f"{err.get('type', 'Error')}: {err.get('message', '')}"
        info.traceback = err.get("traceback")
    elif state == "done" or (state is None and has_results and manifest):
        if has_results:
            info.state = "done"
            info.wall_seconds = info.wall_seconds or manifest.get("wall_seconds")
        else:
            info.error = f"status done but {RESULTS_FILE} is missing"
    elif state == "running":
        if status.get("host") == socket.gethostname() and _pid_alive(int(status.get("pid", -1))):
            info.state = "running"
        else:
            info.error = (
                f"status 'running' since {status.get('started')} on {status.get('host')} "
                f"(pid {status.get('pid')}) but no finished results: killed, or still running elsewhere"
            )
    else:
        info.error = "no status.json and no finished results: killed before it began, or not a run"
    return info


def _label_scenarios(infos: list[RunInfo]) -> None:
    """Scenario label = policy name, plus the overrides that differ between runs of the study
    (seed, policy and experiment excluded), e.g. 'status_quo,demand.entry_rate_scale=1.1'."""

    def params(info: RunInfo) -> dict[str, str]:
        out = {}
        for o in info.overrides:
            key, _, value = o.partition("=")
            key = key.lstrip("+~")
            if key not in NOT_PARAMETERS:
                out[key] = value
        return out

    all_params = [params(i) for i in infos]
    common = set.intersection(*(set(p.items()) for p in all_params)) if all_params else set()
    for info, p in zip(infos, all_params):
        varied = sorted(set(p.items()) - common)
        info.scenario = ",".join([str(info.policy)] + [f"{k}={v}" for k, v in varied])


def runs(path: str | Path) -> list[RunInfo]:
    """Every run at or below ``path`` (a sweep directory or one run directory) with its state.

    States: ``done`` (finished results), ``failed`` (raised: error and traceback recorded),
    ``running`` (status running and its process alive on this host) and ``incomplete`` (killed,
    or never started). Sorted by scenario, seed and path.
    """
    path = Path(path)
    if not path.is_dir():
        raise StudyError(f"{path}: no such directory")
    infos = [_run_info(d) for d in _run_dirs(path)]
    if not infos:
        raise StudyError(
            f"{path}: no runs found (no directory with {STATUS_FILE}, {MANIFEST_FILE} or {RESULTS_FILE} at or below it)"
        )
    _label_scenarios(infos)
    return sorted(infos, key=lambda i: (i.scenario, -1 if i.seed is None else i.seed, str(i.path)))


# --------------------------------------------------------------------------------------------
# Opening a study
# --------------------------------------------------------------------------------------------
def _without_run_attrs(ds: xr.Dataset) -> xr.Dataset:
    out = ds.copy(deep=False)
    out.attrs = {k: v for k, v in ds.attrs.items() if k not in RUN_ATTRS}
    return out


def _scenario_order(label: str) -> tuple[int, str]:
    return (0 if label.split(",")[0] == "status_quo" else 1, label)


def open_study(path: str | Path) -> xr.Dataset:
    """The finished runs at or below ``path`` as one lazy (dask) Dataset.

    Dimensions ``scenario`` (the policy name, plus swept parameters, see :func:`runs`; the status
    quo first) and ``replicate`` (the seed) come before each variable's own (``time``, ``la``,
    ...); coordinates ``policy`` (scenario) and ``run_dir`` (scenario, replicate; relative to
    ``path``, "" where that run is not done) say where each slice came from. A scenario missing a
    seed (failed or unfinished) has NaN there. Per-run attributes (config, seed, policy) are
    dropped; ``attrs`` keep what all runs share plus the run counts by state. Works on a single
    run directory too (length-1 dimensions).
    """
    path = Path(path)
    infos = runs(path)
    done = [i for i in infos if i.state == "done"]
    if not done:
        counts = {s: sum(i.state == s for i in infos) for s in STATES}
        raise StudyError(f"{path}: no finished runs to open ({counts}); see rcc-sim-gather {path}")
    scenarios: dict[str, list[RunInfo]] = {}
    for info in done:
        scenarios.setdefault(info.scenario, []).append(info)
    parts = []
    for label in sorted(scenarios, key=_scenario_order):
        group = scenarios[label]
        seeds = [i.seed for i in group]
        if len(set(seeds)) != len(seeds):
            dup = [str(i.path) for i in group if seeds.count(i.seed) > 1]
            raise StudyError(f"{path}: scenario {label!r} has the same seed in several runs: {dup}")
        ds = xr.open_mfdataset(
            [str(i.path / RESULTS_FILE) for i in group],
            engine="h5netcdf",
            chunks={},
            combine="nested",
            concat_dim="replicate",
            data_vars="all",
            coords="minimal",
            compat="override",
            join="outer",
            combine_attrs="drop_conflicts",
            preprocess=_without_run_attrs,
            parallel=False,
        )
        ds = ds.assign_coords(replicate=seeds).expand_dims(scenario=[label])
        parts.append(ds.assign_coords(policy=("scenario", [group[0].policy])).sortby("replicate"))
    las = {tuple(p["la"].values) for p in parts}
    if len(las) > 1:
        raise StudyError(f"{path}: scenarios cover different LAs (different worlds?); open them separately")
    out = xr.concat(
        parts,
        dim="scenario",
        data_vars="all",
        coords="minimal",
        compat="override",
        join="outer",
        combine_attrs="drop_conflicts",
    )
    where = {(i.scenario, i.seed): str(i.path.relative_to(path)) if i.path != path else "." for i in done}
    run_dir = np.array(
        [[where.get((s, int(r)), "") for r in out["replicate"].values] for s in out["scenario"].values], dtype=object
    )
    small = {c: out[c].compute() for c in out.coords if c not in out.dims}  # LA names, regions: not lazy
    out = out.assign_coords(small).assign_coords(
        scenario=np.array(out["scenario"].values, dtype=str), run_dir=(("scenario", "replicate"), run_dir)
    )
    out["replicate"].attrs.update(long_name="Replicate: the run's random seed (common across scenarios)")
    out["scenario"].attrs.update(long_name="Scenario: policy name, plus the parameters swept in the study")
    out.attrs = {k: v for k, v in out.attrs.items() if k not in RUN_ATTRS}
    out.attrs.update(study=str(path), **{f"runs_{s}": sum(i.state == s for i in infos) for s in STATES})
    return out


def _nanquantile(a: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """Quantiles over the last axis skipping NaN (numpy's 'linear' method), vectorised: numpy's own
    nanquantile loops over every element in Python once any NaN is present."""
    a = np.asarray(a, dtype=np.float64)
    s = np.sort(a, axis=-1)  # NaN sort last
    n = (~np.isnan(a)).sum(axis=-1)
    top = max(a.shape[-1] - 1, 0)
    out = []
    for q in qs:
        pos = q * np.maximum(n - 1, 0)
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, np.maximum(n - 1, 0))
        v_lo = np.take_along_axis(s, np.clip(lo, 0, top)[..., None], axis=-1)[..., 0]
        v_hi = np.take_along_axis(s, np.clip(hi, 0, top)[..., None], axis=-1)[..., 0]
        out.append(np.where(n > 0, v_lo + (pos - lo) * (v_hi - v_lo), np.nan))
    return np.stack(out, axis=-1)


def summary(ds: xr.Dataset, dim: str = "replicate", quantiles: Sequence[float] = (0.05, 0.95)) -> xr.Dataset:
    """Mean, median and quantile bands of every variable over ``dim`` (default: replicates).

    Returns the Dataset without ``dim`` and with a ``statistic`` dimension labelled
    ``mean``, ``median`` and ``p<100 q>`` for each quantile (``p5``, ``p95`` by default). Missing
    replicates (NaN) are skipped. Shares are summarised as they are (each replicate's own ratio):
    to aggregate areas first, sum counts and recompute shares (``metrics.aggregate``).
    """
    if dim not in ds.dims:
        raise StudyError(f"summary: dimension {dim!r} not in the Dataset (dims: {list(ds.dims)})")
    qs = [float(q) for q in quantiles]
    bad = [q for q in qs if not 0.0 <= q <= 1.0]
    if bad:
        raise StudyError(f"summary: quantiles must be within [0, 1], got {bad}")
    if ds.chunks:
        ds = ds.chunk({dim: -1})  # median and quantiles need the whole dimension in one chunk
    ds = ds.drop_vars([c for c in ds.coords if dim in ds[c].dims and c != dim])
    with warnings.catch_warnings():  # a period no replicate reached is NaN, silently
        warnings.filterwarnings("ignore", "Mean of empty slice", RuntimeWarning)
        mean = ds.mean(dim, keep_attrs=True)
    q = xr.apply_ufunc(
        _nanquantile,
        ds,
        input_core_dims=[[dim]],
        output_core_dims=[["statistic"]],
        kwargs={"qs": [0.5, *qs]},
        dask="parallelized",
        output_dtypes=[np.float64],
        dask_gufunc_kwargs={"output_sizes": {"statistic": len(qs) + 1}},
        keep_attrs=True,
    )
    labels = ["mean", "median"] + [f"p{v * 100:g}" for v in qs]
    out = xr.concat(
        [mean.expand_dims(statistic=1), q],
        dim="statistic",
        data_vars="all",
        coords="minimal",
        compat="override",
        join="outer",
    ).transpose("statistic", ...)
    out = out.assign_coords(statistic=labels)
    out["statistic"].attrs.update(long_name=f"Statistic over {dim}")
    out.attrs.update(ds.attrs, summarised_over=dim)
    return out


# --------------------------------------------------------------------------------------------
# rcc-sim-gather
# --------------------------------------------------------------------------------------------
def sweep_summary_text(path: Path, infos: list[RunInfo], problems_only: bool = False) -> str:
    """A readable list of the runs and their states (``problems_only``: the runs not done)."""
    counts = {s: sum(i.state == s for i in infos) for s in STATES}
    lines = [f"Study {path}: {len(infos)} runs - " + ", ".join(f"{n} {s}" for s, n in counts.items()), ""]
    for i in infos:
        if problems_only and i.state == "done":
            continue
        rel = str(i.path.relative_to(path)) if i.path != path else "."
        secs = f"{i.wall_seconds:.1f} s" if i.wall_seconds is not None else ""
        lines.append(f"{i.state:<11s} {i.scenario:<30s} seed {i.seed!s:>4s}  {secs:>9s}  {rel}")
        if i.error:
            lines.append(f"{'':12s}{i.error}")
        if i.leftover_tmp:
            lines.append(f"{'':12s}half-written files (ignored): {', '.join(i.leftover_tmp)}")
    return "\n".join(lines) + "\n"


def write_sweep_summary(path: str | Path, infos: list[RunInfo] | None = None) -> tuple[Path, Path]:
    """Write ``sweep_summary.json`` and ``sweep_summary.txt`` into ``path``: every run and its state."""
    path = Path(path)
    infos = runs(path) if infos is None else infos
    counts = {s: sum(i.state == s for i in infos) for s in STATES}
    doc = {"study": str(path), "written": _now(), "counts": counts, "runs": [i.to_dict(path) for i in infos]}
    js, txt = path / SUMMARY_JSON, path / SUMMARY_TXT
    atomic_write_text(js, json.dumps(doc, indent=2, default=str) + "\n")
    atomic_write_text(txt, sweep_summary_text(path, infos))
    return js, txt


def write_study(ds: xr.Dataset, out: Path) -> Path:
    """Write the combined Dataset to ``out`` (streamed chunk by chunk; atomic)."""
    return atomic_write(out, lambda tmp: ds.to_netcdf(tmp, engine="h5netcdf"))


# --------------------------------------------------------------------------------------------
# Runs not done: what to say, and how to resume
# --------------------------------------------------------------------------------------------
MULTIRUN_FILE = "multirun.yaml"  # written by Hydra into a sweep's directory


def resume_command(path: str | Path) -> str | None:
    """The command that resumes the sweep at ``path``: the sweep's own overrides (from Hydra's
    ``multirun.yaml``) with ``hydra.sweep.dir`` set to ``path``; None if ``path`` is not a sweep."""
    import shlex

    doc = _load_yaml(Path(path) / MULTIRUN_FILE)
    overrides = ((doc or {}).get("hydra") or {}).get("overrides") if isinstance(doc, dict) else None
    if not isinstance(overrides, dict):
        return None
    hydra_args = [
        str(o)
        for o in overrides.get("hydra") or []
        if not str(o).startswith(("hydra.mode=", "hydra.sweep.dir=", "hydra.run.dir="))
    ]
    args = [str(o) for o in overrides.get("task") or []] + hydra_args + [f"hydra.sweep.dir={path}"]
    return " ".join(["rcc-sim", "-m", *(shlex.quote(a) for a in args)])


def not_done_message(path: str | Path, infos: list[RunInfo]) -> str:
    """What a run list with runs not done means and what to do: for rcc-sim-gather's exit."""
    counts = {s: sum(i.state == s for i in infos) for s in STATES if s != "done"}
    n = sum(counts.values())
    if not n:
        return ""
    parts = ", ".join(f"{k} {s}" for s, k in counts.items() if k)
    text = f"{n} of {len(infos)} runs not done ({parts}; see {Path(path) / SUMMARY_TXT})."
    if counts["failed"] or counts["incomplete"]:
        cmd = resume_command(path)
        text += " To resume, run the sweep again: finished runs are skipped, failed and incomplete ones re-run" + (
            f":\n    {cmd}" if cmd else " (the same command, with hydra.sweep.dir set to this directory)."
        )
    if counts["running"]:
        text += f"\n{counts['running']} runs are still running: gather again when they have finished."
    return text
