"""A bad data file stops a run with a DataError that names the file (and the column at fault)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import small_config

import rcc_sim.data as data
from rcc_sim.data import LA_FILE, LOCATIONS_FILE, LSOA_FILE, TARGETS_FILE, DataError
from rcc_sim.run import simulate

CACHED = (
    data.load_las,
    data.load_lsoa_points,
    data.load_targets,
    data.load_la_series,
    data.load_national_series,
    data.load_own_region_2023,
)
BOLTON = "E08000001"


def _clear_caches() -> None:
    for fn in CACHED:
        fn.cache_clear()


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    """A private copy of rcc_sim/data that the loaders read instead of the shipped files."""
    copy = tmp_path / "data"
    shutil.copytree(data.DATA_DIR, copy)
    monkeypatch.setattr(data, "DATA_DIR", copy)
    _clear_caches()
    yield copy
    _clear_caches()  # monkeypatch restores DATA_DIR after this; the next load reads the real files


def _edit_csv(path: Path, edit) -> None:
    """Rewrite a CSV after ``edit(header, rows)`` changes the header and rows in place."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    edit(header, body)
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header] + body)


def _set_cell(column: str, code: str, value: str):
    def edit(header, rows):
        key, col = header.index("new_la_code"), header.index(column)
        hit = [r for r in rows if r[key] == code]
        assert hit, f"no row for {code}"
        hit[0][col] = value

    return edit


def _drop_column(column: str):
    def edit(header, rows):
        col = header.index(column)
        del header[col]
        for r in rows:
            del r[col]

    return edit


def _drop_row(code: str):
    def edit(header, rows):
        rows[:] = [r for r in rows if r[0] != code]

    return edit


LA_CASES = [
    ("non_number_stock", _set_cell("cla31mar_2024", BOLTON, "five hundred"), "cla31mar_2024"),
    ("negative_starts", _set_cell("starts_2023", BOLTON, "-12"), "starts_2023"),
    ("negative_rate", _set_cell("rate10k_2024", BOLTON, "-77"), "rate10k_2024"),
    ("missing_column", _drop_column("cla31mar_2024"), "cla31mar_2024"),
    ("missing_la", _drop_row(BOLTON), "153"),
]


@pytest.mark.parametrize("edit,needle", [c[1:] for c in LA_CASES], ids=[c[0] for c in LA_CASES])
def test_bad_la_table(data_dir, edit, needle):
    _edit_csv(data_dir / LA_FILE, edit)
    with pytest.raises(DataError) as err:
        data.load_las()
    msg = str(err.value)
    assert LA_FILE in msg and needle in msg, msg


def test_bad_data_stops_a_run(data_dir):
    _edit_csv(data_dir / LA_FILE, _set_cell("cla31mar_2024", BOLTON, "-1"))
    with pytest.raises(DataError, match=LA_FILE):
        simulate(small_config(years=0.1))


def test_missing_file(data_dir):
    (data_dir / LA_FILE).unlink()
    with pytest.raises(DataError, match="is missing") as err:
        data.load_las()
    assert LA_FILE in str(err.value)


def test_non_number_latitude(data_dir):
    _edit_csv(data_dir / LOCATIONS_FILE, _set_cell("lat", BOLTON, "north"))
    with pytest.raises(DataError) as err:
        data.load_las()
    assert LOCATIONS_FILE in str(err.value)


def test_point_outside_england(data_dir):
    _edit_csv(data_dir / LOCATIONS_FILE, _set_cell("lat", BOLTON, "40.0"))
    with pytest.raises(DataError, match="outside England") as err:
        data.load_las()
    assert LOCATIONS_FILE in str(err.value)


def test_non_number_longitude(data_dir):
    """lat is checked by the loader's number parser; lon must be too."""
    _edit_csv(data_dir / LOCATIONS_FILE, _set_cell("lon", BOLTON, "west"))
    with pytest.raises(DataError) as err:
        data.load_las()
    assert LOCATIONS_FILE in str(err.value)


def test_non_number_small_area_longitude(data_dir):
    def edit(header, rows):
        rows[0][header.index("lon")] = "west"

    _edit_csv(data_dir / LSOA_FILE, edit)
    with pytest.raises(DataError) as err:
        data.load_lsoa_points()
    assert LSOA_FILE in str(err.value)
    # the column is parsed at once, then cell by cell to name the row
    assert "row 2, column 'lon': 'west' is not a number" in str(err.value)


def test_small_area_latitude_not_finite_or_negative(data_dir):
    """A column parsed at once still refuses a non-finite number (a row named) and a negative latitude."""
    for value, message in (("inf", "is not a finite number"), ("-51.5", "is negative")):

        def edit(header, rows, value=value):
            rows[3][header.index("lat")] = value

        _edit_csv(data_dir / LSOA_FILE, edit)
        _clear_caches()
        with pytest.raises(DataError, match=f"row 5, column 'lat': .*{message}"):
            data.load_lsoa_points()


def test_shipped_data_loads():
    """Control: the real files load (and the caches were restored by the fixture above)."""
    assert data.DATA_DIR.name == "data" and (data.DATA_DIR / LA_FILE).exists()
    las = data.load_las()
    assert len(las["code"]) == 153
    assert BOLTON in set(las["code"])


