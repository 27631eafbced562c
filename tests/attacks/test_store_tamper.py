"""Attacks on the bundle store: bytes changed, removed or added behind the registry's back.

Each is found by ``registry fsck`` (exit 1, each damaged version and file named, audited and
marked), and a marked version is refused by promote, sign, report and a re-import, until an
admin repairs it from a bundle with the very same bytes.
"""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from tests.attacks._rollback_support import demo_copy, flip_byte, model_file, writable

pytestmark = pytest.mark.slow

NAME, VERSION = "credit-risk", "1.2.0"      # a candidate in the demo
REF = f"{NAME}@{VERSION}"


@pytest.fixture()
def demo(demo_workspace, tmp_path, monkeypatch):
    # Signed audit checkpoints fall due every so many events and add an event of their own when
    # the first one makes its key; these tests count the events a store action adds.
    monkeypatch.setenv("MODELGATE_AUDIT_CHECKPOINT_EVERY", "0")
    return demo_copy(demo_workspace, tmp_path)


def _unchanged_but_events(demo, before) -> None:
    after = demo.snapshot()
    assert {k: v for k, v in after.items() if k != "events"} == \
        {k: v for k, v in before.items() if k != "events"}


def _no_repr(text: str) -> None:
    for marker in ("Digest(", "StoreCheck(", "DamageInfo(", "PosixPath("):
        assert marker not in text


def test_fsck_names_every_changed_missing_and_extra_file(demo, capsys):
    folder = demo.stored_folder(NAME, VERSION)
    changed = model_file(folder)
    flip_byte(changed)
    writable(folder / "LICENSE")
    (folder / "LICENSE").unlink()
    (folder / "model" / "planted.bin").write_bytes(b"\0" * 16)
    before = demo.snapshot()

    code, out, err = demo.run(capsys, "registry", "fsck")

    assert code == 1, out + err
    assert REF in out
    relative = changed.relative_to(folder).as_posix()
    assert f"changed  {relative}" in out and "missing  LICENSE" in out and "extra    model/planted.bin" in out
    _no_repr(out + err)
    events = demo.events_since(before)
    assert [(a, s) for _, a, s in events] == [("store.damaged", REF), ("store.fsck", "store")]
    payload = demo.payload(events[-1][0])
    (found,) = payload["damaged"]
    assert found["version"] == REF and found["changed"] == [relative] and found["missing"] == ["LICENSE"]
    assert found["extra"] == ["model/planted.bin"]
    assert len(demo.snapshot()["damage"]) == 1

    code, out, _ = demo.run(capsys, "registry", "show", REF)
    assert "STORED COPY DAMAGED" in out and relative in out
    code, out, _ = demo.run(capsys, "registry", "list", "--name", NAME)
    assert "DAMAGED" in out


def test_fsck_of_an_intact_store_exits_0_and_is_audited(demo, capsys):
    before = demo.snapshot()
    code, out, err = demo.run(capsys, "registry", "fsck")
    assert code == 0 and "store intact" in out, out + err
    assert [a for _, a, _ in demo.events_since(before)] == ["store.fsck"]
    assert not demo.snapshot()["damage"]


def test_an_edited_file_list_does_not_hide_damage(demo, capsys):
    """The kept file list proves itself by its hash; rewriting it to match the damage fails."""
    folder = demo.stored_folder(NAME, VERSION)
    digest = folder.name
    flip_byte(model_file(folder))
    listing = demo.store / ".files" / f"{digest}.json"
    files = json.loads(listing.read_bytes())
    files[model_file(folder).relative_to(folder).as_posix()] = hashlib.sha256(
        model_file(folder).read_bytes()).hexdigest()
    writable(listing)
    listing.write_text(json.dumps(files, sort_keys=True, separators=(",", ":")))
    code, out, _ = demo.run(capsys, "registry", "fsck")
    assert code == 1 and REF in out and "no longer hash to its digest" in out


def test_a_damaged_version_is_refused_by_promote(demo, capsys):
    flip_byte(model_file(demo.stored_folder(NAME, VERSION)))
    assert demo.run(capsys, "registry", "fsck")[0] == 1
    before = demo.snapshot()

    code, out, err = demo.run(capsys, "promote", REF, "--to", "staging", user="chen")

    assert code == 1, out + err
    assert "marked damaged" in out and "registry repair" in out
    _no_repr(out + err)
    _unchanged_but_events(demo, before)
    assert [a for _, a, _ in demo.events_since(before)] == ["promote.refused"]


def test_promote_finds_damage_fsck_has_not_seen_yet(demo, capsys):
    flip_byte(model_file(demo.stored_folder(NAME, VERSION)))
    before = demo.snapshot()
    code, out, err = demo.run(capsys, "promote", REF, "--to", "staging", user="chen")
    assert code == 1 and "changed: model/" in out, out + err
    assert [a for _, a, _ in demo.events_since(before)] == ["store.damaged", "promote.refused"]
    assert demo.snapshot()["stages"] == before["stages"]


