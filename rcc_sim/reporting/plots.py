"""Figures for reports: readable in print, colour-blind safe, one colour per scenario throughout.

The time-series functions take :func:`totals` of a stacked Dataset (dims ``scenario`` and
``replicate`` added to a run's own dims, summed over LAs); the map and the effects-by-area chart
take numbers already computed. Each returns a matplotlib Figure. Figures are at most
:data:`WIDTH` inches wide with text of at least 10 pt, so that shown at their natural size (the
report does this) they print at that size on A4. Time series show the mean over replicates with
a shaded 5-95% range across replicates.

Colours: Okabe & Ito (2008), safe for the common colour-vision deficiencies; the status quo is
always black. Figures are drawn on an Agg canvas of their own (no pyplot, no display needed).
"""

from __future__ import annotations

import io
import json
import textwrap
from functools import lru_cache, wraps
from itertools import combinations

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from rcc_sim.data import DATA_DIR
from rcc_sim.studies.compare import net_cost_per_week

WIDTH = 7.0  # inches: A4 with 15 mm margins holds 7.09 in
MIN_FONT = 10.0  # points, at print size
BASELINE_COLOR = "#000000"
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442")
NOT_SIMULATED = "#E4E4E4"
BOUNDARIES = DATA_DIR / "la_boundaries_2023.geojson"
BOUNDARY_CREDIT = (
    "Boundaries: Office for National Statistics, Open Government Licence v3.0. "
    "Contains OS data (c) Crown copyright and database right 2023."
)

RC = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "figure.titlesize": 12,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "font.family": "DejaVu Sans",
    "savefig.facecolor": "white",
    "figure.facecolor": "white",
}

PLACEMENT_GROUPS = {  # panel title -> placement types (metrics.PLACEMENT_TYPES)
    "Kinship foster": ["kinship_foster"],
    "In-house foster": ["in_house_foster"],
    "Agency foster (IFA)": ["ifa_foster"],
    "LA children's home": ["la_home"],
    "Private children's home": ["private_home"],
    "Supported accommodation": ["supported_accommodation"],
    "Secure home": ["secure"],
    "Unregistered": ["unregistered"],
    "Other settings": ["with_parents", "placed_for_adoption", "other_setting"],
}
RCC_COSTS = {  # bar label -> (variable, sign in the net cost)
    "Set-up": ("rcc_setup_cost", 1),
    "Running": ("rcc_running_cost", 1),
    "Void block places": ("rcc_void_cost", 1),
    "Capital": ("rcc_capital", 1),
    "Therapeutic support": ("rcc_therapeutic_cost", 1),
    "Health co-funding (offset)": ("spend_cofunded", -1),
    "Programme funding (offset)": ("rcc_programme_funding", -1),
}


def label(scenario: str) -> str:
    """'pathfinders_search_only' -> 'Pathfinders search only'."""
    s = str(scenario).replace("_", " ").strip()
    return s[:1].upper() + s[1:]


def scenario_colors(scenarios: list[str], baseline: str | None) -> dict[str, str]:
    """Status quo black; the others in Okabe-Ito order (the same order in every figure)."""
    out, k = {}, 0
    for s in scenarios:
        if s == baseline:
            out[s] = BASELINE_COLOR
        else:
            out[s] = OKABE_ITO[k % len(OKABE_ITO)]
            k += 1
    return out


def styled(fn):
    """Draw the figure under the report style (:data:`RC`)."""

    @wraps(fn)
    def inner(*args, **kw):
        with matplotlib.rc_context(RC):
            return fn(*args, **kw)

    return inner


def new_figure(height: float, nrows: int = 1, ncols: int = 1, **kw) -> tuple[Figure, np.ndarray]:
    """A figure :data:`WIDTH` wide and ``height`` inches high with a grid of axes (always 2-d)."""
    fig = Figure(figsize=(WIDTH, height), layout="constrained")
    FigureCanvasAgg(fig)  # headless: no pyplot, no global figure list
    return fig, fig.subplots(nrows, ncols, squeeze=False, **kw)


def png(fig: Figure, dpi: int = 150) -> bytes:
    buf = io.BytesIO()
    with matplotlib.rc_context(RC):
        fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# Time series
