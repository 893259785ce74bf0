"""Market health: what providers are paid and what it costs them, concentration, prices paid.

Outputs only: this process reads the units and children and writes the recorder's annual and
market arrays; it draws no random number and schedules nothing, so a run with it is the run
without it.

* **Weekly accounts** (:meth:`MarketHealth.account_week`). For every open unit in the simulated
  LAs that a provider is paid for - private and voluntary children's homes, IFA households,
  supported accommodation - and for LA-run homes: the week's revenue (the prices of the children
  in it, fixed when each was placed, plus, for a home block-contracted to an RCC, its empty usable
  places at the contract price, as the RCC pays them: ``commissioning.accrue_costs``), its
  operating cost (:meth:`rcc_sim.engine.processes.market.Market.operating_cost`: per usable
  place, filled or not, and per child by needs tier, calibrated on the children placed at the
  base date so that at the reference occupancy cost is the CMA-based share of revenue), its
  usable places and children, by the LA the unit is in and its provider's sector
  (``recorder.PROVIDER_SECTORS``). LA-run homes earn no revenue: their cost is what the model
  charges for their children (the LA's unit cost). The prices of the children in IFA, private and
  voluntary homes, supported accommodation and secure homes are also summed by the child's LA,
  placement type and needs tier (the price index: ``mean_price_paid``, relative to the first year
  in :func:`rcc_sim.studies.market_health`). A week is weighted by its length (the last week of a
  year ends on 31 March).

  The weekly rates are kept running: a child's share (its price, its cost by tier, its cell of the
  price index) is added when it is placed in a unit and taken away when it leaves or its needs
  tier changes (:meth:`MarketHealth.placed`, called by the placement process); a unit's usable
  places are re-read each week if its places changed or it opened or closed (``Supply.touched``).
  At each calibration (the base date, and a kept spin-up's first week) every unit and child is
  counted afresh.
* **31 March** (:meth:`MarketHealth.census_31_march`). The Herfindahl-Hirschman index of places
  by provider group in each region and England, for children's homes (private, voluntary and
  LA-run: each LA one group) and IFAs, over all LAs' units (a region's market includes LAs
  outside the simulated world); and the children's home places of the 22 groups with most
  places, by LA.

Provider failures and the homes they close are counted where they happen
(:meth:`rcc_sim.engine.processes.provision.Provision.provider_failures`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import numpy as np
from mypy_extensions import mypyc_attr

from rcc_sim.engine.agents import Home, Unit
from rcc_sim.engine.processes import Context, Process
from rcc_sim.engine.processes.market import BESPOKE_KINDS
from rcc_sim.engine.processes.provision import home_sector
from rcc_sim.engine.recorder import MARKET_SECTORS, PRICE_CELLS, PROVIDER_SECTORS, counter, view, zero
from rcc_sim.vocab import DAYS_PER_WEEK, IFA, LA_HOME, NEEDS_TIERS, PLACEMENT_TYPES, PRIVATE_HOME, SECURE, SUPPORTED

if TYPE_CHECKING:
    from rcc_sim.engine.child import Child
    from rcc_sim.engine.commissioning import Commissioning
    from rcc_sim.engine.processes.fostering import Fostering
    from rcc_sim.engine.processes.market import Market
    from rcc_sim.engine.processes.provision import Provision
    from rcc_sim.engine.processes.supply import Supply

N_LARGEST: Final = 22  # the share of places held by the largest groups (Ofsted 2024: the 22 largest own 968 homes)
SECTOR: Final = {name: i for i, name in enumerate(PROVIDER_SECTORS)}
# the sectors a unit's accounts go to (_sector), looked up once
_IFA_LARGE: Final = PROVIDER_SECTORS.index("ifa_large")
_IFA_OTHER: Final = PROVIDER_SECTORS.index("ifa_other")
_SUPPORTED: Final = PROVIDER_SECTORS.index("supported")
_LA_HOME: Final = PROVIDER_SECTORS.index("la_home")
HOMES: Final = MARKET_SECTORS.index("childrens_homes")
IFAS: Final = MARKET_SECTORS.index("ifa")
PRICED: Final = (IFA, PRIVATE_HOME, SUPPORTED, SECURE)  # placement types in the price index
TRACKED: Final = (IFA, PRIVATE_HOME, SUPPORTED, SECURE, LA_HOME)  # units whose accounts or prices are kept
# a unit's own weekly contribution (MarketHealth._entry): its LA, sector and usable places (its
# children's shares are added and taken away one by one: MarketHealth.placed)
Entry = tuple[int, int, int]
# sectors whose fixed cost per usable place is that of a kind (Market.operating_cost)
FIXED_COST_SECTORS: Final = {
    PRIVATE_HOME: [SECTOR["private_home_large"], SECTOR["private_home_other"], SECTOR["voluntary_home"]],
    IFA: [SECTOR["ifa_large"], SECTOR["ifa_other"]],
    SUPPORTED: [SECTOR["supported"]],
}


def hhi(places: dict[int, float]) -> float:
    """Herfindahl-Hirschman index of ``places`` by group: the sum of squared shares (0 if none)."""
    total = sum(places.values())
    if total <= 0:
        return 0.0
    return sum((p / total) ** 2 for p in places.values())


def _sector_of(unit: Unit) -> int:
    """The market-health sector (recorder.PROVIDER_SECTORS) of a unit of a tracked kind."""
    if unit.ptype == IFA:
        return _IFA_LARGE if unit.provider is not None and unit.provider.large else _IFA_OTHER
    if unit.ptype == SUPPORTED:
        return _SUPPORTED
    if unit.ptype == LA_HOME or unit.provider is None:
        return _LA_HOME
    return home_sector(unit.provider)


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # see rcc_sim.engine.compiled
class MarketHealth(Process):
    """Providers' revenue, costs and places by sector; concentration; prices paid by kind and tier."""

    name = "market_health"
    needs = ("provision", "fostering", "market", "commissioning", "supply")
    supply: Supply
    provision: Provision
    fostering: Fostering
    market: Market
    commissioning: Commissioning

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        w = ctx.world
        regions = list(dict.fromkeys(w.regions.tolist()))
        self.areas = regions + ["England"]
        ctx.rec.allocate_market(self.areas)
        self.area_of = [regions.index(r) for r in w.regions.tolist()]
        self.simulated = [bool(x) for x in w.simulated]
        n = w.n_la
        self.entries: dict[int, Entry] = {}  # unit id -> its current weekly contribution (_entry)
        # running weekly rates: flat vectors of doubles updated cell by cell (la * k + j, as the
        # recorder's live counters: rcc_sim.engine.recorder.counter), read as arrays once a week
        # (``rate``, ``paid_rate``, ``bought_rate``)
        n_sectors, n_cells = len(PROVIDER_SECTORS), len(PRICE_CELLS)
        self._n_la, self._n_sectors, self._n_cells = n, n_sectors, n_cells
        self._rate = counter(n * n_sectors * 4)
        self._paid = counter(n * n_cells)
        self._bought = counter(n * n_cells)
        # operating costs by kind (_calibrate): per usable place, per child by tier; and the mean
        # price and list multiplier they were calibrated on
        self.fixed: dict[int, float] = {}
        self.per_child: dict[int, list[float]] = {}
        self.calibration: dict[int, tuple[float, float]] = {}
        self.at_base = False  # calibrated at the base date (not only at a spin-up's start)
        self.live = False  # children's shares are kept (placed): from the first calibration
        self.bespoke_mult = ctx.cfg.market.bespoke_multiplier
        # price cell of a child of each needs tier, by placement type (index into PRICE_CELLS)
        self._cell_row: list[list[int] | None] = [
            [PRICE_CELLS.index(f"{PLACEMENT_TYPES[k]}|{tier}") for tier in NEEDS_TIERS] if k in PRICED else None
            for k in range(len(PLACEMENT_TYPES))
        ]

    @property
    def rate(self) -> np.ndarray:
        """Usable places, children, revenue and variable cost a week, by LA and sector."""
        return view(self._rate).copy().reshape(self._n_la, self._n_sectors, 4)

    @property
    def paid_rate(self) -> np.ndarray:
        """GBP a week by the child's LA and price cell."""
        return view(self._paid).copy().reshape(self._n_la, self._n_cells)

    @property
    def bought_rate(self) -> np.ndarray:
        """Children by the child's LA and price cell."""
        return view(self._bought).copy().reshape(self._n_la, self._n_cells)

    def bind(self, **collaborators) -> None:
        super().bind(**collaborators)
        self.supply.watch(tuple(k for k in TRACKED if k != SECURE))  # the kinds whose places _entry reads

    # ------------------------------------------------------------------ the units
    def _homes(self) -> list[Home]:
        """Open homes of every kind, in every LA (ordered by id: sums do not depend on set order)."""
        homes = [u for u in self.ctx.agents.agents_of(Home) if u.open]
        homes.sort(key=lambda u: u.unique_id)
        return homes

    def _ifa_households(self) -> list[Unit]:
        return [u for p in self.fostering.ifa_providers for u in p.units.values() if u.open]

    @staticmethod
    def _sector(unit: Unit) -> int:
        """The unit's market-health sector, worked out once and kept on the unit (``Unit.sector``:
        its kind and its provider's kind and size never change; a failed large group's homes pass
        to a large group, the same sector), instead of reading the provider (a mesa agent: its
        fields are dictionary entries) at every child placed or leaving."""
        sector = unit.sector
        if sector < 0:
            sector = unit.sector = _sector_of(unit)
        return sector

    # ------------------------------------------------------------------ weekly
    def _entry(self, unit: Unit) -> Entry | None:
        """A unit's own weekly contribution now, (la, sector, usable places), or None if it has
        none (closed, outside the simulated LAs, a kind not accounted, or a secure home: its
        children's prices count, its places do not)."""
        la, k = unit.la, unit.ptype
        if not unit.open or not self.simulated[la] or k not in TRACKED or k == SECURE:
            return None
        return (la, self._sector(unit), unit.usable)

    def _update(self, unit: Unit) -> None:
        """Replace a unit's usable places in the running weekly rates by its places now."""
        uid = unit.unique_id
        old = self.entries.pop(uid, None)
        new = self._entry(unit)
        if new is not None:
            self.entries[uid] = new
        if old == new:  # unchanged: taking it out and adding it back could only leave rounding residue
            return
        rate, n_sectors = self._rate, self._n_sectors
        if old is not None:
            j = (old[0] * n_sectors + old[1]) * 4
            rate[j] = rate[j] - old[2]  # the long form: see Recorder (native when compiled)
        if new is not None:
            j = (new[0] * n_sectors + new[1]) * 4
            rate[j] = rate[j] + new[2]

    def placed(self, child: Child, unit: Unit, sign: float) -> None:
        """``child`` placed in (+1) or taken out of (-1) ``unit``: its share of the running weekly
        rates - one child, its price (revenue; an LA-run home's cost), its cost by needs tier, its
        cell of the price index - added or taken away, as it is now (the placement process takes a
        child out and puts it back around a change of its needs tier). Nothing before the first
        calibration, or over a spin-up whose weeks are not kept (:meth:`account_week`)."""
        k = unit.ptype
        if not self.live or k not in TRACKED or not self.simulated[unit.la]:
            return
        price, tier = child.price, child.tier
        row = self._cell_row[k]
        if row is not None:
            j = child.la * self._n_cells + row[tier]
            self._paid[j] = self._paid[j] + sign * price
            self._bought[j] = self._bought[j] + sign
        if k == SECURE:
            return
        rate = self._rate
        j = (unit.la * self._n_sectors + self._sector(unit)) * 4
        rate[j + 1] = rate[j + 1] + sign
        if k == LA_HOME:  # no revenue: its cost is what the model charges for the child
            rate[j + 3] = rate[j + 3] + sign * price
            return
        v = self.per_child[k][tier]
        if child.bespoke and tier >= 2 and k in BESPOKE_KINDS:
            v *= self.bespoke_mult
        rate[j + 2] = rate[j + 2] + sign * price
        rate[j + 3] = rate[j + 3] + sign * v

    def account_week(self) -> None:
        """Weekly: the week's revenue, cost, usable places and children of providers' units, and
        the prices paid by placement type and needs tier (see the module docstring), from the
        running rates; units whose places changed, or that opened or closed, are re-read first
        (``Supply.touched``).
        During a spin-up whose weeks are not kept (``output.include_spin_up`` off) nothing is
        accounted: at the base date every unit is counted from scratch anyway (``_calibrate``), so
        the outputs from there are the same, and a ten-year England run is about 5 s quicker."""
        touched = self.supply.touched
        if self.rec.first_week > 0 and self.clock.now < self.clock.base_day:  # spin-up weeks not kept (Recorder)
            touched.clear()
            return
        if not self.per_child or (not self.at_base and self.clock.now >= self.clock.base_day):
            self._calibrate()
        for uid in sorted(touched):  # in id order (keys: unit ids), sorted as ints without a key function
            self._update(touched[uid])
        touched.clear()
        ann = self.rec.annual
        y = self.clock.year_index()
        if y >= ann["provider_revenue"].shape[0]:
            return
        weeks = self.clock.week_length() / DAYS_PER_WEEK
        rate = self.rate
        usable, n, earned, spent = (rate[:, :, j] for j in range(4))
        fixed = np.zeros(len(PROVIDER_SECTORS))
        for kind, sectors in FIXED_COST_SECTORS.items():
            fixed[sectors] = self.fixed[kind]
        earned = earned + self._void_revenue()
        cost = spent + usable * fixed
        ann["provider_revenue"][y] += earned * weeks
        ann["provider_cost"][y] += cost * weeks
        ann["provider_profit"][y] += (earned - cost) * weeks
        ann["provider_place_weeks"][y] += usable * weeks
        ann["provider_child_weeks"][y] += n * weeks
        ann["price_paid"][y] += self.paid_rate * weeks
        ann["price_child_weeks"][y] += self.bought_rate * weeks

    def _calibrate(self) -> None:
        """Providers' operating costs (:meth:`Market.operating_cost`) from the children in private
        and voluntary homes, IFA households and supported accommodation in the simulated LAs at the
        base date (and, with a spin-up, at its first day for the spin-up's years): their mean price
        and mean list multiplier by kind (the kind's published price if none). Every unit's
        contribution is then re-read with the new costs."""
        market = self.market
        units = self._homes() + self._ifa_households()
        sums = {k: [0.0, 0.0, 0] for k in FIXED_COST_SECTORS}
        for unit in units:
            if unit.ptype in sums and self.simulated[unit.la]:
                acc = sums[unit.ptype]
                for c in unit.children:
                    acc[0] += c.price
                    acc[1] += market.list_multiplier(unit.ptype, c.tier, c.bespoke)
                    acc[2] += 1
        for kind, (price, mult, n) in sums.items():
            mean_price, mean_mult = (price / n, mult / n) if n else (market.base[kind], 1.0)
            self.fixed[kind], self.per_child[kind] = market.operating_cost(kind, mean_price, mean_mult)
            self.calibration[kind] = (mean_price, mean_mult)
        self.at_base = self.clock.now >= self.clock.base_day
        self.entries.clear()
        for buf in (self._rate, self._paid, self._bought):
            zero(buf)
        self.live = True
        for unit in sorted(units, key=lambda u: u.unique_id):  # sums in id order, as any week's
            self._update(unit)
            for c in unit.children:
                self.placed(c, unit, 1.0)
        self.supply.touched.clear()  # every unit was just read

    def _void_revenue(self) -> np.ndarray:
        """Weekly revenue from the empty usable places of block-contracted homes (paid by the RCC
        at the contract price, as in ``Commissioning.accrue_costs``), by LA and sector."""
        out = np.zeros((self._n_la, self._n_sectors))
        for rcc in self.commissioning.rccs:
            if not rcc.live:
                continue
            for u in rcc.block_units:
                void = max(u.usable - len(u.children), 0)
                if u.open and void and self.simulated[u.la] and u.ptype == PRIVATE_HOME:
                    out[u.la, self._sector(u)] += void * self.market.price(PRIVATE_HOME, 2, -1, u)
        return out

    # ------------------------------------------------------------------ yearly
    def census_31_march(self) -> None:
        """Yearly: HHI of places by provider group in each region and England (children's homes,
        IFAs) and the children's home places of the 22 largest groups by LA. Nothing in a spin-up
        year whose outputs are not kept (``Recorder.first_year``): this step only writes them."""
        y = self.clock.year_index()
        ann, mk = self.rec.annual, self.rec.market
        if y >= mk["hhi_places"].shape[0] or y < self.rec.first_year:
            return
        homes = [h for h in self._homes() if h.ptype in (PRIVATE_HOME, LA_HOME)]
        for sector, units in ((HOMES, homes), (IFAS, self._ifa_households())):
            by_area: list[dict[int, float]] = [{} for _ in self.areas]
            for u in units:
                g = u.provider.unique_id if u.provider is not None else -1 - u.owner_la
                for a in (self.area_of[u.la], len(self.areas) - 1):
                    by_area[a][g] = by_area[a].get(g, 0.0) + u.places
            for a, places in enumerate(by_area):
                mk["hhi_places"][y, a, sector] = hhi(places)
                mk["market_places"][y, a, sector] = sum(places.values())
                mk["market_providers"][y, a, sector] = sum(1 for p in places.values() if p > 0)
            if sector == HOMES:
                england = by_area[-1]
                largest = {g for g, _ in sorted(england.items(), key=lambda gp: (-gp[1], gp[0]))[:N_LARGEST]}
                top, total = ann["home_places_largest_22"][y], ann["home_places_31mar"][y]
                for u in units:
                    total[u.la] += u.places
                    g = u.provider.unique_id if u.provider is not None else -1 - u.owner_la
                    if g in largest:
                        top[u.la] += u.places


__all__ = ["MarketHealth", "hhi", "N_LARGEST"]
