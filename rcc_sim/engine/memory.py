"""Python's objects on 2 MiB memory pages: where a run's memory lies, not what it holds.

A run's children, units, events and lists are some 400 MB of small Python objects (an England
ten-year run), read in scattered order: a good part of the engine's time is the processor
translating their addresses, 4 KiB page by 4 KiB page. Linux can back memory with 2 MiB pages
instead (transparent huge pages), but only memory asked for in large aligned pieces and marked
for it, and Python's small-object allocator (pymalloc) takes its memory 1 MiB at a time.
:func:`use_huge_pages` installs, once per process, an arena allocator (the C extension
``rcc_sim/engine/_hugepages.c``, built with the compiled engine) that hands pymalloc its 1 MiB
arenas from 32 MiB regions aligned to 2 MiB and marked for huge pages.

The objects, their order and every result are the same to the bit (``tests/test_compiled.py``);
the default England run (ten years after the spin-up) took 13.0-14.8 s, median 13.7 s, against
13.7-15.4 s, median 14.8 s, with Python's own allocator (six runs of each, interleaved,
``RCC_SIM_HUGEPAGES=0 python experiments/benchmark.py --repeat 1``, 2026-12-07): 7%; the five-year
default run 10.6 against 11.0 s (medians of four pairs), about 4%. Only part of a run's memory is
on huge pages (about 100 of 250 MB mid-run): objects made before the first model, and the larger
blocks Python takes from ``malloc`` (big lists and dictionaries, numpy's arrays), are not.
Freed arenas are kept for reuse rather than given back to the system, so a process's resident
memory does not shrink after a run; the peak is the same (428 MB).
Where the kernel has no transparent huge pages (or THP is ``never``), or off Linux, or where the
package was installed without a C compiler, nothing changes. ``RCC_SIM_HUGEPAGES=0`` leaves
Python's own allocator in place (to compare, or if in doubt).
"""

from __future__ import annotations

import os
from typing import Any

_state = "not requested"  # "on", "off (RCC_SIM_HUGEPAGES=0)", "unavailable (...)": set by use_huge_pages


def use_huge_pages() -> str:
    """Install the huge-page arena allocator if available and not switched off (once per
    process; later calls only report). Returns the state, as :func:`state` does."""
    global _state
    if _state == "on":
        return _state
    if os.environ.get("RCC_SIM_HUGEPAGES", "1").strip().lower() in ("0", "false", "no", "off"):
        _state = "off (RCC_SIM_HUGEPAGES=0)"
        return _state
    ext = _extension()
    if ext is None:
        _state = "unavailable (not built: installed without a C compiler, or RCC_SIM_COMPILE=0)"
        return _state
    _state = "on" if ext.install() else "unavailable (not Linux)"
    return _state


def state() -> str:
    """Whether Python's objects are on the huge-page arenas in this process."""
    return _state


def stats() -> dict:
    """The arena allocator's counts (regions, arenas new and reused, ...), or ``{}`` if not built."""
    ext = _extension()
    return {} if ext is None else dict(ext.stats())


def built() -> bool:
    """Whether the arena allocator's extension was built with this install."""
    return _extension() is not None


def _extension() -> Any:
    """The C extension ``rcc_sim.engine._hugepages``, or None if it was not built."""
    try:
        from rcc_sim.engine import _hugepages  # type: ignore[attr-defined]
    except ImportError:
        return None
    return _hugepages


__all__ = ["built", "state", "stats", "use_huge_pages"]
