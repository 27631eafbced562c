"""Fixtures only the registry's own tests use; the ``backend`` and ``team`` fixtures that
tests/attacks/ share are in tests/registry_support.py."""

from __future__ import annotations

import pytest

from tests.registry_support import Backend


@pytest.fixture
def fresh_backend(registry_url, tmp_path, request) -> Backend:
    """A brand-new, empty database (no schema yet): for tests of migrating and opening."""
    store = tmp_path / "pg-store" if registry_url.startswith("postgresql") else None
    return Backend(registry_url, store, request)


@pytest.fixture
def admin_registry(backend):
    """A new registry, opened as its admin."""
    registry = backend.init()
    yield registry
    registry.close()
