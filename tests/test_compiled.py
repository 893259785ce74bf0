"""The compiled engine (rcc_sim/engine/compiled.py): the same bits as the pure-Python engine, and
never a compiled copy that is older than its source; and the huge-page arenas built with it
(rcc_sim/engine/memory.py): the same bits as Python's own allocator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from conftest import small_config

from rcc_sim.config import to_object
from rcc_sim.engine import compiled, memory

# a short run that places, moves and discharges children, recruits and loses carers, opens homes
RUN = """
import hashlib, json, sys
import numpy as np
from conftest import small_config
from rcc_sim.config import to_object
from rcc_sim.engine import compiled, memory
from rcc_sim.run import simulate
ds = simulate(to_object(small_config(years=1.0, seed=3, sim={"spin_up_years": 1})))
h = hashlib.sha256()
for k in sorted(ds.data_vars):
    a = np.ascontiguousarray(ds[k].values)
    if a.dtype.kind in "fiub":
        h.update(k.encode()); h.update(a.tobytes())
print(json.dumps({"state": compiled.state, "hash": h.hexdigest(), "children": int(ds["children_in_care"].sum()),
                  "memory": memory.state(), "arenas": memory.stats()}))
"""


def _python(code: str, **env: str) -> dict:
    """Run ``code`` in a fresh interpreter with ``env`` added to the environment; the JSON it
    prints last."""
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        cwd=os.path.dirname(__file__),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, f"exit {out.returncode}: {out.stderr[-2000:]}"
    return json.loads(out.stdout.strip().splitlines()[-1])


def _run(engine: str, huge_pages: str = "1") -> dict:
    return _python(RUN, RCC_SIM_ENGINE=engine, RCC_SIM_HUGEPAGES=huge_pages)


def test_ci_tests_the_compiled_engine():
    """Under CI the install compiles the engine (setup.py); the tests must then exercise it, not
    quietly fall back to the pure-Python modules."""
    if not os.environ.get("CI"):
        pytest.skip("outside CI a pure-Python install is allowed (RCC_SIM_COMPILE=0, no compiler)")
    assert compiled.state == "compiled", compiled.state


def test_compiled_and_pure_python_engines_give_the_same_bits():
    if compiled.state != "compiled":
        pytest.skip(f"the engine here is {compiled.state}")
    fast, pure = _run("compiled"), _run("python")
    assert fast["state"] == "compiled" and pure["state"].startswith("python (RCC_SIM_ENGINE=python")
    assert fast["children"] > 0
    assert fast["hash"] == pure["hash"]


# Python's allocator pushed hard after the huge-page arenas are installed: waves of small objects
# made and freed (pymalloc gives arenas back and asks again: the free list), deep recursion
# (CPython's frame-stack chunks, which the arena allocator passes on), a sum over what was made.
CHURN = """
import json, sys
from rcc_sim.engine import memory
state = memory.use_huge_pages()
sys.setrecursionlimit(20000)
def deep(n):
    return 0 if n == 0 else 1 + deep(n - 1)
total = 0
for wave in range(4):
    rows = [[i, float(i) / 3.0, str(i)] for i in range(600_000 + 100_000 * wave)]
    total += sum(r[0] for r in rows) + int(sum(r[1] for r in rows)) + deep(5000)
    del rows
