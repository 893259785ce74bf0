"""Children's homes, supported accommodation and secure homes, with their providers.

* **Base date.** Ofsted's homes and places; private and voluntary homes spread across regions
  by the published regional shares (North West a quarter; London, the South East and South
  West few), the remaining regions sharing the rest by child population, and within a region
  by child population (ASSUMPTION). LA-run homes in proportion to each LA's children in care.
  The 22 largest groups own 35% of private homes; the rest belong to small providers.
* **Openings (quarterly).** How many: ``opening_rate`` per home a year times the entry
  response to scarcity (:meth:`Provision.entry_response`: more openings when the national
  occupancy of usable places is above ``target_occupancy``, fewer below; England worlds only:
  in a world of some LAs its homes also serve LAs that are not simulated). Where: providers open
  homes where the expected return - occupancy over property cost - is highest; a new home opens
  after a planning and registration lead time, with ``new_home_places`` places on average
  (smaller than the stock's average, as Ofsted's homes got smaller: 4.4 -> 3.9 places a home
  over 2019-2023); so do the LA homes of a capital programme.
* **Supported accommodation (quarterly).** Settings open at ``supported_opening_rate`` times the
  same entry response (on supported accommodation's own occupancy), in regions in proportion
  to their children in care and within a region where providers already run settings (as for
  homes; ASSUMPTION: with settings opened in each LA in proportion to its own children in care,
  the share placed outside the LA fell 0.3 points a year against the published +1), after a
  short lead time. Without this the places stay at their base-date number while the
  16-17 year olds needing them grow, the settings fill to the last place and young people are
  placed wherever one is free (the model's share placed over 20 miles then rose 12 points in
  four years).
* **One customer and block prices (RCC levers on only).** Once an RCC is live, each quarter
  (:meth:`Provision.respond_to_buyers`) providers look at each region's private home places: an
  RCC's share of them (its members' children in them and its block places) deters entry
  (``market.monopsony_entry_elasticity``; England worlds only), and the revenue at risk from
  block prices below spot (block places' share x their discount) deters it more
  (``market.block_entry_elasticity``) and moves the region's spot prices towards the block
  price (``market.block_price_pass_through``).
  Openings in a region are multiplied by its entry factor (and the total with them). With no
  RCC live nothing here runs: the status quo is unchanged (and so is an RCC with its pooled search,
  buyer power and block contracts off: :func:`buys_as_one`).
* **Closures.** Each home and setting has a closure hazard and an extra one when it stands
  empty; a failing provider closes all its homes at once. Children in a closing home must move.

Secure places are held at their base-date level.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import TYPE_CHECKING, Final

import numpy as np
from mypy_extensions import mypyc_attr

from rcc_sim.engine.agents import Home, Provider
from rcc_sim.engine.processes import Context, Process
from rcc_sim.engine.processes.supply import HOME_INDEX, binomial
from rcc_sim.engine.recorder import PROVIDER_SECTORS
from rcc_sim.vocab import DAYS_PER_YEAR, LA_HOME, PRIVATE_HOME, SECURE, SUPPORTED

if TYPE_CHECKING:
    from rcc_sim.engine.commissioning import Commissioning
    from rcc_sim.engine.processes.market import Market
    from rcc_sim.engine.processes.supply import Supply

N_LARGE_GROUPS: Final = 22  # Ofsted 2024: the 22 largest providers own 968 homes
SUPPORTED_PROVIDERS: Final = 258  # Ofsted 2024: registered supported accommodation providers
# Secure children's homes (ASSUMPTION: LAs known to host one, Ofsted register as recalled; 13 homes in 2023)
SECURE_HOME_LAS: Final = (
    "Salford",
    "St. Helens",
    "Leeds",
    "Sheffield",
    "Nottinghamshire",
    "Lincolnshire",
    "South Gloucestershire",
    "Hampshire",
    "County Durham",
    "Northumberland",
    "Devon",
    "Essex",
    "Birmingham",
)
# The entry response to scarcity is capped at 10 times the opening rate (ASSUMPTION: the market
# cannot build faster, and within the declared bounds exp(elasticity x excess) reaches e^50)
MAX_ENTRY_MULTIPLIER: Final = 10.0
# ASSUMPTION: share of homes equipped up to complex / very complex needs (not Final: see vocab.AGE_BAND_EDGES)
HOME_TIER_SHARES = (0.0, 0.4, 0.6)


_LA_HOME_SECTOR: Final = PROVIDER_SECTORS.index("la_home")
_VOLUNTARY_SECTOR: Final = PROVIDER_SECTORS.index("voluntary_home")
_LARGE_PRIVATE_SECTOR: Final = PROVIDER_SECTORS.index("private_home_large")
_OTHER_PRIVATE_SECTOR: Final = PROVIDER_SECTORS.index("private_home_other")


def home_sector(provider: Provider) -> int:
    """The market-health sector (recorder.PROVIDER_SECTORS) of a children's home provider."""
    if provider.kind == "la":
        return _LA_HOME_SECTOR
    if provider.kind == "voluntary":
        return _VOLUNTARY_SECTOR
    return _LARGE_PRIVATE_SECTOR if provider.large else _OTHER_PRIVATE_SECTOR


