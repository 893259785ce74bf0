"""The engine's structure: the plan as data, the process contract, the clock, one price function,
and the package layout (the engine never imports the studies or the reporting)."""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path

import pytest

import rcc_sim.engine.model as model_module
from rcc_sim.config import Config, PolicyConfig, RCCConfig, to_object
from rcc_sim.engine.agents import Child, FosterHousehold
from rcc_sim.engine.clock import Clock
from rcc_sim.engine.model import PLAN, CareSystemModel
from rcc_sim.engine.plan import Plan, Step
from rcc_sim.engine.processes import Process
from rcc_sim.vocab import IFA, IN_HOUSE

ENGINE = Path(model_module.__file__).resolve().parent
GM = [f"E0800000{i}" for i in range(1, 10)] + ["E08000010"]


def gm(years: float = 0.1, **policy) -> Config:
    cfg = Config()
    cfg.world.la_codes = list(GM)
    cfg.world.name = "greater_manchester"
    cfg.sim.years = years
    cfg.sim.spin_up_years = 0  # the plan's calendar from the base date (the spin-up: tests/test_spinup.py)
    if policy:
        cfg.policy = PolicyConfig(name="test", **policy)
    return to_object(cfg)


# ---------------------------------------------------------------------- plan
def test_docstring_lists_the_plan_in_order():
    """The model's docstring is the readable plan: the same steps, in the same order."""
    listed = re.findall(r"^\d+\. ``(\w+)\.(\w+)`` \((\w+)\)", model_module.__doc__, flags=re.M)
    assert listed == [(owner, step, cadence) for cadence, _, owner, step in PLAN]


def test_plan_runs_and_prints_step_timings():
    model = CareSystemModel(gm(0.25))
    model.run()
    text = str(model.plan)
    for _, _, owner, step in PLAN:
        assert re.search(rf"{owner}\s+{step}\s+\d+\s+\d+\.\d\d", text), f"{owner}.{step} missing from the printout"
    assert re.search(r"clock\s+open_week\s+\d+\.\d\d", text) and re.search(r"total\s+\d+\.\d\d", text)
    # the plan accounts for the run: its steps, the weeks' opening and the events between
    total = sum(s.seconds for s in model.plan.steps) + model.plan.open_seconds + model.plan.event_seconds
    assert model.plan.open_seconds > 0 and 0.5 * model.plan.wall_seconds <= total <= model.plan.wall_seconds
    calls = {(s.owner, s.name): s.calls for s in model.plan.steps}
    n = len(model.week_ends)  # 13 weeks: one quarter, no year end
    assert calls[("recorder", "record_week")] == n
    assert calls[("fostering", "recruit_week")] == n - 1  # prepares the next week: not after the last
    assert calls[("provision", "open_homes")] == 0  # the quarter ends with the run
    assert calls[("demand", "census_31_march")] == 0


def test_plan_refuses_a_preparing_step_before_the_week_is_closed():
    steps = [
        Step("week", "next", "a", "b", lambda: None),
        Step("week", "end", "recorder", "record_week", lambda: None),
    ]
    with pytest.raises(ValueError, match="must come after"):
        Plan(steps, 10)


def test_yearly_steps_run_once_a_year():
    model = CareSystemModel(gm(2.0))
    model.run()
    calls = {(s.owner, s.name): s.calls for s in model.plan.steps}
    assert calls[("demand", "census_31_march")] == 2
    assert calls[("provision", "open_homes")] == 7  # 8 quarter ends, the last one is the end of the run


# ---------------------------------------------------------------------- process contract
def test_every_process_follows_the_contract():
    model = CareSystemModel(gm())
    for name in ("demand", "placement", "fostering", "provision", "market", "supply", "commissioning"):
        proc = getattr(model, name)
        assert isinstance(proc, Process), name
        assert proc.name == name
        for needed in proc.needs:
            assert isinstance(getattr(proc, needed), Process), f"{name}.{needed} not bound"


def test_processes_do_not_reach_through_the_model():
    """Collaborators are bound explicitly: no process module touches ``self.m`` or ``.model.``."""
    for path in [*ENGINE.glob("processes/*.py"), ENGINE / "commissioning.py"]:
        src = path.read_text()
        assert not re.search(r"self\.m\b|self\.model\b", src), f"{path.name} reaches through the model"


def test_bind_checks_collaborator_names():
    model = CareSystemModel(gm())
    with pytest.raises(TypeError, match="needs"):
        model.supply.bind(placement=model.placement, market=model.market)


