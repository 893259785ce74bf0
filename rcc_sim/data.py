"""Published aggregate data shipped with the package (see ``rcc_sim/data/SOURCES.md``).

Each loader checks its file and raises :class:`DataError` naming the file, row and column at
fault, so a bad data file stops a run before any work is done.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).parent / "data"
LA_FILE = "la_children_looked_after_2021_2024.csv"
LOCATIONS_FILE = "la_locations.csv"
LSOA_FILE = "lsoa21_points.csv"
TARGETS_FILE = "national_calibration_targets.csv"
YEARS = (2021, 2022, 2023, 2024)
# Former LAs replaced by successors (DfE marks them 'z' in later years). For years before the
# split, a successor's figures are the former LA's, apportioned by the successors' shares in
# their first published year (ASSUMPTION: documented in SOURCES.md).
FORMER_LAS = {
    "E10000021": ("E06000061", "E06000062"),  # Northamptonshire, split April 2021
    "E10000006": ("E06000063", "E06000064"),
}  # Cumbria, split April 2023
# Isles of Scilly: all 2024 figures 'z'; children in care are a handful and its children
# population is about 300 (ONS mid-2023 estimate, ASSUMPTION rounded); no children in care.
SCILLY = "E06000053"
SCILLY_CHILD_POPULATION = 300


class DataError(ValueError):
    """A data file is missing, malformed or holds an impossible value. The message names it."""


def _read(name: str, required: list[str], unique: str | None = None) -> list[dict[str, str]]:
    """The rows of a CSV file as dicts; every row must have as many fields as the header, and
    column ``unique`` (if given) must not repeat a value."""
    header, rows = _table(name, required, unique)
    return [dict(zip(header, r)) for r in rows]


def _table(name: str, required: list[str], unique: str | None = None) -> tuple[list[str], list[list[str]]]:
    """The header and rows (lists of text) of a CSV file, checked as :func:`_read` says (blank
    lines skipped, as ``csv.DictReader`` does; ``csv.reader`` is about twice as fast)."""
    path = DATA_DIR / name
    if not path.exists():
        raise DataError(f"data file {path} is missing")
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader, [])
            missing = [c for c in required if c not in header]
            if missing:
                raise DataError(f"data file {path}: missing columns {missing}")
            rows = [r for r in reader if r]
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise DataError(
            f"data file {path}, line {line}: byte {exc.object[exc.start : exc.start + 1]!r} is not UTF-8 text "
            "(save the file as UTF-8)"
        ) from None
    except csv.Error as exc:
        raise DataError(f"data file {path}: not a readable CSV file ({exc})") from None
    width = len(header)
    for i, r in enumerate(rows, start=2):
        if len(r) != width:
            raise DataError(f"data file {path}, row {i}: {len(r)} fields, but the header has {width}")
    if unique is not None:
        col = header.index(unique)
        keys = [r[col].strip() for r in rows]
        if len(set(keys)) < len(keys):
            seen: dict[str, int] = {}
            for i, key in enumerate(keys, start=2):
                if key in seen:
                    raise DataError(
                        f"data file {path}, row {i}, column '{unique}': {key!r} appears twice "
                        f"(rows {seen[key]} and {i})"
                    )
                seen[key] = i
    return header, rows


def _numbers(name: str, col: str, texts: Sequence[str], signed: bool = False) -> np.ndarray:
    """A column of numbers (no missing values), parsed at once; if any is not a finite number (or
    is negative and may not be), cell by cell with :func:`_number`, whose error names the row."""
    try:
        values = np.array(texts, dtype=float)
        if np.isfinite(values).all() and (signed or not (values < 0).any()):
            return values
    except ValueError:  # a cell that is not a number
        pass
    return np.array([_number(name, i, col, t, False, signed) for i, t in enumerate(texts, start=2)])


def _number(path: str, row: int, col: str, text: str, allow_missing: bool, signed: bool = False) -> float:
    text = text.strip()
    if text in ("c", "z", "x", ""):
        if allow_missing:
            return float("nan")
        raise DataError(f"data file {path}, row {row}, column '{col}': value {text!r} is suppressed or missing")
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"data file {path}, row {row}, column '{col}': {text!r} is not a number") from None
    if not math.isfinite(value):
        raise DataError(f"data file {path}, row {row}, column '{col}': {text!r} is not a finite number")
    if value < 0 and not signed:
        raise DataError(f"data file {path}, row {row}, column '{col}': {value} is negative")
    return value


@functools.lru_cache(maxsize=1)
def load_las() -> dict[str, np.ndarray]:
    """The 153 English children's services LAs, in file order.

    Returns columns: code, name, region, lat, lon, child_population, and for each year in
    YEARS ``stock_Y``, ``starts_Y``, ``ceased_Y`` (children; NaN where not published).
    Child population = stock / (rate per 10,000) * 10,000, from the latest year with both.
    """
    cols = ["new_la_code", "la_name", "region9"] + [
        f"{k}_{y}" for k in ("cla31mar", "starts", "ceased", "rate10k") for y in YEARS
    ]
    rows = _read(LA_FILE, cols, unique="new_la_code")
    loc_rows = _read(LOCATIONS_FILE, ["new_la_code", "lat", "lon"], unique="new_la_code")
    locs = {r["new_la_code"]: (i, r) for i, r in enumerate(loc_rows, start=2)}
    out: dict[str, list] = {k: [] for k in ["code", "name", "region", "lat", "lon", "child_population"]}
    for y in YEARS:
        for k in ("stock", "starts", "ceased"):
            out[f"{k}_{y}"] = []
    for i, r in enumerate(rows, start=2):
        code = r["new_la_code"]
        if code in FORMER_LAS:
            continue
        if code not in locs:
            raise DataError(f"data file {LOCATIONS_FILE}: no location for LA {code} ({r['la_name']})")
        out["code"].append(code)
        out["name"].append(r["la_name"])
        out["region"].append(r["region9"])
        loc_row, loc = locs[code]
        lat = _number(LOCATIONS_FILE, loc_row, "lat", loc["lat"], False)
        lon = _number(LOCATIONS_FILE, loc_row, "lon", loc["lon"], False, signed=True)
        if not (49.5 < lat < 56.0 and -6.5 < lon < 2.0):
            raise DataError(f"data file {LOCATIONS_FILE}: LA {code} point ({lat}, {lon}) is outside England")
        out["lat"].append(lat)
        out["lon"].append(lon)
        pop = float("nan")
        for y in YEARS:
            stock = _number(LA_FILE, i, f"cla31mar_{y}", r[f"cla31mar_{y}"], True)
            rate = _number(LA_FILE, i, f"rate10k_{y}", r[f"rate10k_{y}"], True)
            out[f"stock_{y}"].append(stock)
            out[f"starts_{y}"].append(_number(LA_FILE, i, f"starts_{y}", r[f"starts_{y}"], True))
            out[f"ceased_{y}"].append(_number(LA_FILE, i, f"ceased_{y}", r[f"ceased_{y}"], True))
            if stock == stock and rate == rate and rate > 0:
                pop = stock / rate * 10_000.0
        if code == SCILLY:
            pop = SCILLY_CHILD_POPULATION
            for y in YEARS:
                for k in ("stock", "starts", "ceased"):
                    out[f"{k}_{y}"][-1] = 0.0
        if pop != pop:
            raise DataError(f"data file {LA_FILE}: LA {code} has no year with both a stock and a rate")
        out["child_population"].append(pop)
    _apportion_former(rows, out)
    _check_complete(rows, out)
    if len(out["code"]) != 153:
        raise DataError(f"data file {LA_FILE}: expected 153 current LAs, found {len(out['code'])}")
    res = {k: np.array(v) for k, v in out.items()}
    for arr in res.values():
        arr.flags.writeable = False
    return res


def _check_complete(rows: list[dict[str, str]], out: dict[str, list]) -> None:
    """Every current LA has its children in care, starts and ceased in every year (after the
    former LAs' figures are apportioned): a missing base-year stock would start the LA with no
    children, missing starts would give it no entries."""
    row_of = {r["new_la_code"]: i for i, r in enumerate(rows, start=2)}
    col = {"stock": "cla31mar", "starts": "starts", "ceased": "ceased"}
    for j, code in enumerate(out["code"]):
        for y in YEARS:
            for k, src in col.items():
                if out[f"{k}_{y}"][j] != out[f"{k}_{y}"][j]:  # NaN: suppressed or missing
                    text = rows[row_of[code] - 2][f"{src}_{y}"].strip()
                    raise DataError(
                        f"data file {LA_FILE}, row {row_of[code]}, column '{src}_{y}': LA {code} "
                        f"({out['name'][j]}) has {text!r}, a suppressed or missing figure; the model needs every "
                        f"LA's children in care, starts and ceased for {YEARS[0]}-{YEARS[-1]}"
                    )


def _apportion_former(rows: list[dict[str, str]], out: dict[str, list]) -> None:
    by_code = {r["new_la_code"]: r for r in rows}
    col = {"stock": "cla31mar", "starts": "starts", "ceased": "ceased"}
    for former, successors in FORMER_LAS.items():
        idx = [out["code"].index(s) for s in successors]
        for k, src in col.items():
            first = next(y for y in YEARS if all(out[f"{k}_{y}"][i] == out[f"{k}_{y}"][i] for i in idx))
            vals = np.array([out[f"{k}_{first}"][i] for i in idx])
            shares = vals / vals.sum()
            for y in YEARS:
                text = by_code[former][f"{src}_{y}"]
                if text.strip().isdigit() and all(out[f"{k}_{y}"][i] != out[f"{k}_{y}"][i] for i in idx):
                    for i, sh in zip(idx, shares):
                        out[f"{k}_{y}"][i] = float(text) * sh


@functools.lru_cache(maxsize=1)
def load_lsoa_points() -> dict[str, np.ndarray]:
    """Small-area (LSOA 2021) centre points grouped by LA: code -> (n, 2) array of lat, lon."""
    header, rows = _table(LSOA_FILE, ["lsoa21cd", "utla_code", "lat", "lon"], unique="lsoa21cd")
    columns = dict(zip(header, zip(*rows))) if rows else {c: () for c in header}
    lat = _numbers(LSOA_FILE, "lat", columns["lat"])
    lon = _numbers(LSOA_FILE, "lon", columns["lon"], signed=True)
    groups: dict[str, list[int]] = {}  # LA -> its rows, LAs in order of first appearance
    for i, code in enumerate(columns["utla_code"]):
        groups.setdefault(code, []).append(i)
    return {k: np.column_stack((lat[v], lon[v])) for k, v in groups.items()}


@functools.lru_cache(maxsize=1)
def load_targets() -> dict[str, dict[str, str | float]]:
    """National calibration targets: key -> {value, unit, period, source, note}."""
    rows = _read(TARGETS_FILE, ["key", "value", "unit", "period", "source"], unique="key")
    out = {}
    for i, r in enumerate(rows, start=2):
        out[r["key"]] = {**r, "value": _number(TARGETS_FILE, i, "value", r["value"], False)}
    return out


def checksums() -> dict[str, str]:
    """SHA-256 of every shipped data file, for the run manifest."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(DATA_DIR.iterdir())
        if p.suffix in (".csv", ".geojson", ".md")
    }


