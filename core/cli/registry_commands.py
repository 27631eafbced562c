"""``registry``, ``users`` and ``audit``: the registry's contents and its audit log."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

from modelgate.core.cli.parser import Parser
from modelgate.core.cli.registry_options import add_registry_options, open_from_args, parse_ref, registry_args
from modelgate.core.cli.terminal import TerminalProgress, paint
from modelgate.core.policy.stages import STAGES

ROLES = ("submitter", "reviewer", "approver", "signer", "admin")


def register(commands) -> None:
    registry = commands.add_parser(
        "registry", help="create, fill and browse the registry",
        description="The registry records every imported version, its stage, reviews, promotions "
                    "and an append-only audit log. SQLite by default; PostgreSQL for teams.")
    actions = registry.add_subparsers(dest="registry_command", metavar="ACTION", required=True,
                                      parser_class=Parser)
    init = actions.add_parser("init", help="create a registry; you become its admin")
    add_registry_options(init)
    init.set_defaults(handler=run_init)
    imp = actions.add_parser("import", help="copy a bundle into the registry's store",
                             description="Copy BUNDLE (a folder or archive) into the content-addressed "
                                         "store and record it as a draft version. Importing the same "
                                         "bytes again changes nothing.")
    imp.add_argument("bundle", metavar="BUNDLE", type=Path)
    add_registry_options(imp)
    imp.set_defaults(handler=run_import)
    listing = actions.add_parser("list", help="list versions, most recently changed first")
    listing.add_argument("--name", help="only this model")
    listing.add_argument("--stage", choices=STAGES, metavar="STAGE", help="only this stage")
    listing.add_argument("--search", metavar="TEXT", help="name contains TEXT")
    listing.add_argument("--limit", type=_positive, default=50, help="rows per page (default 50)")
    listing.add_argument("--page", type=_positive, default=1, help="page number (default 1)")
    listing.add_argument("--json", action="store_true", help="print JSON")
    add_registry_options(listing)
    listing.set_defaults(handler=run_list)
    policy = actions.add_parser(
        "policy", help="show the policy every gate uses, or set it (admins)",
        description="Without --set, print the policy in force (its name, digest, who set it and its "
                    "text). With --set FILE an admin puts FILE in force; the change is audited.")
    policy.add_argument("--set", type=Path, metavar="FILE", dest="set_file", help="the new policy file")
    add_registry_options(policy)
    policy.set_defaults(handler=run_policy)
    fsck = actions.add_parser(
        "fsck", help="re-hash every stored bundle; exit 1 on damage",
        description="Re-hash every file of every stored version against the list kept at import. "
                    "Each damaged version is named with its missing, changed and extra files, marked "
                    "damaged (promote, rollback, sign and report refuse it until `registry repair`), "
                    "and the outcome is recorded in the audit log. Exit 0 when the store is intact, "
                    "1 when anything is damaged.")
    fsck.add_argument("--json", action="store_true", help="print JSON (modelgate.fsck/v1)")
    add_registry_options(fsck)
    fsck.set_defaults(handler=run_fsck)
    repair = actions.add_parser(
        "repair", help="put a damaged version's bytes back from its bundle (admins)",
        description="Copy BUNDLE into the store in place of the damaged copy of NAME@VERSION and lift "
                    "its damage mark. BUNDLE must hold exactly the bytes imported (the same digest); "
                    "any other bundle is refused (exit 1) and nothing changes. Audited.")
    repair.add_argument("ref", metavar="NAME@VERSION")
    repair.add_argument("bundle", metavar="BUNDLE", type=Path)
    add_registry_options(repair)
    repair.set_defaults(handler=run_repair)
    show = actions.add_parser("show", help="one version: stage, reviews, promotions, history")
    show.add_argument("ref", metavar="NAME@VERSION")
    show.add_argument("--json", action="store_true", help="print JSON")
    add_registry_options(show)
    show.set_defaults(handler=run_show)

    users = commands.add_parser("users", help="manage users and roles (admins)",
                                description=f"Roles: {', '.join(ROLES)}.")
    user_actions = users.add_subparsers(dest="users_command", metavar="ACTION", required=True,
                                        parser_class=Parser)
    add = user_actions.add_parser("add", help="add a user or give roles")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", action="append", required=True, choices=ROLES, metavar="ROLE",
                     help=f"a role to give ({', '.join(ROLES)}); repeat for several")
    add_registry_options(add)
    add.set_defaults(handler=run_users_add)
    revoke = user_actions.add_parser("revoke", help="take roles from a user",
                                     description="Take one or more roles from NAME. The last admin "
                                                 "keeps the admin role.")
    revoke.add_argument("name", metavar="NAME")
    revoke.add_argument("--role", action="append", required=True, choices=ROLES, metavar="ROLE",
                        help="a role to take; repeat for several")
    add_registry_options(revoke)
    revoke.set_defaults(handler=run_users_revoke)
    remove = user_actions.add_parser(
        "remove", help="remove a user",
        description="Take every role from NAME and mark them removed: their past reviews, "
                    "promotions and signatures stay on record, they can no longer act, and their "
                    "name is not given to anyone else. The last admin cannot be removed.")
    remove.add_argument("name", metavar="NAME")
    add_registry_options(remove)
    remove.set_defaults(handler=run_users_remove)
    ulist = user_actions.add_parser("list", help="list users and their roles")
    ulist.add_argument("--json", action="store_true", help="print JSON")
    add_registry_options(ulist)
    ulist.set_defaults(handler=run_users_list)

    audit = commands.add_parser("audit", help="read or verify the audit log",
                                description="Every change and every refused attempt is an event; each "
                                            "event carries the hash of the one before it.")
    audit_actions = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True,
                                         parser_class=Parser)
    log = audit_actions.add_parser("log", help="print events, oldest first")
    log.add_argument("--subject", help="only events about this subject, e.g. credit-risk@1.2.0")
    log.add_argument("--limit", type=_positive, help="only the last N events")
    log.add_argument("--json", action="store_true", help="print JSON")
    add_registry_options(log)
    log.set_defaults(handler=run_audit_log)
    verify = audit_actions.add_parser(
        "verify", help="check the hash chain; exit 1 if it is broken",
        description="Recompute every event's hash and check the chain links. The chain's head is "
                    "printed. The log must also still hold the event its latest signed checkpoint "
                    "records (the file beside the registry), so cutting or rewriting events back past "
                    "it is detected. For events after it, record the head somewhere the registry's "
                    "database users cannot write (a CI log, a ticket) and later pass it to "
                    "--expect-head.")
    verify.add_argument("--expect-head", metavar="SEQ:HASH", type=_head_spec,
                        help="a head recorded earlier; the chain must still contain that event")
    add_registry_options(verify)
    verify.set_defaults(handler=run_audit_verify)
    checkpoint = audit_actions.add_parser(
        "checkpoint", help="sign the log's head now (admins)",
        description="Check the whole log, then sign its head into the checkpoint file beside the "
                    "registry (done by itself every MODELGATE_AUDIT_CHECKPOINT_EVERY events). `audit "
                    "verify` requires the log to still hold every checkpointed event.")
    add_registry_options(checkpoint)
    checkpoint.set_defaults(handler=run_audit_checkpoint)


def _positive(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 1_000_000:
        raise argparse.ArgumentTypeError(f"{value} is not between 1 and 1000000")
    return value


def _head_spec(text: str) -> tuple[int, str]:
    import argparse

    seq, _, digest = text.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise argparse.ArgumentTypeError(f"{text!r} is not SEQ:HASH as `audit verify` prints it")
    return int(seq), digest.lower()


def to_json(value) -> str:
    """JSON of dataclasses, lists and dates, for every ``--json`` output."""
    def plain(item):
        if dataclasses.is_dataclass(item) and not isinstance(item, type):
            return {k: plain(v) for k, v in dataclasses.asdict(item).items()}
        if isinstance(item, dict):
            return {str(k): plain(v) for k, v in item.items()}
        if isinstance(item, (list, tuple)):
            return [plain(v) for v in item]
        if isinstance(item, Path):
            return str(item)
        if hasattr(item, "isoformat"):
            return item.isoformat()
        return item
    return json.dumps(plain(value), indent=2, ensure_ascii=False)


def run_init(args) -> int:
    from modelgate.core.registry import init_registry

    url, user = registry_args(args)
    registry = init_registry(url=url, user=user)
    try:
        print(f"Registry ready at {registry.url}; {registry.actor} is an admin.")
        print(f"Bundles are stored in {registry.store_root}.")
        if registry.dialect == "postgresql":
            from modelgate.core.registry.pgwrites import APP_ROLE

            print(f"Each person logs in as themself and joins the group role {APP_ROLE} "
                  f"(CREATE ROLE NAME LOGIN IN ROLE {APP_ROLE}): it reads the registry and "
                  "writes only through ModelGate's functions.")
    finally:
        registry.close()
    return 0


def run_import(args) -> int:
    renderer = TerminalProgress()
    try:
        with open_from_args(args) as registry:
            result = registry.import_bundle(path=args.bundle, progress=renderer.progress())
    finally:
        renderer.finish()
    state = "imported as a draft" if result.created else "already in the registry (same bytes)"
    print(f"{result.name}@{result.version} {state}; digest {result.digest[:16]}…")
    return _import_signatures(args, result)


def _import_signatures(args, result) -> int:
    """Record the bundle's signatures/*.sig (the same bytes signed elsewhere) with the version."""
    from modelgate.core.registry.signatures import record_signatures, signature_documents

    documents = signature_documents(args.bundle)
    if not documents:
        return 0
    with open_from_args(args) as registry:
        recorded = record_signatures(registry, name=result.name, version=result.version, documents=documents)
    print(f"signatures: {len(recorded)} recorded, {len(documents) - len(recorded)} already on record")
    return 0


