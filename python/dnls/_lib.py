"""Loading of the DNLS C library and the ctypes bridge between torch tensors and its ABI.

The library is looked up, in order, at

1. the path in the environment variable ``DNLS_LIBRARY``;
2. ``dnls/lib/libDNLSC.so`` inside this package (the folder is called ``lib`` and not ``_lib``
   so that it cannot shadow this module, ``dnls._lib``);
3. ``<repository>/.build/release/libDNLSC.so`` for a source checkout.

It is loaded on first use, and its ABI version must equal :data:`ABI_VERSION`.

Tensors cross the ABI without copies: a :class:`Tensor` descriptor (DLPack's ``DLTensor``
layout) points at the torch tensor's memory with its shape and strides. On CUDA every call runs
on the caller's current stream, gets a workspace from torch's caching allocator (sized once per
distinct call by a ``plan_only`` call), and is checked eagerly unless :func:`checking` says
``"deferred"`` or the current stream is capturing a CUDA graph.
"""

from __future__ import annotations

import contextlib
import contextvars
import ctypes
import os
import re
import struct
import threading
from ctypes import POINTER, Structure, byref, c_char, c_char_p, c_int32, c_int64, c_uint8, c_uint16, c_uint64, c_void_p
from pathlib import Path
from typing import Iterator, Optional

import torch

ABI_VERSION = 1
"""The ABI version this module was written for (``DNLS_ABI_VERSION`` of ``dnls_types.h``)."""

# Status codes.
OK = 0
INVALID_ARGUMENT = 1
SHAPE_MISMATCH = 2
OUT_OF_RANGE = 3
NON_FINITE = 4
DEVICE_MISMATCH = 5
UNAVAILABLE = 6
OUT_OF_MEMORY = 7
WORKSPACE_TOO_SMALL = 8
DEVICE_FAILURE = 9
BAD_DESCRIPTOR = 10  # no longer returned (descriptor problems are INVALID_ARGUMENT); kept as a caller error

_CALLER_ERRORS = frozenset({INVALID_ARGUMENT, SHAPE_MISMATCH, OUT_OF_RANGE, NON_FINITE, DEVICE_MISMATCH,
                            BAD_DESCRIPTOR})
_STATUS_NAMES = {
    INVALID_ARGUMENT: "invalid argument",
    SHAPE_MISMATCH: "shape mismatch",
    OUT_OF_RANGE: "out of range",
    NON_FINITE: "non-finite value",
    DEVICE_MISMATCH: "device mismatch",
    UNAVAILABLE: "unavailable",
    OUT_OF_MEMORY: "out of memory",
    WORKSPACE_TOO_SMALL: "workspace too small",
    DEVICE_FAILURE: "device failure",
    BAD_DESCRIPTOR: "bad tensor descriptor",
}

DEVICE_CPU = 1
DEVICE_CUDA = 2

MESSAGE_CAPACITY = 1024


# ----------------------------------------------------------------------------------------------
# Structs mirroring dnls_types.h


class Device(Structure):
    """``DNLSDevice`` (DLPack's ``DLDevice``)."""

    _fields_ = [("device_type", c_int32), ("device_id", c_int32)]


class DataType(Structure):
    """``DNLSDataType`` (DLPack's ``DLDataType``)."""

    _fields_ = [("code", c_uint8), ("bits", c_uint8), ("lanes", c_uint16)]


class Tensor(Structure):
    """``DNLSTensor`` (DLPack's ``DLTensor``); strides in elements, NULL for row-major.

    The nested ``DNLSDevice`` and ``DNLSDataType`` are spelled out as their fields (the same
    layout), which makes a descriptor cheaper to build; :attr:`device` and :attr:`dtype` read them
    back as the structs."""

    _fields_ = [
        ("data", c_void_p),
        ("device_type", c_int32),
        ("device_id", c_int32),
        ("ndim", c_int32),
        ("code", c_uint8),
        ("bits", c_uint8),
        ("lanes", c_uint16),
        ("shape", POINTER(c_int64)),
        ("strides", POINTER(c_int64)),
        ("byte_offset", c_uint64),
    ]

    @property
    def device(self) -> Device:
        return Device(self.device_type, self.device_id)

    @property
    def dtype(self) -> DataType:
        return DataType(self.code, self.bits, self.lanes)


