"""Checks bench/torch_baselines.py's brute-force search against `dnls search` on a small video:
run where PyTorch, numpy and a `dnls` binary are:  python3 bench/check_torch_search.py path/to/dnls"""
import os, subprocess, sys, tempfile
import numpy as np
import torch
sys.path.insert(0, os.path.dirname(__file__))
from torch_baselines import brute_force_search

dnls = sys.argv[1]
torch.manual_seed(3)
video = torch.rand(5, 3, 24, 20, device="cuda")
with tempfile.TemporaryDirectory() as d:
    np.save(f"{d}/v.npy", video.cpu().numpy())
    subprocess.run([dnls, "search", f"{d}/v.npy", "--patch-size", "7", "--window", "9", "--temporal-radius", "2",
                    "--k", "10", "--output", d], check=True)
    ours = np.load(f"{d}/distances.npy")
theirs, _ = brute_force_search(video, 7, 9, 2, 10, 512)
diff = np.abs(ours - theirs.cpu().numpy()).max() / np.abs(ours).max()
print(f"dnls search vs torch brute force: max relative difference of sorted distances {diff:.2e}")
sys.exit(0 if diff < 1e-4 else 1)
