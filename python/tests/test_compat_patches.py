"""ScatterNl, GatherNl and WeightedPatchSum against loop references."""

import math

import pytest
import torch

import compat_loops as ref
from dnls.gather import GatherNl
from dnls.scatter import ScatterNl
from dnls.wpsum import WeightedPatchSum

T, C, H, W = 3, 2, 10, 12


def video(seed=0, shape=(T, C, H, W)):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=g, dtype=torch.float64)


def random_inds(nq, k, seed=1, empty=True):
    g = torch.Generator().manual_seed(seed)
    t = torch.randint(0, T, (nq, k), generator=g)
    h = torch.randint(0, H, (nq, k), generator=g)
    w = torch.randint(0, W, (nq, k), generator=g)
    inds = torch.stack([t, h, w], dim=-1).to(torch.int32)
    if empty:
        inds[0, -1] = -1
    return inds


CASES = [(3, 1, 0, True), (3, 1, 0, False), (3, 2, 1, True), (3, 1, 1, False),
         (5, 1, 2, True), (4, 1, 0, True), (4, 1, 2, False), (4, 2, 2, True)]


@pytest.mark.parametrize("ps,dil,adj,reflect", CASES)
def test_scatter_forward_and_backward(ps, dil, adj, reflect):
    vid = video().requires_grad_()
    inds = random_inds(20, 4)
    anchor = "center" if adj == 0 else "top_left"
    border = "reflect" if reflect else "zero"
    scatter = ScatterNl(ps, pt=1, dilation=dil, adj=adj, reflect_bounds=reflect)
    got = scatter(vid, inds)
    want = ref.scatter(vid, inds, ps, dil, anchor, border)
    assert got.shape == (20, 4, 1, C, ps, ps)
    assert torch.allclose(got, want, atol=1e-12, rtol=0)
    assert got[0, -1].abs().sum() == 0  # empty slot
    grad = torch.randn_like(got)
    g_got, = torch.autograd.grad(got, vid, grad)
    g_want, = torch.autograd.grad(want, vid, grad)
    assert torch.allclose(g_got, g_want, atol=1e-12, rtol=0)


def test_scatter_accepts_original_keywords():
    vid = video()
    inds = random_inds(5, 2, empty=False).long()
    a = ScatterNl(3, 1, 1, "eff", True, device="cpu")(vid, inds)
    b = ref.scatter(vid, inds, 3)
    assert torch.allclose(a, b)


@pytest.mark.parametrize("ps,dil,adj,reflect", CASES)
def test_wpsum_forward_and_backward(ps, dil, adj, reflect):
    vid = video().requires_grad_()
    inds = random_inds(15, 5)
    weights = torch.softmax(torch.randn(15, 5, dtype=torch.float64), dim=1).requires_grad_()
    anchor = "center" if adj == 0 else "top_left"
    border = "reflect" if reflect else "zero"
    got = WeightedPatchSum(ps, dilation=dil, adj=adj, reflect_bounds=reflect)(vid, weights, inds)
    patches = ref.scatter(vid, inds, ps, dil, anchor, border)[:, :, 0]
    want = (weights[:, :, None, None, None] * patches).sum(dim=1)
    assert got.shape == (15, C, ps, ps)
    assert torch.allclose(got, want, atol=1e-12, rtol=0)
    grad = torch.randn_like(got)
    g_got = torch.autograd.grad(got, (vid, weights), grad)
    g_want = torch.autograd.grad(want, (vid, weights), grad)
    for a, b in zip(g_got, g_want):
        assert torch.allclose(a, b, atol=1e-12, rtol=0)


@pytest.mark.parametrize("ps,dil", [(3, 1), (3, 2), (4, 1), (5, 1)])
def test_gather_two_batches_vs_loop(ps, dil):
    lam = 0.7
    g = torch.Generator().manual_seed(3)
    batches = []
    for seed in (4, 5):
        nq, k = 12, 4
        patches = torch.randn(nq, k, 1, C, ps, ps, generator=g, dtype=torch.float64).requires_grad_()
        dists = torch.rand(nq, k, generator=g, dtype=torch.float64).requires_grad_()
        inds = random_inds(nq, k, seed=seed)
        dists.data[0, -1] = math.inf  # an empty slot as a search returns it
        batches.append((patches, dists, inds))
    gather = GatherNl((T, C, H, W), 7, 1, dilation=dil, lam=lam, device="cpu")
    for patches, dists, inds in batches:
        vid, wvid = gather(patches, dists, inds)
    assert vid is gather.vid and wvid is gather.wvid
    assert wvid.shape == (T, C, H, W) and wvid.stride(1) == 0  # a view of one plane
    want_vid = torch.zeros(T, C, H, W, dtype=torch.float64)
    want_w = torch.zeros(T, 1, H, W, dtype=torch.float64)
    for patches, dists, inds in batches:
        finite = torch.where(torch.isfinite(dists), dists, torch.zeros_like(dists))
        omega = torch.where(torch.isfinite(dists), torch.exp(-lam * finite), torch.zeros_like(dists))
        v, w = ref.add_patches(patches, inds, (T, C, H, W), ps, dil, "center", "zero", omega)
        want_vid, want_w = want_vid + v, want_w + w
    assert torch.allclose(vid, want_vid, atol=1e-12, rtol=0)
    assert torch.allclose(wvid, want_w.expand(T, C, H, W), atol=1e-12, rtol=0)
    # gradient of a normalised aggregate w.r.t. every batch's patches and dists
    gv = torch.randn(T, C, H, W, dtype=torch.float64)
    gw = torch.randn(T, C, H, W, dtype=torch.float64)
    leaves = [x for p, d, _ in batches for x in (p, d)]
    loss_got = (vid * gv).sum() + (wvid * gw).sum()
    loss_want = (want_vid * gv).sum() + (want_w.expand(T, C, H, W) * gw).sum()
    for a, b in zip(torch.autograd.grad(loss_got, leaves), torch.autograd.grad(loss_want, leaves)):
        assert torch.allclose(a, b, atol=1e-10, rtol=0)


def test_gather_lam_zero_counts():
    ps = 3
    inds = random_inds(10, 3, empty=True)
    patches = torch.ones(10, 3, 1, C, ps, ps, dtype=torch.float64)
    dists = torch.rand(10, 3, dtype=torch.float64)
    dists[0, -1] = math.inf
    vid, wvid = GatherNl((T, C, H, W), 5, 0)(patches, dists, inds)
    v, w = ref.add_patches(patches, inds, (T, C, H, W), ps)
    assert torch.allclose(vid, v) and torch.allclose(wvid, w.expand_as(vid))
    assert torch.isfinite(vid).all()
