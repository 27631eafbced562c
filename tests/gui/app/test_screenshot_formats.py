"""`make screenshots` has the Interface and graph tab of every other model format, in both themes
and at both sizes, each showing that format's version."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QTableWidget

from tests.gui_support import make_window, select


@pytest.mark.slow
def test_each_format_is_shot_in_both_themes_at_both_sizes(qtbot, qapp, gui_settings, demo_workspace, tmp_path):
    from modelgate.gui.app.screenshot_formats import SIZES, VERSIONS, shoot_formats

    shown = []

    def open_window():
        window = make_window(qtbot, gui_settings, registry=f"sqlite:///{demo_workspace / 'registry.db'}",
                             user="ben", policy=demo_workspace / "policy.yaml")
        with qtbot.waitSignal(window.registry_panel.model.page_loaded, timeout=60_000):
            window.open_registry()
        return window

    def choose(window, ref):
        select(qtbot, window, ref)
        imports = window.inspector.interface.page.findChild(QTableWidget, "model-imports")
        shown.append((ref, [imports.item(r, 0).text() for r in range(imports.rowCount())] if imports else []))

    written = shoot_formats(qapp, open_window=open_window, out=tmp_path, select=choose, settle=qapp.processEvents)
    assert [p.name for p in written[:2]] == ["19-format-safetensors-light-small.png",
                                             "19-format-safetensors-light-large.png"]
    assert len(written) == 2 * len(VERSIONS) * len(SIZES) and len({p.name for p in written}) == len(written)
    assert [ref for ref, _ in shown] == [ref for _, ref in VERSIONS] * 2
    assert all(("__builtin__.exec" in imports) == (ref == "churn-predictor@0.3.0") for ref, imports in shown)
    for path in written:
        image = QImage(str(path))
        wanted = dict(SIZES)["large" if "-large" in path.name else "small"]
        assert image.width() >= wanted[0] and image.height() == wanted[1], path
    dark = QImage(str(next(p for p in written if "-dark-" in p.name)))
    light = QImage(str(next(p for p in written if "-light-" in p.name)))
    assert dark.pixelColor(5, dark.height() // 2).lightness() < light.pixelColor(5, light.height() // 2).lightness()
