"""The main window: the registry on the left, the inspector on the right, menus, status bar."""

from __future__ import annotations

import gc
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QApplication, QFileDialog, QFrame, QHBoxLayout, QInputDialog, QLineEdit, QMainWindow,
                               QScrollArea, QSplitter, QStackedWidget, QWidget)

from modelgate.core.errors import UsageError
from modelgate.gui.app.actions import build_menus
from modelgate.gui.audit.view import AuditView
from modelgate.gui.dialogs.error import show_error
from modelgate.gui.dialogs.settings_dialog import SettingsDialog
from modelgate.gui.graph.launcher import GraphLauncher, refusal_for
from modelgate.gui.graph.netron_page import NetronUnavailable
from modelgate.gui.inspector.inspector import Inspector
from modelgate.gui.ops.background import BackgroundOperation, release
from modelgate.gui.app.progress_panel import ProgressPanel
from modelgate.gui.review.queue_panel import QueuePanel
from modelgate.gui.ops.registry import RegistryConnection
from modelgate.gui.registry.panel import RegistryPanel
from modelgate.gui.review.panel import ReviewPanel
from modelgate.gui.app.settings import ACTING_USER, POLICY_FILE, REGISTRY_URL, THEME, TRUST_STORE, GuiSettings
from modelgate.gui.app.sidebar import Sidebar
from modelgate.gui.app.theme import apply_theme
from modelgate.gui.review.version_actions import VersionActions
from modelgate.gui.app.window_menus import window_menus
from modelgate.gui.ops.workers import Workers

#: Splitters whose positions are kept between sessions, by their object name.
#: How often the queue (and its count in the sidebar) is read again.
QUEUE_REFRESH_MS = 60_000
KEPT_SPLITTERS = ("main-splitter", "inspector-splitter", "card-splitter", "validation-splitter")


@dataclass(frozen=True)
class SessionOverrides:
    """What the command line says for this session only (never saved): ``None`` keeps the setting."""

    registry: str | None = None
    user: str | None = None
    policy: Path | None = None


