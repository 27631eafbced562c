"""Entry point of the ``modelgate`` command."""

from __future__ import annotations

import argparse
import os
import sys

from modelgate.core import __version__
from modelgate.core.cli.parser import Parser
from modelgate.core.errors import ModelGateError

EPILOG = """\
exit codes: 0 success · 1 the checks or the workflow said no · 2 bad input or usage

Start with `modelgate demo` to build a demo workspace, then
`modelgate inspect DIR/bundles/credit-risk-1.1.0`.
`modelgate COMMAND --help` explains each command."""


def build_parser() -> Parser:
    from modelgate.core.cli import bundle_commands, settings_command, validate_commands

    parser = Parser(
        prog="modelgate",
        description="Review, govern, promote and sign machine-learning model bundles.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="store_true", help="print versions and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    bundle_commands.register(commands)
    validate_commands.register(commands)
    settings_command.register(commands)
    return parser


def version_text() -> str:
    from modelgate.core import BUNDLE_FORMAT, POLICY_FORMAT

    return f"modelgate {__version__} (bundle format {BUNDLE_FORMAT}, policy format {POLICY_FORMAT})"


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as exit_:  # --help
            return int(exit_.code or 0)
        if args.version:
            print(version_text())
            return 0
        if not args.command:
            parser.print_help()
            return 2
        return int(args.handler(args) or 0)
    except ModelGateError as error:
        print(f"modelgate: {error.explain()}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("modelgate: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into `head`: stop quietly.
        sys.stderr.close()
        return 0
    except Exception as error:  # the last line of defence: never show a traceback
        if os.environ.get("MODELGATE_DEBUG"):
            raise
        print(f"modelgate: internal error: {error.__class__.__name__}: {error}\n"
              "  hint: this is a bug in ModelGate; set MODELGATE_DEBUG=1 to see where it happened.",
              file=sys.stderr)
        return 2


def entry() -> None:
    """The console script: run :func:`main`, flush, and exit without the slow teardown.

    Tearing down onnxruntime's and onnx's native state at interpreter exit takes
    longer than a small bundle's whole validation. Everything that matters is
    finished by then: reports are written and closed, extracted archives removed.
    """
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError, OSError):
            pass
    os._exit(code)


if __name__ == "__main__":
    entry()
