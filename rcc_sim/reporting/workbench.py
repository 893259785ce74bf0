"""The workbench page (``workbench.html``): RCC designs ranked side by side against the status quo.

One self-contained page, in the style of the run report (:mod:`rcc_sim.reporting.report.page`):
the ranking with intervals; every chosen outcome side by side; a dot-and-interval chart per
outcome; a paragraph per design in plain words; each design's lever settings, costs and the
unsourced assumptions it rests on; the runs behind it. Every number is read from the workbench
Dataset (:func:`rcc_sim.studies.workbench.summarise`).
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from rcc_sim.reporting import plots
from rcc_sim.reporting.report.page import Page, document, esc, html_table
from rcc_sim.reporting.wording import (
    DAGGER,
    NOISE,
    WORDING,
    diff_unit,
    display_scale,
    effect_decimals,
    effect_sentence,
    level_num,
    level_unit,
    number_text,
    within_noise,
)

if TYPE_CHECKING:
    from rcc_sim.studies.workbench import Plan

CAVEAT = (
    "These are model outputs under the assumptions stated below, not forecasts: they compare how the simulated "
    "system responds to each design, given what the model assumes. A ranking within the noise of the simulation "
    "is not a ranking."
)
EXTRA_CSS = """
table.ranking td:nth-child(2) { font-weight: bold; }
table.side td.n, table.ranking td.n { white-space: normal; }
ul.designs { list-style: none; padding-left: 0; }
ul.designs li { margin-bottom: 0.7em; }
"""


# ---------------------------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------------------------
def area_words(area: str, world: str) -> str:
    if area.startswith("RCC "):
        return f"the {plots.label(area[4:])} RCC's member LAs"
    if area == "outside RCCs":
        return "the simulated LAs in no RCC"
    return "England" if world == "england" else f"all simulated LAs ({plots.label(world)})"


def _cell(name: str, v: xr.Dataset, n: int, html: bool = True) -> str:
    """'mean' and its interval beneath, in display units; a dagger when within the noise."""
    m, lo, hi = float(v["mean"]), float(v["lo"]), float(v["hi"])
    if not np.isfinite(m):
        return "n/a"
    d, k = effect_decimals(name, m, lo, hi), display_scale(name)
    text = number_text(m * k, d) + (DAGGER if within_noise(lo, hi, n) else "")
    if n < 2 or not (np.isfinite(lo) and np.isfinite(hi)):
        return esc(text)
    ci = f"{number_text(lo * k, d)} to {number_text(hi * k, d)}"
    return f'{esc(text)}<br><span class="range">{esc(ci)}</span>' if html else f"{text} ({ci})"


APART = "cannot be told apart"


def against_top(m: float, lo: float, hi: float, n: int, better: str) -> str:
    """A design against the top one on the first ranked outcome (the difference's interval)."""
    if within_noise(lo, hi, n):
        return APART
    return "better than the top design" if (m < 0) == (better == "lower") else "worse than the top design"


def _short(key: str) -> str:
    return key.removeprefix("policy.rccs.").removeprefix("policy.")


def _value(v: Any) -> str:
    if isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) >= 10_000:
        return f"{v / 1e6:g}m" if abs(v) >= 1e6 else f"{v / 1e3:g}k"  # 3.5m, 25k: money, mostly
    if isinstance(v, float):
        return f"{v:g}"
    return json.dumps(v) if isinstance(v, (list, dict)) else str(v)


def _title(name: str, ds: xr.Dataset) -> str:
    return str(ds["long_name"].sel(outcome=name).item())


