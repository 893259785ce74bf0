"""A unit: something with places a child can live in (a foster household or a home).

The state every process reads of a household or a home, as a class of its own so that the
compiled engine (:mod:`rcc_sim.engine.compiled`) compiles it into a native class: the placement
search, the vacancy pools and the market's accounts read a unit's fields as struct fields rather
than through an instance dictionary. The agents themselves (:class:`rcc_sim.engine.agents.FosterHousehold`,
:class:`~rcc_sim.engine.agents.Home`) derive from this class *and* ``mesa.Agent``: mesa registers
them and gives them their ids, and ``agents_by_type`` lists them, as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mypy_extensions import mypyc_attr

from rcc_sim.engine.compiled import full_state, set_state

if TYPE_CHECKING:
    from rcc_sim.engine.agents import Provider
    from rcc_sim.engine.child import Child


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # see rcc_sim.engine.compiled
class Unit:
    """Something with places a child can live in: a foster household or a home."""

    unique_id: int  # given by mesa.Agent.__init__ (the agents derive from both)
    ptype: int  # the placement type a child placed here is in

    def __init__(
        self,
        la: int,
        lat: float,
        lon: float,
        places: int,
        usable: int,
        max_tier: int,
        provider: Provider | None,
        owner_la: int,
        price_factor: float,
    ):
        self.la = la  # LA the unit is located in
        self.lat, self.lon = lat, lon
        self.places = places  # registered/approved places
        self.usable = usable  # places open to new children (<= places)
        self.max_tier = max_tier  # highest needs tier it is equipped for
        self.provider = provider
        self.owner_la = owner_la  # LA running it (in-house carer, LA home), -1 if external
        self.price_factor = price_factor  # this unit's price relative to the market average
        self.children: list[Child] = []
        self.open = True
        self.closing = False  # no new placements; closes when empty
        self.reserved_for = -1  # RCC whose members alone may use it (block contract, RCC-run), -1 = none
        # its place in its LA's vacancy pool / stretch pool, -1 if not in it (kept by the placement
        # process's _pool_add and _pool_drop, the only code that changes the pools: Pool)
        self.pool_slot = -1
        self.stretch_slot = -1
        self.sector = -1  # market-health sector once known (MarketHealth._sector), -1 before
        self.provider_kind = -1  # its provider as DfE records it, once known (placement.provider_index), -1 before

    @property
    def spare(self) -> int:
        """Approved/registered places without a child, whether or not normally open to one."""
        if not self.open or self.closing:
            return 0
        return self.places - len(self.children)

    @property
    def vacancies(self) -> int:
        if not self.open or self.closing:
            return 0
        return self.usable - len(self.children)

    def __getstate__(self) -> dict[str, Any]:
        return full_state(self)

    def __setstate__(self, state: dict[str, Any]) -> None:
        set_state(self, state)


__all__ = ["Unit"]
