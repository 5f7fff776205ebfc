"""Query grids: patch positions on a strided grid over a region of the video."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Optional, Sequence

import torch

from . import _common


@dataclass(frozen=True)
class QueryGrid:
    """Query positions on a strided grid over a region, numbered in raster order
    ``(t, row, column)``, or a batch (a range of those numbers) of them.

    Args:
        region: ``(t0, t1, top, bottom, left, right)``, the half-open box
            ``[t0, t1) × [top, bottom) × [left, right)``; ``None`` is the whole video.
        stride: spacing of the grid's rows and columns (every frame of the region is used). The
            grid has ``(bottom − top − 1) // stride + 1`` rows.
        full_patches: keep only the positions whose whole patch lies inside the region (the
            count of ``torch.nn.functional.unfold`` with ``anchor="top_left"``), numbered from the
            first such position.
        start: the first query number of the batch (a number of the whole grid).
        count: the number of queries of the batch; ``None`` runs to the end of the grid.

    A grid is a value: :meth:`batch` returns a copy for another range of query numbers.
    """

    region: Optional[tuple] = None
    stride: int = 1
    full_patches: bool = False
    start: int = 0
    count: Optional[int] = None

    def __post_init__(self):
        if self.region is not None:
            region = tuple(self.region)
            if len(region) != 6:
                raise ValueError(f"region: expected (t0, t1, top, bottom, left, right) or None, got {self.region!r}")
            object.__setattr__(self, "region", tuple(_common.integer("region", v) for v in region))
        _common.integer("stride", self.stride, minimum=1)
        _common.integer("start", self.start, minimum=0, bits=64)
        if self.count is not None:
            _common.integer("count", self.count, minimum=0, bits=64)
        object.__setattr__(self, "full_patches", bool(self.full_patches))

    def batch(self, start: int, count: Optional[int] = None) -> "QueryGrid":
        """The same grid for queries ``start ..< start + count`` (``None``: to the end)."""
        return dataclasses.replace(self, start=start, count=count)

    def bounds(self, frames: int, height: int, width: int) -> tuple:
        """The region, with ``None`` resolved to the whole ``frames × height × width`` video."""
        if self.region is None:
            return (0, frames, 0, height, 0, width)
        return self.region

    def encode(self, frames: int, height: int, width: int) -> list[int]:
        """The ten integers the operators take: region, stride, full_patches, start, count
        (count ``-1``: to the end)."""
        return [*self.bounds(frames, height, width), self.stride, int(self.full_patches), self.start,
                -1 if self.count is None else self.count]

    def size(self, video_shape: Sequence[int], *, patch_size: int = 1, dilation: int = 1,
             anchor: str = "center") -> int:
        """The number of queries of this batch in a video of ``video_shape`` — ``(T, H, W)``,
        ``(T, C, H, W)`` or ``(B, T, C, H, W)``. The patch geometry matters only with
        ``full_patches``."""
        frames, height, width = _thw(video_shape)
        geom = _common.geometry(patch_size, dilation, anchor, "reflect")
        return _common.query_count(self.encode(frames, height, width), geom, frames, height, width,
                                   "dnls.QueryGrid.size")

    def positions(self, video_shape: Sequence[int], *, patch_size: int = 1, dilation: int = 1,
                  anchor: str = "center", device=None) -> torch.Tensor:
        """The ``(Q, 3)`` int32 ``(t, h, w)`` positions of this batch's queries."""
        frames, height, width = _thw(video_shape)
        t0, t1, top, bottom, left, right = self.bounds(frames, height, width)
        s = self.stride
        if self.full_patches:
            span = dilation * (patch_size - 1) + 1
            before = dilation * (patch_size // 2) if anchor == "center" else 0

            def fit(extent):
                return (extent - span) // s + 1 if extent >= span else 0

            rows, cols = fit(bottom - top), fit(right - left)
            h0, w0 = top + before, left + before
        else:
            rows, cols = (bottom - top - 1) // s + 1, (right - left - 1) // s + 1
            h0, w0 = top, left
        total = (t1 - t0) * rows * cols
        end = total if self.count is None else min(total, self.start + self.count)
        q = torch.arange(self.start, max(end, self.start), dtype=torch.int64)
        per_frame = max(rows * cols, 1)
        t = t0 + q // per_frame
        r = q % per_frame
        h = h0 + s * (r // max(cols, 1))
        w = w0 + s * (r % max(cols, 1))
        return torch.stack([t, h, w], dim=-1).to(dtype=torch.int32, device=device)


def _thw(video_shape) -> tuple:
    shape = tuple(video_shape)
    if len(shape) == 3:
        return shape
    if len(shape) == 4:
        return shape[0], shape[2], shape[3]
    if len(shape) == 5:
        return shape[1], shape[3], shape[4]
    raise ValueError(f"video_shape: expected (T, H, W), (T, C, H, W) or (B, T, C, H, W), got {video_shape!r}")


def encode_grid(grid, frames, height, width, name: str = "grid") -> list[int]:
    """A :class:`QueryGrid` (or ``None``, the whole video) as the operators' ten integers."""
    if grid is None:
        grid = QueryGrid()
    if not isinstance(grid, QueryGrid):
        raise ValueError(f"{name}: expected a dnls.ops.QueryGrid, got {type(grid).__name__}")
    return grid.encode(frames, height, width)
