"""The study: draws written and read back, summarised over the draws."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from rcc_sim.config import Config, ConfigError, FreeParameter, check_seeds
from rcc_sim.files import atomic_write, atomic_write_text
from rcc_sim.studies.psa.draws import Log, designs_study, groups, inputs, sample, with_inputs
from rcc_sim.studies.psa.runs import OUTCOMES, Task, read_draws, run_task, run_tasks
from rcc_sim.studies.psa.tornado import run_tornado, tornado_section
from rcc_sim.studies.psa.voi import evpi, value_of_information
from rcc_sim.studies.psa.words import summary_text


# --------------------------------------------------------------------------------------------
# The study
# --------------------------------------------------------------------------------------------
def draw_tasks(cfg: Config, study_dir: Path) -> tuple[list[FreeParameter], np.ndarray, list[Task]]:
    """The inputs, the draws' values and one task per draw."""
    study = cfg.psa
    assert study is not None
    params = inputs(cfg)
    groups(cfg, params)  # refuse a group matching nothing before any run
    x = sample(params, study.n_draws, study.sampler, study.sampler_seed)
    tasks = []
    for i, row in enumerate(x):
        values = {p.key: float(v) for p, v in zip(params, row)}
        # the run's config without the study section: its hash (resume) must not see n_draws, workers, draw ...
        run_cfg = dataclasses.replace(with_inputs(cfg, params, values), seed=int(study.first_seed) + i, psa=None)
        tasks.append(Task(f"draw {i}", Path(study_dir) / "draws" / f"draw{i}", values, run_cfg, {"draw": i}))
    return params, x, tasks


@dataclass
class PsaResult:
    ds: xr.Dataset  # dims draw, input
    table: pd.DataFrame  # one row per draw
    summary: dict[str, Any]
    voi: pd.DataFrame  # the value-of-information ranking
    text: str
    files: list[Path]
    failed: list[dict[str, Any]]


def run_psa(cfg: Config, study_dir: Path, log: Log = print) -> PsaResult | dict[str, Any]:
    """The PSA: run the draws not done (or only ``psa.draw``), then summarise the draws done.
    With ``psa.draw >= 0`` returns that draw's record; a failed draw raises there (a sweep job)."""
    study = cfg.psa
    if study is None:
        raise ConfigError("no 'psa' section: run with +experiment=rollout_psa")
    check_seeds("psa.tornado_seeds", study.tornado_seeds)
    designs_study(study)  # a bad path is refused before any draw runs
    if study.tornado:
        return run_tornado(cfg, Path(study_dir), log)
    params, x, tasks = draw_tasks(cfg, Path(study_dir))
    if study.draw >= 0:
        if study.draw >= len(tasks):
            raise ConfigError(f"config key 'psa.draw' = {study.draw}: the study has draws 0-{len(tasks) - 1}")
        r = run_task(tasks[study.draw], study.rate)
        log(f"psa: draw {study.draw}: {r['status']}" + (" (already done)" if r.get("skipped") else ""))
        if r["status"] == "failed":
            raise RuntimeError(f"psa: draw {study.draw} failed: {r['error']} (recorded in {tasks[study.draw].path})")
        return r
    if study.run_missing:
        run_tasks(tasks, study.workers, study.rate, log)
    # draws done with this config on another commit are kept (and listed): after a sweep, or when the
    # code moved on while this command ran (with run_missing, older ones were just re-run)
    return summarise(cfg, Path(study_dir), params, x, read_draws(tasks, other_commit=True), log)


def spread(y: np.ndarray) -> dict[str, float]:
    """Mean, median, 2.5% and 97.5% percentiles, standard deviation and Monte Carlo standard error
    of the mean over the draws."""
    y = np.asarray(y, dtype=np.float64)
    lo, med, hi = np.percentile(y, [2.5, 50, 97.5])
    sd = float(y.std(ddof=1)) if len(y) > 1 else np.nan
    return {
        "mean": float(y.mean()),
        "median": float(med),
        "p2_5": float(lo),
        "p97_5": float(hi),
        "sd": sd,
        "mc_se": sd / np.sqrt(len(y)),
    }


def probability(event: np.ndarray) -> dict[str, float]:
    """Share of draws where ``event`` holds, with its 95% Wilson interval (Monte Carlo error)."""
    n = len(event)
    k = float(np.sum(event))
    p = k / n
    z = 1.959963984540054
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return {"p": p, "lo": max(0.0, centre - half), "hi": min(1.0, centre + half), "n": n}


PERSPECTIVES = {"public_sector": "npc_public_sector_gbp_m", "local_authorities": "npc_gbp_m"}


def net_benefit(table: pd.DataFrame, weights: dict[str, float], perspective: str = "public_sector") -> np.ndarray:
    """INB of the roll-out (GBP m): -NPC (public-sector view: without the transfers, as the Green
    Book counts; or as LAs see it) + sum of weight x outcome difference."""
    if perspective not in PERSPECTIVES:
        raise ConfigError(f"config key 'psa.perspective' = {perspective!r}: one of {', '.join(PERSPECTIVES)}")
    inb = -table[PERSPECTIVES[perspective]].to_numpy(dtype=np.float64)
    for name, w in weights.items():
        col = f"diff_{name}"
        if col not in table:
            raise ConfigError(f"config key 'psa.outcome_weights.{name}': not an outcome ({', '.join(OUTCOMES)})")
        inb = inb + float(w) * table[col].to_numpy(dtype=np.float64)
    return inb


