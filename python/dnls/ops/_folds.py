"""Patches of a query grid: unfold (video → patches) and fold (patches → video), as ``dnls::``
operators with their backward operators."""

import torch
from torch import Tensor

from .. import _lib
from . import _common
from ._grid import encode_grid
from ._registry import backward_only, call, define, differentiable

# grid: the ten ints of a QueryGrid batch; geom: [patch_size, dilation, anchor, border]


def _patch_shape(video_shape, grid, geom, where: str) -> tuple:
    """Shape of the patches of a grid batch: ``(*B, Q, 1, C, ps, ps)``."""
    frames, channels, height, width = video_shape[-4], video_shape[-3], video_shape[-2], video_shape[-1]
    q = _common.query_count(grid, geom, frames, height, width, where)
    ps = geom[0]
    return (*tuple(video_shape[:-4]), q, 1, channels, ps, ps)


def _structs(grid, geom) -> tuple:
    """Addresses of the geometry and grid structs of a call."""
    return _common.geometries.address(tuple(geom)), _common.grids.address(tuple(grid))


# ----------------------------------------------------------------------------------------------
# unfold


def _unfold(video: Tensor, grid: list[int], geom: list[int]) -> Tensor:
    video = video.contiguous()
    patches = video.new_empty(_patch_shape(video.shape, grid, geom, "dnls.unfold"))
    _lib.run(_lib.library().unfold_forward, video, ("unfold", video.shape, video.dtype, *grid, *geom), "dnls.unfold",
             *_structs(grid, geom), *_lib.descriptors("video patches", video, patches))
    return patches


def _unfold_fake(video, grid, geom):
    return video.new_empty(_patch_shape(video.shape, grid, geom, "dnls.unfold"))


def _unfold_backward(patch_gradient: Tensor, grid: list[int], video_shape: list[int], geom: list[int]) -> Tensor:
    patch_gradient = patch_gradient.contiguous()
    video_gradient = patch_gradient.new_empty(video_shape)
    _lib.run(_lib.library().unfold_backward, patch_gradient,
             ("unfold_backward", patch_gradient.shape, patch_gradient.dtype, *grid, *video_shape, *geom),
             "dnls.unfold backward", *_structs(grid, geom),
             *_lib.descriptors("patch_gradient video_gradient", patch_gradient, video_gradient))
    return video_gradient


def _unfold_backward_fake(patch_gradient, grid, video_shape, geom):
    return patch_gradient.new_empty(video_shape)


_unfold_op = define("unfold(Tensor video, int[] grid, int[] geom) -> Tensor", _unfold, _unfold_fake)
_unfold_backward_op = define(
    "unfold_backward(Tensor patch_gradient, int[] grid, SymInt[] video_shape, int[] geom) "
    "-> Tensor", _unfold_backward, _unfold_backward_fake)


def _unfold_setup(ctx, inputs, output):
    video, grid, geom = inputs
    ctx.video_shape = list(video.shape)
    ctx.grid = grid
    ctx.geom = geom


def _unfold_gradient(ctx, patch_gradient):
    if patch_gradient is None:
        return None, None, None
    return call(_unfold_backward_op, patch_gradient.contiguous(), ctx.grid, ctx.video_shape, ctx.geom), None, None


differentiable(_unfold_op, _unfold_setup, _unfold_gradient)
backward_only(_unfold_backward_op, "unfold")


def unfold(video: Tensor, grid=None, *, patch_size: int, dilation: int = 1, anchor: str = "center",
           border: str = "reflect") -> Tensor:
    """The patches of ``video`` at the queries of ``grid``.

    Args:
        video: ``(B, T, C, H, W)`` or ``(T, C, H, W)``.
        grid: a :class:`QueryGrid` (``None``: every pixel).

    Returns:
        ``(B, Q, 1, C, ps, ps)`` (no ``B`` axis for a 4-D video). With ``anchor="top_left"``,
        ``border="zero"`` and ``QueryGrid(full_patches=True)`` these are the columns of
        ``torch.nn.functional.unfold`` (frame by frame).

    Differentiable with respect to ``video`` (its backward is the exact adjoint, a fold).
    """
    _common.video_rank("video", video)
    geom = _common.geometry(patch_size, dilation, anchor, border)
    encoded = encode_grid(grid, video.shape[-4], video.shape[-2], video.shape[-1])
    return call(_unfold_op, video, encoded, geom)


