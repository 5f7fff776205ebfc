"""The two example scripts run to the end on a small video and produce sane outputs."""

import json
import os
import subprocess
import sys

import torch
from conftest import subprocess_env

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(os.path.dirname(HERE), "examples")


def run(script, out, *extra):
    env = subprocess_env()
    done = subprocess.run([sys.executable, os.path.join(EXAMPLES, script), "--out", str(out), *extra],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_example_folds(tmp_path):
    stdout = run("example_folds.py", tmp_path, "--frames", "2", "--size", "32")
    assert "folded" in stdout
    summary = json.loads((tmp_path / "example_folds.json").read_text())
    assert summary["coords"] == [2, 4, 30, 25]
    assert summary["red_max"] == 0.0 and summary["green_max"] > 0
    vid = torch.load(tmp_path / "fold.pt")
    assert vid.shape == (2, 3, 32, 32) and torch.isfinite(vid).all()
    assert (tmp_path / "fold_01.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_example_nls(tmp_path):
    stdout = run("example_nls.py", tmp_path, "--frames", "2", "--size", "32")
    assert "PSNR" in stdout
    result = json.loads((tmp_path / "example_nls.json").read_text())
    assert result["coords"] == [2, 4, 30, 25]
    assert result["psnr_denoised"] > result["psnr_noisy"] + 2
    assert (tmp_path / "nls_denoised_00.png").exists()
