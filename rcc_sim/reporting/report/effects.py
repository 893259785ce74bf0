"""Effects on every outcome (scenario minus status quo, with 95% intervals) and the levels
under each scenario."""

from __future__ import annotations

import numpy as np
import xarray as xr

from rcc_sim.reporting import plots
from rcc_sim.reporting.report.loading import Results, Study, effect_at, replicates
from rcc_sim.reporting.report.page import Page, esc, html_table
from rcc_sim.reporting.wording import (
    NOISE,
    display_scale,
    effect_decimals,
    level_num,
    level_unit,
    noise_cell,
    number_text,
    unit_cell,
)
from rcc_sim.studies.compare import OUTCOMES


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
                m, lo, hi, b, n = effect_at(res, s, name, "England")
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
                html_table(
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
    n_rep = replicates(study)[0]
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
    page.raw(html_table(head, rows, numeric=set(range(2, len(head))), escape=False, cls="levels"))
    page.end()