# ---------------------------------------------------------------------------------------------
def _present(da: xr.DataArray) -> xr.DataArray:
    """Replicates of one scenario that hold data (an outer join of a study leaves NaN rows)."""
    keep = da.notnull().any([d for d in da.dims if d != "replicate"])
    return da.isel(replicate=np.flatnonzero(keep.values))


def set_title(ax, text: str, width_in: float | None = None) -> None:
    """A left-aligned axes title, wrapped to the width of the axes so it never runs into a neighbour.

    The width, unless given, is estimated from the axes' place in its grid (its share of the
    figure width less about 0.75 in per column for tick labels and axis label), which avoids a
    second layout pass; the tests check that no text overlaps."""
    size = matplotlib.font_manager.FontProperties(size=matplotlib.rcParams["axes.titlesize"]).get_size_in_points()
    if width_in is None:
        spec = ax.get_subplotspec()
        ncols = spec.get_gridspec().ncols
        span = spec.colspan.stop - spec.colspan.start
        width_in = (ax.figure.get_figwidth() - 0.75 * ncols) * span / ncols
    ax.set_title("\n".join(textwrap.wrap(text, max(12, int(width_in * 72 / (size * 0.6))))), loc="left", fontsize=size)


def _floor_at_zero(ax, values: np.ndarray) -> None:
    """Counts and shares cannot be negative: start the axis at 0 when the data allow it."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size and v.min() >= 0:
        lo, hi = ax.get_ylim()
        if lo < 0:
            ax.set_ylim(0, hi if v.max() > 0 else 1)


def _series_panel(ax, da: xr.DataArray, colors: dict[str, str], title: str, ylabel: str) -> None:
    """Mean over replicates, and the 5-95% range across replicates when there are several."""
    for s in da.scenario.values:
        d = _present(da.sel(scenario=s))
        if d.sizes["replicate"] == 0:
            continue
        t = d["time"].values
        if d.sizes["replicate"] > 1:
            lo, hi = d.quantile([0.05, 0.95], "replicate").values
            ax.fill_between(t, lo, hi, color=colors[s], alpha=0.18, linewidth=0)
        ax.plot(t, d.mean("replicate").values, color=colors[s], linewidth=1.6)
    ax.set_title(title, loc="left")  # final wrapped title: set_title, once the layout is known
    ax.set_ylabel(ylabel)
    _floor_at_zero(ax, da.values)
    v = da.values[np.isfinite(da.values)]
    if v.size and np.all(v == 0):
        ax.text(0.5, 0.5, "zero in every run", transform=ax.transAxes, ha="center", va="center", color="#555555")
    loc = mdates.AutoDateLocator(minticks=3, maxticks=5)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc, show_offset=False))


def _legend(fig: Figure, colors: dict[str, str], n_rep: int, ncols: int | None = None) -> None:
    handles = [Line2D([], [], color=c, linewidth=2, label=label(s)) for s, c in colors.items()]
    if n_rep > 1:
        handles.append(Patch(color="#000000", alpha=0.18, linewidth=0, label=f"5-95% range, {n_rep} replicates"))
    fig.legend(handles=handles, loc="outside lower center", ncols=ncols or min(len(handles), 3), frameon=False)


def _n_rep(ds: xr.Dataset) -> int:
    return int(ds.sizes.get("replicate", 1))


def _ratio(num: xr.DataArray, den: xr.DataArray, scale: float = 1.0) -> xr.DataArray:
    return scale * num / den.where(den > 0)


def _grid(
    ds: xr.Dataset,
    panels: list[tuple[str, str, xr.DataArray]],
    colors: dict[str, str],
    ncols: int = 2,
    height_per_row: float = 2.6,
) -> Figure:
    nrows = -(-len(panels) // ncols)
    fig, axes = new_figure(height_per_row * nrows + 0.6, nrows, ncols, sharex=True)
    for ax, (title, ylabel, da) in zip(axes.flat, panels):
        _series_panel(ax, da, colors, title, ylabel)
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("Week ending")
    _legend(fig, colors, _n_rep(ds))
    wrap_titles(fig)
    return fig


def wrap_titles(fig: Figure) -> None:
    """Wrap every axes title to its axes' width (see :func:`set_title`)."""
    for ax in fig.axes:
        if ax.get_title(loc="left"):
            set_title(ax, ax.get_title(loc="left").replace("\n", " "))


