"""The validation page (``rcc-sim-validate``): one self-contained HTML page, the model against
every published series - the first page an evaluation partner reads.

    rcc-sim-validate                                  # England, status quo, 3 seeds, 10 years
    rcc-sim-validate --from outputs/validation        # re-render from runs already made

It is made from plain data (:class:`Inputs`): the runs summarised and stacked over seeds
(:class:`rcc_sim.studies.validate.Runs`), and optional tables made elsewhere - trend bands,
one-year-ahead forecasts (:class:`rcc_sim.studies.validate.Extra`); a section with no table says
it was not run. Sections, in order: in brief; what the model does not reproduce (generated from
the numbers, then a short fixed paragraph of known limitations); the base-year fit; every
measure at a glance; each measure over time (published 2015-2023 and the model's years on the
same axis of statistical years); per-LA fit (scatter plots, MAE, correlation); trend bands;
one-year-ahead forecasts; runs and sources. Every figure has its units, a source line and its
numbers in a table beside it. Images are embedded PNGs; nothing is fetched from the network.
"""

from __future__ import annotations

import base64
import contextlib
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr

from rcc_sim.data import load_national_series
from rcc_sim.files import atomic_write_text
from rcc_sim.reporting import plots
from rcc_sim.reporting.report.page import Page, document, esc, html_table
from rcc_sim.reporting.validation.figures import SMALL, fig_scatter, fig_series
from rcc_sim.studies import validate as v

EXTRA_CSS = """
.grid { display: flex; flex-wrap: wrap; gap: 0 0.15in; }
.grid figure { width: 3.45in; margin: 0.6em 0 1.2em; }
table.sources { table-layout: fixed; }
table.sources td, table.sources th { overflow-wrap: anywhere; }
table.sources td:nth-child(1) { width: 30%; }
table.sources td:nth-child(2) { width: 18%; }
table.sources td:nth-child(3) { width: 10%; }
table.glance td:first-child { width: 30%; }
table.glance td.n { white-space: normal; }
table.glance td.n .range { white-space: nowrap; }
.source { display: block; margin-top: 2px; }
details.data table { font-size: 0.8em; }
ul.misses li { margin-bottom: 0.3em; }
tr.outside td { background: #fff6e8; }
.verdict-outside { color: var(--warn); font-weight: bold; }
.notrun { border-left: 5px solid var(--rule); background: var(--band); padding: 6px 12px; }
@media print { .grid figure { break-inside: avoid; page-break-inside: avoid; } }
"""
TITLE = "How well rcc-sim reproduces the published statistics"
CAVEAT = (
    "This page sets the model's status quo against every published series it can be compared with: "
    "the published figures for 2015-2023 (and the 2024 figures the model starts from) and the model's "
    "years on the same axis. Where they do not overlap in time, the model's first year is compared with "
    "the latest published year, and the page says so. Tolerances are stated with each comparison."
)
LIMITATIONS = (
    "Known limitations. The model starts from the published stock at its base date; published years "
    "before it are shown, not simulated, unless the run starts earlier. Each LA's published starts drive "
    "its entries, so starts are an input rather than a prediction. There is no child-level data: the "
    "ages, times in care and placement histories of the children in care at the base date are imputed, so "
    "measures that look back (three or more placements in the year, long-term stability) rest on that in "
    "the first years. Money is in 2024 prices while published spend is in cash terms. The model's "
    "'unregistered' children are those waiting for a suitable placement, and unless the run records it, "
    "'outside the LA and over 20 miles' is approximated by 'over 20 miles'; both are compared with the "
    "nearest published measure. National supply and money series can be judged only on an England run."
)


@dataclass
class Inputs:
    """What the page is made from."""

    runs: v.Runs
    trends: v.Extra | None = None  # trend bands (issue 12, point 3), if run
    forecasts: v.Extra | None = None  # one-year-ahead forecasts / back-cast, if run
    command: str = ""  # the command that reproduces the runs
    source: str = ""  # where the runs came from (a sentence)


@dataclass
class Numbers:
    """Everything the page quotes, computed once from :class:`Inputs`."""

    levels: list[v.Level]
    fits: dict[str, list[v.LaFit]]
    misses: list[v.Miss]
    by_key: dict[str, v.Level] = field(default_factory=dict)


