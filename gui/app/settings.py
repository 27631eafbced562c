"""The desktop app's settings, each declared once with its type, default and meaning.

Values live in a :class:`QSettings` (the platform's usual place, or an INI file given
by the caller); the command line's ``--registry``, ``--user`` and ``--policy`` override
them for one session without being saved. Window geometry and splitter positions are
kept in the same store, under ``window/``.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QByteArray, QSettings

THEMES = ("system", "light", "dark")


@dataclass(frozen=True)
class GuiSetting:
    """One setting: its key in the store, Python type, default, label and help text."""

    key: str
    type: type
    default: object
    label: str
    help: str


#: Every setting by key, in the order the settings dialog shows them.
SETTINGS: dict[str, GuiSetting] = {}


def _declare(*args) -> GuiSetting:
    setting = GuiSetting(*args)
    SETTINGS[setting.key] = setting
    return setting


REGISTRY_URL = _declare("registry_url", str, "", "Registry URL",
                        "sqlite:///PATH/registry.db or postgresql+psycopg://LOGIN@HOST/DB. Empty: "
                        "$MODELGATE_REGISTRY, else the registry in your data folder.")
ACTING_USER = _declare("acting_user", str, "", "Acting user",
                       "Who you act as in a SQLite registry. Empty: $MODELGATE_USER, else your login "
                       "name. With PostgreSQL you are always your database login.")
TRUST_STORE = _declare("trust_store", str, "", "Trust store",
                       "A public key file, or a folder of them: the signers whose release signatures "
                       "you accept.")
SIGNING_KEY = _declare("signing_key", str, "", "Signing key",
                       "The private key file (PEM) the signing station offers first. Its passphrase "
                       "is asked for each signature and never stored.")
POLICY_FILE = _declare("policy_file", str, "", "Policy file",
                       "The policy for bundles opened on their own. Empty: the policy shipped with "
                       "ModelGate. A registry always uses the policy it holds, as its gates do.")
THEME = _declare("theme", str, "system", "Theme",
                 "system follows the desktop's light or dark appearance; light and dark fix it.")

class GuiSettings:
    """Typed access to :data:`SETTINGS` and to saved window layouts in one QSettings store."""

    def __init__(self, *, store: QSettings) -> None:
        self.store = store

    @classmethod
    def at(cls, *, path: str | None = None) -> GuiSettings:
        """The user's settings, or the INI file at ``path`` (tests, screenshots, benchmarks)."""
        if path:
            return cls(store=QSettings(path, QSettings.Format.IniFormat))
        return cls(store=QSettings("ModelGate", "ModelGate"))

    def get(self, setting: GuiSetting | str):
        """The value of ``setting`` (or the setting keyed so), or its default when unset or unusable."""
        setting = SETTINGS[setting] if isinstance(setting, str) else setting
        raw = self.store.value(f"settings/{setting.key}", setting.default)
        try:
            value = setting.type(raw)
        except (TypeError, ValueError):
            return setting.default
        if setting is THEME and value not in THEMES:
            return setting.default
        return value

    def set(self, setting: GuiSetting | str, value) -> None:
        """Store ``value`` for ``setting`` (or the setting keyed so), converted to its declared type."""
        setting = SETTINGS[setting] if isinstance(setting, str) else setting
        self.store.setValue(f"settings/{setting.key}", setting.type(value))

    def layout(self, name: str) -> QByteArray | None:
        """A saved window geometry or splitter state, if any."""
        value = self.store.value(f"window/{name}")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def save_layout(self, name: str, state: QByteArray) -> None:
        self.store.setValue(f"window/{name}", state)

    def sync(self) -> None:
        self.store.sync()
