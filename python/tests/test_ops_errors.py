"""Bad inputs raise ValueError naming the argument, never crash; edge cases that are valid work."""

import math

import pytest
import torch

from dnls import ops


@pytest.fixture
def video(randn):
    return randn(2, 2, 8, 8)


@pytest.fixture
def found(video):
    return ops.search(video, None, patch_size=3, window_size=5, k=4)


def raises(name, fn):
    with pytest.raises(ValueError) as info:
        fn()
    assert name in str(info.value), f"{name!r} not named in: {info.value}"
    return info.value


SEARCH = dict(patch_size=3, window_size=5, k=4)


def test_search_arguments(video):
    raises("video", lambda: ops.search(video[0], None, **SEARCH))  # 3-D
    raises("video", lambda: ops.search(video.half(), None, **SEARCH))
    raises("video", lambda: ops.search(video.bfloat16(), None, **SEARCH))
    raises("video", lambda: ops.search(video.long(), None, **SEARCH))
    raises("video", lambda: ops.search(video[:, :0], None, **SEARCH))
    raises("keys", lambda: ops.search(video, None, keys=video.float(), **SEARCH))
    raises("keys", lambda: ops.search(video, None, keys=video[:, :1], **SEARCH))
    raises("k", lambda: ops.search(video, None, patch_size=3, window_size=5, k=26))  # 25 candidates
    raises("k", lambda: ops.search(video, None, patch_size=3, window_size=5, k=0))
    raises("k", lambda: ops.search(video, None, patch_size=3, window_size=5, k=-1))
    raises("window_size", lambda: ops.search(video, None, patch_size=3, window_size=0))
    raises("window_size", lambda: ops.search(video, None, patch_size=3, window_size=17))  # span beyond 2·8 − 1
    raises("window_stride", lambda: ops.search(video, None, patch_size=3, window_size=3, window_stride=0))
    raises("temporal_radius", lambda: ops.search(video, None, patch_size=3, window_size=3, temporal_radius=-1))
    raises("patch_size", lambda: ops.search(video, None, patch_size=9, window_size=3))
    raises("patch_size", lambda: ops.search(video, None, patch_size=0, window_size=3))
    raises("patch_size", lambda: ops.search(video, None, patch_size=2 ** 40, window_size=3))
    raises("dilation", lambda: ops.search(video, None, patch_size=3, window_size=3, dilation=0))
    raises("channels", lambda: ops.search(video, None, channels=3, **SEARCH))
    raises("channels", lambda: ops.search(video, None, channels=0, **SEARCH))
    raises("metric", lambda: ops.search(video, None, metric="cosine", **SEARCH))
    raises("anchor", lambda: ops.search(video, None, anchor="middle", **SEARCH))
    raises("border", lambda: ops.search(video, None, border="wrap", **SEARCH))
    raises("forward_flow", lambda: ops.search(video, None, forward_flow=torch.zeros(2, 2, 8, 7, dtype=torch.float64),
                                              **SEARCH))
    nan = torch.full((2, 2, 8, 8), math.nan, dtype=torch.float64)
    raises("backward_flow", lambda: ops.search(video, None, backward_flow=nan, **SEARCH))


def test_search_queries(video):
    raises("queries", lambda: ops.search(video, torch.tensor([[0, 8, 0]]), **SEARCH))  # row 8 of 8
    raises("queries", lambda: ops.search(video, torch.tensor([[-1, -1, -1]]), **SEARCH))  # no marker for queries
    raises("queries", lambda: ops.search(video, torch.tensor([[0, 1, 2, 3]]), **SEARCH))
    raises("queries", lambda: ops.search(video, torch.tensor([0, 1, 2]), **SEARCH))
    raises("queries", lambda: ops.search(video, torch.tensor([[0.0, 1.0, 2.0]]), **SEARCH))
    raises("queries", lambda: ops.search(video, "everything", **SEARCH))
    raises("region", lambda: ops.search(video, ops.QueryGrid(region=(0, 3, 0, 8, 0, 8)), **SEARCH))
    raises("region", lambda: ops.search(video, ops.QueryGrid(region=(0, 1, 4, 4, 0, 8)), **SEARCH))
    raises("grid", lambda: ops.search(video, ops.QueryGrid(start=200), **SEARCH))
    raises("stride", lambda: ops.QueryGrid(stride=0))
    raises("region", lambda: ops.QueryGrid(region=(0, 1, 2)))


