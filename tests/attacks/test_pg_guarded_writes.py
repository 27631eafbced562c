"""With PostgreSQL, the writes added after the guarded functions go through them too.

Trusting a CA, revoking a certificate and recording a certificate signature work for
ordinary logins (members of the group role only) holding the registry role, and the
database refuses them to a login without it, through ModelGate with its own role
checks cut out as with a plain SQL console. What the database can check about a
certificate signature (the path it names, the CA, revocations, who signs) it checks
itself.
"""

from __future__ import annotations

import json

import pytest
from psycopg import errors, sql

from modelgate.core.registry import PermissionDenied, identity, pgwrites
from modelgate.core.registry.certificates import revoke_certificate, trust_ca, trusted_certificates
from modelgate.core.registry.signatures import sign_version, verify_version
from modelgate.core.signing.certificates import certificate_fingerprint
from tests.attacks._pg_privileges_support import PgTeam
from tests.attacks._signature_vectors import PASSPHRASE, make_pki, pem
from tests.registry_support import NAME, new_bundle

ADMIN = "ada"        # an ordinary login holding the admin role
SIGNER = "officer"   # an ordinary login holding the signer role, named by the signing certificate


@pytest.fixture
def pg_team(pg_server, pg_url, tmp_path, template):
    team = PgTeam(server=pg_server, url=pg_url, store=tmp_path / "store")
    for name, roles in ((ADMIN, ["admin"]), (SIGNER, ["signer"])):
        pg_server.create_role(name, database=team.database)
        team(team.owner).add_user(name=name, roles=roles)
    team("ana").import_bundle(path=new_bundle(tmp_path, template))
    yield team
    team.close()


@pytest.fixture
def pki(tmp_path):
    authority = make_pki(tmp_path / "pki")
    authority.leaf = authority.issue(subject=SIGNER)
    authority.leaf_file()
    return authority


def _sign(team, pki, who: str = SIGNER):
    return sign_version(team(who), name=NAME, version="1.0.0", key=pki.key_file, passphrase=PASSPHRASE,
                        signer=SIGNER, certificate=pki.leaf_file(), chain=(pki.intermediate_file,))


def call(connection, function: str, *args):
    placeholders = sql.SQL(", ").join(sql.Placeholder() * len(args))
    statement = sql.SQL("SELECT * FROM {}.{}({})").format(
        sql.Identifier(pgwrites.API_SCHEMA), sql.Identifier(function), placeholders)
    return connection.execute(statement, args).fetchall()


def _fingerprints(*certificates) -> list[str]:
    return [certificate_fingerprint(c) for c in certificates]


# ------------------------------------------------------------------ through ModelGate

def test_ordinary_logins_trust_sign_and_revoke_through_the_database(pg_team, pki):
    # No login but the owner holds a write right; each step below is a guarded function.
    assert pg_team.owner_query(
        "SELECT count(*) FROM information_schema.table_privileges WHERE grantee = %s "
        "AND privilege_type <> 'SELECT'", (pgwrites.APP_ROLE,)) == [(0,)]
    (added,) = trust_ca(pg_team(ADMIN), name="example", path=pki.ca_file)
    assert added.added_by == ADMIN and added.fingerprint == certificate_fingerprint(pki.root)

    recorded = _sign(pg_team, pki)
    assert [(s.signer, s.verified) for s in recorded] == [(SIGNER, True)]
    assert pg_team.owner_query("SELECT signer, recorded_by, key_fingerprint FROM signatures") == [
        (SIGNER, SIGNER, certificate_fingerprint(pki.leaf))]

    info = revoke_certificate(pg_team(ADMIN), certificate=str(pki.intermediate_file), reason="key compromised")
    assert info.revoked_at is not None and info.revoke_reason == "key compromised"
    assert pg_team.owner_query("SELECT is_ca, added_by, revoked_by FROM trusted_certificates "
                               "WHERE fingerprint = %s", (certificate_fingerprint(pki.intermediate),)) == [
        (False, ADMIN, ADMIN)]
    assert pg_team.owner_query("SELECT verified FROM signatures") == [(False,)]
    assert not verify_version(pg_team(ADMIN), name=NAME, version="1.0.0").passed

    events = [e for e in pg_team(ADMIN).audit_log() if e.action.startswith(("certificate.", "signature."))]
    assert sorted((e.action, e.actor) for e in events) == [
        ("certificate.revoke", ADMIN), ("certificate.trust", ADMIN), ("signature.add", SIGNER)]
    assert [e.payload["signatures_withdrawn"] for e in events if e.action == "certificate.revoke"] == [1]
    assert pg_team("ben").verify_audit().ok


