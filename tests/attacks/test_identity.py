"""Doubling an identity: look-alike names, a second approval, one key signing twice, and
taking away the last admin."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from modelgate.core.policy.document import load_policy
from modelgate.core.registry import PermissionDenied, RegistryError, WorkflowRefused, workflow
from modelgate.core.registry.gates import tally_approvals
from modelgate.core.registry.identity import canonical_name, check_name
from modelgate.core.registry.signatures import revoke_key, sign_version, trusted_keys
from tests.factory import PASSPHRASE
from tests.registry_support import NAME
from tests.core.registry.test_signing import at_production_gate, signature_gate
from tests.core.registry.test_signing import signers  # noqa: F401  (a fixture)
from tests.cli_support import run

CYRILLIC_A = "\u0430"


@pytest.fixture
def users(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MODELGATE_REGISTRY", f"sqlite:///{tmp_path / 'registry.db'}")
    monkeypatch.setenv("MODELGATE_USER", "root-admin")
    assert run(capsys, "registry", "init")[0] == 0
    assert run(capsys, "users", "add", "carol", "--role", "approver")[0] == 0
    return tmp_path


def test_a_confusable_twin_of_a_user_is_refused(users, capsys):
    code, _, err = run(capsys, "users", "add", f"c{CYRILLIC_A}rol", "--role", "approver")
    assert code == 2 and "looks like the existing user 'carol'" in err
    code, _, err = run(capsys, "users", "add", "\uff43arol", "--role", "approver")  # fullwidth c
    assert code == 0  # NFKC makes it plain "carol": the same user, not a second one
    code, out, _ = run(capsys, "users", "list")
    assert out.count("carol") == 1


def test_names_are_one_canonical_form_wherever_they_enter(users, capsys):
    assert canonical_name("CAROL") == "carol" and check_name("Stra\u00dfe") == "strasse"
    code, out, _ = run(capsys, "users", "add", "CAROL", "--role", "reviewer")
    assert code == 0 and out.strip() == "carol: reviewer, approver"
    code, out, _ = run(capsys, "users", "list", "--user", "Root-Admin")  # --user is normalised too
    assert code == 0 and "root-admin" in out
    with pytest.raises(RegistryError):
        check_name("car\u200bol")  # an invisible zero-width space


@dataclass
class FakeReview:
    id: int
    reviewer: str
    decision: str
    roles: str = "approver"


def test_a_second_approval_by_the_same_person_or_their_twin_counts_once():
    reviews = [FakeReview(1, "carol", "approve"), FakeReview(2, f"c{CYRILLIC_A}rol", "approve"),
               FakeReview(3, "CAROL", "approve"), FakeReview(4, "dave", "approve")]
    tally = tally_approvals(reviews, submitter="alice", roles=("approver",))
    assert len(tally.counted) == 2 and not tally.met(3)
    # The submitter under a look-alike name is still the submitter.
    tally = tally_approvals([FakeReview(1, f"{CYRILLIC_A}lice", "approve")], submitter="alice",
                            roles=("approver",))
    assert tally.counted == () and "submitted" in tally.ignored[0][1]
    # The same person's later reject, under another spelling, replaces their approval.
    tally = tally_approvals([FakeReview(1, "dave", "approve"), FakeReview(2, "DAVE", "reject")],
                            submitter="alice", roles=("approver",))
    assert tally.counted == () and len(tally.blockers) == 1


def test_the_last_admin_can_be_neither_removed_nor_demoted(users, capsys):
    code, _, err = run(capsys, "users", "remove", "root-admin")
    assert code == 1 and "last admin" in err
    code, _, err = run(capsys, "users", "revoke", "root-admin", "--role", "admin")
    assert code == 1 and "last admin" in err
    assert run(capsys, "users", "add", "erin", "--role", "admin")[0] == 0
    assert run(capsys, "users", "revoke", "root-admin", "--role", "admin")[0] == 0
    code, _, err = run(capsys, "users", "remove", "erin", "--user", "erin")
    assert code == 1 and "last admin" in err


def test_a_removed_user_shows_as_removed_and_can_be_reinstated_only_by_an_admin(users, capsys):
    assert run(capsys, "users", "remove", "carol")[0] == 0
    code, out, _ = run(capsys, "users", "list")
    assert code == 0 and "removed" in out.split("carol")[1].splitlines()[0]
    code, _, err = run(capsys, "users", "remove", "carol")
    assert code == 2 and "already removed" in err
    code, _, _ = run(capsys, "users", "add", "carol", "--role", "approver", "--user", "carol")
    assert code == 1  # a removed user cannot even give themselves a role back
    assert run(capsys, "users", "add", "carol", "--role", "approver")[0] == 0
    code, out, _ = run(capsys, "audit", "log")
    assert "user.removed" in out and "user.reinstated" in out


def test_only_admins_remove_or_revoke(users, capsys):
    code, _, err = run(capsys, "users", "revoke", "root-admin", "--role", "admin", "--user", "carol")
    assert code == 1 and "admin" in err
    code, _, _ = run(capsys, "users", "remove", "root-admin", "--user", "carol")
    assert code == 1


@pytest.mark.slow
@pytest.mark.parametrize("registry_url", ["sqlite"], indirect=True)
def test_a_removed_user_keeps_their_record_but_cannot_act(team, tmp_path, template):
    at_production_gate(team, tmp_path, template)
    team.admin.revoke_roles(name="dave", roles=["approver"])
    assert team.admin.roles(name="dave") == []
    team.admin.remove_user(name="carol")
    detail = team.admin.show(name=NAME, version="1.0.0")
    assert "carol" in [r.reviewer for r in detail.reviews]  # the record stands
    with pytest.raises(PermissionDenied):
        workflow.review(team("carol"), name=NAME, version="1.0.0", decision="approve", comment="again")
    with pytest.raises(RegistryError, match="looks like"):
        team.admin.add_user(name=f"c{CYRILLIC_A}rol", roles=["approver"])
    listed = {u.name: u for u in team.admin.users()}
    assert listed["carol"].removed_at is not None and listed["carol"].roles == []
    assert [e.action for e in team.admin.audit_log(action="user.removed")] == ["user.removed"]
    assert [e.action for e in team.admin.audit_log(action="user.roles_revoked")] == ["user.roles_revoked"]


@pytest.mark.slow
@pytest.mark.parametrize("registry_url", ["sqlite"], indirect=True)
def test_one_key_counts_once_and_a_revoked_key_not_at_all(team, tmp_path, template, signers):  # noqa: F811
    at_production_gate(team, tmp_path, template)
    for _ in range(2):  # two signature documents by the same key
        sign_version(team("sam"), name=NAME, version="1.0.0", key=signers["sam"], passphrase=PASSPHRASE,
                     signer="sam")
    detail = team.admin.show(name=NAME, version="1.0.0")
    assert len(detail.signatures) == 2 and detail.info.signatures == 1
    gate = signature_gate(team)
    assert gate.state == "met" and "counts once" in gate.reason
    fingerprint = next(k.fingerprint for k in trusted_keys(team.admin) if k.name == "sam")
    revoke_key(team.admin, fingerprint=fingerprint, reason="laptop lost")
    gate = signature_gate(team)
    assert gate.state == "not met" and "revoked on" in gate.reason
    detail = team.admin.show(name=NAME, version="1.0.0")
    assert detail.info.signatures == 0
    assert all(s.revoked_at is not None for s in detail.signatures)
    with pytest.raises(WorkflowRefused):
        workflow.promote(team("carol"), name=NAME, version="1.0.0", to_stage="production", policy=load_policy())


@pytest.mark.slow
@pytest.mark.parametrize("registry_url", ["sqlite"], indirect=True)
def test_a_revoked_key_is_shown_as_revoked_not_unknown(team, tmp_path, template, signers):  # noqa: F811
    from modelgate.core.cli.registry_text import render_detail
    from modelgate.core.registry.signatures import verify_version

    at_production_gate(team, tmp_path, template)
    sign_version(team("sam"), name=NAME, version="1.0.0", key=signers["sam"], passphrase=PASSPHRASE, signer="sam")
    fingerprint = next(k.fingerprint for k in trusted_keys(team.admin) if k.name == "sam")
    revoke_key(team.admin, fingerprint=fingerprint, reason="laptop lost")
    report = verify_version(team.admin, name=NAME, version="1.0.0")
    assert {c.status for c in report.checks} == {"revoked"} and not report.passed
    assert all(c.signer == "sam" and "revoked on" in c.reason and "laptop lost" in c.reason for c in report.checks)
    text = render_detail(team.admin.show(name=NAME, version="1.0.0"))
    assert "REVOKED" in text and "valid" not in text.split("Signatures")[1].split("Audit")[0]


@pytest.mark.slow
@pytest.mark.parametrize("registry_url", ["sqlite"], indirect=True)
def test_modelgate_verify_names_a_revoked_signer(team, tmp_path, template, signers, capsys, monkeypatch):  # noqa: F811
    import shutil

    from sqlalchemy import select

    from modelgate.core.registry.models import Signature

    monkeypatch.delenv("MODELGATE_TRUST_STORE", raising=False)
    at_production_gate(team, tmp_path, template)
    sign_version(team("sam"), name=NAME, version="1.0.0", key=signers["sam"], passphrase=PASSPHRASE, signer="sam")
    copy = tmp_path / "exported"
    shutil.copytree(team.admin.bundle_path(name=NAME, version="1.0.0"), copy)
    copy.chmod(0o755)
    (copy / "signatures").mkdir(exist_ok=True)
    with team.admin.session(write=False) as session:
        document = session.execute(select(Signature.document)).scalars().first()
    (copy / "signatures" / "sam.sig").write_text(document)
    argv = ("verify", str(copy), "--registry", team.url, "--user", "root")
    assert run(capsys, *argv)[0] == 0
    fingerprint = next(k.fingerprint for k in trusted_keys(team.admin) if k.name == "sam")
    revoke_key(team.admin, fingerprint=fingerprint, reason="laptop lost")
    code, out, _ = run(capsys, *argv)
    assert code == 1 and "REVOKED" in out and "signer sam" in out and "unknown signer" not in out


@pytest.mark.parametrize("registry_url", ["postgresql"], indirect=True)
def test_a_postgresql_login_that_could_pass_for_another_is_refused(registry_url, tmp_path, request):
    from psycopg import sql
    from sqlalchemy import make_url

    from modelgate.core.registry import IdentityError, init_registry, open_registry

    server = request.getfixturevalue("pg_server")
    database = make_url(registry_url).database
    init_registry(url=registry_url, store=tmp_path / "store").close()
    with server.connect() as conn:
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'Carol'").fetchone():
            conn.execute('CREATE ROLE "Carol" LOGIN')
    with server.connect(database) as conn:
        conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(sql.Identifier("Carol")))
    with pytest.raises(IdentityError, match="could pass for another login"):
        open_registry(url=server.url_for(database, "Carol"), store=tmp_path / "store")
