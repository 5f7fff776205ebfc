"""Patches at neighbour indices: scatter (video → patches), gather (patches → video) and the
weighted patch sum, as ``dnls::`` operators with their backward operators."""

from typing import Optional

import torch
from torch import Tensor

from .. import _lib
from . import _common
from ._common import optional_contiguous
from ._registry import backward_only, call, define, differentiable

# geom: [patch_size, dilation, anchor code, border code]


def _indices_meaning(rank: int) -> str:
    return "(B, Q, K, 3) for a 5-D video" if rank == 5 else "(Q, K, 3) for a 4-D video"


def _weight_sum_shape(video_shape) -> list:
    shape = list(video_shape)
    shape[-3] = 1
    return shape


def _geometry(geom) -> int:
    return _common.geometries.address(tuple(geom))


# ----------------------------------------------------------------------------------------------
# scatter


def _scatter_shape(video: Tensor, indices: Tensor, geom) -> tuple:
    ps = geom[0]
    lead = tuple(indices.shape[:-1]) if indices.dim() >= 1 else ()
    return (*lead, video.shape[-3], ps, ps)


def _scatter(video: Tensor, indices: Tensor, geom: list[int]) -> Tensor:
    video, indices = video.contiguous(), indices.contiguous()
    patches = video.new_empty(_scatter_shape(video, indices, geom))
    _lib.run(_lib.library().scatter_forward, video, ("scatter", video.shape, video.dtype, indices.shape, *geom),
             "dnls.scatter", _geometry(geom), *_lib.descriptors("video indices patches", video, indices, patches))
    return patches


def _scatter_fake(video, indices, geom):
    return video.new_empty(_scatter_shape(video, indices, geom))


def _scatter_backward(patch_gradient: Tensor, indices: Tensor, video_shape: list[int], geom: list[int]) -> Tensor:
    patch_gradient, indices = patch_gradient.contiguous(), indices.contiguous()
    video_gradient = patch_gradient.new_empty(video_shape)
    _lib.run(_lib.library().scatter_backward, patch_gradient,
             ("scatter_backward", patch_gradient.shape, patch_gradient.dtype, indices.shape, *video_shape, *geom),
             "dnls.scatter backward", _geometry(geom),
             *_lib.descriptors("patch_gradient indices video_gradient", patch_gradient, indices, video_gradient))
    return video_gradient


def _scatter_backward_fake(patch_gradient, indices, video_shape, geom):
    return patch_gradient.new_empty(video_shape)


_scatter_op = define("scatter(Tensor video, Tensor indices, int[] geom) -> Tensor", _scatter, _scatter_fake)
_scatter_backward_op = define(
    "scatter_backward(Tensor patch_gradient, Tensor indices, SymInt[] video_shape, int[] geom) -> Tensor",
    _scatter_backward, _scatter_backward_fake)


def _scatter_setup(ctx, inputs, output):
    video, indices, geom = inputs
    ctx.save_for_backward(indices)
    ctx.video_shape = list(video.shape)
    ctx.geom = geom


def _scatter_gradient(ctx, patch_gradient):
    (indices,) = ctx.saved_tensors
    if patch_gradient is None:
        return None, None, None
    return call(_scatter_backward_op, patch_gradient.contiguous(), indices, ctx.video_shape, ctx.geom), None, None


differentiable(_scatter_op, _scatter_setup, _scatter_gradient)
backward_only(_scatter_backward_op, "scatter")


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
    return call(_scatter_op, video, indices, _common.geometry(patch_size, dilation, anchor, border))


# ----------------------------------------------------------------------------------------------
# gather


def _gather(patches: Tensor, weights: Optional[Tensor], indices: Tensor, video_shape: list[int],
            geom: list[int]) -> tuple[Tensor, Tensor]:
    patches, indices, weights = patches.contiguous(), indices.contiguous(), optional_contiguous(weights)
    video = patches.new_empty(video_shape)
    weight_sum = patches.new_empty(_weight_sum_shape(video_shape))
    key = ("gather", patches.shape, patches.dtype, None if weights is None else weights.shape, indices.shape,
           *video_shape, *geom)
    _lib.run(_lib.library().gather_forward, patches, key, "dnls.gather", _geometry(geom),
             *_lib.descriptors("patches weights indices video weight_sum", patches, weights, indices, video,
                               weight_sum), 0)
    return video, weight_sum


def _gather_fake(patches, weights, indices, video_shape, geom):
    return patches.new_empty(video_shape), patches.new_empty(_weight_sum_shape(video_shape))


def _gather_backward(video_gradient: Tensor, weight_sum_gradient: Optional[Tensor], patches: Tensor,
                     weights: Optional[Tensor], indices: Tensor, geom: list[int]) -> tuple[Tensor, Tensor]:
    video_gradient, patches, indices = video_gradient.contiguous(), patches.contiguous(), indices.contiguous()
    weight_sum_gradient, weights = optional_contiguous(weight_sum_gradient), optional_contiguous(weights)
    patch_gradient = torch.empty_like(patches, memory_format=torch.contiguous_format)
    weight_gradient = torch.empty_like(weights, memory_format=torch.contiguous_format) if weights is not None \
        else patches.new_empty((0,))
    key = ("gather_backward", video_gradient.shape, video_gradient.dtype, weight_sum_gradient is None, patches.shape,
           None if weights is None else weights.shape, indices.shape, *geom)
    _lib.run(_lib.library().gather_backward, video_gradient, key, "dnls.gather backward", _geometry(geom),
             *_lib.descriptors("video_gradient weight_sum_gradient patches weights indices patch_gradient "
                               "weight_gradient", video_gradient, weight_sum_gradient, patches, weights, indices,
                               patch_gradient, None if weights is None else weight_gradient))
    return patch_gradient, weight_gradient


