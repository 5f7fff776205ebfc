"""Patches of a query grid: unfold (video → patches) and fold (patches → video), as ``dnls::``
custom ops with their backward ops."""

from ctypes import byref

import torch
from torch import Tensor

from .. import _lib
from . import _common
from ._grid import encode_grid

# grid: the ten ints of a QueryGrid batch; geom: [patch_size, dilation, anchor, border]


def _patch_shape(video_shape, grid, geom, where: str) -> tuple:
    """Shape of the patches of a grid batch: ``(*B, Q, 1, C, ps, ps)``."""
    frames, channels, height, width = video_shape[-4], video_shape[-3], video_shape[-2], video_shape[-1]
    q = _common.query_count(grid, geom, frames, height, width, where)
    ps = geom[0]
    return (*tuple(video_shape[:-4]), q, 1, channels, ps, ps)


def _geometry(geom):
    return _common.geometry_struct(tuple(geom))


def _grid(grid):
    return _common.grid_struct(tuple(int(v) for v in grid))


# ----------------------------------------------------------------------------------------------
# unfold


@torch.library.custom_op("dnls::unfold", mutates_args=())
def _unfold_op(video: Tensor, grid: list[int], geom: list[int]) -> Tensor:
    video = video.contiguous()
    shape = _patch_shape(video.shape, grid, geom, "dnls.unfold")
    patches = torch.empty(shape, dtype=video.dtype, device=video.device)
    key = ("unfold", tuple(video.shape), video.dtype, tuple(grid), tuple(geom))
    _lib.run(_lib.library().unfold_forward, video.device, key, byref(_geometry(geom)), byref(_grid(grid)),
             byref(_lib.describe(video, "video")), byref(_lib.describe(patches, "patches")), where="dnls.unfold")
    return patches


@_unfold_op.register_fake
def _unfold_fake(video, grid, geom):
    return video.new_empty(_patch_shape(video.shape, grid, geom, "dnls.unfold"))


@torch.library.custom_op("dnls::unfold_backward", mutates_args=())
def _unfold_backward_op(patch_gradient: Tensor, grid: list[int], video_shape: list[int], geom: list[int]) -> Tensor:
    patch_gradient = patch_gradient.contiguous()
    video_gradient = torch.empty(video_shape, dtype=patch_gradient.dtype, device=patch_gradient.device)
    key = ("unfold_backward", tuple(patch_gradient.shape), patch_gradient.dtype, tuple(grid), tuple(video_shape),
           tuple(geom))
    _lib.run(_lib.library().unfold_backward, patch_gradient.device, key, byref(_geometry(geom)), byref(_grid(grid)),
             byref(_lib.describe(patch_gradient, "patch_gradient")),
             byref(_lib.describe(video_gradient, "video_gradient")), where="dnls.unfold backward")
    return video_gradient


@_unfold_backward_op.register_fake
def _unfold_backward_fake(patch_gradient, grid, video_shape, geom):
    return patch_gradient.new_empty(video_shape)


def _unfold_setup(ctx, inputs, output):
    video, grid, geom = inputs
    ctx.video_shape = list(video.shape)
    ctx.grid = grid
    ctx.geom = geom


def _unfold_backward(ctx, patch_gradient):
    if patch_gradient is None:
        return None, None, None
    return _unfold_backward_op(patch_gradient.contiguous(), ctx.grid, ctx.video_shape, ctx.geom), None, None


_unfold_op.register_autograd(_unfold_backward, setup_context=_unfold_setup)


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
    return _unfold_op(video, encoded, geom)


# ----------------------------------------------------------------------------------------------
# fold


@torch.library.custom_op("dnls::fold", mutates_args=())
def _fold_op(patches: Tensor, grid: list[int], video_shape: list[int], geom: list[int]) -> Tensor:
    patches = patches.contiguous()
    video = torch.empty(video_shape, dtype=patches.dtype, device=patches.device)
    key = ("fold", tuple(patches.shape), patches.dtype, tuple(grid), tuple(video_shape), tuple(geom))
    _lib.run(_lib.library().fold_forward, patches.device, key, byref(_geometry(geom)), byref(_grid(grid)),
             byref(_lib.describe(patches, "patches")), byref(_lib.describe(video, "video")), 0, where="dnls.fold")
    return video


@_fold_op.register_fake
def _fold_fake(patches, grid, video_shape, geom):
    return patches.new_empty(video_shape)


@torch.library.custom_op("dnls::fold_backward", mutates_args=())
def _fold_backward_op(video_gradient: Tensor, grid: list[int], geom: list[int]) -> Tensor:
    video_gradient = video_gradient.contiguous()
    shape = _patch_shape(video_gradient.shape, grid, geom, "dnls.fold backward")
    patch_gradient = torch.empty(shape, dtype=video_gradient.dtype, device=video_gradient.device)
    key = ("fold_backward", tuple(video_gradient.shape), video_gradient.dtype, tuple(grid), tuple(geom))
    _lib.run(_lib.library().fold_backward, video_gradient.device, key, byref(_geometry(geom)), byref(_grid(grid)),
             byref(_lib.describe(video_gradient, "video_gradient")),
             byref(_lib.describe(patch_gradient, "patch_gradient")), where="dnls.fold backward")
    return patch_gradient


@_fold_backward_op.register_fake
def _fold_backward_fake(video_gradient, grid, geom):
    return video_gradient.new_empty(_patch_shape(video_gradient.shape, grid, geom, "dnls.fold backward"))


def _fold_setup(ctx, inputs, output):
    _, grid, _, geom = inputs
    ctx.grid = grid
    ctx.geom = geom


def _fold_backward(ctx, video_gradient):
    if video_gradient is None:
        return None, None, None, None
    return _fold_backward_op(video_gradient.contiguous(), ctx.grid, ctx.geom), None, None, None


_fold_op.register_autograd(_fold_backward, setup_context=_fold_setup)


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
    return _fold_op(patches, encoded, shape, geom)
