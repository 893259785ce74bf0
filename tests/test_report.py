"""Reports for policy teams (rcc-sim-report): the numbers, the words, the charts and the page.

A small study - Greater Manchester, one year, the status quo and the pathfinders on two seeds,
with the Greater Manchester RCC live early so that it has effects within the year - is run once
and written as run directories; tests read the report as a person would (what it says) and as an
analyst would (do the numbers agree with an independent paired comparison).
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import re
import subprocess
from html import unescape
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from conftest import rcc_sim_command, small_config
from scipy import stats
from test_worlds import composed

from rcc_sim.reporting import plots, report, wording
from rcc_sim.reporting.report import loading, summary
from rcc_sim.reporting.report.page import Page
from rcc_sim.run import config_yaml, simulate, write_run
from rcc_sim.studies.compare import OUTCOMES, outcomes, paired, rcc_groups, t_interval

GM_ARGS = ("world=greater_manchester", "sim.years=1")
EARLY_RCC = ("policy.rccs.greater_manchester.ramp_up_years=0.2",)  # live within the year: effects to report
SEEDS = (0, 1)


def make_study(root, seeds=SEEDS, policies=("status_quo", "pathfinders")) -> tuple:
    """Run each policy on each seed and write the runs as a study directory; return it and the
    in-memory results {(policy, seed): Dataset}."""
    results = {}
    for policy in policies:
        extra = EARLY_RCC if policy == "pathfinders" else ()
        for seed in seeds:
            cfg = composed(*GM_ARGS, f"policy={policy}", f"seed={seed}", *extra)
            ds = simulate(cfg)
            write_run(ds, cfg, root / f"{policy}_seed{seed}")
            results[(policy, seed)] = (ds, cfg)
    return root, results


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    return make_study(tmp_path_factory.mktemp("study"))


@pytest.fixture(scope="module")
def rendered(study):
    """The report of the study, with its figures kept for inspection."""
    root, _ = study
    figures: list = []
    loaded = report.load(root)
    html = report.render(loaded, figures)
    return loaded, html, figures


def _text(html: str) -> str:
    """The words of the page, as a reader sees them."""
    html = re.sub(r"<(style|script)[^>]*>.*?</\1>", "", html.replace("<wbr>", ""), flags=re.DOTALL)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


# ---------------------------------------------------------------------------------------------
# Wording
# ---------------------------------------------------------------------------------------------
def test_sentence_with_interval_clear_of_zero():
    s = wording.effect_sentence("share_over_20_miles", "pathfinders", -0.003, -0.005, -0.001, 5, base=0.12)
    assert s == (
        "Under pathfinders, 0.3 percentage points fewer children are placed more than 20 miles from home "
        "(95% interval -0.5 to -0.1; status quo 12.0%)."
    )
    assert wording.NOISE not in s


def test_sentence_with_interval_across_zero_says_noise():
    s = wording.effect_sentence("share_over_20_miles", "pathfinders", 0.001, -0.002, 0.004, 5)
    assert "0.1 percentage points more children" in s and "95% interval -0.2 to 0.4" in s
    assert wording.NOISE in s


def test_sentence_with_one_replicate_says_no_interval_and_noise():
    s = wording.effect_sentence("net_cost_gbp_m", "pathfinders", -12.34, float("nan"), float("nan"), 1)
    assert "GBP 12m lower" in s and "no interval" in s and wording.NOISE in s


def test_sentence_for_no_difference_at_all():
    s = wording.effect_sentence("waiting", "pathfinders", 0.0, 0.0, 0.0, 3)
    assert "exactly the same as under the status quo in every one of the 3 paired runs" in s
    assert wording.NOISE not in s


@pytest.mark.parametrize("name", list(OUTCOMES))
def test_every_outcome_has_wording_both_ways(name):
    up = wording.effect_sentence(name, "x", 1.0, 0.5, 1.5, 3)
    down = wording.effect_sentence(name, "x", -1.0, -1.5, -0.5, 3)
    w = wording.WORDING[name]
    assert f" {w.up}" in up and f" {w.down}" in down and "{" not in up + down


def test_t_interval_matches_scipy():
    rng = np.random.default_rng(1)
    d = rng.normal(0.3, 1.0, 6)
    mean, half = t_interval(xr.Dataset({"x": ("replicate", d)}))
    lo, hi = stats.t.interval(0.95, 5, loc=d.mean(), scale=stats.sem(d))
    assert float(mean["x"]) == pytest.approx(d.mean())
    assert float(mean["x"] - half["x"]) == pytest.approx(lo) and float(mean["x"] + half["x"]) == pytest.approx(hi)
    _, half1 = t_interval(xr.Dataset({"x": ("replicate", d[:1])}))
    assert np.isnan(float(half1["x"]))


# ---------------------------------------------------------------------------------------------
# Synthetic effects through the whole pipeline
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def base_runs():
    """Three status-quo replicates of a small world (half a year)."""
    return {seed: simulate(small_config(years=0.5, seed=seed)) for seed in (0, 1, 2)}


def _synthetic(base_runs, shifts: list[float]) -> report.Study:
    """The status quo and a made-up scenario whose share placed over 20 miles is the status
    quo's plus ``shifts[k]`` in replicate k (every other variable the same)."""
    runs = []
    for (seed, ds), shift in zip(base_runs.items(), shifts):
        runs.append(ds.expand_dims(scenario=["status_quo"], replicate=[seed]))
        b = ds.copy()
        b["over_20_miles"] = ds["over_20_miles"] + shift * ds["located"]
        runs.append(b.expand_dims(scenario=["made_up"], replicate=[seed]))
    stacked = xr.combine_by_coords(runs, combine_attrs="drop_conflicts")
    stacked = stacked.assign_coords(policy=("scenario", [str(s) for s in stacked.scenario.values]))
    return report.Study(path=Path("."), ds=stacked, runs=[])


