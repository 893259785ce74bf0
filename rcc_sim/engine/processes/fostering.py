"""Foster carer supply: the households at the base date, recruitment, and leaving.

* **Base date.** Mainstream households (Ofsted 2023-24) split between LA in-house services and
  IFAs; in-house households are placed in each LA in proportion to its children in care, IFA
  households by region in proportion to children in care and then within the region the same
  way (ASSUMPTION: no published split by LA). Each is approved for 1-4 places, of which only a
  share is open to a new child at any time (carers on a break, approvals limited by age or to
  siblings): Ofsted counts about 40% of approved places as vacant.
* **Recruitment funnel (weekly).** Enquiries arise in proportion to each LA's child population;
  a share apply; an applicant goes to the LA's own service or to an IFA; assessment takes about
  six months; a share are approved.
* **Leaving.** Each household has a deregistration hazard; an unplanned ending adds strain that
  can make the carer stop. A leaving carer with children usually lets them move on first. A
  share of the in-house carers who leave go on fostering for an IFA (``in_house_transfer_share``):
  the LA's own provision shrinks while the IFAs' grows, as published.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import numpy as np
from librt.vecs import vec
from mypy_extensions import mypyc_attr

from rcc_sim.engine.agents import FosterHousehold, Provider
from rcc_sim.engine.processes import Context, Process
from rcc_sim.engine.processes.supply import CARER_INDEX, binomial
from rcc_sim.engine.recorder import bisect_right
from rcc_sim.vocab import DAYS_PER_YEAR, IFA, IN_HOUSE

if TYPE_CHECKING:
    from rcc_sim.engine.commissioning import Commissioning
    from rcc_sim.engine.processes.market import Market
    from rcc_sim.engine.processes.supply import Supply

N_LARGE_IFA: Final = 6  # Ofsted 2024-25: 6 large groups own 75 IFAs
LARGE_IFA_SHARE: Final = 18770 / 33000  # share of IFA places held by the 6 groups (Ofsted 2024-25: 18,770 places)
N_SMALL_IFA: Final = 312  # 318 IFAs in all (Ofsted 2024-25)


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # see rcc_sim.engine.compiled
class Fostering(Process):
    """Mainstream foster households: the base-date supply, the recruitment funnel, leaving."""

    name = "fostering"
    needs = ("supply", "market", "commissioning")
    supply: Supply
    market: Market
    commissioning: Commissioning

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        self.cfg = ctx.cfg.fostering
        self.outside_occupancy = ctx.cfg.world.outside_occupancy
        self.las = ctx.agents.las
        self.rng = ctx.streams("fostering_supply")
        self.draw = ctx.streams.draws("fostering_supply/households")
        self.recruit_rng = ctx.streams("foster_recruitment")
        self.leave_draw = ctx.streams.draws("foster_leaving")
        self._approvals = ctx.rec.live["foster_approvals"]
        self._transfers = ctx.rec.live["foster_transfers"]
        self.places_cdf = vec[float](np.ascontiguousarray(np.cumsum(self.cfg.places_per_household_shares)[:-1]))
        self.ifa_providers: list[Provider] = []
        self.ifa_by_region: dict[str, list[Provider]] = {}

    # ------------------------------------------------------------------ base date
    def build(self) -> None:
        w, c, rng = self.world, self.cfg, self.rng
        weight = np.maximum(w.stock, 1).astype(float)
        n_in_house = rng.multinomial(
            int(round(c.mainstream_households * c.in_house_household_share)), weight / weight.sum()
        )
        n_ifa = rng.multinomial(
            int(round(c.mainstream_households * (1 - c.in_house_household_share))), weight / weight.sum()
        )
        large = [Provider(self.ctx.agents, "ifa", True, -1) for _ in range(N_LARGE_IFA)]
        self.ifa_providers = list(large)
        for region, idx in w.region_index().items():
            small = [
                Provider(self.ctx.agents, "ifa", False, int(idx[0]))
                for _ in range(max(1, round(N_SMALL_IFA * len(idx) / w.n_la)))
            ]
            self.ifa_providers += small
            self.ifa_by_region[region] = large + small
        for la in range(w.n_la):
            if w.simulated[la]:
                provider = self.las[la].provider
                for _ in range(n_in_house[la]):
                    self.new_household(la, IN_HOUSE, provider)
            region_providers = self.ifa_by_region[w.regions[la]]
            for _ in range(n_ifa[la]):
                provider = (
                    large[rng.integers(N_LARGE_IFA)]
                    if rng.random() < LARGE_IFA_SHARE
                    else region_providers[N_LARGE_IFA + rng.integers(len(region_providers) - N_LARGE_IFA)]
                )
                self.new_household(la, IFA, provider, background=not w.simulated[la])

    def new_household(
        self,
        la: int,
        kind: int,
        provider: Provider,
        background: bool = False,
        max_tier: int | None = None,
        reserved_for: int = -1,
        price_factor: float | None = None,
    ) -> FosterHousehold:
        """An approved mainstream household of ``la`` (in-house) or located in it (IFA).
        ``background``: outside the simulated world, its places are partly taken by children who
        are not simulated. ``reserved_for``: an RCC's specialist carer, for its members only."""
        draw = self.draw
        places = bisect_right(self.places_cdf, draw.random()) + 1
        usable = binomial(draw, places, self.cfg.usable_place_share)
        if background:
            usable -= binomial(draw, usable, self.outside_occupancy)
        home_la = la
        if kind == IN_HOUSE and draw.random() < self.cfg.in_house_outside_la_share:
            home_la = self.world.nearby_la(la, draw)
        lat, lon = self.world.random_point(home_la, draw)
        skilled = 1 if draw.random() < self.cfg.complex_skill_share else 0
        if price_factor is None:
            price_factor = self.market.unit_price_factor() if kind == IFA else 1.0
        unit = FosterHousehold(
            self.ctx.agents,
            kind,
            la=home_la,
            lat=float(lat),
            lon=float(lon),
            places=places,
            usable=usable,
            max_tier=skilled if max_tier is None else max_tier,
            provider=provider,
            owner_la=la if kind == IN_HOUSE else -1,
            price_factor=price_factor,
        )
        unit.reserved_for = reserved_for
        self.supply.open_unit(unit)
        if not background and self.cfg.deregistration_rate > 0:
            self.clock.at(self.leave_draw.exponential(DAYS_PER_YEAR / self.cfg.deregistration_rate), self._leaves, unit)
        return unit

    # ------------------------------------------------------------------ weekly recruitment
    def pipeline(self) -> None:
        """Base date: the applicants of the past two assessment periods still in assessment."""
        self.recruit(4 * self.cfg.assessment_days, pipeline=True)

    def recruit_week(self) -> None:
        """Weekly: next week's enquiries and applications."""
        self.recruit(self.clock.days_to_next_week_end())

    def recruit(self, days: float, pipeline: bool = False) -> None:
        """Enquiries and applications for the coming ``days``; assessments end ~6 months later.
        ``pipeline``: applications made in the ``days`` before the base date, still in assessment."""
        w, c, rng = self.world, self.cfg, self.recruit_rng
        idx = w.sim_index
        share = w.child_population[idx] / w.child_population.sum()
        enquiries = rng.poisson(
            c.enquiries_per_year * share * self.commissioning.enquiry_mult[idx] * days / DAYS_PER_YEAR
        )
        applications = rng.binomial(enquiries, c.application_rate)
        if not pipeline:
            self.rec.add("foster_enquiries", idx, enquiries)
            self.rec.add("foster_applications", idx, applications)
        la_of = np.repeat(idx, applications)
        n = len(la_of)
        in_house = rng.random(n) < self.commissioning.in_house_share[la_of]
        approved = rng.random(n) < c.approval_rate
        duration = rng.gamma(4.0, c.assessment_days / 4.0, size=n)
        if pipeline:
            duration -= days * rng.random(n)  # applied up to ``days`` ago
            approved &= duration > 0
        for la, h, d in zip(la_of[approved].tolist(), in_house[approved].tolist(), duration[approved].tolist()):
            self.clock.at(d, self._approve, la, h)

    def _approve(self, la: int, in_house: bool) -> None:
        if in_house:
            kind, provider = IN_HOUSE, self.las[la].provider
        else:
            region = self.ifa_by_region[self.world.regions[la]]
            kind, provider = IFA, region[int(self.recruit_rng.integers(len(region)))]
        self.new_household(la, kind, provider)
        j = la * len(CARER_INDEX) + CARER_INDEX[kind]
        self._approvals[j] = self._approvals[j] + 1.0

    def _leaves(self, unit: FosterHousehold) -> None:
        if not unit.open or unit.closing:
            return
        if unit.ptype == IN_HOUSE:
            keep = self.commissioning.retention[unit.owner_la]
            if keep and self.leave_draw.random() < keep:  # retention support: the hazard thinned by `keep`
                self.clock.at(
                    self.leave_draw.exponential(DAYS_PER_YEAR / self.cfg.deregistration_rate), self._leaves, unit
                )
                return
            share = self.cfg.in_house_transfer_share
            if share > 0 and self.leave_draw.random() < share:
                self._transfer(unit)
        self.supply.deregister(unit, voluntary=True)

    def _transfer(self, unit: FosterHousehold) -> None:
        """An in-house household leaving to foster for an IFA of its region: the LA's service loses
        it (deregistered by the caller) and an IFA household of the same LA joins, its children moving
        on as from any leaving carer (ASSUMPTION: no placement transfers with the carer)."""
        la = unit.owner_la
        region = self.ifa_by_region[self.world.regions[la]]
        self.new_household(la, IFA, region[int(self.leave_draw.random() * len(region))])
        self._transfers[la] = self._transfers[la] + 1.0