# ----------------------------------------------------------------------------------------------
# fold


def _fold(patches: Tensor, grid: list[int], video_shape: list[int], geom: list[int]) -> Tensor:
    patches = patches.contiguous()
    video = patches.new_empty(video_shape)
    _lib.run(_lib.library().fold_forward, patches, ("fold", patches.shape, patches.dtype, *grid, *video_shape, *geom),
             "dnls.fold", *_structs(grid, geom), *_lib.descriptors("patches video", patches, video), 0)
    return video


def _fold_fake(patches, grid, video_shape, geom):
    return patches.new_empty(video_shape)


def _fold_backward(video_gradient: Tensor, grid: list[int], geom: list[int]) -> Tensor:
    video_gradient = video_gradient.contiguous()
    patch_gradient = video_gradient.new_empty(_patch_shape(video_gradient.shape, grid, geom, "dnls.fold backward"))
    _lib.run(_lib.library().fold_backward, video_gradient,
             ("fold_backward", video_gradient.shape, video_gradient.dtype, *grid, *geom), "dnls.fold backward",
             *_structs(grid, geom), *_lib.descriptors("video_gradient patch_gradient", video_gradient, patch_gradient))
    return patch_gradient


def _fold_backward_fake(video_gradient, grid, geom):
    return video_gradient.new_empty(_patch_shape(video_gradient.shape, grid, geom, "dnls.fold backward"))


_fold_op = define("fold(Tensor patches, int[] grid, SymInt[] video_shape, int[] geom) -> Tensor", _fold,
                  _fold_fake)
_fold_backward_op = define("fold_backward(Tensor video_gradient, int[] grid, int[] geom) -> Tensor",
                           _fold_backward,
                           _fold_backward_fake)


def _fold_setup(ctx, inputs, output):
    _, grid, _, geom = inputs
    ctx.grid = grid
    ctx.geom = geom


def _fold_gradient(ctx, video_gradient):
    if video_gradient is None:
        return None, None, None, None
    return call(_fold_backward_op, video_gradient.contiguous(), ctx.grid, ctx.geom), None, None, None


differentiable(_fold_op, _fold_setup, _fold_gradient)
backward_only(_fold_backward_op, "fold")


def fold(patches: Tensor, grid, video_shape, *, dilation: int = 1, anchor: str = "center",
         border: str = "reflect") -> Tensor:
    """Patches of the queries of ``grid`` put back into a video, overlaps summed: the adjoint of
    :func:`unfold`.

    Args:
        patches: ``(B, Q, 1, C, ps, ps)`` or ``(Q, 1, C, ps, ps)``; ``ps`` is read from its shape.
        grid: the :class:`QueryGrid` batch the patches belong to (``None``: every pixel).
        video_shape: ``(B, T, C, H, W)`` or ``(T, C, H, W)``.

    Returns:
        The video of ``video_shape``. Differentiable with respect to ``patches``.
    """
    _common.require_tensor("patches", patches)
    shape = _common.video_shape("video_shape", video_shape)
    if patches.dim() != len(shape) + 1:
        raise ValueError(f"patches: expected (B, Q, 1, C, ps, ps) for a 5-D video_shape or (Q, 1, C, ps, ps) for a "
                         f"4-D one, got shape {tuple(patches.shape)} with video_shape {tuple(shape)}")
    geom = _common.geometry(patches.shape[-1], dilation, anchor, border)
    encoded = encode_grid(grid, shape[-4], shape[-2], shape[-1])
    return call(_fold_op, patches, encoded, shape, geom)
