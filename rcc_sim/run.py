"""Running one simulation and writing its results: Dataset, resolved config, manifest."""

from __future__ import annotations

import dataclasses
import functools
import gc
import hashlib
import json
import platform
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from rcc_sim.config import Config, PolicyConfig, to_object
from rcc_sim.data import checksums
from rcc_sim.engine.model import CareSystemModel, same_spin_up
from rcc_sim.files import atomic_write, atomic_write_text

PACKAGES = (
    "rcc-sim",
    "mesa",
    "numpy",
    "simpy",
    "xarray",
    "pandas",
    "scipy",
    "hydra-core",
    "omegaconf",
    "matplotlib",
    "h5netcdf",
    "h5py",
)
RESULTS_FILE = "results.nc"
MANIFEST_FILE = "manifest.json"
CONFIG_FILE = "config.yaml"


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_state() -> dict[str, Any]:
    """Commit of the source tree (if it is a git checkout) and whether it had uncommitted changes."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=root,
                capture_output=True,
                text=True,
                timeout=10,
            ).stdout.strip()
        )
        return {"commit": commit, "dirty": dirty}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def config_yaml(cfg: Config) -> str:
    from omegaconf import OmegaConf

    return OmegaConf.to_yaml(OmegaConf.structured(cfg))


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes (read in 1 MB blocks)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def config_sha256(cfg: Config) -> str:
    """SHA-256 of the resolved config (its YAML): two runs with the same hash ran the same config."""
    return hashlib.sha256(config_yaml(cfg).encode()).hexdigest()


def simulate(
    cfg: Config | dict | Any,
    progress: Callable[[int, int, float], None] | None = None,
    spin_up_cache: Path | None = None,
) -> xr.Dataset:
    """Run one simulation and return its outcomes as a labelled Dataset. ``progress(weeks_done,
    n_weeks, model_day)`` is called after each week (e.g. :class:`rcc_sim.progress.WeekProgress`).
    ``spin_up_cache``: a directory of spin-up states (:func:`model_at_base`)."""
    cfg = to_object(cfg)
    if spin_up_cache is not None and cfg.sim.spin_up_years > 0:
        model = model_at_base(cfg, Path(spin_up_cache), progress)
    else:
        model = CareSystemModel(cfg)
    model.run(progress=progress)
    return to_dataset(model, include_spin_up=cfg.output.include_spin_up)


SPIN_UP_DIR = ".spin_up"  # in a sweep directory: the spin-up states its runs share


@functools.lru_cache(maxsize=1)
def package_fingerprint() -> str:
    """SHA-256 of the package's code and data files: what a spin-up state depends on besides its config."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def spin_up_key(cfg: Config) -> str:
    """The name of ``cfg``'s spin-up state: its config without the policy, and the package."""
    h = hashlib.sha256(config_yaml(dataclasses.replace(cfg, policy=PolicyConfig())).encode())
    h.update(package_fingerprint().encode())
    return h.hexdigest()[:40]


def model_at_base(cfg: Config, cache: Path, progress: Callable[[int, int, float], None] | None = None):
    """A model of ``cfg`` at the base date: continued from the state in ``cache`` that a run of
    another policy with the same config, seed and code left there, or spun up now (and its state
    left there for the others). Either way the run gives the same bits as without the cache
    (tests/test_spinup.py). A file that cannot be read is replaced. The states are pickles: keep
    the directory with the study it belongs to (delete it when the study is done)."""
    path = cache / f"{spin_up_key(cfg)}.pkl"
    if path.is_file():
        try:
            model = CareSystemModel.from_snapshot(zlib.decompress(path.read_bytes()), cfg)
            print(f"rcc-sim: spin-up not simulated again: continued from {path}")
            return model
        except Exception as exc:  # damaged, or written by something else: spin up again
            print(f"rcc-sim: spin-up state {path} not used ({type(exc).__name__}: {exc})", file=sys.stderr)
    model = CareSystemModel(cfg)
    model.run_to_base(progress)
    cache.mkdir(parents=True, exist_ok=True)
    state = zlib.compress(model.snapshot(), 1)  # England: 191 MB -> 32 MB
    atomic_write(path, lambda tmp: tmp.write_bytes(state))
    return model


def simulate_arms(
    cfgs: Sequence[Config | dict | Any], progress: Sequence[Callable[[int, int, float], None] | None] | None = None
) -> list[xr.Dataset]:
    """Run the arms of one comparison - configs equal but for ``policy`` (same seed: common random
    numbers) - each exactly as :func:`simulate` would, with one spin-up for all.

    A policy acts only from the base date, so every arm reaches it in the same state: the first
    arm runs its spin-up to the base date (``CareSystemModel.run_to_base``), the state is kept
    (``snapshot``) and each other arm goes on from a copy of it (``from_snapshot``). The outputs
    are bit for bit those of running each arm alone (tests/test_spinup.py), and a pair of ten-year
    England runs simulates 28 years instead of 36. Arms that differ in more than the policy, or
    runs without a spin-up, are run one by one. ``progress``: one callback per arm (or None)."""
    return list(iter_arms(cfgs, progress))


