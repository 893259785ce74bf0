"""Accounting invariants: every weekly record must add up, and simple limiting cases must hold."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from conftest import GM3, small_config

from rcc_sim.data import load_las
from rcc_sim.engine.recorder import SHARES, SIGNED, VARIABLES
from rcc_sim.run import simulate
from rcc_sim.vocab import ADOPTION, EXIT_ROUTES, FAMILY_BASED, OTHER_SETTING, PLACEMENT_TYPES, UNREGISTERED

FOSTER_NAMES = ["kinship_foster", "in_house_foster", "ifa_foster"]


@pytest.fixture(scope="module")
def checked() -> xr.Dataset:
    """3 LAs, one year, with the model recounting every counter from the agents each week
    (it raises AssertionError on any drift, so this fixture failing is itself a test failure)."""
    return simulate(small_config(years=1.0, sim={"check_invariants": True}))


@pytest.fixture(scope="module")
def unchecked() -> xr.Dataset:
    return simulate(small_config(years=1.0))


def test_recount_at_every_week_passes(checked):
    # reaching here means CareSystemModel.check_invariants passed at all 52 weekly records
    assert checked.sizes["time"] == 52
    assert checked.sizes["la"] == 3


def test_invariant_check_does_not_change_the_run(checked, unchecked):
    """The recount must only observe: no random draws, no state change (spend is re-accrued in
    more pieces, so it may differ by rounding only)."""
    for name in checked.data_vars:
        a, b = checked[name].values, unchecked[name].values
        if name == "spend":
            np.testing.assert_allclose(a, b, rtol=1e-6, err_msg=name)
        else:
            np.testing.assert_array_equal(a, b, err_msg=name)


def test_children_in_care_is_placed_plus_waiting(checked):
    np.testing.assert_array_equal(checked["children_in_care"], checked["placed"] + checked["waiting"])


def test_placements_sum_to_children_in_care(checked):
    np.testing.assert_array_equal(checked["placements"].sum("placement_type"), checked["children_in_care"])


def test_waiting_is_unregistered_placements(checked):
    np.testing.assert_array_equal(checked["waiting"], checked["placements"].sel(placement_type="unregistered"))


def test_family_based_and_located_match_placement_types(checked):
    p = checked["placements"]
    family = p.isel(placement_type=list(FAMILY_BASED)).sum("placement_type")
    np.testing.assert_array_equal(checked["family_based"], family)
    unlocated = [UNREGISTERED, ADOPTION, OTHER_SETTING]
    located = p.isel(placement_type=[i for i in range(len(PLACEMENT_TYPES)) if i not in unlocated]).sum(
        "placement_type"
    )
    np.testing.assert_array_equal(checked["located"], located)
    assert (checked["over_20_miles"] <= checked["located"]).all()
    assert (checked["outside_la"] <= checked["located"]).all()
    assert (checked["high_cost"] <= checked["children_in_care"]).all()


def test_every_variable_is_finite_and_non_negative(checked):
    """Counts and sums are finite and >= 0; ratios (metrics.SHARES) are NaN exactly where their
    denominator is 0, shares (units '1') lie in [0, 1]."""
    for name, da in checked.data_vars.items():
        values = da.values
        if name in SHARES:
            num, den = SHARES[name]
            np.testing.assert_array_equal(np.isnan(values), (checked[den] <= 0).values, err_msg=name)
            values = values[np.isfinite(values)]
            if da.attrs.get("units") == "1":
                assert (values <= 1).all(), f"share {name} above 1"
        else:
            assert np.isfinite(values).all(), f"{name} has NaN or inf"
        if name != "spend" and name not in SIGNED:  # spend: own test below
            assert (values >= 0).all(), f"{name} has a negative value"


def test_spend_is_never_negative(checked):
    """Spend is prices (>= 0) times time: no LA is ever paid back for a placement type."""
    spend = checked["spend"]
    negative = spend.where(spend < 0, drop=True).to_series().dropna()
    assert negative.empty, f"{len(negative)} negative weekly spend cells, min {negative.min()!r}:\n{negative.head(10)}"
    assert float(spend.sum()) > 0


def test_no_place_overfilled(checked):
    assert (checked["home_places_filled"] <= checked["home_places"]).all()
    assert (checked["foster_places_filled"] <= checked["foster_places"]).all()


def test_status_quo_own_units_serve_only_own_children(checked):
    """Status quo: an LA's own children's homes (located in the LA) take only its own children,
    so placements in LA homes equal the filled LA-home places located in the LA. Kinship carers
    live in the child's LA or (29%, DfE 2015) a nearby one, possibly outside the simulated world:
    their filled places in the world are at most the world's kinship placements. (In-house
    foster carers may live in a neighbouring LA, so their places are not comparable by LA.)"""
    np.testing.assert_array_equal(
        checked["placements"].sel(placement_type="la_home"), checked["home_places_filled"].sel(home_kind="la_home")
    )
    kin = checked["placements"].sel(placement_type="kinship_foster").sum("la")
    filled = checked["foster_places_filled"].sel(carer_kind="kinship").sum("la")
    assert (filled <= kin).all() and float(filled.sum()) > 0.5 * float(kin.sum())


def test_stock_and_flows_add_up(checked):
    """Children in care at the end of each week = last week's + starts - ceased; the first week
    starts from the published stock at the base date (31 March 2024)."""
    las = load_las()
    pos = [list(las["code"]).index(c) for c in checked["la"].values]
    base = np.asarray(las["stock_2024"])[pos]
    cic = checked["children_in_care"].values.astype(float)
    net = (checked["starts"] - checked["ceased"].sum("exit_route")).values.astype(float)
    previous = np.vstack([base[None, :], cic[:-1]])
    np.testing.assert_array_equal(cic, previous + net)


def test_annual_stock_is_31_march_week(checked):
    assert str(checked["time"].values[-1])[:10] == "2025-03-31"
    np.testing.assert_array_equal(
        checked["children_in_care_31mar"].isel(year=0), checked["children_in_care"].isel(time=-1)
    )
    assert (checked["three_plus_placements"] <= checked["children_in_care_31mar"]).all()


def test_flows_happen(checked):
    """The run is not trivially static: children enter, leave, move, and carers are recruited."""
    total = checked.sum(("time", "la"))
    assert float(total["starts"]) > 0
    assert float(total["ceased"].sum()) > 0
    assert float(total["moves"].sum()) > 0
    assert float(total["foster_approvals"].sum()) > 0
    assert set(total["exit_route"].values) == set(EXIT_ROUTES)


# ------------------------------------------------------------------------------------------------
# Limiting cases
# ------------------------------------------------------------------------------------------------
def test_zero_foster_supply_gives_no_foster_placements():
    cfg = small_config(
        years=0.5,
        sim={"check_invariants": True},
        fostering={"mainstream_households": 0, "enquiries_per_year": 0.0},
        placement={"kinship_at_entry": [0.0, 0.0, 0.0, 0.0, 0.0]},
    )
    ds = simulate(cfg)
    foster = ds["placements"].sel(placement_type=FOSTER_NAMES)
    assert float(abs(foster).max()) == 0.0, "foster placements without any foster carers"
    assert float(ds["carers"].max()) == 0.0
    assert float(ds["foster_places"].max()) == 0.0
    assert float(ds["foster_approvals"].max()) == 0.0
    # the children still in care are somewhere: the books still balance
    np.testing.assert_array_equal(ds["placements"].sum("placement_type"), ds["children_in_care"])
    assert float(ds["children_in_care"].isel(time=-1).sum()) > 0


def test_zero_entries_means_the_stock_only_falls():
    ds = simulate(small_config(years=0.5, sim={"check_invariants": True}, demand={"entry_rate_scale": 0.0}))
    assert float(abs(ds["starts"]).max()) == 0.0
    total = ds["children_in_care"].sum("la").values.astype(float)
    assert (np.diff(total) <= 0).all(), "children in care rose with no entries"
    las = load_las()
    base = sum(float(las["stock_2024"][list(las["code"]).index(c)]) for c in GM3)
    assert total[0] <= base
    assert total[-1] < base
    assert total[-1] < total[0]


def test_variables_declared_are_the_variables_output(checked):
    assert set(VARIABLES) <= set(checked.data_vars)


def test_earlier_base_year_starts_from_its_published_stock():
    ds = simulate(small_config(years=0.1, sim={"start_year": 2022}))
    assert str(ds["time"].values[0])[:10] == "2022-04-07"
    las = load_las()
    pos = [list(las["code"]).index(c) for c in ds["la"].values]
    base = np.asarray(las["stock_2022"])[pos]
    first = ds.isel(time=0)
    np.testing.assert_array_equal(first["children_in_care"] - first["starts"] + first["ceased"].sum("exit_route"), base)
