#!/usr/bin/env python3
"""Train a small video denoiser whose non-local block is built from ``dnls.ops``.

The network looks for similar patches across space *and* time, which a stack of per-frame
convolutions cannot do:

    noisy clip ──► 3×3 convs (per frame) ──► features F
        F ──► dnls.ops.search (patches of F, window across ±temporal_radius frames, top-k)
          ──► weights softmax(−distance / τ), τ learned
          ──► dnls.ops.wpsum of [noisy, F] at the neighbours
          ──► dnls.ops.fold over the query grid, divided by the fold of ones
        [noisy, aggregate, F] ──► 3×3 conv head ──► residual;   denoised = noisy − residual

Gradients flow through every dnls operator: into the weights and values of ``wpsum``, and
through the search distances back into the feature convolutions.

Data are synthetic clips: crops of images shipped with scikit-image (``skimage.data``) moved by a
known sub-pixel camera motion, with Gaussian noise σ = 25/255. Validation uses an image that is
never seen in training. Baselines on the same clips: the noisy input, the untrained network and
classic non-local means written with the same dnls operators.

    python train_denoiser.py --device cuda --minutes 3
    python train_denoiser.py --device cpu --steps 5

Results go to ``--out`` (default ``./dnls-out/train``): ``results.md`` (the table),
``metrics.json``, ``loss.png`` (when matplotlib is installed) and ``frame.png``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import struct
import sys
import time
import zlib
from pathlib import Path

# Deterministic cuBLAS needs this before CUDA is initialised.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

import dnls.ops as ops  # noqa: E402

SIGMA = 25.0 / 255.0
TRAIN_IMAGES = ("astronaut", "coffee", "rocket", "immunohistochemistry")
VALIDATION_IMAGES = ("chelsea",)


# ----------------------------------------------------------------------------------------------
# Data


def _procedural_image(seed: int, size: int = 320) -> torch.Tensor:
    """A colour test image (3, size, size) in [0, 1]: a background grating under overlapping
    discs and squares, each with a colour and a grating of its own, so that it has texture of
    several scales, sharp edges and flat areas."""
    g = torch.Generator().manual_seed(seed)
    ys, xs = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")

    def grating():
        angle, freq, phase = (torch.rand(3, generator=g) * torch.tensor([math.pi, 1.0, 2 * math.pi])).tolist()
        freq = 3 + 45 * freq ** 2
        return torch.sin(2 * math.pi * freq * (xs * math.cos(angle) + ys * math.sin(angle)) + phase)

    image = torch.rand(3, 1, 1, generator=g) + 0.35 * (torch.rand(3, 1, 1, generator=g) - 0.5) * grating()
    for _ in range(24):
        cy, cx, radius = torch.rand(3, generator=g).tolist()
        radius = 0.03 + 0.15 * radius
        if float(torch.rand(1, generator=g)) < 0.5:
            distance = ((ys - cy) ** 2 + (xs - cx) ** 2).sqrt() - radius
        else:
            distance = torch.maximum((ys - cy).abs(), (xs - cx).abs()) - radius
        mask = torch.sigmoid(-distance * size / 0.8)
        amplitude = 0.3 * float(torch.rand(1, generator=g))
        fill = torch.rand(3, 1, 1, generator=g) + amplitude * (torch.rand(3, 1, 1, generator=g) - 0.5) * grating()
        image = image * (1 - mask) + fill * mask
    return image.clamp(0, 1)


_FALLBACK_NOTED = []


def load_images(names, fallback_seed: int, source: str):
    """Images as float (3, H, W) tensors in [0, 1] on the CPU, and a description of the source.

    ``source`` is ``"auto"`` (scikit-image, else procedural) or ``"procedural"``."""
    if source == "auto":
        try:
            import skimage.data

            images = []
            for name in names:
                array = getattr(skimage.data, name)()
                tensor = torch.from_numpy(array.copy())
                if tensor.dim() == 2:
                    tensor = tensor.unsqueeze(-1).expand(-1, -1, 3)
                images.append(tensor[..., :3].permute(2, 0, 1).float().div(255.0).contiguous())
            return images, "scikit-image: " + ", ".join(names)
        except Exception as error:  # not installed, or an image that needs a download
            if not _FALLBACK_NOTED:
                _FALLBACK_NOTED.append(True)
                print(f"note: scikit-image images unavailable ({type(error).__name__}: {error}); "
                      f"using procedural textures instead", flush=True)
    images = [_procedural_image(fallback_seed + i) for i in range(len(names))]
    return images, f"procedural textures (seeds {fallback_seed}..{fallback_seed + len(names) - 1})"


def make_clips(images, count: int, frames: int, size: int, max_speed: float, generator: torch.Generator,
               integer_motion: bool = False, flips: bool = False) -> torch.Tensor:
    """``count`` clean clips (count, frames, 3, size, size) on the CPU: a size×size window that
    moves across a random image at a random constant velocity of at most ``max_speed`` pixels per
    frame (bilinear resampling for sub-pixel motion)."""
    clips = []
    steps = torch.arange(frames, dtype=torch.float32)
    offsets = torch.arange(size, dtype=torch.float32)
    for _ in range(count):
        image = images[int(torch.randint(len(images), (1,), generator=generator))]
        _, height, width = image.shape
        velocity = (torch.rand(2, generator=generator) * 2 - 1) * max_speed  # (vx, vy)
        if integer_motion:
            velocity = velocity.round()
        drift = velocity * (frames - 1)
        starts = []
        for extent, d in ((width, float(drift[0])), (height, float(drift[1]))):
            low = max(0.0, -d)
            high = extent - size - max(0.0, d) - 1
            if high < low:
                raise ValueError(f"image of {width}x{height} is too small for {size}-pixel crops moving {max_speed}/frame")
            starts.append(low + float(torch.rand(1, generator=generator)) * (high - low))
        x = starts[0] + velocity[0] * steps[:, None] + offsets[None, :]  # (T, size)
        y = starts[1] + velocity[1] * steps[:, None] + offsets[None, :]
        if integer_motion:
            x, y = x.round(), y.round()
        grid = torch.stack([
            (2 * x / (width - 1) - 1)[:, None, :].expand(frames, size, size),
            (2 * y / (height - 1) - 1)[:, :, None].expand(frames, size, size),
        ], dim=-1)
        clip = F.grid_sample(image.unsqueeze(0).expand(frames, -1, -1, -1), grid, mode="bilinear",
                             padding_mode="border", align_corners=True)
        if flips:
            if float(torch.rand(1, generator=generator)) < 0.5:
                clip = clip.flip(-1)
            if float(torch.rand(1, generator=generator)) < 0.5:
                clip = clip.flip(-2)
        clips.append(clip)
    return torch.stack(clips).clamp(0, 1).contiguous()


def add_noise(clean: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Additive white Gaussian noise σ = 25/255 (not clipped), drawn on the CPU."""
    return clean + SIGMA * torch.randn(clean.shape, generator=generator)


