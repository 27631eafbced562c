"""MG4xx: licenses — the SPDX expression, the policy's lists, the license texts, dataset terms."""

from __future__ import annotations

import re

from modelgate.core.policy import licensing
from modelgate.core.checks import register
from modelgate.core.checks.structure import PATH_ESCAPES
from modelgate.core.errors import UnsafeBundleError
from modelgate.core.findings import Severity
from modelgate.core.rules import rule

INVALID = rule(
    "MG401", title="License is not a valid SPDX expression", severity=Severity.ERROR,
    rationale="""Tools, registries and legal reviews read `license` as an SPDX expression. A free-form
    name ("Apache 2", "BSD") is ambiguous: several licenses carry similar names with very
    different terms, so nothing can be checked against the policy.""",
    fix="""Write SPDX ids joined by AND, OR and WITH (see https://spdx.org/licenses/), and name
    custom terms LicenseRef-NAME with their text under licenses/.""",
)
DENIED = rule(
    "MG402", title="License denied by the policy", severity=Severity.ERROR,
    rationale="""The policy denies licenses whose terms block shipping a model (non-commercial
    clauses, strong copyleft). Only an expression that offers an allowed choice (`MIT OR
    GPL-3.0-only`) avoids them; `AND` makes every part apply.""",
    fix="""Release the model, or replace the dataset, under an allowed license; or have the
    legal team change the policy.""",
)
UNREVIEWED = rule(
    "MG403", title="License not reviewed by the policy", severity=Severity.WARNING,
    rationale="""A license that is in neither the policy's allow list nor its deny list, custom
    LicenseRef terms included, has not been looked at by anyone accountable. The policy's
    `licenses.unknown` sets how much that matters.""",
    fix="""Have the legal team review the license, then add its id to `licenses.allow` or
    `licenses.deny` in the policy.""",
)
TEXT_MISSING = rule(
    "MG404", title="License text missing", severity=Severity.ERROR,
    rationale="""Most licenses require their text to travel with the work. A bundle that names a
    license without shipping its text cannot be redistributed as is.""",
    fix="""Add the text as LICENSE at the top of the bundle (further texts under licenses/), list
    them in `license_files`, and lock the bundle again.""",
)
TEXT_UNREADABLE = rule(
    "MG405", title="License file is empty or not text", severity=Severity.WARNING,
    rationale="""A license file that is empty, binary or not UTF-8 cannot be read by reviewers or
    shown in the desktop app, so the license it stands for is effectively missing.""",
    fix="""Save the full license text as UTF-8 plain text or Markdown.""",
)
TEXT_MISMATCH = rule(
    "MG406", title="License text does not match the declared license", severity=Severity.WARNING,
    rationale="""The texts shipped should be the ones `license` names. A bundle declared Apache-2.0
    that only carries an MIT text (a copied template, a stale file) misstates its terms.""",
    fix="""Replace the text with the license's full text from https://spdx.org/licenses/, or
    correct `license`.""",
)
NONCOMMERCIAL_DATA = rule(
    "MG407", title="Trained on non-commercial data", severity=Severity.ERROR,
    rationale="""A model trained on data licensed for non-commercial use only (CC-BY-NC and the
    like) generally cannot be offered under a license that permits commercial use.""",
    fix="""Retrain without the dataset, obtain a commercial license for it, or release the model
    under non-commercial terms.""",
)
SHARE_ALIKE_DATA = rule(
    "MG408", title="Share-alike data under a permissive model license", severity=Severity.WARNING,
    rationale="""Share-alike data licenses (CC-BY-SA, CDLA-Sharing) may require derived works to
    carry the same terms; whether a trained model is such a work is a legal question to
    settle before release.""",
    fix="""Have the legal team confirm the model may be released under its license, or choose
    data under permissive terms.""",
)
DATASET_LICENSE = rule(
    "MG409", title="Dataset license missing or not valid SPDX", severity=Severity.WARNING,
    rationale="""The terms of the training data bind the model too. A dataset without a license, or
    with a free-form one, cannot be checked against the policy or the model's license.""",
    fix="""Set `provenance.datasets[].license` to the dataset's SPDX expression, or a
    LicenseRef-NAME with its terms under licenses/.""",
)

#: Largest part of a license file read; license texts are a few tens of KiB.
TEXT_LIMIT = 1024**2

