"""Entry point of the ``modelgate`` command."""

from __future__ import annotations

import argparse
import os
import sys

from modelgate.core.cli.parser import Parser
from modelgate.core.cli.registry_options import add_registry_options
from modelgate.core.errors import ModelGateError, UsageError

EPILOG = """\
exit codes: 0 success · 1 the checks or the workflow said no · 2 bad input or usage

Start with `modelgate demo` to build a demo workspace, then
`modelgate inspect DIR/bundles/credit-risk-1.1.0`.
`modelgate COMMAND --help` explains each command."""


def build_parser() -> Parser:
    from modelgate.core.cli import (bundle_commands, gui_command, queue_command, registry_commands,
                                    settings_command, signing_commands, validate_commands,
                                    workflow_commands)
    from modelgate.core.cli import (attestation_commands, bom_command, changed_command, oci_commands,
                                    report_command, waive_command)

    parser = Parser(
        prog="modelgate",
        description="Review, govern, promote and sign machine-learning model bundles.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="store_true", help="print versions and exit")
    add_registry_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    bundle_commands.register(commands)
    validate_commands.register(commands)
    changed_command.register(commands, parse_command_line=parser.parse_args)
    registry_commands.register(commands)
    workflow_commands.register(commands)
    queue_command.register(commands)
    signing_commands.register(commands)
    attestation_commands.register(commands)
    bom_command.register(commands)
    waive_command.register(commands)
    oci_commands.register(commands)
    report_command.register(commands)
    settings_command.register(commands)
    gui_command.register(commands)
    return parser


def version_text() -> str:
    from modelgate.core.formats.versions import version_report

    return version_report()


def _log_to_stderr() -> None:
    """Housekeeping notes (e.g. an interrupted import cleaned up) go to stderr, one line each."""
    import logging

    logger = logging.getLogger("modelgate")
    if not logger.handlers:
        handler = logging.StreamHandler()  # sys.stderr at the time of each call
        handler.setFormatter(logging.Formatter("modelgate: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``); return the exit code.

    Everything written to stdout and stderr meanwhile goes through
    :class:`~modelgate.core.cli.terminal.EscapingStream`: text from a bundle is shown, never
    interpreted by the terminal.
    """
    from modelgate.core.cli.terminal import EscapingStream

    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = (stream if stream is None or isinstance(stream, EscapingStream)
                              else EscapingStream(stream) for stream in saved)
    try:
        return _main(argv)
    finally:
        sys.stdout, sys.stderr = saved


def _main(argv: list[str] | None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    _log_to_stderr()
    parser = build_parser()
    try:
        for argument in argv:
            try:
                argument.encode("utf-8")
            except UnicodeEncodeError:
                shown = argument.encode("utf-8", "surrogateescape")
                raise UsageError(f"the argument {shown!r} is not valid UTF-8",
                                 hint="Names, versions, comments and paths must be UTF-8 text.") from None
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
    except OSError as error:  # e.g. stdout on a full disk
        where = f" ({error.filename})" if error.filename else ""
        print(f"modelgate: {error.strerror or error}{where}", file=sys.stderr)
        return 2
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
    import signal

    def terminated(signum, _frame):
        # Unwind like Ctrl-C does, so extracted archives are removed on the way out.
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminated)
    try:
        code = main()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    for stream in (sys.stdout, sys.stderr):
        if stream is None:  # started with the descriptor closed
            continue
        try:
            stream.flush()
        except (ValueError, OSError):
            if stream is sys.stdout and code == 0:
                code = 2  # the output was lost: do not report success
    os._exit(code)


def gui_entry() -> None:
    """``modelgate-gui``: the same as ``modelgate gui``."""
    sys.argv[1:1] = ["gui"]
    entry()


if __name__ == "__main__":
    entry()
