"""The validation page (rcc-sim-validate): runs cached, the page and its sections, charts fed from
the published files, the model's yearly measures, and the "does not reproduce" list reacting to
the numbers it is given.

One Greater Manchester run (one seed, one year) is made once through the command and shared;
the checks that need other numbers feed the page plain data (summaries with chosen yearly values),
as the trend-band and forecast parts will.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from html import unescape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import REPO

from rcc_sim import cli
from rcc_sim.data import DATA_DIR
from rcc_sim.reporting import plots
from rcc_sim.reporting import validation as page
from rcc_sim.reporting.report.page import Page
from rcc_sim.studies import trends
from rcc_sim.studies import validate as v

# one year from the base date, no spin-up (one statistical year per run keeps the checks simple;
# the spin-up's years on the page: test_spin_up_years_are_on_the_page)
# the back-cast from one origin only
GM = ("--world", "greater_manchester", "--years", "1", "--seeds", "1", "sim.spin_up_years=0",
      "--backcast-origins", "2022")  # fmt: skip
SECTIONS = ("in-brief", "not-reproduced", "base-year", "measures", "over-time", "per-la", "trend-bands", "forecasts",
            "sources")  # fmt: skip


def _text(html: str) -> str:
    html = re.sub(r"<(style|script)[^>]*>.*?</\1>", "", html, flags=re.DOTALL)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def _section(html: str, anchor: str) -> str:
    start = html.index(f'<section id="{anchor}">')
    return html[start : html.index("</section>", start)]


def _sections(inputs: page.Inputs, *sections) -> str:
    """The words of some sections of the page (without drawing the rest)."""
    p = Page()
    num = page.compute(inputs)
    for section in sections:
        section(p, inputs, num)
    return _text("".join(p.parts))


def _figure_of(html: str, key: str) -> str:
    """The HTML of measure ``key``'s chart: its figure, caption, source and numbers."""
    start = html.index(f'<a id="m-{key}"></a>')
    return html[start : html.index("</figure>", start)]


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """The command run once: Greater Manchester, one seed, one year."""
    out = tmp_path_factory.mktemp("validation")
    code = cli.validate([*GM, "--out", str(out)])
    assert code == 0
    return out


@pytest.fixture(scope="module")
def runs(made):
    return v.combine(v.read_runs(made))


@pytest.fixture(scope="module")
def rendered(runs):
    figures: list = []
    html = page.render(page.Inputs(runs, command="rcc-sim-validate " + " ".join(GM)), figures)
    return html, figures


@pytest.fixture(scope="module")
def gm_ds(made):
    path = made / v.RUNS_DIR / "greater_manchester_seed0" / "results.nc"
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


# ---------------------------------------------------------------------------------------------
# The command: the page, its sections, the cache
# ---------------------------------------------------------------------------------------------
def test_command_writes_one_self_contained_page_with_every_section(made):
    html = (made / v.PAGE_FILE).read_text()
    for anchor in SECTIONS:
        assert f'<section id="{anchor}">' in html, anchor
    assert html.count("<img ") == len(v.MEASURES) + len(v.LA_MEASURES)
    assert re.findall(r'src="(?!data:image/png;base64,)[^"]*"', html) == []  # nothing fetched
    assert "<script" not in html and "http-equiv" not in html
    text = _text(html)
    assert "What the model does not reproduce" in text and "Known limitations." in text


def test_trend_bands_need_two_years_and_the_backcast_is_run(made):
    html = (made / v.PAGE_FILE).read_text()
    assert "Not run." in _text(_section(html, "trend-bands"))  # one year: no trend to fit
    shown = _text(_section(html, "forecasts"))
    assert "Not run." not in shown and "(a) model, forecast starts" in shown and "2022" in shown
    table = json.loads((made / v.BACKCAST_DIR / v.BACKCAST_FILE).read_text())
    row = table["rows"]["2022"]
    assert row["las"] == 10 and table["seeds"] == [0] and table["spin_up_cap"] == 0
    assert 0 < row["forecast"] < 50 and 0 < row["persistence"] < 50  # MAPE in per cent, GM's 10 LAs
    assert f"{row['persistence']:.2f}".rstrip("0").rstrip(".") in shown


