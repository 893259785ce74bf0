"""Health and justice co-commissioning (issue 13, point 3): therapeutic support for children with
complex needs (fewer breakdowns and escalations, its cost counted) and secure beds shared between
welfare and youth justice (competition; shared regional commissioning as a lever)."""

from __future__ import annotations

import dataclasses

import numpy as np
from test_rcc import gm_config, rcc

from rcc_sim.engine.model import CareSystemModel
from rcc_sim.run import simulate, to_dataset
from rcc_sim.vocab import SECURE

THERAPY = dict(therapeutic_breakdown_reduction=0.5, therapeutic_escalation_reduction=0.5, therapeutic_cost_week=250.0)


def _unplanned_moves(ds) -> float:
    return float(ds["moves"].sum()) - float(ds["moves"].sel(move_reason="care_plan").sum())


def test_therapeutic_support_lowers_breakdowns_and_its_cost_is_counted():
    """Paired on three seeds: with support for the members' complex-needs children, fewer
    unplanned endings; the cost is GBP 250 a week for each complex-needs child in care, week by
    week; an RCC without it costs nothing and changes nothing."""
    fewer = 0
    for seed in (0, 1, 2):
        base = simulate(dataclasses.replace(gm_config(2.0), seed=seed))
        cfg = gm_config(2.0, rccs=rcc(**THERAPY))
        ds = simulate(dataclasses.replace(cfg, seed=seed))
        fewer += _unplanned_moves(ds) < _unplanned_moves(base)
        assert float(base["rcc_therapeutic_cost"].sum()) == 0.0
        cost = ds["rcc_therapeutic_cost"].astype("float64").sum("la").values
        complex_ = ds["complex_needs"].astype("float64").sum("la").values
        # each week's cost: the complex-needs children in care at its end x GBP 250 x its days / 7
        # (a week is 7 days, the last of a statistical year up to 9, to end on 31 March)
        assert len(cost) == 104 and (complex_ > 0).all()
        ratio = cost / (250.0 * complex_)
        assert np.allclose(ratio[ratio < 1.01], 1.0, rtol=1e-5) and (ratio <= 9 / 7 + 1e-5).all()
        assert (ratio > 1.01).sum() <= 2  # at most one long week a year
    assert fewer == 3


def test_support_without_an_effect_costs_nothing_and_the_run_is_the_status_quo():
    base = simulate(gm_config(1.0))
    ds = simulate(gm_config(1.0, rccs=rcc(therapeutic_cost_week=250.0)))
    assert float(ds["rcc_therapeutic_cost"].sum()) == 0.0
    assert np.array_equal(base["placements"].values, ds["placements"].values)


def _secure(model):
    """(home, welfare places staffed, contracted) of the simulated secure homes (GM: Salford)."""
    return [(h, w, c) for h, w, c in model.provision.secure_homes if model.world.simulated[h.la]]


def test_youth_justice_takes_welfare_beds_beyond_its_contracted_places():
    cfg = gm_config(1.0)
    cfg.provision = dataclasses.replace(cfg.provision, youth_justice_occupancy=0.0)
    none = CareSystemModel(cfg)
    (home, welfare, contracted), *_ = _secure(none)
    assert home.ptype == SECURE and contracted > 0
    assert home.places == home.usable + contracted + (home.places - contracted - home.usable)
    assert home.usable == welfare  # no youth-justice demand: every staffed welfare bed is open
    cfg.provision = dataclasses.replace(cfg.provision, youth_justice_occupancy=3.0)
    full = CareSystemModel(cfg)
    (home2, welfare2, contracted2), *_ = _secure(full)
    demand = full.rec.live["youth_justice_secure"][home2.la]
    assert demand > contracted2  # three times the contracted places on average
    assert home2.usable == max(welfare2 - (demand - contracted2), 0)
    assert home2.usable < welfare2


def test_shared_secure_commissioning_opens_spare_justice_places_to_welfare():
    """With an RCC commissioning secure places with youth justice in the North West, the places
    contracted to youth justice that its demand leaves empty in Salford's secure home take
    welfare children from the next quarter; without the lever they stay empty."""

    def first_quarter(shared: bool):
        cfg = gm_config(0.3, rccs=rcc(shared_secure_commissioning=shared))
        cfg.provision = dataclasses.replace(cfg.provision, youth_justice_occupancy=0.3)
        model = CareSystemModel(cfg)
        model.run()
        (home, welfare, contracted), *_ = _secure(model)
        demand = model.rec.live["youth_justice_secure"][home.la]
        return home.usable, welfare, contracted, demand, to_dataset(model)

    usable, welfare, contracted, demand, _ = first_quarter(False)
    assert demand < contracted and usable == welfare
    usable_s, welfare_s, contracted_s, demand_s, _ = first_quarter(True)
    assert usable_s == min(welfare_s + contracted_s - demand_s, welfare_s + contracted_s)
    assert usable_s > welfare_s