def test_a_damaged_version_is_refused_by_sign_and_report(demo, capsys, tmp_path, monkeypatch):
    from modelgate.core.demo.registry import DEMO_PASSPHRASE, KEYS_DIR, SIGNER

    flip_byte(model_file(demo.stored_folder(NAME, VERSION)))
    assert demo.run(capsys, "registry", "fsck")[0] == 1
    before = demo.snapshot()

    monkeypatch.setenv("MODELGATE_KEY_PASSPHRASE", DEMO_PASSPHRASE)
    private = demo.root / KEYS_DIR / f"{SIGNER}.key"
    code, out, err = demo.run(capsys, "sign", REF, "--key", str(private), user=SIGNER)
    assert code == 1 and "cannot sign" in err and "damaged" in err, out + err
    report = tmp_path / "report.html"
    code, out, err = demo.run(capsys, "report", REF, "--output", str(report))
    assert code == 1 and "damaged" in err and not report.exists(), out + err
    _no_repr(out + err)
    _unchanged_but_events(demo, before)
    assert demo.events_since(before) == []


def test_reimport_no_longer_repairs_silently(demo, capsys):
    target = model_file(demo.stored_folder(NAME, VERSION))
    flip_byte(target)
    damaged = target.read_bytes()
    before = demo.snapshot()

    code, out, err = demo.run(capsys, "registry", "import", str(demo.bundle(NAME, VERSION)), user="ana")

    assert code == 1, out + err
    assert "damaged" in err and f"modelgate registry repair {REF} BUNDLE" in err
    _no_repr(out + err)
    assert target.read_bytes() == damaged          # the store was not quietly put right
    assert [(a, s) for _, a, s in demo.events_since(before)] == [("store.damaged", REF)]
    assert len(demo.snapshot()["damage"]) == 1
    # Asked again, the mark answers at once.
    code, _, err = demo.run(capsys, "registry", "import", str(demo.bundle(NAME, VERSION)), user="ana")
    assert code == 1 and "registry repair" in err


def test_repair_from_other_bytes_is_refused_and_from_the_bundle_succeeds(demo, capsys, tmp_path):
    target = model_file(demo.stored_folder(NAME, VERSION))
    flip_byte(target)
    assert demo.run(capsys, "registry", "fsck")[0] == 1
    impostor = tmp_path / "impostor"
    shutil.copytree(demo.bundle(NAME, VERSION), impostor)
    flip_byte(model_file(impostor), offset=0)
    damaged = target.read_bytes()
    before = demo.snapshot()

    code, out, err = demo.run(capsys, "registry", "repair", REF, str(impostor))
    assert code == 1 and "does not hold the bytes" in err, out + err
    _no_repr(out + err)
    assert target.read_bytes() == damaged
    _unchanged_but_events(demo, before)
    assert [a for _, a, _ in demo.events_since(before)] == ["store.repair.refused"]

    code, out, err = demo.run(capsys, "registry", "repair", REF, str(demo.bundle(NAME, VERSION)), user="chen")
    assert code == 1 and "lacks the admin role" in err

    before = demo.snapshot()
    code, out, err = demo.run(capsys, "registry", "repair", REF, str(demo.bundle(NAME, VERSION)))
    assert code == 0 and "repaired" in out, out + err
    assert [a for _, a, _ in demo.events_since(before)] == ["store.repaired"]
    assert not demo.snapshot()["damage"]
    assert demo.run(capsys, "registry", "fsck")[0] == 0
    assert demo.run(capsys, "promote", REF, "--to", "staging", user="chen")[1].count("stored copy") == 0


def test_interrupted_imports_are_cleaned_when_the_registry_opens(demo, capsys):
    import os
    import time

    incoming = demo.store / ".incoming"
    incoming.mkdir(exist_ok=True)
    old = incoming / "import-1-stale"
    old.mkdir()
    (old / "bundle.yaml").write_text("half")
    hour_ago = time.time() - 3600
    os.utime(old, (hour_ago, hour_ago))
    live = incoming / f"import-{os.getpid()}-busy"
    live.mkdir()

    code, out, err = demo.run(capsys, "registry", "list")

    assert code == 0
    assert not old.exists() and live.exists()
    assert "interrupted import" in err and "import-1-stale" in err


def test_a_damaged_copy_is_not_compared(demo, capsys):
    flip_byte(model_file(demo.stored_folder(NAME, VERSION)))
    before = demo.snapshot()
    code, out, err = demo.run(capsys, "compare", f"{NAME}@1.1.0", REF, user="ben")
    assert code == 1 and f"cannot compare {REF}" in err and "changed: model/" in err, out + err
    _no_repr(out + err)
    assert demo.snapshot() == before        # comparing writes nothing, refused or not


def test_a_copy_put_right_by_hand_stays_marked_until_repaired(demo, capsys):
    target = model_file(demo.stored_folder(NAME, VERSION))
    original = target.read_bytes()
    flip_byte(target)
    assert demo.run(capsys, "registry", "fsck")[0] == 1
    target.write_bytes(original)                      # someone fixes the bytes outside ModelGate
    code, out, _ = demo.run(capsys, "registry", "fsck")
    assert code == 1 and REF in out and "registry repair" in out
    code, out, _ = demo.run(capsys, "promote", REF, "--to", "staging", user="chen")
    assert code == 1 and "marked damaged" in out
    code, out, err = demo.run(capsys, "registry", "repair", REF, str(demo.bundle(NAME, VERSION)))
    assert code == 0 and "repaired" in out, out + err
    assert demo.run(capsys, "registry", "fsck")[0] == 0
