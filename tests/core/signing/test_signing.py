"""Keys, signing and verification of bundle folders, on the command line and in the core."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from modelgate.core.signing import KeyFileError, SigningRefused
from modelgate.core.signing.keys import load_private_key
from modelgate.core.signing.verify import verify_bundle
from tests.factory import PASSPHRASE, make_bundle, sign, signing_key, trust_of
from tests.cli_support import run


@pytest.fixture(autouse=True)
def passphrase(monkeypatch):
    monkeypatch.setenv("MODELGATE_KEY_PASSPHRASE", PASSPHRASE.decode())


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keys")
    return {name: signing_key(folder / name, name) for name in ("officer", "other", "stranger")}


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return make_bundle(tmp_path_factory.mktemp("template") / "clean")


@pytest.fixture
def signed(tmp_path, template, keys):
    root = tmp_path / "bundle"
    shutil.copytree(template, root)
    sign(root, keys["officer"])
    return root


def verify(capsys, root, *trusted):
    argv = ["verify", str(root), "--json"]
    for key in trusted:
        argv += ["--trust", str(key.with_suffix(".pub"))]
    code, out, err = run(capsys, *argv)
    return code, (json.loads(out) if out.strip() else None), err


# ------------------------------------------------------------------------------ keys

def test_generate_writes_an_encrypted_private_key_readable_by_its_owner_only(tmp_path, capsys):
    code, out, _ = run(capsys, "keys", "generate", "--name", "ana", "--out", str(tmp_path / "k"),
                       "--curve", "p384")
    assert code == 0 and "SHA256:" in out
    private, public = tmp_path / "k" / "ana.key", tmp_path / "k" / "ana.pub"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert b"ENCRYPTED PRIVATE KEY" in private.read_bytes()
    assert b"PUBLIC KEY" in public.read_bytes() and b"PRIVATE" not in public.read_bytes()
    assert load_private_key(private, passphrase=PASSPHRASE).curve.name == "secp384r1"
    with pytest.raises(KeyFileError, match="wrong passphrase"):
        load_private_key(private, passphrase=b"not the passphrase")


def test_generate_never_overwrites_and_refuses_short_passphrases(tmp_path, capsys, monkeypatch):
    assert run(capsys, "keys", "generate", "--name", "ana", "--out", str(tmp_path))[0] == 0
    before = (tmp_path / "ana.key").read_bytes()
    code, _, err = run(capsys, "keys", "generate", "--name", "ana", "--out", str(tmp_path))
    assert code == 2 and "never overwritten" in err and (tmp_path / "ana.key").read_bytes() == before
    monkeypatch.setenv("MODELGATE_KEY_PASSPHRASE", "short")
    code, _, err = run(capsys, "keys", "generate", "--name", "bo", "--out", str(tmp_path))
    assert code == 2 and "shorter than 8" in err and not (tmp_path / "bo.key").exists()


def test_passphrase_file_is_read_and_nothing_is_asked_without_a_terminal(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("MODELGATE_KEY_PASSPHRASE")
    secret = tmp_path / "pass.txt"
    secret.write_text("a file-held passphrase\n")
    code, _, _ = run(capsys, "keys", "generate", "--name", "f", "--out", str(tmp_path), "--passphrase-file",
                     str(secret))
    assert code == 0
    load_private_key(tmp_path / "f.key", passphrase=b"a file-held passphrase")
    code, _, err = run(capsys, "keys", "generate", "--name", "g", "--out", str(tmp_path))
    assert code == 2 and "MODELGATE_KEY_PASSPHRASE" in err


# ------------------------------------------------------------------------------ sign + verify

def test_sign_then_verify(capsys, signed, keys):
    code, report, _ = verify(capsys, signed, keys["officer"])
    assert code == 0 and report["passed"]
    (entry,) = report["signatures"]
    assert (entry["file"], entry["status"], entry["signer"]) == ("signatures/officer.sig", "valid", "officer")
    assert len(entry["key_fingerprint"]) == 64


def test_sign_from_the_command_line_reports_what_it_covered(tmp_path, capsys, template, keys):
    root = tmp_path / "b"
    shutil.copytree(template, root)
    code, out, _ = run(capsys, "sign", str(root), "--key", str(keys["officer"]), "--signer", "release")
    assert code == 0 and "signatures/release.sig" in out and "bundle" in out
    assert (root / "signatures" / "release.sig").is_file()


def test_several_signatures_coexist(capsys, signed, keys):
    sign(signed, keys["other"])
    code, report, _ = verify(capsys, signed, keys["officer"], keys["other"])
    assert code == 0 and {s["signer"] for s in report["signatures"]} == {"officer", "other"}


def _every_file(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and "signatures" not in p.parts)


@pytest.mark.parametrize("index", range(6))
def test_one_flipped_byte_in_any_file_fails(capsys, signed, keys, index):
    files = _every_file(signed)
    target = signed / files[index % len(files)]
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    code, report, _ = verify(capsys, signed, keys["officer"])
    assert code == 1 and report["signatures"][0]["status"] == "invalid"
    assert "differ from what was signed" in report["signatures"][0]["reason"]
    assert files[index % len(files)] in report["signatures"][0]["reason"]


def test_an_added_file_fails(capsys, signed, keys):
    (signed / "notes.txt").write_text("added after signing")
    code, report, _ = verify(capsys, signed, keys["officer"])
    assert code == 1 and "notes.txt" in report["signatures"][0]["reason"]


def test_a_removed_file_fails(capsys, signed, keys):
    (signed / "LICENSE").unlink()
    code, report, _ = verify(capsys, signed, keys["officer"])
    assert code == 1 and "LICENSE" in report["signatures"][0]["reason"]


def test_another_bundles_signature_fails(tmp_path, capsys, signed, keys, template):
    other = tmp_path / "other"
    shutil.copytree(template, other)
    (other / "MODEL_CARD.md").write_text((other / "MODEL_CARD.md").read_text() + "\nA later note.\n")
    assert run(capsys, "lock", str(other))[0] == 0
    sign(other, keys["officer"])
    shutil.copy(other / "signatures" / "officer.sig", signed / "signatures" / "officer.sig")
    code, report, _ = verify(capsys, signed, keys["officer"])
    assert code == 1 and report["signatures"][0]["status"] == "invalid"


def test_a_tampered_signature_file_fails(capsys, signed, keys):
    path = signed / "signatures" / "officer.sig"
    document = json.loads(path.read_text())
    envelope = document["dsseEnvelope"]
    envelope["signatures"][0]["sig"] = envelope["signatures"][0]["sig"][:-8] + "AAAAAAA="
    path.write_text(json.dumps(document))
    code, report, _ = verify(capsys, signed, keys["officer"])
    assert code == 1 and report["signatures"][0]["status"] == "invalid"
    (signed / "signatures" / "officer.sig").write_text("not json")
    code, report, _ = verify(capsys, signed, keys["officer"])
    assert code == 1 and report["signatures"][0]["status"] == "unreadable"


def test_an_untrusted_key_fails_and_is_named(capsys, signed, keys):
    code, report, _ = verify(capsys, signed, keys["stranger"])
    (entry,) = report["signatures"]
    assert code == 1 and entry["status"] == "untrusted" and entry["signer"] is None
    assert "not in the trust store" in entry["reason"] and len(entry["key_fingerprint"]) == 64


def test_no_signature_fails(capsys, template, keys):
    code, report, _ = verify(capsys, template, keys["officer"])
    assert code == 1 and report["signatures"] == [] and not report["passed"]


def test_text_report_names_signer_fingerprint_and_verdict(capsys, signed, keys):
    code, out, _ = run(capsys, "verify", str(signed), "--trust", str(keys["officer"].parent))
    assert code == 0 and "VALID" in out and "signer officer" in out and "SHA256:" in out and "PASS" in out


def test_an_archive_can_be_verified(tmp_path, capsys, signed, keys):
    import tarfile

    archive = tmp_path / "signed.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(signed, arcname="bundle")
    assert verify(capsys, archive, keys["officer"])[0] == 0


# ------------------------------------------------------------------------------ refusals

def test_a_wrong_passphrase_is_exit_2_and_writes_nothing(capsys, tmp_path, template, keys, monkeypatch):
    root = tmp_path / "b"
    shutil.copytree(template, root)
    monkeypatch.setenv("MODELGATE_KEY_PASSPHRASE", "definitely wrong")
    code, out, err = run(capsys, "sign", str(root), "--key", str(keys["officer"]))
    assert code == 2 and "wrong passphrase" in err and not (root / "signatures").exists()
    assert "definitely wrong" not in out + err


@pytest.mark.parametrize("content", [b"", b"garbage", b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"])
def test_an_unreadable_key_is_exit_2(capsys, tmp_path, template, content):
    key = tmp_path / "bad.key"
    key.write_bytes(content)
    code, _, err = run(capsys, "sign", str(template), "--key", str(key))
    assert code == 2 and "bad.key" in err
    code, _, err = run(capsys, "sign", str(template), "--key", str(tmp_path / "missing.key"))
    assert code == 2 and "does not exist" in err


def test_an_unlocked_or_changed_bundle_is_refused(capsys, tmp_path, keys):
    unlocked = make_bundle(tmp_path / "unlocked", lock=False)
    code, _, err = run(capsys, "sign", str(unlocked), "--key", str(keys["officer"]))
    assert code == 1 and "not locked" in err and not (unlocked / "signatures").exists()
    changed = make_bundle(tmp_path / "changed")
    (changed / "LICENSE").write_text("changed after locking")
    code, _, err = run(capsys, "sign", str(changed), "--key", str(keys["officer"]))
    assert code == 1 and "no longer matches its lock" in err and "LICENSE" in err
    with pytest.raises(SigningRefused):
        sign(changed, keys["officer"])


def test_the_private_key_and_passphrase_never_reach_any_output(capsys, tmp_path, template, keys, monkeypatch):
    secret_body = b"".join(keys["officer"].read_bytes().splitlines()[1:-1]).decode()
    outputs = []
    root = tmp_path / "b"
    shutil.copytree(template, root)
    outputs.append(run(capsys, "sign", str(root), "--key", str(keys["officer"])))
    outputs.append(run(capsys, "verify", str(root), "--trust", str(keys["officer"])))  # a private key as trust
    monkeypatch.setenv("MODELGATE_KEY_PASSPHRASE", "wrong passphrase!")
    outputs.append(run(capsys, "sign", str(root), "--key", str(keys["officer"])))
    text = "".join(out + err for _, out, err in outputs) + (root / "signatures" / "officer.sig").read_text()
    assert secret_body[:40] not in text and PASSPHRASE.decode() not in text and "wrong passphrase!" not in text
    assert outputs[1][0] == 2 and "holds a private key" in outputs[1][2]


# ------------------------------------------------------------------------------ interoperability

def _model_signing() -> str:
    command = Path(sys.executable).parent / "model_signing"
    assert command.exists(), "model-signing's command is installed with ModelGate"
    return str(command)


@pytest.mark.slow
def test_the_stock_model_signing_command_accepts_our_signature(signed, keys):
    argv = [_model_signing(), "verify", "key", str(signed), "--signature", str(signed / "signatures/officer.sig"),
            "--public_key", str(keys["officer"].with_suffix(".pub"))]
    told = argv + ["--ignore-paths", str(signed / "signatures")]  # resolved against the working folder
    for command in (told, argv):  # our signature records that signatures/ is left out
        done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Verification succeeded" in done.stdout
    (signed / "LICENSE").write_text("tampered")
    done = subprocess.run(told, capture_output=True, text=True)
    assert done.returncode != 0 and "LICENSE" in done.stdout + done.stderr


def test_we_accept_a_signature_made_by_the_model_signing_library(tmp_path, template, keys):
    import model_signing

    root = tmp_path / "b"
    shutil.copytree(template, root)
    (root / "signatures").mkdir()
    hashing = model_signing.hashing.Config().set_ignored_paths(paths=["signatures"], ignore_git_paths=False)
    model_signing.signing.Config().use_elliptic_key_signer(
        private_key=keys["officer"], password=PASSPHRASE).set_hashing_config(hashing).sign(
        root, root / "signatures" / "stock.sig")
    report = verify_bundle(path=root, trust=trust_of(keys["officer"]))
    assert report.passed and report.checks[0].signer == "officer"


def test_missing_inputs_are_named_before_any_passphrase_or_registry(tmp_path, capsys, keys, monkeypatch):
    monkeypatch.delenv("MODELGATE_KEY_PASSPHRASE")
    code, _, err = run(capsys, "sign", str(tmp_path / "none"), "--key", str(keys["officer"]))
    assert code == 2 and "bundle" in err and "does not exist" in err
    code, _, err = run(capsys, "verify", str(tmp_path / "none"), "--registry", f"sqlite:///{tmp_path}/no.db")
    assert code == 2 and "bundle" in err and "registry" not in err
