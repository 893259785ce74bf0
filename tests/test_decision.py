"""The decision page (rcc_sim/reporting/decision/, rcc-sim-decision): a PSA study and an
evaluation-design study written by the real writers from small synthetic inputs - draw records in
``draws/draw<i>/draw.json`` gathered and summarised by :func:`rcc_sim.studies.psa.summarise` (which
writes the page), a tornado table from :func:`~rcc_sim.studies.psa.tornado_table`, and designs
compared on a synthetic LA-by-year panel by :func:`~rcc_sim.studies.evaluation_designs.compare_designs`
and written by ``write_design_outputs``. No model run. Checks that the numbers on the page are the
files' (probability of saving, intervals, the EVPPI ranking, the design table against the stated
criteria), that a missing input is said, and, in a real browser, that the page renders cleanly."""

from __future__ import annotations

import base64
import html
import json
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import ARTIFACTS, open_page

import rcc_sim
from rcc_sim import cli
from rcc_sim.files import atomic_write_text
from rcc_sim.reporting import decision, plots
from rcc_sim.studies import evaluation_designs as ed
from rcc_sim.studies import psa
from rcc_sim.studies.evaluation import Cohort, designs, post_indicator
from rcc_sim.studies.rollout import PER_CHILD

BUYER, UPLIFT, SETUP = (f"{psa.TEMPLATE}{k}" for k in ("buyer_power_discount", "enquiry_uplift", "setup_cost_gbp"))
N_DRAWS = 60
PSA_CONFIG = [
    "+experiment=rollout_psa",
    "world=greater_manchester",
    "sim.years=3",
    "sim.spin_up_years=0",
    f"psa.n_draws={N_DRAWS}",
    "psa.workers=1",
    "psa.use_calibrated_ranges=false",
    f"psa.parameters=[{{key: {BUYER}, lo: 0.0, hi: 0.1}}, {{key: {UPLIFT}, lo: 0.0, hi: 0.3}}, "
    f"{{key: {SETUP}, lo: 1.0e6, hi: 5.0e6}}]",
]
GROUPS = {"buyer_power": [BUYER], "recruitment_hub": [UPLIFT], "rcc_costs": [SETUP]}  # (an override merges)
COMMITS = ("a1" * 20, "b2" * 20)  # the draws were run on two code commits: 0-9 and 10-59
STATUS_QUO = {  # per-child levels of a Greater Manchester status quo (psa.OUTCOMES)
    "mean_miles_from_home": 5.1,
    "share_over_20_miles": 0.028,
    "share_family_based": 0.80,
    "days_waiting_per_child_year": 0.002,
    "mean_days_to_placement": 0.003,
    "moves_per_child_year": 0.52,
    "children_in_care_end": 6100.0,
    "net_cost_per_child_year": 74_800.0,
}


def pair(values: dict[str, float], rng: np.random.Generator) -> dict:
    """What :func:`psa.pair_metrics` returns for one paired run: the public sector saves with the
    buyer-power discount (and a little with the recruitment hub), pays the set-up cost; health
    co-funding is a transfer that LAs count as a saving."""
    setup = values[SETUP] / 1e6
    public = 6.0 - 160.0 * values[BUYER] - 10.0 * values[UPLIFT] + 0.8 * setup + rng.normal(0, 2.0)
    cofunding = -20.0 + rng.normal(0, 3.0)
    parts = {"rcc_setup": setup, "rcc_running": 3.0, "rcc_void": 0.0, "rcc_capital": 4.0, "rcc_therapeutic": 0.0}
    components = {"placement_spend": public - sum(parts.values()), "health_cofunding": cofunding, **parts}
    components["programme_funding"] = 0.0
    diff = {
        name: 0.0 if name == "children_in_care_end" else rng.normal(-0.01, 0.01) * v for name, v in STATUS_QUO.items()
    }
    diff["share_family_based"] = 0.05 * values[BUYER] + rng.normal(0, 0.001)
    return {
        "area": "All 10 simulated LAs",
        "npc_gbp_m": public + cofunding,
        "npc_public_sector_gbp_m": public,
        "undiscounted_gbp_m": 1.1 * (public + cofunding),
        "pv_status_quo_gbp_m": 1289.0,
        "components_gbp_m": components,
        "stat_years": [2025, 2026, 2027],
        "complete_years": 3,
        "outcomes": {n: {"status_quo": v, "policy": v + diff[n], "difference": diff[n]} for n, v in STATUS_QUO.items()},
    }