# Distinctive phrases of common license texts, compared after lower-casing and
# replacing punctuation by spaces. All phrases of an entry must appear.
_PHRASES = {
    "Apache-2.0": ("apache license",),
    "MIT": ("permission is hereby granted",),
    "BSD-2-Clause": ("redistribution and use in source and binary forms",),
    "BSD-3-Clause": ("redistribution and use in source and binary forms", "neither the name"),
    "ISC": ("permission to use copy modify",),
    "0BSD": ("permission to use copy modify",),
    "Zlib": ("permission is granted to anyone to use this software for any purpose",),
    "BSL-1.0": ("boost software license",),
    "Unlicense": ("free and unencumbered software released into the public domain",),
    "CC0-1.0": ("cc0 1 0 universal",),
    "CC-BY-4.0": ("creative commons attribution 4 0",),
    "CC-BY-SA-4.0": ("attribution sharealike 4 0",),
    "CC-BY-NC-4.0": ("attribution noncommercial 4 0",),
    "MPL-2.0": ("mozilla public license",),
    "EPL-2.0": ("eclipse public license",),
    "UPL-1.0": ("universal permissive license",),
    "PSF-2.0": ("python software foundation",),
    "Python-2.0": ("python software foundation",),
    "CDLA-Permissive-1.0": ("community data license agreement",),
    "CDLA-Permissive-2.0": ("community data license agreement",),
}
_PHRASES.update({f"{family}-{suffix}": phrases for suffix in ("only", "or-later") for family, phrases in {
    "GPL-2.0": ("gnu general public license", "version 2"),
    "GPL-3.0": ("gnu general public license", "version 3"),
    "LGPL-2.1": ("gnu lesser general public license",),
    "LGPL-3.0": ("gnu lesser general public license",),
    "AGPL-3.0": ("gnu affero general public license",),
}.items()})
_CONVENTIONAL = re.compile(r"^(licen[cs]e|copying)(\.md|\.txt)?$|^licenses/.+", re.IGNORECASE)
_COPYLEFT = ("GPL-", "AGPL-", "LGPL-", "MPL-", "EPL-", "EUPL-", "CDDL-", "OSL-", "ODBL-", "CECILL")


def _model_expression(ctx):
    """The manifest's parsed `license`, or ``None`` when absent or invalid (MG401 says why)."""

    def parse():
        text = ctx.typed.license
        try:
            return licensing.parse(text) if text is not None else None
        except licensing.LicenseSyntaxError:
            return None

    return ctx.memo("licenses:model", parse)


