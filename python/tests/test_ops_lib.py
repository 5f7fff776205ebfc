"""The library bridge: loading, ABI version, struct layouts, status mapping, checking mode, and
the QueryGrid value type."""

import ctypes
import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from dnls import _lib, ops


def test_abi_and_library_version():
    lib = _lib.library()
    assert lib.abi_version() == _lib.ABI_VERSION == 1
    assert _lib.version() and _lib.version()[0].isdigit()
    assert _lib.is_available()


def test_struct_layouts_match_the_header():
    # Sizes and offsets of the C structs on a 64-bit platform (dnls_types.h).
    assert ctypes.sizeof(_lib.Device) == 8
    assert ctypes.sizeof(_lib.DataType) == 4
    assert ctypes.sizeof(_lib.Tensor) == 48
    assert _lib.Tensor.shape.offset == 24 and _lib.Tensor.byte_offset.offset == 40
    assert ctypes.sizeof(_lib.Geometry) == 16
    assert ctypes.sizeof(_lib.Search) == 40
    assert _lib.Queries.start.offset == 40 and _lib.Queries.positions.offset == 56
    assert ctypes.sizeof(_lib.Queries) == 64
    assert _lib.Call.workspace_needed.offset == 40 and _lib.Call.message.offset == 48
    assert ctypes.sizeof(_lib.Call) == 64


def test_descriptor_is_zero_copy():
    x = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4)[:, 1:, ::2]
    d = _lib.describe(x, "x")
    assert d.data == x.data_ptr()
    assert d.ndim == 3 and [d.shape[i] for i in range(3)] == [2, 2, 2]
    assert [d.strides[i] for i in range(3)] == list(x.stride())
    dense = _lib.describe(x.contiguous(), "dense")
    assert not dense.strides  # NULL: row-major
    assert (d.dtype.code, d.dtype.bits, d.dtype.lanes) == (2, 32, 1)
    assert d.device.device_type == _lib.DEVICE_CPU
    with pytest.raises(ValueError, match="x"):
        _lib.describe(torch.zeros(2, device="meta"), "x")


def test_frame_descriptors_match_the_struct_descriptors():
    """The packed descriptors of the call frame read back, through the ctypes struct, as what
    describe() builds: address, device, dtype, shape and (only for a non-contiguous tensor)
    strides; a missing tensor is NULL; each tensor has its own slot."""
    x = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4)[:, 1:, ::2]
    i = torch.zeros(5, 2, 3, dtype=torch.int32)
    addresses = _lib.descriptors("x missing i", x, None, i)
    assert addresses[1] is None and len(set(addresses)) == 3
    for tensor, address in ((x, addresses[0]), (i, addresses[2])):
        packed, built = _lib.Tensor.from_address(address), _lib.describe(tensor, "t")
        assert packed.data == built.data == tensor.data_ptr()
        assert (packed.device_type, packed.device_id, packed.ndim) == (built.device_type, built.device_id, built.ndim)
        assert (packed.code, packed.bits, packed.lanes) == (built.code, built.bits, built.lanes)
        assert [packed.shape[k] for k in range(packed.ndim)] == list(tensor.shape)
        assert bool(packed.strides) == (not tensor.is_contiguous())
        if packed.strides:
            assert [packed.strides[k] for k in range(packed.ndim)] == list(tensor.stride())
        assert packed.byte_offset == 0
    with pytest.raises(ValueError, match="^i: dtype torch.float8_e5m2"):
        _lib.descriptors("x i", x, torch.zeros(2, dtype=torch.float8_e5m2))
    with pytest.raises(ValueError, match="^big: at most 8 dimensions"):
        _lib.descriptors("x big", x, torch.zeros([1] * 9))
    with pytest.raises(ValueError, match="^m: tensors on meta"):
        _lib.descriptors("m", torch.zeros(2, device="meta"))


def test_descriptors_of_every_rank_and_layout_in_turn():
    """Calls of different layouts reuse the frame's slots: each reads back as its own tensors
    (a slot that held strides before holds none after a contiguous tensor), at every rank."""
    g = torch.Generator().manual_seed(5)
    for trial in range(40):
        tensors = []
        for _ in range(int(torch.randint(1, _lib.MAX_TENSORS + 1, (1,), generator=g))):
            rank = int(torch.randint(0, _lib.MAX_DIMENSIONS + 1, (1,), generator=g))
            kind = int(torch.randint(0, 3, (1,), generator=g))
            if kind == 0:
                tensors.append(None)
                continue
            t = torch.zeros([2] * rank, dtype=torch.float32 if kind == 1 else torch.int32)
            if rank >= 2 and torch.rand(1, generator=g) < 0.5:
                t = t.transpose(0, rank - 1)
            tensors.append(t)
        addresses = _lib.descriptors(" ".join(["t"] * len(tensors)), *tensors)
        for tensor, address in zip(tensors, addresses):
            if tensor is None:
                assert address is None
                continue
            packed = _lib.Tensor.from_address(address)
            assert packed.data == tensor.data_ptr() and packed.ndim == tensor.dim()
            assert (packed.code, packed.bits) == ((2, 32) if tensor.dtype == torch.float32 else (0, 32))
            assert [packed.shape[k] for k in range(packed.ndim)] == list(tensor.shape)
            assert bool(packed.strides) == (not tensor.is_contiguous()), trial
            if packed.strides:
                assert [packed.strides[k] for k in range(packed.ndim)] == list(tensor.stride())
            assert packed.byte_offset == 0


