"""Patch search: ``dnls::search`` and its backward ``dnls::search_backward``."""

from ctypes import byref
from typing import Optional

import torch
from torch import Tensor

from .. import _lib
from . import _common
from ._common import optional_contiguous
from ._grid import QueryGrid, encode_grid

# params: [patch_size, dilation, anchor, border, window_size, window_stride, temporal_radius,
#          k (0: whole window), metric, channels (0: all)]
# grid: the ten ints of a QueryGrid batch, used when queries is None.


def _queries(queries: Optional[Tensor], grid) -> _lib.Queries:
    if queries is None:
        return _common.grid_struct(tuple(grid))
    return _lib.position_queries(_lib.describe(queries, "queries"))


def _shapes(video: Tensor, queries: Optional[Tensor], grid, params) -> tuple:
    """Shapes of the distances and indices."""
    if video.dim() not in (4, 5):
        raise ValueError(f"video: expected (B, T, C, H, W) or (T, C, H, W), got shape {tuple(video.shape)}")
    frames, height, width = video.shape[-4], video.shape[-2], video.shape[-1]
    if queries is not None:
        q = queries.shape[-2] if queries.dim() >= 2 else 0
    else:
        q = _common.query_count(grid, params[:4], frames, height, width, "dnls.search")
    k = _common.search_slots(params, frames, height, width)
    lead = tuple(video.shape[:-4])
    return (*lead, q, k), (*lead, q, k, 3)


@torch.library.custom_op("dnls::search", mutates_args=())
def _search_op(video: Tensor, keys: Optional[Tensor], queries: Optional[Tensor], grid: list[int],
               forward_flow: Optional[Tensor], backward_flow: Optional[Tensor], params: list[int]) -> tuple[Tensor, Tensor]:
    video = video.contiguous()
    keys, queries = optional_contiguous(keys), optional_contiguous(queries)
    forward_flow, backward_flow = optional_contiguous(forward_flow), optional_contiguous(backward_flow)
    dshape, ishape = _shapes(video, queries, grid, params)
    distances = torch.empty(dshape, dtype=video.dtype, device=video.device)
    indices = torch.empty(ishape, dtype=torch.int32, device=video.device)
    lib = _lib.library()
    key = ("search", tuple(video.shape), video.dtype, keys is None, None if queries is None else tuple(queries.shape),
           tuple(grid), forward_flow is None, backward_flow is None, tuple(params))
    _lib.run(lib.search_forward, video.device, key,
             byref(_common.search_struct(tuple(params))), byref(_lib.describe(video, "video")),
             _lib.describe_optional(keys, "keys"), byref(_queries(queries, grid)),
             _lib.describe_optional(forward_flow, "forward_flow"), _lib.describe_optional(backward_flow, "backward_flow"),
             byref(_lib.describe(distances, "distances")), byref(_lib.describe(indices, "indices")),
             where="dnls.search")
    return distances, indices


@_search_op.register_fake
def _search_fake(video, keys, queries, grid, forward_flow, backward_flow, params):
    dshape, ishape = _shapes(video, queries, grid, params)
    return video.new_empty(dshape), video.new_empty(ishape, dtype=torch.int32)


@torch.library.custom_op("dnls::search_backward", mutates_args=())
def _search_backward_op(distance_gradient: Tensor, indices: Tensor, video: Tensor, keys: Optional[Tensor],
                        queries: Optional[Tensor], grid: list[int], params: list[int]) -> tuple[Tensor, Tensor]:
    distance_gradient, indices, video = distance_gradient.contiguous(), indices.contiguous(), video.contiguous()
    keys, queries = optional_contiguous(keys), optional_contiguous(queries)
    video_gradient = torch.empty_like(video, memory_format=torch.contiguous_format)
    keys_gradient = torch.empty_like(video, memory_format=torch.contiguous_format) if keys is not None \
        else video.new_empty((0,))
    lib = _lib.library()
    key = ("search_backward", tuple(video.shape), video.dtype, keys is None, tuple(indices.shape),
           None if queries is None else tuple(queries.shape), tuple(grid), tuple(params))
    _lib.run(lib.search_backward, video.device, key,
             byref(_common.search_struct(tuple(params))), byref(_lib.describe(distance_gradient, "distance_gradient")),
             byref(_lib.describe(indices, "indices")), byref(_lib.describe(video, "video")),
             _lib.describe_optional(keys, "keys"), byref(_queries(queries, grid)),
             byref(_lib.describe(video_gradient, "video_gradient")),
             None if keys is None else byref(_lib.describe(keys_gradient, "keys_gradient")),
             where="dnls.search backward")
    return video_gradient, keys_gradient


@_search_backward_op.register_fake
def _search_backward_fake(distance_gradient, indices, video, keys, queries, grid, params):
    return torch.empty_like(video), (torch.empty_like(video) if keys is not None else video.new_empty((0,)))


def _search_setup(ctx, inputs, output):
    video, keys, queries, grid, _, _, params = inputs
    _, indices = output
    ctx.save_for_backward(video, keys, queries, indices)
    ctx.grid = grid
    ctx.params = params
    ctx.mark_non_differentiable(indices)


def _search_backward(ctx, distance_gradient, _indices_gradient):
    video, keys, queries, indices = ctx.saved_tensors
    if distance_gradient is None:
        return None, None, None, None, None, None, None
    video_gradient, keys_gradient = _search_backward_op(distance_gradient.contiguous(), indices, video, keys, queries,
                                                        ctx.grid, ctx.params)
    return video_gradient, (keys_gradient if keys is not None else None), None, None, None, None, None


_search_op.register_autograd(_search_backward, setup_context=_search_setup)


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
    params = _common.geometry(patch_size, dilation, anchor, border) + [
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
    return _search_op(video, keys, positions, grid, forward_flow, backward_flow, params)
