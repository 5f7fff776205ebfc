"""A whole original-style pipeline, batched, and its gradient vs autograd through loops."""

import torch

import compat_loops as ref
from dnls.ifold import iFold
from dnls.scatter import ScatterNl
from dnls.search import SearchNl
from dnls.utils import get_iquery_batch
from dnls.wpsum import WeightedPatchSum

T, C, H, W = 2, 3, 10, 12
PS, K, WS, WT, STRIDE = 3, 4, 5, 1, 2
COORDS = [1, 2, 9, 11]


def test_nlm_pipeline_gradient():
    g = torch.Generator().manual_seed(7)
    vid = torch.rand(T, C, H, W, generator=g, dtype=torch.float64).requires_grad_()
    n_h, n_w = (COORDS[2] - COORDS[0] - 1) // STRIDE + 1, (COORDS[3] - COORDS[1] - 1) // STRIDE + 1
    total = T * n_h * n_w
    search = SearchNl(None, None, K, PS, 1, WS, WT, use_adj=False)
    scatter = ScatterNl(PS)
    wpsum = WeightedPatchSum(PS)
    fold = iFold((T, C, H, W), COORDS, stride=STRIDE, device="cpu")
    zfold = iFold((T, C, H, W), COORDS, stride=STRIDE, device="cpu")
    found = []
    for start in range(0, total, 17):
        n = min(17, total - start)
        q = get_iquery_batch(start, n, STRIDE, COORDS, T)
        d, i = search(vid, q)
        w = torch.softmax(-d / 0.05, dim=1)
        agg = (w[:, :, None, None, None, None] * scatter(vid, i)).sum(1, keepdim=True)
        fused = wpsum(vid, w, i)
        assert torch.allclose(agg[:, 0, 0], fused, atol=1e-12, rtol=0)
        fold(agg, start)
        zfold(torch.ones_like(agg), start)
        found.append((q, i))
    out = fold.vid / zfold.vid
    covered = zfold.vid > 0
    g_out = torch.randn(T, C, H, W, generator=g, dtype=torch.float64)
    loss = (torch.where(covered, out, torch.zeros_like(out)) * g_out).sum()
    got, = torch.autograd.grad(loss, vid)

    # the same computation through the loop references, on the same neighbour indices
    q_all = torch.cat([q for q, _ in found])
    i_all = torch.cat([i for _, i in found])
    d_ref = ref.pair_scores(vid, q_all, vid, i_all, PS)
    w_ref = torch.softmax(-d_ref / 0.05, dim=1)
    agg_ref = (w_ref[:, :, None, None, None, None] * ref.scatter(vid, i_all, PS)).sum(1)
    positions = q_all.to(torch.int32).view(-1, 1, 3)
    num, _ = ref.add_patches(agg_ref, positions, (T, C, H, W), PS, border="reflect")
    den, _ = ref.add_patches(torch.ones_like(agg_ref), positions, (T, C, H, W), PS, border="reflect")
    assert torch.allclose(num, fold.vid, atol=1e-10, rtol=0)
    assert torch.equal(den, zfold.vid)
    out_ref = num / den
    loss_ref = (torch.where(den > 0, out_ref, torch.zeros_like(out_ref)) * g_out).sum()
    want, = torch.autograd.grad(loss_ref, vid)
    assert torch.allclose(got, want, atol=1e-10, rtol=0)