def _table(rows: list[tuple], header: tuple) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths)).rstrip()]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


def run_list(args) -> int:
    from modelgate.core.errors import UsageError

    if args.limit < 1 or args.page < 1:
        raise UsageError("--limit and --page must be at least 1")
    filters = dict(name=args.name, stage=args.stage, text=args.search)
    with open_from_args(args) as registry:
        rows = registry.list_versions(**filters, limit=args.limit, offset=(args.page - 1) * args.limit)
        total = registry.count_versions(**filters)
    if args.json:
        print(to_json({"format": "modelgate.versions/v1", "total": total, "page": args.page,
                       "versions": rows}))
        return 0
    if not rows:
        print("No versions match." if total else "The registry holds no versions yet; "
              "`modelgate registry import BUNDLE` adds one.")
        return 0
    from modelgate.core.cli.registry_text import attention

    table = [(r.name, r.version, r.stage, r.validation or "-", r.approvals, r.signatures,
              r.updated_at.strftime("%Y-%m-%d %H:%M") if hasattr(r.updated_at, "strftime") else r.updated_at)
             for r in rows]
    header = ("NAME", "VERSION", "STAGE", "VALIDATION", "APPROVALS", "SIGNATURES", "UPDATED")
    notes = [attention(r) for r in rows]
    if any(notes):  # a damaged copy or a break-glass restore is never left out of a listing
        table = [(*line, note) for line, note in zip(table, notes)]
        header = (*header, "ATTENTION")
    print(_table(table, header))
    shown_to = (args.page - 1) * args.limit + len(rows)
    if total > shown_to:
        print(paint(f"{shown_to} of {total}; next: --page {args.page + 1}", "dim"))
    return 0


