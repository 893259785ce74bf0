"""The model clock: simpy time, with a weekly calendar that keeps the event heap small.

Every event of the model - a child arriving or leaving, a placement ending, a carer approved, a
home opening - is a callback at a model day (days from the base date). The clock is a
``simpy.Environment``; what this module adds is *when an event enters simpy's heap*:

* an event due by the end of the current week goes straight onto simpy's heap;
* an event due later waits in the calendar bucket of the week it falls in, a plain list, and is
  moved onto the heap when that week begins (``open_week``);
* an event due after the last week of the run is never stored.

simpy's heap therefore holds about one week of events (a few thousand in an England run) instead
of every child's exit and every placement's planned end years ahead (over 180,000), so each push
and pop is cheap. An event tied to a child's placement (``at_child``) carries the child's
placement *version*; if the placement has changed by the time its week begins, the event is
dropped then, without entering simpy at all: a cancelled event costs one list entry.

Events due at the same moment run in the order they entered simpy's heap (simpy's event id);
a run is deterministic for a given seed.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

import simpy
from mypy_extensions import mypyc_attr
from simpy.core import NORMAL, EmptySchedule, EventPriority, StopSimulation
from simpy.events import Event


class _Call(Event):
    """A simpy event that calls ``fn(*args)`` when it is processed (no generator, no closure).
    Every one shares one callbacks list: simpy only reads it (and then drops its reference)."""

    __slots__ = ("fn", "args")

    def __init__(self, env: simpy.Environment, fn: Callable, args: tuple):
        self.env = env
        self.callbacks = _CALLBACKS
        self._ok = True
        self._value = None
        self.fn = fn
        self.args = args

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled (a model snapshot) as the call that makes it again, with its callbacks if they
        are not the shared ones: the event that stopped a run at the base date is back on the
        heap with the callbacks it had left (none; simpy's ``step``)."""
        callbacks = None if self.callbacks is _CALLBACKS else self.callbacks
        return (_revive, (self.env, self.fn, self.args, callbacks))


def _revive(env: simpy.Environment, fn: Callable, args: tuple, callbacks: list | None) -> _Call:
    ev = _Call(env, fn, args)
    if callbacks is not None:
        ev.callbacks = callbacks
    return ev


def _run(ev: _Call) -> None:
    ev.fn(*ev.args)


_CALLBACKS: list[Callable[[Any], None]] = [_run]


