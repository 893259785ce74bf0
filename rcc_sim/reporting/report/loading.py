"""What a report is made from: the runs of a study (:func:`load`), and the numbers it quotes
(:func:`compute`): outcomes by area, and each scenario minus the status quo paired by replicate."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from rcc_sim.config import Config, to_object
from rcc_sim.reporting import plots
from rcc_sim.run import CONFIG_FILE, MANIFEST_FILE, RESULTS_FILE
from rcc_sim.studies.compare import OUTCOMES, outcomes, rcc_groups, t_interval
from rcc_sim.studies.study import RunInfo, open_study

BASELINE = "status_quo"
REPORT_FILE = "report.html"
COMPARISON_FILE = "comparison.nc"
LOAD_BYTES = 2e9  # a study up to this size is read into memory at once; larger ones stay lazy (dask)


class ReportError(Exception):
    """The input cannot be reported on; the message names the path."""


# ---------------------------------------------------------------------------------------------
# Loading runs and studies
# ---------------------------------------------------------------------------------------------
def read_run(path: Path, rel: str = ".") -> RunInfo:
    """The run in ``path`` (``rel``: relative to the study) with its manifest and config."""
    manifest: dict = {}
    config_text, config, config_error = "", None, ""
    m = path / MANIFEST_FILE
    if m.exists():
        try:
            manifest = json.loads(m.read_text())
        except json.JSONDecodeError as exc:
            config_error = f"{m} is not valid JSON ({exc})"
    c = path / CONFIG_FILE
    if c.exists():
        config_text = c.read_text()
        from omegaconf import OmegaConf
        from omegaconf.errors import OmegaConfBaseException

        try:
            config = to_object(OmegaConf.load(c))
        except (ValueError, KeyError, TypeError, OmegaConfBaseException) as exc:  # an older schema: say so
            config_error = f"{c} does not validate against this version of rcc-sim: {exc}"
    return RunInfo(
        path=path,
        state="done",
        policy=str(manifest.get("policy") or (config.policy.name if config else "unknown")),
        seed=manifest.get("seed", config.seed if config else None),
        rel=rel,
        manifest=manifest,
        config_text=config_text,
        config=config,
        config_error=config_error,
    )


def find_runs(path: Path) -> list[Path]:
    """``path`` itself if it holds results.nc, else every directory below it that does."""
    if (path / RESULTS_FILE).exists():
        return [path]
    return sorted(p.parent for p in path.rglob(RESULTS_FILE) if not p.name.startswith("."))


@dataclass
class Study:
    """What a report is made from: the stacked results and the runs behind them."""

    path: Path
    ds: xr.Dataset | None  # dims scenario, replicate + the run's dims; None for a comparison.nc
    runs: list[RunInfo]
    comparison: xr.Dataset | None = None  # output of rcc-sim-compare, when that is the input

    @property
    def scenarios(self) -> list[str]:
        src = self.ds if self.ds is not None else self.comparison
        return [str(s) for s in src.scenario.values]

    @property
    def baseline(self) -> str | None:
        if BASELINE in self.scenarios:
            return BASELINE
        if self.ds is not None and "policy" in self.ds.coords:
            hits = [str(s) for s, p in zip(self.ds.scenario.values, self.ds.policy.values) if p == BASELINE]
            if len(hits) == 1:
                return hits[0]
        return None

    def runs_of(self, scenario: str) -> list[RunInfo]:
        """The runs behind ``scenario`` (by the study's run_dir coordinate, else by policy name)."""
        if self.ds is not None and "run_dir" in self.ds.coords:
            dirs = {str(d) for d in np.atleast_1d(self.ds["run_dir"].sel(scenario=scenario).values) if str(d)}
            return [r for r in self.runs if r.rel in dirs]
        return [r for r in self.runs if r.policy == scenario.split(" (")[0]]

    def config_of(self, scenario: str) -> Config | None:
        return next((r.config for r in self.runs_of(scenario) if r.config is not None), None)


def load(path: str | Path) -> Study:
    """The study in ``path``: a run directory, a directory of runs (sweep or study) or a
    comparison written by rcc-sim-compare. Raises :class:`ReportError` naming the path."""
    path = Path(path)
    if not path.is_dir():
        raise ReportError(
            f"{path}: no such directory (give a run directory holding {RESULTS_FILE}, "
            f"{CONFIG_FILE} and {MANIFEST_FILE}, or a directory of runs)"
        )
    dirs = find_runs(path)
    if not dirs:
        if (path / COMPARISON_FILE).exists():
            return _load_comparison(path)
        raise ReportError(
            f"{path}: no {RESULTS_FILE} in this directory or below it (give a run directory "
            f"holding {RESULTS_FILE}, {CONFIG_FILE} and {MANIFEST_FILE}, or a directory of runs)"
        )
    try:
        ds = open_study(path)
    except ValueError as exc:  # StudyError (a ValueError) names the path already
        raise ReportError(str(exc) if str(path) in str(exc) else f"{path}: {exc}") from exc
    except (OSError, KeyError) as exc:
        raise ReportError(f"{path}: could not read the results ({exc})") from exc
    rels = []
    for d in np.ravel(ds["run_dir"].values) if "run_dir" in ds.coords else []:
        if str(d) and str(d) not in rels:
            rels.append(str(d))
    runs = [read_run(path / r if r != "." else path, r) for r in rels] or [read_run(d) for d in dirs]
    return Study(path=path, ds=ds, runs=runs)


def _load_comparison(path: Path) -> Study:
    cmp = xr.open_dataset(path / COMPARISON_FILE, engine="h5netcdf").load()
    cmp = cmp.expand_dims(scenario=[str(cmp.attrs.get("policy", "scenario"))])
    return Study(path=path, ds=None, runs=[read_run(path)], comparison=cmp)


# ---------------------------------------------------------------------------------------------
# Effects: scenario minus status quo, paired by replicate
# ---------------------------------------------------------------------------------------------
def effects(out: xr.Dataset, have: xr.DataArray, baseline: str) -> xr.Dataset:
    """Every non-baseline scenario minus ``baseline`` on the replicates both have: levels, mean
    difference and 95% t-interval by area, named as in ``rcc-sim-compare``'s comparison.nc."""
    parts = []
    for s in out.scenario.values:
        if s == baseline:
            continue
        both = (have.sel(scenario=s) & have.sel(scenario=baseline)).values
        scn = out.sel(scenario=s).isel(replicate=np.flatnonzero(both))
        base = out.sel(scenario=baseline).isel(replicate=np.flatnonzero(both))
        mean, half = t_interval(scn - base)
        e = xr.Dataset()
        for name in OUTCOMES:
            e[f"{name}__scenario"] = scn[name].mean("replicate")
            e[f"{name}__status_quo"] = base[name].mean("replicate")
            e[f"{name}__difference"] = mean[name]
            e[f"{name}__ci_low"] = mean[name] - half[name]
            e[f"{name}__ci_high"] = mean[name] + half[name]
        e["n_pairs"] = xr.DataArray(int(both.sum()))
        parts.append(e.expand_dims(scenario=[s]))
    return xr.concat(parts, dim="scenario") if parts else xr.Dataset()


@dataclass
class Results:
    """Numbers the report quotes: outcomes by area, effects, and the labels to show them with."""

    out: xr.Dataset | None  # outcomes (scenario, replicate, area)
    have: xr.DataArray | None  # (scenario, replicate) runs present
    eff: xr.Dataset  # effects (scenario, area); empty without a baseline or second scenario
    groups: dict[str, list[str]]
    la_names: dict[str, str]
    la_regions: dict[str, str]
    regions: list[str]
    total_label: str
    tot: xr.Dataset | None = None  # weekly variables summed over LAs (plots.totals), loaded


def compute(study: Study) -> Results:
    groups: dict[str, list[str]] = {}
    for s in study.scenarios:
        cfg = study.config_of(s)
        if cfg is not None:
            groups.update(rcc_groups(cfg))
    if study.ds is None:  # a comparison.nc: effects only
        cmp = study.comparison
        eff = cmp.drop_vars([v for v in cmp.data_vars if v.endswith("__by_seed")])
        eff["n_pairs"] = ("scenario", [cmp.sizes.get("replicate", 0)])
        eff = eff.drop_dims([d for d in ("replicate",) if d in eff.dims])
        areas = [str(a) for a in cmp.area.values]
        from rcc_sim.data import load_las

        las = load_las()
        names = dict(zip(las["code"], las["name"]))
        names = {c: n for c, n in names.items() if c in set(areas)}
        la_regions = {c: r for c, r in zip(las["code"], las["region"]) if c in names}
        regions = sorted(set(la_regions.values()))
        return Results(
            None,
            None,
            eff,
            groups,
            names,
            la_regions,
            regions,
            _total_label(str(cmp.attrs.get("world", "")), len(names)),
        )
    ds = study.ds
    if ds.nbytes <= LOAD_BYTES:  # far faster than many small dask tasks
        ds = study.ds = ds.load()
    groups = {k: v for k, v in groups.items() if set(v) & set(ds.la.values.tolist())}
    with warnings.catch_warnings():  # shares of empty areas are NaN by design
        warnings.filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
        warnings.filterwarnings("ignore", "divide by zero", RuntimeWarning)
        out = outcomes(ds, groups).load()
        tot = plots.totals(ds).load()
    have = plots.present(tot)
    base = study.baseline
    eff = effects(out, have, base) if base is not None and len(study.scenarios) > 1 else xr.Dataset()
    world = str(ds.attrs.get("world", "")) or _world_of(study)
    codes = ds.la.values.tolist()
    return Results(
        out,
        have,
        eff,
        groups,
        dict(zip(codes, ds.la_name.values.tolist())),
        dict(zip(codes, ds.region.values.tolist())),
        sorted(set(ds.region.values.tolist())),
        _total_label(world, ds.sizes["la"]),
        tot,
    )


def _world_of(study: Study) -> str:
    return next((r.config.world.name for r in study.runs if r.config is not None), "")


def _total_label(world: str, n_la: int) -> str:
    if n_la == 153:
        return "England"
    place = world.replace("_", " ").title() if world and world != "test" else "the simulated LAs"
    return f"{place} ({n_la} LAs simulated)"


def area_label(area: str, res: Results) -> str:
    if area == "England":
        return res.total_label
    if area.startswith("RCC "):
        return f"{plots.label(area[4:]).title()} RCC ({len(res.groups.get(area, []))} LAs)"
    return res.la_names.get(area, area)


def effect_at(res: Results, scenario: str, name: str, area: str) -> tuple[float, float, float, float, int]:
    e = res.eff.sel(scenario=scenario, area=area)
    return (
        float(e[f"{name}__difference"]),
        float(e[f"{name}__ci_low"]),
        float(e[f"{name}__ci_high"]),
        float(e[f"{name}__status_quo"]),
        int(e["n_pairs"]),
    )


def from_run(path: str | Path, ds: xr.Dataset) -> Study:
    """The study of one run already in memory (``ds`` from :func:`rcc_sim.run.simulate`) whose
    config.yaml and manifest.json are in ``path``: no need to read results.nc back."""
    path = Path(path)
    policy, seed = str(ds.attrs.get("policy", "unknown")), int(ds.attrs.get("seed", 0))
    ds = ds.expand_dims(scenario=[policy], replicate=[seed]).assign_coords(
        policy=("scenario", [policy]), run_dir=(("scenario", "replicate"), np.array([["."]], dtype=object))
    )
    return Study(path=path, ds=ds, runs=[read_run(path)])


def scenario_words(study: Study) -> str:
    names = [plots.label(s).lower() for s in study.scenarios]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def replicates(study: Study) -> tuple[int, list]:
    if study.ds is None:
        seeds = study.comparison.replicate.values.tolist() if "replicate" in study.comparison.dims else []
        return len(seeds), seeds
    return study.ds.sizes["replicate"], study.ds.replicate.values.tolist()


def years_text(study: Study) -> str:
    if study.ds is not None:
        t = study.ds.time.values
        start = str(study.ds.attrs.get("base_date") or (t[0] - np.timedelta64(7, "D")))[:10]
        return f"{len(t) / 52.18:.1f} years ({start} to {str(t[-1])[:10]})"
    return f"{study.comparison.attrs.get('years', '?')} years"
