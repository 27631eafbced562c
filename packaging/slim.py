"""What the one-folder app leaves out of what PyInstaller would collect, and why.

PySide6's wheels hold all of Qt, and PyInstaller's Qt hooks collect every plugin of a module
the app imports, with the libraries those plugins link. The desktop build needs QtCore, QtGui,
QtWidgets and QtSvg. It leaves QtWebEngine out (Chromium alone is over 200 MB of the 600 MB
the folder may take): without it the app shows a graph in the system's web browser, served
by the app on 127.0.0.1 under a content policy that lets the page reach nothing else (see
modelgate.gui.graph.launcher). The spec passes :data:`LEFT_OUT_MODULES` to the analysis as
its excludes and calls :func:`slim` on the binaries and data files it found.
"""

from __future__ import annotations

from pathlib import PurePosixPath

LEFT_OUT_MODULES = [
    # Test code, which lives outside the package, and its tools.
    "tests", "pytest", "_pytest", "pytestqt",
    # QtWebEngine (Chromium) and the embedded graph window built on it.
    "PySide6.QtWebEngineCore", "PySide6.QtWebEngineWidgets", "PySide6.QtWebEngineQuick", "PySide6.QtWebChannel",
    "modelgate.gui.graph.graph_window", "modelgate.gui.graph.offline",
    # GUI toolkits matplotlib would try; the charts draw with PySide6 and Agg.
    "tkinter", "PyQt5", "PyQt6", "PySide2", "IPython",
    # Image codecs no chart or widget reads or writes.
    "PIL._avif", "PIL._webp", "PIL._imagingtk",
]

#: Qt plugin folders the app never loads: framebuffer and KMS display back ends with their
#: input drivers, printing (the app prints nothing), QML debugging.
UNUSED_PLUGIN_FOLDERS = frozenset({"egldeviceintegrations", "generic", "printsupport", "qmltooling"})
#: Single plugins the app never loads, by file name without ``lib`` prefix and suffix: display
#: back ends for kiosks and remote framebuffers, the virtual keyboard, image formats no widget
#: shows, and the GTK theme, which would load the user's GTK against the folder's older GLib
#: (the desktop portal theme still follows the desktop's dark or light preference).
UNUSED_PLUGINS = frozenset({
    "qeglfs", "qlinuxfb", "qminimalegl", "qvkkhrdisplay", "qvnc",
    "qtvirtualkeyboardplugin",
    "qpdf", "qtiff", "qwebp", "qtga", "qwbmp", "qicns",
    "qgtk3",
})


def _plugin(parts: tuple[str, ...]) -> tuple[str, str] | None:
    """``(folder, name)`` when ``parts`` is the path of a Qt plugin, else ``None``."""
    if "plugins" not in parts[:-2]:
        return None
    return parts[parts.index("plugins") + 1], parts[-1].split(".")[0].removeprefix("lib")


def wanted(destination: str) -> bool:
    """Whether a collected file (its path inside the app folder) is needed by the app."""
    parts = PurePosixPath(destination.replace("\\", "/")).parts
    if not parts or parts[0] != "PySide6":
        return True
    if parts[-1].endswith(".qm"):           # Qt's own translations: the app is in English
        return False
    plugin = _plugin(parts)
    if plugin is not None:
        folder, stem = plugin
        return folder not in UNUSED_PLUGIN_FOLDERS and stem not in UNUSED_PLUGINS
    return True


def _qt_library(destination: str) -> bool:
    parts = PurePosixPath(destination.replace("\\", "/")).parts
    return parts[:3] == ("PySide6", "Qt", "lib") and parts[-1].startswith("libQt6")


def unreachable_qt_libraries(binaries: list[tuple], *, imports) -> set[str]:
    """Qt libraries (Linux layout) that no kept binary links to, directly or through others.

    ``imports(path)`` names the libraries a binary links (base names). Qt links its own
    libraries rather than loading them by name, so a Qt library nothing links is dead weight:
    typically one only a left-out plugin used (libQt6Pdf for the PDF image plugin).
    """
    qt = {PurePosixPath(dest).name: dest for dest, _source, _kind in binaries if _qt_library(dest)}
    sources = {dest: source for dest, source, _kind in binaries}
    reached: set[str] = set()
    pending = [dest for dest in sources if not _qt_library(dest)]
    while pending:
        for name in imports(sources[pending.pop()]):
            dest = qt.get(name)
            if dest is not None and dest not in reached:
                reached.add(dest)
                pending.append(dest)
    return set(qt.values()) - reached


def slim(binaries: list[tuple], datas: list[tuple], *, imports) -> tuple[list[tuple], list[tuple]]:
    """The binaries and data files to ship: :func:`wanted` ones, without unreachable Qt libraries."""
    binaries = [entry for entry in binaries if wanted(entry[0])]
    datas = [entry for entry in datas if wanted(entry[0])]
    dead = unreachable_qt_libraries(binaries, imports=imports)
    return [entry for entry in binaries if entry[0] not in dead], datas