def test_revoking_the_trusted_ca_withdraws_signatures_whose_document_omits_it(pg_team, pki):
    trust_ca(pg_team(ADMIN), name="example", path=pki.ca_file)
    _sign(pg_team, pki)
    (fingerprint,) = [c.fingerprint for c in trusted_certificates(pg_team(ADMIN))]
    info = revoke_certificate(pg_team(ADMIN), certificate=fingerprint[:16], reason="CA retired")
    assert info.is_ca and info.revoked_at is not None
    # The document carries the leaf and the intermediate only: the client found the anchor.
    assert pg_team.owner_query("SELECT verified FROM signatures") == [(False,)]
    assert revoke_certificate(pg_team(ADMIN), certificate=fingerprint, reason="again").revoke_reason == "CA retired"


def test_a_login_without_the_role_is_refused_by_the_database(pg_team, pki, monkeypatch):
    trust_ca(pg_team(ADMIN), name="example", path=pki.ca_file)
    # A client whose own role checks are cut out meets the database's.
    monkeypatch.setattr(identity, "require", lambda session, actor, *roles, **_: identity.roles_of(session, actor))
    other = make_pki(pki.folder.parent / "other", prefix="Other ")
    with pytest.raises(PermissionDenied, match="lacks the admin role"):
        trust_ca(pg_team("ben"), name="mine", path=other.ca_file)
    with pytest.raises(PermissionDenied, match="lacks the admin role"):
        revoke_certificate(pg_team("ben"), certificate=str(pki.ca_file), reason="spite")
    with pytest.raises(PermissionDenied, match="lacks the signer role"):
        _sign(pg_team, pki, who="ben")
    assert pg_team.owner_query("SELECT name, revoked_at FROM trusted_certificates") == [("example", None)]
    assert pg_team.owner_query("SELECT count(*) FROM signatures") == [(0,)]


# --------------------------------------------------------------- with a SQL console

def test_the_new_functions_refuse_callers_without_the_role_or_the_group(pg_team, pki):
    trust_ca(pg_team(ADMIN), name="example", path=pki.ca_file)
    (version_id,) = pg_team.owner_query("SELECT id FROM versions")[0]
    other = make_pki(pki.folder.parent / "other", prefix="Other ")
    attempts = {
        "trust_ca": ("mine", "CN=Other", certificate_fingerprint(other.root), pem(other.root).decode()),
        "revoke_certificate": (certificate_fingerprint(pki.root), "spite", None, None, None, []),
        "record_certificate_signature": (version_id, "ben", certificate_fingerprint(pki.leaf),
                                         _fingerprints(pki.leaf, pki.intermediate, pki.root),
                                         "signatures/ben.sig", "{}"),
    }
    with pg_team.console("ben") as ben:
        for function, args in attempts.items():
            with pytest.raises(errors.InsufficientPrivilege, match="lacks the"), ben.transaction():
                call(ben, function, *args)
    with pg_team.console(pg_team.owner) as owner:
        owner.execute("CREATE ROLE stranger LOGIN")
        owner.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO stranger").format(sql.Identifier(pg_team.database)))
        owner.execute(sql.SQL("INSERT INTO users (name, created_at) VALUES ('stranger', now())"))
        owner.execute("INSERT INTO user_roles (user_id, role) SELECT id, 'admin' FROM users WHERE name = 'stranger'")
    with pg_team.console("stranger") as stranger:  # a registry admin whose login is not in the group
        for function, args in attempts.items():
            with pytest.raises(errors.InsufficientPrivilege, match="permission denied"), stranger.transaction():
                call(stranger, function, *args)
    with pg_team.console(ADMIN) as ada:
        assert_refused_plain_writes(ada)
    assert pg_team.owner_query("SELECT name, revoked_at FROM trusted_certificates") == [("example", None)]
    assert pg_team.owner_query("SELECT count(*) FROM signatures") == [(0,)]


