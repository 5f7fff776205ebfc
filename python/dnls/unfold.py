"""``Unfold``: the patches of a strided grid over whole frames, in batches (centred patches)."""

import torch

from .iunfold import iUnfold
from .utils import _compat as cp

__all__ = ["Unfold"]


class Unfold(torch.nn.Module):
    """``Unfold(ps, pt=1, stride=1, dilation=1, device="cuda:0")``;
    ``forward(vid, qStart, qNum)`` → ``(qNum, 1, 1, C, ps, ps)``.

    Query ``g`` is at ``(g // (n_h·n_w), stride·((g % (n_h·n_w)) // n_w), stride·(g % n_w))`` with
    ``n_h = (H-1)//stride + 1``, ``n_w = (W-1)//stride + 1``; patches are centred there and
    samples outside the frame are reflected. Queries past the end give zero patches. The backward
    is the exact adjoint (reflected samples included).
    """

    def __init__(self, ps, pt=1, stride=1, dilation=1, device="cuda:0"):
        super().__init__()
        self.ps = cp.check_ps(ps)
        self.pt = cp.check_pt(pt)
        self.stride = stride
        self.dilation = dilation
        self.device = device
        self._impl = iUnfold(ps, None, pt=pt, stride=stride, dilation=dilation, adj=0,
                             only_full=False, border="reflect")

    def forward(self, vid, qStart, qNum):
        qStart = cp.as_int(qStart, "qStart")
        qNum = cp.as_int(qNum, "qNum")
        if qStart < 0:
            raise ValueError(f"qStart must be a query number >= 0, got {qStart}")
        if qNum < 0:
            raise ValueError(f"qNum must be a count >= 0, got {qNum}")
        return self._impl(vid, qStart, qNum)
