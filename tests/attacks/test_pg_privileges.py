"""With PostgreSQL a registry user's own database login cannot write behind ModelGate's back.

Each person logs in as themself and is a member of the group role only. Through
ModelGate the whole workflow works; with a SQL console and the same credentials,
every plain write on every table is refused, the guarded functions refuse whoever
lacks the role, and the audit chain can only grow, one correctly linked event at a time.
"""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors, sql
from sqlalchemy import make_url

from modelgate.core.registry import PermissionDenied, audit, pgwrites, workflow
from modelgate.core.registry.policies import policy_info, set_policy
from modelgate.core.registry.queue import work_queue
from modelgate.core.registry.signatures import revoke_key, sign_version, trust_key, trusted_keys
from tests.attacks._pg_privileges_support import PgTeam
from tests.factory import PASSPHRASE, policy_file, signing_key
from tests.registry_support import NAME, new_bundle

#: Tables the registry had before this defence; the test covers every table it finds.
CORE_TABLES = {"users", "user_roles", "models", "versions", "validation_runs", "reviews", "promotions",
               "signatures", "trusted_keys", "audit_events", "chain_head", "policies", "alembic_version"}


@pytest.fixture
def pg_team(pg_server, pg_url, tmp_path):
    team = PgTeam(server=pg_server, url=pg_url, store=tmp_path / "store")
    yield team
    team.close()


@pytest.fixture
def candidate(pg_team, tmp_path, template):
    """Version 1.0.0 imported by ana, approved by ben and promoted to candidate by carl."""
    pg_team("ana").import_bundle(path=new_bundle(tmp_path, template))
    workflow.review(pg_team("ben"), name=NAME, version="1.0.0", decision="approve", comment="card and numbers ok")
    workflow.promote(pg_team("carl"), name=NAME, version="1.0.0", to_stage="candidate")
    return "1.0.0"


def refused(connection, statement, params=()) -> bool:
    """Whether ``statement`` is refused for lack of a privilege (the transaction is rolled back)."""
    try:
        with connection.transaction():
            connection.execute(statement, params)
    except errors.InsufficientPrivilege:
        return True
    return False


# --------------------------------------------------------------------------- the workflow

def test_the_whole_workflow_runs_through_the_guarded_functions(pg_team, candidate, tmp_path, template):
    owner = pg_team(pg_team.owner)
    # The logins hold no write right at all, so every step below went through a function.
    assert pg_team.owner_query(
        "SELECT count(*) FROM information_schema.table_privileges WHERE grantee = %s "
        "AND privilege_type <> 'SELECT'", (pgwrites.APP_ROLE,)) == [(0,)]

    detail = pg_team("ben").show(name=NAME, version=candidate)
    assert detail.info.stage == "candidate"
    assert [(r.reviewer, r.decision) for r in detail.reviews] == [("ben", "approve")]
    assert [(p.actor, p.to_stage) for p in detail.promotions] == [("carl", "candidate")]
    assert detail.validations and all(v.actor == "carl" for v in detail.validations)

    keys = tmp_path / "keys"
    key = signing_key(keys, "dora")
    trust_key(owner, name="dora", public_key=key.with_suffix(".pub"))
    signed = sign_version(pg_team("dora"), name=NAME, version=candidate, key=key, passphrase=PASSPHRASE,
                          signer="dora")
    assert [s.signer for s in signed] == ["dora"]
    assert pg_team.owner_query("SELECT recorded_by FROM signatures") == [("dora",)]

    (tmp_path / "policy").mkdir()
    stricter = policy_file(tmp_path / "policy", lambda data: data.update(name="stricter"))
    assert set_policy(owner, path=stricter).set_by == pg_team.owner
    assert policy_info(pg_team("ben")).name == "stricter"

    (fingerprint,) = [k.fingerprint for k in trusted_keys(owner)]
    assert revoke_key(owner, fingerprint=fingerprint, reason="left the team").revoke_reason == "left the team"

    pg_team("ana").import_bundle(path=new_bundle(tmp_path, template, version="1.1.0"))
    queue = work_queue(pg_team("ben"))
    assert any(item.version == "1.1.0" for item in queue.items)

    owner.add_user(name="ben", roles=["approver"])
    assert pg_team.roles_of("ben") == ["approver", "reviewer"]

    verdict = pg_team("carl").verify_audit()
    assert verdict.ok and verdict.checked == pg_team.head()[0]
    events = owner.audit_log()
    assert {"version.imported", "review.approve", "validation.run", "promote", "key.trust",
            "signature.add", "policy.set", "key.revoke", "user.roles_granted"} <= {e.action for e in events}
    assert all(e.actor == pg_team.owner for e in events if e.action.startswith(("user.", "key.", "policy.")))