def assert_refused_plain_writes(connection) -> None:
    for statement in ("UPDATE trusted_certificates SET revoked_at = NULL",
                      "INSERT INTO trusted_certificates (name, subject, fingerprint, certificate, is_ca, "
                      "added_by, created_at) VALUES ('x', 'x', 'x', 'x', true, 'x', now())",
                      "UPDATE signatures SET verified = true"):
        with pytest.raises(errors.InsufficientPrivilege), connection.transaction():
            connection.execute(statement)


def test_a_trusted_ca_is_exactly_the_certificate_it_holds(pg_team, pki):
    other = make_pki(pki.folder.parent / "other", prefix="Other ")
    root_pem = pem(pki.root).decode()
    with pg_team.console(ADMIN) as ada:
        for fingerprint, certificate in ((certificate_fingerprint(other.root), root_pem),  # another's fingerprint
                                         (certificate_fingerprint(pki.root), root_pem + root_pem),  # two
                                         (certificate_fingerprint(pki.root), "not a certificate"),
                                         (certificate_fingerprint(pki.root), None)):
            with pytest.raises(errors.InvalidParameterValue, match="does not match"), ada.transaction():
                call(ada, "trust_ca", "example", "CN=Example", fingerprint, certificate)
        with pytest.raises(errors.InvalidParameterValue, match="does not match"), ada.transaction():
            # A certificate never trusted is revoked with its own bytes only, too.
            call(ada, "revoke_certificate", certificate_fingerprint(other.leaf), "gone", "x", "CN=x", root_pem, [])
        for name, subject in ((" ", "CN=Example"), ("example", ""), (None, "CN=Example")):
            with pytest.raises(errors.InvalidParameterValue, match="name and a subject"), ada.transaction():
                call(ada, "trust_ca", name, subject, certificate_fingerprint(pki.root), root_pem)
        (row,) = call(ada, "trust_ca", "example", "CN=Example", certificate_fingerprint(pki.root), root_pem)
    assert pg_team.owner_query("SELECT id, added_by, is_ca FROM trusted_certificates") == [(row[0], ADMIN, True)]


@pytest.fixture
def recorded(pg_team, pki):
    """The example CA trusted by the admin login, a signature recorded, and its row's values."""
    trust_ca(pg_team(ADMIN), name="example", path=pki.ca_file)
    _sign(pg_team, pki)
    ((version_id, document),) = pg_team.owner_query("SELECT version_id, document FROM signatures")
    return version_id, document


def test_the_database_holds_a_certificate_signature_to_what_it_can_check(pg_team, pki, recorded):
    version_id, document = recorded
    leaf, path = certificate_fingerprint(pki.leaf), _fingerprints(pki.leaf, pki.intermediate, pki.root)
    stranger = make_pki(pki.folder.parent / "stranger", prefix="Stranger ")
    bare = json.loads(document)
    del bare["verificationMaterial"]["x509CertificateChain"]
    refusals = {
        "the path leads to no trusted CA": (
            errors.InsufficientPrivilege, "no trusted CA",
            (SIGNER, leaf, [leaf, certificate_fingerprint(pki.intermediate),
                            certificate_fingerprint(stranger.root)], document)),
        "the path leaves out a certificate the document carries": (
            errors.InvalidParameterValue, "does not match",
            (SIGNER, leaf, [leaf, certificate_fingerprint(stranger.intermediate),
                            certificate_fingerprint(pki.root)], document)),
        "the signing certificate is not the one the document carries": (
            errors.InvalidParameterValue, "does not match",
            (SIGNER, certificate_fingerprint(stranger.leaf),
             [certificate_fingerprint(stranger.leaf), *path[1:]], document)),
        "the path does not start at the signing certificate": (
            errors.InvalidParameterValue, "does not match",
            (SIGNER, leaf, [path[1], path[0], path[2]], document)),
        "the document carries no certificate": (
            errors.InvalidParameterValue, "does not match", (SIGNER, leaf, path, json.dumps(bare))),
        "the signer is someone else without the signer role": (
            errors.InsufficientPrivilege, "neither the caller", ("ben", leaf, path, document)),
    }
    with pg_team.console(SIGNER) as officer:
        for what, (error, message, (signer, fingerprint, chain, text)) in refusals.items():
            with pytest.raises(error, match=message), officer.transaction():
                call(officer, "record_certificate_signature", version_id, signer, fingerprint, chain,
                     "signatures/x.sig", text)
                pytest.fail(what)
        # The same values, honestly named, are accepted: the refusals above are the checks.
        call(officer, "record_certificate_signature", version_id, SIGNER, leaf, path, "signatures/x.sig", document)
    assert pg_team.owner_query("SELECT count(*) FROM signatures") == [(2,)]