def run_show(args) -> int:
    name, version = parse_ref(args.ref)
    with open_from_args(args) as registry:
        detail = registry.show(name=name, version=version)
    if args.json:
        print(to_json(detail))
        return 0
    from modelgate.core.cli.registry_text import render_detail

    print(render_detail(detail))
    return 0


def run_fsck(args) -> int:
    from modelgate.core.registry.damage import fsck

    renderer = TerminalProgress()
    try:
        with open_from_args(args) as registry:
            report = fsck(registry, progress=renderer.progress())
    finally:
        renderer.finish()
    if args.json:
        print(to_json({"format": "modelgate.fsck/v1", "checked": report.checked, "ok": report.ok,
                       "damaged": [d.as_dict() for d in report.damaged]}))
        return 0 if report.ok else 1
    if report.ok:
        print(paint(f"store intact: {report.checked} version(s) re-hashed", "green"))
        return 0
    print(paint(f"store DAMAGED: {len(report.damaged)} of {report.checked} version(s)", "red"))
    for damaged in report.damaged:
        print(f"  {damaged.ref}")
        for what, files in (("missing", damaged.check.missing), ("changed", damaged.check.changed),
                            ("extra", damaged.check.extra)):
            for file in files:
                print(f"    {what:<8} {file}")
        if damaged.check.problem:
            print(f"    {damaged.check.problem}")
    print("Marked damaged: promote, rollback, sign and report refuse them until "
          "`modelgate registry repair NAME@VERSION BUNDLE`.")
    return 1


