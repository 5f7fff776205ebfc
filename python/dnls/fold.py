"""``Fold``: add centred patches of a strided whole-frame grid back into a video, in batches."""

import torch

from .ifold import iFold
from .utils import _compat as cp

__all__ = ["Fold"]


class Fold(torch.nn.Module):
    """``Fold(vid_shape, stride=1, dilation=1, device="cuda:0")``; ``forward(patches, qStart)`` →
    the running video.

    The grid and numbering of :class:`dnls.unfold.Unfold`; each patch entry is added to the pixel
    it covers, entries outside the frame are dropped. Accumulates across calls
    (``self.vid = self.vid + batch``); the backward is the exact gradient.
    """

    def __init__(self, vid_shape, stride=1, dilation=1, device="cuda:0"):
        super().__init__()
        self.vid_shape = cp.check_vid_shape(vid_shape)
        self.stride = stride
        self.dilation = dilation
        self.device = device
        self._impl = iFold(self.vid_shape, None, stride=stride, dilation=dilation, adj=0,
                           only_full=False, use_reflect=False, device=device)

    @property
    def vid(self):
        return self._impl.vid

    @vid.setter
    def vid(self, value):
        self._impl.vid = value
        self._impl._fresh = False

    def forward(self, patches, qStart):
        return self._impl(patches, qStart)
