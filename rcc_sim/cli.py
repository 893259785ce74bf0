"""Every rcc-sim command, in one place: its arguments, what it prints and its exit code.

Commands that run the model compose their config with Hydra (any parameter can be overridden,
a bad key or value exits 2 with one message naming it):

    rcc-sim                                   # one run: England, status quo, 5 years
    rcc-sim world=greater_manchester sim.years=5 seed=3
    rcc-sim -m seed=0,1,2                     # a sweep (one run directory per job)
    rcc-sim -m +experiment=smoke              # a study (configs/experiment/); re-running skips done runs
    rcc-sim-compare policy=pathfinders        # a policy against the status quo, paired by seed
    rcc-sim-calibrate +experiment=calibration
    rcc-sim-sensitivity +experiment=sensitivity
    rcc-sim-psa +experiment=rollout_psa      # roll-out NPC under parameter uncertainty, value of information
    rcc-sim-workbench +experiment=workbench_south_east   # RCC designs ranked against the status quo

Commands that read runs take a directory (a run, or a study of runs) and exit 2 with one message
naming it when it holds nothing they can use:

    rcc-sim-gather <study>      # run list + one Dataset (study.nc)
    rcc-sim-export <study>      # tidy CSV/Parquet + codebook
    rcc-sim-reproduce <study>   # re-run each run, check outputs match bit for bit
    rcc-sim-report <study>      # report.html
    rcc-sim-evaluate <study>    # DiD evaluation design on simulated data
    rcc-sim-rollout <study>     # net present cost of a roll-out
    rcc-sim-decision <psa study> --designs <study>   # the decision page (decision.html)

``rcc-sim-compile`` compiles the engine's hot modules in a source checkout (``pip install`` already
does; see :mod:`rcc_sim.engine.compiled`), ``--clean`` removes them, ``--status`` says which engine runs.

``rcc-sim-validate`` runs the standard validation (England status quo, 3 seeds, 10 years; runs
cached in its output directory) or reads runs (``--from <dir>``) and writes the validation page.

The work itself lives in the library (:mod:`rcc_sim.run`, :mod:`rcc_sim.studies`,
:mod:`rcc_sim.reporting`); a command parses, calls it and reports. Each run records its state in
``status.json`` (running, done or failed with the error); in a sweep a failed run does not stop
the others, and the sweep exits non-zero at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import hydra
from omegaconf import DictConfig

from rcc_sim.config import register_configs

CONFIG_DIR = str(Path(__file__).resolve().parent.parent / "configs")

register_configs()


# ---------------------------------------------------------------------------------------------
# Commands that run the model (Hydra)
# ---------------------------------------------------------------------------------------------
def _validated(cfg: DictConfig, prog: str):
    """The validated config and the run directory; a bad config exits with one message (code 2)."""
    from rcc_sim.studies.jobs import validated_or_exit

    return validated_or_exit(cfg, prog)  # a refused config leaves no run directory behind


def _progress(obj, prog: str, runs: int = 1):
    """A bar over the weeks simulated (:class:`rcc_sim.progress.WeekProgress`), as a context, or
    ``nullcontext()`` (None): when ``output.progress`` says no (by default: stderr is not a
    terminal, or CI is set) and in a job of a sweep, whose bar is the sweep's over its jobs."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from rcc_sim.progress import WeekProgress, enabled

    if HydraConfig.get().mode == RunMode.MULTIRUN or not enabled(obj.output.progress):
        return contextlib.nullcontext()
    return WeekProgress(obj.sim.start_year, prog, runs=runs)


