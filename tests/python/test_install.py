"""Installing the package (issue 13): `meson install` puts the package next
to the library with a _config.py that names the library's directory, so it
loads without environment variables; `pip install ./python` works offline
with Debian's python3-mesonpy."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BUILD_ROOT, SOURCE_ROOT


def _listed(meson_file: Path) -> set:
    text = meson_file.read_text(encoding="utf-8")
    return {Path(m).name for m in re.findall(r"'((?:python/)?libprime/[^']+)'", text)
            if not m.endswith(".in")}


def test_meson_files_list_the_whole_package():
    want = {p.name for p in (SOURCE_ROOT / "python" / "libprime").iterdir()
            if p.suffix in (".py", ".typed")}
    assert _listed(SOURCE_ROOT / "meson.build") == want
    assert _listed(SOURCE_ROOT / "python" / "meson.build") == want


def _clean_env() -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PRIME_LIBRARY", "LD_LIBRARY_PATH", "PYTHONPATH", "PKG_CONFIG_PATH")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


PROBE = ("import libprime, sys; print(libprime.version()); print(libprime.library_path()); "
         "print(libprime.__file__)")


def test_meson_install_finds_library_without_environment(tmp_path):
    if not (BUILD_ROOT / "build.ninja").exists():
        pytest.skip("no meson build tree at %s" % BUILD_ROOT)
    root = tmp_path / "root"
    subprocess.run(["meson", "install", "-C", str(BUILD_ROOT), "--destdir", str(root),
                    "--no-rebuild", "--quiet"], check=True, capture_output=True, timeout=300)
    configs = list(root.rglob("libprime/_config.py"))
    if not configs:
        pytest.skip("the build was configured without the Python package (-Dpython)")
    cfg = configs[0]
    text = cfg.read_text(encoding="utf-8")
    libdir = re.search(r'LIBDIR = "([^"]*)"', text).group(1)
    assert libdir and (root / libdir.lstrip("/") / "libprime.so.0").exists()
    # the destdir stands for the real root: point LIBDIR at it and import the
    # installed package with no PRIME_LIBRARY / LD_LIBRARY_PATH / PYTHONPATH
    cfg.write_text(text.replace('LIBDIR = "%s"' % libdir,
                                'LIBDIR = "%s"' % (root / libdir.lstrip("/"))), encoding="utf-8")
    site = cfg.parent.parent
    p = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, %r); %s"
                        % (str(site), PROBE)], capture_output=True, text=True, env=_clean_env(),
                       cwd=str(tmp_path), timeout=60)
    assert p.returncode == 0, p.stderr
    version, path, pkg = p.stdout.split("\n")[:3]
    assert path == str(root / libdir.lstrip("/") / "libprime.so.0")
    assert pkg.startswith(str(site))


def test_pip_install_python_dir(tmp_path):
    try:
        import mesonpy  # noqa: F401
    except ImportError:
        pytest.skip("python3-mesonpy is not installed (scripts/deps.sh)")
    target = tmp_path / "site"
    p = subprocess.run([sys.executable, "-m", "pip", "install", "--no-build-isolation",
                        "--no-deps", "--no-index", "--target", str(target),
                        str(SOURCE_ROOT / "python")], capture_output=True, text=True,
                       timeout=300, cwd=str(tmp_path), env=_clean_env())
    assert p.returncode == 0, p.stdout + p.stderr
    assert (target / "libprime" / "py.typed").exists()
    assert (target / "libprime" / "_config.py").exists()
    # the library itself comes from the system: here the build tree, found
    # by the dynamic linker through its soname
    env = _clean_env()
    env["LD_LIBRARY_PATH"] = str(BUILD_ROOT / "lib")
    p = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, %r); %s"
                        % (str(target), PROBE)], capture_output=True, text=True, env=env,
                       cwd=str(tmp_path), timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split("\n")[2].startswith(str(target))
