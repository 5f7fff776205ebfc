"""SearchNl, CrossSearchNl and simple.search.run against a loop search."""

import math
from types import SimpleNamespace

import pytest
import torch

import compat_loops as ref
from dnls import simple
from dnls.search import SearchNl
from dnls.utils import get_iquery_batch
from dnls.xsearch import CrossSearchNl

T, C, H, W = 3, 2, 10, 12


def video(seed=0, shape=(T, C, H, W)):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=g, dtype=torch.float64)


def queries(stride=3, shape=(T, C, H, W)):
    T_, _, H_, W_ = shape
    n = T_ * ((H_ - 1) // stride + 1) * ((W_ - 1) // stride + 1)
    return get_iquery_batch(0, n, stride, [0, 0, H_, W_], T_)


def check_topk(dists, inds, table_d, scores, k, descending):
    """Sorted, valid before invalid, and the same k best values as the loop table."""
    empty = -math.inf if descending else math.inf
    valid = inds[..., 0] >= 0
    assert (dists[~valid] == empty).all() and (inds[~valid] == -1).all()
    assert torch.isfinite(dists[valid]).all()
    # never an invalid slot ahead of a valid one
    assert (valid.int().diff(dim=1) <= 0).all()
    step = dists[:, 1:] - dists[:, :-1]
    step = torch.nan_to_num(step, nan=0.0)
    assert (step <= 1e-12).all() if descending else (step >= -1e-12).all()
    # the distance of every returned index is the loop's distance of that pair
    assert torch.allclose(dists[valid], scores[valid], atol=1e-10, rtol=0)
    best = table_d.sort(dim=1, descending=descending).values[:, :k]
    assert torch.equal(torch.isinf(dists), torch.isinf(best))
    assert torch.allclose(dists[valid], best[valid], atol=1e-10, rtol=0)


CASES = [  # ps, ws, wt, stride, dil, use_adj, reflect, chnls
    (3, 5, 1, 1, 1, True, True, -1),
    (3, 5, 1, 2, 1, False, True, -1),
    (4, 4, 0, 1, 1, False, False, -1),
    (4, 5, 2, 1, 2, True, False, 1),
    (5, 3, 1, 1, 1, False, True, 1),
]


@pytest.mark.parametrize("ps,ws,wt,stride,dil,use_adj,reflect,chnls", CASES)
def test_l2_search_vs_loop(ps, ws, wt, stride, dil, use_adj, reflect, chnls):
    vid = video()
    q = queries()
    anchor = "top_left" if use_adj else "center"
    border = "reflect" if reflect else "zero"
    table_d, table_i = ref.search_table(vid, q, vid, ps, ws, wt, stride, dil, anchor, border,
                                        "l2", None if chnls <= 0 else chnls)
    full = SearchNl(None, None, -1, ps, 1, ws, wt, chnls=chnls, dilation=dil, stride=stride,
                    use_k=False, use_adj=use_adj, reflect_bounds=reflect)
    d, i = full(vid, q)
    slots = (2 * wt + 1) * ws * ws
    assert d.shape == (len(q), slots) and i.shape == (len(q), slots, 3) and i.dtype == torch.int32
    assert torch.equal(i[:, :table_i.shape[1]], table_i)
    finite = torch.isfinite(table_d)
    assert torch.equal(torch.isfinite(d[:, :table_d.shape[1]]), finite)
    assert torch.allclose(d[:, :table_d.shape[1]][finite], table_d[finite], atol=1e-10, rtol=0)
    k = 7
    topk = SearchNl(None, None, k, ps, 1, ws, wt, chnls=chnls, dilation=dil, stride=stride,
                    use_adj=use_adj, reflect_bounds=reflect, exact=False)
    d, i = topk(vid, q)
    assert d.shape == (len(q), k) and i.shape == (len(q), k, 3)
    scores = ref.pair_scores(vid, q, vid, i, ps, dil, anchor, border, "l2",
                             None if chnls <= 0 else chnls)
    check_topk(d, i, table_d, scores, k, descending=False)
    # the query is its own nearest neighbour
    assert torch.equal(i[:, 0], q.to(torch.int32)) and (d[:, 0] == 0).all()


@pytest.mark.parametrize("ps,ws,wt,use_adj,reflect", [(3, 5, 1, True, True), (4, 4, 1, False, False),
                                                      (3, 3, 0, False, True)])
def test_cross_search_inner_vs_loop(ps, ws, wt, use_adj, reflect):
    vid0, vid1 = video(1), video(2)
    q = queries(4)
    anchor = "top_left" if use_adj else "center"
    border = "reflect" if reflect else "zero"
    table_d, table_i = ref.search_table(vid0, q, vid1, ps, ws, wt, 1, 1, anchor, border, "inner")
    xs = CrossSearchNl(None, None, -1, ps, 1, ws, wt, reflect_bounds=reflect, use_adj=use_adj,
                       use_k=False)
    d, i = xs(vid0, q, vid1)
    n = table_d.shape[1]
    assert torch.equal(i[:, :n], table_i)
    assert torch.equal(d[:, :n] == -math.inf, table_d == -math.inf)
    finite = torch.isfinite(table_d)
    assert torch.allclose(d[:, :n][finite], table_d[finite], atol=1e-10, rtol=0)
    k = 6
    d, i = CrossSearchNl(None, None, k, ps, 1, ws, wt, reflect_bounds=reflect, use_adj=use_adj)(
        vid0, q, vid1)
    scores = ref.pair_scores(vid0, q, vid1, i, ps, 1, anchor, border, "inner")
    check_topk(d, i, table_d, scores, k, descending=True)


def test_table_padded_to_original_size_when_video_is_short():
    vid = video(shape=(2, C, H, W))
    q = queries(shape=(2, C, H, W))
    ws, wt = 3, 2            # 2wt+1 = 5 slots, 2 frames exist
    d, i = SearchNl(None, None, -1, 3, 1, ws, wt, use_k=False)(vid, q)
    assert d.shape == (len(q), 5 * ws * ws)
    assert (d[:, 2 * ws * ws:] == math.inf).all() and (i[:, 2 * ws * ws:] == -1).all()
    # k = -1: the whole original table, sorted
    d, i = SearchNl(None, None, -1, 3, 1, ws, wt)(vid, q)
    assert d.shape == (len(q), 5 * ws * ws)
    # k larger than the candidates: padded after them
    d, i = SearchNl(None, None, 30, 3, 1, ws, wt)(vid, q)
    assert d.shape == (len(q), 30)
    assert (d[:, 18:] == math.inf).all() and (i[:, 18:] == -1).all()
    valid = i[..., 0] >= 0
    assert (valid.int().diff(dim=1) <= 0).all() and (valid.sum(1) < 18).any()
    assert torch.isfinite(d[valid]).all() and (d[~valid] == math.inf).all()
    d, i = CrossSearchNl(None, None, 30, 3, 1, ws, wt)(vid, q)
    assert (d[:, 18:] == -math.inf).all()


def test_ws_minus_one_is_the_frame():
    vid = video(shape=(1, 1, 8, 8))
    q = queries(2, (1, 1, 8, 8))
    d, i = SearchNl(None, None, -1, 3, 1, -1, 0, stride=2, use_k=False)(vid, q)
    assert d.shape == (len(q), 16)     # ceil(8/2)² candidates
    with pytest.raises(NotImplementedError, match="ws"):
        SearchNl(None, None, 3, 3, 1, -1, 0)(video(), queries())


def test_missing_flow_is_zero_flow():
    vid = video()
    q = queries()
    zero = torch.zeros(T, 2, H, W, dtype=torch.float64)
    a = SearchNl(None, None, 5, 3, 1, 5, 2)(vid, q)
    b = SearchNl(zero, zero, 5, 3, 1, 5, 2)(vid, q)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    # a constant flow of one pixel moves every window centre in the other frames
    ones = torch.ones(T, 2, H, W, dtype=torch.float64)
    d, i = SearchNl(ones, ones, -1, 3, 1, 1, 1, use_k=False)(vid, torch.tensor([[1, 4, 5]]))
    assert i[0].tolist() == [[1, 4, 5], [2, 5, 6], [0, 5, 6]]


def test_simple_search_run():
    vid = video()
    q = queries()
    flow = SimpleNamespace(fflow=torch.zeros(T, 2, H, W, dtype=torch.float64),
                           bflow=torch.zeros(T, 2, H, W, dtype=torch.float64))
    d, i = simple.search.run(vid, q, flow, 4, 3, 1, 5, 1, 2)
    e, j = SearchNl(None, None, 4, 3, 1, 5, 1, chnls=2, use_adj=True)(vid, q)
    assert torch.equal(d, e) and torch.equal(i, j)
    d, i = simple.search.run(vid, q, None, -1, 3, 1, 5, 1, 1, use_adj=False)
    assert d.shape == (len(q), 3 * 25)


@pytest.mark.parametrize("cross", [False, True])
@pytest.mark.parametrize("ps,use_adj,reflect,chnls", [(3, False, True, -1), (4, True, False, 1),
                                                      (4, False, True, -1)])
def test_search_gradients_vs_loop(cross, ps, use_adj, reflect, chnls):
    vid0 = video(3).requires_grad_()
    vid1 = video(4).requires_grad_() if cross else None
    q = queries()
    search = SearchNl(None, None, 5, ps, 1, 5, 1, chnls=chnls, use_adj=use_adj,
                      reflect_bounds=reflect)
    d, i = search(vid0, q, vid1)
    g = torch.randn_like(d)
    leaves = (vid0, vid1) if cross else (vid0,)
    got = torch.autograd.grad((d * g).sum(), leaves)
    scores = ref.pair_scores(vid0, q, vid1 if cross else vid0, i, ps, 1,
                             "top_left" if use_adj else "center",
                             "reflect" if reflect else "zero", "l2", None if chnls <= 0 else chnls)
    want = torch.autograd.grad((scores * g).sum(), leaves)
    for a, b in zip(got, want):
        assert torch.allclose(a, b, atol=1e-10, rtol=0)


def test_cross_search_gradients_vs_loop():
    vid0, vid1 = video(5).requires_grad_(), video(6).requires_grad_()
    q = queries()
    d, i = CrossSearchNl(None, None, 4, 3, 1, 5, 1, dilation=2)(vid0, q, vid1)
    g = torch.randn_like(d)
    got = torch.autograd.grad((d * g).sum(), (vid0, vid1))
    scores = ref.pair_scores(vid0, q, vid1, i, 3, 2, "top_left", "reflect", "inner")
    want = torch.autograd.grad((scores * g).sum(), (vid0, vid1))
    for a, b in zip(got, want):
        assert torch.allclose(a, b, atol=1e-10, rtol=0)
