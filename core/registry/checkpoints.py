"""Signed checkpoints of the audit log's head, kept outside the database.

The hash chain (:mod:`.audit`) shows any edit, insertion or reordering, but whoever can write
the database can also delete the newest events and move ``chain_head`` back to match: the
shorter chain is perfectly consistent. A checkpoint closes that gap. Every
``audit_checkpoint_every`` events (a setting, default 100) and on ``modelgate audit
checkpoint``, the registry signs its head (event number and hash) with an Ed25519 key and
writes it to a file outside the database; ``modelgate audit verify`` then requires the log
to still hold that exact event, so cutting or rewriting the log back past the checkpoint is
reported (exit 1) without anyone passing ``--expect-head``.

The file is a signed note as C2SP specifies it (c2sp.org/signed-note, Ed25519, signature
type 0x01) whose text follows c2sp.org/tlog-checkpoint: the origin line
``modelgate.registry/<first 16 hex digits of event 1's hash>`` (the registry's identity:
event 1 is unique to each registry), the number of events, and the base64 of the head
event's hash, which here is the hash chain's head rather than a Merkle root.

Where it lives: the folder beside the registry's store (for the default SQLite registry
``registry.db``, whose store is ``registry.store``, that is ``registry.checkpoints``; for
PostgreSQL, ``store.checkpoints`` in the station's data folder or beside
``MODELGATE_STORE``). The folder is created with mode 0700 and holds ``checkpoint`` (the
latest signed note), ``checkpoint-key.pem`` (the Ed25519 private key, unencrypted so that
checkpoints are signed unattended, mode 0600) and ``checkpoint-key.pub`` (its public key).
The key is made with the first checkpoint (the first time one falls due, or on
``modelgate audit checkpoint``); the event ``audit.checkpoint_key`` then records its public
key, the folder and the host in the log itself, so a checkpoint or key that later
disappears or is swapped is reported rather than taken for a registry that never had one,
and no checkpoint is ever signed over a missing, invalid or foreign previous one.

What it catches: anyone who can write the database but not this folder (a database login on
a shared PostgreSQL server, a script run against the database file, a restored database
backup) truncating the log, rewriting events back past the latest checkpoint, or deleting
the checkpoint while the log still records its key; a checkpoint file edited or signed by
another key (its signature does not verify: reported); a checkpoint copied from another
registry (its origin differs). A checkpoint is only ever written when the events since the
previous one extend it consistently, so a tampered log is never signed over.

What it does not catch: someone who can read the private key (on a single-person SQLite
registry that is the owner's own account) can sign a checkpoint for any log they forge;
someone who can write the folder can put back an older genuine checkpoint and truncate the
log down to it, or delete folder and log events together; events appended after the latest
checkpoint can still be cut off (at most ``audit_checkpoint_every`` - 1 of them; run
``modelgate audit checkpoint`` after important changes). For those, keep the head that
``audit verify`` prints, or the checkpoint file, somewhere else too (a CI log, a ticket)
and check it with ``--expect-head``. On PostgreSQL each station keeps its own folder and
key, so each station's checkpoints witness the log as that station saw it. File modes are
POSIX; on Windows the folder inherits the user profile's access rights.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from modelgate.core.registry import audit
from modelgate.core.registry.errors import RegistryError, WorkflowRefused
from modelgate.core.registry.models import AuditEventRow, ChainHead

ORIGIN_PREFIX = "modelgate.registry/"
CHECKPOINT_FILE = "checkpoint"
KEY_FILE = "checkpoint-key.pem"
PUBLIC_FILE = "checkpoint-key.pub"
KEY_EVENT = "audit.checkpoint_key"
#: The signed-note signature type byte of Ed25519 (c2sp.org/signed-note).
ED25519 = b"\x01"
#: A checkpoint is three short lines and one signature; anything far larger is not one.
MAX_NOTE_BYTES = 16 * 1024


class CheckpointError(RegistryError):
    """A checkpoint could not be written (the folder or the key is unusable)."""


@dataclass(frozen=True)
class Checkpoint:
    """One signed checkpoint: the log ``origin`` held ``seq`` events, the last one hashing to ``hash``."""

    origin: str
    seq: int
    hash: str
    note: str


@dataclass(frozen=True)
class CheckpointVerdict:
    """How the log stands against its latest checkpoint.

    ``state`` is ``anchored`` (the log holds the checkpointed event), ``unanchored`` (no
    checkpoint exists yet and none was ever made here) or ``broken`` (``reason`` says why).
    """

    state: str
    checkpoint: Checkpoint | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.state != "broken"


def folder_for(store_root: Path) -> Path:
    """The checkpoint folder of the registry whose store is ``store_root``: ``registry.checkpoints``
    for ``registry.store``, else ``<store>.checkpoints``."""
    store_root = Path(store_root)
    if store_root.suffix == ".store":  # registry.store -> registry.checkpoints, beside registry.db
        return store_root.with_suffix(".checkpoints")
    return store_root.with_name(store_root.name + ".checkpoints")


def origin_of(first_hash: str) -> str:
    """The origin line naming the registry whose event 1 hashes to ``first_hash``."""
    return ORIGIN_PREFIX + first_hash[:16]


def key_id(name: str, public: bytes) -> bytes:
    """The signed-note key ID: SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public).digest()[:4]