def compute(inputs: Inputs) -> Numbers:
    runs = inputs.runs
    lv = v.levels(runs)
    fits = v.la_fits(runs)
    misses = v.not_reproduced(lv, fits, runs.base_rows, [inputs.trends, inputs.forecasts], runs.is_england)
    return Numbers(lv, fits, misses, {x.measure.key: x for x in lv})


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------
def short_source(text: str) -> str:
    """A source as a caption names it: the publication in brackets if the text has one, else the
    text without its web address's scheme."""
    hit = re.search(r"\[([^\]]+)\]", text)
    if hit:
        return hit.group(1).strip()
    return re.sub(r"^https?://(www\.)?", "", text.strip())[:160]


def _figure(page: Page, fig, alt: str, caption: str, source: str, table: str = "", anchor: str = "") -> None:
    page.n_fig += 1
    n = page.n_fig
    data = base64.b64encode(plots.png(fig)).decode("ascii")
    page.raw(
        f'<figure id="figure-{n}">'
        + (f'<a id="{anchor}"></a>' if anchor else "")
        + f'<img src="data:image/png;base64,{data}" alt="{esc(alt)}" '
        f'style="width:{fig.get_figwidth():.2f}in"><figcaption><strong>Figure {n}.</strong> {esc(caption)}'
        f'<span class="source">Source: {esc(source)}</span></figcaption>'
        + (f'<details class="data"><summary>Numbers in this figure</summary>{table}</details>' if table else "")
        + "</figure>"
    )
    if page.keep is not None:
        page.keep.append((f"figure-{n}", fig))


def _n(m: v.Measure, x: float) -> str:
    return v.value_text(m, x)


def _seeds_text(runs: v.Runs) -> str:
    n = len(runs.seeds)
    return f"{n} seed{'s' if n != 1 else ''} ({', '.join(str(s) for s in runs.seeds)})"


def _where(runs: v.Runs) -> str:
    return "England (all 153 LAs)" if runs.is_england else f"{runs.world} ({len(runs.la_codes)} LAs)"


# ---------------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------------
def section_summary(page: Page, inputs: Inputs, num: Numbers) -> None:
    runs = inputs.runs
    page.h2("in-brief", "In brief")
    years = runs.years
    span = f"{years[0]}-{years[-1]}" if len(years) > 1 else (str(years[0]) if years else "none (shorter than a year)")
    base = sorted({s.base_date for s in runs.summaries})
    page.p(
        f"The status quo in {_where(runs)}, {_seeds_text(runs)}, from the base date {', '.join(base)}; complete "
        f"model years (to 31 March): {span}. {inputs.source}".strip(),
        "lede",
    )
    count = {k: sum(x.status == k for x in num.levels) for k in ("within", "outside", "context")}
    judged = count["within"] + count["outside"]
    trends = [x.trend_status for x in num.levels if x.trend_status != "-"]
    trend_text = (
        f"Of {len(trends)} trends judged, {trends.count('outside')} differ from the published trend by more than "
        "the tolerance. "
        if trends
        else f"No trend is judged (a trend needs at least {v.TREND_MIN_YEARS} model years). "
    )
    page.p(
        f"Of {judged} measures with a comparable published series, {count['within']} are within their tolerance "
        f"and {count['outside']} are outside it; {count['context']} more are shown for context only (definitions "
        "or coverage differ). "
        + trend_text
        + (
            f"In all, {len(num.misses)} things the model does not reproduce are listed below."
            if num.misses
            else "Nothing is listed as not reproduced."
        )
    )
    if not runs.is_england:
        page.p(
            "This run does not cover all of England: series published only for England are shown for context and "
            "not judged, and the base-year targets (national) are not judged either. Run the England validation "
            "for the page an evaluation partner should read.",
            "caveat",
        )
    page.end()


