"""Reference points for `dnls bench --device cuda`: the same configurations through PyTorch on the same card.

For each configuration (the names of `dnls bench --config`: S1 S2 S3 S4 S512 HD8 UHD1 C64, or `custom`
with --frames/--channels/--height/--width/--stride), ps 7, ws 21, wt 2, K 10:

- unfold / fold: torch.nn.functional.unfold and fold with kernel ps, padding ps//2 and the query
  stride, so that there is one patch per query as in dnls' iunfold / ifold over the query grid
  (zero padding: torch has no reflect option here). Forward, and backward through autograd
  (unfold's backward is a fold and the other way round), timed on one retained graph.
- search: a brute-force torch search. Every pixel's patch is unfolded once from the reflect-padded
  video (centred patches, reflect `x < 0 -> -x`, `x >= L -> 2(L-1) - x`, as in dnls); for a batch of
  queries the candidates of the ws x ws window in each of the 2wt+1 frames (shifted, not cut, at
  the ends of the video) are gathered, their squared distances summed and `topk` keeps the K
  nearest. Candidates outside the frame are invalid (+inf). Batches keep the memory bounded
  (--batch-gib of candidate patches at a time). With --flow, each frame's window is centred where
  the flow chain leads (dnls' rule: hop by hop, rounded half up, clamped into the frame).
- search backward: through autograd, batch by batch, from random distance gradients to the patch
  table (torch's index backward accumulates with atomics) and then one fold to the video.

Times are CUDA events around each call after warm-up, median of --repeats. A search whose one run
would take longer than --max-seconds is timed on evenly spaced query batches and scaled to all
queries (marked "sampled"). Memory: torch.cuda.max_memory_allocated during one run minus what was
allocated before it (the inputs), and that minus the outputs' bytes.

Run where PyTorch and a GPU are:
    python3 bench/torch_baselines.py [--config S1,S2] [--ops unfold,fold,search] [--json out.json]
"""
import argparse
import json
import math
import statistics
import sys
import time

import torch
import torch.nn.functional as F

PS, WS, WT, K = 7, 21, 2, 10

# name: (frames, channels, height, width, query stride), as in `dnls bench` (Sources/dnls/BenchConfig.swift).
CONFIGS = {
    "S1": (5, 3, 128, 128, 1),
    "S2": (5, 3, 256, 256, 1),
    "S3": (5, 16, 256, 256, 4),
    "S4": (5, 3, 512, 512, 4),
    "S512": (5, 3, 512, 512, 1),
    "HD8": (8, 3, 1080, 1920, 1),
    "UHD1": (1, 3, 2160, 3840, 1),
    "C64": (5, 64, 128, 128, 1),
}
OPS = ["unfold", "unfold-bwd", "fold", "fold-bwd", "search", "search-bwd"]
MIB = 2 ** 20


def log(text):
    print(f"torch_baselines [{time.perf_counter() - START:.1f} s] {text}", file=sys.stderr, flush=True)


def event_ms(fn):
    """Milliseconds of the GPU work `fn` queues, between two CUDA events."""
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    fn()
    end.record()
    end.synchronize()
    return start.elapsed_time(end)


