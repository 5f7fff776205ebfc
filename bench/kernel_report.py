#!/usr/bin/env python3
"""Compile the CUDA backend's kernel module with NVRTC on a machine without a GPU and report, per
entry point, what ptxas reports (registers, stack frame, spills) and, when nvdisasm is given, the
instruction mix of its SASS.

The module text is read from the Swift sources (`CUDAKernelSource.text` is the concatenation of the
raw strings below, in this order) and compiled as the backend compiles it, with the same options
and `-D` constants. NVRTC and nvdisasm come from PyPI:

    python3 -m pip install --target /tmp/nv nvidia-cuda-nvrtc==13.0.88 nvidia-cuda-nvdisasm
    export LD_LIBRARY_PATH=/tmp/nv/nvidia/cu13/lib
    python3 bench/kernel_report.py search_forward_box KMAX=10 WHOLE=0 BOX_TQ=8 ... \
        --nvdisasm /tmp/nv/nvidia/cu13/bin/nvdisasm

Pass the constants of a launch as NAME=VALUE (the box search's come from `BoxSearchPlan`, e.g. its
tests). Compare two versions of a kernel at no device time: resources, spills inside the hot loop,
instruction counts. With `--same-as REV` (and --nvdisasm), it also says for each kernel whether its
SASS is the same as at git revision REV, up to the numbering of labels and helper routines: a
refactor that leaves every kernel the same needs no new GPU run. Timings still need the GPU.
"""
import argparse
import collections
import ctypes
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Sources", "DNLS", "Backends", "CUDA")
# (file, raw string) in the order of CUDAKernelSource.text; the headers (parameters, then rules:
# `headers` in that text) are embedded whole.
HEADER = os.path.join("..", "..", "..", "CDNLSKernels", "include", "dnls_kernels.h")
RULES = os.path.join("..", "..", "..", "CDNLSKernels", "include", "dnls_rules.h")
HEADERS = (HEADER, RULES)
PARTS = [(HEADER, "parameters"), (RULES, "rules"), ("CUDAKernelSource.swift", "common"), ("CUDAKernelSource+Search.swift", "search"),
         ("CUDAKernelSource+Anchors.swift", "anchors"), ("CUDAKernelSource+SearchBackward.swift", "searchBackward"),
         ("CUDAKernelSource+Patches.swift", "patches"), ("CUDAKernelSource+Deposit.swift", "deposit"),
         ("CUDAKernelSource+Checks.swift", "checks"), ("CUDAKernelSource+FailureRecord.swift", "failureRecord"),
         ("CUDAKernelSource+TensorMath.swift", "tensorMath"), ("CUDAKernelSource+Denoise.swift", "denoise"),
         ("CUDAKernelSource+Flow.swift", "flow")]


def read_source(name, revision=None):
    """A file of the CUDA backend, from the working tree or from a git revision."""
    if revision is None:
        return open(os.path.join(ROOT, name)).read()
    path = os.path.relpath(os.path.join(ROOT, name), os.path.join(ROOT, "..", "..", "..", ".."))
    return subprocess.run(["git", "-C", os.path.dirname(os.path.abspath(__file__)), "show", f"{revision}:{path}"],
                          capture_output=True, text=True, check=True).stdout


def module_text(revision=None):
    text, found = "", []
    for name, var in PARTS:
        try:
            source = read_source(name, revision)
        except (OSError, subprocess.CalledProcessError):
            continue  # a family that this revision does not have yet
        if name in HEADERS:
            text += source
            found.append(var)
            continue
        match = re.search(r'static let %s = #"""\n(.*?)"""#' % var, source, re.S)
        if not match:
            sys.exit(f"no raw string `{var}` in {name}")
        text += match.group(1)
        found.append(var)
    declared = re.search(r"static var text: String \{\s*(.*?)\s*\}", read_source("CUDAKernelSource.swift", revision), re.S)
    expected = "+".join(found).replace("parameters+rules", "headers")  # a revision before the headers lacks them
    if declared and re.sub(r"\s", "", declared.group(1)) != expected:
        sys.exit("CUDAKernelSource.text is no longer " + expected.replace("+", " + ") + ": update PARTS")
    return text


def compile_module(text, constants, arch):
    nvrtc = ctypes.CDLL("libnvrtc.so.13")
    program = ctypes.c_void_p()
    if nvrtc.nvrtcCreateProgram(ctypes.byref(program), text.encode(), b"dnls.cu", 0, None, None) != 0:
        sys.exit("nvrtcCreateProgram failed")
    # The backend's options (KernelCache.options) plus the resource report.
    options = [f"--gpu-architecture={arch}", "-std=c++17", "-default-device", "--ptxas-options=-v"]
    options += [f"-D{name}={value}" for name, value in constants.items()]
    array = (ctypes.c_char_p * len(options))(*[o.encode() for o in options])
    status = nvrtc.nvrtcCompileProgram(program, len(options), array)
    size = ctypes.c_size_t()
    nvrtc.nvrtcGetProgramLogSize(program, ctypes.byref(size))
    log = ctypes.create_string_buffer(size.value)
    nvrtc.nvrtcGetProgramLog(program, log)
    if status != 0:
        sys.exit(log.value.decode())
    nvrtc.nvrtcGetCUBINSize(program, ctypes.byref(size))
    cubin = ctypes.create_string_buffer(size.value)
    nvrtc.nvrtcGetCUBIN(program, cubin)
    return log.value.decode(), cubin.raw


