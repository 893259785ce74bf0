"""Providers respond to scarcity: homes and supported accommodation open faster when their places
are fuller than the target occupancy, slower when emptier (rcc_sim/engine/processes/provision.py)."""

from __future__ import annotations

import math

from conftest import small_config

from rcc_sim.config import to_object
from rcc_sim.engine.model import CareSystemModel
from rcc_sim.engine.processes.provision import MAX_ENTRY_MULTIPLIER
from rcc_sim.run import to_dataset
from rcc_sim.vocab import KINSHIP


class _Unit:
    def __init__(self, usable: int, children: int):
        self.usable, self.children = usable, [None] * children


def _response(elasticity: float, target: float, units: dict) -> float:
    model = CareSystemModel(
        to_object(
            small_config(years=0.02, provision={"entry_occupancy_elasticity": elasticity, "target_occupancy": target})
        )
    )
    return model.provision.entry_response(units)


def test_entry_response_rises_with_occupancy_and_is_capped():
    at_target = {1: _Unit(10, 9)}  # occupancy 0.9
    assert _response(10.0, 0.9, at_target) == 1.0
    assert math.isclose(_response(10.0, 0.8, at_target), math.exp(1.0))  # 10 points above the target
    assert math.isclose(_response(10.0, 0.9, {1: _Unit(10, 5)}), math.exp(-4.0))  # emptier: fewer openings
    assert _response(0.0, 0.5, {1: _Unit(10, 0)}) == 1.0  # elasticity 0: no response
    assert _response(50.0, 0.0, at_target) == MAX_ENTRY_MULTIPLIER  # within the bounds, capped
    assert math.isclose(_response(10.0, 0.9, {1: _Unit(0, 0)}), math.exp(1.0))  # no usable place: full


def _opened(kind: str, **provision) -> float:
    """Openings of ``kind`` in a year of three GM LAs, with the response to scarcity switched on
    as in an England world (in a world of some LAs it is off: its homes also serve the rest)."""
    model = CareSystemModel(to_object(small_config(years=1.0, provision=provision)))
    assert not model.provision.respond_to_scarcity
    model.provision.respond_to_scarcity = True
    model.run()
    return float(to_dataset(model)["homes_opened"].sel(home_kind=kind).sum())


def test_supported_accommodation_opens_faster_when_full_and_not_when_switched_off():
    scarce = dict(supported_places=3000, target_occupancy=0.5)  # a third of England's places: near full
    responsive = _opened("supported_accommodation", **scarce, entry_occupancy_elasticity=10.0)
    flat = _opened("supported_accommodation", **scarce, entry_occupancy_elasticity=0.0)
    assert responsive > flat > 0
    assert _opened("supported_accommodation", **scarce, supported_opening_rate=0.0) == 0


def test_fuller_homes_bring_more_openings():
    """Same seed, same world: any child in a home is occupancy above a target of 0, so a response
    to scarcity opens more private homes than none."""
    assert _opened("private_home", target_occupancy=0.0, entry_occupancy_elasticity=5.0) > _opened(
        "private_home", target_occupancy=0.0, entry_occupancy_elasticity=0.0
    )


def _new_home_places(**provision) -> list[int]:
    """Registered places of the private homes opened in a year of three GM LAs."""
    model = CareSystemModel(to_object(small_config(years=1.0, provision=provision)))
    built = set(model.provision.homes)
    model.run()
    return [h.places for uid, h in model.provision.homes.items() if uid not in built]


def test_homes_open_at_the_new_home_size_not_the_stock_average():
    """Ofsted's homes got smaller (4.4 -> 3.9 places a home, 2019-2023): new homes open with
    ``new_home_places`` places on average, whatever the average of the homes already open."""
    single = _new_home_places(opening_rate=1.0, new_home_places=1.0)
    assert single and set(single) == {1}  # 1 + Poisson(0): every new home has one place
    large = _new_home_places(opening_rate=1.0, new_home_places=8.0)
    assert len(large) >= 5 and sum(large) / len(large) > 5.0  # the stock averages 4.1


def _foster_flows(**fostering) -> tuple[float, float, float]:
    """Transfers, in-house and IFA approvals in two years of three GM LAs."""
    model = CareSystemModel(to_object(small_config(years=2.0, fostering=fostering)))
    model.run()
    ds = to_dataset(model)
    approvals = ds["foster_approvals"].sum(("time", "la"))
    return (
        float(ds["foster_transfers"].sum()),
        float(approvals.sel(carer_kind="in_house")),
        float(approvals.sel(carer_kind="ifa")),
    )


def test_in_house_carers_transfer_to_ifas_without_counting_as_approvals():
    none = _foster_flows(in_house_transfer_share=0.0)
    assert none[0] == 0
    every = _foster_flows(in_house_transfer_share=1.0)
    assert every[0] > 20  # ~15% of ~1,000 in-house households leave in two years
    # same seed: the funnel's approvals are not transfers (Ofsted counts them apart)
    assert every[1:] == none[1:]


def _kinship_outside(share: float) -> tuple[int, int]:
    """(kinship placements, of which outside the child's LA) at the end of half a year."""
    model = CareSystemModel(to_object(small_config(years=0.5, fostering={"kinship_outside_la_share": share})))
    model.run()
    kin = [c for c in model.children.values() if c.unit is not None and c.unit.ptype == KINSHIP]
    return len(kin), sum(c.unit.la != c.la for c in kin)


def test_kinship_carers_live_outside_the_la_at_the_published_share():
    """DfE 2015: 29% of children fostered by relatives or friends lived outside their LA."""
    n, outside = _kinship_outside(0.0)
    assert n > 50 and outside == 0
    n, outside = _kinship_outside(1.0)
    assert n > 50 and outside == n


def _kinship_households(share: float) -> tuple[int, int, list]:
    """(kinship children, kinship households, the households) at the end of half a year, with
    every counter recounted from the agents each week."""
    cfg = small_config(years=0.5, fostering={"kinship_join_existing_share": share, "kinship_outside_la_share": 0.5})
    cfg.sim.check_invariants = True
    model = CareSystemModel(to_object(cfg))
    model.run()
    kin = [c.unit for c in model.children.values() if c.unit is not None and c.unit.ptype == KINSHIP]
    homes = {u.unique_id: u for u in kin}
    n = sum(len(u.children) for u in homes.values())
    return n, len(homes), list(homes.values())


def test_kinship_children_join_households_already_caring_for_a_child():
    """Ofsted counts about 1.5 children per family-and-friends household; with no joining a
    household holds one arriving group (a few siblings at most)."""
    n0, h0, _ = _kinship_households(0.0)
    n1, h1, homes = _kinship_households(0.9)
    assert n0 > 50 and n1 > 50
    assert h1 < 0.75 * h0  # far fewer households for about as many children
    assert n1 / h1 > 1.3 * (n0 / h0)
    for u in homes:  # a joined household's approval grew with it, in its own LA's carers
        assert u.places == u.usable >= len(u.children)
        assert all(c.la == u.owner_la for c in u.children)
