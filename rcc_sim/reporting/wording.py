"""Plain-English wording of the outcomes a report states: a noun phrase and a sentence for each
outcome, the number formats (shares in percentage points, money in GBP m), and the sentence for
an effect with its interval - which says "within the noise of the simulation" where the interval
includes zero or there is one replicate."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rcc_sim.reporting import plots

NOISE = "within the noise of the simulation"
DAGGER = " \u2020"  # marks a difference within the noise in tables


# ---------------------------------------------------------------------------------------------
# Plain-English wording of each outcome
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Wording:
    subject: str  # the outcome as a noun phrase
    change: str  # "{x} ... {dir} ...": the difference in words
    up: str = "more"
    down: str = "fewer"
    kind: str = "share"  # share (shown as %, differences in percentage points), money (GBP m), gbp, number
    unit: str = ""  # unit of a number


WORDING: dict[str, Wording] = {
    "share_over_20_miles": Wording(
        "the share of children placed more than 20 miles from home (last year)",
        "{x} percentage points {dir} children are placed more than 20 miles from home",
    ),
    "share_outside_la": Wording(
        "the share of children placed outside their home LA (last year)",
        "{x} percentage points {dir} children are placed outside their home LA",
    ),
    "mean_miles_from_home": Wording(
        "the mean distance from home (last year)",
        "children are placed {x} miles {dir} home on average",
        "further from",
        "closer to",
        "number",
        "miles",
    ),
    "share_family_based": Wording(
        "the share of children in family-based care (last year)",
        "{x} percentage points {dir} children live in family-based care (foster or kinship "
        "care, with parents or placed for adoption)",
    ),
    "waiting": Wording(
        "the number of children waiting for a suitable placement (mean over the last year)",
        "{x} {dir} children are waiting in an unregistered placement for a suitable one on an average day",
        kind="number",
        unit="children",
    ),
    "unregistered_share": Wording(
        "the share of children in care waiting in an unregistered placement (last year)",
        "{x} percentage points {dir} children in care are waiting in an unregistered placement",
    ),
    "three_plus_placements_rate": Wording(
        "the share of children with three or more placements in the last year",
        "{x} percentage points {dir} children have three or more placements in the last year",
    ),
    "moves_per_child": Wording(
        "placement moves per child in care per year (last year)",
        "there are {x} {dir} placement moves per child in care per year",
        kind="number",
        unit="moves per child-year",
    ),
    "mean_days_to_placement": Wording(
        "the days waited per placement made (last year)",
        "children wait {x} days {dir} for each placement made",
        "longer",
        "less",
        "number",
        "days",
    ),
    "spend_gbp_m": Wording(
        "placement spend over the run", "placement spend over the run is GBP {x}m {dir}", "higher", "lower", "money"
    ),
    "net_cost_gbp_m": Wording(
        "the net cost over the run (placement spend less health co-funding, plus RCC costs, less programme funding)",
        "the net cost over the run is GBP {x}m {dir}",
        "higher",
        "lower",
        "money",
    ),
    "spend_per_child_week": Wording(
        "placement spend per child per week (last year)",
        "placement spend per child per week is GBP {x} {dir}",
        "higher",
        "lower",
        "gbp",
    ),
    "carers_end": Wording(
        "approved fostering households at the end",
        "there are {x} {dir} approved fostering households at the end",
        kind="number",
        unit="households",
    ),
    "homes_end": Wording(
        "open children's homes at the end",
        "{x} {dir} children's homes are open at the end",
        kind="number",
        unit="homes",
    ),
    # the RCC's costs (rcc_sim.studies.workbench.COSTS); the status quo has none
    "rcc_setup_gbp_m": Wording(
        "the RCC's set-up cost over the run", "set-up costs GBP {x}m {dir}", "more", "less", "money"
    ),
    "rcc_running_gbp_m": Wording(
        "the RCC's running cost over the run", "running the RCC costs GBP {x}m {dir}", "more", "less", "money"
    ),
    "rcc_capital_gbp_m": Wording(
        "the RCC's capital spend over the run", "the RCC spends GBP {x}m {dir} capital", "more", "less", "money"
    ),
    "rcc_therapeutic_gbp_m": Wording(
        "therapeutic support for complex needs over the run",
        "therapeutic support costs GBP {x}m {dir}",
        "more",
        "less",
        "money",
    ),
    "rcc_void_block_gbp_m": Wording(
        "block-contract places paid while empty, over the run",
        "GBP {x}m {dir} is paid for empty block-contract places",
        "more",
        "less",
        "money",
    ),
    "health_cofunding_gbp_m": Wording(
        "placement cost paid by health over the run",
        "health pays GBP {x}m {dir} of placement costs",
        "more",
        "less",
        "money",
    ),
    "programme_funding_gbp_m": Wording(
        "DfE programme funding received over the run",
        "GBP {x}m {dir} DfE programme funding is received",
        "more",
        "less",
        "money",
    ),
}


def _decimals(ref: float) -> int:
    """Decimals that show two significant figures of ``ref`` (at most 4)."""
    if not np.isfinite(ref) or ref <= 0:
        return 1
    return int(min(4, max(0, 1 - math.floor(math.log10(ref)))))


def _interval_decimals(width: float) -> int:
    """Decimals for an effect: one significant figure of its interval's width, two if that figure
    is a 1 (the usual rule for uncertainties); at most 4."""
    if not np.isfinite(width) or width <= 0:
        return 1
    e = math.floor(math.log10(width))
    lead = int(width / 10.0**e + 1e-9)
    return int(min(4, max(0, -e + (1 if lead == 1 else 0))))


def number_text(v: float, d: int) -> str:
    if not np.isfinite(v):
        return "n/a"
    s = f"{v:,.{d}f}"
    return s[1:] if s.startswith("-") and float(s.replace(",", "")) == 0 else s


def display_scale(name: str) -> float:
    return 100.0 if WORDING[name].kind == "share" else 1.0


def level_text(name: str, v: float) -> str:
    """A level with its unit: '12.3%', 'GBP 45.6m', '1,234 households'."""
    w = WORDING[name]
    if not np.isfinite(v):
        return "n/a"
    if w.kind == "share":
        return f"{number_text(100 * v, 1)}%"
    if w.kind == "money":
        return f"GBP {number_text(v, 1)}m"
    if w.kind == "gbp":
        return f"GBP {number_text(v, 0)}"
    return f"{number_text(v, _decimals(abs(v)) if abs(v) < 10 else 0)} {w.unit}"


def diff_unit(name: str) -> str:
    w = WORDING[name]
    return {"share": "percentage points", "money": "GBP m", "gbp": "GBP"}.get(w.kind, w.unit)


def level_unit(name: str) -> str:
    w = WORDING[name]
    return {"share": "%", "money": "GBP m", "gbp": "GBP"}.get(w.kind, w.unit)


def unit_cell(name: str) -> str:
    """Unit of a table row: levels, and differences when they differ (shares: percentage points)."""
    return "% / pp" if WORDING[name].kind == "share" else level_unit(name)


def level_num(name: str, v: float) -> str:
    """A level as a bare number in :func:`level_unit` units."""
    w = WORDING[name]
    if not np.isfinite(v):
        return "n/a"
    if w.kind == "share":
        return number_text(100 * v, 2 if 0 < abs(v) < 0.01 else 1)
    if w.kind == "money":
        return number_text(v, 1)
    if w.kind == "gbp" or abs(v) >= 10:
        return number_text(v, 0)
    return number_text(v, _decimals(abs(v)))


def effect_decimals(name: str, mean: float, lo: float, hi: float) -> int:
    return interval_decimals(mean, lo, hi, display_scale(name))


def interval_decimals(mean: float, lo: float, hi: float, k: float = 1.0) -> int:
    """Decimals for a difference ``mean`` with interval ``lo``-``hi``, shown multiplied by ``k``
    (100 for a share in percentage points): from the interval's width, enough to show the mean."""
    width = (hi - lo) * k if np.isfinite(lo) and np.isfinite(hi) else float("nan")
    d = _interval_decimals(width) if np.isfinite(width) and width > 0 else _decimals(abs(mean) * k)
    while d < 4 and np.isfinite(mean) and mean != 0 and round(abs(mean) * k, d) == 0:
        d += 1
    return d


