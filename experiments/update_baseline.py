"""Regenerate tests/baseline.json: the headline numbers of one fixed small run.

    python experiments/update_baseline.py            # run, print old vs new, write the file
    python experiments/update_baseline.py --dry-run  # run and print the differences only

tests/test_baseline.py reruns the config stored in the file and requires the same numbers
(relative tolerance 1e-9). Run this script only when a change to the model's results is
intended, and commit the new baseline.json together with that change. This script is the only
thing that writes baseline.json.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

from rcc_sim.config import to_object
from rcc_sim.engine.recorder import summarize
from rcc_sim.files import atomic_write_text
from rcc_sim.run import simulate

BASELINE = Path(__file__).resolve().parent.parent / "tests" / "baseline.json"

# Three Greater Manchester LAs (Bolton, Bury, Manchester), one year from 31 March 2024, seed 0;
# every other parameter at its default in rcc_sim/config.py.
CONFIG = {
    "world": {"name": "baseline_gm3", "la_codes": ["E08000001", "E08000002", "E08000003"]},
    "sim": {"years": 1.0},
    "seed": 0,
}


def run(config: dict) -> dict[str, float]:
    return summarize(simulate(to_object(config)))


def diff(old: dict[str, float], new: dict[str, float]) -> list[str]:
    """Lines describing every key that changed, appeared or disappeared."""
    lines = []
    for key in sorted(set(old) | set(new), key=lambda k: (k not in new, k)):
        a, b = old.get(key), new.get(key)
        if a is None:
            lines.append(f"  {key:40s} {'(new)':>16s} -> {b!r:>16}")
        elif b is None:
            lines.append(f"  {key:40s} {a!r:>16} -> {'(removed)':>16s}")
        elif not math.isclose(a, b, rel_tol=1e-9):
            rel = f"{(b - a) / abs(a):+.3%}" if a else "from 0"
            lines.append(f"  {key:40s} {a!r:>16} -> {b!r:>16}  ({rel})")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dry-run", action="store_true", help="print the differences, do not write the file")
    args = ap.parse_args(argv)

    old_doc = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    old = old_doc.get("summary", {})
    if old_doc and old_doc.get("config") != CONFIG:
        print(f"note: the baseline config changed from {old_doc.get('config')} to {CONFIG}")
    t0 = time.perf_counter()
    new = run(CONFIG)
    print(f"ran the baseline config in {time.perf_counter() - t0:.1f} s")

    changes = diff(old, new)
    if not old:
        print(f"no earlier baseline at {BASELINE}")
    elif changes:
        print(f"{len(changes)} of {len(new)} values changed (old -> new):")
        print("\n".join(changes))
    else:
        print(f"no change: all {len(new)} values equal the current baseline")

    if args.dry_run:
        return 0
    doc = {
        "about": "rcc_sim.engine.recorder.summarize() of one run of 'config' (other parameters at their defaults). "
        "Checked by tests/test_baseline.py; regenerate with `python experiments/update_baseline.py`.",
        "config": CONFIG,
        "summary": new,
    }
    atomic_write_text(BASELINE, json.dumps(doc, indent=2) + "\n")
    print(f"wrote {BASELINE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
