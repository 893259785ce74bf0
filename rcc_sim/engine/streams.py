"""Named random streams: one ``numpy.random.Generator`` per decision, all from one SeedSequence.

A stream's seed depends only on the run seed and the stream's name (and an optional key such as
an LA code), never on the order in which streams are created. Adding a stream, or a policy that
draws more often from one stream, therefore leaves every other stream's draws unchanged: the
basis of common random numbers between paired scenarios.
"""

from __future__ import annotations

import math
import zlib
from typing import Final

import numpy as np
from librt.vecs import vec
from mypy_extensions import mypyc_attr

# math.log1p as a C static when compiled (mypyc has no native log1p: a module attribute, looked up
# in the module's dictionary at every call, on some two million draws a run)
_log1p: Final = math.log1p


def _name_key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # see rcc_sim.engine.compiled
class Streams:
    """Factory and registry of the run's named random generators."""

    def __init__(self, seed: int):
        self.seed = int(seed)
        self._root = np.random.SeedSequence(self.seed)
        self._cache: dict[str, np.random.Generator] = {}

    def __call__(self, name: str) -> np.random.Generator:
        """The generator for decision ``name`` (created on first use)."""
        gen = self._cache.get(name)
        if gen is None:
            seq = np.random.SeedSequence(self._root.entropy, spawn_key=(_name_key(name),))
            gen = np.random.Generator(np.random.PCG64(seq))
            self._cache[name] = gen
        return gen

    def draws(self, name: str) -> Draws:
        """Scalar draws from stream ``name``, taken from it in blocks (see :class:`Draws`)."""
        return Draws(self(name))

    @property
    def names(self) -> list[str]:
        return sorted(self._cache)


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # see rcc_sim.engine.compiled
class Draws:
    """One stream's uniforms, drawn in blocks of ``BLOCK`` and handed out one at a time.

    A scalar call into a numpy generator costs about half a microsecond; an event-driven model
    makes millions of them. Taking uniforms in blocks and handing them out one by one from a
    vector of doubles (``librt.vecs.vec[float]``, read natively by the compiled engine: no float
    object kept per uniform) is several times cheaper and keeps the stream's draws (and so common
    random numbers) its own: the k-th uniform used is the k-th the generator produced.
    """

    BLOCK = 4096

    def __init__(self, gen: np.random.Generator):
        self.gen = gen
        self._buf: vec[float] = vec[float]()
        self._next = 0  # the next uniform's position in the block

    def random(self) -> float:
        """U(0, 1)."""
        i = self._next
        if i >= len(self._buf):
            self._buf = vec[float](self.gen.random(self.BLOCK))  # from the buffer: no float objects
            i = 0
        self._next = i + 1
        return self._buf[i]

    def exponential(self, scale: float) -> float:
        """Exponential with mean ``scale`` (inverse transform of one uniform)."""
        return -scale * _log1p(-self.random())
