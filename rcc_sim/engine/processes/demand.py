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

import numpy as np

from rcc_sim.config import Config
from rcc_sim.vocab import AGE_BAND_EDGES, DAYS_PER_YEAR, DURATION_BAND_EDGES, EXIT_ROUTES, HAZARD_ROUTES

DT = 1.0 / 12.0  # years: grid step of the cumulative hazard
MAX_STEPS = int(round(18 / DT))
ROUTE_INDEX = np.array([EXIT_ROUTES.index(r) for r in HAZARD_ROUTES])  # hazard route -> EXIT_ROUTES
AT_18 = -1
UASC_HAZARD_MULTIPLIER = 0.3  # ASSUMPTION: unaccompanied children rarely return home or are adopted; most leave at 18

# columns of an arrivals/stock batch (all float64)
FIELDS = (
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

    def _hazard_grid(self, age0: np.ndarray, dur0: np.ndarray, mult: np.ndarray):
        s = (np.arange(MAX_STEPS) + 0.5) * DT
        age = age0[:, None] + s[None, :]
        ab = np.searchsorted(self.age_edges, age, side="right")
        db = np.searchsorted(self.dur_edges, dur0[:, None] + s[None, :], side="right")
        h = self.total[ab, db] * mult[:, None]
        h[age >= 18.0] = 0.0
        return h, ab, db

    def sample(self, age0, dur0, mult, e, u, chunk: int = 8192):
        """Years to exit and route (EXIT_ROUTES index, or AT_18) for children now aged ``age0``
        with ``dur0`` years in care; ``e`` ~ Exp(1) and ``u`` ~ U(0,1) are the child's own draws."""
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

    def survival_grid(self, entry_ages: np.ndarray, mult: float) -> np.ndarray:
        """S[j, k]: probability that a child entering at ``entry_ages[j]`` is still in care after
        k+1 grid steps (0 once 18)."""
        h, _, _ = self._hazard_grid(entry_ages, np.zeros_like(entry_ages), np.full(len(entry_ages), mult))
        s = np.exp(-np.cumsum(h * DT, axis=1))
        s[entry_ages[:, None] + (np.arange(MAX_STEPS) + 1)[None, :] * DT >= 18.0] = 0.0
        return s


class Demand:
    """Generates the initial stock and each year's arrivals as column batches."""

    def __init__(self, cfg: Config, world, streams):
        self.cfg, self.world, self.streams = cfg, world, streams
        self.exits = ExitSampler(cfg)
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

    # ------------------------------------------------------------------ helpers
    def _uniform_age(self, band: np.ndarray, rng) -> np.ndarray:
        lo = np.array(AGE_BAND_EDGES[:-1])[band]
        hi = np.array(AGE_BAND_EDGES[1:])[band]
        return lo + (hi - lo) * rng.random(len(band))

    def _tiers(self, age: np.ndarray, u: np.ndarray) -> np.ndarray:
        band = np.searchsorted(np.array(AGE_BAND_EDGES[1:-1]), age, side="right")
        return (u[:, None] > self.tier_cdf[band]).sum(axis=1).clip(0, 3)

    def _finish(self, cols: dict, rng, dur0: np.ndarray) -> dict:
        """Draw the per-child attributes shared by arrivals and stock (same order of draws)."""
        n = len(cols["age"])
        uasc = cols["uasc"].astype(bool)
        cols["male"] = (
            rng.random(n) < np.where(uasc, self.cfg.demand.uasc_male_share, self.cfg.demand.male_share)
        ).astype(float)
        cols["tier"] = self._tiers(cols["age"], rng.random(n)).astype(float)
        e, u = rng.exponential(size=n), rng.random(n)
        mult = np.where(uasc, UASC_HAZARD_MULTIPLIER, 1.0) * self.world.exit_multiplier[cols["la"].astype(int)]
        years, route = self.exits.sample(cols["age"], dur0, mult, e, u)
        cols["exit_in"] = years * DAYS_PER_YEAR
        cols["route"] = route.astype(float)
        for k in ("u_kin", "u_other", "u_pre", "u_lead", "u_18", "u_plan"):
            cols[k] = rng.random(n)
        return cols

    # ------------------------------------------------------------------ arrivals
    def arrivals(self, la: int, t0: float, t1: float, year_index: int) -> dict[str, np.ndarray]:
        """Children entering care in LA ``la`` between model days ``t0`` and ``t1``."""
        rng = self.streams(f"arrivals/{self.world.codes[la]}")
        d = self.cfg.demand
        rate = (
            self.world.starts_by_year(year_index)[la] * d.entry_rate_scale * (1 + d.entry_trend_per_year) ** year_index
        )
        rate *= (t1 - t0) / DAYS_PER_YEAR
        n_events = rng.poisson(rate / (self.lead_shares * self.children_per_lead).sum())
        band = rng.choice(5, size=n_events, p=self.lead_shares)
        age = self._uniform_age(band, rng)
        uasc = rng.random(n_events) < self.uasc_share[band]
        size = np.where((band < 4) & ~uasc, rng.choice(4, size=n_events, p=self.group_p) + 1, 1)
        t = np.sort(t0 + (t1 - t0) * rng.random(n_events))
        home = self.world.sample_points(la, n_events, rng)
        rep = np.repeat(np.arange(n_events), size)
        n = len(rep)
        sib_age = np.clip(age[rep] + np.where(np.r_[True, rep[1:] != rep[:-1]], 0.0, rng.normal(0, 3.0, n)), 0.0, 15.99)
        sib_age = np.where(size[rep] > 1, sib_age, age[rep])
        groups = np.where(size[rep] > 1, self._group_counter + rep, -1)
        self._group_counter += n_events
        cols = {
            "t": t[rep],
            "la": np.full(n, float(la)),
            "age": sib_age,
            "uasc": uasc[rep].astype(float),
            "group": groups.astype(float),
            "lat": home[rep, 0],
            "lon": home[rep, 1],
            "in_care": np.zeros(n),
        }
        return self._finish(cols, rng, np.zeros(n))

    # ------------------------------------------------------------------ initial stock
    def initial_stock(self) -> dict[str, np.ndarray]:
        """Children in care at the base date, per LA as published, with ages and times in care
        drawn from the steady state implied by the entry age mix and the exit hazards."""
        rng = self.streams("initial_stock")
        w = self.world
        counts = np.where(w.simulated, w.stock, 0)
        n = int(counts.sum())
        entry_ages = (np.arange(MAX_STEPS) + 0.5) * DT
        band = np.searchsorted(np.array(AGE_BAND_EDGES[1:-1]), entry_ages, side="right")
        width = np.diff(AGE_BAND_EDGES)[band]
        weights, keys = [], []
        for uasc in (0, 1):
            p_entry = (
                self.age_shares[band] / width * DT * (self.uasc_share[band] if uasc else 1 - self.uasc_share[band])
            )
            surv = self.exits.survival_grid(entry_ages, UASC_HAZARD_MULTIPLIER if uasc else 1.0)
            weights.append((p_entry[:, None] * surv).ravel())
            keys.append(uasc)
        wflat = np.concatenate(weights)
        cell = rng.choice(len(wflat), size=n, p=wflat / wflat.sum())
        uasc = cell // (MAX_STEPS * MAX_STEPS)
        j, k = np.divmod(cell % (MAX_STEPS * MAX_STEPS), MAX_STEPS)
        entry_age = entry_ages[j] + (rng.random(n) - 0.5) * DT
        in_care = (k + rng.random(n)) * DT
        age = np.minimum(entry_age + in_care, 17.999)
        la = np.repeat(np.arange(w.n_la), counts)
        la = la[rng.permutation(n)]
        home = np.empty((n, 2))
        for i in np.flatnonzero(counts):
            idx = np.flatnonzero(la == i)
            home[idx] = w.sample_points(i, len(idx), rng)
        cols = {
            "t": np.zeros(n),
            "la": la.astype(float),
            "age": age,
            "uasc": uasc.astype(float),
            "group": np.full(n, -1.0),
            "lat": home[:, 0],
            "lon": home[:, 1],
            "in_care": in_care * DAYS_PER_YEAR,
        }
        cols = self._finish(cols, rng, in_care)
        # Secure-welfare need is transient (orders last months): entry shares would put ~900 of the
        # stock in that tier. Keep the published number needing secure care; the rest very complex.
        secure = np.flatnonzero(cols["tier"] == 3)
        keep = int(round(self.cfg.demand.initial_secure_tier_children * counts.sum() / max(w.stock.sum(), 1)))
        if len(secure) > keep:
            cols["tier"][rng.choice(secure, size=len(secure) - keep, replace=False)] = 2.0
        order = np.argsort(-cols["in_care"], kind="stable")  # longest in care are placed first
        return {k: v[order] for k, v in cols.items()}