print(json.dumps({"state": state, "total": total, "arenas": memory.stats()}))
"""


def _churn(huge_pages: str) -> dict:
    return _python(CHURN, RCC_SIM_HUGEPAGES=huge_pages)


def test_ci_builds_the_huge_page_arenas():
    if not os.environ.get("CI"):
        pytest.skip("outside CI an install without a C compiler is allowed")
    assert not sys.platform.startswith("linux") or memory.built()


def test_the_huge_page_arenas_survive_churn_and_reuse_what_pymalloc_frees():
    if not memory.built():
        pytest.skip("rcc_sim.engine._hugepages not built")
    on, off = _churn("1"), _churn("0")
    assert on["state"] == "on" and off["state"].startswith("off"), (on["state"], off["state"])
    assert on["total"] == off["total"]
    arenas = on["arenas"]
    assert arenas["installed"] and arenas["regions"] >= 1
    assert arenas["arenas_new"] > 0 and arenas["arenas_reused"] > 0, arenas  # freed arenas are handed out again
    assert not off["arenas"]["installed"]


def test_the_huge_page_arenas_give_the_same_bits():
    if not memory.built() or compiled.state != "compiled":
        pytest.skip("the huge-page arenas are built with the compiled engine")
    on, off = _run("compiled", huge_pages="1"), _run("compiled", huge_pages="0")
    assert on["memory"] == "on" and off["memory"] == "off (RCC_SIM_HUGEPAGES=0)"
    assert on["arenas"]["arenas_new"] > 0 and not off["arenas"]["installed"]
    assert on["hash"] == off["hash"]


def test_a_compiled_module_older_than_its_source_is_not_used(tmp_path, monkeypatch):
    """An edited engine module is imported from its source, with a warning, until it is compiled
    again: the stamp's hash of it no longer matches."""
    if compiled.state != "compiled":
        pytest.skip(f"the engine here is {compiled.state}")
    stamp = tmp_path / "native_stamp.json"
    recorded = compiled.source_hashes()
    recorded["rcc_sim.engine.processes.placement"] = "0" * 64  # as if placement.py had been edited since
    stamp.write_text(json.dumps(recorded))
    monkeypatch.setattr(compiled, "STAMP", stamp)
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))  # the fallback finder goes in a copy
    monkeypatch.setattr(compiled, "state", compiled.state)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        state = compiled.guard()
    assert state == "python (compiled copies out of date)"
    assert any("rcc_sim.engine.processes.placement" in str(w.message) for w in caught)
    finder = sys.meta_path[0]
    spec = finder.find_spec("rcc_sim.engine.processes.placement")
    assert spec is not None and spec.origin.endswith("placement.py")
    assert finder.find_spec("rcc_sim.engine.model") is None  # only the compiled modules are redirected


def test_the_guard_lists_only_modules_that_exist():
    for module in compiled.MODULES:
        assert compiled.source(module).is_file(), module
    hashes = compiled.source_hashes()
    assert set(hashes) == set(compiled.MODULES)
    assert all(len(h) == 64 for h in hashes.values())


def test_a_child_is_not_a_mesa_agent_but_keeps_mesa_ids():
    """Children are not registered with mesa (rcc_sim/engine/child.py), but take their ids from
    the model's mesa id sequence, so that units created after them get the ids they always had."""
    from rcc_sim.engine.agents import Child, FosterHousehold
    from rcc_sim.engine.model import CareSystemModel

    model = CareSystemModel(to_object(small_config(years=1.0)))
    before = len(model.agents)
    kid = Child(model, 0, 53.5, -2.3, -3000.0, 0.0, False, 0, False, -1, 5000.0, 0)
    assert len(model.agents) == before and Child not in model.agents_by_type
    households = sorted(u.unique_id for u in model.agents_by_type[FosterHousehold])
    assert kid.unique_id > households[-1]
    ids = np.array([kid.unique_id, Child(model, 0, 53.5, -2.3, -3000.0, 0.0, False, 0, False, -1, 5000.0, 0).unique_id])
    assert ids[1] == ids[0] + 1


def test_the_model_registers_agents_as_mesa_does():
    """The model's registry (agents.AgentModel: mesa's AgentSets rebuilt when read) gives the same
    agents, in the same order, by type and in all, as mesa's own after creating and removing some,
    whether or not the sets were read in between; ``agents_of`` lists a type's agents in that order."""
    import mesa

    from rcc_sim.engine.agents import FosterHousehold
    from rcc_sim.engine.model import CareSystemModel

    model = CareSystemModel(to_object(small_config(years=1.0)))
    plain = mesa.Model(rng=0)
    plain.t = model.t

    class Other(mesa.Agent):
        pass

    made = {}
    for m in (model, plain):
        before = list(m.agents)
        homes_before = list(m.agents_by_type.get(FosterHousehold, []))  # read before the changes
        units = [
            FosterHousehold(
                m,
                0,
                la=0,
                lat=53.5,
                lon=-2.3,
                places=1,
                usable=1,
                max_tier=3,
                provider=None,
                owner_la=0,
                price_factor=1.0,
            )
            for _ in range(3)
        ]
        others = [Other(m) for _ in range(2)]
        units[1].remove()
        others[0].remove()
        made[m] = (before, homes_before, units, others)
    before, homes_before, units, others = made[model]
    assert list(model.agents) == before + [units[0], units[2], others[1]]
    assert list(model.agents_by_type[Other]) == [others[1]]
    assert list(model.agents_by_type[FosterHousehold])[-2:] == [units[0], units[2]]
    assert units[1] not in model.agents_by_type[FosterHousehold]
    assert list(model.agents_by_type[FosterHousehold]) == model.agents_of(FosterHousehold)
    assert model.agents_of(FosterHousehold) == homes_before + [units[0], units[2]]
    assert model.agent_types == list(model.agents_by_type)  # in order of first registration, as mesa's
    assert model.agent_types[-1] is Other
    _, _, p_units, p_others = made[plain]
    assert [a.unique_id for a in plain.agents] == [a.unique_id for a in (p_units[0], p_units[2], p_others[1])]
    assert list(plain.agents_by_type[Other]) == [p_others[1]]