def totals(ds: xr.Dataset) -> xr.Dataset:
    """Every weekly variable summed over the LAs of the run (lazy if ``ds`` is): what the figures
    draw. A run missing from a study (NaN) stays NaN."""
    weekly = [v for v in ds.data_vars if {"time", "la"} <= set(ds[v].dims)]
    return ds[weekly].sum("la", min_count=1)


@styled
def fig_headline(ds: xr.Dataset, colors: dict[str, str]) -> Figure:
    t = ds
    return _grid(
        ds,
        [
            ("Children in care", "children", t["children_in_care"]),
            ("In family-based care", "% of children in care", _ratio(t["family_based"], t["children_in_care"], 100)),
            ("Placed over 20 miles from home", "% of children placed", _ratio(t["over_20_miles"], t["located"], 100)),
            ("Waiting for a suitable placement", "children", t["waiting"]),
        ],
        colors,
    )


@styled
def fig_placement_mix(ds: xr.Dataset, colors: dict[str, str]) -> Figure:
    p = ds["placements"]
    panels = [
        (title, "children", p.sel(placement_type=types).sum("placement_type"))
        for title, types in PLACEMENT_GROUPS.items()
    ]
    with matplotlib.rc_context({"axes.titlesize": 10}):
        return _grid(ds, panels, colors, ncols=3, height_per_row=2.2)


@styled
def fig_distance(ds: xr.Dataset, colors: dict[str, str]) -> Figure:
    t = ds
    return _grid(
        ds,
        [
            ("Placed over 20 miles from home", "% of children placed", _ratio(t["over_20_miles"], t["located"], 100)),
            ("Placed outside their home LA", "% of children placed", _ratio(t["outside_la"], t["located"], 100)),
            ("Mean distance from home", "miles", _ratio(t["distance_sum"], t["located"])),
            ("Placed over 20 miles from home", "children", t["over_20_miles"]),
        ],
        colors,
    )


@styled
def fig_waiting(ds: xr.Dataset, colors: dict[str, str]) -> Figure:
    t = ds
    roll = t[["days_to_placement", "placements_made"]].rolling(time=13, min_periods=1).sum()
    return _grid(
        ds,
        [
            ("Waiting in an unregistered placement", "children", t["waiting"]),
            (
                "Share of children in care waiting",
                "% of children in care",
                _ratio(t["waiting"], t["children_in_care"], 100),
            ),
            (
                "Days waited per placement made",
                "days (13-week mean)",
                _ratio(roll["days_to_placement"], roll["placements_made"]),
            ),
            ("Needing secure care, no secure place", "children", t["no_lawful_placement"]),
        ],
        colors,
    )


def weekly_net_cost(ds: xr.Dataset) -> xr.DataArray:
    """Net cost per week (GBP) of :func:`totals`: as compare.OUTCOMES['net_cost_gbp_m'], weekly."""
    return net_cost_per_week(ds)


@styled
def fig_spend(ds: xr.Dataset, colors: dict[str, str], baseline: str | None = None) -> Figure:
    """Cumulative net cost over time (and, with a baseline, each scenario minus it, paired by
    replicate), and spend over the run by placement type."""
    cum = weekly_net_cost(ds).cumsum("time") / 1e6
    cum = cum.where(present(ds))  # keep absent replicates absent (cumsum turns NaN into 0)
    others = [s for s in ds.scenario.values if s != baseline]
    paired = baseline is not None and bool(others)
    fig, axes = new_figure(
        9.6 if paired else 7.4, 3 if paired else 2, 1, height_ratios=[1, 1, 1.3] if paired else [1, 1.3]
    )
    _series_panel(axes[0, 0], cum, colors, "Cumulative net cost", "GBP million")
    if paired:
        diff = cum.sel(scenario=others) - cum.sel(scenario=baseline)
        _series_panel(
            axes[1, 0], diff, colors, "Cumulative net cost, scenario minus status quo (same seeds)", "GBP million"
        )
        axes[1, 0].axhline(0, color=colors[baseline], linewidth=0.8)
    for ax in axes[:-1, 0]:
        ax.set_xlabel("Week ending")
    spend = ds["spend"].sum("time")
    groups = list(PLACEMENT_GROUPS)
    vals = {
        s: [
            float(
                spend.sel(scenario=s, placement_type=PLACEMENT_GROUPS[g])
                .sum("placement_type")
                .where(present(ds).sel(scenario=s))
                .mean("replicate")
            )
            / 1e6
            for g in groups
        ]
        for s in ds.scenario.values
    }
    _hbars(axes[-1, 0], groups, vals, colors)
    axes[-1, 0].set_title("Spend over the run by placement type", loc="left")
    axes[-1, 0].set_xlabel("GBP million (mean over replicates)")
    axes[-1, 0].set_ylabel("type of placement")
    _legend(fig, colors, _n_rep(ds))
    wrap_titles(fig)
    return fig


