"""``modelgate waive``: documented exceptions to a rule for one version, confirmed by a second
approver, that expire."""

from __future__ import annotations

import json
from datetime import date

from modelgate.core.cli.registry_options import add_registry_options, open_from_args, parse_ref
from modelgate.core.errors import UsageError


def register(commands) -> None:
    waive = commands.add_parser(
        "waive", help="waive a rule for a version until a date (a second approver confirms)",
        description="Request a waiver: error findings of RULE stop blocking NAME@VERSION's validation gate "
                    "once a second approver confirms it (--confirm ID), until the end of --expires (UTC). "
                    "The gate, the report and the promotion's attestation name every waiver applied; an "
                    "expired waiver stops counting and the gate says so. Rules the policy lists under "
                    "waivers.forbidden_rules (default: MG8xx signatures, MG223/MG224 code-running pickles) "
                    "are refused (exit 1); signature rules are never waived. `validate NAME@VERSION` shows "
                    "waived findings as waived. Approvers only.")
    waive.add_argument("ref", nargs="?", metavar="NAME@VERSION")
    waive.add_argument("rule", nargs="?", metavar="RULE_ID")
    waive.add_argument("--reason", help="why the finding is acceptable (required to request or revoke)")
    waive.add_argument("--expires", metavar="YYYY-MM-DD", help="last day the waiver counts")
    actions = waive.add_mutually_exclusive_group()
    actions.add_argument("--list", action="store_true", help="list the version's waivers and their state")
    actions.add_argument("--confirm", type=int, metavar="ID", help="confirm a pending waiver (second approver)")
    actions.add_argument("--revoke", type=int, metavar="ID", help="revoke a waiver (needs --reason)")
    waive.add_argument("--json", action="store_true", help="with --list: print JSON")
    add_registry_options(waive)
    waive.set_defaults(handler=run_waive)


def _date(text: str | None) -> date:
    try:
        return date.fromisoformat(text or "")
    except ValueError:
        raise UsageError(f"--expires {text!r} is not a date", hint="Write it as YYYY-MM-DD.") from None


def _line(info) -> str:
    who = info.requested_by + (f", confirmed by {info.confirmed_by}" if info.confirmed_by else "")
    return f"{info.id:>4}  {info.rule}  {info.state:<8} until {info.expires_at:%Y-%m-%d}  ({who}): {info.reason}"


def run_waive(args) -> int:
    from modelgate.core.registry import waivers

    # What the command line lacks is said before any registry is looked for.
    if args.confirm is None and args.revoke is None and args.ref is None:
        raise UsageError("name the version: modelgate waive NAME@VERSION RULE_ID --reason TEXT --expires DATE")
    with open_from_args(args) as registry:
        if args.confirm is not None:
            info = waivers.confirm_waiver(registry, waiver_id=args.confirm)
            print(f"confirmed: {_line(info)}")
            return 0
        if args.revoke is not None:
            info = waivers.revoke_waiver(registry, waiver_id=args.revoke, reason=args.reason)
            print(f"revoked: {_line(info)}")
            return 0
        name, version = parse_ref(args.ref)
        if args.list:
            listed = waivers.list_waivers(registry, name=name, version=version)
            if args.json:
                print(json.dumps([w.as_dict() for w in listed], indent=2))
            for info in [] if args.json else listed:
                print(_line(info))
            if not listed and not args.json:
                print(f"{args.ref} has no waivers")
            return 0
        if args.rule is None or args.expires is None:
            raise UsageError("a waiver needs RULE_ID, --reason and --expires YYYY-MM-DD")
        info = waivers.request_waiver(registry, name=name, version=version, rule=args.rule, reason=args.reason,
                                      expires=_date(args.expires))
    print(f"requested: {_line(info)}")
    print(f"It counts once another approver confirms it: modelgate waive --confirm {info.id}")
    return 0
