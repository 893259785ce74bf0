"""Sufficiency planning (issue 13, point 2): forecasts of next 31 March by three methods, their
errors as outputs, and the yearly plan that re-sets an RCC's recruitment and provision."""

from __future__ import annotations

import numpy as np
import pytest
from test_rcc import gm_config, rcc

from rcc_sim.config import ConfigError
from rcc_sim.engine.model import CareSystemModel
from rcc_sim.engine.sufficiency import N_CLASSES, N_STATES, StateHistory, add_counts, by_class, state_of
from rcc_sim.run import simulate, to_dataset
from rcc_sim.vocab import FORECAST_METHODS, IN_HOUSE, LA_HOME, PRIVATE_HOME, SUPPORTED


def test_states_group_placement_types_by_class():
    assert state_of(0, IN_HOUSE) == 0
    assert state_of(2, LA_HOME) == 2 * N_CLASSES + 1
    assert state_of(4, PRIVATE_HOME) == state_of(4, LA_HOME)
    assert state_of(7, SUPPORTED) == 4 * N_CLASSES + 2  # 18 and over counts as 16-17
    x = np.arange(N_STATES, dtype=float)
    assert by_class(x).tolist() == [sum(x[c::N_CLASSES]) for c in range(N_CLASSES)]


def test_add_counts_is_add_at_of_ones():
    """The census counts with bincount what np.add.at(a, index, 1) counts, repeats included, in
    2-D and 3-D arrays and in a view of one year of a yearly array; refuses a strided view and
    an index outside the shape."""
    rng = np.random.default_rng(4)
    for shape in ((7, 5), (4, 3, 6)):
        a = rng.integers(0, 9, size=shape).astype(float)
        index = tuple(rng.integers(0, n, size=500) for n in shape)
        expected = a.copy()
        np.add.at(expected, index, 1)
        add_counts(a, index)
        assert np.array_equal(a, expected)
    years = np.zeros((3, 7, 5))
    add_counts(years[1], (np.array([2, 2, 6]), np.array([4, 4, 0])))
    assert years[1, 2, 4] == 2 and years[1, 6, 0] == 1 and years.sum() == 3
    with pytest.raises(ValueError):
        add_counts(np.zeros((6, 4))[:, ::2], (np.array([0]), np.array([1])))
    with pytest.raises(ValueError):
        add_counts(np.zeros((6, 4)), (np.array([6]), np.array([0])))


def test_markov_forecast_matches_a_hand_computation():
    """Two LAs pooled, one year of history: P = transitions / (transitions + exits) from each
    state, entries per LA added; a state never seen leaving keeps its children."""
    h = StateHistory(2, window=5)
    # census 1: LA 0 has 4 children in state 0, LA 1 has 2 in state 0 and 1 in state 5
    h.census(*(np.array(x) for x in zip(*[(0, -1, 0)] * 4 + [(1, -1, 0)] * 2 + [(1, -1, 5)])))
    assert not h.years  # the first census has no year before it
    # a year: of the 6 in state 0, 3 stay, 1 moves to state 1, 2 leave; state 5's child stays;
    # 2 entrants to LA 0 in state 0 are in care at the census
    h.exited(0, 0)
    h.exited(1, 0)
    h.census(*(np.array(x) for x in zip((0, 0, 0), (0, 0, 0), (1, 0, 0), (0, 0, 1), (1, 5, 5), (0, -1, 0), (0, -1, 0))))
    f = h.markov(np.array([0, 1]), years=3)
    # P[0,0] = 3/6, P[0,1] = 1/6, P[5,5] = 1; other states never left: identity
    now0 = np.zeros(N_STATES)
    now0[0], now0[1] = 4, 1  # LA 0 now: 2 stayed + 2 entrants in 0, 1 in state 1
    expect0 = now0[0] * np.eye(N_STATES)[0] * 0.5 + now0[0] * np.eye(N_STATES)[1] / 6 + now0[1] * np.eye(N_STATES)[1]
    expect0[0] += 2  # LA 0's entrants per year
    assert np.allclose(f[0], expect0)
    assert np.isclose(f[1, 0], 0.5) and np.isclose(f[1, 1], 1 / 6) and np.isclose(f[1, 5], 1.0)
    # with no window the forecast is the naive one
    assert np.array_equal(StateHistory(1, 3).markov(np.array([0]), 3), np.zeros((1, N_STATES)))


def test_perfect_foresight_knows_who_will_be_in_care_and_errors_are_outputs():
    """The perfect forecast of children in care is exact (every exit is planned and next year's
    arrivals are drawn); naive and Markov are not; no forecast in the first year; Markov equals
    naive until there is a year of history. A status-quo run: every LA forecasts."""
    ds = simulate(gm_config(3.0))
    err = ds["forecast_error"]
    assert list(err["forecast_method"].values) == list(FORECAST_METHODS)
    assert float(np.abs(err.isel(year=0)).sum()) == 0.0
    later = err.isel(year=slice(1, None))
    assert float(np.abs(later.sel(forecast_method="perfect")).max()) < 1e-6
    assert float(np.abs(later.sel(forecast_method="naive")).sum()) > 10
    assert np.array_equal(err.isel(year=1).sel(forecast_method="markov"), err.isel(year=1).sel(forecast_method="naive"))
    assert not np.array_equal(
        err.isel(year=2).sel(forecast_method="markov"), err.isel(year=2).sel(forecast_method="naive")
    )
    # residential need depends on the year's placements: not foreseen exactly
    assert (
        float(np.abs(ds["forecast_error_residential"].isel(year=slice(1, None)).sel(forecast_method="perfect")).sum())
        > 0
    )


