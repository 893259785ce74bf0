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

The model registers its agents as mesa does, but keeps mesa's AgentSets up to date only when they
are read (:class:`AgentModel`): some 100,000 households and homes are created and as many closed in
a default England run, each registration and removal a weak reference made or dropped in two
AgentSets (weak-keyed dictionaries).
"""

from __future__ import annotations

from typing import Any, TypeVar

import mesa
from mesa.agent import AgentSet

from rcc_sim.engine.child import MILES_PER_DEG_LAT, Child
from rcc_sim.engine.unit import Unit

A = TypeVar("A", bound=mesa.Agent)


class AgentModel(mesa.Model):
    """mesa's ``Model`` whose AgentSets are brought up to date when they are read.

    mesa 3.3 registers an agent in three places: a dictionary of hard references (``_agents``) and
    two AgentSets - the agent's type's and all agents' -, each a ``WeakKeyDictionary`` (a weak
    reference made, with a callback, per agent per set). Here an agent goes into ``_agents`` and
    a plain dictionary of its type (hard references, in order of registration), and a type's
    AgentSet - and the set of all agents - is rebuilt from them when ``agents_by_type``,
    ``agents`` or ``agent_types`` is next read after a change: the same agents in the same order
    as mesa's own sets, but each registration and removal costs two dictionary writes (creating
    a household 3.9 -> 3.3 us, closing it 1.46 -> 0.77 us, 100,000 each with the collector off;
    about 1% of a default England run; same bits). The sets read are snapshots: one kept across a
    registration does not see it (read ``agents_by_type`` again). The engine reads its units by
    type with :meth:`agents_of` (a list, no AgentSet made).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._of_type: dict[type, dict[mesa.Agent, None]] = {}  # by type, in order of registration
        self._changed: set[type] = set()  # types whose AgentSet is behind _of_type

    def register_agent(self, agent: mesa.Agent) -> None:
        self._agents[agent] = None
        kind = type(agent)
        of_type = self._of_type.get(kind)
        if of_type is None:
            of_type = self._of_type[kind] = {}
        of_type[agent] = None
        self._changed.add(kind)

    def deregister_agent(self, agent: mesa.Agent) -> None:
        del self._agents[agent]
        kind = type(agent)
        del self._of_type[kind][agent]
        self._changed.add(kind)

    def agents_of(self, kind: type[A]) -> list[A]:
        """The agents of exactly type ``kind``, in order of registration (a new list)."""
        return list(self._of_type.get(kind, ()))

    def _sync(self) -> None:
        """Bring mesa's AgentSets up to date with the registry (see the class docstring)."""
        if not self._changed:
            return
        for kind, of_type in self._of_type.items():  # types in order of first registration, as mesa
            if kind in self._changed:
                self._agents_by_type[kind] = AgentSet(of_type, random=self.random)
        self._all_agents = AgentSet(self._agents, random=self.random)
        self._changed.clear()

    @property
    def agents(self) -> AgentSet:
        self._sync()
        return self._all_agents

    @agents.setter
    def agents(self, agents: Any) -> None:
        mesa.Model.agents.fset(self, agents)  # mesa's: raises

    @property
    def agent_types(self) -> list[type]:
        self._sync()
        return list(self._agents_by_type.keys())

    @property
    def agents_by_type(self) -> dict[type[mesa.Agent], AgentSet]:
        self._sync()
        return self._agents_by_type


class UnitAgent(Unit, mesa.Agent):
    """A unit that is also a mesa agent: registered with the model, which gives it its id. The
    base of :class:`FosterHousehold` and :class:`Home`, which differ only in their kinds."""

    def __init__(
        self,
        model,
        kind: int,
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
        mesa.Agent.__init__(self, model)
        # positionally: the compiled Unit.__init__ binds keywords from an interpreted caller at
        # about four times the cost (0.77 against 0.17 us)
        Unit.__init__(self, la, lat, lon, places, usable, max_tier, provider, owner_la, price_factor)
        self.ptype = kind


class FosterHousehold(UnitAgent):
    """A foster household: KINSHIP, IN_HOUSE or IFA."""


class Home(UnitAgent):
    """A children's home, a supported accommodation setting or a secure children's home: LA_HOME,
    PRIVATE_HOME, SUPPORTED or SECURE."""


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


__all__ = [
    "MILES_PER_DEG_LAT",
    "AgentModel",
    "Child",
    "FosterHousehold",
    "Home",
    "LocalAuthority",
    "Provider",
    "Unit",
    "UnitAgent",
]
