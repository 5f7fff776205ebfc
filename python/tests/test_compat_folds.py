"""iUnfold, iFold, Unfold and Fold against torch's unfold/fold and loop references."""

import pytest
import torch
import torch.nn.functional as F

import compat_loops as ref
from dnls.fold import Fold
from dnls.ifold import iFold
from dnls.iunfold import iUnfold
from dnls.unfold import Unfold

T, C, H, W = 2, 3, 10, 12


def video(seed=0, shape=(T, C, H, W)):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=g, dtype=torch.float64)


def as_torch_columns(patches, T):
    """(T·L, 1, 1, C, ps, ps) → (T, C·ps·ps, L), torch's unfold layout."""
    q = patches.shape[0]
    return patches.reshape(T, q // T, -1).transpose(1, 2)


def positions_tensor(positions):
    return torch.tensor(positions, dtype=torch.int32).view(-1, 1, 3)


@pytest.mark.parametrize("ps,stride,dil", [(3, 1, 1), (3, 2, 2), (4, 1, 1), (4, 3, 1), (5, 2, 1)])
def test_iunfold_match_nn_is_torch_unfold(ps, stride, dil):
    vid = video().requires_grad_()
    unfold = iUnfold(ps, None, stride=stride, dilation=dil, match_nn=True)
    got = unfold(vid)
    want = F.unfold(vid, ps, dilation=dil, stride=stride)
    assert got.shape[1:] == (1, 1, C, ps, ps)
    assert torch.allclose(as_torch_columns(got, T), want, atol=1e-12, rtol=0)
    g = torch.randn_like(got)
    a, = torch.autograd.grad(got, vid, g)
    b, = torch.autograd.grad(want, vid, as_torch_columns(g, T))
    assert torch.allclose(a, b, atol=1e-12, rtol=0)


@pytest.mark.parametrize("border", ["reflect", "zero"])
@pytest.mark.parametrize("ps,stride,dil,coords", [(3, 1, 1, [1, 2, 9, 11]), (3, 2, 2, [0, 0, 10, 12]),
                                                  (4, 2, 1, [2, 1, 8, 12]), (5, 3, 1, [0, 3, 7, 10])])
def test_iunfold_adj0_vs_loop(border, ps, stride, dil, coords):
    vid = video(1).requires_grad_()
    positions = ref.region_positions(coords, T, H, W, stride, ps, dil, False)
    want = ref.scatter(vid, positions_tensor(positions), ps, dil, "center", border)
    unfold = iUnfold(ps, coords, stride=stride, dilation=dil, adj=0, border=border)
    got = unfold(vid, 0, len(positions))
    assert torch.allclose(got, want, atol=1e-12, rtol=0)
    # batches and the gradient (exact adjoint, reflected reads included)
    half = len(positions) // 2
    parts = torch.cat([unfold(vid, 0, half), unfold(vid, half, -1)])
    assert torch.equal(parts, got)
    g = torch.randn_like(got)
    a, = torch.autograd.grad(got, vid, g)
    b, = torch.autograd.grad(want, vid, g)
    assert torch.allclose(a, b, atol=1e-12, rtol=0)


def test_iunfold_past_the_end_rows_are_zero():
    vid = video()
    unfold = iUnfold(3, [0, 0, 4, 4], stride=2)      # 2 frames × 2 × 2 = 8 queries
    out = unfold(vid, 6, 5)
    assert out.shape == (5, 1, 1, C, 3, 3)
    assert out[2:].abs().sum() == 0 and out[:2].abs().sum() > 0


@pytest.mark.parametrize("ps,stride,dil", [(3, 1, 1), (3, 2, 2), (4, 1, 1), (5, 2, 1)])
def test_ifold_only_full_is_torch_fold(ps, stride, dil):
    n = iUnfold(ps, None, stride=stride, dilation=dil, match_nn=True)(video()).shape[0]
    patches = torch.randn(n, 1, 1, C, ps, ps, dtype=torch.float64).requires_grad_()
    fold = iFold((T, C, H, W), None, stride=stride, dilation=dil, adj=ps // 2, only_full=True,
                 device="cpu")
    got = fold(patches, 0)
    want = F.fold(as_torch_columns(patches, T), (H, W), ps, dilation=dil, stride=stride)
    assert torch.allclose(got, want, atol=1e-12, rtol=0)
    g = torch.randn_like(got)
    a, = torch.autograd.grad(got, patches, g)
    b, = torch.autograd.grad(want, patches, g)
    assert torch.allclose(a, b, atol=1e-12, rtol=0)


@pytest.mark.parametrize("use_reflect", [False, True])
@pytest.mark.parametrize("ps,stride,dil,coords", [(3, 1, 1, [1, 2, 9, 11]), (4, 2, 1, [0, 0, 10, 12]),
                                                  (3, 2, 2, [2, 1, 8, 12])])
def test_ifold_adj0_two_batches_vs_loop(use_reflect, ps, stride, dil, coords):
    positions = ref.region_positions(coords, T, H, W, stride, ps, dil, False)
    n = len(positions)
    patches = torch.randn(n, 1, 1, C, ps, ps, dtype=torch.float64).requires_grad_()
    fold = iFold((T, C, H, W), coords, stride=stride, dilation=dil, adj=0, use_reflect=use_reflect)
    half = n // 3
    first = fold(patches[:half], 0)
    assert torch.equal(first, fold.vid)
    got = fold(patches[half:], half)
    assert got is fold.vid
    border = "reflect" if use_reflect else "zero"
    want, _ = ref.add_patches(patches, positions_tensor(positions), (T, C, H, W), ps, dil,
                              "center", border)
    assert torch.allclose(got, want, atol=1e-12, rtol=0)
    g = torch.randn_like(got)
    a, = torch.autograd.grad(got, patches, g)
    b, = torch.autograd.grad(want, patches, g)
    assert torch.allclose(a, b, atol=1e-12, rtol=0)


def test_ifold_adj0_no_reflect_is_padded_torch_fold():
    # The original's relation: F.fold on a canvas grown by dil·(ps//2) / dil·((ps-1)//2), cropped.
    ps, stride, dil = 5, 2, 1
    n = T * ((H - 1) // stride + 1) * ((W - 1) // stride + 1)
    patches = torch.randn(n, 1, 1, C, ps, ps, dtype=torch.float64)
    got = iFold((T, C, H, W), None, stride=stride, dilation=dil, use_reflect=False)(patches, 0)
    lo, hi = dil * (ps // 2), dil * ((ps - 1) // 2)
    canvas = F.fold(as_torch_columns(patches, T), (H + lo + hi, W + lo + hi), ps, dilation=dil,
                    stride=stride)
    assert torch.allclose(got, canvas[:, :, lo:lo + H, lo:lo + W], atol=1e-12, rtol=0)


@pytest.mark.parametrize("border,use_reflect", [("reflect", True), ("zero", False), ("reflect", False)])
@pytest.mark.parametrize("ps,stride,dil,adj,only_full,coords", [
    (3, 1, 1, 0, False, [1, 2, 9, 11]), (5, 2, 1, 0, False, None), (4, 1, 1, 0, False, [0, 0, 10, 12]),
    (3, 2, 1, 1, True, [1, 0, 10, 11]), (4, 1, 2, 2, True, None), (3, 1, 1, 0, True, [1, 1, 9, 9])])
def test_round_trip(border, use_reflect, ps, stride, dil, adj, only_full, coords):
    vid = video(2)
    unfold = iUnfold(ps, coords, stride=stride, dilation=dil, adj=adj, only_full=only_full,
                     border=border)
    patches = unfold(vid)
    fold = iFold((T, C, H, W), coords, stride=stride, dilation=dil, adj=adj, only_full=only_full,
                 use_reflect=use_reflect)
    ones = iFold((T, C, H, W), coords, stride=stride, dilation=dil, adj=adj, only_full=only_full,
                 use_reflect=use_reflect)
    num = fold(patches, 0)
    den = ones(torch.ones_like(patches), 0)
    covered = den > 0
    assert covered.any()
    assert torch.allclose((num / den)[covered], vid[covered], atol=1e-12, rtol=0)
    if border == "zero" or not use_reflect:
        # with no reflection on the way back, a pixel a patch did not cover gets nothing
        assert (num[~covered] == 0).all()


def test_example_folds_count_stride1():
    # 1-D counts of the original's Z for ps=3, stride 1 / 2 on a 5-pixel axis (full frame)
    for stride, counts in [(1, [2, 3, 3, 3, 2]), (2, [1, 2, 1, 2, 1])]:
        n = 1 * ((5 - 1) // stride + 1) ** 2
        z = iFold((1, 1, 5, 5), None, stride=stride, use_reflect=False)(
            torch.ones(n, 1, 1, 1, 3, 3, dtype=torch.float64), 0)
        c = torch.tensor(counts, dtype=torch.float64)
        assert torch.equal(z[0, 0], c[:, None] * c[None, :])   # 2-D: corner 4, edge 6, inside 9


@pytest.mark.parametrize("ps,stride,dil", [(3, 1, 1), (3, 3, 2), (5, 2, 1), (4, 2, 1)])
def test_raster_unfold_and_fold(ps, stride, dil):
    vid = video(3).requires_grad_()
    positions = ref.region_positions(None, T, H, W, stride, ps, dil, False)
    n = len(positions)
    want = ref.scatter(vid, positions_tensor(positions), ps, dil, "center", "reflect")
    unfold = Unfold(ps, 1, stride, dil, "cpu")
    got = torch.cat([unfold(vid, 0, n // 2), unfold(vid, n // 2, n - n // 2)])
    assert torch.allclose(got, want, atol=1e-12, rtol=0)
    g = torch.randn_like(got)
    assert torch.allclose(torch.autograd.grad(got, vid, g)[0], torch.autograd.grad(want, vid, g)[0],
                          atol=1e-12, rtol=0)
    patches = torch.randn(n, 1, 1, C, ps, ps, dtype=torch.float64).requires_grad_()
    fold = Fold((T, C, H, W), stride, dil, "cpu")
    fold(patches[:5], 0)
    out = fold(patches[5:], 5)
    assert out is fold.vid
    want_v, _ = ref.add_patches(patches, positions_tensor(positions), (T, C, H, W), ps, dil,
                                "center", "zero")
    assert torch.allclose(out, want_v, atol=1e-12, rtol=0)
    gv = torch.randn_like(out)
    assert torch.allclose(torch.autograd.grad(out, patches, gv)[0],
                          torch.autograd.grad(want_v, patches, gv)[0], atol=1e-12, rtol=0)


def test_state_reset_by_assignment():
    ps = 3
    n = T * H * W
    patches = torch.ones(n, 1, 1, C, ps, ps, dtype=torch.float64)
    fold = iFold((T, C, H, W), None, use_reflect=False)
    a = fold(patches, 0).clone()
    b = fold(patches, 0)
    assert torch.allclose(b, 2 * a)
    fold.vid = torch.zeros(T, C, H, W, dtype=torch.float64)
    assert torch.allclose(fold(patches, 0), a)
