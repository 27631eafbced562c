"""Options shared by every command that uses the registry, and opening it from them."""

from __future__ import annotations

import argparse
import os

from modelgate.core.errors import UsageError


def add_registry_options(parser: argparse.ArgumentParser) -> None:
    """``--registry`` and ``--user``, accepted after the command as well as before it."""
    parser.add_argument("--registry", metavar="URL", default=argparse.SUPPRESS,
                        help="registry URL (default: $MODELGATE_REGISTRY, else a SQLite file "
                             "in your data folder); e.g. postgresql+psycopg://host/db")
    parser.add_argument("--user", metavar="NAME", default=argparse.SUPPRESS,
                        help="acting user (default: $MODELGATE_USER, else your login name); "
                             "with PostgreSQL it must be the database login")


def registry_args(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """``(url, user)`` from the options, then the environment; ``None`` means the default."""
    url = getattr(args, "registry", None) or os.environ.get("MODELGATE_REGISTRY") or None
    user = getattr(args, "user", None) or os.environ.get("MODELGATE_USER") or None
    return url, user


def open_from_args(args: argparse.Namespace):
    """Open the registry the command line names, as a context manager that closes it."""
    from contextlib import closing

    from modelgate.core.registry import open_registry

    url, user = registry_args(args)
    return closing(open_registry(url=url, user=user))


def parse_ref(text: str) -> tuple[str, str]:
    """``NAME@VERSION`` -> ``(name, version)``; a usage error otherwise."""
    from modelgate.core.semver import split_reference

    reference = split_reference(text)
    if reference is None:
        raise UsageError(f"{text!r} is not NAME@VERSION", hint="For example: credit-risk@1.2.0")
    return reference
