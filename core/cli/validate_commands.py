"""``validate``, ``rules``, ``explain`` and ``policy``: the checks, headless."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from contextlib import ExitStack
from pathlib import Path

from modelgate.core.cli.parser import Parser
from modelgate.core.cli.registry_options import add_registry_options
from modelgate.core.cli.terminal import TerminalProgress, paint, use_colour
from modelgate.core.errors import BundleError, UsageError
from modelgate.core.policy.stages import DEFAULT_STAGE, STAGES

FORMATS = ("text", "json", "junit", "sarif", "markdown")

VALIDATE_EPILOG = """\
exit codes: 0 no error finding · 1 at least one error finding · 2 the bundle, the policy
or the call could not be used.

examples:
  modelgate validate bundles/credit-risk-1.2.0 --stage staging
  modelgate validate model.tar.gz --policy org-policy.yaml --format sarif --output mg.sarif
  modelgate validate new/ --champion current/ --stage production \\
      --report junit:reports/mg.xml --report sarif:reports/mg.sarif --format markdown
  modelgate validate bundles/* --format sarif --output reports/{name}.sarif
  modelgate validate credit-risk@1.2.0 --stage production   # the stored copy, waivers shown

A folder has no waivers; NAME@VERSION (or a folder whose bytes are a registered version,
with --registry) shows the version's waivers: each waived finding is listed as waived and no
longer fails, and an expired waiver says so."""


def register(commands) -> None:
    validate = commands.add_parser(
        "validate", help="check a bundle against the policy",
        description="Run every check on BUNDLE (a folder or a .zip/.tar/.tar.gz archive) for the "
                    "target stage under a policy, and report the findings. With several bundles,\n"
                    "--output and --report file names take {name} (each bundle's folder name).",
        epilog=VALIDATE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    validate.add_argument("bundle", metavar="BUNDLE", type=Path, nargs="+",
                          help="bundle folders or archives, or NAME@VERSION for the registry's stored "
                               "copy (with its waivers); several are validated in one run, each with "
                               "its own report, then a summary")
    validate.add_argument("--policy", type=Path, metavar="FILE",
                          help="policy file (default: the policy shipped with ModelGate)")
    validate.add_argument("--stage", default=DEFAULT_STAGE, choices=STAGES, metavar="STAGE",
                          help=f"target stage: {', '.join(STAGES)} (default: {DEFAULT_STAGE})")
    validate.add_argument("--champion", type=Path, metavar="BUNDLE",
                          help="the current champion, to check the metrics for regressions")
    validate.add_argument("--format", default="text", choices=FORMATS, metavar="FORMAT",
                          help=f"report format: {', '.join(FORMATS)} (default: text)")
    validate.add_argument("--output", type=Path, metavar="FILE",
                          help="write the report to FILE and print only the verdict")
    validate.add_argument("--report", action="append", default=[], type=_report_spec,
                          metavar="FORMAT:FILE",
                          help="also write a report in FORMAT to FILE; repeat for several "
                               "(e.g. --report sarif:mg.sarif --report junit:mg.xml)")
    validate.add_argument("--trust", action="append", type=Path, metavar="PUBKEY_OR_DIR", default=[],
                          help="trusted signers' public keys and CA certificate files for the signature "
                               "checks (MG8xx); default: $MODELGATE_TRUST_STORE")
    add_registry_options(validate)
    validate.set_defaults(handler=run_validate)

    rules = commands.add_parser("rules", help="list the rules",
                                description="List every rule with its id, default severity and title.")
    rules.add_argument("--json", action="store_true", help="print JSON with rationale and fix")
    rules.set_defaults(handler=run_rules)

    explain = commands.add_parser("explain", help="explain one rule",
                                  description="Show a rule's rationale and how to fix it.")
    explain.add_argument("rule", metavar="RULE_ID", help="e.g. MG201")
    explain.set_defaults(handler=run_explain)

    policy = commands.add_parser(
        "policy", help="show or check a policy file",
        description="`policy show` prints the default policy (a starting point for your own); "
                    "`policy check FILE` validates a policy file.")
    policy_commands = policy.add_subparsers(dest="policy_command", metavar="ACTION", required=True,
                                            parser_class=Parser)
    show = policy_commands.add_parser("show", help="print the default policy")
    show.set_defaults(handler=run_policy_show)
    check = policy_commands.add_parser("check", help="validate a policy file")
    check.add_argument("file", metavar="FILE", type=Path)
    check.set_defaults(handler=run_policy_check)


def _report_spec(text: str) -> tuple[str, Path]:
    format_, _, file = text.partition(":")
    if format_ not in FORMATS or not file:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not FORMAT:FILE with FORMAT one of {', '.join(FORMATS)}")
    return format_, Path(file)


def _open_champion(path: Path):
    """The champion bundle, with errors that say it is the champion that could not be read."""
    from modelgate.core.bundle.reader import open_bundle
    from modelgate.core.errors import BundleError

    try:
        return open_bundle(path)
    except BundleError as error:
        raise type(error)(f"champion: {error.message}", hint=error.hint, rule=error.rule) from None


def _ending(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"


def _named(path: Path, bundle: Path) -> Path:
    """``path`` with ``{name}`` replaced by the bundle's file name (archives without their suffix)."""
    name = bundle.name
    for suffix in (".tar.gz", ".tgz", ".tar", ".zip"):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    return Path(str(path).replace("{name}", name))


def _check_batch(args: argparse.Namespace) -> None:
    """Several bundles: each report file needs its own name, and stdout holds text only."""
    for _, path in [*args.report, *([(args.format, args.output)] if args.output else [])]:
        if "{name}" not in str(path):
            raise UsageError(f"{path} would hold the reports of {len(args.bundle)} bundles",
                             hint="Put {name} in the file name, e.g. --output reports/{name}.sarif; "
                                  "it becomes each bundle's folder name.")
    if args.output is None and args.format not in ("text", "markdown"):
        raise UsageError(f"{len(args.bundle)} {args.format} reports cannot share stdout",
                         hint=f"Write one file per bundle: --output reports/{{name}}.{args.format}.")


def run_validate(args: argparse.Namespace) -> int:
    """Validate each of ``args.bundle`` in turn in this process (the checks, the policy and the
    model process are loaded once); one report per bundle, then, for several, a summary line.
    The exit code is the worst: 2 if a bundle could not be read, else 1 if one failed."""
    from modelgate.core.outputs import check_outputs
    from modelgate.core.checks.catalog import check_rule_ids
    from modelgate.core.policy.document import load_policy
    from modelgate.core.checks.catalog import catalog
    from modelgate.core.checks.report import with_waivers
    from modelgate.core.cli.validate_registered import Registered, registered, wants_registry

    bundles, several = args.bundle, len(args.bundle) > 1
    if several:
        _check_batch(args)
    outputs = [_named(path, bundle) for bundle in bundles
               for path in [p for _, p in args.report] + ([args.output] if args.output else [])]
    check_outputs(outputs, inputs=[p for p in (*bundles, args.policy, args.champion) if p])
    targets = [registered(args, bundle=b) if wants_registry(args, bundle=b) else Registered(b, (), None)
               for b in bundles]
    # a registered version is judged under the registry's policy unless --policy names another
    in_force = next((t.policy for t in targets if t.policy is not None), None)
    policy = load_policy(args.policy) if args.policy is not None or in_force is None else in_force
    check_rule_ids(policy)
    trust = _trust(args.trust)
    rules = catalog()
    codes: list[int] = []
    for number, (bundle, target) in enumerate(zip(bundles, targets)):
        if several and number and args.output is None:
            print()
        try:
            report = _validate_one(target.path, args, policy=policy, trust=trust)
        except BundleError as error:
            if not several:
                raise
            sys.stdout.flush()
            print(f"modelgate: {bundle}: {error.explain()}", file=sys.stderr)
            codes.append(error.exit_code)
            continue
        if target.waivers:
            report = with_waivers(report, waivers=target.waivers, policy=policy)
        _emit(report, args, bundle=bundle, rules=rules)
        codes.append(0 if report.passed else 1)
    if several:
        passed, failed = codes.count(0), codes.count(1)
        unreadable = len(codes) - passed - failed
        print(f"\n{len(codes)} bundle(s) validated: {passed} passed, {failed} failed"
              + (f", {unreadable} could not be read" if unreadable else ""))
    return max(codes)


def _validate_one(path: Path, args: argparse.Namespace, *, policy, trust):
    from modelgate.core.bundle.reader import open_bundle
    from modelgate.core.checks.engine import validate_bundle
    from modelgate.core.checks.request import ValidationRequest

    renderer = TerminalProgress()
    try:
        with open_bundle(path, progress=renderer.progress()) as bundle:
            with ExitStack() as stack:
                champion = (stack.enter_context(_open_champion(args.champion))
                            if args.champion is not None else None)
                request = ValidationRequest(bundle=bundle, policy=policy, stage=args.stage,
                                            champion=champion, trust=trust)
                return validate_bundle(request=request, progress=renderer.progress())
    finally:
        renderer.finish()


def _emit(report, args: argparse.Namespace, *, bundle: Path, rules: dict) -> None:
    """Write ``report`` to each --report file and to --output (then print the verdict) or stdout."""
    from modelgate.core.outputs import write_output
    from modelgate.core.reports import render

    for format_, path in args.report:
        write_output(_named(path, bundle), _ending(render(report, format=format_, rules=rules, colour=False)))
    if args.output is not None:
        write_output(_named(args.output, bundle),
                     _ending(render(report, format=args.format, rules=rules, colour=False)))
        print(_coloured_verdict(report) if len(args.bundle) == 1 else f"{bundle}: {_coloured_verdict(report)}")
    else:
        colour = args.format == "text" and use_colour(sys.stdout)
        if len(args.bundle) > 1:  # the reports follow each other: say whose each one is
            print(paint(f"== {bundle}", "bold"))
        sys.stdout.write(render(report, format=args.format, rules=rules, colour=colour))


def _trust(paths: list[Path]):
    """The trust store from --trust, else $MODELGATE_TRUST_STORE; ``None`` when neither is set."""
    from modelgate.core import settings
    from modelgate.core.checks.request import trust_from

    if not paths:
        return trust_from(location=settings.get(settings.TRUST_STORE))
    from modelgate.core.signing.trust import load_trust_store

    return load_trust_store(paths)


def _coloured_verdict(report) -> str:
    return paint(report.verdict, "green" if report.passed else "red")


def run_rules(args: argparse.Namespace) -> int:
    from modelgate.core.checks.catalog import catalog
    from modelgate.core.rules import FAMILIES

    rules = catalog()
    if args.json:
        print(json.dumps({"format": "modelgate.rules/v1", "rules": [r.as_dict() for r in rules.values()]},
                         indent=2))
        return 0
    family = None
    for rule in rules.values():
        if rule.id[:3] != family:
            print(paint(f"{'' if family is None else chr(10)}{rule.id[:3]}xx  {FAMILIES[rule.id[:3]]}", "bold"))
            family = rule.id[:3]
        print(f"  {rule.id}  {rule.severity.value:<7}  {rule.title}")
    print("\n`modelgate explain RULE_ID` shows why a rule matters and how to fix it.")
    return 0


def run_explain(args: argparse.Namespace) -> int:
    from modelgate.core.checks.catalog import get_rule

    rule = get_rule(args.rule)
    width = 78
    print(paint(f"{rule.id}  {rule.title}", "bold"))
    print(f"family: {rule.family} · default severity: {rule.severity.value}\n")
    print("Why it matters")
    print(textwrap.fill(rule.rationale, width, initial_indent="  ", subsequent_indent="  "))
    print("\nHow to fix it")
    print(textwrap.fill(rule.fix, width, initial_indent="  ", subsequent_indent="  "))
    print("\nA policy can change its severity or disable it:"
          f"\n  rules:\n    {rule.id}: {{severity: warning}}")
    return 0


def run_policy_show(args: argparse.Namespace) -> int:
    from modelgate.core import resources
    from modelgate.core.policy.document import DEFAULT_POLICY

    sys.stdout.write(resources.text(DEFAULT_POLICY))
    return 0


def run_policy_check(args: argparse.Namespace) -> int:
    from modelgate.core.checks.catalog import check_rule_ids
    from modelgate.core.policy.document import load_policy

    policy = load_policy(args.file)
    check_rule_ids(policy)
    print(f"{args.file}: valid policy {policy.name!r} (sha256 {policy.digest[:12]}…)")
    return 0
