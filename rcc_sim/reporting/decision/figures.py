"""Charts: the net cost over the draws, the value of information, the tornado."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from rcc_sim.reporting import plots
from rcc_sim.reporting.decision.studies import VIEWS, PsaStudy
from rcc_sim.reporting.decision.words import gbp_m, net_cost, pct, ranked
from rcc_sim.studies import psa

TORNADO_TOP = 10  # swings shown in the table and the chart
INPUTS_SHOWN = 10  # single inputs in the value-of-information table before "the rest"


# ---------------------------------------------------------------------------------------------
# Charts
# ---------------------------------------------------------------------------------------------
SAVING, COST = plots.OKABE_ITO[2], plots.OKABE_ITO[1]


def _bins(x: np.ndarray) -> np.ndarray:
    """Equal bins with zero on an edge, so that no bar mixes savings and costs."""
    lo, hi = float(np.min(x)), float(np.max(x))
    k = int(np.clip(1.5 * np.sqrt(len(x)), 8, 40))
    w = (hi - lo) / k if hi > lo else 1.0
    start = np.floor(lo / w) * w
    return start + w * np.arange(int(np.ceil((hi - start) / w)) + 2)


@plots.styled
def fig_net_cost(study: PsaStudy, views: Sequence[str]) -> Figure:
    fig, axes = plots.new_figure(2.4 * len(views) + 1.2, len(views), 1, sharex=True)
    for ax, var in zip(axes[:, 0], views):
        v = net_cost(study, var)
        counts, edges = np.histogram(v["x"], _bins(v["x"]))
        mid = (edges[:-1] + edges[1:]) / 2
        ax.bar(mid, counts, width=np.diff(edges), color=[SAVING if m < 0 else COST for m in mid], edgecolor="white")
        ax.axvspan(v["p2_5"], v["p97_5"], color="#000000", alpha=0.08, linewidth=0)
        ax.axvline(0, color="#000000", linewidth=1.0)
        ax.axvline(v["mean"], color="#555555", linewidth=1.2, linestyle="--")
        ax.set_ylabel("draws")
        ax.grid(axis="x", visible=False)
        ax.set_title(f"{VIEWS[var][0]}: saves money in {pct(v['saves']['p'])} of {study.n} draws", loc="left")
    axes[-1, 0].set_xlabel("net present cost against the status quo (GBP m; negative = a saving)")
    handles = [
        Patch(color=SAVING, label="draws that save money"),
        Patch(color=COST, label="draws that cost more"),
        Line2D([], [], color="#555555", linestyle="--", linewidth=1.2, label="mean"),
        Patch(color="#000000", alpha=0.08, linewidth=0, label="95% of the draws"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=2, frameon=False)
    plots.wrap_titles(fig)
    return fig


@plots.styled
def fig_voi(voi: pd.DataFrame, n_inputs: int = 8) -> Figure:
    """EVPPI (GBP m) and R^2 of each group and the leading single inputs."""
    rows = pd.concat([ranked(voi, "group"), ranked(voi, "input").head(n_inputs)])
    labels = [("group: " if r["kind"] == "group" else "") + psa.short_name(str(r["name"])) for _, r in rows.iterrows()]
    fig, axes = plots.new_figure(0.3 * len(rows) + 1.9, 1, 2, sharey=True)
    y = np.arange(len(rows))
    colors = [plots.OKABE_ITO[0] if k == "group" else plots.OKABE_ITO[5] for k in rows["kind"]]
    for ax, col, xlabel in zip(axes[0], ("evppi_gbp_m", "r2"), ("EVPPI (GBP m)", "R\u00b2 (leave-one-out)")):
        ax.barh(y, rows[col].to_numpy(dtype=float), color=colors)
        ax.set_xlabel(xlabel)
        ax.grid(axis="y", visible=False)
    evpi = float(voi["evpi_gbp_m"].iloc[0])
    axes[0, 0].axvline(evpi, color="#000000", linewidth=1.0, linestyle=":")
    axes[0, 0].set_yticks(y, labels)
    axes[0, 0].invert_yaxis()
    axes[0, 0].set_ylabel("group or input")
    plots.set_title(axes[0, 0], "Worth knowing exactly", width_in=2.4)
    plots.set_title(axes[0, 1], "What sets the size", width_in=2.4)
    handles = [
        Patch(color=plots.OKABE_ITO[0], label="group learnt together"),
        Patch(color=plots.OKABE_ITO[5], label="single input"),
        Line2D([], [], color="#000000", linestyle=":", label=f"EVPI {evpi:,.2f} GBP m"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=3, frameon=False)
    return fig


@plots.styled
def fig_tornado(t: pd.DataFrame) -> Figure:
    """Public-sector NPC at each end of each input's range, against the base case."""
    t = t.head(TORNADO_TOP)
    base = float(t["npc_public_sector_base_gbp_m"].iloc[0])
    fig, axes = plots.new_figure(0.36 * len(t) + 1.9)
    ax = axes[0, 0]
    y = np.arange(len(t))
    for off, col, color, name in (
        (-0.18, "npc_public_sector_at_lo_gbp_m", plots.OKABE_ITO[0], "input at the low end of its range"),
        (0.18, "npc_public_sector_at_hi_gbp_m", plots.OKABE_ITO[1], "input at the high end"),
    ):
        v = t[col].to_numpy(dtype=float)
        ax.barh(y + off, v - base, left=base, height=0.36, color=color, label=name)
    ax.axvline(base, color="#000000", linewidth=1.0)
    ax.set_yticks(y, [psa.short_name(str(k)) for k in t["input"]])
    ax.invert_yaxis()
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(f"public-sector NPC (GBP m); base case {gbp_m(base)}")
    ax.set_ylabel("input")
    plots.set_title(ax, "Net present cost, one input at a time (public-sector view)", width_in=4.0)
    fig.legend(loc="outside lower center", ncols=2, frameon=False)
    return fig
