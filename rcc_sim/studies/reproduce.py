"""``rcc-sim-reproduce``: re-run finished runs from their recorded config and check the outputs
match bit for bit.

    rcc-sim-reproduce outputs/studies/smoke                 # every run of a study
    rcc-sim-reproduce outputs/studies/smoke/status_quo/seed0 --jobs 2

First ``results.nc`` is checked against the SHA-256 that ``manifest.json`` recorded when the run
wrote it: a file changed since differs, whatever its values (the values that changed are listed
after it). Then each done run is re-run from its ``config.yaml`` (the full resolved config) into a temporary
directory, written the same way (``run.write_run``) and read back; every data variable and
coordinate must be equal to the original (``numpy.array_equal``, NaN in the same places), with the
same dims, dtypes and attributes. Attributes named in :data:`IGNORED_ATTRS` are not compared:
they would record when or by which library version a file was written (rcc-sim writes none of
them today; the wall time and command line live in ``manifest.json``, which is not compared).
Differences between the manifest and the current environment (package versions, data file
checksums, git commit, uncommitted changes) are reported as warnings: they explain a mismatch,
they are not one. Exit code 0 only when every run was reproduced and matched.
"""

from __future__ import annotations

import json
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr

from rcc_sim.run import (
    CONFIG_FILE,
    MANIFEST_FILE,
    RESULTS_FILE,
    config_sha256,
    file_sha256,
    git_state,
    package_versions,
)

# attributes that may legitimately differ between two writes of the same results
IGNORED_ATTRS = frozenset({"history", "date_created", "date_modified", "_NCProperties"})


@dataclass
class Check:
    """The outcome of reproducing one run."""

    path: Path
    status: str  # match | differ | error | skipped
    differences: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _equal(a: np.ndarray, b: np.ndarray) -> bool:
    if a.dtype.kind in "fc":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


def _describe(name: str, a: np.ndarray, b: np.ndarray) -> str:
    if a.dtype.kind in "fc":
        differ = ~((a == b) | (np.isnan(a) & np.isnan(b)))
        n = int(differ.sum())
        nan_moved = int((np.isnan(a) != np.isnan(b)).sum())
        with np.errstate(invalid="ignore"):
            diff = np.abs(a.astype("float64") - b.astype("float64"))
        biggest = float(np.nanmax(np.where(differ, diff, np.nan))) if n > nan_moved else float("nan")
        return (
            f"{name}: {n} of {a.size} values differ (max abs difference {biggest:.6g}; "
            f"{nan_moved} NaN in different places)"
        )
    n = int((a != b).sum()) if a.shape == b.shape else a.size
    return f"{name}: {n} of {a.size} values differ"


def _attrs(attrs: dict) -> dict:
    return {k: v for k, v in attrs.items() if k not in IGNORED_ATTRS}


def _same_attr(a: object, b: object) -> bool:
    return bool(np.array_equal(np.asarray(a), np.asarray(b))) if isinstance(a, np.ndarray | list) else a == b


def compare_datasets(original: xr.Dataset, new: xr.Dataset) -> list[str]:
    """Every difference between two Datasets: dims, variables, coords, dtypes, values, attrs.
    Empty when they are equal bit for bit (NaN equal to NaN in the same place)."""
    out = []
    if dict(original.sizes) != dict(new.sizes):
        out.append(f"dimensions differ: {dict(original.sizes)} vs {dict(new.sizes)}")
    for kind, a_names, b_names in (
        ("data variable", original.data_vars, new.data_vars),
        ("coordinate", original.coords, new.coords),
    ):
        missing, extra = set(a_names) - set(b_names), set(b_names) - set(a_names)
        if missing:
            out.append(f"{kind}s missing from the re-run: {sorted(missing)}")
        if extra:
            out.append(f"{kind}s only in the re-run: {sorted(extra)}")
    for name in [*original.data_vars, *original.coords]:
        if name not in new.variables:
            continue
        a, b = original[name].variable, new[name].variable
        if a.dims != b.dims or a.dtype != b.dtype:
            out.append(f"{name}: dims/dtype {a.dims} {a.dtype} vs {b.dims} {b.dtype}")
            continue
        av, bv = a.values, b.values
        if av.shape != bv.shape or not _equal(av, bv):
            out.append(_describe(name, av, bv) if av.shape == bv.shape else f"{name}: shape {av.shape} vs {bv.shape}")
        aa, ba = _attrs(a.attrs), _attrs(b.attrs)
        if set(aa) != set(ba) or any(not _same_attr(aa[k], ba[k]) for k in aa):
            out.append(
                f"{name}: attributes differ: {sorted(k for k in set(aa) | set(ba) if str(aa.get(k)) != str(ba.get(k)))}"
            )
    aa, ba = _attrs(original.attrs), _attrs(new.attrs)
    changed = sorted(k for k in set(aa) | set(ba) if k not in aa or k not in ba or not _same_attr(aa[k], ba[k]))
    if changed:
        out.append(f"dataset attributes differ: {changed}")
    return out


