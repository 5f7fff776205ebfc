"""Host time of each operator's CUDA library call, on a machine without a GPU.

With `fake_cuda.c` built as `libcuda.so.1` first on the loader's path, the library takes its whole
CUDA path (argument checks, caches, kernel parameters, workspace carving, launches) and the
driver does nothing, so the time per call is the library's own host share. The tiny inputs of
`bench/torch_ops.py` are prepared on the CPU, then their descriptors are marked as CUDA tensors of
device 0 (the fake driver never reads device memory). Deferred checking, as in a training loop.

    cc -O2 -shared -fPIC -o /tmp/fake/libcuda.so.1 bench/fake_driver/fake_cuda.c
    LD_LIBRARY_PATH=/tmp/fake:$NVRTC_LIB PYTHONPATH=python python3 bench/fake_driver/library_profile.py [--calls N] [--op NAME]
"""
import argparse
import ctypes
import struct
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from dnls import _lib  # noqa: E402
from host_layers import KERNELS, Recorder  # noqa: E402
from torch_ops import tiny_cases  # noqa: E402


def as_cuda(frame, args):
    """Marks every descriptor of the frame that `args` names as a CUDA tensor of device 0."""
    low, high = frame.base + _lib._SLOTS, frame.base + _lib._SLOTS + (_lib.MAX_TENSORS + 1) * _lib._SLOT_BYTES
    for arg in args:
        if isinstance(arg, int) and low <= arg < high:
            struct.pack_into("<Q", frame.buffer, arg - frame.base + 8, _lib.DEVICE_CUDA)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--op", action="append", help="only these operators")
    args = parser.parse_args()
    frame = _lib._frame
    with torch.no_grad(), _lib.checking("deferred"):
        for name, public in tiny_cases(torch.device("cpu")).items():
            if args.op and name not in args.op:
                continue
            with Recorder() as recorder:
                public()
            op, op_args = recorder.op_call
            function, _, _, library_args = recorder.library_call
            kept = KERNELS[name](*op_args)  # its descriptors stay in the frame while it lives
            as_cuda(frame, library_args)
            status = function(*library_args, _lib._prepare_call(frame, 0, checking=1, plan_only=1))
            if status:
                raise RuntimeError(f"{name}: plan failed: {frame.message_text()}")
            needed = frame.workspace_needed()
            workspace = ctypes.create_string_buffer(needed + 256)
            address = (ctypes.addressof(workspace) + 255) // 256 * 256 if needed else _lib._ZERO_BYTE_WORKSPACE

            def replay():
                return function(*library_args, _lib._prepare_call(frame, 0, address, needed, 1))

            for _ in range(50):  # compiles the kernels (NVRTC) and fills the caches
                if replay():
                    raise RuntimeError(f"{name}: {frame.message_text()}")
            launches = ctypes.c_ulonglong.in_dll(ctypes.CDLL("libcuda.so.1"), "fake_cuda_launches")
            before = launches.value
            samples = []
            for _ in range(5):
                start = time.perf_counter()
                for _ in range(args.calls):
                    replay()
                samples.append((time.perf_counter() - start) / args.calls * 1e6)
            per_call = (launches.value - before) / (5 * args.calls)
            print(f"{name}: {sorted(samples)[2]:.2f} µs per call (library, fake driver), workspace {needed} B, "
                  f"{per_call:.0f} launches per call", flush=True)
            del kept


if __name__ == "__main__":
    main()
