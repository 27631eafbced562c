"""DSSE envelopes: the pre-authentication encoding, signing, and what a verifier refuses."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from modelgate.core.signing.dsse import KeySigner, open_envelope, pae, parse_envelope, sign_envelope
from modelgate.core.signing.errors import SignatureFormatError
from modelgate.core.signing.keys import fingerprint


def test_the_pre_authentication_encoding_is_the_specs_own_example():
    # The example in the DSSE v1 protocol text (secure-systems-lab/dsse, protocol.md).
    assert pae("http://example.com/HelloWorld", b"hello world") == \
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"


@pytest.mark.parametrize("curve", [ec.SECP256R1(), ec.SECP384R1(), ec.SECP521R1()])
def test_an_envelope_opens_with_the_signers_public_key_only(curve):
    key = ec.generate_private_key(curve)
    envelope = sign_envelope(payload=b'{"a":1}', signer=KeySigner(key))
    assert envelope["signatures"][0]["keyid"] == fingerprint(key.public_key())
    opened = open_envelope(json.loads(json.dumps(envelope)), public_keys={"x": key.public_key()})
    assert opened.payload == b'{"a":1}' and opened.key_fingerprint == fingerprint(key.public_key())


def _with(envelope: dict, **changes) -> dict:
    return {**envelope, **changes}


def test_an_altered_payload_type_or_signature_or_another_key_is_refused():
    key, other = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    envelope = sign_envelope(payload=b'{"a":1}', signer=KeySigner(key))
    trusted = {fingerprint(key.public_key()): key.public_key()}
    altered = [
        _with(envelope, payload=base64.b64encode(b'{"a":2}').decode()),
        _with(envelope, payloadType="application/json"),
        _with(envelope, signatures=[{"keyid": "", "sig": base64.b64encode(b"\x30\x06\x02\x01\x01\x02\x01\x01").decode()}]),
    ]
    for candidate in altered:
        with pytest.raises(SignatureFormatError, match="no signature"):
            open_envelope(candidate, public_keys=trusted)
    with pytest.raises(SignatureFormatError, match="no signature"):
        open_envelope(envelope, public_keys={fingerprint(other.public_key()): other.public_key()})


@pytest.mark.parametrize("text", [b"not json", b"[]", b'{"payloadType": "x", "signatures": []}',
                                  b'{"payload": "e30=", "signatures": [{"sig": "AA=="}]}'])
def test_what_is_not_an_envelope_is_said_so(text):
    with pytest.raises(SignatureFormatError):
        parse_envelope(text)
