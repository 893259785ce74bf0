"""Where the compiled engine spends the years after the base date: a ``perf`` profile of them.

    python experiments/perf_profile.py [--years 4] [--seconds 12] [--world england] [--top 30]

Profiles of a whole run mix the set-up and the spin-up into the years that matter, whose costs
differ (the state, and the age of the run's objects: ``event_cost.py``); and Python's profilers do
not see inside the compiled engine. This script runs the spin-up (``run_to_base``), then attaches
Linux ``perf`` (``perf record --call-graph dwarf``) to its own process for ``--seconds`` of the
years after the base date, and prints three tables over the samples:

* **nearest compiled function**: each sample charged to the innermost compiled engine function on
  its stack (``CPyDef_<module>___<Class>___<method>``), so a function's row includes the
  interpreter and numpy time it causes (list reads, allocation, dictionary lookups);
* **inclusive**: the share of samples with the function anywhere on the stack;
* **self symbol**: the innermost symbol (libpython's, numpy's, the engine's);

and with ``--callers SYMBOL ...``, for each symbol the compiled functions nearest to the samples
whose innermost symbol it is (which functions the generic dictionary lookups come from, say).

Needs ``perf`` (``apt-get install linux-perf``) and permission to attach (root, or
``kernel.perf_event_paranoid`` <= 1). Issue 10's notes (2026-12-07) show what it found: the
simpy heap's pops and the search's reads of scattered tuples, invisible in whole-run profiles.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import rcc_sim
from rcc_sim.engine import compiled
from rcc_sim.engine.model import CareSystemModel

_ENGINE = "CPyDef_"  # mypyc's prefix of a compiled function


def _stacks(script: str) -> list[list[str]]:
    """The stacks (innermost first, symbol names) of ``perf script -F sym`` output."""
    out = []
    for block in script.split("\n\n"):
        syms = []
        for line in block.strip().splitlines():
            parts = line.strip().split(None, 1)
            if len(parts) == 2:
                syms.append(re.sub(r"\s*\(.*\)$", "", parts[1]))
        if syms:
            out.append(syms)
    return out


def tables(stacks: list[list[str]], top: int, callers: tuple[str, ...] = ()) -> str:
    """The three tables of the module docstring, ``top`` rows each; then, for each symbol in
    ``callers``, the compiled functions nearest to the samples whose innermost symbol it is."""
    nearest: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    innermost: collections.Counter[str] = collections.Counter()
    for syms in stacks:
        innermost[syms[0]] += 1
        engine = [s for s in syms if s.startswith(_ENGINE)]
        nearest[engine[0] if engine else "(outside the engine) " + syms[0]] += 1
        for s in set(engine):
            inclusive[s] += 1
    n = max(len(stacks), 1)
    lines = [f"{len(stacks)} samples"]
    for title, counts in (
        ("nearest compiled function", nearest),
        ("inclusive", inclusive),
        ("self symbol", innermost),
    ):
        lines.append(f"--- {title}")
        lines += [f"{100 * v / n:5.1f}%  {k}" for k, v in counts.most_common(top)]
    for symbol in callers:
        near = collections.Counter(
            next((s for s in syms if s.startswith(_ENGINE)), "(outside the engine)")
            for syms in stacks
            if syms[0] == symbol
        )
        lines.append(f"--- nearest compiled function of {symbol}")
        lines += [f"{100 * v / n:5.1f}%  {k}" for k, v in near.most_common(top)]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--world", default="england")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--years", type=int, default=4, help="years after the base date to run (>= the sampling)")
    ap.add_argument("--seconds", type=float, default=12.0, help="seconds of the run to sample")
    ap.add_argument("--frequency", type=int, default=250, help="samples a second")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--callers", nargs="*", default=[], help="self symbols whose nearest compiled functions to list")
    args = ap.parse_args()
    perf = shutil.which("perf")
    if perf is None:
        sys.exit("perf_profile: Linux perf is not installed (apt-get install linux-perf)")
    if compiled.state != "compiled":
        print(f"perf_profile: the engine is {compiled.state}: a profile of the pure-Python engine", file=sys.stderr)
    overrides = [f"world={args.world}", f"seed={args.seed}", f"sim.years={args.years}", "output.progress=false"]
    model = CareSystemModel(rcc_sim.load_config(overrides))
    if model.cfg.sim.spin_up_years > 0:
        model.run_to_base()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "perf.data"
        cmd = [perf, "record", "-F", str(args.frequency), "--call-graph", "dwarf,32768", "-p", str(os.getpid())]
        rec = subprocess.Popen(
            [*cmd, "-o", str(data), "--", "sleep", str(args.seconds)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(0.5)  # perf attached
        t0 = time.perf_counter()
        model.run()
        wall = time.perf_counter() - t0
        _, err = rec.communicate()
        if rec.returncode != 0 or not data.exists():
            sys.exit(f"perf_profile: perf record failed: {err.strip()[-500:]}")
        script = subprocess.run(
            [perf, "script", "-i", str(data), "-F", "ip,sym"], capture_output=True, text=True, check=True
        ).stdout
    print(f"{args.world}, seed {args.seed}: {args.years} years after the base date in {wall:.1f} s")
    if wall < args.seconds:
        print(f"(the run ended before the {args.seconds:.0f} s sampled: the samples after it are the process idle)")
    print(tables(_stacks(script), args.top, tuple(args.callers)))


if __name__ == "__main__":
    main()
