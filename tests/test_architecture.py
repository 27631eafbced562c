"""The layout holds: layers point one way, nothing imports in a circle, the base stays small,
modules stay readable, and every package has its place in the layers contract."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "core"
#: The true base may hold at most this many modules (``__init__`` included).
BASE_MODULES = 10
LONGEST_MODULE, MEDIAN_MODULE = 500, 150


def _contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]


def _layered() -> set[str]:
    layers = next(c for c in _contracts() if c["type"] == "layers")["layers"]
    return {name.strip() for layer in layers for name in layer.replace(":", "|").split("|")}


def _modules() -> list[Path]:
    return [p for top in ("core", "gui") for p in (ROOT / top).rglob("*.py") if "migrations" not in p.parts]


def test_the_import_contracts_hold():
    linter = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(linter), "--config", str(ROOT / "pyproject.toml"), "--no-cache"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_every_core_package_and_base_module_has_a_layer():
    found = {f"modelgate.core.{p.name}" for p in CORE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    found |= {f"modelgate.core.{p.stem}" for p in CORE.glob("*.py") if p.stem != "__init__"}
    assert found - _layered() == set(), "place the new package in [tool.importlinter] layers"


def test_nothing_imports_in_a_circle():
    graph = grimp.build_graph("modelgate.core", "modelgate.gui", cache_dir=None)
    circles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if module != imported and graph.chain_exists(importer=imported, imported=module):
                circles.append(f"{module} <-> {imported}")
    assert circles == []


def test_the_base_of_the_core_is_small():
    assert len(list(CORE.glob("*.py"))) <= BASE_MODULES


def test_modules_stay_readable():
    lengths = {p.relative_to(ROOT).as_posix(): len(p.read_text(encoding="utf-8").splitlines()) for p in _modules()}
    assert {path: n for path, n in lengths.items() if n > LONGEST_MODULE} == {}
    assert statistics.median(lengths.values()) <= MEDIAN_MODULE
