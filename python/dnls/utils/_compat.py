"""Shared parameter translation for the original-dnls modules (private)."""

import torch

from .. import ops

__all__ = []


def as_int(value, name):
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    try:
        as_integer = int(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an integer, got {value!r}") from None
    if as_integer != value:
        raise TypeError(f"{name} must be an integer, got {value!r}")
    return as_integer


def check_pt(pt):
    pt = as_int(pt, "pt")
    if pt != 1:
        raise NotImplementedError(
            f"pt={pt}: only a temporal patch size of 1 is supported (the original dnls's "
            f"backward passes also required pt == 1)")
    return pt


def check_ps(ps):
    ps = as_int(ps, "ps")
    if ps < 1:
        raise ValueError(f"ps must be at least 1, got {ps}")
    return ps


def check_dilation(dilation):
    dilation = as_int(dilation, "dilation")
    if dilation < 1:
        raise ValueError(f"dilation must be at least 1, got {dilation}")
    return dilation


def anchor_from_adj(adj, ps, name="adj"):
    """adj = 0 → centred patches; adj = ps//2 → patches anchored at their top-left corner."""
    adj = as_int(adj, name)
    if adj == 0:
        return "center"
    if adj == ps // 2:
        return "top_left"
    raise NotImplementedError(
        f"{name}={adj} with ps={ps}: only {name}=0 (centred patches) and {name}=ps//2={ps // 2} "
        f"(patches anchored at their top-left corner) are supported")


def border_from_flag(reflect, name):
    if not isinstance(reflect, (bool, int)) or isinstance(reflect, int) and reflect not in (0, 1):
        raise TypeError(f"{name} must be True or False, got {reflect!r}")
    return "reflect" if reflect else "zero"


def check_offsets(**offsets):
    for name, value in offsets.items():
        if as_int(value, name) != 0:
            raise NotImplementedError(
                f"{name}={value}: coordinate offsets are not supported; pad the video "
                f"(dnls.utils.pads.same_padding) and shift the query positions instead")


def check_video(vid, name, dims=(4,)):
    if not isinstance(vid, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(vid).__name__}")
    if vid.dim() not in dims:
        raise ValueError(
            f"{name} must be a (T, C, H, W) video (the original dnls has no batch axis), "
            f"got shape {tuple(vid.shape)}")
    if not vid.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {vid.dtype}")
    return vid


def check_indices(inds, name, last=3, dims=3):
    if not isinstance(inds, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(inds).__name__}")
    if inds.dim() != dims or inds.shape[-1] != last:
        want = "(nq, k, 3)" if dims == 3 else "(nq, 3)"
        raise ValueError(f"{name} must have shape {want}, got {tuple(inds.shape)}")
    if inds.is_floating_point() or inds.is_complex() or inds.dtype == torch.bool:
        raise TypeError(f"{name} must be an integer tensor, got {inds.dtype}")
    return inds.to(torch.int32).contiguous()


def check_vid_shape(vid_shape, name="vid_shape"):
    try:
        shape = tuple(as_int(s, name) for s in vid_shape)
    except TypeError:
        raise TypeError(f"{name} must be a sequence (T, C, H, W), got {vid_shape!r}") from None
    if len(shape) != 4 or min(shape) < 1:
        raise ValueError(f"{name} must be four positive sizes (T, C, H, W), got {vid_shape!r}")
    return shape


def state_device(device):
    """The device to hold a module's initial state on: the requested one if it exists here."""
    if device is None:
        return torch.device("cpu")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        return torch.device("cpu")
    return device


def patches_6d(patches, name, k_one=False):
    """(nq, k, pt, C, ps, ps) → (nq, k, C, ps, ps), checking pt == 1 (and k == 1 if asked)."""
    if not isinstance(patches, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(patches).__name__}")
    if patches.dim() != 6 or patches.shape[-1] != patches.shape[-2]:
        raise ValueError(
            f"{name} must have shape (nq, k, pt, C, ps, ps), got {tuple(patches.shape)}")
    if patches.shape[2] != 1:
        raise NotImplementedError(
            f"{name} has pt={patches.shape[2]}: only a temporal patch size of 1 is supported")
    if k_one and patches.shape[1] != 1:
        raise ValueError(f"{name} must have k = 1 (shape (nq, 1, 1, C, ps, ps)), "
                         f"got {tuple(patches.shape)}")
    return patches[:, :, 0]


class RegionGrid:
    """The original's rectangle grid of iUnfold / iFold: query numbering and count.

    ``coords`` = [top, left, btm, right] (every frame) or [t0, t1, top, left, btm, right];
    ``None`` means whole frames. Grid points are ``top + stride·i``, ``left + stride·j``;
    ``n_h = (btm-top-1)//stride + 1``, or with ``only_full`` the number of positions whose
    patch span ``(ps-1)·dil + 1`` fits in the rectangle (torch's unfold count).
    """

    def __init__(self, coords, shape_thw, ps, stride, dilation, anchor, only_full):
        T, H, W = shape_thw
        if coords is None:
            coords = [0, T, 0, 0, H, W]
        coords = [as_int(c, "coords") for c in coords]
        if len(coords) == 4:
            coords = [0, T] + coords
        if len(coords) != 6:
            raise ValueError(f"coords must be [top, left, btm, right], got {len(coords)} values")
        t0, t1, top, left, btm, right = coords
        if not (0 <= t0 < t1 <= T and 0 <= top < btm <= H and 0 <= left < right <= W):
            raise ValueError(
                f"coords {coords[2:] if coords[:2] == [0, T] else coords} must be a non-empty "
                f"box inside the {T}×{H}×{W} video")
        stride = as_int(stride, "stride")
        if stride < 1:
            raise ValueError(f"stride must be at least 1, got {stride}")
        span = (ps - 1) * dilation + 1
        if only_full:
            n_h = (btm - top - span) // stride + 1
            n_w = (right - left - span) // stride + 1
            if n_h < 1 or n_w < 1:
                raise ValueError(
                    f"only_full: a patch of span {span} does not fit in the region "
                    f"{btm - top}×{right - left} given by coords")
        else:
            n_h = (btm - top - 1) // stride + 1
            n_w = (right - left - 1) // stride + 1
        self.frames = t1 - t0
        self.n_h, self.n_w = n_h, n_w
        self.total = self.frames * n_h * n_w
        self.box = (t0, t1, top, btm, left, right)
        if only_full and anchor == "top_left":
            self.grid = ops.QueryGrid(region=(t0, t1, top, btm, left, right), stride=stride,
                                      full_patches=True)
        else:
            # The same positions as a plain grid on the rectangle that just holds them.
            self.grid = ops.QueryGrid(
                region=(t0, t1, top, top + (n_h - 1) * stride + 1,
                        left, left + (n_w - 1) * stride + 1),
                stride=stride, full_patches=False)

    def valid_count(self, start, count):
        """How many of the queries start..start+count-1 exist (the rest are past the end)."""
        return max(0, min(count, self.total - start))

    def batch(self, start, count):
        return self.grid.batch(start, count)
