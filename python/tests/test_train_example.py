"""The training example (python/examples/train_denoiser.py) runs end to end on the CPU.

A few steps at tiny sizes in a subprocess: the run must exit 0, report a finite loss at the end,
and write its table, metrics, frame image and (when matplotlib is installed) loss plot."""

from __future__ import annotations

import importlib.util
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import subprocess_env

PYTHON_DIR = Path(__file__).resolve().parents[1]
SCRIPT = PYTHON_DIR / "examples" / "train_denoiser.py"
TINY = ["--device", "cpu", "--steps", "3", "--batch", "1", "--crop", "24", "--frames", "3", "--val-clips", "1",
        "--val-size", "32", "--window", "5", "--k", "8", "--temporal-radius", "1", "--nlm-window", "5",
        "--threads", "1"]


def _run(tmp_path: Path, *extra: str) -> tuple[str, Path]:
    out = tmp_path / "train"
    env = subprocess_env()
    env.setdefault("MPLBACKEND", "Agg")
    proc = subprocess.run([sys.executable, str(SCRIPT), *TINY, *extra, "--out", str(out)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc.stdout, out


def _check(stdout: str, out: Path) -> dict:
    match = re.search(r"training loss \(MSE\): first step (\S+), mean of last \d+ steps (\S+)", stdout)
    assert match, stdout
    first, last = float(match.group(1).rstrip(",")), float(match.group(2))
    assert math.isfinite(first) and math.isfinite(last) and last > 0, stdout
    for method in ("noisy input", "non-local means (dnls ops)", "untrained network", "trained network"):
        assert method in stdout, stdout

    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["steps"] == 3 and len(metrics["losses"]) == 3
    assert all(math.isfinite(v) for v in metrics["losses"])
    assert math.isfinite(metrics["loss_last"]) and abs(metrics["loss_last"] - last) <= 1e-3 * last
    assert set(metrics["psnr_db"]) == {"noisy", "nlm", "untrained", "trained"}
    assert all(math.isfinite(v) for v in metrics["psnr_db"].values())
    # Non-local means must clearly denoise even at these sizes.
    assert metrics["psnr_db"]["nlm"] > metrics["psnr_db"]["noisy"] + 3

    table = (out / "results.md").read_text()
    assert table.startswith("| method | PSNR (dB) on held-out clips |") and "| trained network" in table
    png = (out / "frame.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 100
    if importlib.util.find_spec("matplotlib") is not None:
        assert (out / "loss.png").stat().st_size > 0
    return metrics


def test_train_example_runs_on_cpu(tmp_path):
    stdout, out = _run(tmp_path)
    metrics = _check(stdout, out)
    expected = "scikit-image" if importlib.util.find_spec("skimage") is not None else "procedural"
    assert metrics["data"]["train"].startswith(expected)


def test_train_example_procedural_data_is_deterministic(tmp_path):
    stdout_a, out_a = _run(tmp_path / "a", "--data", "procedural")
    metrics_a = _check(stdout_a, out_a)
    assert metrics_a["data"]["validation"].startswith("procedural")
    stdout_b, out_b = _run(tmp_path / "b", "--data", "procedural")
    metrics_b = _check(stdout_b, out_b)
    assert metrics_a["losses"] == metrics_b["losses"]
    assert metrics_a["psnr_db"] == metrics_b["psnr_db"]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
