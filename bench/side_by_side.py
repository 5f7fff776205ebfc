#!/usr/bin/env python3
"""Print BENCHMARKS.md's comparison figures from one call's JSON files: one table of the search and
iunfold / ifold against their targets, the originals and torch, then the search's arithmetic floor:

    dnls bench --device cuda --config S1,S2,S3,S4 --json dnls.json
    python3 bench/torch_baselines.py --config S1,S2,S3,S4 --json torch.json
    python3 bench/side_by_side.py dnls.json torch.json

Columns: our median (and the device memory beyond inputs and outputs), the target (BENCHMARKS.md
lists them), the original dnls and stnls as this project measured them on an H100 80GB (built from
their own sources; not rerun here), and torch on the same card. A last table gives the search
forward's arithmetic floor (3·C·ps² FLOP per candidate at about 50 TFLOP/s of FSUB+FFMA) over our
time.
"""
import argparse
import json
import sys

# The original dnls and stnls, built from their own sources and timed on an H100 80GB (CUDA 13,
# PyTorch 2.11; CUDA-synchronised wall time, median of 5, zero flow, reflect border), ms:
# forward, backward (dnls racy, stnls float atomics).
ORIGINALS = {
    "S1": {"dnls": (80.3, 6.5), "stnls": (82.5, 1.72)},
    "S2": {"dnls": (None, None), "stnls": (None, None)},  # both fail (int32 indexing overflow)
    "S3": {"dnls": (104.5, 25.8), "stnls": (75.4, 3.96)},
    "S4": {"dnls": (82.1, 5.9), "stnls": (83.4, 2.12)},
}
# The targets of BENCHMARKS.md, ms: (config, op) → bound; "torch" means no slower than torch's counterpart.
TARGETS = {("S1", "search-fwd"): 4.0, ("S1", "search-bwd"): 2.5, ("S2", "search-fwd"): 16.0,
           ("S3", "search-fwd"): 5.0, ("S3", "search-bwd"): 6.0,
           ("S2", "iunfold"): "torch", ("S2", "ifold"): "torch"}
MEMORY_TARGET_MIB = 64
FLOOR_FLOPS = 50e12
# Our operation → torch_baselines.py's name for the same work.
TORCH_OP = {"search-fwd": "search", "search-bwd": "search-bwd", "iunfold": "unfold", "ifold": "fold",
            "iunfold-bwd": "unfold-bwd", "ifold-bwd": "fold-bwd"}


def load(path, tool):
    with open(path) as f:
        data = json.load(f)
    if data.get("tool") != tool:
        sys.exit(f"{path}: expected the JSON of {tool}, found {data.get('tool')!r}")
    return data


def ms(value):
    return "" if value is None else (f"{value:.3f}" if value < 1 else f"{value:.3g}" if value < 100 else f"{value:.0f}") + " ms"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dnls_json", help="dnls bench --device cuda … --json")
    parser.add_argument("torch_json", nargs="?", help="bench/torch_baselines.py … --json (optional)")
    parser.add_argument("--ops", default="search-fwd,search-bwd,iunfold,ifold", help="operations to list")
    args = parser.parse_args()
    ours = load(args.dnls_json, "dnls bench")
    torch = load(args.torch_json, "bench/torch_baselines.py") if args.torch_json else {"results": []}
    torch_ms = {(r["config_name"], r["op"]): r["median_ms"] for r in torch["results"]}
    ops = args.ops.split(",")

    print(f"GPU: {ours.get('gpu', '?')}; torch {torch.get('torch', '-')} on {torch.get('device', '-')}")
    print()
    print("| config | op | ours | target | original dnls | stnls | torch |")
    print("|---|---|---|---|---|---|---|")
    worst_memory = max((r.get("peak_extra_beyond_outputs_bytes", 0) / 2**20 for r in ours["results"]), default=0.0)
    for r in ours["results"]:
        if r["op"] not in ops:
            continue
        name, op, median = r["config_name"], r["op"], r["median_ms"]
        beyond = r.get("peak_extra_beyond_outputs_bytes", 0) / 2**20
        theirs = torch_ms.get((name, TORCH_OP.get(op, op)))
        target = TARGETS.get((name, op))
        if target == "torch":
            verdict = "" if theirs is None else f"≤ torch: {'met' if median <= theirs else 'not met'}"
        elif target is not None:
            verdict = f"≤ {target:g} ms: {'met' if median <= target else 'not met'}"
        else:
            verdict = ""
        originals = ["", ""]
        if op in ("search-fwd", "search-bwd") and name in ORIGINALS:
            index = 0 if op == "search-fwd" else 1
            for column, tool in enumerate(("dnls", "stnls")):
                value = ORIGINALS[name][tool][index]
                ratio = None if value is None else value / median
                originals[column] = "fails" if value is None else f"{ms(value)} ({ratio:.1f}×)" if ratio < 10 else f"{ms(value)} ({ratio:.0f}×)"
        print(f"| {r['config']} | {op} | {ms(median)}, {beyond:.0f} MiB | {verdict} | {originals[0]} | {originals[1]} | {ms(theirs)} |")
    print()
    print(f"Largest memory beyond inputs and outputs, every operation of the run: {worst_memory:.1f} MiB "
          f"(target ≤ {MEMORY_TARGET_MIB} MiB: {'met' if worst_memory <= MEMORY_TARGET_MIB else 'not met'}).")
    print()
    print("| config | search forward | nominal FLOP | floor at 50 TFLOP/s | floor / ours |")
    print("|---|---|---|---|---|")
    for r in ours["results"]:
        if r["op"] == "search-fwd" and r.get("work"):
            floor = r["work"] / FLOOR_FLOPS * 1e3
            print(f"| {r['config_name']} | {ms(r['median_ms'])} | {r['work'] / 1e9:.1f} G | {ms(floor)} | {floor / r['median_ms']:.2f} |")


if __name__ == "__main__":
    main()
