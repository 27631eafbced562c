"""`modelgate gui --self-check`: the app opens a bundle, validates it, checks the graph viewer and quits."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from modelgate.core.cli.main import main
from modelgate.gui.app.main_window import MainWindow
from modelgate.gui.app.self_check import SelfCheck, check_served_viewer
from tests.factory import make_bundle

def shown_window(qtbot, settings, *, embedded: bool, policy: Path) -> MainWindow:
    from modelgate.gui.app.main_window import SessionOverrides

    window = MainWindow(settings=settings, overrides=SessionOverrides(policy=policy), embedded_graphs=embedded)
    qtbot.addWidget(window)
    window.show()
    return window


def lines_of(out: io.StringIO) -> list[str]:
    """The steps printed, without their times ("self-check: X after 1.23 s" -> "X")."""
    return [line.removeprefix("self-check: ").rsplit(" after ", 1)[0] for line in out.getvalue().splitlines()]


@pytest.mark.slow
@pytest.mark.parametrize("embedded", [False, True], ids=["browser", "embedded"])
def test_every_step_is_reported_and_the_window_closes(qtbot, gui_settings, demo_workspace, embedded):
    window = shown_window(qtbot, gui_settings, embedded=embedded, policy=demo_workspace / "policy.yaml")
    out = io.StringIO()
    check = SelfCheck(window=window, bundle=demo_workspace / "bundles" / "credit-risk-1.1.0", out=out)
    assert check.run() == 0, out.getvalue()
    steps = lines_of(out)
    assert steps[0] == "window shown" and steps[1] == "credit-risk@1.1.0 shown" and steps[-1] == "window closed"
    assert steps[2].startswith("validated (PASSED for ")
    if embedded:
        assert steps[3].startswith("graph drawn in the embedded viewer (") and steps[3].endswith(" nodes)")
    else:
        assert steps[3].startswith("graph served for the web browser from http://127.0.0.1:")
    assert not window.isVisible() and window.graphs.windows == []
    times = [float(line.rsplit(" after ", 1)[1].removesuffix(" s")) for line in out.getvalue().splitlines()]
    assert times == sorted(times)


def test_a_bundle_that_cannot_be_opened_fails_the_check(qtbot, gui_settings, tmp_path):
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"not a zip archive" * 10)
    window = shown_window(qtbot, gui_settings, embedded=False, policy=None)
    out = io.StringIO()
    assert SelfCheck(window=window, bundle=broken, out=out).run() == 1
    last = out.getvalue().splitlines()[-1]
    assert last.startswith("self-check: FAILED: opening ") and "broken.zip" in last
    assert not window.isVisible()


def test_a_step_that_never_ends_fails_after_its_time(qtbot, gui_settings, tmp_path):
    window = shown_window(qtbot, gui_settings, embedded=False, policy=None)
    window.open_bundle = lambda path: None       # as if opening hung
    out = io.StringIO()
    check = SelfCheck(window=window, bundle=make_bundle(tmp_path / "b"), out=out, step_timeout_s=0.5)
    assert check.run() == 1
    assert out.getvalue().splitlines()[-1] == f"self-check: FAILED: opening {tmp_path / 'b'} took longer than 0.5 s"


def test_the_served_viewer_hands_out_its_page_files_and_the_model(tmp_path):
    bundle = make_bundle(tmp_path / "b")
    said = check_served_viewer(model=bundle / "model" / "model.onnx")
    assert said.startswith("served for the web browser from http://127.0.0.1:")
    assert said.endswith("file(s) it loads and the model")


def test_self_check_needs_a_bundle(capsys):
    assert main(["gui", "--self-check"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("modelgate: --self-check needs a bundle to open") and "modelgate demo" in err
