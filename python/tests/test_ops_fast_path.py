"""The eager fast path of the public functions: in plain eager mode they skip torch's dispatcher
(calling the operator's kernel, or its autograd function, directly); everything that must see the
operator (dispatch modes, fake tensors, functorch transforms, the profiler) still does, and both
paths give the same results and gradients."""

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from dnls import ops
from dnls.ops import _registry


def _pipeline(video, weight_scale):
    """search → softmax weights → wpsum → fold: every kind of operator, forward and backward."""
    grid = ops.QueryGrid(stride=2)
    distances, indices = ops.search(video, grid, patch_size=3, window_size=3, k=3)
    weights = torch.softmax(-distances * weight_scale, dim=-1)
    folded = ops.fold(ops.wpsum(video, weights, indices, patch_size=3), grid, video.shape)
    gathered, weight_sum = ops.gather(ops.scatter(video, indices, patch_size=3), indices, video.shape, weights=weights)
    return folded.square().sum() + (gathered * weight_sum).sum()


class _Recorder(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.ops = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops.append(str(func))
        return func(*args, **(kwargs or {}))


def test_plain_eager_calls_skip_the_dispatcher(randn, monkeypatch):
    video = randn(1, 3, 2, 10, 10)
    assert _registry._plain_eager((video, None, [1, 2]))
    # The kernel the fast path calls is the one in the table (the dispatcher would call the registered one).
    seen = []
    original = _registry._kernels[ops._search._search_op]

    def kernel(*args):
        seen.append("kernel")
        return original(*args)

    monkeypatch.setitem(_registry._kernels, ops._search._search_op, kernel)
    ops.search(video, ops.QueryGrid(stride=2), patch_size=3, window_size=3, k=2)
    assert seen == ["kernel"]


def test_dispatch_modes_and_the_profiler_still_see_the_operators(randn):
    video = randn(1, 3, 2, 10, 10)
    with _Recorder() as recorder:
        ops.search(video, ops.QueryGrid(stride=2), patch_size=3, window_size=3, k=2)
    assert "dnls.search.default" in recorder.ops
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profile:
        ops.unfold(video, ops.QueryGrid(stride=2), patch_size=3)
    assert any(event.name == "dnls::unfold" for event in profile.events())
    assert not _registry._plain_eager((torch.nn.Parameter(video).as_subclass(_Subclass),))


class _Subclass(torch.Tensor):
    pass


def test_fake_tensors_and_vmap_are_not_taken_for_plain_eager(randn):
    from torch._subclasses.fake_tensor import FakeTensorMode

    with FakeTensorMode() as mode:
        fake = mode.from_tensor(randn(1, 3, 2, 10, 10))
        assert not _registry._plain_eager((fake,))
        distances, indices = ops.search(fake, ops.QueryGrid(stride=2), patch_size=3, window_size=3, k=2)
        assert distances.shape == (1, 75, 2) and indices.shape == (1, 75, 2, 3)  # 3 frames × 25
    flags = []
    torch.vmap(lambda x: flags.append(_registry._plain_eager((x,))) or x)(randn(2, 3))
    assert flags == [False]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_both_paths_give_the_same_values_and_gradients(randn, dtype, monkeypatch):
    video = randn(1, 3, 2, 12, 11, dtype=dtype)
    results = []
    for fast in (True, False):
        if not fast:
            monkeypatch.setattr(_registry, "_plain_eager", lambda args: False)
        leaf = video.clone().requires_grad_(True)
        loss = _pipeline(leaf, 0.5)
        loss.backward()
        results.append((loss.detach(), leaf.grad))
    (fast_loss, fast_grad), (slow_loss, slow_grad) = results
    assert torch.equal(fast_loss, slow_loss)
    assert torch.equal(fast_grad, slow_grad)
    assert fast_grad.abs().sum() > 0


def test_a_double_backward_is_still_refused_on_the_fast_path(randn):
    video = randn(1, 3, 2, 10, 10, dtype=torch.float64).requires_grad_(True)
    patches = ops.scatter(video, ops.search(video.detach(), ops.QueryGrid(stride=2), patch_size=3, window_size=3,
                                            k=2)[1], patch_size=3)
    (gradient,) = torch.autograd.grad(patches.square().sum(), video, create_graph=True)
    with pytest.raises(RuntimeError, match="no double backward"):
        gradient.sum().backward()
