"""``init --model``: what the starter bundle derives from the model itself."""

from __future__ import annotations

import onnx
import pytest
from onnx import TensorProto, helper

from modelgate.core.bundle import safeyaml
from modelgate.core.errors import UsageError
from modelgate.core.formats.onnx import ortcompat
from modelgate.core.formats.starter import create_starter


def relu(path, *, opset: int, ir: int):
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = ir
    onnx.save(model, str(path))
    return path


def target(root):
    return safeyaml.load((root / "bundle.yaml").read_text())["targets"][0]


@pytest.mark.parametrize("opset, ir, release", [(9, 4, "0.3"), (13, 7, "1.6"), (21, 10, "1.18"),
                                                (22, 10, "1.21")])
def test_runtime_version_is_the_oldest_release_that_loads_the_model(tmp_path, opset, ir, release):
    root = tmp_path / "b"
    create_starter(name="m", directory=root, model=relu(tmp_path / "m.onnx", opset=opset, ir=ir))
    assert target(root)["runtime_version"] == release
    assert target(root)["max_opset"] >= opset


def test_a_model_newer_than_the_release_table_gets_the_installed_runtime(tmp_path):
    newest = max(limits.opset for limits in ortcompat.RELEASES.values())
    root = tmp_path / "b"
    create_starter(name="m", directory=root, model=relu(tmp_path / "m.onnx", opset=newest + 1, ir=11))
    assert target(root)["runtime_version"] == ortcompat.show(ortcompat.installed_version())


def test_a_runtime_version_someone_wrote_is_kept_unless_too_old(tmp_path):
    root = tmp_path / "b"
    create_starter(name="m", directory=root)
    manifest_path = root / "bundle.yaml"
    manifest_path.write_text(manifest_path.read_text().replace('runtime_version: "1.18"',
                                                               'runtime_version: "1.20"'))
    create_starter(name="m", directory=root, model=relu(tmp_path / "m.onnx", opset=13, ir=7),
                   force=True)
    assert target(root)["runtime_version"] == "1.20"


def test_samples_folder_without_a_set_is_refused_before_anything_is_written(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="holds no sample set"):
        create_starter(name="m", directory=tmp_path / "b", model=relu(tmp_path / "m.onnx", opset=13, ir=7),
                       samples=tmp_path / "empty")
    assert not (tmp_path / "b").exists()
