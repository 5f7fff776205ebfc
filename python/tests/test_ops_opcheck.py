"""torch.library.opcheck on every dnls:: custom op (schema, autograd registration, fake tensors,
AOT dispatch with dynamic shapes), float32 and float64 on the CPU."""

import pytest
import torch

from dnls import ops
from dnls.ops import _folds, _patches, _search

GEOM = [3, 1, 0, 0]  # patch_size 3, dilation 1, centre, reflect


def _cases(dtype, randn, rand):
    video = randn(2, 2, 8, 8, dtype=dtype)
    keys = randn(2, 2, 8, 8, dtype=dtype)
    flow = randn(2, 2, 8, 8, dtype=dtype)
    grid = ops.QueryGrid(stride=2).encode(2, 8, 8)
    whole = ops.QueryGrid().encode(2, 8, 8)
    positions = torch.tensor([[0, 1, 2], [1, 7, 7], [0, 0, 0]], dtype=torch.int32)
    l2 = GEOM + [5, 1, 1, 4, 0, 0]
    inner_all = GEOM + [3, 1, 0, 0, 1, 1]
    d, i = _search._search_op(video, None, None, grid, None, None, l2)
    weights = rand(*d.shape, dtype=dtype)
    patches = randn(*i.shape[:-1], 2, 3, 3, dtype=dtype)
    unfolded = randn(2 * 8 * 8, 1, 2, 3, 3, dtype=dtype)
    batched = randn(2, 2, 2, 8, 8, dtype=dtype)
    return {
        "search": (_search._search_op, (video, None, None, grid, None, None, l2)),
        "search_cross_positions": (_search._search_op, (video, keys, positions, [], None, None, inner_all)),
        "search_flows": (_search._search_op, (video, None, None, grid, flow, flow, l2)),
        "search_batched": (_search._search_op, (batched, None, None, grid, None, None, l2)),
        "search_backward": (_search._search_backward_op, (randn(*d.shape, dtype=dtype), i, video, None, None, grid, l2)),
        "search_backward_cross": (_search._search_backward_op,
                                  (randn(*d.shape, dtype=dtype), i, video, keys, None, grid, l2)),
        "scatter": (_patches._scatter_op, (video, i, GEOM)),
        "scatter_backward": (_patches._scatter_backward_op, (patches, i, [2, 2, 8, 8], GEOM)),
        "gather": (_patches._gather_op, (patches, weights, i, [2, 2, 8, 8], GEOM)),
        "gather_unweighted": (_patches._gather_op, (patches, None, i, [2, 2, 8, 8], GEOM)),
        "gather_backward": (_patches._gather_backward_op,
                            (randn(2, 2, 8, 8, dtype=dtype), randn(2, 1, 8, 8, dtype=dtype), patches, weights, i, GEOM)),
        "gather_backward_unweighted": (_patches._gather_backward_op,
                                       (randn(2, 2, 8, 8, dtype=dtype), None, patches, None, i, GEOM)),
        "wpsum": (_patches._wpsum_op, (video, weights, i, GEOM)),
        "wpsum_backward": (_patches._wpsum_backward_op,
                           (randn(i.shape[0], 1, 2, 3, 3, dtype=dtype), video, weights, i, GEOM)),
        "unfold": (_folds._unfold_op, (video, whole, GEOM)),
        "unfold_backward": (_folds._unfold_backward_op, (unfolded, whole, [2, 2, 8, 8], GEOM)),
        "fold": (_folds._fold_op, (unfolded, whole, [2, 2, 8, 8], GEOM)),
        "fold_backward": (_folds._fold_backward_op, (randn(2, 2, 8, 8, dtype=dtype), whole, GEOM)),
    }


CASES = ["search", "search_cross_positions", "search_flows", "search_batched", "search_backward",
         "search_backward_cross", "scatter", "scatter_backward", "gather", "gather_unweighted", "gather_backward",
         "gather_backward_unweighted", "wpsum", "wpsum_backward", "unfold", "unfold_backward", "fold",
         "fold_backward"]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("case", CASES)
def test_opcheck(case, dtype, randn, rand):
    op, args = _cases(dtype, randn, rand)[case]
    differentiable = [a for a in args if isinstance(a, torch.Tensor) and a.is_floating_point()]
    for a in differentiable:
        a.requires_grad_("backward" not in case)  # the backward ops have no autograd of their own
    torch.library.opcheck(op, args)


def test_every_op_is_registered():
    names = {"search", "search_backward", "scatter", "scatter_backward", "gather", "gather_backward", "wpsum",
             "wpsum_backward", "unfold", "unfold_backward", "fold", "fold_backward"}
    for name in names:
        assert hasattr(torch.ops.dnls, name), name


@pytest.mark.parametrize("tracked", [False, True])
def test_public_calls_go_through_the_dispatcher(randn, tracked):
    """With or without a gradient to track, a public call is an operator call that torch sees
    (the profiler names it), and only a tracked one builds a graph node."""
    video = randn(2, 2, 8, 8).requires_grad_(tracked)
    with torch.profiler.profile() as profile:
        patches = ops.unfold(video, None, patch_size=3)
    assert any(event.key == "dnls::unfold" for event in profile.key_averages())
    assert (patches.grad_fn is not None) == tracked