def _plans(share: float, method: str = "markov", **levers):
    """Run GM 4 years with a planning RCC; return the model and (day, blocks, specialists,
    homes) after each plan (the RCC's plan history)."""
    cfg = gm_config(
        4.0,
        rccs=rcc(
            forecasting=True,
            forecast_method=method,
            plan_controlled_share=share,
            block_term_years=1.0,
            **levers,
        ),
    )
    model = CareSystemModel(cfg)
    model.run()
    return model, model.commissioning.rccs[0].plans


def test_the_yearly_plan_sizes_provision_from_the_forecast_within_its_limits():
    levers = dict(block_places=40, specialist_carers=6, homes_to_build=10, capital_funding_gbp=3.0e6)
    model, rows = _plans(0.4, **levers)
    assert len(rows) == 4  # at go-live and at each 31 March with a year still to run
    rcc_ = model.commissioning.rccs[0]
    assert rcc_.homes_built == 2  # the capital buys 2 homes of GBP 1.2m, fewer than the 10 allowed
    assert rcc_.capital_spent <= 3.0e6
    assert all(0 < blocks <= 40 + 6 for _, blocks, _, _ in rows)  # the cap, give or take one home's places
    assert all(spec <= 6 for _, _, spec, _ in rows)
    ds = to_dataset(model)
    assert float(ds["rcc_capital"].sum()) == pytest.approx(2 * 1.2e6)
    # a small target needs nothing beyond the members' own LA homes: no blocks, carers or homes
    _, small = _plans(0.05, **levers)
    assert all(blocks == 0 and spec == 0 and homes == 0 for _, blocks, spec, homes in small)


def test_block_contracts_end_or_renew_at_the_end_of_their_term():
    """A contract whose term has run ends when the plan no longer needs it (the home back on the
    open market at its own price) and is renewed (re-priced at the block discount) when it does;
    one still running is kept either way."""
    model, rows = _plans(0.4, block_places=40, block_discount=0.2)
    com = model.commissioning
    r = com.rccs[0]
    units = list(r.block_units)
    assert units and all(u.reserved_for == r.id for u in units)
    now = model.clock.now
    units = [u for u in units if u.open and not u.closing]  # a home closing ends its contract anyway
    expired, running = units[: len(units) // 2], units[len(units) // 2 :]
    for u in expired:
        r.block_ends[u.unique_id] = now - 1.0
    for u in running:
        r.block_ends[u.unique_id] = now + 100.0
    factors = {u.unique_id: r.block_factor[u.unique_id] for u in expired}
    com._plan_provision(r, residential_need=0.0)  # nothing needed
    assert set(r.block_units) >= set(running) and not set(r.block_units) & set(expired)
    for u in expired:
        assert u.reserved_for == -1 and u.price_factor == factors[u.unique_id]
    for u in running:
        r.block_ends[u.unique_id] = now - 1.0
    com._plan_provision(r, residential_need=1e6)  # everything needed: renewed for a term
    assert set(r.block_units) >= set(running)
    for u in running:
        assert r.block_ends[u.unique_id] == pytest.approx(now + 365.25)
        assert u.price_factor == pytest.approx(min(r.block_factor[u.unique_id], 1.0) * 0.8)


def test_bad_forecast_method_is_refused_naming_the_key():
    with pytest.raises(ConfigError, match=r"policy\.rccs\.gm\.forecast_method' = 'crystal_ball'"):
        gm_config(1.0, rccs=rcc(forecasting=True, forecast_method="crystal_ball"))


def test_las_alone_plan_their_recruitment_when_the_package_says_so():
    """With policy.package.la_sufficiency_plans each LA sets its recruitment effort from its own
    forecast each year (some LAs forecast more foster need than their in-house places: their
    enquiries rise); without it (the status quo) the effort stays 1; an LA in a forecasting RCC
    is planned for by the RCC, not by itself."""
    import dataclasses

    from rcc_sim.config import PlanningConfig

    plain = CareSystemModel(gm_config(3.0))
    plain.run()
    assert np.all(plain.commissioning.enquiry_mult == 1.0)
    cfg = gm_config(3.0, package=PlanningConfig(la_sufficiency_plans=True, la_forecast_method="markov"))
    model = CareSystemModel(cfg)
    model.run()
    mult = np.asarray(model.commissioning.enquiry_mult)
    assert np.all((mult >= 1.0) & (mult <= 1.5)) and np.any(mult > 1.0)
    # the effort is updated by ratios (new / old), so equal up to rounding
    assert [p.enquiry_plan_mult for p in model.commissioning.local_plans] == pytest.approx(mult.tolist(), rel=1e-12)
    both = CareSystemModel(dataclasses.replace(cfg, policy=dataclasses.replace(cfg.policy, rccs=rcc(forecasting=True))))
    both.run()
    assert all(p.enquiry_plan_mult == 1.0 for p in both.commissioning.local_plans)


def test_block_contracts_buy_good_value_places_that_members_use():
    """The RCC tenders for its block places (homes for very complex needs first, then the lowest
    price) and pays at most the average price less its discount: members' children fill them.
    Before the tender (nearest vacant homes at their own, high, prices) half the places were void."""
    cfg = gm_config(1.0, rccs=rcc(block_places=60, block_discount=0.1))
    model = CareSystemModel(cfg)
    model.run()
    r = model.commissioning.rccs[0]
    assert sum(u.usable for u in r.block_units) >= 60
    assert all(u.price_factor <= 0.9 + 1e-12 for u in r.block_units)
    members = set(r.members.tolist())
    assert all(u.la in members for u in r.block_units)  # GM has homes enough: no block outside
    ds = to_dataset(model)
    paid_void = float(ds["rcc_void_cost"].sum())
    week_price = model.market.price(PRIVATE_HOME, 2) * 0.9
    assert paid_void < 0.2 * 60 * 52 * week_price  # under a fifth of the places void on average
