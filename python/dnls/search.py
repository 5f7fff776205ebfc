"""``SearchNl``: L2 non-local patch search (the original dnls's ``search``)."""

import math

import torch

from . import ops
from .utils import _compat as cp

__all__ = ["SearchNl"]


def _check_flow(flow, name, vid):
    if flow is None:
        return None
    if not isinstance(flow, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor or None, got {type(flow).__name__}")
    T, _, H, W = vid.shape
    if flow.dim() != 4 or tuple(flow.shape) != (T, 2, H, W):
        raise ValueError(f"{name} must have shape ({T}, 2, {H}, {W}) for a video of shape "
                         f"{tuple(vid.shape)}, got {tuple(flow.shape)}")
    return flow.to(device=vid.device, dtype=vid.dtype).contiguous()


class _WindowSearch(torch.nn.Module):
    """The part shared by the L2 and the inner-product search."""

    metric = "l2"
    empty = math.inf

    def _setup(self, fflow, bflow, k, ps, pt, ws, wt, chnls, dilation, stride, use_k, use_adj,
               reflect_bounds, search_abs, exact, abs_name):
        self.fflow = fflow
        self.bflow = bflow
        self.k = cp.as_int(k, "k")
        self.ps = cp.check_ps(ps)
        self.pt = cp.check_pt(pt)
        self.ws = cp.as_int(ws, "ws")
        self.wt = cp.as_int(wt, "wt")
        if self.wt < 0:
            raise ValueError(f"wt must be >= 0, got {wt}")
        self.chnls = cp.as_int(chnls, "chnls")
        self.dilation = cp.check_dilation(dilation)
        self.stride = cp.as_int(stride, "stride")
        if self.stride < 1:
            raise ValueError(f"stride must be at least 1, got {stride}")
        self.use_k = bool(use_k)
        self.use_adj = bool(use_adj)
        self.reflect_bounds = reflect_bounds
        if search_abs:
            raise NotImplementedError(
                f"{abs_name}=True: searching absolute grid positions of the whole frame is not "
                f"supported; use ws=-1 (a window as large as the frame) around each query instead")
        self.search_abs = search_abs
        self.exact = exact
        self.anchor = "top_left" if self.use_adj else "center"
        self.border = cp.border_from_flag(reflect_bounds, "reflect_bounds")

    def window_size(self, H, W):
        """``ws``, with ``ws <= 0`` meaning ``ceil(H/stride)`` (square frames only)."""
        if self.ws > 0:
            return self.ws
        ws_h = -(-H // self.stride)
        ws_w = -(-W // self.stride)
        if ws_h != ws_w:
            raise NotImplementedError(
                f"ws={self.ws} on a {H}×{W} frame would need a {ws_h}×{ws_w} window; only square "
                f"windows are supported: give ws explicitly")
        return ws_h

    def slots(self, H, W):
        """The original's table size (2·wt + 1)·ws², whatever the number of frames."""
        ws = self.window_size(H, W)
        return (2 * self.wt + 1) * ws * ws

    def _search(self, vid0, qinds, vid1):
        cp.check_video(vid0, "vid0")
        queries = cp.check_indices(qinds, "qinds", dims=2).to(vid0.device)
        if vid1 is not None and vid1 is not vid0:
            cp.check_video(vid1, "vid1")
            if tuple(vid1.shape) != tuple(vid0.shape):
                raise ValueError(f"vid1 must have the shape of vid0 {tuple(vid0.shape)}, got "
                                 f"{tuple(vid1.shape)}")
            keys = vid1
        else:
            keys = None
        T, C, H, W = vid0.shape
        ws = self.window_size(H, W)
        table = (2 * self.wt + 1) * ws * ws
        available = min(2 * self.wt + 1, T) * ws * ws
        if self.use_k:
            wanted = table if self.k <= 0 else self.k
            k = min(wanted, available)
        else:
            wanted, k = table, None
        fflow = _check_flow(self.fflow, "fflow", vid0) if self.wt > 0 else None
        bflow = _check_flow(self.bflow, "bflow", vid0) if self.wt > 0 else None
        channels = None if self.chnls <= 0 or self.chnls >= C else self.chnls
        dists, inds = ops.search(
            vid0, queries, keys=keys, forward_flow=fflow, backward_flow=bflow,
            patch_size=self.ps, window_size=ws, window_stride=self.stride,
            temporal_radius=self.wt, k=k, metric=self.metric, channels=channels,
            dilation=self.dilation, anchor=self.anchor, border=self.border)
        missing = wanted - dists.shape[-1]
        if missing > 0:
            nq = dists.shape[0]
            dists = torch.cat([dists, dists.new_full((nq, missing), self.empty)], dim=1)
            inds = torch.cat([inds, inds.new_full((nq, missing, 3), -1)], dim=1)
        return dists, inds


class SearchNl(_WindowSearch):
    """``SearchNl(fflow, bflow, k, ps, pt, ws, wt, chnls=-1, dilation=1, stride=1, use_k=True,
    use_adj=True, reflect_bounds=True, search_abs=False, exact=False, h0_off=0, w0_off=0,
    h1_off=0, w1_off=0)``; ``forward(vid0, qinds, vid1=None)`` → ``(dists, inds)``.

    For each query ``(t, h, w)`` of ``qinds`` ``(nq, 3)``: the sum of squared differences between
    its ``ps × ps`` patch in ``vid0`` and the candidate patches of ``vid1`` (``vid0`` if None) in a
    ``ws × ws`` window (candidates ``stride`` apart, around the flow-moved query) over ``2·wt+1``
    frames. ``use_k``: the ``k`` smallest, ascending (``k <= 0``: the whole window sorted), as
    ``dists (nq, k)`` and ``inds (nq, k, 3)`` int32; otherwise the whole table
    ``(nq, (2wt+1)·ws²)`` in visiting order. Invalid candidates are ``(inf, (-1, -1, -1))`` and
    never come before a valid one; ties keep the visiting order. ``use_adj`` anchors patches at
    their top-left corner, otherwise they are centred (entry ``a`` at ``dil·(a - ps//2)``).
    ``chnls > 0`` uses the first ``chnls`` channels (forward and backward). A missing flow is a
    zero flow. Gradients w.r.t. both videos are exact and deterministic (``exact`` is ignored).
    Nonzero offsets and ``search_abs=True`` are not supported.
    """

    metric = "l2"
    empty = math.inf

    def __init__(self, fflow, bflow, k, ps, pt, ws, wt, chnls=-1, dilation=1, stride=1,
                 use_k=True, use_adj=True, reflect_bounds=True, search_abs=False, exact=False,
                 h0_off=0, w0_off=0, h1_off=0, w1_off=0, device=None):
        super().__init__()
        cp.check_offsets(h0_off=h0_off, w0_off=w0_off, h1_off=h1_off, w1_off=w1_off)
        self.h0_off, self.w0_off, self.h1_off, self.w1_off = h0_off, w0_off, h1_off, w1_off
        self._setup(fflow, bflow, k, ps, pt, ws, wt, chnls, dilation, stride, use_k, use_adj,
                    reflect_bounds, search_abs, exact, "search_abs")

    def forward(self, vid0, qinds, vid1=None):
        return self._search(vid0, qinds, vid1)
