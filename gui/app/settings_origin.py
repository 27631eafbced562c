"""Where each of the app's settings in force came from, and whether an edit can be used.

A setting left empty is not blank to the user: the app then uses the command line's value
for this session, an environment variable, or a default, and the Settings dialog says which
and what it is. The core's tunable limits (:mod:`modelgate.core.settings`) come from the
environment or their defaults; their origin is the core's own, not worked out again here.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path

from modelgate.core import settings as core_settings
from modelgate.gui.app.settings import (ACTING_USER, POLICY_FILE, REGISTRY_URL, SIGNING_KEY, THEME, THEMES,
                                        TRUST_STORE, GuiSetting, GuiSettings)

#: The origins, as the dialog names them.
COMMAND_LINE, SETTINGS_FILE, ENVIRONMENT, DEFAULT = ("the command line (this session only)", "the settings file",
                                                      "the environment", "the default")
#: Environment variables ``modelgate gui`` reads for a session (as every command does), by setting.
SESSION_VARIABLES = {REGISTRY_URL.key: "MODELGATE_REGISTRY", ACTING_USER.key: "MODELGATE_USER"}
#: Environment variables the registry itself falls back on when the app names none.
ENVIRONMENT_FALLBACK = {REGISTRY_URL.key: "MODELGATE_REGISTRY"}
#: Registry URL schemes the app can open.
URL_SCHEMES = ("sqlite:///", "postgresql+psycopg://", "postgresql://", "postgres://")


@dataclass(frozen=True)
class InForce:
    """The value a setting has now (never empty: a default is described) and where it came from."""

    value: str
    origin: str

    @property
    def sentence(self) -> str:
        return f"In force: {self.value} — from {self.origin}"


def in_force(settings: GuiSettings, setting: GuiSetting, *, overrides=None, registry_url: str | None = None
             ) -> InForce:
    """What ``setting`` is now: ``overrides`` (a SessionOverrides) first, then the settings file,
    the environment, the default. ``registry_url`` is the open registry's, shown for the default.
    A registry URL is shown without its password."""
    found = _in_force(settings, setting, overrides=overrides, registry_url=registry_url)
    if setting is REGISTRY_URL:
        from modelgate.gui.ops.registry import shown_url

        return InForce(shown_url(found.value), found.origin)
    return found


def _in_force(settings: GuiSettings, setting: GuiSetting, *, overrides, registry_url: str | None) -> InForce:
    override = {REGISTRY_URL.key: getattr(overrides, "registry", None),
                ACTING_USER.key: getattr(overrides, "user", None),
                POLICY_FILE.key: getattr(overrides, "policy", None)}.get(setting.key)
    if override:
        # `modelgate gui` hands the app what --registry/--user or the environment said; the
        # environment is named when it holds this very value.
        variable = SESSION_VARIABLES.get(setting.key)
        if variable and os.environ.get(variable) == str(override):
            return InForce(str(override), f"{ENVIRONMENT} ({variable})")
        return InForce(str(override), COMMAND_LINE)
    stored = settings.store.value(f"settings/{setting.key}")
    if stored not in (None, ""):
        return InForce(str(settings.get(setting)), f"{SETTINGS_FILE} ({settings.store.fileName()})")
    variable = ENVIRONMENT_FALLBACK.get(setting.key)
    if variable and os.environ.get(variable):
        return InForce(os.environ[variable], f"{ENVIRONMENT} ({variable})")
    return InForce(_default(setting, registry_url), DEFAULT)


def _default(setting: GuiSetting, registry_url: str | None) -> str:
    if setting is REGISTRY_URL:
        if registry_url:
            return registry_url
        from modelgate.gui.ops.registry import default_registry_url

        return default_registry_url()
    if setting is ACTING_USER:
        return f"{getpass.getuser()} (your login name)"
    if setting is TRUST_STORE:
        return "none; a registry version is judged by the registry's trusted signers"
    if setting is SIGNING_KEY:
        return "none; the signing station asks for a key file"
    if setting is POLICY_FILE:
        return "the policy shipped with ModelGate"
    return str(setting.default)


def problem(setting: GuiSetting, text: str) -> str | None:
    """Why ``text`` cannot be used for ``setting``, in a sentence; ``None`` when it can (empty
    always can: it means the fallback shown in the dialog)."""
    text = text.strip()
    if not text:
        return None
    if any(ord(c) < 32 for c in text):
        return f"{setting.label}: control characters are not allowed."
    if setting is THEME and text not in THEMES:
        return f"{setting.label}: choose one of {', '.join(THEMES)}."
    if setting is REGISTRY_URL:
        if not text.startswith(URL_SCHEMES):
            return (f"{setting.label}: '{text}' is not a registry URL; write sqlite:///PATH/registry.db or "
                    "postgresql+psycopg://LOGIN@HOST/DB.")
        if text.startswith("sqlite:///"):
            folder = Path(text.removeprefix("sqlite:///")).expanduser().parent
            if not folder.is_dir():
                return f"{setting.label}: the folder {folder} does not exist."
    if setting is ACTING_USER and any(c.isspace() for c in text):
        return f"{setting.label}: a user name has no spaces."
    if setting is TRUST_STORE:
        missing = [p for p in text.split(os.pathsep) if p and not Path(p).expanduser().exists()]
        if missing:
            return f"{setting.label}: {', '.join(missing)} does not exist."
    if setting in (SIGNING_KEY, POLICY_FILE) and not Path(text).expanduser().is_file():
        return f"{setting.label}: {text} is not a file."
    if setting is POLICY_FILE and Path(text).suffix.lower() not in (".yaml", ".yml"):
        return f"{setting.label}: a policy is a .yaml or .yml file."
    return None


def limits() -> list[core_settings.Resolved]:
    """The core's tunable limits with their values and origins (from the environment, else the default).

    A value the environment sets wrongly is shown as it was given, with the problem, rather than
    hiding every other limit behind one error."""
    from modelgate.core.errors import UsageError

    resolved = []
    for setting in core_settings.SETTINGS.values():
        try:
            resolved.append(core_settings.resolve(setting))
        except UsageError as error:
            resolved.append(core_settings.Resolved(setting, f"{os.environ.get(setting.env)} ({error.message})",
                                                   core_settings.ENVIRONMENT))
    return resolved
