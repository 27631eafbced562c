"""``review``, ``promote``, ``rollback`` and ``compare``: the promotion workflow."""

from __future__ import annotations

import argparse
import sys

from modelgate.core.cli.registry_commands import to_json
from modelgate.core.cli.registry_options import add_registry_options, open_from_args, parse_ref
from modelgate.core.cli.registry_text import render_gates
from modelgate.core.cli.terminal import TerminalProgress, paint
from modelgate.core.policy.stages import STAGES

DECISIONS = ("approve", "reject", "request-changes")
COMPARE_EPILOG = """\
what is compared, always from A to B (deltas are B - A):
  metrics       each benchmark result both report: a, b, the change, and the verdict under the
                stage's regression limits (the numbers `validate --champion` uses)
  interface     inputs and outputs added, removed or changed (dtype, shape)
  license       the SPDX expressions
  targets       deployment targets added, removed or changed, field by field
  graph         per ONNX artifact: operators by type, parameter count, initializers added,
                removed or changed (dtype, shape or content, hashed without loading the
                weights), opsets, IR version and producer
  findings      both versions validated under the registry's policy for one stage, each
                against its model's production version as its promotion gate would be
                (stored runs are reused); the findings only A has and only B has

Comparing writes nothing to the registry. Exit code 0 when the comparison was made,
2 for an unknown version or a wrong call."""


def register(commands) -> None:
    review = commands.add_parser(
        "review", help="approve, reject or ask for changes",
        description="Record a review of a version at its current stage. Reviewers and approvers "
                    "may review; the submitter's own approval never counts.")
    review.add_argument("ref", metavar="NAME@VERSION")
    review.add_argument("decision", choices=DECISIONS, metavar="DECISION",
                        help=" | ".join(DECISIONS))
    review.add_argument("--comment", required=True, help="why (required)")
    add_registry_options(review)
    review.set_defaults(handler=run_review)

    promote = commands.add_parser(
        "promote", help="move a version to the next stage if every gate holds",
        description="Check the gates of the registry's policy for the target stage (validation, "
                    "approvals, signature, stage order) and move the version, or refuse and list "
                    "every unmet gate (exit 1). Promoting to production deprecates the current one. "
                    "An admin sets the policy with `modelgate registry policy --set FILE`.",
        epilog="stages: " + " → ".join(STAGES))
    promote.add_argument("ref", metavar="NAME@VERSION")
    promote.add_argument("--to", required=True, choices=STAGES, metavar="STAGE", dest="to_stage",
                         help="target stage")
    promote.add_argument("--reason", help="why, recorded with the promotion")
    add_registry_options(promote)
    promote.set_defaults(handler=run_promote)

    rollback = commands.add_parser(
        "rollback", help="restore the previous production version",
        description="Demote the current production version of NAME and restore the one it "
                    "replaced (or, with --to, another deprecated version that was in production), "
                    "in one step, recording why. The restored version must pass today's production "
                    "gates: its stored copy re-hashed, validation under the policy in force, and a "
                    "signature by a key trusted now (a revoked key counts for nothing), verified again "
                    "against the stored bytes. Otherwise the "
                    "rollback is refused (exit 1), every gate listed, and nothing changes.",
        epilog="example: modelgate rollback defect-detector --reason \"misreads scratches on line 3\"\n"
               "emergency (admins): modelgate rollback defect-detector --to 1.0.0 --break-glass "
               "--reason \"1.1.0 rejects every part\"")
    rollback.add_argument("name", metavar="NAME")
    rollback.add_argument("--to", dest="to_version", metavar="VERSION",
                          help="the version to restore (default: the one production last replaced)")
    rollback.add_argument("--reason", required=True, help="why (required)")
    rollback.add_argument("--break-glass", action="store_true", dest="break_glass",
                          help="admins only, in an emergency: restore although validation or signature "
                               "gates fail; loudly audited and shown until a normal promotion replaces it "
                               "(a damaged stored copy is never restored)")
    add_registry_options(rollback)
    rollback.set_defaults(handler=run_rollback)

    compare = commands.add_parser(
        "compare", help="champion against challenger: what changed",
        usage="modelgate compare [CHAMPION] CHALLENGER [--stage STAGE] [--json]",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="What changed from the champion A (the baseline) to the challenger B, both\n"
                    "NAME@VERSION in the registry. With the challenger alone, the champion is its\n"
                    "model's production version.",
        epilog=COMPARE_EPILOG)
    compare.add_argument("champion", metavar="CHAMPION", nargs="?",
                         help="A: the baseline, NAME@VERSION (default: the production version)")
    compare.add_argument("challenger", metavar="CHALLENGER", nargs="?", help="B: the version under review")
    compare.add_argument("--stage", choices=STAGES, metavar="STAGE",
                         help="judge both for STAGE (default: the challenger's next stage)")
    compare.add_argument("--json", action="store_true", help="print JSON (modelgate.compare/v1)")
    add_registry_options(compare)
    compare.set_defaults(handler=run_compare)


