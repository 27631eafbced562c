"""The review panel beside the inspector: the decisions so far and the reviewer's own.

Approve, Reject and Request changes call the core's ``workflow.review`` on the registry
worker, exactly as ``modelgate review`` does. A button the acting user may not use is
disabled, and its tooltip says why. Below, the version's workflow actions (promote,
sign, roll back, compare, report) as tool buttons of the window's own actions.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QFrame, QGridLayout, QGroupBox, QLabel, QPlainTextEdit, QPushButton,
                               QScrollArea, QSizePolicy, QToolButton, QVBoxLayout, QWidget)

from modelgate.core.policy.stages import ON_THE_WAY
from modelgate.gui.app.theme import follow_theme
from modelgate.gui.app.why_disabled import say_why_on_hover
from modelgate.gui.inspector.widgets import BAD, DOUBT, GOOD, MUTED
from modelgate.gui.ops import workflow
from modelgate.gui.ops.background import BackgroundOperation
from modelgate.gui.ops.workflow import REVIEW_ROLES
from modelgate.gui.registry.model import updated_text
from modelgate.gui.review.waiver_badges import WaiverBadges

DECISIONS = (("approve", "Approve", GOOD), ("reject", "Reject", BAD), ("request-changes", "Request changes", DOUBT))
DECISION_COLOUR = {key: colour for key, _text, colour in DECISIONS}


def review_card(review, *, current: bool) -> QLabel:
    """One review as a few wrapped lines: who, as what, decided what, where, when, and why."""
    colour = DECISION_COLOUR.get(review.decision, MUTED)
    where = f"at {review.stage}" + ("" if current else " (an earlier stage)")
    label = QLabel()
    follow_theme(label, lambda: label.setText(
        f"<b>{escape(review.reviewer)}</b> ({escape(review.roles.replace(',', ', '))}) "
        f"<span style='color:{colour}; font-weight:bold'>{escape(review.decision)}</span> "
        f"{escape(where)}<br><span style='color:{MUTED}'>{updated_text(review.created_at)}</span>"
        f"<br>{escape(review.comment)}"))
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setObjectName("review-card")
    label.setStyleSheet("QLabel#review-card { border-bottom: 1px solid palette(mid); padding: 4px 0; }")
    return label


def review_list(reviews, *, current_stage: str) -> QScrollArea:
    """Every review, newest first, in a scrolling column."""
    body = QWidget()
    column = QVBoxLayout(body)
    column.setContentsMargins(0, 0, 0, 0)
    for review in reversed(reviews):
        column.addWidget(review_card(review, current=review.stage == current_stage))
    column.addStretch(1)
    area = QScrollArea(objectName="reviews")
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(body)
    return area


def own_block(detail, user: str) -> str | None:
    """The submitter's own reject or request for changes standing at the version's stage, if any:
    it blocks the promotion until they approve again, so they must be able to lift it."""
    if detail is None:
        return None
    latest = [r for r in detail.reviews if r.reviewer == user and r.stage == detail.info.stage]
    return latest[-1].decision if latest and latest[-1].decision != "approve" else None


def review_refusal(*, connection, info, comment: str, decision: str = "approve", detail=None) -> str | None:
    """Why the acting user cannot record ``decision`` on ``info`` now, or None when they can."""
    if connection is None or info is None:
        return "Select a version of the registry first."
    if info.stage not in ON_THE_WAY:
        return (f"{info.ref} is at {info.stage}: reviews count toward the next stage, so only draft, "
                "candidate and staging versions are reviewed.")
    refused = connection.role_refusal(*REVIEW_ROLES, doing="reviewing")
    if refused:
        return refused
    if connection.actor == info.submitter:
        block = own_block(detail, connection.actor)
        if not (block and decision == "approve"):
            return (f"You submitted {info.ref}, so your approval never counts toward a promotion"
                    + (f"; approving lifts your own {block}." if block else "."))
    if not comment.strip():
        return "Write a comment first: every decision needs one, and it is kept in the audit log."
    return None


class ReviewPanel(QWidget):
    """Reviews of the shown version and the buttons to add one."""

    review_recorded = Signal(object)        # ReviewRecorded
    detail_loaded = Signal(object)          # VersionDetail, read afresh for the version shown

    def __init__(self, *, workers, progress_panel, actions=(), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("review-panel")
        self._workers = workers
        self._progress = progress_panel
        self.connection = None
        self.info = None
        self.detail = None
        self.recording = False              # a decision is on its way to the registry
        self.expected: str | None = None    # name@version whose record is awaited
        self._generation = 0
        self.heading = QLabel("No version selected", objectName="review-heading")
        self.heading.setWordWrap(True)
        font = self.heading.font()
        font.setBold(True)
        self.heading.setFont(font)
        self.waivers = WaiverBadges()
        self.reviews_box = QVBoxLayout()
        self.comment = QPlainTextEdit(objectName="review-comment")
        self.comment.setPlaceholderText("Your comment (required; kept in the audit log)")
        self.comment.setMaximumHeight(90)
        self.buttons: dict[str, QPushButton] = {}
        row = QGridLayout()           # two buttons a row, so the panel stays narrow
        for n, (key, text, colour) in enumerate(DECISIONS):
            button = QPushButton(text, objectName=f"review-{key}")
            follow_theme(button, lambda button=button, colour=colour: button.setStyleSheet(
                f"QPushButton:enabled {{ color: {colour}; font-weight: bold; }}"))
            button.clicked.connect(lambda _checked=False, key=key: self.record(decision=key))
            self.buttons[key] = button
            row.addWidget(button, n // 2, n % 2)
            say_why_on_hover(button)
        self.why_disabled = QLabel(objectName="review-why")
        self.why_disabled.setWordWrap(True)
        self.why_disabled.setStyleSheet("color: palette(placeholder-text);")

        decide = QGroupBox("Your review")
        decide_layout = QVBoxLayout(decide)
        decide_layout.addWidget(self.comment)
        decide_layout.addLayout(row)
        decide_layout.addWidget(self.why_disabled)
        workflow = QGroupBox("Workflow")
        grid = QGridLayout(workflow)
        for n, action in enumerate(actions):
            button = QToolButton(objectName=f"workflow-{action.objectName()}")
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
            # One a row: two a row made the panel too wide for a window at 200 % scaling.
            grid.addWidget(button, n, 0)
            say_why_on_hover(button)
        reviews = QGroupBox("Reviews so far")
        reviews.setLayout(self.reviews_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 2, 6)        # the splitter's handle and the scroll bar frame it
        layout.addWidget(self.heading)
        layout.addWidget(self.waivers)
        layout.addWidget(reviews, 1)
        layout.addWidget(decide)
        layout.addWidget(workflow)
        self.comment.textChanged.connect(self._update_buttons)
        self._show_reviews()
        self._update_buttons()

    # ------------------------------------------------------------------ what to show
    def set_connection(self, connection) -> None:
        self.connection = connection
        self.show_version(None)

    def show_version(self, info) -> None:
        """Show the reviews of ``info`` (a VersionInfo or QueueItem of the registry), or none,
        reading its record afresh."""
        self.expect_version(info)
        if info is None or self.connection is None:
            return
        generation, connection = self._generation, self.connection
        BackgroundOperation(parent=self, executor=self._workers.registry,
                            work=lambda _p: connection.detail(name=info.name, version=info.version)) \
            .on_success(lambda detail: self._on_detail_read(generation, detail)).start()

    def expect_version(self, info) -> None:
        """Clear the panel for ``info``, whose record someone else reads and hands to
        :meth:`show_detail` (the inspector reads it anyway: one read, not two)."""
        self._generation += 1
        self.expected = info.ref if info is not None else None
        self.info, self.detail = None, None
        self.heading.setText("No version selected" if info is None else f"Reviews of {info.ref}")
        self.waivers.show_waivers(())
        self._show_reviews()
        self._update_buttons()

    def show_detail(self, detail) -> None:
        """Show ``detail`` (a VersionDetail) if it is the version expected."""
        if detail.info.ref == self.expected:
            self._on_detail_read(self._generation, detail)

    def show_outside_registry(self, label: str) -> None:
        """A bundle opened on its own: nothing to review until it is imported."""
        self.show_version(None)
        self.heading.setText(f"{label} is not in a registry: import it to review it")

    def _on_detail_read(self, generation: int, detail) -> None:
        if generation != self._generation:
            return
        self.detail, self.info = detail, detail.info
        self.heading.setText(f"Reviews of {detail.info.ref} · {detail.info.stage} · submitted by "
                             f"{detail.info.submitter}")
        self.waivers.show_waivers(getattr(detail, "waivers", ()))
        self._show_reviews()
        self._update_buttons()
        self.detail_loaded.emit(detail)

    def _show_reviews(self) -> None:
        while self.reviews_box.count():
            # Hidden now: deleted only when the event loop next runs, it would still be drawn
            # under its replacement (as in a window grabbed before that).
            old = self.reviews_box.takeAt(0).widget()
            old.hide()
            old.deleteLater()
        reviews = self.detail.reviews if self.detail else []
        if not reviews:
            text = "No review yet." if self.detail else "Select a registry version to see its reviews."
            label = QLabel(text, objectName="reviews-empty")
            label.setWordWrap(True)
            self.reviews_box.addWidget(label)
            return
        self.reviews_box.addWidget(review_list(reviews, current_stage=self.detail.info.stage))

    def _update_buttons(self) -> None:
        comment = self.comment.toPlainText()
        refusals = {key: review_refusal(connection=self.connection, info=self.info, comment=comment,
                                        decision=key, detail=self.detail) for key in self.buttons}
        if self.recording:
            refusals = {key: "Your decision is being recorded." for key in self.buttons}
        for key, button in self.buttons.items():
            button.setEnabled(refusals[key] is None)
            button.setToolTip(refusals[key] or f"Record your decision on {self.info.ref} at {self.info.stage}")
        shown = next((why for why in refusals.values() if why), None) if all(refusals.values()) else None
        self.why_disabled.setText(shown or "")
        self.why_disabled.setVisible(bool(shown))

    # ------------------------------------------------------------------ acting
    def record(self, *, decision: str) -> None:
        """Record the acting user's ``decision`` with the comment typed (registry worker), at the
        stage shown: a version that moved on meanwhile is refused, not reviewed unseen."""
        info, connection, comment = self.info, self.connection, self.comment.toPlainText().strip()
        if self.recording or review_refusal(connection=connection, info=info, comment=comment,
                                            decision=decision, detail=self.detail) is not None:
            return
        self.recording = True
        self._update_buttons()

        def same_version() -> bool:
            # The version shown, or the one expected while a refresh of the listing re-reads it
            # (its record is then briefly unknown): still the version the comment was about.
            shown = self.info.ref if self.info is not None else self.expected
            return shown == info.ref

        def done(result) -> None:
            self.recording = False
            if same_version():
                self.comment.clear()
            self.review_recorded.emit(result)
            if same_version():
                self.show_version(info)

        BackgroundOperation(parent=self, executor=self._workers.registry,
                            work=lambda _p: workflow.review(connection, name=info.name, version=info.version,
                                                            decision=decision, comment=comment,
                                                            expected_stage=info.stage)) \
            .with_progress(panel=self._progress, label=f"Recording {decision} of {info.ref}", cancellable=False) \
            .on_success(done).on_failure(self._on_record_failed).start()

    def _on_record_failed(self, error) -> None:
        from modelgate.gui.dialogs.error import show_error

        self.recording = False
        self._update_buttons()
        if self.info is not None:
            self.show_version(self.info)        # e.g. it moved on: show where it is now
        show_error(parent=self, error=error, action="Recording the review")
