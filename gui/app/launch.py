"""Starting the desktop app: ``modelgate gui`` and the ``modelgate-gui`` script both land here.

This module imports nothing but the standard library at the top, so the command line can
ask :func:`missing_packages` and explain in one line what to install before any Qt import.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

#: What the desktop app imports beyond the core, by the import name.
GUI_PACKAGES = ("PySide6", "matplotlib", "markdown", "nh3")


def missing_packages() -> list[str]:
    """The packages of :data:`GUI_PACKAGES` that cannot be imported here."""
    missing = []
    for name in GUI_PACKAGES:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing


def run(*, bundle: Path | None = None, registry: str | None = None, user: str | None = None,
        policy: Path | None = None, settings_file: Path | None = None, open_registry: bool = True,
        self_check: bool = False) -> int:
    """Open the main window and run until it closes; return the exit code.

    With ``bundle`` the window shows that bundle on its own, and opens a registry only
    when ``registry`` names one; without it, it opens the registry (``registry``, else
    the settings, else ``$MODELGATE_REGISTRY``, else the one in the user's data folder).
    With ``self_check`` it runs :mod:`modelgate.gui.app.self_check` on ``bundle`` instead.
    """
    if self_check:
        from modelgate.gui.app.self_check import run_self_check

        return run_self_check(bundle=bundle, policy=policy, settings_file=settings_file)
    from modelgate.gui.app.application import open_window, release_qt_objects

    app, window = open_window(registry=registry, user=user, policy=policy, settings_file=settings_file)
    if bundle is not None:
        window.open_bundle(path=bundle)
    if open_registry and (registry or bundle is None):
        window.open_registry()
    code = app.exec()
    release_qt_objects(app)
    return code