class Geometry(Structure):
    """``DNLSGeometry``: anchor 0 centre / 1 top-left, border 0 reflect / 1 zero."""

    _fields_ = [("patch_size", c_int32), ("dilation", c_int32), ("anchor", c_int32), ("border", c_int32)]


class Search(Structure):
    """``DNLSSearch``: k ≤ 0 is the whole window, metric 0 L2 / 1 inner product, channels ≤ 0 all."""

    _fields_ = [
        ("geometry", Geometry),
        ("window_size", c_int32),
        ("window_stride", c_int32),
        ("temporal_radius", c_int32),
        ("k", c_int32),
        ("metric", c_int32),
        ("channels", c_int32),
    ]


class Queries(Structure):
    """``DNLSQueries``: kind 0 a grid batch, kind 1 explicit positions."""

    _fields_ = [
        ("kind", c_int32),
        ("t0", c_int32),
        ("t1", c_int32),
        ("top", c_int32),
        ("bottom", c_int32),
        ("left", c_int32),
        ("right", c_int32),
        ("stride", c_int32),
        ("full_patches", c_int32),
        ("start", c_int64),
        ("count", c_int64),
        ("positions", POINTER(Tensor)),
    ]


class Call(Structure):
    """``DNLSCall``: per-call settings (stream, workspace, checking, ...) and results."""

    _fields_ = [
        ("stream", c_uint64),
        ("workspace", c_void_p),
        ("workspace_bytes", c_uint64),
        ("checking", c_int32),
        ("implementation", c_int32),
        ("plan_only", c_int32),
        ("reserved", c_int32),
        ("workspace_needed", c_uint64),
        ("message", POINTER(c_char)),
        ("message_capacity", c_uint64),
    ]


# Argument types of every function (all return int32). Structs are passed by address (an int, or
# ``byref`` for the shape queries), which keeps a call cheap: the descriptors of a call are packed
# into a per-thread buffer (see :func:`descriptors`) instead of being built as ctypes objects.
_P = c_void_p
_PROTOTYPES = {
    "dnls_abi_version": (),
    "dnls_library_version": (c_char_p, c_uint64),
    "dnls_query_count": (_P, _P, c_int64, c_int64, c_int64, _P, _P),
    "dnls_search_slots": (_P, c_int64, c_int64, c_int64, _P, _P),
    "dnls_search_forward": (_P, _P, _P, _P, _P, _P, _P, _P, _P),
    "dnls_search_backward": (_P, _P, _P, _P, _P, _P, _P, _P, _P),
    "dnls_scatter_forward": (_P, _P, _P, _P, _P),
    "dnls_scatter_backward": (_P, _P, _P, _P, _P),
    "dnls_gather_forward": (_P, _P, _P, _P, _P, _P, c_int32, _P),
    "dnls_gather_backward": (_P, _P, _P, _P, _P, _P, _P, _P, _P),
    "dnls_wpsum_forward": (_P, _P, _P, _P, _P, _P),
    "dnls_wpsum_backward": (_P, _P, _P, _P, _P, _P, _P, _P),
    "dnls_unfold_forward": (_P, _P, _P, _P, _P),
    "dnls_unfold_backward": (_P, _P, _P, _P, _P),
    "dnls_fold_forward": (_P, _P, _P, _P, c_int32, _P),
    "dnls_fold_backward": (_P, _P, _P, _P, _P),
    "dnls_synchronize": (Device, c_uint64, _P),
}


# ----------------------------------------------------------------------------------------------
# Loading


class LibraryNotFoundError(RuntimeError):
    """The shared library could not be found or loaded, or its ABI version differs."""


