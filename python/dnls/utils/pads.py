"""TensorFlow-style "same" padding, as the original dnls's ``utils.pads``."""

import torch
import torch.nn.functional as F

__all__ = ["comp_pads", "same_padding"]


def _pair(value, name):
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an integer or a pair, got {value!r}")
        return int(value[0]), int(value[1])
    return int(value), int(value)


def _same_amount(length, ksize, stride, rate):
    if stride < 1 or ksize < 1 or rate < 1:
        raise ValueError("ps, stride and dil must be at least 1")
    out = (length + stride - 1) // stride
    effective = (ksize - 1) * rate + 1
    return max(0, (out - 1) * stride + effective - length)


def comp_pads(vshape, ps, stride, dil):
    """``(pad_top, pad_left, padded_height, padded_width)`` of SAME padding.

    ``vshape`` is any shape ending in ``(H, W)``. The total padding of an axis is
    ``max(0, (ceil(L/stride) - 1)·stride + (ps-1)·dil + 1 - L)``; the top (left) gets half of
    it rounded down, the bottom (right) the rest. ``ceil(L/stride)`` strided positions fit on
    the padded axis.
    """
    H, W = int(vshape[-2]), int(vshape[-1])
    pad_rows = _same_amount(H, int(ps), int(stride), int(dil))
    pad_cols = _same_amount(W, int(ps), int(stride), int(dil))
    return pad_rows // 2, pad_cols // 2, H + pad_rows, W + pad_cols


def same_padding(images, ksizes, strides, rates, mode="zero"):
    """Pad ``images`` (``(..., H, W)``) for SAME output size; ``mode`` "zero" or "reflect"."""
    if images.dim() < 3:
        raise ValueError(f"images must have at least 3 dimensions (..., H, W), got {images.dim()}")
    kh, kw = _pair(ksizes, "ksizes")
    sh, sw = _pair(strides, "strides")
    rh, rw = _pair(rates, "rates")
    H, W = images.shape[-2], images.shape[-1]
    pad_rows = _same_amount(H, kh, sh, rh)
    pad_cols = _same_amount(W, kw, sw, rw)
    top, left = pad_rows // 2, pad_cols // 2
    pads = (left, pad_cols - left, top, pad_rows - top)
    if mode in ("zero", "zeros", "constant"):
        return F.pad(images, pads)
    if mode == "reflect":
        shape = images.shape
        flat = images.reshape(-1, 1, H, W) if images.dim() != 4 else images
        out = F.pad(flat, pads, mode="reflect")
        return out.reshape(*shape[:-2], out.shape[-2], out.shape[-1])
    raise ValueError(f"mode must be 'zero' or 'reflect', got {mode!r}")