def write_tornado(cfg, params, study: Path) -> None:
    """tornado/tornado.csv and .md as :func:`psa.run_tornado` writes them, from swings of known size."""
    ends = {BUYER: (1.0, -20.0), UPLIFT: (-4.0, -6.0), SETUP: (-6.5, -3.5)}
    records = [{"input": "", "end": "base", "npc_gbp_m": -25.0, "npc_public_sector_gbp_m": -5.0, "status": "done"}]
    for key, (lo, hi) in ends.items():
        for end, v in (("lo", lo), ("hi", hi)):
            records.append(
                {"input": key, "end": end, "npc_gbp_m": v - 20.0, "npc_public_sector_gbp_m": v, "status": "done"}
            )
    table = psa.tornado_table(params, records)
    (study / "tornado").mkdir(parents=True)
    table.to_csv(study / "tornado" / "tornado.csv", index=False)
    atomic_write_text(study / "tornado" / "tornado.md", psa.tornado_text(table, cfg))


@pytest.fixture(scope="module")
def psa_study(tmp_path_factory):
    """A PSA study directory as rcc-sim-psa leaves it (draw records, tornado, summary, the page).
    The records are what :func:`psa.read_draws` returns for draws done on other commits (its check
    of each draw's config hash is left out: it takes 0.3 s a draw)."""
    study = tmp_path_factory.mktemp("psa") / "rollout_psa"
    cfg = rcc_sim.load_config(PSA_CONFIG)
    cfg.psa.groups = GROUPS
    params, x, tasks = psa.draw_tasks(cfg, study)
    rng = np.random.default_rng(0)
    records = []
    for i, t in enumerate(tasks):
        record = {"label": t.label, "seed": t.cfg.seed, "inputs": t.values, **t.extra}
        record |= {"config_sha256": "(not computed here)", "git_commit": COMMITS[i >= 10]}
        record |= {**pair(t.values, rng), "status": "done", "wall_seconds": 10.0}
        t.path.mkdir(parents=True)
        atomic_write_text(t.path / psa.DRAW_FILE, json.dumps(record, indent=1, default=float) + "\n")
        records.append({**record, "other_commit": True})
    write_tornado(cfg, params, study)
    result = psa.summarise(cfg, study, params, x, records, log=lambda line: None)
    return study, result


# a synthetic LA-by-year panel: Greater Manchester (5 LAs, live from 2026-27) and the South East
# (6 LAs, live from 2027-28, three of its region's LAs opting out) against 20 comparison LAs
YEARS = [2025, 2026, 2027, 2028, 2029]
GM, SE, COMPARISON = ([f"{p}{i:02d}" for i in range(n)] for p, n in (("GM", 5), ("SE", 6), ("C", 20)))
COHORTS = [
    Cohort("greater_manchester", tuple(GM), 0.0, 1.1),
    Cohort("south_east", tuple(SE), 0.0, 2.0, ("C00", "C01", "C02")),
]
REPS = [0, 1, 2, 3, 4]


def outcome_panel(rng, level: float, la_sd: float, noise: float, effect: dict[str, float]) -> np.ndarray:
    """(scenario [reform, status quo], replicate, la, year): LA effects, a trend and noise; the
    reform adds ``effect[rcc]`` in each of the RCC's post years (cumulative in Greater Manchester)."""
    la = GM + SE + COMPARISON
    sq = level + rng.normal(0, la_sd, (len(REPS), len(la), 1)) + np.linspace(0, la_sd, len(YEARS))
    sq = sq + rng.normal(0, noise, (len(REPS), len(la), len(YEARS)))
    reform = sq.copy()
    for c in COHORTS:
        post = post_indicator(YEARS, 2024, c.live_years)
        grow = np.cumsum(post) if c.name == "greater_manchester" else post
        reform[:, [la.index(x) for x in c.members], :] += effect[c.name] * grow
    return np.stack([reform, sq])


@pytest.fixture(scope="module")
def design_study(tmp_path_factory):
    """A study directory with evaluation/design_summary.csv as rcc-sim-evaluate writes it."""
    study = tmp_path_factory.mktemp("designs") / "pathfinder_evaluation"
    rng = np.random.default_rng(1)
    la = GM + SE + COMPARISON
    dims = ("scenario", "replicate", "la", "stat_year")
    annual = xr.Dataset(
        {
            "share_over_20_miles": (
                dims,
                outcome_panel(rng, 0.15, 0.03, 0.004, {"greater_manchester": 0.003, "south_east": 0.03}),
            ),
            "spend_per_child_week": (
                dims,
                outcome_panel(rng, 5000.0, 600.0, 150.0, {"greater_manchester": -5.0, "south_east": -30.0}),
            ),
        },
        coords={"scenario": ["pathfinders", "status_quo"], "replicate": REPS, "la": la, "stat_year": YEARS},
    )
    population = {x: float(rng.uniform(5e4, 3e5)) for x in la}
    with pytest.MonkeyPatch.context() as mp:  # fewer placebo draws than the default: faster
        mp.setattr(ed, "PLACEBO_DRAWS", 19)
        summary, by_rep = ed.compare_designs(
            designs(COHORTS, la, YEARS, 2024),
            annual,
            population,
            YEARS,
            REPS,
            list(annual.data_vars),
            ["twfe_cr1", "twfe_ri", "callaway_santanna"],
            ["all", "neighbours", "se_non_members"],
        )
    ed.write_design_outputs(summary, by_rep, study / "evaluation")
    return study


