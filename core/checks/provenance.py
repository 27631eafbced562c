"""MG7xx: provenance — where the model comes from, as much as the stage requires."""

from __future__ import annotations

import datetime
import re
from collections import Counter

from modelgate.core.checks import register
from modelgate.core.findings import Severity
from modelgate.core.rules import rule
from modelgate.core.semver import parse_reference, semver_key

REQUIRED_MISSING = rule(
    "MG701", title="Required provenance is missing", severity=Severity.ERROR,
    rationale="""Provenance lets anyone rebuild, audit or recall a model: which code, which run,
    which data. The policy names the fields each stage needs, and more are needed the closer a
    version gets to production.""",
    fix="""Fill in the field named in the message under `provenance` in bundle.yaml
    (resources/BUNDLE_SPEC.md, section 2, shows each one).""",
)
COMMIT_ID = rule(
    "MG702", title="source.commit is not a full commit id", severity=Severity.ERROR,
    rationale="""The commit pins the exact training code. Only a full lower-case id (40 hex
    characters for SHA-1, 64 for SHA-256 repositories) is unambiguous; an abbreviated id may
    match several commits as the repository grows (a warning), a branch or tag name can move,
    and the starter template's all-zero id records nothing. Errors where the stage requires
    source.commit, warnings before, so a fresh draft can still be worked on.""",
    fix="""Write the output of `git rev-parse HEAD` from the training checkout.""",
)
DATASET_RECORD = rule(
    "MG703", title="Dataset record lacks a version or digest", severity=Severity.WARNING,
    rationale="""A dataset name alone does not say which data trained the model. A version and a
    sha256 of the snapshot (or of its manifest) make the training data reproducible and
    tamper-evident. It is an error where the stage requires `datasets`.""",
    fix="""Add `version` and `sha256` to each entry of provenance.datasets.""",
)
DATASET_DUPLICATE = rule(
    "MG704", title="Dataset listed twice", severity=Severity.ERROR,
    rationale="""Each dataset should be listed once. The same name and version twice is a copy
    and paste slip; the same name with different versions is ambiguous for anyone tracing the
    data (a warning).""",
    fix="""Remove the duplicate, or name the datasets by role (loans-train, loans-eval).""",
)
REPOSITORY = rule(
    "MG705", title="source.repository is not a repository address", severity=Severity.WARNING,
    rationale="""The repository is where the commit can be found. A URL (https://, ssh://,
    git://, file://) or an scp-like address (git@host:org/repo.git) can be cloned; free text
    cannot.""",
    fix="""Write the clone URL of the training code's repository.""",
)
PARENT = rule(
    "MG706", title="provenance.parent is not a valid earlier version", severity=Severity.ERROR,
    rationale="""`parent` names the model this one was fine-tuned or distilled from, as
    name@version with a SemVer version. A model cannot be its own parent, and a parent of the
    same name should be an earlier version. A parent of another name is normal (a base model)
    and is reported as information, since its license and card then matter too.""",
    fix="""Write the parent as name@MAJOR.MINOR.PATCH, e.g. resnet50-imagenet@1.3.0.""",
)
CREATED_AT = rule(
    "MG707", title="provenance.created_at is not a valid past date", severity=Severity.ERROR,
    rationale="""created_at dates the model for audits and retention. A value that is not a real
    date or time cannot be used; one in the future (a warning) points to a wrong clock or a
    typo.""",
    fix="""Write the date as YYYY-MM-DD, or a time as YYYY-MM-DDTHH:MM:SSZ.""",
)
PLACEHOLDER = rule(
    "MG708", title="Provenance still holds a template placeholder", severity=Severity.ERROR,
    rationale="""`modelgate init` writes "replace ..." values and an all-zero commit. Left in
    place they look like provenance but record nothing. An error where the stage requires the
    field, a warning before.""",
    fix="""Replace every "replace ..." value under `provenance` with the real one.""",
)

_FULL_COMMIT = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_SHORT_COMMIT = re.compile(r"^[0-9a-f]{7,39}$")
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://\S+$")
_SCP_LIKE = re.compile(r"^(?:[\w.-]+@)?[\w-]+(?:\.[\w-]+)*:(?!//)[^\s:]\S*$")
_PLACEHOLDER = re.compile(r"^replace\b|/replace/", re.IGNORECASE)


def now() -> datetime.datetime:
    """The current time in UTC; tests replace this function to pin the clock."""
    return datetime.datetime.now(datetime.timezone.utc)


#: Each provenance field a policy can require, read from the typed provenance.
_FIELDS = {
    "source.repository": lambda p: p.repository, "source.commit": lambda p: p.commit,
    "training_run": lambda p: p.training_run, "framework": lambda p: p.framework_name,
    "seed": lambda p: p.seed, "datasets": lambda p: p.dataset_entries,
    "hyperparameters": lambda p: p.hyperparameters, "parent": lambda p: p.parent,
    "created_at": lambda p: p.created_at,
}


def _filled(typed, field: str) -> str | None:
    """Why the manifest does not fill provenance ``field`` in, or ``None`` when it does."""
    if not typed.has(f"provenance.{field}"):
        return "is missing"
    read = _FIELDS.get(field)
    value = read(typed.provenance) if read else None
    if field == "seed":
        return None if value is not None else f"is {typed.shown('provenance.seed')}, not an integer"
    if field == "framework":
        return None if value and value.strip() else "does not name the framework"
    if field in ("datasets", "hyperparameters"):
        return None if value else "is empty"
    return None if isinstance(value, str) and value.strip() else "is empty"


