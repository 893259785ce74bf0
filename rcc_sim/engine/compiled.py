"""The compiled engine: the hot modules of the engine compiled to C with mypyc.

``pip install`` compiles the modules in :data:`MODULES` with mypyc (``setup.py``; mypyc is part of
mypy, which type-checks the engine in CI anyway): the same Python source, its type annotations
turned into native classes and unboxed arithmetic. A run is the same to the bit either way (the
compiled code does the same float operations in the same order; ``tests/test_compiled.py``), and
faster: a ten-year England run took 43 s (fcde045), against 131 s for the
pure-Python engine before it (d191cf9; ``experiments/benchmark.py``, 2026-12-06); England 2+2
years 10.7 s compiled, 27.6 s pure Python.
``RCC_SIM_COMPILE=0 pip install ...`` installs the pure-Python engine, and so does an install
where no C compiler is found.

An editable install compiles in place, so editing an engine module would leave its compiled copy
behind, which Python imports first. This module prevents that: when the package is imported it
compares each compiled module's source with the hash recorded when it was compiled
(``native_stamp.json``), and if any differs it imports the pure-Python sources of all of them
instead, with a warning (same results, slower) until the next ``pip install -e .`` or
``rcc-sim-compile``. ``RCC_SIM_ENGINE=python`` does the same on purpose.

This module imports nothing outside the standard library: ``setup.py`` reads :data:`MODULES` from
it before any dependency is installed.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
import warnings
from pathlib import Path

# The modules compiled: the shared vocabulary (its constants become C constants in the compiled
# code), the child, the unit, the clock and every process, with the modules they call each week.
# The rest of the engine (model, forecast, spinup, snapshot) runs once a run or a year and stays
# interpreted. ``rcc_sim`` itself imports this module first (``guard``), before any of them.
MODULES = (
    "rcc_sim.vocab",
    "rcc_sim.engine.child",
    "rcc_sim.engine.clock",
    "rcc_sim.engine.streams",
    "rcc_sim.engine.unit",
    "rcc_sim.engine.world",
    "rcc_sim.engine.plan",
    "rcc_sim.engine.recorder",
    "rcc_sim.engine.sufficiency",
    "rcc_sim.engine.commissioning",
    "rcc_sim.engine.processes.contract",
    "rcc_sim.engine.processes.demand",
    "rcc_sim.engine.processes.fostering",
    "rcc_sim.engine.processes.market",
    "rcc_sim.engine.processes.market_health",
    "rcc_sim.engine.processes.placement",
    "rcc_sim.engine.processes.provision",
    "rcc_sim.engine.processes.supply",
)
GROUP = "rcc_sim.engine.native"  # mypyc's shared library: rcc_sim/engine/native__mypyc.*.so
STAMP = Path(__file__).parent / "native_stamp.json"  # the source hash of each module when compiled
ROOT = Path(__file__).resolve().parents[2]  # the directory holding the rcc_sim package

state = "python"  # "compiled", "python" (nothing compiled) or "python (reason)": set by guard()


def source(module: str) -> Path:
    """The .py file of ``module`` (a module, not a package: mypyc gives a compiled package the
    wrong ``__path__`` when its shared library is inside the package tree)."""
    return ROOT.joinpath(*module.split(".")).with_suffix(".py")


def native_files(module: str) -> list[Path]:
    """The compiled extension files of ``module`` present next to its source."""
    stem = ROOT.joinpath(*module.split("."))
    return [p for s in importlib.machinery.EXTENSION_SUFFIXES if (p := Path(str(stem) + s)).exists()]


def source_hashes() -> dict[str, str]:
    """SHA-256 of each compiled module's source, as :data:`STAMP` records it."""
    return {m: hashlib.sha256(source(m).read_bytes()).hexdigest() for m in MODULES}


def write_stamp() -> None:
    STAMP.write_text(json.dumps(source_hashes(), indent=1) + "\n")


class _Sources(importlib.abc.MetaPathFinder):
    """Import the compiled modules from their .py sources (ahead of the compiled files)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MODULES:
            return None
        return importlib.util.spec_from_file_location(fullname, source(fullname))


def guard() -> str:
    """Decide, before any engine module is imported, whether the compiled modules are used; sets
    and returns :data:`state`."""
    global state
    present = [m for m in MODULES if native_files(m)]
    if not present:
        state = "python"
        return state
    reason = ""
    if os.environ.get("RCC_SIM_ENGINE", "").lower() == "python":
        reason = "RCC_SIM_ENGINE=python"
    else:
        try:
            recorded = json.loads(STAMP.read_text())
        except (OSError, ValueError):
            recorded = {}
        current = source_hashes()
        stale = [m for m in MODULES if recorded.get(m) != current[m] or m not in present]
        if stale:
            reason = "compiled copies out of date"
            warnings.warn(
                f"rcc-sim: the compiled engine is older than its sources ({', '.join(stale)}): running the "
                "pure-Python engine (the same results, about twice as long). Compile it again with "
                "'python3 -m pip install -e .' or 'rcc-sim-compile'.",
                RuntimeWarning,
                stacklevel=2,
            )
    if reason:
        if not any(isinstance(f, _Sources) for f in sys.meta_path):
            sys.meta_path.insert(0, _Sources())
        state = f"python ({reason})"
    else:
        state = "compiled"
    return state


def full_state(obj: object) -> dict:
    """Every attribute of ``obj``, for pickling (a model snapshot): a compiled object's native
    attributes (listed by mypyc in ``__mypyc_attrs__``) and its ``__dict__``, which an interpreted
    class deriving from a compiled one has (a process not compiled, a mesa agent deriving from
    :class:`~rcc_sim.engine.unit.Unit`) and which mypyc's own pickling would leave out."""
    state = dict(getattr(obj, "__dict__", {}))
    for name in getattr(type(obj), "__mypyc_attrs__", ()):
        if name != "__dict__" and hasattr(obj, name):
            state[name] = getattr(obj, name)
    return state


def set_state(obj: object, state: dict) -> None:
    """Restore what :func:`full_state` took."""
    for name, value in state.items():
        setattr(obj, name, value)


def clean() -> list[Path]:
    """Remove every compiled file of the engine (and the stamp); returns what was removed."""
    gone = [p for m in (*MODULES, GROUP + "__mypyc") for p in native_files(m)]
    gone += [STAMP] if STAMP.exists() else []
    for p in gone:
        p.unlink()
    return gone


__all__ = [
    "GROUP",
    "MODULES",
    "clean",
    "full_state",
    "guard",
    "native_files",
    "set_state",
    "source_hashes",
    "state",
    "write_stamp",
]
