"""Bookkeeping shared by all placement supply: opening, closing and filling units.

Fostering (:mod:`.fostering`) and provision (:mod:`.provision`) create and retire units through
these methods, so the live supply counters (carers, places, homes, occupancy) and the vacancy
pools are updated in exactly one place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, TypeVar

from mypy_extensions import mypyc_attr

from rcc_sim.engine.agents import FosterHousehold, Unit
from rcc_sim.engine.processes import Context, Process
from rcc_sim.engine.recorder import counter
from rcc_sim.engine.streams import Draws
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

if TYPE_CHECKING:
    from rcc_sim.engine.processes.placement import Placement

U = TypeVar("U", bound=Unit)  # a household or a home: open_unit returns what it was given

NP: Final = len(PLACEMENT_TYPES)
CARER_INDEX: Final = {
    IN_HOUSE: CARER_KINDS.index("in_house"),
    IFA: CARER_KINDS.index("ifa"),
    KINSHIP: CARER_KINDS.index("kinship"),
}
HOME_INDEX: Final = {
    LA_HOME: HOME_KINDS.index("la_home"),
    PRIVATE_HOME: HOME_KINDS.index("private_home"),
    SUPPORTED: HOME_KINDS.index("supported_accommodation"),
    SECURE: HOME_KINDS.index("secure"),
}
# the same by placement type, as lists (-1: not a carer / not a home), which the compiled engine
# indexes natively (a dictionary by hash lookup); read on every placement change
CARER_OF_PTYPE: Final = [CARER_INDEX.get(k, -1) for k in range(NP)]
HOME_OF_PTYPE: Final = [HOME_INDEX.get(k, -1) for k in range(NP)]


def binomial(draw: Draws, n: int, p: float) -> int:
    """Binomial draw for the small n of one unit's places (n uniforms from ``draw``)."""
    return sum(1 for _ in range(n) if draw.random() < p)


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # see rcc_sim.engine.compiled
class Supply(Process):
    """Opening, closing and filling units: the live supply counters and the vacancy pools."""

    name = "supply"
    needs = ("placement",)
    placement: Placement

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        self.usable = counter(NP)  # national usable places by placement type (for prices)
        self.filled = counter(NP)
        self.defer_draw = ctx.streams.draws("foster_leave_defer")
        self.kin_draw = ctx.streams.draws("kinship_homes")
        self.leave_defer_if_occupied = ctx.cfg.fostering.leave_defer_if_occupied
        self.kinship_outside_la_share = ctx.cfg.fostering.kinship_outside_la_share
        self.kinship_join_share = ctx.cfg.fostering.kinship_join_existing_share
        # kinship households caring for a child, by the LA whose children they care for
        self.kinship_homes: list[dict[int, FosterHousehold]] = [{} for _ in range(ctx.world.n_la)]
        live = ctx.rec.live
        self._carers, self._foster_places = live["carers"], live["foster_places"]
        self._homes, self._home_places = live["homes"], live["home_places"]
        self._foster_filled, self._home_filled = live["foster_places_filled"], live["home_places_filled"]
        self._deregistrations, self._closed = live["foster_deregistrations"], live["homes_closed"]
        self._nc, self._nh = len(CARER_KINDS), len(HOME_KINDS)
        # units opened or closed, or whose places changed, since the market-health accounts last
        # read them (MarketHealth.account_week takes them each week; a child placed or leaving is
        # accounted at once: MarketHealth.placed); only of the kinds it accounts (watch)
        self.touched: dict[int, Unit] = {}
        self.watched = [False] * NP

    def watch(self, kinds: tuple[int, ...]) -> None:
        """Keep in ``touched`` the units of ``kinds`` only (the market-health accounts' units: the
        households of kin and in-house carers, most of the units opened and closed, are not)."""
        self.watched = [k in kinds for k in range(NP)]

    def _touch(self, unit: Unit) -> None:
        if self.watched[unit.ptype]:
            self.touched[unit.unique_id] = unit

    # ------------------------------------------------------------------ counters
    def _count(self, unit: Unit, sign: float) -> None:
        kind = unit.ptype
        k = CARER_OF_PTYPE[kind]
        if k >= 0:
            i = unit.la * self._nc + k
            self._carers[i] = self._carers[i] + sign
            self._foster_places[i] = self._foster_places[i] + sign * unit.places
        else:
            i = unit.la * self._nh + HOME_OF_PTYPE[kind]
            self._homes[i] = self._homes[i] + sign
            self._home_places[i] = self._home_places[i] + sign * unit.places
        self.usable[kind] = self.usable[kind] + sign * unit.usable  # the long form: see Recorder
        self._touch(unit)

    def occupancy_changed(self, unit: Unit, sign: float) -> None:
        kind = unit.ptype
        k = CARER_OF_PTYPE[kind]
        if k >= 0:
            j = unit.la * self._nc + k
            self._foster_filled[j] = self._foster_filled[j] + sign
        else:
            j = unit.la * self._nh + HOME_OF_PTYPE[kind]
            self._home_filled[j] = self._home_filled[j] + sign
        self.filled[kind] = self.filled[kind] + sign  # the long form: see Recorder

    # ------------------------------------------------------------------ open / close
    def open_unit(self, unit: U) -> U:
        if unit.provider is not None:
            unit.provider.units[unit.unique_id] = unit
        self._count(unit, +1)
        self.placement.refresh(unit)
        return unit

    def close_unit(self, unit: Unit) -> None:
        """Close an empty unit for good."""
        assert not unit.children, "close_unit on an occupied unit"
        if not unit.open:
            return
        unit.open = False
        self.placement.refresh(unit)
        self._count(unit, -1)
        if unit.ptype == KINSHIP:
            self.kinship_homes[unit.owner_la].pop(unit.unique_id, None)
        if unit.provider is not None:
            unit.provider.units.pop(unit.unique_id, None)
        k = CARER_INDEX.get(unit.ptype)
        if k is not None:
            if unit.ptype != KINSHIP:
                j = unit.la * self._nc + k
                self._deregistrations[j] = self._deregistrations[j] + 1.0
        else:
            j = unit.la * self._nh + HOME_INDEX[unit.ptype]
            self._closed[j] = self._closed[j] + 1.0
        agent: Any = unit  # every unit is also a mesa agent (agents.py): mesa forgets it
        agent.remove()

    def retire(self, unit: Unit, reason: int, defer: bool) -> None:
        """A unit stops taking children. With ``defer`` it closes once its children have moved on
        or left care; otherwise its children are moved now (for ``reason``) and it closes."""
        if not unit.open or (unit.closing and defer):
            return
        unit.closing = True
        self.placement.refresh(unit)
        if not unit.children:
            self.close_unit(unit)
        elif not defer:
            for child in list(unit.children):
                self.placement.move(child, reason, None)
            if unit.open and not unit.children:
                self.close_unit(unit)

    def deregister(self, unit: Unit, voluntary: bool = True) -> None:
        """A foster household stops fostering (strain after a breakdown, or its own decision)."""
        defer = (not voluntary) or self.defer_draw.random() < self.leave_defer_if_occupied
        self.retire(unit, CARER_OTHER, defer)

    def fail(self, unit: Unit) -> None:
        """A home closes at once (provider failure, enforcement): children move."""
        self.retire(unit, PROVIDER_CLOSURE, defer=False)

    def add_places(self, unit: FosterHousehold, n: int) -> None:
        """A foster household approved for ``n`` more children, all usable (a kinship household
        taking in a relative's child, a carer with a new bedroom)."""
        j = unit.la * self._nc + CARER_INDEX[unit.ptype]
        self._foster_places[j] = self._foster_places[j] + n
        self.usable[unit.ptype] = self.usable[unit.ptype] + n
        unit.places += n
        unit.usable += n
        self._touch(unit)
        self.placement.refresh(unit)

    def add_registered_places(self, unit: Unit, n: int) -> None:
        """``n`` more registered places in a home, not open to new children (``usable`` unchanged):
        a secure home's places contracted to youth justice."""
        j = unit.la * self._nh + HOME_INDEX[unit.ptype]
        self._home_places[j] = self._home_places[j] + n
        unit.places += n
        self._touch(unit)

    def set_usable(self, unit: Unit, usable: int) -> None:
        """The places of ``unit`` open to new children become ``usable`` (0 to its places)."""
        usable = min(max(usable, 0), unit.places)
        self.usable[unit.ptype] = self.usable[unit.ptype] + (usable - unit.usable)
        unit.usable = usable
        self._touch(unit)
        self.placement.refresh(unit)

    # ------------------------------------------------------------------ kinship
    def kinship_household(self, la: int, room: int) -> FosterHousehold:
        """The kinship household for ``room`` children of ``la`` entering kinship care: at
        ``kinship_join_existing_share`` one of the LA's kinship households already caring for a
        child (chosen at random; its approval grows by ``room``), otherwise a newly approved one."""
        homes = self.kinship_homes[la]
        if homes and self.kinship_join_share > 0 and self.kin_draw.random() < self.kinship_join_share:
            units = list(homes.values())
            unit = units[min(int(self.kin_draw.random() * len(units)), len(units) - 1)]
            self.add_places(unit, room)
            return unit
        return self.new_kinship_household(la, room)

    def new_kinship_household(self, la: int, room: int) -> FosterHousehold:
        """A relative or friend of a child of ``la`` approved for ``room`` children: living in the
        LA, or at ``kinship_outside_la_share`` in one of the five nearest other LAs (ASSUMPTION: near)."""
        home = la
        if self.kinship_outside_la_share > 0 and self.kin_draw.random() < self.kinship_outside_la_share:
            home = self.world.nearby_la(la, self.kin_draw)
        lat, lon = self.world.random_point(home, self.kin_draw)
        unit = FosterHousehold(
            self.ctx.agents,
            KINSHIP,
            la=home,
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
        self.kinship_homes[la][unit.unique_id] = unit
        return self.open_unit(unit)


__all__ = ["Supply", "binomial"]