# --------------------------------------------------------------------------------------------
# Published time series, 2015-2023: the calibration window of the dynamics and the validation
# --------------------------------------------------------------------------------------------
LA_SERIES_FILE = "la_timeseries_2016_2023.csv"
NATIONAL_SERIES_FILE = "national_timeseries_2015_2023.csv"
REGIONAL_OWN_REGION_FILE = "regional_placed_in_own_region_2023.csv"
SERIES_YEARS = tuple(range(2016, 2024))  # years to 31 March in the per-LA series
# per-LA series columns: counts (summed when LAs merge) and per-child measures (stock-weighted)
LA_SERIES_COUNTS = {"cla31mar": "stock", "starts": "starts", "ceased": "ceased", "uasc31mar": "uasc"}
LA_SERIES_SHARES = {
    "pct_outside_la_and_over_20_miles": "pct_outside_la_over_20mi",
    "pct_3plus_placements": "pct_3plus_placements",
    "s251_cla_unit_cost_week_gbp": "s251_unit_cost_week",
    "s251_fostering_unit_cost_week_gbp": "s251_fostering_unit_cost_week",
    "s251_residential_unit_cost_week_gbp": "s251_residential_unit_cost_week",
}
LA_SERIES_SPEND = {"s251_cla_gross_gbp": "s251_gross"}
# Codes of the series that are not today's LAs, and today's LAs they make up (years before the
# reorganisation). Bournemouth and Poole became part of Bournemouth, Christchurch and Poole in
# April 2019 and the old Dorset county became Dorset; Christchurch (a few dozen children in care)
# moved from Dorset to BCP (ASSUMPTION: left with Dorset; under 1% of either). The split counties
# (Northamptonshire, Cumbria) are apportioned as in :data:`FORMER_LAS`.
MERGED_INTO = {"E06000028": "E06000058", "E06000029": "E06000058", "E10000009": "E06000059"}


