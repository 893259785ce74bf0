"""Market: the weekly price a commissioner pays for each kind of placement.

External (IFA, private and voluntary homes, supported accommodation, secure) prices are the
published average for the kind x a needs-tier multiplier x the unit's own price factor (a
lognormal draw: a long upper tail, DESIGN.md s.6) x a scarcity factor that rises with the
national occupancy of usable places. In-house carers and LA homes cost their unit cost. A price
is fixed when a placement is made and paid until it ends.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Final

import numpy as np
from mypy_extensions import mypyc_attr

from rcc_sim.engine.agents import Unit
from rcc_sim.engine.processes import Context, Process
from rcc_sim.engine.recorder import counter, view
from rcc_sim.vocab import (
    ADOPTION,
    DAYS_PER_WEEK,
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
    from rcc_sim.engine.processes.supply import Supply

SPOT_KINDS: Final = (IFA, PRIVATE_HOME, SUPPORTED, SECURE)
BESPOKE_KINDS: Final = (LA_HOME, PRIVATE_HOME)  # where a child's bespoke package is paid (market.bespoke_share)
# Scarcity raises a spot price at most tenfold (ASSUMPTION: never binds at the defaults, where it
# stays under e^1; without a cap a kind with almost no usable places - e.g. a usable share of 0.002,
# within its bounds - and children in stretched places gave exp(> 709): an OverflowError)
MAX_SCARCITY_MULTIPLIER: Final = 10.0
NP: Final = len(PLACEMENT_TYPES)


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # see rcc_sim.engine.compiled
class Market(Process):
    """Prices by kind and needs tier, their weekly response to scarcity, and the spend accounts."""

    name = "market"
    needs = ("supply", "commissioning")
    supply: Supply
    commissioning: Commissioning

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        cfg = ctx.cfg
        m, f = cfg.market, cfg.fostering
        base = [0.0] * NP
        base[KINSHIP] = f.kinship_cost_week
        base[IN_HOUSE] = f.in_house_cost_week
        base[IFA] = f.ifa_price_week
        base[LA_HOME] = m.la_home_cost_week
        base[PRIVATE_HOME] = m.home_price_week
        base[SUPPORTED] = m.supported_price_week
        base[SECURE] = m.secure_price_week
        base[UNREGISTERED] = m.unregistered_price_week
        base[OTHER_SETTING] = m.other_setting_price_week
        base[WITH_PARENTS] = 0.0  # no placement fee (social work costs are outside the model)
        base[ADOPTION] = 0.0
        self.base = base  # plain floats: read on every candidate of every search
        # Published prices are averages over the children a kind of placement usually takes, so a
        # tier multiplier is applied relative to that kind's typical tier (ASSUMPTION below).
        mult = list(cfg.market.tier_price_multipliers)
        typical = {
            KINSHIP: 0,
            IN_HOUSE: 0,
            IFA: 0,
            SUPPORTED: 0,
            LA_HOME: 2,
            PRIVATE_HOME: 2,
            SECURE: 3,
            UNREGISTERED: 2,
            OTHER_SETTING: 1,
            WITH_PARENTS: 0,
            ADOPTION: 0,
        }
        self.tier_mult = [[x / mult[typical[k]] for x in mult] for k in range(NP)]
        self.scarcity = [1.0] * NP
        self.elasticity = m.scarcity_elasticity
        self.reference = np.zeros(NP)  # occupancy at the base date, by kind
        self.sigma = m.price_dispersion
        self.bespoke_multiplier = m.bespoke_multiplier
        # spot prices of private homes by the LA they are in, where an RCC's block prices move them
        # (Provision.respond_to_buyers); None: no RCC is live, every region at the national price
        self.local_price: list[float] | None = None
        # operating costs (outputs only): (cost ratio, fixed share) by kind; LA homes cost their price
        self.cost_terms = {
            PRIVATE_HOME: (m.home_cost_ratio, m.home_fixed_cost_share),
            IFA: (m.ifa_cost_ratio, m.ifa_fixed_cost_share),
            SUPPORTED: (m.supported_cost_ratio, m.supported_fixed_cost_share),
        }
        self.cost_occupancy = cfg.provision.target_occupancy
        self.rng = ctx.streams("prices")
        # profit cap (CWSA 2026 s.17): private prices cannot exceed cost x (1 + cap); in force
        # from the base date with the rest of the reform package (Commissioning.start_policy)
        self.cap = [1.0] * NP
        self.profit_cap_margin = -1.0  # < 0: no cap
        self._spot: list[list[float]] = []  # [kind][tier]: price before the buyer's discount and unit factor
        self._reprice()
        n = ctx.world.n_la
        self.spend = Accounts(ctx, n, "spend")
        self.cofunded = Accounts(ctx, n, "spend_cofunded")

    def _reprice(self) -> None:
        self._spot = [
            [self.base[k] * self.tier_mult[k][tier] * self.scarcity[k] * self.cap[k] for tier in range(4)]
            for k in range(NP)
        ]

    def build(self) -> None:
        """Prices at the base date are the published averages: occupancy then is the reference
        (called once the base-date children are placed)."""
        usable, filled = self.supply.usable, self.supply.filled
        for k in SPOT_KINDS:
            self.reference[k] = filled[k] / usable[k] if usable[k] > 0 else 0.0

    def start_package(self, pkg) -> None:
        """The reform package's profit cap comes into force (called by ``Commissioning.start_policy``)."""
        cap, m = pkg.profit_cap_margin, self.ctx.cfg.market
        if cap < 0:
            return
        self.profit_cap_margin = cap
        for k, margin in ((PRIVATE_HOME, m.home_margin), (IFA, m.ifa_margin), (SUPPORTED, m.home_margin)):
            self.cap[k] = min(1.0, (1.0 + cap) / (1.0 + margin))
        self._reprice()

    def rebase(self) -> None:
        """At the base date after a spin-up: occupancy then is the new reference, so prices are
        the published averages again (scarcity 1)."""
        self.build()
        self.scarcity = [1.0] * len(self.scarcity)
        self._reprice()

    def unit_price_factor(self) -> float:
        """A new unit's price relative to the average, mean 1 (lognormal)."""
        s = self.sigma
        return float(math.exp(self.rng.normal(-0.5 * s * s, s))) if s > 0 else 1.0

    def price(self, ptype: int, tier: int, buyer: int = -1, unit: Unit | None = None, bespoke: bool = False) -> float:
        """GBP per week that the commissioner of LA ``buyer`` pays for a child of needs ``tier``
        in a placement of type ``ptype`` (in ``unit``, if any). The one price function: the
        published average for the kind x the tier multiplier x scarcity x the profit cap x the
        unit's own price factor; on the spot market less the buyer's commissioner discount
        (national procurement, an RCC's buyer power); a unit reserved for an RCC (block
        contract, RCC-run) is paid at its contract price, which its price factor holds. A child
        with complex needs who needs a ``bespoke`` package (solo placement, extra staffing) costs
        ``market.bespoke_multiplier`` times as much in a children's home, whoever runs it."""
        if ptype == KINSHIP:
            return self.base[KINSHIP]
        price = self._spot[ptype][tier]
        if bespoke and tier >= 2 and ptype in BESPOKE_KINDS:
            price *= self.bespoke_multiplier
        if unit is not None:
            price *= unit.price_factor
            if unit.reserved_for >= 0:
                return price
            if self.local_price is not None and ptype == PRIVATE_HOME:
                price *= self.local_price[unit.la]
        if buyer >= 0 and ptype in SPOT_KINDS:
            discount = self.commissioning.spot_discount[buyer]
            if discount:
                price *= 1.0 - discount
        return price

    def spot_price(self, kind: int, tier: int, buyer: int) -> float:
        """``price(kind, tier, buyer)``: the search multiplies it by each unit's price factor,
        which is ``price(kind, tier, buyer, unit)`` for a unit on the open market (where an RCC's
        block prices move a region's private home prices, ``local_price``, the search ranks homes
        without that regional factor and the child pays it)."""
        return self.price(kind, tier, buyer)

    def list_multiplier(self, kind: int, tier: int, bespoke: bool) -> float:
        """A child's price relative to the kind's published average before scarcity, discounts and
        the unit's own factor: the tier multiplier (x ``bespoke_multiplier`` for a bespoke package)."""
        m = self.tier_mult[kind][tier]
        if bespoke and tier >= 2 and kind in BESPOKE_KINDS:
            m *= self.bespoke_multiplier
        return m

    def operating_cost(self, kind: int, mean_price: float, mean_multiplier: float) -> tuple[float, list[float]]:
        """A provider's weekly operating cost of a unit of ``kind`` (private or voluntary home, IFA,
        supported accommodation), calibrated on the children placed in such units at the base date
        - their mean price ``mean_price`` and mean :meth:`list_multiplier` - so that at the
        reference occupancy ``o`` (``provision.target_occupancy``, the same in every world) cost is
        ``market.*_cost_ratio`` of revenue: (cost per usable place, filled or not: ``fixed share x
        ratio x mean_price x o``; cost per child by needs tier: the rest, in proportion to the
        child's list multiplier; a bespoke package costs ``bespoke_multiplier`` times as much)."""
        ratio, fixed = self.cost_terms[kind]
        full = ratio * mean_price
        per_child = [(1.0 - fixed) * full * m / mean_multiplier for m in self.tier_mult[kind]]
        return fixed * full * self.cost_occupancy, per_child

    def entry_multiplier(self) -> float:
        """Fall in providers' openings when the profit cap removes part of their margin."""
        if self.profit_cap_margin < 0:  # no cap, or not in force yet
            return 1.0
        removed = max(self.ctx.cfg.market.home_margin - self.profit_cap_margin, 0.0)
        return max(0.0, 1.0 - self.ctx.cfg.policy.package.profit_cap_entry_elasticity * removed)

    def accrue_spend(self) -> None:
        """Weekly: spend and co-funded spend accrued up to the end of the week."""
        self.spend.accrue_all()
        self.cofunded.accrue_all()

    def update_prices(self) -> None:
        """Weekly: spot prices respond to national occupancy of usable places by kind."""
        usable, filled = self.supply.usable, self.supply.filled
        for k in SPOT_KINDS:
            if usable[k] > 0:
                x = self.elasticity * float(filled[k] / usable[k] - self.reference[k])
                self.scarcity[k] = math.exp(min(x, math.log(MAX_SCARCITY_MULTIPLIER)))
        self._reprice()


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # see rcc_sim.engine.compiled
class Accounts:
    """Spend by LA and placement type, accrued exactly between events.

    ``rate[la * NP + ptype]`` is what the LA is paying per week right now; each change first
    accrues the cell up to now, so the weekly spend is the exact integral of prices over time.
    ``paid`` independently sums price x duration over ended placements (for the invariant tests).
    ``rate`` and ``last`` are flat vectors of doubles (:func:`rcc_sim.engine.recorder.counter`:
    the compiled engine reads and writes them natively); the weekly accrual reads them as arrays.
    """

    def __init__(self, ctx: Context, n_la: int, flow: str):
        self.clock = ctx.clock
        self.flow = flow  # the recorder flow it accrues into: (la, ptype) or (la,)
        self.n_la = n_la
        self.rate = counter(n_la * NP)
        self.last = counter(n_la * NP)
        self.paid = 0.0
        self.active = False  # any change yet (accrue_all skips an account that never had one)
        self.rec = ctx.rec
        self._flow = ctx.rec.live[flow]
        self._by_type = len(ctx.rec.shapes[flow]) == 2
        self._placements = ctx.rec.live["placements"]

    def change(self, la: int, ptype: int, delta_per_week: float) -> None:
        if delta_per_week == 0.0:
            return
        self.active = True
        t = self.clock.now
        i = la * NP + ptype
        owed = self.rate[i] * (t - self.last[i]) / DAYS_PER_WEEK
        j = i if self._by_type else la
        self._flow[j] = self._flow[j] + owed  # the long form: see Recorder (native in the compiled engine)
        self.last[i] = t
        if self._placements[i] == 0:
            self.rate[i] = 0.0  # no rounding residue once the last such placement has ended
        else:
            self.rate[i] = self.rate[i] + delta_per_week

    def accrue_all(self) -> None:
        """Accrue every cell up to now (weekly). An account nothing was ever paid into (the
        co-funded spend under a policy without co-funding) owes nothing: skipped."""
        if not self.active:
            return
        t = self.clock.now
        rate = view(self.rate).reshape(self.n_la, NP)
        last = view(self.last).reshape(self.n_la, NP)
        owed = rate * (t - last) / DAYS_PER_WEEK
        self.rec.add(self.flow, ..., owed if self._by_type else owed.sum(axis=1))
        cells = self.last
        for i in range(len(cells)):
            cells[i] = t