def summarise(
    cfg: Config, study_dir: Path, params: list[FreeParameter], x: np.ndarray, records: list[dict], log: Log = print
) -> PsaResult:
    study = cfg.psa
    assert study is not None
    ok = [r for r in records if r.get("status") == "done"]
    failed = [r for r in records if r.get("status") != "done"]
    if len(ok) < 2:
        raise RuntimeError(f"psa: only {len(ok)} draws done of {len(records)}; see {study_dir / 'draws'}")
    rows = []
    for r in ok:
        row = {"draw": r["draw"], "seed": r["seed"], **{p.key: r["inputs"][p.key] for p in params}}
        row.update(
            npc_gbp_m=r["npc_gbp_m"],
            npc_public_sector_gbp_m=r["npc_public_sector_gbp_m"],
            undiscounted_gbp_m=r["undiscounted_gbp_m"],
            pv_status_quo_gbp_m=r["pv_status_quo_gbp_m"],
        )
        row.update({f"npc_{c}_gbp_m": v for c, v in r["components_gbp_m"].items()})
        for name, o in r["outcomes"].items():
            row[f"status_quo_{name}"] = o["status_quo"]
            row[f"diff_{name}"] = o["difference"]
        row["wall_seconds"] = r.get("wall_seconds", np.nan)
        rows.append(row)
    table = pd.DataFrame(rows).sort_values("draw").reset_index(drop=True)
    npc = table["npc_gbp_m"].to_numpy()
    public = table["npc_public_sector_gbp_m"].to_numpy()
    first = ok[0]
    summary: dict[str, Any] = {
        "n_draws": len(records),
        "n_done": len(ok),
        "failed": [{"draw": r["draw"], "status": r.get("status"), "error": r.get("error")} for r in failed],
        "done_on_other_commit": [r["draw"] for r in ok if r.get("other_commit")],
        "git_commits": sorted({str(r.get("git_commit")) for r in ok}),
        "world": cfg.world.name,
        "policy": cfg.policy.name,
        "years": cfg.sim.years,
        "start_year": cfg.sim.start_year,
        "area": first["area"],
        "stat_years": first["stat_years"],
        "rate": study.rate,
        "sampler": study.sampler,
        "npc_gbp_m": spread(npc),
        "p_saves": probability(npc < 0),
        "npc_public_sector_gbp_m": spread(public),
        "p_saves_public_sector": probability(public < 0),
        "pv_status_quo_gbp_m": float(table["pv_status_quo_gbp_m"].mean()),
        "components_gbp_m": {c: float(table[f"npc_{c}_gbp_m"].mean()) for c in first["components_gbp_m"]},
        "outcomes": {
            name: {"status_quo": float(table[f"status_quo_{name}"].mean()), **spread(table[f"diff_{name}"])}
            for name in first["outcomes"]
        },
        "mean_wall_seconds_per_draw": float(table["wall_seconds"].mean()),
        "outcome_weights": dict(study.outcome_weights),
    }
    inb = net_benefit(table, dict(study.outcome_weights), study.perspective)
    summary["perspective"] = study.perspective
    summary["inb_sd_gbp_m"] = float(np.std(inb, ddof=1))
    X = table[[p.key for p in params]].to_numpy(dtype=np.float64)
    voi = value_of_information(X, inb, params, groups(cfg, params))
    summary["evpi_gbp_m"] = evpi(inb)
    ds = to_dataset(table, params, summary)
    text = summary_text(summary, voi, params) + tornado_section(study_dir / "tornado" / "tornado.csv")
    study_dir.mkdir(parents=True, exist_ok=True)
    files = [
        atomic_write(study_dir / "psa.nc", lambda tmp: ds.to_netcdf(tmp, engine="h5netcdf")),
        atomic_write(study_dir / "psa.csv", lambda tmp: table.to_csv(tmp, index=False)),
        atomic_write(study_dir / "evppi.csv", lambda tmp: voi.to_csv(tmp, index=False)),
        atomic_write_text(study_dir / "psa.json", json.dumps(summary, indent=1, default=float) + "\n"),
        atomic_write_text(study_dir / "psa.md", text),
    ]
    from rcc_sim.reporting.decision import write_for_psa

    files.append(write_for_psa(study_dir, designs_study(cfg.psa)))  # decision.html: what a minister reads first
    log(text)
    return PsaResult(ds, table, summary, voi, text, files, failed)


def to_dataset(table: pd.DataFrame, params: list[FreeParameter], summary: dict[str, Any]) -> xr.Dataset:
    keys = [p.key for p in params]
    ds = xr.Dataset(coords={"draw": table["draw"].to_numpy(), "input": keys})
    ds["input_value"] = (("draw", "input"), table[keys].to_numpy(dtype=np.float64))
    ds["input_lo"] = ("input", np.array([p.lo for p in params]))
    ds["input_hi"] = ("input", np.array([p.hi for p in params]))
    ds["input_scale"] = ("input", np.array([p.scale for p in params]))
    ds["seed"] = ("draw", table["seed"].to_numpy())
    for c in table.columns:
        if c not in keys and c not in ("draw", "seed"):
            ds[c] = ("draw", table[c].to_numpy(dtype=np.float64))
    ds["npc_gbp_m"].attrs.update(
        units="GBP m (2024 prices)",
        long_name="Net present cost of the policy against the status quo",
        definition=f"sum of discounted yearly net cost differences, {100 * summary['rate']:.1f}%",
    )
    ds["npc_public_sector_gbp_m"].attrs.update(
        units="GBP m", long_name="NPC without transfers (health co-funding, programme funding)"
    )
    ds.attrs.update(
        {
            k: json.dumps(v, default=float) if isinstance(v, (dict, list)) else v
            for k, v in summary.items()
            if k not in ("outcomes",)
        }
    )
    return ds
