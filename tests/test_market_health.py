"""Market health (issue 13 pt 4): providers' accounts recomputed from the units, concentration by
hand, the price index, and providers' response to an RCC's block prices (RCC levers only)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import small_config
from test_rcc import GM, rcc

from rcc_sim.config import Config, PolicyConfig, to_object
from rcc_sim.engine.agents import Home
from rcc_sim.engine.model import CareSystemModel
from rcc_sim.engine.processes.market_health import hhi
from rcc_sim.engine.recorder import PROVIDER_SECTORS
from rcc_sim.run import to_dataset
from rcc_sim.studies.market_health import market_health, table
from rcc_sim.vocab import IFA, LA_HOME, PRIVATE_HOME, SUPPORTED


@pytest.fixture(scope="module")
def run():
    """Three GM LAs for two years from the base date (no spin-up)."""
    model = CareSystemModel(to_object(small_config(years=2.0)))
    model.run()
    return model, to_dataset(model)


# ---------------------------------------------------------------------- provider accounts
def test_running_accounts_equal_a_fresh_count_of_the_providers_units(run):
    """The weekly rates kept from the units that changed equal revenue, cost, places and children
    recounted now from every provider's units (a missed change would leave them apart)."""
    model, _ = run
    mh, market = model.market_health, model.market
    sim = model.world.simulated
    expect = np.zeros((len(PROVIDER_SECTORS), 4))
    sector = {s: i for i, s in enumerate(PROVIDER_SECTORS)}
    providers = [*model.provision.private_providers, *model.provision.supported_providers]
    providers += [*model.fostering.ifa_providers, *(la.provider for la in model.las)]
    seen = set()
    for p in providers:
        for u in p.units.values():
            if (
                u.unique_id in seen
                or not u.open
                or not sim[u.la]
                or u.ptype not in (IFA, PRIVATE_HOME, SUPPORTED, LA_HOME)
            ):
                continue
            seen.add(u.unique_id)
            prices = sum(c.price for c in u.children)
            if u.ptype == LA_HOME:
                s, revenue, cost = sector["la_home"], 0.0, prices
            else:
                if u.ptype == IFA:
                    s = sector["ifa_large" if p.large else "ifa_other"]
                elif u.ptype == SUPPORTED:
                    s = sector["supported"]
                else:
                    s = sector[
                        "voluntary_home"
                        if p.kind == "voluntary"
                        else ("private_home_large" if p.large else "private_home_other")
                    ]
                per_child = mh.per_child[u.ptype]
                mult = [
                    market.bespoke_multiplier if c.bespoke and c.tier >= 2 and u.ptype == PRIVATE_HOME else 1.0
                    for c in u.children
                ]
                revenue = prices
                cost = sum(per_child[c.tier] * m for c, m in zip(u.children, mult))
            expect[s] += (u.usable, len(u.children), revenue, cost)
    got = mh.rate.sum(0)
    for s in range(len(PROVIDER_SECTORS)):
        np.testing.assert_allclose(got[s], expect[s], rtol=1e-9, atol=1e-6, err_msg=PROVIDER_SECTORS[s])
    assert expect[sector["ifa_large"], 1] > 50 and expect[sector["private_home_large"], 2] > 0  # not vacuous


def _fresh_price_index(model) -> tuple[np.ndarray, np.ndarray, set[int]]:
    """Prices paid and children by the child's LA and price cell, counted now from every child in
    an IFA household, private or voluntary home, supported accommodation or secure home."""
    from rcc_sim.engine.recorder import PRICE_CELLS
    from rcc_sim.vocab import NEEDS_TIERS, PLACEMENT_TYPES, SECURE

    mh, sim = model.market_health, model.world.simulated
    paid, bought = np.zeros_like(mh.paid_rate), np.zeros_like(mh.bought_rate)
    units = [*model.agents_by_type.get(Home, []), *(u for p in model.fostering.ifa_providers for u in p.units.values())]
    tiers = set()
    for u in units:
        if u.open and sim[u.la] and u.ptype in (IFA, PRIVATE_HOME, SUPPORTED, SECURE):
            for c in u.children:
                cell = PRICE_CELLS.index(f"{PLACEMENT_TYPES[u.ptype]}|{NEEDS_TIERS[c.tier]}")
                paid[c.la, cell] += c.price
                bought[c.la, cell] += 1
                tiers.add(c.tier)
    return paid, bought, tiers


def test_running_price_index_equals_a_fresh_count_of_the_children(run):
    """The running prices paid and children by the child's LA and price cell (each child added
    when placed, taken away when it leaves or its needs tier changes) equal a fresh count."""
    model, _ = run
    paid, bought, tiers = _fresh_price_index(model)
    np.testing.assert_allclose(model.market_health.paid_rate, paid, rtol=1e-9, atol=1e-6)
    np.testing.assert_array_equal(np.round(model.market_health.bought_rate, 6), bought)
    assert bought.sum() > 100 and len(tiers) >= 3  # not vacuous