def test_patch_arguments(video, found, rand):
    d, i = found
    w = rand(*d.shape)
    p = ops.scatter(video, i, patch_size=3)
    raises("indices", lambda: ops.scatter(video, i + 100, patch_size=3))
    raises("indices", lambda: ops.scatter(video, i[..., :2], patch_size=3))
    raises("indices", lambda: ops.scatter(video, i[0], patch_size=3))
    raises("indices", lambda: ops.scatter(video, i.float(), patch_size=3))
    partial = i.clone()
    partial[0, 0] = torch.tensor([-1, 0, 0])
    raises("indices", lambda: ops.scatter(video, partial, patch_size=3))
    raises("patch_size", lambda: ops.scatter(video, i, patch_size=-1))
    raises("indices", lambda: ops.gather(p, i - 100, video.shape))
    raises("patches", lambda: ops.gather(p, i, (2, 3, 8, 8)))  # C of the patches is 2
    raises("patches", lambda: ops.gather(p[0], i, video.shape))
    raises("video_shape", lambda: ops.gather(p, i, (2, 8, 8)))
    raises("video_shape", lambda: ops.gather(p, i, (2, -2, 8, 8)))
    raises("video_shape", lambda: ops.gather(p, i, (2 ** 20, 2, 2 ** 20, 2 ** 20)))
    raises("weights", lambda: ops.gather(p, i, video.shape, weights=w[:, :3]))
    raises("weights", lambda: ops.gather(p, i, video.shape, weights=w.float()))
    raises("weights", lambda: ops.gather(p, i, video.shape, weights=w * math.inf))
    raises("weights", lambda: ops.wpsum(video, w[:, :3], i, patch_size=3))
    raises("weights", lambda: ops.wpsum(video, w * math.nan, i, patch_size=3))
    raises("indices", lambda: ops.wpsum(video, w, i + 8, patch_size=3))
    raises("video", lambda: ops.wpsum(video.half(), w, i, patch_size=3))


def test_fold_arguments(video, randn):
    u = ops.unfold(video, None, patch_size=3)
    raises("patches", lambda: ops.fold(u, ops.QueryGrid(stride=2), video.shape))
    raises("patches", lambda: ops.fold(u[0], None, video.shape))
    raises("region", lambda: ops.unfold(video, ops.QueryGrid(region=(-1, 1, 0, 8, 0, 8)), patch_size=3))
    raises("grid", lambda: ops.unfold(video, "all", patch_size=3))
    raises("dilation", lambda: ops.unfold(video, None, patch_size=3, dilation=100))
    raises("video_shape", lambda: ops.fold(u, None, [2, 2, 8]))


def test_backward_ops_check_their_arguments(video, found):
    d, i = found
    grid = ops.QueryGrid().encode(2, 8, 8)
    params = [3, 1, 0, 0, 5, 1, 0, 4, 0, 0]
    raises("indices", lambda: torch.ops.dnls.search_backward(torch.ones_like(d), i + 100, video, None, None, grid,
                                                               params))
    raises("distance_gradient", lambda: torch.ops.dnls.search_backward(torch.ones(3, 4, dtype=torch.float64), i,
                                                                         video, None, None, grid, params))
    raises("patch_gradient", lambda: torch.ops.dnls.scatter_backward(torch.ones(3, 4, 2, 3, 3, dtype=torch.float64), i,
                                                                       [2, 2, 8, 8], [3, 1, 0, 0]))


def test_empty_inputs_are_valid():
    video = torch.zeros(2, 2, 8, 8)
    d, i = ops.search(video, torch.zeros(0, 3, dtype=torch.int32), **SEARCH)
    assert d.shape == (0, 4) and i.shape == (0, 4, 3)
    assert ops.scatter(video, torch.zeros(0, 2, 3, dtype=torch.int32), patch_size=3).shape == (0, 2, 2, 3, 3)
    assert ops.scatter(video, torch.zeros(3, 0, 3, dtype=torch.int32), patch_size=3).shape == (3, 0, 2, 3, 3)
    empty = ops.QueryGrid(region=(0, 1, 0, 2, 0, 8), full_patches=True)  # the patch does not fit
    assert ops.unfold(video, empty, patch_size=3).shape == (0, 1, 2, 3, 3)
    assert torch.equal(ops.fold(torch.zeros(0, 1, 2, 3, 3), empty, video.shape), torch.zeros_like(video))


def test_even_sizes_are_accepted(video, ref):
    # Even windows and patches are valid: offsets (i − (ws − 1)//2)·stride and a − ps//2.
    d, i = ops.search(video, torch.tensor([[0, 4, 4]]), patch_size=4, window_size=4, k=None)
    cands = ref.candidates((0, 4, 4), 2, 8, 8, 4, 1, 0)
    assert i[0].tolist() == [list(c) for c in cands]


def test_errors_leave_the_library_usable(video):
    for _ in range(3):
        with pytest.raises(ValueError):
            ops.search(video, None, patch_size=3, window_size=5, k=1000)
    d, i = ops.search(video, None, **SEARCH)
    assert d.shape == (128, 4)


def test_int64_positions_beyond_int32_are_out_of_range(video):
    # Converted by saturation, never by wrapping into a valid position.
    for bad in (2 ** 32 + 1, -2 ** 32 - 1, 2 ** 40):
        raises("indices", lambda: ops.scatter(video, torch.tensor([[[bad, 0, 0]]] * 2), patch_size=3))
        raises("queries", lambda: ops.search(video, torch.tensor([[0, bad, 0]]), **SEARCH))
