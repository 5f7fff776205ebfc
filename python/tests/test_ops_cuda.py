"""dnls.ops on CUDA: parity with the CPU, deterministic backward, streams, deferred checking,
torch.compile and CUDA-graph capture. Skipped, with the reason, where CUDA is not available."""

import pytest
import torch

from dnls import _lib, ops
from dnls import nn as dnn

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available on this machine")

CUDA = "cuda"


def _inputs(gen, B=2, T=3, C=3, H=16, W=16):
    video = torch.randn((B, T, C, H, W), generator=gen)
    keys = torch.randn((B, T, C, H, W), generator=gen)
    flow = (torch.rand((B, T, 2, H, W), generator=gen) - 0.5) * 4
    return video, keys, flow


def _pipeline(video, keys, flow, grid):
    """Every operator once; returns the outputs to compare."""
    d, i = ops.search(video, grid, keys=keys, forward_flow=flow, backward_flow=flow, patch_size=3, window_size=5,
                      temporal_radius=1, k=6)
    w = torch.softmax(-d, -1)
    scattered = ops.scatter(video, i, patch_size=3)
    gathered, counts = ops.gather(scattered, i, video.shape, weights=w)
    summed = ops.wpsum(video, w, i, patch_size=3)
    folded = ops.fold(summed, grid, video.shape)
    unfolded = ops.unfold(folded, grid, patch_size=3, dilation=2, border="zero")
    return d, i, scattered, gathered, counts, summed, folded, unfolded


def test_parity_with_cpu_forward_and_backward(gen):
    video, keys, flow = _inputs(gen)
    grid = ops.QueryGrid(stride=2)
    results = {}
    for device in ("cpu", CUDA):
        # Leaves of their own on each device (`.to("cpu")` of a CPU tensor is the tensor itself).
        v = video.detach().clone().to(device).requires_grad_()
        k = keys.detach().clone().to(device).requires_grad_()
        outs = _pipeline(v, k, flow.to(device), grid)
        loss = sum((o.float() * (n + 1)).square().mean() for n, o in enumerate(outs) if o.is_floating_point())
        loss.backward()
        results[device] = [o.detach().cpu() for o in outs] + [v.grad.cpu(), k.grad.cpu()]
    cpu, gpu = results["cpu"], results[CUDA]
    assert torch.equal(cpu[1], gpu[1]), "indices differ"
    for a, b in zip(cpu, gpu):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-4)


def test_backward_is_bitwise_deterministic(gen):
    video, keys, flow = _inputs(gen, H=24, W=24)
    grid = ops.QueryGrid(stride=1)
    grads = []
    for _ in range(2):
        v = video.to(CUDA).requires_grad_()
        k = keys.to(CUDA).requires_grad_()
        outs = _pipeline(v, k, flow.to(CUDA), grid)
        loss = sum(o.float().sum() for o in outs if o.is_floating_point())
        loss.backward()
        grads.append((v.grad.clone(), k.grad.clone()))
    assert torch.equal(grads[0][0], grads[1][0]) and torch.equal(grads[0][1], grads[1][1])


def test_non_default_stream(gen):
    video, keys, flow = _inputs(gen)
    grid = ops.QueryGrid(stride=2)
    reference = _pipeline(video.to(CUDA), keys.to(CUDA), flow.to(CUDA), grid)
    torch.cuda.synchronize()
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        v, k, f = video.to(CUDA), keys.to(CUDA), flow.to(CUDA)
        outs = _pipeline(v, k, f, grid)
        v.requires_grad_()
        d, _ = ops.search(v, grid, patch_size=3, window_size=5, k=4)
        d.sum().backward()
    stream.synchronize()
    for a, b in zip(reference, outs):
        assert torch.equal(a, b)
    assert torch.isfinite(v.grad).all()