def test_a_needs_tier_changed_in_place_moves_the_childs_share_at_once():
    """A child whose needs ease in a children's home without moving (a step-down not found) counts
    at its new tier from that moment, in the price index and the provider's cost."""
    model = CareSystemModel(to_object(small_config(years=0.2)))
    model.run()
    mh = model.market_health
    child = next(
        c for c in model.demand.children.values() if c.ptype == PRIVATE_HOME and c.tier in (1, 2) and c.unit.open
    )
    cost = mh.rate.sum((0, 1))[3]
    model.placement._set_tier(child, child.tier - 1)
    paid, bought, _ = _fresh_price_index(model)
    np.testing.assert_allclose(mh.paid_rate, paid, rtol=1e-9, atol=1e-6)
    np.testing.assert_array_equal(np.round(mh.bought_rate, 6), bought)
    assert mh.rate.sum((0, 1))[3] < cost  # a lower tier costs the provider less


def test_margin_is_profit_over_revenue_and_profit_is_revenue_less_cost(run):
    _, ds = run
    e = ds.astype("float64").sum("la")  # outputs are float32 (output.float_dtype): 7 significant digits
    np.testing.assert_allclose(e["provider_profit"], e["provider_revenue"] - e["provider_cost"], rtol=1e-5)
    m = market_health(ds)
    for s in ("private_home_large", "ifa_large", "supported"):
        rev = e["provider_revenue"].sel(provider_sector=s).values
        cost = e["provider_cost"].sel(provider_sector=s).values
        assert (rev > 0).all(), s
        np.testing.assert_allclose(m["margin"].sel(provider_sector=s).values, (rev - cost) / rev, rtol=1e-4)
        assert np.all(np.abs(m["margin"].sel(provider_sector=s).values) < 1.0)
    # LA homes earn nothing: no margin, a cost per place instead
    assert float(e["provider_revenue"].sel(provider_sector="la_home").sum()) == 0.0
    assert np.isnan(m["margin"].sel(provider_sector="la_home").values).all()
    assert (m["cost_per_place_week"].sel(provider_sector="la_home").values > 0).all()
    assert ds["provider_margin"].dims == ("year", "la", "provider_sector")


def test_margin_at_the_reference_occupancy_is_the_cost_ratios(run):
    """Units holding the children placed at the start, at the reference occupancy, earn the CMA
    margin (1 - cost ratio): the costs are calibrated on them."""
    model, _ = run
    mh, market, cfg = model.market_health, model.market, model.cfg.market
    for kind, ratio in ((PRIVATE_HOME, cfg.home_cost_ratio), (IFA, cfg.ifa_cost_ratio)):
        mean_price, mean_mult = mh.calibration[kind]
        assert mean_price > 0 and mean_mult > 0
        n = 100.0  # children of the mean composition, in n / o usable places
        revenue = n * mean_price
        variable = n * mean_mult * mh.per_child[kind][0] / market.tier_mult[kind][0]
        cost = variable + mh.fixed[kind] * n / market.cost_occupancy
        assert 1 - cost / revenue == pytest.approx(1 - ratio, rel=1e-12)


# ---------------------------------------------------------------------- concentration
def test_hhi_by_hand():
    assert hhi({1: 5.0}) == 1.0
    assert hhi({1: 1.0, 2: 1.0}) == 0.5
    assert hhi({1: 3.0, 2: 1.0}) == pytest.approx(0.75**2 + 0.25**2)
    assert hhi({}) == 0.0


def test_hhi_in_range_and_england_recomputed_from_the_homes(run):
    model, ds = run
    h, n = ds["hhi_places"].values, ds["market_providers"].values
    assert (n >= 1).all() and (h >= 1 / n - 1e-6).all() and (h <= 1 + 1e-6).all()
    # at the end of the run (31 March) every children's home's places by provider group, by hand
    places: dict[int, float] = {}
    for u in model.agents_by_type[Home]:
        if u.open and u.ptype in (PRIVATE_HOME, LA_HOME):
            places[u.provider.unique_id] = places.get(u.provider.unique_id, 0.0) + u.places
    total = sum(places.values())
    by_hand = sum((p / total) ** 2 for p in places.values())
    got = float(ds["hhi_places"].isel(year=-1).sel(market_area="England", market_sector="childrens_homes"))
    assert got == pytest.approx(by_hand, rel=1e-6)  # float32 output
    assert model.rec.market["hhi_places"][-1, -1, 0] == pytest.approx(by_hand, rel=1e-12)
    share = float(ds["home_places_largest_22"].isel(year=-1).sum() / ds["home_places_31mar"].isel(year=-1).sum())
    assert 0.05 < share < 0.9


def test_price_index_is_one_in_the_first_year(run):
    _, ds = run
    idx = market_health(ds)["price_index"]
    first = idx.isel(year=0).values
    bought = ds["price_child_weeks"].isel(year=0).sum("la").values > 0
    assert bought.sum() >= 4
    np.testing.assert_allclose(first[bought], 1.0, rtol=1e-12)
    assert np.isfinite(idx.isel(year=1).values[bought]).any()
    t = table(ds)
    assert list(t.index) == [int(str(y)[:4]) for y in ds["year"].values]