def test_a_role_missing_in_python_is_also_missing_in_the_database(pg_team, candidate):
    with pytest.raises(PermissionDenied):
        workflow.promote(pg_team("ben"), name=NAME, version=candidate, to_stage="staging")
    assert pg_team("ben").verify_audit().ok
    assert pg_team.owner_query("SELECT actor, action FROM audit_events ORDER BY seq DESC LIMIT 1") == [
        ("ben", "denied")]


# ------------------------------------------------------------------- plain SQL on the tables

def test_plain_writes_on_every_table_are_refused_to_a_reviewer_login(pg_team, candidate):
    tables = pg_team.registry_tables()
    assert CORE_TABLES <= set(tables)
    with pg_team.console("ben") as ben:
        for table in tables:
            name = sql.Identifier(table)
            column = ben.execute(sql.SQL("SELECT * FROM {} LIMIT 0").format(name)).description[0].name
            attempts = {
                "INSERT": sql.SQL("INSERT INTO {} DEFAULT VALUES").format(name),
                "UPDATE": sql.SQL("UPDATE {} SET {} = {}").format(name, sql.Identifier(column),
                                                                  sql.Identifier(column)),
                "DELETE": sql.SQL("DELETE FROM {}").format(name),
                "TRUNCATE": sql.SQL("TRUNCATE {} CASCADE").format(name),
                "SELECT FOR UPDATE": sql.SQL("SELECT 1 FROM {} FOR UPDATE").format(name),
            }
            allowed = [what for what, statement in attempts.items() if not refused(ben, statement)]
            assert not allowed, f"{table}: {allowed} allowed to a reviewer login"
            assert ben.execute(sql.SQL("SELECT count(*) FROM {}").format(name)).fetchone() is not None
    assert pg_team.owner_query("SELECT stage FROM versions") == [("candidate",)]


def test_the_attacks_of_record_are_refused(pg_team, candidate):
    """The three writes reproduced before the defence: an admin role, a stage, the chain head."""
    with pg_team.console("ben") as ben:
        assert refused(ben, "INSERT INTO user_roles (user_id, role) SELECT id, 'admin' FROM users "
                            "WHERE name = 'ben'")
        assert refused(ben, "UPDATE versions SET stage = 'production'")
        assert refused(ben, "UPDATE chain_head SET seq = 1")
        # Becoming the group, or the owner, does not help: the group has no write right and
        # the owner's role is not the login's to take.
        ben.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(pgwrites.APP_ROLE)))
        assert refused(ben, "UPDATE versions SET stage = 'production'")
        with pytest.raises(errors.InsufficientPrivilege):
            ben.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(pg_team.owner)))
    assert pg_team.roles_of("ben") == ["reviewer"]
    assert pg_team.owner_query("SELECT stage FROM versions") == [("candidate",)]


def test_sequences_cannot_be_moved_by_a_login(pg_team, candidate):
    sequences = [row[0] for row in pg_team.owner_query(
        "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()")]
    assert "versions_id_seq" in sequences
    with pg_team.console("ben") as ben:
        for sequence in sequences:
            assert refused(ben, "SELECT nextval(%s)", (sequence,)), sequence
            assert refused(ben, "SELECT setval(%s, 1)", (sequence,)), sequence


# ------------------------------------------------------------------------ the functions

def call(connection, function: str, *args):
    placeholders = sql.SQL(", ").join(sql.Placeholder() * len(args))
    statement = sql.SQL("SELECT * FROM {}.{}({})").format(
        sql.Identifier(pgwrites.API_SCHEMA), sql.Identifier(function), placeholders)
    return connection.execute(statement, args).fetchall()


