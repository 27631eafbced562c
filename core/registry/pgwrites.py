"""With PostgreSQL the database protects itself: every write goes through a guarded function.

A team registry on PostgreSQL is shared by people who each log in to the database
with their own login. A login that could write the tables directly could give
itself the admin role, move a version to production or rewrite the audit chain
with plain SQL, whatever ModelGate's own checks say. So the database refuses it:

- Application logins are members of the group role :data:`APP_ROLE`
  (``modelgate_app``). The group holds ``SELECT`` on the registry's tables,
  ``USAGE`` on the schema :data:`API_SCHEMA` (``modelgate_api``) and ``EXECUTE``
  on the functions there, and nothing else: no ``INSERT``, ``UPDATE``,
  ``DELETE``, ``TRUNCATE`` (nor ``SELECT ... FOR UPDATE``, which needs
  ``UPDATE``) on any table and no right on any sequence. :func:`install`
  revokes every other write right any login or ``PUBLIC`` held.
- Every write ModelGate makes is a call of one of those functions (an
  :class:`Operation`). Each is ``SECURITY DEFINER`` (it runs with the rights of
  the registry owner, the login that ran the migrations) with a fixed
  ``search_path`` (the registry's schema, then ``pg_temp``, so a login cannot
  plant a look-alike table or function), and checks who calls before it
  touches anything: ``session_user`` (the login; ``SET ROLE`` does not change
  it) and the roles that login holds in ``users``/``user_roles``. Admins pass
  every role check, as in :mod:`.identity`. Values that name the caller
  (reviewer, submitter, actor, ``recorded_by``...) are taken from
  ``session_user``, never from an argument.
- The audit log has one way in, ``append_event``. It locks the chain head, and
  writes ``seq = head + 1``, ``prev_hash = head hash``, ``actor = session_user``
  and ``created_at`` from the server's clock, computes the hash itself (the same
  canonical text as :func:`.audit._event_hash`) and moves the head. A login can
  neither shorten, edit nor move the chain back. Which actions a login may
  append follows the operations: each :class:`Operation` lists the audit
  actions (``events``) its callers record, and ``append_event`` refuses an
  action that no operation the caller may run declares (:data:`FREE_EVENTS` are
  open to every member: recording a refusal needs no role; :data:`EVENT_ONLY`
  lists the actions that write nothing but the event, with their roles). Admins,
  who pass every role check, may record any action.

The checks in Python stay: they give the clear messages and audit refusals. The
functions are the second, binding check. A function's refusal has SQLSTATE
``42501`` and reaches the caller as :class:`.errors.PermissionDenied`.

Gates are evaluated by the client: the database decides *who* may promote, not
whether every gate held; an approver running a modified client could skip a gate,
but only under their own name, and the audit log records it.

SQLite is single-user by nature (one person's or one station's file, whose owner
can edit it anyway); it keeps its direct writes, and integrity there rests on
the hash chain and its signed checkpoints. :func:`guarded` tells the two apart.

Adding a write operation
------------------------
1. Declare an :class:`Operation` in :data:`OPERATIONS`: its name, parameters
   (``p_`` + the keyword the call site passes), return type, the roles that may
   call it, the audit actions it records, and its PL/pgSQL body. The body runs
   after the role check, with ``v_actor`` (``session_user``) and ``v_roles``
   (the caller's registry roles, canonical order) at hand. Keep it small: write
   the rows, take caller-identifying values from ``v_actor``, check what the
   database can check (the row exists, the value is one of the allowed ones).
2. At the call site::

       if pgwrites.guarded(session):
           new_id = pgwrites.call(session, "record_thing", version_id=row.id, note=text)
       else:
           ...the SQLite write, as before...

   and, if the ORM object is needed, ``session.get(Model, new_id)``.
3. The migration that ships it ends its ``upgrade()`` with
   ``pgwrites.install(op.get_bind())`` (a no-op on SQLite). :func:`install`
   drops and re-creates every function of :data:`API_SCHEMA` and re-applies the
   grants, so this one line is the same in every migration that adds or changes
   an operation, and a function removed from the code disappears from the
   database.

For example, revoking a role (admins only) is::

    Operation(
        name="revoke_role", params=(("name", "text"), ("role", "text")), returns="boolean",
        roles=("admin",), action="revoke roles", events=("user.role_revoked",),
        body=\"\"\"
        DELETE FROM user_roles ur USING users u
        WHERE u.id = ur.user_id AND u.name = p_name AND ur.role = p_role;
        RETURN FOUND;
        \"\"\")

with ``pgwrites.call(session, "revoke_role", name=name, role=role)`` beside the
SQLite ``DELETE``. A rule with an exception (a break-glass move is an admin's
alone, though approvers move versions) is checked in the body, so the database,
not the client, holds it; so would a two-person rule (the second person's
recorded request in its own table, made by another login).
Rows of a new table (audit checkpoints, store damage marks) are written by an
operation whose ``roles`` are the ones allowed to write them; nothing else is
needed, as :func:`install` leaves every table read-only to the group, including
tables created after it. Row locks a write needs are taken through
``lock_audit_head``, ``lock_model`` and ``lock_version`` (``SELECT ... FOR
UPDATE`` needs a write right): :func:`.audit.lock_head` and the ``for_update``
of :mod:`.queries` already do so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ..stages import STAGES
from .database import INSUFFICIENT_PRIVILEGE
from .errors import PermissionDenied, RegistryError
from .models import DECISIONS, PROMOTION_KINDS, ROLES

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
#: station's audit checkpoints (made when any user's event makes a checkpoint due).
EVENT_ONLY: dict[str, tuple[str, ...]] = {"store.fsck": ANY_USER, "audit.checkpoint_key": ANY_USER}


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
        IF p_digest IS NULL OR p_digest !~ '^[0-9a-f]{64}$'
           OR p_store_path IS DISTINCT FROM substr(p_digest, 1, 2) || '/' || p_digest THEN
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


def _event_roles() -> dict[str, list[str] | None]:
    """Audit action -> the roles that may append it (``None``: every member)."""
    allowed: dict[str, list[str] | None] = {action: None for action in FREE_EVENTS}
    allowed.update({action: list(roles) for action, roles in EVENT_ONLY.items()})
    for operation in OPERATIONS:
        for action in operation.events:
            if allowed.get(action, []) is None or operation.roles is ANYONE:
                allowed[action] = None
                continue
            held = allowed.setdefault(action, [])
            held.extend(role for role in operation.roles if role not in held)
    return allowed


def _append_event_sql(schema: str) -> str:
    allowed = json.dumps(_event_roles(), sort_keys=True).replace("'", "''")
    # The body below must spell the event exactly as audit._event_hash does: keys in sorted
    # order, strings quoted as JSON (to_json escapes as Python's encoder with
    # ensure_ascii=False does), the payload as the canonical text the client sent.
    return f"""
