"""``ScatterNl``: the original dnls's "scatter" — read the patches of given positions.

Despite the name this reads a video into patches (an indexed unfold): for every query ``q`` and
neighbour ``m`` at ``(t, h, w) = nlInds[q, m]`` it returns the ``ps × ps`` patch of frame ``t``
located at ``(h, w)``. Its backward is the exact adjoint (reflected samples send their gradient to
the pixel they read), deterministic.
"""

import torch

from . import ops
from .utils import _compat as cp

__all__ = ["ScatterNl"]


class ScatterNl(torch.nn.Module):
    """``ScatterNl(ps, pt=1, dilation=1, btype="default", exact=False, adj=0,
    reflect_bounds=True)``; ``forward(vid, nlInds)`` → ``(nq, k, 1, C, ps, ps)``.

    ``adj=0``: patches centred on their position (entry ``a`` at ``dil·(a - ps//2)``);
    ``adj=ps//2``: anchored at their top-left corner. ``reflect_bounds`` reflects samples outside
    the frame (without repeating the edge), otherwise they read 0. ``btype`` and ``exact`` are
    accepted and ignored (the backward is always exact and deterministic); ``device`` is accepted
    and ignored (the output is on the video's device).
    """

    def __init__(self, ps, pt=1, dilation=1, btype="default", exact=False, adj=0,
                 reflect_bounds=True, device=None):
        super().__init__()
        self.ps = cp.check_ps(ps)
        self.pt = cp.check_pt(pt)
        self.dilation = cp.check_dilation(dilation)
        self.btype = btype
        self.exact = exact
        self.adj = adj
        self.reflect_bounds = reflect_bounds
        self.anchor = cp.anchor_from_adj(adj, self.ps)
        self.border = cp.border_from_flag(reflect_bounds, "reflect_bounds")

    def forward(self, vid, nlInds):
        cp.check_video(vid, "vid")
        inds = cp.check_indices(nlInds, "nlInds").to(vid.device)
        patches = ops.scatter(vid, inds, patch_size=self.ps, dilation=self.dilation,
                              anchor=self.anchor, border=self.border)
        return patches.unsqueeze(2)
