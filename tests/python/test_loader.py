"""How the package finds the library: PRIME_LIBRARY, then pkg-config, then
ctypes.util.find_library. Each case runs in a fresh interpreter."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = ("import libprime, libprime._lib as L; "
         "print(L.find_library()); print(libprime.version())")


def run_probe(env_updates, source_root):
    env = {k: v for k, v in os.environ.items()
           if k not in ("PRIME_LIBRARY", "PKG_CONFIG_PATH", "LD_LIBRARY_PATH")}
    env["PYTHONPATH"] = str(source_root / "python")
    env.update(env_updates)
    return subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          env=env, timeout=60)


def test_env_variable_first(source_root):
    lib = os.environ["PRIME_LIBRARY"]
    r = run_probe({"PRIME_LIBRARY": lib}, source_root)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == lib


def test_env_variable_bad_path(source_root, tmp_path):
    r = run_probe({"PRIME_LIBRARY": str(tmp_path / "nope.so")}, source_root)
    assert r.returncode != 0
    assert "PRIME_LIBRARY" in r.stderr and "OSError" in r.stderr


@pytest.mark.skipif(shutil.which("pkg-config") is None, reason="pkg-config not installed")
def test_pkg_config_second(source_root, tmp_path):
    libdir = Path(os.path.realpath(os.environ["PRIME_LIBRARY"])).parent
    if not (libdir / "libprime.so.1").exists():
        pytest.skip("no libprime.so.1 next to PRIME_LIBRARY")
    (tmp_path / "prime.pc").write_text(
        "libdir=%s\nincludedir=/nonexistent\n\nName: prime\nDescription: test\n"
        "Version: 1.0.0\nLibs: -L${libdir} -lprime\nCflags: -I${includedir}\n" % libdir)
    r = run_probe({"PKG_CONFIG_PATH": str(tmp_path)}, source_root)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == str(libdir / "libprime.so.1")


def test_find_library_last(source_root, tmp_path):
    # no env variable, no pkg-config entry: whatever the dynamic linker knows
    # (none in a build tree: a clear error, not a crash)
    r = run_probe({"PKG_CONFIG_PATH": str(tmp_path), "PKG_CONFIG_LIBDIR": str(tmp_path)},
                  source_root)
    if r.returncode == 0:
        assert "prime" in r.stdout.splitlines()[0]
    else:
        assert "libprime not found" in r.stderr
