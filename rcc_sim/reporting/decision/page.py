"""The page: notices, lede, the sections in order, written atomically."""

from __future__ import annotations

import time
from pathlib import Path

from rcc_sim.files import atomic_write_text
from rcc_sim.reporting import plots
from rcc_sim.reporting.decision.sections import (
    CAVEAT,
    CAVEAT_DESIGNS,
    section_designs,
    section_net_cost,
    section_outcomes,
    section_sources,
    section_tornado,
    section_voi,
)
from rcc_sim.reporting.decision.studies import PAGE_FILE, VIEWS, Inputs, load
from rcc_sim.reporting.decision.words import gbp_m, net_cost, pct, where_text
from rcc_sim.reporting.report.page import Page, document, esc

EXTRA_CSS = """
.decision { border-left: 5px solid #0072B2; background: #eef5fb; padding: 8px 12px; }
.missing { border-left: 5px solid #8a4b00; background: #fff6e8; padding: 8px 12px; }
table.bywhen td { white-space: normal; }
"""


# ---------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------
def _notices(inputs: Inputs) -> str:
    out = [f'<p class="missing">{esc(m)}</p>' for m in inputs.missing]
    s = inputs.psa
    if s is not None and len(s.commits) > 1:
        out.append(
            f'<p class="missing">{esc(f"The {s.n} draws span {len(s.commits)} code commits. {s.engine}")} See '
            '<a href="#sources">What this page rests on</a>.</p>'
        )
    return "".join(out)


def _lede(inputs: Inputs) -> str:
    s = inputs.psa
    if s is None:
        return ""
    words = {"npc_gbp_m": "as local authorities see it", "npc_public_sector_gbp_m": "in the public-sector view"}
    parts = []
    for var in (v for v in VIEWS if v in s.ds):
        v = net_cost(s, var)
        parts.append(
            f"{gbp_m(v['mean'])} GBP m {words[var]} (95% of draws {gbp_m(v['p2_5'])} to {gbp_m(v['p97_5'])}), "
            f"saving money in {pct(v['saves']['p'])} of draws"
        )
    return f"{where_text(s)}, over {s.n} draws: net present cost " + "; ".join(parts) + "."


def render(inputs: Inputs, keep_figures: list | None = None) -> str:
    """The decision page as one self-contained HTML string."""
    t0 = time.perf_counter()
    page = Page(keep_figures)
    if inputs.psa is not None:
        section_net_cost(page, inputs.psa)
        section_outcomes(page, inputs.psa)
        section_voi(page, inputs.psa)
        section_tornado(page, inputs.psa)
    section_designs(page, inputs)
    section_sources(page, inputs)
    if inputs.psa is not None:
        title = f"The roll-out decision: {plots.label(str(inputs.psa.attr('policy', 'the policy'))).lower()}"
        kicker = f"rcc-sim decision page \u00b7 {inputs.psa.path.resolve().name}"
        caveat = CAVEAT
    else:
        title = "The evaluation decision: which design detects what, by when"
        kicker = "rcc-sim decision page \u00b7 evaluation designs"
        caveat = CAVEAT_DESIGNS
    return document(
        page,
        title,
        kicker,
        caveat,
        t0,
        lede=_lede(inputs),
        header_extra=_notices(inputs),
        extra_css=EXTRA_CSS,
        footer_note=caveat,
    )


def default_output(inputs: Inputs) -> Path:
    """decision.html in the PSA study directory, else beside design_summary.csv."""
    if inputs.psa is not None:
        return inputs.psa.path / PAGE_FILE
    assert inputs.designs is not None
    return inputs.designs.path.parent / PAGE_FILE


def write_page(inputs: Inputs, out: Path | str | None = None) -> Path:
    """Write the page (to ``out``, or :func:`default_output`) and return its path."""
    target = Path(out) if out else default_output(inputs)
    target.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(target, render(inputs))


def rebuild_command(psa_dir: Path | None, designs: Path | None = None) -> str:
    """The command that rebuilds the page from these directories."""
    import shlex

    parts = ["rcc-sim-decision"]
    if psa_dir is not None:
        parts.append(shlex.quote(str(psa_dir)))
    if designs is not None:
        parts += ["--designs", shlex.quote(str(designs))]
    return " ".join(parts)


def write_for_psa(study_dir: Path, designs: Path | None = None) -> Path:
    """The page of a PSA study directory, with the design table of the evaluation study
    ``designs`` (``psa.designs``) if given: what ``rcc-sim-psa`` writes."""
    inputs = load(study_dir, designs, command=rebuild_command(study_dir, designs))
    return write_page(inputs)
