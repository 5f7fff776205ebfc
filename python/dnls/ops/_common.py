"""Argument checking and encoding shared by the operators."""

from __future__ import annotations

import ctypes
import functools
import math
import operator
from typing import Optional, Sequence

import torch

from .. import _lib

_INT32_MIN, _INT32_MAX = -(1 << 31), (1 << 31) - 1

ANCHORS = {"center": 0, "top_left": 1}
BORDERS = {"reflect": 0, "zero": 1}
METRICS = {"l2": 0, "inner": 1}


def choice(name: str, value, table: dict) -> int:
    """The code of a string option, or a ValueError naming the argument."""
    try:
        return table[value]
    except (KeyError, TypeError):
        options = ", ".join(repr(k) for k in table)
        raise ValueError(f"{name}: expected one of {options}, got {value!r}") from None


def integer(name: str, value, minimum: Optional[int] = None, bits: int = 32) -> int:
    """``value`` as an int (bools refused), at least ``minimum``, that fits in ``bits`` bits
    (the library's parameters are int32 unless said otherwise)."""
    if isinstance(value, bool):
        raise ValueError(f"{name}: expected an integer, got {value!r}")
    if not isinstance(value, torch.SymInt):
        try:
            value = operator.index(value)
        except TypeError:
            raise ValueError(f"{name}: expected an integer, got {value!r}") from None
    if minimum is not None and value < minimum:
        raise ValueError(f"{name}: expected at least {minimum}, got {value}")
    if isinstance(value, int) and not -(1 << (bits - 1)) <= value < (1 << (bits - 1)):
        raise ValueError(f"{name}: expected a {bits}-bit integer, got {value}")
    return value


def geometry(patch_size, dilation, anchor, border) -> tuple:
    """``(patch_size, dilation, anchor code, border code)`` (sizes are checked by the library)."""
    if type(patch_size) is int and type(dilation) is int and type(anchor) is str and type(border) is str \
            and not torch.compiler.is_compiling():
        return _checked_geometry(patch_size, dilation, anchor, border)
    # Symbolic sizes, arguments to refuse, or tracing (where the cache would only be traced through).
    return _check_geometry(patch_size, dilation, anchor, border)


def _check_geometry(patch_size, dilation, anchor, border) -> tuple:
    return (integer("patch_size", patch_size, minimum=1), integer("dilation", dilation),
            choice("anchor", anchor, ANCHORS), choice("border", border, BORDERS))


_checked_geometry = functools.lru_cache(maxsize=256)(_check_geometry)


def require_tensor(name: str, value) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise ValueError(f"{name}: expected a torch.Tensor, got {type(value).__name__}")
    return value


def video_rank(name: str, video: torch.Tensor) -> int:
    """Checks that ``video`` is ``(B, T, C, H, W)`` or ``(T, C, H, W)``; returns its rank."""
    require_tensor(name, video)
    if video.dim() not in (4, 5):
        raise ValueError(f"{name}: expected a video (B, T, C, H, W) or (T, C, H, W), got shape {tuple(video.shape)}")
    if 0 in video.shape[-4:]:
        raise ValueError(f"{name}: expected at least one frame, channel, row and column, got shape {tuple(video.shape)}")
    return video.dim()


def video_shape(name: str, shape) -> list[int]:
    """A video shape ``(T, C, H, W)`` or ``(B, T, C, H, W)`` as a list of non-negative ints."""
    if isinstance(shape, torch.Size):
        shape = list(shape)
    if type(shape) in (list, tuple) and len(shape) in (4, 5) and all(type(s) is int and 0 <= s < 1 << 63 for s in shape) \
            and math.prod(shape) < 1 << 60:
        return list(shape)  # the common case: plain ints within the limits (nothing to convert)
    if not isinstance(shape, (list, tuple)) or len(shape) not in (4, 5):
        raise ValueError(f"{name}: expected (T, C, H, W) or (B, T, C, H, W), got {shape!r}")
    shape = [integer(name, s, minimum=0, bits=64) for s in shape]
    if all(isinstance(s, int) for s in shape) and math.prod(shape) >= 1 << 60:
        raise ValueError(f"{name}: {tuple(shape)} has more elements than a tensor can hold")
    return shape


