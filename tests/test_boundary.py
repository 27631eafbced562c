"""The core never imports Qt or the GUI, and the CLI starts without heavy modules."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # each test starts a fresh interpreter to see what it imports

CORE = Path(__file__).resolve().parents[1] / "core"
GUI_MODULES = ("PySide6", "shiboken6", "netron", "modelgate.gui")
HEAVY = ("onnx", "onnxruntime", "numpy", "sqlalchemy", "matplotlib", "jsonschema",
         "license_expression", "model_signing", "markdown", "nh3", "reportlab", "jinja2", "PIL")
#: The one core module that may name the desktop app: the `gui` command hands over to it.
GUI_HANDOVER = CORE / "cli" / "gui_command.py"


def _modules_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def _top(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules} | modules


def test_importing_every_core_module_loads_no_qt():
    names = []
    for path in sorted(CORE.rglob("*.py")):
        if "migrations" in path.parts:  # Alembic scripts, run by Alembic, not imported
            continue
        relative = path.relative_to(CORE).with_suffix("")
        parts = [p for p in relative.parts if p != "__init__"]
        names.append(".".join(["modelgate.core", *parts]))
    loaded = _top(_modules_after("\n".join(f"import {n}" for n in names)))
    assert not loaded.intersection(GUI_MODULES)


def test_no_core_source_imports_gui_side_modules():
    offenders = []
    for path in CORE.rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            stripped = line.strip()
            if stripped.startswith(("import ", "from ")) and any(
                    stripped.split()[1].startswith(m) for m in GUI_MODULES):
                offenders.append(f"{path.name}:{number}: {stripped}")
    assert offenders == []


def test_cli_start_up_imports_nothing_heavy():
    loaded = _top(_modules_after(
        "from modelgate.core.cli.main import build_parser, main\nbuild_parser()\n"
        "import modelgate.core.checks.catalog as r\nr.catalog()"))
    assert not loaded.intersection(HEAVY), sorted(loaded.intersection(HEAVY))
    assert not loaded.intersection(GUI_MODULES), sorted(loaded.intersection(GUI_MODULES))


def test_only_the_gui_command_names_the_desktop_app_and_only_when_it_runs():
    naming = sorted(p.relative_to(CORE).as_posix() for p in CORE.rglob("*.py")
                    if "modelgate.gui" in p.read_text(encoding="utf-8"))
    assert naming == [GUI_HANDOVER.relative_to(CORE).as_posix()]
    # Every other command, --help included, runs without loading Qt or the app.
    loaded = _top(_modules_after(
        "import contextlib, io\nfrom modelgate.core.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['--help']); main(['gui', '--help']); main(['rules'])"))
    assert not loaded.intersection(GUI_MODULES + ("matplotlib", "markdown", "nh3")), \
        sorted(loaded.intersection(GUI_MODULES))


def test_the_gui_command_without_the_desktop_extras_is_one_clear_line():
    probe = ("import sys\nsys.modules['PySide6'] = None  # as if PySide6 were not installed\n"
             "from modelgate.core.cli.main import main\nsys.exit(main(['gui']))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "modelgate: the desktop app needs PySide6, which is not installed",
        "  hint: Install the desktop extras: pip install 'modelgate[gui]'"]
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_running_a_model_leaves_nothing_in_the_home_folder(tmp_path):
    """onnxruntime's own telemetry (a device id, an upload queue) stays off."""
    from tests.factory import tiny_model

    tiny_model(tmp_path / "m.onnx")
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"))
    code = ("import modelgate.core.formats.onnx.load as o\n"
            f"o.open_session({str(tmp_path / 'm.onnx')!r})\n")
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    assert [p for p in home.rglob("*")] == []


def test_validating_a_clean_bundle_imports_neither_jsonschema_nor_the_expression_parser(tmp_path):
    """Start-up is what a CI job waits for: schemas are checked by the compiled
    validator, and a bundle naming one license needs no expression parser."""
    from tests.factory import make_bundle

    bundle = make_bundle(tmp_path / "clean")
    loaded = _top(_modules_after(
        "from modelgate.core.cli.main import main\n"
        f"assert main(['validate', {str(bundle)!r}, '--format', 'json', '--output', '/dev/null']) == 0"))
    assert {"onnx", "jsonschema_rs"} <= loaded
    # onnxruntime loads in the bounded model process only, never in the CLI's own.
    assert not loaded.intersection({"jsonschema", "license_expression", "onnxruntime"})


def test_version_report_imports_none_of_the_libraries_it_names():
    """`modelgate --version` reads distribution metadata; auditors run it on slow machines too."""
    loaded = _top(_modules_after(
        "import contextlib, io\nfrom modelgate.core.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n    assert main(['--version']) == 0\n"
        "assert 'onnxruntime' in out.getvalue()"))
    assert not loaded.intersection(HEAVY + GUI_MODULES), sorted(loaded.intersection(HEAVY + GUI_MODULES))
