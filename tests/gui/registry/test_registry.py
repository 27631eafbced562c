"""The registry listing: lazy pages, the filter box, stage and status filters, sorting, keyboard."""

from __future__ import annotations

import sqlite3

import pytest
from PySide6.QtCore import Qt

from modelgate.gui.registry.model import COLUMNS, FIRST_PAGE, PAGE_SIZE
from tests.gui_support import make_window, select

EXTRA = 450
#: Versions in the demo registry: eight ONNX ones and four in the other formats.
DEMO_VERSIONS = 12


def names(panel) -> list[str]:
    model = panel.model
    return [model.version_at(row).ref for row in range(model.rowCount())]


def filtered(qtbot, panel, text: str) -> list[str]:
    with qtbot.waitSignal(panel.model.total_counted, timeout=30_000):
        panel.filter_edit.setText(text)
    qtbot.waitUntil(lambda: not panel.model.loading, timeout=30_000)
    return sorted(names(panel))


@pytest.mark.slow
def test_the_listing_fetches_pages_as_the_view_scrolls(qtbot, gui_settings, demo_registry_copy):
    database = demo_registry_copy.removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        connection.execute("INSERT INTO models (name, created_at) VALUES ('bulk-model', '2026-01-01 00:00:00')")
        model_id = connection.execute("SELECT id FROM models WHERE name = 'bulk-model'").fetchone()[0]
        connection.executemany(
            "INSERT INTO versions (model_id, version, digest, stage, submitter, store_path, created_at, updated_at) "
            "VALUES (?, ?, ?, 'draft', 'ana', 'x', '2026-01-01 00:00:00', ?)",
            [(model_id, f"0.{n}.0", f"{n:064x}", f"2026-01-{1 + n % 28:02d} 00:00:00") for n in range(EXTRA)])
    window = make_window(qtbot, gui_settings, registry=demo_registry_copy, user="ben")
    panel = window.registry_panel
    with qtbot.waitSignal(panel.model.total_counted, timeout=30_000):
        window.open_registry()
    qtbot.waitUntil(lambda: panel.model.rowCount() == FIRST_PAGE, timeout=30_000)   # a screenful first
    assert panel.model.canFetchMore()
    assert panel.count_label.text() == f"{EXTRA + DEMO_VERSIONS} versions"
    total = EXTRA + DEMO_VERSIONS
    for expected in [*range(FIRST_PAGE + PAGE_SIZE, total, PAGE_SIZE), total]:   # one page per scroll
        panel.table.scrollToBottom()              # the view asks the model for more at the end
        qtbot.waitUntil(lambda expected=expected: panel.model.rowCount() == expected, timeout=30_000)
    assert not panel.model.canFetchMore()
    assert len(set(names(panel))) == EXTRA + DEMO_VERSIONS


def test_the_filter_matches_name_tag_and_owner(qtbot, demo_window):
    panel = demo_window.registry_panel
    qtbot.waitUntil(lambda: len(demo_window.connection.facets) == DEMO_VERSIONS, timeout=30_000)
    assert filtered(qtbot, panel, "defect") == [
        "defect-detector@0.9.0", "defect-detector@1.0.0", "defect-detector@1.1.0-rc.1"]
    assert filtered(qtbot, panel, "vision") == filtered(qtbot, panel, "DEFECT")          # a tag
    assert filtered(qtbot, panel, "ana.kovac@") == [
        "churn-predictor@0.3.0", "credit-risk@1.0.0", "credit-risk@1.1.0", "credit-risk@1.2.0"]  # an owner
    assert filtered(qtbot, panel, "no such thing") == []
    assert panel.count_label.text() == "0 versions match the filters"
    assert len(filtered(qtbot, panel, "")) == DEMO_VERSIONS


def test_stage_and_status_filters_narrow_the_listing(qtbot, demo_window):
    panel = demo_window.registry_panel
    with qtbot.waitSignal(panel.model.total_counted, timeout=30_000):
        panel.stage_box.setCurrentIndex(panel.stage_box.findData("production"))
    qtbot.waitUntil(lambda: not panel.model.loading)
    assert sorted(names(panel)) == ["credit-risk@1.1.0", "defect-detector@0.9.0", "support-embedder@2.0.0"]
    with qtbot.waitSignal(panel.model.total_counted, timeout=30_000):
        panel.stage_box.setCurrentIndex(0)
    with qtbot.waitSignal(panel.model.total_counted, timeout=30_000):
        panel.status_box.setCurrentIndex(panel.status_box.findData("unvalidated"))
    qtbot.waitUntil(lambda: not panel.model.loading)
    assert sorted(names(panel)) == ["churn-predictor@0.3.0", "defect-detector@1.1.0-rc.1", "support-embedder@2.1.0"]
    assert panel.count_label.text() == "3 versions match the filters"


def test_clicking_a_header_sorts_by_that_column(qtbot, demo_window):
    panel = demo_window.registry_panel
    version = [key for key, _ in COLUMNS].index("version")
    with qtbot.waitSignal(panel.model.page_loaded, timeout=30_000):
        panel.table.sortByColumn(version, Qt.SortOrder.AscendingOrder)      # what a header click does
    assert panel.model.query.sort == "version" and not panel.model.query.descending
    versions = [panel.model.version_at(r).version for r in range(panel.model.rowCount())]
    assert versions == ["0.3.0", "0.9.0", "1.0.0", "1.0.0", "1.0.0", "1.0.0", "1.1.0-rc.1", "1.1.0", "1.1.0",
                        "1.2.0", "2.0.0", "2.1.0"]
    stage = [key for key, _ in COLUMNS].index("stage")
    with qtbot.waitSignal(panel.model.page_loaded, timeout=30_000):
        panel.table.sortByColumn(stage, Qt.SortOrder.DescendingOrder)
    assert [panel.model.version_at(r).stage for r in range(3)] == ["deprecated", "deprecated", "production"]