def present(ds: xr.Dataset) -> xr.DataArray:
    """(scenario, replicate) cells that hold a run (an outer join of a study leaves NaN cells)."""
    cic = ds["children_in_care"].isel(time=0)
    return (cic.sum("la", min_count=1) if "la" in cic.dims else cic).notnull()


def rcc_costs(ds: xr.Dataset) -> dict[str, dict[str, float]]:
    """Scenario -> RCC cost item -> GBP million over the run (mean over replicates); offsets negative."""
    out = {}
    for s in ds.scenario.values:
        keep = present(ds).sel(scenario=s)
        out[str(s)] = {
            k: sign * float(ds[v].sel(scenario=s).sum("time").where(keep).mean("replicate")) / 1e6
            for k, (v, sign) in RCC_COSTS.items()
        }
    return out


@styled
def fig_rcc_costs(ds: xr.Dataset, colors: dict[str, str]) -> Figure:
    costs = rcc_costs(ds)
    fig, axes = new_figure(3.8)
    items = list(RCC_COSTS)
    _hbars(axes[0, 0], items, {s: [costs[s][k] for k in items] for s in costs}, colors)
    axes[0, 0].axvline(0, color="#555555", linewidth=0.8)
    set_title(axes[0, 0], "RCC costs and offsets over the run")
    axes[0, 0].set_xlabel("GBP million (offsets negative; mean over replicates)")
    axes[0, 0].set_ylabel("cost or offset")
    _legend(fig, colors, 1)
    return fig


def _hbars(ax, categories: list[str], values: dict[str, list[float]], colors: dict[str, str]) -> None:
    n = len(values)
    h = 0.8 / max(n, 1)
    y = np.arange(len(categories))
    for i, (s, v) in enumerate(values.items()):
        ax.barh(y - 0.4 + h * (i + 0.5), v, height=h, color=colors[s], label=label(s))
    ax.set_yticks(y, categories)
    ax.invert_yaxis()
    ax.grid(axis="y", visible=False)


@styled
def fig_supply(ds: xr.Dataset, colors: dict[str, str]) -> Figure:
    carers = ds["carers"]
    homes = ds[["homes", "home_places", "home_places_filled"]].sel(home_kind=["la_home", "private_home"])
    return _grid(
        ds,
        [
            ("Approved fostering households", "households", carers.sum("carer_kind")),
            ("of which LA in-house", "households", carers.sel(carer_kind="in_house")),
            ("Open children's homes (LA and private)", "homes", homes["homes"].sum("home_kind")),
            (
                "Children's home occupancy",
                "% of registered places",
                _ratio(homes["home_places_filled"].sum("home_kind"), homes["home_places"].sum("home_kind"), 100),
            ),
        ],
        colors,
    )


# ---------------------------------------------------------------------------------------------
# Map and effects by area
# ---------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def boundaries() -> dict[str, list[np.ndarray]]:
    """LA code -> outer rings (lon, lat arrays) of its generalised boundary (ONS, 2023)."""
    if not BOUNDARIES.exists():
        return {}
    out: dict[str, list[np.ndarray]] = {}
    for f in json.loads(BOUNDARIES.read_text())["features"]:
        g = f["geometry"]
        polys = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
        out[f["properties"]["code"]] = [np.asarray(p[0], dtype=float) for p in polys]
    return out