class MainWindow(QMainWindow):
    """ModelGate's main window."""

    registry_opened = Signal(object)        # RegistryConnection
    bundle_imported = Signal(object)        # ImportResult

    def __init__(self, *, settings: GuiSettings, overrides: SessionOverrides = SessionOverrides(),
                 workers: Workers | None = None, embedded_graphs: bool | None = None) -> None:
        super().__init__()
        self.setObjectName("main-window")
        self.settings = settings
        self.overrides = overrides
        self.workers = workers or Workers()
        self.connection: RegistryConnection | None = None
        self.progress = ProgressPanel()
        self.registry_panel = RegistryPanel(workers=self.workers, progress_panel=self.progress)
        self.queue_panel = QueuePanel(workers=self.workers, progress_panel=self.progress)
        self.inspector = Inspector(workers=self.workers, progress_panel=self.progress,
                                   trust_store=settings.get(TRUST_STORE))
        self.version_actions = VersionActions(window=self, workers=self.workers, progress_panel=self.progress,
                                              settings=settings)
        self.review_panel = ReviewPanel(workers=self.workers, progress_panel=self.progress,
                                        actions=list(self.version_actions.actions.values()))
        self.sidebar = Sidebar()
        self.lists = QStackedWidget(objectName="lists")      # the registry or the queue
        self.lists.addWidget(self.registry_panel)
        self.lists.addWidget(self.queue_panel)
        self.inspector_splitter = QSplitter(Qt.Orientation.Horizontal, objectName="inspector-splitter")
        self.inspector_splitter.addWidget(self.inspector)
        self.inspector_splitter.addWidget(self._scrolling(self.review_panel))
        self.inspector_splitter.setStretchFactor(0, 3)
        self.inspector_splitter.setStretchFactor(1, 1)
        self.inspector_splitter.setSizes([780, 290])
        self.splitter = QSplitter(Qt.Orientation.Horizontal, objectName="main-splitter")
        self.splitter.addWidget(self.lists)
        self.splitter.addWidget(self.inspector_splitter)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setSizes([400, 1070])      # until the user's own split is restored
        self.audit_view = AuditView(workers=self.workers, progress_panel=self.progress)
        self.pages = QStackedWidget(objectName="pages")     # browsing, or the audit log at full width
        self.pages.addWidget(self.splitter)
        self.pages.addWidget(self.audit_view)
        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.sidebar)
        row.addWidget(self.pages, 1)
        self.setCentralWidget(central)
        self.statusBar().addPermanentWidget(self.progress)
        self.graphs = GraphLauncher(window=self, embedded=embedded_graphs)
        self.actions_by_name = build_menus(self, window_menus(self))
        version_menu = next(a.menu() for a in self.menuBar().actions() if a.text() == "V&ersion")
        for action in self.version_actions.actions.values():
            version_menu.addAction(action)
            self.addAction(action)
        self.registry_panel.setVisible(False)
        self.sidebar.setEnabled(False)     # shown all along, so the splitters keep their width
        self.setWindowTitle("ModelGate")
        self.resize(1600, 940)
        self._restore_layout()

        self.registry_panel.version_selected.connect(self._on_registry_panel_version_selected)
        self.queue_panel.item_chosen.connect(self._on_queue_panel_item_chosen)
        self.queue_panel.queue_loaded.connect(self._on_queue_panel_queue_loaded)
        self.review_panel.review_recorded.connect(self._on_review_panel_review_recorded)
        self.review_panel.detail_loaded.connect(self._on_review_panel_detail_loaded)
        self.version_actions.registry_changed.connect(self._on_version_actions_registry_changed)
        self.sidebar.view_chosen.connect(self._on_sidebar_view_chosen)
        # Others review, sign and promote at their own desks: the queue's count keeps up.
        self.queue_timer = QTimer(self, interval=QUEUE_REFRESH_MS)
        self.queue_timer.timeout.connect(self.queue_panel.refresh)
        self.queue_timer.start()
        self.registry_panel.facets_indexed.connect(self._on_registry_panel_facets_indexed)
        self.inspector.parent_requested.connect(self._on_inspector_parent_requested)
        self.inspector.graph_requested.connect(self._on_inspector_graph_requested)
        self.inspector.record_read.connect(self.review_panel.show_detail)
        self.inspector.loading_failed.connect(self._on_inspector_loading_failed)
        self.progress.message_announced.connect(lambda text: self.statusBar().showMessage(text, 5000))

    # ---------------------------------------------------------------- registry
    def open_registry(self, *, url: str | None = None, user: str | None = None) -> None:
        """Open the registry at ``url`` as ``user`` (defaults: the overrides, then the settings)."""
        url = url or self.overrides.registry or self.settings.get(REGISTRY_URL) or None
        user = user or self.overrides.user or self.settings.get(ACTING_USER) or None
        BackgroundOperation(parent=self, executor=self.workers.registry,
                            work=lambda progress: RegistryConnection.open(url=url, user=user)) \
            .with_progress(panel=self.progress, label="Opening the registry", cancellable=False) \
            .on_success(self._on_registry_opened).start()

    def _on_registry_opened(self, connection: RegistryConnection) -> None:
        previous, self.connection = self.connection, connection
        if previous is not None:     # closed by its owner, the registry worker, after its queued work
            BackgroundOperation(parent=self, executor=self.workers.registry, work=lambda _p: previous.close()).start()
        self.registry_panel.setVisible(True)
        self.sidebar.setEnabled(True)
        self.registry_panel.set_connection(connection)
        self.queue_panel.set_connection(connection)
        self.review_panel.set_connection(connection)
        if self.pages.currentWidget() is self.audit_view:
            self.audit_view.set_connection(connection)  # otherwise once it is first shown
        self.version_actions.set_context(connection=connection, info=None)
        self.setWindowTitle(f"ModelGate — {connection.label} as {connection.actor}")
        self.statusBar().showMessage(f"Registry open: {connection.label}, acting as "
                                     f"{connection.actor}, policy {connection.policy.name}", 8000)
        self.registry_opened.emit(connection)

    def choose_registry(self) -> None:
        current = self.connection.url if self.connection else self.settings.get(REGISTRY_URL)
        url, ok = QInputDialog.getText(self, "Open registry", "Registry URL (sqlite:///PATH/registry.db or "
                                       "postgresql+psycopg://LOGIN@HOST/DB):", QLineEdit.EchoMode.Normal, current)
        if ok and url.strip():
            self.open_registry(url=url.strip())

    # ---------------------------------------------------------------- bundles
    def bundle_policy_file(self) -> Path | None:
        """The policy for bundles opened on their own: the override, the setting, else the default."""
        chosen = self.overrides.policy or self.settings.get(POLICY_FILE) or None
        return Path(chosen) if chosen else None

    def open_bundle(self, *, path: Path) -> None:
        """Show the bundle at ``path`` (folder or archive), which is in no registry."""
        self.inspector.inspect_bundle(path=Path(path), policy_file=self.bundle_policy_file())
        self.review_panel.show_outside_registry(Path(path).name)
        self.version_actions.set_context(connection=self.connection, info=None)
        if self.connection is None:
            self.setWindowTitle(f"ModelGate — {Path(path).name}")

    def choose_bundle_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open bundle folder")
        if folder:
            self.open_bundle(path=Path(folder))

    def choose_bundle_archive(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open bundle archive", "",
                                              "Bundle archives (*.zip *.tar *.tar.gz *.tgz)")
        if path:
            self.open_bundle(path=Path(path))

    def choose_bundle_to_import(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import bundle folder into the registry")
        if folder:
            self.import_bundle(path=Path(folder))

    def import_bundle(self, *, path: Path) -> None:
        """Import the bundle at ``path`` into the open registry (as ``modelgate registry import``),
        then show the imported version."""
        connection = self.connection
        if connection is None:
            show_error(parent=self, error=UsageError("no registry is open",
                                                     hint="Open one with File › Open registry…"),
                       action="Importing a bundle")
            return
        BackgroundOperation(parent=self, executor=self.workers.registry,
                            work=lambda progress: connection.import_bundle(path=path, progress=progress)) \
            .with_progress(panel=self.progress, label=f"Importing {Path(path).name}") \
            .on_success(self._on_bundle_imported).start()

    def choose_oci_import(self) -> None:
        """Verify and import an artifact from an OCI registry or image layout."""
        from modelgate.gui.dialogs.oci_import import OciImportDialog

        if self.connection is None:
            show_error(parent=self, error=UsageError("no registry is open", hint="Open one with File › Open registry…"),
                       action="Importing from OCI")
            return
        dialog = OciImportDialog(connection=self.connection, workers=self.workers, progress_panel=self.progress,
                                 parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.imported.connect(self._on_bundle_imported)
        dialog.open()

    def _on_bundle_imported(self, result) -> None:
        said = "imported as a draft" if result.created else "was already in the registry"
        self.statusBar().showMessage(f"{result.name}@{result.version} {said}", 8000)
        self.sidebar.choose("registry")
        self.registry_panel.refresh()
        self.queue_panel.refresh()
        self.registry_panel.select_version(name=result.name, version=result.version)
        self.bundle_imported.emit(result)

    # ---------------------------------------------------------------- other actions
    def refresh(self) -> None:
        """Reload the listing (keeping the selection) and check the shown version again."""
        if self.connection is not None:
            self.registry_panel.refresh()
            self.queue_panel.refresh()
            self.review_panel.show_version(self.version_actions.info)
            if self.pages.currentWidget() is self.audit_view:
                self.audit_view.refresh()
        self.inspector.rerun_validation()

    def edit_settings(self) -> None:
        dialog = SettingsDialog(settings=self.settings, overrides=self.overrides,
                                registry_url=self.connection.label if self.connection else None, parent=self)
        if dialog.exec():
            apply_theme(QApplication.instance(), theme=self.settings.get(THEME))
            self.inspector.trust_store = self.settings.get(TRUST_STORE)
            self.statusBar().showMessage("Settings saved; Open registry or Refresh to use a new registry "
                                         "or policy.", 8000)

    # ---------------------------------------------------------------- slots
    def show_version(self, info) -> None:
        """Inspect ``info`` (a VersionInfo or QueueItem of the open registry) and review it."""
        if self.connection is not None:
            self.inspector.inspect_version(connection=self.connection, info=info)
            self.review_panel.expect_version(info)      # the inspector's record read serves both
            self.version_actions.set_context(connection=self.connection, info=info)

    def _on_registry_panel_version_selected(self, info) -> None:
        if self.lists.currentWidget() is self.registry_panel:   # not a refresh behind the queue
            self.show_version(info)

    def _on_queue_panel_item_chosen(self, item) -> None:
        self.show_version(item)

    def _on_queue_panel_queue_loaded(self, queue) -> None:
        self.sidebar.set_count("queue", len(queue.items), more=not queue.complete)
        if self.connection is not None and queue.user == self.connection.actor \
                and tuple(queue.roles) != tuple(sorted(self.connection.roles)):
            # An admin changed this user's roles: the buttons follow what the queue was read with.
            self.connection.roles = tuple(queue.roles)
            self.review_panel.show_version(self.version_actions.info)
            self.version_actions.set_context(connection=self.connection, info=self.version_actions.info)

    def _on_sidebar_view_chosen(self, view: str) -> None:
        if view == "audit":
            if self.audit_view.connection is not self.connection:
                self.audit_view.set_connection(self.connection)
            elif self.pages.currentWidget() is not self.audit_view and self.audit_view.model.rowCount():
                self.audit_view.refresh()   # events were added while it was out of sight
            self.pages.setCurrentWidget(self.audit_view)
            return
        self.lists.setCurrentWidget(self.queue_panel if view == "queue" else self.registry_panel)
        self.pages.setCurrentWidget(self.splitter)

    def _on_review_panel_detail_loaded(self, detail) -> None:
        # The record just read is newer than the listing's row (others act on the registry too).
        shown = self.version_actions.info
        if shown is not None and shown.ref == detail.info.ref:
            self.version_actions.set_context(connection=self.connection, info=detail.info)

    def _on_review_panel_review_recorded(self, review) -> None:
        self._on_version_actions_registry_changed((f"{review.name}@{review.version}",))

    def _on_version_actions_registry_changed(self, refs) -> None:
        # The listing, the queue and the version in view may all have changed; nothing else did.
        self.registry_panel.refresh()
        self.queue_panel.refresh()
        shown, connection = self.version_actions.info, self.connection
        if shown is None or shown.ref not in refs:
            return
        # Read afresh rather than wait for the listing: its filter may no longer hold the version.
        BackgroundOperation(parent=self, executor=self.workers.registry,
                            work=lambda _p: connection.detail(name=shown.name, version=shown.version)) \
            .on_success(lambda detail: self.show_version(detail.info)).start()

    def _on_registry_panel_facets_indexed(self, _versions: int) -> None:
        # What is loaded by now (the libraries, the registry's index of 100,000 versions) lives
        # as long as the window: out of the collector's sight, its full collections stay a few
        # milliseconds long instead of stalling a keystroke for a tenth of a second.
        gc.freeze()

    def _on_inspector_loading_failed(self, _message: str) -> None:
        # The record may not have been read: the panel reads it itself rather than wait.
        if self.review_panel.detail is None and self.version_actions.info is not None:
            self.review_panel.show_version(self.version_actions.info)

    def _on_inspector_parent_requested(self, name: str, version: str) -> None:
        self.sidebar.choose("registry")     # the parent is looked for in the whole registry
        self.registry_panel.select_version(name=name, version=version)

    def _on_inspector_graph_requested(self, subject, artifact: str) -> None:
        try:
            graph = next(g for g in subject.facts.graphs if g.path == artifact)
            refused = refusal_for(graph=graph)
            if refused:
                raise NetronUnavailable(refused, hint="The Interface and graph tab lists what the file holds.")
            model = subject.facts.bundle.resolve(artifact)
            format_name = graph.model["format"] if graph.model is not None else "onnx"
            said = self.graphs.open(model=model, title=f"{subject.label}: {artifact}", format_name=format_name)
        except Exception as error:  # Netron missing or refusing: in plain words, in the one dialog
            from modelgate.gui.dialogs.error import explain

            self.inspector.interface.show_graph_note(f"The graph could not be shown: {explain(error)[0]}")
            show_error(parent=self, error=error, action="Opening the graph")
            return
        self.inspector.interface.show_graph_note(said)

    # ---------------------------------------------------------------- layout and closing
    @staticmethod
    def _scrolling(panel: QWidget) -> QScrollArea:
        """``panel`` in a page that scrolls up and down (never sideways), so a short window
        (200 % scaling) still reaches its last buttons."""
        area = QScrollArea(objectName=f"{panel.objectName()}-scroll")
        area.setWidget(panel)
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        area.setMinimumWidth(panel.minimumSizeHint().width() + area.verticalScrollBar().sizeHint().width())
        return area

    def _splitters(self) -> list[QSplitter]:
        return [s for s in self.findChildren(QSplitter) if s.objectName() in KEPT_SPLITTERS]

    def _restore_layout(self) -> None:
        geometry = self.settings.layout("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        for splitter in self._splitters():
            state = self.settings.layout(splitter.objectName())
            if state is not None:
                splitter.restoreState(state)

    def save_layout(self) -> None:
        """Keep the window's geometry and splitter positions for next time."""
        self.settings.save_layout("geometry", self.saveGeometry())
        for splitter in self._splitters():
            self.settings.save_layout(splitter.objectName(), splitter.saveState())
        self.settings.sync()

    def closeEvent(self, event) -> None:
        self.save_layout()
        self.graphs.shutdown()
        release(owner=self)     # every panel's and dialog's work: cancelled, its outcome dropped
        for handle in self.progress.running:
            handle.cancel()
        # Cancelled work stops at its next progress check; the registry is closed only once no
        # worker uses it any more.
        self.workers.shutdown(wait=True)
        self.inspector.release()
        if self.connection is not None:
            self.connection.close()
        super().closeEvent(event)
