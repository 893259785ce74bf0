"""The model: one simpy clock, one visible order of operations.

Time is continuous, in days from the base date (31 March of ``sim.start_year``). Events - a
child arriving, a placement ending, a carer approved, a home opening - happen when they are
due, each scheduled by the process that owns it. Metrics are recorded at the end of each week;
the last week of a statistical year ends on 31 March, so weekly flows add up to DfE years.

Set-up (``CareSystemModel.__init__``), in order:

1. world: the LAs simulated in full, their points and distances;
2. supply at the base date: foster households (fostering), homes, supported accommodation and
   secure homes (provision), and their providers;
3. the children in care at the base date, placed in order of time in care (longest first);
4. what was under way: applicants in assessment, homes in planning and registration;
5. the first year's arrivals, and the weekly clock.

Each week, at its end (``CareSystemModel._week_end``):

1. waiting children are searched for again (placement);
2. spend is accrued and the week is recorded (metrics);
3. on 31 March: the annual measures, the next year's arrivals, provider failures;
4. each quarter: providers plan new homes; empty homes may close (provision);
5. spot prices respond to occupancy (market);
6. next week's fostering enquiries and applications (fostering).
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import gc
import math
from collections import namedtuple
from collections.abc import Callable

import mesa
import numpy as np
import simpy

from rcc_sim.config import Config
from rcc_sim.engine.agents import Child, LocalAuthority, Provider
from rcc_sim.engine.commissioning import Commissioning
from rcc_sim.engine.processes.demand import AT_18, FIELDS, Demand
from rcc_sim.engine.processes.fostering import Fostering
from rcc_sim.engine.processes.market import Accounts, Market
from rcc_sim.engine.processes.placement import Placement
from rcc_sim.engine.processes.provision import Provision
from rcc_sim.engine.processes.supply import Supply
from rcc_sim.engine.recorder import Recorder
from rcc_sim.engine.streams import Streams
from rcc_sim.engine.world import World, build_world
from rcc_sim.vocab import (
    ADOPTION,
    AGE_BAND_EDGES,
    CARE_PLAN,
    DAYS_PER_YEAR,
    EXIT_ROUTES,
    FOSTER_TYPES,
    OTHER_SETTING,
    WITH_PARENTS,
)

STAYING_PUT = EXIT_ROUTES.index("staying_put")
INDEPENDENT = EXIT_ROUTES.index("independent_living")
OTHER_EXIT = EXIT_ROUTES.index("other")
ADOPTED = EXIT_ROUTES.index("adopted")
RETURNED_HOME = EXIT_ROUTES.index("returned_home")


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


class CareSystemModel(mesa.Model):
    """England's placement system (or a region of it), with each commissioner's rules from config."""

    def __init__(self, cfg: Config, world: World | None = None):
        with gc_paused():
            self._set_up(cfg, world)

    def _set_up(self, cfg: Config, world: World | None) -> None:
        super().__init__(rng=cfg.seed)  # mesa's own generators are not used: see Streams
        self.cfg = cfg
        self.env = simpy.Environment()
        self.streams = Streams(cfg.seed)
        self.world = world or build_world(cfg)
        self.week_ends, self.stat_year, self.year_ends = calendar(cfg.sim.start_year, cfg.sim.years)
        n = self.world.n_la
        self.rec = Recorder(n, len(self.week_ends), len(self.year_ends))
        self.children: dict[int, Child] = {}
        w = self.world
        self.las = [
            LocalAuthority(self, i, w.codes[i], w.names[i], w.regions[i], float(w.child_population[i]))
            for i in range(n)
        ]
        for la in self.las:
            la.provider = Provider(self, "la", False, la.index)
        # processes, each owning its parameters, streams and metrics
        self.commissioning = Commissioning(self)
        self.market = Market(self)
        self.accounts = Accounts(self, n, "spend")
        self.cofunded = Accounts(self, n, "spend_cofunded")
        self.supply = Supply(self)
        self.placement = Placement(self)
        self.fostering = Fostering(self)
        self.provision = Provision(self)
        self.demand = Demand(cfg, w, self.streams)
        self.exit_rng = self.streams("exit_routes")
        # 2. supply at the base date
        self.fostering.build()
        self.provision.build()
        # 3. the children in care at the base date
        self._admit(self.demand.initial_stock(), initial=True)
        for child in self.children.values():  # ASSUMPTION: a base-date placement began halfway through the time in care
            child.same_placement_since = child.entry_t / 2.0
        self.market.set_reference(self.supply.usable, self.supply.filled)
        for arr in self.rec.flow.values():  # the base-date placements are not flows of week 1
            arr[:] = 0.0
        self.commissioning.start()
        # 4. what was under way at the base date: carers in assessment, homes being registered
        self.fostering.recruit(4 * cfg.fostering.assessment_days, pipeline=True)
        self.provision.plan_openings(cfg.provision.lead_time_days * 2, pipeline=True)
        # 5. first year's arrivals and the clock
        self._schedule_arrivals(0)
        self.fostering.recruit(self.week_ends[0])
        self._week = 0
        self.env.process(self._clock())

    # ------------------------------------------------------------------ clock
    @property
    def t(self) -> float:
        return self.env.now

    def schedule(self, delay: float, fn, *args) -> None:
        """Call ``fn(*args)`` after ``delay`` days."""
        ev = simpy.Timeout(self.env, delay if delay > 0.0 else 0.0)
        ev.callbacks.append(lambda _ev: fn(*args))

    def _clock(self):
        for w, t_end in enumerate(self.week_ends):
            self._release_arrivals(t_end)
            yield self.env.timeout(t_end - self.env.now)
            self._week_end(w)
            if self._progress is not None:
                self._progress(w + 1, len(self.week_ends), float(t_end))

    def _week_end(self, w: int) -> None:
        t = self.t
        self.placement.retry_waiting()
        self.accounts.accrue_all()
        self.cofunded.accrue_all()
        self.commissioning.week(t - (self.week_ends[w - 1] if w else 0.0))
        if self.cfg.sim.check_invariants:
            self.check_invariants()
        self.rec.record_week(w)
        year_end = (w + 1) % 52 == 0
        if year_end and (w + 1) // 52 <= len(self.year_ends):
            self._year_end((w + 1) // 52 - 1)
        if w + 1 >= len(self.week_ends):
            return
        days = self.week_ends[w + 1] - t
        if (w + 1) % 13 == 0:
            self.provision.plan_openings(91.0)
            self.provision.close_empty(91.0)
        self.market.update(self.supply.usable, self.supply.filled)
        self.fostering.recruit(days)

    def check_invariants(self) -> None:
        """Recount everything from the agents and compare with the live counters; raise on any
        difference. Run at every weekly record when ``sim.check_invariants`` is set (tests)."""
        from rcc_sim.engine.agents import FosterHousehold, Home
        from rcc_sim.vocab import PLACEMENT_TYPES, UNREGISTERED

        st = self.rec.stock
        n = self.world.n_la
        placements = np.zeros((n, len(PLACEMENT_TYPES)))
        for c in self.children.values():
            assert c.ptype >= 0, f"child {c.unique_id} in care with no placement"
            placements[c.la, c.ptype] += 1
            if c.unit is not None:
                assert c in c.unit.children and c.unit.open, "child in a unit that does not hold it"
        assert np.array_equal(placements, st["placements"]), "placement counters drifted"
        cic = st["children_in_care"]
        assert np.array_equal(cic, placements.sum(1)), "children in care != sum of placements"
        assert np.array_equal(cic, st["placed"] + st["waiting"]), "children in care != placed + waiting"
        assert np.array_equal(st["waiting"], placements[:, UNREGISTERED]), "waiting != unregistered"
        for unit in list(self.agents_by_type.get(FosterHousehold, [])) + list(self.agents_by_type.get(Home, [])):
            if unit.open:
                assert len(unit.children) <= unit.places, f"unit {unit.unique_id} over its approved/registered places"
                assert 0 <= unit.usable <= unit.places, f"unit {unit.unique_id} usable places out of range"
        self.accounts.accrue_all()
        open_cost = sum(c.price * (self.t - c.placed_t) / 7.0 for c in self.children.values())
        spent = self.rec.flow["spend"].sum() + self.rec.out["spend"].sum()
        assert math.isclose(spent, self.accounts.paid + open_cost, rel_tol=1e-9, abs_tol=1e-6), (
            f"spend {spent} != prices paid {self.accounts.paid + open_cost}"
        )

    def _year_end(self, y: int) -> None:
        ann = self.rec.annual
        ann["children_in_care_31mar"][y] = self.rec.stock["children_in_care"]
        three = ann["three_plus_placements"][y]
        by_age = ann["children_in_care_by_age_31mar"][y]
        stable, eligible = ann["long_term_stable"][y], ann["long_term_eligible"][y]
        t, edges = self.t, AGE_BAND_EDGES[1:-1]
        for child in self.children.values():
            if child.placements_this_year >= 3:
                three[child.la] += 1
            if child.age(t) < 16.0 and t - child.entry_t >= 2.5 * DAYS_PER_YEAR:
                eligible[child.la] += 1
                if t - child.same_placement_since >= 2 * DAYS_PER_YEAR:
                    stable[child.la] += 1
            child.placements_this_year = 1
            by_age[child.la, bisect.bisect_right(edges, child.age(t))] += 1
        self.provision.provider_failures(365.0)
        self.commissioning.year(y)
        if y + 1 < math.ceil(self.cfg.sim.years):
            self._schedule_arrivals(y + 1)

    def run(self, progress: Callable[[int, int, float], None] | None = None) -> None:
        """Run to the end of the configured period (once). ``progress(weeks_done, n_weeks, day)``
        is called after each week (``day``: model day, 0 = the base date) if given."""
        self._progress = progress
        with gc_paused():
            self.env.run(until=self.week_ends[-1] + 1e-9)
        # Mesa 3.3 numbers agents from a class-level defaultdict keyed by the model
        # (``mesa.Agent._ids``), which keeps every model ever built alive: 0.3 GB per England
        # year, so a calibration worker grew to 11 GB. No agent is created after the run.
        mesa.Agent._ids.pop(self, None)

    # ------------------------------------------------------------------ children arriving
    def _schedule_arrivals(self, year_index: int) -> None:
        t0 = 0.0 if year_index == 0 else float(self.year_ends[year_index - 1])
        t1 = float(self.year_ends[year_index]) if year_index < len(self.year_ends) else float(self.week_ends[-1])
        groups = [g for la in self.world.sim_index for g in _records(self.demand.arrivals(int(la), t0, t1, year_index))]
        groups.sort(key=lambda g: g[0].t)  # stable: ties keep LA order
        self._arrivals, self._next_arrival = groups, 0

    def _release_arrivals(self, until: float) -> None:
        """Put the arrivals due before ``until`` on the clock (keeps the event heap small)."""
        groups, i, now = self._arrivals, self._next_arrival, self.env.now
        while i < len(groups) and groups[i][0].t < until:
            self.schedule(groups[i][0].t - now, self._admit_group, groups[i], False)
            i += 1
        self._next_arrival = i

    def _admit(self, cols: dict, initial: bool) -> None:
        for group in _records(cols):
            self._admit_group(group, initial)

    def _admit_group(self, group: list, initial: bool) -> None:
        """Create the children of an arriving group (or one of the base-date stock) and place them."""
        t = self.t
        rec = self.rec
        children = []
        for r in group:
            la = int(r.la)
            child = Child(
                self,
                la,
                r.lat,
                r.lon,
                birth_t=t - r.age * DAYS_PER_YEAR,
                entry_t=t - r.in_care,
                male=r.male > 0,
                tier=int(r.tier),
                uasc=r.uasc > 0,
                group=int(r.group),
                exit_t=t + r.exit_in,
                route=int(r.route),
            )
            child.u_18 = r.u_18
            child.supported_first = r.u_plan < self.cfg.placement.supported_first_16_17
            self.children[child.unique_id] = child
            rec.stock["children_in_care"][la] += 1
            rec.stock["uasc"][la] += child.uasc
            if not initial:
                rec.flow["starts"][la] += 1
                rec.flow["starts_by_age"][la, bisect.bisect_right(AGE_BAND_EDGES[1:-1], r.age)] += 1
            self.schedule(r.exit_in, self._exit, child)
            children.append(child)
        lead = group[0]
        band = bisect.bisect_right(AGE_BAND_EDGES[1:-1], lead.age)
        p = self.cfg.placement
        pre = [self._pre_exit_plan(c, r) for c, r in zip(children, group)]
        if any(x is not None and x[0] <= t for x in pre):  # already placed with parents / for adoption
            for c, x in zip(children, pre):
                if x is not None and x[0] <= t:
                    self.placement.place_without_search(c, x[1])
                else:
                    self.placement.search_and_place(c)
        elif lead.u_other < p.other_setting_at_entry[band]:
            for c in children:
                self.placement.place_without_search(c, OTHER_SETTING)
        elif lead.u_kin < p.kinship_at_entry[band]:
            self.placement.place_kinship(children)
        else:
            self.placement.place_new(children)
        for c, x in zip(children, pre):
            if x is not None and x[0] > t:
                self.schedule(x[0] - t, self._pre_exit_move, c, x[1])

    def _pre_exit_plan(self, child: Child, r) -> tuple[float, int] | None:
        """(day, placement type) of the planned move that precedes the child's exit, or None:
        placed for adoption before an adoption order; placed with parents before most returns home."""
        p = self.cfg.placement
        if child.route == ADOPTED:
            lead_years, ptype = p.adoption_placement_lead_years, ADOPTION
        elif child.route == RETURNED_HOME and r.u_pre < p.with_parents_before_return_home:
            lead_years, ptype = p.with_parents_lead_years, WITH_PARENTS
        else:
            return None
        lead = -math.log1p(-r.u_lead) * lead_years * DAYS_PER_YEAR
        return child.exit_t - lead, ptype

    def _pre_exit_move(self, child: Child, ptype: int) -> None:
        if child.unique_id in self.children and child.ptype != ptype:
            self.placement.move(child, CARE_PLAN, None, ptype=ptype)

    # ------------------------------------------------------------------ children leaving
    def _exit(self, child: Child) -> None:
        if child.unique_id not in self.children:
            return
        route = child.route
        if route == AT_18:
            p_stay = self.cfg.exits.staying_put_if_fostered
            fostered = child.ptype in FOSTER_TYPES
            u = child.u_18
            if fostered and u < p_stay:
                route = STAYING_PUT
            else:
                v = (u - p_stay) / (1 - p_stay) if fostered and p_stay < 1 else u
                route = INDEPENDENT if v < self.cfg.exits.independent_living_at_18 else OTHER_EXIT
        self.placement.leave(child)
        la = child.la
        self.rec.stock["children_in_care"][la] -= 1
        self.rec.stock["uasc"][la] -= child.uasc
        self.rec.flow["ceased"][la, route] += 1
        age = child.age(self.t)
        self.rec.flow["ceased_by_age"][la, 5 if age >= 17.999 else bisect.bisect_right(AGE_BAND_EDGES[1:-1], age)] += 1
        del self.children[child.unique_id]
        child.remove()


@contextlib.contextmanager
def gc_paused():
    """Pause Python's cyclic garbage collector. The model allocates millions of short-lived
    acyclic objects (events, children) whose repeated scanning by the collector doubled the run
    time; reference counting frees them, and the few cycles (child <-> unit) are broken when a
    child leaves a placement."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


Record = namedtuple("Record", FIELDS)


def _records(cols: dict) -> list[list]:
    """A column batch as groups of row records: siblings (same group id >= 0) together."""
    rows = [Record(*r) for r in zip(*(cols[k].tolist() for k in FIELDS))]
    out: list[list] = []
    prev = None
    for r in rows:
        if r.group >= 0 and r.group == prev:
            out[-1].append(r)
        else:
            out.append([r])
        prev = r.group
    return out
