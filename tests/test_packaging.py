"""The distribution ships every package folder, and nothing bare like `core`."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAPPING = {"core": "modelgate.core", "gui": "modelgate.gui", "resources": "modelgate.resources"}


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _package_folders() -> set[str]:
    found = set()
    for top, dotted in MAPPING.items():
        for init in (ROOT / top).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / top)
            found.add(".".join([dotted, *relative.parts]))
    return found


def test_every_package_folder_is_listed():
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    assert _package_folders() == listed


def test_python_folders_without_init_are_not_forgotten():
    for top in MAPPING:
        for folder in (ROOT / top).rglob("*"):
            if folder.is_dir() and "__pycache__" not in folder.parts and any(folder.glob("*.py")):
                assert (folder / "__init__.py").exists(), f"{folder} has modules but no __init__.py"


def test_package_dir_maps_to_the_fixed_layout():
    mapping = _pyproject()["tool"]["setuptools"]["package-dir"]
    assert mapping == {dotted: top for top, dotted in MAPPING.items()}


def test_resources_are_declared_as_package_data():
    patterns = _pyproject()["tool"]["setuptools"]["package-data"]["modelgate.resources"]
    shipped = [p for p in (ROOT / "resources").rglob("*")
               if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts]
    assert shipped
    for path in shipped:
        relative = path.relative_to(ROOT / "resources")
        assert any(relative.match(pattern) or str(relative).startswith(pattern.split("**")[0].rstrip("*"))
                   for pattern in patterns if pattern), f"{relative} is not covered by package-data"