# ---------------------------------------------------------------------- layout
def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.append(node.module)
        elif isinstance(node, ast.Import):
            out += [a.name for a in node.names]
    return out


def test_engine_does_not_import_studies_or_reporting():
    bad = []
    for path in ENGINE.rglob("*.py"):
        for mod in _imports(path):
            if mod.startswith(("rcc_sim.studies", "rcc_sim.reporting", "rcc_sim.cli", "rcc_sim.run")):
                bad.append(f"{path.relative_to(ENGINE)} imports {mod}")
    assert not bad, bad


# ---------------------------------------------------------------------- recorder
def test_recorder_adds_one_cell_and_reads_counters_as_numpy_would():
    """``Recorder.add`` of one cell (in place) and of any other index (through numpy) give the
    bits numpy's ``a[index] += value`` gives, and ``array``/``view`` read the live counter
    (a vector of doubles) as numpy would; an index outside the variable still raises as numpy does."""
    import random

    import numpy as np

    from rcc_sim.engine.recorder import Recorder, view

    rnd = random.Random(11)
    rec = Recorder(n_la=7, n_weeks=3, n_years=1)
    mirror = {name: np.zeros(shape) for name, shape in rec.shapes.items()}
    names = ["children_in_care", "placements", "homes_opened", "spend"]
    for _ in range(400):
        name = rnd.choice(names)
        shape = rec.shapes[name]
        cell = tuple(rnd.randrange(n) for n in shape)
        index = cell[0] if len(cell) == 1 and rnd.random() < 0.5 else cell
        value = rnd.choice([1, -1, rnd.uniform(-1e3, 1e3), 1e-17, rnd.randrange(10**6)])
        if rnd.random() < 0.1:  # a fancy index: numpy's path
            index, value = (slice(None),) + ((cell[1],) if len(cell) == 2 else ()), rnd.uniform(0, 5)
        rec.add(name, index, value)
        mirror[name][index] += value
    for name in names:
        assert rec.array(name).tobytes() == mirror[name].tobytes(), name
        assert view(rec.live[name]).tobytes() == np.array(list(rec.live[name]), dtype=float).tobytes()
    with pytest.raises(IndexError):
        rec.add("children_in_care", 7, 1.0)


def test_live_counters_are_shared_views_and_survive_a_snapshot_still_shared():
    """A live counter is one vector of doubles held by reference (the recorder and the processes):
    ``view`` follows its updates without a copy, ``zero`` clears it in place, and a snapshot
    (``rcc_sim.engine.snapshot.dumps``, which pickles the vectors as lists) loads it as one vector
    still held by both (fails if the vectors are copied apart or cannot be pickled)."""
    import pickle

    from rcc_sim.engine import snapshot
    from rcc_sim.engine.recorder import Recorder, view, zero

    rec = Recorder(n_la=3, n_weeks=2, n_years=1)
    c = rec.live["children_in_care"]
    v = view(c)
    c[1] = c[1] + 2.5
    assert v.tolist() == [0.0, 2.5, 0.0]
    rec2, held = pickle.loads(snapshot.dumps((rec, {"cic": c})))
    assert held["cic"] is rec2.live["children_in_care"]
    held["cic"][2] = 4.0
    assert rec2.array("children_in_care").tolist() == [0.0, 2.5, 4.0]
    zero(c)
    assert v.tolist() == [0.0, 0.0, 0.0] and list(rec2.live["children_in_care"]) == [0.0, 2.5, 4.0]
    # a compiled object keeps a vector unboxed and boxes it anew at each read: the snapshot still
    # rebuilds one vector for the attribute and every other reference to its memory
    from librt.vecs import vec
    from mypy_extensions import i64

    from rcc_sim.engine.clock import _Events

    cal = _Events()
    cal.add(2.0, print, (), None, 0)
    cal.add(1.0, print, (), None, 0)
    cal.put_in_order(vec[i64]([0, 1]), vec[i64]([0, 1]))
    cal2, due = pickle.loads(snapshot.dumps((cal, cal.due)))
    due[0] = 9.0
    assert cal2.due[0] == 9.0 and list(cal2.order) == [1, 0]


# ---------------------------------------------------------------------- clock
def test_clock_runs_events_in_time_order_across_weeks():
    clock = Clock([7.0, 14.0, 21.0], 0.0)
    seen = []
    for day in (15.5, 3.0, 9.0, 20.0, 30.0):  # 30: after the run, never stored
        clock.at(day, seen.append, day)
    assert clock.pending() == 4

    def weeks():
        for w, end in enumerate(clock.week_ends):
            clock.open_week(w)
            yield clock.env.timeout(end - clock.env.now)

    clock.env.process(weeks())
    clock.env.run(until=21.0 + 1e-9)
    assert seen == [3.0, 9.0, 15.5, 20.0]


