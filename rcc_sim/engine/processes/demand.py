"""Demand: who enters care, when, with what needs, and when and how they leave.

Everything about a child that does not depend on policy - arrival time, LA, age, sex, needs tier,
siblings, UASC status, home point, planned exit time and route, and the uniforms that later
decide kinship care, staying put and pre-exit moves - is drawn here from the ``arrivals/<LA>``
and ``initial_stock`` streams, once per LA and year. Two runs with the same seed therefore see
the same children whatever their policies (common random numbers).

Exit hazards are piecewise constant in current age band and time in care (config ``exits``);
exit times are drawn by inverting the cumulative hazard on a monthly grid, vectorised over a
whole batch of children.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

import numpy as np
from librt.vecs import append, vec
from mypy_extensions import i64, mypyc_attr

from rcc_sim.config import Config
from rcc_sim.engine.agents import Child
from rcc_sim.engine.child import InCare
from rcc_sim.engine.processes import Context, Process
from rcc_sim.engine.processes.placement import provider_index
from rcc_sim.engine.recorder import bisect_right, ints, view
from rcc_sim.engine.sufficiency import CLASS_OF_PTYPE, HISTORY_YEARS, N_BANDS, N_CLASSES, StateHistory, add_counts
from rcc_sim.vocab import (
    ADOPTION,
    AGE_BAND_EDGES,
    AGE_GROUPS,
    CARE_PLAN,
    DAYS_PER_YEAR,
    DURATION_BAND_EDGES,
    EXIT_ROUTES,
    FOSTER_TYPES,
    HAZARD_ROUTES,
    OTHER_SETTING,
    WITH_PARENTS,
)

if TYPE_CHECKING:
    from rcc_sim.engine.processes.placement import Placement

DT: Final = 1.0 / 12.0  # years: grid step of the cumulative hazard
MAX_STEPS: Final = int(round(18 / DT))
MIDPOINTS: Final = (np.arange(MAX_STEPS) + 0.5) * DT  # years: midpoints of the grid's steps (entry ages, offsets)
ROUTE_INDEX: Final = np.array([EXIT_ROUTES.index(r) for r in HAZARD_ROUTES])  # hazard route -> EXIT_ROUTES
AT_18: Final = -1
# a child's own uniforms deciding later events (common random numbers), in the order drawn
_OWN_UNIFORMS: Final = ("u_kin", "u_other", "u_pre", "u_lead", "u_18", "u_plan")
STAYING_PUT: Final = EXIT_ROUTES.index("staying_put")
INDEPENDENT: Final = EXIT_ROUTES.index("independent_living")
OTHER_EXIT: Final = EXIT_ROUTES.index("other")
ADOPTED: Final = EXIT_ROUTES.index("adopted")
RETURNED_HOME: Final = EXIT_ROUTES.index("returned_home")
UASC_HAZARD_MULTIPLIER: Final = (
    0.3  # ASSUMPTION: unaccompanied children rarely return home or are adopted; most leave at 18
)


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # see rcc_sim.engine.compiled
class Record:
    """One child of an arrivals/stock batch (all float64, as drawn): a native class in the compiled
    engine, read field by field as each child is admitted."""

    def __init__(
        self,
        t: float,
        la: float,
        age: float,
        male: float,
        tier: float,
        uasc: float,
        group: float,
        lat: float,
        lon: float,
        exit_in: float,
        route: float,
        u_kin: float,
        u_other: float,
        u_pre: float,
        u_lead: float,
        u_18: float,
        u_plan: float,
        in_care: float,
    ):
        self.t = t  # model day of arrival
        self.la = la  # LA index
        self.age = age  # years
        self.male = male
        self.tier = tier  # needs tier (NEEDS_TIERS)
        self.uasc = uasc
        self.group = group  # sibling group id, -1 if none
        self.lat = lat  # home point
        self.lon = lon
        self.exit_in = exit_in  # days to the planned exit
        self.route = route  # planned exit route (EXIT_ROUTES index) or AT_18
        self.u_kin = u_kin  # the child's own uniforms deciding later events (common random numbers)
        self.u_other = u_other
        self.u_pre = u_pre
        self.u_lead = u_lead
        self.u_18 = u_18
        self.u_plan = u_plan
        self.in_care = in_care  # days in care at arrival (base-date stock only)


# the columns of an arrivals/stock batch, in the order of Record's fields (all float64)
FIELDS: Final = (
    "t",
    "la",
    "age",
    "male",
    "tier",
    "uasc",
    "group",
    "lat",
    "lon",
    "exit_in",
    "route",
    "u_kin",
    "u_other",
    "u_pre",
    "u_lead",
    "u_18",
    "u_plan",
    "in_care",
)


def _first_step(offset: float, last_step: float) -> float:
    """The first grid step at whose midpoint a band edge ``offset`` years ahead is reached, in
    0..``last_step``: numpy's ``clip(ceil(offset / DT - 0.5), 0, last_step)`` (the clip taken first:
    the same for every finite offset; the ceiling of a number in 0..``last_step`` is then its
    whole part, plus one if it has a fraction)."""
    c = min(max(offset / DT - 0.5, 0.0), last_step)
    whole = float(int(c))
    return whole + 1.0 if whole < c else whole


def _sort(v: vec[float]) -> None:
    """Sort a short vector in place (insertion sort: a child's dozen segment bounds)."""
    for i in range(1, len(v)):
        x = v[i]
        j = i - 1
        while j >= 0 and v[j] > x:
            v[j + 1] = v[j]
            j -= 1
        v[j + 1] = x


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # see rcc_sim.engine.compiled
class ExitSampler:
    """Draws time to exit (years) and route from the piecewise-constant hazards."""

    def __init__(self, cfg: Config):
        e = cfg.exits
        # rate[route, age band, duration band]
        self.rate = np.array(
            [
                [np.array(getattr(e, r))[a] * np.array(getattr(e, f"{r}_duration")) for a in range(5)]
                for r in HAZARD_ROUTES
            ]
        )
        self.total = self.rate.sum(axis=0)  # (age band, duration band)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.route_cdf = np.cumsum(self.rate / np.where(self.total > 0, self.total, 1), axis=0)
        self.age_edges = np.array(AGE_BAND_EDGES[1:-1])
        self.dur_edges = np.array(DURATION_BAND_EDGES[1:])
        # the same tables as vectors, read natively by sample: the edges, the total hazard
        # flat by (age band, duration band) and the route cdf flat by (route, age band, duration band)
        self._age_edges = vec[float](self.age_edges.tolist())
        self._dur_edges = vec[float](self.dur_edges.tolist())
        self._n_dur = int(self.total.shape[1])
        self._n_age = int(self.total.shape[0])
        self._total = vec[float](self.total.ravel().tolist())
        self._route_cdf = vec[float](self.route_cdf.ravel().tolist())
        self._route_index = vec[i64](ROUTE_INDEX.tolist())

    def _hazard_grid(self, age0: np.ndarray, dur0: np.ndarray, mult: np.ndarray):
        s = MIDPOINTS
        age = age0[:, None] + s[None, :]
        ab = np.searchsorted(self.age_edges, age, side="right")
        db = np.searchsorted(self.dur_edges, dur0[:, None] + s[None, :], side="right")
        h = self.total[ab, db] * mult[:, None]
        h[age >= 18.0] = 0.0
        return h, ab, db

    def sample(
        self, age0: np.ndarray, dur0: np.ndarray, mult: np.ndarray, e: np.ndarray, u: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Years to exit and route (EXIT_ROUTES index, or AT_18) for children now aged ``age0``
        with ``dur0`` years in care; ``e`` ~ Exp(1) and ``u`` ~ U(0,1) are the child's own draws.

        The hazard on the monthly grid (bands taken at each step's midpoint, 0 from 18) is
        constant between the steps where the child crosses an age or duration band edge, so the
        cumulative hazard is summed over at most ten such segments per child rather than over
        216 monthly steps; within the segment where it reaches ``e`` the exit step and time are
        those of the step-by-step inversion (:meth:`sample_on_grid`, the reference).

        Child by child, natively (a vector of each child's segment bounds, sorted in place): the
        same arithmetic, operation for operation, as the numpy version it replaced (2026-12-07)
        and so the same bits (checked on 800,000 children, extreme multipliers included), in half
        its time compiled (24.6 -> 12.0 ms for a year's 33,000 England arrivals); not compiled
        (``RCC_SIM_ENGINE=python``) it is the slower, about 0.3 s a year."""
        ages: list[float] = age0.tolist()
        durs: list[float] = dur0.tolist()
        mults: list[float] = mult.tolist()
        es: list[float] = e.tolist()
        us: list[float] = u.tolist()
        years_out, route_out = vec[float](), vec[i64]()
        age_edges, dur_edges = self._age_edges, self._dur_edges
        total, route_cdf, route_index = self._total, self._route_cdf, self._route_index
        n_age, n_dur, n_routes = self._n_age, self._n_dur, len(route_index)
        n_age_edges, n_dur_edges = len(age_edges), len(dur_edges)
        n_bounds = n_age_edges + n_dur_edges + 3
        bounds = vec[float]([0.0] * n_bounds)
        last_step = float(MAX_STEPS)
        for i in range(len(ages)):
            a0, d0, mu, ei = ages[i], durs[i], mults[i], es[i]
            # the segments' bounds: 0, the grid steps at whose midpoint an edge is reached, the
            # grid's end; put in order (filled nearly in order: the age edges' steps, then 18's,
            # rise; only the duration edges' move)
            bounds[0] = 0.0
            nb = 1
            for x in age_edges:
                bounds[nb] = _first_step(x - a0, last_step)
                nb += 1
            bounds[nb] = _first_step(18.0 - a0, last_step)
            nb += 1
            for x in dur_edges:
                bounds[nb] = _first_step(x - d0, last_step)
                nb += 1
            bounds[nb] = last_step
            _sort(bounds)
            # the cumulative hazard segment by segment, until it reaches e
            cum = 0.0
            exits = False
            c0 = start_j = steps_j = hj = 0.0
            ab_j = db_j = 0
            ab = db = 0  # the bands at the segment's midpoint (bisect_right: they only rise)
            for s in range(n_bounds - 1):
                start = bounds[s]
                steps = bounds[s + 1] - start
                mid = (start + 0.5) * DT
                age = a0 + mid
                while ab < n_age_edges and not age < age_edges[ab]:
                    ab += 1
                while db < n_dur_edges and not d0 + mid < dur_edges[db]:
                    db += 1
                h = total[ab * n_dur + db] * mu
                if age >= 18.0:
                    h = 0.0
                before = cum
                cum = before + h * DT * steps
                if cum >= ei and steps > 0:
                    exits = True
                    c0, start_j, steps_j, ab_j, db_j = before, start, steps, ab, db
                    hj = h if h > 0 else 1.0
                    break
            to18 = max(18.0 - a0, 0.0)
            if not exits:
                years_out = append(years_out, to18)
                route_out = append(route_out, AT_18)
                continue
            # whole steps into the segment (at most its last), as numpy's minimum(floor(x), steps - 1);
            # a hazard so small that x overflows (extreme multipliers within the bounds) gives the
            # segment's last step and an infinite time, which the leaving at 18 caps
            q = hj * DT
            m = steps_j - 1.0
            if q > 0.0:
                x = (ei - c0) / q
                if x < m:
                    m = float(math.floor(x))
            k = start_j + m
            t_exit = k * DT + (ei - (c0 + m * hj * DT)) / hj
            years_out = append(years_out, t_exit if t_exit < to18 else to18)
            ui = us[i]
            r = 0
            for route in range(n_routes):
                if ui > route_cdf[(route * n_age + ab_j) * n_dur + db_j]:
                    r += 1
            route_out = append(route_out, route_index[min(r, n_routes - 1)])
        return view(years_out), ints(route_out)

    def sample_on_grid(self, age0, dur0, mult, e, u, chunk: int = 8192):
        """:meth:`sample` step by step on the monthly grid (the reference it is tested against)."""
        n = len(age0)
        years = np.empty(n)
        route = np.empty(n, dtype=np.int64)
        for lo in range(0, n, chunk):
            sl = slice(lo, lo + chunk)
            h, ab, db = self._hazard_grid(age0[sl], dur0[sl], mult[sl])
            cum = np.cumsum(h * DT, axis=1)
            hit = cum >= e[sl, None]
            exits = hit.any(axis=1)
            k = np.argmax(hit, axis=1)
            rows = np.arange(len(k))
            prev = np.where(k > 0, cum[rows, k - 1], 0.0)
            hk = np.where(h[rows, k] > 0, h[rows, k], 1.0)
            t_exit = k * DT + (e[sl] - prev) / hk
            to18 = np.maximum(18.0 - age0[sl], 0.0)
            years[sl] = np.where(exits, np.minimum(t_exit, to18), to18)
            cdf = self.route_cdf[:, ab[rows, k], db[rows, k]]  # (routes, n)
            r = (u[sl][None, :] > cdf).sum(axis=0).clip(0, len(HAZARD_ROUTES) - 1)
            route[sl] = np.where(exits, ROUTE_INDEX[r], AT_18)
        return years, route

    def cumulative_hazard(self, entry_ages: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(C, gone): C[j, k] is the cumulative hazard (multiplier 1) of a child entering at
        ``entry_ages[j]`` after k+1 grid steps; ``gone[j, k]`` is True once the child is 18. The
        hazard is proportional to the multiplier, so the survival at multiplier m is exp(-m C)."""
        h, _, _ = self._hazard_grid(entry_ages, np.zeros_like(entry_ages), np.ones(len(entry_ages)))
        gone = entry_ages[:, None] + (np.arange(MAX_STEPS) + 1)[None, :] * DT >= 18.0
        return np.cumsum(h * DT, axis=1), gone


def weighted_choice(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    """``size`` indices into ``weights`` (non-negative, not all 0), each drawn with probability
    proportional to its weight: ``rng.choice(len(weights), size, p=weights / weights.sum())``, the
    same draws, without ``choice``'s check that the probabilities sum to 1 (a compensated sum over
    every cell: a third of its time on the steady state's 93,312 cells, 153 times a set-up)."""
    total = weights.sum()
    if not total > 0:  # 0 or NaN: numpy's choice would refuse too
        raise ValueError(f"weighted_choice: the weights sum to {total}, not a positive number")
    cdf = np.cumsum(weights / total)
    cdf /= cdf[-1]
    return cdf.searchsorted(rng.random(size), side="right")


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # see rcc_sim.engine.compiled
class SteadyState:
    """The stock a constant flow of entrants builds under the exit hazards, per hazard multiplier.

    Entrants arrive at each monthly entry age with weight ``entry[u][j]`` (u: not UASC, UASC, whose
    hazards carry ``factors[u]``); a child entering at age j is still in care after k+1 steps with
    probability exp(-m factors[u] C[j, k]) (0 once 18). In steady state the stock is the entrants'
    expected time in care and the exit rate (ceased per child in care) is its inverse. Because
    every child leaves at 18 whatever the multiplier, the rate grows less than in proportion to it:
    :meth:`multipliers` inverts it, so that an LA whose published exit rate is r times England's
    gets the multiplier whose steady-state rate is r times that of multiplier 1."""

    GRID = np.geomspace(0.05, 20.0, 121)  # multipliers at which the rate is tabulated

    def __init__(self, exits: ExitSampler, entry: Sequence[np.ndarray], factors: Sequence[float]):
        self.c, self.gone = exits.cumulative_hazard(MIDPOINTS)
        # half the (entry age, steps) grid is past 18: its survival is 0 whatever the multiplier,
        # so the exponentials are taken over the other half only (the same values where taken)
        self._in_care = ~self.gone
        self._c_in_care = self.c[self._in_care]
        self.entry, self.factors = [np.asarray(e, dtype=float) for e in entry], list(factors)
        self.stay = np.array([self.weights(m).sum() for m in self.GRID])  # stock per unit of entry weight

    def weights(self, mult: float) -> np.ndarray:
        """Stock weights by (u, entry step j, steps in care k), flattened in that order."""
        out = []
        for p, f in zip(self.entry, self.factors, strict=True):
            s = np.zeros(self.c.shape)
            s[self._in_care] = np.exp(-mult * f * self._c_in_care)
            out.append((p[:, None] * s).ravel())
        return np.concatenate(out)

    def multipliers(self, ratio: np.ndarray) -> np.ndarray:
        """The hazard multiplier whose steady-state exit rate is ``ratio`` times multiplier 1's (log-log
        interpolation on :attr:`GRID`, held at its ends)."""
        rate = self.stay[0] / self.stay  # exit rate relative to the grid's first point: increasing in m
        at1 = np.exp(np.interp(0.0, np.log(self.GRID), np.log(rate)))
        target = np.log(np.maximum(np.asarray(ratio, dtype=float), 1e-9) * at1)
        return np.exp(np.interp(target, np.log(rate), np.log(self.GRID)))


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # see rcc_sim.engine.compiled
class Demand(Process):
    """Children entering and leaving care: the base-date stock, each year's arrivals (drawn as
    column batches), admission and placement at entry, the moves planned before an exit, exits,
    and the 31 March census of the children in care."""

    name = "demand"
    needs = ("placement",)
    placement: Placement

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        cfg, streams = ctx.cfg, ctx.streams
        self.cfg, self.streams = cfg, streams
        self._bespoke_draw = streams.draws("bespoke_packages")
        self._bespoke_share = cfg.market.bespoke_share
        self._staying_put = cfg.exits.staying_put_if_fostered  # read on every exit at 18
        self._independent_at_18 = cfg.exits.independent_living_at_18
        self._on_exit, self._on_pre_exit_move = self._exit, self._pre_exit_move  # bound once (see Placement)
        self.children = InCare()  # in order of admission
        self.arrivals_this_year: list[list[Record]] = []
        self.exits = ExitSampler(cfg)
        self.n_years = math.ceil(cfg.sim.years) + cfg.sim.spin_up_years  # years the model runs
        live = ctx.rec.live
        self._cic, self._uasc = live["children_in_care"], live["uasc"]
        self._complex_needs = live["complex_needs"]
        self._starts, self._starts_age = live["starts"], live["starts_by_age"]
        self._ceased, self._ceased_age = live["ceased"], live["ceased_by_age"]
        self._n_routes, self._n_ages = len(EXIT_ROUTES), len(AGE_GROUPS)
        self._age_edge_vec = vec[float](list(AGE_BAND_EDGES[1:-1]))  # inner age-band edges (bisect_right, numpy)
        self.history = StateHistory(ctx.world.n_la, HISTORY_YEARS)  # by state at each 31 March (sufficiency.py)
        d = cfg.demand
        self.age_shares = np.array(d.start_age_shares)
        self.uasc_share = np.array(d.uasc_share_of_starts)
        self.tier_cdf = np.cumsum(
            np.array(
                [
                    d.needs_shares_under10,
                    d.needs_shares_under10,
                    d.needs_shares_under10,
                    d.needs_shares_10_15,
                    d.needs_shares_16_17,
                ]
            ),
            axis=1,
        )
        self.group_p = np.array(d.sibling_group_size_shares)
        # Siblings arrive with the child they come with and are under 16; the first child's age
        # mix is set so that all entrants together follow the published start age mix.
        groupable = np.r_[1 - self.uasc_share[:4], 0.0]
        self.children_per_lead = 1 + groupable * ((np.arange(1, 5) * self.group_p).sum() - 1)
        lead = self.age_shares / self.children_per_lead
        self.lead_shares = lead / lead.sum()
        self._group_counter = 0
        # a spin-up's first-day stock: kinship care at the start year's published level
        self._kin_start = cfg.placement.kinship_at_spin_up_start if cfg.sim.spin_up_years > 0 else 1.0
        self._kin_p: dict[tuple[int, int, bool], float] = {}  # _kinship_p by (year, band, initial)
        # entrants by monthly entry age (not UASC, UASC) in the year to the start date, their steady
        # state, and each LA's exit-hazard multiplier from its published exit rate
        uasc_share = self.uasc_share * ctx.world.uasc_factor(-1)
        band = np.searchsorted(np.array(AGE_BAND_EDGES[1:-1]), MIDPOINTS, side="right")
        mix = self.age_shares[band] / np.diff(AGE_BAND_EDGES)[band] * DT
        self.steady = SteadyState(
            self.exits, [mix * (1 - uasc_share[band]), mix * uasc_share[band]], [1.0, UASC_HAZARD_MULTIPLIER]
        )
        e = cfg.exits
        ratio = ctx.world.exit_rate_ratio
        mult = self.steady.multipliers(ratio) if e.by_la_steady_state else np.asarray(ratio, dtype=float)
        lo, hi = e.by_la_range
        self.exit_multiplier = np.clip(mult, lo, hi)  # per LA

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _uniform_age(band: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Ages uniform within each age band, from the uniforms ``u``."""
        lo = np.array(AGE_BAND_EDGES[:-1])[band]
        hi = np.array(AGE_BAND_EDGES[1:])[band]
        return lo + (hi - lo) * u

    def _tiers(self, age: np.ndarray, u: np.ndarray) -> np.ndarray:
        band = np.searchsorted(np.array(AGE_BAND_EDGES[1:-1]), age, side="right")
        return (u[:, None] > self.tier_cdf[band]).sum(axis=1).clip(0, 3)

    @staticmethod
    def _finish_draws(rng, n: int) -> dict[str, np.ndarray]:
        """The per-child draws of :meth:`_finish` for ``n`` children, in the order the stream
        gives them (the same for arrivals and the stock)."""
        draws = {"u_male": rng.random(n), "u_tier": rng.random(n)}
        draws["e"], draws["u"] = rng.exponential(size=n), rng.random(n)
        for k in _OWN_UNIFORMS:
            draws[k] = rng.random(n)
        return draws

    def _finish(self, cols: dict, draws: dict[str, np.ndarray], dur0: np.ndarray) -> dict:
        """The per-child attributes shared by arrivals and stock, from their draws
        (:meth:`_finish_draws`). The exit draws are kept as columns (``dur0``, ``mult``, ``e``,
        ``u``) for :meth:`_sample_exits`."""
        uasc = cols["uasc"].astype(bool)
        cols["male"] = (
            draws["u_male"] < np.where(uasc, self.cfg.demand.uasc_male_share, self.cfg.demand.male_share)
        ).astype(float)
        cols["tier"] = self._tiers(cols["age"], draws["u_tier"]).astype(float)
        cols["e"], cols["u"] = draws["e"], draws["u"]
        cols["mult"] = np.where(uasc, UASC_HAZARD_MULTIPLIER, 1.0) * self.exit_multiplier[cols["la"].astype(int)]
        cols["dur0"] = dur0
        for k in _OWN_UNIFORMS:
            cols[k] = draws[k]
        return cols

    def _sample_exits(self, cols: dict) -> dict:
        """Each child's time to exit and route (``exit_in``, ``route``) from its own exit draws
        (:meth:`_finish`). The sampler works row by row, so one call over every LA's arrivals
        gives each child what a call over its own LA's batch would (tests/test_engine.py), with
        numpy's per-call overhead paid once a year instead of once per LA."""
        dur0, mult, e, u = (cols.pop(k) for k in ("dur0", "mult", "e", "u"))
        years, route = self.exits.sample(cols["age"], dur0, mult, e, u)
        cols["exit_in"] = years * DAYS_PER_YEAR
        cols["route"] = route.astype(float)
        return cols

    # ------------------------------------------------------------------ arrivals
    def arrivals(self, las: Sequence[int], t0: float, t1: float, year_index: int) -> dict[str, np.ndarray]:
        """Children entering care in the LAs ``las`` between model days ``t0`` and ``t1``, LA
        after LA (each LA's rows together, in the order of ``las``), with their exit draws not yet
        turned into exits (:meth:`_sample_exits`).

        Each LA draws from its own stream (``arrivals/<code>``), in the same order whatever the
        other LAs draw (common random numbers); the arithmetic on the draws is then done once over
        every LA's rows: element by element, so the same numbers as LA by LA, with numpy's per-call
        overhead paid once a year rather than once per LA (about half of this step's time)."""
        d = self.cfg.demand
        starts = self.world.starts_by_year(year_index)
        uasc_share = self.uasc_share_in(year_index)
        per_event = (self.lead_shares * self.children_per_lead).sum()  # children per arriving group
        parts: dict[str, list[np.ndarray]] = {}
        for la in las:
            rng = self.streams(f"arrivals/{self.world.codes[la]}")
            rate = starts[la] * d.entry_rate_scale * (1 + d.entry_trend_per_year) ** year_index
            rate *= (t1 - t0) / DAYS_PER_YEAR
            n_events = rng.poisson(rate / per_event)
            band = rng.choice(5, size=n_events, p=self.lead_shares)
            u_age = rng.random(n_events)
            uasc = rng.random(n_events) < uasc_share[band]
            size = np.where((band < 4) & ~uasc, rng.choice(4, size=n_events, p=self.group_p) + 1, 1)
            t = np.sort(t0 + (t1 - t0) * rng.random(n_events))
            home = self.world.sample_points(la, n_events, rng)
            n = int(size.sum())  # children: each group's size
            drawn = {"band": band, "u_age": u_age, "uasc": uasc, "size": size, "t": t, "home": home}
            drawn["la"] = np.full(n, float(la))
            drawn["sibling_age"] = rng.normal(0, 3.0, n)
            drawn.update(self._finish_draws(rng, n))
            for k, v in drawn.items():
                parts.setdefault(k, []).append(v)
        if not parts:
            return {}
        a = {k: np.concatenate(v) for k, v in parts.items()}
        size = a["size"]
        age = self._uniform_age(a["band"], a["u_age"])
        rep = np.repeat(np.arange(len(size)), size)  # each child's group (its row of the groups)
        n = len(rep)
        first = np.r_[True, rep[1:] != rep[:-1]]  # the group's first child
        sib_age = np.clip(age[rep] + np.where(first, 0.0, a["sibling_age"]), 0.0, 15.99)
        sib_age = np.where(size[rep] > 1, sib_age, age[rep])
        groups = np.where(size[rep] > 1, self._group_counter + rep, -1)
        self._group_counter += len(size)
        cols = {
            "t": a["t"][rep],
            "la": a["la"],
            "age": sib_age,
            "uasc": a["uasc"][rep].astype(float),
            "group": groups.astype(float),
            "lat": a["home"][rep, 0],
            "lon": a["home"][rep, 1],
            "in_care": np.zeros(n),
        }
        return self._finish(cols, a, np.zeros(n))

    # ------------------------------------------------------------------ initial stock
    def initial_stock(self) -> dict[str, np.ndarray]:
        """Children in care at the base date, per LA as published, with ages and times in care
        drawn from the steady state implied by the entry age mix and the exit hazards: each LA's own
        (its exit multiplier; ``exits.by_la_steady_state``), or England's for every LA."""
        rng = self.streams("initial_stock")
        w = self.world
        counts = np.where(w.simulated, w.stock, 0)
        n = int(counts.sum())
        la = np.repeat(np.arange(w.n_la), counts)
        if self.cfg.exits.by_la_steady_state:
            cell = np.empty(n, dtype=np.int64)
            ends = np.cumsum(counts)  # ``la`` holds each LA's children together, in LA order
            for i in np.flatnonzero(counts):
                wl = self.steady.weights(float(self.exit_multiplier[i]))
                cell[ends[i] - counts[i] : ends[i]] = weighted_choice(rng, wl, int(counts[i]))
        else:
            cell = weighted_choice(rng, self.steady.weights(1.0), n)
        uasc_of = cell // (MAX_STEPS * MAX_STEPS)
        j, k = np.divmod(cell % (MAX_STEPS * MAX_STEPS), MAX_STEPS)
        entry_age = MIDPOINTS[j] + (rng.random(n) - 0.5) * DT
        in_care = (k + rng.random(n)) * DT
        age = np.minimum(entry_age + in_care, 17.999)
        if not self.cfg.exits.by_la_steady_state:  # England's stock shared out among the LAs
            la = la[rng.permutation(n)]
        home = np.empty((n, 2))
        for i in np.flatnonzero(counts):
            idx = np.flatnonzero(la == i)
            home[idx] = w.sample_points(int(i), len(idx), rng)
        cols = {
            "t": np.zeros(n),
            "la": la.astype(float),
            "age": age,
            "uasc": uasc_of.astype(float),
            "group": np.full(n, -1.0),
            "lat": home[:, 0],
            "lon": home[:, 1],
            "in_care": in_care * DAYS_PER_YEAR,
        }
        cols = self._sample_exits(self._finish(cols, self._finish_draws(rng, n), in_care))
        # Secure-welfare need is transient (orders last months): entry shares would put ~900 of the
        # stock in that tier. Keep the published number needing secure care; the rest very complex.
        secure = np.flatnonzero(cols["tier"] == 3)
        keep = int(round(self.cfg.demand.initial_secure_tier_children * counts.sum() / max(w.stock.sum(), 1)))
        if len(secure) > keep:
            cols["tier"][rng.choice(secure, size=len(secure) - keep, replace=False)] = 2.0
        order = np.argsort(-cols["in_care"], kind="stable")  # longest in care are placed first
        return {k: v[order] for k, v in cols.items()}

    # ------------------------------------------------------------------ as a process
    def build(self) -> None:
        """The children in care at the base date, placed in order of time in care (longest first)."""
        for group in _records(self.initial_stock()):
            self._admit_group(group, initial=True)
        for child in self.children.values():  # ASSUMPTION: a base-date placement began halfway through the time in care
            self.placement.backdate(child, child.entry_t / 2.0)

    def schedule_arrivals(self, year_index: int) -> None:
        """Put the year's arrivals on the clock, LA by LA, in order of arrival."""
        ends = self.clock.week_ends
        yend = [e for i, e in enumerate(ends) if (i + 1) % 52 == 0]
        t0 = 0.0 if year_index == 0 else yend[year_index - 1]
        t1 = yend[year_index] if year_index < len(yend) else ends[-1]
        cols = self.arrivals([int(la) for la in self.world.sim_index], t0, t1, year_index)
        if not cols:  # no LA simulated
            self.arrivals_this_year = []
            return
        cols = self._sample_exits(cols)  # every LA's arrivals' exits at once
        groups = _records(cols)
        groups.sort(key=lambda g: g[0].t)  # stable: ties keep LA order
        self.arrivals_this_year = groups  # (read by the common-random-numbers tests)
        now = self.clock.now
        for g in groups:
            self.clock.at(g[0].t - now, self._admit_group, g, False)

    def schedule_next_year(self) -> None:
        """Yearly: next year's arrivals (if the run goes on)."""
        y = self.clock.year_index()
        if y + 1 < self.n_years:
            self.schedule_arrivals(y + 1)

    def census_31_march(self) -> None:
        """Yearly, at 31 March: the annual measures that need every child (3+ placements in the
        year, long-term stability, age), the state history the forecasts learn from, then each
        child's placement count restarts at one. In a spin-up year whose outputs are not kept
        (``Recorder.first_year``) only the state history and the restart."""
        rec, y = self.rec, self.clock.year_index()
        ann = rec.annual
        t, n_la = self.clock.now, self.world.n_la
        kids = self.children.values()
        keep = y >= rec.first_year
        # the columns in one pass over the children (each child read once: they are scattered in
        # memory), into vectors of C ints and doubles (no int or float object made per child;
        # numpy reads them without a copy)
        las, ptypes, states, counts, providers = vec[i64](), vec[i64](), vec[i64](), vec[i64](), vec[i64]()
        births, entries, sinces = vec[float](), vec[float](), vec[float]()
        for c in kids:
            las = append(las, c.la)
            ptypes = append(ptypes, c.ptype)
            states = append(states, c.census_state)
            births = append(births, c.birth_t)
            if keep:
                counts = append(counts, c.placements_this_year)
                entries = append(entries, c.entry_t)
                sinces = append(sinces, c.same_placement_since)
                providers = append(providers, provider_index(c))
        la, ptype, previous = ints(las), ints(ptypes), ints(states)
        age = (t - view(births)) / DAYS_PER_YEAR  # Child.age
        band = np.searchsorted(view(self._age_edge_vec), age, side="right")  # bisect.bisect_right
        if keep:
            ann["children_in_care_31mar"][y] = rec.stock["children_in_care"]
            placements, entered, since = ints(counts), view(entries), view(sinces)
            ann["three_plus_placements"][y] += np.bincount(la[placements >= 3], minlength=n_la)
            provider = ints(providers)
            add_counts(ann["placements_by_provider_31mar"][y], (la, provider))
            eligible = (age < 16.0) & (t - entered >= 2.5 * DAYS_PER_YEAR)
            stable = eligible & (t - since >= 2 * DAYS_PER_YEAR)
            ann["long_term_eligible"][y] += np.bincount(la[eligible], minlength=n_la)
            ann["long_term_stable"][y] += np.bincount(la[stable], minlength=n_la)
            add_counts(ann["children_in_care_by_age_31mar"][y], (la, band))
        state = np.minimum(band, N_BANDS - 1) * N_CLASSES + np.asarray(CLASS_OF_PTYPE)[ptype]
        self.history.census(la, previous, state)
        for child, s in zip(kids, state.tolist()):
            child.placements_this_year = 1
            child.census_state = s

    # ------------------------------------------------------------------ children arriving
    def _admit_group(self, group: list[Record], initial: bool) -> None:
        """Create the children of an arriving group (or one of the base-date stock) and place them."""
        t = self.clock.now
        children = []
        p = self.cfg.placement
        agents, edges = self.ctx.agents, self._age_edge_vec
        for r in group:
            la = int(r.la)
            child = Child(
                agents,
                la,
                r.lat,
                r.lon,
                birth_t=t - r.age * DAYS_PER_YEAR,
                entry_t=t - r.in_care,
                male=r.male > 0,
                tier=int(r.tier),
                uasc=r.uasc > 0,
                group=int(r.group),
                exit_t=t + r.exit_in,
                route=int(r.route),
            )
            child.u_18 = r.u_18
            if self._bespoke_share > 0:  # own stream: other draws are the same whatever the share
                child.bespoke = self._bespoke_draw.random() < self._bespoke_share
            child.supported_first = r.u_plan < p.supported_first_16_17
            self.children.add(child)
            child.in_care = True
            self._cic[la] = self._cic[la] + 1.0
            self._complex_needs[la] = self._complex_needs[la] + float(child.tier >= 1)
            self._uasc[la] = self._uasc[la] + float(child.uasc)
            if not initial:
                self._starts[la] = self._starts[la] + 1.0
                j = la * self._n_ages + bisect_right(edges, r.age)
                self._starts_age[j] = self._starts_age[j] + 1.0
            self.clock.at(r.exit_in, self._on_exit, child)
            if child.tier == 3:  # needing secure welfare care on arrival (or at the base date)
                self.placement.secure_need(child, referral=not initial)
            children.append(child)
        children, group = self._place_secure_siblings(children, group)
        if not children:
            return
        lead = group[0]
        band = bisect_right(edges, lead.age)
        placement = self.placement
        pre = [self._pre_exit_plan(c, r) for c, r in zip(children, group)]
        if any(x is not None and x[0] <= t for x in pre):  # already placed with parents / for adoption
            for c, x in zip(children, pre):
                if x is not None and x[0] <= t:
                    placement.place_without_search(c, x[1])
                else:
                    placement.search_and_place(c)
        elif lead.u_other < p.other_setting_at_entry[band]:
            for c in children:
                placement.place_without_search(c, OTHER_SETTING)
        elif lead.uasc == 0 and lead.u_kin < self._kinship_p(band, initial):
            placement.place_kinship(children)
        else:
            placement.place_new(children)
            if not initial:
                placement.plan_first_move(children)
        for c, x in zip(children, pre):
            if x is not None and x[0] > t:
                self.clock.at(x[0] - t, self._on_pre_exit_move, c, x[1])

    def uasc_share_in(self, year_index: int) -> np.ndarray:
        """The UASC share of arriving groups by age band in simulated year ``year_index``."""
        return self.uasc_share * self.world.uasc_factor(year_index)

    def _kinship_p(self, band: int, initial: bool = False) -> float:
        """Probability that a group led by a child who is not an unaccompanied asylum seeker
        enters kinship foster care. ``placement.kinship_at_entry`` is per group of the age band,
        all groups counted; unaccompanied children have no connected person here to care for them
        (ASSUMPTION; DfE CLA: hardly any are in kinship care), so the others' probability is scaled
        by 1 / (1 - the band's UASC share of groups this year) to keep the band's kinship entries.
        ``initial``: a group of the first day's stock, scaled to the start year's level at a spin-up."""
        key = (self.clock.year_index(), band, initial)
        p = self._kin_p.get(key)
        if p is None:  # once per year, band and stock/arrival (it is asked for every arriving group)
            uasc = min(self.uasc_share_in(key[0])[band], 0.99)
            p = min(self.cfg.placement.kinship_at_entry[band] / (1.0 - uasc), 1.0)
            p = self._kin_p[key] = p * self._kin_start if initial else p
        return p

    def _place_secure_siblings(self, children: list[Child], group: list[Record]) -> tuple[list[Child], list[Record]]:
        """A sibling needing secure welfare care on arrival is placed on its own (a secure home,
        or held unregistered), never with its siblings in a foster or kinship home. Returns the
        rest of the group (children and their records) to place together."""
        if len(children) == 1 or all(c.tier != 3 for c in children):
            return children, group
        for c in children:
            if c.tier == 3:
                self.placement.search_and_place(c)
        rest = [(c, r) for c, r in zip(children, group) if c.tier != 3]
        return [c for c, _ in rest], [r for _, r in rest]

    def _pre_exit_plan(self, child: Child, r: Record) -> tuple[float, int] | None:
        """(day, placement type) of the planned move that precedes the child's exit, or None:
        placed for adoption before an adoption order; placed with parents before most returns home."""
        p = self.cfg.placement
        if child.route == ADOPTED:
            lead_years, ptype = p.adoption_placement_lead_years, ADOPTION
        elif child.route == RETURNED_HOME and not child.uasc and r.u_pre < p.with_parents_before_return_home:
            # an unaccompanied child's parents are abroad: no placement with parents (ASSUMPTION)
            lead_years, ptype = p.with_parents_lead_years, WITH_PARENTS
        else:
            return None
        lead = -math.log1p(-r.u_lead) * lead_years * DAYS_PER_YEAR
        return child.exit_t - lead, ptype

    def _pre_exit_move(self, child: Child, ptype: int) -> None:
        if child.in_care and child.ptype != ptype:
            self.placement.move(child, CARE_PLAN, None, ptype=ptype)

    # ------------------------------------------------------------------ children leaving
    def _exit(self, child: Child) -> None:
        if not child.in_care:  # (its flag: a lookup of the id in the children costs a boxed int and a hash probe)
            return
        route = child.route
        if route == AT_18:
            p_stay = self._staying_put
            fostered = child.ptype in FOSTER_TYPES
            u = child.u_18
            if fostered and u < p_stay:
                route = STAYING_PUT
            else:
                v = (u - p_stay) / (1 - p_stay) if fostered and p_stay < 1 else u
                route = INDEPENDENT if v < self._independent_at_18 else OTHER_EXIT
        self.placement.leave(child)
        la = child.la
        if child.census_state >= 0:
            self.history.exited(la, child.census_state)
        self._cic[la] = self._cic[la] - 1.0
        self._complex_needs[la] = self._complex_needs[la] - float(child.tier >= 1)
        self._uasc[la] = self._uasc[la] - float(child.uasc)
        j = la * self._n_routes + route
        self._ceased[j] = self._ceased[j] + 1.0
        age = child.age(self.clock.now)
        band = 5 if age >= 17.999 else bisect_right(self._age_edge_vec, age)
        j = la * self._n_ages + band
        self._ceased_age[j] = self._ceased_age[j] + 1.0
        self.children.remove(child)
        child.in_care = False


def _records(cols: dict) -> list[list[Record]]:
    """A column batch as groups of row records: siblings (same group id >= 0) together."""
    # each column as a vector of C doubles (numpy's buffer copied in one go), read natively by
    # position: no float object per cell (18 a row as lists, made and freed at once)
    c: list[vec[float]] = [vec[float](np.ascontiguousarray(cols[k], dtype=np.float64)) for k in FIELDS]
    n = len(c[0])
    if any(len(x) != n for x in c):
        raise ValueError("_records: the batch's columns differ in length")
    t, la, age, male, tier, uasc, group, lat, lon = c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]
    exit_in, route, u_kin, u_other, u_pre, u_lead = c[9], c[10], c[11], c[12], c[13], c[14]
    u_18, u_plan, in_care = c[15], c[16], c[17]
    rows = [  # a call with the fields spelled out: native when compiled (Record(*row) is not)
        Record(
            t[i], la[i], age[i], male[i], tier[i], uasc[i], group[i], lat[i], lon[i], exit_in[i], route[i],
            u_kin[i], u_other[i], u_pre[i], u_lead[i], u_18[i], u_plan[i], in_care[i],
        )
        for i in range(n)
    ]  # fmt: skip
    out: list[list] = []
    prev = None
    for r in rows:
        if r.group >= 0 and r.group == prev:
            out[-1].append(r)
        else:
            out.append([r])
        prev = r.group
    return out
