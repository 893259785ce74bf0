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

**Placement life.** Each placement draws an unplanned ending (breakdown) and a planned move
(care plan: step-down from residential care, short- to long-term fostering); the sooner one is
scheduled. Hazards depend on type, age, needs match, distance and the child's move history.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

from rcc_sim.engine.agents import Child, Unit
from rcc_sim.engine.world import miles
from rcc_sim.vocab import (
    ADOPTION,
    CARE_PLAN,
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

OWNED_KINDS = (IN_HOUSE, LA_HOME)  # searched only among the commissioner's own units
HOMES = (LA_HOME, PRIVATE_HOME)
COFUNDED = (LA_HOME, PRIVATE_HOME, SECURE, IFA, IN_HOUSE)  # complex-needs placements health may co-fund
LOCATED = frozenset(range(len(PLACEMENT_TYPES))) - {UNREGISTERED, ADOPTION, OTHER_SETTING}
MILES_PER_DEG_LAT = 69.09
SEARCH_RADIUS = {IN_HOUSE: 1e9, LA_HOME: 1e9, PRIVATE_HOME: 1e9, SUPPORTED: 1e9, SECURE: 1e9}


class Placement:
    """Vacancy pools, the search, and the events of a placement's life."""

    def __init__(self, model):
        self.m = model
        self.cfg = model.cfg
        p = self.cfg.placement
        b = self.cfg.breakdown
        n = model.world.n_la
        # pools[ptype][la] = {unit_id: unit}: open units with a vacancy, run by la (in-house carers,
        # LA homes) or located in la (everything bought from others)
        self.pools: dict[int, list[dict[int, Unit]]] = {
            k: [{} for _ in range(n)] for k in (IN_HOUSE, IFA, LA_HOME, PRIVATE_HOME, SUPPORTED, SECURE)
        }
        self.pooled = {k: 0 for k in self.pools}  # units with a vacancy, by kind (England)
        # stretch[ptype][la]: units full to their usual availability but with approved places spare
        # (foster carers only: a home's registration and staffing cannot stretch)
        self.stretch: dict[int, list[dict[int, Unit]]] = {k: [{} for _ in range(n)] for k in (IN_HOUSE, IFA)}
        self.stretched = {k: 0 for k in self.stretch}
        if model.cfg.policy.package.end_unregistered:  # standards reform: homes stretch to registration
            for k in (LA_HOME, PRIVATE_HOME, SUPPORTED):
                self.stretch[k] = [{} for _ in range(n)]
                self.stretched[k] = 0
        # reserved[rcc id][ptype] = {unit_id: unit}: block-contracted or RCC-run units with a vacancy
        self.reserved: dict[int, dict[int, dict[int, Unit]]] = {}
        self.radius = dict(SEARCH_RADIUS)
        self.radius[IFA] = p.max_foster_search_miles
        self.k = p.candidates_per_search
        self.rng = model.streams("placement_life")
        self.reason_rng = model.streams("move_reasons")
        self.unplanned = {
            KINSHIP: b.unplanned_kinship,
            IN_HOUSE: b.unplanned_foster,
            IFA: b.unplanned_foster,
            LA_HOME: b.unplanned_home,
            PRIVATE_HOME: b.unplanned_home,
            SUPPORTED: b.unplanned_supported,
            OTHER_SETTING: b.unplanned_other,
        }
        self.planned = {
            IN_HOUSE: b.planned_foster,
            IFA: b.planned_foster,
            LA_HOME: b.planned_home,
            PRIVATE_HOME: b.planned_home,
            SUPPORTED: b.planned_supported,
        }
        cum, acc = [], 0.0
        for s in b.reason_shares_unplanned:
            acc += s
            cum.append(acc)
        self.reason_cdf = cum
        self.waiting: dict[int, Child] = {}
        self.high_cost = self.cfg.market.high_cost_threshold_week
        # the recorder's live counters, as attributes (they are updated in place, never replaced)
        self.st = SimpleNamespace(**model.rec.stock)

    # ------------------------------------------------------------------ vacancy pools
    def refresh(self, unit: Unit) -> None:
        """Keep ``unit`` in its pool exactly when it has a vacancy."""
        pools = self.pools.get(unit.ptype)
        if pools is None:  # kinship households are approved for their own children only
            return
        if unit.reserved_for >= 0:
            pool = self.reserved.setdefault(unit.reserved_for, {}).setdefault(unit.ptype, {})
            if unit.open and not unit.closing and len(unit.children) < unit.usable:
                pool[unit.unique_id] = unit
            else:
                pool.pop(unit.unique_id, None)
            return
        # the commissioner's own units are pooled by the LA that runs them, others by location
        key = unit.owner_la if unit.ptype in OWNED_KINDS else unit.la
        pool, uid = pools[key], unit.unique_id
        taking = unit.open and not unit.closing
        occupied = len(unit.children)
        vacancies = unit.usable - occupied if taking else 0
        if vacancies > 0:
            if uid not in pool:
                pool[uid] = unit
                self.pooled[unit.ptype] += 1
        elif pool.pop(uid, None) is not None:
            self.pooled[unit.ptype] -= 1
        stretch = self.stretch.get(unit.ptype)
        if stretch is not None:
            spool = stretch[key]
            if vacancies <= 0 and taking and occupied < unit.places:
                if uid not in spool:
                    spool[uid] = unit
                    self.stretched[unit.ptype] += 1
            elif spool.pop(uid, None) is not None:
                self.stretched[unit.ptype] -= 1

    def reserve(self, unit: Unit, rcc: int, price_factor: float) -> None:
        """Reserve ``unit`` for an RCC's members (a block contract) at ``price_factor``."""
        self._unpool(unit)
        unit.reserved_for = rcc
        unit.price_factor = price_factor
        self.refresh(unit)

    def _unpool(self, unit: Unit) -> None:
        key = unit.owner_la if unit.ptype in OWNED_KINDS else unit.la
        if self.pools[unit.ptype][key].pop(unit.unique_id, None) is not None:
            self.pooled[unit.ptype] -= 1
        stretch = self.stretch.get(unit.ptype)
        if stretch is not None and stretch[key].pop(unit.unique_id, None) is not None:
            self.stretched[unit.ptype] -= 1

    # ------------------------------------------------------------------ search
    def stages(self, child: Child, age: float) -> tuple[tuple[int, ...], ...]:
        stages = self._stages(child, age)
        if self.cfg.placement.in_house_first:
            return stages
        return _merge_foster(stages)

    def _stages(self, child: Child, age: float) -> tuple[tuple[int, ...], ...]:
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

    def _candidates(self, kind: int, child: Child, exclude: Unit | None, stretch: bool = False) -> list[Unit]:
        if stretch:
            if not self.stretched.get(kind):
                return []
            pools = self.stretch[kind]
        else:
            if not self.pooled[kind]:
                return []
            pools = self.pools[kind]
        m = self.m
        order = m.commissioning.own_search_order[child.la] if kind in OWNED_KINDS else m.world.neighbour_list[child.la]
        radius = self.radius[kind]
        out: list[Unit] = []
        for j, dist in order:
            if dist > radius:
                break
            pool = pools[j]
            if not pool:
                continue
            for unit in pool.values():
                if unit is exclude:
                    continue
                out.append(unit)
                if len(out) >= self.k:
                    return out
        return out

    def find(
        self,
        child: Child,
        group: int = 1,
        exclude: Unit | None = None,
        stages: tuple[tuple[int, ...], ...] | None = None,
        stretch: bool = True,
    ):
        """Best (unit, price, miles) for ``child`` (and ``group - 1`` siblings), or None.

        Stages are tried in order, first among places open to a new child, then (if ``stretch``)
        among stretched places. A unit without room for the whole group scores a penalty per
        sibling who would live apart."""
        stages = stages or self.stages(child, child.age(self.m.env.now))
        passes = ((False, 0.0), (True, self.cfg.placement.stretch_penalty_gbp)) if stretch else ((False, 0.0),)
        for stretched, penalty in passes:
            for stage in stages:
                best = self._best(stage, child, group, exclude, stretched, penalty)
                if best is not None:
                    unit, price = best
                    return unit, price, miles(child.lat, child.lon, unit.lat, unit.lon)
        return None

    def _best(self, stage, child: Child, group: int, exclude, stretched: bool, penalty: float):
        """Lowest-scoring (unit, price) among the stage's candidates, or None."""
        p = self.cfg.placement
        per_mile, mismatch = p.miles_penalty_gbp, p.need_mismatch_penalty_gbp
        market = self.m.market
        lat, lon, tier = child.lat, child.lon, child.tier
        kx = MILES_PER_DEG_LAT * math.cos(math.radians(lat))
        best, best_score = None, math.inf
        reserved = self.reserved.get(self.m.commissioning.rcc_of[child.la]) if not stretched else None
        for kind in stage:
            if reserved and reserved.get(kind):  # the RCC's own contracted and built places
                contract_price = market.price(kind, tier)
                for unit in reserved[kind].values():
                    if unit is exclude:
                        continue
                    d = math.hypot((unit.lon - lon) * kx, (unit.lat - lat) * MILES_PER_DEG_LAT)
                    price = contract_price * unit.price_factor
                    score = price + per_mile * d + (mismatch if unit.max_tier < tier else 0.0)
                    if score < best_score:
                        best, best_score = (unit, price), score
            kind_price = market.price(kind, tier, 1.0, child.la)  # x the unit's own price factor
            for unit in self._candidates(kind, child, exclude, stretched):
                # flat-earth distance for ranking (within 0.5% under 100 miles); exact for the chosen
                d = math.hypot((unit.lon - lon) * kx, (unit.lat - lat) * MILES_PER_DEG_LAT)
                price = kind_price * unit.price_factor
                score = price + per_mile * d + penalty
                if unit.max_tier < tier:
                    score += mismatch
                if group > 1 and unit.vacancies < group:
                    score += p.sibling_split_penalty_gbp * (group - max(unit.vacancies, 1))
                if score < best_score:
                    best, best_score = (unit, price), score
        return best

    # ------------------------------------------------------------------ entering and leaving
    def _count(self, child: Child, sign: int) -> None:
        """Add (+1) or remove (-1) the child's current placement in every live counter."""
        m = self.m
        la, ptype, unit, price, dist = child.la, child.ptype, child.unit, child.price, child.miles
        st = self.st
        st.placements[la, ptype] += sign
        m.accounts.change(la, ptype, sign * price)
        if child.cofunded:
            m.cofunded.change(la, ptype, sign * child.cofunded)
        if ptype in FAMILY_BASED:
            st.family_based[la] += sign
        if ptype == UNREGISTERED and child.tier >= 3:
            st.no_lawful_placement[la] += sign
        if price >= self.high_cost:
            st.high_cost[la] += sign
        (st.waiting if ptype == UNREGISTERED else st.placed)[la] += sign
        if ptype in LOCATED:
            st.located[la] += sign
            st.distance_sum[la] += sign * dist
            if dist > 20.0:
                st.over_20_miles[la] += sign
            if unit is not None and unit.la != la:
                st.outside_la[la] += sign

    def enter(self, child: Child, ptype: int, unit: Unit | None, price: float, dist: float) -> None:
        """Put ``child`` in a placement and update every live counter."""
        m = self.m
        t = m.env.now
        child.ptype, child.unit, child.price, child.miles = ptype, unit, price, dist
        child.same_placement_since = t
        share = m.commissioning.cofund_share[child.la]
        child.cofunded = price * share if share and child.tier >= 1 and ptype in COFUNDED else 0.0
        child.placed_t = t
        child.placements_this_year += 1
        child.version += 1
        self._count(child, +1)
        if ptype == UNREGISTERED:
            if child.wait_since < 0:
                child.wait_since = t
            self.waiting[child.unique_id] = child
        else:
            flow = m.rec.flow
            flow["placements_made"][child.la] += 1
            if child.wait_since >= 0:
                flow["days_to_placement"][child.la] += t - child.wait_since
                flow["placed_after_wait"][child.la] += 1
                child.wait_since = -1.0
        if unit is not None:
            unit.children.append(child)
            m.supply.occupancy_changed(unit, +1)
            self.refresh(unit)
        self._schedule_end(child)

    def leave(self, child: Child) -> Unit | None:
        """Take ``child`` out of its placement; returns the unit it left (if any)."""
        m = self.m
        unit = child.unit
        if child.ptype < 0:
            return None
        self._count(child, -1)
        m.accounts.paid += child.price * (m.env.now - child.placed_t) / 7.0
        if child.ptype == UNREGISTERED:
            self.waiting.pop(child.unique_id, None)
        child.ptype, child.unit, child.price, child.miles, child.cofunded = -1, None, 0.0, -1.0, 0.0
        child.version += 1
        if unit is not None:
            unit.children.remove(child)
            m.supply.occupancy_changed(unit, -1)
            self.refresh(unit)
            if unit.closing and not unit.children:
                m.supply.close_unit(unit)
        return unit

    # ------------------------------------------------------------------ placing
    def place_new(self, children: list[Child], count_split: bool = True) -> None:
        """Place a child or a sibling group entering care (or in the initial stock): the group
        in one unit if it scores best, otherwise as many together as fit and the rest again."""
        m = self.m
        first = children[0]
        if len(children) == 1:
            self.search_and_place(first)
            return
        found = self.find(first, group=len(children))
        if found is None:
            for c in children:
                self.search_and_place(c)
            if count_split:
                m.rec.flow["siblings_split"][first.la] += len(children)
            return
        unit = found[0]
        room = max(unit.vacancies, 1)
        together, rest = children[:room], children[room:]
        for c in together:
            self.enter(
                c,
                unit.ptype,
                unit,
                m.market.price(unit.ptype, c.tier, unit.price_factor),
                miles(c.lat, c.lon, unit.lat, unit.lon),
            )
        if rest:
            if count_split:
                m.rec.flow["siblings_split"][first.la] += len(children)
            self.place_new(rest, count_split=False)

    def search_and_place(self, child: Child, exclude: Unit | None = None) -> bool:
        """Search; place the child, or hold it in an emergency/unregistered placement. True if placed."""
        found = self.find(child, exclude=exclude)
        if found is None and self.cfg.policy.package.end_unregistered and child.tier < 3:
            found = self.find(child, exclude=exclude, stages=(HOMES + (SUPPORTED,),))  # homes stretch too
        if found is None:
            self.enter(child, UNREGISTERED, None, self.m.market.price(UNREGISTERED, child.tier), -1.0)
            return False
        unit, price, dist = found
        self.enter(child, unit.ptype, unit, price, dist)
        return True

    def place_without_search(self, child: Child, ptype: int) -> None:
        """Placements that are not bought: with parents, placed for adoption, other settings."""
        self.enter(child, ptype, None, self.m.market.price(ptype, child.tier), 0.0 if ptype == WITH_PARENTS else -1.0)

    def place_kinship(self, children: list[Child]) -> None:
        """A connected person is approved as a kinship foster carer for the child (or siblings)."""
        first = children[0]
        unit = self.m.supply.new_kinship_household(first.la, len(children))
        for c in children:
            self.enter(c, KINSHIP, unit, self.m.market.price(KINSHIP, c.tier), miles(c.lat, c.lon, unit.lat, unit.lon))

    def move(self, child: Child, reason: int, to: tuple | None, ptype: int | None = None) -> None:
        """Move ``child`` to ``to`` = (unit, price, miles), or to a placement without search."""
        old = self.leave(child)
        child.moves += 1
        self.m.rec.flow["moves"][child.la, reason] += 1
        if ptype is not None:
            self.place_without_search(child, ptype)
        elif to is None:
            self.search_and_place(child, exclude=old)
        else:
            self.enter(child, to[0].ptype, to[0], to[1], to[2])

    # ------------------------------------------------------------------ placement life
    def _schedule_end(self, child: Child) -> None:
        ptype = child.ptype
        if ptype == SECURE:
            months = self.cfg.breakdown.secure_order_months
            self.m.schedule(self.rng.exponential(months * 30.44), self._secure_order_ends, child, child.version)
            return
        base_u = self.unplanned.get(ptype, 0.0)
        base_p = self.planned.get(ptype, 0.0)
        if base_u <= 0 and base_p <= 0:
            return
        b = self.cfg.breakdown
        rate_u = base_u
        if child.age(self.m.env.now) >= 10.0:
            rate_u *= b.teen_multiplier
        if child.unit is not None and child.unit.max_tier < child.tier:
            rate_u *= b.mismatch_multiplier
        if child.miles > 20.0:
            rate_u *= b.distance_multiplier
        if child.unit is not None and len(child.unit.children) > child.unit.usable:
            rate_u *= b.stretch_multiplier
        rate_u *= b.history_multiplier ** min(child.moves, 5)
        total = rate_u + base_p
        delay = self.rng.exponential(DAYS_PER_YEAR / total)
        planned = self.rng.random() * total < base_p
        if child.placed_t + delay < child.exit_t:
            self.m.schedule(delay, self._planned_move if planned else self._breakdown, child, child.version)

    def _breakdown(self, child: Child, version: int) -> None:
        if child.version != version or child.ptype < 0:
            return
        u = self.reason_rng.random()
        reason = next((i for i, c in enumerate(self.reason_cdf) if u < c), len(self.reason_cdf) - 1)
        demand = self.cfg.demand
        if child.tier < 2 and self.reason_rng.random() < demand.needs_escalation_on_breakdown:
            child.tier += 1
        unit = child.unit
        if (
            unit is not None
            and child.ptype in (IN_HOUSE, IFA)
            and self.reason_rng.random() < self.cfg.fostering.quit_after_breakdown
        ):
            self.m.supply.deregister(unit, voluntary=False)
        self.move(child, reason + 1, None)  # reasons after CARE_PLAN, in MOVE_REASONS order

    def _planned_move(self, child: Child, version: int) -> None:
        if child.version != version or child.ptype < 0:
            return
        if child.ptype in HOMES and child.tier > 0:
            child.tier -= 1  # step-down: needs have eased enough for family care
            found = self.find(child, exclude=child.unit, stages=((IN_HOUSE,), (IFA,)), stretch=False)
        elif child.ptype in HOMES:
            found = self.find(child, exclude=child.unit, stages=((IN_HOUSE,), (IFA,)), stretch=False)
        else:
            found = self.find(child, exclude=child.unit, stages=((child.ptype,),), stretch=False)
        if found is not None:
            self.move(child, CARE_PLAN, found)
        else:
            self._schedule_end(child)

    def _secure_order_ends(self, child: Child, version: int) -> None:
        if child.version != version or child.ptype != SECURE:
            return
        child.tier = 2
        found = self.find(child, exclude=child.unit)
        if found is not None:
            self.move(child, CARE_PLAN, found)
        else:
            child.version += 1
            self._schedule_end(child)

    def retry_waiting(self) -> None:
        """Weekly: every waiting child's search is repeated, longest-waiting first."""
        for child in sorted(self.waiting.values(), key=lambda c: (c.wait_since, c.unique_id)):
            found = self.find(child)
            if found is not None:
                self.move(child, CARE_PLAN, found)


def _merge_foster(stages: tuple[tuple[int, ...], ...]) -> tuple[tuple[int, ...], ...]:
    """In-house and IFA carers compared in one stage (no in-house-first rule)."""
    out: list[tuple[int, ...]] = []
    for stage in stages:
        if stage == (IFA,) and out and out[-1] == (IN_HOUSE,):
            out[-1] = (IN_HOUSE, IFA)
        else:
            out.append(stage)
    return tuple(out)


__all__ = ["Placement"]
