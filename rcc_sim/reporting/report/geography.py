"""Where: a map of the simulated LAs, and results by region, RCC and member LA."""

from __future__ import annotations

import numpy as np

from rcc_sim.reporting import plots
from rcc_sim.reporting.report.loading import Results, Study, area_label, effect_at, replicates
from rcc_sim.reporting.report.page import Page, esc, html_table
from rcc_sim.reporting.wording import (
    DAGGER,
    NOISE,
    diff_unit,
    display_scale,
    effect_decimals,
    identical,
    level_num,
    level_unit,
    number_text,
    within_noise,
)
from rcc_sim.studies.compare import OUTCOMES

AREA_OUTCOMES = ("share_over_20_miles", "share_family_based", "unregistered_share", "net_cost_gbp_m")


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
    n_rep = replicates(study)[0]
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
                    m, lo, hi, _, n = effect_at(res, s, name, area)
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
            page.raw(html_table(head, body, numeric={1, 2, 3, 4}, row_classes=indents, cls="areas", escape=False))
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
        page.raw(html_table(head, body, numeric={1, 2, 3, 4}, row_classes=indents, cls="areas"))
    page.end()
