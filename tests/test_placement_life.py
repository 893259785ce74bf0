"""Placement life: hazards that depend on how long a placement has lasted
(rcc_sim/engine/processes/placement.py, ``breakdown.first_year_multiplier`` and
``breakdown.settled_multiplier``)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import small_config

from rcc_sim.config import to_object
from rcc_sim.engine.agents import Home
from rcc_sim.engine.model import CareSystemModel
from rcc_sim.engine.processes.placement import _residual_days
from rcc_sim.run import to_dataset
from rcc_sim.vocab import DAYS_PER_YEAR, SUPPORTED, UNREGISTERED


def test_constant_hazard_when_both_multipliers_are_one():
    for e in (0.01, 0.5, 3.0):
        for age in (0.0, 100.0, 900.0):
            assert math.isclose(_residual_days(e, 0.4, age, 1.0, 1.0), e / 0.4 * DAYS_PER_YEAR)


def test_survival_follows_the_piecewise_hazard():
    """New placements: P(end in the first year) = 1 - exp(-rate x first); a placement already a
    year old ends at the settled hazard; one 300 days old has 65 days of the first year left."""
    rng = np.random.default_rng(1)
    e = rng.exponential(1.0, 200_000)
    rate, first, settled = 0.5, 2.0, 0.25
    new = np.array([_residual_days(x, rate, 0.0, first, settled) for x in e])
    assert abs((new < DAYS_PER_YEAR).mean() - (1 - math.exp(-rate * first))) < 0.005
    # survivors of the first year then end at the settled rate: P(end in year two | survived year one)
    survived = new[new >= DAYS_PER_YEAR]
    assert abs((survived < 2 * DAYS_PER_YEAR).mean() - (1 - math.exp(-rate * settled))) < 0.01
    old = np.array([_residual_days(x, rate, 2 * DAYS_PER_YEAR, first, settled) for x in e[:20_000]])
    assert math.isclose(old.mean() / DAYS_PER_YEAR, 1 / (rate * settled), rel_tol=0.03)
    assert math.isclose(_residual_days(0.1, rate, 300.0, first, settled), 0.1 / (rate * first) * DAYS_PER_YEAR)
    assert _residual_days(5.0, rate, 300.0, first, settled) > DAYS_PER_YEAR - 300.0  # past year one


def test_zero_hazards_never_end_and_every_bound_runs():
    assert _residual_days(0.3, 0.5, 0.0, 0.0, 0.0) == math.inf
    assert _residual_days(0.3, 0.5, 0.0, 0.0, 1.0) == DAYS_PER_YEAR + 0.3 / 0.5 * DAYS_PER_YEAR
    for first, settled in ((0.0, 0.0), (10.0, 10.0), (0.0, 10.0)):
        hazards = {"first_year_multiplier": first, "settled_multiplier": settled}
        CareSystemModel(to_object(small_config(years=0.1, breakdown=hazards))).run()


def _moves(**breakdown) -> float:
    model = CareSystemModel(to_object(small_config(years=1.0, breakdown=breakdown)))
    model.run()
    return float(to_dataset(model)["moves"].sum())


def test_settled_placements_move_less():
    """Same seed, same world: lowering the settled multiplier lowers the year's moves."""
    assert _moves(settled_multiplier=0.2) < _moves(settled_multiplier=1.0)


def _care_plan_moves(**breakdown) -> float:
    model = CareSystemModel(to_object(small_config(years=1.0, breakdown=breakdown)))
    model.run()
    return float(to_dataset(model)["moves"].sel(move_reason="care_plan").sum())


def test_short_term_first_placements_add_planned_moves():
    """Same seed, same world: when every child entering foster care alone is placed short-term
    first, the year has more care-plan moves than when none is; every value in the bounds runs."""
    none = _care_plan_moves(short_term_first_share=0.0)
    every = _care_plan_moves(short_term_first_share=1.0, short_term_first_days=30.0)
    assert every > none + 50  # three GM LAs: ~600 children enter care in a year
    _care_plan_moves(short_term_first_share=1.0, short_term_first_days=1.0)


def test_bespoke_packages_raise_the_price_of_complex_needs_in_homes_only():
    """market.bespoke_share: a child with complex needs who needs a bespoke package costs
    market.bespoke_multiplier x the home's price; nothing else about the placement changes."""
    from rcc_sim.vocab import IFA, LA_HOME, PRIVATE_HOME

    def run(share: float):
        m = CareSystemModel(to_object(small_config(years=0.5, market={"bespoke_share": share})))
        m.run()
        return m, to_dataset(m)

    m, ds0 = run(0.0)
    mult = m.cfg.market.bespoke_multiplier
    unit = next(u for u in m.agents_by_type[Home] if u.ptype == PRIVATE_HOME)
    for tier in (2, 3):
        plain = m.market.price(PRIVATE_HOME, tier, 0, unit)
        assert m.market.price(PRIVATE_HOME, tier, 0, unit, bespoke=True) == pytest.approx(mult * plain)
        assert m.market.price(LA_HOME, tier, 0, bespoke=True) == pytest.approx(mult * m.market.price(LA_HOME, tier, 0))
    assert m.market.price(PRIVATE_HOME, 1, 0, unit, bespoke=True) == m.market.price(PRIVATE_HOME, 1, 0, unit)
    assert m.market.price(IFA, 2, 0, bespoke=True) == m.market.price(IFA, 2, 0)
    assert not any(c.bespoke for c in m.children.values())

    m1, ds1 = run(0.5)
    assert sum(c.bespoke for c in m1.children.values()) > 0.3 * len(m1.children)
    # the search does not see the package (it costs the same in every home), so every
    # placement is the same; only what is paid for homes changes
    np.testing.assert_array_equal(ds0["placements"].values, ds1["placements"].values)
    homes = ["la_home", "private_home"]
    assert float(ds1["spend"].sel(placement_type=homes).sum()) > 1.1 * float(
        ds0["spend"].sel(placement_type=homes).sum()
    )
    others = [p for p in ds0["placement_type"].values if p not in homes]
    np.testing.assert_allclose(ds1["spend"].sel(placement_type=others), ds0["spend"].sel(placement_type=others))


