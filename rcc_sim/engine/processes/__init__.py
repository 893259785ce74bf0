"""The model's processes, and the one contract they share.

A process is a part of the model with its own parameters (a config section), its own named
random streams and the outputs it fills. Every process is built the same way:

* ``__init__(ctx)`` takes the :class:`Context` - config, world, clock, streams, recorder and the
  mesa model that agents register with - and nothing else;
* ``bind(...)`` is given, by name, the other processes it calls (the model wires them all in one
  place, :meth:`rcc_sim.engine.model.CareSystemModel._wire`); a process never reaches through the
  model for another one;
* ``build()`` creates its state at the model's first day (the base date, or the start of the
  spin-up); what belongs to the policy - the RCCs, the reform package - is set up only at the base
  date (``Commissioning.start_policy`` and the ``start_package`` hooks it calls), so a spin-up is the
  same whatever the policy;
* its weekly, quarterly and yearly steps are ordinary methods that the model's plan
  (:mod:`rcc_sim.engine.plan`) lists and runs in a declared order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import mesa

    from rcc_sim.config import Config
    from rcc_sim.engine.clock import Clock
    from rcc_sim.engine.recorder import Recorder
    from rcc_sim.engine.streams import Streams
    from rcc_sim.engine.world import World


@dataclass
class Context:
    """What every process may use: read-only inputs, the clock, randomness and the recorder."""

    cfg: Config
    world: World
    clock: Clock
    streams: Streams
    rec: Recorder
    agents: mesa.Model  # agents are created with it (mesa registers them); no process is reached through it


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


__all__ = ["Context", "Process"]
