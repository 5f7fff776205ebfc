"""``torch.nn.Module`` wrappers of :mod:`dnls.ops` and a non-local aggregation block.

* :class:`PatchSearch` — k-nearest-neighbour patch search over a query grid;
* :class:`Unfold` / :class:`Fold` — patches of a query grid and back, ``Fold`` optionally
  normalised into an average of the overlapping patches;
* :class:`NonLocalAggregation` — each patch replaced by a softmax-weighted average of its
  nearest neighbours (found on features), folded back into a video.

Every module works on ``(B, T, C, H, W)`` or ``(T, C, H, W)`` videos and is differentiable
through :mod:`dnls.ops`.
"""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor, nn

from . import ops
from .ops import QueryGrid

__all__ = ["PatchSearch", "Unfold", "Fold", "NonLocalAggregation"]


def _grid(stride: int, grid: Optional[QueryGrid]) -> QueryGrid:
    return grid if grid is not None else QueryGrid(stride=stride)


class PatchSearch(nn.Module):
    """The ``k`` nearest patches of every query in a space-time window (:func:`dnls.ops.search`).

    Args:
        patch_size, window_size: patch side and window side (candidates per axis).
        k: neighbours per query (``None``: the whole window, in window order).
        stride: stride of the default query grid (every ``stride``-th row and column).
        window_stride, temporal_radius, metric, channels, dilation, anchor, border: as in
            :func:`dnls.ops.search`.

    ``forward(video, queries=None, *, keys=None, forward_flow=None, backward_flow=None)``
    returns ``(distances, indices)``; ``queries`` is a :class:`~dnls.ops.QueryGrid` or
    positions, by default the grid of ``stride``.
    """

    def __init__(self, patch_size: int, window_size: int, k: Optional[int] = 10, *, stride: int = 1,
                 window_stride: int = 1, temporal_radius: int = 0, metric: str = "l2", channels: Optional[int] = None,
                 dilation: int = 1, anchor: str = "center", border: str = "reflect"):
        super().__init__()
        self.patch_size, self.window_size, self.k = patch_size, window_size, k
        self.grid = QueryGrid(stride=stride)
        self.window_stride, self.temporal_radius = window_stride, temporal_radius
        self.metric, self.channels = metric, channels
        self.dilation, self.anchor, self.border = dilation, anchor, border

    def forward(self, video: Tensor, queries=None, *, keys: Optional[Tensor] = None,
                forward_flow: Optional[Tensor] = None, backward_flow: Optional[Tensor] = None):
        return ops.search(video, self.grid if queries is None else queries, keys=keys, forward_flow=forward_flow,
                          backward_flow=backward_flow, patch_size=self.patch_size, window_size=self.window_size,
                          window_stride=self.window_stride, temporal_radius=self.temporal_radius, k=self.k,
                          metric=self.metric, channels=self.channels, dilation=self.dilation, anchor=self.anchor,
                          border=self.border)

    def extra_repr(self) -> str:
        return (f"patch_size={self.patch_size}, window_size={self.window_size}, k={self.k}, "
                f"stride={self.grid.stride}, metric={self.metric!r}")


class Unfold(nn.Module):
    """The patches ``(B, Q, 1, C, ps, ps)`` of a query grid (:func:`dnls.ops.unfold`).

    Args:
        patch_size: patch side.
        stride: stride of the default grid; ``grid`` replaces it.
        dilation, anchor, border: the patch geometry.

    ``forward(video, grid=None)``.
    """

    def __init__(self, patch_size: int, *, stride: int = 1, grid: Optional[QueryGrid] = None, dilation: int = 1,
                 anchor: str = "center", border: str = "reflect"):
        super().__init__()
        self.patch_size = patch_size
        self.grid = _grid(stride, grid)
        self.dilation, self.anchor, self.border = dilation, anchor, border

    def forward(self, video: Tensor, grid: Optional[QueryGrid] = None) -> Tensor:
        return ops.unfold(video, self.grid if grid is None else grid, patch_size=self.patch_size,
                          dilation=self.dilation, anchor=self.anchor, border=self.border)

    def extra_repr(self) -> str:
        return f"patch_size={self.patch_size}, grid={self.grid}"


