"""dnls.ops against pure-torch loop references, adjoint identities and torch's unfold/fold."""

import math

import pytest
import torch
import torch.nn.functional as F

from dnls import _lib, ops

GEOMETRIES = [
    dict(dilation=1, anchor="center", border="reflect"),
    dict(dilation=1, anchor="center", border="zero"),
    dict(dilation=2, anchor="center", border="reflect"),
    dict(dilation=1, anchor="top_left", border="zero"),
    dict(dilation=2, anchor="top_left", border="reflect"),
]


def random_indices(gen, Q, K, T, H, W, empty=0.1):
    """(Q, K, 3) random positions, about `empty` of them the empty marker."""
    t = torch.randint(0, T, (Q, K), generator=gen)
    h = torch.randint(0, H, (Q, K), generator=gen)
    w = torch.randint(0, W, (Q, K), generator=gen)
    idx = torch.stack([t, h, w], -1).to(torch.int32)
    mask = torch.rand((Q, K), generator=gen) < empty
    idx[mask] = -1
    return idx


@pytest.mark.parametrize("geometry", GEOMETRIES)
@pytest.mark.parametrize("ps", [3, 4])
def test_scatter_matches_loops(gen, randn, ref, geometry, ps):
    video = randn(2, 2, 8, 9)
    idx = random_indices(gen, 10, 3, 2, 8, 9)
    out = ops.scatter(video, idx, patch_size=ps, **geometry)
    assert out.shape == (10, 3, 2, ps, ps)
    torch.testing.assert_close(out, ref.scatter(video, idx, ps, **geometry), rtol=0, atol=0)


@pytest.mark.parametrize("geometry", GEOMETRIES)
@pytest.mark.parametrize("weighted", [False, True])
def test_gather_matches_loops(gen, randn, rand, ref, geometry, weighted):
    idx = random_indices(gen, 10, 3, 2, 8, 9)
    patches = randn(10, 3, 2, 3, 3)
    weights = rand(10, 3) if weighted else None
    video, counts = ops.gather(patches, idx, (2, 2, 8, 9), weights=weights, **geometry)
    rv, rc = ref.gather(patches, idx, (2, 2, 8, 9), weights, **geometry)
    torch.testing.assert_close(video, rv)
    torch.testing.assert_close(counts, rc)


@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_wpsum_matches_loops(gen, randn, rand, ref, geometry):
    video = randn(2, 3, 8, 8)
    idx = random_indices(gen, 12, 4, 2, 8, 8)
    weights = randn(12, 4)
    out = ops.wpsum(video, weights, idx, patch_size=3, **geometry)
    assert out.shape == (12, 1, 3, 3, 3)
    torch.testing.assert_close(out, ref.wpsum(video, weights, idx, 3, **geometry))


@pytest.mark.parametrize("geometry", GEOMETRIES)
@pytest.mark.parametrize("grid_args", [dict(), dict(stride=2), dict(region=(1, 2, 1, 7, 2, 8), stride=3),
                                       dict(full_patches=True), dict(full_patches=True, stride=2, start=3, count=7)])
def test_unfold_and_fold_match_loops(randn, ref, geometry, grid_args):
    video = randn(2, 2, 8, 9)
    grid = ops.QueryGrid(**grid_args)
    full = ref.grid((2, 8, 9), grid_args.get("region"), grid_args.get("stride", 1), grid_args.get("full_patches", False),
                    3, geometry["dilation"], geometry["anchor"])
    start = grid_args.get("start", 0)
    count = grid_args.get("count")
    positions = full[start:] if count is None else full[start:start + count]
    assert grid.size(video.shape, patch_size=3, dilation=geometry["dilation"], anchor=geometry["anchor"]) == len(positions)
    assert torch.equal(grid.positions(video.shape, patch_size=3, dilation=geometry["dilation"],
                                      anchor=geometry["anchor"]), positions)
    patches = ops.unfold(video, grid, patch_size=3, **geometry)
    torch.testing.assert_close(patches, ref.unfold(video, positions, 3, **geometry), rtol=0, atol=0)
    p = randn(*patches.shape)
    torch.testing.assert_close(ops.fold(p, grid, video.shape, **geometry), ref.fold(p, positions, video.shape, **geometry))