def run_review(args: argparse.Namespace) -> int:
    from modelgate.core.registry import workflow

    name, version = parse_ref(args.ref)
    with open_from_args(args) as registry:
        result = workflow.review(registry, name=name, version=version, decision=args.decision,
                                 comment=args.comment)
    print(f"{result.reviewer} {result.decision} {name}@{version} at {result.stage}")
    if result.by_submitter and result.decision == "approve":
        print(paint("note: you submitted this version, so your approval does not count toward a promotion",
                    "yellow"))
    return 0


def run_promote(args: argparse.Namespace) -> int:
    from modelgate.core.registry import workflow
    from modelgate.core.registry.errors import WorkflowRefused

    name, version = parse_ref(args.ref)
    renderer = TerminalProgress()
    try:
        with open_from_args(args) as registry:
            result = workflow.promote(registry, name=name, version=version, to_stage=args.to_stage,
                                      reason=args.reason, progress=renderer.progress())
    except WorkflowRefused as refused:
        renderer.finish()
        print(paint(f"{name}@{version} stays where it is: not every gate for {args.to_stage} holds", "red"))
        print(render_gates(refused.gates))
        return 1
    finally:
        renderer.finish()
    if not result.moved:
        print(f"{name}@{version} is already at {result.to_stage}; nothing changed")
        return 0
    print(paint(f"{name}@{version}: {result.from_stage} → {result.to_stage}", "green"))
    print(render_gates(result.gates))
    if result.superseded:
        print(f"{result.superseded} moved to deprecated")
    return 0


def run_rollback(args: argparse.Namespace) -> int:
    from modelgate.core.registry import workflow

    if "@" in args.name:
        from modelgate.core.errors import UsageError

        name, _, version = args.name.partition("@")
        raise UsageError(f"rollback takes a model name, not {args.name}",
                         hint=f"To put {args.name} back in production: modelgate rollback {name} --to {version} "
                              "--reason TEXT")
    from modelgate.core.registry.errors import WorkflowRefused

    renderer = TerminalProgress()
    try:
        with open_from_args(args) as registry:
            result = workflow.rollback(registry, name=args.name, reason=args.reason, to_version=args.to_version,
                                       break_glass=args.break_glass, progress=renderer.progress())
    except WorkflowRefused as refused:
        renderer.finish()
        # The one message on stderr, as for every refusal; the gates, like promote's, on stdout.
        print(f"modelgate: nothing was rolled back: {refused.explain()}", file=sys.stderr)
        if refused.gates:
            print(render_gates(refused.gates))
        return 1
    finally:
        renderer.finish()
    if result.break_glass:
        print(paint(f"BREAK-GLASS: {result.restored} restored to production although "
                    f"{', '.join(result.broken)} did not hold; {result.demoted} moved to deprecated", "red"))
        print(render_gates(result.gates))
        print("Recorded in the audit log as rollback.break-glass; shown on every screen until a normal "
              "promotion replaces it.")
        return 0
    print(f"{result.restored} restored to production; {result.demoted} moved to deprecated")
    if args.break_glass:
        print("every production gate holds, so this was an ordinary rollback (no break-glass needed)")
    print(render_gates(result.gates))
    return 0


def run_compare(args: argparse.Namespace) -> int:
    from modelgate.core.errors import UsageError
    from modelgate.core.registry import compare as comparing

    if args.champion is None:
        raise UsageError("compare needs the version to review: modelgate compare [CHAMPION] CHALLENGER",
                         hint="For example: modelgate compare credit-risk@1.2.0")
    given = [parse_ref(text) for text in (args.champion, args.challenger) if text is not None]
    renderer = TerminalProgress()
    try:
        with open_from_args(args) as registry:
            champion = given[0] if len(given) == 2 else comparing.champion_for(
                registry, name=given[0][0], version=given[0][1])
            result = comparing.compare(registry, a=champion, b=given[-1], stage=args.stage,
                                       progress=renderer.progress())
    finally:
        renderer.finish()
    if args.json:
        print(to_json(result.as_dict()))
        return 0
    from modelgate.core.cli.compare_text import render_comparison

    print(render_comparison(result))
    return 0
