"""The registry's trust store holding CA certificates: certificate signatures recorded for the
user the certificate names, and revoking a certificate or a CA withdrawing what was signed under it."""

from __future__ import annotations

import pytest

from modelgate.core.registry import WorkflowRefused
from modelgate.core.registry.certificates import revoke_certificate, trust_ca, trusted_certificates
from modelgate.core.registry.signatures import sign_version, trust_store, verify_version
from tests.attacks._signature_vectors import PASSPHRASE, make_pki
from tests.registry_support import NAME, new_bundle

SIGNER = "officer"  # the common name of the signing certificate, a registry user


@pytest.fixture
def certified(team, tmp_path, template):
    """A registry trusting a throw-away CA, its user ``officer`` (signer) and a stored version."""
    if team.server:
        team.server.create_role(SIGNER, database=team.database)
    team.admin.add_user(name=SIGNER, roles=["signer"])
    pki = make_pki(tmp_path / "pki")
    trust_ca(team.admin, name="example", path=pki.ca_file)
    pki.leaf = pki.issue(subject=SIGNER)
    team("alice").import_bundle(path=new_bundle(tmp_path, template))
    return pki


def _sign(team, pki, leaf_file=None):
    return sign_version(team(SIGNER), name=NAME, version="1.0.0", key=pki.key_file, passphrase=PASSPHRASE,
                        signer=SIGNER, certificate=leaf_file or pki.leaf_file(), chain=(pki.intermediate_file,))


@pytest.mark.slow
def test_a_certificate_signature_is_recorded_for_the_user_its_certificate_names(team, certified):
    recorded = _sign(team, certified)
    assert [(s.signer, s.verified) for s in recorded] == [(SIGNER, True)]
    report = verify_version(team.admin, name=NAME, version="1.0.0")
    assert report.passed
    assert report.checks[0].chain[-1] == "CN=Example Root CA,O=Example Org"
    assert [c.is_ca for c in trusted_certificates(team.admin)] == [True]


def test_a_certificate_naming_no_user_is_not_recorded(team, certified):
    stranger = certified.leaf_file(certified.issue(subject="nobody-here"), "nobody.crt")
    with pytest.raises(WorkflowRefused, match="names no user"):
        _sign(team, certified, leaf_file=stranger)


@pytest.mark.parametrize("revoked", ["intermediate", "root", "leaf"])
def test_revoking_a_certificate_or_ca_withdraws_the_signatures_made_under_it(team, certified, revoked):
    from modelgate.core.signing.certificates import certificate_fingerprint

    _sign(team, certified)
    target = {"intermediate": certified.intermediate_file, "root": certified.ca_file,
              "leaf": certified.leaf_file()}[revoked]
    info = revoke_certificate(team.admin, certificate=str(target), reason="key compromised")
    assert info.revoked_at is not None
    assert certificate_fingerprint({"intermediate": certified.intermediate, "root": certified.root,
                                    "leaf": certified.leaf}[revoked]) in trust_store(team.admin).revoked
    report = verify_version(team.admin, name=NAME, version="1.0.0")
    assert not report.passed and report.checks[0].status == "untrusted"
    detail = team.admin.show(name=NAME, version="1.0.0")
    assert [s.verified for s in detail.signatures] == [False]
    assert [e.payload["signatures_withdrawn"] for e in team.admin.audit_log(action="certificate.revoke")] == [1]
    with pytest.raises(WorkflowRefused):
        _sign(team, certified)  # no longer recorded either


def test_a_revoked_key_signs_nothing_under_a_certificate_and_counts_once_per_key(team, certified, tmp_path):
    """Revoking a leaked key also ends what it signs under a certificate; a key that signed both
    bare and under a certificate counts once."""
    from sqlalchemy import select

    from modelgate.core.registry import gates
    from modelgate.core.registry.models import Version
    from modelgate.core.registry.signatures import revoke_key, trust_key, trusted_keys

    from cryptography.hazmat.primitives import serialization

    public = tmp_path / "officer.pub"
    public.write_bytes(certified.signer_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    trust_key(team.admin, name=SIGNER, public_key=public)
    sign_version(team(SIGNER), name=NAME, version="1.0.0", key=certified.key_file, passphrase=PASSPHRASE,
                 signer=SIGNER)
    _sign(team, certified)
    with team.admin.session(write=False) as session:
        row = session.execute(select(Version).where(Version.version == "1.0.0")).scalar_one()
        counted, _ = gates.counting_signatures(session, row, gates.verified_signatures(session, [row.id]),
                                               roles=("signer",))
    assert len(counted) == 1  # one key, bare and certified: one count
    key = next(k.fingerprint for k in trusted_keys(team.admin) if k.name == SIGNER)
    revoke_key(team.admin, fingerprint=key, reason="leaked")
    with team.admin.session(write=False) as session:
        row = session.execute(select(Version).where(Version.version == "1.0.0")).scalar_one()
        rows = gates.verified_signatures(session, [row.id])
        counted, notes = gates.counting_signatures(session, row, rows, roles=("signer",))
    assert counted == [] and all("revoked" in note for note in notes), notes
    with pytest.raises(WorkflowRefused, match="revoked"):
        _sign(team, certified)
