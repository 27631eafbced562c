"""Keys in a PKCS#11 token: a SoftHSM2 token made in a temporary folder (tests/token_support.py)
signs bundles, stored versions and attestations, and the signatures verify with the public key alone."""

from __future__ import annotations

import pytest

from modelgate.core.cli.main import main
from modelgate.core.signing.dsse import open_envelope, sign_envelope
from modelgate.core.signing.errors import KeyFileError
from modelgate.core.signing.keys import fingerprint
from modelgate.core.signing.pkcs11 import PIN_ENV, TokenSigner, parse_uri
from tests.factory import make_bundle

from tests.token_support import PIN


def test_uris_are_read_as_rfc_7512_says_and_a_pin_in_one_is_refused():
    parsed = parse_uri("pkcs11:token=my%20token;object=release;id=%01%ff?pin-source=file:/tmp/pin")
    assert parsed.path["token"] == "my token" and parsed.label == "release"
    assert parsed.key_id == b"\x01\xff" and parsed.query["pin-source"] == "file:/tmp/pin"
    for bad in ("pkcs11:token=t;object=k?pin-value=1234", "pkcs11:token=t", "pkcs11:token=t;colour=red;object=k",
                "pkcs11:object=a;object=b", "/keys/release.key"):
        with pytest.raises(KeyFileError):
            parse_uri(bad)


@pytest.mark.parametrize("label", ["officer", "backup"])
def test_a_token_key_signs_envelopes_that_verify_with_its_public_key_alone(softhsm_token, label):
    with TokenSigner(softhsm_token.uri(label), pin=PIN) as signer:
        envelope = sign_envelope(payload=b'{"decision": 1}', signer=signer)
        public = signer.public_key()
    assert open_envelope(envelope, public_keys={fingerprint(public): public}).payload == b'{"decision": 1}'


def test_a_wrong_pin_or_an_unknown_key_is_refused(softhsm_token):
    with pytest.raises(KeyFileError, match="PIN"):
        TokenSigner(softhsm_token.uri(), pin="000000")
    with pytest.raises(KeyFileError, match="no EC key pair"):
        TokenSigner(softhsm_token.uri("nobody"), pin=PIN)


def test_sign_with_a_token_key_and_verify_with_the_public_key(softhsm_token, tmp_path, monkeypatch, capsys):
    from cryptography.hazmat.primitives import serialization

    bundle = make_bundle(tmp_path / "bundle")
    pin_file = tmp_path / "pin"
    pin_file.write_text(PIN + "\n")
    monkeypatch.delenv(PIN_ENV, raising=False)
    assert main(["sign", str(bundle), "--key", softhsm_token.uri(**{"pin-source": f"file:{pin_file}"}),
                 "--signer", "officer"]) == 0
    with TokenSigner(softhsm_token.uri(), pin=PIN) as signer:
        pem = signer.public_key().public_bytes(encoding=serialization.Encoding.PEM,
                                               format=serialization.PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "trust").mkdir()
    (tmp_path / "trust" / "officer.pub").write_bytes(pem)
    capsys.readouterr()
    assert main(["verify", str(bundle), "--trust", str(tmp_path / "trust")]) == 0, capsys.readouterr()
    # The stock model_signing verifier accepts it too: the signature is the library's own format.
    import model_signing

    model_signing.verifying.Config().use_elliptic_key_verifier(public_key=tmp_path / "trust" / "officer.pub") \
        .verify(bundle, bundle / "signatures" / "officer.sig")
    (bundle / "LICENSE").write_text("changed after signing\n")
    assert main(["verify", str(bundle), "--trust", str(tmp_path / "trust")]) == 1
    # The PIN from the environment works as well; a PIN on the command line never does.
    monkeypatch.setenv(PIN_ENV, PIN)
    second = make_bundle(tmp_path / "second")
    assert main(["sign", str(second), "--key", softhsm_token.uri(), "--signer", "officer"]) == 0
    assert main(["sign", str(bundle), "--key", softhsm_token.uri(**{"pin-value": PIN})]) == 2


@pytest.mark.slow
def test_decision_attestations_are_signed_inside_the_token(softhsm_token, team, tmp_path, template):
    from cryptography.hazmat.primitives import serialization

    from modelgate.core.policy.document import load_policy
    from modelgate.core.registry import workflow
    from modelgate.core.registry.attestations import attestations, sign_attestations
    from modelgate.core.registry.signatures import trust_key
    from tests.registry_support import NAME, new_bundle

    if team.server:
        team.server.create_role("sam", database=team.database)
    team.admin.add_user(name="sam", roles=["signer"])
    with TokenSigner(softhsm_token.uri(), pin=PIN) as signer:
        (tmp_path / "sam.pub").write_bytes(signer.public_key().public_bytes(
            encoding=serialization.Encoding.PEM, format=serialization.PublicFormat.SubjectPublicKeyInfo))
        trust_key(team.admin, name="sam", public_key=tmp_path / "sam.pub")
        team("alice").import_bundle(path=new_bundle(tmp_path, template))
        workflow.review(team("bob"), name=NAME, version="1.0.0", decision="approve", comment="ok")
        workflow.promote(team("carol"), name=NAME, version="1.0.0", to_stage="candidate", policy=load_policy())
        assert len(sign_attestations(team("sam"), name=NAME, version="1.0.0", signer=signer)) == 2
        public = signer.public_key()
    for statement in attestations(team.admin, name=NAME, version="1.0.0"):
        assert open_envelope(statement.envelope, public_keys={fingerprint(public): public})


def test_a_stored_version_is_signed_by_the_token_and_recorded(softhsm_token, team, tmp_path, template):
    from modelgate.core.registry import WorkflowRefused
    from modelgate.core.registry.signatures import trust_key
    from modelgate.core.registry.token_signatures import sign_version_with_token
    from tests.registry_support import NAME, new_bundle

    if team.server:
        team.server.create_role("sam", database=team.database)
    team.admin.add_user(name="sam", roles=["signer"])
    team("alice").import_bundle(path=new_bundle(tmp_path, template))
    with pytest.raises(WorkflowRefused):  # not trusted yet: nothing is recorded
        sign_version_with_token(team("sam"), name=NAME, version="1.0.0", uri=softhsm_token.uri(), pin=PIN,
                                signer="sam")
    (tmp_path / "sam.pub").write_bytes(softhsm_token.public_pem())
    trust_key(team.admin, name="sam", public_key=tmp_path / "sam.pub")
    recorded = sign_version_with_token(team("sam"), name=NAME, version="1.0.0", uri=softhsm_token.uri(), pin=PIN,
                                       signer="sam")
    assert [(r.signer, r.verified) for r in recorded] == [("sam", True)]
    assert team.admin.show(name=NAME, version="1.0.0").info.signatures == 1