@styled
def fig_map(
    codes: list[str],
    lat: np.ndarray,
    lon: np.ndarray,
    values: np.ndarray,
    title: str,
    unit: str,
    diverging: bool,
    numbered: bool = False,
) -> Figure:
    """LAs coloured by ``values`` (their boundaries where known, else a point at the LA's point);
    LAs not simulated in grey; zoomed to the simulated LAs. ``numbered``: write 1, 2, ... at the
    LA points (in the order of ``codes``) for a key in the caption."""
    values = np.asarray(values, dtype=float)
    rings = boundaries()
    sel = [r for code in codes for r in rings.get(code, [])] or [np.column_stack([lon, lat])]
    allpts = np.vstack(sel)
    (x0, y0), (x1, y1) = allpts.min(0), allpts.max(0)
    pad = 0.05 * max(x1 - x0, y1 - y0, 0.3)
    x0, x1, y0, y1 = x0 - pad, x1 + pad, y0 - pad, y1 + pad
    aspect = 1.0 / np.cos(np.deg2rad((y0 + y1) / 2))
    map_h = float(np.clip((WIDTH - 1.9) * (y1 - y0) * aspect / (x1 - x0), 2.5, 7.5))
    fig, axes = new_figure(map_h + 1.9)
    ax = axes[0, 0]
    finite = values[np.isfinite(values)]
    if diverging:
        span = float(np.max(np.abs(finite))) if finite.size and np.max(np.abs(finite)) > 0 else 1.0
        norm, cmap = TwoSlopeNorm(0.0, -span, span), matplotlib.colormaps["PuOr_r"]
    else:
        hi = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
        norm, cmap = matplotlib.colors.Normalize(0.0, hi), matplotlib.colormaps["viridis"]
    simulated = set(codes)
    others = [r for code, rs in rings.items() if code not in simulated for r in rs]
    ax.add_collection(
        PolyCollection(others, facecolors=NOT_SIMULATED, edgecolors="white", linewidths=0.4), autolim=False
    )
    polys, colours, pts = [], [], []
    for code, la_lat, la_lon, v in zip(codes, lat, lon, values):
        c = cmap(norm(v)) if np.isfinite(v) else "#FFFFFF"
        if code in rings:
            polys += rings[code]
            colours += [c] * len(rings[code])
        else:
            pts.append((la_lon, la_lat, c))
    ax.add_collection(PolyCollection(polys, facecolors=colours, edgecolors="#333333", linewidths=0.5), autolim=False)
    if pts:
        ax.scatter(
            [p[0] for p in pts], [p[1] for p in pts], c=[p[2] for p in pts], s=40, edgecolors="#333333", zorder=3
        )
    if numbered:
        for i, (la_lat, la_lon) in enumerate(zip(lat, lon), start=1):
            ax.text(
                la_lon,
                la_lat,
                str(i),
                ha="center",
                va="center",
                fontsize=10,
                zorder=4,
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85},
            )
    # the view: the simulated LAs, widened in one direction to fill the panel at the true aspect
    ax.update_datalim([(x0, y0), (x1, y1)])
    ax.margins(0)
    ax.autoscale_view()
    ax.set_aspect(aspect, adjustable="datalim")
    ax.set_xlabel("longitude (degrees east)")
    ax.set_ylabel("latitude (degrees north)")
    ax.grid(False)
    ax.set_title("\n".join(textwrap.wrap(title, 64)), loc="left", fontsize=11)
    cb = fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.7)
    cb.set_label(unit)
    handles = [Patch(facecolor=NOT_SIMULATED, edgecolor="#999999", label="not simulated in full")] if others else []
    if not np.all(np.isfinite(values)):
        handles.append(Patch(facecolor="#FFFFFF", edgecolor="#333333", label="no value"))
    if handles:
        ax.legend(
            handles=handles, loc="upper left", bbox_to_anchor=(0.0, -0.16), frameon=False, ncols=2, borderaxespad=0.0
        )
    fig.supxlabel("\n".join(textwrap.wrap(BOUNDARY_CREDIT, 90)), fontsize=10, color="#444444", x=0.02, ha="left")
    return fig


