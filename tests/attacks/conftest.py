"""Fixtures the attack tests share."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def marker(tmp_path) -> Path:
    """Where a pickle's payload would write if it ever ran; the test fails if the file appears."""
    path = tmp_path / "payload-ran"
    yield path
    assert not path.exists(), "a pickle payload ran"
