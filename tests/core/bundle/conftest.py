"""Fixtures only the bundle reader's tests use: a minimal bundle written by hand, without the
factory's real ONNX model, so that reading and extracting are tested on exact bytes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

MINIMAL_MANIFEST = """\
bundle_format: modelgate.bundle/v1
name: tiny-model
version: 1.0.0
license: Apache-2.0
artifacts:
  - path: model/m.onnx
    format: onnx
    variant: fp32
interface:
  inputs:
    - {name: x, dtype: float32, shape: [batch, 4]}
  outputs:
    - {name: y, dtype: float32, shape: [batch, 1]}
"""


@pytest.fixture
def minimal_manifest():
    """The text of a minimal valid bundle.yaml (one artifact, ``model/m.onnx``)."""
    return MINIMAL_MANIFEST


@pytest.fixture
def minimal_bundle(tmp_path):
    """Factory: write a minimal valid bundle folder (random bytes stand in for the model).

    ``minimal_bundle()`` writes ``tmp_path/"bundle"``; pass ``name`` for another
    folder, ``manifest`` (text) to replace bundle.yaml, ``model_size`` for the
    artifact's size and ``extra`` ({relative path: bytes}) for more files.
    """

    def make(name: str = "bundle", *, manifest: str = MINIMAL_MANIFEST, model_size: int = 4096,
             extra: dict[str, bytes] | None = None) -> Path:
        root = tmp_path / name
        (root / "model").mkdir(parents=True)
        (root / "model" / "m.onnx").write_bytes(os.urandom(model_size))
        (root / "bundle.yaml").write_text(manifest, encoding="utf-8")
        (root / "MODEL_CARD.md").write_text("# tiny-model\n\n## Intended use\nTests.\n", encoding="utf-8")
        (root / "LICENSE").write_text("Apache License\nVersion 2.0, January 2004\n", encoding="utf-8")
        for rel, data in (extra or {}).items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(data)
        return root

    return make