def timed(fn, warmup, repeats, max_seconds):
    """Median and all samples of `fn` in ms: `warmup` untimed runs, then up to `repeats` timed ones
    (fewer once they have taken max_seconds)."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    samples = []
    for _ in range(repeats):
        samples.append(event_ms(fn))
        if sum(samples) / 1e3 >= max_seconds:
            break
    return statistics.median(samples), samples


def peak_extra(fn):
    """Bytes allocated at the peak of one run of `fn` beyond those allocated before it."""
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    before = torch.cuda.memory_allocated()
    result = fn()
    torch.cuda.synchronize()
    extra = torch.cuda.max_memory_allocated() - before
    del result
    return extra


def frame_order(T, wt):
    """Frames searched for each query frame, in dnls' visiting order: the query frame, later frames
    ascending, earlier frames descending; the 2wt+1 frames shifted to stay inside [0, T)."""
    orders = []
    for t in range(T):
        shift = min(0, t - wt) + max(0, t + wt - T + 1)
        start, end = max(t - wt - shift, 0), min(T - 1, t + wt - shift) + 1
        orders.append(list(range(t, end)) + list(range(t - 1, start - 1, -1)))
    width = max(len(o) for o in orders)
    return [o + [o[-1]] * (width - len(o)) for o in orders], width


FLOWS = ["none", "zero", "smooth", "random"]


def make_flows(kind, T, H, W, device):
    """Forward and backward flows (T, 2, H, W) of `dnls bench --flow KIND` (the same kinds, drawn by
    torch's generator): none, zero, smooth (a pan of 1.5 px right and 1 px up per frame plus
    uniform ±0.5 px noise) or random (uniform ±2.5 px per pixel)."""
    shape = (T, 2, H, W)
    if kind == "none":
        return None, None
    if kind == "zero":
        zeros = torch.zeros(shape, device=device)
        return zeros, zeros
    if kind == "smooth":
        pan = torch.tensor([1.5, -1.0], device=device).view(1, 2, 1, 1)
        return (pan + torch.rand(shape, device=device) - 0.5, -pan + torch.rand(shape, device=device) - 0.5)
    return torch.rand(shape, device=device) * 5 - 2.5, torch.rand(shape, device=device) * 5 - 2.5


class Search:
    """The brute-force search of one video (T, C, H, W) over a query grid of stride `stride`, its
    windows following the flows (T, 2, H, W) when given."""

    def __init__(self, video, stride, batch_gib, flows=(None, None)):
        T, C, H, W = video.shape
        self.shape, self.stride = video.shape, stride
        self.forward_flow, self.backward_flow = flows
        orders, self.frames = frame_order(T, WT)
        self.orders = torch.tensor(orders, device=video.device)
        offsets = torch.arange(WS, device=video.device) - (WS - 1) // 2
        di, dj = torch.meshgrid(offsets, offsets, indexing="ij")
        self.di, self.dj = di.reshape(-1), dj.reshape(-1)
        rows, cols = torch.arange(0, H, stride), torch.arange(0, W, stride)
        self.query_shape = (T, len(rows), len(cols))
        self.queries = T * len(rows) * len(cols)
        self.candidates = self.frames * WS * WS
        entries = C * PS * PS
        self.batch = max(1, min(self.queries, int(batch_gib * 2 ** 30 // (4 * self.candidates * entries))))
        self.batches = math.ceil(self.queries / self.batch)

    def patches(self, video):
        """Every pixel's centred, reflect-padded patch: (T·H·W, C·ps²)."""
        T, C, H, W = video.shape
        pad = PS // 2
        padded = F.pad(video, (pad, PS - 1 - pad, pad, PS - 1 - pad), mode="reflect")
        return F.unfold(padded, PS).transpose(1, 2).reshape(T * H * W, C * PS * PS)

    def query_pixels(self, b):
        """Flat pixel numbers (t·H·W + h·W + w) and positions of the queries of batch `b`."""
        T, C, H, W = self.shape
        _, rows, cols = self.query_shape
        q = torch.arange(b * self.batch, min((b + 1) * self.batch, self.queries), device=self.orders.device)
        t, h, w = q // (rows * cols), (q // cols) % rows * self.stride, q % cols * self.stride
        return t * H * W + h * W + w, t, h, w

    def centres(self, frames, t, h, w):
        """Window centres (b, F) in each frame slot. Without flow, the query itself; with flow, the
        chain of dnls: each frame's centre is the previous link's (the query's for the query frame
        and, going backward, again for frame t − 1) moved by that frame's flow there, rounded half
        up and clamped into the frame, in float32."""
        T, C, H, W = self.shape
        if self.forward_flow is None and self.backward_flow is None:
            return h[:, None].expand(-1, self.frames), w[:, None].expand(-1, self.frames)
        zeros = torch.zeros(len(t), device=t.device)
        rows, cols, at = [h], [w], [t]
        for s in range(1, self.frames):
            n = frames[:, s]
            restart = n == t - 1
            ph, pw, pt = (torch.where(restart, h, rows[-1]), torch.where(restart, w, cols[-1]),
                          torch.where(restart, t, at[-1]))
            forward, backward = self.forward_flow, self.backward_flow
            fx = forward[pt, 0, ph, pw] if forward is not None else zeros
            fy = forward[pt, 1, ph, pw] if forward is not None else zeros
            bx = backward[pt, 0, ph, pw] if backward is not None else zeros
            by = backward[pt, 1, ph, pw] if backward is not None else zeros
            ahead = n > pt
            dx, dy = torch.where(ahead, fx, bx), torch.where(ahead, fy, by)
            still = n == pt  # a repeated last frame (fewer frames than the window): no hop
            nh = torch.where(still, ph, torch.floor((ph.float() + dy) + 0.5).clamp(0, H - 1).long())
            nw = torch.where(still, pw, torch.floor((pw.float() + dx) + 0.5).clamp(0, W - 1).long())
            rows.append(nh); cols.append(nw); at.append(n)
        return torch.stack(rows, 1), torch.stack(cols, 1)

    def batch_forward(self, patches, b):
        T, C, H, W = self.shape
        pixels, t, h, w = self.query_pixels(b)
        frames = self.orders[t]                                              # (b, F)
        rows, cols = self.centres(frames, t, h, w)                           # (b, F)
        ch = rows[:, :, None] + self.di[None, None, :]                       # (b, F, ws²)
        cw = cols[:, :, None] + self.dj[None, None, :]
        valid = (ch >= 0) & (ch < H) & (cw >= 0) & (cw < W)
        cand = frames[:, :, None] * H * W + ch.clamp(0, H - 1) * W + cw.clamp(0, W - 1)
        cand, valid = cand.reshape(len(pixels), -1), valid.reshape(len(pixels), -1)
        d = ((patches[cand] - patches[pixels][:, None, :]) ** 2).sum(-1)
        d = torch.where(valid, d, torch.full_like(d, float("inf")))
        dist, slot = torch.topk(d, K, dim=1, largest=False)
        return dist, cand.gather(1, slot)

    def forward(self, video, batches=None):
        with torch.no_grad():
            patches = self.patches(video)
            out = [self.batch_forward(patches, b) for b in (batches if batches is not None else range(self.batches))]
            return torch.cat([d for d, _ in out]), torch.cat([i for _, i in out])

    def backward(self, video, indices, gradient, batches=None):
        """Gradient of Σ gradient·distance w.r.t. the video, batch by batch through autograd."""
        table = self.patches(video).detach().requires_grad_()
        for b in batches if batches is not None else range(self.batches):
            pixels, _, _, _ = self.query_pixels(b)
            rows = slice(b * self.batch, b * self.batch + len(pixels))
            d = ((table[indices[rows]] - table[pixels][:, None, :]) ** 2).sum(-1)
            d.backward(gradient[rows])
        # The patch table's gradient back to the video: unfold's adjoint through the reflect padding.
        video = video.detach().requires_grad_()
        self.patches(video).backward(table.grad)
        return video.grad