def interval_text(name: str, mean: float, lo: float, hi: float, n: int) -> str:
    if n < 2 or not (np.isfinite(lo) and np.isfinite(hi)):
        return "no interval (one replicate)"
    d, k = effect_decimals(name, mean, lo, hi), display_scale(name)
    return f"95% interval {number_text(lo * k, d)} to {number_text(hi * k, d)}"


def identical(mean: float, lo: float, hi: float, n: int) -> bool:
    """True when the scenario equals the status quo in every paired run (no difference at all)."""
    return mean == 0 and (n < 2 or (lo == 0 and hi == 0))


def noise_cell(mean: float, lo: float, hi: float, n: int) -> str:
    """The 'Within the noise?' column: yes / no / no difference."""
    if identical(mean, lo, hi, n) and n > 1:
        return "no difference"
    return "yes" if within_noise(lo, hi, n) else "no"


def within_noise(lo: float, hi: float, n: int) -> bool:
    """True when the interval includes zero, or there is no interval (one replicate)."""
    return n < 2 or not (np.isfinite(lo) and np.isfinite(hi)) or (lo <= 0.0 <= hi)


def effect_sentence(
    name: str, scenario: str, mean: float, lo: float, hi: float, n: int, base: float | None = None, where: str = ""
) -> str:
    """One plain-English sentence on the effect of ``scenario`` on outcome ``name``.

    ``mean``, ``lo``, ``hi``: the mean paired difference (scenario minus status quo) and its 95%
    interval, in the outcome's units (shares as fractions); ``n`` paired replicates; ``base``:
    the status quo level; ``where``: e.g. 'in the Greater Manchester RCC'."""
    w = WORDING[name]
    who = f"Under {plots.label(scenario).lower()}" + (f" {where}" if where else "")
    if not np.isfinite(mean):
        return f"{who}, {w.subject} could not be computed (nothing to divide by)."
    if identical(mean, lo, hi, n):
        runs = "the one paired run" if n < 2 else f"every one of the {n} paired runs"
        return f"{who}, {w.subject} is exactly the same as under the status quo in {runs}."
    d = effect_decimals(name, mean, lo, hi)
    x = number_text(abs(mean) * display_scale(name), d)
    change = w.change.format(x=x, dir=w.up if mean > 0 else w.down)
    extra = [interval_text(name, mean, lo, hi, n)]
    if base is not None and np.isfinite(base):
        extra.append(f"status quo {level_text(name, base)}")
    text = f"{who}, {change} ({'; '.join(extra)})."
    if n < 2:
        text += f" With one replicate no interval can be given, so this difference may be {NOISE}."
    elif within_noise(lo, hi, n):
        text += f" The interval includes zero: the difference is {NOISE}."
    return text
