"""Unfold a region of a video in batches, edit the patches, and fold them back.

What the original dnls's ``example_folds.py`` does, on a procedurally drawn video: the patches of
a strided grid over the rectangle ``coords`` are read with ``iUnfold`` batch by batch, their first
(red) channel is set to zero, and ``iFold`` adds them back into a video. As in the original, the
result is not normalised (pixels covered by several patches are brighter); it is saved divided
by its maximum.

    python examples/example_folds.py --out ./dnls-out/python-examples
"""

import argparse
import json
import os
import struct
import zlib

import torch

import dnls


def synthetic_video(frames, size, seed=0):
    """A (frames, 3, size, size) float32 video in 0..255: gradients, discs and stripes that move."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(size, dtype=torch.float32).view(size, 1)
    x = torch.arange(size, dtype=torch.float32).view(1, size)
    discs = [(torch.rand(2, generator=g) * size, 0.1 * size + torch.rand(1, generator=g) * 0.15 * size,
              torch.rand(3, generator=g) * 255) for _ in range(4)]
    out = []
    for t in range(frames):
        base = torch.stack([60 + 120 * x / size + 0 * y, 40 + 150 * y / size + 0 * x,
                            128 + 60 * torch.sin((x + y + 2 * t) / (0.12 * size))])
        for (cy, cx), r, colour in discs:
            inside = ((y - cy - t) ** 2 + (x - cx - 0.5 * t) ** 2) <= r ** 2
            base = torch.where(inside, colour.view(3, 1, 1), base)
        stripes = ((x + t) // max(size // 16, 1)) % 2 == 0
        band = (y > 0.7 * size) & (y < 0.8 * size)
        base = torch.where(band & stripes, torch.full_like(base, 230.0), base)
        out.append(base.clamp(0, 255))
    return torch.stack(out)


def write_png(path, image):
    """Write an (C, H, W) image with values in 0..255 (C = 1 or 3) as an 8-bit PNG."""
    image = image.detach().float().clamp(0, 255).round().to(torch.uint8).cpu()
    channels, height, width = image.shape
    pixels = image.permute(1, 2, 0).contiguous().numpy() if channels == 3 else image[0].numpy()
    rows = b"".join(b"\x00" + pixels[r].tobytes() for r in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    colour = 2 if channels == 3 else 0
    header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9))
                + chunk(b"IEND", b""))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="./dnls-out/python-examples")
    parser.add_argument("--frames", type=int, default=5)
    parser.add_argument("--size", type=int, default=64, help="frame height and width")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    vid = synthetic_video(args.frames, args.size).to(args.device)
    T, C, H, W = vid.shape
    s = args.size
    coords = [s // 16, s // 8, s * 15 // 16, s * 25 // 32]   # [4, 8, 60, 50] on 64×64 frames
    ps, stride, dilation, batch_size = 5, 2, 3, 128

    unfold = dnls.iunfold.iUnfold(ps, coords, stride=stride, dilation=dilation)
    fold = dnls.ifold.iFold(vid.shape, coords, stride=stride, dilation=dilation, device=args.device)

    top, left, btm, right = coords
    n_total = T * ((btm - top - 1) // stride + 1) * ((right - left - 1) // stride + 1)
    n_batches = (n_total - 1) // batch_size + 1
    for index in range(n_batches):
        start = index * batch_size
        num = min(batch_size, n_total - start)
        patches = unfold(vid, start, num)          # (num, 1, 1, C, ps, ps)
        patches[:, :, :, 0] = 0                    # "process" the patches: drop the red channel
        fold(patches, start)

    out = fold.vid / fold.vid.max()
    for t in range(T):
        write_png(os.path.join(args.out, f"fold_{t:02d}.png"), 255 * out[t])
        write_png(os.path.join(args.out, f"input_{t:02d}.png"), vid[t])
    torch.save(fold.vid.cpu(), os.path.join(args.out, "fold.pt"))
    summary = {"queries": n_total, "batches": n_batches, "coords": coords,
               "red_max": float(fold.vid[:, 0].abs().max()),
               "green_max": float(fold.vid[:, 1].max())}
    with open(os.path.join(args.out, "example_folds.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(f"folded {n_total} patches in {n_batches} batches into {args.out}")
    return summary


if __name__ == "__main__":
    main()
