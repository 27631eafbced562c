"""MG8xx: release signatures — present where the policy asks, valid, trusted, independent."""

from __future__ import annotations

import hashlib
import re

from modelgate.core.checks import register
from modelgate.core.findings import Severity
from modelgate.core.policy.stages import SERVING
from modelgate.core.rules import rule

MISSING = rule(
    "MG801", title="Required signature is missing", severity=Severity.ERROR,
    rationale="""The policy asks for a release signature before this stage: someone accountable
    vouches, with a key the organisation trusts, that these exact bytes are the ones reviewed.
    Without it a bundle can be swapped between review and release unnoticed.""",
    fix="""Have a release officer run `modelgate sign BUNDLE_DIR --key THEIR.key` (or sign the
    registry's copy with `modelgate sign NAME@VERSION --key THEIR.key`).""",
)
INVALID = rule(
    "MG802", title="Signature does not verify", severity=Severity.ERROR,
    rationale="""A signature that does not match the bundle means the files changed after signing
    (a flipped byte, an added or removed file) or the signature itself was altered or taken from
    another bundle. Either way the bytes are not the ones that were signed.""",
    fix="""Find out what changed. If the change is intended, lock, validate and review again, then
    sign again; otherwise restore the signed bytes.""",
)
UNTRUSTED = rule(
    "MG803", title="Signer is not trusted", severity=Severity.ERROR,
    rationale="""Anyone can make a key and sign. A signature counts only when its key is in the
    trust store: the public keys of the people allowed to release.""",
    fix="""Verify with the right trust store (--trust, MODELGATE_TRUST_STORE), or have a trusted
    signer sign. An admin adds keys with `modelgate keys trust NAME NAME.pub`.""",
)
UNCOVERED = rule(
    "MG805", title="Files not covered by a signature", severity=Severity.ERROR,
    rationale="""A signature vouches for exactly the files it lists. A signature can leave files out
    (model-signing records its ignore paths in the signature since 1.1.0, and a verifier can be
    told to ignore more); the signature stays valid for what it covers, but the files left out
    could be anything. Every byte shipped to staging or production must be signed, so there
    this is an error; at earlier stages a warning.""",
    fix="""Sign again without ignore paths (`modelgate sign` covers every file but signatures/), or
    remove the files the signature does not cover.""",
)
SELF_SIGNED = rule(
    "MG804", title="Signed by an owner of the model", severity=Severity.ERROR,
    rationale="""A release signature is an independent check: the people who built the model
    should not be the ones who release it, just as a submitter's approval never counts.""",
    fix="""Have a release officer who is not among the bundle's owners sign it.""",
)



def _person(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _owners(manifest) -> set[str]:
    names = set()
    for owner in manifest.owners:
        for key in ("name", "email"):
            value = getattr(owner, key)
            if value:
                names.add(_person(value))
                if key == "email":
                    names.add(_person(value.split("@")[0]))
    return names - {""}


def _signature_manifest(ctx):
    from modelgate.core.bundle.reader import MANIFEST
    from modelgate.core.signing.payload import build_manifest, import_model_signing

    import_model_signing()
    digests = dict(ctx.digests)
    digests[MANIFEST] = hashlib.sha256(ctx.bundle.resolve(MANIFEST).read_bytes()).hexdigest()
    return build_manifest(digests, model_name=ctx.bundle.root.name)


@register()
def release_signatures(ctx):
    """MG801-MG805: every signature verifies with a trusted key of someone who does not own
    the model and covers every file, and the stage's required signature is there."""
    from modelgate.core.signing.keys import short
    from modelgate.core.signing.trust import TrustStore
    from modelgate.core.signing.verify import INVALID as BROKEN
    from modelgate.core.signing.verify import MAX_SIGNATURE_BYTES, UNREADABLE, check_signature, signature_files

    if ctx.recorded is not None:  # the registry read its own record; its signature gate judges it
        return
    required = ctx.gates.signature.required
    files = signature_files(ctx.bundle)
    if not files:
        if required:
            yield MISSING.finding(f"the policy requires a release signature for {ctx.stage}; "
                                  "the bundle has none (signatures/*.sig)", file="signatures/")
        return
    trust = ctx.trust or TrustStore((), "")
    manifest = _signature_manifest(ctx)
    owners, counted = _owners(ctx.typed), 0
    lenient = None if required else Severity.WARNING
    for name in files:
        document = ctx.bundle.read_bytes(name, limit=MAX_SIGNATURE_BYTES)
        check = check_signature(name=name, document=document, root=ctx.bundle.root, manifest=manifest,
                                trust=trust)
        key = short(check.fingerprint) if check.fingerprint else "no key"
        if check.status in (BROKEN, UNREADABLE):
            yield INVALID.finding(f"{name} ({check.signer or 'unknown signer'}, {key}): {check.reason}",
                                  file=name)
        elif not check.valid:
            where = f"the trust store ({trust.description})" if trust else "no trust store (pass --trust)"
            said = (f"{name} is signed with {key}, which is not in {where}" if check.signer_kind != "certificate"
                    else f"{name} is signed with a certificate that is not trusted: {check.reason}")
            yield UNTRUSTED.finding(said, severity=lenient, file=name)
        elif check.uncovered:
            shown = ", ".join(check.uncovered[:10]) + (f" and {len(check.uncovered) - 10} more"
                                                      if len(check.uncovered) > 10 else "")
            yield UNCOVERED.finding(f"{name} ({check.signer}) does not cover {len(check.uncovered)} file(s) of "
                                    f"the bundle, left out by its own ignore paths: {shown}",
                                    severity=None if ctx.stage in SERVING else Severity.WARNING,
                                    file=name)
        elif _person(check.signer) in owners:
            yield SELF_SIGNED.finding(f"{name} is signed by {check.signer}, an owner of this model",
                                      severity=lenient, file=name)
        else:
            counted += 1
    if required and not counted:
        yield MISSING.finding(f"the policy requires a release signature for {ctx.stage}; none of the "
                              f"{len(files)} signature(s) counts", file="signatures/")