# ----------------------------------------------------------------------------------------------
# Non-local aggregation with dnls.ops


def nonlocal_average(keys: torch.Tensor, values: torch.Tensor, weigh, *, search_patch: int, aggregate_patch: int,
                     window: int, temporal_radius: int, k, stride: int) -> torch.Tensor:
    """For every query patch of a strided grid, find its neighbours by comparing patches of
    ``keys``, weigh them with ``weigh(distances)``, sum the neighbours' patches of ``values``, and
    put the sums back in place, averaging where patches overlap. Returns a video shaped like
    ``values``."""
    grid = ops.QueryGrid(stride=stride)
    distances, indices = ops.search(keys, grid, patch_size=search_patch, window_size=window,
                                    temporal_radius=temporal_radius, k=k)
    weights = weigh(distances)
    patches = ops.wpsum(values, weights, indices, patch_size=aggregate_patch)
    folded = ops.fold(patches, grid, values.shape)
    with torch.no_grad():
        ones = patches.new_ones(patches.shape[:-3] + (1,) + patches.shape[-2:])
        cover = ops.fold(ones, grid, values.shape[:-3] + (1,) + values.shape[-2:])
    return folded / cover


def _masked(distances: torch.Tensor):
    """Distances with empty slots (``+inf``: no candidate there) replaced by 0, and the mask of
    real candidates, so that no inf reaches an arithmetic op that autograd differentiates."""
    valid = torch.isfinite(distances)
    return torch.where(valid, distances, torch.zeros_like(distances)), valid


