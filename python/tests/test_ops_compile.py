"""torch.compile(fullgraph=True) of small pipelines of dnls.ops on the CPU."""

import shutil

import pytest
import torch

from dnls import nn as dnn
from dnls import ops


def _has_cpp_toolchain():
    if not any(shutil.which(c) for c in ("c++", "g++", "clang++")):
        return False
    try:
        from torch._inductor import cpp_builder  # noqa: F401,PLC0415
    except Exception:
        return False
    return True


BACKENDS = [
    "aot_eager",
    pytest.param("inductor", marks=pytest.mark.skipif(not _has_cpp_toolchain(),
                                                      reason="inductor needs a C++ compiler, none found")),
]


def pipeline(video, grid):
    d, i = ops.search(video, grid, patch_size=3, window_size=5, k=4)
    w = torch.softmax(-d, dim=-1)
    patches = ops.wpsum(video, w, i, patch_size=3)
    scattered = ops.scatter(video, i, patch_size=3)
    gathered, counts = ops.gather(scattered, i, video.shape, weights=w)
    folded = ops.fold(patches, grid, video.shape)
    unfolded = ops.unfold(folded, grid, patch_size=3)
    return folded.sum() + (gathered / counts.clamp_min(1e-6)).mean() + unfolded.square().mean()


@pytest.mark.parametrize("backend", BACKENDS)
def test_compile_pipeline_forward_and_backward(randn, backend):
    torch._dynamo.reset()
    grid = ops.QueryGrid(stride=2)
    video = randn(2, 2, 8, 8, dtype=torch.float32)
    a = video.clone().requires_grad_()
    b = video.clone().requires_grad_()
    eager = pipeline(a, grid)
    eager.backward()
    compiled = torch.compile(pipeline, fullgraph=True, backend=backend)
    out = compiled(b, grid)
    out.backward()
    torch.testing.assert_close(out, eager, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(b.grad, a.grad, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_compile_non_local_aggregation(randn, backend):
    torch._dynamo.reset()
    torch.manual_seed(0)
    block = dnn.NonLocalAggregation(patch_size=3, window_size=5, k=4, temperature=0.5)
    video = randn(1, 2, 3, 8, 8, dtype=torch.float32)
    eager = block(video)
    compiled = torch.compile(block, fullgraph=True, backend=backend)
    out = compiled(video)
    torch.testing.assert_close(out, eager, rtol=1e-5, atol=1e-5)
    out.sum().backward()
    assert block.log_temperature.grad is not None and torch.isfinite(block.log_temperature.grad)


def test_compile_with_positions_and_dynamic_shapes(randn):
    torch._dynamo.reset()

    def f(video, queries):
        d, i = ops.search(video, queries, patch_size=3, window_size=3, k=2)
        return ops.wpsum(video, torch.softmax(-d, -1), i, patch_size=3)

    compiled = torch.compile(f, fullgraph=True, backend="aot_eager", dynamic=True)
    video = randn(2, 2, 8, 8, dtype=torch.float32)
    for q in (5, 9):
        queries = torch.stack([torch.zeros(q), torch.arange(q) % 8, torch.arange(q) % 7], -1).int()
        torch.testing.assert_close(compiled(video, queries), f(video, queries))