def test_a_secure_need_ends_whether_or_not_a_secure_place_was_found():
    """With no secure places, children needing secure welfare care wait (no lawful placement);
    their need lasts breakdown.secure_order_months, after which they are searched for at tier 2,
    so the queue is bounded by referrals x duration instead of growing with every referral."""
    cfg = small_config(
        years=1.0,
        provision={"secure_welfare_places": 0},
        demand={"secure_escalation_on_breakdown": 0.5, "needs_shares_10_15": [0.4, 0.3, 0.2, 0.1]},
        breakdown={"secure_order_months": 1.0},
    )
    cfg.sim.check_invariants = True  # recounts no_lawful_placement from the children every week
    m = CareSystemModel(to_object(cfg))
    m.run()
    ds = to_dataset(m)
    referrals = float(ds["secure_referrals"].sum())
    waiting = ds["no_lawful_placement"].sum("la").values
    assert referrals > 30
    assert waiting.max() > 0
    # a month's need and ~a year's referrals: at most a few months' worth wait at any time
    assert waiting[-1] < 0.4 * referrals
    assert all(c.tier < 3 or c.ptype == UNREGISTERED for c in m.children.values())


def test_placement_providers_at_31_march_cover_every_child_as_dfe_classifies_them():
    from rcc_sim.engine.processes.placement import provider_index
    from rcc_sim.vocab import IFA, IN_HOUSE, KINSHIP, PROVIDERS, WITH_PARENTS

    m = CareSystemModel(to_object(small_config(years=1.0)))
    m.run()
    ds = to_dataset(m)
    by = ds["placements_by_provider_31mar"]
    np.testing.assert_array_equal(by.sum("provider").values, ds["children_in_care_31mar"].values)
    assert float(by.sel(provider="private").sum()) > 0 and float(by.sel(provider="own_la").sum()) > 0
    expect = {WITH_PARENTS: "parents", IFA: "private", KINSHIP: "own_la"}
    for c in m.children.values():
        name = PROVIDERS[provider_index(c)]
        if c.ptype in expect:
            assert name == expect[c.ptype]
        if c.ptype == IN_HOUSE:
            assert name == ("own_la" if c.unit.owner_la == c.la else "other_la")


def _in_supported(**placement) -> tuple[int, int, list[float]]:
    """Children in supported accommodation at the end of a year, care-plan moves in it, and the
    ages (years) of the children in supported accommodation."""
    m = CareSystemModel(to_object(small_config(years=1.0, placement=placement)))
    m.run()
    now = m.clock.env.now
    supported = [c for c in m.children.values() if c.ptype == SUPPORTED]
    moves = int(to_dataset(m)["moves"].sel(move_reason="care_plan").sum())
    return len(supported), moves, [c.age(now) for c in supported]


def test_the_step_to_supported_accommodation_moves_16_17_year_olds_only():
    """placement.step_to_supported_*: with the route open, more children are in supported
    accommodation a year on, by planned (care-plan) moves, and every one of them is 16 or older;
    with it closed (the default) the model is as before; every value in the bounds runs."""
    closed, closed_moves, _ = _in_supported()
    opened, opened_moves, ages = _in_supported(step_to_supported_foster=1.0, step_to_supported_home=2.0)
    assert opened > closed + 10  # three GM LAs: a few hundred 16-17 year olds in care
    assert opened_moves > closed_moves
    assert min(ages) >= 16.0
    _in_supported(step_to_supported_foster=12.0, step_to_supported_home=12.0)


def test_unaccompanied_children_are_not_placed_with_kin_or_parents():
    """An unaccompanied asylum-seeking child has no connected person and no parents here: never
    kinship foster care or placed with parents; the other children keep the band's kinship entries."""
    from rcc_sim.vocab import KINSHIP, WITH_PARENTS

    model = CareSystemModel(small_config(years=0.5, demand={"entry_rate_scale": 2.0}))
    seen = {"uasc": 0, "kin": 0, "uasc_kin_or_parents": 0}  # child-days

    def look() -> None:  # every day: where each child in care lives
        for child in model.demand.children.values():
            seen["uasc"] += child.uasc
            seen["kin"] += child.ptype == KINSHIP
            seen["uasc_kin_or_parents"] += child.uasc and child.ptype in (KINSHIP, WITH_PARENTS)
        model.clock.at(1.0, look)

    model.clock.at(0.0, look)
    model.run()
    assert seen["uasc"] > 50 and seen["kin"] > 50  # both kinds were placed
    assert seen["uasc_kin_or_parents"] == 0