def section_not_reproduced(page: Page, inputs: Inputs, num: Numbers) -> None:
    page.h2("not-reproduced", "What the model does not reproduce")
    if num.misses:
        page.p(
            "Generated from the numbers on this page: each measure whose level or trend is outside its tolerance, "
            "each per-LA measure whose "
            f"correlation across LAs is below {v.LA_MIN_CORRELATION}, each base-year target outside the calibration's "
            f"bands ({v.BASE_BAND_COUNT_PCT:g}% for counts, {v.BASE_BAND_SHARE_PP:g} percentage points for shares) "
            "and each failed row of the trend-band and forecast tables."
        )
        sections: dict[str, list[v.Miss]] = {}
        for m in num.misses:
            sections.setdefault(m.section, []).append(m)
        heads = {
            "Level": "Levels: the model against the published value",
            "Trend": "Trends: the model's change a year against the published",
            "Per LA": "Per LA: which LAs are high and which low",
            "Base year": "Base year: calibration targets (not already listed above)",
        }
        for sec, items in sections.items():
            page.raw(f"<h3>{esc(heads.get(sec, sec))}</h3><ul class='misses'>")
            for m in items:
                page.raw(f"<li><strong>{esc(m.what)}</strong>: {esc(m.detail)}.</li>")
            page.raw("</ul>")
    else:
        page.p("Every comparison on this page is within its tolerance.")
    page.p(LIMITATIONS)
    page.end()


def section_base_year(page: Page, inputs: Inputs, num: Numbers) -> None:
    runs = inputs.runs
    page.h2("base-year", "Base-year fit")
    rows = runs.base_rows
    if not rows:
        page.p("No base-year fit: the runs are shorter than a year.", "notrun")
        page.end()
        return
    page.p(
        f"The calibration targets (published national figures for the year to 31 March {v.BASE_STAT_YEAR}) against "
        f"{runs.base_when}; the model's mean over {_seeds_text(runs)}, with the range over seeds. Shaded: outside "
        f"the calibration's bands ({v.BASE_BAND_COUNT_PCT:g}% for counts, {v.BASE_BAND_SHARE_PP:g} percentage "
        "points for shares). Computed by rcc_sim.studies.validation.compare."
    )
    if not runs.is_england:
        page.p(
            f"The targets are for England; this run covers {len(runs.la_codes)} LAs, so its counts are not comparable.",
            "caveat",
        )
    body, classes = [], []
    for r in rows:
        share = r.kind == "share"
        f = (lambda x: f"{100 * x:.1f}%") if share else (lambda x: f"{x:,.0f}")
        rng = f"{f(r.low)} to {f(r.high)}" if len(runs.seeds) > 1 else "-"
        d = f"{r.diff:+.1f} pp" if share else f"{r.diff:+.1f}%"
        body.append([r.label, f(r.published), f(r.model), rng, d, r.unit + (f"; {r.note}" if r.note else "")])
        classes.append("outside" if r.outside and runs.is_england else "")
    page.raw(html_table(["Target", "Published", "Model", "Range over seeds", "Difference", "Unit; note"], body,
                        numeric={1, 2, 3, 4}, cls="base", row_classes=classes))  # fmt: skip
    page.end()


def section_glance(page: Page, inputs: Inputs, num: Numbers) -> None:
    page.h2("measures", "Every measure at a glance")
    page.p(
        "Each measure with a published series: the model against the published value on the years both cover "
        "(mean over them), else the model's first year against the latest published year. Gaps are percentage "
        "points for shares and per cent for counts. Trends are least-squares changes a year (percentage points, "
        "or per cent of the mean): the published over its last five published years, the model over its years. "
        f"A trend is judged when both have at least {v.TREND_MIN_YEARS} years, with a tolerance of "
        f"{v.TREND_TOLERANCE_SHARE_PP:g} percentage point a year for shares and {v.TREND_TOLERANCE_COUNT_PCT:g}% a "
        "year for counts - a coarse check; the trend-band table below, when run, is the formal one."
    )
    body, classes = [], []
    word = {"within": "within", "outside": "OUTSIDE", "context": "context only", "-": "not judged"}
    for lv in num.levels:
        m = lv.measure
        verdicts = [f'<span class="verdict-{st}">{esc(word.get(st, st))}</span>' for st in (lv.status, lv.trend_status)]
        if lv.same_date and len(lv.model_years) > 1:
            py = my = f"{lv.model_years[0]}-{str(lv.model_years[-1])[2:]} mean"
        else:
            py = str(lv.published_years[0]) if lv.published_years else "-"
            my = str(lv.model_years[0]) if lv.model_years else "-"
        trend = f"{lv.trend_text(lv.pub_trend)} / {lv.trend_text(lv.model_trend)}"
        body.append([
            f'<a href="#m-{m.key}">{esc(m.label)}</a> <span class="range">({esc(m.unit)})</span>',
            f'{esc(_n(m, lv.pub))} <span class="range">({py})</span>',
            f'{esc(_n(m, lv.model))} <span class="range">({my})</span>',
            f'{esc(lv.gap_text)} <span class="range">(\u00b1{esc(lv.tolerance_text)})</span>',
            verdicts[0], esc(trend), verdicts[1],
        ])  # fmt: skip
        classes.append("outside" if "outside" in (lv.status, lv.trend_status) else "")
    page.raw(
        html_table(
            ["Measure (unit)", "Published (year)", "Model (year)", "Gap (tolerance)", "Level",
             "Trend a year: published / model", "Trend"],
            body, numeric={1, 2, 3, 5}, cls="glance", row_classes=classes, escape=False,
        )
    )  # fmt: skip
    page.end()


