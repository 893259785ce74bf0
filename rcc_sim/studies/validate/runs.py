"""The validation's runs: make them (cached) or read them, and summarise each."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import xarray as xr

from rcc_sim.data import load_las
from rcc_sim.studies.validate.base_year import BaseRow, base_year_rows, combine_base_rows
from rcc_sim.studies.validate.measures import ValidationError, model_yearly, model_yearly_la

RUNS_DIR = "runs"
PAGE_FILE = "index.html"
DEFAULT_YEARS = 10.0
DEFAULT_SEEDS = 3


# ---------------------------------------------------------------------------------------------
# Runs: make them (cached) or read them, and summarise each
# ---------------------------------------------------------------------------------------------
@dataclass
class RunSummary:
    """What the page needs from one run (the Dataset itself is not kept)."""

    path: Path | None
    seed: int
    world: str
    n_la: int
    la_codes: list[str]
    base_date: str
    yearly: xr.Dataset
    yearly_la: xr.Dataset
    base_rows: list
    base_when: str
    manifest: dict = field(default_factory=dict)
    trend_values: dict = field(default_factory=dict)  # rcc_sim.studies.trends.run_values, from the base date
    config: str = ""  # the run's resolved config (YAML), for the back-cast of the same model


def summarise(ds: xr.Dataset, path: Path | None = None, manifest: dict | None = None) -> RunSummary:
    """One run's yearly measures (national and per LA) and base-year fit."""
    from rcc_sim.studies.trends import run_values

    rows, when = base_year_rows(ds)
    return RunSummary(
        path=path,
        seed=int(ds.attrs.get("seed", 0)),
        world=str(ds.attrs.get("world", "?")),
        n_la=int(ds.sizes["la"]),
        la_codes=[str(c) for c in ds["la"].values],
        base_date=str(ds.attrs.get("base_date", "")),
        yearly=model_yearly(ds),
        yearly_la=model_yearly_la(ds),
        base_rows=rows,
        base_when=when,
        manifest=manifest or {},
        trend_values=run_values(ds),
        config=str(ds.attrs.get("config", "")),
    )


@dataclass
class Runs:
    """The runs of a validation, stacked over seeds (dim ``replicate``)."""

    summaries: list[RunSummary]
    yearly: xr.Dataset  # (replicate, year)
    yearly_la: xr.Dataset  # (replicate, year, la)
    base_rows: list[BaseRow]
    base_when: str

    @property
    def seeds(self) -> list[int]:
        return [s.seed for s in self.summaries]

    @property
    def world(self) -> str:
        return self.summaries[0].world

    @property
    def la_codes(self) -> list[str]:
        return self.summaries[0].la_codes

    @property
    def is_england(self) -> bool:
        return len(self.la_codes) == len(load_las()["code"])

    @property
    def years(self) -> list[int]:
        return [int(y) for y in self.yearly["year"].values]


def combine(summaries: Sequence[RunSummary]) -> Runs:
    """Stack run summaries over seeds. Raises :class:`ValidationError` when there are none or they
    simulate different LAs."""
    summaries = list(summaries)
    if not summaries:
        raise ValidationError("no runs to validate")
    worlds = {(s.world, tuple(s.la_codes)) for s in summaries}
    if len(worlds) > 1:
        raise ValidationError(
            "the runs simulate different worlds ("
            + ", ".join(sorted({w for w, _ in worlds}))
            + "): give runs of one world"
        )
    rep = xr.DataArray([s.seed for s in summaries], dims="replicate", name="replicate")
    yearly = xr.concat([s.yearly for s in summaries], rep, join="outer")
    yearly_la = xr.concat([s.yearly_la for s in summaries], rep, join="outer")
    base = combine_base_rows([s.base_rows for s in summaries])
    return Runs(summaries, yearly, yearly_la, base, summaries[0].base_when)


def standard_overrides(world: str, years: float, seed: int, extra: Sequence[str] = ()) -> list[str]:
    """The config overrides of one run of the standard validation (status quo)."""
    # the spin-up's years too: the model's 2019-2023 beside the published ones
    return [
        f"world={world}",
        f"sim.years={years:g}",
        f"seed={seed}",
        "policy=status_quo",
        "output.include_spin_up=true",
        *extra,
    ]


