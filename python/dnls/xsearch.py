"""``CrossSearchNl``: inner-product non-local patch search (the original dnls's ``xsearch``)."""

import math

from .search import _WindowSearch
from .utils import _compat as cp

__all__ = ["CrossSearchNl"]


class CrossSearchNl(_WindowSearch):
    """``CrossSearchNl(fflow, bflow, k, ps, pt, ws, wt, oh0=0, ow0=0, oh1=0, ow1=0, chnls=-1,
    stride=1, dilation=1, lam=1., use_search_abs=False, reflect_bounds=True, use_adj=True,
    use_k=True, exact=True)``; ``forward(vid0, iqueries, vid1=None)`` → ``(dists, inds)``.

    As :class:`dnls.search.SearchNl`, with the score ``Σ P0·P1`` (largest first); invalid
    candidates are ``(-inf, (-1, -1, -1))``. ``lam`` and ``exact`` are accepted and ignored.
    """

    metric = "inner"
    empty = -math.inf

    def __init__(self, fflow, bflow, k, ps, pt, ws, wt, oh0=0, ow0=0, oh1=0, ow1=0, chnls=-1,
                 stride=1, dilation=1, lam=1., use_search_abs=False, reflect_bounds=True,
                 use_adj=True, use_k=True, exact=True, device=None):
        super().__init__()
        cp.check_offsets(oh0=oh0, ow0=ow0, oh1=oh1, ow1=ow1)
        self.oh0, self.ow0, self.oh1, self.ow1 = oh0, ow0, oh1, ow1
        self.lam = lam
        self._setup(fflow, bflow, k, ps, pt, ws, wt, chnls, dilation, stride, use_k, use_adj,
                    reflect_bounds, use_search_abs, exact, "use_search_abs")

    def forward(self, vid0, iqueries, vid1=None):
        return self._search(vid0, iqueries, vid1)
