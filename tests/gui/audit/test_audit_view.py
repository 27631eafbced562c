"""The audit view on the demo registry: newest first, filters, lazy pages both ways, Verify chain."""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime

import pytest
from PySide6.QtCore import QDate, Qt

from modelgate.core.registry import audit, open_registry
from modelgate.gui.audit.model import CONTEXT, PAGE_SIZE
from modelgate.gui.audit.view import AuditView
from modelgate.gui.app.progress_panel import ProgressPanel
from modelgate.gui.ops.registry import RegistryConnection
from modelgate.gui.ops.workers import Workers


@pytest.fixture
def events(demo_registry_copy):
    """The demo registry's audit log as the core reads it, oldest first."""
    with open_registry(url=demo_registry_copy, user="ben") as registry:
        return registry.audit_log()


@dataclass
class Opened:
    view: AuditView
    workers: Workers
    panel: ProgressPanel


@pytest.fixture
def open_view(qtbot, qapp, demo_registry_copy):
    """Factory: an audit view on the demo copy (as ``ben``), shown, with its first page and values loaded."""
    made = []

    def make() -> Opened:
        workers, panel = Workers(), ProgressPanel()
        view = AuditView(workers=workers, progress_panel=panel)
        qtbot.addWidget(view)
        qtbot.addWidget(panel)
        view.resize(1400, 900)
        view.show()
        connection = RegistryConnection.open(url=demo_registry_copy, user="ben")
        made.append((workers, connection))
        with qtbot.waitSignal(view.model.total_counted, timeout=30_000):
            view.set_connection(connection)
        qtbot.waitUntil(lambda: view.values is not None and not view.model.loading, timeout=30_000)
        return Opened(view, workers, panel)

    yield make
    for workers, connection in made:
        workers.shutdown(wait=True)
        connection.close()


def shown(view) -> list[int]:
    return [view.model.event_at(row).seq for row in range(view.model.rowCount())]


def settle(qtbot, view, change) -> list[int]:
    """Apply a filter change, wait for its count and rows, return the rows' event numbers."""
    with qtbot.waitSignal(view.model.total_counted, timeout=30_000):
        change()
    qtbot.waitUntil(lambda: not view.model.loading, timeout=30_000)
    return shown(view)


def newest_first(events, keep=lambda e: True) -> list[int]:
    return [e.seq for e in reversed(events) if keep(e)]


def visible(view, row: int) -> bool:
    return view.table.viewport().rect().intersects(view.table.visualRect(view.model.index(row, 0)))


def verified(qtbot, view):
    with qtbot.waitSignal(view.chain_verified, timeout=60_000) as caught:
        view.verify_button.click()
    return caught.args[0]


def test_the_log_is_listed_newest_first_and_counted(open_view, events):
    view = open_view().view
    assert shown(view) == newest_first(events)
    assert view.count_label.text() == f"{len(events)} events"
    assert view.model.data(view.model.index(0, 3)) == events[-1].action
    assert not view.banner.isVisible()
    assert view.filters.actor_box.count() == 1 + len({e.actor for e in events})


@pytest.mark.slow
def test_actor_action_and_subject_filters_narrow_the_rows(qtbot, open_view, events):
    view = open_view().view
    bar = view.filters
    rows = settle(qtbot, view, lambda: bar.actor_box.setCurrentIndex(bar.actor_box.findData("chen")))
    chen = newest_first(events, lambda e: e.actor == "chen")
    assert rows == chen and view.count_label.text() == f"{len(chen)} events match the filters"
    rows = settle(qtbot, view, lambda: bar.action_box.setCurrentIndex(bar.action_box.findData("promote")))
    assert rows == newest_first(events, lambda e: e.actor == "chen" and e.action == "promote")
    rows = settle(qtbot, view, lambda: bar.subject_edit.setText("Credit-Risk@1.1"))
    assert rows == newest_first(events, lambda e: e.actor == "chen" and e.action == "promote"
                                and "credit-risk@1.1" in e.subject)
    assert len(rows) == 3
    rows = settle(qtbot, view, bar.clear)
    assert rows == newest_first(events)
    family = bar.action_box.findData("review.")
    assert "review.*" in bar.action_box.itemText(family)
    rows = settle(qtbot, view, lambda: bar.action_box.setCurrentIndex(family))
    assert rows == newest_first(events, lambda e: e.action.startswith("review."))
    assert {"review.approve", "review.reject", "review.request-changes"} == {
        view.model.event_at(r).action for r in range(view.model.rowCount())}
    settle(qtbot, view, bar.clear)
    rows = settle(qtbot, view, lambda: bar.subject_edit.setText("example-corp"))
    assert rows == newest_first(events, lambda e: "example-corp" in e.subject) and len(rows) == 1
    assert view.count_label.text() == "1 event matches the filters"


