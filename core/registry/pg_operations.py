"""The guarded writes of a PostgreSQL registry, one declaration each (see :mod:`.pgwrites`).

Each :class:`Operation` becomes a ``SECURITY DEFINER`` function: its parameters, the roles
that may call it, the audit actions it may append and its PL/pgSQL body. :mod:`.pgwrites`
turns them into SQL, installs them and calls them.
"""

from __future__ import annotations

from dataclasses import dataclass

from modelgate.core.policy.stages import STAGES
from modelgate.core.registry.models import DECISIONS, PROMOTION_KINDS, ROLES

#: The group role every application login is a member of (``GRANT modelgate_app TO LOGIN``).
APP_ROLE = "modelgate_app"
#: The schema holding the guarded functions (the tables stay in the registry's own schema).
API_SCHEMA = "modelgate_api"
#: ``Operation.roles`` value: any member of :data:`APP_ROLE` may call it, registry user or not.
ANYONE = None
#: Every registry role: any registry user (holding at least one role) may call it.
ANY_USER = ROLES
#: Audit actions any member may record (about themself): a refusal needs no role.
FREE_EVENTS = ("denied",)
#: Audit actions that write nothing but the event, and the roles that may record them: a
#: store check's outcome (every registry user may check the store) and the public key of a
#: station's audit checkpoints (made when any user's event makes a checkpoint due); a push of a
#: version to an OCI registry or its export (where to, the manifest digest), by a signer or an admin.
EVENT_ONLY: dict[str, tuple[str, ...]] = {"store.fsck": ANY_USER, "audit.checkpoint_key": ANY_USER,
                                          "store.pushed": ("signer", "admin"),
                                          "store.exported": ("signer", "admin")}


@dataclass(frozen=True)
class Operation:
    """One guarded write: a ``SECURITY DEFINER`` function in :data:`API_SCHEMA`.

    ``params`` are ``(name, SQL type)``; the function's parameters are ``p_<name>``.
    ``roles`` may call it (admins always may; :data:`ANYONE` means every member),
    ``action`` says what for in the refusal message, ``events`` are the audit
    actions a caller holding ``roles`` may append, and ``body`` is PL/pgSQL run
    after the role check (``declare`` adds local variables). ``check_roles=False``
    leaves the role check to the body, for an operation with an exception to it.
    """

    name: str
    params: tuple[tuple[str, str], ...]
    returns: str
    roles: tuple[str, ...] | None
    action: str
    body: str
    events: tuple[str, ...] = ()
    declare: str = ""
    #: False when the body makes the role check itself (it has an exception to it).
    check_roles: bool = True


def _sql_array(values) -> str:
    return "ARRAY[" + ", ".join("'" + value.replace("'", "''") + "'" for value in values) + "]::text[]"


