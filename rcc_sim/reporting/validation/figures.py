"""Charts of the validation page: a measure over time (published and model on the same axis of
statistical years) and per-LA scatter plots (model against published). Each is a small
matplotlib Figure in the report's style (:mod:`rcc_sim.reporting.plots`): text of at least 10
pt, colour-blind safe colours, published always black."""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from rcc_sim.reporting import plots
from rcc_sim.studies.validate import LaFit, Level

PUBLISHED = "#000000"
MODEL = plots.OKABE_ITO[0]  # blue
SMALL = 3.45  # inches: two figures side by side on the page


def _small(height: float) -> tuple[Figure, object]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=(SMALL, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots()


def _thousands(x: float, _pos: object = None) -> str:
    """A tick label: thousands separated by commas, no needless decimals."""
    if abs(x) >= 1000 or float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:,.2f}".rstrip("0").rstrip(".")


@plots.styled
def fig_series(level: Level, model: xr.DataArray) -> Figure:
    """``level``'s published series (black dots and line; the calibration target for 2024 an open
    square) and the model's yearly values ``model`` (dims replicate, year): the mean over seeds as
    a line, the min-max over seeds shaded."""
    m, pub = level.measure, level.published
    fig, ax = _small(2.9)
    target = np.array([k.startswith("target:") for k in pub.keys], dtype=bool)
    handles = []
    if len(pub.years):
        ax.plot(pub.years, pub.values, color=PUBLISHED, linewidth=1.2, marker="o", markersize=3.5, zorder=3)
        handles.append(Line2D([], [], color=PUBLISHED, marker="o", markersize=3.5, label="Published"))
        if target.any():
            ax.plot(
                pub.years[target], pub.values[target], linestyle="none", marker="s", markersize=6,
                markerfacecolor="white", markeredgecolor=PUBLISHED, zorder=4,
            )  # fmt: skip
            square = {"marker": "s", "markerfacecolor": "white", "linestyle": "none"}
            handles.append(Line2D([], [], color=PUBLISHED, label="2024 target", **square))
    years = np.asarray(model["year"].values, dtype=int)
    if len(years):
        mean = model.mean("replicate", skipna=True).values
        n_rep = int(model.sizes.get("replicate", 1))
        if n_rep > 1:
            lo, hi = model.min("replicate", skipna=True).values, model.max("replicate", skipna=True).values
            if len(years) > 1:
                ax.fill_between(years, lo, hi, color=MODEL, alpha=0.22, linewidth=0)
            else:
                ax.errorbar(years, mean, yerr=[mean - lo, hi - mean], color=MODEL, linestyle="none", capsize=3)
            handles.append(Patch(color=MODEL, alpha=0.22, linewidth=0, label=f"min-max, {n_rep} seeds"))
        ax.plot(years, mean, color=MODEL, linewidth=1.8, marker="o", markersize=3, zorder=5)
        handles.insert(0, Line2D([], [], color=MODEL, linewidth=1.8, marker="o", markersize=3, label="Model"))
    else:
        ax.text(0.5, 0.5, "no complete model year", transform=ax.transAxes, ha="center", va="center", color="#555555")
    ax.set_ylabel(m.unit)
    ax.set_xlabel("Year to 31 March")
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
    plots.set_title(ax, m.label, width_in=SMALL - 0.8)
    fig.legend(handles=handles, loc="outside lower center", ncols=2, frameon=False, handlelength=1.4)
    return fig


@plots.styled
def fig_scatter(fit: LaFit) -> Figure:
    """Model (mean over seeds) against published, one dot per LA, with the line of equality and
    the mean absolute error and correlation printed."""
    m = fit.measure
    fig, ax = _small(3.6)
    ok = np.isfinite(fit.x) & np.isfinite(fit.y)
    x, y = fit.x[ok], fit.y[ok]
    ax.scatter(x, y, s=14, color=MODEL, alpha=0.75, linewidths=0)
    if ok.any():
        lo = float(min(x.min(), y.min(), 0.0))
        hi = float(max(x.max(), y.max())) * 1.05 or 1.0
        ax.plot([lo, hi], [lo, hi], color="#555555", linewidth=0.9)
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
    r = "-" if not np.isfinite(fit.correlation) else f"{fit.correlation:.2f}"
    ax.text(
        0.03, 0.97, f"MAE {fit.mae_text}\nr = {r}, {fit.n} LAs", transform=ax.transAxes, ha="left", va="top",
        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.5},
    )  # fmt: skip
    unit = "%" if m.kind == "share" else m.unit
    ax.set_xlabel(f"Published {fit.published_year} ({unit})")
    ax.set_ylabel(f"Model {fit.model_year} ({unit})")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(nbins=4))
        axis.set_major_formatter(FuncFormatter(_thousands))
    plots.set_title(ax, m.label, width_in=SMALL - 0.8)
    return fig
