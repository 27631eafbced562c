"""Each setting resolves once, with where its value came from; a listing never shows a blank."""

from __future__ import annotations

import pytest

from modelgate.core import settings
from modelgate.core.errors import UsageError


def test_the_origin_is_the_environment_only_when_it_sets_a_value(monkeypatch):
    monkeypatch.delenv(settings.MAX_YAML_NODES.env, raising=False)
    assert settings.resolve(settings.MAX_YAML_NODES) == settings.Resolved(settings.MAX_YAML_NODES, 100_000, "default")
    monkeypatch.setenv(settings.MAX_YAML_NODES.env, "")
    assert settings.resolve("max_yaml_nodes").origin == "default"
    monkeypatch.setenv(settings.MAX_YAML_NODES.env, " 42 ")
    assert settings.resolve("max_yaml_nodes") == settings.Resolved(settings.MAX_YAML_NODES, 42, "environment")
    assert settings.get(settings.MAX_YAML_NODES) == 42


@pytest.mark.parametrize("raw", ["lots", "-1", "nan"])
def test_a_wrong_value_is_refused_naming_where_it_came_from(monkeypatch, raw):
    monkeypatch.setenv(settings.SMOKE_TIMEOUT_S.env, raw)
    with pytest.raises(UsageError, match=f"^{settings.SMOKE_TIMEOUT_S.env}="):
        settings.resolve(settings.SMOKE_TIMEOUT_S)
    with pytest.raises(UsageError, match="^the field='x' is not a valid int"):
        settings.parse(settings.MAX_YAML_NODES, "x", source="the field")


def test_every_setting_that_may_be_empty_says_what_empty_means(monkeypatch):
    for setting in settings.SETTINGS.values():
        monkeypatch.delenv(setting.env, raising=False)
        shown = settings.resolve(setting).shown
        assert shown.strip(), f"{setting.name} would be listed as a blank"
    monkeypatch.setenv(settings.OCI_STORE.env, "oci://registry.example/models")
    assert settings.resolve(settings.OCI_STORE).shown == "oci://registry.example/models"
