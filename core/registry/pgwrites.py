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
1. Declare an :class:`Operation` in :data:`.pg_operations.OPERATIONS`: its name, parameters
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

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from modelgate.core.registry.database import INSUFFICIENT_PRIVILEGE
from modelgate.core.registry.errors import PermissionDenied, RegistryError
from modelgate.core.registry.pg_operations import (  # noqa: F401  (part of this module's API)
    _ROLES, ANY_USER, ANYONE, API_SCHEMA, APP_ROLE, EVENT_ONLY, FREE_EVENTS, Operation, _sql_array,
)
from modelgate.core.registry.pg_operations import OPERATIONS as _CORE_OPERATIONS
from modelgate.core.registry.pg_attestation_operations import ATTESTATION_OPERATIONS

#: Every guarded write, as installed.
OPERATIONS = _CORE_OPERATIONS + ATTESTATION_OPERATIONS


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