def test_clock_runs_a_weeks_calendar_and_its_new_events_in_one_order():
    """A week's calendar events (sorted when it opens) and the events scheduled during it (simpy's
    heap) run in the order of one heap of both: by time, then in the order they were scheduled.
    Simultaneous events interleave across the two parts; an event scheduled from another at the
    same moment runs after everything scheduled before it."""
    import random

    rnd = random.Random(5)
    clock = Clock([7.0, 14.0], 0.0)
    seen: list[tuple[float, int]] = []
    order = itertools.count()
    days = [float(rnd.choice([7.5, 8.0, 9.25, 10.0, 14.0])) for _ in range(200)]

    def fire(day: float, k: int, spawn: bool) -> None:
        seen.append((day, k))
        if spawn:  # same week: straight to the heap, at this moment or later in the week
            for delay in (0.0, rnd.choice([0.0, 0.75, 1.0, 4.0])):
                clock.at(delay, fire, clock.now + delay, next(order), False)

    for day in days:  # filed in week 1's bucket in this order
        clock.at(day, fire, day, next(order), rnd.random() < 0.3)
    clock.open_week(0)
    clock.env.run(until=7.0)
    clock.open_week(1)
    clock.env.run(until=14.0 + 1e-9)
    assert len(seen) > len(days)
    # by time, and at one time in scheduling order: ids rise with ``order`` since every event
    # is scheduled (given its id) no earlier than the ones filed before it
    assert seen == sorted(seen)
    assert clock.env._cal.left() == 0 and clock.env.peek() > 14.0  # left: the run's own end


def test_clock_files_a_later_event_in_the_week_bisect_would():
    """The week of an event beyond the open week is found by a binary search written out for
    the compiled engine: the week ``bisect.bisect_left`` gives, ends and ties included."""
    import bisect
    import random

    ends = [7.0, 14.0, 21.0, 28.0, 31.5, 38.5]
    clock = Clock(ends, 0.0)
    rnd = random.Random(3)
    days = [rnd.uniform(-1.0, 45.0) for _ in range(2000)] + ends + [0.0, 45.0, 7.0 + 1e-12, 7.0 - 1e-12]
    days += [-1.0, -3.5, 1e300, float("inf"), 38.5 + 1e-9, 39.0, 31.5 - 1e-9] + [d + 0.5 for d in range(-2, 46)]
    assert [clock._week_of(d) for d in days] == [bisect.bisect_left(ends, d) for d in days]


def test_clock_drops_an_event_whose_placement_changed():
    class Kid:
        version = 0

    kid, fired = Kid(), []
    clock = Clock([7.0, 14.0], 0.0)
    clock.at_child(10.0, lambda c, v: fired.append(v), kid)
    kid.version += 1  # the placement changed before the event's week began
    clock.at_child(12.0, lambda c, v: fired.append(v), kid)
    clock.open_week(0)
    clock.env.run(until=7.0)
    clock.open_week(1)
    clock.env.run(until=14.0)
    assert fired == [1] and clock.dropped == 1


def test_clock_merges_a_week_opened_before_the_last_one_ran_out():
    """A week opened while the last week's calendar still holds events (not in a model run, whose
    weeks end after their events): both run, in time order, and an event whose placement changed
    before its week opened is dropped, as in a week opened on time."""

    class Kid:
        version = 0

    kid, seen = Kid(), []
    clock = Clock([7.0, 14.0], 0.0)
    for day in (2.0, 5.0, 6.5):  # week 0
        clock.at(day, seen.append, day)
    clock.at_child(9.0, lambda c, v: seen.append(("stale", v)), kid)
    kid.version += 1
    for day in (8.0, 12.0):  # week 1
        clock.at(day, seen.append, day)
    clock.at_child(10.0, lambda c, v: seen.append(("kid", v)), kid)
    clock.open_week(0)
    clock.env.run(until=3.0)  # 5.0 and 6.5 left in the calendar
    clock.open_week(1)
    clock.env.run(until=14.0 + 1e-9)
    assert seen == [2.0, 5.0, 6.5, 8.0, ("kid", 1), 12.0] and clock.dropped == 1


