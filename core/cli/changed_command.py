"""``validate-changed``: validate the bundles that changed files belong to.

A pre-commit hook or a CI job that looks at a diff knows which files changed, not which
bundles. This command maps each path to its bundle (see :mod:`modelgate.core.bundle.changed`) and
runs ``modelgate validate`` on every bundle once, with the same options, so the verdicts
are exactly the ones ``validate`` gives.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from modelgate.core.policy.stages import DEFAULT_STAGE, STAGES

EPILOG = """\
exit codes: 0 every bundle passed (or no path is in a bundle) · 1 at least one bundle has an
error finding · 2 a bundle, the policy or the call could not be used.

examples:
  modelgate validate-changed $(git diff --name-only origin/main...)
  modelgate validate-changed models/credit-risk/MODEL_CARD.md models/fraud/bundle.yaml --stage staging
  pre-commit: see .pre-commit-hooks.yaml (hook id `modelgate-validate`)"""


def register(commands, *, parse_command_line) -> None:
    """Add the ``validate-changed`` command to the ``modelgate`` sub-command parser.

    ``parse_command_line`` is the whole command line's parser, which turns each bundle into the
    ``modelgate validate`` call it stands for.
    """
    changed = commands.add_parser(
        "validate-changed", help="validate the bundles that hold the given (changed) files",
        description="Validate every bundle that holds one of PATHs: a file inside a bundle folder (the\n"
                    "nearest folder above it with a bundle.yaml), a bundle folder, or a bundle archive.\n"
                    "Each bundle is validated once, as `modelgate validate` does; paths in no bundle\n"
                    "are skipped.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    changed.add_argument("paths", metavar="PATH", type=Path, nargs="*",
                         help="changed files or folders (relative paths are looked up no higher than "
                              "the working directory)")
    changed.add_argument("--policy", type=Path, metavar="FILE",
                         help="policy file (default: the policy shipped with ModelGate)")
    changed.add_argument("--stage", default=DEFAULT_STAGE, choices=STAGES, metavar="STAGE",
                         help=f"target stage: {', '.join(STAGES)} (default: {DEFAULT_STAGE})")
    changed.add_argument("--trust", action="append", type=Path, metavar="PUBKEY_OR_DIR", default=[],
                         help="trusted signers' public keys for the signature checks (MG8xx)")
    changed.set_defaults(handler=run_validate_changed, parse_command_line=parse_command_line)


def _validate_options(args: argparse.Namespace) -> list[str]:
    options = ["--stage", args.stage]
    if args.policy is not None:
        options += ["--policy", str(args.policy)]
    for trusted in args.trust:
        options += ["--trust", str(trusted)]
    return options


def run_validate_changed(args: argparse.Namespace) -> int:
    from modelgate.core.bundle.changed import bundle_roots
    from modelgate.core.errors import ModelGateError

    if args.policy is not None:
        # A broken policy is one error, not one per bundle.
        from modelgate.core.checks.catalog import check_rule_ids
        from modelgate.core.policy.document import load_policy

        check_rule_ids(load_policy(args.policy))
    roots = bundle_roots(paths=args.paths)
    if not roots:
        print(f"No bundle holds any of the {len(args.paths)} path(s); nothing to validate.")
        return 0
    codes: list[int] = []
    for number, root in enumerate(roots):
        if number:
            print()
        validate_args = args.parse_command_line(["validate", str(root), *_validate_options(args)])
        try:
            codes.append(int(validate_args.handler(validate_args) or 0))
        except ModelGateError as error:
            sys.stdout.flush()
            print(f"modelgate: {root}: {error.explain()}", file=sys.stderr)
            codes.append(error.exit_code)
    passed, failed = codes.count(0), codes.count(1)
    unreadable = len(codes) - passed - failed
    print(f"\n{len(roots)} bundle(s) validated: {passed} passed, {failed} failed"
          + (f", {unreadable} could not be read" if unreadable else ""))
    return max(codes)
