"""The decision page (``decision.html``, issue 14 pt 4): what a minister or an evaluation lead
needs first, from a probabilistic roll-out appraisal (:mod:`rcc_sim.studies.psa`) and a study of
evaluation designs (:mod:`rcc_sim.studies.evaluation_designs`), either or both.

    rcc-sim-decision outputs/psa/rollout_psa                                   # <psa dir>/decision.html
    rcc-sim-decision outputs/psa/rollout_psa --designs outputs/studies/pathfinder_evaluation
    rcc-sim-decision --designs outputs/studies/pathfinder_evaluation          # the designs alone

``rcc-sim-psa`` writes the page at the end of a study (and again after its tornado). It opens with
the net present cost over the draws - a histogram as local authorities see it and in the
public-sector view, with the probability of saving and the 95% interval in words above it - then
the per-child outcome differences with their intervals, the value-of-information ranking (EVPI,
EVPPI of each group and input, and :func:`rcc_sim.studies.psa.measure_first`'s paragraph), the
tornado's largest swings, and which evaluation design detects what, by when. Every number is read
from the study's files (``psa.nc``, ``evppi.csv``, ``tornado/tornado.csv`` and ``tornado.md``,
``draws/draw<i>/draw.json``; ``design_summary.csv``) or computed here from them. An input that is
absent is said at the top of the page, which shows the other.

**Detects** (:func:`verdicts`): a design detects an effect at a horizon when it is unbiased enough
- the mean of its bias over the seeds is at most :data:`MAX_BIAS_SHARE_OF_MDE` of its minimum
detectable effect (MDE = 2.8 x SE: the smallest effect it would see with 80% power), so that its
bias is small beside what it can see - and its power is at least :data:`MIN_POWER`: the analytic
power from its standard error and the true effect (the share of seeds rejecting zero moves in
steps of one seed, and is shown beside it).
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from rcc_sim.files import atomic_write_text
from rcc_sim.reporting import plots
from rcc_sim.reporting.report.page import Page, document, esc, html_table
from rcc_sim.reporting.wording import interval_decimals, noise_cell, number_text
from rcc_sim.studies import psa
from rcc_sim.studies.evaluation import ANNUAL_OUTCOMES, POOLED, POOLED_SELECTED, signed
from rcc_sim.studies.evaluation_designs import COMPARISONS, ESTIMATORS
from rcc_sim.studies.rollout import COST_COMPONENTS, PER_CHILD

PAGE_FILE = "decision.html"
PSA_FILE = "psa.nc"
VOI_FILE = "evppi.csv"
TORNADO_DIR = "tornado"
DESIGN_FILE = "design_summary.csv"
MAX_BIAS_SHARE_OF_MDE = 0.25  # "unbiased enough": |bias| at most a quarter of the design's MDE
MIN_POWER = 0.80  # the conventional power an evaluation is designed for (MDE = 2.8 x SE gives it)
TORNADO_TOP = 10  # swings shown in the table and the chart
INPUTS_SHOWN = 10  # single inputs in the value-of-information table before "the rest"

SECTIONS = {  # anchor -> heading, in the order of the page
    "net-cost": "Net cost: does the roll-out save money?",
    "outcomes": "Outcomes for children",
    "measure-first": "What to measure first: the value of information",
    "tornado": "One input at a time: the tornado",
    "designs": "Which evaluation design detects what, by when",
    "sources": "What this page rests on",
}
CAVEAT = (
    "These are model outputs under the assumptions stated here, not forecasts. The spread over the draws holds "
    "what is not known about the RCC levers, the market's response and the model's own fitted parameters, as well "
    "as the simulation's noise; what the model leaves out is not in it."
)
CAVEAT_DESIGNS = (
    "These are model outputs, not forecasts: each design is tried on simulated panels where the true effect is "
    "known. A design that fails here would fail on the real data too; one that works here may still meet problems "
    "the model does not have."
)
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
EXTRA_CSS = """
.decision { border-left: 5px solid #0072B2; background: #eef5fb; padding: 8px 12px; }
.missing { border-left: 5px solid #8a4b00; background: #fff6e8; padding: 8px 12px; }
table.bywhen td { white-space: normal; }
"""


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


# ---------------------------------------------------------------------------------------------
# Numbers and words
# ---------------------------------------------------------------------------------------------
def pct(p: float) -> str:
    return f"{100 * p:.0f}%"


def gbp_m(v: float) -> str:
    """A signed amount in GBP million, one decimal."""
    return f"{number_text(v, 1) if v < 0 else '+' + number_text(v, 1)}" if np.isfinite(v) else "n/a"


def ranges(draws: Sequence[int]) -> str:
    """[0, 1, 2, 5, 7, 8] -> '0-2, 5, 7-8'."""
    out: list[str] = []
    for d in sorted(draws):
        if out and d == int(out[-1].split("-")[-1]) + 1:
            out[-1] = f"{out[-1].split('-')[0]}-{d}"
        else:
            out.append(str(d))
    return ", ".join(out)


def net_cost(study: PsaStudy, var: str) -> dict[str, Any]:
    """The draws of one view of the NPC (GBP m), their spread and the probability of saving."""
    x = study.ds[var].values.astype(np.float64)
    return {"x": x, **psa.spread(x), "saves": psa.probability(x < 0)}


def net_cost_sentence(study: PsaStudy, var: str) -> str:
    v = net_cost(study, var)
    s = v["saves"]
    heading, words = VIEWS[var]
    return (
        f"{heading}: the roll-out saves money in {pct(s['p'])} of the {study.n} draws (95% Monte Carlo interval "
        f"{pct(s['lo'])} to {pct(s['hi'])}). Its net present cost {words} is {gbp_m(v['mean'])} GBP m on average "
        f"(median {gbp_m(v['median'])}); 95% of the draws lie between {gbp_m(v['p2_5'])} and {gbp_m(v['p97_5'])} "
        "GBP m. Negative is a saving."
    )


def _where(study: PsaStudy) -> str:
    years = study.attr("stat_years") or []
    span = f" (statistical years {years[0] - 1}-{str(years[-1])[2:]})" if years else ""
    area = str(study.attr("area", "?"))
    area = area[0].lower() + area[1:] if area.startswith("All ") else area
    return (
        f"{plots.label(str(study.attr('policy', 'the policy')))} against the status quo in {area} "
        f"({plots.label(str(study.attr('world', '?')))}), {float(study.attr('years', 0)):g} years from 31 March "
        f"{study.attr('start_year', '?')}{span}"
    )


def _outcome_units(units: str) -> tuple[float, str, str]:
    """(scale, level unit, difference unit) of a per-child outcome's units."""
    if units == "share":
        return 100.0, "%", "percentage points"
    return 1.0, units, units


def _signed(v: float, d: int) -> str:
    text = number_text(v, d)
    return text if text.startswith("-") or text == "n/a" or float(text.replace(",", "")) == 0 else f"+{text}"


def _level(v: float) -> str:
    if not np.isfinite(v):
        return "n/a"
    return number_text(v, 0 if abs(v) >= 100 else 2 if abs(v) >= 1 else 3)


def _input_value(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1e4 else f"{v:.4g}"


def ranked(voi: pd.DataFrame, kind: str) -> pd.DataFrame:
    """The groups or single inputs by EVPPI, then by R^2 (the measure-first order)."""
    return voi[voi["kind"] == kind].sort_values(["evppi_gbp_m", "r2"], ascending=False, kind="stable")


def _short(key: str) -> str:
    return key.removeprefix(psa.TEMPLATE)


def verdicts(table: pd.DataFrame) -> pd.DataFrame:
    """The design summary with ``power`` (analytic, else the share of seeds rejecting), ``unbiased``
    (|bias| <= MAX_BIAS_SHARE_OF_MDE x MDE), ``powered`` (power >= MIN_POWER) and ``detects`` (both,
    on a fitted design)."""
    out = table.copy()
    out["power"] = out["power_analytic"].where(out["power_analytic"].notna(), out["power_empirical"])
    out["unbiased"] = out["bias"].abs() <= MAX_BIAS_SHARE_OF_MDE * out["mde"]
    out["powered"] = out["power"] >= MIN_POWER
    out["detects"] = out["unbiased"] & out["powered"] & (out["n_fitted"] > 0)
    return out


def _seeds(t: pd.DataFrame) -> str:
    lo, hi = int(t["n_replicates"].min()), int(t["n_replicates"].max())
    return f"{hi} seeds" if lo == hi else f"{lo}-{hi} seeds"


def _outcome_label(name: str) -> str:
    return ANNUAL_OUTCOMES[name].long_name if name in ANNUAL_OUTCOMES else name


def _eff(v: float, units: str) -> str:
    """An effect in the design table's units: pp for shares, else the number and its unit."""
    text = signed(v, units)
    return text if units == "share" or text == "n/a" else f"{text} {units}"


def _mde(v: float, units: str) -> str:
    return _eff(v, units).lstrip("+")


def _best(rows: pd.DataFrame) -> pd.Series:
    """The most sensitive row (smallest MDE)."""
    return rows.sort_values("mde", kind="stable").iloc[0]


def _years_to(h: int, rows: pd.DataFrame) -> str:
    last = int(rows["last_stat_year"].iloc[0]) if "last_stat_year" in rows else None
    return f"{h} years of data" + (f" (to March {last})" if last else "")


def design_sentence(g: pd.DataFrame) -> str:
    """One sentence for one analysis and outcome: from when it is detected, by how many designs,
    the most sensitive of them - or why no design detects it by the last horizon."""
    name, units = str(g["outcome"].iloc[0]), str(g["units"].iloc[0])
    horizons = sorted(int(h) for h in g["horizon_years"].unique())
    seeds = int(g["n_replicates"].max())
    head = f"{_outcome_label(name)}, on {seeds} seeds"
    for h in horizons:
        at = g[g["horizon_years"] == h]
        ok = at[at["detects"]]
        if ok.empty:
            continue
        b = _best(ok)
        text = (
            f"{head}: detected from {_years_to(h, at)} by {len(ok)} of {len(at)} designs; the most sensitive is "
            f"{b['design']} (MDE {_mde(b['mde'], units)} against a true effect of {_eff(b['true_effect'], units)}; "
            f"bias {_eff(b['bias'], units)}; power {b['power']:.2f})."
        )
        later = [k for k in horizons if k > h]
        if later:
            last = g[g["horizon_years"] == later[-1]]
            text += f" With {later[-1]} years of data: {int(last['detects'].sum())} of {len(last)}."
        return text
    last = g[g["horizon_years"] == horizons[-1]]
    fitted = last[last["n_fitted"] > 0]
    if fitted.empty:
        why = [str(f) for f in last["failure"] if isinstance(f, str) and f]
        return f"{head}: no design could be applied" + (f" ({why[0]})." if why else ".")
    b = _best(fitted)
    truth = _eff(b["true_effect"], units)
    if not fitted["powered"].any():
        why = (
            f"the true effect ({truth}) is smaller than the smallest MDE ({_mde(b['mde'], units)}, {b['design']}; "
            f"power {b['power']:.2f})"
        )
    else:
        p = _best(fitted[fitted["powered"]])
        why = (
            f"the designs with the power are biased ({p['design']}: bias {_eff(p['bias'], units)} against an MDE of "
            f"{_mde(p['mde'], units)}; true effect {_eff(p['true_effect'], units)})"
        )
    return f"{head}: no design detects it with {_years_to(horizons[-1], last)}: {why}."


# ---------------------------------------------------------------------------------------------
# Charts
# ---------------------------------------------------------------------------------------------
SAVING, COST = plots.OKABE_ITO[2], plots.OKABE_ITO[1]


def _bins(x: np.ndarray) -> np.ndarray:
    """Equal bins with zero on an edge, so that no bar mixes savings and costs."""
    lo, hi = float(np.min(x)), float(np.max(x))
    k = int(np.clip(1.5 * np.sqrt(len(x)), 8, 40))
    w = (hi - lo) / k if hi > lo else 1.0
    start = np.floor(lo / w) * w
    return start + w * np.arange(int(np.ceil((hi - start) / w)) + 2)


@plots.styled
def fig_net_cost(study: PsaStudy, views: Sequence[str]) -> Figure:
    fig, axes = plots.new_figure(2.4 * len(views) + 1.2, len(views), 1, sharex=True)
    for ax, var in zip(axes[:, 0], views):
        v = net_cost(study, var)
        counts, edges = np.histogram(v["x"], _bins(v["x"]))
        mid = (edges[:-1] + edges[1:]) / 2
        ax.bar(mid, counts, width=np.diff(edges), color=[SAVING if m < 0 else COST for m in mid], edgecolor="white")
        ax.axvspan(v["p2_5"], v["p97_5"], color="#000000", alpha=0.08, linewidth=0)
        ax.axvline(0, color="#000000", linewidth=1.0)
        ax.axvline(v["mean"], color="#555555", linewidth=1.2, linestyle="--")
        ax.set_ylabel("draws")
        ax.grid(axis="x", visible=False)
        ax.set_title(f"{VIEWS[var][0]}: saves money in {pct(v['saves']['p'])} of {study.n} draws", loc="left")
    axes[-1, 0].set_xlabel("net present cost against the status quo (GBP m; negative = a saving)")
    handles = [
        Patch(color=SAVING, label="draws that save money"),
        Patch(color=COST, label="draws that cost more"),
        Line2D([], [], color="#555555", linestyle="--", linewidth=1.2, label="mean"),
        Patch(color="#000000", alpha=0.08, linewidth=0, label="95% of the draws"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=2, frameon=False)
    plots.wrap_titles(fig)
    return fig


@plots.styled
def fig_voi(voi: pd.DataFrame, n_inputs: int = 8) -> Figure:
    """EVPPI (GBP m) and R^2 of each group and the leading single inputs."""
    rows = pd.concat([ranked(voi, "group"), ranked(voi, "input").head(n_inputs)])
    labels = [("group: " if r["kind"] == "group" else "") + _short(str(r["name"])) for _, r in rows.iterrows()]
    fig, axes = plots.new_figure(0.3 * len(rows) + 1.9, 1, 2, sharey=True)
    y = np.arange(len(rows))
    colors = [plots.OKABE_ITO[0] if k == "group" else plots.OKABE_ITO[5] for k in rows["kind"]]
    for ax, col, xlabel in zip(axes[0], ("evppi_gbp_m", "r2"), ("EVPPI (GBP m)", "R\u00b2 (leave-one-out)")):
        ax.barh(y, rows[col].to_numpy(dtype=float), color=colors)
        ax.set_xlabel(xlabel)
        ax.grid(axis="y", visible=False)
    evpi = float(voi["evpi_gbp_m"].iloc[0])
    axes[0, 0].axvline(evpi, color="#000000", linewidth=1.0, linestyle=":")
    axes[0, 0].set_yticks(y, labels)
    axes[0, 0].invert_yaxis()
    axes[0, 0].set_ylabel("group or input")
    plots.set_title(axes[0, 0], "Worth knowing exactly", width_in=2.4)
    plots.set_title(axes[0, 1], "What sets the size", width_in=2.4)
    handles = [
        Patch(color=plots.OKABE_ITO[0], label="group learnt together"),
        Patch(color=plots.OKABE_ITO[5], label="single input"),
        Line2D([], [], color="#000000", linestyle=":", label=f"EVPI {evpi:,.2f} GBP m"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=3, frameon=False)
    return fig


@plots.styled
def fig_tornado(t: pd.DataFrame) -> Figure:
    """Public-sector NPC at each end of each input's range, against the base case."""
    t = t.head(TORNADO_TOP)
    base = float(t["npc_public_sector_base_gbp_m"].iloc[0])
    fig, axes = plots.new_figure(0.36 * len(t) + 1.9)
    ax = axes[0, 0]
    y = np.arange(len(t))
    for off, col, color, name in (
        (-0.18, "npc_public_sector_at_lo_gbp_m", plots.OKABE_ITO[0], "input at the low end of its range"),
        (0.18, "npc_public_sector_at_hi_gbp_m", plots.OKABE_ITO[1], "input at the high end"),
    ):
        v = t[col].to_numpy(dtype=float)
        ax.barh(y + off, v - base, left=base, height=0.36, color=color, label=name)
    ax.axvline(base, color="#000000", linewidth=1.0)
    ax.set_yticks(y, [_short(str(k)) for k in t["input"]])
    ax.invert_yaxis()
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(f"public-sector NPC (GBP m); base case {gbp_m(base)}")
    ax.set_ylabel("input")
    plots.set_title(ax, "Net present cost, one input at a time (public-sector view)", width_in=4.0)
    fig.legend(loc="outside lower center", ncols=2, frameon=False)
    return fig


# ---------------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------------
def section_net_cost(page: Page, study: PsaStudy) -> None:
    views = [v for v in VIEWS if v in study.ds]
    page.h2("net-cost", SECTIONS["net-cost"])
    page.p(
        f"Each of the {study.n} draws is a paired run of the roll-out and the status quo on its own seed, with the "
        f"uncertain inputs drawn together. Net present cost over the run, GBP million in 2024 prices, discounted "
        f"at {100 * float(study.attr('rate', np.nan)):.1f}% a year (Green Book); positive means the roll-out costs "
        f"more. The status quo's present value is {number_text(float(study.ds['pv_status_quo_gbp_m'].mean()), 0)} "
        "GBP m (mean over the draws)."
    )
    for var in views:
        page.raw(f'<p class="decision">{esc(net_cost_sentence(study, var))}</p>')
    page.figure(
        lambda: fig_net_cost(study, views),
        "Histograms of the net present cost over the draws",
        "Net present cost of the roll-out against the status quo in each draw (GBP m); green bars are draws that "
        "save money. The shaded band holds 95% of the draws; the dashed line is the mean.",
    )
    comps = [c for c in study.ds.data_vars if str(c).startswith("npc_") and str(c) not in VIEWS]
    if comps:
        rows = []
        for c in comps:
            s = psa.spread(study.ds[c].values.astype(np.float64))
            name = str(c).removeprefix("npc_").removesuffix("_gbp_m")
            label = COST_COMPONENTS[name][3] if name in COST_COMPONENTS else plots.label(name)
            rows.append([label, gbp_m(s["mean"]), f"{gbp_m(s['p2_5'])} to {gbp_m(s['p97_5'])}"])
        page.raw("<h3>Where the money goes</h3>")
        page.p(
            "Each part of the net present cost as local authorities see it, GBP m, mean over the draws and the range "
            "of 95% of them (income and offsets negative)."
        )
        page.raw(html_table(["Part", "Mean (GBP m)", "95% of the draws (GBP m)"], rows, numeric={1, 2}))
    page.end()


def section_outcomes(page: Page, study: PsaStudy) -> None:
    page.h2("outcomes", SECTIONS["outcomes"])
    page.p(
        f"Per child in care over the whole run: the status quo's level and the roll-out minus the status quo, mean "
        f"over the {study.n} draws with the range of 95% of them (2.5-97.5%). Shares are in % and their differences "
        "in percentage points."
    )
    rows = []
    for name in psa.OUTCOMES:
        if f"diff_{name}" not in study.ds or name not in PER_CHILD:
            continue
        k, lvl, dif = _outcome_units(PER_CHILD[name].units)
        s = psa.spread(study.ds[f"diff_{name}"].values.astype(np.float64))
        sq = float(study.ds[f"status_quo_{name}"].mean())
        d = min(4, interval_decimals(s["mean"], s["p2_5"], s["p97_5"], k) + 1)  # percentiles: one more figure
        rows.append(
            [
                PER_CHILD[name].long_name,
                lvl if lvl == dif else f"{lvl} / {dif}",
                _level(sq * k),
                _signed(s["mean"] * k, d),
                f"{_signed(s['p2_5'] * k, d)} to {_signed(s['p97_5'] * k, d)}",
                noise_cell(s["mean"], s["p2_5"], s["p97_5"], study.n),
            ]
        )
    head = ["Outcome", "Unit", "Status quo", "Difference", "95% of the draws", "Range includes zero?"]
    page.raw(html_table(head, rows, numeric={2, 3, 4}))
    page.end()


def section_voi(page: Page, study: PsaStudy) -> None:
    page.h2("measure-first", SECTIONS["measure-first"])
    voi = study.voi
    if voi is None or voi.empty:
        page.p(f"This study has no {VOI_FILE}: its value of information was not computed.")
        page.end()
        return
    evpi = float(voi["evpi_gbp_m"].iloc[0])
    weights = study.attr("outcome_weights") or {}
    view = "of the public-sector view" if study.attr("perspective") == "public_sector" else "as LAs see it"
    valued = (
        " plus " + ", ".join(f"{w:g} x {k}" for k, w in weights.items()) + " (ASSUMPTION weights)"
        if weights
        else "; no outcome is given a money value"
    )
    page.p(
        f"The decision: roll out or keep the status quo. The roll-out's net benefit is minus its net present cost "
        f"{view}{valued}. The expected value of perfect information (EVPI) is GBP {evpi:,.2f}m: what removing all "
        "uncertainty would be worth to this decision. The expected value of partial perfect information (EVPPI) of "
        "an input, or of a group learnt together, is what knowing it exactly would be worth; R\u00b2 is the share "
        f"of the net benefit's spread over the {study.n} draws that it predicts (leave-one-out). Estimated by "
        "regression over the draws (Strong, Oakley and Brennan 2014)."
    )
    page.raw(f'<p class="decision">{esc(psa.measure_first(voi, evpi, float(study.attr("inb_sd_gbp_m", np.nan))))}</p>')
    if study.n < psa.VOI_MIN_DRAWS:
        page.p(
            f"Only {study.n} draws: these value-of-information estimates are unreliable below about "
            f"{psa.VOI_MIN_DRAWS}.",
            cls="caveat",
        )
    page.figure(
        lambda: fig_voi(voi),
        "Bar charts of the value of information of each group and input",
        "Left: EVPPI of each group and of the leading single inputs (GBP m), with the EVPI (dotted). Right: the "
        "share of the net benefit's spread each predicts (R\u00b2).",
    )

    def table(rows: pd.DataFrame, first: str) -> str:
        cells = [
            [
                str(i),
                esc(_short(str(r["name"])))
                + (" <span class='range'>(status quo parameter)</span>" if bool(r["calibrated"]) else ""),
                esc(", ".join(_short(k) for k in str(r["inputs"]).split())) if r["kind"] == "group" else "",
                f"{r['evppi_gbp_m']:,.2f}",
                pct(r["share_of_evpi"]),
                f"{r['r2']:.2f}",
            ]
            for i, (_, r) in enumerate(rows.iterrows(), start=1)
        ]
        head = ["Rank", first, "Inputs", "EVPPI (GBP m)", "Share of EVPI", "R\u00b2"]
        if first != "Group":
            head, cells = head[:2] + head[3:], [c[:2] + c[3:] for c in cells]
        return html_table(head, cells, numeric=set(range(len(head) - 3, len(head))), escape=False)

    groups, singles = ranked(voi, "group"), ranked(voi, "input")
    if not groups.empty:
        page.raw("<h3>Groups of inputs</h3>" + table(groups, "Group"))
    page.raw("<h3>Single inputs</h3>" + table(singles.head(INPUTS_SHOWN), "Input"))
    if len(singles) > INPUTS_SHOWN:
        page.raw(
            f"<details><summary>The other {len(singles) - INPUTS_SHOWN} inputs</summary>"
            + table(singles.iloc[INPUTS_SHOWN:], "Input")
            + "</details>"
        )
    page.end()


def section_tornado(page: Page, study: PsaStudy) -> None:
    page.h2("tornado", SECTIONS["tornado"])
    t = study.tornado
    if t is None or t.empty:
        page.p(
            "No tornado was run for this study (rcc-sim-psa +experiment=rollout_psa psa.tornado=true writes "
            f"{TORNADO_DIR}/tornado.csv in the study directory; this page is then rebuilt)."
        )
        page.end()
        return
    where = f" ({study.tornado_note})" if study.tornado_note else ""
    page.p(
        f"Each input at each end of its range, every other input at the base case{where}; the net present cost in "
        "GBP m, the inputs with the largest public-sector swings first. The tornado can run on a smaller world and "
        "fewer years than the draws above: read its swings against each other, not against the net cost above. "
        "(x): the range is a multiplier of a calibrated list of values."
    )
    page.figure(
        lambda: fig_tornado(t),
        "Tornado chart of the public-sector net present cost",
        f"The {min(TORNADO_TOP, len(t))} largest swings of the public-sector net present cost: each bar runs from "
        "the base case to the cost with the input at one end of its range.",
    )
    rows = [
        [
            _short(str(r["input"])),
            f"{_input_value(r['lo'])} to {_input_value(r['hi'])}" + (" (x)" if bool(r.get("scale", False)) else ""),
            gbp_m(r["npc_public_sector_at_lo_gbp_m"]),
            gbp_m(r["npc_public_sector_at_hi_gbp_m"]),
            number_text(r["npc_public_sector_swing_gbp_m"], 1),
            number_text(r["npc_swing_gbp_m"], 1),
        ]
        for _, r in t.head(TORNADO_TOP).iterrows()
    ]
    head = ["Input", "Range", "Public-sector NPC at low", "at high", "Swing", "Swing as LAs see it"]
    page.raw(html_table(head, rows, numeric={2, 3, 4, 5}))
    page.end()


def _analysis_label(name: str, n_analyses: int) -> str:
    pooled = name in (POOLED, POOLED_SELECTED) and n_analyses > 1
    return "The RCCs pooled" if pooled else f"{plots.label(name)} RCC"


def by_when(table: pd.DataFrame) -> pd.DataFrame:
    """One row per analysis, outcome and horizon of a design summary (with :func:`verdicts`): the
    designs tried and those that detect the effect, the true effect (mean over the designs' rows),
    and the most sensitive design that detects it - or, where none does, the one with the smallest
    MDE (``detected`` False); no design at all where none could be applied."""
    rows = []
    for (analysis, outcome, h), at in table.groupby(["analysis", "outcome", "horizon_years"], sort=False):
        ok, fitted = at[at["detects"]], at[at["n_fitted"] > 0]
        b = _best(ok if not ok.empty else fitted) if not fitted.empty else None
        rows.append(
            {
                "analysis": analysis,
                "outcome": outcome,
                "units": str(at["units"].iloc[0]),
                "horizon_years": int(h),
                "n_designs": len(at),
                "n_detect": len(ok),
                "true_effect": float(at["true_effect"].mean()),
                "design": "" if b is None else str(b["design"]),
                "mde": np.nan if b is None else float(b["mde"]),
                "detected": not ok.empty,
            }
        )
    return pd.DataFrame(rows)


def _by_when_cell(r: pd.Series | None) -> str:
    if r is None:
        return "-"
    truth = f"true effect {_eff(r['true_effect'], r['units'])}"
    if not r["design"]:
        return f"no design applies<br><span class='range'>{esc(truth)}</span>"
    best = "most sensitive" if r["detected"] else "smallest MDE"
    note = f"{truth}; {best} {_mde(r['mde'], r['units'])} ({r['design']})"
    return f"<strong>{r['n_detect']} of {r['n_designs']}</strong><br><span class='range'>{esc(note)}</span>"


def section_designs(page: Page, inputs: Inputs) -> None:
    page.h2("designs", SECTIONS["designs"])
    designs = inputs.designs
    if designs is None:
        page.p(inputs.missing_designs)
        page.end()
        return
    t = verdicts(designs.table)
    horizons = sorted(int(h) for h in t["horizon_years"].unique())
    page.p(
        f"Each design (estimator / comparison group) tried on the simulated LA-by-year panels of {_seeds(t)}, "
        "where the true effect is known (the status-quo runs on the same seeds). A design detects an effect "
        f"at a horizon when it is unbiased enough - the mean bias over the seeds at most "
        f"{pct(MAX_BIAS_SHARE_OF_MDE)} of its minimum detectable effect (MDE = 2.8 x its standard error) - and its "
        f"power is at least {pct(MIN_POWER)} (analytic, from its standard error and the true effect). Each cell: how "
        "many designs detect it, the true effect, and the MDE of the most sensitive design that does (or, where none "
        f"does, the smallest MDE); '-': no row at that horizon (no RCC of the analysis has both years before and "
        f"after it goes live, or the pooled analysis would repeat one RCC's). Shares in percentage points (pp). "
        f"Read from {designs.path}."
    )
    cells = by_when(t).set_index(["analysis", "outcome", "horizon_years"])
    analyses = list(dict.fromkeys(t["analysis"]))
    for analysis in analyses:
        a = t[t["analysis"] == analysis]
        rows, sentences = [], []
        for outcome in dict.fromkeys(a["outcome"]):
            at = [
                cells.loc[(analysis, outcome, h)] if (analysis, outcome, h) in cells.index else None for h in horizons
            ]
            rows.append([esc(_outcome_label(str(outcome)))] + [_by_when_cell(r) for r in at])
            sentences.append(design_sentence(a[a["outcome"] == outcome]))
        page.raw(f"<h3>{esc(_analysis_label(str(analysis), len(analyses)))}</h3>")
        page.raw(
            html_table(["Outcome"] + [f"{h} years of data" for h in horizons], rows, cls="bywhen short", escape=False)
        )
        page.raw("<ul>" + "".join(f"<li>{esc(s)}</li>" for s in sentences) + "</ul>")
        page.raw(f"<details><summary>Every design ({esc(plots.label(str(analysis)))})</summary>{_detail(a)}</details>")
    page.p(_design_key(t))
    page.end()


def _design_key(t: pd.DataFrame) -> str:
    """What the design names in the table stand for."""
    est = [
        f"{e} ({ESTIMATORS[e].description}; {ESTIMATORS[e].inference})" if e in ESTIMATORS else str(e)
        for e in dict.fromkeys(t["estimator"])
    ]
    comp = [f"{c} ({COMPARISONS[c]})" if c in COMPARISONS else str(c) for c in dict.fromkeys(t["comparison"])]
    return (
        f"Designs are named estimator/comparison group. Estimators: {'; '.join(est)}. Comparison groups: "
        f"{'; '.join(comp)}."
    )


def _detail(a: pd.DataFrame) -> str:
    rows = []
    for _, r in a.iterrows():
        u = str(r["units"])
        failure = str(r["failure"]) if isinstance(r["failure"], str) and r["failure"] else ""
        rows.append(
            [
                _outcome_label(str(r["outcome"])),
                str(r["design"]),
                str(int(r["horizon_years"])),
                _eff(r["true_effect"], u),
                _eff(r["bias"], u),
                _mde(r["mde"], u),
                f"{r['coverage']:.2f}" if np.isfinite(r["coverage"]) else "n/a",
                f"{r['power']:.2f}" if np.isfinite(r["power"]) else "n/a",
                f"{r['power_empirical']:.2f}" if np.isfinite(r["power_empirical"]) else "n/a",
                f"{r['placebo_rejection_rate']:.2f}" if np.isfinite(r["placebo_rejection_rate"]) else "n/a",
                ("yes" if r["detects"] else "no") if not failure else f"n/a ({failure})",
            ]
        )
    head = [
        "Outcome",
        "Design",
        "Years",
        "True effect",
        "Bias",
        "MDE",
        "Coverage",
        "Power",
        "Share of seeds rejecting",
        "Placebo rejections",
        "Detects?",
    ]
    return html_table(head, rows, numeric=set(range(2, 10)), cls="settings")


def section_sources(page: Page, inputs: Inputs) -> None:
    page.h2("sources", SECTIONS["sources"])
    items = []
    if inputs.psa is not None:
        s = inputs.psa
        failed = s.attr("failed") or []
        items.append(
            f"Roll-out appraisal: {s.path} ({PSA_FILE}: {s.n} draws done of {s.attr('n_draws', '?')}"
            + (f"; {len(failed)} not done" if failed else "")
            + f"; {s.attr('sampler', '?')} sampling over {s.ds.sizes.get('input', 0)} inputs"
            + (f"; {VOI_FILE}" if s.voi is not None else "")
            + (f"; {TORNADO_DIR}/tornado.csv" if s.tornado is not None else "")
            + ")."
        )
        commits = "; ".join(f"{c[:12]}" + (f" (draws {ranges(d)})" if d else "") for c, d in s.commits.items())
        items.append(
            f"The draws were run on {len(s.commits)} code commit{'s' if len(s.commits) > 1 else ''}: {commits}. "
            + s.engine
        )
    if inputs.designs is not None:
        t = inputs.designs.table
        items.append(
            f"Evaluation designs: {inputs.designs.path} ({len(t)} rows: {t['analysis'].nunique()} analyses, "
            f"{t['outcome'].nunique()} outcomes, {t['design'].nunique()} designs, horizons "
            f"{', '.join(str(int(h)) for h in sorted(t['horizon_years'].unique()))} years; {_seeds(t)})."
        )
    items += inputs.missing
    page.raw("<ul>" + "".join(f"<li>{esc(x)}</li>" for x in items) + "</ul>")
    if inputs.command:
        page.p("Rebuild this page from the same files with:")
        page.raw(f"<pre>{esc(inputs.command)}</pre>")
    page.end()


# ---------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------
def _notices(inputs: Inputs) -> str:
    out = [f'<p class="missing">{esc(m)}</p>' for m in inputs.missing]
    s = inputs.psa
    if s is not None and len(s.commits) > 1:
        out.append(
            f'<p class="missing">{esc(f"The {s.n} draws span {len(s.commits)} code commits. {s.engine}")} See '
            '<a href="#sources">What this page rests on</a>.</p>'
        )
    return "".join(out)


def _lede(inputs: Inputs) -> str:
    s = inputs.psa
    if s is None:
        return ""
    words = {"npc_gbp_m": "as local authorities see it", "npc_public_sector_gbp_m": "in the public-sector view"}
    parts = []
    for var in (v for v in VIEWS if v in s.ds):
        v = net_cost(s, var)
        parts.append(
            f"{gbp_m(v['mean'])} GBP m {words[var]} (95% of draws {gbp_m(v['p2_5'])} to {gbp_m(v['p97_5'])}), "
            f"saving money in {pct(v['saves']['p'])} of draws"
        )
    return f"{_where(s)}, over {s.n} draws: net present cost " + "; ".join(parts) + "."


def render(inputs: Inputs, keep_figures: list | None = None) -> str:
    """The decision page as one self-contained HTML string."""
    t0 = time.perf_counter()
    page = Page(keep_figures)
    if inputs.psa is not None:
        section_net_cost(page, inputs.psa)
        section_outcomes(page, inputs.psa)
        section_voi(page, inputs.psa)
        section_tornado(page, inputs.psa)
    section_designs(page, inputs)
    section_sources(page, inputs)
    if inputs.psa is not None:
        title = f"The roll-out decision: {plots.label(str(inputs.psa.attr('policy', 'the policy'))).lower()}"
        kicker = f"rcc-sim decision page \u00b7 {inputs.psa.path.resolve().name}"
        caveat = CAVEAT
    else:
        title = "The evaluation decision: which design detects what, by when"
        kicker = "rcc-sim decision page \u00b7 evaluation designs"
        caveat = CAVEAT_DESIGNS
    return document(
        page,
        title,
        kicker,
        caveat,
        t0,
        lede=_lede(inputs),
        header_extra=_notices(inputs),
        extra_css=EXTRA_CSS,
        footer_note=caveat,
    )


def default_output(inputs: Inputs) -> Path:
    """decision.html in the PSA study directory, else beside design_summary.csv."""
    if inputs.psa is not None:
        return inputs.psa.path / PAGE_FILE
    assert inputs.designs is not None
    return inputs.designs.path.parent / PAGE_FILE


def write_page(inputs: Inputs, out: Path | str | None = None) -> Path:
    """Write the page (to ``out``, or :func:`default_output`) and return its path."""
    target = Path(out) if out else default_output(inputs)
    target.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(target, render(inputs))


def rebuild_command(psa_dir: Path | None, designs: Path | None = None) -> str:
    """The command that rebuilds the page from these directories."""
    import shlex

    parts = ["rcc-sim-decision"]
    if psa_dir is not None:
        parts.append(shlex.quote(str(psa_dir)))
    if designs is not None:
        parts += ["--designs", shlex.quote(str(designs))]
    return " ".join(parts)


def write_for_psa(study_dir: Path, designs: Path | None = None) -> Path:
    """The page of a PSA study directory, with the design table of the evaluation study
    ``designs`` (``psa.designs``) if given: what ``rcc-sim-psa`` writes."""
    inputs = load(study_dir, designs, command=rebuild_command(study_dir, designs))
    return write_page(inputs)