def int_positions(name: str, tensor, ranks: Sequence[int], meaning: str) -> torch.Tensor:
    """An integer position tensor as int32 (int64 and other integer types are converted)."""
    require_tensor(name, tensor)
    if tensor.dim() not in ranks:
        raise ValueError(f"{name}: expected shape {meaning}, got {tuple(tensor.shape)}")
    if tensor.dtype != torch.int32 and not tensor.dtype.is_floating_point and not tensor.dtype.is_complex \
            and tensor.dtype != torch.bool:
        if tensor.dtype == torch.int64:
            # Saturate instead of wrapping, so that a position beyond int32 stays out of range (and
            # is reported) instead of becoming a valid one; no host synchronisation is needed.
            tensor = tensor.clamp(_INT32_MIN, _INT32_MAX)
        tensor = tensor.to(torch.int32)
    return tensor


def optional_contiguous(tensor: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
    return None if tensor is None else tensor.contiguous()


def whole(grid: Optional[Sequence[int]]) -> bool:
    return grid is None or len(grid) == 0


# ----------------------------------------------------------------------------------------------
# Shape functions (no tensor data needed)


@functools.lru_cache(maxsize=4096)
def _query_count(grid: tuple, geom: tuple, frames: int, height: int, width: int, where: str) -> int:
    lib = _lib.library()
    count = ctypes.c_int64()
    _lib.host_call(lib.query_count, grids.address(tuple(int(v) for v in grid)),
                   geometries.address(tuple(int(v) for v in geom)), frames, height, width, ctypes.byref(count),
                   where=where)
    return count.value


def query_count(grid, geom, frames, height, width, where: str = "dnls") -> int:
    """The number of queries of a grid batch (``grid``: the ten ints of a :class:`QueryGrid`).
    Symbolic sizes (fake tensors under ``torch.compile``) are made concrete."""
    if type(frames) is not int or type(height) is not int or type(width) is not int:
        frames, height, width = int(frames), int(height), int(width)
    try:
        return _query_count(tuple(grid), tuple(geom), frames, height, width, where)
    except TypeError:  # a symbolic entry (unhashable): made concrete
        return _query_count(tuple(int(v) for v in grid), tuple(int(v) for v in geom), frames, height, width, where)


@functools.lru_cache(maxsize=4096)
def _search_slots(params: tuple, frames: int, height: int, width: int) -> int:
    lib = _lib.library()
    slots = ctypes.c_int64()
    _lib.host_call(lib.search_slots, searches.address(tuple(int(v) for v in params)), frames, height, width,
                   ctypes.byref(slots), where="dnls.search")
    return slots.value


def search_slots(params, frames, height, width) -> int:
    """K of a search result (``params``: the ten ints of a search)."""
    if type(frames) is not int or type(height) is not int or type(width) is not int:
        frames, height, width = int(frames), int(height), int(width)
    try:
        return _search_slots(tuple(params), frames, height, width)
    except TypeError:  # a symbolic entry (unhashable): made concrete
        return _search_slots(tuple(int(v) for v in params), frames, height, width)


class StructCache:
    """The library's parameter structs by their parameters (a tuple of ints), built once: a call
    passes the cached struct's address. A struct stays alive, and its address valid, while it is
    cached; the cache is emptied when it reaches ``size`` entries, which can only happen while a
    new struct is being made, before any address from this cache is passed on."""

    def __init__(self, make, size: int = 1024):
        self._make = make
        self._size = size
        self._entries: dict = {}

    def address(self, key: tuple) -> int:
        entry = self._entries.get(key)
        if entry is None:
            if len(self._entries) >= self._size:
                self._entries.clear()
            struct = self._make(*key)
            entry = (struct, ctypes.addressof(struct))
            self._entries[key] = entry
        return entry[1]


def _search_struct(ps, dil, anchor, border, ws, wstride, wt, k, metric, channels) -> _lib.Search:
    return _lib.Search(_lib.Geometry(ps, dil, anchor, border), ws, wstride, wt, k, metric, channels)


def _grid_struct(*grid) -> _lib.Queries:
    return _lib.grid_queries(grid)


geometries = StructCache(_lib.Geometry)
"""``DNLSGeometry`` by ``(patch_size, dilation, anchor, border)``."""
searches = StructCache(_search_struct)
"""``DNLSSearch`` by the ten ints of a search."""
grids = StructCache(_grid_struct)
"""``DNLSQueries`` of grid batches by the ten ints of a :class:`QueryGrid` batch."""
