"""The page's sections, each written from the studies' numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rcc_sim.reporting import plots
from rcc_sim.reporting.decision.figures import INPUTS_SHOWN, TORNADO_TOP, fig_net_cost, fig_tornado, fig_voi
from rcc_sim.reporting.decision.studies import PSA_FILE, TORNADO_DIR, VIEWS, VOI_FILE, Inputs, PsaStudy
from rcc_sim.reporting.decision.words import (
    MAX_BIAS_SHARE_OF_MDE,
    MIN_POWER,
    best_design,
    design_sentence,
    effect_text,
    gbp_m,
    input_value_text,
    level_text,
    mde_text,
    net_cost_sentence,
    outcome_label,
    outcome_units,
    pct,
    ranges,
    ranked,
    seeds_text,
    signed_text,
    verdicts,
)
from rcc_sim.reporting.report.page import Page, esc, html_table
from rcc_sim.reporting.wording import interval_decimals, noise_cell, number_text
from rcc_sim.studies import psa
from rcc_sim.studies.evaluation import POOLED, POOLED_SELECTED
from rcc_sim.studies.evaluation_designs import COMPARISONS, ESTIMATORS
from rcc_sim.studies.rollout import COST_COMPONENTS, PER_CHILD

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
        k, lvl, dif = outcome_units(PER_CHILD[name].units)
        s = psa.spread(study.ds[f"diff_{name}"].values.astype(np.float64))
        sq = float(study.ds[f"status_quo_{name}"].mean())
        d = min(4, interval_decimals(s["mean"], s["p2_5"], s["p97_5"], k) + 1)  # percentiles: one more figure
        rows.append(
            [
                PER_CHILD[name].long_name,
                lvl if lvl == dif else f"{lvl} / {dif}",
                level_text(sq * k),
                signed_text(s["mean"] * k, d),
                f"{signed_text(s['p2_5'] * k, d)} to {signed_text(s['p97_5'] * k, d)}",
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
                esc(psa.short_name(str(r["name"])))
                + (" <span class='range'>(status quo parameter)</span>" if bool(r["calibrated"]) else ""),
                esc(", ".join(psa.short_name(k) for k in str(r["inputs"]).split())) if r["kind"] == "group" else "",
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
            psa.short_name(str(r["input"])),
            f"{input_value_text(r['lo'])} to {input_value_text(r['hi'])}"
            + (" (x)" if bool(r.get("scale", False)) else ""),
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
        b = best_design(ok if not ok.empty else fitted) if not fitted.empty else None
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
    truth = f"true effect {effect_text(r['true_effect'], r['units'])}"
    if not r["design"]:
        return f"no design applies<br><span class='range'>{esc(truth)}</span>"
    best = "most sensitive" if r["detected"] else "smallest MDE"
    note = f"{truth}; {best} {mde_text(r['mde'], r['units'])} ({r['design']})"
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
        f"Each design (estimator / comparison group) tried on the simulated LA-by-year panels of {seeds_text(t)}, "
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
            rows.append([esc(outcome_label(str(outcome)))] + [_by_when_cell(r) for r in at])
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
                outcome_label(str(r["outcome"])),
                str(r["design"]),
                str(int(r["horizon_years"])),
                effect_text(r["true_effect"], u),
                effect_text(r["bias"], u),
                mde_text(r["mde"], u),
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
            f"{', '.join(str(int(h)) for h in sorted(t['horizon_years'].unique()))} years; {seeds_text(t)})."
        )
    items += inputs.missing
    page.raw("<ul>" + "".join(f"<li>{esc(x)}</li>" for x in items) + "</ul>")
    if inputs.command:
        page.p("Rebuild this page from the same files with:")
        page.raw(f"<pre>{esc(inputs.command)}</pre>")
    page.end()
