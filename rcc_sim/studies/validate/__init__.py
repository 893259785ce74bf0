"""The standard validation (``rcc-sim-validate``): the model against every published series.

The runs: the status quo, several seeds (:func:`run_standard`, each run cached in
``<out>/runs/<world>_seed<n>/`` and re-run only when its config or the code commit changes),
or runs already made (:func:`load_runs`). Everything else is plain data - functions that take a
run's Dataset, or tables made from them, and return tables:

* :func:`summarise` turns one run into its yearly measures (:func:`model_yearly`, national, and
  :func:`model_yearly_la`, per LA) and its base-year fit (:func:`base_year_rows`);
  :func:`combine` stacks the runs' summaries over seeds (dim ``replicate``).
* :func:`published` gives a measure's published series (national, or summed over the simulated
  LAs where the data are per LA) on the same axis: the statistical year, named by the 31 March
  it ends on.
* :func:`levels` compares the model with each published series (:class:`Level`), :func:`la_fits`
  each LA's value (:class:`LaFit`), and :func:`not_reproduced` says in plain words what the
  model does not reproduce, from those numbers and from any trend-band or forecast tables given.

A model year is compared with the published year of the same date where both exist, else the
model's first year with the latest published year (and the tables say which).

The package, by section (each module a step of the page; this module re-exports their names):

* :mod:`.measures` - the model's yearly measures (:class:`Measure`, ``MEASURES``), national and per LA;
* :mod:`.base_year` - the base-year fit against the calibration targets;
* :mod:`.runs` - the runs: made (cached) or read, and summarised;
* :mod:`.series` - the published series on the model's axis;
* :mod:`.compare` - levels, trends and per-LA fit;
* :mod:`.extras` - the trend-band and back-cast tables, and what the model does not reproduce.

The page itself is :mod:`rcc_sim.reporting.validation`.
"""

from rcc_sim.studies.validate.base_year import (
    BASE_BAND_COUNT_PCT,
    BASE_BAND_SHARE_PP,
    BASE_STAT_YEAR,
    BaseRow,
    base_year_rows,
    base_year_view,
    combine_base_rows,
)
from rcc_sim.studies.validate.compare import (
    LA_MIN_CORRELATION,
    TREND_MIN_YEARS,
    TREND_TOLERANCE_COUNT_PCT,
    TREND_TOLERANCE_SHARE_PP,
    LaFit,
    Level,
    gap,
    la_fits,
    levels,
    scatter_fit,
)
from rcc_sim.studies.validate.extras import (
    BACKCAST_DIR,
    BACKCAST_FILE,
    Extra,
    Miss,
    backcast_extra,
    not_reproduced,
    read_backcast,
    read_extra,
    run_backcast,
    trend_extra,
)
from rcc_sim.studies.validate.measures import (
    DIST_NOTE,
    FOSTER,
    GROUPS,
    HOMES,
    LA_MEASURES,
    MEASURE,
    MEASURES,
    PRICE_NOTE,
    RESIDENTIAL,
    Measure,
    ValidationError,
    Years,
    model_yearly,
    model_yearly_la,
    value_text,
)
from rcc_sim.studies.validate.runs import (
    DEFAULT_SEEDS,
    DEFAULT_YEARS,
    PAGE_FILE,
    RUNS_DIR,
    Runs,
    RunSummary,
    combine,
    find_run_dirs,
    load_runs,
    read_runs,
    run_standard,
    standard_overrides,
    summarise,
)
from rcc_sim.studies.validate.series import (
    LA_SOURCE,
    Published,
    la_published,
    published,
)

__all__ = [
    "ValidationError",
    "FOSTER",
    "RESIDENTIAL",
    "HOMES",
    "Years",
    "Measure",
    "GROUPS",
    "DIST_NOTE",
    "PRICE_NOTE",
    "MEASURES",
    "MEASURE",
    "LA_MEASURES",
    "model_yearly",
    "model_yearly_la",
    "value_text",
    "BASE_BAND_COUNT_PCT",
    "BASE_BAND_SHARE_PP",
    "BASE_STAT_YEAR",
    "base_year_view",
    "BaseRow",
    "base_year_rows",
    "combine_base_rows",
    "RUNS_DIR",
    "PAGE_FILE",
    "DEFAULT_YEARS",
    "DEFAULT_SEEDS",
    "RunSummary",
    "summarise",
    "Runs",
    "combine",
    "standard_overrides",
    "run_standard",
    "find_run_dirs",
    "load_runs",
    "read_runs",
    "Published",
    "LA_SOURCE",
    "la_published",
    "published",
    "LA_MIN_CORRELATION",
    "TREND_TOLERANCE_SHARE_PP",
    "TREND_TOLERANCE_COUNT_PCT",
    "TREND_MIN_YEARS",
    "gap",
    "Level",
    "levels",
    "LaFit",
    "la_fits",
    "scatter_fit",
    "Extra",
    "read_extra",
    "trend_extra",
    "backcast_extra",
    "BACKCAST_DIR",
    "BACKCAST_FILE",
    "run_backcast",
    "read_backcast",
    "Miss",
    "not_reproduced",
]
