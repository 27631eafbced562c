"""The workflow actions on the version being looked at: promote, sign, roll back, compare, report,
push.

One :class:`QAction` each, in the Version menu and as buttons of the review panel,
enabled for the version in view with a tooltip saying why not. Each opens its dialog;
whatever a dialog changes in the registry comes back as :attr:`registry_changed` with
the ``name@version`` references it touched, so the window refreshes just those views.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QKeySequence

from modelgate.core.policy.stages import ARCHIVED, PRODUCTION
from modelgate.gui.app.settings import SIGNING_KEY
from modelgate.gui.ops.workflow import PUSH_ROLES

#: (object name, text, shortcut, tooltip) of each action.
SPECS = (
    ("promote", "&Promote…", "Ctrl+Shift+P", "Every gate for the next stage, checked live, then promote"),
    ("sign", "&Signing station…", "Ctrl+Shift+S", "Sign this version with your key; verify its signatures"),
    ("rollback", "&Roll back…", None, "Restore an earlier production version of this model"),
    ("compare", "&Compare…", "Ctrl+Shift+C",
     "This version against the production version (or any other): what changed and why it matters"),
    ("report", "&Export auditor report…", "Ctrl+E",
     "This version's evidence pack as one HTML file or a PDF, for an auditor"),
    ("push", "P&ush to OCI registry…", None,
     "Publish this version to an OCI registry as a CNCF ModelPack artifact, if its stage's gates hold"),
)
#: Who may push a version out (as ``modelgate push`` checks).


class VersionActions(QObject):
    """The actions, and the dialogs they open, for one window."""

    registry_changed = Signal(object)   # tuple of name@version references that changed

    def __init__(self, *, window, workers, progress_panel, settings) -> None:
        super().__init__(window)
        self.window, self._workers, self._progress, self._settings = window, workers, progress_panel, settings
        self.connection = None
        self.info = None
        self.dialog = None              # the dialog open now, for tests and screenshots
        self.actions: dict[str, QAction] = {}
        for key, text, shortcut, tip in SPECS:
            action = QAction(text, window)
            action.setObjectName(key)
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
            action.setStatusTip(tip)
            action.triggered.connect(lambda _checked=False, key=key: getattr(self, f"open_{key}")())
            self.actions[key] = action
        self._update()

    def set_context(self, *, connection, info) -> None:
        """The registry and the version (VersionInfo or QueueItem; None: nothing) in view."""
        self.connection, self.info = connection, info
        self._update()

    def _why_not(self, key: str) -> str | None:
        if self.connection is None or self.info is None:
            return "Select a version of the registry first."
        if key == "promote" and self.info.stage == ARCHIVED:
            return f"{self.info.ref} is archived: it moves no further."
        if key == "push" and not set(PUSH_ROLES) & set(getattr(self.connection, "roles", ())):
            return "Only a signer or an admin pushes a version to an OCI registry."
        if key == "rollback" and self.info.stage != PRODUCTION:
            return f"{self.info.ref} is at {self.info.stage}; a rollback starts from a production version."
        return None

    def _update(self) -> None:
        for key, _text, _shortcut, tip in SPECS:
            why = self._why_not(key)
            self.actions[key].setEnabled(why is None)
            self.actions[key].setToolTip(why or tip)
            self.actions[key].setStatusTip(why or tip)

    def _open(self, dialog, signal) -> None:
        signal.connect(self._on_dialog_changed_registry)
        dialog.finished.connect(lambda _code: self._forget(dialog))
        self.dialog = dialog
        dialog.open()

    def _forget(self, dialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()

    def open_promote(self) -> None:
        from modelgate.gui.dialogs.promotion_dialog import PromotionDialog

        if self._why_not("promote") is None:
            dialog = PromotionDialog(connection=self.connection, workers=self._workers,
                                     progress_panel=self._progress, info=self.info, parent=self.window)
            self._open(dialog, dialog.promoted)

    def open_sign(self) -> None:
        from modelgate.gui.dialogs.signing_station import SigningStation

        if self._why_not("sign") is None:
            dialog = SigningStation(connection=self.connection, workers=self._workers, progress_panel=self._progress,
                                    info=self.info, key_path=self._settings.get(SIGNING_KEY), parent=self.window)
            self._open(dialog, dialog.signed)

    def open_rollback(self) -> None:
        from modelgate.gui.dialogs.rollback_dialog import RollbackDialog

        if self._why_not("rollback") is None:
            dialog = RollbackDialog(connection=self.connection, workers=self._workers, progress_panel=self._progress,
                                    name=self.info.name, current=self.info.version, parent=self.window)
            self._open(dialog, dialog.rolled_back)

    def open_compare(self) -> None:
        from modelgate.gui.compare import open_compare

        if self._why_not("compare") is None:
            self.dialog = open_compare(parent=self.window, connection=self.connection, workers=self._workers,
                                       progress_panel=self._progress,
                                       challenger=(self.info.name, self.info.version))
            self.dialog.finished.connect(lambda _code, dialog=self.dialog: self._forget_only(dialog))

    def _forget_only(self, dialog) -> None:
        # The dialog hands its compare window on; it lives past the dialog, so nothing is deleted here.
        if self.dialog is dialog:
            self.dialog = None

    def open_report(self) -> None:
        from modelgate.gui.dialogs.report_export import ReportExportDialog

        if self._why_not("report") is None:
            self.dialog = ReportExportDialog(connection=self.connection, workers=self._workers,
                                             progress_panel=self._progress, name=self.info.name,
                                             version=self.info.version, parent=self.window)
            self.dialog.finished.connect(lambda _code, dialog=self.dialog: self._forget(dialog))
            self.dialog.open()          # a report changes nothing in the registry

    def open_push(self) -> None:
        from modelgate.gui.dialogs.push_dialog import PushDialog

        if self._why_not("push") is None:
            dialog = PushDialog(connection=self.connection, workers=self._workers, progress_panel=self._progress,
                                name=self.info.name, version=self.info.version, parent=self.window)
            self._open(dialog, dialog.pushed)

    def _on_dialog_changed_registry(self, result) -> None:
        refs = set()
        for attribute in ("restored", "demoted", "superseded"):
            if getattr(result, attribute, None):
                refs.add(getattr(result, attribute))
        if self.info is not None:
            refs.add(self.info.ref)
        self.registry_changed.emit(tuple(sorted(refs)))