def test_a_revoked_certificate_on_the_path_is_refused_by_the_database(pg_team, pki, recorded):
    version_id, document = recorded
    path = _fingerprints(pki.leaf, pki.intermediate, pki.root)
    with pg_team.console(ADMIN) as ada:
        call(ada, "revoke_certificate", path[0], "lost laptop", SIGNER, "CN=officer", pem(pki.leaf).decode(), [])
    with pg_team.console(SIGNER) as officer:
        with pytest.raises(errors.InsufficientPrivilege, match="revoked"):
            call(officer, "record_certificate_signature", version_id, SIGNER, path[0], path,
                 "signatures/x.sig", document)


def test_the_database_withdraws_signatures_whose_own_chain_holds_the_revoked_certificate(pg_team, pki, recorded):
    """An admin client that passes no signature to withdraw still withdraws those the document shows."""
    intermediate = certificate_fingerprint(pki.intermediate)
    with pg_team.console(ADMIN) as ada:
        with pytest.raises(errors.InvalidParameterValue, match="needs a reason"), ada.transaction():
            call(ada, "revoke_certificate", intermediate, " ", "Example Signing CA", "CN=Example Signing CA",
                 pem(pki.intermediate).decode(), [])
        ((_, withdrawn),) = call(ada, "revoke_certificate", intermediate, "compromised", "Example Signing CA",
                                 "CN=Example Signing CA", pem(pki.intermediate).decode(), [])
    assert withdrawn == 1
    assert pg_team.owner_query("SELECT verified FROM signatures") == [(False,)]
    assert pg_team.owner_query("SELECT is_ca, revoked_by FROM trusted_certificates WHERE fingerprint = %s",
                               (intermediate,)) == [(False, ADMIN)]


# ------------------------------------------------------------- users: revoke, remove, reinstate

def test_an_admin_login_revokes_removes_and_reinstates_users(pg_team):
    ada = pg_team(ADMIN)
    assert ada.revoke_roles(name="ben", roles=["reviewer"]).roles == []
    removed = ada.remove_user(name="carl")
    assert removed.removed_by == ADMIN and removed.removed_at is not None
    assert pg_team.roles_of("carl") == []
    assert ada.add_user(name="carl", roles=["reviewer"]).roles == ["reviewer"]
    assert pg_team.owner_query("SELECT removed_at, removed_by FROM users WHERE name = 'carl'") == [(None, None)]
    events = [(e.action, e.actor, e.subject) for e in ada.audit_log() if e.action.startswith("user.")
              and e.actor == ADMIN]
    assert sorted(events) == [("user.reinstated", ADMIN, "carl"), ("user.removed", ADMIN, "carl"),
                              ("user.roles_granted", ADMIN, "carl"), ("user.roles_revoked", ADMIN, "ben")]
    assert pg_team("ana").verify_audit().ok


def test_user_changes_are_refused_to_a_login_without_the_admin_role(pg_team, monkeypatch):
    monkeypatch.setattr(identity, "require", lambda session, actor, *roles, **_: identity.roles_of(session, actor))
    with pytest.raises(PermissionDenied, match="lacks the admin role"):
        pg_team("ben").revoke_roles(name="carl", roles=["approver"])
    with pytest.raises(PermissionDenied, match="lacks the admin role"):
        pg_team("ben").remove_user(name="carl")
    pg_team(ADMIN).remove_user(name="dora")
    with pg_team.console("ben") as ben:
        for function, args in {"reinstate_user": ("dora",), "revoke_roles": ("carl", ["approver"]),
                               "remove_user": ("carl",)}.items():
            with pytest.raises(errors.InsufficientPrivilege, match="lacks the admin role"), ben.transaction():
                call(ben, function, *args)
    assert pg_team.roles_of("carl") == ["approver"]
    assert pg_team.owner_query("SELECT removed_by FROM users WHERE name IN ('carl', 'dora') ORDER BY name") == [
        (None,), (ADMIN,)]


