"""Where a DNLS operator's host time goes, layer by layer, through PyTorch.

For each operator of `dnls.ops` on a tiny input (device work of a few microseconds), the wall time
per call of N back-to-back calls, without waiting for the device, at four layers:

1. `library`: the library function alone (ctypes call with descriptors already written; the
   library's argument checks, its caches, its launches);
2. `kernel`: the operator's Python kernel (output allocation, descriptors, stream, workspace plan,
   then the library call);
3. `dispatcher`: `torch.ops.dnls.<op>` below the autograd keys (torch's dispatcher, then the kernel);
4. `public`: the public function (`dnls.ops.<op>`, its argument checks, then the dispatcher).

Back-to-back calls measure the device instead of the host once the device is the slower of the
two (a call of many tiny kernels takes 2–3 µs of device time per kernel): `public_burst` is the
host time per call of the public function in short bursts (`--burst` calls after a
synchronisation, far fewer launches than the launch queue holds), median over many bursts, which
is the host's enqueue time alone.

Then, from one call under `torch.profiler` with CUDA activities, the device kernels that call
launched and the CUDA runtime/driver calls it made (names and counts).

Run where PyTorch, a GPU and the `dnls` package are:
    python3 bench/host_layers.py [--calls 2000] [--json out.json] [--device cuda|cpu]
"""
import argparse
import collections
import json
import sys

import torch

from dnls import _lib, ops
from dnls.ops import _folds, _patches, _registry, _search
from torch_ops import tiny_cases, wall_us_per_call as per_call_us  # this script's folder is on sys.path

KERNELS = {"search": _search._search, "scatter": _patches._scatter, "gather": _patches._gather,
           "wpsum": _patches._wpsum, "unfold": _folds._unfold, "fold": _folds._fold}
PUBLIC_MODULES = (_search, _patches, _folds)


def log(text):
    print(f"host_layers: {text}", file=sys.stderr, flush=True)


class Recorder:
    """Records the operator and arguments a public function passes to `call`, and the library
    function and arguments its kernel passes to `_lib.run`."""

    def __init__(self):
        self.op_call = None
        self.library_call = None

    def __enter__(self):
        self._call, self._run = _registry.call, _lib.run

        def call(op, *args):
            self.op_call = (op, args)
            return self._call(op, *args)

        def run(function, tensor, key, where, *args):
            self.library_call = (function, tensor, key, args)
            return self._run(function, tensor, key, where, *args)

        for module in PUBLIC_MODULES:
            module.call = call
        _lib.run = run
        return self

    def __exit__(self, *exc):
        for module in PUBLIC_MODULES:
            module.call = self._call
        _lib.run = self._run


def library_only(function, tensor, key, args):
    """The library call of a recorded `_lib.run`, replayed with its descriptors written once."""
    frame = _lib._frame
    # The descriptors of the recorded call are gone from the frame (later calls reused it):
    # record again, without running, by re-packing the same tensors.
    if tensor.is_cuda:
        index = tensor.get_device()
        stream = _lib._raw_stream(index)
        checking = 1 if _lib._checking.get() == "deferred" else 0
        needed = _lib._plans[(key, index, checking)]
        workspace = torch.empty(max(needed, 1), dtype=torch.uint8, device=tensor.device)
        address = workspace.data_ptr() if needed else _lib._ZERO_BYTE_WORKSPACE
    else:
        stream, checking, needed, address, workspace = 0, 0, 0, 0, None

    def replay():
        return function(*args, _lib._prepare_call(frame, stream, address, needed, checking))

    return replay, workspace


def profile_one(fn, device):
    """Device kernels and CUDA API calls of one call of `fn` (torch.profiler)."""
    activities = [torch.profiler.ProfilerActivity.CPU]
    if device.type == "cuda":
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities) as prof:
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
    kernels, api = collections.Counter(), collections.Counter()
    for event in prof.events():
        kind = str(getattr(event, "device_type", ""))
        name = event.name
        if "CUDA" in kind and not name.startswith("cuda") and not name.startswith("cu"):
            kernels[name] += 1
        elif name.startswith("cu"):
            api[name] += 1
    return dict(kernels), dict(api)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--checking", default="deferred", choices=["eager", "deferred"])
    parser.add_argument("--burst", type=int, default=16, help="calls per burst for the host-only figure")
    parser.add_argument("--bursts", type=int, default=300, help="bursts to take the median of")
    parser.add_argument("--json")
    args = parser.parse_args()
    device = torch.device(args.device)
    rows = []
    with torch.no_grad(), _lib.checking(args.checking):
        for name, public in tiny_cases(device).items():
            with Recorder() as recorder:
                public()
            op, op_args = recorder.op_call
            function, tensor, key, library_args = recorder.library_call
            kernel = KERNELS[name]

            def dispatcher():
                with _registry._below_autograd():
                    return op(*op_args)

            # The kernel writes its descriptors into the thread's frame; run it once (keeping its
            # outputs alive, which the descriptors name) and replay only the library function.
            replay, _workspace = library_only(function, tensor, key, library_args)
            layers = {"kernel": lambda: kernel(*op_args), "dispatcher": dispatcher, "public": public}
            row = {"op": name}
            kept = kernel(*op_args)
            row["library_us"] = per_call_us(replay, args.calls, device)
            del kept
            for layer in ("kernel", "dispatcher", "public"):
                row[f"{layer}_us"] = per_call_us(layers[layer], args.calls, device)
            # Each round of wall_us_per_call starts on an idle device: rounds of a short burst are
            # the host's enqueue time alone.
            row["public_burst_us"] = per_call_us(public, args.burst, device, rounds=args.bursts)
            row["kernels"], row["api"] = profile_one(public, device)
            rows.append(row)
            log(f"{name}: library {row['library_us']:.1f}, kernel {row['kernel_us']:.1f}, dispatcher "
                f"{row['dispatcher_us']:.1f}, public {row['public_us']:.1f}, public in bursts {row['public_burst_us']:.1f} µs; kernels {row['kernels']}; "
                f"api {row['api']}")
        other = torch.rand(1, 2, 8, 8, device=device)
        native = per_call_us(lambda: torch.add(other, other), args.calls, device)
        log(f"torch.add (native): {native:.1f} µs")
    print(f"| op | library | Python kernel | dispatcher | public | public, bursts of {args.burst} |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['op']} | {row['library_us']:.1f} µs | {row['kernel_us']:.1f} µs | {row['dispatcher_us']:.1f} µs "
              f"| {row['public_us']:.1f} µs | {row['public_burst_us']:.1f} µs |")
    print(f"| torch.add (native) | | | | {native:.1f} µs | |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": str(device), "rows": rows, "torch_add_us": native}, f, indent=1)


if __name__ == "__main__":
    main()
