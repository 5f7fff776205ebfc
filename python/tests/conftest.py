"""Shared fixtures of the Python tests.

* ``gen``: a ``torch.Generator`` seeded per test (same numbers on every run);
* ``randn`` / ``rand``: tensors from that generator (``randn(*shape, dtype=..., device=...)``);
* ``ref``: pure-torch loop references of the operators, written from the library's conventions
  (slow, for small shapes only);
* ``requires_cuda``: a mark skipping a test, with its reason, when CUDA is not available;
* ``subprocess_env()``: the environment for a script run in a subprocess, so that it imports the
  same ``dnls`` package and loads the same library as the tests (the installed wheel, not the
  source tree, when the tests run against the wheel).

Every test needs the DNLS library: when it cannot be loaded the tests are skipped with the
loader's reason (set ``DNLS_LIBRARY`` to the path of ``libDNLSC.so``).
"""

from __future__ import annotations

import math
import os
import types
import zlib
from pathlib import Path

import pytest
import torch


def _library_reason():
    try:
        from dnls import _lib  # noqa: PLC0415

        _lib.library()
        return None
    except Exception as error:  # the loader's message is the skip reason
        return f"the DNLS library is not available: {error}"


_REASON = _library_reason()


def pytest_collection_modifyitems(config, items):
    if _REASON is None:
        return
    mark = pytest.mark.skip(reason=_REASON)
    for item in items:
        item.add_marker(mark)


def subprocess_env() -> dict[str, str]:
    """``os.environ`` with ``PYTHONPATH`` led by the folder holding the imported ``dnls`` and
    ``DNLS_LIBRARY`` naming the library it loaded."""
    import dnls  # noqa: PLC0415
    from dnls import _lib  # noqa: PLC0415

    env = dict(os.environ)
    package_parent = str(Path(dnls.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([package_parent, *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))])
    env["DNLS_LIBRARY"] = str(_lib.library().path)
    return env


requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available on this machine")


@pytest.fixture
def gen(request):
    """A CPU generator seeded from the test's name."""
    return torch.Generator().manual_seed(zlib.crc32(request.node.nodeid.encode()))


@pytest.fixture
def randn(gen):
    def make(*shape, dtype=torch.float64, device="cpu"):
        return torch.randn(shape, generator=gen, dtype=dtype).to(device)

    return make


@pytest.fixture
def rand(gen):
    def make(*shape, dtype=torch.float64, device="cpu"):
        return torch.rand(shape, generator=gen, dtype=dtype).to(device)

    return make


# ----------------------------------------------------------------------------------------------
# Loop references (4-D videos (T, C, H, W); batched tests loop over B themselves)


def _resolve(x: int, length: int, border: str) -> int:
    if border == "reflect":
        if x < 0:
            x = -x
        elif x >= length:
            x = 2 * (length - 1) - x
    return x if 0 <= x < length else -1


