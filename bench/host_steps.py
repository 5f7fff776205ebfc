"""Host time of each step of an operator's Python kernel, one step at a time.

For gather, wpsum and scatter on the tiny inputs of `bench/torch_ops.py`: each step (output
allocation, the descriptors, the stream and capture queries, the plan lookup, the library call)
repeated alone, microseconds per repetition (median of rounds), and `torch.add` and
`torch.empty` as the host's yardsticks. Run where PyTorch and the `dnls` package are:

    python3 bench/host_steps.py [--device cuda] [--repeats 20000] [--json out.json]
"""
import argparse
import json
import sys

import torch

from dnls import _lib
from dnls.ops import _patches
from host_layers import Recorder, library_only  # this script's folder is on sys.path
from torch_ops import tiny_cases, wall_us_per_call


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--repeats", type=int, default=20000)
    parser.add_argument("--json")
    args = parser.parse_args()
    device = torch.device(args.device)
    n = args.repeats
    rows = {}

    def step(name, fn, repeats=n):
        rows[name] = wall_us_per_call(fn, repeats, device, rounds=7)
        print(f"{name}: {rows[name]:.2f} µs", flush=True)

    with torch.no_grad(), _lib.checking("deferred"):
        cases = tiny_cases(device)
        with Recorder() as recorder:
            cases["gather"]()
        (_, op_args), (function, tensor, key, library_args) = recorder.op_call, recorder.library_call
        patches, weights, indices, video_shape, geom = op_args
        a = torch.rand(1, 2, 8, 8, device=device)
        step("torch.add", lambda: torch.add(a, a), n // 4)
        step("torch.empty (64 floats)", lambda: torch.empty(64, device=device))
        step("tensor.new_empty(video shape)", lambda: patches.new_empty(video_shape))
        step("tensor.is_cuda + get_device()", lambda: (tensor.is_cuda, tensor.get_device()))
        if device.type == "cuda":
            step("raw stream query", lambda: _lib._raw_stream(0))
            step("capture query", _lib._is_capturing)
        step("checking mode (context variable)", _lib._checking.get)
        step("contiguous() of 3 contiguous tensors", lambda: (patches.contiguous(), indices.contiguous(),
                                                           weights.contiguous()))
        video, weight_sum = patches.new_empty(video_shape), patches.new_empty(_patches._weight_sum_shape(video_shape))
        step("descriptors of 5 tensors", lambda: _lib.descriptors("patches weights indices video weight_sum", patches,
                                                                   weights, indices, video, weight_sum))
        step("gather plan key", lambda: ("gather", patches.shape, patches.dtype, weights.shape, indices.shape,
                                         *video_shape, *geom))
        step("DNLSCall packing", lambda: _lib._prepare_call(_lib._frame, 0, 256, 0, 1))
        kept = _patches._gather(*op_args)
        replay, _workspace = library_only(function, tensor, key, library_args)
        step("library call (gather)", replay, n // 4)
        del kept
        step("Python kernel (gather)", lambda: _patches._gather(*op_args), n // 4)
        step("public gather", cases["gather"], n // 4)
        step("public wpsum", cases["wpsum"], n // 4)
        step("public scatter", cases["scatter"], n // 4)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": str(device), "name": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
                       "steps_us": rows}, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
