"""torch.autograd.gradcheck (float64, CPU) on every differentiable input of every operator."""

import pytest
import torch
from torch.autograd import gradcheck

from dnls import ops

T, C, H, W = 2, 2, 8, 8
GEOMETRIES = [
    dict(dilation=1, anchor="center", border="reflect"),
    dict(dilation=1, anchor="center", border="zero"),
    dict(dilation=2, anchor="top_left", border="reflect"),
]


def _indices(gen, Q=24, K=4, empty=True):
    idx = torch.stack([torch.randint(0, n, (Q, K), generator=gen) for n in (T, H, W)], -1).to(torch.int32)
    if empty:
        idx[0, 1] = -1
    return idx


@pytest.mark.parametrize("metric", ["l2", "inner"])
@pytest.mark.parametrize("k", [4, None])
@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_search_self(randn, metric, k, geometry):
    video = randn(T, C, H, W).requires_grad_()
    grid = ops.QueryGrid(stride=2)

    def f(v):
        d, _ = ops.search(v, grid, patch_size=3, window_size=5, k=k, metric=metric, **geometry)
        return torch.where(torch.isfinite(d), d, torch.zeros_like(d))

    assert gradcheck(f, (video,))


@pytest.mark.parametrize("metric", ["l2", "inner"])
def test_search_cross(randn, metric):
    video = randn(T, C, H, W).requires_grad_()
    keys = randn(T, C, H, W).requires_grad_()
    queries = torch.tensor([[0, 0, 0], [1, 3, 4], [0, 7, 6], [1, 7, 0]])

    def f(v, kk):
        return ops.search(v, queries, keys=kk, patch_size=3, window_size=5, temporal_radius=1, k=6, metric=metric,
                          channels=1)[0]

    assert gradcheck(f, (video, keys))


def test_search_with_flows_and_window_stride(randn, rand):
    video = randn(T, C, H, W).requires_grad_()
    flow = (rand(T, 2, H, W) - 0.5) * 4  # no gradient: flows are not differentiable inputs

    def f(v):
        d, _ = ops.search(v, ops.QueryGrid(stride=3), forward_flow=flow, backward_flow=flow, patch_size=3,
                          window_size=3, window_stride=2, temporal_radius=1, k=5)
        return d

    assert gradcheck(f, (video,))


@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_scatter(gen, randn, geometry):
    video = randn(T, C, H, W).requires_grad_()
    idx = _indices(gen)
    assert gradcheck(lambda v: ops.scatter(v, idx, patch_size=3, **geometry), (video,))


@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_gather_weighted(gen, randn, rand, geometry):
    idx = _indices(gen)
    patches = randn(24, 4, C, 3, 3).requires_grad_()
    weights = rand(24, 4).requires_grad_()
    # Both outputs (the video and the weight sum) enter the check.
    assert gradcheck(lambda p, w: ops.gather(p, idx, (T, C, H, W), weights=w, **geometry), (patches, weights))


def test_gather_unweighted(gen, randn):
    idx = _indices(gen)
    patches = randn(24, 4, C, 3, 3).requires_grad_()
    assert gradcheck(lambda p: ops.gather(p, idx, (T, C, H, W))[0], (patches,))


@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_wpsum(gen, randn, geometry):
    idx = _indices(gen)
    video = randn(T, C, H, W).requires_grad_()
    weights = randn(24, 4).requires_grad_()
    assert gradcheck(lambda v, w: ops.wpsum(v, w, idx, patch_size=3, **geometry), (video, weights))


@pytest.mark.parametrize("geometry", GEOMETRIES)
@pytest.mark.parametrize("grid", [ops.QueryGrid(), ops.QueryGrid(stride=3, full_patches=True),
                                  ops.QueryGrid(region=(1, 2, 2, 7, 1, 8), stride=2).batch(2, 5)])
def test_unfold_and_fold(randn, geometry, grid):
    video = randn(T, C, H, W).requires_grad_()
    assert gradcheck(lambda v: ops.unfold(v, grid, patch_size=3, **geometry), (video,))
    q = grid.size((T, H, W), patch_size=3, dilation=geometry["dilation"], anchor=geometry["anchor"])
    patches = randn(q, 1, C, 3, 3).requires_grad_()
    assert gradcheck(lambda p: ops.fold(p, grid, (T, C, H, W), **geometry), (patches,))


def test_batched(gen, randn, rand):
    video = randn(2, T, C, 6, 6).requires_grad_()
    weights = rand(2, T * 36, 3).requires_grad_()

    def f(v, w):
        d, i = ops.search(v.detach(), None, patch_size=3, window_size=3, k=3)
        return ops.wpsum(v, w, i, patch_size=3)

    assert gradcheck(f, (video, weights))


def test_pipeline(randn):
    # search → softmax → wpsum → fold, every stage differentiable together.
    video = randn(T, C, 6, 6).requires_grad_()

    def f(v):
        d, i = ops.search(v, None, patch_size=3, window_size=3, k=3)
        w = torch.softmax(-d, -1)
        return ops.fold(ops.wpsum(v, w, i, patch_size=3), None, v.shape)

    assert gradcheck(f, (video,))


@pytest.mark.parametrize("op", ["unfold", "search", "wpsum"])
def test_a_double_backward_is_refused_not_silently_zero(randn, op):
    """The backward operators are exact but not differentiable themselves: a gradient taken with
    create_graph=True carries a node that raises when differentiated again."""
    video = randn(T, C, H, W).requires_grad_()
    if op == "unfold":
        out = ops.unfold(video, None, patch_size=3)
    elif op == "search":
        out, _ = ops.search(video, ops.QueryGrid(stride=2), patch_size=3, window_size=3, k=2)
    else:
        gen = torch.Generator().manual_seed(5)
        weights = torch.rand(24, 4, dtype=video.dtype, generator=gen)
        out = ops.wpsum(video, weights, _indices(gen), patch_size=3)
    (gradient,) = torch.autograd.grad(out.square().sum(), video, create_graph=True)
    assert gradient.requires_grad
    with pytest.raises(RuntimeError, match=f"dnls.{op}: the backward is not differentiable"):
        gradient.sum().backward()