def buys_as_one(rcc) -> bool:
    """An RCC buys for its members as one customer when it pools their search, uses its buyer
    power or holds block contracts; with those levers off providers see its members as before."""
    c = rcc.cfg
    return bool(c.pooled_search or c.buyer_power_discount > 0 or rcc.block_units)


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # see rcc_sim.engine.compiled
class Provision(Process):
    """Children's homes, supported accommodation and secure homes: base date, openings, closures."""

    name = "provision"
    needs = ("supply", "market", "commissioning")
    supply: Supply
    market: Market
    commissioning: Commissioning
    QUARTER_DAYS = 91.0

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        self.cfg = ctx.cfg.provision
        self.las = ctx.agents.las
        self.rng = ctx.streams("provision_build")
        self.draw = ctx.streams.draws("provision_build/homes")
        self.open_rng = ctx.streams("home_openings")
        self.close_rng = ctx.streams("home_closures")
        self.close_draw = ctx.streams.draws("home_closures/hazard")
        self.private_providers: list[Provider] = []
        self.homes: dict[int, Home] = {}  # open private/voluntary children's homes
        self.supported: dict[int, Home] = {}  # open supported accommodation settings
        self.supported_providers: list[Provider] = []
        # the entry response needs the national occupancy: in a world of some LAs, the homes in it
        # also take children from LAs that are not simulated, so their occupancy says nothing about
        # scarcity and openings stay at their rates (as before the response existed)
        self.respond_to_scarcity = bool(ctx.world.simulated.all())
        # region -> openings multiplier from RCC buying and block prices (respond_to_buyers);
        # empty while no RCC is live
        self.buyer_entry: dict[str, float] = {}
        # secure children's homes built at the base date: (home, welfare places staffed, places
        # contracted to youth justice); youth-justice children in each (youth_justice_demand)
        self.secure_homes: list[tuple[Home, int, int]] = []
        self._justice_in: dict[int, int] = defaultdict(int)
        self.justice_rng = ctx.streams("youth_justice")

    # ------------------------------------------------------------------ base date
    def _home_weights(self) -> np.ndarray:
        w, c = self.world, self.cfg
        pop = w.child_population
        weights = np.zeros(w.n_la)
        named = c.region_home_shares
        rest = [r for r in dict.fromkeys(w.regions) if r not in named]
        rest_pop: float = sum((pop[w.regions == r].sum() for r in rest), 0.0)
        for region, idx in w.region_index().items():
            share = named[region] if region in named else (1 - sum(named.values(), 0.0)) * pop[idx].sum() / rest_pop
            weights[idx] = share * pop[idx] / pop[idx].sum()
        return weights / weights.sum()

    def build(self) -> None:
        w, c, rng = self.world, self.cfg, self.rng
        mean_places = c.childrens_home_places / max(c.childrens_homes, 1)
        n_private = c.childrens_homes - c.la_run_homes
        n_large_homes = int(round(n_private * (1 - c.voluntary_share_of_non_la_homes) * c.large_group_share_of_private))
        large = [Provider(self.ctx.agents, "private", True, -1) for _ in range(N_LARGE_GROUPS)]
        self.private_providers = list(large)
        per_la = rng.multinomial(n_private, self._home_weights())
        owner_of = rng.permutation(np.r_[np.zeros(n_large_homes, int), np.ones(n_private - n_large_homes, int)])
        k = 0
        for la in range(w.n_la):
            for _ in range(per_la[la]):
                if owner_of[k] == 0:
                    provider = large[int(rng.integers(N_LARGE_GROUPS))]
                else:
                    kind = "voluntary" if rng.random() < c.voluntary_share_of_non_la_homes else "private"
                    provider = Provider(self.ctx.agents, kind, False, la)
                    self.private_providers.append(provider)
                k += 1
                self.new_home(la, PRIVATE_HOME, provider, self._places(mean_places), background=not w.simulated[la])
        stock = np.maximum(w.stock, 0).astype(float)
        per_la_own = rng.multinomial(c.la_run_homes, stock / stock.sum())
        for la in w.sim_index.tolist():
            for _ in range(per_la_own[la]):
                self.new_home(la, LA_HOME, self.las[la].provider, self._places(mean_places))
        self._build_supported()
        self._build_secure()

    def _places(self, mean: float) -> int:
        return 1 + int(self.rng.poisson(max(mean - 1.0, 0.0)))

    def _build_supported(self) -> None:
        w, c, rng = self.world, self.cfg, self.rng
        n_settings = int(round(c.supported_places / c.supported_places_per_setting))
        stock = np.maximum(w.stock, 0).astype(float)
        per_la = rng.multinomial(n_settings, stock / stock.sum())
        providers = [Provider(self.ctx.agents, "private", False, -1) for _ in range(SUPPORTED_PROVIDERS)]
        self.supported_providers = providers
        for la in range(w.n_la):
            for _ in range(per_la[la]):
                self._new_setting(la, background=not w.simulated[la])

    def _new_setting(self, la: int, background: bool = False) -> Home:
        c, rng = self.cfg, self.rng
        places = 1 + int(rng.poisson(max(c.supported_places_per_setting - 1.0, 0.0)))
        provider = self.supported_providers[int(rng.integers(len(self.supported_providers)))]
        return self.new_home(la, SUPPORTED, provider, places, background=background, max_tier=1)

    def _build_secure(self) -> None:
        w, c = self.world, self.cfg
        names = list(w.names)
        las = [names.index(n) for n in SECURE_HOME_LAS[: c.secure_homes]]
        if not las:
            return
        per_home = np.full(len(las), c.secure_welfare_places // len(las))
        per_home[: c.secure_welfare_places % len(las)] += 1
        justice = np.full(len(las), c.secure_justice_places // len(las))
        justice[: c.secure_justice_places % len(las)] += 1
        for la, places, contracted in zip(las, per_home, justice):
            provider = Provider(self.ctx.agents, "la", False, la)
            home = self.new_home(la, SECURE, provider, int(places), background=not w.simulated[la], max_tier=3)
            # welfare beds staffed and open (drawn above), and the places contracted to youth justice
            self.secure_homes.append((home, home.usable, int(contracted)))
            if contracted:
                self.supply.add_registered_places(home, int(contracted))
        self.youth_justice_demand()

    def youth_justice_demand(self) -> None:
        """Quarterly (and at the base date): the youth-justice children in each secure children's
        home (Poisson, mean ``youth_justice_occupancy`` x its contracted places). Those beyond its
        contracted places take its welfare beds; places contracted but left empty take welfare
        children only where an RCC of the home's region commissions secure places with youth
        justice (``shared_secure_commissioning``). A bed taken by youth justice while a welfare
        child is in it is taken when that child leaves."""
        occupancy = self.cfg.youth_justice_occupancy
        shared = self.commissioning.shared_secure_regions
        regions = self.world.regions
        live = self.rec.live["youth_justice_secure"]
        for home, welfare, contracted in self.secure_homes:
            if not home.open or not contracted:
                continue
            demand = int(self.justice_rng.poisson(occupancy * contracted))
            usable = welfare - max(demand - contracted, 0)
            if regions[home.la] in shared:
                usable += max(contracted - demand, 0)
            live[home.la] += min(demand, home.places) - self._justice_in[home.unique_id]
            self._justice_in[home.unique_id] = min(demand, home.places)
            self.supply.set_usable(home, usable)

    def new_home(
        self,
        la: int,
        kind: int,
        provider: Provider,
        places: int,
        background: bool = False,
        max_tier: int | None = None,
        reserved_for: int = -1,
    ) -> Home:
        rng = self.draw
        if max_tier is None:
            max_tier = 1 if rng.random() < HOME_TIER_SHARES[1] else 2
        share = self.cfg.secure_usable_share if kind == SECURE else self.cfg.usable_place_share
        usable = min(places, max(1, binomial(rng, places, share)))  # a home with no places (secure: 0 set) has none
        if background:
            usable -= binomial(rng, usable, self.ctx.cfg.world.outside_occupancy)
        lat, lon = self.world.random_point(la, rng)
        owner = la if kind == LA_HOME else -1
        factor = 1.0 if kind == LA_HOME else self.market.unit_price_factor()
        home = Home(
            self.ctx.agents,
            kind,
            la=la,
            lat=float(lat),
            lon=float(lon),
            places=places,
            usable=usable,
            max_tier=max_tier,
            provider=provider,
            owner_la=owner,
            price_factor=factor,
        )
        home.reserved_for = reserved_for
        self.supply.open_unit(home)
        if kind in (PRIVATE_HOME, SUPPORTED) and not background:
            (self.homes if kind == PRIVATE_HOME else self.supported)[home.unique_id] = home
            if self.cfg.closure_rate > 0:
                self.clock.at(self.close_draw.exponential(DAYS_PER_YEAR / self.cfg.closure_rate), self._close, home)
        return home

    # ------------------------------------------------------------------ market entry and exit
    def pipeline(self) -> None:
        """Base date: homes (and settings) decided in the past two lead times, part-way through
        registration."""
        self.plan_openings(self.cfg.lead_time_days * 2, pipeline=True)
        self.plan_supported(self.cfg.supported_lead_time_days * 2, pipeline=True)

    def open_homes(self) -> None:
        """Quarterly: providers decide where to open homes in the coming quarter."""
        self.plan_openings(self.QUARTER_DAYS)

    def close_empty_homes(self) -> None:
        """Quarterly: empty homes and supported settings close at a higher rate."""
        self.close_empty(self.QUARTER_DAYS)

    def open_supported(self) -> None:
        """Quarterly: providers open supported accommodation settings for the coming quarter."""
        self.plan_supported(self.QUARTER_DAYS)

    def entry_response(self, units: dict[int, Home]) -> float:
        """Openings relative to the opening rate: exp(``entry_occupancy_elasticity`` x (occupancy
        - ``target_occupancy``)), capped at :data:`MAX_ENTRY_MULTIPLIER`. Occupancy is children over
        usable places in ``units`` (the simulated world's private homes, or its supported settings);
        with no usable place at all it counts as full."""
        usable = sum(u.usable for u in units.values())
        occupancy = sum(len(u.children) for u in units.values()) / usable if usable > 0 else 1.0
        c = self.cfg
        return min(MAX_ENTRY_MULTIPLIER, math.exp(c.entry_occupancy_elasticity * (occupancy - c.target_occupancy)))

    def _response(self, units: dict[int, Home], pipeline: bool) -> float:
        """The entry response for openings decided now (1 for the pipeline, decided before the
        model starts, and in a world of some LAs: ``respond_to_scarcity``)."""
        return self.entry_response(units) if self.respond_to_scarcity and not pipeline else 1.0

    def plan_supported(self, days: float, pipeline: bool = False) -> None:
        """Supported accommodation settings to open in the coming ``days`` (where: the module
        docstring), after the lead time (``pipeline``: decided before the base date)."""
        w, c, rng = self.world, self.cfg, self.open_rng
        if not self.supported or c.supported_opening_rate <= 0 or not self.supported_providers:
            return
        rate = c.supported_opening_rate * len(self.supported) * days / DAYS_PER_YEAR
        n_new = int(rng.poisson(rate * self._response(self.supported, pipeline)))
        if n_new == 0:
            return
        cic = np.maximum(self.rec.stock["children_in_care"], 0.0) * w.simulated
        if cic.sum() <= 0:
            return
        # the region in proportion to its children in care; within it, where providers already run
        # settings (+1: a region without one can still get one), as for homes
        settings = np.zeros(w.n_la)
        for unit in self.supported.values():
            settings[unit.la] += 1.0
        regions = list(w.region_index().items())
        demand = np.array([cic[idx].sum() for _, idx in regions])
        days_lead = c.supported_lead_time_days
        for r in rng.choice(len(regions), size=n_new, p=demand / demand.sum()).tolist():
            cand = regions[r][1][w.simulated[regions[r][1]]]
            wl = settings[cand] + 1.0
            la = int(cand[rng.choice(len(cand), p=wl / wl.sum())])
            lead = rng.gamma(4.0, days_lead / 4.0) if days_lead > 0 else 0.0
            if pipeline:
                lead *= rng.random()
            self.clock.at(lead, self._open_setting, int(la))

    def _open_setting(self, la: int) -> None:
        self._new_setting(la)
        self.rec.add("homes_opened", (la, HOME_INDEX[SUPPORTED]), 1)

    def respond_to_buyers(self) -> None:
        """Quarterly, once an RCC that buys as one customer (:func:`buys_as_one`) is live. In each
        region, over its simulated private and voluntary homes' usable places: an RCC's share
        ``s`` (its members' children in open-market homes plus its block places; the largest RCC
        there) and the revenue at risk ``x`` (block places x their discount below spot, over the
        region's places) give the region's openings multiplier exp(-``block_entry_elasticity`` x
        - ``monopsony_entry_elasticity`` s) and its private homes' spot price factor
        1 - ``block_price_pass_through`` x (at least 0.05). The share ``s`` counts in England worlds
        only: in a world of some LAs its homes take no other LA's children, so an RCC of the world's
        LAs looks like the only buyer (as for the entry response to scarcity). Draws nothing."""
        com = self.commissioning
        live = {r.id: r for r in com.rccs if r.live and buys_as_one(r)}
        if not live:
            return
        m = self.ctx.cfg.market
        regions = self.world.regions
        usable: dict[str, float] = {}
        at_risk: dict[str, float] = {}
        bought: dict[tuple[str, int], float] = {}
        for home in self.homes.values():
            region = str(regions[home.la])
            usable[region] = usable.get(region, 0.0) + home.usable
            rcc = home.reserved_for
            if rcc >= 0:
                key = (region, rcc)
                bought[key] = bought.get(key, 0.0) + home.usable
                if rcc in live:
                    at_risk[region] = at_risk.get(region, 0.0) + home.usable * live[rcc].cfg.block_discount
                continue
            for child in home.children:
                rcc = com.rcc_of[child.la]
                if rcc in live:
                    key = (region, rcc)
                    bought[key] = bought.get(key, 0.0) + 1.0
        factor = [1.0] * self.world.n_la
        entry = {}
        for name, idx in self.world.region_index().items():
            region = str(name)
            places = usable.get(region, 0.0)
            if places <= 0:
                continue
            x = at_risk.get(region, 0.0) / places
            s = max((v for (r, _), v in bought.items() if r == region), default=0.0) / places
            s = min(s, 1.0) if self.respond_to_scarcity else 0.0
            entry[region] = math.exp(-m.block_entry_elasticity * x - m.monopsony_entry_elasticity * s)
            local = max(0.05, 1.0 - m.block_price_pass_through * x)
            for la in idx.tolist():
                factor[la] = local
        self.buyer_entry = entry
        self.market.local_price = factor

    def fail_providers(self) -> None:
        """Yearly: providers fail at random (:meth:`provider_failures`)."""
        self.provider_failures(365.0)

    def plan_openings(self, days: float, pipeline: bool = False) -> None:
        """Providers decide where to open homes in the coming ``days``; they open after the lead time.
        ``pipeline``: homes decided before the base date, already part-way through their lead time."""
        w, c, rng = self.world, self.cfg, self.open_rng
        if not self.homes or c.opening_rate <= 0:
            return
        st = self.rec.stock
        k = HOME_INDEX[PRIVATE_HOME]
        homes_la = st["homes"][:, k] * w.simulated
        places, filled = st["home_places"][:, k], st["home_places_filled"][:, k]
        regions = [r for r, idx in w.region_index().items() if homes_la[idx].sum() > 0]
        if not regions:
            return
        idx_of = w.region_index()
        ret = np.array(
            [filled[idx_of[r]].sum() / max(places[idx_of[r]].sum(), 1) / c.property_cost_index[r] for r in regions]
        )
        # regions with better returns attract more openings; with no filled place anywhere (mean 0)
        # every return is equal and the weights are the regions' shares of homes
        rel = ret / ret.mean() - 1 if ret.mean() > 0 else np.zeros_like(ret)
        weight = np.array([homes_la[idx_of[r]].sum() for r in regions]) * np.exp(c.entry_return_elasticity * rel)
        rate = c.opening_rate * len(self.homes) * days / DAYS_PER_YEAR * self.market.entry_multiplier()
        if self.buyer_entry and not pipeline:  # an RCC is live: fewer openings where it deters entry
            mult = np.array([self.buyer_entry.get(str(r), 1.0) for r in regions])
            rate *= float((weight * mult).sum() / weight.sum())
            weight = weight * mult
        # decisions made before the model starts (the pipeline) were made at the opening rate
        n_new = rng.poisson(rate * self._response(self.homes, pipeline))
        for _ in range(n_new):
            r = regions[int(rng.choice(len(regions), p=weight / weight.sum()))]
            cand = idx_of[r][w.simulated[idx_of[r]]]
            wl = homes_la[cand] + 1.0
            la = int(cand[rng.choice(len(cand), p=wl / wl.sum())])
            if rng.random() < 0.7:
                provider = self.private_providers[int(rng.integers(len(self.private_providers)))]
            else:
                provider = Provider(self.ctx.agents, "private", False, la)
                self.private_providers.append(provider)
            lead = self.lead_time(rng)
            if pipeline:
                lead *= rng.random()
            self.clock.at(lead, self._open, la, provider, self._places(c.new_home_places))

    def _open(self, la: int, provider: Provider, places: int) -> None:
        if provider.failed:
            return
        self.new_home(la, PRIVATE_HOME, provider, places)
        self.rec.add("homes_opened", (la, HOME_INDEX[PRIVATE_HOME]), 1)

    def _close(self, home: Home) -> None:
        if home.open:
            self.homes.pop(home.unique_id, None)
            self.supported.pop(home.unique_id, None)
            self.supply.fail(home)

    def close_empty(self, days: float) -> None:
        """Empty homes and supported settings close at a higher rate (no income); not a home on
        an RCC's block contract, which is paid whether filled or not."""
        p = 1.0 - math.exp(-self.cfg.empty_closure_rate * days / DAYS_PER_YEAR)
        homes = (*self.homes.values(), *self.supported.values())
        for home in [h for h in homes if not h.children and h.reserved_for < 0]:
            if self.close_rng.random() < p:
                self._close(home)

    def provider_failures(self, days: float) -> None:
        """Providers fail at random. Under the financial oversight regime (CWSA 2026) a large
        provider's homes pass to another operator in an orderly way; otherwise they close."""
        p = 1.0 - math.exp(-self.cfg.provider_failure_rate * days / DAYS_PER_YEAR)
        oversight = self.commissioning.package_in_force and self.ctx.cfg.policy.package.financial_oversight
        for provider in self.private_providers:
            if not provider.failed and provider.units and self.close_rng.random() < p:
                provider.failed = True
                homes = [h for h in provider.units.values() if isinstance(h, Home) and h.ptype == PRIVATE_HOME]
                self._count_failure(provider, homes, closed=not (oversight and provider.large))
                if oversight and provider.large:
                    successor = Provider(self.ctx.agents, "private", True, -1)
                    self.private_providers.append(successor)
                    for home in homes:  # a large group to a large group: the same market-health sector
                        provider.units.pop(home.unique_id)
                        home.provider = successor
                        home.provider_kind = -1  # (a private group's: the same; worked out again)
                        successor.units[home.unique_id] = home
                        self.rec.add("homes_transferred", home.la, 1)
                    continue
                for home in homes:
                    self._close(home)

    def _count_failure(self, provider: Provider, homes: list[Home], closed: bool) -> None:
        """Market-health outputs of a failure: one provider, split across the LAs of its homes by
        its share of homes there; its homes closed (unless passed on). Draws nothing."""
        ann = self.rec.annual
        y = self.clock.year_index()
        sector = home_sector(provider)
        for home in homes:
            ann["provider_failures"][y, home.la, sector] += 1.0 / len(homes)
            if closed:
                ann["units_closed_failure"][y, home.la, sector] += 1.0
        if not homes and provider.home_la >= 0:
            ann["provider_failures"][y, provider.home_la, sector] += 1.0

    # ------------------------------------------------------------------ reform package
    def lead_time(self, rng=None) -> float:
        """Days from a decision to open a home to its registration (planning reform shortens it)."""
        days = self.cfg.lead_time_days
        if self.commissioning.package_in_force:  # the planning reform, from the base date
            days *= self.ctx.cfg.policy.package.planning_lead_time_multiplier
        return (rng or self.open_rng).gamma(4.0, days / 4.0) if days > 0 else 0.0

    def open_la_home(self, la: int) -> Home:
        """An LA-run home from the capital programme."""
        home = self.new_home(la, LA_HOME, self.las[la].provider, self._places(self.cfg.new_home_places))
        self.rec.add("homes_opened", (la, HOME_INDEX[LA_HOME]), 1)
        return home

    def add_secure(self, la: int, places: int) -> Home:
        """A new secure children's home (or wing) with ``places`` welfare places."""
        home = self.new_home(la, SECURE, Provider(self.ctx.agents, "la", False, la), places, max_tier=3)
        self.rec.add("homes_opened", (la, HOME_INDEX[SECURE]), 1)
        return home
