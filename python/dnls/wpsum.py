"""``WeightedPatchSum``: the weighted sum of each query's neighbour patches, fused."""

import torch

from . import ops
from .utils import _compat as cp

__all__ = ["WeightedPatchSum"]


class WeightedPatchSum(torch.nn.Module):
    """``WeightedPatchSum(ps, pt=1, h_off=0, w_off=0, dilation=1, adj=0, reflect_bounds=True,
    exact=False)``; ``forward(vid, dists, inds)`` → ``(nq, C, ps, ps)``.

    ``out[q] = Σ_m dists[q, m] · patch(vid, inds[q, m])`` — ``dists`` are the weights (for example
    a softmax of search scores). Differentiable w.r.t. ``vid`` and ``dists``; exact and
    deterministic (``exact`` is accepted and ignored). Nonzero ``h_off``/``w_off`` are not
    supported.
    """

    def __init__(self, ps, pt=1, h_off=0, w_off=0, dilation=1, adj=0, reflect_bounds=True,
                 exact=False, device=None):
        super().__init__()
        self.ps = cp.check_ps(ps)
        self.pt = cp.check_pt(pt)
        cp.check_offsets(h_off=h_off, w_off=w_off)
        self.h_off, self.w_off = h_off, w_off
        self.dilation = cp.check_dilation(dilation)
        self.adj = adj
        self.reflect_bounds = reflect_bounds
        self.exact = exact
        self.anchor = cp.anchor_from_adj(adj, self.ps)
        self.border = cp.border_from_flag(reflect_bounds, "reflect_bounds")

    def forward(self, vid, dists, inds):
        cp.check_video(vid, "vid")
        inds = cp.check_indices(inds, "inds").to(vid.device)
        nq, k = inds.shape[:2]
        if not isinstance(dists, torch.Tensor) or tuple(dists.shape) != (nq, k):
            raise ValueError(f"dists (the weights) must have shape ({nq}, {k}), got "
                             f"{tuple(getattr(dists, 'shape', ()))}")
        weights = dists.to(device=vid.device, dtype=vid.dtype)
        out = ops.wpsum(vid, weights, inds, patch_size=self.ps, dilation=self.dilation,
                        anchor=self.anchor, border=self.border)
        return out.view(nq, vid.shape[1], self.ps, self.ps)