@pytest.mark.slow
def test_dates_are_local_days_from_and_to_inclusive(qtbot, open_view, events):
    view = open_view().view
    bar = view.filters
    day = datetime.fromisoformat(events[0].created_at.replace("Z", "+00:00")).astimezone().date()
    on_day = newest_first(events, lambda e: datetime.fromisoformat(
        e.created_at.replace("Z", "+00:00")).astimezone().date() == day)
    bar.since_edit.setDate(QDate(day.year, day.month, day.day))
    bar.until_edit.setDate(QDate(day.year, day.month, day.day))
    settle(qtbot, view, lambda: bar.since_check.setChecked(True))
    assert settle(qtbot, view, lambda: bar.until_check.setChecked(True)) == on_day
    assert settle(qtbot, view, lambda: bar.since_edit.setDate(bar.since_edit.date().addDays(1))) == []
    assert view.count_label.text() == "0 events match the filters"


def test_selecting_an_event_shows_its_whole_payload_and_hashes(qtbot, open_view, events):
    view = open_view().view
    view.table.setFocus()
    view.table.selectRow(0)
    qtbot.keyClick(view.table, Qt.Key.Key_Down)
    event = events[-2]
    text = view.details.toPlainText()
    assert f"Event {event.seq}" in text and event.hash in text and event.prev_hash in text
    assert json.dumps(event.payload, indent=2, sort_keys=True, ensure_ascii=False) in text


@pytest.mark.slow
def test_verify_says_intact_with_the_count_and_the_head(qtbot, open_view, events):
    view = open_view().view
    check = verified(qtbot, view)
    assert check.verdict.ok and check.verdict.checked == len(events)
    assert view.banner.isVisible()
    assert view.banner.headline.text() == f"✔ Audit chain intact: {len(events)} events verified"
    assert f"#{events[-1].seq}:{events[-1].hash[:16]}…" in view.banner.details.text()
    assert view.model.broken is None


def test_an_edited_event_is_named_selected_and_marked_with_the_filters_cleared(
        qtbot, open_view, events, demo_registry_copy):
    with sqlite3.connect(demo_registry_copy.removeprefix("sqlite:///")) as connection:
        # An event of someone else than eve, so that filtering on eve hides it.
        tampered = connection.execute("SELECT min(seq) FROM audit_events WHERE actor != 'eve' AND seq > 30 "
                                      "AND payload LIKE '%Card%'").fetchone()[0]
        connection.execute("UPDATE audit_events SET payload = replace(payload, 'Card', 'CARD') WHERE seq = ?",
                           (tampered,))
    view = open_view().view
    bar = view.filters
    settle(qtbot, view, lambda: bar.actor_box.setCurrentIndex(bar.actor_box.findData("eve")))
    assert tampered not in shown(view)
    check = verified(qtbot, view)
    assert (check.verdict.ok, check.verdict.first_broken, check.shown.seq) == (False, tampered, tampered)
    assert view.banner.headline.text() == f"✖ Audit chain BROKEN at event {tampered}"
    assert "was edited" in view.banner.details.text()
    qtbot.waitUntil(lambda: view.table.currentIndex().isValid(), timeout=30_000)
    assert not view.model.query.filtered and bar.actor_box.currentData() is None
    row = view.table.currentIndex().row()
    assert view.model.event_at(row).seq == tampered and visible(view, row)
    assert view.model.data(view.model.index(row, 0), Qt.ItemDataRole.BackgroundRole) is not None
    assert view.model.data(view.model.index(row + 1, 0), Qt.ItemDataRole.BackgroundRole) is None
    assert view.details.toPlainText().startswith(f"⚠ The chain breaks here: event {tampered} was edited")


@pytest.mark.slow
def test_a_deleted_event_selects_the_one_after_the_gap(qtbot, open_view, events, demo_registry_copy):
    with sqlite3.connect(demo_registry_copy.removeprefix("sqlite:///")) as connection:
        connection.execute("DELETE FROM audit_events WHERE seq = 12")
    view = open_view().view
    check = verified(qtbot, view)
    assert (check.verdict.first_broken, check.shown.seq) == (12, 13)
    assert view.banner.headline.text() == "✖ Audit chain BROKEN at event 12"
    assert "Event 13, just after it, is selected" in view.banner.details.text()
    qtbot.waitUntil(lambda: view.table.currentIndex().isValid(), timeout=30_000)
    row = view.table.currentIndex().row()
    assert view.model.event_at(row).seq == 13 and visible(view, row)
    assert 12 not in shown(view)


