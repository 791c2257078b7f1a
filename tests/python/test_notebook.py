"""examples/python/notebook.py runs headless: DataFrame of paths, labels and
predictions -> tags -> modes (a DataFrame) -> a mode's images -> report."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import SOURCE_ROOT


def test_notebook_example(tmp_path, prime_cli):
    pytest.importorskip("pandas")
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SOURCE_ROOT / "python")
    p = subprocess.run([sys.executable, str(SOURCE_ROOT / "examples" / "python" / "notebook.py"),
                        "--workdir", str(tmp_path), "--prime", prime_cli],
                       capture_output=True, text=True, timeout=300, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "worst mode: a photo of" in p.stdout
    assert "class_name" in p.stdout and "drop" in p.stdout
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "dark" in html or "black" in html
    # the dark images are the planted failure: a dark/black mode must be found
    assert "(dark,)" in p.stdout or "(black,)" in p.stdout
