"""Regression: one fixed small run must reproduce the headline numbers in tests/baseline.json."""

from __future__ import annotations

import json
import math
from pathlib import Path

from rcc_sim.config import to_object
from rcc_sim.engine.recorder import summarize
from rcc_sim.run import simulate

BASELINE = Path(__file__).resolve().parent / "baseline.json"
HOW_TO_UPDATE = (
    "If this change to the model's results is intended, run `python experiments/update_baseline.py` "
    "(it prints old vs new) and commit tests/baseline.json with the change."
)


def test_baseline_summary_unchanged():
    doc = json.loads(BASELINE.read_text())
    new = summarize(simulate(to_object(doc["config"])))
    old = doc["summary"]
    problems = []
    for key in sorted(set(old) | set(new)):
        if key not in new:
            problems.append(f"  {key}: {old[key]!r} -> (missing)")
        elif key not in old:
            problems.append(f"  {key}: (not in baseline) -> {new[key]!r}")
        elif not math.isclose(old[key], new[key], rel_tol=1e-9, abs_tol=0.0):
            problems.append(f"  {key}: {old[key]!r} -> {new[key]!r}")
    assert not problems, (
        "run summary differs from tests/baseline.json (baseline -> now):\n" + "\n".join(problems) + "\n" + HOW_TO_UPDATE
    )
