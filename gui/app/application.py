"""The QApplication and the main window: made once, set up before the first window, and taken
apart on the UI thread before the interpreter exits."""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: The window and application icon, in modelgate.resources (the SVG beside it is its source).
APP_ICON = "icons/modelgate.png"


def prepare_qt() -> None:
    """What must hold before the QApplication exists."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # QtWebEngine runs Chromium, whose sandbox refuses to start as root and aborts the
        # whole app. A root session (a container, a CI runner, a kiosk) shows only Netron's
        # page, served by this process from 127.0.0.1, so it runs without that sandbox.
        os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    from PySide6.QtCore import QCoreApplication, Qt

    # QtWebEngine, imported later when a graph is opened, shares OpenGL contexts with Qt.
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)


def signal_defect() -> str | None:
    """Why the installed PySide6 cannot run the app, or ``None``.

    PySide6 6.12.0's ``Signal.emit()`` hands back a bool it does not own, so every signal
    emitted from Python frees ``True`` once too often, and after a few hundred of them the
    interpreter aborts. The app emits signals all the time, so it refuses to start instead.
    """
    from PySide6 import __version__ as version
    from PySide6.QtCore import QObject, Signal

    class Probe(QObject):
        pinged = Signal()

    probe = Probe()
    before = sys.getrefcount(True)
    for _ in range(20):
        probe.pinged.emit()
    if sys.getrefcount(True) < before - 10:
        return f"PySide6 {version} has a defect that makes the desktop app crash (Signal.emit frees True)"
    return None


def application():
    """The QApplication, made and set up once (name, style, Ctrl+C in the terminal)."""
    import logging
    import signal

    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from modelgate.core import __version__, resources
    existing = QApplication.instance()
    if existing is not None:
        return existing
    prepare_qt()
    # Hashing a large bundle on every core would leave none to draw the window: unless the
    # user chose otherwise, the app hashes with one thread fewer than there are cores.
    os.environ.setdefault("MODELGATE_HASH_WORKERS", str(max(1, (os.cpu_count() or 1) - 1)))
    logging.basicConfig(level=logging.WARNING, format="modelgate: %(name)s: %(message)s")
    from modelgate.gui.help.problem_report import recent_log

    recent_log()    # from the start, so Help › Report a problem has the lines before a failure
    app = QApplication(sys.argv[:1])
    app.setApplicationName("ModelGate")
    app.setOrganizationName("ModelGate")
    app.setApplicationVersion(__version__)
    app.setStyle("Fusion")
    app.setWindowIcon(QIcon(str(resources.path(APP_ICON))))
    # Wayland matches windows to modelgate.desktop (its icon, its name) by this id.
    app.setDesktopFileName("modelgate")
    # Qt's event loop never hands control to Python's signal handling by itself: a timer
    # lets Ctrl+C in the terminal reach the handler, which closes the windows properly.
    signal.signal(signal.SIGINT, lambda *_: app.closeAllWindows())
    ticker = QTimer(app, interval=250)
    ticker.timeout.connect(lambda: None)
    ticker.start()
    return app


def open_window(*, registry: str | None = None, user: str | None = None, policy: Path | None = None,
                settings_file: Path | None = None):
    """The application and its shown main window, with the settings in ``settings_file`` (default:
    the usual place) and the command line's overrides; refuses a PySide6 that would crash."""
    app = application()
    defect = signal_defect()
    if defect:
        from modelgate.core.errors import UsageError

        raise UsageError(defect, hint="Install another PySide6 version: pip install 'PySide6>=6.8,!=6.12.0'")
    from modelgate.gui.app.main_window import MainWindow, SessionOverrides
    from modelgate.gui.app.settings import THEME, GuiSettings
    from modelgate.gui.app.theme import apply_theme

    settings = GuiSettings.at(path=str(settings_file) if settings_file else None)
    apply_theme(app, theme=settings.get(THEME))
    window = MainWindow(settings=settings, overrides=SessionOverrides(registry=registry, user=user, policy=policy))
    window.show()
    return app, window


def release_qt_objects(app) -> None:
    """Close every window and delete every pending object while Python and Qt are both whole.

    Left to the interpreter's exit, Python frees Qt's wrappers in no set order: a web page after
    its profile, or an object Qt still shares, and the process crashes after its work is done
    (the exit code is what a script or CI sees). This runs on the UI thread, after the loop ends.
    """
    import gc

    from PySide6.QtCore import QEvent

    for widget in app.topLevelWidgets():
        widget.close()
        widget.deleteLater()
    for _ in range(3):      # a deletion can post others (a window's page, then its profile)
        app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        app.processEvents()
        gc.collect()