def _finding(study: report.Study, words: str) -> str:
    """The headline finding (a list item of the summary) that contains ``words``."""
    res = report.compute(study)
    page = Page()
    summary.section_summary(page, study, res)
    items = [_text(li) for li in re.findall(r"<li[^>]*>(.*?)</li>", "".join(page.parts))]
    hits = [li for li in items if words in li]
    assert len(hits) == 1, items
    return hits[0]


def test_synthetic_effect_clear_of_zero_is_not_called_noise(base_runs):
    study = _synthetic(base_runs, [0.050, 0.051, 0.049])
    res = report.compute(study)
    m, lo, _hi, _, n = loading.effect_at(res, "made_up", "share_over_20_miles", "England")
    assert n == 3 and m == pytest.approx(0.05, abs=1e-4) and lo > 0
    s = _finding(study, "placed more than 20 miles from home")
    assert s.startswith("Under made up, 5.0 percentage points more children are placed more than 20 miles"), s
    assert wording.NOISE not in s


def test_synthetic_effect_across_zero_is_called_noise(base_runs):
    study = _synthetic(base_runs, [0.05, -0.06, 0.004])
    res = report.compute(study)
    _m, lo, hi, _, _n = loading.effect_at(res, "made_up", "share_over_20_miles", "England")
    assert lo < 0 < hi
    s = _finding(study, "placed more than 20 miles from home")
    assert s.endswith(f"The interval includes zero: the difference is {wording.NOISE}."), s


# ---------------------------------------------------------------------------------------------
# The numbers agree with an independent paired comparison
# ---------------------------------------------------------------------------------------------
def test_effects_equal_independent_paired_differences(study, rendered):
    _, results = study
    loaded, _, _ = rendered
    res = report.compute(loaded)
    groups = rcc_groups(results[("pathfinders", 0)][1])
    by = {k: outcomes(ds, groups) for k, (ds, _) in results.items()}
    diff = xr.concat([by[("pathfinders", s)] - by[("status_quo", s)] for s in SEEDS], dim="replicate")
    mean, half = t_interval(diff)
    for area in ("England", "RCC greater_manchester", "E08000003"):
        for name in ("share_over_20_miles", "net_cost_gbp_m", "carers_end"):
            m, _lo, hi, base, n = loading.effect_at(res, "pathfinders", name, area)
            assert n == len(SEEDS)
            tol = 2e-6 * abs(base) + 1e-9  # float32 sums in a different order
            assert m == pytest.approx(float(mean[name].sel(area=area)), abs=tol), (area, name)
            assert hi - m == pytest.approx(float(half[name].sel(area=area)), abs=10 * tol), (area, name)
            sq = np.mean([float(by[("status_quo", s)][name].sel(area=area)) for s in SEEDS])
            assert base == pytest.approx(sq, rel=1e-6), (area, name)
    # the early RCC did change something, so the agreement above is not about zeros
    assert float(abs(mean["net_cost_gbp_m"].sel(area="England"))) > 0