def test_functions_refuse_a_caller_without_the_role(pg_team, candidate):
    (version_id,) = pg_team.owner_query("SELECT id FROM versions")[0]
    attempts = {
        "grant_roles": ("ben", ["admin"]),
        "set_policy": ("0" * 64, "lax", "policy_format: modelgate.policy/v1\n"),
        "trust_key": ("ben", "ab" * 32, "-----BEGIN PUBLIC KEY-----"),
        "move_version": (version_id, "production", "promote", "because", None),
        "import_version": ("evil", "6.6.6", "a" * 64, "aa/" + "a" * 64, None),
        "record_signature": (version_id, "ben", "ab" * 32, "signatures/ben.sig", "{}"),
        "revoke_key": (1, "spite"),
    }
    with pg_team.console("ben") as ben:
        for function, args in attempts.items():
            with pytest.raises(errors.InsufficientPrivilege), ben.transaction():
                call(ben, function, *args)
    assert pg_team.roles_of("ben") == ["reviewer"]
    assert pg_team.owner_query("SELECT stage FROM versions") == [("candidate",)]
    assert pg_team.owner_query("SELECT count(*) FROM policies") == [(0,)]
    assert pg_team.owner_query("SELECT count(*) FROM models") == [(1,)]


def test_a_review_is_always_recorded_under_the_callers_own_login(pg_team, candidate):
    (version_id,) = pg_team.owner_query("SELECT id FROM versions")[0]
    with pg_team.console("ben") as ben:
        ben.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(pgwrites.APP_ROLE)))
        call(ben, "record_review", version_id, "approve", "looks fine")
    with pg_team.console("ana") as ana:  # the submitter holds no review role
        with pytest.raises(errors.InsufficientPrivilege):
            call(ana, "record_review", version_id, "approve", "my own work is great")
    rows = pg_team.owner_query("SELECT reviewer, roles FROM reviews ORDER BY id")
    assert rows == [("ben", "reviewer"), ("ben", "reviewer")]


def test_internal_helpers_and_logins_outside_the_group_get_nothing(pg_team, pg_server, candidate):
    with pg_team.console("ben") as ben:
        with pytest.raises(errors.InsufficientPrivilege), ben.transaction():
            call(ben, "_require", ["admin"], ["reviewer"], "anything")
        with pytest.raises(errors.InsufficientPrivilege), ben.transaction():
            call(ben, "_roles_of", "ben")
    with pg_team.console(pg_team.owner) as owner:
        owner.execute("CREATE ROLE outsider LOGIN")
        owner.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO outsider").format(
            sql.Identifier(pg_team.database)))
    with pg_team.console("outsider") as outsider:
        assert refused(outsider, "SELECT * FROM users")
        with pytest.raises(errors.InsufficientPrivilege), outsider.transaction():
            call(outsider, "append_event", "denied", "x", "{}")


# ------------------------------------------------------------------------- the audit chain

def test_the_audit_chain_cannot_be_shortened_or_rewritten_by_a_login(pg_team, candidate):
    seq, digest = pg_team.head()
    with pg_team.console("carl") as carl:  # an approver, who may append promotion events
        assert refused(carl, "DELETE FROM audit_events WHERE seq = %s", (seq,))
        assert refused(carl, "UPDATE audit_events SET payload = '{}' WHERE seq = 1")
        assert refused(carl, "INSERT INTO audit_events (seq, created_at, actor, action, subject, payload, "
                             "prev_hash, hash) VALUES (%s, 'now', 'carl', 'promote', 'x', '{}', %s, %s)",
                       (seq + 1, digest, "f" * 64))
        assert refused(carl, "UPDATE chain_head SET seq = %s, hash = %s", (seq - 1, "0" * 64))
        assert refused(carl, "TRUNCATE audit_events, chain_head")
        # The only way in appends after the head, under the caller's login, with a hash the
        # database computes: neither the actor nor the position can be chosen.
        (appended,) = call(carl, "append_event", "promote", f"{NAME}@1.0.0",
                           '{"actor":"ben","seq":1}')
    assert appended[0] == seq + 1 and appended[2] == digest
    assert pg_team.head() == (seq + 1, appended[3])
    assert pg_team.owner_query("SELECT actor FROM audit_events WHERE seq = %s", (seq + 1,)) == [("carl",)]
    assert pg_team("ana").verify_audit().ok


