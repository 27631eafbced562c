"""The desktop build's parts that run without building it: what packaging/slim.py leaves out, the
runtime hook, the app without QtWebEngine, the desktop entry and the icon, and `--version`.

`make dist-test` builds the app and smoke-tests the frozen program (packaging/smoke_test.py).
"""

from __future__ import annotations

import configparser
import importlib.util
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from modelgate.core.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"


def load(name: str):
    """A module of packaging/ (not a package: PyInstaller's spec loads them from there)."""
    spec = importlib.util.spec_from_file_location(f"packaging_{name}", PACKAGING / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


slim = load("slim")


@pytest.mark.parametrize("destination, kept", [
    ("PySide6/Qt/plugins/platforms/libqxcb.so", True),
    ("PySide6/Qt/plugins/platforms/libqwayland.so", True),
    ("PySide6/Qt/plugins/platforms/libqoffscreen.so", True),
    ("PySide6/Qt/plugins/platforms/libqvnc.so", False),
    ("PySide6/Qt/plugins/platforms/libqeglfs.so", False),
    ("PySide6/Qt/plugins/egldeviceintegrations/libqeglfs-kms-integration.so", False),
    ("PySide6/Qt/plugins/printsupport/libcupsprintersupport.so", False),
    ("PySide6/Qt/plugins/imageformats/libqpdf.so", False),
    ("PySide6/Qt/plugins/imageformats/libqsvg.so", True),
    ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", False),
    ("PySide6/Qt/plugins/platformthemes/libqxdgdesktopportal.so", True),
    ("PySide6/Qt/translations/qtbase_de.qm", False),
    ("PySide6/Qt/lib/libQt6Widgets.so.6", True),
    ("PySide6\\plugins\\imageformats\\qpdf.dll", False),          # Windows layout
    ("PySide6\\plugins\\platforms\\qwindows.dll", True),
    ("PySide6/Qt/plugins/imageformats/libqtiff.dylib", False),     # macOS
    ("onnxruntime/capi/libonnxruntime_providers_shared.so", True),
    ("netron/index.html", True),
])
def test_slim_keeps_what_the_app_loads(destination, kept):
    assert slim.wanted(destination) is kept


def test_slim_drops_qt_libraries_nothing_kept_links():
    links = {"/s/QtWidgets.so": {"libQt6Widgets.so.6"}, "/s/libQt6Widgets.so.6": {"libQt6Gui.so.6"},
             "/s/libQt6Gui.so.6": {"libQt6Core.so.6"}, "/s/libQt6Core.so.6": {"libicuuc.so.73", "libc.so.6"},
             "/s/libQt6Pdf.so.6": {"libQt6Gui.so.6"}, "/s/libqpdf.so": {"libQt6Pdf.so.6"},
             "/s/libqxcb.so": {"libQt6XcbQpa.so.6"}, "/s/libQt6XcbQpa.so.6": {"libQt6Gui.so.6"}}
    binaries = [("PySide6/QtWidgets.abi3.so", "/s/QtWidgets.so", "EXTENSION"),
                *[(f"PySide6/Qt/lib/{name}", f"/s/{name}", "BINARY") for name in
                  ("libQt6Widgets.so.6", "libQt6Gui.so.6", "libQt6Core.so.6", "libQt6Pdf.so.6", "libQt6XcbQpa.so.6")],
                ("PySide6/Qt/plugins/imageformats/libqpdf.so", "/s/libqpdf.so", "BINARY"),
                ("PySide6/Qt/plugins/platforms/libqxcb.so", "/s/libqxcb.so", "BINARY")]
    kept, datas = slim.slim(binaries, [("PySide6/Qt/translations/qt_fr.qm", "/s/qt_fr.qm", "DATA")],
                            imports=lambda path: links.get(path, set()))
    assert [dest for dest, _, _ in kept] == [
        "PySide6/QtWidgets.abi3.so", "PySide6/Qt/lib/libQt6Widgets.so.6", "PySide6/Qt/lib/libQt6Gui.so.6",
        "PySide6/Qt/lib/libQt6Core.so.6", "PySide6/Qt/lib/libQt6XcbQpa.so.6", "PySide6/Qt/plugins/platforms/libqxcb.so"]
    assert datas == []


def test_the_desktop_build_leaves_out_tests_and_qtwebengine():
    for module in ("tests", "pytest", "PySide6.QtWebEngineCore", "PySide6.QtWebEngineWidgets",
                   "modelgate.gui.graph.graph_window"):
        assert module in slim.LEFT_OUT_MODULES


@pytest.mark.slow
def test_the_app_starts_and_offers_graphs_in_the_browser_without_the_left_out_modules(tmp_path):
    """What the frozen app lacks must not be imported when the window opens."""
    from tests.factory import make_bundle

    bundle = make_bundle(tmp_path / "b")
    left_out = [name for name in slim.LEFT_OUT_MODULES if name.startswith(("PySide6", "modelgate"))]
    probe = (f"import sys\nfor name in {left_out!r}: sys.modules[name] = None\n"
             "from modelgate.gui.graph.launcher import embedded_available\n"
             "from modelgate.gui.app.application import open_window\n"
             f"app, window = open_window(settings_file={str(tmp_path / 'settings.ini')!r})\n"
             "from modelgate.gui.app.self_check import SelfCheck\n"
             f"sys.exit(SelfCheck(window=window, bundle={str(bundle)!r}).run() or 10 * embedded_available())")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "self-check: graph served for the web browser from http://127.0.0.1:" in done.stdout


@pytest.mark.parametrize("before, after", [
    ({"LD_LIBRARY_PATH": "/app/_internal"}, None),
    ({"LD_LIBRARY_PATH": "/app/_internal:/opt/lib", "LD_LIBRARY_PATH_ORIG": "/opt/lib"}, "/opt/lib"),
    ({"LD_LIBRARY_PATH": "/opt/lib"}, "/opt/lib"),        # set by the user, not by the bootloader
    ({}, None),
])
def test_programs_the_frozen_app_starts_get_the_users_library_path(before, after):
    hook = PACKAGING / "runtime_hooks" / "child_environment.py"
    probe = (f"import os, sys, subprocess\nsys._MEIPASS = '/app/_internal'\nexec(open({str(hook)!r}).read())\n"
             "print(subprocess.run(['sh', '-c', 'echo \"${LD_LIBRARY_PATH-unset}|${LD_LIBRARY_PATH_ORIG-unset}\"'],"
             " capture_output=True, text=True).stdout.strip())")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LD_LIBRARY_PATH")}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env={**env, **before},
                          check=True)
    assert done.stdout.strip() == f"{after or 'unset'}|unset"