def test_a_rerender_reads_the_backcast_and_no_backcast_leaves_it_out(made, tmp_path):
    again, without = tmp_path / "again.html", tmp_path / "without.html"
    assert cli.validate(["--from", str(made), "-o", str(again)]) == 0
    assert "(a) model, forecast starts" in _text(_section(again.read_text(), "forecasts"))
    assert cli.validate(["--from", str(made), "-o", str(without), "--no-backcast"]) == 0
    assert "Not run." in _text(_section(without.read_text(), "forecasts"))


def test_trend_bands_are_computed_from_the_runs(runs):
    """Three synthetic 31 Marches per run: shares rising 2 pp a year are outside their bands except
    where the band allows it; counts growing 5% a year are inside the homes' band."""
    s = runs.summaries[0]
    years = [2025, 2026, 2027]
    fake = {}
    for key, (_, start, _) in s.trend_values.items():
        unit = next(m.unit for m in trends.MEASURES if m.key == key)
        vals = np.array([20.0, 22.0, 24.0]) if unit == trends.PP else 1000.0 * 1.05 ** np.arange(3)
        fake[key] = (years, start, vals)
    two = v.combine([dataclasses.replace(s, trend_values=fake), dataclasses.replace(s, seed=1, trend_values=fake)])
    extra = v.trend_extra(two)
    assert extra is not None and "indicative" in extra.note  # Greater Manchester: not the bands' runs
    by = {r["measure"]: r for _, r in extra.table.iterrows()}
    assert by["Share placed over 20 miles from home"]["model trend (mean)"] == pytest.approx(2.0)
    assert not by["Share placed over 20 miles from home"]["inside band"]
    assert by["Children's homes"]["model trend (mean)"] == pytest.approx(5.0)
    assert by["Children's homes"]["inside band"] and not by["Mainstream fostering households"]["inside band"]
    assert "Share placed over 20 miles from home: inside band is false" in extra.failures()
    assert len(extra.table) == sum(m.lo is not None for m in trends.MEASURES)  # the banded measures only


def test_runs_are_cached_and_a_rerender_does_not_run_them_again(made, capsys):
    results = made / v.RUNS_DIR / "greater_manchester_seed0" / "results.nc"
    before = results.stat().st_mtime_ns
    assert cli.validate([*GM, "--out", str(made), "-o", str(made / "again.html")]) == 0
    out = capsys.readouterr().out
    assert "skipped" in out and "already done" in out, out
    assert results.stat().st_mtime_ns == before
    assert (made / "again.html").exists()


def test_from_reads_runs_without_running(made, tmp_path, capsys):
    target = tmp_path / "page.html"
    assert cli.validate(["--from", str(made), "-o", str(target)]) == 0
    assert "skipped" not in capsys.readouterr().out
    assert f"Runs read from {made}" in _text(target.read_text())