def iter_arms(
    cfgs: Sequence[Config | dict | Any], progress: Sequence[Callable[[int, int, float], None] | None] | None = None
) -> Iterator[xr.Dataset]:
    """:func:`simulate_arms`, yielding each arm's Dataset as it ends (so that many arms need not be
    held at once)."""
    cfgs = [to_object(c) for c in cfgs]
    calls = list(progress) if progress is not None else [None] * len(cfgs)
    first = cfgs[0] if cfgs else None
    shared = (
        first is not None
        and len(cfgs) > 1
        and first.sim.spin_up_years > 0
        and all(same_spin_up(c, first) for c in cfgs[1:])
    )
    if not shared:
        for c, p in zip(cfgs, calls):
            yield simulate(c, p)
        return
    model = CareSystemModel(first)
    model.run_to_base(calls[0])
    state = model.snapshot()
    for k, (c, p) in enumerate(zip(cfgs, calls)):
        if k > 0:
            model = CareSystemModel.from_snapshot(state, c)
        model.run(progress=p)
        ds = to_dataset(model, include_spin_up=c.output.include_spin_up)
        del model
        # the run's children and units hold cycles (child <-> unit) that outlive it, and the run
        # pauses the collector (model.gc_paused): without a full collection here, a dozen England
        # arms from one spin-up held 5 GB and growing
        gc.collect()
        yield ds


def to_dataset(model: CareSystemModel, include_spin_up: bool = False) -> xr.Dataset:
    """The run's outcomes from the base date on; with ``include_spin_up`` (and ``sim.spin_up_years``)
    also the spin-up's weeks and years before it (``attrs['base_date']`` says where the base is),
    which a run stores only with ``output.include_spin_up`` on."""
    cfg, w = model.cfg, model.world
    first_week = model.rec.first_week  # weeks before it were not stored (Recorder)
    if include_spin_up and first_week:
        raise ValueError(
            "the spin-up's weeks were not kept by this run: run it with output.include_spin_up=true to output them"
        )
    first = np.datetime64(f"{w.start_year}-03-31")  # the model's first day (before the base with a spin-up)
    times = first + model.week_ends[first_week:].astype("timedelta64[D]")
    year_ends = first + model.year_ends.astype("timedelta64[D]")
    idx = w.sim_index
    attrs = {
        "title": "rcc-sim outcomes",
        "world": cfg.world.name,
        "policy": cfg.policy.name,
        "seed": cfg.seed,
        "base_date": f"{cfg.sim.start_year}-03-31",
        "conventions": "counts by looking-after LA (children) or by location LA (supply); money in 2024 GBP",
        "config": config_yaml(cfg),
    }
    ds = model.rec.to_dataset(
        times,
        model.stat_year[first_week:],
        year_ends,
        {
            "code": w.codes,
            "name": w.names,
            "region": w.regions,
            "lat": w.lat,
            "lon": w.lon,
            "child_population": w.child_population,
        },
        cfg.output.float_dtype,
        attrs,
    )
    ds.attrs["spin_up_years"] = model.spin_up_years
    if model.spin_up_years and not include_spin_up:
        ds = ds.isel(time=slice(model.base_week - first_week, None), year=slice(model.spin_up_years, None))
    return ds.isel(la=idx) if len(idx) != w.n_la else ds


def write_run(ds: xr.Dataset, cfg: Config, out_dir: Path, seconds: float | None = None) -> Path:
    """Write results.nc, config.yaml and manifest.json into ``out_dir`` (each atomically)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if cfg.output.write_netcdf:
        atomic_write(out_dir / RESULTS_FILE, lambda tmp: ds.to_netcdf(tmp, engine="h5netcdf"))
    atomic_write_text(out_dir / CONFIG_FILE, config_yaml(cfg))
    manifest = {
        "seed": cfg.seed,
        "world": cfg.world.name,
        "policy": cfg.policy.name,
        "config": dataclasses.asdict(cfg),
        "config_sha256": config_sha256(cfg),
        "packages": package_versions(),
        "git": git_state(),
        "data_checksums": checksums(),
        "command": sys.argv,
        "wall_seconds": seconds,
        "results": RESULTS_FILE if cfg.output.write_netcdf else None,
        # the file as written: rcc-sim-reproduce checks it before comparing values
        "results_sha256": file_sha256(out_dir / RESULTS_FILE) if cfg.output.write_netcdf else None,
    }
    atomic_write_text(out_dir / MANIFEST_FILE, json.dumps(manifest, indent=2, default=str))
    return out_dir


def run_and_write(
    cfg: Config,
    out_dir: Path,
    progress: Callable[[int, int, float], None] | None = None,
    spin_up_cache: Path | None = None,
) -> tuple[xr.Dataset, Path]:
    t0 = time.perf_counter()
    ds = simulate(cfg, progress, spin_up_cache)
    return ds, write_run(ds, cfg, out_dir, time.perf_counter() - t0)
