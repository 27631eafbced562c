"""Help › Report a problem: a text file on this computer, filled in with what a developer asks first.

Nothing is sent anywhere. The file holds the versions of ModelGate and what it runs on, the
platform, every setting in force with where it came from, the open registry (without its
password) and the last lines the app logged, with a space at the top for the user's own
words; the app then opens it in the desktop's text editor. The log lines come from
:class:`RecentLog`, which keeps the newest records in memory from the moment the app starts.
"""

from __future__ import annotations

import collections
import logging
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QStandardPaths, QUrl, qVersion
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMainWindow

from modelgate.core import BUNDLE_FORMAT, POLICY_FORMAT, __version__
from modelgate.gui.app.settings import SETTINGS
from modelgate.gui.app.settings_origin import in_force, limits

#: Log lines kept for a report: enough for the events before a failure, small enough to read.
KEPT_LINES = 200
#: Where reports go, under the app's local data folder.
REPORTS_FOLDER = "problem-reports"


class RecentLog(logging.Handler):
    """Keeps the newest :data:`KEPT_LINES` formatted log records (tracebacks included) in memory."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.lines: collections.deque[str] = collections.deque(maxlen=KEPT_LINES)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.extend(self.format(record).splitlines())
        except Exception:  # noqa: BLE001 (logging must never fail the app)
            self.handleError(record)


def recent_log() -> RecentLog:
    """The one :class:`RecentLog` on the root logger, added the first time it is asked for."""
    root = logging.getLogger()
    for handler in root.handlers:
        if isinstance(handler, RecentLog):
            return handler
    handler = RecentLog()
    root.addHandler(handler)
    return handler


def report_text(*, settings, overrides=None, registry: str | None = None, log_lines=()) -> str:
    """The report's text: a place for the user's words, then versions, settings, registry and log."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    lines = [f"ModelGate problem report, written {now}.",
             "Nothing was sent anywhere: this file stays on this computer until you send it yourself.",
             "", "What happened (what you did, what you expected, what you saw instead):", "", "", "",
             "== Versions",
             f"ModelGate {__version__} (bundle format {BUNDLE_FORMAT}, policy format {POLICY_FORMAT})",
             f"Python {platform.python_version()} ({sys.executable})",
             f"Qt {qVersion()}, PySide6 {pyside_version}",
             f"Platform {platform.platform()} on {platform.machine() or 'an unknown machine'}",
             "", "== Registry", f"Open: {registry}" if registry else "No registry open.",
             "", "== Settings (value in force, and where it came from)"]
    for setting in SETTINGS.values():
        shown = in_force(settings, setting, overrides=overrides, registry_url=registry)
        lines.append(f"{setting.label}: {shown.value} (from {shown.origin})")
    lines += ["", "== Limits (from the environment, else the default)"]
    lines += [f"{r.setting.env}={r.shown} (from {r.origin})" for r in limits()]
    log_lines = list(log_lines)
    lines += ["", f"== Recent log ({len(log_lines)} lines)", *(log_lines or ["(nothing was logged)"]), ""]
    return "\n".join(lines)


def write_report(*, folder: Path, text: str) -> Path:
    """Write ``text`` to a new file in ``folder`` (made if missing: it is the app's own); its path."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    for attempt in range(100):
        path = folder / f"modelgate-problem-{stamp}{'' if attempt == 0 else f'-{attempt}'}.txt"
        try:
            with path.open("x", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"too many problem reports written in {folder} this second")


def reports_folder() -> Path:
    """Where the app keeps problem reports: its local data folder (platform specific)."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation)
    return Path(base or Path.home()) / REPORTS_FOLDER


def report_problem(*, window: QMainWindow, folder: Path | None = None) -> Path | None:
    """Write a problem report for ``window`` (a MainWindow) and open it in the text editor; say
    where it is in the status bar. Returns its path, or ``None`` when it could not be written."""
    from modelgate.gui.dialogs.error import show_error

    connection = getattr(window, "connection", None)
    text = report_text(settings=window.settings, overrides=getattr(window, "overrides", None),
                       registry=connection.label if connection is not None else None,
                       log_lines=recent_log().lines)
    try:
        path = write_report(folder=folder or reports_folder(), text=text)
    except OSError as error:
        show_error(parent=window, error=error, action="Writing the problem report")
        return None
    opened = QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
    said = "opened it" if opened else "open it in a text editor"
    window.statusBar().showMessage(f"Problem report written to {path}; {said}, add what happened and send it. "
                                   "Nothing was sent.", 15000)
    return path
