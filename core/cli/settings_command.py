"""``modelgate settings``: every tunable limit, its environment variable and value."""

from __future__ import annotations

import argparse
import json
import textwrap


def register(commands) -> None:
    """Add the ``settings`` command to the ``modelgate`` sub-command parser."""
    parser = commands.add_parser(
        "settings", help="list the tunable limits",
        description="List every setting with the environment variable that changes it, its "
                    "default and the value in force.")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run_settings)


def run_settings(args: argparse.Namespace) -> int:
    from modelgate.core import settings
    resolved = [settings.resolve(s) for s in settings.SETTINGS.values()]
    rows = [{"name": r.setting.name, "env": r.setting.env, "type": r.setting.type.__name__,
             "default": r.setting.default, "value": r.value, "origin": r.origin, "help": r.setting.help}
            for r in resolved]
    if args.json:
        print(json.dumps({"format": "modelgate.settings/v1", "settings": rows}, indent=2))
        return 0
    for row in rows:
        changed = "" if row["origin"] == settings.DEFAULT else f"  (from the environment; default {row['default']})"
        print(f"{row['env']}={row['value']}{changed}")
        print(textwrap.fill(row["help"], 78, initial_indent="    ", subsequent_indent="    "))
    return 0
