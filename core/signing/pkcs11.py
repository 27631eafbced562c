"""Signing with an elliptic-curve key held in a PKCS#11 token (HSM, smart card, SoftHSM).

A key is named by an RFC 7512 URI, for example
``pkcs11:token=release;object=release-officer?module-path=/usr/lib/softhsm/libsofthsm2.so``.
The path part picks the token (``token``, ``serial``, ``manufacturer``, ``model``) and the
key (``object``, ``id``); the query may give ``module-path`` (else the ``pkcs11_module``
setting) and ``pin-source`` (a file holding the PIN). A ``pin-value`` is refused: a PIN on the
command line is readable by every user of the machine. Without ``pin-source`` the PIN comes
from ``MODELGATE_PKCS11_PIN`` or a prompt.

The private key never leaves the token: the digest (SHA-256/384/512 by curve) is computed
here, the token signs it with plain ECDSA and returns ``r || s``, which is DER-encoded here, so a :class:`TokenSigner` signs
DSSE envelopes (:mod:`.dsse`) and model-signing signatures alike, and anyone verifies them
with the public key alone.
"""

from __future__ import annotations

import getpass
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from modelgate.core.signing.errors import KeyFileError

SCHEME = "pkcs11:"
PIN_ENV = "MODELGATE_PKCS11_PIN"
_TOKEN_ATTRS = {"token": "token_label", "serial": "token_serial", "manufacturer": "manufacturer_id",
                "model": "model"}
_KNOWN = {*_TOKEN_ATTRS, "object", "id", "type", "slot-id", "library-manufacturer", "library-description",
          "library-version", "slot-description", "slot-manufacturer"}


@dataclass(frozen=True)
class TokenKeyUri:
    """An RFC 7512 URI, split: its path attributes and its query attributes, percent-decoded."""

    path: dict[str, str]
    query: dict[str, str]

    @property
    def label(self) -> str | None:
        return self.path.get("object")

    @property
    def key_id(self) -> bytes | None:
        return self.path["id"].encode("latin-1") if "id" in self.path else None


def is_token_uri(text: str) -> bool:
    """Whether ``text`` names a key in a token rather than a key file."""
    return str(text).startswith(SCHEME)


def _pairs(text: str, separator: str, *, what: str) -> dict[str, str]:
    found = {}
    for part in filter(None, text.split(separator)):
        name, equals, value = part.partition("=")
        if not equals or not name:
            raise KeyFileError(f"{part!r} in the PKCS#11 URI is not NAME=VALUE ({what})")
        if name in found:
            raise KeyFileError(f"{name!r} appears twice in the PKCS#11 URI")
        # ``id`` is raw bytes; everything else is UTF-8 text.
        found[name] = unquote(value, encoding="latin-1" if name == "id" else "utf-8", errors="strict")
    return found


def parse_uri(text: str) -> TokenKeyUri:
    """Split the RFC 7512 URI ``text``; :class:`KeyFileError` (exit 2) when it cannot name one key."""
    if not is_token_uri(text):
        raise KeyFileError(f"{text!r} is not a PKCS#11 URI (pkcs11:token=...;object=...)")
    body = text[len(SCHEME):]
    path_part, _, query_part = body.partition("?")
    try:
        path, query = _pairs(path_part, ";", what="path"), _pairs(query_part, "&", what="query")
    except UnicodeDecodeError:
        raise KeyFileError("the PKCS#11 URI holds a percent-encoded value that is not UTF-8") from None
    unknown = sorted(set(path) - _KNOWN)
    if unknown:
        raise KeyFileError(f"the PKCS#11 URI has unknown attributes: {', '.join(unknown)}")
    if "pin-value" in query:
        raise KeyFileError("the PKCS#11 URI carries the PIN itself (pin-value)",
                           hint=f"Give it in a file (pin-source=file:PATH), {PIN_ENV}, or at the prompt.")
    if "object" not in path and "id" not in path:
        raise KeyFileError("the PKCS#11 URI names no key: add object=LABEL or id=%NN")
    return TokenKeyUri(path, query)


