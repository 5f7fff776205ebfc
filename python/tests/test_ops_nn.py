"""The torch.nn.Module wrappers of dnls.nn."""

import math

import pytest
import torch
from torch.autograd import gradcheck

from dnls import nn as dnn
from dnls import ops


def test_patch_search_module(randn):
    video = randn(1, 2, 2, 8, 8)
    module = dnn.PatchSearch(3, 5, k=4, stride=2)
    d, i = module(video)
    d2, i2 = ops.search(video, ops.QueryGrid(stride=2), patch_size=3, window_size=5, k=4)
    assert torch.equal(d, d2) and torch.equal(i, i2)
    q = torch.tensor([[[0, 1, 1], [1, 2, 3]]])
    d3, _ = module(video, q, keys=video.flip(-1))
    assert d3.shape == (1, 2, 4)
    assert "patch_size=3" in repr(module)


def test_unfold_fold_modules(randn):
    video = randn(2, 2, 8, 8)
    unfold = dnn.Unfold(3, stride=2)
    fold = dnn.Fold(stride=2)
    patches = unfold(video)
    assert torch.equal(patches, ops.unfold(video, ops.QueryGrid(stride=2), patch_size=3))
    torch.testing.assert_close(fold(patches, video.shape), ops.fold(patches, ops.QueryGrid(stride=2), video.shape))


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("batched", [False, True])
def test_normalized_fold_inverts_unfold(randn, stride, batched):
    video = randn(2, 2, 3, 8, 8) if batched else randn(2, 3, 8, 8)
    unfold = dnn.Unfold(3, stride=stride)
    fold = dnn.Fold(stride=stride, normalize=True)
    torch.testing.assert_close(fold(unfold(video), video.shape), video)
    assert len(fold._counts) == 1
    fold(unfold(video), video.shape)
    assert len(fold._counts) == 1  # the divisor is computed once per shape


def test_normalized_fold_leaves_unreached_pixels_zero(randn):
    video = randn(1, 1, 8, 8)
    grid = ops.QueryGrid(stride=4)
    fold = dnn.Fold(grid=grid, normalize=True, border="zero")
    out = fold(dnn.Unfold(1, grid=grid)(video), video.shape)
    assert torch.isfinite(out).all()
    assert (out[0, 0, 1] == 0).all()
    assert out[0, 0, 0, 0] == video[0, 0, 0, 0]


def test_non_local_aggregation_k1_is_identity(randn):
    video = randn(1, 2, 3, 8, 8)
    block = dnn.NonLocalAggregation(patch_size=3, window_size=5, k=1).double()
    torch.testing.assert_close(block(video), video)


def test_non_local_aggregation_shapes_and_gradients(randn):
    features = randn(2, 4, 8, 8, dtype=torch.float32).requires_grad_()
    values = randn(2, 3, 8, 8, dtype=torch.float32).requires_grad_()
    block = dnn.NonLocalAggregation(patch_size=3, window_size=7, k=None, temperature=2.0)  # border slots empty
    assert math.isclose(float(block.temperature.detach()), 2.0, rel_tol=1e-6)
    out = block(features, values)
    assert out.shape == values.shape
    out.square().sum().backward()
    for g in (features.grad, values.grad, block.log_temperature.grad):
        assert g is not None and torch.isfinite(g).all()
    assert [n for n, _ in block.named_parameters()] == ["log_temperature"]


def test_non_local_aggregation_options(randn):
    video = randn(2, 2, 8, 8, dtype=torch.float32)
    fixed = dnn.NonLocalAggregation(patch_size=3, window_size=5, k=3, learn_temperature=False, metric="inner",
                                    stride=2)
    assert list(fixed.parameters()) == [] and "log_temperature" in dict(fixed.named_buffers())
    assert fixed(video).shape == video.shape
    with pytest.raises(ValueError, match="temperature"):
        dnn.NonLocalAggregation(temperature=0.0)


def test_non_local_aggregation_gradcheck(randn):
    features = randn(2, 2, 6, 6).requires_grad_()
    block = dnn.NonLocalAggregation(patch_size=3, window_size=3, k=3).double()
    log_t = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)

    def f(x, t):
        return torch.func.functional_call(block, {"log_temperature": t}, (x,))

    assert gradcheck(f, (features, log_t))
