"""The package ships py.typed: `mypy --strict` must be clean on it and on the
examples (issue 13). Needs python3-mypy (scripts/deps.sh)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import SOURCE_ROOT


def test_mypy_strict_package_and_examples(tmp_path):
    pytest.importorskip("mypy")
    p = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                        "--cache-dir", str(tmp_path / "cache"),
                        str(SOURCE_ROOT / "python" / "libprime"),
                        str(SOURCE_ROOT / "examples" / "python")],
                       capture_output=True, text=True, timeout=600, cwd=str(tmp_path))
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Success: no issues found" in p.stdout
