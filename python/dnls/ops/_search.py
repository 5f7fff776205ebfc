"""Patch search: ``dnls::search`` and its backward ``dnls::search_backward``."""

import functools
from typing import Optional

import torch
from torch import Tensor

from .. import _lib
from . import _common
from ._grid import QueryGrid, encode_grid
from ._common import optional_contiguous
from ._registry import backward_only, call, define, differentiable

# params: [patch_size, dilation, anchor, border, window_size, window_stride, temporal_radius,
#          k (0: whole window), metric, channels (0: all)]
# grid: the ten ints of a QueryGrid batch, used when queries is None.


def _queries(queries: Optional[Tensor], grid) -> int:
    """The address of the call's DNLSQueries: a cached grid, or the positions in the call frame."""
    if queries is None:
        return _common.grids.address(tuple(grid))
    return _lib.position_queries(queries)


def _shapes(video: Tensor, queries: Optional[Tensor], grid, params) -> tuple:
    """Shapes of the distances and indices."""
    if video.dim() not in (4, 5):
        raise ValueError(f"video: expected (B, T, C, H, W) or (T, C, H, W), got shape {tuple(video.shape)}")
    if queries is None:
        try:
            return _grid_shapes(video.shape, tuple(grid), tuple(params))
        except TypeError:  # symbolic sizes (unhashable): computed below
            pass
    return _computed_shapes(video.shape, queries, grid, params)


@functools.lru_cache(maxsize=4096)
def _grid_shapes(shape: torch.Size, grid: tuple, params: tuple) -> tuple:
    return _computed_shapes(shape, None, grid, params)


def _computed_shapes(shape, queries: Optional[Tensor], grid, params) -> tuple:
    frames, height, width = shape[-4], shape[-2], shape[-1]
    if queries is not None:
        q = queries.shape[-2] if queries.dim() >= 2 else 0
    else:
        q = _common.query_count(grid, params[:4], frames, height, width, "dnls.search")
    k = _common.search_slots(params, frames, height, width)
    lead = tuple(shape[:-4])
    return (*lead, q, k), (*lead, q, k, 3)


def _search(video: Tensor, keys: Optional[Tensor], queries: Optional[Tensor], grid: list[int],
            forward_flow: Optional[Tensor], backward_flow: Optional[Tensor], params: list[int]) -> tuple[Tensor, Tensor]:
    video = video.contiguous()
    keys, queries = optional_contiguous(keys), optional_contiguous(queries)
    forward_flow, backward_flow = optional_contiguous(forward_flow), optional_contiguous(backward_flow)
    dshape, ishape = _shapes(video, queries, grid, params)
    distances = video.new_empty(dshape)
    indices = video.new_empty(ishape, dtype=torch.int32)
    key = ("search", video.shape, video.dtype, keys is None, None if queries is None else queries.shape, *grid,
           forward_flow is None, backward_flow is None, *params)
    where = _queries(queries, grid)
    v, k, f, b, d, i = _lib.descriptors("video keys forward_flow backward_flow distances indices", video, keys,
                                        forward_flow, backward_flow, distances, indices)
    _lib.run(_lib.library().search_forward, video, key, "dnls.search", _common.searches.address(tuple(params)),
             v, k, where, f, b, d, i)
    return distances, indices


def _search_fake(video, keys, queries, grid, forward_flow, backward_flow, params):
    dshape, ishape = _shapes(video, queries, grid, params)
    return video.new_empty(dshape), video.new_empty(ishape, dtype=torch.int32)


def _search_backward(distance_gradient: Tensor, indices: Tensor, video: Tensor, keys: Optional[Tensor],
                     queries: Optional[Tensor], grid: list[int], params: list[int]) -> tuple[Tensor, Tensor]:
    distance_gradient, indices, video = distance_gradient.contiguous(), indices.contiguous(), video.contiguous()
    keys, queries = optional_contiguous(keys), optional_contiguous(queries)
    video_gradient = torch.empty_like(video, memory_format=torch.contiguous_format)
    keys_gradient = torch.empty_like(video, memory_format=torch.contiguous_format) if keys is not None \
        else video.new_empty((0,))
    key = ("search_backward", video.shape, video.dtype, keys is None, indices.shape,
           None if queries is None else queries.shape, *grid, *params)
    where = _queries(queries, grid)
    g, i, v, k, vg, kg = _lib.descriptors("distance_gradient indices video keys video_gradient keys_gradient",
                                          distance_gradient, indices, video, keys, video_gradient,
                                          keys_gradient if keys is not None else None)
    _lib.run(_lib.library().search_backward, video, key, "dnls.search backward",
             _common.searches.address(tuple(params)), g, i, v, k, where, vg, kg)
    return video_gradient, keys_gradient


