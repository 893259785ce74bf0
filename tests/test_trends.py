"""Trend bands (rcc_sim.studies.trends) on synthetic runs, and the new placement-location outputs
(placements started outside the LA / over 20 miles, placed inside the home region) on a short
Greater Manchester run."""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr
from conftest import small_config
from test_worlds import composed

from rcc_sim.engine.model import calendar
from rcc_sim.engine.recorder import SHARES
from rcc_sim.run import simulate
from rcc_sim.studies.trends import (
    MEASURES,
    PCT,
    PP,
    inside,
    markdown,
    published_trend,
    slope,
    trend_table,
    trends,
)
from rcc_sim.vocab import CARER_KINDS, HOME_KINDS, PLACEMENT_TYPES

# ------------------------------------------------------------------------------------------------
# the fit and the band check
# ------------------------------------------------------------------------------------------------


def test_slope_linear_in_pp_and_log_linear_in_per_cent():
    years = [2025, 2026, 2027, 2028]
    assert slope(years, [10.0, 10.5, 11.0, 11.5], PP) == pytest.approx(0.5)
    assert slope(years, [100 * 1.05**k for k in range(4)], PCT) == pytest.approx(5.0)
    assert slope(years, [100 * 0.97**k for k in range(4)], PCT) == pytest.approx(-3.0)
    # noisy points: the least-squares line, not the end points
    assert slope([0, 1, 2], [0.0, 3.0, 0.0], PP) == pytest.approx(0.0)
    assert math.isnan(slope([2025], [1.0], PP))
    assert math.isnan(slope(years, [np.nan, 1.0, np.nan, np.nan], PP))
    assert slope(years, [np.nan, 1.0, 2.0, np.nan], PP) == pytest.approx(1.0)


def test_band_check():
    assert inside(0.9, -0.5, 1.0) is True
    assert inside(1.0, -0.5, 1.0) is True
    assert inside(1.01, -0.5, 1.0) is False
    assert inside(-3.0, -2.0, 0.0) is False
    assert inside(float("nan"), -2.0, 0.0) is None
    assert inside(0.5, None, None) is None


def _synthetic(seed: int, years: int, yearly: dict[str, list[float]], first_week: dict[str, float]) -> xr.Dataset:
    """A run-shaped Dataset (one LA of two holding everything, the other zeros) whose stocks take
    ``yearly[name][k]`` only in the last week of statistical year k (31 March) and junk in every
    other week, and whose flows are spread evenly over the year's 52 weeks."""
    week_ends, stat_year, year_ends = calendar(2024, years)
    n = len(week_ends)
    base = np.datetime64("2024-03-31")
    last = [int(np.flatnonzero(stat_year == y)[-1]) for y in np.unique(stat_year)]

    def stock(name: str) -> np.ndarray:
        v = np.full(n, 987.0)  # junk away from 31 March: the fit must not see it
        v[last] = yearly[name]
        v[0] = first_week.get(name, 987.0)
        return v

    def flow(name: str) -> np.ndarray:
        return np.repeat(np.asarray(yearly[name]) / 52.0, 52)

    def two_las(v: np.ndarray) -> np.ndarray:
        return np.stack([v, np.zeros_like(v)], axis=1)

    def by(v: np.ndarray, labels: tuple[str, ...], where: tuple[str, ...]) -> np.ndarray:
        out = np.zeros((n, 2, len(labels)))
        for lab in where:  # split evenly across the labels the measure sums
            out[:, 0, labels.index(lab)] = v / len(where)
        out[:, 0, labels.index(labels[-1])] += 5.0  # a label the measure must not count
        return out

    data = {
        name: (("time", "la"), two_las(stock(name)))
        for name in (
            "over_20_miles",
            "located",
            "outside_la",
            "family_based",
            "children_in_care",
            "waiting",
            "in_home_region",
        )
    }
    data |= {
        name: (("time", "la"), two_las(flow(name)))
        for name in ("new_placements", "new_placements_outside_la_over_20_miles")
    }
    data["carers"] = (("time", "la", "carer_kind"), by(stock("carers"), CARER_KINDS, ("in_house", "ifa")))
    data["homes"] = (("time", "la", "home_kind"), by(stock("homes"), HOME_KINDS, ("la_home", "private_home")))
    data["placements"] = (
        ("time", "la", "placement_type"),
        by(stock("placements"), PLACEMENT_TYPES, ("la_home", "private_home", "secure")),
    )
    coords = {
        "time": base + week_ends.astype("timedelta64[D]"),
        "stat_year": ("time", stat_year),
        "year": base + year_ends.astype("timedelta64[D]"),
        "la": ["A", "B"],
        "carer_kind": list(CARER_KINDS),
        "home_kind": list(HOME_KINDS),
        "placement_type": list(PLACEMENT_TYPES),
    }
    return xr.Dataset(data, coords=coords, attrs={"seed": seed})


