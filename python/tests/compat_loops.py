"""Small loop references for the original-dnls compatibility tests.

Written from the formulas: plain Python loops decide which pixel every patch entry reads or
writes, torch indexing moves the values (so autograd through a reference gives the reference
gradient). Meant for tiny videos only.
"""

import math

import torch


def resolve(x, length, border):
    """The pixel coordinate read at x on an axis of `length`, or None (reads 0)."""
    if border == "reflect":
        if x < 0:
            x = -x
        elif x >= length:
            x = 2 * (length - 1) - x
    return x if 0 <= x < length else None


def base(ps, anchor):
    return ps // 2 if anchor == "center" else 0


def entry_locations(t, h, w, shape_thw, ps, dil, anchor, border):
    """[(a, b, t, row, col) for the entries of the patch at (t, h, w) that read a pixel]."""
    T, H, W = shape_thw
    out = []
    if t < 0 or t >= T:
        return out
    b0 = base(ps, anchor)
    for a in range(ps):
        r = resolve(h + dil * (a - b0), H, border)
        if r is None:
            continue
        for b in range(ps):
            c = resolve(w + dil * (b - b0), W, border)
            if c is None:
                continue
            out.append((a, b, t, r, c))
    return out


def scatter(vid, inds, ps, dil=1, anchor="center", border="reflect"):
    """(nq, k, 1, C, ps, ps): patch of every index triple; (-1,-1,-1) → zero patch."""
    T, C, H, W = vid.shape
    nq, k = inds.shape[:2]
    slots, ts, rs, cs = [], [], [], []
    for q in range(nq):
        for m in range(k):
            t, h, w = (int(v) for v in inds[q, m])
            if t < 0:
                continue
            for a, b, tt, r, c in entry_locations(t, h, w, (T, H, W), ps, dil, anchor, border):
                slots.append(((q * k + m) * ps + a) * ps + b)
                ts.append(tt), rs.append(r), cs.append(c)
    pixels = vid.permute(0, 2, 3, 1)  # (T, H, W, C)
    flat = vid.new_zeros((nq * k * ps * ps, C))
    if slots:
        flat = flat.index_put((torch.tensor(slots),), pixels[ts, rs, cs], accumulate=True)
    return flat.view(nq, k, ps, ps, C).permute(0, 1, 4, 2, 3).unsqueeze(2)


def add_patches(patches, inds, shape, ps, dil=1, anchor="center", border="zero", weights=None):
    """Σ weight · patch entry into a (T, C, H, W) video, and the (T, 1, H, W) weight sum."""
    T, C, H, W = shape
    nq, k = inds.shape[:2]
    src, ts, rs, cs, ws_ = [], [], [], [], []
    for q in range(nq):
        for m in range(k):
            t, h, w = (int(v) for v in inds[q, m])
            if t < 0:
                continue
            for a, b, tt, r, c in entry_locations(t, h, w, (T, H, W), ps, dil, anchor, border):
                src.append((q, m, a, b))
                ts.append(tt), rs.append(r), cs.append(c)
    flat = patches.reshape(nq, k, C, ps, ps)
    values = torch.stack([flat[q, m, :, a, b] for q, m, a, b in src]) if src else None
    vid = patches.new_zeros((T, H, W, C))
    wsum = patches.new_zeros((T, H, W))
    if src:
        if weights is None:
            omega = patches.new_ones(len(src))
        else:
            omega = torch.stack([weights[q, m] for q, m, _, _ in src])
        vid = vid.index_put((torch.tensor(ts), torch.tensor(rs), torch.tensor(cs)),
                            values * omega[:, None], accumulate=True)
        wsum = wsum.index_put((torch.tensor(ts), torch.tensor(rs), torch.tensor(cs)), omega,
                              accumulate=True)
    return vid.permute(0, 3, 1, 2), wsum.unsqueeze(1)


def region_positions(coords, T, H, W, stride, ps, dil, only_full):
    """The original iUnfold/iFold grid: [(t, h, w)] in query order."""
    top, left, btm, right = coords if coords is not None else (0, 0, H, W)
    if only_full:
        span = (ps - 1) * dil + 1
        n_h = (btm - top - span) // stride + 1
        n_w = (right - left - span) // stride + 1
    else:
        n_h = (btm - top - 1) // stride + 1
        n_w = (right - left - 1) // stride + 1
    out = []
    for g in range(T * n_h * n_w):
        t, r = divmod(g, n_h * n_w)
        out.append((t, top + stride * (r // n_w), left + stride * (r % n_w)))
    return out


def frame_order(tq, T, wt):
    shift = min(0, tq - wt) + max(0, tq + wt - T + 1)
    start = max(tq - wt - shift, 0)
    end = min(T - 1, tq + wt - shift) + 1
    return list(range(tq, end)) + list(range(tq - 1, start - 1, -1))


def search_table(vid0, queries, vid1, ps, ws, wt, stride=1, dil=1, anchor="center",
                 border="reflect", metric="l2", chnls=None):
    """The whole window of every query (no flow): distances (nq, S) and indices (nq, S, 3),
    S = min(2wt+1, T)·ws², in visiting order; invalid candidates (empty, −1)."""
    T, C, H, W = vid0.shape
    chnls = C if chnls is None else chnls
    empty = math.inf if metric == "l2" else -math.inf
    dists, inds = [], []
    for tq, hq, wq in (tuple(int(v) for v in q) for q in queries):
        p0 = scatter(vid0, torch.tensor([[[tq, hq, wq]]]), ps, dil, anchor, border)[0, 0, 0, :chnls]
        row_d, row_i = [], []
        for n in frame_order(tq, T, wt):
            for i in range(ws):
                for j in range(ws):
                    h = hq + stride * (i - (ws - 1) // 2)
                    w = wq + stride * (j - (ws - 1) // 2)
                    if 0 <= h < H and 0 <= w < W:
                        p1 = scatter(vid1, torch.tensor([[[n, h, w]]]), ps, dil, anchor,
                                     border)[0, 0, 0, :chnls]
                        d = ((p0 - p1) ** 2).sum() if metric == "l2" else (p0 * p1).sum()
                        row_d.append(float(d))
                        row_i.append((n, h, w))
                    else:
                        row_d.append(empty)
                        row_i.append((-1, -1, -1))
        dists.append(row_d)
        inds.append(row_i)
    return torch.tensor(dists, dtype=torch.float64), torch.tensor(inds, dtype=torch.int32)


def pair_scores(vid0, queries, vid1, inds, ps, dil=1, anchor="center", border="reflect",
                metric="l2", chnls=None):
    """Differentiable score of every (query, returned index) pair; empty slots give 0."""
    C = vid0.shape[1]
    chnls = C if chnls is None else chnls
    nq, k = inds.shape[:2]
    qi = torch.as_tensor(queries).to(torch.int64).view(nq, 1, 3).expand(nq, k, 3)
    p0 = scatter(vid0, qi, ps, dil, anchor, border)[:, :, 0, :chnls]
    p1 = scatter(vid1, inds, ps, dil, anchor, border)[:, :, 0, :chnls]
    valid = (inds[..., 0] >= 0).to(vid0.dtype)
    if metric == "l2":
        s = ((p0 - p1) ** 2).sum(dim=(2, 3, 4))
    else:
        s = (p0 * p1).sum(dim=(2, 3, 4))
    return s * valid