def candidate_paths() -> list[Path]:
    """The paths tried, in order, when loading the library."""
    paths = []
    env = os.environ.get("DNLS_LIBRARY")
    if env:
        paths.append(Path(env))
    here = Path(__file__).resolve().parent
    paths.append(here / "lib" / "libDNLSC.so")
    paths.append(here.parent.parent / ".build" / "release" / "libDNLSC.so")
    return paths


class _Library:
    """The loaded library: its functions with their prototypes set."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.dll = ctypes.CDLL(str(path))
        except OSError as error:
            raise LibraryNotFoundError(f"cannot load the DNLS library {path}: {error}") from None
        for name, argtypes in _PROTOTYPES.items():
            try:
                function = getattr(self.dll, name)
            except AttributeError:
                raise LibraryNotFoundError(f"the DNLS library {path} has no function {name}") from None
            function.argtypes = argtypes
            function.restype = c_int32
            setattr(self, name[len("dnls_"):], function)
        abi = self.abi_version()
        if abi != ABI_VERSION:
            raise LibraryNotFoundError(
                f"the DNLS library {path} has ABI version {abi}; this package needs version {ABI_VERSION}")
        buffer = ctypes.create_string_buffer(64)
        self.library_version(buffer, len(buffer))
        self.version = buffer.value.decode("utf-8", "replace")


_library: Optional[_Library] = None
_load_lock = threading.Lock()


def library() -> _Library:
    """The loaded library (loaded, and its ABI version checked, on the first call)."""
    global _library
    if _library is not None:
        return _library
    with _load_lock:
        if _library is None:
            paths = candidate_paths()
            env = os.environ.get("DNLS_LIBRARY")
            if env:
                # An explicit choice is never silently replaced by another copy.
                if not Path(env).is_file():
                    raise LibraryNotFoundError(f"DNLS_LIBRARY names {env}, which is not a file")
                _library = _Library(Path(env))
            else:
                for path in paths:
                    if path.is_file():
                        _library = _Library(path)
                        break
                else:
                    tried = ", ".join(str(p) for p in paths)
                    raise LibraryNotFoundError(
                        f"the DNLS library libDNLSC.so was not found (tried {tried}); set DNLS_LIBRARY to its path")
    return _library


def is_available() -> bool:
    """True when the library can be loaded (without raising)."""
    try:
        library()
        return True
    except LibraryNotFoundError:
        return False


def version() -> str:
    """The library's version string, for example ``"0.6.0"``."""
    return library().version


# ----------------------------------------------------------------------------------------------
# Tensor descriptors

_DTYPES = {
    torch.float32: (2, 32),
    torch.float64: (2, 64),
    torch.float16: (2, 16),
    torch.bfloat16: (4, 16),
    torch.int32: (0, 32),
    torch.int64: (0, 64),
    torch.int16: (0, 16),
    torch.int8: (0, 8),
    torch.uint8: (1, 8),
    torch.bool: (6, 8),
    torch.complex64: (5, 64),
    torch.complex128: (5, 128),
}


_SHAPE_ARRAYS = [c_int64 * n for n in range(65)]


def describe(tensor: torch.Tensor, name: str) -> Tensor:
    """A descriptor of ``tensor``'s memory as a ctypes struct (no copy): its address, device,
    dtype, shape and (for a non-contiguous tensor) strides. ``tensor`` must outlive the
    descriptor's use. The operators use the faster :func:`descriptors`; this form is for callers
    that keep a descriptor."""
    device_type, device_id = _device_of(tensor, name)
    code, bits = _dtype_of(tensor, name)
    ndim = tensor.dim()
    if ndim > 64:
        raise ValueError(f"{name}: at most 64 dimensions are supported, got {ndim}")
    array = _SHAPE_ARRAYS[ndim]
    strides = None if tensor.is_contiguous() else array(*tensor.stride())
    # Assigning the arrays keeps them alive with the descriptor (ctypes' _objects).
    return Tensor(tensor.data_ptr(), device_type, device_id, ndim, code, bits, 1, array(*tensor.shape), strides, 0)


