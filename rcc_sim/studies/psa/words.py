"""Words: what to measure first, and the study's summary in plain text."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rcc_sim.config import FreeParameter
from rcc_sim.studies.psa.draws import short_name
from rcc_sim.studies.psa.voi import VOI_MIN_DRAWS


# --------------------------------------------------------------------------------------------
# Words
# --------------------------------------------------------------------------------------------
def _m(v: float) -> str:
    return f"{v:+,.1f}" if np.isfinite(v) else "n/a"


def measure_first(voi: pd.DataFrame, evpi_gbp_m: float, npc_sd: float) -> str:
    """A paragraph saying which RCC effect sizes the pathfinder evaluation should measure first."""
    effects = voi[~voi["calibrated"]]
    groups_ = effects[effects["kind"] == "group"].sort_values(["evppi_gbp_m", "r2"], ascending=False)
    singles = effects[effects["kind"] == "input"].sort_values(["evppi_gbp_m", "r2"], ascending=False)
    calibrated = voi[voi["calibrated"] & (voi["kind"] == "group")].sort_values("r2", ascending=False)
    if groups_.empty and singles.empty:
        return "No RCC effect size is among the uncertain inputs."
    top_group = groups_.iloc[0] if not groups_.empty else None
    top_single = singles.iloc[0]
    decisive = evpi_gbp_m > 0.01 * max(npc_sd, 1e-9) and top_single["evppi_gbp_m"] > 0
    if decisive:
        what = (
            top_group if top_group is not None and top_group["evppi_gbp_m"] >= top_single["evppi_gbp_m"] else top_single
        )
        text = (
            f"Measure first: {short_name(str(what['name'])).replace('_', ' ')}"
            + (f" ({', '.join(short_name(k) for k in str(what['inputs']).split())})" if what["kind"] == "group" else "")
            + f". Knowing it exactly would be worth GBP {what['evppi_gbp_m']:,.1f}m to the roll-out decision "
            f"(its expected value of partial perfect information, {100 * what['share_of_evpi']:.0f}% of the "
            f"GBP {evpi_gbp_m:,.1f}m that removing all uncertainty would be worth): it is the effect most likely to "
            "turn a saving into a cost or the reverse."
        )
        nxt = singles[singles["name"] != what["name"]] if what["kind"] == "input" else singles
        if not nxt.empty and nxt.iloc[0]["evppi_gbp_m"] > 0:
            word = "Next" if what["kind"] == "input" else "Of single effect sizes"
            text += f" {word}: {short_name(str(nxt.iloc[0]['name']))} (GBP {nxt.iloc[0]['evppi_gbp_m']:,.1f}m)."
    else:
        by_r2 = effects.sort_values("r2", ascending=False).iloc[0]
        text = (
            f"No measurement is likely to change the decision: the roll-out's cost or saving has the same sign in "
            f"nearly every draw (EVPI GBP {evpi_gbp_m:,.2f}m). What sets the size of the saving is "
            f"{short_name(str(by_r2['name'])).replace('_', ' ')} "
            f"(it explains {100 * by_r2['r2']:.0f}% of the spread of "
            "the net benefit): measure it first to narrow the estimate the business case quotes."
        )
    if not calibrated.empty and calibrated.iloc[0]["r2"] > effects["r2"].max():
        c = calibrated.iloc[0]
        text += (
            f" The status quo's own parameters ({str(c['name']).replace('_', ' ')}) explain more "
            f"({100 * c['r2']:.0f}%) than any RCC effect: they call for better data on today's system, which the "
            "pathfinder evaluation does not give."
        )
    return text


def summary_text(s: dict[str, Any], voi: pd.DataFrame, params: list[FreeParameter]) -> str:
    n, e, pub = s["n_done"], s["npc_gbp_m"], s["npc_public_sector_gbp_m"]
    ps, pps = s["p_saves"], s["p_saves_public_sector"]
    years = s["stat_years"]
    lines = [
        f"# Probabilistic appraisal: {s['policy']} against the status quo",
        "",
        f"{n} of {s['n_draws']} draws ({s['sampler']} over {len(params)} inputs; each a paired run on its own seed), "
        f"{s['area']} ({s['world']}), {s['years']:g} years from 31 March {s['start_year']} (statistical years "
        f"{years[0] - 1}-{str(years[-1])[2:]}); Green Book {100 * s['rate']:.1f}%, 2024 prices. Intervals are "
        "2.5-97.5% of the draws: parameter and stochastic uncertainty together.",
        "",
        f"- **Net present cost** {_m(e['mean'])} GBP m (median {_m(e['median'])}; 95% interval {_m(e['p2_5'])} to "
        f"{_m(e['p97_5'])}; Monte Carlo standard error of the mean {e['mc_se']:,.1f}); status quo present value "
        f"{s['pv_status_quo_gbp_m']:,.0f} GBP m. Positive = the roll-out costs more.",
        f"- **Probability the roll-out saves money** {ps['p']:.2f} "
        f"(95% Monte Carlo interval {ps['lo']:.2f}-{ps['hi']:.2f}).",
        f"- **Public-sector view** (health co-funding and programme funding are transfers, left out): NPC "
        f"{_m(pub['mean'])} GBP m (95% interval {_m(pub['p2_5'])} to {_m(pub['p97_5'])}); probability of saving "
        f"{pps['p']:.2f}.",
        "- Contributions (present value, GBP m, mean over draws): "
        + ", ".join(f"{c} {_m(v)}" for c, v in s["components_gbp_m"].items()),
        "",
        "Per child in care over the whole run (status quo, roll-out minus status quo: mean [95% interval over draws]):",
        "",
        "| outcome | status quo | difference | 95% interval |",
        "|---|---:|---:|---:|",
    ]
    for name, o in s["outcomes"].items():
        lines.append(f"| {name} | {o['status_quo']:.4g} | {o['mean']:+.4g} | [{o['p2_5']:+.4g}, {o['p97_5']:+.4g}] |")
    weights = s.get("outcome_weights") or {}
    lines += [
        "",
        "## What to measure first: value of information",
        "",
        "Decision: roll-out or status quo; net benefit of the roll-out = -NPC"
        + (
            " of the public-sector view (without transfers)"
            if s.get("perspective") == "public_sector"
            else " as LAs see it"
        )
        + (
            " + " + " + ".join(f"{w:g} x {k}" for k, w in weights.items()) + " (ASSUMPTION weights)"
            if weights
            else ", cost only (no outcome is given a money value)"
        )
        + f". EVPI {s['evpi_gbp_m']:,.2f} GBP m. EVPPI by regression over the draws (Strong, Oakley and Brennan "
        "2014): P-spline for one input, Gaussian process for a group; R^2 = share of the net benefit's spread "
        "the input(s) predict (leave-one-out).",
        "",
        "| | input or group | EVPPI (GBP m) | share of EVPI | R^2 |",
        "|---|---|---:|---:|---:|",
    ]
    for _, r in voi.iterrows():
        lines.append(
            f"| {r['kind']}{' (calibrated)' if r['calibrated'] else ''} | {short_name(str(r['name']))} | "
            f"{r['evppi_gbp_m']:,.2f} | {100 * r['share_of_evpi']:.0f}% | {r['r2']:.2f} |"
        )
    if s["n_done"] < VOI_MIN_DRAWS:
        lines += [
            "",
            f"Only {s['n_done']} draws: the value-of-information estimates are unreliable below about {VOI_MIN_DRAWS}.",
        ]
    lines += ["", measure_first(voi, s["evpi_gbp_m"], s["inb_sd_gbp_m"])]
    if s["failed"]:
        lines += ["", f"Draws not done (failed, missing or stale): {[f['draw'] for f in s['failed']]}"]
    if s["done_on_other_commit"]:
        lines += [
            "",
            f"Draws done with the same config on other code commits ({', '.join(s['git_commits'])}): "
            f"{s['done_on_other_commit']}",
        ]
    return "\n".join(lines) + "\n"