def _yearly(years: int, over20_pp: float, homes_growth: float) -> dict[str, list[float]]:
    k = np.arange(years)
    located = np.full(years, 1000.0)
    return {
        "located": list(located),
        "over_20_miles": list(located * (0.20 + over20_pp / 100 * k)),  # 20% rising by over20_pp a year
        "outside_la": list(located * 0.40),  # flat: outside its 0 to +2 band? no, 0 is inside
        "children_in_care": [2000.0] * years,
        "family_based": list(2000.0 * (0.80 - 0.03 * k)),  # -3 pp a year: outside -2..0
        "waiting": [0.0] * years,
        "in_home_region": [1800.0] * years,
        "carers": list(30000.0 * 0.98**k),  # -2% a year
        "homes": list(3000.0 * (1 + homes_growth / 100) ** k),
        "placements": list(8000.0 * 1.05**k),  # +5% a year
        "new_placements": [5200.0] * years,  # 100 a week
        "new_placements_outside_la_over_20_miles": list(5200.0 * (0.10 + 0.01 * k)),  # 10% + 1 pp a year
    }


def test_trends_on_synthetic_runs():
    years = 4
    runs = [
        _synthetic(
            0, years, _yearly(years, over20_pp=1.2, homes_growth=6.0), {"over_20_miles": 123.0, "located": 1000.0}
        ),
        _synthetic(
            1, years, _yearly(years, over20_pp=0.6, homes_growth=14.0), {"over_20_miles": 127.0, "located": 1000.0}
        ),
    ]
    result = trends(runs)
    by = {t.measure.key: t for t in result.measures}
    assert result.seeds == [0, 1]
    assert by["over_20_miles"].years == [2025, 2026, 2027, 2028]

    over = by["over_20_miles"]
    np.testing.assert_allclose(over.values[0], [20.0, 21.2, 22.4, 23.6])
    np.testing.assert_allclose(over.slopes, [1.2, 0.6])
    assert over.slope == pytest.approx(0.9)
    assert over.sd == pytest.approx(np.std([1.2, 0.6], ddof=1))
    assert over.inside is True  # 0.9 in -0.5..+1.0, though one seed (1.2) is outside
    assert over.start == pytest.approx([12.3, 12.7])  # week 1, not part of the fit
    assert by["outside_la"].slope == pytest.approx(0.0) and by["outside_la"].inside is True
    assert by["family_based"].slope == pytest.approx(-3.0) and by["family_based"].inside is False
    assert by["mainstream_households"].slope == pytest.approx(-2.0) and by["mainstream_households"].inside is True
    homes = by["childrens_homes"]
    np.testing.assert_allclose(homes.slopes, [6.0, 14.0])
    assert homes.slope == pytest.approx(10.0) and homes.inside is True
    assert by["children_in_homes_and_secure"].slope == pytest.approx(5.0)
    assert by["waiting_or_unregistered"].slope == pytest.approx(0.0) and by["waiting_or_unregistered"].inside
    new = by["new_placements_outside_la_over_20_miles"]  # a flow: summed over each year, then divided
    np.testing.assert_allclose(new.values[1], [10.0, 11.0, 12.0, 13.0])
    assert new.slope == pytest.approx(1.0) and new.inside is None and math.isnan(new.start[0])
    assert by["in_home_region"].mean == pytest.approx([90.0] * years)
    text = markdown(result)
    assert "**outside**" in text and "+0.90 +- 0.42" in text


def test_fit_from_leaves_out_the_first_years():
    """A share that jumps in year one and then holds: outside its band over all years, flat after."""
    yearly = _yearly(4, over20_pp=0.0, homes_growth=5.0)
    yearly["outside_la"] = [100.0, 400.0, 400.0, 400.0]  # of 1,000 located: 10% then 40%
    runs = [_synthetic(0, 4, yearly, {}), _synthetic(1, 4, yearly, {})]
    full = {t.measure.key: t for t in trends(runs).measures}["outside_la"]
    late = trends(runs, fit_from=2026)
    after = {t.measure.key: t for t in late.measures}["outside_la"]
    assert full.slope == pytest.approx(9.0) and full.inside is False
    assert after.slope == pytest.approx(0.0) and after.inside is True
    assert after.years == [2025, 2026, 2027, 2028]  # the yearly values are all kept
    assert late.fit_from == 2026 and "model trend from 2026" in trend_table(late)


