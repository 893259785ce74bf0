"""The model: one simpy clock, one visible order of operations.

Time is continuous, in days from the base date (31 March of ``sim.start_year``). Events - a
child arriving, a placement ending, a carer approved, a home opening - happen when they are
due, each scheduled by the process that owns it on the model's clock
(:mod:`rcc_sim.engine.clock`). The last week of a statistical year ends on 31 March, so weekly
flows add up to DfE years.

Set-up (``CareSystemModel.__init__``), in order:

1. world: the LAs simulated in full, their points and distances; the LAs as agents;
2. the processes, each given the context, then wired to the collaborators it calls (``_wire``);
3. supply at the base date: foster households (fostering), homes, supported accommodation and
   secure homes (provision), and their providers;
4. the children in care at the base date, placed in order of time in care (demand);
5. the reference prices (market);
6. what was under way: applicants in assessment, homes in planning and registration;
7. the first year's arrivals, the first week's recruitment, and the weekly clock.

With a spin-up (``sim.spin_up_years``) the model starts that many years before the base date
(:mod:`rcc_sim.engine.spinup`); at the end of the spin-up's last week prices are re-referenced
(``market.rebase``) and the policy comes into force (``commissioning.start_policy``: its RCCs
and the reform package; without a spin-up, between set-up steps 6 and 7). A policy therefore
acts only from the base date, and every arm of a paired comparison reaches it in the same state:
``run_to_base`` and ``snapshot`` let one spin-up serve several arms (``from_snapshot``), with the
same bits as running each alone. (The week's recruitment drawn in the spin-up's last week is at
the rate without the package.)

The plan: at the end of each week the model runs these steps, in this order (``PLAN``; yearly
steps only in the week ending 31 March, quarterly ones every 13th week; steps 12-18 prepare
the next week and are skipped after the last one):

1. ``placement.retry_waiting`` (week): every waiting child is searched for again;
2. ``market.accrue_spend`` (week): spend accrued to the end of the week;
3. ``commissioning.accrue_costs`` (week): RCC set-up, running, void and funding flows;
4. ``model.check_invariants`` (week): recount everything (only with ``sim.check_invariants``);
5. ``recorder.record_week`` (week): the week's stocks and flows into the output arrays;
6. ``demand.census_31_march`` (year): 3+ placements, long-term stability, age at 31 March;
7. ``provision.fail_providers`` (year): providers fail; their homes close or pass on;
8. ``demand.schedule_next_year`` (year): next year's arrivals on the clock;
9. ``commissioning.sufficiency_plan`` (year): forecasts of next 31 March by every method, and
   forecasting RCCs' plans: recruitment, block contracts, specialist carers, homes;
10. ``market_health.account_week`` (week): providers' revenue, costs and places; prices paid by
    placement type and needs tier (reads only: draws nothing);
11. ``market_health.census_31_march`` (year): concentration of places (HHI, the 22 largest groups);
12. ``provision.respond_to_buyers`` (quarter): where an RCC is live, regional entry and spot prices
    respond to its share of the region's places and its block prices;
13. ``provision.youth_justice_demand`` (quarter): youth-justice children in each secure home;
    beyond its contracted places they take welfare beds;
14. ``provision.open_homes`` (quarter): providers decide where to open homes;
15. ``provision.open_supported`` (quarter): providers open supported accommodation settings;
16. ``provision.close_empty_homes`` (quarter): empty homes and settings may close;
17. ``market.update_prices`` (week): spot prices respond to occupancy;
18. ``fostering.recruit_week`` (week): next week's fostering enquiries and applications.

After a run, ``print(model.plan)`` shows these steps with their calls and seconds.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import gc
import itertools
import math
import pickle
import time
from collections.abc import Callable

import mesa
import numpy as np
import simpy

from rcc_sim.config import Config
from rcc_sim.engine import snapshot as snapshot_state
from rcc_sim.engine import spinup
from rcc_sim.engine.agents import AgentModel, FosterHousehold, Home, LocalAuthority, Provider, Unit
from rcc_sim.engine.clock import Clock
from rcc_sim.engine.commissioning import Commissioning
from rcc_sim.engine.memory import use_huge_pages
from rcc_sim.engine.plan import Plan, Step
from rcc_sim.engine.processes import Context
from rcc_sim.engine.processes.demand import Demand
from rcc_sim.engine.processes.fostering import Fostering
from rcc_sim.engine.processes.market import Market
from rcc_sim.engine.processes.market_health import MarketHealth
from rcc_sim.engine.processes.placement import LOCATED, Placement
from rcc_sim.engine.processes.provision import Provision
from rcc_sim.engine.processes.supply import Supply
from rcc_sim.engine.recorder import Recorder
from rcc_sim.engine.streams import Streams
from rcc_sim.engine.world import World, build_world
from rcc_sim.vocab import DAYS_PER_WEEK, PLACEMENT_TYPES, UNREGISTERED

# (cadence, phase, owner, step): the order of operations at the end of every week (see the docstring)
PLAN: tuple[tuple[str, str, str, str], ...] = (
    ("week", "end", "placement", "retry_waiting"),
    ("week", "end", "market", "accrue_spend"),
    ("week", "end", "commissioning", "accrue_costs"),
    ("week", "end", "model", "check_invariants"),
    ("week", "end", "recorder", "record_week"),
    ("year", "end", "demand", "census_31_march"),
    ("year", "end", "provision", "fail_providers"),
    ("year", "end", "demand", "schedule_next_year"),
    ("year", "end", "commissioning", "sufficiency_plan"),
    ("week", "end", "market_health", "account_week"),
    ("year", "end", "market_health", "census_31_march"),
    ("quarter", "next", "provision", "respond_to_buyers"),
    ("quarter", "next", "provision", "youth_justice_demand"),
    ("quarter", "next", "provision", "open_homes"),
    ("quarter", "next", "provision", "open_supported"),
    ("quarter", "next", "provision", "close_empty_homes"),
    ("week", "next", "market", "update_prices"),
    ("week", "next", "fostering", "recruit_week"),
)


def calendar(start_year: int, years: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Week-end days, their statistical year, and year-end days (31 March) from the base date."""
    base = dt.date(start_year, 3, 31)
    n_years = math.ceil(years)
    ends, stat_year, year_ends = [], [], []
    for k in range(n_years):
        y0 = (dt.date(start_year + k, 3, 31) - base).days
        y1 = (dt.date(start_year + k + 1, 3, 31) - base).days
        ends += [y0 + 7 * j for j in range(1, 52)] + [y1]
        stat_year += [start_year + k + 1] * 52
        year_ends.append(y1)
    n_weeks = max(1, int(round(years * 52)))
    n_full = n_weeks // 52
    return np.array(ends[:n_weeks], float), np.array(stat_year[:n_weeks]), np.array(year_ends[:n_full], float)


