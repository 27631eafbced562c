"""Signature vectors made at test time: keys, a throw-away CA with an intermediate, signatures of
every model-signing format version, and the stock ``model_signing`` command to compare with.

Older format versions are built from the specification: the same DSSE envelope over an
in-toto statement, with the signer named by an embedded public key (0.3.x-1.0.x) or the
statement of the Digests/v0.1 predicate (0.2.x), signed with the same PAE encoding.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PASSPHRASE = b"correct horse battery"
NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)
STOCK = Path(sys.executable).with_name("model_signing")
PAYLOAD_TYPE = "application/vnd.in-toto+json"


def write_key(folder: Path, name: str, *, encrypted: bool = True):
    """A new P-256 key: ``NAME.key`` (encrypted unless told), ``NAME.pub``; returns the key object."""
    key = ec.generate_private_key(ec.SECP256R1())
    protection = (serialization.BestAvailableEncryption(PASSPHRASE) if encrypted
                  else serialization.NoEncryption())
    (folder / f"{name}.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                           serialization.PrivateFormat.PKCS8, protection))
    (folder / f"{name}.pub").write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return key


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Org"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


def certificate(*, subject: str, key, issuer_cert=None, issuer_key=None, ca: bool, not_before=None,
                not_after=None, usage: str = "codesigning"):
    """An X.509 certificate; ``usage`` is codesigning, serverauth, digitalsig-only or none (leaf only)."""
    issuer_key = issuer_key or key
    builder = (x509.CertificateBuilder()
               .subject_name(_name(subject))
               .issuer_name(issuer_cert.subject if issuer_cert is not None else _name(subject))
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(not_before or NOW - DAY)
               .not_valid_after(not_after or NOW + 365 * DAY)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                              critical=False))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
            critical=True)
    elif usage != "none":
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False),
            critical=True)
        if usage in ("codesigning", "serverauth"):
            purpose = ExtendedKeyUsageOID.CODE_SIGNING if usage == "codesigning" else ExtendedKeyUsageOID.SERVER_AUTH
            builder = builder.add_extension(x509.ExtendedKeyUsage([purpose]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def pem(*certificates) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)


@dataclass
class Pki:
    """A root CA, an intermediate CA, and a signing certificate for ``signer.key``, written to ``folder``."""

    folder: Path
    root_key: object
    root: x509.Certificate
    intermediate_key: object
    intermediate: x509.Certificate
    signer_key: object
    leaf: x509.Certificate

    @property
    def ca_file(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def intermediate_file(self) -> Path:
        return self.folder / "intermediate.pem"

    @property
    def key_file(self) -> Path:
        return self.folder / "signer.key"

    def leaf_file(self, leaf=None, name: str = "signer.crt") -> Path:
        path = self.folder / name
        path.write_bytes(pem(leaf or self.leaf))
        return path

    def issue(self, **options):
        """Another certificate for the signer's key, issued by the intermediate."""
        return certificate(subject=options.pop("subject", "release-officer"), key=self.signer_key,
                           issuer_cert=self.intermediate, issuer_key=self.intermediate_key, ca=False, **options)


def make_pki(folder: Path, *, prefix: str = "") -> Pki:
    folder.mkdir(parents=True, exist_ok=True)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = certificate(subject=f"{prefix}Example Root CA", key=root_key, ca=True, not_before=NOW - 400 * DAY,
                       not_after=NOW + 3650 * DAY)
    intermediate_key = ec.generate_private_key(ec.SECP256R1())
    intermediate = certificate(subject=f"{prefix}Example Signing CA", key=intermediate_key, issuer_cert=root,
                               issuer_key=root_key, ca=True, not_before=NOW - 400 * DAY,
                               not_after=NOW + 1825 * DAY)
    signer_key = write_key(folder, "signer")
    leaf = certificate(subject="release-officer", key=signer_key, issuer_cert=intermediate,
                       issuer_key=intermediate_key, ca=False)
    pki = Pki(folder, root_key, root, intermediate_key, intermediate, signer_key, leaf)
    pki.ca_file.write_bytes(pem(root))
    pki.intermediate_file.write_bytes(pem(intermediate))
    pki.leaf_file()
    return pki