def _gather_backward_fake(video_gradient, weight_sum_gradient, patches, weights, indices, geom):
    return torch.empty_like(patches), (torch.empty_like(weights) if weights is not None else patches.new_empty((0,)))


_gather_op = define("gather(Tensor patches, Tensor? weights, Tensor indices, SymInt[] video_shape, int[] geom) "
                    "-> (Tensor, Tensor)", _gather, _gather_fake)
_gather_backward_op = define(
    "gather_backward(Tensor video_gradient, Tensor? weight_sum_gradient, Tensor patches, Tensor? weights, "
    "Tensor indices, int[] geom) -> (Tensor, Tensor)", _gather_backward, _gather_backward_fake)


def _gather_setup(ctx, inputs, output):
    patches, weights, indices, video_shape, geom = inputs
    ctx.save_for_backward(patches, weights, indices)
    ctx.video_shape = list(video_shape)
    ctx.geom = geom


def _gather_gradient(ctx, video_gradient, weight_sum_gradient):
    patches, weights, indices = ctx.saved_tensors
    if weights is None:
        weight_sum_gradient = None  # without weights the weight sum depends on no input
    if video_gradient is None and weight_sum_gradient is None:
        return None, None, None, None, None
    if video_gradient is None:
        video_gradient = patches.new_zeros(ctx.video_shape)
    patch_gradient, weight_gradient = call(_gather_backward_op, video_gradient.contiguous(),
                                           optional_contiguous(weight_sum_gradient), patches, weights, indices, ctx.geom)
    return patch_gradient, (weight_gradient if weights is not None else None), None, None, None


differentiable(_gather_op, _gather_setup, _gather_gradient)
backward_only(_gather_backward_op, "gather")


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
    return call(_gather_op, patches, weights, indices, shape, geom)


# ----------------------------------------------------------------------------------------------
# weighted patch sum


def _wpsum_shape(video: Tensor, weights: Tensor, geom) -> tuple:
    ps = geom[0]
    lead = tuple(weights.shape[:-1]) if weights.dim() >= 1 else ()
    return (*lead, 1, video.shape[-3], ps, ps)


def _wpsum(video: Tensor, weights: Tensor, indices: Tensor, geom: list[int]) -> Tensor:
    video, weights, indices = video.contiguous(), weights.contiguous(), indices.contiguous()
    output = video.new_empty(_wpsum_shape(video, weights, geom))
    _lib.run(_lib.library().wpsum_forward, video,
             ("wpsum", video.shape, video.dtype, weights.shape, indices.shape, *geom), "dnls.wpsum", _geometry(geom),
             *_lib.descriptors("video weights indices output", video, weights, indices, output))
    return output


def _wpsum_fake(video, weights, indices, geom):
    return video.new_empty(_wpsum_shape(video, weights, geom))


def _wpsum_backward(output_gradient: Tensor, video: Tensor, weights: Tensor, indices: Tensor,
                    geom: list[int]) -> tuple[Tensor, Tensor]:
    output_gradient, video = output_gradient.contiguous(), video.contiguous()
    weights, indices = weights.contiguous(), indices.contiguous()
    video_gradient = torch.empty_like(video, memory_format=torch.contiguous_format)
    weight_gradient = torch.empty_like(weights, memory_format=torch.contiguous_format)
    key = ("wpsum_backward", output_gradient.shape, video.dtype, video.shape, weights.shape, indices.shape, *geom)
    _lib.run(_lib.library().wpsum_backward, video, key, "dnls.wpsum backward", _geometry(geom),
             *_lib.descriptors("output_gradient video weights indices video_gradient weight_gradient",
                               output_gradient, video, weights, indices, video_gradient, weight_gradient))
    return video_gradient, weight_gradient


def _wpsum_backward_fake(output_gradient, video, weights, indices, geom):
    return torch.empty_like(video), torch.empty_like(weights)


_wpsum_op = define("wpsum(Tensor video, Tensor weights, Tensor indices, int[] geom) -> Tensor", _wpsum,
                   _wpsum_fake)
_wpsum_backward_op = define(
    "wpsum_backward(Tensor output_gradient, Tensor video, Tensor weights, Tensor indices, int[] geom) "
    "-> (Tensor, Tensor)", _wpsum_backward, _wpsum_backward_fake)


def _wpsum_setup(ctx, inputs, output):
    video, weights, indices, geom = inputs
    ctx.save_for_backward(video, weights, indices)
    ctx.geom = geom


def _wpsum_gradient(ctx, output_gradient):
    video, weights, indices = ctx.saved_tensors
    if output_gradient is None:
        return None, None, None, None
    video_gradient, weight_gradient = call(_wpsum_backward_op, output_gradient.contiguous(), video, weights,
                                           indices, ctx.geom)
    return video_gradient, weight_gradient, None, None


differentiable(_wpsum_op, _wpsum_setup, _wpsum_gradient)
backward_only(_wpsum_backward_op, "wpsum")


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
    return call(_wpsum_op, video, weights, indices, _common.geometry(patch_size, dilation, anchor, border))
