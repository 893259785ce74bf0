"""The base-year fit: the model's year to 31 March 2024 against the calibration targets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr

from rcc_sim.studies.validate.measures import Years

# the calibration's acceptance bands for the base-year fit (experiments/face_validity.py)
BASE_BAND_COUNT_PCT = 5.0
BASE_BAND_SHARE_PP = 2.0

# ---------------------------------------------------------------------------------------------
# The base-year fit
# ---------------------------------------------------------------------------------------------
BASE_STAT_YEAR = 2024  # the calibration targets are for the year to 31 March 2024


def base_year_view(ds: xr.Dataset) -> tuple[xr.Dataset, str]:
    """The year of ``ds`` to set against the calibration targets, and a sentence saying which:
    the year to 31 March 2024 when the run covers it (a run that starts earlier), else the run's
    first year against the latest published year, as :func:`rcc_sim.studies.validation.compare` does."""
    y = Years(ds)
    hit = np.flatnonzero(y.years == BASE_STAT_YEAR)
    if len(hit):
        k = int(hit[0])
        t = np.flatnonzero(y.masks[k])
        view = ds.isel(time=slice(int(t[0]), int(t[-1]) + 1), year=[k])
        view.attrs = {**ds.attrs, "base_date": f"{BASE_STAT_YEAR - 1}-03-31"}
        return view, f"the model's year to 31 March {BASE_STAT_YEAR}, the year of the published figures"
    first = int(y.years[0]) if len(y.years) else None
    when = f"to 31 March {first}" if first else "(the run is shorter than a year: its weeks so far)"
    return ds, (
        f"the model's first year {when} against the latest published figures (year to 31 March "
        f"{BASE_STAT_YEAR}): the run starts at its base date, so the years differ"
    )


@dataclass
class BaseRow:
    """One calibration target against the model, over seeds."""

    key: str
    label: str
    published: float
    model: float  # mean over seeds
    low: float  # min over seeds
    high: float  # max over seeds
    unit: str
    kind: str
    note: str

    @property
    def diff(self) -> float:
        if self.kind == "share":
            return 100.0 * (self.model - self.published)
        return 100.0 * (self.model / self.published - 1.0) if self.published else float("nan")

    @property
    def outside(self) -> bool:
        band = BASE_BAND_SHARE_PP if self.kind == "share" else BASE_BAND_COUNT_PCT
        return bool(np.isfinite(self.diff) and abs(self.diff) > band)


def base_year_rows(ds: xr.Dataset) -> tuple[list, str]:
    """:func:`rcc_sim.studies.validation.compare` on :func:`base_year_view` of one run."""
    from rcc_sim.studies.validation import compare

    view, when = base_year_view(ds)
    if not len(Years(view).years):
        return [], when
    return compare(view), when


def combine_base_rows(per_run: Sequence[list]) -> list[BaseRow]:
    """The rows of several runs (same targets, same order) as mean and range over runs."""
    per_run = [r for r in per_run if r]
    if not per_run:
        return []
    out = []
    for i, r in enumerate(per_run[0]):
        vals = np.array([rows[i].model for rows in per_run], dtype=float)
        low, high = float(vals.min()), float(vals.max())
        out.append(BaseRow(r.key, r.label, r.published, float(vals.mean()), low, high, r.unit, r.kind, r.note))
    return out
