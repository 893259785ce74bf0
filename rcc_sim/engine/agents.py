"""The agents: children, foster households, homes, providers, local authorities.

Agents hold state only; the processes in :mod:`rcc_sim.engine.processes` change it. All are
``mesa.Agent`` subclasses, so the model's ``agents_by_type`` gives each population as an
AgentSet. Hot aggregates (counts by LA and type) are kept in the model's recorder rather than
recomputed from agents.
"""

from __future__ import annotations

import math

import mesa

from rcc_sim.vocab import DAYS_PER_YEAR

MILES_PER_DEG_LAT = 69.09  # miles per degree of latitude (mean)


class Child(mesa.Agent):
    """A child in care. Created on entry, removed on exit: no record outlives the run's memory."""

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
        super().__init__(model)
        self.la = la  # index of the LA that looks after the child
        self.lat, self.lon = lat, lon  # home point
        self.kx = MILES_PER_DEG_LAT * math.cos(math.radians(lat))  # miles per degree of longitude here
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

    def age(self, t: float) -> float:
        return (t - self.birth_t) / DAYS_PER_YEAR


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
