"""The audit view's filter bar: actor, action (or a family of actions), subject text, from and to dates.

Dates are the viewer's local calendar days: "from 3 May" starts at local midnight of
3 May, "to 5 May" ends at local midnight after 5 May; the core compares them with the
UTC times the log holds.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDateEdit, QHBoxLayout, QLabel, QLineEdit, QPushButton,
                               QVBoxLayout, QWidget)

from modelgate.gui.ops.audit import FAMILY, AuditQuery, AuditValues

#: Days before today that a newly ticked "from" date starts at.
FROM_DAYS_BACK = 7


def day_start(day: date) -> datetime:
    """Local midnight at the start of ``day``, as an aware datetime."""
    return datetime.combine(day, time.min).astimezone()


class AuditFilterBar(QWidget):
    """The filters; :meth:`query` reads them as an :class:`AuditQuery`."""

    filters_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._muted = False
        self.actor_box = QComboBox(objectName="audit-actor")
        self.actor_box.addItem("All actors", None)
        self.action_box = QComboBox(objectName="audit-action")
        self.action_box.addItem("All actions", None)
        for box in (self.actor_box, self.action_box):
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            box.setMinimumContentsLength(12)
        self.subject_edit = QLineEdit(objectName="audit-subject", placeholderText="model, name@version, user…")
        self.subject_edit.setClearButtonEnabled(True)
        self.subject_edit.setMinimumWidth(200)
        self.since_check = QCheckBox("Fro&m", objectName="audit-since-on")
        self.until_check = QCheckBox("&To", objectName="audit-until-on")
        today = QDate.currentDate()
        self.since_edit = self._date_edit("audit-since", today.addDays(-FROM_DAYS_BACK))
        self.until_edit = self._date_edit("audit-until", today)
        self.clear_button = QPushButton("&Clear filters", objectName="audit-clear")
        self.clear_button.setToolTip("Show every event again")

        # Who and what on one row, when on the next: one row of both is wider than a window
        # at 200 % scaling on a 1920x1080 screen.
        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        layout = QHBoxLayout()
        for text, field in (("&Actor:", self.actor_box), ("Actio&n:", self.action_box),
                            ("S&ubject:", self.subject_edit)):
            label = QLabel(text)
            label.setBuddy(field)
            layout.addWidget(label)
            layout.addWidget(field, 1 if field is self.subject_edit else 0)
        dates = QHBoxLayout()
        for check, edit in ((self.since_check, self.since_edit), (self.until_check, self.until_edit)):
            dates.addWidget(check)
            dates.addWidget(edit)
            dates.addSpacing(6)
        dates.addStretch(1)
        dates.addWidget(self.clear_button)
        rows.addLayout(layout)
        rows.addLayout(dates)

        self.actor_box.currentIndexChanged.connect(self._on_filter_changed)
        self.action_box.currentIndexChanged.connect(self._on_filter_changed)
        self.subject_edit.textChanged.connect(self._on_filter_changed)
        for check, edit in ((self.since_check, self.since_edit), (self.until_check, self.until_edit)):
            check.toggled.connect(edit.setEnabled)
            check.toggled.connect(self._on_filter_changed)
        self.since_edit.dateChanged.connect(self._on_since_edit_date_changed)
        self.until_edit.dateChanged.connect(self._on_until_edit_date_changed)
        self.clear_button.clicked.connect(self.clear)

    @staticmethod
    def _date_edit(name: str, initial: QDate) -> QDateEdit:
        edit = QDateEdit(initial, objectName=name)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setCalendarPopup(True)
        edit.setEnabled(False)
        return edit

    # ------------------------------------------------------------------ reading and setting
    def query(self) -> AuditQuery:
        """The filters as a query, newest first."""
        since = day_start(self.since_edit.date().toPython()) if self.since_check.isChecked() else None
        until = (day_start(self.until_edit.date().toPython() + timedelta(days=1))
                 if self.until_check.isChecked() else None)
        return AuditQuery(actor=self.actor_box.currentData(), action=self.action_box.currentData(),
                          text=self.subject_edit.text(), since=since, until=until)

    def set_values(self, values: AuditValues) -> None:
        """Offer ``values``' actors, and its actions with their families, keeping the current choices."""
        actor, action = self.actor_box.currentData(), self.action_box.currentData()
        families = values.families()
        actions = sorted([*values.actions, *families], key=lambda a: (a.rstrip(FAMILY), a.endswith(FAMILY) is False))
        for box, items, chosen in ((self.actor_box, values.actors, actor), (self.action_box, actions, action)):
            box.blockSignals(True)
            try:
                while box.count() > 1:
                    box.removeItem(1)
                for item in items:
                    if item in families:
                        members = values.family(item)
                        box.addItem(f"{item}*  ({len(members)} actions)", item)
                        box.setItemData(box.count() - 1, ", ".join(members), Qt.ItemDataRole.ToolTipRole)
                    else:
                        box.addItem(item, item)
                if chosen is not None and box.findData(chosen) < 0:
                    box.addItem(chosen, chosen)     # chosen before the values were known: keep it
                box.setCurrentIndex(max(0, box.findData(chosen)) if chosen is not None else 0)
            finally:
                box.blockSignals(False)

    def clear(self) -> bool:
        """Show every event again; whether any filter was set (the change is announced once)."""
        if not self.query().filtered:
            return False
        self.set_filters()
        return True

    def set_filters(self, *, actor: str | None = None, action: str | None = None, text: str = "",
                    announce: bool = True) -> None:
        """Set the actor, action and subject filters and clear the dates; ``announce`` the change once."""
        self._muted = True      # the widgets' own signals still run (the line edit's clear button follows them)
        try:
            for box, value in ((self.actor_box, actor), (self.action_box, action)):
                if value is not None and box.findData(value) < 0:
                    box.addItem(value, value)
                box.setCurrentIndex(max(0, box.findData(value)) if value is not None else 0)
            self.subject_edit.setText(text)
            self.since_check.setChecked(False)
            self.until_check.setChecked(False)
        finally:
            self._muted = False
        if announce:
            self.filters_changed.emit()

    def focus_subject(self) -> None:
        self.subject_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.subject_edit.selectAll()

    # ------------------------------------------------------------------ slots
    def _on_filter_changed(self, *_args) -> None:
        if not self._muted:
            self.filters_changed.emit()

    def _on_since_edit_date_changed(self, _date: QDate) -> None:
        if self.since_check.isChecked():
            self._on_filter_changed()

    def _on_until_edit_date_changed(self, _date: QDate) -> None:
        if self.until_check.isChecked():
            self._on_filter_changed()
