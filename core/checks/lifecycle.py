"""MG9xx: lifecycle — the deprecation plan: its date, and where users go next."""

from __future__ import annotations

import datetime
import re

from modelgate.core.checks import register
from modelgate.core.findings import Severity
from modelgate.core.policy.stages import RETIRED, SERVING
from modelgate.core.rules import rule
from modelgate.core.semver import parse_reference, semver_key

DEPRECATION_DATE = rule(
    "MG901", title="Deprecation date is not a valid date", severity=Severity.ERROR,
    rationale="""lifecycle.deprecation.after tells operators when to stop serving this version.
    A date that does not exist (2026-02-30) or is not written YYYY-MM-DD cannot be acted on.""",
    fix="""Write the date as "YYYY-MM-DD" (quoted in YAML).""",
)
PAST_DEPRECATION = rule(
    "MG902", title="Version is past its deprecation date", severity=Severity.ERROR,
    rationale="""A version whose own deprecation date has passed should be retired, not promoted.
    Promoting it to staging or production is an error; at draft and candidate it is a warning,
    and moving it to deprecated or archived is exactly what the date asks for.""",
    fix="""Promote the replacement instead, or, if the plan changed, move the date and have the
    bundle reviewed again.""",
)
DEPRECATION_SOON = rule(
    "MG903", title="Deprecation date is near", severity=Severity.INFO,
    rationale="""A version that retires within 30 days will soon need its replacement in place;
    reviewers should know before they promote it.""",
    fix="""Make sure the replacement is on its way through the stages.""",
)
NO_REPLACEMENT = rule(
    "MG904", title="Deprecation without a replacement", severity=Severity.WARNING,
    rationale="""When a version is deprecated its users need somewhere to go. A deprecation plan
    without `replacement` leaves them to guess.""",
    fix="""Add lifecycle.deprecation.replacement: name@version of the version that takes over.""",
)
REPLACEMENT = rule(
    "MG905", title="Deprecation replacement is not a valid later version", severity=Severity.ERROR,
    rationale="""`replacement` must name another version as name@version with a SemVer version.
    A version cannot replace itself, and a replacement of the same name should be a later
    version (an earlier one is a warning: it is usually a typo).""",
    fix="""Write the replacement as name@MAJOR.MINOR.PATCH, e.g. resnet50-imagenet@2.0.0.""",
)

SOON_DAYS = 30


def today() -> datetime.date:
    """Today's date; tests replace this function to pin the calendar."""
    return datetime.date.today()


@register()
def deprecation_date(ctx):
    """MG901, MG902, MG903: the deprecation date, against today and the target stage."""
    raw = ctx.typed.lifecycle.deprecation_after
    where = dict(path="lifecycle.deprecation.after")
    if raw is None:
        if ctx.typed.lifecycle.planned and ctx.typed.has(where["path"]):
            yield DEPRECATION_DATE.finding(
                f"deprecation date {ctx.typed.shown(where['path'])} is not a valid YYYY-MM-DD date",
                hint='Write it as a quoted "YYYY-MM-DD".', **where)
        return
    try:
        # fromisoformat alone would also take 20260630 or 2026-W26; the standard says YYYY-MM-DD.
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            raise ValueError
        after = datetime.date.fromisoformat(raw)
    except ValueError:
        yield DEPRECATION_DATE.finding(f"deprecation date {raw!r} is not a valid YYYY-MM-DD date",
                                       hint='Write it as a quoted "YYYY-MM-DD".', **where)
        return
    left = (after - today()).days
    if left < 0:
        if ctx.stage in RETIRED:
            return
        serving = ctx.stage in SERVING
        yield PAST_DEPRECATION.finding(
            f"this version was to be deprecated after {raw}, {-left} day(s) ago"
            + (f"; it cannot be promoted to {ctx.stage}" if serving else ""),
            severity=None if serving else Severity.WARNING,
            hint="Promote the replacement instead, or move the date after a new review.", **where)
    elif left <= SOON_DAYS and ctx.stage not in RETIRED:
        yield DEPRECATION_SOON.finding(f"this version is to be deprecated after {raw}, in {left} day(s)",
                                       **where)


@register()
def replacement(ctx):
    """MG904, MG905: the replacement users are sent to."""
    typed = ctx.typed
    if not typed.lifecycle.planned:
        return
    target = typed.lifecycle.replacement
    where = dict(path="lifecycle.deprecation.replacement")
    if typed.mistyped("lifecycle.deprecation.replacement", target):
        return  # MG103 names the wrong type
    if target is None:
        yield NO_REPLACEMENT.finding("the deprecation plan names no replacement; users need somewhere to go",
                                     path="lifecycle.deprecation",
                                     hint="Add `replacement: name@version`.")
        return
    try:
        name, version, new_key = parse_reference(target)
    except ValueError as problem:
        yield REPLACEMENT.finding(f"replacement {problem}", **where)
        return
    if name != typed.name:
        return
    own_version = typed.version
    own_key = semver_key(own_version)
    if new_key == own_key:
        yield REPLACEMENT.finding(f"replacement {target} is this very version", **where)
    elif own_key is not None and new_key < own_key:
        yield REPLACEMENT.finding(f"replacement {target} is earlier than this version {own_version}",
                                  severity=Severity.WARNING, **where)
