"""Tables from other parts of the validation (trend bands, back-cast) and what the model does not reproduce."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rcc_sim.studies.validate.base_year import BASE_BAND_COUNT_PCT, BASE_BAND_SHARE_PP, BaseRow
from rcc_sim.studies.validate.compare import LA_MIN_CORRELATION, LaFit, Level, scatter_fit
from rcc_sim.studies.validate.measures import MEASURE, ValidationError, _fmt, _num
from rcc_sim.studies.validate.runs import Runs


# ---------------------------------------------------------------------------------------------
# Optional tables from other parts of the validation, and what the model does not reproduce
# ---------------------------------------------------------------------------------------------
@dataclass
class Extra:
    """A table made elsewhere (trend bands, one-year-ahead forecasts...), shown as given. Rows
    with a False in any boolean column count as not reproduced, named by their first column."""

    title: str
    table: object  # a pandas DataFrame
    note: str = ""

    def failures(self) -> list[str]:
        df = self.table
        bools = [c for c in df.columns if str(df[c].dtype) == "bool"]  # type: ignore[attr-defined]
        out = []
        for _, row in df.iterrows():  # type: ignore[attr-defined]
            bad = [str(c) for c in bools if not bool(row[c])]
            if bad:
                out.append(f"{row.iloc[0]}: {', '.join(bad)} is false")
        return out


def read_extra(path: str | Path, title: str, note: str = "") -> Extra:
    """A CSV file as an :class:`Extra` (columns of true/false become booleans)."""
    import pandas as pd

    path = Path(path)
    try:
        df = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise ValidationError(f"{path}: not a readable CSV file ({exc})") from None
    return Extra(title, df, note or f"Read from {path}.")


def trend_extra(runs: Runs) -> Extra | None:
    """The trend-band table (issue 12 point 3) of the page's own runs: each banded measure's yearly
    trend from the base date (mean over seeds) against its band. None when the runs have fewer than
    two 31 Marches after their base date (no trend to fit)."""
    from rcc_sim.studies import trends as tr

    values = [s.trend_values for s in runs.summaries if s.trend_values]
    if len(values) != len(runs.summaries) or len(next(iter(values[0].values()))[0]) < 2:
        return None
    result = tr.trends_of(values, runs.seeds)
    years = result.measures[0].years
    standard = runs.is_england and years[0] == 2025 and len(years) >= 10 and runs.summaries[0].base_date[:4] == "2024"
    note = (
        f"Computed from this page's runs ({len(values)} seed(s)), the 31 Marches {years[0]}-{years[-1]} after the "
        "base date: the OLS slope per seed of each measure on the year (shares in percentage points a year, counts "
        "log-linear in per cent a year), the mean over seeds set against the band around its 2019-2024 published "
        "trend (rcc_sim/studies/trends.py). "
        + (
            "These are the runs the bands are defined for (England, status quo, ten years from 31 March 2024)."
            if standard
            else "The bands are defined for ten-year England status-quo runs from 31 March 2024 (at least five seeds): "
            "these runs are not that, so read the verdicts as indicative."
        )
    )
    return Extra("Trend bands", tr.frame(result), note)


def backcast_extra(result: dict) -> Extra | None:
    """The one-year-ahead table (:mod:`rcc_sim.studies.backcast`) for the page; None without rows."""
    from rcc_sim.studies import backcast

    if not result.get("rows"):
        return None
    spin = result.get("spin_up_cap")
    start = "from each LA's published stock at Y" if spin == 0 else "after the config's spin-up (from 2016 or later)"
    note = (
        f"MAPE (%) across the simulated LAs of the stock at 31 March Y+1, runs started {start}, one year on, "
        f"status quo, seeds {result['seeds']} (the model's forecast is the mean over seeds). (a) the genuine "
        "forecast: each LA's starts forecast from its published starts up to Y; (b) a diagnostic that is given "
        "the realised starts of the year it forecasts; (c) persistence, the stock at Y; (d) the stock at Y plus its "
        "change over the year to Y; (e) flow accounting without the model: stock at Y plus the forecast starts "
        "minus ceased at the LA's published rate of the last three years. "
        f"{result['cached']} runs from the cache; {result['wall_seconds']:.0f} s "
        "(rcc_sim/studies/backcast.py; experiments/one_year_ahead.py adds the evidence on why persistence is hard "
        "to beat)."
    )
    return Extra("One-year-ahead forecasts", backcast.frame(result), note)


BACKCAST_DIR = "backcast"  # in a validation's output directory: the back-cast's runs and table
BACKCAST_FILE = "backcast.json"


def run_backcast(
    base,
    out_dir: str | Path,
    origins: Sequence[int],
    seeds: Sequence[int],
    jobs: int = 1,
    spin_up_cap: int | None = 0,
    log=print,
) -> dict:
    """The one-year-ahead back-cast (:func:`rcc_sim.studies.backcast.run_backcast`) of ``base``'s
    model, its runs cached in ``<out_dir>/backcast/runs/`` and its table kept in
    ``<out_dir>/backcast/backcast.json`` (read again by a re-render with ``--from``). By default
    each run starts at its origin from the published per-LA stock (``spin_up_cap=0``): the forecast
    a user at 31 March Y would make; None keeps the config's spin-up (from 2016 at the earliest)."""
    import json

    from rcc_sim.files import atomic_write_text
    from rcc_sim.studies import backcast

    where = Path(out_dir) / BACKCAST_DIR
    result = backcast.run_backcast(
        base, origins, seeds, jobs, spin_up_cap=spin_up_cap, cache_dir=where / "runs", log=log
    )
    log(f"back-cast: {len(result['rows'])} origins x {len(seeds)} seeds, {result['cached']} runs from the cache")
    doc = result | {"rows": {str(k): val for k, val in result["rows"].items()}}
    atomic_write_text(where / BACKCAST_FILE, json.dumps(doc, indent=2))
    return result