def run_standard(
    out_dir: str | Path,
    world: str = "england",
    years: float = DEFAULT_YEARS,
    seeds: int | Sequence[int] = DEFAULT_SEEDS,
    overrides: Sequence[str] = (),
    rerun: bool = False,
    progress: bool | None = None,
    log: Callable[[str], None] = print,
) -> list[Path]:
    """Run the standard validation's runs one after another into ``<out_dir>/runs/<world>_seed<n>/``
    (results.nc, config.yaml, manifest.json, status.json) and return their directories. A run
    already there, done with the same config and code commit, is not run again (unless
    ``rerun``). ``seeds``: a number (seeds 0..n-1) or the seeds. ``progress``: a bar on stderr
    (None: as ``output.progress`` says)."""
    import rcc_sim
    from rcc_sim.progress import WeekProgress, enabled
    from rcc_sim.run import run_and_write
    from rcc_sim.studies.study import previous_run, recording

    seed_list = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    cfgs = [rcc_sim.load_config(standard_overrides(world, years, s, overrides)) for s in seed_list]
    dirs, todo = [], []
    for cfg in cfgs:
        run_dir = Path(out_dir) / RUNS_DIR / f"{cfg.world.name}_seed{cfg.seed}"
        dirs.append(run_dir)
        skip, msg = (False, None) if rerun else previous_run(run_dir, cfg)
        if msg:
            log(msg)
        if not skip:
            todo.append((cfg, run_dir))
    show = progress if progress is not None else bool(cfgs) and enabled(cfgs[0].output.progress)
    bar = WeekProgress(cfgs[0].sim.start_year, "rcc-sim-validate", runs=len(todo)) if show and todo else None
    try:
        for i, (cfg, run_dir) in enumerate(todo):
            run_dir.mkdir(parents=True, exist_ok=True)
            with recording(run_dir, cfg, standard_overrides(world, years, cfg.seed, overrides)):
                cb = None if bar is None else (lambda w, n, d, i=i: bar.week(i, w, n, d))
                run_and_write(cfg, run_dir, cb)
            log(f"ran {run_dir}")
    finally:
        if bar is not None:
            bar.close()
    return dirs


def find_run_dirs(path: str | Path) -> list[Path]:
    """``path`` if it holds results.nc, else every directory below it that does."""
    from rcc_sim.run import RESULTS_FILE

    path = Path(path)
    if (path / RESULTS_FILE).exists():
        return [path]
    return sorted(p.parent for p in path.rglob(RESULTS_FILE) if not any(s.startswith(".") for s in p.parts))


def load_runs(dirs: Sequence[str | Path], policy: str = "status_quo") -> list[RunSummary]:
    """Read each run directory (results.nc, manifest.json) and summarise it; only runs of
    ``policy`` are kept. Raises :class:`ValidationError` naming the path when none is usable."""
    import json

    from rcc_sim.run import MANIFEST_FILE, RESULTS_FILE

    out = []
    for d in dirs:
        d = Path(d)
        try:
            with xr.open_dataset(d / RESULTS_FILE, engine="h5netcdf") as ds:
                if str(ds.attrs.get("policy", policy)) != policy:
                    continue
                ds = ds.load()
        except (OSError, ValueError) as exc:
            raise ValidationError(f"{d / RESULTS_FILE}: not readable ({exc})") from None
        manifest = {}
        if (d / MANIFEST_FILE).exists():
            try:
                manifest = json.loads((d / MANIFEST_FILE).read_text())
            except json.JSONDecodeError:
                manifest = {}
        try:
            out.append(summarise(ds, d, manifest))
        except KeyError as exc:
            raise ValidationError(
                f"{d / RESULTS_FILE}: {exc} is missing: were these results made by an older rcc-sim? Re-run them"
            ) from None
    if not out:
        raise ValidationError(f"no {policy} runs among {len(dirs)} run directories")
    return out


def read_runs(path: str | Path) -> list[RunSummary]:
    """The status-quo runs in ``path`` (a run directory, a study, or a validation output directory)."""
    path = Path(path)
    if not path.is_dir():
        raise ValidationError(f"{path}: no such directory (give a run directory or a directory of runs)")
    dirs = find_run_dirs(path)
    if not dirs:
        raise ValidationError(f"{path}: no results.nc in it or below it")
    return load_runs(dirs)
