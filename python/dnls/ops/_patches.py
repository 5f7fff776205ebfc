"""Patches at neighbour indices: scatter (video → patches), gather (patches → video) and the
weighted patch sum, as ``dnls::`` custom ops with their backward ops."""

from ctypes import byref
from typing import Optional

import torch
from torch import Tensor

from .. import _lib
from . import _common
from ._common import optional_contiguous

# geom: [patch_size, dilation, anchor code, border code]


def _indices_meaning(rank: int) -> str:
    return "(B, Q, K, 3) for a 5-D video" if rank == 5 else "(Q, K, 3) for a 4-D video"


def _weight_sum_shape(video_shape) -> list:
    shape = list(video_shape)
    shape[-3] = 1
    return shape


def _geometry(geom) -> _lib.Geometry:
    return _common.geometry_struct(tuple(geom))


# ----------------------------------------------------------------------------------------------
# scatter


def _scatter_shape(video: Tensor, indices: Tensor, geom) -> tuple:
    ps = geom[0]
    lead = tuple(indices.shape[:-1]) if indices.dim() >= 1 else ()
    return (*lead, video.shape[-3], ps, ps)


@torch.library.custom_op("dnls::scatter", mutates_args=())
def _scatter_op(video: Tensor, indices: Tensor, geom: list[int]) -> Tensor:
    video, indices = video.contiguous(), indices.contiguous()
    patches = torch.empty(_scatter_shape(video, indices, geom), dtype=video.dtype, device=video.device)
    key = ("scatter", tuple(video.shape), video.dtype, tuple(indices.shape), tuple(geom))
    _lib.run(_lib.library().scatter_forward, video.device, key, byref(_geometry(geom)),
             byref(_lib.describe(video, "video")), byref(_lib.describe(indices, "indices")),
             byref(_lib.describe(patches, "patches")), where="dnls.scatter")
    return patches


@_scatter_op.register_fake
def _scatter_fake(video, indices, geom):
    return video.new_empty(_scatter_shape(video, indices, geom))


@torch.library.custom_op("dnls::scatter_backward", mutates_args=())
def _scatter_backward_op(patch_gradient: Tensor, indices: Tensor, video_shape: list[int], geom: list[int]) -> Tensor:
    patch_gradient, indices = patch_gradient.contiguous(), indices.contiguous()
    video_gradient = torch.empty(video_shape, dtype=patch_gradient.dtype, device=patch_gradient.device)
    key = ("scatter_backward", tuple(patch_gradient.shape), patch_gradient.dtype, tuple(indices.shape),
           tuple(video_shape), tuple(geom))
    _lib.run(_lib.library().scatter_backward, patch_gradient.device, key, byref(_geometry(geom)),
             byref(_lib.describe(patch_gradient, "patch_gradient")), byref(_lib.describe(indices, "indices")),
             byref(_lib.describe(video_gradient, "video_gradient")), where="dnls.scatter backward")
    return video_gradient


@_scatter_backward_op.register_fake
def _scatter_backward_fake(patch_gradient, indices, video_shape, geom):
    return patch_gradient.new_empty(video_shape)


def _scatter_setup(ctx, inputs, output):
    video, indices, geom = inputs
    ctx.save_for_backward(indices)
    ctx.video_shape = list(video.shape)
    ctx.geom = geom


def _scatter_backward(ctx, patch_gradient):
    (indices,) = ctx.saved_tensors
    if patch_gradient is None:
        return None, None, None
    return _scatter_backward_op(patch_gradient.contiguous(), indices, ctx.video_shape, ctx.geom), None, None


_scatter_op.register_autograd(_scatter_backward, setup_context=_scatter_setup)


def scatter(video: Tensor, indices: Tensor, *, patch_size: int, dilation: int = 1, anchor: str = "center",
            border: str = "reflect") -> Tensor:
    """The patches of ``video`` at neighbour ``indices``.

    Args:
        video: ``(B, T, C, H, W)`` or ``(T, C, H, W)``.
        indices: ``(B, Q, K, 3)`` / ``(Q, K, 3)`` positions ``(t, h, w)`` (for example a search's
            indices); ``(-1, -1, -1)`` marks an empty slot, whose patch is zero.

    Returns:
        ``(B, Q, K, C, ps, ps)`` (no ``B`` axis for a 4-D video); entry ``(a, b)`` of a patch at
        ``(h, w)`` reads row ``h + dilation·(a − ps//2)`` (``anchor="center"``) or
        ``h + dilation·a`` (``"top_left"``), through the ``border`` rule.

    Differentiable with respect to ``video`` (its backward is the exact adjoint, a gather).
    """
    rank = _common.video_rank("video", video)
    indices = _common.int_positions("indices", indices, (rank - 1,), _indices_meaning(rank))
    return _scatter_op(video, indices, _common.geometry(patch_size, dilation, anchor, border))


# ----------------------------------------------------------------------------------------------
# gather