def _device_of(tensor: torch.Tensor, name: str) -> tuple:
    kind = tensor.device.type
    if kind == "cpu":
        return DEVICE_CPU, 0
    if kind == "cuda":
        return DEVICE_CUDA, tensor.get_device()
    raise ValueError(f"{name}: tensors on {kind} are not supported (only cpu and cuda)")


def _dtype_of(tensor: torch.Tensor, name: str) -> tuple:
    try:
        return _DTYPES[tensor.dtype]
    except KeyError:
        raise ValueError(f"{name}: dtype {tensor.dtype} is not supported") from None


def geometry(patch_size: int, dilation: int, anchor: int, border: int) -> Geometry:
    return Geometry(patch_size, dilation, anchor, border)


def grid_queries(grid) -> Queries:
    """Grid queries from the ten integers ``(t0, t1, top, bottom, left, right, stride,
    full_patches, start, count)`` (count < 0: to the end of the grid)."""
    t0, t1, top, bottom, left, right, stride, full, start, count = (int(v) for v in grid)
    return Queries(0, t0, t1, top, bottom, left, right, stride, full, start, count, None)


# ----------------------------------------------------------------------------------------------
# The per-thread call frame
#
# One ctypes buffer per thread holds everything a call passes by address: the DNLSCall, its
# message buffer, a DNLSQueries of explicit positions, and MAX_TENSORS tensor descriptors plus one
# for the positions, each followed by its shape and strides arrays. Filling it is one
# struct.pack_into per tensor (about a microsecond) where building ctypes objects took several;
# the library reads the buffer only during the call, so the next call can reuse it.

MAX_TENSORS = 10
MAX_DIMENSIONS = 8
_CALL_FORMAT = struct.Struct("<QQQiiiiQQQB")  # DNLSCall, then the message's first byte
_QUERIES_FORMAT = struct.Struct("<9i4xqqQ")   # DNLSQueries
_WORKSPACE_NEEDED = 40                        # offset of DNLSCall.workspace_needed
_MESSAGE = 64
_QUERIES = _MESSAGE + MESSAGE_CAPACITY
_SLOTS = _QUERIES + 64
_SLOT_BYTES = 48 + 16 * MAX_DIMENSIONS       # descriptor, shape, strides
_SHAPE, _STRIDES = 48, 48 + 8 * MAX_DIMENSIONS
# (ndim = 0, code, bits, lanes = 1) as one word, by dtype: a descriptor ORs its rank in.
_KIND_WORDS = {dtype: code << 32 | bits << 40 | 1 << 48 for dtype, (code, bits) in _DTYPES.items()}


class _Frame(threading.local):
    def __init__(self):
        self.memory = ctypes.create_string_buffer(_SLOTS + (MAX_TENSORS + 1) * _SLOT_BYTES)
        self.base = ctypes.addressof(self.memory)
        # Packed through a memoryview, which takes less time to lend its bytes than the ctypes array.
        self.buffer = memoryview(self.memory).cast("B")
        self.call = self.base
        self.message = self.base + _MESSAGE
        self.queries = self.base + _QUERIES

    def message_text(self) -> str:
        return ctypes.string_at(self.message).decode("utf-8", "replace")

    def workspace_needed(self) -> int:
        return struct.unpack_from("<Q", self.buffer, _WORKSPACE_NEEDED)[0]


_frame = _Frame()

_DEVICE_CODES = {"cpu": DEVICE_CPU, "cuda": DEVICE_CUDA}


def descriptors(names: str, *tensors: Optional[torch.Tensor]) -> list:
    """Descriptors of ``tensors`` (no copy) in this thread's call frame, as addresses to pass to
    a library function (``None``, a NULL pointer, for a missing tensor). ``names`` are the
    tensors' argument names, separated by spaces, for error messages. The tensors must stay alive,
    and the frame unused by another call, until the library function returns.

    Every descriptor of the call is written by one ``pack_into`` of a format made once per
    layout (the ranks, and which tensors are strided): a format per tensor cost a microsecond
    a tensor, a fifth of an operator's Python time."""
    return _pack_slots(names, tensors, 0)


