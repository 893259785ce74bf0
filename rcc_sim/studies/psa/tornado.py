"""Tornado: one-at-a-time swings of every input, paired on common seeds."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rcc_sim.config import Config, FreeParameter
from rcc_sim.files import atomic_write, atomic_write_text
from rcc_sim.studies.psa.draws import Log, designs_study, inputs, is_calibrated, short_name, with_inputs
from rcc_sim.studies.psa.runs import Task, read_draws, run_tasks


# --------------------------------------------------------------------------------------------
# Tornado: one-at-a-time swings
# --------------------------------------------------------------------------------------------
def tornado_tasks(cfg: Config, study_dir: Path) -> tuple[list[FreeParameter], list[Task]]:
    study = cfg.psa
    assert study is not None
    params = inputs(cfg)
    root = Path(study_dir) / "tornado"
    tasks = []
    for s in study.tornado_seeds:
        run = dataclasses.replace(cfg, seed=int(s), psa=None)
        tasks.append(
            Task(f"base seed {s}", root / "base" / f"seed{s}", {}, run, {"input": "", "end": "base", "seed": s})
        )
        for p in params:
            for end, v in (("lo", p.lo), ("hi", p.hi)):
                c = dataclasses.replace(with_inputs(cfg, params, {p.key: v}), seed=int(s), psa=None)
                tasks.append(
                    Task(
                        f"{p.key}={end} seed {s}",
                        root / f"{p.key}={end}" / f"seed{s}",
                        {p.key: v},
                        c,
                        {"input": p.key, "end": end, "seed": s},
                    )
                )
    return params, tasks


def run_tornado(cfg: Config, study_dir: Path, log: Log = print) -> dict[str, Any]:
    """Run the swings not done and write ``tornado.csv`` and ``tornado.md``; returns the table."""
    study = cfg.psa
    assert study is not None
    params, tasks = tornado_tasks(cfg, study_dir)
    if study.run_missing:  # the RCC levers' swings share each seed's spin-up and status quo
        run_tasks(tasks, study.workers, study.rate, log, share=True)
    records = read_draws(tasks, other_commit=True)
    table = tornado_table(params, records)
    root = Path(study_dir) / "tornado"
    root.mkdir(parents=True, exist_ok=True)
    text = tornado_text(table, cfg)
    files = [
        atomic_write(root / "tornado.csv", lambda tmp: table.to_csv(tmp, index=False)),
        atomic_write_text(root / "tornado.md", text),
    ]
    if (Path(study_dir) / "psa.nc").is_file():  # the decision page again, now with the tornado
        from rcc_sim.reporting.decision import write_for_psa

        files.append(write_for_psa(Path(study_dir), designs_study(cfg.psa)))
    log(text)
    failed = [r for r in records if r.get("status") != "done"]
    return {"table": table, "files": files, "failed": failed, "text": text}


def tornado_table(params: list[FreeParameter], records: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per input: the NPC (mean over seeds) at each end and at the base case, and the swing,
    as LAs see it and in the public-sector view (without transfers); sorted by the latter's swing."""
    done = pd.DataFrame(
        [
            {"input": r["input"], "end": r["end"], "npc": r["npc_gbp_m"], "public": r["npc_public_sector_gbp_m"]}
            for r in records
            if r.get("status") == "done"
        ]
    )
    if done.empty:
        raise RuntimeError("psa tornado: no swing finished")
    mean = done.groupby(["input", "end"])[["npc", "public"]].mean()
    at = lambda key, end, col: float(mean[col].get((key, end), np.nan))
    rows = []
    for p in params:
        row: dict[str, Any] = {"input": p.key, "lo": p.lo, "hi": p.hi, "scale": p.scale, "calibrated": is_calibrated(p)}
        for col, name in (("npc", "npc"), ("public", "npc_public_sector")):
            lo, hi = at(p.key, "lo", col), at(p.key, "hi", col)
            row |= {f"{name}_at_lo_gbp_m": lo, f"{name}_at_hi_gbp_m": hi, f"{name}_base_gbp_m": at("", "base", col)}
            row[f"{name}_swing_gbp_m"] = abs(hi - lo)
        rows.append(row)
    table = pd.DataFrame(rows)
    return table.sort_values("npc_public_sector_swing_gbp_m", ascending=False, na_position="last").reset_index(
        drop=True
    )


def tornado_text(table: pd.DataFrame, cfg: Config) -> str:
    seeds = list(cfg.psa.tornado_seeds) if cfg.psa else []
    lines = [
        f"# Tornado: net present cost of {cfg.policy.name} against the status quo, one input at a time",
        "",
        f"{cfg.world.name}, {cfg.sim.years:g} years from 31 March {cfg.sim.start_year}, seeds {seeds}; each input "
        "at the ends of its range, every other input at the base case (NPC "
        f"{table['npc_base_gbp_m'].iloc[0]:+,.1f} GBP m as LAs see it, "
        f"{table['npc_public_sector_base_gbp_m'].iloc[0]:+,.1f} GBP m in the public-sector view). GBP m, 2024 "
        "prices, Green Book 3.5%; sorted by the public-sector swing. Calibrated list parameters (scale) are "
        "multipliers. A calibrated parameter changes both runs of a pair, so its swing carries seed noise too: "
        "read it with several tornado seeds.",
        "",
        "| input | range | NPC at low | NPC at high | swing | public-sector NPC at low | at high | swing |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for _, r in table.iterrows():
        lines.append(
            f"| {r['input']} | {r['lo']:.4g} - {r['hi']:.4g} | {r['npc_at_lo_gbp_m']:+,.2f} | "
            f"{r['npc_at_hi_gbp_m']:+,.2f} | {r['npc_swing_gbp_m']:,.2f} | "
            f"{r['npc_public_sector_at_lo_gbp_m']:+,.2f} | {r['npc_public_sector_at_hi_gbp_m']:+,.2f} | "
            f"{r['npc_public_sector_swing_gbp_m']:,.2f} |"
        )
    return "\n".join(lines) + "\n"


def tornado_section(path: Path, top: int = 10) -> str:
    """The tornado's largest public-sector swings for psa.md, if a tornado was run ('' if not)."""
    if not path.is_file():
        return ""
    t = pd.read_csv(path).head(top)
    lines = [
        "",
        f"## Tornado (one input at a time; {path.parent.name}/tornado.md has the world, years and seeds)",
        "",
        "| input | range | public-sector NPC at low (GBP m) | at high | swing |",
        "|---|---|---:|---:|---:|",
    ]
    for _, r in t.iterrows():
        lines.append(
            f"| {short_name(str(r['input']))} | {r['lo']:.4g} - {r['hi']:.4g} "
            f"| {r['npc_public_sector_at_lo_gbp_m']:+,.2f} "
            f"| {r['npc_public_sector_at_hi_gbp_m']:+,.2f} | {r['npc_public_sector_swing_gbp_m']:,.2f} |"
        )
    return "\n".join(lines) + "\n"
