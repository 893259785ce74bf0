"""The model clock: simpy time, with a weekly calendar that keeps the event heap small.

Every event of the model - a child arriving or leaving, a placement ending, a carer approved, a
home opening - is a callback at a model day (days from the base date). The clock is a
``simpy.Environment``; what this module adds is *when an event enters simpy's heap*:

* an event due by the end of the current week goes straight onto simpy's heap;
* an event due later waits in the calendar bucket of the week it falls in, a plain list, and is
  moved onto the heap when that week begins (``open_week``);
* an event due after the last week of the run is never stored.

simpy's queue therefore holds about one week of events (a few thousand in an England run) instead
of every child's exit and every placement's planned end years ahead (over 180,000). An event tied
to a child's placement (``at_child``) carries the child's placement *version*; if the placement
has changed by the time its week begins, the event is dropped then, without entering simpy at all:
a cancelled event costs one list entry.

The week's queue has two parts. Its calendar bucket - 99% of the week's events - is sorted once
when the week opens (``list.sort``, whose comparison of tuples led by a float is a native float
comparison) and taken from the end of the list; events scheduled during the week for the same week
(a placement starting today, the week's end, simpy's own events) go on simpy's heap as before.
The environment's ``step`` takes whichever of the two heads comes first: the same order as one
heap of both, at a fraction of the cost of popping a heap of thousands of tuples (each pop about
twelve generic tuple comparisons).

Events due at the same moment run in the order they were scheduled (simpy's event id; a bucket's
events get their ids when the week opens, in the order they were filed); a run is deterministic
for a given seed. A calendar event is a tuple (time, priority, id, fn, args); one on simpy's heap
is a small object holding the call (``_Call``); the environment's ``step`` calls either directly,
and processes simpy's own events (the end of ``run``) as simpy does.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
from collections.abc import Callable, Iterator
from typing import Any, Final, cast

import simpy
from mypy_extensions import mypyc_attr
from simpy.core import NORMAL, EmptySchedule, EventPriority, StopSimulation

_NORMAL: Final = NORMAL  # simpy's priority of an ordinary event (a C static when compiled)
# heapq's functions as C statics when compiled (an imported name is looked up in the module's
# dictionary at every call)
_heappush: Final = heapq.heappush
_heappop: Final = heapq.heappop


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # see rcc_sim.engine.compiled
class _Call:
    """An event of the model on simpy's heap: ``fn(*args)`` at its time. Not a simpy ``Event``
    (it has no callbacks, value or outcome): the environment's :meth:`_Environment.step` calls it
    directly, and processes simpy's own events (``run``'s ``until``) as simpy does."""

    def __init__(self, fn: Callable, args: tuple):
        self.fn = fn
        self.args = args


# an event waiting in a later week's bucket: (due day, fn, args, the child whose placement it is
# tied to or None, that placement's version); typed, so the compiled engine packs and unpacks it natively
_Later = tuple[float, Callable[..., Any], tuple[Any, ...], Any, int]


# an event of the open week's calendar: (time, priority, id, fn, args), called as fn(*args); no
# ``_Call`` object is made for it (the week's sorted list is the model's own, not simpy's heap)
_Due = tuple[float, int, int, Callable[..., Any], tuple[Any, ...]]


def _before(a: _Due, b: tuple[float, int, int, Any]) -> bool:
    """Whether the calendar event ``a`` (time, priority, id, fn, args) comes before the heap's
    ``b`` (time, priority, id, event): the tuples' order (ids are unique, so nothing after the id
    is ever compared), in native comparisons when compiled."""
    if a[0] != b[0]:
        return a[0] < b[0]
    if a[1] != b[1]:
        return a[1] < b[1]
    return a[2] < b[2]


def _nothing() -> None:
    """The event left on the heap by one that stopped the run (see :meth:`_Environment.step`)."""


class _Environment(simpy.Environment):
    """simpy's environment, picklable (a model snapshot, ``CareSystemModel.snapshot``): its time,
    its heap of events and its event counter (simpy binds its event classes to the instance,
    which pickle cannot restore; they are bound again on loading)."""

    def __init__(self, initial_time: float = 0.0):
        super().__init__(initial_time)
        # the open week's calendar events, sorted latest first (the next one is the last item);
        # simpy's ``_queue`` holds the rest as a heap (see the module docstring)
        self._week: list[_Due] = []

    def __getstate__(self) -> dict[str, Any]:
        if self._active_proc is not None:
            raise ValueError("a simpy environment cannot be pickled while a process runs")
        eid = next(self._eid)  # the next event's id, put back: the same ids follow as without
        self._eid = itertools.count(eid)
        return {"now": self._now, "queue": self._queue, "week": self._week, "eid": eid}

    def __setstate__(self, state: dict[str, Any]) -> None:
        _Environment.__init__(self, state["now"])
        self._queue = state["queue"]
        self._week = state["week"]
        self._eid = itertools.count(state["eid"])

    def add_week(self, items: list[_Due]) -> None:
        """A week's calendar events (time, priority, id, fn, args) into the sorted part of the queue."""
        week = self._week
        if week:  # events left from an earlier week (not in a model run: its weeks end after them)
            items = items + week
        items.sort(reverse=True)  # ids are unique: a strict order, the exact reverse of ascending
        self._week = items

    def peek(self) -> Any:
        """The time of the next event (simpy's ``peek``), over both parts of the queue."""
        week, queue = self._week, self._queue
        if week and (not queue or _before(week[-1], queue[0])):
            return week[-1][0]
        return queue[0][0] if queue else simpy.core.Infinity

    # simpy's own ``now``, ``schedule`` and ``step``, line for line, here so that the compiled
    # engine compiles them (about two million events a ten-year England run)

    @property
    def now(self) -> Any:
        return self._now

    def schedule(self, event: Any, priority: Any = NORMAL, delay: Any = 0) -> None:
        eid: Iterator[int] = self._eid
        _heappush(self._queue, (self._now + delay, priority, next(eid), event))

    def step(self) -> None:
        week: list[_Due] = self._week
        queue: list[Any] = self._queue
        if week and (not queue or _before(week[-1], queue[0])):
            self._now, _, _, fn, args = week.pop()
        elif not queue:
            raise EmptySchedule
        else:
            self._now, _, _, event = _heappop(queue)
            if not isinstance(event, _Call):  # simpy's own (the run's end)
                self._process(event)
                return
            call = cast(_Call, event)  # read as the native class it is
            fn, args = call.fn, call.args
        try:
            fn(*args)
        except StopSimulation:
            # as simpy does with an event whose callback stopped the run: the event, with the
            # callbacks it has left (none), back on the heap to be processed first on resuming
            self.schedule(_Call(_nothing, ()), EventPriority(-1))
            raise

    def _process(self, event: Any) -> None:
        """A simpy event, processed as simpy's ``step`` does."""
        callbacks = event.callbacks
        event.callbacks = None
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
        # by whole day d: the first week whose end is not before d (see _week_of)
        last = int(self.week_ends[-1]) + 1 if self.week_ends else 0
        self._week_by_day = [bisect.bisect_left(self.week_ends, float(d)) for d in range(last + 1)]
        self._buckets: list[list[_Later] | None] = [[] for _ in self.week_ends]
        self._horizon = -1.0  # events due by this day go straight to simpy (end of the open week)
        self._week = -1
        self.events = 0  # events put on simpy's heap (excluding the weekly clock ticks)
        self.dropped = 0  # events cancelled before they reached simpy

    @property
    def now(self) -> float:
        """simpy's time (``env.now``), read without simpy's property (on every event)."""
        return self.env._now

    def _week_of(self, due: float) -> int:
        """The week whose bucket holds an event due on day ``due``: the first whose end is not
        before it, ``bisect.bisect_left(week_ends, due)``, ``len(week_ends)`` if after the last.
        Looked up by the whole day (``_week_by_day``), then at most one week on (weeks are longer
        than a day), instead of a binary search over the boxed week ends (ten list reads)."""
        ends = self.week_ends
        n = len(ends)
        table = self._week_by_day
        if not due < len(table):  # after the last week (an infinite delay too)
            return n
        w: int = table[int(due) if due > 0.0 else 0]
        while w < n and ends[w] < due:
            w += 1
        return w

    def _push(self, due: float, call: _Call) -> None:
        """``call`` onto simpy's heap for day ``due`` (not before now): what
        ``env.schedule(call, NORMAL, delay)`` does, the time computed as simpy computes it."""
        env = self.env
        now: float = env._now
        eid: Iterator[int] = env._eid
        queue: list[Any] = env._queue
        _heappush(queue, (now + (due - now if due > now else 0.0), _NORMAL, next(eid), call))

    def at(self, delay: float, fn: Callable, *args: Any) -> None:
        """Call ``fn(*args)`` ``delay`` days from now (0 if negative)."""
        now: float = self.env._now
        due = now + delay if delay > 0.0 else now
        if due <= self._horizon:
            self.events += 1
            self._push(due, _Call(fn, args))
            return
        w = self._week_of(due)
        if w < len(self.week_ends):
            self._buckets[w].append((due, fn, args, None, 0))  # type: ignore[union-attr]

    def at_child(self, delay: float, fn: Callable, child: Any) -> None:
        """Call ``fn(child, version)`` ``delay`` days from now unless the child's placement
        changes first (``child.version`` moves on); then the event is dropped unseen."""
        now: float = self.env._now
        due = now + delay if delay > 0.0 else now
        version: int = child.version
        if due <= self._horizon:
            self.events += 1
            self._push(due, _Call(fn, (child, version)))
            return
        w = self._week_of(due)
        if w < len(self.week_ends):
            self._buckets[w].append((due, fn, (child, version), child, version))  # type: ignore[union-attr]

    def call_at(self, due: float, fn: Callable, *args: Any) -> None:
        """Put ``fn(*args)`` on simpy's heap for model day ``due`` directly, whatever the week (the
        model's weekly tick; not counted in ``events``)."""
        self._push(due, _Call(fn, args))

    def open_week(self, w: int) -> None:
        """Week ``w`` begins: its calendar bucket into the environment's queue (``add_week``), in
        scheduling order: each event gets the next simpy event id, as ``env.schedule`` would give
        it, so the events run in the same order as if pushed onto one heap one by one."""
        self._week = w
        self._horizon = self.week_ends[w]
        bucket: list[_Later] | None = self._buckets[w]
        self._buckets[w] = None
        if bucket is None:
            return
        env = self.env
        now: float = env._now
        eid: int = next(env._eid)  # the ids env.schedule would give, one after another
        items: list[_Due] = []
        dropped = 0
        for due, fn, args, child, version in bucket:
            if child is not None and child.version != version:
                dropped += 1
                continue
            items.append((now + (due - now if due > now else 0.0), _NORMAL, eid, fn, args))
            eid += 1
        env._eid = itertools.count(eid)
        self.dropped += dropped
        self.events += len(items)
        if items:
            env.add_week(items)

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
        return self.week_ends[w] - self.env._now if w < len(self.week_ends) else 0.0

    def year_index(self) -> int:
        """Statistical year of the current week (0 = the year after the base date)."""
        return max(self._week, 0) // 52

    def pending(self) -> int:
        """Events waiting in later weeks' buckets (for tests and benchmarks)."""
        return sum(len(b) for b in self._buckets if b)


__all__ = ["Clock"]
