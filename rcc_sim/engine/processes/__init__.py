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

from rcc_sim.engine.processes.contract import Context, Process

__all__ = ["Context", "Process"]
