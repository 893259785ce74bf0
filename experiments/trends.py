"""Trend bands (issue 12 point 3): does a ten-year status-quo run stay within the published trends?

Runs the status quo from 31 March 2024 for ``--seeds`` seeds (0, 1, ...) and ``--years`` years,
then prints two tables (``rcc_sim.studies.trends``):

* the yearly table - each measure at the end of week 1 and at every 31 March, mean over seeds;
* the trend table - each measure's yearly trend (OLS slope per seed; mean +- seed-to-seed sd),
  its band, the published 2019-2023 trend (no 2024 figure is shipped) and whether the model's
  trend is inside the band;

and writes both as ``trends.md`` and ``trends.json`` next to the runs. Each run is written to
``outputs/trends/<world>_<years>y/seed<seed>/`` (results.nc, config, manifest, status.json); a
run already done there with the same config and code commit is reused, so a re-run only prints.

    python experiments/trends.py [--seeds 5] [--years 10] [--world england] [--jobs 2] [--fit-from 2028]
    python experiments/trends.py --seeds 2 --set fostering.in_house_transfer_share=0.25   # a what-if

``--fit-from Y`` also prints the trends fitted over the 31 Marches from Y on: whether a trend
outside its band is a transient of the first years or the model's lasting drift.

About 100-120 s per ten-year England run on one core here (5 seeds with 2 jobs: ~5 min).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import xarray as xr

from rcc_sim.config import Config

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "outputs" / "trends"


def run_one(job: tuple[int, Config, str]) -> tuple[int, str]:
    """Run one seed into its directory (skipped if done there with this config and code)."""
    from rcc_sim.run import write_run
    from rcc_sim.studies.study import previous_run, recording

    seed, cfg, run_dir = job
    path = Path(run_dir)
    skip, message = previous_run(path, cfg)
    if skip:
        return seed, message or f"skipped {path}"
    path.mkdir(parents=True, exist_ok=True)
    from rcc_sim.run import simulate

    with recording(path, cfg):
        t0 = time.perf_counter()
        ds = simulate(cfg)
        seconds = time.perf_counter() - t0
        write_run(ds, cfg, path, seconds)
    return seed, (message + "; " if message else "") + f"ran seed {seed} in {seconds:.0f} s"


def _finite(x):
    """``x`` with every NaN or infinity as None (strict JSON)."""
    if isinstance(x, dict):
        return {str(k): _finite(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_finite(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def main() -> None:
    from rcc_sim import load_config
    from rcc_sim.studies.study import read_status
    from rcc_sim.studies.trends import markdown, trend_table, trends, yearly_table

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5, help="number of seeds (0, 1, ...); issue 12 asks for 5+")
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--world", default="england", help="configs/world/<world>.yaml")
    ap.add_argument("--jobs", type=int, default=2, help="runs at once (one core each)")
    ap.add_argument(
        "--fit-from",
        type=int,
        default=None,
        help="also print the trends fitted from this 31 March on (e.g. 2028: after the first years' transient)",
    )
    ap.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="config overrides for a what-if (e.g. fostering.in_house_transfer_share=0.25); "
        "the runs then go to a directory named after them",
    )
    args = ap.parse_args()

    tag = "_".join(o.replace("=", "-") for o in args.set)
    where = OUT / (f"{args.world}_{args.years}y" + (f"_{tag}" if tag else ""))
    seeds = list(range(args.seeds))
    jobs = []
    for seed in seeds:
        overrides = [f"world={args.world}", f"sim.years={args.years}", f"seed={seed}", "policy=status_quo"]
        cfg = load_config([*overrides, *args.set, "output.progress=false"])
        jobs.append((seed, cfg, str(where / f"seed{seed}")))
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=max(1, min(args.jobs, len(jobs)))) as ex:
        for _seed, message in ex.map(run_one, jobs):
            print(message, flush=True)
    wall = time.perf_counter() - t0

    datasets = [xr.load_dataset(where / f"seed{s}" / "results.nc", engine="h5netcdf") for s in seeds]
    result = trends(datasets)
    run_seconds = {s: (read_status(where / f"seed{s}") or {}).get("wall_seconds") for s in seeds}
    title = f"Status quo, {args.world}, {args.years} years from 31 March 2024: trends against the published trends"
    if args.set:
        title += f" (what-if: {', '.join(args.set)})"
    print(f"\n{title}\n")
    print(yearly_table(result))
    print()
    print(trend_table(result))
    late = trends(datasets, fit_from=args.fit_from) if args.fit_from else None
    if late is not None:
        print(f"\nFitted from 31 March {args.fit_from} on (a diagnostic, not the band check):\n")
        print(trend_table(late))
    outside = [t.measure.label for t in result.measures if t.inside is False]
    print(f"\n{len(outside)} of {sum(t.inside is not None for t in result.measures)} banded trends outside their band")
    times = ", ".join(f"seed {s}: {v:.0f} s" for s, v in run_seconds.items() if v is not None)
    print(f"run times (one core each): {times}; this invocation {wall:.0f} s with {args.jobs} jobs")

    md = markdown(result, title) + f"\nRun times (one core each): {times}.\n"
    if late is not None:
        md += (
            f"\n## Fitted from 31 March {args.fit_from} on (a diagnostic, not the band check)\n\n{trend_table(late)}\n"
        )
    (where / "trends.md").write_text(md)
    doc = result.to_dict() | {"world": args.world, "years": args.years, "run_seconds": run_seconds}
    if late is not None:
        doc["fitted_from"] = late.to_dict()
    (where / "trends.json").write_text(json.dumps(_finite(doc), indent=1, allow_nan=False) + "\n")
    print(f"wrote {where / 'trends.md'} and {where / 'trends.json'}")


if __name__ == "__main__":
    main()