def _series_table(lv: v.Level, model: xr.DataArray) -> str:
    m, pub = lv.measure, lv.published
    years = sorted(set(pub.years.tolist()) | {int(y) for y in model["year"].values})
    rows = []
    for y in years:
        p = pub.value(y)
        if int(y) in set(int(x) for x in model["year"].values):
            d = model.sel(year=y)
            mean, lo, hi = (float(d.mean(skipna=True)), float(d.min(skipna=True)), float(d.max(skipna=True)))
        else:
            mean = lo = hi = float("nan")
        rows.append([str(y), _n(m, p), _n(m, mean), _n(m, lo), _n(m, hi)])
    return html_table(["Year to 31 March", "Published", "Model mean", "Model min", "Model max"], rows,
                      numeric={1, 2, 3, 4}, cls="data")  # fmt: skip


def section_over_time(page: Page, inputs: Inputs, num: Numbers) -> None:
    runs = inputs.runs
    page.h2("over-time", "Each measure over time")
    n = len(runs.seeds)
    page.p(
        "Black: published, each statistical year (to 31 March); an open square marks the published 2024 figure "
        "the model starts from (a calibration target). Blue: the model's value in each of its years, the mean "
        + (f"over {n} seeds with the min-max range shaded." if n > 1 else "of one seed (no range).")
        + " Where the run starts at 2024 the two do not overlap in time yet."
    )
    for group, title in v.GROUPS.items():
        members = [lv for lv in num.levels if lv.measure.group == group]
        if not members:
            continue
        page.raw(f"<h3>{esc(title)}</h3><div class='grid'>")
        for lv in members:
            m, pub = lv.measure, lv.published
            model = runs.yearly[m.key]
            srcs = "; ".join(f"{short_source(pub.sources[k])} [{k}]" for k in dict.fromkeys(pub.keys))
            pub_text = (
                ", ".join(f"{y}: {_n(m, x)}" for y, x in zip(pub.years, pub.values)) if len(pub.years) else "none"
            )
            mean = model.mean("replicate", skipna=True).values
            model_text = ", ".join(f"{int(y)}: {_n(m, float(x))}" for y, x in zip(model["year"].values, mean))
            alt = (
                f"Line chart of {m.label} ({m.unit}) by year to 31 March. Published ({pub.scope}): {pub_text}. "
                f"Model (mean over seeds): {model_text or 'no complete year'}."
            )
            comp = (
                f"Compared {lv.when}: model {_n(m, lv.model)}, published {_n(m, lv.pub)}, gap {lv.gap_text} "
                f"(tolerance {lv.tolerance_text}): {lv.status}."
                if lv.model_years
                else f"Not compared: {lv.status}."
            )
            cap = f"{m.label}, {pub.scope}; {m.unit}. {comp} " + (m.note or "")
            table = _series_table(lv, model)
            _figure(page, fig_series(lv, model), alt, cap.strip(), srcs or "none", table, anchor=f"m-{m.key}")
        page.raw("</div>")
    page.end()