def run_repair(args) -> int:
    from modelgate.core.registry.damage import repair

    name, version = parse_ref(args.ref)
    renderer = TerminalProgress()
    try:
        with open_from_args(args) as registry:
            result = repair(registry, name=name, version=version, bundle=args.bundle,
                            progress=renderer.progress())
    finally:
        renderer.finish()
    if not result.repaired:
        print(f"{name}@{version}: the stored copy is intact and not marked damaged; nothing changed")
        return 0
    print(paint(f"{name}@{version} repaired", "green") + f" (was: {result.was}); digest {result.digest[:16]}…")
    return 0


def run_policy(args) -> int:
    from modelgate.core.registry.policies import policy_info, set_policy

    with open_from_args(args) as registry:
        if args.set_file is not None:
            info = set_policy(registry, path=args.set_file)
            print(f"Policy {info.name} (sha256 {info.digest[:12]}…) is now in force, set by {info.set_by}.")
            return 0
        info = policy_info(registry)
    origin = f"set by {info.set_by} on {info.set_at:%Y-%m-%d %H:%M}" if info.set_by else \
        "the default shipped with ModelGate (no policy set yet)"
    print(f"# policy {info.name}, sha256 {info.digest}; {origin}")
    sys.stdout.write(info.text if info.text.endswith("\n") else info.text + "\n")
    return 0


def run_users_add(args) -> int:
    with open_from_args(args) as registry:
        user = registry.add_user(name=args.name, roles=args.role)
    print(f"{user.name}: {', '.join(user.roles)}")
    return 0


def run_users_list(args) -> int:
    with open_from_args(args) as registry:
        users = registry.users()
    if args.json:
        print(to_json({"format": "modelgate.users/v1", "users": users}))
        return 0
    rows = [(u.name, ", ".join(u.roles) or "-",
             f"removed {u.removed_at:%Y-%m-%d} by {u.removed_by}" if u.removed_at else "active")
            for u in users]
    print(_table(rows, ("USER", "ROLES", "STATUS")))
    return 0


def run_users_revoke(args) -> int:
    with open_from_args(args) as registry:
        user = registry.revoke_roles(name=args.name, roles=args.role)
    print(f"{user.name}: {', '.join(user.roles) or 'no roles left'}")
    return 0


def run_users_remove(args) -> int:
    with open_from_args(args) as registry:
        user = registry.remove_user(name=args.name)
    print(f"{user.name} removed; their past decisions stay on record.")
    return 0


def run_audit_log(args) -> int:
    with open_from_args(args) as registry:
        events = registry.audit_log(subject=args.subject, limit=args.limit)
    if args.json:
        print(to_json({"format": "modelgate.audit/v1", "events": events}))
        return 0
    for event in events:
        print(f"{event.seq:>7}  {event.created_at}  {event.actor:<12} {event.action:<18} {event.subject}")
    return 0


def run_audit_verify(args) -> int:
    from modelgate.core.registry.checkpoints import verify_anchor

    with open_from_args(args) as registry:
        verdict = registry.verify_audit()
        anchored = verify_anchor(registry)
        head = registry.audit_log(limit=1)
        anchor = registry.audit_log(limit=1, seq=args.expect_head[0]) if args.expect_head else None
    if not verdict.ok:
        print(paint(f"audit chain BROKEN at event {verdict.first_broken}: {verdict.reason}", "red"),
              file=sys.stderr)
        return 1
    if args.expect_head:
        seq, digest = args.expect_head
        if not anchor or anchor[0].seq != seq or anchor[0].hash != digest:
            print(paint(f"audit chain BROKEN: the recorded head {seq}:{digest[:16]}… is no longer in "
                        "the log (events were cut off or rewritten)", "red"), file=sys.stderr)
            return 1
    print(paint(f"audit chain intact: {verdict.checked} events", "green"))
    if anchored.checkpoint is not None:
        print(f"signed checkpoint: event {anchored.checkpoint.seq} ({anchored.checkpoint.origin}) is in the log")
    else:
        print(f"signed checkpoint: none ({anchored.reason})")
    if head:
        print(f"head: {head[-1].seq}:{head[-1].hash}")
    return 0


def run_audit_checkpoint(args) -> int:
    from modelgate.core.registry.checkpoints import checkpoint

    with open_from_args(args) as registry:
        made = checkpoint(registry)
        folder = registry.checkpoint_folder
    if made is None:
        print("The audit log is empty; there is nothing to sign yet.")
        return 0
    print(f"Signed checkpoint of event {made.seq} written to {folder / 'checkpoint'}:")
    sys.stdout.write(made.note)
    return 0
