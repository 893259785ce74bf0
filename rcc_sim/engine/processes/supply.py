"""Bookkeeping shared by all placement supply: opening, closing and filling units.

Fostering (:mod:`.fostering`) and provision (:mod:`.provision`) create and retire units through
these methods, so the live supply counters (carers, places, homes, occupancy) and the vacancy
pools are updated in exactly one place.
"""

from __future__ import annotations

import numpy as np

from rcc_sim.engine.agents import FosterHousehold, Unit
from rcc_sim.vocab import (
    CARER_KINDS,
    CARER_OTHER,
    HOME_KINDS,
    IFA,
    IN_HOUSE,
    KINSHIP,
    LA_HOME,
    PLACEMENT_TYPES,
    PRIVATE_HOME,
    PROVIDER_CLOSURE,
    SECURE,
    SUPPORTED,
)

CARER_INDEX = {
    IN_HOUSE: CARER_KINDS.index("in_house"),
    IFA: CARER_KINDS.index("ifa"),
    KINSHIP: CARER_KINDS.index("kinship"),
}
HOME_INDEX = {
    LA_HOME: HOME_KINDS.index("la_home"),
    PRIVATE_HOME: HOME_KINDS.index("private_home"),
    SUPPORTED: HOME_KINDS.index("supported_accommodation"),
    SECURE: HOME_KINDS.index("secure"),
}


def binomial(rng: np.random.Generator, n: int, p: float) -> int:
    """Binomial draw for the small n of one unit's places (faster than numpy's for one value)."""
    return sum(1 for _ in range(n) if rng.random() < p)


class Supply:
    def __init__(self, model):
        self.m = model
        n = len(PLACEMENT_TYPES)
        self.usable = np.zeros(n)  # national usable places by placement type (for prices)
        self.filled = np.zeros(n)

    # ------------------------------------------------------------------ counters
    def _count(self, unit: Unit, sign: int) -> None:
        st = self.m.rec.stock
        if isinstance(unit, FosterHousehold):
            k = CARER_INDEX[unit.ptype]
            st["carers"][unit.la, k] += sign
            st["foster_places"][unit.la, k] += sign * unit.places
        else:
            k = HOME_INDEX[unit.ptype]
            st["homes"][unit.la, k] += sign
            st["home_places"][unit.la, k] += sign * unit.places
        self.usable[unit.ptype] += sign * unit.usable

    def occupancy_changed(self, unit: Unit, sign: int) -> None:
        st = self.m.rec.stock
        if isinstance(unit, FosterHousehold):
            st["foster_places_filled"][unit.la, CARER_INDEX[unit.ptype]] += sign
        else:
            st["home_places_filled"][unit.la, HOME_INDEX[unit.ptype]] += sign
        self.filled[unit.ptype] += sign

    # ------------------------------------------------------------------ open / close
    def open_unit(self, unit: Unit) -> Unit:
        if unit.provider is not None:
            unit.provider.units[unit.unique_id] = unit
        self._count(unit, +1)
        self.m.placement.refresh(unit)
        return unit

    def close_unit(self, unit: Unit) -> None:
        """Close an empty unit for good."""
        assert not unit.children, "close_unit on an occupied unit"
        if not unit.open:
            return
        unit.open = False
        self.m.placement.refresh(unit)
        self._count(unit, -1)
        if unit.provider is not None:
            unit.provider.units.pop(unit.unique_id, None)
        rec = self.m.rec
        if isinstance(unit, FosterHousehold):
            if unit.ptype != KINSHIP:
                rec.flow["foster_deregistrations"][unit.la, CARER_INDEX[unit.ptype]] += 1
        else:
            rec.flow["homes_closed"][unit.la, HOME_INDEX[unit.ptype]] += 1
        unit.remove()

    def retire(self, unit: Unit, reason: int, defer: bool) -> None:
        """A unit stops taking children. With ``defer`` it closes once its children have moved on
        or left care; otherwise its children are moved now (for ``reason``) and it closes."""
        if not unit.open or (unit.closing and defer):
            return
        unit.closing = True
        self.m.placement.refresh(unit)
        if not unit.children:
            self.close_unit(unit)
        elif not defer:
            for child in list(unit.children):
                self.m.placement.move(child, reason, None)
            if unit.open and not unit.children:
                self.close_unit(unit)

    def deregister(self, unit: Unit, voluntary: bool = True) -> None:
        """A foster household stops fostering (strain after a breakdown, or its own decision)."""
        defer = (not voluntary) or self.m.fostering.defer_rng.random() < self.m.cfg.fostering.leave_defer_if_occupied
        self.retire(unit, CARER_OTHER, defer)

    def fail(self, unit: Unit) -> None:
        """A home closes at once (provider failure, enforcement): children move."""
        self.retire(unit, PROVIDER_CLOSURE, defer=False)

    # ------------------------------------------------------------------ kinship
    def new_kinship_household(self, la: int, room: int) -> FosterHousehold:
        lat, lon = self.m.world.random_point(la, self.m.fostering.kin_rng)
        unit = FosterHousehold(
            self.m,
            KINSHIP,
            la=la,
            lat=float(lat),
            lon=float(lon),
            places=room,
            usable=room,
            max_tier=3,
            provider=None,
            owner_la=la,
            price_factor=1.0,
        )
        unit.closing = True  # approved for these children only; closes when they leave
        return self.open_unit(unit)


__all__ = ["Supply", "binomial"]
