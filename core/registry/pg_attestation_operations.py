"""The guarded writes of decision attestations on a PostgreSQL registry (see :mod:`.pgwrites`).

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
)
