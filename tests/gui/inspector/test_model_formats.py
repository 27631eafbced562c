"""The Interface tab shows a file of any format from the same facts the checks read; a pickle
is described and its imports listed, and it is never loaded."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from PySide6.QtWidgets import QTableWidget

from modelgate.core.policy.document import load_policy
from modelgate.core.progress import Progress
from modelgate.gui.inspector.facts import gather
from modelgate.gui.inspector.interface import InterfaceTab
from tests.core.formats import _containers, _writers


def _cells(table: QTableWidget) -> list[list[str]]:
    return [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())]


@pytest.fixture
def show(qtbot):
    def shown(root):
        facts = gather(path=root, policy=load_policy(None), champion=None, progress=Progress())
        tab = InterfaceTab()
        qtbot.addWidget(tab)
        tab.show_subject(SimpleNamespace(facts=facts))
        facts.close()
        return tab
    return shown


def test_a_safetensors_artifact_shows_its_tensors_with_shares_and_no_invented_interface(tmp_path, show):
    root = _writers.format_bundle(tmp_path / "b", name="model.safetensors", writer=_writers.write_safetensors,
                                  fmt="safetensors", runtime="transformers")
    tab = show(root)
    rows = _cells(tab.page.findChild(QTableWidget, "model-tensors"))
    assert rows[0][:4] == ["embed.weight", "float32", "[8, 4]", "128 B"] and rows[0][4] == "95.5%"
    assert rows[-1][0] == "Total" and rows[-1][2] == "35 parameters"
    assert tab.page.findChild(QTableWidget, "model-ports") is None
    assert tab.open_button.isEnabled()             # Netron reads safetensors: it lists the weights


def test_a_tflite_artifact_shows_the_ports_and_operators_of_its_graph(tmp_path, show):
    root = _writers.format_bundle(tmp_path / "b", name="model.tflite", writer=_writers.write_tflite,
                                  fmt="tflite", runtime="tflite")
    tab = show(root)
    assert _cells(tab.page.findChild(QTableWidget, "model-ports")) == [
        ["input", "input", "float32", "[dim0, 4]"], ["output", "output", "float32", "[dim0, 3]"]]
    assert _cells(tab.page.findChild(QTableWidget, "model-operators")) == [["FULLY_CONNECTED", "9"]]


def test_a_malicious_pickle_is_listed_not_loaded(tmp_path, show):
    marker = tmp_path / "payload-ran"
    root = _writers.format_bundle(tmp_path / "b", name="model.pt", fmt="pytorch", runtime="transformers",
                                  data=_writers.torch_zip_bytes(extra=_writers.Payload(marker)))
    tab = show(root)
    imports = [row[0] for row in _cells(tab.page.findChild(QTableWidget, "model-imports"))]
    assert f"{_writers.os.system.__module__}.system" in imports
    assert not marker.exists()


@pytest.mark.slow
@pytest.mark.parametrize("form", sorted(_containers.MALICIOUS_FORMS))
def test_a_malicious_pickle_in_any_container_form_is_listed_not_loaded(tmp_path, show, form):
    marker = tmp_path / "payload-ran"
    name, build = _containers.MALICIOUS_FORMS[form]
    root = _writers.format_bundle(tmp_path / "b", name=name, fmt="pytorch", runtime="transformers",
                                  data=build(marker, tmp_path))
    tab = show(root)
    imports = [row[0] for row in _cells(tab.page.findChild(QTableWidget, "model-imports"))]
    assert f"{_writers.os.system.__module__}.system" in imports
    assert not marker.exists()
