"""Numbers and words: formats, sentences, and which design detects what."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from rcc_sim.reporting import plots
from rcc_sim.reporting.decision.studies import VIEWS, PsaStudy
from rcc_sim.reporting.wording import number_text
from rcc_sim.studies import psa
from rcc_sim.studies.evaluation import ANNUAL_OUTCOMES, signed

MAX_BIAS_SHARE_OF_MDE = 0.25  # "unbiased enough": |bias| at most a quarter of the design's MDE
MIN_POWER = 0.80  # the conventional power an evaluation is designed for (MDE = 2.8 x SE gives it)


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


def where_text(study: PsaStudy) -> str:
    years = study.attr("stat_years") or []
    span = f" (statistical years {years[0] - 1}-{str(years[-1])[2:]})" if years else ""
    area = str(study.attr("area", "?"))
    area = area[0].lower() + area[1:] if area.startswith("All ") else area
    return (
        f"{plots.label(str(study.attr('policy', 'the policy')))} against the status quo in {area} "
        f"({plots.label(str(study.attr('world', '?')))}), {float(study.attr('years', 0)):g} years from 31 March "
        f"{study.attr('start_year', '?')}{span}"
    )


def outcome_units(units: str) -> tuple[float, str, str]:
    """(scale, level unit, difference unit) of a per-child outcome's units."""
    if units == "share":
        return 100.0, "%", "percentage points"
    return 1.0, units, units


def signed_text(v: float, d: int) -> str:
    text = number_text(v, d)
    return text if text.startswith("-") or text == "n/a" or float(text.replace(",", "")) == 0 else f"+{text}"


def level_text(v: float) -> str:
    if not np.isfinite(v):
        return "n/a"
    return number_text(v, 0 if abs(v) >= 100 else 2 if abs(v) >= 1 else 3)


def input_value_text(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1e4 else f"{v:.4g}"


def ranked(voi: pd.DataFrame, kind: str) -> pd.DataFrame:
    """The groups or single inputs by EVPPI, then by R^2 (the measure-first order)."""
    return voi[voi["kind"] == kind].sort_values(["evppi_gbp_m", "r2"], ascending=False, kind="stable")


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


def seeds_text(t: pd.DataFrame) -> str:
    lo, hi = int(t["n_replicates"].min()), int(t["n_replicates"].max())
    return f"{hi} seeds" if lo == hi else f"{lo}-{hi} seeds"


def outcome_label(name: str) -> str:
    return ANNUAL_OUTCOMES[name].long_name if name in ANNUAL_OUTCOMES else name


def effect_text(v: float, units: str) -> str:
    """An effect in the design table's units: pp for shares, else the number and its unit."""
    text = signed(v, units)
    return text if units == "share" or text == "n/a" else f"{text} {units}"


def mde_text(v: float, units: str) -> str:
    return effect_text(v, units).lstrip("+")


def best_design(rows: pd.DataFrame) -> pd.Series:
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
    head = f"{outcome_label(name)}, on {seeds} seeds"
    for h in horizons:
        at = g[g["horizon_years"] == h]
        ok = at[at["detects"]]
        if ok.empty:
            continue
        b = best_design(ok)
        text = (
            f"{head}: detected from {_years_to(h, at)} by {len(ok)} of {len(at)} designs; the most sensitive is "
            f"{b['design']} (MDE {mde_text(b['mde'], units)} against a true effect of "
            f"{effect_text(b['true_effect'], units)}; "
            f"bias {effect_text(b['bias'], units)}; power {b['power']:.2f})."
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
    b = best_design(fitted)
    truth = effect_text(b["true_effect"], units)
    if not fitted["powered"].any():
        why = (
            f"the true effect ({truth}) is smaller than the smallest MDE ({mde_text(b['mde'], units)}, {b['design']}; "
            f"power {b['power']:.2f})"
        )
    else:
        p = best_design(fitted[fitted["powered"]])
        why = (
            f"the designs with the power are biased ({p['design']}: bias {effect_text(p['bias'], units)} "
            "against an MDE of "
            f"{mde_text(p['mde'], units)}; true effect {effect_text(p['true_effect'], units)})"
        )
    return f"{head}: no design detects it with {_years_to(horizons[-1], last)}: {why}."
