"""``report``: the auditor report of a registry version, as one HTML file or a PDF."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from modelgate.core.cli.registry_options import add_registry_options, open_from_args, parse_ref
from modelgate.core.cli.terminal import TerminalProgress, paint
from modelgate.core.outputs import human_bytes
from modelgate.core.errors import UsageError
from modelgate.core.evidence.formats import FORMATS, format_for
from modelgate.core.policy.stages import STAGES

REPORT_EPILOG = """\
The report is what an auditor files: the manifest summary and bundle digest, the
validation findings with the digest of the policy they ran under, approvals and
reviews, signatures with their key fingerprints, the promotion history, the
version's audit events, and the verification of the whole audit chain, with charts
of the benchmarks against the policy's gates. It carries the time it was made (UTC),
the ModelGate version and the audit verdict at the top. Making it only reads the
registry: it records nothing, so a read-only database login can make one.

exit codes: 0 written · 1 written, but the audit chain is broken or the stored bundle
no longer matches its digest (the report says where and why) · 2 unknown version,
unusable output file or call.

examples:
  modelgate report credit-risk@1.1.0 --output credit-risk-1.1.0.pdf
  modelgate report credit-risk@1.1.0 --output audit/credit-risk.html --force
  modelgate --registry sqlite:///demo/registry.db report credit-risk@1.2.0 \\
      --format html --output credit-risk-1.2.0.report"""


def register(commands) -> None:
    report = commands.add_parser(
        "report", help="an auditor's report of a version, as HTML or PDF",
        description="Write the evidence pack of NAME@VERSION as one self-contained HTML file or a PDF.",
        epilog=REPORT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    report.add_argument("ref", metavar="NAME@VERSION")
    report.add_argument("--output", "-o", required=True, type=Path, metavar="FILE",
                        help="the file to write (its suffix, .html or .pdf, picks the format)")
    report.add_argument("--format", choices=tuple(FORMATS), metavar="FORMAT",
                        help="html or pdf (default: from the output file's suffix)")
    report.add_argument("--force", action="store_true", help="replace FILE if it exists")
    report.add_argument("--stage", choices=STAGES, metavar="STAGE",
                        help="the stage whose gates the benchmark charts show (default: the next stage "
                             "on the version's way to production, or its own stage from production on)")
    report.add_argument("--template", metavar="NAME|FILE",
                        help="write technical documentation laid out by this template instead of the auditor "
                             "report: eu-ai-act-annex-iv (shipped), or a template file of your own")
    add_registry_options(report)
    report.set_defaults(handler=run_report)


def run_report(args: argparse.Namespace) -> int:
    from modelgate.core.outputs import check_writable

    name, version = parse_ref(args.ref)
    check_writable(args.output, create_folders=False)
    format_ = format_for(args.output, chosen=args.format)
    if args.output.exists() and not args.force:
        raise UsageError(f"{args.output} already exists", hint="Pass --force to replace it.")
    from modelgate.core.evidence import collect, write_report

    renderer = TerminalProgress()
    try:
        with open_from_args(args) as registry:
            from modelgate.core.registry.damage import require_intact

            # Damage found here is marked and audited, and no report is written for it.
            require_intact(registry, name=name, version=version, action="report on",
                           progress=renderer.progress())
            pack = collect(registry, name=name, version=version, stage=args.stage, progress=renderer.progress())
            if args.template is not None:
                from modelgate.core.cli.documentation_output import write_documentation

                size = write_documentation(registry, pack, template=args.template, path=args.output,
                                           format=format_)
        renderer(f"writing the {format_.upper()} report", 0, 0)
        if args.template is None:
            size = write_report(pack, path=args.output, format=format_)
    finally:
        renderer.finish()
    what = "technical documentation" if args.template else "auditor report"
    print(f"wrote {args.output} ({format_.upper()}, {human_bytes(size)}): {what} of {pack.ref}")
    problems = [] if pack.chain.ok else [pack.chain.verdict]
    if not pack.stored.intact:
        problems.append(f"stored bundle not intact: {pack.stored.problem}")
    for problem in problems:
        print(paint(problem, "red", stream=sys.stderr), file=sys.stderr)
    if not problems:
        print(paint(pack.chain.verdict, "green"))
        if pack.chain.head:
            print(f"head: {pack.chain.head[0]}:{pack.chain.head[1]}")
    return 1 if problems else 0