def _spin_up_cache(obj) -> Path | None:
    """``<sweep dir>/.spin_up`` for a job of a sweep with ``output.share_spin_up`` (else None)."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from rcc_sim.run import SPIN_UP_DIR

    hc = HydraConfig.get()
    if not obj.output.share_spin_up or hc.mode != RunMode.MULTIRUN:
        return None
    return Path(hc.sweep.dir) / SPIN_UP_DIR


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def main(cfg: DictConfig) -> None:
    """``rcc-sim``: one run (or, with ``-m``, one job of a sweep)."""
    from rcc_sim.run import run_and_write
    from rcc_sim.studies.jobs import claim_job
    from rcc_sim.studies.study import recording

    job = claim_job(cfg, "rcc-sim")  # validated, run directory locked; None: skip (done, or run elsewhere)
    if job is None:
        return
    obj, out_dir = job.cfg, job.out_dir
    cache = _spin_up_cache(obj)
    with job, recording(out_dir, obj, job.overrides), _progress(obj, "rcc-sim") as bar:
        ds, path = run_and_write(obj, out_dir, bar, cache)
    cic = float(ds["children_in_care"].isel(time=-1).sum())
    print(
        f"rcc-sim: {obj.world.name} / {obj.policy.name}, seed {obj.seed}, {obj.sim.years:g} years: "
        f"{cic:,.0f} children in care at {str(ds.time.values[-1])[:10]}"
    )
    print(f"rcc-sim: results written to {path}")
    if obj.output.report:
        from rcc_sim.reporting.report import ReportError, write_report

        try:
            print(f"rcc-sim: report written to {write_report(path, ds=ds)}")
        except ReportError as exc:
            print(f"rcc-sim: no report ({exc}); the results are written: try rcc-sim-report {path}", file=sys.stderr)
            sys.exit(1)


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def compare(cfg: DictConfig) -> None:
    """``rcc-sim-compare``: run the configured policy and the status quo on the same seeds; report
    each outcome's difference with a 95% interval (comparison.nc, comparison.txt)."""
    from rcc_sim.files import atomic_write, atomic_write_text
    from rcc_sim.run import CONFIG_FILE, config_yaml
    from rcc_sim.studies.compare import paired, table

    obj, out_dir = _validated(cfg, "rcc-sim-compare")
    with _progress(obj, "rcc-sim-compare", runs=2 * len(obj.compare.seeds)) as bar:
        result = paired(obj, list(obj.compare.seeds), jobs=obj.compare.jobs, progress=None if bar is None else bar.week)
    atomic_write(out_dir / "comparison.nc", lambda tmp: result.to_netcdf(tmp, engine="h5netcdf"))
    atomic_write_text(out_dir / CONFIG_FILE, config_yaml(obj))
    report = [table(result, "England")]
    for area in result.area.values:
        if str(area).startswith("RCC "):
            report.append(table(result, str(area)))
    text = "\n\n".join(report)
    atomic_write_text(out_dir / "comparison.txt", text + "\n")
    print(text)
    print(f"rcc-sim-compare: results written to {out_dir}")