@torch.library.custom_op("dnls::gather", mutates_args=())
def _gather_op(patches: Tensor, weights: Optional[Tensor], indices: Tensor, video_shape: list[int],
               geom: list[int]) -> tuple[Tensor, Tensor]:
    patches, indices, weights = patches.contiguous(), indices.contiguous(), optional_contiguous(weights)
    video = torch.empty(video_shape, dtype=patches.dtype, device=patches.device)
    weight_sum = torch.empty(_weight_sum_shape(video_shape), dtype=patches.dtype, device=patches.device)
    key = ("gather", tuple(patches.shape), patches.dtype, weights is None, tuple(indices.shape), tuple(video_shape),
           tuple(geom))
    _lib.run(_lib.library().gather_forward, patches.device, key, byref(_geometry(geom)),
             byref(_lib.describe(patches, "patches")), _lib.describe_optional(weights, "weights"),
             byref(_lib.describe(indices, "indices")), byref(_lib.describe(video, "video")),
             byref(_lib.describe(weight_sum, "weight_sum")), 0, where="dnls.gather")
    return video, weight_sum


@_gather_op.register_fake
def _gather_fake(patches, weights, indices, video_shape, geom):
    return patches.new_empty(video_shape), patches.new_empty(_weight_sum_shape(video_shape))


@torch.library.custom_op("dnls::gather_backward", mutates_args=())
def _gather_backward_op(video_gradient: Tensor, weight_sum_gradient: Optional[Tensor], patches: Tensor,
                        weights: Optional[Tensor], indices: Tensor, geom: list[int]) -> tuple[Tensor, Tensor]:
    video_gradient, patches, indices = video_gradient.contiguous(), patches.contiguous(), indices.contiguous()
    weight_sum_gradient, weights = optional_contiguous(weight_sum_gradient), optional_contiguous(weights)
    patch_gradient = torch.empty_like(patches, memory_format=torch.contiguous_format)
    weight_gradient = torch.empty_like(weights, memory_format=torch.contiguous_format) if weights is not None \
        else patches.new_empty((0,))
    key = ("gather_backward", tuple(video_gradient.shape), video_gradient.dtype, weight_sum_gradient is None,
           tuple(patches.shape), None if weights is None else tuple(weights.shape), tuple(indices.shape), tuple(geom))
    _lib.run(_lib.library().gather_backward, video_gradient.device, key, byref(_geometry(geom)),
             byref(_lib.describe(video_gradient, "video_gradient")),
             _lib.describe_optional(weight_sum_gradient, "weight_sum_gradient"),
             byref(_lib.describe(patches, "patches")), _lib.describe_optional(weights, "weights"),
             byref(_lib.describe(indices, "indices")), byref(_lib.describe(patch_gradient, "patch_gradient")),
             None if weights is None else byref(_lib.describe(weight_gradient, "weight_gradient")),
             where="dnls.gather backward")
    return patch_gradient, weight_gradient


@_gather_backward_op.register_fake
def _gather_backward_fake(video_gradient, weight_sum_gradient, patches, weights, indices, geom):
    return torch.empty_like(patches), (torch.empty_like(weights) if weights is not None else patches.new_empty((0,)))


def _gather_setup(ctx, inputs, output):
    patches, weights, indices, video_shape, geom = inputs
    ctx.save_for_backward(patches, weights, indices)
    ctx.video_shape = list(video_shape)
    ctx.geom = geom


def _gather_backward(ctx, video_gradient, weight_sum_gradient):
    patches, weights, indices = ctx.saved_tensors
    if weights is None:
        weight_sum_gradient = None  # without weights the weight sum depends on no input
    if video_gradient is None and weight_sum_gradient is None:
        return None, None, None, None, None
    if video_gradient is None:
        video_gradient = patches.new_zeros(ctx.video_shape)
    patch_gradient, weight_gradient = _gather_backward_op(
        video_gradient.contiguous(), optional_contiguous(weight_sum_gradient), patches, weights, indices, ctx.geom)
    return patch_gradient, (weight_gradient if weights is not None else None), None, None, None


_gather_op.register_autograd(_gather_backward, setup_context=_gather_setup)


def gather(patches: Tensor, indices: Tensor, video_shape, *, weights: Optional[Tensor] = None, dilation: int = 1,
           anchor: str = "center", border: str = "reflect") -> tuple[Tensor, Tensor]:
    """Patches put back into a video at their ``indices``, overlaps summed: the adjoint of
    :func:`scatter`, optionally weighted.

    Args:
        patches: ``(B, Q, K, C, ps, ps)`` or ``(Q, K, C, ps, ps)``; ``ps`` is read from its shape.
        indices: ``(B, Q, K, 3)`` / ``(Q, K, 3)``; empty slots ``(-1, -1, -1)`` add nothing.
        video_shape: ``(B, T, C, H, W)`` or ``(T, C, H, W)``, matching the patches' batch axis.
        weights: ``(B, Q, K)`` / ``(Q, K)``, a factor per patch (``None``: 1).

    Returns:
        ``(video, weight_sum)``: the video of ``video_shape`` and ``(B, T, 1, H, W)``, the sum of
        the weights that reached each pixel (through the border rule, as the patches).

    Differentiable with respect to ``patches`` and ``weights``.
    """
    _common.require_tensor("patches", patches)
    shape = _common.video_shape("video_shape", video_shape)
    rank = len(shape)
    if patches.dim() != rank + 1:
        raise ValueError(f"patches: expected (B, Q, K, C, ps, ps) for a 5-D video_shape or (Q, K, C, ps, ps) for a "
                         f"4-D one, got shape {tuple(patches.shape)} with video_shape {tuple(shape)}")
    indices = _common.int_positions("indices", indices, (rank - 1,), _indices_meaning(rank))
    if weights is not None:
        _common.require_tensor("weights", weights)
    geom = _common.geometry(patches.shape[-1], dilation, anchor, border)
    return _gather_op(patches, weights, indices, shape, geom)