@styled
def fig_forest(
    rows: list[tuple[str, bool]], panels: list[tuple[str, str, dict[str, tuple]]], colors: dict[str, str]
) -> Figure:
    """Effects with 95% intervals by area. ``rows``: (area label, indented?); ``panels``: (title,
    unit, {scenario: (mean, low, high) arrays over rows})."""
    n = len(rows)
    fig, axes = new_figure(0.3 * n + 2.0, 1, len(panels), sharey=True)
    y = np.arange(n)
    for ax, (_title, unit, data) in zip(axes[0], panels):
        k = len(data)
        for i, (s, (m, lo, hi)) in enumerate(data.items()):
            off = (i - (k - 1) / 2) * min(0.25, 0.7 / k)
            m, lo, hi = (np.asarray(a, dtype=float) for a in (m, lo, hi))
            err = np.vstack([m - lo, hi - m])
            err = np.where(np.isfinite(err), err, 0.0)
            ax.errorbar(m, y + off, xerr=err, fmt="o", color=colors[s], markersize=4, capsize=2, linewidth=1.2)
        ax.axvline(0, color="#555555", linewidth=0.8)
        ax.set_xlabel(unit)
        ax.grid(axis="y", visible=False)
        ax.margins(x=0.12)
    axes[0, 0].set_yticks(y, [("\u2013 " if indent else "") + name for name, indent in rows])
    for tick, (_, indent) in zip(axes[0, 0].get_yticklabels(), rows):
        tick.set_fontweight("normal" if indent else "bold")
    axes[0, 0].invert_yaxis()
    axes[0, 0].set_ylabel("area")
    for ax, (title, _, _) in zip(axes[0], panels):
        set_title(ax, title, width_in=2.2)
    handles = [
        Line2D([], [], color=colors[s], marker="o", linewidth=1.2, label=f"{label(s)} minus status quo")
        for s in panels[0][2]
    ]
    handles.append(Line2D([], [], color="#555555", linewidth=0.8, label="no difference"))
    fig.legend(handles=handles, loc="outside lower center", ncols=2, frameon=False)
    return fig


# ---------------------------------------------------------------------------------------------
# Checks a reader would make: used by the tests
# ---------------------------------------------------------------------------------------------
def texts(fig: Figure) -> list:
    """(Text, window box) of every visible, non-empty text the figure draws: titles, axis labels,
    the tick labels actually drawn, offset texts, annotations, legends, figure texts."""
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    found = list(fig.texts)
    for leg in fig.legends:
        found += leg.get_texts() + [leg.get_title()]
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        found += [ax.title, ax._left_title, ax._right_title, *ax.texts]
        for axis in (ax.xaxis, ax.yaxis):
            found += [axis.label, axis.get_offset_text()]
            for tick in axis._update_ticks():  # the ticks inside the view, i.e. drawn
                found += [t for t in (tick.label1, tick.label2) if t.get_visible()]
        if ax.get_legend() is not None:
            found += ax.get_legend().get_texts() + [ax.get_legend().get_title()]
    return [(t, t.get_window_extent(r)) for t in found if t.get_visible() and t.get_text().strip()]


def overlapping_texts(fig: Figure, tolerance: float = 1.0) -> list[tuple[str, str]]:
    """Pairs of drawn texts whose boxes overlap by more than ``tolerance`` pixels."""
    boxes = texts(fig)
    bad = []
    for (a, ba), (b, bb) in combinations(boxes, 2):
        w = min(ba.x1, bb.x1) - max(ba.x0, bb.x0)
        h = min(ba.y1, bb.y1) - max(ba.y0, bb.y0)
        if w > tolerance and h > tolerance:
            bad.append((a.get_text(), b.get_text()))
    return bad


def small_texts(fig: Figure) -> list[tuple[str, float]]:
    """Texts drawn smaller than :data:`MIN_FONT` points."""
    return [(t.get_text(), t.get_fontsize()) for t, _ in texts(fig) if t.get_fontsize() < MIN_FONT - 1e-9]


def clipped_texts(fig: Figure) -> list[str]:
    """Texts that fall (partly) outside the figure."""
    w, h = fig.canvas.get_width_height()
    return [t.get_text() for t, bb in texts(fig) if bb.x0 < -1 or bb.y0 < -1 or bb.x1 > w + 1 or bb.y1 > h + 1]