# ---------------------------------------------------------------------- one price function
def test_sibling_group_pays_the_commissioners_discounted_price():
    """Under an RCC with buyer power, every sibling placed together pays the discounted spot
    price, as a single child would (before the engine regroup the siblings paid the undiscounted
    price: ``place_new`` priced them without the buyer)."""
    lever = dict(
        members=list(GM),
        start_years=0.0,
        ramp_up_years=0.0,
        setup_cost_gbp=0.0,
        running_cost_gbp_per_year=0.0,
        programme_funding_gbp=0.0,
        buyer_power_discount=0.25,
    )
    model = CareSystemModel(gm(0.1, rccs={"gm": RCCConfig(**lever)}))
    model.run()  # the RCC goes live at day 0
    pl, market = model.placement, model.market
    la = int(model.world.sim_index[0])  # a member LA
    for u in model.agents_by_type[FosterHousehold]:  # no in-house carer free: the search goes to the IFAs
        if u.ptype == IN_HOUSE and u.open:
            model.supply.set_usable(u, len(u.children))
    t = model.env.now
    kids = [
        Child(model, la, 53.5, -2.3, t - 6 * 365.25, t, False, 0, False, 99, t + 3650.0, 0),
        Child(model, la, 53.5, -2.3, t - 4 * 365.25, t, True, 0, False, 99, t + 3650.0, 0),
    ]
    pl.place_new(kids)  # the group's best unit takes the first (and the second if it has room)
    for kid in kids:
        unit = kid.unit
        assert unit is not None and unit.ptype == IFA
        spot = market.price(IFA, 0) * unit.price_factor  # undiscounted
        assert kid.price == pytest.approx(market.price(IFA, 0, la, unit))
        assert kid.price == pytest.approx(0.75 * spot)


# ---------------------------------------------------------------------- exit times
def test_exit_sampler_by_segments_equals_the_monthly_grid():
    """The fast sampler (segments between band crossings) gives the step-by-step answer."""
    import numpy as np

    from rcc_sim.engine.processes.demand import ExitSampler

    es = ExitSampler(Config())
    rng = np.random.default_rng(7)
    n = 20000
    age0 = np.r_[rng.random(n - 4) * 18.0, 0.0, 17.999, 17.96, 9.999]
    dur0 = np.r_[rng.random(n - 4) * 6.0 * (rng.random(n - 4) < 0.5), 0.0, 3.0, 0.0, 0.4999]
    mult = np.r_[rng.uniform(0.3, 2.0, n - 5), 0.0, 1.0, 1.0, 1.0, 1.0]  # one child who never exits early
    e, u = rng.exponential(size=n), rng.random(n)
    y1, r1 = es.sample(age0, dur0, mult, e, u)
    y2, r2 = es.sample_on_grid(age0, dur0, mult, e, u)
    assert np.allclose(y1, y2, rtol=0, atol=1e-9)
    assert np.array_equal(r1, r2)
    assert (r1 == -1).any() and (r1 >= 0).any()  # both leaving at 18 and earlier exits occur
    # row by row: a year's arrivals are sampled in one call over every LA's batch (Demand._sample_exits),
    # which must give each child what a call over its own batch gives, to the bit
    cuts = [0, 1, 2, 250, 251, 5000, 13000, n]
    parts = [es.sample(*(x[a:b] for x in (age0, dur0, mult, e, u))) for a, b in zip(cuts, cuts[1:], strict=False)]
    assert np.array_equal(np.concatenate([p[0] for p in parts]), y1)
    assert np.array_equal(np.concatenate([p[1] for p in parts]), r1)


def test_steady_state_multiplier_gives_the_published_exit_rate_ratio():
    """An LA whose published exit rate is r times England's gets the hazard multiplier whose
    steady-state exit rate (entrants over their expected time in care) is r times multiplier 1's;
    since every child leaves at 18, that multiplier is further from 1 than r itself."""
    import numpy as np

    model = CareSystemModel(gm())
    steady = model.demand.steady
    ratios = np.array([0.5, 0.8, 1.0, 1.3, 2.0])
    mult = steady.multipliers(ratios)
    rate = np.array([1.0 / steady.weights(float(m)).sum() for m in mult])
    assert rate / (1.0 / steady.weights(1.0).sum()) == pytest.approx(ratios, rel=2e-3)
    assert mult[2] == pytest.approx(1.0, rel=1e-6)
    assert mult[0] < 0.5 and mult[-1] > 2.0  # the linear mapping (multiplier = ratio) undershoots both ways
    assert np.all(np.diff(mult) > 0)


