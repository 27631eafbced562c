"""``make screenshots``: every inspector tab of a demo version, rendered offscreen to PNG files.

    python -m modelgate.gui.app.screenshots --demo .demo --out build/screenshots

Opens the demo registry as its reviewer, selects credit-risk@1.2.0 (a regressed
candidate) and saves the window once per tab; then the Interface and graph tab of
defect-detector@1.1.0-rc.1 (a broken interface contract) and its graph in Netron; the
comparison; the Interface and graph tab of each other model format (see
:mod:`.screenshot_formats`); then the review workflows (see :mod:`.screenshot_workflows`).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

SIZE = (1600, 950)
VERSION = "credit-risk@1.2.0"
CONTRACT = "defect-detector@1.1.0-rc.1"


def _wait(app, done, *, timeout: float, what: str) -> None:
    """Run the event loop until ``done()`` holds; fail loudly after ``timeout`` seconds."""
    from PySide6.QtCore import QEventLoop

    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit(f"screenshots: gave up waiting for {what}")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)


def _file_name(index: int, title: str) -> str:
    return f"{index:02d}-{title.lower().replace(' ', '-')}.png"


def _select(app, window, ref: str) -> None:
    reports = []
    window.inspector.validation_finished.connect(reports.append)
    name, version = ref.split("@")
    window.registry_panel.select_version(name=name, version=version)
    _wait(app, lambda: reports and window.inspector.subject.label == ref, timeout=120, what=f"{ref} to validate")
    window.inspector.validation_finished.disconnect(reports.append)


def render(*, demo: Path, out: Path) -> list[Path]:
    """Write the screenshots into ``out``; return their paths."""
    from modelgate.gui.app.application import application, signal_defect

    app = application()
    if defect := signal_defect():
        raise SystemExit(f"screenshots: {defect}")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="modelgate-screenshots-") as scratch:
        settings = Path(scratch) / "settings.ini"
        window = _window(registry=f"sqlite:///{demo / 'registry.db'}", user="ben", settings_file=settings,
                         policy=demo / "policy.yaml")
        try:
            written = _shoot(app, window, out)
        finally:
            window.close()
        from modelgate.gui.app.screenshot_formats import shoot_formats

        def open_reviewer_window():
            opened = _window(registry=f"sqlite:///{demo / 'registry.db'}", user="ben", settings_file=settings,
                             policy=demo / "policy.yaml")
            opened.open_registry()
            _wait(app, lambda: opened.registry_panel.model.rowCount() > 0, timeout=60, what="the registry")
            return opened

        def settle() -> None:
            _wait(app, lambda: True, timeout=1, what="painting")
            app.processEvents()

        written += shoot_formats(app, open_window=open_reviewer_window, out=out, settle=settle,
                                 select=lambda window, ref: _select(app, window, ref))
        from modelgate.gui.app.screenshot_workflows import shoot_workflows

        def open_window(url: str, user: str):
            opened = _window(registry=url, user=user, settings_file=settings)
            opened.open_registry()
            _wait(app, lambda: opened.registry_panel.model.rowCount() > 0, timeout=60, what="the registry")
            return opened

        return written + shoot_workflows(app, demo=demo, scratch=Path(scratch), out=out, open_window=open_window,
                                         wait=lambda done, what: _wait(app, done, timeout=120, what=what))


def _window(*, registry: str, user: str, settings_file: Path, policy: Path | None = None):
    from modelgate.gui.app.main_window import MainWindow, SessionOverrides
    from modelgate.gui.app.settings import GuiSettings

    window = MainWindow(settings=GuiSettings.at(path=str(settings_file)),
                        overrides=SessionOverrides(registry=registry, user=user, policy=policy))
    window.resize(*SIZE)
    window.show()
    return window


def _shoot(app, window, out: Path) -> list[Path]:
    from modelgate.gui.inspector.chart_view import charts_settled
    from modelgate.gui.inspector.inspector import TAB_TITLES

    window.open_registry()
    _wait(app, lambda: window.registry_panel.model.rowCount() == 12, timeout=60, what="the registry")
    _select(app, window, VERSION)
    written = []
    for index, title in enumerate(TAB_TITLES, start=1):
        window.inspector.tabs.setCurrentIndex(index - 1)
        _wait(app, lambda: True, timeout=1, what="painting")
        _wait(app, lambda: charts_settled(window), timeout=120, what="the charts")
        app.processEvents()
        path = out / _file_name(index, title)
        window.grab().save(str(path))
        written.append(path)
    _select(app, window, CONTRACT)
    window.inspector.tabs.setCurrentWidget(window.inspector.interface)
    app.processEvents()
    written.append(out / "10-interface-contract-broken.png")
    window.grab().save(str(written[-1]))
    written.append(_graph(app, window, out / "11-graph-in-netron.png"))
    from modelgate.gui.compare.screenshot import grab_comparison

    written.append(grab_comparison(connection=window.connection, workers=window.workers,
                                   progress_panel=window.progress, path=out / "16-compare.png"))
    return written


def _graph(app, window, path: Path) -> Path:
    window.inspector.interface.open_button.click()
    graph = window.graphs.windows[-1]
    graph.resize(*SIZE)
    _wait(app, lambda: graph.nodes or graph.refusal, timeout=60, what="Netron to draw the graph")
    # The page draws the graph in steps after its nodes exist; give it a moment to settle.
    settle = time.monotonic() + 2.0
    _wait(app, lambda: time.monotonic() > settle, timeout=5, what="the graph to settle")
    graph.grab().save(str(path))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m modelgate.gui.app.screenshots", description=__doc__.split("\n")[0])
    parser.add_argument("--demo", type=Path, required=True, help="a workspace made by `modelgate demo`")
    parser.add_argument("--out", type=Path, required=True, help="folder for the PNG files")
    args = parser.parse_args(argv)
    if not (args.demo / "registry.db").is_file():
        print(f"screenshots: {args.demo} holds no registry.db; run `modelgate demo {args.demo} --force`",
              file=sys.stderr)
        return 2
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    for path in render(demo=args.demo.resolve(), out=args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
