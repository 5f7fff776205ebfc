"""``simple.search.run``: a one-call L2 search with the original dnls's reference signature."""

from ..search import SearchNl

__all__ = ["run"]


def _flows(flow):
    if flow is None:
        return None, None
    if isinstance(flow, dict):
        return flow.get("fflow"), flow.get("bflow")
    return getattr(flow, "fflow", None), getattr(flow, "bflow", None)


def run(vid0, iqueries, flow, k, ps, pt, ws, wt, chnls, dilation=1, stride=1, use_adj=True,
        reflect_bounds=True, search_abs=False, h0_off=0, w0_off=0, h1_off=0, w1_off=0,
        vid1=None):
    """L2 search of ``iqueries`` ``(nq, 3)`` in ``vid1`` (``vid0`` if None) → ``(dists, inds)``.

    ``flow`` is None (zero flow) or an object or dict with ``fflow`` and ``bflow``. ``k <= 0``
    returns the whole table ``(nq, (2wt+1)·ws²)`` in visiting order, otherwise the ``k`` nearest,
    ascending. ``ws <= 0`` means ``(H-1)//stride + 1``. Note the default ``use_adj=True``:
    patches are anchored at their top-left corner. Same rules as :class:`dnls.search.SearchNl`.
    """
    fflow, bflow = _flows(flow)
    use_k = int(k) > 0
    search = SearchNl(fflow, bflow, k if use_k else -1, ps, pt, ws, wt, chnls=chnls,
                      dilation=dilation, stride=stride, use_k=use_k, use_adj=use_adj,
                      reflect_bounds=reflect_bounds, search_abs=search_abs, h0_off=h0_off,
                      w0_off=w0_off, h1_off=h1_off, w1_off=w1_off)
    return search(vid0, iqueries, vid1)
