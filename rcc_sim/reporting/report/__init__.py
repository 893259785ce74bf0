"""Reports for policy teams: one self-contained HTML page from a run or a study.

    rcc-sim-report outputs/runs/<run>/          # writes outputs/runs/<run>/report.html
    rcc-sim-report outputs/sweeps/<sweep>/      # a study: every run directory below it

The report works on one Dataset with dims ``scenario`` and ``replicate`` added to a run's own
dims (:func:`rcc_sim.studies.study.open_study`). The
baseline is the ``status_quo`` scenario; an effect is a scenario minus the status quo, paired
by replicate (same seed = the same children, common random numbers), reported as the mean over
replicates with a 95% t-interval - the method of ``rcc-sim-compare``, on the outcomes and areas
of :mod:`rcc_sim.studies.compare`. Numbers in the text are generated from the results; where an
interval includes zero, or there is one replicate, the text says the difference is within the
noise of the simulation. Images are embedded PNGs; nothing is fetched from the network.

The page, section by section: :mod:`.summary` (in brief), :mod:`.effects` (effects and levels),
:mod:`.figures` (charts over time, money), :mod:`.market` (market health), :mod:`.geography`
(map, areas), :mod:`.assumptions`, :mod:`.provenance`; :mod:`.loading` reads the runs and computes
the numbers, :mod:`.page` holds the HTML helpers.
"""

from __future__ import annotations

import time
from pathlib import Path

import xarray as xr

from rcc_sim.files import atomic_write_text
from rcc_sim.reporting import plots
from rcc_sim.reporting.report.assumptions import section_assumptions
from rcc_sim.reporting.report.effects import section_effects
from rcc_sim.reporting.report.figures import section_figures
from rcc_sim.reporting.report.geography import section_areas, section_map
from rcc_sim.reporting.report.loading import (
    BASELINE,
    REPORT_FILE,
    ReportError,
    Results,
    Study,
    compute,
    from_run,
    load,
    scenario_words,
)
from rcc_sim.reporting.report.market import section_market
from rcc_sim.reporting.report.page import Page, document
from rcc_sim.reporting.report.provenance import section_provenance
from rcc_sim.reporting.report.summary import HEADLINE, section_summary

CAVEAT = (
    "These are model outputs under the assumptions stated below, not forecasts: they show how the "
    "simulated system responds to a policy, given what the model assumes."
)


def render(study: Study, keep_figures: list | None = None) -> str:
    """The report for ``study`` as one self-contained HTML page. Pass a list as ``keep_figures`` to
    get the (name, Figure) pairs drawn, e.g. to check them."""
    t0 = time.perf_counter()
    res = compute(study)
    colors = plots.scenario_colors(study.scenarios, study.baseline)
    page = Page(keep_figures)
    out_path = study.path / REPORT_FILE
    section_summary(page, study, res)
    section_effects(page, study, res)
    if study.ds is not None:
        section_figures(page, study, res, colors)
        section_market(page, study, res)
    section_map(page, study, res)
    section_areas(page, study, res, colors)
    section_assumptions(page, study, res)
    section_provenance(page, study, out_path)
    title = plots.label(f"{scenario_words(study)} in {res.total_label}")
    kicker = f"rcc-sim report \u00b7 {study.path.resolve().name}"
    return document(page, title, kicker, CAVEAT, t0, footer_note=CAVEAT)


def write_report(path: str | Path, out: str | Path | None = None, ds: xr.Dataset | None = None) -> Path:
    """Write report.html for the run or study in ``path`` (or to ``out``) and return its path.
    ``ds``: the results of a single run in ``path``, already in memory."""
    study = load(path) if ds is None else from_run(path, ds)
    target = Path(out) if out else Path(path) / REPORT_FILE
    try:
        text = render(study)
    except KeyError as exc:
        if "No variable named" not in str(exc):
            raise
        raise ReportError(
            f"{path}: {exc.args[0].split('.')[0]} in the results: were they made by an older version "
            "of rcc-sim? Re-run them with this version."
        ) from exc
    return atomic_write_text(target, text)


__all__ = [
    "BASELINE",
    "HEADLINE",
    "REPORT_FILE",
    "ReportError",
    "Results",
    "Study",
    "compute",
    "from_run",
    "load",
    "render",
    "write_report",
]