def _successor_shares(former: str, las: dict[str, np.ndarray]) -> dict[str, float]:
    """Each successor's share of a split county's children: its share of their stock in the first
    year of :data:`YEARS` in which all are published (ASSUMPTION, as in :func:`load_las`)."""
    codes = list(las["code"])
    succ = FORMER_LAS[former]
    for y in YEARS:
        stock = [las[f"stock_{y}"][codes.index(s)] for s in succ]
        if all(np.isfinite(stock)) and sum(stock) > 0:
            return {s: float(v / sum(stock)) for s, v in zip(succ, stock)}
    raise DataError(f"data file {DATA_DIR / LA_FILE}: the successors of {former} are never published")


@functools.lru_cache(maxsize=1)
def load_la_series() -> dict[str, np.ndarray]:
    """The per-LA published series for years to 31 March 2016-2023, on the 153 LAs of
    :func:`load_las` (same order): ``years`` and, per measure, an array (153 LAs, 8 years), NaN
    where not published. Counts (children): ``stock``, ``starts``, ``ceased``, ``uasc``; GBP a year:
    ``s251_gross``; per cent of children in care: ``pct_outside_la_over_20mi`` (placed outside the
    LA *and* over 20 miles from home), ``pct_3plus_placements`` (3 or more placements in the year);
    GBP per child-week: the s251 unit costs. Former LAs are apportioned or merged onto today's."""
    rows = _read(LA_SERIES_FILE, ["new_la_code", "year", *LA_SERIES_COUNTS, *LA_SERIES_SHARES, *LA_SERIES_SPEND])
    las = load_las()
    index = {str(c): i for i, c in enumerate(las["code"])}
    ny = len(SERIES_YEARS)
    measures = {**LA_SERIES_COUNTS, **LA_SERIES_SPEND, **LA_SERIES_SHARES}
    raw: dict[str, dict[str, np.ndarray]] = {}  # code -> measure -> (years,)
    seen: dict[tuple[str, int], int] = {}
    for i, r in enumerate(rows, start=2):
        code = r["new_la_code"].strip()
        year = int(_number(LA_SERIES_FILE, i, "year", r["year"], False))
        if year not in SERIES_YEARS:
            raise DataError(
                f"data file {DATA_DIR / LA_SERIES_FILE}, row {i}, column 'year': {year} is not in 2016-2023"
            )
        if (code, year) in seen:
            raise DataError(
                f"data file {DATA_DIR / LA_SERIES_FILE}, row {i}: LA {code} year {year} appears twice "
                f"(rows {seen[code, year]} and {i})"
            )
        seen[code, year] = i
        if code not in index and code not in MERGED_INTO and code not in FORMER_LAS:
            raise DataError(
                f"data file {DATA_DIR / LA_SERIES_FILE}, row {i}, column 'new_la_code': unknown LA {code!r}"
            )
        vals = raw.setdefault(code, {m: np.full(ny, np.nan) for m in measures.values()})
        for col, name in measures.items():
            v = _number(LA_SERIES_FILE, i, col, r[col], True)
            if col.startswith("pct_") and v > 100:
                raise DataError(f"data file {DATA_DIR / LA_SERIES_FILE}, row {i}, column '{col}': {v} is over 100%")
            vals[name][year - SERIES_YEARS[0]] = v
    out = {name: np.full((len(index), ny), np.nan) for name in measures.values()}
    weight = {name: np.zeros((len(index), ny)) for name in LA_SERIES_SHARES.values()}  # stock behind each

    def add(i: int, vals: dict[str, np.ndarray], share: float) -> None:
        stock = vals["stock"] * share
        for name in {**LA_SERIES_COUNTS, **LA_SERIES_SPEND}.values():
            v = vals[name] * share
            out[name][i] = np.where(np.isnan(out[name][i]), v, out[name][i] + np.nan_to_num(v))
        for name in LA_SERIES_SHARES.values():  # summed as value x stock, divided at the end
            w = np.where(np.isnan(vals[name]) | np.isnan(stock), 0.0, stock)
            out[name][i] = np.where(w > 0, np.nan_to_num(out[name][i]) + np.nan_to_num(vals[name]) * w, out[name][i])
            weight[name][i] += w

    for code, vals in raw.items():
        if code in index:
            add(index[code], vals, 1.0)
        elif code in MERGED_INTO:
            add(index[MERGED_INTO[code]], vals, 1.0)
        else:  # a split county, in the years before its successors are published: their shares
            for succ, share in _successor_shares(code, las).items():
                own = raw.get(succ, {}).get("stock", np.full(ny, np.nan))
                add(index[succ], {k: np.where(np.isnan(own), v, np.nan) for k, v in vals.items()}, share)
    with np.errstate(invalid="ignore", divide="ignore"):
        for name in LA_SERIES_SHARES.values():
            out[name] = np.where(weight[name] > 0, out[name] / weight[name], np.nan)
    out["years"] = np.array(SERIES_YEARS)
    return out


