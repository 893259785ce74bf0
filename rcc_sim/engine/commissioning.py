"""Who commissions placements for each LA's children: LAs alone, or Regional Care Co-operatives.

In the status quo every LA is its own commissioner. A Regional Care Co-operative (RCC) is a
commissioner shared by its member LAs from its go-live date (start + ramp-up); each of its
functions is a lever in ``policy.rccs.<name>`` (see :class:`rcc_sim.config.RCCConfig`):

(a) pooled search: members' in-house carers and homes serve any member's child;
(b) forecasting: a yearly sufficiency plan sets the recruitment effort from a demand forecast;
(c) market shaping: a discount on spot prices; block-contracted home places (paid when void);
(d) health and justice: co-funding of complex-needs placements; shared secure places;
(e) recruitment hub: more enquiries, more applicants choosing in-house, better retention;
(f) new provision: RCC-run homes built from capital after a lead time; specialist carers.

Levers act through per-LA arrays that the processes read (``spot_discount``, ``enquiry_mult``,
``cofund_share``...), through the commissioner mapping, and through units *reserved* for an RCC's
members (block places, RCC homes, specialist carers). The wider reform package
(``policy.package``) is applied here too. With every lever off nothing here draws a random
number or schedules an event, so such a run is bit-identical to the status quo.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import numpy as np
from librt.vecs import vec
from mypy_extensions import i64, mypyc_attr

from rcc_sim.config import RCCConfig, rcc_members
from rcc_sim.engine.agents import FosterHousehold, Home
from rcc_sim.engine.processes import Context, Process
from rcc_sim.engine.sufficiency import (
    CLASS_OF_PTYPE,
    FOSTER_CLASS,
    LA_MARKOV_YEARS,
    PLAN_CLASSES,
    RESIDENTIAL_CLASS,
    by_class,
    perfect,
)
from rcc_sim.vocab import (
    AGE_BAND_EDGES,
    DAYS_PER_WEEK,
    DAYS_PER_YEAR,
    FORECAST_METHODS,
    IN_HOUSE,
    LA_HOME,
    PRIVATE_HOME,
)

AGE_EDGES = AGE_BAND_EDGES[1:-1]  # inner edges: bisect gives the age band (not Final: see vocab.AGE_BAND_EDGES)

if TYPE_CHECKING:
    from rcc_sim.engine.processes.demand import Demand
    from rcc_sim.engine.processes.fostering import Fostering
    from rcc_sim.engine.processes.market import Market
    from rcc_sim.engine.processes.placement import Placement
    from rcc_sim.engine.processes.provision import Provision
    from rcc_sim.engine.processes.supply import Supply

WEEK: Final = DAYS_PER_WEEK


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # see rcc_sim.engine.compiled
@dataclass
class RCC:
    id: int
    name: str
    cfg: RCCConfig
    members: np.ndarray  # LA indices
    start_t: float  # model day the RCC is set up
    live_t: float  # model day its functions take effect
    live: bool = False  # delivering: every function on (go-live)
    developing: bool = False  # the planning functions on (development stage, or go-live)
    weights: np.ndarray = field(default_factory=lambda: np.zeros(0))  # members' share of child population
    block_units: list = field(default_factory=list)
    block_ends: dict = field(default_factory=dict)  # unit id -> model day its block contract ends
    block_factor: dict = field(default_factory=dict)  # unit id -> its open-market price factor
    enquiry_plan_mult: float = 1.0  # from the sufficiency plan (forecasting)
    homes_built: int = 0  # RCC homes commissioned (opened or being built)
    homes_pending: int = 0  # of which not open yet
    capital_spent: float = 0.0  # GBP of capital_funding_gbp committed to homes
    specialists: list = field(default_factory=list)  # specialist foster households recruited
    # after each sufficiency plan: (model day, block places, specialist carers, homes built)
    plans: list = field(default_factory=list)


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # see rcc_sim.engine.compiled
@dataclass
class LocalPlanSettings:
    """How an LA commissioning alone forecasts (``policy.package.la_*``), as an RCC's settings do."""

    forecast_method: str
    forecast_error_sd: float
    markov_years: int = LA_MARKOV_YEARS


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # see rcc_sim.engine.compiled
@dataclass
class LocalPlan:
    """The yearly sufficiency plan of an LA commissioning alone (``policy.package.la_sufficiency_plans``)."""

    members: np.ndarray  # the LA
    cfg: LocalPlanSettings
    enquiry_plan_mult: float = 1.0


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # see rcc_sim.engine.compiled
class Commissioning(Process):
    """Who commissions for each LA, the RCCs' levers, their costs and their yearly plans."""

    name = "commissioning"
    needs = ("placement", "provision", "fostering", "market", "supply", "demand")
    demand: Demand
    placement: Placement
    provision: Provision
    fostering: Fostering
    market: Market
    supply: Supply

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        self.cfg = ctx.cfg
        self.las = ctx.agents.las
        world = ctx.world
        n = world.n_la
        self.commissioner = np.arange(n)  # LA index -> commissioner id
        self.own_search_order = self._own_search_order()
        # per-LA levers read by the processes (1.0 / 0.0 = no effect)
        # (the reform package's national levers join at the base date: start_policy)
        self.spot_discount = [0.0] * n
        self.enquiry_mult = np.full(n, 1.0)
        self.in_house_share = np.full(n, ctx.cfg.fostering.in_house_applicant_share)
        self.retention = [0.0] * n
        self.cofund_share = [0.0] * n
        # health and justice co-commissioning: therapeutic support for complex-needs children (hazard
        # multipliers, 1.0 = none) and the regions whose secure places are commissioned with youth justice
        self.therapeutic_hazard = [1.0] * n
        self.escalation_mult = [1.0] * n
        self.shared_secure_regions: set[str] = set()
        self.rcc_of = [-1] * n  # LA -> live RCC id (for reserved units)
        self.forecast_rng: np.random.Generator | None = None
        # the forecasts made at the last 31 March of the children in care at the next, per
        # method (FORECAST_METHODS) an array (LA, state) (sufficiency.py); None before the first
        self.forecasts: list[np.ndarray] | None = None
        # the policy - the RCCs and the reform package - joins at the base date (start_policy)
        self.rccs: list[RCC] = []
        self.package_in_force = False
        self.local_plans: list[LocalPlan] = []  # the LAs' own sufficiency plans (package)

    @staticmethod
    def _all_rccs(pol) -> list[tuple[str, RCCConfig, bool]]:
        """Named RCCs, then one per roll-out region (a copy of the template, starting in turn,
        made of the region's LAs not already in a named RCC)."""
        out = [(name, c, False) for name, c in sorted(pol.rccs.items())]
        ro = pol.rollout
        for k, region in enumerate(ro.regions):
            start = ro.region_start_years[k] if ro.region_start_years else ro.first_start_years + k * ro.stagger_years
            c = dataclasses.replace(ro.template, region=region, members=[], opt_out=[], start_years=start)
            out.append((f"rollout_{region.lower().replace(' ', '_')}", c, True))
        return out

    # ------------------------------------------------------------------ set-up
    def _make(self, i: int, name: str, c: RCCConfig, member_codes: list[str]) -> RCC:
        w = self.world
        index = {code: j for j, code in enumerate(w.codes)}
        members = np.array([index[code] for code in member_codes], dtype=int)
        pop = w.child_population[members]
        rcc = RCC(
            i,
            name,
            c,
            members,
            self.clock.base_day + c.start_years * DAYS_PER_YEAR,  # years after the base date
            self.clock.base_day + (c.start_years + c.ramp_up_years) * DAYS_PER_YEAR,
            weights=pop / pop.sum(),
        )
        return rcc

    def start_policy(self) -> None:
        """The policy comes into force, at the base date: after the spin-up (or at once without
        one). Its RCCs are set up here - each going live, and developing, at its own dates after
        the base date - and the national reform package (``policy.package``) starts: the national
        discount and recruitment uplift, the LAs' sufficiency plans, the profit cap, the standards
        reform and (from the package's own date) the capital programme.

        A spin-up replays the published past, in which no reform was in force, and reads no part
        of ``policy``: every arm of a paired comparison reaches the base date in the same state,
        so one spin-up can serve them all (``CareSystemModel.snapshot``). (Before this the
        package acted from the spin-up's first week: a reform_package arm's 2016-2024 history
        differed from its status quo's, and the paired difference held eight years of a reform
        that did not happen.)"""
        pol = self.cfg.policy
        members = rcc_members(self.cfg)  # resolved and checked once, as the config check does
        self.rccs = [self._make(i, name, c, members[name]) for i, (name, c, _) in enumerate(self._all_rccs(pol))]
        for rcc in self.rccs:  # members checked (one RCC each) by config.rcc_members
            dev = rcc.cfg.development_years
            if 0.0 <= dev < rcc.cfg.ramp_up_years:
                self.clock.at(rcc.start_t - self.clock.now + dev * DAYS_PER_YEAR, self._develop, rcc)
            self.clock.at(rcc.live_t - self.clock.now, self._go_live, rcc)
        pkg, n = pol.package, self.world.n_la
        if pkg.capital_homes or pkg.capital_secure_places:
            self.clock.at(pkg.capital_start_years * DAYS_PER_YEAR, self._capital_programme)
        self.package_in_force = True
        self.spot_discount[:] = [max(pkg.national_procurement_discount, d) for d in self.spot_discount]
        self.enquiry_mult *= 1.0 + pkg.national_recruitment_uplift
        if pkg.la_sufficiency_plans:
            settings = LocalPlanSettings(pkg.la_forecast_method, RCCConfig().forecast_error_sd)
            self.local_plans = [LocalPlan(np.array([la]), settings) for la in range(n)]
        self.market.start_package(pkg)
        self.placement.start_package(pkg)

    def _own_search_order(self) -> list[vec[i64]]:
        """For each LA, the LAs whose in-house units its commissioner may use, nearest first: its
        own, and under a pooled RCC the members within the RCC's pooled-search radius (as vectors
        of ints, which the compiled search walks natively)."""
        c = self.commissioner
        w = self.world
        radius = [math.inf] * w.n_la
        for rcc in getattr(self, "rccs", []):
            for la in rcc.members:
                radius[la] = rcc.cfg.pooled_search_miles
        return [
            vec[i64]([j for j, d in w.neighbour_list[i] if j == i or (c[j] == c[i] and d <= radius[i])])
            for i in range(w.n_la)
        ]

    # ------------------------------------------------------------------ go-live
    def _develop(self, rcc: RCC) -> None:
        """Development stage (or go-live without one): the planning functions - forecasting, the
        recruitment hub (enquiries, in-house applicants, retention)."""
        if rcc.developing:
            return
        c = rcc.cfg
        rcc.developing = True
        for la in rcc.members:
            self.enquiry_mult[la] *= 1.0 + c.enquiry_uplift
            if c.in_house_applicant_uplift > 0:
                self.in_house_share[la] = min(self.in_house_share[la] + c.in_house_applicant_uplift, 1.0)
            self.retention[la] = c.retention_improvement
        if c.forecasting:
            self.forecast_rng = self.forecast_rng or self.ctx.streams("rcc_forecasts")

    def _go_live(self, rcc: RCC) -> None:
        """Delivery: every function on (the planning ones too, if no development stage came first)."""
        c = rcc.cfg
        self._develop(rcc)
        rcc.live = True
        for la in rcc.members:
            self.rcc_of[la] = rcc.id
            self.spot_discount[la] = max(c.buyer_power_discount, self.spot_discount[la])
            self.cofund_share[la] = c.health_cofunding_share
            self.therapeutic_hazard[la] = 1.0 - c.therapeutic_breakdown_reduction
            self.escalation_mult[la] = 1.0 - c.therapeutic_escalation_reduction
        if c.shared_secure_commissioning:
            self.shared_secure_regions |= {str(self.world.regions[la]) for la in rcc.members}
        if c.pooled_search:
            self.commissioner[rcc.members] = self.world.n_la + rcc.id
            self.own_search_order = self._own_search_order()
        if c.shared_secure_places:
            self.provision.add_secure(self._central_la(rcc), c.shared_secure_places)
        if c.forecasting and c.plan_controlled_share > 0:  # the yearly plan sizes them, from now
            self._plan_provision(rcc, self._forecast_need(rcc)[RESIDENTIAL_CLASS])
        else:  # fixed at go-live
            if c.block_places:
                self._block_contract(rcc, c.block_places)
            if c.homes_to_build:
                self._build_homes(rcc, c.homes_to_build)
            if c.specialist_carers:
                self._recruit_specialists(rcc, c.specialist_carers)
        if c.foster_rooms:
            self._add_foster_rooms(rcc)

    def _central_la(self, rcc: RCC) -> int:
        """The member LA nearest to the members' population-weighted centre."""
        w = self.world
        lat = float((w.lat[rcc.members] * rcc.weights).sum())
        lon = float((w.lon[rcc.members] * rcc.weights).sum())
        d = [(lat - w.lat[j]) ** 2 + ((lon - w.lon[j]) * math.cos(math.radians(lat))) ** 2 for j in rcc.members]
        return int(rcc.members[int(np.argmin(d))])

    def _block_contract(self, rcc: RCC, wanted: float) -> int:
        """Block-contract about ``wanted`` private home places: reserved for members' children,
        paid whether filled or not, for ``block_term_years`` (then renewed or ended by the yearly
        plan, if the RCC plans its provision; for good otherwise). Returns the places contracted.

        The RCC tenders among the homes with a vacancy in its members' LAs, then in the LAs
        nearest its centre, and takes the best value first: homes equipped for very complex
        needs (most children placed in homes), then the lowest price. The contract price is the
        home's own price, at most the average, less ``block_discount`` (:meth:`_block_factor`):
        a negotiated rate, not whatever the emptiest homes charge (ASSUMPTION: a provider trades
        price for a guaranteed income; homes with a vacancy are the dearer ones, and at their own
        prices the search left block places empty - 29 of 61 void on average in a GM test run)."""
        c = rcc.cfg
        centre = self._central_la(rcc)
        ends = self.clock.now + c.block_term_years * DAYS_PER_YEAR if c.plan_controlled_share > 0 else math.inf
        members = set(rcc.members.tolist())
        order = [j for j, _ in self.world.neighbour_list[centre]]
        order = [j for j in order if j in members] + [j for j in order if j not in members]
        got = 0
        for j in order:
            if wanted <= 0:
                break
            vacant = [
                u
                for u in self.placement.vacant_units(PRIVATE_HOME, j)
                if u.reserved_for < 0 and u.provider is not None and not u.provider.failed
            ]
            vacant.sort(key=lambda u: (u.max_tier < 2, u.price_factor, u.unique_id))
            for unit in vacant:
                if wanted <= 0:
                    break
                rcc.block_factor[unit.unique_id] = unit.price_factor
                rcc.block_ends[unit.unique_id] = ends
                self.placement.reserve(unit, rcc.id, price_factor=self._block_factor(rcc, unit))
                rcc.block_units.append(unit)
                wanted -= unit.usable
                got += unit.usable
        return got

    def _block_factor(self, rcc: RCC, unit) -> float:
        """A block-contracted home's price factor: its open-market factor, at most 1 (the average
        price), less the RCC's block discount."""
        return min(rcc.block_factor[unit.unique_id], 1.0) * (1 - rcc.cfg.block_discount)

    def _end_block(self, rcc: RCC, unit) -> None:
        """A block contract ends: the home goes back to the open market at its own price."""
        rcc.block_units.remove(unit)
        rcc.block_ends.pop(unit.unique_id, None)
        self.placement.release(unit, rcc.block_factor.pop(unit.unique_id, unit.price_factor))

    def _build_homes(self, rcc: RCC, n: int) -> int:
        """Commission up to ``n`` RCC homes within what is left of the capital funding (if the RCC
        has any): each opens after the build lead time. Returns the homes commissioned."""
        c = rcc.cfg
        if c.home_build_cost_gbp > 0 and c.capital_funding_gbp > 0:
            n = min(n, int((c.capital_funding_gbp - rcc.capital_spent + 1e-6) // c.home_build_cost_gbp))
        centre = self._central_la(rcc)
        for _ in range(max(n, 0)):
            k = rcc.homes_built
            la = int(rcc.members[k % len(rcc.members)]) if len(rcc.members) > 1 else centre
            self.rec.add("rcc_capital", la, c.home_build_cost_gbp)
            rcc.capital_spent += c.home_build_cost_gbp
            rcc.homes_built += 1
            rcc.homes_pending += 1
            self.clock.at(c.home_build_lead_days, self._open_rcc_home, rcc, la)
        return max(n, 0)

    def _open_rcc_home(self, rcc: RCC, la: int) -> Home:
        home = self.provision.new_home(
            la, LA_HOME, self.las[la].provider, rcc.cfg.home_places, max_tier=2, reserved_for=rcc.id
        )
        rcc.homes_pending -= 1
        self.rec.add("homes_opened", (la, 0), 1)
        return home

    def _recruit_specialists(self, rcc: RCC, n: int) -> None:
        c = rcc.cfg
        factor = c.specialist_cost_week / self.cfg.fostering.in_house_cost_week
        for _ in range(n):
            la = int(rcc.members[len(rcc.specialists) % len(rcc.members)])
            unit = self.fostering.new_household(
                la, IN_HOUSE, self.las[la].provider, max_tier=2, reserved_for=rcc.id, price_factor=factor
            )
            rcc.specialists.append(unit)

    def _add_foster_rooms(self, rcc: RCC) -> None:
        """Capital for ``foster_rooms`` bedrooms in the members' in-house households, drawn at
        random among those open (at most one room each): each household can take one more child."""
        c = rcc.cfg
        members = set(rcc.members.tolist())
        carers = [
            u
            for u in self.ctx.agents.agents_by_type.get(FosterHousehold, [])
            if u.ptype == IN_HOUSE and u.owner_la in members and u.open and not u.closing and u.reserved_for < 0
        ]
        carers.sort(key=lambda u: u.unique_id)
        rng = self.ctx.streams("room_makers")
        for k in rng.permutation(len(carers))[: c.foster_rooms]:
            unit = carers[int(k)]
            self.supply.add_places(unit, 1)
            self.rec.add("rcc_capital", unit.owner_la, c.foster_room_cost_gbp)

    def _capital_programme(self) -> None:
        """National capital programme: LA-run homes in proportion to children in care; secure places."""
        pkg = self.cfg.policy.package
        w = self.world
        stock = np.where(w.simulated, np.maximum(w.stock, 0), 0).astype(float)
        if pkg.capital_homes and stock.sum() > 0:
            per_la = self.ctx.streams("capital_programme").multinomial(pkg.capital_homes, stock / stock.sum())
            for la in np.flatnonzero(per_la):
                for _ in range(per_la[la]):
                    self.clock.at(self.provision.lead_time(), self.provision.open_la_home, int(la))
        if pkg.capital_secure_places:
            self.provision.add_secure(int(np.argmax(stock)), pkg.capital_secure_places)

    # ------------------------------------------------------------------ weekly and yearly
    def accrue_costs(self) -> None:
        """Weekly: RCC costs and funding for the week just ended, apportioned to members."""
        days = self.clock.week_length()
        rec = self.rec
        t1 = self.clock.now
        t0 = t1 - days
        for rcc in self.rccs:
            c = rcc.cfg
            setup = _overlap(t0, t1, rcc.start_t, rcc.live_t)
            if setup and rcc.live_t > rcc.start_t:
                rec.add(
                    "rcc_setup_cost", rcc.members, c.setup_cost_gbp * setup / (rcc.live_t - rcc.start_t) * rcc.weights
                )
            running = _overlap(t0, t1, rcc.live_t, math.inf)
            if running:
                rec.add(
                    "rcc_running_cost", rcc.members, c.running_cost_gbp_per_year * running / DAYS_PER_YEAR * rcc.weights
                )
            funded = _overlap(t0, t1, rcc.start_t, rcc.start_t + 2 * DAYS_PER_YEAR)
            if funded:
                rec.add(
                    "rcc_programme_funding",
                    rcc.members,
                    c.programme_funding_gbp * funded / (2 * DAYS_PER_YEAR) * rcc.weights,
                )
            if (
                rcc.live
                and c.therapeutic_cost_week
                and (c.therapeutic_breakdown_reduction or c.therapeutic_escalation_reduction)
            ):
                mem = rcc.members
                complex_needs = rec.stock["complex_needs"][mem]  # children with complex needs in care now
                rec.add("rcc_therapeutic_cost", mem, complex_needs * c.therapeutic_cost_week * days / WEEK)
            if rcc.block_units and rcc.live:
                void = sum(
                    max(u.usable - len(u.children), 0) * self.market.price(PRIVATE_HOME, 2, -1, u)
                    for u in rcc.block_units
                    if u.open and not u.closing  # a home closing takes no child: its contract lapses
                )
                rec.add("rcc_void_cost", rcc.members, void * days / WEEK * rcc.weights)

    def sufficiency_plan(self) -> None:
        """Yearly, at 31 March, after the census and next year's arrivals are drawn: score last
        year's forecasts, forecast next 31 March by every method (for every LA: outputs), then
        each RCC that forecasts (lever b) makes its plan from its own method's forecast: the
        recruitment effort for next year and, if it plans its provision
        (``plan_controlled_share``), its block contracts, specialist carers and homes."""
        y = self.clock.year_index()
        hist = self.demand.history
        ann = self.rec.annual
        if self.forecasts is not None:  # made a year ago for today
            actual = hist.now
            total, res = actual.sum(axis=1), by_class(actual)[:, RESIDENTIAL_CLASS]
            for m, f in enumerate(self.forecasts):
                ann["forecast_error"][y, :, m] = f.sum(axis=1) - total
                ann["forecast_error_residential"][y, :, m] = by_class(f)[:, RESIDENTIAL_CLASS] - res
            for rcc in self.rccs:
                if rcc.developing and rcc.cfg.forecasting:
                    mem = rcc.members
                    f = by_class(self.forecasts[FORECAST_METHODS.index(rcc.cfg.forecast_method)][mem])
                    a = by_class(actual[mem])
                    placed = [FOSTER_CLASS, RESIDENTIAL_CLASS]
                    short = a[:, placed].sum(axis=1) - f[:, placed].sum(axis=1)
                    ann["forecast_shortfall"][y, mem] = np.maximum(short, 0)
        if y + 1 >= self.demand.n_years:  # the run ends before the next 31 March: nothing to plan for
            self.forecasts = None
            return
        if y + 1 < self.rec.first_year and not self.rccs and not self.local_plans:
            # a spin-up year: no commissioner plans yet (the policy starts at the base date), and
            # next year's score of these forecasts is not kept (Recorder.first_year)
            self.forecasts = None
            return
        self.forecasts = self._forecast_all(hist)
        in_rcc_plan = np.zeros(self.world.n_la, dtype=bool)
        for rcc in self.rccs:
            if not (rcc.developing and rcc.cfg.forecasting):
                continue
            in_rcc_plan[rcc.members] = True
            need = self._forecast_need(rcc)
            self._plan_recruitment(rcc, need[FOSTER_CLASS])
            if rcc.live and rcc.cfg.plan_controlled_share > 0:
                self._plan_provision(rcc, need[RESIDENTIAL_CLASS])
        for plan in self.local_plans:  # LAs commissioning alone (policy.package.la_sufficiency_plans)
            if in_rcc_plan[plan.members[0]]:  # its RCC plans for it now: the LA's own plan stops
                self.enquiry_mult[plan.members] /= plan.enquiry_plan_mult
                plan.enquiry_plan_mult = 1.0
            else:
                self._plan_recruitment(plan, self._forecast_need(plan)[FOSTER_CLASS])

    def _forecast_all(self, hist) -> list[np.ndarray]:
        """Every LA's children in care at the next 31 March by state, by each method (the Markov
        model pooled over each commissioner's members: an RCC that forecasts, or the LA alone)."""
        w = self.world
        naive = hist.now.copy()
        markov = np.zeros_like(naive)
        done = np.zeros(w.n_la, dtype=bool)
        for rcc in self.rccs:
            if rcc.developing and rcc.cfg.forecasting:
                markov[rcc.members] = hist.markov(rcc.members, rcc.cfg.markov_years)
                done[rcc.members] = True
        for la in np.flatnonzero(~done):
            markov[la] = hist.markov(np.array([la]), LA_MARKOV_YEARS)[0]
        now = self.clock.now
        later = [t for t in self.clock.week_ends if t > now + 1.0]
        t_next = later[51] if len(later) >= 52 else now + DAYS_PER_YEAR  # the next 31 March
        exact = perfect(
            self.demand.children.values(), self.demand.arrivals_this_year, now, t_next, w.n_la, naive, AGE_EDGES
        )
        return [naive, markov, exact]  # in the order of FORECAST_METHODS

    def _forecast_need(self, rcc: RCC | LocalPlan) -> np.ndarray:
        """The RCC's forecast of its members' children at the next 31 March by placement class, by
        its method, with its judgement error (lognormal, ``forecast_error_sd``; none for perfect
        foresight). Before the first forecast: the children in care now."""
        c = rcc.cfg
        if self.forecasts is None:  # go-live before the first 31 March: the children in care now
            members = set(rcc.members.tolist())
            now = np.zeros(len(PLAN_CLASSES))
            for child in self.demand.children.values():
                if child.la in members:
                    now[CLASS_OF_PTYPE[child.ptype]] += 1
            return now
        need = by_class(self.forecasts[FORECAST_METHODS.index(c.forecast_method)][rcc.members].sum(axis=0))
        sd = c.forecast_error_sd * (1.0 - self.cfg.policy.package.national_forecasting_support)
        if sd > 0 and c.forecast_method != "perfect":  # one draw per commissioner and year
            self.forecast_rng = self.forecast_rng or self.ctx.streams("rcc_forecasts")
            need = need * math.exp(self.forecast_rng.normal(0.0, sd))
        return need

    def _plan_recruitment(self, rcc: RCC | LocalPlan, foster_need: float) -> None:
        """Next year's recruitment effort: enquiries rise with the forecast foster need above the
        members' in-house places (by up to half)."""
        mem = rcc.members
        capacity = float(self.rec.stock["foster_places"][mem, 0].sum()) * self.cfg.fostering.usable_place_share
        gap = max(foster_need - capacity, 0.0) / max(capacity, 1.0)
        new = 1.0 + min(gap, 0.5)
        self.enquiry_mult[mem] *= new / rcc.enquiry_plan_mult
        rcc.enquiry_plan_mult = new

    def controlled_places(self, rcc: RCC) -> float:
        """Places the RCC controls for its members' residential need: its members' LA-run homes
        and its own (open or being built), its block places, its specialist carers' places."""
        members = set(rcc.members.tolist())
        places = 0.0
        for home in self.ctx.agents.agents_by_type.get(Home, []):
            mine = home.reserved_for == rcc.id or (home.reserved_for < 0 and home.owner_la in members)
            if mine and home.ptype == LA_HOME and home.open and not home.closing:
                places += home.usable
        places += rcc.homes_pending * rcc.cfg.home_places
        places += sum(u.usable for u in rcc.block_units if u.open)
        places += sum(u.usable for u in rcc.specialists if u.open and not u.closing)
        return places

    def _plan_provision(self, rcc: RCC, residential_need: float) -> None:
        """Re-set the provision the RCC controls to ``plan_controlled_share`` of its forecast
        residential need: block contracts that have run their term are renewed (at the market's
        price less the block discount) while needed and end when not; a shortfall is met by new
        block places (quick; up to ``block_places`` in all), then specialist carers (up to
        ``specialist_carers``), then homes (slow; up to ``homes_to_build`` within the capital)."""
        c = rcc.cfg
        now = self.clock.now
        short = c.plan_controlled_share * residential_need - self.controlled_places(rcc)
        for unit in sorted(rcc.block_units, key=lambda u: (-u.usable, u.unique_id)):
            if rcc.block_ends.get(unit.unique_id, math.inf) > now + 1.0:
                continue
            if short <= -unit.usable or not unit.open or unit.closing:  # not needed (or closing): the contract ends
                short += unit.usable if unit.open and not unit.closing else 0
                self._end_block(rcc, unit)
            else:  # renewed for another term, re-priced at today's market
                rcc.block_ends[unit.unique_id] = now + c.block_term_years * DAYS_PER_YEAR
                unit.price_factor = self._block_factor(rcc, unit)
        if short > 0:
            held = sum(u.usable for u in rcc.block_units)
            short -= self._block_contract(rcc, min(short, c.block_places - held))
        if short > 0:
            n = min(math.ceil(short), c.specialist_carers - len(rcc.specialists))
            if n > 0:
                before = sum(u.usable for u in rcc.specialists)
                self._recruit_specialists(rcc, n)
                short -= sum(u.usable for u in rcc.specialists) - before
        if short > 0:
            self._build_homes(rcc, min(math.ceil(short / c.home_places), c.homes_to_build - rcc.homes_built))
        rcc.plans.append((now, sum(u.usable for u in rcc.block_units), len(rcc.specialists), rcc.homes_built))


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


__all__ = ["Commissioning", "RCC"]