def note_text(*, origin: str, seq: int, digest: str) -> str:
    """The checkpoint's note text: origin, number of events, base64 of the head hash."""
    return f"{origin}\n{seq}\n{base64.b64encode(bytes.fromhex(digest)).decode()}\n"


def sign_note(*, text: str, private_key) -> str:
    """``text`` signed by ``private_key`` (Ed25519) as a signed note whose key name is its origin."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    name = text.split("\n", 1)[0]
    public = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    blob = key_id(name, public) + private_key.sign(text.encode())
    return f"{text}\n\u2014 {name} {base64.b64encode(blob).decode()}\n"


def open_note(*, note: bytes, public: bytes) -> Checkpoint:
    """Parse and verify a signed checkpoint with the raw Ed25519 ``public`` key.

    Raises :class:`ValueError` saying what is wrong: not a signed note, no signature by
    this key, a signature that does not verify, or a text that is not a checkpoint.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if len(note) > MAX_NOTE_BYTES:
        raise ValueError(f"it is {len(note)} bytes, far more than a checkpoint")
    try:
        decoded = note.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("it is not UTF-8 text") from None
    if any(ord(c) < 0x20 and c != "\n" for c in decoded):
        raise ValueError("it holds control characters")
    text, sep, signatures = decoded.rpartition("\n\n")
    if not sep or not signatures.endswith("\n"):
        raise ValueError("it is not a signed note (no signature lines after a blank line)")
    text += "\n"
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise ValueError("its text does not have the three lines of a checkpoint")
    origin, size, root = lines[:3]
    wanted = key_id(origin, public)
    verified = False
    for line in signatures[:-1].split("\n"):
        dash, _, rest = line.partition(" ")
        name, _, encoded = rest.partition(" ")
        if dash != "\u2014" or not name or not encoded:
            raise ValueError("a signature line is malformed")
        try:
            blob = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise ValueError("a signature is not base64") from None
        if name != origin or blob[:4] != wanted:
            continue  # signed-note: signatures by unknown keys are ignored
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(blob[4:], text.encode())
        except InvalidSignature:
            raise ValueError("its signature does not verify: it was altered or signed by another key") from None
        verified = True
    if not verified:
        raise ValueError("it carries no signature by this registry's checkpoint key")
    try:
        digest = base64.b64decode(root, validate=True).hex()
    except ValueError:
        digest = ""
    if not size.isdigit() or (size != "0" and size.startswith("0")) or len(digest) != 64:
        raise ValueError("its text is not a checkpoint (event count and hash lines)")
    return Checkpoint(origin, int(size), digest, decoded)


def _private_key(folder: Path):
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        return load_pem_private_key((folder / KEY_FILE).read_bytes(), password=None)
    except OSError as error:
        raise CheckpointError(f"cannot read the checkpoint key {folder / KEY_FILE}: {error.strerror}",
                              hint="Audit checkpoints are signed by the account that owns that "
                                   "folder; run the command as that account.") from None


def public_key(folder: Path) -> bytes | None:
    """The raw checkpoint public key in ``folder``, or None when there is none (or it is unreadable)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key

    try:
        key = load_pem_public_key((folder / PUBLIC_FILE).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(key, Ed25519PublicKey):
        return None
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _write_private(path: Path, data: bytes, mode: int) -> None:
    """Write ``data`` to ``path`` atomically with ``mode`` from the start (never world-readable)."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")  # threads share a pid
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _location(folder: Path) -> dict:
    return {"folder": str(folder.resolve()), "host": socket.gethostname()}


def _key_events(session, folder: Path) -> list[dict]:
    """Payloads of ``audit.checkpoint_key`` events about ``folder`` on this host, oldest first
    (``session`` may be a Session or a Connection)."""
    here = _location(folder)
    found = []
    for event in audit.events(session, action=KEY_EVENT):
        if all(event.payload.get(k) == v for k, v in here.items()):
            found.append(event.payload)
    return found