def test_a_login_may_append_only_the_events_of_its_roles(pg_team, candidate):
    seq, _ = pg_team.head()
    with pg_team.console("ben") as ben:
        for action in ("promote", "user.added", "policy.set", "key.trust", "made.up"):
            with pytest.raises(errors.InsufficientPrivilege), ben.transaction():
                call(ben, "append_event", action, "x", "{}")
        with pytest.raises(psycopg.Error), ben.transaction():
            call(ben, "append_event", "denied", "x", "[not json")
        call(ben, "append_event", "review.approve", f"{NAME}@1.0.0", '{"note":"ok"}')
        call(ben, "append_event", "denied", "x", "{}")
    assert pg_team.head()[0] == seq + 2
    assert pg_team("ben").verify_audit().ok


def test_the_database_hashes_events_as_modelgate_verifies_them(pg_team, candidate):
    """Quotes, backslashes, control characters and non-ASCII text hash alike on both sides."""
    subject = 'na"me\\with\ttabs\n\x01\x7f ünïcødé ✓ \u2028'
    payload = audit.canonical_json({"comment": subject, "n": [1, 2.5, None, True], "ß": {"z": "a"}})
    with pg_team.console("ben") as ben:
        (event,) = call(ben, "append_event", "denied", subject, payload)
    seq, created_at, prev_hash, digest = event
    assert digest == audit.event_hash(prev_hash, {
        "seq": seq, "created_at": created_at, "actor": "ben", "action": "denied", "subject": subject,
        "payload": {"comment": subject, "n": [1, 2.5, None, True], "ß": {"z": "a"}}})
    assert pg_team("ben").verify_audit().ok


def test_init_by_the_owner_takes_back_write_rights_granted_by_hand(pg_team, candidate):
    with pg_team.console(pg_team.owner) as owner:
        owner.execute("GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ben")
    with pg_team.console("ben") as ben:
        assert not refused(ben, "UPDATE versions SET stage = stage")
    from modelgate.core.registry import init_registry

    init_registry(url=pg_team.url, store=pg_team.store).close()
    with pg_team.console("ben") as ben:
        assert refused(ben, "UPDATE versions SET stage = stage")
        assert refused(ben, "DELETE FROM audit_events")


def test_the_readme_setup_with_an_owner_who_is_no_superuser(pg_server, tmp_path, template):
    """A database owned by an ordinary login, the group made by the administrator beforehand."""
    from modelgate.core.registry import init_registry, open_registry

    with pg_server.connect() as admin:
        for login in ("registry_owner", "fay"):
            if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (login,)).fetchone():
                admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(login)))
        if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (pgwrites.APP_ROLE,)).fetchone():
            admin.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(pgwrites.APP_ROLE)))
        admin.execute(sql.SQL("GRANT {} TO fay").format(sql.Identifier(pgwrites.APP_ROLE)))
        admin.execute("CREATE DATABASE readme_setup OWNER registry_owner")
    store = tmp_path / "store"
    with init_registry(url=pg_server.url_for("readme_setup", "registry_owner"), store=store) as owner:
        owner.add_user(name="fay", roles=["submitter", "reviewer"])
    with open_registry(url=pg_server.url_for("readme_setup", "fay"), store=store) as fay:
        fay.import_bundle(path=new_bundle(tmp_path, template))
        workflow.review(fay, name=NAME, version="1.0.0", decision="approve", comment="own work, noted")
        with pytest.raises(PermissionDenied):
            workflow.promote(fay, name=NAME, version="1.0.0", to_stage="candidate")
        assert fay.verify_audit().ok
    with pg_server.connect("readme_setup", user="fay") as console:
        assert refused(console, "UPDATE versions SET stage = 'candidate'")
        assert refused(console, "INSERT INTO user_roles (user_id, role) SELECT id, 'approver' FROM users")
        assert refused(console, "DELETE FROM audit_events")


