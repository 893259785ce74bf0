"""Market: the weekly price a commissioner pays for each kind of placement.

External (IFA, private and voluntary homes, supported accommodation, secure) prices are the
published average for the kind x a needs-tier multiplier x the unit's own price factor (a
lognormal draw: a long upper tail, DESIGN.md s.6) x a scarcity factor that rises with the
national occupancy of usable places. In-house carers and LA homes cost their unit cost. A price
is fixed when a placement is made and paid until it ends.
"""

from __future__ import annotations

import math

import numpy as np

from rcc_sim.vocab import (
    ADOPTION,
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

SPOT_KINDS = (IFA, PRIVATE_HOME, SUPPORTED, SECURE)


class Market:
    def __init__(self, model):
        cfg = model.cfg
        self.model = model
        m, f = cfg.market, cfg.fostering
        self.base = np.zeros(len(PLACEMENT_TYPES))
        self.base[KINSHIP] = f.kinship_cost_week
        self.base[IN_HOUSE] = f.in_house_cost_week
        self.base[IFA] = f.ifa_price_week
        self.base[LA_HOME] = m.la_home_cost_week
        self.base[PRIVATE_HOME] = m.home_price_week
        self.base[SUPPORTED] = m.supported_price_week
        self.base[SECURE] = m.secure_price_week
        self.base[UNREGISTERED] = m.unregistered_price_week
        self.base[OTHER_SETTING] = m.other_setting_price_week
        self.base[WITH_PARENTS] = 0.0  # no placement fee (social work costs are outside the model)
        self.base[ADOPTION] = 0.0
        self.base = self.base.tolist()  # plain floats: read on every candidate of every search
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
        self.tier_mult = [[m / mult[typical[k]] for m in mult] for k in range(len(PLACEMENT_TYPES))]
        self.scarcity = [1.0] * len(PLACEMENT_TYPES)
        self.elasticity = m.scarcity_elasticity
        self.reference = np.zeros(len(PLACEMENT_TYPES))  # occupancy at the base date, by kind
        self.sigma = m.price_dispersion
        self.rng = model.streams("prices")
        # profit cap (CWSA 2026 s.17): private prices cannot exceed cost x (1 + cap)
        cap = cfg.policy.package.profit_cap_margin
        self.cap = [1.0] * len(PLACEMENT_TYPES)
        if cap >= 0:
            for k, margin in ((PRIVATE_HOME, m.home_margin), (IFA, m.ifa_margin), (SUPPORTED, m.home_margin)):
                self.cap[k] = min(1.0, (1.0 + cap) / (1.0 + margin))

    def unit_price_factor(self) -> float:
        """A new unit's price relative to the average, mean 1 (lognormal)."""
        s = self.sigma
        return float(math.exp(self.rng.normal(-0.5 * s * s, s))) if s > 0 else 1.0

    def price(self, ptype: int, tier: int, unit_factor: float = 1.0, la: int = -1) -> float:
        """GBP per week for a child of needs ``tier`` in a placement of type ``ptype``; ``la``
        (the buyer) gets its commissioner's negotiated discount on spot purchases."""
        base = self.base[ptype]
        if ptype == KINSHIP or base == 0.0:
            return base
        price = base * self.tier_mult[ptype][tier] * unit_factor * self.scarcity[ptype] * self.cap[ptype]
        if la >= 0 and ptype in SPOT_KINDS:
            discount = self.model.commissioning.spot_discount[la]
            if discount:
                price *= 1.0 - discount
        return price

    def entry_multiplier(self) -> float:
        """Fall in providers' openings when the profit cap removes part of their margin."""
        pkg = self.model.cfg.policy.package
        if pkg.profit_cap_margin < 0:
            return 1.0
        removed = max(self.model.cfg.market.home_margin - pkg.profit_cap_margin, 0.0)
        return max(0.0, 1.0 - pkg.profit_cap_entry_elasticity * removed)

    def set_reference(self, usable: np.ndarray, filled: np.ndarray) -> None:
        """Prices at the base date are the published averages: occupancy then is the reference."""
        for k in SPOT_KINDS:
            self.reference[k] = filled[k] / usable[k] if usable[k] > 0 else 0.0

    def update(self, usable: np.ndarray, filled: np.ndarray) -> None:
        """Weekly: spot prices respond to national occupancy of usable places by kind."""
        for k in SPOT_KINDS:
            if usable[k] > 0:
                self.scarcity[k] = math.exp(self.elasticity * float(filled[k] / usable[k] - self.reference[k]))


class Accounts:
    """Spend by LA and placement type, accrued exactly between events.

    ``rate[la, ptype]`` is what the LA is paying per week right now; each change first accrues
    the cell up to now, so the weekly spend is the exact integral of prices over time.
    ``paid`` independently sums price x duration over ended placements (for the invariant tests).
    """

    def __init__(self, model, n_la: int, flow: str):
        self.m = model
        self.flow = flow  # the recorder flow it accrues into: (la, ptype) or (la,)
        self.rate = np.zeros((n_la, len(PLACEMENT_TYPES)))
        self.last = np.zeros((n_la, len(PLACEMENT_TYPES)))
        self.paid = 0.0
        self._flow = model.rec.flow[flow]  # updated in place by the recorder, never replaced
        self._placements = model.rec.stock["placements"]

    def change(self, la: int, ptype: int, delta_per_week: float) -> None:
        if delta_per_week == 0.0:
            return
        t = self.m.env.now
        owed = self.rate[la, ptype] * (t - self.last[la, ptype]) / 7.0
        if self._flow.ndim == 2:
            self._flow[la, ptype] += owed
        else:
            self._flow[la] += owed
        self.last[la, ptype] = t
        self.rate[la, ptype] += delta_per_week
        if self._placements[la, ptype] == 0:
            self.rate[la, ptype] = 0.0  # no rounding residue once the last such placement has ended

    def accrue_all(self) -> None:
        t = self.m.env.now
        owed = self.rate * (t - self.last) / 7.0
        self._flow += owed if self._flow.ndim == 2 else owed.sum(axis=1)
        self.last[:] = t
