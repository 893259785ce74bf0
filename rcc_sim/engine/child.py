"""A child in care: the model's most numerous agent, and the one the engine touches most.

A plain class, not a ``mesa.Agent``: the model creates and drops some 650,000 children in a
ten-year England run, and mesa's registration and removal (about 5 microseconds a child, a
third of it formatting a debug message) cost more than everything else a child's arrival does.
Its own module so that the compiled engine (:mod:`rcc_sim.engine.compiled`) can compile it into
a native class, whose attributes the compiled processes read as struct fields; the households
and homes it lives in stay ``mesa.Agent`` subclasses (:mod:`rcc_sim.engine.agents`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Final

import mesa
from mypy_extensions import mypyc_attr

from rcc_sim.vocab import DAYS_PER_YEAR, RADIANS_PER_DEGREE

if TYPE_CHECKING:
    from rcc_sim.engine.unit import Unit

MILES_PER_DEG_LAT: Final = 69.09  # miles per degree of latitude (mean)


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # see rcc_sim.engine.compiled
class Child:
    """A child in care. Created on entry, dropped on exit: no record outlives the run's memory.

    Its ``unique_id`` is the next of the mesa model's agent ids, as a registered agent's would be,
    so ids (and every order that sorts by them) are those of a model whose children are agents."""

    def __init__(
        self,
        model,
        la: int,
        lat: float,
        lon: float,
        birth_t: float,
        entry_t: float,
        male: bool,
        tier: int,
        uasc: bool,
        group: int,
        exit_t: float,
        route: int,
    ):
        self.unique_id: int = next(mesa.Agent._ids[model])
        self.la = la  # index of the LA that looks after the child
        self.lat, self.lon = lat, lon  # home point
        self.kx = MILES_PER_DEG_LAT * math.cos(lat * RADIANS_PER_DEGREE)  # miles per degree of longitude here
        self.birth_t = birth_t  # model day of birth (negative before the base date)
        self.entry_t = entry_t
        self.male, self.tier, self.uasc, self.group = male, tier, uasc, group
        self.exit_t = exit_t  # planned day of leaving care
        self.route = route  # planned exit route (index into EXIT_ROUTES) or -1 = at 18
        self.unit: Unit | None = None  # the foster household or home, if any
        self.ptype = -1  # placement type index (PLACEMENT_TYPES), -1 = none yet
        self.price = 0.0  # GBP per week of the current placement
        self.cofunded = 0.0  # GBP per week of it paid by health (RCC co-commissioning)
        self.placed_t = entry_t
        self.same_placement_since = entry_t  # start of the current placement, ignoring holding moves
        self.wait_since = -1.0  # day the current wait started, -1 if not waiting
        self.miles = -1.0  # distance of the current placement from home, -1 if unknown
        self.placements_this_year = 0
        self.moves = 0
        self.supported_first = False  # care plan at 16-17: supported accommodation before fostering
        self.u_18 = 0.5  # own uniform deciding the route of leaving care at 18
        self.secure_need = 0  # counts the child's secure-welfare needs (stale need endings check it)
        self.bespoke = False  # needs a bespoke package in a children's home (market.bespoke_share)
        self.version = 0  # bumped on every placement change; stale scheduled events check it
        self.census_state = -1  # (age band, placement class) at the last 31 March, -1 if not counted (sufficiency.py)
        self.in_care = False  # in the demand process's children (from admission to exit)
        self.slot = -1  # its place in the demand process's InCare while in care, -1 otherwise

    def age(self, t: float) -> float:
        return (t - self.birth_t) / DAYS_PER_YEAR


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # see rcc_sim.engine.compiled
class InCare:
    """The children in care, in order of admission (``Demand.children``): what a dictionary by
    id held, without boxing and hashing the child's id into an 85,000-entry table at every
    admission and exit (2% of the years after the base date, 2026-12-07).

    A list with a hole where a child left (``Child.slot``: its position); when holes outnumber
    the children the list is closed up, in order. ``values()`` lists the children in order of
    admission, as the dictionary's ``values()`` did."""

    def __init__(self) -> None:
        self._slots: list[Child | None] = []
        self._n = 0

    def add(self, child: Child) -> None:
        if child.slot >= 0:
            raise ValueError(f"child {child.unique_id} is in care already")
        child.slot = len(self._slots)
        self._slots.append(child)
        self._n += 1

    def remove(self, child: Child) -> None:
        slot = child.slot
        if slot < 0 or self._slots[slot] is not child:
            raise ValueError(f"child {child.unique_id} is not in care")
        self._slots[slot] = None
        child.slot = -1
        self._n -= 1
        if len(self._slots) > 2 * self._n + 1024:
            self._close_up()

    def _close_up(self) -> None:
        kept: list[Child | None] = []
        for c in self._slots:
            if c is not None:
                c.slot = len(kept)
                kept.append(c)
        self._slots = kept

    def values(self) -> list[Child]:
        """The children in care, in order of admission (a new list)."""
        return [c for c in self._slots if c is not None]

    def __len__(self) -> int:
        return self._n


__all__ = ["MILES_PER_DEG_LAT", "Child", "InCare"]