def test_the_desktop_entry_opens_the_app_with_its_icon():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(PACKAGING / "linux" / "modelgate.desktop", encoding="utf-8")
    desktop = entry["Desktop Entry"]
    program, *arguments = desktop["Exec"].split()
    assert Path(program).name == "modelgate" and arguments == ["gui", "%f"]
    assert desktop["TryExec"] == program and desktop["Type"] == "Application"
    assert desktop["Terminal"] == "false" and desktop["Categories"].endswith(";")
    icons = ROOT / "resources" / "icons"
    assert (icons / f"{desktop['Icon']}.svg").is_file() and (icons / f"{desktop['Icon']}.png").is_file()


def test_the_icon_png_is_the_svg_rendered(qapp):
    from PySide6.QtGui import QImage

    rendered = load("render_icon").render(ROOT / "resources" / "icons" / "modelgate.svg")
    shipped = QImage(str(ROOT / "resources" / "icons" / "modelgate.png"))
    assert (shipped.width(), shipped.height()) == (rendered.width(), rendered.height()) == (512, 512)
    differing = sum(rendered.pixel(x, y) != shipped.pixel(x, y) for x in range(0, 512, 4) for y in range(0, 512, 4))
    assert differing < 0.01 * (128 * 128), "re-render it: .venv/bin/python packaging/render_icon.py"


def test_the_app_has_its_icon_and_desktop_id():
    probe = ("from modelgate.gui.app.application import application\napp = application()\n"
             "print(app.windowIcon().isNull(), app.desktopFileName(), app.windowIcon().availableSizes()[0].width())")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.stdout.split() == ["False", "modelgate", "512"]


def test_version_names_the_formats_and_the_libraries_in_use(capsys):
    assert main(["--version"]) == 0
    lines = dict(line.split("  ", 1) for line in capsys.readouterr().out.splitlines())
    reported = {name.strip(): version.strip() for name, version in lines.items()}
    from modelgate.core import __version__
    assert reported == {
        "modelgate": __version__, "bundle format": "modelgate.bundle/v1", "policy format": "modelgate.policy/v1",
        "onnx": metadata.version("onnx"), "onnxruntime": metadata.version("onnxruntime"),
        **{name: metadata.version(name) for name in ("safetensors", "gguf", "tflite", "picklescan")},
        "model-signing": metadata.version("model-signing"), "python": sys.version.split()[0]}


def test_version_of_a_missing_distribution_says_so(monkeypatch):
    from modelgate.core.formats import versions
    monkeypatch.setattr(versions, "RUNTIME_DISTRIBUTIONS", ("onnx", "no-such-distribution-here"))
    assert versions.components()[4] == versions.Component("no-such-distribution-here", "not installed")
    assert "no-such-distribution-here  not installed" in versions.version_report()


def test_the_dist_extra_brings_pyinstaller():
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert [spec for spec in extras["dist"] if spec.lower().startswith("pyinstaller>=")]
