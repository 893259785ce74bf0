"""Probabilistic roll-out appraisal and the value of information (issue 14 pts 1-2).

    rcc-sim-psa +experiment=rollout_psa                                   # outputs/psa/<study>/
    rcc-sim-psa -m +experiment=rollout_psa 'psa.draw=range(0,100)' hydra/launcher=slurm
    rcc-sim-psa +experiment=rollout_psa psa.run_missing=false             # gather after a sweep
    rcc-sim-psa +experiment=rollout_psa psa.tornado=true world=greater_manchester sim.years=3

**Draws.** An *input* is a config key with a range (:class:`rcc_sim.config.FreeParameter`): every
calibrated parameter within its plausible range (``ranges`` in rcc_sim/data/calibrated.yaml) and
the inputs listed in ``psa.parameters`` - the RCC lever sizes of ``policy.rollout.template`` within
the ASSUMPTION range written in their source (:func:`assumption_range`) and the market's responses
to RCC buying. With ``psa.every_rcc`` a template lever is set in every RCC of ``policy.rccs`` too
(the pathfinders): an effect size belongs to the function, not to a region. Draw ``i`` is row ``i``
of a scrambled Sobol sequence (``psa.sampler=sobol``, scipy.stats.qmc; the first n rows stay the
same when ``n_draws`` grows, so a study can be extended) or of SALib's Latin hypercube
(``latin``, as the sensitivity study), from ``psa.sampler_seed``, plus the seed
``psa.first_seed + i``: the spread over draws holds parameter and stochastic uncertainty together.

**One draw** runs the policy and the status quo on its seed (common random numbers: the same
children arrive in both), computes the net present cost as ``rcc-sim-rollout`` does
(:mod:`rcc_sim.studies.rollout`: Green Book 3.5%, end-year discounting, the public-sector view
without the transfers) and the per-child outcome differences over the run, and writes
``draws/draw<i>/draw.json`` (atomically). A draw is skipped when that file says done with the same
config (SHA-256 of the policy run's resolved config) and code commit; a draw that raises is
recorded (failed, with the traceback) and the others go on. Each draw directory is locked while it
runs (:class:`rcc_sim.studies.jobs.RunDirLock`), so workers (``psa.workers``: a fresh forked process
per draw; one that dies without a result is recorded as failed), a second copy of the command and
the jobs of a Hydra sweep (``psa.draw=<i>``, one job per draw, on any launcher) share the work.

**Summary** (:func:`summarise`): over the draws done, the NPC's mean, median and 2.5-97.5%
percentiles, the probability that the roll-out saves money (NPC < 0; with its Monte Carlo
binomial interval), the same for the public-sector view, and each outcome difference per child
with its 2.5-97.5% percentiles; written as ``psa.nc`` (dims draw, input), ``psa.csv`` (one row per
draw) and ``psa.md``, and the decision page ``decision.html`` (:mod:`rcc_sim.reporting.decision`;
``rcc-sim-decision <study> --designs <evaluation study>`` rebuilds it with the evaluation designs).

**Value of information** (:func:`value_of_information`). Decision: roll-out or status quo.
Incremental net benefit of the roll-out INB = -NPC (GBP m) + sum of ``psa.outcome_weights`` x the
per-child outcome differences (none by default: cost only - any weight is an ASSUMPTION); the NPC
of the public-sector view by default (``psa.perspective``: health co-funding and programme funding
move money between public bodies, so a lever that only moves them is not worth measuring for the
decision), or as LAs see it (``local_authorities``). EVPI =
E[max(INB, 0)] - max(E[INB], 0). EVPPI of an input or group (Strong, Oakley and Brennan 2014,
Med Decis Making 34:311) = E[max(g, 0)] - max(E[g], 0), with g the regression of INB on the input(s)
over the draws: a penalised cubic B-spline with the smoothing chosen by generalised
cross-validation for one input (a GAM smoother), a Gaussian process with one length-scale per
input (fitted by maximum marginal likelihood) for a group. EVPPI is capped at EVPI (its bound),
and is 0 where the fit predicts nothing out of sample. Beside it the share of INB's variance the
metamodel predicts (leave-one-out R^2): when the roll-out saves money in nearly every draw EVPI is
~0 and every EVPPI with it - no measurement would change the decision - and R^2 still says which
inputs set the size of the saving. :func:`measure_first` puts the ranking in words.

**Tornado** (``psa.tornado=true``, :func:`run_tornado`): one paired run per input at each end of
its range with every other input at the base case (the policy as configured), on
``psa.tornado_seeds`` (common random numbers across the swings), in ``<study>/tornado/``; can be run
on a smaller world and fewer years than the PSA itself. The status quo has no RCC, so the base case
and the swings of RCC levers (``policy.*``) on a seed share one spin-up and one status-quo run
(:func:`run_group`, split over the workers): on England, ten years, 28 RCC-lever swings cost about
30 ten-year runs instead of 56 plus 28 spin-ups. A model parameter's swing changes the status quo
too and stays a pair of its own.

The package, by section (this module re-exports their names):

* :mod:`.draws` - the inputs (config keys with a range) and the sample of their values;
* :mod:`.runs` - one draw: the policy and the status quo paired on its seed; tasks in worker processes;
* :mod:`.study` - the study: draws run or read back, summarised (``psa.nc``, ``psa.csv``, ``psa.md``);
* :mod:`.voi` - EVPI and EVPPI;
* :mod:`.tornado` - one-at-a-time swings;
* :mod:`.words` - what to measure first, and the summary in plain text.
"""

from rcc_sim.studies.psa.draws import (
    SAMPLERS,
    TEMPLATE,
    assumption_range,
    base_of,
    designs_study,
    groups,
    inputs,
    is_calibrated,
    sample,
    short_name,
    with_inputs,
)
from rcc_sim.studies.psa.runs import (
    DRAW_FILE,
    OUTCOMES,
    Task,
    jobs_of,
    pair_metrics,
    read_draws,
    run_group,
    run_task,
    run_tasks,
    shares_status_quo,
)
from rcc_sim.studies.psa.study import (
    PERSPECTIVES,
    PsaResult,
    draw_tasks,
    net_benefit,
    probability,
    run_psa,
    spread,
    summarise,
    to_dataset,
)
from rcc_sim.studies.psa.tornado import (
    run_tornado,
    tornado_section,
    tornado_table,
    tornado_tasks,
    tornado_text,
)
from rcc_sim.studies.psa.voi import (
    VOI_MIN_DRAWS,
    evpi,
    evppi_from_fit,
    gp_fit,
    spline_fit,
    value_of_information,
)
from rcc_sim.studies.psa.words import (
    measure_first,
    summary_text,
)

__all__ = [
    "TEMPLATE",
    "SAMPLERS",
    "assumption_range",
    "inputs",
    "is_calibrated",
    "groups",
    "sample",
    "with_inputs",
    "base_of",
    "designs_study",
    "short_name",
    "DRAW_FILE",
    "OUTCOMES",
    "pair_metrics",
    "Task",
    "run_task",
    "shares_status_quo",
    "run_group",
    "jobs_of",
    "run_tasks",
    "read_draws",
    "draw_tasks",
    "PsaResult",
    "run_psa",
    "spread",
    "probability",
    "PERSPECTIVES",
    "net_benefit",
    "summarise",
    "to_dataset",
    "VOI_MIN_DRAWS",
    "evpi",
    "evppi_from_fit",
    "spline_fit",
    "gp_fit",
    "value_of_information",
    "tornado_tasks",
    "run_tornado",
    "tornado_table",
    "tornado_text",
    "tornado_section",
    "measure_first",
    "summary_text",
]