def section_per_la(page: Page, inputs: Inputs, num: Numbers) -> None:
    runs = inputs.runs
    page.h2("per-la", "Per-LA fit")
    page.p(
        f"Each LA's model value (mean over {_seeds_text(runs)}) against its published value, for the measures "
        "published per LA. A model year is compared with the published year of the same date where there is one, "
        "else with the latest published year. MAE: mean absolute error across LAs (children, or percentage points "
        "for shares); r: Pearson correlation across LAs. The table gives the year each scatter plot shows and the "
        "model's last year; every year is under 'Every model year'."
    )
    head = ["Measure", "Model year", "Published year", "LAs", "MAE", "MAE / mean published", "r"]
    short, full = [], []
    for key, fits in num.fits.items():
        m = v.MEASURE[key]
        shown = {id(v.scatter_fit(fits)), id(fits[-1]) if fits else None}
        for f in fits:
            pct = f"{100 * f.mae / f.mean_published:.1f}%" if f.mean_published and np.isfinite(f.mae) else "-"
            r = f"{f.correlation:.2f}" if np.isfinite(f.correlation) else "-"
            when = "same year" if f.same_date else "latest published"
            row = [m.label, str(f.model_year), f"{f.published_year} ({when})", str(f.n), f.mae_text, pct, r]
            full.append(row)
            if id(f) in shown:
                short.append(row)
    if short:
        page.raw(html_table(head, short, numeric={1, 3, 4, 5, 6}, cls="lafit"))
        if len(full) > len(short):
            page.raw(
                "<details><summary>Every model year</summary>"
                + html_table(head, full, numeric={1, 3, 4, 5, 6}, cls="lafit")
                + "</details>"
            )
    else:
        page.p("No complete model year: nothing to compare per LA.", "notrun")
    page.raw("<div class='grid'>")
    for fits in num.fits.values():
        f = v.scatter_fit(fits)
        if f is None:
            continue
        m = f.measure
        when = (
            f"model {f.model_year} against published {f.published_year} (same year)"
            if f.same_date
            else f"model {f.model_year} against published {f.published_year}: no published figure for "
            f"{f.model_year}, so the latest published year"
        )
        r = f"{f.correlation:.2f}" if np.isfinite(f.correlation) else "-"
        alt = f"Scatter plot of {m.label}, one dot per LA: {when}. MAE {f.mae_text}, correlation {r}, {f.n} LAs."
        cap = (
            f"{m.label} ({'%' if m.kind == 'share' else m.unit}), one dot per LA: {when}. Grey line: model equals "
            f"published. MAE {f.mae_text}, r = {r}. " + (m.note if m.la == "pct_outside_la_over_20mi" else "")
        )
        order = np.argsort(-np.nan_to_num(np.abs(f.y - f.x)))[:10]
        worst = html_table(
            ["LA (largest gaps)", f"Published {f.published_year}", f"Model {f.model_year}"],
            [[f.names[i], _n(m, f.x[i]), _n(m, f.y[i])] for i in order if np.isfinite(f.x[i]) and np.isfinite(f.y[i])],
            numeric={1, 2},
            cls="data",
        )
        _figure(page, fig_scatter(f), alt, cap.strip(), v.LA_SOURCE + "; model: rcc-sim runs on this page", worst)
    page.raw("</div>")
    page.end()


def _extra_section(page: Page, anchor: str, title: str, extra: v.Extra | None, what: str, how: str) -> None:
    page.h2(anchor, title)
    if extra is None:
        page.raw(f'<p class="notrun"><strong>Not run.</strong> {esc(what)} {esc(how)}</p>')
        page.end()
        return
    if extra.note:
        page.p(extra.note)
    df = extra.table
    cols = [str(c) for c in df.columns]  # type: ignore[attr-defined]
    bools = {i for i, c in enumerate(df.columns) if str(df[c].dtype) == "bool"}  # type: ignore[attr-defined]

    def cell(x) -> str:
        if isinstance(x, (bool, np.bool_)):
            return "yes" if x else "NO"
        if isinstance(x, (float, np.floating)):
            return "-" if not np.isfinite(x) else f"{x:,.3g}" if abs(x) < 100 else f"{x:,.0f}"
        return str(x)

    rows, classes = [], []
    for _, r in df.iterrows():  # type: ignore[attr-defined]
        rows.append([cell(x) for x in r.tolist()])
        classes.append("outside" if any(not bool(r.iloc[i]) for i in bools) else "")
    page.raw(html_table(cols, rows, numeric=set(range(1, len(cols))), cls="extra", row_classes=classes))
    page.end()