def test_trends_refuse_runs_over_different_years():
    with pytest.raises(ValueError, match="different years"):
        trends([_synthetic(0, 3, _yearly(3, 1.0, 5.0), {}), _synthetic(1, 4, _yearly(4, 1.0, 5.0), {})])


def test_published_trends_come_from_the_shipped_series():
    by = {m.key: published_trend(m) for m in MEASURES}
    over = by["over_20_miles"]
    assert over is not None and over.years == [2020, 2021, 2022, 2023]
    assert over.values == [20.0, 21.0, 21.0, 21.0] and over.slope == pytest.approx(0.3)
    homes = by["childrens_homes"]  # Ofsted children's homes 2,221 (2019) -> 3,050 (2023)
    assert homes is not None and homes.years == [2019, 2020, 2021, 2022, 2023]
    assert 7.0 < homes.slope < 9.5
    for key, p in by.items():
        if p is not None:
            assert p.years and min(p.years) >= 2019 and max(p.years) <= 2024, key
            assert np.isfinite(p.slope), key
    assert by["in_home_region"] is None


# ------------------------------------------------------------------------------------------------
# the new outputs, on a few weeks of Greater Manchester
# ------------------------------------------------------------------------------------------------
NEW_COUNTS = (
    "new_placements",
    "new_placements_outside_la",
    "new_placements_outside_la_over_20_miles",
    "in_home_region",
)


@pytest.fixture(scope="module")
def gm() -> xr.Dataset:
    codes = composed("world=greater_manchester").world.la_codes
    return simulate(small_config(years=0.15, la_codes=list(codes), sim={"check_invariants": True}))


def test_new_counts_are_non_negative_integers(gm):
    assert gm.sizes["la"] == 10 and gm.sizes["time"] == 8
    for name in NEW_COUNTS:
        v = gm[name].values
        assert np.isfinite(v).all() and (v >= 0).all(), name
        np.testing.assert_array_equal(v, np.round(v), err_msg=name)
    assert float(gm["new_placements"].sum()) > 0
    assert float(gm["new_placements_outside_la"].sum()) > 0


def test_new_placements_are_the_placements_started(gm):
    """Every entry into care and every move starts one placement; those made outside the LA (and
    over 20 miles) are among them; placements made (regulated/family) are too."""
    new, out, out20 = (
        gm["new_placements"],
        gm["new_placements_outside_la"],
        gm["new_placements_outside_la_over_20_miles"],
    )
    np.testing.assert_array_equal(new, gm["starts"] + gm["moves"].sum("move_reason"))
    assert (out20 <= out).all() and (out <= new).all()
    assert (gm["placements_made"] <= new).all()


def test_in_home_region_lies_between_inside_la_and_located(gm):
    """Placed inside the LA implies inside its region; only located children can be in it."""
    inside_la = gm["located"] - gm["outside_la"]
    assert (gm["in_home_region"] >= inside_la).all()
    assert (gm["in_home_region"] <= gm["located"]).all()
    assert (gm["in_home_region"] <= gm["children_in_care"]).all()
    assert (gm["in_home_region"] < gm["located"]).any()  # GM places some children outside the North West


def test_new_shares_in_unit_interval_or_nan_with_zero_denominator(gm):
    for name in (
        "share_in_home_region",
        "share_new_placements_outside_la",
        "share_new_placements_outside_la_over_20_miles",
    ):
        num, den = SHARES[name]
        v = gm[name].values
        np.testing.assert_array_equal(np.isnan(v), (gm[den] <= 0).values, err_msg=name)
        ok = v[np.isfinite(v)]
        assert ok.size and (ok >= 0).all() and (ok <= 1).all(), name
        assert "NaN where" in gm[name].attrs["definition"], name
    assert "DfE" in gm["share_new_placements_outside_la_over_20_miles"].attrs["definition"]
    assert "SESLIP" in gm["share_in_home_region"].attrs["definition"]
    for name in NEW_COUNTS:
        attrs = gm[name].attrs
        assert attrs["units"] and attrs["definition"] and attrs["published_statistic"], name
