"""dnls.utils: query batches and SAME padding of the original dnls."""

import pytest
import torch

from dnls.utils import comp_pads, get_iquery_batch, get_query_batch, same_padding


def loop_query_batch(index, n, stride, h, w):
    nh, nw = (h - 1) // stride + 1, (w - 1) // stride + 1
    out = []
    for q in range(index, index + n):
        t, r = divmod(q, nh * nw)
        out.append((t, (stride * (r // nw)) % h, (stride * (r % nw)) % w))
    return out


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("index", [0, 7, 50])
def test_get_query_batch_matches_loop(stride, index):
    got = get_query_batch(index, 40, stride, 3, 10, 12, "cpu")
    assert got.dtype == torch.int64 and got.shape == (40, 3)
    assert got.tolist() == [list(v) for v in loop_query_batch(index, 40, stride, 10, 12)]


def test_get_query_batch_frame_not_bounded():
    # 2 frames of 10×12 at stride 1 hold 240 queries; 240 is frame 2.
    got = get_query_batch(239, 2, 1, 2, 10, 12, None)
    assert got.tolist() == [[1, 9, 11], [2, 0, 0]]


def test_get_iquery_batch_worked_example():
    got = get_iquery_batch(0, 600, 2, [4, 8, 60, 50], 3, "cpu")
    assert got.dtype == torch.int64 and got.shape == (600, 3)
    assert got[500].tolist() == [0, 50, 42]
    assert got[0].tolist() == [0, 4, 8]
    # 28 × 21 = 588 queries per frame
    assert got[588].tolist() == [1, 4, 8]


def test_get_iquery_batch_region_loop_and_six_coords():
    coords = [2, 3, 9, 11]
    got = get_iquery_batch(5, 30, 2, coords, 2)
    ref = [(t, h + 2, w + 3) for t, h, w in loop_query_batch(5, 30, 2, 7, 8)]
    assert got.tolist() == [list(v) for v in ref]
    six = get_iquery_batch(5, 30, 2, [1, 3] + coords, 3)
    assert six.tolist() == [[t + 1, h, w] for t, h, w in ref]
    assert get_iquery_batch(0, 4, 1, coords, 2, dtype=torch.int32).dtype == torch.int32


@pytest.mark.parametrize("H,stride,top,Hp", [(64, 4, 1, 67), (64, 1, 3, 70), (128, 4, 1, 131)])
def test_comp_pads_examples(H, stride, top, Hp):
    pad_top, pad_left, hp, wp = comp_pads((1, 3, H, H), 7, stride, 1)
    assert (pad_top, pad_left, hp, wp) == (top, top, Hp, Hp)
    n = (hp - (7 - 1) * 1 - 1) // stride + 1
    assert n == -(-H // stride)


def test_comp_pads_rectangle_and_dilation():
    # H=10, W=12, ps 3, dil 2, stride 3: out 4 / 4, k_eff 5 → pads 4 / 2
    assert comp_pads((2, 1, 10, 12), 3, 3, 2) == (2, 1, 14, 14)


def test_same_padding_zero_and_reflect():
    x = torch.arange(2 * 1 * 5 * 6, dtype=torch.float64).view(2, 1, 5, 6)
    z = same_padding(x, 3, 1, 1)
    assert z.shape == (2, 1, 7, 8)
    assert torch.equal(z[:, :, 1:-1, 1:-1], x) and z[:, :, 0].abs().sum() == 0
    r = same_padding(x, 4, 1, 1, mode="reflect")   # pad 3: top 1, bottom 2
    assert r.shape == (2, 1, 8, 9)
    assert torch.equal(r, torch.nn.functional.pad(x, (1, 2, 1, 2), mode="reflect"))
    with pytest.raises(ValueError, match="mode"):
        same_padding(x, 3, 1, 1, mode="edge")