def test_position_queries_point_at_their_own_descriptor():
    positions = torch.zeros(7, 3, dtype=torch.int32)
    others = _lib.descriptors(" ".join(["t"] * _lib.MAX_TENSORS), *[torch.zeros(1)] * _lib.MAX_TENSORS)
    queries = _lib.Queries.from_address(_lib.position_queries(positions))
    assert (queries.kind, queries.count) == (1, -1)
    described = ctypes.addressof(queries.positions.contents)
    assert described not in others
    assert queries.positions.contents.data == positions.data_ptr()
    assert [queries.positions.contents.shape[k] for k in range(2)] == [7, 3]


@pytest.mark.parametrize("status,kind", [(1, ValueError), (2, ValueError), (3, ValueError), (4, ValueError),
                                         (5, ValueError), (10, ValueError), (6, RuntimeError),
                                         (7, torch.OutOfMemoryError), (8, RuntimeError), (9, RuntimeError)])
def test_status_mapping(status, kind):
    error = _lib._error(status, "`patchSize` and `window.size` or nil", "dnls.x")
    assert type(error) is kind or (kind is RuntimeError and isinstance(error, RuntimeError))
    text = str(error)
    assert text.startswith("dnls.x: ")
    assert "`patch_size`" in text and "`window_size`" in text and "or None" in text


def test_library_search_order(tmp_path, monkeypatch):
    monkeypatch.setenv("DNLS_LIBRARY", str(tmp_path / "missing.so"))
    paths = _lib.candidate_paths()
    assert paths[0] == tmp_path / "missing.so"
    package = Path(_lib.__file__).resolve().parent
    assert paths[1] == package / "lib" / "libDNLSC.so"
    assert paths[2] == package.parent.parent / ".build" / "release" / "libDNLSC.so"


def test_missing_library_is_a_clear_error(tmp_path):
    code = ("import dnls._lib as l\n"
            "try:\n    l.library()\nexcept l.LibraryNotFoundError as e:\n    print('ERR', e)\n")
    env = dict(os.environ, DNLS_LIBRARY=str(tmp_path / "missing.so"))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert "ERR" in out and "missing.so" in out


def test_wrong_abi_version_is_refused(monkeypatch):
    original = _lib.ABI_VERSION
    monkeypatch.setattr(_lib, "ABI_VERSION", original + 1)
    with pytest.raises(_lib.LibraryNotFoundError, match="ABI version"):
        _lib._Library(_lib.library().path)


def test_checking_mode():
    assert _lib.checking_mode() == "eager"
    with ops.checking("deferred"):
        assert _lib.checking_mode() == "deferred"
        video = torch.randn(1, 1, 5, 5)
        ops.search(video, None, patch_size=3, window_size=3, k=2)  # deferred changes nothing on the CPU
        with ops.checking("eager"):
            assert _lib.checking_mode() == "eager"
    assert _lib.checking_mode() == "eager"
    with pytest.raises(ValueError, match="mode"):
        with ops.checking("later"):
            pass
    ops.synchronize("cpu")
    ops.synchronize()


def test_cpu_implementation_context():
    with _lib.cpu_implementation("reference"):
        assert _lib._implementation.get() == 1
    with pytest.raises(ValueError):
        with _lib.cpu_implementation("gpu"):
            pass
    # The fast backend computes in float32 only.
    with _lib.cpu_implementation("fast"), pytest.raises(RuntimeError, match="unavailable|fast"):
        ops.unfold(torch.zeros(1, 1, 4, 4, dtype=torch.float64), None, patch_size=3)


def test_query_grid_value_type():
    grid = ops.QueryGrid(region=[0, 2, 1, 7, 0, 8], stride=2)
    assert grid.region == (0, 2, 1, 7, 0, 8)
    assert hash(grid) == hash(ops.QueryGrid(region=(0, 2, 1, 7, 0, 8), stride=2))
    with pytest.raises(dataclasses.FrozenInstanceError):
        grid.stride = 3
    assert grid.size((2, 8, 8)) == 2 * 3 * 4
    assert grid.size((2, 5, 8, 8)) == grid.size((1, 2, 5, 8, 8)) == 24
    part = grid.batch(5, 10)
    assert part.start == 5 and part.count == 10 and part.stride == 2
    assert part.size((2, 8, 8)) == 10
    assert grid.batch(20).size((2, 8, 8)) == 4
    assert torch.equal(part.positions((2, 8, 8)), grid.positions((2, 8, 8))[5:15])
    full = ops.QueryGrid(full_patches=True)
    assert full.size((1, 8, 8), patch_size=3) == 36
    assert full.size((1, 8, 8), patch_size=3, dilation=2) == 16
    assert full.positions((1, 8, 8), patch_size=3)[0].tolist() == [0, 1, 1]
    assert full.positions((1, 8, 8), patch_size=3, anchor="top_left")[0].tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match="video_shape"):
        grid.size((8, 8))


def test_workspace_plans_are_cached_per_key():
    # CPU calls make no plan; the cache is a plain dict that can be cleared.
    _lib.clear_plans()
    ops.unfold(torch.zeros(1, 1, 4, 4), None, patch_size=3)
    assert _lib._plans == {}
