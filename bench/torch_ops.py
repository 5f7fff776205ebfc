"""The DNLS operators through PyTorch: per-call host overhead, and search times against `dnls bench`.

1. Host overhead. Each `dnls.ops` operator on a tiny input (one frame of 8×8, a handful of
   queries), called N times back to back without waiting for the device: the wall time per call is
   what the host spends (torch's dispatcher, the custom-op layer, ctypes, the library's argument
   checks and launch). Beside it, a native torch operator on a tensor of the same size
   (`torch.add`), timed the same way. On a GPU the device work per call is a few microseconds, so
   the wall time measures the host.
2. Search through torch. S1–S4 (the configurations of `dnls bench`: ps 7, ws 21, wt 2, K 10),
   search forward (`dnls.ops.search`) and backward (autograd from a random distance gradient to the
   video), CUDA events around each call, median of --repeats after --warmup; then, in the same
   call on the same card, `dnls bench --device cuda --config S1,S2,S3,S4 --ops search-fwd,search-bwd
   --stream` (the Swift figures, on a stream with deferred checking as torch's ops run), and the
   ratio torch / Swift.
3. A large case (HD8: 8 frames of 1920×1080, C3, every pixel a query, in batches of queries)
   through torch: time and `torch.cuda.max_memory_allocated` beyond inputs and outputs.

Run where PyTorch, a GPU and the `dnls` package are (the binary for part 2 with --dnls-binary):
    python3 bench/torch_ops.py [--dnls-binary dist/dnls] [--json out.json] [--skip-hd8]
On a CPU only part 1 runs (with --device cpu).
"""
import argparse
import json
import statistics
import subprocess
import sys
import time

import torch

import dnls
from dnls import ops
from torch_baselines import event_ms  # CUDA events around one call (this script's folder is on sys.path)

PS, WS, WT, K = 7, 21, 2, 10
CONFIGS = {"S1": (5, 3, 128, 128, 1), "S2": (5, 3, 256, 256, 1), "S3": (5, 16, 256, 256, 4), "S4": (5, 3, 512, 512, 4)}
MIB = 2 ** 20


def log(text):
    print(f"torch_ops: {text}", file=sys.stderr, flush=True)


def wall_us_per_call(fn, calls, device, rounds=5):
    """Microseconds of host time per call of `fn`, over `calls` back-to-back calls (median of
    `rounds` rounds, each started on an idle device)."""
    for _ in range(10):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter() - start) / calls * 1e6)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
    return statistics.median(samples)


def tiny_cases(device):
    """Each operator on a tiny input (one 8×8 frame of 2 channels, 4 queries, 2 neighbours), as a
    call to repeat: device work of a few microseconds, so repeated calls measure the host."""
    g = torch.Generator().manual_seed(3)
    video = torch.rand(1, 2, 8, 8, generator=g).to(device)
    grid = ops.QueryGrid(region=(0, 1, 0, 8, 0, 8), stride=4)  # 4 queries
    found_d, found_i = ops.search(video, grid, patch_size=3, window_size=3, k=2)
    weights = torch.rand(found_d.shape, generator=g).to(device)
    patches = ops.scatter(video, found_i, patch_size=3)
    unfolded = ops.unfold(video, grid, patch_size=3)
    return {
        "search": lambda: ops.search(video, grid, patch_size=3, window_size=3, k=2),
        "scatter": lambda: ops.scatter(video, found_i, patch_size=3),
        "gather": lambda: ops.gather(patches, found_i, video.shape, weights=weights),
        "wpsum": lambda: ops.wpsum(video, weights, found_i, patch_size=3),
        "unfold": lambda: ops.unfold(video, grid, patch_size=3),
        "fold": lambda: ops.fold(unfolded, grid, video.shape),
    }


def host_overhead(device, calls):
    video, other = torch.rand(2, 1, 2, 8, 8, generator=torch.Generator().manual_seed(4)).to(device)
    cases = {**tiny_cases(device), "torch.add (native)": lambda: torch.add(video, other)}
    rows = []
    with torch.no_grad():
        for name, fn in cases.items():
            us = wall_us_per_call(fn, calls, device)
            rows.append({"op": name, "host_us_per_call": us})
            log(f"{name}: {us:.1f} µs per call")
    return rows


def timed(fn, warmup, repeats):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    samples = [event_ms(fn) for _ in range(repeats)]
    return statistics.median(samples), samples


def search_through_torch(device, warmup, repeats):
    rows = []
    for name, (T, C, H, W, stride) in CONFIGS.items():
        g = torch.Generator(device=device).manual_seed(1)
        video = torch.rand(T, C, H, W, generator=g, device=device).requires_grad_(True)
        grid = ops.QueryGrid(stride=stride)
        search = lambda: ops.search(video, grid, patch_size=PS, window_size=WS, temporal_radius=WT, k=K)
        with torch.no_grad():
            forward, samples = timed(search, warmup, repeats)
        distances, _ = search()
        gradient = torch.rand(distances.shape, generator=g, device=device)
        backward_fn = lambda: torch.autograd.grad(distances, video, gradient, retain_graph=True)
        backward, backward_samples = timed(backward_fn, warmup, repeats)
        rows.append({"config": name, "search_fwd_ms": forward, "search_bwd_ms": backward,
                     "fwd_samples_ms": samples, "bwd_samples_ms": backward_samples})
        log(f"{name}: forward {forward:.3f} ms, backward {backward:.3f} ms through torch")
        del video, distances, gradient
        torch.cuda.empty_cache()
    return rows