def _study_command(cfg: DictConfig, prog: str, section: str, run, written: str = "") -> None:
    """A command that needs its experiment's ``section`` of the config (calibration, sensitivity)."""
    obj, out_dir = _validated(cfg, prog)
    if getattr(obj, section) is None:
        print(f"{prog}: no '{section}' section; run {prog} +experiment={section}", file=sys.stderr)
        sys.exit(2)
    run(obj, out_dir)
    print(f"{prog}: results written to {out_dir / written if written else out_dir}")


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def calibrate(cfg: DictConfig) -> None:
    """``rcc-sim-calibrate``: fit the free parameters to the published statistics (``+experiment=calibration``)."""
    from rcc_sim.studies.calibration import run_calibration

    _study_command(cfg, "rcc-sim-calibrate", "calibration", run_calibration, "calibrated.yaml")


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def sensitivity(cfg: DictConfig) -> None:
    """``rcc-sim-sensitivity``: rank parameters by influence (``+experiment=sensitivity``)."""
    from rcc_sim.studies.sensitivity import run_sensitivity

    _study_command(cfg, "rcc-sim-sensitivity", "sensitivity", run_sensitivity)


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def psa(cfg: DictConfig) -> None:
    """``rcc-sim-psa``: the probabilistic roll-out appraisal (``+experiment=rollout_psa``): draws of
    the lever sizes and calibrated parameters, each a paired run; NPC distribution, P(saves),
    value of information (psa.md, psa.csv, psa.nc). With ``-m ... psa.draw=range(0,100)`` each job
    of the sweep runs one draw (any launcher); the command without ``-m`` then gathers them."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from rcc_sim.config import ConfigError
    from rcc_sim.studies.jobs import refuse
    from rcc_sim.studies.psa import run_psa

    prog = "rcc-sim-psa"
    obj, out_dir = _validated(cfg, prog)
    if obj.psa is None:
        refuse(prog, ConfigError(f"no 'psa' section; run {prog} +experiment=rollout_psa"), out_dir)
    hc = HydraConfig.get()
    sweep = hc.mode == RunMode.MULTIRUN
    if sweep and obj.psa.draw < 0 and not obj.psa.tornado:
        refuse(prog, ConfigError("in a sweep each job runs one draw: set psa.draw, e.g. 'psa.draw=range(0,100)'"))
    study_dir = Path(hc.sweep.dir) if sweep else out_dir
    try:
        result = run_psa(obj, study_dir)
    except ConfigError as exc:
        refuse(prog, exc, None if sweep else out_dir)
    if isinstance(result, dict):
        for f in result.get("files", []):
            print(f"{prog}: wrote {f}")
        failed = result.get("failed", [])
    else:
        for f in result.files:
            print(f"{prog}: wrote {f}")
        failed = result.failed
    if failed:
        print(f"{prog}: {len(failed)} draws not done (listed in psa.md); run the command again", file=sys.stderr)
        sys.exit(1)


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def workbench(cfg: DictConfig) -> None:
    """``rcc-sim-workbench``: RCC designs against the status quo on the same seeds, ranked side by
    side (``+experiment=workbench_south_east``); writes workbench.nc, .csv and .html. A bad design
    exits 2 naming it before any run; a failed run is reported and the command exits 1."""
    import shlex

    from hydra.core.hydra_config import HydraConfig
    from tqdm import tqdm

    from rcc_sim.config import ConfigError
    from rcc_sim.studies.jobs import refuse
    from rcc_sim.studies.workbench import expand, ranking_text, run_workbench

    prog = "rcc-sim-workbench"
    obj, out_dir = _validated(cfg, prog)
    if obj.workbench is None:
        print(f"{prog}: no 'workbench' section; run {prog} +experiment=workbench_south_east", file=sys.stderr)
        sys.exit(2)
    try:
        plan = expand(obj)  # every design checked before anything runs
    except ConfigError as exc:
        refuse(prog, exc, out_dir)
    command = " ".join([prog, *map(shlex.quote, HydraConfig.get().overrides.task)])
    bar = (lambda runs: _progress(obj, prog, runs=runs)) if obj.output.progress is not False else None

    def log(line: str) -> None:  # above the bar, and at once in a log file
        tqdm.write(line)
        sys.stdout.flush()

    result = run_workbench(obj, out_dir, plan, bar, log=log, command=command)
    print(ranking_text(result.ds))
    for f in result.files:
        print(f"{prog}: wrote {f}")
    if result.failed:
        print(
            f"{prog}: {len(result.failed)} runs failed (listed in workbench.html); run the command again",
            file=sys.stderr,
        )
        sys.exit(1)


# ---------------------------------------------------------------------------------------------
# Commands that read runs (argparse). Each returns its exit code; the console script exits with it.
# ---------------------------------------------------------------------------------------------
def _parser(
    prog: str, description: str, path_help: str = "a study (sweep) directory, or one run directory", optional=False
):
    """The parser of a command whose first argument is a directory (of runs); ``optional``: may be left out."""
    p = argparse.ArgumentParser(prog=prog, description=description)
    p.add_argument("path", type=Path, help=path_help, **({"nargs": "?", "default": None} if optional else {}))
    return p


def _failed(prog: str, exc: Exception) -> int:
    """One line on stderr naming what is wrong (the message names the path); exit code 2."""
    print(f"{prog}: {exc}", file=sys.stderr)
    return 2


def gather(argv: Sequence[str] | None = None) -> int:
    """``rcc-sim-gather <study>``: list the runs, write the sweep summary and ``study.nc``."""
    from rcc_sim.studies.study import (
        STUDY_FILE,
        SUMMARY_JSON,
        SUMMARY_TXT,
        StudyError,
        not_done_message,
        open_study,
        runs,
        sweep_summary_text,
        write_study,
        write_sweep_summary,
    )

    prog = "rcc-sim-gather"
    p = _parser(
        prog,
        "Gather a study's finished runs into one Dataset (scenario x replicate x ...): writes "
        f"{SUMMARY_JSON} and {SUMMARY_TXT} (every run: done, failed with its error, incomplete) and "
        f"{STUDY_FILE} into the study directory.",
    )
    p.add_argument("--output", type=Path, default=None, help=f"combined NetCDF file (default: <path>/{STUDY_FILE})")
    p.add_argument("--no-netcdf", action="store_true", help="only write the sweep summary")
    p.add_argument("--strict", action="store_true", help="(the default now) exit 1 if any run is not done")
    args = p.parse_args(argv)
    try:
        infos = runs(args.path)
    except StudyError as exc:
        return _failed(prog, exc)
    js, txt = write_sweep_summary(args.path, infos)
    print(sweep_summary_text(args.path, infos, problems_only=len(infos) > 40), end="")
    print(f"{prog}: run list written to {txt} and {js}")
    not_done = [i for i in infos if i.state != "done"]
    if len(not_done) == len(infos):
        print(f"{prog}: {args.path}: no finished runs to gather. {not_done_message(args.path, infos)}", file=sys.stderr)
        return 1
    ds = open_study(args.path)
    dims = ", ".join(f"{k}={v}" for k, v in ds.sizes.items())
    print(f"{prog}: {len(infos) - len(not_done)} finished runs -> Dataset ({dims})")
    if not args.no_netcdf:
        out = write_study(ds, args.output or args.path / STUDY_FILE)
        print(f"{prog}: combined Dataset written to {out} ({out.stat().st_size / 1e6:.1f} MB)")
    if not_done:  # failed, incomplete or still running: the Dataset is not the whole study
        print(f"{prog}: {not_done_message(args.path, infos)}", file=sys.stderr)
    return 1 if not_done else 0


def export(argv: Sequence[str] | None = None) -> int:
    """``rcc-sim-export <study>``: tidy CSV and Parquet tables with a codebook."""
    from rcc_sim.reporting.export import export_study
    from rcc_sim.studies.study import StudyError

    prog = "rcc-sim-export"
    p = _parser(
        prog,
        "Export a study's outcomes as tidy CSV and Parquet tables by scenario, replicate, DfE year and area "
        "(LA, region, England, RCC), with a codebook.",
    )
    p.add_argument("--out", type=Path, default=None, help="output directory (default: <path>/export)")
    args = p.parse_args(argv)
    try:
        files = export_study(args.path, args.out)
    except StudyError as exc:
        return _failed(prog, exc)
    for f in files:
        print(f"{prog}: wrote {f} ({f.stat().st_size / 1e3:,.0f} kB)")
    return 0


def reproduce(argv: Sequence[str] | None = None) -> int:
    """``rcc-sim-reproduce <run or study>``: 0 only when every run was reproduced bit for bit."""
    from rcc_sim.studies.reproduce import IGNORED_ATTRS, check_study
    from rcc_sim.studies.study import StudyError

    prog = "rcc-sim-reproduce"
    p = _parser(
        prog,
        "Re-run each finished run from its config.yaml and check its results match bit for bit. "
        "Exit code 0 only when every run was reproduced and matched.",
        "one run directory, or a study (sweep) directory",
    )
    p.add_argument("--jobs", type=int, default=1, help="runs re-run at once (processes)")
    args = p.parse_args(argv)
    try:
        checks = check_study(args.path, args.jobs)
    except StudyError as exc:
        return _failed(prog, exc)
    print(f"{prog}: ignored attributes (may differ between writes): {', '.join(sorted(IGNORED_ATTRS))}")
    for c in checks:
        print(f"{c.status.upper():8s} {c.path} ({c.seconds:.1f} s)")
        for d in c.differences:
            print(f"    difference: {d}")
        for w in c.warnings:
            print(f"    warning: {w}")
    n_match = sum(c.status == "match" for c in checks)
    print(f"{prog}: {n_match} of {len(checks)} runs reproduced bit for bit")
    return 0 if n_match == len(checks) else 1


def report(argv: Sequence[str] | None = None) -> int:
    """``rcc-sim-report <run or study>``: write report.html."""
    from rcc_sim.reporting.report import REPORT_FILE, ReportError, write_report

    prog = "rcc-sim-report"
    p = argparse.ArgumentParser(
        prog=prog,
        description="Write report.html for a run or study directory: "
        "a self-contained page for policy teams (summary, effects with intervals, charts, "
        "map, assumptions, provenance).",
    )
    p.add_argument(
        "dir",
        help="a run directory (results.nc, config.yaml, manifest.json), a directory of runs (a "
        "sweep or study), or a directory written by rcc-sim-compare",
    )
    p.add_argument("-o", "--output", help=f"where to write the report (default: <dir>/{REPORT_FILE})")
    args = p.parse_args(argv)
    return _page_written(prog, "report", lambda: write_report(args.dir, args.output), ReportError)


def _page_written(prog: str, what: str, write: Callable[[], Path], error: type[Exception]) -> int:
    """Call ``write()``, which returns the page it wrote, and say where and in how long; an
    ``error`` is one message (naming the path) and exit code 2."""
    t0 = time.perf_counter()
    try:
        target = write()
    except error as exc:
        return _failed(prog, exc)
    print(f"{prog}: {what} written to {target} ({time.perf_counter() - t0:.1f} s)")
    return 0


def decision(argv: Sequence[str] | None = None) -> int:
    """``rcc-sim-decision [psa study] [--designs study]``: write decision.html."""
    from rcc_sim.reporting.decision import DESIGN_FILE, PAGE_FILE, DecisionError, load, rebuild_command, write_page

    prog = "rcc-sim-decision"
    p = _parser(
        prog,
        "Write the decision page: one self-contained HTML page that opens with what a minister or an evaluation "
        "lead needs - the roll-out's net present cost over the draws (histogram, probability of saving), the "
        "outcome differences per child with intervals, the value-of-information ranking, the tornado - and which "
        "evaluation design detects what, by when. rcc-sim-psa writes it at the end of a study without the "
        "designs; this rebuilds it from the files already written.",
        "a PSA study directory (psa.nc, from rcc-sim-psa)",
        optional=True,
    )
    p.add_argument(
        "--designs",
        type=Path,
        default=None,
        help=f"an evaluation-design study: its directory, its evaluation/ directory or its {DESIGN_FILE} "
        "(from rcc-sim-evaluate)",
    )
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        help=f"the page (default <psa study>/{PAGE_FILE}, else beside the design table)",
    )
    args = p.parse_args(argv)
    if args.path is None and args.designs is None:
        p.error("give a PSA study directory, --designs <study>, or both")

    def write() -> Path:
        inputs = load(args.path, args.designs, command=rebuild_command(args.path, args.designs))
        for line in inputs.missing:  # the page says it too
            print(f"{prog}: {line}", file=sys.stderr)
        return write_page(inputs, args.output)

    return _page_written(prog, "page", write, DecisionError)


def _paired_study_command(
    argv: Sequence[str] | None,
    prog: str,
    description: str,
    example: str,
    default_out: str,
    add_arguments: Callable[[argparse.ArgumentParser], None],
    run: Callable[[argparse.Namespace], list[Path]],
) -> int:
    """A command on a study of a reform and the status quo paired by seed (evaluate, rollout):
    the study and the two scenarios, the command's own arguments, then the files it writes, its
    text report (the last file) printed."""
    from rcc_sim.studies.evaluation import BASELINE, EvaluationError

    p = argparse.ArgumentParser(prog=prog, description=description)
    p.add_argument("study", type=Path, help=f"a study directory with status_quo and a reform scenario (e.g. {example})")
    p.add_argument("--scenario", default=None, help="the reform scenario (default: the one that is not the status quo)")
    p.add_argument("--baseline", default=BASELINE, help=f"the status-quo scenario (default {BASELINE})")
    add_arguments(p)
    p.add_argument("--out", type=Path, default=None, help=f"output directory (default <study>/{default_out})")
    args = p.parse_args(argv)
    args.out = args.out or args.study / default_out
    try:
        files = run(args)
    except EvaluationError as exc:
        return _failed(prog, exc)
    print(files[-1].read_text(), end="")
    for f in files:
        print(f"{prog}: wrote {f}")
    return 0


def evaluate(argv: Sequence[str] | None = None) -> int:
    """``rcc-sim-evaluate <study>``: evaluation designs tried on a study's simulated data."""
    from rcc_sim.studies.evaluation import ANNUAL_OUTCOMES, load_panels, write_outputs
    from rcc_sim.studies.evaluation import evaluate as run_evaluation
    from rcc_sim.studies.evaluation_designs import (
        COMPARISONS,
        ESTIMATORS,
        HORIZONS,
        evaluate_designs,
        set_draws,
        write_design_outputs,
    )

    def names(choices: list[str]) -> Callable[[str], list[str]]:
        def parse(text: str) -> list[str]:
            out = [x for x in text.split(",") if x and x != "none"]
            bad = [x for x in out if x not in choices]
            if bad:
                raise argparse.ArgumentTypeError(f"unknown {bad}; choose from {choices} (comma-separated) or none")
            return out

        return parse

    def arguments(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--outcome",
            action="append",
            default=None,
            choices=list(ANNUAL_OUTCOMES),
            help="an outcome to evaluate (repeatable; default all)",
        )
        p.add_argument(
            "--designs",
            type=names(list(ESTIMATORS)),
            default=list(ESTIMATORS),
            help=f"estimators to compare, comma-separated, or none (default all: {','.join(ESTIMATORS)})",
        )
        p.add_argument(
            "--comparisons",
            type=names(list(COMPARISONS)),
            default=list(COMPARISONS),
            help=f"comparison groups, comma-separated (default all: {','.join(COMPARISONS)})",
        )
        p.add_argument(
            "--horizons",
            type=lambda t: [int(x) for x in t.split(",")],
            default=list(HORIZONS),
            help="horizons in years of data from the base date (default 2,3,5)",
        )
        p.add_argument(
            "--rccs",
            type=lambda t: [x for x in t.split(",") if x],
            default=None,
            help="the RCCs to evaluate, comma-separated names or patterns (e.g. 'rollout_*': the 2026-28 wave "
            "without the pathfinders); default every RCC of the policy",
        )
        p.add_argument(
            "--draws",
            type=int,
            default=None,
            help="bootstrap / placebo draws of every design (default: wild bootstrap 999, randomisation 199, "
            "synthetic DiD 100; fewer is faster)",
        )

    def run(args: argparse.Namespace) -> list[Path]:
        if args.draws is not None:
            set_draws(args.draws)
        panels = load_panels(args.study, args.scenario, args.baseline, args.outcome, args.rccs)
        summary, by_rep, panel = run_evaluation(args.study, panels=panels)
        files = write_outputs(summary, by_rep, panel, args.out)
        if not (args.designs and args.comparisons):
            return files
        d_summary, d_by_rep = evaluate_designs(
            panels,
            args.designs,
            args.comparisons,
            args.horizons,
            lambda what: print(f"rcc-sim-evaluate: designs on {what}", file=sys.stderr, flush=True),
        )
        did_text = files[-1]
        files += write_design_outputs(d_summary, d_by_rep, args.out)
        both = args.out / "evaluation.txt"
        both.write_text(did_text.read_text() + "\n" + files[-1].read_text())
        return files + [both]

    return _paired_study_command(
        argv,
        "rcc-sim-evaluate",
        "Evaluation designs tried on a study's simulated data against the true effect (paired with the status "
        "quo on the same seeds): today's DiD (TWFE, CR1) per horizon, then each design (estimator x inference x "
        "comparison group) at 2, 3 and 5 years: bias, spill-over bias, coverage, power and MDE per outcome. "
        "Writes did_summary.csv/.txt, did_by_replicate.csv, panel.csv, design_summary.csv/.txt, "
        "design_by_replicate.csv and evaluation.txt (both texts) into <study>/evaluation/.",
        "outputs/studies/pathfinder_evaluation",
        "evaluation",
        arguments,
        run,
    )