def environment_warnings(manifest: dict) -> list[str]:
    """How the current environment differs from the one recorded in a run's manifest."""
    from rcc_sim.data import checksums

    out = []
    then, now = manifest.get("packages") or {}, package_versions()
    for name in sorted(set(then) | set(now)):
        if then.get(name) != now.get(name):
            out.append(
                f"package {name}: {then.get(name, 'not recorded')} in the manifest, {now.get(name, 'not recorded')} now"
            )
    then_sums, now_sums = manifest.get("data_checksums") or {}, checksums()
    for name in sorted(set(then_sums) | set(now_sums)):
        if then_sums.get(name) != now_sums.get(name):
            what = "missing now" if name not in now_sums else "new" if name not in then_sums else "changed"
            out.append(f"data file {name}: {what} (SHA-256 differs from the manifest)")
    git_then, git_now = manifest.get("git") or {}, git_state()
    if git_then.get("commit") != git_now.get("commit"):
        out.append(f"git commit: {git_then.get('commit')} in the manifest, {git_now.get('commit')} now")
    if git_then.get("dirty"):
        out.append("the run was made from a tree with uncommitted changes: its code is not exactly known")
    if git_now.get("dirty"):
        out.append("the tree has uncommitted changes now")
    return out


def _load_config(run_dir: Path, manifest: dict, warnings: list[str]):
    from omegaconf import OmegaConf

    from rcc_sim.config import to_object

    cfg = to_object(OmegaConf.load(run_dir / CONFIG_FILE))
    if manifest.get("config_sha256") and manifest["config_sha256"] != config_sha256(cfg):
        warnings.append(f"{CONFIG_FILE} does not hash to the manifest's config_sha256 (edited after the run?)")
    return cfg


def results_checksum(run_dir: Path, manifest: dict, warnings: list[str]) -> str | None:
    """Check ``results.nc`` against the SHA-256 its manifest recorded when the run wrote it.
    Returns the difference to report (None if it matches); a manifest written before the checksum
    was recorded adds a warning instead."""
    want = manifest.get("results_sha256")
    if not want:
        warnings.append(
            f"{MANIFEST_FILE} records no SHA-256 of {RESULTS_FILE} (an older run): its bytes are not checked"
        )
        return None
    got = file_sha256(run_dir / RESULTS_FILE)
    if got != want:
        return (
            f"{RESULTS_FILE}: SHA-256 {got[:16]}... is not the {want[:16]}... recorded in {MANIFEST_FILE}: "
            "the file changed after the run wrote it"
        )
    return None


def reproduce_run(run_dir: str | Path) -> Check:
    """Re-run one finished run from its config.yaml in a temporary directory; compare outputs."""
    from rcc_sim.run import simulate, write_run

    run_dir = Path(run_dir)
    t0 = time.perf_counter()
    check = Check(path=run_dir, status="error")
    tampered = None
    try:
        manifest = json.loads((run_dir / MANIFEST_FILE).read_text())
        check.warnings = environment_warnings(manifest)
        tampered = results_checksum(run_dir, manifest, check.warnings)  # before any value is compared
        cfg = _load_config(run_dir, manifest, check.warnings)
        with tempfile.TemporaryDirectory(prefix="rcc-sim-reproduce-") as tmp:
            write_run(simulate(cfg), cfg, Path(tmp))
            with (
                xr.open_dataset(run_dir / RESULTS_FILE, engine="h5netcdf") as old,
                xr.open_dataset(Path(tmp) / RESULTS_FILE, engine="h5netcdf") as new,
            ):
                check.differences = ([tampered] if tampered else []) + compare_datasets(old.load(), new.load())
        check.status = "differ" if check.differences else "match"
    except Exception as exc:  # one run's error is reported with the rest, not raised
        check.differences = ([tampered] if tampered else []) + [f"{type(exc).__name__}: {exc}"]
        if tampered:  # a changed file that no longer even reads: it differs from what the run wrote
            check.status = "differ"
    check.seconds = time.perf_counter() - t0
    return check


def check_study(path: str | Path, jobs: int = 1) -> list[Check]:
    """Reproduce every done run at or below ``path`` (``jobs`` at once); the runs not done are
    ``skipped``. Sorted by path. Raises :class:`rcc_sim.studies.study.StudyError` if there are no runs."""
    from rcc_sim.studies.study import runs

    infos = runs(path)
    done = [i.path for i in infos if i.state == "done"]
    checks = [
        Check(
            path=i.path,
            status="skipped",
            differences=[f"not reproducible: run is {i.state}" + (f" ({i.error})" if i.error else "")],
        )
        for i in infos
        if i.state != "done"
    ]
    if jobs > 1 and len(done) > 1:
        with ProcessPoolExecutor(max_workers=jobs) as ex:
            checks += list(ex.map(reproduce_run, done))
    else:
        checks += [reproduce_run(d) for d in done]
    return sorted(checks, key=lambda c: str(c.path))