def test_upgrading_a_registry_set_up_with_the_old_grants_takes_them_back(pg_server, pg_url, tmp_path):
    """Before 0006 the README granted the group INSERT and UPDATE; the upgrade revokes them, and
    only the owner may make it."""
    from alembic import command

    from modelgate.core.registry import RegistryError, database, init_registry, open_registry

    engine = database.create_registry_engine(pg_url)
    try:
        with database.writer(engine).begin() as connection:
            command.upgrade(database.alembic_config(connection), "0003")
    finally:
        engine.dispose()
    name = make_url(pg_url).database
    gus_url = pg_server.create_role("gus", database=name)
    with pg_server.connect(name) as owner:
        owner.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO {}; "
                              "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {}").format(
            sql.Identifier(pgwrites.APP_ROLE), sql.Identifier(pgwrites.APP_ROLE)))
    with pg_server.connect(name, user="gus") as gus:
        assert not refused(gus, "UPDATE chain_head SET seq = seq")
    with pytest.raises(RegistryError, match="only its owner may make"):
        open_registry(url=gus_url, store=tmp_path)
    init_registry(url=pg_url, store=tmp_path).close()
    with pg_server.connect(name, user="gus") as gus:
        assert refused(gus, "UPDATE chain_head SET seq = seq")
        assert refused(gus, "INSERT INTO user_roles (user_id, role) VALUES (1, 'admin')")
        assert refused(gus, "SELECT nextval('users_id_seq')")


def test_a_client_with_its_role_checks_cut_out_is_still_refused_by_the_database(
        pg_server, pg_url, tmp_path, monkeypatch, capsys):
    """`modelgate registry init` sets PostgreSQL up; a tampered client meets the database's checks."""
    from modelgate.core.cli.main import main
    from modelgate.core.registry import identity

    def command(url, *argv):
        code = main(["--registry", url, *argv])
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        return code, out + err

    monkeypatch.setenv("MODELGATE_STORE", str(tmp_path / "store"))
    code, said = command(pg_url, "registry", "init")
    assert code == 0 and f"joins the group role {pgwrites.APP_ROLE}" in said
    ben = pg_server.create_role("ben", database=make_url(pg_url).database)
    assert command(pg_url, "users", "add", "ben", "--role", "reviewer")[0] == 0
    monkeypatch.setattr(identity, "require", lambda session, actor, *roles, **_: identity.roles_of(session, actor))
    code, err = command(ben, "users", "add", "ben", "--role", "admin")
    assert code == 1 and "the registry database refused: ben lacks the admin role" in err
    code, err = command(ben, "registry", "policy", "--set", str(policy_file(tmp_path, lambda data: None)))
    assert code == 1 and "refused" in err
    with pg_server.connect(make_url(pg_url).database) as owner:
        held = owner.execute("SELECT r.role FROM user_roles r JOIN users u ON u.id = r.user_id "
                             "WHERE u.name = 'ben'").fetchall()
        policies = owner.execute("SELECT count(*) FROM policies").fetchone()
    assert held == [("reviewer",)] and policies == (0,)


def test_a_login_cannot_plant_objects_beside_the_registrys_tables(pg_team):
    with pg_team.console(pg_team.owner) as owner:   # as PostgreSQL before 15 allowed everyone
        owner.execute("GRANT CREATE ON SCHEMA public TO PUBLIC")
    from modelgate.core.registry import init_registry

    init_registry(url=pg_team.url, store=pg_team.store).close()
    with pg_team.console("ben") as ben:
        assert refused(ben, "CREATE TABLE public.reviews_shadow (id integer)")
        assert refused(ben, "CREATE FUNCTION public.btrim(text) RETURNS text LANGUAGE sql AS 'SELECT ''x'''")


def test_a_version_is_stored_at_its_digest_or_at_one_oci_manifest_digest(pg_team):
    """The guarded import takes the folder store's path of the digest, or an OCI repository
    and manifest digest; any other store path (one that could point a version at other bytes
    by tag, or at a folder elsewhere) is refused."""
    digest = "c" * 64
    manifest = "sha256:" + "d" * 64
    with pg_team.console("ana") as ana:
        ana.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(pgwrites.APP_ROLE)))
        for store_path in ("oci://registry:5000/models/evil:1.0.0", f"oci://registry:5000/models/evil@{manifest} x",
                           "../" + digest, "/srv/elsewhere", "dd/" + digest):
            with pytest.raises(errors.InvalidParameterValue), ana.transaction():
                call(ana, "import_version", "evil", "1.0.0", digest, store_path, None)
        with ana.transaction():
            call(ana, "import_version", "evil", "1.0.0", digest, f"oci://registry:5000/models/evil@{manifest}", None)
            call(ana, "append_event", "version.imported", "evil@1.0.0", "{}")
    assert pg_team.owner_query("SELECT store_path FROM versions") == [(f"oci://registry:5000/models/evil@{manifest}",)]
