"""Query positions in the original dnls's numbering.

Both functions return an int64 tensor of shape ``(n, 3)`` holding ``(t, h, w)`` triples: the
queries ``index, index + 1, ..., index + n - 1`` of a strided raster over whole frames
(:func:`get_query_batch`) or over a rectangle (:func:`get_iquery_batch`). ``index`` is a query
number (an offset), not a batch number. The frame is not bounded: asking past the last query
gives frames ``>= T``, exactly as the original dnls did.
"""

import torch

__all__ = ["get_query_batch", "get_iquery_batch"]


def _as_int(value, name):
    try:
        as_int = int(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an integer, got {value!r}") from None
    if as_int != value:
        raise TypeError(f"{name} must be an integer, got {value!r}")
    return as_int


def _raster(index, count, stride, sq_t, sq_h, sq_w):
    """(t, h, w) of queries index..index+count-1 on a strided sq_h × sq_w raster."""
    if stride < 1:
        raise ValueError(f"stride must be at least 1, got {stride}")
    if count < 0:
        raise ValueError(f"qSearch must be non-negative, got {count}")
    if sq_h < 1 or sq_w < 1:
        raise ValueError(f"the query area must be at least 1×1, got {sq_h}×{sq_w}")
    n_h = (sq_h - 1) // stride + 1
    n_w = (sq_w - 1) // stride + 1
    per_frame = n_h * n_w
    q = torch.arange(index, index + count, dtype=torch.int64)
    t = torch.div(q, per_frame, rounding_mode="floor")
    r = q - t * per_frame
    h = (stride * torch.div(r, n_w, rounding_mode="floor")) % sq_h
    w = (stride * (r % n_w)) % sq_w
    return torch.stack([t, h, w], dim=1)


def get_query_batch(index, qSearch, stride, t, h, w, device=None):
    """Queries ``index .. index+qSearch-1`` of the stride grid over whole ``h × w`` frames.

    ``t`` (the number of frames) is accepted for the original's signature; the returned frame
    is not bounded by it.
    """
    index = _as_int(index, "index")
    qSearch = _as_int(qSearch, "qSearch")
    stride = _as_int(stride, "stride")
    h = _as_int(h, "h")
    w = _as_int(w, "w")
    out = _raster(index, qSearch, stride, None, h, w)
    return out.to(device) if device is not None else out


def get_iquery_batch(index, qSearch, stride, coords, t, device=None, dtype=None):
    """Queries ``index .. index+qSearch-1`` of the stride grid over a rectangle.

    ``coords`` is ``[top, left, btm, right]`` (half-open rows ``top..btm-1``, columns
    ``left..right-1``, every frame ``0..t-1``) or ``[t_start, t_end, top, left, btm, right]``.
    Query ``q`` of the grid is at ``(t_start + q // (n_h·n_w), top + stride·(r // n_w),
    left + stride·(r % n_w))`` with ``r = q % (n_h·n_w)``, ``n_h = (btm-top-1)//stride + 1`` and
    ``n_w = (right-left-1)//stride + 1``.
    """
    index = _as_int(index, "index")
    qSearch = _as_int(qSearch, "qSearch")
    stride = _as_int(stride, "stride")
    coords = [_as_int(c, "coords") for c in coords]
    if len(coords) == 4:
        t = _as_int(t, "t")
        coords = [0, t] + coords
    if len(coords) != 6:
        raise ValueError(
            f"coords must be [top, left, btm, right] or [t_start, t_end, top, left, btm, right], "
            f"got {len(coords)} values")
    t_start, t_end, top, left, btm, right = coords
    if t_end <= t_start or btm <= top or right <= left:
        raise ValueError(f"coords must describe a non-empty box, got {coords}")
    out = _raster(index, qSearch, stride, t_end - t_start, btm - top, right - left)
    out += torch.tensor([t_start, top, left], dtype=torch.int64)
    if dtype is not None:
        out = out.to(dtype)
    return out.to(device) if device is not None else out