def create_key(session, *, folder: Path, actor: str) -> bytes:
    """Make the folder's checkpoint key pair and record its public key in the log (in the
    caller's transaction). Returns the raw public key."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
        PublicFormat,
    )

    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    public = key.public_key()
    _write_private(folder / KEY_FILE, key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()), 0o600)
    _write_private(folder / PUBLIC_FILE, public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo),
                   0o644)
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    audit.append(session, actor=actor, action=KEY_EVENT, subject="audit",
                 payload={**_location(folder), "public_key": base64.b64encode(raw).decode()})
    return raw


def read_checkpoint(folder: Path) -> bytes | None:
    """The bytes of the latest checkpoint in ``folder``, or None when there is none."""
    try:
        with open(folder / CHECKPOINT_FILE, "rb") as handle:
            return handle.read(MAX_NOTE_BYTES + 1)
    except FileNotFoundError:
        return None


def _head(connection) -> tuple[int, str, str | None]:
    """``(seq, hash, hash of event 1)`` of the committed log."""
    head = connection.execute(select(ChainHead.seq, ChainHead.hash).where(ChainHead.id == audit.HEAD_ID)).one()
    first = connection.execute(select(AuditEventRow.hash).where(AuditEventRow.seq == 1)).scalar()
    return head.seq, head.hash, first


def write_checkpoint(engine, *, folder: Path, first: bool = False) -> Checkpoint | None:
    """Sign the committed head into ``folder``'s checkpoint if the log extends the previous one.

    Returns the new checkpoint, or None when there was nothing to sign (an empty log, or a
    head already checkpointed). Raises :class:`WorkflowRefused` when the log does not extend
    the previous checkpoint (it was cut or rewritten: that is never signed over), when the
    previous checkpoint is invalid or belongs to another log, or when it is missing although
    the log records its key (unless ``first``: the checkpoint right after the key was made),
    and :class:`CheckpointError` when the folder has no usable key.
    """
    public = public_key(folder)
    if public is None:
        raise CheckpointError(f"no checkpoint key in {folder}",
                              hint="`modelgate audit checkpoint` (as an admin) creates one.")
    refused = "; not signing over that"
    hint = "`modelgate audit verify` says what is wrong."
    with engine.connect() as connection:
        seq, digest, first_hash = _head(connection)
        if not seq or first_hash is None:
            return None
        origin = origin_of(first_hash)
        data = read_checkpoint(folder)
        previous = None
        if data is not None:
            try:
                previous = open_note(note=data, public=public)
            except ValueError as error:
                raise WorkflowRefused(f"the signed checkpoint is invalid ({error}){refused}", hint=hint) from None
            if previous.origin != origin:
                raise WorkflowRefused(f"the signed checkpoint belongs to {previous.origin}, not to this log "
                                      f"({origin}){refused}", hint=hint)
        elif not first and _key_events(connection, folder):
            raise WorkflowRefused(f"the signed checkpoint is missing although the log records its key{refused}",
                                  hint=hint)
        if previous is not None and previous.seq == seq and previous.hash == digest:
            return None
        start = (previous.seq, previous.hash) if previous is not None else (0, audit.GENESIS)
        if previous is not None and previous.seq > seq:
            raise WorkflowRefused(f"the audit log holds {seq} events but its signed checkpoint "
                                  f"records {previous.seq}: events were cut off; not signing over that",
                                  hint="`modelgate audit verify` says what is wrong.")
        last, last_hash, broken = audit.verify_after(connection, seq=start[0], digest=start[1])
        if broken is not None or (last, last_hash) != (seq, digest):
            reason = broken.reason if broken is not None else "the chain head does not match the last event"
            raise WorkflowRefused(f"the audit log does not extend its last signed checkpoint ({reason}); "
                                  "not signing over that", hint="`modelgate audit verify` says what is wrong.")
    note = sign_note(text=note_text(origin=origin, seq=seq, digest=digest), private_key=_private_key(folder))
    latest = _previous(folder, public)
    if latest is not None and latest.origin == origin and latest.seq >= seq:
        return None  # a concurrent writer signed a later head meanwhile; never step back
    _write_private(folder / CHECKPOINT_FILE, note.encode(), 0o644)
    return Checkpoint(origin, seq, digest, note)


def _previous(folder: Path, public: bytes) -> Checkpoint | None:
    data = read_checkpoint(folder)
    if data is None:
        return None
    try:
        return open_note(note=data, public=public)
    except ValueError:
        return None  # verify reports it, and write_checkpoint refuses to sign over it


def ensure_key(registry) -> bool:
    """Give ``registry`` a checkpoint key if its folder has none; return whether one was made.

    Refused (:class:`WorkflowRefused`) when the log records a key for this folder that is gone.
    """
    folder = folder_for(registry.store_root)
    if public_key(folder) is not None:
        return False
    with registry.session(checkpoint=False) as session:
        audit.lock_head(session)  # two processes must not both make a key
        if public_key(folder) is not None:
            return False
        if _key_events(session, folder):
            # A fresh key would sign whatever the log now holds: a folder deleted together
            # with the newest events must stay reported, not be papered over.
            raise WorkflowRefused(f"the log records a checkpoint key for {folder}, but the key is gone",
                                  hint="Restore the checkpoint folder from a backup; `modelgate audit "
                                       "verify` says what else is wrong.")
        create_key(session, folder=folder, actor=registry.actor)
    # At once, so that from now on a missing checkpoint means a deleted one.
    write_checkpoint(registry.engine, folder=folder, first=True)
    return True


def checkpoint(registry) -> Checkpoint | None:
    """Check the whole log, then sign its head (``modelgate audit checkpoint``): needs the
    admin role; refused (:class:`WorkflowRefused`) when the log or its checkpoint is broken."""
    from modelgate.core.registry import identity

    with registry.session(checkpoint=False) as session:
        identity.require(session, registry.actor, "admin", action="sign a checkpoint of", subject="the audit log")
    ensure_key(registry)
    folder = folder_for(registry.store_root)
    verdict = audit.verify(registry.engine)
    if not verdict.ok:
        raise WorkflowRefused(f"the audit log is broken at event {verdict.first_broken}: {verdict.reason}; "
                              "not signing over that", hint="Restore the registry from a backup.")
    anchored = verify_anchor(registry)
    if anchored.state == "broken":
        raise WorkflowRefused(f"{anchored.reason}; not signing over that",
                              hint="Restore the registry and its checkpoint folder from a backup.")
    return write_checkpoint(registry.engine, folder=folder) or anchored.checkpoint


def due(registry) -> Checkpoint | None:
    """The checkpoint an append made due (see ``audit_checkpoint_every``), made on commit.

    A registry without a key gets one first. A log that no longer extends the previous
    checkpoint is not signed (``audit verify`` reports it); None then.
    """
    try:
        ensure_key(registry)
        return write_checkpoint(registry.engine, folder=folder_for(registry.store_root))
    except WorkflowRefused:
        return None


def verify_anchor(registry) -> CheckpointVerdict:
    """Check the log against its latest checkpoint (the chain itself is :func:`audit.verify`'s)."""
    folder = folder_for(registry.store_root)
    public = public_key(folder)
    data = read_checkpoint(folder)
    with registry.session(write=False, checkpoint=False) as session:
        keys = _key_events(session, folder)
        seq, digest, first = _head(session.connection())
        if public is None:
            if keys:
                return CheckpointVerdict("broken", reason=(
                    f"the audit checkpoint key recorded in the log is gone from {folder}: the checkpoint "
                    "folder was deleted or replaced"))
            return CheckpointVerdict("unanchored", reason="no signed checkpoint has been made yet")
        recorded = [base64.b64decode(k.get("public_key", "")) for k in keys]
        if recorded and public not in recorded:
            return CheckpointVerdict("broken", reason=(
                f"the checkpoint key in {folder} is not the one the log recorded: it was replaced"))
        if data is None:
            if keys:
                return CheckpointVerdict("broken", reason=(
                    f"the signed checkpoint {folder / CHECKPOINT_FILE} is missing although the log "
                    "records its key: it was deleted"))
            return CheckpointVerdict("unanchored", reason="no signed checkpoint has been made yet")
        try:
            made = open_note(note=data, public=public)
        except ValueError as error:
            return CheckpointVerdict("broken", reason=f"the checkpoint {folder / CHECKPOINT_FILE} is invalid: {error}")
        if first is None or made.origin != origin_of(first):
            return CheckpointVerdict("broken", made, (
                f"the checkpoint belongs to {made.origin}, not to this log "
                f"({origin_of(first) if first else 'an empty log'}): the log was replaced or rewritten from its start"))
        if made.seq > seq:
            gone = f"event {seq + 1}" if made.seq == seq + 1 else f"events {seq + 1} to {made.seq}"
            return CheckpointVerdict("broken", made, (
                f"{gone} cut off: the signed checkpoint records {made.seq} events, the log now holds {seq}"))
        held = session.execute(select(AuditEventRow.hash).where(AuditEventRow.seq == made.seq)).scalar()
        if held != made.hash:
            return CheckpointVerdict("broken", made, (
                f"event {made.seq} differs from the signed checkpoint: the log was rewritten back past it"))
    return CheckpointVerdict("anchored", made)
