"""The tests mirror the packages, and the quick loop (``-m "not slow"``) still reaches every one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"


def _packages() -> list[Path]:
    """``core/<package>`` and ``gui/<screen>`` folders (nested ones too), as test folders name them."""
    return sorted(init.parent.relative_to(ROOT) for top in ("core", "gui") for init in (ROOT / top).rglob("__init__.py")
                  if init.parent.name not in ("core", "gui") and "migrations" not in init.parts)


def _with_tests(folder: Path) -> bool:
    return any(folder.rglob("test_*.py"))


def test_each_package_has_its_test_folder():
    missing = [str(p) for p in _packages() if not _with_tests(TESTS / p)]
    assert missing == [], "add tests/<core|gui>/<package>/ with an empty __init__.py"


def test_test_folders_are_packages_with_empty_inits():
    folders = [f for f in TESTS.rglob("*") if f.is_dir() and any(f.glob("test_*.py"))]
    assert folders
    for folder in folders:
        init = folder / "__init__.py"
        assert init.exists() and init.read_text(encoding="utf-8") == "", f"{folder}: an empty __init__.py"


def test_slow_is_a_declared_marker_and_unknown_markers_are_refused():
    import tomllib

    options = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]
    assert "--strict-markers" in options["addopts"].split()
    assert any(marker.startswith("slow:") for marker in options["markers"])


@pytest.mark.slow
def test_the_quick_loop_reaches_every_package():
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                           "-m", "not slow", "tests"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    collected = {line.split("::")[0] for line in done.stdout.splitlines() if "::" in line}
    assert collected
    without_quick_tests = [str(p) for p in _packages()
                           if not any(Path(f).is_relative_to(Path("tests") / p) for f in collected)]
    assert without_quick_tests == [], "keep some quick tests in each package"