def _pack_slots(names: str, tensors, first: int) -> list:
    """Writes the descriptors of ``tensors`` into the frame's slots from slot ``first`` on; their
    addresses (``None`` for a missing tensor)."""
    frame = _frame
    address = frame.base + _SLOTS + first * _SLOT_BYTES
    addresses, items, layout = [], [], []
    for slot, tensor in enumerate(tensors):
        if tensor is None:
            addresses.append(None)
            layout.append(-1)
        else:
            shape = tensor.shape
            ndim = len(shape)
            kind = _KIND_WORDS.get(tensor.dtype)
            if tensor.is_cuda:
                device = DEVICE_CUDA | tensor.get_device() << 32
            else:
                device = DEVICE_CPU if tensor.is_cpu else None
            if kind is None or device is None or ndim > MAX_DIMENSIONS:
                _refuse(tensor, names, slot)
            if tensor.is_contiguous():
                items += (tensor.data_ptr(), device, kind | ndim, address + _SHAPE, 0, 0, *shape)
                layout.append(ndim)
            else:
                items += (tensor.data_ptr(), device, kind | ndim, address + _SHAPE, address + _STRIDES, 0, *shape,
                          *tensor.stride())
                layout.append(ndim | _STRIDED)
            addresses.append(address)
        address += _SLOT_BYTES
    layout = tuple(layout)
    packer = _LAYOUTS.get(layout)
    if packer is None:
        packer = _LAYOUTS[layout] = _layout_packer(layout)
    packer.pack_into(frame.buffer, _SLOTS + first * _SLOT_BYTES, *items)
    return addresses


_STRIDED = 16  # in a layout code: the rank, plus this when the tensor has strides
_LAYOUTS: dict = {}


def _layout_packer(layout: tuple) -> struct.Struct:
    """The format of consecutive slots of ``layout`` (a code per tensor: -1 for none, else its
    rank, plus ``_STRIDED`` with strides): descriptor and shape, strides at their offset, the rest
    of each slot zero."""
    parts = ["<"]
    for code in layout:
        if code < 0:
            parts.append(f"{_SLOT_BYTES}x")
            continue
        ndim = code & (_STRIDED - 1)
        parts.append(f"6Q{ndim}q")
        if code & _STRIDED:
            parts.append(f"{_STRIDES - _SHAPE - 8 * ndim}x{ndim}q{_SLOT_BYTES - _STRIDES - 8 * ndim}x")
        else:
            parts.append(f"{_SLOT_BYTES - _SHAPE - 8 * ndim}x")
    return struct.Struct("".join(parts))


def _refuse(tensor: torch.Tensor, names: str, slot: int) -> None:
    """Raises the ValueError for a tensor the library cannot take (its rank, device or dtype)."""
    split = names.split()
    name = split[min(slot, len(split) - 1)]
    if tensor.dim() > MAX_DIMENSIONS:
        raise ValueError(f"{name}: at most {MAX_DIMENSIONS} dimensions are supported, got {tensor.dim()}")
    _device_of(tensor, name)
    _dtype_of(tensor, name)
    raise ValueError(f"{name}: unsupported tensor")  # not reached: one of the checks above raises


def position_queries(positions: torch.Tensor) -> int:
    """Explicit query positions (an int32 ``(B, Q, 3)`` or ``(Q, 3)`` tensor) as a DNLSQueries in
    this thread's call frame, with the tensor's descriptor in the frame's slot kept for it (so it
    can be combined with :func:`descriptors`); returns the address."""
    frame = _frame
    (address,) = _pack_slots("queries", (positions,), MAX_TENSORS)
    _QUERIES_FORMAT.pack_into(frame.buffer, _QUERIES, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, -1, address)
    return frame.queries


# ----------------------------------------------------------------------------------------------
# Checking mode and CPU implementation