def swift_figures(binary, out_json):
    command = [binary, "bench", "--device", "cuda", "--config", ",".join(CONFIGS), "--ops", "search-fwd,search-bwd",
               "--stream", "--json", out_json]
    log(" ".join(command))
    subprocess.run(command, check=True, stdout=sys.stderr)
    with open(out_json) as f:
        report = json.load(f)
    figures = {}
    for result in report["results"]:
        figures[(result["config_name"], result["op"])] = result["median_ms"]
    return figures


def hd8(device, batch):
    T, C, H, W = 8, 3, 1080, 1920
    g = torch.Generator(device=device).manual_seed(1)
    video = torch.rand(T, C, H, W, generator=g, device=device)
    grid = ops.QueryGrid()
    count = T * H * W
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats(device)
    before = torch.cuda.memory_allocated(device)
    largest_outputs = 0
    start = time.perf_counter()
    for first in range(0, count, batch):
        n = min(batch, count - first)
        d, i = ops.search(video, grid.batch(first, n), patch_size=PS, window_size=WS, temporal_radius=WT, k=K)
        largest_outputs = max(largest_outputs, d.numel() * 4 + i.numel() * 4)
        del d, i
    torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated(device) - before
    row = {"config": "HD8", "queries": count, "batch": batch, "seconds": seconds,
           "peak_beyond_inputs_bytes": peak, "peak_beyond_inputs_and_one_batch_outputs_bytes": peak - largest_outputs}
    log(f"HD8 search forward in batches of {batch}: {seconds:.2f} s, peak beyond inputs "
        f"{peak / MIB:.1f} MiB ({(peak - largest_outputs) / MIB:.1f} MiB beyond one batch's outputs)")
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--dnls-binary", help="the `dnls` tool, for the Swift figures of part 2")
    parser.add_argument("--skip-hd8", action="store_true")
    parser.add_argument("--skip-search", action="store_true", help="part 1 (and 3) only")
    parser.add_argument("--checking", choices=["eager", "deferred"], default="deferred",
                        help="input checking of GPU index tensors (deferred, the default: no host wait, as in a "
                             "training loop and as `dnls bench --stream`; eager: each call waits for its check)")
    parser.add_argument("--hd8-batch", type=int, default=1 << 20)
    parser.add_argument("--json", help="write every figure to this file")
    args = parser.parse_args()
    device = torch.device(args.device)
    report = {"torch": torch.__version__, "dnls": dnls.__version__, "device": str(device)}
    if device.type == "cuda":
        report["gpu"] = torch.cuda.get_device_name(device)
    report["checking"] = args.checking
    with ops.checking(args.checking):
        run_parts(args, device, report)
    print_tables(report)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)


def run_parts(args, device, report):
    report["host_overhead"] = host_overhead(device, args.calls)
    if device.type == "cuda" and not args.skip_search:
        report["search"] = search_through_torch(device, args.warmup, args.repeats)
        if args.dnls_binary:
            swift = swift_figures(args.dnls_binary, (args.json or "torch_ops.json") + ".swift.json")
            for row in report["search"]:
                row["swift_fwd_ms"] = swift.get((row["config"], "search-fwd"))
                row["swift_bwd_ms"] = swift.get((row["config"], "search-bwd"))
    if device.type == "cuda" and not args.skip_hd8:
        report["hd8"] = hd8(device, args.hd8_batch)


def print_tables(report):
    print(f"checking: {report['checking']}")
    print("| op | host µs per call |")
    print("|---|---|")
    for row in report["host_overhead"]:
        print(f"| {row['op']} | {row['host_us_per_call']:.1f} |")
    if "search" in report:
        print()
        print("| config | forward through torch | forward, dnls bench | ratio | backward through torch | backward, dnls bench | ratio |")
        print("|---|---|---|---|---|---|---|")
        for row in report["search"]:
            sf, sb = row.get("swift_fwd_ms"), row.get("swift_bwd_ms")
            rf = f"{row['search_fwd_ms'] / sf:.2f}" if sf else "–"
            rb = f"{row['search_bwd_ms'] / sb:.2f}" if sb else "–"
            print(f"| {row['config']} | {row['search_fwd_ms']:.3f} ms | {sf or float('nan'):.3f} ms | {rf} "
                  f"| {row['search_bwd_ms']:.3f} ms | {sb or float('nan'):.3f} ms | {rb} |")


if __name__ == "__main__":
    main()
