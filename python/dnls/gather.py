"""``GatherNl``: the original dnls's "gather" — add weighted patches back into a video.

Every neighbour patch is added at its own position with weight ``exp(-lam·dist)``; the module
accumulates the weighted video and the per-pixel weight sum across calls, so that after all
batches ``vid / wvid`` is the aggregate.
"""

import torch

from . import ops
from .utils import _compat as cp

__all__ = ["GatherNl"]


class GatherNl(torch.nn.Module):
    """``GatherNl(vid_shape, ws, wt, dilation=1, lam=0., exact=False, use_race=True,
    device="cuda")``; ``forward(patches, nlDists, nlInds)`` → running ``(vid, wvid)``.

    ``patches`` ``(nq, k, 1, C, ps, ps)``, ``nlDists`` ``(nq, k)``, ``nlInds`` ``(nq, k, 3)``.
    Patch entries are centred on their position; entries outside the frame are dropped.
    ``wvid`` is a ``(T, C, H, W)`` view of one weight-sum plane shared by every channel.
    ``self.vid = self.vid + batch`` (the autograd graph chains the batches); assign zeros to
    ``vid`` and ``wvid`` (or make a new module) to start over. The gradient flows to ``patches``
    and, through the weights, to ``nlDists``. ``ws``, ``wt``, ``exact`` and ``use_race`` are
    accepted and ignored (every variant computes the same, deterministic result).
    """

    def __init__(self, vid_shape, ws, wt, dilation=1, lam=0., exact=False, use_race=True,
                 device="cuda"):
        super().__init__()
        self.vid_shape = cp.check_vid_shape(vid_shape)
        self.ws = ws
        self.wt = wt
        self.dilation = cp.check_dilation(dilation)
        self.lam = float(lam)
        self.exact = exact
        self.use_race = use_race
        self.device = device
        T, C, H, W = self.vid_shape
        where = cp.state_device(device)
        self.vid = torch.zeros(self.vid_shape, device=where)
        self.wvid = torch.zeros((T, 1, H, W), device=where).expand(T, C, H, W)
        self._fresh = True

    def _weights(self, dists, inds):
        valid = (inds[..., 0] >= 0) & torch.isfinite(dists)
        safe = torch.where(valid, dists, torch.zeros_like(dists))
        if self.lam == 0.0:
            weights = torch.ones_like(dists) + 0.0 * safe
        else:
            weights = torch.exp(-self.lam * safe)
        return torch.where(valid, weights, torch.zeros_like(weights))

    def forward(self, patches, nlDists, nlInds):
        flat = cp.patches_6d(patches, "patches")
        nq, k, C, ps, _ = flat.shape
        T, VC, H, W = self.vid_shape
        if C != VC:
            raise ValueError(f"patches have {C} channels but vid_shape {self.vid_shape} has {VC}")
        if not isinstance(nlDists, torch.Tensor) or tuple(nlDists.shape) != (nq, k):
            raise ValueError(f"nlDists must have shape ({nq}, {k}), got "
                             f"{tuple(getattr(nlDists, 'shape', ()))}")
        inds = cp.check_indices(nlInds, "nlInds").to(flat.device)
        if tuple(inds.shape[:2]) != (nq, k):
            raise ValueError(f"nlInds must have shape ({nq}, {k}, 3), got {tuple(inds.shape)}")
        weights = self._weights(nlDists.to(device=flat.device, dtype=flat.dtype), inds)
        vid, wsum = ops.gather(flat, inds, (T, C, H, W), weights=weights,
                               dilation=self.dilation, anchor="center", border="zero")
        if self._fresh:
            self.vid = self.vid.to(device=vid.device, dtype=vid.dtype)
            self.wvid = self.wvid.to(device=vid.device, dtype=vid.dtype)
            self._fresh = False
        self.vid = self.vid + vid
        self.wvid = (self.wvid[:, :1] + wsum).expand(T, C, H, W)
        return self.vid, self.wvid