@pytest.fixture(scope="module")
def full_page(psa_study, design_study, tmp_path_factory):
    """The page of both studies, written by the command."""
    out = tmp_path_factory.mktemp("page") / decision.PAGE_FILE
    assert cli.decision([str(psa_study[0]), "--designs", str(design_study), "-o", str(out)]) == 0
    return out


class Tables(HTMLParser):
    """Each <table> of a page as rows of cell texts, with the <h3> heading above it."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tables: list[tuple[str, list[list[str]]]] = []
        self.h3, self._in_h3, self._cell = "", False, None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "h3":
            self._in_h3, self.h3 = True, ""
        elif tag == "table":
            self.tables.append((self.h3, []))
        elif tag == "tr":
            self.tables[-1][1].append([])
        elif tag in ("td", "th"):
            self._cell = ""
        elif tag == "br" and self._cell is not None:
            self._cell += " | "

    def handle_endtag(self, tag):
        if tag == "h3":
            self._in_h3 = False
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[-1][1][-1].append(self._cell.strip())
            self._cell = None

    def handle_data(self, data):
        if self._in_h3:
            self.h3 += data
        if self._cell is not None:
            self._cell += data


def table_under(text: str, heading: str) -> list[list[str]]:
    """The first table below the <h3> ``heading``."""
    return next(rows for h3, rows in Tables(text).tables if h3 == heading)


def table_headed(text: str, *head: str) -> list[list[str]]:
    """The first table whose header row starts with ``head``."""
    return next(rows for _, rows in Tables(text).tables if tuple(rows[0][: len(head)]) == head)


# ---------------------------------------------------------------------------------------------
# The roll-out appraisal on the page
# ---------------------------------------------------------------------------------------------
def test_psa_writes_the_page_with_the_probability_of_saving_and_the_interval_of_the_draws(psa_study):
    study, result = psa_study
    page = study / decision.PAGE_FILE
    assert page in result.files
    text = html.unescape(page.read_text())
    with xr.open_dataset(study / "psa.nc", engine="h5netcdf") as ds:
        for var in ("npc_gbp_m", "npc_public_sector_gbp_m"):
            x = ds[var].values
            p = float(np.mean(x < 0))
            lo, hi = np.percentile(x, [2.5, 97.5])
            heading = decision.VIEWS[var][0]
            assert f"{heading}: the roll-out saves money in {100 * p:.0f}% of the {N_DRAWS} draws" in text
            assert f"between {decision.gbp_m(lo)} and {decision.gbp_m(hi)} GBP m" in text
            assert f"{decision.gbp_m(float(x.mean()))} GBP m on average" in text
        assert 0.05 < float(np.mean(x < 0)) < 0.95  # the public sector's sign is in doubt in these draws
    # the net cost opens the page, before the outcomes, the value of information and the designs
    order = [text.index(h) for h in ("Net cost: does", "Outcomes for children", "What to measure first", "Which eval")]
    assert order == sorted(order)
    # rcc-sim-psa is given no design study: the page says so, where the design table would be
    assert text.count("No evaluation-design study was given") == 3  # at the top, in its section, in the sources


def test_value_of_information_ranked_as_evppi_csv_with_the_measure_first_paragraph(psa_study):
    study, _ = psa_study
    text = html.unescape((study / decision.PAGE_FILE).read_text())
    voi = pd.read_csv(study / decision.VOI_FILE)
    for kind, heading in (("group", "Groups of inputs"), ("input", "Single inputs")):
        rows = voi[voi["kind"] == kind].sort_values(["evppi_gbp_m", "r2"], ascending=False)
        shown = table_under(text, heading)[1:]
        assert [r[1].split(" (")[0] for r in shown] == [k.removeprefix(psa.TEMPLATE) for k in rows["name"]]
        assert [float(r[-3]) for r in shown] == pytest.approx(rows["evppi_gbp_m"].round(2).tolist())
    groups = voi[voi["kind"] == "group"].set_index("name")
    assert groups["evppi_gbp_m"].idxmax() == "buyer_power"  # the lever the draws were made to hinge on
    evpi = float(voi["evpi_gbp_m"].iloc[0])
    with xr.open_dataset(study / "psa.nc", engine="h5netcdf") as ds:
        sentence = psa.measure_first(voi, evpi, float(ds.attrs["inb_sd_gbp_m"]))
    assert sentence.startswith("Measure first: buyer power") and sentence in text
    assert f"EVPI) is GBP {evpi:,.2f}m" in text
    assert f"Only {N_DRAWS} draws: these value-of-information estimates are unreliable" in text


def test_outcomes_tornado_and_the_commits_the_draws_rest_on(psa_study):
    study, _ = psa_study
    text = html.unescape((study / decision.PAGE_FILE).read_text())
    outcomes = {r[0]: r for r in table_headed(text, "Outcome", "Unit")[1:]}
    assert set(outcomes) == {PER_CHILD[n].long_name for n in STATUS_QUO}
    with xr.open_dataset(study / "psa.nc", engine="h5netcdf") as ds:
        d = ds["diff_share_family_based"].values
    row = outcomes[PER_CHILD["share_family_based"].long_name]
    assert row[1] == "% / percentage points" and row[2] == "80.00"
    assert float(row[3]) == pytest.approx(100 * d.mean(), abs=0.01)
    assert row[5] == ("no" if np.percentile(d, 2.5) > 0 else "yes")
    assert outcomes[PER_CHILD["children_in_care_end"].long_name][5] == "no difference"
    tornado = table_headed(text, "Input", "Range")
    assert [r[0] for r in tornado[1:]] == ["buyer_power_discount", "setup_cost_gbp", "enquiry_uplift"]  # by swing
    assert tornado[1][2:5] == ["+1.0", "-20.0", "21.0"]
    assert "greater_manchester, 3 years from 31 March 2024, seeds [0]" in text
    assert f"The {N_DRAWS} draws span 2 code commits" in text
    assert f"{COMMITS[0][:12]} (draws 0-9); {COMMITS[1][:12]} (draws 10-{N_DRAWS - 1})" in text
    assert "could not be checked here" in text  # made-up commits: git cannot compare them


# ---------------------------------------------------------------------------------------------
# Which design detects what, by when
# ---------------------------------------------------------------------------------------------
def test_design_table_counts_the_designs_that_detect_each_effect_by_each_horizon(design_study, full_page):
    text = html.unescape(full_page.read_text())
    summary = pd.read_csv(design_study / "evaluation" / decision.DESIGN_FILE)
    power = summary["power_analytic"].fillna(summary["power_empirical"])
    unbiased = summary["bias"].abs() <= decision.MAX_BIAS_SHARE_OF_MDE * summary["mde"]
    summary["ok"] = unbiased & (power >= decision.MIN_POWER) & (summary["n_fitted"] > 0)
    headings = {"pathfinders": "The RCCs pooled", "greater_manchester": "Greater manchester RCC"}
    headings["south_east"] = "South east RCC"
    checked = 0
    for analysis, heading in headings.items():
        rows = table_under(text, heading)
        assert rows[0] == ["Outcome", "2 years of data", "3 years of data", "5 years of data"]
        for outcome, row in zip(dict.fromkeys(summary.loc[summary["analysis"] == analysis, "outcome"]), rows[1:]):
            assert row[0] == decision.outcome_label(outcome)
            for h, cell in zip((2, 3, 5), row[1:]):
                g = summary[(summary["analysis"] == analysis) & (summary["outcome"] == outcome)]
                g = g[g["horizon_years"] == h]
                assert cell == "-" if g.empty else cell.startswith(f"{int(g['ok'].sum())} of {len(g)} |")
                checked += not g.empty
    assert checked == 14  # the pooled analysis has no 2-year row (only Greater Manchester is live by then)
    se = summary[(summary["analysis"] == "south_east") & (summary["outcome"] == "share_over_20_miles")]
    assert se.loc[se["horizon_years"] == 3, "ok"].any()  # a 3 pp effect: seen at once
    assert "Placed more than 20 miles from home (share of located child-weeks), on 5 seeds: detected from 3" in text
    assert "Placement spend per child-week in care, on 5 seeds: no design detects it with 5 years of data" in text
    assert "n/a (DesignError: randomisation inference: 3 comparison LAs" in text  # a design that cannot apply


def test_a_missing_input_is_said_and_the_other_shown(psa_study, design_study, tmp_path, capsys):
    text = html.unescape(decision.render(decision.load(None, design_study)))
    assert "No roll-out appraisal was given" in text and "Which evaluation design detects what" in text
    assert "Net cost: does" not in text and "<img" not in text
    text = html.unescape(decision.render(decision.load(psa_study[0], tmp_path / "no_study")))
    assert f"No evaluation-design study: {tmp_path / 'no_study'} holds no design_summary.csv" in text
    assert "Net cost: does" in text
    with pytest.raises(decision.DecisionError, match="Nothing to show"):
        decision.load(tmp_path / "empty", tmp_path / "no_study")
    assert cli.decision([str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'empty'}: no psa.nc" in err and "Nothing to show" in err
    # the designs alone: the page goes beside the design table
    assert cli.decision(["--designs", str(design_study)]) == 0
    assert (design_study / "evaluation" / decision.PAGE_FILE).is_file()


def test_psa_designs_key_puts_the_design_table_on_the_psa_page(psa_study, design_study, tmp_path):
    """``psa.designs`` names the evaluation study whose table ``rcc-sim-psa`` puts on its page; a
    path without one is refused, naming the key, before any draw runs."""
    import shutil

    study = tmp_path / "psa"
    shutil.copytree(psa_study[0], study)
    cfg = rcc_sim.load_config([*PSA_CONFIG, f"psa.designs={design_study}"])
    cfg.psa.groups = GROUPS
    params, x, tasks = psa.draw_tasks(cfg, study)
    records = [{**json.loads((t.path / psa.DRAW_FILE).read_text()), "other_commit": True} for t in tasks]
    psa.summarise(cfg, study, params, x, records, log=lambda line: None)
    text = (study / decision.PAGE_FILE).read_text()
    assert "No evaluation-design study was given" not in text
    assert "Which evaluation design detects what, by when" in text and f"--designs {design_study}" in text

    bad = rcc_sim.load_config([*PSA_CONFIG, f"psa.designs={tmp_path / 'nowhere'}"])
    with pytest.raises(rcc_sim.config.ConfigError, match="'psa.designs'.*nowhere"):
        psa.run_psa(bad, tmp_path / "bad")
    assert not (tmp_path / "bad" / "draws").exists()


def test_the_charts_have_no_overlapping_clipped_or_small_text(psa_study):
    figures: list = []
    decision.render(decision.load(psa_study[0]), keep_figures=figures)
    assert len(figures) == 3  # net cost, value of information, tornado
    for name, fig in figures:
        assert plots.overlapping_texts(fig) == [], name
        assert plots.small_texts(fig) == [], name
        assert plots.clipped_texts(fig) == [], name


# ---------------------------------------------------------------------------------------------
# In a real browser (the fixture and its skip rules: conftest.py)
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def opened(browser, full_page):
    return open_page(browser, full_page)


def test_page_renders_without_console_errors_or_network(opened):
    assert [e for e in opened.get_log("browser") if e["level"] in ("SEVERE", "WARNING")] == []
    urls = opened.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert [u for u in urls if not u.startswith(("data:", "file:"))] == []


def test_images_load_and_the_headline_sections_are_visible(opened):
    imgs = opened.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight, i.alt, "
        "i.getBoundingClientRect().width])"
    )
    assert len(imgs) == 3
    for complete, w, h, alt, shown in imgs:
        assert complete and w > 0 and h > 0 and shown > 300, alt
        assert alt
    headings = opened.execute_script("return Array.from(document.querySelectorAll('h2')).map(h => h.innerText)")
    assert list(headings) == list(decision.SECTIONS.values())
    visible = opened.execute_script(
        "return Array.from(document.querySelectorAll('h2, p.decision, table.bywhen, figure img')).map(e => "
        "{const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && "
        "getComputedStyle(e).visibility === 'visible'})"
    )
    assert len(visible) >= len(decision.SECTIONS) + 3 + 3 + 3 and all(visible)
    first = opened.execute_script("return document.querySelector('main section').id")
    assert first == "net-cost"  # the net cost opens the page
    lede = opened.execute_script("return document.querySelector('.lede').innerText")
    assert "saving money in" in lede
    overflow = opened.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"page is {overflow}px wider than the window"
    ARTIFACTS.mkdir(exist_ok=True)
    shot = opened.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": False})
    (ARTIFACTS / "decision.png").write_bytes(base64.b64decode(shot["data"]))
    pdf = base64.b64decode(opened.print_page())
    (ARTIFACTS / "decision.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") > 3