def test_the_database_keeps_the_last_admin_and_keeps_removed_users_out(pg_team):
    pg_team(ADMIN).remove_user(name=pg_team.owner)   # ada is now the only admin
    with pg_team.console(ADMIN) as ada:
        with pytest.raises(errors.ObjectNotInPrerequisiteState, match="last admin"), ada.transaction():
            call(ada, "revoke_roles", ADMIN, ["admin", "signer"])
        with pytest.raises(errors.ObjectNotInPrerequisiteState, match="last admin"), ada.transaction():
            call(ada, "remove_user", ADMIN)
        for function, args in (("remove_user", ("nobody-here",)), ("revoke_roles", ("carl", ["overlord"])),
                               ("revoke_roles", ("nobody-here", ["approver"]))):
            with pytest.raises(errors.InvalidParameterValue), ada.transaction():
                call(ada, function, *args)
        call(ada, "remove_user", "carl")
        with pytest.raises(errors.InvalidParameterValue, match="no such user"), ada.transaction():
            call(ada, "remove_user", "carl")   # once removed, removed
        # A removed user gets roles back only through reinstate_user (which the client audits).
        with pytest.raises(errors.InvalidParameterValue, match="reinstate"), ada.transaction():
            call(ada, "grant_roles", "carl", ["approver"])
        call(ada, "reinstate_user", "carl")
        call(ada, "grant_roles", "carl", ["approver"])
    assert pg_team.roles_of(ADMIN) == ["admin"] and pg_team.roles_of("carl") == ["approver"]


@pytest.mark.parametrize("name", ["Eve", "eVE", "\uff45ve", "e\u0301ve"])
def test_the_database_takes_new_user_names_only_in_canonical_form(pg_team, name):
    with pg_team.console(ADMIN) as ada:
        with pytest.raises(errors.InvalidParameterValue, match="canonical"), ada.transaction():
            call(ada, "grant_roles", name, ["reviewer"])
        call(ada, "grant_roles", identity.canonical_name(name), ["reviewer"])
    assert pg_team.roles_of(identity.canonical_name(name)) == ["reviewer"]
    assert pg_team.owner_query("SELECT count(*) FROM users WHERE name = %s", (name,)) == [(0,)]


# ---------------------------------------------------------------- store damage and repair

def _damage_the_store(team) -> None:
    import os

    stored = team(ADMIN).bundle_path(name=NAME, version="1.0.0")
    os.chmod(stored, 0o755)
    (stored / "smuggled.txt").write_text("not imported")


def test_any_registry_user_marks_damage_and_an_admin_login_repairs_it(pg_team, tmp_path, template):
    from modelgate.core.registry.damage import fsck, repair

    _damage_the_store(pg_team)
    report = fsck(pg_team("ben"))
    assert [(d.ref, d.newly) for d in report.damaged] == [(f"{NAME}@1.0.0", True)]
    assert pg_team.owner_query("SELECT found_by FROM store_damage") == [("ben",)]
    assert not fsck(pg_team("dora")).damaged[0].newly   # marked once, findings refreshed
    assert pg_team.owner_query("SELECT found_by FROM store_damage") == [("ben",)]
    result = repair(pg_team(ADMIN), name=NAME, version="1.0.0", bundle=tmp_path / "bundle-1.0.0")
    assert result.repaired
    assert pg_team.owner_query("SELECT count(*) FROM store_damage") == [(0,)]
    actions = [(e.action, e.actor) for e in pg_team(ADMIN).audit_log() if e.action.startswith("store.")]
    assert sorted(actions) == [("store.damaged", "ben"), ("store.fsck", "ben"), ("store.fsck", "dora"),
                               ("store.repaired", ADMIN)]
    assert pg_team("ana").verify_audit().ok


def test_damage_marks_are_refused_to_logins_without_the_roles(pg_team, pg_server):
    (version_id,) = pg_team.owner_query("SELECT id FROM versions")[0]
    pg_server.create_role("nobody", database=pg_team.database)   # in the group, no registry role
    with pg_team.console("nobody") as nobody:
        with pytest.raises(errors.InsufficientPrivilege), nobody.transaction():
            call(nobody, "mark_damaged", version_id, '{"missing": []}')
        for action in ("store.fsck", "store.damaged", "audit.checkpoint_key"):
            with pytest.raises(errors.InsufficientPrivilege), nobody.transaction():
                call(nobody, "append_event", action, "store", "{}")
    with pg_team.console("ben") as ben:
        call(ben, "mark_damaged", version_id, '{"changed": ["model/model.onnx"]}')
        with pytest.raises(errors.InsufficientPrivilege, match="lacks the admin role"), ben.transaction():
            call(ben, "clear_damage", version_id)
        with pytest.raises(errors.InvalidParameterValue), ben.transaction():
            call(ben, "mark_damaged", version_id, '["not", "an", "object"]')
        for action in ("store.fsck", "audit.checkpoint_key"):
            call(ben, "append_event", action, "store", "{}")
        for action in ("store.repaired", "store.repair.refused", "rollback.break-glass"):
            with pytest.raises(errors.InsufficientPrivilege), ben.transaction():
                call(ben, "append_event", action, "store", "{}")
    assert pg_team.owner_query("SELECT found_by FROM store_damage") == [("ben",)]