# --------------------------------------------------------------------------------------------
# Issue 11: rows, encodings, non-finite numbers, duplicates and missing base-year figures
# --------------------------------------------------------------------------------------------
def _rewrite_text(path: Path, edit) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    edit(lines)
    path.write_text("".join(lines), encoding="utf-8")


def _row_index(lines: list[str], code: str) -> int:
    return next(i for i, line in enumerate(lines) if line.startswith(code + ","))


def test_short_row(data_dir):
    def edit(lines):
        i = _row_index(lines, BOLTON)
        lines[i] = lines[i].rstrip("\n").rsplit(",", 3)[0] + "\n"  # the last three fields gone

    _rewrite_text(data_dir / LA_FILE, edit)
    with pytest.raises(DataError) as err:
        data.load_las()
    msg = str(err.value)
    assert LA_FILE in msg and "row" in msg and "fields" in msg, msg


def test_long_row(data_dir):
    def edit(lines):
        i = _row_index(lines, BOLTON)
        lines[i] = lines[i].rstrip("\n") + ",1,2\n"

    _rewrite_text(data_dir / LA_FILE, edit)
    with pytest.raises(DataError, match="fields") as err:
        data.load_las()
    assert LA_FILE in str(err.value)


def test_not_utf8(data_dir):
    path = data_dir / LA_FILE
    raw = path.read_bytes().replace(b"Bolton", b"Bolt\xf6n", 1)
    path.write_bytes(raw)
    with pytest.raises(DataError, match="UTF-8") as err:
        data.load_las()
    assert LA_FILE in str(err.value) and "line" in str(err.value)


@pytest.mark.parametrize("text", ["inf", "1e400", "nan", "-inf"])
def test_non_finite_count(data_dir, text):
    _edit_csv(data_dir / LA_FILE, _set_cell("starts_2024", BOLTON, text))
    with pytest.raises(DataError) as err:
        data.load_las()
    msg = str(err.value)
    assert LA_FILE in msg and "starts_2024" in msg, msg


def test_non_finite_target(data_dir):
    def edit(header, rows):
        rows[0][header.index("value")] = "1e400"

    _edit_csv(data_dir / TARGETS_FILE, edit)
    with pytest.raises(DataError, match="finite") as err:
        data.load_targets()
    assert TARGETS_FILE in str(err.value)


@pytest.mark.parametrize("name", [LA_FILE, LOCATIONS_FILE])
def test_duplicate_la_code(data_dir, name):
    def edit(header, rows):
        key = header.index("new_la_code")
        rows.append(list(next(r for r in rows if r[key] == BOLTON)))

    _edit_csv(data_dir / name, edit)
    with pytest.raises(DataError, match="twice") as err:
        data.load_las()
    assert name in str(err.value) and BOLTON in str(err.value)


def test_duplicate_target(data_dir):
    def edit(header, rows):
        rows.append(list(rows[0]))

    _edit_csv(data_dir / TARGETS_FILE, edit)
    with pytest.raises(DataError, match="twice") as err:
        data.load_targets()
    assert TARGETS_FILE in str(err.value)


@pytest.mark.parametrize("text", ["c", "", "z"])
@pytest.mark.parametrize("column", ["cla31mar_2024", "cla31mar_2021", "starts_2023"])
def test_suppressed_or_empty_figure(data_dir, text, column):
    """A suppressed ('c') or empty base-year stock would start the LA with 0 children; missing
    starts would give it no entries: refused, naming the file, row, column and LA."""
    _edit_csv(data_dir / LA_FILE, _set_cell(column, BOLTON, text))
    with pytest.raises(DataError) as err:
        data.load_las()
    msg = str(err.value)
    assert LA_FILE in msg and column in msg and BOLTON in msg and "row" in msg, msg


def test_data_error_stops_validation_before_any_work(data_dir):
    """The data are checked when the config is validated (to_object), before a model is built."""
    from rcc_sim.config import to_object

    _edit_csv(data_dir / LA_FILE, _set_cell("cla31mar_2024", BOLTON, "c"))
    with pytest.raises(DataError, match=LA_FILE):
        to_object(small_config(years=0.1))


def test_la_series_adds_up_to_the_published_england_totals():
    """The per-LA series, put on today's LAs, sum to England's published stock and starts
    (national series, rounded to 10; revisions make the two differ by well under 1%)."""
    from rcc_sim.data import load_la_series, national_value

    s = load_la_series()
    for k, year in enumerate(s["years"]):
        for measure, key in (("stock", "cla_stock_31mar_n"), ("starts", "cla_starts_n")):
            published = national_value(key, int(year))
            if np.isfinite(published):
                assert abs(np.nansum(s[measure][:, k]) / published - 1) < 0.01, (measure, year)


def test_la_series_duplicate_row_is_refused(data_dir):
    from rcc_sim.data import LA_SERIES_FILE, load_la_series

    path = data_dir / LA_SERIES_FILE
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines, lines[1]]) + "\n")
    with pytest.raises(DataError, match=r"la_timeseries_2016_2023.csv.*appears twice"):
        load_la_series()
