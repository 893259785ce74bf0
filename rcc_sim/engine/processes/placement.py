"""Placement search and placement life: the heart of the model.

**Search.** When a child enters care, a placement ends or a plan changes, the child's
commissioner searches in stages, in order, and takes the best-scoring candidate of the first
stage that has one:

1. in-house foster carers of the commissioner (the LA itself in the status quo);
2. independent fostering agency (IFA) carers on the spot market;
3. children's homes (the commissioner's own and private/voluntary), and for 16-17 year olds
   supported accommodation; secure homes for children needing secure welfare.

Which stages a child gets depends on needs tier, age and UASC status (:meth:`Placement.stages`).
A candidate's score is its weekly price plus a price per mile from the child's home plus a
penalty if it is not equipped for the child's needs; sibling groups are first searched for one
unit with room for all. Candidates are gathered from the nearest LAs outwards, up to
``placement.candidates_per_search`` per kind. With nothing suitable the child waits in an
emergency/unregistered placement and the search is repeated every week. Before that, as in
practice, a commissioner may persuade a foster carer to take a child into an approved place
that is not normally open (a *stretched* placement, beyond the carer's usual availability), at a
penalty in the score and a higher breakdown hazard.

Every price a child's placement costs comes from :meth:`rcc_sim.engine.processes.market.Market.price`
with the buyer (the child's LA) and the unit, so every commissioner discount applies the same way
to a single child, a sibling group and a move.

**Placement life.** Each placement draws an unplanned ending (breakdown) and a planned move
(care plan: step-down from residential care, short- to long-term fostering); the sooner one is
scheduled. Hazards depend on type, age, needs match, distance and the child's move history,
and on the placement's own duration: higher in its first year (``first_year_multiplier``),
lower once it has lasted a year (``settled_multiplier``), as placements that last tend to last.
A share of children entering foster care alone are placed short-term first and move to their
planned carer within months (:meth:`Placement.plan_first_move`).

**Live counters.** Entering and leaving a placement updates the recorder's live counters
(:class:`rcc_sim.engine.recorder.Recorder`) cell by cell; nothing here scans all children.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Final

from librt.vecs import vec
from mypy_extensions import i64, mypyc_attr

from rcc_sim.engine.agents import MILES_PER_DEG_LAT, Child, Home, Unit
from rcc_sim.engine.processes import Context, Process
from rcc_sim.engine.world import miles
from rcc_sim.vocab import (
    ADOPTION,
    CARE_PLAN,
    DAYS_PER_MONTH,
    DAYS_PER_WEEK,
    DAYS_PER_YEAR,
    FAMILY_BASED,
    IFA,
    IN_HOUSE,
    KINSHIP,
    LA_HOME,
    OTHER_SETTING,
    PLACEMENT_TYPES,
    PRIVATE_HOME,
    SECURE,
    SUPPORTED,
    UNREGISTERED,
    WITH_PARENTS,
)

if TYPE_CHECKING:
    from rcc_sim.engine.commissioning import Commissioning
    from rcc_sim.engine.processes.market import Market
    from rcc_sim.engine.processes.market_health import MarketHealth
    from rcc_sim.engine.processes.supply import Supply

OWNED_KINDS: Final = (IN_HOUSE, LA_HOME)  # searched only among the commissioner's own units
HOMES: Final = (LA_HOME, PRIVATE_HOME)
COFUNDED: Final = (LA_HOME, PRIVATE_HOME, SECURE, IFA, IN_HOUSE)  # complex-needs placements health may co-fund
LOCATED: Final = frozenset(range(len(PLACEMENT_TYPES))) - {UNREGISTERED, ADOPTION, OTHER_SETTING}
POOLED_KINDS: Final = (IN_HOUSE, IFA, LA_HOME, PRIVATE_HOME, SUPPORTED, SECURE)
NP: Final = len(PLACEMENT_TYPES)


# An unplanned ending rate, after every multiplier, is capped at 12 a year (the declared upper
# bound of each base rate): the multipliers compound (up to 10 x 10 x 10 x 10 x 10^5 within their
# bounds), and a placement expected to end more often than monthly is not a placement (ASSUMPTION;
# with the default multipliers the highest rate is about 5 a year, so the cap never binds).
MAX_UNPLANNED_RATE: Final = 12.0


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # see rcc_sim.engine.compiled
class Pool:
    """One LA's vacancy (or stretch) pool of one kind: its units in the order they joined.

    A list with a hole where a unit left (the unit's ``pool_slot`` or ``stretch_slot`` is its
    position), closed up in order when the holes outnumber the units; a search walks it in order,
    passing the holes. The same units in the same order as the dictionary by unit id it replaced
    (a unit joining again goes to the end), without hashing a boxed id at each of the pools'
    three changes per placement (2026-12-07: 5.7% of the years after the base date in the
    pools' updates, 1.6% in walking the dictionaries)."""

    def __init__(self) -> None:
        self.units: list[Unit | None] = []
        self.n = 0  # units in it (the list's length less its holes)

    def add(self, unit: Unit) -> int:
        """Put ``unit`` at the end; its slot."""
        self.units.append(unit)
        self.n += 1
        return len(self.units) - 1

    def drop(self, slot: int, stretch: bool) -> None:
        """Take the unit at ``slot`` out; close up if the holes outnumber the units (``stretch``:
        the slots to renumber are the units' stretch slots)."""
        units = self.units
        units[slot] = None
        self.n -= 1
        if len(units) > 2 * self.n + 4:
            kept: list[Unit | None] = []
            for unit in units:
                if unit is not None:
                    if stretch:
                        unit.stretch_slot = len(kept)
                    else:
                        unit.pool_slot = len(kept)
                    kept.append(unit)
            self.units = kept

    def values(self) -> list[Unit]:
        """Its units in the order they joined (a new list)."""
        return [u for u in self.units if u is not None]


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # see rcc_sim.engine.compiled
class Placement(Process):
    """Vacancy pools, the search, and the events of a placement's life."""

    name = "placement"
    needs = ("market", "supply", "commissioning", "market_health")
    market: Market
    supply: Supply
    commissioning: Commissioning
    market_health: MarketHealth

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        self.cfg = ctx.cfg
        p = self.cfg.placement
        b = self.cfg.breakdown
        n = ctx.world.n_la
        # pools[ptype][la]: open units with a vacancy, run by la (in-house carers, LA homes) or
        # located in la (everything bought from others), in the order they joined (Pool; lists
        # indexed by placement type, None for a kind not pooled: the compiled engine indexes a list
        # natively, a dictionary through its hash lookup)
        self.pools: list[list[Pool] | None] = [
            [Pool() for _ in range(n)] if k in POOLED_KINDS else None for k in range(NP)
        ]
        self.pooled = [0] * NP  # units with a vacancy, by kind (England)
        # pool_size[ptype][la]: units in pools[ptype][la], as C ints side by side, so that a search
        # passes an LA with none without touching its (scattered) pool
        self.pool_size: list[vec[i64]] = [vec[i64]([0] * n) for _ in range(NP)]
        # stretch[ptype][la]: units full to their usual availability but with approved places spare
        # (foster carers only: a home's registration and staffing cannot stretch)
        self.stretch: list[list[Pool] | None] = [
            [Pool() for _ in range(n)] if k in (IN_HOUSE, IFA) else None for k in range(NP)
        ]
        self.stretched = [0] * NP
        self.stretch_size: list[vec[i64]] = [vec[i64]([0] * n) for _ in range(NP)]
        # reserved[rcc id][ptype] = {unit_id: unit}: block-contracted or RCC-run units with a vacancy
        self.reserved: dict[int, dict[int, dict[int, Unit]]] = {}  # (units, not pool entries: few)
        radius = [math.inf] * NP  # search radius (miles) by kind
        radius[IFA] = p.max_foster_search_miles
        # near[ptype][la]: the LAs a search of the kind visits from la, nearest first, up to the
        # kind's radius, as vectors of ints (librt.vecs, walked natively by the compiled search:
        # no int object read per LA): the search walks them on most events, and walking the (LA,
        # miles) tuples instead spent a third of its time fetching tuples and floats scattered in memory
        self.near: list[list[vec[i64]]] = [
            [_within(row, radius[k]) for row in ctx.world.neighbour_list] for k in range(NP)
        ]
        self.k = p.candidates_per_search
        # the search's scoring terms (GBP a week), read once: the search runs on most events
        self._per_mile, self._mismatch_gbp = p.miles_penalty_gbp, p.need_mismatch_penalty_gbp
        self._split_gbp, self._stretch_gbp = p.sibling_split_penalty_gbp, p.stretch_penalty_gbp
        self._in_house_first = p.in_house_first
        self.draw = ctx.streams.draws("placement_life")
        self.reason_draw = ctx.streams.draws("move_reasons")
        self.unplanned = [0.0] * NP
        for kinds, rate in (
            ((KINSHIP,), b.unplanned_kinship),
            ((IN_HOUSE, IFA), b.unplanned_foster),
            (HOMES, b.unplanned_home),
            ((SUPPORTED,), b.unplanned_supported),
            ((OTHER_SETTING,), b.unplanned_other),
        ):
            for k in kinds:
                self.unplanned[k] = rate
        self.planned = [0.0] * NP
        for kinds, rate in (
            ((IN_HOUSE, IFA), b.planned_foster),
            (HOMES, b.planned_home),
            ((SUPPORTED,), b.planned_supported),
        ):
            for k in kinds:
                self.planned[k] = rate
        # the step to semi-independence: a planned move at 16-17 from foster care or a children's
        # home to supported accommodation, per year from the 16th birthday (its own stream, so a
        # closed route draws nothing and moves no other draw)
        self.step_rate = [0.0] * NP
        for kinds, rate in (((IN_HOUSE, IFA), p.step_to_supported_foster), (HOMES, p.step_to_supported_home)):
            for k in kinds:
                self.step_rate[k] = rate
        self.step_draw = ctx.streams.draws("step_to_supported")
        # the hazard multipliers of a placement's ending (_schedule_end), read once
        self._teen, self._mismatch, self._stretch = b.teen_multiplier, b.mismatch_multiplier, b.stretch_multiplier
        self._far = b.distance_multiplier
        self._first_year, self._settled = b.first_year_multiplier, b.settled_multiplier
        self._history = [b.history_multiplier**m for m in range(6)]  # x per earlier move, up to 5
        cum, acc = [], 0.0
        for s in b.reason_shares_unplanned:
            acc += s
            cum.append(acc)
        self.reason_cdf = cum
        self.waiting: dict[int, Child] = {}
        self.stepping_down: dict[int, Child] = {}  # in a secure home, the secure need over, no place found yet
        self.secure_escalation = self.cfg.demand.secure_escalation_on_breakdown
        self._escalation = self.cfg.demand.needs_escalation_on_breakdown
        self._quit_after_breakdown = self.cfg.fostering.quit_after_breakdown
        # the events of a placement's life, as bound methods made once (they are scheduled on
        # most placements; a method read from an object is a new bound method each time)
        self._on_breakdown = self._breakdown
        self._on_planned_move = self._planned_move
        self._on_first_move = self._first_move
        self._on_step = self._step_to_supported
        self.high_cost = self.cfg.market.high_cost_threshold_week
        self.end_unregistered = False  # the standards reform, from the base date (Commissioning.start_policy)
        # the recorder's live counters (flat: index la * k + j), updated cell by cell
        live = ctx.rec.live
        self._placements = live["placements"]
        self._family, self._no_lawful = live["family_based"], live["no_lawful_placement"]
        self._high_cost, self._waiting, self._placed = live["high_cost"], live["waiting"], live["placed"]
        self._located, self._distance = live["located"], live["distance_sum"]
        self._over20, self._outside = live["over_20_miles"], live["outside_la"]
        self._made, self._days_wait = live["placements_made"], live["days_to_placement"]
        self._after_wait, self._moves = live["placed_after_wait"], live["moves"]
        self._siblings_split = live["siblings_split"]
        self._complex_needs = live["complex_needs"]
        self._referrals = live["secure_referrals"]
        self._in_region = live["in_home_region"]
        self._new, self._new_out = live["new_placements"], live["new_placements_outside_la"]
        self._new_out20 = live["new_placements_outside_la_over_20_miles"]
        # region of each LA as a small int, for the inside-the-home-region count
        names = list(dict.fromkeys(ctx.world.regions.tolist()))
        self._region = [names.index(r) for r in ctx.world.regions.tolist()]
        self._n_reasons = len(self.rec.flow["moves"][0])

    def bind(self, **collaborators) -> None:
        super().bind(**collaborators)
        self.spend = self.market.spend
        self.cofunded = self.market.cofunded
        self.therapeutic_hazard = self.commissioning.therapeutic_hazard  # per LA, 1.0 = no support
        self.escalation_mult = self.commissioning.escalation_mult

    # ------------------------------------------------------------------ vacancy pools
    def refresh(self, unit: Unit) -> None:
        """Keep ``unit`` in its pool exactly when it has a vacancy."""
        pools = self.pools[unit.ptype]
        if pools is None:  # kinship households are approved for their own children only
            return
        if unit.reserved_for >= 0:
            reserved = self.reserved.setdefault(unit.reserved_for, {}).setdefault(unit.ptype, {})
            if unit.open and not unit.closing and len(unit.children) < unit.usable:
                reserved[unit.unique_id] = unit
            else:
                reserved.pop(unit.unique_id, None)
            return
        # the commissioner's own units are pooled by the LA that runs them, others by location
        key = unit.owner_la if unit.ptype in OWNED_KINDS else unit.la
        kind = unit.ptype
        taking = unit.open and not unit.closing
        occupied = len(unit.children)
        vacancies = unit.usable - occupied if taking else 0
        if vacancies > 0:
            self._pool_add(kind, key, unit, False)
        else:
            self._pool_drop(kind, key, unit, False)
        stretch = self.stretch[kind]
        if stretch is not None:
            if vacancies <= 0 and taking and occupied < unit.places:
                self._pool_add(kind, key, unit, True)
            else:
                self._pool_drop(kind, key, unit, True)

    def _pool_add(self, kind: int, key: int, unit: Unit, stretch: bool) -> None:
        """Put ``unit`` in LA ``key``'s vacancy pool of ``kind`` (``stretch``: its stretch pool)
        if not there: one more in that pool's size by LA and count by kind. The only code, with
        :meth:`_pool_drop`, that changes the pools.

        Where a unit is in its pool is kept on the unit (``Unit.pool_slot``, ``Unit.stretch_slot``,
        -1 if not there), so that the many calls that find it already there (or, in
        :meth:`_pool_drop`, not there) cost one native field read."""
        if stretch:
            if unit.stretch_slot >= 0:
                return
            pools, sizes, counts = self.stretch[kind], self.stretch_size[kind], self.stretched
            assert pools is not None, "a unit pooled in a kind without pools"
            unit.stretch_slot = pools[key].add(unit)
        else:
            if unit.pool_slot >= 0:
                return
            pools, sizes, counts = self.pools[kind], self.pool_size[kind], self.pooled
            assert pools is not None, "a unit pooled in a kind without pools"
            unit.pool_slot = pools[key].add(unit)
        sizes[key] = sizes[key] + 1
        counts[kind] = counts[kind] + 1  # the long form: see Recorder

    def _pool_drop(self, kind: int, key: int, unit: Unit, stretch: bool) -> None:
        """Take ``unit`` out of LA ``key``'s pool of ``kind`` (if there), as :meth:`_pool_add` put it."""
        if stretch:
            slot = unit.stretch_slot
            if slot < 0:
                return
            unit.stretch_slot = -1
            pools, sizes, counts = self.stretch[kind], self.stretch_size[kind], self.stretched
        else:
            slot = unit.pool_slot
            if slot < 0:
                return
            unit.pool_slot = -1
            pools, sizes, counts = self.pools[kind], self.pool_size[kind], self.pooled
        assert pools is not None, "a unit pooled in a kind without pools"
        pools[key].drop(slot, stretch)
        sizes[key] = sizes[key] - 1
        counts[kind] = counts[kind] - 1

    def check_pools(self, units: list[Unit]) -> None:
        """Raise if the vacancy and stretch pools disagree with their sizes, their counts or the
        units' own slots (``Unit.pool_slot``, ``stretch_slot``); ``units``: every unit (for
        ``CareSystemModel.check_invariants``)."""
        for kind in range(NP):
            for pools, sizes, counts, stretch in (
                (self.pools[kind], self.pool_size[kind], self.pooled, False),
                (self.stretch[kind], self.stretch_size[kind], self.stretched, True),
            ):
                if pools is None:
                    continue
                assert [len(p.values()) for p in pools] == [p.n for p in pools], f"pool counts of kind {kind} drifted"
                assert [p.n for p in pools] == list(sizes), f"pool sizes of kind {kind} drifted"
                assert sum(p.n for p in pools) == counts[kind], f"pooled count of kind {kind} drifted"
                for p in pools:
                    for slot, unit in enumerate(p.units):
                        if unit is not None:
                            at = unit.stretch_slot if stretch else unit.pool_slot
                            assert at == slot, f"unit {unit.unique_id} at slot {slot} of a pool, its own slot {at}"
        for unit in units:
            key = unit.owner_la if unit.ptype in OWNED_KINDS else unit.la
            for at, pools in ((unit.pool_slot, self.pools[unit.ptype]), (unit.stretch_slot, self.stretch[unit.ptype])):
                if at >= 0:
                    assert pools is not None and at < len(pools[key].units) and pools[key].units[at] is unit, (
                        f"unit {unit.unique_id} not pooled"
                    )

    def start_package(self, pkg) -> None:
        """The reform package comes into force (``Commissioning.start_policy``). Its standards
        reform (``end_unregistered``) ends unregistered placements below secure need: homes and
        supported accommodation stretch to their registered places, so their units full to their
        usual availability join stretch pools, filled here from every open one (in id order)."""
        if not pkg.end_unregistered or self.end_unregistered:
            return
        self.end_unregistered = True
        n = self.world.n_la
        kinds = (LA_HOME, PRIVATE_HOME, SUPPORTED)
        for k in kinds:
            self.stretch[k] = [Pool() for _ in range(n)]
            self.stretched[k] = 0
            self.stretch_size[k] = vec[i64]([0] * n)
        units = [u for u in self.ctx.agents.agents_of(Home) if u.ptype in kinds and u.open]
        for unit in sorted(units, key=lambda u: u.unique_id):
            self.refresh(unit)

    def vacant_units(self, kind: int, la: int) -> list[Unit]:
        """Units of ``kind`` in ``la``'s pool (open to a new child), in pool order."""
        pools = self.pools[kind]
        return pools[la].values() if pools is not None else []

    def reserve(self, unit: Unit, rcc: int, price_factor: float) -> None:
        """Reserve ``unit`` for an RCC's members (a block contract) at ``price_factor``."""
        self._unpool(unit)
        unit.reserved_for = rcc
        unit.price_factor = price_factor
        self.refresh(unit)

    def release(self, unit: Unit, price_factor: float) -> None:
        """End ``unit``'s reservation (a block contract not renewed): back on the open market at
        ``price_factor``; the children in it stay."""
        reserved = self.reserved.get(unit.reserved_for, {}).get(unit.ptype)
        if reserved is not None:
            reserved.pop(unit.unique_id, None)
        unit.reserved_for = -1
        unit.price_factor = price_factor
        self.refresh(unit)

    def _unpool(self, unit: Unit) -> None:
        kind = unit.ptype
        key = unit.owner_la if kind in OWNED_KINDS else unit.la
        pools, stretch = self.pools[kind], self.stretch[kind]
        if pools is not None:
            self._pool_drop(kind, key, unit, False)
        if stretch is not None:
            self._pool_drop(kind, key, unit, True)

    # ------------------------------------------------------------------ search
    def stages(self, child: Child, age: float) -> tuple[tuple[int, ...], ...]:
        stages = _stages(child, age)
        if self._in_house_first:
            return stages
        return _merge_foster(stages)

    def find(
        self,
        child: Child,
        group: int = 1,
        exclude: Unit | None = None,
        stages: tuple[tuple[int, ...], ...] | None = None,
        stretch: bool = True,
    ) -> tuple[Unit, float, float] | None:
        """Best (unit, price, miles) for ``child`` (and ``group - 1`` siblings), or None.

        Stages are tried in order, first among places open to a new child, then (if ``stretch``)
        among stretched places. A unit without room for the whole group scores a penalty per
        sibling who would live apart."""
        stages = stages or self.stages(child, child.age(self.clock.now))
        for stage in stages:
            unit = self._best(stage, child, group, exclude, False, 0.0)
            if unit is not None:
                return self._offer(child, unit)
        if stretch:
            penalty = self._stretch_gbp
            for stage in stages:
                unit = self._best(stage, child, group, exclude, True, penalty)
                if unit is not None:
                    return self._offer(child, unit)
        return None

    def _offer(self, child: Child, unit: Unit) -> tuple[Unit, float, float]:
        return (
            unit,
            self.market.price(unit.ptype, child.tier, child.la, unit, child.bespoke),
            miles(child.lat, child.lon, unit.lat, unit.lon),
        )

    def _best(
        self, stage: tuple[int, ...], child: Child, group: int, exclude: Unit | None, stretched: bool, penalty: float
    ) -> Unit | None:
        """Lowest-scoring unit among the stage's candidates, or None.

        Candidates of a kind are the RCC's reserved units (block contracts, RCC-run) and the
        first ``candidates_per_search`` units met going out from the child's LA in order of
        distance (within the kind's search radius); their score is the price the child's
        commissioner would pay (:meth:`Market.price`) plus the distance and fit penalties."""
        best: Unit | None = None
        best_score = math.inf
        reserved = None if stretched else self.reserved.get(self.commissioning.rcc_of[child.la])
        for kind in stage:
            if reserved and kind in reserved:
                best, best_score = self._best_reserved(reserved[kind], kind, child, exclude, best, best_score)
            pools = self.stretch[kind] if stretched else self.pools[kind]
            if pools is not None and (self.stretched[kind] if stretched else self.pooled[kind]):
                sizes = self.stretch_size[kind] if stretched else self.pool_size[kind]
                best, best_score = self._scan(pools, sizes, kind, child, group, exclude, penalty, best, best_score)
        return best

    def _best_reserved(
        self,
        units: dict[int, Unit],
        kind: int,
        child: Child,
        exclude: Unit | None,
        best: Unit | None,
        best_score: float,
    ) -> tuple[Unit | None, float]:
        """Score the commissioner's reserved units of ``kind`` (few: no candidate limit)."""
        per_mile, mismatch = self._per_mile, self._mismatch_gbp
        lat, lon, tier, kx = child.lat, child.lon, child.tier, child.kx
        for unit in units.values():
            if unit is exclude:
                continue
            dx, dy = (unit.lon - lon) * kx, (unit.lat - lat) * MILES_PER_DEG_LAT
            d = math.sqrt(dx * dx + dy * dy)  # not math.hypot: the compiled engine calls sqrt natively
            score = self.market.price(kind, tier, child.la, unit) + per_mile * d
            if unit.max_tier < tier:
                score += mismatch
            if score < best_score:
                best, best_score = unit, score
        return best, best_score

    def _scan(
        self,
        pools: list[Pool],
        sizes: vec[i64],
        kind: int,
        child: Child,
        group: int,
        exclude: Unit | None,
        penalty: float,
        best: Unit | None,
        best_score: float,
    ) -> tuple[Unit | None, float]:
        """Score the first ``candidates_per_search`` pooled units of ``kind`` going out from the
        child's LA. A unit's price is the kind's price for the buyer x its own price factor
        (= :meth:`Market.price` with the unit); distances for ranking are flat-earth (within 0.5%
        under 100 miles); the chosen unit's exact distance is taken in :meth:`_offer`.

        The LAs are walked nearest first (``near``: ties by LA index), every one to the kind's
        radius, empty pools included: with the LAs as a plain list this costs less than visiting
        only those with a vacancy, whose order had to be sorted at each search (an England run
        after the base date: 7.6 -> 7.0 s for four years)."""
        per_mile, mismatch, split = self._per_mile, self._mismatch_gbp, self._split_gbp
        lat, lon, tier, la, kx = child.lat, child.lon, child.tier, child.la, child.kx
        kind_price = self.market.spot_price(kind, tier, la)
        k, n = self.k, 0
        # the commissioner's own units (no radius: wherever they are), or everyone's to the radius
        order = self.commissioning.own_search_order[la] if kind in OWNED_KINDS else self.near[kind][la]
        for j in order:
            if sizes[j] == 0:  # (read side by side; the pool is not touched)
                continue
            for unit in pools[j].units:
                if unit is None or unit is exclude:  # a hole (Pool), or the unit to leave out
                    continue
                dx, dy = (unit.lon - lon) * kx, (unit.lat - lat) * MILES_PER_DEG_LAT
                d = math.sqrt(dx * dx + dy * dy)  # not math.hypot: the compiled engine calls sqrt natively
                score = kind_price * unit.price_factor + per_mile * d + penalty
                if unit.max_tier < tier:
                    score += mismatch
                if group > 1:
                    vac = unit.usable - len(unit.children)
                    if vac < group:
                        score += split * (group - max(vac, 1))
                if score < best_score:
                    best, best_score = unit, score
                n += 1
                if n >= k:
                    return best, best_score
        return best, best_score

    # ------------------------------------------------------------------ entering and leaving
    def _count(self, child: Child, sign: float) -> None:
        """Add (+1) or remove (-1) the child's current placement in every live counter."""
        la, ptype, unit, price, dist = child.la, child.ptype, child.unit, child.price, child.miles
        j = la * NP + ptype
        self._placements[j] = self._placements[j] + sign
        self.spend.change(la, ptype, sign * price)
        if child.cofunded:
            self.cofunded.change(la, ptype, sign * child.cofunded)
        if ptype in FAMILY_BASED:
            self._family[la] = self._family[la] + sign
        if ptype == UNREGISTERED:
            self._waiting[la] = self._waiting[la] + sign
            if child.tier >= 3:
                self._no_lawful[la] = self._no_lawful[la] + sign
        else:
            self._placed[la] = self._placed[la] + sign
        if price >= self.high_cost:
            self._high_cost[la] = self._high_cost[la] + sign
        if ptype in LOCATED:
            self._located[la] = self._located[la] + sign
            self._distance[la] = self._distance[la] + sign * dist
            if dist > 20.0:
                self._over20[la] = self._over20[la] + sign
            if unit is None:  # placed with parents: at home
                self._in_region[la] = self._in_region[la] + sign
            else:
                ula = unit.la
                if ula != la:
                    self._outside[la] = self._outside[la] + sign
                if self._region[ula] == self._region[la]:
                    self._in_region[la] = self._in_region[la] + sign

    def enter(self, child: Child, ptype: int, unit: Unit | None, price: float, dist: float) -> None:
        """Put ``child`` in a placement and update every live counter."""
        t = self.clock.now
        child.ptype, child.unit, child.price, child.miles = ptype, unit, price, dist
        child.same_placement_since = t
        share = self.commissioning.cofund_share[child.la]
        child.cofunded = price * share if share and child.tier >= 1 and ptype in COFUNDED else 0.0
        child.placed_t = t
        child.placements_this_year += 1
        child.version += 1
        self._count(child, +1)
        la = child.la
        self._new[la] = self._new[la] + 1.0  # every placement started, first or a move (DfE's new placements)
        if unit is not None and ptype in LOCATED and unit.la != la:
            self._new_out[la] = self._new_out[la] + 1.0
            if dist > 20.0:
                self._new_out20[la] = self._new_out20[la] + 1.0
        if ptype == UNREGISTERED:
            if child.wait_since < 0:
                child.wait_since = t
            self.waiting[child.unique_id] = child
        else:
            self._made[la] = self._made[la] + 1.0
            if child.wait_since >= 0:
                self._days_wait[la] = self._days_wait[la] + (t - child.wait_since)
                self._after_wait[la] = self._after_wait[la] + 1.0
                child.wait_since = -1.0
        if unit is not None:
            unit.children.append(child)
            self.supply.occupancy_changed(unit, +1)
            self.market_health.placed(child, unit, 1.0)
            self.refresh(unit)
        self._schedule_end(child)
        self._schedule_step(child)

    def leave(self, child: Child) -> Unit | None:
        """Take ``child`` out of its placement; returns the unit it left (if any)."""
        unit = child.unit
        if child.ptype < 0:
            return None
        self._count(child, -1)
        if unit is not None:
            self.market_health.placed(child, unit, -1.0)
        self.spend.paid += child.price * (self.clock.now - child.placed_t) / DAYS_PER_WEEK
        if child.ptype == UNREGISTERED:
            self.waiting.pop(child.unique_id, None)
        elif child.ptype == SECURE:
            self.stepping_down.pop(child.unique_id, None)
        child.ptype, child.unit, child.price, child.miles, child.cofunded = -1, None, 0.0, -1.0, 0.0
        child.version += 1
        if unit is not None:
            unit.children.remove(child)
            self.supply.occupancy_changed(unit, -1)
            self.refresh(unit)
            if unit.closing and not unit.children:
                self.supply.close_unit(unit)
        return unit

    # ------------------------------------------------------------------ placing
    def place_new(self, children: list[Child], count_split: bool = True) -> None:
        """Place a child or a sibling group entering care (or in the initial stock): the group
        in one unit if it scores best, otherwise as many together as fit and the rest again."""
        first = children[0]
        if len(children) == 1:
            self.search_and_place(first)
            return
        found = self.find(first, group=len(children))
        if found is None:
            for c in children:
                self.search_and_place(c)
            if count_split:
                self._siblings_split[first.la] = self._siblings_split[first.la] + len(children)
            return
        unit = found[0]
        room = max(unit.vacancies, 1)
        together, rest = children[:room], children[room:]
        for c in together:
            self.enter(c, unit.ptype, unit, *self._offer(c, unit)[1:])
        if rest:
            if count_split:
                self._siblings_split[first.la] = self._siblings_split[first.la] + len(children)
            self.place_new(rest, count_split=False)

    def search_and_place(self, child: Child, exclude: Unit | None = None) -> bool:
        """Search; place the child, or hold it in an emergency/unregistered placement. True if placed."""
        found = self.find(child, exclude=exclude)
        if found is None and self.end_unregistered and child.tier < 3:
            found = self.find(child, exclude=exclude, stages=(HOMES + (SUPPORTED,),))  # homes stretch too
        if found is None:
            self.enter(child, UNREGISTERED, None, self.market.price(UNREGISTERED, child.tier, child.la), -1.0)
            return False
        unit, price, dist = found
        self.enter(child, unit.ptype, unit, price, dist)
        return True

    def place_without_search(self, child: Child, ptype: int) -> None:
        """Placements that are not bought: with parents, placed for adoption, other settings."""
        dist = 0.0 if ptype == WITH_PARENTS else -1.0
        self.enter(child, ptype, None, self.market.price(ptype, child.tier, child.la), dist)

    def place_kinship(self, children: list[Child]) -> None:
        """A connected person cares for the child (or siblings) as a kinship foster carer: newly
        approved, or a kinship household of the LA already caring for a child (:meth:`Supply.kinship_household`)."""
        first = children[0]
        unit = self.supply.kinship_household(first.la, len(children))
        for c in children:
            self.enter(c, KINSHIP, unit, *self._offer(c, unit)[1:])

    def move(self, child: Child, reason: int, to: tuple | None, ptype: int | None = None) -> None:
        """Move ``child`` to ``to`` = (unit, price, miles), or to a placement without search."""
        old = self.leave(child)
        child.moves += 1
        j = child.la * self._n_reasons + reason
        self._moves[j] = self._moves[j] + 1.0
        if ptype is not None:
            self.place_without_search(child, ptype)
        elif to is None:
            self.search_and_place(child, exclude=old)
        else:
            self.enter(child, to[0].ptype, to[0], to[1], to[2])

    # ------------------------------------------------------------------ placement life
    def _schedule_end(self, child: Child) -> None:
        ptype = child.ptype
        if ptype == SECURE:  # a secure placement ends when the need for it does (:meth:`secure_need`)
            return
        base_u = self.unplanned[ptype]
        base_p = self.planned[ptype]
        if base_u <= 0 and base_p <= 0:
            return
        now = self.clock.now
        rate_u = base_u
        if (now - child.birth_t) / DAYS_PER_YEAR >= 10.0:  # Child.age
            rate_u *= self._teen
        unit = child.unit
        if unit is not None:
            if unit.max_tier < child.tier:
                rate_u *= self._mismatch
            if len(unit.children) > unit.usable:
                rate_u *= self._stretch
        if child.miles > 20.0:
            rate_u *= self._far
        rate_u *= self._history[min(child.moves, 5)]
        if child.tier >= 1:  # jointly funded therapeutic support (an RCC's health co-commissioning)
            rate_u *= self.therapeutic_hazard[child.la]
        total = min(rate_u, MAX_UNPLANNED_RATE) + base_p
        if total <= 0.0:
            return
        delay = _residual_days(
            self.draw.exponential(1.0), total, now - child.same_placement_since, self._first_year, self._settled
        )
        planned = self.draw.random() * total < base_p
        if now + delay < child.exit_t:
            self.clock.at_child(delay, self._on_planned_move if planned else self._on_breakdown, child)

    def plan_first_move(self, children: list[Child]) -> None:
        """A child entering care alone into a foster placement goes there short-term at
        ``short_term_first_share``: a planned move to another carer is drawn (mean
        ``short_term_first_days``), competing with the placement's own ending (whichever comes first
        happens). Sibling groups are placed for the long term (ASSUMPTION)."""
        b = self.cfg.breakdown
        child = children[0]
        if len(children) > 1 or child.ptype not in (IN_HOUSE, IFA) or b.short_term_first_share <= 0:
            return
        if self.draw.random() < b.short_term_first_share:
            delay = self.draw.exponential(b.short_term_first_days)
            if self.clock.now + delay < child.exit_t:
                self.clock.at_child(delay, self._on_first_move, child)

    def _first_move(self, child: Child, version: int) -> None:
        if child.version != version or child.ptype not in (IN_HOUSE, IFA):
            return
        found = self.find(child, exclude=child.unit, stages=((IN_HOUSE,), (IFA,)), stretch=False)
        if found is not None:  # otherwise the child stays (its placement's own ending is still drawn)
            self.move(child, CARE_PLAN, found)

    def _schedule_step(self, child: Child) -> None:
        """Draw when a child in foster care or a children's home steps to supported accommodation:
        ``step_rate`` a year from the later of now and the 16th birthday, if before leaving care.
        A move, a breakdown or leaving care first drops it (the placement's version moves on)."""
        rate = self.step_rate[child.ptype]
        if rate <= 0.0 or child.tier > 1:
            return
        now = self.clock.now
        sixteen = child.birth_t + 16.0 * DAYS_PER_YEAR
        due = max(now, sixteen) + self.step_draw.exponential(DAYS_PER_YEAR / rate)
        if due < child.exit_t and due < sixteen + 2.0 * DAYS_PER_YEAR:
            self.clock.at_child(due - now, self._on_step, child)

    def _step_to_supported(self, child: Child, version: int) -> None:
        """The planned move to supported accommodation, if a place is found within the search's
        reach; otherwise the child stays where it is (the step is not tried again)."""
        if child.version != version or child.ptype < 0 or child.tier > 1 or self.step_rate[child.ptype] <= 0.0:
            return
        found = self.find(child, exclude=child.unit, stages=((SUPPORTED,),), stretch=False)
        if found is not None:
            self.move(child, CARE_PLAN, found)

    def backdate(self, child: Child, since: float) -> None:
        """Take the child's current placement (of the base-date stock) to have begun at ``since``
        (a day before the base date): its ending is drawn again for a placement of that age."""
        child.same_placement_since = since
        child.version += 1  # the ending (and any step) drawn on entering is dropped
        self._schedule_end(child)
        self._schedule_step(child)

    def _breakdown(self, child: Child, version: int) -> None:
        if child.version != version or child.ptype < 0:
            return
        u = self.reason_draw.random()
        reason = next((i for i, c in enumerate(self.reason_cdf) if u < c), len(self.reason_cdf) - 1)
        supported = self.escalation_mult[child.la] if child.tier >= 1 else 1.0  # therapeutic support
        if child.tier < 2 and self.reason_draw.random() < self._escalation * supported:
            self._set_tier(child, child.tier + 1)
        elif (
            child.tier == 2
            and self.secure_escalation > 0
            and self.reason_draw.random() < self.secure_escalation * supported
        ):
            self.secure_need(child)
        unit = child.unit
        if (
            unit is not None
            and child.ptype in (IN_HOUSE, IFA)
            and self.reason_draw.random() < self._quit_after_breakdown
        ):
            self.supply.deregister(unit, voluntary=False)
        self.move(child, reason + 1, None)  # reasons after CARE_PLAN, in MOVE_REASONS order

    def _planned_move(self, child: Child, version: int) -> None:
        if child.version != version or child.ptype < 0:
            return
        if child.ptype in HOMES and child.tier > 0:
            self._set_tier(child, child.tier - 1)  # step-down: needs have eased enough for family care
            found = self.find(child, exclude=child.unit, stages=((IN_HOUSE,), (IFA,)), stretch=False)
        elif child.ptype in HOMES:
            found = self.find(child, exclude=child.unit, stages=((IN_HOUSE,), (IFA,)), stretch=False)
        else:
            found = self.find(child, exclude=child.unit, stages=((child.ptype,),), stretch=False)
        if found is not None:
            self.move(child, CARE_PLAN, found)
        else:
            self._schedule_end(child)

    def _set_tier(self, child: Child, tier: int) -> None:
        """Change the child's needs tier in its current placement, keeping what depends on it in
        step: the live counters of complex needs and of children needing secure care held
        unregistered, and the child's share of the market-health accounts (by tier)."""
        if child.ptype == UNREGISTERED:
            self._no_lawful[child.la] = self._no_lawful[child.la] + ((tier >= 3) - (child.tier >= 3))
        self._complex_needs[child.la] = self._complex_needs[child.la] + ((tier >= 1) - (child.tier >= 1))
        unit = child.unit
        if unit is not None:  # the child's share of the market-health accounts is by tier
            self.market_health.placed(child, unit, -1.0)
            child.tier = tier
            self.market_health.placed(child, unit, 1.0)
        else:
            child.tier = tier

    # ------------------------------------------------------------------ secure welfare
    def secure_need(self, child: Child, referral: bool = True) -> None:
        """``child`` has come to need secure welfare care (tier 3): a referral, and the need lasts
        ``breakdown.secure_order_months`` on average whether or not a secure place is found (a
        child with no place waits in an unregistered placement, in practice under a
        deprivation-of-liberty order, and the weekly search tries the secure homes again)."""
        self._set_tier(child, 3)
        child.secure_need += 1
        if referral:
            self._referrals[child.la] = self._referrals[child.la] + 1.0
        months = self.cfg.breakdown.secure_order_months
        self.clock.at(self.draw.exponential(months * DAYS_PER_MONTH), self._secure_need_ends, child, child.secure_need)

    def _secure_need_ends(self, child: Child, need: int) -> None:
        if child.secure_need != need or child.tier != 3 or child.ptype < 0:
            return  # a later need superseded it, or the child has left care
        self._set_tier(child, 2)
        if child.ptype == SECURE:
            self._step_down(child)
        # a child still waiting is searched for again, at tier 2, by the weekly retry

    def _step_down(self, child: Child) -> bool:
        """Move a child whose secure need has ended out of the secure home, if a place is found;
        otherwise the child stays and is tried again every week. True if moved."""
        found = self.find(child, exclude=child.unit)
        if found is None:
            self.stepping_down[child.unique_id] = child
            return False
        self.stepping_down.pop(child.unique_id, None)
        self.move(child, CARE_PLAN, found)
        return True

    def retry_waiting(self) -> None:
        """Weekly: every waiting child's search is repeated, longest-waiting first; then children
        whose secure need has ended try again to leave the secure home."""
        for child in sorted(self.waiting.values(), key=lambda c: (c.wait_since, c.unique_id)):
            found = self.find(child)
            if found is not None:
                self.move(child, CARE_PLAN, found)
        for uid in sorted(self.stepping_down):
            child = self.stepping_down[uid]
            if child.ptype != SECURE or child.tier >= 3:
                del self.stepping_down[uid]
            else:
                self._step_down(child)


def _within(neighbours: list[tuple[int, float]], radius: float) -> vec[i64]:
    """The LAs of ``neighbours`` ((LA, miles), nearest first) up to the first beyond ``radius``."""
    out: list[int] = []
    for j, d in neighbours:
        if d > radius:
            break
        out.append(j)
    return vec[i64](out)


def _residual_days(e: float, rate: float, age_days: float, first: float, settled: float) -> float:
    """Days until a placement aged ``age_days`` ends, for a standard exponential draw ``e``, when
    its hazard is ``rate`` a year x ``first`` in its first year and x ``settled`` after (inverse of
    the piecewise-linear cumulative hazard; a zero hazard in a piece never ends there)."""
    left = max(DAYS_PER_YEAR - age_days, 0.0)  # days of the first year still to run
    early = rate * first / DAYS_PER_YEAR  # hazard per day in the first year
    if early * left > e:
        return e / early
    late = rate * settled / DAYS_PER_YEAR
    if late <= 0.0:
        return math.inf
    return left + float(e - early * left) / float(late)  # a vanishing hazard: inf (never ends), silently


# positions in PROVIDERS (a test checks them)
_OWN: Final = 0
_OTHER_LA: Final = 1
_PRIVATE: Final = 2
_VOLUNTARY: Final = 3
_PARENTS: Final = 4
_OTHER: Final = 5
_PROVIDER_OF_KIND: Final = {"private": _PRIVATE, "ifa": _PRIVATE, "voluntary": _VOLUNTARY}
_UNKNOWN: Final = -1  # Unit.provider_kind not yet worked out


def provider_index(child: Child) -> int:
    """The child's placement provider (index into :data:`rcc_sim.vocab.PROVIDERS`), as DfE
    records it: the LA's own carers and homes are its own provision, another LA's (an RCC
    member's, a secure home's) other LA; IFAs and private homes private; placed for adoption
    counted as own provision and unregistered settings as private (ASSUMPTION: DfE's not-reported
    and other-public categories are small)."""
    ptype = child.ptype
    if ptype == WITH_PARENTS:
        return _PARENTS
    if ptype == OTHER_SETTING:
        return _OTHER
    if ptype == ADOPTION:
        return _OWN
    if ptype == UNREGISTERED:
        return _PRIVATE
    unit = child.unit
    if unit is None:
        return _OTHER
    if ptype == KINSHIP:  # approved by the LA whose child it is
        return _OWN if unit.owner_la == child.la else _OTHER_LA
    kind = unit.provider_kind
    if kind == _UNKNOWN:  # worked out once and kept on the unit (Unit.provider_kind)
        kind = unit.provider_kind = _provider_kind(unit)
    if kind >= 0:
        return kind
    return _OWN if -3 - kind == child.la else _OTHER_LA  # run by an LA: its own or another's


def _provider_kind(unit: Unit) -> int:
    """``unit``'s provider as DfE records it when it does not depend on the child: an index into
    PROVIDERS, or -3 - the LA running it (-2 if none is known; -1, ``_UNKNOWN``, is never returned)
    for an LA's own carers and homes (the child's LA's own provision, or another LA's). The provider's
    kind is read from the provider (a mesa agent: a dictionary lookup) once per unit, not once per
    child at every 31 March."""
    provider = unit.provider
    if provider is None or provider.kind == "la":
        owner = unit.owner_la if unit.owner_la >= 0 else (provider.home_la if provider is not None else -1)
        return -3 - owner
    return _PROVIDER_OF_KIND.get(provider.kind, _PRIVATE)


def _stages(child: Child, age: float) -> tuple[tuple[int, ...], ...]:
    """The search stages for a child of this needs tier, age and status, in order."""
    tier = child.tier
    if tier >= 3:
        return ((SECURE,),)
    if tier == 2:
        return (HOMES,)
    if age >= 16.0:
        if (child.uasc or child.supported_first) and tier == 0:
            return ((SUPPORTED,), (IN_HOUSE,), (IFA,))
        return ((IN_HOUSE,), (IFA,), (SUPPORTED,) if tier == 0 else HOMES + (SUPPORTED,))
    if tier == 1 or age >= 10.0:
        return ((IN_HOUSE,), (IFA,), HOMES)
    return ((IN_HOUSE,), (IFA,))


def _merge_foster(stages: tuple[tuple[int, ...], ...]) -> tuple[tuple[int, ...], ...]:
    """In-house and IFA carers compared in one stage (no in-house-first rule)."""
    out: list[tuple[int, ...]] = []
    for stage in stages:
        if stage == (IFA,) and out and out[-1] == (IN_HOUSE,):
            out[-1] = (IN_HOUSE, IFA)
        else:
            out.append(stage)
    return tuple(out)


__all__ = ["Pool", "Placement", "provider_index"]