def read_pin(uri: TokenKeyUri) -> str:
    """The token's user PIN: from the URI's ``pin-source`` file, ``MODELGATE_PKCS11_PIN``, or a prompt."""
    source = uri.query.get("pin-source")
    if source is not None:
        location = source[len("file:"):] if source.startswith("file:") else source
        try:
            return Path(location).read_text(encoding="utf-8")[:256].rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyFileError(f"cannot read the PIN file {location}: {getattr(exc, 'strerror', exc)}") from None
    if os.environ.get(PIN_ENV):
        return os.environ[PIN_ENV]
    if not os.isatty(0):
        raise KeyFileError("no PIN for the token and no terminal to ask on",
                           hint=f"Set {PIN_ENV} or add pin-source=file:PATH to the URI.")
    return getpass.getpass("Token PIN: ")


def _module_path(uri: TokenKeyUri) -> str:
    from modelgate.core import settings

    module = uri.query.get("module-path") or settings.get(settings.PKCS11_MODULE)
    if not module:
        raise KeyFileError("no PKCS#11 module to load",
                           hint="Add module-path=/path/to/module.so to the URI or set MODELGATE_PKCS11_MODULE.")
    if not Path(module).is_file():
        raise KeyFileError(f"the PKCS#11 module {module} does not exist")
    return module


class TokenSigner:
    """A :class:`.dsse.Signer` whose EC private key stays in a PKCS#11 token.

    Opens a session on creation (logging in with the PIN); :meth:`close` (or ``with``) ends it.
    """

    def __init__(self, uri: str | TokenKeyUri, *, pin: str | None = None) -> None:
        import pkcs11
        from pkcs11 import Attribute, KeyType, ObjectClass
        from pkcs11.exceptions import PKCS11Error

        self.uri = parse_uri(uri) if isinstance(uri, str) else uri
        token_filter = {_TOKEN_ATTRS[k]: v for k, v in self.uri.path.items() if k in _TOKEN_ATTRS}
        try:
            library = pkcs11.lib(_module_path(self.uri))
            token = library.get_token(**token_filter)
        except pkcs11.exceptions.NoSuchToken:
            raise KeyFileError(f"no token matches {token_filter or 'the URI'}") from None
        except pkcs11.exceptions.MultipleTokensReturned:
            raise KeyFileError("more than one token matches the URI; add token=LABEL or serial=...") from None
        except (PKCS11Error, RuntimeError, OSError) as exc:
            raise KeyFileError(f"cannot load the PKCS#11 module: {exc.__class__.__name__}") from None
        try:
            self._session = token.open(user_pin=pin if pin is not None else read_pin(self.uri))
        except pkcs11.exceptions.PinIncorrect:
            raise KeyFileError("the token refused the PIN") from None
        except PKCS11Error as exc:
            raise KeyFileError(f"cannot open a session on the token: {exc.__class__.__name__}") from None
        wanted = {"key_type": KeyType.EC}
        if self.uri.label is not None:
            wanted["label"] = self.uri.label
        if self.uri.key_id is not None:
            wanted["id"] = self.uri.key_id
        try:
            self._private = self._session.get_key(object_class=ObjectClass.PRIVATE_KEY, **wanted)
            public = self._session.get_key(object_class=ObjectClass.PUBLIC_KEY, **wanted)
        except (pkcs11.exceptions.NoSuchKey, pkcs11.exceptions.MultipleObjectsReturned) as exc:
            self.close()
            why = "no" if isinstance(exc, pkcs11.exceptions.NoSuchKey) else "more than one"
            raise KeyFileError(f"{why} EC key pair in the token matches the URI",
                               hint="Name one key pair: object=LABEL, and id=%NN when labels repeat.") from None
        self._public = _public_key(public, Attribute)

    def public_key(self):
        return self._public

    def sign(self, data: bytes) -> bytes:
        from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
        from pkcs11 import Mechanism

        from modelgate.core.signing.dsse import hash_for

        # Hash here and let the token sign the digest (plain CKM_ECDSA): every EC token has
        # that mechanism, while the hashing variants are optional (SoftHSM2 lacks them).
        digest = hashlib.new(hash_for(self._public.curve.name).name, data).digest()
        raw = self._private.sign(digest, mechanism=Mechanism.ECDSA)
        half = len(raw) // 2
        return encode_dss_signature(int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big"))

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> TokenSigner:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _public_key(public, attribute):
    """The token's public key object as a cryptography EC public key (from EC_PARAMS and EC_POINT)."""
    from cryptography.hazmat.primitives import serialization
    from pkcs11.util.ec import encode_ec_public_key

    from modelgate.core.signing.keys import _require_ec

    key = serialization.load_der_public_key(encode_ec_public_key(public))
    return _require_ec(key, Path(str(public[attribute.LABEL])))
