"""Re-derive the plausible ranges in ``rcc_sim/data/calibrated.yaml`` from the shipped trials.

    python experiments/calibration/refresh_ranges.py [--trials experiments/calibration/trajectory_2017_2023_trials.csv]

The ranges are a function of the trials alone (:func:`rcc_sim.studies.calibration.ranges_from_trials`:
the chi-square profile-loss region, or the k + 1 best trials when the region holds too few to
span the k free parameters). When that rule changes, this re-derives them without re-running
the calibration, from its trials table, the free parameters of ``configs/experiment/calibration.yaml``
and the number of loss terms recorded in the provenance. Only the ``ranges:`` block of the file
is rewritten; the fitted values and the provenance stay as the study wrote them.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import yaml

from rcc_sim import load_config
from rcc_sim.config import CALIBRATED_FILE
from rcc_sim.files import atomic_write_text
from rcc_sim.studies.calibration import ranges_from_trials

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=Path, default=HERE / "trajectory_2017_2023_trials.csv")
    args = ap.parse_args()
    cal = load_config(["+experiment=calibration"]).calibration
    keys = [p.key for p in cal.parameters]
    with args.trials.open() as f:
        rows = [r for r in csv.DictReader(f) if r["state"] == "COMPLETE" and all(r.get(k) for k in keys)]
    text = CALIBRATED_FILE.read_text()
    doc = yaml.safe_load(text)
    n_targets = int(doc["provenance"]["terms_in_loss"])
    ranges = ranges_from_trials(
        [float(r["loss"]) for r in rows], [{k: float(r[k]) for k in keys} for r in rows], cal, n_targets
    )
    head = text[: text.index("\nranges:\n") + 1]
    atomic_write_text(CALIBRATED_FILE, head + yaml.safe_dump({"ranges": ranges}, sort_keys=False, width=110))
    first = next(iter(ranges.values()))
    print(f"{len(rows)} trials, {n_targets} loss terms: {first['rule']}, {first['trials_in_region']} trials")
    for k, r in ranges.items():
        print(f"  {k:40s} {r['lo']:>12.6g} {r['best']:>12.6g} {r['hi']:>12.6g}")


if __name__ == "__main__":
    main()