@pytest.mark.slow
def test_arrow_keys_walk_the_listing_and_the_inspector_follows(qtbot, demo_window):
    panel = demo_window.registry_panel
    select(qtbot, demo_window, panel.model.version_at(0).ref)
    second = panel.model.version_at(1).ref
    panel.table.setFocus()
    with qtbot.waitSignal(demo_window.inspector.validation_finished, timeout=60_000):
        qtbot.keyClick(panel.table, Qt.Key.Key_Down)
    assert demo_window.inspector.subject.label == second


def test_find_focuses_the_filter(qtbot, demo_window):
    demo_window.registry_panel.filter_edit.setText("credit")
    demo_window.actions_by_name["Find"].trigger()
    assert demo_window.registry_panel.filter_edit.hasFocus()
    assert demo_window.registry_panel.filter_edit.selectedText() == "credit"


def test_the_next_stage_column_tells_what_the_promotions_gates_tell(qtbot, demo_window):
    from modelgate.core.registry.standing import standings
    from modelgate.gui.app.theme import OUTCOME_INKS

    model = demo_window.registry_panel.model
    column = [key for key, _ in COLUMNS].index("next")
    qtbot.waitUntil(lambda: all(model.standing_of(row) is not None for row in range(model.rowCount())),
                    timeout=60_000)
    refs = [(model.version_at(row).name, model.version_at(row).version) for row in range(model.rowCount())]
    judged = standings(demo_window.connection.registry, refs=refs, policy=demo_window.connection.policy)
    outcomes = set()
    for row, ref in enumerate(refs):
        index = model.index(row, column)
        expected = judged[ref]
        outcomes.add(expected.outcome)
        assert index.data() == expected.headline
        assert index.data(Qt.ItemDataRole.ToolTipRole) == f"{expected.headline}\n{expected.reason}"
        colour = index.data(Qt.ItemDataRole.ForegroundRole).color().name()
        assert colour == str(OUTCOME_INKS[expected.outcome])
        # Red means a gate fails: never for a version that could move, or waits only for people.
        assert (colour == str(OUTCOME_INKS["blocked"])) == (expected.outcome == "blocked")
    assert len(outcomes) >= 2, outcomes
    # Sorting by a column the registry cannot order by leaves the listing as it is.
    before = names(demo_window.registry_panel)
    model.sort(column, Qt.SortOrder.AscendingOrder)
    assert names(demo_window.registry_panel) == before and not model.loading


@pytest.mark.slow
def test_the_next_stage_is_judged_in_a_worker_process_once_typing_pauses(qtbot, demo_window, monkeypatch):
    """Judging a page of versions costs a few hundred milliseconds of interpreter time: in the
    window's process it would hold back the next key typed, so it runs in a worker process, and
    only for the rows on screen once the keys stop coming."""
    import modelgate.core.registry.standing as standing

    def in_this_process(*_args, **_kwargs):
        raise AssertionError("the next stage was judged in the window's process")

    monkeypatch.setattr(standing, "standings", in_this_process)
    panel, pool = demo_window.registry_panel, demo_window.workers.processes
    real_run, asked = pool.run, []

    def run(job, **arguments):
        if job == "standings":
            asked.append(sorted(name for name, _ in arguments["refs"]))
        return real_run(job, **arguments)

    monkeypatch.setattr(pool, "run", run)
    # Typing "pauses" only after the last key here, however slowly a busy machine answers.
    panel._standing_timer.setInterval(5_000)
    for text in ("c", "cr", "cre", "cred", "credit"):      # keys typed faster than the pages settle
        panel.filter_edit.setText(text)
        qtbot.waitUntil(lambda: not panel.model.loading, timeout=30_000)
    model = panel.model
    qtbot.waitUntil(lambda: model.rowCount() and all(model.standing_of(row) is not None
                                                     for row in range(model.rowCount())), timeout=60_000)
    assert asked == [sorted(model.version_at(row).name for row in range(model.rowCount()))]
    assert all(name.startswith("credit") for name in asked[0])


@pytest.mark.slow
def test_a_failed_judging_says_so_in_the_cells_without_a_dialog(qtbot, demo_window, monkeypatch):
    from modelgate.gui.ops.processes import WorkerProcessFailed

    panel, pool = demo_window.registry_panel, demo_window.workers.processes
    real_run = pool.run

    def run(job, **arguments):
        if job == "standings":
            raise WorkerProcessFailed("the bundle worker process stopped unexpectedly (exit status 9)")
        return real_run(job, **arguments)

    monkeypatch.setattr(pool, "run", run)
    dialogs = []
    monkeypatch.setattr("modelgate.gui.dialogs.error.show_error", lambda **kwargs: dialogs.append(kwargs))
    panel.filter_edit.setText("credit")
    model = panel.model
    column = [key for key, _ in COLUMNS].index("next")
    qtbot.waitUntil(lambda: model.rowCount() and all(model.standing_of(row) is not None
                                                     for row in range(model.rowCount())), timeout=60_000)
    index = model.index(0, column)
    assert index.data() == "⚠ not judged"
    assert "stopped unexpectedly" in index.data(Qt.ItemDataRole.ToolTipRole)
    assert not dialogs
