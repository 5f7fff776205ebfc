"""Unsupported or wrong arguments of the original-dnls classes raise, naming the argument."""

import pytest
import torch

from dnls.fold import Fold
from dnls.gather import GatherNl
from dnls.ifold import iFold
from dnls.iunfold import iUnfold
from dnls.scatter import ScatterNl
from dnls.search import SearchNl
from dnls.unfold import Unfold
from dnls.wpsum import WeightedPatchSum
from dnls.xsearch import CrossSearchNl

T, C, H, W = 2, 2, 10, 12


def vid():
    return torch.rand(T, C, H, W, dtype=torch.float64)


@pytest.mark.parametrize("name", ["h0_off", "w0_off", "h1_off", "w1_off"])
def test_search_offsets(name):
    with pytest.raises(NotImplementedError, match=name):
        SearchNl(None, None, 3, 3, 1, 5, 0, **{name: 1})


@pytest.mark.parametrize("name", ["oh0", "ow0", "oh1", "ow1"])
def test_xsearch_offsets(name):
    with pytest.raises(NotImplementedError, match=name):
        CrossSearchNl(None, None, 3, 3, 1, 5, 0, **{name: 2})


def test_search_abs_and_pt():
    with pytest.raises(NotImplementedError, match="search_abs"):
        SearchNl(None, None, 3, 3, 1, 5, 0, search_abs=True)
    with pytest.raises(NotImplementedError, match="use_search_abs"):
        CrossSearchNl(None, None, 3, 3, 1, 5, 0, use_search_abs=True)
    for make in (lambda: SearchNl(None, None, 3, 3, 2, 5, 0), lambda: ScatterNl(3, 2),
                 lambda: WeightedPatchSum(3, 2), lambda: iUnfold(3, None, pt=2),
                 lambda: Unfold(3, 2)):
        with pytest.raises(NotImplementedError, match="pt"):
            make()


@pytest.mark.parametrize("ps,adj", [(5, 1), (5, 3), (4, 1), (3, -1)])
def test_adj_values(ps, adj):
    with pytest.raises(NotImplementedError, match="adj"):
        ScatterNl(ps, adj=adj)
    with pytest.raises(NotImplementedError, match="adj"):
        WeightedPatchSum(ps, adj=adj)
    with pytest.raises(NotImplementedError, match="adj"):
        iUnfold(ps, None, adj=adj)
    fold = iFold((T, C, H, W), None, adj=adj)
    with pytest.raises(NotImplementedError, match="adj"):
        fold(torch.zeros(4, 1, 1, C, ps, ps, dtype=torch.float64), 0)


def test_wpsum_offsets():
    with pytest.raises(NotImplementedError, match="h_off"):
        WeightedPatchSum(3, 1, 1, 0)


def test_bad_border_coords_and_shapes():
    with pytest.raises(ValueError, match="border"):
        iUnfold(3, None, border="constant")
    with pytest.raises(ValueError, match="coords"):
        iUnfold(3, [0, 0, 11, 12])(vid())
    with pytest.raises(ValueError, match="coords"):
        iUnfold(3, [5, 0, 5, 12])(vid())
    with pytest.raises(ValueError, match="coords"):
        iUnfold(3, [0, 0, 5])(vid())
    with pytest.raises(ValueError, match="only_full"):
        iUnfold(5, [0, 0, 3, 3], only_full=True)(vid())
    with pytest.raises(ValueError, match="vid"):
        ScatterNl(3)(vid()[None], torch.zeros(1, 1, 3, dtype=torch.int32))
    with pytest.raises(ValueError, match="nlInds"):
        ScatterNl(3)(vid(), torch.zeros(4, 3, dtype=torch.int32))
    with pytest.raises(TypeError, match="nlInds"):
        ScatterNl(3)(vid(), torch.zeros(1, 1, 3))
    with pytest.raises(ValueError, match="patches"):
        iFold((T, C, H, W), None)(torch.zeros(4, 2, 1, C, 3, 3, dtype=torch.float64), 0)
    with pytest.raises(ValueError, match="channels"):
        Fold((T, C, H, W))(torch.zeros(4, 1, 1, C + 1, 3, 3, dtype=torch.float64), 0)
    with pytest.raises(ValueError, match="vid_shape"):
        GatherNl((T, C, H), 5, 0)
    with pytest.raises(ValueError, match="nlDists"):
        GatherNl((T, C, H, W), 5, 0)(torch.zeros(4, 2, 1, C, 3, 3, dtype=torch.float64),
                                     torch.zeros(4, 3, dtype=torch.float64),
                                     torch.zeros(4, 2, 3, dtype=torch.int32))
    with pytest.raises(ValueError, match="fflow"):
        SearchNl(torch.zeros(T, 2, H, W + 1, dtype=torch.float64), None, 3, 3, 1, 5, 1)(
            vid(), torch.zeros(1, 3, dtype=torch.int64))
    with pytest.raises(ValueError, match="start"):
        iUnfold(3, None)(vid(), -2, 3)
    with pytest.raises(ValueError, match="qStart"):
        iFold((T, C, H, W), None)(torch.zeros(4, 1, 1, C, 3, 3, dtype=torch.float64), -1)


def test_query_outside_the_video_is_refused():
    with pytest.raises(ValueError):
        SearchNl(None, None, 3, 3, 1, 5, 0)(vid(), torch.tensor([[0, 10, 0]]))


@pytest.mark.parametrize("index", [[2, 0, 0], [0, 10, 0], [0, 0, -2], [-1, 0, 0]])
def test_neighbour_index_outside_the_video_is_refused(index):
    inds = torch.tensor([[index]], dtype=torch.int32)
    with pytest.raises(ValueError, match="indices"):
        ScatterNl(3)(vid(), inds)
    with pytest.raises(ValueError, match="indices"):
        WeightedPatchSum(3)(vid(), torch.ones(1, 1, dtype=torch.float64), inds)
