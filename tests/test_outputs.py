"""The output Dataset: documented variables, labelled dimensions, counts that aggregate."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from conftest import small_config

from rcc_sim.engine.recorder import (
    ANNUAL_VARIABLES,
    EXTRA_DIMS,
    MARKET_VARIABLES,
    SHARES,
    SIGNED,
    VARIABLES,
    aggregate,
    summarize,
)
from rcc_sim.run import simulate

# two LAs in the North West and one in the East Midlands, so that regions really group
LAS = ["E08000001", "E08000002", "E06000015"]  # Bolton, Bury, Derby


@pytest.fixture(scope="module")
def ds() -> xr.Dataset:
    return simulate(small_config(years=1.0, seed=3, la_codes=LAS))


def test_every_variable_is_documented(ds):
    for name, da in ds.data_vars.items():
        for attr in ("units", "long_name", "definition"):
            assert str(da.attrs.get(attr, "")).strip(), f"{name} has no {attr}"


def test_dimensions(ds):
    """Weekly variables are (time, la[, category]); the 31 March measures are (year, la[, category])."""
    assert set(VARIABLES) | set(ANNUAL_VARIABLES) | set(SHARES) <= set(ds.data_vars)
    for name, da in ds.data_vars.items():
        if name in MARKET_VARIABLES:  # by market area (regions, England), not by LA
            assert da.dims == ("year", "market_area", "market_sector"), name
            continue
        assert da.dims[:2] in (("time", "la"), ("year", "la")), f"{name} has dims {da.dims}"
    for name, var in VARIABLES.items():
        want = ("time", "la") + ((var.extra,) if var.extra else ())
        assert ds[name].dims == want, name
    for name, var in ANNUAL_VARIABLES.items():
        want = ("year", "la") + ((var.extra,) if var.extra else ())
        assert ds[name].dims == want, name
    for dim, labels in EXTRA_DIMS.items():
        assert list(ds[dim].values) == list(labels), dim
    assert sorted(ds["la"].values) == sorted(LAS)
    assert set(ds["region"].values) == {"North West", "East Midlands"}
    assert ds.sizes["time"] == 52 and ds.sizes["year"] == 1
    assert np.all(np.diff(ds["time"].values) > np.timedelta64(0, "D"))


def test_region_groupby_adds_up_to_england(ds):
    by_region = ds.groupby("region").sum()
    assert sorted(by_region["region"].values) == ["East Midlands", "North West"]
    england = ds.drop_vars(["la_name", "region"]).sum("la")
    for name in VARIABLES:
        np.testing.assert_allclose(by_region[name].sum("region"), england[name], rtol=1e-6, err_msg=name)
    nw = ds.where(ds["region"] == "North West", drop=True).sum("la")
    np.testing.assert_allclose(by_region["children_in_care"].sel(region="North West"), nw["children_in_care"])
    agg = aggregate(ds, "england")
    for name in VARIABLES:
        np.testing.assert_allclose(agg[name], england[name], rtol=1e-6, err_msg=name)


@pytest.mark.parametrize("by", ["region", "england"])
def test_aggregate_shares_are_shares(ds, by):
    agg = aggregate(ds, by)
    n_shares = 0
    for name, (num, den) in SHARES.items():
        share = agg[name]
        values = share.values[np.isfinite(share.values)]
        assert values.size > 0, f"{name} is all NaN"
        assert name in SIGNED or (values >= 0).all(), f"{name} negative"
        np.testing.assert_allclose(share, agg[num] / agg[den].where(agg[den] > 0), rtol=1e-6, err_msg=name)
        if share.attrs.get("units") == "1":
            n_shares += 1
            assert (values <= 1).all(), f"{name} above 1"
    assert n_shares >= 3


def test_summary_is_consistent_with_dataset(ds):
    s = summarize(ds)
    last = ds.isel(time=-1).sum("la")
    assert s["children_in_care_end"] == float(last["children_in_care"])
    assert s["starts"] == float(ds["starts"].sum())
    assert sum(v for k, v in s.items() if k.startswith("placements_end.")) == s["children_in_care_end"]
    assert 0 <= s["share_family_based_end"] <= 1
    assert all(np.isfinite(v) for v in s.values())


def test_dataset_records_its_config(ds):
    assert ds.attrs["seed"] == 3
    assert ds.attrs["world"] == "test"
    assert "E06000015" in ds.attrs["config"]


def test_netcdf_round_trip(ds, tmp_path):
    path = tmp_path / "results.nc"
    ds.to_netcdf(path, engine="h5netcdf")
    with xr.open_dataset(path, engine="h5netcdf") as back:
        for name in ds.data_vars:
            np.testing.assert_array_equal(back[name].values, ds[name].values, err_msg=name)
            assert back[name].attrs["units"] == ds[name].attrs["units"]
