"""The typed manifest keeps a value only when it has the bundle standard's type."""

from __future__ import annotations

import dataclasses

import pytest

from modelgate.core.bundle.manifest_types import typed_manifest
from tests.factory import clean_manifest

WRONG = [None, 5, 1.5, True, [1], {"a": 1}, "text"]


def test_a_clean_manifest_is_read_whole():
    typed = typed_manifest(clean_manifest())
    assert typed.name == "tiny-classifier" and typed.artifacts[0].variant == "fp32"
    assert typed.interface.inputs[0].shape == ("batch", 4)
    assert typed.targets[0].memory_mb == 256 and typed.provenance.seed == 1234
    assert typed.provenance.framework() == {"name": "numpy", "version": "2.1"}
    assert typed.owners[0].as_dict() == {"name": "Ada Reviewer", "email": "ada@example.com"}


@pytest.mark.parametrize("value", WRONG)
@pytest.mark.parametrize("field,expected", [("variant", str), ("path", str), ("sha256", str), ("size", int)])
def test_artifact_fields_of_another_type_read_as_none(field, expected, value):
    data = clean_manifest()
    data["artifacts"][0][field] = value
    got = getattr(typed_manifest(data).artifacts[0], field)
    assert got is None or (isinstance(got, expected) and not isinstance(got, bool) and got == value)


@pytest.mark.parametrize("shape", [5, "batch", {"a": 1}, [[1]], [1.5], [True], [None], None])
def test_a_shape_that_is_not_a_list_of_dims_reads_as_none(shape):
    data = clean_manifest()
    data["interface"]["inputs"][0]["shape"] = shape
    assert typed_manifest(data).interface.inputs[0].shape is None


@pytest.mark.parametrize("value", WRONG)
@pytest.mark.parametrize("section", ["artifacts", "targets", "owners", "dependencies", "interface",
                                     "provenance", "lifecycle", "files", "tags", "benchmarks"])
def test_any_section_of_any_type_gives_a_typed_manifest(section, value):
    data = clean_manifest()
    data[section] = value
    typed = typed_manifest(data)
    assert dataclasses.is_dataclass(typed)
    with pytest.raises(dataclasses.FrozenInstanceError):
        typed.name = "x"


def test_files_keep_only_paths_with_digests():
    data = clean_manifest()
    data["files"] = {1: "a", None: "b", "x": 5, "LICENSE": "c" * 64}
    assert dict(typed_manifest(data).files) == {"LICENSE": "c" * 64}
