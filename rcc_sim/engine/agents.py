"""The agents: foster households, homes, providers, local authorities - and children.

Agents hold state only; the processes in :mod:`rcc_sim.engine.processes` change it. Households,
homes, providers and LAs are ``mesa.Agent`` subclasses, so the model's ``agents_by_type`` gives
each population as an AgentSet. Children (:class:`rcc_sim.engine.child.Child`, re-exported here)
are the one population that is not registered with mesa: some 650,000 are created and removed in
a ten-year England run, and without registering them an England 2+2-year run took 29.3 s instead
of 33.4 s (same bits); the demand process holds them (``Demand.children``). Households and homes
derive from both ``mesa.Agent`` and :class:`rcc_sim.engine.unit.Unit`, which holds the state the
processes read and which the compiled engine compiles into a native class (an England 2+2-year
run 20.9 s -> 19.4 s, same bits). Hot aggregates
(counts by LA and type) are kept in the model's recorder rather than recomputed from agents.
"""

from __future__ import annotations

import mesa

from rcc_sim.engine.child import MILES_PER_DEG_LAT, Child
from rcc_sim.engine.unit import Unit


class FosterHousehold(Unit, mesa.Agent):
    def __init__(self, model, kind: int, **kw):
        mesa.Agent.__init__(self, model)
        Unit.__init__(self, **kw)
        self.ptype = kind  # KINSHIP, IN_HOUSE or IFA
        self.approved_t = model.t


class Home(Unit, mesa.Agent):
    """A children's home, a supported accommodation setting or a secure children's home."""

    def __init__(self, model, kind: int, **kw):
        mesa.Agent.__init__(self, model)
        Unit.__init__(self, **kw)
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
