"""Sufficiency forecasting: each commissioner's forecast of next year's children in care.

Every year at 31 March each LA's children in care are counted by *state*, the pair (age band,
placement class): age bands are DfE's (under 1, 1-4, 5-9, 10-15, 16-17) and placement classes
group the placement types by what a commissioner has to find (:data:`PLAN_CLASSES`: foster care,
residential care, supported accommodation, other). The census also follows each child from one
31 March to the next - the state it moved to, or out of care - and counts the children who
entered in the year and are still in care (by state). :class:`StateHistory` keeps those counts;
nothing here draws a random number or changes a child.

A forecast is made at each 31 March for the next one, per LA, by three methods
(:data:`rcc_sim.vocab.FORECAST_METHODS`); every method is computed every year so that its error
is an output whichever method a commissioner plans with:

* ``naive``: next year's children by state are this year's (last year carried forward);
* ``markov``: a transition model over age band and placement class, the method of the demand
  tools the pathfinders use: the one-year transition probabilities between states (and out of
  care) pooled over the commissioner's member LAs and its last ``window`` years of simulated
  history, applied to each LA's children now, plus the LA's mean yearly entrants still in care
  at 31 March, by state. A state never seen leaving keeps its children (the naive forecast);
  with no history yet the whole forecast is the naive one;
* ``perfect``: who will be in care next 31 March is known exactly - the children in care whose
  planned exit falls after it, and next year's arrivals (already drawn: common random numbers)
  whose exit does - each in the age band it will have reached; placement classes are not
  foreseeable (they depend on the year's placements), so each child keeps its placement class
  and an arrival takes the LA's current class mix of its age band. Perfect foresight of demand,
  not of placements: its error in children in care is 0, its error in residential need is not.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

import numpy as np
from librt.vecs import append, vec
from mypy_extensions import i64, mypyc_attr

from rcc_sim.engine.recorder import counter, ints, view
from rcc_sim.vocab import AGE_BANDS, DAYS_PER_YEAR, PLACEMENT_TYPES

if TYPE_CHECKING:
    from rcc_sim.engine.child import Child
    from rcc_sim.engine.processes.demand import Record

# placement class of each placement type (index into PLAN_CLASSES)
PLAN_CLASSES: Final = ("foster", "residential", "supported", "other")
FOSTER_CLASS: Final = 0
RESIDENTIAL_CLASS: Final = 1
SUPPORTED_CLASS: Final = 2
OTHER_CLASS: Final = 3
_CLASS_OF: Final = {
    "in_house_foster": FOSTER_CLASS,
    "ifa_foster": FOSTER_CLASS,
    "la_home": RESIDENTIAL_CLASS,
    "private_home": RESIDENTIAL_CLASS,
    "secure": RESIDENTIAL_CLASS,
    "supported_accommodation": SUPPORTED_CLASS,
}
CLASS_OF_PTYPE: Final = tuple(_CLASS_OF.get(p, OTHER_CLASS) for p in PLACEMENT_TYPES) + (OTHER_CLASS,)  # [-1]: none yet
N_BANDS: Final = len(AGE_BANDS)
N_CLASSES: Final = len(PLAN_CLASSES)
N_STATES: Final = N_BANDS * N_CLASSES  # state = band * N_CLASSES + class
HISTORY_YEARS: Final = 10  # years of transitions kept (the longest Markov window: RCCConfig.markov_years <= 10)
LA_MARKOV_YEARS: Final = (
    3  # ASSUMPTION (range 1-5): the window of an LA commissioning alone (as RCCConfig.markov_years)
)


def state_of(band: int, ptype: int) -> int:
    """The state of a child of age band ``band`` (0-4; 18 and over counts as 16-17) in ``ptype``."""
    return min(band, N_BANDS - 1) * N_CLASSES + CLASS_OF_PTYPE[ptype]


def add_counts(a: np.ndarray, index: tuple[np.ndarray, ...]) -> None:
    """``np.add.at(a, index, 1)``: one more in ``a`` at each index, repeats counted, by
    ``np.bincount`` (several times faster than ``ufunc.at``; the same floats, since counts are
    whole numbers). ``a`` is C-contiguous and the indices within its shape (else ValueError)."""
    if not a.flags.c_contiguous:
        raise ValueError("add_counts: the array must be C-contiguous")
    flat = np.ravel_multi_index(index, a.shape)
    a += np.bincount(flat, minlength=a.size).reshape(a.shape)


def by_class(states: np.ndarray) -> np.ndarray:
    """Sum an array whose last axis is the states over age bands: last axis placement classes."""
    return states.reshape(*states.shape[:-1], N_BANDS, N_CLASSES).sum(axis=-2)


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # see rcc_sim.engine.compiled
class StateHistory:
    """Children in care by state at each 31 March, and the year's transitions, per LA.

    The census (``Demand.census_31_march``) calls :meth:`census` with every child;
    ``Demand._exit`` calls :meth:`exited` for a child who leaves care after having been counted
    at a census. ``window`` years of transitions are kept."""

    def __init__(self, n_la: int, window: int):
        self.n_la = n_la
        self.now = np.zeros((n_la, N_STATES))  # children by state at the last census
        self._trans = np.zeros((n_la, N_STATES, N_STATES))  # this year: last census state -> state now
        # this year: last census state -> left care, flat (la * N_STATES + state): a list the
        # compiled engine updates natively on every exit, read as an array when the year closes
        self._exits = counter(n_la * N_STATES)
        self._entries = np.zeros((n_la, N_STATES))  # this year: entered and in care at the census, by state
        self.years: deque[tuple[np.ndarray, np.ndarray, np.ndarray]] = deque(maxlen=max(window, 1))
        self.censuses = 0

    def census(self, la: np.ndarray, previous: np.ndarray, state: np.ndarray) -> None:
        """The 31 March census (``Demand.census_31_march``): the children in care now, one per
        element: their LA, their state at the last census (-1: not in care then) and their state
        now. Closes the year: its transitions join the window (not the first census's: no year
        before)."""
        self.now = np.zeros((self.n_la, N_STATES))
        add_counts(self.now, (la, state))
        seen = previous >= 0
        add_counts(self._trans, (la[seen], previous[seen], state[seen]))
        add_counts(self._entries, (la[~seen], state[~seen]))
        self._end()

    def exited(self, la: int, previous: int) -> None:
        j = la * N_STATES + previous
        self._exits[j] = self._exits[j] + 1.0

    def _end(self) -> None:
        """Close the year: its transitions join the window (not the first census's: no year before)."""
        if self.censuses > 0:
            self.years.append((self._trans, view(self._exits).copy().reshape(self.n_la, N_STATES), self._entries))
        self.censuses += 1
        self._trans = np.zeros_like(self._trans)
        self._exits = counter(self.n_la * N_STATES)
        self._entries = np.zeros_like(self._entries)

    def markov(self, members: np.ndarray, years: int) -> np.ndarray:
        """Forecast per LA of ``members`` (rows) by state, from the transitions of the last
        ``years`` years pooled over them."""
        now = self.now[members]
        window = list(self.years)[-years:]
        if not window:
            return now.copy()
        trans = sum(t[members].sum(axis=0) for t, _, _ in window)
        exits = sum(x[members].sum(axis=0) for _, x, _ in window)
        entries = sum(e[members] for _, _, e in window) / len(window)
        leaving = trans.sum(axis=1) + exits
        seen = leaving > 0
        p = np.where(seen[:, None], trans / np.where(seen, leaving, 1.0)[:, None], np.eye(N_STATES))
        return now @ p + entries


def perfect(
    children: Iterable[Child],
    arrivals: list[list[Record]],
    t_now: float,
    t_next: float,
    n_la: int,
    now: np.ndarray,
    age_edges: tuple[float, ...],
) -> np.ndarray:
    """Children in care at ``t_next`` by LA and state, known exactly from the planned exits of
    ``children`` (in care now) and of the ``arrivals`` scheduled before ``t_next`` (demand Records);
    ``now``: children by LA and state now (the class mix an arrival takes)."""
    # the columns in one pass over the children (scattered in memory), into vectors of C doubles
    # and ints (no float or int object per child; numpy reads them without a copy)
    exits, births, ptypes, las = vec[float](), vec[float](), vec[i64](), vec[i64]()
    for c in children:
        exits = append(exits, c.exit_t)
        births = append(births, c.birth_t)
        ptypes = append(ptypes, c.ptype)
        las = append(las, c.la)
    staying = view(exits) > t_next
    birth_t = view(births)[staying]
    ptype = ints(ptypes)[staying]
    kid_la = ints(las)[staying]
    band = np.searchsorted(age_edges, (t_next - birth_t) / DAYS_PER_YEAR, side="right")  # Child.age
    state = np.minimum(band, N_BANDS - 1) * N_CLASSES + np.asarray(CLASS_OF_PTYPE)[ptype]
    out = np.zeros((n_la, N_STATES))
    add_counts(out, (kid_la, state))
    per_band = now.reshape(n_la, N_BANDS, N_CLASSES)
    totals = per_band.sum(axis=2, keepdims=True)
    shares = np.where(totals > 0, per_band / np.where(totals > 0, totals, 1.0), 0.0)
    shares[..., OTHER_CLASS] += np.where(totals[..., 0] > 0, 0.0, 1.0)  # no children of the band: 'other'
    # each arrival in care at t_next adds its LA's class mix of its age band then, in arrival order
    # (np.add.at adds repeated cells in order: the same sums as one by one)
    ts, exit_ins, r_las, ages = vec[float](), vec[float](), vec[float](), vec[float]()
    for group in arrivals:
        for r in group:
            ts = append(ts, r.t)
            exit_ins = append(exit_ins, r.exit_in)
            r_las = append(r_las, r.la)
            ages = append(ages, r.age)
    t = view(ts)
    keep = (t_now < t) & (t <= t_next) & (t + view(exit_ins) > t_next)
    la = view(r_las)[keep].astype(np.intp)
    age, t = view(ages)[keep], t[keep]
    band = np.minimum(np.searchsorted(age_edges, age + (t_next - t) / DAYS_PER_YEAR, side="right"), N_BANDS - 1)
    np.add.at(out.reshape(n_la, N_BANDS, N_CLASSES), (la, band), shares[la, band])
    return out


__all__ = [
    "CLASS_OF_PTYPE",
    "N_STATES",
    "PLAN_CLASSES",
    "RESIDENTIAL_CLASS",
    "FOSTER_CLASS",
    "HISTORY_YEARS",
    "LA_MARKOV_YEARS",
    "StateHistory",
    "add_counts",
    "by_class",
    "perfect",
    "state_of",
]
