"""Reading the studies the page shows: the PSA's files and the evaluation designs' table."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from rcc_sim.studies import psa

PAGE_FILE = "decision.html"
PSA_FILE = "psa.nc"
VOI_FILE = "evppi.csv"
TORNADO_DIR = "tornado"
DESIGN_FILE = "design_summary.csv"

VIEWS = {  # variable of psa.nc -> (heading, in words)
    "npc_gbp_m": (
        "As local authorities see it",
        "as local authorities see it (health co-funding and DfE programme funding counted as savings)",
    ),
    "npc_public_sector_gbp_m": (
        "Public-sector view",
        "in the public-sector view (health co-funding and programme funding are transfers between public bodies, "
        "left out)",
    ),
}


class DecisionError(ValueError):
    """Nothing to show: neither input holds its file. The message names the paths."""


# ---------------------------------------------------------------------------------------------
# Reading the studies
# ---------------------------------------------------------------------------------------------
@dataclass
class PsaStudy:
    path: Path
    ds: xr.Dataset  # psa.nc, loaded: dims draw x input
    voi: pd.DataFrame | None  # evppi.csv
    tornado: pd.DataFrame | None  # tornado/tornado.csv
    tornado_note: str  # the world, years and seeds of the tornado (from tornado.md)
    commits: dict[str, list[int]]  # code commit -> the draws run on it ([] when draw.json is gone)
    engine: str  # whether the engine changed between those commits, in words ('' with one commit)

    def attr(self, key: str, default: Any = None) -> Any:
        """An attribute of psa.nc (lists and dicts are stored as JSON)."""
        v = self.ds.attrs.get(key, default)
        if isinstance(v, str) and v[:1] in "[{":
            try:
                return json.loads(v)
            except ValueError:
                return v
        return v

    @property
    def n(self) -> int:
        return int(self.ds.sizes["draw"])


@dataclass
class DesignStudy:
    path: Path  # design_summary.csv
    table: pd.DataFrame


@dataclass
class Inputs:
    psa: PsaStudy | None
    designs: DesignStudy | None
    missing_psa: str = ""  # why there is no roll-out appraisal, in words ('' if there is one)
    missing_designs: str = ""  # why there is no design study
    command: str = ""

    @property
    def missing(self) -> list[str]:
        return [m for m in (self.missing_psa, self.missing_designs) if m]


def read_psa(path: Path) -> PsaStudy:
    path = Path(path)
    nc = path / PSA_FILE
    if not nc.is_file():
        raise DecisionError(f"{path}: no {PSA_FILE} (a roll-out appraisal summarised by rcc-sim-psa)")
    with xr.open_dataset(nc, engine="h5netcdf") as f:
        ds = f.load()
    voi = pd.read_csv(path / VOI_FILE) if (path / VOI_FILE).is_file() else None
    t_csv, t_md = path / TORNADO_DIR / "tornado.csv", path / TORNADO_DIR / "tornado.md"
    tornado = pd.read_csv(t_csv) if t_csv.is_file() else None
    note = ""
    if tornado is not None and t_md.is_file():
        m = re.search(r"^(.+?, seeds \[[^\]]*\])", t_md.read_text(), re.MULTILINE)
        note = m.group(1) if m else ""
    study = PsaStudy(path, ds, voi, tornado, note, {}, "")
    study.commits = draw_commits(study)
    study.engine = engine_changes([c for c in study.commits if c != "unknown"])
    return study


def draw_commits(study: PsaStudy) -> dict[str, list[int]]:
    """Code commit -> the draws of psa.nc run on it, from each draw's draw.json; psa.nc's list of
    commits (no draws) where the draw records are not there."""
    out: dict[str, list[int]] = {}
    for d in (int(x) for x in study.ds["draw"].values):
        try:
            rec = json.loads((study.path / "draws" / f"draw{d}" / psa.DRAW_FILE).read_text())
            commit = str(rec.get("git_commit") or "unknown")
        except (OSError, ValueError):
            commit = "unknown"
        out.setdefault(commit, []).append(d)
    if set(out) == {"unknown"} and study.attr("git_commits"):
        return {str(c): [] for c in study.attr("git_commits")}
    return out


def engine_changes(commits: Sequence[str]) -> str:
    """Whether ``rcc_sim/engine`` differs between the commits (git, in this checkout), in words."""
    if len(commits) < 2:
        return ""
    repo = Path(__file__).resolve().parents[2]
    changed, unknown = [], []
    for c in commits[1:]:
        try:
            rc = subprocess.run(
                ["git", "-C", str(repo), "diff", "--quiet", commits[0], c, "--", "rcc_sim/engine"],
                capture_output=True,
                timeout=30,
            ).returncode
        except (OSError, subprocess.SubprocessError):
            rc = -1
        if rc == 1:
            changed.append(c[:7])
        elif rc != 0:
            unknown.append(c[:7])
    if changed:
        return (
            f"The engine (rcc_sim/engine) differs between {commits[0][:7]} and {', '.join(changed)}: the draws are "
            "not all of the same model."
        )
    if unknown:
        return f"Whether the engine changed between them could not be checked here (commits {', '.join(unknown)})."
    return "The engine (rcc_sim/engine) is the same in all of them: only other code changed."


def find_design_summary(path: Path) -> Path | None:
    """design_summary.csv given as the file, its directory, or the study directory above it."""
    path = Path(path)
    for p in (path, path / DESIGN_FILE, path / "evaluation" / DESIGN_FILE):
        if p.is_file() and p.name == DESIGN_FILE:
            return p
    return None


def load(psa_dir: Path | str | None, designs: Path | str | None = None, command: str = "") -> Inputs:
    """The studies given; one that is absent (not given, or without its file) is named in
    ``missing``. Raises :class:`DecisionError` when neither has anything to show."""
    inputs = Inputs(None, None, command=command)
    if psa_dir is None:
        inputs.missing_psa = (
            "No roll-out appraisal was given, so this page has no net cost, outcomes, value of information or "
            "tornado (rcc-sim-psa +experiment=rollout_psa writes one)."
        )
    else:
        try:
            inputs.psa = read_psa(Path(psa_dir))
        except DecisionError as exc:
            inputs.missing_psa = f"No roll-out appraisal: {exc}."
    if designs is None:
        inputs.missing_designs = (
            "No evaluation-design study was given, so this page cannot say which design detects what, by when "
            "(rcc-sim-evaluate <study> writes one; then rcc-sim-decision <psa dir> --designs <study>)."
        )
    else:
        csv = find_design_summary(Path(designs))
        if csv is None:
            inputs.missing_designs = (
                f"No evaluation-design study: {designs} holds no {DESIGN_FILE} (nor evaluation/{DESIGN_FILE}), so "
                "this page cannot say which design detects what, by when (rcc-sim-evaluate <study> writes it)."
            )
        else:
            inputs.designs = DesignStudy(csv, pd.read_csv(csv))
    if inputs.psa is None and inputs.designs is None:
        raise DecisionError(" ".join(inputs.missing) + " Nothing to show.")
    return inputs
