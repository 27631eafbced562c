"""Every signature the model-signing ecosystem makes, judged by ModelGate and by the stock
``model_signing verify`` command side by side: format versions 0.2 to 1.1, key hints,
embedded public keys, certificate chains, single files, recorded ignore paths; and the
tampered, wrong-key, expired-certificate, wrong-CA and uncovered-file cases."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from modelgate.core.signing.document import CERTIFICATE, EMBEDDED_KEY, KEY_HINT, KEYLESS, NO_SIGNER
from modelgate.core.signing.model_verify import verify_model
from modelgate.core.signing.trust import load_trust_store
from tests.attacks._signature_vectors import (
    DAY,
    NOW,
    library_sign_certificate,
    library_sign_key,
    make_model,
    make_pki,
    spec_signature,
    spec_statement,
    stock_command,
    stock_verdicts,
    write_key,
)

#: Slow: the stock model_signing verifier and signer run as child processes on each format version.
pytestmark = pytest.mark.slow

MODELGATE = str(Path(sys.executable).with_name("modelgate"))


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _key_trust(pki):
    return load_trust_store([pki.folder / "signer.pub"])


def _ca_trust(pki):
    return load_trust_store([], certificate_chains=[pki.ca_file])


def _vector(kind: str, root: Path, pki):
    """``(model, signature, stock options, trust, signer kind)`` for one published layout."""
    model = make_model(root / "model")
    signature = root / "model.sig"
    key_options = {"key": pki.folder / "signer.pub"}
    if kind == "1.1-key-folder":
        library_sign_key(model, signature, pki.key_file)
        return model, signature, key_options, _key_trust(pki), KEY_HINT
    if kind == "1.1-key-single-file":
        model = model / "weights.bin"
        library_sign_key(model, signature, pki.key_file)
        return model, signature, key_options, _key_trust(pki), KEY_HINT
    if kind == "1.1-certificate-folder":
        library_sign_certificate(model, signature, pki)
        return model, signature, {"ca": [pki.ca_file]}, _ca_trust(pki), CERTIFICATE
    if kind == "1.0-embedded-key-folder":
        signature.write_bytes(spec_signature(spec_statement(model, version="1.0"), key=pki.signer_key))
        return model, signature, key_options, _key_trust(pki), EMBEDDED_KEY
    if kind == "1.0-embedded-der-key-folder":
        signature.write_bytes(spec_signature(spec_statement(model, version="1.0"), key=pki.signer_key,
                                             signer="embedded-der"))
        return model, signature, key_options, _key_trust(pki), EMBEDDED_KEY
    if kind == "1.0-embedded-key-single-file":  # the statement's one resource is named "."
        model = model / "weights.bin"
        signature.write_bytes(spec_signature(spec_statement(model, version="1.0"), key=pki.signer_key))
        return model, signature, key_options, _key_trust(pki), EMBEDDED_KEY
    if kind == "0.2-certificate-digests":
        signature.write_bytes(spec_signature(spec_statement(model, version="0.2"), key=pki.signer_key,
                                             certificates=[pki.leaf, pki.intermediate]))
        return model, signature, {"ca": [pki.ca_file]}, _ca_trust(pki), CERTIFICATE
    raise AssertionError(kind)


LAYOUTS = ["1.1-key-folder", "1.1-key-single-file", "1.1-certificate-folder", "1.0-embedded-key-folder",
           "1.0-embedded-der-key-folder", "1.0-embedded-key-single-file", "0.2-certificate-digests"]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_format_version_is_judged_as_the_stock_verifier_judges_it(layout, tmp_path, pki):
    model, signature, options, trust, kind = _vector(layout, tmp_path / "intact", pki)
    tampered_model, tampered_signature, _, _, _ = _vector(layout, tmp_path / "tampered", pki)
    tampered_file = tampered_model if tampered_model.is_file() else tampered_model / "weights.bin"
    _flip(tampered_file)
    stock_intact, stock_tampered = stock_verdicts(stock_command(model, signature, **options),
                                                  stock_command(tampered_model, tampered_signature, **options))
    intact = verify_model(model=model, signature=signature, trust=trust).check
    tampered = verify_model(model=tampered_model, signature=tampered_signature, trust=trust).check

    assert stock_intact and intact.valid, intact
    assert intact.signer_kind == kind
    expected_signer = "CN=release-officer,O=Example Org" if kind == CERTIFICATE else "signer"
    assert intact.signer == expected_signer
    assert not intact.uncovered
    assert not stock_tampered and tampered.status == "invalid"
    assert ("changed: the model file" if tampered_model.is_file() else "changed: weights.bin") in tampered.reason


@pytest.mark.parametrize("named_by", ["embedded", "hint"])
def test_a_signature_by_a_key_that_is_not_trusted_is_untrusted_and_the_stock_verifier_agrees(tmp_path, pki,
                                                                                            named_by):
    stranger = write_key(tmp_path, "stranger")
    model = make_model(tmp_path / "model")
    signature = tmp_path / "model.sig"
    if named_by == "embedded":
        signature.write_bytes(spec_signature(spec_statement(model, version="1.0"), key=stranger))
    else:
        library_sign_key(model, signature, tmp_path / "stranger.key")
    [stock] = stock_verdicts(stock_command(model, signature, key=pki.folder / "signer.pub"))
    check = verify_model(model=model, signature=signature, trust=_key_trust(pki)).check
    assert not stock
    assert check.status == "untrusted" and check.signer is None
    assert "not in the trust store" in check.reason


def test_an_embedded_key_does_not_vouch_for_a_signature_made_by_another_key(tmp_path, pki):
    """The signature names the trusted key but was made by another one: the trusted
    key is looked up by the embedded bytes, and then the cryptography must still hold."""
    import base64

    stranger = write_key(tmp_path, "stranger")
    model = make_model(tmp_path / "model")
    forged = json.loads(spec_signature(spec_statement(model, version="1.0"), key=stranger))
    honest = json.loads(spec_signature(spec_statement(model, version="1.0"), key=pki.signer_key))
    forged["verificationMaterial"] = honest["verificationMaterial"]
    signature = tmp_path / "model.sig"
    signature.write_text(json.dumps(forged))
    assert base64.b64decode(forged["verificationMaterial"]["publicKey"]["rawBytes"])
    [stock] = stock_verdicts(stock_command(model, signature, key=pki.folder / "signer.pub"))
    check = verify_model(model=model, signature=signature, trust=_key_trust(pki)).check
    assert not stock
    assert check.status == "invalid" and check.signer == "signer"


def test_a_signature_that_names_no_signer_is_untrusted(tmp_path, pki):
    model = make_model(tmp_path / "model")
    signature = tmp_path / "model.sig"
    signature.write_bytes(spec_signature(spec_statement(model, version="1.0"), key=pki.signer_key, signer="none"))
    check = verify_model(model=model, signature=signature, trust=_key_trust(pki)).check
    assert check.status == "untrusted" and check.signer_kind == NO_SIGNER


def test_a_keyless_sigstore_signature_is_named_as_such_not_as_an_unsigned_one(tmp_path, pki):
    model = make_model(tmp_path / "model")
    document = json.loads(spec_signature(spec_statement(model, version="1.0"), key=pki.signer_key,
                                         certificates=[pki.leaf]))
    document["verificationMaterial"] = {"certificate": {"rawBytes": "AAAA"}, "tlogEntries": []}
    signature = tmp_path / "model.sig"
    signature.write_text(json.dumps(document))
    check = verify_model(model=model, signature=signature, trust=_ca_trust(pki)).check
    assert check.status == "untrusted" and check.signer_kind == KEYLESS and "keyless Sigstore" in check.reason


def test_a_certificate_from_another_ca_is_refused_by_both(tmp_path, pki):
    other = make_pki(tmp_path / "other", prefix="Other ")
    model = make_model(tmp_path / "model")
    signature = library_sign_certificate(model, tmp_path / "model.sig", other)
    [stock] = stock_verdicts(stock_command(model, signature, ca=[pki.ca_file]))
    check = verify_model(model=model, signature=signature, trust=_ca_trust(pki)).check
    assert not stock
    assert check.status == "untrusted" and "trusted CA" in check.reason


def test_an_expired_certificate_is_refused_deliberately_and_says_why(tmp_path, pki):
    """model_signing checks the chain at the certificate's start date, so it accepts a
    signature made with an expired certificate; ModelGate has no trusted signing time
    and refuses, naming the rule."""
    model = make_model(tmp_path / "model")
    expired = pki.issue(not_before=NOW - 30 * DAY, not_after=NOW - DAY)
    signature = library_sign_certificate(model, tmp_path / "model.sig", pki,
                                         leaf_file=pki.leaf_file(expired, "expired.crt"))
    [stock] = stock_verdicts(stock_command(model, signature, ca=[pki.ca_file]))
    check = verify_model(model=model, signature=signature, trust=_ca_trust(pki)).check
    assert stock
    assert check.status == "untrusted"
    assert "expired" in check.reason and "refuses expired certificates" in check.reason


def test_a_certificate_not_issued_for_code_signing_is_refused_deliberately(tmp_path, pki):
    """A TLS server certificate (EKU serverAuth) has digitalSignature, which is all
    model_signing asks; ModelGate wants codeSigning wherever the EKU is stated."""
    model = make_model(tmp_path / "model")
    server = pki.issue(usage="serverauth")
    signature = library_sign_certificate(model, tmp_path / "model.sig", pki,
                                         leaf_file=pki.leaf_file(server, "server.crt"))
    [stock] = stock_verdicts(stock_command(model, signature, ca=[pki.ca_file]))
    check = verify_model(model=model, signature=signature, trust=_ca_trust(pki)).check
    assert stock
    assert check.status == "untrusted" and "codeSigning" in check.reason


def test_a_revoked_ca_or_certificate_stops_counting(tmp_path, pki):
    from dataclasses import replace

    from modelgate.core.signing.certificates import certificate_fingerprint

    model = make_model(tmp_path / "model")
    signature = library_sign_certificate(model, tmp_path / "model.sig", pki)
    trust = _ca_trust(pki)
    assert verify_model(model=model, signature=signature, trust=trust).check.valid
    for revoked in (pki.intermediate, pki.leaf, pki.root):
        check = verify_model(model=model, signature=signature,
                             trust=replace(trust, revoked=frozenset({certificate_fingerprint(revoked)}))).check
        assert check.status == "untrusted", revoked.subject
        assert "revoked" in check.reason or "no trusted CA" in check.reason


def test_ignore_paths_recorded_in_the_signature_are_honoured_and_the_file_is_listed(tmp_path, pki):
    model = make_model(tmp_path / "model")
    (model / "ignore-me").write_bytes(b"anything at all")
    signature = library_sign_key(model, model / "model.sig", pki.key_file, ignore=[model / "ignore-me"])
    [stock] = stock_verdicts(stock_command(model, signature, key=pki.folder / "signer.pub"))
    verdict = verify_model(model=model, signature=signature, trust=_key_trust(pki))
    assert stock and verdict.check.valid
    assert verdict.check.uncovered == ("ignore-me",)
    assert verdict.covered == 3


def test_ignore_paths_given_on_the_command_line_are_listed_as_not_covered(tmp_path, pki, monkeypatch):
    """A 1.0.x signature records no ignore paths: the verifier is told which file to leave
    out, exactly as the stock command is; without it both refuse the extra file."""
    model = make_model(tmp_path / "model")
    signature = tmp_path / "model.sig"
    signature.write_bytes(spec_signature(spec_statement(model, version="1.0"), key=pki.signer_key))
    (model / "ignore-me").write_bytes(b"added later")
    monkeypatch.chdir(tmp_path)
    stock_with, stock_without = stock_verdicts(
        stock_command(model, signature, key=pki.folder / "signer.pub", ignore=[Path("model/ignore-me")]),
        stock_command(model, signature, key=pki.folder / "signer.pub"))
    without = verify_model(model=model, signature=signature, trust=_key_trust(pki)).check
    ignoring = verify_model(model=model, signature=signature, trust=_key_trust(pki),
                            ignore_paths=[Path("model/ignore-me")]).check
    assert stock_with and ignoring.valid and ignoring.uncovered == ("ignore-me",)
    assert not stock_without and without.status == "invalid" and "ignore-me" in without.reason


@pytest.mark.parametrize("document", [
    b"not json", b"[]", b'{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}',
    json.dumps({"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
                "verificationMaterial": {"x509CertificateChain": {"certificates": [{"rawBytes": "!!"}]}},
                "dsseEnvelope": {}}).encode(),
    json.dumps({"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
                "verificationMaterial": {"x509CertificateChain": {"certificates": [{"rawBytes": "AAAA"}] * 40}},
                "dsseEnvelope": {}}).encode(),
    b"[" * 100000 + b"]" * 100000,
])
def test_hostile_signature_files_are_unreadable_not_a_crash(tmp_path, pki, document):
    model = make_model(tmp_path / "model")
    signature = tmp_path / "model.sig"
    signature.write_bytes(document)
    check = verify_model(model=model, signature=signature, trust=_key_trust(pki)).check
    assert check.status == "unreadable" and check.reason


def test_a_certificate_in_the_chain_that_is_not_x509_is_refused(tmp_path, pki):
    model = make_model(tmp_path / "model")
    signature = library_sign_certificate(model, tmp_path / "model.sig", pki)
    data = json.loads(signature.read_text())
    data["verificationMaterial"]["x509CertificateChain"]["certificates"][0]["rawBytes"] = "AAAA"
    signature.write_text(json.dumps(data))
    check = verify_model(model=model, signature=signature, trust=_ca_trust(pki)).check
    assert check.status == "untrusted" and "not valid X.509" in check.reason


# -- the command line ----------------------------------------------------------------------------

def _modelgate(*args, cwd=None):
    return subprocess.run([MODELGATE, *map(str, args)], capture_output=True, text=True, timeout=300, cwd=cwd)


def test_cli_verify_takes_the_stock_commands_shape(tmp_path, pki):
    model = make_model(tmp_path / "model")
    (model / "ignore-me").write_bytes(b"x")
    signature = library_sign_key(model, model / "model.sig", pki.key_file, ignore=[model / "ignore-me"])
    ok = _modelgate("verify", model, "--signature", signature, "--trust", pki.folder / "signer.pub")
    assert ok.returncode == 0, ok.stderr
    assert "VALID" in ok.stdout and "not covered by this signature (MG805): ignore-me" in ok.stdout
    untrusted = _modelgate("verify", model, "--signature", signature, "--certificate-chain", pki.ca_file, "--json")
    assert untrusted.returncode == 1
    assert json.loads(untrusted.stdout)["signature"]["status"] == "untrusted"
    missing = _modelgate("verify", model, "--signature", tmp_path / "nope.sig", "--trust", pki.folder / "signer.pub")
    assert missing.returncode == 2 and "does not exist" in missing.stderr and "Traceback" not in missing.stderr
    misplaced = _modelgate("verify", model, "--ignore-paths", "x", "--trust", pki.folder / "signer.pub")
    assert misplaced.returncode == 2 and "--signature" in misplaced.stderr


def test_cli_signs_a_bundle_with_a_certificate_and_both_verifiers_accept_it(tmp_path, pki):
    from tests.factory import PASSPHRASE, make_bundle

    bundle = make_bundle(tmp_path / "bundle")
    env = {"MODELGATE_KEY_PASSPHRASE": PASSPHRASE.decode(), "PATH": "/usr/bin:/bin"}
    key = pki.folder / "officer.key"
    key.write_bytes(pki.key_file.read_bytes())
    done = subprocess.run([MODELGATE, "sign", str(bundle), "--key", str(key), "--certificate",
                           str(pki.folder / "signer.crt"), "--certificate-chain", str(pki.intermediate_file)],
                          capture_output=True, text=True, timeout=300, env=_env(env))
    assert done.returncode == 0, done.stderr
    signature = bundle / "signatures" / "officer.sig"
    [stock] = stock_verdicts(stock_command(bundle, signature, ca=[pki.ca_file], ignore=[bundle / "signatures"]))
    verified = _modelgate("verify", bundle, "--certificate-chain", pki.ca_file)
    assert stock
    assert verified.returncode == 0, verified.stdout
    assert "CN=release-officer,O=Example Org" in verified.stdout and "chain:" in verified.stdout


def _env(extra):
    import os

    return {**os.environ, **extra}


@pytest.mark.parametrize("problem", ["expired", "other-key", "server-auth"])
def test_cli_refuses_to_sign_with_an_unusable_certificate(tmp_path, pki, problem):
    from tests.factory import PASSPHRASE, make_bundle

    bundle = make_bundle(tmp_path / "bundle")
    if problem == "expired":
        leaf = pki.issue(not_before=NOW - 30 * DAY, not_after=NOW - DAY)
    elif problem == "server-auth":
        leaf = pki.issue(usage="serverauth")
    else:
        from tests.attacks._signature_vectors import certificate

        stranger = write_key(tmp_path, "stranger")
        leaf = certificate(subject="someone", key=stranger, issuer_cert=pki.intermediate,
                           issuer_key=pki.intermediate_key, ca=False)
    cert = pki.leaf_file(leaf, f"{problem}.crt")
    done = subprocess.run([MODELGATE, "sign", str(bundle), "--key", str(pki.key_file), "--certificate", str(cert)],
                          capture_output=True, text=True, timeout=300,
                          env=_env({"MODELGATE_KEY_PASSPHRASE": PASSPHRASE.decode()}))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert {"expired": "expired", "other-key": "does not certify", "server-auth": "codeSigning"}[problem] in done.stderr
    assert not (bundle / "signatures").exists()


# -- validation: files a signature does not cover ------------------------------------------------

def test_validate_reports_files_a_bundle_signature_leaves_out_as_mg805(tmp_path, pki):
    from tests.factory import make_bundle, rules_of, validate

    bundle = make_bundle(tmp_path / "bundle")
    (bundle / "signatures").mkdir()
    library_sign_key(bundle, bundle / "signatures" / "officer.sig", pki.key_file,
                     ignore=[bundle / "MODEL_CARD.md", bundle / "signatures"])
    trust = _key_trust(pki)
    production = validate(bundle, stage="production", trust=trust)
    finding = next(f for f in production.findings if f.rule == "MG805")
    assert finding.severity.value == "error" and "MODEL_CARD.md" in finding.message
    assert "MG801" in rules_of(production, "error")  # a partial signature is not the release signature
    assert "MG805" in rules_of(validate(bundle, stage="candidate", trust=trust), "warning")


def test_a_link_in_the_model_is_refused_as_model_signing_refuses_it(tmp_path, pki):
    from modelgate.core.errors import UsageError

    model = make_model(tmp_path / "model")
    signature = library_sign_key(model, tmp_path / "model.sig", pki.key_file)
    (tmp_path / "outside.bin").write_bytes(b"not part of the model")
    (model / "linked.bin").symlink_to(tmp_path / "outside.bin")
    with pytest.raises(UsageError, match="symbolic link"):
        verify_model(model=model, signature=signature, trust=_key_trust(pki))


def test_ignore_paths_outside_the_model_are_a_usage_error(tmp_path, pki, monkeypatch):
    from modelgate.core.errors import UsageError

    model = make_model(tmp_path / "model")
    signature = library_sign_key(model, tmp_path / "model.sig", pki.key_file)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError, match="not inside the model"):
        verify_model(model=model, signature=signature, trust=_key_trust(pki), ignore_paths=[Path("model.sig")])


def test_cli_json_stays_json_for_older_formats(tmp_path, pki):
    """model-signing prints a notice about hint-less signatures on stdout; it must not
    break the JSON that scripts read."""
    model = make_model(tmp_path / "model")
    signature = tmp_path / "model.sig"
    signature.write_bytes(spec_signature(spec_statement(model, version="1.0"), key=pki.signer_key))
    done = _modelgate("verify", model, "--signature", signature, "--trust", pki.folder / "signer.pub", "--json")
    assert done.returncode == 0, done.stderr
    verdict = json.loads(done.stdout)
    assert verdict["signature"]["signer_kind"] == "embedded public key" and verdict["passed"]


def test_the_registry_does_not_record_a_signature_that_leaves_files_out(team, tmp_path, template, pki):
    from modelgate.core.registry import WorkflowRefused
    from modelgate.core.registry.signatures import record_signatures, trust_key
    from tests.registry_support import NAME, new_bundle

    if team.server:
        team.server.create_role("officer", database=team.database)
    team.admin.add_user(name="officer", roles=["signer"])
    trust_key(team.admin, name="officer", public_key=pki.folder / "signer.pub")
    bundle = new_bundle(tmp_path, template)
    team("alice").import_bundle(path=bundle)
    partial = library_sign_key(bundle, tmp_path / "partial.sig", pki.key_file, ignore=[bundle / "MODEL_CARD.md"])
    with pytest.raises(WorkflowRefused, match="leaves out MODEL_CARD.md"):
        record_signatures(team("officer"), name=NAME, version="1.0.0",
                          documents={"signatures/officer.sig": partial.read_bytes()})
    assert team.admin.show(name=NAME, version="1.0.0").signatures == []


def test_a_trust_folder_holds_keys_and_ca_certificates_but_not_signing_certificates(tmp_path, pki):
    from modelgate.core.signing.errors import CertificateError

    folder = tmp_path / "trusted"
    folder.mkdir()
    (folder / "officer.pub").write_bytes((pki.folder / "signer.pub").read_bytes())
    (folder / "example-ca.pem").write_bytes(pki.ca_file.read_bytes())
    store = load_trust_store([folder])
    assert [k.name for k in store.keys] == ["officer"]
    assert [a.name for a in store.authorities] == ["CN=Example Root CA,O=Example Org"]
    (folder / "leaf.pem").write_bytes((pki.folder / "signer.crt").read_bytes())
    with pytest.raises(CertificateError, match="not a CA certificate"):
        load_trust_store([folder])