# ----------------------------------------------------------------------- rollback, checkpoints

def test_a_break_glass_move_is_an_admins_alone(pg_team):
    (version_id,) = pg_team.owner_query("SELECT id FROM versions")[0]
    with pg_team.console("carl") as carl:   # an approver may move versions, not break the glass
        with pytest.raises(errors.InsufficientPrivilege, match="break-glass"), carl.transaction():
            call(carl, "move_version", version_id, "production", "break-glass", "outage", None)
    with pg_team.console(ADMIN) as ada:
        assert call(ada, "move_version", version_id, "production", "break-glass", "outage", None) == [("draft",)]
    assert pg_team.owner_query("SELECT kind, actor FROM promotions") == [("break-glass", ADMIN)]


def test_a_checkpoint_falling_due_on_an_ordinary_login_records_its_key(pg_team, monkeypatch):
    from modelgate.core.registry import workflow

    monkeypatch.setenv("MODELGATE_AUDIT_CHECKPOINT_EVERY", "1")
    workflow.review(pg_team("ben"), name=NAME, version="1.0.0", decision="approve", comment="numbers ok")
    assert pg_team.owner_query("SELECT actor FROM audit_events WHERE action = 'audit.checkpoint_key'") == [
        ("ben",)]
    assert pg_team("ben").verify_audit().ok


def test_revoking_a_certificate_never_withdraws_a_key_signature(pg_team, pki, recorded, tmp_path):
    from modelgate.core.registry.signatures import trust_key
    from tests.factory import PASSPHRASE as KEY_PASSPHRASE
    from tests.factory import signing_key

    key = signing_key(tmp_path / "keys", "dora")
    trust_key(pg_team(ADMIN), name="dora", public_key=key.with_suffix(".pub"))
    assert [s.signer for s in sign_version(pg_team("dora"), name=NAME, version="1.0.0", key=key,
                                           passphrase=KEY_PASSPHRASE, signer="dora")] == ["dora"]
    ((key_signature,),) = pg_team.owner_query("SELECT id FROM signatures WHERE signer = 'dora'")
    with pg_team.console(ADMIN) as ada:   # an admin client naming the key signature among those to withdraw
        ((_, withdrawn),) = call(ada, "revoke_certificate", certificate_fingerprint(pki.intermediate), "compromised",
                                 "Example Signing CA", "CN=Example Signing CA", pem(pki.intermediate).decode(),
                                 [key_signature])
    assert withdrawn == 1
    assert pg_team.owner_query("SELECT signer, verified FROM signatures ORDER BY id") == [
        (SIGNER, False), ("dora", True)]


def test_the_migration_adds_the_functions_and_its_downgrade_takes_them_away(pg_url):
    from alembic import command

    from modelgate.core.registry import database

    added = {"trust_ca", "revoke_certificate", "record_certificate_signature", "reinstate_user", "revoke_roles",
             "remove_user", "mark_damaged", "clear_damage", "_pem_fingerprint", "_chain_of", "_last_admin"}

    def functions(connection) -> set[str]:
        return set(connection.exec_driver_sql(
            "SELECT proname FROM pg_proc WHERE pronamespace = 'modelgate_api'::regnamespace").scalars())

    engine = database.create_registry_engine(pg_url)
    try:
        with database.writer(engine).begin() as connection:
            command.upgrade(database.alembic_config(connection), "0008")
            assert added <= functions(connection)
            command.downgrade(database.alembic_config(connection), "0007")
            assert not added & functions(connection)
            assert "grant_roles" in functions(connection)
            command.upgrade(database.alembic_config(connection), "0008")
            assert added <= functions(connection)
    finally:
        engine.dispose()