def resources(log, kernels):
    """ptxas's lines for each entry point named in `kernels` (all when empty)."""
    report, current = {}, None
    for line in log.splitlines():
        match = re.search(r"Compiling entry function '(\w+)'", line)
        if match:
            current = match.group(1) if not kernels or match.group(1) in kernels else None
            if current:
                report[current] = []
        elif current and ("stack frame" in line or "Used" in line):
            report[current].append(re.sub(r"^ptxas\s*(info\s*)?:?\s*\.?\s*", "", line.strip()))
    return report


def sass_lines(cubin, kernel, nvdisasm):
    """One kernel's SASS instructions, without addresses, with labels and helper routines
    renumbered in order of appearance and spaces collapsed (so that two compilations of the same
    kernel in different modules compare equal)."""
    with tempfile.NamedTemporaryFile(suffix=".cubin") as f:
        f.write(cubin)
        f.flush()
        listing = subprocess.run([nvdisasm, "-c", f.name], capture_output=True, text=True, check=True).stdout
    lines, inside, labels = [], False, {}
    for line in listing.splitlines():
        if line.lstrip().startswith(".section"):
            words = line.split()
            inside = len(words) > 1 and words[1].split(",")[0] == f".text.{kernel}"
            continue
        if inside and re.search(r"/\*[0-9a-f]{4,}\*/", line):
            text = re.sub(r"/\*[0-9a-f]{4,}\*/", "", line).split(";")[0]
            text = re.sub(r"\.L_x_\d+", lambda m: labels.setdefault(m.group(0), f"L{len(labels)}"), text)
            lines.append(" ".join(re.sub(r"__internal_\d+_", "__internal_", text).split()))
    return lines


def sass_mix(cubin, kernel, nvdisasm):
    """Instruction counts of one kernel's SASS, and how many local-memory accesses sit among
    dense floating-point code (a spill in a hot loop)."""
    ops = []
    for line in sass_lines(cubin, kernel, nvdisasm):
        words = re.sub(r"\(\*.*?\*\)", "", line).split()
        if words:
            ops.append((words[1] if words[0].startswith("@") and len(words) > 1 else words[0]).split(".")[0])
    fp = [i for i, op in enumerate(ops) if op in ("FFMA", "FADD", "FMUL")]
    hot_local = sum(1 for i, op in enumerate(ops) if op in ("LDL", "STL")
                    and sum(1 for j in fp if abs(j - i) <= 30) > 20)
    return collections.Counter(ops), hot_local


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kernels", help="comma-separated entry points, or all")
    parser.add_argument("constants", nargs="*", help="NAME=VALUE compile-time constants of the launch")
    parser.add_argument("--arch", default="sm_90", help="GPU architecture (default sm_90: H100, H200)")
    parser.add_argument("--nvdisasm", help="path of nvdisasm, for the instruction mix")
    parser.add_argument("--same-as", metavar="REV", help="compare each kernel's SASS with git revision REV (needs --nvdisasm)")
    args = parser.parse_args()
    if args.same_as and not args.nvdisasm:
        sys.exit("--same-as needs --nvdisasm")
    constants = dict(c.split("=", 1) for c in args.constants)
    constants = {"KMAX": "1", "WHOLE": "0", **constants}  # the backend's defaults (CUDARuntime.kernel)
    kernels = [] if args.kernels == "all" else args.kernels.split(",")
    log, cubin = compile_module(module_text(), constants, args.arch)
    old = compile_module(module_text(args.same_as), constants, args.arch)[1] if args.same_as else None
    differing = 0
    for kernel, lines in resources(log, kernels).items():
        print(f"{kernel}: " + "; ".join(lines))
        if args.nvdisasm:
            mix, hot_local = sass_mix(cubin, kernel, args.nvdisasm)
            top = ", ".join(f"{op} {n}" for op, n in mix.most_common(8))
            print(f"  {sum(mix.values())} instructions: {top}; local-memory accesses in FP-dense code: {hot_local}")
        if old is not None:
            same = sass_lines(cubin, kernel, args.nvdisasm) == sass_lines(old, kernel, args.nvdisasm)
            differing += not same
            print(f"  SASS {'the same as' if same else 'DIFFERENT from'} {args.same_as}")
    if differing:
        sys.exit(f"{differing} kernel(s) differ from {args.same_as}")


if __name__ == "__main__":
    main()
