"""The contract every process shares: the :class:`Context` it is built from and the :class:`Process`
base (see :mod:`rcc_sim.engine.processes`). A module of its own so that the compiled engine
(:mod:`rcc_sim.engine.compiled`) compiles it with the processes, and the package stays plain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mypy_extensions import mypyc_attr

from rcc_sim.config import Config
from rcc_sim.engine.agents import AgentModel
from rcc_sim.engine.clock import Clock
from rcc_sim.engine.compiled import full_state, set_state
from rcc_sim.engine.recorder import Recorder
from rcc_sim.engine.streams import Streams
from rcc_sim.engine.world import World


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # see rcc_sim.engine.compiled
@dataclass
class Context:
    """What every process may use: read-only inputs, the clock, randomness and the recorder."""

    cfg: Config
    world: World
    clock: Clock
    streams: Streams
    rec: Recorder
    # agents are created with it (mesa registers them; agents_of lists them); no process is reached through it
    agents: AgentModel


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)  # interpreted processes; snapshots
class Process:
    """Base of every process: the context, then collaborators by name (``bind``), then ``build``."""

    name = "process"

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.world = ctx.world
        self.clock = ctx.clock
        self.rec = ctx.rec

    def bind(self, **collaborators: Any) -> None:
        """Receive the processes this one calls, by name (checked against ``needs``)."""
        needs = set(getattr(self, "needs", ()))
        if set(collaborators) != needs:
            raise TypeError(f"{type(self).__name__}.bind needs {sorted(needs)}, got {sorted(collaborators)}")
        for key, value in collaborators.items():
            setattr(self, key, value)

    def build(self) -> None:
        """Create the process's state at the base date (default: nothing)."""

    def __getstate__(self) -> dict[str, Any]:
        """Every attribute, for a model snapshot, including those of a process not compiled that
        derives from this compiled base (:func:`rcc_sim.engine.compiled.full_state`)."""
        return full_state(self)

    def __setstate__(self, state: dict[str, Any]) -> None:
        set_state(self, state)


__all__ = ["Context", "Process"]
