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

    def age(self, t: float) -> float:
        return (t - self.birth_t) / DAYS_PER_YEAR


__all__ = ["MILES_PER_DEG_LAT", "Child"]