def make_model(folder: Path, files: dict[str, bytes] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in (files or {"weights.bin": os.urandom(4096), "config.json": b'{"layers": 3}',
                                 "sub/tokenizer.txt": b"a b c\n"}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


# -- signatures made by the installed model_signing library ------------------------------------

def library_sign_key(model: Path, signature: Path, key: Path, *, ignore: list[Path] = ()) -> Path:
    """``model_signing`` 1.1's key signature (key hint, ignore paths recorded)."""
    import model_signing

    hashing = model_signing.hashing.Config().set_ignored_paths(paths=[*ignore, signature])
    (model_signing.signing.Config().use_elliptic_key_signer(private_key=key, password=PASSPHRASE)
     .set_hashing_config(hashing).sign(model, signature))
    return signature


def library_sign_certificate(model: Path, signature: Path, pki: Pki, *, leaf_file: Path | None = None,
                             chain: list[Path] | None = None, ignore: list[Path] = ()) -> Path:
    """``model_signing``'s certificate signature (its signer wants the key unencrypted)."""
    import model_signing

    plain = pki.folder / "signer-plain.key"
    plain.write_bytes(pki.signer_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))
    hashing = model_signing.hashing.Config().set_ignored_paths(paths=[*ignore, signature])
    (model_signing.signing.Config().use_certificate_signer(
        private_key=plain, signing_certificate=leaf_file or pki.leaf_file(),
        certificate_chain=chain if chain is not None else [pki.intermediate_file])
     .set_hashing_config(hashing).sign(model, signature))
    return signature


# -- older format versions, built from the specification ---------------------------------------

def _pae(payload: bytes, *, compat: bool = False) -> bytes:
    if compat:  # what the 0.2.x releases signed: the payload's repr inside a text PAE
        return f"DSSEV1 {len(PAYLOAD_TYPE)} {PAYLOAD_TYPE} {len(payload)} {payload}".encode()
    return b"DSSEv1 %d %s %d " % (len(PAYLOAD_TYPE), PAYLOAD_TYPE.encode(), len(payload)) + payload


def _digests(model: Path) -> dict[str, str]:
    if model.is_file():
        return {".": hashlib.sha256(model.read_bytes()).hexdigest()}
    return {p.relative_to(model).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(model.rglob("*")) if p.is_file()}


def spec_statement(model: Path, *, version: str, skip: tuple[str, ...] = ()) -> dict:
    """The in-toto statement a model-signing release of ``version`` writes for ``model``."""
    digests = {n: d for n, d in _digests(model).items() if n not in skip}
    if version == "0.2":
        return {"_type": "https://in-toto.io/Statement/v1",
                "subject": [{"name": n, "digest": {"sha256": d}, "annotations": {"actual_hash_algorithm": "file-sha256"}}
                            for n, d in sorted(digests.items())],
                "predicateType": "https://model_signing/Digests/v0.1",
                "predicate": {"unused": "Unused, just passed due to API requirements"}}
    root = hashlib.sha256(b"".join(bytes.fromhex(d) for _, d in sorted(digests.items()))).hexdigest()
    return {"_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": model.name, "digest": {"sha256": root}}],
            "predicateType": "https://model_signing/signature/v1.0",
            "predicate": {"serialization": {"method": "files", "hash_type": "sha256", "allow_symlinks": False},
                          "resources": [{"name": n, "algorithm": "sha256", "digest": d}
                                        for n, d in sorted(digests.items())]}}


def spec_signature(statement: dict, *, key, signer: str = "embedded", certificates=()) -> bytes:
    """A Sigstore bundle over ``statement`` signed by ``key``; the signer is named as the
    0.3.x-1.0.x releases did (``embedded``: the key's PEM in ``rawBytes``; ``embedded-der``
    as the Sigstore bundle format has it), or not at all (``none``), or by a certificate chain."""
    payload = json.dumps(statement).encode()
    compat = statement["predicateType"].endswith("Digests/v0.1")
    signature = key.sign(_pae(payload, compat=compat), ec.ECDSA(hashes.SHA256()))
    if certificates:
        material = {"x509CertificateChain": {"certificates": [
            {"rawBytes": base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()}
            for c in certificates]}}
    elif signer in ("embedded", "embedded-der"):
        # The 0.3.x-1.0.x releases embedded the key's PEM text; Sigstore's bundle format says DER.
        encoding = serialization.Encoding.DER if signer == "embedded-der" else serialization.Encoding.PEM
        raw = key.public_key().public_bytes(encoding, serialization.PublicFormat.SubjectPublicKeyInfo)
        material = {"publicKey": {"rawBytes": base64.b64encode(raw).decode(),
                                  "keyDetails": "PKIX_ECDSA_P256_SHA_256"}}
    else:
        material = {"publicKey": {}}
    return json.dumps({"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
                       "verificationMaterial": material,
                       "dsseEnvelope": {"payload": base64.b64encode(payload).decode(), "payloadType": PAYLOAD_TYPE,
                                        "signatures": [{"sig": base64.b64encode(signature).decode()}]}}).encode()


# -- the stock command ---------------------------------------------------------------------------

def stock_command(model: Path, signature: Path, *, key: Path | None = None, ca: list[Path] = (),
                  ignore: list[Path] = ()) -> list[str]:
    """The ``model_signing verify key|certificate`` command line for these inputs."""
    if key is not None:
        command = [str(STOCK), "verify", "key", str(model), "--signature", str(signature), "--public_key", str(key)]
    else:
        command = [str(STOCK), "verify", "certificate", str(model), "--signature", str(signature)]
        for path in ca:
            command += ["--certificate_chain", str(path)]
    for path in ignore:
        command += ["--ignore-paths", str(path)]
    return command


def stock_verdicts(*commands: list[str]) -> list[bool]:
    """Whether the stock command accepts, for each command line; they run side by side
    because each one spends seconds importing its dependencies."""
    running = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for c in commands]
    verdicts = []
    for process in running:
        out, err = process.communicate(timeout=300)
        verdicts.append(process.returncode == 0)
    return verdicts


def stock_verify(model: Path, signature: Path, **options) -> bool:
    """Whether ``model_signing verify key|certificate`` accepts the signature."""
    return stock_verdicts(stock_command(model, signature, **options))[0]