def test_every_compiled_class_is_picklable_and_built_by_its_init():
    """Model snapshots pickle every object of the model, so each class of the compiled modules is
    ``serializable``; mypyc (2.4) then runs ``__init__`` on a call from interpreted code only if
    the class also allows interpreted subclasses (otherwise every attribute is left undefined).
    So both, on every class (named tuples and non-native subclasses of simpy aside)."""
    import ast

    for module in compiled.MODULES:
        for node in ast.parse(compiled.source(module).read_text()).body:
            if not isinstance(node, ast.ClassDef) or any(ast.unparse(b) in NOT_NATIVE for b in node.bases):
                continue
            attrs = " ".join(ast.unparse(d) for d in node.decorator_list)
            assert "serializable=True" in attrs and "allow_interpreted_subclasses=True" in attrs, (module, node.name)


# bases that make a class an ordinary Python class (or an interface)
NOT_NATIVE = {"NamedTuple", "simpy.Environment", "Protocol"}


def test_a_snapshot_of_the_compiled_engine_goes_on_as_the_run_would():
    """A model pickled at the base date and loaded again runs on to the same bits."""
    import pickle

    from rcc_sim.engine.model import CareSystemModel
    from rcc_sim.run import to_dataset

    cfg = to_object(small_config(years=0.5, sim={"spin_up_years": 1}))
    whole = CareSystemModel(cfg)
    whole.run()
    half = CareSystemModel(cfg)
    half.run_to_base()
    again = CareSystemModel.from_snapshot(half.snapshot(), cfg)
    again.run()
    a, b = to_dataset(whole), to_dataset(again)
    for name in a.data_vars:
        assert a[name].values.tobytes() == b[name].values.tobytes(), name
    assert pickle.loads(pickle.dumps(whole.clock)).week_ends == whole.clock.week_ends


def test_index_constants_written_out_are_the_positions_they_name():
    """The index constants are written as literals (so the compiled engine inlines them); each must
    be the position of its name in the tuple it indexes."""
    from rcc_sim import vocab
    from rcc_sim.engine import sufficiency
    from rcc_sim.engine.processes import placement

    tables = [
        (
            vocab.PLACEMENT_TYPES,
            [
                vocab.KINSHIP,
                vocab.IN_HOUSE,
                vocab.IFA,
                vocab.LA_HOME,
                vocab.PRIVATE_HOME,
                vocab.SUPPORTED,
                vocab.SECURE,
                vocab.UNREGISTERED,
                vocab.WITH_PARENTS,
                vocab.ADOPTION,
                vocab.OTHER_SETTING,
            ],
        ),
        (
            vocab.MOVE_REASONS,
            [
                vocab.CARE_PLAN,
                vocab.CARER_BEHAVIOUR,
                vocab.CARER_OTHER,
                vocab.CHILD_REQUEST,
                vocab.STANDARDS,
                vocab.OTHER_REASON,
                vocab.PROVIDER_CLOSURE,
            ],
        ),
        (
            vocab.PROVIDERS,
            [
                placement._OWN,
                placement._OTHER_LA,
                placement._PRIVATE,
                placement._VOLUNTARY,
                placement._PARENTS,
                placement._OTHER,
            ],
        ),
        (
            sufficiency.PLAN_CLASSES,
            [
                sufficiency.FOSTER_CLASS,
                sufficiency.RESIDENTIAL_CLASS,
                sufficiency.SUPPORTED_CLASS,
                sufficiency.OTHER_CLASS,
            ],
        ),
    ]
    for names, indices in tables:
        assert indices == list(range(len(names))), names
    # and by name, where the constant's name says which entry it is
    assert vocab.PLACEMENT_TYPES[vocab.IFA] == "ifa_foster" and vocab.PLACEMENT_TYPES[vocab.SECURE] == "secure"
    assert vocab.MOVE_REASONS[vocab.PROVIDER_CLOSURE] == "provider_closure"
    assert vocab.PROVIDERS[placement._PARENTS] == "parents"