def test_status_quo_is_the_baseline_and_black(rendered):
    loaded, _, _ = rendered
    assert loaded.baseline == "status_quo" and loaded.scenarios[0] == "status_quo"
    colors = plots.scenario_colors(loaded.scenarios, loaded.baseline)
    assert colors["status_quo"] == plots.BASELINE_COLOR and colors["pathfinders"] != plots.BASELINE_COLOR


# ---------------------------------------------------------------------------------------------
# What the page says and holds
# ---------------------------------------------------------------------------------------------
def test_page_has_every_part_a_reader_needs(rendered, study):
    _loaded, html, _ = rendered
    text = _text(html)
    for needle in (
        "In brief",
        "Headline findings",
        "Effects on every outcome",
        "Pathfinders minus status quo",
        "Placement mix",
        "Distance from home",
        "Children waiting and unregistered placements",
        "Spend and RCC costs",
        "Set-up",
        "Foster carers and children's homes",
        "Map of the local authorities",
        "Results by region and RCC",
        "Greater Manchester RCC (10 LAs)",
        "Bolton",
        "Wigan",
        "What the model assumes",
        "No published source",
        "Provenance and how to reproduce",
        "not forecasts",
        "95% interval",
        "rcc-sim-report",
    ):
        assert needle in text, needle
    findings = [unescape(li) for li in re.findall(r"<li[^>]*>(Under pathfinders, .*?)</li>", html)]
    assert len(findings) >= len(report.HEADLINE), findings
    assert all("95% interval" in f or "exactly the same" in f for f in findings), findings


def test_provenance_names_seeds_commit_and_command(rendered, study):
    root, _ = study
    _, html, _ = rendered
    text = _text(html)
    manifest = json.loads((root / "pathfinders_seed1" / "manifest.json").read_text())
    commit = manifest["git"]["commit"]
    if commit:
        assert commit[:12] in text and f"git checkout {commit}" in text
    assert manifest["data_checksums"]["la_locations.csv"] in text
    assert f"rcc-sim --config-path {(root / 'pathfinders_seed1').resolve()} --config-name config" in text
    rows = re.findall(r"<tr><td>(status_quo|pathfinders)</td><td class=\"n\">(\d+)</td>", html)
    assert sorted(rows) == sorted((p, str(s)) for p in ("pathfinders", "status_quo") for s in SEEDS)


def test_every_assumption_is_flagged(rendered):
    _, html, _ = rendered
    rows = re.findall(r"<tr( class=\"flag\")?><td>(.*?)</td>.*?</tr>", html)
    from rcc_sim.config import parameter_table

    flagged = {re.sub("<wbr>", "", key) for cls, key in rows if cls}
    for row in parameter_table():
        if row["source"].startswith("ASSUMPTION"):
            assert row["key"] in flagged, row["key"]
    assert "policy.rccs.greater_manchester.setup_cost_gbp" in flagged


def test_page_is_self_contained(rendered):
    _, html, _ = rendered
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html)
    assert "@import" not in html and "url(" not in html and "<script" not in html
    imgs = re.findall(r'<img src="([^"]+)"', html)
    assert len(imgs) >= 8
    from PIL import Image

    for src in imgs:
        assert src.startswith("data:image/png;base64,")
        im = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
        assert im.format == "PNG" and im.size[0] >= 900
    assert "@media print" in html and "break-inside: avoid" in html and "@page" in html


# ---------------------------------------------------------------------------------------------
# Charts a reader can read
# ---------------------------------------------------------------------------------------------
def test_figures_have_no_overlapping_small_or_clipped_text(rendered):
    _, _, figures = rendered
    assert len(figures) >= 8
    for name, fig in figures:
        assert fig.get_figwidth() <= 7.09, name  # prints at its own size on A4 with 15 mm margins
        assert plots.overlapping_texts(fig) == [], name
        assert plots.small_texts(fig) == [], name
        assert plots.clipped_texts(fig) == [], name


