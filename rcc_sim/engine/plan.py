"""The order of operations as data: a plan of steps, each with a cadence and an owner.

The model declares its weekly, quarterly and yearly steps once (``CareSystemModel.PLAN``); the
clock runs them at the end of every week in that order, and times each one. After a run,
``print(model.plan)`` shows the plan with the calls and seconds spent in each step and in the
events between them (the simpy part), as Starsim's loop does.

Cadences: ``week`` (every week), ``quarter`` (every 13th week), ``year`` (the week ending
31 March). Phases: ``end`` steps close the week just ended; ``next`` steps prepare the coming
week, so they come last and are skipped after the last week of the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from mypy_extensions import mypyc_attr

CADENCES: Final = ("week", "quarter", "year")
PHASES: Final = ("end", "next")


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # see rcc_sim.engine.compiled
@dataclass
class Step:
    cadence: str  # "week", "quarter" or "year"
    phase: str  # "end" (closes the week) or "next" (prepares the next one)
    owner: str  # the process (or "model") whose method it is
    name: str  # the method
    fn: Callable[[], None]
    calls: int = 0
    seconds: float = 0.0

    @property
    def label(self) -> str:
        return f"{self.owner}.{self.name}"


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # see rcc_sim.engine.compiled
class Plan:
    """An ordered list of steps; ``run_week`` runs those due this week and times them."""

    def __init__(self, steps: list[Step], n_weeks: int):
        for s in steps:
            if s.cadence not in CADENCES or s.phase not in PHASES:
                raise ValueError(f"step {s.label}: cadence {s.cadence!r} / phase {s.phase!r} unknown")
        phases = [s.phase for s in steps]
        if phases != sorted(phases, key=PHASES.index):
            raise ValueError("the plan's 'next' steps (preparing the coming week) must come after its 'end' steps")
        self.steps = steps
        self._last_week_stop = phases.count("end")
        self.n_weeks = n_weeks
        self.event_seconds = 0.0  # time in simpy events between the weekly steps
        self.open_seconds = 0.0  # time opening the weeks: their events onto the clock (Clock.open_week)
        self.wall_seconds = 0.0

    def run_week(self, w: int) -> None:
        """Run the steps due at the end of week ``w`` (0-based)."""
        year_end = (w + 1) % 52 == 0
        quarter = (w + 1) % 13 == 0
        last = w + 1 >= self.n_weeks
        clock = time.perf_counter
        for i, s in enumerate(self.steps):
            if last and i >= self._last_week_stop:
                break
            if (s.cadence == "year" and not year_end) or (s.cadence == "quarter" and not quarter):
                continue
            t0 = clock()
            s.fn()
            s.seconds += clock() - t0
            s.calls += 1

    def rows(self) -> list[tuple[str, str, str, str, int, float]]:
        return [(s.cadence, s.phase, s.owner, s.name, s.calls, s.seconds) for s in self.steps]

    def __str__(self) -> str:
        head = f"{'#':>2s}  {'cadence':8s} {'phase':5s} {'owner':14s} {'step':22s} {'calls':>6s} {'seconds':>8s}"
        lines = [head]
        for i, (cad, phase, owner, name, calls, sec) in enumerate(self.rows(), 1):
            lines.append(f"{i:2d}  {cad:8s} {phase:5s} {owner:14s} {name:22s} {calls:6d} {sec:8.2f}")
        steps = sum(s.seconds for s in self.steps)
        ev, op = self.event_seconds, self.open_seconds
        lines.append(f"    {'week':8s} {'start':5s} {'clock':14s} {'open_week':22s} {'':6s} {op:8.2f}")
        lines.append(f"    {'events':8s} {'':5s} {'(simpy)':14s} {'between the steps':22s} {'':6s} {ev:8.2f}")
        lines.append(f"    {'total':8s} {'':5s} {'':14s} {'':22s} {'':6s} {steps + op + ev:8.2f}")
        return "\n".join(lines)


__all__ = ["CADENCES", "Plan", "Step"]