_checking: contextvars.ContextVar[str] = contextvars.ContextVar("dnls_checking", default="eager")
_implementation: contextvars.ContextVar[int] = contextvars.ContextVar("dnls_cpu_implementation", default=0)
_IMPLEMENTATIONS = {"automatic": 0, "reference": 1, "fast": 2}


@contextlib.contextmanager
def checking(mode: str) -> Iterator[None]:
    """Within the block, GPU index and weight checks are ``"eager"`` (reported before a call
    returns, the host waits for a few bytes; the default) or ``"deferred"`` (never waits; the first
    failure is reported by :func:`synchronize`). Calls made while the current CUDA stream captures
    a graph are always deferred."""
    if mode not in ("eager", "deferred"):
        raise ValueError(f"checking: mode must be 'eager' or 'deferred', not {mode!r}")
    token = _checking.set(mode)
    try:
        yield
    finally:
        _checking.reset(token)


def checking_mode() -> str:
    """The checking mode of the current context (``"eager"`` or ``"deferred"``)."""
    return _checking.get()


@contextlib.contextmanager
def cpu_implementation(name: str) -> Iterator[None]:
    """Within the block, CPU calls use the ``"automatic"`` (fast for float32, reference for
    float64), ``"reference"`` or ``"fast"`` backend."""
    if name not in _IMPLEMENTATIONS:
        raise ValueError(f"cpu_implementation: name must be one of {sorted(_IMPLEMENTATIONS)}, not {name!r}")
    token = _implementation.set(_IMPLEMENTATIONS[name])
    try:
        yield
    finally:
        _implementation.reset(token)


# ----------------------------------------------------------------------------------------------
# Calls


_plans: dict = {}
"""Workspace bytes per distinct CUDA call: (function, shapes, parameters, device) → bytes."""


# The library's argument names, as the Python API spells them.
_NAMES = {
    "patchSize": "patch_size",
    "window.size": "window_size",
    "window.stride": "window_stride",
    "window.temporalRadius": "temporal_radius",
    "flows.forward": "forward_flow",
    "flows.backward": "backward_flow",
    "grid.region": "region",
    "grid.batch": "grid (start, count)",
    "videoShape": "video_shape",
    "videoGradient": "video_gradient",
    "patchGradient": "patch_gradient",
    "weightSum": "weight_sum",
    "weightGradient": "weight_gradient",
    "weightSumGradient": "weight_sum_gradient",
    "outputGradient": "output_gradient",
    "distanceGradient": "distance_gradient",
    "result.distances": "distances",
    "result.indices": "indices",
    "gradients.video": "video_gradient",
    "gradients.keys": "keys_gradient",
}
_NAME_PATTERN = re.compile(r"`([A-Za-z_.]+)`")


def _pythonic(message: str) -> str:
    """The library's message with its argument names spelled as the Python API's."""
    message = _NAME_PATTERN.sub(lambda m: f"`{_NAMES.get(m.group(1), m.group(1))}`", message)
    return message.replace("patchSize", "patch_size").replace(" or nil", " or None")


_OUT_OF_MEMORY = getattr(torch, "OutOfMemoryError", None) or torch.cuda.OutOfMemoryError


def _error(status: int, message: str, where: str) -> Exception:
    text = _pythonic(message) if message else _STATUS_NAMES.get(status, "unknown error")
    text = f"{where}: {text}" if where else text
    if status in _CALLER_ERRORS:
        return ValueError(text)
    if status == OUT_OF_MEMORY:
        return _OUT_OF_MEMORY(text)
    return RuntimeError(f"{text} (status {status}: {_STATUS_NAMES.get(status, 'unknown')})")


def _prepare_call(frame: _Frame, stream: int = 0, workspace: int = 0, workspace_bytes: int = 0,
                  checking: int = 0, plan_only: int = 0) -> int:
    """Writes the DNLSCall of the next call (and an empty message) into ``frame``; its address."""
    _CALL_FORMAT.pack_into(frame.buffer, 0, stream, workspace, workspace_bytes, checking, _implementation.get(),
                           plan_only, 0, 0, frame.message, MESSAGE_CAPACITY, 0)
    return frame.call


