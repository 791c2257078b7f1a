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
    # the sources, the stub and the C source of the compiled packer
    want = {p.name for p in (SOURCE_ROOT / "python" / "libprime").iterdir()
            if p.suffix in (".py", ".typed", ".pyi", ".c")}
    assert _listed(SOURCE_ROOT / "meson.build") == want
    assert _listed(SOURCE_ROOT / "python" / "meson.build") == want


def _clean_env() -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PRIME_LIBRARY", "LD_LIBRARY_PATH", "PYTHONPATH", "PKG_CONFIG_PATH",
                         "PRIME_PACK_MODULE")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


PROBE = ("import libprime, sys; print(libprime.version()); print(libprime.library_path()); "
         "print(libprime.__file__)")
# whether the compiled packer (libprime._pack) came along and is the one used
PACKER = ("from libprime import _core; print(_core._packx is not None and "
          "_core._packx.__file__.startswith(libprime.__path__[0]))")


def _have_python_headers() -> bool:
    import sysconfig
    inc = sysconfig.get_paths().get("include")
    return bool(inc) and (Path(inc) / "Python.h").exists()


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
    assert libdir and (root / libdir.lstrip("/") / "libprime.so.1").exists()
    # the destdir stands for the real root: point LIBDIR at it and import the
    # installed package with no PRIME_LIBRARY / LD_LIBRARY_PATH / PYTHONPATH
    cfg.write_text(text.replace('LIBDIR = "%s"' % libdir,
                                'LIBDIR = "%s"' % (root / libdir.lstrip("/"))), encoding="utf-8")
    site = cfg.parent.parent
    p = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, %r); %s; %s"
                        % (str(site), PROBE, PACKER)], capture_output=True, text=True,
                       env=_clean_env(), cwd=str(tmp_path), timeout=60)
    assert p.returncode == 0, p.stderr
    version, path, pkg, packer = p.stdout.split("\n")[:4]
    assert path == str(root / libdir.lstrip("/") / "libprime.so.1")
    assert pkg.startswith(str(site))
    # the compiled packer, built when the build found Python's headers, is
    # installed next to the package (and imported from there)
    exts = list(cfg.parent.glob("_pack.*.so"))
    if (BUILD_ROOT / "meson-info").exists() and list(BUILD_ROOT.glob("_pack.*.so")):
        assert exts, sorted(cfg.parent.iterdir())
        import sysconfig
        if exts[0].name == "_pack" + str(sysconfig.get_config_var("EXT_SUFFIX")):
            assert packer == "True"


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
    p = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, %r); %s; %s"
                        % (str(target), PROBE, PACKER)], capture_output=True, text=True,
                       env=env, cwd=str(tmp_path), timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split("\n")[2].startswith(str(target))
    if _have_python_headers():  # python3-dev: the compiled packer is built and used
        assert p.stdout.split("\n")[3] == "True", sorted((target / "libprime").iterdir())


def test_pip_install_repository_root(tmp_path):
    """`pip install --no-build-isolation .` of the repository root (Debian's
    python3-mesonpy; patchelf): one wheel with the C library built by Meson
    in .libprime.mesonpy.libs, which the package loads with no environment
    variables, and the package's files."""
    try:
        import mesonpy  # noqa: F401
    except ImportError:
        pytest.skip("python3-mesonpy is not installed (scripts/deps.sh)")
    if shutil.which("patchelf") is None:
        pytest.skip("patchelf is not installed (scripts/deps.sh)")
    if not (BUILD_ROOT / "build.ninja").exists():
        pytest.skip("no meson build tree at %s" % BUILD_ROOT)
    target = tmp_path / "site"
    # a build folder kept in the build tree: later runs rebuild incrementally
    builddir = BUILD_ROOT / "pip-root-build"
    if not (builddir / "build.ninja").exists():  # meson-python 0.12 only reconfigures it
        shutil.rmtree(builddir, ignore_errors=True)
        subprocess.run(["meson", "setup", str(builddir), str(SOURCE_ROOT), "-Dtests=false",
                        "-Dexamples=false", "-Dbench=false", "-Ddocs=disabled",
                        "-Dtorch=disabled", "-Dpython=enabled", "-Dtool_static=true",
                        "-Dwheel=true"],
                       check=True, capture_output=True, timeout=300, env=_clean_env())
    p = subprocess.run([sys.executable, "-m", "pip", "install", "--no-build-isolation",
                        "--no-deps", "--no-index", "--target", str(target),
                        "--config-settings", "builddir=%s" % builddir, str(SOURCE_ROOT)],
                       capture_output=True, text=True, timeout=900, cwd=str(tmp_path),
                       env=_clean_env())
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    libs = target / ".libprime.mesonpy.libs"
    assert list(libs.glob("libprime.so.1*")), sorted(target.iterdir())
    want = {f.name for f in (SOURCE_ROOT / "python" / "libprime").iterdir()
            if f.suffix in (".py", ".typed")}
    assert want <= {f.name for f in (target / "libprime").iterdir()}
    p = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, %r); %s; "
                        "s = libprime.TagStore.from_lists(['a'], ['c'], [['t']]); "
                        "print(len(s), s.tags); %s" % (str(target), PROBE, PACKER)],
                       capture_output=True, text=True, env=_clean_env(), cwd=str(tmp_path),
                       timeout=60)
    assert p.returncode == 0, p.stderr
    version, path, pkg, probe = p.stdout.split("\n")[:4]
    assert Path(path).parent == libs, path
    assert pkg.startswith(str(target))
    assert probe == "1 ['t']"
    if _have_python_headers():  # python3-dev: the compiled packer is built and used
        assert p.stdout.split("\n")[4] == "True", sorted((target / "libprime").iterdir())
    # the man page comes along as a data file, at <prefix>/share/man/man1
    assert (target / "share" / "man" / "man1" / "prime.1").read_bytes() == \
        (SOURCE_ROOT / "docs" / "prime.1").read_bytes()
    # the tool comes along and runs without environment variables too
    tool = target / "bin" / "prime"
    p = subprocess.run([str(tool), "--version"], capture_output=True, text=True,
                       env=_clean_env(), timeout=60)
    assert p.returncode == 0 and version in p.stdout, p.stdout + p.stderr
