"""A comparison rendered offscreen to a PNG file: the demo's credit-risk 1.2.0 against 1.1.0 by
default, the regressed refit against the production version. With a main window open on the
demo registry, as ``make screenshots`` has it::

    grab_comparison(connection=window.connection, workers=window.workers,
                    progress_panel=window.progress, path=out / "12-compare.png")
"""

from __future__ import annotations

from pathlib import Path

DEMO_CHAMPION = ("credit-risk", "1.1.0")
DEMO_CHALLENGER = ("credit-risk", "1.2.0")
SIZE = (1400, 900)
#: How long the window is given to lay itself out once the comparison is shown, in seconds.
SETTLE_S = 0.4


def _run_until(signals, *, seconds: float) -> None:
    """Run the event loop until one of ``signals`` is emitted or ``seconds`` have passed."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    for signal in signals:
        signal.connect(loop.quit)
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()
    for signal in signals:
        signal.disconnect(loop.quit)


def _wait_for_charts(window, *, seconds: float) -> None:
    """Run the event loop until the window's charts are drawn at its size (see :class:`ChartView`)."""
    import time

    from modelgate.gui.inspector.chart_view import charts_settled

    deadline = time.monotonic() + seconds
    while not charts_settled(window):
        if time.monotonic() > deadline:
            raise SystemExit(f"screenshots: the comparison's charts took more than {seconds:g} s")
        _run_until([], seconds=0.05)


def grab_comparison(*, connection, workers, path: Path, progress_panel=None,
                    champion: tuple[str, str] = DEMO_CHAMPION, challenger: tuple[str, str] = DEMO_CHALLENGER,
                    size: tuple[int, int] = SIZE, timeout: float = 120) -> Path:
    """Open a CompareWindow on ``champion`` and ``challenger``, wait until it shows them, save it
    to ``path`` at ``size`` and close it; return ``path``. Needs a QApplication; raises
    SystemExit when loading fails or takes longer than ``timeout`` seconds."""
    from modelgate.gui.compare.compare_window import show_comparison

    window = show_comparison(parent=None, connection=connection, workers=workers, progress_panel=progress_panel,
                             champion=champion, challenger=challenger)
    failures: list[str] = []
    window.loading_failed.connect(failures.append)
    try:
        window.resize(*size)
        _run_until([window.comparison_shown, window.loading_failed], seconds=timeout)
        if failures or window.view.comparison is None:
            raise SystemExit(f"screenshots: the comparison of {'@'.join(challenger)} "
                             + (f"failed: {failures[0]}" if failures else f"took more than {timeout:g} s"))
        _run_until([], seconds=SETTLE_S)
        _wait_for_charts(window, seconds=timeout)
        path.parent.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(path))
    finally:
        window.close()
    return path