def rollout(argv: Sequence[str] | None = None) -> int:
    """``rcc-sim-rollout <study>``: net present cost of a reform against the status quo."""
    from rcc_sim.studies.rollout import GREEN_BOOK_RATE, appraise, write_outputs

    def arguments(p: argparse.ArgumentParser) -> None:
        p.add_argument("--rate", type=float, default=GREEN_BOOK_RATE, help="discount rate a year (default 0.035)")
        p.add_argument(
            "--timing",
            choices=("end", "mid"),
            default="end",
            help="discount from the end (default) or middle of each statistical year",
        )

    def run(args: argparse.Namespace) -> list[Path]:
        return write_outputs(appraise(args.study, args.scenario, args.baseline, args.rate, args.timing), args.out)

    return _paired_study_command(
        argv,
        "rcc-sim-rollout",
        "Net present cost of RCCs against the status quo (paired by seed, Green Book discounting) and the change "
        "per child in care; writes npc_summary.csv, npc_by_year.csv, npc_by_replicate.csv, outcomes_per_child.csv "
        "and rollout.txt into <study>/rollout/.",
        "outputs/studies/national_rollout",
        "rollout",
        arguments,
        run,
    )


def validate(argv: Sequence[str] | None = None) -> int:
    """``rcc-sim-validate``: run (or read) the standard validation and write its page."""
    import shlex

    import rcc_sim
    from rcc_sim.config import ConfigError
    from rcc_sim.reporting.validation import Inputs, write_page
    from rcc_sim.studies import backcast
    from rcc_sim.studies import validate as v

    prog = "rcc-sim-validate"
    p = argparse.ArgumentParser(
        prog=prog,
        description="The model against every published series: run the standard validation (the status quo, "
        "several seeds; each run cached in <out>/runs/ and re-run only when its config or the code commit "
        "changes) or read runs already made, and write one self-contained HTML page: base-year fit, each "
        "measure over time against the published 2015-2023 series, per-LA fit, the trend bands of the runs, "
        "one-year-ahead forecasts of each LA's stock from each 31 March 2017-2022 (the back-cast; its runs "
        "cached in <out>/backcast/), and what the model does not reproduce.",
    )
    p.add_argument("overrides", nargs="*", help="more config overrides (Hydra syntax), e.g. sim.start_year=2016")
    p.add_argument("--world", default="england", help="the world simulated (default england)")
    p.add_argument("--years", type=float, default=v.DEFAULT_YEARS, help=f"years simulated ({v.DEFAULT_YEARS:g})")
    p.add_argument("--seeds", type=int, default=v.DEFAULT_SEEDS, help=f"seeds 0..N-1 (default {v.DEFAULT_SEEDS})")
    p.add_argument("--out", type=Path, default=Path("outputs/validation"), help="output directory (outputs/validation)")
    p.add_argument(
        "--from",
        dest="source",
        type=Path,
        default=None,
        help="read the runs in this directory (a run, a study, or an earlier validation's output directory) "
        "instead of running them",
    )
    p.add_argument("--rerun", action="store_true", help="run again even when a cached run matches")
    p.add_argument("--trends", type=Path, default=None, help="a trend-band table (CSV) to show instead of the runs'")
    p.add_argument(
        "--forecasts", type=Path, default=None, help="a one-year-ahead forecast table (CSV) to show, not the back-cast"
    )
    p.add_argument(
        "--backcast-origins",
        type=int,
        nargs="+",
        default=None,
        help="31 March origins of the one-year-ahead back-cast (default 2017-2022)",
    )
    p.add_argument("--backcast-seeds", type=int, default=None, help="seeds per back-cast forecast (default --seeds)")
    p.add_argument("--no-backcast", action="store_true", help="do not run the back-cast")
    p.add_argument("--jobs", type=int, default=2, help="back-cast runs at a time (default 2)")
    p.add_argument("-o", "--output", type=Path, default=None, help=f"the page (default <out>/{v.PAGE_FILE})")
    args = p.parse_intermixed_args(argv)  # overrides may come before and after the options
    counts = (args.seeds, args.jobs, 1 if args.backcast_seeds is None else args.backcast_seeds)
    if min(counts) < 1 or args.years <= 0:
        return _failed(prog, ValueError("--seeds, --backcast-seeds and --jobs must be at least 1, --years more than 0"))
    t0 = time.perf_counter()
    command = " ".join(
        [prog, f"--world {shlex.quote(args.world)}", f"--years {args.years:g}", f"--seeds {args.seeds}"]
        + [shlex.quote(o) for o in args.overrides]
    )
    if args.source is not None:  # the runs were made elsewhere: their configs are in their directories
        command = f"{prog} --from {shlex.quote(str(args.source))}"
    try:
        if args.source is not None:
            summaries = v.read_runs(args.source)
            source = f"Runs read from {args.source}."
        else:
            dirs = v.run_standard(args.out, args.world, args.years, args.seeds, args.overrides, args.rerun, log=print)
            summaries = v.load_runs(dirs)
            source = f"Runs in {args.out / v.RUNS_DIR}."
        runs = v.combine(summaries)
        trends = v.read_extra(args.trends, "Trend bands") if args.trends else v.trend_extra(runs)
        if args.forecasts:
            forecasts = v.read_extra(args.forecasts, "One-year-ahead forecasts")
        elif args.no_backcast:
            forecasts = None
        elif args.source is not None:  # the back-cast an earlier validation made there, if any
            forecasts = v.backcast_extra(v.read_backcast(args.source))
        else:
            base = rcc_sim.load_config(v.standard_overrides(args.world, args.years, 0, args.overrides))
            origins = args.backcast_origins or list(backcast.ORIGINS)
            seeds = list(range(args.backcast_seeds or args.seeds))
            result = v.run_backcast(base, args.out, origins, seeds, args.jobs, log=print)
            forecasts = v.backcast_extra(result)
        inputs = Inputs(runs, trends, forecasts, command=command, source=source)
        target = write_page(inputs, args.output or args.out / v.PAGE_FILE)
    except (v.ValidationError, ConfigError) as exc:
        return _failed(prog, exc)
    print(f"{prog}: {len(summaries)} runs ({inputs.runs.world}, seeds {', '.join(map(str, inputs.runs.seeds))})")
    print(f"{prog}: page written to {target} ({time.perf_counter() - t0:.1f} s)")
    return 0


