"""A SoftHSM2 PKCS#11 token for the tests that sign with a key in hardware.

SoftHSM2 reads its configuration (where its tokens live) once per process, when its module is
first loaded, so one token serves the whole test session: ``release``, PIN :data:`PIN`,
holding EC key pairs ``officer`` (P-256, id 01) and ``backup`` (P-384, id 02).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
PIN = "246810"


@dataclass(frozen=True)
class Token:
    folder: Path
    label: str = "release"

    def uri(self, key: str = "officer", **query) -> str:
        """The RFC 7512 URI of ``key`` in this token, with extra query attributes."""
        extra = "".join(f"&{k}={v}" for k, v in query.items())
        return f"pkcs11:token={self.label};object={key}?module-path={MODULE}{extra}"

    def public_pem(self, key: str = "officer") -> bytes:
        from cryptography.hazmat.primitives import serialization

        from modelgate.core.signing.pkcs11 import TokenSigner

        with TokenSigner(self.uri(key), pin=PIN) as signer:
            return signer.public_key().public_bytes(encoding=serialization.Encoding.PEM,
                                                    format=serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.fixture(scope="session")
def softhsm_token(tmp_path_factory) -> Token:
    import pkcs11
    from pkcs11 import Attribute, KeyType
    from pkcs11.util.ec import encode_named_curve_parameters

    folder = tmp_path_factory.mktemp("softhsm")
    (folder / "tokens").mkdir()
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    # Set for the whole session, before the module is first loaded, and left set: the module
    # keeps reading its token folder from it.
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run([shutil.which("softhsm2-util"), "--init-token", "--free", "--label", "release",
                    "--pin", PIN, "--so-pin", "13579111"], check=True, capture_output=True)
    with pkcs11.lib(MODULE).get_token(token_label="release").open(user_pin=PIN, rw=True) as session:
        for label, curve, key_id in (("officer", "secp256r1", b"\x01"), ("backup", "secp384r1", b"\x02")):
            parameters = session.create_domain_parameters(
                KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters(curve)}, local=True)
            parameters.generate_keypair(store=True, label=label, id=key_id)
    return Token(folder)