_ROLES = _sql_array(ROLES)

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        name="lock_audit_head", params=(), returns="TABLE(head_seq bigint, head_hash text)",
        roles=ANYONE, action="lock the audit chain head",
        body="""
        RETURN QUERY SELECT h.seq, h.hash::text FROM chain_head h WHERE h.id = 1 FOR UPDATE;
        """),
    Operation(
        name="lock_model", params=(("name", "text"),), returns="integer",
        roles=ANYONE, action="lock a model",
        declare="v_id integer;",
        body="""
        SELECT m.id INTO v_id FROM models m WHERE m.name = p_name FOR UPDATE;
        RETURN v_id;
        """),
    Operation(
        name="lock_version", params=(("version_id", "integer"),), returns="integer",
        roles=ANYONE, action="lock a version",
        declare="v_id integer;",
        body="""
        SELECT v.id INTO v_id FROM versions v WHERE v.id = p_version_id FOR UPDATE;
        RETURN v_id;
        """),
    Operation(
        # The very first user of an empty registry may make themself its admin; after
        # that only admins add users or roles (the check is in the body, not `roles`).
        name="grant_roles", params=(("name", "text"), ("roles", "text[]")),
        returns="TABLE(created boolean, added text[])", roles=("admin",), action="add users",
        events=("user.added", "user.roles_granted"), check_roles=False,
        declare="v_id integer; v_created boolean; v_removed boolean; v_added text[];",
        body=f"""
        PERFORM 1 FROM chain_head h WHERE h.id = 1 FOR UPDATE;  -- one first admin, not two
        IF NOT (EXISTS (SELECT 1 FROM users) = false AND p_name = v_actor
                AND p_roles = ARRAY['admin']::text[]) THEN
            PERFORM {API_SCHEMA}._require(v_roles, ARRAY['admin']::text[], 'add users');
        END IF;
        IF p_name IS NULL OR p_name !~ '^[^[:space:][:cntrl:]]{{1,200}}$' THEN
            RAISE EXCEPTION 'not a usable user name' USING ERRCODE = '22023';
        END IF;
        IF coalesce(array_length(p_roles, 1), 0) = 0 OR NOT p_roles <@ {_ROLES} THEN
            RAISE EXCEPTION 'unknown or missing role' USING ERRCODE = '22023';
        END IF;
        SELECT u.id, u.removed_at IS NOT NULL INTO v_id, v_removed FROM users u WHERE u.name = p_name;
        v_created := v_id IS NULL;
        IF v_removed THEN  -- a removed user comes back only through reinstate_user, audited
            RAISE EXCEPTION '% was removed; reinstate them first', p_name USING ERRCODE = '22023';
        END IF;
        IF v_created AND (p_name ~ '[A-Z]' OR (getdatabaseencoding() = 'UTF8' AND NOT p_name IS NFKC NORMALIZED)) THEN
            -- New names are stored in their canonical form (identity.canonical_name: NFKC,
            -- case-folded), so that "Carol" and "carol" can never be two users.
            RAISE EXCEPTION 'a new user name must be in canonical form (NFKC, lower case)' USING ERRCODE = '22023';
        END IF;
        IF v_created THEN
            INSERT INTO users (name, created_at) VALUES (p_name, now()) RETURNING id INTO v_id;
        END IF;
        v_added := ARRAY(SELECT r FROM unnest({_ROLES}) WITH ORDINALITY AS t(r, i)
                         WHERE r = ANY(p_roles) AND NOT EXISTS (
                             SELECT 1 FROM user_roles ur WHERE ur.user_id = v_id AND ur.role = r)
                         ORDER BY i);
        INSERT INTO user_roles (user_id, role) SELECT v_id, unnest(v_added);
        RETURN QUERY SELECT v_created, v_added;
        """),
    Operation(
        name="import_version",
        params=(("model", "text"), ("version", "text"), ("digest", "text"), ("store_path", "text"),
                ("license", "text")),
        returns="integer", roles=("submitter",), action="import bundles",
        events=("version.imported",),
        declare="v_model integer; v_id integer;",
        body="""
        -- In the folder store at its digest, or in an OCI registry at one manifest digest.
        IF p_digest IS NULL OR p_digest !~ '^[0-9a-f]{64}$'
           OR (p_store_path IS DISTINCT FROM substr(p_digest, 1, 2) || '/' || p_digest
               AND coalesce(p_store_path !~ '^oci://[^@[:space:]]+@sha256:[0-9a-f]{64}$', true)) THEN
            RAISE EXCEPTION 'a version is stored at its digest' USING ERRCODE = '22023';
        END IF;
        INSERT INTO models (name, created_at) VALUES (p_model, now()) ON CONFLICT (name) DO NOTHING;
        SELECT m.id INTO v_model FROM models m WHERE m.name = p_model;
        INSERT INTO versions (model_id, version, digest, stage, submitter, store_path, license,
                              created_at, updated_at)
        VALUES (v_model, p_version, p_digest, 'draft', v_actor, p_store_path, p_license, now(), now())
        RETURNING id INTO v_id;
        RETURN v_id;
        """),
    Operation(
        name="record_review", params=(("version_id", "integer"), ("decision", "text"), ("comment", "text")),
        returns="integer", roles=("reviewer", "approver"), action="review",
        events=tuple(f"review.{decision}" for decision in DECISIONS),
        declare="v_stage text; v_id integer;",
        body=f"""
        IF p_decision IS NULL OR NOT p_decision = ANY({_sql_array(DECISIONS)}) THEN
            RAISE EXCEPTION 'unknown review decision' USING ERRCODE = '22023';
        END IF;
        IF coalesce(btrim(p_comment), '') = '' THEN
            RAISE EXCEPTION 'a review needs a comment' USING ERRCODE = '22023';
        END IF;
        SELECT v.stage INTO v_stage FROM versions v WHERE v.id = p_version_id;
        IF v_stage IS NULL THEN
            RAISE EXCEPTION 'no such version' USING ERRCODE = '22023';
        END IF;
        INSERT INTO reviews (version_id, stage, reviewer, roles, decision, comment, created_at)
        VALUES (p_version_id, v_stage, v_actor, array_to_string(v_roles, ','), p_decision, p_comment, now())
        RETURNING id INTO v_id;
        RETURN v_id;
        """),
    Operation(
        name="move_version",
        params=(("version_id", "integer"), ("to_stage", "text"), ("kind", "text"), ("reason", "text"),
                ("policy_digest", "text")),
        returns="text", roles=("approver",), action="promote",
        events=("promote", "promote.refused", "promote.superseded",
                "rollback", "rollback.refused", "rollback.restored"),
        declare="v_from text;",
        body=f"""
        IF p_to_stage IS NULL OR NOT p_to_stage = ANY({_sql_array(STAGES)})
           OR p_kind IS NULL OR NOT p_kind = ANY({_sql_array(PROMOTION_KINDS)}) THEN
            RAISE EXCEPTION 'unknown stage or kind of move' USING ERRCODE = '22023';
        END IF;
        IF p_kind = 'break-glass' THEN  -- restoring a version whose gates did not hold
            PERFORM {API_SCHEMA}._require(v_roles, ARRAY['admin']::text[], 'roll back by break-glass');
        END IF;
        SELECT v.stage INTO v_from FROM versions v WHERE v.id = p_version_id FOR UPDATE;
        IF v_from IS NULL THEN
            RAISE EXCEPTION 'no such version' USING ERRCODE = '22023';
        END IF;
        UPDATE versions SET stage = p_to_stage, updated_at = now() WHERE id = p_version_id;
        INSERT INTO promotions (version_id, from_stage, to_stage, kind, actor, reason, policy_digest,
                                created_at)
        VALUES (p_version_id, v_from, p_to_stage, p_kind, v_actor, p_reason, p_policy_digest, now());
        RETURN v_from;
        """),
    Operation(
        name="record_validation_run",
        params=(("version_id", "integer"), ("stage", "text"), ("policy_digest", "text"),
                ("policy_name", "text"), ("champion_digest", "text"), ("passed", "boolean"),
                ("errors", "integer"), ("warnings", "integer"), ("report", "text")),
        returns="integer", roles=ANY_USER, action="record validation runs",
        events=("validation.run",),
        declare="v_id integer;",
        body="""
        INSERT INTO validation_runs (version_id, stage, policy_digest, policy_name, champion_digest,
                                     passed, errors, warnings, report, actor, created_at)
        VALUES (p_version_id, p_stage, p_policy_digest, p_policy_name, p_champion_digest, p_passed,
                p_errors, p_warnings, p_report, v_actor, now())
        RETURNING id INTO v_id;
        RETURN v_id;
        """),
    Operation(
        name="trust_key", params=(("name", "text"), ("fingerprint", "text"), ("public_key", "text")),
        returns="integer", roles=("admin",), action="trust signing keys", events=("key.trust",),
        declare="v_id integer;",
        body="""
        IF NOT EXISTS (SELECT 1 FROM users u WHERE u.name = p_name) THEN
            RAISE EXCEPTION 'no such user' USING ERRCODE = '22023';
        END IF;
        INSERT INTO trusted_keys (name, fingerprint, public_key, added_by, created_at)
        VALUES (p_name, p_fingerprint, p_public_key, v_actor, now())
        RETURNING id INTO v_id;
        RETURN v_id;
        """),
    Operation(
        # A revoked key stays revoked: nothing here (or anywhere) clears revoked_at.
        name="revoke_key", params=(("key_id", "integer"), ("reason", "text")),
        returns="boolean", roles=("admin",), action="revoke signing keys", events=("key.revoke",),
        body="""
        IF coalesce(btrim(p_reason), '') = '' THEN
            RAISE EXCEPTION 'a revocation needs a reason' USING ERRCODE = '22023';
        END IF;
        UPDATE trusted_keys SET revoked_at = now(), revoked_by = v_actor, revoke_reason = p_reason
        WHERE id = p_key_id AND revoked_at IS NULL;
        RETURN FOUND;
        """),
    Operation(
        name="record_signature",
        params=(("version_id", "integer"), ("signer", "text"), ("fingerprint", "text"), ("file", "text"),
                ("document", "text")),
        returns="integer", roles=("signer",), action="record signatures", events=("signature.add",),
        declare="v_digest text; v_id integer;",
        body="""
        -- The client verified the signature; the database holds it to a trusted, unrevoked
        -- key of the named signer, and to the version's own digest.
        IF NOT EXISTS (SELECT 1 FROM trusted_keys k WHERE k.fingerprint = p_fingerprint
                       AND k.name = p_signer AND k.revoked_at IS NULL) THEN
            RAISE EXCEPTION 'the key is not a trusted key of %', p_signer USING ERRCODE = '42501';
        END IF;
        SELECT v.digest INTO v_digest FROM versions v WHERE v.id = p_version_id;
        IF v_digest IS NULL THEN
            RAISE EXCEPTION 'no such version' USING ERRCODE = '22023';
        END IF;
        INSERT INTO signatures (version_id, signer, key_fingerprint, bundle_digest, verified, created_at,
                                file, document, recorded_by)
        VALUES (p_version_id, p_signer, p_fingerprint, v_digest, true, now(), p_file, p_document, v_actor)
        RETURNING id INTO v_id;
        RETURN v_id;
        """),
    Operation(
        name="trust_ca",
        params=(("name", "text"), ("subject", "text"), ("fingerprint", "text"), ("certificate", "text")),
        returns="integer", roles=("admin",), action="trust CA certificates", events=("certificate.trust",),
        declare="v_id integer;",
        body=f"""
        -- The fingerprint is the SHA-256 of the certificate's own bytes, so what the row
        -- trusts is exactly the certificate it holds.
        IF p_fingerprint IS NULL OR {API_SCHEMA}._pem_fingerprint(p_certificate) IS DISTINCT FROM p_fingerprint THEN
            RAISE EXCEPTION 'the certificate does not match its fingerprint' USING ERRCODE = '22023';
        END IF;
        IF coalesce(btrim(p_name), '') = '' OR coalesce(btrim(p_subject), '') = '' THEN
            RAISE EXCEPTION 'a trusted CA needs a name and a subject' USING ERRCODE = '22023';
        END IF;
        INSERT INTO trusted_certificates (name, subject, fingerprint, certificate, is_ca, added_by, created_at)
        VALUES (p_name, p_subject, p_fingerprint, p_certificate, true, v_actor, now())
        RETURNING id INTO v_id;
        RETURN v_id;
        """),
    Operation(
        # A revoked certificate stays revoked. The signatures withdrawn are those the client
        # found anchored by the certificate (a chain check the database cannot make) and, in
        # any case, every certificate signature whose own chain holds it.
        name="revoke_certificate",
        params=(("fingerprint", "text"), ("reason", "text"), ("name", "text"), ("subject", "text"),
                ("certificate", "text"), ("signature_ids", "integer[]")),
        returns="TABLE(certificate_id integer, withdrawn integer)", roles=("admin",),
        action="revoke certificates", events=("certificate.revoke",),
        declare="v_id integer; v_revoked timestamptz; v_withdrawn integer;",
        body=f"""
        IF coalesce(btrim(p_reason), '') = '' THEN
            RAISE EXCEPTION 'a revocation needs a reason' USING ERRCODE = '22023';
        END IF;
        SELECT c.id, c.revoked_at INTO v_id, v_revoked FROM trusted_certificates c
        WHERE c.fingerprint = p_fingerprint FOR UPDATE;
        IF v_revoked IS NOT NULL THEN
            RETURN QUERY SELECT v_id, 0;
            RETURN;
        END IF;
        IF v_id IS NULL THEN
            -- A certificate never trusted is recorded as revoked, with its own bytes.
            IF p_fingerprint IS NULL
               OR {API_SCHEMA}._pem_fingerprint(p_certificate) IS DISTINCT FROM p_fingerprint THEN
                RAISE EXCEPTION 'the certificate does not match its fingerprint' USING ERRCODE = '22023';
            END IF;
            INSERT INTO trusted_certificates (name, subject, fingerprint, certificate, is_ca, added_by,
                                              created_at, revoked_at, revoked_by, revoke_reason)
            VALUES (coalesce(nullif(btrim(p_name), ''), 'certificate'), coalesce(nullif(btrim(p_subject), ''),
                    '(empty subject)'), p_fingerprint, p_certificate, false, v_actor, now(), now(), v_actor,
                    p_reason)
            RETURNING id INTO v_id;
        ELSE
            UPDATE trusted_certificates SET revoked_at = now(), revoked_by = v_actor, revoke_reason = p_reason
            WHERE id = v_id;
        END IF;
        UPDATE signatures s SET verified = false
        WHERE s.verified AND s.document IS NOT NULL AND strpos(s.document, 'x509CertificateChain') > 0
          AND (s.id = ANY(coalesce(p_signature_ids, ARRAY[]::integer[]))
               OR p_fingerprint = ANY({API_SCHEMA}._chain_of(s.document)));
        GET DIAGNOSTICS v_withdrawn = ROW_COUNT;
        RETURN QUERY SELECT v_id, v_withdrawn;
        """),
    Operation(
        name="record_certificate_signature",
        params=(("version_id", "integer"), ("signer", "text"), ("fingerprint", "text"), ("chain", "text[]"),
                ("file", "text"), ("document", "text")),
        returns="integer", roles=("signer",), action="record signatures", events=("signature.add",),
        declare="v_digest text; v_carried text[]; v_id integer;",
        body=f"""
        -- The client verified the signature and built the certificate path (``chain``: the
        -- fingerprints from the signing certificate to the CA it leads to). The database holds
        -- it to what it can check: the signing certificate is the one the document carries
        -- first, every certificate the document carries is on the path, the path reaches a
        -- trusted, unrevoked CA and holds no revoked certificate, and the signer is the caller
        -- or a user holding the signer role.
        v_carried := {API_SCHEMA}._chain_of(p_document);
        IF coalesce(array_length(v_carried, 1), 0) = 0 OR p_chain IS NULL
           OR v_carried[1] IS DISTINCT FROM p_fingerprint OR p_chain[1] IS DISTINCT FROM p_fingerprint
           OR NOT v_carried <@ p_chain THEN
            RAISE EXCEPTION 'the certificate path does not match the certificates the signature carries'
                USING ERRCODE = '22023';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM trusted_certificates c WHERE c.fingerprint = ANY(p_chain)
                       AND c.is_ca AND c.revoked_at IS NULL) THEN
            RAISE EXCEPTION 'the certificate path leads to no trusted CA' USING ERRCODE = '42501';
        END IF;
        IF EXISTS (SELECT 1 FROM trusted_certificates c WHERE c.fingerprint = ANY(p_chain)
                   AND c.revoked_at IS NOT NULL) THEN
            RAISE EXCEPTION 'a certificate of the path is revoked' USING ERRCODE = '42501';
        END IF;
        IF p_signer IS DISTINCT FROM v_actor AND NOT 'signer' = ANY({API_SCHEMA}._roles_of(p_signer)) THEN
            RAISE EXCEPTION '% is neither the caller nor a user holding the signer role', p_signer
                USING ERRCODE = '42501';
        END IF;
        SELECT v.digest INTO v_digest FROM versions v WHERE v.id = p_version_id;
        IF v_digest IS NULL THEN
            RAISE EXCEPTION 'no such version' USING ERRCODE = '22023';
        END IF;
        INSERT INTO signatures (version_id, signer, key_fingerprint, bundle_digest, verified, created_at,
                                file, document, recorded_by)
        VALUES (p_version_id, p_signer, p_fingerprint, v_digest, true, now(), p_file, p_document, v_actor)
        RETURNING id INTO v_id;
        RETURN v_id;
        """),
    Operation(
        name="reinstate_user", params=(("name", "text"),), returns="boolean",
        roles=("admin",), action="reinstate users", events=("user.reinstated",),
        body="""
        UPDATE users SET removed_at = NULL, removed_by = NULL WHERE name = p_name AND removed_at IS NOT NULL;
        RETURN FOUND;
        """),
    Operation(
        # Never the last admin's admin role: the registry always keeps someone who can manage it.
        name="revoke_roles", params=(("name", "text"), ("roles", "text[]")), returns="text[]",
        roles=("admin",), action="revoke roles", events=("user.roles_revoked",),
        declare="v_id integer; v_taken text[];",
        body=f"""
        PERFORM 1 FROM chain_head h WHERE h.id = 1 FOR UPDATE;  -- one removal of the last admins at a time
        IF coalesce(array_length(p_roles, 1), 0) = 0 OR NOT p_roles <@ {_ROLES} THEN
            RAISE EXCEPTION 'unknown or missing role' USING ERRCODE = '22023';
        END IF;
        SELECT u.id INTO v_id FROM users u WHERE u.name = p_name AND u.removed_at IS NULL;
        IF v_id IS NULL THEN
            RAISE EXCEPTION 'no such user' USING ERRCODE = '22023';
        END IF;
        v_taken := ARRAY(SELECT r FROM unnest({_ROLES}) WITH ORDINALITY AS t(r, i)
                         WHERE r = ANY(p_roles) AND EXISTS (
                             SELECT 1 FROM user_roles ur WHERE ur.user_id = v_id AND ur.role = r)
                         ORDER BY i);
        IF 'admin' = ANY(v_taken) AND {API_SCHEMA}._last_admin(v_id) THEN
            RAISE EXCEPTION '% is the last admin; the registry needs one', p_name USING ERRCODE = '55000';
        END IF;
        DELETE FROM user_roles ur WHERE ur.user_id = v_id AND ur.role = ANY(v_taken);
        RETURN v_taken;
        """),
    Operation(
        # The row stays, marked, so the name and the user's past decisions remain theirs.
        name="remove_user", params=(("name", "text"),), returns="text[]",
        roles=("admin",), action="remove users", events=("user.removed",),
        declare="v_id integer; v_held text[];",
        body=f"""
        PERFORM 1 FROM chain_head h WHERE h.id = 1 FOR UPDATE;
        SELECT u.id INTO v_id FROM users u WHERE u.name = p_name AND u.removed_at IS NULL FOR UPDATE;
        IF v_id IS NULL THEN
            RAISE EXCEPTION 'no such user' USING ERRCODE = '22023';
        END IF;
        v_held := {API_SCHEMA}._roles_of(p_name);
        IF 'admin' = ANY(v_held) AND {API_SCHEMA}._last_admin(v_id) THEN
            RAISE EXCEPTION '% is the last admin; the registry needs one', p_name USING ERRCODE = '55000';
        END IF;
        DELETE FROM user_roles ur WHERE ur.user_id = v_id;
        UPDATE users SET removed_at = now(), removed_by = v_actor WHERE id = v_id;
        RETURN v_held;
        """),
    Operation(
        # Checking the store is open to every registry user, and marking what it finds is part
        # of the check; the mark names its finder, and only an admin's repair lifts it.
        name="mark_damaged", params=(("version_id", "integer"), ("details", "text")), returns="boolean",
        roles=ANY_USER, action="mark damaged versions", events=("store.damaged",),
        declare="v_digest text;",
        body="""
        IF p_details IS NULL OR jsonb_typeof(p_details::jsonb) <> 'object' THEN
            RAISE EXCEPTION 'a damage mark needs its findings as a JSON object' USING ERRCODE = '22023';
        END IF;
        SELECT v.digest INTO v_digest FROM versions v WHERE v.id = p_version_id FOR UPDATE;
        IF v_digest IS NULL THEN
            RAISE EXCEPTION 'no such version' USING ERRCODE = '22023';
        END IF;
        UPDATE store_damage SET details = p_details WHERE version_id = p_version_id;
        IF FOUND THEN
            RETURN false;
        END IF;
        INSERT INTO store_damage (version_id, digest, details, found_by, found_at)
        VALUES (p_version_id, v_digest, p_details, v_actor, now());
        RETURN true;
        """),
    Operation(
        name="clear_damage", params=(("version_id", "integer"),), returns="boolean",
        roles=("admin",), action="repair the store", events=("store.repaired", "store.repair.refused"),
        body="""
        DELETE FROM store_damage WHERE version_id = p_version_id;
        RETURN FOUND;
        """),
    Operation(
        name="set_policy", params=(("digest", "text"), ("name", "text"), ("text", "text")),
        returns="integer", roles=("admin",), action="set the policy", events=("policy.set",),
        declare="v_id integer;",
        body="""
        INSERT INTO policies (digest, name, text, set_by, created_at)
        VALUES (p_digest, p_name, p_text, v_actor, now())
        RETURNING id INTO v_id;
        RETURN v_id;
        """),
)