class _Environment(simpy.Environment):
    """simpy's environment, picklable (a model snapshot, ``CareSystemModel.snapshot``): its time,
    its heap of events and its event counter (simpy binds its event classes to the instance,
    which pickle cannot restore; they are bound again on loading)."""

    def __getstate__(self) -> dict[str, Any]:
        if self._active_proc is not None:
            raise ValueError("a simpy environment cannot be pickled while a process runs")
        eid = next(self._eid)  # the next event's id, put back: the same ids follow as without
        self._eid = itertools.count(eid)
        return {"now": self._now, "queue": self._queue, "eid": eid}

    def __setstate__(self, state: dict[str, Any]) -> None:
        simpy.Environment.__init__(self, state["now"])
        self._queue = state["queue"]
        self._eid = itertools.count(state["eid"])

    # simpy's own ``now``, ``schedule`` and ``step``, line for line, here so that the compiled
    # engine compiles them (about two million events a ten-year England run)

    @property
    def now(self) -> Any:
        return self._now

    def schedule(self, event: Event, priority: Any = NORMAL, delay: Any = 0) -> None:
        heappush(self._queue, (self._now + delay, priority, next(self._eid), event))

    def step(self) -> None:
        try:
            self._now, _, _, event = heappop(self._queue)
        except IndexError:
            raise EmptySchedule from None
        callbacks = event.callbacks
        event.callbacks = None  # type: ignore[assignment]
        try:
            for callback in callbacks:
                callback(event)
        except StopSimulation:
            # the remaining callbacks stay with the event, which waits for the run to resume
            event.callbacks = callbacks[callbacks.index(callback) + 1 :]
            self.schedule(event, EventPriority(-1))
            raise
        if not event._ok and not hasattr(event, "_defused"):
            exc = type(event._value)(*event._value.args)
            exc.__cause__ = event._value
            raise exc


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # see rcc_sim.engine.compiled
class Clock:
    """simpy time plus the weekly calendar of later events.

    ``week_ends`` are the model days on which weeks end (the last week of a statistical year ends
    on 31 March). Week ``w`` covers ``(week_ends[w - 1], week_ends[w]]``.
    """

    def __init__(self, week_ends: list[float], base_day: float):
        self.env = _Environment()
        self.base_day = base_day  # model day of the base date (after a spin-up; else 0)
        self.week_ends = [float(t) for t in week_ends]
        self._buckets: list[list | None] = [[] for _ in self.week_ends]
        self._horizon = -1.0  # events due by this day go straight to simpy (end of the open week)
        self._week = -1
        self._schedule = self.env.schedule
        self.events = 0  # events put on simpy's heap (excluding the weekly clock ticks)
        self.dropped = 0  # events cancelled before they reached simpy

    @property
    def now(self) -> float:
        return self.env.now

    def at(self, delay: float, fn: Callable, *args: Any) -> None:
        """Call ``fn(*args)`` ``delay`` days from now (0 if negative)."""
        now = self.env.now
        due = now + delay if delay > 0.0 else now
        if due <= self._horizon:
            self.events += 1
            self._schedule(_Call(self.env, fn, args), NORMAL, due - now)
            return
        w = bisect.bisect_left(self.week_ends, due)
        if w < len(self.week_ends):
            self._buckets[w].append((due, fn, args, None, 0))  # type: ignore[union-attr]

    def at_child(self, delay: float, fn: Callable, child: Any) -> None:
        """Call ``fn(child, version)`` ``delay`` days from now unless the child's placement
        changes first (``child.version`` moves on); then the event is dropped unseen."""
        now = self.env.now
        due = now + delay if delay > 0.0 else now
        version = child.version
        if due <= self._horizon:
            self.events += 1
            self._schedule(_Call(self.env, fn, (child, version)), NORMAL, due - now)
            return
        w = bisect.bisect_left(self.week_ends, due)
        if w < len(self.week_ends):
            self._buckets[w].append((due, fn, (child, version), child, version))  # type: ignore[union-attr]

    def call_at(self, due: float, fn: Callable, *args: Any) -> None:
        """Put ``fn(*args)`` on simpy's heap for model day ``due`` directly, whatever the week (the
        model's weekly tick; not counted in ``events``)."""
        now = self.env.now
        self._schedule(_Call(self.env, fn, args), NORMAL, due - now if due > now else 0.0)

    def open_week(self, w: int) -> None:
        """Week ``w`` begins: move its calendar bucket onto simpy's heap, in scheduling order."""
        self._week = w
        self._horizon = self.week_ends[w]
        bucket, self._buckets[w] = self._buckets[w], None
        now, env, schedule = self.env.now, self.env, self._schedule
        n = 0
        for due, fn, args, child, version in bucket or ():
            if child is not None and child.version != version:
                self.dropped += 1
                continue
            n += 1
            schedule(_Call(env, fn, args), NORMAL, due - now if due > now else 0.0)
        self.events += n

    @property
    def week(self) -> int:
        """Index of the current week (-1 during set-up)."""
        return self._week

    def week_length(self) -> float:
        """Days in the current week."""
        w = self._week
        return self.week_ends[w] - (self.week_ends[w - 1] if w > 0 else 0.0)

    def days_to_next_week_end(self) -> float:
        """Days from now to the end of the next week (the span a weekly step plans for)."""
        w = self._week + 1
        return self.week_ends[w] - self.env.now if w < len(self.week_ends) else 0.0

    def year_index(self) -> int:
        """Statistical year of the current week (0 = the year after the base date)."""
        return max(self._week, 0) // 52

    def pending(self) -> int:
        """Events waiting in later weeks' buckets (for tests and benchmarks)."""
        return sum(len(b) for b in self._buckets if b)


__all__ = ["Clock"]