def _is_colorbar(ax) -> bool:
    return ax.get_label() == "<colorbar>"


def test_every_panel_has_labels_and_data(rendered):
    _, _, figures = rendered
    for name, fig in figures:
        fig.canvas.draw()
        rgb = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(float)
        h = rgb.shape[0]
        assert any(ax.get_xlabel() for ax in fig.axes), name
        for ax in fig.axes:
            if not ax.get_visible() or _is_colorbar(ax):
                continue
            shared = ax.get_shared_y_axes().get_siblings(ax)  # a shared axis is labelled once
            assert any(a.get_ylabel().strip() for a in shared), (name, ax.get_title(loc="left"))
            finite = [ln for ln in ax.get_lines() if np.isfinite(np.asarray(ln.get_ydata(), float)).any()]
            assert finite or ax.collections or ax.patches, (name, ax.get_title(loc="left"))
            bb = ax.get_window_extent()
            crop = rgb[int(h - bb.y1) : int(h - bb.y0), int(bb.x0) : int(bb.x1)]
            assert crop.size and crop.std() > 5, (name, ax.get_title(loc="left"))  # not a blank panel


def test_scenario_colours_are_the_same_in_every_figure(rendered):
    loaded, _, figures = rendered
    colors = plots.scenario_colors(loaded.scenarios, loaded.baseline)
    import matplotlib.colors as mc

    allowed = {mc.to_hex(c) for c in colors.values()} | {"#555555"}
    seen = set()
    for name, fig in figures:
        for ax in fig.axes:
            for ln in ax.get_lines():
                if len(ln.get_xdata()) > 2:  # data lines, not markers or reference lines
                    assert mc.to_hex(ln.get_color()) in allowed, (name, ln.get_color())
                    seen.add(mc.to_hex(ln.get_color()))
    assert {mc.to_hex(c) for c in colors.values()} <= seen


# ---------------------------------------------------------------------------------------------
# Other inputs: one run, a comparison, nothing
# ---------------------------------------------------------------------------------------------
def test_single_status_quo_run_says_there_is_nothing_to_compare(study):
    root, _results = study
    single = root / "status_quo_seed0"
    html = report.render(report.load(single))
    text = _text(html)
    assert "one scenario and one replicate" in text and "no intervals for effects can be given" in text
    assert "Effects on every outcome" not in text and "Headline findings" not in text
    assert "Levels" in text and "Map of the local authorities" in text


def test_report_of_a_comparison_written_by_rcc_sim_compare(tmp_path):
    gm10 = [f"E0800000{i}" for i in range(1, 10)] + ["E08000010"]  # the pathfinder RCC's members
    cfg = small_config(years=0.5, la_codes=gm10)
    cfg = dataclasses.replace(cfg, policy=composed(*GM_ARGS, "policy=pathfinders").policy)
    cmp = paired(cfg, [0, 1])
    cmp.to_netcdf(tmp_path / "comparison.nc", engine="h5netcdf")
    (tmp_path / "config.yaml").write_text(config_yaml(cfg))  # as rcc-sim-compare writes it
    path = report.write_report(tmp_path)
    text = _text(path.read_text())
    assert "Pathfinders minus status quo" in text and "Effects on every outcome" in text
    assert "Under pathfinders" in text


def test_command_writes_report_next_to_results(study):
    root, _ = study
    out = subprocess.run(
        rcc_sim_command("rcc-sim-report") + [str(root)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert str(root / "report.html") in out.stdout
    assert (root / "report.html").stat().st_size > 100_000


@pytest.mark.parametrize("what", ["missing", "empty"])
def test_bad_input_gives_one_clear_error_naming_the_path(tmp_path, what):
    path = tmp_path / "nothing_here"
    if what == "empty":
        path.mkdir()
    out = subprocess.run(
        rcc_sim_command("rcc-sim-report") + [str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0], out.stderr
    with pytest.raises(report.ReportError, match=re.escape(str(path))):
        report.load(path)
