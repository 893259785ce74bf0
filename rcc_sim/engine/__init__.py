"""The simulation engine. Importing it first decides whether its compiled modules are used
(:func:`rcc_sim.engine.compiled.guard`): only when they were compiled from the sources present."""

from rcc_sim.engine import compiled as _compiled

_compiled.guard()

from rcc_sim.engine import snapshot as _snapshot  # noqa: E402, F401  (librt's vectors made picklable: copyreg)
