"""The decision page (``decision.html``, issue 14 pt 4): what a minister or an evaluation lead
needs first, from a probabilistic roll-out appraisal (:mod:`rcc_sim.studies.psa`) and a study of
evaluation designs (:mod:`rcc_sim.studies.evaluation_designs`), either or both.

    rcc-sim-decision outputs/psa/rollout_psa                                   # <psa dir>/decision.html
    rcc-sim-decision outputs/psa/rollout_psa --designs outputs/studies/pathfinder_evaluation
    rcc-sim-decision --designs outputs/studies/pathfinder_evaluation          # the designs alone

``rcc-sim-psa`` writes the page at the end of a study (and again after its tornado). It opens with
the net present cost over the draws - a histogram as local authorities see it and in the
public-sector view, with the probability of saving and the 95% interval in words above it - then
the per-child outcome differences with their intervals, the value-of-information ranking (EVPI,
EVPPI of each group and input, and :func:`rcc_sim.studies.psa.measure_first`'s paragraph), the
tornado's largest swings, and which evaluation design detects what, by when. Every number is read
from the study's files (``psa.nc``, ``evppi.csv``, ``tornado/tornado.csv`` and ``tornado.md``,
``draws/draw<i>/draw.json``; ``design_summary.csv``) or computed here from them. An input that is
absent is said at the top of the page, which shows the other.

**Detects** (:func:`verdicts`): a design detects an effect at a horizon when it is unbiased enough
- the mean of its bias over the seeds is at most :data:`MAX_BIAS_SHARE_OF_MDE` of its minimum
detectable effect (MDE = 2.8 x SE: the smallest effect it would see with 80% power), so that its
bias is small beside what it can see - and its power is at least :data:`MIN_POWER`: the analytic
power from its standard error and the true effect (the share of seeds rejecting zero moves in
steps of one seed, and is shown beside it).

The package, by section (this module re-exports their names): :mod:`.studies` (reading the PSA's
files and the designs' table), :mod:`.words` (numbers, sentences, which design detects what),
:mod:`.figures` (charts), :mod:`.sections` (one function per section of the page) and
:mod:`.page` (the page in order, written atomically).
"""

from rcc_sim.reporting.decision.figures import (
    INPUTS_SHOWN,
    TORNADO_TOP,
    fig_net_cost,
    fig_tornado,
    fig_voi,
)
from rcc_sim.reporting.decision.page import (
    EXTRA_CSS,
    default_output,
    rebuild_command,
    render,
    write_for_psa,
    write_page,
)
from rcc_sim.reporting.decision.sections import (
    CAVEAT,
    CAVEAT_DESIGNS,
    SECTIONS,
    by_when,
    section_designs,
    section_net_cost,
    section_outcomes,
    section_sources,
    section_tornado,
    section_voi,
)
from rcc_sim.reporting.decision.studies import (
    DESIGN_FILE,
    PAGE_FILE,
    PSA_FILE,
    TORNADO_DIR,
    VIEWS,
    VOI_FILE,
    DecisionError,
    DesignStudy,
    Inputs,
    PsaStudy,
    draw_commits,
    engine_changes,
    find_design_summary,
    load,
    read_psa,
)
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
    net_cost,
    net_cost_sentence,
    outcome_label,
    outcome_units,
    pct,
    ranges,
    ranked,
    seeds_text,
    signed_text,
    verdicts,
    where_text,
)

__all__ = [
    "PAGE_FILE",
    "PSA_FILE",
    "VOI_FILE",
    "TORNADO_DIR",
    "DESIGN_FILE",
    "VIEWS",
    "DecisionError",
    "PsaStudy",
    "DesignStudy",
    "Inputs",
    "read_psa",
    "draw_commits",
    "engine_changes",
    "find_design_summary",
    "load",
    "MAX_BIAS_SHARE_OF_MDE",
    "MIN_POWER",
    "pct",
    "gbp_m",
    "ranges",
    "net_cost",
    "net_cost_sentence",
    "where_text",
    "outcome_units",
    "signed_text",
    "level_text",
    "input_value_text",
    "ranked",
    "verdicts",
    "seeds_text",
    "outcome_label",
    "effect_text",
    "mde_text",
    "best_design",
    "design_sentence",
    "TORNADO_TOP",
    "INPUTS_SHOWN",
    "fig_net_cost",
    "fig_voi",
    "fig_tornado",
    "SECTIONS",
    "CAVEAT",
    "CAVEAT_DESIGNS",
    "section_net_cost",
    "section_outcomes",
    "section_voi",
    "section_tornado",
    "by_when",
    "section_designs",
    "section_sources",
    "EXTRA_CSS",
    "render",
    "default_output",
    "write_page",
    "rebuild_command",
    "write_for_psa",
]
