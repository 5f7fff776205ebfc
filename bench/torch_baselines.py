"""Reference points for `dnls bench --device cuda`: the same shapes through PyTorch on the same card.

- torch.nn.functional.unfold / fold at T C H W, ps, stride 1 (all positions, zero padding ps//2 so
  the number of patches equals the number of pixels, as in dnls' iunfold / ifold);
- a brute-force torch search: unfold every patch (reflect padding, centred patches), then for
  batches of queries gather the candidates of the space-time window, take squared distances and
  `topk` — K nearest over ws×ws candidates in 2wt+1 frames (shifted at the ends), invalid
  (out-of-frame) candidates at +inf. Batches keep its memory bounded.

Times: CUDA events around each call, after warm-up, median of `--repeats`. Run where PyTorch and a
GPU are:  python3 bench/torch_baselines.py [--sizes 64 128 256] [--json out.json]
"""
import argparse, json
import torch
import torch.nn.functional as F


def timed(fn, warmup=3, repeats=20):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    times.sort()
    return times[len(times) // 2]


def frame_order(T, wt):
    orders = []
    for t in range(T):
        shift = min(0, t - wt) + max(0, t + wt - T + 1)
        start, end = max(t - wt - shift, 0), min(T - 1, t + wt - shift) + 1
        orders.append(list(range(t, end)) + list(range(t - 1, start - 1, -1)))
    return orders


def brute_force_search(video, ps, ws, wt, k, batch):
    T, C, H, W = video.shape
    pad = ps // 2
    padded = F.pad(video, (pad, ps - 1 - pad, pad, ps - 1 - pad), mode="reflect")
    patches = F.unfold(padded, ps).transpose(1, 2).reshape(T * H * W, C * ps * ps)  # (T·H·W, C·ps²)
    offsets = torch.arange(ws, device=video.device) - (ws - 1) // 2
    di, dj = torch.meshgrid(offsets, offsets, indexing="ij")
    di, dj = di.reshape(-1), dj.reshape(-1)
    orders = torch.tensor(frame_order(T, wt), device=video.device)  # (T, F)
    Q = T * H * W
    out_d, out_i = [], []
    for q0 in range(0, Q, batch):
        q = torch.arange(q0, min(q0 + batch, Q), device=video.device)
        t, h, w = q // (H * W), (q // W) % H, q % W
        frames = orders[t]                                                  # (b, F)
        ch = h[:, None, None] + di[None, None, :]                           # (b, 1, ws²)
        cw = w[:, None, None] + dj[None, None, :]
        valid = (ch >= 0) & (ch < H) & (cw >= 0) & (cw < W)
        cand = frames[:, :, None] * H * W + ch.clamp(0, H - 1) * W + cw.clamp(0, W - 1)  # (b, F, ws²)
        cand = cand.reshape(len(q), -1)
        valid = valid.expand(-1, frames.shape[1], -1).reshape(len(q), -1)
        d = ((patches[cand] - patches[q][:, None, :]) ** 2).sum(-1)
        d = torch.where(valid, d, torch.full_like(d, float("inf")))
        dist, idx = torch.topk(d, k, dim=1, largest=False)
        out_d.append(dist)
        out_i.append(cand.gather(1, idx))
    return torch.cat(out_d), torch.cat(out_i)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256])
    parser.add_argument("--frames", type=int, default=5)
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--ps", type=int, default=7)
    parser.add_argument("--ws", type=int, default=21)
    parser.add_argument("--wt", type=int, default=2)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--batch", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--json")
    a = parser.parse_args()
    torch.manual_seed(1)
    rows = []
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}")
    for size in a.sizes:
        video = torch.rand(a.frames, a.channels, size, size, device="cuda")
        config = f"T{a.frames} C{a.channels} {size}x{size} ps{a.ps}"
        unfold = lambda: F.unfold(video, a.ps, padding=a.ps // 2)
        cols = unfold()
        fold = lambda: F.fold(cols, (size, size), a.ps, padding=a.ps // 2)
        rows.append(("torch unfold", config, timed(unfold, repeats=a.repeats)))
        rows.append(("torch fold", config, timed(fold, repeats=a.repeats)))
        search = lambda: brute_force_search(video, a.ps, a.ws, a.wt, a.k, a.batch)
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        ms = timed(search, warmup=1, repeats=max(3, a.repeats // 4))
        peak = (torch.cuda.max_memory_allocated() - base) / 2**20
        rows.append((f"torch brute-force search (peak +{peak:.0f} MiB)",
                     f"{config} ws{a.ws} wt{a.wt} K{a.k}", ms))
    width = max(len(r[0]) for r in rows)
    for op, config, ms in rows:
        print(f"{op:<{width}}  {config:<32}  {ms:9.3f} ms")
    if a.json:
        with open(a.json, "w") as f:
            json.dump([{"op": o, "config": c, "median_ms": m} for o, c, m in rows], f, indent=1)


if __name__ == "__main__":
    main()