# ----------------------------------------------------------------------------------------------
# weighted patch sum


def _wpsum_shape(video: Tensor, weights: Tensor, geom) -> tuple:
    ps = geom[0]
    lead = tuple(weights.shape[:-1]) if weights.dim() >= 1 else ()
    return (*lead, 1, video.shape[-3], ps, ps)


@torch.library.custom_op("dnls::wpsum", mutates_args=())
def _wpsum_op(video: Tensor, weights: Tensor, indices: Tensor, geom: list[int]) -> Tensor:
    video, weights, indices = video.contiguous(), weights.contiguous(), indices.contiguous()
    output = torch.empty(_wpsum_shape(video, weights, geom), dtype=video.dtype, device=video.device)
    key = ("wpsum", tuple(video.shape), video.dtype, tuple(weights.shape), tuple(indices.shape), tuple(geom))
    _lib.run(_lib.library().wpsum_forward, video.device, key, byref(_geometry(geom)),
             byref(_lib.describe(video, "video")), byref(_lib.describe(weights, "weights")),
             byref(_lib.describe(indices, "indices")), byref(_lib.describe(output, "output")), where="dnls.wpsum")
    return output


@_wpsum_op.register_fake
def _wpsum_fake(video, weights, indices, geom):
    return video.new_empty(_wpsum_shape(video, weights, geom))


@torch.library.custom_op("dnls::wpsum_backward", mutates_args=())
def _wpsum_backward_op(output_gradient: Tensor, video: Tensor, weights: Tensor, indices: Tensor,
                       geom: list[int]) -> tuple[Tensor, Tensor]:
    output_gradient, video = output_gradient.contiguous(), video.contiguous()
    weights, indices = weights.contiguous(), indices.contiguous()
    video_gradient = torch.empty_like(video, memory_format=torch.contiguous_format)
    weight_gradient = torch.empty_like(weights, memory_format=torch.contiguous_format)
    key = ("wpsum_backward", tuple(output_gradient.shape), video.dtype, tuple(video.shape), tuple(weights.shape),
           tuple(indices.shape), tuple(geom))
    _lib.run(_lib.library().wpsum_backward, video.device, key, byref(_geometry(geom)),
             byref(_lib.describe(output_gradient, "output_gradient")), byref(_lib.describe(video, "video")),
             byref(_lib.describe(weights, "weights")), byref(_lib.describe(indices, "indices")),
             byref(_lib.describe(video_gradient, "video_gradient")),
             byref(_lib.describe(weight_gradient, "weight_gradient")), where="dnls.wpsum backward")
    return video_gradient, weight_gradient


@_wpsum_backward_op.register_fake
def _wpsum_backward_fake(output_gradient, video, weights, indices, geom):
    return torch.empty_like(video), torch.empty_like(weights)


def _wpsum_setup(ctx, inputs, output):
    video, weights, indices, geom = inputs
    ctx.save_for_backward(video, weights, indices)
    ctx.geom = geom


def _wpsum_backward(ctx, output_gradient):
    video, weights, indices = ctx.saved_tensors
    if output_gradient is None:
        return None, None, None, None
    video_gradient, weight_gradient = _wpsum_backward_op(output_gradient.contiguous(), video, weights, indices,
                                                         ctx.geom)
    return video_gradient, weight_gradient, None, None


_wpsum_op.register_autograd(_wpsum_backward, setup_context=_wpsum_setup)


def wpsum(video: Tensor, weights: Tensor, indices: Tensor, *, patch_size: int, dilation: int = 1,
          anchor: str = "center", border: str = "reflect") -> Tensor:
    """Per query, the weighted sum of its neighbours' patches, read from ``video`` without
    materialising them: ``out[q] = Σ_k weights[q, k] · patch(indices[q, k])``.

    Args:
        video: ``(B, T, C, H, W)`` or ``(T, C, H, W)``.
        weights: ``(B, Q, K)`` / ``(Q, K)``.
        indices: ``(B, Q, K, 3)`` / ``(Q, K, 3)``; empty slots contribute nothing.

    Returns:
        ``(B, Q, 1, C, ps, ps)`` (no ``B`` axis for a 4-D video).

    Differentiable with respect to ``video`` and ``weights``.
    """
    rank = _common.video_rank("video", video)
    _common.require_tensor("weights", weights)
    indices = _common.int_positions("indices", indices, (rank - 1,), _indices_meaning(rank))
    return _wpsum_op(video, weights, indices, _common.geometry(patch_size, dilation, anchor, border))
