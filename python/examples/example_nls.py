"""Non-local means over a region of a noisy video, batch by batch.

What the original dnls's ``example_nls.py`` does, on a procedurally drawn video with Gaussian noise
(sigma 30 on the 0..255 scale): for each batch of query positions of a grid over the rectangle
``coords``, search the ``k`` most similar patches in a ``ws × ws × (2wt+1)`` window
(``simple.search.run``), read them (``ScatterNl``), weight them by ``exp(-0.5·d/255²)``
normalised over the ``k`` neighbours, average, and add the averages back with ``iFold``; an
``iFold`` of ones counts the patches covering each pixel. The denoised region is the ratio.

Unlike the original script, the search uses centred patches (``use_adj=False``), the same patches
that ``ScatterNl`` reads and aggregates, so that each weight belongs to the patch it weights.

    python examples/example_nls.py --out ./dnls-out/python-examples
"""

import argparse
import json
import math
import os
import sys

import torch

import dnls

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from example_folds import synthetic_video, write_png  # noqa: E402


def psnr(a, b):
    mse = float(((a - b) ** 2).mean())
    return 10 * math.log10(255.0 ** 2 / mse)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="./dnls-out/python-examples")
    parser.add_argument("--frames", type=int, default=5)
    parser.add_argument("--size", type=int, default=64, help="frame height and width")
    parser.add_argument("--sigma", type=float, default=30.0)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    clean = synthetic_video(args.frames, args.size).to(args.device)
    g = torch.Generator().manual_seed(123)
    noisy = clean + args.sigma * torch.randn(clean.shape, generator=g).to(args.device)
    T, C, H, W = noisy.shape
    s = args.size
    coords = [s // 16, s // 8, s * 15 // 16, s * 25 // 32]   # [4, 8, 60, 50] on 64×64 frames
    ps, stride, dilation, k, ws, wt, chnls = 7, 1, 1, 25, 10, 3, 3

    scatter = dnls.scatter.ScatterNl(ps, pt=1, dilation=dilation, exact=True)
    fold = dnls.ifold.iFold(noisy.shape, coords, stride=stride, dilation=dilation, device=args.device)
    wfold = dnls.ifold.iFold(noisy.shape, coords, stride=stride, dilation=dilation, device=args.device)

    top, left, btm, right = coords
    n_total = T * ((btm - top - 1) // stride + 1) * ((right - left - 1) // stride + 1)
    n_batches = (n_total - 1) // args.batch_size + 1
    with torch.no_grad():
        for index in range(n_batches):
            start = index * args.batch_size
            num = min(args.batch_size, n_total - start)
            queries = dnls.utils.inds.get_iquery_batch(start, num, stride, coords, T, args.device)
            dists, inds = dnls.simple.search.run(noisy, queries, None, k, ps, 1, ws, wt, chnls,
                                                 dilation=dilation, stride=1, use_adj=False)
            patches = scatter(noisy, inds)                                # (num, k, 1, C, ps, ps)
            weights = torch.exp(-0.5 * dists / 255.0 ** 2)
            weights = weights / weights.sum(dim=1, keepdim=True)
            mean = (weights[:, :, None, None, None, None] * patches).sum(dim=1, keepdim=True)
            fold(mean, start)
            wfold(torch.ones_like(mean), start)

    deno = fold.vid / wfold.vid            # pixels no patch covers are NaN, as in the original
    region = (slice(None), slice(None), slice(top, btm), slice(left, right))
    result = {"psnr_noisy": psnr(noisy[region], clean[region]),
              "psnr_denoised": psnr(deno[region], clean[region]),
              "queries": n_total, "batches": n_batches, "coords": coords,
              "covered_fraction": float((wfold.vid > 0).double().mean())}
    shown = torch.nan_to_num(deno, nan=0.0)
    for t in range(T):
        write_png(os.path.join(args.out, f"nls_clean_{t:02d}.png"), clean[t])
        write_png(os.path.join(args.out, f"nls_noisy_{t:02d}.png"), noisy[t])
        write_png(os.path.join(args.out, f"nls_denoised_{t:02d}.png"), shown[t])
    with open(os.path.join(args.out, "example_nls.json"), "w") as f:
        json.dump(result, f, indent=2)
    print(f"PSNR in the region: noisy {result['psnr_noisy']:.2f} dB, "
          f"denoised {result['psnr_denoised']:.2f} dB ({n_total} queries, {n_batches} batches)")
    return result


if __name__ == "__main__":
    main()
