"""``iUnfold``: the patches of a strided grid over a rectangle of the video, in batches."""

import torch

from . import ops
from .utils import _compat as cp

__all__ = ["iUnfold"]


def _start_count(start, num, total):
    start = cp.as_int(start, "start")
    num = cp.as_int(num, "num")
    if start == -1:
        start = 0
    if start < 0:
        raise ValueError(f"start must be a query number >= 0 (or -1 for 0), got {start}")
    if num == -1:
        num = max(total - start, 0)
    if num < 0:
        raise ValueError(f"num must be a count >= 0 (or -1 for every query), got {num}")
    return start, num


class iUnfold(torch.nn.Module):
    """``iUnfold(ps, coords, pt=1, stride=1, dilation=1, adj=0, only_full=False, match_nn=False,
    border="reflect")``; ``forward(vid, start=-1, num=-1)`` → ``(num, 1, 1, C, ps, ps)``.

    ``coords`` = ``[top, left, btm, right]`` (every frame) or ``None`` (whole frames). Query ``g``
    is at ``t = g // (n_h·n_w)``, row ``top + stride·((g % (n_h·n_w)) // n_w)``, column
    ``left + stride·(g % n_w)``; ``n_h = (btm-top-1)//stride + 1``, or with ``only_full`` only the
    positions whose patch fits in the rectangle. ``adj=0`` centres the patches, ``adj=ps//2``
    anchors them at their top-left corner; ``match_nn=True`` means ``adj=ps//2, only_full=True``
    (torch.nn.functional.unfold). ``border`` "reflect" or "zero" says what samples outside the
    frame read. Queries past the end of the grid give zero patches. The backward is the exact
    adjoint: every pixel a patch read, in or out of the rectangle, reflected or not, receives its
    gradient.
    """

    def __init__(self, ps, coords, pt=1, stride=1, dilation=1, adj=0, only_full=False,
                 match_nn=False, border="reflect", device=None):
        super().__init__()
        self.ps = cp.check_ps(ps)
        self.pt = cp.check_pt(pt)
        self.coords = None if coords is None else list(coords)
        self.stride = cp.as_int(stride, "stride")
        if self.stride < 1:
            raise ValueError(f"stride must be at least 1, got {stride}")
        self.dilation = cp.check_dilation(dilation)
        if match_nn:
            adj, only_full = self.ps // 2, True
        self.adj = adj
        self.only_full = bool(only_full)
        self.match_nn = match_nn
        if border not in ("reflect", "zero"):
            raise ValueError(f"border must be 'reflect' or 'zero', got {border!r}")
        self.border = border
        self.anchor = cp.anchor_from_adj(adj, self.ps)

    def region(self, vid_shape):
        T, _, H, W = vid_shape
        return cp.RegionGrid(self.coords, (T, H, W), self.ps, self.stride, self.dilation,
                             self.anchor, self.only_full)

    def forward(self, vid, start=-1, num=-1):
        cp.check_video(vid, "vid")
        grid = self.region(vid.shape)
        start, num = _start_count(start, num, grid.total)
        valid = grid.valid_count(start, num)
        C = vid.shape[1]
        parts = []
        if valid > 0:
            parts.append(ops.unfold(vid, grid.batch(start, valid), patch_size=self.ps,
                                    dilation=self.dilation, anchor=self.anchor,
                                    border=self.border))
        if num - valid > 0:
            parts.append(vid.new_zeros((num - valid, 1, C, self.ps, self.ps)))
        if not parts:
            return vid.new_zeros((0, 1, 1, C, self.ps, self.ps))
        patches = parts[0] if len(parts) == 1 else torch.cat(parts, dim=0)
        return patches.unsqueeze(2)
