"""The README's PyTorch example runs as written and does what its comments say."""
import re
import runpy
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_the_readme_has_one_pytorch_example_of_about_ten_lines():
    blocks = python_blocks()
    assert len(blocks) == 1
    lines = [line for line in blocks[0].splitlines() if line.strip()]
    assert len(lines) <= 12


def test_the_readme_example_runs_and_reaches_the_video(tmp_path, capsys):
    script = tmp_path / "readme_example.py"
    script.write_text(python_blocks()[0])
    namespace = runpy.run_path(str(script))
    video, out = namespace["video"], namespace["out"]
    assert out.shape == video.shape
    assert video.grad is not None and video.grad.abs().sum() > 0
    assert capsys.readouterr().out.strip().endswith("tensor(True)")