def nl_means(noisy: torch.Tensor, h: float, *, patch: int = 5, window: int = 11, temporal_radius: int = 2) -> torch.Tensor:
    """Video non-local means: every pixel's patch is compared with every patch of its space-time
    window in the noisy video, weighted by exp(−max(d − 2σ², 0) / h²) with d the mean squared
    difference per pixel, and the weighted patches are folded back and averaged."""
    scale = patch * patch * noisy.shape[-3]

    def weigh(distances):
        d, valid = _masked(distances)
        w = torch.exp(-(d / scale - 2 * SIGMA ** 2).clamp_min(0) / (h * h)) * valid
        return w / w.sum(-1, keepdim=True)

    return nonlocal_average(noisy, noisy, weigh, search_patch=patch, aggregate_patch=patch, window=window,
                            temporal_radius=temporal_radius, k=None, stride=1)


# ----------------------------------------------------------------------------------------------
# The network


def _conv_stack(channels, final_relu: bool) -> nn.Sequential:
    layers = []
    for i, (cin, cout) in enumerate(zip(channels[:-1], channels[1:])):
        layers.append(nn.Conv2d(cin, cout, 3, padding=1))
        if final_relu or i < len(channels) - 2:
            layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class NonLocalDenoiser(nn.Module):
    """Per-frame conv features → non-local block (dnls search / wpsum / fold) → conv head that
    predicts the noise, subtracted from the input."""

    def __init__(self, features: int = 16, hidden: int = 32, search_patch: int = 3, aggregate_patch: int = 5,
                 window: int = 9, temporal_radius: int = 2, k: int = 16, stride: int = 2, temperature: float = 0.05):
        super().__init__()
        self.embed = _conv_stack([3, hidden, hidden, features], final_relu=False)
        self.head = _conv_stack([3 + (3 + features) + features, hidden, hidden, 3], final_relu=False)
        # τ = exp(log_temperature) > 0, learned with the rest.
        self.log_temperature = nn.Parameter(torch.tensor(math.log(temperature)))
        self.features, self.search_patch, self.aggregate_patch = features, search_patch, aggregate_patch
        self.window, self.temporal_radius, self.k, self.stride = window, temporal_radius, k, stride

    @property
    def temperature(self) -> float:
        return float(self.log_temperature.detach().exp())

    def weigh(self, distances: torch.Tensor) -> torch.Tensor:
        d, valid = _masked(distances)
        logits = -(d / (self.features * self.search_patch ** 2)) / self.log_temperature.exp()
        return torch.softmax(logits.masked_fill(~valid, float("-inf")), dim=-1)

    def forward(self, noisy: torch.Tensor) -> torch.Tensor:
        b, t, c, h, w = noisy.shape
        frames = noisy.reshape(b * t, c, h, w)
        feats = self.embed(frames)
        feats_video = feats.reshape(b, t, self.features, h, w)
        values = torch.cat([noisy, feats_video], dim=2)
        aggregate = nonlocal_average(feats_video, values, self.weigh, search_patch=self.search_patch,
                                     aggregate_patch=self.aggregate_patch, window=self.window,
                                     temporal_radius=self.temporal_radius, k=self.k, stride=self.stride)
        residual = self.head(torch.cat([frames, aggregate.reshape(b * t, -1, h, w), feats], dim=1))
        return noisy - residual.reshape(b, t, c, h, w)


# ----------------------------------------------------------------------------------------------
# Evaluation and output


def psnr(estimate: torch.Tensor, clean: torch.Tensor) -> float:
    """Mean over clips of the PSNR (dB, peak 1) of each whole clip, the estimate clipped to [0, 1]."""
    mse = (estimate.clamp(0, 1) - clean).square().flatten(1).mean(1)
    return float((-10 * torch.log10(mse)).mean())


@torch.no_grad()
def run_batched(fn, noisy: torch.Tensor, device, batch: int) -> torch.Tensor:
    """``fn`` over the clips of ``noisy`` (on the CPU) in batches on ``device``; result on the CPU."""
    outputs = []
    for i in range(0, noisy.shape[0], batch):
        outputs.append(fn(noisy[i:i + batch].to(device)).float().cpu())
    return torch.cat(outputs)