class CareSystemModel(AgentModel):
    """England's placement system (or a region of it), with each commissioner's rules from config."""

    def __init__(self, cfg: Config, world: World | None = None):
        # Models built earlier in this process and since dropped are webs of reference cycles
        # (model <-> processes <-> agents) that gc_paused leaves in the oldest generation, where a
        # full collection rarely comes: a worker running model after model grew by about 55 MB per
        # Greater Manchester year, 3 GB after a dozen pairs. Collect them before building this one.
        gc.collect()
        use_huge_pages()  # Python's objects on 2 MiB pages from here on (memory.py; same results)
        t0 = time.perf_counter()
        with gc_paused():
            self._set_up(cfg, world)
        self.setup_seconds = time.perf_counter() - t0

    def _set_up(self, cfg: Config, world: World | None) -> None:
        super().__init__(rng=cfg.seed)  # mesa's own generators are not used: see Streams
        self.cfg = cfg
        self.streams = Streams(cfg.seed)
        # 1. world, calendar, clock, recorder, the LAs
        self.world = world or build_world(cfg)
        w = self.world
        # with a spin-up the model starts sim.spin_up_years before the base date (spinup.py)
        self.spin_up_years = cfg.sim.spin_up_years
        self.base_week = 52 * self.spin_up_years
        self.week_ends, self.stat_year, self.year_ends = calendar(w.start_year, cfg.sim.years + self.spin_up_years)
        self.base_day = spinup.base_day(cfg)
        self.clock = Clock(self.week_ends.tolist(), self.base_day)
        self.env = self.clock.env
        # the spin-up's weeks are stored only if they are output (output.include_spin_up)
        first_week = 0 if cfg.output.include_spin_up else self.base_week
        self.rec = Recorder(w.n_la, len(self.week_ends), len(self.year_ends), first_week)
        self.las = [
            LocalAuthority(self, i, w.codes[i], w.names[i], w.regions[i], float(w.child_population[i]))
            for i in range(w.n_la)
        ]
        for la in self.las:
            la.provider = Provider(self, "la", False, la.index)
        # 2. the processes, each owning its parameters, streams and outputs; then their wiring
        run_cfg = spinup.supply_config(cfg, w.start_year)  # supply counts of the model's first day
        ctx = Context(cfg=run_cfg, world=w, clock=self.clock, streams=self.streams, rec=self.rec, agents=self)
        self.commissioning = Commissioning(ctx)
        self.market = Market(ctx)
        self.supply = Supply(ctx)
        self.placement = Placement(ctx)
        self.fostering = Fostering(ctx)
        self.provision = Provision(ctx)
        self.demand = Demand(ctx)
        self.market_health = MarketHealth(ctx)
        self._wire()
        # 3. supply at the base date
        self.fostering.build()
        self.provision.build()
        # 4. the children in care at the base date
        self.demand.build()
        # 5. reference prices
        self.market.build()
        self.rec.flow_reset()  # the base-date placements are not flows of week 1
        # 6. what was under way at the base date: carers in assessment, homes being registered
        self.fostering.pipeline()
        self.provision.pipeline()
        # the policy (RCCs, reform package) comes into force at the base date: now, or at the end of
        # the spin-up (_end_week)
        if self.base_week == 0:
            self.commissioning.start_policy()
        # 7. first year's arrivals, the first week's recruitment, and the clock
        self.demand.schedule_arrivals(0)
        self.fostering.recruit(self.week_ends[0])
        self.plan = self._plan()
        self._progress: Callable[[int, int, float], None] | None = None
        self._pause_at_base = False  # run_to_base: stop at the base date, before the policy starts
        self.paused_at_base = False
        self._open_week(0)
        self.plan.open_seconds = 0.0  # the first week opened with the set-up: counted there

    def _wire(self) -> None:
        """Each process gets, by name, the collaborators it calls: the model's one wiring diagram."""
        self.commissioning.bind(
            placement=self.placement,
            provision=self.provision,
            fostering=self.fostering,
            market=self.market,
            supply=self.supply,
            demand=self.demand,
        )
        self.market.bind(supply=self.supply, commissioning=self.commissioning)
        self.supply.bind(placement=self.placement)
        self.placement.bind(
            market=self.market, supply=self.supply, commissioning=self.commissioning, market_health=self.market_health
        )
        self.fostering.bind(supply=self.supply, market=self.market, commissioning=self.commissioning)
        self.provision.bind(supply=self.supply, market=self.market, commissioning=self.commissioning)
        self.market_health.bind(
            provision=self.provision,
            fostering=self.fostering,
            market=self.market,
            commissioning=self.commissioning,
            supply=self.supply,
        )
        self.demand.bind(placement=self.placement)

    def _plan(self) -> Plan:
        owners = {
            "model": self,
            "recorder": self,
            "placement": self.placement,
            "market": self.market,
            "commissioning": self.commissioning,
            "demand": self.demand,
            "provision": self.provision,
            "fostering": self.fostering,
            "market_health": self.market_health,
        }
        steps = []
        for cadence, phase, owner, name in PLAN:
            if owner == "model" and name == "check_invariants" and not self.cfg.sim.check_invariants:
                fn = _nothing
            elif owner == "recorder":
                fn = self._record_week
            else:
                fn = getattr(owners[owner], name)
            steps.append(Step(cadence, phase, owner, name, fn))
        return Plan(steps, len(self.week_ends))

    # ------------------------------------------------------------------ clock
    @property
    def t(self) -> float:
        return self.env.now

    def _open_week(self, w: int) -> None:
        """Week ``w`` begins: its events onto simpy's heap (the clock), and its end on the clock."""
        t0 = time.perf_counter()
        self.clock.open_week(w)
        self._week_t0 = time.perf_counter()
        self.plan.open_seconds += self._week_t0 - t0
        self.clock.call_at(self.week_ends[w], self._end_week, w)

    def _end_week(self, w: int) -> None:
        """The end of week ``w``: the plan's steps; at the base date (the end of a spin-up) prices
        are re-referenced and the policy comes into force; then the next week begins."""
        self.plan.event_seconds += time.perf_counter() - self._week_t0
        self.plan.run_week(w)
        if w + 1 == self.base_week:  # the end of the spin-up: the base date
            self.market.rebase()
            if self._pause_at_base:  # run_to_base: the state here is the same for every policy
                self.paused_at_base = True
                raise simpy.core.StopSimulation(None)
            self.commissioning.start_policy()
        self._next_week(w)

    def _next_week(self, w: int) -> None:
        if self._progress is not None:
            self._progress(w + 1, len(self.week_ends), float(self.week_ends[w]) - self.base_day)
        if w + 1 < len(self.week_ends):
            self._open_week(w + 1)

    def _record_week(self) -> None:
        self.rec.record_week(self.clock.week, self.clock.week_length())

    def run(self, progress: Callable[[int, int, float], None] | None = None) -> None:
        """Run to the end of the configured period (once). ``progress(weeks_done, n_weeks, day)``
        is called after each week (``day``: model day, 0 = the base date) if given."""
        self._progress = progress
        t0 = time.perf_counter()
        self._week_t0 = t0  # the events of the week under way are timed from here (not from the set-up)
        with gc_paused():
            if self.paused_at_base:  # continued from the base date (run_to_base, snapshot)
                self.paused_at_base = False
                self.commissioning.start_policy()
                self._next_week(self.base_week - 1)
            self.env.run(until=self.week_ends[-1] + 1e-9)
        self.plan.wall_seconds = time.perf_counter() - t0
        # Mesa 3.3 numbers agents from a class-level defaultdict keyed by the model
        # (``mesa.Agent._ids``), which keeps every model ever built alive: 0.3 GB per England
        # year, so a calibration worker grew to 11 GB. No agent is created after the run.
        mesa.Agent._ids.pop(self, None)

    # ------------------------------------------------------------------ one spin-up, several arms
    def run_to_base(self, progress: Callable[[int, int, float], None] | None = None) -> None:
        """Run the spin-up and stop at the base date, before the policy comes into force: a state
        every policy shares (the spin-up reads no part of ``policy``). Then :meth:`run` goes on
        under this model's policy, or :meth:`snapshot` keeps the state for other arms.
        ``progress`` as in :meth:`run`."""
        if self.base_week == 0:
            raise ValueError("run_to_base: this model has no spin-up (sim.spin_up_years = 0)")
        if self.env.now > 0 or self.paused_at_base:
            raise ValueError("run_to_base: the model has already run")
        self._pause_at_base = True
        self._progress = progress
        self._week_t0 = time.perf_counter()  # as in run
        try:
            with gc_paused():
                self.env.run(until=self.week_ends[-1] + 1e-9)
        finally:
            self._pause_at_base = False
        assert self.paused_at_base, "the spin-up ended without reaching the base date"

    def snapshot(self) -> bytes:
        """The whole state at the base date (after :meth:`run_to_base`), pickled: every agent,
        event on the clock, random stream and output so far, and mesa's agent counter."""
        if not self.paused_at_base:
            raise ValueError("snapshot: run_to_base first")
        next_id = next(mesa.Agent._ids[self])  # the next agent's id (then put back: same ids as without)
        mesa.Agent._ids[self] = itertools.count(next_id)
        progress, self._progress = self._progress, None
        try:
            with gc_paused():
                return snapshot_state.dumps((self, next_id))
        finally:
            self._progress = progress

    @classmethod
    def from_snapshot(cls, state: bytes, cfg: Config) -> CareSystemModel:
        """A model at the base date from :meth:`snapshot`, to go on under ``cfg``'s policy. ``cfg``
        must equal the snapshot's config in everything but ``policy`` (else ValueError: the
        spin-up would not have been this config's). :meth:`run` then gives the same bits as
        running ``cfg`` from the start."""
        with gc_paused():  # millions of objects: the collector would traverse them again and again
            model, next_id = pickle.loads(state)
        if not same_spin_up(cfg, model.cfg):
            raise ValueError("from_snapshot: the config differs from the snapshot's in more than 'policy'")
        mesa.Agent._ids[model] = itertools.count(next_id)
        model.cfg = cfg
        model.commissioning.ctx.cfg.policy = cfg.policy  # the processes' config (spin-up supply counts)
        return model

    @property
    def children(self):
        """The children in care now, in order of admission (``values()``; owned by the demand process)."""
        return self.demand.children

    # ------------------------------------------------------------------ invariants
    def check_invariants(self) -> None:
        """Recount everything from the agents and compare with the live counters; raise on any
        difference. Run at every weekly record when ``sim.check_invariants`` is set (tests)."""
        st = self.rec.stock
        n = self.world.n_la
        placements = np.zeros((n, len(PLACEMENT_TYPES)))
        where = {
            k: np.zeros(n)
            for k in (
                "located",
                "over_20_miles",
                "outside_la",
                "in_home_region",
                "no_lawful_placement",
                "high_cost",
                "complex_needs",
            )
        }
        high = self.cfg.market.high_cost_threshold_week
        region = self.world.regions
        for c in self.children.values():
            assert c.ptype >= 0, f"child {c.unique_id} in care with no placement"
            placements[c.la, c.ptype] += 1
            where["no_lawful_placement"][c.la] += c.ptype == UNREGISTERED and c.tier >= 3
            where["high_cost"][c.la] += c.price >= high
            where["complex_needs"][c.la] += c.tier >= 1
            if c.unit is not None:
                assert c in c.unit.children and c.unit.open, "child in a unit that does not hold it"
            if c.ptype in LOCATED:
                where["located"][c.la] += 1
                where["over_20_miles"][c.la] += c.miles > 20.0
                where["outside_la"][c.la] += c.unit is not None and c.unit.la != c.la
                where["in_home_region"][c.la] += c.unit is None or region[c.unit.la] == region[c.la]
        assert np.array_equal(placements, st["placements"]), "placement counters drifted"
        for name, recount in where.items():
            assert np.array_equal(recount, st[name]), f"{name} counter drifted"
        cic = st["children_in_care"]
        assert np.array_equal(cic, placements.sum(1)), "children in care != sum of placements"
        assert np.array_equal(cic, st["placed"] + st["waiting"]), "children in care != placed + waiting"
        assert np.array_equal(st["waiting"], placements[:, UNREGISTERED]), "waiting != unregistered"
        units: list[Unit] = [*self.agents_of(FosterHousehold), *self.agents_of(Home)]
        for unit in units:
            if unit.open:
                assert len(unit.children) <= unit.places, f"unit {unit.unique_id} over its approved/registered places"
                assert 0 <= unit.usable <= unit.places, f"unit {unit.unique_id} usable places out of range"
        self.placement.check_pools(units)
        spend = self.market.spend
        spend.accrue_all()
        open_cost = sum(c.price * (self.t - c.placed_t) / DAYS_PER_WEEK for c in self.children.values())
        spent = self.rec.flow["spend"].sum() + self.rec.out["spend"].sum() + self.rec.unkept["spend"]
        assert math.isclose(spent, spend.paid + open_cost, rel_tol=1e-9, abs_tol=1e-6), (
            f"spend {spent} != prices paid {spend.paid + open_cost}"
        )


def same_spin_up(a: Config, b: Config) -> bool:
    """Whether two configs have the same spin-up: equal in everything but ``policy``."""
    return dataclasses.replace(a, policy=b.policy) == b


def _nothing() -> None:
    """A step switched off by config."""


@contextlib.contextmanager
def gc_paused():
    """Pause Python's cyclic garbage collector. The model allocates millions of short-lived
    acyclic objects (events, children) whose repeated scanning by the collector doubled the run
    time; reference counting frees them, and the few cycles (child <-> unit) are broken when a
    child leaves a placement. On the way out, every object that survived is moved straight to
    the oldest generation (``gc.freeze`` then ``gc.unfreeze``: a list splice) instead of being
    traversed by the next young-generation collection, which took 0.6 s after an England set-up;
    they are still collected by the next full collection."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.unfreeze()
        if was_enabled:
            gc.enable()
