"""Decision attestations: in-toto Statements v1 recording each promotion of a version.

Every promotion yields two statements over the same subject (every file of the version, by
name and sha256):

- a **ModelGate promotion** statement (:data:`PROMOTION_PREDICATE`): stage from and to, the
  policy by name and digest, the validation verdict with its counts and rule ids, each
  approval (who, roles, when, the digest of the comment), the approvals the policy asked for,
  the champion compared against, waivers applied, the tool version; statements of one version
  are numbered and each names the digest of the one before, so a dropped or reordered
  decision breaks the chain;
- a **SLSA Verification Summary** (:data:`VSA_PREDICATE`) saying that ModelGate verified the
  version against that policy and it passed for the stage (``verifiedLevels``), pointing at
  the promotion statement as its input attestation.

Both are signed as DSSE envelopes (:mod:`.dsse`) and kept as in-toto JSON Lines, one envelope
a line (:data:`BUNDLE_FILE` in a bundle's ``signatures/``); the verifier in
:mod:`modelgate.core.evidence.attestation_verify` checks them offline.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
#: ModelGate's own predicate: the whole decision of one promotion.
PROMOTION_PREDICATE = "https://modelgate.dev/attestations/promotion/v1"
#: SLSA Verification Summary Attestation v1.
VSA_PREDICATE = "https://slsa.dev/verification_summary/v1"
VERIFIER_ID = "https://modelgate.dev/verifier"
#: What a decision statement's ``kind`` says moved the version: a promotion up the stages, a
#: rollback (restoring a former production version, or taking the current one out of
#: production), or a break-glass restore that went ahead although a gate did not hold.
PROMOTION, ROLLBACK, BREAK_GLASS = "promotion", "rollback", "break-glass"
#: Where attestations go in an exported bundle (in-toto's bundle format: JSON Lines of envelopes).
BUNDLE_FILE = "signatures/decisions.intoto.jsonl"


def canonical_json(value) -> bytes:
    """The one byte form of ``value`` that is hashed and signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of ``data`` in hex."""
    return hashlib.sha256(data).hexdigest()


def stage_level(stage: str) -> str:
    """The ``verifiedLevels`` entry a VSA records for a version that may be at ``stage``."""
    return f"MODELGATE_STAGE_{stage.upper()}"


@dataclass(frozen=True)
class Approval:
    """One approval that counted for a promotion."""

    reviewer: str
    roles: tuple[str, ...]
    decided_at: datetime
    comment: str

    def as_dict(self) -> dict:
        return {"reviewer": self.reviewer, "roles": list(self.roles),
                "decidedAt": _iso(self.decided_at),
                "commentDigest": {"sha256": sha256_hex(self.comment.encode("utf-8"))}}


@dataclass(frozen=True)
class Decision:
    """Everything one promotion decided, as the registry knew it at that moment."""

    name: str
    version: str
    bundle_digest: str
    submitter: str
    from_stage: str
    to_stage: str
    decided_by: str
    decided_at: datetime
    policy_name: str
    policy_digest: str
    passed: bool | None
    errors: int
    warnings: int
    rules: tuple[str, ...]
    approvals_required: int
    approval_roles: tuple[str, ...]
    approvals: tuple[Approval, ...]
    tool_version: str
    reason: str | None = None
    champion: str | None = None
    champion_digest: str | None = None
    waivers: tuple[dict, ...] = field(default_factory=tuple)
    kind: str = PROMOTION


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def subject(files: dict[str, str]) -> list[dict]:
    """The in-toto subject of a version: each file (relative path) with its sha256, sorted."""
    return [{"name": name, "digest": {"sha256": digest}} for name, digest in sorted(files.items())]


def promotion_statement(*, decision: Decision, files: dict[str, str], sequence: int,
                        previous: str | None) -> dict:
    """The ModelGate promotion statement of ``decision``; ``sequence`` numbers it among the
    version's decisions (1 for its first) and ``previous`` is the digest of the one before."""
    d = decision
    predicate = {
        "model": {"name": d.name, "version": d.version, "bundleDigest": {"sha256": d.bundle_digest},
                  "submitter": d.submitter},
        "sequence": sequence,
        "kind": d.kind,
        "previous": {"sha256": previous} if previous else None,
        "stage": {"from": d.from_stage, "to": d.to_stage},
        "decidedBy": d.decided_by,
        "decidedAt": _iso(d.decided_at),
        "reason": d.reason,
        "policy": {"name": d.policy_name, "digest": {"sha256": d.policy_digest}},
        "verdict": {"passed": d.passed, "errors": d.errors, "warnings": d.warnings,
                    "rules": sorted(set(d.rules))},
        "approvals": {"required": d.approvals_required, "roles": list(d.approval_roles),
                      "given": [a.as_dict() for a in d.approvals]},
        "champion": ({"ref": d.champion, "bundleDigest": {"sha256": d.champion_digest}}
                     if d.champion else None),
        "waivers": [dict(w) for w in d.waivers],
        "tool": {"name": "modelgate", "version": d.tool_version},
    }
    return {"_type": STATEMENT_TYPE, "subject": subject(files), "predicateType": PROMOTION_PREDICATE,
            "predicate": predicate}


def summary_statement(*, decision: Decision, files: dict[str, str], promotion_digest: str) -> dict:
    """The SLSA VSA saying ModelGate verified the version for ``decision.to_stage``."""
    d = decision
    predicate = {
        "verifier": {"id": VERIFIER_ID, "version": {"modelgate": d.tool_version}},
        "timeVerified": _iso(d.decided_at),
        "resourceUri": f"modelgate:{d.name}@{d.version}",
        "policy": {"uri": f"modelgate:policy/{d.policy_name}", "digest": {"sha256": d.policy_digest}},
        "inputAttestations": [{"uri": f"modelgate:attestation/{d.name}@{d.version}/{d.to_stage}",
                               "digest": {"sha256": promotion_digest}}],
        # a break-glass restore is on record, but nobody vouches that its gates held
        "verificationResult": "FAILED" if d.kind == BREAK_GLASS else "PASSED",
        "verifiedLevels": [stage_level(d.to_stage)],
        "slsaVersion": "1.0",
    }
    return {"_type": STATEMENT_TYPE, "subject": subject(files), "predicateType": VSA_PREDICATE,
            "predicate": predicate}
