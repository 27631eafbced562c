"""The comparison's own window: two stored versions read off the UI thread, then shown.

Loading takes two background steps: the registry's records (registry worker: which
version is the champion, the policy's limits, stored validation runs), then the stored
bundles (a worker process, through the bundle pool: manifests, benchmarks, graphs, and a
validation of each version without a stored run). Progress shows in this window and in the
main window's status bar, so Cancel in either (or closing the main window) stops the work. A closed window
cancels its work, goes away at once, and no outcome of that work reaches it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from modelgate.gui.compare.compare_view import CompareView
from modelgate.gui.ops import compare as comparing
from modelgate.gui.ops.background import BackgroundOperation, alive, release
from modelgate.gui.app.progress_panel import ProgressPanel

#: The window's size when it opens.
SIZE = (1400, 900)


class MirroredPanel:
    """Shows each operation in several progress panels at once (the window's and the main one's)."""

    def __init__(self, *panels) -> None:
        self._panels = [panel for panel in panels if panel is not None]

    @property
    def _alive(self) -> list:
        # The window's own panel goes with the window, while its work may still be stopping.
        return [panel for panel in self._panels if alive(panel)]

    def begin(self, *, handle, cancellable: bool) -> None:
        for panel in self._alive:
            panel.begin(handle=handle, cancellable=cancellable)

    def show_progress(self, *, handle, phase: str, done: int, total: int) -> None:
        for panel in self._alive:
            panel.show_progress(handle=handle, phase=phase, done=done, total=total)

    def end(self, *, handle) -> None:
        for panel in self._alive:
            panel.end(handle=handle)

    def announce(self, text: str) -> None:
        for panel in self._alive:
            panel.announce(text)


class CompareWindow(QWidget):
    """A top-level window holding one :class:`CompareView`."""

    comparison_shown = Signal(object)       # Comparison
    loading_failed = Signal(str)            # the message shown

    def __init__(self, *, connection, workers, progress_panel=None, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("compare-window")
        self.setWindowTitle("Compare versions — ModelGate")
        self._connection = connection
        self._workers = workers
        self.progress = ProgressPanel()
        self._panel = MirroredPanel(self.progress, progress_panel)
        self._handles: list = []
        self._generation = 0
        self.view = CompareView(workers=workers)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 6)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.progress)
        self.view.comparison_shown.connect(self.comparison_shown)
        self.resize(*SIZE)

    def compare(self, *, champion: tuple[str, str] | None, challenger: tuple[str, str],
                stage: str | None = None) -> None:
        """Compare ``champion`` (``None``: the production version of the challenger's model) with
        ``challenger``, each ``(name, version)``, judged for ``stage`` (default: the challenger's next)."""
        for handle in self._handles:
            handle.cancel()
        self._generation += 1
        b = f"{challenger[0]}@{challenger[1]}"
        self.setWindowTitle(f"Compare {b} — ModelGate")
        self.view.show_loading(champion=champion, challenger=challenger,
                               text=f"Comparing {b} with {'@'.join(champion) if champion else 'the production version'}…")
        connection = self._connection

        def plan(progress):
            return comparing.plan(connection, champion=champion, challenger=challenger, stage=stage)

        self._start(self._workers.registry, plan, f"Reading {b} for the comparison", self._on_planned)

    def _start(self, executor, work, label: str, done) -> None:
        handle = (BackgroundOperation(parent=self, executor=executor, work=work)
                  .with_progress(panel=self._panel, label=label)
                  .on_success(self._current(done)).on_failure(self._current(self._on_failed))
                  .on_cancelled(self._current(self._on_cancelled)).start())
        self._handles = [h for h in self._handles if h.running] + [handle]

    def _current(self, callback):
        """``callback``, called only while the comparison it belongs to is the latest."""
        generation = self._generation

        def call(*args) -> None:
            if generation == self._generation:
                callback(*args)
        return call

    def _on_planned(self, plan) -> None:
        self.setWindowTitle(f"Compare {plan.a.label} → {plan.b.label} — ModelGate")
        self.view.show_loading(champion=(plan.a.name, plan.a.version), challenger=(plan.b.name, plan.b.version),
                               text=f"Comparing {plan.a.label} with {plan.b.label}: reading and validating the "
                                    "stored bundles…")

        processes = self._workers.processes

        def run(progress):
            return comparing.run(plan, processes=processes, progress=progress)

        self._start(self._workers.bundles, run, f"Comparing {plan.a.label} with {plan.b.label}", self._on_compared)

    def _on_compared(self, comparison) -> None:
        self.view.show_comparison(comparison)

    def _on_failed(self, error) -> None:
        from modelgate.gui.dialogs.error import explain, show_error

        message, hint = explain(error)
        self.view.show_failure(message=f"The comparison could not be made: {message}" + (f"\n\n{hint}" if hint else ""))
        self.loading_failed.emit(message)
        show_error(parent=self, error=error, action="Comparing")

    def _on_cancelled(self) -> None:
        self.view.show_failure(message="The comparison was cancelled.")

    def closeEvent(self, event) -> None:
        release(owner=self)
        self.deleteLater()
        super().closeEvent(event)


def show_comparison(*, parent: QWidget | None, connection, workers, progress_panel=None,
                    champion: tuple[str, str] | None, challenger: tuple[str, str],
                    stage: str | None = None) -> CompareWindow:
    """Open a :class:`CompareWindow` comparing ``champion`` (``None``: the production version)
    with ``challenger`` and start loading; return the window (shown)."""
    window = CompareWindow(connection=connection, workers=workers, progress_panel=progress_panel, parent=parent)
    window.show()
    window.compare(champion=champion, challenger=challenger, stage=stage)
    return window