# ---------------------------------------------------------------------- providers respond to RCC blocks
def _gm(years: float, **levers) -> Config:
    cfg = Config()
    cfg.world.la_codes = list(GM)
    cfg.world.name = "greater_manchester"
    cfg.sim.years = years
    cfg.sim.spin_up_years = 0
    cfg.provision.lead_time_days = 20.0  # openings decided in the run open within it
    if levers:
        cfg.policy = PolicyConfig(name="test", rccs=rcc(**levers))
    return to_object(cfg)


def _private_openings(model: CareSystemModel) -> float:
    return float(model.rec.out["homes_opened"][:, :, 1].sum())


def test_a_deep_block_discount_lowers_entry_and_spot_prices_in_its_region():
    """Paired seed: the same RCC with and without 300 block places at 60% below spot."""
    years = 1.5
    block = CareSystemModel(_gm(years, block_places=300, block_discount=0.6))
    none = CareSystemModel(_gm(years, buyer_power_discount=0.05))
    sq = CareSystemModel(_gm(years))
    for m in (block, none, sq):
        m.run()
    openings = {m: _private_openings(m) for m in (block, none)}
    block.provision.respond_to_buyers()  # once more, from the homes as they are now (it draws nothing)
    # by hand: block places x discount over the region's usable private home places
    homes = block.provision.homes.values()
    usable = sum(h.usable for h in homes)
    at_risk = sum(h.usable * 0.6 for h in homes if h.reserved_for >= 0)
    x = at_risk / usable
    assert x > 0.05
    mk = block.cfg.market
    assert block.provision.buyer_entry["North West"] == pytest.approx(math.exp(-mk.block_entry_elasticity * x))
    la = int(block.world.sim_index[0])
    assert block.market.local_price[la] == pytest.approx(1 - mk.block_price_pass_through * x)
    # without blocks, a GM-only world sees no block effect (and no monopsony: not an England world)
    assert none.provision.buyer_entry == {"North West": 1.0} and none.market.local_price[la] == 1.0
    assert openings[block] < 0.8 * openings[none]
    # an open-market private home in the region is priced lower under the block
    unit = next(h for h in homes if h.reserved_for < 0)
    p_block = block.market.price(PRIVATE_HOME, 2, -1, unit)
    assert p_block == pytest.approx(
        block.market._spot[PRIVATE_HOME][2] * unit.price_factor * block.market.local_price[la]
    )
    # the status quo: nothing responds
    assert sq.provision.buyer_entry == {} and sq.market.local_price is None


def test_the_market_health_steps_change_nothing_else(monkeypatch):
    """Outputs only: with the accounts, the census and the response to buyers switched off, every
    other output of a status quo run is the same to the bit (they draw nothing, schedule nothing)."""
    import rcc_sim.engine.model as model_module
    from rcc_sim.engine.recorder import ANNUAL_VARIABLES, MARKET_VARIABLES, VARIABLES
    from rcc_sim.run import simulate

    cfg = to_object(small_config(years=1.0))
    with_steps = simulate(cfg)
    off = {("market_health", "account_week"), ("market_health", "census_31_march"), ("provision", "respond_to_buyers")}
    plan = tuple(s for s in model_module.PLAN if (s[2], s[3]) not in off)
    assert len(plan) == len(model_module.PLAN) - len(off)
    monkeypatch.setattr(model_module, "PLAN", plan)  # the model runs without those steps
    without = simulate(cfg)
    ours = {n for n in ANNUAL_VARIABLES if n.startswith(("provider_", "price_", "home_places_"))} | set(
        MARKET_VARIABLES
    )
    ours |= {"units_closed_failure"}
    assert float(abs(with_steps["provider_revenue"]).sum()) > 0 and float(abs(without["provider_revenue"]).sum()) == 0
    for name in [*VARIABLES, *ANNUAL_VARIABLES]:
        if name not in ours:
            assert with_steps[name].values.tobytes() == without[name].values.tobytes(), name


def test_accounts_from_the_base_date_do_not_depend_on_keeping_the_spin_up():
    """Without output.include_spin_up the spin-up's weeks are not accounted (they are not kept);
    from the base date the accounts are the same as when they are."""
    import numpy as np

    import rcc_sim
    from rcc_sim.run import simulate

    gm = ["world=greater_manchester", "sim.years=1", "sim.spin_up_years=1", "output.report=false"]
    kept = simulate(rcc_sim.load_config([*gm, "output.include_spin_up=true"]))
    base = simulate(rcc_sim.load_config(gm))
    start = str(base["time"].values[0])
    for name in ("provider_revenue", "provider_cost", "provider_place_weeks", "price_paid", "hhi_places"):
        a, b = kept[name], base[name]
        dim = next(d for d in a.dims if d in ("time", "year", "stat_year"))
        a = a.sel({dim: b[dim].values}) if dim != "time" else a.sel(time=slice(start, None))
        assert np.array_equal(a.values, b.values, equal_nan=True), name
