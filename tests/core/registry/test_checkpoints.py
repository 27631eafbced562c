"""The signed-note checkpoint format, and when checkpoints are signed."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from modelgate.core import settings
from modelgate.core.registry import audit, checkpoints, init_registry

DIGEST = hashlib.sha256(b"head").hexdigest()
ORIGIN = "modelgate.registry/0123456789abcdef"


def raw(key) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def test_a_checkpoint_is_a_c2sp_signed_note():
    key = Ed25519PrivateKey.generate()
    text = checkpoints.note_text(origin=ORIGIN, seq=42, digest=DIGEST)
    assert text == f"{ORIGIN}\n42\n{base64.b64encode(bytes.fromhex(DIGEST)).decode()}\n"
    note = checkpoints.sign_note(text=text, private_key=key)
    body, signature = note.split("\n\n")
    name, blob = signature.removeprefix("\u2014 ").rstrip("\n").split(" ")
    assert name == ORIGIN
    decoded = base64.b64decode(blob)
    # key ID = SHA-256(key name || 0x0A || 0x01 || public key)[:4], then the Ed25519 signature
    assert decoded[:4] == hashlib.sha256(ORIGIN.encode() + b"\n\x01" + raw(key)).digest()[:4]
    key.public_key().verify(decoded[4:], text.encode())
    made = checkpoints.open_note(note=note.encode(), public=raw(key))
    assert (made.origin, made.seq, made.hash) == (ORIGIN, 42, DIGEST)


def test_signatures_by_unknown_keys_are_ignored_but_one_by_this_key_is_required():
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    text = checkpoints.note_text(origin=ORIGIN, seq=7, digest=DIGEST)
    by_other = checkpoints.sign_note(text=text, private_key=other)
    with pytest.raises(ValueError, match="no signature by this registry"):
        checkpoints.open_note(note=by_other.encode(), public=raw(key))
    both = checkpoints.sign_note(text=text, private_key=key) + by_other.split("\n\n")[1]
    assert checkpoints.open_note(note=both.encode(), public=raw(key)).seq == 7


@pytest.mark.parametrize("spoil", [
    lambda n: n.replace("\n7\n", "\n8\n", 1),            # another event count
    lambda n: n.replace(ORIGIN + "\n", "x" + ORIGIN + "\n", 1),  # another origin: no signature by this key
    lambda n: n.split("\n\n")[0] + "\n",                  # no signature at all
    lambda n: n.replace("\n", "\r\n"),                     # control characters
    lambda n: n + "x" * checkpoints.MAX_NOTE_BYTES,      # far too large
])
def test_a_spoilt_checkpoint_is_refused(spoil):
    key = Ed25519PrivateKey.generate()
    note = checkpoints.sign_note(text=checkpoints.note_text(origin=ORIGIN, seq=7, digest=DIGEST), private_key=key)
    with pytest.raises(ValueError):
        checkpoints.open_note(note=spoil(note).encode(), public=raw(key))


def test_the_folder_sits_beside_the_registry():
    assert checkpoints.folder_for(Path("/d/registry.store")) == Path("/d/registry.checkpoints")
    assert checkpoints.folder_for(Path("/data/store")) == Path("/data/store.checkpoints")


def test_checkpoints_are_on_by_default(monkeypatch):
    monkeypatch.delenv("MODELGATE_AUDIT_CHECKPOINT_EVERY", raising=False)
    assert settings.get("audit_checkpoint_every") == 100


def test_a_due_checkpoint_signs_only_what_was_committed(tmp_path, monkeypatch):
    """An append at a checkpoint boundary that is then rolled back must not be signed: the
    intact log would then look cut short."""
    monkeypatch.setenv("MODELGATE_AUDIT_CHECKPOINT_EVERY", "3")
    registry = init_registry(url=f"sqlite:///{tmp_path / 'registry.db'}", user="root")
    try:
        registry.add_user(name="ana", roles=["reviewer"])  # event 2
        with pytest.raises(RuntimeError):
            with registry.session() as session:
                audit.append(session, actor="root", action="test", subject="x")  # event 3, due
                raise RuntimeError("rolled back")
        note = (registry.checkpoint_folder / "checkpoint").read_text()
        assert note.split("\n")[1] == "3"  # event 3 is now the checkpoint key's, committed
        assert checkpoints.verify_anchor(registry).state == "anchored"
        assert audit.verify(registry.engine).ok
    finally:
        registry.close()


@pytest.mark.slow
def test_concurrent_writers_leave_a_valid_checkpoint_that_never_steps_back(tmp_path, monkeypatch):
    import threading

    from modelgate.core.registry import open_registry

    monkeypatch.setenv("MODELGATE_AUDIT_CHECKPOINT_EVERY", "4")
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    init_registry(url=url, user="root").close()
    failures = []

    def writer(number):
        try:
            with open_registry(url=url, user="root") as registry:
                for step in range(15):
                    with registry.session() as session:
                        audit.append(session, actor="root", action="test", subject=f"{number}-{step}")
        except Exception as error:  # surfaced below: a thread's exception is otherwise lost
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    with open_registry(url=url, user="root") as registry:
        anchored = checkpoints.verify_anchor(registry)
        assert anchored.state == "anchored" and anchored.checkpoint.seq >= 44
        assert registry.verify_audit().ok
        assert not list(registry.checkpoint_folder.glob(".*.tmp"))