class Fold(nn.Module):
    """Patches ``(B, Q, 1, C, ps, ps)`` of a query grid summed back into a video
    (:func:`dnls.ops.fold`).

    Args:
        stride: stride of the default grid; ``grid`` replaces it.
        normalize: divide by the fold of ones (how many patch samples reached each pixel), which
            turns the sum into the average of the overlapping patches; pixels no patch reaches stay
            zero. The divisor is computed once per shape, device and dtype (outside
            ``torch.compile``; inside it, it is part of the graph).
        dilation, anchor, border: the patch geometry.

    ``forward(patches, video_shape, grid=None)``.
    """

    def __init__(self, *, stride: int = 1, grid: Optional[QueryGrid] = None, normalize: bool = False,
                 dilation: int = 1, anchor: str = "center", border: str = "reflect"):
        super().__init__()
        self.grid = _grid(stride, grid)
        self.normalize = normalize
        self.dilation, self.anchor, self.border = dilation, anchor, border
        self._counts: dict = {}

    def counts(self, patches: Tensor, video_shape, grid: Optional[QueryGrid] = None) -> Tensor:
        """The fold of ones for patches like ``patches``: ``(1, T, 1, H, W)`` (``(T, 1, H, W)``
        without a batch axis), broadcastable to the video."""
        grid = self.grid if grid is None else grid
        shape = tuple(int(s) for s in video_shape)
        batched = len(shape) == 5
        key = (shape, grid, tuple(patches.shape[-5:]), patches.dtype, patches.device)
        compiling = torch.compiler.is_compiling()
        if not compiling and key in self._counts:
            return self._counts[key]
        ps = patches.shape[-1]
        ones_shape = ((1,) if batched else ()) + (patches.shape[-5], 1, 1, ps, ps)
        ones = torch.ones(ones_shape, dtype=patches.dtype, device=patches.device)
        count_shape = ((1,) if batched else ()) + (shape[-4], 1, shape[-2], shape[-1])
        counts = ops.fold(ones, grid, count_shape, dilation=self.dilation, anchor=self.anchor, border=self.border)
        if not compiling:
            if len(self._counts) >= 16:
                self._counts.clear()
            self._counts[key] = counts
        return counts

    def forward(self, patches: Tensor, video_shape, grid: Optional[QueryGrid] = None) -> Tensor:
        grid = self.grid if grid is None else grid
        video = ops.fold(patches, grid, video_shape, dilation=self.dilation, anchor=self.anchor, border=self.border)
        if not self.normalize:
            return video
        counts = self.counts(patches, video_shape, grid)
        return video / counts.clamp_min(torch.finfo(video.dtype).tiny)

    def extra_repr(self) -> str:
        return f"grid={self.grid}, normalize={self.normalize}"


class NonLocalAggregation(nn.Module):
    """Non-local aggregation: every query patch becomes the softmax-weighted average of its
    ``k`` nearest neighbours, and the patches are folded back into a video and normalised.

    1. ``distances, indices = search(features, grid)`` (L2 by default);
    2. ``weights = softmax(−distances / τ)`` over the neighbours (``+distances / τ`` for
       ``metric="inner"``), with empty slots weighted zero; ``τ = exp(log_temperature)``, a
       learnable parameter unless ``learn_temperature=False``;
    3. ``patches = wpsum(values, weights, indices)``;
    4. ``fold(patches) / fold(ones)``.

    Args:
        patch_size, window_size, k: search patch side, window side and neighbours per query.
        temperature: the initial ``τ`` (positive).
        stride: stride of the query grid (at most ``patch_size`` for every pixel to be reached).
        learn_temperature: make ``log_temperature`` a parameter (else a buffer).
        window_stride, temporal_radius, metric, channels, dilation, anchor, border: as in
            :func:`dnls.ops.search`.

    ``forward(features, values=None, *, forward_flow=None, backward_flow=None)``: the
    neighbours are searched on ``features`` and averaged from ``values`` (``features`` when
    ``None``; same frames and size, any channels). Returns a video shaped like ``values``.
    """

    def __init__(self, patch_size: int = 7, window_size: int = 15, k: int = 10, *, temperature: float = 1.0,
                 stride: int = 1, learn_temperature: bool = True, window_stride: int = 1, temporal_radius: int = 0,
                 metric: str = "l2", channels: Optional[int] = None, dilation: int = 1, anchor: str = "center",
                 border: str = "reflect"):
        super().__init__()
        if not temperature > 0:
            raise ValueError(f"temperature: expected a positive number, got {temperature!r}")
        self.search = PatchSearch(patch_size, window_size, k, stride=stride, window_stride=window_stride,
                                  temporal_radius=temporal_radius, metric=metric, channels=channels,
                                  dilation=dilation, anchor=anchor, border=border)
        self.fold = Fold(grid=self.search.grid, normalize=True, dilation=dilation, anchor=anchor, border=border)
        log_temperature = torch.tensor(math.log(temperature), dtype=torch.float32)
        if learn_temperature:
            self.log_temperature = nn.Parameter(log_temperature)
        else:
            self.register_buffer("log_temperature", log_temperature)

    @property
    def temperature(self) -> Tensor:
        """``τ = exp(log_temperature)``."""
        return self.log_temperature.exp()

    def weights(self, distances: Tensor) -> Tensor:
        """Softmax weights of the neighbours from their distances; empty slots get zero."""
        found = torch.isfinite(distances)
        scores = torch.where(found, distances, torch.zeros_like(distances))
        sign = 1.0 if self.search.metric == "inner" else -1.0
        logits = sign * scores / self.temperature.to(distances.dtype)
        logits = torch.where(found, logits, torch.full_like(logits, -math.inf))
        return torch.softmax(logits, dim=-1)

    def forward(self, features: Tensor, values: Optional[Tensor] = None, *, forward_flow: Optional[Tensor] = None,
                backward_flow: Optional[Tensor] = None) -> Tensor:
        values = features if values is None else values
        distances, indices = self.search(features, forward_flow=forward_flow, backward_flow=backward_flow)
        weights = self.weights(distances)
        s = self.search
        patches = ops.wpsum(values, weights, indices, patch_size=s.patch_size, dilation=s.dilation, anchor=s.anchor,
                            border=s.border)
        return self.fold(patches, values.shape)

    def extra_repr(self) -> str:
        return f"temperature={float(self.temperature.detach()):.4g}"
