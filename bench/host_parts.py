"""The parts of an operator's Python kernel on its own, to see where the host time above the
library call goes: each step of `dnls.ops` unfold's kernel (and the torch primitives it uses),
timed alone, µs per call (median of five rounds of N back-to-back calls).

Run where PyTorch, a GPU and the `dnls` package are:
    python3 bench/host_parts.py [--calls 20000] [--device cuda|cpu]
"""
import argparse

import torch

from dnls import _lib, ops
from dnls.ops import _folds, _grid
from torch_ops import wall_us_per_call  # this script's folder is on sys.path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--device", default="cuda")
    args = parser.parse_args()
    device = torch.device(args.device)
    video = torch.rand(1, 2, 3, 16, 16, device=device)
    geom = [3, 1, 0, 0]
    grid = _grid.encode_grid(None, 2, 16, 16, "queries")
    shape = _folds._patch_shape(video.shape, grid, geom, "dnls.unfold")
    patches = video.new_empty(shape)
    lib = _lib.library()
    index = video.get_device() if video.is_cuda else 0
    frame = _lib._frame
    parts = {
        "video.contiguous()": lambda: video.contiguous(),
        "_patch_shape (cached query count)": lambda: _folds._patch_shape(video.shape, grid, geom, "dnls.unfold"),
        "video.new_empty(patches)": lambda: video.new_empty(shape),
        "torch.empty(64 bytes, uint8)": lambda: torch.empty(64, dtype=torch.uint8, device=device),
        "plan key tuple": lambda: ("unfold", video.shape, video.dtype, *grid, *geom),
        "_structs (cached structs)": lambda: _folds._structs(grid, geom),
        "descriptors (2 tensors)": lambda: _lib.descriptors("video patches", video, patches),
        "tensor.get_device()": lambda: video.get_device(),
        "checking mode (context variable)": lambda: _lib._checking.get(),
        "_prepare_call": lambda: _lib._prepare_call(frame, 0, 256, 0, 1),
        "ctypes call of dnls_abi_version": lambda: lib.abi_version(),
        "kernel (_folds._unfold)": lambda: _folds._unfold(video, grid, geom),
        "public (dnls.ops.unfold)": lambda: ops.unfold(video, None, patch_size=3),
        "torch.add (native)": lambda: torch.add(video, video),
    }
    if device.type == "cuda":
        parts["current raw stream"] = lambda: _lib._raw_stream(index)
        parts["is the stream capturing"] = lambda: _lib._is_capturing()
    print(f"| part ({device.type}) | µs per call |")
    print("|---|---|")
    for name, fn in parts.items():
        print(f"| {name} | {wall_us_per_call(fn, args.calls, device):.2f} |", flush=True)


if __name__ == "__main__":
    main()
