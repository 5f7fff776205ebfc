"""A seeded HD test clip for the GPU denoising and flow timings: 8 frames of 1920×1080 RGB cut
from a smooth random texture (features of about 50 px) by a camera moving 3 px left and 2 px
down a frame, and the same with Gaussian noise of σ 25 (not clipped). Writes (T, C, H, W)
float32 .npy files on the 0–255 scale:

    python3 bench/hd_clip.py [--out /tmp]   →  hd_clean.npy, hd_noisy.npy
"""
import argparse
import os

import numpy as np
import numpy.fft as fft


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="/tmp")
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    height, width, frames, margin = 1080, 1920, 8, 64
    base = rng.random((height + margin, width + margin, 3)).astype(np.float32)
    spectrum = fft.rfft2(base, axes=(0, 1))
    fy = fft.fftfreq(height + margin)[:, None]
    fx = fft.rfftfreq(width + margin)[None, :]
    spectrum *= np.exp(-(fx ** 2 + fy ** 2) / (2 * 0.08 ** 2))[:, :, None]
    texture = fft.irfft2(spectrum, s=(height + margin, width + margin), axes=(0, 1))
    texture = (texture - texture.min()) / (texture.max() - texture.min()) * 200 + 25
    clip = np.stack([texture[32 - 2 * t:32 - 2 * t + height, 32 + 3 * t:32 + 3 * t + width] for t in range(frames)])
    clip = clip.transpose(0, 3, 1, 2).astype(np.float32)
    np.save(os.path.join(args.out, "hd_clean.npy"), clip)
    np.save(os.path.join(args.out, "hd_noisy.npy"), clip + rng.normal(0, 25, clip.shape).astype(np.float32))


if __name__ == "__main__":
    main()