@pytest.mark.slow
def test_verification_can_be_cancelled(qtbot, open_view):
    opened = open_view()
    view = opened.view
    release = threading.Event()
    opened.workers.registry.submit(release.wait)            # the registry worker is busy meanwhile
    view.verify_button.click()
    assert not view.verify_button.isEnabled() and opened.panel.running
    assert opened.panel.cancel_current()
    release.set()
    qtbot.waitUntil(lambda: view.verify_button.isEnabled(), timeout=30_000)
    assert view.banner.headline.text() == "Verification cancelled"
    assert view.last_check is None


@pytest.mark.slow
def test_thousands_of_events_page_down_and_up_around_a_jump(qtbot, open_view, demo_registry_copy, events,
                                                           monkeypatch):
    # Only the bulk events: the first signed checkpoint would add its key's own event.
    monkeypatch.setenv("MODELGATE_AUDIT_CHECKPOINT_EVERY", "0")
    extra = 3_000
    with open_registry(url=demo_registry_copy, user="ben") as registry, registry.session() as session:
        for n in range(extra):
            audit.append(session, actor="bulk", action="note", subject=f"bulk-model@{n}", payload={"n": n})
    total = len(events) + extra
    view = open_view().view
    assert view.count_label.text() == f"{total:,} events"
    assert shown(view) == list(range(total, total - PAGE_SIZE, -1))
    for expected in (2 * PAGE_SIZE, 3 * PAGE_SIZE):
        view.table.scrollToBottom()                     # the view asks for more at its end
        qtbot.waitUntil(lambda expected=expected: view.model.rowCount() == expected, timeout=30_000)
    assert shown(view) == list(range(total, total - 3 * PAGE_SIZE, -1))

    target = 1500
    view.goto_edit.setText(str(target))
    qtbot.keyClick(view.goto_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.table.currentIndex().isValid()
                    and view.model.event_at(view.table.currentIndex().row()).seq == target, timeout=30_000)
    assert shown(view)[0] == target + CONTEXT
    assert visible(view, view.table.currentIndex().row())
    view.table.scrollToTop()                            # newer events come in above
    qtbot.waitUntil(lambda: shown(view)[0] == target + CONTEXT + PAGE_SIZE, timeout=30_000)
    rows = shown(view)
    assert rows == list(range(rows[0], rows[0] - len(rows), -1))
    assert view.model.event_at(view.table.currentIndex().row()).seq == target       # still selected


@pytest.mark.slow
def test_the_view_answers_the_keyboard(qtbot, open_view, events):
    view = open_view().view
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow, timeout=5_000)
    qtbot.keyClick(view, Qt.Key.Key_U, Qt.KeyboardModifier.AltModifier)       # S&ubject
    assert view.filters.subject_edit.hasFocus()
    rows = settle(qtbot, view, lambda: qtbot.keyClicks(view.filters.subject_edit, "support"))
    assert rows == newest_first(events, lambda e: "support" in e.subject)
    qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.AltModifier)       # &Clear filters
    qtbot.waitUntil(lambda: not view.model.loading and view.model.rowCount() == len(events), timeout=30_000)
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    assert view.model.event_at(view.table.currentIndex().row()).seq == events[0].seq
    assert f"Event {events[0].seq}\n" in view.details.toPlainText()
    with qtbot.waitSignal(view.chain_verified, timeout=60_000):
        qtbot.keyClick(view, Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)   # Ve&rify chain
    assert view.last_check.verdict.ok


def test_a_verdict_for_a_registry_no_longer_shown_is_dropped(qtbot, open_view):
    opened = open_view()
    view = opened.view
    verdicts = []
    view.chain_verified.connect(verdicts.append)
    release = threading.Event()
    opened.workers.registry.submit(release.wait)
    view.verify_button.click()
    view.set_connection(None)
    release.set()
    qtbot.waitUntil(lambda: not opened.panel.running, timeout=30_000)
    assert verdicts == [] and not view.banner.isVisible()
    assert view.model.rowCount() == 0 and view.count_label.text() == "0 events"
    assert not view.verify_button.isEnabled()