# ---------------------------------------------------------------------------------------------
# The chart: each design's difference from the status quo, with its interval, by area
# ---------------------------------------------------------------------------------------------
@plots.styled
def fig_designs(ds: xr.Dataset, name: str) -> Figure:
    designs = [str(v) for v in ds.variant.values]
    areas = [str(a) for a in ds.area.values]
    colors = dict(zip(areas, plots.OKABE_ITO))
    fig = Figure(figsize=(plots.WIDTH, 0.36 * len(designs) + 1.7), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    k = display_scale(name) if name in WORDING else 1.0
    y = np.arange(len(designs))
    for i, area in enumerate(areas):
        v = ds.sel(outcome=name, area=area)
        m, lo, hi = (v[x].values * k for x in ("mean", "lo", "hi"))
        err = np.vstack([m - lo, hi - m])
        err = np.where(np.isfinite(err), err, 0.0)
        off = (i - (len(areas) - 1) / 2) * min(0.22, 0.7 / len(areas))
        ax.errorbar(m, y + off, xerr=err, fmt="o", color=colors[area], markersize=4, capsize=2, linewidth=1.2)
    ax.axvline(0, color="#555555", linewidth=0.8)
    ax.set_yticks(y, [f"{int(r)}. {plots.label(d)}" for r, d in zip(ds["rank"].values, designs)])
    ax.invert_yaxis()
    ax.grid(axis="y", visible=False)
    ax.margins(x=0.12)
    better = str(ds["better"].sel(outcome=name).item())
    ax.set_xlabel(
        f"design minus status quo ({diff_unit(name) if name in WORDING else ds['units'].sel(outcome=name).item()})"
    )
    ax.set_ylabel("design (rank)")
    plots.set_title(ax, _title(name, ds) + (f" - {better} is better" if better else ""))
    world = str(ds.attrs.get("world", ""))
    handles = [Line2D([], [], color=colors[a], marker="o", linewidth=1.2, label=area_words(a, world)) for a in areas]
    handles.append(Line2D([], [], color="#555555", linewidth=0.8, label="no difference"))
    fig.legend(handles=handles, loc="outside lower center", ncols=2, frameon=False)
    return fig


# ---------------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------------
def _ranked(ds: xr.Dataset) -> list[tuple[str, str]]:
    return [tuple(e.split(":")) for e in json.loads(ds.attrs["rank_by"])]  # type: ignore[misc]


def section_ranking(page: Page, ds: xr.Dataset) -> None:
    area, world = ds.attrs["rank_area"], ds.attrs["world"]
    ranked = _ranked(ds)
    first = ranked[0][0]
    page.h2("ranking", "The designs ranked")
    page.p(
        f"Ranked in {area_words(area, world)} on "
        + ", ".join(f"{WORDING[n].subject if n in WORDING else _title(n, ds)} ({d} is better)" for n, d in ranked)
        + ". Each cell is the design minus the status quo on the same seeds (the same children), the mean over "
        "seeds with its 95% interval beneath; "
        + ("with several outcomes a design's place is the mean of its places on each. " if len(ranked) > 1 else "")
        + f"{DAGGER.strip()} marks a difference {NOISE} (the interval includes zero). The last column sets each "
        f"design against the top one on {_title(first, ds).lower()}, paired by seed: where that interval includes "
        "zero the two cannot be told apart."
    )
    head = ["Rank", "Design", "Seeds"] + [
        f"{_title(n, ds)} ({diff_unit(n) if n in WORDING else ds['units'].sel(outcome=n).item()})" for n, _ in ranked
    ]
    head.append("Against the top design")
    rows = []
    for v in ds.variant.values:
        r = ds.sel(variant=v)
        n = int(r["n_seeds"])
        cells = [str(int(r["rank"])), esc(plots.label(v)), str(n)]
        cells += [_cell(name, r.sel(outcome=name, area=area), n) for name, _ in ranked]
        m, lo, hi = (float(r[k]) for k in ("vs_top_mean", "vs_top_lo", "vs_top_hi"))
        if int(r["rank"]) == 1:
            cells.append("top")
        elif not np.isfinite(m):
            cells.append("n/a")
        else:
            d, k = effect_decimals(first, m, lo, hi), display_scale(first) if first in WORDING else 1.0
            ci = f"{number_text(lo * k, d)} to {number_text(hi * k, d)}" if np.isfinite(lo) else "no interval"
            cells.append(
                f"{esc(number_text(m * k, d))}<br><span class='range'>{esc(ci)}; "
                f"{against_top(m, lo, hi, n, ranked[0][1])}</span>"
            )
        rows.append(cells)
    page.raw(html_table(head, rows, numeric=set(range(2, len(head))), cls="ranking", escape=False))
    page.end()


def section_side_by_side(page: Page, ds: xr.Dataset) -> None:
    page.h2("outcomes", "Every chosen outcome, side by side")
    page.p(
        "Design minus status quo for each outcome chosen, mean over seeds with the 95% interval beneath; the "
        "status quo's level for reference. Shares are in % and their differences in percentage points."
    )
    shown = [str(o) for o in ds.outcome.values if bool(ds["shown"].sel(outcome=o))]
    world = ds.attrs["world"]
    areas = [ds.attrs["rank_area"]] + [str(a) for a in ds.area.values if a != ds.attrs["rank_area"]]
    for i, area in enumerate(areas):
        head = ["Outcome", "Unit", "Status quo"] + [plots.label(v) for v in ds.variant.values]
        rows = []
        for name in shown:
            unit = (
                f"{level_unit(name)} / {diff_unit(name)}"
                if name in WORDING
                else str(ds["units"].sel(outcome=name).item())
            )
            sq = ds["status_quo"].sel(outcome=name, area=area).mean("variant", skipna=True)
            rows.append(
                [
                    esc(_title(name, ds)),
                    esc(unit),
                    esc(level_num(name, float(sq)) if name in WORDING else f"{float(sq):.4g}"),
                ]
                + [
                    _cell(name, ds.sel(variant=v, outcome=name, area=area), int(ds["n_seeds"].sel(variant=v)))
                    for v in ds.variant.values
                ]
            )
        table = html_table(head, rows, numeric=set(range(2, len(head))), cls="side", escape=False)
        title = f"In {area_words(area, world)}"
        if i == 0:
            page.raw(f"<h3>{esc(title)}</h3>{table}")
        else:
            page.raw(f"<details><summary>{esc(title)}</summary>{table}</details>")
    page.end()


def section_figures(page: Page, ds: xr.Dataset) -> None:
    page.h2("charts", "Each outcome: the designs and their intervals")
    page.p(
        "One chart per outcome: each design's difference from the status quo (dot: mean over seeds; bar: 95% "
        "interval), in each area. Designs are listed in rank order."
    )
    for name in (str(o) for o in ds.outcome.values if bool(ds["shown"].sel(outcome=o))):
        page.figure(
            lambda name=name: fig_designs(ds, name),
            f"Dot-and-interval chart of {_title(name, ds).lower()} by design",
            f"{_title(name, ds)}: design minus status quo, by area, with 95% intervals over "
            f"{len(json.loads(ds.attrs['seeds']))} seeds.",
        )
    page.end()


def _design_paragraph(ds: xr.Dataset, v: str) -> str:
    r = ds.sel(variant=v)
    area, world = ds.attrs["rank_area"], ds.attrs["world"]
    n = int(r["n_seeds"])
    head = f"<strong>{int(r['rank'])}. {esc(plots.label(v))}</strong>"
    desc = str(r["description"].item())
    text = [f"{head}{' - ' + esc(desc) if desc else ''}."]
    if n == 0:
        text.append("No run of this design (or of the status quo on its seeds) finished: see the runs below.")
        return " ".join(text)
    for name, _ in _ranked(ds):
        x = r.sel(outcome=name, area=area)
        text.append(
            esc(
                effect_sentence(
                    name,
                    v,
                    float(x["mean"]),
                    float(x["lo"]),
                    float(x["hi"]),
                    n,
                    float(x["status_quo"]),
                    where=f"in {area_words(area, world)}",
                )
            )
        )
    cost = {c: float(r["design"].sel(outcome=c, area="England")) for c in _COSTS}
    rcc = sum(cost[c] for c in _COSTS[:5])
    text.append(
        esc(
            f"Its RCCs cost GBP {rcc:,.1f}m over the run (set-up {cost['rcc_setup_gbp_m']:,.1f}m, running "
            f"{cost['rcc_running_gbp_m']:,.1f}m, capital {cost['rcc_capital_gbp_m']:,.1f}m, therapeutic support "
            f"{cost['rcc_therapeutic_gbp_m']:,.1f}m, empty block places {cost['rcc_void_block_gbp_m']:,.1f}m), "
            f"offset by GBP {cost['health_cofunding_gbp_m']:,.1f}m of health co-funding and "
            f"{cost['programme_funding_gbp_m']:,.1f}m of programme funding."
        )
    )
    rows = json.loads(str(r["assumptions"].item()))
    if rows:
        text.append(
            esc(
                f"It rests on {len(rows)} RCC settings with no published source: "
                + ", ".join(_short(a["key"]).split(".")[-1] for a in rows)
                + "."
            )
        )
    return " ".join(text)


_COSTS = (
    "rcc_setup_gbp_m",
    "rcc_running_gbp_m",
    "rcc_capital_gbp_m",
    "rcc_therapeutic_gbp_m",
    "rcc_void_block_gbp_m",
    "health_cofunding_gbp_m",
    "programme_funding_gbp_m",
)


def section_designs(page: Page, ds: xr.Dataset, plan: Plan | None) -> None:
    page.h2("designs", "Each design in plain words")
    page.raw(
        '<ul class="designs">'
        + "".join(f"<li>{_design_paragraph(ds, str(v))}</li>" for v in ds.variant.values)
        + "</ul>"
    )
    page.raw("<h3>Lever settings</h3>")
    levers = {str(v): json.loads(str(ds["levers"].sel(variant=v).item())) for v in ds.variant.values}
    keys = list(dict.fromkeys(k for lv in levers.values() for k in lv))
    base_name = ds.attrs.get("base_policy", "base")
    page.p(
        f"Each design is the experiment's policy ('{base_name}') with these settings (keys under policy.rccs. or "
        "policy.); a blank cell keeps the base policy's value, shown in the second column."
    )
    base_vals = {}
    if plan is not None:
        from rcc_sim.studies.workbench import _field

        for k in keys:
            try:
                base_vals[k] = _value(_field(plan.base, k)[0])
            except (KeyError, TypeError):
                base_vals[k] = "(none)"
    rows = [
        [f'<span class="key">{esc(_short(k))}</span>', esc(base_vals.get(k, ""))]
        + [esc(_value(levers[v][k])) if k in levers[v] else "" for v in levers]
        for k in keys
    ]
    page.raw(
        html_table(
            ["Lever", f"Base ({base_name})"] + [plots.label(v) for v in levers], rows, cls="settings", escape=False
        )
        if rows
        else "<p>No design changes a lever: every design is the base policy.</p>"
    )
    page.raw("<h3>Costs</h3>")
    page.p(
        "The RCCs' costs over the run in all simulated LAs, GBP million, mean over seeds (the status quo has none), "
        "and the net cost's difference from the status quo (placement spend less health co-funding, plus RCC "
        "costs, less programme funding)."
    )
    names = list(_COSTS) + ["net_cost_gbp_m"]
    rows = []
    for v in ds.variant.values:
        r = ds.sel(variant=v, area="England")
        n = int(ds["n_seeds"].sel(variant=v))
        row = [esc(plots.label(v))] + [esc(number_text(float(r["design"].sel(outcome=c)), 1)) for c in _COSTS]
        row.append(
            _cell("net_cost_gbp_m", r.sel(outcome="net_cost_gbp_m"), n) if "net_cost_gbp_m" in ds.outcome else "n/a"
        )
        rows.append(row)
    page.raw(
        html_table(
            [
                "Design",
                "Set-up",
                "Running",
                "Capital",
                "Therapeutic support",
                "Empty block places",
                "Health co-funding (offset)",
                "Programme funding (offset)",
                "Net cost vs status quo",
            ],
            rows,
            numeric=set(range(1, len(names) + 1)),
            escape=False,
        )
    )
    section_assumptions(page, ds)
    page.end()


def section_assumptions(page: Page, ds: xr.Dataset) -> None:
    page.raw("<h3>The assumptions each design rests on</h3>")
    per = {
        str(v): {a["key"]: a for a in json.loads(str(ds["assumptions"].sel(variant=v).item()))}
        for v in ds.variant.values
    }
    keys = sorted({k for a in per.values() for k in a})
    shared = int(ds.attrs.get("shared_assumptions", 0))
    page.p(
        "The RCC settings in use in each design that have no published source (ASSUMPTION in rcc_sim/config.py), "
        "with the plausible range stated there: a design resting on an assumption near the edge of its range, or "
        "ranked on an outcome that assumption drives, should be re-run across the range before it is chosen. "
        f"Besides these, {shared} model parameters have no published source; they apply to every design and to the "
        "status quo alike, so their effect largely (not wholly) cancels in the paired differences."
    )
    if not keys:
        page.p("No design rests on an RCC setting without a published source.")
        return
    rows = []
    for k in keys:
        some = next(a[k] for a in per.values() if k in a)
        rng = some["range"] or f"none stated (bounds {some['bounds'][0]} to {some['bounds'][1]})"
        rows.append(
            [f'<span class="key">{esc(_short(k))}</span>', esc(some["unit"]), esc(rng)]
            + [
                esc(_value(per[v][k]["value"])) + ("*" if per[v][k]["set_by_design"] else "") if k in per[v] else "-"
                for v in per
            ]
        )
    page.raw(
        html_table(
            ["Setting", "Unit", "Plausible range"] + [plots.label(v) for v in per], rows, cls="settings", escape=False
        )
    )
    page.p("* set by the design; the other values are the base policy's. '-': the design does not use this setting.")


def section_runs(page: Page, ds: xr.Dataset, command: str) -> None:
    page.h2("runs", "The runs behind it")
    seeds = json.loads(ds.attrs["seeds"])
    failed = json.loads(ds.attrs.get("failed_runs", "[]"))
    page.p(
        f"World: {plots.label(ds.attrs['world'])}; {ds.attrs['years']:g} years from 31 March "
        f"{ds.attrs['start_year']} after a spin-up of {ds.attrs['spin_up_years']} years; seeds "
        f"{', '.join(map(str, seeds))}. The status quo ran once per seed and every design is compared with that "
        "same run (common random numbers). " + ("The command: " if command else "")
    )
    if command:
        page.raw(f"<pre>{esc(command)}</pre>")
    if failed:
        page.raw(
            '<p class="caveat">'
            + esc(
                f"{len(failed)} runs failed; their seeds are left out of the designs they belong to (all designs, "
                "for a status-quo run). Re-running the command runs them again and keeps the runs that finished."
            )
            + "</p>"
        )
        page.raw(
            html_table(
                ["Design", "Seed", "Error"],
                [[esc(f["design"]), esc(f["seed"]), esc(f["message"])] for f in failed],
                escape=False,
            )
        )
    else:
        page.p("Every run finished.")
    page.end()


def render(ds: xr.Dataset, plan: Plan | None = None, command: str = "") -> str:
    """The workbench page as one self-contained HTML string."""
    t0 = time.perf_counter()
    page = Page()
    world = ds.attrs["world"]
    area = ds.attrs["rank_area"]
    ranked = _ranked(ds)
    top = str(ds.variant.values[0])
    title = f"RCC designs compared: {plots.label(world)}"
    lede = (
        f"{len(ds.variant)} designs against the status quo, ranked in {area_words(area, world)} on "
        + ", ".join(WORDING[n].subject if n in WORDING else _title(n, ds) for n, _ in ranked)
        + f". {plots.label(top)} comes first"
    )
    if int(ds["n_seeds"].isel(variant=0)) == 0:  # every design's runs (or the status quo's) failed
        lede = f"{len(ds.variant)} designs against the status quo: no design has a finished pair of runs to rank"
    elif len(ds.variant) > 1:
        m, lo, hi = (float(ds[k].isel(variant=1)) for k in ("vs_top_mean", "vs_top_lo", "vs_top_hi"))
        n = int(ds["n_seeds"].isel(variant=1))
        second = plots.label(str(ds.variant.values[1])).lower()
        verdict = against_top(m, lo, hi, n, ranked[0][1])
        lede += f"; on {_title(ranked[0][0], ds).lower()} the second, {second}, " + (
            f"cannot be told apart from it ({NOISE})"
            if verdict == APART
            else f"is {verdict.split()[0]} than it (the interval of the difference excludes zero)"
        )
    section_ranking(page, ds)
    section_side_by_side(page, ds)
    section_figures(page, ds)
    section_designs(page, ds, plan)
    section_runs(page, ds, command)
    return document(
        page,
        title,
        "rcc-sim co-design workbench",
        CAVEAT,
        t0,
        lede=f"{lede}.",
        extra_css=EXTRA_CSS,
        footer_note=CAVEAT,
    )
