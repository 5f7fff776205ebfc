"""``iFold``: add the patches of a strided rectangle grid back into a video, in batches."""

import torch

from . import ops
from .utils import _compat as cp

__all__ = ["iFold"]


class iFold(torch.nn.Module):
    """``iFold(vid_shape, coords, stride=1, dilation=1, adj=0, only_full=False, use_reflect=True,
    device="cuda")``; ``forward(patches, qStart)`` → the running video ``(T, C, H, W)``.

    ``patches`` ``(nq, 1, 1, C, ps, ps)`` are the queries ``qStart .. qStart+nq-1`` of the same
    grid as :class:`dnls.iunfold.iUnfold` with the same arguments. Each entry is added to the
    pixel it was read from; with ``use_reflect`` an entry outside the frame is added to the pixel
    its reflection reads (the exact adjoint of ``iUnfold(border="reflect")``), without it it is
    dropped. Patches past the end of the grid are ignored. The module accumulates:
    ``self.vid = self.vid + batch`` (the autograd graph chains the batches). It does not
    normalise: divide by an ``iFold`` of ones. The backward is the exact gradient.
    """

    def __init__(self, vid_shape, coords, stride=1, dilation=1, adj=0, only_full=False,
                 use_reflect=True, device="cuda"):
        super().__init__()
        self.vid_shape = cp.check_vid_shape(vid_shape)
        self.coords = None if coords is None else list(coords)
        self.stride = cp.as_int(stride, "stride")
        if self.stride < 1:
            raise ValueError(f"stride must be at least 1, got {stride}")
        self.dilation = cp.check_dilation(dilation)
        self.adj = cp.as_int(adj, "adj")
        self.only_full = bool(only_full)
        self.use_reflect = use_reflect
        self.border = cp.border_from_flag(use_reflect, "use_reflect")
        self.device = device
        self.vid = torch.zeros(self.vid_shape, device=cp.state_device(device))
        self._fresh = True

    def forward(self, patches, qStart):
        flat = cp.patches_6d(patches, "patches", k_one=True)
        nq, _, C, ps, _ = flat.shape
        T, VC, H, W = self.vid_shape
        if C != VC:
            raise ValueError(f"patches have {C} channels but vid_shape {self.vid_shape} has {VC}")
        anchor = cp.anchor_from_adj(self.adj, ps)
        grid = cp.RegionGrid(self.coords, (T, H, W), ps, self.stride, self.dilation, anchor,
                             self.only_full)
        qStart = cp.as_int(qStart, "qStart")
        if qStart < 0:
            raise ValueError(f"qStart must be a query number >= 0, got {qStart}")
        valid = grid.valid_count(qStart, nq)
        if valid > 0:
            batch = ops.fold(flat[:valid].contiguous(), grid.batch(qStart, valid), self.vid_shape,
                             dilation=self.dilation, anchor=anchor, border=self.border)
        else:
            batch = flat.new_zeros(self.vid_shape) + 0.0 * flat.sum()
        if self._fresh:
            self.vid = self.vid.to(device=batch.device, dtype=batch.dtype)
            self._fresh = False
        self.vid = self.vid + batch
        return self.vid