def run_config(name, dims, a, rows, ops):
    T, C, H, W, stride = dims
    log(f"{name}: T{T} C{C} {H}x{W} stride {stride}")
    torch.manual_seed(a.seed)
    video = torch.rand(T, C, H, W, device="cuda")
    config = (f"{name} T{T} C{C} {H}x{W} ps{PS}" + (f" stride{stride}" if stride > 1 else "")
              + (f" flow {a.flow}" if a.flow != "none" else ""))
    video_bytes = video.numel() * 4

    def add(op, ms, samples, work, unit, extra, outputs, note=""):
        rows.append({"config_name": name, "config": config, "op": op, "median_ms": ms, "samples_ms": samples,
                     "throughput": work / (ms * 1e6), "unit": unit, "peak_extra_bytes": extra,
                     "output_bytes": outputs, "peak_extra_beyond_outputs_bytes": extra - outputs, "note": note})

    pad = PS // 2
    if {"unfold", "unfold-bwd", "fold", "fold-bwd"} & set(ops):
        x = video  # (T, C, H, W): the frames are torch's batch
        unfold = lambda: F.unfold(x, PS, padding=pad, stride=stride)
        cols = unfold()
        patch_bytes = cols.numel() * 4
        size = (H, W)
        fold = lambda: F.fold(cols, size, PS, padding=pad, stride=stride)
        for op, fn, out_bytes in [("unfold", unfold, patch_bytes), ("fold", fold, video_bytes)]:
            if op in ops:
                ms, samples = timed(fn, a.warmup, a.repeats, a.max_seconds)
                add(op, ms, samples, video_bytes + patch_bytes, "GB/s", peak_extra(fn), out_bytes)
        if "unfold-bwd" in ops:
            xg = x.detach().requires_grad_()
            y = F.unfold(xg, PS, padding=pad, stride=stride)
            g = torch.rand_like(y)
            fn = lambda: torch.autograd.grad(y, xg, g, retain_graph=True)
            ms, samples = timed(fn, a.warmup, a.repeats, a.max_seconds)
            add("unfold-bwd", ms, samples, video_bytes + patch_bytes, "GB/s", peak_extra(fn), video_bytes)
            del xg, y, g
        if "fold-bwd" in ops:
            cg = cols.detach().requires_grad_()
            y = F.fold(cg, size, PS, padding=pad, stride=stride)
            g = torch.rand_like(y)
            fn = lambda: torch.autograd.grad(y, cg, g, retain_graph=True)
            ms, samples = timed(fn, a.warmup, a.repeats, a.max_seconds)
            add("fold-bwd", ms, samples, video_bytes + patch_bytes, "GB/s", peak_extra(fn), patch_bytes)
            del cg, y, g
        del cols

    if {"search", "search-bwd"} & set(ops):
        s = Search(video, stride, a.batch_gib, make_flows(a.flow, T, H, W, video.device))
        flops_fwd = 3 * C * PS * PS * s.queries * s.candidates
        out_bytes = s.queries * K * (4 + 8)  # distances (float32) and flat indices (int64)
        # One batch, warm, to see whether a whole run fits the time budget.
        s.forward(video, [0])
        one = event_ms(lambda: s.forward(video, [0]))
        chosen, note = None, ""
        if one * s.batches > a.max_seconds * 1e3:
            count = max(1, min(s.batches, int(a.max_seconds * 1e3 / max(one, 1e-3) / 2)))
            chosen = sorted({round(i * (s.batches - 1) / max(count - 1, 1)) for i in range(count)})
            note = f"sampled: {len(chosen)} of {s.batches} batches of {s.batch} queries, scaled"
        scale = s.batches / len(chosen) if chosen else 1.0
        log(f"{name}: search, {s.queries} queries in {s.batches} batches of {s.batch}"
            + (f" ({note})" if note else ""))
        distances, indices = s.forward(video, chosen)
        if "search" in ops:
            ms, samples = timed(lambda: s.forward(video, chosen), 1, a.search_repeats, a.max_seconds)
            add("search", ms * scale, [x * scale for x in samples], flops_fwd, "GFLOP/s",
                peak_extra(lambda: s.forward(video, chosen)), out_bytes, note)
        if "search-bwd" in ops:
            if chosen is None:
                gradient = torch.rand_like(distances) * 2 - 1
                fn = lambda: s.backward(video, indices, gradient)
            else:  # the sampled batches' rows, laid out as the full tensors would hold them
                full_i = torch.zeros(s.queries, K, dtype=indices.dtype, device=indices.device)
                rows_of = torch.cat([torch.arange(b * s.batch, min((b + 1) * s.batch, s.queries), device="cuda")
                                     for b in chosen])
                full_i[rows_of] = indices
                gradient = torch.rand(s.queries, K, device="cuda") * 2 - 1
                fn = lambda: s.backward(video, full_i, gradient, chosen)
            ms, samples = timed(fn, 1, a.search_repeats, a.max_seconds)
            add("search-bwd", ms * scale, [x * scale for x in samples], 4 * C * PS * PS * s.queries * K, "GFLOP/s",
                peak_extra(fn), video_bytes, note)
        del distances, indices, s
    del video
    torch.cuda.empty_cache()


