"""Who acts, which roles they hold, and refusals that are recorded."""

from __future__ import annotations

import pytest

from modelgate.core.registry import (
    IdentityError,
    PermissionDenied,
    RegistryError,
    init_registry,
    open_registry,
)
from modelgate.core.registry import identity


def test_the_first_user_becomes_admin(admin_registry, backend):
    assert admin_registry.actor == backend.admin
    assert [(u.name, u.roles) for u in admin_registry.users()] == [(backend.admin, ["admin"])]
    first = admin_registry.audit_log()[0]
    assert (first.seq, first.action, first.subject, first.payload) == (
        1, "user.added", backend.admin, {"roles": ["admin"]})


def test_init_again_is_harmless_for_the_admin_and_refused_to_others(admin_registry, backend):
    url, user = backend.login(backend.admin)
    init_registry(url=url, user=user, store=backend.store).close()
    assert len(admin_registry.audit_log()) == 1
    url, user = backend.login("bob")
    with pytest.raises(RegistryError, match="a registry already exists .*admins: " + backend.admin):
        init_registry(url=url, user=user, store=backend.store)


def test_admins_add_users_and_grant_more_roles(admin_registry):
    bob = admin_registry.add_user(name="bob", roles=["reviewer"])
    assert (bob.name, bob.roles) == ("bob", ["reviewer"])
    bob = admin_registry.add_user(name="bob", roles=["approver", "reviewer"])
    assert bob.roles == ["reviewer", "approver"]
    admin_registry.add_user(name="bob", roles=["reviewer"])  # nothing new: no event
    actions = [(e.action, e.subject, e.payload) for e in admin_registry.audit_log()[1:]]
    assert actions == [("user.added", "bob", {"roles": ["reviewer"]}),
                       ("user.roles_granted", "bob", {"added": ["approver"],
                                                      "roles": ["reviewer", "approver"]})]


def test_unknown_roles_and_bad_names_are_refused(admin_registry):
    with pytest.raises(RegistryError, match="unknown role 'owner'"):
        admin_registry.add_user(name="bob", roles=["owner"])
    with pytest.raises(RegistryError, match="no role given"):
        admin_registry.add_user(name="bob", roles=[])
    with pytest.raises(RegistryError, match="not a usable user name"):
        admin_registry.add_user(name="bob smith", roles=["reviewer"])
    assert [u.name for u in admin_registry.users()] == [admin_registry.actor]


def test_a_non_admin_cannot_add_users_and_the_refusal_is_audited(admin_registry, backend):
    admin_registry.add_user(name="bob", roles=["reviewer"])
    with backend.open("bob") as bob:
        with pytest.raises(PermissionDenied) as caught:
            bob.add_user(name="eve", roles=["admin"])
    assert caught.value.exit_code == 1
    assert str(caught.value) == "bob lacks the admin role needed to add users eve"
    assert "modelgate users add bob --role admin" in caught.value.hint
    assert [u.name for u in admin_registry.users()] == sorted([admin_registry.actor, "bob"])
    denied = admin_registry.audit_log()[-1]
    assert (denied.actor, denied.action, denied.subject) == ("bob", "denied", "eve")
    assert denied.payload == {"wanted": ["admin"], "action": "add users", "held": ["reviewer"]}
    assert admin_registry.verify_audit().ok


def test_a_missing_role_is_refused_and_recorded_even_though_the_work_is_rolled_back(admin_registry):
    from modelgate.core.registry.models import Model

    with pytest.raises(PermissionDenied, match="carol lacks the reviewer or approver role needed to "
                                               "review m@1"):
        with admin_registry.session() as session:
            session.add(Model(name="made-before-the-check"))
            session.flush()
            identity.require(session, "carol", "reviewer", "approver", action="review", subject="m@1")
    assert admin_registry.count_versions() == 0
    with admin_registry.session(write=False) as session:
        assert session.query(Model).count() == 0
    event = admin_registry.audit_log()[-1]
    # PostgreSQL records the database login as the actor, whoever the code names.
    actor = admin_registry.actor if admin_registry.dialect == "postgresql" else "carol"
    assert (event.actor, event.action, event.payload["wanted"]) == (actor, "denied", ["reviewer", "approver"])


def test_admins_pass_every_role_check(admin_registry):
    with admin_registry.session() as session:
        assert identity.require(session, admin_registry.actor, "signer", action="sign") == ["admin"]


def test_sqlite_acts_as_the_named_user_or_the_login(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/r.db"
    monkeypatch.setattr(identity.getpass, "getuser", lambda: "os-login")
    with init_registry(url=url) as registry:
        assert registry.actor == "os-login"
    with open_registry(url=url, user="dana") as registry:
        assert registry.actor == "dana"
        assert registry.roles() == []
        assert registry.roles(name="os-login") == ["admin"]


def test_postgresql_acts_as_the_database_login(pg_url, pg_server, tmp_path):
    from sqlalchemy import make_url

    with init_registry(url=pg_url, store=tmp_path) as registry:
        assert registry.actor == "modelgate"
        registry.add_user(name="alice", roles=["reviewer"])
    alice_url = pg_server.create_role("alice", database=make_url(pg_url).database)
    with open_registry(url=alice_url, user="alice", store=tmp_path) as alice:
        assert alice.actor == "alice" and alice.roles() == ["reviewer"]


def test_postgresql_refuses_to_act_as_someone_else(pg_url, pg_server, tmp_path):
    from sqlalchemy import make_url

    init_registry(url=pg_url, store=tmp_path).close()
    alice_url = pg_server.create_role("alice", database=make_url(pg_url).database)
    with pytest.raises(IdentityError, match="logged in to the registry database as alice; acting as "
                                            "modelgate is not allowed") as caught:
        open_registry(url=alice_url, user="modelgate", store=tmp_path)
    assert caught.value.exit_code == 2


def test_on_a_registry_without_users_the_first_to_add_one_becomes_admin(tmp_path):
    url = f"sqlite:///{tmp_path}/r.db"
    with open_registry(url=url, user="first", create=True) as registry:
        assert registry.users() == []
        registry.add_user(name="second", roles=["reviewer"])
        assert [(u.name, u.roles) for u in registry.users()] == [("first", ["admin"]),
                                                                 ("second", ["reviewer"])]
        assert [e.action for e in registry.audit_log()] == ["user.added", "user.added"]