@register()
def required_fields(ctx):
    """MG701, MG708: the provenance fields the stage requires, filled with real values."""
    typed = ctx.typed
    provenance = typed.provenance
    required = ctx.gates.provenance
    for field in required:
        problem = _filled(typed, field)
        if problem:
            yield REQUIRED_MISSING.finding(
                f"provenance.{field} {problem}; the {ctx.stage} stage requires it",
                path=f"provenance.{field}", hint="See resources/BUNDLE_SPEC.md for the field's format.")
    candidates = {
        "source.repository": provenance.repository,
        "training_run": provenance.training_run,
        "framework": provenance.framework_name,
    }
    for field, value in candidates.items():
        if value is not None and _PLACEHOLDER.search(value):
            yield PLACEHOLDER.finding(
                f"provenance.{field} is still the template's {value!r}",
                path=f"provenance.{field}" + (".name" if field == "framework" else ""),
                severity=None if field in required else Severity.WARNING)


@register()
def source(ctx):
    """MG702, MG705: the commit id and the repository address."""
    provenance = ctx.typed.provenance
    needed = "source.commit" in ctx.gates.provenance
    commit = provenance.commit
    if commit:
        where = dict(path="provenance.source.commit", hint="Use the output of `git rev-parse HEAD`.",
                     severity=None if needed else Severity.WARNING)
        if re.fullmatch(r"0{7,}", commit):
            yield COMMIT_ID.finding(f"source.commit {commit!r} is the template's placeholder, "
                                    "not a real commit", **where)
        elif _FULL_COMMIT.match(commit):
            pass
        elif _SHORT_COMMIT.match(commit):
            yield COMMIT_ID.finding(
                f"source.commit {commit!r} is abbreviated ({len(commit)} characters); abbreviated "
                "ids become ambiguous as the repository grows", **dict(where, severity=Severity.WARNING))
        elif re.fullmatch(r"[0-9a-fA-F]+", commit) and commit != commit.lower():
            yield COMMIT_ID.finding(f"source.commit {commit!r} must be written in lower case", **where)
        elif re.fullmatch(r"[0-9a-f]+", commit):
            yield COMMIT_ID.finding(f"source.commit {commit!r} has {len(commit)} hex characters; a full "
                                    "commit id has 40 (SHA-1) or 64 (SHA-256)", **where)
        else:
            yield COMMIT_ID.finding(f"source.commit {commit!r} does not look like a commit id", **where)
    repository = provenance.repository
    if repository and not (
            _URL.match(repository) or _SCP_LIKE.match(repository)):
        yield REPOSITORY.finding(f"source.repository {repository!r} is neither a URL nor a git address",
                                 path="provenance.source.repository",
                                 hint="e.g. https://git.example.com/ml/model.git or git@host:ml/model.git")


@register()
def datasets(ctx):
    """MG703, MG704: every dataset pinned by version and digest, each listed once."""
    severity = Severity.ERROR if "datasets" in ctx.gates.provenance else None
    entries = [(d.index, d) for d in ctx.typed.provenance.dataset_entries if d.name is not None]
    for index, dataset in entries:
        lacking = [key for key in ("version", "sha256")
                   if not (getattr(dataset, key) is not None and getattr(dataset, key).strip())]
        if lacking:
            yield DATASET_RECORD.finding(
                f"dataset {dataset.name!r} records no {' or '.join(lacking)}"
                + (f"; the {ctx.stage} stage requires pinned datasets" if severity else ""),
                path=f"provenance.datasets[{index}]", severity=severity,
                hint="Add the dataset's version and the sha256 of its snapshot.")
    names = Counter(d.name for _, d in entries)
    pairs = Counter((d.name, d.version) for _, d in entries)
    reported = set()
    for index, dataset in entries:
        name = dataset.name
        if names[name] < 2 or name in reported:
            continue
        reported.add(name)
        exact = pairs[(name, dataset.version)] > 1
        yield DATASET_DUPLICATE.finding(
            f"dataset {name!r} is listed {names[name]} times"
            + ("" if exact else " with different versions"),
            path=f"provenance.datasets[{index}].name", severity=None if exact else Severity.WARNING)


@register()
def lineage(ctx):
    """MG706, MG707: the parent reference and the creation date."""
    provenance = ctx.typed.provenance
    parent = provenance.parent
    if parent:
        yield from _check_parent(ctx.typed, parent)
    created = provenance.created_at
    if created:
        yield from _check_created(created)


def _check_parent(manifest, parent: str):
    where = dict(path="provenance.parent")
    try:
        name, version, parent_key = parse_reference(parent)
    except ValueError as problem:
        yield PARENT.finding(f"parent {problem}", **where)
        return
    own_name, own_version = manifest.name, manifest.version
    if name != own_name:
        yield PARENT.finding(f"derived from {parent}, another model; its license and model card "
                             "apply to this one too", severity=Severity.INFO, **where)
        return
    own_key = semver_key(own_version)
    if parent_key == own_key:
        yield PARENT.finding(f"parent {parent} is this very version; a model cannot be its own parent",
                             **where)
    elif own_key is not None and parent_key > own_key:
        yield PARENT.finding(f"parent {parent} is later than this version {own_version}",
                             severity=Severity.WARNING, **where)


def _check_created(text: str):
    where = dict(path="provenance.created_at")
    normalised = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        if not re.match(r"^\d{4}-\d{2}-\d{2}", normalised):
            raise ValueError("not an ISO 8601 date")
        moment = datetime.datetime.fromisoformat(normalised)
    except ValueError:
        yield CREATED_AT.finding(f"created_at {text!r} is not a valid date or time", **where,
                                 hint="Write YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ.")
        return
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    # A day of slack: a date written in a time zone ahead of UTC may already be "tomorrow" here.
    if moment > now() + datetime.timedelta(days=1):
        yield CREATED_AT.finding(f"created_at {text} is in the future", severity=Severity.WARNING,
                                 **where, hint="Check the date and the clock of the machine that wrote it.")