def compile_engine(argv: Sequence[str] | None = None) -> int:
    """``rcc-sim-compile [--clean | --status]``: compile the engine in place (as ``pip install -e .``
    does), remove the compiled files, or say which engine an import would use."""
    import subprocess

    from rcc_sim.engine import compiled

    ap = argparse.ArgumentParser(prog="rcc-sim-compile", description=compile_engine.__doc__)
    what = ap.add_mutually_exclusive_group()
    what.add_argument("--clean", action="store_true", help="remove the compiled modules (run the pure-Python engine)")
    what.add_argument("--status", action="store_true", help="print which engine is used and exit")
    args = ap.parse_args(argv)
    if args.status:
        from rcc_sim.engine import memory

        built = "built" if memory.built() else "not built"
        print(f"rcc-sim engine: {compiled.state}; huge-page arenas: {built} (RCC_SIM_HUGEPAGES=0 turns them off)")
        return 0
    if args.clean:
        for path in compiled.clean():
            print(f"removed {path}")
        return 0
    setup = compiled.ROOT / "setup.py"
    if not setup.exists():
        print(
            f"rcc-sim-compile: no setup.py beside {compiled.ROOT / 'rcc_sim'} (an installed copy: reinstall it)",
            file=sys.stderr,
        )
        return 2
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, str(setup), "-q", "build_ext", "--inplace"], cwd=compiled.ROOT)
    if done.returncode != 0:
        print("rcc-sim-compile: the build failed (above); the pure-Python engine stays in use", file=sys.stderr)
        return 1
    print(f"compiled {len(compiled.MODULES)} engine modules in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    main()