@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_scatter_gather_adjoint(gen, randn, rand, geometry):
    x = randn(2, 2, 8, 8)
    idx = random_indices(gen, 20, 4, 2, 8, 8)
    p = randn(20, 4, 2, 3, 3)
    lhs = (ops.scatter(x, idx, patch_size=3, **geometry) * p).sum()
    rhs = (x * ops.gather(p, idx, x.shape, **geometry)[0]).sum()
    torch.testing.assert_close(lhs, rhs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_unfold_fold_adjoint(randn, geometry):
    x = randn(2, 2, 8, 8)
    grid = ops.QueryGrid(stride=2)
    u = ops.unfold(x, grid, patch_size=3, **geometry)
    p = randn(*u.shape)
    torch.testing.assert_close((u * p).sum(), (x * ops.fold(p, grid, x.shape, **geometry)).sum(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("ps,dilation,stride", [(3, 1, 1), (3, 2, 1), (4, 1, 2), (2, 3, 3), (5, 1, 1)])
def test_unfold_fold_equal_torch(randn, ps, dilation, stride):
    video = randn(3, 2, 11, 10)
    grid = ops.QueryGrid(stride=stride, full_patches=True)
    geometry = dict(dilation=dilation, anchor="top_left", border="zero")
    ours = ops.unfold(video, grid, patch_size=ps, **geometry)  # (T*L, 1, C, ps, ps)
    theirs = F.unfold(video, ps, dilation=dilation, stride=stride)  # (T, C*ps*ps, L)
    T, CK, L = theirs.shape
    assert ours.shape[0] == T * L
    torch.testing.assert_close(ours.reshape(T, L, CK).transpose(1, 2), theirs, rtol=0, atol=0)
    cols = randn(T, CK, L)
    folded = F.fold(cols, (11, 10), ps, dilation=dilation, stride=stride)
    mine = ops.fold(cols.transpose(1, 2).reshape(T * L, 1, 2, ps, ps), grid, video.shape, **geometry)
    torch.testing.assert_close(mine, folded)


def test_fold_of_unfold_reflect_is_count_weighted(randn):
    # With the reflect border every sample read from a pixel goes back to that pixel.
    video = randn(2, 2, 8, 8)
    u = ops.unfold(video, None, patch_size=3)
    counts = ops.fold(torch.ones_like(u), None, video.shape)
    torch.testing.assert_close(ops.fold(u, None, video.shape), video * counts)


# ----------------------------------------------------------------------------------------------
# search


def _check_search(video, queries, d, i, ref, ps, ws, k, **kw):
    keys = kw.pop("keys", None)
    rd, ri = ref.search(video, queries, ps, ws, k, keys=keys, **kw)
    assert d.shape == (len(rd), len(rd[0]))
    assert i.tolist() == [[list(n) for n in row] for row in ri]
    torch.testing.assert_close(d, torch.tensor(rd, dtype=d.dtype))


@pytest.mark.parametrize("metric", ["l2", "inner"])
@pytest.mark.parametrize("k", [4, None])
@pytest.mark.parametrize("geometry", GEOMETRIES[:3])
def test_search_matches_brute_force(randn, ref, metric, k, geometry):
    video = randn(2, 2, 8, 8)
    queries = ref.grid((2, 8, 8), stride=2)
    d, i = ops.search(video, ops.QueryGrid(stride=2), patch_size=3, window_size=5, k=k, metric=metric, **geometry)
    _check_search(video, queries, d, i, ref, 3, 5, k, metric=metric, **geometry)


@pytest.mark.parametrize("kw", [dict(window_stride=2), dict(temporal_radius=1), dict(temporal_radius=5),
                                dict(channels=1), dict(window_size=4), dict(window_size=6, window_stride=2)])
def test_search_window_options(randn, ref, kw):
    video = randn(3, 2, 7, 8)
    keys = randn(3, 2, 7, 8)
    kw = dict(kw)
    ws = kw.pop("window_size", 5)
    queries = ref.grid((3, 7, 8), stride=3)
    d, i = ops.search(video, ops.QueryGrid(stride=3), keys=keys, patch_size=3, window_size=ws, k=6, **kw)
    rkw = {"wstride": kw.get("window_stride", 1), "wt": kw.get("temporal_radius", 0), "channels": kw.get("channels")}
    _check_search(video, queries, d, i, ref, 3, ws, 6, keys=keys, **rkw)


def test_search_follows_flows(randn, rand, ref, gen):
    video = randn(3, 2, 8, 8)
    ff = (rand(3, 2, 8, 8) - 0.5) * 6
    bf = (rand(3, 2, 8, 8) - 0.5) * 6
    queries = ref.grid((3, 8, 8), stride=2)
    d, i = ops.search(video, queries, forward_flow=ff, backward_flow=bf, patch_size=3, window_size=3,
                      temporal_radius=1, k=None)
    _check_search(video, queries, d, i, ref, 3, 3, None, wt=1, forward_flow=ff, backward_flow=bf)


@pytest.mark.parametrize("metric", ["l2", "inner"])
def test_search_distances_recomputed_from_indices(randn, ref, metric):
    video = randn(2, 3, 8, 8)
    keys = randn(2, 3, 8, 8)
    queries = torch.tensor([[0, 0, 0], [1, 7, 7], [0, 3, 4], [1, 0, 6]], dtype=torch.int64)
    d, i = ops.search(video, queries, keys=keys, patch_size=3, window_size=5, temporal_radius=1, k=7, metric=metric)
    for q in range(4):
        for m in range(7):
            n = tuple(i[q, m].tolist())
            assert n != (-1, -1, -1)
            expected = ref.distance(video, keys, tuple(queries[q].tolist()), n, 3, metric=metric)
            assert math.isclose(float(d[q, m]), expected, rel_tol=1e-12, abs_tol=1e-12)
        # Best first.
        row = d[q]
        assert torch.all(row[:-1] <= row[1:]) if metric == "l2" else torch.all(row[:-1] >= row[1:])


def test_search_self_match_first_and_empty_slots(randn):
    video = randn(1, 1, 5, 5)
    d, i = ops.search(video, torch.tensor([[0, 0, 0]]), patch_size=3, window_size=5, k=None)
    # Whole window: 25 slots; the query's own patch at the centre slot with distance 0.
    assert d.shape == (1, 25)
    assert i[0, 12].tolist() == [0, 0, 0] and d[0, 12] == 0
    empty = (i[0] == -1).all(-1)
    assert int(empty.sum()) == 25 - 9
    assert torch.isinf(d[0][empty]).all() and (d[0][empty] > 0).all()
    di, ii = ops.search(video, torch.tensor([[0, 0, 0]]), patch_size=3, window_size=5, k=None, metric="inner")
    assert (di[0][empty] == -math.inf).all()
    dk, ik = ops.search(video, torch.tensor([[0, 0, 0]]), patch_size=3, window_size=5, k=1)
    assert ik[0, 0].tolist() == [0, 0, 0] and dk[0, 0] == 0


# ----------------------------------------------------------------------------------------------
# batched, non-contiguous, int64, implementations


def test_batched_equals_unbatched(gen, randn, rand):
    video = randn(2, 2, 2, 8, 8)
    pos = torch.stack([random_indices(gen, 9, 1, 2, 8, 8, empty=0)[:, 0] for _ in range(2)])
    d, i = ops.search(video, pos, patch_size=3, window_size=5, k=4)
    weights = rand(*d.shape)
    grid = ops.QueryGrid(stride=2)
    scattered = ops.scatter(video, i, patch_size=3)
    gathered, counts = ops.gather(scattered, i, video.shape, weights=weights)
    summed = ops.wpsum(video, weights, i, patch_size=3)
    unfolded = ops.unfold(video, grid, patch_size=3)
    folded = ops.fold(unfolded, grid, video.shape)
    for b in range(2):
        db, ib = ops.search(video[b], pos[b], patch_size=3, window_size=5, k=4)
        assert torch.equal(d[b], db) and torch.equal(i[b], ib)
        assert torch.equal(scattered[b], ops.scatter(video[b], ib, patch_size=3))
        gb, cb = ops.gather(scattered[b], ib, video.shape[1:], weights=weights[b])
        torch.testing.assert_close(gathered[b], gb, rtol=0, atol=0)
        torch.testing.assert_close(counts[b], cb, rtol=0, atol=0)
        torch.testing.assert_close(summed[b], ops.wpsum(video[b], weights[b], ib, patch_size=3), rtol=0, atol=0)
        assert torch.equal(unfolded[b], ops.unfold(video[b], grid, patch_size=3))
        torch.testing.assert_close(folded[b], ops.fold(unfolded[b], grid, video.shape[1:]), rtol=0, atol=0)


def test_non_contiguous_inputs(gen, randn, rand):
    base = randn(2, 8, 2, 9, 16)
    video = base.transpose(1, 2)[..., ::2]  # (2, 2, 8, 9, 8), non-contiguous
    assert not video.is_contiguous()
    dense = video.contiguous()
    d, i = ops.search(video, None, patch_size=3, window_size=3, k=3)
    d2, i2 = ops.search(dense, None, patch_size=3, window_size=3, k=3)
    assert torch.equal(d, d2) and torch.equal(i, i2)
    i_nc = torch.cat([i, i], dim=-1)[..., :3]
    assert not i_nc.is_contiguous()
    assert torch.equal(ops.scatter(video, i_nc, patch_size=3), ops.scatter(dense, i, patch_size=3))
    w = rand(*d.shape, 2)[..., 0]
    assert not w.is_contiguous()
    torch.testing.assert_close(ops.wpsum(video, w, i, patch_size=3), ops.wpsum(dense, w.contiguous(), i, patch_size=3),
                               rtol=0, atol=0)
    u = ops.unfold(video, None, patch_size=3)
    u_nc = torch.cat([u, u], dim=-1)[..., :3]
    assert not u_nc.is_contiguous()
    torch.testing.assert_close(ops.fold(u_nc, None, video.shape), ops.fold(u, None, video.shape), rtol=0, atol=0)


def test_stride_zero_gradients(randn, rand):
    video = randn(2, 2, 8, 8).requires_grad_()
    d, i = ops.search(video, ops.QueryGrid(stride=2), patch_size=3, window_size=5, k=4)
    weights = rand(*d.shape).requires_grad_()
    outputs = {
        "search": lambda: ops.search(video, ops.QueryGrid(stride=2), patch_size=3, window_size=5, k=4)[0],
        "scatter": lambda: ops.scatter(video, i, patch_size=3),
        "gather": lambda: ops.gather(ops.scatter(video, i, patch_size=3), i, video.shape, weights=weights)[0],
        "wpsum": lambda: ops.wpsum(video, weights, i, patch_size=3),
        "unfold": lambda: ops.unfold(video, None, patch_size=3),
        "fold": lambda: ops.fold(ops.unfold(video, None, patch_size=3), None, video.shape),
    }
    for name, make in outputs.items():
        out = make()
        (g1,) = torch.autograd.grad(out.sum(), video, retain_graph=True)  # the gradient is a stride-0 view
        (g2,) = torch.autograd.grad(out, video, torch.ones_like(out))
        torch.testing.assert_close(g1, g2, rtol=0, atol=0, msg=name)


def test_int64_positions_converted(gen, randn):
    video = randn(2, 2, 8, 8)
    idx = random_indices(gen, 6, 2, 2, 8, 8)
    assert torch.equal(ops.scatter(video, idx.long(), patch_size=3), ops.scatter(video, idx, patch_size=3))
    q = idx[:, 0].clamp_min(0)
    a = ops.search(video, q.long(), patch_size=3, window_size=3, k=2)
    b = ops.search(video, q, patch_size=3, window_size=3, k=2)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_outputs_are_fresh_tensors(gen, randn):
    video = randn(1, 1, 5, 5)
    idx = torch.tensor([[[0, 2, 2]]], dtype=torch.int32)
    out = ops.scatter(video, idx, patch_size=1)
    out.fill_(7.0)
    assert (video != 7.0).all()
    ones = torch.ones(1, 1, 1, 1, 1, dtype=torch.float64)
    v, c = ops.gather(ones, idx, (1, 1, 5, 5))
    assert v.data_ptr() != ones.data_ptr() and c.data_ptr() != v.data_ptr()


def test_fast_and_reference_cpu_backends_agree(gen, randn, rand):
    video = randn(2, 2, 3, 9, 9, dtype=torch.float32)
    with _lib.cpu_implementation("reference"):
        d0, i0 = ops.search(video, ops.QueryGrid(stride=2), patch_size=3, window_size=5, temporal_radius=1, k=5)
        u0 = ops.unfold(video, None, patch_size=3)
    with _lib.cpu_implementation("fast"):
        d1, i1 = ops.search(video, ops.QueryGrid(stride=2), patch_size=3, window_size=5, temporal_radius=1, k=5)
        u1 = ops.unfold(video, None, patch_size=3)
    torch.testing.assert_close(d0, d1, rtol=1e-5, atol=1e-5)
    assert (i0 == i1).float().mean() > 0.99  # near-ties may swap under float32 rounding
    assert torch.equal(u0, u1)


def test_float32_matches_float64(randn, rand):
    video = randn(2, 2, 8, 8)
    d64, i64 = ops.search(video, None, patch_size=3, window_size=5, k=3)
    d32, i32 = ops.search(video.float(), None, patch_size=3, window_size=5, k=3)
    torch.testing.assert_close(d32.double(), d64, rtol=1e-5, atol=1e-4)
    w = rand(*d64.shape)
    torch.testing.assert_close(ops.wpsum(video.float(), w.float(), i64, patch_size=3).double(),
                               ops.wpsum(video, w, i64, patch_size=3), rtol=1e-5, atol=1e-5)
