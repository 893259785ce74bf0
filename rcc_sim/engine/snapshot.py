"""Pickling a model's state with its shared memory intact (``CareSystemModel.snapshot``).

A process may keep a numpy view of another's array (or of an ``array.array`` buffer). Plain
pickle copies each view on its own, so after loading a view and its base would be separate
memory and the process would stop following the model. :func:`dumps` pickles every numpy view
as "this window of that buffer": the buffer (an ``array.array`` or an array that owns its data)
is pickled once, and each view is rebuilt on it, so the loaded state shares memory exactly as the
original did. The recorder's live counters (``librt.vecs.vec[float]``, which pickle cannot take) are
pickled as lists and rebuilt as vectors; each is one object, shared by reference, which pickle keeps.
"""

from __future__ import annotations

import io
import pickle
from array import array
from typing import Any

import numpy as np
from librt.vecs import vec


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


def _vec_float(items: list[float]) -> Any:
    return vec[float](items)


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is _VEC_FLOAT:  # a live counter (Recorder): librt's vectors do not pickle
            return _vec_float, (list(obj),)
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
