"""With PostgreSQL, a login that bypasses ModelGate (a plain SQL console) still cannot record a
statement under a false digest, sign attestations with a key that is not its own, confirm its own
waiver, or waive a signature rule: the guarded functions check these themselves."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from psycopg import errors

from modelgate.core.registry.signatures import trust_key
from tests.attacks._pg_privileges_support import PgTeam
from tests.attacks.test_pg_guarded_writes import call
from tests.factory import signing_key
from tests.registry_support import NAME, new_bundle

SECOND = "cleo"   # a second approver


@pytest.fixture
def pg_team(pg_server, pg_url, tmp_path, template):
    team = PgTeam(server=pg_server, url=pg_url, store=tmp_path / "store")
    pg_server.create_role(SECOND, database=team.database)
    team(team.owner).add_user(name=SECOND, roles=["approver"])
    team("ana").import_bundle(path=new_bundle(tmp_path, template))
    yield team
    team.close()


def _version_id(team) -> int:
    return team.owner_query("SELECT id FROM versions")[0][0]


def test_a_statement_is_recorded_only_under_its_own_digest(pg_team):
    import hashlib

    statement = '{"_type":"https://in-toto.io/Statement/v1"}'
    digest = hashlib.sha256(statement.encode()).hexdigest()
    with pg_team.console("carl") as approver:
        with pytest.raises(errors.InvalidParameterValue, match="digest"), approver.transaction():
            call(approver, "record_attestation", _version_id(pg_team), 1, "x", statement, "0" * 64)
        call(approver, "record_attestation", _version_id(pg_team), 1, "x", statement, digest)
    with pg_team.console("ben") as reviewer, pytest.raises(errors.InsufficientPrivilege):
        call(reviewer, "record_attestation", _version_id(pg_team), 2, "x", statement, digest)


def test_attestations_are_signed_only_with_the_signers_own_trusted_key(pg_team, tmp_path):
    from modelgate.core.signing.keys import fingerprint, load_private_key
    from tests.factory import PASSPHRASE

    key = signing_key(tmp_path / "keys", "dora")
    trust_key(pg_team(pg_team.owner), name="dora", public_key=key.with_suffix(".pub"))
    own = fingerprint(load_private_key(key, passphrase=PASSPHRASE).public_key())
    with pg_team.console("carl") as approver:
        call(approver, "record_attestation", _version_id(pg_team), 1, "x", "{}",
             "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a")
    attestation = pg_team.owner_query("SELECT id FROM attestations")[0][0]
    with pg_team.console("dora") as signer:
        with pytest.raises(errors.InsufficientPrivilege, match="trusted"), signer.transaction():
            call(signer, "sign_attestation", attestation, "{}", "f" * 64)
        call(signer, "sign_attestation", attestation, "{}", own)
        with pytest.raises(errors.InvalidParameterValue), signer.transaction():
            call(signer, "sign_attestation", attestation, "{}", own)   # signed once, never replaced
    assert pg_team.owner_query("SELECT signed_by FROM attestations") == [("dora",)]


def test_the_database_keeps_four_eyes_and_never_waives_a_signature_rule(pg_team):
    later = datetime.now(timezone.utc) + timedelta(days=10)
    with pg_team.console("carl") as approver:
        with pytest.raises(errors.InvalidParameterValue, match="may not be waived"), approver.transaction():
            call(approver, "request_waiver", _version_id(pg_team), "MG801", "no", later)
        with pytest.raises(errors.InvalidParameterValue), approver.transaction():
            call(approver, "request_waiver", _version_id(pg_team), "MG401", "late", later - timedelta(days=20))
        (waiver,), = call(approver, "request_waiver", _version_id(pg_team), "MG401", "pilot", later)
        with pytest.raises(errors.InvalidParameterValue, match="cannot be confirmed"), approver.transaction():
            call(approver, "confirm_waiver", waiver)
    with pg_team.console(SECOND) as second:
        call(second, "confirm_waiver", waiver)
    assert pg_team.owner_query("SELECT requested_by, confirmed_by FROM waivers") == [("carl", SECOND)]
