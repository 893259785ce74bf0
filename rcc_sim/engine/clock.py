"""The model clock: simpy time, with a weekly calendar that keeps the event heap small.

Every event of the model - a child arriving or leaving, a placement ending, a carer approved, a
home opening - is a callback at a model day (days from the base date). The clock is a
``simpy.Environment``; what this module adds is *when an event enters simpy's heap*:

* an event due by the end of the current week goes straight onto simpy's heap;
* an event due later waits in the calendar bucket of the week it falls in (columns:
  :class:`_Events`) until that week begins (``open_week``);
* an event due after the last week of the run is never stored.

simpy's queue therefore holds about one week of events (a few thousand in an England run) instead
of every child's exit and every placement's planned end years ahead (over 180,000). An event tied
to a child's placement (``at_child``) carries the child's placement *version*; if the placement
has changed by the time its week begins, the event is dropped then, without entering simpy at all:
a cancelled event costs one entry in its bucket's columns.

The week's queue has two parts. Its calendar bucket - 99% of the week's events - is put in order
once when the week opens (:class:`_Events`: the events' times in a vector of doubles, ordered by
numpy's stable argsort, which keeps the scheduling order of simultaneous events) and taken in that
order; events scheduled during the week for the same week (a placement starting today, the week's
end, simpy's own events) go on simpy's heap as before. The environment's ``step`` takes whichever
of the two heads comes first: the same order as one heap of both, at a fraction of the cost of
popping a heap of thousands of tuples (each pop about twelve generic tuple comparisons) or of
sorting them (a week's tuples sorted in Python cost 7% of an England run after the base date).

Events due at the same moment run in the order they were scheduled (simpy's event id; a bucket's
events get their ids when the week opens, in the order they were filed); a run is deterministic
for a given seed. A calendar event is a row of the week's columns (time, id, fn, args or the
child and version); one on simpy's heap is a small object holding the call (``_Call``); the
environment's ``step`` calls either directly, and processes simpy's own events (the end of
``run``) as simpy does.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
from collections.abc import Callable, Iterator
from typing import Any, Final, cast

import numpy as np
import simpy
from librt.vecs import append, vec
from mypy_extensions import i64, mypyc_attr
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


_NO_ARGS: Final[tuple[Any, ...]] = ()  # the arguments filed for an event tied to a child (called fn(child, version))


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # see rcc_sim.engine.compiled
class _Events:
    """Events as columns: a later week's bucket (in the order filed) or the open week's calendar.

    Event ``k`` is due on day ``due[k]``; it calls ``fn[k](child[k], version[k])`` if it is tied
    to a child's placement (``child[k]`` not None: dropped when its week opens if the placement
    has changed, ``Clock.at_child``), else ``fn[k](*args[k])``. As columns - the days and
    versions in vectors of C doubles and ints - an event filed costs no tuple and no float object
    (two tuples and a float each before 2026-12-07, made when filed and freed when run, and read
    back from scattered memory when the week opened).

    In the calendar (a week's bucket, as it was filed), ``due[k]`` is the time the event runs,
    ``ids[k]`` its simpy event id (priority NORMAL), and ``order[pos:]`` the positions of those
    not yet run, by (time, id); the positions of events cancelled before the week opened are in no
    order and never run."""

    def __init__(self) -> None:
        self.due: vec[float] = vec[float]()
        self.version: vec[i64] = vec[i64]()
        self.fn: list[Callable[..., Any]] = []
        self.args: list[tuple[Any, ...]] = []
        self.child: list[Any] = []
        self.ids: vec[i64] = vec[i64]()
        self.order: vec[i64] = vec[i64]()
        self.pos: i64 = 0

    def add(self, due: float, fn: Callable[..., Any], args: tuple[Any, ...], child: Any, version: i64) -> None:
        self.due = append(self.due, due)
        self.version = append(self.version, version)
        self.fn.append(fn)
        self.args.append(args)
        self.child.append(child)

    def copy_event(self, other: _Events, k: i64, due: float) -> None:
        """Event ``k`` of ``other`` added here, due on ``due``."""
        self.add(due, other.fn[k], other.args[k], other.child[k], other.version[k])

    def size(self) -> i64:
        return len(self.fn)

    def put_in_order(self, ids: vec[i64], live: vec[i64]) -> None:
        """Make this the calendar of its events at positions ``live`` (rising), whose ids are
        ``ids`` (by position; rising with position among the live: filed in scheduling order,
        earlier weeks' events first), so numpy's stable sort of their times gives the order of
        (time, priority, id). The other positions (events cancelled) are never run."""
        self.ids = ids
        k = np.frombuffer(memoryview(live), dtype=np.int64)
        due = np.frombuffer(memoryview(self.due), dtype=np.float64)
        self.order = vec[i64](k[np.argsort(due[k], kind="stable")])
        self.pos = 0

    def left(self) -> i64:
        """Calendar events not yet run."""
        return len(self.order) - self.pos


def _first(cal: _Events, queue: list[Any]) -> i64:
    """The position of the calendar's next event if it comes before the heap's head (time,
    priority, id: the order of one heap of both; ids are unique), else -1."""
    if cal.pos >= len(cal.order):
        return -1
    k = cal.order[cal.pos]
    if not queue:
        return k
    head = queue[0]
    t: float = cal.due[k]
    ht: float = head[0]
    if t != ht:
        return k if t < ht else -1
    hp: int = head[1]
    if hp != _NORMAL:
        return k if hp > _NORMAL else -1
    hid: int = head[2]
    return k if cal.ids[k] < hid else -1


def _nothing() -> None:
    """The event left on the heap by one that stopped the run (see :meth:`_Environment.step`)."""


class _Environment(simpy.Environment):
    """simpy's environment, picklable (a model snapshot, ``CareSystemModel.snapshot``): its time,
    its heap of events and its event counter (simpy binds its event classes to the instance,
    which pickle cannot restore; they are bound again on loading).

    simpy's own state - the time, the heap and the event counter - is declared here, so that the
    compiled engine holds it in the instance's struct: ``step`` and the clock read and write it
    natively (simpy's Python code reaches the same fields through their descriptors), not as
    entries of the instance's dictionary (a float boxed and a dictionary written at every event)."""

    _now: float
    _queue: list[Any]
    _eid: itertools.count[int]

    def __init__(self, initial_time: float = 0.0):
        super().__init__(initial_time)
        # the open week's calendar events; simpy's ``_queue`` holds the rest as a heap (see the
        # module docstring)
        self._cal = _Events()

    def __getstate__(self) -> dict[str, Any]:
        if self._active_proc is not None:
            raise ValueError("a simpy environment cannot be pickled while a process runs")
        eid = next(self._eid)  # the next event's id, put back: the same ids follow as without
        self._eid = itertools.count(eid)
        return {"now": self._now, "queue": self._queue, "calendar": self._cal, "eid": eid}

    def __setstate__(self, state: dict[str, Any]) -> None:
        _Environment.__init__(self, state["now"])
        self._queue = state["queue"]
        self._cal = state["calendar"]
        self._eid = itertools.count(state["eid"])

    def add_week(self, week: _Events, live: vec[i64], first_id: int) -> None:
        """A week's calendar events - those of ``week`` at positions ``live`` (rising: in
        scheduling order, ``due`` the time each runs), with ids ``first_id``, ``first_id + 1``,
        ... - become the calendar. The week's columns become the calendar's as they are (no event
        copied: a copy of each event's references made and dropped cost 4% of the years after the
        base date before 2026-12-07)."""
        n = len(live)
        ids_array = np.zeros(week.size(), dtype=np.int64)
        ids_array[np.frombuffer(memoryview(live), dtype=np.int64)] = np.arange(first_id, first_id + n, dtype=np.int64)
        ids = vec[i64](ids_array)
        cal = self._cal
        if cal.left():  # events left from an earlier week (not in a model run: its weeks end after them)
            merged = _Events()
            rest = [cal.order[i] for i in range(cal.pos, len(cal.order))]
            for k in rest:
                merged.copy_event(cal, k, cal.due[k])
            kept = [live[i] for i in range(n)]
            for k in kept:
                merged.copy_event(week, k, week.due[k])
            ids = vec[i64]([cal.ids[k] for k in rest] + [ids[k] for k in kept])
            live = vec[i64](list(range(merged.size())))
            week = merged
        week.put_in_order(ids, live)
        self._cal = week

    def peek(self) -> Any:
        """The time of the next event (simpy's ``peek``), over both parts of the queue."""
        cal, queue = self._cal, self._queue
        k = _first(cal, queue)
        if k >= 0:
            return cal.due[k]
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
        cal: _Events = self._cal
        queue: list[Any] = self._queue
        k = _first(cal, queue)
        child: Any = None
        version: i64 = 0
        if k >= 0:
            cal.pos += 1
            self._now = cal.due[k]
            fn = cal.fn[k]
            child = cal.child[k]
            if child is None:
                args = cal.args[k]
            else:
                version = cal.version[k]
                args = _NO_ARGS
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
            if child is None:
                fn(*args)
            else:
                fn(child, version)
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
        self._week_by_day = vec[i64]([bisect.bisect_left(self.week_ends, float(d)) for d in range(last + 1)])
        self._ends = vec[float](self.week_ends)  # the same, read natively by _week_of
        self._buckets: list[_Events | None] = [_Events() for _ in self.week_ends]
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
        than a day), instead of a binary search over the boxed week ends (ten list reads); both
        tables are vectors of C numbers (no boxed int or float read)."""
        ends = self._ends
        n = len(ends)
        table = self._week_by_day
        if not due < float(len(table)):  # after the last week (an infinite delay too)
            return n
        w: i64 = table[int(due) if due > 0.0 else 0]
        while w < n and ends[w] < due:
            w += 1
        return w

    def _bucket(self, w: int) -> _Events:
        """Week ``w``'s bucket (a later week: not yet opened), typed as the native class it is so
        that filing an event is a native call (through the list's ``_Events | None`` it was a
        Python method call with the day and version boxed)."""
        bucket = self._buckets[w]
        assert bucket is not None, "an event filed for a week already opened"
        return bucket

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
            self._bucket(w).add(due, fn, args, None, 0)

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
            self._bucket(w).add(due, fn, _NO_ARGS, child, version)

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
        bucket: _Events | None = self._buckets[w]
        self._buckets[w] = None
        if bucket is None:
            return
        env = self.env
        now: float = env._now
        eid: int = next(env._eid)  # the ids env.schedule would give, one after another
        live = vec[i64]()  # positions of the events still due (their placement unchanged)
        children, versions, dues = bucket.child, bucket.version, bucket.due
        for i in range(bucket.size()):
            child = children[i]
            if child is not None and child.version != versions[i]:
                continue
            due = dues[i]
            dues[i] = now + (due - now if due > now else 0.0)  # the time env.schedule computes
            live = append(live, i)
        n = len(live)
        env._eid = itertools.count(eid + n)
        self.dropped += bucket.size() - n
        self.events += n
        if n:
            env.add_week(bucket, live, eid)

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
        return sum(b.size() for b in self._buckets if b is not None)


__all__ = ["Clock"]
