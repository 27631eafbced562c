"""argparse, adapted: usage errors become :class:`UsageError` (one message, exit 2)."""

from __future__ import annotations

import argparse

from modelgate.core.errors import UsageError


class Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises instead of printing usage and exiting."""

    def error(self, message: str):
        raise UsageError(message, hint=f"See `{self.prog} --help`.")
