#!/usr/bin/env python3
"""Compares DNLS's .npy reader with np.load on many hand-made and mutated headers.

    python3 numpy_differential.py [count] [seed]

Needs numpy, and the NPYVerdict tool built first:

    swift build --scratch-path .build-verdict --product NPYVerdict

Prints every disagreement: a file DNLS reads but NumPy refuses (the bug this hunts), or one they
read differently. Files NumPy reads but DNLS refuses are counted and listed by DNLS's reason: DNLS
is stricter on purpose there (a header must end with a newline, repeated keys, dtypes it does not
read, data after the array, literals no writer makes).
"""
import collections
import io
import os
import random
import struct
import subprocess
import sys
import tempfile
import warnings

import numpy as np
from numpy.lib import _format_impl as npformat

here = os.path.dirname(os.path.abspath(__file__))
verdict_tool = os.path.join(here, ".build-verdict", "debug", "NPYVerdict")

base_headers = [
    "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
    "{'descr': '<i8', 'fortran_order': False, 'shape': (1, 3), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (), }",
    "{\"descr\": \"<i4\", \"fortran_order\": False, \"shape\": (3, 1)}",
    "{'shape': (3,), 'descr': '|f4', 'fortran_order': False}",
]
fragments = ["'", '"', "(", ")", ",", ":", "{", "}", "[", "]", " ", "\t", "\n", "\r", "\x0c", "\x0b", "\\", "L", "l",
             "0", "3", "-", "+", "_", "True", "False", "None", "#", "\x00", "\xa0", "é", "'descr'", "'shape'",
             "'fortran_order'", "'<f4'", "0x3", "03", "3.0", "1e2", "u'", "b'", "\\x3c", "\\n", "\\\n", "\\u003c",
             "\\74", "'''", "3L", "(3,)", "()", "(3)", "((3,),)", "99999999999999999999", "-0", "00", "1_0"]


def mutate(text, rng):
    for _ in range(rng.choice([0, 1, 1, 1, 2, 3])):
        choice = rng.random()
        position = rng.randint(0, len(text))
        if choice < 0.4:
            text = text[:position] + rng.choice(fragments) + text[position:]
        elif choice < 0.7 and text:
            end = min(len(text), position + rng.randint(1, 4))
            text = text[:position] + text[end:]
        else:
            end = min(len(text), position + rng.randint(1, 4))
            text = text[:position] + rng.choice(fragments) + text[end:]
    return text


def npy_bytes(header, version, data):
    encoded = header.encode("latin1" if version < 3 else "utf8", errors="replace")
    length = struct.pack("<H" if version == 1 else "<I", len(encoded))
    return b"\x93NUMPY" + bytes([version, 0]) + length + encoded + data


def data_for(content, rng):
    """Mostly exactly the data NumPy expects for the header (when it parses one), so that the
    headers themselves are compared; otherwise a few bytes."""
    warnings.simplefilter("ignore")
    try:
        stream = io.BytesIO(content)
        version = npformat.read_magic(stream)
        shape, _, dtype = npformat._read_array_header(stream, version)
        size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if 0 <= size <= 4096 and rng.random() < 0.9:
            return bytes(rng.randrange(256) for _ in range(size))
    except Exception:
        pass
    return bytes(range(rng.choice([0, 4, 12, 24])))


def numpy_verdict(content):
    warnings.simplefilter("ignore")
    try:
        array = np.load(io.BytesIO(content), allow_pickle=False)
    except Exception as error:  # everything NumPy refuses
        return ("REFUSE", type(error).__name__)
    return ("ACCEPT", array.dtype.str, list(array.shape), array.tobytes())


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    cases = []
    for _ in range(count):
        header = mutate(rng.choice(base_headers), rng) + rng.choice(["\n", "\n", "  \n", "", "\n ", "\r\n"])
        version = rng.choice([1, 1, 2, 3])
        cases.append(npy_bytes(header, version, data_for(npy_bytes(header, version, b""), rng)))
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for index, content in enumerate(cases):
            path = os.path.join(folder, f"{index}.npy")
            with open(path, "wb") as f:
                f.write(content)
            paths.append(path)
        lines = subprocess.run([verdict_tool] + paths, capture_output=True, text=True, check=True).stdout.split("\n")
        readers = {}
        for path, line in zip(paths, lines):
            readers[path] = line
    problems = 0
    stricter = collections.Counter()
    agreed = collections.Counter()
    for index, content in enumerate(cases):
        path = os.path.join(folder, f"{index}.npy")
        dnls = readers[path]
        numpy_result = numpy_verdict(content)
        header = content[10:].split(b"\n")[0][:100]
        if dnls.startswith("ACCEPT"):
            if numpy_result[0] == "REFUSE":
                problems += 1
                print(f"DNLS reads what NumPy refuses ({numpy_result[1]}): {content[:140]!r}")
                continue
            _, dtype, shape = dnls.split(" ", 2)
            if dtype != numpy_result[1] or shape != str(numpy_result[2]):
                problems += 1
                print(f"read differently: DNLS {dtype} {shape}, NumPy {numpy_result[1]} {numpy_result[2]}: {content[:140]!r}")
            else:
                agreed["both read"] += 1
        elif numpy_result[0] == "ACCEPT":
            reason = dnls.split(": ", 1)[-1]
            stricter[reason.split(":")[0][:70]] += 1
            if os.environ.get("SHOW_STRICTER"):
                print(f"stricter: {reason[:150]} <- {header!r}")
        else:
            agreed["both refuse"] += 1
    print(f"{count} files: {dict(agreed)}; DNLS stricter on {sum(stricter.values())}; disagreements: {problems}")
    for reason, n in stricter.most_common(12):
        print(f"  stricter ({n}): {reason}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
