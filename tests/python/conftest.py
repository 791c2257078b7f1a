"""Shared fixtures of the Python suite (run by `meson test --suite python`).

Environment (set by tests/meson.build; defaults work from a source tree
with a build in build/):
  PRIME_LIBRARY      the built libprime.so
  PRIME_CLI          the built `prime` program
  PRIME_SOURCE_ROOT  the source tree
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

SOURCE_ROOT = Path(os.environ.get("PRIME_SOURCE_ROOT",
                                  Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(SOURCE_ROOT / "python"))

BUILD_ROOT = Path(os.environ.get("PRIME_BUILD_ROOT", SOURCE_ROOT / "build"))
os.environ.setdefault("PRIME_LIBRARY", str(BUILD_ROOT / "lib" / "libprime.so"))


def built_packer() -> "Path | None":
    """The compiled packer libprime._pack of the build tree for this
    Python (meson.build builds it when Python's headers are there)."""
    import sysconfig
    path = BUILD_ROOT / ("_pack" + str(sysconfig.get_config_var("EXT_SUFFIX")))
    return path if path.exists() else None


if built_packer() is not None:  # as tests/meson.build sets it
    os.environ.setdefault("PRIME_PACK_MODULE", str(built_packer()))


@pytest.fixture(params=["compiled", "python"])
def packer(request, monkeypatch):
    """Runs a test twice: with the compiled packer (libprime._pack; skipped
    where it is not built) and with the pure-Python one."""
    from libprime import _core
    if request.param == "compiled":
        if _core._packx is None:
            pytest.skip("libprime._pack is not built (python3-dev)")
    else:
        monkeypatch.setattr(_core, "_packx", None)
    return request.param


@pytest.fixture(scope="session")
def source_root() -> Path:
    return SOURCE_ROOT


@pytest.fixture(scope="session")
def cli_dir() -> Path:
    return SOURCE_ROOT / "tests" / "cli"


@pytest.fixture(scope="session")
def demo_dir() -> Path:
    return SOURCE_ROOT / "data" / "demo"


@pytest.fixture(scope="session")
def prime_cli() -> str:
    path = os.environ.get("PRIME_CLI", str(BUILD_ROOT / "tools" / "prime"))
    if not os.access(path, os.X_OK):
        pytest.fail("the prime program was not found at %s (set PRIME_CLI)" % path)
    return path


@pytest.fixture()
def small(cli_dir):
    """The hand-checked CLI data set: (store, outcomes)."""
    import libprime
    store = libprime.TagStore.load(cli_dir / "tags.csv")
    outcomes = libprime.Outcomes.load(cli_dir / "outcomes.csv", store)
    yield store, outcomes
    outcomes.close()
    store.close()