def _offsets(ps: int, dilation: int, anchor: str) -> list[int]:
    if anchor == "center":
        return [dilation * (a - ps // 2) for a in range(ps)]
    return [dilation * a for a in range(ps)]


def _patch(video, t, h, w, ps, dilation, anchor, border):
    """The (C, ps, ps) patch at (t, h, w) of a (T, C, H, W) video."""
    T, C, H, W = video.shape
    out = video.new_zeros(C, ps, ps)
    offs = _offsets(ps, dilation, anchor)
    for a, da in enumerate(offs):
        r = _resolve(h + da, H, border)
        if r < 0:
            continue
        for b, db in enumerate(offs):
            c = _resolve(w + db, W, border)
            if c < 0:
                continue
            out[:, a, b] = video[t, :, r, c]
    return out


def _deposit(video, patch, t, h, w, dilation, anchor, border, weight=1.0, counts=None):
    T, C, H, W = video.shape
    ps = patch.shape[-1]
    offs = _offsets(ps, dilation, anchor)
    for a, da in enumerate(offs):
        r = _resolve(h + da, H, border)
        if r < 0:
            continue
        for b, db in enumerate(offs):
            c = _resolve(w + db, W, border)
            if c < 0:
                continue
            video[t, :, r, c] += weight * patch[:, a, b]
            if counts is not None:
                counts[t, 0, r, c] += weight


def ref_scatter(video, indices, ps, dilation=1, anchor="center", border="reflect"):
    Q, K, _ = indices.shape
    out = video.new_zeros(Q, K, video.shape[1], ps, ps)
    for q in range(Q):
        for k in range(K):
            t, h, w = (int(v) for v in indices[q, k])
            if t >= 0:
                out[q, k] = _patch(video, t, h, w, ps, dilation, anchor, border)
    return out


def ref_gather(patches, indices, video_shape, weights=None, dilation=1, anchor="center", border="reflect"):
    T, C, H, W = video_shape
    video = patches.new_zeros(T, C, H, W)
    counts = patches.new_zeros(T, 1, H, W)
    Q, K = indices.shape[:2]
    for q in range(Q):
        for k in range(K):
            t, h, w = (int(v) for v in indices[q, k])
            if t < 0:
                continue
            weight = 1.0 if weights is None else weights[q, k]
            _deposit(video, patches[q, k], t, h, w, dilation, anchor, border, weight, counts)
    return video, counts


def ref_wpsum(video, weights, indices, ps, dilation=1, anchor="center", border="reflect"):
    Q, K = indices.shape[:2]
    out = video.new_zeros(Q, 1, video.shape[1], ps, ps)
    for q in range(Q):
        for k in range(K):
            t, h, w = (int(v) for v in indices[q, k])
            if t >= 0:
                out[q, 0] += weights[q, k] * _patch(video, t, h, w, ps, dilation, anchor, border)
    return out


def ref_grid(shape_thw, region=None, stride=1, full_patches=False, ps=1, dilation=1, anchor="center"):
    """(Q, 3) positions of a grid, raster order."""
    T, H, W = shape_thw
    t0, t1, top, bottom, left, right = region if region is not None else (0, T, 0, H, 0, W)
    if full_patches:
        # Only positions whose whole patch lies in the region, from the first such position.
        before = -_offsets(ps, dilation, anchor)[0]
        span = dilation * (ps - 1) + 1
        rows = range(top + before, bottom - span + 1 + before, stride)
        cols = range(left + before, right - span + 1 + before, stride)
    else:
        rows, cols = range(top, bottom, stride), range(left, right, stride)
    positions = [(t, h, w) for t in range(t0, t1) for h in rows for w in cols]
    return torch.tensor(positions, dtype=torch.int32).reshape(-1, 3)


def ref_unfold(video, positions, ps, dilation=1, anchor="center", border="reflect"):
    return ref_scatter(video, positions[:, None, :], ps, dilation, anchor, border)


def ref_fold(patches, positions, video_shape, dilation=1, anchor="center", border="reflect"):
    return ref_gather(patches, positions[:, None, :], video_shape, None, dilation, anchor, border)[0]


def ref_frames(t: int, T: int, wt: int) -> list[int]:
    """Frames searched for a query in frame t, in visiting order."""
    n = min(2 * wt + 1, T)
    start = min(max(t - wt, 0), T - n)
    frames = list(range(start, start + n))
    return [f for f in frames if f >= t] + sorted([f for f in frames if f < t], reverse=True)


def _hop(x, d, length):
    return int(min(max(math.floor(x + d + 0.5), 0), length - 1))


def ref_candidates(q, T, H, W, ws, wstride, wt, forward_flow=None, backward_flow=None):
    """Every candidate of query q = (t, h, w) in enumeration order: (t, h, w) or None."""
    t, h, w = q
    frames = ref_frames(t, T, wt)
    centres = {t: (h, w)}
    for n in frames[1:]:
        if n > t:
            prev, flow = n - 1, forward_flow
        else:
            prev, flow = n + 1, backward_flow
        ph, pw = centres[prev]
        if flow is None:
            centres[n] = (ph, pw)
        else:
            dx, dy = float(flow[prev, 0, ph, pw]), float(flow[prev, 1, ph, pw])
            centres[n] = (_hop(ph, dy, H), _hop(pw, dx, W))
    out = []
    for n in frames:
        ch, cw = centres[n]
        for i in range(ws):
            for j in range(ws):
                hh, ww = ch + (i - (ws - 1) // 2) * wstride, cw + (j - (ws - 1) // 2) * wstride
                out.append((n, hh, ww) if 0 <= hh < H and 0 <= ww < W else None)
    return out


def ref_distance(video, keys, p, n, ps, dilation=1, anchor="center", border="reflect", metric="l2", channels=None):
    a = _patch(video, *p, ps, dilation, anchor, border)
    b = _patch(keys, *n, ps, dilation, anchor, border)
    if channels is not None:
        a, b = a[:channels], b[:channels]
    return float(((a - b) ** 2).sum()) if metric == "l2" else float((a * b).sum())


def ref_search(video, queries, ps, ws, k, keys=None, wstride=1, wt=0, metric="l2", channels=None, dilation=1,
               anchor="center", border="reflect", forward_flow=None, backward_flow=None):
    """Distances (Q, K) and indices (Q, K, 3), as lists, of a brute-force search."""
    keys = video if keys is None else keys
    T, C, H, W = video.shape
    empty = math.inf if metric == "l2" else -math.inf
    all_d, all_i = [], []
    for q in queries.tolist():
        cands = ref_candidates(q, T, H, W, ws, wstride, wt, forward_flow, backward_flow)
        scored = [(e, n, ref_distance(video, keys, q, n, ps, dilation, anchor, border, metric, channels))
                  for e, n in enumerate(cands) if n is not None]
        if k is None:
            d = [empty] * len(cands)
            i = [(-1, -1, -1)] * len(cands)
            for e, n, dist in scored:
                d[e], i[e] = dist, n
        else:
            sign = 1 if metric == "l2" else -1
            best = sorted(scored, key=lambda s: (sign * s[2], s[0]))[:k]
            d = [s[2] for s in best] + [empty] * (k - len(best))
            i = [s[1] for s in best] + [(-1, -1, -1)] * (k - len(best))
        all_d.append(d)
        all_i.append(i)
    return all_d, all_i


@pytest.fixture(scope="session")
def ref():
    """The loop references, as attributes: scatter, gather, wpsum, grid, unfold, fold, frames,
    candidates, distance, search, patch."""
    return types.SimpleNamespace(
        scatter=ref_scatter, gather=ref_gather, wpsum=ref_wpsum, grid=ref_grid, unfold=ref_unfold, fold=ref_fold,
        frames=ref_frames, candidates=ref_candidates, distance=ref_distance, search=ref_search, patch=_patch,
        resolve=_resolve, offsets=_offsets)
