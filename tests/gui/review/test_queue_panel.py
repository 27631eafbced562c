"""The queue stays quick with thousands of items: reading and filtering them costs a sample's
measuring, not every row's, and the columns still fit the rows in view."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from modelgate.core.registry.queue import QueueItem, WorkQueue
from modelgate.gui.review.queue_model import TASK_TEXT

TASKS = tuple(TASK_TEXT)
#: CPU seconds allowed for showing 10,000 items and switching the task filter through every
#: task and back. Measuring every row, as the table once did, took about 9.7 s here, now about 0.5 s.
BOUND = 1.5


def big_queue(count: int) -> WorkQueue:
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    items = tuple(QueueItem(task=TASKS[i % len(TASKS)], name=f"model-{i % 97}", version=f"1.{i}.0",
                            stage="candidate", to_stage="staging", submitter=f"submitter-{i % 13}",
                            waiting_since=start + timedelta(minutes=i),
                            reason=f"needs 2 approvals from approver, has {i % 2}") for i in range(count))
    counts = {task: sum(1 for item in items if item.task == task) for task in TASKS}
    return WorkQueue(user="chen", roles=("approver", "reviewer"), items=items, counts=counts)


class QueueConnection:
    """Answers the panel's one registry call with a queue made in memory (the app reads it in a
    worker process; here no process is needed to answer)."""

    def __init__(self, queue: WorkQueue) -> None:
        self._queue = queue

    def queue(self, *, processes, progress) -> WorkQueue:
        return self._queue


class BackgroundThreads:
    """The executors the panel uses; ``processes`` is only passed through to the connection."""

    def __init__(self) -> None:
        self.registry = ThreadPoolExecutor(max_workers=1)
        self.bundles = ThreadPoolExecutor(max_workers=1)
        self.processes = None

    def shutdown(self) -> None:
        self.registry.shutdown(wait=True)
        self.bundles.shutdown(wait=True)


@pytest.fixture
def panel(qtbot):
    from modelgate.gui.review.queue_panel import QueuePanel

    workers = BackgroundThreads()
    shown = QueuePanel(workers=workers, progress_panel=None)
    qtbot.addWidget(shown)
    shown.resize(900, 600)
    shown.show()
    yield shown
    workers.shutdown()


def test_ten_thousand_items_are_shown_and_filtered_without_a_stall(qtbot, qapp, panel):
    queue = big_queue(10_000)
    with qtbot.waitSignal(panel.queue_loaded, timeout=30_000):
        panel.set_connection(QueueConnection(big_queue(3)))   # the first paint's one-off costs, not measured
    panel.grab()

    started = time.process_time()
    panel.connection = QueueConnection(queue)
    with qtbot.waitSignal(panel.queue_loaded, timeout=30_000):
        panel.refresh()
    panel.grab()
    for index in [*range(1, panel.task_box.count()), 0]:
        panel.task_box.setCurrentIndex(index)
        qapp.processEvents()
        panel.grab()
        assert panel.model.rowCount() == (len(queue.of(panel.task_box.currentData())) if index else len(queue.items))
    spent = time.process_time() - started
    assert spent < BOUND, f"showing and filtering 10,000 items took {spent:.2f} CPU seconds"


def test_the_columns_fit_the_rows_in_view(qtbot, qapp, panel):
    queue = big_queue(2_000)
    with qtbot.waitSignal(panel.queue_loaded, timeout=30_000):
        panel.set_connection(QueueConnection(queue))
    panel.grab()
    table, model = panel.table, panel.model
    metrics = table.fontMetrics()
    for column in range(model.columnCount() - 1):     # the last one stretches
        widest = max(metrics.horizontalAdvance(model.index(row, column).data()) for row in range(20))
        assert table.columnWidth(column) >= widest, model.COLUMNS[column][1]


def test_a_cell_reads_the_item_it_shows(qapp):
    from modelgate.gui.review.queue_model import QueueModel

    queue = big_queue(8)
    model = QueueModel()
    model.set_items(queue.items)
    item = queue.items[5]
    assert [model.index(5, c).data() for c in range(model.columnCount())][:3] == \
        [TASK_TEXT[item.task], item.ref, f"{item.stage} → {item.to_stage}"]
    model.set_items(queue.items[:2])      # texts made for the old rows are not reused for new ones
    assert model.index(1, 1).data() == queue.items[1].ref
    assert model.index(1, 1).data(0x0003).startswith(TASK_TEXT[queue.items[1].task])    # the tooltip


def test_a_refresh_asked_while_a_read_runs_reads_again_after_it(qtbot, panel):
    """A read runs beside the writes: one that began before a review was recorded must not be
    the last word, so the refresh the review asks for is kept and made once the read ends."""
    import threading

    release, reads = threading.Event(), []

    class SlowConnection:
        def queue(self, *, processes, progress) -> WorkQueue:
            reads.append(len(reads) + 1)
            if len(reads) == 1:
                release.wait(10)            # still reading when the review is recorded
            return big_queue(len(reads))

    panel.set_connection(SlowConnection())
    qtbot.waitUntil(lambda: reads == [1], timeout=10_000)
    panel.refresh()                         # what recording a review asks for
    release.set()
    qtbot.waitUntil(lambda: reads == [1, 2] and panel.model.rowCount() == 2, timeout=10_000)
    assert panel.queue.items == big_queue(2).items