@functools.lru_cache(maxsize=1)
def load_national_series() -> dict[str, dict]:
    """The national (and regional) published series: key -> {``years``: array, ``values``: array
    (NaN where published as 'k', under 0.5%), ``unit``, ``source``, ``how_read``}, one value per
    year to 31 March (where a key lists a year twice, the value read from a data file is kept)."""
    path = DATA_DIR / NATIONAL_SERIES_FILE
    rows = _read(NATIONAL_SERIES_FILE, ["key", "period", "year_to_31_march", "value", "unit", "source", "how_read"])
    rank = {"file": 0, "page": 1, "secondary": 2}
    best: dict[tuple[str, int], tuple[int, float, dict]] = {}
    for i, r in enumerate(rows, start=2):
        if r["how_read"] not in rank:
            raise DataError(
                f"data file {path}, row {i}, column 'how_read': {r['how_read']!r} is not one of {list(rank)}"
            )
        year = int(_number(NATIONAL_SERIES_FILE, i, "year_to_31_march", r["year_to_31_march"], False))
        value = (
            float("nan")
            if r["value"].strip() == "k"
            else _number(NATIONAL_SERIES_FILE, i, "value", r["value"], False, signed=True)
        )
        key = (r["key"].strip(), year)
        if key not in best or rank[r["how_read"]] < best[key][0]:
            best[key] = (rank[r["how_read"]], value, r)
    out: dict[str, dict] = {}
    for (key, year), (_, value, r) in sorted(best.items()):
        s = out.setdefault(
            key, {"years": [], "values": [], "unit": r["unit"], "source": r["source"], "how_read": r["how_read"]}
        )
        s["years"].append(year)
        s["values"].append(value)
    for s in out.values():
        s["years"], s["values"] = np.array(s["years"]), np.array(s["values"], dtype=float)
    return out


