"""``modelgate queue``: what waits for the acting user, oldest first."""

from __future__ import annotations

import argparse

from modelgate.core.cli.registry_options import add_registry_options, open_from_args
from modelgate.core.cli.terminal import paint

TASK_WORDS = {"review": "to review", "approve": "to approve", "sign": "to sign", "promote": "to promote"}


def register(commands) -> None:
    """Add the ``queue`` command."""
    parser = commands.add_parser(
        "queue", help="the versions waiting for you: to review, approve, sign or promote",
        description="List the versions waiting for the acting user (--user / MODELGATE_USER), oldest "
                    "first: reviews and approvals the next stage still needs from a role you hold, "
                    "release signatures to make once the approvals are in, and promotions whose "
                    "approvals and signature are in place. Your own submissions never wait for your "
                    "review or signature. At most the oldest 500 of each kind are listed.",
        epilog="example: modelgate queue --user chen")
    parser.add_argument("--task", choices=("review", "approve", "sign", "promote"),
                        help="only this kind of work")
    parser.add_argument("--json", action="store_true", help="print JSON (modelgate.queue/v1)")
    add_registry_options(parser)
    parser.set_defaults(handler=run_queue)


def run_queue(args: argparse.Namespace) -> int:
    from modelgate.core.cli.registry_commands import _table, to_json
    from modelgate.core.registry.queue import work_queue

    with open_from_args(args) as registry:
        queue = work_queue(registry)
    items = queue.of(args.task) if args.task else queue.items
    if args.json:
        print(to_json({"format": "modelgate.queue/v1", "user": queue.user, "roles": queue.roles,
                       "counts": queue.counts, "complete": queue.complete,
                       "truncated": sorted(queue.truncated), "items": items}))
        return 0
    roles = ", ".join(queue.roles) or "no role"
    if not items:
        what = f" {TASK_WORDS[args.task]}" if args.task else ""
        print(f"Nothing waits for {queue.user} ({roles}){what}.")
        if not queue.roles:
            print(paint(f"{queue.user} holds no role in this registry: is the name right? "
                        "`modelgate users list` shows who does.", "yellow"))
        return 0
    counts = ", ".join(f"{n} {TASK_WORDS[task]}" for task, n in queue.counts.items() if n)
    print(f"{queue.user} ({roles}): {counts}")
    rows = [(item.task, item.ref, item.stage, item.to_stage, item.waiting_since.strftime("%Y-%m-%d %H:%M"),
             item.submitter, item.reason) for item in items]
    print(_table(rows, ("TASK", "VERSION", "STAGE", "NEXT", "WAITING SINCE", "SUBMITTER", "WHY")))
    if queue.truncated:
        print(paint(f"More are waiting {' and '.join(TASK_WORDS[t] for t in sorted(queue.truncated))}: "
                    "the oldest are listed.", "yellow"))
    print(paint("Act with `modelgate review`, `modelgate sign NAME@VERSION` or `modelgate promote`.", "dim"))
    return 0
