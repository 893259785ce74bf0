"""Reports for policy teams: one self-contained HTML page from a run or a study.

    rcc-sim-report outputs/runs/<run>/          # writes outputs/runs/<run>/report.html
    rcc-sim-report outputs/sweeps/<sweep>/      # a study: every run directory below it

The report works on one Dataset with dims ``scenario`` and ``replicate`` added to a run's own
dims (:func:`rcc_sim.studies.study.open_study`). The
baseline is the ``status_quo`` scenario; an effect is a scenario minus the status quo, paired
by replicate (same seed = the same children, common random numbers), reported as the mean over
replicates with a 95% t-interval - the method of ``rcc-sim-compare``, on the outcomes and areas
of :mod:`rcc_sim.studies.compare`. Numbers in the text are generated from the results; where an
interval includes zero, or there is one replicate, the text says the difference is within the
noise of the simulation. Images are embedded PNGs; nothing is fetched from the network.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import datetime as _dt
import html
import json
import shlex
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from rcc_sim.config import ASSUMPTION, Config, parameter_table, to_object
from rcc_sim.reporting import plots
from rcc_sim.reporting.wording import (
    DAGGER,
    NOISE,
    WORDING,
    diff_unit,
    display_scale,
    effect_decimals,
    effect_sentence,
    identical,
    level_num,
    level_text,
    level_unit,
    noise_cell,
    number_text,
    unit_cell,
    within_noise,
)
from rcc_sim.run import CONFIG_FILE, MANIFEST_FILE, RESULTS_FILE, git_state, package_versions
from rcc_sim.studies.compare import OUTCOMES, outcomes, rcc_groups, t_interval
from rcc_sim.studies.study import open_study

BASELINE = "status_quo"
REPORT_FILE = "report.html"
COMPARISON_FILE = "comparison.nc"
LOAD_BYTES = 2e9  # a study up to this size is read into memory at once; larger ones stay lazy (dask)
HEADLINE = (
    "share_over_20_miles",
    "share_outside_la",
    "share_family_based",
    "waiting",
    "unregistered_share",
    "moves_per_child",
    "net_cost_gbp_m",
    "carers_end",
    "homes_end",
)
AREA_OUTCOMES = ("share_over_20_miles", "share_family_based", "unregistered_share", "net_cost_gbp_m")
CAVEAT = (
    "These are model outputs under the assumptions stated below, not forecasts: they show how the "
    "simulated system responds to a policy, given what the model assumes."
)


class ReportError(Exception):
    """The input cannot be reported on; the message names the path."""


# ---------------------------------------------------------------------------------------------
# Loading runs and studies
# ---------------------------------------------------------------------------------------------
@dataclass
class RunInfo:
    """One run directory: its manifest, its config (as text and, if it still validates, as a Config)."""

    path: Path
    rel: str = "."  # relative to the study directory
    manifest: dict = field(default_factory=dict)
    config_text: str = ""
    config: Config | None = None
    config_error: str = ""

    @property
    def seed(self) -> Any:
        return self.manifest.get("seed", self.config.seed if self.config else None)

    @property
    def policy(self) -> str:
        return str(self.manifest.get("policy") or (self.config.policy.name if self.config else "unknown"))


def read_run(path: Path, rel: str = ".") -> RunInfo:
    info = RunInfo(path=path, rel=rel)
    m = path / MANIFEST_FILE
    if m.exists():
        try:
            info.manifest = json.loads(m.read_text())
        except json.JSONDecodeError as exc:
            info.config_error = f"{m} is not valid JSON ({exc})"
    c = path / CONFIG_FILE
    if c.exists():
        info.config_text = c.read_text()
        from omegaconf import OmegaConf
        from omegaconf.errors import OmegaConfBaseException

        try:
            info.config = to_object(OmegaConf.load(c))
        except (ValueError, KeyError, TypeError, OmegaConfBaseException) as exc:  # an older schema: say so
            info.config_error = f"{c} does not validate against this version of rcc-sim: {exc}"
    return info


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


def _e(res: Results, scenario: str, name: str, area: str) -> tuple[float, float, float, float, int]:
    e = res.eff.sel(scenario=scenario, area=area)
    return (
        float(e[f"{name}__difference"]),
        float(e[f"{name}__ci_low"]),
        float(e[f"{name}__ci_high"]),
        float(e[f"{name}__status_quo"]),
        int(e["n_pairs"]),
    )


# ---------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------
CSS = """
:root { --ink: #1b1b1b; --muted: #555; --rule: #ccc; --band: #f3f3f3; --warn: #8a4b00; }
* { box-sizing: border-box; }
body { font-family: "Segoe UI", "Helvetica Neue", Arial, "Liberation Sans", "DejaVu Sans", sans-serif;
       color: var(--ink); margin: 0; background: #fff; font-size: 16px; line-height: 1.5; }
main { max-width: 7.6in; margin: 0 auto; padding: 24px 18px 48px; }
h1 { font-size: 1.7em; line-height: 1.2; margin: 0.2em 0 0.3em; }
h2 { font-size: 1.3em; border-bottom: 2px solid var(--ink); padding-bottom: 2px; margin-top: 1.8em; }
h3 { font-size: 1.1em; margin-top: 1.4em; }
p, li { max-width: 42em; }
.lede { font-size: 1.1em; }
.caveat { border-left: 5px solid var(--warn); background: #fff6e8; padding: 8px 12px; }
.noise { color: var(--muted); }
nav ol { columns: 2; column-gap: 3em; padding-left: 1.6em; margin: 0.4em 0; }
nav li { break-inside: avoid; }
figure { margin: 1em 0 1.6em; }
figure img { display: block; max-width: 100%; height: auto; }
figcaption { font-size: 0.9em; color: var(--muted); margin-top: 4px; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em; font-size: 0.85em; width: 100%; }
th, td { border-bottom: 1px solid var(--rule); padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: var(--band); }
td.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
table.effects td:first-child, table.levels td:first-child { width: 34%; }
table.areas td:first-child { width: 22%; }
table.areas td.n { white-space: normal; }
table.areas tr.member td:first-child { padding-left: 1.6em; }
.range { font-size: 0.85em; color: var(--muted); }
table.params td:nth-child(1) { width: 28%; }
table.params td:nth-child(2) { width: 16%; overflow-wrap: anywhere; }
table.params td:nth-child(3) { width: 20%; }
.key { overflow-wrap: anywhere; }
table.settings td { overflow-wrap: anywhere; }
.kicker { color: var(--muted); margin: 0; font-size: 0.9em; }
details summary { cursor: pointer; color: var(--muted); }
tr.flag td { background: #fff6e8; }
code, pre { font-family: "DejaVu Sans Mono", Consolas, "Liberation Mono", monospace; font-size: 0.85em; }
pre { background: var(--band); padding: 8px; white-space: pre-wrap; word-break: break-all; }
.small { font-size: 0.8em; }
footer { margin-top: 3em; font-size: 0.85em; color: var(--muted); }
@page { size: A4; margin: 15mm; }
@media print {
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  nav { display: none; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  figure, .keep, table.short, .caveat { break-inside: avoid; page-break-inside: avoid; }
  tr, li { break-inside: avoid; page-break-inside: avoid; }
  figure img { max-height: 9.2in; width: auto !important; max-width: 100%; }
  thead { display: table-header-group; }
  a { color: inherit; text-decoration: none; }
}
"""


def esc(x: Any) -> str:
    return html.escape(str(x))


def _table(
    head: list[str],
    rows: list[list[str]],
    numeric: set[int] = frozenset(),
    cls: str = "",
    row_classes: list[str] | None = None,
    escape: bool = True,
) -> str:
    """An HTML table; cells are escaped unless ``escape`` is False (then they are trusted HTML)."""
    f = esc if escape else str
    cls_attr = f' class="{cls}"' if cls else (' class="short"' if len(rows) <= 25 else "")
    out = [f"<table{cls_attr}><thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr></thead><tbody>"]
    for i, r in enumerate(rows):
        rc = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        out.append(
            f"<tr{rc}>"
            + "".join(f'<td class="n">{f(c)}</td>' if j in numeric else f"<td>{f(c)}</td>" for j, c in enumerate(r))
            + "</tr>"
        )
    out.append("</tbody></table>")
    return "".join(out)


class Page:
    """Collects sections and figures; keeps a contents list."""

    def __init__(self, keep: list | None = None) -> None:
        self.parts: list[str] = []
        self.toc: list[tuple[str, str]] = []
        self.n_fig = 0
        self.keep = keep  # if a list, figures are appended to it (for checks) instead of closed

    def h2(self, anchor: str, title: str) -> None:
        self.toc.append((anchor, title))
        self.parts.append(f'<section id="{anchor}"><h2>{esc(title)}</h2>')

    def end(self) -> None:
        self.parts.append("</section>")

    def p(self, text: str, cls: str = "") -> None:
        self.parts.append(f"<p{f' class={chr(34)}{cls}{chr(34)}' if cls else ''}>{esc(text)}</p>")

    def raw(self, s: str) -> None:
        self.parts.append(s)

    def figure(self, make, alt: str, caption: str) -> None:
        """Add the figure ``make()`` draws; a figure needing a variable the results lack (made by
        an older rcc-sim) is replaced by a sentence saying so."""
        try:
            fig = make()
        except KeyError as exc:
            if "No variable named" not in str(exc):
                raise
            self.p(
                f"(A chart is missing here: it needs the variable {exc}, which these results do not have; "
                "they were probably made by an older version of rcc-sim.)"
            )
            return
        self.n_fig += 1
        data = base64.b64encode(plots.png(fig)).decode("ascii")
        w_in = fig.get_figwidth()
        self.parts.append(
            f'<figure id="figure-{self.n_fig}"><img src="data:image/png;base64,{data}" alt="{esc(alt)}" '
            f'style="width:{w_in:.2f}in"><figcaption><strong>Figure {self.n_fig}.</strong> '
            f"{esc(caption)}</figcaption></figure>"
        )
        if self.keep is not None:
            self.keep.append((f"figure-{self.n_fig}", fig))


def _scenario_words(study: Study) -> str:
    names = [plots.label(s).lower() for s in study.scenarios]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _replicates(study: Study) -> tuple[int, list]:
    if study.ds is None:
        seeds = study.comparison.replicate.values.tolist() if "replicate" in study.comparison.dims else []
        return len(seeds), seeds
    return study.ds.sizes["replicate"], study.ds.replicate.values.tolist()


def _years(study: Study) -> str:
    if study.ds is not None:
        t = study.ds.time.values
        start = str(study.ds.attrs.get("base_date") or (t[0] - np.timedelta64(7, "D")))[:10]
        return f"{len(t) / 52.18:.1f} years ({start} to {str(t[-1])[:10]})"
    return f"{study.comparison.attrs.get('years', '?')} years"


def section_summary(page: Page, study: Study, res: Results) -> None:
    page.h2("summary", "In brief")
    page.p(
        "The question: what happens to children, carers, providers and money when local authorities (LAs) plan "
        "and commission placements together in a Regional Care Co-operative (RCC), compared with today, where "
        "each LA commissions alone? rcc-sim simulates every child in care, foster carer and children's home in "
        "the LAs below, week by week, under each scenario.",
        "lede",
    )
    n_rep, seeds = _replicates(study)
    scen = study.scenarios
    page.p(
        f"This report covers {len(scen)} scenario{'s' if len(scen) > 1 else ''} ({_scenario_words(study)}) in "
        f"{res.total_label}, simulated for {_years(study)}, with {n_rep} "
        f"replicate{'s' if n_rep != 1 else ''} (random seed{'s' if n_rep != 1 else ''} "
        f"{', '.join(map(str, seeds)) or 'n/a'}). A replicate is one run with its own random seed; the same seed "
        "gives every scenario the same children arriving on the same days (common random numbers), so the "
        "difference between scenarios on one seed is the policy, not chance."
    )
    items = []
    for s in scen:
        cfg = study.config_of(s)
        if cfg is not None:
            items.append(f"<li><strong>{esc(plots.label(s))}</strong>: {esc(cfg.policy.description)}</li>")
    if items:
        page.raw("<ul>" + "".join(items) + "</ul>")
    if res.eff.data_vars:
        page.raw("<h3>Headline findings</h3>")
        for s in res.eff.scenario.values:
            n = int(res.eff["n_pairs"].sel(scenario=s))
            lis = []
            beyond = 0
            for name in HEADLINE:
                m, lo, hi, b, _ = _e(res, s, name, "England")
                sent = effect_sentence(name, s, m, lo, hi, n, b)
                noisy = within_noise(lo, hi, n) and not identical(m, lo, hi, n)
                beyond += not within_noise(lo, hi, n) and not identical(m, lo, hi, n)
                lis.append(f"<li{' class=noise' if noisy else ''}>{esc(sent)}</li>")
            page.p(
                f"{plots.label(s)} compared with the status quo in {res.total_label}, over {n} paired "
                f"replicate{'s' if n != 1 else ''}: {beyond} of {len(HEADLINE)} headline outcomes differ by more "
                "than the noise of the simulation (their 95% interval excludes zero)."
            )
            page.raw("<ul>" + "".join(lis) + "</ul>")
            for area in res.eff.area.values:
                if str(area).startswith("RCC "):
                    lis = []
                    where = "in the " + area_label(str(area), res)
                    for name in ("share_over_20_miles", "share_family_based", "net_cost_gbp_m"):
                        m, lo, hi, b, _ = _e(res, s, name, str(area))
                        lis.append(f"<li>{esc(effect_sentence(name, s, m, lo, hi, n, b, where))}</li>")
                    page.raw("<ul>" + "".join(lis) + "</ul>")
        if n_rep < 2:
            page.p(
                "With one replicate there is no way to tell a policy effect from chance in the simulation; run "
                "more seeds (e.g. rcc-sim-compare compare.seeds=[0,1,2,3,4]) before drawing conclusions."
            )
    else:
        why = "there is one scenario" if len(scen) == 1 else "there is no status quo scenario to compare with"
        reps = "one replicate" if n_rep == 1 else f"{n_rep} replicates"
        page.p(
            f"Nothing is compared here: {why} and {reps}, so no effects and no intervals for effects can be "
            "given. The numbers are the simulated levels"
            + (
                " of a single run: another seed would give "
                "somewhat different numbers, and no interval can be "
                "given for them."
                if n_rep == 1
                else ", with their range across replicates."
            )
        )
        base = study.scenarios[0]
        lis = []
        for name in ("share_over_20_miles", "share_family_based", "waiting", "net_cost_gbp_m", "carers_end"):
            v = res.out[name].sel(scenario=base, area="England").where(res.have.sel(scenario=base))
            txt = level_text(name, float(v.mean("replicate")))
            if n_rep > 1:
                txt += f" (range {level_text(name, float(v.min()))} to {level_text(name, float(v.max()))})"
            lis.append(f"<li>{esc(plots.label(WORDING[name].subject))}: {esc(txt)}.</li>")
        page.raw("<ul>" + "".join(lis) + "</ul>")
    page.end()


def _range_cell(name: str, v: xr.DataArray, n: int) -> str:
    """Mean over replicates, and (HTML) the lowest to highest replicate beneath it."""
    cell = esc(level_num(name, float(v.mean("replicate"))))
    if n > 1:
        cell += (
            f'<br><span class="range">{esc(level_num(name, float(v.min())))} to '
            f"{esc(level_num(name, float(v.max())))}</span>"
        )
    return cell


def section_effects(page: Page, study: Study, res: Results) -> None:
    if res.eff.data_vars:
        page.h2("effects", "Effects on every outcome")
        page.p(
            f"Each scenario minus the status quo in {res.total_label}, paired by replicate (same seed), mean over "
            "replicates with a 95% t-interval. Shares are in % and their differences in percentage points "
            "('% / pp'). "
            "'Within the noise' means the interval includes zero (or there is one replicate): the difference is "
            f"{NOISE} and should not be read as an effect of the policy."
        )
        for s in res.eff.scenario.values:
            page.raw(f"<h3>{esc(plots.label(s))} minus status quo</h3>")
            rows = []
            for name, o in OUTCOMES.items():
                m, lo, hi, b, n = _e(res, s, name, "England")
                sc = float(res.eff[f"{name}__scenario"].sel(scenario=s, area="England"))
                d, k = effect_decimals(name, m, lo, hi), display_scale(name)
                ci = f"{number_text(lo * k, d)} to {number_text(hi * k, d)}" if n > 1 and np.isfinite(lo) else "n/a"
                rows.append(
                    [
                        o.long_name,
                        unit_cell(name),
                        level_num(name, b),
                        level_num(name, sc),
                        number_text(m * k, d),
                        ci,
                        noise_cell(m, lo, hi, n),
                    ]
                )
            page.raw(
                _table(
                    [
                        "Outcome",
                        "Unit",
                        "Status quo",
                        plots.label(s),
                        "Difference",
                        "95% interval",
                        "Within the noise?",
                    ],
                    rows,
                    numeric={2, 3, 4, 5},
                    cls="effects",
                )
            )
        page.end()
    n_rep = _replicates(study)[0]
    page.h2("levels", "Levels under each scenario" if len(study.scenarios) > 1 else "Levels")
    page.p(
        f"Mean over {n_rep} replicates in {res.total_label}, with the lowest to the highest replicate beneath."
        if n_rep > 1
        else f"{res.total_label}: one run (one replicate), so no range or interval can be shown."
    )
    if res.out is None:
        head = ["Outcome", "Unit", "Status quo"] + [plots.label(s) for s in res.eff.scenario.values]
        rows = [
            [
                esc(OUTCOMES[n].long_name),
                esc(level_unit(n)),
                esc(level_num(n, float(res.eff[f"{n}__status_quo"].isel(scenario=0).sel(area="England")))),
            ]
            + [
                esc(level_num(n, float(res.eff[f"{n}__scenario"].sel(scenario=s, area="England"))))
                for s in res.eff.scenario.values
            ]
            for n in OUTCOMES
        ]
    else:
        head = ["Outcome", "Unit"] + [plots.label(s) for s in study.scenarios]
        rows = []
        for name, o in OUTCOMES.items():
            row = [esc(o.long_name), esc(level_unit(name))]
            for s in study.scenarios:
                have = res.have.sel(scenario=s)
                v = res.out[name].sel(scenario=s, area="England").isel(replicate=np.flatnonzero(have.values))
                row.append(_range_cell(name, v, int(have.sum())))
            rows.append(row)
    page.raw(_table(head, rows, numeric=set(range(2, len(head))), escape=False, cls="levels"))
    page.end()


def section_figures(page: Page, study: Study, res: Results, colors: dict[str, str]) -> None:
    ds = res.tot
    n_rep = ds.sizes["replicate"]
    band = (
        f"Lines: mean over {n_rep} replicates; shaded: the 5-95% range across replicates."
        if n_rep > 1
        else "One replicate: a single simulated path, no range can be shown."
    )
    where = f"All simulated LAs ({res.total_label}), weekly."
    page.h2("over-time", "Headline outcomes over time")
    page.figure(
        lambda: plots.fig_headline(ds, colors),
        "Four line charts over time by scenario: children in care, share in "
        "family-based care, share placed over 20 miles from home, children waiting.",
        f"{where} {band}",
    )
    page.end()
    page.h2("placements", "Placement mix")
    page.figure(
        lambda: plots.fig_placement_mix(ds, colors),
        "Nine line charts: children in each type of placement over time, by scenario.",
        f"Children in care by type of placement at the end of each week. {where} "
        "'Unregistered': waiting in an emergency or unregistered placement while the search goes on. 'Other "
        f"settings': placed with parents, placed for adoption, other. {band}",
    )
    page.end()
    page.h2("distance", "Distance from home")
    page.figure(
        lambda: plots.fig_distance(ds, colors),
        "Line charts of the share placed over 20 miles from home, the share "
        "outside the home LA, the mean distance and the number over 20 miles, by scenario.",
        "Great-circle distance from the child's home point to the placement (DfE's measure), among placed "
        f"children with a known location. {where} {band}",
    )
    page.end()
    page.h2("waiting", "Children waiting and unregistered placements")
    page.figure(
        lambda: plots.fig_waiting(ds, colors),
        "Line charts of children waiting, share waiting, days waited per "
        "placement and children needing secure care with no secure place, by scenario.",
        "A child waits in an emergency or unregistered placement while no suitable placement is found. Days "
        f"waited per placement: a 13-week moving total of days over placements made. {where} {band}",
    )
    page.end()
    section_money(page, study, res, colors, band)
    page.h2("supply", "Foster carers and children's homes")
    page.figure(
        lambda: plots.fig_supply(ds, colors),
        "Line charts of approved fostering households, in-house households, "
        "open children's homes and their occupancy, by scenario.",
        f"Supply located in the simulated LAs. {where} {band}",
    )
    page.end()


def section_money(page: Page, study: Study, res: Results, colors: dict[str, str], band: str) -> None:
    ds = res.tot
    page.h2("money", "Spend and RCC costs")
    page.p(
        "Money is in 2024 pounds. The net cost counts placement spend less the part paid by health partners, "
        "plus the RCCs' set-up, running, void block-contract and capital costs, less DfE programme funding."
    )
    paired = study.baseline is not None and len(study.scenarios) > 1
    page.figure(
        lambda: plots.fig_spend(ds, colors, study.baseline),
        "Line charts of cumulative net cost over time and a bar chart of spend by placement type, by scenario.",
        "Top: net cost added up week by week"
        + ("; middle: each scenario minus the status quo on the same seed" if paired else "")
        + f". {band} Bottom: spend over the whole run by type of placement, mean over replicates.",
    )
    costs = plots.rcc_costs(ds)
    if any(abs(v) > 0 for c in costs.values() for v in c.values()):
        page.figure(
            lambda: plots.fig_rcc_costs(ds, colors),
            "A bar chart of RCC set-up, running, void and capital costs and offsets, by scenario.",
            "Over the whole run, summed over the simulated LAs; offsets (health "
            "co-funding, programme funding) reduce the net cost and are shown as negative.",
        )
    else:
        page.p("No RCC costs arise in these scenarios (no RCC is set up).")
    rows = [[k] + [number_text(costs[s][k], 2) for s in study.scenarios] for k in plots.RCC_COSTS]
    page.raw(
        _table(
            ["GBP million over the run"] + [plots.label(s) for s in study.scenarios],
            rows,
            numeric=set(range(1, len(study.scenarios) + 1)),
        )
    )
    page.end()


def section_map(page: Page, study: Study, res: Results) -> None:
    page.h2("map", "Map of the local authorities")
    name = "share_over_20_miles"
    codes = list(res.la_names)
    if study.ds is not None:
        lat = study.ds.la_lat.sel(la=codes).values
        lon = study.ds.la_lon.sel(la=codes).values
    else:
        from rcc_sim.data import load_las

        las = load_las()
        idx = [las["code"].tolist().index(c) for c in codes]
        lat, lon = las["lat"][idx], las["lon"][idx]
    numbered = len(codes) <= 40
    key = (
        "Numbers: " + "; ".join(f"{i} {res.la_names[c]}" for i, c in enumerate(codes, start=1)) + ". "
        if numbered
        else ""
    )
    if res.eff.data_vars:
        for s in res.eff.scenario.values[:4]:
            v = res.eff[f"{name}__difference"].sel(scenario=s).reindex(area=codes).values * 100
            n = int(res.eff["n_pairs"].sel(scenario=s))
            page.figure(
                lambda v=v, s=s: plots.fig_map(
                    codes,
                    lat,
                    lon,
                    v,
                    f"{plots.label(s)} minus status quo: share placed more than 20 miles from home, last year",
                    "difference (percentage points)",
                    diverging=True,
                    numbered=numbered,
                ),
                f"Map of the simulated LAs coloured by the effect of {plots.label(s)} on the share placed over "
                "20 miles from home.",
                f"Each simulated LA coloured by the mean difference over {n} paired replicate"
                f"{'s' if n != 1 else ''} (scenario minus status quo; orange: more children placed far from "
                "home, purple: fewer). A single LA has few children, so its difference is noisy: see the "
                f"intervals by area below. {key}{plots.BOUNDARY_CREDIT}",
            )
        if len(res.eff.scenario) > 4:
            page.p(
                f"Maps are shown for the first four scenarios only; {len(res.eff.scenario) - 4} more are in the tables."
            )
    else:
        s = study.baseline or study.scenarios[0]
        have = np.flatnonzero(res.have.sel(scenario=s).values)
        v = res.out[name].sel(scenario=s).isel(replicate=have).mean("replicate").reindex(area=codes).values * 100
        page.figure(
            lambda: plots.fig_map(
                codes,
                lat,
                lon,
                v,
                f"{plots.label(s)}: share placed more than 20 miles from home, last year",
                "% of children placed",
                diverging=False,
                numbered=numbered,
            ),
            f"Map of the simulated LAs coloured by the share of children placed over 20 miles from home under "
            f"{plots.label(s)}.",
            f"Each simulated LA coloured by its level (mean over replicates). {key}" + plots.BOUNDARY_CREDIT,
        )
    page.end()


def _area_rows(res: Results) -> list[tuple[str, str, bool]]:
    """(area, label, indented) for the by-area tables: the total, regions, each RCC and its members.
    An area with the same LAs as one shown in its place is left out (an RCC over every simulated LA
    replaces the total; a region equal to the total or to an RCC is not repeated)."""
    areas = set(res.eff.area.values.tolist()) if res.eff.data_vars else set(res.out.area.values.tolist())
    all_las = frozenset(c for c in res.la_names if c in areas)
    rccs = {g: frozenset(m) & all_las for g, m in res.groups.items() if g in areas}
    shown = set(rccs.values())
    rows = []
    if all_las not in shown:
        rows.append(("England", res.total_label, False))
        shown.add(all_las)
    for r in res.regions:
        members = frozenset(c for c in all_las if res.la_regions.get(c) == r)
        if r in areas and members not in shown:
            rows.append((r, r, False))
            shown.add(members)
    for g in rccs:
        rows.append((g, area_label(g, res), False))
        rows += [(c, res.la_names.get(c, c), True) for c in res.groups[g] if c in all_las]
    if not rccs and len(all_las) <= 20:
        rows += [(c, res.la_names[c], True) for c in res.la_names if c in all_las]
    return rows


def section_areas(page: Page, study: Study, res: Results, colors: dict[str, str]) -> None:
    rows = _area_rows(res)
    n_rep = _replicates(study)[0]
    page.h2("areas", "Results by region and RCC")
    head = ["Area"] + [
        f"{OUTCOMES[n].long_name} ({diff_unit(n) if res.eff.data_vars else level_unit(n)})" for n in AREA_OUTCOMES
    ]
    indents = ["member" if ind else "" for _, _, ind in rows]
    if res.eff.data_vars:
        page.p(
            "Scenario minus status quo by area: mean difference, with its 95% interval beneath. An RCC's area "
            "is the sum of its "
            "member LAs, listed under it."
            + DAGGER
            + " marks a difference "
            + NOISE
            + " (the interval includes zero or "
            "there is one replicate)."
        )
        for s in res.eff.scenario.values:
            page.raw(f"<h3>{esc(plots.label(s))} minus status quo</h3>")
            body = []
            for area, lab, _ in rows:
                cells = [esc(lab)]
                for name in AREA_OUTCOMES:
                    m, lo, hi, _, n = _e(res, s, name, area)
                    d, k = effect_decimals(name, m, lo, hi), display_scale(name)
                    if identical(m, lo, hi, n) and n > 1:
                        cells.append('0<br><span class="range">same in every run</span>')
                        continue
                    ci = (
                        f'<br><span class="range">{number_text(lo * k, d)} to {number_text(hi * k, d)}</span>'
                        if n > 1 and np.isfinite(lo)
                        else ""
                    )
                    cells.append(f"{number_text(m * k, d)}{DAGGER if within_noise(lo, hi, n) else ''}{ci}")
                body.append(cells)
            page.raw(_table(head, body, numeric={1, 2, 3, 4}, row_classes=indents, cls="areas", escape=False))
        # a chart taller than a printed page is unreadable: past 25 areas, leave the member LAs to the table
        forest = rows if len(rows) <= 25 else [r for r in rows if not r[2]]
        panels = []
        for name, title in (
            ("share_over_20_miles", "Placed over 20 miles from home"),
            ("share_family_based", "In family-based care"),
        ):
            data = {}
            for s in res.eff.scenario.values:
                e = res.eff.sel(scenario=s).sel(area=[a for a, _, _ in forest])
                data[str(s)] = tuple(e[f"{name}__{k}"].values * 100 for k in ("difference", "ci_low", "ci_high"))
            panels.append((f"{title}, last year: difference", "percentage points", data))
        page.figure(
            lambda: plots.fig_forest([(lab, ind) for _, lab, ind in forest], panels, colors),
            "Dot-and-whisker charts of effects with 95% intervals by area.",
            "Mean difference (scenario minus status quo) with its 95% interval by area (members of an RCC "
            "indented under it); an interval crossing the zero line is " + NOISE + ".",
        )
    else:
        s = study.scenarios[0]
        page.p(
            f"Levels under {plots.label(s).lower()} by area"
            + (" (mean over replicates)." if n_rep > 1 else " (one run).")
        )
        have = np.flatnonzero(res.have.sel(scenario=s).values)
        body = [
            [lab]
            + [
                level_num(n, float(res.out[n].sel(scenario=s, area=area).isel(replicate=have).mean()))
                for n in AREA_OUTCOMES
            ]
            for area, lab, _ in rows
        ]
        page.raw(_table(head, body, numeric={1, 2, 3, 4}, row_classes=indents, cls="areas"))
    page.end()


def _short(v: Any, n: int = 70) -> str:
    if isinstance(v, float):
        s = f"{v:,.0f}" if abs(v) >= 10_000 and v == int(v) else f"{v:g}"
    else:
        s = json.dumps(v) if isinstance(v, (list, dict)) else str(v)
    return s if len(s) <= n else s[: n - 3] + "..."


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(d, dict):
        out = {}
        for k, v in d.items():
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: d}


def no_source(source: str) -> bool:
    """True when the value has no published source: marked ASSUMPTION (anywhere in the source)."""
    return ASSUMPTION in source


def _lever_rows(cfg: Config, la_names: dict[str, str]) -> list[dict[str, Any]]:
    """Every RCC of the policy: its members and each lever with unit and source
    (:func:`rcc_sim.config.parameter_table` does not walk the dict of RCCs)."""
    rows = []
    for name, rcc in cfg.policy.rccs.items():
        who = (
            f"{len(rcc.members)} LAs: " + ", ".join(la_names.get(c, c) for c in rcc.members)
            if rcc.members
            else f"every LA in {rcc.region}"
        )
        rows.append(
            {
                "key": f"policy.rccs.{name}.members",
                "value": who,
                "unit": "LAs",
                "source": "policy file",
                "assumption": False,
            }
        )
        for f in dataclasses.fields(rcc):
            if "unit" in f.metadata:
                rows.append(
                    {
                        "key": f"policy.rccs.{name}.{f.name}",
                        "value": getattr(rcc, f.name),
                        "unit": f.metadata["unit"],
                        "source": f.metadata["source"],
                        "assumption": no_source(f.metadata["source"]),
                    }
                )
            elif f.name not in ("members", "region"):
                rows.append(
                    {
                        "key": f"policy.rccs.{name}.{f.name}",
                        "value": getattr(rcc, f.name),
                        "unit": "switch",
                        "source": "policy lever (on/off)",
                        "assumption": False,
                    }
                )
    return rows


def section_assumptions(page: Page, study: Study, res: Results) -> None:
    page.h2("assumptions", "What the model assumes")
    page.p(
        "rcc-sim starts from published aggregate statistics for 31 March 2024 (DfE children looked after, Ofsted "
        "fostering and children's homes data, CMA market study, ONS geography; no child-level data). Every "
        "parameter has a unit and a source. Where the source says 'no published source', the value is the "
        "modellers' assumption: results depend on it, and sensitivity studies should vary it."
    )
    base_cfg = study.config_of(study.baseline or study.scenarios[0])
    if base_cfg is None:
        errs = "; ".join(r.config_error for r in study.runs if r.config_error) or "no config.yaml found"
        page.raw(
            f'<p class="caveat">The configuration of the runs could not be read ({esc(errs)}); the table below '
            "shows this version's defaults, which may differ from what was run.</p>"
        )
        base_cfg = Config()
    defaults = _flatten(dataclasses.asdict(Config()))
    base_flat = _flatten(dataclasses.asdict(base_cfg))
    skip = ("seed", "policy.name", "policy.description")
    changed = {
        k: v
        for k, v in base_flat.items()
        if k not in skip and not k.startswith("policy.rccs.") and defaults.get(k, object()) != v
    }
    first = plots.label(study.baseline or study.scenarios[0]).lower()
    page.raw(f"<h3>Settings that differ from the defaults ({esc(first)})</h3>")
    if changed:
        page.raw(
            _table(
                ["Setting", "Value", "Default"],
                [[k, _short(v), _short(defaults.get(k, "(none)"))] for k, v in sorted(changed.items())],
                cls="settings",
            )
        )
    else:
        page.p("None: every parameter is at its default.")
    for s in study.scenarios:
        cfg = study.config_of(s)
        if cfg is None or cfg is base_cfg:
            continue
        flat = _flatten(dataclasses.asdict(cfg))
        diff = {
            k: v
            for k, v in flat.items()
            if k not in skip and not k.startswith("policy.rccs.") and base_flat.get(k, object()) != v
        }
        page.raw(f"<h3>{esc(plots.label(s))}: what it changes</h3>")
        if diff:
            page.raw(
                _table(
                    ["Setting", "Value", plots.label(study.baseline or study.scenarios[0])],
                    [[k, _short(v), _short(base_flat.get(k, "(none)"))] for k, v in sorted(diff.items())],
                    cls="settings",
                )
            )
        levers = _lever_rows(cfg, res.la_names)
        if levers:
            flagged = sum(r["assumption"] for r in levers)
            page.p(f"Its RCCs and their levers ({flagged} of {len(levers)} values have no published source):")
            page.raw(_param_table(levers))
        elif not diff:
            page.p("Nothing: it has the same settings.")
    rows = parameter_table(base_cfg)
    for r in rows:
        r["assumption"] = no_source(r["source"])
    flagged = sum(r["assumption"] for r in rows)
    page.raw(f"<h3>Every model parameter ({esc(plots.label(study.baseline or study.scenarios[0]).lower())})</h3>")
    page.p(f"{len(rows)} parameters, of which {flagged} have no published source (highlighted).")
    page.raw(_param_table(rows))
    page.end()


def _source_cell(r: dict[str, Any]) -> str:
    src = str(r["source"])
    if not r["assumption"]:
        return esc(src)
    rest = (
        src[len(ASSUMPTION) :].strip(" :;,-") if src.startswith(ASSUMPTION) else src.replace(ASSUMPTION, "assumption")
    )
    return "<strong>No published source.</strong> " + esc(rest[:1].upper() + rest[1:] if rest else "")


def _param_table(rows: list[dict[str, Any]]) -> str:
    body = [
        [
            esc(r["key"]).replace(".", ".<wbr>").replace("_", "_<wbr>"),
            esc(_short(r["value"], 400 if r["key"].endswith(".members") else 60)),
            esc(r["unit"]),
            _source_cell(r),
        ]
        for r in rows
    ]
    return _table(
        ["Parameter", "Value", "Unit", "Source"],
        body,
        cls="params",
        escape=False,
        row_classes=["flag" if r["assumption"] else "" for r in rows],
    )


def reproduce_commands(study: Study) -> list[str]:
    """The commands that rerun the study's runs (one per distinct command)."""
    out: list[str] = []
    for r in study.runs:
        argv = r.manifest.get("command") or []
        prog = Path(argv[0]).name if argv else ""
        if prog in ("rcc-sim", "rcc-sim-compare"):
            args = [a for a in argv[1:] if not a.startswith(("hydra.run.dir=", "hydra.sweep.dir="))]
            cmd = " ".join([prog] + [shlex.quote(a) for a in args])
        else:
            cmd = f"rcc-sim --config-path {shlex.quote(str(r.path.resolve()))} --config-name config"
        if cmd not in out:
            out.append(cmd)
    return out


def section_provenance(page: Page, study: Study, out_path: Path) -> None:
    page.h2("provenance", "Provenance and how to reproduce")
    rows, commits, checks, versions = [], set(), set(), set()
    for r in study.runs:
        m = r.manifest
        git = m.get("git") or {}
        commits.add(git.get("commit"))
        checks.add(json.dumps(m.get("data_checksums"), sort_keys=True))
        versions.add(json.dumps(m.get("packages"), sort_keys=True))
        years = r.config.sim.years if r.config else (m.get("config") or {}).get("sim", {}).get("years", "?")
        try:
            rel = r.path.resolve().relative_to(out_path.parent.resolve())
        except ValueError:
            rel = r.path
        rows.append(
            [
                r.policy,
                r.seed,
                m.get("world", "?"),
                years,
                (m.get("packages") or {}).get("rcc-sim", "?"),
                (git.get("commit") or "unknown")[:12],
                {True: "YES", False: "no"}.get(git.get("dirty"), "unknown"),
                f"{m['wall_seconds']:.1f}" if isinstance(m.get("wall_seconds"), (int, float)) else "?",
                str(rel) or ".",
            ]
        )
    if study.ds is not None:
        page.p(f"{len(study.runs)} run{'s' if len(study.runs) != 1 else ''} went into this report:")
    page.raw(
        _table(
            [
                "Policy",
                "Seed",
                "World",
                "Years",
                "rcc-sim",
                "Git commit",
                "Uncommitted changes",
                "Run time (s)",
                "Directory",
            ],
            rows,
            numeric={1, 3, 7},
        )
    )
    warn = []
    if any(r[6] == "YES" for r in rows):
        warn.append(
            "At least one run was made from code with uncommitted changes: the git commit alone does not "
            "reproduce it exactly."
        )
    if len(commits) > 1:
        warn.append("The runs were made from different code versions (git commits); compare them with care.")
    if len(checks) > 1:
        warn.append("The runs used different data files (checksums differ); compare them with care.")
    if len(versions) > 1:
        warn.append("The runs used different package versions.")
    for w in warn:
        page.raw(f'<p class="caveat">{esc(w)}</p>')
    first = study.runs[0].manifest if study.runs else {}
    if first.get("packages"):
        page.raw("<h3>Software</h3>")
        page.raw(_table(["Package", "Version"], [[k, v] for k, v in first["packages"].items()]))
    if first.get("data_checksums"):
        page.raw("<h3>Data files (SHA-256)</h3>")
        page.raw(_table(["File", "SHA-256"], [[k, f"{v}"] for k, v in first["data_checksums"].items()], cls="small"))
    page.raw("<h3>How to reproduce</h3>")
    commit = next((c for c in commits if c), None)
    steps = []
    if commit:
        steps.append(f"git checkout {commit}")
    steps.append("python3 -m pip install -e .")
    steps += reproduce_commands(study)
    steps.append(f"rcc-sim-report {shlex.quote(str(study.path))}")
    page.p("From a clone of the rcc-sim repository (the same commit and seed give the same numbers, bit for bit):")
    page.raw("<pre>" + esc("\n".join(steps)) + "</pre>")
    page.p(
        "Each run directory holds results.nc (every output variable with its units and definition), config.yaml "
        "(the full resolved configuration) and manifest.json (seed, package versions, git commit, data checksums, "
        "command line)."
    )
    cfg_text = next((r.config_text for r in study.runs if r.config_text), "")
    if cfg_text:
        page.raw(
            f"<details><summary>Full configuration of the first run (config.yaml)</summary>"
            f'<pre class="small">{esc(cfg_text)}</pre></details>'
        )
    page.end()


def render(study: Study, keep_figures: list | None = None) -> str:
    """The report for ``study`` as one self-contained HTML page. Pass a list as ``keep_figures`` to
    get the (name, Figure) pairs drawn, e.g. to check them."""
    t0 = time.perf_counter()
    res = compute(study)
    colors = plots.scenario_colors(study.scenarios, study.baseline)
    page = Page(keep_figures)
    out_path = study.path / REPORT_FILE
    section_summary(page, study, res)
    section_effects(page, study, res)
    if study.ds is not None:
        section_figures(page, study, res, colors)
    section_map(page, study, res)
    section_areas(page, study, res, colors)
    section_assumptions(page, study, res)
    section_provenance(page, study, out_path)
    title = plots.label(f"{_scenario_words(study)} in {res.total_label}")
    gen = git_state()
    now = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    toc = "".join(f'<li><a href="#{a}">{esc(t)}</a></li>' for a, t in page.toc)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body><main>"
        f'<header><p class="kicker">rcc-sim report \u00b7 {esc(study.path.resolve().name)}</p><h1>{esc(title)}</h1>'
        f'<p class="caveat"><strong>Read this first.</strong> {esc(CAVEAT)}</p></header>'
        f"<nav><strong>Contents</strong><ol>{toc}</ol></nav>"
        + "".join(page.parts)
        + f"<footer>Generated {esc(now)} by rcc-sim {esc(package_versions().get('rcc-sim', '?'))} "
        f"(code {esc((gen.get('commit') or 'unknown')[:12])}{' with uncommitted changes' if gen.get('dirty') else ''})"
        f" in {time.perf_counter() - t0:.1f} s. {esc(CAVEAT)}</footer></main></body></html>\n"
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


def write_report(path: str | Path, out: str | Path | None = None, ds: xr.Dataset | None = None) -> Path:
    """Write report.html for the run or study in ``path`` (or to ``out``) and return its path.
    ``ds``: the results of a single run in ``path``, already in memory."""
    study = load(path) if ds is None else from_run(path, ds)
    target = Path(out) if out else Path(path) / REPORT_FILE
    try:
        text = render(study)
    except KeyError as exc:
        if "No variable named" not in str(exc):
            raise
        raise ReportError(
            f"{path}: {exc.args[0].split('.')[0]} in the results: were they made by an older version "
            "of rcc-sim? Re-run them with this version."
        ) from exc
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    return target


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="rcc-sim-report",
        description="Write report.html for a run or study directory: "
        "a self-contained page for policy teams (summary, effects with intervals, charts, "
        "map, assumptions, provenance).",
    )
    ap.add_argument(
        "dir",
        help="a run directory (results.nc, config.yaml, manifest.json), a directory of runs (a "
        "sweep or study), or a directory written by rcc-sim-compare",
    )
    ap.add_argument("-o", "--output", help=f"where to write the report (default: <dir>/{REPORT_FILE})")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    try:
        target = write_report(args.dir, args.output)
    except ReportError as exc:
        print(f"rcc-sim-report: {exc}", file=sys.stderr)
        return 2
    print(f"rcc-sim-report: report written to {target} ({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