@pytest.mark.parametrize("what", ["missing", "empty"])
def test_bad_from_gives_one_clear_error_naming_the_path(tmp_path, capsys, what):
    path = tmp_path / "nothing" if what == "missing" else tmp_path
    assert cli.validate(["--from", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("rcc-sim-validate: ") and str(path) in err and len(err.splitlines()) == 1


def test_bad_override_exits_2_naming_the_key(tmp_path, capsys):
    assert cli.validate([*GM, "--out", str(tmp_path), "demand.no_such_key=1"]) == 2
    assert "no_such_key" in capsys.readouterr().err
    assert not (tmp_path / v.RUNS_DIR).exists()


def test_the_command_as_a_person_runs_it(made, tmp_path):
    """The console script when installed (pyproject [project.scripts]), else the same entry point."""
    exe = shutil.which("rcc-sim-validate", path=str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
    cmd = [exe] if exe else [sys.executable, "-c", "import sys; from rcc_sim.cli import validate; sys.exit(validate())"]
    target = tmp_path / "cli.html"
    out = subprocess.run([*cmd, "--from", str(made), "-o", str(target)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert f"page written to {target}" in out.stdout
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["rcc-sim-validate"] == "rcc_sim.cli:validate"


# ---------------------------------------------------------------------------------------------
# The numbers: the model's yearly measures and the published series
# ---------------------------------------------------------------------------------------------
def test_yearly_measures_are_the_runs_own_numbers(gm_ds):
    y = v.model_yearly(gm_ds)
    assert y["year"].values.tolist() == [int(str(gm_ds["year"].values[0])[:4])]
    last = gm_ds.isel(time=-1).sum("la")
    assert float(y["stock"][0]) == float(gm_ds["children_in_care_31mar"].sum())
    assert float(y["starts"][0]) == float(gm_ds["starts"].sum())
    assert float(y["ceased"][0]) == float(gm_ds["ceased"].sum())
    assert float(y["over_20_miles"][0]) == pytest.approx(100 * float(last["over_20_miles"] / last["located"]))
    assert float(y["mainstream_households"][0]) == float(last["carers"].sel(carer_kind=["in_house", "ifa"]).sum())
    spend = gm_ds["spend"].sel(placement_type=v.RESIDENTIAL).sum()
    assert float(y["residential_unit_cost"][0]) > 0 and float(spend) > 0
    la = v.model_yearly_la(gm_ds)
    np.testing.assert_allclose(la["stock"].sum("la").values, y["stock"].values)


def test_a_run_shorter_than_a_year_has_no_yearly_values(gm_ds):
    short = gm_ds.isel(time=slice(0, 10), year=slice(0, 0))
    assert v.model_yearly(short).sizes["year"] == 0
    assert v.model_yearly_la(short).sizes["year"] == 0


def _published_csv(key: str) -> dict[int, float]:
    with (DATA_DIR / "national_timeseries_2015_2023.csv").open() as fh:
        return {int(r["year_to_31_march"]): float(r["value"]) for r in csv.DictReader(fh) if r["key"] == key}


def test_national_chart_numbers_come_from_the_published_file(rendered):
    html, _ = rendered
    fig = _figure_of(html, "over_20_miles")
    for year, value in _published_csv("cla_dist_over20mi_pct").items():
        assert f"{year}: {value:.1f}%" in unescape(fig), year  # in the alt text
        assert re.search(rf"<td>{year}</td><td class=\"n\">{value:.1f}%</td>", fig), year  # and the table
    assert "cla_dist_over20mi_pct" in fig and "Source:" in fig


def test_per_la_chart_numbers_are_the_simulated_las_summed_from_the_published_file(rendered, runs):
    html, _ = rendered
    codes = set(runs.la_codes)
    total = 0.0
    with (DATA_DIR / "la_timeseries_2016_2023.csv").open() as fh:
        for r in csv.DictReader(fh):
            if r["new_la_code"] in codes and r["year"] == "2019":
                total += float(r["cla31mar"])
    assert len(codes) == 10 and total > 0
    fig = _figure_of(html, "stock")
    assert f"2019: {total:,.0f}" in unescape(fig)
    assert "the 10 simulated LAs" in unescape(fig)


def test_every_figure_has_units_a_source_and_readable_text(rendered):
    html, figures = rendered
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", html, flags=re.DOTALL)
    assert len(captions) == len(figures) == len(v.MEASURES) + len(v.LA_MEASURES)
    for cap in captions:
        assert "Source: " in cap
    for name, fig in figures:
        ax = fig.axes[0]
        assert ax.get_ylabel() and ax.get_xlabel(), name
        assert plots.overlapping_texts(fig) == [], name
        assert plots.small_texts(fig) == [], name
        assert plots.clipped_texts(fig) == [], name


def test_scatter_captions_say_which_years_are_compared(rendered):
    html, _ = rendered
    sec = unescape(_section(html, "per-la"))
    # a one-year run from 2024: model 2025, no published 2025, so the latest published year
    assert "model 2025 against published 2024: no published figure for 2025, so the latest published year" in sec
    assert "model 2025 against published 2023: no published figure for 2025" in sec
    assert "MAE" in sec and "r = " in sec


# ---------------------------------------------------------------------------------------------
# Plain data in: other years, other numbers, tables from elsewhere
# ---------------------------------------------------------------------------------------------
def _with_yearly(runs: v.Runs, years: list[int], value, la_value=None) -> v.Runs:
    """``runs`` with its one summary's yearly values replaced: ``value(measure, year)``."""
    s = runs.summaries[0]
    yearly = xr.Dataset({m.key: ("year", [value(m, y) for y in years]) for m in v.MEASURES}, coords={"year": years})
    la = la_value or (lambda m, y: s.yearly_la[m.key].isel(year=0).values)
    yearly_la = xr.Dataset(
        {m.key: (("year", "la"), np.stack([la(m, y) for y in years])) for m in v.LA_MEASURES},
        coords={"year": years, "la": s.la_codes},
    )
    return v.combine([dataclasses.replace(s, yearly=yearly, yearly_la=yearly_la)])


def _published_value(runs: v.Runs):
    def value(m: v.Measure, year: int) -> float:
        pub = v.published(m, runs.la_codes)
        x = pub.value(year)
        return x if np.isfinite(x) else float(pub.values[-1])

    return value


def test_a_run_over_published_years_is_compared_year_by_year(runs):
    """A run that starts earlier (spin-up) is set against the published figures of the same years."""
    spun = _with_yearly(runs, list(range(2016, 2024)), _published_value(runs))
    stock = next(lv for lv in v.levels(spun) if lv.measure.key == "stock")
    assert stock.same_date and stock.model_years == list(range(2016, 2024))
    assert stock.status == "within" and abs(stock.gap) < 1e-9
    fits = v.la_fits(spun)["stock"]
    assert [f.published_year for f in fits] == list(range(2016, 2024)) and all(f.same_date for f in fits)
    assert stock.when == "2016-2023, the same years"
    assert "(2016-23 mean)" in _sections(page.Inputs(spun), page.section_glance)


def test_does_not_reproduce_lists_a_measure_far_off(runs, gm_ds):
    base = page.compute(page.Inputs(runs))
    assert not any(m.what == v.MEASURE["stock"].label for m in base.misses)
    far = gm_ds.copy()
    far["children_in_care_31mar"] = far["children_in_care_31mar"] * 2
    off = v.combine([v.summarise(far)])
    num = page.compute(page.Inputs(off))
    hit = [m for m in num.misses if m.what == v.MEASURE["stock"].label and m.section == "Level"]
    level = next(lv for lv in v.levels(runs) if lv.measure.key == "stock")  # the run itself: close to published
    expected = f"{100 * (2 * level.model / level.pub - 1):+.0f}%"  # doubled: about +100%
    assert len(hit) == 1 and expected in hit[0].detail, (expected, hit)
    assert "Children in care at 31 March" in _sections(page.Inputs(off), page.section_not_reproduced)


def test_does_not_reproduce_lists_a_trend_far_off(runs):
    pub = _published_value(runs)
    grow = _with_yearly(runs, list(range(2025, 2030)), lambda m, y: pub(m, y) * (1.15 ** (y - 2025)))
    stock = next(lv for lv in v.levels(grow) if lv.measure.key == "stock")
    assert stock.trend_status == "outside" and stock.model_trend > 10
    trend = [m for m in page.compute(page.Inputs(grow)).misses if m.section == "Trend"]
    assert any(m.what == stock.measure.label and "the model changes +1" in m.detail for m in trend), trend
    flat = _with_yearly(runs, list(range(2025, 2030)), lambda m, y: pub(m, 2024))
    stock = next(lv for lv in v.levels(flat) if lv.measure.key == "stock")
    assert stock.trend_status in ("within", "outside") and abs(stock.model_trend) < 1e-9


def _la_published_2023(m: v.Measure, codes) -> np.ndarray:
    years, arr = v.la_published(m, codes)
    return arr[:, list(years).index(2023)]


def test_does_not_reproduce_lists_las_out_of_order(runs):
    codes = runs.la_codes
    three = v.MEASURE["three_plus_placements"]
    pub = _la_published_2023(three, codes)
    flipped = np.nanmax(pub) + np.nanmin(pub) - pub  # the same range, the order reversed: r = -1

    def la(m, y):
        return flipped if m is three else _la_published_2023(m, codes)

    fits = v.la_fits(_with_yearly(runs, [2023], _published_value(runs), la))
    f = v.scatter_fit(fits["three_plus_placements"])
    assert f.same_date and f.published_year == 2023 and f.correlation == pytest.approx(-1.0)
    misses = [m for m in v.not_reproduced([], fits) if m.section == "Per LA"]
    assert [m.what for m in misses] == [three.label]
    same = v.la_fits(_with_yearly(runs, [2023], _published_value(runs), lambda m, y: _la_published_2023(m, codes)))
    assert [m for m in v.not_reproduced([], same) if m.section == "Per LA"] == []
    assert v.scatter_fit(same["stock"]).mae == 0.0


def test_trend_and_forecast_tables_are_shown_and_their_failures_listed(runs):
    trends = v.Extra(
        "Trend bands",
        pd.DataFrame({"measure": ["share over 20 miles", "children's homes"], "model": [1.6, 5.0],
                      "low": [-0.5, 3.0], "high": [1.0, 12.0], "inside": [False, True]}),
    )  # fmt: skip
    forecasts = v.Extra(
        "One-year-ahead forecasts",
        pd.DataFrame({"origin": [2021, 2022], "model_mape": [5.1, 4.0], "beats_persistence": [True, False]}),
    )
    inputs = page.Inputs(runs, trends=trends, forecasts=forecasts)
    shown = _sections(inputs, page.section_extras)
    assert "Not run." not in shown and "share over 20 miles" in shown and "beats_persistence" in shown
    missing = _sections(inputs, page.section_not_reproduced)
    assert "share over 20 miles: inside is false" in missing
    assert "2022: beats_persistence is false" in missing
    assert "children's homes: inside" not in missing


def test_extra_tables_are_read_from_csv(tmp_path):
    path = tmp_path / "trends.csv"
    path.write_text("measure,trend,inside\nover 20 miles,1.6,false\nhomes,5.0,true\n")
    ex = v.read_extra(path, "Trend bands")
    assert ex.failures() == ["over 20 miles: inside is false"]
    with pytest.raises(v.ValidationError, match="nothing.csv"):
        v.read_extra(tmp_path / "nothing.csv", "x")


def test_several_seeds_give_a_mean_and_a_range(runs):
    s = runs.summaries[0]
    other = dataclasses.replace(s, seed=7, yearly=s.yearly * 1.1, yearly_la=s.yearly_la * 1.1)
    two = v.combine([s, other])
    assert two.seeds == [0, 7] and two.yearly.sizes["replicate"] == 2
    stock = next(lv for lv in v.levels(two) if lv.measure.key == "stock")
    assert stock.model_low == pytest.approx(float(s.yearly["stock"][0]))
    assert stock.model_high == pytest.approx(1.1 * float(s.yearly["stock"][0]))
    assert stock.model == pytest.approx(1.05 * float(s.yearly["stock"][0]))
    fig = page.fig_series(stock, two.yearly["stock"])
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "min-max, 2 seeds" in labels
    row = two.base_rows[0]
    assert row.low <= row.model <= row.high


def test_runs_of_different_worlds_are_refused(runs):
    s = runs.summaries[0]
    other = dataclasses.replace(s, world="south_east", la_codes=s.la_codes[:3])
    with pytest.raises(v.ValidationError, match="different worlds"):
        v.combine([s, other])


def test_money_trends_are_not_judged_and_gaps_are_judged_as_shown(runs):
    pub = _published_value(runs)
    grow = _with_yearly(runs, list(range(2025, 2030)), lambda m, y: pub(m, y) * (1.15 ** (y - 2025)))
    by_key = {lv.measure.key: lv for lv in v.levels(grow)}
    for key in ("residential_unit_cost", "fostering_unit_cost", "placement_spend", "cla_spend"):
        assert by_key[key].trend_status == "-", key  # model in 2024 prices, published in cash

    def edge(m, y):  # 2.04 percentage points above the published: shown as +2.0 pp, within 2 pp
        return pub(m, y) + (2.04 if m.kind == "share" else 0.0)

    at_edge = {lv.measure.key: lv for lv in v.levels(_with_yearly(runs, [2023], edge))}
    assert at_edge["three_plus_placements"].gap_text == "+2.0 pp"
    assert at_edge["three_plus_placements"].status == "within"


def test_spin_up_years_are_on_the_page(tmp_path):
    """The standard runs keep the spin-up: the model's years before the base date are compared
    with the published ones of the same years."""
    assert "output.include_spin_up=true" in v.standard_overrides("england", 10, 0)
    out = tmp_path / "v"
    assert cli.validate(["--world", "greater_manchester", "--years", "0.1", "--seeds", "1",
                         "sim.spin_up_years=2", "--out", str(out)]) == 0  # fmt: skip
    runs = v.combine(v.read_runs(out))
    assert runs.yearly["year"].values.tolist() == [2023, 2024]  # the spin-up's two years to the base date