def test_non_contiguous_cuda_inputs(gen):
    video, _, _ = _inputs(gen)
    v = video.to(CUDA).transpose(-1, -2)
    assert not v.is_contiguous()
    a = ops.search(v, None, patch_size=3, window_size=3, k=3)
    b = ops.search(v.contiguous(), None, patch_size=3, window_size=3, k=3)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_errors_on_cuda(gen):
    video, _, _ = _inputs(gen)
    v = video.to(CUDA)
    d, i = ops.search(v, None, patch_size=3, window_size=3, k=3)
    with pytest.raises(ValueError, match="indices"):
        ops.scatter(v, i + 100, patch_size=3)  # eager: reported by the call itself
    with pytest.raises(ValueError, match="indices"):
        ops.scatter(v, i.cpu(), patch_size=3)  # mismatched devices
    with pytest.raises(ValueError, match="keys"):
        ops.search(v, None, keys=video, patch_size=3, window_size=3, k=3)
    with pytest.raises(ValueError, match="video"):
        ops.search(v.double(), None, patch_size=3, window_size=3, k=3)  # float64 runs on the CPU only
    with pytest.raises(ValueError, match="video"):
        ops.search(v.half(), None, patch_size=3, window_size=3, k=3)
    # The library is still usable.
    assert ops.scatter(v, i, patch_size=3).shape[-3:] == (3, 3, 3)


def test_deferred_checking_reports_at_synchronize(gen):
    video, _, _ = _inputs(gen)
    v = video.to(CUDA)
    _, i = ops.search(v, None, patch_size=3, window_size=3, k=3)
    with ops.checking("deferred"):
        ops.scatter(v, i + 100, patch_size=3)  # never waits, so no error yet
    with pytest.raises(ValueError, match="indices"):
        ops.synchronize(v.device)
    ops.synchronize(v.device)  # reported once


def test_workspace_plans_are_cached(gen):
    video, _, _ = _inputs(gen)
    v = video.to(CUDA)
    _lib.clear_plans()
    ops.search(v, None, patch_size=3, window_size=5, k=4)
    n = len(_lib._plans)
    assert n >= 1
    ops.search(v, None, patch_size=3, window_size=5, k=4)
    assert len(_lib._plans) == n
    ops.search(v, None, patch_size=3, window_size=5, k=5)
    assert len(_lib._plans) == n + 1


def test_torch_compile_cuda(gen):
    torch._dynamo.reset()
    video, _, _ = _inputs(gen)
    v = video.to(CUDA)
    block = dnn.NonLocalAggregation(patch_size=3, window_size=5, k=4).to(CUDA)
    eager = block(v)
    compiled = torch.compile(block, fullgraph=True)
    out = compiled(v)
    torch.testing.assert_close(out, eager, rtol=1e-5, atol=1e-5)
    out.sum().backward()
    assert torch.isfinite(block.log_temperature.grad)


def test_cuda_graph_capture_and_replay(gen):
    video, keys, flow = _inputs(gen)
    grid = ops.QueryGrid(stride=2)
    static_video = video.to(CUDA)
    static_keys, static_flow = keys.to(CUDA), flow.to(CUDA)

    def step():
        v = static_video.detach().requires_grad_()
        outs = _pipeline(v, static_keys, static_flow, grid)
        loss = sum(o.float().square().mean() for o in outs if o.is_floating_point())
        (grad,) = torch.autograd.grad(loss, v)
        return outs, grad

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(2):  # warm-up: plans, kernels, caching allocator
            step()
    torch.cuda.current_stream().wait_stream(side)

    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        static_outs, static_grad = step()

    for trial in range(2):
        fresh = torch.randn(video.shape, generator=gen)
        static_video.copy_(fresh.to(CUDA))
        graph.replay()
        torch.cuda.synchronize()
        v = fresh.to(CUDA).requires_grad_()
        eager_outs = _pipeline(v, static_keys, static_flow, grid)
        loss = sum(o.float().square().mean() for o in eager_outs if o.is_floating_point())
        (eager_grad,) = torch.autograd.grad(loss, v)
        for a, b in zip(static_outs, eager_outs):
            assert torch.equal(a, b.detach())
        torch.testing.assert_close(static_grad, eager_grad, rtol=0, atol=0)
    ops.synchronize(static_video.device)  # the captured (deferred) checks found nothing