def main():
    global START
    START = time.perf_counter()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", action="append", default=[],
                        help="configurations (repeatable or comma-separated): " + ", ".join(CONFIGS) + ", custom, all")
    parser.add_argument("--frames", type=int, default=5)
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--height", type=int, default=64)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--stride", type=int, default=1)
    parser.add_argument("--ops", default="all", help="comma-separated: " + ", ".join(OPS) + ", or all")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--search-repeats", type=int, default=5, help="timed runs of the (slow) search")
    parser.add_argument("--max-seconds", type=float, default=30.0,
                        help="time budget of one case; a longer search is sampled by batches")
    parser.add_argument("--batch-gib", type=float, default=2.0, help="candidate patches per search batch, GiB")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--flow", choices=FLOWS, default="none",
                        help="the flow the search follows, as in `dnls bench --flow` (default none)")
    parser.add_argument("--json")
    a = parser.parse_args()
    names = [n.strip() for item in (a.config or ["S1,S2,S3,S4,S512,HD8,UHD1,C64"]) for n in item.split(",") if n.strip()]
    configs = []
    for n in names:
        if n.lower() == "all":
            configs += [(k, v) for k, v in CONFIGS.items()]
        elif n.lower() == "custom":
            configs.append(("custom", (a.frames, a.channels, a.height, a.width, a.stride)))
        elif n.upper() in CONFIGS:
            configs.append((n.upper(), CONFIGS[n.upper()]))
        else:
            parser.error(f"unknown configuration {n}")
    ops = OPS if a.ops == "all" else a.ops.split(",")
    for op in ops:
        if op not in OPS:
            parser.error(f"unknown op {op}")

    device = torch.cuda.get_device_name()
    print(f"torch {torch.__version__}, {device}; ps {PS} ws {WS} wt {WT} K {K}, flow {a.flow}; warmup {a.warmup}, "
          f"repeats {a.repeats} (search {a.search_repeats}), at most {a.max_seconds} s per case")
    rows = []
    for name, dims in configs:
        try:
            run_config(name, dims, a, rows, ops)
        except torch.cuda.OutOfMemoryError as error:
            log(f"{name}: out of memory ({str(error).splitlines()[0]})")
            rows.append({"config_name": name, "config": name, "op": "(remaining ops)", "skipped": "out of memory"})
            torch.cuda.empty_cache()

    header = ["op", "config", "median ms", "throughput", "peak extra MiB", "beyond outputs MiB", "note"]
    table = [[r["op"], r["config"], f"{r['median_ms']:.4g}", f"{r['throughput']:.4g} {r['unit']}",
              f"{r['peak_extra_bytes'] / MIB:.1f}", f"{r['peak_extra_beyond_outputs_bytes'] / MIB:.1f}", r["note"]]
             if "skipped" not in r else [r["op"], r["config"], "-", "-", "-", "-", "skipped: " + r["skipped"]]
             for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *table)]
    for line in [header, ["-" * w for w in widths]] + table:
        print("  ".join(str(x).ljust(w) if i in (0, 1, 6) else str(x).rjust(w)
                        for i, (x, w) in enumerate(zip(line, widths))).rstrip())
    print("peak extra: torch.cuda.max_memory_allocated during one run minus memory_allocated before it (the "
          "inputs); beyond outputs: minus the outputs' bytes.")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"tool": "bench/torch_baselines.py", "torch": torch.__version__, "device": device,
                       "patchSize": PS, "windowSize": WS, "temporalRadius": WT, "k": K, "flow": a.flow,
                       "warmup": a.warmup, "repeats": a.repeats, "search_repeats": a.search_repeats,
                       "results": rows}, f, indent=1)
        print(f"wrote {a.json}")


if __name__ == "__main__":
    main()
