"""The starts forecaster (rcc_sim/engine/forecast.py) and demand.starts_source (issue 12, point 5):
forecasts from the published past only, and a run that never reads a later year's starts."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import small_config

from rcc_sim.config import STARTS_FORECASTS, ConfigError, to_object
from rcc_sim.engine.forecast import ALPHA_UNFITTED, fit_alpha, forecast, forecast_from_table, history
from rcc_sim.engine.model import CareSystemModel
from rcc_sim.engine.world import build_world
from rcc_sim.run import to_dataset

YEARS = list(range(2016, 2025))


@pytest.mark.parametrize("method", STARTS_FORECASTS)
def test_a_constant_series_forecasts_itself(method):
    hist = np.tile(np.array([[0.0], [7.0], [120.0]]), (1, 6))
    out = forecast(hist, 4, method, years=3, damping=0.8)
    assert out.shape == (4, 3)
    np.testing.assert_allclose(out, np.tile([0.0, 7.0, 120.0], (4, 1)))


def test_an_undamped_trend_extrapolates_a_line():
    t = np.arange(6, dtype=float)
    hist = np.vstack([50 + 4 * t, 200 - 10 * t, 30 + 0 * t])
    out = forecast(hist, 3, "trend", years=4, damping=1.0)
    h = np.arange(6, 9, dtype=float)
    np.testing.assert_allclose(out, np.vstack([50 + 4 * h, 200 - 10 * h, 30 + 0 * h]).T)


def test_a_damped_trend_adds_the_damped_steps_and_never_goes_below_zero():
    hist = np.array([[10.0, 20.0, 30.0], [30.0, 20.0, 10.0]])  # +10 and -10 a year
    out = forecast(hist, 3, "trend", years=3, damping=0.5)
    np.testing.assert_allclose(out[:, 0], [35.0, 37.5, 38.75])
    np.testing.assert_allclose(out[:, 1], [5.0, 2.5, 1.25])
    assert forecast(hist, 5, "trend", years=3, damping=1.0)[:, 1].min() == 0.0


def test_level_is_the_mean_of_the_last_years_skipping_gaps():
    hist = np.array([[1.0, 100.0, 4.0, np.nan, 8.0]])
    np.testing.assert_allclose(forecast(hist, 2, "level", years=3), [[6.0], [6.0]])
    np.testing.assert_allclose(forecast(np.full((1, 3), np.nan), 1, "level", years=2), [[0.0]])


def test_smoothing_fits_alpha_on_the_history():
    rng = np.random.default_rng(0)
    walk = 100 + np.cumsum(rng.normal(0, 10, (200, 8)), axis=1)  # the last value is the best forecast
    assert fit_alpha(walk) >= 0.9
    noise = 100 + rng.normal(0, 10, (200, 8))  # a fixed level: the long mean is
    assert fit_alpha(noise) <= 0.3
    assert fit_alpha(walk[:, :2]) == ALPHA_UNFITTED  # nothing to fit


@pytest.mark.parametrize("method", STARTS_FORECASTS)
@pytest.mark.parametrize("poison", [np.nan, 1e12, -5.0])
def test_a_forecast_never_reads_years_after_the_base_year(method, poison):
    rng = np.random.default_rng(1)
    table = {y: rng.uniform(10, 300, 20) for y in YEARS}
    base = 2020
    clean = forecast_from_table({y: v for y, v in table.items() if y <= base}, base, 3, method)
    poisoned = {y: (v if y <= base else np.full(20, poison)) for y, v in table.items()}
    np.testing.assert_array_equal(forecast_from_table(poisoned, base, 3, method), clean)
    years, hist = history(poisoned, base)
    assert years.tolist() == list(range(2016, base + 1)) and np.isfinite(hist).all()


class Recording(dict):
    """A starts table that records which years are read."""

    def __init__(self, *args):
        super().__init__(*args)
        self.read: set[int] = set()

    def __getitem__(self, year):
        self.read.add(year)
        return super().__getitem__(year)


def _run(cfg, poison: float | None = None):
    """A short run on ``cfg``'s world; ``poison`` replaces the starts of every year after the base year."""
    world = build_world(cfg)
    base = cfg.sim.start_year
    later = poison is not None
    table = {y: (np.full_like(v, poison) if later and y > base else v) for y, v in world.starts_table.items()}
    world.starts_table = Recording(table)
    model = CareSystemModel(cfg, world=world)
    model.run()
    return world.starts_table.read, to_dataset(model)


def test_the_forecast_source_never_reads_starts_after_the_base_year():
    cfg = to_object(small_config(years=1.3, sim={"start_year": 2022}))  # two simulated years: horizons 1 and 2
    assert cfg.demand.starts_source == "forecast"
    read, ds = _run(cfg)
    assert read and max(read) == 2022
    _, poisoned = _run(cfg, poison=1e6)
    for name in ("starts", "children_in_care", "ceased"):
        np.testing.assert_array_equal(ds[name].values, poisoned[name].values, err_msg=name)
    # the diagnostic does read the realised year (so the check above can fail)
    read, _ = _run(to_object(small_config(years=0.2, sim={"start_year": 2022}, demand={"starts_source": "published"})))
    assert 2023 in read


def test_the_forecast_source_uses_no_later_ceased_for_exit_rates():
    forecast_world = build_world(to_object(small_config(sim={"start_year": 2022})))
    diagnostic = small_config(sim={"start_year": 2022}, demand={"starts_source": "published"})
    published_world = build_world(to_object(diagnostic))
    assert forecast_world.starts_until == 2022 and published_world.starts_until == 2024
    assert not np.array_equal(forecast_world.exit_rate_ratio, published_world.exit_rate_ratio)


def test_bad_forecast_settings_are_refused_naming_the_key():
    for key, value in [("starts_source", "oracle"), ("starts_forecast", "arima"), ("starts_forecast_years", 0)]:
        with pytest.raises(ConfigError, match=f"'demand.{key}'"):
            to_object({"demand": {key: value}})


def test_per_la_exit_rates_from_the_years_to_an_early_origin():
    """An origin before the 2021-2024 table (e.g. 31 March 2018) takes each LA's exit rate from the
    per-LA series of the three years to it (2016-2018), not England's for every LA; the rates of
    the years after the origin are never read (poisoning them changes nothing)."""
    from rcc_sim.engine import world as world_module

    las = world_module.load_las()
    cfg = to_object(small_config())
    early = world_module._exit_rate_ratio(las, cfg, 2018)
    assert not np.all(early == 1.0)
    poisoned = dict(las)
    for y in (2021, 2022, 2023, 2024):
        poisoned[f"ceased_{y}"] = las[f"ceased_{y}"] * 0 + 1e6
    np.testing.assert_array_equal(world_module._exit_rate_ratio(poisoned, cfg, 2018), early)
    assert not np.array_equal(
        world_module._exit_rate_ratio(poisoned, cfg, 2024), world_module._exit_rate_ratio(las, cfg, 2024)
    )