def test_bad_index_inside_a_graph_is_reported_by_synchronize(gen):
    video, _, _ = _inputs(gen)
    v = video.to(CUDA)
    _, i = ops.search(v, None, patch_size=3, window_size=3, k=3)
    bad = i.clone()
    ops.scatter(v, bad, patch_size=3)  # warm-up outside the capture
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        ops.scatter(v, bad, patch_size=3)
    bad.add_(100)
    graph.replay()
    with pytest.raises(ValueError, match="indices"):
        ops.synchronize(v.device)


@pytest.mark.parametrize("queries,neighbours", [(700, 3), (5000, 5)])  # one block's scan; the multi-block path
def test_deferred_errors_name_the_same_entry_as_eager_ones(gen, queries, neighbours):
    T, C, H, W = 3, 2, 12, 12
    v = torch.randn((1, T, C, H, W), generator=gen).to(CUDA)
    extent = torch.tensor([T, H, W])
    valid = (torch.rand((1, queries, neighbours, 3), generator=gen) * extent).long().clamp_max(extent - 1)
    entries = queries * neighbours
    first, later = entries * 2 // 3, entries - 2  # the lowest failing entry must win, wherever it lies
    bad = valid.clone().view(-1, 3)
    bad[later] = torch.tensor([0, H + 7, 1])
    bad[first] = torch.tensor([1, 2, W + 3])
    bad = bad.view_as(valid).int().to(CUDA)
    weights = torch.rand((1, queries, neighbours), generator=gen).to(CUDA)
    nan = weights.clone().view(-1)
    nan[later] = float("inf")
    nan[first] = float("nan")
    nan = nan.view_as(weights)
    q, k = divmod(first, neighbours)
    indices = valid.int().to(CUDA)
    patches = torch.randn((1, queries, neighbours, C, 3, 3), generator=gen).to(CUDA)
    bad_triple = f"(1, 2, {W + 3}) at entry {first}"
    # With bad indices and bad weights in one call the indices' error wins, as on the host.
    calls = [(lambda d: ops.scatter(v.to(d), bad.to(d), patch_size=3), bad_triple),
             (lambda d: ops.wpsum(v.to(d), nan.to(d), indices.to(d), patch_size=3), f"at [0, {q}, {k}]"),
             (lambda d: ops.wpsum(v.to(d), nan.to(d), bad.to(d), patch_size=3), bad_triple),
             (lambda d: ops.gather(patches.to(d), bad.to(d), v.shape, weights=nan.to(d)), bad_triple),
             (lambda d: ops.gather(patches.to(d), indices.to(d), v.shape, weights=nan.to(d)), f"at [0, {q}, {k}]")]
    for call, names in calls:
        with pytest.raises(ValueError) as eager:
            call(CUDA)
        with pytest.raises(ValueError) as host:
            call("cpu")
        with ops.checking("deferred"):
            call(CUDA)
            ops.scatter(v, indices + 100, patch_size=3)  # a later failure does not replace the first
        with pytest.raises(ValueError) as deferred:
            ops.synchronize(v.device)
        def detail(error):  # the message after the reporting function's name
            return str(error.value).split(": ", 1)[1]
        assert names in detail(eager)
        assert detail(deferred) == detail(eager) == detail(host)
        ops.synchronize(v.device)  # reported once
    with ops.checking("deferred"):
        ops.scatter(v, indices, patch_size=3)
        ops.wpsum(v, weights, indices, patch_size=3)
        ops.gather(patches, indices, v.shape, weights=weights)
    ops.synchronize(v.device)  # nothing failed
