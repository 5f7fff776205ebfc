#!/usr/bin/env python3
"""Writes the seed corpora: small valid (and a few edge-case) .npy files, PNGs and JPEGs.

Needs numpy and Pillow (pip install numpy pillow). The files are committed, so run.sh needs
neither; run this again only to change the seeds.
"""
import io
import os
import struct
import zlib

import numpy as np
from numpy.lib import format as npformat
from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))
npy_dir = os.path.join(here, "corpus", "FuzzNPY")
image_dir = os.path.join(here, "corpus", "FuzzImage")
os.makedirs(npy_dir, exist_ok=True)
os.makedirs(image_dir, exist_ok=True)


def save_npy(name, array, version=None):
    buffer = io.BytesIO()
    npformat.write_array(buffer, array, version=version)
    with open(os.path.join(npy_dir, name), "wb") as f:
        f.write(buffer.getvalue())


def raw_npy(name, header, data=b"", version=1):
    text = header.encode("latin1" if version < 3 else "utf8")
    length = struct.pack("<H" if version == 1 else "<I", len(text))
    with open(os.path.join(npy_dir, name), "wb") as f:
        f.write(b"\x93NUMPY" + bytes([version, 0]) + length + text + data)


save_npy("f4_matrix.npy", np.array([[0.5, -1.25, 3.0], [1e-3, -0.0, 65504.0]], dtype="<f4"))
save_npy("f8_cube.npy", np.arange(8, dtype="<f8").reshape(2, 2, 2) * 0.1)
save_npy("i4_vector.npy", np.array([-2**31, -1, 0, 7, 2**31 - 1], dtype="<i4"))
save_npy("i8_matrix.npy", np.array([[1, -2, 3], [2**40, 5, 6]], dtype="<i8"))
save_npy("f8_scalar.npy", np.float64(3.5))
save_npy("f4_empty.npy", np.zeros((0, 3), dtype="<f4"))
save_npy("f4_v2.npy", np.array([[1.5, 2.5]], dtype="<f4"), version=(2, 0))
save_npy("f8_v3.npy", np.array([-1.0, 0.25], dtype="<f8"), version=(3, 0))
save_npy("f4_fortran.npy", np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)))
save_npy("f4_bigendian.npy", np.array([1.0, 2.0], dtype=">f4"))
save_npy("u1_vector.npy", np.array([1, 2, 3], dtype="u1"))
save_npy("f4_5d.npy", np.ones((1, 2, 1, 2, 1), dtype="<f4"))
data3 = np.array([1, 2, 3], dtype="<f4").tobytes()
raw_npy("py2_long.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (3L,)}\n", data3)
raw_npy("escapes.npy", "{\"descr\": '\\x3cf4', 'fortran_order': False,\r\n 'shape': (+3,), }  \n", data3)
raw_npy("structured.npy", "{'descr': [('x', '<f4'), ('y', '<i4')], 'fortran_order': False, 'shape': (1,)}\n", b"\0" * 8)
raw_npy("nested.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': ((((3,)),),), 'x': [None, {1: (2,)}]}\n", data3)


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def raw_png(name, width, height, depth, color, rows, extra=b"", interlace=0):
    raw = b"".join(b"\0" + row for row in rows)
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, interlace)
    with open(os.path.join(image_dir, name), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + chunk(b"IDAT", zlib.compress(raw, 9))
                + chunk(b"IEND", b""))


gradient = np.add.outer(np.arange(12) * 9, np.arange(16) * 7).astype(np.uint8)
rgb = np.stack([gradient, 255 - gradient, gradient // 2], axis=-1)


def save_image(name, image, **options):
    image.save(os.path.join(image_dir, name), **options)


save_image("gray.png", Image.fromarray(gradient, "L"))
save_image("rgb.png", Image.fromarray(rgb, "RGB"))
save_image("rgba.png", Image.fromarray(np.dstack([rgb, gradient]), "RGBA"))
save_image("gray_alpha.png", Image.fromarray(np.dstack([gradient, gradient]), "LA"))
save_image("palette.png", Image.fromarray(rgb, "RGB").quantize(16), transparency=3)
save_image("one_bit.png", Image.fromarray(gradient > 100).convert("1"))
raw_png("gray16.png", 2, 1, 16, 0, [bytes([0x12, 0x34, 0xAB, 0xCD])])
raw_png("gray4.png", 4, 2, 4, 0, [bytes([0x12, 0x34]), bytes([0xAB, 0xCD])])
raw_png("gray2_gamma.png", 4, 1, 2, 0, [bytes([0b00011011])], chunk(b"gAMA", struct.pack(">I", 100000)))
raw_png("rgb_chunks.png", 2, 1, 8, 2, [bytes([64, 128, 200, 1, 2, 3])],
        chunk(b"gAMA", struct.pack(">I", 45455)) + chunk(b"sRGB", b"\0") + chunk(b"sBIT", b"\x05\x06\x05")
        + chunk(b"tEXt", b"Title\0seed") + chunk(b"zTXt", b"Note\0\0" + zlib.compress(b"hello" * 20)))


def adam7(pixels):
    height, width = pixels.shape[:2]
    out = b""
    for x0, y0, dx, dy in [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]:
        if x0 >= width or y0 >= height:
            continue
        for y in range(y0, height, dy):
            out += b"\0" + pixels[y, x0::dx].tobytes()
    return out


ihdr = struct.pack(">IIBBBBB", 16, 12, 8, 2, 0, 0, 1)
with open(os.path.join(image_dir, "interlaced.png"), "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(adam7(rgb), 9))
            + chunk(b"IEND", b""))

save_image("rgb.jpg", Image.fromarray(rgb, "RGB"), quality=80)
save_image("gray.jpg", Image.fromarray(gradient, "L"), quality=80)
save_image("progressive.jpg", Image.fromarray(rgb, "RGB"), quality=70, progressive=True)
save_image("subsampled_optimized.jpg", Image.fromarray(rgb, "RGB"), quality=60, subsampling=2, optimize=True)
save_image("restart.jpg", Image.fromarray(rgb, "RGB"), quality=75, restart_marker_blocks=1)
save_image("cmyk.jpg", Image.fromarray(np.dstack([rgb, gradient]), "CMYK"), quality=75)
