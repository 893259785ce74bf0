"""In brief: the question, what was run, and the headline findings in plain words."""

from __future__ import annotations

from rcc_sim.reporting import plots
from rcc_sim.reporting.report.loading import (
    Results,
    Study,
    area_label,
    effect_at,
    replicates,
    scenario_words,
    years_text,
)
from rcc_sim.reporting.report.page import Page, esc
from rcc_sim.reporting.wording import WORDING, effect_sentence, identical, level_text, within_noise

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


def section_summary(page: Page, study: Study, res: Results) -> None:
    page.h2("summary", "In brief")
    page.p(
        "The question: what happens to children, carers, providers and money when local authorities (LAs) plan "
        "and commission placements together in a Regional Care Co-operative (RCC), compared with today, where "
        "each LA commissions alone? rcc-sim simulates every child in care, foster carer and children's home in "
        "the LAs below, week by week, under each scenario.",
        "lede",
    )
    n_rep, seeds = replicates(study)
    scen = study.scenarios
    page.p(
        f"This report covers {len(scen)} scenario{'s' if len(scen) > 1 else ''} ({scenario_words(study)}) in "
        f"{res.total_label}, simulated for {years_text(study)}, with {n_rep} "
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
                m, lo, hi, b, _ = effect_at(res, s, name, "England")
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
                        m, lo, hi, b, _ = effect_at(res, s, name, str(area))
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
