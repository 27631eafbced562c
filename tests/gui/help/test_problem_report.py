"""Help › Report a problem writes a prefilled local file, opens it, and sends nothing."""

from __future__ import annotations

import logging
import platform

from tests.gui_support import make_window


def test_the_report_holds_versions_settings_origins_and_the_log_tail(qtbot, gui_settings, tmp_path, monkeypatch):
    from modelgate.core import __version__
    from modelgate.gui.app.settings import TRUST_STORE
    from modelgate.gui.help import problem_report

    monkeypatch.setenv("MODELGATE_USER", "dana")
    monkeypatch.setenv("MODELGATE_MAX_YAML_NODES", "5000")
    trust = tmp_path / "keys"
    trust.mkdir()
    gui_settings.set(TRUST_STORE, str(trust))
    registry = f"sqlite:///{tmp_path / 'reg.db'}"
    window = make_window(qtbot, gui_settings, registry=registry, user="dana")    # as `modelgate gui` passes it
    log = problem_report.recent_log()
    for n in range(problem_report.KEPT_LINES + 50):
        logging.getLogger("modelgate.test").warning("event %d", n)
    opened = []
    monkeypatch.setattr(problem_report, "QDesktopServices",
                        type("Desktop", (), {"openUrl": staticmethod(lambda url: opened.append(url) or True)}))
    path = problem_report.report_problem(window=window, folder=tmp_path / "reports")
    assert path is not None and path.parent == tmp_path / "reports"
    assert [url.toLocalFile() for url in opened] == [str(path)]
    text = path.read_text(encoding="utf-8")
    assert "Nothing was sent anywhere" in text and "What happened" in text
    assert f"ModelGate {__version__}" in text and f"Python {platform.python_version()}" in text
    assert f"Registry URL: {registry} (from the command line (this session only))" in text
    assert "Acting user: dana (from the environment (MODELGATE_USER))" in text
    assert f"Trust store: {trust} (from the settings file (" in text
    assert "Theme: system (from the default)" in text
    assert "MODELGATE_MAX_YAML_NODES=5000 (from environment)" in text
    assert "MODELGATE_MAX_NESTING_DEPTH=64 (from default)" in text
    tail = text.split("== Recent log")[1]
    assert f"event {problem_report.KEPT_LINES + 49}" in tail and "event 0\n" not in tail
    assert len(log.lines) == problem_report.KEPT_LINES
    assert str(path) in window.statusBar().currentMessage() and "Nothing was sent" in window.statusBar().currentMessage()


def test_a_password_in_the_registry_url_stays_out_of_the_report(qtbot, gui_settings, tmp_path, monkeypatch):
    from modelgate.gui.help import problem_report

    window = make_window(qtbot, gui_settings, registry="postgresql+psycopg://alice:s3cret@db.example/modelgate")
    monkeypatch.setattr(problem_report, "QDesktopServices",
                        type("Desktop", (), {"openUrl": staticmethod(lambda url: True)}))
    text = problem_report.report_problem(window=window, folder=tmp_path).read_text(encoding="utf-8")
    assert "s3cret" not in text and "postgresql+psycopg://alice:***@db.example/modelgate" in text


def test_two_reports_in_one_second_never_overwrite_each_other(tmp_path):
    from modelgate.gui.help.problem_report import write_report

    first, second = write_report(folder=tmp_path, text="one"), write_report(folder=tmp_path, text="two")
    assert first != second and first.read_text() == "one" and second.read_text() == "two"