CREATE FUNCTION {API_SCHEMA}.append_event(p_action text, p_subject text, p_payload text)
RETURNS TABLE(event_seq bigint, event_created_at text, event_prev_hash text, event_hash text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $fn$
DECLARE
    v_actor text := session_user;
    v_roles text[] := {API_SCHEMA}._roles_of(session_user);
    v_allowed jsonb := '{allowed}'::jsonb;
    v_head_seq bigint;
    v_head_hash text;
    v_created text := to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
    v_body text;
    v_hash text;
BEGIN
    IF p_action IS NULL OR p_action = '' THEN
        RAISE EXCEPTION 'an audit event needs an action' USING ERRCODE = '22023';
    END IF;
    IF NOT v_allowed ? p_action AND NOT 'admin' = ANY(v_roles) THEN
        RAISE EXCEPTION 'audit action % is not one % may record', p_action, v_actor USING ERRCODE = '42501';
    END IF;
    IF jsonb_typeof(v_allowed -> p_action) = 'array' THEN
        PERFORM {API_SCHEMA}._require(v_roles, ARRAY(SELECT jsonb_array_elements_text(v_allowed -> p_action)),
                                      'record ' || p_action);
    END IF;
    IF p_subject IS NULL OR p_payload IS NULL OR jsonb_typeof(p_payload::jsonb) <> 'object' THEN
        RAISE EXCEPTION 'an audit event needs a subject and a JSON object payload' USING ERRCODE = '22023';
    END IF;
    SELECT h.seq, h.hash INTO v_head_seq, v_head_hash FROM chain_head h WHERE h.id = 1 FOR UPDATE;
    IF v_head_seq IS NULL THEN
        RAISE EXCEPTION 'the audit chain head row is missing' USING ERRCODE = '55000';
    END IF;
    v_body := '{{"action":' || to_json(p_action)::text || ',"actor":' || to_json(v_actor)::text
        || ',"created_at":' || to_json(v_created)::text || ',"payload":' || p_payload
        || ',"seq":' || (v_head_seq + 1)::text || ',"subject":' || to_json(p_subject)::text || '}}';
    v_hash := encode(sha256(convert_to(v_head_hash || E'\\n' || v_body, 'UTF8')), 'hex');
    INSERT INTO audit_events (seq, created_at, actor, action, subject, payload, prev_hash, hash)
    VALUES (v_head_seq + 1, v_created, v_actor, p_action, p_subject, p_payload, v_head_hash, v_hash);
    UPDATE chain_head SET seq = v_head_seq + 1, hash = v_hash WHERE id = 1;
    RETURN QUERY SELECT v_head_seq + 1, v_created, v_head_hash, v_hash;
END $fn$;
"""


def _helpers_sql(schema: str) -> list[str]:
    return [f"""
CREATE FUNCTION {API_SCHEMA}._roles_of(p_name text) RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $fn$
    SELECT ARRAY(SELECT r FROM unnest({_ROLES}) WITH ORDINALITY AS t(r, i)
                 WHERE EXISTS (SELECT 1 FROM user_roles ur JOIN users u ON u.id = ur.user_id
                               WHERE u.name = p_name AND ur.role = r)
                 ORDER BY i)
$fn$;
""", f"""
CREATE FUNCTION {API_SCHEMA}._pem_fingerprint(p_pem text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    -- SHA-256 of the DER bytes of the one certificate a PEM text holds (NULL for anything else),
    -- as modelgate.core.signing.certificates.certificate_fingerprint computes it.
    IF p_pem IS NULL OR p_pem !~ '^\\s*-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\\s]+-----END CERTIFICATE-----\\s*$' THEN
        RETURN NULL;
    END IF;
    RETURN encode(sha256(decode(regexp_replace(
        substring(p_pem FROM '-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\\s]+)-----END CERTIFICATE-----'),
        '\\s', '', 'g'), 'base64')), 'hex');
EXCEPTION WHEN invalid_parameter_value OR data_exception THEN
    RETURN NULL;
END $fn$;
""", f"""
CREATE FUNCTION {API_SCHEMA}._chain_of(p_document text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    -- SHA-256 of each certificate a signature document carries
    -- (verificationMaterial.x509CertificateChain, signing certificate first); empty when it
    -- carries none or is not a readable document.
    RETURN coalesce(ARRAY(
        SELECT encode(sha256(decode(c ->> 'rawBytes', 'base64')), 'hex')
        FROM jsonb_array_elements(p_document::jsonb
                                  #> '{{verificationMaterial,x509CertificateChain,certificates}}')
             WITH ORDINALITY AS t(c, i)
        ORDER BY i), ARRAY[]::text[]);
EXCEPTION WHEN data_exception OR invalid_parameter_value OR invalid_text_representation THEN
    RETURN ARRAY[]::text[];
END $fn$;
""", f"""
CREATE FUNCTION {API_SCHEMA}._last_admin(p_user_id integer) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $fn$
    -- Whether user p_user_id is the only admin left (removed users hold no role).
    SELECT NOT EXISTS (SELECT 1 FROM user_roles ur WHERE ur.role = 'admin' AND ur.user_id <> p_user_id)
$fn$;
""", f"""
CREATE FUNCTION {API_SCHEMA}._require(p_held text[], p_wanted text[], p_action text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    IF NOT ('admin' = ANY(p_held) OR p_held && p_wanted) THEN
        RAISE EXCEPTION '% lacks the % role needed to %', session_user,
            array_to_string(p_wanted, ' or '), p_action USING ERRCODE = '{INSUFFICIENT_PRIVILEGE}';
    END IF;
END $fn$;
"""]


def _operation_sql(operation: Operation, schema: str) -> str:
    params = ", ".join(f"p_{name} {kind}" for name, kind in operation.params)
    check = "" if operation.roles is ANYONE or not operation.check_roles else (
        f"PERFORM {API_SCHEMA}._require(v_roles, {_sql_array(operation.roles)}, "
        f"'{operation.action.replace(chr(39), chr(39) * 2)}');")
    return f"""
CREATE FUNCTION {API_SCHEMA}.{operation.name}({params}) RETURNS {operation.returns}
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $fn$
DECLARE
    v_actor text := session_user;
    v_roles text[] := {API_SCHEMA}._roles_of(session_user);
    {operation.declare}
BEGIN
    {check}
    {operation.body}
END $fn$;
"""


def _run_verbatim(connection, statement: str) -> None:
    # Function bodies hold '%' (RAISE formats); the driver must not read them as placeholders,
    # so they go to the driver's cursor with no parameters at all.
    cursor = connection.connection.cursor()
    try:
        cursor.execute(statement)
    finally:
        cursor.close()


def _quote(connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote(name)


def _ensure_app_role(connection) -> None:
    exists = connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :name"),
                                {"name": APP_ROLE}).scalar()
    if exists:
        return
    may_create = connection.execute(text(
        "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user")).scalar()
    if not may_create:
        raise RegistryError(
            f"the group role {APP_ROLE} does not exist and this login may not create it",
            hint=f"Ask the database administrator to run: CREATE ROLE {APP_ROLE} NOLOGIN;")
    connection.execute(text(f"CREATE ROLE {APP_ROLE} NOLOGIN"))


def _revoke_writes(connection, schema: str) -> None:
    """Take every right but SELECT on the registry's tables and sequences from everyone but
    their owner, including grants made before ModelGate guarded its writes."""
    quoted = _quote(connection, schema)
    grantees = connection.execute(text("""
        SELECT DISTINCT a.grantee::regrole::text
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
             LATERAL aclexplode(c.relacl) a
        WHERE n.nspname = :schema AND a.grantee <> c.relowner AND a.grantee <> 0
        UNION
        SELECT DISTINCT a.grantee::regrole::text
        FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace,
             LATERAL aclexplode(d.defaclacl) a
        WHERE n.nspname = :schema AND d.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = current_user)
          AND a.grantee <> 0
    """), {"schema": schema}).scalars().all()
    writes = "INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER"
    for who in ["PUBLIC", *sorted(set(grantees))]:  # regrole::text comes quoted where needed
        connection.execute(text(f"REVOKE {writes} ON ALL TABLES IN SCHEMA {quoted} FROM {who}"))
        connection.execute(text(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {quoted} FROM {who}"))
        connection.execute(text(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {quoted} REVOKE {writes} ON TABLES FROM {who}"))
        connection.execute(text(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {quoted} REVOKE ALL ON SEQUENCES FROM {who}"))


def install(connection) -> None:
    """Create the group role if needed, (re)create every guarded function and set the grants.

    Runs in the caller's transaction as the registry owner (migrations call it); does
    nothing on SQLite. Idempotent: running it again repairs grants widened by hand.
    """
    if connection.dialect.name != "postgresql":
        return
    schema = connection.execute(text("SELECT current_schema()")).scalar_one()
    quoted = _quote(connection, schema)
    _ensure_app_role(connection)
    connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {API_SCHEMA}"))
    connection.execute(text(f"""
        DO $$ DECLARE f regprocedure; BEGIN
            FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
                     WHERE p.pronamespace = '{API_SCHEMA}'::regnamespace LOOP
                EXECUTE 'DROP FUNCTION ' || f::text;
            END LOOP;
        END $$"""))
    for statement in [*_helpers_sql(quoted), _append_event_sql(quoted),
                      *(_operation_sql(operation, quoted) for operation in OPERATIONS)]:
        _run_verbatim(connection, statement)
    _revoke_writes(connection, schema)
    public = ["append_event", *(operation.name for operation in OPERATIONS)]
    for statement in (
        f"REVOKE ALL ON SCHEMA {API_SCHEMA} FROM PUBLIC",
        f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {API_SCHEMA} FROM PUBLIC",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {API_SCHEMA} REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC",
        f"GRANT USAGE ON SCHEMA {API_SCHEMA} TO {APP_ROLE}",
        # Nobody but the owner creates objects beside the tables the functions name
        # (PostgreSQL before 15 let PUBLIC create in `public`).
        f"REVOKE CREATE ON SCHEMA {quoted} FROM PUBLIC, {APP_ROLE}",
        f"GRANT USAGE ON SCHEMA {quoted} TO {APP_ROLE}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {quoted} TO {APP_ROLE}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {quoted} GRANT SELECT ON TABLES TO {APP_ROLE}",
    ):
        connection.execute(text(statement))
    for name in public:
        connection.execute(text(f"GRANT EXECUTE ON FUNCTION {API_SCHEMA}.{name} TO {APP_ROLE}"))


def owns_registry(connection) -> bool:
    """Whether this PostgreSQL login owns the registry's tables (and so may run :func:`install`)."""
    if connection.dialect.name != "postgresql":
        return False
    return bool(connection.execute(text(
        "SELECT pg_has_role(current_user, c.relowner, 'USAGE') FROM pg_class c "
        "WHERE c.oid = to_regclass('alembic_version')")).scalar())


def guarded(session) -> bool:
    """Whether this registry's writes must go through the guarded functions (PostgreSQL)."""
    return session.get_bind().dialect.name == "postgresql"


_BY_NAME = {operation.name: operation for operation in OPERATIONS}


def call(session, function: str, /, **arguments):
    """Run guarded function ``function`` with keyword ``arguments`` in the session's transaction.

    Returns the function's value (a row for functions returning a table). A refusal by
    the database's own role check raises :class:`PermissionDenied`. (``session`` and
    ``function`` are positional so that an argument may be called ``name``.)
    """
    operation = _BY_NAME[function]
    expected = {param for param, _kind in operation.params}
    if set(arguments) != expected:
        raise TypeError(f"{function} takes {sorted(expected)}, not {sorted(arguments)}")
    listed = ", ".join(f"p_{param} => :{param}" for param, _kind in operation.params)
    statement = text(f"SELECT * FROM {API_SCHEMA}.{function}({listed})")
    result = _execute(session, statement, arguments)
    return result.one() if operation.returns.startswith("TABLE") else result.scalar_one()


def append_event(session, *, action: str, subject: str, payload_json: str):
    """Append an audit event through the database (see the module docstring); returns
    ``(seq, created_at, prev_hash, hash)``."""
    statement = text(f"SELECT * FROM {API_SCHEMA}.append_event(:action, :subject, :payload)")
    return _execute(session, statement, {"action": action, "subject": subject, "payload": payload_json}).one()


def _execute(session, statement, parameters):
    try:
        return session.execute(statement, parameters)
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) == INSUFFICIENT_PRIVILEGE:
            diag = getattr(error.orig, "diag", None)
            message = getattr(diag, "message_primary", None) or str(error.orig).splitlines()[0]
            raise PermissionDenied(f"the registry database refused: {message}",
                                   hint="An admin can grant the role: modelgate users add NAME --role ROLE") from None
        raise