def national_value(key: str, year: int) -> float:
    """One published national figure (NaN if that year is not published); DataError for an unknown key."""
    series = load_national_series()
    if key not in series:
        raise DataError(f"data file {DATA_DIR / NATIONAL_SERIES_FILE}: no series {key!r}")
    s = series[key]
    hit = np.flatnonzero(s["years"] == year)
    return float(s["values"][hit[0]]) if len(hit) else float("nan")


@functools.lru_cache(maxsize=1)
def load_own_region_2023() -> dict[str, dict[str, float]]:
    """Children in care at 31 March 2023 by region of the responsible LA: ``cla_31mar`` and
    ``cla_placed_in_own_region`` (children, rounded to 10; SESLIP Briefing 002, DfE via FOI)."""
    rows = _read(REGIONAL_OWN_REGION_FILE, ["region", "metric", "value", "year", "source"])
    out: dict[str, dict[str, float]] = {}
    for i, r in enumerate(rows, start=2):
        out.setdefault(r["region"].strip(), {})[r["metric"].strip()] = _number(
            REGIONAL_OWN_REGION_FILE, i, "value", r["value"], False
        )
    return out


def load_starts_table() -> dict[int, np.ndarray]:
    """Published starts per LA (children starting to be looked after in the year to 31 March),
    year -> array over the 153 LAs of :func:`load_las`, for every published year: 2021-2024 from
    the LA table (:func:`load_las`), earlier years from the per-LA series (:func:`load_la_series`;
    the two agree on 2021-2023 except where a split county is apportioned, Northamptonshire and
    Cumbria, by a few children). Not published (Isles of Scilly from 2020) counts as 0."""
    las, series = load_las(), load_la_series()
    table = {int(y): np.nan_to_num(series["starts"][:, k]) for k, y in enumerate(series["years"]) if y < YEARS[0]}
    table.update({y: np.nan_to_num(las[f"starts_{y}"].astype(float)) for y in YEARS})
    return table
