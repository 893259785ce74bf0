"""The agents: foster households, homes, providers, local authorities - and children.

Agents hold state only; the processes in :mod:`rcc_sim.engine.processes` change it. Households,
homes, providers and LAs are ``mesa.Agent`` subclasses, so the model's ``agents_by_type`` gives
each population as an AgentSet. Children (:class:`rcc_sim.engine.child.Child`, re-exported here)
are the one population that is not registered with mesa: some 650,000 are created and removed in
a ten-year England run, and without registering them an England 2+2-year run took 29.3 s instead
of 33.4 s (same bits); the demand process holds them (``Demand.children``). Hot aggregates
(counts by LA and type) are kept in the model's recorder rather than recomputed from agents.
"""

from __future__ import annotations

import mesa

from rcc_sim.engine.child import MILES_PER_DEG_LAT, Child


class Unit(mesa.Agent):
    """Something with places a child can live in: a foster household or a home."""

    ptype: int  # the placement type a child placed here is in

    def __init__(
        self,
        model,
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
        super().__init__(model)
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


class FosterHousehold(Unit):
    def __init__(self, model, kind: int, **kw):
        super().__init__(model, **kw)
        self.ptype = kind  # KINSHIP, IN_HOUSE or IFA
        self.approved_t = model.t


class Home(Unit):
    """A children's home, a supported accommodation setting or a secure children's home."""

    def __init__(self, model, kind: int, **kw):
        super().__init__(model, **kw)
        self.ptype = kind  # LA_HOME, PRIVATE_HOME, SUPPORTED or SECURE


class Provider(mesa.Agent):
    """An organisation running homes or foster households: an LA, a private or voluntary provider."""

    def __init__(self, model, kind: str, large: bool, home_la: int):
        super().__init__(model)
        self.kind = kind  # "la", "private", "voluntary", "ifa"
        self.large = large
        self.home_la = home_la
        self.units: dict[int, Unit] = {}
        self.failed = False


class LocalAuthority(mesa.Agent):
    """A children's services authority: looks after its children and commissions their placements."""

    def __init__(self, model, index: int, code: str, name: str, region: str, child_population: float):
        super().__init__(model)
        self.index, self.code, self.name, self.region = index, code, name, region
        self.child_population = child_population
        self.provider: Provider | None = None  # its in-house fostering service and homes


__all__ = ["MILES_PER_DEG_LAT", "Child", "FosterHousehold", "Home", "LocalAuthority", "Provider", "Unit"]