def section_extras(page: Page, inputs: Inputs, num: Numbers) -> None:
    """The tables made elsewhere: trend bands and one-year-ahead forecasts, or a note that they were not run."""
    _extra_section(
        page, "trend-bands", "Trend bands", inputs.trends,
        "No trend-band table was given: the check that each yearly trend of a ten-year run stays inside a band "
        "around its published 2019-2024 trend was not run for this page.",
        "Give one with rcc-sim-validate --trends <table.csv> (rows with a false in a true/false column are listed "
        "as not reproduced).",
    )  # fmt: skip
    _extra_section(
        page, "forecasts", "One-year-ahead forecasts", inputs.forecasts,
        "No forecast table was given: the one-year-ahead forecasts of each LA's stock from each 31 March (against "
        "persistence and a linear trend) were not run for this page.",
        "Give one with rcc-sim-validate --forecasts <table.csv>.",
    )  # fmt: skip


def section_sources(page: Page, inputs: Inputs, num: Numbers, out_path: Path | None) -> None:
    runs = inputs.runs
    page.h2("sources", "Runs and sources")
    body = []
    for s in runs.summaries:
        git = s.manifest.get("git") or {}
        secs = s.manifest.get("wall_seconds")
        path = str(s.path) if s.path else "(in memory)"
        if s.path is not None and out_path is not None:
            with contextlib.suppress(ValueError):  # not below the page's directory: the full path
                path = str(Path(s.path).resolve().relative_to(out_path.parent.resolve()))
        body.append([
            str(s.seed), s.world, s.base_date, f"{int(s.yearly.sizes['year'])}", (git.get("commit") or "unknown")[:12],
            {True: "YES", False: "no"}.get(git.get("dirty"), "unknown"),
            f"{secs:.0f}" if isinstance(secs, (int, float)) else "?", path,
        ])  # fmt: skip
    page.raw(html_table(["Seed", "World", "Base date", "Complete years", "Code commit", "Uncommitted changes",
                         "Run time (s)", "Run directory"], body, numeric={0, 3, 6}))  # fmt: skip
    if inputs.command:
        page.raw(f"<p>To make these runs and this page again:</p><pre>{esc(inputs.command)}</pre>")
    page.p(
        "Published series (key, unit as published, how read: 'file' from a data file, 'page' from a web page, "
        "'secondary' quoted by another source, 'target' a calibration target), from "
        "rcc_sim/data/national_timeseries_2015_2023.csv, national_calibration_targets.csv and the per-LA tables "
        "(rcc_sim/data/SOURCES.md):"
    )
    seen: dict[str, tuple[str, str]] = {}
    for lv in num.levels:
        for k in lv.published.keys:
            seen.setdefault(k, (lv.published.sources[k], lv.published.units[k]))
    series = load_national_series()
    rows = [[k, u, series[k]["how_read"] if k in series else "target", s] for k, (s, u) in seen.items()]
    page.raw(html_table(["Series", "Unit as published", "How read", "Source"], rows, cls="sources"))
    page.end()


# ---------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------
def render(inputs: Inputs, keep_figures: list | None = None, out_path: Path | None = None) -> str:
    """The validation page as one self-contained HTML page. Pass a list as ``keep_figures`` to get
    the (name, Figure) pairs drawn."""
    t0 = time.perf_counter()
    num = compute(inputs)
    page = Page(keep_figures)
    section_summary(page, inputs, num)
    section_not_reproduced(page, inputs, num)
    section_base_year(page, inputs, num)
    section_glance(page, inputs, num)
    section_over_time(page, inputs, num)
    section_per_la(page, inputs, num)
    section_extras(page, inputs, num)
    section_sources(page, inputs, num, out_path)
    where = _where(inputs.runs)
    kicker = f"rcc-sim validation \u00b7 status quo \u00b7 {where}"
    return document(page, TITLE, kicker, CAVEAT, t0, head_title=f"{TITLE} ({where})", extra_css=EXTRA_CSS)


def write_page(inputs: Inputs, out: str | Path) -> Path:
    """Write the page to ``out`` (a file) and return its path."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(out, render(inputs, out_path=out))


__all__ = ["SMALL", "Inputs", "Numbers", "compute", "fig_scatter", "fig_series", "render", "write_page"]
