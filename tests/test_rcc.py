"""RCC policies: common random numbers, the all-levers-off identity, and paired face-validity
checks on several seeds (each with its tolerance stated)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import xarray as xr
from conftest import GM3, small_config

from rcc_sim.config import Config, PlanningConfig, PolicyConfig, RCCConfig, to_object
from rcc_sim.engine.model import CareSystemModel
from rcc_sim.run import simulate, to_dataset
from rcc_sim.studies.compare import paired

GM = [
    "E08000001",
    "E08000002",
    "E08000003",
    "E08000004",
    "E08000005",
    "E08000006",
    "E08000007",
    "E08000008",
    "E08000009",
    "E08000010",
]
SEEDS = [0, 1, 2]
AREA = "North West"  # the GM world's region total = the ten GM LAs


def gm_config(years: float = 2.0, **policy) -> Config:
    cfg = Config()
    cfg.world.la_codes = list(GM)
    cfg.world.name = "greater_manchester"
    cfg.sim.years = years
    # the levers' mechanics from the base-date builder's state: under the default 5-year spin-up
    # two outcomes changed on these 10 LAs (no forecast-driven shortfall arises for perfect forecasting
    # to remove: nobody waits; distance-led pooled search came out further from home) - issue 12 note
    cfg.sim.spin_up_years = 0
    cfg.policy = PolicyConfig(name="test_policy", **policy)
    return to_object(cfg)


def rcc(**levers) -> dict[str, RCCConfig]:
    """One GM RCC live from day 0 with no costs unless given; every lever off unless given."""
    base = dict(
        members=list(GM),
        start_years=0.0,
        ramp_up_years=0.0,
        setup_cost_gbp=0.0,
        running_cost_gbp_per_year=0.0,
        programme_funding_gbp=0.0,
    )
    return {"gm": RCCConfig(**{**base, **levers})}


def test_same_children_arrive_under_any_policy():
    """Common random numbers: same seed -> same arrivals (day, LA, age, needs, siblings, UASC, sex)."""
    base = CareSystemModel(gm_config(1.0))
    scen = CareSystemModel(
        gm_config(
            1.0,
            rccs=rcc(
                pooled_search=True, buyer_power_discount=0.05, enquiry_uplift=0.3, block_places=10, homes_to_build=2
            ),
        )
    )
    fields = ("t", "la", "age", "tier", "group", "uasc", "male", "lat", "lon", "exit_in", "route")
    a = [tuple(getattr(r, f) for f in fields) for g in base.demand.arrivals_this_year for r in g]
    b = [tuple(getattr(r, f) for f in fields) for g in scen.demand.arrivals_this_year for r in g]
    assert len(a) > 1000 and a == b
    base.run()
    scen.run()
    ra, rb = base.rec.out, scen.rec.out
    for var in ("starts", "starts_by_age", "children_in_care", "uasc"):
        assert np.array_equal(ra[var], rb[var]), var
    # and the policy did change something, so the identity above is not vacuous
    assert not np.array_equal(ra["placements"], rb["placements"])


def test_rcc_with_every_lever_off_is_the_status_quo_bit_for_bit():
    status_quo = simulate(gm_config(2.0))
    all_off = simulate(gm_config(2.0, rccs=rcc()))
    # the policy name and config text differ by construction; every number must not
    xr.testing.assert_identical(status_quo.drop_attrs(), all_off.drop_attrs())
    for name in status_quo.data_vars:
        assert status_quo[name].values.tobytes() == all_off[name].values.tobytes(), name


def test_setup_costs_and_funding_appear_in_the_outputs():
    ds = simulate(
        gm_config(
            2.0,
            rccs=rcc(
                start_years=0.0,
                ramp_up_years=1.0,
                setup_cost_gbp=2e6,
                running_cost_gbp_per_year=1e6,
                programme_funding_gbp=1.73e6,
            ),
        )
    )
    assert float(ds["rcc_setup_cost"].sum()) == pytest.approx(2e6, rel=1e-6)
    # running costs from go-live (day 365.25) to the end of year 2 (day 730): one year less 0.25 day
    assert float(ds["rcc_running_cost"].sum()) == pytest.approx(1e6 * (730 - 365.25) / 365.25, rel=1e-6)
    assert float(ds["rcc_programme_funding"].sum()) == pytest.approx(1.73e6 * 730 / 730.5, rel=1e-6)


def _diff(policy: dict, var: str, seeds=SEEDS, years: float = 2.0, cfg: Config | None = None, area: str = AREA):
    cfg = cfg or gm_config(years)
    cfg = dataclasses.replace(cfg, policy=dataclasses.replace(cfg.policy, **policy))
    out = paired(cfg, seeds, jobs=2)
    return out[f"{var}__by_seed"].sel(area=area).values, out


def test_more_recruitment_gives_more_approved_carers():
    """Tolerance: more carers at the end in every seed (an enquiry uplift of 50% from day 0)."""
    diff, _ = _diff({"rccs": rcc(enquiry_uplift=0.5)}, "carers_end")
    assert (diff > 0).all(), diff


def test_profit_cap_that_makes_entry_unprofitable_gives_fewer_new_homes():
    """A cap at zero margin with an entry elasticity that removes all openings: fewer private
    homes open in every seed (openings continue in the status quo)."""
    policy = {"package": PlanningConfig(profit_cap_margin=0.0, profit_cap_entry_elasticity=5.0)}
    for seed in SEEDS:
        base = simulate(dataclasses.replace(gm_config(2.0), seed=seed))
        cfg = gm_config(2.0)
        capped = simulate(dataclasses.replace(cfg, seed=seed, policy=dataclasses.replace(cfg.policy, **policy)))
        opened_base = float(base["homes_opened"].sel(home_kind="private_home").sum())
        opened_cap = float(capped["homes_opened"].sel(home_kind="private_home").sum())
        assert opened_cap < opened_base, (seed, opened_cap, opened_base)


SPARE = 50000  # mainstream households nationally (33,745 published): spare in-house capacity in GM


@pytest.mark.xfail(
    strict=True,
    reason=(
        "The model disagrees: LAs search in-house carers before IFAs, and score distance at the calibrated "
        "GBP 38 a mile a week (placement.miles_penalty_gbp) against in-house being cheaper, so pooling puts a "
        "child with a member's in-house carer some miles away rather than a nearer IFA carer: mean distance "
        "rises by about 0.8 miles (0.76-0.83 over the three seeds, calibration of b99f08a) "
        "(see test_pooled_search_with_distance_led_search_is_not_further)."
    ),
)
def test_pooled_search_with_spare_capacity_is_not_further_from_home():
    """Tolerance: mean miles from home (last year) no more than 0.25 miles higher, every seed."""
    cfg = gm_config(2.0)
    cfg.fostering.mainstream_households = SPARE
    diff, _ = _diff({"rccs": rcc(pooled_search=True)}, "mean_miles_from_home", cfg=cfg)
    assert (diff <= 0.25).all(), diff


def test_pooled_search_with_distance_led_search_is_not_further():
    """The explanation of the expected failure above: when the pooled search compares in-house and
    IFA carers together and weighs distance heavily (GBP 200 a mile a week), pooling spare in-house
    capacity does not move children further away."""
    cfg = gm_config(2.0)
    cfg.fostering.mainstream_households = SPARE
    cfg.placement.miles_penalty_gbp = 200.0
    cfg.placement.in_house_first = False
    diff, _ = _diff({"rccs": rcc(pooled_search=True)}, "mean_miles_from_home", cfg=cfg)
    assert (diff <= 0.25).all(), diff


def test_buyer_power_lowers_spend_per_child():
    diff, _ = _diff({"rccs": rcc(buyer_power_discount=0.1)}, "spend_per_child_week")
    assert (diff < 0).all(), diff


def test_block_contract_void_places_are_paid_for():
    ds = simulate(gm_config(1.0, rccs=rcc(block_places=40)))
    assert float(ds["rcc_void_cost"].sum()) > 0.0


def test_financial_oversight_keeps_a_failing_providers_homes_open():
    cfg = gm_config(2.0)
    cfg.provision.provider_failure_rate = 0.5  # make failures common enough to see
    with_regime = dataclasses.replace(
        cfg, policy=dataclasses.replace(cfg.policy, package=PlanningConfig(financial_oversight=True))
    )
    a, b = simulate(cfg), simulate(with_regime)
    assert float(b["homes_transferred"].sum()) > 0
    closures = lambda ds: float(ds["moves"].sel(move_reason="provider_closure").sum())  # noqa: E731
    assert closures(b) < closures(a)


def test_room_makers_add_one_usable_place_to_each_funded_household():
    """policy.rccs.<name>.foster_rooms: at go-live, that many of the members' in-house households
    get one more approved (and usable) place each, paid as RCC capital."""
    from rcc_sim.engine.agents import FosterHousehold
    from rcc_sim.vocab import IN_HOUSE

    def run(rooms: int):
        cfg = small_config(years=0.1)
        cfg.policy.rccs = {"gm": RCCConfig(members=list(GM3), start_years=0.0, ramp_up_years=0.05, foster_rooms=rooms)}
        cfg.sim.check_invariants = True
        m = CareSystemModel(to_object(cfg))
        before = {u.unique_id: u.places for u in m.agents_by_type[FosterHousehold] if u.ptype == IN_HOUSE}
        m.run()
        return m, before, to_dataset(m)

    m, before, ds = run(12)
    carers = [u for u in m.agents_by_type[FosterHousehold] if u.ptype == IN_HOUSE]
    grown = [u for u in carers if u.places == before.get(u.unique_id, -9) + 1]
    assert len(grown) == 12 and all(u.usable >= 1 for u in grown)
    assert float(ds["rcc_capital"].sum()) == pytest.approx(12 * m.cfg.policy.rccs["gm"].foster_room_cost_gbp)
    _, _, ds0 = run(0)
    assert float(ds0["rcc_capital"].sum()) == 0.0


def test_development_stage_switches_on_the_planning_functions_before_delivery():
    """policy.rccs.<name>.development_years: from the development stage the recruitment hub and
    forecasting work; buyer power and the other commissioning functions wait for go-live."""
    rcc = RCCConfig(
        members=list(GM3),
        start_years=0.0,
        ramp_up_years=0.2,
        development_years=0.05,
        enquiry_uplift=0.5,
        buyer_power_discount=0.1,
        forecasting=True,
    )
    cfg = small_config(years=0.3)
    cfg.policy.rccs = {"gm": rcc}
    m = CareSystemModel(to_object(cfg))
    states = []  # the levers every week: foundation, development, delivery

    def look():
        c, r = m.commissioning, m.commissioning.rccs[0]
        la = r.members[0]
        states.append((m.clock.now / 365.25, c.enquiry_mult[la], c.spot_discount[la], r.developing, r.live))
        m.clock.at(7.0, look)

    m.clock.at(3.5, look)  # mid-week: never at the same moment as a weekly step
    m.run()
    before = [s for s in states if s[0] < 0.05]
    developing = [s for s in states if 0.06 < s[0] < 0.19]
    live = [s for s in states if s[0] > 0.21]
    assert before and developing and live
    assert all(s[1] == 1.0 and s[2] == 0.0 and not s[3] for s in before)
    assert all(s[1] > 1.0 and s[2] == 0.0 and s[3] and not s[4] for s in developing)
    assert all(s[1] > 1.0 and s[2] == pytest.approx(0.1) and s[4] for s in live)