def write_png(path: Path, image: torch.Tensor) -> None:
    """An RGB image (3, H, W) in [0, 1] as an 8-bit PNG, with nothing but zlib."""
    array = (image.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).contiguous()
    height, width, _ = array.shape
    raw = b"".join(b"\x00" + bytes(array[row].flatten().tolist()) for row in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def side_by_side(panels, gap: int = 4, scale: int = 1) -> torch.Tensor:
    """Images (3, H, W) next to each other on a white background, each enlarged ``scale`` times."""
    panels = [p.repeat_interleave(scale, -1).repeat_interleave(scale, -2) for p in panels]
    height = max(p.shape[1] for p in panels)
    width = sum(p.shape[2] for p in panels) + gap * (len(panels) + 1)
    canvas = torch.ones(3, height + 2 * gap, width)
    x = gap
    for p in panels:
        canvas[:, gap:gap + p.shape[1], x:x + p.shape[2]] = p.clamp(0, 1)
        x += p.shape[2] + gap
    return canvas


def plot_loss(path: Path, losses, validation_points) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception:
        return False
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=120)
    steps = list(range(1, len(losses) + 1))
    ax.plot(steps, losses, lw=0.8, alpha=0.5, label="training loss (per step)")
    window = max(1, len(losses) // 25)
    if window > 1:
        smooth = torch.tensor(losses).unfold(0, window, 1).mean(1).tolist()
        ax.plot(steps[window - 1:], smooth, lw=1.6, label=f"mean of {window} steps")
    if validation_points:
        xs, ys = zip(*validation_points)
        ax.plot(xs, ys, "o", ms=4, label="held-out MSE")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("MSE")
    ax.set_title("non-local denoiser (dnls ops): training loss")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


# ----------------------------------------------------------------------------------------------
# Main


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                   help="torch device, e.g. cuda, cuda:1 or cpu")
    p.add_argument("--steps", type=int, default=None, help="training steps (default: train for --minutes)")
    p.add_argument("--minutes", type=float, default=None,
                   help="training time budget; default 3 when --steps is not given")
    p.add_argument("--batch", type=int, default=None, help="clips per step (default: 8 on CUDA, 2 on the CPU)")
    p.add_argument("--crop", type=int, default=None, help="training crop size (default: 96 on CUDA, 32 on the CPU)")
    p.add_argument("--frames", type=int, default=5, help="frames per clip")
    p.add_argument("--val-clips", type=int, default=None, help="held-out clips (default: 8 on CUDA, 2 on the CPU)")
    p.add_argument("--val-size", type=int, default=None, help="held-out crop size (default: 128 on CUDA, 48 on the CPU)")
    p.add_argument("--speed", type=float, default=2.0, help="largest camera speed, pixels per frame")
    p.add_argument("--integer-motion", action="store_true", help="whole-pixel motion instead of sub-pixel")
    p.add_argument("--lr", type=float, default=2e-3, help="Adam learning rate (cosine decay to a tenth)")
    p.add_argument("--features", type=int, default=16, help="feature channels searched by the non-local block")
    p.add_argument("--window", type=int, default=9, help="search window size of the network's block")
    p.add_argument("--temporal-radius", type=int, default=2, help="frames searched on each side (network and NLM)")
    p.add_argument("--k", type=int, default=16, help="neighbours per query of the network's block")
    p.add_argument("--stride", type=int, default=2, help="query grid stride of the network's block")
    p.add_argument("--nlm-window", type=int, default=None,
                   help="search window of the non-local means baseline (default: 11 on CUDA, 7 on the CPU)")
    p.add_argument("--data", choices=("auto", "procedural"), default="auto",
                   help="auto: scikit-image's images when importable, else procedural textures")
    p.add_argument("--log-every", type=float, default=None,
                   help="progress line every N steps (default: a tenth of --steps, or every 10 s when timed)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: torch's choice)")
    p.add_argument("--out", default="./dnls-out/train", help="output folder")
    args = p.parse_args(argv)
    cuda = torch.device(args.device).type == "cuda"
    for name, gpu, cpu in (("batch", 8, 2), ("crop", 96, 32), ("val_clips", 8, 2), ("val_size", 128, 48),
                           ("nlm_window", 11, 7)):
        if getattr(args, name) is None:
            setattr(args, name, gpu if cuda else cpu)
    if args.steps is None and args.minutes is None:
        args.minutes = 3.0
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("error: --device cuda but torch sees no CUDA device", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True

    # Data: training clips are drawn fresh every step from the training images; the held-out
    # clips (a different image) and the clips used to pick the NLM strength are fixed.
    train_images, train_source = load_images(TRAIN_IMAGES, 1000 + args.seed, args.data)
    val_images, val_source = load_images(VALIDATION_IMAGES, 2000 + args.seed, args.data)
    val_gen = torch.Generator().manual_seed(10_000 + args.seed)
    val_clean = make_clips(val_images, args.val_clips, args.frames, args.val_size, args.speed, val_gen,
                           args.integer_motion)
    val_noisy = add_noise(val_clean, val_gen)
    tune_gen = torch.Generator().manual_seed(20_000 + args.seed)
    tune_clean = make_clips(train_images, max(1, (args.val_clips + 1) // 2), args.frames, args.val_size, args.speed,
                            tune_gen, args.integer_motion)
    tune_noisy = add_noise(tune_clean, tune_gen)
    train_gen = torch.Generator().manual_seed(30_000 + args.seed)
    eval_batch = max(1, args.batch // 2)

    model = NonLocalDenoiser(features=args.features, window=args.window, temporal_radius=args.temporal_radius,
                             k=args.k, stride=args.stride).to(device)
    parameters = sum(p.numel() for p in model.parameters())
    print(f"dnls non-local denoiser: {parameters} parameters, device {device}", flush=True)
    print(f"train: {train_source}; held out: {val_source}", flush=True)
    print(f"clips of {args.frames} frames, motion up to {args.speed} px/frame"
          f"{' (whole pixels)' if args.integer_motion else ' (sub-pixel)'}, noise sigma 25/255; "
          f"train crops {args.crop}, batch {args.batch}; {args.val_clips} held-out clips of {args.val_size}",
          flush=True)

    # Baselines.
    results = [("noisy", "noisy input (σ = 25/255)", psnr(val_noisy, val_clean))]
    nlm_strengths = [0.35, 0.5, 0.7, 1.0, 1.4]
    nlm_kw = dict(window=args.nlm_window, temporal_radius=args.temporal_radius)
    tuning = {}
    for factor in nlm_strengths:
        estimate = run_batched(lambda x: nl_means(x, factor * SIGMA, **nlm_kw), tune_noisy, device, eval_batch)
        tuning[factor] = psnr(estimate, tune_clean)
    best = max(tuning, key=tuning.get)
    start = time.perf_counter()
    nlm = run_batched(lambda x: nl_means(x, best * SIGMA, **nlm_kw), val_noisy, device, eval_batch)
    nlm_seconds = time.perf_counter() - start
    print("non-local means strength on training clips: "
          + ", ".join(f"h={f}σ {v:.2f} dB" for f, v in tuning.items()) + f" -> h = {best}σ", flush=True)
    results.append(("nlm", f"non-local means (dnls ops), 5×5 patches, {args.nlm_window}×{args.nlm_window}"
                    f"×{min(2 * args.temporal_radius + 1, args.frames)} window, h = {best}σ", psnr(nlm, val_clean)))

    model.eval()
    untrained = run_batched(model, val_noisy, device, eval_batch)
    results.append(("untrained", "untrained network", psnr(untrained, val_clean)))
    val_mse_start = float((untrained - val_clean).square().mean())

    # Training.
    optimiser = torch.optim.Adam(model.parameters(), lr=args.lr)
    budget = None if args.minutes is None else args.minutes * 60.0
    log_every = args.log_every
    if log_every is None:
        log_every = max(1, args.steps // 10) if args.steps is not None else 10.0  # steps, or seconds when timed
    timed_log = args.steps is None and args.log_every is None
    losses, validation_points = [], [(0, val_mse_start)]
    model.train()
    print(f"training: Adam lr {args.lr}, "
          + (f"{args.steps} steps" if args.steps is not None else "")
          + (" or " if args.steps is not None and budget is not None else "")
          + (f"{args.minutes} min" if budget is not None else ""), flush=True)
    started = time.perf_counter()
    last_log = started
    step = 0
    while True:
        elapsed = time.perf_counter() - started
        progress = max(step / args.steps if args.steps else 0.0, elapsed / budget if budget else 0.0)
        if progress >= 1.0:
            break
        lr = args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))
        for group in optimiser.param_groups:
            group["lr"] = lr
        clean = make_clips(train_images, args.batch, args.frames, args.crop, args.speed, train_gen,
                           args.integer_motion, flips=True)
        noisy = add_noise(clean, train_gen)
        clean, noisy = clean.to(device), noisy.to(device)
        loss = F.mse_loss(model(noisy), clean)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        value = float(loss.detach())
        if not math.isfinite(value):
            print(f"error: loss is {value} at step {step + 1}", file=sys.stderr)
            return 1
        losses.append(value)
        step += 1
        now = time.perf_counter()
        due = (now - last_log >= log_every) if timed_log else (step % max(1, int(log_every)) == 0)
        if due or step == 1:
            recent = losses[-max(1, min(len(losses), 10)):]
            mean = sum(recent) / len(recent)
            model.eval()
            held_out = run_batched(model, val_noisy, device, eval_batch)
            model.train()
            validation_points.append((step, float((held_out - val_clean).square().mean())))
            print(f"step {step:5d}  {now - started:7.1f} s  loss {value:.3e}  (mean of last {len(recent)}: "
                  f"{mean:.3e})  held-out {psnr(held_out, val_clean):.2f} dB  tau {model.temperature:.4f}  "
                  f"lr {lr:.2e}", flush=True)
            last_log = time.perf_counter()
            started += last_log - now  # the held-out check does not count as training time
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        ops.synchronize(device)
    seconds = time.perf_counter() - started

    model.eval()
    trained = run_batched(model, val_noisy, device, eval_batch)
    validation_points.append((step, float((trained - val_clean).square().mean())))
    results.append(("trained", f"trained network ({step} steps, {seconds:.0f} s)", psnr(trained, val_clean)))

    tail = losses[-min(10, len(losses)):]
    loss_first, loss_last = losses[0], sum(tail) / len(tail)

    # Report.
    width = max(len(name) for _, name, _ in results)
    lines = [f"{'method':<{width}} | PSNR dB (held-out clips)", f"{'-' * width}-|-------------------------"]
    lines += [f"{name:<{width}} | {value:6.2f}" for _, name, value in results]
    print()
    print("\n".join(lines))
    print(f"training loss (MSE): first step {loss_first:.4e}, mean of last {len(tail)} steps {loss_last:.4e}")
    print(f"held-out MSE of the network: {val_mse_start:.4e} untrained -> {validation_points[-1][1]:.4e} trained")
    print(f"learned temperature tau = {model.temperature:.4f}; non-local means on the held-out clips took "
          f"{nlm_seconds:.2f} s")

    markdown = [
        "| method | PSNR (dB) on held-out clips |",
        "| --- | ---: |",
        *[f"| {name} | {value:.2f} |" for _, name, value in results],
        "",
        f"Training loss (MSE): {loss_first:.4e} at the first step, {loss_last:.4e} (mean of the last "
        f"{len(tail)} steps) at the end; held-out MSE {val_mse_start:.4e} → {validation_points[-1][1]:.4e}.",
        "",
        f"Setup: device `{device}` ({torch.cuda.get_device_name(device) if device.type == 'cuda' else 'CPU'}), "
        f"torch {torch.__version__}; {parameters} parameters; Adam lr {args.lr}, {step} steps of {args.batch} clips "
        f"({args.frames}×3×{args.crop}×{args.crop}) in {seconds:.0f} s; non-local block: 3×3 feature patches, "
        f"{args.window}×{args.window} window, temporal radius {args.temporal_radius}, k = {args.k}, query stride "
        f"{args.stride}, 5×5 aggregated patches, learned τ = {model.temperature:.4f}. Data: clips of {args.frames} "
        f"frames, camera motion up to {args.speed} px/frame, Gaussian noise σ = 25/255; training images "
        f"{train_source}; held out {val_source}, {args.val_clips} clips of {args.val_size}×{args.val_size}. "
        f"Seed {args.seed}.",
        "",
        "Command: `" + " ".join(["python", "train_denoiser.py", *(sys.argv[1:] if argv is None else argv)]) + "`",
    ]
    (out / "results.md").write_text("\n".join(markdown) + "\n")

    middle = args.frames // 2
    panels = [val_noisy[0, middle], nlm[0, middle], trained[0, middle], val_clean[0, middle]]
    write_png(out / "frame.png", side_by_side(panels, scale=2 if args.val_size < 96 else 1))
    plotted = plot_loss(out / "loss.png", losses, validation_points)

    metrics = {
        "psnr_db": {key: value for key, _, value in results},
        "methods": {key: name for key, name, _ in results},
        "loss_first": loss_first,
        "loss_last": loss_last,
        "losses": losses,
        "validation_mse": validation_points,
        "steps": step,
        "seconds": seconds,
        "parameters": parameters,
        "temperature": model.temperature,
        "nlm_h_over_sigma": best,
        "data": {"train": train_source, "validation": val_source},
        "args": vars(args),
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    written = ["results.md", "metrics.json", "frame.png (noisy | non-local means | trained network | clean)"]
    if plotted:
        written.append("loss.png")
    else:
        written.append("no loss.png: matplotlib is not installed")
    print(f"wrote {out}: " + ", ".join(written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