def _search_backward_fake(distance_gradient, indices, video, keys, queries, grid, params):
    return torch.empty_like(video), (torch.empty_like(video) if keys is not None else video.new_empty((0,)))


_search_op = define("search(Tensor video, Tensor? keys, Tensor? queries, int[] grid, Tensor? forward_flow, "
                    "Tensor? backward_flow, int[] params) -> (Tensor, Tensor)", _search, _search_fake)
_search_backward_op = define(
    "search_backward(Tensor distance_gradient, Tensor indices, Tensor video, Tensor? keys, Tensor? queries, "
    "int[] grid, int[] params) -> (Tensor, Tensor)", _search_backward, _search_backward_fake)


def _search_setup(ctx, inputs, output):
    video, keys, queries, grid, _, _, params = inputs
    _, indices = output
    ctx.save_for_backward(video, keys, queries, indices)
    ctx.grid = grid
    ctx.params = params
    ctx.mark_non_differentiable(indices)


def _search_gradient(ctx, distance_gradient, _indices_gradient):
    video, keys, queries, indices = ctx.saved_tensors
    if distance_gradient is None:
        return None, None, None, None, None, None, None
    video_gradient, keys_gradient = call(_search_backward_op, distance_gradient.contiguous(), indices, video, keys,
                                         queries, ctx.grid, ctx.params)
    return video_gradient, (keys_gradient if keys is not None else None), None, None, None, None, None


differentiable(_search_op, _search_setup, _search_gradient)
backward_only(_search_backward_op, "search")


def search(video: Tensor, queries, *, keys: Optional[Tensor] = None, forward_flow: Optional[Tensor] = None,
           backward_flow: Optional[Tensor] = None, patch_size: int, window_size: int, window_stride: int = 1,
           temporal_radius: int = 0, k: Optional[int] = 10, metric: str = "l2", channels: Optional[int] = None,
           dilation: int = 1, anchor: str = "center", border: str = "reflect") -> tuple[Tensor, Tensor]:
    """K-nearest-neighbour patch search in a space-time window.

    For each query patch of ``video``, every candidate of its window in ``keys`` (``video``
    itself when ``None``) is scored: ``metric="l2"`` the sum of squared differences (smaller is
    better), ``"inner"`` the inner product (larger is better), over the first ``channels``
    channels (``None``: all). The window has ``window_size × window_size`` candidates spaced by
    ``window_stride`` around the query, moved along ``forward_flow``/``backward_flow``
    ``(B, T, 2, H, W)`` into the other frames, in ``min(2·temporal_radius + 1, T)`` frames.

    Args:
        video: ``(B, T, C, H, W)`` or ``(T, C, H, W)``; float32 (CPU, CUDA) or float64 (CPU).
        queries: a :class:`QueryGrid`, or integer positions ``(B, Q, 3)`` / ``(Q, 3)`` of
            ``(t, h, w)`` (int64 is converted to int32); ``None`` is every pixel.
        k: neighbours per query, best first (ties in window order); ``None`` returns the whole
            window in its enumeration order.

    Returns:
        ``(distances, indices)``: ``(B, Q, K)`` and int32 ``(B, Q, K, 3)`` (no ``B`` axis for a
        4-D video). A slot with no candidate has index ``(-1, -1, -1)`` and distance ``+inf``
        (L2) or ``-inf`` (inner product).

    Differentiable with respect to ``video`` and ``keys`` (for the indices found).
    """
    rank = _common.video_rank("video", video)
    metric_code = _common.choice("metric", metric, _common.METRICS)
    if k is None:
        k_code = 0
    else:
        k_code = _common.integer("k", k, minimum=1)
    if channels is None:
        channels_code = 0
    else:
        channels_code = _common.integer("channels", channels, minimum=1)
    params = [*_common.geometry(patch_size, dilation, anchor, border),
              _common.integer("window_size", window_size), _common.integer("window_stride", window_stride),
              _common.integer("temporal_radius", temporal_radius), k_code, metric_code, channels_code]
    frames, height, width = video.shape[-4], video.shape[-2], video.shape[-1]
    if queries is None or isinstance(queries, QueryGrid):
        grid = encode_grid(queries, frames, height, width, "queries")
        positions = None
    else:
        positions = _common.int_positions("queries", queries, (rank - 2,),
                                          "(B, Q, 3) for a 5-D video" if rank == 5 else "(Q, 3) for a 4-D video")
        grid = []
    if keys is not None:
        _common.require_tensor("keys", keys)
    return call(_search_op, video, keys, positions, grid, forward_flow, backward_flow, params)
