"""An empty listing says why: what the filters hide, or, for an empty registry, how to import."""

from __future__ import annotations

from modelgate.gui.registry.empty_state import empty_text
from modelgate.gui.ops.registry import VersionQuery
from tests.gui_support import make_window

IMPORT_HINT = "This registry holds no version yet. Import a bundle with File › Import bundle into the registry…"


def test_a_filter_that_hides_everything_says_how_many_it_hides(qtbot, demo_window):
    panel = demo_window.registry_panel
    assert not panel.empty.isVisible() and panel.table.isVisible()
    qtbot.waitUntil(lambda: panel.count_label.text().endswith(" versions"), timeout=30_000)
    every = int(panel.count_label.text().split()[0])     # the whole demo, before any filter
    with qtbot.waitSignal(panel.model.total_counted, timeout=30_000):
        panel.filter_edit.setText("xyz")
    qtbot.waitUntil(lambda: "hidden" in panel.empty.text(), timeout=30_000)
    assert panel.empty.isVisible() and not panel.table.isVisible()
    assert panel.empty.text() == (f"No version matches 'xyz' — {every} versions hidden by the filter. Clear the "
                                  "filter to see every version.")
    with qtbot.waitSignal(panel.model.total_counted, timeout=30_000):
        panel.stage_box.setCurrentIndex(panel.stage_box.findData("archived"))
    qtbot.waitUntil(lambda: "filters" in panel.empty.text(), timeout=30_000)
    assert panel.empty.text().startswith(f"No version matches 'xyz' and stage archived — {every} versions hidden "
                                         "by the filters.")
    with qtbot.waitSignal(panel.model.total_counted, timeout=30_000):
        panel.filter_edit.setText("")
    with qtbot.waitSignal(panel.model.total_counted, timeout=30_000):
        panel.stage_box.setCurrentIndex(0)
    assert panel.table.isVisible() and not panel.empty.isVisible()


def test_an_empty_registry_says_how_to_import(qtbot, gui_settings, tmp_path):
    from modelgate.core.registry import open_registry

    url = f"sqlite:///{tmp_path / 'registry.db'}"
    open_registry(url=url, user="ben", create=True).close()
    window = make_window(qtbot, gui_settings, registry=url, user="ben")
    panel = window.registry_panel
    with qtbot.waitSignal(panel.model.total_counted, timeout=30_000):
        window.open_registry()
    qtbot.waitUntil(panel.empty.isVisible, timeout=30_000)
    assert panel.empty.text().startswith(IMPORT_HINT) and "modelgate registry import BUNDLE" in panel.empty.text()


def test_the_sentences_for_every_kind_of_filter():
    assert empty_text(query=VersionQuery(), hidden=None).startswith(IMPORT_HINT)
    assert empty_text(query=VersionQuery(text="xyz"), hidden=0).startswith(IMPORT_HINT)
    assert empty_text(query=VersionQuery(text=" xyz "), hidden=None) == "No version matches 'xyz'."
    assert empty_text(query=VersionQuery(status="failed"), hidden=1) == (
        "No version matches validation failed — 1 version hidden by the filter. Clear the filter to see every "
        "version.")
    assert empty_text(query=VersionQuery(text="a", stage="staging", status="passed"), hidden=12_345).startswith(
        "No version matches 'a' and stage staging and validation passed — 12,345 versions hidden by the filters.")
