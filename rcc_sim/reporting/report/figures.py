"""Charts over time (headline outcomes, placement mix, distance, waiting, supply) and money
(spend, RCC costs)."""

from __future__ import annotations

from rcc_sim.reporting import plots
from rcc_sim.reporting.report.loading import Results, Study
from rcc_sim.reporting.report.page import Page, html_table
from rcc_sim.reporting.wording import number_text


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
        html_table(
            ["GBP million over the run"] + [plots.label(s) for s in study.scenarios],
            rows,
            numeric=set(range(1, len(study.scenarios) + 1)),
        )
    )
    page.end()
