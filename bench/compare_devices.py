"""Cross-device check of `dnls search` on shapes larger than the conformance suite's: runs the same
search on the CPU (fast backend) and on the GPU and compares them. Run where numpy, a GPU and a
`dnls` binary are:
    python3 bench/compare_devices.py path/to/dnls T C H W [dnls search options...]
Distances must agree to 1e-4 relative; a neighbour may differ only where the two distances tie
within that tolerance (sums run in different orders on the two backends)."""
import subprocess, sys, tempfile
import numpy as np

dnls, T, C, H, W = sys.argv[1], *map(int, sys.argv[2:6])
options = sys.argv[6:]
rng = np.random.default_rng(7)
video = rng.random((T, C, H, W), dtype=np.float32)
results = {}
with tempfile.TemporaryDirectory() as d:
    np.save(f"{d}/v.npy", video)
    for device in ("cpu", "cuda"):
        subprocess.run([dnls, "search", f"{d}/v.npy", *options, "--device", device, "--output", f"{d}/{device}"],
                       check=True, stdout=subprocess.DEVNULL)
        results[device] = (np.load(f"{d}/{device}/distances.npy"), np.load(f"{d}/{device}/indices.npy"))
(dc, ic), (dg, ig) = results["cpu"], results["cuda"]
finite = np.isfinite(dc)
scale = max(np.abs(dc[finite]).max(), 1e-30)
distance_error = np.abs(np.where(finite, dc - dg, 0)).max() / scale
same_empty = np.array_equal(finite, np.isfinite(dg))
differs = np.any(ic != ig, axis=-1)
tie = np.abs(np.where(finite, dc - dg, 0)) <= 1e-4 * scale
unexplained = int(np.count_nonzero(differs & ~tie))
print(f"T{T} C{C} {H}x{W} {' '.join(options)}: max relative distance difference {distance_error:.2e}, "
      f"{np.count_nonzero(differs)} of {differs.size} neighbours differ (ties), {unexplained} unexplained, "
      f"empty slots {'agree' if same_empty else 'DIFFER'}")
sys.exit(0 if distance_error < 1e-4 and same_empty and unexplained == 0 else 1)
