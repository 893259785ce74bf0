"""The ``rcc-sim`` command: compose the config with Hydra, validate it, run, write the results.

    rcc-sim                                   # default study: England, status quo
    rcc-sim world=greater_manchester sim.years=5 seed=3
    rcc-sim -m seed=0,1,2                     # a sweep (one run directory per job)
    rcc-sim -m +experiment=smoke              # a study (configs/experiment/); re-running skips done runs

Each run records its state in ``status.json`` (running, done or failed with the error); in a
sweep a failed run does not stop the others, and the sweep exits non-zero at the end.
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from rcc_sim.config import ConfigError, register_configs, to_object
from rcc_sim.data import DataError

CONFIG_DIR = str(Path(__file__).resolve().parent.parent / "configs")

register_configs()


def _validated(cfg: DictConfig, prog: str):
    """The validated config and the run directory; a bad config exits with one message (code 2)."""
    try:
        obj = to_object(cfg)
    except (ConfigError, DataError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        sys.exit(2)
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return obj, out_dir


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def main(cfg: DictConfig) -> None:
    from rcc_sim.run import run_and_write
    from rcc_sim.studies.study import previous_run, recording

    obj, out_dir = _validated(cfg, "rcc-sim")
    hydra_cfg = HydraConfig.get()
    if hydra_cfg.mode == RunMode.MULTIRUN:  # a re-run sweep skips the runs already done
        skip, message = previous_run(out_dir, obj)
        if message:
            print(f"rcc-sim: {message}")
        if skip:
            return
    with recording(out_dir, obj, list(hydra_cfg.overrides.task)):
        ds, path = run_and_write(obj, out_dir)
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
    """Run the configured policy and the status quo on the same seeds; report differences."""
    from rcc_sim.studies.compare import paired, table

    obj, out_dir = _validated(cfg, "rcc-sim-compare")
    result = paired(obj, list(obj.compare.seeds), jobs=obj.compare.jobs)
    tmp = out_dir / ".comparison.nc.tmp"
    result.to_netcdf(tmp, engine="h5netcdf")
    tmp.replace(out_dir / "comparison.nc")
    from rcc_sim.run import CONFIG_FILE, config_yaml

    (out_dir / CONFIG_FILE).write_text(config_yaml(obj))
    report = [table(result, "England")]
    for area in result.area.values:
        if str(area).startswith("RCC "):
            report.append(table(result, str(area)))
    text = "\n\n".join(report)
    (out_dir / "comparison.txt").write_text(text + "\n")
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
    """Fit the free parameters to the published statistics (``+experiment=calibration``)."""
    from rcc_sim.studies.calibration import run_calibration

    _study_command(cfg, "rcc-sim-calibrate", "calibration", run_calibration, "calibrated.yaml")


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def sensitivity(cfg: DictConfig) -> None:
    """Probabilistic sensitivity analysis: rank parameters by influence (``+experiment=sensitivity``)."""
    from rcc_sim.studies.sensitivity import run_sensitivity

    _study_command(cfg, "rcc-sim-sensitivity", "sensitivity", run_sensitivity)


if __name__ == "__main__":
    main()