def read_backcast(path: str | Path) -> dict:
    """The back-cast table a validation wrote in ``path`` (its output directory), or {} if none."""
    import json

    file = Path(path) / BACKCAST_DIR / BACKCAST_FILE
    if not file.exists():
        return {}
    try:
        return json.loads(file.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValidationError(f"{file}: not a readable back-cast table ({exc})") from None


@dataclass
class Miss:
    """One thing the model does not reproduce: where (section), what, and the numbers."""

    section: str
    what: str
    detail: str


def not_reproduced(
    level_rows: Sequence[Level],
    fits: dict[str, list[LaFit]] | None = None,
    base_rows: Sequence[BaseRow] = (),
    extras: Sequence[Extra | None] = (),
    base_comparable: bool = True,
) -> list[Miss]:
    """Every measure outside its tolerance (level, and trend where judged), every per-LA measure
    whose correlation across LAs is below :data:`LA_MIN_CORRELATION`, every base-year target
    outside the calibration's bands (5% counts, 2 percentage points shares) and every failed row
    of the extra tables."""
    out: list[Miss] = []
    trend_rows: list[Miss] = []
    covered = set()  # base-year targets already listed as a level (compared with the same figure)
    for lv in level_rows:
        m = lv.measure
        fmt = _fmt(m)
        approx = f"; {lv.approximation}" if lv.approximation else ""
        if lv.status == "outside":
            used = {k for y, k in zip(lv.published.years, lv.published.keys) if int(y) in lv.published_years}
            if m.target is not None and f"target:{m.target[0]}" in used:
                covered.add(m.target[0])
            out.append(
                Miss(
                    "Level",
                    m.label,
                    f"model {fmt(lv.model)} against published {fmt(lv.pub)} ({lv.when}): {lv.gap_text}, "
                    f"tolerance {lv.tolerance_text}{approx}",
                )
            )
        if lv.trend_status == "outside":
            y = lv.published.years[-5:]
            my = lv.model_span
            trend_rows.append(
                Miss(
                    "Trend",
                    m.label,
                    f"the model changes {lv.trend_text(lv.model_trend)} a year ({my}), the published series "
                    f"{lv.trend_text(lv.pub_trend)} a year ({y[0]}-{y[-1]}); tolerance "
                    f"{lv.trend_text(lv.trend_tolerance).lstrip('+')} a year{approx}",
                )
            )
    out += trend_rows
    for key, fl in (fits or {}).items():
        f = scatter_fit(fl)
        if f is not None and f.n > 2 and not (np.isfinite(f.correlation) and f.correlation >= LA_MIN_CORRELATION):
            out.append(
                Miss(
                    "Per LA",
                    MEASURE[key].label,
                    f"correlation across {f.n} LAs {f.correlation:.2f} (model {f.model_year} vs published "
                    f"{f.published_year}), below {LA_MIN_CORRELATION}: the model does not reproduce which LAs are "
                    f"high and which low; mean absolute error {f.mae_text}",
                )
            )
    if base_comparable:
        for r in base_rows:
            if r.outside and r.key not in covered:
                d = f"{r.diff:+.1f} pp" if r.kind == "share" else f"{r.diff:+.0f}%"
                band = f"{BASE_BAND_SHARE_PP:g} pp" if r.kind == "share" else f"{BASE_BAND_COUNT_PCT:g}%"
                nums = f"model {_num(r.model, r.kind)} against {_num(r.published, r.kind)}"
                out.append(Miss("Base year", r.label, f"{nums}: {d}, band {band}"))
    for ex in extras:
        if ex is None:
            continue
        for f in ex.failures():
            out.append(Miss(ex.title, f, "as the table says"))
    return out
