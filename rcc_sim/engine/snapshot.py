"""Pickling a model's state with its shared memory intact (``CareSystemModel.snapshot``).

A process may keep a numpy view of another's array (or of an ``array.array`` buffer). Plain
pickle copies each view on its own, so after loading a view and its base would be separate
memory and the process would stop following the model. :func:`dumps` pickles every numpy view
as "this window of that buffer": the buffer (an ``array.array`` or an array that owns its data)
is pickled once, and each view is rebuilt on it, so the loaded state shares memory exactly as the
original did. librt's vectors (``librt.vecs.vec``: the recorder's live counters and others), which
pickle cannot take, are pickled as lists and rebuilt as vectors, each vector once however many
objects reach the pickler over its memory (a compiled object boxes a vector attribute anew at each
read), so the processes and the recorder still share their counters after loading.
"""

from __future__ import annotations

import copyreg
import io
import pickle
from array import array
from typing import Any

import numpy as np
from librt.vecs import vec
from mypy_extensions import i64


def _root(a: np.ndarray) -> Any:
    """The object that owns the memory of the view ``a`` (follows ``.base``)."""
    base = a.base
    while isinstance(base, np.ndarray) and base.base is not None:
        base = base.base
    return base.obj if isinstance(base, memoryview) else base  # np.frombuffer: a memoryview of the buffer


def _address(obj: Any) -> int:
    return obj.buffer_info()[0] if isinstance(obj, array) else obj.__array_interface__["data"][0]


def _view(root: Any, dtype: np.dtype, shape: tuple[int, ...], strides: tuple[int, ...], offset: int) -> np.ndarray:
    """The view of ``root``'s memory that :func:`dumps` described."""
    return np.ndarray(shape, dtype=dtype, buffer=root, offset=offset, strides=strides)


_VEC_FLOAT = type(vec[float]())
_VEC_I64 = type(vec[i64]())


def _vec_float(items: list[float]) -> Any:
    return vec[float](items)


def _vec_i64(items: list[int]) -> Any:
    return vec[i64](items)


_REBUILD = {_VEC_FLOAT: _vec_float, _VEC_I64: _vec_i64}


def _reduce_vector(v: Any) -> tuple[Any, tuple[list]]:
    """A vector pickled as its items in a list, rebuilt as a vector of its type."""
    return _REBUILD[type(v)], (list(v),)


# plain pickle too takes librt's vectors (an engine object pickled on its own, e.g. the clock);
# only :func:`dumps` keeps two references to one vector's memory one vector (see above)
for _vector_type in _REBUILD:
    copyreg.pickle(_vector_type, _reduce_vector)


def _same(obj: Any) -> Any:
    return obj


def _vec_key(v: Any) -> tuple[type, int, int] | None:
    """The memory a vector's items are in (its type, address and length), or None if empty."""
    if not len(v):
        return None
    return type(v), np.frombuffer(memoryview(v), dtype=np.uint8).__array_interface__["data"][0], len(v)


class _Pickler(pickle.Pickler):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._vectors: dict[tuple[type, int, int], Any] = {}

    def reducer_override(self, obj: Any) -> Any:
        # librt's vectors (live counters, the clock's calendar, the draws) do not pickle: as lists.
        # A compiled object keeps a vector in a typed attribute unboxed and boxes it anew at each
        # read, so one vector (the recorder's counter and a process's reference to it) reaches
        # the pickler as several objects over the same memory: pickled once, the others refer to it
        if type(obj) in _REBUILD:
            key = _vec_key(obj)
            first = self._vectors.get(key) if key is not None else None
            if first is not None and first is not obj:
                return _same, (first,)
            if key is not None:
                self._vectors[key] = obj
            return _reduce_vector(obj)
        if type(obj) is np.ndarray and obj.base is not None:
            root = _root(obj)
            if isinstance(root, array) or (isinstance(root, np.ndarray) and root.flags.owndata):
                offset = obj.__array_interface__["data"][0] - _address(root)
                return _view, (root, obj.dtype, obj.shape, obj.strides, offset)
        return NotImplemented


def dumps(obj: Any) -> bytes:
    """``pickle.dumps(obj)`` keeping numpy views on their buffers (load with ``pickle.loads``)."""
    out = io.BytesIO()
    _Pickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return out.getvalue()


__all__ = ["dumps"]