def test_weighted_choice_draws_what_generator_choice_draws():
    """The base-date stock's cells are drawn by ``weighted_choice``: the same draws as numpy's
    ``Generator.choice(p=w / w.sum())`` (so the stock is what it was), with zero-weight cells
    never drawn; weights that do not sum to a positive number are refused."""
    import numpy as np

    from rcc_sim.engine.processes.demand import weighted_choice

    steady = CareSystemModel(gm()).demand.steady
    for mult, size in ((1.0, 5000), (0.3, 700), (4.0, 1)):
        w = steady.weights(mult)
        mine = weighted_choice(np.random.default_rng(11), w, size)
        theirs = np.random.default_rng(11).choice(len(w), size=size, p=w / w.sum())
        assert np.array_equal(mine, theirs)
        assert (w[mine] > 0).all()
    w = np.array([0.0, 3.0, 0.0, 1.0])
    draws = weighted_choice(np.random.default_rng(0), w, 20_000)
    assert set(np.unique(draws)) == {1, 3}
    assert np.mean(draws == 1) == pytest.approx(0.75, abs=0.015)
    with pytest.raises(ValueError, match="sum to 0"):
        weighted_choice(np.random.default_rng(0), np.zeros(3), 2)


def test_steady_state_weights_are_zero_past_18_and_exp_before():
    """The weights are exp(-m f C) x the entry weight before 18 and exactly 0 after (taken only
    over the cells before 18)."""
    import numpy as np

    steady = CareSystemModel(gm()).demand.steady
    w = steady.weights(1.7).reshape(len(steady.entry), *steady.c.shape)
    for u, (p, f) in enumerate(zip(steady.entry, steady.factors, strict=True)):
        expected = np.where(steady.gone, 0.0, p[:, None] * np.exp(-1.7 * f * steady.c))
        assert np.array_equal(w[u], expected)
    assert (w[:, steady.gone] == 0).all() and (w[:, ~steady.gone] > 0).any()


def test_each_la_stock_comes_from_its_own_steady_state():
    """With exits.by_la_steady_state an LA with a high exit rate starts with children more recently in
    care than one with a low rate; off, every LA's stock is drawn from England's steady state."""
    import numpy as np

    def mean_years_in_care(steady_state: bool) -> tuple[float, float, np.ndarray]:
        cfg = gm()
        cfg.exits.by_la_steady_state = steady_state
        model = CareSystemModel(cfg)
        mult = model.demand.exit_multiplier
        hi, lo = (
            int(np.argmax(np.where(model.world.simulated, mult, -1))),
            int(np.argmin(np.where(model.world.simulated, mult, 99))),
        )
        kids = list(model.demand.children.values())
        years = [np.mean([-c.entry_t for c in kids if c.la == la]) / 365.25 for la in (hi, lo)]
        return years[0], years[1], mult

    hi_on, lo_on, mult_on = mean_years_in_care(True)
    hi_off, lo_off, mult_off = mean_years_in_care(False)
    assert hi_on < lo_on - 0.3  # high-turnover LA: shorter times in care
    assert abs(hi_off - lo_off) < abs(hi_on - lo_on)
    ratio = CareSystemModel(gm()).world.exit_rate_ratio
    np.testing.assert_allclose(mult_off, np.clip(ratio, 0.25, 4.0))  # off: the ratio is the multiplier


def test_the_children_in_care_keep_their_order_of_admission():
    """InCare (Demand.children) lists the children in order of admission through removals and the
    closing up of its holes, as the dictionary by id it replaced did; a child removed twice, or
    added twice, is an error, not a silent corruption."""
    import mesa
    import numpy as np

    from rcc_sim.engine.child import InCare

    model = mesa.Model(rng=0)
    kids = [Child(model, 0, 53.5, -2.3, -3000.0, 0.0, False, 0, False, -1, 5000.0, 0) for _ in range(5000)]
    reg, ref = InCare(), {}
    for c in kids:
        reg.add(c)
        ref[c.unique_id] = c
    rng = np.random.default_rng(3)
    for i in rng.permutation(len(kids))[:4200]:  # enough holes to close up more than once
        reg.remove(kids[i])
        del ref[kids[i].unique_id]
    late = [Child(model, 0, 53.5, -2.3, -3000.0, 0.0, False, 0, False, -1, 5000.0, 0) for _ in range(3)]
    for c in late:
        reg.add(c)
        ref[c.unique_id] = c
    assert reg.values() == list(ref.values()) and len(reg) == len(ref) == 803
    gone = next(c for c in kids if c.unique_id not in ref)
    with pytest.raises(ValueError, match="not in care"):
        reg.remove(gone)
    with pytest.raises(ValueError, match="in care already"):
        reg.add(late[0])
