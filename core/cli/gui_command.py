"""``modelgate gui``: hand over to the desktop app, which is an optional part of ModelGate.

This is the one place the command line reaches into ``modelgate.gui``, and only when this
command runs: the module is found by name, so the headless CLI (and every other command)
never loads Qt, and a machine without the desktop extras gets one clear line.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

from modelgate.core.cli.registry_options import add_registry_options, registry_args
from modelgate.core.errors import UsageError

#: The desktop app's launcher, imported only when ``modelgate gui`` runs.
LAUNCHER = "modelgate.gui.app.launch"


def register(commands) -> None:
    """Add the ``gui`` command to the ``modelgate`` sub-command parser."""
    gui = commands.add_parser(
        "gui", help="open the desktop app",
        description="Open the desktop app: the registry on the left, the selected version's inspector "
                    "on the right. With BUNDLE, open that bundle on its own, outside any registry.")
    gui.add_argument("bundle", metavar="BUNDLE", type=Path, nargs="?",
                     help="a bundle folder or archive to open on its own")
    gui.add_argument("--policy", type=Path, metavar="FILE",
                     help="policy for bundles opened on their own (a registry uses the policy it holds)")
    gui.add_argument("--settings", type=Path, metavar="FILE", dest="settings_file",
                     help="keep the app's settings in this INI file instead of the usual place")
    gui.add_argument("--self-check", action="store_true",
                     help="open BUNDLE, validate it, check the graph viewer, close the window and exit "
                          "(0 when it all worked): for a new installation and the build's smoke test")
    add_registry_options(gui)
    gui.set_defaults(handler=run_gui)


def run_gui(args: argparse.Namespace) -> int:
    try:
        launcher = importlib.import_module(LAUNCHER)
    except ImportError:
        launcher = None
    missing = launcher.missing_packages() if launcher is not None else ["modelgate.gui"]
    if missing:
        raise UsageError(f"the desktop app needs {', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} "
                         "not installed", hint="Install the desktop extras: pip install 'modelgate[gui]'")
    if args.bundle is not None and not args.bundle.exists():
        raise UsageError(f"{args.bundle}: no such file or folder",
                         hint="Pass a bundle folder or a .zip, .tar or .tar.gz archive of one.")
    if args.self_check and args.bundle is None:
        raise UsageError("--self-check needs a bundle to open",
                         hint="Pass a bundle folder or archive, e.g. one `modelgate demo DIR` made.")
    url, user = registry_args(args)
    explicit = getattr(args, "registry", None)
    return launcher.run(bundle=args.bundle, registry=explicit if args.bundle is not None else url, user=user,
                        policy=args.policy, settings_file=args.settings_file, self_check=args.self_check)