def _raise_for(status: int, where: str) -> None:
    raise _error(status, _frame.message_text(), where)


def host_call(function, *args, where: str = "") -> None:
    """Calls a function that touches no device memory (shape queries)."""
    status = function(*args, _prepare_call(_frame))
    if status:
        _raise_for(status, where)


if hasattr(torch._C, "_cuda_getCurrentRawStream"):
    _raw_stream = torch._C._cuda_getCurrentRawStream
else:  # pragma: no cover - older or newer torch without the raw accessor
    def _raw_stream(index: int) -> int:
        return torch.cuda.current_stream(index).cuda_stream

_is_capturing = getattr(torch._C, "_cuda_isCurrentStreamCapturing", None) or torch.cuda.is_current_stream_capturing


def run(function, tensor: torch.Tensor, key, where: str, *args):
    """Calls ``function(*args, call)`` for tensors on the device of ``tensor``.

    On CUDA: the caller's current stream, eager or deferred checking, and a workspace sized by a
    ``plan_only`` call made once per distinct ``key`` (which must capture every shape, dtype and
    parameter of the call; the device and checking mode are added here) and allocated from
    torch's caching allocator. The workspace is used in the stream's order, so dropping the
    tensor right after the call is safe.

    A plan of zero bytes still passes a workspace, of zero bytes at a placeholder address
    (never read or written): with a workspace the library allocates nothing of its own (a NULL workspace
    would let it allocate from its own pool), so a call never allocates device memory outside
    torch's allocator, which CUDA-graph capture needs. A workspace found too small (a stale plan)
    is planned again once.
    """
    frame = _frame
    if not tensor.is_cuda:
        status = function(*args, _prepare_call(frame))
        if status:
            _raise_for(status, where)
        return None
    index = tensor.get_device()
    stream = _raw_stream(index)
    checking = 1 if _checking.get() == "deferred" or _is_capturing() else 0
    plan_key = (key, index, checking)
    for attempt in (0, 1):
        needed = _plans.get(plan_key)
        if needed is None:
            status = function(*args, _prepare_call(frame, stream, checking=checking, plan_only=1))
            if status:
                _raise_for(status, where)
            needed = frame.workspace_needed()
            _plans[plan_key] = needed
        if needed:
            workspace = torch.empty(needed, dtype=torch.uint8, device=tensor.device)
            address = workspace.data_ptr()
        else:
            workspace, address = None, _ZERO_BYTE_WORKSPACE
        status = function(*args, _prepare_call(frame, stream, address, needed, checking))
        if status == WORKSPACE_TOO_SMALL and attempt == 0:
            _plans.pop(plan_key, None)
            continue
        if status:
            _raise_for(status, where)
        return workspace
    return None


# A zero-byte workspace is named by any non-NULL 256-aligned address: the library never reads or
# writes it. No memory is held for it, so nothing stays alive in a CUDA graph's private pool
# (torch.compile's cudagraph trees refuse untracked live allocations there).
_ZERO_BYTE_WORKSPACE = 256


def clear_plans() -> None:
    """Forgets the cached workspace plans."""
    _plans.clear()


def synchronize(device=None) -> None:
    """Waits for the current stream of ``device`` and raises the first input failure recorded by
    deferred-checking calls on it since the last report (``None``: the current CUDA device when
    CUDA is available, else the CPU, where nothing is ever deferred)."""
    if device is None:
        device = torch.device("cuda", torch.cuda.current_device()) if torch.cuda.is_available() else torch.device("cpu")
    device = torch.device(device)
    lib = library()
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        stream = torch.cuda.current_stream(index).cuda_stream
        dev = Device(DEVICE_CUDA, index)
    elif device.type == "cpu":
        stream = 0
        dev = Device(DEVICE_CPU, 0)
    else:
        raise ValueError(f"synchronize: device must be cpu or cuda, not {device}")
    status = lib.synchronize(dev, stream, _prepare_call(_frame, stream))
    if status:
        _raise_for(status, "dnls.synchronize")