def _shown(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _syntax_hint(problem: licensing.LicenseSyntaxError) -> str:
    did_you_mean = f"Did you mean {problem.suggestion}? " if problem.suggestion else ""
    return (did_you_mean + "Use SPDX ids (https://spdx.org/licenses/) joined by AND, OR and WITH; "
            "name custom terms LicenseRef-NAME.")


def _policy_findings(ctx, expression, *, subject: str, path: str):
    """MG402 / MG403 for one parsed expression."""
    verdict = licensing.evaluate(expression, ctx.policy.licenses)
    if verdict.status is licensing.Status.DENIED:
        names = " and ".join(verdict.denied)
        if len(expression.terms) == 1:
            message = f"{subject} is {expression.normalized}, which the policy denies"
        else:
            message = f"{subject} {expression.normalized!r} cannot avoid {names}, which the policy denies"
        yield DENIED.finding(
            message,
            path=path, hint="Offer an allowed license (alone or as an OR alternative), or have the "
                            "legal team change the policy's `licenses.deny`.")
        return
    for key in verdict.unknown:
        if licensing.is_custom(key):
            message = f"{subject} uses the custom license {key}, which the policy has not reviewed"
            hint = (f"Have the legal team review the text of {key}, then add it to the policy's "
                    "`licenses.allow` or `licenses.deny`.")
        else:
            message = f"{subject} uses {key}, which is not reviewed by the policy (in neither list)"
            hint = f"Have the legal team review {key} and add it to `licenses.allow` or `licenses.deny`."
        yield UNREVIEWED.finding(message, path=path, hint=hint, severity=ctx.policy.unknown_license_severity)


@register()
def model_license(ctx):
    """MG401-MG403: the manifest's `license` expression against the policy."""
    text = ctx.typed.license
    if text is None or not text.strip():
        return  # absence or a wrong type is a schema error (MG103)
    try:
        expression = licensing.parse(text)
    except licensing.LicenseSyntaxError as problem:
        yield INVALID.finding(f"license {_shown(text)} is not a valid SPDX expression: {problem.reason}",
                              path="license", hint=_syntax_hint(problem))
        return
    yield from _policy_findings(ctx, expression, subject="the model's license", path="license")


def _read_text(ctx, relative: str) -> tuple[str | None, str | None]:
    """``(text, None)`` or ``(None, what is wrong)`` for a license file."""
    with open(ctx.bundle.resolve(relative), "rb") as handle:
        data = handle.read(TEXT_LIMIT)
    if b"\x00" in data:
        return None, "holds binary data"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if len(data) < TEXT_LIMIT or exc.start < len(data) - 3:
            byte = data[exc.start]
            return None, f"is not UTF-8 text (invalid byte 0x{byte:02x} at offset {exc.start})"
        text = data[: exc.start].decode("utf-8-sig")  # a character cut by the read limit
    if not text.strip():
        return None, "is empty"
    return text, None


def _normal(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


@register()
def license_texts(ctx):
    """MG404-MG406: the license texts exist, are readable, and match `license`."""
    files = set(ctx.bundle.files())
    listed = ctx.typed.indexed("license_files")
    if listed:
        candidates = [(f"license_files[{i}]", rel) for i, rel in listed]
    else:
        candidates = [(None, rel) for rel in sorted(files) if _CONVENTIONAL.match(rel)]
        if not candidates:
            yield TEXT_MISSING.finding(
                "the bundle holds no license text: `license_files` is not set and there is no "
                "LICENSE, LICENSE.md, LICENSE.txt, COPYING or licenses/ folder", path="license_files",
                hint="Add the license text as LICENSE at the top of the bundle and lock it again.")
            return
    texts = []
    for where, relative in candidates:
        try:
            if relative not in files:
                folder = ctx.bundle.resolve(relative).is_dir()
                yield TEXT_MISSING.finding(
                    f"license file {relative} is " + ("a folder" if folder else "not in the bundle"),
                    path=where, hint="List each license text file in `license_files`, with its path "
                                     "relative to the bundle folder.")
                continue
            text, problem = _read_text(ctx, relative)
        except UnsafeBundleError as error:
            yield PATH_ESCAPES.finding(error.message, path=where, hint=error.hint)
            continue
        except OSError as error:
            text, problem = None, f"cannot be read ({error.strerror})"
        if problem:
            yield TEXT_UNREADABLE.finding(f"license file {relative} {problem}", file=relative,
                                          path=where)
        else:
            texts.append((relative, _normal(text)))
    expression = _model_expression(ctx)
    if not texts or expression is None:
        return
    for key in expression.keys:
        phrases = _PHRASES.get(key)
        if phrases and not any(all(p in text for p in phrases) for _, text in texts):
            names = ", ".join(rel for rel, _ in texts)
            yield TEXT_MISMATCH.finding(
                f"license is {expression.normalized!r} but no license text ({names}) reads like "
                f"{key}: none contains \"{phrases[0]}\"",
                file=texts[0][0] if len(texts) == 1 else "bundle.yaml",
                path=None if len(texts) == 1 else "license",
                hint=f"Add the full text of {key} (https://spdx.org/licenses/{key}.html) to the bundle.")


def _copyleft(key: str) -> bool:
    return licensing.is_share_alike(key) or key.upper().startswith(_COPYLEFT)


@register()
def dataset_licenses(ctx):
    """MG402, MG403, MG407-MG409: each training dataset's license, alone and against the model's."""
    model = _model_expression(ctx)
    for dataset in ctx.typed.provenance.dataset_entries:
        index = dataset.index
        name = dataset.name if dataset.name is not None else f"#{index + 1}"
        path = f"provenance.datasets[{index}].license"
        text = dataset.license
        if text is None or not text.strip():
            yield DATASET_LICENSE.finding(
                f"dataset {name} has no license: the terms of its data are unknown", path=path,
                hint="Find the dataset's license and record it as an SPDX expression.")
            continue
        try:
            expression = licensing.parse(text)
        except licensing.LicenseSyntaxError as problem:
            yield DATASET_LICENSE.finding(
                f"dataset {name} license {_shown(text)} is not a valid SPDX expression: {problem.reason}",
                path=path, hint=_syntax_hint(problem))
            continue
        subject = f"the license of dataset {name}"
        findings = list(_policy_findings(ctx, expression, subject=subject, path=path))
        yield from findings
        if model is None or any(f.rule == DENIED.id for f in findings):
            continue
        if licensing.unavoidable(expression, licensing.is_noncommercial) and \
                not licensing.unavoidable(model, licensing.is_noncommercial):
            yield NONCOMMERCIAL_DATA.finding(
                f"model released under {model.normalized} was trained on NC data: dataset {name} "
                f"is licensed {expression.normalized}", path=path,
                hint="Retrain without it, get a commercial license for the data, or release the "
                     "model under non-commercial terms.")
        elif licensing.unavoidable(expression, licensing.is_share_alike) and \
                not licensing.unavoidable(model, _copyleft):
            yield SHARE_ALIKE_DATA.finding(
                f"dataset {name} is share-alike ({expression.normalized}) but the model is "
                f"released under {model.normalized}", path=path,
                hint="Have the legal team confirm that the model's license is compatible with the "
                     "dataset's share-alike terms.")
