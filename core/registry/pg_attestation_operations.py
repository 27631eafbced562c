"""The guarded writes of decision attestations and waivers on a PostgreSQL registry (see :mod:`.pgwrites`).

Kept apart from :mod:`.pg_operations` so that each file stays readable; :mod:`.pgwrites`
installs both lists.
"""

from __future__ import annotations

from modelgate.core.registry.pg_operations import Operation

ATTESTATION_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        # Called by a promotion, in its transaction, before the version moves.
        name="record_attestation",
        params=(("version_id", "integer"), ("sequence", "integer"), ("predicate_type", "text"),
                ("statement", "text"), ("digest", "text")),
        returns="integer", roles=("approver",), action="record a decision attestation",
        declare="v_id integer;",
        body="""
        IF NOT EXISTS (SELECT 1 FROM versions v WHERE v.id = p_version_id) THEN
            RAISE EXCEPTION 'no such version' USING ERRCODE = '22023';
        END IF;
        IF p_digest IS NULL OR p_digest !~ '^[0-9a-f]{64}$'
                OR encode(sha256(convert_to(p_statement, 'UTF8')), 'hex') <> p_digest THEN
            RAISE EXCEPTION 'the digest does not match the statement' USING ERRCODE = '22023';
        END IF;
        INSERT INTO attestations (version_id, sequence, predicate_type, statement, digest, created_at)
        VALUES (p_version_id, p_sequence, p_predicate_type, p_statement, p_digest, now())
        RETURNING id INTO v_id;
        RETURN v_id;
        """),
    Operation(
        # A signer signs with their own trusted, unrevoked key, and only what is unsigned.
        name="sign_attestation",
        params=(("attestation_id", "integer"), ("envelope", "text"), ("key_fingerprint", "text")),
        returns="boolean", roles=("signer",), action="sign attestations", events=("attestation.sign",),
        body="""
        IF NOT EXISTS (SELECT 1 FROM trusted_keys k WHERE k.fingerprint = p_key_fingerprint
                       AND k.name = v_actor AND k.revoked_at IS NULL) THEN
            RAISE EXCEPTION 'the key is not trusted as the signer''s own' USING ERRCODE = '42501';
        END IF;
        UPDATE attestations SET envelope = p_envelope, key_fingerprint = p_key_fingerprint, signed_by = v_actor
        WHERE id = p_attestation_id AND envelope IS NULL;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no unsigned attestation %', p_attestation_id USING ERRCODE = '22023';
        END IF;
        RETURN true;
        """),
    Operation(
        name="request_waiver",
        params=(("version_id", "integer"), ("rule", "text"), ("reason", "text"), ("expires_at", "timestamptz")),
        returns="integer", roles=("approver",), action="waive rules", events=("waiver.request",),
        declare="v_id integer;",
        body="""
        IF NOT EXISTS (SELECT 1 FROM versions v WHERE v.id = p_version_id) THEN
            RAISE EXCEPTION 'no such version' USING ERRCODE = '22023';
        END IF;
        IF p_rule IS NULL OR p_rule !~ '^MG[1-9][0-9]{2}$' OR p_rule LIKE 'MG8%' THEN
            RAISE EXCEPTION 'this rule may not be waived' USING ERRCODE = '22023';
        END IF;
        IF coalesce(btrim(p_reason), '') = '' OR p_expires_at IS NULL OR p_expires_at <= now() THEN
            RAISE EXCEPTION 'a waiver needs a reason and a future expiry' USING ERRCODE = '22023';
        END IF;
        INSERT INTO waivers (version_id, rule, reason, expires_at, requested_by, created_at)
        VALUES (p_version_id, p_rule, p_reason, p_expires_at, v_actor, now()) RETURNING id INTO v_id;
        RETURN v_id;
        """),
    Operation(
        # Four eyes: the database refuses the requester's own confirmation too.
        name="confirm_waiver", params=(("waiver_id", "integer"),),
        returns="boolean", roles=("approver",), action="confirm waivers", events=("waiver.confirm",),
        body="""
        UPDATE waivers SET confirmed_by = v_actor, confirmed_at = now()
        WHERE id = p_waiver_id AND confirmed_by IS NULL AND revoked_at IS NULL AND expires_at > now()
          AND requested_by <> v_actor;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'waiver % cannot be confirmed by %', p_waiver_id, v_actor USING ERRCODE = '22023';
        END IF;
        RETURN true;
        """),
    Operation(
        name="revoke_waiver", params=(("waiver_id", "integer"), ("reason", "text")),
        returns="boolean", roles=("approver",), action="revoke waivers", events=("waiver.revoke",),
        body="""
        IF coalesce(btrim(p_reason), '') = '' THEN
            RAISE EXCEPTION 'revoking a waiver needs a reason' USING ERRCODE = '22023';
        END IF;
        UPDATE waivers SET revoked_by = v_actor, revoked_at = now(), revoke_reason = p_reason
        WHERE id = p_waiver_id AND revoked_at IS NULL;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no waiver % to revoke', p_waiver_id USING ERRCODE = '22023';
        END IF;
        RETURN true;
        """),
)
