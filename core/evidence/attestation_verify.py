"""Checking decision attestations offline: only the bundle's files, the envelopes and trusted keys.

A bundle's decisions are accepted when

1. every envelope verifies with a trusted key (an envelope no trusted key signed is a problem,
   never silently skipped);
2. every statement's subject is exactly the bundle's files with their sha256;
3. the promotion statements, by sequence, start at ``draft``, each moves to the next stage (or
   retires the version), each names the digest of the one before, and the last reaches the
   claimed stage; a rollback (``kind``) may bring a version that was in production back from
   deprecated, and asks no approvals again (a break-glass restore has no passing summary, so
   it is never accepted);
4. each promotion's approvals meet the count it asked for, by distinct people (names compared
   as the registry compares them: NFKC, case-folded, confusables as one), none of them the
   submitter, each holding one of the roles asked for (admin holds every role);
5. a SLSA verification summary for each promotion names that promotion statement's digest and
   its stage, under the same policy digest, with the result PASSED.

With ``policy``, each promotion must have been decided under that policy and ask at least
the approvals it asks for that stage.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass

from modelgate.core.policy.stages import DEPRECATED, PRODUCTION, RETIRED, STAGES
from modelgate.core.signing.attestations import (BREAK_GLASS, PROMOTION, PROMOTION_PREDICATE, ROLLBACK,
                                                 STATEMENT_TYPE, VSA_PREDICATE, canonical_json, sha256_hex,
                                                 stage_level)
from modelgate.core.signing.dsse import INTOTO_PAYLOAD_TYPE, open_envelope, parse_envelope
from modelgate.core.signing.errors import SignatureFormatError
from modelgate.core.signing.trust import TrustStore


@dataclass(frozen=True)
class AttestationVerdict:
    """The outcome: ``stage`` reached by the verified chain, ``steps`` (from, to, signer),
    and every ``problem`` found (accepted only when there is none)."""

    stage: str | None
    steps: tuple[tuple[str, str, str], ...]
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def read_lines(data: bytes) -> list[dict]:
    """The DSSE envelopes of an in-toto JSON Lines file (blank lines skipped)."""
    envelopes = []
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            envelopes.append(parse_envelope(line))
        except SignatureFormatError as exc:
            raise SignatureFormatError(f"line {number} of the attestations: {exc.message}") from None
    return envelopes


def _person(name: str) -> str:
    from disarm import skeleton_key

    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return skeleton_key(folded, digit_policy="tr39")


def _public_keys(trust: TrustStore) -> tuple[dict[str, object], dict[str, str]]:
    from cryptography.hazmat.primitives import serialization

    keys = {k.fingerprint: serialization.load_pem_public_key(k.public_pem) for k in trust.keys}
    return keys, {k.fingerprint: k.name for k in trust.keys}


def _open_all(envelopes: list[dict], trust: TrustStore, problems: list[str]) -> list[tuple[dict, str, str]]:
    """``(statement, its digest, signer name)`` of each envelope a trusted key signed."""
    keys, names = _public_keys(trust)
    opened = []
    for index, envelope in enumerate(envelopes, start=1):
        try:
            result = open_envelope(envelope, public_keys=keys)
        except SignatureFormatError as exc:
            problems.append(f"attestation {index}: {exc.message}")
            continue
        if result.payload_type != INTOTO_PAYLOAD_TYPE:
            problems.append(f"attestation {index}: payload type {result.payload_type!r} is not an in-toto statement")
            continue
        try:
            statement = json.loads(result.payload)
        except (ValueError, UnicodeDecodeError):
            problems.append(f"attestation {index}: the signed payload is not JSON")
            continue
        if not isinstance(statement, dict) or statement.get("_type") != STATEMENT_TYPE \
                or not isinstance(statement.get("predicate"), dict):
            problems.append(f"attestation {index}: not an in-toto Statement v1")
            continue
        opened.append((statement, sha256_hex(canonical_json(statement)), names[result.key_fingerprint]))
    return opened


def _subject_problem(statement: dict, files: dict[str, str]) -> str | None:
    listed = {}
    for item in statement.get("subject") or []:
        if isinstance(item, dict) and isinstance(item.get("digest"), dict):
            listed[item.get("name")] = item["digest"].get("sha256")
    if listed == files:
        return None
    changed = sorted(n for n in files if n in listed and listed[n] != files[n])
    missing = sorted(n for n in files if n not in listed)
    extra = sorted(str(n) for n in listed if n not in files)
    parts = [f"{label}: {', '.join(names[:3])}" for label, names in
             (("digest differs", changed), ("not in the subject", missing), ("not in the bundle", extra)) if names]
    return "the subject does not match the bundle (" + "; ".join(parts) + ")"


def _step_problem(before: str, after: str) -> str | None:
    if before not in STAGES or after not in STAGES:
        return f"unknown stage in {before} -> {after}"
    here, there = STAGES.index(before), STAGES.index(after)
    if there <= here:
        return f"{before} -> {after} goes backwards"
    if after not in RETIRED and there != here + 1:
        return f"{before} -> {after} skips {', '.join(STAGES[here + 1:there])}"
    return None


def _approval_problem(predicate: dict, policy) -> str | None:
    approvals = predicate.get("approvals") or {}
    required = approvals.get("required") or 0
    roles = set(approvals.get("roles") or ())
    to_stage = (predicate.get("stage") or {}).get("to")
    if policy is not None:
        if (predicate.get("policy") or {}).get("digest", {}).get("sha256") != policy.digest:
            return f"decided under another policy than {policy.name}"
        wanted = policy.gates(to_stage).approvals
        if required < wanted.count or not set(wanted.roles) <= roles:
            return f"asked for fewer approvals than the policy wants ({wanted.count})"
    submitter = _person(str((predicate.get("model") or {}).get("submitter") or ""))
    people = set()
    for given in approvals.get("given") or []:
        who = str(given.get("reviewer") or "")
        held = set(given.get("roles") or ())
        key = _person(who)
        if key in people:
            return f"{who} approved twice; an approval counts once per person"
        if key == submitter:
            return f"{who} submitted the version; their approval does not count"
        if roles and not (held & roles) and "admin" not in held:
            return f"{who} did not hold the {' or '.join(sorted(roles))} role"
        people.add(key)
    if len(people) < required:
        return f"{len(people)} of {required} approval(s)"
    return None


def _restores(predicate: dict, *, reached: str, steps: list) -> bool:
    """Whether ``predicate`` is a rollback restoring a version that was in production and left
    it (superseded, which is not a decision of its own, or taken out by an attested rollback)."""
    moved = predicate.get("stage") or {}
    return (predicate.get("kind") in (ROLLBACK, BREAK_GLASS) and moved.get("from") == DEPRECATED
            and moved.get("to") == PRODUCTION and reached in (PRODUCTION, DEPRECATED)
            and any(after == PRODUCTION for _before, after, _signer in steps))


def _same_policy(predicate: dict, policy) -> bool:
    return (predicate.get("policy") or {}).get("digest", {}).get("sha256") == policy.digest


def verify_decisions(*, files: dict[str, str], envelopes: list[dict], trust: TrustStore,
                     stage: str | None = None, policy=None) -> AttestationVerdict:
    """Check the decision ``envelopes`` of a bundle whose files hash to ``files`` (see the module)."""
    problems: list[str] = []
    if not envelopes:
        return AttestationVerdict(None, (), ("the bundle carries no decision attestations",))
    opened = _open_all(envelopes, trust, problems)
    promotions, summaries = [], {}
    for statement, digest, signer in opened:
        problem = _subject_problem(statement, files)
        kind = statement.get("predicateType")
        if problem:
            problems.append(f"{kind}: {problem}")
        if kind == PROMOTION_PREDICATE:
            promotions.append((statement["predicate"], digest, signer))
        elif kind == VSA_PREDICATE:
            for source in statement["predicate"].get("inputAttestations") or []:
                summaries[(source.get("digest") or {}).get("sha256")] = statement["predicate"]
    promotions.sort(key=lambda item: item[0].get("sequence") if isinstance(item[0].get("sequence"), int) else -1)
    reached, previous, steps = "draft", None, []
    for number, (predicate, digest, signer) in enumerate(promotions, start=1):
        moved = predicate.get("stage") or {}
        label = f"decision {number} ({moved.get('from')} -> {moved.get('to')})"
        if predicate.get("sequence") != number:
            problems.append(f"{label}: numbered {predicate.get('sequence')!r}; a decision is missing or repeated")
        if ((predicate.get("previous") or {}).get("sha256")) != previous:
            problems.append(f"{label}: does not follow the decision before it")
        restore = _restores(predicate, reached=reached, steps=steps)
        if moved.get("from") != reached and not restore:
            problems.append(f"{label}: starts at {moved.get('from')}, but the chain was at {reached}")
        step = None if restore else _step_problem(str(moved.get("from")), str(moved.get("to")))
        approval = _approval_problem(predicate, policy if predicate.get("kind", PROMOTION) == PROMOTION else None)
        if approval is None and policy is not None and not _same_policy(predicate, policy):
            approval = f"decided under another policy than {policy.name}"
        summary = summaries.get(digest)
        for problem in (step, approval):
            if problem:
                problems.append(f"{label}: {problem}")
        if summary is None or summary.get("verificationResult") != "PASSED" \
                or stage_level(str(moved.get("to"))) not in (summary.get("verifiedLevels") or ()) \
                or summary.get("policy", {}).get("digest") != predicate.get("policy", {}).get("digest"):
            problems.append(f"{label}: no verification summary vouches for it")
        reached, previous = str(moved.get("to")), digest
        steps.append((str(moved.get("from")), reached, signer))
    claimed = stage or reached
    if not promotions:
        problems.append("no promotion decision is attested")
    elif reached != claimed:
        problems.append(f"the decisions reach {reached}, not {claimed}")
    return AttestationVerdict(reached if promotions else None, tuple(steps), tuple(problems))
